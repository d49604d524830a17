// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Unit tests for core/quant.c: half/bfloat16 conversions, the type table,
 * dot products against dequantized data, hand-built blocks whose decoded
 * values were worked out by hand from ggml's layouts, and the activation
 * quantizers on known inputs.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "quant.h"
#include "testlib.h"

/* ---------------------------------------------------------------------- */
/* Helpers                                                                */
/* ---------------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd32(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static float rndf(float lo, float hi)
{
	return lo + (hi - lo) * (float)(rnd32() >> 8) / 16777216.0f;
}

static uint32_t fbits(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	return u;
}

static float bitsf(uint32_t u)
{
	float f;

	memcpy(&f, &u, 4);
	return f;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static float getf32(const uint8_t *p)
{
	uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		     (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;

	return bitsf(u);
}

static void putf32(uint8_t *p, float f)
{
	uint32_t u = fbits(f);

	p[0] = (uint8_t)u;
	p[1] = (uint8_t)(u >> 8);
	p[2] = (uint8_t)(u >> 16);
	p[3] = (uint8_t)(u >> 24);
}

/* Odd address on purpose: fp16 fields must be read without alignment. */
static uint8_t *odd_alloc(size_t n, uint8_t **base)
{
	*base = malloc(n + 1);
	if (!*base) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	memset(*base, 0xa5, n + 1);
	return *base + 1;
}

/* Compares dequantized output with an expected array; one CHECK. */
static void check_floats(const char *what, const float *got,
			 const float *want, int n)
{
	int i, bad = -1;

	for (i = 0; i < n; i++)
		if (got[i] != want[i]) {
			bad = i;
			break;
		}
	CHECK(bad < 0, "%s: element %d is %.9g, expected %.9g", what, bad,
	      bad < 0 ? 0.0 : got[bad], bad < 0 ? 0.0 : want[bad]);
}

static const struct lx_type_traits *traits_of(uint32_t type)
{
	const struct lx_type_traits *t = lx_type_traits(type);

	if (!t) {
		fprintf(stderr, "no traits for type %u\n", type);
		exit(2);
	}
	return t;
}

/* ---------------------------------------------------------------------- */
/* (1) fp16 / bf16                                                        */
/* ---------------------------------------------------------------------- */

static void test_fp16_known(void)
{
	static const struct {
		uint16_t h;
		float f;
	} tab[] = {
		{ 0x0000, 0.0f },
		{ 0x3c00, 1.0f },
		{ 0xc000, -2.0f },
		{ 0x3800, 0.5f },
		{ 0x3555, 0.333251953125f },
		{ 0x7bff, 65504.0f },
		{ 0xfbff, -65504.0f },
		{ 0x0400, 6.103515625e-05f },	/* 2^-14, smallest normal */
		{ 0x03ff, 6.09755516052246094e-05f },	/* 1023 * 2^-24 */
		{ 0x0001, 5.96046447753906250e-08f },	/* 2^-24 */
		{ 0x8001, -5.96046447753906250e-08f },
		{ 0x2e66, 0.0999755859375f },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		CHECK(lx_fp16_to_fp32(tab[i].h) == tab[i].f,
		      "fp16 %04x -> %.9g", tab[i].h,
		      lx_fp16_to_fp32(tab[i].h));
		CHECK(lx_fp32_to_fp16(tab[i].f) == tab[i].h,
		      "fp32 %.9g -> %04x", tab[i].f,
		      lx_fp32_to_fp16(tab[i].f));
	}
	CHECK(fbits(lx_fp16_to_fp32(0x8000)) == 0x80000000u, "-0");
	CHECK(lx_fp32_to_fp16(-0.0f) == 0x8000, "-0 back");
	CHECK(lx_fp16_to_fp32(0x7c00) == INFINITY, "+inf");
	CHECK(lx_fp16_to_fp32(0xfc00) == -INFINITY, "-inf");
	CHECK(isnan(lx_fp16_to_fp32(0x7e00)), "NaN");
	CHECK(isnan(lx_fp16_to_fp32(0x7c01)), "signalling NaN stays NaN");
	CHECK(lx_fp32_to_fp16(INFINITY) == 0x7c00, "inf");
	CHECK(lx_fp32_to_fp16(-INFINITY) == 0xfc00, "-inf");
	CHECK(lx_fp32_to_fp16(1e6f) == 0x7c00, "overflow");
	CHECK(lx_fp32_to_fp16(65519.99f) == 0x7bff, "just below 65520");
	CHECK(lx_fp32_to_fp16(65520.0f) == 0x7c00, "65520 ties to inf");
	CHECK(lx_fp32_to_fp16(NAN) == 0x7e00, "NaN -> %04x",
	      lx_fp32_to_fp16(NAN));
	CHECK(lx_fp32_to_fp16(-NAN) == 0xfe00, "-NaN -> %04x",
	      lx_fp32_to_fp16(-NAN));
	CHECK(lx_fp32_to_fp16(bitsf(0x7f800001u)) == 0x7e00,
	      "sNaN with low payload stays NaN");
	/* ties to even */
	CHECK(lx_fp32_to_fp16(1.0f + 0x1p-11f) == 0x3c00, "1+2^-11");
	CHECK(lx_fp32_to_fp16(1.0f + 3 * 0x1p-11f) == 0x3c02, "1+3*2^-11");
	CHECK(lx_fp32_to_fp16(0x1p-25f) == 0x0000, "2^-25 ties to 0");
	CHECK(lx_fp32_to_fp16(1.5f * 0x1p-25f) == 0x0001, "0.75 ulp");
	CHECK(lx_fp32_to_fp16(3 * 0x1p-25f) == 0x0002, "1.5 ulp ties to 2");
	CHECK(lx_fp32_to_fp16(0x1p-26f) == 0x0000, "tiny");
	CHECK(lx_fp32_to_fp16(bitsf(0x00000001u)) == 0x0000,
	      "fp32 denormal");
	CHECK(lx_fp32_to_fp16(-0x1p-30f) == 0x8000, "tiny negative");
	/* the largest subnormal rounds up into the smallest normal */
	CHECK(lx_fp32_to_fp16(0x1p-14f - 0x1p-26f) == 0x0400,
	      "subnormal carry into normal");
}

/* Independent decoder: the value a half denotes, in double. */
static double half_value(uint16_t h)
{
	int e = (h >> 10) & 0x1f, m = h & 0x3ff;
	double v = e ? ldexp(1024 + m, e - 25) : ldexp(m, -24);

	return h & 0x8000 ? -v : v;
}

static void test_fp16_exhaustive(void)
{
	int bad_dec = 0, bad_trip = 0, bad_tie = 0;
	uint32_t h;

	for (h = 0; h < 0x10000; h++) {
		float f = lx_fp16_to_fp32((uint16_t)h);
		int e = (h >> 10) & 0x1f, m = h & 0x3ff;

		if (e == 0x1f) {
			uint32_t want = (h & 0x8000) << 16 | 0x7f800000u |
					(uint32_t)m << 13;
			if (fbits(f) != want)
				bad_dec++;
			if (m && lx_fp32_to_fp16(f) != ((h & 0x8000) | 0x7e00))
				bad_trip++;
			if (!m && lx_fp32_to_fp16(f) != h)
				bad_trip++;
			continue;
		}
		if ((double)f != half_value((uint16_t)h) ||
		    (fbits(f) >> 31) != (h >> 15))
			bad_dec++;
		if (lx_fp32_to_fp16(f) != h)
			bad_trip++;
		/*
		 * Round to nearest even between this half and the next one up
		 * in magnitude: the exact midpoint is a float (12 significant
		 * bits), so check it and its two float neighbours.
		 */
		if ((h & 0x7fff) < 0x7c00) {
			uint16_t next = (uint16_t)(h + 1);
			float lo = f, hi;
			float mid;
			uint16_t even;

			hi = (next & 0x7fff) == 0x7c00 ?
				     ((h & 0x8000) ? -65536.0f : 65536.0f) :
				     lx_fp16_to_fp32(next);
			mid = (float)(((double)lo + (double)hi) / 2);
			even = (h & 1) ? next : (uint16_t)h;
			if ((double)mid * 2 != (double)lo + (double)hi)
				bad_tie++;
			if (lx_fp32_to_fp16(mid) != even)
				bad_tie++;
			if (lx_fp32_to_fp16(nextafterf(mid, lo)) != h)
				bad_tie++;
			if (lx_fp32_to_fp16(nextafterf(mid, hi)) != next)
				bad_tie++;
		}
	}
	CHECK(bad_dec == 0, "%d halves decode wrongly", bad_dec);
	CHECK(bad_trip == 0, "%d halves do not round-trip", bad_trip);
	CHECK(bad_tie == 0, "%d rounding cases between halves wrong",
	      bad_tie);
}

#ifdef __FLT16_MAX__
/* The compiler's own float -> _Float16 conversion (RNE) as a referee. */
static void test_fp16_vs_compiler(void)
{
	int i, bad = 0;

	for (i = 0; i < 1000000; i++) {
		/* random bit patterns, biased towards the half range */
		uint32_t u = rnd32();
		float f;
		_Float16 r;
		uint16_t want;

		if (i & 1)
			u = (u & 0x807fffffu) | (uint32_t)(96 + (u >> 24) % 48)
								<< 23;
		f = bitsf(u);
		if (isnan(f))
			continue;
		r = (_Float16)f;
		memcpy(&want, &r, 2);
		if (lx_fp32_to_fp16(f) != want)
			bad++;
	}
	CHECK(bad == 0, "%d random floats convert unlike _Float16", bad);
}
#endif

static void test_bf16(void)
{
	int bad = 0, bad_tie = 0;
	uint32_t h;

	CHECK(lx_bf16_to_fp32(0x3f80) == 1.0f, "bf16 1.0");
	CHECK(lx_bf16_to_fp32(0xc040) == -3.0f, "bf16 -3.0");
	CHECK(lx_fp32_to_bf16(1.0f) == 0x3f80, "1.0");
	CHECK(lx_fp32_to_bf16(bitsf(0x3f808000u)) == 0x3f80, "tie to even");
	CHECK(lx_fp32_to_bf16(bitsf(0x3f818000u)) == 0x3f82, "tie up");
	CHECK(lx_fp32_to_bf16(bitsf(0x3f808001u)) == 0x3f81, "above tie");
	CHECK(lx_fp32_to_bf16(bitsf(0x3f807fffu)) == 0x3f80, "below tie");
	CHECK(lx_fp32_to_bf16(bitsf(0x7f7fffffu)) == 0x7f80, "FLT_MAX->inf");
	CHECK(lx_fp32_to_bf16(INFINITY) == 0x7f80, "inf");
	CHECK(lx_fp32_to_bf16(-INFINITY) == 0xff80, "-inf");
	CHECK(lx_fp32_to_bf16(bitsf(0x7f800001u)) == 0x7fc0,
	      "sNaN -> quiet NaN, got %04x",
	      lx_fp32_to_bf16(bitsf(0x7f800001u)));
	CHECK(lx_fp32_to_bf16(bitsf(0xffa50000u)) == 0xffe5,
	      "NaN keeps sign and payload top bits");
	CHECK(lx_fp32_to_bf16(bitsf(0x00018000u)) == 0x0002,
	      "denormal tie to even (not flushed)");
	CHECK(lx_fp32_to_bf16(-0.0f) == 0x8000, "-0");

	for (h = 0; h < 0x10000; h++) {
		float f = lx_bf16_to_fp32((uint16_t)h);
		uint32_t base = h << 16;

		if (fbits(f) != base)
			bad++;
		if ((h & 0x7f80) == 0x7f80 && (h & 0x7f)) {	/* NaN */
			if (lx_fp32_to_bf16(f) != (h | 0x40))
				bad++;
			continue;
		}
		if (lx_fp32_to_bf16(f) != h)
			bad++;
		if ((h & 0x7fff) >= 0x7f80)
			continue;
		/* next bf16 up in magnitude is h + 1 (maybe inf) */
		if (lx_fp32_to_bf16(bitsf(base | 0x8000)) !=
		    ((h & 1) ? h + 1 : h))
			bad_tie++;
		if (lx_fp32_to_bf16(bitsf(base | 0x7fff)) != h)
			bad_tie++;
		if (lx_fp32_to_bf16(bitsf(base | 0x8001)) != h + 1)
			bad_tie++;
	}
	CHECK(bad == 0, "%d bf16 values decode or round-trip wrongly", bad);
	CHECK(bad_tie == 0, "%d bf16 rounding cases wrong", bad_tie);
}

/* ---------------------------------------------------------------------- */
/* (5) type table                                                         */
/* ---------------------------------------------------------------------- */

static void test_traits(void)
{
	static const struct {
		const char *name;
		uint32_t bs, ts;
	} want[40] = {
		[0] = { "F32", 1, 4 },		[1] = { "F16", 1, 2 },
		[2] = { "Q4_0", 32, 18 },	[3] = { "Q4_1", 32, 20 },
		[6] = { "Q5_0", 32, 22 },	[7] = { "Q5_1", 32, 24 },
		[8] = { "Q8_0", 32, 34 },	[9] = { "Q8_1", 32, 36 },
		[10] = { "Q2_K", 256, 84 },	[11] = { "Q3_K", 256, 110 },
		[12] = { "Q4_K", 256, 144 },	[13] = { "Q5_K", 256, 176 },
		[14] = { "Q6_K", 256, 210 },	[15] = { "Q8_K", 256, 292 },
		[16] = { "IQ2_XXS", 256, 66 },	[17] = { "IQ2_XS", 256, 74 },
		[18] = { "IQ3_XXS", 256, 98 },	[19] = { "IQ1_S", 256, 50 },
		[20] = { "IQ4_NL", 32, 18 },	[21] = { "IQ3_S", 256, 110 },
		[22] = { "IQ2_S", 256, 82 },	[23] = { "IQ4_XS", 256, 136 },
		[24] = { "I8", 1, 1 },		[25] = { "I16", 1, 2 },
		[26] = { "I32", 1, 4 },		[27] = { "I64", 1, 8 },
		[28] = { "F64", 1, 8 },		[29] = { "IQ1_M", 256, 56 },
		[30] = { "BF16", 1, 2 },	[34] = { "TQ1_0", 256, 54 },
		[35] = { "TQ2_0", 256, 66 },	[39] = { "MXFP4", 32, 17 },
	};
	static const uint32_t supported[] = { 0, 1, 30, 2, 3, 6, 7, 8,
					      10, 11, 12, 13, 14 };
	static const uint32_t with_from_float[] = { 0, 1, 30, 8, 9, 15 };
	static const struct {
		uint32_t type, vdt;
	} vdt[] = {
		{ 0, 0 }, { 1, 1 }, { 30, 30 }, { 2, 8 }, { 6, 8 }, { 8, 8 },
		{ 3, 9 }, { 7, 9 }, { 10, 15 }, { 11, 15 }, { 12, 15 },
		{ 13, 15 }, { 14, 15 },
	};
	char names[256] = "";
	uint32_t id;
	size_t i;

	for (id = 0; id < 40; id++) {
		const struct lx_type_traits *t = lx_type_traits(id);

		if (!want[id].name) {
			CHECK(t == NULL, "type %u should not exist", id);
			continue;
		}
		CHECK(t != NULL, "type %u missing", id);
		if (!t)
			continue;
		CHECK(strcmp(t->name, want[id].name) == 0, "type %u is %s",
		      id, t->name);
		CHECK(t->block_size == want[id].bs &&
			      t->type_size == want[id].ts,
		      "%s: %u/%u", t->name, t->block_size, t->type_size);
	}
	CHECK(lx_type_traits(40) == NULL, "id 40");
	CHECK(lx_type_traits(41) == NULL, "id 41");
	CHECK(lx_type_traits(UINT32_MAX) == NULL, "id UINT32_MAX");

	for (id = 0; id < 40; id++) {
		const struct lx_type_traits *t = lx_type_traits(id);
		int sup = 0;

		if (!t)
			continue;
		for (i = 0; i < sizeof(supported) / sizeof(supported[0]); i++)
			sup |= supported[i] == id;
		CHECK(t->supported == (bool)sup, "%s supported=%d", t->name,
		      t->supported);
		if (sup) {
			const struct lx_type_traits *v =
				lx_type_traits(t->vec_dot_type);

			CHECK(t->to_float && t->vec_dot, "%s lacks functions",
			      t->name);
			CHECK(v && v->from_float, "%s: vec_dot_type %d lacks "
			      "from_float", t->name, (int)t->vec_dot_type);
		} else {
			CHECK(!t->vec_dot, "%s has vec_dot", t->name);
		}
	}
	for (i = 0; i < sizeof(with_from_float) / sizeof(with_from_float[0]);
	     i++)
		CHECK(traits_of(with_from_float[i])->from_float,
		      "type %u lacks from_float", with_from_float[i]);
	for (i = 0; i < sizeof(vdt) / sizeof(vdt[0]); i++)
		CHECK((uint32_t)traits_of(vdt[i].type)->vec_dot_type ==
			      vdt[i].vdt,
		      "%s vec_dot_type %d", traits_of(vdt[i].type)->name,
		      (int)traits_of(vdt[i].type)->vec_dot_type);

	for (i = 0; i < sizeof(supported) / sizeof(supported[0]); i++) {
		if (i)
			strcat(names, ", ");
		strcat(names, traits_of(supported[i])->name);
	}
	CHECK(strcmp(lx_supported_types(), names) == 0, "supported: '%s'",
	      lx_supported_types());
}

/* ---------------------------------------------------------------------- */
/* (2) vec_dot against dequantized data                                   */
/* ---------------------------------------------------------------------- */

/* Where each weight type keeps its fp16 scale (d) and min/offset (m). */
static const struct {
	uint32_t type;
	int d_off, m_off;	/* byte offsets in the block, -1: none */
	bool m_signed;		/* Q4_1/Q5_1 offset: any sign; k mins: > 0 */
} scale_fields[] = {
	{ LX_TYPE_Q4_0, 0, -1, false },	 { LX_TYPE_Q4_1, 0, 2, true },
	{ LX_TYPE_Q5_0, 0, -1, false },	 { LX_TYPE_Q5_1, 0, 2, true },
	{ LX_TYPE_Q8_0, 0, -1, false },	 { LX_TYPE_Q2_K, 80, 82, false },
	{ LX_TYPE_Q3_K, 108, -1, false }, { LX_TYPE_Q4_K, 0, 2, false },
	{ LX_TYPE_Q5_K, 0, 2, false },	 { LX_TYPE_Q6_K, 208, -1, false },
};

static void make_weights(uint32_t type, uint8_t *w, size_t n)
{
	const struct lx_type_traits *t = traits_of(type);
	size_t nb = n / t->block_size, i, j;
	float *tmp;

	if (t->block_size == 1) {	/* F32, F16, BF16: random values */
		tmp = malloc(n * sizeof(float));
		for (i = 0; i < n; i++)
			tmp[i] = rndf(-1.0f, 1.0f);
		t->from_float(tmp, w, n);
		free(tmp);
		return;
	}
	for (i = 0; i < nb * t->type_size; i++)
		w[i] = (uint8_t)rnd32();
	for (j = 0; j < sizeof(scale_fields) / sizeof(scale_fields[0]); j++) {
		if (scale_fields[j].type != type)
			continue;
		for (i = 0; i < nb; i++) {
			uint8_t *b = w + i * t->type_size;
			float m = rndf(0.01f, 0.1f);

			put16(b + scale_fields[j].d_off,
			      lx_fp32_to_fp16(rndf(0.01f, 0.1f)));
			if (scale_fields[j].m_off < 0)
				continue;
			if (scale_fields[j].m_signed && (rnd32() & 1))
				m = -m;
			put16(b + scale_fields[j].m_off, lx_fp32_to_fp16(m));
		}
	}
}

static void test_dot_consistency(uint32_t type, int trials)
{
	const struct lx_type_traits *t = traits_of(type);
	const struct lx_type_traits *vt = traits_of(t->vec_dot_type);
	const size_t n = 1024;
	size_t wbytes = n / t->block_size * t->type_size;
	size_t xbytes = n / vt->block_size * vt->type_size;
	float *wf = malloc(n * sizeof(float));
	float *xf = malloc(n * sizeof(float));
	float *act = malloc(n * sizeof(float));
	uint8_t *wbase, *xbase, *w, *x;
	double worst = 0.0;
	int trial, bad = 0, nonfinite = 0;
	size_t i, b;

	w = odd_alloc(wbytes, &wbase);
	x = odd_alloc(xbytes, &xbase);
	for (trial = 0; trial < trials; trial++) {
		double want = 0.0, mag = 0.0, err;
		float got;

		make_weights(type, w, n);
		t->to_float(w, wf, n);
		/* activations: per-32 blocks of very different magnitude */
		for (i = 0; i < n; i += 32) {
			float scale = powf(10.0f, rndf(-2.0f, 2.0f));

			if (rnd32() % 16 == 0)
				scale = 0.0f;	/* all-zero block */
			for (b = 0; b < 32; b++)
				act[i + b] = scale * rndf(-1.0f, 1.0f);
		}
		vt->from_float(act, x, n);
		vt->to_float(x, xf, n);
		for (i = 0; i < n; i++) {
			if (!isfinite(wf[i]) || !isfinite(xf[i]))
				nonfinite++;
			want += (double)wf[i] * xf[i];
			mag += fabs((double)wf[i] * xf[i]);
		}
		/*
		 * Q8_1 carries s = fp16(d * sum(q)); the dot uses it in place
		 * of d * sum(q) for the offset term, so swap it in here too.
		 */
		if (t->vec_dot_type == LX_TYPE_Q8_1) {
			for (b = 0; b < n / 32; b++) {
				const uint8_t *xb = x + b * 36;
				const uint8_t *wb = w + b * t->type_size;
				double m = lx_fp16_to_fp32(get16(wb + 2));
				double d = lx_fp16_to_fp32(get16(xb));
				double s = lx_fp16_to_fp32(get16(xb + 2));
				int sum = 0, k;

				for (k = 0; k < 32; k++)
					sum += (int8_t)xb[4 + k];
				want += m * (s - d * sum);
				mag += fabs(m * s);
			}
		}
		got = t->vec_dot(n, w, x);
		err = fabs((double)got - want) / (mag > 0 ? mag : 1.0);
		if (err > worst)
			worst = err;
		if (!(err <= 1e-5)) {
			if (!bad)
				fprintf(stderr, "%s trial %d: dot %.9g, "
					"dequantized %.9g (|terms| %.3g)\n",
					t->name, trial, got, want, mag);
			bad++;
		}
	}
	printf("  %-5s vec_dot vs dequantized: %d trials, worst error %.2g "
	       "of sum |w*x|\n", t->name, trials, worst);
	CHECK(nonfinite == 0, "%s: %d non-finite values", t->name, nonfinite);
	CHECK(bad == 0, "%s: %d of %d dots differ from dequantized dot "
	      "(worst %.3g relative to sum |w*x|)", t->name, bad, trials,
	      worst);
	free(wbase);
	free(xbase);
	free(wf);
	free(xf);
	free(act);
}

/* F32/F16/BF16: conversions are elementwise, the dot is double-summed. */
static void test_float_types(void)
{
	static const uint32_t types[] = { LX_TYPE_F32, LX_TYPE_F16,
					  LX_TYPE_BF16 };
	const size_t n = 1000;
	float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float));
	float *ra = malloc(n * sizeof(float)), *rb = malloc(n * sizeof(float));
	uint8_t *abase, *bbase, *qa, *qb;
	size_t i, k;

	qa = odd_alloc(n * 4, &abase);
	qb = odd_alloc(n * 4, &bbase);
	for (i = 0; i < n; i++) {
		a[i] = rndf(-3.0f, 3.0f);
		b[i] = rndf(-3.0f, 3.0f);
	}
	for (k = 0; k < 3; k++) {
		const struct lx_type_traits *t = traits_of(types[k]);
		double want = 0.0;
		int bad = 0;
		float got;

		t->from_float(a, qa, n);
		t->from_float(b, qb, n);
		t->to_float(qa, ra, n);
		t->to_float(qb, rb, n);
		for (i = 0; i < n; i++) {
			float e = types[k] == LX_TYPE_F32 ? a[i] :
				  types[k] == LX_TYPE_F16 ?
				  lx_fp16_to_fp32(lx_fp32_to_fp16(a[i])) :
				  lx_bf16_to_fp32(lx_fp32_to_bf16(a[i]));

			if (fbits(ra[i]) != fbits(e))
				bad++;
			if (types[k] == LX_TYPE_F16 &&
			    get16(qa + 2 * i) != lx_fp32_to_fp16(a[i]))
				bad++;
			if (types[k] == LX_TYPE_BF16 &&
			    get16(qa + 2 * i) != lx_fp32_to_bf16(a[i]))
				bad++;
			/* same arithmetic as ggml: float product, double sum */
			want += (double)(ra[i] * rb[i]);
		}
		got = t->vec_dot(n, qa, qb);
		CHECK(bad == 0, "%s: %d conversions wrong", t->name, bad);
		CHECK(got == (float)want, "%s dot %.9g, expected %.9g",
		      t->name, got, want);
	}
	free(abase);
	free(bbase);
	free(a);
	free(b);
	free(ra);
	free(rb);
}

/* ---------------------------------------------------------------------- */
/* (3) hand-built blocks                                                  */
/* ---------------------------------------------------------------------- */

#define H_ONE 0x3c00
#define H_HALF 0x3800
#define H_QUARTER 0x3400
#define H_TWO 0x4000
#define H_MINUS_ONE 0xbc00

/* A Q8_0/Q8_K activation of all ones (d = 1), for dots that sum weights. */
static void ones_q8_0(uint8_t *b)
{
	put16(b, H_ONE);
	memset(b + 2, 1, 32);
}

static void ones_q8_k(uint8_t *b)
{
	int g;

	putf32(b, 1.0f);
	memset(b + 4, 1, 256);
	for (g = 0; g < 16; g++)
		put16(b + 260 + 2 * g, 16);
}

static void test_hand_q4_0(void)
{
	uint8_t blk[18], act[34];
	float y[32], want[32];
	int j;

	/* byte j: low nibble j (element j), high nibble 15-j (element j+16) */
	put16(blk, H_ONE);
	for (j = 0; j < 16; j++)
		blk[2 + j] = (uint8_t)(j | (15 - j) << 4);
	for (j = 0; j < 16; j++) {
		want[j] = (float)(j - 8);	/* -8 .. 7 */
		want[j + 16] = (float)(7 - j);	/* 7 .. -8 */
	}
	traits_of(LX_TYPE_Q4_0)->to_float(blk, y, 32);
	check_floats("Q4_0 d=1", y, want, 32);
	CHECK(y[0] == -8 && y[15] == 7 && y[16] == 7 && y[31] == -8,
	      "Q4_0 ends %g %g %g %g", y[0], y[15], y[16], y[31]);
	ones_q8_0(act);
	/* (-8 + ... + 7) twice */
	CHECK(traits_of(LX_TYPE_Q4_0)->vec_dot(32, blk, act) == -16.0f,
	      "Q4_0 . ones = %g",
	      traits_of(LX_TYPE_Q4_0)->vec_dot(32, blk, act));
	put16(blk, H_TWO);
	traits_of(LX_TYPE_Q4_0)->to_float(blk, y, 32);
	CHECK(y[3] == -10.0f && y[20] == 6.0f, "Q4_0 d=2: %g %g", y[3],
	      y[20]);
}

static void test_hand_q4_1(void)
{
	uint8_t blk[20];
	float y[32], want[32];
	int j;

	put16(blk, H_HALF);		/* d = 0.5 */
	put16(blk + 2, H_MINUS_ONE);	/* m = -1 */
	for (j = 0; j < 16; j++)
		blk[4 + j] = (uint8_t)(j | (15 - j) << 4);
	for (j = 0; j < 16; j++) {
		want[j] = j * 0.5f - 1.0f;
		want[j + 16] = (15 - j) * 0.5f - 1.0f;
	}
	traits_of(LX_TYPE_Q4_1)->to_float(blk, y, 32);
	check_floats("Q4_1", y, want, 32);
	CHECK(y[0] == -1.0f && y[15] == 6.5f && y[16] == 6.5f,
	      "Q4_1 %g %g %g", y[0], y[15], y[16]);
}

static void test_hand_q5(void)
{
	uint8_t b0[22], b1[24];
	float y[32], want[32];
	int j;

	/*
	 * qh = 0x8000ffff (bytes ff ff 00 80): elements 0-15 and 31 get the
	 * fifth bit. Nibbles as in the Q4 tests.
	 */
	put16(b0, H_ONE);
	b0[2] = 0xff;
	b0[3] = 0xff;
	b0[4] = 0x00;
	b0[5] = 0x80;
	for (j = 0; j < 16; j++)
		b0[6 + j] = (uint8_t)(j | (15 - j) << 4);
	for (j = 0; j < 16; j++) {
		want[j] = (float)(j + 16 - 16);
		want[j + 16] = (float)((15 - j) - 16);
	}
	want[31] = (float)(0 + 16 - 16);
	traits_of(LX_TYPE_Q5_0)->to_float(b0, y, 32);
	check_floats("Q5_0", y, want, 32);
	CHECK(y[0] == 0 && y[15] == 15 && y[16] == -1 && y[30] == -15 &&
	      y[31] == 0, "Q5_0 %g %g %g %g %g", y[0], y[15], y[16], y[30],
	      y[31]);

	put16(b1, H_HALF);		/* d = 0.5 */
	put16(b1 + 2, H_MINUS_ONE);	/* m = -1 */
	memcpy(b1 + 4, b0 + 2, 4 + 16);
	traits_of(LX_TYPE_Q5_1)->to_float(b1, y, 32);
	for (j = 0; j < 16; j++) {
		want[j] = (j + 16) * 0.5f - 1.0f;
		want[j + 16] = (15 - j) * 0.5f - 1.0f;
	}
	want[31] = 16 * 0.5f - 1.0f;
	check_floats("Q5_1", y, want, 32);
	CHECK(y[0] == 7.0f && y[15] == 14.5f && y[16] == 6.5f &&
	      y[30] == -0.5f && y[31] == 7.0f, "Q5_1 %g %g %g %g %g", y[0],
	      y[15], y[16], y[30], y[31]);
}

static void test_hand_q8_0(void)
{
	uint8_t blk[34], act[34];
	float y[32], want[32];
	int j;

	put16(blk, H_QUARTER);
	for (j = 0; j < 32; j++) {
		blk[2 + j] = (uint8_t)(int8_t)(4 * j - 64);
		want[j] = (float)(j - 16);
	}
	traits_of(LX_TYPE_Q8_0)->to_float(blk, y, 32);
	check_floats("Q8_0", y, want, 32);
	ones_q8_0(act);
	CHECK(traits_of(LX_TYPE_Q8_0)->vec_dot(32, blk, act) == -16.0f,
	      "Q8_0 . ones");
}

static void test_hand_q2_k(void)
{
	const struct lx_type_traits *t = traits_of(LX_TYPE_Q2_K);
	uint8_t blk[84], act[292];
	float y[256], want[256];
	int e, g, q;

	/* scales[g] = scale g (low nibble), min 15 - g (high nibble) */
	for (g = 0; g < 16; g++)
		blk[g] = (uint8_t)(g | (15 - g) << 4);
	memset(blk + 16, 0, 64);
	/*
	 * qs[39] = 0xe4: bit pairs 0,1,2,3. Byte 32 + 7 holds l = 7 of
	 * slices s = 4..7 (elements 135, 167, 199, 231), one per bit pair.
	 */
	blk[16 + 39] = 0xe4;
	put16(blk + 80, H_HALF);	/* d = 0.5 */
	put16(blk + 82, H_QUARTER);	/* dmin = 0.25 */
	for (e = 0; e < 256; e++) {
		g = e / 16;
		q = e == 167 ? 1 : e == 199 ? 2 : e == 231 ? 3 : 0;
		want[e] = 0.5f * g * q - 0.25f * (15 - g);
	}
	t->to_float(blk, y, 256);
	check_floats("Q2_K", y, want, 256);
	CHECK(y[7] == -3.75f && y[135] == -1.75f && y[167] == 3.75f &&
	      y[199] == 11.25f && y[231] == 20.75f,
	      "Q2_K %g %g %g %g %g", y[7], y[135], y[167], y[199], y[231]);
	ones_q8_k(act);
	CHECK(t->vec_dot(256, blk, act) == -442.0f, "Q2_K . ones = %g",
	      t->vec_dot(256, blk, act));
}

static void test_hand_q3_k(void)
{
	const struct lx_type_traits *t = traits_of(LX_TYPE_Q3_K);
	/* the 16 scales packed below, decoded by hand, minus 32 */
	static const int sc[16] = { -31, 19, -27, 23, -7, 11, -19, 31,
				    2, -12, -26, 24, 26, -20, -18, 16 };
	static const uint8_t packed[12] = { 0x21, 0x43, 0x65, 0x87,
					    0xa9, 0xcb, 0xed, 0x0f,
					    0xe4, 0x1b, 0x00, 0xff };
	uint8_t blk[110], act[292];
	float y[256], want[256];
	int e, q;

	memset(blk, 0xff, 32);		/* hmask: every third bit set */
	memset(blk + 32, 0x55, 64);	/* every 2-bit field = 1 */
	/* element 77 = slice 2, l = 13: qs[13] bits 4-5 -> 3 */
	blk[32 + 13] = 0x75;
	/* element 200 = slice 6, l = 8: clear hmask[8] bit 6 -> 1 - 4 */
	blk[8] = 0xbf;
	memcpy(blk + 96, packed, 12);
	put16(blk + 108, H_ONE);
	for (e = 0; e < 256; e++) {
		q = e == 77 ? 3 : e == 200 ? -3 : 1;
		want[e] = (float)(sc[e / 16] * q);
	}
	t->to_float(blk, y, 256);
	check_floats("Q3_K", y, want, 256);
	CHECK(y[0] == -31 && y[16] == 19 && y[127] == 31 && y[128] == 2 &&
	      y[255] == 16 && y[77] == -21 && y[200] == -78 &&
	      y[13] == -31 && y[141] == 2,
	      "Q3_K %g %g %g %g %g %g %g", y[0], y[16], y[127], y[128],
	      y[255], y[77], y[200]);
	ones_q8_k(act);
	CHECK(t->vec_dot(256, blk, act) == -246.0f, "Q3_K . ones = %g",
	      t->vec_dot(256, blk, act));
}

/* Q4_K/Q5_K scale bytes and their hand-decoded 6-bit scales and mins. */
/*
 * Scales 4-7 take their top bits from bytes 0-3 (01, 10, 11, 00), mins 4-7
 * from bytes 4-7 (11, 00, 01, 11): different, so mixing them up shows.
 */
static const uint8_t k4_packed[12] = { 0x41, 0x82, 0xc3, 0x04,
				       0xc5, 0x06, 0x47, 0xc8,
				       0x9a, 0xbc, 0xde, 0xf0 };
static const int k4_sc[8] = { 1, 2, 3, 4, 26, 44, 62, 0 };
static const int k4_mn[8] = { 5, 6, 7, 8, 57, 11, 29, 63 };

static void test_hand_q4_k(void)
{
	const struct lx_type_traits *t = traits_of(LX_TYPE_Q4_K);
	uint8_t blk[144], act[292];
	float y[256], want[256];
	int e, q;

	put16(blk, H_ONE);		/* d = 1 */
	put16(blk + 2, H_HALF);		/* dmin = 0.5 */
	memcpy(blk + 4, k4_packed, 12);
	memset(blk + 16, 0, 128);
	blk[16 + 5] = 0x73;	/* l = 5 of slices 0 (low) and 1 (high) */
	blk[16 + 73] = 0xf1;	/* l = 9 of slices 4 (low) and 5 (high) */
	for (e = 0; e < 256; e++) {
		q = e == 5 ? 3 : e == 37 ? 7 : e == 137 ? 1 : e == 169 ? 15 : 0;
		want[e] = (float)k4_sc[e / 32] * q - 0.5f * k4_mn[e / 32];
	}
	t->to_float(blk, y, 256);
	check_floats("Q4_K", y, want, 256);
	CHECK(y[0] == -2.5f && y[5] == 0.5f && y[37] == 11.0f &&
	      y[137] == -2.5f && y[169] == 654.5f && y[128] == -28.5f &&
	      y[255] == -31.5f, "Q4_K %g %g %g %g %g", y[5], y[37], y[137],
	      y[169], y[255]);
	ones_q8_k(act);
	/* 3 + 14 + 26 + 660 - 0.5 * 32 * (5+6+7+8+57+11+29+63) */
	CHECK(t->vec_dot(256, blk, act) == -2273.0f, "Q4_K . ones = %g",
	      t->vec_dot(256, blk, act));
}

static void test_hand_q5_k(void)
{
	const struct lx_type_traits *t = traits_of(LX_TYPE_Q5_K);
	uint8_t blk[176], act[292];
	float y[256], want[256];
	int e, q;

	put16(blk, H_ONE);
	put16(blk + 2, H_HALF);
	memcpy(blk + 4, k4_packed, 12);
	memset(blk + 16, 0, 32 + 128);
	blk[16 + 5] = 0x02;	/* qh[5] bit 1: element 32 * 1 + 5 = 37 */
	blk[16 + 9] = 0x10;	/* qh[9] bit 4: element 32 * 4 + 9 = 137 */
	blk[48 + 5] = 0x73;
	blk[48 + 73] = 0xf1;
	for (e = 0; e < 256; e++) {
		q = e == 5 ? 3 : e == 37 ? 23 : e == 137 ? 17 :
		    e == 169 ? 15 : 0;
		want[e] = (float)k4_sc[e / 32] * q - 0.5f * k4_mn[e / 32];
	}
	t->to_float(blk, y, 256);
	check_floats("Q5_K", y, want, 256);
	CHECK(y[5] == 0.5f && y[37] == 43.0f && y[137] == 413.5f &&
	      y[169] == 654.5f, "Q5_K %g %g %g %g", y[5], y[37], y[137],
	      y[169]);
	ones_q8_k(act);
	/* Q4_K's dot plus 2 * 16 (element 37) and 26 * 16 (element 137) */
	CHECK(t->vec_dot(256, blk, act) == -1825.0f, "Q5_K . ones = %g",
	      t->vec_dot(256, blk, act));
}

static void test_hand_q6_k(void)
{
	const struct lx_type_traits *t = traits_of(LX_TYPE_Q6_K);
	uint8_t blk[210], act[292];
	float y[256], want[256];
	int e, g, q, sc[16];

	memset(blk, 0, 128 + 64);	/* every quant 0, i.e. -32 */
	/*
	 * Half 1, l = 3: ql[64 + 32 + 3] holds g = 1 (low nibble, element
	 * 163) and g = 3 (high nibble, element 227); qh[32 + 3] = 0xc8 gives
	 * g = 1 high bits 2 and g = 3 high bits 3.
	 */
	blk[64 + 32 + 3] = 0x5a;
	blk[128 + 32 + 3] = 0xc8;
	for (g = 0; g < 16; g++) {
		sc[g] = (g % 2) ? -(g + 1) : g + 1;
		blk[192 + g] = (uint8_t)(int8_t)sc[g];
	}
	put16(blk + 208, H_HALF);
	for (e = 0; e < 256; e++) {
		q = e == 163 ? 42 : e == 227 ? 53 : 0;
		want[e] = 0.5f * sc[e / 16] * (q - 32);
	}
	t->to_float(blk, y, 256);
	check_floats("Q6_K", y, want, 256);
	CHECK(y[3] == -16.0f && y[131] == -144.0f && y[163] == 55.0f &&
	      y[195] == -208.0f && y[227] == 157.5f,
	      "Q6_K %g %g %g %g %g", y[3], y[131], y[163], y[195], y[227]);
	ones_q8_k(act);
	CHECK(t->vec_dot(256, blk, act) == 2676.5f, "Q6_K . ones = %g",
	      t->vec_dot(256, blk, act));
}

/* ---------------------------------------------------------------------- */
/* (4) activation quantizers                                              */
/* ---------------------------------------------------------------------- */

static void test_q8_0_quantizer(void)
{
	const struct lx_type_traits *t = traits_of(LX_TYPE_Q8_0);
	float x[32];
	int8_t want[32];
	uint8_t b[34];
	int j, bad;

	/*
	 * amax 127: d = 1 and the multiplier 127 / amax = 1 exactly, so q is
	 * x rounded to nearest, halves to even (ggml's x86 quantizer)
	 */
	for (j = 0; j < 32; j++) {
		x[j] = (float)(j - 16);
		want[j] = (int8_t)(j - 16);
	}
	x[0] = 127.0f;		want[0] = 127;
	x[1] = -126.5f;		want[1] = -126;
	x[2] = 2.5f;		want[2] = 2;
	x[3] = -2.5f;		want[3] = -2;
	x[4] = 0.5f;		want[4] = 0;
	x[5] = -0.5f;		want[5] = 0;
	x[10] = 3.5f;		want[10] = 4;
	x[11] = -1.5f;		want[11] = -2;
	x[6] = 0.49999997f;	want[6] = 0;
	x[7] = 1.4999999f;	want[7] = 1;
	x[8] = 3.7f;		want[8] = 4;
	x[9] = -3.7f;		want[9] = -4;
	t->from_float(x, b, 32);
	CHECK(get16(b) == H_ONE, "Q8_0 d %04x", get16(b));
	for (bad = 0, j = 0; j < 32; j++)
		bad += (int8_t)b[2 + j] != want[j];
	CHECK(bad == 0, "Q8_0 quants: %d wrong", bad);

	/* the largest magnitude, negative, maps to -127 (never -128) */
	for (j = 0; j < 32; j++)
		x[j] = (float)(j - 16) * 0.01f;
	t->from_float(x, b, 32);
	CHECK((int8_t)b[2] == -127 && (int8_t)b[2 + 16] == 0 &&
	      (int8_t)b[2 + 31] == 119, "Q8_0 scaled %d %d %d",
	      (int8_t)b[2], (int8_t)b[18], (int8_t)b[33]);
	CHECK(get16(b) == lx_fp32_to_fp16(fabsf(x[0]) / 127.0f),
	      "Q8_0 d = fp16(amax / 127)");

	memset(x, 0, sizeof(x));
	memset(b, 0x5a, sizeof(b));
	t->from_float(x, b, 32);
	for (bad = 0, j = 0; j < 34; j++)
		bad += b[j] != 0;
	CHECK(bad == 0, "Q8_0 zero block not all zero");
}

static void test_q8_1_quantizer(void)
{
	const struct lx_type_traits *t = traits_of(LX_TYPE_Q8_1);
	float x[32];
	uint8_t b[36];
	int j, sum;

	/* d = 1: q = x rounded, halves to even; s = fp16(sum(q) * d) */
	for (j = 0; j < 32; j++)
		x[j] = (float)j + 0.5f;		/* 0.5 .. 31.5 */
	x[31] = 127.0f;
	t->from_float(x, b, 32);
	CHECK(get16(b) == H_ONE, "Q8_1 d %04x", get16(b));
	for (sum = 0, j = 0; j < 31; j++) {
		int want = j % 2 ? j + 1 : j;

		CHECK((int8_t)b[4 + j] == want, "Q8_1 q[%d] = %d", j,
		      (int8_t)b[4 + j]);
		sum += want;
	}
	sum += 127;
	CHECK((int8_t)b[4 + 31] == 127, "Q8_1 q[31]");
	CHECK(sum == 607 && get16(b + 2) == lx_fp32_to_fp16(607.0f) &&
	      lx_fp16_to_fp32(get16(b + 2)) == 607.0f, "Q8_1 s %04x",
	      get16(b + 2));

	/* s is rounded to fp16: 0.3 * (127 + 31 * 1) with d = 0.3 / 127 */
	for (j = 0; j < 32; j++)
		x[j] = 0.3f / 127.0f;
	x[0] = -0.3f;
	t->from_float(x, b, 32);
	CHECK((int8_t)b[4] == -127 && (int8_t)b[5] == 1, "Q8_1 %d %d",
	      (int8_t)b[4], (int8_t)b[5]);
	CHECK(get16(b + 2) ==
		      lx_fp32_to_fp16((float)(-127 + 31) * (0.3f / 127.0f)),
	      "Q8_1 s = fp16(sum * d)");

	memset(x, 0, sizeof(x));
	memset(b, 0x5a, sizeof(b));
	t->from_float(x, b, 32);
	for (sum = 0, j = 0; j < 36; j++)
		sum += b[j] != 0;
	CHECK(sum == 0, "Q8_1 zero block not all zero");
}

static void test_q8_k_quantizer(void)
{
	const struct lx_type_traits *t = traits_of(LX_TYPE_Q8_K);
	float x[256];
	int8_t want[256];
	uint8_t b[292];
	int j, g, sum, bad;

	/*
	 * max = -127 (largest magnitude; the +127 after it does not replace
	 * it): iscale = -127 / -127 = 1, d = 1, q = x rounded half to even.
	 */
	for (j = 0; j < 256; j++) {
		x[j] = (float)(j % 64 - 32);
		want[j] = (int8_t)(j % 64 - 32);
	}
	x[0] = -127.0f;	want[0] = -127;
	x[1] = 127.0f;	want[1] = 127;
	x[2] = 2.5f;	want[2] = 2;
	x[3] = -2.5f;	want[3] = -2;
	x[4] = 3.5f;	want[4] = 4;
	x[5] = 0.5f;	want[5] = 0;
	x[6] = -1.5f;	want[6] = -2;
	x[7] = 1.5f;	want[7] = 2;
	x[100] = 0.49999997f;	want[100] = 0;
	t->from_float(x, b, 256);
	CHECK(getf32(b) == 1.0f, "Q8_K d %g", getf32(b));
	for (bad = 0, j = 0; j < 256; j++)
		bad += (int8_t)b[4 + j] != want[j];
	CHECK(bad == 0, "Q8_K quants: %d wrong", bad);
	for (bad = 0, g = 0; g < 16; g++) {
		for (sum = 0, j = 0; j < 16; j++)
			sum += want[16 * g + j];
		bad += (int16_t)get16(b + 260 + 2 * g) != sum;
	}
	CHECK(bad == 0, "Q8_K bsums: %d wrong", bad);
	CHECK((int16_t)get16(b + 260) == -127 + 127 + 2 - 2 + 4 + 0 - 2 + 2 +
	      (-24) + (-23) + (-22) + (-21) + (-20) + (-19) + (-18) + (-17),
	      "Q8_K bsums[0] = %d", (int16_t)get16(b + 260));

	/* positive max: maps to -127 and d is negative, -1/127 */
	memset(x, 0, sizeof(x));
	x[0] = 1.0f;	/* -127 */
	x[1] = -1.0f;	/* 127 */
	x[2] = 0.5f;	/* -63.5 -> -64 */
	x[3] = -0.5f;	/* 63.5 -> 64 */
	x[4] = 0.25f;	/* -31.75 -> -32 */
	x[17] = -0.75f;	/* 95.25 -> 95 */
	t->from_float(x, b, 256);
	CHECK(getf32(b) == 1.0f / -127.0f, "Q8_K d %.9g", getf32(b));
	CHECK((int8_t)b[4] == -127 && (int8_t)b[5] == 127 &&
	      (int8_t)b[6] == -64 && (int8_t)b[7] == 64 &&
	      (int8_t)b[8] == -32 && (int8_t)b[4 + 17] == 95,
	      "Q8_K %d %d %d %d %d %d", (int8_t)b[4], (int8_t)b[5],
	      (int8_t)b[6], (int8_t)b[7], (int8_t)b[8], (int8_t)b[21]);
	CHECK((int16_t)get16(b + 260) == -32 && get16(b + 262) == 95,
	      "Q8_K bsums %d %d", (int16_t)get16(b + 260), get16(b + 262));

	memset(x, 0, sizeof(x));
	memset(b, 0x5a, sizeof(b));
	t->from_float(x, b, 256);
	for (bad = 0, j = 0; j < 292; j++)
		bad += b[j] != 0;
	CHECK(bad == 0, "Q8_K zero block not all zero (d, qs, bsums)");
}

int main(void)
{
	static const uint32_t weight_types[] = {
		LX_TYPE_F32, LX_TYPE_F16, LX_TYPE_BF16, LX_TYPE_Q4_0,
		LX_TYPE_Q4_1, LX_TYPE_Q5_0, LX_TYPE_Q5_1, LX_TYPE_Q8_0,
		LX_TYPE_Q2_K, LX_TYPE_Q3_K, LX_TYPE_Q4_K, LX_TYPE_Q5_K,
		LX_TYPE_Q6_K,
	};
	size_t i;

	test_fp16_known();
	test_fp16_exhaustive();
#ifdef __FLT16_MAX__
	test_fp16_vs_compiler();
#endif
	test_bf16();
	test_traits();
	test_float_types();
	for (i = 0; i < sizeof(weight_types) / sizeof(weight_types[0]); i++)
		test_dot_consistency(weight_types[i], 50);
	test_hand_q4_0();
	test_hand_q4_1();
	test_hand_q5();
	test_hand_q8_0();
	test_hand_q2_k();
	test_hand_q3_k();
	test_hand_q4_k();
	test_hand_q5_k();
	test_hand_q6_k();
	test_q8_0_quantizer();
	test_q8_1_quantizer();
	test_q8_k_quantizer();
	return tl_finish("test_quant");
}
