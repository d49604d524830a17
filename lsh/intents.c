// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Matching a request against the intent table (intent_table.c) and filling
 * the winner's templates. Each pattern scores by the words and slots it
 * uses; slots the intent cannot use and words nobody explains cost points;
 * an action verb ("delete", "kill", ...) that the intent does not cover
 * rules it out, so a request is never answered by a command that does
 * something else.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "intents.h"
#include "request.h"
#include "safety.h"
#include "shparse.h"

static bool alt_match(const char *alts, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = alts; *p;) {
		const char *e = strchr(p, '|');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len && p[len - 1] == '*') {
			if (n >= len - 1 && !strncmp(p, w, len - 1))
				return true;
		} else if (len == n && !strncmp(p, w, n)) {
			return true;
		}
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

/* Words that ask for an action: an intent must account for them. */
static const char *const actions =
	"delete|remove|erase|rm|kill|terminate|restart|reboot|shutdown|"
	"poweroff|move|rename|copy|compress|zip|archive|extract|unzip|unpack|"
	"decompress|install|uninstall|upgrade|update|chmod|chown|change|set|"
	"create|make|replace|substitute|edit|download|upload|send|mount|"
	"unmount|format|start|enable|disable|append|add|write|save|convert|"
	"encrypt|decrypt|sync|backup|clean|purge|stop|rename|merge|split|"
	"open|email|mail|print|tar|gzip|gunzip|untar|wipe|shred|truncate|"
	"modify|insert|prepend|strip|trim|swap|join|link|symlink|go|cd|"
	"navigate|switch|launch|run|execute|schedule|upload|push|pull|commit|"
	"checkout|clone|undo|revert|reset|restore|"
	"block|allow|unblock|ban|generate|encode|decode|resize|rotate|crop|"
	"play|watch|monitor|follow|sort|count|compare|search|grep|show|list";

/* Not actions after all when they only display or search. */
static const char *const benign =
	"print|show|list|search|grep|count|compare|sort|watch|monitor|follow";

/* Asking words: no penalty when an intent does not use them. */
static const char *const neutral =
	"show|list|display|print|tell|give|check|see|view|get|find|what|which|"
	"whats|how|current|currently|running|system|computer|machine|all|my|"
	"please|now|quick|quickly|info|information|details|much|many|total";

/* Leftover words that cannot be the object of an intent. */
static const char *const not_obj =
	"show|list|display|find|get|tell|check|see|print|give|running|run|"
	"process|processes|program|programs|service|services|daemon|package|"
	"packages|installed|version|status|state|logs|log|command|app|apps|"
	"application|called|named|current|currently|system|please|all|kill|"
	"stop|start|restart|computer|machine|server|pc|box|is|are|the|pid|"
	"id|ids|instance|instances|task|tasks|job|jobs|of|for|whether|if|"
	"any|process's|which|what|where|unit|units|binary|executable|"
	"location|path|located|lives|there|available|latest|recent|last|"
	"messages|errors|output|journal|me|my|now|up|down|alive|working|"
	"info|information|details|about|reload|enable|disable|launch|quit|"
	"close|terminate|end|forcefully|force|hard|properly|gracefully|"
	"uninstall|install|remove|purge|search|look|exists|exist|present|"
	"does|do|have|has|got|on|in|web|browser|daemon's|lines|line|the|"
	"reachable|reach|ping|online|responding|help|manual|docs|memory|ram|"
	"disk|space|cpu|files|file|folder|folders|directory|directories|usage|"
	"kernel|os|linux|distribution|distro|release|zombie|zombies|model|"
	"load|network|internet|ip|address|ports|port|users|user|groups|time|date|"
	"connections|connection|sockets|socket|interfaces|interface|git|"
	"repository|repo|branch|commits|changes|settings|table|active|running";

struct match {
	int score;
	bool ok;
	char obj[128];
};

static bool group_present(const struct lsh_request *r, const char *g,
			  bool *taken, bool consume)
{
	bool any = g[0] == '=';

	if (any)
		g++;
	for (size_t i = 0; i < r->ntok; i++) {
		if (taken[i] || (!any && (r->tok[i].used & TOK_VALUE)))
			continue;
		if (r->tok[i].quoted)
			continue;
		if (alt_match(g, r->tok[i].low)) {
			if (consume)
				taken[i] = true;
			return true;
		}
	}
	return false;
}

static bool slot_group(const struct lsh_request *r, const char *g, size_t n)
{
	char buf[128];
	char *save = NULL;

	if (n >= sizeof(buf))
		return false;
	memcpy(buf, g, n);
	buf[n] = '\0';
	for (char *p = strtok_r(buf, "|", &save); p; p = strtok_r(NULL, "|", &save))
		if (req_get(r, p))
			return true;
	return false;
}

static bool accepts(const struct lsh_intent *in, const char *slot)
{
	const char *a = in->accepts;
	size_t n = strlen(slot);

	while (a && *a) {
		const char *e = strchr(a, ' ');
		size_t len = e ? (size_t)(e - a) : strlen(a);

		if (len == n && !strncmp(a, slot, n))
			return true;
		if (!e)
			break;
		a = e + 1;
	}
	return false;
}

/* Slots whose presence says something the command must honour. */
static const char *const basic_slots[] = {
	"size", "age", "name", "ext", "owner", "group", "perm", "empty",
	"depth", "text", "port", "pid", "mode", "url", "host", "path", "n",
	"user", NULL,
};

static void match_pattern(const struct lsh_intent *in, const char *pat,
			  const struct lsh_request *r, struct match *m)
{
	bool taken[REQ_MAX_TOKENS] = { false };
	char buf[512];
	char *save = NULL;
	int score = 0;
	bool want_obj = false;

	m->ok = false;
	m->obj[0] = '\0';
	snprintf(buf, sizeof(buf), "%s", pat);
	for (char *g = strtok_r(buf, " ", &save); g; g = strtok_r(NULL, " ", &save)) {
		if (g[0] == '{') {
			size_t n = strlen(g);
			bool neg = g[1] == '!';

			if (n < 3 || g[n - 1] != '}')
				return;
			if (neg) {
				if (slot_group(r, g + 2, n - 3))
					return;
				continue;
			}
			if (!slot_group(r, g + 1, n - 2))
				return;
			score += 10;
			continue;
		}
		if (g[0] == '@') {
			want_obj = true;
			continue;
		}
		if (g[0] == '!') {
			if (group_present(r, g + 1, taken, false))
				return;
			continue;
		}
		if (g[0] == '?') {
			if (group_present(r, g + 1, taken, true))
				score += 6;
			continue;
		}
		if (!group_present(r, g, taken, true))
			return;
		score += 10;
	}
	/* the object: the first leftover word that can be a name */
	if (want_obj) {
		size_t found = REQ_MAX_TOKENS;

		for (size_t i = 0; i < r->ntok; i++) {
			const struct req_token *t = &r->tok[i];

			if (taken[i] || (t->used & (TOK_VALUE | TOK_MARKER)))
				continue;
			if (!t->quoted && (req_is_stopword(t->low) ||
					   alt_match(not_obj, t->low)))
				continue;
			/* an action asked for is never the object */
			if (!t->quoted && alt_match(actions, t->low) &&
			    !alt_match(benign, t->low))
				continue;
			found = i;
			break;
		}
		if (found == REQ_MAX_TOKENS) {
			const struct req_slot *s = req_get(r, "text");

			if (!s)
				return;
			snprintf(m->obj, sizeof(m->obj), "%s", s->human);
			score += 6;	/* the text slot is used */
		} else {
			snprintf(m->obj, sizeof(m->obj), "%s", r->tok[found].text);
			taken[found] = true;
		}
		for (const char *p = m->obj; *p; p++)
			if (!isalnum((unsigned char)*p) && !strchr("._-+@:", *p))
				return;
		if (m->obj[0] == '-' || !m->obj[0])
			return;
		score += 10;
	}
	/* slots used and unused */
	for (size_t i = 0; basic_slots[i]; i++) {
		if (!req_get(r, basic_slots[i]))
			continue;
		if (!strcmp(basic_slots[i], "text") && want_obj && !r->nslot)
			continue;
		if (accepts(in, basic_slots[i]) ||
		    (!strcmp(basic_slots[i], "path") &&
		     (accepts(in, "dir") || accepts(in, "file"))))
			score += 6;
		else if (!(want_obj && !strcmp(basic_slots[i], "text")))
			score -= 8;
	}
	/* words nobody explains; actions nobody performs */
	for (size_t i = 0; i < r->ntok; i++) {
		const struct req_token *t = &r->tok[i];

		if (taken[i] || (t->used & (TOK_VALUE | TOK_MARKER)) || t->quoted)
			continue;
		if (alt_match(actions, t->low) && !alt_match(benign, t->low))
			return;
		if (!req_is_stopword(t->low) && !alt_match(neutral, t->low))
			score -= 3;
	}
	m->score = score;
	m->ok = true;
}

/* ---- templates ---- */

struct outbuf {
	char *s;
	size_t n, cap;
	bool overflow;
};

static void out_add(struct outbuf *o, const char *s, size_t n)
{
	if (o->n + n + 1 > o->cap) {
		o->overflow = true;
		return;
	}
	memcpy(o->s + o->n, s, n);
	o->n += n;
	o->s[o->n] = '\0';
}

/*
 * Expands tmpl into out. Returns false when a required slot is missing.
 * human: use the slots' explanation forms.
 */
static bool expand(const char *tmpl, const struct lsh_request *r, bool human,
		   char *out, size_t cap)
{
	struct outbuf o = { out, 0, cap, false };
	size_t seg_start = 0;
	bool in_seg = false, seg_ok = true;

	out[0] = '\0';
	for (const char *p = tmpl; *p;) {
		if (*p == '[') {
			in_seg = true;
			seg_ok = true;
			seg_start = o.n;
			p++;
			continue;
		}
		if (*p == ']' && in_seg) {
			if (!seg_ok) {
				o.n = seg_start;
				out[o.n] = '\0';
			}
			in_seg = false;
			p++;
			continue;
		}
		if (*p == '{') {
			const char *e = strchr(p, '}');
			char name[64], *def;
			const struct req_slot *s;

			if (!e)
				return false;
			if (e == p + 1) {
				out_add(&o, "{}", 2);
				p = e + 1;
				continue;
			}
			snprintf(name, sizeof(name), "%.*s", (int)(e - p - 1), p + 1);
			def = strchr(name, ':');
			if (def)
				*def++ = '\0';
			s = req_get(r, name);
			if (s) {
				const char *v = human ? s->human : s->cmd;

				out_add(&o, v, strlen(v));
			} else if (def) {
				out_add(&o, def, strlen(def));
			} else if (in_seg) {
				seg_ok = false;
			} else if (!human) {
				return false;
			}
			p = e + 1;
			continue;
		}
		out_add(&o, p, 1);
		p++;
	}
	return !o.overflow;
}

/* ---- derived slots ---- */

static bool ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n >= m && !strcmp(s + n - m, suf);
}

static bool path_is_dir(const char *p)
{
	struct stat st;
	char buf[4096];

	if (p[0] == '~') {
		const char *home = getenv("HOME");

		snprintf(buf, sizeof(buf), "%s%s", home ? home : "", p + 1);
		p = buf;
	}
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A name given with "called X" or "named X" that can be a new file. */
static const char *new_name(const struct lsh_request *r)
{
	const struct req_slot *g = req_get(r, "name");
	const char *h;

	if (!g || req_get(r, "ext"))
		return NULL;
	h = g->human;
	if (!*h || *h == '-' || strpbrk(h, "*?[/") || !strcmp(h, ".") ||
	    !strcmp(h, ".."))
		return NULL;
	for (const char *p = h; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-+@:, ", *p))
			return NULL;
	return h;
}

/*
 * Targets of the commands that make something: "dest" for mv/cp/ln (the
 * second path, or "called X"), "newpath" for mkdir/touch (the path, or
 * "called X", inside the folder named as the place).
 */
static void derive_targets(struct lsh_request *r)
{
	const struct req_slot *path = req_get(r, "path");
	const struct req_slot *path2 = req_get(r, "path2");
	const struct req_slot *dir = req_get(r, "dir");
	const char *name = new_name(r);
	char buf[1200];
	char *q;

	if (path2) {
		req_set(r, "dest", path2->cmd, path2->human);
	} else if (path && name) {
		q = sh_quote(name);
		req_set(r, "dest", q, name);
		free(q);
	}
	if (name && (!path || (dir && !strcmp(dir->cmd, path->cmd)))) {
		const char *d = dir ? dir->human : NULL;

		if (d && strcmp(d, "the current directory") &&
		    strcmp(dir->cmd, ".")) {
			const char *raw = strcmp(d, "your home directory") ?
					  d : "~";

			snprintf(buf, sizeof(buf), "%s/%s", raw, name);
			if (raw[0] == '~') {
				char *t = sh_quote(buf + 2);

				snprintf(buf, sizeof(buf), "~/%s", t);
				free(t);
				req_set(r, "newpath", buf, buf);
			} else {
				q = sh_quote(buf);
				req_set(r, "newpath", q, buf);
				free(q);
			}
		} else {
			q = sh_quote(name);
			req_set(r, "newpath", q, name);
			free(q);
		}
	} else if (path) {
		req_set(r, "newpath", path->cmd, path->human);
	}
}

static void derive(struct lsh_request *r)
{
	const struct req_slot *n = req_get(r, "n");
	const struct req_slot *path = req_get(r, "path");
	char buf[512];

	snprintf(buf, sizeof(buf), "%d", (n ? atoi(n->cmd) : 10) + 1);
	req_set(r, "n1", buf, buf);
	req_set(r, "sudo", geteuid() == 0 ? "" : "sudo ", "");
	if (path) {
		const char *h = path->human;
		const char *raw = strcmp(h, "your home directory") ? h : "~";

		if (!strcmp(h, "the current directory"))
			raw = ".";
		if (path_is_dir(raw)) {
			char base[256];
			const char *b;
			size_t len;
			char *q;

			req_set(r, "dirpath", path->cmd, path->human);
			/* "delete ... in the current directory" names where,
			 * not what: never the whole of ., ~, .. or / */
			if (strcmp(raw, ".") && strcmp(raw, "~") &&
			    strcmp(raw, "/") && strcmp(raw, "..") &&
			    strcmp(raw, "./") && strcmp(raw, "~/"))
				req_set(r, "deldir", path->cmd, path->human);
			req_set(r, "rflag", "-r", "");
			snprintf(base, sizeof(base), "%s", raw);
			len = strlen(base);
			while (len > 1 && base[len - 1] == '/')
				base[--len] = '\0';
			b = strrchr(base, '/');
			b = b ? b + 1 : base;
			if (!strcmp(b, ".") || !strcmp(b, "~") || !*b)
				b = "archive";
			snprintf(buf, sizeof(buf), "%s.tar.gz", b);
			q = sh_quote(buf);
			req_set(r, "archive", q, buf);
			free(q);
			snprintf(buf, sizeof(buf), "%s.zip", b);
			q = sh_quote(buf);
			req_set(r, "zipname", q, buf);
			free(q);
		} else {
			const char *x = NULL;

			if (ends_with(h, ".tar.gz") || ends_with(h, ".tgz"))
				x = "-xkzf";
			else if (ends_with(h, ".tar.bz2") || ends_with(h, ".tbz2"))
				x = "-xkjf";
			else if (ends_with(h, ".tar.xz") || ends_with(h, ".txz"))
				x = "-xkJf";
			else if (ends_with(h, ".tar"))
				x = "-xkf";
			if (x) {
				req_set(r, "tarfile", path->cmd, path->human);
				req_set(r, "xflags", x, "");
			} else if (ends_with(h, ".zip")) {
				req_set(r, "zipfile", path->cmd, path->human);
			} else if (ends_with(h, ".gz") || ends_with(h, ".bz2") ||
				   ends_with(h, ".xz")) {
				req_set(r, "gzfile", path->cmd, path->human);
				req_set(r, "unzipper", ends_with(h, ".gz") ? "gunzip" :
					ends_with(h, ".bz2") ? "bunzip2" : "unxz", "");
			}
		}
	}
	derive_targets(r);
	/* environment variable names: PATH, $HOME */
	for (size_t i = 0; i < r->ntok; i++) {
		const char *t = r->tok[i].text;
		const char *v = t[0] == '$' ? t + 1 : t;
		size_t len = strlen(v);
		bool ok = len >= 2 && (isupper((unsigned char)v[0]) || v[0] == '_');

		for (size_t k = 0; ok && k < len; k++)
			if (!isupper((unsigned char)v[k]) && !isdigit((unsigned char)v[k]) &&
			    v[k] != '_')
				ok = false;
		if (ok && (t[0] == '$' || len >= 3) &&
		    strcmp(v, "CPU") && strcmp(v, "RAM") && strcmp(v, "IP") &&
		    strcmp(v, "PID") && strcmp(v, "OS") && strcmp(v, "DNS") &&
		    strcmp(v, "USB") && strcmp(v, "TCP") && strcmp(v, "UDP") &&
		    strcmp(v, "SSH") && strcmp(v, "MB") && strcmp(v, "GB") &&
		    strcmp(v, "KB") && strcmp(v, "PHP") && strcmp(v, "MP3") &&
		    strcmp(v, "PDF") && strcmp(v, "JPG") && strcmp(v, "PNG") &&
		    strcmp(v, "OGG") && strcmp(v, "HTML") && strcmp(v, "CSS") &&
		    strcmp(v, "XML") && strcmp(v, "JSON") && strcmp(v, "SUID") &&
		    strcmp(v, "SGID") && strcmp(v, "TXT") && strcmp(v, "MP4") &&
		    strcmp(v, "GIT") && strcmp(v, "API") && strcmp(v, "URL") &&
		    strcmp(v, "MAC") && strcmp(v, "ISO") && strcmp(v, "RPM")) {
			req_set(r, "var", v, v);
			r->tok[i].used |= TOK_VALUE;
			break;
		}
	}
	/* replace A with B */
	for (size_t i = 0; i + 3 < r->ntok; i++) {
		const char *w = r->tok[i].low;

		if (strcmp(w, "replace") && strcmp(w, "substitute"))
			continue;
		for (size_t k = i + 2; k + 1 < r->ntok && k < i + 6; k++) {
			const char *m = r->tok[k].low;

			if (!strcmp(m, "with") || !strcmp(m, "by") ||
			    !strcmp(m, "to") || !strcmp(m, "into")) {
				char from[128] = "", to[128] = "", e1[256], e2[256];
				size_t a = i + 1;
				char *q;

				if (!strcmp(r->tok[a].low, "all") ||
				    !strcmp(r->tok[a].low, "every"))
					a++;
				if (!strcmp(r->tok[a].low, "the") && a + 1 < k)
					a++;
				if (a + 1 != k)
					break;
				snprintf(from, sizeof(from), "%s", r->tok[a].text);
				snprintf(to, sizeof(to), "%s", r->tok[k + 1].text);
				/* escape for a sed s/// in single quotes */
				{
					size_t o = 0;

					for (const char *p = from; *p && o < 250; p++) {
						if (strchr("/\\.*[]^$&", *p))
							e1[o++] = '\\';
						e1[o++] = *p;
					}
					e1[o] = '\0';
					o = 0;
					for (const char *p = to; *p && o < 250; p++) {
						if (strchr("/\\&", *p))
							e2[o++] = '\\';
						e2[o++] = *p;
					}
					e2[o] = '\0';
				}
				if (strlen(e1) + strlen(e2) + 8 > sizeof(buf))
					break;
				strcpy(buf, "s/");
				strcat(buf, e1);
				strcat(buf, "/");
				strcat(buf, e2);
				strcat(buf, "/g");
				q = sh_quote(buf);
				if (q[0] != '\'') {
					char quoted[600];

					snprintf(quoted, sizeof(quoted), "'%s'", q);
					req_set(r, "sedexpr", quoted, buf);
				} else {
					req_set(r, "sedexpr", q, buf);
				}
				free(q);
				req_set(r, "from", from, from);
				req_set(r, "to", to, to);
				r->tok[a].used |= TOK_VALUE;
				r->tok[k + 1].used |= TOK_VALUE;
				req_unset(r, "text");
				i = r->ntok;
				break;
			}
		}
	}
}

void lsh_proposal_classify(struct lsh_proposal *p, const char *intent_risk)
{
	struct lsh_safety s;

	lsh_classify(p->cmd, &s);
	p->risky = s.risky || intent_risk;
	if (s.risky)
		snprintf(p->reason, sizeof(p->reason), "%s", s.reason);
	else if (intent_risk)
		snprintf(p->reason, sizeof(p->reason), "%s", intent_risk);
	else
		p->reason[0] = '\0';
}

bool lsh_intent_translate(const char *request, struct lsh_proposal *out)
{
	struct lsh_request r;
	const struct lsh_intent *best = NULL;
	struct match bm = { .score = -1000 };
	bool debug = getenv("LSH_DEBUG") != NULL;

	memset(out, 0, sizeof(*out));
	if (!req_parse(&r, request))
		return false;
	derive(&r);
	if (debug) {
		for (size_t i = 0; i < r.nslot; i++)
			fprintf(stderr, "slot %s = [%s] (%s)\n", r.slot[i].name,
				r.slot[i].cmd, r.slot[i].human);
		for (size_t i = 0; i < r.ntok; i++)
			fprintf(stderr, "tok %s%s%s\n", r.tok[i].low,
				r.tok[i].used & TOK_VALUE ? " VALUE" : "",
				r.tok[i].used & TOK_MARKER ? " MARKER" : "");
	}
	for (size_t i = 0; i < lsh_n_intents; i++) {
		const struct lsh_intent *in = &lsh_intents[i];

		for (size_t k = 0; k < 6 && in->patterns[k]; k++) {
			struct match m;

			match_pattern(in, in->patterns[k], &r, &m);
			if (!m.ok)
				continue;
			if (debug)
				fprintf(stderr, "candidate %s/%zu score %d obj %s\n",
					in->name, k, m.score, m.obj);
			if (m.score > bm.score) {
				/* the templates must be fillable */
				char tmp[1024];

				if (m.obj[0]) {
					char *q = sh_quote(m.obj);

					req_set(&r, "obj", q, m.obj);
					free(q);
				} else {
					req_unset(&r, "obj");
				}
				if (!expand(in->cmd, &r, false, tmp, sizeof(tmp)))
					continue;
				bm = m;
				best = in;
			}
		}
	}
	if (!best || bm.score < 10) {
		req_free(&r);
		return false;
	}
	if (bm.obj[0]) {
		char *q = sh_quote(bm.obj);

		req_set(&r, "obj", q, bm.obj);
		free(q);
	} else {
		req_unset(&r, "obj");
	}
	if (!expand(best->cmd, &r, false, out->cmd, sizeof(out->cmd)) ||
	    !expand(best->explain, &r, true, out->explain, sizeof(out->explain))) {
		req_free(&r);
		return false;
	}
	out->intent = best->name;
	lsh_proposal_classify(out, best->risk);
	req_free(&r);
	return true;
}
