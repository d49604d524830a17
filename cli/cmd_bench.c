// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * llamux bench: prompt processing (ppN) and generation (tgN) speed, measured
 * the way llama.cpp's llama-bench does it so the numbers compare directly:
 * per test a fresh context, one warmup run, then R timed runs (model load
 * excluded), reported as mean +- sample standard deviation of tokens/s, in
 * llama-bench's markdown table, JSON or CSV. Also, on stderr, the time from
 * starting to decode a short prompt to having the logits of the first
 * generated token, and the process's peak RSS.
 */
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
/* Core headers last: base.h turns memcpy and friends into macros. */
#include "kernels.h"
#include "platform.h"

#define MAX_LIST 64
#define MAX_MODELS 64
#define MAX_VALUE (1L << 20)	/* largest -p / -n */
#define DEFAULT_N_PROMPT 512
#define DEFAULT_N_GEN 128
#define DEFAULT_REPS 5
#define DEFAULT_FIRST_TOKEN 16
#define BENCH_N_BATCH 512
#define KV_PAD 32		/* llama.cpp pads n_ctx to 32 without flash attn */

enum out_fmt { OUT_MD, OUT_JSON, OUT_CSV };

struct long_list {
	long v[MAX_LIST];
	int n;
	bool given;		/* the first -X replaces the default */
};

struct bench_opts {
	const char *models[MAX_MODELS];
	int n_models;
	struct long_list n_prompt, n_gen, threads;
	struct long_list mmap;	/* 1: map the model, 0: read it in */
	long reps;
	long first_token;	/* prompt tokens; 0: not measured */
	enum out_fmt fmt;
	enum llamux_kv_type kv_type;
	bool progress;		/* one line per step even off a terminal */
};

/* What the output says about a model, computed once after loading it. */
struct model_desc {
	const char *path;
	char type[128];		/* llama.cpp's description: "llama 1B Q4_0" */
	uint64_t size;		/* tensor bytes */
	uint64_t n_params;
	uint64_t bytes_per_token; /* weights a generated token reads */
	int32_t n_vocab;
	int32_t bos;		/* -1 when the vocabulary adds none */
};

struct test {
	const struct model_desc *md;
	long n_prompt, n_gen, n_threads;
	bool use_mmap;
	char time[32];		/* RFC 3339, when the test started */
	uint64_t *samples_ns;
	long n_samples;
};

/* Shared by every test of the run. */
static struct {
	const struct bench_opts *o;
	char cpu_info[256];
	char backend[64];	/* "CPU (avx512)" */
	const char *level;	/* "avx512" */
	uint64_t rng;
	int test_index, n_tests;
	bool tty, progress_shown, first_row, header_done;
	bool show_mmap;		/* an mmap column: --mmap is not just 1 */
} B;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* llama-bench uses rand(); any fixed sequence will do. */
static int32_t random_token(int32_t n_vocab)
{
	B.rng ^= B.rng << 13;
	B.rng ^= B.rng >> 7;
	B.rng ^= B.rng << 17;
	return (int32_t)(B.rng % (uint64_t)n_vocab);
}

static uint32_t padded_ctx(long n)
{
	return (uint32_t)((n + KV_PAD - 1) / KV_PAD * KV_PAD);
}

/* ---- options ---- */

/* "1,2,4" appended to list; every entry in [min, max]. */
static bool parse_list(const char *opt, const char *s, long min, long max,
		       struct long_list *list)
{
	char item[64];
	const char *p = s;

	if (!list->given) {
		list->n = 0;
		list->given = true;
	}
	for (;;) {
		size_t len = strcspn(p, ",");

		if (len >= sizeof(item)) {
			cli_usage_error(&cmd_bench, "%s expects whole numbers like 1,2; got '%s'",
					opt, s);
			return false;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		if (list->n == MAX_LIST) {
			cli_usage_error(&cmd_bench, "%s: at most %d values", opt,
					MAX_LIST);
			return false;
		}
		if (!parse_long(&cmd_bench, opt, item, min, max,
				&list->v[list->n]))
			return false;
		list->n++;
		if (!p[len])
			return true;
		p += len + 1;
	}
}

/* Cores, not hardware threads, among the CPUs this process may run on. */
static long physical_cores(void)
{
	static long long seen[CPU_SETSIZE];
	long n_seen = 0, n_cpus = 0;
	cpu_set_t set;
	int cpu;

	if (sched_getaffinity(0, sizeof(set), &set) != 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		return n > 0 ? n : 1;
	}
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		long long core = -1, pkg = -1, key;
		char path[96];
		FILE *f;
		long i;

		if (!CPU_ISSET(cpu, &set))
			continue;
		n_cpus++;
		snprintf(path, sizeof(path),
			 "/sys/devices/system/cpu/cpu%d/topology/core_id", cpu);
		f = fopen(path, "r");
		if (f) {
			if (fscanf(f, "%lld", &core) != 1)
				core = -1;
			fclose(f);
		}
		snprintf(path, sizeof(path),
			 "/sys/devices/system/cpu/cpu%d/topology/physical_package_id",
			 cpu);
		f = fopen(path, "r");
		if (f) {
			if (fscanf(f, "%lld", &pkg) != 1)
				pkg = -1;
			fclose(f);
		}
		if (core < 0 || pkg < 0)
			n_seen = -1;	/* no topology: count CPUs */
		if (n_seen < 0)
			continue;
		key = pkg << 32 | (core & 0xffffffffll);
		for (i = 0; i < n_seen && seen[i] != key; i++)
			;
		if (i == n_seen)
			seen[n_seen++] = key;
	}
	if (n_seen > 0)
		return n_seen;
	return n_cpus > 0 ? n_cpus : 1;
}

static bool parse_args(int argc, char **argv, struct bench_opts *o)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "n-prompt", required_argument, NULL, 'p' },
		{ "n-gen", required_argument, NULL, 'n' },
		{ "threads", required_argument, NULL, 't' },
		{ "repetitions", required_argument, NULL, 'r' },
		{ "output", required_argument, NULL, 'o' },
		{ "first-token", optional_argument, NULL, 'F' },
		{ "kv-type", required_argument, NULL, 'k' },
		{ "progress", no_argument, NULL, 'P' },
		{ "mmap", required_argument, NULL, 'x' },
		{ "no-mmap", no_argument, NULL, 'X' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *c = &cmd_bench;
	long max_threads = (long)lx_host_max_threads();
	int opt, i;

	/* llama-bench spells it -mmp. */
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-mmp"))
			argv[i] = "--mmap";
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":m:p:n:t:r:o:", opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			if (o->n_models == MAX_MODELS) {
				cli_usage_error(c, "at most %d models", MAX_MODELS);
				return false;
			}
			o->models[o->n_models++] = optarg;
			break;
		case 'p':
			if (!parse_list("-p", optarg, 0, MAX_VALUE, &o->n_prompt))
				return false;
			break;
		case 'n':
			if (!parse_list("-n", optarg, 0, MAX_VALUE, &o->n_gen))
				return false;
			break;
		case 't':
			if (!parse_list("-t", optarg, 1, 1024, &o->threads))
				return false;
			break;
		case 'r':
			if (!parse_long(c, "-r", optarg, 1, 1000, &o->reps))
				return false;
			break;
		case 'o':
			if (!strcmp(optarg, "md")) {
				o->fmt = OUT_MD;
			} else if (!strcmp(optarg, "json")) {
				o->fmt = OUT_JSON;
			} else if (!strcmp(optarg, "csv")) {
				o->fmt = OUT_CSV;
			} else {
				cli_usage_error(c, "-o must be md, json or csv, got '%s'",
						optarg);
				return false;
			}
			break;
		case 'F':
			o->first_token = DEFAULT_FIRST_TOKEN;
			if (optarg && !parse_long(c, "--first-token", optarg, 0,
						  4096, &o->first_token))
				return false;
			break;
		case 'k':
			if (!parse_kv_type(c, optarg, &o->kv_type))
				return false;
			break;
		case 'P':
			o->progress = true;
			break;
		case 'x':
			if (!parse_list("--mmap", optarg, 0, 1, &o->mmap))
				return false;
			break;
		case 'X':
			o->mmap = (struct long_list){ { 0 }, 1, true };
			break;
		case ':':
			cli_usage_error(c, "%s needs a value", argv[optind - 1]);
			return false;
		default:
			cli_usage_error(c, "unknown option '%s'", argv[optind - 1]);
			return false;
		}
	}
	if (optind < argc) {
		cli_usage_error(c, "unexpected argument '%s'", argv[optind]);
		return false;
	}
	if (!o->n_models) {
		cli_usage_error(c, "missing -m MODEL");
		return false;
	}
	for (i = 0; i < o->threads.n; i++) {
		if (o->threads.v[i] > max_threads) {
			cli_usage_error(c, "-t %ld: this machine runs at most %ld threads (LLAMUX_MAX_THREADS raises it)",
					o->threads.v[i], max_threads);
			return false;
		}
	}
	if (!o->threads.n) {
		o->threads.v[0] = physical_cores();
		if (o->threads.v[0] > max_threads)
			o->threads.v[0] = max_threads;
		o->threads.n = 1;
	}
	return true;
}

/* ---- what the output says about the machine and the model ---- */

static void read_cpu_info(char *out, size_t cap)
{
	char line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(out, cap, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !v)
			continue;
		v++;
		v += strspn(v, " \t");
		v[strcspn(v, "\n")] = '\0';
		snprintf(out, cap, "%s", v);
		break;
	}
	fclose(f);
}

/* llama.cpp's llama_model_ftype_name() for general.file_type values. */
static const char *ftype_name(long ftype)
{
	switch (ftype) {
	case 0: return "all F32";
	case 1: return "F16";
	case 2: return "Q4_0";
	case 3: return "Q4_1";
	case 7: return "Q8_0";
	case 8: return "Q5_0";
	case 9: return "Q5_1";
	case 10: return "Q2_K - Medium";
	case 11: return "Q3_K - Small";
	case 12: return "Q3_K - Medium";
	case 13: return "Q3_K - Large";
	case 14: return "Q4_K - Small";
	case 15: return "Q4_K - Medium";
	case 16: return "Q5_K - Small";
	case 17: return "Q5_K - Medium";
	case 18: return "Q6_K";
	case 21: return "Q2_K - Small";
	case 32: return "BF16";
	default: return NULL;
	}
}

/* Without general.file_type llama.cpp guesses from the most common type. */
static const char *guessed_ftype_name(const char *tensor_type)
{
	static const char *const map[][2] = {
		{ "F32", "all F32" }, { "Q2_K", "Q2_K - Medium" },
		{ "Q3_K", "Q3_K - Medium" }, { "Q4_K", "Q4_K - Medium" },
		{ "Q5_K", "Q5_K - Medium" },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i][0], tensor_type))
			return map[i][1];
	return tensor_type;
}

/* llama.cpp's size label, from the layer count (llama architecture). */
static const char *size_label(const struct llamux_model_info *in)
{
	if (strcmp(in->arch, "llama"))
		return "?B";
	switch (in->n_layer) {
	case 16:
	case 22:
		return "1B";
	case 26:
	case 28:
		return "3B";
	case 32:
		return in->n_vocab == 49152 ? "3B" :
		       in->n_vocab < 40000 ? "7B" : "8B";
	case 36:
		return "8B";
	case 40:
		return "13B";
	case 48:
		return "34B";
	case 60:
		return "30B";
	case 80:
		return in->n_head == in->n_head_kv ? "65B" : "70B";
	default:
		return "?B";
	}
}

static void describe_model(const struct llamux_model *m, const char *path,
			   struct model_desc *md)
{
	struct llamux_model_info in;
	struct llamux_tensor_info t;
	uint64_t i, n = llamux_model_n_tensors(m), embd = 0, embd_row = 0;
	const char *types[64];
	uint64_t counts[64];
	const char *ftype = NULL;
	bool have_output = false, guessed = false;
	size_t n_types = 0, j, best = 0;
	char value[64];

	llamux_model_get_info(m, &in);
	md->path = path;
	md->size = in.n_bytes;
	md->n_params = in.n_params;
	md->n_vocab = llamux_n_vocab(m);
	md->bos = in.add_bos ? in.bos : -1;

	for (i = 0; i < llamux_model_n_meta(m); i++) {
		const char *key;
		size_t key_len;

		if (!llamux_model_meta(m, i, &key, &key_len, value, sizeof(value)))
			continue;
		if (key_len == 17 && !memcmp(key, "general.file_type", 17)) {
			char *end;
			long v = strtol(value, &end, 10);

			ftype = end != value && !*end ? ftype_name(v) : NULL;
		}
	}

	/*
	 * A generated token reads every weight once, except the embedding
	 * table (one row) unless it doubles as the output matrix.
	 */
	md->bytes_per_token = 0;
	for (i = 0; i < n; i++) {
		if (!llamux_model_tensor(m, i, &t))
			continue;
		md->bytes_per_token += t.size;
		if (t.name_len == 17 && !memcmp(t.name, "token_embd.weight", 17)) {
			embd = t.size;
			embd_row = t.n_dims > 1 && t.ne[1] ? t.size / t.ne[1] : t.size;
		}
		if (t.name_len == 13 && !memcmp(t.name, "output.weight", 13))
			have_output = true;
		for (j = 0; j < n_types && strcmp(types[j], t.type); j++)
			;
		if (j == n_types && n_types < 64) {
			types[n_types] = t.type;
			counts[n_types++] = 0;
		}
		if (j < n_types && ++counts[j] > counts[best])
			best = j;
	}
	if (have_output)
		md->bytes_per_token -= embd - embd_row;
	if (!ftype) {
		ftype = n_types ? guessed_ftype_name(types[best]) : "unknown";
		guessed = true;
	}
	snprintf(md->type, sizeof(md->type), "%s %s %s%s", in.arch,
		 size_label(&in), ftype, guessed ? " (guessed)" : "");
}

/* ---- statistics, as llama-bench computes them ---- */

static double mean(const double *v, long n)
{
	double s = 0;
	long i;

	for (i = 0; i < n; i++)
		s += v[i];
	return n ? s / n : 0;
}

/* Sample standard deviation (n - 1), 0 for a single sample. */
static double stdev(const double *v, long n)
{
	double m = mean(v, n), s = 0;
	long i;

	if (n <= 1)
		return 0;
	for (i = 0; i < n; i++)
		s += (v[i] - m) * (v[i] - m);
	return sqrt(s / (n - 1));
}

struct stats {
	double avg_ns, sd_ns, avg_ts, sd_ts;
	double *ns, *ts;	/* per sample */
};

static bool test_stats(const struct test *t, struct stats *s)
{
	long i, n_tok = t->n_prompt + t->n_gen;

	s->ns = malloc((size_t)t->n_samples * sizeof(double));
	s->ts = malloc((size_t)t->n_samples * sizeof(double));
	if (!s->ns || !s->ts) {
		free(s->ns);
		free(s->ts);
		return false;
	}
	for (i = 0; i < t->n_samples; i++) {
		s->ns[i] = (double)t->samples_ns[i];
		s->ts[i] = 1e9 * n_tok / (double)(t->samples_ns[i] ? t->samples_ns[i] : 1);
	}
	s->avg_ns = mean(s->ns, t->n_samples);
	s->sd_ns = stdev(s->ns, t->n_samples);
	s->avg_ts = mean(s->ts, t->n_samples);
	s->sd_ts = stdev(s->ts, t->n_samples);
	return true;
}

/* ---- output ---- */

static void json_string(const char *s)
{
	/* Bytes that are not UTF-8 (a file name, say) pass as Latin-1. */
	bool utf8 = lx_utf8_valid(s, strlen(s));

	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f || (ch >= 0x80 && !utf8))
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void csv_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static const char *kv_name(void)
{
	return B.o->kv_type == LLAMUX_KV_F32 ? "f32" : "f16";
}

/* One field of a JSON object or CSV row: name, then text or a number. */
static void field(const char *name, const char *text, const char *num)
{
	if (B.o->fmt == OUT_JSON) {
		printf("    \"%s\": ", name);
		if (text)
			json_string(text);
		else
			fputs(num, stdout);
		fputs(",\n", stdout);
	} else {
		if (!B.first_row)
			putchar(',');
		B.first_row = false;
		csv_string(text ? text : num);
	}
}

static void field_u64(const char *name, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	field(name, NULL, buf);
}

static void field_f(const char *name, double v)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.6f", v);
	field(name, NULL, buf);
}

/* Field names in llama-bench's order; the last two are llamux's own. */
static const char *const csv_fields[] = {
	"build_commit", "cpu_info", "gpu_info", "backends", "model_filename",
	"model_type", "model_size", "model_n_params", "n_batch", "n_ubatch",
	"n_threads", "type_k", "type_v", "use_mmap", "n_prompt", "n_gen",
	"test_time", "avg_ns", "stddev_ns", "avg_ts", "stddev_ts",
	"cpu_level", "model_bytes_per_token",
};

static void print_fields(const struct test *t, const struct stats *s)
{
	const struct model_desc *md = t->md;

	field("build_commit", llamux_version(), NULL);
	field("cpu_info", B.cpu_info, NULL);
	field("gpu_info", "", NULL);
	field("backends", "CPU", NULL);
	field("model_filename", md->path, NULL);
	field("model_type", md->type, NULL);
	field_u64("model_size", md->size);
	field_u64("model_n_params", md->n_params);
	field_u64("n_batch", BENCH_N_BATCH);
	field_u64("n_ubatch", BENCH_N_BATCH);
	field_u64("n_threads", (uint64_t)t->n_threads);
	field("type_k", kv_name(), NULL);
	field("type_v", kv_name(), NULL);
	field("use_mmap", NULL, B.o->fmt == OUT_JSON ?
	      (t->use_mmap ? "true" : "false") : (t->use_mmap ? "1" : "0"));
	field_u64("n_prompt", (uint64_t)t->n_prompt);
	field_u64("n_gen", (uint64_t)t->n_gen);
	field("test_time", t->time, NULL);
	field_u64("avg_ns", (uint64_t)s->avg_ns);
	field_u64("stddev_ns", (uint64_t)s->sd_ns);
	field_f("avg_ts", s->avg_ts);
	field_f("stddev_ts", s->sd_ts);
	field("cpu_level", B.level, NULL);
	field_u64("model_bytes_per_token", md->bytes_per_token);
}

/*
 * Markdown columns as llama-bench sizes them (< 0: left-aligned); the
 * backend column grows to fit "CPU (avx512)".
 */
static struct {
	const char *name;
	int width;
} md_cols[] = {
	{ "model", -30 }, { "size", 10 }, { "params", 10 }, { "backend", -10 },
	{ "threads", 7 }, { "mmap", 4 }, { "test", 15 }, { "t/s", 20 },
};
#define MD_COL_MMAP 5		/* shown only when B.show_mmap */

static bool md_col_shown(size_t i)
{
	return i != MD_COL_MMAP || B.show_mmap;
}

static void print_header(void)
{
	size_t i;
	int j;

	switch (B.o->fmt) {
	case OUT_MD:
		if (strlen(B.backend) > 10)
			md_cols[3].width = -(int)strlen(B.backend);
		putchar('|');
		for (i = 0; i < sizeof(md_cols) / sizeof(md_cols[0]); i++)
			if (md_col_shown(i))
				printf(" %*s |", md_cols[i].width,
				       md_cols[i].name);
		printf("\n|");
		for (i = 0; i < sizeof(md_cols) / sizeof(md_cols[0]); i++) {
			if (!md_col_shown(i))
				continue;
			putchar(' ');
			for (j = 1; j < abs(md_cols[i].width); j++)
				putchar('-');
			printf("%c |", md_cols[i].width > 0 ? ':' : '-');
		}
		putchar('\n');
		break;
	case OUT_JSON:
		printf("[\n");
		break;
	case OUT_CSV:
		for (i = 0; i < sizeof(csv_fields) / sizeof(csv_fields[0]); i++)
			printf("%s%s", i ? "," : "", csv_fields[i]);
		putchar('\n');
		break;
	}
	fflush(stdout);
}

static void print_md_row(const struct test *t, const struct stats *s)
{
	const struct model_desc *md = t->md;
	char size[32], params[32], test[48], ts[64];

	if (md->size < (1ull << 30))
		snprintf(size, sizeof(size), "%.2f MiB", md->size / 1048576.0);
	else
		snprintf(size, sizeof(size), "%.2f GiB",
			 md->size / 1073741824.0);
	if (md->n_params < 1000000000ull)
		snprintf(params, sizeof(params), "%.2f M", md->n_params / 1e6);
	else
		snprintf(params, sizeof(params), "%.2f B", md->n_params / 1e9);
	if (t->n_gen == 0)
		snprintf(test, sizeof(test), "pp%ld", t->n_prompt);
	else if (t->n_prompt == 0)
		snprintf(test, sizeof(test), "tg%ld", t->n_gen);
	else
		snprintf(test, sizeof(test), "pp%ld+tg%ld", t->n_prompt,
			 t->n_gen);
	snprintf(ts, sizeof(ts), "%.2f \xc2\xb1 %.2f", s->avg_ts, s->sd_ts);
	/* "±" is two bytes: one more byte of width keeps the columns. */
	printf("| %-30s | %10s | %10s | %*s | %7ld |", md->type, size, params,
	       md_cols[3].width, B.backend, t->n_threads);
	if (md_col_shown(MD_COL_MMAP))
		printf(" %4d |", t->use_mmap ? 1 : 0);
	printf(" %15s | %21s |\n", test, ts);
}

static void print_test(const struct test *t, bool first)
{
	struct stats s;
	long i;

	if (!test_stats(t, &s))
		return;
	switch (B.o->fmt) {
	case OUT_MD:
		print_md_row(t, &s);
		break;
	case OUT_JSON:
		printf("%s  {\n", first ? "" : ",\n");
		print_fields(t, &s);
		printf("    \"samples_ns\": [ ");
		for (i = 0; i < t->n_samples; i++)
			printf("%s%llu", i ? ", " : "",
			       (unsigned long long)t->samples_ns[i]);
		printf(" ],\n    \"samples_ts\": [ ");
		for (i = 0; i < t->n_samples; i++)
			printf("%s%g", i ? ", " : "", s.ts[i]);
		printf(" ]\n  }");
		break;
	case OUT_CSV:
		B.first_row = true;
		print_fields(t, &s);
		putchar('\n');
		break;
	}
	fflush(stdout);
	free(s.ns);
	free(s.ts);
}

static void print_footer(void)
{
	switch (B.o->fmt) {
	case OUT_MD:
		printf("\nbuild: llamux %s\n", llamux_version());
		break;
	case OUT_JSON:
		printf("\n]\n");
		break;
	case OUT_CSV:
		break;
	}
	fflush(stdout);
}

/* ---- progress on stderr ---- */

static void progress(const char *what, const char *step, long i, long n)
{
	char line[256];

	if (!B.tty && !B.o->progress)
		return;
	snprintf(line, sizeof(line), "llamux bench: %d/%d %s: %s", B.test_index,
		 B.n_tests, what, step);
	if (n)
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
			 " %ld/%ld", i, n);
	if (B.tty) {
		fprintf(stderr, "\r\033[K%s", line);
		B.progress_shown = true;
	} else {
		fprintf(stderr, "%s\n", line);
	}
	fflush(stderr);
}

static void progress_clear(void)
{
	if (B.progress_shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		B.progress_shown = false;
	}
}

/* ---- the measurements ---- */

static struct llamux_context *new_context(const struct llamux_model *m,
					  long n_tokens, long n_threads)
{
	struct llamux_context_params cp;
	struct llamux_context *ctx;
	char err[LLAMUX_ERR_MAX] = "";

	llamux_context_default_params(&cp);
	cp.n_ctx = padded_ctx(n_tokens);
	cp.n_batch = BENCH_N_BATCH;
	cp.n_threads = (int32_t)n_threads;
	cp.kv_type = B.o->kv_type;
	ctx = llamux_context_new(m, &cp, err);
	if (!ctx) {
		progress_clear();
		cli_fail("%s", err);
	}
	return ctx;
}

/* A prompt: BOS when the model adds one, then random tokens. */
static void fill_prompt(const struct model_desc *md, int32_t *toks, long n)
{
	long i;

	for (i = 0; i < n; i++)
		toks[i] = i == 0 && md->bos >= 0 ? md->bos :
			  random_token(md->n_vocab);
}

static bool decode(struct llamux_context *ctx, const int32_t *toks, long n)
{
	char err[LLAMUX_ERR_MAX] = "";

	if (llamux_decode(ctx, toks, (size_t)n, NULL, err) == LLAMUX_OK)
		return true;
	progress_clear();
	cli_fail("%s", err);
	return false;
}

/* tgN: from an empty context, N single-token decodes (llama-bench's test_gen). */
static bool generate(struct llamux_context *ctx, const struct model_desc *md,
		     long n)
{
	int32_t tok = md->bos >= 0 ? md->bos : random_token(md->n_vocab);
	long i;

	for (i = 0; i < n; i++) {
		if (!decode(ctx, &tok, 1))
			return false;
		tok = random_token(md->n_vocab);
	}
	return true;
}

static int run_test(const struct llamux_model *m, struct test *t)
{
	struct llamux_context *ctx;
	int32_t *toks = NULL;
	char what[96];
	time_t now = time(NULL);
	long r;
	int rc = 1;

	B.test_index++;
	strftime(t->time, sizeof(t->time), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	if (t->n_gen == 0)
		snprintf(what, sizeof(what), "pp%ld, %ld thread%s", t->n_prompt,
			 t->n_threads, t->n_threads > 1 ? "s" : "");
	else
		snprintf(what, sizeof(what), "tg%ld, %ld thread%s", t->n_gen,
			 t->n_threads, t->n_threads > 1 ? "s" : "");
	t->samples_ns = calloc((size_t)B.o->reps, sizeof(uint64_t));
	toks = malloc((size_t)(t->n_prompt > 0 ? t->n_prompt : 1) * sizeof(*toks));
	if (!t->samples_ns || !toks) {
		free(toks);
		return cli_fail("out of memory");
	}
	ctx = new_context(m, t->n_prompt + t->n_gen, t->n_threads);
	if (!ctx)
		goto out;

	progress(what, "warmup", 0, 0);
	if (t->n_prompt) {
		fill_prompt(t->md, toks, t->n_prompt);
		if (!decode(ctx, toks, t->n_prompt))
			goto out;
	}
	if (t->n_gen && !generate(ctx, t->md, 1))
		goto out;

	for (r = 0; r < B.o->reps; r++) {
		uint64_t t0;

		progress(what, "run", r + 1, B.o->reps);
		llamux_context_reset(ctx);
		if (t->n_prompt)
			fill_prompt(t->md, toks, t->n_prompt);
		t0 = now_ns();
		if (t->n_prompt && !decode(ctx, toks, t->n_prompt))
			goto out;
		if (t->n_gen && !generate(ctx, t->md, t->n_gen))
			goto out;
		t->samples_ns[r] = now_ns() - t0;
	}
	t->n_samples = B.o->reps;
	rc = 0;
out:
	llamux_context_free(ctx);
	free(toks);
	return rc;
}

/*
 * Time to first token: from starting to decode an N-token prompt in a fresh
 * context to having the logits the first generated token is picked from.
 */
static int first_token(const struct llamux_model *m,
		       const struct model_desc *md, long threads, bool use_mmap)
{
	long n = B.o->first_token, r;
	struct llamux_context *ctx;
	int32_t *toks;
	double *ms;
	char what[96];
	int rc = 1;

	B.test_index++;
	snprintf(what, sizeof(what), "first token, %ld thread%s%s", threads,
		 threads > 1 ? "s" : "", use_mmap ? "" : ", read in");
	toks = malloc((size_t)n * sizeof(*toks));
	ms = calloc((size_t)B.o->reps, sizeof(*ms));
	ctx = toks && ms ? new_context(m, n, threads) : NULL;
	if (!ctx) {
		if (!toks || !ms)
			cli_fail("out of memory");
		goto out;
	}
	fill_prompt(md, toks, n);
	progress(what, "warmup", 0, 0);
	if (!decode(ctx, toks, n))
		goto out;
	for (r = 0; r < B.o->reps; r++) {
		uint64_t t0;

		progress(what, "run", r + 1, B.o->reps);
		llamux_context_reset(ctx);
		fill_prompt(md, toks, n);
		t0 = now_ns();
		if (!decode(ctx, toks, n))
			goto out;
		ms[r] = (now_ns() - t0) / 1e6;
	}
	progress_clear();
	fprintf(stderr, "llamux bench: first token: %s, %ld-token prompt, %ld thread%s%s: %.2f \xc2\xb1 %.2f ms\n",
		md->path, n, threads, threads > 1 ? "s" : "",
		use_mmap ? "" : ", read in (mmap 0)",
		mean(ms, B.o->reps), stdev(ms, B.o->reps));
	rc = 0;
out:
	llamux_context_free(ctx);
	free(toks);
	free(ms);
	return rc;
}

static int bench_model(const char *path, bool use_mmap, int *n_printed)
{
	const struct bench_opts *o = B.o;
	struct llamux_model *m;
	struct model_desc md;
	int i, j, rc = 0;

	m = cli_load_model(path, use_mmap ? 0 : LLAMUX_LOAD_NO_MMAP);
	if (!m)
		return 1;
	describe_model(m, path, &md);
	/* After the first load: a file that cannot be read prints no header. */
	if (!B.header_done) {
		print_header();
		B.header_done = true;
	}
	/* llama-bench's order: per thread count, every pp, then every tg. */
	for (i = 0; i < o->threads.n && !rc; i++) {
		long nt = o->threads.v[i];

		for (j = 0; j < o->n_prompt.n + o->n_gen.n && !rc; j++) {
			bool pp = j < o->n_prompt.n;
			struct test t = { .md = &md, .n_threads = nt,
					  .use_mmap = use_mmap };

			if (pp)
				t.n_prompt = o->n_prompt.v[j];
			else
				t.n_gen = o->n_gen.v[j - o->n_prompt.n];
			if (!t.n_prompt && !t.n_gen)
				continue;
			rc = run_test(m, &t);
			progress_clear();
			if (!rc)
				print_test(&t, (*n_printed)++ == 0);
			free(t.samples_ns);
		}
		if (!rc && o->first_token)
			rc = first_token(m, &md, nt, use_mmap);
	}
	progress_clear();
	llamux_model_free(m);
	return rc;
}

static int count_tests(const struct bench_opts *o)
{
	int i, n = 0;

	for (i = 0; i < o->n_prompt.n; i++)
		n += o->n_prompt.v[i] > 0;
	for (i = 0; i < o->n_gen.n; i++)
		n += o->n_gen.v[i] > 0;
	n += o->first_token > 0;
	return n * o->threads.n * o->mmap.n * o->n_models;
}

static int run(int argc, char **argv)
{
	struct bench_opts o = {
		.n_prompt = { { DEFAULT_N_PROMPT }, 1, false },
		.n_gen = { { DEFAULT_N_GEN }, 1, false },
		.mmap = { { 1 }, 1, false },
		.reps = DEFAULT_REPS,
		.first_token = DEFAULT_FIRST_TOKEN,
	};
	struct rusage ru;
	int i, j, n_printed = 0, rc = 0;

	if (!parse_args(argc, argv, &o))
		return EXIT_USAGE;
	memset(&B, 0, sizeof(B));
	B.o = &o;
	B.n_tests = count_tests(&o);
	if (!B.n_tests)
		return cli_usage_error(&cmd_bench, "nothing to measure: -p and -n are all 0 and --first-token is 0");
	B.rng = 0x9e3779b97f4a7c15ull;
	B.tty = isatty(STDERR_FILENO);
	B.level = lx_cpu_level_name(lx_kernels_level());
	snprintf(B.backend, sizeof(B.backend), "CPU (%s)", B.level);
	read_cpu_info(B.cpu_info, sizeof(B.cpu_info));

	B.show_mmap = o.mmap.n > 1 || o.mmap.v[0] != 1;
	for (i = 0; i < o.n_models && !rc; i++)
		for (j = 0; j < o.mmap.n && !rc; j++)
			rc = bench_model(o.models[i], o.mmap.v[j] != 0,
					 &n_printed);
	if (rc)
		return rc;
	print_footer();
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		fprintf(stderr, "llamux bench: peak RSS: %.1f MiB\n",
			ru.ru_maxrss / 1024.0);
	return 0;
}

const struct command cmd_bench = {
	.name = "bench",
	.summary = "measure prompt processing and generation speed (like llama-bench)",
	.usage = "llamux bench -m MODEL [-m MODEL ...] [-p 512] [-n 128] [-t N,N,...] [-r 5] [-o md|json|csv] [--first-token[=16]] [--kv-type f16|f32] [--mmap 1|0[,...]] [--progress]",
	.help = "  -m, --model PATH        GGUF model file (repeat for several)\n"
		"  -p, --n-prompt N,...    ppN: decode a batch of N tokens into a fresh context\n"
		"                          (default 512; 0: none)\n"
		"  -n, --n-gen N,...       tgN: decode N tokens one at a time from an empty\n"
		"                          context (default 128; 0: none)\n"
		"  -t, --threads N,...     threads (default: the physical cores)\n"
		"  -r, --repetitions R     timed runs per test, after one warmup (default 5)\n"
		"  -o, --output FORMAT     md (llama-bench's table, default), json or csv\n"
		"      --first-token[=N]   also time an N-token prompt to the first token's\n"
		"                          logits, on stderr (default on, N = 16; 0: off)\n"
		"      --kv-type f16|f32   KV cache precision (default f16)\n"
		"      --mmap 0|1,...      1: map the model file (default); 0: read it into\n"
		"                          memory, as --no-mmap does (-mmp, as llama-bench)\n"
		"      --progress          progress lines on stderr even when it is no terminal\n"
		"\n"
		"Results: tokens/s as mean \xc2\xb1 standard deviation over the runs; model\n"
		"loading is not timed. The peak RSS goes to stderr at the end.\n",
	.run = run,
};
