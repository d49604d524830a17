// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * llamux info: what a GGUF file holds: architecture, hyperparameters,
 * tokenizer, metadata and the tensor table with types and sizes.
 */
#include <getopt.h>
#include <string.h>

#include "cli.h"

static void print_size(uint64_t bytes)
{
	if (bytes >= (1ull << 30))
		printf("%.2f GiB", bytes / (double)(1ull << 30));
	else if (bytes >= (1ull << 20))
		printf("%.2f MiB", bytes / (double)(1ull << 20));
	else if (bytes >= 1024)
		printf("%.2f KiB", bytes / 1024.0);
	else
		printf("%llu B", (unsigned long long)bytes);
}

static void print_model(const struct llamux_model *m)
{
	struct llamux_model_info in;

	llamux_model_get_info(m, &in);
	printf("GGUF version:     %u\n", in.gguf_version);
	printf("name:             %s\n", in.name[0] ? in.name : "(none)");
	printf("architecture:     %s\n", in.arch[0] ? in.arch : "(none)");
	if (in.n_layer) {
		printf("parameters:       %llu (", (unsigned long long)in.n_params);
		print_size(in.n_bytes);
		printf(" of tensor data)\n");
		printf("context length:   %u\n", in.n_ctx_train);
		printf("embedding:        %u\n", in.n_embd);
		printf("layers:           %u\n", in.n_layer);
		printf("heads:            %u (KV heads %u, head dim %u)\n",
		       in.n_head, in.n_head_kv, in.head_dim);
		printf("feed-forward:     %u\n", in.n_ff);
		printf("rope:             %u dims, base %g, scale %g\n", in.n_rot,
		       (double)in.rope_freq_base, (double)in.rope_freq_scale);
		printf("norm epsilon:     %g\n", (double)in.norm_eps);
	}
	if (in.n_vocab)
		printf("tokenizer:        %s, %u tokens, BOS %d%s, EOS %d%s\n",
		       in.tokenizer, in.n_vocab, in.bos,
		       in.add_bos ? " (added)" : "", in.eos,
		       in.add_eos ? " (added)" : "");
}

static void print_meta(const struct llamux_model *m)
{
	uint64_t i, n = llamux_model_n_meta(m);
	char value[96];

	printf("\nmetadata (%llu keys):\n", (unsigned long long)n);
	for (i = 0; i < n; i++) {
		const char *key;
		size_t key_len;

		llamux_model_meta(m, i, &key, &key_len, value, sizeof(value));
		/* Keep one line per key: cut long or multi-line values. */
		value[strcspn(value, "\n\r")] = '\0';
		printf("  %-40.*s %s\n", (int)key_len, key, value);
	}
}

static void print_tensors(const struct llamux_model *m)
{
	uint64_t i, n = llamux_model_n_tensors(m);
	struct llamux_tensor_info t;

	printf("\ntensors (%llu):\n", (unsigned long long)n);
	for (i = 0; i < n; i++) {
		char shape[96];
		int len = 0;
		uint32_t d;

		llamux_model_tensor(m, i, &t);
		for (d = 0; d < t.n_dims; d++)
			len += snprintf(shape + len, sizeof(shape) - (size_t)len,
					d ? " x %llu" : "%llu",
					(unsigned long long)t.ne[d]);
		printf("  %-32.*s %-6s %-22s ", (int)t.name_len, t.name, t.type,
		       shape);
		print_size(t.size);
		printf("\n");
	}
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	char err[LLAMUX_ERR_MAX] = "", why[LLAMUX_ERR_MAX] = "";
	const char *path = NULL;
	struct llamux_model *m;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":m:", opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			path = optarg;
			break;
		case ':':
			return cli_usage_error(&cmd_info, "%s needs a value",
					       argv[optind - 1]);
		default:
			return cli_usage_error(&cmd_info, "unknown option '%s'",
					       argv[optind - 1]);
		}
	}
	if (!path && optind < argc)
		path = argv[optind++];
	if (optind < argc)
		return cli_usage_error(&cmd_info, "unexpected argument '%s'",
				       argv[optind]);
	if (!path)
		return cli_usage_error(&cmd_info, "missing MODEL");
	/*
	 * Show as much as the file allows: a model that cannot run (unknown
	 * architecture, say) still has metadata and tensors worth seeing.
	 */
	m = llamux_model_load(path, 0, err);
	if (!m) {
		snprintf(why, sizeof(why), "%s", err);
		m = llamux_model_load(path, LLAMUX_LOAD_VOCAB_ONLY, err);
	}
	if (!m)
		m = llamux_model_load(path, LLAMUX_LOAD_METADATA_ONLY, err);
	if (!m)
		return cli_fail("model '%s': %s", path, err);
	print_model(m);
	if (why[0])
		printf("\nnot runnable:     %s\n", why);
	print_meta(m);
	print_tensors(m);
	llamux_model_free(m);
	return 0;
}

const struct command cmd_info = {
	.name = "info",
	.summary = "show a model's architecture, tokenizer and tensors",
	.usage = "llamux info MODEL",
	.help = "  MODEL (or -m PATH)   GGUF model or vocabulary file\n",
	.run = run,
};
