/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Safety classifier: decides from the parsed command line whether running
 * it could destroy or overwrite data, change the system, or do something
 * lsh cannot see. Everything it does not know counts as risky.
 */
#ifndef LSH_SAFETY_H
#define LSH_SAFETY_H

#include <stdbool.h>

#include "shparse.h"

struct lsh_safety {
	bool risky;
	char reason[192];	/* why it is risky; "" when safe */
};

/*
 * Classifies a command line. Paths are checked against the file system
 * relative to the current directory (to know whether a write overwrites).
 * A line that does not parse is risky with the parse error as the reason;
 * returns false in that case.
 */
bool lsh_classify(const char *line, struct lsh_safety *out);
void lsh_classify_list(const struct sh_list *list, struct lsh_safety *out);

/* True for lsh's own builtins and common shell builtins. */
bool lsh_is_shell_builtin(const char *name);

#endif
