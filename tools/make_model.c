// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * llamux mkmodel's engine. The tensor list and metadata are those
 * convert_hf_to_gguf.py writes for a Llama model (token_embd, per block
 * attn_norm, attn_q/k/v, attn_output, ffn_norm, ffn_gate/up/down, then
 * output_norm and output unless the embeddings are tied); types come from
 * llama.cpp's mixture rules as if the model were quantized from F32.
 *
 * Every row is generated from its own seed (the user's seed, the tensor's
 * name, the row number), so the weights do not depend on the thread count
 * or the output type: a Q4_0 model is the quantization of the F32 one with
 * the same seed.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "gguf_writer.h"
#include "llamux/llamux.h"
#include "make_model.h"
#include "platform.h"
#include "progress.h"
#include "rng.h"
#include "row_pipeline.h"

#define GGML_QNT_VERSION 2
#define MAX_TENSORS (3 + 9 * 1024)

static int fail(char *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, LLAMUX_ERR_MAX, fmt, ap);
	va_end(ap);
	return 0;
}

struct gen_tensor {
	char name[64];
	uint32_t n_dims;
	uint64_t ne[4];
	bool norm;		/* 1 +- 0.1 instead of N(0, 1/fan_in) */
	uint64_t seed;
	float sd;
};

static bool gen_row(void *ctx, uint64_t row, float *out, char *err)
{
	const struct gen_tensor *t = ctx;
	struct lt_rng rng;
	uint64_t i;

	(void)err;
	lt_rng_seed(&rng, t->seed ^ lt_mix64(row + 0x5851f42d4c957f2dull));
	if (t->norm) {
		for (i = 0; i < t->ne[0]; i++)
			out[i] = 0.9f + 0.2f * lt_rng_uniform(&rng);
	} else {
		lt_rng_normal(&rng, out, t->ne[0], t->sd);
	}
	return true;
}

static uint32_t add(struct gen_tensor *t, uint32_t n, const char *name,
		    uint64_t ne0, uint64_t ne1, uint64_t seed)
{
	struct gen_tensor *x = &t[n];

	memset(x, 0, sizeof(*x));
	snprintf(x->name, sizeof(x->name), "%s", name);
	x->n_dims = ne1 ? 2 : 1;
	x->ne[0] = ne0;
	x->ne[1] = ne1 ? ne1 : 1;
	x->ne[2] = 1;
	x->ne[3] = 1;
	x->norm = !ne1;
	x->seed = seed ^ lt_hash_str(name);
	x->sd = (float)(1.0 / sqrt((double)ne0));
	return n + 1;
}

/* The tensors of a Llama model, in convert_hf_to_gguf.py's order. */
static uint32_t tensor_list(const struct lt_shape *s, uint32_t n_vocab,
			    uint64_t seed, struct gen_tensor *t)
{
	uint64_t head_dim = s->n_embd / s->n_head;
	uint64_t n_q = head_dim * s->n_head, n_kv = head_dim * s->n_head_kv;
	uint32_t n = 0, l;
	char name[64];

	n = add(t, n, "token_embd.weight", s->n_embd, n_vocab, seed);
	for (l = 0; l < s->n_layer; l++) {
#define BLK(x) (snprintf(name, sizeof(name), "blk.%u." x ".weight", l), name)
		n = add(t, n, BLK("attn_norm"), s->n_embd, 0, seed);
		n = add(t, n, BLK("attn_q"), s->n_embd, n_q, seed);
		n = add(t, n, BLK("attn_k"), s->n_embd, n_kv, seed);
		n = add(t, n, BLK("attn_v"), s->n_embd, n_kv, seed);
		n = add(t, n, BLK("attn_output"), n_q, s->n_embd, seed);
		n = add(t, n, BLK("ffn_norm"), s->n_embd, 0, seed);
		n = add(t, n, BLK("ffn_gate"), s->n_embd, s->n_ff, seed);
		n = add(t, n, BLK("ffn_up"), s->n_embd, s->n_ff, seed);
		n = add(t, n, BLK("ffn_down"), s->n_ff, s->n_embd, seed);
#undef BLK
	}
	n = add(t, n, "output_norm.weight", s->n_embd, 0, seed);
	if (!s->tied)
		n = add(t, n, "output.weight", s->n_embd, n_vocab, seed);
	return n;
}

/* Opens the vocabulary file and checks it has tokens. */
static bool open_vocab(const struct lt_make_params *p, struct lx_host_file *f,
		       struct lx_gguf *g, uint32_t *n_vocab, char *err)
{
	const struct lx_gguf_kv *tok;
	struct lx_err lerr;

	if (!lx_host_file_open(p->vocab_path, f, &lerr))
		return fail(err, "vocabulary '%s': %s", p->vocab_path, lerr.msg);
	if (!lx_gguf_parse(g, f->data, f->size, &lerr))
		return fail(err, "vocabulary '%s': %s", p->vocab_path, lerr.msg);
	tok = lx_gguf_find(g, "tokenizer.ggml.tokens");
	if (!tok || tok->type != LX_GGUF_ARRAY ||
	    tok->arr_type != LX_GGUF_STRING || !tok->arr_count ||
	    !lx_gguf_find(g, "tokenizer.ggml.model"))
		return fail(err, "vocabulary '%s' has no tokenizer (tokenizer.ggml.model and .tokens); give a GGUF model or vocabulary file such as ggml-vocab-llama-spm.gguf",
			    p->vocab_path);
	if (tok->arr_count > 0x7fffffffu)
		return fail(err, "vocabulary '%s' has too many tokens",
			    p->vocab_path);
	*n_vocab = (uint32_t)tok->arr_count;
	if (p->shape->n_vocab && *n_vocab != p->shape->n_vocab)
		return fail(err, "vocabulary '%s' has %u tokens but %s needs %u; give a vocabulary of that size",
			    p->vocab_path, *n_vocab, p->shape->name,
			    p->shape->n_vocab);
	return true;
}

static bool set_metadata(struct lt_gguf_writer *w,
			 const struct lt_make_params *p, uint32_t n_vocab,
			 const struct lx_gguf *vocab)
{
	const struct lt_shape *s = p->shape;
	char name[128];
	uint64_t i;
	bool ok;

	if (p->name)
		snprintf(name, sizeof(name), "%s", p->name);
	else
		snprintf(name, sizeof(name), "%s (random, seed %llu)", s->title,
			 (unsigned long long)p->seed);
	ok = lt_gguf_set_str(w, "general.architecture", "llama") &&
	     lt_gguf_set_str(w, "general.name", name) &&
	     lt_gguf_set_u32(w, "llama.context_length", s->n_ctx) &&
	     lt_gguf_set_u32(w, "llama.embedding_length", s->n_embd) &&
	     lt_gguf_set_u32(w, "llama.block_count", s->n_layer) &&
	     lt_gguf_set_u32(w, "llama.feed_forward_length", s->n_ff) &&
	     lt_gguf_set_u32(w, "llama.attention.head_count", s->n_head) &&
	     lt_gguf_set_u32(w, "llama.attention.head_count_kv", s->n_head_kv) &&
	     lt_gguf_set_u32(w, "llama.rope.dimension_count",
			     s->n_embd / s->n_head) &&
	     lt_gguf_set_f32(w, "llama.rope.freq_base", s->rope_base) &&
	     lt_gguf_set_f32(w, "llama.attention.layer_norm_rms_epsilon",
			     s->norm_eps) &&
	     lt_gguf_set_u32(w, "llama.vocab_size", n_vocab) &&
	     lt_gguf_set_u32(w, "general.file_type", (uint32_t)p->ftype->ftype) &&
	     lt_gguf_set_u32(w, "general.quantization_version",
			     GGML_QNT_VERSION);
	for (i = 0; ok && i < vocab->n_kv; i++) {
		const struct lx_gguf_kv *kv = &vocab->kv[i];

		if (kv->key.len > 10 && !memcmp(kv->key.ptr, "tokenizer.", 10))
			ok = lt_gguf_copy_kv(w, kv);
	}
	return ok;
}

struct progress_ctx {
	struct lt_progress bar;
	char note[96];
};

static void on_progress(void *ctx, uint64_t bytes)
{
	struct progress_ctx *pc = ctx;

	lt_progress_update(&pc->bar, bytes, pc->note);
}

static bool check_shape(const struct lt_shape *s, char *err)
{
	if (!s->n_head || !s->n_head_kv || s->n_embd % s->n_head ||
	    s->n_head % s->n_head_kv || !s->n_layer || !s->n_ff ||
	    9ull * s->n_layer + 3 > MAX_TENSORS)
		return fail(err, "shape '%s' is inconsistent", s->name);
	return true;
}

bool lt_make_model(const struct lt_make_params *p, struct lt_make_result *r,
		   char *err)
{
	struct lx_host_file vf = { 0 };
	struct lx_gguf vg = { 0 };
	struct gen_tensor *gt = NULL;
	struct lt_mix_tensor *mt = NULL;
	uint32_t *order = NULL, n, i, n_vocab = 0;
	struct lt_gguf_writer *w = NULL;
	struct lt_pipeline *pl = NULL;
	struct lt_mix_model m;
	struct progress_ctx pc;
	uint64_t t0 = lt_now_ns();
	bool ok = false;

	memset(r, 0, sizeof(*r));
	memset(&pc, 0, sizeof(pc));
	if (!check_shape(p->shape, err) ||
	    !open_vocab(p, &vf, &vg, &n_vocab, err))
		goto out;
	r->n_vocab = n_vocab;
	gt = calloc(MAX_TENSORS, sizeof(*gt));
	mt = calloc(MAX_TENSORS, sizeof(*mt));
	order = calloc(MAX_TENSORS, sizeof(*order));
	w = lt_gguf_writer_new();
	if (!gt || !mt || !order || !w) {
		fail(err, "out of memory");
		goto out;
	}
	n = tensor_list(p->shape, n_vocab, lt_mix64(p->seed), gt);
	memset(&m, 0, sizeof(m));
	snprintf(m.arch, sizeof(m.arch), "llama");
	m.n_layer = p->shape->n_layer;
	m.n_head = p->shape->n_head;
	m.n_head_kv = p->shape->n_head_kv;
	for (i = 0; i < n; i++) {
		mt[i].name = gt[i].name;
		mt[i].n_dims = gt[i].n_dims;
		memcpy(mt[i].ne, gt[i].ne, sizeof(mt[i].ne));
		mt[i].type = LX_TYPE_F32;
	}
	r->n_fallback = lt_mix_plan(&m, p->ftype, p->pure, mt, n, order);
	if (!set_metadata(w, p, n_vocab, &vg)) {
		fail(err, "out of memory for the metadata");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!lt_gguf_add_tensor(w, gt[i].name, strlen(gt[i].name),
					gt[i].n_dims, gt[i].ne, mt[i].new_type,
					err))
			goto out;
		r->n_params += gt[i].ne[0] * gt[i].ne[1];
		r->bytes += lt_gguf_tensor_bytes(w, i);
	}
	r->n_tensors = n;
	pl = lt_pipeline_new(w, p->n_threads, err);
	if (!pl)
		goto out;
	r->n_threads = lt_pipeline_threads(pl);
	lt_progress_begin(&pc.bar, p->progress, lt_gguf_data_bytes(w));
	lt_pipeline_on_progress(pl, on_progress, &pc);
	if (!lt_gguf_open(w, p->out_path, err))
		goto out;
	for (i = 0; i < n; i++) {
		snprintf(pc.note, sizeof(pc.note), "%s %s", gt[i].name,
			 lx_type_traits(mt[i].new_type)->name);
		if (!lt_pipeline_rows(pl, mt[i].new_type, gt[i].ne[0],
				      gt[i].ne[1], gen_row, &gt[i], gt[i].name,
				      err))
			goto out;
	}
	if (!lt_pipeline_finish(pl, err) || !lt_gguf_commit(w, err))
		goto out;
	ok = true;
out:
	lt_progress_end(&pc.bar);
	lt_pipeline_free(pl);
	lt_gguf_writer_free(w);
	free(gt);
	free(mt);
	free(order);
	lx_gguf_free(&vg);
	lx_host_file_close(&vf);
	r->seconds = (double)(lt_now_ns() - t0) / 1e9;
	return ok;
}
