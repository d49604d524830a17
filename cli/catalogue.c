// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The models `llamux model pull NAME` knows: Hugging Face repository, file,
 * size and SHA-256 (where known; the download is checked against it). More
 * entries, or replacements, come from $LLAMUX_CATALOGUE_FILE, and
 * $LLAMUX_HF_ENDPOINT replaces https://huggingface.co (mirrors, tests).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

static const struct catalogue_entry builtin[] = {
	{
		.name = "tinyllama",
		.repo = "TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF",
		.file = "tinyllama-1.1b-chat-v1.0.Q4_0.gguf",
		.sha256 = "da3087fb14aede55fde6eb81a0e55e886810e43509ec82ecdc7aa5d62a03b556",
		.size = 637699456,
		.about = "TinyLlama 1.1B Chat v1.0, Q4_0 (the default model)",
	},
	{
		.name = "tinyllama:q4_k_m",
		.repo = "TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF",
		.file = "tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf",
		.sha256 = "9fecc3b3cd76bba89d504f29b616eedf7da85b96540e490ca5824d3f7d2776a0",
		.size = 668788096,
		.about = "TinyLlama 1.1B Chat v1.0, Q4_K_M",
	},
	{
		.name = "stories15m",
		.repo = "ggml-org/tiny-llamas",
		.file = "stories15M-q4_0.gguf",
		.sha256 = "6151b1929d7f5aa3385d9ddef3393e55587c0a55de661562322bc51dfda93a04",
		.size = 19077344,
		.about = "TinyStories 15M (llama2.c), Q4_0: tiny, writes children's stories",
	},
	{
		.name = "stories260k",
		.repo = "ggml-org/tiny-llamas",
		.file = "stories260K.gguf",
		.sha256 = "047bf46455a544931cff6fef14d7910154c56afbc23ab1c5e56a72e69912c04b",
		.size = 1185376,
		.about = "TinyStories 260K (llama2.c), F32: 1 MiB, for trying things out",
	},
	{
		.name = "phi-2",
		.repo = "TheBloke/phi-2-GGUF",
		.file = "phi-2.Q4_K_M.gguf",
		.sha256 = "",
		.size = 0,
		.about = "Microsoft Phi-2 2.7B, Q4_K_M",
	},
	{
		.name = "qwen2-0.5b-instruct",
		.repo = "Qwen/Qwen2-0.5B-Instruct-GGUF",
		.file = "qwen2-0_5b-instruct-q4_k_m.gguf",
		.sha256 = "",
		.size = 0,
		.about = "Qwen2 0.5B Instruct, Q4_K_M",
	},
	{
		.name = "qwen2.5-0.5b-instruct",
		.repo = "Qwen/Qwen2.5-0.5B-Instruct-GGUF",
		.file = "qwen2.5-0.5b-instruct-q4_k_m.gguf",
		.sha256 = "74a4da8c9fdbcd15bd1f6d01d621410d31c6fc00986f5eb687824e7b93d7a9db",
		.size = 491400032,
		.about = "Qwen2.5 0.5B Instruct, Q4_K_M",
	},
	{
		.name = "gemma-2b-it",
		.repo = "lmstudio-ai/gemma-2b-it-GGUF",
		.file = "gemma-2b-it-q4_k_m.gguf",
		.sha256 = "",
		.size = 0,
		.about = "Google Gemma 2B Instruct, Q4_K_M",
	},
};

#define N_BUILTIN (sizeof(builtin) / sizeof(builtin[0]))

/* Entries from $LLAMUX_CATALOGUE_FILE, read once; strings live in `text`. */
static struct catalogue_entry *extra;
static size_t n_extra;
static bool loaded;

static bool is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!s[i] || !strchr("0123456789abcdef", s[i]))
			return false;
	return s[64] == '\0';
}

static void load_extra(void)
{
	const char *path = getenv("LLAMUX_CATALOGUE_FILE");
	char *line = NULL;
	size_t len = 0;
	unsigned int lineno = 0;
	FILE *f;

	loaded = true;
	if (!path || !*path)
		return;
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "llamux: warning: cannot read LLAMUX_CATALOGUE_FILE %s; using the built-in catalogue only\n",
			path);
		return;
	}
	while (getline(&line, &len, f) >= 0) {
		char *tok[6] = { NULL }, *save = NULL, *s;
		struct catalogue_entry *nv, e = { 0 };
		int n = 0;

		lineno++;
		for (s = strtok_r(line, " \t\r\n", &save); s && n < 6;
		     s = strtok_r(NULL, " \t\r\n", &save))
			tok[n++] = s;
		if (n == 0 || tok[0][0] == '#')
			continue;
		if (n < 3 || n > 5 ||
		    (n >= 4 && strcmp(tok[3], "-") && !is_hex64(tok[3])) ||
		    strchr(tok[2], '/')) {
			fprintf(stderr, "llamux: warning: %s:%u: expected 'NAME REPO FILE [SHA256|-] [SIZE]'; ignoring the line\n",
				path, lineno);
			continue;
		}
		nv = realloc(extra, (n_extra + 1) * sizeof(*extra));
		if (!nv)
			break;
		extra = nv;
		e.name = strdup(tok[0]);
		e.repo = strdup(tok[1]);
		e.file = strdup(tok[2]);
		e.sha256 = strdup(n >= 4 && strcmp(tok[3], "-") ? tok[3] : "");
		e.size = n >= 5 ? strtoull(tok[4], NULL, 10) : 0;
		e.about = strdup(path);
		extra[n_extra++] = e;
	}
	free(line);
	fclose(f);
}

size_t catalogue_count(void)
{
	if (!loaded)
		load_extra();
	return n_extra + N_BUILTIN;
}

/* Extra entries first so that they override built-in names. */
const struct catalogue_entry *catalogue_get(size_t i)
{
	if (i >= catalogue_count())
		return NULL;
	return i < n_extra ? &extra[i] : &builtin[i - n_extra];
}

const struct catalogue_entry *catalogue_find(const char *name)
{
	size_t i, n = catalogue_count();

	for (i = 0; i < n; i++)
		if (!strcmp(catalogue_get(i)->name, name))
			return catalogue_get(i);
	return NULL;
}

const struct catalogue_entry *catalogue_find_file(const char *file)
{
	size_t i, n = catalogue_count();

	for (i = 0; i < n; i++)
		if (!strcmp(catalogue_get(i)->file, file))
			return catalogue_get(i);
	return NULL;
}

char *catalogue_url(const struct catalogue_entry *e)
{
	const char *base = getenv("LLAMUX_HF_ENDPOINT");
	size_t n;
	char *url;

	if (!base || !*base)
		base = "https://huggingface.co";
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	if (asprintf(&url, "%.*s/%s/resolve/main/%s", (int)n, base, e->repo,
		     e->file) < 0)
		return NULL;
	return url;
}

char *catalogue_names(void)
{
	size_t i, n = catalogue_count(), len = 1;
	char *s;

	for (i = 0; i < n; i++)
		len += strlen(catalogue_get(i)->name) + 2;
	s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (i = 0; i < n; i++) {
		const char *name = catalogue_get(i)->name;
		size_t j;

		/* An extra entry that overrides a built-in one: list it once. */
		for (j = 0; j < i && strcmp(catalogue_get(j)->name, name); j++)
			;
		if (j < i)
			continue;
		if (s[0])
			strcat(s, ", ");
		strcat(s, name);
	}
	return s;
}
