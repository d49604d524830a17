// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Output helpers of the llamux program: when to colour, JSON string writing
 * and a small JSON reader (enough for saved chat conversations).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"

bool out_color(FILE *f)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (nc && *nc)
		return false;
	if (term && !strcmp(term, "dumb"))
		return false;
	return isatty(fileno(f)) == 1;
}

const char *out_style(FILE *f, const char *sgr)
{
	return out_color(f) ? sgr : "";
}

/* Bytes of the valid UTF-8 character at s, or 0 (JSON must be UTF-8). */
static size_t utf8_len(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t cp;
	size_t k, i;

	if (u[0] >= 0xc2 && u[0] <= 0xdf) {
		k = 2;
		cp = u[0] & 0x1f;
	} else if (u[0] >= 0xe0 && u[0] <= 0xef) {
		k = 3;
		cp = u[0] & 0x0f;
	} else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		k = 4;
		cp = u[0] & 0x07;
	} else {
		return 0;
	}
	if (k > n)
		return 0;
	for (i = 1; i < k; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (u[i] & 0x3f);
	}
	if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp < 0xe000))
		return 0;
	return k;
}

void json_put_string(FILE *f, const char *s, size_t n)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				fprintf(f, "\\u%04x", c);
			} else if (c < 0x80) {
				fputc(c, f);
			} else {
				size_t k = utf8_len(s + i, n - i);

				if (k) {
					fwrite(s + i, 1, k, f);
					i += k - 1;
				} else {
					fputs("\\ufffd", f);
				}
			}
		}
	}
	fputc('"', f);
}

void json_in_init(struct json_in *j, const char *text, size_t len)
{
	j->p = text;
	j->end = text + len;
	j->err[0] = '\0';
}

static void ws(struct json_in *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool fail(struct json_in *j, const char *what)
{
	if (!j->err[0]) {
		if (j->p >= j->end)
			snprintf(j->err, sizeof(j->err), "%s, found the end of the file",
				 what);
		else
			snprintf(j->err, sizeof(j->err), "%s, found '%c'", what, *j->p);
	}
	return false;
}

bool json_peek(struct json_in *j, char c)
{
	ws(j);
	return j->p < j->end && *j->p == c;
}

bool json_expect(struct json_in *j, char c)
{
	char what[32];

	if (json_peek(j, c)) {
		j->p++;
		return true;
	}
	snprintf(what, sizeof(what), "expected '%c'", c);
	return fail(j, what);
}

static int hex4(const char *p)
{
	int v = 0, i;

	for (i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

bool json_read_string(struct json_in *j, char **out)
{
	const char *p;
	char *buf, *o;

	if (!json_expect(j, '"'))
		return false;
	/* The decoded text is never longer than the escaped text. */
	for (p = j->p; p < j->end && *p != '"'; p++)
		if (*p == '\\')
			p++;
	if (p >= j->end)
		return fail(j, "unterminated string");
	buf = malloc((size_t)(p - j->p) + 1);
	if (!buf) {
		snprintf(j->err, sizeof(j->err), "out of memory");
		return false;
	}
	o = buf;
	while (*j->p != '"') {
		char c = *j->p++;
		int u, lo;

		if ((unsigned char)c < 0x20) {
			free(buf);
			j->p--;
			return fail(j, "control character in a string");
		}
		if (c != '\\') {
			*o++ = c;
			continue;
		}
		c = *j->p++;
		switch (c) {
		case '"': case '\\': case '/':
			*o++ = c;
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'u':
			u = j->end - j->p >= 4 ? hex4(j->p) : -1;
			if (u < 0) {
				free(buf);
				return fail(j, "bad \\u escape");
			}
			j->p += 4;
			lo = -1;
			if (u >= 0xd800 && u < 0xdc00 && j->end - j->p >= 6 &&
			    j->p[0] == '\\' && j->p[1] == 'u')
				lo = hex4(j->p + 2);
			if (lo >= 0xdc00 && lo < 0xe000) {
				j->p += 6;
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			} else if (u >= 0xd800 && u < 0xe000) {
				u = 0xfffd;	/* a lone surrogate */
			}
			/* \uXXXX is 6 bytes of input, at most 3 of output;
			 * a pair is 12 bytes for 4.
			 */
			o += put_utf8(o, (uint32_t)u);
			break;
		default:
			free(buf);
			j->p--;
			return fail(j, "bad escape in a string");
		}
	}
	j->p++;
	*o = '\0';
	*out = buf;
	return true;
}

static bool skip_word(struct json_in *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) >= n && !memcmp(j->p, w, n)) {
		j->p += n;
		return true;
	}
	return fail(j, "expected a value");
}

static bool skip_depth(struct json_in *j, int depth)
{
	char *s;

	if (depth > 64)
		return fail(j, "nested too deeply");
	ws(j);
	if (j->p >= j->end)
		return fail(j, "expected a value");
	switch (*j->p) {
	case '"':
		if (!json_read_string(j, &s))
			return false;
		free(s);
		return true;
	case '{':
		j->p++;
		if (json_peek(j, '}')) {
			j->p++;
			return true;
		}
		do {
			if (!json_read_string(j, &s))
				return false;
			free(s);
			if (!json_expect(j, ':') || !skip_depth(j, depth + 1))
				return false;
		} while (json_next(j, '}'));
		return !j->err[0] && json_expect(j, '}');
	case '[':
		j->p++;
		if (json_peek(j, ']')) {
			j->p++;
			return true;
		}
		do {
			if (!skip_depth(j, depth + 1))
				return false;
		} while (json_next(j, ']'));
		return !j->err[0] && json_expect(j, ']');
	case 't':
		return skip_word(j, "true");
	case 'f':
		return skip_word(j, "false");
	case 'n':
		return skip_word(j, "null");
	default:
		if (*j->p != '-' && (*j->p < '0' || *j->p > '9'))
			return fail(j, "expected a value");
		while (j->p < j->end && strchr("+-0123456789.eE", *j->p))
			j->p++;
		return true;
	}
}

bool json_skip_value(struct json_in *j)
{
	return skip_depth(j, 0);
}

bool json_next(struct json_in *j, char close)
{
	char what[48];

	if (json_peek(j, ',')) {
		j->p++;
		return true;
	}
	if (json_peek(j, close))
		return false;
	snprintf(what, sizeof(what), "expected ',' or '%c'", close);
	fail(j, what);
	return false;
}
