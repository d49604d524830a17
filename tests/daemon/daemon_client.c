// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Drives cli/backend_daemon.c the way `llamux run --backend daemon|auto`
 * does, for tests/daemon/test_client.sh (the socket comes from
 * $LLAMUX_SOCKET):
 *   daemon_client run PROMPT N TEMP SEED [MODEL]   prints like `llamux run`
 *   daemon_client available [MODEL]                 exit 0 when usable
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_daemon.h"

int main(int argc, char **argv)
{
	struct llamux_sampler_params sp;
	char why[512];

	if (argc >= 2 && !strcmp(argv[1], "available")) {
		if (daemon_available(argc > 2 ? argv[2] : NULL, why, sizeof(why)))
			return 0;
		printf("%s\n", why);
		return 1;
	}
	if (argc < 6 || strcmp(argv[1], "run")) {
		fprintf(stderr, "usage: %s run PROMPT N TEMP SEED [MODEL] | available [MODEL]\n",
			argv[0]);
		return 2;
	}
	llamux_sampler_default_params(&sp);
	sp.temp = (float)atof(argv[4]);
	sp.seed = strtoull(argv[5], NULL, 10);
	return daemon_generate(argc > 6 ? argv[6] : NULL, argv[2],
			       atol(argv[3]), &sp, true);
}
