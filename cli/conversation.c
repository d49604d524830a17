// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A conversation with a model: message window, KV cache reuse between turns,
 * reply generation with end-of-turn detection, and saving/loading as JSON.
 *
 * The KV cache holds the rendered window: BOS and the template's text up to
 * the assistant's turn, the reply's tokens as generated, then the text that
 * closes the turn (the end-of-turn token the model produced, or the
 * template's one when it stopped early). A new turn appends only the
 * difference between the window rendered without and with the new message
 * (plus the newline that follows an end-of-turn token), the way llama.cpp's
 * common_chat_format_single does for llama-cli. When the window changes
 * (turns dropped, another system prompt or model) or the cache no longer
 * matches it (a reply cut at a text stop string or by a full context), the
 * whole window is evaluated once again.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conversation.h"
#include "output.h"

#define MAX_FILE_BYTES (64u << 20)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void set_err(char *err, size_t cap, const char *msg)
{
	if (err && cap)
		snprintf(err, cap, "%s", msg);
}

/* Text to a malloc'd token array; the count, or < 0 on error. */
static int64_t tokenize(const struct llamux_model *m, const char *text,
			bool add_special, int32_t **out)
{
	size_t len = strlen(text);
	int64_t n = llamux_tokenize(m, text, len, add_special, true, NULL, 0);

	*out = NULL;
	if (n < 0)
		return n;
	*out = malloc((size_t)(n ? n : 1) * sizeof(**out));
	if (!*out)
		return LLAMUX_ERR_NOMEM;
	return llamux_tokenize(m, text, len, add_special, true, *out, (size_t)n);
}

static bool piece_is(const struct llamux_model *m, int32_t tok, const char *s)
{
	char buf[64];
	size_t n = llamux_token_to_piece(m, tok, true, buf, sizeof(buf));

	return n == strlen(s) && n <= sizeof(buf) && !memcmp(buf, s, n);
}

/* The template's stop strings, and those that are one token as ids. */
static void setup_stops(struct conversation *c)
{
	size_t i;

	c->n_stops = chat_template_stops(&c->tmpl, c->stops);
	c->n_stop_tokens = 0;
	for (i = 0; i < c->n_stops; i++) {
		int32_t *t;
		int64_t n = tokenize(c->model, c->stops[i], false, &t);

		if (n == 1 && piece_is(c->model, t[0], c->stops[i]) &&
		    c->n_stop_tokens < CONV_MAX_STOP_TOKENS)
			c->stop_tokens[c->n_stop_tokens++] = t[0];
		free(t);
	}
}

static int new_sampler(struct conversation *c, char *err, size_t cap)
{
	llamux_sampler_free(c->smpl);
	c->smpl = llamux_sampler_new(&c->sp, llamux_n_vocab(c->model));
	if (!c->smpl) {
		set_err(err, cap, "out of memory for the sampler");
		return CONV_ERR;
	}
	return 0;
}

int conv_init(struct conversation *c, const struct llamux_model *model,
	      struct llamux_context *ctx, const struct chat_template *t,
	      const struct llamux_sampler_params *sp, size_t max_history,
	      char *err, size_t err_cap)
{
	memset(c, 0, sizeof(*c));
	c->sp = *sp;
	c->max_history = max_history;
	return conv_set_model(c, model, ctx, t, err, err_cap);
}

int conv_set_model(struct conversation *c, const struct llamux_model *model,
		   struct llamux_context *ctx, const struct chat_template *t,
		   char *err, size_t err_cap)
{
	c->model = model;
	c->ctx = ctx;
	c->tmpl = *t;
	setup_stops(c);
	c->n_kv = 0;
	c->dirty = false;
	llamux_context_reset(ctx);
	return new_sampler(c, err, err_cap);
}

static void free_msgs(struct conversation *c)
{
	size_t i;

	for (i = 0; i < c->n_msgs; i++)
		free(c->msgs[i].content);
	c->n_msgs = 0;
	c->first = 0;
}

void conv_free(struct conversation *c)
{
	free_msgs(c);
	free(c->msgs);
	free(c->kv);
	free(c->system);
	llamux_sampler_free(c->smpl);
	memset(c, 0, sizeof(*c));
}

int conv_set_system(struct conversation *c, const char *text)
{
	char *s = NULL;

	if (text && *text) {
		s = strdup(text);
		if (!s)
			return CONV_ERR;
	}
	free(c->system);
	c->system = s;
	if (c->n_kv)
		c->dirty = true;
	return 0;
}

void conv_reset(struct conversation *c)
{
	free_msgs(c);
	c->n_kv = 0;
	c->dirty = false;
	llamux_context_reset(c->ctx);
}

int conv_add(struct conversation *c, enum conv_role role, const char *text)
{
	char *s;

	if (c->n_msgs == c->cap_msgs) {
		size_t cap = c->cap_msgs ? c->cap_msgs * 2 : 16;
		struct conv_msg *m = realloc(c->msgs, cap * sizeof(*m));

		if (!m)
			return CONV_ERR;
		c->msgs = m;
		c->cap_msgs = cap;
	}
	s = strdup(text);
	if (!s)
		return CONV_ERR;
	c->msgs[c->n_msgs].role = role;
	c->msgs[c->n_msgs].content = s;
	c->n_msgs++;
	return 0;
}

size_t conv_window(const struct conversation *c)
{
	return c->n_msgs - c->first;
}

/* Moves the window past its oldest message, and on to a user message. */
static void drop_oldest(struct conversation *c)
{
	size_t before = c->first;

	c->first++;
	while (c->first + 1 < c->n_msgs &&
	       c->msgs[c->first].role != CONV_USER)
		c->first++;
	c->last.dropped += c->first - before;
	c->dirty = true;
}

/* Renders the system prompt and msgs[first..end). */
static char *render(const struct conversation *c, size_t end, bool add_ass)
{
	struct chat_msg *v = malloc((end - c->first + 1) * sizeof(*v));
	size_t n = 0, i;
	char *s;

	if (!v)
		return NULL;
	if (c->system)
		v[n++] = (struct chat_msg){ "system", c->system };
	for (i = c->first; i < end; i++)
		v[n++] = (struct chat_msg){
			c->msgs[i].role == CONV_USER ? "user" : "assistant",
			c->msgs[i].content
		};
	s = chat_template_apply(&c->tmpl, v, n, add_ass);
	free(v);
	return s;
}

/*
 * The text a new last message adds to what the cache holds; NULL when the
 * rendering of the shorter window is not a prefix of the longer one.
 */
static char *delta_text(const struct conversation *c)
{
	char *past = render(c, c->n_msgs - 1, false);
	char *full = render(c, c->n_msgs, true);
	char *d = NULL;
	size_t np;

	if (past && full) {
		np = strlen(past);
		if (!strncmp(past, full, np)) {
			bool nl = np && past[np - 1] == '\n';

			d = malloc(strlen(full + np) + 2);
			if (d)
				sprintf(d, "%s%s", nl ? "\n" : "", full + np);
		}
	}
	free(past);
	free(full);
	return d;
}

static int kv_push(struct conversation *c, const int32_t *t, size_t n)
{
	if (c->n_kv + n > c->cap_kv) {
		size_t cap = (c->n_kv + n) * 2;
		int32_t *p = realloc(c->kv, cap * sizeof(*p));

		if (!p)
			return CONV_ERR;
		c->kv = p;
		c->cap_kv = cap;
	}
	memcpy(c->kv + c->n_kv, t, n * sizeof(*t));
	c->n_kv += n;
	return 0;
}

/* Evaluates tokens after those in the cache and records them. */
static int feed(struct conversation *c, const int32_t *t, size_t n, char *err,
		size_t cap)
{
	char e[LLAMUX_ERR_MAX] = "";
	size_t i;

	if (!n)
		return 0;
	if (llamux_decode(c->ctx, t, n, NULL, e) != LLAMUX_OK) {
		set_err(err, cap, e);
		c->dirty = true;
		return CONV_ERR;
	}
	for (i = 0; i < n; i++)
		llamux_sampler_accept(c->smpl, t[i]);
	if (kv_push(c, t, n)) {
		set_err(err, cap, "out of memory");
		c->dirty = true;
		return CONV_ERR;
	}
	return 0;
}

/* Tokens kept free for the reply when choosing how much history fits. */
static size_t reply_room(long n_predict, size_t n_ctx)
{
	size_t room = n_predict < 0 ? 512 : (size_t)n_predict;

	return room < n_ctx / 2 ? room : n_ctx / 2;
}

/* The tokens this turn evaluates (delta or whole window); dropping turns
 * when they do not fit.
 */
static int prepare(struct conversation *c, long n_predict, int32_t **out,
		   size_t *n_out, char *err, size_t cap)
{
	size_t n_ctx = llamux_n_ctx(c->ctx), room = reply_room(n_predict, n_ctx);
	int32_t *t = NULL;
	int64_t n;
	char *text;

	if (c->max_history)
		while (conv_window(c) > c->max_history)
			drop_oldest(c);
	if (!c->dirty && c->n_kv) {
		text = delta_text(c);
		n = text ? tokenize(c->model, text, false, &t) : -1;
		free(text);
		if (n >= 0 && (c->n_kv + (size_t)n + room <= n_ctx ||
			       (conv_window(c) == 1 &&
				c->n_kv + (size_t)n <= n_ctx))) {
			*out = t;
			*n_out = (size_t)n;
			return 0;
		}
		free(t);
		c->dirty = true;
	}
	for (;;) {
		text = render(c, c->n_msgs, true);
		if (!text) {
			set_err(err, cap, "out of memory");
			return CONV_ERR;
		}
		n = tokenize(c->model, text, true, &t);
		free(text);
		if (n < 0) {
			set_err(err, cap, "cannot tokenize the conversation (out of memory)");
			return CONV_ERR;
		}
		if ((size_t)n + room <= n_ctx)
			break;
		if (conv_window(c) > 1) {
			free(t);
			drop_oldest(c);
			continue;
		}
		if ((size_t)n <= n_ctx)
			break;
		free(t);
		c->last.need = (size_t)n;
		if (err && cap)
			snprintf(err, cap, "the prompt is %lld tokens but the context holds %zu (%lld too many)",
				 (long long)n, n_ctx, (long long)n - (long long)n_ctx);
		return CONV_TOO_LONG;
	}
	llamux_context_reset(c->ctx);
	c->n_kv = 0;
	c->dirty = false;
	c->last.rebuilt = true;
	*out = t;
	*n_out = (size_t)n;
	return 0;
}

/* The reply as it is generated, and how much of it went out. */
struct reply {
	char *p;
	size_t n, cap;
	size_t emitted;
	bool begun;		/* leading white space is skipped */
	conv_emit_fn emit;
	void *arg;
};

static int reply_add(struct reply *r, const char *s, size_t n)
{
	if (r->n + n + 1 > r->cap) {
		size_t cap = (r->n + n + 1) * 2;
		char *p = realloc(r->p, cap);

		if (!p)
			return CONV_ERR;
		r->p = p;
		r->cap = cap;
	}
	memcpy(r->p + r->n, s, n);
	r->n += n;
	r->p[r->n] = '\0';
	return 0;
}

/* Bytes at the end of the reply that may start a stop string. */
static size_t held(const struct conversation *c, const struct reply *r)
{
	size_t i, k, hold = 0;

	for (i = 0; i < c->n_stops; i++) {
		size_t len = strlen(c->stops[i]);

		for (k = len - 1 < r->n ? len - 1 : r->n; k > hold; k--) {
			if (!memcmp(r->p + r->n - k, c->stops[i], k)) {
				hold = k;
				break;
			}
		}
	}
	return hold;
}

/*
 * Emits what can no longer change: not a possible start of a stop string,
 * not trailing white space (dropped at the end), not leading white space.
 */
static void reply_emit(const struct conversation *c, struct reply *r,
		       bool final)
{
	size_t lim = r->n - (final ? 0 : held(c, r));

	while (lim > r->emitted && isspace((unsigned char)r->p[lim - 1]))
		lim--;
	if (!r->begun) {
		while (r->emitted < lim &&
		       isspace((unsigned char)r->p[r->emitted]))
			r->emitted++;
		if (r->emitted < lim)
			r->begun = true;
	}
	if (lim > r->emitted) {
		if (r->emit)
			r->emit(r->arg, r->p + r->emitted, lim - r->emitted);
		r->emitted = lim;
	}
}

/* Cuts the reply at the first stop string in its new bytes (from). */
static bool cut_at_stop(const struct conversation *c, struct reply *r,
			size_t from)
{
	size_t i, best = r->n;

	for (i = 0; i < c->n_stops; i++) {
		size_t len = strlen(c->stops[i]);
		size_t start = from >= len - 1 ? from - (len - 1) : 0;
		const char *hit = memmem(r->p + start, r->n - start,
					 c->stops[i], len);

		if (hit && (size_t)(hit - r->p) < best)
			best = (size_t)(hit - r->p);
	}
	if (best == r->n)
		return false;
	r->n = best;
	r->p[best] = '\0';
	return true;
}

static bool is_stop_token(const struct conversation *c, int32_t tok)
{
	size_t i;

	if (llamux_token_is_eog(c->model, tok))
		return true;
	for (i = 0; i < c->n_stop_tokens; i++)
		if (c->stop_tokens[i] == tok)
			return true;
	return false;
}

/* Closes the assistant's turn in the cache (see the top of the file). */
static void close_turn(struct conversation *c, int32_t end_tok)
{
	const char *eot = chat_template_end_of_turn(&c->tmpl);
	int32_t *t = NULL;
	int64_t n = 0;

	if (end_tok >= 0 && *eot && piece_is(c->model, end_tok, eot)) {
		t = malloc(sizeof(*t));
		if (t) {
			t[0] = end_tok;
			n = 1;
		}
	} else if (*eot) {
		n = tokenize(c->model, eot, false, &t);
	}
	if (n < 0 || (n && !t) ||
	    c->n_kv + (size_t)n > llamux_n_ctx(c->ctx) ||
	    feed(c, t, (size_t)n, NULL, 0))
		c->dirty = true;
	free(t);
}

int conv_turn(struct conversation *c, const char *user, long n_predict,
	      volatile sig_atomic_t *stop, conv_emit_fn emit, void *arg,
	      char **reply_out, char *err, size_t err_cap)
{
	struct llamux_detok detok = { { 0 }, 0 };
	struct reply r = { .emit = emit, .arg = arg };
	size_t n_ctx = llamux_n_ctx(c->ctx), n_feed = 0, len, from;
	int32_t *toks = NULL, tok, end_tok = -1;
	char piece[1024], *text;
	bool cut = false;
	double t0, t1;
	int rc;

	memset(&c->last, 0, sizeof(c->last));
	if (reply_out)
		*reply_out = NULL;
	if (conv_add(c, CONV_USER, user)) {
		set_err(err, err_cap, "out of memory");
		return CONV_ERR;
	}
	rc = prepare(c, n_predict, &toks, &n_feed, err, err_cap);
	t0 = now_s();
	if (!rc)
		rc = feed(c, toks, n_feed, err, err_cap);
	free(toks);
	if (rc) {
		c->n_msgs--;
		free(c->msgs[c->n_msgs].content);
		if (c->first > c->n_msgs)
			c->first = c->n_msgs;
		return rc;
	}
	t1 = now_s();
	c->last.prompt_tokens = n_feed;
	c->last.prompt_s = t1 - t0;
	c->last.stop = CONV_STOP_END;
	for (;;) {
		if (n_predict >= 0 && (long)c->last.gen_tokens >= n_predict) {
			c->last.stop = CONV_STOP_LIMIT;
			break;
		}
		if (stop && *stop) {
			c->last.stop = CONV_STOP_INTERRUPT;
			break;
		}
		tok = llamux_sample(c->smpl, llamux_logits(c->ctx));
		if (is_stop_token(c, tok)) {
			end_tok = tok;
			break;
		}
		c->last.gen_tokens++;
		from = r.n;
		len = llamux_detok_push(c->model, &detok, tok, piece,
					sizeof(piece));
		if (reply_add(&r, piece, len)) {
			set_err(err, err_cap, "out of memory");
			free(r.p);
			c->dirty = true;
			return CONV_ERR;
		}
		if (cut_at_stop(c, &r, from)) {
			cut = true;
			break;
		}
		reply_emit(c, &r, false);
		if (c->n_kv >= n_ctx) {
			c->last.stop = CONV_STOP_FULL;
			break;
		}
		if (feed(c, &tok, 1, err, err_cap)) {
			free(r.p);
			return CONV_ERR;
		}
	}
	if (!cut) {
		len = llamux_detok_flush(&detok, piece, sizeof(piece));
		if (reply_add(&r, piece, len))
			cut = true;
	}
	if (!r.p && reply_add(&r, "", 0)) {
		set_err(err, err_cap, "out of memory");
		c->dirty = true;
		return CONV_ERR;
	}
	reply_emit(c, &r, true);
	c->last.gen_s = now_s() - t1;
	if (cut || c->last.stop == CONV_STOP_FULL)
		c->dirty = true;
	else
		close_turn(c, end_tok);
	/* Kept without the white space around it. */
	text = r.p;
	len = r.n;
	while (len && isspace((unsigned char)text[len - 1]))
		len--;
	text[len] = '\0';
	while (isspace((unsigned char)*text))
		text++;
	rc = conv_add(c, CONV_ASSISTANT, text);
	if (!rc && reply_out)
		*reply_out = strdup(text);
	free(r.p);
	if (rc) {
		set_err(err, err_cap, "out of memory");
		c->dirty = true;
		return CONV_ERR;
	}
	return 0;
}

static const char *role_name(enum conv_role r)
{
	return r == CONV_USER ? "user" : "assistant";
}

int conv_save(const struct conversation *c, const char *path,
	      const char *model_name, char *err, size_t err_cap)
{
	FILE *f = fopen(path, "w");
	size_t i;
	bool any = false;

	if (!f) {
		if (err)
			snprintf(err, err_cap, "cannot write '%s': %s", path,
				 strerror(errno));
		return CONV_ERR;
	}
	fputs("{\n  \"model\": ", f);
	json_put_string(f, model_name ? model_name : "",
			model_name ? strlen(model_name) : 0);
	fputs(",\n  \"messages\": [", f);
	if (c->system) {
		fputs("\n    {\"role\": \"system\", \"content\": ", f);
		json_put_string(f, c->system, strlen(c->system));
		fputc('}', f);
		any = true;
	}
	for (i = 0; i < c->n_msgs; i++) {
		fprintf(f, "%s\n    {\"role\": \"%s\", \"content\": ",
			any ? "," : "", role_name(c->msgs[i].role));
		json_put_string(f, c->msgs[i].content,
				strlen(c->msgs[i].content));
		fputc('}', f);
		any = true;
	}
	fputs(any ? "\n  ]\n}\n" : "]\n}\n", f);
	if (fclose(f)) {
		if (err)
			snprintf(err, err_cap, "cannot write '%s': %s", path,
				 strerror(errno));
		return CONV_ERR;
	}
	return 0;
}

static char *read_file(const char *path, size_t *len, char *err,
		       size_t err_cap)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (!f) {
		if (err)
			snprintf(err, err_cap, "cannot read '%s': %s", path,
				 strerror(errno));
		return NULL;
	}
	do {
		if (n + 4096 + 1 > cap) {
			char *p;

			cap = (n + 4096 + 1) * 2;
			p = cap > MAX_FILE_BYTES ? NULL : realloc(buf, cap);
			if (!p) {
				if (err)
					snprintf(err, err_cap, "'%s' is too large (at most %u MiB)",
						 path, MAX_FILE_BYTES >> 20);
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = p;
		}
		got = fread(buf + n, 1, 4096, f);
		n += got;
	} while (got);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* One {"role": ..., "content": ...} into *role and *content. */
static bool read_message(struct json_in *j, char **role, char **content)
{
	char *key;

	*role = *content = NULL;
	if (!json_expect(j, '{'))
		return false;
	if (json_peek(j, '}')) {
		j->p++;
		return true;
	}
	do {
		char **dst = NULL;

		key = NULL;
		if (!json_read_string(j, &key) || !json_expect(j, ':')) {
			free(key);
			return false;
		}
		if (!strcmp(key, "role"))
			dst = role;
		else if (!strcmp(key, "content"))
			dst = content;
		free(key);
		if (dst) {
			free(*dst);
			*dst = NULL;
			if (!json_read_string(j, dst))
				return false;
		} else if (!json_skip_value(j)) {
			return false;
		}
	} while (json_next(j, '}'));
	return !j->err[0] && json_expect(j, '}');
}

int conv_load(struct conversation *c, const char *path, char *err,
	      size_t err_cap)
{
	struct conversation tmp = { 0 };
	struct json_in j;
	char *text, *key = NULL, *role = NULL, *content = NULL;
	size_t len, i;
	int rc = 0;
	bool any = false;

	text = read_file(path, &len, err, err_cap);
	if (!text)
		return CONV_ERR;
	json_in_init(&j, text, len);
	if (!json_expect(&j, '{'))
		goto bad;
	if (!json_peek(&j, '}')) {
		do {
			free(key);
			key = NULL;
			if (!json_read_string(&j, &key) || !json_expect(&j, ':'))
				goto bad;
			if (strcmp(key, "messages")) {
				if (!json_skip_value(&j))
					goto bad;
				continue;
			}
			if (!json_expect(&j, '['))
				goto bad;
			if (json_peek(&j, ']')) {
				j.p++;
				continue;
			}
			do {
				if (!read_message(&j, &role, &content))
					goto bad;
				if (!role || !content) {
					if (err)
						snprintf(err, err_cap, "'%s': a message lacks \"role\" or \"content\"",
							 path);
					goto fail;
				}
				if (!strcmp(role, "system")) {
					rc = conv_set_system(&tmp, content);
				} else if (!strcmp(role, "user") ||
					   !strcmp(role, "assistant")) {
					rc = conv_add(&tmp, !strcmp(role, "user") ?
						      CONV_USER : CONV_ASSISTANT,
						      content);
				} else {
					if (err)
						snprintf(err, err_cap, "'%s': unknown role '%.32s' (use system, user or assistant)",
							 path, role);
					goto fail;
				}
				if (rc)
					goto nomem;
				any = true;
				free(role);
				free(content);
				role = content = NULL;
			} while (json_next(&j, ']'));
			if (j.err[0] || !json_expect(&j, ']'))
				goto bad;
		} while (json_next(&j, '}'));
		if (j.err[0])
			goto bad;
	}
	if (!json_expect(&j, '}'))
		goto bad;
	if (!any) {
		if (err)
			snprintf(err, err_cap, "'%s' has no \"messages\" array with messages in it",
				 path);
		goto fail;
	}
	/* Take over the loaded messages. */
	conv_reset(c);
	free(c->system);
	c->system = tmp.system;
	tmp.system = NULL;
	for (i = 0; i < tmp.n_msgs; i++)
		if (conv_add(c, tmp.msgs[i].role, tmp.msgs[i].content))
			goto nomem;
	goto out;
nomem:
	set_err(err, err_cap, "out of memory");
	goto fail;
bad:
	if (err)
		snprintf(err, err_cap, "'%s' is not a saved conversation: %s at byte %zu",
			 path, j.err[0] ? j.err : "bad JSON",
			 (size_t)(j.p - text));
fail:
	rc = CONV_ERR;
out:
	free(role);
	free(content);
	free(key);
	free_msgs(&tmp);
	free(tmp.msgs);
	free(tmp.system);
	free(text);
	return rc;
}
