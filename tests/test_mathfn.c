// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Compares the core's elementary functions (core/mathfn.c) with libm over the
 * ranges the core uses and beyond, and prints the max error of each in ulps.
 * Float functions are measured against the double libm function, which is
 * ~2^29 times more precise than a float ulp. Double functions are measured
 * against the long double libm function where long double is the x87 64-bit
 * format (so the ulp figure is the real error, e.g. 0.5x); elsewhere against
 * double libm, whose own error then adds up to one ulp to the figure.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "testlib.h"
#include "mathfn.h"

#if LDBL_MANT_DIG == 64 && !defined(TEST_MATHFN_DOUBLE_REF)
#define REF_LD 1
#define R_EXP expl
#define R_LOG logl
#define R_POW powl
#define R_SIN sinl
#define R_COS cosl
/* Bounds in ulps for double functions (measured: see the printed output). */
#define DBL_BOUND 0.75
#else
#define REF_LD 0
#define R_EXP exp
#define R_LOG log
#define R_POW pow
#define R_SIN sin
#define R_COS cos
#define DBL_BOUND 2.0	/* libm's own error (up to ~1 ulp) is included */
#endif
/* Float results are within a hair of correctly rounded (0.5 ulp). */
#define FLT_BOUND 0.6

/* Fixed-seed xorshift64*: reproducible samples. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [0, 1). */
static double urand(void)
{
	return (double)(rng() >> 11) * 0x1p-53;
}

static double urange(double a, double b)
{
	return a + (b - a) * urand();
}

static float f_of(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static uint32_t u_of_f(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static double d_of(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

static uint64_t u_of_d(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

/* Same value, or both NaN; distinguishes +0 from -0. */
static int same(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return a == b && signbit(a) == signbit(b);
}

struct err_stat {
	double max_ulp;
	double max_rel;
	double worst_x, worst_y;
	long n;
	int prec;		/* 24 or 53 */
};

static void stat_init(struct err_stat *st, int prec)
{
	memset(st, 0, sizeof(*st));
	st->prec = prec;
}

/* Error of got against the precise ref, in ulps of the target format. */
static double ulp_err(double got, long double ref, int prec)
{
	int emin = prec == 24 ? -126 : -1022;
	long double ulp, rounded;
	int e;

	if (isnan(ref))
		return isnan(got) ? 0.0 : INFINITY;
	if (prec == 24)
		rounded = (float)ref;
	else
		rounded = (double)ref;
	if (isinf(rounded))	/* overflows in the target format */
		return got == rounded ? 0.0 : INFINITY;
	if (isnan(got) || isinf(got))
		return INFINITY;
	if (ref == 0)
		e = emin;
	else
		e = ilogbl(ref) < emin ? emin : ilogbl(ref);
	ulp = ldexpl(1.0L, e - (prec - 1));
	return (double)(fabsl((long double)got - ref) / ulp);
}

static void acc2(struct err_stat *st, double got, long double ref, double x,
		 double y)
{
	double u = ulp_err(got, ref, st->prec);
	double minnorm = st->prec == 24 ? FLT_MIN : DBL_MIN;

	st->n++;
	if (u > st->max_ulp || isnan(u)) {
		st->max_ulp = u;
		st->worst_x = x;
		st->worst_y = y;
	}
	if (isfinite(ref) && fabsl(ref) >= minnorm && isfinite(got)) {
		double rel = (double)fabsl(((long double)got - ref) / ref);

		if (rel > st->max_rel)
			st->max_rel = rel;
	}
}

static void acc(struct err_stat *st, double got, long double ref, double x)
{
	acc2(st, got, ref, x, 0.0);
}

static void report(const char *name, const struct err_stat *st,
		   const char *range, double bound)
{
	printf("%s: max %.3f ulp, max rel %.3g over %s (%ld points), "
	       "bound %g ulp (worst at %.17g", name, st->max_ulp, st->max_rel,
	       range, st->n, bound, st->worst_x);
	if (st->worst_y != 0.0)
		printf(", %.17g", st->worst_y);
	printf(")\n");
	CHECK(st->max_ulp <= bound, "%s: %.3f ulp > %g at %.17g %.17g", name,
	      st->max_ulp, bound, st->worst_x, st->worst_y);
}

/* ---------------------------------------------------------------------- */

static const double specials_d[] = {
	0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, INFINITY, -INFINITY, NAN,
	-NAN, DBL_MIN, -DBL_MIN, DBL_MAX, -DBL_MAX, 4.9406564584124654e-324,
	-4.9406564584124654e-324, 1e-300, -1e-300, 1e-20, -1e-20, 0x1p-1022,
	709.78, 709.79, 709.7827128933840, 709.782712893384, -745.13,
	-745.1332191019411, -745.14, -708.4, -708.5, 3.141592653589793,
	1.5707963267948966, 0.7853981633974483, 1e6, 1e9, 1e22, 1e300,
	0x1p30, 0x1p30 - 1, 0x1p53, 0x1p1023,
};

static const float specials_f[] = {
	0.0f, -0.0f, 1.0f, -1.0f, 0.5f, -0.5f, 2.0f, INFINITY, -INFINITY, NAN,
	-NAN, FLT_MIN, -FLT_MIN, FLT_MAX, -FLT_MAX, 1.4e-45f, -1.4e-45f,
	1e-30f, -1e-30f, 1e-7f, -1e-7f, 88.72f, 88.7228f, 88.72284f, 88.7229f,
	89.0f, -87.33f, -87.34f, -103.97f, -103.973f, -103.98f, -104.0f,
	-150.0f, 9.0f, 9.01f, 9.1f, -9.1f, 3.9f, 3.92f, 4.0f, -4.0f, 0.999f,
	1.001f, 10.0f, -10.0f, 1e10f, -1e10f,
};

#define NSPEC_D (sizeof(specials_d) / sizeof(specials_d[0]))
#define NSPEC_F (sizeof(specials_f) / sizeof(specials_f[0]))

/* ---------------------------------------------------------------------- */
/* Float functions. */

/*
 * An e^x against exp() in double: over [-104, 89] in even steps, random
 * floats in that range, and the specials; the caller reports the stats.
 */
static void sweep_expf(struct err_stat *st, float (*f)(float))
{
	const long n = 2000000;
	long i;
	size_t k;

	stat_init(st, 24);
	for (i = 0; i < n; i++) {
		float x = (float)(-104.0 + 193.0 * (double)i / (double)(n - 1));

		acc(st, f(x), exp((double)x), x);
	}
	for (i = 0; i < 1000000; i++) {
		float x = f_of((uint32_t)rng());

		if (!(x > -104.0f && x < 89.0f))
			continue;
		acc(st, f(x), exp((double)x), x);
	}
	for (k = 0; k < NSPEC_F; k++)
		acc(st, f(specials_f[k]), exp((double)specials_f[k]),
		    specials_f[k]);
}

static void test_expf(void)
{
	struct err_stat st;
	size_t k;

	sweep_expf(&st, lx_expf);
	for (k = 0; k < NSPEC_F; k++) {
		float x = specials_f[k];

		if (!isfinite(expf(x)) || expf(x) == 0.0f)
			CHECK(same(lx_expf(x), expf(x)),
			      "lx_expf(%g) = %g, libm %g", x, lx_expf(x),
			      expf(x));
	}
	report("lx_expf", &st, "[-104, 89] + random floats in it + specials",
	       FLT_BOUND);
	CHECK(lx_expf(-INFINITY) == 0.0f, "expf(-inf)");
	CHECK(lx_expf(INFINITY) == INFINITY, "expf(inf)");
	CHECK(isnan(lx_expf(NAN)), "expf(nan)");
	CHECK(lx_expf(0.0f) == 1.0f && lx_expf(-0.0f) == 1.0f, "expf(0)");
	CHECK(lx_expf(88.8f) == INFINITY, "expf overflow");
	CHECK(lx_expf(-104.0f) == 0.0f, "expf underflow");
	CHECK(lx_expf(-100.0f) > 0.0f && lx_expf(-100.0f) < FLT_MIN,
	      "expf subnormal %g", lx_expf(-100.0f));
}

/*
 * The e^x of SiLU and softmax (llama.cpp's, see mathfn.h): Arm's routine
 * states 1.45 ulp plus 0.5 for the final rounding; this form, which adds
 * the 1 inside the polynomial, measured 2.23 ulp. The bound is 2.5.
 */
static void test_expf_poly(void)
{
	struct err_stat st;

	sweep_expf(&st, lx_expf_poly);
	report("lx_expf_poly", &st, "[-104, 89] + random floats in it + specials",
	       2.5);
	CHECK(lx_expf_poly(-INFINITY) == 0.0f, "expf_poly(-inf)");
	CHECK(lx_expf_poly(INFINITY) == INFINITY, "expf_poly(inf)");
	CHECK(isnan(lx_expf_poly(NAN)), "expf_poly(nan)");
	CHECK(lx_expf_poly(0.0f) == 1.0f && lx_expf_poly(-0.0f) == 1.0f,
	      "expf_poly(0)");
	CHECK(lx_expf_poly(88.8f) == INFINITY && lx_expf_poly(200.0f) ==
	      INFINITY, "expf_poly overflow");
	CHECK(lx_expf_poly(-104.0f) == 0.0f && lx_expf_poly(-200.0f) == 0.0f,
	      "expf_poly underflow");
	CHECK(lx_expf_poly(-100.0f) > 0.0f && lx_expf_poly(-100.0f) < FLT_MIN,
	      "expf_poly subnormal %g", lx_expf_poly(-100.0f));
}

/*
 * lx_fmaf against libm's fmaf, bit for bit: random operands of nearby
 * magnitudes (where the sum rounds), and products that sit exactly halfway
 * between two floats with a tiny addend above or below (where rounding the
 * double sum again would go wrong).
 */
static void test_fmaf(void)
{
	long i, bad = 0, ties = 0;

	for (i = 0; i < 3000000; i++) {
		float a, b, c, got, want;

		if (i % 3 == 2) {
			/* (1 + 2^-k)^2 = 1 + 2^(1-k) + 2^-2k: a tie for k = 12 */
			int k = 12 + (int)(rng() % 2);

			a = 1.0f + ldexpf(1.0f, -k) * (float)(1 + rng() % 2);
			b = a * (rng() % 2 ? 1.0f : -1.0f);
			c = ldexpf((float)(rng() % 64) - 32.0f,
				   -40 - (int)(rng() % 60));
			ties++;
		} else {
			a = (float)urange(-4.0, 4.0) * ldexpf(1.0f, (int)(rng() % 40) - 20);
			b = (float)urange(-4.0, 4.0) * ldexpf(1.0f, (int)(rng() % 40) - 20);
			c = (float)urange(-4.0, 4.0) * ldexpf(1.0f, (int)(rng() % 60) - 30);
		}
		got = lx_fmaf(a, b, c);
		want = fmaf(a, b, c);
		if (!same(got, want) && bad++ < 5)
			printf("  lx_fmaf(%a, %a, %a) = %a, libm %a\n", a, b, c,
			       got, want);
	}
	CHECK(bad == 0, "lx_fmaf: %ld of 3000000 differ from fmaf", bad);
	CHECK(lx_fmaf(1.0f + 0x1p-12f, 1.0f + 0x1p-12f, 0x1p-60f) ==
	      1.0f + 0x1p-11f + 0x1p-23f, "lx_fmaf tie rounded up");
	CHECK(lx_fmaf(1.0f + 0x1p-12f, 1.0f + 0x1p-12f, -0x1p-60f) ==
	      1.0f + 0x1p-11f, "lx_fmaf tie rounded down");
	printf("lx_fmaf: %ld of 3000000 differ from fmaf (%ld near ties)\n",
	       bad, ties);
}

static void test_logf(void)
{
	struct err_stat st;
	uint32_t u;
	long i;
	size_t k;

	stat_init(&st, 24);
	/* Every 997th positive finite float: log-spaced over all of them. */
	for (u = 1; u < 0x7f800000u; u += 997) {
		float x = f_of(u);

		acc(&st, lx_logf(x), log((double)x), x);
	}
	/* Dense around 1, where the result is small and cancellation bites. */
	for (u = u_of_f(0.5f); u < u_of_f(2.0f); u += 17) {
		float x = f_of(u);

		acc(&st, lx_logf(x), log((double)x), x);
	}
	for (i = 1; i < 4096; i++) {
		float a = 1.0f + (float)i * 0x1p-23f;
		float b = 1.0f - (float)i * 0x1p-24f;

		acc(&st, lx_logf(a), log((double)a), a);
		acc(&st, lx_logf(b), log((double)b), b);
	}
	for (k = 0; k < NSPEC_F; k++) {
		float x = specials_f[k];

		acc(&st, lx_logf(x), log((double)x), x);
		if (!(x > 0.0f) || isinf(x))
			CHECK(same(lx_logf(x), logf(x)),
			      "lx_logf(%g) = %g, libm %g", x, lx_logf(x),
			      logf(x));
	}
	report("lx_logf", &st,
	       "all positive floats (every 997th) + [0.5, 2] dense", FLT_BOUND);
	CHECK(lx_logf(1.0f) == 0.0f && !signbit(lx_logf(1.0f)), "logf(1)");
	CHECK(lx_logf(0.0f) == -INFINITY && lx_logf(-0.0f) == -INFINITY,
	      "logf(0)");
	CHECK(isnan(lx_logf(-1.0f)) && isnan(lx_logf(-INFINITY)), "logf(<0)");
}

/* tanhf and erff share the sweep: [-10, 10] dense, tiny values, big ones. */
static void sweep_odd_f(const char *name, float (*fn)(float),
			double (*ref)(double))
{
	struct err_stat st;
	const long n = 2000000;
	uint32_t u;
	long i;
	size_t k;

	stat_init(&st, 24);
	for (i = 0; i < n; i++) {
		float x = (float)(-10.0 + 20.0 * (double)i / (double)(n - 1));

		acc(&st, fn(x), ref((double)x), x);
	}
	/* Tiny magnitudes, log-spaced down to the smallest subnormal. */
	for (u = 1; u < u_of_f(0.01f); u += 2003) {
		float x = f_of(u);

		acc(&st, fn(x), ref((double)x), x);
		acc(&st, fn(-x), ref((double)-x), -x);
	}
	/* Saturation region and beyond. */
	for (u = u_of_f(3.0f); u < 0x7f800000u; u += 4099) {
		float x = f_of(u);

		acc(&st, fn(x), ref((double)x), x);
		acc(&st, fn(-x), ref((double)-x), -x);
	}
	for (k = 0; k < NSPEC_F; k++) {
		float x = specials_f[k];

		acc(&st, fn(x), ref((double)x), x);
	}
	report(name, &st, "[-10, 10] dense + tiny (to 1e-45) + large",
	       FLT_BOUND);
}

static void test_tanhf(void)
{
	sweep_odd_f("lx_tanhf", lx_tanhf, tanh);
	CHECK(same(lx_tanhf(0.0f), 0.0f) && same(lx_tanhf(-0.0f), -0.0f),
	      "tanhf(+-0)");
	CHECK(lx_tanhf(INFINITY) == 1.0f && lx_tanhf(-INFINITY) == -1.0f,
	      "tanhf(+-inf)");
	CHECK(isnan(lx_tanhf(NAN)), "tanhf(nan)");
	CHECK(lx_tanhf(1e-30f) == 1e-30f && lx_tanhf(-1.4e-45f) == -1.4e-45f,
	      "tanhf(tiny) = tiny");
	CHECK(lx_tanhf(20.0f) == 1.0f && lx_tanhf(-20.0f) == -1.0f,
	      "tanhf saturates");
}

static void test_erff(void)
{
	sweep_odd_f("lx_erff", lx_erff, erf);
	CHECK(same(lx_erff(0.0f), 0.0f) && same(lx_erff(-0.0f), -0.0f),
	      "erff(+-0)");
	CHECK(lx_erff(INFINITY) == 1.0f && lx_erff(-INFINITY) == -1.0f,
	      "erff(+-inf)");
	CHECK(isnan(lx_erff(NAN)), "erff(nan)");
}

static void test_sqrtf_fabsf(void)
{
	long bad = 0, badabs = 0, n = 0;
	uint32_t u;
	size_t k;
	long i;

	for (u = 0; u < 0x7f800000u; u += 997) {
		float x = f_of(u);

		n++;
		if (!same(lx_sqrtf(x), sqrtf(x)))
			bad++;
	}
	for (k = 0; k < NSPEC_F; k++)
		if (!same(lx_sqrtf(specials_f[k]), sqrtf(specials_f[k])))
			bad++;
	for (i = 0; i < 1000000; i++) {
		uint32_t b = (uint32_t)rng();
		float x = f_of(b);

		if (u_of_f(lx_fabsf(x)) != (b & 0x7fffffffu))
			badabs++;
	}
	printf("lx_sqrtf: %ld of %ld points differ from sqrtf "
	       "(correctly rounded)\n", bad, n + (long)NSPEC_F);
	printf("lx_fabsf: %ld of 1000000 random bit patterns not bit-exact\n",
	       badabs);
	CHECK(bad == 0, "lx_sqrtf mismatches: %ld", bad);
	CHECK(badabs == 0, "lx_fabsf mismatches: %ld", badabs);
	CHECK(isnan(lx_sqrtf(-1.0f)), "sqrtf(-1)");
}

/* ---------------------------------------------------------------------- */
/* Double functions. */

static void test_exp(void)
{
	struct err_stat st;
	const long n = 1000000;
	long i;
	size_t k;

	stat_init(&st, 53);
	for (i = 0; i < n; i++) {
		double x = -745.2 + 1455.0 * (double)i / (double)(n - 1);

		acc(&st, lx_exp(x), R_EXP((long double)x), x);
	}
	for (i = 0; i < 300000; i++) {
		double x = urange(-746.0, 710.0);

		acc(&st, lx_exp(x), R_EXP((long double)x), x);
		x = ldexp(urange(-1.0, 1.0), -(int)(rng() % 1070));
		acc(&st, lx_exp(x), R_EXP((long double)x), x);
	}
	for (k = 0; k < NSPEC_D; k++) {
		double x = specials_d[k];

		acc(&st, lx_exp(x), R_EXP((long double)x), x);
		if (!isfinite(exp(x)) || exp(x) == 0.0)
			CHECK(same(lx_exp(x), exp(x)),
			      "lx_exp(%.17g) = %g, libm %g", x, lx_exp(x),
			      exp(x));
	}
	report("lx_exp", &st, "[-745.2, 709.8] + tiny + specials", DBL_BOUND);

	/* Subnormal results on their own: ulps there are absolute. */
	stat_init(&st, 53);
	for (i = 0; i < 200000; i++) {
		double x = urange(-745.2, -708.3);

		acc(&st, lx_exp(x), R_EXP((long double)x), x);
	}
	report("lx_exp (subnormal results)", &st, "[-745.2, -708.3]",
	       DBL_BOUND);
	CHECK(lx_exp(0.0) == 1.0 && lx_exp(-0.0) == 1.0, "exp(0)");
	CHECK(lx_exp(1.0) == exp(1.0), "exp(1) = %.17g", lx_exp(1.0));
}

static void test_log(void)
{
	struct err_stat st;
	const uint64_t top = 0x7ff0000000000000ULL, step = top / 1000000;
	uint64_t u;
	long i;
	size_t k;

	stat_init(&st, 53);
	/* Log-spaced over all positive finite doubles, subnormals included. */
	for (u = 1; u < top; u += step) {
		double x = d_of(u + (rng() & 0xffff));

		acc(&st, lx_log(x), R_LOG((long double)x), x);
	}
	for (i = 0; i < 500000; i++) {
		double x = urange(0.5, 2.0);

		acc(&st, lx_log(x), R_LOG((long double)x), x);
	}
	/* Just around 1, down to 1 +- ulp. */
	for (i = 1; i < 200000; i++) {
		double d = ldexp(urange(1.0, 2.0), -(int)(rng() % 53));

		double a = 1.0 + d, b = 1.0 - d / 2;

		acc(&st, lx_log(a), R_LOG((long double)a), a);
		acc(&st, lx_log(b), R_LOG((long double)b), b);
	}
	for (k = 0; k < NSPEC_D; k++) {
		double x = specials_d[k];

		acc(&st, lx_log(x), R_LOG((long double)x), x);
		if (!(x > 0.0) || isinf(x) || x == 1.0)
			CHECK(same(lx_log(x), log(x)),
			      "lx_log(%.17g) = %g, libm %g", x, lx_log(x),
			      log(x));
	}
	report("lx_log", &st,
	       "all positive doubles (log-spaced) + [0.5, 2] + 1+-tiny",
	       DBL_BOUND);
}

static long double ref_pow(double x, double y)
{
	return R_POW((long double)x, (long double)y);
}

static void test_pow(void)
{
	static const double xs[] = { 0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5,
				     -0.5, 10.0, INFINITY, -INFINITY, NAN,
				     1e-310, 3.0, -3.0 };
	static const double ys[] = { 0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 3.0,
				     -3.0, 0.5, -0.5, 1e300, -1e300,
				     INFINITY, -INFINITY, NAN, 2.5, 1e20 };
	static const double thetas[] = { 1e4, 5e5, 1e6 };
	static const int dims[] = { 32, 64, 80, 96, 128, 256 };
	struct err_stat st;
	size_t a, b;
	long i;
	int k;

	stat_init(&st, 53);
	for (i = 0; i < 1000000; i++) {
		double x = pow(10.0, urange(-10.0, 10.0));
		double y = urange(-10.0, 10.0);

		acc2(&st, lx_pow(x, y), ref_pow(x, y), x, y);
	}
	/* RoPE frequency tables: theta^(-2i/d). */
	for (a = 0; a < sizeof(thetas) / sizeof(thetas[0]); a++)
		for (b = 0; b < sizeof(dims) / sizeof(dims[0]); b++)
			for (k = 0; k < dims[b] / 2; k++) {
				double y = -2.0 * k / dims[b];

				acc2(&st, lx_pow(thetas[a], y),
				     ref_pow(thetas[a], y), thetas[a], y);
			}
	report("lx_pow", &st, "x in [1e-10, 1e10] (log-uniform), y in [-10, 10]"
	       " + RoPE theta^(-2i/d)", DBL_BOUND);
	CHECK(st.max_rel < 1e-14, "lx_pow max rel %.3g", st.max_rel);

	/* Whole range: |y log x| to ~745, subnormal and huge results too. */
	stat_init(&st, 53);
	for (i = 0; i < 300000; i++) {
		double x = pow(10.0, urange(-307.0, 308.0));
		double lx = log(x), lim = 745.0 / fabs(lx);
		double y = urange(-lim, lim);

		acc2(&st, lx_pow(x, y), ref_pow(x, y), x, y);
		x = urange(0.9, 1.1);
		y = urange(-1e5, 1e5);
		acc2(&st, lx_pow(x, y), ref_pow(x, y), x, y);
	}
	for (k = -1074; k <= 1023; k++)
		acc2(&st, lx_pow(2.0, k), ldexp(1.0, k), 2.0, k);
	report("lx_pow (wide)", &st, "x in [1e-307, 1e308], |y log x| <= 745,"
	       " and x near 1 with |y| <= 1e5", DBL_BOUND);

	for (k = -1074; k <= 1023; k++)
		if (lx_pow(2.0, k) != ldexp(1.0, k))
			break;
	CHECK(k == 1024, "pow(2, %d) not exact", k);
	for (k = 0; k <= 30; k++)
		CHECK(lx_pow(3.0, k) == pow(3.0, k), "pow(3, %d)", k);
	CHECK(lx_pow(10000.0, 0.5) == 100.0, "pow(1e4, 0.5)");
	for (a = 0; a < sizeof(xs) / sizeof(xs[0]); a++)
		for (b = 0; b < sizeof(ys) / sizeof(ys[0]); b++) {
			double g = lx_pow(xs[a], ys[b]), w = pow(xs[a], ys[b]);

			CHECK(same(g, w) || ulp_err(g, w, 53) <= 1.0,
			      "lx_pow(%g, %g) = %.17g, libm %.17g", xs[a],
			      ys[b], g, w);
		}
}

/* One sin/cos sweep; also checks lx_sincos against the two. */
static long sincos_mismatch;

static void sc_point(struct err_stat *ss, struct err_stat *sc, double x)
{
	double s = lx_sin(x), c = lx_cos(x), s2, c2;

	acc(ss, s, R_SIN((long double)x), x);
	acc(sc, c, R_COS((long double)x), x);
	lx_sincos(x, &s2, &c2);
	if (!same(s, s2) || !same(c, c2))
		sincos_mismatch++;
}

static void sc_report(const char *what, struct err_stat *ss,
		      struct err_stat *sc)
{
	char name[64];

	snprintf(name, sizeof(name), "lx_sin %s", what);
	report(name, ss, what, DBL_BOUND);
	snprintf(name, sizeof(name), "lx_cos %s", what);
	report(name, sc, what, DBL_BOUND);
	stat_init(ss, 53);
	stat_init(sc, 53);
}

/*
 * Correctly rounded sin and cos (computed with 1200-digit mpmath) where the
 * reduction is hardest: 6381956970095103 * 2^797 is the double closest to a
 * multiple of pi/2 (|r| ~ 4.7e-19; glibc 2.36's double cos is 8 ulp off
 * there), then 1e22, DBL_MAX, and doubles next to multiples of pi/2.
 */
static const double sincos_hard[][3] = {
	{ 0x1.6ac5b262ca1ffp+849,
	  0x1.0000000000000p+0, -0x1.14ae72e6ba22fp-61 },
	{ 0x1.0f0cf064dd592p+73,
	  -0x1.b453ab76bf397p-1, 0x1.0be2cef01c8f4p-1 },
	{ 0x1.fffffffffffffp+1023,
	  0x1.452fc98b34e97p-8, -0x1.fffe62ecfab75p-1 },
	{ 0x1.921fb54442d18p+29,
	  -0x1.1a62633145c06p-25, 0x1.ffffffffffffbp-1 },
	{ 0x1.921fb54442d18p+0,
	  0x1.0000000000000p+0, 0x1.1a62633145c07p-54 },
	{ 0x1.921fb54442d18p+1,
	  0x1.1a62633145c07p-53, -0x1.0000000000000p+0 },
	{ 0x1.e848000000000p+19,
	  -0x1.6664b2568d867p-2, 0x1.df9df9906d32cp-1 },
	{ 0x1.dcd6500000000p+29,
	  0x1.1778cae83c69bp-1, 0x1.acff8c7364234p-1 },
};

static void test_sincos_hard(void)
{
	size_t i, n = sizeof(sincos_hard) / sizeof(sincos_hard[0]), good = 0;

	for (i = 0; i < n; i++) {
		const double *h = sincos_hard[i];
		int ok = same(lx_sin(h[0]), h[1]) && same(lx_cos(h[0]), h[2]);

		/* Odd and even: the reduction of -x must mirror that of x. */
		ok = ok && same(lx_sin(-h[0]), -h[1]) &&
		     same(lx_cos(-h[0]), h[2]);

		good += ok;
		CHECK(ok, "sin/cos(%a) = %a %a, want %a %a", h[0],
		      lx_sin(h[0]), lx_cos(h[0]), h[1], h[2]);
	}
	printf("lx_sin/lx_cos hard reduction cases: %zu of %zu correctly "
	       "rounded\n", good, n);
}

static void test_sincos(void)
{
	struct err_stat ss, sc;
	const long n = 600000;
	long i;
	int p, k;
	size_t j;

	stat_init(&ss, 53);
	stat_init(&sc, 53);
	for (i = 0; i < n; i++)
		sc_point(&ss, &sc, -10.0 + 20.0 * (double)i / (double)(n - 1));
	for (i = 0; i < 100000; i++)	/* tiny */
		sc_point(&ss, &sc,
			 ldexp(urange(-1.0, 1.0), -(int)(rng() % 1070)));
	for (j = 0; j < NSPEC_D; j++)
		sc_point(&ss, &sc, specials_d[j]);
	sc_report("[-10, 10] + tiny + specials", &ss, &sc);

	for (i = 0; i < 300000; i++)
		sc_point(&ss, &sc, urange(-1e6, 1e6));
	sc_report("[-1e6, 1e6]", &ss, &sc);

	for (i = 0; i < 300000; i++)
		sc_point(&ss, &sc, urange(-1e9, 1e9));
	/* The doubles nearest to multiples of pi/2, where reduction cancels. */
	for (k = 1; k < 100000; k++) {
		double x = (double)k * 1.5707963267948966;

		sc_point(&ss, &sc, x);
		sc_point(&ss, &sc, nextafter(x, 0.0));
		sc_point(&ss, &sc, nextafter(x, INFINITY));
	}
	sc_report("[-1e9, 1e9] + near k pi/2", &ss, &sc);

	/* Payne-Hanek territory up to DBL_MAX. */
	for (i = 0; i < 200000; i++) {
		double x = ldexp(urange(1.0, 2.0), 30 + (int)(rng() % 994));

		sc_point(&ss, &sc, rng() & 1 ? x : -x);
	}
	sc_point(&ss, &sc, 0x1p30);
	sc_point(&ss, &sc, DBL_MAX);
	sc_report("|x| in [2^30, DBL_MAX]", &ss, &sc);

	/* RoPE angles: pos * theta^(-2i/d), pos up to ~1e6. */
	for (p = 0; p < 1000000; p += 331)
		for (k = 0; k < 64; k += 3)
			sc_point(&ss, &sc,
				 (double)p * pow(1e4, -2.0 * k / 128));
	sc_report("RoPE pos*freq, pos < 1e6", &ss, &sc);

	printf("lx_sincos: %ld mismatches against lx_sin/lx_cos\n",
	       sincos_mismatch);
	CHECK(sincos_mismatch == 0, "lx_sincos differs from lx_sin/lx_cos");
	CHECK(isnan(lx_sin(INFINITY)) && isnan(lx_cos(-INFINITY)) &&
		      isnan(lx_sin(NAN)), "sin/cos of inf/nan");
	CHECK(same(lx_sin(-0.0), -0.0) && lx_cos(-0.0) == 1.0,
	      "sin/cos(-0): %g %g", lx_sin(-0.0), lx_cos(-0.0));
}

static void test_sqrt_and_class(void)
{
	long bad = 0, badc = 0, i;
	size_t k;

	for (i = 0; i < 1000000; i++) {
		double x = d_of(rng() & 0x7fffffffffffffffULL);

		if (!same(lx_sqrt(x), sqrt(x)))
			bad++;
	}
	for (k = 0; k < NSPEC_D; k++)
		if (!same(lx_sqrt(specials_d[k]), sqrt(specials_d[k])))
			bad++;
	printf("lx_sqrt: %ld of %ld points differ from sqrt "
	       "(correctly rounded)\n", bad, 1000000L + (long)NSPEC_D);
	CHECK(bad == 0, "lx_sqrt mismatches: %ld", bad);

	for (i = 0; i < 1000000; i++) {
		uint64_t b = rng();
		double x;

		/* Bias half the samples toward the inf/NaN exponent. */
		if (i & 1)
			b |= 0x7ff0000000000000ULL;
		if (i % 1000 == 1)
			b &= 0xfff0000000000000ULL;	/* exact +-inf */
		x = d_of(b);
		if (lx_isnan(x) != !!isnan(x) || lx_isinf(x) != !!isinf(x))
			badc++;
	}
	for (k = 0; k < NSPEC_D; k++) {
		double x = specials_d[k];

		if (lx_isnan(x) != !!isnan(x) || lx_isinf(x) != !!isinf(x))
			badc++;
	}
	printf("lx_isnan/lx_isinf: %ld mismatches over 1000000 bit patterns\n",
	       badc);
	CHECK(badc == 0, "lx_isnan/lx_isinf mismatches: %ld", badc);
	CHECK(isinf(LX_INFINITY) && LX_INFINITY > 0 && isnan(LX_NAN),
	      "LX_INFINITY/LX_NAN");
	(void)u_of_d;
}

int main(void)
{
	printf("reference for double functions: %s\n",
	       REF_LD ? "long double libm (x87 64-bit)" : "double libm");
	test_expf();
	test_expf_poly();
	test_fmaf();
	test_logf();
	test_tanhf();
	test_erff();
	test_sqrtf_fabsf();
	test_exp();
	test_log();
	test_pow();
	test_sincos();
	test_sincos_hard();
	test_sqrt_and_class();
	return tl_finish("test_mathfn");
}
