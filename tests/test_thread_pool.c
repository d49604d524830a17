// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The userspace thread pool behind lx_host_parallel: every task runs exactly
 * once, with the job's task count and a worker index below the job's worker
 * count, for any mix of task and worker counts; a worker stuck in one task
 * does not hold up the tasks of its run (another worker takes them); and
 * jobs posted back to back do not mix.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "platform.h"
#include "testlib.h"

#define MAX_TASKS 100003u

struct job {
	uint32_t n_tasks;
	uint32_t n_workers;
	uint32_t runs[MAX_TASKS];	/* times each task ran (atomic) */
	uint32_t bad_args;		/* wrong n_tasks or worker (atomic) */
	uint32_t done;			/* tasks finished (atomic) */
	uint32_t stuck_task;		/* waits for all others; ~0u: none */
	bool stuck_gave_up;		/* the others never finished */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void count_task(void *arg, uint32_t task, uint32_t n_tasks,
		       uint32_t worker)
{
	struct job *j = arg;

	if (n_tasks != j->n_tasks || worker >= j->n_workers ||
	    task >= n_tasks) {
		__atomic_fetch_add(&j->bad_args, 1, __ATOMIC_RELAXED);
		return;
	}
	if (task == j->stuck_task) {
		double end = now_s() + 20;

		while (__atomic_load_n(&j->done, __ATOMIC_ACQUIRE) + 1 <
		       n_tasks) {
			if (now_s() > end) {
				j->stuck_gave_up = true;
				break;
			}
		}
	}
	__atomic_fetch_add(&j->runs[task], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&j->done, 1, __ATOMIC_RELEASE);
}

static struct job job;

static void run_job(uint32_t n_tasks, uint32_t n_workers, uint32_t stuck)
{
	uint32_t t, wrong = 0, first_wrong = 0;

	memset(&job, 0, sizeof(job));
	job.n_tasks = n_tasks;
	/* the pool clamps the worker count to its size */
	job.n_workers = n_workers < 1 ? 1 :
			n_workers > lx_host_max_threads() ?
			lx_host_max_threads() : n_workers;
	job.stuck_task = stuck;
	lx_host_parallel(count_task, &job, n_tasks, n_workers);
	for (t = 0; t < n_tasks; t++) {
		if (job.runs[t] != 1 && !wrong++)
			first_wrong = t;
	}
	CHECK(wrong == 0,
	      "%u tasks, %u workers: %u tasks did not run exactly once (first: task %u ran %u times)",
	      n_tasks, n_workers, wrong, first_wrong,
	      wrong ? job.runs[first_wrong] : 0);
	CHECK(job.bad_args == 0,
	      "%u tasks, %u workers: %u calls had a wrong task count or worker index",
	      n_tasks, n_workers, job.bad_args);
	CHECK(!job.stuck_gave_up,
	      "%u tasks, %u workers: with task %u busy, the rest of its run never ran",
	      n_tasks, n_workers, stuck);
}

int main(void)
{
	static const uint32_t tasks[] = { 0, 1, 2, 3, 5, 7, 16, 64, 97, 1000,
					  MAX_TASKS };
	static const uint32_t workers[] = { 0, 1, 2, 3, 4, 8 };
	size_t i, k;
	int rep;

	/* a pool of four threads whatever this machine has */
	setenv("LLAMUX_MAX_THREADS", "4", 1);
	CHECK(lx_host_max_threads() == 4, "pool of %u threads, asked for 4",
	      lx_host_max_threads());

	for (i = 0; i < sizeof(tasks) / sizeof(tasks[0]); i++)
		for (k = 0; k < sizeof(workers) / sizeof(workers[0]); k++)
			run_job(tasks[i], workers[k], ~0u);

	/*
	 * One task waits for all the others: the first of the caller's run,
	 * the last of it (the one others take first), and a task in the
	 * middle of another worker's run.
	 */
	for (k = 2; k <= 4; k++) {
		run_job(100, (uint32_t)k, 0);
		run_job(100, (uint32_t)k, 100 / (uint32_t)k - 1);
		run_job(100, (uint32_t)k, 100 - 100 / (uint32_t)k / 2);
	}

	/* many short jobs back to back: none leaks into the next */
	for (rep = 0; rep < 2000; rep++)
		run_job(1 + (uint32_t)rep % 37, 1 + (uint32_t)rep % 4, ~0u);
	return tl_finish("test_thread_pool");
}
