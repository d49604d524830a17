/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * GGUF reader. Parses a whole file held in memory (mapped, not copied):
 * metadata, tensor infos and the data section. The bytes are untrusted, since
 * the kernel parses them too: every count, length, offset and size is checked
 * before use, and the result points into the caller's buffer.
 */
#ifndef LLAMUX_CORE_GGUF_H
#define LLAMUX_CORE_GGUF_H

#include "base.h"

enum lx_gguf_vtype {
	LX_GGUF_U8 = 0,
	LX_GGUF_I8 = 1,
	LX_GGUF_U16 = 2,
	LX_GGUF_I16 = 3,
	LX_GGUF_U32 = 4,
	LX_GGUF_I32 = 5,
	LX_GGUF_F32 = 6,
	LX_GGUF_BOOL = 7,
	LX_GGUF_STRING = 8,
	LX_GGUF_ARRAY = 9,
	LX_GGUF_U64 = 10,
	LX_GGUF_I64 = 11,
	LX_GGUF_F64 = 12,
	LX_GGUF_VTYPE_COUNT
};

#define LX_GGUF_MAX_DIMS 4
#define LX_GGUF_DEFAULT_ALIGNMENT 32
#define LX_GGUF_MAX_KV (1u << 16)	/* real files have < 100 */
#define LX_GGUF_MAX_TENSORS (1u << 20)	/* real files have < 20000 */
#define LX_GGUF_MAX_NAME 256		/* tensor name bytes */
#define LX_GGUF_MAX_NESTING 8		/* arrays of arrays of ... */

struct lx_gguf_str {
	const char *ptr;	/* into the file, not NUL-terminated */
	uint64_t len;		/* bytes */
};

struct lx_gguf_kv {
	struct lx_gguf_str key;
	uint32_t type;		/* enum lx_gguf_vtype */
	uint32_t arr_type;	/* element type when type is ARRAY */
	uint64_t arr_count;	/* elements when type is ARRAY */
	const uint8_t *value;	/* scalar bytes, string header, or first element */
	uint64_t value_size;	/* bytes from value to the end of the value */
};

struct lx_gguf_tensor {
	struct lx_gguf_str name;
	uint32_t n_dims;			/* 1..4 */
	uint32_t type;				/* enum lx_type */
	uint64_t ne[LX_GGUF_MAX_DIMS];		/* elements per dim, unused = 1 */
	uint64_t n_elements;
	uint64_t offset;			/* from the data section start */
	uint64_t size;				/* bytes */
	const void *data;			/* into the file */
};

struct lx_gguf {
	const uint8_t *base;		/* the file */
	size_t size;
	uint32_t version;		/* 2 or 3 */
	uint32_t alignment;		/* general.alignment or 32 */
	uint64_t n_kv;
	struct lx_gguf_kv *kv;
	uint64_t n_tensors;
	struct lx_gguf_tensor *tensors;	/* in file order */
	uint32_t *by_name;		/* tensor indices sorted by name */
	uint64_t data_offset;		/* absolute offset of the data section */
	uint64_t data_size;		/* bytes from data_offset to file end */
};

/* Parses data[0..size). On failure g is left empty and err says why. */
bool lx_gguf_parse(struct lx_gguf *g, const void *data, size_t size,
		   struct lx_err *err);
void lx_gguf_free(struct lx_gguf *g);

const char *lx_gguf_vtype_name(uint32_t type);
const struct lx_gguf_kv *lx_gguf_find(const struct lx_gguf *g, const char *key);
const struct lx_gguf_tensor *lx_gguf_find_tensor(const struct lx_gguf *g,
						 const char *name);

/*
 * Typed getters. Absent key: return false with err empty when !required (the
 * caller keeps its default), or false with a message when required. A present
 * key of the wrong type or out of range is always an error (err set).
 * lx_gguf_get_str also requires valid UTF-8.
 */
bool lx_gguf_get_u32(const struct lx_gguf *g, const char *key, uint32_t *out,
		     bool required, struct lx_err *err);
bool lx_gguf_get_f32(const struct lx_gguf *g, const char *key, float *out,
		     bool required, struct lx_err *err);
bool lx_gguf_get_bool(const struct lx_gguf *g, const char *key, bool *out,
		      bool required, struct lx_err *err);
bool lx_gguf_get_str(const struct lx_gguf *g, const char *key,
		     struct lx_gguf_str *out, bool required, struct lx_err *err);
/* An array of the given element type; *kv_out points at it. */
bool lx_gguf_get_arr(const struct lx_gguf *g, const char *key, uint32_t type,
		     const struct lx_gguf_kv **kv_out, bool required,
		     struct lx_err *err);

/* Reads element i of a numeric array kv (bounds already checked by parse). */
int64_t lx_gguf_arr_int(const struct lx_gguf_kv *kv, uint64_t i);
float lx_gguf_arr_f32(const struct lx_gguf_kv *kv, uint64_t i);
/*
 * Splits a string array into (ptr, len) pairs; *out is allocated with
 * lx_host_alloc (n <= file size / 8, so bounded by the file) and must be freed.
 */
bool lx_gguf_arr_strings(const struct lx_gguf_kv *kv, struct lx_gguf_str **out,
			 struct lx_err *err);

/* Value as short text for `llamux info` (arrays summarised). */
size_t lx_gguf_value_to_text(const struct lx_gguf_kv *kv, char *buf, size_t cap);

#endif
