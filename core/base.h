/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The only header every core file includes first. It pulls in compiler-provided
 * headers (never libc), declares the four memory functions that both libc and
 * the kernel provide, and holds small helpers shared across the core.
 */
#ifndef LLAMUX_CORE_BASE_H
#define LLAMUX_CORE_BASE_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/limits.h>
#include <linux/string.h>
#include <linux/stddef.h>
/* The C names the core uses, from the compiler's own definitions. */
#ifndef INT32_MAX
#define INT32_MAX __INT32_MAX__
#endif
#ifndef UINT32_MAX
#define UINT32_MAX __UINT32_MAX__
#endif
#ifndef INT64_MAX
#define INT64_MAX __INT64_MAX__
#endif
#ifndef FLT_MAX
#define FLT_MAX __FLT_MAX__
#endif
#else
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <float.h>

/* Provided by libc in userspace and by the kernel; the only outside symbols. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/*
 * -ffreestanding turns off the compiler's knowledge of these, so a 4-byte
 * memcpy used to read a float would become a call; the builtins inline small
 * copies and still call the real function for large ones.
 */
#define memcpy(d, s, n) __builtin_memcpy(d, s, n)
#define memmove(d, s, n) __builtin_memmove(d, s, n)
#define memset(d, c, n) __builtin_memset(d, c, n)
#define memcmp(a, b, n) __builtin_memcmp(a, b, n)
#endif

#define LX_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define LX_MIN(a, b) ((a) < (b) ? (a) : (b))
#define LX_MAX(a, b) ((a) > (b) ? (a) : (b))

typedef __builtin_va_list lx_va_list;
#define lx_va_start(ap, last) __builtin_va_start(ap, last)
#define lx_va_end(ap) __builtin_va_end(ap)
#define lx_va_arg(ap, type) __builtin_va_arg(ap, type)

/* Checked arithmetic: returns true on overflow, like the builtins it wraps. */
static inline bool lx_mul_overflow(uint64_t a, uint64_t b, uint64_t *r)
{
	return __builtin_mul_overflow(a, b, r);
}

static inline bool lx_add_overflow(uint64_t a, uint64_t b, uint64_t *r)
{
	return __builtin_add_overflow(a, b, r);
}

static inline size_t lx_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static inline int lx_strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

/* Does the byte string s (not NUL-terminated, n bytes) equal the C string c? */
static inline bool lx_str_eq(const char *s, size_t n, const char *c)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i] == '\0' || c[i] != s[i])
			return false;
	return c[n] == '\0';
}

/* Error text: every failing core call writes one line here for the user. */
#define LX_ERR_MAX 256
struct lx_err {
	char msg[LX_ERR_MAX];
};

/* printf-like into a fixed buffer (subset: %s %.*s %c %d %i %u %ld %lu %lld
 * %llu %zu %zd %x %llx %p %f %g %e, widths and precision); always NUL-terminated.
 * Returns the length the full output would have had.
 */
size_t lx_vsnprintf(char *buf, size_t cap, const char *fmt, lx_va_list ap);
size_t lx_snprintf(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Sets err->msg (err may be NULL) and returns false, for `return lx_fail(...)`. */
bool lx_fail(struct lx_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Sorting without libc: heap sort, O(n log n) worst case, no recursion. */
void lx_sort(void *base, size_t n, size_t size,
	     int (*cmp)(const void *a, const void *b, void *arg), void *arg);

/* UTF-8: length of the sequence starting with byte c (1 for invalid leads). */
static inline size_t lx_utf8_len(unsigned char c)
{
	static const unsigned char lookup[16] = { 1, 1, 1, 1, 1, 1, 1, 1,
						  1, 1, 1, 1, 2, 2, 3, 4 };
	return lookup[c >> 4];
}

/* Is s[0..n) well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF)? */
bool lx_utf8_valid(const char *s, size_t n);

#endif
