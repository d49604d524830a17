// SPDX-License-Identifier: GPL-2.0 OR MIT
/* llamux model: placeholder until its implementation lands. */
#include "cli.h"

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_fail("'llamux model' is not implemented yet");
}

const struct command cmd_model = {
	.name = "model",
	.summary = "(not implemented yet)",
	.usage = "llamux model",
	.help = "",
	.run = run,
};
