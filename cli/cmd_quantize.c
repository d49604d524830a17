// SPDX-License-Identifier: GPL-2.0 OR MIT
/* llamux quantize: placeholder until its implementation lands. */
#include "cli.h"

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_fail("'llamux quantize' is not implemented yet");
}

const struct command cmd_quantize = {
	.name = "quantize",
	.summary = "(not implemented yet)",
	.usage = "llamux quantize",
	.help = "",
	.run = run,
};
