// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * AVX-512 (F, BW, VL, DQ) kernels (compiled with those flags only in this
 * file; used only when the host reports the CPU level).
 */
#include "kernels.h"

void lx_kernels_fill_avx512(struct lx_kernels table[LX_TYPE_COUNT])
{
	(void)table;
}
