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
/* The same, but the bytes are read into memory of the process's own rather
 * than mapped from the page cache (llama.cpp's --no-mmap); a host that
 * always reads files in may make this lx_host_file_open.
 */
bool lx_host_file_read(const char *path, struct lx_host_file *f,
		       struct lx_err *err);
void lx_host_file_close(struct lx_host_file *f);

/*
 * Parallel work: runs fn(arg, task, n_tasks, worker) once for every task in
 * [0, n_tasks), spread over up to n_workers host threads (1 ..
 * lx_host_max_threads()), and returns when all are done. `worker` (0 ..
 * n_workers - 1) says which thread runs the call, for per-thread scratch;
 * which tasks a worker gets is up to the host. The core keeps each task short
 * (about a million multiply-adds) so that a host may reschedule between
 * tasks, as the kernel must.
 */
typedef void (*lx_task_fn)(void *arg, uint32_t task, uint32_t n_tasks,
			   uint32_t worker);
void lx_host_parallel(lx_task_fn fn, void *arg, uint32_t n_tasks,
		      uint32_t n_workers);
uint32_t lx_host_max_threads(void);

/*
 * The best SIMD level the core may use (enum lx_cpu_level in kernels.h:
 * 0 scalar, 1 AVX2+FMA+F16C, 2 AVX-512 F/BW/VL/DQ): what the CPU and OS
 * support, lowered by the user's override (LLAMUX_CPU, module parameter).
 */
uint32_t lx_host_cpu_level(void);

/*
 * Floating point: the core uses the FPU/SIMD registers anywhere, so a host
 * enters the core only inside an FPU section (kernel_fpu_begin in the
 * kernel; nothing to do in userspace). Host functions that may sleep
 * (allocation, files, waiting in lx_host_parallel) leave the section for
 * their duration; the x86-64 ABI makes vector registers caller-saved, so no
 * core state lives in them across these calls. Tasks run in sections of
 * their own.
 */

#endif
