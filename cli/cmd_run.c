// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * llamux run: prints the prompt, then streams the model's continuation token
 * by token until EOS or -n tokens; a timing summary goes to stderr.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend_daemon.h"
#include "cli.h"
#include "store.h"

#define DEFAULT_N_PREDICT 256

struct run_opts {
	const char *model;
	const char *prompt;
	long n_predict;		/* -1: until EOS or the context is full */
	long n_ctx;
	long n_threads;
	enum llamux_kv_type kv_type;
	struct llamux_sampler_params sp;
	bool seed_given;
	enum cli_backend backend;	/* --backend */
	bool no_mmap;		/* --no-mmap */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool parse_args(int argc, char **argv, struct run_opts *o)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "prompt", required_argument, NULL, 'p' },
		{ "n-predict", required_argument, NULL, 'n' },
		{ "ctx-size", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 't' },
		CLI_SAMPLING_OPTIONS,
		{ "kv-type", required_argument, NULL, 'k' },
		{ "backend", required_argument, NULL, 'b' },
		{ "no-mmap", no_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *c = &cmd_run;
	int r;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":m:p:n:c:t:s:", opts, NULL)) != -1) {
		r = parse_sampling_opt(c, opt, optarg, &o->sp, &o->seed_given);
		if (r == 0)
			return false;
		if (r > 0)
			continue;
		switch (opt) {
		case 'm':
			o->model = optarg;
			break;
		case 'p':
			o->prompt = optarg;
			break;
		case 'n':
			if (!parse_long(c, "-n", optarg, -1, 1 << 30, &o->n_predict))
				return false;
			break;
		case 'c':
			if (!parse_long(c, "-c", optarg, 1, 1 << 24, &o->n_ctx))
				return false;
			break;
		case 't':
			if (!parse_long(c, "-t", optarg, 1, 1024, &o->n_threads))
				return false;
			break;
		case 'k':
			if (!parse_kv_type(c, optarg, &o->kv_type))
				return false;
			break;
		case 'b':
			if (!parse_backend(c, optarg, &o->backend))
				return false;
			break;
		case 'N':
			o->no_mmap = true;
			break;
		case ':':
			cli_usage_error(c, "%s needs a value", argv[optind - 1]);
			return false;
		default:
			cli_usage_error(c, "unknown option '%s'", argv[optind - 1]);
			return false;
		}
	}
	if (optind < argc) {
		cli_usage_error(c, "unexpected argument '%s'", argv[optind]);
		return false;
	}
	if (!o->model && o->backend == BACKEND_INPROCESS) {
		cli_usage_error(c, "missing -m MODEL");
		return false;
	}
	if (!o->prompt) {
		cli_usage_error(c, "missing -p PROMPT");
		return false;
	}
	return true;
}

static int generate(const struct run_opts *o, struct llamux_model *m,
		    struct llamux_context *ctx, struct llamux_sampler *s,
		    const int32_t *prompt, size_t n_prompt)
{
	char err[LLAMUX_ERR_MAX] = "", piece[1024];
	struct llamux_detok detok = { { 0 }, 0 };
	double t0, t1, t2;
	long n_gen = 0;
	bool full = false;
	size_t i, len;

	fputs(o->prompt, stdout);
	fflush(stdout);
	t0 = now_s();
	if (llamux_decode(ctx, prompt, n_prompt, NULL, err) != LLAMUX_OK)
		return cli_fail("%s", err);
	for (i = 0; i < n_prompt; i++)
		llamux_sampler_accept(s, prompt[i]);
	t1 = now_s();
	while (o->n_predict < 0 || n_gen < o->n_predict) {
		int32_t tok = llamux_sample(s, llamux_logits(ctx));

		if (llamux_token_is_eog(m, tok))
			break;
		len = llamux_detok_push(m, &detok, tok, piece, sizeof(piece));
		fwrite(piece, 1, len, stdout);
		fflush(stdout);
		n_gen++;
		if (o->n_predict >= 0 && n_gen >= o->n_predict)
			break;
		if (llamux_n_past(ctx) >= llamux_n_ctx(ctx)) {
			full = true;
			break;
		}
		if (llamux_decode(ctx, &tok, 1, NULL, err) != LLAMUX_OK)
			return cli_fail("%s", err);
	}
	len = llamux_detok_flush(&detok, piece, sizeof(piece));
	fwrite(piece, 1, len, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	t2 = now_s();
	if (full)
		fprintf(stderr, "llamux: stopped: the context of %u tokens is full; use a larger -c\n",
			llamux_n_ctx(ctx));
	fprintf(stderr, "llamux: prompt %zu tokens in %.1f ms (%.1f t/s), generated %ld tokens in %.1f ms (%.1f t/s)",
		n_prompt, (t1 - t0) * 1e3, n_prompt / (t1 - t0 + 1e-12), n_gen,
		(t2 - t1) * 1e3, n_gen / (t2 - t1 + 1e-12));
	if (o->sp.temp > 0.0f)
		fprintf(stderr, ", seed %llu", (unsigned long long)o->sp.seed);
	fputc('\n', stderr);
	cli_record_run(o->model, n_prompt, t1 - t0, n_gen, t2 - t1);
	return 0;
}

static int run(int argc, char **argv)
{
	struct run_opts o = { .n_predict = DEFAULT_N_PREDICT };
	struct llamux_context_params cp;
	struct llamux_model *m;
	struct llamux_context *ctx = NULL;
	struct llamux_sampler *s = NULL;
	char err[LLAMUX_ERR_MAX] = "";
	int32_t *toks = NULL;
	int64_t n;
	int rc = 1;

	llamux_sampler_default_params(&o.sp);
	if (!parse_args(argc, argv, &o))
		return EXIT_USAGE;
	if (o.backend == BACKEND_AUTO) {
		char why[600];

		o.backend = cli_pick_backend(o.model, why, sizeof(why));
		if (o.backend == BACKEND_INPROCESS && !o.model) {
			return cli_usage_error(&cmd_run, "missing -m MODEL (no llamuxd or kernel model to use: %s)",
					       why);
		}
	}
	if (o.no_mmap && o.backend != BACKEND_INPROCESS)
		return cli_usage_error(&cmd_run, "--no-mmap applies to a model run in-process, not in %s; use --backend inprocess or leave out --no-mmap",
				       o.backend == BACKEND_KERNEL ? "the kernel (which always reads the file in)" : "llamuxd");
	if (o.backend == BACKEND_KERNEL) {
		if (!o.seed_given)
			o.sp.seed = UINT64_MAX;	/* the kernel picks one */
		return kernel_generate(o.model, o.prompt, o.n_predict, &o.sp, true);
	}
	if (!o.seed_given)
		o.sp.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	if (o.backend == BACKEND_DAEMON)
		return daemon_generate(o.model, o.prompt, o.n_predict, &o.sp, true);
	m = cli_load_model(o.model, o.no_mmap ? LLAMUX_LOAD_NO_MMAP : 0);
	if (!m)
		return 1;
	n = llamux_tokenize(m, o.prompt, strlen(o.prompt), true, false, NULL, 0);
	toks = malloc((size_t)(n > 0 ? n : 1) * sizeof(*toks));
	if (n < 0 || !toks) {
		rc = cli_fail("cannot tokenize the prompt (out of memory)");
		goto out;
	}
	llamux_tokenize(m, o.prompt, strlen(o.prompt), true, false, toks, (size_t)n);
	if (n == 0) {
		rc = cli_fail("the prompt is empty and this model adds no BOS token; give a prompt with -p");
		goto out;
	}
	llamux_context_default_params(&cp);
	cp.n_ctx = (uint32_t)o.n_ctx;
	cp.n_threads = (int32_t)o.n_threads;
	cp.kv_type = o.kv_type;
	ctx = llamux_context_new(m, &cp, err);
	if (!ctx) {
		rc = cli_fail("%s", err);
		goto out;
	}
	if ((uint64_t)n > llamux_n_ctx(ctx)) {
		rc = cli_fail("the prompt has %lld tokens but the context holds %u (%lld too many); use a larger -c or a shorter prompt",
			      (long long)n, llamux_n_ctx(ctx),
			      (long long)n - llamux_n_ctx(ctx));
		goto out;
	}
	s = llamux_sampler_new(&o.sp, llamux_n_vocab(m));
	if (!s) {
		rc = cli_fail("out of memory for the sampler");
		goto out;
	}
	rc = generate(&o, m, ctx, s, toks, (size_t)n);
out:
	llamux_sampler_free(s);
	llamux_context_free(ctx);
	free(toks);
	llamux_model_free(m);
	return rc;
}

const struct command cmd_run = {
	.name = "run",
	.summary = "generate text that continues a prompt",
	.usage = "llamux run -m MODEL -p PROMPT [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P] [--repeat-penalty R] [--seed S] [-c N] [-t N] [--no-mmap] [--backend inprocess|kernel|daemon|auto]",
	.help = "  -m, --model PATH          GGUF model file\n"
		"  -p, --prompt TEXT         text to continue\n"
		"  -n, --n-predict N         tokens to generate (default 256; -1: until EOS or the context is full)\n"
		"      --temp T              sampling temperature (default 0.8; 0: greedy)\n"
		"      --top-k K             keep the K most likely tokens (default 40; 0: off)\n"
		"      --top-p P             keep the smallest set with probability >= P (default 0.95; 1: off)\n"
		"      --min-p P             drop tokens below P x the top probability (default 0.05; 0: off)\n"
		"      --repeat-penalty R    penalize recent tokens (default 1.0: off)\n"
		"      --repeat-last-n N     tokens the penalty looks back over (default 64)\n"
		"  -s, --seed S              random seed (default: from the clock)\n"
		"  -c, --ctx-size N          context size in tokens (default: the model's, at most 4096)\n"
		"  -t, --threads N           threads (default: all CPUs)\n"
		"      --kv-type f16|f32     KV cache precision (default f16)\n"
		"      --no-mmap             read the model into memory instead of mapping it\n"
		"      --backend B           inprocess (default), kernel (/dev/llamux), daemon (llamuxd's\n"
		"                            socket) or auto (daemon > kernel > inprocess, whichever has\n"
		"                            the model); -m is optional except in-process\n",
	.run = run,
};
