// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * llamux tokenize: prints the token ids of a text, space separated on one
 * line. Needs only the vocabulary, so vocabulary-only GGUF files work.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "prompt", required_argument, NULL, 'p' },
		{ "no-bos", no_argument, NULL, 'B' },
		{ "parse-special", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	const char *model_path = NULL, *text = NULL;
	bool add_special = true, parse_special = false;
	struct llamux_model *m;
	int32_t *toks;
	int64_t n, i;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":m:p:", opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			model_path = optarg;
			break;
		case 'p':
			text = optarg;
			break;
		case 'B':
			add_special = false;
			break;
		case 'S':
			parse_special = true;
			break;
		case ':':
			return cli_usage_error(&cmd_tokenize, "%s needs a value",
					       argv[optind - 1]);
		default:
			return cli_usage_error(&cmd_tokenize, "unknown option '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(&cmd_tokenize, "unexpected argument '%s'",
				       argv[optind]);
	if (!model_path)
		return cli_usage_error(&cmd_tokenize, "missing -m MODEL");
	if (!text)
		return cli_usage_error(&cmd_tokenize, "missing -p TEXT");
	m = cli_load_model(model_path, LLAMUX_LOAD_VOCAB_ONLY);
	if (!m)
		return 1;
	n = llamux_tokenize(m, text, strlen(text), add_special, parse_special,
			    NULL, 0);
	toks = malloc((size_t)(n > 0 ? n : 1) * sizeof(*toks));
	if (n < 0 || !toks) {
		free(toks);
		llamux_model_free(m);
		return cli_fail("cannot tokenize the text (out of memory)");
	}
	llamux_tokenize(m, text, strlen(text), add_special, parse_special, toks,
			(size_t)n);
	for (i = 0; i < n; i++)
		printf(i ? " %d" : "%d", toks[i]);
	printf("\n");
	free(toks);
	llamux_model_free(m);
	return 0;
}

const struct command cmd_tokenize = {
	.name = "tokenize",
	.summary = "print the token ids of a text",
	.usage = "llamux tokenize -m MODEL -p TEXT [--no-bos] [--parse-special]",
	.help = "  -m, --model PATH      GGUF model or vocabulary file\n"
		"  -p, --prompt TEXT     text to tokenize\n"
		"      --no-bos          do not add the BOS token\n"
		"      --parse-special   turn control-token text such as <s> into those tokens\n",
	.run = run,
};
