// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The vocabulary: token texts, scores and types from tokenizer.ggml.*, an
 * index from text to id, special-token handling, and the way back from ids to
 * text (including a streaming detokenizer that never splits a UTF-8
 * character). The splitting of text into tokens lives in tokenize_*.c.
 */
#include "model.h"
#include "unicode.h"

static int cmp_text(const struct lx_gguf_str *t, const char *s, size_t n)
{
	int r = memcmp(t->ptr, s, LX_MIN((size_t)t->len, n));

	if (r)
		return r;
	return t->len < n ? -1 : t->len > n;
}

int32_t lx_vocab_find(const struct lx_vocab *v, const char *s, size_t n)
{
	uint32_t lo = 0, hi = v->n;

	if (!v->sorted)
		return -1;
	/*
	 * Upper bound: among equal texts the highest id (sorted last), as
	 * llama.cpp's token_to_id map keeps the last token of a text.
	 */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (cmp_text(&v->text[v->sorted[mid]], s, n) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && cmp_text(&v->text[v->sorted[lo - 1]], s, n) == 0)
		return (int32_t)v->sorted[lo - 1];
	return -1;
}

static int cmp_token(const void *a, const void *b, void *arg)
{
	const struct lx_vocab *v = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int r = cmp_text(&v->text[x], v->text[y].ptr, v->text[y].len);

	if (r)
		return r;
	return x < y ? -1 : x > y;
}

/*
 * A sorted index rather than a hash table: the token texts come from the
 * file, and a crafted vocabulary could make a hash table's probes
 * quadratic. Sorting is O(n log n) whatever the texts are.
 */
static bool build_index(struct lx_vocab *v, struct lx_err *err)
{
	uint32_t id;

	v->sorted = lx_host_alloc((size_t)v->n * sizeof(*v->sorted));
	if (!v->sorted)
		return lx_fail(err, "out of memory indexing %u tokens", v->n);
	for (id = 0; id < v->n; id++) {
		v->sorted[id] = id;
		if (v->text[id].len > v->max_token_len)
			v->max_token_len = (uint32_t)LX_MIN(v->text[id].len,
							    UINT32_MAX);
	}
	lx_sort(v->sorted, v->n, sizeof(*v->sorted), cmp_token, v);
	return true;
}

static bool get_token_id(const struct lx_gguf *g, const char *key,
			 int32_t *id, uint32_t n, struct lx_err *err)
{
	uint32_t v;

	if (!lx_gguf_get_u32(g, key, &v, false, err))
		return !err->msg[0];
	if (v >= n)
		return lx_fail(err, "%s is %u but the vocabulary has only %u tokens",
			       key, v, n);
	*id = (int32_t)v;
	return true;
}

static int cmp_special_len(const void *a, const void *b, void *arg)
{
	const struct lx_vocab *v = arg;
	uint64_t x = v->text[*(const uint32_t *)a].len;
	uint64_t y = v->text[*(const uint32_t *)b].len;

	if (x != y)
		return x > y ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static bool is_special_type(uint8_t type)
{
	return type == LX_TOKEN_CONTROL || type == LX_TOKEN_USER_DEFINED ||
	       type == LX_TOKEN_UNKNOWN;
}

/*
 * The tokens that text is split at before tokenizing (llama.cpp's
 * cache_special_tokens): control, user-defined and unknown ones, longest
 * first. llama.cpp's std::sort leaves the order of equal lengths
 * unspecified; here it is by id.
 */
static bool index_specials(struct lx_vocab *v, struct lx_err *err)
{
	uint32_t id, n = 0;

	for (id = 0; id < v->n; id++)
		if (is_special_type(v->types[id]) && v->text[id].len)
			n++;
	v->specials = lx_host_alloc((n + 1) * sizeof(*v->specials));
	if (!v->specials)
		return lx_fail(err, "out of memory for special tokens");
	for (id = 0; id < v->n; id++) {
		if (!is_special_type(v->types[id]) || !v->text[id].len)
			continue;
		v->specials[v->n_specials++] = id;
		v->special_first[(unsigned char)v->text[id].ptr[0] / 8] |=
			1u << ((unsigned char)v->text[id].ptr[0] % 8);
	}
	lx_sort(v->specials, v->n_specials, sizeof(uint32_t), cmp_special_len, v);
	return true;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "<0xNN>" -> NN, else -1. */
static int byte_of_token(const struct lx_gguf_str *t)
{
	int hi, lo;

	if (t->len != 6 || memcmp(t->ptr, "<0x", 3) != 0 || t->ptr[5] != '>')
		return -1;
	hi = hex_digit(t->ptr[3]);
	lo = hex_digit(t->ptr[4]);
	return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

/*
 * Special tokens llama.cpp recognises by their text when the metadata does
 * not name them (llama_vocab::impl::load). Each list's token of lowest id
 * is taken (llama.cpp takes the first its hash map yields) and becomes a
 * control token if it was not one.
 */
static const char *const eot_texts[] = {
	"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
	"<|endoftext|>", "<EOT>", "_<EOT>",
	"<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
	NULL
};
static const char *const eom_texts[] = { "<|eom_id|>", NULL };
static const char *const fim_pre_texts[] = {
	"<|fim_prefix|>", "<fim-prefix>",
	"<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>", "<PRE>", NULL
};
static const char *const fim_suf_texts[] = {
	"<|fim_suffix|>", "<fim-suffix>",
	"<\xef\xbd\x9c" "fim\xe2\x96\x81hole\xef\xbd\x9c>", "<SUF>", NULL
};
static const char *const fim_mid_texts[] = {
	"<|fim_middle|>", "<fim-middle>",
	"<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>", "<MID>", NULL
};
static const char *const fim_pad_texts[] = {
	"<|fim_pad|>", "<fim-pad>", "<PAD>", NULL
};
static const char *const fim_rep_texts[] = {
	"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", NULL
};
static const char *const fim_sep_texts[] = { "<|file_sep|>", NULL };
/* Tokens that end generation whatever the metadata says. */
static const char *const eog_texts[] = {
	"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
	"<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>", NULL
};

static void make_control(struct lx_vocab *v, int32_t id)
{
	if (id >= 0)
		v->types[id] = LX_TOKEN_CONTROL;
}

/* Sets *id (if still -1) to the lowest-id token of the list. */
static void detect_by_text(struct lx_vocab *v, const char *const *texts,
			   int32_t *id)
{
	int32_t best = -1;

	if (*id >= 0)
		return;
	for (; *texts; texts++) {
		int32_t t = lx_vocab_find(v, *texts, lx_strlen(*texts));

		if (t >= 0 && (best < 0 || t < best))
			best = t;
	}
	*id = best;
	make_control(v, best);
}

static void add_eog(struct lx_vocab *v, int32_t id)
{
	uint32_t i;

	if (id < 0)
		return;
	for (i = 0; i < v->n_eog; i++)
		if (v->eog[i] == id)
			return;
	if (v->n_eog < LX_VOCAB_MAX_EOG)
		v->eog[v->n_eog++] = id;
}

/*
 * EOT, EOM and FIM tokens by metadata or text, and the end-of-generation
 * set: FIM pad/repo/separator, the tokens of eog_texts, EOS, EOT and EOM.
 */
static bool find_special_ids(struct lx_vocab *v, const struct lx_gguf *g,
			     struct lx_err *err)
{
	int32_t pre = -1, suf = -1, mid = -1, pad = -1, rep = -1, sep = -1;
	const char *const *t;

	if (!get_token_id(g, "tokenizer.ggml.eom_token_id", &v->eom, v->n,
			  err) ||
	    !get_token_id(g, "tokenizer.ggml.fim_pre_token_id", &pre, v->n,
			  err) ||
	    !get_token_id(g, "tokenizer.ggml.fim_suf_token_id", &suf, v->n,
			  err) ||
	    !get_token_id(g, "tokenizer.ggml.fim_mid_token_id", &mid, v->n,
			  err) ||
	    !get_token_id(g, "tokenizer.ggml.fim_pad_token_id", &pad, v->n,
			  err) ||
	    !get_token_id(g, "tokenizer.ggml.fim_rep_token_id", &rep, v->n,
			  err) ||
	    !get_token_id(g, "tokenizer.ggml.fim_sep_token_id", &sep, v->n,
			  err))
		return false;
	detect_by_text(v, eot_texts, &v->eot);
	detect_by_text(v, eom_texts, &v->eom);
	detect_by_text(v, fim_pre_texts, &pre);
	detect_by_text(v, fim_suf_texts, &suf);
	detect_by_text(v, fim_mid_texts, &mid);
	detect_by_text(v, fim_pad_texts, &pad);
	detect_by_text(v, fim_rep_texts, &rep);
	detect_by_text(v, fim_sep_texts, &sep);
	add_eog(v, pad);
	add_eog(v, rep);
	add_eog(v, sep);
	for (t = eog_texts; *t; t++) {
		int32_t id = lx_vocab_find(v, *t, lx_strlen(*t));

		make_control(v, id);
		add_eog(v, id);
	}
	add_eog(v, v->eos);
	add_eog(v, v->eot);
	add_eog(v, v->eom);
	return true;
}

/* tokenizer.ggml.pre: missing means "default", as in llama.cpp. */
static bool load_pre(struct lx_vocab *v, const struct lx_gguf *g,
		     struct lx_err *err)
{
	struct lx_gguf_str pre;

	if (!lx_gguf_get_str(g, "tokenizer.ggml.pre", &pre, false, err)) {
		if (err->msg[0])
			return false;
		lx_host_log(LX_LOG_WARN, "tokenizer.ggml.pre is missing: using the 'default' pre-tokenizer, as llama.cpp does (tokenization may differ from the model's own)");
		v->pre = LX_PRE_DEFAULT;
		return true;
	}
	if (!lx_bpe_pre_find(pre.ptr, pre.len, &v->pre, &v->ignore_merges,
			     &v->add_bos))
		return lx_fail(err, "pre-tokenizer '%.*s' (tokenizer.ggml.pre) is not supported (supported: %s)",
			       (int)LX_MIN(pre.len, 40), pre.ptr,
			       lx_bpe_pre_names());
	return true;
}

bool lx_vocab_load(struct lx_vocab *v, const struct lx_gguf *g,
		   struct lx_err *err)
{
	const struct lx_gguf_kv *tokens, *arr;
	struct lx_gguf_str model;
	uint32_t id;
	int b;

	memset(v, 0, sizeof(*v));
	if (!lx_gguf_get_str(g, "tokenizer.ggml.model", &model, true, err))
		return false;
	if (lx_str_eq(model.ptr, model.len, "llama"))
		v->kind = LX_VOCAB_SPM;
	else if (lx_str_eq(model.ptr, model.len, "gpt2"))
		v->kind = LX_VOCAB_BPE;
	else
		return lx_fail(err, "tokenizer '%.*s' is not supported (supported: llama, gpt2)",
			       (int)LX_MIN(model.len, 64), model.ptr);
	if (!lx_gguf_get_arr(g, "tokenizer.ggml.tokens", LX_GGUF_STRING, &tokens,
			     true, err))
		return false;
	if (tokens->arr_count == 0 || tokens->arr_count > INT32_MAX / 2)
		return lx_fail(err, "tokenizer.ggml.tokens has %llu tokens",
			       (unsigned long long)tokens->arr_count);
	v->n = (uint32_t)tokens->arr_count;
	if (!lx_gguf_arr_strings(tokens, &v->text, err))
		return false;

	v->scores = lx_host_alloc((size_t)v->n * sizeof(float));
	v->types = lx_host_alloc(v->n);
	if (!v->scores || !v->types)
		return lx_fail(err, "out of memory for %u tokens", v->n);
	if (lx_gguf_get_arr(g, "tokenizer.ggml.scores", LX_GGUF_F32, &arr, false,
			    err)) {
		if (arr->arr_count != v->n)
			return lx_fail(err, "tokenizer.ggml.scores has %llu entries for %u tokens",
				       (unsigned long long)arr->arr_count, v->n);
		for (id = 0; id < v->n; id++)
			v->scores[id] = lx_gguf_arr_f32(arr, id);
	} else if (err->msg[0]) {
		return false;
	}
	for (id = 0; id < v->n; id++)
		v->types[id] = LX_TOKEN_NORMAL;
	if (lx_gguf_get_arr(g, "tokenizer.ggml.token_type", LX_GGUF_I32, &arr,
			    false, err)) {
		if (arr->arr_count != v->n)
			return lx_fail(err, "tokenizer.ggml.token_type has %llu entries for %u tokens",
				       (unsigned long long)arr->arr_count, v->n);
		for (id = 0; id < v->n; id++) {
			int64_t t = lx_gguf_arr_int(arr, id);

			if (t < 0 || t > LX_TOKEN_BYTE)
				return lx_fail(err, "tokenizer.ggml.token_type[%u] is %lld, not a token type",
					       id, (long long)t);
			v->types[id] = (uint8_t)t;
		}
	} else if (err->msg[0]) {
		return false;
	}

	/* llama.cpp's defaults when keys are absent. */
	v->eot = -1;
	v->eom = -1;
	v->add_eos = false;
	if (v->kind == LX_VOCAB_SPM) {
		v->bos = v->n > 1 ? 1 : -1;
		v->eos = v->n > 2 ? 2 : -1;
		v->unk = 0;
		v->add_bos = true;
		v->add_space_prefix = true;
	} else {
		/* BPE: token 11 (Falcon's <|endoftext|>); BOS only for
		 * pre-tokenizers that ask for it (Llama 3).
		 */
		v->bos = v->n > 11 ? 11 : -1;
		v->eos = v->bos;
		v->unk = -1;
		v->add_bos = false;
		v->add_space_prefix = false;
		if (!lx_gguf_find(g, "tokenizer.ggml.merges"))
			return lx_fail(err, "tokenizer 'gpt2' is not supported without merges: tokenizer.ggml.merges is missing");
		if (!load_pre(v, g, err))
			return false;
	}
	if (!get_token_id(g, "tokenizer.ggml.bos_token_id", &v->bos, v->n, err) ||
	    !get_token_id(g, "tokenizer.ggml.eos_token_id", &v->eos, v->n, err) ||
	    !get_token_id(g, "tokenizer.ggml.unknown_token_id", &v->unk, v->n,
			  err) ||
	    !get_token_id(g, "tokenizer.ggml.eot_token_id", &v->eot, v->n, err))
		return false;
	if ((!lx_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &v->add_bos,
			       false, err) && err->msg[0]) ||
	    (!lx_gguf_get_bool(g, "tokenizer.ggml.add_eos_token", &v->add_eos,
			       false, err) && err->msg[0]) ||
	    (v->kind == LX_VOCAB_SPM &&
	     !lx_gguf_get_bool(g, "tokenizer.ggml.add_space_prefix",
			       &v->add_space_prefix, false, err) && err->msg[0]))
		return false;

	if (!build_index(v, err) || !find_special_ids(v, g, err) ||
	    !index_specials(v, err))
		return false;
	if (v->kind == LX_VOCAB_BPE)
		return lx_bpe_load(v, g, err);
	for (b = 0; b < 256; b++) {
		char hex[8];

		lx_snprintf(hex, sizeof(hex), "<0x%02X>", b);
		v->byte_token[b] = lx_vocab_find(v, hex, 6);
		if (v->byte_token[b] < 0) {
			char c = (char)b;

			v->byte_token[b] = lx_vocab_find(v, &c, 1);
		}
	}
	return true;
}

void lx_vocab_free(struct lx_vocab *v)
{
	lx_host_free(v->text);
	lx_host_free(v->scores);
	lx_host_free(v->types);
	lx_host_free(v->sorted);
	lx_host_free(v->specials);
	lx_host_free(v->merges);
	lx_host_free(v->merge_texts);
	memset(v, 0, sizeof(*v));
}

int32_t llamux_n_vocab(const struct llamux_model *m)
{
	return (int32_t)m->vocab.n;
}

int32_t llamux_token_bos(const struct llamux_model *m)
{
	return m->vocab.bos;
}

int32_t llamux_token_eos(const struct llamux_model *m)
{
	return m->vocab.eos;
}

bool llamux_token_is_eog(const struct llamux_model *m, int32_t token)
{
	uint32_t i;

	for (i = 0; i < m->vocab.n_eog; i++)
		if (token == m->vocab.eog[i])
			return true;
	return false;
}

/* ---- special tokens in text ---- */

struct special_match {
	uint32_t pos;		/* byte offset in the text */
	int32_t id;
};

static int cmp_match_pos(const void *a, const void *b, void *arg)
{
	const struct special_match *x = a, *y = b;

	(void)arg;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static bool starts_special(const struct lx_vocab *v, unsigned char c)
{
	return v->special_first[c / 8] & (1u << (c % 8));
}

/*
 * Where the special tokens are in text, as llama.cpp's
 * tokenizer_st_partition finds them: each token in turn, longest first,
 * takes its leftmost non-overlapping occurrences in the text that earlier
 * tokens left free. Control and unknown tokens only when parse_special;
 * user-defined tokens always. Only positions whose byte starts some special
 * token are tried, so ordinary text costs one pass. *out (sorted by
 * position, free with lx_host_free) is NULL when there are none. Returns
 * the number of matches, or -1 when out of memory (or over 4 GiB of text).
 */
static int64_t find_specials(const struct lx_vocab *v, const char *text,
			     size_t len, bool parse_special,
			     struct special_match **out)
{
	uint32_t *start = NULL, *cand = NULL;
	uint8_t *taken = NULL;
	struct special_match *m = NULL;
	size_t i, n_cand = 0, n_m = 0;
	uint32_t s;

	*out = NULL;
	if (len > UINT32_MAX)
		return -1;
	for (i = 0; i < len; i++)
		n_cand += starts_special(v, (unsigned char)text[i]);
	if (!n_cand)
		return 0;
	/* Candidate positions bucketed by their byte, in text order. */
	start = lx_host_alloc(257 * sizeof(*start));
	cand = lx_host_alloc(n_cand * sizeof(*cand));
	taken = lx_host_alloc(len);
	m = lx_host_alloc(n_cand * sizeof(*m));
	if (!start || !cand || !taken || !m)
		goto oom;
	for (i = 0; i < len; i++)
		if (starts_special(v, (unsigned char)text[i]))
			start[(unsigned char)text[i] + 1]++;
	for (i = 1; i <= 256; i++)
		start[i] += start[i - 1];
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (starts_special(v, c))
			cand[start[c]++] = (uint32_t)i;
	}
	/* start[c] is now the end of c's bucket; c - 1's end is its start. */
	for (s = 0; s < v->n_specials; s++) {
		int32_t id = (int32_t)v->specials[s];
		const struct lx_gguf_str *t = &v->text[id];
		unsigned char c = (unsigned char)t->ptr[0];
		size_t k;

		if (!parse_special && (v->types[id] == LX_TOKEN_CONTROL ||
				       v->types[id] == LX_TOKEN_UNKNOWN))
			continue;
		if (t->len > len)
			continue;
		for (k = c ? start[c - 1] : 0; k < start[c]; k++) {
			size_t p = cand[k], j;

			if (p > len - t->len)
				break;
			if (taken[p] || memcmp(text + p, t->ptr, t->len))
				continue;
			for (j = 1; j < t->len && !taken[p + j]; j++)
				;
			if (j < t->len)
				continue;
			memset(taken + p, 1, t->len);
			m[n_m++] = (struct special_match){ (uint32_t)p, id };
		}
	}
	lx_sort(m, n_m, sizeof(*m), cmp_match_pos, NULL);
	lx_host_free(start);
	lx_host_free(cand);
	lx_host_free(taken);
	if (!n_m) {
		lx_host_free(m);
		return 0;
	}
	*out = m;
	return (int64_t)n_m;
oom:
	lx_host_free(start);
	lx_host_free(cand);
	lx_host_free(taken);
	lx_host_free(m);
	return -1;
}

static void emit(int32_t tok, int32_t *out, size_t cap, size_t *n)
{
	if (*n < cap)
		out[*n] = tok;
	(*n)++;
}

/*
 * Tokenizes one stretch of text between special tokens. SentencePiece puts
 * a space before each: every stretch follows the start or a special token
 * (llama.cpp's is_prev_special is always true there).
 */
static bool tokenize_text(const struct lx_vocab *v, const char *text,
			  size_t len, int32_t *out, size_t cap, size_t *n)
{
	size_t off = LX_MIN(*n, cap), sub = 0;
	struct lx_err err;
	bool ok;

	/* Not out + off when out is NULL (counting only): UB even for 0. */
	if (v->kind == LX_VOCAB_SPM)
		ok = lx_tokenize_spm(v, text, len, true, out ? out + off : NULL,
				     cap - off, &sub, &err);
	else
		ok = lx_tokenize_bpe(v, text, len, out ? out + off : NULL,
				     cap - off, &sub, &err);
	*n += sub;
	return ok;
}

int64_t llamux_tokenize(const struct llamux_model *m, const char *text,
			size_t len, bool add_special, bool parse_special,
			int32_t *out, size_t cap)
{
	const struct lx_vocab *v = &m->vocab;
	struct special_match *sp = NULL;
	int64_t n_sp = 0, i;
	size_t n = 0, pos = 0;
	bool ok = true;

	if ((v->kind != LX_VOCAB_SPM && v->kind != LX_VOCAB_BPE) ||
	    (!text && len))
		return LLAMUX_ERR_INVALID;
	if (!out)
		cap = 0;
	if (add_special && v->add_bos && v->bos >= 0)
		emit(v->bos, out, cap, &n);
	if (len)
		n_sp = find_specials(v, text, len, parse_special, &sp);
	if (n_sp < 0)
		return LLAMUX_ERR_NOMEM;
	for (i = 0; ok && i <= n_sp; i++) {
		size_t end = i < n_sp ? sp[i].pos : len;

		if (end > pos)
			ok = tokenize_text(v, text + pos, end - pos, out, cap,
					   &n);
		if (i < n_sp) {
			emit(sp[i].id, out, cap, &n);
			pos = end + (size_t)v->text[sp[i].id].len;
		}
	}
	lx_host_free(sp);
	if (!ok)
		return LLAMUX_ERR_NOMEM;
	if (add_special && v->add_eos && v->eos >= 0)
		emit(v->eos, out, cap, &n);
	return (int64_t)n;
}

static size_t copy_out(char *buf, size_t cap, const char *s, size_t n)
{
	if (cap)
		memcpy(buf, s, LX_MIN(n, cap));
	return n;
}

static void put_byte(char *buf, size_t cap, size_t *n, char c)
{
	if (*n < cap)
		buf[*n] = c;
	(*n)++;
}

/*
 * A byte-level BPE token's bytes: each character back to the byte it
 * stands for. A character outside GPT-2's mapping becomes what llama.cpp's
 * llama_decode_text writes: "[UNK_BYTE_0x" + its UTF-8 in hex + the whole
 * token text + "]".
 */
static size_t bpe_piece(const struct lx_gguf_str *t, char *buf, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, n = 0, used, k;

	while (i < t->len) {
		uint32_t c = lx_utf8_decode(t->ptr + i, t->len - i, &used);
		int byte = lx_bpe_char_to_byte(c);
		char u[4];
		size_t nu;

		i += used;
		if (byte >= 0) {
			put_byte(buf, cap, &n, (char)byte);
			continue;
		}
		for (k = 0; k < 12; k++)
			put_byte(buf, cap, &n, "[UNK_BYTE_0x"[k]);
		nu = lx_utf8_encode(c, u);
		for (k = 0; k < nu; k++) {
			put_byte(buf, cap, &n, hex[(unsigned char)u[k] >> 4]);
			put_byte(buf, cap, &n, hex[(unsigned char)u[k] & 15]);
		}
		for (k = 0; k < t->len; k++)
			put_byte(buf, cap, &n, t->ptr[k]);
		put_byte(buf, cap, &n, ']');
	}
	return n;
}

size_t llamux_token_to_piece(const struct llamux_model *m, int32_t token,
			     bool special, char *buf, size_t cap)
{
	const struct lx_vocab *v = &m->vocab;
	const struct lx_gguf_str *t;
	size_t i, n = 0;
	int byte;

	if (token < 0 || (uint32_t)token >= v->n)
		return 0;
	t = &v->text[token];
	if (v->kind == LX_VOCAB_BPE) {
		/* llama.cpp's token_to_piece for BPE vocabularies. */
		switch (v->types[token]) {
		case LX_TOKEN_CONTROL:
		case LX_TOKEN_UNKNOWN:
			return special ? copy_out(buf, cap, t->ptr, t->len) : 0;
		case LX_TOKEN_USER_DEFINED:
			return copy_out(buf, cap, t->ptr, t->len);
		case LX_TOKEN_NORMAL:
			return bpe_piece(t, buf, cap);
		default:
			return 0;
		}
	}
	switch (v->types[token]) {
	case LX_TOKEN_CONTROL:
		return special ? copy_out(buf, cap, t->ptr, t->len) : 0;
	case LX_TOKEN_USER_DEFINED:
		return copy_out(buf, cap, t->ptr, t->len);
	case LX_TOKEN_UNKNOWN:
		return copy_out(buf, cap, "\xe2\x96\x85", 3);
	case LX_TOKEN_BYTE:
		byte = byte_of_token(t);
		if (byte < 0)
			return 0;
		if (cap)
			buf[0] = (char)byte;
		return 1;
	case LX_TOKEN_NORMAL:
		/* SentencePiece writes spaces as U+2581 (E2 96 81). */
		for (i = 0; i < t->len; i++) {
			if (i + 2 < t->len && (unsigned char)t->ptr[i] == 0xE2 &&
			    (unsigned char)t->ptr[i + 1] == 0x96 &&
			    (unsigned char)t->ptr[i + 2] == 0x81) {
				if (n < cap)
					buf[n] = ' ';
				i += 2;
			} else if (n < cap) {
				buf[n] = t->ptr[i];
			}
			n++;
		}
		return n;
	default:
		return 0;
	}
}

static bool is_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

/* Streams one byte: whole characters go out, a started one waits. */
static void detok_byte(struct llamux_detok *d, unsigned char b, char *out,
		       size_t cap, size_t *w)
{
	size_t i;

	if (d->n_pending) {
		if (is_cont(b)) {
			d->pending[d->n_pending++] = (char)b;
			if (d->n_pending < lx_utf8_len(d->pending[0]))
				return;
		}
		/* Complete, or broken by a non-continuation byte: let it out. */
		for (i = 0; i < d->n_pending; i++, (*w)++)
			if (*w < cap)
				out[*w] = d->pending[i];
		d->n_pending = 0;
		if (is_cont(b))
			return;
	}
	if (b >= 0xC2 && b <= 0xF4) {
		d->pending[d->n_pending++] = (char)b;
		return;
	}
	if (*w < cap)
		out[*w] = (char)b;
	(*w)++;
}

size_t llamux_detok_push(const struct llamux_model *m, struct llamux_detok *d,
			 int32_t token, char *out, size_t cap)
{
	char small[256], *piece = small;
	size_t n, i, w = 0;

	n = llamux_token_to_piece(m, token, false, small, sizeof(small));
	if (n > sizeof(small)) {
		piece = lx_host_alloc(n);
		if (!piece)
			return 0;
		llamux_token_to_piece(m, token, false, piece, n);
	}
	for (i = 0; i < n; i++)
		detok_byte(d, (unsigned char)piece[i], out, cap, &w);
	if (piece != small)
		lx_host_free(piece);
	return LX_MIN(w, cap);
}

size_t llamux_detok_flush(struct llamux_detok *d, char *out, size_t cap)
{
	size_t n = LX_MIN((size_t)d->n_pending, cap);

	memcpy(out, d->pending, n);
	d->n_pending = 0;
	return n;
}
