// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * `llamux status`: with nothing set up it still works and says what is
 * missing; a model's memory estimate (file + KV cache); the kernel module
 * (a fake /proc/llamux/status under LLAMUX_SYSROOT), the daemon's socket
 * (running, stale), the last run's speeds, CPU features against
 * /proc/cpuinfo, --json as one object, usage errors; and `--facts`, the
 * system facts for questions: every section there, numbers plausible.
 */
#include <math.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "llamux/llamux.h"
#include "testlib.h"

#define STORIES "../shared/models/stories260K.gguf"

static const char *bin;
static char tmp[256];

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static int llamux(const char *const *args, char **out, char **err)
{
	char *argv[32] = { (char *)bin };
	int i;

	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = (char *)args[i];
	return tl_run(argv, out, NULL, err);
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void expect(int code, const char *want_err, const char *want_out,
		   const char *const *args)
{
	char *out = NULL, *err = NULL;
	int rc = llamux(args, &out, &err);

	CHECK(rc == code, "status %s: exit %d, expected %d: %s", args[1] ? args[1] : "",
	      rc, code, err);
	if (want_err)
		CHECK(strstr(err, want_err) && lines(err) <= 2,
		      "stderr lacks '%s': %s", want_err, err);
	if (want_out)
		CHECK(strstr(out, want_out), "stdout lacks '%s': %s", want_out, out);
	free(out);
	free(err);
}

/* Runs `llamux ARGS`, expecting success and nothing on stderr. */
static char *ok(const char *const *args)
{
	char *out = NULL, *err = NULL;
	int rc = llamux(args, &out, &err);

	CHECK(rc == 0 && !err[0], "%s %s: exit %d: %s", args[0], args[1] ? args[1] : "",
	      rc, err);
	free(err);
	return out;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL, "cannot write %s", path);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void mkdirs(const char *dir)
{
	char p[512], *s;

	snprintf(p, sizeof(p), "%s", dir);
	for (s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	mkdir(p, 0755);
}

static bool cpuinfo_has(const char *flag)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[8192], want[64];
	bool has = false;

	if (!f)
		return false;
	snprintf(want, sizeof(want), " %s", flag);
	while (fgets(line, sizeof(line), f)) {
		char *p;

		if (strncmp(line, "flags", 5))
			continue;
		for (p = strstr(line, want); p; p = strstr(p + 1, want))
			if (p[strlen(want)] == ' ' || p[strlen(want)] == '\n')
				has = true;
		break;
	}
	fclose(f);
	return has;
}

static void test_usage(void)
{
	expect(2, "unknown option '--bogus'", NULL, ARGS("status", "--bogus"));
	expect(2, "usage: llamux status", NULL, ARGS("status", "--bogus"));
	expect(2, "unexpected argument 'extra'", NULL, ARGS("status", "extra"));
	expect(2, "-m needs a value", NULL, ARGS("status", "-m"));
	expect(2, "--facts goes alone", NULL, ARGS("status", "--facts", "--json"));
	expect(0, NULL, "--json", ARGS("help", "status"));
}

static void test_nothing(void)
{
	char *out = ok(ARGS("status")), *s = NULL, want[64];
	double n;

	snprintf(want, sizeof(want), "llamux %s\n", llamux_version());
	CHECK(strstr(out, want) == out, "no version line: %s", out);
	CHECK(strstr(out, "  kernel module   not loaded (no ") &&
	      strstr(out, "'sudo modprobe llamux' loads it"), "kernel: %s", out);
	CHECK(strstr(out, "  daemon          not running (no socket at ") &&
	      strstr(out, "/run/llamux/llamuxd.sock"), "daemon: %s", out);
	CHECK(strstr(out, "  active          none: no model: run 'llamux model pull tinyllama' or give -m PATH"),
	      "model: %s", out);
	CHECK(strstr(out, "  simd level      "), "simd: %s", out);
	CHECK(strstr(out, "  none recorded yet"), "last run: %s", out);
	free(out);

	out = ok(ARGS("status", "--json"));
	CHECK(out[0] == '{' && lines(out) == 1 && !strcmp(out + strlen(out) - 2, "}\n"),
	      "not one JSON object: %s", out);
	CHECK(tl_json_string(out, "version", &s) && !strcmp(s, llamux_version()),
	      "version: %s", out);
	free(s);
	CHECK(strstr(out, "\"kernel\":{\"loaded\":false}") &&
	      strstr(out, "\"daemon\":{\"running\":false,\"socket\":null}") &&
	      strstr(out, "\"model\":{\"active\":false,\"error\":\"no model: run") &&
	      strstr(out, "\"last_run\":null}"), "empty JSON: %s", out);
	CHECK(tl_json_number(out, "count", &n) && n == (double)sysconf(_SC_NPROCESSORS_ONLN),
	      "cpu count: %s", out);
	CHECK(!strstr(out, "\"avx2\"") == !cpuinfo_has("avx2") &&
	      !strstr(out, "\"avx512f\"") == !cpuinfo_has("avx512f") &&
	      !strstr(out, "\"fma\"") == !cpuinfo_has("fma"), "flags vs /proc/cpuinfo: %s", out);
	CHECK(strstr(out, "\"simd\":\"scalar\"") || strstr(out, "\"simd\":\"avx2\"") ||
	      strstr(out, "\"simd\":\"avx512\"") ||
	      strstr(out, "\"simd\":\"avx512vnni\""), "simd: %s", out);
	CHECK(!strstr(out, "\"simd\":\"avx512vnni\"") == !cpuinfo_has("avx512_vnni"),
	      "simd vs avx512_vnni in /proc/cpuinfo: %s", out);
	if (!cpuinfo_has("avx2"))
		CHECK(strstr(out, "\"simd\":\"scalar\""), "no avx2 but simd: %s", out);
	free(out);

	setenv("LLAMUX_CPU", "scalar", 1);
	out = ok(ARGS("status"));
	CHECK(strstr(out, "  simd level      scalar (LLAMUX_CPU=scalar)"), "override: %s", out);
	free(out);
	out = ok(ARGS("status", "--json"));
	CHECK(strstr(out, "\"simd\":\"scalar\""), "override in JSON: %s", out);
	free(out);
	unsetenv("LLAMUX_CPU");
}

static void test_model(void)
{
	char err[LLAMUX_ERR_MAX], want[256], config[512], *out;
	struct llamux_model *m = llamux_model_load(STORIES, 0, err);
	struct llamux_model_info in;
	unsigned long long kv, n_ctx;
	struct stat st;
	double v;

	CHECK(m != NULL, "%s: %s", STORIES, err);
	if (!m)
		return;
	llamux_model_get_info(m, &in);
	llamux_model_free(m);
	n_ctx = in.n_ctx_train && in.n_ctx_train < 4096 ? in.n_ctx_train : 4096;
	kv = (unsigned long long)in.n_layer * n_ctx * in.n_head_kv * in.head_dim * 4;
	stat(STORIES, &st);

	out = ok(ARGS("status", "-m", STORIES));
	CHECK(strstr(out, "  active          stories260k (from -m)") &&
	      strstr(out, "  file            " STORIES " (1.1 MiB, F32, llama)"),
	      "model: %s", out);
	snprintf(want, sizeof(want), " for %llu tokens\n", n_ctx);
	CHECK(strstr(out, "  memory          ") && strstr(out, want) &&
	      strstr(out, "the file 1.1 MiB + KV cache"), "memory: %s", out);
	free(out);
	out = ok(ARGS("status", "-m", STORIES, "--json"));
	CHECK(tl_json_number(out, "kv_cache_bytes", &v) && v == (double)kv,
	      "KV cache: expected %llu: %s", kv, out);
	CHECK(tl_json_number(out, "memory_bytes", &v) && v == (double)(kv + (unsigned long long)st.st_size),
	      "memory: %s", out);
	CHECK(tl_json_number(out, "n_ctx", &v) && v == (double)n_ctx, "n_ctx: %s", out);
	CHECK(strstr(out, "\"type\":\"F32\",\"architecture\":\"llama\"") &&
	      strstr(out, "\"source\":\"-m\""), "JSON model: %s", out);
	free(out);

	/* Not a model, and a configured model that is gone: still exit 0. */
	out = ok(ARGS("status", "-m", "README.md"));
	CHECK(strstr(out, "  memory          unknown: the model cannot be loaded: ") &&
	      strstr(out, "not a GGUF file"), "bad model: %s", out);
	free(out);
	out = ok(ARGS("status", "-m", "README.md", "--json"));
	CHECK(strstr(out, "\"active\":true") && strstr(out, "\"error\":\"") &&
	      !strstr(out, "kv_cache_bytes"), "bad model JSON: %s", out);
	free(out);
	if (geteuid() == 0)
		snprintf(config, sizeof(config), "%s/sys/etc/llamux", tmp);
	else
		snprintf(config, sizeof(config), "%s/config/llamux", tmp);
	mkdirs(config);
	strcat(config, geteuid() == 0 ? "/llamux.conf" : "/config");
	write_file(config, "model = gone\n");
	out = ok(ARGS("status"));
	CHECK(strstr(out, "  active          none: no model named 'gone' (the active model in "),
	      "gone: %s", out);
	free(out);
	unlink(config);
}

static void test_kernel(void)
{
	char dir[512], path[600], *out;

	snprintf(dir, sizeof(dir), "%s/sys/proc/llamux", tmp);
	mkdirs(dir);
	snprintf(path, sizeof(path), "%s/status", dir);
	write_file(path, "state: ready\nmodel_file: tiny.gguf\nmodel_name: tiny\n"
			 "architecture: llama\ntensor_types: Q4_0\nvocab_size: 32000\n"
			 "simd: avx2\nsessions_open: 1\nlast_prompt_tokens_per_s: 123\n"
			 "last_generate_tokens_per_s: 45\nlast_error: none\n");
	out = ok(ARGS("status"));
	CHECK(strstr(out, "  kernel module   loaded: state ready, model tiny.gguf, simd avx2, last speeds: prompt 123 t/s, generation 45 t/s\n"),
	      "kernel: %s", out);
	free(out);
	out = ok(ARGS("status", "--json"));
	CHECK(strstr(out, "\"kernel\":{\"loaded\":true,\"state\":\"ready\",\"model_file\":\"tiny.gguf\",\"architecture\":\"llama\",\"simd\":\"avx2\",\"prompt_tokens_per_s\":123,\"generate_tokens_per_s\":45"),
	      "kernel JSON: %s", out);
	free(out);
	unlink(path);
}

static void test_daemon(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[512], want[600], *out;
	int fd;

	snprintf(dir, sizeof(dir), "%s/run/llamux", tmp);
	mkdirs(dir);
	CHECK(strlen(dir) + 15 < sizeof(sa.sun_path), "socket path too long: %s", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.80s/llamuxd.sock", dir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)) && !listen(fd, 4),
	      "cannot listen on %s", sa.sun_path);
	snprintf(want, sizeof(want), "  daemon          running (%s)\n", sa.sun_path);
	out = ok(ARGS("status"));
	CHECK(strstr(out, want), "daemon running: %s", out);
	free(out);
	out = ok(ARGS("status", "--json"));
	CHECK(strstr(out, "\"daemon\":{\"running\":true,\"socket\":\""), "daemon JSON: %s", out);
	free(out);
	close(fd);
	out = ok(ARGS("status"));
	CHECK(strstr(out, "  daemon          not running (stale socket "), "stale: %s", out);
	free(out);
	unlink(sa.sun_path);
}

static void test_last_run(void)
{
	char *out = NULL, *err = NULL, *real = realpath(STORIES, NULL), want[600];
	double v;
	int rc;

	rc = llamux(ARGS("run", "-m", STORIES, "-p", "Once upon a time", "-n", "8",
			 "--temp", "0"), &out, &err);
	CHECK(rc == 0, "run: exit %d: %s", rc, err);
	free(out);
	free(err);
	out = ok(ARGS("status"));
	snprintf(want, sizeof(want), "  model           %s\n", real ? real : STORIES);
	CHECK(strstr(out, "\nlast run:\n  prompt          ") &&
	      strstr(out, " tokens)\n  generation      ") &&
	      strstr(out, " t/s (8 tokens)\n") && strstr(out, want) &&
	      strstr(out, "  when            "), "last run: %s", out);
	free(out);
	out = ok(ARGS("status", "--json"));
	CHECK(tl_json_number(out, "generated_tokens", &v) && v == 8, "JSON run: %s", out);
	CHECK(tl_json_number(out, "generate_tokens_per_s", &v) && v > 0, "JSON t/s: %s", out);
	CHECK(tl_json_number(out, "time", &v) && fabs(v - (double)time(NULL)) < 600,
	      "JSON time: %s", out);
	free(out);
	free(real);
}

static unsigned long long meminfo_total(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long long kb = 0;

	if (f) {
		if (fscanf(f, "MemTotal: %llu kB", &kb) != 1)
			kb = 0;
		fclose(f);
	}
	return kb * 1024;
}

static double to_bytes(double v, const char *unit)
{
	if (!strcmp(unit, "GiB"))
		return v * (1ull << 30);
	if (!strcmp(unit, "MiB"))
		return v * (1ull << 20);
	if (!strcmp(unit, "KiB"))
		return v * 1024;
	return v;
}

static void test_facts(void)
{
	struct timespec t0, t1;
	double l1, l5, l15, busy, total, secs;
	char unit[8], want[64], *out, *p;
	int cpus;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	out = ok(ARGS("status", "--facts"));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	CHECK(secs >= 0.19 && secs < 10, "--facts took %.2f s", secs);

	CHECK(sscanf(out, "load average: %lf %lf %lf (1, 5, 15 minutes)", &l1, &l5, &l15) == 3 &&
	      l1 >= 0 && l5 >= 0 && l15 >= 0, "load: %s", out);
	p = strstr(out, "\ncpu: ");
	CHECK(p && sscanf(p, "\ncpu: %d CPUs, %lf%% busy", &cpus, &busy) == 2 &&
	      cpus == sysconf(_SC_NPROCESSORS_ONLN) && busy >= 0 && busy <= 100,
	      "cpu: %s", out);
	p = strstr(out, "\nmemory: ");
	CHECK(p && sscanf(p, "\nmemory: %lf %7s total", &total, unit) == 2 &&
	      fabs(to_bytes(total, unit) - (double)meminfo_total()) <
	      0.01 * (double)meminfo_total() + (1 << 20), "memory: %s", out);
	CHECK(strstr(out, " available (") && (strstr(out, "; swap ") || strstr(out, "; no swap\n")),
	      "memory line: %s", out);
	CHECK(strstr(out, "\ntop processes by CPU (over the last 0."), "top CPU: %s", out);
	p = strstr(out, "\ntop processes by memory (resident):\n  ");
	CHECK(p && strstr(p, " pid ") && strstr(p, " resident"), "top memory: %s", out);
	CHECK(strstr(out, "\ndisk space:\n  /      ") && strstr(out, " total, ") &&
	      strstr(out, " free ("), "disk: %s", out);
	if (access("/home", F_OK) == 0)
		CHECK(strstr(out, "\n  /home  "), "no /home line: %s", out);
	if (access("/proc/pressure/cpu", R_OK) == 0) {
		snprintf(want, sizeof(want), "\n  cpu     some ");
		CHECK(strstr(out, "\npressure (") && strstr(out, want), "pressure: %s", out);
	} else {
		CHECK(strstr(out, "\npressure: not available"), "pressure: %s", out);
	}
	free(out);
}

int main(int argc, char **argv)
{
	char dir[600];

	if (argc < 2)
		return 2;
	bin = argv[1];
	snprintf(tmp, sizeof(tmp), "/tmp/llamux-status-test-XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	snprintf(dir, sizeof(dir), "%s/home", tmp);
	setenv("HOME", dir, 1);
	snprintf(dir, sizeof(dir), "%s/data", tmp);
	setenv("XDG_DATA_HOME", dir, 1);
	snprintf(dir, sizeof(dir), "%s/config", tmp);
	setenv("XDG_CONFIG_HOME", dir, 1);
	snprintf(dir, sizeof(dir), "%s/state", tmp);
	setenv("XDG_STATE_HOME", dir, 1);
	snprintf(dir, sizeof(dir), "%s/run", tmp);
	setenv("XDG_RUNTIME_DIR", dir, 1);
	snprintf(dir, sizeof(dir), "%s/sys", tmp);
	setenv("LLAMUX_SYSROOT", dir, 1);
	unsetenv("LLAMUX_MODEL");
	unsetenv("LLAMUX_CPU");
	unsetenv("LLAMUX_CATALOGUE_FILE");

	test_usage();
	test_nothing();
	test_model();
	test_kernel();
	test_daemon();
	test_last_run();
	test_facts();

	if (!tl_failures) {
		char *rm[] = { "/bin/rm", "-rf", tmp, NULL };

		tl_run(rm, NULL, NULL, NULL);
	} else {
		fprintf(stderr, "files kept in %s\n", tmp);
	}
	return tl_finish("clitest_status");
}
