/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * What `llamux model` and `llamux status` stand on: where models,
 * configuration and state live (config.c), the `key = value` files, the
 * model store and name resolution (model_store.c), the catalogue of known
 * models (catalogue.c) and pulling a model over HTTP (download.c).
 *
 * Locations: a user's models in $XDG_DATA_HOME/llamux/models (default
 * ~/.local/share/llamux/models), system-wide ones in /var/lib/llamux/models;
 * root pulls into the system store, everyone else into their own, and both
 * are searched. The active model is the `model` key of
 * $XDG_CONFIG_HOME/llamux/config (root: /etc/llamux/llamux.conf, which also
 * serves as everyone's default). $LLAMUX_SYSROOT prefixes every system path
 * (/var/lib, /etc, /run, /proc), so tests never touch the real ones.
 */
#ifndef LLAMUX_CLI_STORE_H
#define LLAMUX_CLI_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Errors that are returned rather than printed go here (one line). */
#define WHY_MAX 512

/* ---- locations (config.c) ---- */

enum store_kind { STORE_USER, STORE_SYSTEM };

/* $LLAMUX_SYSROOT or "": the prefix of every system path. */
const char *cli_sysroot(void);
/* sysroot + path, malloc'd. */
char *cli_system_path(const char *path);
/* $XDG_var/llamux/leaf, else ~/home_rel/llamux/leaf; NULL with why when
 * there is no home directory.
 */
char *cli_user_path(const char *xdg_var, const char *home_rel,
		    const char *leaf, char *why, size_t cap);
/* Root's models go to the system store, everyone else's to their own. */
enum store_kind cli_own_store(void);
/* The store's directory, malloc'd (NULL with why: no home directory). */
char *cli_store_dir(enum store_kind k, char *why, size_t cap);
const char *cli_store_label(enum store_kind k);	/* "user", "system" */
/* The config file `model use` writes (root: the system one). */
char *cli_config_path(char *why, size_t cap);
/* The config file every user falls back to. */
char *cli_system_config_path(void);
/* $XDG_STATE_HOME/llamux/leaf (~/.local/state/llamux/leaf). */
char *cli_state_path(const char *leaf, char *why, size_t cap);
/* mkdir -p. */
bool cli_mkdirs(const char *dir, mode_t mode, char *why, size_t cap);
/* "~/.local/share/..." for messages when under $HOME; malloc'd. */
char *cli_pretty_path(const char *path);

/* ---- key = value files (config.c) ---- */

/* The value of key (the last one if repeated), malloc'd; NULL if absent. */
char *kv_get(const char *path, const char *key);
/*
 * Sets keys[i] to values[i] (NULL: removes the key) and keeps every other
 * line, comment and unknown key as it was. Creates the file and its
 * directory; replaces the file atomically.
 */
bool kv_update(const char *path, const char *const *keys,
	       const char *const *values, size_t n, char *why, size_t cap);

/*
 * The active model setting: the user's config, then the system one.
 * Returns the value (malloc'd) and the file it came from in *from
 * (malloc'd), or NULL.
 */
char *cli_config_model(char **from);

/* Remembers the speeds of a `llamux run` for `llamux status`. Silent. */
void cli_record_run(const char *model, size_t n_prompt, double prompt_s,
		    long n_gen, double gen_s);

/* ---- the catalogue (catalogue.c) ---- */

struct catalogue_entry {
	const char *name;	/* "tinyllama" */
	const char *repo;	/* Hugging Face repository */
	const char *file;	/* file name in the repository */
	const char *sha256;	/* 64 hex digits, or "" when not known */
	uint64_t size;		/* bytes, 0 when not known */
	const char *about;	/* one line */
};

/* Built-in entries, then those of $LLAMUX_CATALOGUE_FILE (lines of
 * "NAME REPO FILE [SHA256|-] [SIZE]"), which override built-in names.
 */
size_t catalogue_count(void);
const struct catalogue_entry *catalogue_get(size_t i);
const struct catalogue_entry *catalogue_find(const char *name);
const struct catalogue_entry *catalogue_find_file(const char *file);
/* $LLAMUX_HF_ENDPOINT (default https://huggingface.co)/REPO/resolve/main/FILE */
char *catalogue_url(const struct catalogue_entry *e);
/* "tinyllama, tinyllama:q4_k_m, ..." (malloc'd). */
char *catalogue_names(void);
#define CATALOGUE_DEFAULT "tinyllama"

/* ---- the store (model_store.c) ---- */

struct store_model {
	char *name;		/* catalogue name, else file name without .gguf */
	char *file;		/* file name in the store */
	char *path;
	enum store_kind store;
	uint64_t size;
	bool partial;		/* an unfinished download (FILE.part) */
};

/* Models of both stores, own store first, sorted by name; partial
 * downloads included (partial = true).
 */
struct store_model *store_list(size_t *n);
void store_list_free(struct store_model *v, size_t n);
/* A file's model name: the catalogue's if it lists the file, else the file
 * name without ".gguf". malloc'd.
 */
char *store_name_for_file(const char *file);
/* Which store holds path (a file directly in a store directory). */
bool store_holds(const char *path, enum store_kind *k);
/*
 * NAME (catalogue or file name without .gguf), FILE or PATH to a model
 * path (malloc'd). A spec with a '/' is a path and returned as is (the
 * loader reports a missing or unreadable file); otherwise both stores are
 * searched, then the current directory. NULL with why ("what to do")
 * otherwise; origin says where spec came from ("-m", "LLAMUX_MODEL", ...).
 */
char *store_resolve(const char *spec, const char *origin, char *why,
		    size_t cap);
/*
 * The model a command uses: flag, else $LLAMUX_MODEL, else the config's
 * active model. Returns the path or NULL with why; *source (may be NULL)
 * receives where it came from (malloc'd, e.g. "-m", "LLAMUX_MODEL",
 * "~/.config/llamux/config"). *none is set when no model is configured at
 * all (as opposed to a configured one that cannot be found).
 */
char *store_active(const char *flag, char **source, bool *none, char *why,
		   size_t cap);

/* What `model list` shows about a file (metadata-only load). */
struct model_facts {
	bool ok;
	char type[24];		/* general.file_type or the predominant tensor type */
	char arch[40];
	char error[256];	/* when !ok */
};
void store_model_facts(const char *path, struct model_facts *f);

/* "608.2 MiB" into buf. */
const char *cli_size_str(uint64_t bytes, char *buf, size_t cap);

/* ---- downloads (download.c) ---- */

struct pull_request {
	const char *url;
	const char *name;	/* shown to the user */
	const char *dir;	/* the store directory */
	const char *file;	/* file name in dir */
	const char *sha256;	/* expected, or "" */
	uint64_t size;		/* expected bytes, or 0 */
	bool catalogue;		/* from the catalogue (else a URL given) */
};

/*
 * Downloads url to dir/file.part (resuming what a previous attempt left
 * there), checks the size and SHA-256 when known and that the file is a
 * GGUF model, then renames it to dir/file. A progress bar on a terminal.
 * Returns 0, or 1 with the error printed.
 */
int cli_pull(const struct pull_request *r);

#endif
