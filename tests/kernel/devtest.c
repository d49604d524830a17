// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Guest-side checks of /dev/llamux that need system calls a shell cannot
 * make: ioctls with bad numbers and values, O_NONBLOCK, poll(), a signal
 * interrupting a blocked read, writes while generating, reads before any
 * write, invalid UTF-8, the session limit, and four sessions generating at
 * once (each compared with the same request run alone). Prints PASS/FAIL
 * lines for the guest harness. Needs llamux.ko loaded with a model.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "uapi/linux/llamux.h"

static int failures;

#define RESULT(ok, name, ...)                                          \
	do {                                                           \
		if (ok) {                                              \
			printf("PASS %s\n", name);                     \
		} else {                                               \
			failures++;                                    \
			printf("FAIL %s: ", name);                     \
			printf(__VA_ARGS__);                           \
			printf("\n");                                  \
		}                                                      \
		fflush(stdout);                                        \
	} while (0)

static int dev_open(int flags)
{
	return open(LLAMUX_DEVICE, O_RDWR | O_CLOEXEC | flags);
}

static void greedy_params(struct llamux_params *p, unsigned int max_tokens)
{
	memset(p, 0, sizeof(*p));
	p->max_tokens = max_tokens;
	p->temperature_milli = 0;
	p->top_k = 40;
	p->top_p_milli = 1000;
	p->min_p_milli = 0;
	p->repeat_penalty_milli = 1000;
	p->greedy = 1;
	p->seed = 1;
}

/* Runs one greedy request on a fresh session; returns malloc'd text. */
static char *generate(const char *prompt, unsigned int max_tokens)
{
	struct llamux_params p;
	size_t cap = 1 << 16, len = 0;
	char *out = malloc(cap);
	ssize_t n;
	int fd = dev_open(0);

	if (fd < 0 || !out) {
		free(out);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	greedy_params(&p, max_tokens);
	if (ioctl(fd, LLAMUX_IOC_SET_PARAMS, &p) ||
	    write(fd, prompt, strlen(prompt)) != (ssize_t)strlen(prompt)) {
		free(out);
		close(fd);
		return NULL;
	}
	while ((n = read(fd, out + len, cap - len - 1)) > 0)
		len += (size_t)n;
	close(fd);
	if (n < 0) {
		free(out);
		return NULL;
	}
	out[len] = '\0';
	return out;
}

static void test_ioctls(void)
{
	struct llamux_params p, q;
	struct llamux_stats st;
	struct llamux_model_desc d;
	int fd = dev_open(0);

	if (fd < 0) {
		RESULT(0, "dev-open", "%s", strerror(errno));
		return;
	}
	RESULT(ioctl(fd, _IO(LLAMUX_IOC_MAGIC, 99)) < 0 && errno == ENOTTY,
	       "ioctl-unknown-number", "errno %d", errno);
	RESULT(ioctl(fd, _IOW('x', 1, int), 0) < 0 && errno == ENOTTY,
	       "ioctl-foreign-number", "errno %d", errno);
	RESULT(ioctl(fd, LLAMUX_IOC_SET_PARAMS, (void *)16) < 0 &&
	       errno == EFAULT, "ioctl-bad-pointer", "errno %d", errno);
	greedy_params(&p, 0);
	RESULT(ioctl(fd, LLAMUX_IOC_SET_PARAMS, &p) < 0 && errno == EINVAL,
	       "ioctl-max-tokens-0", "errno %d", errno);
	greedy_params(&p, 8);
	p.top_p_milli = 1001;
	RESULT(ioctl(fd, LLAMUX_IOC_SET_PARAMS, &p) < 0 && errno == EINVAL,
	       "ioctl-top-p-range", "errno %d", errno);
	greedy_params(&p, 8);
	p.temperature_milli = 100001;
	RESULT(ioctl(fd, LLAMUX_IOC_SET_PARAMS, &p) < 0 && errno == EINVAL,
	       "ioctl-temperature-range", "errno %d", errno);
	greedy_params(&p, 8);
	p.reserved = 1;
	RESULT(ioctl(fd, LLAMUX_IOC_SET_PARAMS, &p) < 0 && errno == EINVAL,
	       "ioctl-reserved-nonzero", "errno %d", errno);
	greedy_params(&p, 8);
	p.greedy = 2;
	RESULT(ioctl(fd, LLAMUX_IOC_SET_PARAMS, &p) < 0 && errno == EINVAL,
	       "ioctl-greedy-range", "errno %d", errno);
	greedy_params(&p, 7);
	RESULT(ioctl(fd, LLAMUX_IOC_SET_PARAMS, &p) == 0 &&
	       ioctl(fd, LLAMUX_IOC_GET_PARAMS, &q) == 0 &&
	       !memcmp(&p, &q, sizeof(p)), "ioctl-params-roundtrip",
	       "errno %d", errno);
	RESULT(ioctl(fd, LLAMUX_IOC_GET_STATS, &st) == 0 &&
	       st.state == LLAMUX_STATE_IDLE, "ioctl-stats-idle",
	       "state %u errno %d", st.state, errno);
	RESULT(ioctl(fd, LLAMUX_IOC_GET_MODEL, &d) == 0 && d.n_vocab > 0 &&
	       d.file[0], "ioctl-model", "errno %d", errno);
	close(fd);
}

/* sessions_open from /proc/llamux/status, -1 if unreadable. */
static int sessions_open(void)
{
	FILE *f = fopen("/proc/llamux/status", "r");
	char line[256];
	int n = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "sessions_open: %d", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

static void test_read_write_rules(void)
{
	struct llamux_params p;
	char buf[64], *big;
	struct pollfd pfd;
	int fd = dev_open(0), nb, open_before;
	ssize_t n;

	n = read(fd, buf, sizeof(buf));
	RESULT(n < 0 && errno == ENODATA, "read-before-write",
	       "read gave %zd errno %d", n, errno);
	n = write(fd, "\xff\xfe bad", 6);
	RESULT(n < 0 && errno == EINVAL, "write-invalid-utf8",
	       "write gave %zd errno %d", n, errno);
	n = write(fd, "", 0);
	RESULT(n <= 0, "write-empty", "write gave %zd", n);
	big = malloc(LLAMUX_PROMPT_MAX + 2);
	memset(big, 'a', LLAMUX_PROMPT_MAX + 1);
	n = write(fd, big, LLAMUX_PROMPT_MAX + 1);
	RESULT(n < 0 && errno == E2BIG, "write-oversize",
	       "write gave %zd errno %d", n, errno);
	/* Fits in a write but not in the context. */
	memset(big, 0, LLAMUX_PROMPT_MAX + 2);
	for (n = 0; n + 5 < LLAMUX_PROMPT_MAX; n += 5)
		memcpy(big + n, "one ", 4), big[n + 4] = ' ';
	n = write(fd, big, strlen(big));
	RESULT(n < 0 && errno == E2BIG, "write-beyond-context",
	       "write gave %zd errno %d", n, errno);
	free(big);

	/* A long request, to poke at while it runs. */
	greedy_params(&p, 100000);
	ioctl(fd, LLAMUX_IOC_SET_PARAMS, &p);
	n = write(fd, "Once upon a time", 16);
	RESULT(n == 16, "write-start", "write gave %zd errno %d", n, errno);
	n = write(fd, "again", 5);
	RESULT(n < 0 && errno == EBUSY, "write-while-generating",
	       "write gave %zd errno %d", n, errno);
	RESULT(ioctl(fd, LLAMUX_IOC_SET_PARAMS, &p) < 0 && errno == EBUSY,
	       "ioctl-params-while-generating", "errno %d", errno);
	pfd.fd = fd;
	pfd.events = POLLIN;
	RESULT(poll(&pfd, 1, 60000) == 1 && (pfd.revents & POLLIN),
	       "poll-in", "revents %x", pfd.revents);
	nb = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, nb | O_NONBLOCK);
	/* Drain what is there; then the next read must not block. */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	RESULT(n < 0 && errno == EAGAIN, "read-nonblock-eagain",
	       "read gave %zd errno %d", n, errno);
	fcntl(fd, F_SETFL, nb);
	/* Closing mid-generation cancels it and frees the session. */
	open_before = sessions_open();
	close(fd);
	RESULT(open_before >= 1 && sessions_open() == open_before - 1,
	       "close-while-generating", "sessions_open %d -> %d", open_before,
	       sessions_open());
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void test_signal(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct llamux_params p;
	char buf[1 << 16];
	int fd = dev_open(0);
	ssize_t n;

	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART */
	greedy_params(&p, 100000);
	ioctl(fd, LLAMUX_IOC_SET_PARAMS, &p);
	if (write(fd, "Once upon a time", 16) != 16) {
		RESULT(0, "signal-interrupts-read", "write: %s", strerror(errno));
		close(fd);
		return;
	}
	/* Keep reading while a timer keeps firing: a read blocked waiting for
	 * the next token must come back with EINTR.
	 */
	{
		struct itimerval it = { { 0, 20000 }, { 0, 20000 } };
		struct itimerval off = { { 0, 0 }, { 0, 0 } };

		setitimer(ITIMER_REAL, &it, NULL);
		do {
			n = read(fd, buf, sizeof(buf));
		} while (n > 0);
		setitimer(ITIMER_REAL, &off, NULL);
	}
	RESULT(n < 0 && errno == EINTR, "signal-interrupts-read",
	       "read gave %zd errno %d", n, errno);
	RESULT(ioctl(fd, LLAMUX_IOC_CANCEL) == 0, "ioctl-cancel", "errno %d",
	       errno);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	RESULT(n == 0, "read-eof-after-cancel", "read gave %zd errno %d", n,
	       errno);
	close(fd);
}

static void test_session_limit(void)
{
	int fds[64], n = 0, err = 0;

	while (n < 64) {
		fds[n] = dev_open(0);
		if (fds[n] < 0) {
			err = errno;
			break;
		}
		n++;
	}
	RESULT(n > 0 && n < 64 && err == EBUSY, "session-limit",
	       "opened %d, then errno %d", n, err);
	while (n--)
		close(fds[n]);
}

struct job {
	const char *prompt;
	unsigned int n;
	char *alone;	/* the request run by itself */
	char *together;	/* the same, with three others at once */
};

static void *run_job(void *arg)
{
	struct job *j = arg;

	j->together = generate(j->prompt, j->n);
	return NULL;
}

static void test_concurrent(void)
{
	struct job jobs[4] = {
		{ "Once upon a time", 40, NULL, NULL },
		{ "The little dog", 40, NULL, NULL },
		{ "Tom and Lily went to the park", 40, NULL, NULL },
		{ "One day, a girl named Sue", 40, NULL, NULL },
	};
	pthread_t t[4];
	int i, same = 0;

	for (i = 0; i < 4; i++)
		jobs[i].alone = generate(jobs[i].prompt, jobs[i].n);
	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, run_job, &jobs[i]);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 4; i++) {
		bool ok = jobs[i].alone && jobs[i].together &&
			  jobs[i].alone[0] &&
			  !strcmp(jobs[i].alone, jobs[i].together);

		same += ok;
		if (!ok)
			printf("session %d: alone '%s'\n  together '%s'\n", i,
			       jobs[i].alone ? jobs[i].alone : "(failed)",
			       jobs[i].together ? jobs[i].together : "(failed)");
		free(jobs[i].alone);
		free(jobs[i].together);
	}
	RESULT(same == 4, "four-sessions-at-once", "%d of 4 matched", same);
}

/*
 * Loading models and writing prompts through /proc needs CAP_SYS_ADMIN, not
 * just root's uid: a child drops its capabilities and must get EPERM.
 */
static void test_control_needs_cap(void)
{
	pid_t pid = fork();
	int status = 0;

	if (pid == 0) {
		struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct d[2];
		int fd, bad = 0;

		memset(d, 0, sizeof(d));
		if (syscall(SYS_capset, &h, d))
			_exit(2);
		fd = open("/proc/llamux/control", O_WRONLY);
		if (fd >= 0 && write(fd, "unload", 6) >= 0)
			bad |= 4;
		else if (fd >= 0 && errno != EPERM)
			bad |= 8;
		if (fd >= 0)
			close(fd);
		fd = open("/proc/llamux/prompt", O_WRONLY);
		if (fd >= 0 && write(fd, "hi", 2) >= 0)
			bad |= 16;
		if (fd >= 0)
			close(fd);
		_exit(bad);
	}
	waitpid(pid, &status, 0);
	RESULT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "proc-writes-need-cap-sys-admin", "child status %d",
	       WEXITSTATUS(status));
}

int main(void)
{
	test_ioctls();
	test_read_write_rules();
	test_signal();
	test_session_limit();
	test_concurrent();
	test_control_needs_cap();
	return failures ? 1 : 0;
}
