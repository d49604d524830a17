// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * llamux model: the models on this machine. `list` shows both stores,
 * `use` makes one the active model, `info` describes one, `pull`
 * downloads one from the catalogue or a URL, `rm` deletes one, `path`
 * prints the file a name stands for (for scripts). One small function per
 * sub-subcommand, found in a table like the commands are.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "store.h"

struct sub {
	const char *name;
	const char *usage;
	int (*run)(const struct sub *s, int argc, char **argv);
};

static int sub_usage(const struct sub *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int sub_usage(const struct sub *s, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "llamux model %s: ", s->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s\n", s->usage);
	return EXIT_USAGE;
}

/*
 * Splits argv (after the sub-subcommand) into at most max_pos positional
 * arguments and the flags in `flags` ("--force", ...; *seen[i] set).
 * Returns the number of positionals, or -1 after a usage error.
 */
static int parse(const struct sub *s, int argc, char **argv, int max_pos,
		 char **pos, const char *const *flags, bool *seen)
{
	bool dashdash = false;
	int i, n = 0, f;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!dashdash && !strcmp(a, "--")) {
			dashdash = true;
			continue;
		}
		if (!dashdash && a[0] == '-' && a[1]) {
			for (f = 0; flags && flags[f]; f++)
				if (!strcmp(a, flags[f]))
					break;
			if (!flags || !flags[f]) {
				sub_usage(s, "unknown option '%s'", a);
				return -1;
			}
			seen[f] = true;
			continue;
		}
		if (n == max_pos) {
			sub_usage(s, "unexpected argument '%s'", a);
			return -1;
		}
		pos[n++] = argv[i];
	}
	return n;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return a && b && !stat(a, &sa) && !stat(b, &sb) &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* ---- list ---- */

static int do_list(const struct sub *s, int argc, char **argv)
{
	char why[WHY_MAX] = "", size[24], total[24], *source = NULL, *active;
	char *dirs[2], *names;
	struct store_model *v;
	size_t n, i, width = 4, shown = 0;
	bool none = false;

	if (parse(s, argc, argv, 0, NULL, NULL, NULL) < 0)
		return EXIT_USAGE;
	active = store_active(NULL, &source, &none, why, sizeof(why));
	v = store_list(&n);
	for (i = 0; i < n; i++)
		if (!v[i].partial && strlen(v[i].name) > width)
			width = strlen(v[i].name);
	for (i = 0; i < n; i++) {
		struct model_facts f;

		if (v[i].partial)
			continue;
		if (!shown++)
			printf("  %-*s  %-10s  %-7s  %-10s  %s\n", (int)width,
			       "NAME", "SIZE", "TYPE", "ARCH", "STORE");
		store_model_facts(v[i].path, &f);
		printf("%c %-*s  %-10s  %-7s  %-10s  %s", same_file(active, v[i].path) ? '*' : ' ',
		       (int)width, v[i].name,
		       cli_size_str(v[i].size, size, sizeof(size)), f.type,
		       f.arch, cli_store_label(v[i].store));
		if (!f.ok)
			printf("  (cannot be used: %s)", f.error);
		printf("\n");
	}
	for (i = 0; i < n; i++) {
		const struct catalogue_entry *e;

		if (!v[i].partial)
			continue;
		e = catalogue_find(v[i].name);
		if (e && e->size)
			printf("unfinished download: %s (%s of %s): 'llamux model pull %s' resumes it\n",
			       v[i].name, cli_size_str(v[i].size, size, sizeof(size)),
			       cli_size_str(e->size, total, sizeof(total)), v[i].name);
		else
			printf("unfinished download: %s (%s): 'llamux model pull %s' resumes it\n",
			       v[i].file, cli_size_str(v[i].size, size, sizeof(size)),
			       e ? v[i].name : "URL");
	}
	if (!shown)
		printf("no models yet: run 'llamux model pull %s'\n", CATALOGUE_DEFAULT);
	printf("\n");
	dirs[0] = cli_store_dir(STORE_USER, NULL, 0);
	dirs[1] = cli_store_dir(STORE_SYSTEM, NULL, 0);
	for (i = 0; i < 2; i++) {
		char *p = dirs[i] ? cli_pretty_path(dirs[i]) : NULL;

		printf("%s store:%s %s%s\n", i ? "system" : "user", i ? "" : "  ",
		       p ? p : "(no home directory)",
		       cli_own_store() == (i ? STORE_SYSTEM : STORE_USER) ?
		       " (pulls go here)" : "");
		free(p);
		free(dirs[i]);
	}
	if (active) {
		const char *shown_as = active;

		for (i = 0; i < n; i++)
			if (!v[i].partial && same_file(active, v[i].path))
				shown_as = v[i].name;
		printf("active model: %s (from %s)\n", shown_as, source);
	} else if (none) {
		printf("active model: none ('llamux model use NAME' chooses one)\n");
	} else {
		printf("active model: missing: %s\n", why);
	}
	names = catalogue_names();
	printf("catalogue:    %s ('llamux model pull NAME')\n", names ? names : "");
	free(names);
	store_list_free(v, n);
	free(active);
	free(source);
	return 0;
}

/* ---- use ---- */

static int do_use(const struct sub *s, int argc, char **argv)
{
	char why[WHY_MAX] = "", err[LLAMUX_ERR_MAX] = "", *pos[1];
	char *path, *config, *value, *env = getenv("LLAMUX_MODEL"), *pretty;
	const char *keys[] = { "model" }, *values[1];
	struct llamux_model *m;
	enum store_kind k;
	int rc = 1;

	switch (parse(s, argc, argv, 1, pos, NULL, NULL)) {
	case -1:
		return EXIT_USAGE;
	case 0:
		return sub_usage(s, "missing NAME");
	}
	path = store_resolve(pos[0], NULL, why, sizeof(why));
	if (!path)
		return cli_fail("%s", why);
	m = llamux_model_load(path, LLAMUX_LOAD_METADATA_ONLY, err);
	if (!m) {
		rc = cli_fail("model '%s': %s", path, err);
		free(path);
		return rc;
	}
	llamux_model_free(m);
	if (store_holds(path, &k)) {
		const char *base = strrchr(path, '/');

		value = store_name_for_file(base ? base + 1 : path);
	} else {
		value = realpath(path, NULL);
		if (!value) {
			rc = cli_fail("model '%s': %s", path, strerror(errno));
			free(path);
			return rc;
		}
	}
	config = cli_config_path(why, sizeof(why));
	if (!config) {
		rc = cli_fail("%s", why);
		goto out;
	}
	values[0] = value;
	if (!kv_update(config, keys, values, 1, why, sizeof(why))) {
		rc = cli_fail("%s", why);
		free(config);
		goto out;
	}
	pretty = cli_pretty_path(config);
	printf("active model: %s (%s), saved in %s\n", value, path, pretty);
	if (env && *env)
		printf("note: LLAMUX_MODEL=%s is set and takes precedence while it is\n",
		       env);
	free(pretty);
	free(config);
	rc = 0;
out:
	free(value);
	free(path);
	return rc;
}

/* ---- info, path ---- */

static int do_info(const struct sub *s, int argc, char **argv)
{
	char *pos[1], *path, *av[3];
	int n = parse(s, argc, argv, 1, pos, NULL, NULL), rc;

	if (n < 0)
		return EXIT_USAGE;
	path = cli_resolve_model(n ? pos[0] : NULL);
	if (!path)
		return 1;
	av[0] = "info";
	av[1] = path;
	av[2] = NULL;
	rc = cmd_info.run(2, av);
	free(path);
	return rc;
}

static int do_path(const struct sub *s, int argc, char **argv)
{
	char *pos[1], *path;
	int n = parse(s, argc, argv, 1, pos, NULL, NULL);

	if (n < 0)
		return EXIT_USAGE;
	path = cli_resolve_model(n ? pos[0] : NULL);
	if (!path)
		return 1;
	printf("%s\n", path);
	free(path);
	return 0;
}

/* ---- pull ---- */

static bool is_url(const char *s)
{
	return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The file name a URL's path ends in, percent-decoded; NULL if unusable. */
static char *file_from_url(const char *url)
{
	const char *p = strstr(url, "://") + 3, *end, *slash;
	char *out, *o;
	size_t n;

	end = p + strcspn(p, "?#");
	slash = memchr(p, '/', (size_t)(end - p));
	if (!slash)
		return NULL;
	for (p = end; p > slash && p[-1] != '/'; p--)
		;
	n = (size_t)(end - p);
	out = o = malloc(n + 6);
	if (!out)
		return NULL;
	for (; p < end; p++) {
		if (*p == '%' && end - p >= 3 && hex(p[1]) >= 0 && hex(p[2]) >= 0) {
			*o++ = (char)(hex(p[1]) * 16 + hex(p[2]));
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	if (!out[0] || out[0] == '.' || strchr(out, '/') || strlen(out) > 200) {
		free(out);
		return NULL;
	}
	n = strlen(out);
	if (n < 5 || strcmp(out + n - 5, ".gguf"))
		strcat(out, ".gguf");
	return out;
}

/* The file in either store, if it is there. */
static char *find_in_stores(const char *file)
{
	enum store_kind own = cli_own_store();
	enum store_kind kinds[2] = { own, own == STORE_USER ? STORE_SYSTEM : STORE_USER };
	struct stat st;
	int i;

	for (i = 0; i < 2; i++) {
		char *dir = cli_store_dir(kinds[i], NULL, 0), *path = NULL;

		if (dir && asprintf(&path, "%s/%s", dir, file) >= 0 &&
		    !stat(path, &st) && S_ISREG(st.st_mode)) {
			free(dir);
			return path;
		}
		free(path);
		free(dir);
	}
	return NULL;
}

static void make_active_if_none(const char *name)
{
	char why[WHY_MAX] = "", *from = NULL, *cfg = cli_config_model(&from);
	char *config, *env = getenv("LLAMUX_MODEL");
	const char *keys[] = { "model" }, *values[] = { name };

	if (cfg || (env && *env)) {
		free(cfg);
		free(from);
		return;
	}
	config = cli_config_path(why, sizeof(why));
	if (config && kv_update(config, keys, values, 1, why, sizeof(why)))
		printf("active model: %s (the first one; 'llamux model use NAME' changes it)\n",
		       name);
	else
		fprintf(stderr, "llamux: warning: cannot make %s the active model: %s\n",
			name, why);
	free(config);
}

static int do_pull(const struct sub *s, int argc, char **argv)
{
	static const char *const flags[] = { "--force", "-f", NULL };
	bool seen[2] = { false, false };
	const struct catalogue_entry *e = NULL;
	struct pull_request req = { 0 };
	char why[WHY_MAX], *pos[1], *file = NULL, *name = NULL, *dir = NULL;
	char *have, *names, *part = NULL;
	int n, rc = 1;

	n = parse(s, argc, argv, 1, pos, flags, seen);
	if (n < 0)
		return EXIT_USAGE;
	if (n == 0) {
		names = catalogue_names();
		rc = sub_usage(s, "missing NAME or URL (catalogue: %s)",
			       names ? names : "");
		free(names);
		return rc;
	}
	if (is_url(pos[0])) {
		file = file_from_url(pos[0]);
		if (!file)
			return cli_fail("cannot tell a file name from the URL %s: give a URL that ends in the file, like http://HOST/PATH/NAME.gguf",
					pos[0]);
		name = store_name_for_file(file);
		req.url = pos[0];
		req.sha256 = "";
	} else {
		e = catalogue_find(pos[0]);
		if (!e) {
			names = catalogue_names();
			rc = cli_fail("'%s' is not in the catalogue (%s): give a name from it or an http(s) URL of a .gguf file",
				      pos[0], names ? names : "");
			free(names);
			return rc;
		}
		file = strdup(e->file);
		name = strdup(e->name);
		req.url = catalogue_url(e);
		req.sha256 = e->sha256;
		req.size = e->size;
		req.catalogue = true;
	}
	have = find_in_stores(file);
	if (have && !seen[0] && !seen[1]) {
		printf("%s is already here: %s ('--force' downloads it again)\n",
		       name, have);
		free(have);
		rc = 0;
		goto out;
	}
	free(have);
	dir = cli_store_dir(cli_own_store(), why, sizeof(why));
	if (!dir) {
		rc = cli_fail("%s", why);
		goto out;
	}
	if ((seen[0] || seen[1]) && asprintf(&part, "%s/%s.part", dir, file) >= 0)
		unlink(part);	/* --force: start over */
	req.name = name;
	req.dir = dir;
	req.file = file;
	rc = cli_pull(&req);
	if (rc == 0)
		make_active_if_none(name);
out:
	if (e)
		free((char *)req.url);
	free(part);
	free(dir);
	free(file);
	free(name);
	return rc;
}

/* ---- rm ---- */

/* NAME, FILE or FILE without .gguf. */
static bool names_model(const struct store_model *m, const char *spec)
{
	size_t n = strlen(spec);

	return !strcmp(m->name, spec) || !strcmp(m->file, spec) ||
	       (!strncmp(m->file, spec, n) && !strcmp(m->file + n, ".gguf"));
}

static int do_rm(const struct sub *s, int argc, char **argv)
{
	char why[WHY_MAX] = "", *pos[1], *from = NULL, *cfg, *config, *path = NULL;
	char *part = NULL, *name = NULL;
	const char *keys[] = { "model" }, *values[] = { NULL };
	struct store_model *v;
	enum store_kind k = STORE_USER;
	bool was_active = false, removed = false, only_partial = false;
	size_t n, i;
	int rc = 1;

	switch (parse(s, argc, argv, 1, pos, NULL, NULL)) {
	case -1:
		return EXIT_USAGE;
	case 0:
		return sub_usage(s, "missing NAME");
	}
	if (strchr(pos[0], '/')) {
		if (access(pos[0], F_OK))
			return cli_fail("%s: %s", pos[0], strerror(errno));
		if (!store_holds(pos[0], &k))
			return cli_fail("%s is not in a model store; llamux removes only the models it keeps (delete the file yourself)",
					pos[0]);
		path = strdup(pos[0]);
	} else {
		v = store_list(&n);
		for (i = 0; i < n && !path; i++)
			if (!v[i].partial && names_model(&v[i], pos[0])) {
				path = strdup(v[i].path);
				k = v[i].store;
			}
		/* Only an unfinished download of it. */
		for (i = 0; i < n && !path; i++)
			if (v[i].partial && names_model(&v[i], pos[0])) {
				path = strndup(v[i].path, strlen(v[i].path) - 5);
				k = v[i].store;
				only_partial = true;
			}
		store_list_free(v, n);
		if (!path)
			return cli_fail("no model named '%s' in the stores: 'llamux model list' shows them",
					pos[0]);
	}
	{
		const char *base = strrchr(path, '/');

		name = store_name_for_file(base ? base + 1 : path);
	}
	/* Is it the active model of the config this user writes? */
	cfg = cli_config_model(&from);
	config = cli_config_path(NULL, 0);
	if (cfg && config && from && !strcmp(from, config)) {
		char *active = store_resolve(cfg, NULL, why, sizeof(why));

		was_active = !strcmp(cfg, name) || same_file(active, path);
		free(active);
	}
	if (asprintf(&part, "%s.part", path) < 0)
		part = NULL;
	if (!only_partial) {
		if (unlink(path)) {
			rc = cli_fail("cannot remove %s: %s%s", path, strerror(errno),
				      (errno == EACCES || errno == EPERM) && k == STORE_SYSTEM ?
				      " (the system store needs root)" : "");
			goto out;
		}
		removed = true;
	}
	if (part && unlink(part) == 0) {
		removed = true;
	} else if (part && only_partial) {
		rc = cli_fail("cannot remove %s: %s", part, strerror(errno));
		goto out;
	}
	if (removed)
		printf("removed %s%s (%s)\n", only_partial ? "the unfinished download of " : "",
		       name, only_partial ? part : path);
	if (was_active && !only_partial) {
		if (kv_update(config, keys, values, 1, why, sizeof(why)))
			printf("it was the active model; choose another with 'llamux model use NAME'\n");
		else
			fprintf(stderr, "llamux: warning: %s\n", why);
	}
	rc = 0;
out:
	free(cfg);
	free(from);
	free(config);
	free(part);
	free(path);
	free(name);
	return rc;
}

static const struct sub subs[] = {
	{ "list", "llamux model list", do_list },
	{ "use", "llamux model use NAME|FILE|PATH", do_use },
	{ "info", "llamux model info [NAME|FILE|PATH]", do_info },
	{ "pull", "llamux model pull NAME|URL [--force]", do_pull },
	{ "rm", "llamux model rm NAME|FILE|PATH", do_rm },
	{ "path", "llamux model path [NAME|FILE|PATH]", do_path },
};

static int run(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return cli_usage_error(&cmd_model, "missing a subcommand");
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].run(&subs[i], argc - 1, argv + 1);
	return cli_usage_error(&cmd_model, "unknown subcommand '%s'", argv[1]);
}

const struct command cmd_model = {
	.name = "model",
	.summary = "list, choose, download and remove models",
	.usage = "llamux model list|use|info|pull|rm|path [NAME|URL]",
	.help = "  list                  the models in your store and the system-wide one (* = active)\n"
		"  use NAME              make NAME the active model (used when no -m is given)\n"
		"  info [NAME]           what the model holds (like 'llamux info'); default: the active one\n"
		"  pull NAME|URL         download a model from the catalogue, or any http(s) URL of a\n"
		"                        .gguf file; resumes an interrupted download; --force: again\n"
		"  rm NAME               delete a model from the store\n"
		"  path [NAME]           print the model's file\n"
		"\n"
		"NAME is a catalogue name (tinyllama), a file name with or without .gguf, or a path.\n"
		"Models: $XDG_DATA_HOME/llamux/models (~/.local/share/llamux/models), and\n"
		"/var/lib/llamux/models system-wide (root pulls there). The active model is 'model ='\n"
		"in ~/.config/llamux/config (root: /etc/llamux/llamux.conf, everyone's default);\n"
		"$LLAMUX_MODEL and -m override it. $LLAMUX_HF_ENDPOINT replaces https://huggingface.co,\n"
		"$LLAMUX_CATALOGUE_FILE adds catalogue entries, $HF_TOKEN is sent for gated repositories.\n",
	.run = run,
};
