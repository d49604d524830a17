// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Chat templates: detection from tokenizer.chat_template and rendering, with
 * the exact strings of llama.cpp's src/llama-chat.cpp for each family (the
 * Zephyr form writes the model's EOS where llama.cpp hard-codes StableLM's
 * "<|endoftext|>", which is what the Jinja templates of TinyLlama and
 * Zephyr-7B produce). tests/test_chat_template.c holds the expected prompts.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat_template.h"

static const char *const names[CHAT_TMPL_COUNT] = {
	[CHAT_TMPL_PLAIN] = "plain",
	[CHAT_TMPL_CHATML] = "chatml",
	[CHAT_TMPL_LLAMA2] = "llama2",
	[CHAT_TMPL_LLAMA2_SYS] = "llama2-sys",
	[CHAT_TMPL_LLAMA2_SYS_BOS] = "llama2-sys-bos",
	[CHAT_TMPL_LLAMA2_SYS_STRIP] = "llama2-sys-strip",
	[CHAT_TMPL_ZEPHYR] = "zephyr",
	[CHAT_TMPL_LLAMA3] = "llama3",
	[CHAT_TMPL_PHI3] = "phi3",
	[CHAT_TMPL_GEMMA] = "gemma",
};

const char *chat_template_name(enum chat_tmpl kind)
{
	return kind < CHAT_TMPL_COUNT ? names[kind] : "?";
}

const char *chat_template_names(void)
{
	return "plain, chatml, llama2, llama2-sys, llama2-sys-bos, llama2-sys-strip, zephyr, llama3, phi3, gemma";
}

bool chat_template_by_name(const char *name, enum chat_tmpl *kind)
{
	int i;

	for (i = 0; i < CHAT_TMPL_COUNT; i++) {
		if (!strcmp(name, names[i])) {
			*kind = (enum chat_tmpl)i;
			return true;
		}
	}
	return false;
}

/* Whether src[0..len) contains the NUL-terminated string s. */
static bool has(const char *src, size_t len, const char *s)
{
	size_t n = strlen(s), i;

	if (n > len)
		return false;
	for (i = 0; i + n <= len; i++)
		if (src[i] == s[0] && !memcmp(src + i, s, n))
			return true;
	return false;
}

bool chat_template_detect(const char *src, size_t len, enum chat_tmpl *kind)
{
	char name[32];

	*kind = CHAT_TMPL_PLAIN;
	if (!src || !len)
		return false;
	if (len < sizeof(name)) {
		memcpy(name, src, len);
		name[len] = '\0';
		if (chat_template_by_name(name, kind))
			return true;
	}
	/* The order and strings follow llm_chat_detect_template. */
	if (has(src, len, "<|im_start|>")) {
		*kind = CHAT_TMPL_CHATML;
	} else if ((len >= 7 && !memcmp(src, "mistral", 7)) ||
		   has(src, len, "[INST]")) {
		/* Mistral's own variants render as Llama-2 here. */
		if (has(src, len, "content.strip()"))
			*kind = CHAT_TMPL_LLAMA2_SYS_STRIP;
		else if (has(src, len, "bos_token + '[INST]"))
			*kind = CHAT_TMPL_LLAMA2_SYS_BOS;
		else if (has(src, len, "<<SYS>>"))
			*kind = CHAT_TMPL_LLAMA2_SYS;
		else
			*kind = CHAT_TMPL_LLAMA2;
	} else if (has(src, len, "<|assistant|>") && has(src, len, "<|end|>")) {
		*kind = CHAT_TMPL_PHI3;
	} else if (has(src, len, "<|user|>")) {
		/* llama.cpp splits this further (Falcon 3, GLM-Edge, and
		 * TinyLlama's template lands on GLM-Edge); every template of
		 * this shape we support ends turns with EOS.
		 */
		*kind = CHAT_TMPL_ZEPHYR;
	} else if (has(src, len, "<start_of_turn>")) {
		*kind = CHAT_TMPL_GEMMA;
	} else if (has(src, len, "<|start_header_id|>") &&
		   has(src, len, "<|end_header_id|>")) {
		*kind = CHAT_TMPL_LLAMA3;
	}
	return *kind != CHAT_TMPL_PLAIN;
}

void chat_template_init(struct chat_template *t, enum chat_tmpl kind,
			const char *eos)
{
	t->kind = kind;
	snprintf(t->eos, sizeof(t->eos), "%s", eos && *eos ? eos : "</s>");
}

bool chat_template_for_model(struct chat_template *t,
			     const struct llamux_model *m,
			     const char *name_override, char *note,
			     size_t note_cap)
{
	enum chat_tmpl kind = CHAT_TMPL_PLAIN;
	char eos[32] = "";
	const char *src = NULL;
	size_t len = 0, n;
	int32_t tok = llamux_token_eos(m);

	if (note && note_cap)
		note[0] = '\0';
	if (tok >= 0) {
		n = llamux_token_to_piece(m, tok, true, eos, sizeof(eos) - 1);
		eos[n < sizeof(eos) ? n : sizeof(eos) - 1] = '\0';
	}
	if (name_override) {
		if (!chat_template_by_name(name_override, &kind))
			return false;
	} else if (!llamux_model_meta_str(m, "tokenizer.chat_template", &src,
					  &len)) {
		if (note)
			snprintf(note, note_cap, "the model has no chat template; using the plain User:/Assistant: form");
	} else if (!chat_template_detect(src, len, &kind)) {
		if (note)
			snprintf(note, note_cap, "the model's chat template is not one llamux knows; using the plain User:/Assistant: form (--template NAME chooses one)");
	}
	if (kind == CHAT_TMPL_ZEPHYR && src && has(src, len, "<|endoftext|>"))
		snprintf(eos, sizeof(eos), "<|endoftext|>");
	chat_template_init(t, kind, eos);
	return true;
}

/* A growing string; oom sticks once set. */
struct sb {
	char *p;
	size_t n, cap;
	bool oom;
};

static void add_n(struct sb *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *p = realloc(b->p, cap);

		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void add(struct sb *b, const char *s)
{
	add_n(b, s, strlen(s));
}

/* s without leading and trailing white space (as llama.cpp's trim()). */
static void add_trimmed(struct sb *b, const char *s)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	add_n(b, s, n);
}

static bool is(const char *role, const char *what)
{
	return !strcmp(role, what);
}

static void render_llama2(struct sb *b, enum chat_tmpl kind,
			  const struct chat_msg *msgs, size_t n)
{
	bool sys = kind != CHAT_TMPL_LLAMA2;
	bool bos_inside = kind == CHAT_TMPL_LLAMA2_SYS_BOS;
	bool strip = kind == CHAT_TMPL_LLAMA2_SYS_STRIP;
	bool inside = true;	/* skip BOS at the beginning */
	size_t i;

	add(b, "[INST] ");
	for (i = 0; i < n; i++) {
		const char *role = msgs[i].role;

		if (!inside) {
			inside = true;
			add(b, bos_inside ? "<s>[INST] " : "[INST] ");
		}
		if (is(role, "system")) {
			if (sys)
				add(b, "<<SYS>>\n");
			if (strip)
				add_trimmed(b, msgs[i].content);
			else
				add(b, msgs[i].content);
			add(b, sys ? "\n<</SYS>>\n\n" : "\n");
		} else {
			if (strip)
				add_trimmed(b, msgs[i].content);
			else
				add(b, msgs[i].content);
			if (is(role, "user")) {
				add(b, " [/INST]");
			} else {
				add(b, "</s>");
				inside = false;
			}
		}
	}
}

static void render_gemma(struct sb *b, const struct chat_msg *msgs, size_t n,
			 bool add_ass)
{
	struct sb sys = { 0 };
	size_t i;

	for (i = 0; i < n; i++) {
		const char *role = msgs[i].role;

		if (is(role, "system")) {
			/* Gemma has no system turn: it goes into the next
			 * user turn.
			 */
			add_trimmed(&sys, msgs[i].content);
			continue;
		}
		if (is(role, "assistant"))
			role = "model";
		add(b, "<start_of_turn>");
		add(b, role);
		add(b, "\n");
		if (sys.n && !is(role, "model")) {
			add_n(b, sys.p, sys.n);
			add(b, "\n\n");
			sys.n = 0;
		}
		add_trimmed(b, msgs[i].content);
		add(b, "<end_of_turn>\n");
	}
	if (sys.oom)
		b->oom = true;
	free(sys.p);
	if (add_ass)
		add(b, "<start_of_turn>model\n");
}

char *chat_template_apply(const struct chat_template *t,
			  const struct chat_msg *msgs, size_t n,
			  bool add_ass)
{
	struct sb b = { 0 };
	size_t i;

	add(&b, "");
	switch (t->kind) {
	case CHAT_TMPL_CHATML:
		for (i = 0; i < n; i++) {
			add(&b, "<|im_start|>");
			add(&b, msgs[i].role);
			add(&b, "\n");
			add(&b, msgs[i].content);
			add(&b, "<|im_end|>\n");
		}
		if (add_ass)
			add(&b, "<|im_start|>assistant\n");
		break;
	case CHAT_TMPL_LLAMA2:
	case CHAT_TMPL_LLAMA2_SYS:
	case CHAT_TMPL_LLAMA2_SYS_BOS:
	case CHAT_TMPL_LLAMA2_SYS_STRIP:
		render_llama2(&b, t->kind, msgs, n);
		break;
	case CHAT_TMPL_ZEPHYR:
		for (i = 0; i < n; i++) {
			add(&b, "<|");
			add(&b, msgs[i].role);
			add(&b, "|>\n");
			add(&b, msgs[i].content);
			add(&b, t->eos);
			add(&b, "\n");
		}
		if (add_ass)
			add(&b, "<|assistant|>\n");
		break;
	case CHAT_TMPL_LLAMA3:
		for (i = 0; i < n; i++) {
			add(&b, "<|start_header_id|>");
			add(&b, msgs[i].role);
			add(&b, "<|end_header_id|>\n\n");
			add_trimmed(&b, msgs[i].content);
			add(&b, "<|eot_id|>");
		}
		if (add_ass)
			add(&b, "<|start_header_id|>assistant<|end_header_id|>\n\n");
		break;
	case CHAT_TMPL_PHI3:
		for (i = 0; i < n; i++) {
			add(&b, "<|");
			add(&b, msgs[i].role);
			add(&b, "|>\n");
			add(&b, msgs[i].content);
			add(&b, "<|end|>\n");
		}
		if (add_ass)
			add(&b, "<|assistant|>\n");
		break;
	case CHAT_TMPL_GEMMA:
		render_gemma(&b, msgs, n, add_ass);
		break;
	case CHAT_TMPL_PLAIN:
	default:
		for (i = 0; i < n; i++) {
			if (is(msgs[i].role, "system")) {
				add(&b, msgs[i].content);
				add(&b, "\n\n");
				continue;
			}
			add(&b, is(msgs[i].role, "user") ? "User: " : "Assistant: ");
			add(&b, msgs[i].content);
			add(&b, "\n");
		}
		if (add_ass)
			add(&b, "Assistant:");
		break;
	}
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

size_t chat_template_stops(const struct chat_template *t,
			   const char *stops[CHAT_MAX_STOPS])
{
	switch (t->kind) {
	case CHAT_TMPL_CHATML:
		stops[0] = "<|im_end|>";
		return 1;
	case CHAT_TMPL_LLAMA2:
	case CHAT_TMPL_LLAMA2_SYS:
	case CHAT_TMPL_LLAMA2_SYS_BOS:
	case CHAT_TMPL_LLAMA2_SYS_STRIP:
		stops[0] = "</s>";
		return 1;
	case CHAT_TMPL_ZEPHYR:
		stops[0] = t->eos;
		return 1;
	case CHAT_TMPL_LLAMA3:
		stops[0] = "<|eot_id|>";
		stops[1] = "<|eom_id|>";
		return 2;
	case CHAT_TMPL_PHI3:
		stops[0] = "<|end|>";
		return 1;
	case CHAT_TMPL_GEMMA:
		stops[0] = "<end_of_turn>";
		return 1;
	case CHAT_TMPL_PLAIN:
	default:
		/* A base model goes on to write the user's next line. */
		stops[0] = "\nUser:";
		return 1;
	}
}

const char *chat_template_end_of_turn(const struct chat_template *t)
{
	const char *stops[CHAT_MAX_STOPS];

	if (t->kind == CHAT_TMPL_PLAIN)
		return "";
	chat_template_stops(t, stops);
	return stops[0];
}
