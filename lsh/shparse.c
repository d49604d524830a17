// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Shell tokenizer and parser (see shparse.h). One parse allocates from an
 * arena that sh_free() releases at once. Compound commands become
 * SHC_GROUP nodes whose words are the header (if, while, for x in ...,
 * case WORD) and whose body holds every command inside.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shparse.h"

/* ---- arena ---- */

struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct arena {
	struct chunk *head;
};

static void *ar_alloc(struct arena *a, size_t n)
{
	struct chunk *c = a->head;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > 16384 ? n : 16384;

		c = malloc(sizeof(*c) + cap);
		if (!c)
			abort();
		c->next = a->head;
		c->used = 0;
		c->cap = cap;
		a->head = c;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

static void sh_free_arena(struct arena *a)
{
	struct chunk *c = a->head;

	while (c) {
		struct chunk *next = c->next;

		free(c);
		c = next;
	}
	free(a);
}

static char *ar_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = ar_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Grows an arena array of elem-sized items to hold n + 1. */
static void *ar_grow(struct arena *a, void *arr, size_t n, size_t *cap,
		     size_t elem)
{
	void *na;

	if (n < *cap)
		return arr;
	*cap = *cap ? *cap * 2 : 4;
	na = ar_alloc(a, *cap * elem);
	if (n)
		memcpy(na, arr, n * elem);
	return na;
}

/* ---- growable string (malloc) ---- */

struct sbuf {
	char *s;
	size_t n, cap;
};

static void sb_addn(struct sbuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2 + 16;
		b->s = realloc(b->s, b->cap);
		if (!b->s)
			abort();
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

static void sb_addc(struct sbuf *b, char c)
{
	sb_addn(b, &c, 1);
}

/* ---- lexer ---- */

enum tok_type {
	T_EOF,
	T_WORD,
	T_NEWLINE,
	T_SEMI,
	T_DSEMI,
	T_AMP,
	T_AND,
	T_OR,
	T_PIPE,
	T_PIPEAMP,
	T_LPAREN,
	T_RPAREN,
	T_REDIR,
};

struct token {
	enum tok_type type;
	struct sh_word word;
	enum sh_redir_op op;
	int fd;
	size_t start;
	char opname[4];
};

#define MAX_DEPTH 64
#define MAX_PENDING 16

struct parser {
	const char *s;
	size_t len, pos;
	struct arena *ar;
	char *err;
	size_t errcap;
	bool failed;
	int depth;
	struct token tok;
	struct sh_heredoc *pending[MAX_PENDING];
	const char *pending_delim[MAX_PENDING];
	size_t npending;
};

static void fail(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	if (p->err && p->errcap) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errcap, fmt, ap);
		va_end(ap);
	}
}

static int peekc(struct parser *p, size_t off)
{
	return p->pos + off < p->len ? (unsigned char)p->s[p->pos + off] : -1;
}

static bool is_meta(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '|' || c == '&' ||
	       c == ';' || c == '(' || c == ')' || c == '<' || c == '>';
}

static bool is_name_start(int c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_name_char(int c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

struct wordbuf {
	struct sbuf val;
	unsigned int flags;
	struct sh_list **subs;
	size_t nsubs, subcap;
};

static void parse_list(struct parser *p, struct sh_list *into,
		       unsigned int stop);
static void advance(struct parser *p);

static void add_sub(struct parser *p, struct wordbuf *w, struct sh_list *l)
{
	w->subs = ar_grow(p->ar, w->subs, w->nsubs, &w->subcap,
			  sizeof(*w->subs));
	w->subs[w->nsubs++] = l;
	w->flags |= SHW_EXPAND | SHW_SUBST;
}

#define STOP_RPAREN 0x001u
#define STOP_BRACE 0x002u
#define STOP_THEN 0x004u
#define STOP_ELSE 0x008u	/* elif, else, fi */
#define STOP_DO 0x010u
#define STOP_DONE 0x020u
#define STOP_CASE 0x040u	/* ;; and esac */

/*
 * $( ... ) or <( ... ): parses the list up to the matching ')' from the
 * current position, keeping the caller's token.
 */
static void command_subst(struct parser *p, struct wordbuf *w)
{
	struct token saved = p->tok;
	struct sh_list *l = ar_alloc(p->ar, sizeof(*l));
	size_t npending = p->npending;

	if (++p->depth > MAX_DEPTH) {
		fail(p, "nesting too deep");
		return;
	}
	advance(p);
	parse_list(p, l, STOP_RPAREN);
	if (!p->failed && p->tok.type != T_RPAREN)
		fail(p, "unterminated $(");
	/* p->pos is now just after ')' */
	p->depth--;
	p->npending = npending;
	p->tok = saved;
	if (!p->failed)
		add_sub(p, w, l);
}

static struct sh_list *parse_string(struct parser *outer, const char *s,
				    size_t n);

static void dollar(struct parser *p, struct wordbuf *w);
static void backquote(struct parser *p, struct wordbuf *w);

/* `...` at p->pos: the inner text, unescaped, is parsed on its own. */
static void backquote(struct parser *p, struct wordbuf *w)
{
	size_t start = p->pos++;
	struct sbuf inner = { 0 };
	struct sh_list *l;

	for (;;) {
		int d = peekc(p, 0);

		if (d == -1) {
			free(inner.s);
			fail(p, "unterminated backquote");
			return;
		}
		p->pos++;
		if (d == '`')
			break;
		if (d == '\\') {
			int e = peekc(p, 0);

			if (e == '`' || e == '\\' || e == '$') {
				sb_addc(&inner, (char)e);
				p->pos++;
				continue;
			}
		}
		sb_addc(&inner, (char)d);
	}
	l = parse_string(p, inner.s ? inner.s : "", inner.n);
	free(inner.s);
	sb_addn(&w->val, p->s + start, p->pos - start);
	if (l)
		add_sub(p, w, l);
}

/* Body of "..." (term '"') or of an expanding here-document (term -1). */
static void dquoted(struct parser *p, struct wordbuf *w, int term)
{
	for (;;) {
		int c = peekc(p, 0);

		if (c == -1) {
			if (term != -1)
				fail(p, "unterminated double quote");
			return;
		}
		if (c == term) {
			p->pos++;
			return;
		}
		if (c == '\\') {
			int d = peekc(p, 1);

			if (d == '$' || d == '`' || d == '"' || d == '\\') {
				sb_addc(&w->val, (char)d);
				p->pos += 2;
				continue;
			}
			if (d == '\n') {
				p->pos += 2;
				continue;
			}
			sb_addc(&w->val, '\\');
			p->pos++;
			continue;
		}
		if (c == '$') {
			dollar(p, w);
			if (p->failed)
				return;
			continue;
		}
		if (c == '`') {
			backquote(p, w);
			if (p->failed)
				return;
			continue;
		}
		sb_addc(&w->val, (char)c);
		p->pos++;
	}
}

static void dollar(struct parser *p, struct wordbuf *w)
{
	size_t start = p->pos;
	int c1 = peekc(p, 1);

	if (c1 == '(' && peekc(p, 2) == '(') {
		/* arithmetic: scan to the matching "))" */
		int level = 0;

		p->pos += 3;
		for (;;) {
			int c = peekc(p, 0);

			if (c == -1) {
				fail(p, "unterminated $((");
				return;
			}
			if (c == '(') {
				level++;
			} else if (c == ')') {
				if (level == 0 && peekc(p, 1) == ')') {
					p->pos += 2;
					break;
				}
				level--;
			} else if (c == '$' && peekc(p, 1) == '(') {
				struct wordbuf tmp = { 0 };

				dollar(p, &tmp);
				for (size_t i = 0; i < tmp.nsubs; i++)
					add_sub(p, w, tmp.subs[i]);
				free(tmp.val.s);
				if (p->failed)
					return;
				continue;
			}
			p->pos++;
		}
		sb_addn(&w->val, p->s + start, p->pos - start);
		w->flags |= SHW_EXPAND;
		return;
	}
	if (c1 == '(') {
		p->pos += 2;
		command_subst(p, w);
		if (p->failed)
			return;
		sb_addn(&w->val, p->s + start, p->pos - start);
		return;
	}
	if (c1 == '{') {
		struct wordbuf tmp = { 0 };

		p->pos += 2;
		for (;;) {
			int c = peekc(p, 0);

			if (c == -1) {
				free(tmp.val.s);
				fail(p, "unterminated ${");
				return;
			}
			if (c == '}') {
				p->pos++;
				break;
			}
			if (c == '\\') {
				p->pos += peekc(p, 1) == -1 ? 1 : 2;
				continue;
			}
			if (c == '\'') {
				const char *q = memchr(p->s + p->pos + 1, '\'',
						       p->len - p->pos - 1);

				if (!q) {
					free(tmp.val.s);
					fail(p, "unterminated single quote");
					return;
				}
				p->pos = (size_t)(q - p->s) + 1;
				continue;
			}
			if (c == '"') {
				p->pos++;
				dquoted(p, &tmp, '"');
				if (p->failed) {
					free(tmp.val.s);
					return;
				}
				continue;
			}
			if (c == '$' || c == '`') {
				if (c == '$')
					dollar(p, &tmp);
				else
					backquote(p, &tmp);
				if (p->failed) {
					free(tmp.val.s);
					return;
				}
				continue;
			}
			p->pos++;
		}
		for (size_t i = 0; i < tmp.nsubs; i++)
			add_sub(p, w, tmp.subs[i]);
		free(tmp.val.s);
		sb_addn(&w->val, p->s + start, p->pos - start);
		w->flags |= SHW_EXPAND;
		return;
	}
	if (c1 != -1 && (is_name_start(c1) || strchr("@*#?$!-0123456789", c1))) {
		p->pos += 2;
		if (is_name_start(c1))
			while (is_name_char(peekc(p, 0)))
				p->pos++;
		sb_addn(&w->val, p->s + start, p->pos - start);
		w->flags |= SHW_EXPAND;
		return;
	}
	sb_addc(&w->val, '$');
	p->pos++;
}

static bool read_word(struct parser *p, struct sh_word *out)
{
	struct wordbuf w = { 0 };
	size_t start = p->pos;

	for (;;) {
		int c = peekc(p, 0);

		if (c == -1 || is_meta(c)) {
			/* <( and >( at the start of a word */
			if ((c == '<' || c == '>') && w.val.n == 0 &&
			    p->pos == start && peekc(p, 1) == '(') {
				p->pos += 2;
				command_subst(p, &w);
				if (p->failed)
					break;
				sb_addn(&w.val, p->s + start, p->pos - start);
				continue;
			}
			break;
		}
		if (c == '\\') {
			int d = peekc(p, 1);

			if (d == '\n') {
				p->pos += 2;
				continue;
			}
			if (d == -1) {
				sb_addc(&w.val, '\\');
				p->pos++;
				continue;
			}
			sb_addc(&w.val, (char)d);
			w.flags |= SHW_QUOTED;
			p->pos += 2;
			continue;
		}
		if (c == '\'') {
			const char *q = memchr(p->s + p->pos + 1, '\'',
					       p->len - p->pos - 1);

			if (!q) {
				fail(p, "unterminated single quote");
				break;
			}
			sb_addn(&w.val, p->s + p->pos + 1,
				(size_t)(q - (p->s + p->pos + 1)));
			if (q == p->s + p->pos + 1 && !w.val.s)
				sb_addn(&w.val, "", 0);
			p->pos = (size_t)(q - p->s) + 1;
			w.flags |= SHW_QUOTED;
			continue;
		}
		if (c == '"') {
			p->pos++;
			if (!w.val.s)
				sb_addn(&w.val, "", 0);
			dquoted(p, &w, '"');
			w.flags |= SHW_QUOTED;
			if (p->failed)
				break;
			continue;
		}
		if (c == '$') {
			dollar(p, &w);
			if (p->failed)
				break;
			continue;
		}
		if (c == '`') {
			backquote(p, &w);
			if (p->failed)
				break;
			continue;
		}
		if (c == '*' || c == '?' || c == '[')
			w.flags |= SHW_GLOB;
		if (c == '~' && p->pos == start)
			w.flags |= SHW_TILDE;
		sb_addc(&w.val, (char)c);
		p->pos++;
	}
	if (p->failed) {
		free(w.val.s);
		return false;
	}
	out->raw = ar_strndup(p->ar, p->s + start, p->pos - start);
	out->value = ar_strndup(p->ar, w.val.s ? w.val.s : "", w.val.n);
	out->flags = w.flags;
	out->subs = w.subs;
	out->nsubs = w.nsubs;
	free(w.val.s);
	return true;
}

static void read_heredocs(struct parser *p)
{
	for (size_t i = 0; i < p->npending && !p->failed; i++) {
		struct sh_heredoc *r = p->pending[i];
		const char *delim = p->pending_delim[i];
		bool strip = r->strip_tabs;
		struct sbuf body = { 0 };

		while (p->pos < p->len) {
			const char *line = p->s + p->pos;
			const char *nl = memchr(line, '\n', p->len - p->pos);
			size_t n = nl ? (size_t)(nl - line) : p->len - p->pos;
			const char *t = line;
			size_t tn = n;

			p->pos += n + (nl ? 1 : 0);
			if (strip)
				while (tn && *t == '\t') {
					t++;
					tn--;
				}
			if (tn == strlen(delim) && !memcmp(t, delim, tn))
				break;
			sb_addn(&body, t, tn);
			sb_addc(&body, '\n');
		}
		r->body = ar_strndup(p->ar, body.s ? body.s : "", body.n);
		if (r->expands && body.n) {
			struct parser sub = { .s = r->body, .len = body.n,
					      .ar = p->ar, .err = p->err,
					      .errcap = p->errcap,
					      .depth = p->depth + 1 };
			struct wordbuf w = { 0 };

			dquoted(&sub, &w, -1);
			free(w.val.s);
			if (sub.failed)
				p->failed = true;
			r->subs = w.subs;
			r->nsubs = w.nsubs;
		}
		free(body.s);
	}
	p->npending = 0;
}

static void advance(struct parser *p)
{
	struct token *t = &p->tok;
	int c;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	for (;;) {
		c = peekc(p, 0);
		if (c == ' ' || c == '\t') {
			p->pos++;
		} else if (c == '\\' && peekc(p, 1) == '\n') {
			p->pos += 2;
		} else if (c == '#') {
			while (p->pos < p->len && p->s[p->pos] != '\n')
				p->pos++;
		} else {
			break;
		}
	}
	t->start = p->pos;
	if (c == -1) {
		t->type = T_EOF;
		return;
	}
	if (c == '\n') {
		p->pos++;
		t->type = T_NEWLINE;
		read_heredocs(p);
		return;
	}
	/* IO number: digits right before < or > */
	if (c >= '0' && c <= '9') {
		size_t i = p->pos;
		int fd = 0;

		while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9' &&
		       fd < 10000)
			fd = fd * 10 + (p->s[i++] - '0');
		if (i < p->len && (p->s[i] == '<' || p->s[i] == '>') &&
		    !(i + 1 < p->len && p->s[i + 1] == '(')) {
			p->pos = i;
			advance(p);
			if (t->type == T_REDIR)
				t->fd = fd;
			return;
		}
	}
	{
		static const struct {
			const char *s;
			enum tok_type type;
			enum sh_redir_op op;
		} ops[] = {
			{ "<<<", T_REDIR, SHR_HERESTR },
			{ "<<-", T_REDIR, SHR_HEREDOC },
			{ "&>>", T_REDIR, SHR_ALLAPPEND },
			{ "<<", T_REDIR, SHR_HEREDOC },
			{ "<>", T_REDIR, SHR_RDWR },
			{ "<&", T_REDIR, SHR_DUPIN },
			{ ">>", T_REDIR, SHR_APPEND },
			{ ">|", T_REDIR, SHR_CLOBBER },
			{ ">&", T_REDIR, SHR_DUPOUT },
			{ "&>", T_REDIR, SHR_ALLOUT },
			{ "&&", T_AND, 0 },
			{ "||", T_OR, 0 },
			{ "|&", T_PIPEAMP, 0 },
			{ ";;", T_DSEMI, 0 },
			{ "<", T_REDIR, SHR_IN },
			{ ">", T_REDIR, SHR_OUT },
			{ "&", T_AMP, 0 },
			{ "|", T_PIPE, 0 },
			{ ";", T_SEMI, 0 },
			{ "(", T_LPAREN, 0 },
			{ ")", T_RPAREN, 0 },
		};

		/* <( and >( start a word (process substitution) */
		if ((c == '<' || c == '>') && peekc(p, 1) == '(')
			goto word;
		for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
			size_t n = strlen(ops[i].s);

			if (p->pos + n <= p->len &&
			    !memcmp(p->s + p->pos, ops[i].s, n)) {
				t->type = ops[i].type;
				t->op = ops[i].op;
				memcpy(t->opname, ops[i].s, n);
				p->pos += n;
				if (!strcmp(ops[i].s, "<<-"))
					t->fd = -2;	/* strip tabs */
				return;
			}
		}
	}
word:
	t->type = T_WORD;
	if (!read_word(p, &t->word))
		t->type = T_EOF;
}

static const char *tok_name(const struct token *t)
{
	switch (t->type) {
	case T_EOF:
		return "end of line";
	case T_NEWLINE:
		return "newline";
	case T_WORD:
		return t->word.raw;
	default:
		return t->opname;
	}
}

/* ---- grammar ---- */

static const char *const reserved[] = {
	"if", "then", "else", "elif", "fi", "do", "done", "case", "esac",
	"while", "until", "for", "{", "}", "!", "in", "function", "[[", "]]",
	NULL,
};

bool sh_is_reserved(const char *w)
{
	for (size_t i = 0; reserved[i]; i++)
		if (!strcmp(w, reserved[i]))
			return true;
	return false;
}

static bool tok_is(const struct parser *p, const char *word)
{
	return p->tok.type == T_WORD && !(p->tok.word.flags & SHW_QUOTED) &&
	       !strcmp(p->tok.word.value, word);
}

static bool at_stop(const struct parser *p, unsigned int stop)
{
	if (p->tok.type == T_EOF)
		return true;
	if ((stop & STOP_RPAREN) && p->tok.type == T_RPAREN)
		return true;
	if ((stop & STOP_CASE) && (p->tok.type == T_DSEMI || tok_is(p, "esac")))
		return true;
	if ((stop & STOP_BRACE) && tok_is(p, "}"))
		return true;
	if ((stop & STOP_THEN) && tok_is(p, "then"))
		return true;
	if ((stop & STOP_ELSE) &&
	    (tok_is(p, "elif") || tok_is(p, "else") || tok_is(p, "fi")))
		return true;
	if ((stop & STOP_DO) && tok_is(p, "do"))
		return true;
	if ((stop & STOP_DONE) && tok_is(p, "done"))
		return true;
	return false;
}

static void skip_newlines(struct parser *p)
{
	while (!p->failed && p->tok.type == T_NEWLINE)
		advance(p);
}

static bool parse_command(struct parser *p, struct sh_cmd *cmd);
static bool parse_function_body(struct parser *p, struct sh_cmd *cmd);

struct cmdvec {
	struct sh_word *words;
	size_t nwords, wcap;
	struct sh_redir *redirs;
	size_t nredirs, rcap;
};

static void push_word(struct parser *p, struct cmdvec *v,
		      const struct sh_word *w)
{
	v->words = ar_grow(p->ar, v->words, v->nwords, &v->wcap,
			   sizeof(*v->words));
	v->words[v->nwords++] = *w;
}

static bool parse_redir(struct parser *p, struct cmdvec *v)
{
	struct sh_redir r = { .fd = p->tok.fd, .op = p->tok.op };

	advance(p);
	if (p->failed)
		return false;
	if (p->tok.type != T_WORD) {
		fail(p, "redirection without a file name (near '%s')",
		     tok_name(&p->tok));
		return false;
	}
	r.target = p->tok.word;
	if (r.op == SHR_HEREDOC) {
		r.heredoc = ar_alloc(p->ar, sizeof(*r.heredoc));
		r.heredoc->expands = !(r.target.flags & SHW_QUOTED);
		r.heredoc->strip_tabs = r.fd == -2;
		if (r.fd == -2)
			r.fd = -1;
		if (p->npending == MAX_PENDING) {
			fail(p, "too many here-documents");
			return false;
		}
		p->pending_delim[p->npending] = r.target.value;
		p->pending[p->npending++] = r.heredoc;
	}
	v->redirs = ar_grow(p->ar, v->redirs, v->nredirs, &v->rcap,
			    sizeof(*v->redirs));
	v->redirs[v->nredirs++] = r;
	advance(p);
	return !p->failed;
}

/* Trailing redirections of a compound command; registers here-docs. */
static void finish_cmd(struct parser *p, struct sh_cmd *cmd,
		       struct cmdvec *v)
{
	cmd->words = v->words;
	cmd->nwords = v->nwords;
	cmd->redirs = v->redirs;
	cmd->nredirs = v->nredirs;
	(void)p;
}

static void compound_body(struct parser *p, struct sh_cmd *cmd,
			  unsigned int stop)
{
	if (!cmd->body)
		cmd->body = ar_alloc(p->ar, sizeof(*cmd->body));
	parse_list(p, cmd->body, stop);
}

static bool expect_word(struct parser *p, const char *w, const char *what)
{
	if (p->failed)
		return false;
	if (!tok_is(p, w)) {
		if (p->tok.type == T_EOF)
			fail(p, "missing '%s'%s", w, what);
		else
			fail(p, "expected '%s'%s, found '%s'", w, what,
			     tok_name(&p->tok));
		return false;
	}
	advance(p);
	return !p->failed;
}

static bool parse_compound(struct parser *p, struct sh_cmd *cmd,
			   struct cmdvec *v)
{
	struct sh_word kw = p->tok.word;

	cmd->kind = SHC_GROUP;
	push_word(p, v, &kw);
	if (!strcmp(kw.value, "{")) {
		advance(p);
		compound_body(p, cmd, STOP_BRACE);
		return expect_word(p, "}", "");
	}
	if (!strcmp(kw.value, "if")) {
		advance(p);
		for (;;) {
			compound_body(p, cmd, STOP_THEN);
			if (!expect_word(p, "then", " after 'if'"))
				return false;
			compound_body(p, cmd, STOP_ELSE);
			if (p->failed)
				return false;
			if (tok_is(p, "elif")) {
				advance(p);
				continue;
			}
			if (tok_is(p, "else")) {
				advance(p);
				compound_body(p, cmd, STOP_ELSE);
			}
			return expect_word(p, "fi", "");
		}
	}
	if (!strcmp(kw.value, "while") || !strcmp(kw.value, "until")) {
		advance(p);
		compound_body(p, cmd, STOP_DO);
		if (!expect_word(p, "do", ""))
			return false;
		compound_body(p, cmd, STOP_DONE);
		return expect_word(p, "done", "");
	}
	if (!strcmp(kw.value, "for")) {
		advance(p);
		if (p->tok.type != T_WORD) {
			fail(p, "expected a name after 'for'");
			return false;
		}
		push_word(p, v, &p->tok.word);
		advance(p);
		skip_newlines(p);
		if (tok_is(p, "in")) {
			push_word(p, v, &p->tok.word);
			advance(p);
			while (!p->failed && p->tok.type == T_WORD) {
				push_word(p, v, &p->tok.word);
				advance(p);
			}
		}
		if (p->tok.type == T_SEMI)
			advance(p);
		skip_newlines(p);
		if (!expect_word(p, "do", " in 'for'"))
			return false;
		compound_body(p, cmd, STOP_DONE);
		return expect_word(p, "done", "");
	}
	if (!strcmp(kw.value, "case")) {
		advance(p);
		if (p->tok.type != T_WORD) {
			fail(p, "expected a word after 'case'");
			return false;
		}
		push_word(p, v, &p->tok.word);
		advance(p);
		skip_newlines(p);
		if (!expect_word(p, "in", " in 'case'"))
			return false;
		for (;;) {
			skip_newlines(p);
			if (p->failed)
				return false;
			if (tok_is(p, "esac")) {
				advance(p);
				return !p->failed;
			}
			if (p->tok.type == T_LPAREN)
				advance(p);
			while (!p->failed && p->tok.type == T_WORD) {
				advance(p);
				if (p->tok.type == T_PIPE)
					advance(p);
			}
			if (p->failed)
				return false;
			if (p->tok.type != T_RPAREN) {
				fail(p, p->tok.type == T_EOF ? "missing 'esac'"
				     : "bad pattern in 'case'");
				return false;
			}
			advance(p);
			compound_body(p, cmd, STOP_CASE);
			if (p->failed)
				return false;
			if (p->tok.type == T_DSEMI)
				advance(p);
			else if (!tok_is(p, "esac")) {
				fail(p, "missing 'esac'");
				return false;
			}
		}
	}
	if (!strcmp(kw.value, "function")) {
		advance(p);
		if (p->tok.type != T_WORD) {
			fail(p, "expected a name after 'function'");
			return false;
		}
		push_word(p, v, &p->tok.word);
		advance(p);
		if (p->tok.type == T_LPAREN) {
			advance(p);
			if (p->tok.type != T_RPAREN) {
				fail(p, "expected ')' after 'function NAME ('");
				return false;
			}
			advance(p);
		}
		return parse_function_body(p, cmd);
	}
	fail(p, "unexpected '%s'", kw.value);
	return false;
}

/* The compound command after "NAME ()" or "function NAME". */
static bool parse_function_body(struct parser *p, struct sh_cmd *cmd)
{
	skip_newlines(p);
	{
		struct sh_list *l = ar_alloc(p->ar, sizeof(*l));
		struct sh_pipeline *pl = ar_alloc(p->ar, sizeof(*pl));

		pl->cmds = ar_alloc(p->ar, sizeof(*pl->cmds));
		pl->ncmds = 1;
		if (!parse_command(p, &pl->cmds[0]))
			return false;
		l->pipes = pl;
		l->npipes = 1;
		l->ops = ar_alloc(p->ar, 1);
		l->ops[0] = ';';
		cmd->body = l;
	}
	return true;
}

/* One command of a pipeline; false (with an error set) when there is none. */
static bool parse_command(struct parser *p, struct sh_cmd *cmd)
{
	struct cmdvec v = { 0 };
	bool dbracket = false;

	memset(cmd, 0, sizeof(*cmd));
	if (p->tok.type == T_LPAREN) {
		if (++p->depth > MAX_DEPTH) {
			fail(p, "nesting too deep");
			return false;
		}
		cmd->kind = SHC_SUBSHELL;
		advance(p);
		compound_body(p, cmd, STOP_RPAREN);
		p->depth--;
		if (p->failed)
			return false;
		if (p->tok.type != T_RPAREN) {
			fail(p, "missing ')'");
			return false;
		}
		advance(p);
		goto redirs;
	}
	if (p->tok.type == T_WORD && !(p->tok.word.flags & SHW_QUOTED) &&
	    sh_is_reserved(p->tok.word.value)) {
		const char *w = p->tok.word.value;

		if (!strcmp(w, "[[")) {
			dbracket = true;
		} else {
			if (++p->depth > MAX_DEPTH) {
				fail(p, "nesting too deep");
				return false;
			}
			if (!parse_compound(p, cmd, &v))
				return false;
			p->depth--;
			goto redirs;
		}
	}
	for (;;) {
		if (p->failed)
			return false;
		if (p->tok.type == T_WORD) {
			const struct sh_word *w = &p->tok.word;
			const char *eq = strchr(w->value, '=');

			if (v.nwords == cmd->nassign && eq && eq != w->value &&
			    is_name_start((unsigned char)w->raw[0])) {
				const char *q = w->raw;

				while (is_name_char((unsigned char)*q))
					q++;
				if (*q == '=' || (*q == '+' && q[1] == '='))
					cmd->nassign++;
			}
			push_word(p, &v, w);
			if (dbracket && !strcmp(w->value, "]]") &&
			    !(w->flags & SHW_QUOTED))
				dbracket = false;
			advance(p);
			/* NAME ( ) body: a function definition */
			if (v.nwords == 1 && !cmd->nassign &&
			    p->tok.type == T_LPAREN) {
				struct sh_word fw = { .raw = "function",
						      .value = "function" };
				struct sh_word name = v.words[0];

				advance(p);
				if (p->tok.type != T_RPAREN) {
					fail(p, "syntax error near '('");
					return false;
				}
				advance(p);
				v.nwords = 0;
				push_word(p, &v, &fw);
				push_word(p, &v, &name);
				cmd->kind = SHC_GROUP;
				if (++p->depth > MAX_DEPTH) {
					fail(p, "nesting too deep");
					return false;
				}
				if (!parse_function_body(p, cmd))
					return false;
				p->depth--;
				goto redirs;
			}
			continue;
		}
		if (p->tok.type == T_REDIR && !dbracket) {
			if (!parse_redir(p, &v))
				return false;
			continue;
		}
		if (dbracket && p->tok.type != T_EOF &&
		    p->tok.type != T_NEWLINE) {
			struct sh_word w = { .raw = ar_strndup(p->ar,
							 p->tok.opname,
							 strlen(p->tok.opname)) };

			w.value = w.raw;
			push_word(p, &v, &w);
			advance(p);
			continue;
		}
		break;
	}
	if (dbracket) {
		fail(p, "missing ']]'");
		return false;
	}
	if (!v.nwords && !v.nredirs) {
		fail(p, "unexpected '%s'", tok_name(&p->tok));
		return false;
	}
	finish_cmd(p, cmd, &v);
	return !p->failed;

redirs:
	while (!p->failed && p->tok.type == T_REDIR)
		if (!parse_redir(p, &v))
			return false;
	finish_cmd(p, cmd, &v);
	return !p->failed;
}

static void parse_pipeline(struct parser *p, struct sh_pipeline *pl)
{
	struct sh_cmd *cmds = NULL;
	size_t n = 0, cap = 0;

	memset(pl, 0, sizeof(*pl));
	if (tok_is(p, "!")) {
		pl->bang = true;
		advance(p);
	}
	for (;;) {
		struct sh_cmd c;

		if (!parse_command(p, &c))
			return;
		cmds = ar_grow(p->ar, cmds, n, &cap, sizeof(*cmds));
		cmds[n++] = c;
		if (p->tok.type != T_PIPE && p->tok.type != T_PIPEAMP)
			break;
		advance(p);
		skip_newlines(p);
	}
	pl->cmds = cmds;
	pl->ncmds = n;
}

static void parse_list(struct parser *p, struct sh_list *l, unsigned int stop)
{
	size_t cap = l->npipes, ocap = l->npipes;

	for (;;) {
		skip_newlines(p);
		if (p->failed || at_stop(p, stop))
			return;
		for (;;) {
			struct sh_pipeline pl;
			char op;

			parse_pipeline(p, &pl);
			if (p->failed)
				return;
			if (p->tok.type == T_AND || p->tok.type == T_OR) {
				op = p->tok.type == T_AND ? 'a' : 'o';
			} else if (p->tok.type == T_SEMI) {
				op = ';';
			} else if (p->tok.type == T_AMP) {
				op = '&';
			} else if (p->tok.type == T_NEWLINE) {
				op = '\n';
			} else if (at_stop(p, stop)) {
				op = ';';
			} else {
				fail(p, "unexpected '%s'", tok_name(&p->tok));
				return;
			}
			l->pipes = ar_grow(p->ar, l->pipes, l->npipes, &cap,
					   sizeof(*l->pipes));
			l->ops = ar_grow(p->ar, l->ops, l->npipes, &ocap, 1);
			l->pipes[l->npipes] = pl;
			l->ops[l->npipes++] = op;
			if (op == 'a' || op == 'o') {
				advance(p);
				skip_newlines(p);
				continue;
			}
			if (op == ';' && at_stop(p, stop) &&
			    p->tok.type != T_SEMI)
				return;
			advance(p);
			break;
		}
	}
}

/* Parses the text of a backquoted substitution with its own lexer state. */
static struct sh_list *parse_string(struct parser *outer, const char *s,
				    size_t n)
{
	struct parser sub = { .s = ar_strndup(outer->ar, s, n), .len = n,
			      .ar = outer->ar, .err = outer->err,
			      .errcap = outer->errcap,
			      .depth = outer->depth + 1 };
	struct sh_list *l = ar_alloc(outer->ar, sizeof(*l));

	if (sub.depth > MAX_DEPTH) {
		fail(outer, "nesting too deep");
		return NULL;
	}
	advance(&sub);
	parse_list(&sub, l, 0);
	if (!sub.failed && sub.tok.type != T_EOF)
		fail(&sub, "unexpected '%s'", tok_name(&sub.tok));
	if (sub.failed) {
		outer->failed = true;
		return NULL;
	}
	return l;
}

struct sh_list *sh_parse(const char *src, char *err, size_t errcap)
{
	struct arena *ar = calloc(1, sizeof(*ar));
	struct parser p = { .s = src, .len = strlen(src), .ar = ar,
			    .err = err, .errcap = errcap };
	struct sh_list *l;

	if (!ar)
		return NULL;
	if (err && errcap)
		err[0] = '\0';
	l = ar_alloc(ar, sizeof(*l));
	l->arena = ar;
	advance(&p);
	parse_list(&p, l, 0);
	if (!p.failed && p.tok.type != T_EOF)
		fail(&p, "unexpected '%s'", tok_name(&p.tok));
	if (p.failed) {
		l->arena = NULL;
		sh_free_arena(ar);
		return NULL;
	}
	return l;
}

void sh_free(struct sh_list *list)
{
	if (list && list->arena)
		sh_free_arena(list->arena);
}

static void walk_list(const struct sh_list *l, sh_visit_fn fn, void *ctx,
		      int depth);

static void walk_word(const struct sh_word *w, sh_visit_fn fn, void *ctx,
		      int depth)
{
	for (size_t i = 0; i < w->nsubs; i++)
		walk_list(w->subs[i], fn, ctx, depth + 1);
}

static void walk_list(const struct sh_list *l, sh_visit_fn fn, void *ctx,
		      int depth)
{
	for (size_t i = 0; i < l->npipes; i++) {
		const struct sh_pipeline *pl = &l->pipes[i];

		for (size_t j = 0; j < pl->ncmds; j++) {
			const struct sh_cmd *c = &pl->cmds[j];

			for (size_t k = 0; k < c->nwords; k++)
				walk_word(&c->words[k], fn, ctx, depth);
			for (size_t k = 0; k < c->nredirs; k++) {
				const struct sh_redir *r = &c->redirs[k];

				walk_word(&r->target, fn, ctx, depth);
				for (size_t m = 0; r->heredoc &&
				     m < r->heredoc->nsubs; m++)
					walk_list(r->heredoc->subs[m], fn, ctx,
						  depth + 1);
			}
			fn(c, pl, j, depth, ctx);
			if (c->body)
				walk_list(c->body, fn, ctx, depth);
		}
	}
}

void sh_walk(const struct sh_list *list, sh_visit_fn fn, void *ctx)
{
	walk_list(list, fn, ctx, 0);
}

char *sh_quote(const char *s)
{
	size_t n = 0;
	bool plain = *s != '\0';
	char *out, *q;

	for (const char *c = s; *c; c++) {
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_-./+,:@%=", *c))
			plain = false;
		n += *c == '\'' ? 4 : 1;
	}
	if (plain && s[0] != '-' && !strchr(s, '='))
		return strdup(s);
	out = malloc(n + 3);
	if (!out)
		return NULL;
	q = out;
	*q++ = '\'';
	for (const char *c = s; *c; c++) {
		if (*c == '\'') {
			memcpy(q, "'\\''", 4);
			q += 4;
		} else {
			*q++ = *c;
		}
	}
	*q++ = '\'';
	*q = '\0';
	return out;
}
