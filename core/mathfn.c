// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Elementary functions for the freestanding core. The kernel has no libm, so
 * exp, log, pow, sin, cos, tanh, erf and sqrt live here, built only from IEEE
 * arithmetic and builtins that compile to single instructions. Polynomial
 * coefficients are minimax fits computed offline (Remez exchange in high
 * precision) for the reduced ranges noted at each table; the double functions
 * carry extra precision through the reduction so that they stay within about
 * half an ulp, and the float ones are evaluated in double and rounded once.
 */
#include "mathfn.h"

/* ---------------------------------------------------------------------- */
/* Bit access. Unions are the defined way to reinterpret in C11 (and GCC). */

union lx_dbits {
	double f;
	uint64_t u;
};

static inline uint64_t d2u(double x)
{
	union lx_dbits b = { .f = x };

	return b.u;
}

static inline double u2d(uint64_t u)
{
	union lx_dbits b = { .u = u };

	return b.f;
}

static inline float u2f(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

#define LX_MANT_MASK	(0x000fffffffffffffULL)
#define LX_ABS_MASK	(0x7fffffffffffffffULL)
#define LX_EXP_INF	(0x7ff0000000000000ULL)
/* Mantissa of sqrt(2): larger mantissas are halved so |log m| <= ln2/2. */
#define LX_SQRT2_MANT	(0x6a09e667f3bcdULL)

/* 2^k for k in the normal exponent range [-1022, 1023]. */
static inline double pow2i(int k)
{
	return u2d((uint64_t)(k + 1023) << 52);
}

bool lx_isnan(double x)
{
	return (d2u(x) & LX_ABS_MASK) > LX_EXP_INF;
}

bool lx_isinf(double x)
{
	return (d2u(x) & LX_ABS_MASK) == LX_EXP_INF;
}

/* ---------------------------------------------------------------------- */
/*
 * Error-free transformations (double-double arithmetic). They rely on
 * round-to-nearest and no excess precision, which holds for SSE2 and for
 * every FPU the core targets. Dekker's product is safe under contraction of
 * single expressions (all its products are exact); with a hardware FMA the
 * compiler may fuse across statements, so the FMA path is used instead.
 */

/* s + *e == a + b exactly, whatever the magnitudes (Knuth). */
static inline double two_sum(double a, double b, double *e)
{
	double s = a + b;
	double bb = s - a;

	*e = (a - (s - bb)) + (b - bb);
	return s;
}

/* Same, but only valid when |a| >= |b| or a == 0 (Dekker). */
static inline double fast_two_sum(double a, double b, double *e)
{
	double s = a + b;

	*e = b - (s - a);
	return s;
}

/* With a hardware FMA the exact product is one instruction, never a call. */
#if defined(__FP_FAST_FMA) || defined(__FMA__) || defined(__ARM_FEATURE_FMA)
#define LX_HAVE_FMA 1
#endif

#ifndef LX_HAVE_FMA
/* a == *hi + *lo with both halves at most 26 bits wide. */
static inline void split(double a, double *hi, double *lo)
{
	double c = 134217729.0 * a;	/* 2^27 + 1 */

	*hi = c - (c - a);
	*lo = a - *hi;
}
#endif

/* p + *e == a * b exactly (barring overflow and underflow). */
static inline double two_prod(double a, double b, double *e)
{
	double p = a * b;
#ifdef LX_HAVE_FMA
	*e = __builtin_fma(a, b, -p);
#else
	double ah, al, bh, bl;

	split(a, &ah, &al);
	split(b, &bh, &bl);
	*e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
#endif
	return p;
}

static inline double poly(const double *c, int n, double x)
{
	double p = c[n - 1];
	int i;

	for (i = n - 2; i >= 0; i--)
		p = p * x + c[i];
	return p;
}

/* ---------------------------------------------------------------------- */
/* Constants. */

/* Adding then subtracting 1.5 * 2^52 rounds any |v| < 2^51 to an integer. */
#define LX_SHIFT	(0x1.8p52)
#define LX_INV_LN2	(0x1.71547652b82fep+0)
#define LX_LN2		(0x1.62e42fefa39efp-1)
/* ln2 = HI + LO to ~85 bits; HI has 32 bits: k * HI is exact for k < 2^21. */
#define LX_LN2_HI	(0x1.62e42fee00000p-1)
#define LX_LN2_LO	(0x1.a39ef35793c76p-33)
#define LX_TWO3_HI	(0x1.5555555555555p-1)	/* 2/3 = HI + LO */
#define LX_TWO3_LO	(0x1.5555555555555p-55)
#define LX_TWO5_HI	(0x1.999999999999ap-2)	/* 2/5 = HI + LO */
#define LX_TWO5_LO	(-0x1.999999999999ap-56)
#define LX_SIXTH_HI	(0x1.5555555555555p-3)	/* 1/6 = HI + LO */
#define LX_SIXTH_LO	(0x1.5555555555555p-57)
#define LX_PI_4		(0x1.921fb54442d18p-1)
#define LX_TWO_PI	(0x1.45f306dc9c883p-1)	/* 2/pi */
/* pi/2 in 23-bit slices at fixed bit positions: n * slice exact, n < 2^30. */
#define LX_PIO2_1	(0x1.921fb40000000p+0)
#define LX_PIO2_2	(0x1.4442d00000000p-24)
#define LX_PIO2_3	(0x1.8469800000000p-48)
#define LX_PIO2_4	(0x1.3198a00000000p-69)
#define LX_PIO2_5	(0x1.701b839a25205p-92)
#define LX_PIO2_HI	(0x1.921fb54442d18p+0)
#define LX_PIO2_LO	(0x1.1a62633145c07p-54)

/* (expm1(r) - r - r^2/2) / r^3 on |r| <= 0.347, abs error 2^-56.8. */
static const double exp_q[10] = {
	0x1.5555555555556p-3,
	0x1.5555555555556p-5,
	0x1.11111111109a2p-7,
	0x1.6c16c16c15da5p-10,
	0x1.a01a01a7d191dp-13,
	0x1.a01a01a9462dap-16,
	0x1.71de0d7a3d7cdp-19,
	0x1.27e4d4a6d2218p-22,
	0x1.af392578b9d3ap-26,
	0x1.1f7f7ca675720p-29,
};

/* (2 atanh(s) - 2s - 2s^3/3 - 2s^5/5) / s^7, z = s^2 in [0, 0.0295]: 2^-55.8 */
static const double log_p[8] = {
	0x1.2492492492492p-2,
	0x1.c71c71c71c829p-3,
	0x1.745d1745a2fd9p-3,
	0x1.3b13b16c18748p-3,
	0x1.1110f7b2c387dp-3,
	0x1.e1f01cb9063e0p-4,
	0x1.acf4ced48900ep-4,
	0x1.b304267120aa7p-4,
};

/* (sin(r) - r + r^3/6) / r^5 in z = r^2 on [0, 0.62] (|r| <= pi/4 + slack). */
static const double sin_s[6] = {
	0x1.1111111111111p-7,
	-0x1.a01a01a019ecep-13,
	0x1.71de3a550ac93p-19,
	-0x1.ae64552f23c49p-26,
	0x1.61225605e7372p-33,
	-0x1.ab903bc1a6043p-41,
};

/* (cos(r) - 1 + r^2/2) / r^4 in z = r^2 on [0, 0.62]. */
static const double cos_c[7] = {
	0x1.5555555555555p-5,
	-0x1.6c16c16c16c16p-10,
	0x1.a01a01a019cf7p-16,
	-0x1.27e4fb77106d3p-22,
	0x1.1eed8de768dbap-29,
	-0x1.9394b36dad7c2p-37,
	0x1.ab747531113bap-45,
};

/*
 * Float-accuracy tables (evaluated in double, error well below 2^-30 so the
 * final rounding to float dominates).
 */

/*
 * lx_expf(z), for -104 < z < 89, is (float)(sc + sc * p), in doubles:
 *   t = z * LX_32_LN2; u = t + LX_EXPF_SHIFT; kb = the bits of u;
 *   j = kb & 31; f = t - (u - LX_EXPF_SHIFT);
 *   sc = the double with bits lx_exp2_32[j] + ((kb - j) << 47);
 *   p = f * (P0 + f * (P1 + f * (P2 + f * P3))),
 * i.e. 2^(k/32) 2^(f/32) with integer k and |f| <= 1/2: the table holds the
 * bits of 2^(j/32) (correctly rounded) and 2^(f/32) - 1 = f P(f) with
 * relative error 2^-36.
 */
#define LX_32_LN2	(0x1.71547652b82fep+5)	/* 32 / ln2 */
#define LX_EXPF_SHIFT	(0x1.8p52)	/* adding it rounds t to an integer */
#define LX_EXPF_P0	(0x1.62e42fef8dc68p-6)
#define LX_EXPF_P1	(0x1.ebfbdff85ed25p-13)
#define LX_EXPF_P2	(0x1.c6b13c344430ep-20)
#define LX_EXPF_P3	(0x1.3b2ab6fba1298p-27)
static const uint64_t lx_exp2_32[32] = {
	0x3ff0000000000000ULL, 0x3ff059b0d3158574ULL, 0x3ff0b5586cf9890fULL,
	0x3ff11301d0125b51ULL, 0x3ff172b83c7d517bULL, 0x3ff1d4873168b9aaULL,
	0x3ff2387a6e756238ULL, 0x3ff29e9df51fdee1ULL, 0x3ff306fe0a31b715ULL,
	0x3ff371a7373aa9cbULL, 0x3ff3dea64c123422ULL, 0x3ff44e086061892dULL,
	0x3ff4bfdad5362a27ULL, 0x3ff5342b569d4f82ULL, 0x3ff5ab07dd485429ULL,
	0x3ff6247eb03a5585ULL, 0x3ff6a09e667f3bcdULL, 0x3ff71f75e8ec5f74ULL,
	0x3ff7a11473eb0187ULL, 0x3ff82589994cce13ULL, 0x3ff8ace5422aa0dbULL,
	0x3ff93737b0cdc5e5ULL, 0x3ff9c49182a3f090ULL, 0x3ffa5503b23e255dULL,
	0x3ffae89f995ad3adULL, 0x3ffb7f76f2fb5e47ULL, 0x3ffc199bdd85529cULL,
	0x3ffcb720dcef9069ULL, 0x3ffd5818dcfba487ULL, 0x3ffdfc97337b9b5fULL,
	0x3ffea4afa2a490daULL, 0x3fff50765b6e4540ULL,
};

/* (2 atanh(s) - 2s) / s^3 in z = s^2 on [0, 0.0295], error 2^-29.7. */
static const double logf_r[4] = {
	0x1.5555554b7d876p-1,
	0x1.9999ec7dc8042p-2,
	0x1.245bd174feba3p-2,
	0x1.dde524d8d5a7dp-3,
};

/* erf(x) / x in z = x^2 on [0, 1], relative error 2^-34.8. */
static const double erf_p[8] = {
	0x1.20dd7504007e6p+0,
	-0x1.8127465fb983bp-2,
	0x1.ce2f0798ae43ap-4,
	-0x1.b829a7a5d89f4p-6,
	0x1.5628edef3f1fap-8,
	-0x1.bcbe9a84168abp-11,
	0x1.d82691efc98f6p-14,
	-0x1.4384053e3cbc2p-17,
};

/* exp(x^2) erfc(x) in t = x - 2.5 for x in [1, 4], relative error 2^-30. */
static const double erfc_r[14] = {
	0x1.afbb3f41f3c21p-3,
	-0x1.3086d7dbf5b8fp-4,
	0x1.9895816c945e9p-6,
	-0x1.06320c6e744c7p-7,
	0x1.435e0e6db4ba9p-9,
	-0x1.809cb459a1c78p-11,
	0x1.ba3341a8961c6p-13,
	-0x1.edb7734a91aa1p-15,
	0x1.0f38ccc67d35bp-16,
	-0x1.1cc23a6279491p-18,
	0x1.0092b4206662dp-20,
	-0x1.0c1cf7ca820eep-22,
	0x1.c7910a4bce5a3p-24,
	-0x1.a02813204fd7fp-26,
};

/* 2/pi in 32-bit words, most significant first (first word = bits 1..32). */
static const uint32_t two_over_pi[40] = {
	0xa2f9836e, 0x4e441529, 0xfc2757d1, 0xf534ddc0,
	0xdb629599, 0x3c439041, 0xfe5163ab, 0xdebbc561,
	0xb7246e3a, 0x424dd2e0, 0x06492eea, 0x09d1921c,
	0xfe1deb1c, 0xb129a73e, 0xe88235f5, 0x2ebb4484,
	0xe99c7026, 0xb45f7e41, 0x3991d639, 0x835339f4,
	0x9c845f8b, 0xbdf9283b, 0x1ff897ff, 0xde05980f,
	0xef2f118b, 0x5a0a6d1f, 0x6d367ecf, 0x27cb09b7,
	0x4f463f66, 0x9e5fea2d, 0x7527bac7, 0xebe5f17b,
	0x3d0739f7, 0x8a5292ea, 0x6bfb5fb1, 0x1f8d5d08,
	0x56033046, 0xfc7b6bab, 0xf0cfbc20, 0x9af4361d,
};

/*
 * (hi + lo) * 2^k for k in [-1080, 1030], hi + lo in [0.5, 2) with |lo| tiny.
 * Overflow is split so it gives a clean +inf. For subnormal results the sum
 * must be rounded once, on the subnormal grid: scaled by 2^(k + 1022), that
 * grid has the spacing of the doubles in [1, 2), so adding 1 makes the
 * hardware round there; removing the 1 and rescaling are then exact.
 */
static inline double scale2(double hi, double lo, int k)
{
	double s, hs, h, l;

	if (k > 1023)
		return (hi + lo) * pow2i(k - 1023) * 0x1p1023;
	if (k > -1022)
		return (hi + lo) * pow2i(k);
	s = pow2i(k + 1022);
	hs = hi * s;				/* exact, as is lo * s */
	if (hs >= 1.0)			/* k == -1022, still normal */
		return (hi + lo) * pow2i(k);
	h = fast_two_sum(1.0, hs, &l);
	return ((h + (l + lo * s)) - 1.0) * 0x1p-1022;
}

/* ---------------------------------------------------------------------- */
/* exp */

/*
 * exp(x + xl) for -746 < x < 710 and |xl| <= ulp(x). x = k ln2 + r with the
 * reduction carried in double-double so that xl (pow's low part) and the
 * rounding of r both reach the polynomial. 1 + r + r^2/2 is also summed
 * exactly, leaving only the small r^3 tail to ordinary rounding, so the
 * result is within a few hundredths of an ulp of correctly rounded.
 */
static double exp_dd(double x, double xl)
{
	double kd, hi, lo, r, rr, z, ze, t, tl, u, ul, tail;

	kd = x * LX_INV_LN2 + LX_SHIFT;
	kd -= LX_SHIFT;
	hi = x - kd * LX_LN2_HI;	/* exact: Sterbenz, k * HI exact */
	lo = kd * LX_LN2_LO - xl;
	r = two_sum(hi, -lo, &rr);
	z = two_prod(r, r, &ze);
	t = fast_two_sum(1.0, r, &tl);
	u = fast_two_sum(t, 0.5 * z, &ul);
	tail = z * r * poly(exp_q, 10, r);
	tail += tl + ul + 0.5 * ze + rr * (1.0 + r);
	return scale2(u, tail, (int)kd);
}

double lx_exp(double x)
{
	if (lx_isnan(x))
		return x + x;
	if (x > 709.8)		/* above log(DBL_MAX) = 709.7827 */
		return LX_INFINITY;
	if (x < -745.2)		/* below log(2^-1075) = -745.1332 */
		return 0.0;
	return exp_dd(x, 0.0);
}

/* ---------------------------------------------------------------------- */
/* log */

/*
 * log(x) = hi + *lo to about 2^-70 relative, for finite x > 0 (subnormals
 * included). x = 2^e m with m in [sqrt2/2, sqrt2), f = m - 1 exactly and
 * log(m) = 2 atanh(s) = 2s + 2s^3/3 + 2s^5/5 + ..., s = f / (2 + f). pow
 * multiplies log(x) by up to ~700, so s and the terms up to s^5 (which can
 * reach 1e-2 and 2e-4 of the result) are formed in double-double; only the
 * s^7 tail is left to plain rounding.
 */
static double log_dd(double x, double *lo)
{
	uint64_t b = d2u(x);
	int e = 0;
	double m, f, t, tl, s, sl, p, pe, z, ze, c, cl, q, ql, bb, bl, d, dl,
	       h, hl, hl2, eh, big, bigl, rest;

	if (b < (1ULL << 52)) {		/* subnormal: make it normal */
		b = d2u(x * 0x1p54);
		e = -54;
	}
	e += (int)(b >> 52) - 1023;
	b &= LX_MANT_MASK;
	if (b > LX_SQRT2_MANT) {
		b |= 1022ULL << 52;
		e++;
	} else {
		b |= 1023ULL << 52;
	}
	m = u2d(b);
	f = m - 1.0;

	/* s + sl = f / (2 + f) to ~2^-100: divide, then fix the residual. */
	t = fast_two_sum(2.0, f, &tl);
	s = f / t;
	p = two_prod(s, t, &pe);
	sl = (((f - p) - pe) - s * tl) / t;	/* f - p exact (Sterbenz) */

	/* s^2 = z + ze, s^3 = c + cl, s^5 = q + ql. */
	z = two_prod(s, s, &ze);
	c = two_prod(s, z, &cl);
	cl += s * ze;
	q = two_prod(c, z, &ql);
	ql += c * ze + cl * z;
	/* (2/3) s^3 = bb + bl, (2/5) s^5 = d + dl. */
	bb = two_prod(c, LX_TWO3_HI, &bl);
	bl += c * LX_TWO3_LO + cl * LX_TWO3_HI;
	d = two_prod(q, LX_TWO5_HI, &dl);
	dl += q * LX_TWO5_LO + ql * LX_TWO5_HI;

	/* Small terms: sl * d(2 atanh s)/ds = 2 sl / (1 - z), the s^7 tail. */
	rest = bl + dl + 2.0 * sl * (1.0 + z * (1.0 + z * (1.0 + z))) +
	       q * z * poly(log_p, 8, z);

	h = fast_two_sum(2.0 * s, bb, &hl);
	h = fast_two_sum(h, d, &hl2);
	eh = (double)e * LX_LN2_HI;		/* exact */
	big = fast_two_sum(eh, h, &bigl);	/* |eh| > |h| or eh == 0 */
	rest += bigl + hl + hl2 + (double)e * LX_LN2_LO;
	return fast_two_sum(big, rest, lo);
}

double lx_log(double x)
{
	double lo, hi;

	if (!(x > 0.0) || lx_isinf(x)) {
		if (x == 0.0)
			return -LX_INFINITY;
		if (x < 0.0)
			return LX_NAN;
		return x + x;	/* NaN stays NaN, +inf stays +inf */
	}
	hi = log_dd(x, &lo);
	return hi + lo;
}

/* ---------------------------------------------------------------------- */
/* pow */

/* 0: y is not an integer, 1: odd integer, 2: even integer. y finite, != 0. */
static int int_kind(double y)
{
	double ay = __builtin_fabs(y);
	int64_t i;

	if (ay >= 0x1p53)
		return 2;	/* all doubles this large are even integers */
	if (ay < 1.0)
		return 0;
	i = (int64_t)ay;
	if ((double)i != ay)
		return 0;
	return (i & 1) ? 1 : 2;
}

/*
 * exp(y log x) with log x in double-double and the product split exactly,
 * so the error stays near half an ulp even when y log x approaches +-709.
 * The special cases follow C99 Annex F, like libm.
 */
double lx_pow(double x, double y)
{
	double lh, ll, ph, pl, res;
	bool neg = false;

	if (y == 0.0 || x == 1.0)
		return 1.0;	/* even for NaN in the other argument */
	if (lx_isnan(x) || lx_isnan(y))
		return x + y;
	if (lx_isinf(y)) {
		double ax = __builtin_fabs(x);

		if (ax == 1.0)
			return 1.0;
		return ((ax < 1.0) == (y < 0.0)) ? LX_INFINITY : 0.0;
	}
	if (d2u(x) >> 63) {		/* negative, -0 or -inf */
		int k = int_kind(y);

		if (k == 0 && x != 0.0 && !lx_isinf(x))
			return LX_NAN;
		neg = k == 1;
		x = -x;
	}
	if (x == 0.0 || lx_isinf(x)) {
		res = ((x == 0.0) == (y < 0.0)) ? LX_INFINITY : 0.0;
		return neg ? -res : res;
	}

	lh = log_dd(x, &ll);
	ph = y * lh;
	if (ph > 710.0) {
		res = LX_INFINITY;
	} else if (ph < -746.0) {
		res = 0.0;
	} else {
		ph = two_prod(y, lh, &pl);
		pl += y * ll;
		res = exp_dd(ph, pl);
	}
	return neg ? -res : res;
}

/* ---------------------------------------------------------------------- */
/* sin, cos */

static inline uint32_t limb(const uint32_t *p, int n, int i)
{
	return (i >= 0 && i < n) ? p[i] : 0;
}

/* Bits [pos, pos + 64) of little-endian limbs p[0..n); missing bits are 0. */
static uint64_t bits64(const uint32_t *p, int n, int pos)
{
	int lsh = 0, i, sh;
	uint64_t v;

	if (pos <= -64)
		return 0;
	if (pos < 0) {
		lsh = -pos;
		pos = 0;
	}
	i = pos >> 5;
	sh = pos & 31;
	v = limb(p, n, i) | (uint64_t)limb(p, n, i + 1) << 32;
	if (sh)
		v = (v >> sh) | (uint64_t)limb(p, n, i + 2) << (64 - sh);
	return v << lsh;
}

/* Leading zeros of a nonzero v, without relying on a libgcc helper. */
static int clz64(uint64_t v)
{
	int n = 0;

	if (!(v >> 32)) {
		n += 32;
		v <<= 32;
	}
	if (!(v >> 48)) {
		n += 16;
		v <<= 16;
	}
	if (!(v >> 56)) {
		n += 8;
		v <<= 8;
	}
	if (!(v >> 60)) {
		n += 4;
		v <<= 4;
	}
	if (!(v >> 62)) {
		n += 2;
		v <<= 2;
	}
	if (!(v >> 63))
		n++;
	return n;
}

/*
 * Payne-Hanek reduction for |x| >= 2^30: x = m 2^ex, and only the 224 bits
 * of 2/pi that can reach the last three integer bits or the first ~190
 * fraction bits of m * 2/pi matter (earlier ones give multiples of 8, later
 * ones less than 2^-137). The fraction is rounded to nearest, normalised
 * (it can start with ~61 zero bits for the worst doubles) and multiplied by
 * pi/2 in double-double.
 */
static unsigned int rem_pio2_large(double x, double *r, double *rl)
{
	uint64_t ix = d2u(x), m, f0, f1, f2, t, carry;
	int ex = (int)((ix >> 52) & 0x7ff) - 1075;
	int j0 = ex >= 3 ? (ex - 3) >> 5 : 0;
	uint32_t w[7], mk[2], prod[9] = { 0 };
	unsigned int n;
	int i, k, s, sh = 0;
	bool neg;
	double hi, lo, y, e;

	m = (ix & LX_MANT_MASK) | (1ULL << 52);
	mk[0] = (uint32_t)m;
	mk[1] = (uint32_t)(m >> 32);
	for (i = 0; i < 7; i++)
		w[i] = two_over_pi[j0 + 6 - i];
	for (k = 0; k < 2; k++) {
		carry = 0;
		for (i = 0; i < 7; i++) {
			t = (uint64_t)w[i] * mk[k] + prod[i + k] + carry;
			prod[i + k] = (uint32_t)t;
			carry = t >> 32;
		}
		prod[7 + k] = (uint32_t)carry;
	}

	/* The binary point of prod sits s bits from the bottom. */
	s = 32 * (j0 + 7) - ex;
	n = (unsigned int)bits64(prod, 9, s) & 7;
	f0 = bits64(prod, 9, s - 64);
	f1 = bits64(prod, 9, s - 128);
	f2 = bits64(prod, 9, s - 192);
	neg = f0 >> 63;
	if (neg) {		/* fraction >= 1/2: use n + 1, frac - 1 */
		n++;
		f2 = ~f2 + 1;
		f1 = ~f1 + (f2 == 0);
		f0 = ~f0 + (f1 == 0 && f2 == 0);
	}
	for (i = 0; i < 2 && !f0; i++) {
		f0 = f1;
		f1 = f2;
		f2 = 0;
		sh += 64;
	}
	if (!f0) {
		y = 0.0;
		e = 0.0;
	} else {
		k = clz64(f0);
		if (k) {
			f0 = f0 << k | f1 >> (64 - k);
			f1 = f1 << k | f2 >> (64 - k);
		}
		sh += k;
		/* 106 leading bits, each half exactly convertible. */
		hi = (double)(int64_t)(f0 >> 11) * pow2i(-53 - sh);
		lo = (double)(int64_t)((f0 & 0x7ff) << 42 | f1 >> 22) *
		     pow2i(-106 - sh);
		y = two_prod(hi, LX_PIO2_HI, &e);
		e += hi * LX_PIO2_LO + lo * LX_PIO2_HI;
		y = fast_two_sum(y, e, &e);
	}
	if (neg != (x < 0.0)) {
		y = -y;
		e = -e;
	}
	if (x < 0.0)
		n = 0u - n;
	*r = y;
	*rl = e;
	return n & 3;
}

/*
 * x = n pi/2 + r + rl with |r| <= ~pi/4; returns n mod 4. Below 2^30, n pi/2
 * is subtracted in five slices (Cody-Waite): the first two products and
 * differences are exact, the rest are carried in double-double, giving r to
 * ~2^-114 absolute, enough for the doubles closest to a multiple of pi/2.
 */
static unsigned int rem_pio2(double x, double *r, double *rl)
{
	double ax = __builtin_fabs(x), kd, y, e, e2;

	if (ax <= LX_PI_4) {
		*r = x;
		*rl = 0.0;
		return 0;
	}
	if (ax >= 0x1p30)
		return rem_pio2_large(x, r, rl);

	kd = x * LX_TWO_PI + LX_SHIFT;
	kd -= LX_SHIFT;
	y = x - kd * LX_PIO2_1;
	y -= kd * LX_PIO2_2;
	y = two_sum(y, -kd * LX_PIO2_3, &e);
	y = two_sum(y, -kd * LX_PIO2_4, &e2);
	e += e2 - kd * LX_PIO2_5;
	*r = two_sum(y, e, rl);
	return (unsigned int)(int64_t)kd & 3;
}

/*
 * sin(r + rl) for |r| <= ~pi/4. The r^3/6 term reaches a tenth of the
 * result, so it is formed in double-double; otherwise its rounding alone
 * would cost a quarter ulp. cos(r) ~ 1 - r^2/2 is enough for the rl term.
 */
static double sin_k(double r, double rl)
{
	double ze, z = two_prod(r, r, &ze);
	double ce, c = two_prod(z, r, &ce);	/* r^3 = c + ce */
	double pe, p, s, se;

	ce += ze * r;
	p = two_prod(c, -LX_SIXTH_HI, &pe);	/* -r^3/6 = p + pe */
	pe -= c * LX_SIXTH_LO + ce * LX_SIXTH_HI;
	s = fast_two_sum(r, p, &se);
	return s + (se + pe + z * c * poly(sin_s, 6, z) +
		    rl * (1.0 - 0.5 * z));
}

/* cos(r + rl); r^2/2 is exact and 1 - r^2/2 is split to keep its rounding. */
static double cos_k(double r, double rl)
{
	double ze, z = two_prod(r, r, &ze);
	double hz = 0.5 * z, w = 1.0 - hz;

	return w + ((((1.0 - w) - hz) - 0.5 * ze) +
		    (z * z * poly(cos_c, 7, z) - r * rl));
}

/*
 * Below 2^-27, x^3/6 and x^2/2 are under half an ulp of x and 1: sin x = x
 * (which also keeps the sign of -0) and cos x = 1.
 */
#define LX_TINY 0x1p-27

void lx_sincos(double x, double *s, double *c)
{
	double r, rl, sr, cr;

	if (lx_isnan(x) || lx_isinf(x)) {
		*s = *c = x - x;
		return;
	}
	if (__builtin_fabs(x) < LX_TINY) {
		*s = x;
		*c = 1.0;
		return;
	}
	switch (rem_pio2(x, &r, &rl)) {
	case 0:
		*s = sin_k(r, rl);
		*c = cos_k(r, rl);
		break;
	case 1:
		*s = cos_k(r, rl);
		*c = -sin_k(r, rl);
		break;
	case 2:
		sr = sin_k(r, rl);
		cr = cos_k(r, rl);
		*s = -sr;
		*c = -cr;
		break;
	default:
		*s = -cos_k(r, rl);
		*c = sin_k(r, rl);
		break;
	}
}

double lx_sin(double x)
{
	double r, rl;

	if (lx_isnan(x) || lx_isinf(x))
		return x - x;
	if (__builtin_fabs(x) < LX_TINY)
		return x;
	switch (rem_pio2(x, &r, &rl)) {
	case 0:
		return sin_k(r, rl);
	case 1:
		return cos_k(r, rl);
	case 2:
		return -sin_k(r, rl);
	default:
		return -cos_k(r, rl);
	}
}

double lx_cos(double x)
{
	double r, rl;

	if (lx_isnan(x) || lx_isinf(x))
		return x - x;
	if (__builtin_fabs(x) < LX_TINY)
		return 1.0;
	switch (rem_pio2(x, &r, &rl)) {
	case 0:
		return cos_k(r, rl);
	case 1:
		return -sin_k(r, rl);
	case 2:
		return -cos_k(r, rl);
	default:
		return sin_k(r, rl);
	}
}

double lx_sqrt(double x)
{
	return __builtin_sqrt(x);	/* sqrtsd with -fno-math-errno */
}

/* ---------------------------------------------------------------------- */
/* Single precision: evaluated in double, rounded once at the end. */

/*
 * For |z| < ~110: exp(z) = sc (1 + p), returning p and setting *sc. The
 * rounding of z * 32/ln2 costs at most 2^-41 * ln2/32 relative, far below
 * float precision, so no extended-precision reduction is needed. Adding the
 * shift leaves k in the low bits of u; (kb - j) << 47 moves k / 32 into the
 * exponent field (the shift constant's own bits fall off the top).
 */
static inline double exp_core(double z, double *sc)
{
	double t = z * LX_32_LN2, u = t + LX_EXPF_SHIFT, f;
	uint64_t kb = d2u(u), j = kb & 31;

	f = t - (u - LX_EXPF_SHIFT);
	*sc = u2d(lx_exp2_32[j] + ((kb - j) << 47));
	return f * (LX_EXPF_P0 + f * (LX_EXPF_P1 + f * (LX_EXPF_P2 +
		f * LX_EXPF_P3)));
}

float lx_expf(float x)
{
	double z = x, sc, p;

	/* Outside (-104, 89) the result is 0 or +inf; NaN also lands here. */
	if (!(z > -104.0 && z < 89.0)) {
		if (x != x)
			return x + x;
		return z > 0.0 ? LX_INFINITY : 0.0f;
	}
	p = exp_core(z, &sc);
	return (float)(sc + sc * p);
}

/*
 * The product of two floats is exact in a double, so only the sum rounds
 * twice (to double, then to float). That goes wrong only when the double
 * sum lands exactly halfway between two floats while the exact sum is not
 * there: then the double is moved one step towards the exact sum, which the
 * error of the addition (Knuth's two-sum) tells.
 */
float lx_fmaf(float a, float b, float c)
{
	double p = (double)a * b, s = p + c, bb, err;
	uint64_t u = d2u(s);

	/* 29 bits below float precision: exactly ...1000...0 is a tie */
	if ((u & 0x1fffffffull) != 0x10000000ull ||
	    ((u >> 52) & 0x7ff) == 0x7ff)
		return (float)s;
	bb = s - p;
	err = (p - (s - bb)) + (c - bb);
	if (err != 0.0)
		u += (err > 0.0) == (s > 0.0) ? 1 : -1;
	return (float)u2d(u);
}

/* j * 2^n, rounded once: every partial product but the last is exact. */
static float scale_pow2f(float j, int n)
{
	float s = j;

	if (n > 100) {
		s *= u2f((uint32_t)(n - 100 + 127) << 23);
		n = 100;
	} else if (n < -100) {
		s *= u2f((uint32_t)(n + 100 + 127) << 23);
		n = -100;
	}
	return s * u2f((uint32_t)(n + 127) << 23);
}

float lx_expf_poly(float x)
{
	float z, n, b, u, j;

	z = lx_fmaf(x, LX_EXPP_LOG2E, LX_EXPP_SHIFT);
	n = z - LX_EXPP_SHIFT;
	if (n != n)
		return x + x;
	if (lx_fabsf(n) > 192.0f)
		return n > 0.0f ? LX_INFINITY : 0.0f;
	b = lx_fmaf(-n, LX_EXPP_LN2_LO, lx_fmaf(-n, LX_EXPP_LN2_HI, x));
	u = b * b;
	j = lx_fmaf(lx_fmaf(lx_fmaf(LX_EXPP_C5, b, LX_EXPP_C4), u,
			    lx_fmaf(LX_EXPP_C3, b, LX_EXPP_C2)), u,
		    lx_fmaf(LX_EXPP_C1, b, 1.0f));
	return scale_pow2f(j, (int)n);
}

float lx_logf(float x)
{
	double d = x, f, s, z;
	uint64_t b;
	int e;

	if (!(x > 0.0f) || lx_isinf(d)) {
		if (x == 0.0f)
			return -LX_INFINITY;
		if (x < 0.0f)
			return LX_NAN;
		return x + x;
	}
	/* Every float, subnormal ones included, is a normal double. */
	b = d2u(d);
	e = (int)(b >> 52) - 1023;
	b &= LX_MANT_MASK;
	if (b > LX_SQRT2_MANT) {
		b |= 1022ULL << 52;
		e++;
	} else {
		b |= 1023ULL << 52;
	}
	f = u2d(b) - 1.0;
	s = f / (2.0 + f);
	z = s * s;
	return (float)((double)e * LX_LN2 +
		       (2.0 * s + s * z * poly(logf_r, 4, z)));
}

/*
 * tanh(x) = expm1(2|x|) / (expm1(2|x|) + 2): no cancellation anywhere, and
 * for tiny x it degrades gracefully to x. Beyond 9.1 the float result is +-1.
 */
float lx_tanhf(float x)
{
	double ax = __builtin_fabs((double)x), sc, p, em;

	if (!(ax < 9.1)) {
		if (x != x)
			return x + x;
		return x > 0.0f ? 1.0f : -1.0f;
	}
	p = exp_core(2.0 * ax, &sc);
	em = (sc - 1.0) + sc * p;	/* sc == 1 exactly when em is tiny */
	return (float)__builtin_copysign(em / (em + 2.0), (double)x);
}

/*
 * erf(x) = x P(x^2) below 1; above, 1 - exp(-x^2) R(x) where the smooth
 * factor exp(x^2) erfc(x) is fitted directly (x^2 is exact in double).
 * Beyond 4 the float result is +-1.
 */
float lx_erff(float x)
{
	double d = x, ad = __builtin_fabs(d), sc, p, r;

	if (ad < 1.0)
		return (float)(d * poly(erf_p, 8, d * d));
	if (!(ad < 4.0)) {
		if (x != x)
			return x + x;
		return x > 0.0f ? 1.0f : -1.0f;
	}
	p = exp_core(-d * d, &sc);
	r = 1.0 - (sc + sc * p) * poly(erfc_r, 14, ad - 2.5);
	return (float)__builtin_copysign(r, d);
}

float lx_sqrtf(float x)
{
	return __builtin_sqrtf(x);	/* sqrtss with -fno-math-errno */
}

float lx_fabsf(float x)
{
	return __builtin_fabsf(x);
}
