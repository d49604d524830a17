// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * lsh's remote model backends. llamuxd is asked over its Unix socket with
 * libcurl (POST /v1/completions, greedy, stop at a newline) and its JSON
 * read with json-c; /dev/llamux gets the prompt by write() and its answer
 * is read up to the first newline, then the file is closed, which cancels
 * the rest. Neither can constrain decoding to printable ASCII the way the
 * in-process sampler does, so their answers are filtered here instead:
 * one line, trimmed, and refused when it holds any other byte.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "llamux/llamux.h"
#include "model_remote.h"
#include "uapi/linux/llamux.h"

#define BASE "http://llamuxd"
#define GENERATE_TIMEOUT_S 120L

void lsh_msg(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
}

/* ---- the answer filter ---- */

/* text with bytes outside printable ASCII as \xNN, shortened. */
static void escape(const char *text, size_t n, char *out, size_t cap)
{
	size_t o = 0, i;

	for (i = 0; i < n && o + 8 < cap; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
	}
	if (i < n)
		o += (size_t)snprintf(out + o, cap - o, "...");
	out[o] = '\0';
}

bool lsh_remote_answer(const char *text, char *out, size_t cap, char *err)
{
	size_t n = strcspn(text, "\n"), lead;
	const char *r;
	char shown[96];

	r = memmem(text, n, "Request:", 8);
	if (r)
		n = (size_t)(r - text);
	lead = strspn(text, " \t");
	if (lead > n)
		lead = n;
	text += lead;
	n -= lead;
	while (n && (text[n - 1] == ' ' || text[n - 1] == '\t' ||
		     text[n - 1] == '\r'))
		n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 || c >= 0x7f) {
			escape(text, n, shown, sizeof(shown));
			snprintf(err, LLAMUX_ERR_MAX,
				 "the model's answer has a byte that is not printable ASCII (0x%02x), so it is not run: %s",
				 c, shown);
			return false;
		}
	}
	if (n >= cap) {
		escape(text, n, shown, sizeof(shown));
		snprintf(err, LLAMUX_ERR_MAX,
			 "the model's answer is too long (%zu bytes), so it is not run: %s",
			 n, shown);
		return false;
	}
	memcpy(out, text, n);
	out[n] = '\0';
	return true;
}

/* ---- llamuxd ---- */

void lsh_daemon_socket(char *out, size_t cap)
{
	const char *env = getenv("LLAMUX_SOCKET"), *rt = getenv("XDG_RUNTIME_DIR");
	struct stat st;

	if (env && *env)
		snprintf(out, cap, "%s", env);
	else if (stat("/run/llamux/llamuxd.sock", &st) == 0 || !rt || !*rt)
		snprintf(out, cap, "/run/llamux/llamuxd.sock");
	else
		snprintf(out, cap, "%s/llamux/llamuxd.sock", rt);
}

struct body {
	char *p;
	size_t len;
};

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	char *q;

	if (b->len > (1u << 20))
		return 0;	/* far more than one command line */
	q = realloc(b->p, b->len + size * n + 1);
	if (!q)
		return 0;
	b->p = q;
	memcpy(b->p + b->len, data, size * n);
	b->len += size * n;
	b->p[b->len] = '\0';
	return size * n;
}

static CURL *open_curl(const char *sock, const char *path, long timeout_s,
		       struct body *b)
{
	static bool inited;
	CURL *c;
	char url[64];

	if (!inited) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		inited = true;
	}
	c = curl_easy_init();
	if (!c)
		return NULL;
	snprintf(url, sizeof(url), BASE "%s", path);
	curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 2L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	return c;
}

bool lsh_daemon_probe(const char *sock, char *why, size_t cap)
{
	struct body b = { 0 };
	long code = 0;
	CURLcode rc;
	CURL *c = open_curl(sock, "/health", 2, &b);
	bool ok = false;

	if (!c) {
		snprintf(why, cap, "cannot start libcurl to reach llamuxd");
		return false;
	}
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		snprintf(why, cap, "no llamuxd answers on %s (%s)", sock,
			 curl_easy_strerror(rc));
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (code == 200)
			ok = true;
		else
			snprintf(why, cap, "llamuxd on %s is not ready (HTTP %ld to /health: still loading its model?)",
				 sock, code);
	}
	curl_easy_cleanup(c);
	free(b.p);
	return ok;
}

/* The message of an OpenAI-style error body, or NULL. */
static const char *error_message(json_object *o)
{
	json_object *e, *m;

	if (o && json_object_object_get_ex(o, "error", &e) &&
	    json_object_object_get_ex(e, "message", &m) &&
	    json_object_is_type(m, json_type_string))
		return json_object_get_string(m);
	return NULL;
}

bool lsh_daemon_generate(const char *sock, const char *prompt, char *out,
			 size_t cap, char *err)
{
	json_object *req = json_object_new_object(), *stop = json_object_new_array();
	json_object *o = NULL, *ch, *c0, *text;
	struct curl_slist *hdr = NULL;
	struct body b = { 0 };
	long code = 0;
	CURLcode rc;
	CURL *c = NULL;
	bool ok = false;

	if (!req || !stop) {
		json_object_put(req);
		json_object_put(stop);
		snprintf(err, LLAMUX_ERR_MAX, "out of memory");
		return false;
	}
	json_object_array_add(stop, json_object_new_string("\n"));
	json_object_object_add(req, "prompt", json_object_new_string(prompt));
	json_object_object_add(req, "stream", json_object_new_boolean(0));
	json_object_object_add(req, "temperature", json_object_new_int(0));
	json_object_object_add(req, "max_tokens",
			       json_object_new_int(LSH_MAX_NEW_TOKENS));
	json_object_object_add(req, "stop", stop);

	c = open_curl(sock, "/v1/completions", GENERATE_TIMEOUT_S, &b);
	hdr = curl_slist_append(NULL, "Content-Type: application/json");
	if (!c || !hdr) {
		snprintf(err, LLAMUX_ERR_MAX, "cannot start libcurl to reach llamuxd");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS,
			 json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
	rc = curl_easy_perform(c);
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(err, LLAMUX_ERR_MAX,
			 "llamuxd on %s gave no answer within %ld s: it may be busy, try again",
			 sock, GENERATE_TIMEOUT_S);
		goto out;
	}
	if (rc != CURLE_OK) {
		snprintf(err, LLAMUX_ERR_MAX,
			 "the request to llamuxd on %s failed (%s): is it still running? (systemctl status llamuxd)",
			 sock, curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	o = b.p ? json_tokener_parse(b.p) : NULL;
	if (code != 200) {
		const char *msg = error_message(o);

		snprintf(err, LLAMUX_ERR_MAX, "llamuxd refused the request (HTTP %ld): %s",
			 code, msg ? msg : "no message; see its log (journalctl -u llamuxd)");
		goto out;
	}
	if (!o || !json_object_object_get_ex(o, "choices", &ch) ||
	    !json_object_is_type(ch, json_type_array) ||
	    json_object_array_length(ch) < 1 ||
	    !(c0 = json_object_array_get_idx(ch, 0)) ||
	    !json_object_object_get_ex(c0, "text", &text) ||
	    !json_object_is_type(text, json_type_string)) {
		snprintf(err, LLAMUX_ERR_MAX,
			 "llamuxd on %s answered without choices[0].text: is it a llamuxd of this version?",
			 sock);
		goto out;
	}
	ok = lsh_remote_answer(json_object_get_string(text), out, cap, err);
out:
	json_object_put(o);
	json_object_put(req);
	curl_slist_free_all(hdr);
	if (c)
		curl_easy_cleanup(c);
	free(b.p);
	return ok;
}

/* ---- /dev/llamux ---- */

bool lsh_kernel_probe(char *model, size_t mcap, char *why, size_t cap)
{
	struct llamux_model_desc desc;
	int fd = open(LLAMUX_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		if (e == ENOENT)
			snprintf(why, cap, "%s does not exist: load the kernel module first (modprobe llamux)",
				 LLAMUX_DEVICE);
		else if (e == EACCES || e == EPERM)
			snprintf(why, cap, "no permission to open %s: add yourself to the 'llamux' group",
				 LLAMUX_DEVICE);
		else if (e == EBUSY)
			snprintf(why, cap, "%s: every session is in use (module parameter max_sessions)",
				 LLAMUX_DEVICE);
		else
			snprintf(why, cap, "cannot open %s: %s", LLAMUX_DEVICE,
				 strerror(e));
		return false;
	}
	if (ioctl(fd, LLAMUX_IOC_GET_MODEL, &desc) < 0) {
		close(fd);
		snprintf(why, cap, "the kernel module has no model loaded: echo load NAME > /proc/llamux/control");
		return false;
	}
	close(fd);
	desc.file[sizeof(desc.file) - 1] = '\0';
	snprintf(model, mcap, "%s", desc.file);
	return true;
}

bool lsh_kernel_generate(const char *prompt, char *out, size_t cap, char *err)
{
	struct llamux_params p = {
		.max_tokens = LSH_MAX_NEW_TOKENS,
		.temperature_milli = 0,
		.top_k = 0,
		.top_p_milli = 1000,
		.min_p_milli = 0,
		.repeat_penalty_milli = 1000,
		.greedy = 1,
	};
	char buf[1024], *nl;
	size_t len = 0;
	ssize_t n = 0;
	int fd = open(LLAMUX_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, LLAMUX_ERR_MAX,
			 "cannot open %s: %s (was the kernel module unloaded? modprobe llamux)",
			 LLAMUX_DEVICE, strerror(errno));
		return false;
	}
	if (ioctl(fd, LLAMUX_IOC_SET_PARAMS, &p) < 0) {
		snprintf(err, LLAMUX_ERR_MAX,
			 "the kernel refused the sampling parameters: %s (does the module match this lsh?)",
			 strerror(errno));
		close(fd);
		return false;
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		int e = errno;

		close(fd);
		if (e == E2BIG)
			snprintf(err, LLAMUX_ERR_MAX,
				 "the request is too long for the kernel's context: say it in fewer words");
		else
			snprintf(err, LLAMUX_ERR_MAX, "the kernel refused the prompt: %s",
				 strerror(e));
		return false;
	}
	/* until the first newline; closing the file cancels the rest */
	while (len + 1 < sizeof(buf) && !memchr(buf, '\n', len)) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (n < 0) {
		snprintf(err, LLAMUX_ERR_MAX,
			 "generation in the kernel failed: %s (see dmesg)", strerror(errno));
		close(fd);
		return false;
	}
	close(fd);
	buf[len] = '\0';
	nl = memchr(buf, '\n', len);
	if (memchr(buf, '\0', nl ? (size_t)(nl - buf) : len)) {
		snprintf(err, LLAMUX_ERR_MAX,
			 "the model's answer has a NUL byte, so it is not run");
		return false;
	}
	return lsh_remote_answer(buf, out, cap, err);
}
