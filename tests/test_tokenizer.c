// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Tokenizer against llama.cpp's test vectors: every string of
 * ../shared/vocab/ggml-vocab-llama-spm.gguf.inp must tokenize (no BOS, special
 * tokens not parsed) to its line in the .out file. Also: BOS handling, the
 * streaming detokenizer never splitting a UTF-8 character, and round trips.
 */
#include <string.h>

#include "llamux/llamux.h"
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

int main(void)
{
	check_vectors("ggml-vocab-llama-spm");
	check_bos_and_detok();
	return tl_finish("test_tokenizer");
}
