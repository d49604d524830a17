// SPDX-License-Identifier: GPL-2.0 OR MIT
/* llamux mkmodel: placeholder until its implementation lands. */
#include "cli.h"

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_fail("'llamux mkmodel' is not implemented yet");
}

const struct command cmd_mkmodel = {
	.name = "mkmodel",
	.summary = "(not implemented yet)",
	.usage = "llamux mkmodel",
	.help = "",
	.run = run,
};
