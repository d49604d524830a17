// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The table of model families. A new family is one file (core/arch_NAME.c
 * with its struct lx_arch) plus an entry here; the building blocks (norms,
 * RoPE variants, attention, FFN variants) are shared in forward.c.
 */
#include "model.h"

extern const struct lx_arch lx_arch_llama;
extern const struct lx_arch lx_arch_qwen2;
extern const struct lx_arch lx_arch_gemma;
extern const struct lx_arch lx_arch_phi2;

static const struct lx_arch *const families[] = {
	&lx_arch_llama,
	&lx_arch_qwen2,
	&lx_arch_gemma,
	&lx_arch_phi2,
};

const struct lx_arch *lx_arch_find(const char *name)
{
	size_t i;

	for (i = 0; i < LX_ARRAY_SIZE(families); i++)
		if (!lx_strcmp(families[i]->name, name))
			return families[i];
	return NULL;
}

const char *lx_arch_names(void)
{
	return "llama, qwen2, gemma, phi2";
}
