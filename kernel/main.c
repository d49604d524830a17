// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * llamux.ko: a language model inside the kernel. This file holds the module
 * parameters, the loaded model (switchable at runtime; sessions keep the
 * model they started with), the default sampling parameters, and module
 * init/exit. The inference core in ../core is the same code userspace runs.
 */
#include <linux/cpumask.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#include "kernels.h"
#include "lxk.h"

#ifdef CONFIG_LLAMUX_DEFAULT_MODEL
#define LXK_DEFAULT_MODEL CONFIG_LLAMUX_DEFAULT_MODEL
#else
#define LXK_DEFAULT_MODEL "default.gguf"
#endif
#ifdef CONFIG_LLAMUX_MAX_CONTEXT
#define LXK_DEFAULT_MAX_CONTEXT CONFIG_LLAMUX_MAX_CONTEXT
#else
#define LXK_DEFAULT_MAX_CONTEXT 2048
#endif
#ifdef CONFIG_LLAMUX_INFERENCE_THREADS
#define LXK_DEFAULT_THREADS CONFIG_LLAMUX_INFERENCE_THREADS
#else
#define LXK_DEFAULT_THREADS 0
#endif
#ifdef CONFIG_LLAMUX_MEMORY_LIMIT
#define LXK_DEFAULT_MEM_LIMIT ((unsigned long)CONFIG_LLAMUX_MEMORY_LIMIT << 20)
#else
#define LXK_DEFAULT_MEM_LIMIT (1024UL << 20)
#endif

char *lxk_param_model = LXK_DEFAULT_MODEL;
module_param_named(model, lxk_param_model, charp, 0444);
MODULE_PARM_DESC(model, "model file under /lib/firmware/llamux/ (default " LXK_DEFAULT_MODEL ")");

unsigned int lxk_param_threads = LXK_DEFAULT_THREADS;
module_param_named(threads, lxk_param_threads, uint, 0444);
MODULE_PARM_DESC(threads, "inference threads (0: online CPUs)");

unsigned int lxk_param_max_context = LXK_DEFAULT_MAX_CONTEXT;
module_param_named(max_context, lxk_param_max_context, uint, 0444);
MODULE_PARM_DESC(max_context, "tokens per session context, at most the model's");

unsigned int lxk_param_max_sessions = 8;
module_param_named(max_sessions, lxk_param_max_sessions, uint, 0444);
MODULE_PARM_DESC(max_sessions, "sessions open at once (each has a KV cache)");

unsigned long lxk_param_mem_limit = LXK_DEFAULT_MEM_LIMIT;
module_param_named(mem_limit, lxk_param_mem_limit, ulong, 0444);
MODULE_PARM_DESC(mem_limit, "bytes for KV caches and scratch, all sessions together");

char *lxk_param_cpu = "auto";
module_param_named(cpu, lxk_param_cpu, charp, 0444);
MODULE_PARM_DESC(cpu, "SIMD level: auto (best the CPU has), avx512vnni, avx512, avx2 or scalar");

u32 lxk_cpu_limit(void)
{
	if (!strcmp(lxk_param_cpu, "scalar"))
		return 0;
	if (!strcmp(lxk_param_cpu, "avx2"))
		return 1;
	if (!strcmp(lxk_param_cpu, "avx512"))
		return 2;
	return 3;
}

const char *lxk_simd_name(void)
{
	const char *name;

	lxk_fpu_begin();
	name = lx_cpu_level_name(lx_kernels_level());
	lxk_fpu_end();
	return name;
}

DEFINE_MUTEX(lxk_sessions_lock);
LIST_HEAD(lxk_sessions);
bool lxk_unloading;
struct workqueue_struct *lxk_wq;
struct lxk_counters lxk_stats;

/* ---- the model ---- */

static DEFINE_SPINLOCK(model_lock);	/* guards `current_model` */
static DEFINE_MUTEX(load_lock);		/* one load at a time */
static struct lxk_model *current_model;

static void model_release(struct kref *ref)
{
	struct lxk_model *m = container_of(ref, struct lxk_model, ref);

	lxk_fpu_begin();
	llamux_model_free(m->m);
	lxk_fpu_end();
	kfree(m);
}

struct lxk_model *lxk_model_get(void)
{
	struct lxk_model *m;

	spin_lock(&model_lock);
	m = current_model;
	if (m)
		kref_get(&m->ref);
	spin_unlock(&model_lock);
	return m;
}

void lxk_model_put(struct lxk_model *m)
{
	if (m)
		kref_put(&m->ref, model_release);
}

static void set_model(struct lxk_model *m)
{
	struct lxk_model *old;

	spin_lock(&model_lock);
	old = current_model;
	current_model = m;
	spin_unlock(&model_lock);
	lxk_model_put(old);
}

/* A bare file name: no directories, no dot files, printable. */
static bool valid_name(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > LXK_NAME_MAX || name[0] == '.')
		return false;
	for (i = 0; i < n; i++)
		if (name[i] == '/' || name[i] <= ' ' || name[i] > '~')
			return false;
	return true;
}

/* "F32, Q4_K, Q6_K": the distinct tensor types, in first-seen order. */
static void describe_types(struct lxk_model *m)
{
	struct llamux_tensor_info t;
	uint64_t i, n = llamux_model_n_tensors(m->m);
	size_t len = 0;

	m->types[0] = '\0';
	for (i = 0; i < n; i++) {
		llamux_model_tensor(m->m, i, &t);
		if (strstr(m->types, t.type))
			continue;
		len += scnprintf(m->types + len, sizeof(m->types) - len,
				 "%s%s", len ? ", " : "", t.type);
	}
}

int lxk_model_load(const char *name, char *err, size_t err_len)
{
	struct llamux_model_info *info;
	char core_err[LLAMUX_ERR_MAX] = "";
	struct lxk_model *m;
	char *path;
	int ret = 0;

	if (!valid_name(name)) {
		scnprintf(err, err_len, "'%s' is not a file name under %s",
			  name, LXK_FIRMWARE_DIR);
		return -EINVAL;
	}
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	info = kzalloc(sizeof(*info), GFP_KERNEL);
	path = kasprintf(GFP_KERNEL, LXK_FIRMWARE_DIR "%s", name);
	if (!m || !info || !path) {
		ret = -ENOMEM;
		goto out;
	}
	kref_init(&m->ref);
	strscpy(m->file, name, sizeof(m->file));
	mutex_lock(&load_lock);
	lxk_fpu_begin();
	m->m = llamux_model_load(path, 0, core_err);
	if (m->m) {
		llamux_model_get_info(m->m, info);
		describe_types(m);
	}
	lxk_fpu_end();
	if (!m->m) {
		mutex_unlock(&load_lock);
		scnprintf(err, err_len, "%s: %s", path, core_err);
		ret = -EINVAL;
		goto out;
	}
	strscpy(m->desc.name, info->name, sizeof(m->desc.name));
	strscpy(m->desc.arch, info->arch, sizeof(m->desc.arch));
	strscpy(m->desc.file, name, sizeof(m->desc.file));
	m->desc.n_vocab = info->n_vocab;
	m->desc.n_ctx_train = info->n_ctx_train;
	m->desc.n_layer = info->n_layer;
	m->desc.n_embd = info->n_embd;
	m->desc.file_bytes = info->n_bytes;
	set_model(m);
	m = NULL;
	mutex_unlock(&load_lock);
	pr_info("llamux: loaded %s (%s)\n", name, info->arch);
out:
	kfree(m);
	kfree(info);
	kfree(path);
	return ret;
}

void lxk_model_unload(void)
{
	mutex_lock(&load_lock);
	set_model(NULL);
	mutex_unlock(&load_lock);
}

/* ---- default sampling parameters ---- */

static DEFINE_SPINLOCK(defaults_lock);
static struct llamux_params defaults = {
	.max_tokens = 128,
	.temperature_milli = 800,
	.top_k = 40,
	.top_p_milli = 950,
	.min_p_milli = 50,
	.repeat_penalty_milli = 1000,
	.greedy = 0,
	.seed = U64_MAX,	/* random per request */
};

void lxk_defaults_get(struct llamux_params *p)
{
	spin_lock(&defaults_lock);
	*p = defaults;
	spin_unlock(&defaults_lock);
}

void lxk_defaults_set(const struct llamux_params *p)
{
	spin_lock(&defaults_lock);
	defaults = *p;
	spin_unlock(&defaults_lock);
}

int lxk_params_check(const struct llamux_params *p)
{
	if (p->max_tokens == 0 || p->max_tokens > (1u << 20) ||
	    p->temperature_milli > 100000 || p->top_p_milli > 1000 ||
	    p->min_p_milli > 1000 || p->repeat_penalty_milli == 0 ||
	    p->repeat_penalty_milli > 100000 || p->greedy > 1 ||
	    p->top_k > (1u << 30) || p->reserved)
		return -EINVAL;
	return 0;
}

/* ---- module ---- */

static int __init llamux_init(void)
{
	char err[LLAMUX_ERR_MAX + 128];
	int ret;

	if (strcmp(lxk_param_cpu, "auto") && strcmp(lxk_param_cpu, "scalar") &&
	    strcmp(lxk_param_cpu, "avx2") && strcmp(lxk_param_cpu, "avx512") &&
	    strcmp(lxk_param_cpu, "avx512vnni")) {
		pr_err("llamux: cpu=%s: use auto, avx512vnni, avx512, avx2 or scalar\n",
		       lxk_param_cpu);
		return -EINVAL;
	}
	if (!lxk_param_threads)
		lxk_param_threads = num_online_cpus();
	if (lxk_param_max_context < 16)
		lxk_param_max_context = 16;
	if (!lxk_param_max_sessions)
		lxk_param_max_sessions = 1;
	lxk_wq = alloc_workqueue("llamux", WQ_UNBOUND, 0);
	if (!lxk_wq)
		return -ENOMEM;
	ret = lxk_host_init(lxk_param_threads);
	if (ret)
		goto err_wq;
	ret = lxk_proc_init();
	if (ret)
		goto err_host;
	ret = lxk_dev_init();
	if (ret)
		goto err_proc;
	/* No model is not an error: the module idles and says so in status. */
	if (lxk_param_model && *lxk_param_model &&
	    lxk_model_load(lxk_param_model, err, sizeof(err)))
		pr_warn("llamux: no model loaded: %s; load one with 'echo load NAME > /proc/llamux/control'\n",
			err);
	return 0;
err_proc:
	lxk_proc_exit();
err_host:
	lxk_host_exit();
err_wq:
	destroy_workqueue(lxk_wq);
	return ret;
}

static void __exit llamux_exit(void)
{
	struct lxk_session *s;

	/* Stop every request first, so blocked readers return -ENODEV. */
	mutex_lock(&lxk_sessions_lock);
	WRITE_ONCE(lxk_unloading, true);
	list_for_each_entry(s, &lxk_sessions, node)
		lxk_session_cancel(s);
	mutex_unlock(&lxk_sessions_lock);
	lxk_proc_cancel();
	flush_workqueue(lxk_wq);
	lxk_dev_exit();
	lxk_proc_exit();
	destroy_workqueue(lxk_wq);
	lxk_model_unload();
	lxk_host_exit();
	/* Tests read this line: anything but 0 is a leak. */
	pr_info("llamux: unloaded; core memory still allocated: %llu bytes\n",
		lxk_host_mem_used());
}

module_init(llamux_init);
module_exit(llamux_exit);

MODULE_LICENSE("Dual MIT/GPL");
MODULE_AUTHOR("The Llamux authors");
MODULE_DESCRIPTION("Language model inference inside the kernel");
MODULE_VERSION("0.1.0");
