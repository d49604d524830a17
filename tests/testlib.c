// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Minimal test harness shared by the unit tests. */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

int tl_failures;
int tl_checks;

int tl_finish(const char *name)
{
	printf("%s: %d checks, %d failures\n", name, tl_checks, tl_failures);
	return tl_failures ? 1 : 0;
}

unsigned char *tl_read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	if (!f) {
		perror(path);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		*size = (size_t)n;
	return buf;
}

static const char *json_value(const char *json, const char *key)
{
	char pat[128];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = strstr(json, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == ':')
		p++;
	return p;
}

bool tl_json_ints(const char *json, const char *key, int **out, size_t *n)
{
	const char *p = json_value(json, key);
	size_t cap = 64;
	int *v;

	if (!p || *p != '[')
		return false;
	v = malloc(cap * sizeof(int));
	*n = 0;
	p++;
	for (;;) {
		char *end;
		long x;

		while (*p == ' ' || *p == '\n' || *p == ',')
			p++;
		if (*p == ']' || !*p)
			break;
		x = strtol(p, &end, 10);
		if (end == p)
			break;
		if (*n == cap) {
			cap *= 2;
			v = realloc(v, cap * sizeof(int));
		}
		v[(*n)++] = (int)x;
		p = end;
	}
	*out = v;
	return true;
}

static void put_utf8(char **q, unsigned int cp)
{
	unsigned char *o = (unsigned char *)*q;

	if (cp < 0x80) {
		*o++ = (unsigned char)cp;
	} else if (cp < 0x800) {
		*o++ = (unsigned char)(0xC0 | (cp >> 6));
		*o++ = (unsigned char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*o++ = (unsigned char)(0xE0 | (cp >> 12));
		*o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (unsigned char)(0x80 | (cp & 0x3F));
	} else {
		*o++ = (unsigned char)(0xF0 | (cp >> 18));
		*o++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		*o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		*o++ = (unsigned char)(0x80 | (cp & 0x3F));
	}
	*q = (char *)o;
}

bool tl_json_string(const char *json, const char *key, char **out)
{
	const char *p = json_value(json, key);
	char *s, *q;

	if (!p || *p != '"')
		return false;
	p++;
	s = q = malloc(strlen(p) + 1);
	while (*p && *p != '"') {
		if (*p != '\\') {
			*q++ = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case 'n': *q++ = '\n'; p++; break;
		case 't': *q++ = '\t'; p++; break;
		case 'r': *q++ = '\r'; p++; break;
		case 'b': *q++ = '\b'; p++; break;
		case 'f': *q++ = '\f'; p++; break;
		case 'u': {
			unsigned int cp = (unsigned int)strtoul(
				(char[5]){ p[1], p[2], p[3], p[4], 0 }, NULL, 16);

			p += 5;
			if (cp >= 0xD800 && cp < 0xDC00 && p[0] == '\\' &&
			    p[1] == 'u') {
				unsigned int lo = (unsigned int)strtoul(
					(char[5]){ p[2], p[3], p[4], p[5], 0 },
					NULL, 16);

				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				p += 6;
			}
			put_utf8(&q, cp);
			break;
		}
		default: *q++ = *p++; break;
		}
	}
	*q = '\0';
	*out = s;
	return true;
}

bool tl_json_number(const char *json, const char *key, double *out)
{
	const char *p = json_value(json, key);
	char *end;

	if (!p)
		return false;
	*out = strtod(p, &end);
	return end != p;
}

static char *drain(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	ssize_t r;

	while ((r = read(fd, buf + n, cap - n - 1)) > 0) {
		n += (size_t)r;
		if (cap - n < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

int tl_run(char *const argv[], char **out, size_t *out_len, char **err)
{
	int po[2], pe[2], status;
	char *o, *e = NULL;
	pid_t pid;

	if (pipe(po) || pipe(pe))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	/* stderr is small (messages); read stdout fully first. */
	o = drain(po[0], out_len);
	e = drain(pe[0], NULL);
	close(po[0]);
	close(pe[0]);
	waitpid(pid, &status, 0);
	if (out)
		*out = o;
	else
		free(o);
	if (err)
		*err = e;
	else
		free(e);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
