/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Minimal test harness shared by the unit tests: CHECK macros and a summary. */
#ifndef LLAMUX_TESTLIB_H
#define LLAMUX_TESTLIB_H

#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>

extern int tl_failures;
extern int tl_checks;

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		tl_checks++;                                                  \
		if (!(cond)) {                                                \
			tl_failures++;                                        \
			fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, \
				__LINE__, #cond);                             \
			fprintf(stderr, __VA_ARGS__);                         \
			fputc('\n', stderr);                                  \
		}                                                             \
	} while (0)

/* Prints "name: N checks, M failures" and returns the process exit code. */
int tl_finish(const char *name);

/* Reads a whole file; NULL on error (message printed). */
unsigned char *tl_read_file(const char *path, size_t *size);

/*
 * Tiny JSON readers for the reference files (flat objects): the integer array
 * or string value of "key". Return false when the key is absent.
 */
bool tl_json_ints(const char *json, const char *key, int **out, size_t *n);
bool tl_json_string(const char *json, const char *key, char **out);
bool tl_json_number(const char *json, const char *key, double *out);

/*
 * Runs argv (no shell), capturing stdout (and stderr when err is not NULL);
 * returns the exit status, or -1 if it could not run.
 */
int tl_run(char *const argv[], char **out, size_t *out_len, char **err);

#endif
