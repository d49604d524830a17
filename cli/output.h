/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Output helpers of the llamux program: colours (only on a terminal, never
 * with NO_COLOR set), JSON string writing, and a small JSON reader for the
 * files `llamux chat` saves and loads.
 */
#ifndef LLAMUX_CLI_OUTPUT_H
#define LLAMUX_CLI_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* SGR sequences for out_style(). */
#define OUT_RESET "\033[0m"
#define OUT_BOLD "\033[1m"
#define OUT_DIM "\033[2m"
#define OUT_RED "\033[31m"
#define OUT_GREEN "\033[32m"
#define OUT_YELLOW "\033[33m"
#define OUT_CYAN "\033[36m"

/*
 * Whether colour may be written to f: it is a terminal, NO_COLOR is unset or
 * empty (https://no-color.org) and TERM is not "dumb".
 */
bool out_color(FILE *f);
/* The sequence when colour is on for f, else "". */
const char *out_style(FILE *f, const char *sgr);

/* Writes s (n bytes) as a JSON string literal with quotes and escapes. */
void json_put_string(FILE *f, const char *s, size_t n);

/* A cursor over JSON text for the reader functions below. */
struct json_in {
	const char *p, *end;
	char err[128];		/* why reading stopped, when a call fails */
};

void json_in_init(struct json_in *j, const char *text, size_t len);
/* Skips white space; true when the next character is c (not consumed). */
bool json_peek(struct json_in *j, char c);
/* Consumes c after white space, or fails naming what was found. */
bool json_expect(struct json_in *j, char c);
/* Reads a string into a malloc'd, NUL-terminated buffer (escapes decoded). */
bool json_read_string(struct json_in *j, char **out);
/* Skips any value (string, number, object, array, true, false, null). */
bool json_skip_value(struct json_in *j);
/* After an element of an object or array: consumes ',' and returns true, or
 * returns false at the closing character (not consumed); a bad character sets
 * err (check j->err[0]).
 */
bool json_next(struct json_in *j, char close);

#endif
