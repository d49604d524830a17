/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Llamux public API: load a GGUF model, tokenize, run the forward pass, sample.
 * The same functions are built into libllamux (userspace) and llamux.ko, so
 * this header uses compiler-provided types only. Functions that can fail take
 * `char *err` (LLAMUX_ERR_MAX bytes, may be NULL) and write one line there
 * saying what went wrong.
 */
#ifndef LLAMUX_LLAMUX_H
#define LLAMUX_LLAMUX_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define LLAMUX_ERR_MAX 256

enum llamux_status {
	LLAMUX_OK = 0,
	LLAMUX_ERR_INVALID = -1,	/* bad argument or token id */
	LLAMUX_ERR_NOMEM = -2,
	LLAMUX_ERR_CONTEXT_FULL = -3,	/* more tokens than the context holds */
};

struct llamux_model;
struct llamux_context;
struct llamux_sampler;

const char *llamux_version(void);

/* ---- models ---- */

#define LLAMUX_LOAD_VOCAB_ONLY 1u	/* tokenizer only; tensors not needed */
#define LLAMUX_LOAD_METADATA_ONLY 2u	/* GGUF metadata and tensor table only */
#define LLAMUX_LOAD_NO_MMAP 4u		/* read the file in, do not map it */

/*
 * Maps the file (never copies it) and checks it fully. NULL on error. With
 * LLAMUX_LOAD_NO_MMAP (userspace) the file is read once into memory of the
 * process's own, in huge pages where the OS gives them: a copy's worth of
 * memory, and on some machines faster generation (llama.cpp's --no-mmap).
 * The kernel module always reads the file in.
 */
struct llamux_model *llamux_model_load(const char *path, unsigned int flags,
				       char *err);
/* Same over bytes the caller keeps alive and unchanged until model_free. */
struct llamux_model *llamux_model_load_memory(const void *data, size_t size,
					      unsigned int flags, char *err);
void llamux_model_free(struct llamux_model *model);

struct llamux_model_info {
	const char *arch;		/* general.architecture */
	const char *name;		/* general.name or "" */
	uint32_t gguf_version;
	uint32_t n_vocab;
	uint32_t n_ctx_train;		/* context length the model was trained for */
	uint32_t n_embd;
	uint32_t n_layer;
	uint32_t n_head;
	uint32_t n_head_kv;
	uint32_t head_dim;
	uint32_t n_ff;
	uint32_t n_rot;			/* rotary dimensions per head */
	float norm_eps;
	float rope_freq_base;
	float rope_freq_scale;
	const char *tokenizer;		/* tokenizer.ggml.model */
	int32_t bos, eos;		/* -1 when absent */
	bool add_bos, add_eos;
	bool vocab_only;		/* loaded without weights (flags) */
	uint64_t n_params;		/* elements over all tensors */
	uint64_t n_bytes;		/* tensor data bytes */
};
void llamux_model_get_info(const struct llamux_model *model,
			   struct llamux_model_info *info);

/* Metadata entries and tensors in file order, for `llamux info`. */
uint64_t llamux_model_n_meta(const struct llamux_model *model);
/* key (not NUL-terminated, key_len bytes) and the value as short text. */
bool llamux_model_meta(const struct llamux_model *model, uint64_t i,
		       const char **key, size_t *key_len, char *value,
		       size_t value_cap);
/* A string entry by key (e.g. "tokenizer.chat_template"): *s points into the
 * file (not NUL-terminated, *len bytes, valid UTF-8). False when the key is
 * absent or not a string.
 */
bool llamux_model_meta_str(const struct llamux_model *model, const char *key,
			   const char **s, size_t *len);

struct llamux_tensor_info {
	const char *name;	/* not NUL-terminated */
	size_t name_len;
	const char *type;	/* "Q4_K", ... */
	uint32_t n_dims;
	uint64_t ne[4];
	uint64_t offset;	/* in the data section */
	uint64_t size;		/* bytes */
};
uint64_t llamux_model_n_tensors(const struct llamux_model *model);
bool llamux_model_tensor(const struct llamux_model *model, uint64_t i,
			 struct llamux_tensor_info *info);

/* ---- tokenizer ---- */

int32_t llamux_n_vocab(const struct llamux_model *model);
int32_t llamux_token_bos(const struct llamux_model *model);
int32_t llamux_token_eos(const struct llamux_model *model);
/* End of generation: EOS, EOT and similar control tokens. */
bool llamux_token_is_eog(const struct llamux_model *model, int32_t token);

/*
 * Text to token ids. add_special: BOS/EOS as the vocabulary asks.
 * parse_special: control tokens written in the text (e.g. "<s>") become
 * those tokens; otherwise they are tokenized as text. Returns the number of
 * tokens (only the first cap are written), or LLAMUX_ERR_* < 0.
 */
int64_t llamux_tokenize(const struct llamux_model *model, const char *text,
			size_t len, bool add_special, bool parse_special,
			int32_t *tokens, size_t cap);

/* The bytes of one token (may be part of a UTF-8 character). Returns the
 * length (only cap bytes written). Control tokens give "" unless special.
 */
size_t llamux_token_to_piece(const struct llamux_model *model, int32_t token,
			     bool special, char *buf, size_t cap);

/* Streaming detokenizer: holds back an incomplete UTF-8 character. */
struct llamux_detok {
	char pending[8];	/* bytes of an unfinished character */
	uint32_t n_pending;
};
/* Appends the token's text to out; returns bytes written (out: >= 64 + piece
 * length bytes is always enough; cap bounds it).
 */
size_t llamux_detok_push(const struct llamux_model *model,
			 struct llamux_detok *d, int32_t token, char *out,
			 size_t cap);
/* Emits whatever is pending (an incomplete character at the very end). */
size_t llamux_detok_flush(struct llamux_detok *d, char *out, size_t cap);

/* ---- inference ---- */

enum llamux_kv_type { LLAMUX_KV_F16 = 0, LLAMUX_KV_F32 = 1 };

struct llamux_context_params {
	uint32_t n_ctx;		/* tokens; 0: min(trained context, 4096) */
	uint32_t n_batch;	/* tokens per forward pass (default 512) */
	int32_t n_threads;	/* 0: all the host offers */
	enum llamux_kv_type kv_type;
};
void llamux_context_default_params(struct llamux_context_params *p);

struct llamux_context *llamux_context_new(const struct llamux_model *model,
					  const struct llamux_context_params *p,
					  char *err);
void llamux_context_free(struct llamux_context *ctx);

/*
 * Feeds n tokens after those already in the context. When all_logits is not
 * NULL it receives n rows of n_vocab floats (one per fed token); the last
 * row is always available from llamux_logits(). Returns LLAMUX_OK or an
 * error (the context is unchanged on LLAMUX_ERR_CONTEXT_FULL).
 */
int llamux_decode(struct llamux_context *ctx, const int32_t *tokens, size_t n,
		  float *all_logits, char *err);
/*
 * One generation step for several contexts of one model (same size and
 * cache type): feeds tokens[i] to ctxs[i] in a single batched pass, so the
 * weights are read once for all of them (continuous batching). n may not
 * exceed the first context's batch size. Each context's logits are then in
 * llamux_logits(ctxs[i]); results equal one llamux_decode per context.
 */
int llamux_decode_multi(struct llamux_context *const *ctxs,
			const int32_t *tokens, uint32_t n, char *err);
const float *llamux_logits(const struct llamux_context *ctx);
uint32_t llamux_n_past(const struct llamux_context *ctx);
uint32_t llamux_n_ctx(const struct llamux_context *ctx);
void llamux_context_reset(struct llamux_context *ctx);
/* Bytes the context holds in its KV cache and in scratch buffers. */
void llamux_context_memory(const struct llamux_context *ctx,
			   uint64_t *kv_bytes, uint64_t *scratch_bytes);

/* ---- sampling ---- */

struct llamux_sampler_params {
	float temp;		/* <= 0: greedy */
	int32_t top_k;		/* <= 0: off */
	float top_p;		/* >= 1: off */
	float min_p;		/* <= 0: off */
	float repeat_penalty;	/* 1: off */
	int32_t repeat_last_n;	/* tokens the penalty looks back over */
	uint64_t seed;
};
void llamux_sampler_default_params(struct llamux_sampler_params *p);
struct llamux_sampler *llamux_sampler_new(const struct llamux_sampler_params *p,
					  int32_t n_vocab);
void llamux_sampler_free(struct llamux_sampler *s);
/*
 * The same in thousandths (temp_milli 800 = 0.8), for hosts whose code
 * cannot use floating point: the kernel glue. Values are range-checked;
 * NULL when out of range or out of memory.
 */
struct llamux_sampler_fixed {
	int32_t temp_milli;		/* 0: greedy, up to 100000 */
	int32_t top_k;			/* 0: off */
	int32_t top_p_milli;		/* 1000: off */
	int32_t min_p_milli;		/* 0: off */
	int32_t repeat_penalty_milli;	/* 1000: off */
	int32_t repeat_last_n;
	uint64_t seed;
};
struct llamux_sampler *llamux_sampler_new_fixed(const struct llamux_sampler_fixed *p,
						int32_t n_vocab);
/*
 * Constrains sampling to tokens whose text uses only bytes marked in
 * allowed[256] (nonzero: allowed), plus end-of-generation tokens: a simple
 * grammar for callers that need, say, a single shell command line. NULL
 * lifts the constraint. Returns LLAMUX_OK or LLAMUX_ERR_NOMEM.
 */
int llamux_sampler_set_allowed_bytes(struct llamux_sampler *s,
				     const struct llamux_model *model,
				     const uint8_t *allowed);
/* Remembers a token (prompt or generated) for the repetition penalty. */
void llamux_sampler_accept(struct llamux_sampler *s, int32_t token);
/* Picks the next token from logits (not modified) and accepts it. */
int32_t llamux_sample(struct llamux_sampler *s, const float *logits);

#ifdef __cplusplus
}
#endif

#endif
