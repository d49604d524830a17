/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Model fallback: asks a language model for a command line, in-process
 * (a GGUF through libllamux, decoding constrained to one line of printable
 * ASCII), through llamuxd's Unix socket, or through /dev/llamux. Answers of
 * the remote backends are filtered to the same one printable line.
 */
#ifndef LSH_MODEL_H
#define LSH_MODEL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

enum lsh_backend {
	LSH_BACKEND_AUTO,	/* daemon, else kernel, else in-process */
	LSH_BACKEND_INPROCESS,
	LSH_BACKEND_KERNEL,
	LSH_BACKEND_DAEMON,
	LSH_BACKEND_NONE,	/* intent engine only */
};

/* "inprocess", "kernel", "daemon", "auto" or "none"; false if none of them. */
bool lsh_backend_parse(const char *name, enum lsh_backend *b);

/* Which fallback lsh uses, found without loading a model. */
struct lsh_model_choice {
	enum lsh_backend backend;	/* NONE: no model fallback */
	char where[PATH_MAX];		/* model file, socket, or kernel's model */
	char why[512];			/* why a requested backend is unusable */
};

/*
 * Resolves want (auto probes llamuxd's socket, then /dev/llamux, then the
 * model path). False, with a message in c->why saying what to do, when the
 * backend asked for cannot be used; true with c->backend == NONE when auto
 * found nothing or want is NONE.
 */
bool lsh_model_choose(enum lsh_backend want, const char *path,
		      struct lsh_model_choice *c);

/* One line for lsh --version: "model fallback: ..." or "no model ...". */
void lsh_model_describe(const struct lsh_model_choice *c, char *out,
			size_t cap);

/* NULL with a one-line reason in err (LLAMUX_ERR_MAX bytes). */
struct lsh_model *lsh_model_open(const struct lsh_model_choice *c, char *err);
void lsh_model_close(struct lsh_model *m);

/*
 * Generates the command line for request into out (no newline). False with
 * a complete message (what went wrong) in err, LLAMUX_ERR_MAX bytes.
 */
bool lsh_model_generate(struct lsh_model *m, const char *request, char *out,
			size_t cap, char *err);

#endif
