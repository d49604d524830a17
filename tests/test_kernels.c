// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The SIMD kernels against the scalar reference, for every CPU level this
 * machine has: each type's vec_dot on random blocks (odd sizes, misaligned
 * pointers) within float rounding of the scalar one; the activation
 * quantizers byte for byte (special values included); dequantization
 * exactly; and each gemm tile equal to the same level's vec_dot bit for bit
 * over many tile shapes, with and without accumulation.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels.h"
#include "mathfn.h"
#include "platform.h"
#include "testlib.h"

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t rnd32(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static float rndf(float lo, float hi)
{
	return lo + (hi - lo) * (float)(rnd32() >> 8) / 16777216.0f;
}

/* Roughly normal: sum of four uniforms. */
static float rndn(void)
{
	return rndf(-1, 1) + rndf(-1, 1) + rndf(-1, 1) + rndf(-1, 1);
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static float bitsf(uint32_t u)
{
	float f;

	memcpy(&f, &u, 4);
	return f;
}

static const struct lx_type_traits *tr(uint32_t t)
{
	return lx_type_traits(t);
}

static size_t row_bytes(uint32_t t, size_t n)
{
	return n / tr(t)->block_size * tr(t)->type_size;
}

/* A sane fp16 scale: what a quantizer could have written. */
static uint16_t scale16(void)
{
	return lx_fp32_to_fp16(rndf(-0.05f, 0.05f));
}

/*
 * Random weights of type t: random quants, sane fp16 scales, 8-bit quants
 * in -127..127 (the kernels' documented input range).
 */
static void rand_weights(uint32_t t, uint8_t *p, size_t n)
{
	size_t nb = n / tr(t)->block_size, i, j, bs = tr(t)->type_size;

	for (i = 0; i < nb * bs; i++)
		p[i] = (uint8_t)rnd32();
	for (i = 0; i < nb; i++) {
		uint8_t *b = p + i * bs;

		switch (t) {
		case LX_TYPE_F32: {
			float f = rndn();

			memcpy(b, &f, 4);
			break;
		}
		case LX_TYPE_F16:
			put16(b, lx_fp32_to_fp16(rndn()));
			break;
		case LX_TYPE_BF16:
			put16(b, lx_fp32_to_bf16(rndn()));
			break;
		case LX_TYPE_Q4_0:
		case LX_TYPE_Q5_0:
			put16(b, scale16());
			break;
		case LX_TYPE_Q4_1:
		case LX_TYPE_Q5_1:
			put16(b, scale16());
			put16(b + 2, scale16());
			break;
		case LX_TYPE_Q8_0:
			put16(b, scale16());
			for (j = 2; j < bs; j++)
				if (b[j] == 0x80)
					b[j] = 0x81;
			break;
		case LX_TYPE_Q2_K:
			put16(b + 80, scale16());
			put16(b + 82, scale16());
			break;
		case LX_TYPE_Q3_K:
			put16(b + 108, scale16());
			break;
		case LX_TYPE_Q4_K:
		case LX_TYPE_Q5_K:
			put16(b, scale16());
			put16(b + 2, scale16());
			break;
		case LX_TYPE_Q6_K:
			put16(b + 208, scale16());
			break;
		}
	}
}

static void rand_floats(float *f, size_t n)
{
	size_t i;
	float scale = rndf(0.01f, 10.0f);

	for (i = 0; i < n; i++)
		f[i] = rndn() * scale;
}

/* Activations of weight type t: random floats in its vec_dot_type. */
static void rand_acts(uint32_t t, uint8_t *p, size_t n, float *tmp)
{
	rand_floats(tmp, n);
	tr(tr(t)->vec_dot_type)->from_float(tmp, p, n);
}

static const char *level_name(int level)
{
	return lx_cpu_level_name((enum lx_cpu_level)level);
}

/* ---------------------------------------------------------------------- */
/* vec_dot against the scalar one                                         */
/* ---------------------------------------------------------------------- */

#define MAXN 8192

static void test_vec_dot(int level, const struct lx_kernels *k, uint32_t t)
{
	static const size_t nblocks[] = { 1, 2, 3, 5, 8, 17, 32 };
	static const size_t nfloat[] = { 1, 3, 8, 15, 16, 17, 31, 33, 100,
					 255, 1000, 4097 };
	static uint8_t wbuf[MAXN * 4 + 64], xbuf[MAXN * 4 + 64];
	static float wf[MAXN], xf[MAXN];
	uint32_t vt = tr(t)->vec_dot_type, bsz = tr(t)->block_size;
	lx_vec_dot_fn ref = tr(t)->vec_dot;
	bool is_float = bsz == 1;
	size_t cases = LX_ARRAY_SIZE(nblocks);
	double worst = 0;
	size_t c, rep, i, n;
	int fails = 0;

	if (is_float)
		cases = LX_ARRAY_SIZE(nfloat);
	for (c = 0; c < cases; c++)
		for (rep = 0; rep < 4; rep++) {
			uint8_t *w = wbuf + (rnd32() & 7);
			uint8_t *x = xbuf + (rnd32() & 7);
			double mag = 0, err;
			float a, b;

			n = is_float ? nfloat[c] : nblocks[c] * bsz;
			rand_weights(t, w, n);
			rand_acts(t, x, n, xf);
			tr(t)->to_float(w, wf, n);
			tr(vt)->to_float(x, xf, n);
			for (i = 0; i < n; i++)
				mag += fabs((double)wf[i] * xf[i]);
			a = ref(n, w, x);
			b = k->vec_dot(n, w, x);
			err = fabs((double)a - b) / (mag + 1e-30);
			if (err > worst)
				worst = err;
			if (!(err <= 1e-5) && fails++ < 3)
				CHECK(false, "%s %s vec_dot n=%zu: scalar %.9g, simd %.9g (|d|/sum|wx| %.3g)",
				      level_name(level), tr(t)->name, n, a, b,
				      err);
		}
	CHECK(fails == 0, "%s %s vec_dot: %d mismatches", level_name(level),
	      tr(t)->name, fails);
	printf("  %-10s %-5s vec_dot    max |simd - scalar| / sum|w*x| = %.2e\n",
	       level_name(level), tr(t)->name, worst);
}

/* ---------------------------------------------------------------------- */
/* gemm tiles against the same level's vec_dot                            */
/* ---------------------------------------------------------------------- */

static bool same_bits(float a, float b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

static int gemm_case(const struct lx_kernels *k, uint32_t t, size_t n,
		     uint32_t n_rows, uint32_t n_tok, bool accumulate,
		     uint8_t *wbuf, uint8_t *xbuf, float *out, float *tmp)
{
	uint32_t vt = tr(t)->vec_dot_type;
	size_t ws = row_bytes(t, n) + (rnd32() & 3);
	size_t xs = row_bytes(vt, n) + (rnd32() & 3);
	size_t os = n_rows + (rnd32() & 3);
	uint8_t *w = wbuf + (rnd32() & 7), *x = xbuf + (rnd32() & 7);
	uint32_t r, tk;
	int bad = 0;

	for (r = 0; r < n_rows; r++)
		rand_weights(t, w + r * ws, n);
	for (tk = 0; tk < n_tok; tk++)
		rand_acts(t, x + tk * xs, n, tmp);
	for (r = 0; r < n_tok * os; r++)
		out[r] = rndn();
	memcpy(tmp, out, n_tok * os * sizeof(float));
	k->gemm(n, w, ws, n_rows, x, xs, n_tok, out, os, accumulate);
	for (tk = 0; tk < n_tok; tk++)
		for (r = 0; r < os; r++) {
			float want = tmp[tk * os + r], got = out[tk * os + r];

			if (r < n_rows) {
				float v = k->vec_dot(n, w + r * ws,
						     x + tk * xs);

				want = accumulate ? want + v : v;
			}
			if (!same_bits(want, got) && bad++ < 2)
				CHECK(false, "%s gemm n=%zu %ux%u%s: out[%u][%u] = %.9g, vec_dot gives %.9g",
				      tr(t)->name, n, n_rows, n_tok,
				      accumulate ? " (accumulate)" : "", tk, r,
				      got, want);
		}
	return bad;
}

static void test_gemm(int level, const struct lx_kernels *k, uint32_t t)
{
	static uint8_t wbuf[40 * 2 * 256 * 4 + 64 * 8];
	static uint8_t xbuf[80 * 2 * 256 * 4 + 80 * 8];
	static float out[80 * 44], tmp[MAXN];	/* also n activations */
	uint32_t bsz = tr(t)->block_size;
	size_t n = bsz == 1 ? 37 : (bsz == LX_QK ? 3 * bsz : 2 * bsz);
	uint32_t r, tk, shapes = 0;
	int bad = 0;

	if (!k->gemm) {
		printf("  %-10s %-5s gemm       none (vec_dot per output)\n",
		       level_name(level), tr(t)->name);
		return;
	}
	for (r = 1; r <= 9; r++)
		for (tk = 1; tk <= 9; tk++, shapes++)
			bad += gemm_case(k, t, n, r, tk, (r + tk) & 1, wbuf,
					 xbuf, out, tmp);
	/* every tile width up to 16 tokens, beside a full row tile */
	for (tk = 10; tk <= 16; tk++, shapes++)
		bad += gemm_case(k, t, n, 17, tk, tk & 1, wbuf, xbuf, out,
				 tmp);
	/* past a token chunk, and large enough for full tiles everywhere */
	bad += gemm_case(k, t, n, 37, 70, false, wbuf, xbuf, out, tmp);
	bad += gemm_case(k, t, n, 40, 80, true, wbuf, xbuf, out, tmp);
	bad += gemm_case(k, t, bsz == 1 ? 300 : 4 * bsz, 5, 3, false, wbuf,
			 xbuf, out, tmp);
	/* many blocks: a full 16-row tile, its neighbour, a partial one */
	bad += gemm_case(k, t, bsz == 1 ? 1000 : 16 * bsz, 17, 9, true, wbuf,
			 xbuf, out, tmp);
	/* a generation tile's groups of four blocks and a tail of two */
	bad += gemm_case(k, t, bsz == 1 ? 200 : 6 * bsz, 20, 1, false, wbuf,
			 xbuf, out, tmp);
	shapes += 5;
	CHECK(bad == 0, "%s %s gemm: %d outputs differ from vec_dot",
	      level_name(level), tr(t)->name, bad);
	printf("  %-10s %-5s gemm       %u tile shapes, every output == vec_dot bit for bit%s\n",
	       level_name(level), tr(t)->name, shapes, bad ? " (FAILED)" : "");
}

/* ---------------------------------------------------------------------- */
/* Activation quantizers: the scalar quantizer's bytes                    */
/* ---------------------------------------------------------------------- */

/* Floats with special cases: ties after scaling, zeros, NaN, inf, tiny. */
static void special_floats(float *f, size_t n, int kind, size_t bsz)
{
	size_t i;

	rand_floats(f, n);
	switch (kind) {
	case 1:	/* amax 127: the scale is 1 and x.5 values are ties */
		for (i = 0; i < n; i++)
			f[i] = (float)((int)(rnd32() % 255) - 127) +
			       ((rnd32() & 1) ? 0.5f : 0.0f);
		for (i = 0; i < n; i += bsz)
			f[i + rnd32() % bsz] = (rnd32() & 1) ? 127.0f : -127.0f;
		break;
	case 2:	/* zero blocks, a NaN, an infinity, denormals */
		for (i = 0; i < n && i < bsz; i++)
			f[i] = (i & 1) ? -0.0f : 0.0f;
		f[rnd32() % n] = NAN;
		f[rnd32() % n] = -INFINITY;
		f[rnd32() % n] = bitsf(0x00000003);
		break;
	case 3:	/* random bit patterns: any float at all */
		for (i = 0; i < n; i++)
			f[i] = bitsf(rnd32());
		break;
	case 4:	/* equal magnitudes of both signs: the first one wins */
		for (i = 0; i < n; i++)
			f[i] = (rnd32() & 1) ? 3.0f : -3.0f;
		break;
	case 5:	/* tiny and huge scales */
		for (i = 0; i < n; i++)
			f[i] *= (i / bsz) & 1 ? 1e-30f : 1e30f;
		break;
	default:
		break;
	}
}

static void test_from_float(int level, const struct lx_kernels *k,
			    uint32_t t)
{
	static float src[MAXN + 8];
	static uint8_t a[MAXN * 2 + 64], b[MAXN * 2 + 64];
	uint32_t bsz = tr(t)->block_size;
	size_t n, c;
	int kind, bad = 0, cases = 0;

	for (kind = 0; kind <= 5; kind++)
		for (c = 0; c < 6; c++, cases++) {
			float *s = src + (rnd32() & 3);
			size_t off = rnd32() & 7;

			n = bsz == 1 ? 1 + rnd32() % 300 :
				       bsz * (1 + rnd32() % 8);
			if (kind == 3 && bsz == LX_QK_K)
				n = bsz * 8;
			special_floats(s, n, kind, bsz == 1 ? 16 : bsz);
			memset(a, 0xa5, sizeof(a));
			memset(b, 0xa5, sizeof(b));
			tr(t)->from_float(s, a + off, n);
			k->from_float(s, b + off, n);
			if (memcmp(a, b, sizeof(a)) && bad++ < 3)
				CHECK(false, "%s %s from_float n=%zu kind %d: bytes differ",
				      level_name(level), tr(t)->name, n, kind);
		}
	CHECK(bad == 0, "%s %s from_float: %d cases differ", level_name(level),
	      tr(t)->name, bad);
	printf("  %-10s %-5s from_float %d cases (NaN, inf, ties, zeros), bytes == scalar\n",
	       level_name(level), tr(t)->name, cases);
}

/* ---------------------------------------------------------------------- */
/* Dequantization                                                         */
/* ---------------------------------------------------------------------- */

static void test_to_float(int level, const struct lx_kernels *k, uint32_t t)
{
	static uint8_t src[MAXN * 4 + 64], halves[2 * 65536 + 2];
	static float a[MAXN], b[MAXN];
	uint32_t bsz = tr(t)->block_size;
	size_t n, i, c;
	int bad = 0;

	if (t == LX_TYPE_F16) {
		/* every half; NaNs need only stay NaN */
		for (i = 0; i < 65536; i++)
			put16(halves + 1 + 2 * i, (uint16_t)i);
		for (c = 0; c < 65536; c += MAXN) {
			tr(t)->to_float(halves + 1 + 2 * c, a, MAXN);
			k->to_float(halves + 1 + 2 * c, b, MAXN);
			for (i = 0; i < MAXN; i++)
				if (!(isnan(a[i]) ? isnan(b[i]) :
				      same_bits(a[i], b[i])) && bad++ < 3)
					CHECK(false, "%s F16 to_float(0x%04zx) = %g, scalar %g",
					      level_name(level), c + i, b[i],
					      a[i]);
		}
	}
	for (c = 0; c < 12; c++) {
		uint8_t *p = src + (rnd32() & 7);

		n = bsz == 1 ? 1 + rnd32() % 700 : bsz * (1 + rnd32() % 8);
		rand_weights(t, p, n);
		if (t == LX_TYPE_BF16 && c < 4)	/* any bits, NaNs too */
			for (i = 0; i < 2 * n; i++)
				p[i] = (uint8_t)rnd32();
		tr(t)->to_float(p, a, n);
		k->to_float(p, b, n);
		if (memcmp(a, b, n * sizeof(float)) && bad++ < 3)
			CHECK(false, "%s %s to_float n=%zu differs",
			      level_name(level), tr(t)->name, n);
	}
	CHECK(bad == 0, "%s %s to_float: %d mismatches", level_name(level),
	      tr(t)->name, bad);
	printf("  %-10s %-5s to_float   exact%s\n", level_name(level),
	       tr(t)->name, t == LX_TYPE_F16 ? " (all 65536 halves)" : "");
}

/* ---------------------------------------------------------------------- */

/*
 * Values at the edges of lx_expf_poly's range: overflow past 88.72,
 * subnormal results below -87.3, the scaling split at |n| = 100, n = +-192
 * (x ~ +-133), tiny and zero arguments.
 */
static const float exp_edge[20] = {
	0.0f, -0.0f, 1.0f, -1.0f, 88.72f, 88.73f, -87.33f, -88.9f,
	-103.9f, -104.0f, 69.3f, -69.3f, 70.0f, -70.0f, 133.0f,
	-133.0f, 134.0f, -134.0f, 1e-40f, -1e-30f,
};

/*
 * The SwiGLU activation of a level against the scalar one, bit for bit:
 * random values over the range where exp neither overflows nor vanishes,
 * the edges of lx_expf_poly's range and past them, zeros, infinities and
 * NaN, at lengths that leave every tail size.
 */
static void test_silu_mul(int level)
{
	const float *edge = exp_edge;
	float g[301], a[301], b[301], up[301];
	size_t n, i, cases = 0;
	int bad = 0;

	for (n = 1; n <= 301; n += n < 24 ? 1 : 37) {
		for (i = 0; i < n; i++) {
			g[i] = i % 7 == 3 ? edge[(i / 7) % 20] : rndf(-30.0f, 30.0f);
			up[i] = rndf(-2.0f, 2.0f);
		}
		if (n > 40) {
			g[5] = LX_INFINITY;
			g[11] = -LX_INFINITY;
			g[17] = LX_NAN;
			g[23] = bitsf(0x7fc12345u);	/* a NaN with a payload */
		}
		for (i = 0; i < n; i++)
			a[i] = b[i] = g[i];
		lx_silu_mul(a, up, n);
		lx_silu_mul_level((enum lx_cpu_level)level, b, up, n);
		for (i = 0; i < n; i++, cases++)
			if (!same_bits(a[i], b[i]) && bad++ < 5)
				printf("  %s silu_mul: n %zu, x[%zu] = %a: %a != %a\n",
				       level_name(level), n, i, g[i], b[i], a[i]);
	}
	CHECK(bad == 0, "%s silu_mul: %d values differ", level_name(level),
	      bad);
	printf("  %-10s silu_mul   %zu values (edges of exp's range, inf, NaN), == scalar bit for bit%s\n",
	       level_name(level), cases, bad ? " (FAILED)" : "");
}

/*
 * The softmax exponentials of a level against the scalar ones, bit for bit
 * (values and sum), at every length up to 70 and a few longer rows, with
 * edge values; and the scalar sum against exp() summed in double.
 */
static void test_softmax_exp(int level)
{
	static float x[1000], a[1000], b[1000];
	size_t lens[] = { 0, 1, 2, 15, 16, 17, 31, 32, 33, 47, 64, 70, 511,
			  1000 };
	size_t li, i, cases = 0;
	int bad = 0, off = 0;

	for (li = 0; li < sizeof(lens) / sizeof(lens[0]) + 70; li++) {
		size_t n = li < 14 ? lens[li] : li - 14;
		float max = -LX_INFINITY;
		double sa, sb, want = 0.0;

		for (i = 0; i < n; i++) {
			x[i] = i % 5 == 2 ? exp_edge[(i / 5) % 20] / 2.0f :
			       rndf(-40.0f, 8.0f);
			if (x[i] > max)
				max = x[i];
		}
		for (i = 0; i < n; i++) {
			a[i] = b[i] = x[i];
			want += exp((double)x[i] - max);
		}
		sa = lx_softmax_exp(a, n, max);
		sb = lx_softmax_exp_level((enum lx_cpu_level)level, b, n, max);
		for (i = 0; i < n; i++, cases++)
			if (!same_bits(a[i], b[i]) && bad++ < 5)
				printf("  %s softmax_exp: n %zu, x[%zu] = %a: %a != %a\n",
				       level_name(level), n, i, x[i], b[i], a[i]);
		if (memcmp(&sa, &sb, sizeof(sa)) && bad++ < 5)
			printf("  %s softmax_exp: n %zu, sum %a != %a\n",
			       level_name(level), n, sb, sa);
		if (fabs(sa - want) > 1e-6 * want && off++ < 3)
			printf("  softmax_exp: n %zu, sum %.9g, exp() gives %.9g\n",
			       n, sa, want);
	}
	CHECK(bad == 0, "%s softmax_exp: %d values differ", level_name(level),
	      bad);
	CHECK(off == 0, "softmax_exp: %d sums off by more than 1e-6", off);
	printf("  %-10s softmax_exp %zu values and their sums, == scalar bit for bit%s\n",
	       level_name(level), cases, bad ? " (FAILED)" : "");
}

int main(void)
{
	static struct lx_kernels scalar[LX_TYPE_COUNT], simd[LX_TYPE_COUNT];
	int have = (int)lx_host_cpu_level(), level;
	uint32_t t;

	lx_kernels_table(LX_CPU_SCALAR, scalar);
	printf("CPU level available: %s\n", level_name(have));
	for (t = 0; t < LX_TYPE_COUNT; t++)
		if (scalar[t].vec_dot)
			CHECK(scalar[t].gemm == NULL && tr(t)->vec_dot ==
			      scalar[t].vec_dot, "scalar table %u", t);
	for (level = LX_CPU_AVX2; level <= have && level < LX_CPU_LEVELS;
	     level++) {
		test_silu_mul(level);
		test_softmax_exp(level);
		lx_kernels_table((enum lx_cpu_level)level, simd);
		for (t = 0; t < LX_TYPE_COUNT; t++) {
			const struct lx_type_traits *tt = tr(t);

			if (!tt)
				continue;
			if (simd[t].vec_dot && simd[t].vec_dot !=
			    scalar[t].vec_dot) {
				test_vec_dot(level, &simd[t], t);
				test_gemm(level, &simd[t], t);
			} else if (simd[t].gemm) {
				test_gemm(level, &simd[t], t);
			}
			if (simd[t].from_float && simd[t].from_float !=
			    scalar[t].from_float)
				test_from_float(level, &simd[t], t);
			if (simd[t].to_float && simd[t].to_float !=
			    scalar[t].to_float)
				test_to_float(level, &simd[t], t);
		}
	}
	if (have == LX_CPU_SCALAR)
		printf("no SIMD level on this CPU (or LLAMUX_CPU=scalar): nothing to compare\n");
	return tl_finish("test_kernels");
}
