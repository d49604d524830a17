// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * llamux mkmodel --shape S --type T --vocab-from FILE --seed N -o OUT:
 * writes a random-weight Llama model of a real shape, for testing and
 * benchmarking without downloading one. The work is in tools/make_model.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "make_model.h"
#include "progress.h"

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "shape", required_argument, NULL, 's' },
		{ "type", required_argument, NULL, 'T' },
		{ "vocab-from", required_argument, NULL, 'v' },
		{ "seed", required_argument, NULL, 'S' },
		{ "output", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, 'n' },
		{ "pure", no_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct lt_make_params p = { 0 };
	struct lt_make_result r;
	char err[LLAMUX_ERR_MAX] = "", size[32];
	const char *shape = NULL, *type = "F16";
	bool elsewhere;
	long threads = 0;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:t:", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			shape = optarg;
			break;
		case 'T':
			type = optarg;
			break;
		case 'v':
			p.vocab_path = optarg;
			break;
		case 'S':
			if (!parse_u64(&cmd_mkmodel, "--seed", optarg, &p.seed))
				return EXIT_USAGE;
			break;
		case 'o':
			p.out_path = optarg;
			break;
		case 'n':
			p.name = optarg;
			break;
		case 'p':
			p.pure = true;
			break;
		case 't':
			if (!parse_long(&cmd_mkmodel, "-t", optarg, 1, 1024,
					&threads))
				return EXIT_USAGE;
			break;
		case ':':
			return cli_usage_error(&cmd_mkmodel, "%s needs a value",
					       argv[optind - 1]);
		default:
			return cli_usage_error(&cmd_mkmodel,
					       "unknown option '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(&cmd_mkmodel, "unexpected argument '%s'",
				       argv[optind]);
	if (!shape)
		return cli_usage_error(&cmd_mkmodel, "missing --shape (one of %s)",
				       lt_shape_names());
	p.shape = lt_shape_find(shape);
	if (!p.shape)
		return cli_usage_error(&cmd_mkmodel, "unknown shape '%s'; choose one of %s",
				       shape, lt_shape_names());
	p.ftype = lt_ftype_find(type, &elsewhere);
	if (!p.ftype)
		return cli_usage_error(&cmd_mkmodel, "%s type '%s'; choose one of %s",
				       elsewhere ? "llamux cannot compute" :
				       "unknown", type, lt_ftype_names());
	if (!p.vocab_path)
		return cli_usage_error(&cmd_mkmodel,
				       "missing --vocab-from FILE.gguf (the tokenizer to copy)");
	if (!p.out_path)
		return cli_usage_error(&cmd_mkmodel, "missing -o OUT.gguf");
	p.n_threads = (unsigned int)threads;
	p.progress = isatty(STDERR_FILENO);
	if (!lt_make_model(&p, &r, err))
		return cli_fail("%s", err);
	printf("wrote %s: %s, %s%s, %.3g M parameters, %u tokens, %s in %.1f s\n",
	       p.out_path, p.shape->name, p.ftype->name, p.pure ? " (pure)" : "",
	       r.n_params / 1e6, r.n_vocab,
	       lt_format_bytes(size, sizeof(size), r.bytes), r.seconds);
	return 0;
}

const struct command cmd_mkmodel = {
	.name = "mkmodel",
	.summary = "write a random-weight Llama model of a real shape",
	.usage = "llamux mkmodel --shape NAME --vocab-from FILE.gguf -o OUT.gguf [--type T] [--seed N] [--pure]",
	.help =
	"  --shape NAME         tinyllama-1.1b (22 layers, 2048 wide, 32000 tokens),\n"
	"                       llama-2-7b, llama-2-13b, stories15m, stories42m,\n"
	"                       stories110m (32000 tokens), smollm-135m (49152,\n"
	"                       tied embeddings), test-tiny (2 layers, 256 wide,\n"
	"                       any vocabulary)\n"
	"  --vocab-from FILE    GGUF model or vocabulary whose tokenizer.* keys are\n"
	"                       copied; its size must match the shape's\n"
	"  -o, --output OUT     file to write; it appears only once complete\n"
	"  --type T             weight type, as for quantize (default F16): F32\n"
	"                       F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q2_K_S\n"
	"                       Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S\n"
	"                       Q5_K_M Q6_K\n"
	"  --pure               every matrix in the type itself (no mixture)\n"
	"  --seed N             random seed (default 0); the same seed gives the\n"
	"                       same weights whatever the type and thread count\n"
	"  --name NAME          general.name (default: the shape and seed)\n"
	"  -t, --threads N      worker threads (default: all CPUs)\n"
	"\n"
	"Weights are drawn from N(0, 1/fan_in), norms from 1 +- 0.1.\n",
	.run = run,
};
