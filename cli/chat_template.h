/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Chat templates: which prompt format a model was trained with, recognised
 * from its tokenizer.chat_template by distinctive substrings (the way
 * llama.cpp's llm_chat_detect_template does; no Jinja), and the rendering of
 * a conversation in that format exactly as llama.cpp's
 * llm_chat_apply_template writes it. The rendered text is meant to be
 * tokenized with parse_special (and, for a whole conversation, add_special so
 * BOS comes from the vocabulary).
 */
#ifndef LLAMUX_CLI_CHAT_TEMPLATE_H
#define LLAMUX_CLI_CHAT_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "llamux/llamux.h"

enum chat_tmpl {
	/* Base models without a template:
	 *   SYSTEM\n\nUser: MESSAGE\nAssistant: REPLY\nUser: ...\nAssistant:
	 */
	CHAT_TMPL_PLAIN,
	CHAT_TMPL_CHATML,		/* <|im_start|>role\n...<|im_end|>\n */
	CHAT_TMPL_LLAMA2,		/* [INST] ... [/INST], no <<SYS>> */
	CHAT_TMPL_LLAMA2_SYS,		/* [INST] <<SYS>>\n...\n<</SYS>>\n\n */
	CHAT_TMPL_LLAMA2_SYS_BOS,	/* ... with <s> before later turns */
	CHAT_TMPL_LLAMA2_SYS_STRIP,	/* ... with messages trimmed */
	CHAT_TMPL_ZEPHYR,		/* <|user|>\n...EOS\n<|assistant|>\n */
	CHAT_TMPL_LLAMA3,		/* <|start_header_id|>role<|end_header_id|>\n\n */
	CHAT_TMPL_PHI3,			/* <|user|>\n...<|end|>\n<|assistant|>\n */
	CHAT_TMPL_GEMMA,		/* <start_of_turn>user\n...<end_of_turn>\n */
	CHAT_TMPL_COUNT
};

struct chat_msg {
	const char *role;	/* "system", "user" or "assistant" */
	const char *content;
};

struct chat_template {
	enum chat_tmpl kind;
	/* The text that ends each Zephyr turn: the model's EOS ("</s>" for
	 * TinyLlama and Zephyr-7B, "<|endoftext|>" for StableLM Zephyr).
	 */
	char eos[32];
};

/* "chatml", "llama2-sys", ... ("plain" for the fallback). */
const char *chat_template_name(enum chat_tmpl kind);
/* Every name, comma-separated, for messages. */
const char *chat_template_names(void);
bool chat_template_by_name(const char *name, enum chat_tmpl *kind);

/*
 * The family of a tokenizer.chat_template (src, len bytes): a name as
 * above, or a Jinja template recognised by its distinctive strings. False
 * (and *kind = PLAIN) when it is none of the supported families.
 */
bool chat_template_detect(const char *src, size_t len, enum chat_tmpl *kind);

/* eos: see struct chat_template; NULL means "</s>". */
void chat_template_init(struct chat_template *t, enum chat_tmpl kind,
			const char *eos);

/*
 * The template a model asks for: name_override (e.g. --template) if given,
 * else its tokenizer.chat_template, else PLAIN. Returns false when the name
 * is unknown; *note (may be NULL) gets a one-line remark when the model's
 * template was absent or not recognised (empty otherwise).
 */
bool chat_template_for_model(struct chat_template *t,
			     const struct llamux_model *m,
			     const char *name_override, char *note,
			     size_t note_cap);

/*
 * Renders msgs; add_generation_prompt appends the start of the assistant's
 * turn. A malloc'd string (NULL when out of memory).
 */
char *chat_template_apply(const struct chat_template *t,
			  const struct chat_msg *msgs, size_t n,
			  bool add_generation_prompt);

/*
 * The strings that end the assistant's turn (generation stops at them, as
 * tokens and as text), at most CHAT_MAX_STOPS. Returns how many.
 */
#define CHAT_MAX_STOPS 4
size_t chat_template_stops(const struct chat_template *t,
			   const char *stops[CHAT_MAX_STOPS]);
/*
 * What the template writes right after an assistant's message, before any
 * newline ("<|im_end|>", "</s>", "" for PLAIN): appended when a reply stops
 * early so the conversation stays well-formed.
 */
const char *chat_template_end_of_turn(const struct chat_template *t);

#endif
