// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Request analysis for the intent engine: tokenizes an English request and
 * extracts its slots. Each slot is stored twice: as the shell text a
 * command template inserts (quoted where needed) and as words for the
 * explanation. Find filters are also composed here into one "filters"
 * slot, since many intents search for files.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "request.h"
#include "shparse.h"

#define KIB ((uint64_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)
#define TIB (GIB * 1024)

/* ---- slots ---- */

const struct req_slot *req_get(const struct lsh_request *r, const char *name)
{
	for (size_t i = 0; i < r->nslot; i++)
		if (!strcmp(r->slot[i].name, name))
			return &r->slot[i];
	return NULL;
}

void req_set(struct lsh_request *r, const char *name, const char *cmd,
	     const char *human)
{
	struct req_slot *s = (struct req_slot *)req_get(r, name);

	if (!s) {
		if (r->nslot == REQ_MAX_SLOTS)
			return;
		s = &r->slot[r->nslot++];
		snprintf(s->name, sizeof(s->name), "%s", name);
	} else {
		free(s->cmd);
		free(s->human);
	}
	s->cmd = strdup(cmd ? cmd : "");
	s->human = strdup(human ? human : (cmd ? cmd : ""));
}

void req_unset(struct lsh_request *r, const char *name)
{
	struct req_slot *s = (struct req_slot *)req_get(r, name);

	if (!s)
		return;
	free(s->cmd);
	free(s->human);
	*s = r->slot[--r->nslot];
}

static void set_quoted(struct lsh_request *r, const char *name,
		       const char *value, const char *human)
{
	char *q = sh_quote(value);

	req_set(r, name, q, human ? human : value);
	free(q);
}

void req_free(struct lsh_request *r)
{
	for (size_t i = 0; i < r->ntok; i++) {
		free(r->tok[i].text);
		free(r->tok[i].low);
	}
	for (size_t i = 0; i < r->nslot; i++) {
		free(r->slot[i].cmd);
		free(r->slot[i].human);
	}
	r->ntok = r->nslot = 0;
}

/* ---- words ---- */

static bool in(const char *s, const char *alts)
{
	size_t n = strlen(s);

	for (const char *p = alts; *p;) {
		const char *e = strchr(p, '|');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == n && !strncmp(p, s, n))
			return true;
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

static const char *const stopwords =
	"the|a|an|my|me|i|all|any|every|each|is|are|was|were|be|been|being|"
	"than|that|which|what|whats|who|where|how|much|many|with|on|in|of|"
	"for|to|by|from|into|onto|this|these|those|there|it|its|do|does|did|"
	"can|could|would|should|will|please|and|or|up|some|currently|now|"
	"just|only|here|you|your|yours|mine|our|we|us|them|they|their|has|"
	"have|had|at|as|so|if|then|also|still|right|tell|let|know|want|need|"
	"like|give|get|whether|within|under|inside|below|beneath|above|over|"
	"out|one|ones|thing|things|stuff|am|im|i'm|what's|kindly|quickly|"
	"please|can't|cannot|doesn't|don't|not|no|using|via|about|such|via|"
	"recursively|recursive|down|starting|throughout|entire|whole|both|"
	"well|across|among|currently|being|ever|anything|something|again";

bool req_is_stopword(const char *low)
{
	return in(low, stopwords);
}

static const char *tl(const struct lsh_request *r, size_t i)
{
	return i < r->ntok ? r->tok[i].low : "";
}

static bool tis(const struct lsh_request *r, size_t i, const char *alts)
{
	return i < r->ntok && !r->tok[i].quoted && in(r->tok[i].low, alts);
}

static void mark(struct lsh_request *r, size_t i, unsigned int how)
{
	if (i < r->ntok)
		r->tok[i].used |= how;
}

static bool is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static long word_number(const char *s)
{
	static const char *const words[] = {
		"zero", "one", "two", "three", "four", "five", "six", "seven",
		"eight", "nine", "ten", "eleven", "twelve", "thirteen",
		"fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
		"nineteen", "twenty",
	};

	if (is_number(s) && strlen(s) < 10)
		return atol(s);
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(s, words[i]))
			return (long)i;
	if (!strcmp(s, "thirty"))
		return 30;
	if (!strcmp(s, "sixty"))
		return 60;
	if (!strcmp(s, "ninety"))
		return 90;
	if (!strcmp(s, "hundred"))
		return 100;
	if (!strcmp(s, "a") || !strcmp(s, "an"))
		return 1;
	return -1;
}

/* ---- tokenizer ---- */

static void add_token(struct lsh_request *r, const char *s, size_t n,
		      bool quoted)
{
	struct req_token *t;

	if (r->ntok == REQ_MAX_TOKENS)
		return;
	if (!quoted) {
		/* strip leading ( and trailing punctuation */
		while (n && *s == '(') {
			s++;
			n--;
		}
		while (n > 1 && strchr(",;:?!)\"", s[n - 1]))
			n--;
		if (n > 1 && s[n - 1] == '.' && !(n == 2 && s[0] == '.') &&
		    s[n - 2] != '.' && s[n - 2] != '/')
			n--;
		if (!n)
			return;
	}
	t = &r->tok[r->ntok++];
	t->text = strndup(s, n);
	t->low = strndup(s, n);
	t->quoted = quoted;
	t->used = 0;
	for (char *p = t->low; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!quoted) {
		/* possessive and contraction: "Makefile's", "what's" */
		size_t len = strlen(t->low);

		if (len > 2 && t->low[len - 2] == '\'' && t->low[len - 1] == 's' &&
		    strcmp(t->low, "what's") && strcmp(t->low, "it's") &&
		    strcmp(t->low, "that's")) {
			t->low[len - 2] = '\0';
			t->text[len - 2] = '\0';
		}
	}
}

static void tokenize(struct lsh_request *r, const char *s)
{
	while (*s) {
		const char *start;

		while (*s && isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		if (*s == '"' || *s == '\'' || *s == '`') {
			char open = *s;
			const char *e = NULL;

			for (const char *p = s + 1; *p; p++) {
				bool close = open == '"' ? *p == '"' :
					     (*p == '\'' || (open == '`' && *p == '`'));

				if (close && (!p[1] || isspace((unsigned char)p[1]) ||
					      strchr(",.;:?!)", p[1]))) {
					e = p;
					break;
				}
			}
			if (e && e > s + 1) {
				add_token(r, s + 1, (size_t)(e - s - 1), true);
				s = e + 1;
				while (*s && strchr(",.;:?!)", *s))
					s++;
				continue;
			}
		}
		start = s;
		while (*s && !isspace((unsigned char)*s))
			s++;
		add_token(r, start, (size_t)(s - start), false);
	}
}

/* ---- sizes ---- */

static bool size_unit(const char *u, uint64_t *mult)
{
	if (in(u, "b|byte|bytes|c"))
		*mult = 1;
	else if (in(u, "k|kb|kib|kilobyte|kilobytes|kbytes|kbs"))
		*mult = KIB;
	else if (in(u, "m|mb|mib|meg|megs|megabyte|megabytes|mbs|mbytes"))
		*mult = MIB;
	else if (in(u, "g|gb|gib|gig|gigs|gigabyte|gigabytes|gbs"))
		*mult = GIB;
	else if (in(u, "t|tb|tib|terabyte|terabytes"))
		*mult = TIB;
	else
		return false;
	return true;
}

bool req_parse_size(const char *a, const char *b, uint64_t *bytes, int *ntok)
{
	char num[32];
	size_t i = 0;
	const char *unit;
	uint64_t mult;
	double v;

	while (a[i] && (isdigit((unsigned char)a[i]) || a[i] == '.') && i < 31)
		i++;
	if (!i || !isdigit((unsigned char)a[0]))
		return false;
	memcpy(num, a, i);
	num[i] = '\0';
	unit = a + i;
	*ntok = 1;
	if (!*unit) {
		if (!b || !size_unit(b, &mult))
			return false;
		*ntok = 2;
	} else {
		char u[16];
		size_t n = strlen(unit);

		if (n >= sizeof(u))
			return false;
		memcpy(u, unit, n + 1);
		if (n && u[n - 1] == '+')
			u[--n] = '\0';
		if (!size_unit(u, &mult))
			return false;
	}
	errno = 0;
	v = strtod(num, NULL);
	if (errno || v < 0 || v > 1e15)
		return false;
	*bytes = (uint64_t)(v * (double)mult + 0.5);
	return true;
}

static void human_size(uint64_t b, char *out, size_t cap)
{
	static const struct {
		uint64_t mult;
		const char *name;
	} units[] = { { TIB, "TiB" }, { GIB, "GiB" }, { MIB, "MiB" },
		      { KIB, "KiB" } };

	for (size_t i = 0; i < 4; i++) {
		if (b >= units[i].mult) {
			double v = (double)b / (double)units[i].mult;

			if (b % units[i].mult == 0)
				snprintf(out, cap, "%" PRIu64 " %s",
					 b / units[i].mult, units[i].name);
			else
				snprintf(out, cap, "%.4g %s", v, units[i].name);
			return;
		}
	}
	snprintf(out, cap, "%" PRIu64 " byte%s", b, b == 1 ? "" : "s");
}

/* find -size argument: above (+, exact), below (-) or exactly (=) */
static void find_size(uint64_t b, char cmp, char *out, size_t cap)
{
	if (cmp == '+') {
		if (b && b % GIB == 0)
			snprintf(out, cap, "+%" PRIu64 "G", b / GIB);
		else if (b && b % MIB == 0)
			snprintf(out, cap, "+%" PRIu64 "M", b / MIB);
		else if (b && b % KIB == 0)
			snprintf(out, cap, "+%" PRIu64 "k", b / KIB);
		else
			snprintf(out, cap, "+%" PRIu64 "c", b);
	} else if (cmp == '-') {
		if (b >= MIB && b % KIB == 0)
			snprintf(out, cap, "-%" PRIu64 "k", b / KIB);
		else
			snprintf(out, cap, "-%" PRIu64 "c", b);
	} else {
		snprintf(out, cap, "%" PRIu64 "c", b);
	}
}

static void extract_sizes(struct lsh_request *r)
{
	uint64_t lo = 0, hi = 0, eq = 0;
	char locmp = 0, hicmp = 0;
	bool have_eq = false;

	for (size_t i = 0; i < r->ntok; i++) {
		uint64_t b;
		int n;
		char cmp = '=';

		if (r->tok[i].used || r->tok[i].quoted ||
		    !req_parse_size(tl(r, i), i + 1 < r->ntok ? tl(r, i + 1) : NULL,
				    &b, &n))
			continue;
		/* look back for the comparison */
		for (size_t k = i; k > 0 && i - k < 5; k--) {
			const char *w = tl(r, k - 1);

			if (in(w, "bigger|larger|greater|more|over|above|exceeding|"
			       "exceed|bigger|heavier|biggest|largest|huge|big|larger"))
				cmp = '+';
			else if (in(w, "smaller|less|under|below|lower|fewer|"
				    "lighter|tinier|small"))
				cmp = '-';
			else if (in(w, "least|minimum|min"))
				cmp = 'L';
			else if (in(w, "most|maximum|max") && cmp == '=')
				cmp = 'M';
			else if (in(w, "between|from"))
				cmp = 'B';
			else if (in(w, "and|to") && (locmp || have_eq))
				cmp = 'E';
			else if (in(w, "exactly|precisely|exact"))
				break;	/* "below that are exactly 100M" */
			else if (in(w, "of|is|are|size"))
				;
			else
				continue;
			if (cmp != '=')
				break;
		}
		if (tl(r, i)[strlen(tl(r, i)) - 1] == '+' ||
		    (n == 2 && tl(r, i + 1)[strlen(tl(r, i + 1)) - 1] == '+'))
			cmp = '+';
		for (int k = 0; k < n; k++)
			mark(r, i + (size_t)k, TOK_VALUE);
		switch (cmp) {
		case '+':
		case 'L':
			lo = b;
			locmp = cmp;
			break;
		case '-':
		case 'M':
			hi = b;
			hicmp = cmp;
			break;
		case 'B':
			lo = b;
			locmp = '+';
			break;
		case 'E':
			if (have_eq && !locmp) {
				lo = eq;
				locmp = '+';
				have_eq = false;
			}
			hi = b;
			hicmp = '-';
			break;
		default:
			eq = b;
			have_eq = true;
		}
		i += (size_t)n - 1;
	}
	if (!locmp && !hicmp && !have_eq)
		return;
	{
		char cmd[96] = "", human[96] = "", a[32], h[32];

		if (have_eq && !locmp && !hicmp) {
			find_size(eq, '=', a, sizeof(a));
			human_size(eq, h, sizeof(h));
			snprintf(cmd, sizeof(cmd), "-size %s", a);
			snprintf(human, sizeof(human), "of exactly %s", h);
		}
		if (locmp) {
			find_size(lo, locmp == 'L' ? '-' : '+', a, sizeof(a));
			human_size(lo, h, sizeof(h));
			snprintf(cmd, sizeof(cmd), "%s-size %s",
				 locmp == 'L' ? "! " : "", a);
			snprintf(human, sizeof(human), "%s %s",
				 locmp == 'L' ? "of at least" : "larger than", h);
			req_set(r, "minsize", a + 1, h);
		}
		if (hicmp) {
			size_t n = strlen(cmd), hn = strlen(human);

			find_size(hi, hicmp == 'M' ? '+' : '-', a, sizeof(a));
			human_size(hi, h, sizeof(h));
			snprintf(cmd + n, sizeof(cmd) - n, "%s%s-size %s",
				 n ? " " : "", hicmp == 'M' ? "! " : "", a);
			snprintf(human + hn, sizeof(human) - hn, "%s%s %s",
				 hn ? " and " : "",
				 hicmp == 'M' ? "of at most" : "smaller than", h);
		}
		req_set(r, "size", cmd, human);
	}
}

/* ---- durations ---- */

static bool time_unit(const char *u, uint64_t *minutes)
{
	if (in(u, "minute|minutes|min|mins|m"))
		*minutes = 1;
	else if (in(u, "hour|hours|hr|hrs|h"))
		*minutes = 60;
	else if (in(u, "day|days|d"))
		*minutes = 1440;
	else if (in(u, "week|weeks|w|wk|wks|work-week"))
		*minutes = 7 * 1440;
	else if (in(u, "month|months"))
		*minutes = 30 * 1440;
	else if (in(u, "year|years|yr|yrs"))
		*minutes = 365 * 1440;
	else
		return false;
	return true;
}

bool req_parse_duration(const char *a, const char *b, const char *c,
			uint64_t *minutes, int *ntok)
{
	uint64_t unit;
	long n;

	(void)c;
	/* "3days", "24h" */
	if (isdigit((unsigned char)a[0])) {
		char *end;

		n = strtol(a, &end, 10);
		if (*end && time_unit(end, &unit) && n > 0) {
			*minutes = (uint64_t)n * unit;
			*ntok = 1;
			return true;
		}
	}
	n = word_number(a);
	if (n > 0 && b && time_unit(b, &unit)) {
		*minutes = (uint64_t)n * unit;
		*ntok = 2;
		return true;
	}
	if (b && in(a, "last|past|this|previous") && time_unit(b, &unit) &&
	    unit >= 60) {
		*minutes = unit;
		*ntok = 2;
		return true;
	}
	if (!strcmp(a, "yesterday")) {
		*minutes = 2 * 1440;
		*ntok = 1;
		return true;
	}
	return false;
}

static void extract_age(struct lsh_request *r)
{
	char kind = 'm';
	char cmp = '-';
	uint64_t minutes = 0;
	bool today = false, found = false;
	size_t at = 0;

	for (size_t i = 0; i < r->ntok; i++) {
		int n = 0;

		if (r->tok[i].used || r->tok[i].quoted)
			continue;
		if (tis(r, i, "today") || (tis(r, i, "this") &&
					    tis(r, i + 1, "morning"))) {
			today = true;
			found = true;
			at = i;
			mark(r, i, TOK_VALUE);
			break;
		}
		if (tis(r, i, "recently|recent|lately")) {
			minutes = 1440;
			found = true;
			at = i;
			mark(r, i, TOK_MARKER);
			break;
		}
		if (req_parse_duration(tl(r, i), i + 1 < r->ntok ? tl(r, i + 1) : NULL,
				       NULL, &minutes, &n)) {
			/* "3 hours" alone could be a sleep or a shutdown time;
			 * only a file-time context counts, checked below */
			for (int k = 0; k < n; k++)
				mark(r, i + (size_t)k, TOK_VALUE);
			found = true;
			at = i;
			break;
		}
	}
	if (!found)
		return;
	/* direction and kind from the words around */
	for (size_t k = 0; k < r->ntok; k++) {
		const char *w = tl(r, k);

		if (in(w, "accessed|assessed|used|read|opened|viewed|touched|"
		       "accesses|access"))
			kind = 'a', mark(r, k, TOK_MARKER);
		else if (in(w, "status") && tis(r, k + 1, "changed|change"))
			kind = 'c';
		else if (in(w, "modified|changed|edited|updated|written|"
			    "modification|created|saved|altered|touched|newer|"
			    "older|new|old|made|added"))
			mark(r, k, TOK_MARKER);
	}
	if (!today) {
		bool not = false, older = false, ago = false, morethan = false;

		for (size_t k = 0; k < r->ntok; k++) {
			const char *w = tl(r, k);

			if (in(w, "not|haven't|hasn't|havent|hasnt|weren't|"
			       "wasn't|untouched|unused|unmodified|stale"))
				not = true;
			if (in(w, "older|old|before|earlier"))
				older = true;
			if (in(w, "ago"))
				ago = true, mark(r, k, TOK_MARKER);
			if (k < at && k + 4 >= at &&
			    in(w, "more|over|least|longer"))
				morethan = true;
			/* "in the last 3 days": part of the value, so it
			 * cannot ask for "the last lines" or "the latest
			 * files" as well */
			if (k < at && k + 3 >= at && in(w, "last|past|previous"))
				mark(r, k, TOK_VALUE);
			else if (k < at && k + 3 >= at &&
				 in(w, "within|since|less|newer|recent"))
				mark(r, k, TOK_MARKER);
		}
		if (older || not || (ago && morethan))
			cmp = '+';
		else if (ago && !morethan && !tis(r, at - 1, "last|past|within|than"))
			cmp = '=';
		if (in(tl(r, at), "last|past|this|previous") && !not)
			cmp = '-';
	}
	{
		const char *what = kind == 'a' ? "accessed" :
				   kind == 'c' ? "changed" : "modified";
		char cmd[64], human[96];

		if (today) {
			snprintf(cmd, sizeof(cmd), "-daystart -%ctime 0", kind);
			snprintf(human, sizeof(human), "%s today", what);
		} else {
			bool days = minutes % 1440 == 0;
			uint64_t v = days ? minutes / 1440 : minutes;
			const char *u = days ? (v == 1 ? "day" : "days") :
					(minutes % 60 == 0 ?
					 (minutes == 60 ? "hour" : "hours") :
					 (v == 1 ? "minute" : "minutes"));
			uint64_t hv = days ? v : (minutes % 60 == 0 ?
						  minutes / 60 : minutes);

			if (cmp == '=')
				snprintf(cmd, sizeof(cmd), "-%c%s %" PRIu64, kind,
					 days ? "time" : "min", v);
			else
				snprintf(cmd, sizeof(cmd), "-%c%s %c%" PRIu64,
					 kind, days ? "time" : "min", cmp, v);
			if (cmp == '-')
				snprintf(human, sizeof(human),
					 "%s in the last %" PRIu64 " %s", what,
					 hv, u);
			else if (cmp == '+')
				snprintf(human, sizeof(human),
					 "%s more than %" PRIu64 " %s ago", what,
					 hv, u);
			else
				snprintf(human, sizeof(human),
					 "%s %" PRIu64 " %s ago", what, hv, u);
		}
		req_set(r, "age", cmd, human);
		{
			char d[48];

			snprintf(d, sizeof(d), "%" PRIu64, minutes ? minutes : 1440);
			req_set(r, "minutes", d, d);
			snprintf(d, sizeof(d), "%" PRIu64 " minutes ago",
				 minutes ? minutes : 1440);
			req_set(r, "since", d, d);
		}
	}
}

/* ---- numbers, ports, pids, modes ---- */

static void extract_numbers(struct lsh_request *r)
{
	for (size_t i = 0; i < r->ntok; i++) {
		const char *w = tl(r, i);

		if (r->tok[i].used || r->tok[i].quoted)
			continue;
		/* ports: "port 8080", ":8080" */
		if (w[0] == ':' && is_number(w + 1) && atol(w + 1) < 65536) {
			req_set(r, "port", w + 1, w + 1);
			mark(r, i, TOK_VALUE);
			continue;
		}
		if (in(w, "port|ports") && (is_number(tl(r, i + 1)) ||
					    (tis(r, i + 1, "number|no") &&
					     is_number(tl(r, i + 2))))) {
			size_t k = is_number(tl(r, i + 1)) ? i + 1 : i + 2;

			if (atol(tl(r, k)) < 65536) {
				req_set(r, "port", tl(r, k), tl(r, k));
				mark(r, k, TOK_VALUE);
				mark(r, i, TOK_MARKER);
			}
			continue;
		}
		if ((in(w, "pid") || (in(w, "process") && !is_number(tl(r, i + 2)))) &&
		    is_number(tl(r, i + 1))) {
			req_set(r, "pid", tl(r, i + 1), tl(r, i + 1));
			mark(r, i + 1, TOK_VALUE);
			mark(r, i, TOK_MARKER);
			continue;
		}
		if (in(w, "process") && tis(r, i + 1, "id") &&
		    is_number(tl(r, i + 2))) {
			req_set(r, "pid", tl(r, i + 2), tl(r, i + 2));
			mark(r, i + 2, TOK_VALUE);
			continue;
		}
		/* permission modes: 3 or 4 octal digits */
		if (is_number(w) && (strlen(w) == 3 || strlen(w) == 4) &&
		    strspn(w, "01234567") == strlen(w) &&
		    (tis(r, i - 1, "permission|permissions|perm|perms|mode|to|chmod|"
			  "with") || tis(r, i + 1, "permission|permissions|perm|mode|"
					 "permissioned"))) {
			req_set(r, "mode", w, w);
			if (tis(r, i - 1, "to|chmod"))
				req_set(r, "modetarget", "1", "1");
			mark(r, i, TOK_VALUE);
			continue;
		}
	}
	/* counts: top 5, first 20 lines, 3 biggest, last 10 commits */
	for (size_t i = 0; i < r->ntok; i++) {
		long n;

		if (r->tok[i].used || r->tok[i].quoted)
			continue;
		n = word_number(tl(r, i));
		if (n <= 0 || !strcmp(tl(r, i), "a") || !strcmp(tl(r, i), "an") ||
		    (!strcmp(tl(r, i), "one") && !tis(r, i - 1, "top|first|last")))
			continue;
		if (tis(r, i - 1, "top|first|last|latest|recent|head|tail|"
			"newest|oldest|biggest|largest") ||
		    tis(r, i + 1, "biggest|largest|lines|line|commits|commit|"
			"entries|most|latest|newest|oldest|recent|heaviest|"
			"processes|programs|items|results|largest|files|folders|"
			"directories|dirs|logs|messages|last|errors")) {
			char buf[24];

			snprintf(buf, sizeof(buf), "%ld", n);
			req_set(r, "n", buf, buf);
			mark(r, i, TOK_VALUE);
			break;
		}
	}
}

/* ---- file names, extensions, types ---- */

struct ext_word {
	const char *words;
	const char *exts;	/* space separated */
};

static const struct ext_word ext_words[] = {
	{ "text|txt", "txt" },
	{ "python|py", "py" },
	{ "java", "java" },
	{ "php", "php" },
	{ "perl|pl", "pl" },
	{ "ruby|rb", "rb" },
	{ "c", "c" },
	{ "header|headers|h", "h" },
	{ "c++|cpp", "cpp" },
	{ "javascript|js", "js" },
	{ "typescript|ts", "ts" },
	{ "go", "go" },
	{ "rust|rs", "rs" },
	{ "shell|sh|bash", "sh" },
	{ "html|htm", NULL },
	{ "css", "css" },
	{ "xml", "xml" },
	{ "json", "json" },
	{ "yaml|yml", "yml yaml" },
	{ "markdown|md", "md" },
	{ "log|logs", "log" },
	{ "pdf|pdfs", "pdf" },
	{ "jpg|jpgs|jpeg|jpegs", "jpg" },
	{ "png|pngs", "png" },
	{ "gif|gifs", "gif" },
	{ "svg", "svg" },
	{ "image|images|picture|pictures|photo|photos", "jpg jpeg png gif" },
	{ "video|videos|movie|movies", "mp4 mkv avi mov webm" },
	{ "music|audio|song|songs", "mp3 ogg flac wav m4a" },
	{ "mp3|mp3s", "mp3" },
	{ "ogg|oggs", "ogg" },
	{ "wav", "wav" },
	{ "flac", "flac" },
	{ "mp4|mp4s", "mp4" },
	{ "mov", "mov" },
	{ "mkv", "mkv" },
	{ "avi", "avi" },
	{ "zip|zips", "zip" },
	{ "gz|gzip|gzipped", "gz" },
	{ "tar", "tar" },
	{ "archive|archives|compressed", "zip tar gz tgz bz2 xz 7z" },
	{ "backup|bak", "bak" },
	{ "temp|temporary|tmp", "tmp" },
	{ "swap|swp", "swp" },
	{ "config|configuration|conf", "conf" },
	{ "csv", "csv" },
	{ "sql", "sql" },
	{ "doc|docs|word", "doc docx" },
	{ "ini", "ini" },
	{ "plist", "plist" },
	{ "rpm|rpms", "rpm" },
	{ "deb|debs", "deb" },
	{ "iso|isos", "iso" },
	{ "less", "less" },
	{ "tex|latex", "tex" },
	{ "swift", "swift" },
	{ "kotlin|kt", "kt" },
	{ "object|o", "o" },
	{ "so", "so" },
	{ "bam", "bam" },
	{ "pyc", "pyc" },
	{ "core", NULL },
	{ NULL, NULL },
};

static const char *ext_for(const char *w, bool strict)
{
	for (const struct ext_word *e = ext_words; e->words; e++) {
		if (!in(w, e->words))
			continue;
		if (!e->exts) {
			if (in(w, "html|htm"))
				return !strcmp(w, "htm") ? "htm" : "html";
			return NULL;
		}
		if (strict && strchr(e->exts, ' '))
			return NULL;
		return e->exts;
	}
	return NULL;
}

static const char *const type_nouns =
	"file|files|directory|directories|folder|folders|dir|dirs|"
	"subdirectories|subdirectory|subfolders|subfolder|symlink|symlinks|"
	"link|links|files/directories|files/folders|file/directory|"
	"files/dirs|regular|executables|scripts|script|programs|code|"
	"source|sources|archives|archive|images|photos|pictures|videos|"
	"documents|items|entries|everything|logs|backups|mp3s|pdfs|songs";

static const char *const location_preps =
	"in|under|inside|within|beneath|below|from|into|of|at|on|than|"
	"throughout|across|starting|to";

static const char *const location_words =
	"current|home|parent|working|this|that|root|sub|given|same|present|"
	"whole|entire|target|source|destination|tree|specified|top";

/* The object noun: which kind of entry the request wants. */
static void extract_type(struct lsh_request *r)
{
	for (size_t i = 0; i < r->ntok; i++) {
		const char *w = tl(r, i);
		bool loc = false;

		if (r->tok[i].quoted || (r->tok[i].used & TOK_VALUE) ||
		    !in(w, type_nouns))
			continue;
		for (size_t k = i; k > 0 && i - k < 3; k--) {
			const char *p = tl(r, k - 1);

			/* "the number of directories", "a list of files" */
			if (in(p, "of") && k >= 2 &&
			    tis(r, k - 2, "number|count|list|total|amount|lot|"
				"lots|names|sizes|all|none|each|most|some|any"))
				break;
			if (in(p, location_words) || in(p, location_preps) ||
			    strchr(r->tok[k - 1].text, '/')) {
				loc = true;
				break;
			}
			if (!req_is_stopword(p))
				break;
		}
		if (loc && !in(w, "files|files/directories|symlinks|links"))
			continue;
		if (in(w, "files/directories|files/folders|file/directory|"
		       "files/dirs|everything|entries|items") ||
		    (in(w, "files|file") && tis(r, i + 1, "and|or") &&
		     tis(r, i + 2, "directories|folders|dirs"))) {
			req_set(r, "anytype", "", "files and directories");
			mark(r, i, TOK_MARKER);
			return;
		}
		if (in(w, "directory|directories|folder|folders|dir|dirs|"
		       "subdirectories|subdirectory|subfolders|subfolder")) {
			req_set(r, "type", "-type d", "directories");
		} else if (in(w, "symlink|symlinks|link|links")) {
			if (tis(r, i - 1, "broken|dangling|dead|orphaned"))
				req_set(r, "type", "-xtype l",
					"broken symbolic links");
			else
				req_set(r, "type", "-type l", "symbolic links");
		} else {
			req_set(r, "type", "-type f", "files");
		}
		mark(r, i, TOK_MARKER);
		return;
	}
}

static bool known_filename(const char *w)
{
	return in(w, "makefile|readme|dockerfile|cmakelists.txt|license|"
		  "vagrantfile|gemfile|rakefile|procfile|.gitignore|.bashrc|"
		  "package.json");
}

static bool looks_like_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static void add_ext(char *exts, size_t cap, const char *e)
{
	char buf[64];

	snprintf(buf, sizeof(buf), " %s ", e);
	{
		char padded[256];

		snprintf(padded, sizeof(padded), " %s ", exts);
		if (strstr(padded, buf))
			return;
	}
	if (*exts)
		strncat(exts, " ", cap - strlen(exts) - 1);
	strncat(exts, e, cap - strlen(exts) - 1);
}

/* An extension as written after "extension": letters and digits. */
static bool valid_ext(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 9)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s))
			return false;
	return true;
}

static void extract_names(struct lsh_request *r)
{
	char exts[128] = "";
	const char *glob = NULL;
	char globbuf[256];
	bool icase = false;

	for (size_t i = 0; i < r->ntok; i++) {
		const char *w = tl(r, i);

		if (in(w, "insensitive|case-insensitive|insensitively|ignorecase") ||
		    (in(w, "case") && tis(r, i - 1, "ignoring|ignore|any|"
					   "ignores|without"))) {
			icase = true;
			mark(r, i, TOK_MARKER);
			mark(r, i - 1, TOK_MARKER);
		}
	}
	for (size_t i = 0; i < r->ntok && !glob; i++) {
		struct req_token *t = &r->tok[i];
		const char *w = t->low;

		if (t->used & TOK_VALUE)
			continue;
		/* named X, called X, name X, whose name is X */
		if (!t->quoted && in(w, "named|called|name|names|titled") &&
		    i + 1 < r->ntok) {
			size_t k = i + 1;

			while (k < r->ntok && !r->tok[k].quoted &&
			       in(tl(r, k), "is|are|as|exactly|like|matching|"
				  "the|of|pattern"))
				k++;
			/* "whose names end with ~" is the rule below's;
			 * "the name of the file" names nothing */
			if (k < r->ntok && !r->tok[k].quoted &&
			    (tis(r, k, "end|ends|ending|start|starts|starting|"
				 "begin|begins|beginning|contain|contains|"
				 "containing|include|includes|including|with|"
				 "has|have|and|or|where|when|if|in|to") ||
			     in(tl(r, k), type_nouns)))
				k = r->ntok;
			if (k < r->ntok && !(r->tok[k].used & TOK_VALUE) &&
			    (r->tok[k].quoted || !req_is_stopword(tl(r, k)))) {
				glob = r->tok[k].text;
				mark(r, k, TOK_VALUE);
				mark(r, i, TOK_MARKER);
				break;
			}
		}
		/* starting with X, ending with X, containing X in the name */
		if (!t->quoted && in(w, "starting|beginning|begin|start|starts|"
				     "begins|ending|end|ends|containing|contain|"
				     "contains|including|include|includes|with") &&
		    i + 2 < r->ntok + 1) {
			size_t k = i + 1;
			bool namectx = false;
			char how;

			if (tis(r, k, "with|in|by"))
				k++;
			if (k < r->ntok && tis(r, k, "the"))
				k++;
			if (k >= r->ntok)
				continue;
			if (in(w, "starting|beginning|begin|start|starts|begins"))
				how = 's';
			else if (in(w, "ending|end|ends"))
				how = 'e';
			else
				how = 'c';
			/* "with X in their name(s)" / "containing X in name" */
			for (size_t m = k + 1; m < r->ntok && m < k + 5; m++)
				if (tis(r, m, "name|names|filename|filenames|"
					"pathname|pathnames|path|paths"))
					namectx = true;
			if (how == 'c' && !namectx)
				continue;
			if (how != 'c' && !namectx && !r->tok[k].quoted &&
			    tis(r, k, "letter|letters|string|prefix|suffix|"
				"extension|character|characters|word")) {
				k++;
				if (k >= r->ntok)
					continue;
			}
			if (!strcmp(w, "with") && !namectx)
				continue;
			if (how != 'c' && !namectx && !r->tok[k].quoted &&
			    (req_is_stopword(tl(r, k)) || ext_for(tl(r, k), false)))
				continue;
			{
				const char *v = r->tok[k].text;

				if (how == 'e' && v[0] == '.' && !namectx &&
				    !looks_like_glob(v)) {
					add_ext(exts, sizeof(exts), v + 1);
					mark(r, k, TOK_VALUE);
					mark(r, i, TOK_MARKER);
					continue;
				}
				snprintf(globbuf, sizeof(globbuf), "%s%s%s",
					 how == 's' ? "" : "*", v,
					 how == 'e' ? "" : "*");
				glob = globbuf;
				mark(r, k, TOK_VALUE);
				mark(r, i, TOK_MARKER);
				break;
			}
		}
		/* explicit globs: *.txt, 1US*, btree*.c */
		if (looks_like_glob(t->text) && !strchr(t->text, '/') &&
		    !(t->quoted && strchr(t->text, ' '))) {
			glob = t->text;
			mark(r, i, TOK_VALUE);
			break;
		}
		if (!t->quoted && known_filename(w)) {
			glob = t->text;
			mark(r, i, TOK_VALUE);
			break;
		}
	}
	/* extensions: .txt, txt files, PHP files, MP3s, Python files */
	for (size_t i = 0; i < r->ntok; i++) {
		struct req_token *t = &r->tok[i];
		const char *w = t->low;
		const char *e;

		if (t->used & TOK_VALUE)
			continue;
		/* the extension "bam", with extension .java */
		if (!t->quoted && in(w, "extension|extensions|suffix")) {
			size_t k = i + 1;
			const char *v;

			while (k < r->ntok && !r->tok[k].quoted &&
			       tis(r, k, "of|is|the|a|an|as"))
				k++;
			if (k >= r->ntok || (r->tok[k].used & TOK_VALUE))
				continue;
			v = r->tok[k].text;
			if (v[0] == '.')
				v++;
			if (*v && strlen(v) <= 9 && valid_ext(v)) {
				add_ext(exts, sizeof(exts), v);
				mark(r, k, TOK_VALUE);
				mark(r, i, TOK_MARKER);
			}
			continue;
		}
		/* ".php" files: quoted, but an extension all the same */
		if (t->quoted && w[0] == '.' && valid_ext(w + 1) &&
		    tis(r, i + 1, "file|files") && !tis(r, i - 1, "named|called")) {
			add_ext(exts, sizeof(exts), t->text + 1);
			mark(r, i, TOK_VALUE);
			continue;
		}
		if (w[0] == '.' && w[1] && !strchr(w + 1, '.') &&
		    !strchr(w, '/') && isalnum((unsigned char)w[1]) &&
		    strlen(w) <= 9) {
			struct stat st;

			if (stat(t->text, &st) == 0 && !t->quoted)
				continue;	/* an existing dot file: a path */
			if (t->quoted || tis(r, i - 1, "named|called")) {
				if (!glob) {
					glob = t->text;
					mark(r, i, TOK_VALUE);
				}
				continue;
			}
			if (in(w + 1, "svn|git|hg|ds_store|cache|config|local"))
				continue;
			add_ext(exts, sizeof(exts), t->text + 1);
			mark(r, i, TOK_VALUE);
			continue;
		}
		if (t->quoted)
			continue;
		/* a file-type word right before a file noun */
		if (in(tl(r, i + 1), "file|files|source|sources|script|scripts|"
		       "archive|archives|images|image|documents|document|code|"
		       "extension|program|programs|backups|backup|logs") ||
		    (in(tl(r, i + 1), "(regular)|(case") && in(tl(r, i + 2),
							     "files|insensitive)"))) {
			e = ext_for(w, false);
			if (!e && !req_is_stopword(w) && strlen(w) <= 5 &&
			    isupper((unsigned char)t->text[0]) &&
			    isupper((unsigned char)t->text[strlen(t->text) - 1]))
				e = w;	/* "SGID files" is not, "PHP files" is */
			if (e && in(w, "setuid|suid|sgid|setgid|executable|hidden|"
				    "empty|large|big|small|old|new|recent"))
				e = NULL;
			if (e) {
				char tmp[128];
				char *save = NULL;

				snprintf(tmp, sizeof(tmp), "%s", e);
				for (char *p = strtok_r(tmp, " ", &save); p;
				     p = strtok_r(NULL, " ", &save))
					add_ext(exts, sizeof(exts), p);
				mark(r, i, TOK_VALUE);
				continue;
			}
		}
		/* plural media nouns on their own: MP3s, PDFs, images;
		 * not after an extension that says which ("jpg images") */
		if (in(w, "images|photos|pictures|videos|movies|songs") &&
		    i > 0 && (r->tok[i - 1].used & TOK_VALUE) &&
		    (ext_for(tl(r, i - 1), false) || tl(r, i - 1)[0] == '.')) {
			mark(r, i, TOK_MARKER);
			if (!req_get(r, "type"))
				req_set(r, "type", "-type f", "files");
			continue;
		}
		if (in(w, "mp3s|pdfs|jpgs|pngs|images|photos|pictures|videos|"
		       "movies|songs|mp4s|isos|rpms|debs")) {
			const char *x = ext_for(w, false);
			char tmp[128];
			char *save = NULL;

			if (!x || (tis(r, i - 1, "my") && tis(r, i + 1,
							     "folder|directory")))
				continue;
			snprintf(tmp, sizeof(tmp), "%s", x);
			for (char *p = strtok_r(tmp, " ", &save); p;
			     p = strtok_r(NULL, " ", &save))
				add_ext(exts, sizeof(exts), p);
			mark(r, i, TOK_VALUE);
			if (!req_get(r, "type"))
				req_set(r, "type", "-type f", "files");
		}
	}
	if (glob) {
		char cmd[300];
		char *q = sh_quote(glob);

		snprintf(cmd, sizeof(cmd), "-%s %s", icase ? "iname" : "name", q);
		req_set(r, "name", cmd, glob);
		free(q);
		q = sh_quote(glob);
		req_set(r, "glob", q, glob);
		free(q);
	}
	if (*exts) {
		char cmd[512] = "", human[256] = "", inc[512] = "";
		char tmp[128];
		char *save = NULL;
		int n = 0;

		snprintf(tmp, sizeof(tmp), "%s", exts);
		for (char *p = strtok_r(tmp, " ", &save); p;
		     p = strtok_r(NULL, " ", &save), n++) {
			size_t len = strlen(cmd);

			snprintf(cmd + len, sizeof(cmd) - len, "%s-%s '*.%s'",
				 n ? " -o " : "", icase ? "iname" : "name", p);
			len = strlen(human);
			snprintf(human + len, sizeof(human) - len, "%s*.%s",
				 n ? " or " : "", p);
			len = strlen(inc);
			snprintf(inc + len, sizeof(inc) - len, "%s--include='*.%s'",
				 n ? " " : "", p);
		}
		if (n > 1) {
			char wrapped[600];

			snprintf(wrapped, sizeof(wrapped), "\\( %s \\)", cmd);
			req_set(r, "ext", wrapped, human);
		} else {
			req_set(r, "ext", cmd, human);
		}
		req_set(r, "include", inc, human);
		if (n == 1)
			req_set(r, "extname", exts, exts);
	} else if (glob) {
		char inc[300];
		char *q = sh_quote(glob);

		snprintf(inc, sizeof(inc), "--include=%s", q);
		req_set(r, "include", inc, glob);
		free(q);
	}
	if (icase)
		req_set(r, "icase", "-i", "ignoring case");
}

/* ---- owners, permissions, depth, flags ---- */

static bool valid_name(const char *s)
{
	if (!*s || strlen(s) > 64 || *s == '-')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-+@:", *s))
			return false;
	return true;
}

static void extract_owner_perm(struct lsh_request *r)
{
	for (size_t i = 0; i < r->ntok; i++) {
		const char *w = tl(r, i);
		size_t k = i + 1;

		if (r->tok[i].quoted)
			continue;
		if ((in(w, "owned|belonging|belongs|belong|owner") ||
		     (in(w, "of") && tis(r, i + 1, "user"))) &&
		    !(r->tok[i].used & TOK_VALUE)) {
			bool group = false;

			while (k < r->ntok && tis(r, k, "by|to|the|user|is|a|an|"
						   "of|group"))
				group |= tis(r, k, "group"), k++;
			if (k < r->ntok && valid_name(r->tok[k].text) &&
			    !req_is_stopword(tl(r, k))) {
				char cmd[96];
				char *q = sh_quote(r->tok[k].text);

				if (tis(r, k, "another|other|someone|somebody")) {
					snprintf(cmd, sizeof(cmd), "! -user \"$USER\"");
					req_set(r, "owner", cmd, "another user");
				} else {
					snprintf(cmd, sizeof(cmd), "-%s %s",
						 group ? "group" : "user", q);
					req_set(r, group ? "group" : "owner", cmd,
						r->tok[k].text);
				}
				free(q);
				mark(r, k, TOK_VALUE);
				mark(r, i, TOK_MARKER);
			}
			continue;
		}
		if (in(w, "user|username|account") && i + 1 < r->ntok &&
		    valid_name(r->tok[i + 1].text) && !req_is_stopword(tl(r, i + 1)) &&
		    !tis(r, i + 1, "id|ids|name|names|info|information|accounts|"
			 "processes|process|cron|crontab|files|groups|group|"
			 "directory|home")) {
			set_quoted(r, "user", r->tok[i + 1].text, NULL);
			mark(r, i + 1, TOK_VALUE);
			mark(r, i, TOK_MARKER);
		}
		if (in(w, "group") && i + 1 < r->ntok &&
		    valid_name(r->tok[i + 1].text) && !req_is_stopword(tl(r, i + 1)) &&
		    !tis(r, i + 1, "id|ids|write|read|execute|permission|"
			 "permissions|members|membership")) {
			char cmd[96];
			char *q = sh_quote(r->tok[i + 1].text);

			snprintf(cmd, sizeof(cmd), "-group %s", q);
			req_set(r, "group", cmd, r->tok[i + 1].text);
			set_quoted(r, "groupname", r->tok[i + 1].text, NULL);
			free(q);
			mark(r, i + 1, TOK_VALUE);
			mark(r, i, TOK_MARKER);
		}
	}
	/* permission filters for find */
	{
		const struct req_slot *m = req_get(r, "mode");

		for (size_t i = 0; i < r->ntok; i++) {
			const char *w = tl(r, i);

			if (in(w, "world-writable|world-writeable") ||
			    (in(w, "world") && tis(r, i + 1, "writable|writeable"))) {
				req_set(r, "perm", "-perm -o+w", "writable by everyone");
				mark(r, i, TOK_MARKER);
			} else if (in(w, "suid|setuid")) {
				req_set(r, "perm", "-perm -4000", "with the setuid bit");
				mark(r, i, TOK_MARKER);
			} else if (in(w, "sgid|setgid")) {
				req_set(r, "perm", "-perm -2000", "with the setgid bit");
				mark(r, i, TOK_MARKER);
			} else if (in(w, "executable|executables") &&
				   !tis(r, i - 1, "make|makes")) {
				req_set(r, "perm", "-perm /111", "executable");
				mark(r, i, TOK_MARKER);
			}
		}
		if (m && !req_get(r, "perm") && !req_get(r, "modetarget")) {
			char cmd[32];

			snprintf(cmd, sizeof(cmd), "-perm %s", m->cmd);
			req_set(r, "perm", cmd, NULL);
			{
				char h[48];

				snprintf(h, sizeof(h), "with permissions %s", m->cmd);
				req_set(r, "perm", cmd, h);
			}
		}
	}
}

static void extract_depth_flags(struct lsh_request *r)
{
	for (size_t i = 0; i < r->ntok; i++) {
		const char *w = tl(r, i);

		if (in(w, "non-recursively|non-recursive|nonrecursively") ||
		    (in(w, "without") && tis(r, i + 1, "going|descending|recursing|"
					     "recursion|entering") ) ||
		    (in(w, "not") && tis(r, i + 1, "recursively|recursive|"
					 "subdirectories|descending"))) {
			/* not the starting point itself either */
			req_set(r, "depth", "-mindepth 1 -maxdepth 1",
				"without going into subdirectories");
			mark(r, i, TOK_MARKER);
			mark(r, i + 1, TOK_MARKER);
			for (size_t k = i + 2; k < r->ntok && k < i + 5; k++)
				if (tis(r, k, "into|in|sub-directories|subdirectories|"
					"sub|directories|folders|subfolders|any"))
					mark(r, k, TOK_MARKER);
		}
		if (in(w, "level|levels|deep") && i > 0) {
			long n = word_number(tl(r, i - 1));

			if (n > 0 && n < 100 && !(r->tok[i - 1].used & TOK_VALUE)) {
				char cmd[48], h[64];
				bool exact = !tis(r, i - 2, "maximum|max|most|to|"
						  "upto");

				if (exact && n == 1 && tis(r, i + 1, "down")) {
					snprintf(cmd, sizeof(cmd),
						 "-mindepth 1 -maxdepth 1");
				} else {
					snprintf(cmd, sizeof(cmd), "-maxdepth %ld", n);
				}
				snprintf(h, sizeof(h), "at most %ld level%s deep", n,
					 n == 1 ? "" : "s");
				req_set(r, "depth", cmd, h);
				mark(r, i - 1, TOK_VALUE);
				mark(r, i, TOK_MARKER);
				mark(r, i - 2, TOK_MARKER);
				mark(r, i + 1, TOK_MARKER);
			}
		}
		if (in(w, "empty|zero-byte|zero-length|blank") &&
		    !tis(r, i + 1, "line|lines|the|trash")) {
			req_set(r, "empty", "-empty", "empty");
			mark(r, i, TOK_MARKER);
		}
		if (in(w, "hidden|dotfiles|dot-files")) {
			req_set(r, "hidden", "-name '.*'", "hidden");
			mark(r, i, TOK_MARKER);
		}
		if (in(w, "force|forcefully|forcibly|-9|hard|sigkill")) {
			req_set(r, "force", "-9", "forcibly");
			mark(r, i, TOK_MARKER);
		}
		if (in(w, "numbers|number") && tis(r, i - 1, "line")) {
			req_set(r, "lineno", "-n", "with line numbers");
			mark(r, i, TOK_MARKER);
			mark(r, i - 1, TOK_MARKER);
		}
		if (in(w, "recursively|recursive|everything|subdirectories") &&
		    !req_get(r, "depth"))
			req_set(r, "recursive", "-R", "recursively");
	}
}

/* ---- paths, hosts, urls ---- */

static bool is_host(const char *s)
{
	const char *dot = strrchr(s, '.');
	int dots = 0;
	bool alpha = false;

	if (!strcmp(s, "localhost"))
		return true;
	if (!dot || s[0] == '.' || !dot[1])
		return false;
	for (const char *p = s; *p; p++) {
		if (*p == '.')
			dots++;
		else if (isalpha((unsigned char)*p))
			alpha = true;
		else if (!isdigit((unsigned char)*p) && *p != '-')
			return false;
	}
	if (!alpha)
		return dots == 3;	/* IPv4 */
	return in(dot + 1, "com|org|net|io|dev|edu|gov|de|uk|fr|nl|eu|info|"
		  "app|co|us|ca|au|jp|local|lan|internal|example|test|ai|ch|"
		  "se|no|it|es|pl|ru|cn|in|me|tv|xyz|cloud");
}

static bool exists_path(const char *p)
{
	struct stat st;

	return p[0] && stat(p, &st) == 0;
}

static bool is_dir_path(const char *p)
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

/* Shell text for a path: ~ and ~/x stay unquoted so they expand. */
static char *path_cmd(const char *p)
{
	if (p[0] == '~' && (p[1] == '\0' || p[1] == '/')) {
		char *q, *out;

		if (p[1] == '\0' || (p[1] == '/' && p[2] == '\0'))
			return strdup(p);
		q = sh_quote(p + 2);
		if (!q)
			return NULL;
		out = malloc(strlen(q) + 3);
		if (out)
			sprintf(out, "~/%s", q);
		free(q);
		return out;
	}
	if (!strcmp(p, "$HOME") || !strcmp(p, "$PWD"))
		return strdup(p);
	return sh_quote(p);
}

struct pathinfo {
	char text[1024];
	bool dir_role;	/* after in/under or followed by "directory" */
};

/*
 * "the music folder" when there is no such folder here: the one directory
 * of that name (any case) at most three levels below the current one.
 * Hidden directories are not entered; the walk gives up after a few
 * thousand entries. False unless exactly one is found.
 */
struct dirsearch {
	const char *name;
	char found[1024];
	int matches;
	int budget;
};

static void search_dir(struct dirsearch *ds, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) && ds->budget > 0 && ds->matches < 2) {
		char sub[1024];
		struct stat st;

		ds->budget--;
		if (e->d_name[0] == '.')
			continue;
		if (!strcmp(dir, "."))
			snprintf(sub, sizeof(sub), "%s", e->d_name);
		else if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", dir,
					  e->d_name) >= sizeof(sub))
			continue;
		if (lstat(sub, &st) || !S_ISDIR(st.st_mode))
			continue;
		if (!strcasecmp(e->d_name, ds->name)) {
			if (!ds->matches++)
				snprintf(ds->found, sizeof(ds->found), "%s", sub);
			continue;
		}
		if (depth < 3)
			search_dir(ds, sub, depth + 1);
	}
	closedir(d);
}

static bool find_dir_named(const char *name, char *out, size_t cap)
{
	struct dirsearch ds = { .name = name, .budget = 4000 };

	if (!valid_name(name) || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	search_dir(&ds, ".", 1);
	if (ds.matches != 1)
		return false;
	snprintf(out, cap, "%s", ds.found);
	return true;
}

static const char *known_folder(struct lsh_request *r, size_t i, size_t *used)
{
	const char *w = tl(r, i);
	static char buf[1024];

	*used = 1;
	if (r->tok[i].quoted)
		return NULL;
	/* HOME, PATH: environment variables, not folders */
	if (!strcmp(r->tok[i].text, "HOME"))
		return NULL;
	if (in(w, "home|~|homedir|home-directory") &&
	    !tis(r, i - 1, "to|no") && !tis(r, i + 1, "page|screen")) {
		if (tis(r, i + 1, "directory|folder|dir|tree|dirs"))
			*used = 2;
		if (tis(r, i + 1, "and") && tis(r, i + 2, "below"))
			*used = 3;
		return "~";
	}
	if (in(w, "current|working|present|this") &&
	    tis(r, i + 1, "directory|folder|dir|one|path|tree|location")) {
		*used = 2;
		if (tis(r, i + 1, "working"))
			*used = 3;
		return ".";
	}
	if (in(w, "current") && tis(r, i + 1, "working") &&
	    tis(r, i + 2, "directory|folder|dir")) {
		*used = 3;
		return ".";
	}
	if (in(w, "here|cwd|pwd"))
		return ".";
	if (in(w, "parent") && tis(r, i + 1, "directory|folder|dir")) {
		*used = 2;
		return "..";
	}
	if ((in(w, "root") && tis(r, i + 1, "directory|folder|dir|filesystem")) ||
	    (in(w, "entire|whole") && tis(r, i + 1, "system|filesystem|disk|"
					  "file")) ||
	    in(w, "filesystem|everywhere")) {
		*used = in(w, "entire|whole") && tis(r, i + 2, "system") ? 3 : 2;
		if (in(w, "filesystem|everywhere"))
			*used = 1;
		return "/";
	}
	if (in(w, "desktop|documents|downloads|music|pictures|videos|templates|"
	       "public") &&
	    (tis(r, i - 1, "my|the") || tis(r, i + 1, "folder|directory|dir"))) {
		snprintf(buf, sizeof(buf), "~/%c%s", toupper((unsigned char)w[0]),
			 w + 1);
		if (tis(r, i + 1, "folder|directory|dir"))
			*used = 2;
		/* "the music folder" without a ~/Music: a music folder here */
		if (!is_dir_path(buf) && !tis(r, i - 1, "my")) {
			char local[1024];

			if (find_dir_named(w, local, sizeof(local)))
				snprintf(buf, sizeof(buf), "%s", local);
		}
		return buf;
	}
	if (in(w, "tmp|temp") && tis(r, i + 1, "folder|directory|dir")) {
		*used = 2;
		return "/tmp";
	}
	return NULL;
}

/* Words next to "folder" that say something else about it. */
static const char *const not_folder_names =
	"show|list|display|print|find|search|get|see|view|give|check|count|"
	"delete|remove|create|make|change|open|go|cd|move|copy|enter|switch|"
	"navigate|compress|zip|archive|backup|structure|tree|layout|contents|"
	"content|size|sizes|usage|hierarchy|listing|new|empty|another|other|"
	"temporary|different|separate|big|biggest|large|largest|hidden|"
	"entire|whole|same|each|every|containing|permissions|owner|info";

/*
 * A word lsh also reads as a keyword ("show logs of the ssh service",
 * "recent system logs") is a path only when the request says it is a place
 * ("in logs", "the logs folder"), even if a file of that name exists here.
 */
static bool keyword_here(const struct lsh_request *r, size_t i)
{
	const struct req_token *t = &r->tok[i];

	if (t->quoted || strchr(t->text, '.') || strchr(t->text, '/'))
		return false;
	if (tis(r, i - 1, "system|kernel|systemd|journal|boot|service|daemon"))
		return true;
	if (!in(t->low, "logs|log|path|working|history|status|journal|"
		"messages|errors|output|process|processes|tree|build|test|"
		"project|packages|services|users|groups"))
		return false;
	return !tis(r, i - 1, location_preps) &&
	       !tis(r, i + 1, "directory|folder|dir|tree|repository|repo");
}

/* "done.txt", "new.tar.gz": a name with a file-name extension. */
static bool looks_like_filename(const char *s)
{
	const char *dot = strrchr(s, '.');
	bool alpha = false;

	if (!dot || dot == s || !valid_name(s) || !valid_ext(dot + 1) ||
	    !strcmp(s, "e.g") || !strcmp(s, "i.e"))
		return false;
	for (const char *p = dot + 1; *p; p++)
		alpha |= isalpha((unsigned char)*p) != 0;
	return alpha && !is_host(s);
}

static void extract_paths(struct lsh_request *r)
{
	struct pathinfo paths[8];
	size_t np = 0;
	bool transfer = false;

	for (size_t i = 0; i < r->ntok; i++)
		if (tis(r, i, "copy|cp|move|mv|rename|duplicate|clone|link|"
			"symlink|ln|relocate"))
			transfer = true;

	for (size_t i = 0; i < r->ntok && np < 8; i++) {
		struct req_token *t = &r->tok[i];
		const char *w = t->low;
		size_t used = 1;
		const char *kf;
		bool role = false, ispath = false;

		if (t->used & TOK_VALUE)
			continue;
		if (!t->quoted && (!strncmp(w, "http://", 7) ||
				   !strncmp(w, "https://", 8) ||
				   !strncmp(w, "ftp://", 6))) {
			set_quoted(r, "url", t->text, NULL);
			mark(r, i, TOK_VALUE);
			continue;
		}
		if (!t->quoted && is_host(w) && !exists_path(t->text) &&
		    !strchr(w, '/')) {
			set_quoted(r, "host", t->text, NULL);
			mark(r, i, TOK_VALUE);
			continue;
		}
		kf = known_folder(r, i, &used);
		if (kf) {
			snprintf(paths[np].text, sizeof(paths[np].text), "%s", kf);
			paths[np].dir_role = true;
			np++;
			for (size_t k = 0; k < used; k++)
				mark(r, i + k, TOK_VALUE);
			i += used - 1;
			continue;
		}
		if (in(w, "files/directories|files/folders|file/directory|"
		       "files/dirs|and/or|tcp/udp|udp/tcp|i/o"))
			continue;
		if (strchr(t->text, '/') || !strcmp(w, ".") || !strcmp(w, "..") ||
		    (w[0] == '~' && (w[1] == '/' || !w[1])) ||
		    !strncmp(w, "$home", 5))
			ispath = true;
		else if (exists_path(t->text) &&
			 (t->quoted || (!req_is_stopword(w) && strlen(w) > 1)) &&
			 !keyword_here(r, i))
			ispath = true;
		else if (i > 0 && !t->quoted && isupper((unsigned char)t->text[0]) &&
			 !t->text[1] && strcmp(t->text, "I") &&
			 is_dir_path(t->text) &&
			 tis(r, i - 1, "in|under|inside|of|below|beneath|within|"
			     "from|into|to"))
			ispath = true, role = true;	/* "in A" */
		else if (!t->quoted && !req_is_stopword(w) && !exists_path(t->text) &&
			 tis(r, i - 1, "to|as|into|file|touch|called|named") &&
			 looks_like_filename(t->text))
			ispath = true;	/* "rename x to done.txt" */
		else if (!t->quoted && transfer && tis(r, i - 1, "to|as|into") &&
			 !req_is_stopword(w) && valid_name(t->text) &&
			 !in(w, location_words) && !in(w, type_nouns) &&
			 !is_host(w) && !looks_like_glob(t->text) &&
			 !in(w, "directory|folder|dir|same|another|other|new"))
			ispath = true;	/* "copy src to src_backup" */
		else if (!req_is_stopword(w) && !looks_like_glob(t->text) &&
			 !in(w, not_folder_names) &&
			 (tis(r, i + 1, "directory|folder|dir|repository|repo") ||
			  (tis(r, i - 1, "directory|folder|dir") &&
			   (!tis(r, i - 2, "the|a|any|each|every|current|home|"
				 "parent|this") ||
			    (tis(r, i - 2, "a|an") && tis(r, i - 3, "create|make|"
							  "mkdir|add"))) &&
			   !in(w, type_nouns) &&
			   !in(w, "named|called|and|tree|with|that|which|where|"
			       "whose|containing|recursively|except|excluding"))) &&
			 !in(w, location_words) && !in(w, type_nouns) &&
			 !in(w, "that|which|a|every|each|whose|sub|given|"
			     "specified|certain|some|same|git|empty|other"))
			ispath = true, role = true;
		else if (t->quoted && !looks_like_glob(t->text) &&
			 !strchr(t->text, ' ') &&
			 (tis(r, i - 1, "in|under|inside|within|beneath|below|from|"
			      "into|to") || strchr(t->text, '.')) &&
			 !tis(r, i - 1, "for|named|called|contain|containing|"
			      "contains|string|word|text|pattern|regex|with"))
			ispath = true;
		else if (!t->quoted && !req_is_stopword(w) &&
			 tis(r, i - 1, "under|inside|beneath") &&
			 !in(w, location_words) && !in(w, type_nouns) &&
			 !looks_like_glob(t->text) && valid_name(t->text))
			ispath = true, role = true;
		if (!ispath)
			continue;
		if (in(w, "files/directories"))
			continue;
		snprintf(paths[np].text, sizeof(paths[np].text), "%s", t->text);
		/* "the music folder" that is media/music */
		if (role && !t->quoted && !exists_path(t->text) &&
		    tis(r, i + 1, "directory|folder|dir") &&
		    !tis(r, i - 1, "new|a|an|called|named|create|make")) {
			char found[1024];

			if (find_dir_named(t->text, found, sizeof(found)))
				snprintf(paths[np].text, sizeof(paths[np].text),
					 "%s", found);
		}
		paths[np].dir_role = role || tis(r, i - 1, "in|under|inside|within|"
						 "beneath|below|from|at|of|"
						 "starting|throughout") ||
				     tis(r, i + 1, "directory|folder|dir|tree");
		np++;
		mark(r, i, TOK_VALUE);
		if (tis(r, i + 1, "directory|folder|dir|tree"))
			mark(r, i + 1, TOK_MARKER);
	}
	/* dir: the search root; path/path2: operands; file: a file operand */
	{
		int dir = -1, file = -1;

		/* an existing file is never the folder to search */
		for (size_t i = 0; i < np; i++)
			if (dir < 0 && (is_dir_path(paths[i].text) ||
					(paths[i].dir_role &&
					 !exists_path(paths[i].text))))
				dir = (int)i;
		for (size_t i = 0; i < np; i++)
			if (file < 0 && !is_dir_path(paths[i].text) &&
			    strcmp(paths[i].text, "~") && strcmp(paths[i].text, ".") &&
			    strcmp(paths[i].text, "/"))
				file = (int)i;
		if (dir >= 0) {
			char *c = path_cmd(paths[dir].text);
			const char *h = paths[dir].text;

			if (!strcmp(h, "~"))
				h = "your home directory";
			else if (!strcmp(h, "."))
				h = "the current directory";
			else if (!strcmp(h, "/"))
				h = "the whole file system";
			req_set(r, "dir", c, h);
			free(c);
		}
		if (file >= 0) {
			char *c = path_cmd(paths[file].text);

			req_set(r, "file", c, paths[file].text);
			free(c);
		}
		for (size_t i = 0; i < np && i < 3; i++) {
			static const char *const names[] = { "path", "path2",
							     "path3" };
			char *c = path_cmd(paths[i].text);
			const char *h = paths[i].text;

			if (!strcmp(h, "~"))
				h = "your home directory";
			else if (!strcmp(h, "."))
				h = "the current directory";
			req_set(r, names[i], c, h);
			free(c);
		}
		{
			char n[8];

			snprintf(n, sizeof(n), "%zu", np);
			req_set(r, "npaths", n, n);
		}
	}
}

/* Can token k be the text searched for? */
static bool text_word(const struct lsh_request *r, size_t k)
{
	if (k >= r->ntok)
		return false;
	if (r->tok[k].quoted)
		return !(r->tok[k].used & TOK_VALUE);
	return !(r->tok[k].used & TOK_VALUE) && !req_is_stopword(tl(r, k)) &&
	       !in(tl(r, k), type_nouns) && !ext_for(tl(r, k), false) &&
	       !in(tl(r, k), "lines|line|files|file|process|processes|port|"
		   "errors|updates|packages|package|service|services|large|"
		   "big|empty|old|new|hidden|more|less|changes|text|disk|"
		   "space|memory|cpu|users|user|extension|extensions|name|"
		   "names|filename|filenames|suffix|prefix|permission|"
		   "permissions|size|numbers|case|ignoring|ignore|"
		   "insensitive|case-insensitive|recursively");
}

/* Search text: quoted, or the word after "for", "containing", "word". */
static void extract_text(struct lsh_request *r)
{
	for (size_t i = 0; i < r->ntok; i++) {
		struct req_token *t = &r->tok[i];

		if (!t->quoted || (t->used & TOK_VALUE))
			continue;
		if (tis(r, i - 1, "named|called|name|in|under|into|to|file") &&
		    !tis(r, i - 1, "for"))
			continue;
		set_quoted(r, "text", t->text, NULL);
		mark(r, i, TOK_VALUE);
		return;
	}
	for (size_t i = 0; i + 1 < r->ntok; i++) {
		const char *w = tl(r, i);
		size_t k = i + 1, filler = 0;

		if (r->tok[i].quoted ||
		    !in(w, "containing|contain|contains|for|word|string|text|"
			"pattern|grep|mention|mentions|mentioning|regex|"
			"occurrences|occurrence|phrase|with"))
			continue;
		if (in(w, "with") && !tis(r, k, "the|text|word|string") &&
		    !tis(r, i - 1, "lines|line|rows|entries"))
			continue;
		while (k < r->ntok && tis(r, k, "the|word|string|text|pattern|"
					   "regex|phrase|characters|a|an|of")) {
			if (!tis(r, k, "the|a|an|of"))
				filler = k;
			k++;
		}
		/* "the characters String ignoring case": the filler was it */
		if (filler && !text_word(r, k) && text_word(r, filler))
			k = filler;
		if (!text_word(r, k))
			continue;
		set_quoted(r, "text", r->tok[k].text, NULL);
		mark(r, k, TOK_VALUE);
		mark(r, i, TOK_MARKER);
		return;
	}
	/* "how many times does alpha appear", "where does needle occur" */
	for (size_t i = 1; i + 1 < r->ntok; i++) {
		struct req_token *t = &r->tok[i];

		if (t->used & TOK_VALUE || !tis(r, i - 1, "does|do|did|is") ||
		    !tis(r, i + 1, "appear|appears|occur|occurs|show|shows") ||
		    req_is_stopword(t->low) || in(t->low, type_nouns) ||
		    !valid_name(t->text))
			continue;
		set_quoted(r, "text", t->text, NULL);
		mark(r, i, TOK_VALUE);
		mark(r, i + 1, TOK_MARKER);
		return;
	}
}

/* ---- composition of find filters ---- */

static void compose_filters(struct lsh_request *r)
{
	static const char *const order[] = { "depth", "type", "name", "ext",
					     "hidden", "size", "age", "owner",
					     "group", "perm", "empty", NULL };
	char cmd[1024] = "", human[1024] = "";

	for (size_t i = 0; order[i]; i++) {
		const struct req_slot *s = req_get(r, order[i]);
		size_t n;

		if (!s)
			continue;
		if (!strcmp(order[i], "type") && !strcmp(s->cmd, "-type d") &&
		    req_get(r, "ext"))
			continue;	/* "mp3 directories" are not a thing */
		n = strlen(cmd);
		snprintf(cmd + n, sizeof(cmd) - n, " %s", s->cmd);
		if (!strcmp(order[i], "type") || !strcmp(order[i], "depth"))
			continue;
		n = strlen(human);
		if (!strcmp(order[i], "name") || !strcmp(order[i], "ext"))
			snprintf(human + n, sizeof(human) - n, ", named %s",
				 s->human);
		else if (!strcmp(order[i], "owner") || !strcmp(order[i], "group"))
			snprintf(human + n, sizeof(human) - n, ", owned by %s%s",
				 strcmp(order[i], "group") ? "" : "group ",
				 s->human);
		else
			snprintf(human + n, sizeof(human) - n, ", %s", s->human);
	}
	{
		const struct req_slot *d = req_get(r, "depth");

		if (d) {
			size_t n = strlen(human);

			snprintf(human + n, sizeof(human) - n, ", %s", d->human);
		}
	}
	req_set(r, "filters", cmd, human);
	{
		const struct req_slot *t = req_get(r, "type");
		const char *th = t ? t->human : req_get(r, "anytype") ?
				 "files and directories" : "files and directories";

		if (t && !strcmp(t->cmd, "-type d") && req_get(r, "ext"))
			th = "files and directories";
		req_set(r, "what", th, th);
	}
}

bool req_parse(struct lsh_request *r, const char *text)
{
	memset(r, 0, sizeof(*r));
	tokenize(r, text);
	if (!r->ntok)
		return false;
	extract_sizes(r);
	extract_age(r);
	extract_numbers(r);
	extract_names(r);
	extract_owner_perm(r);
	extract_depth_flags(r);
	extract_paths(r);
	extract_text(r);
	extract_type(r);
	compose_filters(r);
	return true;
}
