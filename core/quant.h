/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Tensor types: block layouts, dequantization and dot products. The type ids
 * are GGUF's (ggml's) numbers. Weights of a type are dotted with activations
 * quantized to that type's vec_dot_type, as llama.cpp does (Q8_0 for Q4_0,
 * Q5_0, Q8_0; Q8_1 for Q4_1, Q5_1; Q8_K for k-quants; F16/BF16 for F16/BF16),
 * so results follow the reference closely. This file is the scalar reference
 * that SIMD kernels are checked against.
 */
#ifndef LLAMUX_CORE_QUANT_H
#define LLAMUX_CORE_QUANT_H

#include "base.h"

enum lx_type {
	LX_TYPE_F32 = 0,
	LX_TYPE_F16 = 1,
	LX_TYPE_Q4_0 = 2,
	LX_TYPE_Q4_1 = 3,
	LX_TYPE_Q5_0 = 6,
	LX_TYPE_Q5_1 = 7,
	LX_TYPE_Q8_0 = 8,
	LX_TYPE_Q8_1 = 9,
	LX_TYPE_Q2_K = 10,
	LX_TYPE_Q3_K = 11,
	LX_TYPE_Q4_K = 12,
	LX_TYPE_Q5_K = 13,
	LX_TYPE_Q6_K = 14,
	LX_TYPE_Q8_K = 15,
	LX_TYPE_BF16 = 30,
	LX_TYPE_COUNT = 40	/* ids >= this are unknown */
};

#define LX_QK 32	/* elements per block, simple quants */
#define LX_QK_K 256	/* elements per super-block, k-quants */

typedef void (*lx_to_float_fn)(const void *src, float *dst, size_t n);
typedef void (*lx_from_float_fn)(const float *src, void *dst, size_t n);
/* Dot of n elements: w holds this type, x holds vec_dot_type. */
typedef float (*lx_vec_dot_fn)(size_t n, const void *w, const void *x);

struct lx_type_traits {
	const char *name;		/* as llama.cpp prints it, e.g. "Q4_K" */
	uint32_t block_size;		/* elements per block */
	uint32_t type_size;		/* bytes per block */
	bool supported;			/* false: known to GGUF, not computable */
	enum lx_type vec_dot_type;	/* what activations are quantized to */
	lx_to_float_fn to_float;	/* n: multiple of block_size */
	lx_from_float_fn from_float;	/* NULL unless usable as vec_dot_type */
	lx_vec_dot_fn vec_dot;		/* NULL when !supported */
};

/* NULL when type is not a ggml type id at all (never was, or was removed). */
const struct lx_type_traits *lx_type_traits(uint32_t type);

/* "supported" names, comma separated, for error messages. */
const char *lx_supported_types(void);

/* Half and bfloat16 conversions (round to nearest even; NaN stays NaN). */
float lx_fp16_to_fp32(uint16_t h);
uint16_t lx_fp32_to_fp16(float f);
float lx_bf16_to_fp32(uint16_t h);
uint16_t lx_fp32_to_bf16(float f);

#endif
