// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * `llamux "free text"`: one question to the active model in its chat format
 * (the plain User:/Assistant: form for base models). Standard input, when it
 * is not a terminal, is added to the question as context. Questions about
 * the system ("why is my system slow?") first collect facts about the
 * machine for the model; with no model at all, those facts are the answer.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend_daemon.h"
#include "chat_template.h"
#include "cli.h"
#include "conversation.h"
#include "facts.h"
#include "output.h"

#define MAX_INPUT_BYTES (64u << 20)

struct ask_opts {
	const char *model;
	const char *tmpl;	/* --template */
	long n_predict;
	long n_ctx;
	long n_threads;
	struct llamux_sampler_params sp;
	bool seed_given;
	bool json;
	bool facts;
	bool verbose;
	enum cli_backend backend;	/* --backend */
	char *question;		/* the words joined */
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	if (interrupted)
		_exit(130);
	interrupted = 1;
}

/* Whether the question is about this machine (facts help). */
static bool is_system_question(const char *q)
{
	static const char *const words[] = {
		"slow", "slowly", "slower", "sluggish", "lag", "laggy", "lagging",
		"freeze", "freezes", "freezing", "hang", "hangs", "hanging",
		"performance", "perf", "memory", "ram", "swap", "swapping",
		"oom", "cpu", "cpus", "processor", "load", "loadavg", "disk",
		"disks", "storage", "space", "filesystem", "uptime", "hot",
		"temperature", "process", "processes", "fan", "busy",
	};
	char w[32];
	size_t n, i;

	while (*q) {
		for (n = 0; *q && (isalnum((unsigned char)*q) || *q == '\''); q++)
			if (n + 1 < sizeof(w))
				w[n++] = (char)tolower((unsigned char)*q);
		w[n] = '\0';
		for (i = 0; n && i < sizeof(words) / sizeof(words[0]); i++)
			if (!strcmp(w, words[i]))
				return true;
		while (*q && !isalnum((unsigned char)*q))
			q++;
	}
	return false;
}

static bool parse_args(int argc, char **argv, struct ask_opts *o)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "n-predict", required_argument, NULL, 'n' },
		{ "ctx-size", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 't' },
		CLI_SAMPLING_OPTIONS,
		{ "template", required_argument, NULL, 'X' },
		{ "backend", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "facts", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *c = &cmd_ask;
	enum chat_tmpl kind;
	size_t len = 0;
	int r;
	int opt, i;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":m:n:c:t:s:v", opts, NULL)) != -1) {
		r = parse_sampling_opt(c, opt, optarg, &o->sp, &o->seed_given);
		if (r == 0)
			return false;
		if (r > 0)
			continue;
		switch (opt) {
		case 'm':
			o->model = optarg;
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
		case 'X':
			if (!chat_template_by_name(optarg, &kind)) {
				cli_usage_error(c, "--template must be one of %s; got '%s'",
						chat_template_names(), optarg);
				return false;
			}
			o->tmpl = optarg;
			break;
		case 'b':
			if (!parse_backend(c, optarg, &o->backend))
				return false;
			break;
		case 'j':
			o->json = true;
			break;
		case 'f':
			o->facts = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case ':':
			cli_usage_error(c, "%s needs a value", argv[optind - 1]);
			return false;
		default:
			cli_usage_error(c, "unknown option '%s'", argv[optind - 1]);
			return false;
		}
	}
	for (i = optind; i < argc; i++)
		len += strlen(argv[i]) + 1;
	o->question = calloc(1, len + 1);
	if (!o->question) {
		cli_fail("out of memory");
		return false;
	}
	for (i = optind; i < argc; i++) {
		if (i > optind)
			strcat(o->question, " ");
		strcat(o->question, argv[i]);
	}
	if (!*o->question && !o->facts) {
		cli_usage_error(c, "missing the question");
		return false;
	}
	if (o->backend != BACKEND_INPROCESS && o->json) {
		cli_usage_error(c, "--json needs the in-process backend for now");
		return false;
	}
	return true;
}

/* All of standard input, when it is not a terminal; "" when empty. */
static char *read_stdin(void)
{
	char *buf = NULL, *p;
	size_t n = 0, cap = 0;
	ssize_t got;

	if (isatty(0))
		return strdup("");
	for (;;) {
		if (n + 65536 + 1 > cap) {
			cap = (n + 65536 + 1) * 2;
			p = cap > MAX_INPUT_BYTES + 65536 * 3 ? NULL : realloc(buf, cap);
			if (!p) {
				free(buf);
				cli_fail("standard input is larger than %u MiB; give a smaller part of it",
					 MAX_INPUT_BYTES >> 20);
				return NULL;
			}
			buf = p;
		}
		got = read(0, buf + n, 65536);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			free(buf);
			cli_fail("cannot read standard input: %s", strerror(errno));
			return NULL;
		}
		if (!got)
			break;
		n += (size_t)got;
		if (n > MAX_INPUT_BYTES) {
			free(buf);
			cli_fail("standard input is larger than %u MiB; give a smaller part of it",
				 MAX_INPUT_BYTES >> 20);
			return NULL;
		}
	}
	buf[n] = '\0';
	/* Trailing white space adds nothing. */
	while (n && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	return buf;
}

/* cli_resolve_model() without its error message: NULL when there is none. */
static char *resolve_quietly(void)
{
	int saved, null;
	char *path;

	fflush(stderr);
	saved = dup(2);
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved < 0 || null < 0) {
		if (saved >= 0)
			close(saved);
		if (null >= 0)
			close(null);
		return NULL;
	}
	dup2(null, 2);
	close(null);
	path = cli_resolve_model(NULL);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	return path;
}

static void emit_stdout(void *arg, const char *text, size_t len)
{
	bool tty = *(bool *)arg;

	fwrite(text, 1, len, stdout);
	if (tty)
		fflush(stdout);
}

static void json_field_str(const char *key, const char *s, bool last)
{
	printf("  \"%s\": ", key);
	if (s)
		json_put_string(stdout, s, strlen(s));
	else
		fputs("null", stdout);
	fputs(last ? "\n" : ",\n", stdout);
}

static const char *stop_name(enum conv_stop s)
{
	switch (s) {
	case CONV_STOP_LIMIT:
		return "limit";
	case CONV_STOP_INTERRUPT:
		return "interrupted";
	case CONV_STOP_FULL:
		return "context_full";
	default:
		return "end";
	}
}

static void print_json(const char *text, const struct conv_stats *st,
		       const char *model, const char *tmpl, const char *facts)
{
	double pms = st ? st->prompt_s * 1e3 : 0, gms = st ? st->gen_s * 1e3 : 0;

	printf("{\n");
	json_field_str("text", text, false);
	printf("  \"prompt_tokens\": %zu,\n", st ? st->prompt_tokens : 0);
	printf("  \"generated_tokens\": %zu,\n", st ? st->gen_tokens : 0);
	printf("  \"prompt_ms\": %.3f,\n", pms);
	printf("  \"generation_ms\": %.3f,\n", gms);
	printf("  \"prompt_tokens_per_second\": %.2f,\n",
	       st && st->prompt_s > 0 ? st->prompt_tokens / st->prompt_s : 0.0);
	printf("  \"tokens_per_second\": %.2f,\n",
	       st && st->gen_s > 0 ? st->gen_tokens / st->gen_s : 0.0);
	json_field_str("stop", st ? stop_name(st->stop) : NULL, false);
	json_field_str("model", model, false);
	json_field_str("template", tmpl, false);
	json_field_str("facts", facts, true);
	printf("}\n");
}

/* The facts as the whole answer (no model to ask). */
static int answer_with_facts(const struct ask_opts *o, const char *facts)
{
	if (o->json) {
		print_json(facts, NULL, NULL, NULL, facts);
		return 0;
	}
	fprintf(stderr, "%sllamux: no model is set up, so here are the facts about this system ('llamux model pull' gets a model that can explain them)%s\n",
		out_style(stderr, OUT_DIM), out_style(stderr, OUT_RESET));
	fputs(facts, stdout);
	if (*facts && facts[strlen(facts) - 1] != '\n')
		fputc('\n', stdout);
	return 0;
}

static char *join3(const char *a, const char *sep, const char *b)
{
	size_t n = strlen(a) + strlen(sep) + strlen(b) + 1;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s%s%s", a, sep, b);
	return s;
}

static const char system_facts[] =
	"You are a Linux system assistant. Answer the user's question about this machine from the facts below, naming the facts you rely on.\n\nFacts:\n";

static int ask_model(const struct ask_opts *o, const char *path,
		     const char *user, const char *facts, bool has_input)
{
	struct llamux_context_params cp;
	struct llamux_model *m;
	struct llamux_context *ctx = NULL;
	struct conversation conv;
	struct chat_template t;
	struct sigaction sa;
	char err[LLAMUX_ERR_MAX] = "", note[256], *reply = NULL, *sys = NULL;
	bool tty = isatty(1) == 1, have_conv = false;
	int rc = 1;

	m = cli_load_model(path, 0);
	if (!m)
		return 1;
	chat_template_for_model(&t, m, o->tmpl, note, sizeof(note));
	if (o->verbose)
		fprintf(stderr, "llamux: model %s, template %s%s%s\n", path,
			chat_template_name(t.kind), *note ? "; " : "", note);
	llamux_context_default_params(&cp);
	cp.n_ctx = (uint32_t)o->n_ctx;
	cp.n_threads = (int32_t)o->n_threads;
	ctx = llamux_context_new(m, &cp, err);
	if (!ctx) {
		cli_fail("%s", err);
		goto out;
	}
	if (conv_init(&conv, m, ctx, &t, &o->sp, 0, err, sizeof(err))) {
		cli_fail("%s", err);
		goto out;
	}
	have_conv = true;
	if (facts) {
		sys = join3(system_facts, "", facts);
		if (!sys || conv_set_system(&conv, sys)) {
			cli_fail("out of memory");
			goto out;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);
	rc = conv_turn(&conv, user, o->n_predict, &interrupted,
		       o->json ? NULL : emit_stdout, &tty, &reply, err,
		       sizeof(err));
	if (rc == CONV_TOO_LONG) {
		size_t n_ctx = llamux_n_ctx(ctx);

		rc = cli_fail("the question%s is %zu tokens but the context holds %zu (%zu too many); %s",
			      has_input ? " with its input" : "",
			      conv.last.need, n_ctx, conv.last.need - n_ctx,
			      has_input ? "give less input or use a larger -c" :
					  "shorten it or use a larger -c");
		goto out;
	}
	if (rc) {
		rc = cli_fail("%s", err);
		goto out;
	}
	if (o->json) {
		print_json(reply, &conv.last, path, chat_template_name(t.kind),
			   facts);
	} else {
		fputc('\n', stdout);
		fflush(stdout);
		if (conv.last.stop == CONV_STOP_FULL)
			fprintf(stderr, "llamux: stopped: the context of %zu tokens is full; use a larger -c\n",
				(size_t)llamux_n_ctx(ctx));
	}
	if (o->verbose)
		fprintf(stderr, "llamux: prompt %zu tokens in %.1f ms, generated %zu tokens in %.1f ms (%.1f t/s)\n",
			conv.last.prompt_tokens, conv.last.prompt_s * 1e3,
			conv.last.gen_tokens, conv.last.gen_s * 1e3,
			conv.last.gen_tokens / (conv.last.gen_s + 1e-12));
	rc = interrupted ? 130 : 0;
out:
	free(reply);
	free(sys);
	if (have_conv)
		conv_free(&conv);
	llamux_context_free(ctx);
	llamux_model_free(m);
	return rc;
}

/*
 * --backend kernel: the rendered prompt through /dev/llamux; daemon: the
 * conversation through llamuxd's chat endpoint (it applies the template).
 */
static int ask_remote(const struct ask_opts *o, enum cli_backend b,
		      const char *path, const char *user, const char *facts)
{
	struct chat_template t;
	struct chat_msg msgs[2];
	struct llamux_model *m = NULL;
	char *sys = NULL, *prompt;
	size_t n = 0;
	int rc;

	if (b == BACKEND_DAEMON) {
		if (!facts)
			return daemon_chat(path, NULL, user, o->n_predict, &o->sp);
		sys = join3(system_facts, "", facts);
		if (!sys)
			return cli_fail("out of memory");
		rc = daemon_chat(path, sys, user, o->n_predict, &o->sp);
		free(sys);
		return rc;
	}
	chat_template_init(&t, CHAT_TMPL_PLAIN, NULL);
	if (path) {
		m = cli_load_model(path, LLAMUX_LOAD_VOCAB_ONLY);
		if (!m)
			return 1;
		chat_template_for_model(&t, m, o->tmpl, NULL, 0);
		llamux_model_free(m);
	} else if (o->tmpl) {
		enum chat_tmpl kind;

		chat_template_by_name(o->tmpl, &kind);
		chat_template_init(&t, kind, NULL);
	}
	if (facts) {
		sys = join3(system_facts, "", facts);
		if (!sys)
			return cli_fail("out of memory");
		msgs[n++] = (struct chat_msg){ "system", sys };
	}
	msgs[n++] = (struct chat_msg){ "user", user };
	prompt = chat_template_apply(&t, msgs, n, true);
	free(sys);
	if (!prompt)
		return cli_fail("out of memory");
	rc = kernel_generate(path, prompt, o->n_predict, &o->sp, false);
	free(prompt);
	return rc;
}

static int run(int argc, char **argv)
{
	struct ask_opts o = { .n_predict = -1 };
	char *input = NULL, *facts = NULL, *path = NULL, *user = NULL;
	bool sys_q, explicit_model, remote;
	int rc = 1;

	if (cli_wants_help(&cmd_ask, argc, argv))
		return 0;
	llamux_sampler_default_params(&o.sp);
	if (!parse_args(argc, argv, &o)) {
		free(o.question);
		return EXIT_USAGE;
	}
	if (o.facts) {
		facts = cli_collect_facts();
		if (!facts) {
			rc = cli_fail("cannot collect the system facts (out of memory)");
			goto out;
		}
		if (o.json) {
			printf("{\n");
			json_field_str("facts", facts, true);
			printf("}\n");
		} else {
			fputs(facts, stdout);
		}
		rc = 0;
		goto out;
	}
	if (!o.seed_given)
		o.sp.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	input = read_stdin();
	if (!input)
		goto out;
	sys_q = is_system_question(o.question);
	if (sys_q) {
		facts = cli_collect_facts();
		if (!facts) {
			rc = cli_fail("cannot collect the system facts (out of memory)");
			goto out;
		}
	}
	explicit_model = o.model || (getenv("LLAMUX_MODEL") && *getenv("LLAMUX_MODEL"));
	remote = o.backend != BACKEND_INPROCESS;
	if (explicit_model || (!sys_q && !remote))
		path = cli_resolve_model(o.model);
	else
		path = resolve_quietly();
	if (!path && explicit_model)
		goto out;
	if (o.backend == BACKEND_AUTO) {
		o.backend = cli_pick_backend(path, NULL, 0);
		remote = o.backend != BACKEND_INPROCESS;
		if (!path && !remote && !sys_q) {
			free(cli_resolve_model(NULL));	/* says how to get a model */
			goto out;
		}
	}
	if (!path && !remote) {
		if (facts)
			rc = answer_with_facts(&o, facts);
		goto out;
	}
	user = *input ? join3(o.question, "\n\n", input) : strdup(o.question);
	if (!user) {
		rc = cli_fail("out of memory");
		goto out;
	}
	if (remote)
		rc = ask_remote(&o, o.backend, path, user, facts);
	else
		rc = ask_model(&o, path, user, facts, *input != '\0');
out:
	free(user);
	free(path);
	free(facts);
	free(input);
	free(o.question);
	return rc;
}

const struct command cmd_ask = {
	.name = "ask",
	.summary = "answer a question with the active model (llamux \"QUESTION\")",
	.usage = "llamux \"QUESTION\" [-m MODEL] [-n N] [--temp T] [--seed S] [--json] [--facts] [< INPUT]",
	.help = "  -m, --model PATH|NAME     model (default: $LLAMUX_MODEL, else the active model)\n"
		"  -n, --n-predict N         most tokens in the answer (default -1: until the model ends its turn or the context is full)\n"
		"      --temp T              sampling temperature (default 0.8; 0: greedy)\n"
		"      --top-k K, --top-p P, --min-p P, --repeat-penalty R, --repeat-last-n N\n"
		"                            as for 'llamux run'\n"
		"  -s, --seed S              random seed (default: from the clock)\n"
		"  -c, --ctx-size N          context size in tokens (default: the model's, at most 4096)\n"
		"  -t, --threads N           threads (default: all CPUs)\n"
		"      --template NAME       chat format instead of the model's own: plain, chatml, llama2,\n"
		"                            llama2-sys, llama2-sys-bos, llama2-sys-strip, zephyr, llama3, phi3, gemma\n"
		"      --json                print one JSON object: text, prompt_tokens, generated_tokens,\n"
		"                            prompt_ms, generation_ms, tokens_per_second, model, ...\n"
		"      --facts               print only the system facts llamux collects, then exit\n"
		"      --backend B           inprocess (default), kernel (/dev/llamux), daemon (llamuxd)\n"
		"                            or auto (daemon > kernel > inprocess, whichever has the model)\n"
		"  -v, --verbose             print the chat template and timings on stderr\n"
		"\n"
		"Standard input, when it is not a terminal, is added to the question:\n"
		"  llamux \"explain this error\" < error.log\n"
		"Questions about the system (slow, performance, memory, cpu, disk, load, ...) include\n"
		"facts about this machine; without any model the facts are the answer.\n",
	.run = run,
};
