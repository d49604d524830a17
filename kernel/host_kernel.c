// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The kernel implementation of the core's platform interface: accounted
 * kvmalloc memory, printk, ktime, model files read once into vmalloc'd
 * memory, and a pool of kernel threads for lx_host_parallel.
 *
 * The core is only ever entered inside an FPU section. Anything here that
 * may sleep (allocation, file reading, waiting for workers) leaves the
 * section for its duration; the x86-64 ABI makes all vector registers
 * caller-saved, so the core keeps nothing in them across these calls.
 * Tasks run in FPU sections of their own, with a chance to reschedule after
 * each one.
 */
#include <linux/atomic.h>
#include <linux/kernel_read_file.h>
#include <linux/kthread.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include <asm/cpufeature.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>

#include "platform.h"
#include "lxk.h"

void lxk_fpu_begin(void)
{
	kernel_fpu_begin();
}

void lxk_fpu_end(void)
{
	kernel_fpu_end();
}

/* ---- memory: every byte the core allocates counts against mem_limit ---- */

static atomic64_t mem_used;

struct alloc_hdr {
	u64 size;	/* bytes including this header */
	u64 pad;	/* keeps the payload 16-byte aligned */
};

u64 lxk_host_mem_used(void)
{
	return atomic64_read(&mem_used);
}

void *lx_host_alloc(size_t size)
{
	struct alloc_hdr *h;
	u64 total;

	/* kvmalloc warns (a WARNING in dmesg) above INT_MAX: refuse first. */
	if (size > (size_t)INT_MAX - sizeof(*h))
		return NULL;
	total = size + sizeof(*h);
	if (atomic64_add_return(total, &mem_used) > lxk_param_mem_limit) {
		atomic64_sub(total, &mem_used);
		return NULL;
	}
	kernel_fpu_end();
	h = kvzalloc(total, GFP_KERNEL | __GFP_NOWARN);
	kernel_fpu_begin();
	if (!h) {
		atomic64_sub(total, &mem_used);
		return NULL;
	}
	h->size = total;
	return h + 1;
}

void lx_host_free(void *p)
{
	struct alloc_hdr *h;

	if (!p)
		return;
	h = (struct alloc_hdr *)p - 1;
	atomic64_sub(h->size, &mem_used);
	kernel_fpu_end();
	kvfree(h);
	kernel_fpu_begin();
}

void lx_host_log(enum lx_log_level level, const char *line)
{
	switch (level) {
	case LX_LOG_ERROR:
		pr_err("llamux: %s\n", line);
		break;
	case LX_LOG_WARN:
		pr_warn("llamux: %s\n", line);
		break;
	case LX_LOG_INFO:
		pr_info("llamux: %s\n", line);
		break;
	default:
		pr_debug("llamux: %s\n", line);
		break;
	}
}

uint64_t lx_host_time_ns(void)
{
	return ktime_get_ns();
}

/* ---- CPU level ---- */

uint32_t lx_host_cpu_level(void)
{
	uint32_t have = 0;

	if (boot_cpu_has(X86_FEATURE_AVX2) && boot_cpu_has(X86_FEATURE_FMA) &&
	    boot_cpu_has(X86_FEATURE_F16C) &&
	    cpu_has_xfeatures(XFEATURE_MASK_SSE | XFEATURE_MASK_YMM, NULL))
		have = 1;
	if (have && boot_cpu_has(X86_FEATURE_AVX512F) &&
	    boot_cpu_has(X86_FEATURE_AVX512BW) &&
	    boot_cpu_has(X86_FEATURE_AVX512VL) &&
	    boot_cpu_has(X86_FEATURE_AVX512DQ) &&
	    cpu_has_xfeatures(XFEATURE_MASK_AVX512, NULL))
		have = 2;
	if (have == 2 && boot_cpu_has(X86_FEATURE_AVX512_VNNI))
		have = 3;
	return min_t(uint32_t, have, lxk_cpu_limit());
}

/* ---- model files ---- */

bool lx_host_file_open(const char *path, struct lx_host_file *f,
		       struct lx_err *err)
{
	void *buf = NULL;
	size_t size = 0;
	ssize_t n;

	memset(f, 0, sizeof(*f));
	kernel_fpu_end();
	/* Models live under /lib/firmware: read as firmware, which security
	 * modules know (IPE warns about READING_UNKNOWN).
	 */
	n = kernel_read_file_from_path(path, 0, &buf, INT_MAX, &size,
				       READING_FIRMWARE);
	kernel_fpu_begin();
	if (n < 0) {
		/* kernel_read_file refuses an empty file with -EINVAL. */
		const char *why = n == -ENOENT ? "no such file" :
				  n == -EINVAL ? "empty or not a regular file" :
				  n == -EFBIG ? "larger than 2 GiB" :
				  n == -ENOMEM ? "out of memory" :
				  n == -EACCES || n == -EPERM ? "access denied" :
				  "read error";

		return lx_fail(err, "cannot read it: %s (error %zd)", why, n);
	}
	if (size == 0) {
		kernel_fpu_end();
		vfree(buf);
		kernel_fpu_begin();
		return lx_fail(err, "the file is empty");
	}
	f->data = buf;
	f->size = size;
	return true;
}

/* Files are always read in here. */
bool lx_host_file_read(const char *path, struct lx_host_file *f,
		       struct lx_err *err)
{
	return lx_host_file_open(path, f, err);
}

void lx_host_file_close(struct lx_host_file *f)
{
	kernel_fpu_end();
	vfree((void *)f->data);
	kernel_fpu_begin();
	memset(f, 0, sizeof(*f));
}

/* ---- worker threads ---- */

static struct {
	struct task_struct **threads;	/* helpers; the caller is worker 0 */
	unsigned int n;
	struct mutex job_lock;		/* one job at a time */
	wait_queue_head_t wake;		/* helpers: a job was posted */
	wait_queue_head_t done;		/* caller: every helper checked in */
	u64 generation;			/* bumps once per job */
	lx_task_fn fn;
	void *arg;
	u32 n_tasks;
	u32 n_workers;
	atomic64_t *range;		/* per worker: its tasks lo | hi << 32 */
	atomic_t pending;		/* helpers yet to check in */
} pool;

/*
 * Each worker owns a contiguous run of tasks and takes them front to back;
 * one that has run out takes from the back of another's run. Neighbouring
 * tasks cover neighbouring weight rows, so what a worker prefetches after
 * a task is what it reads next (as in the userspace pool).
 */
static s64 pack_range(u32 lo, u32 hi)
{
	return (s64)((u64)lo | (u64)hi << 32);
}

/* Takes the front (own run) or back (another's) task of run w. */
static bool take_task(u32 w, bool front, u32 *task)
{
	s64 r = atomic64_read(&pool.range[w]);
	u32 lo, hi;

	do {
		lo = (u32)r;
		hi = (u32)((u64)r >> 32);
		if (lo >= hi)
			return false;
	} while (!atomic64_try_cmpxchg(&pool.range[w], &r,
				       front ? pack_range(lo + 1, hi) :
					       pack_range(lo, hi - 1)));
	*task = front ? lo : hi - 1;
	return true;
}

/* One task in its own FPU section. */
static void run_task(u32 t, u32 worker)
{
	kernel_fpu_begin();
	pool.fn(pool.arg, t, pool.n_tasks, worker);
	kernel_fpu_end();
	cond_resched();
}

/* Takes tasks until none are left: its own run first, then others'. */
static void run_tasks(u32 worker)
{
	u32 t, v, n = pool.n_workers;

	while (take_task(worker, true, &t))
		run_task(t, worker);
	for (v = 1; v < n; v++)
		while (take_task((worker + v) % n, false, &t))
			run_task(t, worker);
}

static int worker_main(void *data)
{
	u32 index = (u32)(uintptr_t)data;
	u64 seen = 0;

	while (!kthread_should_stop()) {
		/* TASK_IDLE: long idle waits are not hung tasks. */
		wait_event_idle(pool.wake, READ_ONCE(pool.generation) != seen ||
					   kthread_should_stop());
		if (kthread_should_stop())
			break;
		seen = READ_ONCE(pool.generation);
		smp_rmb();	/* job fields were written before generation */
		if (index < pool.n_workers)
			run_tasks(index);
		if (atomic_dec_and_test(&pool.pending))
			wake_up(&pool.done);
	}
	return 0;
}

uint32_t lx_host_max_threads(void)
{
	return pool.n + 1;
}

unsigned int lxk_host_threads(void)
{
	return pool.n + 1;
}

void lx_host_parallel(lx_task_fn fn, void *arg, uint32_t n_tasks,
		      uint32_t n_workers)
{
	u32 t;

	if (n_workers <= 1 || pool.n == 0 || n_tasks <= 1) {
		for (t = 0; t < n_tasks; t++) {
			fn(arg, t, n_tasks, 0);
			if (t + 1 < n_tasks) {
				kernel_fpu_end();
				cond_resched();
				kernel_fpu_begin();
			}
		}
		return;
	}
	kernel_fpu_end();
	mutex_lock(&pool.job_lock);
	pool.fn = fn;
	pool.arg = arg;
	pool.n_tasks = n_tasks;
	pool.n_workers = min_t(u32, n_workers, pool.n + 1);
	for (t = 0; t < pool.n_workers; t++)
		atomic64_set(&pool.range[t], pack_range(
			(u32)div_u64((u64)n_tasks * t, pool.n_workers),
			(u32)div_u64((u64)n_tasks * (t + 1), pool.n_workers)));
	atomic_set(&pool.pending, pool.n);
	/* The job above before the generation; pairs with worker_main's rmb. */
	smp_wmb();
	WRITE_ONCE(pool.generation, pool.generation + 1);
	wake_up_all(&pool.wake);
	run_tasks(0);
	wait_event_idle(pool.done, atomic_read(&pool.pending) == 0);
	mutex_unlock(&pool.job_lock);
	kernel_fpu_begin();
}

int lxk_host_init(unsigned int threads)
{
	unsigned int i;

	mutex_init(&pool.job_lock);
	init_waitqueue_head(&pool.wake);
	init_waitqueue_head(&pool.done);
	if (threads <= 1)
		return 0;
	pool.range = kcalloc(threads, sizeof(*pool.range), GFP_KERNEL);
	pool.threads = kcalloc(threads - 1, sizeof(*pool.threads), GFP_KERNEL);
	if (!pool.range || !pool.threads) {
		lxk_host_exit();
		return -ENOMEM;
	}
	for (i = 0; i + 1 < threads; i++) {
		struct task_struct *t = kthread_run(worker_main,
						    (void *)(uintptr_t)(i + 1),
						    "llamux-w%u", i + 1);

		if (IS_ERR(t)) {
			lxk_host_exit();
			return PTR_ERR(t);
		}
		pool.threads[i] = t;
		pool.n++;
	}
	return 0;
}

void lxk_host_exit(void)
{
	unsigned int i;

	for (i = 0; i < pool.n; i++)
		kthread_stop(pool.threads[i]);
	kfree(pool.threads);
	pool.threads = NULL;
	kfree(pool.range);
	pool.range = NULL;
	pool.n = 0;
}
