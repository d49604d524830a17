// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Forward-pass properties the reference comparisons do not cover: a prompt
 * fed in one batch, in small batches or token by token gives the same
 * logits; thread count does not change them; an F32 KV cache stays close
 * to F16; a full context is an error that leaves the context usable; tied
 * output weights (no output.weight) compute the same as an explicit copy; and
 * several contexts stepped in one batch (llamux_decode_multi) give exactly
 * what each gives alone; and a model read in (LLAMUX_LOAD_NO_MMAP) computes
 * exactly what the mapped one does, without mapping the file.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gguf.h"
#include "llamux/llamux.h"
#include "testlib.h"

#define STORIES "../shared/models/stories260K.gguf"

static const int32_t prompt[] = { 1, 403, 407, 261, 378, 432, 383, 286, 261,
				  376, 298, 315, 421, 395, 317, 426 };
#define N_PROMPT ((size_t)(sizeof(prompt) / sizeof(prompt[0])))

static float *eval(struct llamux_model *m, uint32_t n_batch, int threads,
		   enum llamux_kv_type kv, bool one_by_one)
{
	struct llamux_context_params p;
	struct llamux_context *c;
	size_t nv = (size_t)llamux_n_vocab(m), i;
	float *out = malloc(N_PROMPT * nv * sizeof(float));
	char err[LLAMUX_ERR_MAX] = "";

	llamux_context_default_params(&p);
	p.n_ctx = 64;
	p.n_batch = n_batch;
	p.n_threads = threads;
	p.kv_type = kv;
	c = llamux_context_new(m, &p, err);
	CHECK(c != NULL, "%s", err);
	if (!c)
		return out;
	if (one_by_one) {
		for (i = 0; i < N_PROMPT; i++)
			CHECK(llamux_decode(c, prompt + i, 1, out + i * nv, err) ==
			      LLAMUX_OK, "%s", err);
	} else {
		CHECK(llamux_decode(c, prompt, N_PROMPT, out, err) == LLAMUX_OK,
		      "%s", err);
	}
	CHECK(memcmp(llamux_logits(c), out + (N_PROMPT - 1) * nv,
		     nv * sizeof(float)) == 0, "llamux_logits is not the last row");
	llamux_context_free(c);
	return out;
}

static double max_diff(const float *a, const float *b, size_t n)
{
	double m = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (fabs((double)a[i] - b[i]) > m)
			m = fabs((double)a[i] - b[i]);
	return m;
}

static void test_batching(struct llamux_model *m)
{
	size_t n = N_PROMPT * (size_t)llamux_n_vocab(m);
	float *full = eval(m, 512, 1, LLAMUX_KV_F16, false);
	float *small = eval(m, 3, 1, LLAMUX_KV_F16, false);
	float *single = eval(m, 512, 1, LLAMUX_KV_F16, true);
	float *threads = eval(m, 512, 2, LLAMUX_KV_F16, false);
	float *kv32 = eval(m, 512, 1, LLAMUX_KV_F32, false);

	/* Each row's arithmetic is the same whatever the batching. */
	CHECK(max_diff(full, small, n) == 0.0, "batches of 3 differ by %g",
	      max_diff(full, small, n));
	CHECK(max_diff(full, single, n) == 0.0, "token by token differs by %g",
	      max_diff(full, single, n));
	CHECK(max_diff(full, threads, n) == 0.0, "2 threads differ by %g",
	      max_diff(full, threads, n));
	CHECK(max_diff(full, kv32, n) > 0.0 && max_diff(full, kv32, n) < 0.05,
	      "F32 KV cache differs by %g", max_diff(full, kv32, n));
	free(full);
	free(small);
	free(single);
	free(threads);
	free(kv32);
}

static void test_context_full(struct llamux_model *m)
{
	struct llamux_context_params p;
	struct llamux_context *c;
	char err[LLAMUX_ERR_MAX] = "";

	llamux_context_default_params(&p);
	p.n_ctx = 8;
	c = llamux_context_new(m, &p, err);
	CHECK(c && llamux_n_ctx(c) == 8, "context of 8");
	if (!c)
		return;
	CHECK(llamux_decode(c, prompt, 6, NULL, err) == LLAMUX_OK, "%s", err);
	CHECK(llamux_decode(c, prompt, 3, NULL, err) == LLAMUX_ERR_CONTEXT_FULL &&
	      strstr(err, "context full: 6 tokens in the context + 3 new exceed its size of 8"),
	      "overflow: %s", err);
	CHECK(llamux_n_past(c) == 6, "n_past changed on overflow");
	CHECK(llamux_decode(c, prompt, 2, NULL, err) == LLAMUX_OK, "%s", err);
	CHECK(llamux_n_past(c) == 8, "n_past %u", llamux_n_past(c));
	llamux_context_reset(c);
	CHECK(llamux_n_past(c) == 0 &&
	      llamux_decode(c, prompt, 8, NULL, err) == LLAMUX_OK,
	      "reset: %s", err);
	{
		int32_t bad = 512;

		llamux_context_reset(c);
		CHECK(llamux_decode(c, &bad, 1, NULL, err) == LLAMUX_ERR_INVALID &&
		      strstr(err, "outside the vocabulary"), "bad token: %s", err);
	}
	llamux_context_free(c);
}

/* Copies the bytes of tensor `from` over tensor `to` (same size). */
static void copy_tensor(uint8_t *file, const struct lx_gguf *g, const char *to,
			const char *from)
{
	const struct lx_gguf_tensor *a = lx_gguf_find_tensor(g, to);
	const struct lx_gguf_tensor *b = lx_gguf_find_tensor(g, from);

	CHECK(a && b && a->size == b->size, "tensors %s/%s", to, from);
	memcpy(file + ((const uint8_t *)a->data - g->base),
	       (const uint8_t *)b->data, b->size);
}

static void test_tied_output(void)
{
	size_t size, nv, n, i;
	uint8_t *base = tl_read_file(STORIES, &size);
	uint8_t *a = malloc(size), *b = malloc(size);
	const struct lx_gguf_tensor *out;
	struct llamux_model *ma, *mb;
	struct lx_gguf g;
	struct lx_err e;
	char err[LLAMUX_ERR_MAX] = "";
	float *la, *lb;

	CHECK(base && lx_gguf_parse(&g, base, size, &e), "parse stories");
	if (!base)
		return;
	/* a: embeddings = output weights, output.weight present. */
	memcpy(a, base, size);
	copy_tensor(a, &g, "token_embd.weight", "output.weight");
	/* b: the same, but output.weight renamed away: output is tied. */
	memcpy(b, a, size);
	out = lx_gguf_find_tensor(&g, "output.weight");
	b[(const uint8_t *)out->name.ptr - base + 5] = 'X';
	lx_gguf_free(&g);

	ma = llamux_model_load_memory(a, size, 0, err);
	CHECK(ma != NULL, "%s", err);
	mb = llamux_model_load_memory(b, size, 0, err);
	CHECK(mb != NULL, "%s", err);
	if (ma && mb) {
		nv = (size_t)llamux_n_vocab(ma);
		n = N_PROMPT * nv;
		la = eval(ma, 512, 1, LLAMUX_KV_F16, false);
		lb = eval(mb, 512, 1, LLAMUX_KV_F16, false);
		CHECK(max_diff(la, lb, n) == 0.0, "tied output differs by %g",
		      max_diff(la, lb, n));
		for (i = 0; i < n && la[i] == 0.0f; i++)
			;
		CHECK(i < n, "logits all zero");
		free(la);
		free(lb);
	}
	llamux_model_free(ma);
	llamux_model_free(mb);
	free(a);
	free(b);
	free(base);
}

/* Three streams stepped together equal each stepped alone, bit for bit. */
static void test_decode_multi(struct llamux_model *m)
{
	static const int32_t next[3][4] = { { 432, 383, 286, 261 },
					    { 13, 438, 310, 439 },
					    { 261, 376, 298, 315 } };
	struct llamux_context_params p;
	struct llamux_context *alone[3], *together[3];
	char err[LLAMUX_ERR_MAX] = "";
	size_t nv = (size_t)llamux_n_vocab(m);
	int i, step, same = 1;

	llamux_context_default_params(&p);
	p.n_ctx = 64;
	for (i = 0; i < 3; i++) {
		alone[i] = llamux_context_new(m, &p, err);
		together[i] = llamux_context_new(m, &p, err);
		CHECK(alone[i] && together[i], "%s", err);
		if (!alone[i] || !together[i])
			return;
		/* different prompt lengths: different positions per stream */
		llamux_decode(alone[i], prompt, 4 + 3 * i, NULL, err);
		llamux_decode(together[i], prompt, 4 + 3 * i, NULL, err);
	}
	for (step = 0; step < 4; step++) {
		int32_t toks[3];

		for (i = 0; i < 3; i++) {
			toks[i] = next[i][step];
			llamux_decode(alone[i], &toks[i], 1, NULL, err);
		}
		CHECK(llamux_decode_multi(together, toks, 3, err) == LLAMUX_OK,
		      "decode_multi: %s", err);
		for (i = 0; i < 3; i++)
			same &= !memcmp(llamux_logits(alone[i]),
					llamux_logits(together[i]),
					nv * sizeof(float)) &&
				llamux_n_past(alone[i]) ==
				llamux_n_past(together[i]);
	}
	CHECK(same, "batched steps differ from single steps");
	CHECK(llamux_decode_multi((struct llamux_context *const[]){
					  together[0], together[0] },
				  next[0], 2, err) == LLAMUX_ERR_INVALID &&
	      strstr(err, "appears twice"), "duplicate context: %s", err);
	for (i = 0; i < 3; i++) {
		llamux_context_free(alone[i]);
		llamux_context_free(together[i]);
	}
}

/* Whether this process has a mapping of a file whose path ends in name. */
static bool mapped(const char *name)
{
	char line[4096];
	FILE *f = fopen("/proc/self/maps", "r");
	bool found = false;

	CHECK(f != NULL, "cannot open /proc/self/maps");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		size_t len = strcspn(line, "\n");

		line[len] = '\0';
		if (len >= strlen(name) &&
		    !strcmp(line + len - strlen(name), name))
			found = true;
	}
	fclose(f);
	return found;
}

static void test_read_in(void)
{
	char err[LLAMUX_ERR_MAX] = "", err2[LLAMUX_ERR_MAX] = "";
	char path[] = "/tmp/llamux-test-forward-XXXXXX";
	struct llamux_model *mr, *mm;
	size_t size, n;
	uint8_t *bytes;
	float *lr, *lm;
	FILE *f;
	int fd;

	CHECK(!mapped("stories260K.gguf"), "stories mapped before the test");
	mr = llamux_model_load(STORIES, LLAMUX_LOAD_NO_MMAP, err);
	CHECK(mr != NULL, "%s", err);
	if (!mr)
		return;
	CHECK(!mapped("stories260K.gguf"),
	      "LLAMUX_LOAD_NO_MMAP left the file mapped");
	mm = llamux_model_load(STORIES, 0, err);
	CHECK(mm != NULL, "%s", err);
	if (mm) {
		CHECK(mapped("stories260K.gguf"), "a default load did not map the file");
		n = N_PROMPT * (size_t)llamux_n_vocab(mm);
		lr = eval(mr, 512, 2, LLAMUX_KV_F16, false);
		lm = eval(mm, 512, 2, LLAMUX_KV_F16, false);
		CHECK(memcmp(lr, lm, n * sizeof(float)) == 0,
		      "read-in logits differ from mapped ones by %g",
		      max_diff(lr, lm, n));
		free(lr);
		free(lm);
		llamux_model_free(mm);
	}
	llamux_model_free(mr);
	CHECK(!mapped("stories260K.gguf"), "the file is still mapped after freeing");

	/* Errors: the same words whether the file is mapped or read. */
	CHECK(!llamux_model_load("../shared/models/no-such.gguf",
				 LLAMUX_LOAD_NO_MMAP, err) &&
	      strstr(err, "cannot open it"), "missing file: %s", err);
	CHECK(!llamux_model_load("../shared/models", LLAMUX_LOAD_NO_MMAP, err) &&
	      strstr(err, "not a regular file"), "directory: %s", err);
	bytes = tl_read_file(STORIES, &size);
	fd = mkstemp(path);
	f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	CHECK(bytes && f, "cannot write %s", path);
	if (bytes && f) {
		/* Cut inside the tensor data: the check must fail either way. */
		fwrite(bytes, 1, size - 1000, f);
		fclose(f);
		CHECK(!llamux_model_load(path, LLAMUX_LOAD_NO_MMAP, err) &&
		      !llamux_model_load(path, 0, err2) && err[0] &&
		      !strcmp(err, err2), "truncated file: '%s' against '%s'",
		      err, err2);
		unlink(path);
	}
	free(bytes);
}

int main(void)
{
	char err[LLAMUX_ERR_MAX] = "";
	struct llamux_model *m;

	test_read_in();	/* first: it checks what the process maps */
	m = llamux_model_load(STORIES, 0, err);
	CHECK(m != NULL, "%s", err);
	if (m) {
		test_batching(m);
		test_context_full(m);
		test_decode_multi(m);
		llamux_model_free(m);
	}
	test_tied_output();
	return tl_finish("test_forward");
}
