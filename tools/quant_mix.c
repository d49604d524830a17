// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * llama.cpp's quantization mixtures, as llama-quantize applied them in early
 * 2025 (src/llama-quant.cpp): which tensors are quantized at all, the type
 * each gets for a file type (llama_tensor_get_type), and the fallback for
 * rows that are not a multiple of the chosen type's block. Only the rules
 * for the types llamux can produce are kept; the IQ-type branches are not.
 *
 * Departures, both forced by llamux having no importance matrix and no
 * IQ4_NL: Q2_K/Q3_K rows that are not a multiple of 256 fall back to Q4_0
 * (as current llama.cpp does; early-2025 llama.cpp used IQ4_NL), and Q2_K_S
 * is produced without the importance matrix llama-quantize insists on.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant_mix.h"

static const struct lt_ftype_info ftypes[] = {
	{ "F32", LT_FTYPE_ALL_F32, LX_TYPE_F32, "32-bit float" },
	{ "F16", LT_FTYPE_F16, LX_TYPE_F16, "16-bit float" },
	{ "BF16", LT_FTYPE_BF16, LX_TYPE_BF16, "bfloat16" },
	{ "Q8_0", LT_FTYPE_Q8_0, LX_TYPE_Q8_0, "8.5 bits per weight" },
	{ "Q4_0", LT_FTYPE_Q4_0, LX_TYPE_Q4_0, "4.5 bpw" },
	{ "Q4_1", LT_FTYPE_Q4_1, LX_TYPE_Q4_1, "5.0 bpw" },
	{ "Q5_0", LT_FTYPE_Q5_0, LX_TYPE_Q5_0, "5.5 bpw" },
	{ "Q5_1", LT_FTYPE_Q5_1, LX_TYPE_Q5_1, "6.0 bpw" },
	{ "Q2_K", LT_FTYPE_Q2_K, LX_TYPE_Q2_K,
	  "Q2_K, attn_v/ffn_down/attn_output Q3_K or Q4_K" },
	{ "Q2_K_S", LT_FTYPE_Q2_K_S, LX_TYPE_Q2_K,
	  "Q2_K, smaller (llama.cpp wants an imatrix)" },
	{ "Q3_K_S", LT_FTYPE_Q3_K_S, LX_TYPE_Q3_K, "Q3_K" },
	{ "Q3_K_M", LT_FTYPE_Q3_K_M, LX_TYPE_Q3_K,
	  "Q3_K, some Q4_K/Q5_K (alias Q3_K)" },
	{ "Q3_K_L", LT_FTYPE_Q3_K_L, LX_TYPE_Q3_K,
	  "Q3_K, attn_v/ffn_down/attn_output Q5_K" },
	{ "Q4_K_S", LT_FTYPE_Q4_K_S, LX_TYPE_Q4_K, "Q4_K, a few Q5_K" },
	{ "Q4_K_M", LT_FTYPE_Q4_K_M, LX_TYPE_Q4_K,
	  "Q4_K, half of attn_v/ffn_down Q6_K (alias Q4_K)" },
	{ "Q5_K_S", LT_FTYPE_Q5_K_S, LX_TYPE_Q5_K, "Q5_K" },
	{ "Q5_K_M", LT_FTYPE_Q5_K_M, LX_TYPE_Q5_K,
	  "Q5_K, half of attn_v/ffn_down Q6_K (alias Q5_K)" },
	{ "Q6_K", LT_FTYPE_Q6_K, LX_TYPE_Q6_K, "6.6 bpw" },
};

static const struct {
	const char *alias, *name;
} aliases[] = {
	{ "Q3_K", "Q3_K_M" }, { "Q4_K", "Q4_K_M" }, { "Q5_K", "Q5_K_M" },
};

/* Names llama-quantize knows whose types llamux cannot compute. */
static const char *const elsewhere[] = {
	"IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ2_M", "IQ1_S", "IQ1_M", "TQ1_0",
	"TQ2_0", "IQ3_XXS", "IQ3_S", "IQ3_M", "IQ3_XS", "IQ4_NL", "IQ4_XS",
	"Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8", "MXFP4_MOE", "COPY",
};

const struct lt_ftype_info *lt_ftype_at(unsigned int i)
{
	return i < LX_ARRAY_SIZE(ftypes) ? &ftypes[i] : NULL;
}

const struct lt_ftype_info *lt_ftype_by_id(uint32_t ftype)
{
	size_t i;

	for (i = 0; i < LX_ARRAY_SIZE(ftypes); i++)
		if ((uint32_t)ftypes[i].ftype == ftype)
			return &ftypes[i];
	return NULL;
}

const struct lt_ftype_info *lt_ftype_find(const char *name,
					  bool *known_elsewhere)
{
	char up[16];
	size_t i, n = strlen(name);
	char *end;
	unsigned long id;

	if (known_elsewhere)
		*known_elsewhere = false;
	if (n == 0 || n >= sizeof(up))
		return NULL;
	if (isdigit((unsigned char)name[0])) {
		id = strtoul(name, &end, 10);
		return *end || id > 0xffffffffu ? NULL :
		       lt_ftype_by_id((uint32_t)id);
	}
	for (i = 0; i <= n; i++)
		up[i] = (char)toupper((unsigned char)name[i]);
	for (i = 0; i < LX_ARRAY_SIZE(aliases); i++)
		if (!strcmp(up, aliases[i].alias))
			return lt_ftype_find(aliases[i].name, NULL);
	for (i = 0; i < LX_ARRAY_SIZE(ftypes); i++)
		if (!strcmp(up, ftypes[i].name))
			return &ftypes[i];
	for (i = 0; i < LX_ARRAY_SIZE(elsewhere); i++)
		if (!strcmp(up, elsewhere[i]) && known_elsewhere)
			*known_elsewhere = true;
	return NULL;
}

const char *lt_ftype_names(void)
{
	return "F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q2_K_S, "
	       "Q3_K_S, Q3_K_M (Q3_K), Q3_K_L, Q4_K_S, Q4_K_M (Q4_K), Q5_K_S, "
	       "Q5_K_M (Q5_K), Q6_K";
}

/* ---------------------------------------------------------------------- */
/* Order and selection                                                    */
/* ---------------------------------------------------------------------- */

/* sscanf(name, "blk.%d.", &layer): the block number, or -1. */
static int block_of(const char *name)
{
	long v;
	char *end;

	if (strncmp(name, "blk.", 4))
		return -1;
	v = strtol(name + 4, &end, 10);
	if (end == name + 4 || v < -2147483647L || v > 2147483647L)
		return -1;
	return (int)v;
}

int lt_mix_cmp_names(const char *a, const char *b)
{
	int la = block_of(a), lb = block_of(b);

	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

static bool contains(const char *s, const char *sub)
{
	return strstr(s, sub) != NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

/* ggml_n_dims: dimensions up to the last one larger than 1. */
static uint32_t n_dims_used(const struct lt_mix_tensor *t)
{
	uint32_t n = 4;

	while (n > 1 && t->ne[n - 1] == 1)
		n--;
	return n;
}

/* The tensors llama-quantize quantizes at all. */
static bool quantizable(const struct lt_mix_tensor *t)
{
	static const char *const keep[] = {
		"_norm.weight", "ffn_gate_inp.weight", "ssm_conv1d.weight",
		"time_mix_first.weight", "time_mix_w1.weight",
		"time_mix_w2.weight", "time_mix_decay_w1.weight",
		"time_mix_decay_w2.weight", "time_mix_lerp_fused.weight",
		"attn_rel_b.weight",
	};
	size_t i;

	if (!ends_with(t->name, "weight") || n_dims_used(t) < 2)
		return false;
	for (i = 0; i < LX_ARRAY_SIZE(keep); i++)
		if (contains(t->name, keep[i]))
			return false;
	return strcmp(t->name, "position_embd.weight") &&
	       strcmp(t->name, "token_types.weight");
}

struct state {
	const struct lt_mix_model *m;
	enum lt_ftype ftype;
	bool has_output;
	int n_attention_wv, i_attention_wv;
	int n_ffn_down, i_ffn_down;
};

static bool use_more_bits(int i_layer, int n_layers)
{
	return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 ||
	       (i_layer - n_layers / 8) % 3 == 2;
}

static uint32_t n_gqa(const struct lt_mix_model *m)
{
	return m->n_head && m->n_head_kv ? m->n_head / m->n_head_kv : 0;
}

static bool is_70b(const struct lt_mix_model *m)
{
	return !strcmp(m->arch, "llama") && m->n_layer == 80 &&
	       m->n_head != m->n_head_kv;
}

/* llama_tensor_get_type without the IQ branches and before the fallback. */
static enum lx_type pick(struct state *s, enum lx_type new_type,
			 const struct lt_mix_tensor *t)
{
	const struct lt_mix_model *m = s->m;
	const enum lt_ftype ft = s->ftype;
	const bool falcon = !strcmp(m->arch, "falcon");
	const char *name = t->name;
	int i_layer, n_layer;

	if (!strcmp(name, "output.weight") ||
	    (!s->has_output && !strcmp(name, "token_embd.weight"))) {
		const struct lx_type_traits *tt = lx_type_traits(new_type);

		if (falcon || t->ne[0] % tt->block_size)
			new_type = LX_TYPE_Q8_0;
		else if (new_type != LX_TYPE_Q8_0)
			new_type = LX_TYPE_Q6_K;
	} else if (!strcmp(name, "token_embd.weight")) {
		/* only IQ and TQ file types change it */
	} else if (contains(name, "attn_v.weight")) {
		if (ft == LT_FTYPE_Q2_K)
			new_type = n_gqa(m) >= 4 ? LX_TYPE_Q4_K : LX_TYPE_Q3_K;
		else if (ft == LT_FTYPE_Q2_K_S && n_gqa(m) >= 4)
			new_type = LX_TYPE_Q4_K;
		else if (ft == LT_FTYPE_Q3_K_M)
			new_type = s->i_attention_wv < 2 ? LX_TYPE_Q5_K :
							   LX_TYPE_Q4_K;
		else if (ft == LT_FTYPE_Q3_K_L)
			new_type = LX_TYPE_Q5_K;
		else if ((ft == LT_FTYPE_Q4_K_M || ft == LT_FTYPE_Q5_K_M) &&
			 use_more_bits(s->i_attention_wv, s->n_attention_wv))
			new_type = LX_TYPE_Q6_K;
		else if (ft == LT_FTYPE_Q4_K_S && s->i_attention_wv < 4)
			new_type = LX_TYPE_Q5_K;
		if (is_70b(m) && (new_type == LX_TYPE_Q3_K ||
				  new_type == LX_TYPE_Q4_K))
			new_type = LX_TYPE_Q5_K;
		if (m->n_expert == 8)
			new_type = LX_TYPE_Q8_0;
		s->i_attention_wv++;
	} else if (contains(name, "attn_k.weight")) {
		if (m->n_expert == 8)
			new_type = LX_TYPE_Q8_0;
	} else if (contains(name, "attn_q.weight")) {
		/* only IQ3_XS and IQ2_M change it */
	} else if (contains(name, "ffn_down")) {
		i_layer = s->i_ffn_down;
		n_layer = s->n_ffn_down;
		if (m->n_expert > 1) {
			/* experts are not consecutive: read the block number */
			int b = block_of(name);

			if (b >= 0 && b < n_layer)
				i_layer = b;
		}
		if (ft == LT_FTYPE_Q2_K) {
			new_type = LX_TYPE_Q3_K;
		} else if (ft == LT_FTYPE_Q2_K_S) {
			if (i_layer < n_layer / 8)
				new_type = LX_TYPE_Q4_K;
		} else if (ft == LT_FTYPE_Q3_K_M) {
			new_type = i_layer < n_layer / 16 ? LX_TYPE_Q5_K :
				   !falcon || use_more_bits(i_layer, n_layer) ?
				   LX_TYPE_Q4_K : LX_TYPE_Q3_K;
		} else if (ft == LT_FTYPE_Q3_K_L) {
			new_type = falcon ? LX_TYPE_Q4_K : LX_TYPE_Q5_K;
		} else if (ft == LT_FTYPE_Q4_K_M) {
			if (falcon)
				new_type = i_layer < n_layer / 16 ? LX_TYPE_Q6_K :
					   use_more_bits(i_layer, n_layer) ?
					   LX_TYPE_Q5_K : LX_TYPE_Q4_K;
			else if (use_more_bits(i_layer, n_layer))
				new_type = LX_TYPE_Q6_K;
		} else if (ft == LT_FTYPE_Q5_K_M &&
			   use_more_bits(i_layer, n_layer)) {
			new_type = LX_TYPE_Q6_K;
		} else if (ft == LT_FTYPE_Q4_K_S && !falcon &&
			   i_layer < n_layer / 8) {
			new_type = LX_TYPE_Q5_K;
		}
		s->i_ffn_down++;
	} else if (contains(name, "attn_output.weight")) {
		if (!falcon) {
			if (m->n_expert == 8) {
				if (ft == LT_FTYPE_Q2_K || ft == LT_FTYPE_Q3_K_S ||
				    ft == LT_FTYPE_Q3_K_M || ft == LT_FTYPE_Q4_K_S ||
				    ft == LT_FTYPE_Q4_K_M)
					new_type = LX_TYPE_Q5_K;
			} else {
				if (ft == LT_FTYPE_Q2_K)
					new_type = LX_TYPE_Q3_K;
				else if (ft == LT_FTYPE_Q3_K_M)
					new_type = LX_TYPE_Q4_K;
				else if (ft == LT_FTYPE_Q3_K_L)
					new_type = LX_TYPE_Q5_K;
			}
		} else if (ft == LT_FTYPE_Q3_K_L) {
			new_type = LX_TYPE_Q4_K;
		}
	} else if (contains(name, "attn_qkv.weight")) {
		if (ft == LT_FTYPE_Q3_K_M || ft == LT_FTYPE_Q3_K_L)
			new_type = LX_TYPE_Q4_K;
		else if (ft == LT_FTYPE_Q4_K_M)
			new_type = LX_TYPE_Q5_K;
		else if (ft == LT_FTYPE_Q5_K_M)
			new_type = LX_TYPE_Q6_K;
	}
	return new_type;
}

/*
 * Rows that do not split into the type's blocks: the next type with a
 * 32-element block, or F16 when even that does not fit. (llama.cpp of
 * early 2025 gave Q2_K/Q3_K IQ4_NL, which llamux cannot compute; Q4_0 is
 * what it uses now.)
 */
static enum lx_type fallback(enum lx_type type, uint64_t ne0, bool *fell)
{
	enum lx_type r;

	*fell = false;
	if (ne0 % lx_type_traits(type)->block_size == 0)
		return type;
	*fell = true;
	switch (type) {
	case LX_TYPE_Q2_K:
	case LX_TYPE_Q3_K:
		r = LX_TYPE_Q4_0;
		break;
	case LX_TYPE_Q4_K:
		r = LX_TYPE_Q5_0;
		break;
	case LX_TYPE_Q5_K:
		r = LX_TYPE_Q5_1;
		break;
	case LX_TYPE_Q6_K:
		r = LX_TYPE_Q8_0;
		break;
	default:
		r = LX_TYPE_F16;
		break;
	}
	if (ne0 % lx_type_traits(r)->block_size)
		r = LX_TYPE_F16;
	return r;
}

static int cmp_order(const void *a, const void *b, void *arg)
{
	const struct lt_mix_tensor *t = arg;

	return lt_mix_cmp_names(t[*(const uint32_t *)a].name,
				t[*(const uint32_t *)b].name);
}

int lt_mix_plan(const struct lt_mix_model *m, const struct lt_ftype_info *ft,
		bool pure, struct lt_mix_tensor *t, uint32_t n,
		uint32_t *order)
{
	struct state s = { .m = m, .ftype = ft->ftype };
	const struct lx_type_traits *base = lx_type_traits(ft->base);
	bool quantized_base = base->block_size > 1;
	int n_fallback = 0;
	uint32_t i, k;

	for (i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), cmp_order, t);

	for (i = 0; i < n; i++) {
		if (contains(t[i].name, "attn_v.weight") ||
		    contains(t[i].name, "attn_qkv.weight") ||
		    contains(t[i].name, "attn_kv_b.weight"))
			s.n_attention_wv++;
		else if (!strcmp(t[i].name, "output.weight"))
			s.has_output = true;
	}
	s.n_ffn_down = (int)m->n_layer;

	for (k = 0; k < n; k++) {
		struct lt_mix_tensor *x = &t[order[k]];
		enum lx_type type = ft->base;

		x->quantized = quantizable(x);
		x->fell_back = false;
		if (!x->quantized) {
			x->new_type = x->type;
			continue;
		}
		if (quantized_base) {
			if (!pure)
				type = pick(&s, type, x);
			type = fallback(type, x->ne[0], &x->fell_back);
			n_fallback += x->fell_back;
		}
		x->new_type = type;
	}
	return n_fallback;
}
