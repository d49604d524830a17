// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * `llamux model`: list, use, info, path, pull and rm, their usage errors and
 * one-line runtime errors, and `pull` against a small HTTP/1.1 server this
 * test forks on 127.0.0.1: a full download, a download interrupted by the
 * server and resumed with Range by the next pull, a server that ignores
 * Range, a SHA-256 mismatch, a file that is not GGUF, 404, a redirect, a
 * closed port, the progress bar on a terminal. Also the SHA-256 test
 * vectors. HOME, XDG_* and LLAMUX_SYSROOT point into a temporary directory,
 * so the real stores and configuration are never touched.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pty.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sha256.h"
#include "testlib.h"

#define STORIES "../shared/models/stories260K.gguf"

static const char *bin;
static char tmp[256], www[512], mode_path[512], log_path[512];
static char own_store[512], other_store[512], config[512];
static unsigned char *model;	/* stories260K's bytes */
static size_t model_size;
static int port;
static pid_t server;

/* ---- files ---- */

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	CHECK(f && fwrite(data, 1, n, f) == n, "cannot write %s", path);
	if (f)
		fclose(f);
}

static void mkdirs(const char *dir)
{
	char p[512], *s;

	snprintf(p, sizeof(p), "%s", dir);
	for (s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	mkdir(p, 0755);
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : (long)st.st_size;
}

static bool same_bytes(const char *path, const void *data, size_t n)
{
	size_t size = 0;
	unsigned char *got = exists(path) ? tl_read_file(path, &size) : NULL;
	bool same = got && size == n && !memcmp(got, data, n);

	free(got);
	return same;
}

static char *slurp(const char *path)
{
	size_t n;
	unsigned char *b = exists(path) ? tl_read_file(path, &n) : NULL;
	char *s;

	if (!b)
		return strdup("");
	s = realloc(b, n + 1);
	s[n] = '\0';
	return s;
}

static void path_in(char *out, size_t cap, const char *dir, const char *file)
{
	snprintf(out, cap, "%s/%s", dir, file);
}

/* ---- the HTTP server ---- */

static bool write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		c += w;
		n -= (size_t)w;
	}
	return true;
}

static void respond(int c, const char *status, const char *extra,
		    const void *body, size_t len, size_t send)
{
	char head[512];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
			 status, len, extra);

	if (write_all(c, head, (size_t)n) && body)
		write_all(c, body, send < len ? send : len);
}

/*
 * One request. The mode file says how to answer: "ok", "drop N" (send only
 * N bytes of the body, then close) or "norange" (ignore Range). Paths
 * starting /r/ redirect to the rest; the last path component names a file
 * in www. Every request is logged as "PATH range=VALUE".
 */
static void serve_one(int c)
{
	char req[8192], path[1024] = "", file[1600], extra[1100], *m, *r;
	char *mode = slurp(mode_path);
	unsigned long long start = 0;
	bool has_range = false;
	size_t n = 0, size, drop = (size_t)-1;
	unsigned char *data;
	const char *base;
	FILE *log;

	while (n < sizeof(req) - 1) {
		ssize_t got = read(c, req + n, sizeof(req) - 1 - n);

		if (got <= 0)
			break;
		n += (size_t)got;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	req[n] = '\0';
	sscanf(req, "%*s %1023s", path);
	r = strcasestr(req, "\nrange: bytes=");
	if (r && sscanf(r + 14, "%llu-", &start) == 1)
		has_range = true;
	log = fopen(log_path, "a");
	if (log) {
		if (has_range)
			fprintf(log, "%s range=%llu\n", path, start);
		else
			fprintf(log, "%s range=none\n", path);
		fclose(log);
	}
	m = strstr(mode, "drop ");
	if (m)
		drop = strtoul(m + 5, NULL, 10);
	if (!strncmp(path, "/r/", 3)) {
		snprintf(extra, sizeof(extra), "Location: %s\r\n", path + 2);
		respond(c, "302 Found", extra, NULL, 0, 0);
		free(mode);
		return;
	}
	base = strrchr(path, '/');
	snprintf(file, sizeof(file), "%s/%s", www, base ? base + 1 : path);
	data = exists(file) ? tl_read_file(file, &size) : NULL;
	if (!data) {
		respond(c, "404 Not Found", "", "not found\n", 10, 10);
	} else if (has_range && !strstr(mode, "norange")) {
		if (start >= size) {
			snprintf(extra, sizeof(extra), "Content-Range: bytes */%zu\r\n", size);
			respond(c, "416 Range Not Satisfiable", extra, NULL, 0, 0);
		} else {
			snprintf(extra, sizeof(extra), "Content-Range: bytes %llu-%zu/%zu\r\n",
				 start, size - 1, size);
			respond(c, "206 Partial Content", extra, data + start,
				size - start, drop);
		}
	} else {
		respond(c, "200 OK", "", data, size, drop);
	}
	free(data);
	free(mode);
}

static void start_server(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 16) ||
	    getsockname(s, (struct sockaddr *)&a, &len)) {
		perror("test server");
		exit(1);
	}
	port = ntohs(a.sin_port);
	fflush(NULL);
	server = fork();
	if (server == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGPIPE, SIG_IGN);
		alarm(600);
		for (;;) {
			int c = accept(s, NULL, NULL);

			if (c < 0)
				continue;
			serve_one(c);
			close(c);
		}
	}
	close(s);
}

/* A port nothing listens on. */
static int closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), p;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(s, (struct sockaddr *)&a, sizeof(a));
	getsockname(s, (struct sockaddr *)&a, &len);
	p = ntohs(a.sin_port);
	close(s);
	return p;
}

static void mode(const char *m)
{
	write_file(mode_path, m, strlen(m));
}

/* ---- running llamux ---- */

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Runs llamux; *out and *err (may be NULL) receive its output. */
static int llamux(const char *const *args, char **out, char **err, char *desc,
		  size_t desc_cap)
{
	char *argv[32] = { (char *)bin }, *o = NULL, *e = NULL;
	int i, rc;

	snprintf(desc, desc_cap, "llamux");
	for (i = 0; args[i] && i < 30; i++) {
		argv[i + 1] = (char *)args[i];
		strncat(desc, " ", desc_cap - strlen(desc) - 1);
		strncat(desc, args[i], desc_cap - strlen(desc) - 1);
	}
	rc = tl_run(argv, &o, NULL, &e);
	if (out)
		*out = o;
	else
		free(o);
	if (err)
		*err = e;
	else
		free(e);
	return rc;
}

/*
 * Checks the exit code, that stderr contains want_err (at most max_lines
 * lines; 0: any) and stdout contains want_out (either may be NULL).
 */
static void expect(int code, const char *want_err, int max_lines,
		   const char *want_out, const char *const *args)
{
	char desc[512], *out, *err;
	int rc = llamux(args, &out, &err, desc, sizeof(desc));

	CHECK(rc == code, "%s: exit %d, expected %d (stderr: %s)", desc, rc, code,
	      err);
	if (want_err)
		CHECK(strstr(err, want_err) != NULL, "%s: stderr lacks '%s': %s",
		      desc, want_err, err);
	if (max_lines)
		CHECK(lines(err) <= max_lines, "%s: %d lines on stderr, expected at most %d: %s",
		      desc, lines(err), max_lines, err);
	if (want_out)
		CHECK(strstr(out, want_out) != NULL, "%s: stdout lacks '%s': %s",
		      desc, want_out, out);
	free(out);
	free(err);
}

/* Runs llamux on a pseudo-terminal; returns everything it printed. */
static char *run_on_tty(const char *const *args, int *rc)
{
	char *argv[32] = { (char *)bin }, buf[4096], *all = calloc(1, 1);
	size_t n = 0;
	ssize_t r;
	int fd, status, i;
	pid_t pid;

	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = (char *)args[i];
	fflush(NULL);
	pid = forkpty(&fd, NULL, NULL, NULL);
	if (pid == 0) {
		execv(bin, argv);
		_exit(127);
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		all = realloc(all, n + (size_t)r + 1);
		memcpy(all + n, buf, (size_t)r);
		n += (size_t)r;
		all[n] = '\0';
	}
	close(fd);
	waitpid(pid, &status, 0);
	*rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	return all;
}

/* The line of s that contains what (malloc'd), or NULL. */
static char *line_with(const char *s, const char *what)
{
	const char *p = strstr(s, what), *b, *e;

	if (!p)
		return NULL;
	for (b = p; b > s && b[-1] != '\n'; b--)
		;
	e = strchr(p, '\n');
	return strndup(b, e ? (size_t)(e - b) : strlen(b));
}

static int count(const char *s, const char *what)
{
	int n = 0;

	for (s = strstr(s, what); s; s = strstr(s + 1, what))
		n++;
	return n;
}

/* ---- tests ---- */

static void test_sha256(void)
{
	static const struct {
		const char *msg, *hex;
	} v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	};
	char chunk[1000], hex[65];
	struct sha256 s;
	size_t i, done;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sha256_init(&s);
		sha256_update(&s, v[i].msg, strlen(v[i].msg));
		sha256_final_hex(&s, hex);
		CHECK(!strcmp(hex, v[i].hex), "sha256('%s') = %s, expected %s",
		      v[i].msg, hex, v[i].hex);
	}
	/* A million 'a', in pieces that straddle block boundaries. */
	memset(chunk, 'a', sizeof(chunk));
	sha256_init(&s);
	for (done = 0, i = 0; done < 1000000; i++) {
		size_t n = 1 + (i * 37) % 997;

		if (n > 1000000 - done)
			n = 1000000 - done;
		sha256_update(&s, chunk, n);
		done += n;
	}
	sha256_final_hex(&s, hex);
	CHECK(!strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
	      "sha256(a x 1e6) = %s", hex);
}

static void test_usage(void)
{
	expect(2, "missing a subcommand", 2, NULL, ARGS("model"));
	expect(2, "usage: llamux model", 2, NULL, ARGS("model"));
	expect(2, "unknown subcommand 'frob'", 2, NULL, ARGS("model", "frob"));
	expect(2, "missing NAME or URL (catalogue: ", 2, NULL,
	       ARGS("model", "pull"));
	expect(2, "usage: llamux model pull NAME|URL [--force]", 2, NULL,
	       ARGS("model", "pull"));
	expect(2, "unexpected argument 'b'", 2, NULL, ARGS("model", "pull", "a", "b"));
	expect(2, "unknown option '--bogus'", 2, NULL,
	       ARGS("model", "pull", "--bogus", "x"));
	expect(2, "llamux model use: missing NAME", 2, NULL, ARGS("model", "use"));
	expect(2, "llamux model rm: missing NAME", 2, NULL, ARGS("model", "rm"));
	expect(2, "unexpected argument 'x'", 2, NULL, ARGS("model", "list", "x"));
	expect(2, "unknown option '-q'", 2, NULL, ARGS("model", "info", "-q"));
	expect(0, NULL, 0, "pull NAME|URL", ARGS("model", "--help"));
	expect(0, NULL, 0, "usage: llamux model", ARGS("help", "model"));
}

/* Nothing pulled or configured yet. */
static void test_empty(void)
{
	char url[256];

	expect(0, NULL, 0, "no models yet: run 'llamux model pull tinyllama'",
	       ARGS("model", "list"));
	expect(0, NULL, 0, "active model: none", ARGS("model", "list"));
	expect(1, "no model: run 'llamux model pull tinyllama' or give -m PATH", 1,
	       NULL, ARGS("model", "path"));
	expect(1, "no model: run 'llamux model pull tinyllama' or give -m PATH", 1,
	       NULL, ARGS("model", "info"));
	expect(1, "'nonesuch' is not in the catalogue (", 1, NULL,
	       ARGS("model", "pull", "nonesuch"));
	expect(1, "no model named 'nonesuch'", 1, NULL, ARGS("model", "use", "nonesuch"));
	expect(1, "model 'tinyllama' is not downloaded: run 'llamux model pull tinyllama'",
	       1, NULL, ARGS("model", "use", "tinyllama"));
	expect(1, "no model named 'nonesuch' in the stores", 1, NULL,
	       ARGS("model", "rm", "nonesuch"));
	expect(1, "is not in a model store", 1, NULL, ARGS("model", "rm", "./README.md"));
	expect(1, "not a GGUF file", 1, NULL, ARGS("model", "use", "README.md"));
	expect(1, "cannot open it: No such file or directory", 1, NULL,
	       ARGS("model", "info", "/nonexistent/model.gguf"));
	expect(1, "not a regular file", 1, NULL, ARGS("model", "info", tmp));
	if (geteuid() != 0) {
		char unreadable[600];

		path_in(unreadable, sizeof(unreadable), tmp, "unreadable.gguf");
		write_file(unreadable, model, model_size);
		chmod(unreadable, 0);
		expect(1, "Permission denied", 1, NULL, ARGS("model", "info", unreadable));
		unlink(unreadable);
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x/stories260K.gguf", closed_port());
	expect(1, "cannot reach 127.0.0.1:", 1, NULL, ARGS("model", "pull", url));
	expect(1, "'llamux run -m PATH' works", 1, NULL, ARGS("model", "pull", url));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	expect(1, "cannot tell a file name from the URL", 1, NULL,
	       ARGS("model", "pull", url));
	CHECK(!exists(own_store) || rmdir(own_store) == 0,
	      "failed pulls left files in %s", own_store);
}

static void test_pull(void)
{
	char desc[512], *out, *err, *log, *cfg, path[600], part[600];
	int rc;

	mode("ok");
	rc = llamux(ARGS("model", "pull", "test-good"), &out, &err, desc, sizeof(desc));
	CHECK(rc == 0, "%s: exit %d: %s", desc, rc, err);
	CHECK(strstr(out, "pulled test-good (") && strstr(out, "SHA-256 verified"),
	      "%s: stdout: %s", desc, out);
	CHECK(strstr(out, "active model: test-good"), "first pull is active: %s", out);
	/* Not a terminal: no progress bar, only the final lines. */
	CHECK(err[0] == '\0' && !strchr(out, '\r'), "%s: progress without a tty: %s%s",
	      desc, out, err);
	free(out);
	free(err);
	path_in(path, sizeof(path), own_store, "stories260K.gguf");
	path_in(part, sizeof(part), own_store, "stories260K.gguf.part");
	CHECK(same_bytes(path, model, model_size), "pulled file differs from the original");
	CHECK(!exists(part), "%s left behind", part);
	cfg = slurp(config);
	CHECK(strstr(cfg, "model = test-good"), "config: %s", cfg);
	free(cfg);

	/* Present already: no request. */
	log = slurp(log_path);
	expect(0, NULL, 0, "test-good is already here", ARGS("model", "pull", "test-good"));
	cfg = slurp(log_path);
	CHECK(!strcmp(log, cfg), "a second pull made a request");
	free(cfg);
	free(log);
	/* --force downloads again. */
	expect(0, NULL, 0, "pulled test-good", ARGS("model", "pull", "test-good", "--force"));
	CHECK(same_bytes(path, model, model_size), "re-pulled file differs");

	/* Names, file names and paths. */
	expect(0, NULL, 0, path, ARGS("model", "path"));
	expect(0, NULL, 0, path, ARGS("model", "path", "test-good"));
	expect(0, NULL, 0, path, ARGS("model", "path", "stories260K"));
	expect(0, NULL, 0, path, ARGS("model", "path", "stories260K.gguf"));
	expect(0, NULL, 0, "architecture:     llama", ARGS("model", "info", "test-good"));
	expect(0, NULL, 0, "architecture:     llama", ARGS("model", "info"));
	expect(0, NULL, 0, "* test-good", ARGS("model", "list"));
	expect(0, NULL, 0, "  F32      llama ", ARGS("model", "list"));
}

static void test_resume(void)
{
	char desc[512], *out, *err, *log, path[600], part[600];
	int rc;

	path_in(path, sizeof(path), own_store, "resume.gguf");
	path_in(part, sizeof(part), own_store, "resume.gguf.part");
	/* Every response stops after 100000 bytes: four attempts, then give up. */
	mode("drop 100000");
	write_file(log_path, "", 0);
	rc = llamux(ARGS("model", "pull", "test-resume"), &out, &err, desc, sizeof(desc));
	CHECK(rc == 1, "%s: exit %d", desc, rc);
	CHECK(strstr(err, "run 'llamux model pull test-resume' again to resume it") && lines(err) == 1,
	      "%s: %s", desc, err);
	CHECK(file_size(part) == 400000, "%s kept %ld bytes, expected 400000", part,
	      file_size(part));
	CHECK(!exists(path), "an interrupted download became the model");
	log = slurp(log_path);
	CHECK(count(log, "range=none") == 1 && strstr(log, "range=100000") &&
	      strstr(log, "range=300000"), "attempts: %s", log);
	free(log);
	free(out);
	free(err);

	/* The next pull continues where it stopped. */
	mode("ok");
	write_file(log_path, "", 0);
	rc = llamux(ARGS("model", "pull", "test-resume"), &out, &err, desc, sizeof(desc));
	CHECK(rc == 0, "%s: exit %d: %s", desc, rc, err);
	log = slurp(log_path);
	CHECK(!strcmp(log, "/org/repo/resolve/main/resume.gguf range=400000\n"),
	      "resumed with: %s", log);
	CHECK(same_bytes(path, model, model_size), "resumed file differs from the original");
	CHECK(!exists(part), "%s left behind", part);
	free(log);
	free(out);
	free(err);
}

static void test_norange(void)
{
	char garbage[5000], path[600], part[600], *log;

	/* A stale partial file and a server that ignores Range: start over. */
	path_in(path, sizeof(path), own_store, "norange.gguf");
	path_in(part, sizeof(part), own_store, "norange.gguf.part");
	memset(garbage, 0xab, sizeof(garbage));
	write_file(part, garbage, sizeof(garbage));
	mode("norange");
	write_file(log_path, "", 0);
	expect(0, NULL, 0, "pulled test-norange", ARGS("model", "pull", "test-norange"));
	log = slurp(log_path);
	CHECK(strstr(log, "range=5000"), "no Range sent: %s", log);
	free(log);
	CHECK(same_bytes(path, model, model_size), "restarted download differs");
	CHECK(!exists(part), "%s left behind", part);
	mode("ok");
}

static void test_rejects(void)
{
	char url[256], f[600];

	mode("ok");
	expect(1, "the catalogue says 0000", 1, NULL, ARGS("model", "pull", "test-badhash"));
	expect(1, "is corrupt: its SHA-256 is", 1, NULL, ARGS("model", "pull", "test-badhash"));
	path_in(f, sizeof(f), own_store, "other.gguf");
	CHECK(!exists(f), "a corrupt download was kept");
	path_in(f, sizeof(f), own_store, "other.gguf.part");
	CHECK(!exists(f), "a corrupt download's .part was kept");

	expect(1, "is not a GGUF model (", 1, NULL, ARGS("model", "pull", "test-notgguf"));
	expect(1, "deleted the download: check the catalogue entry", 1, NULL,
	       ARGS("model", "pull", "test-notgguf"));
	path_in(f, sizeof(f), own_store, "notgguf.gguf");
	CHECK(!exists(f), "a non-GGUF download was kept");
	path_in(f, sizeof(f), own_store, "notgguf.gguf.part");
	CHECK(!exists(f), "a non-GGUF download's .part was kept");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/files/notgguf.gguf", port);
	expect(1, "deleted the download: check the URL", 1, NULL, ARGS("model", "pull", url));

	expect(1, "(HTTP 404): the name or the repository is wrong", 1, NULL,
	       ARGS("model", "pull", "test-missing"));
	path_in(f, sizeof(f), own_store, "missing.gguf.part");
	CHECK(!exists(f), "a 404 left %s", f);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/files/missing.gguf", port);
	expect(1, "there is no file at", 1, NULL, ARGS("model", "pull", url));
	expect(1, "(HTTP 404): check the URL", 1, NULL, ARGS("model", "pull", url));
	expect(1, "is larger than the 1000 bytes the catalogue says; deleted it", 1, NULL,
	       ARGS("model", "pull", "test-badsize"));
	path_in(f, sizeof(f), own_store, "badsize.gguf.part");
	CHECK(!exists(f), "an oversized download left %s", f);
}

static void test_url_use_rm(void)
{
	char url[256], path[600], other[600], part[600], desc[512], *cfg, *out, *line;
	int rc;

	/* A URL (through a redirect); its name is the file name. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/r/files/url-model.gguf", port);
	expect(0, NULL, 0, "pulled url-model", ARGS("model", "pull", url));
	path_in(path, sizeof(path), own_store, "url-model.gguf");
	CHECK(same_bytes(path, model, model_size), "URL download differs");
	cfg = slurp(config);
	CHECK(strstr(cfg, "model = test-good"), "a later pull changed the active model: %s", cfg);
	free(cfg);

	/* use keeps the lines it does not know. */
	cfg = slurp(config);
	{
		char *more = malloc(strlen(cfg) + 64);

		sprintf(more, "# mine\ncolour = blue\n%s", cfg);
		write_file(config, more, strlen(more));
		free(more);
	}
	free(cfg);
	expect(0, NULL, 0, "active model: url-model", ARGS("model", "use", "url-model.gguf"));
	cfg = slurp(config);
	CHECK(strstr(cfg, "# mine\ncolour = blue\n") && strstr(cfg, "model = url-model\n") &&
	      !strstr(cfg, "test-good"), "config after use: %s", cfg);
	free(cfg);
	expect(0, NULL, 0, path, ARGS("model", "path"));
	expect(0, NULL, 0, "* url-model", ARGS("model", "list"));
	/* LLAMUX_MODEL overrides the config; -m overrides both. */
	setenv("LLAMUX_MODEL", "test-good", 1);
	expect(0, NULL, 0, "stories260K.gguf", ARGS("model", "path"));
	expect(0, NULL, 0, "note: LLAMUX_MODEL=test-good", ARGS("model", "use", "url-model"));
	setenv("LLAMUX_MODEL", "nope", 1);
	expect(1, "no model named 'nope' (from LLAMUX_MODEL)", 1, NULL, ARGS("model", "path"));
	unsetenv("LLAMUX_MODEL");

	/* A file outside the stores is remembered by its path. */
	expect(0, NULL, 0, "active model: /", ARGS("model", "use", STORIES));
	cfg = slurp(config);
	CHECK(strstr(cfg, "model = /") && strstr(cfg, "stories260K.gguf"), "config: %s", cfg);
	free(cfg);
	expect(0, NULL, 0, "active model: /", ARGS("model", "list"));
	expect(0, NULL, 0, "active model: url-model", ARGS("model", "use", "url-model"));

	/* Removing the active model clears it (and nothing else). */
	rc = llamux(ARGS("model", "rm", "url-model"), &out, NULL, desc, sizeof(desc));
	CHECK(rc == 0 && strstr(out, "removed url-model (") &&
	      strstr(out, "it was the active model"), "%s: exit %d: %s", desc, rc, out);
	free(out);
	expect(0, NULL, 0, "removed test-resume", ARGS("model", "rm", "test-resume"));
	CHECK(!exists(path), "rm left %s", path);
	cfg = slurp(config);
	CHECK(!strstr(cfg, "model =") && strstr(cfg, "colour = blue"), "config after rm: %s", cfg);
	free(cfg);

	/* A configured model that is gone. */
	write_file(config, "model = gone\n", 13);
	expect(1, "no model named 'gone' (the active model in", 1, NULL, ARGS("model", "path"));
	expect(0, NULL, 0, "active model: missing: no model named 'gone'", ARGS("model", "list"));
	write_file(config, "", 0);
	expect(1, "no active model: run 'llamux model use NAME' (you have", 1, NULL,
	       ARGS("model", "path"));

	/* The other store is searched and listed. */
	mkdirs(other_store);
	path_in(other, sizeof(other), other_store, "elsewhere.gguf");
	write_file(other, model, model_size);
	expect(0, NULL, 0, other, ARGS("model", "path", "elsewhere"));
	/* Named by the catalogue, which lists its file. */
	llamux(ARGS("model", "list"), &out, NULL, desc, sizeof(desc));
	line = line_with(out, "test-elsewhere ");
	CHECK(line && strstr(line, " F32 ") && strstr(line, " llama ") &&
	      strstr(line, geteuid() == 0 ? " user" : " system"), "%s: %s", desc, out);
	free(line);
	free(out);
	expect(0, NULL, 0, "test-elsewhere is already here",
	       ARGS("model", "pull", "test-elsewhere"));

	/* Unfinished downloads are listed and can be removed. */
	path_in(part, sizeof(part), own_store, "half.gguf.part");
	write_file(part, model, 1000);
	expect(0, NULL, 0, "unfinished download: half.gguf (1000 B)", ARGS("model", "list"));
	expect(1, "the download of model 'half' did not finish", 1, NULL,
	       ARGS("model", "path", "half"));
	expect(0, NULL, 0, "removed the unfinished download of half", ARGS("model", "rm", "half"));
	CHECK(!exists(part), "rm left %s", part);

	/* A broken file in the store is listed with the reason. */
	path_in(part, sizeof(part), own_store, "broken.gguf");
	write_file(part, "GGUF", 4);
	expect(0, NULL, 0, "broken", ARGS("model", "list"));
	expect(0, NULL, 0, "(cannot be used: ", ARGS("model", "list"));
	expect(0, NULL, 0, "removed broken", ARGS("model", "rm", part));
}

static void test_tty(void)
{
	char *all;
	int rc;

	mode("ok");
	all = run_on_tty(ARGS("model", "pull", "test-tty"), &rc);
	CHECK(rc == 0, "pull on a tty: exit %d: %s", rc, all);
	CHECK(strstr(all, "downloading http://127.0.0.1:") && strstr(all, "\r\033[K") &&
	      strstr(all, "%") && strstr(all, "/s") && strstr(all, "pulled test-tty"),
	      "no progress bar on a tty: %s", all);
	free(all);
}

static void test_bad_catalogue_file(void)
{
	char path[600];

	path_in(path, sizeof(path), tmp, "bad-catalogue");
	write_file(path, "only-two fields\n", 16);
	setenv("LLAMUX_CATALOGUE_FILE", path, 1);
	expect(1, "bad-catalogue:1: expected 'NAME REPO FILE [SHA256|-] [SIZE]'", 2, NULL,
	       ARGS("model", "pull", "only-two"));
}

static const char *const copies[] = {
	"stories260K.gguf", "other.gguf", "resume.gguf", "norange.gguf",
	"url-model.gguf", "tty.gguf", "badsize.gguf",
};

int main(int argc, char **argv)
{
	char path[600], hex[65], cat[2048], dir[600];
	struct sha256 s;
	int status;
	size_t i;

	if (argc < 2)
		return 2;
	bin = argv[1];
	test_sha256();
	model = tl_read_file(STORIES, &model_size);
	if (!model)
		return 1;
	snprintf(tmp, sizeof(tmp), "/tmp/llamux-model-test-XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	snprintf(www, sizeof(www), "%s/www", tmp);
	snprintf(mode_path, sizeof(mode_path), "%s/mode", tmp);
	snprintf(log_path, sizeof(log_path), "%s/requests.log", tmp);
	mkdirs(www);

	/* Everything llamux reads or writes lives under tmp. */
	snprintf(dir, sizeof(dir), "%s/home", tmp);
	setenv("HOME", dir, 1);
	snprintf(dir, sizeof(dir), "%s/data", tmp);
	setenv("XDG_DATA_HOME", dir, 1);
	snprintf(dir, sizeof(dir), "%s/config", tmp);
	setenv("XDG_CONFIG_HOME", dir, 1);
	snprintf(dir, sizeof(dir), "%s/state", tmp);
	setenv("XDG_STATE_HOME", dir, 1);
	snprintf(dir, sizeof(dir), "%s/run", tmp);
	setenv("XDG_RUNTIME_DIR", dir, 1);
	snprintf(dir, sizeof(dir), "%s/sys", tmp);
	setenv("LLAMUX_SYSROOT", dir, 1);
	unsetenv("LLAMUX_MODEL");
	unsetenv("HF_TOKEN");
	if (geteuid() == 0) {
		snprintf(own_store, sizeof(own_store), "%s/sys/var/lib/llamux/models", tmp);
		snprintf(other_store, sizeof(other_store), "%s/data/llamux/models", tmp);
		snprintf(config, sizeof(config), "%s/sys/etc/llamux/llamux.conf", tmp);
	} else {
		snprintf(own_store, sizeof(own_store), "%s/data/llamux/models", tmp);
		snprintf(other_store, sizeof(other_store), "%s/sys/var/lib/llamux/models", tmp);
		snprintf(config, sizeof(config), "%s/config/llamux/config", tmp);
	}

	/* What the server offers, and a catalogue pointing at it. */
	for (i = 0; i < sizeof(copies) / sizeof(copies[0]); i++) {
		path_in(path, sizeof(path), www, copies[i]);
		write_file(path, model, model_size);
	}
	{
		size_t n;
		unsigned char *readme = tl_read_file("README.md", &n);

		path_in(path, sizeof(path), www, "notgguf.gguf");
		write_file(path, readme, n);
		free(readme);
	}
	sha256_init(&s);
	sha256_update(&s, model, model_size);
	sha256_final_hex(&s, hex);
	snprintf(cat, sizeof(cat),
		 "# test entries\n"
		 "test-good     org/repo  stories260K.gguf  %s  %zu\n"
		 "test-resume   org/repo  resume.gguf       %s  %zu\n"
		 "test-norange  org/repo  norange.gguf      %s\n"
		 "test-tty      org/repo  tty.gguf          %s\n"
		 "test-badhash  org/repo  other.gguf        0000000000000000000000000000000000000000000000000000000000000000\n"
		 "test-notgguf  org/repo  notgguf.gguf      -\n"
		 "test-missing  org/repo  missing.gguf\n"
		 "test-badsize  org/repo  badsize.gguf      -  1000\n"
		 "test-elsewhere org/repo elsewhere.gguf\n",
		 hex, model_size, hex, model_size, hex, hex);
	path_in(path, sizeof(path), tmp, "catalogue");
	write_file(path, cat, strlen(cat));
	setenv("LLAMUX_CATALOGUE_FILE", path, 1);
	mode("ok");
	start_server();
	snprintf(dir, sizeof(dir), "http://127.0.0.1:%d/", port);
	setenv("LLAMUX_HF_ENDPOINT", dir, 1);

	test_usage();
	test_empty();
	test_pull();
	test_resume();
	test_norange();
	test_rejects();
	test_url_use_rm();
	test_tty();
	test_bad_catalogue_file();

	kill(server, SIGKILL);
	waitpid(server, &status, 0);
	free(model);
	if (!tl_failures) {
		char *rm[] = { "/bin/rm", "-rf", tmp, NULL };

		tl_run(rm, NULL, NULL, NULL);
	} else {
		fprintf(stderr, "files kept in %s\n", tmp);
	}
	return tl_finish("clitest_model");
}
