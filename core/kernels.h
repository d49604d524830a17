/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Compute kernels chosen by CPU level: the scalar reference (quant.c), AVX2
 * (kernels_avx2.c: AVX2+FMA+F16C), AVX-512 (kernels_avx512.c: F/BW/VL/DQ)
 * and the same AVX-512 file built again with VNNI (kernels_avx512vnni.c).
 * The level comes from the host (CPUID in userspace, boot_cpu_has in the
 * kernel; LLAMUX_CPU or the module parameter can lower it). Every SIMD kernel
 * is checked against the scalar one by tests/test_kernels.c.
 */
#ifndef LLAMUX_CORE_KERNELS_H
#define LLAMUX_CORE_KERNELS_H

#include "quant.h"

enum lx_cpu_level {
	LX_CPU_SCALAR = 0,
	LX_CPU_AVX2 = 1,	/* AVX2, FMA, F16C */
	LX_CPU_AVX512 = 2,	/* AVX-512 F, BW, VL, DQ (and the AVX2 set) */
	LX_CPU_AVX512VNNI = 3,	/* the AVX-512 set and VNNI (vpdpbusd) */
	LX_CPU_LEVELS
};

const char *lx_cpu_level_name(enum lx_cpu_level level);

/*
 * A block of a matrix product, for prompt processing: for rows r in
 * [0, n_rows) of w (w_stride bytes apart, each n elements of the weight type)
 * and activations t in [0, n_tok) (x_stride bytes apart, in the weight
 * type's vec_dot_type):
 *     out[t * out_stride + r] = dot(w_r, x_t)       (or += with accumulate)
 * Each result must equal vec_dot(n, w_r, x_t) bit for bit, so that batching
 * never changes an answer: kernels tile rows and tokens to reuse loaded
 * blocks, but keep each output's operation order that of vec_dot.
 */
typedef void (*lx_gemm_fn)(size_t n, const void *w, size_t w_stride,
			   uint32_t n_rows, const void *x, size_t x_stride,
			   uint32_t n_tok, float *out, size_t out_stride,
			   bool accumulate);

struct lx_kernels {
	lx_vec_dot_fn vec_dot;		/* weights of this type . vec_dot_type */
	lx_gemm_fn gemm;		/* the same over tiles; NULL: use
					 * lx_gemm_generic with vec_dot */
	lx_from_float_fn from_float;	/* as an activation (vec_dot) type */
	lx_to_float_fn to_float;
};

/* The kernels of a level for every type id (NULL entries where none). */
void lx_kernels_table(enum lx_cpu_level level,
		      struct lx_kernels table[LX_TYPE_COUNT]);
/* The active kernels: the best level the host allows; set up on first use. */
const struct lx_kernels *lx_kernels(uint32_t type);
enum lx_cpu_level lx_kernels_level(void);

/* Filled in by the SIMD files: they override what they implement. */
void lx_kernels_fill_avx2(struct lx_kernels table[LX_TYPE_COUNT]);
void lx_kernels_fill_avx512(struct lx_kernels table[LX_TYPE_COUNT]);
void lx_kernels_fill_avx512vnni(struct lx_kernels table[LX_TYPE_COUNT]);

/*
 * gate[i] = silu(gate[i]) * up[i] for i < n, with
 * silu(x) = x / (1 + lx_expf_poly(-x)): the SwiGLU activation, its e^x the
 * one llama.cpp uses there (see mathfn.h). lx_silu_mul is the scalar
 * reference; the SIMD versions give the same floats bit for bit.
 */
void lx_silu_mul(float *gate, const float *up, size_t n);
void lx_silu_mul_avx2(float *gate, const float *up, size_t n);
void lx_silu_mul_avx512(float *gate, const float *up, size_t n);
/* The version of a level; of the active level. */
void lx_silu_mul_level(enum lx_cpu_level level, float *gate, const float *up,
		       size_t n);
void lx_kernels_silu_mul(float *gate, const float *up, size_t n);

/*
 * The exponentials of a softmax: x[i] = lx_expf_poly(x[i] - max) for i < n,
 * returning their sum added as llama.cpp adds it on AVX-512: each run of 16
 * values (zeros past n) summed in float by halves (8 + 8, 4 + 4, 2 + 2,
 * 1 + 1), those sums in double. lx_softmax_exp is the scalar reference;
 * the SIMD versions give the same floats and sum bit for bit.
 */
double lx_softmax_exp(float *x, size_t n, float max);
double lx_softmax_exp_avx2(float *x, size_t n, float max);
double lx_softmax_exp_avx512(float *x, size_t n, float max);
double lx_softmax_exp_level(enum lx_cpu_level level, float *x, size_t n,
			    float max);
double lx_kernels_softmax_exp(float *x, size_t n, float max);

/* The generic gemm: vec_dot over the tile (the scalar level uses it). */
void lx_gemm_generic(lx_vec_dot_fn dot, size_t n, const void *w,
		     size_t w_stride, uint32_t n_rows, const void *x,
		     size_t x_stride, uint32_t n_tok, float *out,
		     size_t out_stride, bool accumulate);

#endif
