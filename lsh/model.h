/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Model fallback: asks a GGUF model (in-process, through libllamux) for a
 * command line, with decoding constrained to one line of printable ASCII.
 */
#ifndef LSH_MODEL_H
#define LSH_MODEL_H

#include <stdbool.h>
#include <stddef.h>

struct lsh_model;

/* NULL with a one-line reason in err (LLAMUX_ERR_MAX bytes). */
struct lsh_model *lsh_model_open(const char *path, char *err);
void lsh_model_close(struct lsh_model *m);

/* Generates the command line for request into out (no newline). */
bool lsh_model_generate(struct lsh_model *m, const char *request, char *out,
			size_t cap, char *err);

#endif
