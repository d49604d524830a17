// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Sampling: greedy is the argmax, a seed reproduces a sequence, draws follow
 * the softmax distribution, and top-k, top-p, min-p and the repetition
 * penalty remove or reweight exactly the tokens they should.
 */
#include <math.h>
#include <string.h>

#include "llamux/llamux.h"
#include "testlib.h"

#define NV 8

static struct llamux_sampler *make(float temp, int top_k, float top_p,
				   float min_p, float rep, uint64_t seed)
{
	struct llamux_sampler_params p;

	llamux_sampler_default_params(&p);
	p.temp = temp;
	p.top_k = top_k;
	p.top_p = top_p;
	p.min_p = min_p;
	p.repeat_penalty = rep;
	p.seed = seed;
	return llamux_sampler_new(&p, NV);
}

/* Frequencies of n draws. */
static void draw(struct llamux_sampler *s, const float *logits, int n,
		 int *counts)
{
	int i, bad = 0;

	memset(counts, 0, NV * sizeof(int));
	for (i = 0; i < n; i++) {
		int32_t t = llamux_sample(s, logits);

		if (t >= 0 && t < NV)
			counts[t]++;
		else
			bad++;
	}
	CHECK(bad == 0, "%d tokens out of range", bad);
}

int main(void)
{
	const float logits[NV] = { 1.0f, 3.0f, 2.0f, 0.5f, -1.0f, 2.9f, 0.0f, -3.0f };
	struct llamux_sampler *s, *s2;
	int counts[NV], i, n = 200000;
	int32_t a[50], b[50];
	double z = 0, p[NV];

	/* Greedy. */
	s = make(0.0f, 40, 0.95f, 0.05f, 1.0f, 1);
	for (i = 0; i < 10; i++)
		CHECK(llamux_sample(s, logits) == 1, "greedy must pick token 1");
	llamux_sampler_free(s);

	/* Same seed, same sequence; different seed, different sequence. */
	s = make(1.0f, 0, 1.0f, 0.0f, 1.0f, 42);
	s2 = make(1.0f, 0, 1.0f, 0.0f, 1.0f, 42);
	for (i = 0; i < 50; i++) {
		a[i] = llamux_sample(s, logits);
		b[i] = llamux_sample(s2, logits);
	}
	CHECK(!memcmp(a, b, sizeof(a)), "same seed gave different tokens");
	llamux_sampler_free(s2);
	s2 = make(1.0f, 0, 1.0f, 0.0f, 1.0f, 43);
	for (i = 0; i < 50; i++)
		b[i] = llamux_sample(s2, logits);
	CHECK(memcmp(a, b, sizeof(a)), "different seeds gave the same 50 tokens");
	llamux_sampler_free(s2);

	/* Pure temperature sampling follows softmax(logits / T). */
	for (i = 0; i < NV; i++)
		z += exp(logits[i] / 0.7);
	for (i = 0; i < NV; i++)
		p[i] = exp(logits[i] / 0.7) / z;
	llamux_sampler_free(s);
	s = make(0.7f, 0, 1.0f, 0.0f, 1.0f, 7);
	draw(s, logits, n, counts);
	for (i = 0; i < NV; i++) {
		double want = p[i] * n, sd = sqrt(n * p[i] * (1 - p[i])) + 1;

		CHECK(fabs(counts[i] - want) < 5 * sd,
		      "token %d drawn %d times, expected %.0f ± %.0f", i,
		      counts[i], want, sd);
	}
	llamux_sampler_free(s);

	/* top-k 2 keeps tokens 1 and 5 only. */
	s = make(1.0f, 2, 1.0f, 0.0f, 1.0f, 9);
	draw(s, logits, 20000, counts);
	CHECK(counts[1] + counts[5] == 20000 && counts[1] > counts[5] &&
	      counts[5] > 0, "top-k 2: %d %d", counts[1], counts[5]);
	llamux_sampler_free(s);

	/* top-p: token 1 alone has p ~0.37 (T=1); p=0.3 keeps only it. */
	s = make(1.0f, 0, 0.3f, 0.0f, 1.0f, 9);
	draw(s, logits, 5000, counts);
	CHECK(counts[1] == 5000, "top-p 0.3 must keep only token 1 (%d)",
	      counts[1]);
	llamux_sampler_free(s);

	/* min-p 0.5: keeps tokens within log(0.5) of the best logit: 1, 5. */
	s = make(1.0f, 0, 1.0f, 0.5f, 1.0f, 9);
	draw(s, logits, 20000, counts);
	CHECK(counts[1] + counts[5] == 20000 && counts[5] > 0,
	      "min-p 0.5: %d %d (others %d)", counts[1], counts[5],
	      20000 - counts[1] - counts[5]);
	llamux_sampler_free(s);

	/* Repetition penalty: after seeing token 1, greedy moves to 5
	 * (3.0 / 1.5 = 2.0 < 2.9). */
	s = make(0.0f, 40, 0.95f, 0.05f, 1.5f, 1);
	llamux_sampler_accept(s, 1);
	CHECK(llamux_sample(s, logits) == 5, "penalty must demote token 1");
	llamux_sampler_free(s);
	/* Negative logits grow more negative: token 7 stays last. */
	s = make(0.0f, 0, 1.0f, 0.0f, 1.0f, 1);
	CHECK(llamux_sample(s, logits) == 1, "penalty 1.0 is off");
	llamux_sampler_free(s);

	/* Allowed-bytes constraint: on a real vocabulary, only digits. */
	{
		char err[LLAMUX_ERR_MAX] = "", piece[64];
		struct llamux_model *m = llamux_model_load(
			"../shared/vocab/ggml-vocab-llama-spm.gguf",
			LLAMUX_LOAD_VOCAB_ONLY, err);
		int32_t nv = m ? llamux_n_vocab(m) : 0, t, best = -1;
		float *l = calloc((size_t)(nv > 0 ? nv : 1), sizeof(float));
		uint8_t allowed[256] = { 0 };
		struct llamux_sampler_params sp;
		struct llamux_sampler *d;
		size_t len;

		CHECK(m != NULL, "%s", err);
		for (t = 0; t < nv; t++)
			l[t] = (float)(t % 97);	/* many tokens beat digits */
		for (i = '0'; i <= '9'; i++)
			allowed[i] = 1;
		llamux_sampler_default_params(&sp);
		sp.temp = 0.0f;
		d = llamux_sampler_new(&sp, nv);
		CHECK(d && llamux_sampler_set_allowed_bytes(d, m, allowed) == 0,
		      "set_allowed_bytes");
		if (d && m) {
			best = llamux_sample(d, l);
			len = llamux_token_to_piece(m, best, false, piece,
						    sizeof(piece));
			piece[len < sizeof(piece) ? len : 0] = '\0';
			CHECK(len > 0 && strspn(piece, "0123456789") == len,
			      "constrained greedy picked '%s'", piece);
			llamux_sampler_set_allowed_bytes(d, m, NULL);
			CHECK(llamux_sample(d, l) != best ||
			      l[best] == 96.0f, "lifting the constraint");
		}
		llamux_sampler_free(d);
		llamux_model_free(m);
		free(l);
	}
	return tl_finish("test_sampler");
}
