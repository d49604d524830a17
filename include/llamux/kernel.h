/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The in-kernel API of llamux.ko for other modules (exported GPL): one-shot
 * queries, and sessions that keep a KV cache across calls to generate
 * step by step. All calls may sleep; none may be made from atomic context.
 */
#ifndef LLAMUX_KERNEL_H
#define LLAMUX_KERNEL_H

#include <linux/types.h>
#include <uapi/linux/llamux.h>

struct llamux_ksession;

/* Defaults as set in /proc/llamux/control. */
void llamux_kernel_default_params(struct llamux_params *p);

/*
 * Generates the continuation of prompt (NUL-terminated UTF-8) into out
 * (always NUL-terminated; cut to out_len - 1 bytes). Waits at most
 * timeout_ms (0: no limit). Returns the length written, or -ENODEV (no
 * model), -EINVAL, -E2BIG (prompt too long), -ENOMEM, -ETIMEDOUT,
 * -EINTR (signal), -EBUSY (all sessions in use).
 */
ssize_t llamux_kernel_query(const char *prompt, const struct llamux_params *p,
			    char *out, size_t out_len, unsigned long timeout_ms);

/* Sessions: open, start a prompt, read text as it comes, close. */
struct llamux_ksession *llamux_ksession_open(const struct llamux_params *p);
int llamux_ksession_prompt(struct llamux_ksession *s, const char *prompt,
			   size_t len);
/* Returns bytes read, 0 at the end of the request, or -errno. */
ssize_t llamux_ksession_read(struct llamux_ksession *s, char *buf, size_t len,
			     unsigned long timeout_ms);
void llamux_ksession_close(struct llamux_ksession *s);

#endif
