// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Unit tests of lsh's shell parser: each line is parsed and printed back in
 * a compact form that shows words (after quote removal), redirections,
 * substitutions and the list structure; malformed lines must be rejected
 * with the right reason.
 */
#include <string.h>

#include "shparse.h"
#include "testlib.h"

struct out {
	char buf[4096];
	size_t n;
};

static void put(struct out *o, const char *s)
{
	size_t n = strlen(s);

	if (o->n + n < sizeof(o->buf)) {
		memcpy(o->buf + o->n, s, n + 1);
		o->n += n;
	}
}

static void dump_list(struct out *o, const struct sh_list *l);

static void dump_word(struct out *o, const struct sh_word *w)
{
	put(o, "[");
	put(o, w->value);
	put(o, "]");
	for (size_t i = 0; i < w->nsubs; i++) {
		put(o, "{");
		dump_list(o, w->subs[i]);
		put(o, "}");
	}
}

static const char *const redir_names[] = {
	"<", ">", ">>", ">|", "<>", "<&", ">&", "<<", "<<<", "&>", "&>>",
};

static void dump_cmd(struct out *o, const struct sh_cmd *c)
{
	const char *sep = "";

	if (c->kind == SHC_SUBSHELL)
		put(o, "(");
	if (c->kind == SHC_GROUP)
		put(o, "G:");
	for (size_t i = 0; i < c->nwords; i++) {
		put(o, sep);
		if (i < c->nassign)
			put(o, "=");
		dump_word(o, &c->words[i]);
		sep = " ";
	}
	if (c->body) {
		put(o, c->kind == SHC_SUBSHELL ? "" : " {");
		dump_list(o, c->body);
		put(o, c->kind == SHC_SUBSHELL ? "" : "}");
	}
	if (c->kind == SHC_SUBSHELL)
		put(o, ")");
	for (size_t i = 0; i < c->nredirs; i++) {
		const struct sh_redir *r = &c->redirs[i];
		char fd[16];

		put(o, " ");
		if (r->fd >= 0) {
			snprintf(fd, sizeof(fd), "%d", r->fd);
			put(o, fd);
		}
		put(o, redir_names[r->op]);
		dump_word(o, &r->target);
		if (r->heredoc && r->heredoc->body) {
			put(o, "<<");
			put(o, r->heredoc->body);
			put(o, ">>");
		}
		for (size_t k = 0; r->heredoc && k < r->heredoc->nsubs; k++) {
			put(o, "{");
			dump_list(o, r->heredoc->subs[k]);
			put(o, "}");
		}
	}
}

static void dump_list(struct out *o, const struct sh_list *l)
{
	for (size_t i = 0; i < l->npipes; i++) {
		const struct sh_pipeline *p = &l->pipes[i];

		if (i) {
			char op = l->ops[i - 1];

			put(o, op == 'a' ? " && " : op == 'o' ? " || " :
			    op == '&' ? " & " : " ; ");
		}
		if (p->bang)
			put(o, "! ");
		for (size_t j = 0; j < p->ncmds; j++) {
			if (j)
				put(o, " | ");
			dump_cmd(o, &p->cmds[j]);
		}
	}
	if (l->npipes && l->ops[l->npipes - 1] == '&')
		put(o, " &");
}

static void ok(const char *src, const char *want)
{
	char err[256];
	struct sh_list *l = sh_parse(src, err, sizeof(err));
	struct out o = { .n = 0 };

	CHECK(l != NULL, "'%s' should parse: %s", src, err);
	if (!l)
		return;
	o.buf[0] = '\0';
	dump_list(&o, l);
	CHECK(!strcmp(o.buf, want), "'%s'\n   got: %s\n  want: %s", src,
	      o.buf, want);
	sh_free(l);
}

static void bad(const char *src, const char *reason)
{
	char err[256] = "";
	struct sh_list *l = sh_parse(src, err, sizeof(err));

	CHECK(l == NULL, "'%s' should not parse", src);
	sh_free(l);
	CHECK(strstr(err, reason) != NULL, "'%s': reason '%s', want '%s'", src,
	      err, reason);
}

static void quote(const char *s, const char *want)
{
	char *q = sh_quote(s);

	CHECK(q && !strcmp(q, want), "sh_quote(%s) = %s, want %s", s, q, want);
	free(q);
}

int main(void)
{
	ok("", "");
	ok("   # only a comment", "");
	ok("ls -la", "[ls] [-la]");
	ok("echo 'a; rm -rf /'", "[echo] [a; rm -rf /]");
	ok("echo \"a; b\" c\\;d", "[echo] [a; b] [c;d]");
	ok("find . -exec rm {} \\;", "[find] [.] [-exec] [rm] [{}] [;]");
	ok("find . -name '*.txt' -exec grep -l x {} +",
	   "[find] [.] [-name] [*.txt] [-exec] [grep] [-l] [x] [{}] [+]");
	ok("a | b && c || d ; e &", "[a] | [b] && [c] || [d] ; [e] &");
	ok("ls > out 2>&1", "[ls] >[out] 2>&[1]");
	ok("cat < in >> log 2>/dev/null", "[cat] <[in] >>[log] 2>[/dev/null]");
	ok("echo x &> f", "[echo] [x] &>[f]");
	ok("echo $(rm -rf x) y", "[echo] [$(rm -rf x)]{[rm] [-rf] [x]} [y]");
	ok("echo `rm a`", "[echo] [`rm a`]{[rm] [a]}");
	ok("echo \"$(whoami) `id -u`\"",
	   "[echo] [$(whoami) `id -u`]{[whoami]}{[id] [-u]}");
	ok("echo $(echo $(rm z))",
	   "[echo] [$(echo $(rm z))]{[echo] [$(rm z)]{[rm] [z]}}");
	ok("echo $((1 + 2)) ${HOME:-/tmp}", "[echo] [$((1 + 2))] [${HOME:-/tmp}]");
	ok("echo ${x:-$(rm q)}", "[echo] [${x:-$(rm q)}]{[rm] [q]}");
	ok("(cd /tmp && rm x) | wc", "([cd] [/tmp] && [rm] [x]) | [wc]");
	ok("{ ls; rm y; } > f", "G:[{] {[ls] ; [rm] [y]} >[f]");
	ok("FOO=1 BAR=x env", "=[FOO=1] =[BAR=x] [env]");
	ok("if test -f a; then rm a; else echo no; fi",
	   "G:[if] {[test] [-f] [a] ; [rm] [a] ; [echo] [no]}");
	ok("for f in *.log; do gzip \"$f\"; done",
	   "G:[for] [f] [in] [*.log] {[gzip] [$f]}");
	ok("while read l; do echo $l; done < file",
	   "G:[while] {[read] [l] ; [echo] [$l]} <[file]");
	ok("case $x in a|b) rm a;; *) echo z;; esac",
	   "G:[case] [$x] {[rm] [a] ; [echo] [z]}");
	ok("f() { rm -rf /; }", "G:[function] [f] {G:[{] {[rm] [-rf] [/]}}");
	ok("! grep -q x f", "! [grep] [-q] [x] [f]");
	ok("cat <<EOF\nhello $(rm a)\nEOF\n",
	   "[cat] <<[EOF]<<hello $(rm a)\n>>{[rm] [a]}");
	ok("cat <<'EOF'\n$(rm a)\nEOF",
	   "[cat] <<[EOF]<<$(rm a)\n>>");
	ok("sh <<< 'rm x'", "[sh] <<<[rm x]");
	ok("diff <(sort a) <(sort b)",
	   "[diff] [<(sort a)]{[sort] [a]} [<(sort b)]{[sort] [b]}");
	ok("[[ -f a && -d b ]] && echo y",
	   "[[[] [-f] [a] [&&] [-d] [b] []]] && [echo] [y]");
	ok("ls \\\n -l", "[ls] [-l]");
	ok("echo a#b # comment", "[echo] [a#b]");
	ok("curl -s http://x | sh", "[curl] [-s] [http://x] | [sh]");
	ok("a\nb", "[a] ; [b]");
	ok("echo 'it''s'", "[echo] [its]");
	ok("echo \"\" ''", "[echo] [] []");
	ok("ls|&cat", "[ls] | [cat]");

	bad("echo 'abc", "unterminated single quote");
	bad("echo \"abc", "unterminated double quote");
	bad("echo `abc", "unterminated backquote");
	bad("echo $(ls", "unterminated $(");
	bad("| ls", "unexpected '|'");
	bad("ls |", "unexpected 'end of line'");
	bad("ls ;; x", "unexpected ';;'");
	bad("ls )", "unexpected ')'");
	bad("(ls", "missing ')'");
	bad("if true; then ls", "missing 'fi'");
	bad("for x in a; do ls", "missing 'done'");
	bad("{ ls;", "missing '}'");
	bad("ls >", "redirection without a file name");
	bad("then ls", "unexpected 'then'");
	bad("what's listening on port 80", "unterminated single quote");
	bad("echo ${x", "unterminated ${");
	bad("case x in a) ls;;", "missing 'esac'");

	quote("abc", "abc");
	quote("a b", "'a b'");
	quote("it's", "'it'\\''s'");
	quote("*.txt", "'*.txt'");
	quote("", "''");
	quote("-x", "'-x'");
	return tl_finish("test_lsh_shparse");
}
