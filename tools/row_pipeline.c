// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The conversion pipeline behind quantize and mkmodel.
 *
 * Workers: n_threads - 1 pthreads plus the calling thread share each slab;
 * they take rows in small chunks from an atomic counter, so uneven rows
 * (k-quants take longer than F16) balance themselves. The output of a row
 * depends only on the row, never on which thread made it.
 *
 * Writer: one thread that writes one queued buffer at a time. Submitting a
 * buffer waits until the previous one is fully written, so with two slabs
 * used in turn a slab is never refilled while it is being written.
 */
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llamux/llamux.h"
#include "quantize_weights.h"
#include "row_pipeline.h"

#define SLAB_BYTES (32u << 20)
#define MAX_THREADS 256

struct job {
	enum lx_type type;
	uint64_t ne0, row_bytes;
	uint64_t first, count;	/* rows of this slab */
	uint64_t chunk;		/* rows taken at a time */
	lt_row_fn fn;
	void *ctx;
	const char *what;
	uint8_t *out;
	bool check_finite;
};

struct lt_pipeline {
	struct lt_gguf_writer *w;
	unsigned int n_threads;
	pthread_t *threads;
	unsigned int n_started;

	/* workers */
	pthread_mutex_t mu;
	pthread_cond_t cv_go, cv_done;
	uint64_t generation;
	unsigned int n_busy;
	bool quit;
	struct job job;
	atomic_uint_fast64_t next;
	bool job_failed;
	char job_err[LLAMUX_ERR_MAX];
	float **rowbuf;		/* per thread, ne0 floats */
	uint64_t rowbuf_n;

	/* writer */
	pthread_t writer;
	bool writer_started;
	pthread_mutex_t wmu;
	pthread_cond_t wcv;
	const void *wdata;
	uint64_t wlen;
	bool wpending, wquit, wfailed;
	char werr[LLAMUX_ERR_MAX];

	uint8_t *slab[2];
	uint64_t slab_cap;
	int cur;

	uint64_t queued;
	void (*progress)(void *ctx, uint64_t bytes);
	void *progress_ctx;
};

static int fail(char *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(char *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err, LLAMUX_ERR_MAX, fmt, ap);
		va_end(ap);
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Workers                                                                */
/* ---------------------------------------------------------------------- */

static void job_fail(struct lt_pipeline *p, const char *msg)
{
	pthread_mutex_lock(&p->mu);
	if (!p->job_failed) {
		p->job_failed = true;
		snprintf(p->job_err, sizeof(p->job_err), "%s", msg);
	}
	pthread_mutex_unlock(&p->mu);
	/* stop everyone: no more rows to hand out */
	atomic_store(&p->next, UINT64_MAX / 2);
}

static void run_job(struct lt_pipeline *p, unsigned int t)
{
	const struct job *j = &p->job;
	float *buf = p->rowbuf[t];
	char err[LLAMUX_ERR_MAX];
	uint64_t r, end, i;

	for (;;) {
		r = atomic_fetch_add(&p->next, j->chunk);
		if (r >= j->count)
			return;
		end = LX_MIN(r + j->chunk, j->count);
		for (i = r; i < end; i++) {
			err[0] = '\0';
			if (!j->fn(j->ctx, j->first + i, buf, err)) {
				job_fail(p, err[0] ? err : "cannot produce a row");
				return;
			}
			if (j->check_finite && !lt_all_finite(buf, j->ne0)) {
				snprintf(err, sizeof(err),
					 "%s: row %llu holds NaN or infinite values, which %s cannot store; the input is damaged (F16/F32 would keep them)",
					 j->what, (unsigned long long)(j->first + i),
					 lx_type_traits(j->type)->name);
				job_fail(p, err);
				return;
			}
			lt_quantize_row(j->type, buf, j->out + i * j->row_bytes,
					j->ne0);
		}
	}
}

struct worker_arg {
	struct lt_pipeline *p;
	unsigned int t;
};

static void *worker_main(void *arg)
{
	struct worker_arg *a = arg;
	struct lt_pipeline *p = a->p;
	unsigned int t = a->t;
	uint64_t seen = 0;

	free(a);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->quit && p->generation == seen)
			pthread_cond_wait(&p->cv_go, &p->mu);
		if (p->quit)
			break;
		seen = p->generation;
		pthread_mutex_unlock(&p->mu);
		run_job(p, t);
		pthread_mutex_lock(&p->mu);
		if (--p->n_busy == 0)
			pthread_cond_signal(&p->cv_done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Runs p->job on every thread, the caller included. */
static bool run_parallel(struct lt_pipeline *p, char *err)
{
	atomic_store(&p->next, 0);
	pthread_mutex_lock(&p->mu);
	p->job_failed = false;
	p->n_busy = p->n_started;
	p->generation++;
	pthread_cond_broadcast(&p->cv_go);
	pthread_mutex_unlock(&p->mu);
	run_job(p, 0);
	pthread_mutex_lock(&p->mu);
	while (p->n_busy)
		pthread_cond_wait(&p->cv_done, &p->mu);
	pthread_mutex_unlock(&p->mu);
	if (p->job_failed)
		return fail(err, "%s", p->job_err);
	return true;
}

/* ---------------------------------------------------------------------- */
/* Writer                                                                 */
/* ---------------------------------------------------------------------- */

static void *writer_main(void *arg)
{
	struct lt_pipeline *p = arg;
	char err[LLAMUX_ERR_MAX];
	bool ok;

	pthread_mutex_lock(&p->wmu);
	for (;;) {
		while (!p->wquit && !p->wpending)
			pthread_cond_wait(&p->wcv, &p->wmu);
		if (!p->wpending)
			break;
		pthread_mutex_unlock(&p->wmu);
		ok = p->wfailed || lt_gguf_write(p->w, p->wdata, p->wlen, err);
		pthread_mutex_lock(&p->wmu);
		if (!ok && !p->wfailed) {
			p->wfailed = true;
			memcpy(p->werr, err, sizeof(err));
		}
		p->wpending = false;
		pthread_cond_broadcast(&p->wcv);
	}
	pthread_mutex_unlock(&p->wmu);
	return NULL;
}

/* Waits for the writer to be idle; false if a write failed. */
static bool wait_writer(struct lt_pipeline *p, char *err)
{
	bool ok;

	pthread_mutex_lock(&p->wmu);
	while (p->wpending)
		pthread_cond_wait(&p->wcv, &p->wmu);
	ok = !p->wfailed;
	if (!ok)
		fail(err, "%s", p->werr);
	pthread_mutex_unlock(&p->wmu);
	return ok;
}

static bool submit(struct lt_pipeline *p, const void *data, uint64_t n,
		   char *err)
{
	if (!wait_writer(p, err))
		return false;
	pthread_mutex_lock(&p->wmu);
	p->wdata = data;
	p->wlen = n;
	p->wpending = true;
	pthread_cond_broadcast(&p->wcv);
	pthread_mutex_unlock(&p->wmu);
	p->queued += n;
	if (p->progress)
		p->progress(p->progress_ctx, p->queued);
	return true;
}

/* ---------------------------------------------------------------------- */
/* Public                                                                 */
/* ---------------------------------------------------------------------- */

struct lt_pipeline *lt_pipeline_new(struct lt_gguf_writer *w,
				    unsigned int n_threads, char *err)
{
	struct lt_pipeline *p = calloc(1, sizeof(*p));
	unsigned int i;

	if (!p) {
		fail(err, "out of memory");
		return NULL;
	}
	if (n_threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		n_threads = n > 0 ? (unsigned int)n : 1;
	}
	if (n_threads > MAX_THREADS)
		n_threads = MAX_THREADS;
	p->w = w;
	p->n_threads = n_threads;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv_go, NULL);
	pthread_cond_init(&p->cv_done, NULL);
	pthread_mutex_init(&p->wmu, NULL);
	pthread_cond_init(&p->wcv, NULL);
	p->threads = calloc(n_threads, sizeof(*p->threads));
	p->rowbuf = calloc(n_threads, sizeof(*p->rowbuf));
	if (!p->threads || !p->rowbuf)
		goto oom;
	if (pthread_create(&p->writer, NULL, writer_main, p)) {
		fail(err, "cannot start a thread: %s", strerror(errno));
		goto out;
	}
	p->writer_started = true;
	for (i = 1; i < n_threads; i++) {
		struct worker_arg *a = malloc(sizeof(*a));

		if (!a)
			goto oom;
		a->p = p;
		a->t = i;
		if (pthread_create(&p->threads[i], NULL, worker_main, a)) {
			free(a);
			break;	/* run with the threads we have */
		}
		p->n_started++;
	}
	p->n_threads = p->n_started + 1;
	return p;
oom:
	fail(err, "out of memory");
out:
	lt_pipeline_free(p);
	return NULL;
}

void lt_pipeline_free(struct lt_pipeline *p)
{
	unsigned int i;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_cond_broadcast(&p->cv_go);
	pthread_mutex_unlock(&p->mu);
	for (i = 1; i <= p->n_started; i++)
		pthread_join(p->threads[i], NULL);
	if (p->writer_started) {
		pthread_mutex_lock(&p->wmu);
		p->wquit = true;
		pthread_cond_broadcast(&p->wcv);
		pthread_mutex_unlock(&p->wmu);
		pthread_join(p->writer, NULL);
	}
	if (p->rowbuf)
		for (i = 0; i < p->n_threads; i++)
			free(p->rowbuf[i]);
	free(p->rowbuf);
	free(p->threads);
	free(p->slab[0]);
	free(p->slab[1]);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv_go);
	pthread_cond_destroy(&p->cv_done);
	pthread_mutex_destroy(&p->wmu);
	pthread_cond_destroy(&p->wcv);
	free(p);
}

unsigned int lt_pipeline_threads(const struct lt_pipeline *p)
{
	return p->n_threads;
}

void lt_pipeline_on_progress(struct lt_pipeline *p,
			     void (*fn)(void *ctx, uint64_t bytes), void *ctx)
{
	p->progress = fn;
	p->progress_ctx = ctx;
}

bool lt_pipeline_copy(struct lt_pipeline *p, const void *data, uint64_t n,
		      char *err)
{
	return submit(p, data, n, err);
}

/* Grows the per-thread row buffers and both slabs (writer idle). */
static bool reserve(struct lt_pipeline *p, uint64_t ne0, uint64_t slab,
		    char *err)
{
	unsigned int i;
	int s;

	if (ne0 > p->rowbuf_n) {
		for (i = 0; i < p->n_threads; i++) {
			free(p->rowbuf[i]);
			p->rowbuf[i] = malloc(ne0 * sizeof(float));
			if (!p->rowbuf[i]) {
				p->rowbuf_n = 0;
				return fail(err, "out of memory for rows of %llu elements",
					    (unsigned long long)ne0);
			}
		}
		p->rowbuf_n = ne0;
	}
	if (slab > p->slab_cap) {
		if (!wait_writer(p, err))
			return false;
		for (s = 0; s < 2; s++) {
			free(p->slab[s]);
			p->slab[s] = malloc(slab);
			if (!p->slab[s]) {
				p->slab_cap = 0;
				return fail(err, "out of memory for %llu-byte buffers",
					    (unsigned long long)slab);
			}
		}
		p->slab_cap = slab;
	}
	return true;
}

bool lt_pipeline_rows(struct lt_pipeline *p, enum lx_type type, uint64_t ne0,
		      uint64_t n_rows, lt_row_fn fn, void *ctx,
		      const char *what, char *err)
{
	const struct lx_type_traits *tt = lx_type_traits(type);
	uint64_t row_bytes, per_slab, done;

	if (!tt || !lt_can_quantize(type) || !ne0 || ne0 % tt->block_size)
		return fail(err, "internal error: cannot write %s rows of %llu",
			    tt ? tt->name : "?", (unsigned long long)ne0);
	row_bytes = lt_row_bytes(type, ne0);
	per_slab = LX_MAX(1, SLAB_BYTES / row_bytes);
	if (!reserve(p, ne0, LX_MAX(SLAB_BYTES, row_bytes), err))
		return false;
	p->job.type = type;
	p->job.ne0 = ne0;
	p->job.row_bytes = row_bytes;
	p->job.chunk = LX_MAX(1, 16384 / ne0);
	p->job.fn = fn;
	p->job.ctx = ctx;
	p->job.what = what;
	p->job.check_finite = tt->block_size > 1;
	for (done = 0; done < n_rows; done += p->job.count) {
		p->job.first = done;
		p->job.count = LX_MIN(per_slab, n_rows - done);
		p->job.out = p->slab[p->cur];
		if (!run_parallel(p, err) ||
		    !submit(p, p->job.out, p->job.count * row_bytes, err))
			return false;
		p->cur ^= 1;
	}
	return true;
}

bool lt_pipeline_finish(struct lt_pipeline *p, char *err)
{
	return wait_writer(p, err);
}
