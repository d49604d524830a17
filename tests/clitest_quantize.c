// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * `llamux quantize` and `llamux mkmodel` through the program (argv[1]):
 * quantized files load in `llamux info` and `llamux eval` (Q4_K_M gives the
 * logits of llama.cpp's own Q4_K_M file, being the same bytes),
 * requantizing works, mkmodel output runs with `llamux run`, and failures
 * exit 2 (usage) or 1 (runtime) with one line that says what to do,
 * leaving no file behind.
 */
#include <dirent.h>
#include <string.h>
#include <unistd.h>

#include "gguf_writer.h"
#include "testlib.h"

#define MODELS "../shared/models/"
#define F32_MODEL MODELS "tiny-f32.gguf"
#define SPM_VOCAB "../shared/vocab/ggml-vocab-llama-spm.gguf"

static const char *bin;
static char dir[64];

static const char *tmp(const char *name)
{
	static char path[8][256];
	static int k;

	k = (k + 1) % 8;
	snprintf(path[k], sizeof(path[k]), "%s/%s", dir, name);
	return path[k];
}

static int lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/*
 * Runs llamux with args; checks the exit code, that stderr (or stdout when
 * code is 0) contains want, and for failures that stderr has at most
 * max_lines lines. Returns stdout (caller frees).
 */
static char *expect(int code, const char *want, int max_lines,
		    const char *const *args)
{
	char *argv[32] = { (char *)bin };
	char *out = NULL, *err = NULL, desc[512] = "llamux";
	int i, rc;

	for (i = 0; args[i]; i++) {
		argv[i + 1] = (char *)args[i];
		strncat(desc, " ", sizeof(desc) - strlen(desc) - 1);
		strncat(desc, args[i], sizeof(desc) - strlen(desc) - 1);
	}
	rc = tl_run(argv, &out, NULL, &err);
	CHECK(rc == code, "%s: exit %d, expected %d (stderr: %s)", desc, rc,
	      code, err);
	if (want)
		CHECK(strstr(code ? err : out, want), "%s: output lacks '%s': %s%s",
		      desc, want, out, err);
	if (code)
		CHECK(lines(err) <= max_lines,
		      "%s: %d lines on stderr, expected at most %d: %s", desc,
		      lines(err), max_lines, err);
	free(err);
	return out;
}

static bool same_file(const char *a, const char *b)
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

static int leftovers(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += strstr(e->d_name, ".tmp-") != NULL;
	if (d)
		closedir(d);
	return n;
}

/* A small GGUF whose 2-D weight is IQ4_NL, which llamux cannot read. */
static void write_iq4nl_model(const char *path)
{
	static const uint8_t zeros[18 * 8 * 2];
	struct lt_gguf_writer *w = lt_gguf_writer_new();
	const uint64_t ne[2] = { 256, 2 }, ne1[1] = { 256 };
	char err[LLAMUX_ERR_MAX] = "";
	static float ones[256];
	bool ok;
	int i;

	for (i = 0; i < 256; i++)
		ones[i] = 1.0f;
	ok = w && lt_gguf_set_str(w, "general.architecture", "llama") &&
	     lt_gguf_add_tensor(w, "blk.0.attn_q.weight", 19, 2, ne, 20, err) &&
	     lt_gguf_add_tensor(w, "blk.0.attn_norm.weight", 22, 1, ne1,
				LX_TYPE_F32, err) &&
	     lt_gguf_open(w, path, err) &&
	     lt_gguf_write(w, zeros, sizeof(zeros), err) &&
	     lt_gguf_write(w, ones, sizeof(ones), err) &&
	     lt_gguf_commit(w, err);
	CHECK(ok, "writing the IQ4_NL model: %s", err);
	lt_gguf_writer_free(w);
}

static void test_quantize(void)
{
	char *out;

	/* Q4_K_M: info and eval work, and eval equals llama.cpp's file's */
	out = expect(0, "wrote", 0,
		     ARGS("quantize", F32_MODEL, tmp("m.gguf"), "Q4_K_M"));
	CHECK(out && strstr(out, "Q4_K_M") && strstr(out, "21 tensors"),
	      "summary: %s", out);
	free(out);
	CHECK(same_file(tmp("m.gguf"), MODELS "tiny-q4_k_m.gguf"),
	      "Q4_K_M file differs from llama-quantize's");
	out = expect(0, "Q6_K", 0, ARGS("info", tmp("m.gguf")));
	CHECK(out && strstr(out, "general.file_type") &&
	      strstr(out, "blk.1.ffn_down.weight") && strstr(out, "Q4_K"),
	      "info: %s", out);
	free(out);
	free(expect(0, NULL, 0, ARGS("eval", "-m", tmp("m.gguf"), "--tokens",
				     "1,403,407,157", "-o", tmp("a.f32"))));
	free(expect(0, NULL, 0, ARGS("eval", "-m", MODELS "tiny-q4_k_m.gguf",
				     "--tokens", "1,403,407,157", "-o",
				     tmp("b.f32"))));
	CHECK(same_file(tmp("a.f32"), tmp("b.f32")),
	      "eval logits differ from llama.cpp's Q4_K_M file's");

	/* every type loads and evaluates (pure, so every matrix is that type) */
	{
		static const char *const types[] = {
			"f32", "bf16", "q8_0", "q4_1", "q5_0", "q5_1", "q2_k",
			"q3_k_l", "q5_k_m", "q6_k",
		};
		size_t i;

		for (i = 0; i < LX_ARRAY_SIZE(types); i++) {
			free(expect(0, "wrote", 0,
				    ARGS("quantize", "--pure", F32_MODEL,
					 tmp("t.gguf"), types[i])));
			free(expect(0, NULL, 0,
				    ARGS("eval", "-m", tmp("t.gguf"), "--tokens",
					 "1,403", "-o", tmp("a.f32"))));
		}
	}

	/* requantizing a quantized model, with a note on stderr */
	out = expect(0, "wrote", 0,
		     ARGS("quantize", MODELS "tiny-q8_0.gguf", tmp("r.gguf"),
			  "q4_0", "-t", "1"));
	free(out);
	free(expect(0, "Q4_0", 0, ARGS("info", tmp("r.gguf"))));
	free(expect(0, NULL, 0, ARGS("run", "-m", tmp("r.gguf"), "-p", "Once",
				     "-n", "4", "--temp", "0")));

	/* errors */
	free(expect(2, "unknown type 'Q9_9'", 2,
		    ARGS("quantize", F32_MODEL, tmp("e.gguf"), "Q9_9")));
	free(expect(2, "llamux cannot compute", 2,
		    ARGS("quantize", F32_MODEL, tmp("e.gguf"), "IQ2_XXS")));
	free(expect(2, "missing TYPE", 2,
		    ARGS("quantize", F32_MODEL, tmp("e.gguf"))));
	free(expect(2, "missing IN.gguf", 2, ARGS("quantize")));
	free(expect(2, "unknown option '--bogus'", 2,
		    ARGS("quantize", "--bogus", F32_MODEL, tmp("e.gguf"), "q4_0")));
	free(expect(2, "unexpected argument", 2,
		    ARGS("quantize", F32_MODEL, tmp("e.gguf"), "q4_0", "x")));
	free(expect(1, "cannot open it: No such file or directory", 1,
		    ARGS("quantize", MODELS "missing.gguf", tmp("e.gguf"),
			 "q4_0")));
	free(expect(1, "not a GGUF file", 1,
		    ARGS("quantize", "README.md", tmp("e.gguf"), "q4_0")));
	free(expect(1, "no tensors", 1,
		    ARGS("quantize", SPM_VOCAB, tmp("e.gguf"), "q4_0")));
	write_iq4nl_model(tmp("iq.gguf"));
	free(expect(1, "is IQ4_NL, which llamux cannot read", 1,
		    ARGS("quantize", tmp("iq.gguf"), tmp("e.gguf"), "q8_0")));
	free(expect(1, "writable directory", 1,
		    ARGS("quantize", F32_MODEL, "/nonexistent/e.gguf", "q4_0")));
	CHECK(access(tmp("e.gguf"), F_OK) && !leftovers(),
	      "a failed quantize left a file behind");
	out = expect(0, "usage: llamux quantize IN.gguf OUT.gguf TYPE", 0,
		     ARGS("help", "quantize"));
	CHECK(out && strstr(out, "--pure") && strstr(out, "Q4_K_M"),
	      "help: %s", out);
	free(out);
}

static void test_mkmodel(void)
{
	char *out;

	out = expect(0, "wrote", 0,
		     ARGS("mkmodel", "--shape", "test-tiny", "--type", "Q4_K_M",
			  "--vocab-from", SPM_VOCAB, "--seed", "3", "-o",
			  tmp("mk.gguf")));
	CHECK(out && strstr(out, "32000 tokens"), "mkmodel: %s", out);
	free(out);
	out = expect(0, "tokenizer:        llama, 32000 tokens", 0,
		     ARGS("info", tmp("mk.gguf")));
	CHECK(out && strstr(out, "layers:           2") &&
	      strstr(out, "llama.rope.dimension_count") && strstr(out, "Q6_K"),
	      "mkmodel info: %s", out);
	free(out);
	free(expect(0, "Once upon a time", 0,
		    ARGS("run", "-m", tmp("mk.gguf"), "-p", "Once upon a time",
			 "-n", "8", "--temp", "0")));
	free(expect(0, NULL, 0,
		    ARGS("mkmodel", "--shape", "test-tiny", "--vocab-from",
			 MODELS "stories260K.gguf", "--pure", "--type", "q2_k",
			 "-t", "1", "-o", tmp("mk2.gguf"))));
	free(expect(0, NULL, 0, ARGS("run", "-m", tmp("mk2.gguf"), "-p", "Hi",
				     "-n", "4")));
	/* quantizing a generated model */
	free(expect(0, "wrote", 0,
		    ARGS("quantize", tmp("mk.gguf"), tmp("mk3.gguf"), "q5_0")));

	free(expect(2, "unknown shape 'llama-9b'", 2,
		    ARGS("mkmodel", "--shape", "llama-9b", "--vocab-from",
			 SPM_VOCAB, "-o", tmp("e.gguf"))));
	free(expect(2, "missing --shape", 2,
		    ARGS("mkmodel", "--vocab-from", SPM_VOCAB, "-o",
			 tmp("e.gguf"))));
	free(expect(2, "missing -o OUT.gguf", 2,
		    ARGS("mkmodel", "--shape", "test-tiny", "--vocab-from",
			 SPM_VOCAB)));
	free(expect(2, "missing --vocab-from", 2,
		    ARGS("mkmodel", "--shape", "test-tiny", "-o", tmp("e.gguf"))));
	free(expect(2, "unknown type 'q7'", 2,
		    ARGS("mkmodel", "--shape", "test-tiny", "--type", "q7",
			 "--vocab-from", SPM_VOCAB, "-o", tmp("e.gguf"))));
	free(expect(2, "--seed expects a non-negative whole number", 2,
		    ARGS("mkmodel", "--shape", "test-tiny", "--seed", "x",
			 "--vocab-from", SPM_VOCAB, "-o", tmp("e.gguf"))));
	free(expect(1, "has 512 tokens but tinyllama-1.1b needs 32000", 1,
		    ARGS("mkmodel", "--shape", "tinyllama-1.1b", "--vocab-from",
			 MODELS "stories260K.gguf", "-o", tmp("e.gguf"))));
	free(expect(1, "cannot open it", 1,
		    ARGS("mkmodel", "--shape", "test-tiny", "--vocab-from",
			 "/nonexistent.gguf", "-o", tmp("e.gguf"))));
	CHECK(access(tmp("e.gguf"), F_OK) && !leftovers(),
	      "a failed mkmodel left a file behind");
	out = expect(0, "--vocab-from", 0, ARGS("mkmodel", "--help"));
	CHECK(out && strstr(out, "tinyllama-1.1b"), "help: %s", out);
	free(out);
}

int main(int argc, char **argv)
{
	static const char *const files[] = {
		"m.gguf", "t.gguf", "r.gguf", "iq.gguf", "a.f32", "b.f32",
		"mk.gguf", "mk2.gguf", "mk3.gguf",
	};
	size_t i;

	if (argc < 2)
		return 2;
	bin = argv[1];
	snprintf(dir, sizeof(dir), "/tmp/llamux-clitest-quantize-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_quantize();
	test_mkmodel();
	for (i = 0; i < LX_ARRAY_SIZE(files); i++)
		unlink(tmp(files[i]));
	rmdir(dir);
	return tl_finish("clitest_quantize");
}
