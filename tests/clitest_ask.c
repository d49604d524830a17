// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * `llamux "free text"`: a greedy answer from stories260K (the same twice,
 * and the same inside --json with its fields), standard input added to the
 * question, a too-long input refused with the exact overflow in tokens,
 * --facts, a system question without any model (the facts are the answer),
 * a model whose GGUF names a chat template (TinyLlama's), and usage errors
 * (exit 2).
 */
#include <fcntl.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf_writer.h"
#include "llamux/llamux.h"
#include "model.h"
#include "testlib.h"

#define STORIES "../shared/models/stories260K.gguf"

static const char *bin;
static char tmpdir[] = "/tmp/llamux-ask-XXXXXX";

/* Runs llamux with args and standard input from text (NULL: empty). */
static int ask(const char *input, char **out, char **err,
	       const char *const *args)
{
	char *argv[32] = { (char *)bin }, path[256];
	FILE *f;
	int i, fd, saved, rc;

	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = (char *)args[i];
	argv[i + 1] = NULL;
	snprintf(path, sizeof(path), "%s/stdin.txt", tmpdir);
	f = fopen(path, "w");
	if (input)
		fputs(input, f);
	fclose(f);
	saved = dup(0);
	fd = open(path, O_RDONLY);
	dup2(fd, 0);
	close(fd);
	rc = tl_run(argv, out, NULL, err);
	dup2(saved, 0);
	close(saved);
	return rc;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* A private HOME and XDG directories: no configured or downloaded model. */
static void isolate(void)
{
	char path[256];

	unsetenv("LLAMUX_MODEL");
	unsetenv("NO_COLOR");
	setenv("HOME", tmpdir, 1);
	snprintf(path, sizeof(path), "%s/config", tmpdir);
	setenv("XDG_CONFIG_HOME", path, 1);
	snprintf(path, sizeof(path), "%s/data", tmpdir);
	setenv("XDG_DATA_HOME", path, 1);
	snprintf(path, sizeof(path), "%s/state", tmpdir);
	setenv("XDG_STATE_HOME", path, 1);
	snprintf(path, sizeof(path), "%s/cache", tmpdir);
	setenv("XDG_CACHE_HOME", path, 1);
}

/* Tokens of the plain-template prompt for user text, as llamux builds it. */
static long prompt_tokens(const char *user)
{
	struct llamux_model *m = llamux_model_load(STORIES,
						   LLAMUX_LOAD_VOCAB_ONLY, NULL);
	char *text = malloc(strlen(user) + 32);
	int64_t n;

	sprintf(text, "User: %s\nAssistant:", user);
	n = m ? llamux_tokenize(m, text, strlen(text), true, true, NULL, 0) : -1;
	free(text);
	llamux_model_free(m);
	return (long)n;
}

/* stories260K plus a tokenizer.chat_template: TinyLlama's Jinja template. */
static const char tinyllama_template[] =
	"{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";

static bool write_templated_model(const char *path)
{
	char err[LLAMUX_ERR_MAX] = "";
	struct llamux_model *m = llamux_model_load(STORIES, 0, err);
	struct lt_gguf_writer *w = lt_gguf_writer_new();
	bool ok = m && w;
	uint64_t i;

	for (i = 0; ok && i < m->gguf.n_kv; i++)
		ok = lt_gguf_copy_kv(w, &m->gguf.kv[i]);
	ok = ok && lt_gguf_set_str(w, "tokenizer.chat_template",
				   tinyllama_template);
	for (i = 0; ok && i < m->gguf.n_tensors; i++) {
		const struct lx_gguf_tensor *t = &m->gguf.tensors[i];

		ok = lt_gguf_add_tensor(w, t->name.ptr, (size_t)t->name.len,
					t->n_dims, t->ne, (enum lx_type)t->type,
					err);
	}
	ok = ok && lt_gguf_open(w, path, err);
	for (i = 0; ok && i < m->gguf.n_tensors; i++)
		ok = lt_gguf_write(w, m->gguf.tensors[i].data,
				   (size_t)m->gguf.tensors[i].size, err);
	ok = ok && lt_gguf_commit(w, err);
	if (!ok)
		fprintf(stderr, "cannot write %s: %s\n", path, err);
	lt_gguf_writer_free(w);
	llamux_model_free(m);
	return ok;
}

static void test_template_model(void)
{
	char path[256], *out = NULL, *err = NULL, *t = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/tinyllama-chat-stories.gguf", tmpdir);
	CHECK(write_templated_model(path), "no model with a template");
	rc = ask(NULL, &out, &err, ARGS("Hello there", "-m", path, "--json", "--temp",
					"0", "-n", "16", "-v"));
	CHECK(rc == 0 && tl_json_string(out, "template", &t) &&
	      !strcmp(t, "zephyr"), "template: exit %d, %s %s", rc, out, err);
	CHECK(strstr(err, "template zephyr") && !strstr(err, "plain"),
	      "-v: %s", err);
	free(t);
	free(out);
	free(err);
	/* --template overrides the model's. */
	rc = ask(NULL, &out, &err, ARGS("Hello there", "-m", path, "--json", "--temp",
					"0", "-n", "4", "--template", "chatml"));
	CHECK(rc == 0 && tl_json_string(out, "template", &t) &&
	      !strcmp(t, "chatml"), "--template: exit %d, %s %s", rc, out, err);
	free(t);
	free(out);
	free(err);
}

static void test_answer(void)
{
	char *out = NULL, *err = NULL, *out2 = NULL, *json = NULL, *text = NULL;
	double v;
	int rc;

	rc = ask(NULL, &out, &err, ARGS("Tell me a story", "-m", STORIES,
					"--temp", "0", "-n", "40"));
	CHECK(rc == 0, "exit %d: %s", rc, err);
	CHECK(strlen(out) > 20 && out[strlen(out) - 1] == '\n' && !*err,
	      "answer '%s', stderr '%s'", out, err);
	CHECK(!strstr(out, "\033["), "colour on a pipe");
	rc = ask(NULL, &out2, NULL, ARGS("Tell me", "a", "story", "-m", STORIES,
					 "--temp", "0", "-n", "40"));
	CHECK(rc == 0 && !strcmp(out, out2), "words and one string differ:\n%s\n%s",
	      out, out2);

	free(err);
	rc = ask(NULL, &json, &err, ARGS("Tell me a story", "--json", "-m",
					 STORIES, "--temp", "0", "-n", "40"));
	CHECK(rc == 0, "--json exit %d: %s", rc, err);
	CHECK(json[0] == '{' && tl_json_string(json, "text", &text),
	      "--json: %s", json);
	if (text) {
		size_t n = strlen(out);

		CHECK(n && !strncmp(text, out, n - 1) && strlen(text) == n - 1,
		      "--json text '%s' vs '%s'", text, out);
	}
	CHECK(tl_json_number(json, "prompt_tokens", &v) &&
	      v == prompt_tokens("Tell me a story"), "prompt_tokens %g", v);
	CHECK(tl_json_number(json, "generated_tokens", &v) && v == 40,
	      "generated_tokens %g", v);
	CHECK(tl_json_number(json, "prompt_ms", &v) && v > 0, "prompt_ms %g", v);
	CHECK(tl_json_number(json, "generation_ms", &v) && v > 0,
	      "generation_ms %g", v);
	CHECK(tl_json_number(json, "tokens_per_second", &v) && v > 0,
	      "tokens_per_second %g", v);
	free(text);
	text = NULL;
	CHECK(tl_json_string(json, "model", &text) && strstr(text, "stories260K"),
	      "model %s", text);
	free(text);
	text = NULL;
	CHECK(tl_json_string(json, "template", &text) && !strcmp(text, "plain"),
	      "template %s", text);
	free(text);
	free(json);
	free(out);
	free(out2);
	free(err);
}

static void test_input(void)
{
	char *out = NULL, *err = NULL, *json = NULL, *big, want[256];
	const char *q = "What happened?";
	const char *log = "Lily went to the park. She saw a big dog.\n\n";
	double v;
	long n, k;
	int rc;

	/* Input that fits: part of the prompt. */
	rc = ask(log, &json, &err, ARGS(q, "--json", "-m", STORIES, "--temp",
					"0", "-n", "8"));
	CHECK(rc == 0, "with input: exit %d: %s", rc, err);
	CHECK(tl_json_number(json, "prompt_tokens", &v) &&
	      v == prompt_tokens("What happened?\n\nLily went to the park. She saw a big dog."),
	      "prompt_tokens with input %g", v);
	free(json);
	free(err);

	/* Input that does not fit the 2048-token context: the overflow is
	 * named exactly.
	 */
	big = malloc(40 * 1000 + 1);
	big[0] = '\0';
	for (k = 0; k < 1000; k++)
		strcat(big, "The cat sat on the mat all day. ");
	big[strlen(big) - 1] = '\0';
	rc = ask(big, &out, &err, ARGS(q, "-m", STORIES));
	{
		char *user = malloc(strlen(big) + 64);

		sprintf(user, "%s\n\n%s", q, big);
		n = prompt_tokens(user);
		free(user);
	}
	snprintf(want, sizeof(want),
		 "the question with its input is %ld tokens but the context holds 2048 (%ld too many)",
		 n, n - 2048);
	CHECK(rc == 1 && strstr(err, want) && !*out, "too long: exit %d, stderr %s (want '%s')",
	      rc, err, want);
	CHECK(strchr(err, '\n') == err + strlen(err) - 1, "one line: %s", err);
	free(out);
	free(err);
	free(big);
}

static void test_facts(void)
{
	char *out = NULL, *err = NULL, *f = NULL;
	double v;
	int rc;

	rc = ask(NULL, &out, &err, ARGS("why is my system slow?", "--facts"));
	CHECK(rc == 0 && strlen(out) > 20, "--facts: exit %d, '%s' %s", rc, out,
	      err);
	free(out);
	free(err);
	rc = ask(NULL, &out, &err, ARGS("show me system performance", "--facts",
					"--json"));
	CHECK(rc == 0 && tl_json_string(out, "facts", &f) && strlen(f) > 20,
	      "--facts --json: %s", out);
	free(f);
	free(out);
	free(err);

	/* No model anywhere: a system question is answered with the facts. */
	rc = ask(NULL, &out, &err, ARGS("why is my system slow?"));
	CHECK(rc == 0 && strlen(out) > 20 && strstr(err, "no model"),
	      "no model: exit %d, stdout '%s', stderr '%s'", rc, out, err);
	free(out);
	free(err);
	/* ... but other questions need one. */
	rc = ask(NULL, &out, &err, ARGS("tell me a joke"));
	CHECK(rc == 1 && strstr(err, "no model") && !*out,
	      "no model, not a system question: exit %d, %s", rc, err);
	free(out);
	free(err);

	/* With a model, the facts go into the prompt. */
	rc = ask(NULL, &out, &err, ARGS("why is my system slow?", "-m", STORIES,
					"--json", "--temp", "0", "-n", "4"));
	CHECK(rc == 0 && tl_json_string(out, "facts", &f) &&
	      tl_json_number(out, "prompt_tokens", &v) &&
	      v > prompt_tokens("why is my system slow?") + 20,
	      "system question: %s %s", out, err);
	free(f);
	free(out);
	free(err);
}

static void expect_usage(const char *want, const char *const *args)
{
	char *out = NULL, *err = NULL;
	int rc = ask(NULL, &out, &err, args);

	CHECK(rc == 2 && strstr(err, want) && strstr(err, "usage: llamux \"QUESTION\""),
	      "%s: exit %d, stderr %s", want, rc, err);
	free(out);
	free(err);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	bin = argv[1];
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	isolate();
	test_answer();
	test_input();
	test_facts();
	test_template_model();
	expect_usage("unknown option '--bogus'",
		     ARGS("what is this", "--bogus"));
	expect_usage("-n expects a whole number",
		     ARGS("what is this", "-n", "many"));
	expect_usage("--temp needs a value", ARGS("what is this", "--temp"));
	expect_usage("--template must be one of",
		     ARGS("what is this", "--template", "jinja"));
	expect_usage("--backend must be inprocess, kernel, daemon or auto",
		     ARGS("what is this", "--backend", "gpu"));
	{
		char *out = NULL, *err = NULL;
		int rc = ask(NULL, &out, &err, ARGS("what is this", "--help"));

		CHECK(rc == 0 && strstr(out, "--json") && strstr(out, "--facts"),
		      "--help: exit %d, %s", rc, out);
		free(out);
		free(err);
	}
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return tl_finish("clitest_ask");
}
