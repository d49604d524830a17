// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The core's own printf (core/format.c) against libc's snprintf, for the
 * conversions error messages use; plus lx_sort and lx_utf8_valid.
 */
#include <string.h>

#include "base.h"
#include "testlib.h"

#define SAME(fmt, ...)                                                       \
	do {                                                                 \
		char a[128], b[128];                                         \
		size_t na = lx_snprintf(a, sizeof(a), fmt, __VA_ARGS__);     \
		int nb = snprintf(b, sizeof(b), fmt, __VA_ARGS__);           \
		CHECK(!strcmp(a, b) && na == (size_t)nb,                     \
		      "format \"%s\": core '%s' (%zu), libc '%s' (%d)", fmt, \
		      a, na, b, nb);                                         \
	} while (0)

static int cmp_int(const void *a, const void *b, void *arg)
{
	(void)arg;
	return *(const int *)a - *(const int *)b;
}

int main(void)
{
	static const double g[] = { 0, 1e-5, 0.5, 1, 100, 10000, 123456, 1234567,
				    1e-10, 3.14159265, -2.5e7, 0.0001, 9.9999996e-06,
				    1e15, 1e300 };
	int v[1000], i;
	char small[8];
	size_t n;

	SAME("%d %i %u", -42, 7, 3000000000u);
	SAME("%ld %lu %lld %llu", -1L, 2UL, -(1LL << 62), 18446744073709551615ULL);
	SAME("%zu %x %X %llx", (size_t)123, 0xbeefu, 0xBEEFu, 0x1234567890abcdefULL);
	SAME("[%5d|%-5d|%05d|%-4s|%6s]", 42, 42, 42, "ab", "cd");
	SAME("%.3s|%.*s|%c|%%", "abcdef", 2, "xyz", 'q');
	SAME("%.3f %f %.0f %.9f", 2.0 / 3, -1.5, 2.5e6, 1e-9);
	for (i = 0; i < (int)(sizeof(g) / sizeof(g[0])); i++) {
		SAME("%g", g[i]);
		SAME("%.10g", g[i]);
	}
	SAME("%s", "");
	/* Truncation keeps the terminator and reports the full length. */
	n = lx_snprintf(small, sizeof(small), "%s", "0123456789");
	CHECK(n == 10 && !strcmp(small, "0123456"), "truncation: %zu '%s'", n,
	      small);

	for (i = 0; i < 1000; i++)
		v[i] = (i * 7919) % 1000 - 500;
	lx_sort(v, 1000, sizeof(int), cmp_int, NULL);
	for (i = 1; i < 1000; i++)
		CHECK(v[i - 1] <= v[i], "sort order at %d", i);

	CHECK(lx_utf8_valid("h\xc3\xa9llo \xe2\x98\xba \xf0\x9f\x98\x80", 15),
	      "valid UTF-8 rejected");
	CHECK(!lx_utf8_valid("\xc0\xaf", 2), "overlong accepted");
	CHECK(!lx_utf8_valid("\xed\xa0\x80", 3), "surrogate accepted");
	CHECK(!lx_utf8_valid("\xf4\x90\x80\x80", 4), "> U+10FFFF accepted");
	CHECK(!lx_utf8_valid("\xe2\x98", 2), "truncated sequence accepted");
	CHECK(!lx_utf8_valid("\x80", 1), "lone continuation accepted");
	return tl_finish("test_format");
}
