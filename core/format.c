// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A small printf for the core, which has no libc: error messages name the key,
 * tensor and numbers involved, so they need formatting in the kernel too.
 */
#include "base.h"

struct out {
	char *buf;
	size_t cap;
	size_t len;	/* length of the full output, even past cap */
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->cap)
		o->buf[o->len] = c;
	o->len++;
}

static void put_padded(struct out *o, const char *s, size_t n, int width,
		       bool left, char pad)
{
	size_t i;

	if (!left)
		for (; width > 0 && (size_t)width > n; width--)
			put(o, pad);
	for (i = 0; i < n; i++)
		put(o, s[i]);
	if (left)
		for (; width > 0 && (size_t)width > n; width--)
			put(o, ' ');
}

static size_t utoa(char *tmp, uint64_t v, unsigned int base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char rev[24];
	size_t n = 0, i;

	do {
		rev[n++] = digits[v % base];
		v /= base;
	} while (v);
	for (i = 0; i < n; i++)
		tmp[i] = rev[n - 1 - i];
	return n;
}

/* Fixed-point rendering of a double; enough for messages, not for round-trips. */
static size_t ftoa(char *tmp, size_t cap, double v, int prec)
{
	size_t n = 0;
	uint64_t ip, fp, scale = 1;
	int i;

	if (v != v)
		return lx_snprintf(tmp, cap, "nan");
	if (v < 0) {
		tmp[n++] = '-';
		v = -v;
	}
	if (v > 1e18)
		return n + lx_snprintf(tmp + n, cap - n, "inf");
	if (prec > 9)
		prec = 9;
	for (i = 0; i < prec; i++)
		scale *= 10;
	ip = (uint64_t)v;
	fp = (uint64_t)((v - (double)ip) * (double)scale + 0.5);
	if (fp >= scale) {
		ip++;
		fp -= scale;
	}
	n += utoa(tmp + n, ip, 10, false);
	if (prec > 0) {
		char digits[24];
		size_t nd = utoa(digits, fp, 10, false);

		tmp[n++] = '.';
		for (i = (int)nd; i < prec; i++)
			tmp[n++] = '0';
		memcpy(tmp + n, digits, nd);
		n += nd;
	}
	return n;
}

/* %g: shortest of fixed and scientific with prec significant digits. */
static size_t gtoa(char *tmp, size_t cap, double v, int prec)
{
	double a = v < 0 ? -v : v, r;
	int e = 0, digits;
	size_t n, i;

	if (prec <= 0)
		prec = 1;
	if (v != v || a > 1e300 || a == 0.0)
		return ftoa(tmp, cap, v, 0);
	while (a >= 10.0) {
		a /= 10.0;
		e++;
	}
	while (a < 1.0) {
		a *= 10.0;
		e--;
	}
	/* 9.9999996 at 6 digits rounds up to 10: renormalise. */
	for (i = 1, r = 1.0; i < (size_t)prec && i < 10; i++)
		r *= 10.0;
	if ((uint64_t)(a * r + 0.5) >= (uint64_t)(10.0 * r)) {
		a /= 10.0;
		e++;
	}
	if (e < -4 || e >= prec) {
		n = ftoa(tmp, cap, v < 0 ? -a : a, prec - 1);
	} else {
		digits = prec - 1 - e;
		n = ftoa(tmp, cap, v, digits > 9 ? 9 : digits);
	}
	/* Drop trailing zeros of the fraction, then a bare point. */
	for (i = 0; i < n && tmp[i] != '.'; i++)
		;
	if (i < n) {
		while (n && tmp[n - 1] == '0')
			n--;
		if (n && tmp[n - 1] == '.')
			n--;
	}
	if (e < -4 || e >= prec)
		n += lx_snprintf(tmp + n, cap - n, "e%c%02d", e < 0 ? '-' : '+',
				 e < 0 ? -e : e);
	return n;
}

size_t lx_vsnprintf(char *buf, size_t cap, const char *fmt, lx_va_list ap)
{
	struct out o = { buf, cap, 0 };

	while (*fmt) {
		char tmp[64];
		int width = 0, prec = -1, lng = 0;
		bool left = false, zero = false, neg = false;
		uint64_t u;
		int64_t s;
		size_t n;
		const char *str;

		if (*fmt != '%') {
			put(&o, *fmt++);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				zero = true;
			else
				break;
		}
		if (*fmt == '*') {
			width = lx_va_arg(ap, int);
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9')
				width = width * 10 + (*fmt++ - '0');
		}
		if (*fmt == '.') {
			fmt++;
			prec = 0;
			if (*fmt == '*') {
				prec = lx_va_arg(ap, int);
				fmt++;
			} else {
				while (*fmt >= '0' && *fmt <= '9')
					prec = prec * 10 + (*fmt++ - '0');
			}
		}
		while (*fmt == 'l' || *fmt == 'z') {
			lng = *fmt == 'z' ? 2 : lng + 1;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i':
			if (lng >= 2)
				s = lx_va_arg(ap, int64_t);
			else if (lng == 1)
				s = lx_va_arg(ap, long);
			else
				s = lx_va_arg(ap, int);
			neg = s < 0;
			u = neg ? 0 - (uint64_t)s : (uint64_t)s;
			n = 0;
			if (neg)
				tmp[n++] = '-';
			n += utoa(tmp + n, u, 10, false);
			put_padded(&o, tmp, n, width, left, zero ? '0' : ' ');
			break;
		case 'u':
		case 'x':
		case 'X':
			if (lng >= 2)
				u = lx_va_arg(ap, uint64_t);
			else if (lng == 1)
				u = lx_va_arg(ap, unsigned long);
			else
				u = lx_va_arg(ap, unsigned int);
			n = utoa(tmp, u, *fmt == 'u' ? 10 : 16, *fmt == 'X');
			put_padded(&o, tmp, n, width, left, zero ? '0' : ' ');
			break;
		case 'p':
			u = (uint64_t)(uintptr_t)lx_va_arg(ap, void *);
			tmp[0] = '0';
			tmp[1] = 'x';
			n = 2 + utoa(tmp + 2, u, 16, false);
			put_padded(&o, tmp, n, width, left, ' ');
			break;
		case 'c':
			tmp[0] = (char)lx_va_arg(ap, int);
			put_padded(&o, tmp, 1, width, left, ' ');
			break;
		case 's':
			str = lx_va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			n = 0;
			while ((prec < 0 || n < (size_t)prec) && str[n])
				n++;
			put_padded(&o, str, n, width, left, ' ');
			break;
		case 'f':
		case 'e':
			n = ftoa(tmp, sizeof(tmp), lx_va_arg(ap, double),
				 prec < 0 ? 6 : prec);
			put_padded(&o, tmp, LX_MIN(n, sizeof(tmp) - 1), width,
				   left, ' ');
			break;
		case 'g':
			n = gtoa(tmp, sizeof(tmp), lx_va_arg(ap, double),
				 prec < 0 ? 6 : prec);
			put_padded(&o, tmp, LX_MIN(n, sizeof(tmp) - 1), width,
				   left, ' ');
			break;
		case '%':
			put(&o, '%');
			break;
		case '\0':
			fmt--;
			break;
		default:
			put(&o, '%');
			put(&o, *fmt);
			break;
		}
		fmt++;
	}
	if (cap)
		o.buf[o.len < cap ? o.len : cap - 1] = '\0';
	return o.len;
}

size_t lx_snprintf(char *buf, size_t cap, const char *fmt, ...)
{
	lx_va_list ap;
	size_t n;

	lx_va_start(ap, fmt);
	n = lx_vsnprintf(buf, cap, fmt, ap);
	lx_va_end(ap);
	return n;
}

bool lx_fail(struct lx_err *err, const char *fmt, ...)
{
	lx_va_list ap;

	if (!err)
		return false;
	lx_va_start(ap, fmt);
	lx_vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	lx_va_end(ap);
	return false;
}
