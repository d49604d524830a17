// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer harness for the GGUF reader and the model/vocabulary loader. Any
 * input must be either rejected with a message or parsed into tables whose
 * keys, values and tensors all lie inside the input, with exact tensor sizes
 * and no overlaps. A parsed file is walked with every getter; then the input
 * is loaded through the public API (vocab only, then full) and a short text
 * is tokenized and detokenized. A broken invariant aborts, so libFuzzer
 * reports it with the input. Seeds: fuzz/seeds (tests/test_gguf_malformed
 * --write-seeds DIR makes them).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "platform.h"
#include "quant.h"
#include "llamux/llamux.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                       \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "fuzz_gguf: %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);                           \
			abort();                                            \
		}                                                           \
	} while (0)

static const unsigned int vsize[LX_GGUF_VTYPE_COUNT] = {
	1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8
};

static bool inside(const void *p, uint64_t n, const void *base, uint64_t size)
{
	uintptr_t q = (uintptr_t)p, b = (uintptr_t)base;

	return q >= b && q - b <= size && n <= size - (q - b);
}

static bool c_string(const struct lx_gguf_str *s, char *out, size_t cap)
{
	if (s->len >= cap || memchr(s->ptr, '\0', s->len))
		return false;
	memcpy(out, s->ptr, s->len);
	out[s->len] = '\0';
	return true;
}

static void walk_kv(const struct lx_gguf *g, const struct lx_gguf_kv *kv,
		    bool lookups)
{
	struct lx_err err;
	char text[96], key[300];
	uint64_t i;

	REQUIRE(kv->key.len && inside(kv->key.ptr, kv->key.len, g->base, g->size));
	REQUIRE(kv->type < LX_GGUF_VTYPE_COUNT);
	REQUIRE(inside(kv->value, kv->value_size, g->base, g->size));
	lx_gguf_value_to_text(kv, text, sizeof(text));
	REQUIRE(memchr(text, '\0', sizeof(text)));

	if (kv->type == LX_GGUF_ARRAY) {
		REQUIRE(kv->arr_type < LX_GGUF_VTYPE_COUNT);
		if (vsize[kv->arr_type]) {
			REQUIRE(kv->value_size ==
				kv->arr_count * vsize[kv->arr_type]);
			if (kv->arr_count) {
				(void)lx_gguf_arr_int(kv, 0);
				(void)lx_gguf_arr_f32(kv, kv->arr_count - 1);
			}
		} else if (kv->arr_type == LX_GGUF_STRING) {
			struct lx_gguf_str *s;

			REQUIRE(lx_gguf_arr_strings(kv, &s, &err));
			for (i = 0; i < kv->arr_count; i++)
				REQUIRE(inside(s[i].ptr, s[i].len, kv->value,
					       kv->value_size));
			lx_host_free(s);
		}
	} else if (kv->type != LX_GGUF_STRING) {
		REQUIRE(kv->value_size == vsize[kv->type]);
	}

	if (lookups && c_string(&kv->key, key, sizeof(key))) {
		const struct lx_gguf_kv *arr;
		struct lx_gguf_str s;
		uint32_t u;
		float f;
		bool b;

		REQUIRE(lx_gguf_find(g, key) == kv);
		if (!lx_gguf_get_u32(g, key, &u, false, &err))
			REQUIRE(err.msg[0]);
		if (!lx_gguf_get_f32(g, key, &f, false, &err))
			REQUIRE(err.msg[0]);
		if (!lx_gguf_get_bool(g, key, &b, false, &err))
			REQUIRE(err.msg[0]);
		if (lx_gguf_get_str(g, key, &s, false, &err))
			REQUIRE(inside(s.ptr, s.len, g->base, g->size));
		else
			REQUIRE(err.msg[0]);
		if (!lx_gguf_get_arr(g, key, LX_GGUF_F32, &arr, false, &err))
			REQUIRE(err.msg[0]);
	}
}

static void walk_tensor(const struct lx_gguf *g, const struct lx_gguf_tensor *t,
			bool lookups)
{
	const struct lx_type_traits *tt = lx_type_traits(t->type);
	uint64_t n = 1, bytes;
	char name[300];
	uint32_t d;

	REQUIRE(tt);
	REQUIRE(t->n_dims >= 1 && t->n_dims <= LX_GGUF_MAX_DIMS);
	REQUIRE(t->name.len && t->name.len <= LX_GGUF_MAX_NAME &&
		inside(t->name.ptr, t->name.len, g->base, g->size));
	for (d = 0; d < LX_GGUF_MAX_DIMS; d++) {
		REQUIRE(t->ne[d] && (d < t->n_dims || t->ne[d] == 1));
		REQUIRE(!__builtin_mul_overflow(n, t->ne[d], &n));
	}
	REQUIRE(n == t->n_elements && n <= (uint64_t)INT64_MAX);
	REQUIRE(t->ne[0] % tt->block_size == 0);
	REQUIRE(!__builtin_mul_overflow(t->ne[0] / tt->block_size,
					(uint64_t)tt->type_size, &bytes));
	REQUIRE(!__builtin_mul_overflow(bytes, n / t->ne[0], &bytes));
	REQUIRE(bytes == t->size);
	REQUIRE(t->offset % g->alignment == 0);
	REQUIRE(t->offset <= g->data_size && t->size <= g->data_size - t->offset);
	REQUIRE(t->data == g->base + g->data_offset + t->offset);
	if (t->size) {
		const volatile uint8_t *p = t->data;

		(void)p[0];
		(void)p[t->size - 1];
	}
	if (lookups && c_string(&t->name, name, sizeof(name)))
		REQUIRE(lx_gguf_find_tensor(g, name) == t);
}

static void walk(const struct lx_gguf *g, const uint8_t *data, size_t size)
{
	uint64_t i, j;

	REQUIRE(g->base == data && g->size == size);
	REQUIRE(g->version == 2 || g->version == 3);
	REQUIRE(g->alignment && !(g->alignment & (g->alignment - 1)));
	REQUIRE(g->data_offset <= size && g->data_size == size - g->data_offset);
	REQUIRE(!g->n_tensors || g->data_offset % g->alignment == 0);
	/* Lookups are linear in the keys: only for the first few. */
	for (i = 0; i < g->n_kv; i++)
		walk_kv(g, &g->kv[i], i < 64);
	for (i = 0; i < g->n_tensors; i++)
		walk_tensor(g, &g->tensors[i], i < 1024);
	/* Names are never empty (a fixed name could be in the input). */
	REQUIRE(!lx_gguf_find_tensor(g, ""));
	if (g->n_tensors > 128)
		return;
	for (i = 0; i < g->n_tensors; i++)
		for (j = i + 1; j < g->n_tensors; j++) {
			const struct lx_gguf_tensor *a = &g->tensors[i];
			const struct lx_gguf_tensor *b = &g->tensors[j];

			REQUIRE(a->offset + a->size <= b->offset ||
				b->offset + b->size <= a->offset);
		}
}

static void use_model(const struct llamux_model *m)
{
	static const char text[] = "Hello world! hi ab <s>\n \xe2\x96\x81<|user|>x\xc3";
	struct llamux_model_info info;
	struct llamux_tensor_info ti;
	int32_t toks[64], n_vocab = llamux_n_vocab(m);
	char buf[512];
	uint64_t i;
	int k;

	llamux_model_get_info(m, &info);
	REQUIRE(n_vocab > 0 && (uint32_t)n_vocab == info.n_vocab);
	REQUIRE(info.bos >= -1 && info.bos < n_vocab);
	REQUIRE(info.eos >= -1 && info.eos < n_vocab);
	for (i = 0; i < llamux_model_n_meta(m) && i < 64; i++) {
		const char *key;
		size_t key_len;

		REQUIRE(llamux_model_meta(m, i, &key, &key_len, buf, sizeof(buf)));
	}
	for (i = 0; i < llamux_model_n_tensors(m) && i < 64; i++)
		REQUIRE(llamux_model_tensor(m, i, &ti) && ti.type);
	for (k = 0; k < 4; k++) {
		struct llamux_detok d = { { 0 }, 0 };
		int64_t n, j;

		n = llamux_tokenize(m, text, sizeof(text) - 1, k & 1, k & 2, toks,
				    64);
		REQUIRE(n >= 0);
		for (j = 0; j < n && j < 64; j++) {
			REQUIRE(toks[j] >= 0 && toks[j] < n_vocab);
			(void)llamux_token_to_piece(m, toks[j], true, buf,
						    sizeof(buf));
			(void)llamux_detok_push(m, &d, toks[j], buf, sizeof(buf));
		}
		(void)llamux_detok_flush(&d, buf, sizeof(buf));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned int flags[] = { LLAMUX_LOAD_VOCAB_ONLY, 0 };
	struct lx_gguf g;
	struct lx_err err;
	bool parsed;
	size_t i;

	parsed = lx_gguf_parse(&g, data, size, &err);
	if (parsed) {
		walk(&g, data, size);
		lx_gguf_free(&g);
	} else {
		REQUIRE(err.msg[0] && memchr(err.msg, '\0', sizeof(err.msg)));
		REQUIRE(!g.kv && !g.tensors && !g.by_name);
	}

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		char msg[LLAMUX_ERR_MAX] = "";
		struct llamux_model *m;

		m = llamux_model_load_memory(data, size, flags[i], msg);
		if (!m) {
			REQUIRE(msg[0] && memchr(msg, '\0', sizeof(msg)));
			continue;
		}
		REQUIRE(parsed);
		use_model(m);
		llamux_model_free(m);
	}
	return 0;
}
