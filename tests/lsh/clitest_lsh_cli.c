// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * lsh's command-line contract: --dry-run prints exactly three lines
 * (command, "# safe" or "# risky: REASON", "# " explanation) and exits 0;
 * nothing to propose exits 2 with a message on stderr; --version says the
 * intent engine works without a model; --explain describes a command;
 * a risky request answered with anything but "yes" does not run, and a
 * safe one with --yes does; a request to delete things in a place never
 * deletes the place itself. Usage: clitest_lsh_cli LSH
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

static const char *lsh;

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Runs lsh with args, feeding input on stdin; returns the exit status. */
static int run(const char *input, char **out, char **err, const char *a1,
	       const char *a2, const char *a3)
{
	char tmpl[] = "/tmp/lsh-cli-in-XXXXXX";
	int fd = mkstemp(tmpl), st;
	char *argv[] = { (char *)lsh, (char *)a1, (char *)a2, (char *)a3, NULL };

	if (fd < 0)
		return -1;
	if (input && write(fd, input, strlen(input)) < 0)
		return -1;
	close(fd);
	if (!freopen(tmpl, "r", stdin))
		return -1;
	st = tl_run(argv, out, NULL, err);
	unlink(tmpl);
	return st;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/lsh-cli-XXXXXX", path[256];
	char *out = NULL, *err = NULL;
	struct stat sb;
	int st;

	if (argc < 2 || !mkdtemp(dir) || chdir(dir))
		return 2;
	lsh = argv[1];
	setenv("HOME", dir, 1);
	unsetenv("LLAMUX_MODEL");

	st = run(NULL, &out, &err, "--dry-run", "-c", "how much disk space is left");
	CHECK(st == 0, "dry-run exit %d", st);
	CHECK(!strcmp(out, "df -h\n# safe\n# Show used and free space on every mounted filesystem, in human-readable units.\n"),
	      "dry-run output: %s", out);
	free(out);
	free(err);

	st = run(NULL, &out, &err, "--dry-run", "-c", "kill the process on port 8080");
	CHECK(st == 0 && lines(out) == 3, "risky dry-run: %d %s", st, out);
	CHECK(strstr(out, "\n# risky: ") != NULL, "risky line: %s", out);
	free(out);
	free(err);

	st = run(NULL, &out, &err, "--dry-run", "-c", "fly me to the moon please");
	CHECK(st == 2, "nothing to propose: exit %d", st);
	CHECK(!*out && strstr(err, "lsh: ") && lines(err) == 1, "stderr: %s", err);
	free(out);
	free(err);

	st = run(NULL, &out, &err, "--version", NULL, NULL);
	CHECK(st == 0 && strstr(out, "intents") && strstr(out, "no model"),
	      "version: %s", out);
	free(out);
	free(err);

	st = run(NULL, &out, &err, "--explain", "find . -name '*.txt' -delete", NULL);
	CHECK(st == 0 && strstr(out, "search a directory tree") &&
	      strstr(out, "Safety: risky: deletes files"), "explain: %s", out);
	free(out);
	free(err);

	/* a risky request with a canary: anything but "yes" keeps it */
	snprintf(path, sizeof(path), "%s/canary.txt", dir);
	fclose(fopen(path, "w"));
	st = run("y\n", &out, &err, "-c", "delete canary.txt", NULL);
	CHECK(st != 0 && stat(path, &sb) == 0, "canary deleted without yes (%d)", st);
	free(out);
	free(err);
	st = run("YES please\n", &out, &err, "--yes", "-c", "delete canary.txt");
	CHECK(stat(path, &sb) == 0, "canary deleted by --yes");
	free(out);
	free(err);
	st = run("yes\n", &out, &err, "-c", "delete canary.txt", NULL);
	CHECK(st == 0 && stat(path, &sb) != 0, "typed yes did not run it (%d)", st);
	free(out);
	free(err);

	/* where to delete is not what to delete */
	{
		static const char *const where[] = {
			"delete all files in the current directory",
			"remove everything in my home directory",
			"delete the current directory",
			"delete all files that have the extension \"bam\" in current directory",
			"remove all files under the root directory",
		};

		for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
			st = run(NULL, &out, &err, "--dry-run", "-c", where[i]);
			CHECK(st == 2 || (st == 0 && strncmp(out, "rm -r .\n", 8) &&
					  strncmp(out, "rm -r ~\n", 8) &&
					  strncmp(out, "rm -r /\n", 8) &&
					  strncmp(out, "rm -r ..\n", 9)),
			      "%s: %s", where[i], out);
			free(out);
			free(err);
		}
	}

	/* safe with --yes runs; a typed command runs as typed */
	snprintf(path, sizeof(path), "%s/docs", dir);
	mkdir(path, 0755);
	st = run(NULL, &out, &err, "--yes", "-c", "compress the docs folder");
	snprintf(path, sizeof(path), "%s/docs.tar.gz", dir);
	CHECK(st == 0 && stat(path, &sb) == 0, "--yes did not run a safe proposal");
	free(out);
	free(err);
	st = run(NULL, &out, &err, "-c", "echo typed-as-command", NULL);
	CHECK(st == 0 && !strcmp(out, "typed-as-command\n"), "passthrough: %s", out);
	free(out);
	free(err);
	st = run(NULL, &out, &err, "-c", "false", NULL);
	CHECK(st == 1 && strstr(err, "exit status 1"), "status: %d %s", st, err);
	free(out);
	free(err);

	if (chdir("/") == 0) {
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return tl_finish("clitest_lsh_cli");
}
