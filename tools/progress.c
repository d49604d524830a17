// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Progress line: "\r[#####.....]  45%  0.92/2.05 GiB  note" on stderr,
 * rate-limited, cleared with an erase-line sequence at the end.
 */
#include <stdio.h>
#include <time.h>

#include "progress.h"

#define BAR 24

uint64_t lt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *lt_format_bytes(char *buf, size_t cap, uint64_t bytes)
{
	if (bytes >= (1ull << 30))
		snprintf(buf, cap, "%.2f GiB", bytes / (double)(1ull << 30));
	else if (bytes >= (1ull << 20))
		snprintf(buf, cap, "%.2f MiB", bytes / (double)(1ull << 20));
	else if (bytes >= 1024)
		snprintf(buf, cap, "%.2f KiB", bytes / 1024.0);
	else
		snprintf(buf, cap, "%llu B", (unsigned long long)bytes);
	return buf;
}

void lt_progress_begin(struct lt_progress *p, bool on, uint64_t total)
{
	p->on = on;
	p->total = total ? total : 1;
	p->t_start = lt_now_ns();
	p->t_last = 0;
	p->drawn = false;
}

void lt_progress_update(struct lt_progress *p, uint64_t done,
			const char *note)
{
	char bar[BAR + 1], a[32], b[32];
	uint64_t now;
	int i, fill;

	if (!p->on)
		return;
	now = lt_now_ns();
	if (p->drawn && done < p->total && now - p->t_last < 100000000ull)
		return;
	p->t_last = now;
	p->drawn = true;
	if (done > p->total)
		done = p->total;
	fill = (int)(done * BAR / p->total);
	for (i = 0; i < BAR; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[BAR] = '\0';
	fprintf(stderr, "\r[%s] %3d%%  %s / %s  %.60s\033[K", bar,
		(int)(done * 100 / p->total), lt_format_bytes(a, sizeof(a), done),
		lt_format_bytes(b, sizeof(b), p->total), note ? note : "");
	fflush(stderr);
}

void lt_progress_end(struct lt_progress *p)
{
	if (p->on && p->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	p->drawn = false;
}
