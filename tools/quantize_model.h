/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Quantizing a GGUF model file into another, as llama-quantize does: the
 * metadata copied (general.file_type and general.quantization_version
 * set), tensors in llama.cpp's order with the types its rules choose
 * (quant_mix.h), each tensor converted row by row (dequantized first when
 * it is quantized already) or copied when its type does not change.
 */
#ifndef LLAMUX_TOOLS_QUANTIZE_MODEL_H
#define LLAMUX_TOOLS_QUANTIZE_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "quant_mix.h"

struct lt_quantize_params {
	const char *in_path;
	const char *out_path;
	const struct lt_ftype_info *ftype;
	bool pure;		/* every quantizable tensor gets ftype's base */
	unsigned int n_threads;	/* 0: all CPUs */
	bool progress;		/* progress line on stderr */
};

struct lt_quantize_result {
	uint64_t n_tensors;
	uint64_t n_converted;	/* tensors whose type changed */
	uint64_t n_requantized;	/* of those, from a quantized type */
	int n_fallback;		/* rows not fitting the chosen type */
	char fallback_example[96]; /* "blk.0.ffn_down.weight (Q4_K -> Q5_0)" */
	uint64_t in_bytes;	/* tensor data read */
	uint64_t out_bytes;	/* tensor data written */
	uint64_t n_elements;
	unsigned int n_threads;
	double seconds;
};

/* On failure err (LLAMUX_ERR_MAX bytes) says what went wrong and what to do. */
bool lt_quantize_model(const struct lt_quantize_params *p,
		       struct lt_quantize_result *r, char *err);

#endif
