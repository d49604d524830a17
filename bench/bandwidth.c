// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Memory read bandwidth, the bound on token generation (every weight is read
 * once per token): sums a large array (2 GiB by default, allocated and
 * touched first) with 1 and 2 threads, each thread its own contiguous part,
 * and prints the best of 5 runs in GB/s (1e9 bytes). The loop is plain C;
 * built with -O3 -march=native the compiler turns it into AVX2/AVX-512 loads.
 * With -f FILE it sums that file's pages instead, mapped as llamux maps a
 * model (in the page cache after a first read): on a VM the rate of a fresh
 * array depends on where its pages land, the file's on where the model is.
 * With -H the array is advised for 2 MiB pages first, as llamux --no-mmap
 * does with the model it reads in.
 *
 *     gcc -std=c11 -O3 -march=native -pthread bench/bandwidth.c -o bandwidth
 *     ./bandwidth [-s MIB [-H] | -f FILE] [-r RUNS] [-t 1,2,...]
 */
#define _GNU_SOURCE	/* MAP_POPULATE */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64

struct part {
	const uint64_t *a;
	size_t n;
	pthread_barrier_t *start;
	uint64_t sum;
	double t0, t1;		/* when this thread started and finished */
};

static volatile uint64_t sink;	/* keeps the sums from being optimized out */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t sum(const uint64_t *a, size_t n)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += a[i];
	return s;
}

static void *worker(void *arg)
{
	struct part *p = arg;

	pthread_barrier_wait(p->start);
	p->t0 = now_s();
	p->sum = sum(p->a, p->n);
	p->t1 = now_s();
	return NULL;
}

/*
 * Seconds for n_threads to read the whole array once: from the first thread
 * starting to the last one finishing.
 */
static double timed_read(const uint64_t *a, size_t n, int n_threads)
{
	pthread_t tid[MAX_THREADS];
	struct part parts[MAX_THREADS];
	pthread_barrier_t start;
	size_t per = n / (size_t)n_threads;
	double t0 = 1e30, t1 = 0;
	int i;

	pthread_barrier_init(&start, NULL, (unsigned int)n_threads + 1);
	for (i = 0; i < n_threads; i++) {
		parts[i].a = a + (size_t)i * per;
		parts[i].n = i == n_threads - 1 ? n - (size_t)i * per : per;
		parts[i].start = &start;
		if (pthread_create(&tid[i], NULL, worker, &parts[i]) != 0) {
			fprintf(stderr, "bandwidth: cannot start thread %d\n", i);
			exit(1);
		}
	}
	pthread_barrier_wait(&start);
	for (i = 0; i < n_threads; i++) {
		pthread_join(tid[i], NULL);
		sink += parts[i].sum;
		if (parts[i].t0 < t0)
			t0 = parts[i].t0;
		if (parts[i].t1 > t1)
			t1 = parts[i].t1;
	}
	pthread_barrier_destroy(&start);
	return t1 - t0;
}

static long parse_num(const char *opt, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "bandwidth: %s expects a number from %ld to %ld, got '%s'\n",
			opt, min, max, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	long mib = 2048, runs = 5;
	const char *file = NULL;
	int threads[MAX_THREADS] = { 1, 2 }, n_threads = 2, i, r;
	int huge = 0;
	size_t n, bytes;
	uint64_t *a;

	for (i = 1; i < argc; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "-s")) {
			mib = parse_num("-s", argv[++i], 1, 1L << 20);
		} else if (!strcmp(argv[i], "-H")) {
			huge = 1;
		} else if (i + 1 < argc && !strcmp(argv[i], "-f")) {
			file = argv[++i];
		} else if (i + 1 < argc && !strcmp(argv[i], "-r")) {
			runs = parse_num("-r", argv[++i], 1, 1000);
		} else if (i + 1 < argc && !strcmp(argv[i], "-t")) {
			char *list = argv[++i], *tok, *save = NULL;

			n_threads = 0;
			for (tok = strtok_r(list, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				if (n_threads == MAX_THREADS)
					break;
				threads[n_threads++] = (int)parse_num("-t", tok, 1,
								      MAX_THREADS);
			}
			if (!n_threads)
				parse_num("-t", "", 1, MAX_THREADS);
		} else {
			fprintf(stderr, "usage: bandwidth [-s MIB [-H] | -f FILE] [-r RUNS] [-t 1,2,...]\n");
			return 2;
		}
	}

	if (file) {
		struct stat st;
		int fd = open(file, O_RDONLY);

		if (fd < 0 || fstat(fd, &st) != 0) {
			fprintf(stderr, "bandwidth: cannot open %s: %s\n", file,
				strerror(errno));
			return 1;
		}
		bytes = (size_t)st.st_size / sizeof(*a) * sizeof(*a);
		if (bytes == 0) {
			fprintf(stderr, "bandwidth: %s is empty\n", file);
			return 1;
		}
		/* Populated: every page read in and mapped before timing. */
		a = mmap(NULL, bytes, PROT_READ, MAP_SHARED | MAP_POPULATE, fd,
			 0);
		close(fd);
		if (a == MAP_FAILED) {
			fprintf(stderr, "bandwidth: cannot map %s: %s\n", file,
				strerror(errno));
			return 1;
		}
		printf("read bandwidth: %s (%.0f MiB, mapped), best of %ld runs\n",
		       file, (double)bytes / 1048576.0, runs);
	} else {
		bytes = (size_t)mib << 20;
		/* aligned_alloc wants a multiple of the alignment. */
		a = aligned_alloc(huge ? (size_t)2 << 20 : 4096,
				  huge ? (bytes + ((size_t)2 << 20) - 1) &
						 ~(((size_t)2 << 20) - 1) :
					 bytes);
		if (!a) {
			fprintf(stderr, "bandwidth: cannot allocate %ld MiB\n",
				mib);
			return 1;
		}
		if (huge && madvise(a, bytes, MADV_HUGEPAGE) != 0)
			fprintf(stderr, "bandwidth: no huge pages (madvise: %s)\n",
				strerror(errno));
		/* Touch every page so that no run pays for page faults. */
		memset(a, 0x5a, bytes);
		printf("read bandwidth: %ld MiB array%s, best of %ld runs\n",
		       mib, huge ? " in 2 MiB pages" : "", runs);
	}
	n = bytes / sizeof(*a);
	for (i = 0; i < n_threads; i++) {
		double best = 1e30;

		for (r = 0; r < runs; r++) {
			double t = timed_read(a, n, threads[i]);

			if (t < best)
				best = t;
		}
		printf("%d thread%s: %.2f GB/s\n", threads[i],
		       threads[i] > 1 ? "s" : "", (double)bytes / best / 1e9);
		fflush(stdout);
	}
	if (file)
		munmap(a, bytes);
	else
		free(a);
	return 0;
}
