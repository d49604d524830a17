// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Token sampling in llama.cpp's default order: repetition penalty, then
 * greedy when temp <= 0, else top-k, top-p, min-p, temperature and a draw
 * from a seeded generator (xoshiro256**), so a seed reproduces a run.
 */
#include "model.h"
#include "mathfn.h"

struct cand {
	int32_t id;
	float logit;
	float p;
};

struct llamux_sampler {
	struct llamux_sampler_params p;
	int32_t n_vocab;
	struct cand *cands;	/* [n_vocab] */
	int32_t *history;	/* ring of the last repeat_last_n tokens */
	uint32_t n_history;	/* filled entries */
	uint32_t history_pos;	/* next slot to write */
	uint32_t *seen;		/* [n_vocab] counts while penalizing */
	uint8_t *allowed;	/* [n_vocab] nonzero: may be sampled; or NULL */
	uint64_t rng[4];
};

void llamux_sampler_default_params(struct llamux_sampler_params *p)
{
	p->temp = 0.8f;
	p->top_k = 40;
	p->top_p = 0.95f;
	p->min_p = 0.05f;
	p->repeat_penalty = 1.0f;
	p->repeat_last_n = 64;
	p->seed = 0;
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t next_u64(uint64_t *s)
{
	uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

struct llamux_sampler *llamux_sampler_new(const struct llamux_sampler_params *p,
					  int32_t n_vocab)
{
	struct llamux_sampler *s;
	uint64_t seed;
	int i;

	if (n_vocab <= 0)
		return NULL;
	s = lx_host_alloc(sizeof(*s));
	if (!s)
		return NULL;
	s->p = *p;
	if (s->p.repeat_last_n < 0)
		s->p.repeat_last_n = 0;
	s->n_vocab = n_vocab;
	s->cands = lx_host_alloc((size_t)n_vocab * sizeof(*s->cands));
	s->seen = lx_host_alloc((size_t)n_vocab * sizeof(*s->seen));
	s->history = lx_host_alloc(((size_t)s->p.repeat_last_n + 1) *
				   sizeof(*s->history));
	if (!s->cands || !s->seen || !s->history) {
		llamux_sampler_free(s);
		return NULL;
	}
	seed = p->seed;
	for (i = 0; i < 4; i++)
		s->rng[i] = splitmix64(&seed);
	return s;
}

struct llamux_sampler *llamux_sampler_new_fixed(const struct llamux_sampler_fixed *f,
						int32_t n_vocab)
{
	struct llamux_sampler_params p;

	if (f->temp_milli < 0 || f->temp_milli > 100000 || f->top_k < 0 ||
	    f->top_p_milli < 0 || f->top_p_milli > 1000 || f->min_p_milli < 0 ||
	    f->min_p_milli > 1000 || f->repeat_penalty_milli <= 0 ||
	    f->repeat_penalty_milli > 100000 || f->repeat_last_n < 0 ||
	    f->repeat_last_n > (1 << 20))
		return NULL;
	p.temp = (float)f->temp_milli / 1000.0f;
	p.top_k = f->top_k;
	p.top_p = (float)f->top_p_milli / 1000.0f;
	p.min_p = (float)f->min_p_milli / 1000.0f;
	p.repeat_penalty = (float)f->repeat_penalty_milli / 1000.0f;
	p.repeat_last_n = f->repeat_last_n;
	p.seed = f->seed;
	return llamux_sampler_new(&p, n_vocab);
}

void llamux_sampler_free(struct llamux_sampler *s)
{
	if (!s)
		return;
	lx_host_free(s->cands);
	lx_host_free(s->seen);
	lx_host_free(s->history);
	lx_host_free(s->allowed);
	lx_host_free(s);
}

int llamux_sampler_set_allowed_bytes(struct llamux_sampler *s,
				     const struct llamux_model *m,
				     const uint8_t *allowed)
{
	char piece[256];
	int32_t t;

	lx_host_free(s->allowed);
	s->allowed = NULL;
	if (!allowed)
		return LLAMUX_OK;
	s->allowed = lx_host_alloc((size_t)s->n_vocab);
	if (!s->allowed)
		return LLAMUX_ERR_NOMEM;
	for (t = 0; t < s->n_vocab; t++) {
		size_t n = llamux_token_to_piece(m, t, false, piece,
						 sizeof(piece)), i;
		bool ok = n > 0 && n <= sizeof(piece);

		for (i = 0; ok && i < n; i++)
			ok = allowed[(unsigned char)piece[i]] != 0;
		s->allowed[t] = ok || llamux_token_is_eog(m, t);
	}
	return LLAMUX_OK;
}

void llamux_sampler_accept(struct llamux_sampler *s, int32_t token)
{
	if (s->p.repeat_last_n == 0)
		return;
	s->history[s->history_pos] = token;
	s->history_pos = (s->history_pos + 1) % (uint32_t)s->p.repeat_last_n;
	if (s->n_history < (uint32_t)s->p.repeat_last_n)
		s->n_history++;
}

/* Each distinct recent token: positive logits shrink, negative grow. */
static void penalize(struct llamux_sampler *s)
{
	float r = s->p.repeat_penalty;
	uint32_t i;

	if (r == 1.0f || s->n_history == 0)
		return;
	for (i = 0; i < s->n_history; i++) {
		int32_t t = s->history[i];

		if (t < 0 || t >= s->n_vocab || s->seen[t]++)
			continue;
		if (s->cands[t].logit > 0.0f)
			s->cands[t].logit /= r;
		else
			s->cands[t].logit *= r;
	}
	for (i = 0; i < s->n_history; i++)
		if (s->history[i] >= 0 && s->history[i] < s->n_vocab)
			s->seen[s->history[i]] = 0;
}

static int cmp_cand(const void *a, const void *b, void *arg)
{
	const struct cand *x = a, *y = b;

	(void)arg;
	/* Descending logit; ties: lower id first, for determinism. */
	if (x->logit != y->logit)
		return x->logit > y->logit ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Keeps the k best candidates, sorted best first; returns how many. */
static size_t keep_top_k(struct cand *c, size_t n, size_t k)
{
	size_t i, j, m = 0;

	if (k == 0 || k >= n) {
		lx_sort(c, n, sizeof(*c), cmp_cand, NULL);
		return n;
	}
	/* Insertion into a sorted prefix of k: O(n k), fine for small k. */
	if (k <= 128) {
		for (i = 0; i < n; i++) {
			struct cand x = c[i];

			if (m == k && cmp_cand(&x, &c[k - 1], NULL) >= 0)
				continue;
			j = m < k ? m++ : k - 1;
			while (j > 0 && cmp_cand(&x, &c[j - 1], NULL) < 0) {
				c[j] = c[j - 1];
				j--;
			}
			c[j] = x;
		}
		return k;
	}
	lx_sort(c, n, sizeof(*c), cmp_cand, NULL);
	return k;
}

static void softmax(struct cand *c, size_t n, float temp)
{
	double sum = 0.0;
	size_t i;

	for (i = 0; i < n; i++) {
		c[i].p = lx_expf((c[i].logit - c[0].logit) / temp);
		sum += c[i].p;
	}
	for (i = 0; i < n; i++)
		c[i].p = (float)(c[i].p / sum);
}

static int32_t sample(struct llamux_sampler *s, const float *logits)
{
	const struct llamux_sampler_params *p = &s->p;
	struct cand *c = s->cands;
	size_t n = (size_t)s->n_vocab, i, best = 0;
	double u, cum;

	for (i = 0; i < n; i++) {
		c[i].id = (int32_t)i;
		c[i].logit = logits[i];
	}
	penalize(s);
	if (s->allowed)
		for (i = 0; i < n; i++)
			if (!s->allowed[i])
				c[i].logit = -LX_INFINITY;
	if (p->temp <= 0.0f) {
		for (i = 1; i < n; i++)
			if (c[i].logit > c[best].logit)
				best = i;
		return c[best].id;
	}
	n = keep_top_k(c, n, p->top_k > 0 ? (size_t)p->top_k : 0);
	if (p->top_p < 1.0f) {
		softmax(c, n, 1.0f);
		for (i = 0, cum = 0.0; i < n; i++) {
			cum += c[i].p;
			if (cum >= p->top_p) {
				n = i + 1;
				break;
			}
		}
	}
	if (p->min_p > 0.0f) {
		float min_logit = c[0].logit + lx_logf(p->min_p);

		for (i = 1; i < n; i++)
			if (c[i].logit < min_logit)
				break;
		n = i;
	}
	softmax(c, n, p->temp);
	/* 53 random bits -> u in [0, 1). */
	u = (double)(next_u64(s->rng) >> 11) * (1.0 / 9007199254740992.0);
	for (i = 0, cum = 0.0; i < n; i++) {
		cum += c[i].p;
		if (u < cum)
			return c[i].id;
	}
	return c[n - 1].id;
}

int32_t llamux_sample(struct llamux_sampler *s, const float *logits)
{
	int32_t tok;

	tok = sample(s, logits);
	llamux_sampler_accept(s, tok);
	return tok;
}
