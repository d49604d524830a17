// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Tokenizers against llama.cpp's test vectors: every string of
 * ../shared/vocab/ggml-vocab-X.gguf.inp must tokenize (no BOS, special
 * tokens not parsed) to its line in the .out file, for SentencePiece
 * (llama-spm) and byte-level BPE (gpt-2, starcoder, deepseek-coder,
 * falcon). Also: BOS handling, the streaming detokenizer never splitting a
 * UTF-8 character, BPE round trips, llama.cpp's prompt tokens of the phi2
 * and qwen2 references, special and user-defined tokens, end-of-generation
 * tokens, every pre-tokenizer's words, tokenizer.ggml.pre names, and speed.
 */
#include <string.h>
#include <time.h>

#include "llamux/llamux.h"
#include "model.h"
#include "testlib.h"

#define VOCAB_DIR "../shared/vocab/"
#define SEP "\n__ggml_vocab_test__\n"

static void check_vectors(const char *name)
{
	char path[256], err[LLAMUX_ERR_MAX] = "";
	unsigned char *inp, *outp;
	size_t inp_len, out_len, n_cases = 0, n_pass = 0;
	struct llamux_model *m;
	char *p, *line;

	snprintf(path, sizeof(path), VOCAB_DIR "%s.gguf", name);
	m = llamux_model_load(path, LLAMUX_LOAD_VOCAB_ONLY, err);
	CHECK(m != NULL, "%s: %s", path, err);
	if (!m)
		return;
	snprintf(path, sizeof(path), VOCAB_DIR "%s.gguf.inp", name);
	inp = tl_read_file(path, &inp_len);
	snprintf(path, sizeof(path), VOCAB_DIR "%s.gguf.out", name);
	outp = tl_read_file(path, &out_len);
	CHECK(inp && outp, "cannot read test vectors of %s", name);
	if (!inp || !outp)
		return;
	inp = realloc(inp, inp_len + 1);
	inp[inp_len] = '\0';
	outp = realloc(outp, out_len + 1);
	outp[out_len] = '\0';

	p = (char *)inp;
	line = (char *)outp;
	for (;;) {
		char *sep = strstr(p, SEP), *eol, *q;
		int32_t toks[4096];
		char got[16384];
		size_t glen = 0;
		int64_t n, i;

		if (!sep)
			break;
		*sep = '\0';
		eol = strchr(line, '\n');
		if (!eol)
			break;
		*eol = '\0';
		n = llamux_tokenize(m, p, strlen(p), false, false, toks, 4096);
		got[0] = '\0';
		for (i = 0; i < n && i < 4096; i++)
			glen += (size_t)snprintf(got + glen, sizeof(got) - glen,
						 " %d", toks[i]);
		/* The .out lines are " id id id" (leading space), or empty. */
		q = line;
		n_cases++;
		if (strcmp(got, q) == 0)
			n_pass++;
		CHECK(strcmp(got, q) == 0, "%s case %zu '%s':\n  want:%s\n  got: %s",
		      name, n_cases, p, q, got);
		p = sep + strlen(SEP);
		line = eol + 1;
	}
	printf("%s: %zu/%zu test vectors pass\n", name, n_pass, n_cases);
	CHECK(n_cases >= 40, "%s: only %zu cases read", name, n_cases);
	free(inp);
	free(outp);
	llamux_model_free(m);
}

static void check_bos_and_detok(void)
{
	char err[LLAMUX_ERR_MAX] = "", out[256];
	struct llamux_model *m = llamux_model_load(
		VOCAB_DIR "ggml-vocab-llama-spm.gguf", LLAMUX_LOAD_VOCAB_ONLY, err);
	const char *text = "Héllo wörld ☺ 😀";
	struct llamux_detok d = { { 0 }, 0 };
	int32_t toks[64];
	int64_t n, i;
	size_t len = 0;

	CHECK(m != NULL, "%s", err);
	if (!m)
		return;
	n = llamux_tokenize(m, "", 0, true, false, toks, 64);
	CHECK(n == 1 && toks[0] == llamux_token_bos(m),
	      "empty text with specials must give just BOS, got %lld tokens",
	      (long long)n);
	n = llamux_tokenize(m, "", 0, false, false, toks, 64);
	CHECK(n == 0, "empty text without specials gives nothing, got %lld",
	      (long long)n);
	/* Control tokens in text are text unless parse_special is on. */
	n = llamux_tokenize(m, "<s>", 3, false, true, toks, 64);
	CHECK(n == 1 && toks[0] == 1, "parse_special: <s> -> 1, got n=%lld",
	      (long long)n);
	n = llamux_tokenize(m, "<s>", 3, false, false, toks, 64);
	CHECK(n > 1, "without parse_special <s> is plain text, got n=%lld",
	      (long long)n);
	/* Text needing byte fallback: the detokenizer must hold back partial
	 * characters, and the concatenation must equal the input (plus the
	 * SentencePiece leading space). */
	n = llamux_tokenize(m, text, strlen(text), false, false, toks, 64);
	CHECK(n > 0 && n < 64, "tokenize failed");
	for (i = 0; i < n; i++) {
		size_t w = llamux_detok_push(m, &d, toks[i], out + len,
					     sizeof(out) - len);
		size_t k;

		/* Every chunk emitted must itself be complete UTF-8. */
		for (k = 0; k < w;) {
			unsigned char c = (unsigned char)out[len + k];
			size_t cl = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;

			CHECK(k + cl <= w, "token %lld emitted half a character",
			      (long long)i);
			k += cl;
		}
		len += w;
	}
	len += llamux_detok_flush(&d, out + len, sizeof(out) - len);
	out[len] = '\0';
	CHECK(out[0] == ' ' && strcmp(out + 1, text) == 0,
	      "round trip: got '%s'", out);
	llamux_model_free(m);
}

/* Is out[0..n) whole UTF-8 characters? */
static bool whole_chars(const char *out, size_t n)
{
	size_t k, cl;

	for (k = 0; k < n; k += cl) {
		unsigned char c = (unsigned char)out[k];

		cl = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
		if (k + cl > n)
			return false;
	}
	return true;
}

/* Tokens back to text through the streaming detokenizer. */
static size_t detok_all(const struct llamux_model *m, const int32_t *toks,
			int64_t n, char *out, size_t cap)
{
	struct llamux_detok d = { { 0 }, 0 };
	size_t len = 0;
	int64_t i;

	for (i = 0; i < n; i++) {
		size_t w = llamux_detok_push(m, &d, toks[i], out + len,
					     cap - len);

		CHECK(whole_chars(out + len, w),
		      "token %d emitted part of a character", toks[i]);
		len += w;
	}
	return len + llamux_detok_flush(&d, out + len, cap - len);
}

static struct llamux_model *load_vocab(const char *name)
{
	char path[256], err[LLAMUX_ERR_MAX] = "";
	struct llamux_model *m;

	snprintf(path, sizeof(path), VOCAB_DIR "%s.gguf", name);
	m = llamux_model_load(path, LLAMUX_LOAD_VOCAB_ONLY, err);
	CHECK(m != NULL, "%s: %s", path, err);
	return m;
}

/* Byte-level BPE gives the text back exactly, whatever it is. */
static void check_bpe_round_trip(void)
{
	static const char *const texts[] = {
		"Hello world",
		"  leading and trailing spaces  ",
		"tabs\tand\nnewlines\r\n\n\n",
		"H\xc3\xa9llo w\xc3\xb6rld \xe2\x98\xba \xf0\x9f\x98\x80 "
		"\xf0\x9f\xa6\x99\xf0\x9f\x9a\x80",
		"\xd0\xbd\xd0\xb5\xd1\x89\xd0\xbe \xd0\xbd\xd0\xb0 "
		"\xd0\x91\xd1\x8a\xd0\xbb\xd0\xb3\xd0\xb0\xd1\x80\xd1\x81\xd0\xba"
		"\xd0\xb8",
		"\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97\xe7\xac\xa6\xe5\x92\x8c"
		"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86"
		"\xe3\x82\xad\xe3\x82\xb9\xe3\x83\x88 \xed\x95\x9c\xea\xb5\xad"
		"\xec\x96\xb4",
		/* family (ZWJ sequence), rainbow flag (variation selector) */
		"\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f"
		"\x91\xa7 \xf0\x9f\x8f\xb3\xef\xb8\x8f\xe2\x80\x8d\xf0\x9f\x8c\x88",
		"int main(void)\n{\n\treturn printf(\"%d\\n\", 42);\n}\n",
		"def add(a, b):\n    return a + b\n\n\nclass A:\n    pass\n",
		"I'm sure they'll say we've done what he'd've DONE'S",
		"3.14159 1,000,000 0x1F 1e-9 -42",
		"\x01\x02\x7f control \x1b[31m escapes \xc2\x85 \xc2\xa0 nbsp",
		"\xef\xac\x81 ligature \xe2\x84\xa6 \xe2\x84\xaa \xe1\xbe\xbe",
		"<|endoftext|> is text here",
	};
	struct llamux_model *m = load_vocab("vocab-gpt2-4k");
	int32_t toks[1024];
	char out[4096];
	size_t i, len;
	int64_t n;

	if (!m)
		return;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		size_t tl = strlen(texts[i]);

		n = llamux_tokenize(m, texts[i], tl, false, false, toks, 1024);
		CHECK(n > 0 && n <= 1024, "round trip %zu: %lld tokens", i,
		      (long long)n);
		if (n <= 0 || n > 1024)
			continue;
		len = detok_all(m, toks, n, out, sizeof(out));
		CHECK(len == tl && !memcmp(out, texts[i], tl),
		      "round trip %zu: '%.*s' came back as '%.*s'", i, (int)tl,
		      texts[i], (int)len, out);
	}
	/* Invalid UTF-8 comes back as U+FFFD, as in llama.cpp. */
	n = llamux_tokenize(m, "\xff" "a\xc3", 3, false, false, toks, 1024);
	len = n > 0 ? detok_all(m, toks, n, out, sizeof(out)) : 0;
	CHECK(len == 7 && !memcmp(out, "\xef\xbf\xbd" "a\xef\xbf\xbd", 7),
	      "invalid UTF-8 came back as '%.*s'", (int)len, out);
	n = llamux_tokenize(m, "", 0, true, false, toks, 1024);
	CHECK(n == 0, "empty text: no BOS for this vocabulary, got %lld",
	      (long long)n);
	llamux_model_free(m);
}

/* llama.cpp's tokens for the phi2 and qwen2 reference prompts. */
static void check_reference_prompts(void)
{
	static const char *const cases[] = {
		"phi2-f16/once", "phi2-f16/code", "qwen2-f16/once",
		"qwen2-f16/code",
	};
	struct llamux_model *m = load_vocab("vocab-gpt2-4k");
	struct llamux_model_info info;
	size_t c, i;

	if (!m)
		return;
	llamux_model_get_info(m, &info);
	CHECK(!info.add_bos && info.bos == 4096 && info.eos == 4096,
	      "gpt2-4k: add_bos %d, BOS %d, EOS %d", info.add_bos, info.bos,
	      info.eos);
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char path[256], *prompt = NULL;
		unsigned char *json;
		int32_t toks[256];
		int *want = NULL;
		size_t n_want = 0, len;
		int64_t n;

		snprintf(path, sizeof(path), "../shared/reference/%s.json",
			 cases[c]);
		json = tl_read_file(path, &len);
		CHECK(json != NULL, "cannot read %s", path);
		if (!json)
			continue;
		json = realloc(json, len + 1);
		json[len] = '\0';
		CHECK(tl_json_string((char *)json, "prompt", &prompt) &&
		      tl_json_ints((char *)json, "prompt_tokens", &want,
				   &n_want), "%s: no prompt", path);
		if (prompt && want) {
			n = llamux_tokenize(m, prompt, strlen(prompt), true,
					    false, toks, 256);
			for (i = 0; n == (int64_t)n_want && i < n_want; i++)
				if (toks[i] != want[i])
					break;
			CHECK(n == (int64_t)n_want && i == n_want,
			      "%s: '%s' gives %lld tokens, not llama.cpp's %zu",
			      cases[c], prompt, (long long)n, n_want);
		}
		free(prompt);
		free(want);
		free(json);
	}
	llamux_model_free(m);
}

static int64_t tok(const struct llamux_model *m, const char *s, bool special,
		   int32_t *toks, size_t cap)
{
	return llamux_tokenize(m, s, strlen(s), false, special, toks, cap);
}

static bool has_token(const int32_t *toks, int64_t n, int32_t id)
{
	int64_t i;

	for (i = 0; i < n; i++)
		if (toks[i] == id)
			return true;
	return false;
}

/*
 * Control tokens in text only with parse_special; user-defined ones always
 * (llama.cpp's tokenizer_st_partition); pieces and end of generation.
 */
static void check_bpe_specials(void)
{
	struct llamux_model *m = load_vocab("ggml-vocab-gpt-2");
	int32_t a[64], b[64], t[64];
	int64_t na, nb, n;
	char piece[64];

	if (m) {
		n = tok(m, "<|endoftext|>", true, t, 64);
		CHECK(n == 1 && t[0] == 50256, "gpt-2: <|endoftext|> parsed");
		n = tok(m, "<|endoftext|>", false, t, 64);
		CHECK(n > 1 && !has_token(t, n, 50256),
		      "gpt-2: <|endoftext|> is text without parse_special");
		na = tok(m, "a", false, a, 64);
		nb = tok(m, " b<", false, b, 64);
		n = tok(m, "a<|endoftext|> b<", true, t, 64);
		CHECK(n == na + 1 + nb && !memcmp(t, a, na * 4) &&
		      t[na] == 50256 && !memcmp(t + na + 1, b, nb * 4),
		      "gpt-2: text around a special token");
		CHECK(llamux_token_to_piece(m, 50256, false, piece, 64) == 0 &&
		      llamux_token_to_piece(m, 50256, true, piece, 64) == 13 &&
		      !memcmp(piece, "<|endoftext|>", 13),
		      "gpt-2: a control token's piece only when special");
		n = tok(m, " Hello", false, t, 64);
		CHECK(n == 1 && llamux_token_to_piece(m, t[0], false, piece,
						      64) == 6 &&
		      !memcmp(piece, " Hello", 6), "gpt-2: ' Hello'");
		CHECK(llamux_token_is_eog(m, 50256) &&
		      !llamux_token_is_eog(m, 0), "gpt-2: EOG");
		llamux_model_free(m);
	}

	m = load_vocab("ggml-vocab-deepseek-coder");
	if (m) {
		/* "\xc3\xb5" is a user-defined token (32000): split out of
		 * the text even without parse_special.
		 */
		n = tok(m, "a\xc3\xb5" "b", false, t, 64);
		CHECK(n == 3 && t[1] == 32000, "deepseek-coder: user-defined "
		      "token in text (%lld tokens)", (long long)n);
		CHECK(llamux_token_to_piece(m, 32000, false, piece, 64) == 2 &&
		      !memcmp(piece, "\xc3\xb5", 2),
		      "deepseek-coder: a user-defined token's piece");
		/* <｜fim▁begin｜> is user-defined in the file; llama.cpp makes
		 * it control, and so text without parse_special.
		 */
		n = tok(m, "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>",
			false, t, 64);
		CHECK(n > 1 && !has_token(t, n, 32016),
		      "deepseek-coder: FIM token is control");
		n = tok(m, "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>",
			true, t, 64);
		CHECK(n == 1 && t[0] == 32016, "deepseek-coder: FIM parsed");
		CHECK(llamux_token_is_eog(m, 32014) &&
		      !llamux_token_is_eog(m, 32013),
		      "deepseek-coder: EOS ends generation, BOS not");
		n = llamux_tokenize(m, "x", 1, true, false, t, 64);
		CHECK(n == 2 && t[0] == 32013, "deepseek-coder adds BOS");
		llamux_model_free(m);
	}

	m = load_vocab("ggml-vocab-falcon");
	if (m) {
		n = tok(m, ">>TITLE<<", true, t, 64);
		CHECK(n == 1 && t[0] == 0, "falcon: >>TITLE<< parsed");
		n = tok(m, ">>TITLE<<", false, t, 64);
		CHECK(n > 1, "falcon: >>TITLE<< is text without parse_special");
		llamux_model_free(m);
	}

	m = load_vocab("ggml-vocab-starcoder");
	if (m) {
		/* The longer token wins where two start together. */
		n = tok(m, "<pr_status><pr>", true, t, 64);
		CHECK(n == 2 && t[0] == 19 && t[1] == 18,
		      "starcoder: <pr_status><pr>");
		CHECK(llamux_token_is_eog(m, 0), "starcoder: EOG");
		llamux_model_free(m);
	}
}

/*
 * Each pre-tokenizer's words. Expected: llama.cpp's patterns applied one
 * after another with the Python regex module (non-ASCII whitespace as \v,
 * as llama.cpp feeds std::regex); "|" separates the words.
 */
static void check_pretokenizers(void)
{
	static const char *const texts[] = {
		"Hello world, I'M here 12345 times!\n\n  \tok  ",
		"\xc3\x9cn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9  \xd9\xa1\xd9\xa2"
		"\xd9\xa3\xd9\xa4 \xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97\xe7\xac"
		"\xa6\xef\xbc\x8c\xe3\x80\x80\xe5\x85\xa8\xe8\xa7\x92\xef\xbc"
		"\x81 x'S \xe2\x84\xa6\xe1\xbe\xbe",
		"a\r\n\r\n b  \xc2\xa0" "c$+<=>^~`3.14 \xf0\x9f\xa6\x99\xe2"
		"\x80\x8d",
	};
	static const struct {
		enum lx_bpe_pre pre;
		int text;
		const char *words;
	} cases[] = {
		{ LX_PRE_DEFAULT, 0,
		  "Hello| world|,| I|'|M| here| |123|45| times|!|\n\n  |"
		  "\t|ok|  " },
		{ LX_PRE_DEFAULT, 1,
		  "\xc3\x9cn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9| | |\xd9"
		  "\xa1\xd9\xa2\xd9\xa3\xd9\xa4| \xe4\xb8\xad\xe6\x96"
		  "\x87\xe5\xad\x97\xe7\xac\xa6|\xef\xbc\x8c|\xe3\x80"
		  "\x80|\xe5\x85\xa8\xe8\xa7\x92|\xef\xbc\x81| x|'|S| "
		  "\xe2\x84\xa6\xe1\xbe\xbe" },
		{ LX_PRE_DEFAULT, 2,
		  "a|\r\n\r\n| b|  |\xc2\xa0|c|$+<=>^~|`|3|.|14| \xf0"
		  "\x9f\xa6\x99\xe2\x80\x8d" },
		{ LX_PRE_GPT2, 0,
		  "Hello| world|,| I|'|M| here| 12345| times|!|\n\n  |\t"
		  "|ok|  " },
		{ LX_PRE_GPT2, 1,
		  "\xc3\x9cn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9| | \xd9\xa1"
		  "\xd9\xa2\xd9\xa3\xd9\xa4| \xe4\xb8\xad\xe6\x96\x87"
		  "\xe5\xad\x97\xe7\xac\xa6|\xef\xbc\x8c|\xe3\x80\x80|"
		  "\xe5\x85\xa8\xe8\xa7\x92|\xef\xbc\x81| x|'|S| \xe2"
		  "\x84\xa6\xe1\xbe\xbe" },
		{ LX_PRE_GPT2, 2,
		  "a|\r\n\r\n| b|  |\xc2\xa0|c|$+<=>^~`|3|.|14| \xf0\x9f"
		  "\xa6\x99\xe2\x80\x8d" },
		{ LX_PRE_LLAMA3, 0,
		  "Hello| world|,| I|'M| here| |123|45| times|!\n\n|  |"
		  "\tok|  " },
		{ LX_PRE_LLAMA3, 1,
		  "\xc3\x9cn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9| | |\xd9"
		  "\xa1\xd9\xa2\xd9\xa3|\xd9\xa4| \xe4\xb8\xad\xe6\x96"
		  "\x87\xe5\xad\x97\xe7\xac\xa6|\xef\xbc\x8c|\xe3\x80"
		  "\x80\xe5\x85\xa8\xe8\xa7\x92|\xef\xbc\x81| x|'S| \xe2"
		  "\x84\xa6\xe1\xbe\xbe" },
		{ LX_PRE_LLAMA3, 2,
		  "a|\r\n\r\n| b|  |\xc2\xa0" "c|$+<=>^~`|3|.|14| \xf0"
		  "\x9f\xa6\x99\xe2\x80\x8d" },
		{ LX_PRE_QWEN2, 0,
		  "Hello| world|,| I|'M| here| |1|2|3|4|5| times|!\n\n| "
		  " |\tok|  " },
		{ LX_PRE_QWEN2, 1,
		  "\xc3\x9cn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9| | |\xd9"
		  "\xa1|\xd9\xa2|\xd9\xa3|\xd9\xa4| \xe4\xb8\xad\xe6\x96"
		  "\x87\xe5\xad\x97\xe7\xac\xa6|\xef\xbc\x8c|\xe3\x80"
		  "\x80\xe5\x85\xa8\xe8\xa7\x92|\xef\xbc\x81| x|'S| \xe2"
		  "\x84\xa6\xe1\xbe\xbe" },
		{ LX_PRE_QWEN2, 2,
		  "a|\r\n\r\n| b|  |\xc2\xa0" "c|$+<=>^~`|3|.|1|4| \xf0"
		  "\x9f\xa6\x99\xe2\x80\x8d" },
		{ LX_PRE_STARCODER, 0,
		  "Hello| world|,| I|'|M| here| |1|2|3|4|5| times|!|\n\n"
		  "  |\t|ok|  " },
		{ LX_PRE_STARCODER, 1,
		  "\xc3\x9cn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9|  |\xd9\xa1"
		  "|\xd9\xa2|\xd9\xa3|\xd9\xa4| \xe4\xb8\xad\xe6\x96\x87"
		  "\xe5\xad\x97\xe7\xac\xa6|\xef\xbc\x8c|\xe3\x80\x80|"
		  "\xe5\x85\xa8\xe8\xa7\x92|\xef\xbc\x81| x|'|S| \xe2"
		  "\x84\xa6\xe1\xbe\xbe" },
		{ LX_PRE_STARCODER, 2,
		  "a|\r\n\r\n| b|  |\xc2\xa0|c|$+<=>^~`|3|.|1|4| \xf0"
		  "\x9f\xa6\x99\xe2\x80\x8d" },
		{ LX_PRE_FALCON, 0,
		  "Hello| world|,| I|'|M| here| |123|45| times|!|\n\n  |"
		  "\t|ok|  " },
		{ LX_PRE_FALCON, 1,
		  "\xc3\x9cn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9| | \xd9\xa1"
		  "\xd9\xa2\xd9\xa3\xd9\xa4| \xe4\xb8\xad\xe6\x96\x87"
		  "\xe5\xad\x97\xe7\xac\xa6|\xef\xbc\x8c|\xe3\x80\x80|"
		  "\xe5\x85\xa8\xe8\xa7\x92|\xef\xbc\x81| x|'|S| \xe2"
		  "\x84\xa6\xe1\xbe\xbe" },
		{ LX_PRE_FALCON, 2,
		  "a|\r\n\r\n| b|  |\xc2\xa0|c|$+<=>^~`|3|.|14| \xf0\x9f"
		  "\xa6\x99\xe2\x80\x8d" },
		{ LX_PRE_DEEPSEEK_CODER, 0,
		  "Hello| world|,| I|'|M| here| |1|2|3|4|5| times|!|\n|"
		  "\n|  |\tok|  " },
		{ LX_PRE_DEEPSEEK_CODER, 1,
		  "\xc3\x9cn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9|  |\xd9\xa1"
		  "|\xd9\xa2|\xd9\xa3|\xd9\xa4| |\xe4\xb8\xad\xe6\x96"
		  "\x87\xe5\xad\x97\xe7\xac\xa6|\xef\xbc\x8c|\xe3\x80"
		  "\x80|\xe5\x85\xa8\xe8\xa7\x92|\xef\xbc\x81| x|'|S| |"
		  "\xe2\x84\xa6\xe1\xbe\xbe" },
		{ LX_PRE_DEEPSEEK_CODER, 2,
		  "a|\r|\n|\r|\n| b|  |\xc2\xa0" "c|$+<=>^~`|3|.|1|4| "
		  "\xf0\x9f\xa6\x99|\xe2\x80\x8d" },
		{ LX_PRE_DEEPSEEK_LLM, 0,
		  "Hello| world|,| I|'|M| here| |12345| times|!|\n|\n|  "
		  "|\tok|  " },
		{ LX_PRE_DEEPSEEK_LLM, 1,
		  "\xc3\x9c|n|\xc3\xaf|c|\xc3\xb6|d|\xc3\xa9|  |\xd9\xa1"
		  "\xd9\xa2\xd9\xa3\xd9\xa4| |\xe4\xb8\xad\xe6\x96\x87"
		  "\xe5\xad\x97\xe7\xac\xa6|\xef\xbc\x8c|\xe3\x80\x80|"
		  "\xe5\x85\xa8\xe8\xa7\x92|\xef\xbc\x81| x|'|S| |\xe2"
		  "\x84\xa6\xe1\xbe\xbe" },
		{ LX_PRE_DEEPSEEK_LLM, 2,
		  "a|\r|\n|\r|\n| b|  |\xc2\xa0" "c|$+<=>^~`|3|.|14| "
		  "\xf0\x9f\xa6\x99|\xe2\x80\x8d" },
	};
	size_t c, ends[64];

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const char *t = texts[cases[c].text];
		char got[512];
		size_t len = 0, prev = 0, i;
		struct lx_err err;
		int64_t n = lx_bpe_pretokenize(cases[c].pre, t, strlen(t), ends,
					       64, &err);

		for (i = 0; n > 0 && i < (size_t)n && i < 64; i++) {
			len += (size_t)snprintf(got + len, sizeof(got) - len,
						"%s%.*s", i ? "|" : "",
						(int)(ends[i] - prev), t + prev);
			prev = ends[i];
		}
		got[len] = '\0';
		CHECK(!strcmp(got, cases[c].words),
		      "pre-tokenizer %d, text %d:\n  want %s\n  got  %s",
		      (int)cases[c].pre, cases[c].text, cases[c].words, got);
	}
}

/* A copy of a GGUF file with tokenizer.ggml.pre set to pre (NULL: none). */
static unsigned char *with_pre(const unsigned char *f, size_t n,
			       const char *pre, size_t *out_n)
{
	static const char key[] = "tokenizer.ggml.pre";
	size_t k, v, old_len, new_len = pre ? strlen(pre) : 0;
	unsigned char *o;
	uint64_t l;

	for (k = 0; k + sizeof(key) - 1 <= n; k++)
		if (!memcmp(f + k, key, sizeof(key) - 1))
			break;
	if (k + sizeof(key) - 1 > n)
		return NULL;
	v = k + sizeof(key) - 1 + 4;	/* past the key and its type */
	memcpy(&l, f + v, 8);
	old_len = (size_t)l;
	o = calloc(1, n + new_len + 64);
	memcpy(o, f, n);
	if (!pre) {
		o[k + sizeof(key) - 2] = 'X';	/* renamed: no such key */
		*out_n = n;
		return o;
	}
	l = new_len;
	memcpy(o + v, &l, 8);
	memcpy(o + v + 8, pre, new_len);
	memcpy(o + v + 8 + new_len, f + v + 8 + old_len, n - v - 8 - old_len);
	/* Zero padding keeps the (empty) data section inside the file. */
	*out_n = n - old_len + new_len + 64;
	return o;
}

static struct llamux_model *load_with_pre(const unsigned char *f, size_t n,
					  const char *pre, unsigned char **buf,
					  char *err)
{
	size_t bn = 0;

	*buf = with_pre(f, n, pre, &bn);
	if (!*buf)
		return NULL;
	return llamux_model_load_memory(*buf, bn, LLAMUX_LOAD_VOCAB_ONLY, err);
}

/* tokenizer.ggml.pre: known names load, unknown ones are refused. */
static void check_pre_names(void)
{
	static const char *const names[] = {
		"default", "gpt-2", "phi-2", "llama3", "llama-bpe", "qwen2",
		"starcoder", "refact", "smollm", "falcon", "deepseek-coder",
		"deepseek-llm",
	};
	static const char text[] = "Hello, world! It's 12345 o'clock.";
	char err[LLAMUX_ERR_MAX] = "", out[256];
	unsigned char *f, *buf;
	struct llamux_model *m;
	int32_t toks[64];
	size_t n, i, len;
	int64_t k;

	f = tl_read_file(VOCAB_DIR "vocab-gpt2-4k.gguf", &n);
	CHECK(f != NULL, "cannot read vocab-gpt2-4k.gguf");
	if (!f)
		return;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		m = load_with_pre(f, n, names[i], &buf, err);
		CHECK(m != NULL, "pre '%s': %s", names[i], err);
		if (m) {
			k = llamux_tokenize(m, text, strlen(text), true, false,
					    toks, 64);
			len = k > 0 ? detok_all(m, toks, k, out, sizeof(out)) : 0;
			/* Llama 3's pre-tokenizer also turns BOS on. */
			CHECK(k > 0 && (toks[0] == 4096) == (i == 3 || i == 4),
			      "pre '%s': BOS", names[i]);
			CHECK(len == strlen(text) && !memcmp(out, text, len),
			      "pre '%s': round trip '%.*s'", names[i], (int)len,
			      out);
			llamux_model_free(m);
		}
		free(buf);
	}
	m = load_with_pre(f, n, "gpt-5", &buf, err);
	CHECK(!m && strstr(err, "pre-tokenizer 'gpt-5'") &&
	      strstr(err, "supported: default, gpt-2"),
	      "unknown pre refused: '%s'", err);
	llamux_model_free(m);
	free(buf);
	/* No tokenizer.ggml.pre: llama.cpp's 'default' (with a warning). */
	m = load_with_pre(f, n, NULL, &buf, err);
	CHECK(m != NULL, "missing pre: %s", err);
	if (m) {
		const struct lx_vocab *v = &m->vocab;

		CHECK(v->pre == LX_PRE_DEFAULT, "missing pre is 'default'");
		llamux_model_free(m);
	}
	free(buf);
	free(f);
}

/* GPT-2's bytes_to_unicode is a bijection onto 256 characters. */
static void check_byte_chars(void)
{
	int seen[256] = { 0 }, n = 0;
	uint32_t c;

	for (c = 0; c < 0x400; c++) {
		int b = lx_bpe_char_to_byte(c);

		if (b >= 0) {
			CHECK(b < 256 && !seen[b], "U+%04X -> byte %d", c, b);
			if (b < 256)
				seen[b] = 1;
			n++;
		}
	}
	CHECK(n == 256, "%d characters stand for bytes", n);
	CHECK(lx_bpe_char_to_byte(0x120) == ' ' &&
	      lx_bpe_char_to_byte(0x10A) == '\n' &&
	      lx_bpe_char_to_byte('A') == 'A', "G-dot is space, C-dot newline");
}

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

/* CPU time: other tests running beside this one do not count. */
static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* 1 MB of English-like text well under a second; no quadratic inputs. */
static void check_speed(void)
{
	static const char *const words[] = {
		"the", "of", "and", "to", "in", "a", "is", "that", "for", "it",
		"as", "was", "with", "be", "by", "on", "not", "he", "this",
		"are", "or", "his", "from", "at", "which", "but", "have",
		"an", "had", "they", "you", "were", "their", "one", "all",
		"we", "can", "her", "has", "there", "been", "if", "more",
		"when", "will", "would", "who", "so", "no", "government",
		"tokenizer", "language", "information", "development",
		"understanding", "kernel", "Linux", "memory", "however",
		"1984", "don't", "it's", "(see", "page", "12)", "U.S.",
	};
	struct llamux_model *m = load_vocab("ggml-vocab-gpt-2");
	size_t cap = 1 << 20, len = 0, i;
	char *text = malloc(cap);
	int32_t *toks = malloc(cap * sizeof(*toks));
	uint32_t r = 12345;
	double t0, dt, limit = 1.0;
	int64_t n;

#ifdef SANITIZED
	limit = 20.0;	/* ASan+UBSan: correctness only */
#endif
	if (!m)
		goto out;
	while (len < cap - 32) {
		const char *w;

		r = r * 1103515245u + 12345u;
		w = words[(r >> 16) % (sizeof(words) / sizeof(words[0]))];
		len += (size_t)snprintf(text + len, cap - len, "%s%s", w,
					(r >> 8) % 13 == 0 ? ".\n" :
					(r >> 8) % 7 == 0 ? ", " : " ");
	}
	t0 = seconds();
	n = llamux_tokenize(m, text, len, false, false, toks, cap);
	dt = seconds() - t0;
	printf("gpt-2: %zu bytes of English in %.3f s CPU (%.1f MB/s, %lld tokens)\n",
	       len, dt, len / dt / 1e6, (long long)n);
	CHECK(n > 0 && dt < limit, "1 MB took %.3f s", dt);

	/* One 256 KB word, then 256 KB of spaces: linear, not quadratic. */
	for (i = 0; i < (1u << 18); i++)
		text[i] = (char)('a' + (i * 7 + i / 3) % 26);
	t0 = seconds();
	n = llamux_tokenize(m, text, 1u << 18, false, false, toks, cap);
	dt = seconds() - t0;
	CHECK(n > 0 && dt < limit, "a 256 KB word took %.3f s", dt);
	memset(text, ' ', 1u << 18);
	t0 = seconds();
	n = llamux_tokenize(m, text, 1u << 18, false, false, toks, cap);
	dt = seconds() - t0;
	CHECK(n > 0 && dt < limit, "256 KB of spaces took %.3f s", dt);
	llamux_model_free(m);
out:
	free(text);
	free(toks);
}

int main(void)
{
	check_vectors("ggml-vocab-llama-spm");
	check_vectors("ggml-vocab-gpt-2");
	check_vectors("ggml-vocab-starcoder");
	check_vectors("ggml-vocab-deepseek-coder");
	check_vectors("ggml-vocab-falcon");
	check_bos_and_detok();
	check_bpe_round_trip();
	check_reference_prompts();
	check_bpe_specials();
	check_pretokenizers();
	check_pre_names();
	check_byte_chars();
	check_speed();
	return tl_finish("test_tokenizer");
}
