// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Shared helpers of the llamux program: errors, usage and option parsing. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("llamux: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int cli_usage_error(const struct command *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "llamux %s: ", c->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s\n", c->usage);
	return EXIT_USAGE;
}

void cli_print_help(const struct command *c, FILE *out)
{
	fprintf(out, "usage: %s\n\n%s\n", c->usage, c->summary);
	if (c->help && *c->help)
		fprintf(out, "\n%s", c->help);
}

bool cli_wants_help(const struct command *c, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			cli_print_help(c, stdout);
			return true;
		}
	}
	return false;
}

bool parse_long(const struct command *c, const char *opt, const char *s,
		long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end) {
		cli_usage_error(c, "%s expects a whole number, got '%s'", opt, s);
		return false;
	}
	if (v < min || v > max) {
		cli_usage_error(c, "%s must be between %ld and %ld, got %ld", opt,
				min, max, v);
		return false;
	}
	*out = v;
	return true;
}

bool parse_u64(const struct command *c, const char *opt, const char *s,
	       uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-') {
		cli_usage_error(c, "%s expects a non-negative whole number, got '%s'",
				opt, s);
		return false;
	}
	*out = v;
	return true;
}

bool parse_float(const struct command *c, const char *opt, const char *s,
		 float min, float max, float *out)
{
	char *end;
	float v;

	errno = 0;
	v = strtof(s, &end);
	if (errno || end == s || *end || isnan(v)) {
		cli_usage_error(c, "%s expects a number, got '%s'", opt, s);
		return false;
	}
	if (v < min || v > max) {
		cli_usage_error(c, "%s must be between %g and %g, got %g", opt,
				(double)min, (double)max, (double)v);
		return false;
	}
	*out = v;
	return true;
}

bool parse_kv_type(const struct command *c, const char *s,
		   enum llamux_kv_type *out)
{
	if (!strcmp(s, "f16")) {
		*out = LLAMUX_KV_F16;
		return true;
	}
	if (!strcmp(s, "f32")) {
		*out = LLAMUX_KV_F32;
		return true;
	}
	cli_usage_error(c, "--kv-type must be f16 or f32, got '%s'", s);
	return false;
}

int parse_sampling_opt(const struct command *c, int opt, const char *arg,
		       struct llamux_sampler_params *sp, bool *seed_given)
{
	long v;

	switch (opt) {
	case 'T':
		return parse_float(c, "--temp", arg, 0.0f, 100.0f, &sp->temp);
	case 'K':
		if (!parse_long(c, "--top-k", arg, 0, 1 << 30, &v))
			return 0;
		sp->top_k = (int32_t)v;
		return 1;
	case 'P':
		return parse_float(c, "--top-p", arg, 0.0f, 1.0f, &sp->top_p);
	case 'M':
		return parse_float(c, "--min-p", arg, 0.0f, 1.0f, &sp->min_p);
	case 'R':
		return parse_float(c, "--repeat-penalty", arg, 0.0f, 100.0f,
				   &sp->repeat_penalty);
	case 'L':
		if (!parse_long(c, "--repeat-last-n", arg, 0, 1 << 20, &v))
			return 0;
		sp->repeat_last_n = (int32_t)v;
		return 1;
	case 's':
		if (!parse_u64(c, "--seed", arg, &sp->seed))
			return 0;
		*seed_given = true;
		return 1;
	default:
		return -1;
	}
}

struct llamux_model *cli_load_model(const char *path, unsigned int flags)
{
	char err[LLAMUX_ERR_MAX] = "";
	struct llamux_model *m = llamux_model_load(path, flags, err);

	if (!m)
		cli_fail("model '%s': %s", path, err);
	return m;
}
