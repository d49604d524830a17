// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * llamux eval: feeds token ids (no BOS added) and writes the logits of every
 * position as little-endian float32 rows of n_vocab, the layout of the
 * reference files in ../shared/reference/.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* "1,2,3" -> ids; prints the error and returns false on bad input. */
static bool parse_tokens(const char *s, int32_t **out, size_t *n)
{
	size_t cap = 16, count = 0;
	int32_t *ids = malloc(cap * sizeof(*ids));
	const char *p = s;

	if (!ids)
		return false;
	while (*p) {
		char *end;
		long v;

		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p || errno || v < 0 || v > INT32_MAX ||
		    (*end && *end != ',')) {
			cli_usage_error(&cmd_eval, "--tokens expects ids like 1,2,3; bad entry at '%.20s'",
					p);
			free(ids);
			return false;
		}
		if (count == cap) {
			int32_t *more = realloc(ids, 2 * cap * sizeof(*ids));

			if (!more) {
				free(ids);
				return false;
			}
			ids = more;
			cap *= 2;
		}
		ids[count++] = (int32_t)v;
		p = *end ? end + 1 : end;
	}
	if (!count) {
		cli_usage_error(&cmd_eval, "--tokens is empty");
		free(ids);
		return false;
	}
	*out = ids;
	*n = count;
	return true;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "tokens", required_argument, NULL, 'T' },
		{ "output", required_argument, NULL, 'o' },
		{ "threads", required_argument, NULL, 't' },
		{ "kv-type", required_argument, NULL, 'k' },
		{ "no-mmap", no_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	const char *model_path = NULL, *tokens_arg = NULL, *out_path = NULL;
	struct llamux_context_params cp;
	struct llamux_model *m = NULL;
	struct llamux_context *ctx = NULL;
	char err[LLAMUX_ERR_MAX] = "";
	int32_t *toks = NULL;
	float *logits = NULL;
	size_t n = 0, n_vocab;
	long threads = 0;
	bool no_mmap = false;
	FILE *f;
	int opt, rc = 1;

	llamux_context_default_params(&cp);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":m:o:t:", opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			model_path = optarg;
			break;
		case 'T':
			tokens_arg = optarg;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 't':
			if (!parse_long(&cmd_eval, "-t", optarg, 1, 1024, &threads))
				return EXIT_USAGE;
			break;
		case 'k':
			if (!parse_kv_type(&cmd_eval, optarg, &cp.kv_type))
				return EXIT_USAGE;
			break;
		case 'N':
			no_mmap = true;
			break;
		case ':':
			return cli_usage_error(&cmd_eval, "%s needs a value",
					       argv[optind - 1]);
		default:
			return cli_usage_error(&cmd_eval, "unknown option '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(&cmd_eval, "unexpected argument '%s'",
				       argv[optind]);
	if (!model_path)
		return cli_usage_error(&cmd_eval, "missing -m MODEL");
	if (!tokens_arg)
		return cli_usage_error(&cmd_eval, "missing --tokens ID,ID,...");
	if (!out_path)
		return cli_usage_error(&cmd_eval, "missing -o FILE");
	if (!parse_tokens(tokens_arg, &toks, &n))
		return EXIT_USAGE;

	m = cli_load_model(model_path, no_mmap ? LLAMUX_LOAD_NO_MMAP : 0);
	if (!m)
		goto out;
	n_vocab = (size_t)llamux_n_vocab(m);
	cp.n_threads = (int32_t)threads;
	cp.n_ctx = (uint32_t)n;
	ctx = llamux_context_new(m, &cp, err);
	if (!ctx) {
		cli_fail("%s", err);
		goto out;
	}
	logits = malloc(n * n_vocab * sizeof(float));
	if (!logits) {
		cli_fail("out of memory for %zu x %zu logits", n, n_vocab);
		goto out;
	}
	if (llamux_decode(ctx, toks, n, logits, err) != LLAMUX_OK) {
		cli_fail("%s", err);
		goto out;
	}
	f = fopen(out_path, "wb");
	if (!f) {
		cli_fail("cannot create '%s': %s", out_path, strerror(errno));
		goto out;
	}
	/* x86 and every target we build for are little-endian. */
	if (fwrite(logits, sizeof(float), n * n_vocab, f) != n * n_vocab ||
	    fclose(f) != 0) {
		cli_fail("cannot write '%s': %s", out_path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(logits);
	free(toks);
	llamux_context_free(ctx);
	llamux_model_free(m);
	return rc;
}

const struct command cmd_eval = {
	.name = "eval",
	.summary = "write the logits of every position of a token sequence",
	.usage = "llamux eval -m MODEL --tokens ID,ID,... -o FILE [-t N] [--kv-type f16|f32] [--no-mmap]",
	.help = "  -m, --model PATH        GGUF model file\n"
		"      --tokens IDS        comma-separated token ids, fed as given (no BOS added)\n"
		"  -o, --output FILE       float32 little-endian, one row of n_vocab per token\n"
		"  -t, --threads N         threads (default: all CPUs)\n"
		"      --kv-type f16|f32   KV cache precision (default f16)\n"
		"      --no-mmap           read the model into memory instead of mapping it\n",
	.run = run,
};
