// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The in-kernel API for other modules (see include/llamux/kernel.h): one-shot
 * queries and step-by-step sessions over the same engine as /dev/llamux.
 */
#include <linux/export.h>
#include <linux/jiffies.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "llamux/kernel.h"
#include "lxk.h"

struct llamux_ksession {
	struct lxk_session s;
};

static atomic_t api_sessions = ATOMIC_INIT(0);

void llamux_kernel_default_params(struct llamux_params *p)
{
	lxk_defaults_get(p);
}
EXPORT_SYMBOL_GPL(llamux_kernel_default_params);

struct llamux_ksession *llamux_ksession_open(const struct llamux_params *p)
{
	struct llamux_ksession *ks;

	if (atomic_inc_return(&api_sessions) > lxk_param_max_sessions) {
		atomic_dec(&api_sessions);
		return ERR_PTR(-EBUSY);
	}
	ks = kzalloc(sizeof(*ks), GFP_KERNEL);
	if (!ks) {
		atomic_dec(&api_sessions);
		return ERR_PTR(-ENOMEM);
	}
	if (lxk_session_init(&ks->s, p)) {
		kfree(ks);
		atomic_dec(&api_sessions);
		return ERR_PTR(-EINVAL);
	}
	return ks;
}
EXPORT_SYMBOL_GPL(llamux_ksession_open);

int llamux_ksession_prompt(struct llamux_ksession *ks, const char *prompt,
			   size_t len)
{
	bool valid;

	if (!ks || !prompt)
		return -EINVAL;
	lxk_fpu_begin();
	valid = lx_utf8_valid(prompt, len);
	lxk_fpu_end();
	if (!valid)
		return -EINVAL;
	return lxk_session_start(&ks->s, prompt, len);
}
EXPORT_SYMBOL_GPL(llamux_ksession_prompt);

ssize_t llamux_ksession_read(struct llamux_ksession *ks, char *buf, size_t len,
			     unsigned long timeout_ms)
{
	long t = timeout_ms ? msecs_to_jiffies(timeout_ms) : MAX_SCHEDULE_TIMEOUT;
	ssize_t n;

	if (!ks || !buf)
		return -EINVAL;
	n = lxk_session_read(&ks->s, buf, NULL, len, false, t);
	return n == -ERESTARTSYS ? -EINTR : n;
}
EXPORT_SYMBOL_GPL(llamux_ksession_read);

void llamux_ksession_close(struct llamux_ksession *ks)
{
	if (IS_ERR_OR_NULL(ks))
		return;
	lxk_session_destroy(&ks->s);
	kfree(ks);
	atomic_dec(&api_sessions);
}
EXPORT_SYMBOL_GPL(llamux_ksession_close);

ssize_t llamux_kernel_query(const char *prompt, const struct llamux_params *p,
			    char *out, size_t out_len, unsigned long timeout_ms)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(timeout_ms);
	struct llamux_ksession *ks;
	size_t used = 0;
	ssize_t n;
	int ret;

	if (!prompt || !out || out_len == 0)
		return -EINVAL;
	ks = llamux_ksession_open(p);
	if (IS_ERR(ks))
		return PTR_ERR(ks);
	ret = llamux_ksession_prompt(ks, prompt, strlen(prompt));
	if (ret) {
		llamux_ksession_close(ks);
		return ret;
	}
	for (;;) {
		unsigned long left = 0;
		char scratch[64];

		if (timeout_ms) {
			if (time_after_eq(jiffies, deadline)) {
				n = -ETIMEDOUT;
				break;
			}
			left = jiffies_to_msecs(deadline - jiffies) + 1;
		}
		/* Past out_len, drain into scratch so the request ends. */
		if (used + 1 < out_len)
			n = llamux_ksession_read(ks, out + used,
						 out_len - 1 - used, left);
		else
			n = llamux_ksession_read(ks, scratch, sizeof(scratch),
						 left);
		if (n <= 0)
			break;
		if (used + 1 < out_len)
			used += n;
	}
	out[used] = '\0';
	llamux_ksession_close(ks);
	return n < 0 ? n : (ssize_t)used;
}
EXPORT_SYMBOL_GPL(llamux_kernel_query);
