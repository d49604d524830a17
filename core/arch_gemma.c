// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Gemma: embeddings scaled by sqrt(n_embd), RMSNorm (GGUF stores Gemma's
 * 1 + weight already), GELU-gated FFN, NeoX RoPE, Q scaled before attention
 * as llama.cpp does.
 */
#include "model.h"

const struct lx_arch lx_arch_gemma = {
	.name = "gemma",
	.norm = LX_NORM_RMS,
	.ffn = LX_FFN_GEGLU,
	.rope = LX_ROPE_NEOX,
	.embd_scale = true,
	.q_prescale = true,
};
