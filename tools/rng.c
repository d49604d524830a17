// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * xoshiro256** (Blackman and Vigna) seeded by splitmix64, and the ziggurat
 * method for normal deviates (Marsaglia and Tsang, 2000) with 256 layers.
 * Each 32-bit half of a 64-bit draw gives one candidate: 8 bits choose the
 * layer, 24 bits (signed) the point, as many as a float's mantissa holds;
 * more than 99% of candidates are accepted by one compare and one
 * multiply. The tables are built once, in double precision.
 */
#include <math.h>
#include <pthread.h>

#include "rng.h"

uint64_t lt_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

uint64_t lt_hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return lt_mix64(h);
}

void lt_rng_seed(struct lt_rng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++) {
		seed += 0x9e3779b97f4a7c15ull;
		r->s[i] = lt_mix64(seed);
	}
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t lt_rng_next(struct lt_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

float lt_rng_uniform(struct lt_rng *r)
{
	return (float)(lt_rng_next(r) >> 40) * (1.0f / 16777216.0f);
}

/* Uniform in (0, 1): never 0, for logarithms. */
static float uniform_open(struct lt_rng *r)
{
	return ((float)(lt_rng_next(r) >> 40) + 0.5f) * (1.0f / 16777216.0f);
}

#define ZIG_N 256
#define ZIG_R 3.6541528853610088	/* start of the tail */
#define ZIG_V 4.92867323399e-3		/* area of each layer */

static uint32_t kn[ZIG_N];
static float wn[ZIG_N], fn[ZIG_N];
static pthread_once_t zig_once = PTHREAD_ONCE_INIT;

static void zig_setup(void)
{
	const double m1 = 8388608.0;	/* 2^23: the 24-bit signed range */
	double dn = ZIG_R, tn = dn, q = ZIG_V / exp(-0.5 * dn * dn);
	int i;

	kn[0] = (uint32_t)((dn / q) * m1);
	kn[1] = 0;
	wn[0] = (float)(q / m1);
	wn[ZIG_N - 1] = (float)(dn / m1);
	fn[0] = 1.0f;
	fn[ZIG_N - 1] = (float)exp(-0.5 * dn * dn);
	for (i = ZIG_N - 2; i >= 1; i--) {
		dn = sqrt(-2.0 * log(ZIG_V / dn + exp(-0.5 * dn * dn)));
		kn[i + 1] = (uint32_t)((dn / tn) * m1);
		tn = dn;
		fn[i] = (float)exp(-0.5 * dn * dn);
		wn[i] = (float)(dn / m1);
	}
}

static inline uint32_t abs_u32(int32_t v)
{
	return v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
}

/* The point of a 32-bit candidate (its low 8 bits are the layer). */
static inline int32_t zig_point(uint32_t c)
{
	return (int32_t)(c & 0xffffff00u) / 256;
}

/* The rare cases: the wedges between layers, and the tail beyond ZIG_R. */
static float zig_slow(struct lt_rng *r, int32_t hz, uint32_t iz)
{
	const float rr = (float)ZIG_R;
	float x, y;
	uint32_t c;

	for (;;) {
		x = (float)hz * wn[iz];
		if (iz == 0) {
			do {
				x = -logf(uniform_open(r)) / rr;
				y = -logf(uniform_open(r));
			} while (y + y < x * x);
			return hz > 0 ? rr + x : -rr - x;
		}
		if (fn[iz] + lt_rng_uniform(r) * (fn[iz - 1] - fn[iz]) <
		    expf(-0.5f * x * x))
			return x;
		c = (uint32_t)lt_rng_next(r);
		hz = zig_point(c);
		iz = c & (ZIG_N - 1);
		if (abs_u32(hz) < kn[iz])
			return (float)hz * wn[iz];
	}
}

static inline float zig(struct lt_rng *r, uint32_t c)
{
	int32_t hz = zig_point(c);
	uint32_t iz = c & (ZIG_N - 1);

	if (abs_u32(hz) < kn[iz])
		return (float)hz * wn[iz];
	return zig_slow(r, hz, iz);
}

void lt_rng_normal(struct lt_rng *r, float *out, size_t n, float sd)
{
	size_t i;
	uint64_t u;

	pthread_once(&zig_once, zig_setup);
	for (i = 0; i + 2 <= n; i += 2) {
		u = lt_rng_next(r);
		out[i] = zig(r, (uint32_t)u) * sd;
		out[i + 1] = zig(r, (uint32_t)(u >> 32)) * sd;
	}
	if (i < n)
		out[i] = zig(r, (uint32_t)lt_rng_next(r)) * sd;
}
