/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * GGUF writer (version 3, little-endian): metadata, tensor infos and then
 * the tensor data streamed in order, each tensor aligned. The file is
 * written under a temporary name next to the destination and renamed into
 * place only when complete, so a failed or interrupted run leaves nothing
 * half-written behind.
 *
 * Use: lt_gguf_set_* / lt_gguf_copy_kv and lt_gguf_add_tensor to describe
 * the file, lt_gguf_open to write the header, lt_gguf_write for the tensor
 * bytes (all tensors, in the order they were added, padding is inserted by
 * the writer), lt_gguf_commit to finish. Functions that can fail take
 * `char *err` (LLAMUX_ERR_MAX bytes) and write one line there.
 */
#ifndef LLAMUX_TOOLS_GGUF_WRITER_H
#define LLAMUX_TOOLS_GGUF_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf.h"
#include "llamux/llamux.h"
#include "quant.h"

struct lt_gguf_writer;

struct lt_gguf_writer *lt_gguf_writer_new(void);
/* Frees w; an open, uncommitted file is removed. */
void lt_gguf_writer_free(struct lt_gguf_writer *w);

/*
 * Metadata, in insertion order. Setting an existing key removes it and
 * appends the new value at the end (as ggml's gguf_set_val_* do). They fail
 * only when out of memory. general.alignment (u32, a power of two) also
 * sets the data alignment (default 32).
 */
bool lt_gguf_set_u32(struct lt_gguf_writer *w, const char *key, uint32_t v);
bool lt_gguf_set_f32(struct lt_gguf_writer *w, const char *key, float v);
bool lt_gguf_set_str(struct lt_gguf_writer *w, const char *key,
		     const char *s);
/* Copies a key/value read by the core's GGUF reader, unchanged. */
bool lt_gguf_copy_kv(struct lt_gguf_writer *w, const struct lx_gguf_kv *kv);
void lt_gguf_remove_kv(struct lt_gguf_writer *w, const char *key);
uint64_t lt_gguf_n_kv(const struct lt_gguf_writer *w);

/*
 * Adds a tensor (name of name_len bytes, n_dims 1..4 sizes, a type whose
 * block size divides ne[0]). Returns false with err set on a duplicate or
 * invalid tensor.
 */
bool lt_gguf_add_tensor(struct lt_gguf_writer *w, const char *name,
			size_t name_len, uint32_t n_dims, const uint64_t *ne,
			enum lx_type type, char *err);
uint64_t lt_gguf_n_tensors(const struct lt_gguf_writer *w);
/* Bytes of tensor i's data, and of all tensor data with padding. */
uint64_t lt_gguf_tensor_bytes(const struct lt_gguf_writer *w, uint64_t i);
uint64_t lt_gguf_data_bytes(const struct lt_gguf_writer *w);

/* Creates the temporary file next to path and writes the header. */
bool lt_gguf_open(struct lt_gguf_writer *w, const char *path, char *err);
/*
 * Appends n bytes of tensor data; tensors follow each other in the order
 * they were added, and a write may span tensors.
 */
bool lt_gguf_write(struct lt_gguf_writer *w, const void *data, size_t n,
		   char *err);
/* Checks that every tensor was written, then renames the file into place. */
bool lt_gguf_commit(struct lt_gguf_writer *w, char *err);

#endif
