/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Shared declarations of llamux.ko's glue: the loaded model, sessions (one
 * per open /dev/llamux, the /proc prompt, or an in-kernel API user), module
 * parameters and statistics. The glue uses no floating point: every call
 * into the inference core is wrapped in lxk_fpu_begin()/lxk_fpu_end().
 */
#ifndef LLAMUX_LXK_H
#define LLAMUX_LXK_H

#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/list.h>
#include <linux/atomic.h>
#include <uapi/linux/llamux.h>

#include "base.h"
#include "llamux/llamux.h"

#define LXK_FIRMWARE_DIR "/lib/firmware/llamux/"
#define LXK_NAME_MAX 63		/* model file names */

/* Module parameters (main.c). */
extern char *lxk_param_model;
extern unsigned int lxk_param_threads;
extern unsigned int lxk_param_max_context;
extern unsigned int lxk_param_max_sessions;
extern unsigned long lxk_param_mem_limit;
extern char *lxk_param_cpu;

/* A loaded model; sessions hold references, so a switch never pulls it
 * from under a running request.
 */
struct lxk_model {
	struct kref ref;
	struct llamux_model *m;
	void *buf;			/* the file, read once (vmalloc) */
	size_t size;
	char file[LXK_NAME_MAX + 1];
	struct llamux_model_desc desc;
	char types[96];			/* tensor types, e.g. "F32, Q4_K, Q6_K" */
};

struct lxk_model *lxk_model_get(void);	/* current model or NULL */
void lxk_model_put(struct lxk_model *m);
int lxk_model_load(const char *name, char *err, size_t err_len);
void lxk_model_unload(void);

/* Defaults for new sessions and /proc/llamux/prompt (control). */
void lxk_defaults_get(struct llamux_params *p);
void lxk_defaults_set(const struct llamux_params *p);
int lxk_params_check(const struct llamux_params *p);

enum lxk_stop {
	LXK_STOP_NONE, LXK_STOP_EOS, LXK_STOP_MAX_TOKENS, LXK_STOP_CONTEXT,
	LXK_STOP_CANCELLED,
};

/* One generation stream with its own KV cache. */
struct lxk_session {
	struct mutex lock;		/* state, text, params */
	wait_queue_head_t wait;		/* text arrived or request ended */
	struct work_struct work;	/* the generation */
	struct list_head node;		/* in lxk_sessions */
	struct llamux_params params;
	struct lxk_model *model;	/* held while ctx exists */
	struct llamux_context *ctx;
	int32_t *tokens;		/* the prompt being evaluated */
	size_t n_tokens;
	char *text;			/* generated text of the request */
	size_t text_len, text_cap;
	size_t read_pos;		/* bytes already read */
	bool started;			/* a request was ever made */
	atomic_t cancel;
	struct llamux_stats stats;
};

int lxk_session_init(struct lxk_session *s, const struct llamux_params *p);
/* Cancels any request, waits for it, frees everything. */
void lxk_session_destroy(struct lxk_session *s);
/* Starts generating from prompt; -EBUSY while a request runs. */
int lxk_session_start(struct lxk_session *s, const char *prompt, size_t len);
/* Copies out generated text (to kbuf, or to ubuf in userspace): > 0 bytes,
 * 0 at the end of the request, -EAGAIN if nothing yet (nonblock), -ENODATA
 * before any request, -ENODEV while the module unloads.
 */
ssize_t lxk_session_read(struct lxk_session *s, char *kbuf, char __user *ubuf,
			 size_t len, bool nonblock, long timeout_jiffies);
bool lxk_session_readable(struct lxk_session *s);
bool lxk_session_running(struct lxk_session *s);
void lxk_session_cancel(struct lxk_session *s);
/* Waits until the current request ends (or a signal/timeout). */
int lxk_session_wait_done(struct lxk_session *s, long timeout_jiffies);

/* Every session, for status and for cancelling at unload. */
extern struct mutex lxk_sessions_lock;
extern struct list_head lxk_sessions;
extern bool lxk_unloading;
extern struct workqueue_struct *lxk_wq;

struct lxk_counters {
	atomic64_t requests;
	atomic64_t tokens;
	atomic64_t last_prompt_tps;	/* tokens per second, integer */
	atomic64_t last_generate_tps;
};
extern struct lxk_counters lxk_stats;

/* Host (host_kernel.c): FPU sections, worker threads, memory accounting. */
void lxk_fpu_begin(void);
void lxk_fpu_end(void);
int lxk_host_init(unsigned int threads);
void lxk_host_exit(void);
u64 lxk_host_mem_used(void);
u32 lxk_cpu_limit(void);		/* from the cpu= parameter */
const char *lxk_simd_name(void);	/* level in use */
unsigned int lxk_host_threads(void);

/* Interfaces. */
int lxk_dev_init(void);
void lxk_dev_exit(void);
int lxk_proc_init(void);
void lxk_proc_exit(void);
void lxk_proc_cancel(void);

#endif
