/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Plain-English explanations of shell command lines (lsh --explain). */
#ifndef LSH_EXPLAIN_H
#define LSH_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* One line: what the command line does. False if it does not parse. */
bool lsh_explain_line(const char *cmdline, char *out, size_t cap);

/* The command, word by word, then the safety verdict; returns an exit code. */
int lsh_explain_full(const char *cmdline, FILE *out);

/* Is name a command lsh can describe? */
bool lsh_explain_known(const char *name);

#endif
