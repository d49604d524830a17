// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The Llama forward pass. A batch of tokens goes through every layer at once
 * (the prompt in one pass, then one token per step): RMSNorm, Q/K/V
 * projections, RoPE, grouped-query attention with a causal mask over the KV
 * cache, output projection, SwiGLU feed-forward, final norm and the output
 * projection to logits. Matrix products quantize the activations to the
 * weight type's vec_dot_type once per product, as llama.cpp does. Every step
 * runs as a task on the host's threads (see platform.h).
 */
#include "model.h"
#include "mathfn.h"
#include "kernels.h"
#include "quant.h"

#define DEFAULT_N_BATCH 512
#define DEFAULT_MAX_CTX 4096
#define TOK_CHUNK 32		/* query tokens per attention pass */
#define MM_ROWS 16		/* matrix rows per task, a multiple of */

struct llamux_context {
	const struct llamux_model *m;
	uint32_t n_ctx;		/* KV cache capacity in tokens */
	uint32_t n_batch;	/* tokens per forward pass */
	uint32_t n_threads;
	enum llamux_kv_type kv_type;
	uint32_t n_past;	/* tokens already in the KV cache */

	uint32_t n_q;		/* n_head * head_dim */
	uint32_t n_kv;		/* n_head_kv * head_dim */
	size_t kv_elt;		/* bytes per cached K/V element */
	uint8_t *k_cache;	/* [n_layer][n_ctx][n_kv] */
	uint8_t *v_cache;	/* [n_layer][n_ctx][n_kv] */

	/* Scratch for one batch, rows of n_batch tokens. */
	float *x;		/* [n_batch][n_embd] residual stream */
	float *xn;		/* [n_batch][n_embd] normed input of a block */
	float *q;		/* [n_batch][n_q], then attention output */
	float *k;		/* [n_batch][n_kv] */
	float *v;		/* [n_batch][n_kv] */
	float *qkv;		/* [n_batch][n_q + 2 n_kv] fused projection */
	float *tmp1, *tmp2;	/* [n_batch][n_embd] for biased and parallel
				 * blocks, or NULL */
	float kq_scale;		/* attention logits scale */
	float *gate;		/* [n_batch][n_ff] */
	float *up;		/* [n_batch][n_ff] */
	struct attn_scratch {
		float *scores;	/* [TOK_CHUNK][n_ctx] */
		void *p;	/* the same rounded to the cache type */
		void *q;	/* [TOK_CHUNK][head_dim] queries, cache type */
	} *attn_scratch;	/* one per worker */
	float *rope;		/* [n_batch][n_rot / 2][2] cos, sin */
	float rope_theta_scale;	/* base^(-2/n_rot): angle ratio of pairs */
	float *logits;		/* [n_vocab] of the last token fed */
	float *multi_logits;	/* [n_batch][n_vocab] for decode_multi */
	uint32_t *multi_pos;	/* [n_batch] row positions for decode_multi */

	uint8_t *qbuf;		/* activations in a vec_dot_type */
	size_t qbuf_row;	/* bytes per token row in qbuf */
	const float *q_src;	/* what qbuf currently holds, or NULL */
	uint32_t q_type;
	uint32_t q_ntok;
};

void llamux_context_default_params(struct llamux_context_params *p)
{
	memset(p, 0, sizeof(*p));
	p->n_batch = DEFAULT_N_BATCH;
	p->kv_type = LLAMUX_KV_F16;
}

static bool alloc_floats(float **p, uint64_t n, struct lx_err *err)
{
	if (n > SIZE_MAX / sizeof(float))
		return lx_fail(err, "scratch buffer too large");
	*p = lx_host_alloc((size_t)n * sizeof(float));
	if (!*p)
		return lx_fail(err, "out of memory for %llu MiB of scratch",
			       (unsigned long long)(n * sizeof(float) >> 20));
	return true;
}

/* Bytes of one row of n elements in the vec_dot_type of weight type t. */
static size_t quant_row_bytes(uint32_t t, uint64_t n)
{
	const struct lx_type_traits *vt =
		lx_type_traits(lx_type_traits(t)->vec_dot_type);

	return n / vt->block_size * vt->type_size;
}

static void max_qrow(size_t *cap, const struct lx_weight *w)
{
	size_t b = quant_row_bytes(w->type, w->ne0);

	if (b > *cap)
		*cap = b;
}

void llamux_context_free(struct llamux_context *c)
{
	if (!c)
		return;
	lx_host_free(c->k_cache);
	lx_host_free(c->v_cache);
	lx_host_free(c->x);
	lx_host_free(c->xn);
	lx_host_free(c->q);
	lx_host_free(c->k);
	lx_host_free(c->v);
	lx_host_free(c->qkv);
	lx_host_free(c->tmp1);
	lx_host_free(c->tmp2);
	lx_host_free(c->gate);
	lx_host_free(c->up);
	if (c->attn_scratch) {
		uint32_t i;

		for (i = 0; i < c->n_threads; i++) {
			lx_host_free(c->attn_scratch[i].scores);
			lx_host_free(c->attn_scratch[i].p);
			lx_host_free(c->attn_scratch[i].q);
		}
		lx_host_free(c->attn_scratch);
	}
	lx_host_free(c->rope);
	lx_host_free(c->logits);
	lx_host_free(c->multi_logits);
	lx_host_free(c->multi_pos);
	lx_host_free(c->qbuf);
	lx_host_free(c);
}

static bool context_init(struct llamux_context *c,
			 const struct llamux_context_params *p,
			 struct lx_err *err)
{
	const struct llamux_model *m = c->m;
	const struct lx_hparams *hp = &m->hp;
	uint64_t kv_bytes, nb;
	uint32_t i;

	if (m->vocab_only)
		return lx_fail(err, "model was loaded for its vocabulary only; load it fully to run it");
	c->n_ctx = p->n_ctx ? p->n_ctx : LX_MIN(hp->n_ctx_train, DEFAULT_MAX_CTX);
	if (c->n_ctx > (1u << 24))
		return lx_fail(err, "context of %u tokens is too large (limit %u)",
			       c->n_ctx, 1u << 24);
	c->n_batch = p->n_batch ? p->n_batch : DEFAULT_N_BATCH;
	c->n_batch = LX_MIN(c->n_batch, c->n_ctx);
	c->n_threads = p->n_threads > 0 ? (uint32_t)p->n_threads :
		       lx_host_max_threads();
	c->n_threads = LX_MIN(c->n_threads, lx_host_max_threads());
	if (p->kv_type != LLAMUX_KV_F16 && p->kv_type != LLAMUX_KV_F32)
		return lx_fail(err, "unknown KV cache type %d", (int)p->kv_type);
	c->kv_type = p->kv_type;
	c->kv_elt = c->kv_type == LLAMUX_KV_F16 ? 2 : 4;
	c->n_q = hp->n_head * hp->head_dim;
	c->n_kv = hp->n_head_kv * hp->head_dim;

	/* Shapes were checked at load; sizes here are bounded by the file. */
	kv_bytes = (uint64_t)hp->n_layer * c->n_ctx * c->n_kv * c->kv_elt;
	c->k_cache = lx_host_alloc(kv_bytes);
	c->v_cache = lx_host_alloc(kv_bytes);
	if (!c->k_cache || !c->v_cache)
		return lx_fail(err, "out of memory for the KV cache (2 x %llu MiB for %u tokens); use a smaller context",
			       (unsigned long long)(kv_bytes >> 20), c->n_ctx);
	nb = c->n_batch;
	if (!alloc_floats(&c->x, nb * hp->n_embd, err) ||
	    !alloc_floats(&c->xn, nb * hp->n_embd, err) ||
	    !alloc_floats(&c->q, nb * c->n_q, err) ||
	    !alloc_floats(&c->k, nb * c->n_kv, err) ||
	    !alloc_floats(&c->v, nb * c->n_kv, err) ||
	    !alloc_floats(&c->gate, nb * hp->n_ff, err) ||
	    !alloc_floats(&c->up, nb * hp->n_ff, err) ||

	    !alloc_floats(&c->rope, nb * hp->n_rot, err) ||
	    !alloc_floats(&c->logits, hp->n_vocab, err))
		return false;
	/* Only families that need them pay for these. */
	if (m->layers[0].wqkv.t &&
	    !alloc_floats(&c->qkv, nb * (c->n_q + 2 * c->n_kv), err))
		return false;
	if ((m->family->parallel || m->layers[0].bo || m->layers[0].b_down) &&
	    (!alloc_floats(&c->tmp1, nb * hp->n_embd, err) ||
	     !alloc_floats(&c->tmp2, nb * hp->n_embd, err)))
		return false;
	c->kq_scale = m->family->q_prescale ? 1.0f :
		      1.0f / lx_sqrtf((float)hp->head_dim);

	c->attn_scratch = lx_host_alloc(c->n_threads * sizeof(*c->attn_scratch));
	if (!c->attn_scratch)
		return lx_fail(err, "out of memory");
	for (i = 0; i < c->n_threads; i++) {
		struct attn_scratch *as = &c->attn_scratch[i];

		if (!alloc_floats(&as->scores, (uint64_t)TOK_CHUNK * c->n_ctx, err))
			return false;
		as->p = lx_host_alloc((size_t)TOK_CHUNK * c->n_ctx * c->kv_elt);
		as->q = lx_host_alloc((size_t)TOK_CHUNK * hp->head_dim * c->kv_elt);
		if (!as->p || !as->q)
			return lx_fail(err, "out of memory for attention scratch");
	}
	c->rope_theta_scale = (float)lx_pow(hp->rope_freq_base,
					    (double)(-2.0f / (float)hp->n_rot));

	c->qbuf_row = 0;
	max_qrow(&c->qbuf_row, &m->output);
	for (i = 0; i < hp->n_layer; i++) {
		const struct lx_layer *l = &m->layers[i];

		max_qrow(&c->qbuf_row, &l->wqkv);
		max_qrow(&c->qbuf_row, &l->wq);
		max_qrow(&c->qbuf_row, &l->wk);
		max_qrow(&c->qbuf_row, &l->wv);
		max_qrow(&c->qbuf_row, &l->wo);
		max_qrow(&c->qbuf_row, &l->w_gate);
		max_qrow(&c->qbuf_row, &l->w_up);
		max_qrow(&c->qbuf_row, &l->w_down);
	}
	c->qbuf_row = (c->qbuf_row + 63) & ~(size_t)63;
	c->qbuf = lx_host_alloc(nb * c->qbuf_row);
	if (!c->qbuf)
		return lx_fail(err, "out of memory for activation buffers");
	return true;
}

struct llamux_context *llamux_context_new(const struct llamux_model *m,
					  const struct llamux_context_params *p,
					  char *err_out)
{
	struct llamux_context_params defaults;
	struct llamux_context *c;
	struct lx_err err = { "" };

	if (!p) {
		llamux_context_default_params(&defaults);
		p = &defaults;
	}
	c = lx_host_alloc(sizeof(*c));
	if (!c) {
		if (err_out)
			lx_snprintf(err_out, LLAMUX_ERR_MAX, "out of memory");
		return NULL;
	}
	c->m = m;
	if (!context_init(c, p, &err)) {
		if (err_out)
			memcpy(err_out, err.msg, LLAMUX_ERR_MAX);
		llamux_context_free(c);
		return NULL;
	}
	return c;
}

const float *llamux_logits(const struct llamux_context *c)
{
	return c->logits;
}

uint32_t llamux_n_past(const struct llamux_context *c)
{
	return c->n_past;
}

uint32_t llamux_n_ctx(const struct llamux_context *c)
{
	return c->n_ctx;
}

void llamux_context_reset(struct llamux_context *c)
{
	c->n_past = 0;
}

void llamux_context_memory(const struct llamux_context *c, uint64_t *kv_bytes,
			   uint64_t *scratch_bytes)
{
	const struct lx_hparams *hp = &c->m->hp;
	uint64_t per_token = 2 * (uint64_t)hp->n_embd + c->n_q + 2 * c->n_kv +
			     2 * (uint64_t)hp->n_ff + hp->n_rot;

	*kv_bytes = 2 * (uint64_t)hp->n_layer * c->n_ctx * c->n_kv * c->kv_elt;
	*scratch_bytes = (per_token * c->n_batch + hp->n_vocab) * sizeof(float) +
			 (uint64_t)c->n_batch * c->qbuf_row +
			 (uint64_t)c->n_threads * TOK_CHUNK *
			 (c->n_ctx * (sizeof(float) + c->kv_elt) +
			  hp->head_dim * c->kv_elt);
}

/* ---- tasks ---- */

/*
 * Runs a step of `units` independent pieces (rows, tokens, heads) costing
 * about `work` multiply-adds in all. Tasks are about TASK_GRAIN each, so the
 * kernel can reschedule between them and the threads end a step together;
 * small steps (tiny models, one token through a small layer) stay on the
 * calling thread, since waking a thread costs microseconds. Since each
 * thread takes a contiguous run of tasks, smaller tasks cost little: 2^18
 * was 1-2% faster than 2^20 (tg, first token), 2^22 5% slower.
 */
#define TASK_GRAIN (1u << 18)

static void run_tasks(const struct llamux_context *c, lx_task_fn fn, void *arg,
		      uint64_t units, uint64_t work)
{
	uint32_t workers = work < (1u << 16) ? 1 : (uint32_t)c->n_threads;
	uint64_t tasks = work / TASK_GRAIN + 1;

	tasks = LX_MAX(tasks, (uint64_t)workers);
	tasks = LX_MIN(tasks, LX_MAX(units, (uint64_t)1));
	lx_host_parallel(fn, arg, (uint32_t)tasks, workers);
}

/* Splits [0, n) into nth nearly equal parts; part ith is [*lo, *hi). */
static void split(uint64_t n, uint32_t ith, uint32_t nth, uint64_t *lo,
		  uint64_t *hi)
{
	*lo = n * (uint64_t)ith / (uint64_t)nth;
	*hi = n * (uint64_t)(ith + 1) / (uint64_t)nth;
}

/* One matrix product of a job: out (+)= W x. */
struct mm_part {
	const struct lx_weight *w;
	float *out;		/* output rows, out_stride floats apart */
	size_t out_stride;
	bool accumulate;	/* out += W x instead of out = W x */
};

struct batch {
	struct llamux_context *c;
	const int32_t *tokens;
	uint32_t n;		/* tokens in this batch */
	uint32_t pos0;		/* position of the first */
	/* Rows of several contexts (llamux_decode_multi): row t belongs to
	 * rc[t] at position rpos[t]; NULL when all rows are c's, from pos0.
	 */
	struct llamux_context *const *rc;
	const uint32_t *rpos;
	uint32_t layer;
	const float *in;	/* input rows to quantize */
	size_t in_stride;	/* floats between rows */
	uint32_t in_type;	/* the vec_dot_type to quantize to */
	uint64_t in_ne0;	/* elements per row */
	struct mm_part mm[3];	/* the current matrix products */
	uint32_t n_mm;
	uint64_t mm_rows;	/* rows over all parts */
	uint32_t row0;		/* first batch row to use (logits) */
	const float *norm_w;	/* norm weights */
	const float *norm_b;	/* LayerNorm bias or NULL */
	float *norm_out;
};

static struct llamux_context *row_ctx(const struct batch *b, uint32_t t)
{
	return b->rc ? b->rc[t] : b->c;
}

static uint32_t row_pos(const struct batch *b, uint32_t t)
{
	return b->rpos ? b->rpos[t] : b->pos0 + t;
}

/* dst = a + (bias broadcast over rows, or rows of src), row by row. */
struct add_job {
	float *dst;
	const float *a, *src, *bias;
	size_t dst_stride, a_stride, src_stride;	/* floats */
	uint32_t n, rows;
};

static void task_add(void *arg, uint32_t ith, uint32_t nth, uint32_t worker)
{
	struct add_job *j = arg;
	uint64_t lo, hi, t;
	uint32_t i;

	(void)worker;
	split(j->rows, ith, nth, &lo, &hi);
	for (t = lo; t < hi; t++) {
		float *d = j->dst + t * j->dst_stride;
		const float *a = j->a + t * j->a_stride;
		const float *o = j->bias ? j->bias : j->src + t * j->src_stride;

		for (i = 0; i < j->n; i++)
			d[i] = a[i] + o[i];
	}
}

static void task_embed(void *arg, uint32_t ith, uint32_t nth,
		       uint32_t worker)
{
	struct batch *b = arg;
	const struct lx_weight *e = &b->c->m->tok_embd;
	const lx_to_float_fn to_float = lx_kernels(e->type)->to_float;
	uint64_t lo, hi, t;

	(void)worker;
	split(b->n, ith, nth, &lo, &hi);
	for (t = lo; t < hi; t++) {
		float *x = b->c->x + t * e->ne0;
		uint64_t i;

		to_float(e->data + (uint64_t)b->tokens[t] * e->row_bytes, x,
			 e->ne0);
		if (b->c->m->family->embd_scale) {
			float scale = lx_sqrtf((float)e->ne0);

			for (i = 0; i < e->ne0; i++)
				x[i] *= scale;
		}
	}
}

/*
 * y = x / sqrt(mean(x^2) + eps) * w as ggml_rms_norm then mul: each square
 * rounded to float, the sum in double. A square taken in double gives a
 * scale an ulp off now and then, enough to flip an activation's Q8
 * rounding in a quantized model.
 */
static void rmsnorm(float *y, const float *x, const float *w, uint32_t n,
		    float eps)
{
	double sum = 0.0;
	float scale;
	uint32_t i;

	for (i = 0; i < n; i++)
		sum += (double)(x[i] * x[i]);
	scale = 1.0f / lx_sqrtf((float)(sum / n) + eps);
	for (i = 0; i < n; i++)
		y[i] = x[i] * scale * w[i];
}

/* y = (x - mean) / sqrt(var + eps) * w + b, as ggml_norm then mul, add. */
static void layernorm(float *y, const float *x, const float *w,
		      const float *bias, uint32_t n, float eps)
{
	double sum = 0.0, sum2 = 0.0;
	float mean, scale;
	uint32_t i;

	for (i = 0; i < n; i++)
		sum += x[i];
	mean = (float)(sum / n);
	for (i = 0; i < n; i++) {
		float v = x[i] - mean;

		y[i] = v;
		sum2 += (double)(v * v);
	}
	scale = 1.0f / lx_sqrtf((float)(sum2 / n) + eps);
	for (i = 0; i < n; i++) {
		y[i] = y[i] * scale * w[i];
		if (bias)
			y[i] += bias[i];
	}
}

static void task_norm(void *arg, uint32_t ith, uint32_t nth,
		      uint32_t worker)
{
	struct batch *b = arg;
	const struct lx_hparams *hp = &b->c->m->hp;
	bool layer = b->c->m->family->norm == LX_NORM_LAYER;
	uint64_t lo, hi, t;

	(void)worker;
	split(b->n - b->row0, ith, nth, &lo, &hi);
	for (t = b->row0 + lo; t < b->row0 + hi; t++) {
		const float *x = b->c->x + t * hp->n_embd;
		float *y = b->norm_out + t * hp->n_embd;

		if (layer)
			layernorm(y, x, b->norm_w, b->norm_b, hp->n_embd,
				  hp->norm_eps);
		else
			rmsnorm(y, x, b->norm_w, hp->n_embd, hp->norm_eps);
	}
}

static void task_quantize(void *arg, uint32_t ith, uint32_t nth,
			  uint32_t worker)
{
	struct batch *b = arg;
	struct llamux_context *c = b->c;
	const struct lx_kernels *vt = lx_kernels(b->in_type);
	uint64_t lo, hi, t;

	(void)worker;
	split(b->n - b->row0, ith, nth, &lo, &hi);
	for (t = b->row0 + lo; t < b->row0 + hi; t++)
		vt->from_float(b->in + t * b->in_stride, c->qbuf + t * c->qbuf_row,
			       b->in_ne0);
}

/*
 * Rows [lo, hi) of the job's matrices taken as one stack: a job may hold up
 * to three products of the same input (q, k, v; gate, up), so a token step
 * waits for one dispatch instead of three.
 */
static void task_matmul(void *arg, uint32_t ith, uint32_t nth,
			uint32_t worker)
{
	struct batch *b = arg;
	struct llamux_context *c = b->c;
	const uint8_t *x = c->qbuf + (uint64_t)b->row0 * c->qbuf_row;
	uint32_t n_tok = b->n - b->row0, p;
	uint64_t lo, hi, base = 0;

	(void)worker;
	/* Whole groups of MM_ROWS rows, the width of the widest gemm tiles. */
	split((b->mm_rows + MM_ROWS - 1) / MM_ROWS, ith, nth, &lo, &hi);
	lo *= MM_ROWS;
	hi = LX_MIN(hi * MM_ROWS, b->mm_rows);
	for (p = 0; p < b->n_mm && lo < hi; p++) {
		const struct mm_part *mp = &b->mm[p];
		const struct lx_weight *w = mp->w;
		const struct lx_kernels *k = lx_kernels(w->type);
		uint64_t r0, r1;

		if (lo >= base + w->ne1) {
			base += w->ne1;
			continue;
		}
		r0 = lo - base;
		r1 = LX_MIN(hi - base, w->ne1);
		if (k->gemm)
			k->gemm(w->ne0, w->data + r0 * w->row_bytes, w->row_bytes,
				(uint32_t)(r1 - r0), x, c->qbuf_row, n_tok,
				mp->out + r0, mp->out_stride, mp->accumulate);
		else
			lx_gemm_generic(k->vec_dot, w->ne0,
					w->data + r0 * w->row_bytes,
					w->row_bytes, (uint32_t)(r1 - r0), x,
					c->qbuf_row, n_tok, mp->out + r0,
					mp->out_stride, mp->accumulate);
		lo = base + r1;
		base += w->ne1;
	}
}

/* Quantizes `in` for weight type `type` unless qbuf already holds it. */
static void prepare_input(struct batch *b, uint32_t type, uint64_t ne0,
			  const float *in, size_t in_stride)
{
	struct llamux_context *c = b->c;
	uint32_t vdt = lx_type_traits(type)->vec_dot_type;

	if (c->q_src == in && c->q_type == vdt && c->q_ntok == b->n)
		return;
	b->in = in;
	b->in_stride = in_stride;
	b->in_type = vdt;
	b->in_ne0 = ne0;
	run_tasks(c, task_quantize, b, b->n - b->row0,
		  (uint64_t)(b->n - b->row0) * ne0);
	c->q_src = in;
	c->q_type = vdt;
	c->q_ntok = b->n;
}

/*
 * out_i[t - row0] (+)= W_i in[t] for batch rows row0..n-1, for the n parts
 * (matrices of one input). Parts whose activations need different
 * quantization (Q8_0 for Q4_0, Q8_K for Q6_K, ...) run as separate jobs.
 */
static void matmul_parts(struct batch *b, const struct mm_part *parts,
			 uint32_t n, const float *in, size_t in_stride)
{
	struct llamux_context *c = b->c;
	uint32_t i, first = 0;

	for (i = 1; i <= n; i++) {
		uint32_t p;

		if (i < n && lx_type_traits(parts[i].w->type)->vec_dot_type ==
			     lx_type_traits(parts[first].w->type)->vec_dot_type)
			continue;
		prepare_input(b, parts[first].w->type, parts[first].w->ne0, in,
			      in_stride);
		b->n_mm = 0;
		b->mm_rows = 0;
		for (p = first; p < i; p++) {
			b->mm[b->n_mm++] = parts[p];
			b->mm_rows += parts[p].w->ne1;
		}
		/*
		 * Work counted per 16 tokens, not per token: a task's first
		 * tile comes from DRAM without prefetch, and a tile of up to
		 * 16 tokens is too short to hide that, so such tasks hold
		 * TASK_GRAIN weights, not TASK_GRAIN multiply-adds (a 16-token
		 * prompt took 16% longer with two tiles per task).
		 */
		run_tasks(c, task_matmul, b, (b->mm_rows + MM_ROWS - 1) / MM_ROWS,
			  (uint64_t)((b->n - b->row0 + 15) / 16) *
			  parts[first].w->ne0 * b->mm_rows);
		first = i;
	}
}

static void matmul(struct batch *b, const struct lx_weight *w, const float *in,
		   size_t in_stride, float *out, size_t out_stride,
		   bool accumulate)
{
	struct mm_part part = { w, out, out_stride, accumulate };

	matmul_parts(b, &part, 1, in, in_stride);
}

/*
 * RoPE over the first n_rot dimensions of a head. Llama's layout rotates
 * adjacent pairs (x[2i], x[2i+1]); NeoX's rotates (x[i], x[i + n_rot/2]).
 */
static void rope_rotate(float *x, const float *cs, uint32_t n_rot, bool neox)
{
	uint32_t i, half = n_rot / 2;

	for (i = 0; i < half; i++) {
		uint32_t a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
		float x0 = x[a], x1 = x[b];
		float co = cs[2 * i], si = cs[2 * i + 1];

		x[a] = x0 * co - x1 * si;
		x[b] = x0 * si + x1 * co;
	}
}

static void task_rope_tables(void *arg, uint32_t ith, uint32_t nth,
			     uint32_t worker)
{
	struct batch *b = arg;
	struct llamux_context *c = b->c;
	uint32_t half = c->m->hp.n_rot / 2, i;
	const float *ffac = c->m->rope_freq_factors;
	float fscale = c->m->hp.rope_freq_scale;
	uint64_t lo, hi, t;

	(void)worker;
	split(b->n, ith, nth, &lo, &hi);
	/*
	 * Angles as ggml computes them (float, pos * scale^i by repeated
	 * multiplication): following its rounding keeps us close to the
	 * reference logits; sin and cos themselves are accurate.
	 */
	for (t = lo; t < hi; t++) {
		float theta = (float)row_pos(b, (uint32_t)t);
		float *cs = c->rope + t * 2 * half;

		for (i = 0; i < half; i++) {
			float ff = ffac && ffac[i] > 0.0f ? ffac[i] : 1.0f;
			double s, co;

			lx_sincos((double)(fscale * (theta / ff)), &s, &co);
			cs[2 * i] = (float)co;
			cs[2 * i + 1] = (float)s;
			theta *= c->rope_theta_scale;
		}
	}
}

static void add_bias(float *y, const float *bias, uint32_t n)
{
	uint32_t i;

	if (bias)
		for (i = 0; i < n; i++)
			y[i] += bias[i];
}

/*
 * Q, K and V of each token: biases (or the split of a fused projection),
 * RoPE on Q and K, the families' Q scaling, then K and V into the cache at
 * their positions.
 */
static void task_rope_store(void *arg, uint32_t ith, uint32_t nth,
			    uint32_t worker)
{
	struct batch *b = arg;
	struct llamux_context *c = b->c;
	const struct lx_hparams *hp = &c->m->hp;
	const struct lx_layer *L = &c->m->layers[b->layer];
	bool neox = c->m->family->rope == LX_ROPE_NEOX;
	float qscale = 1.0f / lx_sqrtf((float)hp->head_dim);
	uint64_t lo, hi, t;
	uint32_t h, i;

	(void)worker;
	split(b->n, ith, nth, &lo, &hi);
	for (t = lo; t < hi; t++) {
		const float *cs = c->rope + t * hp->n_rot;
		float *q = c->q + t * c->n_q, *k = c->k + t * c->n_kv;
		float *v = c->v + t * c->n_kv;
		struct llamux_context *rc = row_ctx(b, (uint32_t)t);
		uint32_t pos = row_pos(b, (uint32_t)t);
		uint64_t slot = ((uint64_t)b->layer * c->n_ctx + pos) * c->n_kv;
		uint64_t vslot = (uint64_t)b->layer * c->n_ctx * c->n_kv + pos;

		if (L->wqkv.t) {
			const float *f = c->qkv + t * (c->n_q + 2 * c->n_kv);
			const float *fb = L->bqkv;

			/* (W x + b), then split: the order of llama.cpp's graph */
			for (i = 0; i < c->n_q + 2 * c->n_kv; i++) {
				float y = fb ? f[i] + fb[i] : f[i];

				if (i < c->n_q)
					q[i] = y;
				else if (i < c->n_q + c->n_kv)
					k[i - c->n_q] = y;
				else
					v[i - c->n_q - c->n_kv] = y;
			}
		} else {
			add_bias(q, L->bq, c->n_q);
			add_bias(k, L->bk, c->n_kv);
			add_bias(v, L->bv, c->n_kv);
		}
		for (h = 0; h < hp->n_head; h++)
			rope_rotate(q + h * hp->head_dim, cs, hp->n_rot, neox);
		for (h = 0; h < hp->n_head_kv; h++)
			rope_rotate(k + h * hp->head_dim, cs, hp->n_rot, neox);
		if (c->m->family->q_prescale)
			for (i = 0; i < c->n_q; i++)
				q[i] *= qscale;
		/* K by position; V transposed (by dimension, then position), so
		 * the weighted sum over positions is a dot product, as in
		 * llama.cpp's cache.
		 */
		if (c->kv_type == LLAMUX_KV_F16) {
			uint16_t *kc = (uint16_t *)rc->k_cache + slot;
			uint16_t *vc = (uint16_t *)rc->v_cache + vslot;

			/* the level's F16 conversion: the same bits, faster */
			lx_kernels(LX_TYPE_F16)->from_float(k, kc, c->n_kv);
			for (i = 0; i < c->n_kv; i++)
				vc[(uint64_t)i * c->n_ctx] = lx_fp32_to_fp16(v[i]);
		} else {
			float *vc = (float *)rc->v_cache + vslot;

			memcpy((float *)rc->k_cache + slot, k, c->n_kv * sizeof(float));
			for (i = 0; i < c->n_kv; i++)
				vc[(uint64_t)i * c->n_ctx] = v[i];
		}
	}
}

/*
 * Attention of one query head over the tokens of the batch, TOK_CHUNK tokens
 * at a time, as two matrix products through the kernels:
 *     scores = Q K^T (causal mask, scale, softmax), out = scores V
 * With an F16 cache the queries and the softmax weights are rounded to F16
 * for these products, which is what llama.cpp's F16 matrix products do;
 * following it keeps quantized models (whose activation rounding amplifies
 * small differences) close to the reference.
 */
static void task_attention(void *arg, uint32_t ith, uint32_t nth,
			   uint32_t worker)
{
	struct batch *b = arg;
	struct llamux_context *c = b->c;
	const struct lx_hparams *hp = &c->m->hp;
	uint32_t hd = hp->head_dim, h = ith;
	uint32_t kvh = h / (hp->n_head / hp->n_head_kv);
	uint32_t elt = (uint32_t)c->kv_elt;
	uint32_t kv_type = c->kv_type == LLAMUX_KV_F16 ? LX_TYPE_F16 :
			   LX_TYPE_F32;
	const struct lx_kernels *k = lx_kernels(kv_type);
	float scale = c->kq_scale;
	struct attn_scratch *s = &c->attn_scratch[worker];
	uint64_t k_off = ((uint64_t)b->layer * c->n_ctx * c->n_kv + kvh * hd) *
			 elt;
	uint64_t v_off = ((uint64_t)b->layer * c->n_kv + kvh * hd) * c->n_ctx *
			 elt;
	uint32_t t0, t, j;

	(void)nth;
	/* Rows of one context go TOK_CHUNK at a time; rows of several
	 * contexts one by one, each over its own cache.
	 */
	for (t0 = 0; t0 < b->n; t0 += b->rc ? 1 : TOK_CHUNK) {
		uint32_t nt = b->rc ? 1 : LX_MIN(TOK_CHUNK, b->n - t0);
		const struct llamux_context *rc = row_ctx(b, t0);
		const uint8_t *kc = rc->k_cache + k_off;
		const uint8_t *vc = rc->v_cache + v_off;
		/* keys the chunk's last token sees */
		uint32_t last = row_pos(b, t0 + nt - 1) + 1;

		for (t = 0; t < nt; t++)
			k->from_float(c->q + (uint64_t)(t0 + t) * c->n_q + h * hd,
				      s->q + (size_t)t * hd * elt, hd);
		if (k->gemm)
			k->gemm(hd, kc, (size_t)c->n_kv * elt, last, s->q,
				(size_t)hd * elt, nt, s->scores, c->n_ctx, false);
		else
			lx_gemm_generic(k->vec_dot, hd, kc, (size_t)c->n_kv * elt,
					last, s->q, (size_t)hd * elt, nt,
					s->scores, c->n_ctx, false);
		for (t = 0; t < nt; t++) {
			float *row = s->scores + (uint64_t)t * c->n_ctx;
			uint32_t seen = row_pos(b, t0 + t) + 1;	/* causal */
			float max = -LX_INFINITY, inv;

			for (j = 0; j < seen; j++) {
				row[j] *= scale;
				if (row[j] > max)
					max = row[j];
			}
			inv = (float)(1.0 / lx_kernels_softmax_exp(row, seen,
								    max));
			for (j = 0; j < seen; j++)
				row[j] *= inv;
			for (; j < last; j++)
				row[j] = 0.0f;
			k->from_float(row, s->p + (size_t)t * c->n_ctx * elt,
				      last);
		}
		/* The output replaces the head's query, already consumed. */
		if (k->gemm)
			k->gemm(last, vc, (size_t)c->n_ctx * elt, hd, s->p,
				(size_t)c->n_ctx * elt, nt,
				c->q + (uint64_t)t0 * c->n_q + h * hd, c->n_q,
				false);
		else
			lx_gemm_generic(k->vec_dot, last, vc,
					(size_t)c->n_ctx * elt, hd, s->p,
					(size_t)c->n_ctx * elt, nt,
					c->q + (uint64_t)t0 * c->n_q + h * hd,
					c->n_q, false);
	}
}

static float silu(float x)
{
	return x / (1.0f + lx_expf_poly(-x));
}

/*
 * GELU, tanh form, as ggml evaluates it: through F16 (its lookup table holds
 * gelu of every half), saturating outside [-10, 10].
 */
static float gelu(float x)
{
	const float c = 0.79788456080286535587989211986876f;	/* sqrt(2/pi) */
	float h;

	if (x <= -10.0f)
		return 0.0f;
	if (x >= 10.0f)
		return x;
	h = lx_fp16_to_fp32(lx_fp32_to_fp16(x));
	h = 0.5f * h * (1.0f + lx_tanhf(c * h * (1.0f + 0.044715f * h * h)));
	return lx_fp16_to_fp32(lx_fp32_to_fp16(h));
}

/* The FFN's activation: gate = act(gate) * up, or up = gelu(up + b_up). */
static void task_ffn_act(void *arg, uint32_t ith, uint32_t nth,
			 uint32_t worker)
{
	struct batch *b = arg;
	struct llamux_context *c = b->c;
	const struct lx_layer *L = &c->m->layers[b->layer];
	enum lx_ffn_kind kind = c->m->family->ffn;
	uint32_t n_ff = c->m->hp.n_ff;
	uint64_t n = (uint64_t)b->n * n_ff, lo, hi, i;

	(void)worker;
	split(n, ith, nth, &lo, &hi);
	if (kind == LX_FFN_SWIGLU && !L->b_up) {
		lx_kernels_silu_mul(c->gate + lo, c->up + lo, hi - lo);
		return;
	}
	for (i = lo; i < hi; i++) {
		float up = c->up[i];

		if (L->b_up)
			up += L->b_up[i % n_ff];
		if (kind == LX_FFN_SWIGLU)
			c->gate[i] = silu(c->gate[i]) * up;
		else if (kind == LX_FFN_GEGLU)
			c->gate[i] = gelu(c->gate[i]) * up;
		else
			c->gate[i] = gelu(up);
	}
}

/* A step over the batch's tokens costing about `work` per token. */
static void run(struct batch *b, lx_task_fn fn, uint64_t units, uint64_t work)
{
	run_tasks(b->c, fn, b, units, work * b->n);
}

/* One batch of tokens at positions pos0..; logits for rows >= logits_row0. */
/* dst = a + (bias, or src rows) for the batch rows from row0. */
static void add_rows(struct batch *b, float *dst, const float *a,
		     const float *bias, const float *src, uint32_t n_cols,
		     size_t stride)
{
	struct add_job j = {
		.dst = dst + (uint64_t)b->row0 * stride,
		.a = a + (uint64_t)b->row0 * stride,
		.src = src ? src + (uint64_t)b->row0 * stride : NULL,
		.bias = bias,
		.dst_stride = stride, .a_stride = stride, .src_stride = stride,
		.n = n_cols, .rows = b->n - b->row0,
	};

	run_tasks(b->c, task_add, &j, j.rows, (uint64_t)j.rows * n_cols / 8);
}

/*
 * out = W in + bias, or with `residual` out = (W in + bias) + out: the
 * order of llama.cpp's additions, so results round the same way.
 */
static void linear(struct batch *b, const struct lx_weight *w,
		   const float *bias, const float *in, size_t in_stride,
		   float *out, size_t out_stride, bool residual)
{
	struct llamux_context *c = b->c;

	if (!bias) {
		matmul(b, w, in, in_stride, out, out_stride, residual);
	} else if (!residual) {
		matmul(b, w, in, in_stride, out, out_stride, false);
		add_rows(b, out, out, bias, NULL, (uint32_t)w->ne1, out_stride);
	} else {
		matmul(b, w, in, in_stride, c->tmp1, out_stride, false);
		add_rows(b, c->tmp1, c->tmp1, bias, NULL, (uint32_t)w->ne1,
			 out_stride);
		add_rows(b, out, c->tmp1, NULL, out, (uint32_t)w->ne1,
			 out_stride);
	}
}

static void norm(struct batch *b, const float *w, const float *bias)
{
	b->norm_w = w;
	b->norm_b = bias;
	b->norm_out = b->c->xn;
	b->c->q_src = NULL;
	run(b, task_norm, b->n - b->row0, b->c->m->hp.n_embd);
}

/* FFN of the normed input in xn: out (+)= down(act(...)) + b_down. */
static void ffn(struct batch *b, const struct lx_layer *L, float *out,
		bool residual)
{
	struct llamux_context *c = b->c;
	const struct lx_hparams *hp = &c->m->hp;

	struct mm_part parts[2] = {
		{ &L->w_up, c->up, hp->n_ff, false },
		{ &L->w_gate, c->gate, hp->n_ff, false },
	};

	matmul_parts(b, parts, L->w_gate.t ? 2 : 1, c->xn, hp->n_embd);
	c->q_src = NULL;
	run(b, task_ffn_act, (uint64_t)b->n * hp->n_ff, hp->n_ff * 8);
	linear(b, &L->w_down, L->b_down, c->gate, hp->n_ff, out, hp->n_embd,
	       residual);
}

static void attention_block(struct batch *b, const struct lx_layer *L)
{
	struct llamux_context *c = b->c;
	const struct lx_hparams *hp = &c->m->hp;
	uint32_t n = b->n;

	if (L->wqkv.t) {
		matmul(b, &L->wqkv, c->xn, hp->n_embd, c->qkv,
		       c->n_q + 2 * c->n_kv, false);
	} else {
		struct mm_part qkv[3] = {
			{ &L->wq, c->q, c->n_q, false },
			{ &L->wk, c->k, c->n_kv, false },
			{ &L->wv, c->v, c->n_kv, false },
		};

		matmul_parts(b, qkv, 3, c->xn, hp->n_embd);
	}
	run(b, task_rope_store, n, c->n_q + 2 * c->n_kv);
	/* One task per head: its scratch is the worker's. */
	lx_host_parallel(task_attention, b, hp->n_head,
			 (uint64_t)n * (b->pos0 + n) * c->n_q * 2 < (1u << 16) ?
			 1 : c->n_threads);
}

/* One batch of tokens at positions n_past..; logits of the last, or all. */
static void forward_batch(struct llamux_context *c, const int32_t *tokens,
			  uint32_t n, float *all_logits,
			  struct llamux_context *const *rc,
			  const uint32_t *rpos)
{
	const struct llamux_model *m = c->m;
	const struct lx_hparams *hp = &m->hp;
	struct batch b = { .c = c, .tokens = tokens, .n = n,
			   .pos0 = c->n_past, .rc = rc, .rpos = rpos };
	uint32_t l;

	c->q_src = NULL;
	run(&b, task_embed, n, hp->n_embd);
	run(&b, task_rope_tables, n, hp->n_rot * 16);
	for (l = 0; l < hp->n_layer; l++) {
		const struct lx_layer *L = &m->layers[l];

		b.layer = l;
		norm(&b, L->attn_norm, L->attn_norm_b);
		attention_block(&b, L);
		if (!m->family->parallel) {
			/* x += attn; x += ffn(norm(x)) */
			linear(&b, &L->wo, L->bo, c->q, c->n_q, c->x, hp->n_embd,
			       true);
			norm(&b, L->ffn_norm, L->ffn_norm_b);
			ffn(&b, L, c->x, true);
		} else {
			/* x = (attn + ffn) + x, both from the same norm */
			linear(&b, &L->wo, L->bo, c->q, c->n_q, c->tmp2,
			       hp->n_embd, false);
			ffn(&b, L, c->tmp1, false);
			add_rows(&b, c->tmp1, c->tmp2, NULL, c->tmp1, hp->n_embd,
				 hp->n_embd);
			add_rows(&b, c->x, c->tmp1, NULL, c->x, hp->n_embd,
				 hp->n_embd);
		}
	}

	/* Logits: every row when asked for, else only the last. */
	b.row0 = all_logits ? 0 : n - 1;
	norm(&b, m->output_norm, m->output_norm_b);
	if (all_logits) {
		linear(&b, &m->output, m->output_b, c->xn, hp->n_embd,
		       all_logits, hp->n_vocab, false);
		memcpy(c->logits, all_logits + (uint64_t)(n - 1) * hp->n_vocab,
		       hp->n_vocab * sizeof(float));
	} else {
		/* Row n-1 only: matmul writes it at out[0]. */
		matmul(&b, &m->output, c->xn, hp->n_embd, c->logits, hp->n_vocab,
		       false);
		if (m->output_b) {
			uint32_t i;

			for (i = 0; i < hp->n_vocab; i++)
				c->logits[i] += m->output_b[i];
		}
	}
	c->q_src = NULL;
	if (!rc)
		c->n_past += n;
}

int llamux_decode(struct llamux_context *c, const int32_t *tokens, size_t n,
		  float *all_logits, char *err)
{
	uint32_t n_vocab = c->m->hp.n_vocab;
	size_t i;

	if (n == 0)
		return LLAMUX_OK;
	if (!tokens) {
		if (err)
			lx_snprintf(err, LLAMUX_ERR_MAX, "no tokens given");
		return LLAMUX_ERR_INVALID;
	}
	if (n > c->n_ctx - c->n_past) {
		if (err)
			lx_snprintf(err, LLAMUX_ERR_MAX,
				    "context full: %u tokens in the context + %zu new exceed its size of %u; use a larger context (-c)",
				    c->n_past, n, c->n_ctx);
		return LLAMUX_ERR_CONTEXT_FULL;
	}
	for (i = 0; i < n; i++) {
		if (tokens[i] < 0 || (uint32_t)tokens[i] >= n_vocab) {
			if (err)
				lx_snprintf(err, LLAMUX_ERR_MAX,
					    "token id %d at index %zu is outside the vocabulary (0..%u)",
					    tokens[i], i, n_vocab - 1);
			return LLAMUX_ERR_INVALID;
		}
	}
	for (i = 0; i < n; i += c->n_batch) {
		uint32_t nb = (uint32_t)LX_MIN((size_t)c->n_batch, n - i);

		forward_batch(c, tokens + i, nb,
			      all_logits ? all_logits + i * n_vocab : NULL, NULL,
			      NULL);
	}
	return LLAMUX_OK;
}

static int multi_fail(char *err, int rc, const char *msg, uint32_t i)
{
	if (err)
		lx_snprintf(err, LLAMUX_ERR_MAX, "%s (context %u)", msg, i);
	return rc;
}

int llamux_decode_multi(struct llamux_context *const *ctxs,
			const int32_t *tokens, uint32_t n, char *err)
{
	struct llamux_context *c = n ? ctxs[0] : NULL;
	uint32_t i, j, n_vocab;

	if (!n)
		return LLAMUX_OK;
	if (!tokens)
		return multi_fail(err, LLAMUX_ERR_INVALID, "no tokens given", 0);
	if (n > c->n_batch)
		return multi_fail(err, LLAMUX_ERR_INVALID,
				  "more contexts than the first one's batch size", n);
	n_vocab = c->m->hp.n_vocab;
	for (i = 0; i < n; i++) {
		const struct llamux_context *x = ctxs[i];

		if (x->m != c->m || x->n_ctx != c->n_ctx ||
		    x->kv_type != c->kv_type)
			return multi_fail(err, LLAMUX_ERR_INVALID,
					  "contexts must share model, size and cache type",
					  i);
		if (x->n_past >= x->n_ctx)
			return multi_fail(err, LLAMUX_ERR_CONTEXT_FULL,
					  "context full", i);
		if (tokens[i] < 0 || (uint32_t)tokens[i] >= n_vocab)
			return multi_fail(err, LLAMUX_ERR_INVALID,
					  "token id outside the vocabulary", i);
		for (j = 0; j < i; j++)
			if (ctxs[j] == x)
				return multi_fail(err, LLAMUX_ERR_INVALID,
						  "a context appears twice", i);
	}
	if (!c->multi_logits) {
		c->multi_logits = lx_host_alloc((size_t)c->n_batch * n_vocab *
						sizeof(float));
		c->multi_pos = lx_host_alloc((size_t)c->n_batch *
					     sizeof(uint32_t));
		if (!c->multi_logits || !c->multi_pos)
			return multi_fail(err, LLAMUX_ERR_NOMEM,
					  "out of memory for batched logits", 0);
	}
	for (i = 0; i < n; i++)
		c->multi_pos[i] = ctxs[i]->n_past;
	forward_batch(c, tokens, n, c->multi_logits, ctxs, c->multi_pos);
	for (i = 0; i < n; i++) {
		memcpy(ctxs[i]->logits, c->multi_logits + (uint64_t)i * n_vocab,
		       n_vocab * sizeof(float));
		ctxs[i]->n_past++;
	}
	return LLAMUX_OK;
}
