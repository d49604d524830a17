// SPDX-License-Identifier: GPL-2.0 OR MIT
/* llamux bench: placeholder until its implementation lands. */
#include "cli.h"

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_fail("'llamux bench' is not implemented yet");
}

const struct command cmd_bench = {
	.name = "bench",
	.summary = "(not implemented yet)",
	.usage = "llamux bench",
	.help = "",
	.run = run,
};
