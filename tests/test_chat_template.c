// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Chat templates and conversations: each family renders llama.cpp's
 * test-chat-template.cpp conversation to exactly the prompt llama.cpp
 * expects (system, user, assistant, user, assistant, user, plus the
 * generation prompt); real tokenizer.chat_template strings are recognised;
 * BOS comes from tokenization and special strings become tokens; and a
 * conversation on stories260K keeps in its KV cache exactly the rendered
 * window, drops old turns to fit, and saves/loads its messages.
 */
#include <ctype.h>
#include <string.h>

#include "testlib.h"

/* The CLI's sources are not in a library; they are built into this test. */
#include "chat_template.c"
#include "conversation.c"
#include "output.c"

#define STORIES "../shared/models/stories260K.gguf"
#define LLAMA2_VOCAB "../shared/models/llama-2-tiny-random.gguf"

static const struct chat_msg conversation[] = {
	{ "system", "You are a helpful assistant" },
	{ "user", "Hello" },
	{ "assistant", "Hi there" },
	{ "user", "Who are you" },
	{ "assistant", "   I am an assistant   " },
	{ "user", "Another question" },
};
#define N_CONV (sizeof(conversation) / sizeof(conversation[0]))

struct expect {
	enum chat_tmpl kind;
	const char *eos;
	const char *prompt;
};

/* From llama.cpp tests/test-chat-template.cpp (expected_output), except
 * where noted.
 */
static const struct expect expected[] = {
	/* teknium/OpenHermes-2.5-Mistral-7B */
	{ CHAT_TMPL_CHATML, NULL,
	  "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n" },
	/* mistralai/Mistral-7B-Instruct-v0.2 (no system prompt support) */
	{ CHAT_TMPL_LLAMA2, NULL,
	  "[INST] You are a helpful assistant\nHello [/INST]Hi there</s>[INST] Who are you [/INST]   I am an assistant   </s>[INST] Another question [/INST]" },
	/* llama2-sys: llm_chat_apply_template's output (no test case) */
	{ CHAT_TMPL_LLAMA2_SYS, NULL,
	  "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s>[INST] Who are you [/INST]   I am an assistant   </s>[INST] Another question [/INST]" },
	/* TheBloke/FusionNet_34Bx2_MoE-AWQ */
	{ CHAT_TMPL_LLAMA2_SYS_BOS, NULL,
	  "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s><s>[INST] Who are you [/INST]   I am an assistant   </s><s>[INST] Another question [/INST]" },
	/* bofenghuang/vigogne-2-70b-chat (and meta-llama/Llama-2-7b-chat-hf) */
	{ CHAT_TMPL_LLAMA2_SYS_STRIP, NULL,
	  "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s>[INST] Who are you [/INST]I am an assistant</s>[INST] Another question [/INST]" },
	/* google/gemma-7b-it */
	{ CHAT_TMPL_GEMMA, NULL,
	  "<start_of_turn>user\nYou are a helpful assistant\n\nHello<end_of_turn>\n<start_of_turn>model\nHi there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n<start_of_turn>model\nI am an assistant<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>\n<start_of_turn>model\n" },
	/* Llama-3 */
	{ CHAT_TMPL_LLAMA3, NULL,
	  "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n" },
	/* Phi-3-mini, -small, -medium, -vision */
	{ CHAT_TMPL_PHI3, NULL,
	  "<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother question<|end|>\n<|assistant|>\n" },
	/* llama.cpp's built-in "zephyr" (StableLM Zephyr's EOS) */
	{ CHAT_TMPL_ZEPHYR, "<|endoftext|>",
	  "<|system|>\nYou are a helpful assistant<|endoftext|>\n<|user|>\nHello<|endoftext|>\n<|assistant|>\nHi there<|endoftext|>\n<|user|>\nWho are you<|endoftext|>\n<|assistant|>\n   I am an assistant   <|endoftext|>\n<|user|>\nAnother question<|endoftext|>\n<|assistant|>\n" },
	/* TinyLlama-1.1B-Chat / zephyr-7b-beta: their Jinja template with
	 * eos_token "</s>" (trim_blocks, as Hugging Face renders it).
	 */
	{ CHAT_TMPL_ZEPHYR, "</s>",
	  "<|system|>\nYou are a helpful assistant</s>\n<|user|>\nHello</s>\n<|assistant|>\nHi there</s>\n<|user|>\nWho are you</s>\n<|assistant|>\n   I am an assistant   </s>\n<|user|>\nAnother question</s>\n<|assistant|>\n" },
	/* llamux's own fallback for base models */
	{ CHAT_TMPL_PLAIN, NULL,
	  "You are a helpful assistant\n\nUser: Hello\nAssistant: Hi there\nUser: Who are you\nAssistant:    I am an assistant   \nUser: Another question\nAssistant:" },
};

/* Real tokenizer.chat_template values and what they are. */
static const struct {
	const char *name;
	const char *src;
	enum chat_tmpl kind;
} detect_cases[] = {
	{ "OpenHermes-2.5 (chatml)",
	  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
	  CHAT_TMPL_CHATML },
	{ "Mistral-7B-Instruct-v0.2",
	  "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}",
	  CHAT_TMPL_LLAMA2 },
	{ "FusionNet",
	  "{%- for idx in range(0, messages|length) -%}\n{%- if messages[idx]['role'] == 'user' -%}\n{%- if idx > 1 -%}\n{{- bos_token + '[INST] ' + messages[idx]['content'] + ' [/INST]' -}}\n{%- else -%}\n{{- messages[idx]['content'] + ' [/INST]' -}}\n{%- endif -%}\n{% elif messages[idx]['role'] == 'system' %}\n{{- '[INST] <<SYS>>\\n' + messages[idx]['content'] + '\\n<</SYS>>\\n\\n' -}}\n{%- elif messages[idx]['role'] == 'assistant' -%}\n{{- ' '  + messages[idx]['content'] + ' ' + eos_token -}}\n{% endif %}\n{% endfor %}",
	  CHAT_TMPL_LLAMA2_SYS_BOS },
	{ "Llama-2-7b-chat-hf",
	  "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}",
	  CHAT_TMPL_LLAMA2_SYS_STRIP },
	{ "a llama2 template with <<SYS>> only",
	  "{{ '[INST] <<SYS>>\\n' + system + '\\n<</SYS>>\\n\\n' }}", CHAT_TMPL_LLAMA2_SYS },
	{ "gemma-7b-it",
	  "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}",
	  CHAT_TMPL_GEMMA },
	{ "Llama-3",
	  "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}",
	  CHAT_TMPL_LLAMA3 },
	{ "Phi-3-mini",
	  "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') %}{{'<|user|>' + '\n' + message['content'] + '<|end|>' + '\n' + '<|assistant|>' + '\n'}}{% elif (message['role'] == 'assistant') %}{{message['content'] + '<|end|>' + '\n'}}{% endif %}{% endfor %}",
	  CHAT_TMPL_PHI3 },
	{ "TinyLlama-1.1B-Chat-v1.0",
	  "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}",
	  CHAT_TMPL_ZEPHYR },
	{ "names", "chatml", CHAT_TMPL_CHATML },
	{ "names", "llama3", CHAT_TMPL_LLAMA3 },
	{ "names", "gemma", CHAT_TMPL_GEMMA },
};

static void test_render(void)
{
	size_t i;

	for (i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		struct chat_template t;
		char *s;

		chat_template_init(&t, expected[i].kind, expected[i].eos);
		s = chat_template_apply(&t, conversation, N_CONV, true);
		CHECK(s && !strcmp(s, expected[i].prompt),
		      "%s (eos %s):\n got: %s\nwant: %s",
		      chat_template_name(expected[i].kind),
		      expected[i].eos ? expected[i].eos : "-", s ? s : "(null)",
		      expected[i].prompt);
		free(s);
	}
}

/* Without the generation prompt, and the prefix property the KV cache
 * reuse relies on: the rendering of a shorter conversation starts the
 * rendering of a longer one.
 */
static void test_prefixes(void)
{
	int k;
	size_t n;

	for (k = 0; k < CHAT_TMPL_COUNT; k++) {
		struct chat_template t;

		chat_template_init(&t, (enum chat_tmpl)k, NULL);
		for (n = 2; n < N_CONV; n++) {
			char *a = chat_template_apply(&t, conversation, n, false);
			char *b = chat_template_apply(&t, conversation, n + 1,
						      true);
			char *g = chat_template_apply(&t, conversation, n, true);

			CHECK(a && b && !strncmp(a, b, strlen(a)),
			      "%s: %zu messages are not a prefix of %zu:\n%s\n%s",
			      chat_template_name(t.kind), n, n + 1, a, b);
			/* After a user message, the generation prompt only
			 * appends (Llama-2 has none).
			 */
			if (!strcmp(conversation[n - 1].role, "user"))
				CHECK(a && g && !strncmp(a, g, strlen(a)),
				      "%s: generation prompt after %zu",
				      chat_template_name(t.kind), n);
			free(a);
			free(b);
			free(g);
		}
	}
	/* Exact strings without the generation prompt. */
	{
		struct chat_template t;
		char *s;

		chat_template_init(&t, CHAT_TMPL_CHATML, NULL);
		s = chat_template_apply(&t, conversation + 1, 2, false);
		CHECK(s && !strcmp(s, "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n"),
		      "chatml without generation prompt: %s", s);
		free(s);
		chat_template_init(&t, CHAT_TMPL_GEMMA, NULL);
		s = chat_template_apply(&t, conversation, 1, true);
		CHECK(s && !strcmp(s, "<start_of_turn>model\n"),
		      "gemma, system only: %s", s);
		free(s);
	}
}

static void test_detect(void)
{
	enum chat_tmpl kind;
	size_t i;

	for (i = 0; i < sizeof(detect_cases) / sizeof(detect_cases[0]); i++) {
		bool ok = chat_template_detect(detect_cases[i].src,
					       strlen(detect_cases[i].src), &kind);

		CHECK(ok && kind == detect_cases[i].kind, "%s: detected %s",
		      detect_cases[i].name, ok ? chat_template_name(kind) : "nothing");
	}
	/* Vicuna has no family here: plain, and reported as unknown. */
	CHECK(!chat_template_detect("{{ 'USER: ' + m + 'ASSISTANT: ' }}", 33, &kind) &&
	      kind == CHAT_TMPL_PLAIN, "vicuna detected as %s",
	      chat_template_name(kind));
	CHECK(!chat_template_detect(NULL, 0, &kind) && kind == CHAT_TMPL_PLAIN,
	      "no template");
	CHECK(chat_template_by_name("llama2-sys-bos", &kind) &&
	      kind == CHAT_TMPL_LLAMA2_SYS_BOS, "by name");
	CHECK(!chat_template_by_name("jinja", &kind), "unknown name accepted");
}

static void test_stops(void)
{
	static const struct {
		enum chat_tmpl kind;
		const char *first_stop, *eot;
	} cases[] = {
		{ CHAT_TMPL_PLAIN, "\nUser:", "" },
		{ CHAT_TMPL_CHATML, "<|im_end|>", "<|im_end|>" },
		{ CHAT_TMPL_LLAMA2_SYS, "</s>", "</s>" },
		{ CHAT_TMPL_ZEPHYR, "</s>", "</s>" },
		{ CHAT_TMPL_LLAMA3, "<|eot_id|>", "<|eot_id|>" },
		{ CHAT_TMPL_PHI3, "<|end|>", "<|end|>" },
		{ CHAT_TMPL_GEMMA, "<end_of_turn>", "<end_of_turn>" },
	};
	const char *stops[CHAT_MAX_STOPS];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct chat_template t;

		chat_template_init(&t, cases[i].kind, NULL);
		n = chat_template_stops(&t, stops);
		CHECK(n >= 1 && !strcmp(stops[0], cases[i].first_stop),
		      "%s: stop '%s'", chat_template_name(t.kind),
		      n ? stops[0] : "");
		CHECK(!strcmp(chat_template_end_of_turn(&t), cases[i].eot),
		      "%s: end of turn '%s'", chat_template_name(t.kind),
		      chat_template_end_of_turn(&t));
	}
}

/* BOS from tokenization (add_special) and "</s>" parsed as EOS, on the
 * Llama-2 vocabulary.
 */
static void test_tokens(void)
{
	struct llamux_model *m = llamux_model_load(LLAMA2_VOCAB,
						   LLAMUX_LOAD_VOCAB_ONLY, NULL);
	struct chat_template t;
	struct conversation c;
	int32_t toks[256];
	int64_t n, i, n_eos = 0;
	char *s;

	CHECK(m != NULL, "cannot load %s", LLAMA2_VOCAB);
	if (!m)
		return;
	chat_template_for_model(&t, m, NULL, NULL, 0);
	CHECK(t.kind == CHAT_TMPL_PLAIN, "no template in the file: %s",
	      chat_template_name(t.kind));
	chat_template_init(&t, CHAT_TMPL_LLAMA2_SYS, NULL);
	s = chat_template_apply(&t, conversation, N_CONV, true);
	n = llamux_tokenize(m, s, strlen(s), true, true, toks, 256);
	CHECK(n > 2 && toks[0] == llamux_token_bos(m), "BOS first: %d",
	      (int)toks[0]);
	for (i = 1; i < n; i++)
		n_eos += toks[i] == llamux_token_eos(m);
	CHECK(n_eos == 2, "'</s>' as EOS: %lld times", (long long)n_eos);
	free(s);
	/* The stop strings that are tokens are found as ids. */
	memset(&c, 0, sizeof(c));
	c.model = m;
	c.tmpl = t;
	setup_stops(&c);
	CHECK(c.n_stop_tokens == 1 && c.stop_tokens[0] == llamux_token_eos(m),
	      "llama2 stop tokens: %zu", c.n_stop_tokens);
	chat_template_init(&c.tmpl, CHAT_TMPL_CHATML, NULL);
	setup_stops(&c);
	CHECK(c.n_stop_tokens == 0 && c.n_stops == 1,
	      "<|im_end|> is text in this vocabulary");
	llamux_model_free(m);
}

/* Text of tokens, with control tokens written out, without white space. */
static char *squeeze_tokens(const struct llamux_model *m, const int32_t *t,
			    size_t n, bool skip_bos)
{
	char *s = malloc(n * 64 + 1), piece[64];
	size_t len = 0, i, k, pn;

	for (i = skip_bos ? 1 : 0; i < n; i++) {
		pn = llamux_token_to_piece(m, t[i], true, piece, sizeof(piece));
		for (k = 0; k < pn && k < sizeof(piece); k++)
			if (!isspace((unsigned char)piece[k]))
				s[len++] = piece[k];
	}
	s[len] = '\0';
	return s;
}

static char *squeeze(const char *text)
{
	char *s = malloc(strlen(text) + 1);
	size_t len = 0;

	for (; *text; text++)
		if (!isspace((unsigned char)*text))
			s[len++] = *text;
	s[len] = '\0';
	return s;
}

static size_t emitted_bytes;

static void count_emit(void *arg, const char *text, size_t len)
{
	(void)arg;
	(void)text;
	emitted_bytes += len;
}

/* The KV cache holds the window as rendered (up to white space, which SPM
 * moves around, and the closing text the model does not write).
 */
static void check_cache(struct conversation *c, const char *what)
{
	char *want_text = render(c, c->n_msgs, false), *want, *got;

	CHECK(c->n_kv == llamux_n_past(c->ctx), "%s: %zu tokens mirrored, %u in the context",
	      what, c->n_kv, llamux_n_past(c->ctx));
	want = squeeze(want_text);
	got = squeeze_tokens(c->model, c->kv, c->n_kv,
			     llamux_token_bos(c->model) >= 0 &&
			     c->n_kv && c->kv[0] == llamux_token_bos(c->model));
	CHECK(!strcmp(got, want), "%s (%s): cache holds\n%s\nrendering is\n%s",
	      what, chat_template_name(c->tmpl.kind), got, want);
	free(want_text);
	free(want);
	free(got);
}

static void test_conversation(void)
{
	struct llamux_model *m = llamux_model_load(STORIES, 0, NULL);
	struct llamux_context_params cp;
	struct llamux_sampler_params sp;
	struct llamux_context *ctx;
	struct conversation c;
	struct chat_template t;
	char err[256] = "", *reply = NULL, big[6000];
	int k, turn, rc;

	CHECK(m != NULL, "cannot load %s", STORIES);
	if (!m)
		return;
	llamux_context_default_params(&cp);
	cp.n_ctx = 512;
	cp.n_threads = 1;
	ctx = llamux_context_new(m, &cp, err);
	llamux_sampler_default_params(&sp);
	sp.temp = 0;
	for (k = 0; k < CHAT_TMPL_COUNT; k++) {
		chat_template_init(&t, (enum chat_tmpl)k, NULL);
		CHECK(!conv_init(&c, m, ctx, &t, &sp, 10, err, sizeof(err)),
		      "conv_init: %s", err);
		conv_set_system(&c, "You tell stories.");
		for (turn = 0; turn < 3; turn++) {
			bool was_dirty = c.dirty;
			char what[64];

			snprintf(what, sizeof(what), "turn %d", turn);
			emitted_bytes = 0;
			rc = conv_turn(&c, turn ? "And then?" : "Once upon a time",
				       12, NULL, count_emit, NULL, &reply, err,
				       sizeof(err));
			CHECK(rc == 0, "%s turn %d: %s", chat_template_name(t.kind),
			      turn, err);
			CHECK(reply && strlen(reply) == emitted_bytes,
			      "%s: reply '%s' but %zu bytes emitted",
			      chat_template_name(t.kind), reply, emitted_bytes);
			CHECK(c.last.stop == CONV_STOP_LIMIT || c.last.stop == CONV_STOP_END,
			      "stop %d", c.last.stop);
			/* Later turns add only their own tokens. */
			CHECK(!turn || !c.last.rebuilt || was_dirty,
			      "%s turn %d evaluated everything again",
			      chat_template_name(t.kind), turn);
			free(reply);
			reply = NULL;
			if (!c.dirty)
				check_cache(&c, what);
		}
		CHECK(c.n_msgs == 6 && conv_window(&c) == 6, "%zu messages",
		      c.n_msgs);
		conv_free(&c);
	}

	/* At most --max-history messages, whole turns dropped. */
	chat_template_init(&t, CHAT_TMPL_CHATML, NULL);
	conv_init(&c, m, ctx, &t, &sp, 4, err, sizeof(err));
	for (turn = 0; turn < 4; turn++)
		conv_turn(&c, "Tell me more.", 4, NULL, NULL, NULL, NULL, err,
			  sizeof(err));
	CHECK(c.n_msgs == 8 && conv_window(&c) == 4 &&
	      c.msgs[c.first].role == CONV_USER, "window %zu of %zu",
	      conv_window(&c), c.n_msgs);
	check_cache(&c, "after dropping");

	/* A context too small for the history: old turns go. */
	memset(big, 0, sizeof(big));
	for (k = 0; k < 20; k++)
		strcat(big, "Lily and Tom went to the park. ");
	conv_free(&c);
	conv_init(&c, m, ctx, &t, &sp, 0, err, sizeof(err));
	for (turn = 0; turn < 4; turn++) {
		rc = conv_turn(&c, big, 8, NULL, NULL, NULL, NULL, err,
			       sizeof(err));
		CHECK(rc == 0, "long turn %d: %s", turn, err);
	}
	CHECK(conv_window(&c) < c.n_msgs && c.last.dropped > 0,
	      "nothing dropped: window %zu of %zu", conv_window(&c), c.n_msgs);
	CHECK(llamux_n_past(ctx) <= 512, "context %u", llamux_n_past(ctx));
	check_cache(&c, "after overflow");

	/* A message that cannot fit at all is refused and left out. */
	for (k = 0; k < 30; k++)
		strcat(big, "Lily and Tom went to the park. ");
	{
		size_t before = c.n_msgs;
		char *huge = malloc(strlen(big) * 3 + 1);

		sprintf(huge, "%s%s%s", big, big, big);
		rc = conv_turn(&c, huge, 8, NULL, NULL, NULL, NULL, err,
			       sizeof(err));
		CHECK(rc == CONV_TOO_LONG && c.last.need > 512 &&
		      c.n_msgs == before && strstr(err, "too many"),
		      "rc %d need %zu: %s", rc, c.last.need, err);
		free(huge);
		rc = conv_turn(&c, "Hi.", 4, NULL, NULL, NULL, NULL, err,
			       sizeof(err));
		CHECK(rc == 0, "after refusing: %s", err);
	}

	/* Save and load. */
	conv_reset(&c);
	conv_set_system(&c, "Be \"brief\"\n\tand kind \xc3\xa9");
	conv_turn(&c, "Hello\\there", 6, NULL, NULL, NULL, NULL, err,
		  sizeof(err));
	CHECK(!conv_save(&c, "/tmp/llamux-test-chat.json", "stories", err,
			 sizeof(err)), "save: %s", err);
	{
		struct conversation d;
		char *a0 = strdup(c.msgs[1].content);

		conv_init(&d, m, ctx, &t, &sp, 10, err, sizeof(err));
		CHECK(!conv_load(&d, "/tmp/llamux-test-chat.json", err,
				 sizeof(err)), "load: %s", err);
		CHECK(d.n_msgs == 2 && d.system &&
		      !strcmp(d.system, "Be \"brief\"\n\tand kind \xc3\xa9") &&
		      !strcmp(d.msgs[0].content, "Hello\\there") &&
		      !strcmp(d.msgs[1].content, a0), "loaded %zu messages",
		      d.n_msgs);
		CHECK(conv_load(&d, "/nonexistent/x.json", err, sizeof(err)) &&
		      strstr(err, "cannot read"), "missing file: %s", err);
		{
			FILE *f = fopen("/tmp/llamux-test-chat.json", "w");

			fputs("{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}", f);
			fclose(f);
		}
		CHECK(conv_load(&d, "/tmp/llamux-test-chat.json", err,
				sizeof(err)) && strstr(err, "unknown role"),
		      "bad role: %s", err);
		{
			FILE *f = fopen("/tmp/llamux-test-chat.json", "w");

			fputs("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"", f);
			fclose(f);
		}
		CHECK(conv_load(&d, "/tmp/llamux-test-chat.json", err,
				sizeof(err)) && strstr(err, "not a saved conversation"),
		      "truncated: %s", err);
		CHECK(d.n_msgs == 2, "a failed load kept the conversation");
		{
			FILE *f = fopen("/tmp/llamux-test-chat.json", "w");

			fputs("{\"extra\": [1, -2.5e3, true, null, {\"x\": [\"y\"]}],\n"
			      " \"messages\": [{\"content\": \"a\\u00e9\\ud83d\\ude00\\n\\/\",\n"
			      "   \"role\": \"user\", \"name\": false}]}", f);
			fclose(f);
		}
		CHECK(!conv_load(&d, "/tmp/llamux-test-chat.json", err,
				 sizeof(err)) && d.n_msgs == 1 && !d.system &&
		      !strcmp(d.msgs[0].content, "a\xc3\xa9\xf0\x9f\x98\x80\n/"),
		      "escapes: %s", err);
		conv_free(&d);
		free(a0);
		remove("/tmp/llamux-test-chat.json");
	}
	conv_free(&c);
	llamux_context_free(ctx);
	llamux_model_free(m);
}

/* JSON strings out: escapes, and valid UTF-8 whatever the bytes. */
static void test_json_out(void)
{
	static const char in[] = "a\"\\\n\x01\xc3\xa9\xf0\x9f\x98\x80\xff\xed\xa0\x80\xe2\x82";
	const char *want = "\"a\\\"\\\\\\n\\u0001\xc3\xa9\xf0\x9f\x98\x80\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"";
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	json_put_string(f, in, sizeof(in) - 1);
	fclose(f);
	CHECK(!strcmp(buf, want), "json_put_string: %s", buf);
	free(buf);
}

int main(void)
{
	test_json_out();
	test_render();
	test_prefixes();
	test_detect();
	test_stops();
	test_tokens();
	test_conversation();
	return tl_finish("test_chat_template");
}
