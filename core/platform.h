/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The platform interface: everything the core needs from its host. It is
 * implemented twice, once for userspace (host/platform_posix.c: libc, pthreads,
 * mmap) and once for the kernel. The core calls nothing else outside itself.
 */
#ifndef LLAMUX_CORE_PLATFORM_H
#define LLAMUX_CORE_PLATFORM_H

#include "base.h"

/* Memory. lx_host_alloc returns zeroed memory or NULL; sizes may be large. */
void *lx_host_alloc(size_t size);
void lx_host_free(void *p);

/* Logging: one line without trailing newline. */
enum lx_log_level { LX_LOG_ERROR, LX_LOG_WARN, LX_LOG_INFO, LX_LOG_DEBUG };
void lx_host_log(enum lx_log_level level, const char *line);

/* Monotonic time in nanoseconds. */
uint64_t lx_host_time_ns(void);

/* File bytes: the whole file, read-only, mapped or read once (never copied
 * twice). On failure returns false with a message in err.
 */
struct lx_host_file {
	const uint8_t *data;	/* file contents */
	size_t size;		/* bytes in data */
	void *handle;		/* host bookkeeping */
};
bool lx_host_file_open(const char *path, struct lx_host_file *f,
		       struct lx_err *err);
void lx_host_file_close(struct lx_host_file *f);

/*
 * Parallel work: runs fn(arg, i, n) for every i in [0, n) on up to n host
 * threads and returns when all have finished. The host brackets each call of
 * fn with an FPU section, so tasks may use floating point and SIMD freely.
 * n never exceeds lx_host_max_threads().
 */
typedef void (*lx_task_fn)(void *arg, int ith, int nth);
void lx_host_parallel(lx_task_fn fn, void *arg, int n);
int lx_host_max_threads(void);

/* Floating point outside tasks (sampling, tokenizer scores): short sections. */
void lx_host_fpu_begin(void);
void lx_host_fpu_end(void);

#endif
