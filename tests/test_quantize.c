// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Tests of the tools behind `llamux quantize` and `llamux mkmodel`:
 *
 *  - quality against llama.cpp: ../shared/models/tiny-f32.gguf quantized to
 *    every type of the tiny-<type>.gguf files that llama-quantize made must
 *    give each tensor the same type as those files and an RMS error against
 *    the F32 weights at most 1.02 times theirs (the table is printed; the
 *    files are in fact expected byte for byte identical, also printed);
 *  - the quantizers on edge cases (zeros, constants, tiny and huge values);
 *  - llama.cpp's mixture rules on a TinyLlama-shaped tensor list, fallbacks,
 *    tied embeddings, --pure, and type names;
 *  - the GGUF writer through the core's reader (alignment, copies, no
 *    temporary file left behind);
 *  - mkmodel: a test-tiny model parses, loads and decodes, is the same for
 *    the same seed whatever the thread count, its weights have the asked
 *    distribution, and a wrong vocabulary size is refused;
 *  - the normal generator's moments.
 */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf.h"
#include "gguf_writer.h"
#include "llamux/llamux.h"
#include "make_model.h"
#include "platform.h"
#include "quant_mix.h"
#include "quantize_model.h"
#include "quantize_weights.h"
#include "rng.h"
#include "testlib.h"

#define MODELS "../shared/models/"
#define F32_MODEL MODELS "tiny-f32.gguf"
#define STORIES MODELS "stories260K.gguf"
#define SPM_VOCAB "../shared/vocab/ggml-vocab-llama-spm.gguf"

static char tmpdir[64];

static const char *tmp(const char *name)
{
	static char path[8][256];
	static int k;

	k = (k + 1) % 8;
	snprintf(path[k], sizeof(path[k]), "%s/%s", tmpdir, name);
	return path[k];
}

/* A parsed GGUF file kept mapped. */
struct file {
	struct lx_host_file f;
	struct lx_gguf g;
	bool ok;
};

static bool open_file(struct file *f, const char *path)
{
	struct lx_err err;

	memset(f, 0, sizeof(*f));
	f->ok = lx_host_file_open(path, &f->f, &err) &&
		lx_gguf_parse(&f->g, f->f.data, f->f.size, &err);
	CHECK(f->ok, "%s: %s", path, err.msg);
	return f->ok;
}

static void close_file(struct file *f)
{
	lx_gguf_free(&f->g);
	lx_host_file_close(&f->f);
}

static const struct lx_gguf_tensor *find_tensor(const struct file *f,
						const struct lx_gguf_tensor *like)
{
	char name[LX_GGUF_MAX_NAME + 1];

	snprintf(name, sizeof(name), "%.*s", (int)like->name.len,
		 like->name.ptr);
	return lx_gguf_find_tensor(&f->g, name);
}

/* Dequantized copy of a tensor (malloc'd). */
static float *dequant(const struct lx_gguf_tensor *t)
{
	const struct lx_type_traits *tt = lx_type_traits(t->type);
	uint64_t rows = t->n_elements / t->ne[0], r;
	uint64_t rb = t->ne[0] / tt->block_size * tt->type_size;
	float *out = malloc(t->n_elements * sizeof(float));

	for (r = 0; out && r < rows; r++)
		tt->to_float((const uint8_t *)t->data + r * rb,
			     out + r * t->ne[0], t->ne[0]);
	return out;
}

static double rms_diff(const float *a, const float *b, uint64_t n)
{
	double s = 0;
	uint64_t i;

	for (i = 0; i < n; i++)
		s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
	return sqrt(s / (double)n);
}

static uint32_t ftype_of(const struct file *f)
{
	uint32_t v = 0xffffffffu;
	struct lx_err err;

	lx_gguf_get_u32(&f->g, "general.file_type", &v, false, &err);
	return v;
}

/* ---------------------------------------------------------------------- */
/* Quality against llama-quantize's files                                 */
/* ---------------------------------------------------------------------- */

static void test_against_llama_cpp(void)
{
	/* type name, reference file, and whether it was made with --pure */
	static const struct {
		const char *type, *file;
		bool pure;
	} cases[] = {
		{ "F16", "f16", false }, { "BF16", "bf16", false },
		{ "Q8_0", "q8_0", false }, { "Q4_0", "q4_0", true },
		{ "Q4_1", "q4_1", true }, { "Q5_0", "q5_0", true },
		{ "Q5_1", "q5_1", true }, { "Q2_K", "q2_k", true },
		{ "Q3_K_S", "q3_k", true }, { "Q4_K_S", "q4_k", true },
		{ "Q5_K_S", "q5_k", true }, { "Q6_K", "q6_k", false },
		{ "Q4_K_M", "q4_k_m", false }, { "Q3_K_M", "q3_k_m", false },
	};
	static const char *const verdict[] = { "differ", "identical" };
	struct file src, ref, out;
	size_t c;

	if (!open_file(&src, F32_MODEL))
		return;
	printf("quality vs llama-quantize (RMS error, ours / theirs):\n");
	printf("  %-7s %-8s %6s %8s %8s %s\n", "type", "file", "tensors",
	       "worst", "mean", "bytes");
	for (c = 0; c < LX_ARRAY_SIZE(cases); c++) {
		struct lt_quantize_params p = { 0 };
		struct lt_quantize_result r;
		char err[LLAMUX_ERR_MAX] = "", refpath[256];
		const char *outpath = tmp("q.gguf");
		double worst = 0, sum = 0;
		unsigned char *a, *b;
		size_t na = 0, nb = 0;
		int n = 0;
		uint64_t i;
		bool same;

		snprintf(refpath, sizeof(refpath), MODELS "tiny-%s.gguf",
			 cases[c].file);
		p.in_path = F32_MODEL;
		p.out_path = outpath;
		p.ftype = lt_ftype_find(cases[c].type, NULL);
		p.pure = cases[c].pure;
		CHECK(p.ftype, "type %s", cases[c].type);
		if (!p.ftype)
			continue;
		CHECK(lt_quantize_model(&p, &r, err), "%s: %s", cases[c].type,
		      err);
		if (!open_file(&ref, refpath))
			continue;
		if (!open_file(&out, outpath)) {
			close_file(&ref);
			continue;
		}
		CHECK(out.g.n_tensors == ref.g.n_tensors, "%s: %llu tensors",
		      cases[c].type, (unsigned long long)out.g.n_tensors);
		CHECK(ftype_of(&out) == ftype_of(&ref),
		      "%s: general.file_type %u, llama.cpp wrote %u",
		      cases[c].type, ftype_of(&out), ftype_of(&ref));
		for (i = 0; i < ref.g.n_tensors; i++) {
			const struct lx_gguf_tensor *tr = &ref.g.tensors[i];
			const struct lx_gguf_tensor *to = find_tensor(&out, tr);
			const struct lx_gguf_tensor *ts = find_tensor(&src, tr);
			float *fo, *fr, *fs;
			double eo, er;

			CHECK(to && ts, "%s: tensor %.*s missing", cases[c].type,
			      (int)tr->name.len, tr->name.ptr);
			if (!to || !ts)
				continue;
			CHECK(to->type == tr->type, "%s: %.*s is %s, llama.cpp chose %s",
			      cases[c].type, (int)tr->name.len, tr->name.ptr,
			      lx_type_traits(to->type)->name,
			      lx_type_traits(tr->type)->name);
			if (tr->type == LX_TYPE_F32)
				continue;
			fo = dequant(to);
			fr = dequant(tr);
			fs = dequant(ts);
			if (fo && fr && fs) {
				eo = rms_diff(fo, fs, ts->n_elements);
				er = rms_diff(fr, fs, ts->n_elements);
				CHECK(eo <= 1.02 * er, "%s: %.*s RMS error %g vs llama.cpp's %g",
				      cases[c].type, (int)tr->name.len,
				      tr->name.ptr, eo, er);
				if (er > 0) {
					worst = fmax(worst, eo / er);
					sum += eo / er;
					n++;
				}
			}
			free(fo);
			free(fr);
			free(fs);
		}
		a = tl_read_file(outpath, &na);
		b = tl_read_file(refpath, &nb);
		same = a && b && na == nb && !memcmp(a, b, na);
		free(a);
		free(b);
		if (n)
			sum /= n;
		printf("  %-7s %-8s %6d %8.4f %8.4f %s\n", cases[c].type,
		       cases[c].file, n, worst, sum, verdict[same]);
		close_file(&out);
		close_file(&ref);
		unlink(outpath);
	}
	close_file(&src);
}

/* Requantizing: Q8_0 -> Q4_0 is close to F32 -> Q4_0. */
static void test_requantize(void)
{
	struct lt_quantize_params p = { 0 };
	struct lt_quantize_result r;
	char err[LLAMUX_ERR_MAX] = "";
	struct file src, out;
	uint64_t i, j;

	p.in_path = MODELS "tiny-q8_0.gguf";
	p.out_path = tmp("rq.gguf");
	p.ftype = lt_ftype_find("q4_0", NULL);
	p.pure = true;
	CHECK(lt_quantize_model(&p, &r, err), "requantize: %s", err);
	CHECK(r.n_requantized == 16, "requantized %llu tensors",
	      (unsigned long long)r.n_requantized);
	if (!open_file(&src, F32_MODEL))
		return;
	if (open_file(&out, p.out_path)) {
		for (i = 0; i < out.g.n_tensors; i++) {
			const struct lx_gguf_tensor *t = &out.g.tensors[i];
			const struct lx_gguf_tensor *s = find_tensor(&src, t);
			float *a = dequant(t), *b = s ? dequant(s) : NULL;
			double e = 0, sd = 0;

			if (a && b) {
				e = rms_diff(a, b, t->n_elements);
				for (j = 0; j < t->n_elements; j++)
					sd += (double)b[j] * b[j];
				sd = sqrt(sd / (double)t->n_elements);
			}
			if (t->n_dims > 1)
				CHECK(t->type == LX_TYPE_Q4_0 && e < 0.13 * sd,
				      "requantized %.*s: %s, error %g of sd %g",
				      (int)t->name.len, t->name.ptr,
				      lx_type_traits(t->type)->name, e, sd);
			free(a);
			free(b);
		}
		close_file(&out);
	}
	close_file(&src);
	unlink(p.out_path);
}

/* ---------------------------------------------------------------------- */
/* Quantizers on edge cases                                               */
/* ---------------------------------------------------------------------- */

static void test_edge_cases(void)
{
	static const enum lx_type types[] = {
		LX_TYPE_F16, LX_TYPE_BF16, LX_TYPE_Q8_0, LX_TYPE_Q4_0,
		LX_TYPE_Q4_1, LX_TYPE_Q5_0, LX_TYPE_Q5_1, LX_TYPE_Q2_K,
		LX_TYPE_Q3_K, LX_TYPE_Q4_K, LX_TYPE_Q5_K, LX_TYPE_Q6_K,
	};
	/* RMS error bounds on N(0, 1) data, as fractions of sigma */
	static const double bound[] = { 0.0003, 0.0025, 0.007, 0.1, 0.09,
					0.05, 0.045, 0.33, 0.17, 0.085, 0.042,
					0.021 };
	enum { N = 4096 };
	static float x[N], y[N];
	static uint8_t q[N * 4];
	struct lt_rng rng;
	size_t t;
	int i, mode;

	for (t = 0; t < LX_ARRAY_SIZE(types); t++) {
		const struct lx_type_traits *tt = lx_type_traits(types[t]);

		for (mode = 0; mode < 6; mode++) {
			double e;
			bool finite = true, zeros = true;

			lt_rng_seed(&rng, (uint64_t)mode);
			lt_rng_normal(&rng, x, N, 1.0f);
			for (i = 0; i < N; i++) {
				if (mode == 1)
					x[i] = 0.0f;
				else if (mode == 2)
					x[i] = 0.375f;
				else if (mode == 3)
					x[i] *= 1e-30f;		/* subnormal F16 */
				else if (mode == 4)
					x[i] = i % 64 ? 0.0f : x[i];
				else if (mode == 5)
					x[i] = -fabsf(x[i]) * 1e4f;
			}
			lt_quantize_row(types[t], x, q, N);
			tt->to_float(q, y, N);
			for (i = 0; i < N; i++) {
				finite &= isfinite(y[i]);
				zeros &= y[i] == 0.0f;
			}
			CHECK(finite, "%s mode %d: non-finite output", tt->name, mode);
			if (mode == 1)
				CHECK(zeros, "%s: zeros do not stay zero", tt->name);
			if (mode == 0) {
				e = 0;
				for (i = 0; i < N; i++)
					e += (double)(x[i] - y[i]) * (x[i] - y[i]);
				e = sqrt(e / N);
				printf("  %-5s RMS error on N(0,1): %.5f\n", tt->name, e);
				CHECK(e < bound[t], "%s: RMS error %g on N(0,1) (bound %g)",
				      tt->name, e, bound[t]);
			}
			if (mode == 2)
				for (i = 0; i < N; i++)
					CHECK(fabsf(y[i] - 0.375f) < 0.02f,
					      "%s: constant 0.375 became %g",
					      tt->name, y[i]);
			if (mode == 5) {
				e = 0;
				for (i = 0; i < N; i++)
					e = fmax(e, fabs((double)(x[i] - y[i])));
				CHECK(e < 0.6 * 4e4, "%s: max error %g on large values",
				      tt->name, e);
			}
		}
	}
	x[7] = NAN;
	CHECK(!lt_all_finite(x, N), "NaN not detected");
	x[7] = INFINITY;
	CHECK(!lt_all_finite(x, N), "inf not detected");
	x[7] = 1.0f;
	CHECK(lt_all_finite(x, N), "finite data rejected");
}

/* ---------------------------------------------------------------------- */
/* Mixture rules                                                          */
/* ---------------------------------------------------------------------- */

struct plan {
	char names[300][64];
	struct lt_mix_tensor t[300];
	uint32_t order[300];
	uint32_t n;
};

static void add_t(struct plan *p, const char *name, uint64_t ne0, uint64_t ne1)
{
	struct lt_mix_tensor *t = &p->t[p->n];

	snprintf(p->names[p->n], sizeof(p->names[0]), "%s", name);
	memset(t, 0, sizeof(*t));
	t->name = p->names[p->n];
	t->n_dims = ne1 ? 2 : 1;
	t->ne[0] = ne0;
	t->ne[1] = ne1 ? ne1 : 1;
	t->ne[2] = 1;
	t->ne[3] = 1;
	t->type = LX_TYPE_F16;
	p->n++;
}

/* A Llama tensor list; layers are added in reverse to test the ordering. */
static void llama_list(struct plan *p, uint32_t n_layer, uint64_t embd,
		       uint64_t kv, uint64_t ff, bool tied)
{
	char name[64];
	int l;

	p->n = 0;
	add_t(p, "token_embd.weight", embd, 32000);
	for (l = (int)n_layer - 1; l >= 0; l--) {
#define B(x) (snprintf(name, sizeof(name), "blk.%d." x ".weight", l), name)
		add_t(p, B("attn_norm"), embd, 0);
		add_t(p, B("attn_q"), embd, embd);
		add_t(p, B("attn_k"), embd, kv);
		add_t(p, B("attn_v"), embd, kv);
		add_t(p, B("attn_output"), embd, embd);
		add_t(p, B("ffn_norm"), embd, 0);
		add_t(p, B("ffn_gate"), embd, ff);
		add_t(p, B("ffn_up"), embd, ff);
		add_t(p, B("ffn_down"), ff, embd);
#undef B
	}
	add_t(p, "output_norm.weight", embd, 0);
	if (!tied)
		add_t(p, "output.weight", embd, 32000);
}

static enum lx_type type_of(const struct plan *p, const char *name)
{
	uint32_t i;

	for (i = 0; i < p->n; i++)
		if (!strcmp(p->t[i].name, name))
			return p->t[i].new_type;
	return LX_TYPE_COUNT;
}

static enum lx_type layer_type(const struct plan *p, int l, const char *what)
{
	char name[64];

	snprintf(name, sizeof(name), "blk.%d.%s.weight", l, what);
	return type_of(p, name);
}

static void test_mixtures(void)
{
	static struct plan p;
	struct lt_mix_model m = { "llama", 22, 32, 4, 0 };
	const struct lt_ftype_info *ft;
	int l, n6, fb;
	bool elsewhere;

	/* TinyLlama shape, Q4_K_M: Q6_K where use_more_bits(i, 22) */
	llama_list(&p, 22, 2048, 256, 5632, false);
	ft = lt_ftype_find("Q4_K_M", NULL);
	fb = lt_mix_plan(&m, ft, false, p.t, p.n, p.order);
	CHECK(fb == 0, "tinyllama Q4_K_M: %d fallbacks", fb);
	CHECK(!strcmp(p.t[p.order[0]].name, "output.weight") &&
	      !strcmp(p.t[p.order[2]].name, "token_embd.weight") &&
	      !strcmp(p.t[p.order[3]].name, "blk.0.attn_k.weight") &&
	      !strcmp(p.t[p.order[p.n - 1]].name, "blk.21.ffn_up.weight"),
	      "llama.cpp's tensor order: %s %s %s ... %s",
	      p.t[p.order[0]].name, p.t[p.order[2]].name,
	      p.t[p.order[3]].name, p.t[p.order[p.n - 1]].name);
	n6 = 0;
	for (l = 0; l < 22; l++) {
		bool more = l < 2 || l >= 19 || (l - 2) % 3 == 2;
		enum lx_type want = more ? LX_TYPE_Q6_K : LX_TYPE_Q4_K;

		CHECK(layer_type(&p, l, "attn_v") == want &&
		      layer_type(&p, l, "ffn_down") == want,
		      "Q4_K_M layer %d: attn_v %s ffn_down %s", l,
		      lx_type_traits(layer_type(&p, l, "attn_v"))->name,
		      lx_type_traits(layer_type(&p, l, "ffn_down"))->name);
		CHECK(layer_type(&p, l, "attn_q") == LX_TYPE_Q4_K &&
		      layer_type(&p, l, "ffn_up") == LX_TYPE_Q4_K &&
		      layer_type(&p, l, "attn_norm") == LX_TYPE_F16,
		      "Q4_K_M layer %d: attn_q/ffn_up/attn_norm", l);
		n6 += more;
	}
	CHECK(n6 == 10, "%d layers with more bits, expected 10", n6);
	CHECK(type_of(&p, "output.weight") == LX_TYPE_Q6_K &&
	      type_of(&p, "token_embd.weight") == LX_TYPE_Q4_K,
	      "Q4_K_M output/token_embd");

	/* Q2_K with GQA 8: attn_v Q4_K, ffn_down/attn_output Q3_K */
	lt_mix_plan(&m, lt_ftype_find("q2_k", NULL), false, p.t, p.n, p.order);
	CHECK(layer_type(&p, 5, "attn_v") == LX_TYPE_Q4_K &&
	      layer_type(&p, 5, "ffn_down") == LX_TYPE_Q3_K &&
	      layer_type(&p, 5, "attn_output") == LX_TYPE_Q3_K &&
	      layer_type(&p, 5, "ffn_gate") == LX_TYPE_Q2_K,
	      "Q2_K mixture");
	/* Q3_K_M: attn_v Q5_K for the first two, ffn_down Q5_K below n/16 */
	lt_mix_plan(&m, lt_ftype_find("Q3_K", NULL), false, p.t, p.n, p.order);
	CHECK(layer_type(&p, 1, "attn_v") == LX_TYPE_Q5_K &&
	      layer_type(&p, 2, "attn_v") == LX_TYPE_Q4_K &&
	      layer_type(&p, 0, "ffn_down") == LX_TYPE_Q5_K &&
	      layer_type(&p, 1, "ffn_down") == LX_TYPE_Q4_K &&
	      layer_type(&p, 3, "attn_output") == LX_TYPE_Q4_K &&
	      layer_type(&p, 3, "attn_q") == LX_TYPE_Q3_K,
	      "Q3_K_M mixture");
	/* Q4_K_S: attn_v Q5_K for the first four, ffn_down below n/8 */
	lt_mix_plan(&m, lt_ftype_find("q4_k_s", NULL), false, p.t, p.n, p.order);
	CHECK(layer_type(&p, 3, "attn_v") == LX_TYPE_Q5_K &&
	      layer_type(&p, 4, "attn_v") == LX_TYPE_Q4_K &&
	      layer_type(&p, 1, "ffn_down") == LX_TYPE_Q5_K &&
	      layer_type(&p, 2, "ffn_down") == LX_TYPE_Q4_K,
	      "Q4_K_S mixture");
	/* pure: everything 2-D is the type, norms stay */
	lt_mix_plan(&m, lt_ftype_find("Q4_K_M", NULL), true, p.t, p.n, p.order);
	CHECK(type_of(&p, "output.weight") == LX_TYPE_Q4_K &&
	      layer_type(&p, 0, "attn_v") == LX_TYPE_Q4_K &&
	      type_of(&p, "output_norm.weight") == LX_TYPE_F16,
	      "--pure");
	/* F32 file type: everything 2-D F32, norms unchanged */
	lt_mix_plan(&m, lt_ftype_find("f32", NULL), false, p.t, p.n, p.order);
	CHECK(type_of(&p, "output.weight") == LX_TYPE_F32 &&
	      layer_type(&p, 0, "attn_v") == LX_TYPE_F32,
	      "F32 file type");
	/* Q8_0 keeps output at Q8_0 */
	lt_mix_plan(&m, lt_ftype_find("Q8_0", NULL), false, p.t, p.n, p.order);
	CHECK(type_of(&p, "output.weight") == LX_TYPE_Q8_0, "Q8_0 output");

	/* tied embeddings: token_embd gets the output rule */
	llama_list(&p, 4, 2048, 256, 5632, true);
	lt_mix_plan(&m, lt_ftype_find("Q4_0", NULL), false, p.t, p.n, p.order);
	CHECK(type_of(&p, "token_embd.weight") == LX_TYPE_Q6_K,
	      "tied token_embd: %s",
	      lx_type_traits(type_of(&p, "token_embd.weight"))->name);

	/* rows of 288 (stories15M): fallbacks */
	llama_list(&p, 6, 288, 288, 768, false);
	m.n_layer = 6;
	m.n_head = m.n_head_kv = 6;
	fb = lt_mix_plan(&m, lt_ftype_find("Q4_K_M", NULL), false, p.t, p.n,
			 p.order);
	CHECK(layer_type(&p, 0, "attn_q") == LX_TYPE_Q5_0 &&
	      layer_type(&p, 2, "ffn_down") == LX_TYPE_Q6_K &&
	      layer_type(&p, 1, "ffn_down") == LX_TYPE_Q4_K &&
	      type_of(&p, "output.weight") == LX_TYPE_Q8_0 && fb > 0,
	      "Q4_K_M fallbacks at 288: attn_q %s, output %s",
	      lx_type_traits(layer_type(&p, 0, "attn_q"))->name,
	      lx_type_traits(type_of(&p, "output.weight"))->name);
	lt_mix_plan(&m, lt_ftype_find("Q2_K", NULL), true, p.t, p.n, p.order);
	CHECK(layer_type(&p, 0, "attn_q") == LX_TYPE_Q4_0 &&
	      layer_type(&p, 0, "ffn_down") == LX_TYPE_Q2_K,
	      "Q2_K fallback at 288: %s",
	      lx_type_traits(layer_type(&p, 0, "attn_q"))->name);
	lt_mix_plan(&m, lt_ftype_find("Q6_K", NULL), true, p.t, p.n, p.order);
	CHECK(layer_type(&p, 0, "attn_q") == LX_TYPE_Q8_0, "Q6_K fallback");
	llama_list(&p, 1, 72, 72, 96, false);
	lt_mix_plan(&m, lt_ftype_find("Q5_K_S", NULL), true, p.t, p.n, p.order);
	CHECK(layer_type(&p, 0, "attn_q") == LX_TYPE_F16,
	      "rows of 72 fall back to F16: %s",
	      lx_type_traits(layer_type(&p, 0, "attn_q"))->name);

	/* names */
	CHECK(lt_ftype_find("q4_k", NULL)->ftype == LT_FTYPE_Q4_K_M &&
	      lt_ftype_find("Q5_K", NULL)->ftype == LT_FTYPE_Q5_K_M &&
	      lt_ftype_find("Q3_K", NULL)->ftype == LT_FTYPE_Q3_K_M &&
	      lt_ftype_find("bf16", NULL)->ftype == LT_FTYPE_BF16 &&
	      lt_ftype_find("15", NULL)->ftype == LT_FTYPE_Q4_K_M &&
	      lt_ftype_find("Q2_K_S", NULL)->ftype == LT_FTYPE_Q2_K_S,
	      "type names and aliases");
	CHECK(!lt_ftype_find("Q9_0", &elsewhere) && !elsewhere, "Q9_0");
	CHECK(!lt_ftype_find("iq2_xxs", &elsewhere) && elsewhere, "IQ2_XXS");
	CHECK(!lt_ftype_find("", NULL) && !lt_ftype_find("99", NULL),
	      "empty and unknown numbers");
}

/* ---------------------------------------------------------------------- */
/* GGUF writer                                                            */
/* ---------------------------------------------------------------------- */

static int count_tmp_files(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += strstr(e->d_name, ".tmp-") != NULL;
	if (d)
		closedir(d);
	return n;
}

static void test_writer(void)
{
	struct lt_gguf_writer *w = lt_gguf_writer_new();
	const uint64_t ne_a[2] = { 64, 3 }, ne_b[1] = { 5 };
	float a[192], b[5];
	uint8_t all[768 + 20];
	char err[LLAMUX_ERR_MAX] = "";
	struct file src, f;
	const struct lx_gguf_tensor *t;
	struct lx_gguf_str s;
	struct lx_err lerr;
	uint32_t u = 0;
	float v = 0;
	int i;

	for (i = 0; i < 192; i++)
		a[i] = (float)i;
	for (i = 0; i < 5; i++)
		b[i] = -1.0f - (float)i;
	CHECK(w && open_file(&src, STORIES), "writer set-up");
	if (!w || !src.ok)
		return;
	memcpy(all, a, 768);
	memcpy(all + 768, b, 20);
	CHECK(lt_gguf_set_u32(w, "general.alignment", 64) &&
	      lt_gguf_set_str(w, "general.name", "writer test") &&
	      lt_gguf_set_u32(w, "x.u", 1) && lt_gguf_set_f32(w, "x.f", 0.5f) &&
	      lt_gguf_set_u32(w, "x.u", 7) &&
	      lt_gguf_copy_kv(w, lx_gguf_find(&src.g, "tokenizer.ggml.tokens")),
	      "writer metadata");
	CHECK(lt_gguf_n_kv(w) == 5, "replaced key counted twice");
	CHECK(lt_gguf_add_tensor(w, "a", 1, 2, ne_a, LX_TYPE_F32, err) &&
	      lt_gguf_add_tensor(w, "b", 1, 1, ne_b, LX_TYPE_F32, err),
	      "add tensors: %s", err);
	CHECK(!lt_gguf_add_tensor(w, "a", 1, 1, ne_b, LX_TYPE_F32, err) &&
	      strstr(err, "twice"), "duplicate tensor: %s", err);
	CHECK(!lt_gguf_add_tensor(w, "c", 1, 1, ne_b, LX_TYPE_Q4_0, err) &&
	      strstr(err, "block"), "bad row size: %s", err);
	CHECK(lt_gguf_data_bytes(w) == 768 + 64, "data bytes %llu",
	      (unsigned long long)lt_gguf_data_bytes(w));
	CHECK(lt_gguf_open(w, tmp("w.gguf"), err), "open: %s", err);
	CHECK(count_tmp_files() == 1, "temporary file while writing");
	/* split writes across the tensor boundary */
	CHECK(lt_gguf_write(w, all, 100, err) &&
	      lt_gguf_write(w, all + 100, 768 - 100 + 8, err) &&
	      lt_gguf_write(w, all + 776, 12, err) &&
	      lt_gguf_commit(w, err), "write: %s", err);
	lt_gguf_writer_free(w);
	CHECK(count_tmp_files() == 0, "temporary file left behind");
	if (open_file(&f, tmp("w.gguf"))) {
		CHECK(f.g.alignment == 64 && f.g.data_offset % 64 == 0,
		      "alignment %u", f.g.alignment);
		CHECK(lx_gguf_get_u32(&f.g, "x.u", &u, true, &lerr) && u == 7 &&
		      lx_gguf_get_f32(&f.g, "x.f", &v, true, &lerr) && v == 0.5f &&
		      lx_gguf_get_str(&f.g, "general.name", &s, true, &lerr) &&
		      s.len == 11 && !memcmp(s.ptr, "writer test", 11),
		      "metadata values");
		CHECK(!strncmp(f.g.kv[f.g.n_kv - 2].key.ptr, "x.u", 3),
		      "a replaced key moves to the end");
		CHECK(lx_gguf_find(&f.g, "tokenizer.ggml.tokens")->arr_count == 512,
		      "copied array");
		t = lx_gguf_find_tensor(&f.g, "b");
		CHECK(t && t->offset == 768 && !memcmp(t->data, b, 20),
		      "tensor b data");
		t = lx_gguf_find_tensor(&f.g, "a");
		CHECK(t && !memcmp(t->data, a, 768), "tensor a data");
		CHECK(f.f.size == f.g.data_offset + 768 + 64, "padded end");
		close_file(&f);
	}
	unlink(tmp("w.gguf"));
	/* an abandoned file is removed; an unwritable place is refused */
	w = lt_gguf_writer_new();
	lt_gguf_add_tensor(w, "b", 1, 1, ne_b, LX_TYPE_F32, err);
	CHECK(lt_gguf_open(w, tmp("abandoned.gguf"), err), "open: %s", err);
	lt_gguf_writer_free(w);
	CHECK(count_tmp_files() == 0 && access(tmp("abandoned.gguf"), F_OK),
	      "abandoned file left behind");
	w = lt_gguf_writer_new();
	CHECK(!lt_gguf_open(w, "/nonexistent-dir/x.gguf", err) &&
	      strstr(err, "writable directory"), "bad directory: %s", err);
	lt_gguf_writer_free(w);
	close_file(&src);
}

/* ---------------------------------------------------------------------- */
/* mkmodel                                                                */
/* ---------------------------------------------------------------------- */

static bool make(const char *path, const char *type, const char *vocab,
		 const char *shape, uint64_t seed, unsigned int threads,
		 char *err)
{
	struct lt_make_params p = { 0 };
	struct lt_make_result r;

	p.shape = lt_shape_find(shape);
	p.ftype = lt_ftype_find(type, NULL);
	p.vocab_path = vocab;
	p.seed = seed;
	p.out_path = path;
	p.n_threads = threads;
	return lt_make_model(&p, &r, err);
}

static bool same_bytes(const char *a, const char *b)
{
	unsigned char *x, *y;
	size_t nx = 0, ny = 0;
	bool same;

	x = tl_read_file(a, &nx);
	y = tl_read_file(b, &ny);
	same = x && y && nx == ny && !memcmp(x, y, nx);
	free(x);
	free(y);
	return same;
}

static void test_mkmodel(void)
{
	char err[LLAMUX_ERR_MAX] = "";
	struct llamux_model *m;
	struct llamux_context *ctx;
	struct llamux_context_params cp;
	struct llamux_model_info info;
	struct file f, g;
	const struct lx_gguf_tensor *t, *u;
	struct lx_err lerr;
	struct lx_gguf_str s;
	const int32_t toks[] = { 1, 400, 401, 402 };
	const float *logits;
	uint32_t v = 0;
	float *w, *w2;
	double mean = 0, var = 0, e;
	uint64_t i;
	bool finite = true;

	CHECK(make(tmp("mk.gguf"), "Q8_0", STORIES, "test-tiny", 5, 2, err),
	      "mkmodel: %s", err);
	CHECK(make(tmp("mk1.gguf"), "Q8_0", STORIES, "test-tiny", 5, 1, err),
	      "mkmodel: %s", err);
	CHECK(same_bytes(tmp("mk.gguf"), tmp("mk1.gguf")),
	      "mkmodel output depends on the thread count");
	CHECK(make(tmp("mk2.gguf"), "F32", STORIES, "test-tiny", 5, 0, err),
	      "mkmodel: %s", err);
	if (open_file(&f, tmp("mk.gguf"))) {
		CHECK(f.g.n_tensors == 21, "%llu tensors",
		      (unsigned long long)f.g.n_tensors);
		CHECK(lx_gguf_get_str(&f.g, "general.architecture", &s, true,
				      &lerr) && s.len == 5 &&
		      !memcmp(s.ptr, "llama", 5), "architecture");
		CHECK(lx_gguf_get_u32(&f.g, "llama.rope.dimension_count", &v, true,
				      &lerr) && v == 32, "rope dims %u", v);
		CHECK(lx_gguf_get_u32(&f.g, "general.file_type", &v, true, &lerr) &&
		      v == LT_FTYPE_Q8_0, "file type %u", v);
		CHECK(lx_gguf_get_u32(&f.g, "llama.vocab_size", &v, true, &lerr) &&
		      v == 512, "vocab size %u", v);
		CHECK(lx_gguf_find(&f.g, "tokenizer.ggml.scores") &&
		      lx_gguf_find(&f.g, "tokenizer.ggml.bos_token_id"),
		      "tokenizer copied");
		t = lx_gguf_find_tensor(&f.g, "blk.1.ffn_norm.weight");
		CHECK(t && t->type == LX_TYPE_F32, "norms stay F32");
		t = lx_gguf_find_tensor(&f.g, "blk.1.ffn_up.weight");
		CHECK(t && t->type == LX_TYPE_Q8_0, "ffn_up type");
		/* the same weights as the F32 model, quantized */
		if (open_file(&g, tmp("mk2.gguf"))) {
			u = lx_gguf_find_tensor(&g.g, "blk.1.ffn_up.weight");
			w = t ? dequant(t) : NULL;
			w2 = u ? dequant(u) : NULL;
			if (w && w2) {
				e = rms_diff(w, w2, u->n_elements);
				for (i = 0; i < u->n_elements; i++)
					mean += w2[i];
				mean /= (double)u->n_elements;
				for (i = 0; i < u->n_elements; i++)
					var += (w2[i] - mean) * (w2[i] - mean);
				var /= (double)u->n_elements;
				CHECK(e < 0.01 * sqrt(var), "Q8_0 vs F32 weights: %g", e);
				CHECK(fabs(mean) < 0.002 &&
				      fabs(sqrt(var) * 16.0 - 1.0) < 0.01,
				      "weights mean %g sd %g, expected 0 and 1/16",
				      mean, sqrt(var));
			}
			free(w);
			free(w2);
			u = lx_gguf_find_tensor(&g.g, "output_norm.weight");
			w = u ? dequant(u) : NULL;
			for (i = 0; w && i < u->n_elements; i++)
				CHECK(w[i] >= 0.9f && w[i] <= 1.1f, "norm %g", w[i]);
			free(w);
			close_file(&g);
		}
		close_file(&f);
	}
	/* it loads and runs */
	m = llamux_model_load(tmp("mk.gguf"), 0, err);
	CHECK(m, "load: %s", err);
	if (m) {
		llamux_model_get_info(m, &info);
		CHECK(info.n_layer == 2 && info.n_head_kv == 2 && info.n_vocab == 512,
		      "info");
		llamux_context_default_params(&cp);
		ctx = llamux_context_new(m, &cp, err);
		CHECK(ctx, "context: %s", err);
		if (ctx) {
			CHECK(llamux_decode(ctx, toks, 4, NULL, err) == LLAMUX_OK,
			      "decode: %s", err);
			logits = llamux_logits(ctx);
			for (i = 0; i < 512; i++)
				finite &= isfinite(logits[i]);
			CHECK(finite, "logits not finite");
			llamux_context_free(ctx);
		}
		llamux_model_free(m);
	}
	/* a 32000-token shape with a 512-token vocabulary */
	CHECK(!make(tmp("bad.gguf"), "F16", STORIES, "llama-2-7b", 1, 0, err) &&
	      strstr(err, "512 tokens") && strstr(err, "32000"),
	      "vocabulary size mismatch: %s", err);
	CHECK(!make(tmp("bad.gguf"), "F16", "README.md", "test-tiny", 1, 0, err) &&
	      strstr(err, "README.md"), "not a GGUF vocabulary: %s", err);
	CHECK(!make(tmp("bad.gguf"), "F16", F32_MODEL "x", "test-tiny", 1, 0,
		    err) && strstr(err, "cannot open"), "missing vocab: %s", err);
	CHECK(access(tmp("bad.gguf"), F_OK) && count_tmp_files() == 0,
	      "failed mkmodel left a file");
	unlink(tmp("mk.gguf"));
	unlink(tmp("mk1.gguf"));
	unlink(tmp("mk2.gguf"));
}

static void test_shapes(void)
{
	const struct lt_shape *s = lt_shape_find("tinyllama-1.1b");
	unsigned int i;

	CHECK(s && s->n_layer == 22 && s->n_embd == 2048 && s->n_head == 32 &&
	      s->n_head_kv == 4 && s->n_ff == 5632 && s->n_ctx == 2048 &&
	      s->n_vocab == 32000, "tinyllama shape");
	s = lt_shape_find("llama-2-7b");
	CHECK(s && s->n_layer == 32 && s->n_embd == 4096 && s->n_head_kv == 32 &&
	      s->n_ff == 11008 && s->n_ctx == 4096, "llama-2-7b shape");
	for (i = 0; (s = lt_shape_at(i)); i++)
		CHECK(s->n_embd % s->n_head == 0 && s->n_head % s->n_head_kv == 0 &&
		      strstr(lt_shape_names(), s->name),
		      "shape %s consistent and listed", s->name);
	CHECK(!lt_shape_find("llama-9b"), "unknown shape");
}

/* ---------------------------------------------------------------------- */
/* Normal generator                                                       */
/* ---------------------------------------------------------------------- */

static void test_rng(void)
{
	enum { N = 1 << 20 };
	static float x[N];
	struct lt_rng r;
	double m1 = 0, m2 = 0, m4 = 0, tail = 0;
	int i;

	lt_rng_seed(&r, 42);
	lt_rng_normal(&r, x, N, 2.0f);
	for (i = 0; i < N; i++) {
		double v = x[i] / 2.0;

		m1 += v;
		m2 += v * v;
		m4 += v * v * v * v;
		tail += fabs(v) > 3.0;
	}
	m1 /= N;
	m2 /= N;
	m4 /= N;
	tail /= N;
	CHECK(fabs(m1) < 0.005 && fabs(m2 - 1) < 0.01 && fabs(m4 - 3) < 0.05 &&
	      fabs(tail - 0.0027) < 0.0004,
	      "normal moments: mean %g var %g m4 %g P(|x|>3) %g", m1, m2, m4,
	      tail);
	printf("normal generator: mean %.4f, variance %.4f, 4th moment %.3f, P(|x|>3) %.5f\n",
	       m1, m2, m4, tail);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/llamux-test-quantize-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_against_llama_cpp();
	test_requantize();
	test_edge_cases();
	test_mixtures();
	test_writer();
	test_mkmodel();
	test_shapes();
	test_rng();
	rmdir(tmpdir);
	return tl_finish("test_quantize");
}
