// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * AVX-512 (F, BW, VL, DQ) kernels (compiled with those flags only in this
 * file; used only when the host reports the CPU level): dot products and
 * gemm tiles. Everything else (the quantizers, dequantization, Q4_1, Q5_0,
 * Q5_1) comes from the AVX2 level (kernels_avx2.c).
 *
 * Q4_0, Q8_0, Q4_K and Q6_K matrix products use "row-transposed" tiles:
 * sixteen weight rows are interleaved on the fly so that dword lane p of
 * a zmm holds four quants of one row, and each group of four activations
 * is broadcast to all lanes. One vpmaddubsw then does 64 multiply-adds for
 * 16 rows, sums stay in int16 over a block (or sub-block), and the scales
 * and the float work (conversion, scale product, FMA) are applied once
 * per block for all 16 rows instead of once per row. The lanes hold rows
 * in the order 0, 4, 8, 12, 1, 5, ... (what 4x4 dword transposes give),
 * undone by one permutation when storing. The interleaved block is stored
 * to a small buffer and read back as memory operands: L1 loads are nearly
 * free, and the registers are better spent on the tokens' accumulators.
 *
 * For these types each output is computed as: the exact integer sums of a
 * block (Q4_0, Q8_0: S_i; k-quants: isum and summ of a super-block), the
 * products of the weight's and the activation's scales, and one float
 * chain of FMAs over the blocks in order. vec_dot computes exactly that
 * (its sums taken with the weights in their own layout), so gemm and
 * vec_dot agree bit for bit. One chain, not several: a tile needs one
 * accumulator per token, and vec_dot's other work per block takes about
 * as long as an FMA's latency anyway.
 *
 * Generation on Q4_0, Q4_K and Q6_K (one token) skips the transpose and
 * reads rows in place, then transposes the sums instead (see
 * q4_0_t16_gen, q6_k_t16_gen); tiles prefetch the next sixteen rows (see
 * tq_prefetch_next).
 *
 * kernels_avx512vnni.c compiles this file again with LXK_VNNI: there the
 * Q4_0 and Q8_0 products use vpdpbusd, with the same integer sums.
 *
 * F32 uses 512-bit FMAs; F16 and BF16 use 256-bit vectors with two
 * chains (see fy_tile); Q2_K, Q3_K, Q5_K use the AVX2 scheme in 512 bits.
 */
#include "kernels_x86.h"
#include "mathfn.h"

#define Q4_0_SIZE 18
#define Q8_0_SIZE 34
#define Q4_K_SIZE 144
#define Q6_K_SIZE 210
#define Q8_K_SIZE 292	/* float d, qs[256], int16 bsums[16] */
#define Q8_K_QS 4
#define Q8_K_BSUMS 260

/* Lane p of a transposed tile holds row 4 * (p % 4) + p / 4 (and back). */
#define TQ_LANE(p) (4 * ((p) % 4) + (p) / 4)
#define TQ_ROWS 16


#define LXK_PF 1024


/*
 * Tokens per tile call, at most: 16 unpacks each weight block once for a
 * 16-token prompt (pp512 +12%); the kernel keeps 8, as the wider tiles'
 * stack frames pass its 2 KiB warning limit. Results do not depend on it.
 */
#ifdef __KERNEL__
#define TQ_TN 8
#else
#define TQ_TN 16
#endif

static inline __m128i loadu128(const uint8_t *p)
{
	return _mm_loadu_si128((const __m128i *)p);
}

static inline __m256i loadu256(const uint8_t *p)
{
	return _mm256_loadu_si256((const __m256i *)p);
}

static inline __m512i loadu512(const uint8_t *p)
{
	return _mm512_loadu_si512(p);
}

/* The horizontal sum of every zmm output (fixed order). */
static inline float hsum16(__m512 v)
{
	return lxk_hsum8(_mm256_add_ps(_mm512_castps512_ps256(v),
				       _mm512_extractf32x8_ps(v, 1)));
}

/* Four 16-byte pieces, stride apart, as the four lanes of a zmm. */
static inline __m512i load4x128(const uint8_t *p, size_t stride)
{
	__m512i v = _mm512_castsi128_si512(loadu128(p));

	v = _mm512_inserti32x4(v, loadu128(p + stride), 1);
	v = _mm512_inserti32x4(v, loadu128(p + 2 * stride), 2);
	return _mm512_inserti32x4(v, loadu128(p + 3 * stride), 3);
}

/* Four fp16 values, stride bytes apart, as floats. */
static inline __m128 f16x4(const uint8_t *p, size_t stride)
{
	uint64_t h = (uint64_t)lxk_u16(p) |
		     (uint64_t)lxk_u16(p + stride) << 16 |
		     (uint64_t)lxk_u16(p + 2 * stride) << 32 |
		     (uint64_t)lxk_u16(p + 3 * stride) << 48;

	return _mm_cvtph_ps(_mm_cvtsi64_si128((long long)h));
}

/* The fp16 at offset off of the sixteen rows, in transposed lane order. */
static inline __m512 f16x16_rows(const uint8_t *const rp[TQ_ROWS], size_t off)
{
	uint64_t h[4] LXK_NOINIT;
	int q, k;

#pragma GCC unroll 16
	for (q = 0; q < 4; q++) {
		h[q] = 0;
#pragma GCC unroll 16
		for (k = 0; k < 4; k++)
			h[q] |= (uint64_t)lxk_u16(rp[TQ_LANE(4 * q + k)] + off)
				<< (16 * k);
	}
	return _mm512_cvtph_ps(_mm256_set_epi64x((long long)h[3],
						 (long long)h[2],
						 (long long)h[1],
						 (long long)h[0]));
}

/*
 * Sixteen rows' 16-byte pieces at offset off, transposed: t[g] lane p
 * = dword g of row TQ_LANE(p).
 */
static inline LXK_ALWAYS void transpose16x4(const uint8_t *const rp[TQ_ROWS],
					    size_t off, __m512i t[4])
{
	__m512i z[4] LXK_NOINIT, a, b, c, d;
	int k;

#pragma GCC unroll 16
	for (k = 0; k < 4; k++) {
		z[k] = _mm512_castsi128_si512(loadu128(rp[4 * k] + off));
		z[k] = _mm512_inserti32x4(z[k], loadu128(rp[4 * k + 1] + off), 1);
		z[k] = _mm512_inserti32x4(z[k], loadu128(rp[4 * k + 2] + off), 2);
		z[k] = _mm512_inserti32x4(z[k], loadu128(rp[4 * k + 3] + off), 3);
	}
	a = _mm512_unpacklo_epi32(z[0], z[1]);
	b = _mm512_unpackhi_epi32(z[0], z[1]);
	c = _mm512_unpacklo_epi32(z[2], z[3]);
	d = _mm512_unpackhi_epi32(z[2], z[3]);
	t[0] = _mm512_unpacklo_epi64(a, c);
	t[1] = _mm512_unpackhi_epi64(a, c);
	t[2] = _mm512_unpacklo_epi64(b, d);
	t[3] = _mm512_unpackhi_epi64(b, d);
}

/*
 * Prefetches the next 16-row tile's weights into L2, a slice per block of
 * this one. A tile reads its rows as sixteen short interleaved streams,
 * which the hardware prefetcher does not pick up (generation from DRAM ran
 * at half the speed of the same tile in cache); but rows are stored one
 * after another, so the next tile's bytes are one range right after these
 * rows. For generation (T = 1) into L2 (prefetcht1), which was 10% faster
 * than into L1, the L1 miss buffers staying free for the tile's own loads;
 * prompt tiles, with T times the work per byte, prefetch into L1. Past the
 * last tile this touches addresses after the matrix: prefetches never
 * fault.
 */
/* Where the next tile's slice for block i starts: rows follow each other. */
static inline LXK_ALWAYS uintptr_t
tq_next_tile(const uint8_t *const rp[TQ_ROWS], size_t i, const size_t bs)
{
	return (uintptr_t)rp[TQ_ROWS - 1] +
	       ((uintptr_t)rp[1] - (uintptr_t)rp[0]) + i * TQ_ROWS * bs;
}

static inline LXK_ALWAYS void tq_prefetch_next(const int T,
					       const uint8_t *const rp[TQ_ROWS],
					       size_t i, const size_t bs)
{
	uintptr_t next = tq_next_tile(rp, i, bs);
	size_t o;

#pragma GCC unroll 64
	for (o = 0; o < TQ_ROWS * bs; o += 64) {
		if (T == 1)
			__builtin_prefetch((const void *)(next + o), 0, 2);
		else
			__builtin_prefetch((const void *)(next + o), 0, 3);
	}
}

/*
 * Part `part` of `parts` of tq_prefetch_next(1, ...). The k-quant generation
 * paths issue it once per four rows instead of all at once per super-block
 * (53 lines for Q6_K, 36 for Q4_K): a burst that long filled the miss
 * queue. One thread from DRAM: Q6_K 14.3 -> 16.0 GB/s, Q4_K 14.9 -> 16.6
 * GB/s; Q4_K_M tg on one thread 28.4 -> 29.9 t/s.
 */
static inline LXK_ALWAYS void tq_prefetch_next_part(
	const uint8_t *const rp[TQ_ROWS], size_t i, const size_t bs,
	const int part, const int parts)
{
	uintptr_t next = tq_next_tile(rp, i, bs);
	const size_t len = TQ_ROWS * bs;
	const size_t o0 = len * part / parts / 64 * 64;
	const size_t o1 = part + 1 == parts ? len :
			  len * (part + 1) / parts / 64 * 64;
	size_t o;

	for (o = o0; o < o1; o += 64)
		__builtin_prefetch((const void *)(next + o), 0, 2);
}

/*
 * Tells the compiler that *p changed in memory: what was stored there is
 * read back by later loads (as cheap memory operands of the arithmetic)
 * instead of being kept in, or shuffled out of, registers.
 */
#define LXK_IN_MEMORY(p) __asm__("" : "+m"(*(p)))

/*
 * An opaque step in a chain of integer adds: GCC would otherwise
 * reassociate a token's sum into a tree, computing (and spilling) every
 * product of every token before adding any of them.
 */
#define LXK_CHAIN(v) __asm__("" : "+v"(v))

/* Stores a tile's 16 outputs for one token (rows in order, masked). */
static inline void tq_store(float *o, __m512 v, __mmask16 m, bool accumulate)
{
	const __m512i order = _mm512_setr_epi32(
		TQ_LANE(0), TQ_LANE(1), TQ_LANE(2), TQ_LANE(3), TQ_LANE(4),
		TQ_LANE(5), TQ_LANE(6), TQ_LANE(7), TQ_LANE(8), TQ_LANE(9),
		TQ_LANE(10), TQ_LANE(11), TQ_LANE(12), TQ_LANE(13),
		TQ_LANE(14), TQ_LANE(15));

	v = _mm512_permutexvar_ps(order, v);
	if (accumulate)
		v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, o), v);
	_mm512_mask_storeu_ps(o, m, v);
}

/* ---------------------------------------------------------------------- */
/* F32, F16, BF16                                                         */
/* ---------------------------------------------------------------------- */

/*
 * F32: two accumulators of 16 lanes per output (32 elements a step), as on
 * AVX2 with twice the width; 4 x 3 tiles use 24 accumulators. The last
 * n % 32 elements are loaded with masks (zeros beyond the row).
 */
enum { FZ_F32, FZ_F16, FZ_BF16 };

/*
 * F32/F16/BF16 rows: prefetches the rows of the next pass, R rows on, at
 * this step's offset, into L2. A few interleaved rows do not keep the
 * hardware prefetcher far enough ahead, and a few tokens are too little
 * work per byte to hide the misses. One thread, F16 from DRAM: one token
 * 18.5 -> 24 GB/s, four tokens (a daemon's batched decoding) 22 -> 30-35
 * GMAC/s; tg 11.4 -> 13.9 t/s. Prompt tiles read rows already in cache.
 */
static inline LXK_ALWAYS void fx_prefetch_next(const int R, const uint8_t *w,
					       size_t ws, size_t off,
					       const size_t bytes)
{
	size_t o;
	int r;

#pragma GCC unroll 8
	for (r = 0; r < R; r++)
#pragma GCC unroll 8
		for (o = 0; o < bytes; o += 64)
			__builtin_prefetch(w + (size_t)(R + r) * ws + off + o,
					   0, 2);
}
#define FZ_RM 4
#define FZ_TN 3

/* Elements [0, m) of 16 at p (m <= 16), zeros after. */
static inline LXK_ALWAYS __m512 fz_load(const int type, const uint8_t *p,
					size_t m)
{
	const __mmask16 k = (__mmask16)(m >= 16 ? 0xffff : (1u << m) - 1);

	(void)type;
	return _mm512_maskz_loadu_ps(k, p);
}

static inline LXK_ALWAYS void fz_tile(const int type, const int R, const int T,
				      size_t n, const uint8_t *w, size_t ws,
				      const uint8_t *x, size_t xs, float *out,
				      size_t os, bool accumulate)
{
	const size_t es = type == FZ_F32 ? 4 : 2;
	__m512 acc[2][FZ_RM][FZ_TN] LXK_NOINIT, xv[FZ_TN] LXK_NOINIT, wv;
	size_t i, m;
	int r, t, k;

#pragma GCC unroll 16
	for (k = 0; k < 2; k++)
#pragma GCC unroll 16
	for (r = 0; r < R; r++)
#pragma GCC unroll 16
	for (t = 0; t < T; t++)
		acc[k][r][t] = _mm512_setzero_ps();
	for (i = 0; i < n; i += 32) {
		fx_prefetch_next(R, w, ws, i * es, 32 * es);
#pragma GCC unroll 16
		for (k = 0; k < 2; k++) {
			/* a full step, or the masked tail */
			m = n - i >= 32 ? 16 : n - i < 16 * (size_t)k ? 0 :
			    n - i - 16 * (size_t)k;
#pragma GCC unroll 16
			for (t = 0; t < T; t++)
				xv[t] = fz_load(type, x + t * xs +
						(i + 16 * k) * es, m);
#pragma GCC unroll 16
			for (r = 0; r < R; r++) {
				wv = fz_load(type, w + r * ws +
					     (i + 16 * k) * es, m);
#pragma GCC unroll 16
				for (t = 0; t < T; t++)
					acc[k][r][t] = _mm512_fmadd_ps(
						wv, xv[t], acc[k][r][t]);
			}
		}
	}
#pragma GCC unroll 16
	for (r = 0; r < R; r++)
#pragma GCC unroll 16
	for (t = 0; t < T; t++)
		lxk_put(out, os, r, t,
			hsum16(_mm512_add_ps(acc[0][r][t], acc[1][r][t])),
			accumulate);
}

#define FZ_TILE(name, type)						\
static inline LXK_ALWAYS void name##_tile(const int R, const int T,	\
					  size_t n, const uint8_t *w,	\
					  size_t ws, const uint8_t *x,	\
					  size_t xs, float *out,	\
					  size_t os, bool accumulate)	\
{									\
	fz_tile(type, R, T, n, w, ws, x, xs, out, os, accumulate);	\
}									\
LXK_GEMM(name, name##_tile, 1, FZ_RM, FZ_TN)

FZ_TILE(f32, FZ_F32)

/*
 * F16 and BF16: 256-bit vectors, two accumulators per output. On CPUs that
 * split 512-bit FMAs (AMD Zen 4) this is as fast per element as zmm and
 * cheaper in conversions. Element e goes to lane e % 16, one FMA chain per
 * lane, the lanes summed 8 + 8, 4 + 4, 2 + 2, 1 + 1: the order of
 * llama.cpp's F16 products (tinyBLAS on AVX-512, and the AVX2 level's), so
 * attention scores round as the reference's (rows of the reference
 * fixtures off by more than 0.001 sigma at this level: 2396 -> 1974 of
 * 6311). Four chains (lanes e % 32) made vec_dot twice as fast, but a
 * 3 x 2 tile has twelve chains either way: F16 gemm at 1, 2 and 16 tokens
 * ran as fast as before (one thread, in cache, within the noise).
 */
#define FY_RM 3
#define FY_TN 2

/*
 * Sixteen elements at p (the first m of them, zeros after) as two float
 * vectors. bfloat16s are widened by interleaving with zeros, which leaves
 * them in the order 0-3, 8-11 | 4-7, 12-15: weights and activations get
 * the same order, and a dot product does not mind.
 */
static inline LXK_ALWAYS void fy_load16(const int type, const uint8_t *p,
					size_t m, __m256 v[2])
{
	const __mmask16 k = (__mmask16)(m >= 16 ? 0xffff : (1u << m) - 1);
	__m256i h;

	if (type == FZ_F16 && m >= 16) {	/* vcvtph2ps from memory */
		v[0] = _mm256_cvtph_ps(loadu128(p));
		v[1] = _mm256_cvtph_ps(loadu128(p + 16));
		return;
	}
	h = m >= 16 ? loadu256(p) : _mm256_maskz_loadu_epi16(k, p);
	if (type == FZ_F16) {
		v[0] = _mm256_cvtph_ps(_mm256_castsi256_si128(h));
		v[1] = _mm256_cvtph_ps(_mm256_extracti128_si256(h, 1));
	} else {
		v[0] = _mm256_castsi256_ps(_mm256_unpacklo_epi16(
			_mm256_setzero_si256(), h));
		v[1] = _mm256_castsi256_ps(_mm256_unpackhi_epi16(
			_mm256_setzero_si256(), h));
	}
}

/* One step of 32 elements (or the masked tail): each chain twice. */
static inline LXK_ALWAYS void fy_step(const int type, const int R, const int T,
				      const uint8_t *w, size_t ws,
				      const uint8_t *x, size_t xs, size_t m,
				      __m256 acc[2][FY_RM][FY_TN])
{
	__m256 xv[FY_TN][2] LXK_NOINIT, wv[2] LXK_NOINIT;
	int r, t, h, k;

#pragma GCC unroll 16
	for (h = 0; h < 2; h++) {
		const size_t mh = m < 16 * (size_t)h ? 0 : m - 16 * (size_t)h;

#pragma GCC unroll 16
		for (t = 0; t < T; t++)
			fy_load16(type, x + t * xs + 32 * h, mh, xv[t]);
#pragma GCC unroll 16
		for (r = 0; r < R; r++) {
			fy_load16(type, w + r * ws + 32 * h, mh, wv);
#pragma GCC unroll 16
			for (k = 0; k < 2; k++)
#pragma GCC unroll 16
			for (t = 0; t < T; t++)
				acc[k][r][t] = _mm256_fmadd_ps(
					wv[k], xv[t][k], acc[k][r][t]);
		}
	}
}

static inline LXK_ALWAYS void fy_tile(const int type, const int R, const int T,
				      size_t n, const uint8_t *w, size_t ws,
				      const uint8_t *x, size_t xs, float *out,
				      size_t os, bool accumulate)
{
	__m256 acc[2][FY_RM][FY_TN] LXK_NOINIT;
	size_t i;
	int r, t, k;

#pragma GCC unroll 16
	for (k = 0; k < 2; k++)
#pragma GCC unroll 16
	for (r = 0; r < R; r++)
#pragma GCC unroll 16
	for (t = 0; t < T; t++)
		acc[k][r][t] = _mm256_setzero_ps();
	for (i = 0; i + 32 <= n; i += 32) {
		fx_prefetch_next(R, w, ws, 2 * i, 64);
		fy_step(type, R, T, w + 2 * i, ws, x + 2 * i, xs, 32, acc);
	}
	if (i < n)
		fy_step(type, R, T, w + 2 * i, ws, x + 2 * i, xs, n - i, acc);
#pragma GCC unroll 16
	for (r = 0; r < R; r++)
#pragma GCC unroll 16
	for (t = 0; t < T; t++)
		lxk_put(out, os, r, t, lxk_hsum8(_mm256_add_ps(acc[0][r][t],
							       acc[1][r][t])),
			accumulate);
}

#define FY_TILE(name, type)						\
static inline LXK_ALWAYS void name##_tile(const int R, const int T,	\
					  size_t n, const uint8_t *w,	\
					  size_t ws, const uint8_t *x,	\
					  size_t xs, float *out,	\
					  size_t os, bool accumulate)	\
{									\
	fy_tile(type, R, T, n, w, ws, x, xs, out, os, accumulate);	\
}									\
LXK_GEMM(name, name##_tile, 1, FY_RM, FY_TN)

FY_TILE(f16, FZ_F16)
FY_TILE(bf16, FZ_BF16)

/* ---------------------------------------------------------------------- */
/* Q4_0 . Q8_0                                                            */
/* ---------------------------------------------------------------------- */

/* The interleaved quants of a 16-row tile: eight vectors of groups. */
struct tq_block {
	uint8_t q[8][64];
};

/*
 * Weights are q - 8 (signed), activations are flipped to x + 128
 * (unsigned) for vpmaddubsw, and 128 * sum(q - 8), per row, is taken off
 * at the end: int16 sums stay within 8 * 2 * 255 * 8 = 32640.
 */
static inline LXK_ALWAYS void q4_0_t16_prep(const uint8_t *const rp[TQ_ROWS],
					    size_t off, struct tq_block *b,
					    __m512i *corr, __m512 *dw)
{
	const __m512i m4 = _mm512_set1_epi8(0x0f), eight = _mm512_set1_epi8(8);
	__m512i tr[4], lo, hi, s = _mm512_setzero_si512();
	int g;

	transpose16x4(rp, off + 2, tr);
#pragma GCC unroll 16
	for (g = 0; g < 4; g++) {
		lo = _mm512_sub_epi8(_mm512_and_si512(tr[g], m4), eight);
		hi = _mm512_sub_epi8(_mm512_and_si512(
			_mm512_srli_epi16(tr[g], 4), m4), eight);
		_mm512_storeu_si512(b->q[g], lo);
		_mm512_storeu_si512(b->q[g + 4], hi);
		/* byte sums fit: |sum(q - 8)| <= 64 */
		s = _mm512_add_epi8(s, _mm512_add_epi8(lo, hi));
	}
	*corr = _mm512_slli_epi32(_mm512_madd_epi16(_mm512_maddubs_epi16(
		_mm512_set1_epi8(1), s), _mm512_set1_epi16(1)), 7);
#ifdef LXK_VNNI
	*corr = _mm512_sub_epi32(_mm512_setzero_si512(), *corr);
#endif
	*dw = f16x16_rows(rp, off);
}

/* The fp16 at x + t * xs of tokens t < T, as floats (dx[T..] undefined). */
static inline LXK_ALWAYS void f16_tokens(const int T, const uint8_t *x,
					 size_t xs, float dx[TQ_TN])
{
	uint64_t h[TQ_TN / 4] LXK_NOINIT;
	int t;

#pragma GCC unroll 16
	for (t = 0; t < TQ_TN; t++) {
		uint64_t v = t < T ? lxk_u16(x + t * xs) : 0;

		h[t / 4] = t % 4 ? h[t / 4] | v << (16 * (t % 4)) : v;
	}
#if TQ_TN == 16
	_mm512_storeu_ps(dx, _mm512_cvtph_ps(_mm256_set_epi64x(
		(long long)h[3], (long long)h[2], (long long)h[1],
		(long long)h[0])));
#else
	_mm256_storeu_ps(dx, _mm256_cvtph_ps(_mm_set_epi64x(
		(long long)h[1], (long long)h[0])));
#endif
}

/* The activations of block i of T tokens: x + 128 and the scale. */
static inline LXK_ALWAYS void q4_0_t16_xprep(const int T, size_t i,
					     const uint8_t *x, size_t xs,
					     uint8_t xu[TQ_TN][32],
					     float dx[TQ_TN])
{
	int t;

#pragma GCC unroll 16
	for (t = 0; t < T; t++) {
		const uint8_t *xb = x + t * xs + i * Q8_0_SIZE;

		_mm256_storeu_si256((__m256i *)xu[t], _mm256_xor_si256(
			loadu256(xb + 2), _mm256_set1_epi8((char)0x80)));
		if (T < 4)
			dx[t] = lxk_f16(xb);
	}
	if (T >= 4)	/* one conversion; the gather is scalar work */
		f16_tokens(T, x + i * Q8_0_SIZE, xs, dx);
}

/* One token's update: acc = fma(S, D, acc) for the 16 rows. */
static inline __m512 q4_0_t16_tok(const struct tq_block *b, const uint8_t *xu,
				  __m512i corr, __m512 dw, float dx,
				  __m512 acc)
{
#ifdef LXK_VNNI
	__m512i s = corr;
	int g;

#pragma GCC unroll 16
	for (g = 0; g < 8; g++) {
		s = _mm512_dpbusd_epi32(s,
			_mm512_set1_epi32((int)lxk_u32(xu + 4 * g)),
			_mm512_loadu_si512(b->q[g]));
		LXK_CHAIN(s);
	}
	return _mm512_fmadd_ps(_mm512_cvtepi32_ps(s),
		_mm512_mul_ps(dw, _mm512_set1_ps(dx)), acc);
#else
	__m512i a16 = _mm512_setzero_si512();
	int g;

#pragma GCC unroll 16
	for (g = 0; g < 8; g++) {
		a16 = _mm512_add_epi16(a16, _mm512_maddubs_epi16(
			_mm512_set1_epi32((int)lxk_u32(xu + 4 * g)),
			_mm512_loadu_si512(b->q[g])));
		LXK_CHAIN(a16);
	}
	return _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(
			_mm512_madd_epi16(a16, _mm512_set1_epi16(1)), corr)),
		_mm512_mul_ps(dw, _mm512_set1_ps(dx)), acc);
#endif
}

#ifdef LXK_VNNI
/*
 * With VNNI, Q8_0 takes Q4_0's per-token step: the weights stay signed
 * bytes, the activations are flipped to x + 128 (unsigned), and
 * 128 * sum(w) per row, taken off by starting the sums at its negative,
 * comes from vpdpbusd with 128 in every byte.
 */
static inline LXK_ALWAYS void q8_0_t16_prep_vnni(
	const uint8_t *const rp[TQ_ROWS], size_t off, struct tq_block *b,
	__m512i *corr)
{
	__m512i tr[4] LXK_NOINIT, c = _mm512_setzero_si512();
	int h, g;

#pragma GCC unroll 16
	for (h = 0; h < 2; h++) {
		transpose16x4(rp, off + 2 + 16 * h, tr);
#pragma GCC unroll 16
		for (g = 0; g < 4; g++) {
			_mm512_storeu_si512(b->q[4 * h + g], tr[g]);
			c = _mm512_dpbusd_epi32(c, _mm512_set1_epi8((char)0x80),
						tr[g]);
		}
	}
	*corr = _mm512_sub_epi32(_mm512_setzero_si512(), c);
}
#endif

/*
 * One block of the tiles with unsigned activations: Q4_0, and Q8_0 with
 * VNNI (type says which); only the weights' preparation differs.
 */
static inline LXK_ALWAYS void u8_t16_block(const int type, const int T,
					   size_t i,
					   const uint8_t *const rp[TQ_ROWS],
					   const uint8_t *x, size_t xs,
					   __m512 acc[TQ_TN])
{
	struct tq_block b LXK_NOINIT;
	uint8_t xu[TQ_TN][32] LXK_NOINIT;
	float dx[TQ_TN] LXK_NOINIT;
	__m512i corr;
	__m512 dw;
	int t;

	(void)type;
	q4_0_t16_xprep(T, i, x, xs, xu, dx);
#ifdef LXK_VNNI
	if (type == LX_TYPE_Q8_0) {
		q8_0_t16_prep_vnni(rp, i * Q8_0_SIZE, &b, &corr);
		dw = f16x16_rows(rp, i * Q8_0_SIZE);
	} else
#endif
		q4_0_t16_prep(rp, i * Q4_0_SIZE, &b, &corr, &dw);
	if (T > 2) {	/* few tokens: registers suffice, skip the stores */
		LXK_IN_MEMORY(&b);
		LXK_IN_MEMORY(&xu);
	}
#pragma GCC unroll 16
	for (t = 0; t < T; t++)
		acc[t] = q4_0_t16_tok(&b, xu[t], corr, dw, dx[t], acc[t]);
}

static inline LXK_ALWAYS void q4_0_t16_block(const int T, size_t i,
					     const uint8_t *const rp[TQ_ROWS],
					     const uint8_t *x, size_t xs,
					     __m512 acc[TQ_TN])
{
	u8_t16_block(LX_TYPE_Q4_0, T, i, rp, x, xs, acc);
}

/*
 * Generation (one token) reads the rows as they are stored instead of
 * transposing them: with one token to share it, the transpose cost as much
 * as the products. Four blocks of a row (72 bytes) become one zmm by a word
 * permutation (the quants start at even offsets), lane b holding block b's
 * sixteen bytes; unsigned nibbles times signed activations leave four
 * partial dwords per block lane, started at -8 * sum(x) of the block
 * (spread over the lane's dwords). Summing each lane and transposing the
 * sixteen rows gives the exact block sums S_i in the transposed tile's lane
 * order, and the scales are gathered to that order from the same loads, so
 * the float chain, and every result, is the tile's bit for bit.
 */
static inline LXK_ALWAYS __m512i dot_u8s8(__m512i acc, __m512i u, __m512i s)
{
#ifdef LXK_VNNI
	return _mm512_dpbusd_epi32(acc, u, s);
#else
	return _mm512_add_epi32(acc, _mm512_madd_epi16(
		_mm512_maddubs_epi16(u, s), _mm512_set1_epi16(1)));
#endif
}

/* Row r's partial sums over blocks 4j..4j+3; *raw = its first 64 bytes. */
static inline LXK_ALWAYS __m512i q4_0_row4(const uint8_t *w, __m512i xl,
					   __m512i xh, __m512i c0,
					   __m512i *raw)
{
	/*
	 * word k of lane b is word 9b + 1 + k of w: indices 1..8, 10..17,
	 * 19..26, 28..31 from w and 60..63 (words 32..35) from w + 8
	 */
	const __m512i idx = _mm512_setr_epi64(
		0x0004000300020001ll, 0x0008000700060005ll,
		0x000d000c000b000all, 0x00110010000f000ell,
		0x0016001500140013ll, 0x001a001900180017ll,
		0x001f001e001d001cll, 0x003f003e003d003cll);
	const __m512i m4 = _mm512_set1_epi8(0x0f);
	__m512i q;

	*raw = loadu512(w);
	q = _mm512_permutex2var_epi16(*raw, idx, loadu512(w + 8));
	return dot_u8s8(dot_u8s8(c0, _mm512_and_si512(q, m4), xl),
			_mm512_and_si512(_mm512_srli_epi16(q, 4), m4), xh);
}

/* Four rows' lane sums side by side: lane b = (r0, r1, r2, r3) of block b. */
static inline __m512i sum4_rows(__m512i a, __m512i b, __m512i c, __m512i d)
{
	__m512i ab = _mm512_add_epi32(_mm512_unpacklo_epi32(a, b),
				      _mm512_unpackhi_epi32(a, b));
	__m512i cd = _mm512_add_epi32(_mm512_unpacklo_epi32(c, d),
				      _mm512_unpackhi_epi32(c, d));

	return _mm512_add_epi32(_mm512_unpacklo_epi64(ab, cd),
				_mm512_unpackhi_epi64(ab, cd));
}

/*
 * From q[k] (lane b: block b's sums of rows k, k + 4, k + 8, k + 12) to
 * s[b] (block b's sums of the sixteen rows in the transposed tile's order).
 */
static inline LXK_ALWAYS void lanes_to_blocks(const __m512i q[4], __m512i s[4])
{
	__m512i lo, hi;

	lo = _mm512_shuffle_i32x4(q[0], q[1], _MM_SHUFFLE(1, 0, 1, 0));
	hi = _mm512_shuffle_i32x4(q[2], q[3], _MM_SHUFFLE(1, 0, 1, 0));
	s[0] = _mm512_shuffle_i32x4(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
	s[1] = _mm512_shuffle_i32x4(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
	lo = _mm512_shuffle_i32x4(q[0], q[1], _MM_SHUFFLE(3, 2, 3, 2));
	hi = _mm512_shuffle_i32x4(q[2], q[3], _MM_SHUFFLE(3, 2, 3, 2));
	s[2] = _mm512_shuffle_i32x4(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
	s[3] = _mm512_shuffle_i32x4(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
}

/*
 * From q[k] (the sums of rows k, k + 4, k + 8, k + 12 in its 128-bit
 * lanes' dwords 0-3, each spread over the four lanes) to the sixteen rows'
 * totals in the transposed tile's order: lane 4k + j, row k + 4j.
 */
static inline __m512i rows_total(const __m512i q[4])
{
	__m512i lo, hi;

	lo = _mm512_add_epi32(
		_mm512_shuffle_i32x4(q[0], q[1], _MM_SHUFFLE(1, 0, 1, 0)),
		_mm512_shuffle_i32x4(q[0], q[1], _MM_SHUFFLE(3, 2, 3, 2)));
	hi = _mm512_add_epi32(
		_mm512_shuffle_i32x4(q[2], q[3], _MM_SHUFFLE(1, 0, 1, 0)),
		_mm512_shuffle_i32x4(q[2], q[3], _MM_SHUFFLE(3, 2, 3, 2)));
	return _mm512_add_epi32(
		_mm512_shuffle_i32x4(lo, hi, _MM_SHUFFLE(2, 0, 2, 0)),
		_mm512_shuffle_i32x4(lo, hi, _MM_SHUFFLE(3, 1, 3, 1)));
}

static inline LXK_ALWAYS void q4_0_t16_gen(size_t nb,
					   const uint8_t *const rp[TQ_ROWS],
					   const uint8_t *x, __m512 *acc)
{
	const __m512i eight = _mm512_set1_epi8(8);
	/* words 4b .. 4b + 3: word 9b (block b's scale) of a, b, a, b */
	const __m512i sidx = _mm512_setr_epi64(
		0x0020000000200000ll, 0x0029000900290009ll,
		0x0032001200320012ll, 0x003b001b003b001bll,
		0x0000000000000000ll, 0x0000000000000000ll,
		0x0000000000000000ll, 0x0000000000000000ll);
	__m512i q[4] LXK_NOINIT, s[4] LXK_NOINIT, a[4] LXK_NOINIT;
	__m512i sw[4] LXK_NOINIT, dw[2] LXK_NOINIT, xl, xh, c0, lo, hi;
	__m512 d;
	size_t j, i;
	int k, b;

	for (j = 0; j + 4 <= nb; j += 4) {
		const uint8_t *xb = x + j * Q8_0_SIZE;

		for (i = j; i < j + 4; i++)
			tq_prefetch_next(1, rp, i, Q4_0_SIZE);
		xl = load4x128(xb + 2, Q8_0_SIZE);
		xh = load4x128(xb + 18, Q8_0_SIZE);
		c0 = _mm512_sub_epi32(_mm512_setzero_si512(),
				      dot_u8s8(dot_u8s8(_mm512_setzero_si512(),
							eight, xl), eight, xh));
#pragma GCC unroll 4
		for (k = 0; k < 4; k++) {
			q[k] = sum4_rows(
				q4_0_row4(rp[k] + j * Q4_0_SIZE, xl, xh, c0,
					  &a[0]),
				q4_0_row4(rp[k + 4] + j * Q4_0_SIZE, xl, xh, c0,
					  &a[1]),
				q4_0_row4(rp[k + 8] + j * Q4_0_SIZE, xl, xh, c0,
					  &a[2]),
				q4_0_row4(rp[k + 12] + j * Q4_0_SIZE, xl, xh, c0,
					  &a[3]));
			/* word 4b + i: block b's scale of row k + 4i */
			sw[k] = _mm512_mask_blend_epi16(0xccccccccu,
				_mm512_permutex2var_epi16(a[0], sidx, a[1]),
				_mm512_permutex2var_epi16(a[2], sidx, a[3]));
		}
		/* block b's scales of rows k + 4i at lane 4k + i: tile order */
		lo = _mm512_inserti64x4(sw[0], _mm512_castsi512_si256(sw[1]), 1);
		hi = _mm512_inserti64x4(sw[2], _mm512_castsi512_si256(sw[3]), 1);
		dw[0] = _mm512_permutex2var_epi64(lo, _mm512_setr_epi64(
			0, 4, 8, 12, 1, 5, 9, 13), hi);
		dw[1] = _mm512_permutex2var_epi64(lo, _mm512_setr_epi64(
			2, 6, 10, 14, 3, 7, 11, 15), hi);
		lanes_to_blocks(q, s);
#pragma GCC unroll 4
		for (b = 0; b < 4; b++) {
			d = _mm512_mul_ps(_mm512_cvtph_ps(b % 2 ?
				_mm512_extracti64x4_epi64(dw[b / 2], 1) :
				_mm512_castsi512_si256(dw[b / 2])),
				_mm512_set1_ps(lxk_f16(xb + b * Q8_0_SIZE)));
			*acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[b]), d,
					       *acc);
		}
	}
	for (i = j; i < nb; i++)
		q4_0_t16_block(1, i, rp, x, 0, acc);
}

static inline LXK_ALWAYS void q4_0_t16(const int T, size_t nb,
				       const uint8_t *const rp[TQ_ROWS],
				       const uint8_t *x, size_t xs, float *out,
				       size_t os, __mmask16 m, bool accumulate)
{
	__m512 c[TQ_TN] LXK_NOINIT;
	size_t i;
	int t;

#pragma GCC unroll 16
	for (t = 0; t < T; t++)
		c[t] = _mm512_setzero_ps();
	if (T == 1) {
		q4_0_t16_gen(nb, rp, x, &c[0]);
	} else {
		for (i = 0; i < nb; i++) {
			tq_prefetch_next(T, rp, i, Q4_0_SIZE);
			q4_0_t16_block(T, i, rp, x, xs, c);
		}
	}
#pragma GCC unroll 16
	for (t = 0; t < T; t++)
		tq_store(out + t * os, c[t], m, accumulate);
}

/* Exact sums of four consecutive blocks. */
static inline __m128i q4_0_sum4(const uint8_t *w, const uint8_t *x)
{
	const __m512i m4 = _mm512_set1_epi8(0x0f);
	__m512i q = load4x128(w + 2, Q4_0_SIZE);
	__m512i xl = load4x128(x + 2, Q8_0_SIZE);
	__m512i xh = load4x128(x + 18, Q8_0_SIZE);
	__m512i lo = _mm512_and_si512(q, m4);
	__m512i hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
	__m512i p, c, s;

	/* sum(q * x) - 8 * sum(x), in int16 pairs per block lane */
	p = _mm512_add_epi16(_mm512_maddubs_epi16(lo, xl),
			     _mm512_maddubs_epi16(hi, xh));
	c = _mm512_add_epi16(_mm512_maddubs_epi16(_mm512_set1_epi8(8), xl),
			     _mm512_maddubs_epi16(_mm512_set1_epi8(8), xh));
	s = _mm512_madd_epi16(_mm512_sub_epi16(p, c), _mm512_set1_epi16(1));
	s = _mm512_add_epi32(s, _mm512_shuffle_epi32(s, _MM_PERM_BADC));
	s = _mm512_add_epi32(s, _mm512_shuffle_epi32(s, _MM_PERM_CDAB));
	return _mm512_castsi512_si128(_mm512_permutexvar_epi32(
		_mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				  0, 0), s));
}

/* Exact sum of one block. */
static inline int q4_0_sum1(const uint8_t *w, const uint8_t *x)
{
	__m128i v = loadu128(w + 2);
	__m256i q = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(v, 4), v),
				     _mm256_set1_epi8(0x0f));
	__m256i xq = loadu256(x + 2);
	__m256i p = _mm256_sub_epi16(_mm256_maddubs_epi16(q, xq),
				     _mm256_maddubs_epi16(
					     _mm256_set1_epi8(8), xq));
	__m256i s = _mm256_madd_epi16(p, _mm256_set1_epi16(1));
	__m128i h = _mm_add_epi32(_mm256_castsi256_si128(s),
				  _mm256_extracti128_si256(s, 1));

	h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(1, 0, 3, 2)));
	h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(2, 3, 0, 1)));
	return _mm_cvtsi128_si32(h);
}

/* The chain c = fma(s, d, c) over four blocks' sums and scales, in order. */
static inline __m128 chain4(__m128 s, __m128 d, __m128 c)
{
	c = _mm_fmadd_ss(s, d, c);
	c = _mm_fmadd_ss(_mm_movehdup_ps(s), _mm_movehdup_ps(d), c);
	c = _mm_fmadd_ss(_mm_movehl_ps(s, s), _mm_movehl_ps(d, d), c);
	return _mm_fmadd_ss(_mm_shuffle_ps(s, s, 3), _mm_shuffle_ps(d, d, 3),
			    c);
}

static inline __m128 chain1(float s, float d, __m128 c)
{
	return _mm_fmadd_ss(_mm_set_ss(s), _mm_set_ss(d), c);
}

static float q4_0_vec_dot(size_t n, const void *vw, const void *vx)
{
	const uint8_t *w = vw, *x = vx;
	size_t i, nb = n / LX_QK;
	__m128 c = _mm_setzero_ps();

	for (i = 0; i + 4 <= nb; i += 4)
		c = chain4(_mm_cvtepi32_ps(q4_0_sum4(w + i * Q4_0_SIZE,
						     x + i * Q8_0_SIZE)),
			   _mm_mul_ps(f16x4(w + i * Q4_0_SIZE, Q4_0_SIZE),
				      f16x4(x + i * Q8_0_SIZE, Q8_0_SIZE)), c);
	for (; i < nb; i++)
		c = chain1((float)q4_0_sum1(w + i * Q4_0_SIZE,
					       x + i * Q8_0_SIZE),
			   lxk_f16(w + i * Q4_0_SIZE) *
			   lxk_f16(x + i * Q8_0_SIZE), c);
	return _mm_cvtss_f32(c);
}

/* ---------------------------------------------------------------------- */
/* Q8_0 . Q8_0                                                            */
/* ---------------------------------------------------------------------- */

/*
 * Both sides are signed, which vpmaddubsw cannot take, so the transposed
 * tile uses vpmaddwd on sign-extended pairs: group g's dword (w0 w1 w2 w3)
 * of each row becomes (w0, w2) and (w1, w3) as int16 pairs, and the
 * activations are widened and reordered to match once per token.
 */
struct tq_block16 {
	uint8_t q[16][64];
};

static inline LXK_ALWAYS void q8_0_t16_prep(const uint8_t *const rp[TQ_ROWS],
					    size_t off, struct tq_block16 *b)
{
	__m512i tr[4] LXK_NOINIT;
	int h, g;

#pragma GCC unroll 16
	for (h = 0; h < 2; h++) {
		transpose16x4(rp, off + 2 + 16 * h, tr);
#pragma GCC unroll 16
		for (g = 0; g < 4; g++) {
			_mm512_storeu_si512(b->q[8 * h + 2 * g],
					    _mm512_srai_epi16(_mm512_slli_epi16(
						    tr[g], 8), 8));
			_mm512_storeu_si512(b->q[8 * h + 2 * g + 1],
					    _mm512_srai_epi16(tr[g], 8));
		}
	}
}

/* Activations as int16 in the order x0 x2 x1 x3 x4 x6 x5 x7 ... */
static inline LXK_ALWAYS void q8_0_t16_xprep(const int T, size_t i,
					     const uint8_t *x, size_t xs,
					     uint8_t xw[TQ_TN][64],
					     float dx[TQ_TN])
{
	const __m512i order = _mm512_setr_epi64(
		0x0003000100020000ll, 0x0007000500060004ll,
		0x000b0009000a0008ll, 0x000f000d000e000cll,
		0x0013001100120010ll, 0x0017001500160014ll,
		0x001b0019001a0018ll, 0x001f001d001e001cll);
	int t;

#pragma GCC unroll 16
	for (t = 0; t < T; t++) {
		const uint8_t *xb = x + t * xs + i * Q8_0_SIZE;

		_mm512_storeu_si512(xw[t], _mm512_permutexvar_epi16(order,
			_mm512_cvtepi8_epi16(loadu256(xb + 2))));
		if (T < 4)
			dx[t] = lxk_f16(xb);
	}
	if (T >= 4)
		f16_tokens(T, x + i * Q8_0_SIZE, xs, dx);
}

/* One token's update: acc = fma(S, D, acc) for the 16 rows. */
static inline __m512 q8_0_t16_tok(const struct tq_block16 *b,
				  const uint8_t *xw, __m512 dw, float dx,
				  __m512 acc)
{
	__m512i s = _mm512_setzero_si512();
	int k;

#pragma GCC unroll 16
	for (k = 0; k < 16; k++) {
		s = _mm512_add_epi32(s, _mm512_madd_epi16(
			_mm512_set1_epi32((int)lxk_u32(xw + 4 * k)),
			_mm512_loadu_si512(b->q[k])));
		LXK_CHAIN(s);
	}
	return _mm512_fmadd_ps(_mm512_cvtepi32_ps(s),
			       _mm512_mul_ps(dw, _mm512_set1_ps(dx)), acc);
}

#ifdef LXK_VNNI
static inline LXK_ALWAYS void q8_0_t16_block(const int T, size_t i,
					     const uint8_t *const rp[TQ_ROWS],
					     const uint8_t *x, size_t xs,
					     __m512 acc[TQ_TN])
{
	u8_t16_block(LX_TYPE_Q8_0, T, i, rp, x, xs, acc);
}
#else
static inline LXK_ALWAYS void q8_0_t16_block(const int T, size_t i,
					     const uint8_t *const rp[TQ_ROWS],
					     const uint8_t *x, size_t xs,
					     __m512 acc[TQ_TN])
{
	struct tq_block16 b LXK_NOINIT;
	uint8_t xw[TQ_TN][64] LXK_NOINIT;
	float dx[TQ_TN] LXK_NOINIT;
	__m512 dw;
	int t;

	q8_0_t16_xprep(T, i, x, xs, xw, dx);
	q8_0_t16_prep(rp, i * Q8_0_SIZE, &b);
	if (T > 2) {	/* few tokens: registers suffice, skip the stores */
		LXK_IN_MEMORY(&b);
		LXK_IN_MEMORY(&xw);
	}
	dw = f16x16_rows(rp, i * Q8_0_SIZE);
#pragma GCC unroll 16
	for (t = 0; t < T; t++)
		acc[t] = q8_0_t16_tok(&b, xw[t], dw, dx[t], acc[t]);
}
#endif

static inline LXK_ALWAYS void q8_0_t16(const int T, size_t nb,
				       const uint8_t *const rp[TQ_ROWS],
				       const uint8_t *x, size_t xs, float *out,
				       size_t os, __mmask16 m, bool accumulate)
{
	__m512 c[TQ_TN] LXK_NOINIT;
	size_t i;
	int t;

#pragma GCC unroll 16
	for (t = 0; t < T; t++)
		c[t] = _mm512_setzero_ps();
	for (i = 0; i < nb; i++) {
		tq_prefetch_next(T, rp, i, Q8_0_SIZE);
		q8_0_t16_block(T, i, rp, x, xs, c);
	}
#pragma GCC unroll 16
	for (t = 0; t < T; t++)
		tq_store(out + t * os, c[t], m, accumulate);
}

/* |w| times x with w's sign, for vpmaddubsw (w, x in -127..127). */
static inline __m512i dot_s8_pairs(__m512i w, __m512i x)
{
	return _mm512_maddubs_epi16(_mm512_abs_epi8(w), _mm512_mask_sub_epi8(
		x, _mm512_movepi8_mask(w), _mm512_setzero_si512(), x));
}

/* Exact sums of four consecutive blocks. */
static inline __m128i q8_0_sum4(const uint8_t *w, const uint8_t *x)
{
	const __m512i ones = _mm512_set1_epi16(1);
	__m512i s;

	s = _mm512_add_epi32(
		_mm512_madd_epi16(dot_s8_pairs(load4x128(w + 2, Q8_0_SIZE),
					       load4x128(x + 2, Q8_0_SIZE)),
				  ones),
		_mm512_madd_epi16(dot_s8_pairs(load4x128(w + 18, Q8_0_SIZE),
					       load4x128(x + 18, Q8_0_SIZE)),
				  ones));
	s = _mm512_add_epi32(s, _mm512_shuffle_epi32(s, _MM_PERM_BADC));
	s = _mm512_add_epi32(s, _mm512_shuffle_epi32(s, _MM_PERM_CDAB));
	return _mm512_castsi512_si128(_mm512_permutexvar_epi32(
		_mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				  0, 0), s));
}

static inline int q8_0_sum1(const uint8_t *w, const uint8_t *x)
{
	__m256i wq = loadu256(w + 2), xq = loadu256(x + 2);
	__m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(
		_mm256_abs_epi8(wq), _mm256_sign_epi8(xq, wq)),
		_mm256_set1_epi16(1));
	__m128i h = _mm_add_epi32(_mm256_castsi256_si128(s),
				  _mm256_extracti128_si256(s, 1));

	h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(1, 0, 3, 2)));
	h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(2, 3, 0, 1)));
	return _mm_cvtsi128_si32(h);
}

static float q8_0_vec_dot(size_t n, const void *vw, const void *vx)
{
	const uint8_t *w = vw, *x = vx;
	size_t i, nb = n / LX_QK;
	__m128 c = _mm_setzero_ps();

	for (i = 0; i + 4 <= nb; i += 4)
		c = chain4(_mm_cvtepi32_ps(q8_0_sum4(w + i * Q8_0_SIZE,
						     x + i * Q8_0_SIZE)),
			   _mm_mul_ps(f16x4(w + i * Q8_0_SIZE, Q8_0_SIZE),
				      f16x4(x + i * Q8_0_SIZE, Q8_0_SIZE)), c);
	for (; i < nb; i++)
		c = chain1((float)q8_0_sum1(w + i * Q8_0_SIZE,
					       x + i * Q8_0_SIZE),
			   lxk_f16(w + i * Q8_0_SIZE) *
			   lxk_f16(x + i * Q8_0_SIZE), c);
	return _mm_cvtss_f32(c);
}

/* ---------------------------------------------------------------------- */
/* k-quant sums in the weights' own layout (for vec_dot)                  */
/* ---------------------------------------------------------------------- */

/*
 * As on AVX2 (see kernels_avx2.c), with 64-element chunks: a chunk's
 * quants are made unsigned in one zmm, vpmaddubsw multiplies them with the
 * activations and vpmaddwd applies the sub-block scales (one vpermw picks
 * them). Q4_K's and Q6_K's vec_dot reduce these to the exact sums their
 * row-transposed gemm works with. (Q2_K, Q3_K and Q5_K keep the AVX2
 * kernels: 512-bit tiles of this kind were no faster on a CPU that splits
 * 512-bit operations.)
 */


/* 32 bytes in both halves of a zmm (vbroadcasti64x4 from memory). */
static inline __m512i bcast256(const uint8_t *p)
{
	return _mm512_broadcast_i64x4(loadu256(p));
}

/* Bits [a, a + w) of each byte in the low half, [b, b + w) in the high. */
static inline LXK_ALWAYS __m512i bits2(__m512i v, const int a, const int b,
				       const int w)
{
	const __m512i n = _mm512_setr_epi64(a * 0x0001000100010001ll,
					    a * 0x0001000100010001ll,
					    a * 0x0001000100010001ll,
					    a * 0x0001000100010001ll,
					    b * 0x0001000100010001ll,
					    b * 0x0001000100010001ll,
					    b * 0x0001000100010001ll,
					    b * 0x0001000100010001ll);

	return _mm512_and_si512(_mm512_srlv_epi16(v, n),
				_mm512_set1_epi8((char)((1 << w) - 1)));
}

/* Sets up *rs; returns the int16 sub-block scales in the low lanes. */
static inline LXK_ALWAYS __m512i kz_row_setup(const int type, const uint8_t *b,
					      struct kq_row *rs)
{
	__m128i v;

	if (type == KQ_Q4_K) {
		v = _mm_cvtsi64_si128((long long)k4_scales(b + 4, &rs->lo));
		rs->hi = 0;
		rs->d = lxk_f16(b);
		rs->dmin = lxk_f16(b + 2);
		return _mm512_zextsi128_si512(_mm_cvtepu8_epi16(v));
	}
	/* Q6_K: int8 scales */
	v = loadu128(b + 192);
	rs->lo = (uint64_t)_mm_cvtsi128_si64(v);
	rs->hi = (uint64_t)_mm_extract_epi64(v, 1);
	rs->d = lxk_f16(b + 208);
	return _mm512_zextsi256_si512(_mm256_cvtepi8_epi16(v));
}

/* Chunk c's 64 quants (elements 64c..64c+63), unsigned, in order. */
static inline LXK_ALWAYS __m512i kz_quants(const int type, const uint8_t *b,
					   const int c)
{
	const int e = c % 2;
	__m512i lo;

	if (type == KQ_Q4_K)	/* sub-blocks 2c, 2c + 1: the two nibbles */
		return bits2(bcast256(b + 16 + 32 * c), 0, 4, 4);
	/* Q6_K: half c / 2, groups 2e and 2e + 1 */
	lo = _mm512_and_si512(_mm512_srli_epi16(loadu512(b + 64 * (c / 2)),
						4 * e),
			      _mm512_set1_epi8(0x0f));
	return _mm512_or_si512(lo, _mm512_slli_epi16(
		bits2(bcast256(b + 128 + 32 * (c / 2)), 4 * e, 4 * e + 2, 2),
		4));
}

/*
 * Chunk c's scales: int16 lane l covers elements 2l and 2l + 1, so each
 * group of four lanes (a qword of the index) lies in sub-block
 * first + 8 * j / size.
 */
static inline LXK_ALWAYS __m512i kz_scales(const int type, __m512i sc,
					   const int c)
{
	const bool k32 = type == KQ_Q4_K;	/* 32 or 16 elements */
	const long long k = k32 ? 2 * c : 4 * c, rep = 0x0001000100010001ll;
	const __m512i idx = k32 ?
		_mm512_setr_epi64(k * rep, k * rep, k * rep, k * rep,
				  (k + 1) * rep, (k + 1) * rep, (k + 1) * rep,
				  (k + 1) * rep) :
		_mm512_setr_epi64(k * rep, k * rep, (k + 1) * rep,
				  (k + 1) * rep, (k + 2) * rep, (k + 2) * rep,
				  (k + 3) * rep, (k + 3) * rep);

	return _mm512_permutexvar_epi16(idx, sc);
}

/*
 * A row's chunk c in generation: its 64 unsigned quants q by the
 * activations' chunk, then by the sub-block scales, added to s.
 */
static inline LXK_ALWAYS __m512i kz_chunk_dot(const int type, __m512i s,
					      __m512i q, const __m512i xq[4],
					      __m512i sc, const int c)
{
	const __m512i a = _mm512_maddubs_epi16(q, xq[c]);

#ifdef LXK_VNNI
	return _mm512_dpwssd_epi32(s, a, kz_scales(type, sc, c));
#else
	return _mm512_add_epi32(s, _mm512_madd_epi16(a,
						     kz_scales(type, sc, c)));
#endif
}

/* ---------------------------------------------------------------------- */
/* Q4_K . Q8_K, row-transposed                                            */
/* ---------------------------------------------------------------------- */

/*
 * Per super-block and output: isum = sum(sc * q . x) and summ =
 * sum(m * bsum), both exact; then c = fnmadd(summ, dmin * dx, c) and
 * c = fma(isum, d * dx, c), one chain. For 16 rows at once: the unpacked
 * scales and mins are transposed like the quants, a 32-element sub-block
 * is eight vpmaddubsw of unsigned nibbles by broadcast activations summed
 * in int16 (at most 8 * 2 * 15 * 128 = 30720), and one vpmaddwd applies
 * the sub-block's scale; the mins meet the bsums once per super-block.
 */
struct k4_buf {
	uint8_t q[16][64];	/* mins vectors, then each chunk's quants */
	uint8_t sm[TQ_ROWS][16];	/* per row: 8 scales, 8 mins */
	uint8_t s4[2][64];	/* the scales, transposed */
	float d[2][16];		/* d and dmin of the rows, in lane order */
};

/* (v_k, v_k) as int16 pairs per dword lane, v_k = byte k of each dword. */
static inline __m512i dup_byte(__m512i v, const int k)
{
	const uint64_t b = (uint64_t)k, z = 0x80;
	const uint64_t d = b | z << 8 | b << 16 | z << 24;
	const uint64_t q = d | (d + 0x00040004) << 32;
	const __m128i ctl = _mm_set_epi64x(
		(long long)(q + 0x0008000800080008ull), (long long)q);

	return _mm512_shuffle_epi8(v, _mm512_broadcast_i32x4(ctl));
}

static inline LXK_ALWAYS void q4_k_t16_block(const int T, size_t i,
					     const uint8_t *const rp[TQ_ROWS],
					     const uint8_t *x, size_t xs,
					     __m512 acc[TQ_TN])
{
	const size_t off = i * Q4_K_SIZE;
	const __m512i m4 = _mm512_set1_epi8(0x0f);
	struct k4_buf b LXK_NOINIT;
	const uint8_t *sp[TQ_ROWS] LXK_NOINIT;
	__m512i s4[4] LXK_NOINIT, tr[4] LXK_NOINIT, isum[TQ_TN] LXK_NOINIT;
	__m512i m, sl, sh, lo, hi;
	int r, t, c, h, g, k;

	/*
	 * scales and mins of the 16 rows, transposed: s4[0..1] scales 0-7,
	 * s4[2..3] mins 0-7, byte k of lane p's dword = entry 4 * j + k
	 */
#pragma GCC unroll 16
	for (r = 0; r < TQ_ROWS; r++) {
		uint64_t mn, sc = k4_scales(rp[r] + off + 4, &mn);

		lxk_put64(b.sm[r], sc);
		lxk_put64(b.sm[r] + 8, mn);
		sp[r] = b.sm[r];
	}
	transpose16x4(sp, 0, s4);
	_mm512_storeu_si512(b.s4[0], s4[0]);
	_mm512_storeu_si512(b.s4[1], s4[1]);
	_mm512_storeu_ps(b.d[0], f16x16_rows(rp, off));
	_mm512_storeu_ps(b.d[1], f16x16_rows(rp, off + 2));
#pragma GCC unroll 16
	for (k = 0; k < 8; k++)
		_mm512_storeu_si512(b.q[k], dup_byte(s4[2 + k / 4], k % 4));
	/*
	 * from here on, what the block needs is read back from b as memory
	 * operands: registers hold the tokens' sums
	 */
	LXK_IN_MEMORY(&b);

	/* the mins: summ pairs each min with two bsums */
#pragma GCC unroll 16
	for (t = 0; t < T; t++) {
		const uint8_t *xb = x + t * xs + i * Q8_K_SIZE;

		m = _mm512_setzero_si512();
#pragma GCC unroll 16
		for (k = 0; k < 8; k++) {
			m = _mm512_add_epi32(m, _mm512_madd_epi16(
				_mm512_loadu_si512(b.q[k]), _mm512_set1_epi32(
				(int)lxk_u32(xb + Q8_K_BSUMS + 4 * k))));
			LXK_CHAIN(m);
		}
		acc[t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(m), _mm512_mul_ps(
			_mm512_loadu_ps(b.d[1]), _mm512_set1_ps(lxk_f32(xb))),
			acc[t]);
		isum[t] = _mm512_setzero_si512();
	}

	/* four chunks of 64: sub-blocks 2c (low nibbles), 2c + 1 (high) */
#pragma GCC unroll 16
	for (c = 0; c < 4; c++) {
#pragma GCC unroll 16
		for (h = 0; h < 2; h++) {
			transpose16x4(rp, off + 16 + 32 * c + 16 * h, tr);
#pragma GCC unroll 16
			for (g = 0; g < 4; g++) {
				lo = _mm512_and_si512(tr[g], m4);
				hi = _mm512_and_si512(_mm512_srli_epi16(tr[g], 4),
						      m4);
				_mm512_storeu_si512(b.q[4 * h + g], lo);
				_mm512_storeu_si512(b.q[8 + 4 * h + g], hi);
			}
		}
		LXK_IN_MEMORY(&b);
		sl = dup_byte(_mm512_loadu_si512(b.s4[c / 2]), (2 * c) % 4);
		sh = dup_byte(_mm512_loadu_si512(b.s4[c / 2]),
			      (2 * c + 1) % 4);
#pragma GCC unroll 16
		for (t = 0; t < T; t++) {
			const uint8_t *xq = x + t * xs + i * Q8_K_SIZE + Q8_K_QS +
					    64 * c;
			__m512i a = _mm512_setzero_si512();
			__m512i e = _mm512_setzero_si512();

			/*
			 * reload the quants for each token rather than keeping
			 * all sixteen vectors in registers
			 */
			LXK_IN_MEMORY(&b);
#pragma GCC unroll 16
			for (g = 0; g < 8; g++) {
				a = _mm512_add_epi16(a, _mm512_maddubs_epi16(
					_mm512_loadu_si512(b.q[g]),
					_mm512_set1_epi32((int)lxk_u32(xq +
								       4 * g))));
				LXK_CHAIN(a);
			}
#pragma GCC unroll 16
			for (g = 0; g < 8; g++) {
				e = _mm512_add_epi16(e, _mm512_maddubs_epi16(
					_mm512_loadu_si512(b.q[8 + g]),
					_mm512_set1_epi32((int)lxk_u32(xq + 32 +
								       4 * g))));
				LXK_CHAIN(e);
			}
			isum[t] = _mm512_add_epi32(isum[t], _mm512_add_epi32(
				_mm512_madd_epi16(a, sl),
				_mm512_madd_epi16(e, sh)));
			LXK_CHAIN(isum[t]);
		}
	}
#pragma GCC unroll 16
	for (t = 0; t < T; t++) {
		const uint8_t *xb = x + t * xs + i * Q8_K_SIZE;

		acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]),
					 _mm512_mul_ps(_mm512_loadu_ps(b.d[0]),
						       _mm512_set1_ps(
							       lxk_f32(xb))),
					 acc[t]);
	}
}

/*
 * Generation on Q4_K, as on Q6_K (see q6_k_t16_gen): a row's isum from
 * its chunks in place, and its summ (mins by pairs of bsums), each summed
 * into the tile's lane order; the float steps are the tile's.
 */
static inline LXK_ALWAYS __m512i q4_k_row(const uint8_t *w,
					  const __m512i xq[4], __m256i bs,
					  __m512i *summ)
{
	struct kq_row rs;
	const __m512i sc = kz_row_setup(KQ_Q4_K, w, &rs);
	__m512i s = _mm512_setzero_si512();
	int c;

	*summ = _mm512_zextsi256_si512(_mm256_madd_epi16(_mm256_cvtepu8_epi16(
		_mm_unpacklo_epi8(kq_bytes(&rs), kq_bytes(&rs))), bs));
#pragma GCC unroll 4
	for (c = 0; c < 4; c++)
		s = kz_chunk_dot(KQ_Q4_K, s, kz_quants(KQ_Q4_K, w, c), xq, sc,
				 c);
	return s;
}

static inline LXK_ALWAYS void q4_k_t16_gen(size_t nb,
					   const uint8_t *const rp[TQ_ROWS],
					   const uint8_t *x, __m512 *acc)
{
	__m512i xq[4] LXK_NOINIT, q[4] LXK_NOINIT, m[4] LXK_NOINIT;
	__m512i m0, m1, m2, m3;
	__m512 dx;
	__m256i bs;
	size_t i;
	int c, k;

	for (i = 0; i < nb; i++) {
		const uint8_t *xb = x + i * Q8_K_SIZE;
		const size_t off = i * Q4_K_SIZE;

#pragma GCC unroll 4
		for (c = 0; c < 4; c++)
			xq[c] = loadu512(xb + Q8_K_QS + 64 * c);
		bs = loadu256(xb + Q8_K_BSUMS);
#pragma GCC unroll 4
		for (k = 0; k < 4; k++) {
			tq_prefetch_next_part(rp, i, Q4_K_SIZE, k, 4);
			q[k] = sum4_rows(q4_k_row(rp[k] + off, xq, bs, &m0),
					 q4_k_row(rp[k + 4] + off, xq, bs, &m1),
					 q4_k_row(rp[k + 8] + off, xq, bs, &m2),
					 q4_k_row(rp[k + 12] + off, xq, bs,
						  &m3));
			m[k] = sum4_rows(m0, m1, m2, m3);
		}
		dx = _mm512_set1_ps(lxk_f32(xb));
		*acc = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(rows_total(m)),
			_mm512_mul_ps(f16x16_rows(rp, off + 2), dx), *acc);
		*acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(rows_total(q)),
			_mm512_mul_ps(f16x16_rows(rp, off), dx), *acc);
	}
}

static inline LXK_ALWAYS void q4_k_t16(const int T, size_t nb,
				       const uint8_t *const rp[TQ_ROWS],
				       const uint8_t *x, size_t xs, float *out,
				       size_t os, __mmask16 m, bool accumulate)
{
	__m512 c[TQ_TN] LXK_NOINIT;
	size_t i;
	int t;

#pragma GCC unroll 16
	for (t = 0; t < T; t++)
		c[t] = _mm512_setzero_ps();
	if (T == 1) {
		q4_k_t16_gen(nb, rp, x, &c[0]);
	} else {
		for (i = 0; i < nb; i++) {
			tq_prefetch_next(T, rp, i, Q4_K_SIZE);
			q4_k_t16_block(T, i, rp, x, xs, c);
		}
	}
#pragma GCC unroll 16
	for (t = 0; t < T; t++)
		tq_store(out + t * os, c[t], m, accumulate);
}

/*
 * vec_dot with the same arithmetic: kz_tile's integer sums, reduced to
 * one exact isum and summ per super-block, then the same two FMAs.
 */
static float q4_k_vec_dot(size_t n, const void *vw, const void *vx)
{
	const uint8_t *w = vw, *x = vx;
	size_t i, nb = n / LX_QK_K;
	__m128 c = _mm_setzero_ps();
	struct kq_row rs;
	__m512i sc, isum;
	__m256i mn;
	int ch;

	for (i = 0; i < nb; i++, w += Q4_K_SIZE, x += Q8_K_SIZE) {
		sc = kz_row_setup(KQ_Q4_K, w, &rs);
		isum = _mm512_setzero_si512();
#pragma GCC unroll 16
		for (ch = 0; ch < 4; ch++)
			isum = _mm512_add_epi32(isum, _mm512_madd_epi16(
				_mm512_maddubs_epi16(
					kz_quants(KQ_Q4_K, w, ch),
					loadu512(x + Q8_K_QS + 64 * ch)),
				kz_scales(KQ_Q4_K, sc, ch)));
		mn = _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_unpacklo_epi8(
			kq_bytes(&rs), kq_bytes(&rs))), loadu256(x + Q8_K_BSUMS));
		c = _mm_fnmadd_ss(_mm_cvtsi32_ss(c, _mm512_reduce_add_epi32(
			_mm512_zextsi256_si512(mn))),
			_mm_set_ss(rs.dmin * lxk_f32(x)), c);
		c = _mm_fmadd_ss(_mm_cvtsi32_ss(c, _mm512_reduce_add_epi32(isum)),
				 _mm_set_ss(rs.d * lxk_f32(x)), c);
	}
	return _mm_cvtss_f32(c);
}

/* ---------------------------------------------------------------------- */
/* Q6_K . Q8_K, row-transposed                                            */
/* ---------------------------------------------------------------------- */

/*
 * As Q4_K, with Q6_K's layout: per output and super-block, isum =
 * sum(sc * (q + 32) . x) - 32 * sum(sc * bsum), exact, then
 * c = fma(isum, d * dx, c). Quants go in unsigned (q + 32, 0..63), so two
 * groups of four fill an int16 (2 * 2 * 63 * 128 = 32256) before each
 * vpmaddwd applies a 16-element sub-block's scale.
 */
struct k6_buf {
	uint8_t q[16][64];	/* scale pairs, then each chunk's quants */
	uint8_t s[4][64];	/* the transposed int8 scales */
	float d[16];		/* the rows' d, in lane order */
};

/* Bytes k0 and k1 of each dword, sign-extended to an int16 pair. */
static inline __m512i sdup_bytes(__m512i v, const int k0, const int k1)
{
	const uint64_t z = 0x80;
	const uint64_t d = z | (uint64_t)k0 << 8 | z << 16 |
			   (uint64_t)k1 << 24;
	const uint64_t q = d | (d + 0x04000400) << 32;
	const __m128i ctl = _mm_set_epi64x(
		(long long)(q + 0x0800080008000800ull), (long long)q);

	return _mm512_srai_epi16(_mm512_shuffle_epi8(
		v, _mm512_broadcast_i32x4(ctl)), 8);
}

static inline LXK_ALWAYS void q6_k_t16_block(const int T, size_t i,
					     const uint8_t *const rp[TQ_ROWS],
					     const uint8_t *x, size_t xs,
					     __m512 acc[TQ_TN])
{
	const size_t off = i * Q6_K_SIZE;
	const __m512i m4 = _mm512_set1_epi8(0x0f), m3 = _mm512_set1_epi8(3);
	struct k6_buf b LXK_NOINIT;
	__m512i s4[4] LXK_NOINIT, tl[4] LXK_NOINIT, th[8] LXK_NOINIT;
	__m512i isum[TQ_TN] LXK_NOINIT, sc[4] LXK_NOINIT;
	__m512i m, lo, hi;
	int t, c, g, k, j;

	transpose16x4(rp, off + 192, s4);
#pragma GCC unroll 16
	for (j = 0; j < 4; j++)
		_mm512_storeu_si512(b.s[j], s4[j]);
#pragma GCC unroll 16
	for (k = 0; k < 8; k++)
		_mm512_storeu_si512(b.q[k], sdup_bytes(s4[k / 2], 2 * (k % 2),
						       2 * (k % 2) + 1));
	_mm512_storeu_ps(b.d, f16x16_rows(rp, off + 208));
	LXK_IN_MEMORY(&b);	/* read back as memory operands, see Q4_K */

	/* the offset: 32 * sum(sc * bsum), scales paired with bsums */
#pragma GCC unroll 16
	for (t = 0; t < T; t++) {
		const uint8_t *xb = x + t * xs + i * Q8_K_SIZE;

		m = _mm512_setzero_si512();
#pragma GCC unroll 16
		for (k = 0; k < 8; k++) {
			m = _mm512_add_epi32(m, _mm512_madd_epi16(
				_mm512_loadu_si512(b.q[k]), _mm512_set1_epi32(
				(int)lxk_u32(xb + Q8_K_BSUMS + 4 * k))));
			LXK_CHAIN(m);
		}
		isum[t] = _mm512_sub_epi32(_mm512_setzero_si512(),
					   _mm512_slli_epi32(m, 5));
	}

	/*
	 * chunk c: half c / 2, low bits from nibble c % 2 of ql, high bits
	 * from bit pairs of qh; group g = elements 4g..4g + 3
	 */
#pragma GCC unroll 16
	for (c = 0; c < 4; c++) {
		const int e = c % 2;

		/* (redone for each chunk: eight vectors are too many to keep) */
#pragma GCC unroll 16
		for (j = 0; j < 2; j++)
			transpose16x4(rp, off + 128 + 32 * (c / 2) + 16 * j,
				      th + 4 * j);
#pragma GCC unroll 16
		for (j = 0; j < 4; j++) {
			transpose16x4(rp, off + 64 * (c / 2) + 16 * j, tl);
#pragma GCC unroll 16
			for (k = 0; k < 4; k++) {
				g = 4 * j + k;
				lo = _mm512_and_si512(_mm512_srli_epi16(
					tl[k], 4 * e), m4);
				hi = _mm512_and_si512(_mm512_srli_epi16(
					th[g % 8], 4 * e + (g >= 8 ? 2 : 0)), m3);
				_mm512_storeu_si512(b.q[g], _mm512_or_si512(lo,
					_mm512_slli_epi16(hi, 4)));
			}
		}
		LXK_IN_MEMORY(&b);
#pragma GCC unroll 16
		for (k = 0; k < 4; k++)
			sc[k] = sdup_bytes(_mm512_loadu_si512(b.s[c]), k, k);
#pragma GCC unroll 16
		for (t = 0; t < T; t++) {
			const uint8_t *xq = x + t * xs + i * Q8_K_SIZE + Q8_K_QS +
					    64 * c;

			LXK_IN_MEMORY(&b);
#pragma GCC unroll 16
			for (k = 0; k < 8; k++) {	/* half sub-blocks of 8 */
				__m512i a = _mm512_add_epi16(
					_mm512_maddubs_epi16(
					_mm512_loadu_si512(b.q[2 * k]),
					_mm512_set1_epi32((int)lxk_u32(
						xq + 8 * k))),
					_mm512_maddubs_epi16(
					_mm512_loadu_si512(b.q[2 * k + 1]),
					_mm512_set1_epi32((int)lxk_u32(
						xq + 8 * k + 4))));

				isum[t] = _mm512_add_epi32(isum[t],
					_mm512_madd_epi16(a, sc[k / 2]));
				LXK_CHAIN(isum[t]);
			}
		}
	}
#pragma GCC unroll 16
	for (t = 0; t < T; t++) {
		const uint8_t *xb = x + t * xs + i * Q8_K_SIZE;

		acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]),
			_mm512_mul_ps(_mm512_loadu_ps(b.d),
				      _mm512_set1_ps(lxk_f32(xb))), acc[t]);
	}
}

/*
 * Generation on Q6_K, as on Q4_0 (see q4_0_t16_gen): each row's
 * super-block is read in place, in vec_dot's order (a chunk's 64 unsigned
 * quants by the activations, then by their sub-block scales), starting at
 * -32 * sum(sc * bsum); the sixteen rows' dword partial sums are then
 * summed into the tile's lane order, which leaves each row's exact isum,
 * and the float step is the tile's.
 */
static inline LXK_ALWAYS __m512i q6_k_row(const uint8_t *w,
					  const __m512i xq[4], __m256i nbs)
{
	const __m512i m4 = _mm512_set1_epi8(0x0f), m2 = _mm512_set1_epi8(0x30);
	/* where a chunk's high bits are, per half: moved to bits 4-5 */
	const __m512i up = _mm512_setr_epi64(
		0x0004000400040004ll, 0x0004000400040004ll,
		0x0004000400040004ll, 0x0004000400040004ll,
		0x0002000200020002ll, 0x0002000200020002ll,
		0x0002000200020002ll, 0x0002000200020002ll);
	const __m512i down = _mm512_setr_epi64(0, 0, 0, 0,
		0x0002000200020002ll, 0x0002000200020002ll,
		0x0002000200020002ll, 0x0002000200020002ll);
	const __m256i sc16 = _mm256_cvtepi8_epi16(loadu128(w + 192));
	const __m512i sc = _mm512_castsi256_si512(sc16);
	__m512i s, ql, qh, lo, hi, q;
	int c;

	s = _mm512_zextsi256_si512(_mm256_slli_epi32(
		_mm256_madd_epi16(sc16, nbs), 5));
#pragma GCC unroll 4
	for (c = 0; c < 4; c++) {
		/* chunk c: nibble c % 2 of ql and bit pairs of qh, half c / 2 */
		ql = loadu512(w + 64 * (c / 2));
		qh = bcast256(w + 128 + 32 * (c / 2));
		lo = _mm512_and_si512(c % 2 ? _mm512_srli_epi16(ql, 4) : ql, m4);
		hi = c % 2 ? _mm512_srlv_epi16(qh, down) :
			     _mm512_sllv_epi16(qh, up);
		q = _mm512_ternarylogic_epi32(lo, hi, m2, 0xf8); /* a | b & c */
		s = kz_chunk_dot(KQ_Q6_K, s, q, xq, sc, c);
	}
	return s;
}

static inline LXK_ALWAYS void q6_k_t16_gen(size_t nb,
					   const uint8_t *const rp[TQ_ROWS],
					   const uint8_t *x, __m512 *acc)
{
	__m512i xq[4] LXK_NOINIT, q[4] LXK_NOINIT;
	__m256i nbs;
	size_t i;
	int c, k;

	for (i = 0; i < nb; i++) {
		const uint8_t *xb = x + i * Q8_K_SIZE;
		const size_t off = i * Q6_K_SIZE;

#pragma GCC unroll 4
		for (c = 0; c < 4; c++)
			xq[c] = loadu512(xb + Q8_K_QS + 64 * c);
		nbs = _mm256_sub_epi16(_mm256_setzero_si256(),
				       loadu256(xb + Q8_K_BSUMS));
#pragma GCC unroll 4
		for (k = 0; k < 4; k++) {
			tq_prefetch_next_part(rp, i, Q6_K_SIZE, k, 4);
			q[k] = sum4_rows(q6_k_row(rp[k] + off, xq, nbs),
					 q6_k_row(rp[k + 4] + off, xq, nbs),
					 q6_k_row(rp[k + 8] + off, xq, nbs),
					 q6_k_row(rp[k + 12] + off, xq, nbs));
		}
		*acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(rows_total(q)),
			_mm512_mul_ps(
			f16x16_rows(rp, off + 208), _mm512_set1_ps(lxk_f32(xb))),
			*acc);
	}
}

static inline LXK_ALWAYS void q6_k_t16(const int T, size_t nb,
				       const uint8_t *const rp[TQ_ROWS],
				       const uint8_t *x, size_t xs, float *out,
				       size_t os, __mmask16 m, bool accumulate)
{
	__m512 c[TQ_TN] LXK_NOINIT;
	size_t i;
	int t;

#pragma GCC unroll 16
	for (t = 0; t < T; t++)
		c[t] = _mm512_setzero_ps();
	if (T == 1) {
		q6_k_t16_gen(nb, rp, x, &c[0]);
	} else {
		for (i = 0; i < nb; i++) {
			tq_prefetch_next(T, rp, i, Q6_K_SIZE);
			q6_k_t16_block(T, i, rp, x, xs, c);
		}
	}
#pragma GCC unroll 16
	for (t = 0; t < T; t++)
		tq_store(out + t * os, c[t], m, accumulate);
}

static float q6_k_vec_dot(size_t n, const void *vw, const void *vx)
{
	const uint8_t *w = vw, *x = vx;
	size_t i, nb = n / LX_QK_K;
	__m128 c = _mm_setzero_ps();
	struct kq_row rs;
	__m512i sc, isum;
	__m256i m;
	int ch;

	for (i = 0; i < nb; i++, w += Q6_K_SIZE, x += Q8_K_SIZE) {
		sc = kz_row_setup(KQ_Q6_K, w, &rs);
		isum = _mm512_setzero_si512();
#pragma GCC unroll 16
		for (ch = 0; ch < 4; ch++)
			isum = _mm512_add_epi32(isum, _mm512_madd_epi16(
				_mm512_maddubs_epi16(
					kz_quants(KQ_Q6_K, w, ch),
					loadu512(x + Q8_K_QS + 64 * ch)),
				kz_scales(KQ_Q6_K, sc, ch)));
		m = _mm256_madd_epi16(_mm256_cvtepi8_epi16(kq_bytes(&rs)),
				      loadu256(x + Q8_K_BSUMS));
		isum = _mm512_sub_epi32(isum, _mm512_zextsi256_si512(
			_mm256_slli_epi32(m, 5)));
		c = _mm_fmadd_ss(_mm_cvtsi32_ss(c, _mm512_reduce_add_epi32(isum)),
				 _mm_set_ss(rs.d * lxk_f32(x)), c);
	}
	return _mm_cvtss_f32(c);
}

/* ---------------------------------------------------------------------- */
/* Row-transposed gemm driver                                             */
/* ---------------------------------------------------------------------- */

/* One function per tile width, each with its own stack frame. */
#define TQ_ARGS size_t nb, const uint8_t *const rp[TQ_ROWS],		\
		const uint8_t *x, size_t xs, float *out, size_t os,	\
		__mmask16 m, bool accumulate
#define TQ_SHAPE(tile, T)						\
static __attribute__((__noinline__)) void tile##_##T(TQ_ARGS)		\
{									\
	tile(T, nb, rp, x, xs, out, os, m, accumulate);			\
}

/* The shapes past 8 tokens, and the table of a tile's shapes by width. */
#if TQ_TN == 16
#define TQ_WIDTHS(tile)							\
TQ_SHAPE(tile, 9)							\
TQ_SHAPE(tile, 10)							\
TQ_SHAPE(tile, 11)							\
TQ_SHAPE(tile, 12)							\
TQ_SHAPE(tile, 13)							\
TQ_SHAPE(tile, 14)							\
TQ_SHAPE(tile, 15)							\
TQ_SHAPE(tile, 16)							\
static void (*const tile##_width[TQ_TN + 1])(TQ_ARGS) = {		\
	NULL, tile##_1, tile##_2, tile##_3, tile##_4, tile##_5,		\
	tile##_6, tile##_7, tile##_8, tile##_9, tile##_10, tile##_11,	\
	tile##_12, tile##_13, tile##_14, tile##_15, tile##_16		\
}
#else
#define TQ_WIDTHS(tile)							\
static void (*const tile##_width[TQ_TN + 1])(TQ_ARGS) = {		\
	NULL, tile##_1, tile##_2, tile##_3, tile##_4, tile##_5,		\
	tile##_6, tile##_7, tile##_8					\
}
#endif

#define TQ_GEMM(name, tile, bs)						\
TQ_SHAPE(tile, 1)							\
TQ_SHAPE(tile, 2)							\
TQ_SHAPE(tile, 3)							\
TQ_SHAPE(tile, 4)							\
TQ_SHAPE(tile, 5)							\
TQ_SHAPE(tile, 6)							\
TQ_SHAPE(tile, 7)							\
TQ_SHAPE(tile, 8)							\
TQ_WIDTHS(tile);							\
									\
static void name##_gemm(size_t n, const void *w, size_t ws,		\
			uint32_t n_rows, const void *x, size_t xs,	\
			uint32_t n_tok, float *out, size_t os,		\
			bool accumulate)				\
{									\
	const uint8_t *rp[TQ_ROWS], *px = x;				\
	size_t nb = n / (bs);						\
	uint32_t t0, t1, r0, t, nr, k;					\
	__mmask16 m;							\
									\
	_Static_assert(TQ_TN == 8 || TQ_TN == 16, "tile widths");	\
	for (t0 = 0; t0 < n_tok; t0 = t1) {				\
		t1 = n_tok - t0 < LXK_TOK_CHUNK ? n_tok :		\
		     t0 + LXK_TOK_CHUNK;				\
		for (r0 = 0; r0 < n_rows; r0 += TQ_ROWS) {		\
			nr = n_rows - r0 < TQ_ROWS ? n_rows - r0 :	\
			     TQ_ROWS;					\
			m = (__mmask16)((1u << nr) - 1);		\
			/* missing rows repeat the last one */		\
			for (k = 0; k < TQ_ROWS; k++)			\
				rp[k] = (const uint8_t *)w +		\
					(r0 + (k < nr ? k : nr - 1)) * ws; \
			for (t = t0; t < t1; t += k) {			\
				k = t1 - t < TQ_TN ? t1 - t : TQ_TN;	\
				tile##_width[k](nb, rp, px + t * xs, xs, \
						out + t * os + r0, os, m, \
						accumulate);		\
			}						\
		}							\
	}								\
}

TQ_GEMM(q4_0, q4_0_t16, LX_QK)
TQ_GEMM(q8_0, q8_0_t16, LX_QK)
TQ_GEMM(q4_k, q4_k_t16, LX_QK_K)
TQ_GEMM(q6_k, q6_k_t16, LX_QK_K)

/* ---------------------------------------------------------------------- */
/* Registration                                                           */
/* ---------------------------------------------------------------------- */

/* ---------------------------------------------------------------------- */
/* SwiGLU activation (the same code with and without VNNI: built once)    */
/* ---------------------------------------------------------------------- */

#ifndef LXK_VNNI
/* lx_expf_poly of sixteen floats (mathfn.h): the same FMAs, vscalefps. */
static inline __m512 expf_poly16(__m512 x)
{
	const __m512 shift = _mm512_set1_ps(LX_EXPP_SHIFT);
	const __m512 z = _mm512_fmadd_ps(x, _mm512_set1_ps(LX_EXPP_LOG2E),
					 shift);
	const __m512 n = _mm512_sub_ps(z, shift);
	const __m512 b = _mm512_fnmadd_ps(n, _mm512_set1_ps(LX_EXPP_LN2_LO),
		_mm512_fnmadd_ps(n, _mm512_set1_ps(LX_EXPP_LN2_HI), x));
	const __m512 u = _mm512_mul_ps(b, b);
	const __m512 j = _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_fmadd_ps(
		_mm512_set1_ps(LX_EXPP_C5), b, _mm512_set1_ps(LX_EXPP_C4)), u,
		_mm512_fmadd_ps(_mm512_set1_ps(LX_EXPP_C3), b,
				_mm512_set1_ps(LX_EXPP_C2))), u,
		_mm512_fmadd_ps(_mm512_set1_ps(LX_EXPP_C1), b,
				_mm512_set1_ps(1.0f)));
	const __mmask16 far = _mm512_cmp_ps_mask(_mm512_abs_ps(n),
		_mm512_set1_ps(192.0f), _CMP_GT_OQ);
	const __mmask16 pos = _mm512_cmp_ps_mask(n, _mm512_setzero_ps(),
						 _CMP_GT_OQ);

	return _mm512_mask_blend_ps(far, _mm512_scalef_ps(j, n),
		_mm512_maskz_mov_ps(pos, _mm512_set1_ps(LX_INFINITY)));
}

void lx_silu_mul_avx512(float *gate, const float *up, size_t n)
{
	const __m512 one = _mm512_set1_ps(1.0f);
	size_t i;

	for (i = 0; i + 16 <= n; i += 16) {
		__m512 x = _mm512_loadu_ps(gate + i);

		_mm512_storeu_ps(gate + i, _mm512_mul_ps(_mm512_div_ps(x,
			_mm512_add_ps(one, expf_poly16(_mm512_sub_ps(
				_mm512_setzero_ps(), x)))),
			_mm512_loadu_ps(up + i)));
	}
	lx_silu_mul(gate + i, up + i, n - i);
}

double lx_softmax_exp_avx512(float *x, size_t n, float max)
{
	const __m512 vmax = _mm512_set1_ps(max);
	double sum = 0.0;
	size_t i;

	for (i = 0; i < n; i += 16) {
		const __mmask16 m = n - i >= 16 ? 0xffff :
				    (__mmask16)((1u << (n - i)) - 1);
		const __m512 e = _mm512_maskz_mov_ps(m, expf_poly16(
			_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), vmax)));

		_mm512_mask_storeu_ps(x + i, m, e);
		/* 8 + 8, then lxk_hsum8: 4 + 4, (0 + 2) + (1 + 3) */
		sum += (double)lxk_hsum8(_mm256_add_ps(
			_mm512_castps512_ps256(e), _mm512_extractf32x8_ps(e, 1)));
	}
	return sum;
}
#endif

#define SET_DOT(type, name)						\
	do {								\
		table[type].vec_dot = name##_vec_dot;			\
		table[type].gemm = name##_gemm;				\
	} while (0)

#ifdef LXK_VNNI
void lx_kernels_fill_avx512vnni(struct lx_kernels table[LX_TYPE_COUNT])
#else
void lx_kernels_fill_avx512(struct lx_kernels table[LX_TYPE_COUNT])
#endif
{
	SET_DOT(LX_TYPE_F32, f32);
	SET_DOT(LX_TYPE_F16, f16);
	SET_DOT(LX_TYPE_BF16, bf16);
	table[LX_TYPE_Q4_0].vec_dot = q4_0_vec_dot;
	table[LX_TYPE_Q4_0].gemm = q4_0_gemm;
	table[LX_TYPE_Q8_0].vec_dot = q8_0_vec_dot;
	table[LX_TYPE_Q8_0].gemm = q8_0_gemm;
	table[LX_TYPE_Q4_K].vec_dot = q4_k_vec_dot;
	table[LX_TYPE_Q4_K].gemm = q4_k_gemm;
	table[LX_TYPE_Q6_K].vec_dot = q6_k_vec_dot;
	table[LX_TYPE_Q6_K].gemm = q6_k_gemm;
}
