/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * `llamux run --backend daemon|auto`: generation through llamuxd, spoken as
 * HTTP over its Unix socket (cli/backend_daemon.c, libcurl).
 */
#ifndef LLAMUX_CLI_BACKEND_DAEMON_H
#define LLAMUX_CLI_BACKEND_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

#include "llamux/llamux.h"

/*
 * The socket llamuxd listens on, malloc'd: $LLAMUX_SOCKET, else
 * /run/llamux/llamuxd.sock when it exists, else
 * $XDG_RUNTIME_DIR/llamux/llamuxd.sock.
 */
char *daemon_socket_path(void);

/*
 * For --backend auto: true when a llamuxd answers on the socket, has its
 * model loaded and, when model (a path or name, may be NULL) is given,
 * serves that model (same file name without .gguf). Otherwise false with
 * the reason in why (may be NULL). Quick: about 1 s at most.
 */
bool daemon_available(const char *model, char *why, size_t cap);

/*
 * The continuation of prompt from llamuxd, printed like the in-process
 * backend: the prompt, the streamed text, a newline, and timings on
 * stderr. n_predict -1 means until end of text (up to the service's
 * max-tokens); sp is sent whole (temperature, top-k, top-p, min-p,
 * repetition penalty, seed), so a seeded or greedy run prints what the
 * in-process backend prints (without the prompt unless echo). model:
 * as for daemon_available, checked when given. Returns the exit code (0, or 1 with the error printed).
 */
int daemon_generate(const char *model, const char *prompt, long n_predict,
		    const struct llamux_sampler_params *sp, bool echo);

/*
 * A one-turn conversation (system may be NULL) through llamuxd's chat
 * endpoint, so the service applies the model's chat template; the reply
 * streams to stdout. Returns the exit code, as daemon_generate.
 */
int daemon_chat(const char *model, const char *system, const char *user,
		long n_predict, const struct llamux_sampler_params *sp);

#endif
