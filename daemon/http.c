// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * llamuxd's HTTP API on libmicrohttpd (one thread per connection) and json-c:
 * OpenAI-style POST /v1/chat/completions and /v1/completions (streamed as
 * Server-Sent Events or whole), GET /v1/models, GET /health, GET /metrics,
 * POST /tokenize and /detokenize. Listens on TCP and on a Unix socket, or on
 * the sockets systemd passes (sd_listen_fds). Errors use OpenAI's error
 * object. With an API key, TCP requests need "Authorization: Bearer KEY"
 * (compared in constant time); the Unix socket is guarded by its file mode.
 * A client that goes away cancels its generation: the waiting thread polls
 * the connection for a hang-up between tokens.
 */
#include <errno.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "chat_template.h"
#include "llamuxd.h"

#define MAX_LISTENERS 8
#define WAIT_MS 1000		/* longest wait for output or a hang-up */
#define KEEPALIVE_NS (15ull * 1000000000ull)
#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static struct listener {
	struct MHD_Daemon *d;
	int fd;
	bool is_unix;
	char *unlink_path;	/* a socket file we made */
} listeners[MAX_LISTENERS];
static unsigned int n_listeners;
static unsigned int n_connections;

enum kind { KIND_CHAT, KIND_COMPLETION };

struct stream;

/* One request on a connection. */
struct req {
	struct MHD_Connection *conn;
	bool is_unix;
	char method[16];
	char path[160];
	char *body;
	size_t len, cap;
	bool too_big;
	bool streamed;
	bool cancelled;
	int status;
	uint32_t prompt_tokens, gen_tokens;
	uint32_t sent;		/* stream: text events handed to MHD */
	uint64_t job_id;
	uint64_t t0;
	struct stream *stream;
};

/* A streamed generation: the SSE events not yet handed to MHD. */
struct stream {
	struct req *req;	/* NULL once the request is over */
	struct lxd_job *job;
	struct MHD_Connection *conn;
	enum kind kind;
	char id[48];
	char model[256];
	long created;
	bool include_usage;
	bool started, ended;
	char *out;
	size_t out_len, out_off, out_cap;
	uint64_t last_send;
	uint32_t sent;
	int efd;		/* the engine's wake-ups */
};

/* ---- small helpers ---- */

static void make_id(char *out, size_t cap, const char *prefix)
{
	unsigned char r[12];
	size_t i, n;

	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		uint64_t t = lxd_now_ns();

		for (i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)(t >> (8 * (i % 8))) ^ (unsigned char)i;
	}
	n = (size_t)snprintf(out, cap, "%s", prefix);
	for (i = 0; i < sizeof(r) && n + 2 < cap; i++, n += 2)
		snprintf(out + n, cap - n, "%02x", r[i]);
}

/* Constant-time comparison: time depends only on the expected length. */
static bool key_equal(const char *given, size_t glen, const char *want)
{
	size_t wlen = strlen(want), i;
	unsigned char diff = (unsigned char)(glen != wlen);

	for (i = 0; i < wlen; i++)
		diff |= (unsigned char)want[i] ^
			(unsigned char)(i < glen ? given[i] : 0);
	return diff == 0;
}

static int connection_fd(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

	return ci ? ci->connect_fd : -1;
}

/* True when the client closed or reset its connection. */
static bool client_gone(struct MHD_Connection *c)
{
	struct pollfd p = { .fd = connection_fd(c), .events = POLLRDHUP };

	if (p.fd < 0 || poll(&p, 1, 0) <= 0)
		return false;
	return p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL);
}

/* The engine wakes a waiting request thread through its eventfd. */
static void job_wake(struct lxd_job *j, void *arg)
{
	uint64_t one = 1;

	(void)j;
	if (write((int)(intptr_t)arg, &one, sizeof(one)) < 0)
		return;
}

static int watch_job(struct lxd_job *j)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (efd >= 0) {
		j->notify = job_wake;
		j->notify_arg = (void *)(intptr_t)efd;
	}
	return efd;
}

static void unwatch_job(struct lxd_job *j, int efd)
{
	lxd_job_detach(j);
	if (efd >= 0)
		close(efd);
}

/*
 * Sleeps until the job has news or the client hangs up (true), at most
 * WAIT_MS. Both wake it at once, so a client that leaves is noticed while
 * the engine computes the next token.
 */
static bool wait_news(struct MHD_Connection *c, int efd, bool watch_client)
{
	struct pollfd p[2] = {
		{ .fd = efd, .events = POLLIN },
		{ .fd = watch_client ? connection_fd(c) : -1,
		  .events = POLLRDHUP },
	};
	uint64_t v;

	if (poll(p, 2, efd >= 0 ? WAIT_MS : 20) < 0)
		return false;
	if (efd >= 0 && (p[0].revents & POLLIN) &&
	    read(efd, &v, sizeof(v)) < 0)
		return false;
	return p[1].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL);
}

static void set_timeout(struct MHD_Connection *c, unsigned int seconds)
{
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, seconds);
}

static unsigned int idle_timeout(void)
{
	const struct lxd_config *c = lxd_config_get();
	unsigned int t = (unsigned int)c->idle_timeout;

	lxd_config_put();
	return t;
}

/* ---- responses ---- */

static enum MHD_Result send_text(struct req *r, int status, const char *type,
				 const char *body, size_t len,
				 const char *retry_after, const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, (void *)body,
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (retry_after)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER,
					retry_after);
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	if (status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer");
	r->status = status;
	ret = MHD_queue_response(r->conn, (unsigned int)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result send_json(struct req *r, int status, json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_FLAGS);
	enum MHD_Result ret;
	char *body;

	if (asprintf(&body, "%s\n", s) < 0) {
		json_object_put(o);
		return MHD_NO;
	}
	ret = send_text(r, status, "application/json", body, strlen(body),
			status == 503 ? "1" : NULL, NULL);
	free(body);
	json_object_put(o);
	return ret;
}

static json_object *error_object(const struct lxd_api_error *e)
{
	json_object *o = json_object_new_object(), *err = json_object_new_object();

	json_object_object_add(err, "message",
			       json_object_new_string(e->message));
	json_object_object_add(err, "type", json_object_new_string(e->type));
	json_object_object_add(err, "param", e->param ?
			       json_object_new_string(e->param) : NULL);
	json_object_object_add(err, "code", e->code ?
			       json_object_new_string(e->code) : NULL);
	json_object_object_add(o, "error", err);
	return o;
}

static enum MHD_Result send_error(struct req *r, const struct lxd_api_error *e,
				  const char *allow)
{
	json_object *o = error_object(e);
	const char *s = json_object_to_json_string_ext(o, JSON_FLAGS);
	enum MHD_Result ret;
	char *body;

	if (asprintf(&body, "%s\n", s) < 0) {
		json_object_put(o);
		return MHD_NO;
	}
	ret = send_text(r, e->status, "application/json", body, strlen(body),
			e->status == 503 ? "1" : NULL, allow);
	free(body);
	json_object_put(o);
	return ret;
}

static enum MHD_Result fail(struct req *r, int status, const char *type,
			    const char *code, const char *param,
			    const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static enum MHD_Result fail(struct req *r, int status, const char *type,
			    const char *code, const char *param,
			    const char *fmt, ...)
{
	struct lxd_api_error e = { status, type, code, param, "" };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e.message, sizeof(e.message), fmt, ap);
	va_end(ap);
	return send_error(r, &e, NULL);
}

#define BAD(r, param, ...) \
	fail(r, 400, "invalid_request_error", NULL, param, __VA_ARGS__)

/* ---- JSON request fields ---- */

static const char *type_name(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double: return "a number";
	case json_type_int: return "an integer";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	}
	return "something else";
}

static void type_error(struct lxd_api_error *e, const char *key,
		       const char *want, json_object *v)
{
	lxd_api_error_set(e, 400, "invalid_request_error", "invalid_type", key,
			  "Invalid type for '%s': expected %s, but got %s instead.",
			  key, want, type_name(v));
}

/* The member or NULL; JSON null counts as absent. */
static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static bool get_number(json_object *o, const char *key, double min,
		       double max, double *out, struct lxd_api_error *e)
{
	json_object *v = member(o, key);
	double d;

	if (!v)
		return true;
	if (!json_object_is_type(v, json_type_double) &&
	    !json_object_is_type(v, json_type_int)) {
		type_error(e, key, "a number", v);
		return false;
	}
	d = json_object_get_double(v);
	if (!(d >= min && d <= max)) {
		lxd_api_error_set(e, 400, "invalid_request_error",
				  "invalid_value", key,
				  "'%s' must be between %g and %g, got %g", key,
				  min, max, d);
		return false;
	}
	*out = d;
	return true;
}

static bool get_int(json_object *o, const char *key, int64_t min, int64_t max,
		    int64_t *out, struct lxd_api_error *e)
{
	json_object *v = member(o, key);
	int64_t n;

	if (!v)
		return true;
	if (!json_object_is_type(v, json_type_int)) {
		if (json_object_is_type(v, json_type_double)) {
			double d = json_object_get_double(v);

			if (d == (double)(int64_t)d) {
				n = (int64_t)d;
				goto range;
			}
		}
		type_error(e, key, "an integer", v);
		return false;
	}
	n = json_object_get_int64(v);
range:
	if (n < min || n > max) {
		lxd_api_error_set(e, 400, "invalid_request_error",
				  "invalid_value", key,
				  "'%s' must be between %lld and %lld, got %lld",
				  key, (long long)min, (long long)max,
				  (long long)n);
		return false;
	}
	*out = n;
	return true;
}

static bool get_bool(json_object *o, const char *key, bool *out,
		     struct lxd_api_error *e)
{
	json_object *v = member(o, key);

	if (!v)
		return true;
	if (!json_object_is_type(v, json_type_boolean)) {
		type_error(e, key, "a boolean", v);
		return false;
	}
	*out = json_object_get_boolean(v);
	return true;
}

static bool get_string(json_object *o, const char *key, const char **out,
		       struct lxd_api_error *e)
{
	json_object *v = member(o, key);

	if (!v)
		return true;
	if (!json_object_is_type(v, json_type_string)) {
		type_error(e, key, "a string", v);
		return false;
	}
	*out = json_object_get_string(v);
	return true;
}

/* Parses the body: a JSON object, or false with the error in e. */
static json_object *parse_body(struct req *r, struct lxd_api_error *e)
{
	struct json_tokener *tok;
	json_object *o;
	size_t end;

	if (!r->len) {
		lxd_api_error_set(e, 400, "invalid_request_error", NULL, NULL,
				  "the request body is empty; send a JSON object");
		return NULL;
	}
	tok = json_tokener_new_ex(64);
	if (!tok) {
		lxd_api_error_set(e, 500, "server_error", NULL, NULL,
				  "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
				    JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, r->body, (int)r->len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error je = json_tokener_get_error(tok);

		lxd_api_error_set(e, 400, "invalid_request_error",
				  "invalid_json", NULL,
				  "the body is not valid JSON: %s (at byte %zu)",
				  je == json_tokener_continue ?
				  "unexpected end of input" :
				  json_tokener_error_desc(je),
				  json_tokener_get_parse_end(tok));
		json_object_put(o);
		json_tokener_free(tok);
		return NULL;
	}
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	while (end < r->len && strchr(" \t\r\n", r->body[end]))
		end++;
	if (end < r->len) {
		lxd_api_error_set(e, 400, "invalid_request_error",
				  "invalid_json", NULL,
				  "the body is not valid JSON: extra data at byte %zu",
				  end);
		json_object_put(o);
		return NULL;
	}
	if (!json_object_is_type(o, json_type_object)) {
		lxd_api_error_set(e, 400, "invalid_request_error",
				  "invalid_json", NULL,
				  "the body must be a JSON object, not %s",
				  type_name(o));
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Sampling, limits and stops shared by both generation endpoints. */
struct gen_opts {
	bool stream, include_usage;
	int64_t max_tokens;
};

static bool parse_common(json_object *o, struct lxd_job *j,
			 struct gen_opts *g, struct lxd_api_error *e)
{
	struct llamux_sampler_params *sp = &j->sp;
	double temp = sp->temp, top_p = sp->top_p, min_p = sp->min_p;
	double rp = sp->repeat_penalty, ignored;
	int64_t n = 1, seed, top_k = sp->top_k, last_n = sp->repeat_last_n;
	const char *model = NULL;
	json_object *v, *so;
	bool seed_given = false;

	if (!get_string(o, "model", &model, e) ||
	    !get_bool(o, "stream", &g->stream, e) ||
	    !get_int(o, "max_tokens", -1, INT32_MAX, &g->max_tokens, e) ||
	    !get_int(o, "max_completion_tokens", -1, INT32_MAX, &g->max_tokens,
		     e) ||
	    !get_number(o, "temperature", 0, 100, &temp, e) ||
	    !get_number(o, "top_p", 0, 1, &top_p, e) ||
	    !get_number(o, "min_p", 0, 1, &min_p, e) ||
	    !get_int(o, "top_k", 0, INT32_MAX, &top_k, e) ||
	    !get_number(o, "repeat_penalty", 0, 100, &rp, e) ||
	    !get_int(o, "repeat_last_n", 0, 1 << 20, &last_n, e) ||
	    !get_number(o, "frequency_penalty", -2, 2, &ignored, e) ||
	    !get_number(o, "presence_penalty", -2, 2, &ignored, e) ||
	    !get_int(o, "n", INT64_MIN, INT64_MAX, &n, e))
		return false;
	if (n != 1) {
		lxd_api_error_set(e, 400, "invalid_request_error",
				  "invalid_value", "n",
				  "only n = 1 is supported, got %lld",
				  (long long)n);
		return false;
	}
	if (g->max_tokens == 0) {
		lxd_api_error_set(e, 400, "invalid_request_error",
				  "invalid_value", "max_tokens",
				  "'max_tokens' must be at least 1");
		return false;
	}
	v = member(o, "seed");
	if (v) {
		if (!get_int(o, "seed", INT64_MIN, INT64_MAX, &seed, e))
			return false;
		seed_given = true;
	}
	so = member(o, "stream_options");
	if (so) {
		if (!json_object_is_type(so, json_type_object)) {
			type_error(e, "stream_options", "an object", so);
			return false;
		}
		if (!get_bool(so, "include_usage", &g->include_usage, e))
			return false;
	}
	v = member(o, "stop");
	if (v) {
		if (json_object_is_type(v, json_type_string)) {
			lxd_job_add_stop(j, json_object_get_string(v),
					 (size_t)json_object_get_string_len(v));
		} else if (json_object_is_type(v, json_type_array)) {
			size_t i, len = json_object_array_length(v);

			if (len > 4) {
				lxd_api_error_set(e, 400, "invalid_request_error",
						  "invalid_value", "stop",
						  "'stop' takes at most 4 strings, got %zu",
						  len);
				return false;
			}
			for (i = 0; i < len; i++) {
				json_object *s = json_object_array_get_idx(v, i);

				if (!json_object_is_type(s, json_type_string)) {
					type_error(e, "stop", "an array of strings", s);
					return false;
				}
				lxd_job_add_stop(j, json_object_get_string(s),
						 (size_t)json_object_get_string_len(s));
			}
		} else {
			type_error(e, "stop", "a string or an array of strings", v);
			return false;
		}
	}
	sp->temp = (float)temp;
	sp->top_p = (float)top_p;
	sp->min_p = (float)min_p;
	sp->top_k = (int32_t)top_k;
	sp->repeat_penalty = (float)rp;
	sp->repeat_last_n = (int32_t)last_n;
	if (seed_given)
		sp->seed = (uint64_t)seed;
	return true;
}

/* ---- generation responses ---- */

static json_object *usage_object(uint32_t prompt, uint32_t gen)
{
	json_object *u = json_object_new_object();

	json_object_object_add(u, "prompt_tokens", json_object_new_int64(prompt));
	json_object_object_add(u, "completion_tokens", json_object_new_int64(gen));
	json_object_object_add(u, "total_tokens",
			       json_object_new_int64((int64_t)prompt + gen));
	return u;
}

static json_object *envelope(enum kind k, const char *id, const char *model,
			     long created, bool chunk)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "object", json_object_new_string(
		k == KIND_CHAT ? (chunk ? "chat.completion.chunk" :
				  "chat.completion") : "text_completion"));
	json_object_object_add(o, "created", json_object_new_int64(created));
	json_object_object_add(o, "model", json_object_new_string(model));
	json_object_object_add(o, "system_fingerprint",
			       json_object_new_string("llamux"));
	return o;
}

/* One choice: delta/message/text with content, and the finish reason. */
static json_object *choice(enum kind k, bool chunk, const char *text,
			   size_t len, bool role, const char *finish)
{
	json_object *c = json_object_new_object();

	json_object_object_add(c, "index", json_object_new_int(0));
	if (k == KIND_CHAT) {
		json_object *m = json_object_new_object();

		if (role || !chunk)
			json_object_object_add(m, "role",
					       json_object_new_string("assistant"));
		if (text)
			json_object_object_add(m, "content",
					       json_object_new_string_len(text, (int)len));
		json_object_object_add(c, chunk ? "delta" : "message", m);
	} else {
		json_object_object_add(c, "text", json_object_new_string_len(
			text ? text : "", text ? (int)len : 0));
		json_object_object_add(c, "logprobs", NULL);
	}
	json_object_object_add(c, "finish_reason",
			       finish ? json_object_new_string(finish) : NULL);
	return c;
}

/* Waits for the job in the request thread, cancelling on a hang-up. */
static char *wait_whole(struct req *r, struct lxd_job *j, int efd,
			size_t *len)
{
	char *all = NULL, *t;
	size_t cap = 0, n;
	bool done = false;

	*len = 0;
	set_timeout(r->conn, 0);
	for (;;) {
		done = lxd_job_wait_take(j, 0, &t, &n);
		if (t) {
			if (*len + n + 1 > cap) {
				char *p;

				cap = (*len + n + 1) * 2;
				p = realloc(all, cap);
				if (!p) {
					free(t);
					lxd_job_cancel(j);
					continue;
				}
				all = p;
			}
			memcpy(all + *len, t, n);
			*len += n;
			all[*len] = '\0';
			free(t);
		}
		if (done)
			break;
		if (!t && wait_news(r->conn, efd, !r->cancelled) &&
		    !r->cancelled) {
			r->cancelled = true;
			lxd_job_cancel(j);
		}
	}
	set_timeout(r->conn, idle_timeout());
	return all;
}

static void stream_put(struct stream *s, const char *p, size_t n)
{
	if (s->out_len + n > s->out_cap) {
		size_t cap = (s->out_len + n) * 2 + 256;
		char *q = realloc(s->out, cap);

		if (!q)
			return;
		s->out = q;
		s->out_cap = cap;
	}
	memcpy(s->out + s->out_len, p, n);
	s->out_len += n;
}

static void stream_event(struct stream *s, json_object *o)
{
	const char *js = json_object_to_json_string_ext(o, JSON_FLAGS);

	stream_put(s, "data: ", 6);
	stream_put(s, js, strlen(js));
	stream_put(s, "\n\n", 2);
	json_object_put(o);
}

static void stream_delta(struct stream *s, const char *text, size_t len,
			 bool role, const char *finish, bool usage)
{
	json_object *o = envelope(s->kind, s->id, s->model, s->created, true);
	json_object *arr = json_object_new_array();

	json_object_array_add(arr, choice(s->kind, true, text, len, role, finish));
	json_object_object_add(o, "choices", arr);
	if (usage)
		json_object_object_add(o, "usage",
				       usage_object(s->job->n_tokens,
						    s->job->n_gen));
	stream_event(s, o);
}

/* The end: finish reason (or error), usage, [DONE]. */
static void stream_end(struct stream *s)
{
	struct lxd_job *j = s->job;

	if (j->finish == LXD_FINISH_ERROR) {
		struct lxd_api_error e;

		lxd_api_error_set(&e, 500, "server_error", NULL, NULL, "%s",
				  j->error);
		stream_event(s, error_object(&e));
	} else {
		stream_delta(s, NULL, 0, false, lxd_finish_reason(j->finish),
			     true);
		if (s->include_usage) {
			json_object *o = envelope(s->kind, s->id, s->model,
						  s->created, true);

			json_object_object_add(o, "choices",
					       json_object_new_array());
			json_object_object_add(o, "usage",
					       usage_object(j->n_tokens, j->n_gen));
			stream_event(s, o);
		}
	}
	stream_put(s, "data: [DONE]\n\n", 14);
	if (s->req) {
		s->req->prompt_tokens = j->n_tokens;
		s->req->gen_tokens = j->n_gen;
		if (j->finish == LXD_FINISH_CANCELLED)
			s->req->cancelled = true;
	}
	s->ended = true;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;

	(void)pos;
	for (;;) {
		size_t n, n_marks, *marks;
		char *t;
		bool done;

		if (s->out_off < s->out_len) {
			n = s->out_len - s->out_off;
			if (n > max)
				n = max;
			memcpy(buf, s->out + s->out_off, n);
			s->out_off += n;
			s->last_send = lxd_now_ns();
			return (ssize_t)n;
		}
		s->out_len = s->out_off = 0;
		if (s->ended)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (!s->started) {
			s->started = true;
			if (s->kind == KIND_CHAT) {
				stream_delta(s, "", 0, true, NULL, false);
				continue;
			}
		}
		/* Before every token: a client that left stops its job. */
		if (client_gone(s->conn))
			goto gone;
		done = lxd_job_take_tokens(s->job, &t, &n, &marks, &n_marks);
		if (t) {
			size_t k, at = 0;

			/* One event per token, as OpenAI's API sends them. */
			for (k = 0; k <= n_marks; k++) {
				size_t end = k < n_marks ? marks[k] : n;

				if (end <= at || end > n)
					continue;
				stream_delta(s, t + at, end - at, false, NULL,
					     false);
				at = end;
				s->sent++;
			}
			free(t);
			free(marks);
			if (s->req)
				s->req->sent = s->sent;
		}
		if (done) {
			stream_end(s);
			continue;
		}
		if (t)
			continue;
		if (wait_news(s->conn, s->efd, true))
			goto gone;
		if (lxd_now_ns() - s->last_send > KEEPALIVE_NS)
			stream_put(s, ": keep-alive\n\n", 14);
	}
gone:
	lxd_job_cancel(s->job);
	if (s->req)
		s->req->cancelled = true;
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;
	bool done;

	pthread_mutex_lock(&s->job->lock);
	done = s->job->done;
	pthread_mutex_unlock(&s->job->lock);
	if (!done)
		lxd_job_cancel(s->job);
	if (s->req)
		s->req->stream = NULL;
	unwatch_job(s->job, s->efd);
	lxd_job_put(s->job);
	free(s->out);
	free(s);
}

/* Runs a prepared job: a stream, or a whole response. */
static enum MHD_Result run_job(struct req *r, struct lxd_job *j, enum kind k,
			       const struct gen_opts *g)
{
	struct lxd_engine_info info;
	struct lxd_api_error e;
	char id[48];
	long created = (long)time(NULL);
	json_object *o, *arr;
	size_t len;
	char *text;
	int rc, efd;

	lxd_job_apply_limits(j, g->max_tokens);
	lxd_engine_info(&info);
	make_id(id, sizeof(id), k == KIND_CHAT ? "chatcmpl-" : "cmpl-");
	r->prompt_tokens = j->n_tokens;
	efd = watch_job(j);
	rc = lxd_engine_submit(j);
	if (rc) {
		lxd_submit_error(rc, &e);
		unwatch_job(j, efd);
		lxd_job_put(j);
		return send_error(r, &e, NULL);
	}
	lxd_metric_add(requests_total, 1);
	r->job_id = j->id;
	if (g->stream) {
		struct stream *s = calloc(1, sizeof(*s));
		struct MHD_Response *resp;
		enum MHD_Result ret;

		if (!s) {
			lxd_job_cancel(j);
			unwatch_job(j, efd);
			lxd_job_put(j);
			return MHD_NO;
		}
		s->efd = efd;
		s->req = r;
		s->job = j;
		s->conn = r->conn;
		s->kind = k;
		s->created = created;
		s->include_usage = g->include_usage;
		s->last_send = lxd_now_ns();
		snprintf(s->id, sizeof(s->id), "%s", id);
		snprintf(s->model, sizeof(s->model), "%s", info.model_name);
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
							 stream_read, s,
							 stream_free);
		if (!resp) {
			stream_free(s);
			return MHD_NO;
		}
		r->stream = s;
		r->streamed = true;
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					"text/event-stream");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
					"no-cache");
		MHD_add_response_header(resp, "X-Accel-Buffering", "no");
		/* Long waits between events are not idleness. */
		set_timeout(r->conn, 0);
		r->status = 200;
		ret = MHD_queue_response(r->conn, 200, resp);
		MHD_destroy_response(resp);
		return ret;
	}

	text = wait_whole(r, j, efd, &len);
	unwatch_job(j, efd);
	r->gen_tokens = j->n_gen;
	if (j->finish == LXD_FINISH_ERROR) {
		lxd_api_error_set(&e, strstr(j->error, "model was changed") ?
				  503 : 500, "server_error", NULL, NULL, "%s",
				  j->error);
		free(text);
		lxd_job_put(j);
		return send_error(r, &e, NULL);
	}
	o = envelope(k, id, info.model_name, created, false);
	arr = json_object_new_array();
	json_object_array_add(arr, choice(k, false, text ? text : "", len, true,
					  lxd_finish_reason(j->finish)));
	json_object_object_add(o, "choices", arr);
	json_object_object_add(o, "usage", usage_object(j->n_tokens, j->n_gen));
	free(text);
	lxd_job_put(j);
	return send_json(r, 200, o);
}

/* ---- endpoints ---- */

static bool role_name(const char *s, const char **out)
{
	static const char *const roles[] = { "system", "user", "assistant" };
	size_t i;

	for (i = 0; i < 3; i++) {
		if (!strcmp(s, roles[i])) {
			*out = roles[i];
			return true;
		}
	}
	if (!strcmp(s, "developer")) {
		*out = "system";
		return true;
	}
	return false;
}

/* The text of a message's content: a string or an array of text parts. */
static char *content_text(json_object *c, size_t i, struct lxd_api_error *e)
{
	size_t n, k, len = 0;
	char *out;

	if (!c || json_object_is_type(c, json_type_null))
		return strdup("");
	if (json_object_is_type(c, json_type_string))
		return strdup(json_object_get_string(c));
	if (!json_object_is_type(c, json_type_array)) {
		lxd_api_error_set(e, 400, "invalid_request_error", "invalid_type",
				  "messages", "Invalid type for 'messages[%zu].content': expected a string or an array of text parts, but got %s instead.",
				  i, type_name(c));
		return NULL;
	}
	n = json_object_array_length(c);
	out = calloc(1, 1);
	for (k = 0; k < n && out; k++) {
		json_object *p = json_object_array_get_idx(c, k), *t, *ty;
		const char *s;
		char *q;

		if (!json_object_is_type(p, json_type_object) ||
		    !json_object_object_get_ex(p, "type", &ty) ||
		    !json_object_is_type(ty, json_type_string) ||
		    strcmp(json_object_get_string(ty), "text") ||
		    !json_object_object_get_ex(p, "text", &t) ||
		    !json_object_is_type(t, json_type_string)) {
			lxd_api_error_set(e, 400, "invalid_request_error",
					  "invalid_value", "messages",
					  "'messages[%zu].content[%zu]' must be {\"type\": \"text\", \"text\": STRING}; other content types are not supported",
					  i, k);
			free(out);
			return NULL;
		}
		s = json_object_get_string(t);
		q = realloc(out, len + strlen(s) + 1);
		if (!q) {
			free(out);
			return NULL;
		}
		out = q;
		memcpy(out + len, s, strlen(s) + 1);
		len += strlen(s);
	}
	return out;
}

static enum MHD_Result chat_completions(struct req *r, json_object *o)
{
	struct gen_opts g = { 0 };
	struct lxd_api_error e = { 0 };
	struct chat_msg *msgs = NULL;
	json_object *ms = member(o, "messages");
	struct lxd_job *j;
	size_t n = 0, i;
	bool ok = false;

	if (!ms) {
		lxd_api_error_set(&e, 400, "invalid_request_error", "missing_required_parameter",
				  "messages", "Missing required parameter: 'messages'.");
		return send_error(r, &e, NULL);
	}
	if (!json_object_is_type(ms, json_type_array)) {
		type_error(&e, "messages", "an array", ms);
		return send_error(r, &e, NULL);
	}
	n = json_object_array_length(ms);
	if (!n)
		return BAD(r, "messages", "'messages' must hold at least one message");
	j = lxd_job_new();
	msgs = calloc(n, sizeof(*msgs));
	if (!j || !msgs) {
		lxd_job_put(j);
		free(msgs);
		return fail(r, 500, "server_error", NULL, NULL, "out of memory");
	}
	lxd_sampler_defaults(&j->sp);
	for (i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(ms, i), *role;

		if (!json_object_is_type(m, json_type_object)) {
			lxd_api_error_set(&e, 400, "invalid_request_error", "invalid_type",
					  "messages", "Invalid type for 'messages[%zu]': expected an object, but got %s instead.",
					  i, type_name(m));
			goto out;
		}
		if (!json_object_object_get_ex(m, "role", &role) ||
		    !json_object_is_type(role, json_type_string) ||
		    !role_name(json_object_get_string(role), &msgs[i].role)) {
			lxd_api_error_set(&e, 400, "invalid_request_error", "invalid_value",
					  "messages", "'messages[%zu].role' must be \"system\", \"user\" or \"assistant\"",
					  i);
			goto out;
		}
		msgs[i].content = content_text(member(m, "content"), i, &e);
		if (!msgs[i].content) {
			if (!e.status)
				lxd_api_error_set(&e, 500, "server_error", NULL,
						  NULL, "out of memory");
			goto out;
		}
	}
	if (!parse_common(o, j, &g, &e) ||
	    !lxd_job_prompt_chat(j, msgs, n, &e))
		goto out;
	ok = true;
out:
	for (i = 0; i < n; i++)
		free((char *)msgs[i].content);
	free(msgs);
	if (!ok) {
		lxd_job_put(j);
		return send_error(r, &e, NULL);
	}
	return run_job(r, j, KIND_CHAT, &g);
}

static enum MHD_Result completions(struct req *r, json_object *o)
{
	struct gen_opts g = { .max_tokens = 16 };
	struct lxd_api_error e = { 0 };
	json_object *p = member(o, "prompt");
	struct lxd_job *j;
	bool echo = false;

	if (!p) {
		lxd_api_error_set(&e, 400, "invalid_request_error", "missing_required_parameter",
				  "prompt", "Missing required parameter: 'prompt'.");
		return send_error(r, &e, NULL);
	}
	if (json_object_is_type(p, json_type_array)) {
		if (json_object_array_length(p) != 1)
			return BAD(r, "prompt", "only one prompt per request is supported, got %zu",
				   json_object_array_length(p));
		p = json_object_array_get_idx(p, 0);
	}
	if (!json_object_is_type(p, json_type_string)) {
		type_error(&e, "prompt", "a string", p);
		return send_error(r, &e, NULL);
	}
	if (!get_bool(o, "echo", &echo, &e))
		return send_error(r, &e, NULL);
	if (echo)
		return BAD(r, "echo", "'echo' is not supported");
	j = lxd_job_new();
	if (!j)
		return fail(r, 500, "server_error", NULL, NULL, "out of memory");
	lxd_sampler_defaults(&j->sp);
	if (!parse_common(o, j, &g, &e) ||
	    !lxd_job_prompt_text(j, json_object_get_string(p),
				 (size_t)json_object_get_string_len(p), &e)) {
		lxd_job_put(j);
		return send_error(r, &e, NULL);
	}
	return run_job(r, j, KIND_COMPLETION, &g);
}

static enum MHD_Result tokenize(struct req *r, json_object *o)
{
	const char *text = NULL;
	bool add_special = true, parse_special = false, pieces = false;
	struct lxd_api_error e = { 0 };
	const struct llamux_model *m;
	json_object *res, *arr;
	int32_t *toks;
	int64_t n, i;

	if (!get_string(o, "content", &text, &e) ||
	    !get_bool(o, "add_special", &add_special, &e) ||
	    !get_bool(o, "parse_special", &parse_special, &e) ||
	    !get_bool(o, "with_pieces", &pieces, &e))
		return send_error(r, &e, NULL);
	if (!text) {
		lxd_api_error_set(&e, 400, "invalid_request_error", "missing_required_parameter",
				  "content", "Missing required parameter: 'content'.");
		return send_error(r, &e, NULL);
	}
	m = lxd_engine_model_get(NULL);
	if (!m) {
		lxd_submit_error(-EAGAIN, &e);
		return send_error(r, &e, NULL);
	}
	n = llamux_tokenize(m, text, strlen(text), add_special, parse_special,
			    NULL, 0);
	toks = malloc((size_t)(n > 0 ? n : 1) * sizeof(*toks));
	if (n < 0 || !toks) {
		lxd_engine_model_put();
		free(toks);
		return fail(r, 500, "server_error", NULL, NULL,
			    "cannot tokenize the text");
	}
	llamux_tokenize(m, text, strlen(text), add_special, parse_special, toks,
			(size_t)n);
	res = json_object_new_object();
	arr = json_object_new_array_ext((int)n);
	for (i = 0; i < n; i++) {
		if (pieces) {
			char piece[256];
			size_t pl = llamux_token_to_piece(m, toks[i], true, piece,
							  sizeof(piece));
			json_object *t = json_object_new_object();
			char clean[3 * sizeof(piece)];
			size_t k, w = 0;

			/* Pieces may be parts of a character: hex-escape
			 * what is not plain text.
			 */
			for (k = 0; k < pl && k < sizeof(piece); k++) {
				unsigned char c = (unsigned char)piece[k];

				if (c >= 0x80)
					w += (size_t)snprintf(clean + w, sizeof(clean) - w,
							      "<0x%02X>", c);
				else
					clean[w++] = (char)c;
			}
			json_object_object_add(t, "id", json_object_new_int(toks[i]));
			json_object_object_add(t, "piece",
					       json_object_new_string_len(clean, (int)w));
			json_object_array_add(arr, t);
		} else {
			json_object_array_add(arr, json_object_new_int(toks[i]));
		}
	}
	lxd_engine_model_put();
	free(toks);
	json_object_object_add(res, "tokens", arr);
	return send_json(r, 200, res);
}

static enum MHD_Result detokenize(struct req *r, json_object *o)
{
	json_object *arr = member(o, "tokens"), *res;
	struct lxd_api_error e = { 0 };
	const struct llamux_model *m;
	struct llamux_detok d = { { 0 }, 0 };
	char *out = NULL, piece[512];
	size_t n, i, len = 0;
	int32_t nv;

	if (!arr) {
		lxd_api_error_set(&e, 400, "invalid_request_error", "missing_required_parameter",
				  "tokens", "Missing required parameter: 'tokens'.");
		return send_error(r, &e, NULL);
	}
	if (!json_object_is_type(arr, json_type_array)) {
		type_error(&e, "tokens", "an array of integers", arr);
		return send_error(r, &e, NULL);
	}
	m = lxd_engine_model_get(NULL);
	if (!m) {
		lxd_submit_error(-EAGAIN, &e);
		return send_error(r, &e, NULL);
	}
	nv = llamux_n_vocab(m);
	n = json_object_array_length(arr);
	out = malloc(n * sizeof(piece) + 64);
	for (i = 0; out && i < n; i++) {
		json_object *t = json_object_array_get_idx(arr, i);
		int64_t id;

		if (!json_object_is_type(t, json_type_int)) {
			lxd_engine_model_put();
			free(out);
			type_error(&e, "tokens", "an array of integers", t);
			return send_error(r, &e, NULL);
		}
		id = json_object_get_int64(t);
		if (id < 0 || id >= nv) {
			lxd_engine_model_put();
			free(out);
			return BAD(r, "tokens", "token %lld at index %zu is outside the vocabulary (0..%d)",
				   (long long)id, i, nv - 1);
		}
		len += llamux_detok_push(m, &d, (int32_t)id, out + len,
					 sizeof(piece));
	}
	lxd_engine_model_put();
	if (!out)
		return fail(r, 500, "server_error", NULL, NULL, "out of memory");
	len += llamux_detok_flush(&d, out + len, 64);
	res = json_object_new_object();
	json_object_object_add(res, "content",
			       json_object_new_string_len(out, (int)len));
	free(out);
	return send_json(r, 200, res);
}

static enum MHD_Result models(struct req *r, const char *one)
{
	struct lxd_engine_info info;
	json_object *o, *arr, *m;
	bool ready;

	lxd_engine_info(&info);
	ready = info.status == LXD_STATUS_READY ||
		info.status == LXD_STATUS_STOPPING;
	if (one && (!ready || strcmp(one, info.model_name)))
		return fail(r, 404, "invalid_request_error", "model_not_found",
			    "model", "The model '%s' does not exist", one);
	m = json_object_new_object();
	json_object_object_add(m, "id", json_object_new_string(info.model_name));
	json_object_object_add(m, "object", json_object_new_string("model"));
	json_object_object_add(m, "created", json_object_new_int64((int64_t)info.loaded_at));
	json_object_object_add(m, "owned_by", json_object_new_string("llamux"));
	json_object_object_add(m, "context_length", json_object_new_int64(info.n_ctx));
	if (one)
		return send_json(r, 200, m);
	o = json_object_new_object();
	arr = json_object_new_array();
	if (ready)
		json_object_array_add(arr, m);
	else
		json_object_put(m);
	json_object_object_add(o, "object", json_object_new_string("list"));
	json_object_object_add(o, "data", arr);
	return send_json(r, 200, o);
}

static enum MHD_Result health(struct req *r)
{
	static const char *const names[] = {
		[LXD_STATUS_LOADING] = "loading", [LXD_STATUS_READY] = "ok",
		[LXD_STATUS_FAILED] = "error", [LXD_STATUS_STOPPING] = "stopping",
	};
	struct lxd_engine_info info;
	json_object *o = json_object_new_object();

	lxd_engine_info(&info);
	json_object_object_add(o, "status", json_object_new_string(names[info.status]));
	json_object_object_add(o, "model", json_object_new_string(info.model_name));
	json_object_object_add(o, "slots_idle", json_object_new_int64(info.slots - info.busy));
	json_object_object_add(o, "slots_busy", json_object_new_int64(info.busy));
	json_object_object_add(o, "queued", json_object_new_int64(info.queued));
	return send_json(r, info.status == LXD_STATUS_READY ? 200 : 503, o);
}

static enum MHD_Result metrics(struct req *r)
{
	char *text = lxd_metrics_render();
	enum MHD_Result ret;

	if (!text)
		return fail(r, 500, "server_error", NULL, NULL, "out of memory");
	ret = send_text(r, 200, "text/plain; version=0.0.4; charset=utf-8",
			text, strlen(text), NULL, NULL);
	free(text);
	return ret;
}

/* ---- routing ---- */

enum route {
	R_NONE, R_HEALTH, R_METRICS, R_MODELS, R_MODEL, R_CHAT, R_COMPLETIONS,
	R_TOKENIZE, R_DETOKENIZE,
};

static enum route find_route(const char *path, bool *post, const char **arg)
{
	static const struct { const char *path; enum route r; bool post; } t[] = {
		{ "/health", R_HEALTH, false }, { "/v1/health", R_HEALTH, false },
		{ "/metrics", R_METRICS, false },
		{ "/v1/models", R_MODELS, false }, { "/models", R_MODELS, false },
		{ "/v1/chat/completions", R_CHAT, true },
		{ "/chat/completions", R_CHAT, true },
		{ "/v1/completions", R_COMPLETIONS, true },
		{ "/completions", R_COMPLETIONS, true },
		{ "/tokenize", R_TOKENIZE, true }, { "/v1/tokenize", R_TOKENIZE, true },
		{ "/detokenize", R_DETOKENIZE, true },
		{ "/v1/detokenize", R_DETOKENIZE, true },
	};
	size_t i;

	*post = false;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!strcmp(path, t[i].path)) {
			*post = t[i].post;
			return t[i].r;
		}
	}
	if (!strncmp(path, "/v1/models/", 11) && path[11]) {
		*post = false;
		*arg = path + 11;
		return R_MODEL;
	}
	return R_NONE;
}

/* The checks that need no body: route, method, API key. */
static enum MHD_Result early_checks(struct req *r, enum route rt, bool post,
				    bool *handled)
{
	const struct lxd_config *c;
	const char *auth = NULL, *ct;
	bool need_key, ok = true;
	unsigned long long cl;

	*handled = true;
	if (rt == R_NONE)
		return fail(r, 404, "invalid_request_error", "not_found", NULL,
			    "no endpoint %s %s", r->method, r->path);
	if (post ? strcmp(r->method, "POST") :
	    (strcmp(r->method, "GET") && strcmp(r->method, "HEAD"))) {
		struct lxd_api_error e = { 405, "invalid_request_error",
					   "method_not_allowed", NULL, "" };

		snprintf(e.message, sizeof(e.message),
			 "%s takes %s, not %s", r->path, post ? "POST" : "GET",
			 r->method);
		return send_error(r, &e, post ? "POST" : "GET, HEAD");
	}
	c = lxd_config_get();
	need_key = rt != R_HEALTH && !r->is_unix && c->api_key[0];
	if (need_key) {
		auth = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						   MHD_HTTP_HEADER_AUTHORIZATION);
		ok = auth && !strncasecmp(auth, "Bearer ", 7);
		if (ok) {
			auth += 7;
			while (*auth == ' ')
				auth++;
			ok = key_equal(auth, strlen(auth), c->api_key);
		}
	}
	cl = 0;
	if (post) {
		const char *len = MHD_lookup_connection_value(r->conn,
							       MHD_HEADER_KIND,
							       MHD_HTTP_HEADER_CONTENT_LENGTH);

		if (len)
			cl = strtoull(len, NULL, 10);
	}
	if (cl > (unsigned long long)c->max_body) {
		long max = c->max_body;

		lxd_config_put();
		if (!ok)
			goto unauthorized;
		return fail(r, 413, "invalid_request_error", "request_too_large",
			    NULL, "the request body of %llu bytes exceeds the limit of %ld",
			    cl, max);
	}
	lxd_config_put();
	if (!ok)
		goto unauthorized;
	if (post) {
		ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						 MHD_HTTP_HEADER_CONTENT_TYPE);
		if (ct && strncasecmp(ct, "application/json", 16) &&
		    strncasecmp(ct, "text/plain", 10) &&
		    strncasecmp(ct, "application/x-www-form-urlencoded", 33))
			return fail(r, 415, "invalid_request_error",
				    "unsupported_media_type", NULL,
				    "send the body as application/json, not %s",
				    ct);
	}
	*handled = false;
	return MHD_YES;
unauthorized:
	return fail(r, 401, "invalid_request_error", "invalid_api_key", NULL,
		    "%s", auth ? "Incorrect API key provided." :
		    "You didn't provide an API key: send 'Authorization: Bearer KEY'.");
}

static enum MHD_Result dispatch(struct req *r)
{
	struct lxd_api_error e = { 0 };
	const char *arg = NULL;
	enum MHD_Result ret;
	enum route rt;
	json_object *o;
	bool post;

	rt = find_route(r->path, &post, &arg);
	switch (rt) {
	case R_HEALTH:
		return health(r);
	case R_METRICS:
		return metrics(r);
	case R_MODELS:
		return models(r, NULL);
	case R_MODEL:
		return models(r, arg);
	default:
		break;
	}
	if (r->too_big) {
		const struct lxd_config *c = lxd_config_get();
		long max = c->max_body;

		lxd_config_put();
		return fail(r, 413, "invalid_request_error", "request_too_large",
			    NULL, "the request body exceeds the limit of %ld bytes",
			    max);
	}
	o = parse_body(r, &e);
	if (!o)
		return send_error(r, &e, NULL);
	switch (rt) {
	case R_CHAT:
		ret = chat_completions(r, o);
		break;
	case R_COMPLETIONS:
		ret = completions(r, o);
		break;
	case R_TOKENIZE:
		ret = tokenize(r, o);
		break;
	case R_DETOKENIZE:
		ret = detokenize(r, o);
		break;
	default:
		ret = fail(r, 404, "invalid_request_error", "not_found", NULL,
			   "no endpoint %s %s", r->method, r->path);
		break;
	}
	json_object_put(o);
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn,
			       const char *url, const char *method,
			       const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct listener *l = cls;
	struct req *r = *con_cls;

	(void)version;
	if (!r) {
		enum route rt;
		const char *arg;
		bool post, handled;
		enum MHD_Result ret;

		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		*con_cls = r;
		r->conn = conn;
		r->is_unix = l->is_unix;
		r->t0 = lxd_now_ns();
		snprintf(r->method, sizeof(r->method), "%s", method);
		snprintf(r->path, sizeof(r->path), "%s", url);
		rt = find_route(url, &post, &arg);
		ret = early_checks(r, rt, post, &handled);
		if (handled)
			return ret;
		return MHD_YES;
	}
	if (r->status) {	/* answered early; drop the body */
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size) {
		const struct lxd_config *c = lxd_config_get();
		size_t max = (size_t)c->max_body;

		lxd_config_put();
		if (!r->too_big && r->len + *upload_size > max) {
			r->too_big = true;
			free(r->body);
			r->body = NULL;
			r->len = r->cap = 0;
		}
		if (!r->too_big) {
			if (r->len + *upload_size + 1 > r->cap) {
				size_t cap = (r->len + *upload_size + 1) * 2;
				char *p = realloc(r->body, cap > max + 1 ?
						  max + 1 : cap);

				if (!p)
					return MHD_NO;
				r->body = p;
				r->cap = cap > max + 1 ? max + 1 : cap;
			}
			memcpy(r->body + r->len, upload, *upload_size);
			r->len += *upload_size;
			r->body[r->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	return dispatch(r);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;
	char sent[16];
	int status;

	(void)cls;
	if (!r)
		return;
	*con_cls = NULL;
	status = r->status ? r->status : 500;
	if (r->stream) {
		r->stream->req = NULL;
		if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) {
			lxd_job_cancel(r->stream->job);
			r->cancelled = true;
		}
	}
	if (status >= 100 && status < 600)
		lxd_metric_add(http_by_code[status / 100], 1);
	if (status >= 500)
		lxd_metric_add(errors_5xx, 1);
	else if (status >= 400)
		lxd_metric_add(errors_4xx, 1);
	lxd_log(status >= 500 && status != 503 ? LXD_LOG_WARNING : LXD_LOG_INFO,
		"%s %s %d job=%llu tokens=%u+%u ms=%.1f%s%s%s%s", r->method,
		r->path, status, (unsigned long long)r->job_id,
		r->prompt_tokens, r->gen_tokens,
		(double)(lxd_now_ns() - r->t0) / 1e6,
		r->streamed ? " stream sent=" : "",
		r->streamed ? (snprintf(sent, sizeof(sent), "%u", r->sent), sent) : "",
		r->is_unix ? " unix" : "",
		r->cancelled ? " cancelled" :
		toe != MHD_REQUEST_TERMINATED_COMPLETED_OK ? " aborted" : "");
	set_timeout(conn, idle_timeout());
	free(r->body);
	free(r);
}

static void connection_notify(void *cls, struct MHD_Connection *conn,
			      void **socket_context,
			      enum MHD_ConnectionNotificationCode toe)
{
	(void)cls;
	(void)conn;
	(void)socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		__atomic_fetch_add(&n_connections, 1, __ATOMIC_RELAXED);
	else
		__atomic_fetch_sub(&n_connections, 1, __ATOMIC_RELAXED);
}

unsigned int lxd_http_connections(void)
{
	return __atomic_load_n(&n_connections, __ATOMIC_RELAXED);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	lxd_debug("http: %s", line);
}

/* ---- listeners ---- */

static bool add_listener(int fd, bool is_unix, char *unlink_path,
			 const struct lxd_config *c)
{
	struct listener *l;

	if (n_listeners >= MAX_LISTENERS) {
		close(fd);
		free(unlink_path);
		return false;
	}
	l = &listeners[n_listeners];
	l->fd = fd;
	l->is_unix = is_unix;
	l->unlink_path = unlink_path;
	l->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
				MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC |
				MHD_USE_ERROR_LOG,
				0, NULL, NULL, handler, l,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
				MHD_OPTION_NOTIFY_CONNECTION, connection_notify, NULL,
				MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned int)c->idle_timeout,
				MHD_OPTION_CONNECTION_LIMIT,
				(unsigned int)c->max_connections,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
				MHD_OPTION_THREAD_STACK_SIZE, (size_t)(512 * 1024),
				MHD_OPTION_END);
	if (!l->d) {
		lxd_err("cannot start the HTTP server on fd %d", fd);
		close(fd);
		if (unlink_path)
			unlink(unlink_path);
		free(unlink_path);
		l->unlink_path = NULL;
		return false;
	}
	n_listeners++;
	return true;
}

static bool listen_tcp(const struct lxd_config *c)
{
	struct addrinfo hints = { 0 }, *res, *ai;
	char port[16], host[NI_MAXHOST], serv[NI_MAXSERV];
	bool any = false;
	int rc, fd, one = 1;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(port, sizeof(port), "%ld", c->port);
	rc = getaddrinfo(*c->host ? c->host : NULL, port, &hints, &res);
	if (rc) {
		lxd_err("cannot resolve --host %s: %s", c->host, gai_strerror(rc));
		return false;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host),
			    serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
		    listen(fd, 128) < 0) {
			lxd_err("cannot listen on %s port %s: %s", host, serv,
				strerror(errno));
			close(fd);
			continue;
		}
		if (add_listener(fd, false, NULL, c)) {
			lxd_notice("listening on http://%s%s%s:%s/",
				   ai->ai_family == AF_INET6 ? "[" : "", host,
				   ai->ai_family == AF_INET6 ? "]" : "", serv);
			any = true;
		}
	}
	freeaddrinfo(res);
	return any;
}

static void mkdirs(const char *path)
{
	char *p = strdup(path), *s;

	if (!p)
		return;
	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	free(p);
}

static bool listen_unix(const struct lxd_config *c)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	const char *path = c->socket_path;
	char *dir, *slash;
	int fd, probe;

	if (strlen(path) >= sizeof(a.sun_path)) {
		lxd_err("socket path too long: %s", path);
		return false;
	}
	strcpy(a.sun_path, path);
	dir = strdup(path);
	slash = dir ? strrchr(dir, '/') : NULL;
	if (slash && slash != dir) {
		*slash = '\0';
		mkdirs(dir);
		mkdir(dir, 0755);
	}
	free(dir);
	/* A socket nobody answers on is left over: replace it. */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0) {
		if (connect(probe, (struct sockaddr *)&a, sizeof(a)) == 0) {
			close(probe);
			lxd_warn("%s: another service answers there; no Unix socket",
				 path);
			return false;
		}
		close(probe);
	}
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    chmod(path, (mode_t)c->socket_mode) < 0 || listen(fd, 128) < 0) {
		lxd_warn("cannot listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	if (!add_listener(fd, true, strdup(path), c))
		return false;
	lxd_notice("listening on unix:%s", path);
	return true;
}

bool lxd_http_start(const struct lxd_config *c)
{
	bool have_tcp = false, have_unix = false;
	int n, i;

	n = sd_listen_fds(1);
	for (i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i;

		if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) > 0) {
			if (add_listener(fd, true, NULL, c)) {
				have_unix = true;
				lxd_notice("listening on a Unix socket from systemd");
			}
		} else if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0) {
			if (add_listener(fd, false, NULL, c)) {
				have_tcp = true;
				lxd_notice("listening on a TCP socket from systemd");
			}
		} else {
			lxd_warn("ignoring passed fd %d: not a listening stream socket",
				 fd);
		}
	}
	/* Kinds systemd did not pass come from the configuration. */
	if (!have_unix && c->socket_path[0])
		have_unix = listen_unix(c);
	if (!have_tcp && c->port > 0) {
		have_tcp = listen_tcp(c);
		if (!have_tcp) {
			lxd_err("cannot listen on %s port %ld", c->host, c->port);
			return false;
		}
	}
	if (!have_tcp && !have_unix) {
		lxd_err("no listener: nothing to serve on");
		return false;
	}
	return true;
}

void lxd_http_quiesce(void)
{
	unsigned int i;

	for (i = 0; i < n_listeners; i++) {
		MHD_socket fd = MHD_quiesce_daemon(listeners[i].d);

		if (fd != MHD_INVALID_SOCKET)
			close(fd);
	}
}

void lxd_http_stop(void)
{
	unsigned int i;

	/* The answers of the requests just finished or cancelled may still
	 * be on their way out: up to 2 s for the clients to take them.
	 */
	for (i = 0; i < 200 && lxd_http_connections() > 0; i++)
		usleep(10000);
	for (i = 0; i < n_listeners; i++) {
		MHD_stop_daemon(listeners[i].d);
		if (listeners[i].unlink_path) {
			unlink(listeners[i].unlink_path);
			free(listeners[i].unlink_path);
		}
	}
	n_listeners = 0;
}
