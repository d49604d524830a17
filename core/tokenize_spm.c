// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * SentencePiece BPE as llama.cpp runs it for `tokenizer.ggml.model = llama`:
 * spaces become U+2581, the text starts as one symbol per UTF-8 character,
 * and the adjacent pair whose merged text is the highest-scoring token merges
 * first (ties: leftmost). Symbols that are not tokens fall back to <0xNN>
 * byte tokens.
 */
#include "model.h"

struct symbol {
	int32_t prev, next;	/* neighbours in the linked list, -1 at ends */
	uint32_t off;		/* start in the escaped text */
	uint32_t n;		/* bytes; 0 once merged into its left neighbour */
};

struct bigram {
	int32_t left, right;
	float score;
	uint32_t size;		/* bytes of the merged text when queued */
};

struct spm {
	const struct lx_vocab *v;
	const char *buf;
	struct symbol *sym;
	struct bigram *heap;
	size_t n_heap;
};

static bool before(const struct bigram *a, const struct bigram *b)
{
	return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static void heap_push(struct spm *s, struct bigram b)
{
	size_t i = s->n_heap++;

	while (i > 0 && before(&b, &s->heap[(i - 1) / 2])) {
		s->heap[i] = s->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->heap[i] = b;
}

static struct bigram heap_pop(struct spm *s)
{
	struct bigram top = s->heap[0], last = s->heap[--s->n_heap];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= s->n_heap)
			break;
		if (c + 1 < s->n_heap && before(&s->heap[c + 1], &s->heap[c]))
			c++;
		if (!before(&s->heap[c], &last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->n_heap)
		s->heap[i] = last;
	return top;
}

static void try_add_bigram(struct spm *s, int32_t left, int32_t right)
{
	const struct symbol *l, *r;
	int32_t id;

	if (left < 0 || right < 0)
		return;
	l = &s->sym[left];
	r = &s->sym[right];
	/* Neighbouring symbols are contiguous in the text buffer. */
	id = lx_vocab_find(s->v, s->buf + l->off, l->n + r->n);
	if (id < 0)
		return;
	heap_push(s, (struct bigram){ left, right, s->v->scores[id],
				      l->n + r->n });
}

static void emit(int32_t tok, int32_t *out, size_t cap, size_t *n)
{
	if (*n < cap)
		out[*n] = tok;
	(*n)++;
}

bool lx_tokenize_spm(const struct lx_vocab *v, const char *text, size_t len,
		     bool space_prefix, int32_t *out, size_t cap, size_t *n_out,
		     struct lx_err *err)
{
	struct spm s = { v, NULL, NULL, NULL, 0 };
	size_t i, n_sym = 0, n_buf = 0, n = 0, max_buf;
	char *buf;
	int32_t k;

	*n_out = 0;
	if (len > (UINT32_MAX - 3) / 3)
		return lx_fail(err, "text too long to tokenize (%zu bytes)", len);
	max_buf = 3 * len + 3;
	buf = lx_host_alloc(max_buf);
	if (!buf)
		return lx_fail(err, "out of memory tokenizing %zu bytes", len);
	s.buf = buf;

	if (v->add_space_prefix && space_prefix) {
		memcpy(buf, "\xe2\x96\x81", 3);
		n_buf = 3;
	}
	for (i = 0; i < len; i++) {
		if (text[i] == ' ') {
			memcpy(buf + n_buf, "\xe2\x96\x81", 3);
			n_buf += 3;
		} else {
			buf[n_buf++] = text[i];
		}
	}

	for (i = 0; i < n_buf; n_sym++)
		i += LX_MIN(lx_utf8_len((unsigned char)buf[i]), n_buf - i);
	s.sym = lx_host_alloc((n_sym + 1) * sizeof(*s.sym));
	s.heap = lx_host_alloc((3 * n_sym + 1) * sizeof(*s.heap));
	if (!s.sym || !s.heap) {
		lx_host_free(buf);
		lx_host_free(s.sym);
		lx_host_free(s.heap);
		return lx_fail(err, "out of memory tokenizing %zu bytes", len);
	}
	for (i = 0, n_sym = 0; i < n_buf; n_sym++) {
		size_t c = LX_MIN(lx_utf8_len((unsigned char)buf[i]), n_buf - i);

		s.sym[n_sym] = (struct symbol){ (int32_t)n_sym - 1,
						(int32_t)n_sym + 1,
						(uint32_t)i, (uint32_t)c };
		i += c;
	}
	if (n_sym)
		s.sym[n_sym - 1].next = -1;
	for (i = 1; i < n_sym; i++)
		try_add_bigram(&s, (int32_t)i - 1, (int32_t)i);

	while (s.n_heap) {
		struct bigram b = heap_pop(&s);
		struct symbol *l = &s.sym[b.left], *r = &s.sym[b.right];

		/* Stale entry: one side already merged elsewhere. */
		if (l->n == 0 || r->n == 0 || l->n + r->n != b.size)
			continue;
		l->n += r->n;
		r->n = 0;
		l->next = r->next;
		if (r->next >= 0)
			s.sym[r->next].prev = b.left;
		try_add_bigram(&s, l->prev, b.left);
		try_add_bigram(&s, b.left, l->next);
	}

	for (k = n_sym ? 0 : -1; k >= 0; k = s.sym[k].next) {
		const struct symbol *sy = &s.sym[k];
		const char *piece = buf + sy->off;
		int32_t id = lx_vocab_find(v, piece, sy->n);

		if (id >= 0) {
			emit(id, out, cap, &n);
			continue;
		}
		for (i = 0; i < sy->n; i++) {
			int32_t bt = v->byte_token[(unsigned char)piece[i]];

			emit(bt >= 0 ? bt : v->unk, out, cap, &n);
		}
	}
	lx_host_free(buf);
	lx_host_free(s.sym);
	lx_host_free(s.heap);
	*n_out = n;
	return true;
}
