/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Random-weight Llama models of real shapes (llamux mkmodel): complete
 * llama.cpp metadata, the vocabulary copied from another GGUF file, weights
 * drawn from N(0, 1/fan_in) (norms 1 +- 0.1) by a seeded generator and
 * written directly in the requested type, streaming.
 */
#ifndef LLAMUX_TOOLS_MAKE_MODEL_H
#define LLAMUX_TOOLS_MAKE_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "model_shapes.h"
#include "quant_mix.h"

struct lt_make_params {
	const struct lt_shape *shape;
	const struct lt_ftype_info *ftype;
	bool pure;		/* no mixture: every matrix in ftype's base type */
	const char *vocab_path;	/* GGUF file whose tokenizer.* keys are copied */
	uint64_t seed;
	const char *out_path;
	const char *name;	/* general.name; NULL: from the shape */
	unsigned int n_threads;	/* 0: all CPUs */
	bool progress;		/* progress bar on stderr */
};

struct lt_make_result {
	uint32_t n_vocab;
	uint64_t n_tensors;
	uint64_t n_params;
	uint64_t bytes;		/* tensor data */
	int n_fallback;
	unsigned int n_threads;
	double seconds;
};

bool lt_make_model(const struct lt_make_params *p, struct lt_make_result *r,
		   char *err);

#endif
