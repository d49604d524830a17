// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * `llamux chat` on a pseudo-terminal, as a person types: two turns, /stats,
 * /reset, Ctrl-C during a reply (stops it, the chat goes on), Ctrl-C at the
 * prompt (clears the line), a message continued with a trailing backslash,
 * Ctrl-D (exit 0), the saved history; no colour with NO_COLOR. Then the
 * same program reading a pipe (one message or /command a line), and its
 * usage errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

#define STORIES "../shared/models/stories260K.gguf"
#define PROMPT ">\033[0m "	/* the end of the coloured prompt */
#define TIMEOUT_S 120		/* generous: ASan builds are slow */

static const char *bin;
static char tmpdir[] = "/tmp/llamux-chat-XXXXXX";

/* A private HOME and XDG directories: no user config, history or models. */
static void child_env(bool no_color)
{
	char path[256];

	unsetenv("LLAMUX_MODEL");
	setenv("HOME", tmpdir, 1);
	snprintf(path, sizeof(path), "%s/state", tmpdir);
	setenv("XDG_STATE_HOME", path, 1);
	snprintf(path, sizeof(path), "%s/config", tmpdir);
	setenv("XDG_CONFIG_HOME", path, 1);
	snprintf(path, sizeof(path), "%s/data", tmpdir);
	setenv("XDG_DATA_HOME", path, 1);
	snprintf(path, sizeof(path), "%s/cache", tmpdir);
	setenv("XDG_CACHE_HOME", path, 1);
	setenv("TERM", "xterm", 1);
	if (no_color)
		setenv("NO_COLOR", "1", 1);
	else
		unsetenv("NO_COLOR");
}

/* A whole file as a NUL-terminated string, or NULL. */
static char *read_text(const char *path)
{
	size_t n;
	unsigned char *b;
	FILE *f = fopen(path, "rb");
	char *s;

	if (!f)
		return NULL;
	fclose(f);
	b = tl_read_file(path, &n);
	if (!b)
		return NULL;
	s = realloc(b, n + 1);
	if (!s) {
		free(b);
		return NULL;
	}
	s[n] = '\0';
	return s;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* ---- a session on a pseudo-terminal ---- */

struct pty_session {
	pid_t pid;
	int fd;
	char *out;		/* everything the program wrote */
	size_t len, cap;
	size_t mark;		/* where the next expect() searches from */
	int status;		/* once exited */
	bool exited;
};

static bool pty_start(struct pty_session *s, char *const argv[], bool no_color)
{
	struct winsize ws = { .ws_row = 40, .ws_col = 200 };

	memset(s, 0, sizeof(*s));
	s->pid = forkpty(&s->fd, NULL, NULL, &ws);
	if (s->pid < 0)
		return false;
	if (s->pid == 0) {
		child_env(no_color);
		execv(argv[0], argv);
		_exit(127);
	}
	fcntl(s->fd, F_SETFL, O_NONBLOCK);
	return true;
}

/* Reads what is there within ms milliseconds; false at EOF. */
static bool pty_pump(struct pty_session *s, int ms)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	char buf[4096];
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return true;
	for (;;) {
		n = read(s->fd, buf, sizeof(buf));
		if (n > 0) {
			if (s->len + (size_t)n + 1 > s->cap) {
				s->cap = (s->len + (size_t)n + 1) * 2;
				s->out = realloc(s->out, s->cap);
			}
			memcpy(s->out + s->len, buf, (size_t)n);
			s->len += (size_t)n;
			s->out[s->len] = '\0';
			continue;
		}
		if (n < 0 && errno == EAGAIN)
			return true;
		return false;	/* EOF or EIO: the program is gone */
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Waits for want after the mark; moves the mark past it. */
static bool expect(struct pty_session *s, const char *want)
{
	double end = now() + TIMEOUT_S;
	char *hit;

	for (;;) {
		hit = s->out ? strstr(s->out + s->mark, want) : NULL;
		if (hit) {
			s->mark = (size_t)(hit - s->out) + strlen(want);
			return true;
		}
		if (now() > end || !pty_pump(s, 50)) {
			fprintf(stderr, "never saw '%s'; output since the mark:\n%s\n",
				want, s->out ? s->out + s->mark : "");
			return false;
		}
	}
}

static void send_str(struct pty_session *s, const char *text)
{
	size_t n = strlen(text), done = 0;

	while (done < n) {
		ssize_t w = write(s->fd, text + done, n - done);

		if (w > 0)
			done += (size_t)w;
		else
			pty_pump(s, 10);	/* make room */
	}
}

/*
 * Waits until the line editor has the terminal (canonical mode off): a
 * control character typed before that is the kernel's to interpret (^D
 * would become a NUL byte, ^C could come before readline() waits).
 */
static bool wait_editing(struct pty_session *s)
{
	double end = now() + TIMEOUT_S;
	struct termios t;

	while (now() < end) {
		if (!tcgetattr(s->fd, &t) && !(t.c_lflag & ICANON))
			return true;
		pty_pump(s, 5);
	}
	fprintf(stderr, "the terminal never left canonical mode\n");
	return false;
}

/*
 * Types a line and Enter once the line editor has the terminal, then waits
 * until it has given the terminal back (canonical mode on again): the line
 * was taken and the turn has begun.
 */
static bool send_line_taken(struct pty_session *s, const char *line)
{
	double end = now() + TIMEOUT_S;
	struct termios t;

	if (!wait_editing(s))
		return false;
	send_str(s, line);
	send_str(s, "\r");
	while (now() < end) {
		if (!tcgetattr(s->fd, &t) && (t.c_lflag & ICANON))
			return true;
		pty_pump(s, 1);
	}
	return false;
}

static int pty_wait(struct pty_session *s)
{
	double end = now() + TIMEOUT_S;
	int st;

	while (now() < end) {
		pty_pump(s, 20);
		if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
			close(s->fd);
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
	}
	kill(s->pid, SIGKILL);
	waitpid(s->pid, &st, 0);
	close(s->fd);
	return -1;
}

/* The text between the mark and the next prompt (consumed). */
static char *until_prompt(struct pty_session *s, const char *prompt)
{
	size_t from = s->mark;
	char *t;

	if (!expect(s, prompt))
		return strdup("");
	t = strndup(s->out + from, s->mark - from - strlen(prompt));
	return t;
}

static void test_terminal(void)
{
	char *argv[] = { (char *)bin, "chat", "-m", STORIES, "--temp", "0",
			 "-n", "400", "-c", "2048", "-t", "1", NULL };
	struct pty_session s;
	char *text, path[256], *hist;
	int rc;

	CHECK(pty_start(&s, argv, false), "forkpty failed");
	CHECK(expect(&s, "llamux chat: stories260K.gguf, template plain"),
	      "no banner");
	CHECK(strstr(s.out, "\033[2m") != NULL, "no colour on a terminal");
	CHECK(expect(&s, PROMPT), "no prompt");

	/* Two turns. */
	send_str(&s, "Hello there\r");
	CHECK(expect(&s, "Hello there\r\n"), "no echo");
	text = until_prompt(&s, PROMPT);
	CHECK(strlen(text) > 20, "first reply: '%s'", text);
	free(text);
	send_str(&s, "What happened next?\r");
	CHECK(expect(&s, "What happened next?\r\n"), "no echo");
	text = until_prompt(&s, PROMPT);
	CHECK(strlen(text) > 20, "second reply: '%s'", text);
	free(text);

	/* /stats: both turns in the window, the second added only its own
	 * tokens.
	 */
	send_str(&s, "/stats\r");
	text = until_prompt(&s, PROMPT);
	CHECK(strstr(text, "tokens in use") && strstr(text, "of 2048"),
	      "/stats: %s", text);
	CHECK(strstr(text, "messages: 4 in the window (at most 10)"),
	      "/stats messages: %s", text);
	CHECK(strstr(text, "last turn: prompt") && !strstr(text, "whole window"),
	      "second turn re-evaluated the history: %s", text);
	free(text);

	/* /reset */
	send_str(&s, "/reset\r");
	text = until_prompt(&s, PROMPT);
	CHECK(strstr(text, "[conversation cleared]"), "/reset: %s", text);
	free(text);
	send_str(&s, "/stats\r");
	text = until_prompt(&s, PROMPT);
	CHECK(strstr(text, "context:  0 of 2048") &&
	      strstr(text, "messages: 0 in the window"), "after /reset: %s", text);
	free(text);

	/* Ctrl-C at the prompt drops the line being typed. */
	send_str(&s, "/reset\r");
	free(until_prompt(&s, PROMPT));
	CHECK(wait_editing(&s), "no line editing");
	send_str(&s, "this is abandoned");
	CHECK(expect(&s, "abandoned"), "no echo of the typing");
	send_str(&s, "\x03");
	CHECK(expect(&s, PROMPT), "no new prompt after Ctrl-C");
	send_str(&s, "/stats\r");
	text = until_prompt(&s, PROMPT);
	CHECK(strstr(text, "messages: 0 in the window"),
	      "the abandoned line was sent: %s", text);
	free(text);

	/* A trailing backslash continues the message. */
	send_str(&s, "first line\\\r");
	CHECK(expect(&s, "..."), "no continuation prompt");
	send_str(&s, "second line\r");
	free(until_prompt(&s, PROMPT));
	send_str(&s, "/save ");
	snprintf(path, sizeof(path), "%s/saved.json", tmpdir);
	send_str(&s, path);
	send_str(&s, "\r");
	text = until_prompt(&s, PROMPT);
	CHECK(strstr(text, "[saved 2 messages"), "/save: %s", text);
	free(text);
	text = read_text(path);
	CHECK(text && strstr(text, "\"content\": \"first line\\nsecond line\""),
	      "continued message: %s", text ? text : "(no file)");
	free(text);

	/* Ctrl-D leaves with 0. */
	CHECK(wait_editing(&s), "no line editing");
	send_str(&s, "\x04");
	rc = pty_wait(&s);
	CHECK(rc == 0, "Ctrl-D: exit %d", rc);

	snprintf(path, sizeof(path), "%s/state/llamux/chat_history", tmpdir);
	hist = read_text(path);
	CHECK(hist && strstr(hist, "Hello") && strstr(hist, "/stats"),
	      "history file: %s", hist ? hist : "(none)");
	{
		struct stat st;

		CHECK(!stat(path, &st) && (st.st_mode & 0777) == 0600,
		      "history file mode %o", (unsigned)st.st_mode & 0777);
	}
	free(hist);
	free(s.out);
}

/*
 * Ctrl-C stops a reply and the chat goes on: once right after Enter was
 * taken (the reply may not have started: it must still be cancelled, not
 * lost), once in the middle of the streamed text. The replies have no -n
 * limit and could only end by filling the 4096-token context, seconds away
 * on stories260K, so neither can finish before the Ctrl-C lands.
 */
static void test_interrupt_reply(void)
{
	char *argv[] = { (char *)bin, "chat", "-m", STORIES, "--temp", "0",
			 "-n", "-1", "-c", "4096", "-t", "1", NULL };
	struct pty_session s;
	char *text, *end_text;
	size_t from;
	int rc;

	CHECK(pty_start(&s, argv, false), "forkpty failed");
	CHECK(expect(&s, PROMPT), "no prompt");

	/* right after Enter, before the reply may have started */
	CHECK(send_line_taken(&s, "Tell me a long story"),
	      "libedit kept the terminal after Enter");
	send_str(&s, "\x03");
	text = until_prompt(&s, PROMPT);
	CHECK(strstr(text, "[interrupted]"),
	      "Ctrl-C after Enter did not interrupt the reply: %s",
	      text + (strlen(text) > 300 ? strlen(text) - 300 : 0));
	free(text);

	/* in the middle of the streamed reply */
	CHECK(send_line_taken(&s, "And then?"),
	      "libedit kept the terminal after Enter");
	from = s.len;
	while (s.len < from + 200)
		if (!pty_pump(&s, 20))
			break;
	send_str(&s, "\x03");
	text = until_prompt(&s, PROMPT);
	end_text = strstr(text, "[interrupted]");
	CHECK(end_text && end_text - text > 200,
	      "Ctrl-C in the reply did not stop it, or no reply came first: %s",
	      text + (strlen(text) > 300 ? strlen(text) - 300 : 0));
	free(text);
	send_str(&s, "/stats\r");
	text = until_prompt(&s, PROMPT);
	CHECK(strstr(text, "since the last reset") &&
	      strstr(text, "messages: 4 in the window"),
	      "alive after Ctrl-C, with the cut replies kept: %s", text);
	free(text);
	CHECK(wait_editing(&s), "no line editing");
	send_str(&s, "\x04");
	rc = pty_wait(&s);
	CHECK(rc == 0, "Ctrl-D after an interrupted reply: exit %d", rc);
	free(s.out);
}

static void test_no_color(void)
{
	char *argv[] = { (char *)bin, "chat", "-m", STORIES, "--temp", "0",
			 "-n", "20", NULL };
	struct pty_session s;
	int rc;

	CHECK(pty_start(&s, argv, true), "forkpty failed");
	CHECK(expect(&s, "\r\n> "), "no plain prompt");
	send_str(&s, "/help\r");
	CHECK(expect(&s, "/reset") && expect(&s, "\r\n> "), "no help");
	send_str(&s, "Hi\r");
	CHECK(expect(&s, "\r\n> "), "no reply");
	CHECK(!strstr(s.out, "\033["), "colour with NO_COLOR: %s", s.out);
	send_str(&s, "/quit\r");
	rc = pty_wait(&s);
	CHECK(rc == 0, "/quit: exit %d", rc);
	free(s.out);
}

/* ---- standard input from a file ---- */

static int run_input(char *const argv[], const char *input, char **out,
		     char **err)
{
	char path[256];
	FILE *f;
	int fd, saved, rc;

	snprintf(path, sizeof(path), "%s/stdin.txt", tmpdir);
	f = fopen(path, "w");
	fputs(input, f);
	fclose(f);
	/* tl_run's child inherits our standard input. */
	saved = dup(0);
	fd = open(path, O_RDONLY);
	dup2(fd, 0);
	close(fd);
	rc = tl_run(argv, out, NULL, err);
	dup2(saved, 0);
	close(saved);
	return rc;
}

static void test_pipe(void)
{
	char save[256], *out = NULL, *err = NULL, *json;
	char *argv[] = { (char *)bin, "chat", "-m", STORIES, "--temp", "0",
			 "-n", "16", "--system", "You tell stories.", NULL };
	char input[1024];
	int rc;

	snprintf(save, sizeof(save), "%s/pipe.json", tmpdir);
	snprintf(input, sizeof(input),
		 "Hello\n\n/stats\nSecond \\\nmessage\n/save %s\n/reset\n/load %s\n/stats\n/bogus\n/system\n",
		 save, save);
	rc = run_input(argv, input, &out, &err);
	CHECK(rc == 0, "piped chat: exit %d: %s", rc, err);
	CHECK(!strstr(out, "> ") && !strstr(out, "\033["),
	      "prompt or colour on a pipe: %s", out);
	CHECK(strstr(out, "messages: 2 in the window") &&
	      strstr(out, "[saved 4 messages") &&
	      strstr(out, "[loaded 4 messages") &&
	      strstr(out, "messages: 4 in the window") &&
	      strstr(out, "You tell stories."), "piped chat output: %s", out);
	CHECK(strstr(err, "unknown command '/bogus'"), "stderr: %s", err);
	json = read_text(save);
	CHECK(json && strstr(json, "{\"role\": \"system\", \"content\": \"You tell stories.\"}") &&
	      strstr(json, "{\"role\": \"user\", \"content\": \"Second \\nmessage\"}"),
	      "saved: %s", json);
	free(json);
	free(out);
	free(err);
}

static void expect_exit(int code, const char *want, char *const argv[])
{
	char *out = NULL, *err = NULL;
	int rc = run_input(argv, "", &out, &err);

	CHECK(rc == code && strstr(err, want), "%s %s: exit %d (want %d), stderr: %s",
	      argv[1], argv[2], rc, code, err);
	free(out);
	free(err);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	bin = argv[1];
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	child_env(true);	/* for the tl_run children too */
	test_terminal();
	test_interrupt_reply();
	test_no_color();
	test_pipe();
	expect_exit(2, "unknown option '--bogus'",
		    (char *[]){ (char *)bin, "chat", "--bogus", NULL });
	expect_exit(2, "--max-history expects a whole number",
		    (char *[]){ (char *)bin, "chat", "--max-history", "ten", NULL });
	expect_exit(2, "--template must be one of",
		    (char *[]){ (char *)bin, "chat", "--template", "jinja", NULL });
	expect_exit(2, "unexpected argument",
		    (char *[]){ (char *)bin, "chat", "-m", STORIES, "hello", NULL });
	expect_exit(1, "no model",
		    (char *[]){ (char *)bin, "chat", NULL });
	expect_exit(1, "/nonexistent.gguf",
		    (char *[]){ (char *)bin, "chat", "-m", "/nonexistent.gguf", NULL });
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return tl_finish("clitest_chat");
}
