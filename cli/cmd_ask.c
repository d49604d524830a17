// SPDX-License-Identifier: GPL-2.0 OR MIT
/* llamux ask: placeholder until its implementation lands. */
#include "cli.h"

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_fail("'llamux ask' is not implemented yet");
}

const struct command cmd_ask = {
	.name = "ask",
	.summary = "(not implemented yet)",
	.usage = "llamux ask",
	.help = "",
	.run = run,
};
