// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * llamux status: what this machine offers and what is set up: the version,
 * the backends (in-process; the kernel module through /proc/llamux/status;
 * the daemon's socket), the active model with the memory it needs, the CPU
 * features and SIMD level, and the last run's speeds. Works with nothing
 * installed and says what is missing. --json prints one object; --facts
 * prints the system facts a question to llamux sees.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "facts.h"
#include "kernels.h"
#include "platform.h"
#include "store.h"

static const char *const cpu_flags[] = {
	"avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512dq",
	"avx512_vnni",
};
#define N_FLAGS (sizeof(cpu_flags) / sizeof(cpu_flags[0]))

struct kernel_status {
	bool loaded;
	char *path;
	char state[64], model[256], arch[64], simd[32], error[256];
	long long prompt_tps, generate_tps;
};

struct daemon_status {
	bool running;
	char *socket;		/* the socket found, running or stale */
	char *tried;		/* the places looked at, for the message */
};

struct model_status {
	char *path, *source, *name;
	bool none;
	char why[WHY_MAX];
	uint64_t file_bytes;
	struct model_facts facts;
	bool have_kv;
	uint32_t n_ctx;
	uint64_t kv_bytes;
	char load_error[LLAMUX_ERR_MAX];
};

struct cpu_status {
	long count;
	char model[128];
	bool has[N_FLAGS];
	bool flags_known;
	uint32_t level;
	const char *override;	/* LLAMUX_CPU */
};

struct run_status {
	bool have;
	char *model, *time, *prompt_tokens, *prompt_tps, *gen_tokens, *gen_tps;
};

/* ---- gathering ---- */

static void copy_value(char *dst, size_t cap, const char *v)
{
	snprintf(dst, cap, "%s", v);
	dst[strcspn(dst, "\n")] = '\0';
}

static void read_kernel(struct kernel_status *k)
{
	char line[512];
	FILE *f;

	memset(k, 0, sizeof(*k));
	k->path = cli_system_path("/proc/llamux/status");
	f = fopen(k->path, "r");
	if (!f)
		return;
	k->loaded = true;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *v;

		if (!colon)
			continue;
		*colon = '\0';
		v = colon + 1;
		while (*v == ' ')
			v++;
		if (!strcmp(line, "state"))
			copy_value(k->state, sizeof(k->state), v);
		else if (!strcmp(line, "model_file"))
			copy_value(k->model, sizeof(k->model), v);
		else if (!strcmp(line, "architecture"))
			copy_value(k->arch, sizeof(k->arch), v);
		else if (!strcmp(line, "simd"))
			copy_value(k->simd, sizeof(k->simd), v);
		else if (!strcmp(line, "last_error"))
			copy_value(k->error, sizeof(k->error), v);
		else if (!strcmp(line, "last_prompt_tokens_per_s"))
			k->prompt_tps = atoll(v);
		else if (!strcmp(line, "last_generate_tokens_per_s"))
			k->generate_tps = atoll(v);
	}
	fclose(f);
}

/* 1: something accepts connections there, 0: a stale socket, -1: none. */
static int probe_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ok;

	if (stat(path, &st) || !S_ISSOCK(st.st_mode))
		return -1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return 0;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static void read_daemon(struct daemon_status *d)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	char *paths[2] = { NULL, cli_system_path("/run/llamux/llamuxd.sock") };
	size_t len = 1;
	int i;

	memset(d, 0, sizeof(*d));
	if (rt && rt[0] == '/' && asprintf(&paths[0], "%s/llamux/llamuxd.sock", rt) < 0)
		paths[0] = NULL;
	for (i = 0; i < 2; i++)
		if (paths[i])
			len += strlen(paths[i]) + 4;
	d->tried = calloc(1, len);
	for (i = 0; i < 2; i++) {
		int r;

		if (!paths[i])
			continue;
		if (d->tried && d->tried[0])
			strcat(d->tried, " or ");
		if (d->tried)
			strcat(d->tried, paths[i]);
		if (d->running || (d->socket && i))
			continue;
		r = probe_socket(paths[i]);
		if (r >= 0) {
			free(d->socket);
			d->socket = strdup(paths[i]);
			d->running = r == 1;
		}
	}
	free(paths[0]);
	free(paths[1]);
}

static void read_model(struct model_status *m, const char *flag)
{
	struct llamux_model *model;
	struct llamux_model_info in;
	struct stat st;
	const char *base;

	memset(m, 0, sizeof(*m));
	m->path = store_active(flag, &m->source, &m->none, m->why, sizeof(m->why));
	if (!m->path)
		return;
	base = strrchr(m->path, '/');
	m->name = store_name_for_file(base ? base + 1 : m->path);
	if (stat(m->path, &st)) {
		snprintf(m->load_error, sizeof(m->load_error), "cannot open it: %s",
			 strerror(errno));
		return;
	}
	m->file_bytes = (uint64_t)st.st_size;
	store_model_facts(m->path, &m->facts);
	if (!m->facts.ok) {
		snprintf(m->load_error, sizeof(m->load_error), "%s", m->facts.error);
		return;
	}
	/*
	 * The hyperparameters need a full load; the file is mapped, not read,
	 * so this is cheap. KV cache: K and V, F16, the default context.
	 */
	model = llamux_model_load(m->path, 0, m->load_error);
	if (!model)
		return;
	llamux_model_get_info(model, &in);
	m->n_ctx = in.n_ctx_train && in.n_ctx_train < 4096 ? in.n_ctx_train : 4096;
	m->kv_bytes = (uint64_t)in.n_layer * m->n_ctx * in.n_head_kv *
		      in.head_dim * 2 * 2;
	m->have_kv = true;
	llamux_model_free(model);
}

static void read_cpu(struct cpu_status *c)
{
	char *line = NULL;
	size_t len = 0, i;
	FILE *f;

	memset(c, 0, sizeof(*c));
	c->count = sysconf(_SC_NPROCESSORS_ONLN);
	c->level = lx_host_cpu_level();
	if (c->level >= LX_CPU_LEVELS)
		c->level = LX_CPU_LEVELS - 1;
	c->override = getenv("LLAMUX_CPU");
	if (c->override && (!*c->override || !strcmp(c->override, "auto")))
		c->override = NULL;
	f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	while (getline(&line, &len, f) > 0) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		if (!strncmp(line, "model name", 10) && !c->model[0]) {
			copy_value(c->model, sizeof(c->model), colon + 2);
		} else if (!strncmp(line, "flags", 5) && !c->flags_known) {
			char *save = NULL, *tok;

			c->flags_known = true;
			for (tok = strtok_r(colon + 1, " \t\n", &save); tok;
			     tok = strtok_r(NULL, " \t\n", &save))
				for (i = 0; i < N_FLAGS; i++)
					if (!strcmp(tok, cpu_flags[i]))
						c->has[i] = true;
		}
	}
	free(line);
	fclose(f);
}

static void read_run(struct run_status *r)
{
	char *path = cli_state_path("last-run", NULL, 0);

	memset(r, 0, sizeof(*r));
	if (!path)
		return;
	r->model = kv_get(path, "model");
	r->time = kv_get(path, "time");
	r->prompt_tokens = kv_get(path, "prompt_tokens");
	r->prompt_tps = kv_get(path, "prompt_tokens_per_s");
	r->gen_tokens = kv_get(path, "generated_tokens");
	r->gen_tps = kv_get(path, "generate_tokens_per_s");
	r->have = r->prompt_tps && r->gen_tps;
	free(path);
}

/* ---- text ---- */

static void print_text(const struct kernel_status *k,
		       const struct daemon_status *d,
		       const struct model_status *m, const struct cpu_status *c,
		       const struct run_status *r, enum cli_backend pick)
{
	char a[24], b[24], cc[24];
	size_t i;

	printf("llamux %s\n\nbackends:\n", llamux_version());
	printf("  in-process      ready (%s, %ld CPUs)\n", lx_cpu_level_name(c->level),
	       c->count);
	if (k->loaded) {
		printf("  kernel module   loaded: state %s, model %s", k->state,
		       k->model[0] ? k->model : "none");
		if (k->simd[0])
			printf(", simd %s", k->simd);
		printf(", last speeds: prompt %lld t/s, generation %lld t/s",
		       k->prompt_tps, k->generate_tps);
		if (k->error[0] && strcmp(k->error, "none"))
			printf(", last error: %s", k->error);
		printf("\n");
	} else {
		printf("  kernel module   not loaded (no %s; 'sudo modprobe llamux' loads it)\n",
		       k->path);
	}
	if (d->running)
		printf("  daemon          running (%s)\n", d->socket);
	else if (d->socket)
		printf("  daemon          not running (stale socket %s)\n", d->socket);
	else
		printf("  daemon          not running (no socket at %s)\n",
		       d->tried ? d->tried : "");
	printf("  --backend auto  uses %s\n", pick == BACKEND_INPROCESS ?
	       "in-process" : pick == BACKEND_KERNEL ? "the kernel module" :
	       "the daemon");

	printf("\nmodel:\n");
	if (!m->path) {
		printf("  active          none: %s\n", m->why);
	} else {
		printf("  active          %s (from %s)\n", m->name, m->source);
		printf("  file            %s", m->path);
		if (m->facts.ok)
			printf(" (%s, %s, %s)", cli_size_str(m->file_bytes, a, sizeof(a)),
			       m->facts.type, m->facts.arch);
		printf("\n");
		if (m->have_kv)
			printf("  memory          %s: the file %s + KV cache %s for %u tokens\n",
			       cli_size_str(m->file_bytes + m->kv_bytes, a, sizeof(a)),
			       cli_size_str(m->file_bytes, b, sizeof(b)),
			       cli_size_str(m->kv_bytes, cc, sizeof(cc)), m->n_ctx);
		else
			printf("  memory          unknown: the model cannot be loaded: %s\n",
			       m->load_error);
	}

	printf("\ncpu:\n");
	if (c->model[0])
		printf("  model           %s\n", c->model);
	printf("  cpus            %ld\n", c->count);
	if (c->flags_known) {
		bool missing = false;

		printf("  features       ");
		for (i = 0; i < N_FLAGS; i++)
			if (c->has[i])
				printf(" %s", cpu_flags[i]);
		for (i = 0; i < N_FLAGS; i++)
			if (!c->has[i]) {
				printf("%s %s", missing ? "" : "; missing", cpu_flags[i]);
				missing = true;
			}
		printf("\n");
	}
	printf("  simd level      %s%s%s%s\n", lx_cpu_level_name(c->level),
	       c->override ? " (LLAMUX_CPU=" : "", c->override ? c->override : "",
	       c->override ? ")" : "");

	printf("\nlast run:\n");
	if (!r->have) {
		printf("  none recorded yet ('llamux run' records its speeds)\n");
		return;
	}
	printf("  prompt          %s t/s (%s tokens)\n", r->prompt_tps,
	       r->prompt_tokens ? r->prompt_tokens : "?");
	printf("  generation      %s t/s (%s tokens)\n", r->gen_tps,
	       r->gen_tokens ? r->gen_tokens : "?");
	if (r->model && *r->model)
		printf("  model           %s\n", r->model);
	if (r->time) {
		time_t t = (time_t)atoll(r->time);
		struct tm tm;
		char when[64];

		if (localtime_r(&t, &tm) &&
		    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm))
			printf("  when            %s\n", when);
	}
}

/* ---- JSON ---- */

static void json_str(const char *s)
{
	if (!s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", stdout);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

/* A number from the state file, or null. */
static void json_num(const char *s)
{
	char *end;

	if (s && *s) {
		strtod(s, &end);
		if (!*end) {
			fputs(s, stdout);
			return;
		}
	}
	fputs("null", stdout);
}

static void print_json(const struct kernel_status *k,
		       const struct daemon_status *d,
		       const struct model_status *m, const struct cpu_status *c,
		       const struct run_status *r, enum cli_backend pick)
{
	size_t i;
	bool first = true;

	printf("{\"version\":");
	json_str(llamux_version());
	printf(",\"kernel\":{\"loaded\":%s", k->loaded ? "true" : "false");
	if (k->loaded) {
		printf(",\"state\":");
		json_str(k->state);
		printf(",\"model_file\":");
		json_str(k->model);
		printf(",\"architecture\":");
		json_str(k->arch);
		printf(",\"simd\":");
		json_str(k->simd);
		printf(",\"prompt_tokens_per_s\":%lld,\"generate_tokens_per_s\":%lld,\"last_error\":",
		       k->prompt_tps, k->generate_tps);
		json_str(k->error);
	}
	printf("},\"daemon\":{\"running\":%s,\"socket\":", d->running ? "true" : "false");
	json_str(d->socket);
	printf("},\"auto_backend\":{\"uses\":");
	json_str(cli_backend_name(pick));
	printf("},\"model\":{\"active\":%s", m->path ? "true" : "false");
	if (!m->path) {
		printf(",\"error\":");
		json_str(m->why);
	} else {
		printf(",\"name\":");
		json_str(m->name);
		printf(",\"path\":");
		json_str(m->path);
		printf(",\"source\":");
		json_str(m->source);
		printf(",\"file_bytes\":%llu,\"type\":", (unsigned long long)m->file_bytes);
		json_str(m->facts.ok ? m->facts.type : NULL);
		printf(",\"architecture\":");
		json_str(m->facts.ok ? m->facts.arch : NULL);
		if (m->have_kv)
			printf(",\"n_ctx\":%u,\"kv_cache_bytes\":%llu,\"memory_bytes\":%llu",
			       m->n_ctx, (unsigned long long)m->kv_bytes,
			       (unsigned long long)(m->file_bytes + m->kv_bytes));
		else {
			printf(",\"error\":");
			json_str(m->load_error);
		}
	}
	printf("},\"cpu\":{\"count\":%ld,\"model\":", c->count);
	json_str(c->model[0] ? c->model : NULL);
	printf(",\"flags\":[");
	for (i = 0; i < N_FLAGS; i++)
		if (c->has[i]) {
			printf("%s\"%s\"", first ? "" : ",", cpu_flags[i]);
			first = false;
		}
	printf("],\"simd\":\"%s\"},\"last_run\":", lx_cpu_level_name(c->level));
	if (!r->have) {
		printf("null}\n");
		return;
	}
	printf("{\"prompt_tokens_per_s\":");
	json_num(r->prompt_tps);
	printf(",\"generate_tokens_per_s\":");
	json_num(r->gen_tps);
	printf(",\"prompt_tokens\":");
	json_num(r->prompt_tokens);
	printf(",\"generated_tokens\":");
	json_num(r->gen_tokens);
	printf(",\"time\":");
	json_num(r->time);
	printf(",\"model\":");
	json_str(r->model);
	printf("}}\n");
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "facts", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct kernel_status k;
	struct daemon_status d;
	struct model_status m;
	struct cpu_status c;
	struct run_status r;
	const char *flag = NULL;
	enum cli_backend pick;
	bool json = false, facts = false;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":m:", opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			flag = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'f':
			facts = true;
			break;
		case ':':
			return cli_usage_error(&cmd_status, "%s needs a value",
					       argv[optind - 1]);
		default:
			return cli_usage_error(&cmd_status, "unknown option '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(&cmd_status, "unexpected argument '%s'",
				       argv[optind]);
	if (facts) {
		char *text;

		if (json || flag)
			return cli_usage_error(&cmd_status, "--facts goes alone");
		text = cli_collect_facts();
		if (!text)
			return cli_fail("out of memory");
		fputs(text, stdout);
		free(text);
		return 0;
	}
	read_kernel(&k);
	read_daemon(&d);
	read_model(&m, flag);
	read_cpu(&c);
	read_run(&r);
	pick = cli_pick_backend(m.path, NULL, 0);
	if (json)
		print_json(&k, &d, &m, &c, &r, pick);
	else
		print_text(&k, &d, &m, &c, &r, pick);
	free(k.path);
	free(d.socket);
	free(d.tried);
	free(m.path);
	free(m.source);
	free(m.name);
	free(r.model);
	free(r.time);
	free(r.prompt_tokens);
	free(r.prompt_tps);
	free(r.gen_tokens);
	free(r.gen_tps);
	return 0;
}

const struct command cmd_status = {
	.name = "status",
	.summary = "show backends, the active model, CPU features and the last speeds",
	.usage = "llamux status [-m MODEL] [--json] | llamux status --facts",
	.help = "  -m, --model NAME|PATH  describe this model instead of the active one\n"
		"      --json             one JSON object instead of text\n"
		"      --facts            the system facts (load, memory, top processes, disks,\n"
		"                         pressure) that a question to llamux is given\n",
	.run = run,
};
