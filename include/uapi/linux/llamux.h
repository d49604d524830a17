/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * /dev/llamux: the kernel's language model, one session per open file.
 * write() a UTF-8 prompt to start a generation, read() its text as it is
 * produced (end of file ends the request), and use these ioctls to set the
 * sampling parameters and read statistics. Fixed point throughout: the
 * kernel side uses no floating point outside its inference core.
 */
#ifndef _UAPI_LINUX_LLAMUX_H
#define _UAPI_LINUX_LLAMUX_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define LLAMUX_DEVICE "/dev/llamux"
#define LLAMUX_PROMPT_MAX 65536		/* bytes per write() */

/* Sampling parameters of a session (defaults: /proc/llamux/control). */
struct llamux_params {
	__u32 max_tokens;		/* tokens to generate, 1 .. context */
	__u32 temperature_milli;	/* 0 .. 100000; 0 = greedy */
	__u32 top_k;			/* 0 = off */
	__u32 top_p_milli;		/* 0 .. 1000; 1000 = off */
	__u32 min_p_milli;		/* 0 .. 1000; 0 = off */
	__u32 repeat_penalty_milli;	/* 1 .. 100000; 1000 = off */
	__u32 greedy;			/* 1: argmax whatever the temperature */
	__u32 reserved;			/* must be 0 */
	__u64 seed;
};

enum llamux_state {
	LLAMUX_STATE_IDLE = 0,		/* no request yet */
	LLAMUX_STATE_RUNNING = 1,	/* generating */
	LLAMUX_STATE_DONE = 2,		/* finished; text may remain to read */
	LLAMUX_STATE_FAILED = 3,	/* stopped by an error (see error) */
};

/* Statistics of the session's latest request. */
struct llamux_stats {
	__u32 state;			/* enum llamux_state */
	__s32 error;			/* negative errno when FAILED */
	__u32 prompt_tokens;
	__u32 generated_tokens;
	__u64 prompt_ns;		/* time to evaluate the prompt */
	__u64 generate_ns;		/* time spent generating */
	__u32 n_ctx;			/* context size of the session */
	/* 0 running, 1 EOS, 2 max tokens, 3 context full, 4 cancelled */
	__u32 stop_reason;
};

/* What the loaded model is. */
struct llamux_model_desc {
	char name[64];			/* general.name */
	char arch[32];			/* general.architecture */
	char file[64];			/* file under /lib/firmware/llamux/ */
	__u32 n_vocab;
	__u32 n_ctx_train;
	__u32 n_layer;
	__u32 n_embd;
	__u64 file_bytes;
};

#define LLAMUX_IOC_MAGIC 0xB7
#define LLAMUX_IOC_SET_PARAMS _IOW(LLAMUX_IOC_MAGIC, 1, struct llamux_params)
#define LLAMUX_IOC_GET_PARAMS _IOR(LLAMUX_IOC_MAGIC, 2, struct llamux_params)
#define LLAMUX_IOC_GET_STATS _IOR(LLAMUX_IOC_MAGIC, 3, struct llamux_stats)
#define LLAMUX_IOC_GET_MODEL _IOR(LLAMUX_IOC_MAGIC, 4, struct llamux_model_desc)
#define LLAMUX_IOC_CANCEL _IO(LLAMUX_IOC_MAGIC, 5)

#endif
