// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The llamux program's contracts around failure: usage errors exit 2 with a
 * one-line reason plus the usage line; runtime errors exit 1 with one line
 * saying what is wrong; help goes to stdout with exit 0. Also --no-bos and
 * `info` on real files.
 */
#include <string.h>

#include "testlib.h"

#define STORIES "../shared/models/stories260K.gguf"
#define VOCAB "../shared/vocab/ggml-vocab-llama-spm.gguf"

static const char *bin;

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Runs llamux with args; checks exit code and that stderr contains want. */
static void expect(int code, const char *want, int max_err_lines,
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
	CHECK(rc == code, "%s: exit %d, expected %d (stderr: %s)", desc, rc, code,
	      err);
	CHECK(strstr(err, want) != NULL, "%s: stderr lacks '%s': %s", desc, want,
	      err);
	CHECK(max_err_lines == 0 || lines(err) <= max_err_lines,
	      "%s: %d lines on stderr, expected at most %d: %s", desc, lines(err),
	      max_err_lines, err);
	free(out);
	free(err);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

int main(int argc, char **argv)
{
	char *out = NULL, *err = NULL, *out2 = NULL;
	char long_prompt[2048] = "";
	int i;

	if (argc < 2)
		return 2;
	bin = argv[1];

	expect(2, "usage: llamux run", 2, ARGS("run", "-p", "x"));
	expect(2, "missing -m MODEL", 2, ARGS("run", "-p", "x"));
	expect(2, "missing -p PROMPT", 2, ARGS("run", "-m", STORIES));
	expect(2, "unknown option '--bogus'", 2, ARGS("run", "--bogus"));
	expect(2, "--no-mmap applies to a model run in-process, not in the kernel", 2,
	       ARGS("run", "-m", STORIES, "-p", "x", "--no-mmap", "--backend",
		    "kernel"));
	expect(1, "model '/nonexistent/m.gguf': cannot open it: No such file", 1,
	       ARGS("run", "-m", "/nonexistent/m.gguf", "-p", "x", "--no-mmap"));
	expect(2, "-n expects a whole number, got 'abc'", 2,
	       ARGS("run", "-m", STORIES, "-p", "x", "-n", "abc"));
	expect(2, "--top-p must be between 0 and 1", 2,
	       ARGS("run", "-m", STORIES, "-p", "x", "--top-p", "2"));
	expect(2, "-m needs a value", 2, ARGS("run", "-p", "x", "-m"));
	expect(2, "unknown command 'frobnicate'", 1, ARGS("frobnicate"));
	expect(1, "cannot open it: No such file or directory", 1,
	       ARGS("run", "-m", "/nonexistent/model.gguf", "-p", "x"));
	expect(1, "not a GGUF file", 1, ARGS("run", "-m", "README.md", "-p", "x"));
	expect(1, "vocabulary-only GGUF", 1, ARGS("run", "-m", VOCAB, "-p", "x"));
	expect(1, "outside the vocabulary", 1,
	       ARGS("eval", "-m", STORIES, "--tokens", "1,99999", "-o",
		    "/dev/null"));
	expect(2, "--tokens expects ids like 1,2,3", 2,
	       ARGS("eval", "-m", STORIES, "--tokens", "1,x", "-o", "/dev/null"));
	for (i = 0; i < 40; i++)
		strcat(long_prompt, "Once upon a time ");
	expect(1, "but the context holds 16", 1,
	       ARGS("run", "-m", STORIES, "-p", long_prompt, "-c", "16"));

	/* Help: stdout, exit 0. */
	{
		char *h[] = { (char *)bin, "help", "run", NULL };
		char *h2[] = { (char *)bin, "tokenize", "--help", NULL };

		CHECK(tl_run(h, &out, NULL, NULL) == 0 &&
		      strstr(out, "usage: llamux run -m MODEL -p PROMPT") &&
		      strstr(out, "--repeat-penalty"), "help run: %s", out);
		free(out);
		CHECK(tl_run(h2, &out, NULL, NULL) == 0 &&
		      strstr(out, "--no-bos"), "tokenize --help: %s", out);
		free(out);
	}

	/* --no-bos drops exactly the leading BOS. */
	{
		char *a[] = { (char *)bin, "tokenize", "-m", VOCAB, "-p",
			      "Hello world", NULL };
		char *b[] = { (char *)bin, "tokenize", "-m", VOCAB, "-p",
			      "Hello world", "--no-bos", NULL };

		CHECK(tl_run(a, &out, NULL, NULL) == 0, "tokenize");
		CHECK(tl_run(b, &out2, NULL, NULL) == 0, "tokenize --no-bos");
		CHECK(!strcmp(out, "1 15043 3186\n") &&
		      !strcmp(out2, "15043 3186\n"), "got '%s' and '%s'", out,
		      out2);
		free(out);
		free(out2);
	}

	/* info on a model and on a vocabulary-only file. */
	{
		char *a[] = { (char *)bin, "info", STORIES, NULL };
		char *b[] = { (char *)bin, "info", VOCAB, NULL };

		CHECK(tl_run(a, &out, NULL, &err) == 0 &&
		      strstr(out, "architecture:     llama") &&
		      strstr(out, "layers:           5") &&
		      strstr(out, "tensors (48)") &&
		      strstr(out, "blk.0.attn_q.weight"), "info: %s %s", out, err);
		free(out);
		free(err);
		CHECK(tl_run(b, &out, NULL, &err) == 0 &&
		      strstr(out, "32000 tokens") &&
		      strstr(out, "not runnable:") &&
		      strstr(out, "tensors (0)"), "info vocab: %s %s", out, err);
		free(out);
		free(err);
	}
	return tl_finish("clitest_errors");
}
