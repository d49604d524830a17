// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The intent engine judged on tests/lsh/corpus.tsv: for each English
 * request, `lsh --dry-run -c REQUEST` must propose a command (and follow
 * the three-line output contract); then both the expected and the proposed
 * command run in a scratch tree built by tests/lsh/scratch.sh, and their
 * results are compared by the entry's judge:
 *   out     standard output, lines sorted (order of find/grep may differ)
 *   tree    standard output and the resulting tree (names, types, sizes,
 *           modes, small files' contents; gzip files by what they hold),
 *           each run in a fresh copy
 *   first   only the first output line (headers of ps, free, df, ...)
 *   col1    the sorted first words of the lines (row names: "Mem:", ...)
 *   status  exit status and first line of stdout+stderr (commands that need
 *           a machine we do not have: systemd, network)
 * Paths of the scratch tree are replaced by <T> before comparing. A
 * proposal classified risky never runs outside a tree-judged fresh copy.
 * Usage: clitest_lsh_corpus LSH CORPUS SCRATCH_SCRIPT
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

static const char *lsh, *script;
static char base[] = "/tmp/lsh-corpus-XXXXXX";

/* Runs argv in dir with HOME=dir; output (stdout, + stderr when merge). */
static int run_in(const char *dir, char *const argv[], bool merge, char **out)
{
	int pfd[2], status;
	pid_t pid;
	size_t n = 0, cap = 65536;
	char *buf = malloc(cap);
	ssize_t r;

	if (!buf || pipe(pfd))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		if (merge)
			dup2(pfd[1], 2);
		else
			freopen("/dev/null", "w", stderr);
		close(pfd[0]);
		if (chdir(dir))
			_exit(126);
		setenv("HOME", dir, 1);
		setenv("LC_ALL", "C", 1);
		setenv("LSH_HISTFILE", "/dev/null", 1);
		unsetenv("LLAMUX_MODEL");
		alarm(20);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	while ((r = read(pfd[0], buf + n, cap - n - 1)) > 0) {
		n += (size_t)r;
		if (cap - n < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
	}
	close(pfd[0]);
	buf[n] = '\0';
	waitpid(pid, &status, 0);
	*out = buf;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void make_tree(const char *dir)
{
	char cmd[4096];
	char *out = NULL;
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s' && cd '%s' && sh '%s'",
		 dir, dir, dir, script);
	if (run_in("/tmp", argv, true, &out) != 0)
		fprintf(stderr, "scratch tree failed: %s\n", out);
	free(out);
}

/* Replaces every occurrence of root by "<T>" in place (result shorter). */
static void strip_root(char *s, const char *root)
{
	size_t n = strlen(root);
	char *p;

	while ((p = strstr(s, root))) {
		memcpy(p, "<T>", 3);
		memmove(p + 3, p + n, strlen(p + n) + 1);
	}
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Normalises output by judge into a malloc'd string. */
static char *normalise(char *s, const char *judge, int status)
{
	char *lines[8192];
	size_t n = 0, len = 0;
	char *out, *save = NULL;

	for (char *l = strtok_r(s, "\n", &save); l && n < 8192;
	     l = strtok_r(NULL, "\n", &save)) {
		size_t k = strlen(l);

		while (k && (l[k - 1] == ' ' || l[k - 1] == '\t' || l[k - 1] == '\r'))
			l[--k] = '\0';
		if (!strcmp(judge, "col1")) {
			l += strspn(l, " \t");
			l[strcspn(l, " \t")] = '\0';
		}
		lines[n++] = l;
		if ((!strcmp(judge, "first") || !strcmp(judge, "status")) && n == 1)
			break;
	}
	if (strcmp(judge, "first") && strcmp(judge, "status"))
		qsort(lines, n, sizeof(lines[0]), cmp_lines);
	for (size_t i = 0; i < n; i++)
		len += strlen(lines[i]) + 1;
	out = malloc(len + 32);
	out[0] = '\0';
	if (!strcmp(judge, "status"))
		sprintf(out, "[%d] ", status);
	for (size_t i = 0; i < n; i++) {
		strcat(out, lines[i]);
		strcat(out, "\n");
	}
	return out;
}

static char *run_judged(const char *dir, const char *shell, const char *cmd,
			const char *judge)
{
	char *argv[] = { (char *)shell, "-c", (char *)cmd, NULL };
	char *out = NULL, *norm;
	bool tree = !strcmp(judge, "tree");
	int st = run_in(dir, argv, !strcmp(judge, "status"), &out);

	if (tree) {
		char *l = NULL;
		/*
		 * A gzip file's size varies with the times of what it packs,
		 * which differ between two copies of the tree made a second
		 * apart: gzip files are compared by what they hold instead
		 * (member names of a tarball, the checksum of anything else).
		 */
		char *largv[] = { "/bin/sh", "-c",
				  "find . \\( -name '*.gz' -o -name '*.tgz' \\) "
				  "-printf '%p %y - %m\\n' -o "
				  "-printf '%p %y %s %m\\n' | sort; "
				  "find . -type f -size -64k ! -name '*.gz' ! -name '*.zip' "
				  "! -name '*.tgz' ! -name '*.tar' -exec md5sum {} + | sort; "
				  "find . -type f \\( -name '*.tar.gz' -o -name '*.tgz' \\) "
				  "-exec sh -c 'for f; do echo \"$f holds\" "
				  "$(tar -tzf \"$f\" | sort); done' sh {} +; "
				  "find . -type f -name '*.gz' ! -name '*.tar.gz' "
				  "-exec sh -c 'for f; do echo \"$f holds\" "
				  "$(gzip -dc \"$f\" | md5sum); done' sh {} +", NULL };
		char *both;

		run_in(dir, largv, false, &l);
		both = malloc(strlen(out) + strlen(l) + 16);
		sprintf(both, "%s\n--tree--\n%s", out, l);
		free(out);
		free(l);
		out = both;
	}
	strip_root(out, dir);
	norm = normalise(out, tree ? "out" : judge, st);
	free(out);
	return norm;
}

int main(int argc, char **argv)
{
	FILE *f;
	char line[4096], shared[256], e_dir[256], p_dir[256];
	int total = 0, passed = 0, nl_total = 0, nl_passed = 0, lineno = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: %s LSH CORPUS SCRATCH_SCRIPT\n", argv[0]);
		return 2;
	}
	lsh = realpath(argv[1], NULL);
	script = realpath(argv[3], NULL);
	if (!lsh || !script) {
		fprintf(stderr, "cannot find %s or %s\n", argv[1], argv[3]);
		return 1;
	}
	f = fopen(argv[2], "r");
	if (!f || !mkdtemp(base)) {
		fprintf(stderr, "cannot open %s or make a scratch directory\n", argv[2]);
		return 1;
	}
	snprintf(shared, sizeof(shared), "%s/t", base);
	snprintf(e_dir, sizeof(e_dir), "%s/e", base);
	snprintf(p_dir, sizeof(p_dir), "%s/p", base);
	make_tree(shared);
	while (fgets(line, sizeof(line), f)) {
		char *fields[5], *save = NULL, *out = NULL, *prop_line, *p2, *p3;
		char *want = NULL, *got = NULL;
		const char *why = NULL;
		int n = 0, st;
		bool ok = false, nl;

		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		for (char *t = strtok_r(line, "\t", &save); t && n < 5;
		     t = strtok_r(NULL, "\t", &save))
			fields[n++] = t;
		if (n != 5) {
			CHECK(0, "corpus line %d: expected 5 tab-separated fields", lineno);
			continue;
		}
		nl = !strncmp(fields[1], "nl2bash", 7);
		total++;
		nl_total += nl;
		{
			char *largv[] = { (char *)lsh, "--dry-run", "-c", fields[3], NULL };

			st = run_in(shared, largv, false, &out);
		}
		prop_line = out;
		p2 = strchr(out, '\n');
		p3 = p2 ? strchr(p2 + 1, '\n') : NULL;
		if (st != 0 || !p2 || !p3) {
			why = "no proposal";
		} else {
			*p2 = '\0';
			*p3 = '\0';
			if (strncmp(p2 + 1, "# safe", 6) && strncmp(p2 + 1, "# risky: ", 9))
				why = "line 2 is not '# safe' or '# risky: ...'";
			else if (strncmp(p3 + 1, "# ", 2))
				why = "line 3 is not an explanation";
			else if (!strcmp(fields[2], "tree")) {
				make_tree(e_dir);
				make_tree(p_dir);
				want = run_judged(e_dir, "/bin/bash", fields[4], "tree");
				got = run_judged(p_dir, "/bin/sh", prop_line, "tree");
				ok = !strcmp(want, got);
				why = ok ? NULL : "different results";
			} else if (!strncmp(p2 + 1, "# risky", 7)) {
				why = "risky proposal for a read-only request (not run)";
			} else {
				want = run_judged(shared, "/bin/bash", fields[4], fields[2]);
				got = run_judged(shared, "/bin/sh", prop_line, fields[2]);
				ok = !strcmp(want, got);
				why = ok ? NULL : "different results";
			}
		}
		if (ok) {
			passed++;
			nl_passed += nl;
		} else {
			printf("FAIL %s [%s] %s\n  expected: %s\n  proposed: %s\n  (%s)\n",
			       fields[0], fields[2], fields[3], fields[4],
			       why && !strcmp(why, "no proposal") ? "-" : prop_line, why);
			if (want && got && getenv("LSH_CORPUS_VERBOSE"))
				printf("  want:\n%.600s  got:\n%.600s", want, got);
		}
		free(out);
		free(want);
		free(got);
	}
	fclose(f);
	printf("intent engine: %d/%d requests passed (%.1f%%); NL2Bash subset: %d/%d\n",
	       passed, total, total ? 100.0 * passed / total : 0.0, nl_passed,
	       nl_total);
	CHECK(total >= 200, "the corpus has %d requests, want at least 200", total);
	CHECK(nl_total >= 50, "%d NL2Bash requests, want at least 50", nl_total);
	/* the aim: at least 90% */
	CHECK(passed * 100 >= total * 90, "pass rate below 90%%: %d/%d", passed,
	      total);
	{
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", base);
	}
	return tl_finish("clitest_lsh_corpus");
}
