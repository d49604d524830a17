// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Where llamux keeps things (XDG directories for a user, /var/lib and /etc
 * system-wide), the simple `key = value` files used for the configuration
 * and the state (`model = tinyllama`; lines it does not know are kept as
 * they are when it rewrites a file), and the record of the last run's
 * speeds that `llamux status` shows.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

static void why_set(char *why, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void why_set(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (!why || !cap)
		return;
	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fputs("llamux: error: out of memory\n", stderr);
		exit(1);
	}
	return s;
}

/* ---- locations ---- */

const char *cli_sysroot(void)
{
	const char *r = getenv("LLAMUX_SYSROOT");

	return r ? r : "";
}

char *cli_system_path(const char *path)
{
	return xasprintf("%s%s", cli_sysroot(), path);
}

static const char *home_dir(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home && home[0] == '/')
		return home;
	pw = getpwuid(getuid());
	return pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
}

char *cli_user_path(const char *xdg_var, const char *home_rel,
		    const char *leaf, char *why, size_t cap)
{
	const char *xdg = getenv(xdg_var), *home;

	/* The XDG spec ignores relative values. */
	if (xdg && xdg[0] == '/')
		return xasprintf("%s/llamux%s%s", xdg, leaf ? "/" : "",
				 leaf ? leaf : "");
	home = home_dir();
	if (!home) {
		why_set(why, cap, "cannot find your home directory: set HOME or %s",
			xdg_var);
		return NULL;
	}
	return xasprintf("%s/%s/llamux%s%s", home, home_rel, leaf ? "/" : "",
			 leaf ? leaf : "");
}

enum store_kind cli_own_store(void)
{
	return geteuid() == 0 ? STORE_SYSTEM : STORE_USER;
}

char *cli_store_dir(enum store_kind k, char *why, size_t cap)
{
	if (k == STORE_SYSTEM)
		return cli_system_path("/var/lib/llamux/models");
	return cli_user_path("XDG_DATA_HOME", ".local/share", "models", why, cap);
}

const char *cli_store_label(enum store_kind k)
{
	return k == STORE_SYSTEM ? "system" : "user";
}

char *cli_system_config_path(void)
{
	return cli_system_path("/etc/llamux/llamux.conf");
}

char *cli_config_path(char *why, size_t cap)
{
	if (geteuid() == 0)
		return cli_system_config_path();
	return cli_user_path("XDG_CONFIG_HOME", ".config", "config", why, cap);
}

char *cli_state_path(const char *leaf, char *why, size_t cap)
{
	return cli_user_path("XDG_STATE_HOME", ".local/state", leaf, why, cap);
}

bool cli_mkdirs(const char *dir, mode_t mode, char *why, size_t cap)
{
	char *p = strdup(dir), *s;
	bool ok = true;

	if (!p) {
		why_set(why, cap, "out of memory");
		return false;
	}
	for (s = p + 1; ok; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, mode) && errno != EEXIST) {
			why_set(why, cap, "cannot create %s: %s", p, strerror(errno));
			ok = false;
		}
		*s = c;
		if (!c)
			break;
	}
	if (ok) {
		struct stat st;

		if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
			why_set(why, cap, "%s is not a directory", dir);
			ok = false;
		}
	}
	free(p);
	return ok;
}

char *cli_pretty_path(const char *path)
{
	const char *home = getenv("HOME");
	size_t n = home ? strlen(home) : 0;

	if (n > 1 && !strncmp(path, home, n) && path[n] == '/')
		return xasprintf("~%s", path + n);
	return xasprintf("%s", path);
}

/* ---- key = value files ---- */

struct kv_line {
	char *text;	/* the line as read or written, without newline */
	char *key;	/* NULL: comment, blank or not key = value */
	char *value;
};

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static void parse_line(struct kv_line *l)
{
	char *copy = strdup(l->text), *eq, *k, *v;
	size_t n;

	l->key = l->value = NULL;
	if (!copy)
		return;
	k = trim(copy);
	eq = strchr(k, '=');
	if (*k == '#' || *k == ';' || !eq) {
		free(copy);
		return;
	}
	*eq = '\0';
	v = trim(eq + 1);
	k = trim(k);
	n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v[n - 1] = '\0';
		v++;
	}
	if (*k) {
		l->key = strdup(k);
		l->value = strdup(v);
	}
	free(copy);
}

static void lines_free(struct kv_line *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].text);
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
}

/* Reads the file's lines; a missing file has none. false on other errors. */
static bool read_lines(const char *path, struct kv_line **out, size_t *n_out,
		       char *why, size_t cap)
{
	FILE *f = fopen(path, "r");
	struct kv_line *v = NULL;
	size_t n = 0, alloc = 0, len = 0;
	char *line = NULL;
	ssize_t r;

	*out = NULL;
	*n_out = 0;
	if (!f) {
		if (errno == ENOENT)
			return true;
		why_set(why, cap, "cannot read %s: %s", path, strerror(errno));
		return false;
	}
	while ((r = getline(&line, &len, f)) >= 0) {
		if (r > 0 && line[r - 1] == '\n')
			line[r - 1] = '\0';
		if (n == alloc) {
			struct kv_line *nv;

			alloc = alloc ? 2 * alloc : 16;
			nv = realloc(v, alloc * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		v[n].text = strdup(line);
		if (!v[n].text)
			break;
		parse_line(&v[n]);
		n++;
	}
	free(line);
	fclose(f);
	*out = v;
	*n_out = n;
	return true;
}

char *kv_get(const char *path, const char *key)
{
	struct kv_line *v;
	char *value = NULL;
	size_t n, i;

	if (!read_lines(path, &v, &n, NULL, 0))
		return NULL;
	for (i = 0; i < n; i++)
		if (v[i].key && !strcmp(v[i].key, key)) {
			free(value);
			value = strdup(v[i].value);
		}
	lines_free(v, n);
	return value;
}

static bool write_lines(const char *path, const struct kv_line *v, size_t n,
			char *why, size_t cap)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	struct stat st;
	mode_t mode = 0644;
	bool ok = true;
	FILE *f;
	size_t i;
	int fd;

	if (!stat(path, &st))
		mode = st.st_mode & 07777;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		why_set(why, cap, "cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(tmp);
		return false;
	}
	for (i = 0; i < n; i++)
		if (v[i].text)
			fprintf(f, "%s\n", v[i].text);
	if (fflush(f) || fsync(fileno(f)))
		ok = false;
	if (fclose(f))
		ok = false;
	if (ok && rename(tmp, path))
		ok = false;
	if (!ok) {
		why_set(why, cap, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return ok;
}

bool kv_update(const char *path, const char *const *keys,
	       const char *const *values, size_t n, char *why, size_t cap)
{
	struct kv_line *v, *nv;
	size_t n_lines, i, j;
	char *dir, *slash;
	bool ok;

	dir = strdup(path);
	if (!dir) {
		why_set(why, cap, "out of memory");
		return false;
	}
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (!cli_mkdirs(dir, 0755, why, cap)) {
			free(dir);
			return false;
		}
	}
	free(dir);
	if (!read_lines(path, &v, &n_lines, why, cap))
		return false;
	nv = realloc(v, (n_lines + n + 1) * sizeof(*v));
	if (!nv) {
		lines_free(v, n_lines);
		why_set(why, cap, "out of memory");
		return false;
	}
	v = nv;
	for (j = 0; j < n; j++) {
		bool done = false;

		for (i = 0; i < n_lines; i++) {
			if (!v[i].key || strcmp(v[i].key, keys[j]))
				continue;
			free(v[i].text);
			v[i].text = NULL;	/* dropped when written */
			if (!done && values[j])
				v[i].text = xasprintf("%s = %s", keys[j], values[j]);
			done = true;
		}
		if (!done && values[j]) {
			v[n_lines].text = xasprintf("%s = %s", keys[j], values[j]);
			v[n_lines].key = strdup(keys[j]);
			v[n_lines].value = strdup(values[j]);
			n_lines++;
		}
	}
	ok = write_lines(path, v, n_lines, why, cap);
	lines_free(v, n_lines);
	return ok;
}

char *cli_config_model(char **from)
{
	char *path, *value = NULL;

	*from = NULL;
	if (geteuid() != 0) {
		path = cli_config_path(NULL, 0);
		if (path) {
			value = kv_get(path, "model");
			if (value && *value) {
				*from = path;
				return value;
			}
			free(value);
			free(path);
		}
	}
	path = cli_system_config_path();
	value = kv_get(path, "model");
	if (value && *value) {
		*from = path;
		return value;
	}
	free(value);
	free(path);
	return NULL;
}

/* ---- the last run ---- */

void cli_record_run(const char *model, size_t n_prompt, double prompt_s,
		    long n_gen, double gen_s)
{
	static const char *const keys[] = {
		"model", "time", "prompt_tokens", "prompt_tokens_per_s",
		"generated_tokens", "generate_tokens_per_s",
	};
	char *path = cli_state_path("last-run", NULL, 0), *abs = NULL;
	char when[32], np[32], ptps[32], ng[32], gtps[32];
	const char *values[6];

	if (!path)
		return;
	if (model)
		abs = realpath(model, NULL);
	snprintf(when, sizeof(when), "%lld", (long long)time(NULL));
	snprintf(np, sizeof(np), "%zu", n_prompt);
	snprintf(ptps, sizeof(ptps), "%.1f", prompt_s > 0 ? n_prompt / prompt_s : 0.0);
	snprintf(ng, sizeof(ng), "%ld", n_gen);
	snprintf(gtps, sizeof(gtps), "%.1f", gen_s > 0 ? n_gen / gen_s : 0.0);
	values[0] = abs ? abs : (model ? model : "");
	values[1] = when;
	values[2] = np;
	values[3] = ptps;
	values[4] = ng;
	values[5] = gtps;
	kv_update(path, keys, values, 6, NULL, 0);
	free(abs);
	free(path);
}
