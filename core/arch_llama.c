// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Llama (and TinyLlama, Mistral-style models): RMSNorm, SwiGLU, RoPE on
 * adjacent pairs.
 */
#include "model.h"

const struct lx_arch lx_arch_llama = {
	.name = "llama",
	.norm = LX_NORM_RMS,
	.ffn = LX_FFN_SWIGLU,
	.rope = LX_ROPE_NORM,
};
