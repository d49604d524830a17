// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Kernel selection: builds the table of compute kernels for a CPU level
 * (scalar reference first, then what the SIMD files override) and keeps the
 * active one, chosen once from what the host reports.
 */
#include "kernels.h"
#include "mathfn.h"
#include "platform.h"

const char *lx_cpu_level_name(enum lx_cpu_level level)
{
	static const char *const names[LX_CPU_LEVELS] = { "scalar", "avx2",
							  "avx512",
							  "avx512vnni" };

	return level < LX_CPU_LEVELS ? names[level] : "unknown";
}

void lx_gemm_generic(lx_vec_dot_fn dot, size_t n, const void *w,
		     size_t w_stride, uint32_t n_rows, const void *x,
		     size_t x_stride, uint32_t n_tok, float *out,
		     size_t out_stride, bool accumulate)
{
	uint32_t r, t;

	/* Row-outer: a weight row stays in cache for every token. */
	for (r = 0; r < n_rows; r++) {
		const uint8_t *wr = (const uint8_t *)w + r * w_stride;

		for (t = 0; t < n_tok; t++) {
			float v = dot(n, wr, (const uint8_t *)x + t * x_stride);
			float *o = out + t * out_stride + r;

			*o = accumulate ? *o + v : v;
		}
	}
}

void lx_silu_mul(float *gate, const float *up, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		gate[i] = gate[i] / (1.0f + lx_expf_poly(-gate[i])) * up[i];
}

double lx_softmax_exp(float *x, size_t n, float max)
{
	double sum = 0.0;
	size_t i, k;

	for (i = 0; i < n; i += 16) {
		float v[16];

		for (k = 0; k < 16; k++)
			v[k] = i + k < n ? (x[i + k] = lx_expf_poly(x[i + k] -
								      max)) :
			       0.0f;
		for (k = 0; k < 8; k++)
			v[k] += v[k + 8];
		for (k = 0; k < 4; k++)
			v[k] += v[k + 4];
		sum += (double)((v[0] + v[2]) + (v[1] + v[3]));
	}
	return sum;
}

/* Direct calls: a function's address would need a GOT in a PIE build. */
void lx_silu_mul_level(enum lx_cpu_level level, float *gate, const float *up,
		       size_t n)
{
	if (level >= LX_CPU_AVX512)
		lx_silu_mul_avx512(gate, up, n);
	else if (level >= LX_CPU_AVX2)
		lx_silu_mul_avx2(gate, up, n);
	else
		lx_silu_mul(gate, up, n);
}

double lx_softmax_exp_level(enum lx_cpu_level level, float *x, size_t n,
			    float max)
{
	if (level >= LX_CPU_AVX512)
		return lx_softmax_exp_avx512(x, n, max);
	if (level >= LX_CPU_AVX2)
		return lx_softmax_exp_avx2(x, n, max);
	return lx_softmax_exp(x, n, max);
}

static struct lx_kernels active[LX_TYPE_COUNT];
static enum lx_cpu_level active_level;
static int active_state;	/* 0 unset, 1 being set, 2 ready */

void lx_kernels_table(enum lx_cpu_level level,
		      struct lx_kernels table[LX_TYPE_COUNT])
{
	uint32_t i;

	for (i = 0; i < LX_TYPE_COUNT; i++) {
		const struct lx_type_traits *tt = lx_type_traits(i);

		table[i].vec_dot = tt ? tt->vec_dot : NULL;
		table[i].from_float = tt ? tt->from_float : NULL;
		table[i].to_float = tt ? tt->to_float : NULL;
		table[i].gemm = NULL;
	}
	if (level >= LX_CPU_AVX2)
		lx_kernels_fill_avx2(table);
	if (level >= LX_CPU_AVX512VNNI)
		lx_kernels_fill_avx512vnni(table);
	else if (level >= LX_CPU_AVX512)
		lx_kernels_fill_avx512(table);
}

static void select_active(void)
{
	uint32_t level = lx_host_cpu_level();

	if (level >= LX_CPU_LEVELS)
		level = LX_CPU_LEVELS - 1;
	lx_kernels_table((enum lx_cpu_level)level, active);
	active_level = (enum lx_cpu_level)level;
}

static void ensure_active(void)
{
	int expected = 0;

	if (__atomic_load_n(&active_state, __ATOMIC_ACQUIRE) == 2)
		return;
	if (__atomic_compare_exchange_n(&active_state, &expected, 1, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		select_active();
		__atomic_store_n(&active_state, 2, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&active_state, __ATOMIC_ACQUIRE) != 2)
		;
}

const struct lx_kernels *lx_kernels(uint32_t type)
{
	ensure_active();
	return type < LX_TYPE_COUNT ? &active[type] : NULL;
}

enum lx_cpu_level lx_kernels_level(void)
{
	ensure_active();
	return active_level;
}

void lx_kernels_silu_mul(float *gate, const float *up, size_t n)
{
	ensure_active();
	lx_silu_mul_level(active_level, gate, up, n);
}

double lx_kernels_softmax_exp(float *x, size_t n, float max)
{
	ensure_active();
	return lx_softmax_exp_level(active_level, x, n, max);
}
