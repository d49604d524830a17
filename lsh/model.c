// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The model fallback of lsh. A few-shot prompt shows requests followed by
 * commands. Which model answers is chosen here: llamuxd, the kernel module
 * (model_remote.c) or a GGUF loaded in-process. In-process generation is
 * greedy and restricted with llamux_sampler_set_allowed_bytes() to
 * printable ASCII without newlines, so the answer can only be one line. It
 * stops at end of generation, at a length limit, or where the model starts
 * a new "Request:".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamux/llamux.h"
#include "model.h"
#include "model_remote.h"

#define MAX_NEW_TOKENS LSH_MAX_NEW_TOKENS
#define MAX_PROMPT_TOKENS 1024

struct lsh_model {
	enum lsh_backend backend;
	char where[PATH_MAX];		/* the daemon's socket */
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

bool lsh_backend_parse(const char *name, enum lsh_backend *b)
{
	static const char *const names[] = {
		[LSH_BACKEND_AUTO] = "auto",
		[LSH_BACKEND_INPROCESS] = "inprocess",
		[LSH_BACKEND_KERNEL] = "kernel",
		[LSH_BACKEND_DAEMON] = "daemon",
		[LSH_BACKEND_NONE] = "none",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i])) {
			*b = (enum lsh_backend)i;
			return true;
		}
	return false;
}

bool lsh_model_choose(enum lsh_backend want, const char *path,
		      struct lsh_model_choice *c)
{
	char why[512];

	memset(c, 0, sizeof(*c));
	c->backend = LSH_BACKEND_NONE;
	if (want == LSH_BACKEND_NONE)
		return true;
	if (want == LSH_BACKEND_AUTO || want == LSH_BACKEND_DAEMON) {
		lsh_daemon_socket(c->where, sizeof(c->where));
		if (lsh_daemon_probe(c->where, why, sizeof(why))) {
			c->backend = LSH_BACKEND_DAEMON;
			return true;
		}
		if (want == LSH_BACKEND_DAEMON) {
			lsh_msg(c->why, sizeof(c->why),
				"%s: start it (systemctl start llamuxd, or set LLAMUX_SOCKET to its socket) or use --backend inprocess -m MODEL",
				why);
			return false;
		}
	}
	if (want == LSH_BACKEND_AUTO || want == LSH_BACKEND_KERNEL) {
		if (lsh_kernel_probe(c->where, sizeof(c->where), why,
				     sizeof(why))) {
			c->backend = LSH_BACKEND_KERNEL;
			return true;
		}
		if (want == LSH_BACKEND_KERNEL) {
			lsh_msg(c->why, sizeof(c->why),
				"%s, or use --backend daemon|inprocess", why);
			return false;
		}
	}
	c->where[0] = '\0';
	if (path && *path) {
		snprintf(c->where, sizeof(c->where), "%s", path);
		c->backend = LSH_BACKEND_INPROCESS;
		return true;
	}
	if (want == LSH_BACKEND_INPROCESS) {
		snprintf(c->why, sizeof(c->why),
			 "--backend inprocess needs a model: give -m MODEL or set LLAMUX_MODEL to a GGUF file");
		return false;
	}
	return true;
}

void lsh_model_describe(const struct lsh_model_choice *c, char *out,
			size_t cap)
{
	switch (c->backend) {
	case LSH_BACKEND_DAEMON:
		snprintf(out, cap, "model fallback: llamuxd on %s", c->where);
		break;
	case LSH_BACKEND_KERNEL:
		snprintf(out, cap, "model fallback: kernel module (%s)", c->where);
		break;
	case LSH_BACKEND_INPROCESS:
		snprintf(out, cap, "model fallback: %s (in-process)", c->where);
		break;
	default:
		if (c->why[0])
			snprintf(out, cap, "no model (works without one; the model fallback asked for is unusable: %s)",
				 c->why);
		else
			snprintf(out, cap, "no model (works without one; set LLAMUX_MODEL or use -m for the model fallback)");
		break;
	}
}

static struct lsh_model *inprocess_open(const char *path, char *err)
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
	m->backend = LSH_BACKEND_INPROCESS;
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

struct lsh_model *lsh_model_open(const struct lsh_model_choice *c, char *err)
{
	struct lsh_model *m;

	switch (c->backend) {
	case LSH_BACKEND_INPROCESS:
		m = inprocess_open(c->where, err);
		if (!m) {
			char why[LLAMUX_ERR_MAX];

			snprintf(why, sizeof(why), "%s", err);
			lsh_msg(err, LLAMUX_ERR_MAX, "cannot load the model '%s': %s",
				c->where, why);
		}
		return m;
	case LSH_BACKEND_DAEMON:
	case LSH_BACKEND_KERNEL:
		m = calloc(1, sizeof(*m));
		if (!m) {
			snprintf(err, LLAMUX_ERR_MAX, "out of memory");
			return NULL;
		}
		m->backend = c->backend;
		snprintf(m->where, sizeof(m->where), "%s", c->where);
		return m;
	default:
		snprintf(err, LLAMUX_ERR_MAX, "no model fallback is configured");
		return NULL;
	}
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

static bool inprocess_generate(struct lsh_model *m, const char *prompt,
			       char *out, size_t cap, char *err)
{
	int32_t *toks = malloc(MAX_PROMPT_TOKENS * sizeof(*toks));
	int64_t n;
	size_t len = 0;
	struct llamux_detok dt = { .n_pending = 0 };
	bool ok = false;

	if (!toks) {
		snprintf(err, LLAMUX_ERR_MAX, "out of memory");
		goto done;
	}
	n = llamux_tokenize(m->model, prompt, strlen(prompt), true, false, toks,
			    MAX_PROMPT_TOKENS);
	if (n < 0 || n > MAX_PROMPT_TOKENS ||
	    (uint64_t)n + MAX_NEW_TOKENS > llamux_n_ctx(m->ctx)) {
		snprintf(err, LLAMUX_ERR_MAX, "the request is too long for the model: say it in fewer words");
		goto done;
	}
	llamux_context_reset(m->ctx);
	if (llamux_decode(m->ctx, toks, (size_t)n, NULL, err) != LLAMUX_OK)
		goto failed;
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
			goto failed;
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
	goto done;
failed:
	{
		char why[LLAMUX_ERR_MAX];

		snprintf(why, sizeof(why), "%s", err);
		lsh_msg(err, LLAMUX_ERR_MAX, "the model failed: %s", why);
	}
done:
	free(toks);
	return ok;
}

bool lsh_model_generate(struct lsh_model *m, const char *request, char *out,
			size_t cap, char *err)
{
	size_t plen = strlen(few_shot) + strlen(request) + 32;
	char *prompt = malloc(plen);
	bool ok = false;

	if (!prompt || !cap) {
		snprintf(err, LLAMUX_ERR_MAX, "out of memory");
		free(prompt);
		return false;
	}
	out[0] = '\0';
	snprintf(prompt, plen, "%sRequest: %s\nCommand:", few_shot, request);
	switch (m->backend) {
	case LSH_BACKEND_INPROCESS:
		ok = inprocess_generate(m, prompt, out, cap, err);
		break;
	case LSH_BACKEND_DAEMON:
		ok = lsh_daemon_generate(m->where, prompt, out, cap, err);
		break;
	case LSH_BACKEND_KERNEL:
		ok = lsh_kernel_generate(prompt, out, cap, err);
		break;
	default:
		snprintf(err, LLAMUX_ERR_MAX, "no model fallback is configured");
		break;
	}
	free(prompt);
	return ok;
}
