/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Which type each tensor gets when a model is quantized: llama.cpp's file
 * types (LLAMA_FTYPE_*, the names llama-quantize takes) and its rules
 * (llama_model_quantize_impl and llama_tensor_get_type, early 2025): 1-D
 * tensors and norms stay as they are, output.weight gets Q6_K, the _S/_M/_L
 * k-quant mixtures give attn_v/ffn_down/attn_output more bits in chosen
 * layers, and rows that do not fit a type's block fall back to another type.
 */
#ifndef LLAMUX_TOOLS_QUANT_MIX_H
#define LLAMUX_TOOLS_QUANT_MIX_H

#include <stdbool.h>
#include <stdint.h>

#include "quant.h"

/* llama.cpp's enum llama_ftype values (general.file_type). */
enum lt_ftype {
	LT_FTYPE_ALL_F32 = 0,
	LT_FTYPE_F16 = 1,
	LT_FTYPE_Q4_0 = 2,
	LT_FTYPE_Q4_1 = 3,
	LT_FTYPE_Q8_0 = 7,
	LT_FTYPE_Q5_0 = 8,
	LT_FTYPE_Q5_1 = 9,
	LT_FTYPE_Q2_K = 10,
	LT_FTYPE_Q3_K_S = 11,
	LT_FTYPE_Q3_K_M = 12,
	LT_FTYPE_Q3_K_L = 13,
	LT_FTYPE_Q4_K_S = 14,
	LT_FTYPE_Q4_K_M = 15,
	LT_FTYPE_Q5_K_S = 16,
	LT_FTYPE_Q5_K_M = 17,
	LT_FTYPE_Q6_K = 18,
	LT_FTYPE_Q2_K_S = 21,
	LT_FTYPE_BF16 = 32,
};

struct lt_ftype_info {
	const char *name;	/* as llama-quantize prints it: "Q4_K_M" */
	enum lt_ftype ftype;
	enum lx_type base;	/* the type of most matrices */
	const char *what;	/* one line for help */
};

/*
 * Looks a type up by llama-quantize's name, case-insensitively, with its
 * aliases (Q3_K = Q3_K_M, Q4_K = Q4_K_M, Q5_K = Q5_K_M) or by number.
 * NULL when unknown; *known_elsewhere is set when llama.cpp has the name but
 * llamux cannot produce it (IQ types, TQ types, ...).
 */
const struct lt_ftype_info *lt_ftype_find(const char *name,
					  bool *known_elsewhere);
const struct lt_ftype_info *lt_ftype_by_id(uint32_t ftype);
/* All names, comma separated, for messages. */
const char *lt_ftype_names(void);
/* Entry i of the table (NULL past the end), for help texts. */
const struct lt_ftype_info *lt_ftype_at(unsigned int i);

/* What the rules need to know about the model. */
struct lt_mix_model {
	char arch[32];		/* general.architecture */
	uint32_t n_layer;	/* block_count */
	uint32_t n_head, n_head_kv;
	uint32_t n_expert;
};

/* One tensor to place: name (NUL-terminated), shape, current type. */
struct lt_mix_tensor {
	const char *name;
	uint32_t n_dims;
	uint64_t ne[4];
	enum lx_type type;
	enum lx_type new_type;	/* out */
	bool quantized;		/* out: new_type came from the rules */
	bool fell_back;		/* out: the row size forced another type */
};

/*
 * Chooses new_type for every tensor. `order` (n entries) receives the
 * tensor indices in llama.cpp's processing (and file) order: tensors
 * outside blocks first, then by block number, then by name; the per-layer
 * counters of the rules follow that order. Returns the number of fallbacks.
 */
int lt_mix_plan(const struct lt_mix_model *m, const struct lt_ftype_info *ft,
		bool pure, struct lt_mix_tensor *t, uint32_t n,
		uint32_t *order);

/* llama.cpp's order of tensor names (weight_name_comparer). */
int lt_mix_cmp_names(const char *a, const char *b);

#endif
