/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Shared pieces of the llamux program: the subcommand table entry, option
 * parsers that print their own error, and the error/usage printers. Each
 * subcommand lives in its own cmd_*.c file.
 */
#ifndef LLAMUX_CLI_H
#define LLAMUX_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "llamux/llamux.h"

struct command {
	const char *name;
	const char *summary;	/* one line for `llamux help` */
	const char *usage;	/* "llamux run -m MODEL ..." */
	const char *help;	/* option descriptions for CMD --help */
	int (*run)(int argc, char **argv);
};

extern const struct command cmd_run;
extern const struct command cmd_tokenize;
extern const struct command cmd_eval;
extern const struct command cmd_info;
extern const struct command cmd_bench;
extern const struct command cmd_quantize;
extern const struct command cmd_mkmodel;
extern const struct command cmd_chat;
extern const struct command cmd_status;
extern const struct command cmd_model;
/* `llamux "free text"`: not in the table; main() calls it directly. */
extern const struct command cmd_ask;

/* Exit codes: 0 ok, 1 runtime failure, 2 usage error. */
#define EXIT_USAGE 2

/* "llamux: error: ..." on stderr; returns 1. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "llamux CMD: ..." plus the usage line on stderr; returns EXIT_USAGE. */
int cli_usage_error(const struct command *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cli_print_help(const struct command *c, FILE *out);

/*
 * Option value parsers: on bad input they print which option and why (with
 * the usage line) and return false.
 */
bool parse_long(const struct command *c, const char *opt, const char *s,
		long min, long max, long *out);
bool parse_u64(const struct command *c, const char *opt, const char *s,
	       uint64_t *out);
bool parse_float(const struct command *c, const char *opt, const char *s,
		 float min, float max, float *out);
bool parse_kv_type(const struct command *c, const char *s,
		   enum llamux_kv_type *out);

/* The sampling options of run, chat and ask, for their getopt tables. */
#define CLI_SAMPLING_OPTIONS						\
	{ "temp", required_argument, NULL, 'T' },			\
	{ "top-k", required_argument, NULL, 'K' },			\
	{ "top-p", required_argument, NULL, 'P' },			\
	{ "min-p", required_argument, NULL, 'M' },			\
	{ "repeat-penalty", required_argument, NULL, 'R' },		\
	{ "repeat-last-n", required_argument, NULL, 'L' },		\
	{ "seed", required_argument, NULL, 's' }

/*
 * One getopt result of CLI_SAMPLING_OPTIONS into sp (-s also sets
 * *seed_given): 1 when taken, 0 when the value is bad (error printed),
 * -1 when opt is not a sampling option.
 */
int parse_sampling_opt(const struct command *c, int opt, const char *arg,
		       struct llamux_sampler_params *sp, bool *seed_given);

/* Which engine generates: --backend inprocess|kernel|daemon|auto. */
enum cli_backend {
	BACKEND_INPROCESS,	/* the core linked into this program */
	BACKEND_KERNEL,		/* llamux.ko through /dev/llamux */
	BACKEND_DAEMON,		/* llamuxd through its Unix socket */
	BACKEND_AUTO,		/* daemon > kernel > in-process */
};

bool parse_backend(const struct command *c, const char *s,
		   enum cli_backend *out);
const char *cli_backend_name(enum cli_backend b);

/*
 * What --backend auto uses for model (a path or name; NULL: whatever is
 * loaded): llamuxd when it answers and serves that model, else llamux.ko
 * when it has that model loaded, else the in-process core. why (may be
 * NULL) says why the earlier ones were passed over.
 */
enum cli_backend cli_pick_backend(const char *model, char *why, size_t cap);

/*
 * Generation through /dev/llamux (cli/backend_kernel.c); echo prints the
 * prompt before the continuation, as `llamux run` does.
 */
int kernel_generate(const char *model_path, const char *prompt,
		    long n_predict, const struct llamux_sampler_params *sp,
		    bool echo);

/*
 * True when /dev/llamux opens and its model is model (file name, with or
 * without .gguf; NULL: any); else false with the reason in why.
 */
bool kernel_available(const char *model, char *why, size_t cap);

/*
 * The model a command uses (cli/model_store.c): -m PATH|NAME, else
 * $LLAMUX_MODEL, else the store's active model; a malloc'd path, or NULL
 * with the error printed.
 */
char *cli_resolve_model(const char *flag);

/* Loads a model or prints why not (NULL). */
struct llamux_model *cli_load_model(const char *path, unsigned int flags);

/* Handles "-h"/"--help" anywhere in argv: prints help, returns true. */
bool cli_wants_help(const struct command *c, int argc, char **argv);

#endif
