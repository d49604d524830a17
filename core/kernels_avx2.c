// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * AVX2 + FMA + F16C kernels (compiled with those flags only in this file;
 * used only when the host reports the CPU level): dot products and gemm
 * tiles for every supported weight type, the activation quantizers and the
 * dequantizers used for embeddings.
 *
 * Integer dot products follow ggml's x86 code: vpmaddubsw multiplies
 * unsigned by signed bytes into pairs of int16, vpmaddwd widens (or scales)
 * them into int32. Each block's integer sum is exact, so it equals the
 * scalar reference's; only its float scaling and the order of the float
 * additions differ (see kernels.h for why gemm and vec_dot share them).
 * The 8-bit quants must lie in -127..127, as every quantizer makes them:
 * the sign trick and vpmaddubsw's int16 saturation need it.
 */
#include "kernels_x86.h"
#include "mathfn.h"

/* Block layouts (see quant.c): byte offsets of the fields. */
#define Q4_0_SIZE 18	/* d, qs[16] */
#define Q4_1_SIZE 20	/* d, m, qs[16] */
#define Q5_0_SIZE 22	/* d, qh[4], qs[16] */
#define Q5_1_SIZE 24	/* d, m, qh[4], qs[16] */
#define Q8_0_SIZE 34	/* d, qs[32] */
#define Q8_1_SIZE 36	/* d, s, qs[32] */
#define Q8_K_SIZE 292	/* float d, qs[256], int16 bsums[16] */
#define Q8_K_QS 4
#define Q8_K_BSUMS 260

/* ---------------------------------------------------------------------- */
/* Byte helpers                                                           */
/* ---------------------------------------------------------------------- */

static inline __m256i loadu256(const uint8_t *p)
{
	return _mm256_loadu_si256((const __m256i *)p);
}

static inline __m128i loadu128(const uint8_t *p)
{
	return _mm_loadu_si128((const __m128i *)p);
}

/* 16 packed bytes -> 32 nibbles in element order: low nibbles, then high. */
static inline __m256i nibbles32(const uint8_t *p)
{
	__m128i v = loadu128(p);

	return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(v, 4), v),
				_mm256_set1_epi8(0x0f));
}

/* 0xff in byte j where bit j of qh is set (the fifth bit of Q5 quants). */
static inline __m256i bits32(uint32_t qh)
{
	const __m256i spread = _mm256_setr_epi64x(0, 0x0101010101010101ll,
						  0x0202020202020202ll,
						  0x0303030303030303ll);
	const __m256i bit = _mm256_set1_epi64x(0x8040201008040201ll);
	__m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh), spread);

	return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
}

/* Sum of unsigned x signed byte products, in 8 int32 lanes. */
static inline __m256i dot_u8s8(__m256i u, __m256i s)
{
	return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s),
				 _mm256_set1_epi16(1));
}

/* ---------------------------------------------------------------------- */
/* F32, F16, BF16                                                         */
/* ---------------------------------------------------------------------- */

/*
 * Two accumulators of 8 lanes per output (16 elements a step) give vec_dot
 * two independent FMA chains; tiles of 3 rows x 2 tokens then use 12 of the
 * 16 registers for accumulators. The last n % 16 elements go through the
 * same step, zero-padded.
 */
enum { FT_F32, FT_F16, FT_BF16 };
#define FT_RM 3
#define FT_TN 2

static inline size_t ft_size(const int type)
{
	return type == FT_F32 ? 4 : 2;
}

/* 8 halves or bfloat16s to floats */
static inline LXK_ALWAYS __m256 ft_conv8(const int type, __m128i v)
{
	if (type == FT_F16)
		return _mm256_cvtph_ps(v);
	/* bfloat16 is the top half of a float */
	return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(v),
						     16));
}

static inline LXK_ALWAYS __m256 ft_load8(const int type, const uint8_t *p)
{
	if (type == FT_F32)
		return _mm256_loadu_ps((const float *)p);
	return ft_conv8(type, loadu128(p));
}

/*
 * The first m (< 8 ok, or more) of 8 elements at p, zeros after: masked
 * loads or bytes gathered in two general registers, never reading past
 * the row.
 */
static inline LXK_ALWAYS __m256 ft_load_part(const int type, const uint8_t *p,
					     size_t m)
{
	uint64_t lo = 0, hi = 0;
	size_t bytes;

	if (m >= 8)
		return ft_load8(type, p);
	if (type == FT_F32)
		return _mm256_maskload_ps((const float *)p, _mm256_cmpgt_epi32(
			_mm256_set1_epi32((int)m),
			_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
	bytes = 2 * m;
	memcpy(&lo, p, bytes < 8 ? bytes : 8);
	if (bytes > 8)
		memcpy(&hi, p + 8, bytes - 8);
	return ft_conv8(type, _mm_set_epi64x((long long)hi, (long long)lo));
}

static inline LXK_ALWAYS void ft_tile(const int type, const int R, const int T,
				      size_t n, const uint8_t *w, size_t ws,
				      const uint8_t *x, size_t xs, float *out,
				      size_t os, bool accumulate)
{
	const size_t es = ft_size(type);
	__m256 acc[2][FT_RM][FT_TN] LXK_NOINIT, xv[FT_TN] LXK_NOINIT, wv;
	size_t i;
	int r, t, k;

#pragma GCC unroll 16
	for (k = 0; k < 2; k++)
#pragma GCC unroll 16
	for (r = 0; r < R; r++)
#pragma GCC unroll 16
	for (t = 0; t < T; t++)
		acc[k][r][t] = _mm256_setzero_ps();
	for (i = 0; i + 16 <= n; i += 16) {
#pragma GCC unroll 16
		for (k = 0; k < 2; k++) {
#pragma GCC unroll 16
			for (t = 0; t < T; t++)
				xv[t] = ft_load8(type, x + t * xs +
						 (i + 8 * k) * es);
#pragma GCC unroll 16
			for (r = 0; r < R; r++) {
				wv = ft_load8(type, w + r * ws +
					      (i + 8 * k) * es);
#pragma GCC unroll 16
				for (t = 0; t < T; t++)
					acc[k][r][t] = _mm256_fmadd_ps(
						wv, xv[t], acc[k][r][t]);
			}
		}
	}
	if (i < n) {
		const size_t rem = n - i;

#pragma GCC unroll 16
		for (r = 0; r < R; r++)
#pragma GCC unroll 16
		for (t = 0; t < T; t++)
#pragma GCC unroll 16
		for (k = 0; k < 2; k++) {
			const size_t o = (i + 8 * k) * es;
			const size_t m = rem < 8 * (size_t)k ? 0 :
					 rem - 8 * (size_t)k;

			acc[k][r][t] = _mm256_fmadd_ps(
				ft_load_part(type, w + r * ws + o, m),
				ft_load_part(type, x + t * xs + o, m),
				acc[k][r][t]);
		}
	}
#pragma GCC unroll 16
	for (r = 0; r < R; r++)
#pragma GCC unroll 16
	for (t = 0; t < T; t++)
		lxk_put(out, os, r, t,
			lxk_hsum8(_mm256_add_ps(acc[0][r][t], acc[1][r][t])),
			accumulate);
}

#define FT_TILE(name, type)						\
static inline LXK_ALWAYS void name##_tile(const int R, const int T,	\
					  size_t n, const uint8_t *w,	\
					  size_t ws, const uint8_t *x,	\
					  size_t xs, float *out,	\
					  size_t os, bool accumulate)	\
{									\
	ft_tile(type, R, T, n, w, ws, x, xs, out, os, accumulate);	\
}									\
LXK_GEMM(name, name##_tile, 1, FT_RM, FT_TN)

FT_TILE(f32, FT_F32)
FT_TILE(f16, FT_F16)
FT_TILE(bf16, FT_BF16)

/* ---------------------------------------------------------------------- */
/* Simple quants with signed values: Q4_0, Q5_0, Q8_0 (. Q8_0)            */
/* ---------------------------------------------------------------------- */

/*
 * Per block and output: the sign trick (|w| as unsigned, x with w's sign)
 * for vpmaddubsw, widening to int32, conversion, and one FMA with the
 * product of the two fp16 scales. A 2 x 2 tile keeps the two rows' |w|, w
 * and scale, the current token's quants and scale, and four accumulators
 * in the 16 registers.
 */
enum { SQ_Q4_0, SQ_Q5_0, SQ_Q8_0 };
#define SQ_RM 2
#define SQ_TN 2

static inline size_t sq_size(const int type)
{
	return type == SQ_Q4_0 ? Q4_0_SIZE :
	       type == SQ_Q5_0 ? Q5_0_SIZE : Q8_0_SIZE;
}

/* A block's 32 quants as signed bytes, in element order. */
static inline LXK_ALWAYS __m256i sq_quants(const int type, const uint8_t *b)
{
	if (type == SQ_Q8_0)
		return loadu256(b + 2);
	if (type == SQ_Q4_0)
		return _mm256_sub_epi8(nibbles32(b + 2), _mm256_set1_epi8(8));
	/* Q5_0: q - 16 is the nibble, less 16 where the fifth bit is clear */
	return _mm256_or_si256(nibbles32(b + 6),
			       _mm256_andnot_si256(bits32(lxk_u32(b + 2)),
						   _mm256_set1_epi8((char)0xf0)));
}

static inline LXK_ALWAYS void sq_tile(const int type, const int R, const int T,
				      size_t nb, const uint8_t *w, size_t ws,
				      const uint8_t *x, size_t xs, float *out,
				      size_t os, bool accumulate)
{
	const size_t bs = sq_size(type);
	__m256 acc[SQ_RM][SQ_TN] LXK_NOINIT, dw[SQ_RM] LXK_NOINIT, dx, f;
	__m256i sw[SQ_RM] LXK_NOINIT, aw[SQ_RM] LXK_NOINIT, xq;
	size_t i;
	int r, t;

#pragma GCC unroll 16
	for (r = 0; r < R; r++)
#pragma GCC unroll 16
	for (t = 0; t < T; t++)
		acc[r][t] = _mm256_setzero_ps();
	for (i = 0; i < nb; i++) {
#pragma GCC unroll 16
		for (r = 0; r < R; r++) {
			const uint8_t *b = w + r * ws + i * bs;

			sw[r] = sq_quants(type, b);
			aw[r] = _mm256_abs_epi8(sw[r]);
			dw[r] = lxk_f16x8(b);
		}
#pragma GCC unroll 16
		for (t = 0; t < T; t++) {
			const uint8_t *b = x + t * xs + i * Q8_0_SIZE;

			xq = loadu256(b + 2);
			dx = lxk_f16x8(b);
#pragma GCC unroll 16
			for (r = 0; r < R; r++) {
				f = _mm256_cvtepi32_ps(dot_u8s8(aw[r],
						_mm256_sign_epi8(xq, sw[r])));
				acc[r][t] = _mm256_fmadd_ps(
					_mm256_mul_ps(dw[r], dx), f, acc[r][t]);
			}
		}
	}
#pragma GCC unroll 16
	for (r = 0; r < R; r++)
#pragma GCC unroll 16
	for (t = 0; t < T; t++)
		lxk_put(out, os, r, t, lxk_hsum8(acc[r][t]), accumulate);
}

#define SQ_TILE(name, type)						\
static inline LXK_ALWAYS void name##_tile(const int R, const int T,	\
					  size_t nb, const uint8_t *w,	\
					  size_t ws, const uint8_t *x,	\
					  size_t xs, float *out,	\
					  size_t os, bool accumulate)	\
{									\
	sq_tile(type, R, T, nb, w, ws, x, xs, out, os, accumulate);	\
}									\
LXK_GEMM(name, name##_tile, LX_QK, SQ_RM, SQ_TN)

SQ_TILE(q4_0, SQ_Q4_0)
SQ_TILE(q5_0, SQ_Q5_0)
SQ_TILE(q8_0, SQ_Q8_0)

/* ---------------------------------------------------------------------- */
/* Simple quants with an offset: Q4_1, Q5_1 (. Q8_1)                      */
/* ---------------------------------------------------------------------- */

/*
 * Quants are unsigned, so vpmaddubsw takes them as they are; the offset m
 * meets the activation block's s = d * sum(q) once per block, summed in a
 * float of its own and added after the horizontal sum.
 */
enum { UQ_Q4_1, UQ_Q5_1 };
#define UQ_RM 2
#define UQ_TN 2

static inline LXK_ALWAYS void uq_tile(const int type, const int R, const int T,
				      size_t nb, const uint8_t *w, size_t ws,
				      const uint8_t *x, size_t xs, float *out,
				      size_t os, bool accumulate)
{
	const size_t bs = type == UQ_Q4_1 ? Q4_1_SIZE : Q5_1_SIZE;
	__m256 acc[UQ_RM][UQ_TN] LXK_NOINIT, dw[UQ_RM] LXK_NOINIT, dx, f;
	float accm[UQ_RM][UQ_TN] LXK_NOINIT, mw[UQ_RM] LXK_NOINIT, sx;
	__m256i uw[UQ_RM] LXK_NOINIT, xq;
	size_t i;
	int r, t;

#pragma GCC unroll 16
	for (r = 0; r < R; r++)
#pragma GCC unroll 16
	for (t = 0; t < T; t++) {
		acc[r][t] = _mm256_setzero_ps();
		accm[r][t] = 0.0f;
	}
	for (i = 0; i < nb; i++) {
#pragma GCC unroll 16
		for (r = 0; r < R; r++) {
			const uint8_t *b = w + r * ws + i * bs;

			if (type == UQ_Q4_1)
				uw[r] = nibbles32(b + 4);
			else
				uw[r] = _mm256_or_si256(nibbles32(b + 8),
					_mm256_and_si256(bits32(lxk_u32(b + 4)),
						_mm256_set1_epi8(0x10)));
			dw[r] = lxk_f16x8(b);
			mw[r] = lxk_f16(b + 2);
		}
#pragma GCC unroll 16
		for (t = 0; t < T; t++) {
			const uint8_t *b = x + t * xs + i * Q8_1_SIZE;

			xq = loadu256(b + 4);
			dx = lxk_f16x8(b);
			sx = lxk_f16(b + 2);
#pragma GCC unroll 16
			for (r = 0; r < R; r++) {
				f = _mm256_cvtepi32_ps(dot_u8s8(uw[r], xq));
				acc[r][t] = _mm256_fmadd_ps(
					_mm256_mul_ps(dw[r], dx), f, acc[r][t]);
				accm[r][t] += mw[r] * sx;
			}
		}
	}
#pragma GCC unroll 16
	for (r = 0; r < R; r++)
#pragma GCC unroll 16
	for (t = 0; t < T; t++)
		lxk_put(out, os, r, t, lxk_hsum8(acc[r][t]) + accm[r][t],
			accumulate);
}

#define UQ_TILE(name, type)						\
static inline LXK_ALWAYS void name##_tile(const int R, const int T,	\
					  size_t nb, const uint8_t *w,	\
					  size_t ws, const uint8_t *x,	\
					  size_t xs, float *out,	\
					  size_t os, bool accumulate)	\
{									\
	uq_tile(type, R, T, nb, w, ws, x, xs, out, os, accumulate);	\
}									\
LXK_GEMM(name, name##_tile, LX_QK, UQ_RM, UQ_TN)

UQ_TILE(q4_1, UQ_Q4_1)
UQ_TILE(q5_1, UQ_Q5_1)

/* ---------------------------------------------------------------------- */
/* k-quants: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (. Q8_K)                        */
/* ---------------------------------------------------------------------- */

/*
 * A super-block is eight chunks of 32 elements. Each chunk's quants are
 * made unsigned (Q3_K and Q6_K carry an offset of 4 and 32), multiplied
 * with the activations by vpmaddubsw and scaled by vpmaddwd with the
 * chunk's sub-block scales, all into one int32 vector per output. The
 * offsets and the mins come from the Q8_K block's sums of 16 activations:
 * sum(sc * (q - o) * x) = sum(sc * q * x) - o * sum(sc * bsum), and the
 * min term is dmin * sum(m * bsum). Only then do the floats come in.
 *
 * Scales are kept as int16 in one register per row: for 32-element
 * sub-blocks (Q4_K, Q5_K) the eight of them in both lanes; for 16-element
 * ones the even sub-blocks in the low lane and the odd in the high lane,
 * because a chunk's low lane holds sub-block 2k and its high lane 2k + 1.
 * Either way one vpshufb with the same control gives chunk k's scales.
 */
#define KQ_RM 2
#define KQ_TN 2

/* 16 signed bytes -> int16: even ones in the low lane, odd in the high. */
static inline __m256i evens_odds_i16(__m128i b)
{
	const __m128i split = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14,
					    1, 3, 5, 7, 9, 11, 13, 15);

	return _mm256_cvtepi8_epi16(_mm_shuffle_epi8(b, split));
}

/* Sets up *rs and returns the chunk scales (see above). */
static inline LXK_ALWAYS __m256i kq_row_setup(const int type, const uint8_t *b,
					      struct kq_row *rs)
{
	__m128i v;

	switch (type) {
	case KQ_Q2_K:
		v = loadu128(b);
		rs->lo = (uint64_t)_mm_cvtsi128_si64(v);
		rs->hi = (uint64_t)_mm_extract_epi64(v, 1);
		rs->d = lxk_f16(b + 80);
		rs->dmin = lxk_f16(b + 82);
		return evens_odds_i16(_mm_and_si128(v, _mm_set1_epi8(0x0f)));
	case KQ_Q3_K:
		k3_scales(b + 96, &rs->lo, &rs->hi);
		rs->d = lxk_f16(b + 108);
		return evens_odds_i16(_mm_sub_epi8(kq_bytes(rs),
						   _mm_set1_epi8(32)));
	case KQ_Q4_K:
	case KQ_Q5_K:
		v = _mm_cvtsi64_si128((long long)k4_scales(b + 4, &rs->lo));
		rs->hi = 0;
		rs->d = lxk_f16(b);
		rs->dmin = lxk_f16(b + 2);
		return _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(v));
	default:	/* Q6_K: int8 scales */
		v = loadu128(b + 192);
		rs->lo = (uint64_t)_mm_cvtsi128_si64(v);
		rs->hi = (uint64_t)_mm_extract_epi64(v, 1);
		rs->d = lxk_f16(b + 208);
		return evens_odds_i16(v);
	}
}

/*
 * Bits [lo, lo + width) of each byte moved to bits [to, to + width):
 * 16-bit shifts are fine since no wanted bit crosses a byte.
 */
static inline LXK_ALWAYS __m256i bitfield(__m256i v, const int lo, const int to,
					  const int mask)
{
	if (to > lo)
		v = _mm256_slli_epi16(v, to - lo);
	else if (lo > to)
		v = _mm256_srli_epi16(v, lo - to);
	return _mm256_and_si256(v, _mm256_set1_epi8((char)mask));
}

/* Chunk k's 32 quants, unsigned (offset included), in element order. */
static inline LXK_ALWAYS __m256i kq_quants(const int type, const uint8_t *b,
					   const int k)
{
	__m256i lo;

	switch (type) {
	case KQ_Q2_K:
		return bitfield(loadu256(b + 16 + 32 * (k / 4)), 2 * (k % 4),
				0, 0x03);
	case KQ_Q3_K:
		lo = bitfield(loadu256(b + 32 + 32 * (k / 4)), 2 * (k % 4),
			      0, 0x03);
		return _mm256_or_si256(lo, bitfield(loadu256(b), k, 2, 0x04));
	case KQ_Q4_K:
		return bitfield(loadu256(b + 16 + 32 * (k / 2)), 4 * (k % 2),
				0, 0x0f);
	case KQ_Q5_K:
		lo = bitfield(loadu256(b + 48 + 32 * (k / 2)), 4 * (k % 2),
			      0, 0x0f);
		return _mm256_or_si256(lo, bitfield(loadu256(b + 16), k, 4,
						    0x10));
	default:	/* Q6_K: half h = k / 4, group g = k % 4 */
		lo = bitfield(loadu256(b + 64 * (k / 4) + 32 * (k % 2)),
			      4 * ((k % 4) / 2), 0, 0x0f);
		return _mm256_or_si256(lo, bitfield(loadu256(b + 128 +
							     32 * (k / 4)),
						    2 * (k % 4), 4, 0x30));
	}
}

/* Chunk k's scales from struct kq_row.sc: int16 pair k of each lane. */
static inline LXK_ALWAYS __m256i kq_scales(__m256i sc, const int k)
{
	return _mm256_shuffle_epi8(sc, _mm256_set1_epi16(
		(short)(0x0100 + 0x0202 * k)));
}

/*
 * The float side follows ggml's AVX2 vec_dot for each type exactly, since
 * llama.cpp's batches reach those functions (tinyBLAS has no k-quants) and
 * a result an ulp apart can flip an activation's Q8 rounding downstream.
 * Per super-block, with d = dx * d_w and dmin = dx * dmin_w:
 *   Q3_K, Q6_K: acc += d * isum (8 lanes), the offsets taken per element
 *               in the integer sums (see kq_signed());
 *   Q2_K:       acc -= dmin * (m * bsum in 8 lanes), then acc += d * isum;
 *   Q4_K:       acc += d * isum, and a separate 4-lane accm -= dmin * (min
 *               times the sum of a 32-element sub-block, two a lane);
 *   Q5_K:       acc += d * isum, and a scalar summs -= dmin * sum(m * bsum)
 *               (one FMA: ggml's C expression, contracted by the compiler).
 * The result is hsum8(acc), plus hsum4(accm) for Q4_K or summs for Q5_K.
 */
struct kq_acc {
	__m256 acc;
	__m128 accm;
	float summs;
};

/* Q3_K and Q6_K multiply signed quants (offset removed) by the sign trick. */
static inline LXK_ALWAYS bool kq_signed(const int type)
{
	return type == KQ_Q3_K || type == KQ_Q6_K;
}

static inline LXK_ALWAYS void kq_finish(const int type,
					const struct kq_row *rs,
					const uint8_t *xb, __m256i isum,
					struct kq_acc *a)
{
	const __m256i bsums = loadu256(xb + Q8_K_BSUMS);
	const float dx = lxk_f32(xb);
	const __m256 d = _mm256_set1_ps(rs->d * dx);
	__m128i mn = kq_bytes(rs), p4;
	__m256i m;

	if (kq_signed(type)) {
		a->acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(isum), a->acc);
		return;
	}
	if (type == KQ_Q2_K) {	/* mins are the high nibbles */
		m = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(mn, 4),
						       _mm_set1_epi8(0x0f)));
		a->acc = _mm256_fnmadd_ps(_mm256_set1_ps(rs->dmin * dx),
				_mm256_cvtepi32_ps(_mm256_madd_epi16(m, bsums)),
				a->acc);
		a->acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(isum), a->acc);
		return;
	}
	/* Q4_K, Q5_K: min s times bsums 2s and 2s + 1, lanes paired up */
	m = _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mn, mn)),
			      bsums);
	p4 = _mm_hadd_epi32(_mm256_castsi256_si128(m),
			    _mm256_extracti128_si256(m, 1));
	a->acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(isum), a->acc);
	if (type == KQ_Q4_K) {
		a->accm = _mm_fnmadd_ps(_mm_set1_ps(rs->dmin * dx),
					_mm_cvtepi32_ps(p4), a->accm);
		return;
	}
	p4 = _mm_add_epi32(p4, _mm_unpackhi_epi64(p4, p4));
	p4 = _mm_add_epi32(p4, _mm_shuffle_epi32(p4, 1));
	a->summs = _mm_cvtss_f32(_mm_fnmadd_ss(_mm_set_ss(rs->dmin * dx),
					       _mm_cvtepi32_ps(p4),
					       _mm_set_ss(a->summs)));
}

static inline LXK_ALWAYS float kq_result(const int type,
					 const struct kq_acc *a)
{
	__m128 m = a->accm;

	if (type == KQ_Q5_K)
		return lxk_hsum8(a->acc) + a->summs;
	if (type != KQ_Q4_K)
		return lxk_hsum8(a->acc);
	m = _mm_add_ps(m, _mm_movehl_ps(m, m));
	m = _mm_add_ss(m, _mm_movehdup_ps(m));
	return lxk_hsum8(a->acc) + _mm_cvtss_f32(m);
}

static inline LXK_ALWAYS void kq_tile(const int type, const int R, const int T,
				      size_t nb, const uint8_t *w, size_t ws,
				      const uint8_t *x, size_t xs, float *out,
				      size_t os, bool accumulate)
{
	const size_t bs = kq_size(type);
	struct kq_acc acc[KQ_RM][KQ_TN] LXK_NOINIT;
	__m256i isum[KQ_RM][KQ_TN] LXK_NOINIT, sc[KQ_RM] LXK_NOINIT, q, aq, scv;
	struct kq_row rs[KQ_RM] LXK_NOINIT;
	size_t i;
	int r, t, k;

#pragma GCC unroll 16
	for (r = 0; r < R; r++)
#pragma GCC unroll 16
	for (t = 0; t < T; t++) {
		acc[r][t].acc = _mm256_setzero_ps();
		acc[r][t].accm = _mm_setzero_ps();
		acc[r][t].summs = 0.0f;
	}
	for (i = 0; i < nb; i++) {
#pragma GCC unroll 16
		for (r = 0; r < R; r++) {
			sc[r] = kq_row_setup(type, w + r * ws + i * bs, &rs[r]);
#pragma GCC unroll 16
			for (t = 0; t < T; t++)
				isum[r][t] = _mm256_setzero_si256();
		}
#pragma GCC unroll 16
		for (k = 0; k < 8; k++) {
#pragma GCC unroll 16
			for (r = 0; r < R; r++) {
				q = kq_quants(type, w + r * ws + i * bs, k);
				if (kq_signed(type)) {
					q = _mm256_sub_epi8(q, _mm256_set1_epi8(
						type == KQ_Q3_K ? 4 : 32));
					aq = _mm256_abs_epi8(q);
				} else {
					aq = q;
				}
				scv = kq_scales(sc[r], k);
#pragma GCC unroll 16
				for (t = 0; t < T; t++) {
					const uint8_t *xq = x + t * xs +
						i * Q8_K_SIZE + Q8_K_QS;
					__m256i xv = loadu256(xq + 32 * k);

					if (kq_signed(type))
						xv = _mm256_sign_epi8(xv, q);
					isum[r][t] = _mm256_add_epi32(
						isum[r][t],
						_mm256_madd_epi16(
						_mm256_maddubs_epi16(aq, xv),
						scv));
				}
			}
		}
#pragma GCC unroll 16
		for (r = 0; r < R; r++)
#pragma GCC unroll 16
		for (t = 0; t < T; t++)
			kq_finish(type, &rs[r], x + t * xs + i * Q8_K_SIZE,
				  isum[r][t], &acc[r][t]);
	}
#pragma GCC unroll 16
	for (r = 0; r < R; r++)
#pragma GCC unroll 16
	for (t = 0; t < T; t++)
		lxk_put(out, os, r, t, kq_result(type, &acc[r][t]),
			accumulate);
}

#define KQ_TILE(name, type)						\
static inline LXK_ALWAYS void name##_tile(const int R, const int T,	\
					  size_t nb, const uint8_t *w,	\
					  size_t ws, const uint8_t *x,	\
					  size_t xs, float *out,	\
					  size_t os, bool accumulate)	\
{									\
	kq_tile(type, R, T, nb, w, ws, x, xs, out, os, accumulate);	\
}									\
LXK_GEMM(name, name##_tile, LX_QK_K, KQ_RM, KQ_TN)

KQ_TILE(q2_k, KQ_Q2_K)
KQ_TILE(q3_k, KQ_Q3_K)
KQ_TILE(q4_k, KQ_Q4_K)
KQ_TILE(q5_k, KQ_Q5_K)
KQ_TILE(q6_k, KQ_Q6_K)

/* ---------------------------------------------------------------------- */
/* Activation quantizers: Q8_0, Q8_1, Q8_K, F16, BF16                     */
/* ---------------------------------------------------------------------- */

/*
 * These must write exactly the scalar quantizers' bytes: the same float
 * operations in the same order (scale, its reciprocal, one multiply per
 * element), the same rounding and the same saturation, so that which level
 * quantized the activations never shows in a result.
 */

/* Largest |src[j]| of 32; NaNs as the scalar LX_MAX chain treats them. */
static float amax32(const float *src)
{
	const __m256 abs = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	__m256 v, m = _mm256_setzero_ps(), nan = _mm256_setzero_ps();
	__m128 h;
	float amax;
	int j;

	for (j = 0; j < 32; j += 8) {
		v = _mm256_loadu_ps(src + j);
		nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
		m = _mm256_max_ps(_mm256_and_ps(v, abs), m);
	}
	if (_mm256_movemask_ps(nan)) {
		/* a NaN restarts the scalar chain (max(a, b) = a > b ? a : b) */
		amax = 0.0f;
		for (j = 0; j < 32; j++) {
			float a = _mm_cvtss_f32(_mm_and_ps(_mm_set_ss(src[j]),
				_mm256_castps256_ps128(abs)));

			amax = amax > a ? amax : a;
		}
		return amax;
	}
	h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
	h = _mm_max_ps(h, _mm_movehl_ps(h, h));
	h = _mm_max_ss(h, _mm_movehdup_ps(h));
	return _mm_cvtss_f32(h);
}

/*
 * round_even_i8 of quant.c on 8 lanes: NaN to 0, then the rounding, then
 * saturation to -128..127 (the same as saturating first, since the bounds
 * are integers).
 */
static inline __m256i round_even8(__m256 v)
{
	v = _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q));
	v = _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	v = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-128.0f)),
			  _mm256_set1_ps(127.0f));
	return _mm256_cvtps_epi32(v);
}

/* Four vectors of 8 int32 (each -128..127) -> 32 bytes in order. */
static inline __m256i pack32(__m256i a, __m256i b, __m256i c, __m256i d)
{
	__m256i v = _mm256_packs_epi16(_mm256_packs_epi32(a, b),
				       _mm256_packs_epi32(c, d));

	return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5,
								2, 6, 3, 7));
}

static inline int hsum_i32(__m256i v)
{
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(v),
				  _mm256_extracti128_si256(v, 1));

	s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
	return _mm_cvtsi128_si32(s);
}

/* Q8_0 and Q8_1 (with_sum): d = amax / 127, quants src * (127 / amax). */
static inline LXK_ALWAYS void q8_blocks(const float *src, uint8_t *b, size_t n,
					const bool with_sum)
{
	const size_t bs = with_sum ? Q8_1_SIZE : Q8_0_SIZE;
	const size_t nb = n / LX_QK;
	__m256i q[4] LXK_NOINIT, sum;
	float amax, d, id;
	uint16_t h;
	size_t i;
	int j;

	for (i = 0; i < nb; i++, src += LX_QK, b += bs) {
		amax = amax32(src);
		d = amax / 127.0f;
		id = amax != 0.0f ? 127.0f / amax : 0.0f;
		h = lx_fp32_to_fp16(d);
		lxk_put16(b, h);
#pragma GCC unroll 16
		for (j = 0; j < 4; j++)
			q[j] = round_even8(_mm256_mul_ps(
				_mm256_loadu_ps(src + 8 * j), _mm256_set1_ps(id)));
		_mm256_storeu_si256((__m256i *)(b + bs - LX_QK),
				    pack32(q[0], q[1], q[2], q[3]));
		if (with_sum) {
			sum = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]),
					       _mm256_add_epi32(q[2], q[3]));
			h = lx_fp32_to_fp16((float)hsum_i32(sum) * d);
			lxk_put16(b + 2, h);
		}
	}
}

static void from_float_q8_0(const float *src, void *dst, size_t n)
{
	q8_blocks(src, dst, n, false);
}

static void from_float_q8_1(const float *src, void *dst, size_t n)
{
	q8_blocks(src, dst, n, true);
}

/* Sums of the lanes of a and of c, as two little-endian int16. */
static inline void put_bsums2(uint8_t *p, __m256i a, __m256i c)
{
	__m256i s = _mm256_hadd_epi32(a, c);	/* a01 a23 c01 c23 | a45 .. */
	__m128i h;

	s = _mm256_hadd_epi32(s, s);		/* a0-3 c0-3 .. | a4-7 c4-7 .. */
	h = _mm_add_epi32(_mm256_castsi256_si128(s),
			  _mm256_extracti128_si256(s, 1));
	lxk_put16(p, (uint16_t)_mm_cvtsi128_si32(h));
	lxk_put16(p + 2, (uint16_t)_mm_extract_epi32(h, 1));
}

/*
 * Q8_K: the first element of largest magnitude, sign included, maps to
 * -127; quants rounded to nearest even; bsums are sums of 16 quants.
 */
static void from_float_q8_k(const float *src, void *dst, size_t n)
{
	const __m256 abs = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	const size_t nb = n / LX_QK_K;
	uint8_t *b = dst;
	__m256i q[4] LXK_NOINIT;
	__m256 m, v, is;
	__m128 h;
	float amax, max, iscale, inv;
	size_t i;
	int j, k;

	for (i = 0; i < nb; i++, src += LX_QK_K, b += Q8_K_SIZE) {
		/*
		 * max_ps returns its second operand when one is NaN: NaNs
		 * never win, as with the scalar's ax > amax
		 */
		m = _mm256_setzero_ps();
		for (j = 0; j < LX_QK_K; j += 8)
			m = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(src + j),
							abs), m);
		h = _mm_max_ps(_mm256_castps256_ps128(m),
			       _mm256_extractf128_ps(m, 1));
		h = _mm_max_ps(h, _mm_movehl_ps(h, h));
		h = _mm_max_ss(h, _mm_movehdup_ps(h));
		amax = _mm_cvtss_f32(h);
		if (amax == 0.0f) {
			memset(b, 0, Q8_K_SIZE);
			continue;
		}
		m = _mm256_set1_ps(amax);
		for (j = 0;; j += 8) {
			int eq = _mm256_movemask_ps(_mm256_cmp_ps(
				_mm256_and_ps(_mm256_loadu_ps(src + j), abs), m,
				_CMP_EQ_OQ));

			if (eq) {
				max = src[j + __builtin_ctz((unsigned int)eq)];
				break;
			}
		}
		iscale = -127.0f / max;
		is = _mm256_set1_ps(iscale);
		for (j = 0; j < LX_QK_K; j += 32) {
#pragma GCC unroll 16
			for (k = 0; k < 4; k++) {
				v = _mm256_loadu_ps(src + j + 8 * k);
				q[k] = round_even8(_mm256_mul_ps(is, v));
			}
			_mm256_storeu_si256((__m256i *)(b + Q8_K_QS + j),
					    pack32(q[0], q[1], q[2], q[3]));
			put_bsums2(b + Q8_K_BSUMS + 2 * (j / 16),
				   _mm256_add_epi32(q[0], q[1]),
				   _mm256_add_epi32(q[2], q[3]));
		}
		inv = 1.0f / iscale;
		lxk_putf32(b, inv);
	}
}

/* F16C rounds to nearest even like lx_fp32_to_fp16; only NaNs differ. */
static void from_float_f16(const float *src, void *dst, size_t n)
{
	uint8_t *p = dst;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		__m256 v = _mm256_loadu_ps(src + i);
		__m128i h = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT |
					       _MM_FROUND_NO_EXC);
		__m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);

		if (_mm256_movemask_ps(nan)) {
			/* ggml's canonical quiet NaN, sign kept */
			__m128i sign = _mm_and_si128(h, _mm_set1_epi16(
				(short)0x8000));
			__m128i mask = _mm_packs_epi32(
				_mm256_castsi256_si128(_mm256_castps_si256(nan)),
				_mm256_extracti128_si256(
					_mm256_castps_si256(nan), 1));

			h = _mm_blendv_epi8(h, _mm_or_si128(sign,
				_mm_set1_epi16(0x7e00)), mask);
		}
		_mm_storeu_si128((__m128i *)(p + 2 * i), h);
	}
	for (; i < n; i++) {
		uint16_t h = lx_fp32_to_fp16(src[i]);

		lxk_put16(p + 2 * i, h);
	}
}

/* Round to nearest even on the bits; NaNs truncated and made quiet. */
static void from_float_bf16(const float *src, void *dst, size_t n)
{
	uint8_t *p = dst;
	size_t i;

	for (i = 0; i + 16 <= n; i += 16) {
		__m256i r[2] LXK_NOINIT;
		int k;

#pragma GCC unroll 16
		for (k = 0; k < 2; k++) {
			__m256i u = _mm256_loadu_si256((const __m256i *)
						       (src + i + 8 * k));
			__m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u,
				_mm256_set1_epi32(0x7fffffff)),
				_mm256_set1_epi32(0x7f800000));
			__m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, 16),
						       _mm256_set1_epi32(1));
			__m256i rnd = _mm256_srli_epi32(_mm256_add_epi32(u,
				_mm256_add_epi32(odd, _mm256_set1_epi32(0x7fff))),
				16);
			__m256i qn = _mm256_or_si256(_mm256_srli_epi32(u, 16),
						     _mm256_set1_epi32(0x40));

			r[k] = _mm256_blendv_epi8(rnd, qn, nan);
		}
		_mm256_storeu_si256((__m256i *)(p + 2 * i),
				    _mm256_permute4x64_epi64(
				    _mm256_packus_epi32(r[0], r[1]), 0xd8));
	}
	for (; i < n; i++) {
		uint16_t h = lx_fp32_to_bf16(src[i]);

		lxk_put16(p + 2 * i, h);
	}
}

/* ---------------------------------------------------------------------- */
/* Dequantization (embedding rows): F16, BF16, Q4_0, Q8_0, Q4_K, Q6_K      */
/* ---------------------------------------------------------------------- */

/* The scalar code's operations, in its order, so results are exact. */

static void to_float_f16(const void *src, float *dst, size_t n)
{
	const uint8_t *p = src;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8)
		_mm256_storeu_ps(dst + i, ft_load8(FT_F16, p + 2 * i));
	for (; i < n; i++)
		dst[i] = lxk_f16(p + 2 * i);
}

static void to_float_bf16(const void *src, float *dst, size_t n)
{
	const uint8_t *p = src;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8)
		_mm256_storeu_ps(dst + i, ft_load8(FT_BF16, p + 2 * i));
	for (; i < n; i++) {
		uint32_t u = (uint32_t)lxk_u16(p + 2 * i) << 16;

		lxk_put32((uint8_t *)(dst + i), u);
	}
}

/* Bytes 8j..8j+7 of q as floats, signed or unsigned. */
static inline LXK_ALWAYS __m256 bytes8_f32(__m256i q, const int j,
					   const bool is_signed)
{
	__m128i h = j < 2 ? _mm256_castsi256_si128(q) :
			    _mm256_extracti128_si256(q, 1);

	if (j % 2)
		h = _mm_srli_si128(h, 8);
	return _mm256_cvtepi32_ps(is_signed ? _mm256_cvtepi8_epi32(h) :
					      _mm256_cvtepu8_epi32(h));
}

/* 32 signed bytes times d, to dst[0..31]. */
static inline void store_scaled32(float *dst, __m256i q, __m256 d)
{
	int j;

#pragma GCC unroll 16
	for (j = 0; j < 4; j++)
		_mm256_storeu_ps(dst + 8 * j,
				 _mm256_mul_ps(bytes8_f32(q, j, true), d));
}

static void to_float_q4_0(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	size_t i, nb = n / LX_QK;

	for (i = 0; i < nb; i++, b += Q4_0_SIZE, dst += LX_QK)
		store_scaled32(dst, sq_quants(SQ_Q4_0, b), lxk_f16x8(b));
}

static void to_float_q8_0(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	size_t i, nb = n / LX_QK;

	for (i = 0; i < nb; i++, b += Q8_0_SIZE, dst += LX_QK)
		store_scaled32(dst, loadu256(b + 2), lxk_f16x8(b));
}

/* d1 * q - m1 per 32-element sub-block, d1 = d * sc, m1 = dmin * m. */
static void to_float_q4_k(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	size_t i, nb = n / LX_QK_K;
	uint8_t s[16] LXK_NOINIT;
	uint64_t sc, mn;
	float d, dmin;
	int k, j;

	for (i = 0; i < nb; i++, b += 144) {
		sc = k4_scales(b + 4, &mn);
		lxk_put64(s, sc);
		lxk_put64(s + 8, mn);
		d = lxk_f16(b);
		dmin = lxk_f16(b + 2);
		for (k = 0; k < 8; k++, dst += 32) {
			__m256i q = bitfield(loadu256(b + 16 + 32 * (k / 2)),
					     4 * (k % 2), 0, 0x0f);
			__m256 d1 = _mm256_set1_ps(d * s[k]);
			__m256 m1 = _mm256_set1_ps(dmin * s[8 + k]);

#pragma GCC unroll 16
			for (j = 0; j < 4; j++)
				_mm256_storeu_ps(dst + 8 * j, _mm256_sub_ps(
					_mm256_mul_ps(d1, bytes8_f32(q, j, false)),
					m1));
		}
	}
}

/* dl * (q - 32) per 16-element sub-block, dl = d * sc. */
static void to_float_q6_k(const void *src, float *dst, size_t n)
{
	const uint8_t *b = src;
	size_t i, nb = n / LX_QK_K;
	float d;
	int k, j;

	for (i = 0; i < nb; i++, b += 210) {
		d = lxk_f16(b + 208);
		for (k = 0; k < 8; k++, dst += 32) {
			__m256i q = _mm256_sub_epi8(kq_quants(KQ_Q6_K, b, k),
						    _mm256_set1_epi8(32));

#pragma GCC unroll 16
			for (j = 0; j < 4; j++) {
				__m256 dl = _mm256_set1_ps(d *
					(float)(int8_t)b[192 + 2 * k + j / 2]);

				_mm256_storeu_ps(dst + 8 * j, _mm256_mul_ps(dl,
						 bytes8_f32(q, j, true)));
			}
		}
	}
}

/* ---------------------------------------------------------------------- */
/* Registration                                                           */
/* ---------------------------------------------------------------------- */

#define SET_DOT(type, name)						\
	do {								\
		table[type].vec_dot = name##_vec_dot;			\
		table[type].gemm = name##_gemm;				\
	} while (0)

/* ---------------------------------------------------------------------- */
/* SwiGLU activation                                                      */
/* ---------------------------------------------------------------------- */

/*
 * lx_expf_poly of eight floats (mathfn.h): the same FMAs; j * 2^n as two
 * products, the first exact, so that the result rounds once, as
 * vscalefps (AVX-512) rounds it.
 */
static inline __m256 expf_poly8(__m256 x)
{
	const __m256 shift = _mm256_set1_ps(LX_EXPP_SHIFT);
	const __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(LX_EXPP_LOG2E),
					 shift);
	const __m256 n = _mm256_sub_ps(z, shift);
	const __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(LX_EXPP_LN2_LO),
		_mm256_fnmadd_ps(n, _mm256_set1_ps(LX_EXPP_LN2_HI), x));
	const __m256 u = _mm256_mul_ps(b, b);
	const __m256 j = _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_fmadd_ps(
		_mm256_set1_ps(LX_EXPP_C5), b, _mm256_set1_ps(LX_EXPP_C4)), u,
		_mm256_fmadd_ps(_mm256_set1_ps(LX_EXPP_C3), b,
				_mm256_set1_ps(LX_EXPP_C2))), u,
		_mm256_fmadd_ps(_mm256_set1_ps(LX_EXPP_C1), b,
				_mm256_set1_ps(1.0f)));
	/* n = r + m, |m| <= 100: j * 2^r is exact, times 2^m rounds */
	const __m256 m = _mm256_min_ps(_mm256_max_ps(n,
		_mm256_set1_ps(-100.0f)), _mm256_set1_ps(100.0f));
	const __m256i bias = _mm256_set1_epi32(127);
	const __m256 pr = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(
		_mm256_cvtps_epi32(_mm256_sub_ps(n, m)), bias), 23));
	const __m256 pm = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(
		_mm256_cvtps_epi32(m), bias), 23));
	const __m256 far = _mm256_cmp_ps(_mm256_andnot_ps(
		_mm256_set1_ps(-0.0f), n), _mm256_set1_ps(192.0f), _CMP_GT_OQ);
	const __m256 inf = _mm256_and_ps(_mm256_cmp_ps(n, _mm256_setzero_ps(),
		_CMP_GT_OQ), _mm256_set1_ps(LX_INFINITY));

	return _mm256_blendv_ps(_mm256_mul_ps(_mm256_mul_ps(j, pr), pm), inf,
				far);
}

void lx_silu_mul_avx2(float *gate, const float *up, size_t n)
{
	const __m256 one = _mm256_set1_ps(1.0f), neg = _mm256_set1_ps(-0.0f);
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		__m256 x = _mm256_loadu_ps(gate + i);

		_mm256_storeu_ps(gate + i, _mm256_mul_ps(_mm256_div_ps(x,
			_mm256_add_ps(one, expf_poly8(_mm256_xor_ps(x, neg)))),
			_mm256_loadu_ps(up + i)));
	}
	lx_silu_mul(gate + i, up + i, n - i);
}

/* The lanes k < n of eight (all ones or zero), for masked loads. */
static inline __m256i lanes_below(size_t n)
{
	return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)LX_MIN(n, 8)),
				  _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

double lx_softmax_exp_avx2(float *x, size_t n, float max)
{
	const __m256 vmax = _mm256_set1_ps(max);
	double sum = 0.0;
	size_t i;

	for (i = 0; i < n; i += 16) {
		const __m256i m0 = lanes_below(n - i);
		const __m256i m1 = lanes_below(n - i > 8 ? n - i - 8 : 0);
		__m256 e0 = expf_poly8(_mm256_sub_ps(_mm256_maskload_ps(x + i,
							m0), vmax));
		__m256 e1 = expf_poly8(_mm256_sub_ps(_mm256_maskload_ps(
							x + i + 8, m1), vmax));

		e0 = _mm256_and_ps(e0, _mm256_castsi256_ps(m0));
		e1 = _mm256_and_ps(e1, _mm256_castsi256_ps(m1));
		_mm256_maskstore_ps(x + i, m0, e0);
		_mm256_maskstore_ps(x + i + 8, m1, e1);
		/* 8 + 8, then lxk_hsum8: 4 + 4, (0 + 2) + (1 + 3) */
		sum += (double)lxk_hsum8(_mm256_add_ps(e0, e1));
	}
	return sum;
}

void lx_kernels_fill_avx2(struct lx_kernels table[LX_TYPE_COUNT])
{
	SET_DOT(LX_TYPE_F32, f32);
	SET_DOT(LX_TYPE_F16, f16);
	SET_DOT(LX_TYPE_BF16, bf16);
	SET_DOT(LX_TYPE_Q4_0, q4_0);
	SET_DOT(LX_TYPE_Q4_1, q4_1);
	SET_DOT(LX_TYPE_Q5_0, q5_0);
	SET_DOT(LX_TYPE_Q5_1, q5_1);
	SET_DOT(LX_TYPE_Q8_0, q8_0);
	SET_DOT(LX_TYPE_Q2_K, q2_k);
	SET_DOT(LX_TYPE_Q3_K, q3_k);
	SET_DOT(LX_TYPE_Q4_K, q4_k);
	SET_DOT(LX_TYPE_Q5_K, q5_k);
	SET_DOT(LX_TYPE_Q6_K, q6_k);

	table[LX_TYPE_Q8_0].from_float = from_float_q8_0;
	table[LX_TYPE_Q8_1].from_float = from_float_q8_1;
	table[LX_TYPE_Q8_K].from_float = from_float_q8_k;
	table[LX_TYPE_F16].from_float = from_float_f16;
	table[LX_TYPE_BF16].from_float = from_float_bf16;

	table[LX_TYPE_F16].to_float = to_float_f16;
	table[LX_TYPE_BF16].to_float = to_float_bf16;
	table[LX_TYPE_Q4_0].to_float = to_float_q4_0;
	table[LX_TYPE_Q8_0].to_float = to_float_q8_0;
	table[LX_TYPE_Q4_K].to_float = to_float_q4_k;
	table[LX_TYPE_Q6_K].to_float = to_float_q6_k;
}
