/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Shapes of real Llama-family models (hyperparameters only), for
 * `llamux mkmodel`, plus small ones for tests.
 */
#ifndef LLAMUX_TOOLS_MODEL_SHAPES_H
#define LLAMUX_TOOLS_MODEL_SHAPES_H

#include <stdbool.h>
#include <stdint.h>

struct lt_shape {
	const char *name;	/* "tinyllama-1.1b" */
	const char *title;	/* for general.name */
	uint32_t n_vocab;	/* 0: whatever the vocabulary file has */
	uint32_t n_ctx;		/* training context */
	uint32_t n_embd;
	uint32_t n_layer;
	uint32_t n_head;
	uint32_t n_head_kv;
	uint32_t n_ff;
	float rope_base;
	float norm_eps;
	bool tied;		/* no output.weight: token_embd is reused */
};

const struct lt_shape *lt_shape_find(const char *name);
/* Entry i (NULL past the end). */
const struct lt_shape *lt_shape_at(unsigned int i);
/* All names, comma separated. */
const char *lt_shape_names(void);

#endif
