// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Which model a command uses: -m PATH|NAME, else $LLAMUX_MODEL, else the
 * active model from the config file, else an error saying how to get one.
 * Placeholder until the model store lands (names are resolved as paths).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

char *cli_resolve_model(const char *flag)
{
	const char *m = flag ? flag : getenv("LLAMUX_MODEL");

	if (!m || !*m) {
		cli_fail("no model given: use -m PATH, set LLAMUX_MODEL, or 'llamux model use NAME'");
		return NULL;
	}
	return strdup(m);
}
