/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Inline helpers shared by the x86 SIMD kernel files (kernels_avx2.c and
 * kernels_avx512.c): unaligned scalar loads, fixed-order horizontal sums and
 * the driver that turns a register-tiled "tile" function into a gemm and a
 * vec_dot. Included only by those files, so everything here is compiled with
 * the including file's instruction set.
 */
#ifndef LLAMUX_CORE_KERNELS_X86_H
#define LLAMUX_CORE_KERNELS_X86_H

#include "kernels.h"

/* mm_malloc.h (pulled in by immintrin.h) wants <stdlib.h>; we need neither. */
#define _MM_MALLOC_H_INCLUDED
#include <immintrin.h>

/*
 * Tile functions take their shape as constant arguments and must be inlined
 * into each caller, and their loops over rows, tokens and chunks carry
 * "#pragma GCC unroll", so that every accumulator array is fully unrolled
 * and lives in registers: spilled vectors cost time, stack (the kernel
 * warns past 2 KiB a frame) and a realigned stack.
 */
#define LXK_ALWAYS __attribute__((__always_inline__))

/*
 * Kernel builds may zero every local variable (-ftrivial-auto-var-init);
 * the tiles' arrays are always written before they are read, and being
 * zeroed would keep them in memory instead of registers.
 */
#if defined(__has_attribute)
#if __has_attribute(__uninitialized__)
#define LXK_NOINIT __attribute__((__uninitialized__))
#endif
#endif
#ifndef LXK_NOINIT
#define LXK_NOINIT
#endif


/*
 * Scalars at any address, little-endian like GGUF and x86. Through packed
 * (alignment 1) types rather than memcpy: the kernel's FORTIFY_SOURCE
 * memcpy wrappers would keep such locals in memory and bloat the tiles'
 * stack frames.
 */
typedef uint16_t lxk_u16_u __attribute__((__aligned__(1), __may_alias__));
typedef uint32_t lxk_u32_u __attribute__((__aligned__(1), __may_alias__));
typedef uint64_t lxk_u64_u __attribute__((__aligned__(1), __may_alias__));
typedef float lxk_f32_u __attribute__((__aligned__(1), __may_alias__));

static inline LXK_ALWAYS uint16_t lxk_u16(const uint8_t *p)
{
	return *(const lxk_u16_u *)p;
}

static inline LXK_ALWAYS uint32_t lxk_u32(const uint8_t *p)
{
	return *(const lxk_u32_u *)p;
}

static inline LXK_ALWAYS float lxk_f32(const uint8_t *p)
{
	return *(const lxk_f32_u *)p;
}

static inline LXK_ALWAYS void lxk_put16(uint8_t *p, uint16_t v)
{
	*(lxk_u16_u *)p = v;
}

static inline LXK_ALWAYS void lxk_put32(uint8_t *p, uint32_t v)
{
	*(lxk_u32_u *)p = v;
}

static inline LXK_ALWAYS void lxk_put64(uint8_t *p, uint64_t v)
{
	*(lxk_u64_u *)p = v;
}

static inline LXK_ALWAYS void lxk_putf32(uint8_t *p, float v)
{
	*(lxk_f32_u *)p = v;
}

/* An fp16 scale at any address, as a float (F16C: exact). */
static inline LXK_ALWAYS float lxk_f16(const uint8_t *p)
{
	return _cvtsh_ss(lxk_u16(p));
}

/* ... broadcast to 8 lanes: vpbroadcastw from memory, then one vcvtph2ps. */
static inline LXK_ALWAYS __m256 lxk_f16x8(const uint8_t *p)
{
	return _mm256_cvtph_ps(_mm_set1_epi16((short)lxk_u16(p)));
}

/*
 * The horizontal sum every vec_dot and gemm output ends with. Its order is
 * fixed here, once, so that a tile's outputs equal vec_dot's bit for bit.
 */
static inline LXK_ALWAYS float lxk_hsum8(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v),
			      _mm256_extractf128_ps(v, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

/* Stores one tile output the way lx_gemm_generic does. */
static inline LXK_ALWAYS void lxk_put(float *out, size_t os, int r, int t,
				      float v, bool accumulate)
{
	float *o = out + (size_t)t * os + r;

	*o = accumulate ? *o + v : v;
}

/* ---------------------------------------------------------------------- */
/* k-quant scales (plain C, shared by both levels)                        */
/* ---------------------------------------------------------------------- */

enum { KQ_Q2_K, KQ_Q3_K, KQ_Q4_K, KQ_Q5_K, KQ_Q6_K };

static inline size_t kq_size(const int type)
{
	static const uint8_t size[] = { 84, 110, 144, 176, 210 };

	return size[type];
}

/*
 * Per row and super-block, besides the chunk scales (one register): sixteen
 * bytes for the end (Q2_K: the packed scale bytes; Q4_K/Q5_K: the mins in
 * the low half; Q3_K: the scales, biased by 32; Q6_K: the int8 scales) in
 * two general registers, and d, dmin. Kept out of memory: a vector in a
 * struct whose address is taken would need a realigned stack.
 */
struct kq_row {
	uint64_t lo, hi;
	float d, dmin;
};

/*
 * Q4_K/Q5_K's 6-bit scales and mins (quant.c: unpack_scale_min_k4), four
 * bytes at a time: returns the eight scales, sets the eight mins.
 */
static inline uint64_t k4_scales(const uint8_t *s, uint64_t *mins)
{
	uint32_t s0 = lxk_u32(s), s1 = lxk_u32(s + 4), s2 = lxk_u32(s + 8);
	uint64_t sc;

	sc = s0 & 0x3f3f3f3f;
	sc |= (uint64_t)((s2 & 0x0f0f0f0f) | ((s0 >> 6) & 0x03030303) << 4)
	      << 32;
	*mins = s1 & 0x3f3f3f3f;
	*mins |= (uint64_t)(((s2 >> 4) & 0x0f0f0f0f) |
			    ((s1 >> 6) & 0x03030303) << 4) << 32;
	return sc;
}

/* Q3_K's sixteen 6-bit scales (unpack_scales_q3_k), still biased by 32. */
static inline void k3_scales(const uint8_t *s, uint64_t *lo, uint64_t *hi)
{
	uint32_t a0 = lxk_u32(s), a1 = lxk_u32(s + 4), a2 = lxk_u32(s + 8);

	*lo = (a0 & 0x0f0f0f0f) | (a2 & 0x03030303) << 4;
	*lo |= (uint64_t)((a1 & 0x0f0f0f0f) | ((a2 >> 2) & 0x03030303) << 4)
	       << 32;
	*hi = ((a0 >> 4) & 0x0f0f0f0f) | ((a2 >> 4) & 0x03030303) << 4;
	*hi |= (uint64_t)(((a1 >> 4) & 0x0f0f0f0f) |
			  ((a2 >> 6) & 0x03030303) << 4) << 32;
}

static inline __m128i kq_bytes(const struct kq_row *rs)
{
	return _mm_set_epi64x((long long)rs->hi, (long long)rs->lo);
}

/*
 * Tokens are swept in chunks: a chunk's activations stay in L2 while every
 * row tile passes over them, and the weights are streamed once per chunk.
 */
#define LXK_TOK_CHUNK 64

/*
 * From a tile function
 *   tile(R, T, nb, w, w_stride, x, x_stride, out, out_stride, accumulate)
 * computing rows [0, R) x tokens [0, T) over nb blocks of bs elements,
 * LXK_GEMM defines NAME_gemm (lx_gemm_fn: RM x TN tiles, then the edges
 * with smaller ones) and NAME_vec_dot (the 1 x 1 tile). Each output's
 * arithmetic in a tile does not depend on the tile's shape, so both agree
 * exactly. Every shape is a function of its own (not inlined): each gets
 * its own small stack frame instead of one frame for all of them.
 */
#define LXK_TILE_ARGS size_t nb, const uint8_t *w, size_t ws,		\
		      const uint8_t *x, size_t xs, float *out, size_t os, \
		      bool accumulate
#define LXK_SHAPE(name, tile, R, T)					\
static __attribute__((__noinline__, __unused__)) void		\
name##_##R##x##T(LXK_TILE_ARGS)						\
{									\
	tile(R, T, nb, w, ws, x, xs, out, os, accumulate);		\
}

/* Tokens [t, t1) of one row tile: TN at a time, then what is left. */
#define LXK_TOKENS(name, R, TN)						\
	do {								\
		for (; t + (TN) <= t1; t += (TN))			\
			name##_##R##x##TN(nb, pw + r * ws, ws,		\
					  px + t * xs, xs,		\
					  out + t * os + r, os,		\
					  accumulate);			\
		switch ((TN) > 1 ? t1 - t : 0) {			\
		case 3:							\
			if ((TN) > 3)					\
				name##_##R##x3(nb, pw + r * ws, ws,	\
					       px + t * xs, xs,		\
					       out + t * os + r, os,	\
					       accumulate);		\
			break;						\
		case 2:							\
			if ((TN) > 2)					\
				name##_##R##x2(nb, pw + r * ws, ws,	\
					       px + t * xs, xs,		\
					       out + t * os + r, os,	\
					       accumulate);		\
			break;						\
		case 1:							\
			name##_##R##x1(nb, pw + r * ws, ws,		\
				       px + t * xs, xs,			\
				       out + t * os + r, os,		\
				       accumulate);			\
			break;						\
		default:						\
			break;						\
		}							\
	} while (0)

/* RM and TN must be literal numbers, TN at most 4. */
#define LXK_GEMM(name, tile, bs, RM, TN) LXK_GEMM_(name, tile, bs, RM, TN)
#define LXK_GEMM_(name, tile, bs, RM, TN)				\
LXK_SHAPE(name, tile, RM, 1)						\
LXK_SHAPE(name, tile, RM, 2)						\
LXK_SHAPE(name, tile, RM, 3)						\
LXK_SHAPE(name, tile, RM, 4)						\
LXK_SHAPE(name, tile, 1, 1)						\
LXK_SHAPE(name, tile, 1, 2)						\
LXK_SHAPE(name, tile, 1, 3)						\
LXK_SHAPE(name, tile, 1, 4)						\
									\
static void name##_gemm(size_t n, const void *w, size_t ws,		\
			uint32_t n_rows, const void *x, size_t xs,	\
			uint32_t n_tok, float *out, size_t os,		\
			bool accumulate)				\
{									\
	const uint32_t chunk = (LXK_TOK_CHUNK + (TN) - 1) / (TN) * (TN); \
	const uint8_t *pw = w, *px = x;					\
	size_t nb = n / (bs);						\
	uint32_t t0, t1, r, t;						\
									\
	_Static_assert((TN) >= 1 && (TN) <= 4, "tile width 1..4");	\
	for (t0 = 0; t0 < n_tok; t0 = t1) {				\
		t1 = n_tok - t0 < chunk ? n_tok : t0 + chunk;		\
		for (r = 0; r + (RM) <= n_rows; r += (RM)) {		\
			t = t0;						\
			LXK_TOKENS(name, RM, TN);			\
		}							\
		for (; r < n_rows; r++) {				\
			t = t0;						\
			LXK_TOKENS(name, 1, TN);			\
		}							\
	}								\
}									\
									\
static float name##_vec_dot(size_t n, const void *w, const void *x)	\
{									\
	float v;							\
									\
	name##_1x1(n / (bs), w, 0, x, 0, &v, 0, false);		\
	return v;							\
}

#endif
