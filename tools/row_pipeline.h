/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Streaming tensor conversion: worker threads produce float rows (read and
 * dequantized from a file, or generated), quantize them to the output type
 * and fill a slab of output rows, while a writer thread writes the previous
 * slab into the GGUF file. Memory stays at two slabs plus a row per thread,
 * whatever the model's size.
 */
#ifndef LLAMUX_TOOLS_ROW_PIPELINE_H
#define LLAMUX_TOOLS_ROW_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "gguf_writer.h"

/*
 * Writes row `row` (ne0 floats) into out. Called from any worker thread,
 * for distinct rows at once. On failure writes a line into err
 * (LLAMUX_ERR_MAX bytes) and returns false.
 */
typedef bool (*lt_row_fn)(void *ctx, uint64_t row, float *out, char *err);

struct lt_pipeline;

/* n_threads: 0 for every online CPU. The pipeline writes through w. */
struct lt_pipeline *lt_pipeline_new(struct lt_gguf_writer *w,
				    unsigned int n_threads, char *err);
/* Stops the threads; call lt_pipeline_finish first to keep the data. */
void lt_pipeline_free(struct lt_pipeline *p);
unsigned int lt_pipeline_threads(const struct lt_pipeline *p);

/* Called on the calling thread after each slab with the bytes queued. */
void lt_pipeline_on_progress(struct lt_pipeline *p,
			     void (*fn)(void *ctx, uint64_t bytes), void *ctx);

/*
 * Queues n bytes written as they are (a tensor kept unchanged); data must
 * stay valid until lt_pipeline_finish.
 */
bool lt_pipeline_copy(struct lt_pipeline *p, const void *data, uint64_t n,
		      char *err);
/*
 * Produces n_rows rows of ne0 elements with fn and writes them as `type`.
 * Quantized types refuse rows holding NaN or infinity (the message names
 * `what`, e.g. the tensor).
 */
bool lt_pipeline_rows(struct lt_pipeline *p, enum lx_type type, uint64_t ne0,
		      uint64_t n_rows, lt_row_fn fn, void *ctx,
		      const char *what, char *err);
/* Waits until everything queued is written. */
bool lt_pipeline_finish(struct lt_pipeline *p, char *err);

#endif
