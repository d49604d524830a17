// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * --explain: describes a command line from its parse and a table of
 * commands and their options. Options are written "-x:words" (a flag) or
 * "-x=:words" (takes the next word, shown as ARG in the words).
 */
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "safety.h"
#include "shparse.h"

struct cmd_desc {
	const char *name;
	const char *summary;
	const char *opts;	/* "-l:long listing|-n=:show ARG lines|..." */
};

static const struct cmd_desc cmds[] = {
	{ "ls", "list directory contents",
	  "-l:long listing (permissions, owner, size, date)|-a:include hidden files|-A:include hidden files except . and ..|-h:human-readable sizes|-t:sort by modification time|-S:sort by size|-r:reverse the order|-d:show directories themselves, not their contents|-R:recurse into subdirectories|-1:one name per line|-i:show inode numbers" },
	{ "find", "search a directory tree for files",
	  "-name=:whose name matches ARG|-iname=:whose name matches ARG, ignoring case|-path=:whose path matches ARG|-type=:of type ARG (f file, d directory, l link)|-xtype=:whose target is of type ARG (l: broken link)|-size=:of size ARG (+ more, - less; c bytes, k KiB, M MiB, G GiB)|-mtime=:modified ARG days ago (+ more, - less)|-mmin=:modified ARG minutes ago|-atime=:accessed ARG days ago|-amin=:accessed ARG minutes ago|-ctime=:status changed ARG days ago|-newer=:modified after ARG|-user=:owned by ARG|-group=:owned by group ARG|-perm=:with permissions ARG|-maxdepth=:at most ARG levels deep|-mindepth=:at least ARG levels deep|-empty:that are empty|-delete:and delete them|-print0:separating names with NUL bytes|-printf=:printing ARG for each|-daystart:measuring times from the start of today|-executable:that you can execute|-L:following symbolic links|-ls:listing them in detail|-o:or|-not:not|!:not" },
	{ "du", "show disk usage", "-s:only a total for each argument|-h:human-readable sizes|-c:add a grand total|-a:include files, not just directories|--max-depth=:at most ARG levels deep|-d=:at most ARG levels deep|--apparent-size:apparent sizes rather than disk use" },
	{ "df", "show free and used space of filesystems", "-h:human-readable sizes|-i:inodes instead of blocks|-T:show filesystem types" },
	{ "free", "show memory usage", "-h:human-readable sizes|-m:in MiB|-g:in GiB" },
	{ "ps", "list processes", "aux:all processes of all users, with details|-e:all processes|-o=:with the columns ARG|--sort=:sorted by ARG (- for descending)|--forest:as a tree|-f:full format|--no-headers:without the header line|-u=:of user ARG" },
	{ "grep", "print lines that match a pattern", "-r:search directories recursively|-R:search recursively, following links|-i:ignore case|-l:print only the names of matching files|-L:print the names of files without a match|-n:show line numbers|-c:count matching lines|-v:lines that do not match|-w:match whole words|-o:print only the matching parts|-E:extended regular expressions|-F:fixed strings, not patterns|-q:quiet, only the exit status|-H:show file names|--include=:only in files named ARG|-e=:with pattern ARG|--:end of options" },
	{ "wc", "count lines, words and bytes", "-l:lines|-w:words|-c:bytes|-m:characters" },
	{ "head", "show the first lines", "-n=:ARG lines|-c=:ARG bytes" },
	{ "tail", "show the last lines", "-n=:ARG lines|-f:keep following new lines|-F:follow, even across rotation" },
	{ "cat", "print files", "-n:number the lines|-A:show non-printing characters" },
	{ "sort", "sort lines", "-n:numerically|-h:by human-readable sizes|-r:in reverse|-u:dropping duplicates|-k=:by field ARG|-t=:fields separated by ARG|-o=:writing to ARG" },
	{ "uniq", "drop repeated adjacent lines", "-c:counting repeats|-d:only repeated lines|-u:only unique lines|-w=:comparing only ARG characters|-D:all repeated lines" },
	{ "cut", "cut fields out of lines", "-d=:fields separated by ARG|-f=:fields ARG|-c=:characters ARG" },
	{ "head", "show the first lines", "-n=:ARG lines" },
	{ "xargs", "run a command with arguments read from input", "-0:input separated by NUL bytes|-I=:replacing ARG with each input|-n=:at most ARG arguments per run|-r:not at all when there is no input|-P=:ARG runs at a time" },
	{ "sed", "edit text with a script", "-i:editing the files in place|-n:printing only what is asked|-e=:script ARG|-E:extended regular expressions" },
	{ "awk", "run an awk program on each line", "-F=:fields separated by ARG|-v=:setting variable ARG" },
	{ "tar", "create or unpack archives", "-c:create an archive|-x:extract|-t:list the contents|-z:gzip compression|-j:bzip2 compression|-J:xz compression|-v:list files as it goes|-f=:archive file ARG|-k:keep existing files|-C=:in directory ARG" },
	{ "gzip", "compress files", "-k:keeping the originals|-d:decompress|-f:overwriting existing files|-9:best compression" },
	{ "gunzip", "decompress .gz files", "-k:keeping the compressed files" },
	{ "bunzip2", "decompress .bz2 files", "-k:keeping the compressed files" },
	{ "unxz", "decompress .xz files", "-k:keeping the compressed files" },
	{ "zip", "create zip archives", "-r:including folders recursively" },
	{ "unzip", "unpack zip archives", "-l:only list the contents|-n:never overwrite existing files|-o:overwrite without asking|-d=:into directory ARG" },
	{ "chmod", "change file permissions", "-R:recursively|+x:allow execution" },
	{ "chown", "change file owner", "-R:recursively" },
	{ "chgrp", "change file group", "-R:recursively" },
	{ "rm", "delete files", "-r:with folders and their contents|-f:without asking, ignoring missing files|-i:asking before each" },
	{ "rmdir", "remove empty directories", "" },
	{ "mv", "move or rename files", "-n:never overwriting|-i:asking before overwriting|-f:without asking|-t=:into directory ARG" },
	{ "cp", "copy files", "-r:with folders recursively|-a:preserving everything|-n:never overwriting|-i:asking before overwriting" },
	{ "ln", "make links", "-s:symbolic|-f:replacing existing files" },
	{ "mkdir", "create directories", "-p:with missing parents, no error if it exists" },
	{ "touch", "create empty files or update their times", "" },
	{ "stat", "show file details", "-c=:in format ARG" },
	{ "file", "tell the type of file contents", "" },
	{ "diff", "compare files line by line", "-u:unified format|-r:recursively" },
	{ "kill", "send a signal to processes", "-9:the KILL signal (cannot be ignored)|-l:list signal names" },
	{ "pkill", "signal processes by name", "-x:exact name|-9:the KILL signal|-f:matching the full command line|-u=:of user ARG" },
	{ "pgrep", "find processes by name", "-a:with their command lines|-x:exact name|-f:matching the full command line|-l:with names|-u=:of user ARG" },
	{ "fuser", "show processes using files or ports", "-k:and kill them|-v:verbose" },
	{ "ss", "show sockets", "-l:listening ones|-t:TCP|-u:UDP|-n:numeric addresses and ports|-p:with the owning process|-a:all" },
	{ "ip", "show or change network settings", "addr:addresses|a:addresses|route:the routing table|link:network interfaces|-brief:briefly|-br:briefly" },
	{ "ping", "check whether a host answers", "-c=:ARG times" },
	{ "getent", "look up system databases", "hosts:host names|passwd:users|group:groups" },
	{ "systemctl", "control systemd services", "status:show the status|start:start|stop:stop|restart:restart|enable:enable at boot|disable:disable at boot|list-units:list units|--type=:of type ARG|--state=:in state ARG|--failed:failed units|reboot:reboot|poweroff:power off" },
	{ "journalctl", "show the system log", "-u=:of unit ARG|-n=:the last ARG lines|-p=:with priority ARG or higher|-b:since the last boot|-k:kernel messages|-f:following new entries|--no-pager:without a pager|--since=:since ARG" },
	{ "dmesg", "show kernel messages", "" },
	{ "apt", "manage packages", "install:install|remove:remove|update:refresh the package lists|upgrade:upgrade installed packages|search:search|list:list|show:show details" },
	{ "apt-cache", "query the package lists", "search:search|policy:show versions|show:show details" },
	{ "dpkg", "manage installed packages", "-l:list installed packages|-s:show a package's status|-S:find the package owning a file|-L:list a package's files|-i:install a .deb" },
	{ "git", "version control", "status:show changed files|log:show commits|diff:show changes|branch:list or manage branches|--oneline:one line per commit|-n=:ARG entries|--show-current:the current branch|-a:all" },
	{ "uname", "print system information", "-r:kernel release|-m:machine architecture|-a:everything" },
	{ "uptime", "show how long the system has been up", "-s:the time it booted|-p:in a pretty format" },
	{ "date", "print or set the date", "+%A:day of the week|+%F:the date as YYYY-MM-DD|-s=:setting the clock to ARG" },
	{ "whoami", "print your user name", "" },
	{ "id", "print user and group ids", "-n:names instead of numbers|-G:all groups" },
	{ "who", "show who is logged in", "" },
	{ "last", "show recent logins", "-n=:the last ARG" },
	{ "hostname", "print the host name", "-I:all IP addresses" },
	{ "lscpu", "show CPU details", "" },
	{ "lsblk", "list block devices", "" },
	{ "findmnt", "list mounted filesystems", "" },
	{ "swapon", "show or enable swap", "--show:show swap areas" },
	{ "nproc", "print the number of processing units", "" },
	{ "env", "print the environment or run a command in a changed one", "" },
	{ "printenv", "print environment variables", "" },
	{ "echo", "print its arguments", "-n:without a newline|-e:interpreting backslash escapes" },
	{ "printf", "print formatted text", "" },
	{ "pwd", "print the current directory", "" },
	{ "cd", "change the current directory", "" },
	{ "export", "set an environment variable", "" },
	{ "command", "run or look up a command", "-v:print where a command is found" },
	{ "which", "show where a command is found", "" },
	{ "curl", "transfer data from URLs", "-s:silently|-f:failing on HTTP errors|-L:following redirects|-O:saving under the remote name|-o=:saving to ARG|-I:headers only" },
	{ "wget", "download files", "-q:quietly|-O=:saving to ARG" },
	{ "sha256sum", "compute SHA-256 checksums", "" },
	{ "md5sum", "compute MD5 checksums", "" },
	{ "numfmt", "format numbers", "--to=:as ARG (iec: K, M, G)|--field=:in field ARG" },
	{ "timeout", "run a command with a time limit", "" },
	{ "bash", "run a bash shell", "-c=:running ARG" },
	{ "sh", "run a POSIX shell", "-c=:running ARG" },
	{ "sudo", "run a command as another user (root by default)", "-u=:as user ARG" },
	{ "locale", "show language settings", "" },
	{ "history", "show the command history", "" },
	{ "clear", "clear the screen", "" },
	{ "crontab", "manage scheduled jobs", "-l:list|-e:edit|-r:remove all" },
	{ "lsof", "list open files", "-i=:using network address ARG|-p=:of process ARG" },
	{ "tee", "copy input to files and the output", "-a:appending" },
	{ "shred", "overwrite files to destroy their contents", "-u:and delete them" },
	{ "dd", "copy raw data", "" },
	{ "truncate", "shrink or extend files", "-s=:to size ARG" },
	{ "test", "check a condition", "-f:is a file|-d:is a directory|-e:exists" },
	{ "true", "do nothing, successfully", "" },
	{ "sleep", "wait", "" },
	{ "tr", "translate characters", "-d:delete" },
	{ "cal", "show a calendar", "" },
	{ "reboot", "restart the machine", "" },
	{ "shutdown", "power off or restart the machine", "-h:halt|-r:reboot" },
	{ "service", "control a service", "" },
	{ "killall", "kill processes by name", "" },
	{ "less", "page through text", "" },
	{ "tree", "show a directory tree", "" },
	{ "nl", "number lines", "-ba:all lines" },
	{ "column", "format text into columns", "-t:as a table" },
	{ "basename", "strip the directory from a path", "" },
	{ "dirname", "strip the last part of a path", "" },
	{ "readlink", "print a link's target", "-f:fully resolved" },
	{ "realpath", "print the absolute path", "" },
	{ "rsync", "synchronise files", "-a:archive mode|-v:verbose|-z:compressing in transit|--delete:deleting extra files at the destination" },
	{ "comm", "compare sorted files", "" },
	{ "paste", "merge lines of files", "" },
	{ "mount", "mount a filesystem or list mounts", "" },
	{ "umount", "unmount a filesystem", "" },
};

static const struct cmd_desc *lookup(const char *name)
{
	const char *base = strrchr(name, '/');

	if (base)
		name = base + 1;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

bool lsh_explain_known(const char *name)
{
	return lookup(name) != NULL;
}

/* Finds option o in d->opts; sets *takes_arg. */
static bool find_opt(const struct cmd_desc *d, const char *o, char *desc,
		     size_t cap, bool *takes_arg)
{
	size_t n = strlen(o);

	for (const char *p = d->opts; p && *p;) {
		const char *e = strchr(p, '|');
		const char *colon = strchr(p, ':');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (colon && colon < p + len) {
			size_t name_len = (size_t)(colon - p);
			bool arg = name_len && p[name_len - 1] == '=';

			if (arg)
				name_len--;
			if (name_len == n && !strncmp(p, o, n)) {
				snprintf(desc, cap, "%.*s",
					 (int)(len - (size_t)(colon - p) - 1), colon + 1);
				*takes_arg = arg;
				return true;
			}
		}
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

static void replace_arg(char *desc, size_t cap, const char *arg)
{
	char *a = strstr(desc, "ARG");
	char tmp[512];
	size_t n;

	if (!a || !cap)
		return;
	snprintf(tmp, sizeof(tmp), "%.*s%s%s", (int)(a - desc), desc, arg, a + 3);
	n = strlen(tmp);
	if (n >= cap)
		n = cap - 1;
	memcpy(desc, tmp, n);
	desc[n] = '\0';
}

struct sbuf {
	char *s;
	size_t cap, n;
};

static void add(struct sbuf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->n + n + 1 > b->cap)
		n = b->cap > b->n + 1 ? b->cap - b->n - 1 : 0;
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

/* Describes one simple command: "find (search ...): -name X ..." */
static void describe_cmd(const struct sh_cmd *c, struct sbuf *b, FILE *full)
{
	const struct cmd_desc *d;
	const char *name;
	bool first = true;

	if (c->kind != SHC_SIMPLE || c->nwords <= c->nassign) {
		add(b, c->kind == SHC_SIMPLE ? "set variables" : "a group of commands");
		return;
	}
	name = c->words[c->nassign].value;
	d = lookup(name);
	add(b, name);
	add(b, " (");
	add(b, d ? d->summary : "a program lsh cannot describe");
	add(b, ")");
	if (full)
		fprintf(full, "  %-14s %s\n", name, d ? d->summary :
			"a program lsh cannot describe");
	for (size_t i = c->nassign + 1; i < c->nwords; i++) {
		const char *w = c->words[i].value;
		char desc[512];
		bool takes = false, known = false;

		if (d && (w[0] == '-' || w[0] == '+' || w[0] == '!' ||
			  find_opt(d, w, desc, sizeof(desc), &takes))) {
			char opt[128];
			const char *eq = strchr(w, '=');

			snprintf(opt, sizeof(opt), "%.*s", eq && w[0] == '-' &&
				 w[1] == '-' ? (int)(eq - w + 1) : (int)strlen(w), w);
			if (find_opt(d, opt, desc, sizeof(desc), &takes)) {
				known = true;
				if (eq && w[1] == '-')
					replace_arg(desc, sizeof(desc), eq + 1);
				else if (takes && i + 1 < c->nwords)
					replace_arg(desc, sizeof(desc),
						    c->words[++i].value);
			} else if (w[0] == '-' && w[1] && w[1] != '-' &&
				   strlen(w) > 2) {
				/* a cluster: -la */
				char one[3] = { '-', 0, 0 };
				char all[512] = "";

				for (const char *q = w + 1; *q; q++) {
					char part[256];

					one[1] = *q;
					if (!find_opt(d, one, part, sizeof(part),
						      &takes))
						break;
					if (takes && i + 1 < c->nwords)
						replace_arg(part, sizeof(part),
							    c->words[++i].value);
					if (*all)
						strncat(all, ", ", sizeof(all) - strlen(all) - 1);
					strncat(all, part, sizeof(all) - strlen(all) - 1);
					known = q[1] == '\0';
				}
				snprintf(desc, sizeof(desc), "%s", all);
			}
			if (known) {
				add(b, first ? ": " : ", ");
				add(b, desc);
				first = false;
				if (full)
					fprintf(full, "    %-12s %s\n", w, desc);
				continue;
			}
		}
		if (full)
			fprintf(full, "    %-12s %s\n", w,
				w[0] == '-' ? "(an option)" : "(an argument)");
	}
}

struct explain_ctx {
	struct sbuf *b;
	FILE *full;
};

static void describe_list(const struct sh_list *l, struct sbuf *b, FILE *full)
{
	for (size_t i = 0; i < l->npipes; i++) {
		const struct sh_pipeline *p = &l->pipes[i];

		if (i) {
			char op = l->ops[i - 1];

			add(b, op == 'a' ? "; if that works, " :
			    op == 'o' ? "; if that fails, " :
			    op == '&' ? " in the background; then " : "; then ");
			if (full)
				fprintf(full, "  %s\n", op == 'a' ? "&& (if that works)" :
					op == 'o' ? "|| (if that fails)" :
					op == '&' ? "& (in the background)" : "; (then)");
		}
		for (size_t j = 0; j < p->ncmds; j++) {
			const struct sh_cmd *c = &p->cmds[j];

			if (j) {
				add(b, ", whose output goes to ");
				if (full)
					fprintf(full, "  | (output goes to)\n");
			}
			if (c->body && c->kind != SHC_SIMPLE) {
				add(b, "(");
				describe_list(c->body, b, full);
				add(b, ")");
			} else {
				describe_cmd(c, b, full);
			}
			for (size_t k = 0; k < c->nredirs; k++) {
				const struct sh_redir *r = &c->redirs[k];
				const char *t = r->target.value;

				switch (r->op) {
				case SHR_IN:
					add(b, ", reading from ");
					add(b, t);
					break;
				case SHR_OUT:
				case SHR_CLOBBER:
				case SHR_ALLOUT:
					add(b, r->fd == 2 ? ", errors written to " :
					    ", output written to ");
					add(b, t);
					break;
				case SHR_APPEND:
				case SHR_ALLAPPEND:
					add(b, ", output appended to ");
					add(b, t);
					break;
				default:
					break;
				}
			}
		}
	}
}

bool lsh_explain_line(const char *cmdline, char *out, size_t cap)
{
	char err[128];
	struct sh_list *l = sh_parse(cmdline, err, sizeof(err));
	struct sbuf b = { out, cap, 0 };

	if (!cap)
		return false;
	out[0] = '\0';
	if (!l)
		return false;
	add(&b, "Runs ");
	describe_list(l, &b, NULL);
	add(&b, ".");
	sh_free(l);
	return true;
}

int lsh_explain_full(const char *cmdline, FILE *out)
{
	char err[128], line[1024];
	struct sh_list *l = sh_parse(cmdline, err, sizeof(err));
	struct sbuf b = { line, sizeof(line), 0 };
	struct lsh_safety s;

	if (!l) {
		fprintf(stderr, "lsh: this does not parse as shell: %s\n", err);
		return 2;
	}
	line[0] = '\0';
	fprintf(out, "%s\n", cmdline);
	describe_list(l, &b, out);
	fprintf(out, "In short: runs %s.\n", line);
	lsh_classify_list(l, &s);
	if (s.risky)
		fprintf(out, "Safety: risky: %s\n", s.reason);
	else
		fprintf(out, "Safety: safe\n");
	sh_free(l);
	return 0;
}
