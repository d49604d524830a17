// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * llamux quantize IN.gguf OUT.gguf TYPE [--pure]: writes a copy of a model
 * with its weights in another type, following llama-quantize (same type
 * names, mixtures, general.file_type and file layout). The work is in
 * tools/quantize_model.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "progress.h"
#include "quantize_model.h"

static bool parse_type(const struct command *c, const char *s,
		       const struct lt_ftype_info **out)
{
	bool elsewhere;

	*out = lt_ftype_find(s, &elsewhere);
	if (*out)
		return true;
	if (elsewhere)
		cli_usage_error(c, "type '%s' is one of llama.cpp's that llamux cannot compute; choose one of %s",
				s, lt_ftype_names());
	else
		cli_usage_error(c, "unknown type '%s'; choose one of %s", s,
				lt_ftype_names());
	return false;
}

static void report(const struct lt_quantize_params *p,
		   const struct lt_quantize_result *r)
{
	char a[32], b[32];

	if (r->n_fallback)
		fprintf(stderr, "llamux quantize: note: %d tensor%s with rows that do not fit %s got a fallback type (e.g. %s)\n",
			r->n_fallback, r->n_fallback == 1 ? "" : "s",
			lx_type_traits(p->ftype->base)->name,
			r->fallback_example);
	if (r->n_requantized)
		fprintf(stderr, "llamux quantize: note: %llu tensor%s were already quantized and lost some quality again; quantize from F32/F16 when you can\n",
			(unsigned long long)r->n_requantized,
			r->n_requantized == 1 ? "" : "s");
	if (p->ftype->ftype == LT_FTYPE_Q2_K_S && !p->pure)
		fprintf(stderr, "llamux quantize: note: llama.cpp makes Q2_K_S only with an importance matrix; this file was made without one\n");
	printf("wrote %s: %s%s, %llu tensors, %s -> %s (%.2f bits per weight) in %.1f s\n",
	       p->out_path, p->ftype->name, p->pure ? " (pure)" : "",
	       (unsigned long long)r->n_tensors,
	       lt_format_bytes(a, sizeof(a), r->in_bytes),
	       lt_format_bytes(b, sizeof(b), r->out_bytes),
	       r->n_elements ? r->out_bytes * 8.0 / (double)r->n_elements : 0.0,
	       r->seconds);
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pure", no_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct lt_quantize_params p = { 0 };
	struct lt_quantize_result r;
	char err[LLAMUX_ERR_MAX] = "";
	const char *pos[3];
	int opt, n_pos = 0;
	long threads = 0;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":t:", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			p.pure = true;
			break;
		case 't':
			if (!parse_long(&cmd_quantize, "-t", optarg, 1, 1024,
					&threads))
				return EXIT_USAGE;
			break;
		case ':':
			return cli_usage_error(&cmd_quantize, "%s needs a value",
					       argv[optind - 1]);
		default:
			return cli_usage_error(&cmd_quantize,
					       "unknown option '%s'",
					       argv[optind - 1]);
		}
	}
	while (optind < argc) {
		if (n_pos == 3)
			return cli_usage_error(&cmd_quantize,
					       "unexpected argument '%s'",
					       argv[optind]);
		pos[n_pos++] = argv[optind++];
	}
	if (n_pos < 1)
		return cli_usage_error(&cmd_quantize, "missing IN.gguf");
	if (n_pos < 2)
		return cli_usage_error(&cmd_quantize, "missing OUT.gguf");
	if (n_pos < 3)
		return cli_usage_error(&cmd_quantize, "missing TYPE");
	if (!parse_type(&cmd_quantize, pos[2], &p.ftype))
		return EXIT_USAGE;
	p.in_path = pos[0];
	p.out_path = pos[1];
	p.n_threads = (unsigned int)threads;
	p.progress = isatty(STDERR_FILENO);
	if (!lt_quantize_model(&p, &r, err))
		return cli_fail("%s", err);
	report(&p, &r);
	return 0;
}

const struct command cmd_quantize = {
	.name = "quantize",
	.summary = "write a model's weights in another type, as llama-quantize",
	.usage = "llamux quantize IN.gguf OUT.gguf TYPE [--pure] [-t N]",
	.help =
	"  IN.gguf          model to convert: F32, F16 or BF16 weights, or\n"
	"                   quantized ones (dequantized, then quantized again)\n"
	"  OUT.gguf         file to write; it appears only once complete\n"
	"  TYPE             F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q6_K, or a\n"
	"                   k-quant mixture: Q2_K Q2_K_S Q3_K_S Q3_K_M Q3_K_L\n"
	"                   Q4_K_S Q4_K_M Q5_K_S Q5_K_M (Q3_K, Q4_K and Q5_K\n"
	"                   mean the _M ones, as in llama-quantize)\n"
	"  --pure           every matrix in TYPE's own type: no mixture, no\n"
	"                   Q6_K output.weight\n"
	"  -t, --threads N  worker threads (default: all CPUs)\n"
	"\n"
	"As llama-quantize: 1-D tensors and norms keep their type, output.weight\n"
	"gets Q6_K (Q8_0 when its rows do not split into 256), rows that do not\n"
	"fit a type's block fall back (Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0,\n"
	"Q2_K/Q3_K to Q4_0, then F16), and general.file_type is llama.cpp's.\n",
	.run = run,
};
