// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The safety classifier behind lsh's confirmations. It walks every command
 * of the parsed line (also inside $(...), backticks, subshells, loops,
 * find -exec, xargs, sh -c and eval) and marks the line risky when any part
 * deletes or overwrites data, changes ownership or permissions
 * recursively, kills processes, stops services, reboots, runs as another
 * user, pipes a download into a shell, writes under /etc, /boot, /dev,
 * /sys or /proc, or runs something lsh does not know.
 */
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safety.h"

struct ctx {
	struct lsh_safety *out;
	int depth;
};

static void risky(struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void risky(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->out->risky)
		return;
	c->out->risky = true;
	va_start(ap, fmt);
	vsnprintf(c->out->reason, sizeof(c->out->reason), fmt, ap);
	va_end(ap);
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

#define LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* ---- words and paths ---- */

/* The word's value when it is static (no expansion), with ~ expanded. */
static bool static_path(const struct sh_word *w, char *buf, size_t cap)
{
	const char *v = w->value;

	if (w->flags & SHW_EXPAND)
		return false;
	if ((w->flags & SHW_TILDE) && (v[1] == '\0' || v[1] == '/')) {
		const char *home = getenv("HOME");

		if (!home)
			return false;
		snprintf(buf, cap, "%s%s", home, v + 1);
		return true;
	}
	if (w->flags & SHW_TILDE)
		return false;	/* ~user */
	snprintf(buf, cap, "%s", v);
	return true;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Under /etc, /boot, /dev, /sys or /proc (after making it absolute)? */
static const char *system_area(const char *path)
{
	static const char *const areas[] = { "/etc", "/boot", "/dev", "/sys",
					     "/proc", NULL };
	char abs[4096], real[4096];
	const char *p = path;

	if (path[0] != '/') {
		char cwd[2048];

		if (!getcwd(cwd, sizeof(cwd)))
			return NULL;
		snprintf(abs, sizeof(abs), "%s/%s", cwd, path);
		p = abs;
	}
	/* resolve what exists of it (symlinks, ..) */
	if (realpath(p, real))
		p = real;
	for (size_t i = 0; areas[i]; i++) {
		size_t n = strlen(areas[i]);

		if (!strncmp(p, areas[i], n) && (p[n] == '/' || !p[n]))
			return areas[i];
	}
	return NULL;
}

/* Writing to these is harmless. */
static bool harmless_sink(const char *path)
{
	return !strcmp(path, "/dev/null") || !strcmp(path, "/dev/stdout") ||
	       !strcmp(path, "/dev/stderr") || !strcmp(path, "/dev/tty") ||
	       !strcmp(path, "/dev/zero") || !strncmp(path, "/dev/fd/", 8);
}

/*
 * A file this command writes (truncating when overwrite is true): risky if
 * it is computed, under a system area, or already exists.
 */
static void check_write(struct ctx *c, const struct sh_word *w,
			bool overwrite, const char *who)
{
	char path[4096];
	const char *area;

	if (!static_path(w, path, sizeof(path)) || (w->flags & SHW_GLOB)) {
		risky(c, "writes to a file whose name lsh cannot know ('%s', %s)",
		      w->raw, who);
		return;
	}
	if (harmless_sink(path))
		return;
	area = system_area(path);
	if (area) {
		risky(c, "writes under %s ('%s', %s)", area, w->value, who);
		return;
	}
	if (overwrite && exists(path))
		risky(c, "overwrites the existing file '%s' (%s)", w->value, who);
}

/* A path the command changes in place (chmod, touch, mkdir, ...). */
static void check_system_path(struct ctx *c, const struct sh_word *w,
			      const char *who)
{
	char path[4096];
	const char *area;

	if (!static_path(w, path, sizeof(path)))
		return;
	area = system_area(path);
	if (area && !harmless_sink(path))
		risky(c, "changes files under %s ('%s', %s)", area, w->value,
		      who);
}

/* ---- command tables ---- */

static const char *const safe_cmds[] = {
	/* reading and printing */
	"ls", "dir", "vdir", "cat", "tac", "less", "more", "head", "tail",
	"grep", "egrep", "fgrep", "rgrep", "zgrep", "zcat", "bzcat", "xzcat",
	"zless", "wc", "sort", "uniq", "cut", "paste", "join", "tr", "column",
	"nl", "fold", "fmt", "rev", "od", "hexdump", "xxd", "strings", "base64",
	"md5sum", "sha1sum", "sha224sum", "sha256sum", "sha384sum",
	"sha512sum", "b2sum", "cksum", "sum", "diff", "cmp", "comm", "file",
	"stat", "du", "df", "free", "uptime", "uname", "arch", "whoami", "id",
	"groups", "who", "w", "users", "last", "lastlog", "ps", "pgrep",
	"pidof", "pstree", "top", "htop", "lsof", "ss", "netstat", "ping",
	"ping6", "traceroute", "tracepath", "dig", "nslookup", "host",
	"getent", "lsblk", "blkid", "findmnt", "lscpu", "lsmem", "lspci",
	"lsusb", "lsmod", "nproc", "env", "printenv", "echo", "printf", "pwd",
	"true", "false", "test", "[", "sleep", "seq", "basename", "dirname",
	"realpath", "readlink", "which", "whereis", "locate", "tree", "expr",
	"bc", "dc", "factor", "numfmt", "cal", "ncal", "locale", "tty",
	"stty", "clear", "reset", "tput", "man", "info", "apropos", "whatis",
	"jq", "yes", "vmstat", "iostat", "mpstat", "sar", "watch", "time",
	"journalctl", "dmesg", "loginctl", "hostnamectl", "localectl",
	"timedatectl", "networkctl", "resolvectl", "apt-cache", "dpkg-query",
	"nmcli", "iwconfig", "lsattr", "getfacl", "namei", "mountpoint",
	"printf", "date", "hostname", "ip", "ifconfig", "swapon", "mount",
	"curl", "wget", "gzip", "gunzip", "bzip2", "bunzip2", "xz", "unxz",
	"zstd", "unzstd", "zip", "unzip", "tar", "touch", "mkdir", "cp", "mv",
	"ln", "install", "rsync", "tee", "sed", "awk", "gawk", "mawk",
	"nawk", "find", "xargs", "git", "apt", "apt-get", "dpkg", "systemctl",
	"service", "chmod", "chown", "chgrp", "kill", "fuser", "crontab",
	"nice", "nohup", "timeout", "stdbuf", "ionice", "setsid", "command",
	"builtin", "exec", "sh", "bash", "dash", "zsh", "ksh", "ash", "eval",
	"iptables", "ip6tables", "nft", "ufw", "sysctl", "tldr", "mktemp",
	"split", "csplit", "shuf", "ts", "pv", "tload", "id", "lastb",
	"systemd-analyze", "uptime", "look", "iconv", "file", "sync",
	"open", "xdg-open", "dpkg-architecture", "lsb_release", "getconf",
	NULL,
};

static const char *const shells[] = { "sh", "bash", "dash", "zsh", "ksh",
				      "ash", "mksh", "fish", "csh", "tcsh",
				      NULL };
static const char *const interpreters[] = {
	"python", "python2", "python3", "perl", "ruby", "node", "nodejs", "php",
	"lua", "Rscript", "tclsh", "wish", "irb", "deno", "bun", NULL,
};
static const char *const downloaders[] = { "curl", "wget", "fetch", "aria2c",
					   "lynx", "links", NULL };

static const char *const shell_builtins[] = {
	"cd", "pwd", "echo", "printf", "test", "[", "true", "false", ":",
	"read", "export", "unset", "alias", "unalias", "type", "hash", "help",
	"history", "jobs", "fg", "bg", "wait", "set", "shift", "getopts",
	"local", "declare", "typeset", "readonly", "return", "exit", "break",
	"continue", "times", "umask", "ulimit", "trap", "let", "command",
	"builtin", "exec", "eval", "source", ".", "kill", "dirs", "pushd",
	"popd", "shopt", "enable", "logout", "compgen", "complete", "caller",
	"disown", "suspend", "mapfile", "readarray", NULL,
};

bool lsh_is_shell_builtin(const char *name)
{
	return in_list(name, shell_builtins);
}

/* ---- option helpers ---- */

/* Has a short option letter (in a cluster like -rf) or a long option. */
static bool has_opt(const struct sh_word *args, size_t n, char letter,
		    const char *longopt)
{
	for (size_t i = 0; i < n; i++) {
		const char *a = args[i].value;

		if (!strcmp(a, "--"))
			break;
		if (longopt && !strncmp(a, longopt, strlen(longopt)) &&
		    (a[strlen(longopt)] == '\0' || a[strlen(longopt)] == '='))
			return true;
		if (letter && a[0] == '-' && a[1] != '-' && a[1] &&
		    strchr(a + 1, letter))
			return true;
	}
	return false;
}

/* First argument that is not an option. */
static const struct sh_word *first_operand(const struct sh_word *args,
					   size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (args[i].value[0] != '-' || !strcmp(args[i].value, "-"))
			return &args[i];
	return NULL;
}

static void classify_words(struct ctx *c, const struct sh_word *w, size_t n,
			   bool many, const struct sh_pipeline *pl,
			   size_t index, const struct sh_cmd *cmd);
static void classify_list(struct ctx *c, const struct sh_list *l);

/* Parses a command string (sh -c, eval, watch) and classifies it. */
static void classify_string(struct ctx *c, const struct sh_word *w,
			    const char *who)
{
	char err[128];
	struct sh_list *l;

	if (w->flags & SHW_EXPAND) {
		risky(c, "runs a command string that is computed (%s)", who);
		return;
	}
	if (c->depth > 16) {
		risky(c, "nested too deeply to check (%s)", who);
		return;
	}
	l = sh_parse(w->value, err, sizeof(err));
	if (!l) {
		risky(c, "runs a command string that does not parse (%s: %s)",
		      who, err);
		return;
	}
	c->depth++;
	classify_list(c, l);
	c->depth--;
	sh_free(l);
}

/* mv, cp, install, rsync: does any source land on an existing path? */
static void check_copy(struct ctx *c, const char *who,
		       const struct sh_word *args, size_t n)
{
	const struct sh_word *ops[256];
	const struct sh_word *dest = NULL;
	size_t nops = 0;
	char dpath[4096];
	bool dashdash = false;

	if (has_opt(args, n, 'n', "--no-clobber") ||
	    has_opt(args, n, 0, "--update=none"))
		return;
	for (size_t i = 0; i < n; i++) {
		const char *a = args[i].value;

		if (!dashdash && !strcmp(a, "--")) {
			dashdash = true;
			continue;
		}
		if (!dashdash && (!strcmp(a, "-t") ||
				  !strcmp(a, "--target-directory")) && i + 1 < n) {
			dest = &args[++i];
			continue;
		}
		if (!dashdash && !strncmp(a, "--target-directory=", 19)) {
			dest = &args[i];	/* value has the prefix */
			continue;
		}
		if (!dashdash && a[0] == '-' && a[1])
			continue;
		if (nops < 256)
			ops[nops++] = &args[i];
	}
	if (!dest) {
		if (nops < 2)
			return;
		dest = ops[--nops];
	}
	if (dest->flags & (SHW_EXPAND | SHW_GLOB) ||
	    !static_path(dest, dpath, sizeof(dpath))) {
		risky(c, "%s onto a path lsh cannot check ('%s')", who,
		      dest->raw);
		return;
	}
	if (!strncmp(dpath, "--target-directory=", 19))
		memmove(dpath, dpath + 19, strlen(dpath + 19) + 1);
	if (system_area(dpath) && !harmless_sink(dpath)) {
		risky(c, "writes under %s ('%s', %s)", system_area(dpath),
		      dpath, who);
		return;
	}
	if (!is_dir(dpath)) {
		if (exists(dpath))
			risky(c, "overwrites the existing file '%s' (%s)",
			      dpath, who);
		return;
	}
	for (size_t i = 0; i < nops; i++) {
		char src[4096], target[8192];
		glob_t g;

		if (ops[i]->flags & SHW_EXPAND ||
		    !static_path(ops[i], src, sizeof(src))) {
			risky(c, "%s of files lsh cannot know ('%s')", who,
			      ops[i]->raw);
			return;
		}
		if (ops[i]->flags & SHW_GLOB) {
			if (glob(src, 0, NULL, &g) == 0) {
				for (size_t k = 0; k < g.gl_pathc; k++) {
					const char *b = strrchr(g.gl_pathv[k], '/');

					snprintf(target, sizeof(target), "%s/%s",
						 dpath, b ? b + 1 : g.gl_pathv[k]);
					if (exists(target)) {
						risky(c, "overwrites the existing file '%s' (%s)",
						      target, who);
						break;
					}
				}
				globfree(&g);
			}
			continue;
		}
		{
			size_t len = strlen(src);
			const char *b;

			while (len > 1 && src[len - 1] == '/')
				src[--len] = '\0';
			b = strrchr(src, '/');
			snprintf(target, sizeof(target), "%s/%s", dpath,
				 b ? b + 1 : src);
		}
		if (exists(target))
			risky(c, "overwrites the existing file '%s' (%s)", target,
			      who);
	}
}

/* find: -delete, -exec CMD ;, -fprint FILE */
static void classify_find(struct ctx *c, const struct sh_word *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = a[i].value;

		if (!strcmp(v, "-delete")) {
			risky(c, "deletes files (find -delete)");
			return;
		}
		if (!strcmp(v, "-exec") || !strcmp(v, "-execdir") ||
		    !strcmp(v, "-ok") || !strcmp(v, "-okdir")) {
			size_t j = i + 1;

			while (j < n && strcmp(a[j].value, ";") &&
			       strcmp(a[j].value, "+"))
				j++;
			if (j == i + 1) {
				risky(c, "find %s without a command", v);
				return;
			}
			classify_words(c, a + i + 1, j - i - 1, true, NULL, 0,
				       NULL);
			i = j;
			continue;
		}
		if ((!strcmp(v, "-fprint") || !strcmp(v, "-fprint0") ||
		     !strcmp(v, "-fls") || !strcmp(v, "-fprintf")) && i + 1 < n)
			check_write(c, &a[i + 1], true, "find -fprint");
	}
}

/* xargs [options] [command [initial-arguments]] */
static void classify_xargs(struct ctx *c, const struct sh_word *a, size_t n)
{
	static const char *const with_arg[] = { "-I", "-L", "-n", "-P", "-d",
						"-E", "-s", "-a", "-l", NULL };
	size_t i = 0;

	while (i < n && a[i].value[0] == '-') {
		const char *v = a[i].value;

		if (!strcmp(v, "--")) {
			i++;
			break;
		}
		if (in_list(v, with_arg))
			i++;
		i++;
	}
	if (i >= n)
		return;	/* echo */
	classify_words(c, a + i, n - i, true, NULL, 0, NULL);
}

/* awk: a program that runs commands or writes files */
static void classify_awk(struct ctx *c, const char *who,
			 const struct sh_word *a, size_t n)
{
	const struct sh_word *prog = NULL;

	for (size_t i = 0; i < n; i++) {
		const char *v = a[i].value;

		if (!strcmp(v, "-f") || !strncmp(v, "--file", 6)) {
			risky(c, "runs an awk program file lsh cannot inspect (%s)",
			      who);
			return;
		}
		if (!strcmp(v, "-F") || !strcmp(v, "-v")) {
			i++;
			continue;
		}
		if (v[0] == '-' && v[1])
			continue;
		prog = &a[i];
		break;
	}
	if (!prog)
		return;
	if (prog->flags & SHW_EXPAND) {
		risky(c, "runs an awk program that is computed (%s)", who);
		return;
	}
	{
		const char *p = prog->value;

		if (strstr(p, "system") || strstr(p, "| \"") ||
		    strstr(p, "|\"") || strstr(p, "|&")) {
			risky(c, "the awk program runs commands (%s)", who);
			return;
		}
		for (const char *q = strchr(p, '>'); q; q = strchr(q + 1, '>')) {
			const char *r = q + 1;

			if (*r == '>')
				r++;
			while (*r == ' ')
				r++;
			if (*r == '"' || *r == '$' || (*r >= 'a' && *r <= 'z')) {
				/* print > "file" or > var: comparisons rarely
				 * follow print/printf on the same statement */
				const char *s = q;
				bool printing = false;

				while (s > p && s[-1] != ';' && s[-1] != '{')
					s--;
				while (*s == ' ')
					s++;
				printing = !strncmp(s, "print", 5);
				if (printing) {
					risky(c, "the awk program writes files (%s)",
					      who);
					return;
				}
			}
		}
	}
}

static void classify_tar(struct ctx *c, const struct sh_word *a, size_t n)
{
	bool extract = false, create = false, keep = false;
	const struct sh_word *file = NULL;

	for (size_t i = 0; i < n; i++) {
		const char *v = a[i].value;

		if (!strcmp(v, "--extract") || !strcmp(v, "--get"))
			extract = true;
		else if (!strcmp(v, "--create"))
			create = true;
		else if (!strcmp(v, "--keep-old-files") ||
			 !strcmp(v, "--skip-old-files") ||
			 !strcmp(v, "--keep-newer-files"))
			keep = true;
		else if (!strcmp(v, "--remove-files")) {
			risky(c, "deletes the files it archives (tar --remove-files)");
			return;
		} else if (!strncmp(v, "--file=", 7))
			file = &a[i];
		else if (!strcmp(v, "--file") && i + 1 < n)
			file = &a[++i];
		else if ((i == 0 && v[0] != '-') ||
			 (v[0] == '-' && v[1] != '-')) {
			/* a cluster: first argument without '-' too */
			const char *f = v[0] == '-' ? v + 1 : v;

			if (strchr(f, 'x'))
				extract = true;
			if (strchr(f, 'c'))
				create = true;
			if (strchr(f, 'k'))
				keep = true;
			if (strchr(f, 'f') && i + 1 < n)
				file = &a[i + 1];
		}
	}
	if (extract && !keep)
		risky(c, "extracting may overwrite existing files (tar -x without -k)");
	else if (create && file && strncmp(file->value, "--file=", 7) &&
		 strcmp(file->value, "-"))
		check_write(c, file, true, "tar -c");
}

static void classify_git(struct ctx *c, const struct sh_word *a, size_t n)
{
	static const char *const safe_sub[] = {
		"status", "log", "diff", "show", "ls-files", "ls-tree",
		"ls-remote", "blame", "rev-parse", "describe", "shortlog", "grep",
		"cat-file", "whatchanged", "help", "version", "count-objects",
		"fetch", "init", "clone", "add", "commit", "switch", "pull",
		"merge", "cherry-pick", "revert", "archive", "format-patch",
		"show-branch", "name-rev", "for-each-ref", "var", "annotate",
		"rev-list", "citool", "gui", "fsck", "notes", "am", "apply",
		"bisect", "--version", "--help", NULL,
	};
	size_t i = 0;
	const char *sub;
	const struct sh_word *rest;
	size_t nrest;

	while (i < n && a[i].value[0] == '-' && strcmp(a[i].value, "--version") &&
	       strcmp(a[i].value, "--help")) {
		if (!strcmp(a[i].value, "-C") || !strcmp(a[i].value, "-c"))
			i++;
		i++;
	}
	if (i >= n)
		return;
	sub = a[i].value;
	rest = a + i + 1;
	nrest = n - i - 1;
	if (!strcmp(sub, "branch")) {
		if (has_opt(rest, nrest, 'd', "--delete") ||
		    has_opt(rest, nrest, 'D', NULL) ||
		    has_opt(rest, nrest, 'f', "--force") ||
		    has_opt(rest, nrest, 'M', NULL))
			risky(c, "deletes or overwrites a branch (git branch)");
		return;
	}
	if (!strcmp(sub, "tag") || !strcmp(sub, "remote") ||
	    !strcmp(sub, "config") || !strcmp(sub, "stash") ||
	    !strcmp(sub, "reflog") || !strcmp(sub, "worktree")) {
		static const char *const bad[] = { "-d", "--delete", "drop",
						   "clear", "remove", "rm",
						   "expire", "delete",
						   "--unset", "--unset-all",
						   "prune", "--remove-section",
						   NULL };

		for (size_t k = 0; k < nrest; k++)
			if (in_list(rest[k].value, bad)) {
				risky(c, "deletes data (git %s %s)", sub,
				      rest[k].value);
				return;
			}
		return;
	}
	if (!strcmp(sub, "reset")) {
		if (has_opt(rest, nrest, 0, "--hard") ||
		    has_opt(rest, nrest, 0, "--merge") ||
		    has_opt(rest, nrest, 0, "--keep"))
			risky(c, "discards uncommitted changes (git reset --hard)");
		return;
	}
	if (!strcmp(sub, "clean")) {
		if (!has_opt(rest, nrest, 'n', "--dry-run"))
			risky(c, "deletes untracked files (git clean)");
		return;
	}
	if (!strcmp(sub, "checkout")) {
		if (!(nrest >= 1 && (!strcmp(rest[0].value, "-b") ||
				     !strcmp(rest[0].value, "-B"))) ||
		    has_opt(rest, nrest, 'f', "--force"))
			if (nrest != 1 || rest[0].value[0] == '-' ||
			    !strcmp(rest[0].value, ".") || exists(rest[0].value))
				risky(c, "may discard uncommitted changes (git checkout)");
		return;
	}
	if (!strcmp(sub, "restore")) {
		risky(c, "discards uncommitted changes (git restore)");
		return;
	}
	if (!strcmp(sub, "rm")) {
		risky(c, "deletes files (git rm)");
		return;
	}
	if (!strcmp(sub, "push")) {
		if (has_opt(rest, nrest, 'f', "--force") ||
		    has_opt(rest, nrest, 0, "--force-with-lease") ||
		    has_opt(rest, nrest, 'd', "--delete") ||
		    has_opt(rest, nrest, 0, "--mirror"))
			risky(c, "rewrites or deletes remote history (git push)");
		for (size_t k = 0; k < nrest; k++)
			if (rest[k].value[0] == ':' || rest[k].value[0] == '+')
				risky(c, "rewrites or deletes remote history (git push)");
		return;
	}
	if (!strcmp(sub, "mv")) {
		check_copy(c, "git mv", rest, nrest);
		return;
	}
	if (!strcmp(sub, "rebase") || !strcmp(sub, "filter-branch") ||
	    !strcmp(sub, "gc") || !strcmp(sub, "prune") ||
	    !strcmp(sub, "update-ref")) {
		risky(c, "rewrites history or deletes objects (git %s)", sub);
		return;
	}
	if (!in_list(sub, safe_sub))
		risky(c, "unrecognised git command 'git %s'", sub);
}

static void classify_pkg(struct ctx *c, const char *who,
			 const struct sh_word *a, size_t n)
{
	static const char *const safe_sub[] = {
		"list", "show", "search", "policy", "depends", "rdepends",
		"showpkg", "showsrc", "changelog", "madison", "help", "moo",
		"download", "source", "check", "--version", "-v", "-h",
		"--help", NULL,
	};
	const struct sh_word *sub = first_operand(a, n);
	const char *s;

	if (!sub)
		return;
	s = sub->value;
	if (in_list(s, safe_sub))
		return;
	if (!strcmp(s, "install") || !strcmp(s, "reinstall"))
		risky(c, "installs packages (%s %s)", who, s);
	else if (!strcmp(s, "remove") || !strcmp(s, "purge") ||
		 !strcmp(s, "autoremove") || !strcmp(s, "autopurge"))
		risky(c, "removes packages (%s %s)", who, s);
	else if (!strcmp(s, "upgrade") || !strcmp(s, "full-upgrade") ||
		 !strcmp(s, "dist-upgrade"))
		risky(c, "upgrades packages (%s %s)", who, s);
	else
		risky(c, "changes the package system (%s %s)", who, s);
}

static void classify_systemctl(struct ctx *c, const struct sh_word *a,
			       size_t n)
{
	static const char *const safe_sub[] = {
		"status", "show", "list-units", "list-unit-files",
		"list-timers", "list-sockets", "list-dependencies",
		"list-jobs", "list-machines", "is-active", "is-enabled",
		"is-failed", "is-system-running", "cat", "help", "get-default",
		"show-environment", "--version", "--failed", NULL,
	};
	static const char *const power[] = { "reboot", "poweroff", "halt",
					     "kexec", "suspend", "hibernate",
					     "hybrid-sleep", "soft-reboot",
					     "emergency", "rescue", NULL };
	static const char *const stops[] = { "stop", "kill", "disable",
					     "mask", "restart", "try-restart",
					     "reload-or-restart",
					     "try-reload-or-restart",
					     "isolate", "freeze", "clean",
					     NULL };
	const struct sh_word *sub = first_operand(a, n);

	if (!sub || in_list(sub->value, safe_sub))
		return;
	if (in_list(sub->value, power))
		risky(c, "reboots or powers off the machine (systemctl %s)",
		      sub->value);
	else if (in_list(sub->value, stops))
		risky(c, "stops or restarts a service (systemctl %s)",
		      sub->value);
	else
		risky(c, "changes system services (systemctl %s)", sub->value);
}

/* The shell or interpreter reads its program from standard input. */
static bool reads_stdin_program(const struct sh_word *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = a[i].value;

		if (!strcmp(v, "-s") || !strcmp(v, "-"))
			return true;
		if (v[0] != '-')
			return false;
	}
	return true;
}

static void classify_shell(struct ctx *c, const char *who,
			   const struct sh_word *a, size_t n,
			   const struct sh_pipeline *pl, size_t index,
			   const struct sh_cmd *cmd)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = a[i].value;

		if (!strcmp(v, "--version") || !strcmp(v, "--help"))
			return;
		if (v[0] == '-' && v[1] != '-' && strchr(v + 1, 'c')) {
			if (i + 1 >= n) {
				risky(c, "%s -c without a command", who);
				return;
			}
			classify_string(c, &a[i + 1], who);
			return;
		}
		if (v[0] == '-' && v[1] == '-')
			continue;
		if (v[0] != '-')
			break;
	}
	if (!reads_stdin_program(a, n)) {
		const struct sh_word *f = first_operand(a, n);

		risky(c, "runs a script lsh cannot inspect ('%s')",
		      f ? f->value : who);
		return;
	}
	/* the program comes from standard input */
	for (size_t i = 0; cmd && i < cmd->nredirs; i++) {
		const struct sh_redir *r = &cmd->redirs[i];

		if ((r->op == SHR_HEREDOC || r->op == SHR_HERESTR) &&
		    (r->fd == -1 || r->fd == 0)) {
			struct sh_word body = r->target;

			if (r->op == SHR_HEREDOC) {
				body.value = r->heredoc && r->heredoc->body ?
					     r->heredoc->body : "";
				body.flags &= ~SHW_EXPAND;
			}
			classify_string(c, &body, who);
			return;
		}
		if (r->op == SHR_IN && (r->fd == -1 || r->fd == 0)) {
			risky(c, "runs a script lsh cannot inspect ('%s')",
			      r->target.value);
			return;
		}
	}
	if (pl && index > 0) {
		for (size_t j = 0; j < index; j++) {
			const struct sh_cmd *prev = &pl->cmds[j];
			const char *name;

			if (prev->nwords <= prev->nassign)
				continue;
			name = prev->words[prev->nassign].value;
			if (strrchr(name, '/'))
				name = strrchr(name, '/') + 1;
			if (in_list(name, downloaders)) {
				risky(c, "pipes a download into a shell (%s | %s)",
				      name, who);
				return;
			}
		}
		risky(c, "pipes commands into a shell (| %s)", who);
	}
}

static bool only_version_or_help(const struct sh_word *a, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!in_list(a[i].value, LIST("--version", "--help", "-V",
					      "-version", "version")))
			return false;
	return true;
}

/*
 * One command: w[0] is the command name. many: runs once per file (find
 * -exec, xargs). pl/index/cmd: where it sits (for pipes and redirections).
 */
static void classify_words(struct ctx *c, const struct sh_word *w, size_t n,
			   bool many, const struct sh_pipeline *pl,
			   size_t index, const struct sh_cmd *cmd)
{
	const char *name;
	const struct sh_word *a = w + 1;
	size_t na = n - 1;

	if (!n || c->out->risky)
		return;
	if (w[0].flags & SHW_EXPAND) {
		risky(c, "runs a command whose name is computed ('%s')",
		      w[0].raw);
		return;
	}
	name = w[0].value;
	if (strchr(name, '/')) {
		const char *base = strrchr(name, '/') + 1;

		if (!strncmp(name, "/bin/", 5) || !strncmp(name, "/usr/bin/", 9) ||
		    !strncmp(name, "/sbin/", 6) ||
		    !strncmp(name, "/usr/sbin/", 10) ||
		    !strncmp(name, "/usr/local/bin/", 15)) {
			name = base;
		} else {
			risky(c, "runs a program lsh does not know ('%s')", name);
			return;
		}
	}

	/* running as someone else */
	if (in_list(name, LIST("sudo", "su", "doas", "pkexec", "runuser",
			       "sg", "newgrp", "setpriv", "run0"))) {
		risky(c, "runs as another user (%s)", name);
		return;
	}
	/* wrappers: classify the command they run */
	if (in_list(name, LIST("nohup", "setsid", "builtin", "exec", "time",
			       "busybox", "unbuffer", "chronic"))) {
		size_t i = 0;

		while (i < na && a[i].value[0] == '-')
			i++;
		if (i < na)
			classify_words(c, a + i, na - i, many, pl, index, cmd);
		return;
	}
	if (!strcmp(name, "command")) {
		if (has_opt(a, na, 'v', NULL) || has_opt(a, na, 'V', NULL))
			return;
		if (na)
			classify_words(c, a + (a[0].value[0] == '-'),
				       na - (a[0].value[0] == '-'), many, pl,
				       index, cmd);
		return;
	}
	if (in_list(name, LIST("nice", "ionice", "stdbuf", "timeout", "chrt",
			       "taskset", "flock", "env"))) {
		size_t i = 0;

		while (i < na) {
			const char *v = a[i].value;

			if (v[0] == '-') {
				if (!strcmp(v, "-n") || !strcmp(v, "-c") ||
				    !strcmp(v, "-u") || !strcmp(v, "-s") ||
				    !strcmp(v, "-k") || !strcmp(v, "-o") ||
				    !strcmp(v, "-e") || !strcmp(v, "-i"))
					i += strcmp(v, "-i") ? 2 : 1;
				else
					i++;
				continue;
			}
			if (!strcmp(name, "env") && strchr(v, '=')) {
				i++;
				continue;
			}
			/* timeout DURATION, taskset MASK, chrt PRIO, flock FILE */
			if (in_list(name, LIST("timeout", "taskset", "chrt",
					       "flock")) &&
			    (v[0] >= '0' && v[0] <= '9'))
				i++;
			else if (!strcmp(name, "flock"))
				i++;
			break;
		}
		if (i < na)
			classify_words(c, a + i, na - i, many, pl, index, cmd);
		return;
	}
	if (!strcmp(name, "watch")) {
		size_t i = 0;

		while (i < na && a[i].value[0] == '-')
			i += (!strcmp(a[i].value, "-n") ||
			      !strcmp(a[i].value, "-d")) ? 2 : 1;
		if (i + 1 == na)
			classify_string(c, &a[i], "watch");
		else if (i < na)
			classify_words(c, a + i, na - i, false, NULL, 0, NULL);
		return;
	}
	if (!strcmp(name, "xargs")) {
		classify_xargs(c, a, na);
		return;
	}
	if (!strcmp(name, "find")) {
		classify_find(c, a, na);
		return;
	}
	if (!strcmp(name, "eval")) {
		struct sh_word joined = { 0 };
		char buf[4096] = "";
		bool computed = false;

		for (size_t i = 0; i < na; i++) {
			if (a[i].flags & SHW_EXPAND)
				computed = true;
			if (i)
				strncat(buf, " ", sizeof(buf) - strlen(buf) - 1);
			strncat(buf, a[i].value, sizeof(buf) - strlen(buf) - 1);
		}
		joined.value = buf;
		joined.raw = buf;
		joined.flags = computed ? SHW_EXPAND : 0;
		classify_string(c, &joined, "eval");
		return;
	}
	if (!strcmp(name, "source") || !strcmp(name, ".")) {
		risky(c, "runs a script lsh cannot inspect (%s %s)", name,
		      na ? a[0].value : "");
		return;
	}
	if (in_list(name, shells)) {
		classify_shell(c, name, a, na, pl, index, cmd);
		return;
	}
	if (in_list(name, interpreters)) {
		if (only_version_or_help(a, na))
			return;
		if (pl && index > 0 && reads_stdin_program(a, na)) {
			for (size_t j = 0; j < index; j++) {
				const struct sh_cmd *prev = &pl->cmds[j];

				if (prev->nwords > prev->nassign &&
				    in_list(prev->words[prev->nassign].value,
					    downloaders)) {
					risky(c, "pipes a download into an interpreter (%s)",
					      name);
					return;
				}
			}
		}
		risky(c, "runs %s code lsh cannot inspect", name);
		return;
	}

	/* deleting and overwriting */
	if (in_list(name, LIST("rm", "unlink", "srm"))) {
		risky(c, "deletes files (%s)", name);
		return;
	}
	if (!strcmp(name, "rmdir")) {
		risky(c, "removes directories (rmdir)");
		return;
	}
	if (in_list(name, LIST("shred", "wipe", "wipefs", "blkdiscard"))) {
		risky(c, "destroys data (%s)", name);
		return;
	}
	if (!strcmp(name, "truncate")) {
		risky(c, "truncates files (truncate)");
		return;
	}
	if (!strcmp(name, "dd")) {
		risky(c, "writes raw data (dd)");
		return;
	}
	if (!strncmp(name, "mkfs", 4) || in_list(name, LIST("mke2fs", "mkswap",
		"fdisk", "sfdisk", "cfdisk", "parted", "gdisk", "sgdisk",
		"mkdosfs", "badblocks", "cryptsetup", "lvremove", "vgremove",
		"pvremove", "zpool", "resize2fs", "e2fsck", "fsck"))) {
		risky(c, "formats or changes disks (%s)", name);
		return;
	}
	if (in_list(name, LIST("mv", "cp", "install"))) {
		if (many)
			risky(c, "%s of many files onto paths lsh cannot check (%s)",
			      strcmp(name, "mv") ? "copies" : "moves", name);
		else
			check_copy(c, name, a, na);
		return;
	}
	if (!strcmp(name, "sort")) {
		for (size_t i = 0; i < na; i++) {
			if ((!strcmp(a[i].value, "-o") ||
			     !strcmp(a[i].value, "--output")) && i + 1 < na)
				check_write(c, &a[i + 1], true, "sort -o");
			else if (!strncmp(a[i].value, "-o", 2) && a[i].value[2]) {
				struct sh_word t = a[i];

				t.value += 2;
				check_write(c, &t, true, "sort -o");
			}
		}
		return;
	}
	if (!strcmp(name, "rsync")) {
		for (size_t i = 0; i < na; i++)
			if (!strncmp(a[i].value, "--delete", 8) ||
			    !strcmp(a[i].value, "--remove-source-files")) {
				risky(c, "deletes files (rsync %s)", a[i].value);
				return;
			}
		check_copy(c, "rsync", a, na);
		return;
	}
	if (!strcmp(name, "ln")) {
		if (has_opt(a, na, 'f', "--force"))
			check_copy(c, "ln -f", a, na);
		else
			for (size_t i = 0; i < na; i++)
				if (a[i].value[0] != '-')
					check_system_path(c, &a[i], "ln");
		return;
	}
	if (!strcmp(name, "tee")) {
		bool append = has_opt(a, na, 'a', "--append");

		for (size_t i = 0; i < na; i++)
			if (a[i].value[0] != '-' || !strcmp(a[i].value, "-"))
				check_write(c, &a[i], !append, "tee");
		return;
	}
	if (in_list(name, LIST("touch", "mkdir", "mkfifo", "mknod"))) {
		for (size_t i = 0; i < na; i++)
			if (a[i].value[0] != '-')
				check_system_path(c, &a[i], name);
		return;
	}
	if (!strcmp(name, "sed")) {
		if (has_opt(a, na, 'i', "--in-place"))
			risky(c, "edits files in place (sed -i)");
		return;
	}
	if (in_list(name, LIST("awk", "gawk", "mawk", "nawk"))) {
		classify_awk(c, name, a, na);
		return;
	}
	if (!strcmp(name, "tar")) {
		classify_tar(c, a, na);
		return;
	}
	if (in_list(name, LIST("gzip", "gunzip", "bzip2", "bunzip2", "xz",
			       "unxz", "zstd", "unzstd"))) {
		if (has_opt(a, na, 'f', "--force"))
			risky(c, "may overwrite files (%s -f)", name);
		return;
	}
	if (!strcmp(name, "unzip")) {
		if (has_opt(a, na, 'o', NULL))
			risky(c, "overwrites files without asking (unzip -o)");
		return;
	}
	if (in_list(name, LIST("curl", "wget"))) {
		for (size_t i = 0; i + 1 < na; i++) {
			const char *v = a[i].value;

			if ((!strcmp(name, "curl") && (!strcmp(v, "-o") ||
						       !strcmp(v, "--output"))) ||
			    (!strcmp(name, "wget") && (!strcmp(v, "-O") ||
						       !strcmp(v, "--output-document"))))
				check_write(c, &a[i + 1], true, name);
		}
		return;
	}

	/* permissions and ownership */
	if (in_list(name, LIST("chmod", "chown", "chgrp", "chattr", "setfacl"))) {
		if (has_opt(a, na, 'R', "--recursive"))
			risky(c, "changes %s recursively (%s -R)",
			      strcmp(name, "chmod") ? "ownership" : "permissions",
			      name);
		else if (many)
			risky(c, "changes %s of many files (%s)",
			      strcmp(name, "chmod") ? "ownership" : "permissions",
			      name);
		else if (in_list(name, LIST("chattr", "setfacl")))
			risky(c, "changes file attributes (%s)", name);
		else
			for (size_t i = 0; i < na; i++)
				if (a[i].value[0] != '-')
					check_system_path(c, &a[i], name);
		return;
	}

	/* processes, services, power */
	if (!strcmp(name, "kill")) {
		if (na && (!strcmp(a[0].value, "-l") || !strcmp(a[0].value, "-L") ||
			   !strcmp(a[0].value, "-0")))
			return;
		risky(c, "kills processes (kill)");
		return;
	}
	if (in_list(name, LIST("pkill", "killall", "killall5", "skill", "slay",
			       "xkill"))) {
		risky(c, "kills processes (%s)", name);
		return;
	}
	if (!strcmp(name, "fuser")) {
		if (has_opt(a, na, 'k', "--kill"))
			risky(c, "kills processes (fuser -k)");
		return;
	}
	if (!strcmp(name, "systemctl")) {
		classify_systemctl(c, a, na);
		return;
	}
	if (!strcmp(name, "service")) {
		const struct sh_word *act = na >= 2 ? &a[1] : NULL;

		if (na && !strcmp(a[0].value, "--status-all"))
			return;
		if (!act || strcmp(act->value, "status"))
			risky(c, "stops or changes a service (service %s)",
			      act ? act->value : "");
		return;
	}
	if (in_list(name, LIST("reboot", "poweroff", "shutdown", "halt",
			       "rtcwake", "kexec"))) {
		risky(c, "reboots or powers off the machine (%s)", name);
		return;
	}
	if (in_list(name, LIST("init", "telinit"))) {
		risky(c, "changes the run level (%s)", name);
		return;
	}
	if (!strcmp(name, "journalctl")) {
		for (size_t i = 0; i < na; i++)
			if (!strncmp(a[i].value, "--vacuum", 8) ||
			    !strcmp(a[i].value, "--rotate") ||
			    !strcmp(a[i].value, "--flush") ||
			    !strcmp(a[i].value, "--setup-keys"))
				risky(c, "deletes or rotates the journal (journalctl %s)",
				      a[i].value);
		return;
	}
	if (!strcmp(name, "dmesg")) {
		if (has_opt(a, na, 'c', "--read-clear") ||
		    has_opt(a, na, 'C', "--clear"))
			risky(c, "clears the kernel log (dmesg -c)");
		return;
	}
	if (in_list(name, LIST("apt", "apt-get", "aptitude"))) {
		classify_pkg(c, name, a, na);
		return;
	}
	if (!strcmp(name, "dpkg")) {
		static const char *const ok[] = {
			"-l", "-L", "-s", "-S", "-p", "-c", "-I", "--list",
			"--listfiles", "--status", "--search", "--print-avail",
			"--contents", "--info", "--print-architecture",
			"--get-selections", "--version", "--help", "--audit",
			"--print-foreign-architectures", NULL };
		const struct sh_word *op = na ? &a[0] : NULL;

		if (!op || !in_list(op->value, ok))
			risky(c, "changes installed packages (dpkg %s)",
			      op ? op->value : "");
		return;
	}
	if (!strcmp(name, "git")) {
		classify_git(c, a, na);
		return;
	}
	if (!strcmp(name, "ip")) {
		size_t i = 0;

		while (i < na && a[i].value[0] == '-')
			i++;
		if (i + 1 < na && !in_list(a[i + 1].value,
					   LIST("show", "list", "ls", "lst",
						"get", "s", "sh", "help")))
			risky(c, "changes network settings (ip %s %s)",
			      a[i].value, a[i + 1].value);
		return;
	}
	if (!strcmp(name, "ifconfig")) {
		if (na > 1)
			risky(c, "changes network settings (ifconfig)");
		return;
	}
	if (!strcmp(name, "hostname")) {
		if (first_operand(a, na))
			risky(c, "sets the host name (hostname)");
		return;
	}
	if (!strcmp(name, "date")) {
		if (has_opt(a, na, 's', "--set"))
			risky(c, "sets the system clock (date -s)");
		return;
	}
	if (in_list(name, LIST("timedatectl", "hostnamectl", "localectl"))) {
		const struct sh_word *sub = first_operand(a, na);

		if (sub && !strncmp(sub->value, "set", 3))
			risky(c, "changes system settings (%s %s)", name,
			      sub->value);
		return;
	}
	if (in_list(name, LIST("mount", "swapon"))) {
		if (first_operand(a, na) && strcmp(name, "swapon"))
			risky(c, "mounts a filesystem (mount)");
		else if (!strcmp(name, "swapon") && first_operand(a, na))
			risky(c, "enables swap (swapon)");
		return;
	}
	if (in_list(name, LIST("umount", "swapoff", "eject"))) {
		risky(c, "unmounts or disables a device (%s)", name);
		return;
	}
	if (!strcmp(name, "crontab")) {
		if (!(na == 1 && !strcmp(a[0].value, "-l")))
			risky(c, "changes or deletes the crontab (crontab %s)",
			      na ? a[0].value : "");
		return;
	}
	if (in_list(name, LIST("iptables", "ip6tables", "nft", "ufw"))) {
		if (!has_opt(a, na, 'L', "--list") && !has_opt(a, na, 'S', NULL) &&
		    !(na && (!strcmp(a[0].value, "status") ||
			     !strcmp(a[0].value, "list"))))
			risky(c, "changes the firewall (%s)", name);
		return;
	}
	if (!strcmp(name, "sysctl")) {
		for (size_t i = 0; i < na; i++)
			if (strchr(a[i].value, '=') || !strcmp(a[i].value, "-w") ||
			    !strcmp(a[i].value, "-p"))
				risky(c, "changes kernel settings (sysctl)");
		return;
	}
	if (in_list(name, LIST("useradd", "userdel", "usermod", "groupadd",
			       "groupdel", "groupmod", "passwd", "chpasswd",
			       "gpasswd", "adduser", "deluser", "addgroup",
			       "delgroup", "visudo", "vipw", "chsh", "chfn"))) {
		risky(c, "changes users or groups (%s)", name);
		return;
	}
	if (in_list(name, LIST("modprobe", "insmod", "rmmod"))) {
		risky(c, "loads or unloads kernel modules (%s)", name);
		return;
	}
	if (in_list(name, safe_cmds) || lsh_is_shell_builtin(name))
		return;
	if (only_version_or_help(a, na))
		return;
	risky(c, "unknown command '%s'", name);
}

static void classify_redirs(struct ctx *c, const struct sh_cmd *cmd)
{
	for (size_t i = 0; i < cmd->nredirs; i++) {
		const struct sh_redir *r = &cmd->redirs[i];

		switch (r->op) {
		case SHR_OUT:
		case SHR_CLOBBER:
		case SHR_ALLOUT:
			check_write(c, &r->target, true, ">");
			break;
		case SHR_RDWR:
			check_write(c, &r->target, false, "<>");
			break;
		case SHR_APPEND:
		case SHR_ALLAPPEND:
			check_write(c, &r->target, false, ">>");
			break;
		case SHR_DUPOUT: {
			const char *v = r->target.value;
			bool num = *v != '\0';

			for (const char *q = v; *q; q++)
				if (*q < '0' || *q > '9')
					num = false;
			if (!num && strcmp(v, "-"))
				check_write(c, &r->target, true, ">&");
			break;
		}
		default:
			break;
		}
	}
}

static void classify_cmd(struct ctx *c, const struct sh_cmd *cmd,
			 const struct sh_pipeline *pl, size_t index)
{
	/* substitutions in words and here-documents */
	for (size_t i = 0; i < cmd->nwords && !c->out->risky; i++)
		for (size_t k = 0; k < cmd->words[i].nsubs; k++) {
			struct lsh_safety inner = { 0 };
			struct ctx ic = { &inner, c->depth + 1 };

			classify_list(&ic, cmd->words[i].subs[k]);
			if (inner.risky)
				risky(c, "a command substitution is risky: %s",
				      inner.reason);
		}
	for (size_t i = 0; i < cmd->nredirs && !c->out->risky; i++) {
		const struct sh_redir *r = &cmd->redirs[i];
		size_t ns = r->target.nsubs;

		for (size_t k = 0; k < ns + (r->heredoc ? r->heredoc->nsubs : 0);
		     k++) {
			struct lsh_safety inner = { 0 };
			struct ctx ic = { &inner, c->depth + 1 };

			classify_list(&ic, k < ns ? r->target.subs[k] :
				      r->heredoc->subs[k - ns]);
			if (inner.risky)
				risky(c, "a command substitution is risky: %s",
				      inner.reason);
		}
	}
	classify_redirs(c, cmd);
	if (cmd->kind == SHC_SUBSHELL || cmd->kind == SHC_GROUP) {
		if (cmd->body)
			classify_list(c, cmd->body);
		return;
	}
	if (cmd->nwords > cmd->nassign)
		classify_words(c, cmd->words + cmd->nassign,
			       cmd->nwords - cmd->nassign, false, pl, index, cmd);
}

static void classify_list(struct ctx *c, const struct sh_list *l)
{
	for (size_t i = 0; i < l->npipes && !c->out->risky; i++)
		for (size_t j = 0; j < l->pipes[i].ncmds && !c->out->risky; j++)
			classify_cmd(c, &l->pipes[i].cmds[j], &l->pipes[i], j);
}

void lsh_classify_list(const struct sh_list *list, struct lsh_safety *out)
{
	struct ctx c = { out, 0 };

	out->risky = false;
	out->reason[0] = '\0';
	classify_list(&c, list);
}

bool lsh_classify(const char *line, struct lsh_safety *out)
{
	char err[160];
	struct sh_list *l = sh_parse(line, err, sizeof(err));

	if (!l) {
		out->risky = true;
		snprintf(out->reason, sizeof(out->reason),
			 "does not parse as shell (%s)", err);
		return false;
	}
	lsh_classify_list(l, out);
	sh_free(l);
	return true;
}
