// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * System facts for questions about this machine: load, CPU use, memory,
 * the busiest and the largest processes, disk space and pressure stall
 * information, as a plain-text block (cli_collect_facts). Everything comes
 * from /proc and statvfs; nothing is changed.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "facts.h"

#define TOP_N 5
#define SAMPLE_NS 200000000L

struct cpu_times {
	unsigned long long user, nice, system, idle, iowait, irq, softirq, steal;
};

struct proc {
	int pid;
	unsigned long long ticks;	/* utime + stime */
	unsigned long long rss;		/* pages */
	char comm[64];
	double cpu;			/* percent of one CPU over the sample */
};

struct procs {
	struct proc *v;
	size_t n, cap;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool read_cpu(struct cpu_times *t)
{
	FILE *f = fopen("/proc/stat", "r");
	int n;

	memset(t, 0, sizeof(*t));
	if (!f)
		return false;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &t->user,
		   &t->nice, &t->system, &t->idle, &t->iowait, &t->irq,
		   &t->softirq, &t->steal);
	fclose(f);
	return n >= 4;
}

/* One /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold ')' */
static bool read_proc(int pid, struct proc *p)
{
	char path[64], buf[1024], *lp, *rp, *s;
	unsigned long long utime = 0, stime = 0, rss = 0;
	size_t n;
	FILE *f;
	int field;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	lp = strchr(buf, '(');
	rp = strrchr(buf, ')');
	if (!lp || !rp || rp < lp)
		return false;
	p->pid = pid;
	snprintf(p->comm, sizeof(p->comm), "%.*s", (int)(rp - lp - 1), lp + 1);
	/* Fields after comm: 3 state ... 14 utime 15 stime ... 24 rss. */
	s = rp + 1;
	for (field = 3; field <= 24 && *s; field++) {
		while (*s == ' ')
			s++;
		if (field == 14)
			utime = strtoull(s, NULL, 10);
		else if (field == 15)
			stime = strtoull(s, NULL, 10);
		else if (field == 24)
			rss = strtoull(s, NULL, 10);
		while (*s && *s != ' ')
			s++;
	}
	p->ticks = utime + stime;
	p->rss = rss;
	p->cpu = 0;
	return true;
}

static void read_procs(struct procs *ps)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	ps->n = 0;
	if (!d)
		return;
	while ((de = readdir(d))) {
		struct proc p;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (!read_proc(atoi(de->d_name), &p))
			continue;
		if (ps->n == ps->cap) {
			size_t cap = ps->cap ? 2 * ps->cap : 256;
			struct proc *v = realloc(ps->v, cap * sizeof(*v));

			if (!v)
				break;
			ps->v = v;
			ps->cap = cap;
		}
		ps->v[ps->n++] = p;
	}
	closedir(d);
}

static int by_pid(const void *a, const void *b)
{
	const struct proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int by_cpu(const void *a, const void *b)
{
	const struct proc *x = a, *y = b;

	return (x->cpu < y->cpu) - (x->cpu > y->cpu);
}

static int by_rss(const void *a, const void *b)
{
	const struct proc *x = a, *y = b;

	return (x->rss < y->rss) - (x->rss > y->rss);
}

static const char *size_str(unsigned long long bytes, char *buf, size_t cap)
{
	if (bytes >= (1ull << 30))
		snprintf(buf, cap, "%.1f GiB", bytes / (double)(1ull << 30));
	else if (bytes >= (1ull << 20))
		snprintf(buf, cap, "%.1f MiB", bytes / (double)(1ull << 20));
	else if (bytes >= 1024)
		snprintf(buf, cap, "%.1f KiB", bytes / 1024.0);
	else
		snprintf(buf, cap, "%llu B", bytes);
	return buf;
}

/* ---- sections ---- */

static void load_section(FILE *out)
{
	double l1, l5, l15;
	int running, total;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f && fscanf(f, "%lf %lf %lf %d/%d", &l1, &l5, &l15, &running,
			&total) == 5)
		fprintf(out, "load average: %.2f %.2f %.2f (1, 5, 15 minutes); %d of %d threads runnable\n",
			l1, l5, l15, running, total);
	else
		fprintf(out, "load average: not available\n");
	if (f)
		fclose(f);
}

static void cpu_section(FILE *out, const struct cpu_times *a,
			const struct cpu_times *b, double seconds)
{
	unsigned long long busy, all, idle;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	double pct = 0;

#define D(f) (b->f - a->f)
	idle = D(idle) + D(iowait);
	busy = D(user) + D(nice) + D(system) + D(irq) + D(softirq) + D(steal);
	all = busy + idle;
	if (all)
		pct = 100.0 * (double)busy / (double)all;
	fprintf(out, "cpu: %ld CPUs, %.1f%% busy over the last %.1f s (user %.1f%%, system %.1f%%, iowait %.1f%%, steal %.1f%%)\n",
		cpus, pct, seconds,
		all ? 100.0 * (double)(D(user) + D(nice)) / (double)all : 0.0,
		all ? 100.0 * (double)(D(system) + D(irq) + D(softirq)) / (double)all : 0.0,
		all ? 100.0 * (double)D(iowait) / (double)all : 0.0,
		all ? 100.0 * (double)D(steal) / (double)all : 0.0);
#undef D
}

static void memory_section(FILE *out)
{
	unsigned long long total = 0, avail = 0, swap_total = 0, swap_free = 0, v;
	char line[256], key[64], a[24], b[24], c[24], d[24];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f) {
		fprintf(out, "memory: not available\n");
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63[^:]: %llu", key, &v) != 2)
			continue;
		if (!strcmp(key, "MemTotal"))
			total = v * 1024;
		else if (!strcmp(key, "MemAvailable"))
			avail = v * 1024;
		else if (!strcmp(key, "SwapTotal"))
			swap_total = v * 1024;
		else if (!strcmp(key, "SwapFree"))
			swap_free = v * 1024;
	}
	fclose(f);
	fprintf(out, "memory: %s total, %s available (%.0f%%), %s in use; ",
		size_str(total, a, sizeof(a)), size_str(avail, b, sizeof(b)),
		total ? 100.0 * (double)avail / (double)total : 0.0,
		size_str(total - (avail < total ? avail : total), c, sizeof(c)));
	if (swap_total)
		fprintf(out, "swap %s total, %s in use\n",
			size_str(swap_total, a, sizeof(a)),
			size_str(swap_total - swap_free, d, sizeof(d)));
	else
		fprintf(out, "no swap\n");
}

static void top_sections(FILE *out, struct procs *first, struct procs *second,
			 double seconds)
{
	long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	size_t i, shown;
	char a[24];

	/* CPU over the sample: processes present both times. */
	qsort(first->v, first->n, sizeof(*first->v), by_pid);
	for (i = 0; i < second->n; i++) {
		struct proc *p = &second->v[i];
		struct proc *old = first->n ? bsearch(p, first->v, first->n,
						      sizeof(*p), by_pid) : NULL;

		if (old && p->ticks >= old->ticks && hz > 0 && seconds > 0)
			p->cpu = 100.0 * (double)(p->ticks - old->ticks) /
				 ((double)hz * seconds);
	}
	fprintf(out, "top processes by CPU (over the last %.1f s; 100%% = one CPU):\n",
		seconds);
	if (second->n)
		qsort(second->v, second->n, sizeof(*second->v), by_cpu);
	for (i = shown = 0; i < second->n && shown < TOP_N; i++) {
		const struct proc *p = &second->v[i];

		if (p->cpu <= 0)
			break;
		fprintf(out, "  %-16s pid %-7d %5.1f%% CPU  %s resident\n", p->comm,
			p->pid, p->cpu,
			size_str(p->rss * (unsigned long long)page, a, sizeof(a)));
		shown++;
	}
	if (!shown)
		fprintf(out, "  (no process used the CPU measurably)\n");
	fprintf(out, "top processes by memory (resident):\n");
	if (second->n)
		qsort(second->v, second->n, sizeof(*second->v), by_rss);
	for (i = 0; i < second->n && i < TOP_N && second->v[i].rss; i++) {
		const struct proc *p = &second->v[i];

		fprintf(out, "  %-16s pid %-7d %s resident  %5.1f%% CPU\n", p->comm,
			p->pid, size_str(p->rss * (unsigned long long)page, a, sizeof(a)),
			p->cpu);
	}
	if (i == 0)
		fprintf(out, "  (none readable)\n");
}

static void disk_line(FILE *out, const char *path)
{
	struct statvfs vfs;
	char a[24], b[24];
	unsigned long long total, avail;

	if (statvfs(path, &vfs)) {
		fprintf(out, "  %-6s not available\n", path);
		return;
	}
	total = (unsigned long long)vfs.f_blocks * vfs.f_frsize;
	avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
	fprintf(out, "  %-6s %s total, %s free (%.0f%%)\n", path,
		size_str(total, a, sizeof(a)), size_str(avail, b, sizeof(b)),
		total ? 100.0 * (double)avail / (double)total : 0.0);
}

static void disk_section(FILE *out)
{
	struct stat root, home;

	fprintf(out, "disk space:\n");
	disk_line(out, "/");
	if (stat("/home", &home))
		return;
	if (!stat("/", &root) && root.st_dev == home.st_dev)
		fprintf(out, "  /home  on the same file system as /\n");
	else
		disk_line(out, "/home");
}

static void pressure_section(FILE *out)
{
	static const char *const what[] = { "cpu", "memory", "io" };
	bool any = false;
	size_t i;

	for (i = 0; i < 3; i++) {
		char path[64], line[256], kind[8];
		double a10, a60, a300;
		int n;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/pressure/%s", what[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!any)
			fprintf(out, "pressure (share of time tasks waited for the resource, over 10 s / 60 s / 300 s):\n");
		any = true;
		fprintf(out, "  %-7s", what[i]);
		n = 0;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "%7s avg10=%lf avg60=%lf avg300=%lf", kind,
				   &a10, &a60, &a300) == 4)
				fprintf(out, "%s %s %.2f%% / %.2f%% / %.2f%%",
					n++ ? "," : "", kind, a10, a60, a300);
		fprintf(out, "\n");
		fclose(f);
	}
	if (!any)
		fprintf(out, "pressure: not available (kernel without PSI)\n");
}

char *cli_collect_facts(void)
{
	struct procs first = { 0 }, second = { 0 };
	struct cpu_times c0, c1;
	struct timespec ts = { 0, SAMPLE_NS };
	bool have_cpu;
	double t0, seconds;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	out = open_memstream(&buf, &len);
	if (!out)
		return NULL;
	have_cpu = read_cpu(&c0);
	read_procs(&first);
	t0 = now_s();
	nanosleep(&ts, NULL);
	have_cpu = read_cpu(&c1) && have_cpu;
	read_procs(&second);
	seconds = now_s() - t0;

	load_section(out);
	if (have_cpu)
		cpu_section(out, &c0, &c1, seconds);
	else
		fprintf(out, "cpu: %ld CPUs, use not available\n",
			sysconf(_SC_NPROCESSORS_ONLN));
	memory_section(out);
	top_sections(out, &first, &second, seconds);
	disk_section(out);
	pressure_section(out);
	free(first.v);
	free(second.v);
	if (fclose(out)) {
		free(buf);
		return NULL;
	}
	return buf;
}
