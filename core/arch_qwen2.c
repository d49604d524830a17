// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Qwen2 / Qwen2.5: Llama's layer with q/k/v biases and NeoX RoPE (the biases
 * are bound when present, as for every family).
 */
#include "model.h"

const struct lx_arch lx_arch_qwen2 = {
	.name = "qwen2",
	.norm = LX_NORM_RMS,
	.ffn = LX_FFN_SWIGLU,
	.rope = LX_ROPE_NEOX,
};
