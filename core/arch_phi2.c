// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Phi-2: LayerNorm with bias, attention and a GELU MLP in parallel from the
 * same normed input, fused q|k|v with bias, partial NeoX RoPE, biases on
 * every projection and on the output; Q scaled before attention (llama.cpp
 * does so to keep F16 products in range).
 */
#include "model.h"

const struct lx_arch lx_arch_phi2 = {
	.name = "phi2",
	.norm = LX_NORM_LAYER,
	.ffn = LX_FFN_GELU,
	.rope = LX_ROPE_NEOX,
	.parallel = true,
	.q_prescale = true,
};
