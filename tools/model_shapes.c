// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The shapes mkmodel knows, from the models' published configurations:
 * TinyLlama-1.1B (v1.0), Llama 2 7B and 13B, Karpathy's TinyStories
 * llama2.c models, SmolLM-135M, and test-tiny (the shape of the test
 * models in ../shared/models/tiny-*.gguf, any vocabulary size).
 */
#include <string.h>

#include "base.h"
#include "model_shapes.h"

static const struct lt_shape shapes[] = {
	{ "tinyllama-1.1b", "TinyLlama 1.1B", 32000, 2048, 2048, 22, 32, 4,
	  5632, 10000.0f, 1e-5f, false },
	{ "llama-2-7b", "Llama 2 7B", 32000, 4096, 4096, 32, 32, 32, 11008,
	  10000.0f, 1e-5f, false },
	{ "llama-2-13b", "Llama 2 13B", 32000, 4096, 5120, 40, 40, 40, 13824,
	  10000.0f, 1e-5f, false },
	{ "stories15m", "TinyStories 15M", 32000, 256, 288, 6, 6, 6, 768,
	  10000.0f, 1e-5f, false },
	{ "stories42m", "TinyStories 42M", 32000, 1024, 512, 8, 8, 8, 1376,
	  10000.0f, 1e-5f, false },
	{ "stories110m", "TinyStories 110M", 32000, 1024, 768, 12, 12, 12, 2048,
	  10000.0f, 1e-5f, false },
	{ "smollm-135m", "SmolLM 135M", 49152, 2048, 576, 30, 9, 3, 1536,
	  10000.0f, 1e-5f, true },
	{ "test-tiny", "test-tiny", 0, 512, 256, 2, 8, 2, 768, 10000.0f, 1e-5f,
	  false },
};

const struct lt_shape *lt_shape_at(unsigned int i)
{
	return i < LX_ARRAY_SIZE(shapes) ? &shapes[i] : NULL;
}

const struct lt_shape *lt_shape_find(const char *name)
{
	size_t i;

	for (i = 0; i < LX_ARRAY_SIZE(shapes); i++)
		if (!strcmp(shapes[i].name, name))
			return &shapes[i];
	return NULL;
}

const char *lt_shape_names(void)
{
	return "tinyllama-1.1b, llama-2-7b, llama-2-13b, stories15m, "
	       "stories42m, stories110m, smollm-135m, test-tiny";
}
