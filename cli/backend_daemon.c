// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * `llamux run --backend daemon|auto`: the same generation through llamuxd.
 * POST /v1/completions with stream: true goes over the service's Unix socket
 * (libcurl's CURLOPT_UNIX_SOCKET_PATH); the Server-Sent Events are printed
 * as they arrive. Output matches the in-process backend: the prompt, the
 * continuation, a newline, timings on stderr.
 */
#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend_daemon.h"
#include "cli.h"

#define BASE "http://llamuxd"

char *daemon_socket_path(void)
{
	const char *env = getenv("LLAMUX_SOCKET"), *rt;
	struct stat st;
	char *p = NULL;

	if (env && *env)
		return strdup(env);
	if (stat("/run/llamux/llamuxd.sock", &st) == 0)
		return strdup("/run/llamux/llamuxd.sock");
	rt = getenv("XDG_RUNTIME_DIR");
	if (rt && *rt && asprintf(&p, "%s/llamux/llamuxd.sock", rt) >= 0)
		return p;
	return strdup("/run/llamux/llamuxd.sock");
}

struct body {
	char *p;
	size_t len;
};

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	char *q = realloc(b->p, b->len + size * n + 1);

	if (!q)
		return 0;
	b->p = q;
	memcpy(b->p + b->len, data, size * n);
	b->len += size * n;
	b->p[b->len] = '\0';
	return size * n;
}

static CURL *open_curl(const char *sock, const char *path, long timeout_s)
{
	CURL *c = curl_easy_init();
	char url[256];

	if (!c)
		return NULL;
	snprintf(url, sizeof(url), BASE "%s", path);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 2L);
	if (timeout_s)
		curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	return c;
}

/* The file name of a model without directory and .gguf. */
static void model_id(const char *model, char *out, size_t cap)
{
	const char *b = strrchr(model, '/');
	size_t n;

	b = b ? b + 1 : model;
	snprintf(out, cap, "%s", b);
	n = strlen(out);
	if (n > 5 && !strcmp(out + n - 5, ".gguf"))
		out[n - 5] = '\0';
}

/* GET /v1/models: the id the service serves, or false with why. */
static bool served_model(const char *sock, char *id, size_t cap, char *why,
			 size_t wcap)
{
	struct body b = { 0 };
	json_object *o = NULL, *data, *m, *v;
	long code = 0;
	CURLcode rc;
	CURL *c;
	bool ok = false;

	c = open_curl(sock, "/health", 2);
	if (!c) {
		snprintf(why, wcap, "cannot start libcurl");
		return false;
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		snprintf(why, wcap, "no llamuxd answers on %s (%s)", sock,
			 curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		snprintf(why, wcap, "llamuxd on %s is not ready (HTTP %ld: still loading its model?)",
			 sock, code);
		goto out;
	}
	curl_easy_cleanup(c);
	free(b.p);
	b.p = NULL;
	b.len = 0;
	c = open_curl(sock, "/v1/models", 2);
	if (!c)
		goto out;
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (curl_easy_perform(c) != CURLE_OK || !b.p)
		goto bad;
	o = json_tokener_parse(b.p);
	if (!o || !json_object_object_get_ex(o, "data", &data) ||
	    !json_object_is_type(data, json_type_array) ||
	    json_object_array_length(data) < 1)
		goto bad;
	m = json_object_array_get_idx(data, 0);
	if (!json_object_object_get_ex(m, "id", &v) ||
	    !json_object_is_type(v, json_type_string))
		goto bad;
	snprintf(id, cap, "%s", json_object_get_string(v));
	ok = true;
	goto out;
bad:
	snprintf(why, wcap, "llamuxd on %s gave no model list", sock);
out:
	json_object_put(o);
	curl_easy_cleanup(c);
	free(b.p);
	return ok;
}

static bool check(const char *sock, const char *model, char *why, size_t cap)
{
	char id[256], want[256];

	if (!served_model(sock, id, sizeof(id), why, cap))
		return false;
	if (model && *model) {
		model_id(model, want, sizeof(want));
		if (strcmp(want, id)) {
			snprintf(why, cap, "llamuxd serves '%s', not '%s'", id,
				 want);
			return false;
		}
	}
	return true;
}

bool daemon_available(const char *model, char *why, size_t cap)
{
	char *sock = daemon_socket_path(), buf[512];
	bool ok;

	if (!why) {
		why = buf;
		cap = sizeof(buf);
	}
	if (!sock) {
		snprintf(why, cap, "out of memory");
		return false;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ok = check(sock, model, why, cap);
	free(sock);
	return ok;
}

/* ---- the stream ---- */

struct sse {
	char *line;		/* an unfinished line */
	size_t len;
	bool done;
	bool error;
	char err[512];
	long prompt_tokens, gen_tokens;
	char finish[32];
	struct body raw;	/* a non-stream (error) body */
	long code;
	CURL *curl;
};

static void event(struct sse *s, const char *data)
{
	json_object *o, *v, *ch, *c0, *u, *d;

	if (!strcmp(data, "[DONE]")) {
		s->done = true;
		return;
	}
	o = json_tokener_parse(data);
	if (!o)
		return;
	if (json_object_object_get_ex(o, "error", &v)) {
		json_object *msg;

		s->error = true;
		if (json_object_object_get_ex(v, "message", &msg))
			snprintf(s->err, sizeof(s->err), "%s",
				 json_object_get_string(msg));
	}
	if (json_object_object_get_ex(o, "choices", &ch) &&
	    json_object_is_type(ch, json_type_array) &&
	    json_object_array_length(ch) > 0) {
		c0 = json_object_array_get_idx(ch, 0);
		if ((json_object_object_get_ex(c0, "text", &v) ||
		     (json_object_object_get_ex(c0, "delta", &d) &&
		      json_object_object_get_ex(d, "content", &v))) &&
		    json_object_is_type(v, json_type_string)) {
			fwrite(json_object_get_string(v), 1,
			       (size_t)json_object_get_string_len(v), stdout);
			fflush(stdout);
		}
		if (json_object_object_get_ex(c0, "finish_reason", &v) &&
		    json_object_is_type(v, json_type_string))
			snprintf(s->finish, sizeof(s->finish), "%s",
				 json_object_get_string(v));
	}
	if (json_object_object_get_ex(o, "usage", &u) &&
	    json_object_is_type(u, json_type_object)) {
		if (json_object_object_get_ex(u, "prompt_tokens", &v))
			s->prompt_tokens = json_object_get_int64(v);
		if (json_object_object_get_ex(u, "completion_tokens", &v))
			s->gen_tokens = json_object_get_int64(v);
	}
	json_object_put(o);
}

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct sse *s = arg;
	size_t len = size * n, i;

	if (!s->code)
		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->code);
	if (s->code != 200)
		return collect(data, size, n, &s->raw);
	for (i = 0; i < len; i++) {
		char *q;

		if (data[i] != '\n') {
			q = realloc(s->line, s->len + 2);
			if (!q)
				return 0;
			s->line = q;
			s->line[s->len++] = data[i];
			s->line[s->len] = '\0';
			continue;
		}
		if (s->len && s->line[s->len - 1] == '\r')
			s->line[--s->len] = '\0';
		if (s->len > 6 && !strncmp(s->line, "data: ", 6))
			event(s, s->line + 6);
		s->len = 0;
	}
	return len;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Sampling fields every request carries, so seeded runs match in-process. */
static void add_sampling(json_object *req, long n_predict,
			 const struct llamux_sampler_params *sp)
{
	json_object_object_add(req, "stream", json_object_new_boolean(1));
	json_object_object_add(req, "max_tokens", json_object_new_int64(
		n_predict < 0 ? INT32_MAX : n_predict));
	json_object_object_add(req, "temperature",
			       json_object_new_double(sp->temp > 0 ? sp->temp : 0));
	json_object_object_add(req, "top_k", json_object_new_int(sp->top_k));
	json_object_object_add(req, "top_p", json_object_new_double(sp->top_p));
	json_object_object_add(req, "min_p", json_object_new_double(sp->min_p));
	json_object_object_add(req, "repeat_penalty",
			       json_object_new_double(sp->repeat_penalty));
	json_object_object_add(req, "repeat_last_n",
			       json_object_new_int(sp->repeat_last_n));
	json_object_object_add(req, "seed", json_object_new_int64((int64_t)sp->seed));
}

/* Streams one request (req is consumed) to stdout; echo is printed first. */
static int stream(const char *model, const char *path, json_object *req,
		  const char *echo, long n_predict)
{
	struct sse s = { 0 };
	struct curl_slist *hdr = NULL;
	char *sock, why[512];
	CURLcode rc;
	double t0, t1;
	int ret = 1;

	sock = daemon_socket_path();
	if (!sock) {
		json_object_put(req);
		return cli_fail("out of memory");
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!check(sock, model, why, sizeof(why))) {
		free(sock);
		json_object_put(req);
		return cli_fail("%s; start it with 'systemctl start llamuxd' or use --backend inprocess",
				why);
	}
	s.curl = open_curl(sock, path, 0);
	if (!s.curl) {
		json_object_put(req);
		free(sock);
		return cli_fail("cannot start libcurl");
	}
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(s.curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(s.curl, CURLOPT_POSTFIELDS,
			 json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
	curl_easy_setopt(s.curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(s.curl, CURLOPT_WRITEDATA, &s);

	if (echo) {
		fputs(echo, stdout);
		fflush(stdout);
	}
	t0 = now_s();
	rc = curl_easy_perform(s.curl);
	t1 = now_s();
	if (rc != CURLE_OK) {
		fputc('\n', stdout);
		cli_fail("the connection to llamuxd on %s failed: %s", sock,
			 curl_easy_strerror(rc));
		goto out;
	}
	if (s.code != 200) {
		json_object *o = s.raw.p ? json_tokener_parse(s.raw.p) : NULL, *e, *m;
		const char *msg = "no message";

		if (o && json_object_object_get_ex(o, "error", &e) &&
		    json_object_object_get_ex(e, "message", &m))
			msg = json_object_get_string(m);
		fputc('\n', stdout);
		cli_fail("llamuxd refused the request (HTTP %ld): %s", s.code,
			 msg);
		json_object_put(o);
		goto out;
	}
	fputc('\n', stdout);
	fflush(stdout);
	if (s.error || !s.done) {
		cli_fail("generation in llamuxd failed: %s",
			 s.error ? s.err : "the stream ended early");
		goto out;
	}
	if (!strcmp(s.finish, "length") && n_predict < 0)
		fprintf(stderr, "llamux: stopped: llamuxd's token limit or context is full\n");
	fprintf(stderr, "llamux: daemon: prompt %ld tokens, generated %ld tokens in %.1f ms (%.1f t/s)\n",
		s.prompt_tokens, s.gen_tokens, (t1 - t0) * 1e3,
		(double)s.gen_tokens / (t1 - t0 + 1e-12));
	ret = 0;
out:
	curl_slist_free_all(hdr);
	curl_easy_cleanup(s.curl);
	json_object_put(req);
	free(s.line);
	free(s.raw.p);
	free(sock);
	return ret;
}

int daemon_generate(const char *model, const char *prompt, long n_predict,
		    const struct llamux_sampler_params *sp, bool echo)
{
	json_object *req;

	if (n_predict == 0)
		return 0;
	req = json_object_new_object();
	json_object_object_add(req, "prompt", json_object_new_string(prompt));
	add_sampling(req, n_predict, sp);
	return stream(model, "/v1/completions", req, echo ? prompt : NULL,
		      n_predict);
}

int daemon_chat(const char *model, const char *system, const char *user,
		long n_predict, const struct llamux_sampler_params *sp)
{
	json_object *req, *msgs, *m;

	if (n_predict == 0)
		return 0;
	req = json_object_new_object();
	msgs = json_object_new_array();
	if (system) {
		m = json_object_new_object();
		json_object_object_add(m, "role", json_object_new_string("system"));
		json_object_object_add(m, "content", json_object_new_string(system));
		json_object_array_add(msgs, m);
	}
	m = json_object_new_object();
	json_object_object_add(m, "role", json_object_new_string("user"));
	json_object_object_add(m, "content", json_object_new_string(user));
	json_object_array_add(msgs, m);
	json_object_object_add(req, "messages", msgs);
	add_sampling(req, n_predict, sp);
	return stream(model, "/v1/chat/completions", req, NULL, n_predict);
}
