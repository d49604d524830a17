// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * llamuxd's configuration: one table of options that is both the command
 * line (--name VALUE) and the `name = value` lines of
 * /etc/llamux/llamuxd.conf and its drop-ins /etc/llamux/llamuxd.conf.d/NAME.conf
 * (read in name order, later files override earlier ones). Flags override
 * every file. SIGHUP re-reads the files into a fresh copy.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "llamuxd.h"

enum opt_kind { OPT_STR, OPT_LONG, OPT_BOOL, OPT_LEVEL, OPT_MODE };

struct opt {
	const char *name;
	int short_name;		/* 0: none */
	enum opt_kind kind;
	size_t off;
	long min, max;
	const char *arg;	/* for --help */
	const char *help;
};

#define O(field) offsetof(struct lxd_config, field)

static const struct opt opts[] = {
	{ "model", 'm', OPT_STR, O(model), 0, 0, "PATH|NAME",
	  "GGUF model file, or a name in the model directory" },
	{ "model-dir", 0, OPT_STR, O(model_dir), 0, 0, "DIR",
	  "where model names are looked up (default /var/lib/llamux/models)" },
	{ "host", 0, OPT_STR, O(host), 0, 0, "ADDR",
	  "TCP address to listen on (default 127.0.0.1)" },
	{ "port", 0, OPT_LONG, O(port), 0, 65535, "N",
	  "TCP port (default 8080; 0: no TCP listener)" },
	{ "socket", 0, OPT_STR, O(socket_path), 0, 0, "PATH",
	  "Unix socket (default /run/llamux/llamuxd.sock; 'none': no socket)" },
	{ "socket-mode", 0, OPT_MODE, O(socket_mode), 0, 0777, "MODE",
	  "permissions of the Unix socket (default 0666)" },
	{ "parallel", 0, OPT_LONG, O(parallel), 1, 64, "N",
	  "requests generated at once, each with its own KV cache (default 4)" },
	{ "queue", 0, OPT_LONG, O(queue), 0, 100000, "N",
	  "requests that wait for a slot; more get 503 (default 64)" },
	{ "api-key", 0, OPT_STR, O(api_key), 0, 0, "KEY",
	  "require 'Authorization: Bearer KEY' on TCP (default: none)" },
	{ "ctx-size", 'c', OPT_LONG, O(ctx_size), 0, 1 << 24, "N",
	  "context tokens per slot (default: the model's, at most 4096)" },
	{ "threads", 't', OPT_LONG, O(threads), 0, 1024, "N",
	  "threads for inference (default: the CPUs less one, at least 1)" },
	{ "max-tokens", 0, OPT_LONG, O(max_tokens), 1, 1 << 24, "N",
	  "most tokens one request may generate (default 4096)" },
	{ "timeout", 0, OPT_LONG, O(timeout), 0, 86400, "SECONDS",
	  "time limit of one request (default 600; 0: none)" },
	{ "max-body", 0, OPT_LONG, O(max_body), 1024, 1L << 30, "BYTES",
	  "largest request body (default 1048576)" },
	{ "idle-timeout", 0, OPT_LONG, O(idle_timeout), 1, 86400, "SECONDS",
	  "closes connections idle this long (default 30)" },
	{ "max-connections", 0, OPT_LONG, O(max_connections), 1, 100000, "N",
	  "open connections at most (default 512)" },
	{ "grace-period", 0, OPT_LONG, O(grace_period), 0, 86400, "SECONDS",
	  "SIGTERM waits this long for running requests (default 30)" },
	{ "log-level", 0, OPT_LEVEL, O(log_level), 0, 0, "LEVEL",
	  "error, warning, notice, info (default) or debug" },
	{ "dbus", 0, OPT_BOOL, O(dbus), 0, 0, "yes|no",
	  "offer org.llamux.Llamux1 on D-Bus (default yes)" },
	{ "mmap", 0, OPT_BOOL, O(mmap), 0, 0, "yes|no",
	  "map models from the page cache (default yes); no: read them into memory in 2 MiB pages" },
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

/* Flags given on the command line, applied after every file. */
static struct flag {
	const struct opt *o;
	const char *value;
} *flags;
static size_t n_flags;
static char *config_flag;	/* --config */
static bool user_flag;

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
}

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: llamuxd -m MODEL [--host ADDR] [--port N] [--parallel N] [--queue N] [--api-key KEY] [--config FILE] [--user] [OPTIONS]\n\n"
		     "The Llamux service: an OpenAI-compatible HTTP API on TCP and a Unix\n"
		     "socket, and org.llamux.Llamux1 on D-Bus.\n\n");
	for (i = 0; i < N_OPTS; i++) {
		char left[64];

		snprintf(left, sizeof(left), "%s%c%s--%s %s",
			 opts[i].short_name ? "-" : "   ",
			 opts[i].short_name ? opts[i].short_name : ' ',
			 opts[i].short_name ? ", " : "", opts[i].name,
			 opts[i].arg);
		fprintf(out, "  %-30s %s\n", left, opts[i].help);
	}
	fprintf(out, "  %-30s %s\n", "    --no-dbus", "same as --dbus no");
	fprintf(out, "  %-30s %s\n", "    --no-mmap", "same as --mmap no");
	fprintf(out, "  %-30s %s\n", "    --config FILE",
		"configuration file (default /etc/llamux/llamuxd.conf, then FILE.d/*.conf)");
	fprintf(out, "  %-30s %s\n", "    --user",
		"per-user service: session bus, $XDG_RUNTIME_DIR/llamux/llamuxd.sock");
	fprintf(out, "  %-30s %s\n", "-h, --help", "this help");
	fprintf(out, "  %-30s %s\n", "    --version", "the version");
	fprintf(out, "\nSee llamuxd(8) and llamuxd.conf(5).\n");
}

static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return true;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* Sets one option from text; why gets the reason when false. */
static bool apply(struct lxd_config *c, const struct opt *o, const char *v,
		  char *why, size_t cap)
{
	void *p = (char *)c + o->off;
	char *end;
	long n;

	switch (o->kind) {
	case OPT_STR:
		set_str((char **)p, v);
		return true;
	case OPT_LONG:
	case OPT_MODE:
		errno = 0;
		n = strtol(v, &end, o->kind == OPT_MODE ? 8 : 10);
		if (errno || end == v || *end) {
			snprintf(why, cap, "%s expects a %s, got '%s'", o->name,
				 o->kind == OPT_MODE ? "octal mode" : "whole number",
				 v);
			return false;
		}
		if (n < o->min || n > o->max) {
			snprintf(why, cap, "%s must be between %ld and %ld, got %ld",
				 o->name, o->min, o->max, n);
			return false;
		}
		*(long *)p = n;
		return true;
	case OPT_BOOL:
		if (!parse_bool(v, (bool *)p)) {
			snprintf(why, cap, "%s expects yes or no, got '%s'",
				 o->name, v);
			return false;
		}
		return true;
	case OPT_LEVEL:
		if (!lxd_log_parse_level(v, (int *)p)) {
			snprintf(why, cap, "%s must be error, warning, notice, info or debug, got '%s'",
				 o->name, v);
			return false;
		}
		return true;
	}
	return false;
}

static const struct opt *find_opt(const char *name)
{
	size_t i;

	for (i = 0; i < N_OPTS; i++)
		if (!strcmp(opts[i].name, name))
			return &opts[i];
	return NULL;
}

static char *user_dir(const char *xdg, const char *home_rel, const char *leaf)
{
	const char *base = getenv(xdg), *home = getenv("HOME");
	char *p = NULL;

	if (base && *base) {
		if (asprintf(&p, "%s/llamux%s", base, leaf) < 0)
			return NULL;
	} else if (home && *home) {
		if (asprintf(&p, "%s/%s/llamux%s", home, home_rel, leaf) < 0)
			return NULL;
	}
	return p;
}

static void defaults(struct lxd_config *c)
{
	memset(c, 0, sizeof(*c));
	c->user = user_flag;
	c->host = strdup("127.0.0.1");
	c->port = 8080;
	c->socket_mode = 0666;
	c->parallel = 4;
	c->queue = 64;
	c->api_key = strdup("");
	c->max_tokens = 4096;
	c->timeout = 600;
	c->max_body = 1L << 20;
	c->idle_timeout = 30;
	c->max_connections = 512;
	c->grace_period = 30;
	c->log_level = LXD_LOG_INFO;
	c->dbus = true;
	c->mmap = true;
	if (c->user) {
		const char *rt = getenv("XDG_RUNTIME_DIR");

		if (rt && *rt) {
			if (asprintf(&c->socket_path, "%s/llamux/llamuxd.sock",
				     rt) < 0)
				c->socket_path = NULL;
		} else if (asprintf(&c->socket_path, "/run/user/%u/llamux/llamuxd.sock",
				    (unsigned int)getuid()) < 0) {
			c->socket_path = NULL;
		}
		c->model_dir = user_dir("XDG_DATA_HOME", ".local/share",
					"/models");
		c->config_path = config_flag ? strdup(config_flag) :
			user_dir("XDG_CONFIG_HOME", ".config", "/llamuxd.conf");
	} else {
		c->socket_path = strdup("/run/llamux/llamuxd.sock");
		c->model_dir = strdup("/var/lib/llamux/models");
		c->config_path = strdup(config_flag ? config_flag :
					"/etc/llamux/llamuxd.conf");
	}
	if (!c->socket_path)
		c->socket_path = strdup("");
	if (!c->model_dir)
		c->model_dir = strdup("models");
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
			 e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* One file; a missing file is fine unless required. */
static bool read_file(struct lxd_config *c, const char *path, bool required)
{
	char *line = NULL, why[256];
	size_t cap = 0;
	unsigned int lineno = 0;
	bool ok = true;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		if (!required && errno == ENOENT)
			return true;
		lxd_err("cannot read the configuration %s: %s", path,
			strerror(errno));
		return false;
	}
	while (getline(&line, &cap, f) >= 0) {
		char *s = trim(line), *eq, *key, *val;
		const struct opt *o;
		size_t vl;

		lineno++;
		if (!*s || *s == '#' || *s == ';')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			lxd_err("%s:%u: expected 'name = value'", path, lineno);
			ok = false;
			continue;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		vl = strlen(val);
		if (vl >= 2 && ((val[0] == '"' && val[vl - 1] == '"') ||
				(val[0] == '\'' && val[vl - 1] == '\''))) {
			val[vl - 1] = '\0';
			val++;
		}
		o = find_opt(key);
		if (!o) {
			lxd_err("%s:%u: unknown option '%s' (see llamuxd.conf(5))",
				path, lineno, key);
			ok = false;
			continue;
		}
		if (!apply(c, o, val, why, sizeof(why))) {
			lxd_err("%s:%u: %s", path, lineno, why);
			ok = false;
		}
	}
	free(line);
	fclose(f);
	return ok;
}

static int conf_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 &&
	       !strcmp(d->d_name + n - 5, ".conf");
}

/* The main file, then FILE.d/ *.conf in name order; then the flags. */
static bool load(struct lxd_config *c)
{
	struct dirent **list = NULL;
	char *dir = NULL, *p;
	bool ok;
	int n, i;
	size_t k;

	ok = read_file(c, c->config_path, config_flag != NULL);
	if (asprintf(&dir, "%s.d", c->config_path) >= 0) {
		n = scandir(dir, &list, conf_filter, alphasort);
		for (i = 0; i < n; i++) {
			if (asprintf(&p, "%s/%s", dir, list[i]->d_name) >= 0) {
				ok &= read_file(c, p, false);
				free(p);
			}
			free(list[i]);
		}
		free(list);
		free(dir);
	}
	for (k = 0; k < n_flags; k++) {
		char why[256];

		if (!apply(c, flags[k].o, flags[k].value, why, sizeof(why))) {
			lxd_err("%s", why);
			ok = false;
		}
	}
	if (!strcmp(c->socket_path, "none"))
		c->socket_path[0] = '\0';
	return ok;
}

bool lxd_config_init(struct lxd_config *c, int argc, char **argv,
		     int *exit_code)
{
	struct option lo[N_OPTS + 7];
	char shorts[64] = ":hm:c:t:";
	size_t i;
	int opt, idx;

	for (i = 0; i < N_OPTS; i++) {
		lo[i].name = opts[i].name;
		lo[i].has_arg = required_argument;
		lo[i].flag = NULL;
		lo[i].val = 1000 + (int)i;
	}
	lo[i++] = (struct option){ "config", required_argument, NULL, 'C' };
	lo[i++] = (struct option){ "user", no_argument, NULL, 'U' };
	lo[i++] = (struct option){ "no-dbus", no_argument, NULL, 'D' };
	lo[i++] = (struct option){ "no-mmap", no_argument, NULL, 'M' };
	lo[i++] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[i++] = (struct option){ "version", no_argument, NULL, 'V' };
	lo[i] = (struct option){ NULL, 0, NULL, 0 };

	memset(c, 0, sizeof(*c));
	*exit_code = 2;
	flags = calloc((size_t)argc + 1, sizeof(*flags));
	if (!flags)
		return false;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shorts, lo, &idx)) != -1) {
		const struct opt *o = NULL;

		switch (opt) {
		case 'm':
			o = find_opt("model");
			break;
		case 'c':
			o = find_opt("ctx-size");
			break;
		case 't':
			o = find_opt("threads");
			break;
		case 'C':
			config_flag = optarg;
			continue;
		case 'U':
			user_flag = true;
			continue;
		case 'D':
		case 'M':
			o = find_opt(opt == 'D' ? "dbus" : "mmap");
			flags[n_flags].o = o;
			flags[n_flags++].value = "no";
			continue;
		case 'h':
			usage(stdout);
			*exit_code = 0;
			return true;
		case 'V':
			printf("llamuxd %s\n", llamux_version());
			*exit_code = 0;
			return true;
		case ':':
			fprintf(stderr, "llamuxd: %s needs a value\n",
				argv[optind - 1]);
			usage(stderr);
			return false;
		case '?':
			fprintf(stderr, "llamuxd: unknown option '%s'\n",
				argv[optind - 1]);
			usage(stderr);
			return false;
		default:
			if (opt >= 1000 && opt < 1000 + (int)N_OPTS)
				o = &opts[opt - 1000];
			break;
		}
		if (!o)
			return false;
		flags[n_flags].o = o;
		flags[n_flags++].value = optarg;
	}
	if (optind < argc) {
		fprintf(stderr, "llamuxd: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return false;
	}
	/* Values checked once here, so that a reload never fails on them. */
	defaults(c);
	for (i = 0; i < n_flags; i++) {
		char why[256];

		if (!apply(c, flags[i].o, flags[i].value, why, sizeof(why))) {
			fprintf(stderr, "llamuxd: --%s\n", why);
			lxd_config_free(c);
			return false;
		}
	}
	lxd_config_free(c);
	defaults(c);
	if (!load(c)) {
		*exit_code = 1;
		lxd_config_free(c);
		return false;
	}
	if (!c->model || !*c->model) {
		fprintf(stderr, "llamuxd: no model: give -m MODEL or 'model = PATH' in %s\n",
			c->config_path);
		lxd_config_free(c);
		return false;
	}
	*exit_code = 0;
	return true;
}

bool lxd_config_reload(const struct lxd_config *old, struct lxd_config *c)
{
	(void)old;
	defaults(c);
	if (!load(c)) {
		lxd_config_free(c);
		return false;
	}
	return true;
}

void lxd_config_free(struct lxd_config *c)
{
	free(c->model);
	free(c->model_dir);
	free(c->host);
	free(c->socket_path);
	free(c->api_key);
	free(c->config_path);
	memset(c, 0, sizeof(*c));
}

char *lxd_resolve_model(const struct lxd_config *c, const char *name)
{
	char *p = NULL;
	size_t n = strlen(name);

	if (strchr(name, '/') || !c->model_dir || !*c->model_dir)
		return strdup(name);
	if (n > 5 && !strcmp(name + n - 5, ".gguf")) {
		if (asprintf(&p, "%s/%s", c->model_dir, name) < 0)
			return NULL;
		if (access(p, F_OK) == 0)
			return p;
		free(p);
		return strdup(name);
	}
	if (asprintf(&p, "%s/%s.gguf", c->model_dir, name) < 0)
		return NULL;
	if (access(p, F_OK) == 0)
		return p;
	free(p);
	if (asprintf(&p, "%s/%s", c->model_dir, name) < 0)
		return NULL;
	if (access(p, F_OK) == 0)
		return p;
	free(p);
	return strdup(name);
}

/* ---- the configuration in force ---- */

static struct lxd_config current;
static pthread_rwlock_t current_lock = PTHREAD_RWLOCK_INITIALIZER;

const struct lxd_config *lxd_config_get(void)
{
	pthread_rwlock_rdlock(&current_lock);
	return &current;
}

void lxd_config_put(void)
{
	pthread_rwlock_unlock(&current_lock);
}

void lxd_config_set(const struct lxd_config *c)
{
	pthread_rwlock_wrlock(&current_lock);
	lxd_config_free(&current);
	current = *c;
	pthread_rwlock_unlock(&current_lock);
	lxd_log_set_level(c->log_level);
}
