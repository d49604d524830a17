/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The core's own elementary functions: the kernel has no libm, so the core
 * carries exp, log, pow, sin, cos, tanh, erf and sqrt itself. tests/test_mathfn.c
 * compares each with libm over the range the core uses and states the max error.
 */
#ifndef LLAMUX_CORE_MATHFN_H
#define LLAMUX_CORE_MATHFN_H

#include "base.h"

/* Double precision (RoPE angles, sampling, rope frequency tables). */
double lx_exp(double x);
double lx_log(double x);		/* x <= 0: -inf for 0, NaN for < 0 */
double lx_pow(double x, double y);	/* x > 0; x == 0 gives 0 (y > 0) */
double lx_sin(double x);		/* accurate range reduction up to |x| ~ 1e9 */
double lx_cos(double x);
void lx_sincos(double x, double *s, double *c);
double lx_sqrt(double x);

/* Single precision (GELU, norms, sampling; SiLU and softmax: lx_expf_poly). */
float lx_expf(float x);			/* overflow gives +inf, underflow 0 */
float lx_logf(float x);
float lx_tanhf(float x);
float lx_erff(float x);
float lx_sqrtf(float x);
float lx_fabsf(float x);

/*
 * e^x as llama.cpp computes it for SiLU and softmax on CPUs with AVX-512
 * (ggml's vectorised expf, from Arm's optimized-routines), so that those
 * floats, and the activations quantized from them, round the same way as
 * the reference's. Within 2.3 ulp of e^x (tests/test_mathfn.c). For
 * |n| <= 192, with every step a float FMA (one rounding):
 *   z = x * LOG2E + SHIFT; n = z - SHIFT (x / ln2 rounded to an integer);
 *   b = (x - n * LN2_HI) - n * LN2_LO; u = b * b;
 *   j = ((C5 b + C4) u + (C3 b + C2)) u + (C1 b + 1);
 *   result = j * 2^n, rounded once.
 * |n| > 192 gives 0 (n < 0) or +inf; NaN stays NaN. The SIMD kernels repeat
 * these steps with FMA instructions and give the same bits.
 */
float lx_expf_poly(float x);
#define LX_EXPP_LOG2E	(0x1.715476p+0f)
#define LX_EXPP_SHIFT	(0x1.8p23f)
#define LX_EXPP_LN2_HI	(0x1.62e4p-1f)
#define LX_EXPP_LN2_LO	(0x1.7f7d1cp-20f)
#define LX_EXPP_C5	(0x1.0e4020p-7f)
#define LX_EXPP_C4	(0x1.573e2ep-5f)
#define LX_EXPP_C3	(0x1.555e66p-3f)
#define LX_EXPP_C2	(0x1.fffdb6p-2f)
#define LX_EXPP_C1	(0x1.ffffecp-1f)

/* a * b + c rounded once (results in the normal range, or exact sums). */
float lx_fmaf(float a, float b, float c);

/* IEEE helpers without libc. */
bool lx_isnan(double x);
bool lx_isinf(double x);
#define LX_INFINITY (__builtin_inff())
#define LX_NAN (__builtin_nanf(""))

#endif
