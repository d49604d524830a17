// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Model loading: reads hyperparameters from GGUF metadata, binds every weight
 * by name with its shape and type checked against them, and loads the
 * vocabulary. After a successful load the forward pass can index any weight
 * without further checks, so every check that protects memory lives here.
 */
#include "model.h"
#include "quant.h"

#define MODEL_MAX_LAYERS 4096

const char *llamux_version(void)
{
	return "0.1.0";
}

static void copy_str(char *dst, size_t cap, const struct lx_gguf_str *s)
{
	size_t n = LX_MIN((size_t)s->len, cap - 1);

	memcpy(dst, s->ptr, n);
	dst[n] = '\0';
}

/* "llama" + ".context_length" -> "llama.context_length" */
static const char *arch_key(const struct llamux_model *m, const char *suffix,
			    char *buf, size_t cap)
{
	lx_snprintf(buf, cap, "%s.%s", m->arch, suffix);
	return buf;
}

static bool get_u32(const struct llamux_model *m, const char *suffix,
		    uint32_t *out, bool required, struct lx_err *err)
{
	char key[128];

	if (lx_gguf_get_u32(&m->gguf, arch_key(m, suffix, key, sizeof(key)), out,
			    required, err))
		return true;
	return !err->msg[0];	/* absent optional key: keep default */
}

static bool get_f32(const struct llamux_model *m, const char *suffix,
		    float *out, bool required, struct lx_err *err)
{
	char key[128];

	if (lx_gguf_get_f32(&m->gguf, arch_key(m, suffix, key, sizeof(key)), out,
			    required, err))
		return true;
	return !err->msg[0];
}

static bool load_hparams(struct llamux_model *m, struct lx_err *err)
{
	struct lx_hparams *hp = &m->hp;
	struct lx_gguf_str s;
	float factor = 0.0f;
	uint32_t value_dim;
	char key[128];

	if (!get_u32(m, "context_length", &hp->n_ctx_train, true, err) ||
	    !get_u32(m, "embedding_length", &hp->n_embd, true, err) ||
	    !get_u32(m, "block_count", &hp->n_layer, true, err) ||
	    !get_u32(m, "feed_forward_length", &hp->n_ff, true, err) ||
	    !get_u32(m, "attention.head_count", &hp->n_head, true, err) ||
	    !get_f32(m, m->family->norm == LX_NORM_RMS ?
		     "attention.layer_norm_rms_epsilon" :
		     "attention.layer_norm_epsilon", &hp->norm_eps, true, err))
		return false;
	if (hp->n_embd == 0 || hp->n_layer == 0 || hp->n_head == 0 ||
	    hp->n_ff == 0 || hp->n_ctx_train == 0)
		return lx_fail(err, "model metadata has a zero size (%s.embedding_length, block_count, feed_forward_length, attention.head_count or context_length)",
			       m->arch);
	if (hp->n_layer > MODEL_MAX_LAYERS)
		return lx_fail(err, "%s.block_count is %u (limit %d)", m->arch,
			       hp->n_layer, MODEL_MAX_LAYERS);
	if (hp->n_embd % hp->n_head)
		return lx_fail(err, "%s.embedding_length %u is not a multiple of attention.head_count %u",
			       m->arch, hp->n_embd, hp->n_head);
	hp->n_head_kv = hp->n_head;
	hp->head_dim = hp->n_embd / hp->n_head;
	if (!get_u32(m, "attention.head_count_kv", &hp->n_head_kv, false, err) ||
	    !get_u32(m, "attention.key_length", &hp->head_dim, false, err))
		return false;
	value_dim = hp->head_dim;
	if (!get_u32(m, "attention.value_length", &value_dim, false, err))
		return false;
	if (value_dim != hp->head_dim)
		return lx_fail(err, "%s.attention.value_length %u differs from key_length %u, which is not supported",
			       m->arch, value_dim, hp->head_dim);
	hp->n_rot = hp->head_dim;
	hp->rope_freq_base = 10000.0f;
	hp->rope_freq_scale = 1.0f;
	if (!get_u32(m, "rope.dimension_count", &hp->n_rot, false, err) ||
	    !get_f32(m, "rope.freq_base", &hp->rope_freq_base, false, err) ||
	    !get_f32(m, "rope.scaling.factor", &factor, false, err))
		return false;
	if (hp->n_head_kv == 0 || hp->n_head % hp->n_head_kv)
		return lx_fail(err, "%s.attention.head_count_kv %u does not divide head_count %u",
			       m->arch, hp->n_head_kv, hp->n_head);
	if (hp->head_dim == 0 || hp->head_dim % 2 || hp->head_dim > 4096)
		return lx_fail(err, "head dimension %u is not supported (must be even, at most 4096)",
			       hp->head_dim);
	if (hp->n_rot % 2 || hp->n_rot > hp->head_dim)
		return lx_fail(err, "%s.rope.dimension_count %u must be even and at most the head dimension %u",
			       m->arch, hp->n_rot, hp->head_dim);
	if (hp->rope_freq_base <= 0.0f)
		return lx_fail(err, "%s.rope.freq_base must be positive", m->arch);
	if (!(hp->norm_eps >= 0.0f && hp->norm_eps < 1.0f))
		return lx_fail(err, "%s.attention.layer_norm_rms_epsilon is out of range",
			       m->arch);
	if (lx_gguf_get_str(&m->gguf,
			    arch_key(m, "rope.scaling.type", key, sizeof(key)),
			    &s, false, err)) {
		if (lx_str_eq(s.ptr, s.len, "linear")) {
			if (factor > 0.0f)
				hp->rope_freq_scale = 1.0f / factor;
		} else if (!lx_str_eq(s.ptr, s.len, "none")) {
			return lx_fail(err, "rope scaling '%.*s' is not supported (only none and linear)",
				       (int)s.len, s.ptr);
		}
	} else if (err->msg[0]) {
		return false;
	}
	return true;
}

/* Binds a tensor with exactly the given shape (ne1 = 0 for a vector). */
static bool bind(struct llamux_model *m, struct lx_weight *w, const char *name,
		 uint64_t ne0, uint64_t ne1, bool required, struct lx_err *err)
{
	const struct lx_gguf_tensor *t = lx_gguf_find_tensor(&m->gguf, name);
	const struct lx_type_traits *tt;
	uint32_t dims = ne1 ? 2 : 1;

	memset(w, 0, sizeof(*w));
	if (!t) {
		if (required)
			return lx_fail(err, "tensor '%s' is missing from the model file",
				       name);
		return true;
	}
	if (t->n_dims != dims || t->ne[0] != ne0 || (ne1 && t->ne[1] != ne1))
		return lx_fail(err, "tensor '%s' has shape [%llu, %llu], expected [%llu, %llu] from the model's hyperparameters",
			       name, (unsigned long long)t->ne[0],
			       (unsigned long long)(t->n_dims > 1 ? t->ne[1] : 1),
			       (unsigned long long)ne0,
			       (unsigned long long)(ne1 ? ne1 : 1));
	tt = lx_type_traits(t->type);
	if (!tt->supported)
		return lx_fail(err, "tensor '%s' has type %s, which llamux cannot compute (supported: %s)",
			       name, tt->name, lx_supported_types());
	w->t = t;
	w->data = t->data;
	w->type = t->type;
	w->ne0 = ne0;
	w->ne1 = ne1 ? ne1 : 1;
	w->row_bytes = ne0 / tt->block_size * tt->type_size;
	return true;
}

/*
 * Norms and biases are small: keep them as F32 whatever the file stores.
 * An absent optional vector leaves *out NULL.
 */
static bool bind_vec(struct llamux_model *m, float **out, const char *name,
		     uint64_t n, bool required, struct lx_err *err)
{
	struct lx_weight w;

	if (!bind(m, &w, name, n, 0, required, err))
		return false;
	if (!w.t)
		return true;
	*out = lx_host_alloc(n * sizeof(float));
	if (!*out)
		return lx_fail(err, "out of memory for tensor '%s'", name);
	lx_type_traits(w.type)->to_float(w.data, *out, n);
	return true;
}

static bool bind_vector(struct llamux_model *m, float **out, const char *name,
			uint64_t n, struct lx_err *err)
{
	return bind_vec(m, out, name, n, true, err);
}

static bool load_layer(struct llamux_model *m, uint32_t i, struct lx_err *err)
{
	const struct lx_hparams *hp = &m->hp;
	const struct lx_arch *f = m->family;
	struct lx_layer *l = &m->layers[i];
	uint64_t n_q = (uint64_t)hp->n_head * hp->head_dim;
	uint64_t n_kv = (uint64_t)hp->n_head_kv * hp->head_dim;
	char name[96];

#define T(part, suffix) \
	(lx_snprintf(name, sizeof(name), "blk.%u.%s.%s", i, part, suffix), name)
	if (!bind_vector(m, &l->attn_norm, T("attn_norm", "weight"), hp->n_embd,
			 err) ||
	    !bind_vec(m, &l->attn_norm_b, T("attn_norm", "bias"), hp->n_embd,
		      false, err) ||
	    !bind(m, &l->wqkv, T("attn_qkv", "weight"), hp->n_embd,
		  n_q + 2 * n_kv, false, err))
		return false;
	if (l->wqkv.t) {
		if (!bind_vec(m, &l->bqkv, T("attn_qkv", "bias"), n_q + 2 * n_kv,
			      false, err))
			return false;
	} else if (!bind(m, &l->wq, T("attn_q", "weight"), hp->n_embd, n_q, true,
			 err) ||
		   !bind(m, &l->wk, T("attn_k", "weight"), hp->n_embd, n_kv,
			 true, err) ||
		   !bind(m, &l->wv, T("attn_v", "weight"), hp->n_embd, n_kv,
			 true, err) ||
		   !bind_vec(m, &l->bq, T("attn_q", "bias"), n_q, false, err) ||
		   !bind_vec(m, &l->bk, T("attn_k", "bias"), n_kv, false, err) ||
		   !bind_vec(m, &l->bv, T("attn_v", "bias"), n_kv, false, err)) {
		return false;
	}
	if (!bind(m, &l->wo, T("attn_output", "weight"), n_q, hp->n_embd, true,
		  err) ||
	    !bind_vec(m, &l->bo, T("attn_output", "bias"), hp->n_embd, false,
		      err) ||
	    !bind(m, &l->w_up, T("ffn_up", "weight"), hp->n_embd, hp->n_ff, true,
		  err) ||
	    !bind_vec(m, &l->b_up, T("ffn_up", "bias"), hp->n_ff, false, err) ||
	    !bind(m, &l->w_down, T("ffn_down", "weight"), hp->n_ff, hp->n_embd,
		  true, err) ||
	    !bind_vec(m, &l->b_down, T("ffn_down", "bias"), hp->n_embd, false,
		      err))
		return false;
	if (f->ffn != LX_FFN_GELU &&
	    !bind(m, &l->w_gate, T("ffn_gate", "weight"), hp->n_embd, hp->n_ff,
		  true, err))
		return false;
	if (!f->parallel &&
	    (!bind_vector(m, &l->ffn_norm, T("ffn_norm", "weight"), hp->n_embd,
			  err) ||
	     !bind_vec(m, &l->ffn_norm_b, T("ffn_norm", "bias"), hp->n_embd,
		       false, err)))
		return false;
#undef T
	return true;
}

static bool load_weights(struct llamux_model *m, struct lx_err *err)
{
	const struct lx_hparams *hp = &m->hp;
	uint32_t i;

	if (!bind(m, &m->tok_embd, "token_embd.weight", hp->n_embd, hp->n_vocab,
		  true, err) ||
	    !bind_vector(m, &m->output_norm, "output_norm.weight", hp->n_embd,
			 err) ||
	    !bind_vec(m, &m->output_norm_b, "output_norm.bias", hp->n_embd,
		      false, err) ||
	    !bind(m, &m->output, "output.weight", hp->n_embd, hp->n_vocab, false,
		  err) ||
	    !bind_vec(m, &m->output_b, "output.bias", hp->n_vocab, false, err))
		return false;
	if (!m->output.t)
		m->output = m->tok_embd;	/* tied embeddings */
	if (lx_gguf_find_tensor(&m->gguf, "rope_freqs.weight") &&
	    !bind_vector(m, &m->rope_freq_factors, "rope_freqs.weight",
			 hp->n_rot / 2, err))
		return false;

	m->layers = lx_host_alloc(hp->n_layer * sizeof(*m->layers));
	if (!m->layers)
		return lx_fail(err, "out of memory for %u layers", hp->n_layer);
	for (i = 0; i < hp->n_layer; i++)
		if (!load_layer(m, i, err))
			return false;
	return true;
}

static void model_release(struct llamux_model *m)
{
	uint32_t i;

	if (m->layers) {
		for (i = 0; i < m->hp.n_layer; i++) {
			struct lx_layer *l = &m->layers[i];
			float *vecs[] = { l->attn_norm, l->attn_norm_b, l->bq,
					  l->bk, l->bv, l->bqkv, l->bo,
					  l->ffn_norm, l->ffn_norm_b, l->b_up,
					  l->b_down };
			size_t k;

			for (k = 0; k < LX_ARRAY_SIZE(vecs); k++)
				lx_host_free(vecs[k]);
		}
		lx_host_free(m->layers);
	}
	lx_host_free(m->output_norm);
	lx_host_free(m->output_norm_b);
	lx_host_free(m->output_b);
	lx_host_free(m->rope_freq_factors);
	lx_vocab_free(&m->vocab);
	lx_gguf_free(&m->gguf);
	if (m->owns_file)
		lx_host_file_close(&m->file);
	lx_host_free(m);
}

static bool load(struct llamux_model *m, unsigned int flags, struct lx_err *err)
{
	struct lx_gguf_str s;

	if (!lx_gguf_parse(&m->gguf, m->file.data, m->file.size, err))
		return false;
	m->vocab_only = flags & (LLAMUX_LOAD_VOCAB_ONLY |
				 LLAMUX_LOAD_METADATA_ONLY);
	if (lx_gguf_get_str(&m->gguf, "general.name", &s, false, err))
		copy_str(m->name, sizeof(m->name), &s);
	else if (err->msg[0])
		return false;
	if (!lx_gguf_get_str(&m->gguf, "general.architecture", &s,
			     !m->vocab_only, err)) {
		if (err->msg[0])
			return false;
	} else {
		if (s.len == 0 || s.len >= sizeof(m->arch) - 1)
			return lx_fail(err, "general.architecture '%.*s' is not a valid architecture name",
				       (int)LX_MIN(s.len, 64), s.ptr);
		copy_str(m->arch, sizeof(m->arch), &s);
	}
	if (flags & LLAMUX_LOAD_METADATA_ONLY)
		return true;
	if (!lx_vocab_load(&m->vocab, &m->gguf, err))
		return false;
	if (lx_gguf_get_str(&m->gguf, "tokenizer.ggml.model", &s, true, err))
		copy_str(m->tokenizer, sizeof(m->tokenizer), &s);
	m->hp.n_vocab = m->vocab.n;
	if (m->vocab_only)
		return true;
	if (m->gguf.n_tensors == 0)
		return lx_fail(err, "the file has no tensors (a vocabulary-only GGUF?); it can tokenize but not run");
	m->family = lx_arch_find(m->arch);
	if (!m->family)
		return lx_fail(err, "model architecture '%s' is not supported (supported: %s)",
			       m->arch, lx_arch_names());
	return load_hparams(m, err) && load_weights(m, err);
}

static struct llamux_model *finish_load(struct llamux_model *m,
					unsigned int flags, char *err_out)
{
	struct lx_err err = { "" };

	if (!load(m, flags, &err)) {
		if (!err.msg[0])
			lx_fail(&err, "cannot load model");
		if (err_out)
			memcpy(err_out, err.msg, LLAMUX_ERR_MAX);
		model_release(m);
		return NULL;
	}
	return m;
}

struct llamux_model *llamux_model_load(const char *path, unsigned int flags,
				       char *err_out)
{
	struct llamux_model *m = lx_host_alloc(sizeof(*m));
	struct lx_err err = { "" };

	if (!m) {
		if (err_out)
			lx_snprintf(err_out, LLAMUX_ERR_MAX, "out of memory");
		return NULL;
	}
	if (!((flags & LLAMUX_LOAD_NO_MMAP) ?
	      lx_host_file_read(path, &m->file, &err) :
	      lx_host_file_open(path, &m->file, &err))) {
		if (err_out)
			memcpy(err_out, err.msg, LLAMUX_ERR_MAX);
		lx_host_free(m);
		return NULL;
	}
	m->owns_file = true;
	return finish_load(m, flags, err_out);
}

struct llamux_model *llamux_model_load_memory(const void *data, size_t size,
					      unsigned int flags, char *err_out)
{
	struct llamux_model *m = lx_host_alloc(sizeof(*m));

	if (!m) {
		if (err_out)
			lx_snprintf(err_out, LLAMUX_ERR_MAX, "out of memory");
		return NULL;
	}
	m->file.data = data;
	m->file.size = size;
	return finish_load(m, flags, err_out);
}

void llamux_model_free(struct llamux_model *m)
{
	if (m)
		model_release(m);
}

void llamux_model_get_info(const struct llamux_model *m,
			   struct llamux_model_info *info)
{
	const struct lx_hparams *hp = &m->hp;
	uint64_t i;

	memset(info, 0, sizeof(*info));
	info->arch = m->arch;
	info->name = m->name;
	info->gguf_version = m->gguf.version;
	info->n_vocab = m->vocab.n;
	info->n_ctx_train = hp->n_ctx_train;
	info->n_embd = hp->n_embd;
	info->n_layer = hp->n_layer;
	info->n_head = hp->n_head;
	info->n_head_kv = hp->n_head_kv;
	info->head_dim = hp->head_dim;
	info->n_ff = hp->n_ff;
	info->n_rot = hp->n_rot;
	info->norm_eps = hp->norm_eps;
	info->rope_freq_base = hp->rope_freq_base;
	info->rope_freq_scale = hp->rope_freq_scale;
	info->tokenizer = m->tokenizer;
	info->bos = m->vocab.bos;
	info->eos = m->vocab.eos;
	info->add_bos = m->vocab.add_bos;
	info->add_eos = m->vocab.add_eos;
	info->vocab_only = m->vocab_only;
	for (i = 0; i < m->gguf.n_tensors; i++) {
		info->n_params += m->gguf.tensors[i].n_elements;
		info->n_bytes += m->gguf.tensors[i].size;
	}
}

uint64_t llamux_model_n_meta(const struct llamux_model *m)
{
	return m->gguf.n_kv;
}

bool llamux_model_meta(const struct llamux_model *m, uint64_t i,
		       const char **key, size_t *key_len, char *value,
		       size_t value_cap)
{
	if (i >= m->gguf.n_kv)
		return false;
	*key = m->gguf.kv[i].key.ptr;
	*key_len = m->gguf.kv[i].key.len;
	lx_gguf_value_to_text(&m->gguf.kv[i], value, value_cap);
	return true;
}

bool llamux_model_meta_str(const struct llamux_model *m, const char *key,
			   const char **s, size_t *len)
{
	struct lx_gguf_str v;
	struct lx_err err;

	if (!lx_gguf_get_str(&m->gguf, key, &v, false, &err))
		return false;
	*s = v.ptr;
	*len = (size_t)v.len;
	return true;
}

uint64_t llamux_model_n_tensors(const struct llamux_model *m)
{
	return m->gguf.n_tensors;
}

bool llamux_model_tensor(const struct llamux_model *m, uint64_t i,
			 struct llamux_tensor_info *info)
{
	const struct lx_gguf_tensor *t;

	if (i >= m->gguf.n_tensors)
		return false;
	t = &m->gguf.tensors[i];
	info->name = t->name.ptr;
	info->name_len = t->name.len;
	info->type = lx_type_traits(t->type)->name;
	info->n_dims = t->n_dims;
	memcpy(info->ne, t->ne, sizeof(info->ne));
	info->offset = t->offset;
	info->size = t->size;
	return true;
}
