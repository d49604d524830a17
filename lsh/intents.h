/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The intent engine: a table of parameterised intents (patterns with
 * slots, a command template, an explanation template, risky or not by
 * nature) matched against an English request without any model.
 */
#ifndef LSH_INTENTS_H
#define LSH_INTENTS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Pattern: space-separated groups, all required unless marked. A group is
 * alternatives a|b|c (a trailing * matches a prefix); ?group is optional
 * (counts when present); !group must be absent; =group may match words
 * that a slot already took; {slot} or {a|b} requires a slot; @ takes the
 * leftover word as the object ({obj}).
 *
 * Template: {slot} inserts the slot (shell form in commands, words in
 * explanations), {slot:default} falls back to default, {} is a literal
 * "{}", and [ ... ] is left out when a slot inside it is missing.
 */
struct lsh_intent {
	const char *name;
	const char *patterns[6];
	const char *accepts;	/* slots the command uses, space-separated */
	const char *cmd;
	const char *explain;
	const char *risk;	/* risky by nature: why; NULL when not */
};

extern const struct lsh_intent lsh_intents[];
extern const size_t lsh_n_intents;

struct lsh_proposal {
	char cmd[1024];
	char explain[512];
	const char *intent;	/* name, or "model" */
	bool risky;
	char reason[192];
};

/* Translates request; false when no intent fits. */
bool lsh_intent_translate(const char *request, struct lsh_proposal *out);

/* Fills risky/reason from the classifier and the intent's own risk. */
void lsh_proposal_classify(struct lsh_proposal *p, const char *intent_risk);

#endif
