/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A conversation with a model, shared by `llamux chat` and `llamux "..."`:
 * the messages, the tokens already in the context's KV cache (each turn
 * appends only its own tokens), the window of recent messages that fits
 * (oldest turns dropped first, the system prompt kept, then the history
 * evaluated once again), and the generation of a reply that stops at EOS and
 * at the chat template's end-of-turn tokens and strings.
 */
#ifndef LLAMUX_CLI_CONVERSATION_H
#define LLAMUX_CLI_CONVERSATION_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chat_template.h"
#include "llamux/llamux.h"

enum conv_role { CONV_USER, CONV_ASSISTANT };

struct conv_msg {
	enum conv_role role;
	char *content;
};

/* Why a reply ended. */
enum conv_stop {
	CONV_STOP_END,		/* EOS or an end-of-turn token or string */
	CONV_STOP_LIMIT,	/* -n tokens */
	CONV_STOP_INTERRUPT,	/* the stop flag (Ctrl-C) */
	CONV_STOP_FULL,		/* the context is full */
};

struct conv_stats {
	size_t prompt_tokens;	/* evaluated for this turn */
	double prompt_s;
	size_t gen_tokens;
	double gen_s;
	enum conv_stop stop;
	bool rebuilt;		/* the whole window was evaluated again */
	size_t dropped;		/* messages that left the window this turn */
	size_t need;		/* CONV_TOO_LONG: tokens the prompt needs */
};

/* Called with each piece of the reply as soon as it is final. */
typedef void (*conv_emit_fn)(void *arg, const char *text, size_t len);

#define CONV_MAX_STOP_TOKENS 8

struct conversation {
	const struct llamux_model *model;
	struct llamux_context *ctx;
	struct llamux_sampler *smpl;
	struct llamux_sampler_params sp;
	struct chat_template tmpl;
	const char *stops[CHAT_MAX_STOPS];	/* text forms */
	size_t n_stops;
	int32_t stop_tokens[CONV_MAX_STOP_TOKENS];
	size_t n_stop_tokens;
	char *system;			/* NULL: none */
	struct conv_msg *msgs;		/* every message since the last reset */
	size_t n_msgs, cap_msgs;
	size_t first;			/* the window: msgs[first..n_msgs) */
	size_t max_history;		/* window size in messages; 0: no limit */
	int32_t *kv;			/* the tokens in the KV cache */
	size_t n_kv, cap_kv;
	bool dirty;			/* kv no longer matches the window */
	struct conv_stats last;
};

/* Return values of the functions below besides 0. */
#define CONV_ERR -1		/* message in err */
#define CONV_TOO_LONG -2	/* even the last message alone does not fit */

/* The conversation uses (does not own) model and ctx. */
int conv_init(struct conversation *c, const struct llamux_model *model,
	      struct llamux_context *ctx, const struct chat_template *t,
	      const struct llamux_sampler_params *sp, size_t max_history,
	      char *err, size_t err_cap);
void conv_free(struct conversation *c);
/* Another model and context (`/model`); the messages stay. */
int conv_set_model(struct conversation *c, const struct llamux_model *model,
		   struct llamux_context *ctx, const struct chat_template *t,
		   char *err, size_t err_cap);
/* text NULL or "": no system prompt. */
int conv_set_system(struct conversation *c, const char *text);
/* Forgets the messages (the system prompt stays) and empties the cache. */
void conv_reset(struct conversation *c);
/* Appends a message without generating (for loading a saved chat). */
int conv_add(struct conversation *c, enum conv_role role, const char *text);

/*
 * Adds the user's message and generates the reply: streamed through emit,
 * kept in the conversation, at most n_predict tokens (-1: until the end of
 * the turn or a full context), stopping early when *stop becomes nonzero.
 * reply (may be NULL) receives a malloc'd copy of the reply's text.
 * CONV_TOO_LONG leaves the message out; c->last.need says how many tokens
 * it needed.
 */
int conv_turn(struct conversation *c, const char *user, long n_predict,
	      volatile sig_atomic_t *stop, conv_emit_fn emit, void *arg,
	      char **reply, char *err, size_t err_cap);

/* Messages in the window (not counting the system prompt). */
size_t conv_window(const struct conversation *c);

/*
 * Saves as JSON: {"model": ..., "messages": [{"role": "system"|"user"|
 * "assistant", "content": ...}, ...]} (the OpenAI message layout); loading
 * replaces the system prompt and the messages.
 */
int conv_save(const struct conversation *c, const char *path,
	      const char *model_name, char *err, size_t err_cap);
int conv_load(struct conversation *c, const char *path, char *err,
	      size_t err_cap);

#endif
