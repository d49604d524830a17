// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * `llamux model pull`: downloads a model with libcurl into NAME.gguf.part
 * next to its final place, resuming what an interrupted download left
 * there (HTTP Range; when the server ignores it, the download starts over),
 * shows a progress bar on a terminal, checks the size and SHA-256 the
 * catalogue knows and that the file is a GGUF model, and only then renames
 * it to NAME.gguf. A bad download is deleted; an interrupted one is kept.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "sha256.h"
#include "store.h"

/* Attempts per pull when the connection drops after some progress. */
#define MAX_ATTEMPTS 4
#define CONNECT_TIMEOUT_S 8L

struct xfer {
	const struct pull_request *r;
	CURL *curl;
	int fd;
	uint64_t offset;	/* bytes in the .part file */
	uint64_t received;	/* body bytes of this attempt */
	uint64_t total;		/* the whole file's size, 0 when unknown */
	bool started;		/* the first body bytes of this attempt came */
	bool restarted;		/* the server ignored Range: started over */
	bool bad_status;	/* an error response: body not written */
	bool bad_range;		/* 206 for a range that is not ours */
	bool too_big;		/* more bytes than the catalogue says */
	int write_errno;
	/* Content-Range of the current response */
	bool have_cr;
	uint64_t cr_start, cr_total;
	/* progress */
	bool tty;
	bool drawn;
	double t0, last_draw;
	uint64_t t0_bytes;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *hms(double s, char *buf, size_t cap)
{
	long t = (long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, cap, "%ld:%02ld", t / 60, t % 60);
	return buf;
}

/* ---- progress ---- */

/* The bar; final: the transfer is over (average speed, no ETA). */
static void draw(struct xfer *x, bool final)
{
	uint64_t total = x->total ? x->total : x->r->size;
	double el = now_s() - x->t0;
	double speed = el > (final ? 0 : 0.25) ?
		       (double)(x->offset - x->t0_bytes) / el : 0;
	char got[24], all[24], rate[24], eta[24] = "--:--", text[160];
	struct winsize ws;
	int cols = 80, width, filled, i, n;

	if (speed > 0 && total > x->offset)
		hms((double)(total - x->offset) / speed, eta, sizeof(eta));
	cli_size_str(x->offset, got, sizeof(got));
	cli_size_str((uint64_t)speed, rate, sizeof(rate));
	if (total)
		n = snprintf(text, sizeof(text), " %3d%% %s / %s  %s/s%s%s",
			     (int)(100.0 * (double)x->offset / (double)total), got,
			     cli_size_str(total, all, sizeof(all)), rate,
			     final ? "" : "  ETA ", final ? "" : eta);
	else
		n = snprintf(text, sizeof(text), " %s  %s/s", got, rate);
	if (!ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) && ws.ws_col > 20)
		cols = ws.ws_col;
	width = cols - 1 - n - 18 - 3;	/* name, brackets */
	fprintf(stderr, "\r\033[K%-16.16s", x->r->name);
	if (total && width >= 10) {
		filled = (int)((double)width * (double)x->offset / (double)total);
		if (filled > width)
			filled = width;
		fputs("  [", stderr);
		for (i = 0; i < width; i++)
			fputc(i < filled ? '=' : (i == filled ? '>' : ' '), stderr);
		fputc(']', stderr);
	}
	fputs(text, stderr);
	fflush(stderr);
	x->drawn = true;
}

static void clear_line(struct xfer *x)
{
	if (x->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		x->drawn = false;
	}
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct xfer *x = arg;
	double t = now_s();

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (x->tty && x->started && t - x->last_draw >= 0.1) {
		x->last_draw = t;
		draw(x, false);
	}
	return 0;
}

/* ---- the transfer ---- */

static bool truncate_part(struct xfer *x)
{
	if (ftruncate(x->fd, 0) || lseek(x->fd, 0, SEEK_SET) < 0) {
		x->write_errno = errno;
		return false;
	}
	x->offset = 0;
	return true;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;
	char line[256];
	unsigned long long a, b, t;

	if (len >= sizeof(line))
		return len;
	memcpy(line, p, len);
	line[len] = '\0';
	if (!strncmp(line, "HTTP/", 5)) {
		x->have_cr = false;	/* a new response (after a redirect) */
	} else if (!strncasecmp(line, "content-range:", 14)) {
		if (sscanf(line + 14, " bytes %llu-%llu/%llu", &a, &b, &t) == 3) {
			x->have_cr = true;
			x->cr_start = a;
			x->cr_total = t;
		} else if (sscanf(line + 14, " bytes */%llu", &t) == 1) {
			x->have_cr = true;
			x->cr_start = UINT64_MAX;
			x->cr_total = t;
		}
	}
	return len;
}

/* The first body bytes: decide where they go. false: abort the transfer. */
static bool on_first_data(struct xfer *x)
{
	long code = 0;
	curl_off_t cl = -1;

	curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200 && code != 206) {
		x->bad_status = true;
		return false;
	}
	if (code == 206) {
		if (!x->have_cr || x->cr_start != x->offset) {
			x->bad_range = true;
			return false;
		}
		x->total = x->cr_total;
	} else {
		/* A full response: a server that ignores Range starts over. */
		if (x->offset > 0) {
			if (!truncate_part(x))
				return false;
			x->restarted = true;
			if (x->tty)
				fprintf(stderr, "the server cannot resume downloads; starting over\n");
		}
		curl_easy_getinfo(x->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		x->total = cl >= 0 ? (uint64_t)cl : 0;
	}
	x->started = true;
	x->t0 = now_s();
	x->t0_bytes = x->offset;
	return true;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n, done = 0;

	if (!x->started && !on_first_data(x))
		return 0;
	if (x->r->size && x->offset + len > x->r->size) {
		x->too_big = true;
		return 0;
	}
	while (done < len) {
		ssize_t w = write(x->fd, p + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			x->write_errno = w < 0 ? errno : EIO;
			return 0;
		}
		done += (size_t)w;
	}
	x->offset += len;
	x->received += len;
	return len;
}

/* ---- errors ---- */

static void host_of(const char *url, char *buf, size_t cap)
{
	const char *s = strstr(url, "://");
	size_t n;

	s = s ? s + 3 : url;
	n = strcspn(s, "/?#");
	snprintf(buf, cap, "%.*s", (int)n, s);
}

static bool network_error(CURLcode res)
{
	return res == CURLE_COULDNT_RESOLVE_HOST ||
	       res == CURLE_COULDNT_RESOLVE_PROXY ||
	       res == CURLE_COULDNT_CONNECT ||
	       res == CURLE_OPERATION_TIMEDOUT;
}

static int http_error(const struct pull_request *r, long code)
{
	if (code == 404 || code == 410) {
		if (r->catalogue)
			return cli_fail("the catalogue's file for '%s' is not at %s (HTTP %ld): the name or the repository is wrong; give the file's URL instead",
					r->name, r->url, code);
		return cli_fail("there is no file at %s (HTTP %ld): check the URL",
				r->url, code);
	}
	if (code == 401 || code == 403)
		return cli_fail("%s needs permission (HTTP %ld): for a gated Hugging Face repository, accept its licence on the website and set HF_TOKEN",
				r->url, code);
	if (code >= 500)
		return cli_fail("the server failed with HTTP %ld for %s: try again later",
				code, r->url);
	return cli_fail("the server answered HTTP %ld for %s", code, r->url);
}

/* ---- checks ---- */

static bool hash_file(int fd, char hex[65], char *why, size_t cap)
{
	static unsigned char buf[1 << 20];
	struct sha256 s;
	ssize_t n;
	off_t pos = 0;

	sha256_init(&s);
	while ((n = pread(fd, buf, sizeof(buf), pos)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(why, cap, "%s", strerror(errno));
			return false;
		}
		sha256_update(&s, buf, (size_t)n);
		pos += n;
	}
	sha256_final_hex(&s, hex);
	return true;
}

static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Checks the finished .part and renames it; 0 or 1 (printed). */
static int finish(struct xfer *x, const char *part, const char *dest,
		  double seconds)
{
	const struct pull_request *r = x->r;
	char err[LLAMUX_ERR_MAX] = "", hex[65], why[256], a[24], b[24];
	struct llamux_model *m;

	if (r->size && x->offset != r->size) {
		unlink(part);
		return cli_fail("the download of '%s' has %llu bytes but the catalogue says %llu; deleted it: run the pull again, or give the file's URL",
				r->name, (unsigned long long)x->offset,
				(unsigned long long)r->size);
	}
	if (r->sha256[0]) {
		if (x->tty) {
			fprintf(stderr, "%-16.16s  checking SHA-256 ...", r->name);
			fflush(stderr);
			x->drawn = true;
		}
		if (!hash_file(x->fd, hex, why, sizeof(why))) {
			clear_line(x);
			return cli_fail("cannot read %s: %s", part, why);
		}
		clear_line(x);
		if (strcmp(hex, r->sha256)) {
			unlink(part);
			return cli_fail("the download of '%s' is corrupt: its SHA-256 is %s, the catalogue says %s; deleted it: run the pull again",
					r->name, hex, r->sha256);
		}
	}
	m = llamux_model_load(part, LLAMUX_LOAD_METADATA_ONLY, err);
	if (!m) {
		unlink(part);
		return cli_fail("%s is not a GGUF model (%s); deleted the download: check the %s",
				r->url, err, r->catalogue ? "catalogue entry" : "URL");
	}
	llamux_model_free(m);
	if (fsync(x->fd) || rename(part, dest))
		return cli_fail("cannot rename %s to %s: %s", part, dest,
				strerror(errno));
	fsync_dir(r->dir);
	cli_size_str(x->offset, a, sizeof(a));
	if (seconds > 0.05 && x->received)
		printf("pulled %s (%s in %.0f s, %s/s%s) into %s\n", r->name, a,
		       seconds, cli_size_str((uint64_t)((double)x->received / seconds), b, sizeof(b)),
		       r->sha256[0] ? ", SHA-256 verified" : "", dest);
	else
		printf("pulled %s (%s%s) into %s\n", r->name, a,
		       r->sha256[0] ? ", SHA-256 verified" : "", dest);
	fflush(stdout);
	return 0;
}

/* ---- the pull ---- */

static void setup(CURL *c, struct xfer *x, char *errbuf,
		  struct curl_slist **headers)
{
	const char *token = getenv("HF_TOKEN");
	const char *hf = getenv("LLAMUX_HF_ENDPOINT");
	char ua[64];

	snprintf(ua, sizeof(ua), "llamux/%s", llamux_version());
	curl_easy_setopt(c, CURLOPT_URL, x->r->url);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(c, CURLOPT_USERAGENT, ua);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	/* A stalled connection: under 1 KiB/s for a minute. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	/* Gated Hugging Face repositories; curl drops it on redirects to
	 * other hosts (the CDN).
	 */
	if (token && *token &&
	    (x->r->catalogue || strstr(x->r->url, "://huggingface.co/") ||
	     (hf && *hf && !strncmp(x->r->url, hf, strlen(hf))))) {
		char *h = NULL;

		if (asprintf(&h, "Authorization: Bearer %s", token) >= 0) {
			*headers = curl_slist_append(NULL, h);
			free(h);
			curl_easy_setopt(c, CURLOPT_HTTPHEADER, *headers);
		}
	}
}

/* Runs the attempts; 0 when the .part holds the whole file. */
static int transfer(struct xfer *x, const char *part)
{
	const struct pull_request *r = x->r;
	char errbuf[CURL_ERROR_SIZE], range[32], host[256], a[24], b[24];
	const char *again = r->catalogue ? r->name : r->url;
	struct curl_slist *headers = NULL;
	int attempt, rc = 1;
	CURLcode res;
	long code;

	x->curl = curl_easy_init();
	if (!x->curl)
		return cli_fail("cannot start libcurl (out of memory?)");
	setup(x->curl, x, errbuf, &headers);
	host_of(r->url, host, sizeof(host));
	for (attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
		uint64_t before = x->offset;

		errbuf[0] = '\0';
		x->started = x->bad_status = x->bad_range = x->too_big = false;
		x->have_cr = false;
		x->received = 0;
		x->write_errno = 0;
		if (x->offset) {
			snprintf(range, sizeof(range), "%llu-",
				 (unsigned long long)x->offset);
			curl_easy_setopt(x->curl, CURLOPT_RANGE, range);
		} else {
			curl_easy_setopt(x->curl, CURLOPT_RANGE, NULL);
		}
		res = curl_easy_perform(x->curl);
		code = 0;
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
		if (x->tty && x->started && res == CURLE_OK && !x->bad_status) {
			draw(x, true);	/* the final state stays on screen */
			fputc('\n', stderr);
			x->drawn = false;
		}
		clear_line(x);
		if (x->write_errno) {
			rc = cli_fail("cannot write %s: %s", part,
				      strerror(x->write_errno));
			break;
		}
		if (x->too_big) {
			unlink(part);
			x->offset = 0;
			rc = cli_fail("the download of '%s' is larger than the %llu bytes the catalogue says; deleted it: check the catalogue entry",
				      r->name, (unsigned long long)r->size);
			break;
		}
		if (code == 416 && x->offset > 0) {
			/* Nothing left to send: the file may be complete. */
			if (x->have_cr && x->cr_total == x->offset) {
				rc = 0;
				break;
			}
			if (!truncate_part(x)) {
				rc = cli_fail("cannot write %s: %s", part,
					      strerror(x->write_errno));
				break;
			}
			continue;
		}
		if (x->bad_range) {
			if (!truncate_part(x)) {
				rc = cli_fail("cannot write %s: %s", part,
					      strerror(x->write_errno));
				break;
			}
			continue;
		}
		if (code >= 400 || (x->bad_status && code)) {
			rc = http_error(r, code);
			break;
		}
		if (res == CURLE_OK && (code == 200 || code == 206 || code == 0)) {
			if (!x->started && code == 200 && x->offset > 0) {
				/* An empty full response to a range request. */
				if (!truncate_part(x)) {
					rc = cli_fail("cannot write %s: %s", part,
						      strerror(x->write_errno));
					break;
				}
				x->total = 0;
			}
			if (x->total && x->offset != x->total) {
				rc = cli_fail("the download of '%s' ended at %llu of %llu bytes: run 'llamux model pull %s' again to resume it",
					      r->name, (unsigned long long)x->offset,
					      (unsigned long long)x->total, again);
				break;
			}
			rc = 0;
			break;
		}
		if (res == CURLE_OK) {
			rc = cli_fail("the server answered HTTP %ld for %s instead of the file",
				      code, r->url);
			break;
		}
		if (network_error(res) && x->received == 0 && x->offset == before) {
			rc = cli_fail("cannot reach %s (%s): check the network; offline, 'llamux run -m PATH' works with a model file you have",
				      host, errbuf[0] ? errbuf : curl_easy_strerror(res));
			break;
		}
		if (res == CURLE_PEER_FAILED_VERIFICATION ||
		    res == CURLE_SSL_CONNECT_ERROR) {
			rc = cli_fail("secure connection to %s failed (%s): check the system clock and that ca-certificates is installed",
				      host, errbuf[0] ? errbuf : curl_easy_strerror(res));
			break;
		}
		if (x->received > 0 && attempt < MAX_ATTEMPTS) {
			if (x->tty)
				fprintf(stderr, "llamux: the connection dropped at %s; resuming\n",
					cli_size_str(x->offset, a, sizeof(a)));
			continue;
		}
		if (x->total)
			rc = cli_fail("the download of '%s' stopped at %s of %s (%s): run 'llamux model pull %s' again to resume it",
				      r->name, cli_size_str(x->offset, a, sizeof(a)),
				      cli_size_str(x->total, b, sizeof(b)),
				      errbuf[0] ? errbuf : curl_easy_strerror(res), again);
		else
			rc = cli_fail("the download of '%s' from %s failed (%s): run 'llamux model pull %s' again to resume it",
				      r->name, host,
				      errbuf[0] ? errbuf : curl_easy_strerror(res), again);
		break;
	}
	if (attempt > MAX_ATTEMPTS)
		rc = cli_fail("the download of '%s' kept failing; run the pull again later",
			      r->name);
	curl_slist_free_all(headers);
	curl_easy_cleanup(x->curl);
	x->curl = NULL;
	return rc;
}

int cli_pull(const struct pull_request *r)
{
	struct xfer x = { .r = r, .fd = -1 };
	char *dest = NULL, *part = NULL, why[WHY_MAX], a[24], b[24];
	struct stat st;
	double t0;
	int rc = 1;

	if (!cli_mkdirs(r->dir, 0755, why, sizeof(why)))
		return cli_fail("%s%s", why,
				errno == EACCES ? " (the system store needs root)" : "");
	if (asprintf(&dest, "%s/%s", r->dir, r->file) < 0 ||
	    asprintf(&part, "%s.part", dest) < 0) {
		free(dest);
		return cli_fail("out of memory");
	}
	x.fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (x.fd < 0) {
		rc = cli_fail("cannot write %s: %s", part, strerror(errno));
		goto out;
	}
	if (flock(x.fd, LOCK_EX | LOCK_NB)) {
		rc = cli_fail("another 'llamux model pull' is downloading %s right now; wait for it to finish",
			      r->file);
		close(x.fd);
		x.fd = -1;
		goto out;
	}
	if (fstat(x.fd, &st)) {
		rc = cli_fail("cannot read %s: %s", part, strerror(errno));
		goto out;
	}
	x.offset = (uint64_t)st.st_size;
	if (r->size && x.offset > r->size) {
		if (!truncate_part(&x)) {
			rc = cli_fail("cannot write %s: %s", part, strerror(x.write_errno));
			goto out;
		}
	}
	if (lseek(x.fd, 0, SEEK_END) < 0) {
		rc = cli_fail("cannot read %s: %s", part, strerror(errno));
		goto out;
	}
	x.tty = isatty(STDERR_FILENO);
	if (x.tty) {
		if (x.offset)
			fprintf(stderr, "resuming %s at %s%s%s\n", r->file,
				cli_size_str(x.offset, a, sizeof(a)),
				r->size ? " of " : "",
				r->size ? cli_size_str(r->size, b, sizeof(b)) : "");
		else
			fprintf(stderr, "downloading %s\n", r->url);
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		rc = cli_fail("cannot start libcurl");
		goto out;
	}
	t0 = now_s();
	rc = transfer(&x, part);
	if (rc == 0)
		rc = finish(&x, part, dest, now_s() - t0);
	else if (x.offset == 0)
		unlink(part);	/* nothing worth keeping */
	curl_global_cleanup();
out:
	if (x.fd >= 0)
		close(x.fd);
	free(part);
	free(dest);
	return rc;
}
