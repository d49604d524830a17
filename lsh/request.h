/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * An English request taken apart: its words, and the slots found in it
 * (paths, sizes with units, durations, names, extensions, ports, numbers,
 * users, search text, ...), each normalised to the form a command needs
 * and to a form for the explanation.
 */
#ifndef LSH_REQUEST_H
#define LSH_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REQ_MAX_TOKENS 96
#define REQ_MAX_SLOTS 48

/* How a token was used by the slot extraction. */
#define TOK_VALUE 1u	/* is a slot's value: not a keyword any more */
#define TOK_MARKER 2u	/* introduced a slot ("than", "named"): still a
			 * keyword, but not an unexplained word */

struct req_token {
	char *text;	/* as written, quotes removed */
	char *low;	/* lower case, trailing punctuation removed */
	bool quoted;
	unsigned int used;
};

struct req_slot {
	char name[16];
	char *cmd;	/* shell form, already quoted */
	char *human;	/* for the explanation */
};

struct lsh_request {
	struct req_token tok[REQ_MAX_TOKENS];
	size_t ntok;
	struct req_slot slot[REQ_MAX_SLOTS];
	size_t nslot;
};

/* Splits and analyses text; false if it has no words. */
bool req_parse(struct lsh_request *r, const char *text);
void req_free(struct lsh_request *r);

const struct req_slot *req_get(const struct lsh_request *r, const char *name);
/* Adds or replaces a slot (strings are copied). */
void req_set(struct lsh_request *r, const char *name, const char *cmd,
	     const char *human);
void req_unset(struct lsh_request *r, const char *name);

/* Stop words: carry no meaning for matching ("the", "my", "is", ...). */
bool req_is_stopword(const char *low);

/*
 * Size and duration parsers, exposed for tests: "100MB", "1.5 GB" (as
 * tokens a and optional b) to bytes; "3 days", "last week" to minutes.
 */
bool req_parse_size(const char *a, const char *b, uint64_t *bytes,
		    int *ntok);
bool req_parse_duration(const char *a, const char *b, const char *c,
			uint64_t *minutes, int *ntok);

#endif
