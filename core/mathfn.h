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

/* Single precision (hot paths: softmax, SiLU, GELU, norms). */
float lx_expf(float x);			/* overflow gives +inf, underflow 0 */
float lx_logf(float x);
float lx_tanhf(float x);
float lx_erff(float x);
float lx_sqrtf(float x);
float lx_fabsf(float x);

/* IEEE helpers without libc. */
bool lx_isnan(double x);
bool lx_isinf(double x);
#define LX_INFINITY (__builtin_inff())
#define LX_NAN (__builtin_nanf(""))

#endif
