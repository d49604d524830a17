// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The lsh REPL driven through a pseudo-terminal, as a person would use it:
 * a command typed as a command runs, history recalls it with the Up
 * arrow, an English request is confirmed with Enter and runs, a risky
 * request answered "no" leaves its canary file in place, and the history
 * is saved on exit. Usage: clitest_lsh_pty LSH
 */
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

static int master;
static char seen[65536];
static size_t nseen, mark;

/* Reads until want appears after the mark (or 10 s); moves the mark. */
static bool expect(const char *want)
{
	for (int waited = 0; waited < 100;) {
		struct pollfd p = { master, POLLIN, 0 };
		char *hit;

		seen[nseen] = '\0';
		hit = strstr(seen + mark, want);
		if (hit) {
			mark = (size_t)(hit - seen) + strlen(want);
			return true;
		}
		if (poll(&p, 1, 100) <= 0) {
			waited++;
			continue;
		}
		{
			ssize_t n = read(master, seen + nseen, sizeof(seen) - nseen - 1);

			if (n <= 0)
				break;
			nseen += (size_t)n;
		}
	}
	fprintf(stderr, "did not see '%s'; the screen so far:\n%s\n", want,
		seen + mark);
	return false;
}

static void type(const char *s)
{
	if (write(master, s, strlen(s)) < 0)
		fprintf(stderr, "write: %s\n", strerror(errno));
	usleep(100000);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/lsh-pty-XXXXXX", canary[256], hist[256];
	struct stat st;
	struct winsize ws = { .ws_row = 40, .ws_col = 160 };
	pid_t pid;
	int status;
	FILE *f;

	if (argc < 2 || !mkdtemp(dir))
		return 2;
	snprintf(canary, sizeof(canary), "%s/canary.txt", dir);
	snprintf(hist, sizeof(hist), "%s/.lsh_history", dir);
	f = fopen(canary, "w");
	if (!f)
		return 2;
	fclose(f);
	pid = forkpty(&master, NULL, NULL, &ws);
	if (pid < 0)
		return 2;
	if (pid == 0) {
		if (chdir(dir))
			_exit(126);
		setenv("HOME", dir, 1);
		setenv("TERM", "xterm", 1);
		setenv("NO_COLOR", "1", 1);
		unsetenv("LLAMUX_MODEL");
		unsetenv("LSH_HISTFILE");
		execl(argv[1], "lsh", (char *)NULL);
		_exit(127);
	}
	CHECK(expect("lsh:~$ "), "no prompt");

	type("echo hello-pty\r");
	CHECK(expect("hello-pty"), "typed command did not run");
	CHECK(expect("lsh:~$ "), "no prompt after the command");

	type("\033[A");
	type("\r");
	CHECK(expect("hello-pty"), "Up did not recall the last command");
	CHECK(expect("lsh:~$ "), "no prompt after the recalled command");

	type("how much disk space is left\r");
	CHECK(expect("df -h"), "no proposal for an English request");
	CHECK(expect("[Y/n]"), "no confirmation prompt");
	type("\r");
	CHECK(expect("Filesystem"), "confirmed command did not run");
	CHECK(expect("lsh:~$ "), "no prompt after the request");

	type("delete canary.txt\r");
	CHECK(expect("# risky: "), "risky proposal not marked");
	CHECK(expect("type yes"), "no typed confirmation asked");
	type("no\r");
	CHECK(expect("Not run."), "declined command not reported");
	CHECK(stat(canary, &st) == 0, "the canary was deleted after 'no'");
	CHECK(expect("lsh:~$ "), "no prompt after declining");

	type("delete canary.txt\r");
	CHECK(expect("type yes"), "no typed confirmation asked (2)");
	type("\r");
	CHECK(expect("Not run."), "Enter ran a risky command");
	CHECK(stat(canary, &st) == 0, "the canary was deleted after Enter");

	type("exit\r");
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status), "lsh did not exit");
	{
		size_t len;
		char *text = (char *)tl_read_file(hist, &len);

		CHECK(text && strstr(text, "hello-pty"), "history not saved");
		free(text);
	}
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return tl_finish("clitest_lsh_pty");
}
