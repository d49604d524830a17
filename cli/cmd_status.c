// SPDX-License-Identifier: GPL-2.0 OR MIT
/* llamux status: placeholder until its implementation lands. */
#include "cli.h"

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_fail("'llamux status' is not implemented yet");
}

const struct command cmd_status = {
	.name = "status",
	.summary = "(not implemented yet)",
	.usage = "llamux status",
	.help = "",
	.run = run,
};
