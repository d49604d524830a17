/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A one-line progress display on stderr for long tools (quantize, mkmodel):
 * a bar, percentage, bytes and a short note, redrawn at most ten times a
 * second. It shows only when stderr is a terminal; otherwise every call
 * does nothing, so logs and pipes stay clean.
 */
#ifndef LLAMUX_TOOLS_PROGRESS_H
#define LLAMUX_TOOLS_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct lt_progress {
	bool on;
	uint64_t total;		/* bytes */
	uint64_t t_start;	/* ns */
	uint64_t t_last;	/* ns of the last redraw */
	bool drawn;
};

/* on: show it (callers pass isatty(2) unless told otherwise). */
void lt_progress_begin(struct lt_progress *p, bool on, uint64_t total);
/* done bytes out of total, and a note such as "[ 12/201] blk.1.ffn_up". */
void lt_progress_update(struct lt_progress *p, uint64_t done,
			const char *note);
/* Erases the line. */
void lt_progress_end(struct lt_progress *p);

/* Monotonic clock in nanoseconds. */
uint64_t lt_now_ns(void);
/* "1.25 GiB", "640.00 MiB", ... into buf (>= 16 bytes). */
const char *lt_format_bytes(char *buf, size_t cap, uint64_t bytes);

#endif
