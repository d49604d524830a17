// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Requests as the engine takes them, shared by the HTTP API and D-Bus: the
 * prompt from plain text or from a conversation rendered with the model's
 * chat template (cli/chat_template.c; its end-of-turn strings become stops),
 * the context-length check, limits, and the OpenAI error object's fields.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chat_template.h"
#include "llamuxd.h"

void lxd_api_error_set(struct lxd_api_error *e, int status, const char *type,
		       const char *code, const char *param, const char *fmt,
		       ...)
{
	va_list ap;

	e->status = status;
	e->type = type;
	e->code = code;
	e->param = param;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

void lxd_sampler_defaults(struct llamux_sampler_params *sp)
{
	static uint64_t counter;
	struct timespec ts;

	llamux_sampler_default_params(sp);
	clock_gettime(CLOCK_REALTIME, &ts);
	sp->seed = ((uint64_t)ts.tv_sec * 1000000007ull) ^ (uint64_t)ts.tv_nsec ^
		   ((uint64_t)getpid() << 40) ^
		   (__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) *
		    0x9E3779B97F4A7C15ull);
}

const char *lxd_finish_reason(enum lxd_finish f)
{
	switch (f) {
	case LXD_FINISH_STOP:
		return "stop";
	case LXD_FINISH_LENGTH:
	case LXD_FINISH_TIMEOUT:
		return "length";
	case LXD_FINISH_CANCELLED:
		return "cancelled";
	default:
		return "error";
	}
}

void lxd_submit_error(int rc, struct lxd_api_error *e)
{
	switch (rc) {
	case -EBUSY:
		lxd_api_error_set(e, 503, "server_error", "server_busy", NULL,
				  "every slot and the whole queue are busy; retry later");
		break;
	case -EAGAIN:
		lxd_api_error_set(e, 503, "server_error", "model_loading", NULL,
				  "the model is loading; retry later");
		break;
	case -ESHUTDOWN:
		lxd_api_error_set(e, 503, "server_error", "shutting_down", NULL,
				  "the service is shutting down");
		break;
	case -ESTALE:
		lxd_api_error_set(e, 503, "server_error", "model_changed", NULL,
				  "the model was changed; send the request again");
		break;
	default:
		lxd_api_error_set(e, 500, "server_error", NULL, NULL,
				  "cannot queue the request: %s", strerror(-rc));
		break;
	}
}

static bool no_model(struct lxd_api_error *e)
{
	struct lxd_engine_info info;

	lxd_engine_info(&info);
	if (info.status == LXD_STATUS_FAILED)
		lxd_api_error_set(e, 503, "server_error", "model_unavailable",
				  NULL, "no model could be loaded; see the service's log");
	else
		lxd_submit_error(-EAGAIN, e);
	return false;
}

/* Tokenizes text into the job; m is held by the caller. */
static bool tokenize(struct lxd_job *j, const struct llamux_model *m,
		     const char *text, size_t len, bool parse_special,
		     struct lxd_api_error *e)
{
	struct lxd_engine_info info;
	int64_t n;

	n = llamux_tokenize(m, text, len, true, parse_special, NULL, 0);
	if (n < 0) {
		lxd_api_error_set(e, 500, "server_error", NULL, NULL,
				  "cannot tokenize the prompt (%lld)", (long long)n);
		return false;
	}
	lxd_engine_info(&info);
	if (n == 0) {
		lxd_api_error_set(e, 400, "invalid_request_error", NULL,
				  "prompt", "the prompt is empty");
		return false;
	}
	if ((uint64_t)n > info.n_ctx) {
		lxd_api_error_set(e, 400, "invalid_request_error",
				  "context_length_exceeded", "messages",
				  "This model's maximum context length is %u tokens. However, you sent %lld tokens (%lld too many); send a shorter prompt.",
				  info.n_ctx, (long long)n,
				  (long long)n - info.n_ctx);
		return false;
	}
	j->tokens = malloc((size_t)n * sizeof(*j->tokens));
	if (!j->tokens) {
		lxd_api_error_set(e, 500, "server_error", NULL, NULL,
				  "out of memory");
		return false;
	}
	llamux_tokenize(m, text, len, true, parse_special, j->tokens,
			(size_t)n);
	j->n_tokens = (uint32_t)n;
	return true;
}

bool lxd_job_prompt_text(struct lxd_job *j, const char *text, size_t len,
			 struct lxd_api_error *e)
{
	const struct llamux_model *m = lxd_engine_model_get(&j->model_gen);
	bool ok;

	if (!m)
		return no_model(e);
	ok = tokenize(j, m, text, len, false, e);
	lxd_engine_model_put();
	return ok;
}

bool lxd_job_prompt_chat(struct lxd_job *j, const struct chat_msg *msgs,
			 size_t n, struct lxd_api_error *e)
{
	const struct llamux_model *m = lxd_engine_model_get(&j->model_gen);
	const char *stops[CHAT_MAX_STOPS];
	struct chat_template t;
	size_t ns, i;
	char *text;
	bool ok;

	if (!m)
		return no_model(e);
	chat_template_for_model(&t, m, NULL, NULL, 0);
	text = chat_template_apply(&t, msgs, n, true);
	if (!text) {
		lxd_engine_model_put();
		lxd_api_error_set(e, 500, "server_error", NULL, NULL,
				  "out of memory");
		return false;
	}
	ok = tokenize(j, m, text, strlen(text), true, e);
	free(text);
	ns = ok ? chat_template_stops(&t, stops) : 0;
	for (i = 0; i < ns; i++) {
		int32_t tok[2];
		int64_t nt;

		/* A stop that is one special token stops as that token. */
		nt = llamux_tokenize(m, stops[i], strlen(stops[i]), false, true,
				     tok, 2);
		if (nt == 1 && llamux_token_to_piece(m, tok[0], false, NULL, 0) == 0 &&
		    j->n_stop_tok < LXD_MAX_STOP)
			j->stop_tok[j->n_stop_tok++] = tok[0];
		else
			lxd_job_add_stop(j, stops[i], strlen(stops[i]));
	}
	lxd_engine_model_put();
	return ok;
}

void lxd_job_apply_limits(struct lxd_job *j, long max_tokens)
{
	const struct lxd_config *c = lxd_config_get();

	if (max_tokens <= 0 || max_tokens > c->max_tokens)
		max_tokens = c->max_tokens;
	j->max_tokens = (uint32_t)max_tokens;
	j->deadline_ns = c->timeout ? lxd_now_ns() +
		(uint64_t)c->timeout * 1000000000ull : 0;
	lxd_config_put();
}
