// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The model store: the GGUF files in the user's and the system-wide store
 * directory, their names (the catalogue's, else the file name without
 * .gguf), and which model a command uses: -m PATH|NAME, else
 * $LLAMUX_MODEL, else the active model from the config file, else an error
 * saying how to get one (cli_resolve_model).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "store.h"

const char *cli_size_str(uint64_t bytes, char *buf, size_t cap)
{
	if (bytes >= (1ull << 30))
		snprintf(buf, cap, "%.2f GiB", bytes / (double)(1ull << 30));
	else if (bytes >= (1ull << 20))
		snprintf(buf, cap, "%.1f MiB", bytes / (double)(1ull << 20));
	else if (bytes >= 1024)
		snprintf(buf, cap, "%.1f KiB", bytes / 1024.0);
	else
		snprintf(buf, cap, "%llu B", (unsigned long long)bytes);
	return buf;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && !strcmp(s + n - m, suffix);
}

char *store_name_for_file(const char *file)
{
	const struct catalogue_entry *e = catalogue_find_file(file);
	size_t n = strlen(file);

	if (e)
		return strdup(e->name);
	if (has_suffix(file, ".gguf"))
		n -= 5;
	return strndup(file, n);
}

/* ---- listing ---- */

struct model_vec {
	struct store_model *v;
	size_t n, alloc;
};

static void scan_dir(const char *dir, enum store_kind k, struct model_vec *mv)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		bool partial = has_suffix(name, ".gguf.part");
		struct store_model m = { 0 };
		struct stat st;

		if (name[0] == '.' || (!partial && !has_suffix(name, ".gguf")))
			continue;
		if (asprintf(&m.path, "%s/%s", dir, name) < 0)
			continue;
		if (stat(m.path, &st) || !S_ISREG(st.st_mode)) {
			free(m.path);
			continue;
		}
		if (mv->n == mv->alloc) {
			struct store_model *nv;

			mv->alloc = mv->alloc ? 2 * mv->alloc : 8;
			nv = realloc(mv->v, mv->alloc * sizeof(*nv));
			if (!nv) {
				free(m.path);
				break;
			}
			mv->v = nv;
		}
		m.file = partial ? strndup(name, strlen(name) - 5) : strdup(name);
		m.name = store_name_for_file(m.file);
		m.store = k;
		m.size = (uint64_t)st.st_size;
		m.partial = partial;
		mv->v[mv->n++] = m;
	}
	closedir(d);
}

static int by_name(const void *a, const void *b)
{
	const struct store_model *x = a, *y = b;

	if (x->partial != y->partial)
		return x->partial - y->partial;
	return strcmp(x->name, y->name);
}

static bool same_dir(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

struct store_model *store_list(size_t *n)
{
	enum store_kind own = cli_own_store();
	enum store_kind other = own == STORE_USER ? STORE_SYSTEM : STORE_USER;
	char *d1 = cli_store_dir(own, NULL, 0);
	char *d2 = cli_store_dir(other, NULL, 0);
	struct model_vec mv = { 0 };
	size_t first;

	if (d1)
		scan_dir(d1, own, &mv);
	first = mv.n;
	if (mv.n)
		qsort(mv.v, mv.n, sizeof(*mv.v), by_name);
	if (d2 && !(d1 && same_dir(d1, d2)))
		scan_dir(d2, other, &mv);
	if (mv.n > first)
		qsort(mv.v + first, mv.n - first, sizeof(*mv.v), by_name);
	free(d1);
	free(d2);
	*n = mv.n;
	return mv.v;
}

void store_list_free(struct store_model *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].file);
		free(v[i].path);
	}
	free(v);
}

bool store_holds(const char *path, enum store_kind *k)
{
	char *real = realpath(path, NULL), *slash;
	enum store_kind kinds[2] = { STORE_USER, STORE_SYSTEM };
	bool found = false;
	int i;

	if (!real)
		return false;
	slash = strrchr(real, '/');
	if (slash)
		*slash = '\0';
	for (i = 0; i < 2 && !found; i++) {
		char *dir = cli_store_dir(kinds[i], NULL, 0);

		if (dir && slash && same_dir(real[0] ? real : "/", dir)) {
			*k = kinds[i];
			found = true;
		}
		free(dir);
	}
	free(real);
	return found;
}

/* ---- resolution ---- */

static bool matches(const struct store_model *m, const char *spec)
{
	size_t n = strlen(spec);

	return !strcmp(m->name, spec) || !strcmp(m->file, spec) ||
	       (!strncmp(m->file, spec, n) && !strcmp(m->file + n, ".gguf"));
}

char *store_resolve(const char *spec, const char *origin, char *why,
		    size_t cap)
{
	const struct catalogue_entry *e;
	struct stat st;
	struct store_model *v;
	char *found = NULL, from[160] = "";
	bool partial = false;
	size_t n, i;

	if (strchr(spec, '/'))
		return strdup(spec);
	v = store_list(&n);
	for (i = 0; i < n && !found; i++) {
		if (!matches(&v[i], spec))
			continue;
		if (v[i].partial)
			partial = true;
		else
			found = strdup(v[i].path);
	}
	store_list_free(v, n);
	if (found)
		return found;
	if (stat(spec, &st) == 0 && S_ISREG(st.st_mode))
		return strdup(spec);
	if (origin)
		snprintf(from, sizeof(from), " (%s)", origin);
	e = catalogue_find(spec);
	if (partial && e)
		snprintf(why, cap, "the download of model '%s'%s did not finish: run 'llamux model pull %s' to resume it",
			 spec, from, e->name);
	else if (partial)
		snprintf(why, cap, "the download of model '%s'%s did not finish: run 'llamux model pull URL' with its URL to resume it",
			 spec, from);
	else if (e)
		snprintf(why, cap, "model '%s'%s is not downloaded: run 'llamux model pull %s' or give -m PATH",
			 spec, from, spec);
	else
		snprintf(why, cap, "no model named '%s'%s: 'llamux model list' shows the models you have, 'llamux model pull NAME|URL' gets one, -m PATH uses a file",
			 spec, from);
	return NULL;
}

char *store_active(const char *flag, char **source, bool *none, char *why,
		   size_t cap)
{
	const char *env = getenv("LLAMUX_MODEL");
	char *cfg, *from = NULL, *path, *pretty, origin[WHY_MAX];

	if (source)
		*source = NULL;
	if (none)
		*none = false;
	if (flag && *flag) {
		if (source)
			*source = strdup("-m");
		return store_resolve(flag, NULL, why, cap);
	}
	if (env && *env) {
		if (source)
			*source = strdup("LLAMUX_MODEL");
		return store_resolve(env, "from LLAMUX_MODEL", why, cap);
	}
	cfg = cli_config_model(&from);
	if (cfg) {
		pretty = cli_pretty_path(from);
		snprintf(origin, sizeof(origin), "the active model in %s", pretty);
		path = store_resolve(cfg, origin, why, cap);
		if (source)
			*source = pretty;
		else
			free(pretty);
		free(cfg);
		free(from);
		return path;
	}
	if (none)
		*none = true;
	{
		struct store_model *v;
		size_t n, i, k = 0;
		char have[256] = "";

		v = store_list(&n);
		for (i = 0; i < n; i++) {
			size_t j;

			for (j = 0; j < i && strcmp(v[j].name, v[i].name); j++)
				;
			if (v[i].partial || j < i)
				continue;
			if (strlen(have) + strlen(v[i].name) + 3 >= sizeof(have))
				break;
			if (k++)
				strcat(have, ", ");
			strcat(have, v[i].name);
		}
		store_list_free(v, n);
		if (k)
			snprintf(why, cap, "no active model: run 'llamux model use NAME' (you have %s) or give -m PATH",
				 have);
		else
			snprintf(why, cap, "no model: run 'llamux model pull %s' or give -m PATH",
				 CATALOGUE_DEFAULT);
	}
	return NULL;
}

char *cli_resolve_model(const char *flag)
{
	char why[WHY_MAX] = "";
	char *path = store_active(flag, NULL, NULL, why, sizeof(why));

	if (!path)
		cli_fail("%s", why);
	return path;
}

/* ---- facts for `model list` ---- */

/* llama.cpp's general.file_type values (enum llama_ftype). */
static const char *ftype_name(unsigned long t)
{
	static const char *const names[] = {
		[0] = "F32", [1] = "F16", [2] = "Q4_0", [3] = "Q4_1",
		[7] = "Q8_0", [8] = "Q5_0", [9] = "Q5_1", [10] = "Q2_K",
		[11] = "Q3_K_S", [12] = "Q3_K_M", [13] = "Q3_K_L",
		[14] = "Q4_K_S", [15] = "Q4_K_M", [16] = "Q5_K_S",
		[17] = "Q5_K_M", [18] = "Q6_K", [19] = "IQ2_XXS",
		[20] = "IQ2_XS", [21] = "Q2_K_S", [22] = "IQ3_XS",
		[23] = "IQ3_XXS", [24] = "IQ1_S", [25] = "IQ4_NL",
		[26] = "IQ3_S", [27] = "IQ3_M", [28] = "IQ2_S", [29] = "IQ2_M",
		[30] = "IQ4_XS", [31] = "IQ1_M", [32] = "BF16",
	};

	return t < sizeof(names) / sizeof(names[0]) ? names[t] : NULL;
}

void store_model_facts(const char *path, struct model_facts *f)
{
	char err[LLAMUX_ERR_MAX] = "", value[64];
	struct llamux_model *m;
	struct llamux_model_info in;
	uint64_t i, n, best = 0;
	struct {
		const char *type;
		uint64_t bytes;
	} sums[32];
	size_t n_sums = 0, j;

	memset(f, 0, sizeof(*f));
	m = llamux_model_load(path, LLAMUX_LOAD_METADATA_ONLY, err);
	if (!m) {
		snprintf(f->error, sizeof(f->error), "%s", err);
		snprintf(f->type, sizeof(f->type), "?");
		snprintf(f->arch, sizeof(f->arch), "?");
		return;
	}
	f->ok = true;
	llamux_model_get_info(m, &in);
	snprintf(f->arch, sizeof(f->arch), "%s", in.arch[0] ? in.arch : "?");
	n = llamux_model_n_meta(m);
	for (i = 0; i < n; i++) {
		const char *key, *name;
		size_t key_len;

		if (!llamux_model_meta(m, i, &key, &key_len, value, sizeof(value)))
			continue;
		if (key_len != 17 || memcmp(key, "general.file_type", 17))
			continue;
		name = ftype_name(strtoul(value, NULL, 10));
		if (name) {
			snprintf(f->type, sizeof(f->type), "%s", name);
			llamux_model_free(m);
			return;
		}
	}
	/* No (known) file type: the type holding the most bytes. */
	n = llamux_model_n_tensors(m);
	for (i = 0; i < n; i++) {
		struct llamux_tensor_info t;

		if (!llamux_model_tensor(m, i, &t))
			continue;
		for (j = 0; j < n_sums && strcmp(sums[j].type, t.type); j++)
			;
		if (j == n_sums) {
			if (n_sums == sizeof(sums) / sizeof(sums[0]))
				continue;
			sums[n_sums].type = t.type;
			sums[n_sums++].bytes = 0;
		}
		sums[j].bytes += t.size;
	}
	snprintf(f->type, sizeof(f->type), "-");
	for (j = 0; j < n_sums; j++)
		if (sums[j].bytes > best) {
			best = sums[j].bytes;
			snprintf(f->type, sizeof(f->type), "%s", sums[j].type);
		}
	llamux_model_free(m);
}
