// SPDX-License-Identifier: GPL-2.0 OR MIT
/* llamux chat: placeholder until its implementation lands. */
#include "cli.h"

static int run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_fail("'llamux chat' is not implemented yet");
}

const struct command cmd_chat = {
	.name = "chat",
	.summary = "(not implemented yet)",
	.usage = "llamux chat",
	.help = "",
	.run = run,
};
