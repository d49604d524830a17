// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * llamux quantize's engine: reads a GGUF file (mapped, checked by the
 * core's reader), plans the output types with llama.cpp's rules, and
 * streams the new file through the row pipeline: unchanged tensors are
 * copied, the others are dequantized row by row (the core's to_float) and
 * quantized again. The metadata is copied as ggml's gguf_set_kv does, then
 * general.quantization_version and general.file_type are set (moving them
 * to the end) and split keys dropped, so that the output is the file
 * llama-quantize would write.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gguf.h"
#include "gguf_writer.h"
#include "llamux/llamux.h"
#include "platform.h"
#include "progress.h"
#include "quantize_model.h"
#include "quantize_weights.h"
#include "row_pipeline.h"

#define GGML_QNT_VERSION 2

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

/* A numeric key as u32 whatever its integer type; arrays give element 0. */
static uint32_t get_u32(const struct lx_gguf *g, const char *key)
{
	const struct lx_gguf_kv *kv = lx_gguf_find(g, key);
	uint32_t type;
	int64_t v;

	if (!kv)
		return 0;
	type = kv->type;
	if (type == LX_GGUF_ARRAY) {
		if (!kv->arr_count || kv->arr_type > LX_GGUF_I64 ||
		    kv->arr_type == LX_GGUF_STRING ||
		    kv->arr_type == LX_GGUF_ARRAY || kv->arr_type == LX_GGUF_F32 ||
		    kv->arr_type == LX_GGUF_BOOL)
			return 0;
		v = lx_gguf_arr_int(kv, 0);
	} else {
		switch (type) {
		case LX_GGUF_U8:
			v = kv->value[0];
			break;
		case LX_GGUF_I8:
			v = (int8_t)kv->value[0];
			break;
		case LX_GGUF_U16:
			v = kv->value[0] | kv->value[1] << 8;
			break;
		case LX_GGUF_I16:
			v = (int16_t)(kv->value[0] | kv->value[1] << 8);
			break;
		case LX_GGUF_U32:
		case LX_GGUF_I32:
		case LX_GGUF_U64:
		case LX_GGUF_I64:
			v = (int64_t)((uint64_t)kv->value[0] |
				      (uint64_t)kv->value[1] << 8 |
				      (uint64_t)kv->value[2] << 16 |
				      (uint64_t)kv->value[3] << 24);
			break;
		default:
			return 0;
		}
	}
	return v < 0 || v > 0xffffffffll ? 0 : (uint32_t)v;
}

static void model_info(const struct lx_gguf *g, struct lt_mix_model *m)
{
	const struct lx_gguf_kv *kv = lx_gguf_find(g, "general.architecture");
	char key[128];
	uint64_t len;

	memset(m, 0, sizeof(*m));
	if (kv && kv->type == LX_GGUF_STRING) {
		len = kv->value_size - 8;
		if (len < sizeof(m->arch)) {
			memcpy(m->arch, kv->value + 8, (size_t)len);
			m->arch[len] = '\0';
		}
	}
#define ARCH_KEY(suffix) \
	(snprintf(key, sizeof(key), "%s." suffix, m->arch), key)
	m->n_layer = get_u32(g, ARCH_KEY("block_count"));
	m->n_head = get_u32(g, ARCH_KEY("attention.head_count"));
	m->n_head_kv = get_u32(g, ARCH_KEY("attention.head_count_kv"));
	m->n_expert = get_u32(g, ARCH_KEY("expert_count"));
#undef ARCH_KEY
	if (!m->n_head_kv)
		m->n_head_kv = m->n_head;
}

struct src_tensor {
	const struct lx_gguf_tensor *t;
	const struct lx_type_traits *tt;
	uint64_t row_bytes;
};

static bool read_row(void *ctx, uint64_t row, float *out, char *err)
{
	const struct src_tensor *s = ctx;

	(void)err;
	s->tt->to_float((const uint8_t *)s->t->data + row * s->row_bytes, out,
			s->t->ne[0]);
	return true;
}

struct progress_ctx {
	struct lt_progress bar;
	uint64_t base;		/* bytes before the current tensor */
	char note[160];
};

static void on_progress(void *ctx, uint64_t bytes)
{
	struct progress_ctx *pc = ctx;

	lt_progress_update(&pc->bar, bytes, pc->note);
}

/* Fills tensors and plan from the input; names are copied (NUL-terminated). */
static bool plan(const struct lx_gguf *g, const struct lt_quantize_params *p,
		 struct lt_mix_tensor *mt, char *names, uint32_t *order,
		 struct lt_quantize_result *r, char *err)
{
	struct lt_mix_model m;
	uint64_t i;

	model_info(g, &m);
	for (i = 0; i < g->n_tensors; i++) {
		const struct lx_gguf_tensor *t = &g->tensors[i];
		char *name = names + i * (LX_GGUF_MAX_NAME + 1);

		memcpy(name, t->name.ptr, (size_t)t->name.len);
		name[t->name.len] = '\0';
		if (strlen(name) != t->name.len)
			return fail(err, "input '%s': tensor %llu has a NUL byte in its name",
				    p->in_path, (unsigned long long)i);
		mt[i].name = name;
		mt[i].n_dims = t->n_dims;
		memcpy(mt[i].ne, t->ne, sizeof(mt[i].ne));
		mt[i].type = (enum lx_type)t->type;
	}
	r->n_fallback = lt_mix_plan(&m, p->ftype, p->pure, mt,
				    (uint32_t)g->n_tensors, order);
	for (i = 0; i < g->n_tensors; i++) {
		const struct lt_mix_tensor *x = &mt[order[i]];
		const struct lx_type_traits *tt = lx_type_traits(x->type);

		if (x->fell_back && !r->fallback_example[0])
			snprintf(r->fallback_example,
				 sizeof(r->fallback_example),
				 "%.60s, rows of %llu -> %s", x->name,
				 (unsigned long long)x->ne[0],
				 lx_type_traits(x->new_type)->name);
		if (x->new_type == x->type)
			continue;
		if (!tt->supported || !tt->to_float)
			return fail(err, "input '%s': tensor '%s' is %s, which llamux cannot read, so it cannot be converted; llamux reads %s",
				    p->in_path, x->name, tt->name,
				    lx_supported_types());
		r->n_converted++;
		if (tt->block_size > 1)
			r->n_requantized++;
	}
	return true;
}

static bool set_metadata(struct lt_gguf_writer *w, const struct lx_gguf *g,
			 const struct lt_ftype_info *ft)
{
	uint64_t i;

	for (i = 0; i < g->n_kv; i++)
		if (!lt_gguf_copy_kv(w, &g->kv[i]))
			return false;
	if (!lt_gguf_set_u32(w, "general.quantization_version",
			     GGML_QNT_VERSION) ||
	    !lt_gguf_set_u32(w, "general.file_type", (uint32_t)ft->ftype))
		return false;
	lt_gguf_remove_kv(w, "split.no");
	lt_gguf_remove_kv(w, "split.count");
	lt_gguf_remove_kv(w, "split.tensors.count");
	return true;
}

static bool write_tensors(struct lt_pipeline *pl, const struct lx_gguf *g,
			  const struct lt_mix_tensor *mt, const uint32_t *order,
			  struct progress_ctx *pc, char *err)
{
	uint64_t i, n = g->n_tensors;

	for (i = 0; i < n; i++) {
		const struct lt_mix_tensor *x = &mt[order[i]];
		const struct lx_gguf_tensor *t = &g->tensors[order[i]];
		struct src_tensor s;

		snprintf(pc->note, sizeof(pc->note), "[%4llu/%llu] %s %s",
			 (unsigned long long)i + 1, (unsigned long long)n,
			 x->name, lx_type_traits(x->new_type)->name);
		if (x->new_type == x->type) {
			if (!lt_pipeline_copy(pl, t->data, t->size, err))
				return false;
			continue;
		}
		s.t = t;
		s.tt = lx_type_traits(t->type);
		s.row_bytes = lt_row_bytes((enum lx_type)t->type, t->ne[0]);
		if (!lt_pipeline_rows(pl, x->new_type, t->ne[0],
				      t->n_elements / t->ne[0], read_row, &s,
				      x->name, err))
			return false;
	}
	return lt_pipeline_finish(pl, err);
}

bool lt_quantize_model(const struct lt_quantize_params *p,
		       struct lt_quantize_result *r, char *err)
{
	struct lx_host_file file = { 0 };
	struct lx_gguf g = { 0 };
	struct lx_err lerr;
	struct lt_mix_tensor *mt = NULL;
	struct lt_gguf_writer *w = NULL;
	struct lt_pipeline *pl = NULL;
	struct progress_ctx pc;
	char *names = NULL;
	uint32_t *order = NULL;
	uint64_t i, t0 = lt_now_ns();
	bool ok = false;

	memset(r, 0, sizeof(*r));
	if (!lx_host_file_open(p->in_path, &file, &lerr))
		return fail(err, "input '%s': %s", p->in_path, lerr.msg);
	if (!lx_gguf_parse(&g, file.data, file.size, &lerr)) {
		fail(err, "input '%s': %s", p->in_path, lerr.msg);
		goto out;
	}
	if (g.n_tensors == 0) {
		fail(err, "input '%s' has no tensors (a vocabulary-only GGUF?); give a model file",
		     p->in_path);
		goto out;
	}
	mt = calloc(g.n_tensors, sizeof(*mt));
	order = calloc(g.n_tensors, sizeof(*order));
	names = malloc(g.n_tensors * (LX_GGUF_MAX_NAME + 1));
	w = lt_gguf_writer_new();
	if (!mt || !order || !names || !w) {
		fail(err, "out of memory for %llu tensors",
		     (unsigned long long)g.n_tensors);
		goto out;
	}
	if (!plan(&g, p, mt, names, order, r, err))
		goto out;
	if (!set_metadata(w, &g, p->ftype)) {
		fail(err, "out of memory copying the metadata");
		goto out;
	}
	for (i = 0; i < g.n_tensors; i++) {
		const struct lt_mix_tensor *x = &mt[order[i]];

		if (!lt_gguf_add_tensor(w, x->name, strlen(x->name), x->n_dims,
					x->ne, x->new_type, err))
			goto out;
		r->in_bytes += g.tensors[order[i]].size;
		r->out_bytes += lt_gguf_tensor_bytes(w, i);
		r->n_elements += g.tensors[order[i]].n_elements;
	}
	r->n_tensors = g.n_tensors;
	pl = lt_pipeline_new(w, p->n_threads, err);
	if (!pl)
		goto out;
	r->n_threads = lt_pipeline_threads(pl);
	memset(&pc, 0, sizeof(pc));
	lt_progress_begin(&pc.bar, p->progress, lt_gguf_data_bytes(w));
	lt_pipeline_on_progress(pl, on_progress, &pc);
	if (!lt_gguf_open(w, p->out_path, err))
		goto out_bar;
	if (!write_tensors(pl, &g, mt, order, &pc, err))
		goto out_bar;
	if (!lt_gguf_commit(w, err))
		goto out_bar;
	ok = true;
out_bar:
	lt_progress_end(&pc.bar);
out:
	lt_pipeline_free(pl);
	lt_gguf_writer_free(w);
	free(mt);
	free(order);
	free(names);
	lx_gguf_free(&g);
	lx_host_file_close(&file);
	r->seconds = (double)(lt_now_ns() - t0) / 1e9;
	return ok;
}
