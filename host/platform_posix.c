// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The userspace implementation of the core's platform interface: libc memory,
 * stderr logging, clock_gettime, model files (mapped, or read in for
 * --no-mmap) and a persistent pthread pool for lx_host_parallel (threads are
 * created once, not per token). The FPU needs no care in userspace.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "platform.h"

void *lx_host_alloc(size_t size)
{
	return calloc(1, size ? size : 1);
}

void lx_host_free(void *p)
{
	free(p);
}

void lx_host_log(enum lx_log_level level, const char *line)
{
	static const char *const prefix[] = { "error", "warning", "info", "debug" };

	if (level <= LX_LOG_WARN || getenv("LLAMUX_DEBUG"))
		fprintf(stderr, "llamux: %s: %s\n", prefix[level], line);
}

uint64_t lx_host_time_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Opens path as a regular, non-empty file; returns the descriptor or -1. */
static int open_model_file(const char *path, struct stat *st,
			   struct lx_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		lx_fail(err, "cannot open it: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		lx_fail(err, "not a regular file; give the path of a .gguf model file");
		return -1;
	}
	if (st->st_size == 0) {
		close(fd);
		lx_fail(err, "the file is empty");
		return -1;
	}
	return fd;
}

bool lx_host_file_open(const char *path, struct lx_host_file *f,
		       struct lx_err *err)
{
	struct stat st;
	void *p;
	int fd;

	memset(f, 0, sizeof(*f));
	fd = open_model_file(path, &st, err);
	if (fd < 0)
		return false;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return lx_fail(err, "cannot map it into memory: %s",
			       strerror(errno));
	f->data = p;
	f->size = (size_t)st.st_size;
	return true;
}

/*
 * Read-in files live in anonymous memory aligned to and advised for 2 MiB
 * pages: weights are read once per generated token, and where page-cache
 * pages read slower than fresh memory (a VM's host placement, 4 KiB TLB
 * entries) this buys generation speed for a copy's worth of memory.
 */
#define READ_IN_ALIGN ((size_t)2 << 20)
#define READ_IN_CHUNK ((size_t)64 << 20)	/* bytes per read() call */

static char read_in_tag;	/* f->handle of a read-in file */

static size_t read_in_length(size_t size)
{
	return (size + READ_IN_ALIGN - 1) & ~(READ_IN_ALIGN - 1);
}

bool lx_host_file_read(const char *path, struct lx_host_file *f,
		       struct lx_err *err)
{
	struct stat st;
	size_t size, len, got = 0;
	uint8_t *raw, *p;
	int fd;

	memset(f, 0, sizeof(*f));
	fd = open_model_file(path, &st, err);
	if (fd < 0)
		return false;
	size = (size_t)st.st_size;
	len = read_in_length(size);
	if (len < size || len + READ_IN_ALIGN < len) {
		close(fd);
		return lx_fail(err, "too large to read into memory; leave out --no-mmap to map it instead");
	}
	raw = mmap(NULL, len + READ_IN_ALIGN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED) {
		close(fd);
		return lx_fail(err, "no memory to read its %zu MiB into: %s; leave out --no-mmap to map it instead",
			       size >> 20, strerror(errno));
	}
	p = (uint8_t *)(((uintptr_t)raw + READ_IN_ALIGN - 1) &
			~(uintptr_t)(READ_IN_ALIGN - 1));
	if (p > raw)
		munmap(raw, (size_t)(p - raw));
	if (p + len < raw + len + READ_IN_ALIGN)
		munmap(p + len, (size_t)(raw + len + READ_IN_ALIGN - (p + len)));
	madvise(p, len, MADV_HUGEPAGE);	/* a hint; no huge pages is fine */
	while (got < size) {
		size_t want = size - got < READ_IN_CHUNK ? size - got :
							   READ_IN_CHUNK;
		ssize_t n = pread(fd, p + got, want, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = errno;

			close(fd);
			munmap(p, len);
			if (n == 0)
				return lx_fail(err, "it ended after %zu of its %zu bytes while being read (changed on disk?)",
					       got, size);
			return lx_fail(err, "cannot read it: %s", strerror(e));
		}
		got += (size_t)n;
	}
	close(fd);
	/* Read-only from here, as the mapping is. */
	mprotect(p, len, PROT_READ);
	f->data = p;
	f->size = size;
	f->handle = &read_in_tag;
	return true;
}

void lx_host_file_close(struct lx_host_file *f)
{
	if (f->data)
		munmap((void *)f->data, f->handle == &read_in_tag ?
				read_in_length(f->size) : f->size);
	memset(f, 0, sizeof(*f));
}

/* ---- CPU level ---- */

#include <cpuid.h>

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

/* What the CPU and the OS (saved register state) support. */
static uint32_t detect_cpu_level(void)
{
	uint32_t a, b, c, d, ecx1;
	uint64_t xcr0;

	if (!__get_cpuid(1, &a, &b, &ecx1, &d))
		return 0;
	/* OSXSAVE, AVX, FMA, F16C */
	if (!(ecx1 & (1u << 27)) || !(ecx1 & (1u << 28)) ||
	    !(ecx1 & (1u << 12)) || !(ecx1 & (1u << 29)))
		return 0;
	xcr0 = xgetbv0();
	if ((xcr0 & 0x6) != 0x6 || !__get_cpuid_count(7, 0, &a, &b, &c, &d) ||
	    !(b & (1u << 5)))
		return 0;
	/* AVX512 F (16), DQ (17), BW (30), VL (31) and opmask/ZMM state */
	if (!(b & (1u << 16)) || !(b & (1u << 17)) || !(b & (1u << 30)) ||
	    !(b & (1u << 31)) || (xcr0 & 0xE0) != 0xE0)
		return 1;
	/* AVX512_VNNI (leaf 7, ECX bit 11) */
	return (c & (1u << 11)) ? 3 : 2;
}

uint32_t lx_host_cpu_level(void)
{
	static const char *const names[] = { "scalar", "avx2", "avx512",
					     "avx512vnni" };
	const char *env = getenv("LLAMUX_CPU");
	uint32_t have = detect_cpu_level(), i;

	if (!env || !*env || !strcmp(env, "auto"))
		return have;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(env, names[i]))
			continue;
		if (i > have) {
			fprintf(stderr, "llamux: warning: LLAMUX_CPU=%s but this CPU supports only %s; using %s\n",
				env, names[have], names[have]);
			return have;
		}
		return i;
	}
	fprintf(stderr, "llamux: warning: LLAMUX_CPU=%s is not scalar, avx2, avx512, avx512vnni or auto; ignoring it\n",
		env);
	return have;
}

/* ---- thread pool ---- */

/*
 * Workers spin for a while on the job counter before sleeping, and the
 * caller spins for the last tasks to finish: a forward pass posts hundreds
 * of short jobs per token, and waking a sleeping thread costs more than
 * many of them take.
 */
#define SPIN_ROUNDS 20000	/* ~100 us of pause instructions */

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t wake;	/* sleeping workers: a new job is posted */
	pthread_t *threads;
	uint32_t n_threads;	/* workers, not counting the caller */
	uint64_t generation;	/* bumps once per job (atomic) */
	uint32_t sleepers;	/* workers waiting on `wake` (under lock) */
	uint32_t pending;	/* workers still in the current job (atomic) */
	lx_task_fn fn;
	void *arg;
	uint32_t n_tasks;
	uint32_t n_workers;	/* threads the job may use, caller included */
	uint64_t *range;	/* per worker: its tasks [lo, hi) (atomic) */
	bool quit;		/* atomic */
};

static struct pool pool = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
};
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;

static inline void cpu_relax(void)
{
	__builtin_ia32_pause();
}

/*
 * Each worker owns a contiguous run of tasks, packed as lo | hi << 32, and
 * takes them front to back; one that has run out takes from the back of
 * another's run. Neighbouring tasks cover neighbouring weight rows, so a
 * worker's prefetch of the rows after its task is what it reads next: with
 * tasks handed out in turn it was the other core's, and every task started
 * cold (generation ran 5% slower than with one half per thread).
 */
static uint64_t pack_range(uint32_t lo, uint32_t hi)
{
	return (uint64_t)lo | (uint64_t)hi << 32;
}

/* Takes the front (own run) or back (another's) task of run w. */
static bool take_task(uint32_t w, bool front, uint32_t *task)
{
	uint64_t r = __atomic_load_n(&pool.range[w], __ATOMIC_RELAXED);
	uint32_t lo, hi;

	do {
		lo = (uint32_t)r;
		hi = (uint32_t)(r >> 32);
		if (lo >= hi)
			return false;
	} while (!__atomic_compare_exchange_n(&pool.range[w], &r,
			front ? pack_range(lo + 1, hi) : pack_range(lo, hi - 1),
			true, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	*task = front ? lo : hi - 1;
	return true;
}

/* Takes tasks until none are left: its own run first, then others'. */
static void run_tasks(uint32_t worker)
{
	uint32_t t, v, n = pool.n_workers;

	while (take_task(worker, true, &t))
		pool.fn(pool.arg, t, pool.n_tasks, worker);
	for (v = 1; v < n; v++)
		while (take_task((worker + v) % n, false, &t))
			pool.fn(pool.arg, t, pool.n_tasks, worker);
}

/* Waits for a generation other than `seen`; false when quitting. */
static bool wait_job(uint64_t seen)
{
	uint32_t i;

	for (i = 0; i < SPIN_ROUNDS; i++) {
		if (__atomic_load_n(&pool.generation, __ATOMIC_ACQUIRE) != seen)
			return !__atomic_load_n(&pool.quit, __ATOMIC_ACQUIRE);
		cpu_relax();
	}
	pthread_mutex_lock(&pool.lock);
	pool.sleepers++;
	while (__atomic_load_n(&pool.generation, __ATOMIC_ACQUIRE) == seen &&
	       !__atomic_load_n(&pool.quit, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&pool.wake, &pool.lock);
	pool.sleepers--;
	pthread_mutex_unlock(&pool.lock);
	return !__atomic_load_n(&pool.quit, __ATOMIC_ACQUIRE);
}

static void *worker_main(void *p)
{
	uint32_t index = (uint32_t)(uintptr_t)p;
	uint64_t seen = 0;

	while (wait_job(seen)) {
		seen = __atomic_load_n(&pool.generation, __ATOMIC_ACQUIRE);
		if (index < pool.n_workers)
			run_tasks(index);
		__atomic_fetch_sub(&pool.pending, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void post(void)
{
	__atomic_fetch_add(&pool.generation, 1, __ATOMIC_RELEASE);
	pthread_mutex_lock(&pool.lock);
	if (pool.sleepers)
		pthread_cond_broadcast(&pool.wake);
	pthread_mutex_unlock(&pool.lock);
}

static void pool_stop(void)
{
	uint32_t i;

	__atomic_store_n(&pool.quit, true, __ATOMIC_RELEASE);
	post();
	for (i = 0; i < pool.n_threads; i++)
		pthread_join(pool.threads[i], NULL);
	free(pool.threads);
	free(pool.range);
	pool.range = NULL;
	pool.threads = NULL;
	pool.n_threads = 0;
}

static void pool_start(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	long want = cpus > 0 ? cpus : 1;
	const char *env = getenv("LLAMUX_MAX_THREADS");
	uint32_t i;

	if (env && atol(env) > 0)
		want = atol(env);
	if (want > 256)
		want = 256;
	pool.threads = calloc((size_t)want, sizeof(pthread_t));
	pool.range = calloc((size_t)want, sizeof(*pool.range));
	if (!pool.threads || !pool.range) {
		free(pool.threads);
		pool.threads = NULL;
		return;
	}
	for (i = 0; i + 1 < (uint32_t)want; i++) {
		if (pthread_create(&pool.threads[i], NULL, worker_main,
				   (void *)(uintptr_t)(i + 1)) != 0)
			break;
		pool.n_threads++;
	}
	atexit(pool_stop);
}

uint32_t lx_host_max_threads(void)
{
	pthread_once(&pool_once, pool_start);
	return pool.n_threads + 1;
}

void lx_host_parallel(lx_task_fn fn, void *arg, uint32_t n_tasks,
		      uint32_t n_workers)
{
	uint32_t t, spins = 0;

	n_workers = n_workers < 1 ? 1 : n_workers;
	if (n_workers > lx_host_max_threads())
		n_workers = lx_host_max_threads();
	if (n_workers == 1 || n_tasks <= 1) {
		for (t = 0; t < n_tasks; t++)
			fn(arg, t, n_tasks, 0);
		return;
	}
	/* One job at a time; contexts on several threads take turns. */
	pthread_mutex_lock(&job_lock);
	pool.fn = fn;
	pool.arg = arg;
	pool.n_tasks = n_tasks;
	pool.n_workers = n_workers;
	for (t = 0; t < n_workers; t++)
		pool.range[t] = pack_range(
			(uint32_t)((uint64_t)n_tasks * t / n_workers),
			(uint32_t)((uint64_t)n_tasks * (t + 1) / n_workers));
	pool.pending = pool.n_threads;
	post();

	run_tasks(0);

	while (__atomic_load_n(&pool.pending, __ATOMIC_ACQUIRE)) {
		if (++spins < SPIN_ROUNDS)
			cpu_relax();
		else
			sched_yield();
	}
	pthread_mutex_unlock(&job_lock);
}
