// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A generated corpus of broken GGUF files. A small writer builds valid files
 * (metadata of every value type with nested arrays and tensors of several
 * types; a tiny llama model with a SentencePiece vocabulary; a vocab-only
 * file) and records the byte offset of every count, length, type, dimension
 * and offset it writes. The tests truncate those files at every length,
 * overwrite every recorded field with hostile values and flip every byte, and
 * require that lx_gguf_parse and llamux_model_load_memory either reject the
 * file with a message or accept it with every tensor inside the buffer. Named
 * cases check that each kind of damage gets its own helpful message.
 *
 *   test_gguf_malformed [-v]              run (-v: print named rejections)
 *   test_gguf_malformed --write-seeds DIR  write the valid files (fuzz seeds)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gguf.h"
#include "platform.h"
#include "quant.h"
#include "llamux/llamux.h"
#include "testlib.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

static bool verbose;

/* ---------------------------------------------------------------------- */
/* Checks that report only the first few failures of a long loop         */
/* ---------------------------------------------------------------------- */

static char cur_variant[160];	/* what the loops are currently testing */
static int n_reported;

#define VCHECK(cond, ...)                                                     \
	do {                                                                  \
		if (cond) {                                                   \
			tl_checks++;                                          \
		} else if (++n_reported <= 40) {                              \
			CHECK(cond, __VA_ARGS__);                             \
			fprintf(stderr, "  in variant: %s\n", cur_variant);   \
		} else {                                                      \
			tl_checks++;                                          \
			tl_failures++;                                        \
		}                                                             \
	} while (0)

static struct {
	unsigned long variants;		/* corrupted files generated */
	unsigned long rejected;		/* ... that lx_gguf_parse refused */
	unsigned long accepted;		/* ... that it accepted (checked in bounds) */
	unsigned long loads;		/* llamux_model_load_memory calls */
	unsigned long load_rejected;
	unsigned long loaded;
	unsigned long named;		/* named rejections checked */
} st;

/* ---------------------------------------------------------------------- */
/* GGUF writer that records where every structural field lives            */
/* ---------------------------------------------------------------------- */

enum fkind { FK_VERSION, FK_COUNT, FK_LEN, FK_TYPE, FK_NDIMS, FK_DIM, FK_OFFSET };

struct field {
	size_t off;		/* byte offset in the file */
	unsigned int width;	/* 4 or 8 */
	enum fkind kind;
	char label[96];		/* e.g. "tensor w.q4_0.dim1" */
};

#define GW_MAX_FIELDS 1024
#define GW_MAX_TENSORS 32

struct gw_tensor {
	const char *name;
	size_t name_len;
	uint32_t type, n_dims;
	uint64_t ne[4];
	uint64_t offset, size;
};

struct gw {
	uint8_t *p;
	size_t n, cap;
	struct field f[GW_MAX_FIELDS];
	int nf;
	char ctx[80];		/* label prefix: the key or tensor being written */
	size_t off_n_tensors, off_n_kv;
	uint64_t n_kv;
	uint32_t align;
	struct gw_tensor t[GW_MAX_TENSORS];
	int nt;
	uint64_t data_end;	/* end of the tensors, relative to the data */
	size_t data_offset;	/* absolute, set by gw_finish */
};

static const unsigned int vsize[LX_GGUF_VTYPE_COUNT] = {
	1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8
};

static struct gw *gw_new(void)
{
	struct gw *w = calloc(1, sizeof(*w));

	if (!w)
		abort();
	return w;
}

static void gw_free(struct gw *w)
{
	free(w->p);
	free(w);
}

static void gw_put(struct gw *w, const void *src, size_t n)
{
	if (w->n + n > w->cap) {
		w->cap = (w->n + n) * 2 + 256;
		w->p = realloc(w->p, w->cap);
		if (!w->p)
			abort();
	}
	memcpy(w->p + w->n, src, n);
	w->n += n;
}

static void put_le(uint8_t *p, uint64_t v, unsigned int width)
{
	unsigned int i;

	for (i = 0; i < width; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned int width)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < width; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void gw_le(struct gw *w, uint64_t v, unsigned int width)
{
	uint8_t b[8];

	put_le(b, v, width);
	gw_put(w, b, width);
}

static void gw_field(struct gw *w, uint64_t v, unsigned int width,
		     enum fkind kind, const char *what)
{
	struct field *f;

	if (w->nf == GW_MAX_FIELDS) {
		fprintf(stderr, "test bug: too many fields\n");
		exit(2);
	}
	f = &w->f[w->nf++];
	f->off = w->n;
	f->width = width;
	f->kind = kind;
	snprintf(f->label, sizeof(f->label), "%s%s%s", w->ctx,
		 w->ctx[0] ? "." : "", what);
	gw_le(w, v, width);
}

static void gw_str(struct gw *w, const char *s, size_t len, const char *what)
{
	gw_field(w, len, 8, FK_LEN, what);
	gw_put(w, s, len);
}

static void gw_begin(struct gw *w, uint32_t version)
{
	w->align = LX_GGUF_DEFAULT_ALIGNMENT;
	gw_put(w, "GGUF", 4);
	gw_field(w, version, 4, FK_VERSION, "version");
	w->off_n_tensors = w->n;
	gw_field(w, 0, 8, FK_COUNT, "n_tensors");
	w->off_n_kv = w->n;
	gw_field(w, 0, 8, FK_COUNT, "n_kv");
}

/* A key (any bytes) and its value type. */
static void gw_key_n(struct gw *w, const char *key, size_t len, uint32_t type)
{
	w->n_kv++;
	snprintf(w->ctx, sizeof(w->ctx), "kv %.*s", (int)len, key);
	gw_str(w, key, len, "key_len");
	gw_field(w, type, 4, FK_TYPE, "type");
}

static void gw_key(struct gw *w, const char *key, uint32_t type)
{
	gw_key_n(w, key, strlen(key), type);
}

/* A numeric value given as its bits. */
static void gw_scalar(struct gw *w, uint32_t type, uint64_t bits)
{
	gw_le(w, bits, vsize[type]);
}

static void gw_kv_scalar(struct gw *w, const char *key, uint32_t type,
			 uint64_t bits)
{
	gw_key(w, key, type);
	gw_scalar(w, type, bits);
}

static void gw_kv_u32(struct gw *w, const char *key, uint32_t v)
{
	gw_kv_scalar(w, key, LX_GGUF_U32, v);
}

static void gw_kv_str(struct gw *w, const char *key, const char *s)
{
	gw_key(w, key, LX_GGUF_STRING);
	gw_str(w, s, strlen(s), "len");
}

/* Array header; prefix names nested arrays ("elem1."). */
static void gw_arr(struct gw *w, uint32_t etype, uint64_t count,
		   const char *prefix)
{
	char what[48];

	snprintf(what, sizeof(what), "%setype", prefix);
	gw_field(w, etype, 4, FK_TYPE, what);
	snprintf(what, sizeof(what), "%scount", prefix);
	gw_field(w, count, 8, FK_COUNT, what);
}

static void gw_kv_arr(struct gw *w, const char *key, uint32_t etype,
		      uint64_t count)
{
	gw_key(w, key, LX_GGUF_ARRAY);
	gw_arr(w, etype, count, "");
}

static void gw_kv_align(struct gw *w, uint32_t align)
{
	gw_kv_u32(w, "general.alignment", align);
	if (align && !(align & (align - 1)))
		w->align = align;
}

static uint64_t tensor_bytes(uint32_t type, uint32_t n_dims, const uint64_t *ne)
{
	const struct lx_type_traits *tt = lx_type_traits(type);
	uint64_t rows = 1;
	uint32_t d;

	for (d = 1; d < n_dims; d++)
		rows *= ne[d];
	return ne[0] / tt->block_size * tt->type_size * rows;
}

/* A tensor info; its data goes at the next aligned offset. */
static void gw_tensor_n(struct gw *w, const char *name, size_t name_len,
			uint32_t type, uint32_t n_dims, uint64_t ne0,
			uint64_t ne1, uint64_t ne2, uint64_t ne3)
{
	struct gw_tensor *t;
	uint32_t d;

	if (w->nt == GW_MAX_TENSORS) {
		fprintf(stderr, "test bug: too many tensors\n");
		exit(2);
	}
	t = &w->t[w->nt++];
	t->name = name;
	t->name_len = name_len;
	t->type = type;
	t->n_dims = n_dims;
	t->ne[0] = ne0;
	t->ne[1] = ne1;
	t->ne[2] = ne2;
	t->ne[3] = ne3;
	t->size = tensor_bytes(type, n_dims, t->ne);
	t->offset = (w->data_end + w->align - 1) / w->align * w->align;
	w->data_end = t->offset + t->size;

	snprintf(w->ctx, sizeof(w->ctx), "tensor %.*s", (int)name_len, name);
	gw_str(w, name, name_len, "name_len");
	gw_field(w, n_dims, 4, FK_NDIMS, "n_dims");
	for (d = 0; d < n_dims; d++) {
		char what[16];

		snprintf(what, sizeof(what), "dim%u", d);
		gw_field(w, t->ne[d], 8, FK_DIM, what);
	}
	gw_field(w, type, 4, FK_TYPE, "type");
	gw_field(w, t->offset, 8, FK_OFFSET, "offset");
}

static void gw_tensor(struct gw *w, const char *name, uint32_t type,
		      uint32_t n_dims, uint64_t ne0, uint64_t ne1, uint64_t ne2,
		      uint64_t ne3)
{
	gw_tensor_n(w, name, strlen(name), type, n_dims, ne0, ne1, ne2, ne3);
}

/* Plausible bytes: F32 ones, F16 ones, small finite scales elsewhere. */
static void fill_tensor(struct gw *w, const struct gw_tensor *t)
{
	uint64_t i;

	for (i = 0; i < t->size;) {
		if (t->type == LX_TYPE_F32) {
			gw_le(w, 0x3F800000u, 4);
			i += 4;
		} else if (t->type == LX_TYPE_F16) {
			gw_le(w, 0x3C00u, 2);
			i += 2;
		} else {
			gw_le(w, 0x11, 1);
			i++;
		}
	}
}

/*
 * Patches the counts, pads to the alignment and appends the data. The file
 * ends exactly at the end of the last tensor, so every truncation is invalid.
 */
static void gw_finish(struct gw *w)
{
	int i;

	put_le(w->p + w->off_n_tensors, (uint64_t)w->nt, 8);
	put_le(w->p + w->off_n_kv, w->n_kv, 8);
	w->ctx[0] = '\0';
	if (!w->nt) {
		w->data_offset = w->n;
		return;
	}
	while (w->n % w->align)
		gw_le(w, 0, 1);
	w->data_offset = w->n;
	for (i = 0; i < w->nt; i++) {
		while (w->n < w->data_offset + w->t[i].offset)
			gw_le(w, 0, 1);
		fill_tensor(w, &w->t[i]);
	}
}

static const struct field *gw_find(const struct gw *w, const char *label)
{
	int i;

	for (i = 0; i < w->nf; i++)
		if (strcmp(w->f[i].label, label) == 0)
			return &w->f[i];
	fprintf(stderr, "test bug: no field '%s'\n", label);
	exit(2);
}

static uint64_t f32bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

static uint64_t f64bits(double d)
{
	uint64_t u;

	memcpy(&u, &d, 8);
	return u;
}

/* ---------------------------------------------------------------------- */
/* The valid files                                                        */
/* ---------------------------------------------------------------------- */

static const uint32_t scalar_types[] = {
	LX_GGUF_U8, LX_GGUF_I8, LX_GGUF_U16, LX_GGUF_I16, LX_GGUF_U32,
	LX_GGUF_I32, LX_GGUF_F32, LX_GGUF_BOOL, LX_GGUF_U64, LX_GGUF_I64,
	LX_GGUF_F64,
};

/* Element i of the test arrays: 1, 2, 3 (negated for signed types). */
static uint64_t arr_elem_bits(uint32_t type, int i)
{
	switch (type) {
	case LX_GGUF_I8: case LX_GGUF_I16: case LX_GGUF_I32: case LX_GGUF_I64:
		return (uint64_t)(int64_t)-(i + 1);
	case LX_GGUF_F32:
		return f32bits((float)i + 0.5f);
	case LX_GGUF_F64:
		return f64bits((double)i + 0.25);
	case LX_GGUF_BOOL:
		return (uint64_t)(i & 1);
	default:
		return (uint64_t)(i + 1);
	}
}

/*
 * Metadata of every value type, arrays of every element type, an array of
 * strings, arrays of arrays, general.alignment = 64 and six tensors of five
 * types with 1 to 4 dimensions.
 */
static void build_rich(struct gw *w)
{
	size_t i;

	gw_begin(w, 3);
	gw_kv_str(w, "general.architecture", "llama");
	gw_kv_align(w, 64);
	gw_kv_str(w, "general.name", "malformed corpus");
	gw_kv_scalar(w, "test.u8", LX_GGUF_U8, 200);
	gw_kv_scalar(w, "test.i8", LX_GGUF_I8, (uint8_t)-5);
	gw_kv_scalar(w, "test.u16", LX_GGUF_U16, 60000);
	gw_kv_scalar(w, "test.i16", LX_GGUF_I16, (uint16_t)-30000);
	gw_kv_scalar(w, "test.u32", LX_GGUF_U32, 4000000000u);
	gw_kv_scalar(w, "test.i32", LX_GGUF_I32, (uint32_t)-2000000000);
	gw_kv_scalar(w, "test.f32", LX_GGUF_F32, f32bits(1.5f));
	gw_kv_scalar(w, "test.bool", LX_GGUF_BOOL, 1);
	gw_kv_scalar(w, "test.u64", LX_GGUF_U64, (1ull << 40) + 3);
	gw_kv_scalar(w, "test.i64", LX_GGUF_I64, (uint64_t)-(1ll << 40));
	gw_kv_scalar(w, "test.f64", LX_GGUF_F64, f64bits(2.25));
	gw_kv_str(w, "test.string", "h\xc3\xa9llo");
	for (i = 0; i < LX_ARRAY_SIZE(scalar_types); i++) {
		uint32_t t = scalar_types[i];
		char key[32];
		int k;

		snprintf(key, sizeof(key), "test.arr.%s", lx_gguf_vtype_name(t));
		gw_kv_arr(w, key, t, 3);
		for (k = 0; k < 3; k++)
			gw_scalar(w, t, arr_elem_bits(t, k));
	}
	gw_kv_arr(w, "test.strings", LX_GGUF_STRING, 4);
	gw_str(w, "a", 1, "s0.len");
	gw_str(w, "bc", 2, "s1.len");
	gw_str(w, "", 0, "s2.len");
	gw_str(w, "\xe2\x96\x81x", 4, "s3.len");
	/* [[1, 2], [3], []] */
	gw_kv_arr(w, "test.nested", LX_GGUF_ARRAY, 3);
	gw_arr(w, LX_GGUF_U32, 2, "elem0.");
	gw_scalar(w, LX_GGUF_U32, 1);
	gw_scalar(w, LX_GGUF_U32, 2);
	gw_arr(w, LX_GGUF_U32, 1, "elem1.");
	gw_scalar(w, LX_GGUF_U32, 3);
	gw_arr(w, LX_GGUF_U32, 0, "elem2.");
	/* [["x", "yz"], []] */
	gw_kv_arr(w, "test.nested_str", LX_GGUF_ARRAY, 2);
	gw_arr(w, LX_GGUF_STRING, 2, "elem0.");
	gw_str(w, "x", 1, "elem0.s0.len");
	gw_str(w, "yz", 2, "elem0.s1.len");
	gw_arr(w, LX_GGUF_STRING, 0, "elem1.");

	gw_tensor(w, "tok.f32", LX_TYPE_F32, 2, 8, 2, 1, 1);
	gw_tensor(w, "w.f16", LX_TYPE_F16, 1, 16, 1, 1, 1);
	gw_tensor(w, "w.q4_0", LX_TYPE_Q4_0, 2, 64, 2, 1, 1);
	gw_tensor(w, "w.q8_0", LX_TYPE_Q8_0, 3, 32, 2, 2, 1);
	gw_tensor(w, "w.q4_k", LX_TYPE_Q4_K, 2, 256, 2, 1, 1);
	gw_tensor(w, "w.4d", LX_TYPE_F32, 4, 2, 2, 1, 2);
	gw_finish(w);
}

/* A SentencePiece vocabulary: specials, byte tokens, pieces with merges. */
static const char *const vocab_text[] = {
	"<unk>", "<s>", "</s>", "<0x0A>", "<0x41>",
	"\xe2\x96\x81", "a", "b", "c", "ab",
	"\xe2\x96\x81" "a", "\xe2\x96\x81" "ab", "h", "i", "hi",
	"\xe2\x96\x81" "hi", "<|user|>",
};
static const int32_t vocab_type[] = {
	2, 3, 3, 6, 6,
	1, 1, 1, 1, 1,
	1, 1, 1, 1, 1,
	1, 4,
};
#define N_VOCAB ((uint32_t)LX_ARRAY_SIZE(vocab_text))

struct model_opts {
	bool weights;		/* false: vocab-only, like ggml-vocab-*.gguf */
	int scores_delta;	/* scores entries = tokens + delta */
	int bad_type_at;	/* token whose token_type is bad_type, or -1 */
	int32_t bad_type;
	uint32_t bos;
	const char *tok_model;
};

static const struct model_opts default_model = {
	true, 0, -1, 0, 1, "llama",
};

/*
 * A llama model small enough to be a fuzz seed: n_embd 32, one layer, two
 * query heads sharing one KV head of 16, n_ff 32, 17 tokens, Q4_0/Q8_0
 * matrices, F32/F16 norms, untied output.
 */
static void build_model(struct gw *w, const struct model_opts *o)
{
	uint32_t i, n_scores = (uint32_t)((int)N_VOCAB + o->scores_delta);

	gw_begin(w, 3);
	gw_kv_str(w, "general.architecture", "llama");
	gw_kv_str(w, "general.name", o->weights ? "tiny" : "tiny vocab");
	if (o->weights) {
		gw_kv_u32(w, "llama.context_length", 128);
		gw_kv_u32(w, "llama.embedding_length", 32);
		gw_kv_u32(w, "llama.block_count", 1);
		gw_kv_u32(w, "llama.feed_forward_length", 32);
		gw_kv_u32(w, "llama.attention.head_count", 2);
		gw_kv_u32(w, "llama.attention.head_count_kv", 1);
		gw_kv_scalar(w, "llama.attention.layer_norm_rms_epsilon",
			     LX_GGUF_F32, f32bits(1e-5f));
		gw_kv_u32(w, "llama.rope.dimension_count", 16);
		gw_kv_scalar(w, "llama.rope.freq_base", LX_GGUF_F32,
			     f32bits(10000.0f));
	}
	gw_kv_str(w, "tokenizer.ggml.model", o->tok_model);
	gw_kv_arr(w, "tokenizer.ggml.tokens", LX_GGUF_STRING, N_VOCAB);
	for (i = 0; i < N_VOCAB; i++) {
		char what[16];

		snprintf(what, sizeof(what), "s%u.len", i);
		gw_str(w, vocab_text[i], strlen(vocab_text[i]), what);
	}
	gw_kv_arr(w, "tokenizer.ggml.scores", LX_GGUF_F32, n_scores);
	for (i = 0; i < n_scores; i++)
		gw_scalar(w, LX_GGUF_F32, f32bits(-(float)i));
	gw_kv_arr(w, "tokenizer.ggml.token_type", LX_GGUF_I32, N_VOCAB);
	for (i = 0; i < N_VOCAB; i++)
		gw_scalar(w, LX_GGUF_I32,
			  (uint32_t)((int)i == o->bad_type_at ? o->bad_type :
				     vocab_type[i]));
	gw_kv_u32(w, "tokenizer.ggml.bos_token_id", o->bos);
	gw_kv_u32(w, "tokenizer.ggml.eos_token_id", 2);
	gw_kv_u32(w, "tokenizer.ggml.unknown_token_id", 0);
	gw_kv_scalar(w, "tokenizer.ggml.add_bos_token", LX_GGUF_BOOL, 1);
	gw_kv_scalar(w, "tokenizer.ggml.add_eos_token", LX_GGUF_BOOL, 0);
	if (o->weights) {
		gw_tensor(w, "token_embd.weight", LX_TYPE_Q8_0, 2, 32, N_VOCAB, 1, 1);
		gw_tensor(w, "output_norm.weight", LX_TYPE_F32, 1, 32, 1, 1, 1);
		gw_tensor(w, "output.weight", LX_TYPE_Q4_0, 2, 32, N_VOCAB, 1, 1);
		gw_tensor(w, "blk.0.attn_norm.weight", LX_TYPE_F32, 1, 32, 1, 1, 1);
		gw_tensor(w, "blk.0.attn_q.weight", LX_TYPE_Q4_0, 2, 32, 32, 1, 1);
		gw_tensor(w, "blk.0.attn_k.weight", LX_TYPE_Q4_0, 2, 32, 16, 1, 1);
		gw_tensor(w, "blk.0.attn_v.weight", LX_TYPE_Q4_0, 2, 32, 16, 1, 1);
		gw_tensor(w, "blk.0.attn_output.weight", LX_TYPE_Q4_0, 2, 32, 32,
			  1, 1);
		gw_tensor(w, "blk.0.ffn_norm.weight", LX_TYPE_F16, 1, 32, 1, 1, 1);
		gw_tensor(w, "blk.0.ffn_gate.weight", LX_TYPE_Q4_0, 2, 32, 32, 1, 1);
		gw_tensor(w, "blk.0.ffn_up.weight", LX_TYPE_Q4_0, 2, 32, 32, 1, 1);
		gw_tensor(w, "blk.0.ffn_down.weight", LX_TYPE_Q4_0, 2, 32, 32, 1, 1);
	}
	gw_finish(w);
}

/* depth arrays inside each other, the innermost holding one u8. */
static void build_nested(struct gw *w, int depth)
{
	int d;

	gw_begin(w, 3);
	gw_key(w, "test.deep", LX_GGUF_ARRAY);
	for (d = 1; d < depth; d++)
		gw_arr(w, LX_GGUF_ARRAY, 1, "");
	gw_arr(w, LX_GGUF_U8, 1, "");
	gw_scalar(w, LX_GGUF_U8, 7);
	gw_kv_arr(w, "test.empty", LX_GGUF_ARRAY, 0);
	gw_tensor(w, "t", LX_TYPE_F32, 1, 4, 1, 1, 1);
	gw_finish(w);
}

/* ---------------------------------------------------------------------- */
/* What a parsed file must satisfy, however it was damaged                */
/* ---------------------------------------------------------------------- */

static bool inside(const void *p, uint64_t n, const uint8_t *base, size_t size)
{
	uintptr_t q = (uintptr_t)p, b = (uintptr_t)base;

	return q >= b && q - b <= size && n <= size - (q - b);
}

/* Copies a byte string to a C string; false if it cannot be one. */
static bool c_string(const struct lx_gguf_str *s, char *out, size_t cap)
{
	if (s->len >= cap || memchr(s->ptr, '\0', s->len))
		return false;
	memcpy(out, s->ptr, s->len);
	out[s->len] = '\0';
	return true;
}

static void check_kv(const struct lx_gguf *g, const struct lx_gguf_kv *kv,
		     const uint8_t *base, size_t size)
{
	struct lx_err err;
	char key[320], text[96];
	uint64_t i;

	VCHECK(kv->key.len > 0 && inside(kv->key.ptr, kv->key.len, base, size),
	       "key out of bounds");
	VCHECK(kv->type < LX_GGUF_VTYPE_COUNT, "value type %u", kv->type);
	VCHECK(inside(kv->value, kv->value_size, base, size),
	       "value of %llu bytes out of bounds",
	       (unsigned long long)kv->value_size);
	memset(text, 'X', sizeof(text));
	lx_gguf_value_to_text(kv, text, sizeof(text));
	VCHECK(memchr(text, '\0', sizeof(text)) != NULL, "text not terminated");
	text[0] = 'X';
	lx_gguf_value_to_text(kv, text, 1);
	VCHECK(text[0] == '\0', "cap 1 wrote text");

	if (kv->type == LX_GGUF_STRING) {
		VCHECK(kv->value_size == 8 + get_le(kv->value, 8),
		       "string size mismatch");
	} else if (kv->type == LX_GGUF_ARRAY) {
		VCHECK(kv->arr_type < LX_GGUF_VTYPE_COUNT, "element type %u",
		       kv->arr_type);
		if (vsize[kv->arr_type]) {
			VCHECK(kv->value_size ==
			       kv->arr_count * vsize[kv->arr_type],
			       "array size mismatch");
			if (kv->arr_count) {
				(void)lx_gguf_arr_int(kv, kv->arr_count - 1);
				(void)lx_gguf_arr_f32(kv, kv->arr_count - 1);
			}
		} else if (kv->arr_type == LX_GGUF_STRING) {
			struct lx_gguf_str *s;
			bool ok = lx_gguf_arr_strings(kv, &s, &err);

			VCHECK(ok, "arr_strings: %s", err.msg);
			for (i = 0; s && i < kv->arr_count; i++)
				VCHECK(inside(s[i].ptr, s[i].len, kv->value,
					      kv->value_size),
				       "string %llu outside its array",
				       (unsigned long long)i);
			lx_host_free(s);
		}
	} else {
		VCHECK(kv->value_size == vsize[kv->type], "scalar size");
	}

	/* Keys are unique, so lookup by name finds this very entry. */
	if (c_string(&kv->key, key, sizeof(key))) {
		const struct lx_gguf_kv *arr;
		struct lx_gguf_str s;
		uint32_t u;
		float f;
		bool b;

		VCHECK(lx_gguf_find(g, key) == kv, "find '%s'", key);
		if (!lx_gguf_get_u32(g, key, &u, false, &err))
			VCHECK(err.msg[0], "get_u32 failed silently");
		if (!lx_gguf_get_f32(g, key, &f, false, &err))
			VCHECK(err.msg[0], "get_f32 failed silently");
		if (!lx_gguf_get_bool(g, key, &b, false, &err))
			VCHECK(err.msg[0], "get_bool failed silently");
		if (!lx_gguf_get_str(g, key, &s, false, &err))
			VCHECK(err.msg[0], "get_str failed silently");
		else
			VCHECK(inside(s.ptr, s.len, base, size), "get_str");
		if (!lx_gguf_get_arr(g, key, LX_GGUF_U32, &arr, false, &err))
			VCHECK(err.msg[0], "get_arr failed silently");
	}
}

static void check_tensor(const struct lx_gguf *g,
			 const struct lx_gguf_tensor *t, const uint8_t *base,
			 size_t size)
{
	const struct lx_type_traits *tt = lx_type_traits(t->type);
	uint64_t n = 1, bytes;
	bool ovf = false;
	char name[320];
	uint32_t d;

	VCHECK(tt != NULL, "tensor type %u", t->type);
	VCHECK(t->n_dims >= 1 && t->n_dims <= 4, "n_dims %u", t->n_dims);
	VCHECK(t->name.len > 0 && t->name.len <= LX_GGUF_MAX_NAME &&
	       inside(t->name.ptr, t->name.len, base, size), "tensor name");
	if (!tt)
		return;
	for (d = 0; d < 4; d++) {
		VCHECK(t->ne[d] > 0 && (d < t->n_dims || t->ne[d] == 1),
		       "ne[%u] = %llu", d, (unsigned long long)t->ne[d]);
		ovf |= __builtin_mul_overflow(n, t->ne[d], &n);
	}
	VCHECK(!ovf && n == t->n_elements && n <= (uint64_t)INT64_MAX,
	       "n_elements %llu", (unsigned long long)t->n_elements);
	VCHECK(t->ne[0] % tt->block_size == 0, "row of %llu",
	       (unsigned long long)t->ne[0]);
	if (ovf || !t->ne[0])
		return;
	/* The exact byte size, computed without wrapping. */
	ovf = __builtin_mul_overflow(t->ne[0] / tt->block_size,
				     (uint64_t)tt->type_size, &bytes) ||
	      __builtin_mul_overflow(bytes, n / t->ne[0], &bytes);
	VCHECK(!ovf && bytes == t->size,
	       "tensor '%.*s' of %llu elements of %s has size %llu",
	       (int)t->name.len, t->name.ptr, (unsigned long long)n, tt->name,
	       (unsigned long long)t->size);
	VCHECK(t->offset % g->alignment == 0, "offset %llu misaligned",
	       (unsigned long long)t->offset);
	VCHECK(t->offset <= g->data_size && t->size <= g->data_size - t->offset,
	       "tensor '%.*s' outside the data", (int)t->name.len, t->name.ptr);
	if (t->offset <= g->data_size && t->size <= g->data_size - t->offset) {
		const volatile uint8_t *p = t->data;

		VCHECK(t->data == base + g->data_offset + t->offset,
		       "data pointer");
		if (t->size) {
			(void)p[0];
			(void)p[t->size - 1];
		}
	}
	if (c_string(&t->name, name, sizeof(name)))
		VCHECK(lx_gguf_find_tensor(g, name) == t, "find_tensor '%s'",
		       name);
}

static void check_parsed(const struct lx_gguf *g, const uint8_t *base,
			 size_t size)
{
	uint64_t i, j;

	VCHECK(g->base == base && g->size == size, "base/size");
	VCHECK(g->version == 2 || g->version == 3, "version %u", g->version);
	VCHECK(g->alignment && !(g->alignment & (g->alignment - 1)),
	       "alignment %u", g->alignment);
	VCHECK(g->data_offset <= size && g->data_size == size - g->data_offset,
	       "data section %llu + %llu", (unsigned long long)g->data_offset,
	       (unsigned long long)g->data_size);
	VCHECK(!g->n_tensors || g->data_offset % g->alignment == 0,
	       "data offset %llu misaligned",
	       (unsigned long long)g->data_offset);
	for (i = 0; i < g->n_kv; i++)
		check_kv(g, &g->kv[i], base, size);
	for (i = 0; i < g->n_tensors; i++)
		check_tensor(g, &g->tensors[i], base, size);
	VCHECK(lx_gguf_find_tensor(g, "") == NULL, "empty tensor name found");
	if (g->n_tensors > 256)
		return;
	for (i = 0; i < g->n_tensors; i++)
		for (j = i + 1; j < g->n_tensors; j++) {
			const struct lx_gguf_tensor *a = &g->tensors[i];
			const struct lx_gguf_tensor *b = &g->tensors[j];

			VCHECK(a->offset + a->size <= b->offset ||
			       b->offset + b->size <= a->offset,
			       "tensors %llu and %llu overlap",
			       (unsigned long long)i, (unsigned long long)j);
		}
}

/* ---------------------------------------------------------------------- */
/* The public API over the same bytes                                     */
/* ---------------------------------------------------------------------- */

static void exercise_model(struct llamux_model *m)
{
	static const char text[] = "hi ab <s>\n \xe2\x96\x81<|user|>xA\xc3";
	struct llamux_model_info info;
	struct llamux_tensor_info ti;
	int32_t toks[64], n_vocab;
	char buf[512];
	uint64_t i;
	int k;

	llamux_model_get_info(m, &info);
	n_vocab = llamux_n_vocab(m);
	VCHECK(n_vocab > 0 && (uint32_t)n_vocab == info.n_vocab, "n_vocab %d",
	       n_vocab);
	VCHECK(info.bos >= -1 && info.bos < n_vocab, "bos %d", info.bos);
	VCHECK(info.eos >= -1 && info.eos < n_vocab, "eos %d", info.eos);
	for (i = 0; i < llamux_model_n_meta(m); i++) {
		const char *key;
		size_t key_len;

		VCHECK(llamux_model_meta(m, i, &key, &key_len, buf, sizeof(buf)),
		       "meta %llu", (unsigned long long)i);
		VCHECK(memchr(buf, '\0', sizeof(buf)) != NULL, "meta text");
	}
	VCHECK(!llamux_model_meta(m, i, NULL, NULL, buf, sizeof(buf)),
	       "meta past the end");
	for (i = 0; i < llamux_model_n_tensors(m); i++)
		VCHECK(llamux_model_tensor(m, i, &ti) && ti.type,
		       "tensor %llu", (unsigned long long)i);
	for (k = 0; k < 4; k++) {
		struct llamux_detok d = { { 0 }, 0 };
		int64_t n, n2, j;

		n = llamux_tokenize(m, text, sizeof(text) - 1, k & 1, k & 2,
				    toks, LX_ARRAY_SIZE(toks));
		VCHECK(n > 0, "tokenize gave %lld", (long long)n);
		for (j = 0; j < n && j < (int64_t)LX_ARRAY_SIZE(toks); j++) {
			VCHECK(toks[j] >= 0 && toks[j] < n_vocab, "token %d",
			       toks[j]);
			(void)llamux_token_to_piece(m, toks[j], true, buf,
						    sizeof(buf));
			(void)llamux_detok_push(m, &d, toks[j], buf,
						sizeof(buf));
		}
		(void)llamux_detok_flush(&d, buf, sizeof(buf));
		n2 = llamux_tokenize(m, text, sizeof(text) - 1, k & 1, k & 2,
				     toks, 2);
		VCHECK(n2 == n, "count with cap 2: %lld vs %lld",
		       (long long)n2, (long long)n);
	}
	VCHECK(llamux_token_to_piece(m, -1, true, buf, sizeof(buf)) == 0 &&
	       llamux_token_to_piece(m, n_vocab, true, buf, sizeof(buf)) == 0,
	       "piece of an invalid token");
}

/*
 * Loads with both flag sets. When the reader rejected the bytes (parse_err),
 * the loader must too, with the reader's message.
 */
static void api_load(const uint8_t *data, size_t size, const char *parse_err)
{
	static const unsigned int flags[] = { 0, LLAMUX_LOAD_VOCAB_ONLY };
	size_t i;

	for (i = 0; i < LX_ARRAY_SIZE(flags); i++) {
		char err[LLAMUX_ERR_MAX] = "";
		struct llamux_model *m;

		m = llamux_model_load_memory(data, size, flags[i], err);
		st.loads++;
		if (parse_err) {
			VCHECK(!m, "loaded what the reader rejected (%s)",
			       parse_err);
			VCHECK(strstr(err, parse_err) != NULL,
			       "load said '%s', reader said '%s'", err,
			       parse_err);
		}
		if (!m) {
			VCHECK(err[0], "load failed without a message");
			VCHECK(!strstr(err, "out of memory"), "%s", err);
			VCHECK(memchr(err, '\0', sizeof(err)) != NULL,
			       "message not terminated");
			st.load_rejected++;
			continue;
		}
		st.loaded++;
		exercise_model(m);
		llamux_model_free(m);
	}
}

/* One corrupted variant in an exactly sized heap buffer (ASan sees overreads). */
static bool try_variant(const uint8_t *data, size_t size, bool api)
{
	struct lx_gguf g;
	struct lx_err err;
	bool ok;

	memset(&err, 'X', sizeof(err));
	ok = lx_gguf_parse(&g, data, size, &err);
	st.variants++;
	VCHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL,
	       "message not terminated");
	if (ok) {
		st.accepted++;
		check_parsed(&g, data, size);
		lx_gguf_free(&g);
	} else {
		st.rejected++;
		VCHECK(err.msg[0] && err.msg[0] != 'X', "rejected without a message");
		/* Files of a few KB need no large allocation (see RLIMIT_AS). */
		VCHECK(!strstr(err.msg, "out of memory"), "%s", err.msg);
		VCHECK(!g.kv && !g.tensors && !g.by_name && !g.n_kv &&
		       !g.n_tensors, "rejected file left state behind");
	}
	if (api)
		api_load(data, size, ok ? NULL : err.msg);
	return ok;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);

	if (!b)
		abort();
	memcpy(b, p, n);
	return b;
}

/* ---------------------------------------------------------------------- */
/* a. The valid files                                                      */
/* ---------------------------------------------------------------------- */

static void check_text(const struct lx_gguf *g, const char *key,
		       const char *want)
{
	const struct lx_gguf_kv *kv = lx_gguf_find(g, key);
	char text[128] = "";

	CHECK(kv != NULL, "no key %s", key);
	if (!kv)
		return;
	lx_gguf_value_to_text(kv, text, sizeof(text));
	CHECK(strcmp(text, want) == 0, "%s as text: '%s', want '%s'", key, text,
	      want);
}

/* Floats as text: the digits shown are the formatter's choice. */
static void check_number(const struct lx_gguf *g, const char *key, double want)
{
	const struct lx_gguf_kv *kv = lx_gguf_find(g, key);
	char text[128] = "", *end;

	CHECK(kv != NULL, "no key %s", key);
	if (!kv)
		return;
	lx_gguf_value_to_text(kv, text, sizeof(text));
	CHECK(strtod(text, &end) == want && *end == '\0',
	      "%s as text: '%s', want %g", key, text, want);
}

static void test_valid_rich(void)
{
	struct gw *w = gw_new();
	const struct lx_gguf_kv *kv = NULL;
	struct lx_gguf_str s, *strs = NULL;
	struct lx_gguf g;
	struct lx_err err;
	uint8_t *buf;
	uint32_t u;
	float f;
	bool b;
	int i, d;

	build_rich(w);
	buf = dup_bytes(w->p, w->n);
	snprintf(cur_variant, sizeof(cur_variant), "valid rich file");
	CHECK(lx_gguf_parse(&g, buf, w->n, &err), "rich file: %s", err.msg);
	CHECK(g.version == 3 && g.alignment == 64, "version %u alignment %u",
	      g.version, g.alignment);
	CHECK(g.n_kv == w->n_kv, "n_kv %llu, wrote %llu",
	      (unsigned long long)g.n_kv, (unsigned long long)w->n_kv);
	CHECK(g.n_tensors == (uint64_t)w->nt, "n_tensors %llu",
	      (unsigned long long)g.n_tensors);
	CHECK(g.data_offset == w->data_offset && g.data_offset % 64 == 0,
	      "data offset %llu, wrote %zu", (unsigned long long)g.data_offset,
	      w->data_offset);
	CHECK(g.data_size == w->n - w->data_offset, "data size");
	for (i = 0; i < w->nt && (uint64_t)i < g.n_tensors; i++) {
		const struct gw_tensor *e = &w->t[i];
		const struct lx_gguf_tensor *t = &g.tensors[i];
		uint64_t n = 1;

		CHECK(t->name.len == e->name_len &&
		      memcmp(t->name.ptr, e->name, e->name_len) == 0,
		      "tensor %d name", i);
		CHECK(t->n_dims == e->n_dims && t->type == e->type,
		      "tensor %s dims/type", e->name);
		for (d = 0; d < 4; d++) {
			uint64_t want = (uint32_t)d < e->n_dims ? e->ne[d] : 1;

			CHECK(t->ne[d] == want, "%s ne[%d] = %llu", e->name, d,
			      (unsigned long long)t->ne[d]);
			n *= want;
		}
		CHECK(t->n_elements == n, "%s n_elements", e->name);
		CHECK(t->offset == e->offset && t->size == e->size,
		      "%s offset %llu size %llu, wrote %llu %llu", e->name,
		      (unsigned long long)t->offset,
		      (unsigned long long)t->size,
		      (unsigned long long)e->offset,
		      (unsigned long long)e->size);
		CHECK(t->data == buf + w->data_offset + e->offset,
		      "%s data pointer", e->name);
		CHECK(lx_gguf_find_tensor(&g, e->name) == t, "find %s", e->name);
	}
	CHECK(w->t[4].size == 2 * 144 && w->t[2].size == 2 * 2 * 18,
	      "writer's sizes");
	CHECK(!lx_gguf_find_tensor(&g, "w.q4") && !lx_gguf_find_tensor(&g, "") &&
	      !lx_gguf_find_tensor(&g, "w.q4_0x"), "phantom tensors");
	check_parsed(&g, buf, w->n);

	/* Typed getters. */
	CHECK(lx_gguf_get_u32(&g, "test.u8", &u, true, &err) && u == 200, "u8");
	CHECK(lx_gguf_get_u32(&g, "test.u16", &u, true, &err) && u == 60000,
	      "u16");
	CHECK(lx_gguf_get_u32(&g, "test.u32", &u, true, &err) &&
	      u == 4000000000u, "u32");
	CHECK(lx_gguf_get_u32(&g, "general.alignment", &u, true, &err) &&
	      u == 64, "alignment");
	CHECK(!lx_gguf_get_u32(&g, "test.i8", &u, true, &err) &&
	      strstr(err.msg, "is -5, out of range"), "i8 as u32: %s", err.msg);
	CHECK(!lx_gguf_get_u32(&g, "test.u64", &u, true, &err) &&
	      strstr(err.msg, "out of range"), "u64 as u32: %s", err.msg);
	CHECK(!lx_gguf_get_u32(&g, "test.string", &u, true, &err) &&
	      strstr(err.msg, "has type string, expected an integer"),
	      "string as u32: %s", err.msg);
	CHECK(!lx_gguf_get_u32(&g, "test.absent", &u, false, &err) &&
	      err.msg[0] == '\0', "absent optional: '%s'", err.msg);
	CHECK(!lx_gguf_get_u32(&g, "test.absent", &u, true, &err) &&
	      strstr(err.msg, "required metadata key 'test.absent' is missing"),
	      "absent required: %s", err.msg);
	CHECK(lx_gguf_get_f32(&g, "test.f32", &f, true, &err) && f == 1.5f,
	      "f32");
	CHECK(lx_gguf_get_f32(&g, "test.f64", &f, true, &err) && f == 2.25f,
	      "f64");
	CHECK(!lx_gguf_get_f32(&g, "test.u8", &f, true, &err) &&
	      strstr(err.msg, "expected a float"), "u8 as f32: %s", err.msg);
	CHECK(lx_gguf_get_bool(&g, "test.bool", &b, true, &err) && b, "bool");
	CHECK(!lx_gguf_get_bool(&g, "test.u8", &b, true, &err) &&
	      strstr(err.msg, "expected bool"), "u8 as bool: %s", err.msg);
	CHECK(lx_gguf_get_str(&g, "test.string", &s, true, &err) &&
	      s.len == 6 && memcmp(s.ptr, "h\xc3\xa9llo", 6) == 0, "string");
	CHECK(!lx_gguf_get_str(&g, "test.u8", &s, true, &err) &&
	      strstr(err.msg, "expected string"), "u8 as string: %s", err.msg);

	/* Arrays. */
	CHECK(lx_gguf_get_arr(&g, "test.arr.u32", LX_GGUF_U32, &kv, true, &err) &&
	      kv->arr_count == 3 && lx_gguf_arr_int(kv, 0) == 1 &&
	      lx_gguf_arr_int(kv, 2) == 3, "u32 array");
	CHECK(lx_gguf_get_arr(&g, "test.arr.i8", LX_GGUF_I8, &kv, true, &err) &&
	      lx_gguf_arr_int(kv, 1) == -2, "i8 array");
	CHECK(lx_gguf_get_arr(&g, "test.arr.i64", LX_GGUF_I64, &kv, true, &err) &&
	      lx_gguf_arr_int(kv, 2) == -3, "i64 array");
	CHECK(lx_gguf_get_arr(&g, "test.arr.f32", LX_GGUF_F32, &kv, true, &err) &&
	      lx_gguf_arr_f32(kv, 1) == 1.5f, "f32 array");
	CHECK(lx_gguf_get_arr(&g, "test.arr.u16", LX_GGUF_U16, &kv, true, &err) &&
	      lx_gguf_arr_f32(kv, 2) == 3.0f, "u16 array as f32");
	CHECK(!lx_gguf_get_arr(&g, "test.arr.u32", LX_GGUF_I32, &kv, true, &err) &&
	      strstr(err.msg, "has type array of u32, expected array of i32"),
	      "wrong array type: %s", err.msg);
	CHECK(!lx_gguf_get_arr(&g, "test.u32", LX_GGUF_U32, &kv, true, &err) &&
	      strstr(err.msg, "has type u32, expected array of u32"),
	      "scalar as array: %s", err.msg);
	CHECK(lx_gguf_get_arr(&g, "test.strings", LX_GGUF_STRING, &kv, true,
			      &err) && lx_gguf_arr_strings(kv, &strs, &err),
	      "string array: %s", err.msg);
	if (kv && strs && kv->arr_type == LX_GGUF_STRING) {
		CHECK(kv->arr_count == 4 && strs[0].len == 1 &&
		      strs[1].len == 2 && !memcmp(strs[1].ptr, "bc", 2) &&
		      strs[2].len == 0 && strs[3].len == 4 &&
		      !memcmp(strs[3].ptr, "\xe2\x96\x81x", 4), "strings");
		lx_host_free(strs);
	}
	CHECK(lx_gguf_get_arr(&g, "test.nested", LX_GGUF_ARRAY, &kv, true,
			      &err) && kv->arr_count == 3 &&
	      kv->value_size == 3 * 12 + 3 * 4, "nested array: %s", err.msg);
	CHECK(!lx_gguf_arr_strings(kv, &strs, &err) &&
	      strstr(err.msg, "is not an array of strings"),
	      "nested as strings: %s", err.msg);

	/* As text, including both nested arrays. */
	check_text(&g, "test.u8", "200");
	check_text(&g, "test.i8", "-5");
	check_text(&g, "test.u16", "60000");
	check_text(&g, "test.i16", "-30000");
	check_text(&g, "test.u32", "4000000000");
	check_text(&g, "test.i32", "-2000000000");
	check_number(&g, "test.f32", 1.5);
	check_text(&g, "test.bool", "true");
	check_text(&g, "test.u64", "1099511627779");
	check_text(&g, "test.i64", "-1099511627776");
	check_number(&g, "test.f64", 2.25);
	check_text(&g, "test.string", "h\xc3\xa9llo");
	check_text(&g, "test.arr.bool", "[bool x 3]");
	check_text(&g, "test.strings", "[string x 4]");
	check_text(&g, "test.nested", "[array x 3]");
	check_text(&g, "test.nested_str", "[array x 2]");
	lx_gguf_free(&g);
	CHECK(!g.kv && !g.tensors && !g.n_kv, "free clears");
	free(buf);
	gw_free(w);
}

static void test_valid_models(void)
{
	struct model_opts o = default_model;
	struct llamux_model_info info;
	char err[LLAMUX_ERR_MAX] = "";
	struct llamux_model *m;
	struct gw *w = gw_new();
	struct lx_gguf g;
	struct lx_err e;
	int32_t toks[16];
	int64_t n;

	build_model(w, &o);
	snprintf(cur_variant, sizeof(cur_variant), "valid model file");
	CHECK(lx_gguf_parse(&g, w->p, w->n, &e), "model file: %s", e.msg);
	lx_gguf_free(&g);
	m = llamux_model_load_memory(w->p, w->n, 0, err);
	CHECK(m != NULL, "tiny model: %s", err);
	if (m) {
		llamux_model_get_info(m, &info);
		CHECK(info.n_vocab == N_VOCAB && info.n_embd == 32 &&
		      info.n_layer == 1 && info.n_head == 2 &&
		      info.n_head_kv == 1 && info.head_dim == 16 &&
		      info.bos == 1 && info.eos == 2 && !info.vocab_only,
		      "tiny model info");
		n = llamux_tokenize(m, "hi ab", 5, true, false, toks, 16);
		CHECK(n >= 2 && toks[0] == 1, "tokenize: %lld tokens",
		      (long long)n);
		exercise_model(m);
		llamux_model_free(m);
	}
	m = llamux_model_load_memory(w->p, w->n, LLAMUX_LOAD_VOCAB_ONLY, err);
	CHECK(m != NULL, "tiny model, vocab only: %s", err);
	llamux_model_free(m);
	gw_free(w);

	w = gw_new();
	o.weights = false;
	build_model(w, &o);
	m = llamux_model_load_memory(w->p, w->n, LLAMUX_LOAD_VOCAB_ONLY, err);
	CHECK(m != NULL, "vocab-only file: %s", err);
	if (m) {
		exercise_model(m);
		llamux_model_free(m);
	}
	m = llamux_model_load_memory(w->p, w->n, 0, err);
	/* Refused for lacking hyperparameters or tensors, either way. */
	CHECK(!m && err[0], "vocab file as a model: '%s'", err);
	llamux_model_free(m);
	gw_free(w);

	/* Eight levels of arrays are allowed. */
	w = gw_new();
	build_nested(w, LX_GGUF_MAX_NESTING);
	CHECK(lx_gguf_parse(&g, w->p, w->n, &e), "8 nested arrays: %s", e.msg);
	if (g.n_kv)
		check_text(&g, "test.deep", "[array x 1]");
	lx_gguf_free(&g);
	gw_free(w);

	CHECK(!lx_gguf_parse(&g, NULL, 0, &e) && e.msg[0], "NULL, 0");
	CHECK(!llamux_model_load_memory(NULL, 0, 0, err) && err[0],
	      "load NULL, 0");
}

/* ---------------------------------------------------------------------- */
/* b. Truncation at every length                                          */
/* ---------------------------------------------------------------------- */

static void test_truncation(const char *what, const struct gw *w, bool api)
{
	size_t len;

	for (len = 0; len < w->n; len++) {
		uint8_t *b = dup_bytes(w->p, len);

		snprintf(cur_variant, sizeof(cur_variant),
			 "%s truncated to %zu of %zu bytes", what, len, w->n);
		VCHECK(!try_variant(b, len, api), "truncated file parsed");
		free(b);
	}
}

/* ---------------------------------------------------------------------- */
/* c. Every recorded field overwritten with hostile values                */
/* ---------------------------------------------------------------------- */

static void test_fields(const char *what, const struct gw *w, bool api)
{
	int i;

	for (i = 0; i < w->nf; i++) {
		const struct field *f = &w->f[i];
		uint64_t orig = get_le(w->p + f->off, f->width);
		uint64_t rem = w->n - f->off - f->width, seen[40];
		const uint64_t vals[] = {
			0, 1, 2, 3, 5, 13, 0x7F, 0x80, 0xFF, 0xFFFF,
			0x7FFFFFFF, 1ull << 31, 0xFFFFFFFF, 1ull << 32,
			1ull << 62, (1ull << 62) + 1, (1ull << 63) - 1,
			1ull << 63, ~0ull - 63, ~0ull, w->n, w->n + 1, rem,
			rem + 1, rem / 2 + 1, rem / 4 + 1, rem / 8 + 1,
			rem / 13 + 1, rem / 33 + 1, orig - 1, orig + 1,
			orig * 2, orig + 32, orig + 64,
		};
		size_t k, n_seen = 0, j;

		for (k = 0; k < LX_ARRAY_SIZE(vals); k++) {
			uint64_t v = vals[k];
			uint8_t *b;

			if (f->width == 4)
				v &= 0xFFFFFFFF;
			if (v == orig)
				continue;
			for (j = 0; j < n_seen && seen[j] != v; j++)
				;
			if (j < n_seen)
				continue;
			seen[n_seen++] = v;
			b = dup_bytes(w->p, w->n);
			put_le(b + f->off, v, f->width);
			snprintf(cur_variant, sizeof(cur_variant),
				 "%s: %s (byte %zu) = %llu", what, f->label,
				 f->off, (unsigned long long)v);
			try_variant(b, w->n, api);
			free(b);
		}
	}
}

/* ---------------------------------------------------------------------- */
/* e. Every byte flipped                                                  */
/* ---------------------------------------------------------------------- */

static void test_flips(const char *what, const struct gw *w, bool api)
{
	size_t i;
	int op;

	for (i = 0; i < w->n; i++) {
		for (op = 0; op < 3; op++) {
			uint8_t v = op == 0 ? w->p[i] ^ 0xFF : op == 1 ? 0x00 : 0x80;
			uint8_t *b;

			if (v == w->p[i])
				continue;
			b = dup_bytes(w->p, w->n);
			b[i] = v;
			snprintf(cur_variant, sizeof(cur_variant),
				 "%s: byte %zu 0x%02x -> 0x%02x", what, i,
				 w->p[i], v);
			try_variant(b, w->n, api);
			free(b);
		}
	}
}

/* ---------------------------------------------------------------------- */
/* d, f. Named rejections and their messages                              */
/* ---------------------------------------------------------------------- */

/* The reader must reject the bytes, and the loader too, saying want. */
static void reject_bytes(const char *label, const uint8_t *file, size_t size,
			 const char *want)
{
	uint8_t *b = dup_bytes(file, size);
	struct lx_gguf g;
	struct lx_err err;
	bool ok;

	snprintf(cur_variant, sizeof(cur_variant), "named: %s", label);
	ok = lx_gguf_parse(&g, b, size, &err);
	CHECK(!ok, "%s: parsed", label);
	if (ok) {
		lx_gguf_free(&g);
	} else {
		CHECK(strstr(err.msg, want) != NULL,
		      "%s: message '%s' lacks '%s'", label, err.msg, want);
		if (verbose)
			printf("  %-36s %s\n", label, err.msg);
	}
	api_load(b, size, ok ? NULL : err.msg);
	st.named++;
	free(b);
}

static void reject_gw(const char *label, const struct gw *w, const char *want)
{
	reject_bytes(label, w->p, w->n, want);
}

/* Patches up to two fields of w's file, then expects a rejection. */
static void reject_patch2(const struct gw *w, const char *f1, uint64_t v1,
			  const char *f2, uint64_t v2, const char *want)
{
	uint8_t *b = dup_bytes(w->p, w->n);
	const struct field *f = gw_find(w, f1);
	char label[160];

	put_le(b + f->off, v1, f->width);
	if (f2) {
		f = gw_find(w, f2);
		put_le(b + f->off, v2, f->width);
		snprintf(label, sizeof(label), "%s=%llu, %s=%llu", f1,
			 (unsigned long long)v1, f2, (unsigned long long)v2);
	} else {
		snprintf(label, sizeof(label), "%s=%llu", f1,
			 (unsigned long long)v1);
	}
	reject_bytes(label, b, w->n, want);
	free(b);
}

static void reject_patch(const struct gw *w, const char *field, uint64_t v,
			 const char *want)
{
	reject_patch2(w, field, v, NULL, 0, want);
}

/*
 * The reader accepts the file but the model loader must refuse it: with both
 * flag sets when the vocabulary is at fault, else only for a full load.
 */
static void reject_model(const char *label, const uint8_t *file, size_t size,
			 bool vocab_too, const char *want)
{
	static const unsigned int flags[] = { 0, LLAMUX_LOAD_VOCAB_ONLY };
	struct lx_gguf g;
	struct lx_err e;
	size_t i;

	snprintf(cur_variant, sizeof(cur_variant), "named: %s", label);
	CHECK(lx_gguf_parse(&g, file, size, &e), "%s: %s", label, e.msg);
	lx_gguf_free(&g);
	for (i = 0; i < (vocab_too ? 2u : 1u); i++) {
		char err[LLAMUX_ERR_MAX] = "";
		struct llamux_model *m;

		m = llamux_model_load_memory(file, size, flags[i], err);
		CHECK(!m, "%s: loaded (flags %u)", label, flags[i]);
		llamux_model_free(m);
		CHECK(strstr(err, want) != NULL, "%s: message '%s' lacks '%s'",
		      label, err, want);
		if (verbose && i == 0)
			printf("  %-36s %s\n", label, err);
	}
	st.named++;
}

static void reject_model_opts(const char *label, const struct model_opts *o,
			      const char *want)
{
	struct gw *w = gw_new();

	build_model(w, o);
	reject_model(label, w->p, w->n, true, want);
	gw_free(w);
}

/* A header, one u8 key, and tensors named names[i] ([4] F32 each). */
static void build_named(struct gw *w, const char *const *names,
			const size_t *lens, int n)
{
	int i;

	gw_begin(w, 3);
	gw_kv_scalar(w, "k", LX_GGUF_U8, 1);
	for (i = 0; i < n; i++)
		gw_tensor_n(w, names[i], lens[i], LX_TYPE_F32, 1, 4, 1, 1, 1);
	gw_finish(w);
}

static void reject_names(const char *label, const char *n0, size_t l0,
			 const char *n1, size_t l1, const char *want)
{
	const char *names[2] = { n0, n1 };
	size_t lens[2] = { l0, l1 };
	struct gw *w = gw_new();

	build_named(w, names, lens, n1 ? 2 : 1);
	reject_gw(label, w, want);
	gw_free(w);
}

/* One key (raw bytes) with a u8 value, after a valid one. */
static void reject_key(const char *label, const char *key, size_t len,
		       const char *want)
{
	struct gw *w = gw_new();

	gw_begin(w, 3);
	gw_kv_scalar(w, "ok", LX_GGUF_U8, 1);
	gw_key_n(w, key, len, LX_GGUF_U8);
	gw_scalar(w, LX_GGUF_U8, 1);
	gw_tensor(w, "t", LX_TYPE_F32, 1, 4, 1, 1, 1);
	gw_finish(w);
	reject_gw(label, w, want);
	gw_free(w);
}

static void reject_alignment(const char *label, uint32_t type, uint64_t v,
			     const char *want)
{
	struct gw *w = gw_new();

	gw_begin(w, 3);
	if (type == LX_GGUF_STRING)
		gw_kv_str(w, "general.alignment", "32");
	else
		gw_kv_scalar(w, "general.alignment", type, v);
	gw_tensor(w, "t", LX_TYPE_F32, 1, 4, 1, 1, 1);
	gw_finish(w);
	reject_gw(label, w, want);
	gw_free(w);
}

static void test_named(void)
{
	struct model_opts o = default_model;
	struct gw *w = gw_new();
	char long_name[LX_GGUF_MAX_NAME + 2];
	uint8_t *b;

	build_rich(w);

	/* Header. */
	b = dup_bytes(w->p, w->n);
	b[0] = 'X';
	reject_bytes("bad magic", b, w->n, "bad magic");
	free(b);
	reject_bytes("3 bytes", w->p, 3, "too small to be GGUF");
	reject_bytes("header cut in the version", w->p, 6, "file truncated");
	reject_patch(w, "version", 1, "version 1 is not supported");
	reject_patch(w, "version", 4, "version 4 is not supported");
	reject_patch(w, "version", 0, "version 0 is not supported");
	reject_patch(w, "version", 0x03000000, "big-endian");
	reject_patch(w, "n_kv", 1000, "header claims 1000 metadata entries");
	reject_patch(w, "n_kv", ~0ull, "more than the file can hold");
	reject_patch(w, "n_tensors", 1000, "header claims 1000 tensors");
	reject_patch(w, "n_tensors", 1ull << 63, "more than the file can hold");

	/* Metadata. */
	reject_patch(w, "kv test.u8.type", 13, "unknown value type 13");
	reject_patch(w, "kv test.u8.type", 0xFFFFFFFF, "unknown value type");
	reject_patch(w, "kv test.arr.u32.etype", 13, "array of unknown type 13");
	reject_patch(w, "kv test.nested.elem1.etype", 99,
		     "array of unknown type 99");
	reject_patch(w, "kv test.u8.key_len", w->n, "runs past the end");
	reject_patch(w, "kv test.u8.key_len", ~0ull, "runs past the end");
	reject_patch(w, "kv test.string.len", 1ull << 63, "runs past the end");
	reject_patch(w, "kv test.strings.s1.len", w->n, "runs past the end");
	reject_patch(w, "kv test.arr.u64.count", 1ull << 61,
		     "claims 2305843009213693952 elements of u64");
	reject_patch(w, "kv test.strings.count", 1ull << 40,
		     "claims 1099511627776 elements");
	reject_patch(w, "kv test.nested.count", ~0ull, "more than the file holds");
	reject_key("empty key", "", 0, "has an empty key");
	reject_key("duplicate key", "ok", 2, "metadata key 'ok' appears twice");
	reject_key("key with 0xFF", "bad\xff", 4, "not valid UTF-8");
	reject_key("key, overlong '/'", "k\xc0\xaf", 3, "not valid UTF-8");
	reject_key("key, overlong 3-byte", "k\xe0\x80\xaf", 4, "not valid UTF-8");
	reject_key("key, surrogate", "k\xed\xa0\x80", 4, "not valid UTF-8");
	reject_key("key, above U+10FFFF", "k\xf4\x90\x80\x80", 5,
		   "not valid UTF-8");
	reject_key("key, cut sequence", "k\xc3", 2, "not valid UTF-8");
	reject_key("key, lone continuation", "k\x80", 2, "not valid UTF-8");
	{
		struct gw *n = gw_new();

		build_nested(n, LX_GGUF_MAX_NESTING + 1);
		reject_gw("9 nested arrays", n, "nests arrays deeper than 8");
		gw_free(n);
	}
	reject_alignment("alignment as u64", LX_GGUF_U64, 32,
			 "general.alignment has type u64, expected u32");
	reject_alignment("alignment as string", LX_GGUF_STRING, 0,
			 "general.alignment has type string, expected u32");
	reject_alignment("alignment 0", LX_GGUF_U32, 0,
			 "general.alignment is 0; it must be a power of two");
	reject_alignment("alignment 48", LX_GGUF_U32, 48,
			 "general.alignment is 48; it must be a power of two");
	reject_alignment("alignment 2^21", LX_GGUF_U32, 1u << 21,
			 "up to 1 MiB");

	/* Tensor infos. */
	reject_patch(w, "tensor w.q4_0.n_dims", 0, "has 0 dimensions (must be 1 to 4)");
	reject_patch(w, "tensor w.q4_0.n_dims", 5, "has 5 dimensions (must be 1 to 4)");
	reject_patch(w, "tensor w.q4_0.dim1", 0, "invalid size 0 in dimension 1");
	reject_patch(w, "tensor w.q4_0.dim0", 1ull << 63,
		     "tensor 'w.q4_0' has invalid size");
	reject_patch(w, "tensor w.q4_0.dim1", ~0ull, "invalid size");
	reject_patch2(w, "tensor tok.f32.dim0", 1ull << 32,
		      "tensor tok.f32.dim1", 1ull << 32, "too many elements");
	reject_patch2(w, "tensor w.q8_0.dim1", 1ull << 31,
		      "tensor w.q8_0.dim2", 1ull << 31, "too many elements");
	reject_patch2(w, "tensor tok.f32.dim0", 1ull << 62,
		      "tensor tok.f32.dim1", 1, "too large");
	reject_patch2(w, "tensor tok.f32.dim0", (1ull << 62) + 1,
		      "tensor tok.f32.dim1", 1, "too large");
	reject_patch(w, "tensor w.q4_0.type", 4, "has unknown type 4");
	reject_patch(w, "tensor w.q4_0.type", 31, "has unknown type 31");
	reject_patch(w, "tensor w.q4_0.type", 99, "has unknown type 99");
	reject_patch(w, "tensor w.q4_0.type", 0xFFFFFFFF, "unknown type");
	reject_patch(w, "tensor w.q4_0.dim0", 48,
		     "row of 48 elements, not a multiple of the block size 32");
	reject_patch(w, "tensor w.q4_k.dim0", 128,
		     "not a multiple of the block size 256");
	reject_patch(w, "tensor w.f16.offset", 65,
		     "not a multiple of the alignment 64");
	reject_patch(w, "tensor w.f16.offset", 96,
		     "at offset 96, not a multiple of the alignment 64");
	reject_patch(w, "tensor w.4d.offset", 832, "lies outside the data section");
	reject_patch(w, "tensor w.q4_k.offset", ~0ull - 63,
		     "lies outside the data section");
	reject_patch(w, "tensor w.q4_k.offset", 1ull << 63,
		     "lies outside the data section");
	reject_patch(w, "tensor w.f16.offset", 0, "overlap");
	reject_patch(w, "tensor w.q8_0.offset", 192, "overlap");
	reject_patch(w, "tensor w.q4_0.name_len", w->n, "runs past the end");
	reject_names("duplicate tensor name", "x", 1, "x", 1,
		     "tensor name 'x' appears twice");
	reject_names("tensor name not UTF-8", "t\xff", 2, NULL, 0,
		     "name that is not valid UTF-8");
	reject_names("tensor name, surrogate", "\xed\xbf\xbf", 3, NULL, 0,
		     "name that is not valid UTF-8");
	reject_names("empty tensor name", "a", 1, "", 0, "tensor 1 has an empty name");
	/* Names reach messages escaped: one line, no terminal escapes. */
	reject_names("control characters in a name", "a\n\x1b[31m", 7,
		     "a\n\x1b[31m", 7, "tensor name 'a??[31m' appears twice");
	memset(long_name, 'n', sizeof(long_name));
	reject_names("tensor name of 257 bytes", long_name, LX_GGUF_MAX_NAME + 1,
		     NULL, 0, "(limit 256)");
	if (w->f[w->nf - 1].off + 8 < w->data_offset)
		reject_bytes("cut in the data padding", w->p,
			     w->data_offset - 1,
			     "file truncated before its data section");
	reject_bytes("cut in the last tensor", w->p, w->n - 1,
		     "lies outside the data section");
	gw_free(w);

	/* The model and vocabulary loader on files the reader accepts. */
	w = gw_new();
	build_rich(w);
	reject_model("no tokenizer", w->p, w->n, true,
		     "required metadata key 'tokenizer.ggml.model' is missing");
	gw_free(w);
	o.scores_delta = -1;
	reject_model_opts("scores short by one", &o,
			  "tokenizer.ggml.scores has 16 entries for 17 tokens");
	o.scores_delta = 1;
	reject_model_opts("scores long by one", &o,
			  "tokenizer.ggml.scores has 18 entries for 17 tokens");
	o = default_model;
	o.bad_type_at = 5;
	o.bad_type = 7;
	reject_model_opts("token type 7", &o,
			  "tokenizer.ggml.token_type[5] is 7, not a token type");
	o.bad_type = -1;
	reject_model_opts("token type -1", &o,
			  "tokenizer.ggml.token_type[5] is -1, not a token type");
	o = default_model;
	o.bos = N_VOCAB;
	reject_model_opts("bos = n_vocab", &o,
			  "tokenizer.ggml.bos_token_id is 17 but the vocabulary has only 17 tokens");
	o.bos = ~0u;
	reject_model_opts("bos = 2^32-1", &o,
			  "tokenizer.ggml.bos_token_id is 4294967295 but");
	o = default_model;
	o.tok_model = "gpt2";
	reject_model_opts("tokenizer gpt2", &o,
			  "tokenizer 'gpt2' is not supported");

	/* Reader-valid damage to the model's tensors. */
	w = gw_new();
	build_model(w, &default_model);
	b = dup_bytes(w->p, w->n);
	put_le(b + gw_find(w, "tensor blk.0.attn_q.weight.dim1")->off, 16, 8);
	reject_model("attn_q with 16 rows", b, w->n, false,
		     "tensor 'blk.0.attn_q.weight' has shape [32, 16], expected [32, 32]");
	free(b);
	b = dup_bytes(w->p, w->n);
	/* IQ4_NL: the block size and bytes of Q4_0, but not computable. */
	put_le(b + gw_find(w, "tensor blk.0.ffn_up.weight.type")->off, 20, 4);
	reject_model("ffn_up of type IQ4_NL", b, w->n, false,
		     "has type IQ4_NL, which llamux cannot compute");
	free(b);
	gw_free(w);
}

/* ---------------------------------------------------------------------- */
/* Seeds for the fuzzer                                                   */
/* ---------------------------------------------------------------------- */

static int write_file(const char *dir, const char *name, const struct gw *w)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(w->p, 1, w->n, f) != w->n || fclose(f) != 0) {
		perror(path);
		return 1;
	}
	printf("wrote %s (%zu bytes)\n", path, w->n);
	return 0;
}

static int write_seeds(const char *dir)
{
	struct model_opts o = default_model;
	struct gw *w;
	int rc = 0;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		perror(dir);
		return 1;
	}
	w = gw_new();
	build_rich(w);
	rc |= write_file(dir, "rich.gguf", w);
	gw_free(w);
	w = gw_new();
	build_model(w, &o);
	rc |= write_file(dir, "tiny-llama.gguf", w);
	gw_free(w);
	w = gw_new();
	o.weights = false;
	build_model(w, &o);
	rc |= write_file(dir, "vocab-only.gguf", w);
	gw_free(w);
	w = gw_new();
	build_nested(w, LX_GGUF_MAX_NESTING);
	rc |= write_file(dir, "nested8.gguf", w);
	gw_free(w);
	return rc;
}

/* ---------------------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	struct model_opts o = default_model;
	struct gw *rich, *model, *vocab;
	double t0 = now_s();
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--write-seeds") == 0 && i + 1 < argc)
			return write_seeds(argv[i + 1]);
		if (strcmp(argv[i], "-v") == 0) {
			verbose = true;
		} else {
			fprintf(stderr, "usage: %s [-v] [--write-seeds DIR]\n",
				argv[0]);
			return 2;
		}
	}
	/* A hang fails the test instead of stalling the run. */
	alarm(600);
#ifndef UNDER_ASAN
	{
		/* A giant allocation for a lying count fails loudly. */
		struct rlimit rl = { 2ull << 30, 2ull << 30 };

		if (setrlimit(RLIMIT_AS, &rl) != 0)
			perror("setrlimit");
	}
#endif
	rich = gw_new();
	build_rich(rich);
	model = gw_new();
	build_model(model, &o);
	vocab = gw_new();
	o.weights = false;
	build_model(vocab, &o);

	test_valid_rich();
	test_valid_models();
	test_named();
	test_truncation("rich", rich, true);
	test_truncation("model", model, true);
	test_truncation("vocab", vocab, true);
	test_fields("rich", rich, true);
	test_fields("model", model, true);
	test_fields("vocab", vocab, true);
	test_flips("rich", rich, true);
	test_flips("model", model, true);
	test_flips("vocab", vocab, true);

	printf("gguf_malformed: files of %zu, %zu and %zu bytes with %d, %d and %d recorded fields\n",
	       rich->n, model->n, vocab->n, rich->nf, model->nf, vocab->nf);
	printf("gguf_malformed: %lu corrupted variants: %lu rejected by the reader, %lu accepted and in bounds; %lu model loads: %lu rejected, %lu loaded; %lu named rejections; %.1f s\n",
	       st.variants, st.rejected, st.accepted, st.loads,
	       st.load_rejected, st.loaded, st.named, now_s() - t0);
	gw_free(rich);
	gw_free(model);
	gw_free(vocab);
	return tl_finish("test_gguf_malformed");
}
