// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The vocabulary: token texts, scores and types from tokenizer.ggml.*, an
 * index from text to id, special-token handling, and the way back from ids to
 * text (including a streaming detokenizer that never splits a UTF-8
 * character). The splitting of text into tokens lives in tokenize_*.c.
 */
#include "model.h"

static int cmp_text(const struct lx_gguf_str *t, const char *s, size_t n)
{
	int r = memcmp(t->ptr, s, LX_MIN((size_t)t->len, n));

	if (r)
		return r;
	return t->len < n ? -1 : t->len > n;
}

int32_t lx_vocab_find(const struct lx_vocab *v, const char *s, size_t n)
{
	uint32_t lo = 0, hi = v->n;

	if (!v->sorted)
		return -1;
	/* Lower bound: among equal texts, the lowest id (sorted first). */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (cmp_text(&v->text[v->sorted[mid]], s, n) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < v->n && cmp_text(&v->text[v->sorted[lo]], s, n) == 0)
		return (int32_t)v->sorted[lo];
	return -1;
}

static int cmp_token(const void *a, const void *b, void *arg)
{
	const struct lx_vocab *v = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int r = cmp_text(&v->text[x], v->text[y].ptr, v->text[y].len);

	if (r)
		return r;
	return x < y ? -1 : x > y;
}

/*
 * A sorted index rather than a hash table: the token texts come from the
 * file, and a crafted vocabulary could make a hash table's probes
 * quadratic. Sorting is O(n log n) whatever the texts are.
 */
static bool build_index(struct lx_vocab *v, struct lx_err *err)
{
	uint32_t id;

	v->sorted = lx_host_alloc((size_t)v->n * sizeof(*v->sorted));
	if (!v->sorted)
		return lx_fail(err, "out of memory indexing %u tokens", v->n);
	for (id = 0; id < v->n; id++) {
		v->sorted[id] = id;
		if (v->text[id].len > v->max_token_len)
			v->max_token_len = (uint32_t)LX_MIN(v->text[id].len,
							    UINT32_MAX);
	}
	lx_sort(v->sorted, v->n, sizeof(*v->sorted), cmp_token, v);
	return true;
}

static bool get_token_id(const struct lx_gguf *g, const char *key,
			 int32_t *id, uint32_t n, struct lx_err *err)
{
	uint32_t v;

	if (!lx_gguf_get_u32(g, key, &v, false, err))
		return !err->msg[0];
	if (v >= n)
		return lx_fail(err, "%s is %u but the vocabulary has only %u tokens",
			       key, v, n);
	*id = (int32_t)v;
	return true;
}

static int cmp_special_len(const void *a, const void *b, void *arg)
{
	const struct lx_vocab *v = arg;
	uint64_t x = v->text[*(const uint32_t *)a].len;
	uint64_t y = v->text[*(const uint32_t *)b].len;

	if (x != y)
		return x > y ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static bool index_specials(struct lx_vocab *v, struct lx_err *err)
{
	uint32_t id, n = 0;

	for (id = 0; id < v->n; id++)
		if ((v->types[id] == LX_TOKEN_CONTROL ||
		     v->types[id] == LX_TOKEN_USER_DEFINED) && v->text[id].len)
			n++;
	v->specials = lx_host_alloc((n + 1) * sizeof(*v->specials));
	if (!v->specials)
		return lx_fail(err, "out of memory for special tokens");
	for (id = 0; id < v->n; id++)
		if ((v->types[id] == LX_TOKEN_CONTROL ||
		     v->types[id] == LX_TOKEN_USER_DEFINED) && v->text[id].len)
			v->specials[v->n_specials++] = id;
	lx_sort(v->specials, v->n_specials, sizeof(uint32_t), cmp_special_len, v);
	return true;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "<0xNN>" -> NN, else -1. */
static int byte_of_token(const struct lx_gguf_str *t)
{
	int hi, lo;

	if (t->len != 6 || memcmp(t->ptr, "<0x", 3) != 0 || t->ptr[5] != '>')
		return -1;
	hi = hex_digit(t->ptr[3]);
	lo = hex_digit(t->ptr[4]);
	return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

bool lx_vocab_load(struct lx_vocab *v, const struct lx_gguf *g,
		   struct lx_err *err)
{
	const struct lx_gguf_kv *tokens, *arr;
	struct lx_gguf_str model;
	uint32_t id;
	int b;

	memset(v, 0, sizeof(*v));
	if (!lx_gguf_get_str(g, "tokenizer.ggml.model", &model, true, err))
		return false;
	if (!lx_str_eq(model.ptr, model.len, "llama"))
		return lx_fail(err, "tokenizer '%.*s' is not supported (supported: llama)",
			       (int)LX_MIN(model.len, 64), model.ptr);
	v->kind = LX_VOCAB_SPM;
	if (!lx_gguf_get_arr(g, "tokenizer.ggml.tokens", LX_GGUF_STRING, &tokens,
			     true, err))
		return false;
	if (tokens->arr_count == 0 || tokens->arr_count > INT32_MAX / 2)
		return lx_fail(err, "tokenizer.ggml.tokens has %llu tokens",
			       (unsigned long long)tokens->arr_count);
	v->n = (uint32_t)tokens->arr_count;
	if (!lx_gguf_arr_strings(tokens, &v->text, err))
		return false;

	v->scores = lx_host_alloc((size_t)v->n * sizeof(float));
	v->types = lx_host_alloc(v->n);
	if (!v->scores || !v->types)
		return lx_fail(err, "out of memory for %u tokens", v->n);
	if (lx_gguf_get_arr(g, "tokenizer.ggml.scores", LX_GGUF_F32, &arr, false,
			    err)) {
		if (arr->arr_count != v->n)
			return lx_fail(err, "tokenizer.ggml.scores has %llu entries for %u tokens",
				       (unsigned long long)arr->arr_count, v->n);
		for (id = 0; id < v->n; id++)
			v->scores[id] = lx_gguf_arr_f32(arr, id);
	} else if (err->msg[0]) {
		return false;
	}
	for (id = 0; id < v->n; id++)
		v->types[id] = LX_TOKEN_NORMAL;
	if (lx_gguf_get_arr(g, "tokenizer.ggml.token_type", LX_GGUF_I32, &arr,
			    false, err)) {
		if (arr->arr_count != v->n)
			return lx_fail(err, "tokenizer.ggml.token_type has %llu entries for %u tokens",
				       (unsigned long long)arr->arr_count, v->n);
		for (id = 0; id < v->n; id++) {
			int64_t t = lx_gguf_arr_int(arr, id);

			if (t < 0 || t > LX_TOKEN_BYTE)
				return lx_fail(err, "tokenizer.ggml.token_type[%u] is %lld, not a token type",
					       id, (long long)t);
			v->types[id] = (uint8_t)t;
		}
	} else if (err->msg[0]) {
		return false;
	}

	/* SentencePiece defaults, as llama.cpp uses when keys are absent. */
	v->bos = v->n > 1 ? 1 : -1;
	v->eos = v->n > 2 ? 2 : -1;
	v->unk = 0;
	v->eot = -1;
	v->add_bos = true;
	v->add_eos = false;
	v->add_space_prefix = true;
	if (!get_token_id(g, "tokenizer.ggml.bos_token_id", &v->bos, v->n, err) ||
	    !get_token_id(g, "tokenizer.ggml.eos_token_id", &v->eos, v->n, err) ||
	    !get_token_id(g, "tokenizer.ggml.unknown_token_id", &v->unk, v->n,
			  err) ||
	    !get_token_id(g, "tokenizer.ggml.eot_token_id", &v->eot, v->n, err))
		return false;
	if ((!lx_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &v->add_bos,
			       false, err) && err->msg[0]) ||
	    (!lx_gguf_get_bool(g, "tokenizer.ggml.add_eos_token", &v->add_eos,
			       false, err) && err->msg[0]) ||
	    (!lx_gguf_get_bool(g, "tokenizer.ggml.add_space_prefix",
			       &v->add_space_prefix, false, err) && err->msg[0]))
		return false;

	if (!build_index(v, err) || !index_specials(v, err))
		return false;
	for (b = 0; b < 256; b++) {
		char hex[8];

		lx_snprintf(hex, sizeof(hex), "<0x%02X>", b);
		v->byte_token[b] = lx_vocab_find(v, hex, 6);
		if (v->byte_token[b] < 0) {
			char c = (char)b;

			v->byte_token[b] = lx_vocab_find(v, &c, 1);
		}
	}
	return true;
}

void lx_vocab_free(struct lx_vocab *v)
{
	lx_host_free(v->text);
	lx_host_free(v->scores);
	lx_host_free(v->types);
	lx_host_free(v->sorted);
	lx_host_free(v->specials);
	memset(v, 0, sizeof(*v));
}

int32_t llamux_n_vocab(const struct llamux_model *m)
{
	return (int32_t)m->vocab.n;
}

int32_t llamux_token_bos(const struct llamux_model *m)
{
	return m->vocab.bos;
}

int32_t llamux_token_eos(const struct llamux_model *m)
{
	return m->vocab.eos;
}

bool llamux_token_is_eog(const struct llamux_model *m, int32_t token)
{
	return token >= 0 && (token == m->vocab.eos || token == m->vocab.eot);
}

/* Longest special token (control only when parse_special) at s, or -1. */
static int32_t match_special(const struct lx_vocab *v, const char *s,
			     size_t n, bool parse_special)
{
	uint32_t i;

	for (i = 0; i < v->n_specials; i++) {
		uint32_t id = v->specials[i];
		const struct lx_gguf_str *t = &v->text[id];

		if (!parse_special && v->types[id] == LX_TOKEN_CONTROL)
			continue;
		if (t->len <= n && memcmp(t->ptr, s, t->len) == 0)
			return (int32_t)id;
	}
	return -1;
}

static bool emit(int32_t tok, int32_t *out, size_t cap, size_t *n)
{
	if (*n < cap)
		out[*n] = tok;
	(*n)++;
	return true;
}

int64_t llamux_tokenize(const struct llamux_model *m, const char *text,
			size_t len, bool add_special, bool parse_special,
			int32_t *out, size_t cap)
{
	const struct lx_vocab *v = &m->vocab;
	bool prev_special = true;	/* SPM prefixes the first text with a space */
	struct lx_err err;
	size_t n = 0, pos = 0;

	if (v->kind != LX_VOCAB_SPM || (!text && len))
		return LLAMUX_ERR_INVALID;
	if (add_special && v->add_bos && v->bos >= 0)
		emit(v->bos, out, cap, &n);
	while (pos < len) {
		size_t end = pos, sub;
		int32_t special = -1;

		/* Text runs until the next special token (if any). */
		while (end < len && v->n_specials &&
		       (special = match_special(v, text + end, len - end,
						parse_special)) < 0)
			end++;
		if (!v->n_specials)
			end = len;
		if (end > pos) {
			if (!lx_tokenize_spm(v, text + pos, end - pos, prev_special,
					     out + LX_MIN(n, cap),
					     cap - LX_MIN(n, cap), &sub, &err))
				return LLAMUX_ERR_NOMEM;
			n += sub;
			prev_special = false;
		}
		if (special >= 0) {
			emit(special, out, cap, &n);
			end += v->text[special].len;
			prev_special = true;
		}
		pos = end;
	}
	if (add_special && v->add_eos && v->eos >= 0)
		emit(v->eos, out, cap, &n);
	return (int64_t)n;
}

static size_t copy_out(char *buf, size_t cap, const char *s, size_t n)
{
	if (cap)
		memcpy(buf, s, LX_MIN(n, cap));
	return n;
}

size_t llamux_token_to_piece(const struct llamux_model *m, int32_t token,
			     bool special, char *buf, size_t cap)
{
	const struct lx_vocab *v = &m->vocab;
	const struct lx_gguf_str *t;
	size_t i, n = 0;
	int byte;

	if (token < 0 || (uint32_t)token >= v->n)
		return 0;
	t = &v->text[token];
	switch (v->types[token]) {
	case LX_TOKEN_CONTROL:
		return special ? copy_out(buf, cap, t->ptr, t->len) : 0;
	case LX_TOKEN_USER_DEFINED:
		return copy_out(buf, cap, t->ptr, t->len);
	case LX_TOKEN_UNKNOWN:
		return copy_out(buf, cap, "\xe2\x96\x85", 3);
	case LX_TOKEN_BYTE:
		byte = byte_of_token(t);
		if (byte < 0)
			return 0;
		if (cap)
			buf[0] = (char)byte;
		return 1;
	case LX_TOKEN_NORMAL:
		/* SentencePiece writes spaces as U+2581 (E2 96 81). */
		for (i = 0; i < t->len; i++) {
			if (i + 2 < t->len && (unsigned char)t->ptr[i] == 0xE2 &&
			    (unsigned char)t->ptr[i + 1] == 0x96 &&
			    (unsigned char)t->ptr[i + 2] == 0x81) {
				if (n < cap)
					buf[n] = ' ';
				i += 2;
			} else if (n < cap) {
				buf[n] = t->ptr[i];
			}
			n++;
		}
		return n;
	default:
		return 0;
	}
}

static bool is_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

/* Streams one byte: whole characters go out, a started one waits. */
static void detok_byte(struct llamux_detok *d, unsigned char b, char *out,
		       size_t cap, size_t *w)
{
	size_t i;

	if (d->n_pending) {
		if (is_cont(b)) {
			d->pending[d->n_pending++] = (char)b;
			if (d->n_pending < lx_utf8_len(d->pending[0]))
				return;
		}
		/* Complete, or broken by a non-continuation byte: let it out. */
		for (i = 0; i < d->n_pending; i++, (*w)++)
			if (*w < cap)
				out[*w] = d->pending[i];
		d->n_pending = 0;
		if (is_cont(b))
			return;
	}
	if (b >= 0xC2 && b <= 0xF4) {
		d->pending[d->n_pending++] = (char)b;
		return;
	}
	if (*w < cap)
		out[*w] = (char)b;
	(*w)++;
}

size_t llamux_detok_push(const struct llamux_model *m, struct llamux_detok *d,
			 int32_t token, char *out, size_t cap)
{
	char small[256], *piece = small;
	size_t n, i, w = 0;

	n = llamux_token_to_piece(m, token, false, small, sizeof(small));
	if (n > sizeof(small)) {
		piece = lx_host_alloc(n);
		if (!piece)
			return 0;
		llamux_token_to_piece(m, token, false, piece, n);
	}
	for (i = 0; i < n; i++)
		detok_byte(d, (unsigned char)piece[i], out, cap, &w);
	if (piece != small)
		lx_host_free(piece);
	return LX_MIN(w, cap);
}

size_t llamux_detok_flush(struct llamux_detok *d, char *out, size_t cap)
{
	size_t n = LX_MIN((size_t)d->n_pending, cap);

	memcpy(out, d->pending, n);
	d->n_pending = 0;
	return n;
}
