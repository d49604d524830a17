// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The llamux program: finds the subcommand in a table and hands it argv.
 * `llamux help [CMD]` and `llamux CMD --help` print usage.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct command *const commands[] = {
	&cmd_run, &cmd_chat, &cmd_model, &cmd_status, &cmd_bench,
	&cmd_quantize, &cmd_tokenize, &cmd_eval, &cmd_info, &cmd_mkmodel,
};

static void print_overview(FILE *out)
{
	size_t i;

	fprintf(out, "usage: llamux COMMAND [OPTIONS]\n\n"
		     "Llamux %s runs GGUF language models on the CPU.\n\n"
		     "commands:\n", llamux_version());
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i]->name,
			commands[i]->summary);
	fprintf(out, "  %-10s %s\n", "help", "show help for a command");
	fprintf(out, "\nRun 'llamux help COMMAND' for its options.\n");
}

static const struct command *find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		print_overview(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		if (argc < 3) {
			print_overview(stdout);
			return 0;
		}
		c = find(argv[2]);
		if (!c) {
			fprintf(stderr, "llamux: unknown command '%s'; 'llamux help' lists them\n",
				argv[2]);
			return EXIT_USAGE;
		}
		cli_print_help(c, stdout);
		return 0;
	}
	/* `llamux --facts`: the system facts a question would be given. */
	if (!strcmp(argv[1], "--facts"))
		return cmd_ask.run(argc, argv);
	if (!strcmp(argv[1], "--version")) {
		printf("llamux %s\n", llamux_version());
		return 0;
	}
	c = find(argv[1]);
	if (!c) {
		/* `llamux "why is my system slow?"` or unquoted words: a
		 * question for the active model. One word is more likely a
		 * mistyped command.
		 */
		if (argv[1][0] != '-' &&
		    (strchr(argv[1], ' ') || (argc > 2 && argv[2][0] != '-')))
			return cmd_ask.run(argc, argv);
		fprintf(stderr, "llamux: unknown command '%s'; 'llamux help' lists them (to ask a question, write it in quotes)\n",
			argv[1]);
		return EXIT_USAGE;
	}
	if (cli_wants_help(c, argc - 1, argv + 1))
		return 0;
	return c->run(argc - 1, argv + 1);
}
