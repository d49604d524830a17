// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Weight quantizers: float rows to the block formats of core/quant.c.
 *
 * Each one follows the algorithm of ggml's reference quantizer for its type
 * (ggml-quants.c: quantize_row_q4_0_ref ... quantize_row_q6_K_ref, which is
 * what llama-quantize runs when it has no importance matrix), step by step
 * and in the same float operation order, so that a tensor quantized here has
 * the bytes llama.cpp would write. In outline:
 *
 *  - Q4_0/Q5_0: symmetric, the element of largest magnitude maps to -8/-16.
 *  - Q4_1/Q5_1: min/max range split into 15/31 steps.
 *  - Q8_0: amax / 127, rounded half away from zero.
 *  - Q2_K/Q4_K/Q5_K: per sub-block scale and min searched by weighted
 *    least squares over a grid of candidate scales (make_qkx2_quants), then
 *    scales and mins quantized to 4/6 bits against the super-block maximum
 *    and the quants recomputed with the rounded scales.
 *  - Q3_K: per 16 a symmetric scale refined by coordinate descent
 *    (make_q3_quants), 6-bit scales against the largest one.
 *  - Q6_K: per 16 the best of 19 candidate scales, weighted by x^2
 *    (make_qx_quants), int8 scales against the largest one.
 *
 * Rounding to nearest uses ggml's nearest_int() (add 1.5 * 2^23, read the
 * mantissa), i.e. ties to even. Where ggml converts a float to int8 with a
 * C cast, values out of range (only possible when a block's scale
 * overflows, i.e. all its values are subnormal) become 0, as the cast does
 * on x86, instead of being undefined.
 *
 * The loops run on vectors (GCC/Clang generic vectors) whose lanes each do
 * exactly the scalar operations, so the results do not change; the k-quant
 * searches, which dominate, are in quantize_kquants.h.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "quantize_weights.h"

#define QK 32
#define QK_K 256
#define GROUP_MAX_EPS 1e-15f

/* ---------------------------------------------------------------------- */
/* Helpers                                                                */
/* ---------------------------------------------------------------------- */

static inline void put_u16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void put_f16(uint8_t *p, float f)
{
	put_u16(p, lx_fp32_to_fp16(f));
}

static inline float get_f16(const uint8_t *p)
{
	return lx_fp16_to_fp32((uint16_t)(p[0] | p[1] << 8));
}

static inline int imin(int a, int b)
{
	return a < b ? a : b;
}

static inline int imax(int a, int b)
{
	return a > b ? a : b;
}

/* ggml's nearest_int(): exact for |f| <= 2^22, ties to even. */
static inline int nearest_int(float f)
{
	float v = f + 12582912.f;
	int32_t i;

	memcpy(&i, &v, sizeof(i));
	return (i & 0x007fffff) - 0x00400000;
}

bool lt_all_finite(const float *x, size_t n)
{
	size_t i;
	uint32_t u;

	for (i = 0; i < n; i++) {
		memcpy(&u, &x[i], sizeof(u));
		if ((u & 0x7f800000u) == 0x7f800000u)
			return false;
	}
	return true;
}

/* ---------------------------------------------------------------------- */
/* Four-lane vectors                                                      */
/* ---------------------------------------------------------------------- */

/*
 * Generic GCC/Clang vectors of four lanes (SSE2 on x86-64, NEON on arm64;
 * wider ones are lowered badly without AVX). Every lane does exactly the
 * scalar operations, so vector and scalar code give the same bits.
 */
typedef float vf4_t __attribute__((vector_size(16)));
typedef int32_t vi4_t __attribute__((vector_size(16)));
typedef float vf8_t __attribute__((vector_size(32)));
typedef int32_t vi8_t __attribute__((vector_size(32)));

/* The simple quants and the portable k-quant code use four lanes. */
#define LANES 4
#define vf_t vf4_t
#define vi_t vi4_t

#define VSEL(m, a, b) ((vf_t)(((vi_t)(a) & (m)) | ((vi_t)(b) & ~(m))))
#define ISEL(m, a, b) (((a) & (m)) | ((b) & ~(m)))
#define VABS(v) ((vf_t)((vi_t)(v) & 0x7fffffff))
/* nearest_int() in every lane */
#define VNEAREST(f) ((((vi_t)((f) + 12582912.f)) & 0x007fffff) - 0x00400000)
#define VFLOAT(v) __builtin_convertvector(v, vf_t)
/* (int)f, truncating, for lanes within int range */
#define VTRUNC(f) __builtin_convertvector(f, vi_t)

static inline void iclamp(vi_t *v, int lo, int hi)
{
	vi_t m = *v < lo;

	*v = ISEL(m, (vi_t){ 0 } + lo, *v);
	m = *v > hi;
	*v = ISEL(m, (vi_t){ 0 } + hi, *v);
}

/* ---------------------------------------------------------------------- */
/* Simple quants (blocks of 32)                                           */
/* ---------------------------------------------------------------------- */

/*
 * The element of largest magnitude, sign kept: the first one on ties, as
 * ggml's loop `if (amax < fabsf(v)) { amax = fabsf(v); max = v; }` finds it
 * (0 when all are zero).
 */
static float block_absmax(const float *x, float *amax_out)
{
	float amax = 0.0f;
	vf_t v, a = { 0 };
	int j;

	for (j = 0; j < QK; j += LANES) {
		memcpy(&v, x + j, sizeof(v));
		v = VABS(v);
		a = VSEL(v > a, v, a);
	}
	for (j = 0; j < LANES; j++)
		if (a[j] > amax)
			amax = a[j];
	*amax_out = amax;
	if (amax == 0.0f)
		return 0.0f;
	for (j = 0; fabsf(x[j]) != amax; j++)
		;
	return x[j];
}

/* Range [min, max] of a block (order does not matter for min and max). */
static void block_range(const float *x, float *min, float *max)
{
	vf_t v, lo, hi;
	int j;

	memcpy(&lo, x, sizeof(lo));
	hi = lo;
	for (j = LANES; j < QK; j += LANES) {
		memcpy(&v, x + j, sizeof(v));
		lo = VSEL(v < lo, v, lo);
		hi = VSEL(v > hi, v, hi);
	}
	*min = lo[0];
	*max = hi[0];
	for (j = 1; j < LANES; j++) {
		if (lo[j] < *min)
			*min = lo[j];
		if (hi[j] > *max)
			*max = hi[j];
	}
}

/* (int8_t)f as ggml's casts give it on x86: 0 when out of range or NaN. */
static inline vi_t int8_cast(vf_t f)
{
	const vf_t zero = { 0 };
	vi_t ok = (f > -129.0f) & (f < 128.0f);

	return VTRUNC(VSEL(ok, f, zero));
}

/*
 * q[j] = min(top, (int8_t)((x[j] - sub) * id + add)) for the 32 elements of
 * a block: the quantizing step of Q4_0, Q4_1, Q5_0 and Q5_1 (sub is 0 for
 * the symmetric ones, where (x - 0) * id equals x * id; the values are never
 * negative).
 */
static void block_quants(const float *x, float sub, float id, float add,
			 int top, int *q)
{
	vf_t v;
	vi_t t;
	int j, k;

	for (j = 0; j < QK; j += LANES) {
		memcpy(&v, x + j, sizeof(v));
		t = int8_cast((v - sub) * id + add);
		iclamp(&t, 0, top);
		for (k = 0; k < LANES; k++)
			q[j + k] = t[k];
	}
}

/* quantize_row_q4_0_ref: d = max / -8, q = x / d + 8 truncated after +0.5. */
static void quantize_q4_0(const float *x, uint8_t *y, size_t k)
{
	float amax, max, d, id;
	size_t i;
	int j, q[QK];

	for (i = 0; i < k / QK; i++, x += QK, y += 18) {
		max = block_absmax(x, &amax);
		d = max / -8;
		id = d != 0.0f ? 1.0f / d : 0.0f;
		put_f16(y, d);
		block_quants(x, 0.0f, id, 8.5f, 15, q);
		for (j = 0; j < QK / 2; j++)
			y[2 + j] = (uint8_t)(q[j] | q[j + QK / 2] << 4);
	}
}

/* quantize_row_q4_1_ref: x = d * q + m, d = (max - min) / 15. */
static void quantize_q4_1(const float *x, uint8_t *y, size_t k)
{
	float min, max, d, id;
	size_t i;
	int j, q[QK];

	for (i = 0; i < k / QK; i++, x += QK, y += 20) {
		block_range(x, &min, &max);
		d = (max - min) / ((1 << 4) - 1);
		id = d != 0.0f ? 1.0f / d : 0.0f;
		put_f16(y, d);
		put_f16(y + 2, min);
		block_quants(x, min, id, 0.5f, 15, q);
		for (j = 0; j < QK / 2; j++)
			y[4 + j] = (uint8_t)(q[j] | q[j + QK / 2] << 4);
	}
}

/* The low nibbles in qs, the fifth bits in the little-endian u32 qh. */
static void pack_q5(const int *q, uint8_t *qh_out, uint8_t *qs)
{
	uint32_t qh = 0;
	int j;

	for (j = 0; j < QK / 2; j++) {
		qs[j] = (uint8_t)((q[j] & 0xf) | (q[j + QK / 2] & 0xf) << 4);
		qh |= (uint32_t)((q[j] & 0x10) >> 4) << j;
		qh |= (uint32_t)((q[j + QK / 2] & 0x10) >> 4) << (j + QK / 2);
	}
	put_u32(qh_out, qh);
}

/* quantize_row_q5_0_ref: as Q4_0 with d = max / -16 and a fifth bit. */
static void quantize_q5_0(const float *x, uint8_t *y, size_t k)
{
	float amax, max, d, id;
	size_t i;
	int q[QK];

	for (i = 0; i < k / QK; i++, x += QK, y += 22) {
		max = block_absmax(x, &amax);
		d = max / -16;
		id = d != 0.0f ? 1.0f / d : 0.0f;
		put_f16(y, d);
		block_quants(x, 0.0f, id, 16.5f, 31, q);
		pack_q5(q, y + 2, y + 6);
	}
}

/*
 * quantize_row_q5_1_ref: as Q4_1 with 31 steps. ggml does not clamp here;
 * (x - min) / d + 0.5 stays below 32 for finite input, so clamping to 31
 * changes nothing.
 */
static void quantize_q5_1(const float *x, uint8_t *y, size_t k)
{
	float min, max, d, id;
	size_t i;
	int q[QK];

	for (i = 0; i < k / QK; i++, x += QK, y += 24) {
		block_range(x, &min, &max);
		d = (max - min) / ((1 << 5) - 1);
		id = d != 0.0f ? 1.0f / d : 0.0f;
		put_f16(y, d);
		put_f16(y + 2, min);
		block_quants(x, min, id, 0.5f, 31, q);
		pack_q5(q, y + 4, y + 8);
	}
}

/*
 * quantize_row_q8_0_ref: d = amax / 127, q = roundf(x / d). roundf (halves
 * away from zero) is done as truncation plus a correction when the dropped
 * fraction reaches one half: v - trunc(v) is exact for |v| < 2^23. An
 * infinite 1/d (subnormal block) gives 0, as in ggml on x86.
 */
static void quantize_q8_0(const float *x, uint8_t *y, size_t k)
{
	const vf_t zero = { 0 };
	float amax, d, id;
	size_t i;
	vf_t v, frac;
	vi_t q, ok;
	int j, l;

	for (i = 0; i < k / QK; i++, x += QK, y += 34) {
		block_absmax(x, &amax);
		d = amax / ((1 << 7) - 1);
		id = d != 0.0f ? 1.0f / d : 0.0f;
		put_f16(y, d);
		for (j = 0; j < QK; j += LANES) {
			memcpy(&v, x + j, sizeof(v));
			v *= id;
			ok = (v > -129.0f) & (v < 128.0f);
			q = VTRUNC(VSEL(ok, v, zero));
			frac = v - VFLOAT(q);
			q -= frac >= 0.5f;	/* masks are -1 where true */
			q += frac <= -0.5f;
			q &= ok;
			for (l = 0; l < LANES; l++)
				y[2 + j + l] = (uint8_t)(int8_t)q[l];
		}
	}
}

/* ---------------------------------------------------------------------- */
/* F16 and BF16 rows                                                      */
/* ---------------------------------------------------------------------- */

static void f16_row(const float *x, uint8_t *y, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		put_u16(y + 2 * i, lx_fp32_to_fp16(x[i]));
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#include <pthread.h>

#include "platform.h"

/*
 * F16C's conversion rounds to nearest even like lx_fp32_to_fp16; only NaN
 * payloads could differ, so blocks holding a NaN take the scalar path.
 */
__attribute__((target("avx,f16c")))
static void f16_row_f16c(const float *x, uint8_t *y, size_t n)
{
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		__m256 v = _mm256_loadu_ps(x + i);

		if (_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)))
			f16_row(x + i, y + 2 * i, 8);
		else
			_mm_storeu_si128((__m128i *)(void *)(y + 2 * i),
					 _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT |
							    _MM_FROUND_NO_EXC));
	}
	f16_row(x + i, y + 2 * i, n - i);
}

static bool has_avx2;
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

/*
 * lx_host_cpu_level() >= 1: AVX2, FMA and F16C, enabled by the OS (and not
 * turned off with LLAMUX_CPU=scalar).
 */
static void detect_cpu(void)
{
	has_avx2 = lx_host_cpu_level() >= 1;
}

static bool avx2(void)
{
	pthread_once(&cpu_once, detect_cpu);
	return has_avx2;
}

static void to_f16(const float *x, uint8_t *y, size_t n)
{
	if (avx2())
		f16_row_f16c(x, y, n);
	else
		f16_row(x, y, n);
}
#else
static bool avx2(void)
{
	return false;
}

static void to_f16(const float *x, uint8_t *y, size_t n)
{
	f16_row(x, y, n);
}
#endif

/* ggml_fp32_to_bf16: round to nearest even; NaN kept quiet. */
static void to_bf16(const float *x, uint8_t *y, size_t n)
{
	uint32_t u;
	size_t i;

	for (i = 0; i < n; i++) {
		memcpy(&u, &x[i], sizeof(u));
		if ((u & 0x7fffffffu) > 0x7f800000u)
			u = (u >> 16) | 64;
		else
			u = (u + 0x7fff + ((u >> 16) & 1)) >> 16;
		put_u16(y + 2 * i, u);
	}
}

/* ---------------------------------------------------------------------- */
/* k-quants                                                               */
/* ---------------------------------------------------------------------- */

/* Packs 2-bit quants as Q2_K/Q3_K store them (core/quant.c). */
static void pack_2bit(const uint8_t *L, uint8_t *qs)
{
	int j, l;

	for (j = 0; j < QK_K; j += 128)
		for (l = 0; l < 32; l++)
			qs[j / 4 + l] = (uint8_t)(L[j + l] | L[j + l + 32] << 2 |
						  L[j + l + 64] << 4 |
						  L[j + l + 96] << 6);
}

/* Q4_K/Q5_K's 6-bit scale and min of sub-block j (get_scale_min_k4). */
static void get_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m)
{
	if (j < 4) {
		*d = q[j] & 63;
		*m = q[j + 4] & 63;
	} else {
		*d = (uint8_t)((q[j + 4] & 0xf) | (q[j - 4] >> 6) << 4);
		*m = (uint8_t)((q[j + 4] >> 4) | (q[j] >> 6) << 4);
	}
}

/*
 * ggml's searches (make_qkx2_quants, make_q3_quants, make_qx_quants) run
 * once per sub-block, each a long chain of dependent float additions.
 * quantize_kquants.h runs them on LANES sub-blocks at once, lane j holding
 * sub-block j, every lane doing exactly the scalar algorithm's operations
 * in its order, so that the results are bit for bit ggml's. It is compiled
 * twice: four lanes for any CPU, eight for AVX2.
 */
#define FN(name) name##_x4
#define TARGET
#include "quantize_kquants.h"
#undef FN
#undef TARGET
#undef LANES
#undef vf_t
#undef vi_t

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_X8 1
#define LANES 8
#define vf_t vf8_t
#define vi_t vi8_t
#define FN(name) name##_x8
#define TARGET __attribute__((target("avx2")))
#include "quantize_kquants.h"
#undef FN
#undef TARGET
#undef LANES
#undef vf_t
#undef vi_t
#endif

/* ---------------------------------------------------------------------- */
/* Dispatch                                                               */
/* ---------------------------------------------------------------------- */

bool lt_can_quantize(uint32_t type)
{
	switch (type) {
	case LX_TYPE_F32: case LX_TYPE_F16: case LX_TYPE_BF16:
	case LX_TYPE_Q4_0: case LX_TYPE_Q4_1: case LX_TYPE_Q5_0:
	case LX_TYPE_Q5_1: case LX_TYPE_Q8_0: case LX_TYPE_Q2_K:
	case LX_TYPE_Q3_K: case LX_TYPE_Q4_K: case LX_TYPE_Q5_K:
	case LX_TYPE_Q6_K:
		return true;
	default:
		return false;
	}
}

uint64_t lt_row_bytes(enum lx_type type, uint64_t n)
{
	const struct lx_type_traits *tt = lx_type_traits(type);

	return n / tt->block_size * tt->type_size;
}

/* The eight-lane AVX2 instance where the CPU has it. */
#ifdef HAVE_X8
#define KQUANT(name) (avx2() ? name##_x8 : name##_x4)
#else
#define KQUANT(name) name##_x4
#endif

void lt_quantize_row(enum lx_type type, const float *src, void *dst, size_t n)
{
	uint8_t *y = dst;

	switch (type) {
	case LX_TYPE_F32:
		memcpy(dst, src, n * sizeof(float));
		break;
	case LX_TYPE_F16:
		to_f16(src, y, n);
		break;
	case LX_TYPE_BF16:
		to_bf16(src, y, n);
		break;
	case LX_TYPE_Q4_0:
		quantize_q4_0(src, y, n);
		break;
	case LX_TYPE_Q4_1:
		quantize_q4_1(src, y, n);
		break;
	case LX_TYPE_Q5_0:
		quantize_q5_0(src, y, n);
		break;
	case LX_TYPE_Q5_1:
		quantize_q5_1(src, y, n);
		break;
	case LX_TYPE_Q8_0:
		quantize_q8_0(src, y, n);
		break;
	case LX_TYPE_Q2_K:
		KQUANT(quantize_q2_k)(src, y, n);
		break;
	case LX_TYPE_Q3_K:
		KQUANT(quantize_q3_k)(src, y, n);
		break;
	case LX_TYPE_Q4_K:
		KQUANT(quantize_q4_k)(src, y, n);
		break;
	case LX_TYPE_Q5_K:
		KQUANT(quantize_q5_k)(src, y, n);
		break;
	case LX_TYPE_Q6_K:
		KQUANT(quantize_q6_k)(src, y, n);
		break;
	default:
		break;
	}
}
