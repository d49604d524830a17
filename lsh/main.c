// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * lsh: a shell that also understands English. Lines that are commands run
 * as typed; anything else is translated (intent engine, then a model if
 * one is configured), shown with an explanation and a safety verdict, and
 * run only when the user confirms: Enter for safe commands, the word
 * "yes" for risky ones.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <editline/readline.h>

#include "explain.h"
#include "intents.h"
#include "llamux/llamux.h"
#include "model.h"
#include "safety.h"
#include "shparse.h"

#define LSH_VERSION "0.1.0"

struct opts {
	bool dry_run;
	bool yes;
	bool interactive;
	const char *model_path;
	enum lsh_backend backend;
};

static struct opts opt;
static struct lsh_model *model;
static bool model_tried;
static bool model_unusable;	/* the fallback asked for failed to start */
static bool color;
static int last_status;

/* ---- aliases ---- */

struct alias {
	char *name, *value;
};

static struct alias aliases[64];
static size_t n_aliases;

static const char *alias_get(const char *name)
{
	for (size_t i = 0; i < n_aliases; i++)
		if (!strcmp(aliases[i].name, name))
			return aliases[i].value;
	return NULL;
}

static void alias_set(const char *name, const char *value)
{
	for (size_t i = 0; i < n_aliases; i++)
		if (!strcmp(aliases[i].name, name)) {
			free(aliases[i].value);
			aliases[i].value = strdup(value);
			return;
		}
	if (n_aliases < sizeof(aliases) / sizeof(aliases[0])) {
		aliases[n_aliases].name = strdup(name);
		aliases[n_aliases++].value = strdup(value);
	}
}

static void alias_unset(const char *name)
{
	for (size_t i = 0; i < n_aliases; i++)
		if (!strcmp(aliases[i].name, name)) {
			free(aliases[i].name);
			free(aliases[i].value);
			aliases[i] = aliases[--n_aliases];
			return;
		}
}

/* The line with a leading alias replaced (malloc'd). */
static char *expand_alias(const char *line)
{
	size_t n = strcspn(line, " \t;|&<>()");
	char name[128];
	const char *v;
	char *out;

	if (!n || n >= sizeof(name))
		return strdup(line);
	memcpy(name, line, n);
	name[n] = '\0';
	v = alias_get(name);
	if (!v)
		return strdup(line);
	out = malloc(strlen(v) + strlen(line + n) + 1);
	if (out)
		sprintf(out, "%s%s", v, line + n);
	return out;
}

/* ---- helpers ---- */

static void errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void errmsg(const char *fmt, ...)
{
	va_list ap;

	fputs("lsh: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static bool on_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (strchr(name, '/'))
		return access(name, X_OK) == 0;
	if (!path || !*name)
		return false;
	while (*path) {
		const char *e = strchr(path, ':');
		size_t n = e ? (size_t)(e - path) : strlen(path);
		struct stat st;

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n ? path : ".", name);
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(buf, X_OK) == 0)
			return true;
		if (!e)
			break;
		path = e + 1;
	}
	return false;
}

static bool lsh_builtin(const char *name)
{
	return !strcmp(name, "cd") || !strcmp(name, "export") ||
	       !strcmp(name, "exit") || !strcmp(name, "alias") ||
	       !strcmp(name, "unalias") || !strcmp(name, "history") ||
	       !strcmp(name, "help");
}

static bool is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((*s < '0' || *s > '9') && *s != '.')
			return false;
	return true;
}

static bool english_word(const char *w)
{
	static const char *const words[] = {
		"the", "a", "an", "my", "me", "all", "any", "every", "is", "are",
		"was", "than", "that", "which", "what", "who", "where", "how",
		"much", "many", "with", "without", "on", "in", "of", "for", "to",
		"by", "from", "this", "these", "those", "last", "bigger", "larger",
		"smaller", "older", "newer", "biggest", "largest", "files",
		"folder", "folders", "directory", "directories", "process",
		"processes", "program", "programs", "memory", "space", "disk",
		"port", "running", "listening", "please", "using", "called",
		"named", "containing", "and", "or", "not", "i", "it", "there",
		"some", "used", "free", "left", "modified", "changed", "week",
		"today", "days", "hours", "minutes", "show", "list", NULL,
	};
	char low[64];
	size_t i;

	for (i = 0; w[i] && i < sizeof(low) - 1; i++)
		low[i] = (char)(w[i] >= 'A' && w[i] <= 'Z' ? w[i] + 32 : w[i]);
	low[i] = '\0';
	for (size_t k = 0; words[k]; k++)
		if (!strcmp(low, words[k]))
			return true;
	return false;
}

/*
 * Is the line a command to run as typed? Its first word is a builtin, an
 * alias or a program on PATH, it parses, and it does not read as English.
 */
static bool is_command(const char *line)
{
	char err[128];
	struct sh_list *l = sh_parse(line, err, sizeof(err));
	const struct sh_cmd *c;
	const char *w0;
	bool cmd = false, syntax = false, english = false;

	if (!l)
		return false;
	if (!l->npipes) {
		sh_free(l);
		return false;
	}
	c = &l->pipes[0].cmds[0];
	if (c->kind != SHC_SIMPLE) {
		sh_free(l);
		return true;	/* ( ... ), { ...; }, if, for, while */
	}
	if (c->nwords <= c->nassign) {
		sh_free(l);
		return c->nwords > 0 || c->nredirs > 0;
	}
	w0 = c->words[c->nassign].value;
	if (c->words[c->nassign].flags & SHW_EXPAND)
		cmd = true;
	else
		cmd = lsh_builtin(w0) || lsh_is_shell_builtin(w0) ||
		      alias_get(w0) || on_path(w0);
	if (!cmd) {
		sh_free(l);
		return false;
	}
	/* shell syntax beyond plain words means a command */
	if (l->npipes > 1 || l->pipes[0].ncmds > 1 || c->nredirs || c->nassign)
		syntax = true;
	for (size_t i = c->nassign + 1; i < c->nwords && !syntax; i++) {
		const struct sh_word *w = &c->words[i];
		struct stat st;

		if (w->flags & SHW_EXPAND || w->value[0] == '-' ||
		    strchr(w->value, '='))
			syntax = true;
		if (english_word(w->value) && !is_number(w->value) &&
		    stat(w->value, &st) != 0)
			english = true;
	}
	if (c->nwords == c->nassign + 1)
		syntax = true;
	if (c->nwords >= c->nassign + 3)
		english = true;	/* two or more plain arguments */
	sh_free(l);
	if (syntax || !english)
		return true;
	{
		struct lsh_proposal p;

		return !lsh_intent_translate(line, &p);
	}
}

/* ---- running ---- */

static int run_shell(const char *cmd)
{
	pid_t pid;
	int status;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_quit;

	fflush(stdout);
	fflush(stderr);
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	pid = fork();
	if (pid < 0) {
		errmsg("cannot start /bin/sh: %s", strerror(errno));
		return 127;
	}
	if (pid == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	if (WIFSIGNALED(status)) {
		errmsg("killed by signal %d", WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	status = WEXITSTATUS(status);
	if (status)
		errmsg("exit status %d", status);
	return status;
}

/* Reads the answer to a confirmation; NULL on end of input. */
static char *ask(const char *prompt)
{
	if (opt.interactive)
		return readline(prompt);
	{
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;

		fputs(prompt, stdout);
		fflush(stdout);
		n = getline(&line, &cap, stdin);
		if (n < 0) {
			free(line);
			fputc('\n', stdout);
			return NULL;
		}
		if (n && line[n - 1] == '\n')
			line[n - 1] = '\0';
		return line;
	}
}

static bool confirm(bool risky)
{
	char *a;
	bool ok;

	if (!risky && opt.yes)
		return true;
	a = ask(risky ? "Risky: type yes to run it, anything else to skip: " :
		"Run it? [Y/n] ");
	if (!a)
		return false;
	if (risky) {
		ok = !strcmp(a, "yes");
	} else {
		const char *p = a + strspn(a, " \t");

		ok = !*p || *p == 'y' || *p == 'Y';
	}
	free(a);
	return ok;
}

/* ---- builtins ---- */

static bool run_builtin(const char *line, int *status)
{
	char err[128];
	struct sh_list *l = sh_parse(line, err, sizeof(err));
	const struct sh_cmd *c;
	const char *name;
	bool handled = true;

	if (!l || l->npipes != 1 || l->pipes[0].ncmds != 1 ||
	    l->pipes[0].cmds[0].kind != SHC_SIMPLE ||
	    l->pipes[0].cmds[0].nassign || l->pipes[0].cmds[0].nredirs ||
	    !l->pipes[0].cmds[0].nwords) {
		sh_free(l);
		return false;
	}
	c = &l->pipes[0].cmds[0];
	name = c->words[0].value;
	*status = 0;
	if (!strcmp(name, "cd")) {
		const char *dir = c->nwords > 1 ? c->words[1].value : getenv("HOME");
		char buf[PATH_MAX], cwd[PATH_MAX];

		if (dir && !strcmp(dir, "-"))
			dir = getenv("OLDPWD");
		if (dir && (c->words[1 % c->nwords].flags & SHW_TILDE) &&
		    c->nwords > 1) {
			snprintf(buf, sizeof(buf), "%s%s", getenv("HOME") ?
				 getenv("HOME") : "", dir + 1);
			dir = buf;
		}
		if (!getcwd(cwd, sizeof(cwd)))
			cwd[0] = '\0';
		if (!dir || chdir(dir) != 0) {
			errmsg("cd: %s: %s", dir ? dir : "HOME not set",
			       dir ? strerror(errno) : "set HOME or give a folder");
			*status = 1;
		} else {
			setenv("OLDPWD", cwd, 1);
			if (getcwd(cwd, sizeof(cwd)))
				setenv("PWD", cwd, 1);
		}
	} else if (!strcmp(name, "export")) {
		for (size_t i = 1; i < c->nwords; i++) {
			const char *v = c->words[i].value;
			const char *eq = strchr(v, '=');

			if (eq) {
				char key[256];

				snprintf(key, sizeof(key), "%.*s", (int)(eq - v), v);
				setenv(key, eq + 1, 1);
			}
		}
	} else if (!strcmp(name, "exit")) {
		int code = c->nwords > 1 ? atoi(c->words[1].value) : last_status;

		sh_free(l);
		if (opt.interactive)
			write_history(NULL);
		exit(code);
	} else if (!strcmp(name, "alias")) {
		if (c->nwords == 1)
			for (size_t i = 0; i < n_aliases; i++)
				printf("alias %s='%s'\n", aliases[i].name,
				       aliases[i].value);
		for (size_t i = 1; i < c->nwords; i++) {
			const char *v = c->words[i].value;
			const char *eq = strchr(v, '=');

			if (eq) {
				char key[128];

				snprintf(key, sizeof(key), "%.*s", (int)(eq - v), v);
				alias_set(key, eq + 1);
			} else if (alias_get(v)) {
				printf("alias %s='%s'\n", v, alias_get(v));
			} else {
				errmsg("alias: %s: not found", v);
				*status = 1;
			}
		}
	} else if (!strcmp(name, "unalias")) {
		for (size_t i = 1; i < c->nwords; i++)
			alias_unset(c->words[i].value);
	} else if (!strcmp(name, "history")) {
		HIST_ENTRY *h;

		for (int i = 1; (h = history_get(i + history_base - 1)); i++)
			printf("%5d  %s\n", i, h->line);
	} else if (!strcmp(name, "help")) {
		puts("Type a command to run it, or say what you want in English.\n"
		     "Builtins: cd, export, exit, alias, unalias, history, help.\n"
		     "Proposals run on Enter when safe; risky ones need 'yes'.");
	} else {
		handled = false;
	}
	sh_free(l);
	return handled;
}

/* ---- proposals ---- */

static void print_proposal(const struct lsh_proposal *p)
{
	bool c = color && !opt.dry_run;

	printf("%s%s%s\n", c ? "\033[1m" : "", p->cmd, c ? "\033[0m" : "");
	if (p->risky)
		printf("%s# risky: %s%s\n", c ? "\033[1;31m" : "", p->reason,
		       c ? "\033[0m" : "");
	else
		printf("# safe\n");
	printf("# %s\n", p->explain);
	fflush(stdout);
}

static bool model_propose(const char *request, struct lsh_proposal *p)
{
	char err[LLAMUX_ERR_MAX] = "", out[512];
	char perr[128];
	struct sh_list *l;

	if (!model_tried) {
		const char *path = opt.model_path ? opt.model_path :
				   getenv("LLAMUX_MODEL");
		struct lsh_model_choice c;

		model_tried = true;
		if (!lsh_model_choose(opt.backend, path, &c)) {
			errmsg("%s", c.why);
			model_unusable = true;
		} else if (c.backend != LSH_BACKEND_NONE) {
			model = lsh_model_open(&c, err);
			if (!model) {
				errmsg("%s", err);
				model_unusable = true;
			}
		}
	}
	if (!model)
		return false;
	if (!lsh_model_generate(model, request, out, sizeof(out), err)) {
		errmsg("%s", err);
		return false;
	}
	if (!out[0]) {
		errmsg("the model gave no command for this request");
		return false;
	}
	l = sh_parse(out, perr, sizeof(perr));
	if (!l) {
		errmsg("the model's answer does not parse as shell (%s), so it is not run: %s",
		       perr, out);
		return false;
	}
	if (!l->npipes || l->pipes[0].cmds[0].kind != SHC_SIMPLE ||
	    l->pipes[0].cmds[0].nwords <= l->pipes[0].cmds[0].nassign ||
	    !(lsh_is_shell_builtin(l->pipes[0].cmds[0].words[l->pipes[0].cmds[0].nassign].value) ||
	      on_path(l->pipes[0].cmds[0].words[l->pipes[0].cmds[0].nassign].value))) {
		sh_free(l);
		errmsg("the model's answer is not a command this system has, so it is not run: %s",
		       out);
		return false;
	}
	sh_free(l);
	memset(p, 0, sizeof(*p));
	snprintf(p->cmd, sizeof(p->cmd), "%s", out);
	if (!lsh_explain_line(out, p->explain, sizeof(p->explain)))
		snprintf(p->explain, sizeof(p->explain), "(no explanation)");
	p->intent = "model";
	lsh_proposal_classify(p, NULL);
	return true;
}

/* Handles one line; returns the status for -c. */
static int handle_line(const char *input)
{
	char *line = expand_alias(input);
	struct lsh_proposal p;
	int status = 0;

	if (!line)
		return 1;
	if (!line[strspn(line, " \t\n")]) {
		free(line);
		return 0;
	}
	if (!opt.dry_run && run_builtin(line, &status)) {
		free(line);
		return status;
	}
	if (is_command(line)) {
		struct lsh_safety s;

		lsh_classify(line, &s);
		if (opt.dry_run) {
			memset(&p, 0, sizeof(p));
			snprintf(p.cmd, sizeof(p.cmd), "%s", line);
			lsh_explain_line(line, p.explain, sizeof(p.explain));
			lsh_proposal_classify(&p, NULL);
			print_proposal(&p);
			free(line);
			return 0;
		}
		if (s.risky) {
			printf("%s# risky: %s%s\n", color ? "\033[1;31m" : "",
			       s.reason, color ? "\033[0m" : "");
			if (!confirm(true)) {
				puts("Not run.");
				free(line);
				return 1;
			}
		}
		status = run_shell(line);
		free(line);
		return status;
	}
	if (!lsh_intent_translate(line, &p) && !model_propose(line, &p)) {
		if (model_unusable)
			errmsg("no idea how to do that without the model: rephrase it or type a command");
		else if (!model)
			errmsg("no idea how to do that: rephrase it, type a command, or give lsh a model (start llamuxd, or set LLAMUX_MODEL)");
		free(line);
		return 2;
	}
	free(line);
	print_proposal(&p);
	if (opt.dry_run)
		return 0;
	if (!confirm(p.risky)) {
		puts("Not run.");
		return 1;
	}
	if (opt.interactive)
		add_history(p.cmd);
	if (run_builtin(p.cmd, &status))
		return status;
	return run_shell(p.cmd);
}

/* ---- main ---- */

static void usage(FILE *f)
{
	fputs("usage: lsh [-m MODEL] [--backend B] [--dry-run] [--yes] [-c REQUEST]\n"
	      "       lsh --explain 'COMMAND'\n"
	      "       lsh --version\n\n"
	      "A shell that also takes requests in English. Commands run as typed;\n"
	      "requests are translated, explained, and run after you confirm.\n\n"
	      "  -c REQUEST     handle one request (or command) and exit\n"
	      "  --dry-run      print the command, its safety and explanation; never run\n"
	      "  --yes          run safe proposals without asking (never risky ones)\n"
	      "  --explain CMD  explain a shell command in plain English\n"
	      "  -m MODEL       GGUF model for requests the intent engine cannot handle\n"
	      "                 (default: $LLAMUX_MODEL)\n"
	      "  --backend B    where the model fallback runs: daemon (llamuxd),\n"
	      "                 kernel (/dev/llamux), inprocess (-m MODEL), none, or\n"
	      "                 auto: the first of those that is there (default:\n"
	      "                 $LSH_BACKEND, else auto)\n"
	      "  --version      print the version and what lsh can use\n", f);
}

static void print_version(void)
{
	const char *m = opt.model_path ? opt.model_path : getenv("LLAMUX_MODEL");
	struct lsh_model_choice c;
	char what[PATH_MAX + 640];

	lsh_model_choose(opt.backend, m, &c);
	lsh_model_describe(&c, what, sizeof(what));
	printf("lsh %s (llamux %s): intent engine with %zu intents; %s\n",
	       LSH_VERSION, llamux_version(), lsh_n_intents, what);
}

static char *history_path(void)
{
	const char *f = getenv("LSH_HISTFILE");
	const char *home = getenv("HOME");
	char *p;

	if (f && *f)
		return strdup(f);
	if (!home)
		return NULL;
	p = malloc(strlen(home) + 16);
	if (p)
		sprintf(p, "%s/.lsh_history", home);
	return p;
}

static int repl(void)
{
	char *hist = history_path();
	char prompt[PATH_MAX + 16];

	opt.interactive = true;
	color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	using_history();
	stifle_history(1000);
	if (hist)
		read_history(hist);
	print_version();
	puts("Type a command, or say what you want (\"how much disk space is left\"). 'help' for more.");
	for (;;) {
		char cwd[PATH_MAX];
		const char *home = getenv("HOME");
		char *line;

		if (!getcwd(cwd, sizeof(cwd)))
			snprintf(cwd, sizeof(cwd), "?");
		if (home && *home && !strncmp(cwd, home, strlen(home)) &&
		    (cwd[strlen(home)] == '/' || !cwd[strlen(home)]))
			snprintf(prompt, sizeof(prompt), "lsh:~%s$ ", cwd + strlen(home));
		else
			snprintf(prompt, sizeof(prompt), "lsh:%s$ ", cwd);
		line = readline(prompt);
		if (!line) {
			putchar('\n');
			break;
		}
		if (line[strspn(line, " \t")]) {
			add_history(line);
			if (hist)
				write_history(hist);
		}
		if (!strncmp(line, "exit", 4) && (!line[4] || line[4] == ' ')) {
			int code = line[4] ? atoi(line + 5) : last_status;

			free(line);
			free(hist);
			return code;
		}
		last_status = handle_line(line);
		if (hist)
			write_history(hist);
		free(line);
	}
	free(hist);
	return last_status;
}

int main(int argc, char **argv)
{
	const char *request = NULL, *explain = NULL;
	const char *backend = getenv("LSH_BACKEND");
	bool version = false;
	int i;

	if (backend && *backend && !lsh_backend_parse(backend, &opt.backend)) {
		errmsg("LSH_BACKEND='%s' is not a backend: use inprocess, kernel, daemon, auto or none",
		       backend);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-c") && i + 1 < argc) {
			request = argv[++i];
		} else if (!strcmp(a, "--dry-run") || !strcmp(a, "-n")) {
			opt.dry_run = true;
		} else if (!strcmp(a, "--yes") || !strcmp(a, "-y")) {
			opt.yes = true;
		} else if (!strcmp(a, "--explain") && i + 1 < argc) {
			explain = argv[++i];
		} else if (!strcmp(a, "-m") && i + 1 < argc) {
			opt.model_path = argv[++i];
		} else if (!strcmp(a, "--backend") && i + 1 < argc) {
			if (!lsh_backend_parse(argv[++i], &opt.backend)) {
				errmsg("--backend '%s' is not a backend: use inprocess, kernel, daemon, auto or none",
				       argv[i]);
				return 2;
			}
		} else if (!strcmp(a, "--version")) {
			version = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else {
			errmsg("unknown option '%s' (or missing its value); see lsh --help",
			       a);
			return 2;
		}
	}
	if (version) {
		print_version();
		return 0;
	}
	if (explain)
		return lsh_explain_full(explain, stdout);
	if (request) {
		int status;

		color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR") && !opt.dry_run;
		status = handle_line(request);
		lsh_model_close(model);
		return status;
	}
	if (!isatty(STDIN_FILENO)) {
		char *line = NULL;
		size_t cap = 0;

		/* a script of requests/commands on standard input */
		while (getline(&line, &cap, stdin) > 0) {
			line[strcspn(line, "\n")] = '\0';
			last_status = handle_line(line);
		}
		free(line);
		lsh_model_close(model);
		return last_status;
	}
	i = repl();
	lsh_model_close(model);
	return i;
}
