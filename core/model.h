/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * In-memory model: the parsed GGUF file, hyperparameters, weights bound by
 * name (pointing into the file), and the vocabulary. Shared by the loader
 * (model.c), tokenizer (vocab.c, tokenize_spm.c) and forward pass (forward.c).
 */
#ifndef LLAMUX_CORE_MODEL_H
#define LLAMUX_CORE_MODEL_H

#include "base.h"
#include "gguf.h"
#include "platform.h"
#include "llamux/llamux.h"

/* Token types, as tokenizer.ggml.token_type stores them. */
enum lx_token_type {
	LX_TOKEN_UNDEFINED = 0,
	LX_TOKEN_NORMAL = 1,
	LX_TOKEN_UNKNOWN = 2,
	LX_TOKEN_CONTROL = 3,
	LX_TOKEN_USER_DEFINED = 4,
	LX_TOKEN_UNUSED = 5,
	LX_TOKEN_BYTE = 6,
};

enum lx_vocab_kind { LX_VOCAB_NONE, LX_VOCAB_SPM, LX_VOCAB_BPE };

/*
 * Byte-level BPE pre-tokenizers (how text is split into words before the
 * merges), by tokenizer.ggml.pre; tokenize_bpe.c has the names and patterns.
 */
enum lx_bpe_pre {
	LX_PRE_DEFAULT,		/* llama.cpp's fallback sequence of 4 patterns */
	LX_PRE_GPT2,		/* GPT-2's pattern alone */
	LX_PRE_LLAMA3,		/* Llama 3: contractions any case, \p{N}{1,3} */
	LX_PRE_QWEN2,		/* the Llama 3 pattern with single digits */
	LX_PRE_STARCODER,	/* digits one by one, then GPT-2 */
	LX_PRE_FALCON,		/* punctuation runs, GPT-2, digit triplets */
	LX_PRE_DEEPSEEK_CODER,
	LX_PRE_DEEPSEEK_LLM,
};

/* A merge whose two sides are tokens: rank by the pair of ids. */
struct lx_bpe_merge {
	uint64_t key;		/* left id << 32 | right id */
	uint32_t rank;		/* index in tokenizer.ggml.merges */
	int32_t id;		/* the token of left+right, or -1 */
};

/* A merge with a side that is no token: found by its text. */
struct lx_bpe_merge_text {
	const char *ptr;	/* "left right", into the file */
	uint32_t n_left, n_right;
	uint32_t rank;
};

#define LX_VOCAB_MAX_EOG 16

struct lx_vocab {
	enum lx_vocab_kind kind;
	uint32_t n;			/* tokens */
	struct lx_gguf_str *text;	/* token texts, into the file */
	float *scores;			/* merge priority (SPM); n entries */
	uint8_t *types;			/* enum lx_token_type; n entries */
	int32_t bos, eos, unk, eot, eom;	/* -1 when the vocabulary has none */
	bool add_bos, add_eos;
	bool add_space_prefix;		/* SPM: prefix text with a space */
	/* SPM: the <0xNN> token of each byte; BPE: the token of its character */
	int32_t byte_token[256];
	uint32_t *sorted;		/* token ids ordered by text, then id */
	uint32_t *specials;		/* control/user/unknown, longest first */
	uint32_t n_specials;
	uint8_t special_first[32];	/* bitmap: bytes that start a special */
	uint32_t max_token_len;		/* bytes of the longest token */
	int32_t eog[LX_VOCAB_MAX_EOG];	/* tokens that end generation */
	uint32_t n_eog;
	/* BPE */
	enum lx_bpe_pre pre;
	bool ignore_merges;		/* a word that is a token stays whole */
	struct lx_bpe_merge *merges;	/* sorted by key, one per pair */
	uint32_t n_merges;
	struct lx_bpe_merge_text *merge_texts;	/* sorted by left, right */
	uint32_t n_merge_texts;
};

/* Looks up a token by its exact bytes (a repeated text: its highest id, as
 * llama.cpp's map keeps); -1 when absent.
 */
int32_t lx_vocab_find(const struct lx_vocab *v, const char *s, size_t n);
bool lx_vocab_load(struct lx_vocab *v, const struct lx_gguf *g,
		   struct lx_err *err);
void lx_vocab_free(struct lx_vocab *v);

/* SentencePiece BPE over text already split by special tokens. */
bool lx_tokenize_spm(const struct lx_vocab *v, const char *text, size_t len,
		     bool space_prefix, int32_t *out, size_t cap, size_t *n_out,
		     struct lx_err *err);

/*
 * Byte-level BPE (tokenize_bpe.c). lx_bpe_pre_find maps a
 * tokenizer.ggml.pre name to its pre-tokenizer and the flags llama.cpp sets
 * with it (false: unknown name); lx_bpe_pre_names lists the names.
 * lx_bpe_load reads tokenizer.ggml.merges into the vocabulary (after its
 * index is built).
 */
bool lx_bpe_pre_find(const char *name, size_t len, enum lx_bpe_pre *pre,
		     bool *ignore_merges, bool *add_bos);
const char *lx_bpe_pre_names(void);
bool lx_bpe_load(struct lx_vocab *v, const struct lx_gguf *g,
		 struct lx_err *err);
/* Pre-tokenizes and merges text already split by special tokens. */
bool lx_tokenize_bpe(const struct lx_vocab *v, const char *text, size_t len,
		     int32_t *out, size_t cap, size_t *n_out,
		     struct lx_err *err);
/*
 * Only the pre-tokenizer, for tests: the end offset (in text) of each word
 * (the first cap are written). Returns the number of words, or -1.
 */
int64_t lx_bpe_pretokenize(enum lx_bpe_pre pre, const char *text, size_t len,
			   size_t *ends, size_t cap, struct lx_err *err);
/* The byte a byte-level character (GPT-2's bytes_to_unicode) stands for. */
int lx_bpe_char_to_byte(uint32_t cpt);

struct lx_hparams {
	uint32_t n_vocab;
	uint32_t n_ctx_train;
	uint32_t n_embd;
	uint32_t n_layer;
	uint32_t n_head;
	uint32_t n_head_kv;
	uint32_t head_dim;	/* attention.key_length */
	uint32_t n_ff;
	uint32_t n_rot;		/* rope.dimension_count */
	float norm_eps;
	float rope_freq_base;
	float rope_freq_scale;	/* 1 / rope.scaling.factor for linear scaling */
};

/* A weight matrix: ne0 inputs per row, ne1 rows, in the file's bytes. */
struct lx_weight {
	const struct lx_gguf_tensor *t;
	const uint8_t *data;
	uint32_t type;		/* enum lx_type */
	uint64_t ne0, ne1;
	uint64_t row_bytes;
};

/* How a family's layers compute; core/arch_*.c each describe one. */
enum lx_norm_kind { LX_NORM_RMS, LX_NORM_LAYER };
enum lx_ffn_kind {
	LX_FFN_SWIGLU,	/* down(silu(gate x) * up x) */
	LX_FFN_GEGLU,	/* down(gelu(gate x) * up x) */
	LX_FFN_GELU,	/* down(gelu(up x)) */
};
enum lx_rope_kind {
	LX_ROPE_NORM,	/* rotates (x[2i], x[2i+1]) */
	LX_ROPE_NEOX,	/* rotates (x[i], x[i + n_rot/2]) */
};

struct lx_arch {
	const char *name;		/* general.architecture */
	enum lx_norm_kind norm;
	enum lx_ffn_kind ffn;
	enum lx_rope_kind rope;
	bool parallel;			/* attention and FFN share one normed input */
	bool embd_scale;		/* embeddings times sqrt(n_embd) */
	bool q_prescale;		/* Q times 1/sqrt(head_dim) before attention */
};

/* The supported families; NULL for an unknown name. */
const struct lx_arch *lx_arch_find(const char *name);
/* "llama, qwen2, ..." for error messages. */
const char *lx_arch_names(void);

/* Optional parts are NULL (vectors) or have t == NULL (matrices). */
struct lx_layer {
	float *attn_norm, *attn_norm_b;	/* [n_embd], dequantized at load */
	struct lx_weight wq, wk, wv;	/* [n_embd] -> heads */
	struct lx_weight wqkv;		/* fused q|k|v instead of the three */
	float *bq, *bk, *bv, *bqkv;	/* their biases */
	struct lx_weight wo;		/* heads -> [n_embd] */
	float *bo;
	float *ffn_norm, *ffn_norm_b;	/* absent when parallel */
	struct lx_weight w_gate, w_up;	/* [n_embd] -> [n_ff] */
	float *b_up;
	struct lx_weight w_down;	/* [n_ff] -> [n_embd] */
	float *b_down;
};

struct llamux_model {
	struct lx_host_file file;	/* the mapping, when we opened it */
	bool owns_file;
	struct lx_gguf gguf;
	char arch[64];
	char name[128];
	char tokenizer[32];
	bool vocab_only;
	struct lx_hparams hp;
	struct lx_vocab vocab;
	const struct lx_arch *family;	/* how the layers compute */
	struct lx_weight tok_embd;	/* rows are token embeddings */
	float *output_norm, *output_norm_b;	/* [n_embd] */
	struct lx_weight output;	/* tok_embd when tied */
	float *output_b;		/* [n_vocab] or NULL */
	float *rope_freq_factors;	/* [n_rot / 2] or NULL */
	struct lx_layer *layers;
};

#endif
