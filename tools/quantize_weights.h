/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Weight quantizers: rows of floats to every tensor type llamux computes
 * with (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K .. Q6_K). They
 * follow ggml's reference quantizers (quantize_row_*_ref; for k-quants the
 * paths ggml takes without an importance matrix) so that the bytes equal
 * those llama-quantize writes.
 */
#ifndef LLAMUX_TOOLS_QUANTIZE_WEIGHTS_H
#define LLAMUX_TOOLS_QUANTIZE_WEIGHTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "quant.h"

/* Can lt_quantize_row produce this type? */
bool lt_can_quantize(uint32_t type);

/*
 * Quantizes n floats (a multiple of the type's block size) into dst, which
 * holds n / block_size blocks. Values must be finite for quantized types
 * (lt_all_finite); F32/F16/BF16 convert anything.
 */
void lt_quantize_row(enum lx_type type, const float *src, void *dst, size_t n);

/* Bytes of a row of n elements of the type (n a multiple of its block). */
uint64_t lt_row_bytes(enum lx_type type, uint64_t n);

/* True when no value is NaN or infinite. */
bool lt_all_finite(const float *x, size_t n);

#endif
