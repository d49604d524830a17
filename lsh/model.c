// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The model fallback of lsh. A few-shot prompt shows requests followed by
 * commands; generation is greedy and restricted with
 * llamux_sampler_set_allowed_bytes() to printable ASCII without newlines,
 * so the answer can only be one line. It stops at end of generation, at a
 * length limit, or where the model starts a new "Request:".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamux/llamux.h"
#include "model.h"

#define MAX_NEW_TOKENS 64
#define MAX_PROMPT_TOKENS 1024

struct lsh_model {
	struct llamux_model *model;
	struct llamux_context *ctx;
	struct llamux_sampler *sampler;
};

static const char few_shot[] =
	"Each request is answered with one Linux shell command.\n"
	"Request: show free disk space\nCommand: df -h\n"
	"Request: list the files in /tmp sorted by size\nCommand: ls -lhS /tmp\n"
	"Request: count the lines in notes.txt\nCommand: wc -l < notes.txt\n"
	"Request: which process listens on port 80\nCommand: ss -ltnp 'sport = :80'\n"
	"Request: find python files changed today\n"
	"Command: find . -name '*.py' -daystart -mtime 0\n";

struct lsh_model *lsh_model_open(const char *path, char *err)
{
	struct lsh_model *m = calloc(1, sizeof(*m));
	struct llamux_context_params cp;
	struct llamux_sampler_params sp;
	struct llamux_model_info info;
	uint8_t allowed[256] = { 0 };

	if (!m) {
		snprintf(err, LLAMUX_ERR_MAX, "out of memory");
		return NULL;
	}
	m->model = llamux_model_load(path, 0, err);
	if (!m->model) {
		free(m);
		return NULL;
	}
	llamux_model_get_info(m->model, &info);
	llamux_context_default_params(&cp);
	cp.n_ctx = info.n_ctx_train < 2048 ? info.n_ctx_train : 2048;
	m->ctx = llamux_context_new(m->model, &cp, err);
	llamux_sampler_default_params(&sp);
	sp.temp = 0;
	m->sampler = llamux_sampler_new(&sp, llamux_n_vocab(m->model));
	for (int c = 0x20; c < 0x7f; c++)
		allowed[c] = 1;
	if (!m->ctx || !m->sampler ||
	    llamux_sampler_set_allowed_bytes(m->sampler, m->model, allowed)) {
		if (m->ctx || m->sampler)
			snprintf(err, LLAMUX_ERR_MAX, "out of memory");
		lsh_model_close(m);
		return NULL;
	}
	return m;
}

void lsh_model_close(struct lsh_model *m)
{
	if (!m)
		return;
	if (m->sampler)
		llamux_sampler_free(m->sampler);
	if (m->ctx)
		llamux_context_free(m->ctx);
	if (m->model)
		llamux_model_free(m->model);
	free(m);
}

bool lsh_model_generate(struct lsh_model *m, const char *request, char *out,
			size_t cap, char *err)
{
	size_t plen = strlen(few_shot) + strlen(request) + 32;
	char *prompt = malloc(plen);
	int32_t *toks = malloc(MAX_PROMPT_TOKENS * sizeof(*toks));
	int64_t n;
	size_t len = 0;
	struct llamux_detok dt = { .n_pending = 0 };
	bool ok = false;

	if (!prompt || !toks || !cap) {
		snprintf(err, LLAMUX_ERR_MAX, "out of memory");
		goto done;
	}
	out[0] = '\0';
	snprintf(prompt, plen, "%sRequest: %s\nCommand:", few_shot, request);
	n = llamux_tokenize(m->model, prompt, strlen(prompt), true, false, toks,
			    MAX_PROMPT_TOKENS);
	if (n < 0 || n > MAX_PROMPT_TOKENS ||
	    (uint64_t)n + MAX_NEW_TOKENS > llamux_n_ctx(m->ctx)) {
		snprintf(err, LLAMUX_ERR_MAX, "the request is too long for the model");
		goto done;
	}
	llamux_context_reset(m->ctx);
	if (llamux_decode(m->ctx, toks, (size_t)n, NULL, err) != LLAMUX_OK)
		goto done;
	for (int i = 0; i < MAX_NEW_TOKENS; i++) {
		int32_t t = llamux_sample(m->sampler, llamux_logits(m->ctx));
		char piece[256];
		size_t k;

		if (t < 0 || llamux_token_is_eog(m->model, t))
			break;
		k = llamux_detok_push(m->model, &dt, t, piece, sizeof(piece));
		if (memchr(piece, '\n', k))
			break;
		if (len + k + 1 >= cap)
			break;
		memcpy(out + len, piece, k);
		len += k;
		out[len] = '\0';
		if (strstr(out, "Request:"))
			break;
		if (llamux_decode(m->ctx, &t, 1, NULL, err) != LLAMUX_OK)
			goto done;
	}
	{
		char *r = strstr(out, "Request:");

		if (r)
			*r = '\0';
	}
	/* trim */
	len = strlen(out);
	while (len && (out[len - 1] == ' ' || out[len - 1] == '\t'))
		out[--len] = '\0';
	{
		size_t lead = strspn(out, " \t");

		memmove(out, out + lead, strlen(out + lead) + 1);
	}
	ok = true;
done:
	free(prompt);
	free(toks);
	return ok;
}
