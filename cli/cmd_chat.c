// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * llamux chat: a conversation with a model in its chat format. On a
 * terminal it is a line-editing REPL (libedit: history, Ctrl-R, a trailing
 * backslash continues the message on the next line); replies stream token
 * by token, Ctrl-C stops a reply (or clears the line being typed), Ctrl-D
 * leaves. When standard input is not a terminal, each line is a message (or
 * a /command) and only the replies are printed. The context keeps the
 * recent turns in its KV cache (see conversation.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <editline/readline.h>

#include "chat_template.h"
#include "cli.h"
#include "conversation.h"
#include "output.h"

#define DEFAULT_MAX_HISTORY 10
#define HISTORY_LINES 1000

struct chat_opts {
	const char *model;
	const char *system;
	const char *tmpl;
	long max_history;
	long n_predict;
	long n_ctx;
	long n_threads;
	enum llamux_kv_type kv_type;
	struct llamux_sampler_params sp;
	bool seed_given;
	bool no_mmap;		/* --no-mmap */
};

/* What the session works with; model and ctx are replaced by /model. */
struct chat {
	struct chat_opts *o;
	char *model_path;
	struct llamux_model *model;
	struct llamux_context *ctx;
	struct conversation conv;
	bool interactive;	/* standard input is a terminal */
	bool tty_out;
	char *history_file;	/* NULL: no saved history */
};

static volatile sig_atomic_t interrupted;
/* Ctrl-C came while typing: the line editor gave up the line. */
static bool typing_abandoned;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static bool parse_args(int argc, char **argv, struct chat_opts *o)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "system", required_argument, NULL, 'S' },
		{ "max-history", required_argument, NULL, 'H' },
		{ "template", required_argument, NULL, 'X' },
		{ "n-predict", required_argument, NULL, 'n' },
		{ "ctx-size", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 't' },
		CLI_SAMPLING_OPTIONS,
		{ "kv-type", required_argument, NULL, 'k' },
		{ "no-mmap", no_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *c = &cmd_chat;
	enum chat_tmpl kind;
	int r;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":m:n:c:t:s:", opts, NULL)) != -1) {
		r = parse_sampling_opt(c, opt, optarg, &o->sp, &o->seed_given);
		if (r == 0)
			return false;
		if (r > 0)
			continue;
		switch (opt) {
		case 'm':
			o->model = optarg;
			break;
		case 'S':
			o->system = optarg;
			break;
		case 'H':
			if (!parse_long(c, "--max-history", optarg, 0, 1 << 20,
					&o->max_history))
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
		cli_usage_error(c, "unexpected argument '%s' (type messages after it starts)",
				argv[optind]);
		return false;
	}
	return true;
}

/* A note for the user: dim on a terminal, on stdout between replies. */
static void note(const struct chat *ch, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(const struct chat *ch, const char *fmt, ...)
{
	va_list ap;

	(void)ch;
	fputs(out_style(stdout, OUT_DIM), stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputs(out_style(stdout, OUT_RESET), stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

/* Loads a model with its template and a context; false with the error
 * printed.
 */
static bool open_model(struct chat *ch, const char *path,
		       struct llamux_model **m_out,
		       struct llamux_context **ctx_out,
		       struct chat_template *t, char *tnote, size_t tnote_cap)
{
	struct llamux_context_params cp;
	char err[LLAMUX_ERR_MAX] = "";
	struct llamux_model *m =
		cli_load_model(path, ch->o->no_mmap ? LLAMUX_LOAD_NO_MMAP : 0);

	if (!m)
		return false;
	chat_template_for_model(t, m, ch->o->tmpl, tnote, tnote_cap);
	llamux_context_default_params(&cp);
	cp.n_ctx = (uint32_t)ch->o->n_ctx;
	cp.n_threads = (int32_t)ch->o->n_threads;
	cp.kv_type = ch->o->kv_type;
	*ctx_out = llamux_context_new(m, &cp, err);
	if (!*ctx_out) {
		cli_fail("%s", err);
		llamux_model_free(m);
		return false;
	}
	*m_out = m;
	return true;
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

static void emit_stdout(void *arg, const char *text, size_t len)
{
	const struct chat *ch = arg;

	fwrite(text, 1, len, stdout);
	if (ch->tty_out)
		fflush(stdout);
}

static void say(struct chat *ch, const char *text)
{
	char err[LLAMUX_ERR_MAX] = "";
	struct conv_stats *st = &ch->conv.last;
	int rc;

	/*
	 * Not cleared here: a Ctrl-C pressed between Enter and the start of
	 * the reply cancels the reply, as the user meant. Cleared after it.
	 */
	rc = conv_turn(&ch->conv, text, ch->o->n_predict, &interrupted,
		       emit_stdout, ch, NULL, err, sizeof(err));
	interrupted = 0;
	if (rc == CONV_TOO_LONG) {
		fprintf(stderr, "llamux: the message is %zu tokens but the context holds %u (%zu too many); shorten it or start with a larger -c\n",
			st->need, llamux_n_ctx(ch->ctx),
			st->need - llamux_n_ctx(ch->ctx));
		return;
	}
	if (rc) {
		fprintf(stderr, "llamux: %s\n", err);
		return;
	}
	fputc('\n', stdout);
	if (st->stop == CONV_STOP_INTERRUPT)
		note(ch, "[interrupted]");
	else if (st->stop == CONV_STOP_FULL)
		note(ch, "[stopped: the context is full; older turns will make room]");
	else if (st->stop == CONV_STOP_LIMIT)
		note(ch, "[stopped after %ld tokens (-n)]", ch->o->n_predict);
	if (st->dropped)
		note(ch, "[%zu older message%s left the context]", st->dropped,
		     st->dropped == 1 ? "" : "s");
	fflush(stdout);
}

static void print_help(const struct chat *ch)
{
	note(ch, "commands:\n"
	     "  /help          this list\n"
	     "  /reset         forget the conversation (the system prompt stays)\n"
	     "  /system TEXT   set the system prompt (/system alone shows it, /system - removes it)\n"
	     "  /save FILE     save the conversation as JSON\n"
	     "  /load FILE     continue a saved conversation\n"
	     "  /model NAME    switch to another model (the conversation stays)\n"
	     "  /stats         tokens in the context and the last reply's speed\n"
	     "  /quit          leave (as Ctrl-D)\n"
	     "End a line with \\ to continue the message on the next line. Ctrl-C stops a reply.");
}

static void print_stats(const struct chat *ch)
{
	const struct conv_stats *st = &ch->conv.last;

	note(ch, "model:    %s (template %s)", ch->model_path,
	     chat_template_name(ch->conv.tmpl.kind));
	note(ch, "context:  %u of %u tokens in use", llamux_n_past(ch->ctx),
	     llamux_n_ctx(ch->ctx));
	if (ch->conv.max_history)
		note(ch, "messages: %zu in the window (at most %zu), %zu since the last reset%s",
		     conv_window(&ch->conv), ch->conv.max_history,
		     ch->conv.n_msgs, ch->conv.system ? ", plus the system prompt" : "");
	else
		note(ch, "messages: %zu in the window, %zu since the last reset%s",
		     conv_window(&ch->conv), ch->conv.n_msgs,
		     ch->conv.system ? ", plus the system prompt" : "");
	if (st->prompt_tokens || st->gen_tokens)
		note(ch, "last turn: prompt %zu tokens in %.1f ms (%.1f t/s)%s, reply %zu tokens in %.1f ms (%.1f t/s)",
		     st->prompt_tokens, st->prompt_s * 1e3,
		     st->prompt_tokens / (st->prompt_s + 1e-12),
		     st->rebuilt ? ", whole window" : "",
		     st->gen_tokens, st->gen_s * 1e3,
		     st->gen_tokens / (st->gen_s + 1e-12));
	else
		note(ch, "last turn: none yet");
}

static void switch_model(struct chat *ch, const char *name)
{
	struct llamux_model *m;
	struct llamux_context *ctx;
	struct chat_template t;
	char *path = cli_resolve_model(name), tnote[256], err[LLAMUX_ERR_MAX];

	if (!path)
		return;
	if (!open_model(ch, path, &m, &ctx, &t, tnote, sizeof(tnote))) {
		free(path);
		return;
	}
	if (conv_set_model(&ch->conv, m, ctx, &t, err, sizeof(err))) {
		fprintf(stderr, "llamux: %s\n", err);
		/* Back to the old model; its cache is empty now. */
		conv_set_model(&ch->conv, ch->model, ch->ctx, &ch->conv.tmpl,
			       err, sizeof(err));
		llamux_context_free(ctx);
		llamux_model_free(m);
		free(path);
		return;
	}
	llamux_context_free(ch->ctx);
	llamux_model_free(ch->model);
	free(ch->model_path);
	ch->model = m;
	ch->ctx = ctx;
	ch->model_path = path;
	note(ch, "[now using %s, template %s, context %u tokens]", base_name(path),
	     chat_template_name(t.kind), llamux_n_ctx(ctx));
	if (*tnote)
		note(ch, "[%s]", tnote);
}

/* Runs a /command; false when it asks to leave. */
static bool command(struct chat *ch, char *line)
{
	char err[LLAMUX_ERR_MAX] = "", *arg = line + strcspn(line, " \t");
	size_t n = (size_t)(arg - line);

	while (*arg == ' ' || *arg == '\t')
		arg++;
#define IS(name) (n == strlen(name) && !strncmp(line, name, n))
	if (IS("/help") || IS("/?")) {
		print_help(ch);
	} else if (IS("/quit") || IS("/exit")) {
		return false;
	} else if (IS("/reset")) {
		conv_reset(&ch->conv);
		note(ch, "[conversation cleared]");
	} else if (IS("/system")) {
		if (!*arg) {
			note(ch, "%s", ch->conv.system ? ch->conv.system :
			     "[no system prompt]");
		} else if (conv_set_system(&ch->conv, strcmp(arg, "-") ? arg : NULL)) {
			fprintf(stderr, "llamux: out of memory\n");
		} else {
			note(ch, ch->conv.system ? "[system prompt set]" :
			     "[system prompt removed]");
		}
	} else if (IS("/save")) {
		if (!*arg)
			fprintf(stderr, "llamux: /save needs a file name\n");
		else if (conv_save(&ch->conv, arg, ch->model_path, err, sizeof(err)))
			fprintf(stderr, "llamux: %s\n", err);
		else
			note(ch, "[saved %zu message%s to %s]", ch->conv.n_msgs,
			     ch->conv.n_msgs == 1 ? "" : "s", arg);
	} else if (IS("/load")) {
		if (!*arg)
			fprintf(stderr, "llamux: /load needs a file name\n");
		else if (conv_load(&ch->conv, arg, err, sizeof(err)))
			fprintf(stderr, "llamux: %s\n", err);
		else
			note(ch, "[loaded %zu message%s from %s%s]",
			     ch->conv.n_msgs, ch->conv.n_msgs == 1 ? "" : "s",
			     arg, ch->conv.system ? ", with a system prompt" : "");
	} else if (IS("/model")) {
		if (!*arg)
			note(ch, "%s", ch->model_path);
		else
			switch_model(ch, arg);
	} else if (IS("/stats")) {
		print_stats(ch);
	} else {
		fprintf(stderr, "llamux: unknown command '%.*s'; /help lists them\n",
			(int)n, line);
	}
#undef IS
	fflush(stdout);
	return true;
}

/* Appends s to *buf (malloc'd); false when out of memory. */
static bool append(char **buf, size_t *len, const char *s, size_t n)
{
	char *p = realloc(*buf, *len + n + 1);

	if (!p)
		return false;
	memcpy(p + *len, s, n);
	*len += n;
	p[*len] = '\0';
	*buf = p;
	return true;
}

/*
 * One message from the terminal: lines ending in '\' continue it. NULL at
 * Ctrl-D; Ctrl-C abandons what was typed and asks again.
 */
/* The signal mask to wait with at the prompt: SIGINT let through. */
static sigset_t prompt_wait_mask;

/*
 * libedit's character reader. SIGINT is blocked while libedit runs and
 * only let through while waiting here, so a Ctrl-C that lands while
 * libedit is busy echoing is not lost: it interrupts this wait instead of
 * being taken while no read() is blocked.
 */
static int prompt_getc(FILE *in)
{
	int fd = fileno(in);
	unsigned char c;
	fd_set rd;
	ssize_t n;

	for (;;) {
		if (interrupted) {
			typing_abandoned = true;
			return EOF;
		}
		FD_ZERO(&rd);
		FD_SET(fd, &rd);
		if (pselect(fd + 1, &rd, NULL, NULL, NULL, &prompt_wait_mask) < 0) {
			if (errno == EINTR)
				continue;
			return EOF;
		}
		n = read(fd, &c, 1);
		if (n == 1)
			return c;
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		return EOF;
	}
}

static char *read_interactive(const struct chat *ch)
{
	sigset_t sigint, old;
	char prompt[64], cont[64], *buf = NULL, *line;
	size_t len = 0, n;

	if (out_color(stdout)) {
		snprintf(prompt, sizeof(prompt), "\001%s%s\002>\001%s\002 ",
			 OUT_BOLD, OUT_GREEN, OUT_RESET);
		snprintf(cont, sizeof(cont), "\001%s\002...\001%s\002 ",
			 OUT_DIM, OUT_RESET);
	} else {
		snprintf(prompt, sizeof(prompt), "> ");
		snprintf(cont, sizeof(cont), "... ");
	}
	sigemptyset(&sigint);
	sigaddset(&sigint, SIGINT);
	for (;;) {
		interrupted = 0;
		typing_abandoned = false;
		sigprocmask(SIG_BLOCK, &sigint, &old);
		prompt_wait_mask = old;
		sigdelset(&prompt_wait_mask, SIGINT);
		line = readline(buf ? cont : prompt);
		/*
		 * A Ctrl-C pressed after Enter, while libedit was still
		 * finishing, is taken here; it stays set and cancels the reply.
		 */
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (typing_abandoned) {
			/* Ctrl-C: drop what was typed, start on a fresh line. */
			free(line);
			fputc('\n', stdout);
			fflush(stdout);
			free(buf);
			buf = NULL;
			len = 0;
			continue;
		}
		if (!line) {
			free(buf);
			return NULL;
		}
		n = strlen(line);
		if (n && line[n - 1] == '\\') {
			if (!append(&buf, &len, line, n - 1) ||
			    !append(&buf, &len, "\n", 1)) {
				free(line);
				free(buf);
				return NULL;
			}
			free(line);
			continue;
		}
		if (!append(&buf, &len, line, n)) {
			free(line);
			free(buf);
			return NULL;
		}
		free(line);
		break;
	}
	if (*buf) {
		add_history(buf);
		if (ch->history_file)
			write_history(ch->history_file);
	}
	return buf;
}

/* One message from a pipe or file: a line, continued by a trailing '\'. */
static char *read_plain(bool *eof)
{
	char *buf = NULL, *line = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;

	*eof = false;
	for (;;) {
		n = getline(&line, &cap, stdin);
		if (n < 0) {
			free(line);
			*eof = true;
			return buf;
		}
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		if (n && line[n - 1] == '\\') {
			if (!append(&buf, &len, line, (size_t)n - 1) ||
			    !append(&buf, &len, "\n", 1))
				break;
			continue;
		}
		if (!append(&buf, &len, line, (size_t)n))
			break;
		free(line);
		return buf;
	}
	free(line);
	free(buf);
	*eof = true;
	return NULL;
}

/* $XDG_STATE_HOME/llamux/chat_history (made if missing), or NULL. */
static char *history_path(void)
{
	const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char dir[4096], *p;

	if (state && *state)
		snprintf(dir, sizeof(dir), "%s/llamux", state);
	else if (home && *home)
		snprintf(dir, sizeof(dir), "%s/.local/state/llamux", home);
	else
		return NULL;
	for (p = dir + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(dir, 0700);
			*p = '/';
		}
	}
	if (mkdir(dir, 0700) && errno != EEXIST)
		return NULL;
	p = malloc(strlen(dir) + sizeof("/chat_history"));
	if (p) {
		int fd;

		sprintf(p, "%s/chat_history", dir);
		/* What you typed is yours: 0600 from the start. */
		fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
	}
	return p;
}

static bool blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	return true;
}

static int repl(struct chat *ch)
{
	char *msg;
	bool eof = false;

	if (ch->interactive) {
		rl_readline_name = "llamux";
		rl_getc_function = prompt_getc;
		using_history();
		stifle_history(HISTORY_LINES);
		ch->history_file = history_path();
		if (ch->history_file)
			read_history(ch->history_file);
	}
	for (;;) {
		if (ch->interactive) {
			msg = read_interactive(ch);
			if (!msg) {
				fputc('\n', stdout);
				break;
			}
		} else {
			msg = read_plain(&eof);
			if (!msg) {
				if (interrupted)
					return 130;
				break;
			}
		}
		if (blank(msg)) {
			free(msg);
		} else if (msg[0] == '/') {
			bool go_on = command(ch, msg);

			free(msg);
			if (!go_on)
				break;
		} else {
			say(ch, msg);
			free(msg);
		}
		if (eof)
			break;
	}
	return 0;
}

static int run(int argc, char **argv)
{
	struct chat_opts o = { .max_history = DEFAULT_MAX_HISTORY,
			       .n_predict = -1 };
	struct chat ch = { .o = &o };
	struct chat_template t;
	struct sigaction sa;
	char tnote[256] = "", err[LLAMUX_ERR_MAX] = "";
	bool have_conv = false;
	int rc = 1;

	llamux_sampler_default_params(&o.sp);
	if (!parse_args(argc, argv, &o))
		return EXIT_USAGE;
	if (!o.seed_given)
		o.sp.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	ch.interactive = isatty(0) == 1;
	ch.tty_out = isatty(1) == 1;
	ch.model_path = cli_resolve_model(o.model);
	if (!ch.model_path)
		return 1;
	if (!open_model(&ch, ch.model_path, &ch.model, &ch.ctx, &t, tnote,
			sizeof(tnote)))
		goto out;
	if (conv_init(&ch.conv, ch.model, ch.ctx, &t, &o.sp,
		      (size_t)o.max_history, err, sizeof(err))) {
		cli_fail("%s", err);
		goto out;
	}
	have_conv = true;
	if (conv_set_system(&ch.conv, o.system)) {
		cli_fail("out of memory");
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);
	if (ch.interactive) {
		note(&ch, "llamux chat: %s, template %s, context %u tokens. /help lists commands, Ctrl-D leaves.",
		     base_name(ch.model_path), chat_template_name(t.kind),
		     llamux_n_ctx(ch.ctx));
		if (*tnote)
			note(&ch, "[%s]", tnote);
	}
	rc = repl(&ch);
out:
	if (have_conv)
		conv_free(&ch.conv);
	llamux_context_free(ch.ctx);
	llamux_model_free(ch.model);
	free(ch.model_path);
	free(ch.history_file);
	return rc;
}

const struct command cmd_chat = {
	.name = "chat",
	.summary = "talk with a model (a line-editing REPL; reads lines from a pipe)",
	.usage = "llamux chat [-m MODEL] [--system TEXT] [--max-history N] [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P] [--repeat-penalty R] [--seed S] [-c N] [-t N] [--no-mmap]",
	.help = "  -m, --model PATH|NAME     model (default: $LLAMUX_MODEL, else the active model)\n"
		"      --system TEXT         system prompt\n"
		"      --max-history N       messages kept in the conversation (default 10; 0: as many as fit)\n"
		"      --template NAME       chat format instead of the model's own: plain, chatml, llama2,\n"
		"                            llama2-sys, llama2-sys-bos, llama2-sys-strip, zephyr, llama3, phi3, gemma\n"
		"  -n, --n-predict N         most tokens per reply (default -1: until the model ends its turn)\n"
		"      --temp T              sampling temperature (default 0.8; 0: greedy)\n"
		"      --top-k K, --top-p P, --min-p P, --repeat-penalty R, --repeat-last-n N\n"
		"                            as for 'llamux run'\n"
		"  -s, --seed S              random seed (default: from the clock)\n"
		"  -c, --ctx-size N          context size in tokens (default: the model's, at most 4096)\n"
		"  -t, --threads N           threads (default: all CPUs)\n"
		"      --kv-type f16|f32     KV cache precision (default f16)\n"
		"      --no-mmap             read the model into memory instead of mapping it\n"
		"\n"
		"Commands: /help, /reset, /system TEXT, /save FILE, /load FILE, /model NAME, /stats, /quit.\n"
		"On a terminal: history in $XDG_STATE_HOME/llamux/chat_history, Ctrl-R searches it, a line\n"
		"ending in \\ continues on the next, Ctrl-C stops a reply, Ctrl-D leaves. From a pipe: each\n"
		"line is a message or a /command, and only the replies are printed.\n",
	.run = run,
};
