// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Logging of llamuxd: one line per message on stderr. When stderr is the
 * journal (systemd sets JOURNAL_STREAM) lines carry a "<N>" priority prefix
 * that journald turns into the syslog level; otherwise they are prefixed
 * with the level's name. Messages above the configured level are dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "llamuxd.h"

static int log_level = LXD_LOG_INFO;
static bool to_journal;

static const char *const level_names[] = {
	[LXD_LOG_ERR] = "error", [LXD_LOG_WARNING] = "warning",
	[LXD_LOG_NOTICE] = "notice", [LXD_LOG_INFO] = "info",
	[LXD_LOG_DEBUG] = "debug",
};

uint64_t lxd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void lxd_log_init(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
	    fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev &&
	    st.st_ino == ino)
		to_journal = true;
}

void lxd_log_set_level(int level)
{
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

bool lxd_log_parse_level(const char *s, int *level)
{
	int i;

	for (i = LXD_LOG_ERR; i <= LXD_LOG_DEBUG; i++) {
		if (!strcmp(s, level_names[i])) {
			*level = i;
			return true;
		}
	}
	if (!strcmp(s, "err")) {
		*level = LXD_LOG_ERR;
		return true;
	}
	return false;
}

void lxd_log(int level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int n;

	if (level > __atomic_load_n(&log_level, __ATOMIC_RELAXED))
		return;
	if (to_journal)
		n = snprintf(line, sizeof(line), "<%d>", level);
	else
		n = snprintf(line, sizeof(line), LXD_NAME ": %s: ",
			     level_names[level]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	/* One write per line, so lines of several threads never mix. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}
