// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * /proc/llamux: `status` (key: value lines for people and scripts),
 * `prompt` (the original one-shot interface: write a prompt, read the
 * continuation; root only, one request at a time) and `control` (load or
 * unload a model, set default sampling parameters; root only).
 */
#include <linux/capability.h>
#include <linux/kernel.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "lxk.h"

#define CONTROL_MAX 256

static struct proc_dir_entry *proc_dir;
static struct lxk_session prompt_session;
static bool prompt_ready;

static DEFINE_SPINLOCK(error_lock);
static char last_error[LLAMUX_ERR_MAX + 64] = "none";

static void note_error(const char *msg)
{
	spin_lock(&error_lock);
	strscpy(last_error, msg, sizeof(last_error));
	spin_unlock(&error_lock);
}

/* ---- status ---- */

static int status_show(struct seq_file *f, void *unused)
{
	struct lxk_model *m = lxk_model_get();
	u64 kv = 0, scratch = 0, k, sc;
	struct lxk_session *s;
	unsigned int n_sessions = 0;
	char err[sizeof(last_error)];

	mutex_lock(&lxk_sessions_lock);
	list_for_each_entry(s, &lxk_sessions, node) {
		n_sessions++;
		mutex_lock(&s->lock);
		if (s->ctx) {
			lxk_fpu_begin();
			llamux_context_memory(s->ctx, &k, &sc);
			lxk_fpu_end();
			kv += k;
			scratch += sc;
		}
		mutex_unlock(&s->lock);
	}
	mutex_unlock(&lxk_sessions_lock);
	spin_lock(&error_lock);
	strscpy(err, last_error, sizeof(err));
	spin_unlock(&error_lock);

	seq_printf(f, "state: %s\n", m ? "ready" : "no model");
	if (m) {
		seq_printf(f, "model_file: %s\n", m->file);
		seq_printf(f, "model_name: %s\n", m->desc.name);
		seq_printf(f, "architecture: %s\n", m->desc.arch);
		seq_printf(f, "tensor_types: %s\n", m->types);
		seq_printf(f, "vocab_size: %u\n", m->desc.n_vocab);
		seq_printf(f, "context_train: %u\n", m->desc.n_ctx_train);
		seq_printf(f, "weights_bytes: %llu\n", m->desc.file_bytes);
	} else {
		seq_printf(f, "model_file: none (echo load NAME > /proc/llamux/control; files in %s)\n",
			   LXK_FIRMWARE_DIR);
	}
	seq_printf(f, "max_context: %u\n", lxk_param_max_context);
	seq_printf(f, "kv_bytes: %llu\n", kv);
	seq_printf(f, "scratch_bytes: %llu\n", scratch);
	seq_printf(f, "core_memory_bytes: %llu\n", lxk_host_mem_used());
	seq_printf(f, "mem_limit_bytes: %lu\n", lxk_param_mem_limit);
	seq_printf(f, "threads: %u\n", lxk_host_threads());
	seq_printf(f, "simd: %s\n", lxk_simd_name());
	seq_printf(f, "sessions_open: %u\n", n_sessions);
	seq_printf(f, "max_sessions: %u\n", lxk_param_max_sessions);
	seq_printf(f, "requests_served: %lld\n", atomic64_read(&lxk_stats.requests));
	seq_printf(f, "tokens_generated: %lld\n", atomic64_read(&lxk_stats.tokens));
	seq_printf(f, "last_prompt_tokens_per_s: %lld\n",
		   atomic64_read(&lxk_stats.last_prompt_tps));
	seq_printf(f, "last_generate_tokens_per_s: %lld\n",
		   atomic64_read(&lxk_stats.last_generate_tps));
	seq_printf(f, "last_error: %s\n", err);
	lxk_model_put(m);
	return 0;
}

/* ---- prompt ---- */

static ssize_t prompt_write(struct file *file, const char __user *buf,
			    size_t len, loff_t *ppos)
{
	char *prompt;
	size_t n = len;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (len == 0)
		return -EINVAL;
	if (len > LLAMUX_PROMPT_MAX)
		return -E2BIG;
	prompt = memdup_user(buf, len);
	if (IS_ERR(prompt))
		return PTR_ERR(prompt);
	if (prompt[n - 1] == '\n')	/* echo adds one */
		n--;
	lxk_fpu_begin();
	ret = n && lx_utf8_valid(prompt, n) ? 0 : -EINVAL;
	lxk_fpu_end();
	if (!ret) {
		mutex_lock(&prompt_session.lock);
		if (!lxk_session_running(&prompt_session))
			lxk_defaults_get(&prompt_session.params);
		mutex_unlock(&prompt_session.lock);
		ret = lxk_session_start(&prompt_session, prompt, n);
	}
	kfree(prompt);
	if (ret == -ENODEV)
		note_error("prompt: no model loaded");
	return ret ? ret : (ssize_t)len;
}

/* Blocks until the request is done, then reads its text and a newline. */
static ssize_t prompt_read(struct file *file, char __user *buf, size_t len,
			   loff_t *ppos)
{
	struct lxk_session *s = &prompt_session;
	size_t total, n, from_text;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (!s->started)
		return -ENODATA;
	ret = lxk_session_wait_done(s, MAX_SCHEDULE_TIMEOUT);
	if (ret)
		return ret;
	mutex_lock(&s->lock);
	if (s->stats.state == LLAMUX_STATE_FAILED) {
		mutex_unlock(&s->lock);
		return s->stats.error;
	}
	total = s->text_len + 1;
	if (*ppos < 0 || *ppos >= total) {
		mutex_unlock(&s->lock);
		return 0;
	}
	n = min_t(size_t, len, total - *ppos);
	from_text = *ppos < s->text_len ?
		    min_t(size_t, n, s->text_len - *ppos) : 0;
	if ((from_text && copy_to_user(buf, s->text + *ppos, from_text)) ||
	    (n > from_text && put_user('\n', buf + from_text))) {
		mutex_unlock(&s->lock);
		return -EFAULT;
	}
	mutex_unlock(&s->lock);
	*ppos += n;
	return n;
}

/* ---- control ---- */

/* "0.75" -> 750; at most three decimals. */
static int parse_milli(const char *s, u32 *out)
{
	u64 whole = 0, frac = 0;
	int digits = 0;

	if (!*s)
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		whole = whole * 10 + (*s - '0');
		if (whole > 1000000)
			return -EINVAL;
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++) {
			if (++digits > 3)
				return -EINVAL;
			frac = frac * 10 + (*s - '0');
		}
	}
	if (*s)
		return -EINVAL;
	while (digits++ < 3)
		frac *= 10;
	*out = (u32)(whole * 1000 + frac);
	return 0;
}

static int control_set(const char *key, const char *value)
{
	struct llamux_params p;
	u32 v = 0;
	int ret = 0;

	lxk_defaults_get(&p);
	if (!strcmp(key, "seed")) {
		if (!strcmp(value, "random"))
			p.seed = U64_MAX;
		else
			ret = kstrtou64(value, 10, &p.seed);
	} else if (!strcmp(key, "max_tokens") || !strcmp(key, "top_k")) {
		ret = kstrtou32(value, 10, &v);
		if (!ret && key[0] == 'm')
			p.max_tokens = v;
		else if (!ret)
			p.top_k = v;
	} else {
		ret = parse_milli(value, &v);
		if (ret)
			;
		else if (!strcmp(key, "temperature"))
			p.temperature_milli = v;
		else if (!strcmp(key, "top_p"))
			p.top_p_milli = v;
		else if (!strcmp(key, "min_p"))
			p.min_p_milli = v;
		else if (!strcmp(key, "repeat_penalty"))
			p.repeat_penalty_milli = v;
		else
			ret = -ENOENT;
	}
	if (ret == -ENOENT) {
		note_error("control: unknown key (temperature, top_k, top_p, min_p, repeat_penalty, seed, max_tokens)");
		return -EINVAL;
	}
	if (ret || lxk_params_check(&p)) {
		note_error("control: value out of range");
		return -EINVAL;
	}
	lxk_defaults_set(&p);
	return 0;
}

static ssize_t control_write(struct file *file, const char __user *buf,
			     size_t len, loff_t *ppos)
{
	char *cmd, *arg, *value, err[LLAMUX_ERR_MAX + 64];
	int ret = -EINVAL;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (len == 0 || len > CONTROL_MAX)
		return -EINVAL;
	cmd = memdup_user_nul(buf, len);
	if (IS_ERR(cmd))
		return PTR_ERR(cmd);
	strim(cmd);
	arg = strchr(cmd, ' ');
	if (arg)
		*arg++ = '\0';
	if (!strcmp(cmd, "load") && arg) {
		arg = strim(arg);
		ret = lxk_model_load(arg, err, sizeof(err));
		if (ret) {
			pr_warn("llamux: load failed, keeping the current model: %s\n",
				err);
			note_error(err);
		}
	} else if (!strcmp(cmd, "unload") && !arg) {
		lxk_model_unload();
		ret = 0;
	} else if (!strcmp(cmd, "set") && arg) {
		value = strchr(arg, ' ');
		if (value) {
			*value++ = '\0';
			ret = control_set(arg, strim(value));
		} else {
			note_error("control: set needs KEY VALUE");
		}
	} else {
		note_error("control: commands are 'load NAME', 'unload', 'set KEY VALUE'");
	}
	kfree(cmd);
	return ret ? ret : (ssize_t)len;
}

static int control_show(struct seq_file *f, void *unused)
{
	struct lxk_model *m = lxk_model_get();
	struct llamux_params p;

	lxk_defaults_get(&p);
	seq_printf(f, "model: %s\n", m ? m->file : "none");
	seq_printf(f, "max_tokens: %u\n", p.max_tokens);
	seq_printf(f, "temperature: %u.%03u\n", p.temperature_milli / 1000,
		   p.temperature_milli % 1000);
	seq_printf(f, "top_k: %u\n", p.top_k);
	seq_printf(f, "top_p: %u.%03u\n", p.top_p_milli / 1000,
		   p.top_p_milli % 1000);
	seq_printf(f, "min_p: %u.%03u\n", p.min_p_milli / 1000,
		   p.min_p_milli % 1000);
	seq_printf(f, "repeat_penalty: %u.%03u\n", p.repeat_penalty_milli / 1000,
		   p.repeat_penalty_milli % 1000);
	if (p.seed == U64_MAX)
		seq_puts(f, "seed: random\n");
	else
		seq_printf(f, "seed: %llu\n", p.seed);
	lxk_model_put(m);
	return 0;
}

static int status_open(struct inode *inode, struct file *file)
{
	return single_open(file, status_show, NULL);
}

static int control_open(struct inode *inode, struct file *file)
{
	return single_open(file, control_show, NULL);
}

static const struct proc_ops status_ops = {
	.proc_open = status_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
};

static const struct proc_ops prompt_ops = {
	.proc_read = prompt_read,
	.proc_write = prompt_write,
	.proc_lseek = default_llseek,
};

static const struct proc_ops control_ops = {
	.proc_open = control_open,
	.proc_read = seq_read,
	.proc_write = control_write,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
};

int lxk_proc_init(void)
{
	int ret = lxk_session_init(&prompt_session, NULL);

	if (ret)
		return ret;
	prompt_ready = true;
	proc_dir = proc_mkdir("llamux", NULL);
	if (!proc_dir ||
	    !proc_create("status", 0444, proc_dir, &status_ops) ||
	    !proc_create("prompt", 0600, proc_dir, &prompt_ops) ||
	    !proc_create("control", 0600, proc_dir, &control_ops)) {
		lxk_proc_exit();
		return -ENOMEM;
	}
	return 0;
}

void lxk_proc_cancel(void)
{
	if (prompt_ready)
		lxk_session_cancel(&prompt_session);
}

void lxk_proc_exit(void)
{
	if (proc_dir)
		proc_remove(proc_dir);
	proc_dir = NULL;
	if (prompt_ready)
		lxk_session_destroy(&prompt_session);
	prompt_ready = false;
}
