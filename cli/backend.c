// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * --backend: which engine generates. `auto` prefers a running llamuxd (the
 * model is already in memory and shared), then llamux.ko, then the core in
 * this process, and only picks one that holds the model asked for.
 */
#include <stdio.h>
#include <string.h>

#include "backend_daemon.h"
#include "cli.h"

static const char *const names[] = {
	[BACKEND_INPROCESS] = "inprocess",
	[BACKEND_KERNEL] = "kernel",
	[BACKEND_DAEMON] = "daemon",
	[BACKEND_AUTO] = "auto",
};

const char *cli_backend_name(enum cli_backend b)
{
	return names[b];
}

bool parse_backend(const struct command *c, const char *s,
		   enum cli_backend *out)
{
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i])) {
			*out = (enum cli_backend)i;
			return true;
		}
	}
	cli_usage_error(c, "--backend must be inprocess, kernel, daemon or auto, got '%s'",
			s);
	return false;
}

enum cli_backend cli_pick_backend(const char *model, char *why, size_t cap)
{
	char d[256], k[256];

	if (daemon_available(model, d, sizeof(d)))
		return BACKEND_DAEMON;
	if (kernel_available(model, k, sizeof(k)))
		return BACKEND_KERNEL;
	if (why)
		snprintf(why, cap, "daemon: %s; kernel: %s", d, k);
	return BACKEND_INPROCESS;
}
