/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * lsh's remote model backends (internal to model.c): llamuxd over its Unix
 * socket and the kernel module's /dev/llamux, and the filter that turns
 * their free-form answers into one line of printable ASCII.
 */
#ifndef LSH_MODEL_REMOTE_H
#define LSH_MODEL_REMOTE_H

#include <stdbool.h>
#include <stddef.h>

#define LSH_MAX_NEW_TOKENS 64

/* snprintf for messages, which may be cut to fit. */
void lsh_msg(char *buf, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* llamuxd's socket: $LLAMUX_SOCKET, /run/llamux, $XDG_RUNTIME_DIR/llamux. */
void lsh_daemon_socket(char *out, size_t cap);
/* GET /health answers 200; else false with why. */
bool lsh_daemon_probe(const char *sock, char *why, size_t cap);
/* POST /v1/completions, greedy, stop at a newline; err: LLAMUX_ERR_MAX. */
bool lsh_daemon_generate(const char *sock, const char *prompt, char *out,
			 size_t cap, char *err);

/* /dev/llamux opens and has a model (its file name in model); else why. */
bool lsh_kernel_probe(char *model, size_t mcap, char *why, size_t cap);
/* One greedy generation, read up to its first newline. */
bool lsh_kernel_generate(const char *prompt, char *out, size_t cap, char *err);

/*
 * Keeps text up to its first newline (and before a "Request:" the model
 * went on to), trimmed, into out; false with why in err when that has bytes
 * outside printable ASCII or does not fit.
 */
bool lsh_remote_answer(const char *text, char *out, size_t cap, char *err);

#endif
