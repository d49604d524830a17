/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A POSIX shell tokenizer and parser, enough to know what a command line
 * would run: quotes and escapes, pipes, lists (; & && ||), redirections,
 * here-documents, $(...), backticks, ${...}, $((...)), subshells, groups,
 * if/while/until/for/case and function definitions. Compound commands are
 * flattened into the sequence of commands they contain, which is what the
 * safety classifier and --explain need.
 */
#ifndef LSH_SHPARSE_H
#define LSH_SHPARSE_H

#include <stdbool.h>
#include <stddef.h>

struct sh_list;

/* Word flags. */
#define SHW_QUOTED 1u	/* some part was quoted or escaped */
#define SHW_EXPAND 2u	/* contains $var, ${...}, $(...), `...` or $((...)) */
#define SHW_GLOB 4u	/* unquoted * ? or [ */
#define SHW_TILDE 8u	/* starts with an unquoted ~ */
#define SHW_SUBST 16u	/* contains a command or process substitution */

struct sh_word {
	const char *raw;	/* as written */
	const char *value;	/* quotes removed; expansions left as written */
	unsigned int flags;
	struct sh_list **subs;	/* command substitutions inside the word */
	size_t nsubs;
};

enum sh_redir_op {
	SHR_IN,		/* <  */
	SHR_OUT,	/* >  */
	SHR_APPEND,	/* >> */
	SHR_CLOBBER,	/* >| */
	SHR_RDWR,	/* <> */
	SHR_DUPIN,	/* <& */
	SHR_DUPOUT,	/* >& */
	SHR_HEREDOC,	/* << and <<- */
	SHR_HERESTR,	/* <<< */
	SHR_ALLOUT,	/* &> */
	SHR_ALLAPPEND,	/* &>> */
};

struct sh_heredoc {
	const char *body;	/* NULL until the lines after the command */
	bool expands;		/* delimiter unquoted: body has expansions */
	bool strip_tabs;	/* <<- */
	struct sh_list **subs;	/* substitutions in an expanding body */
	size_t nsubs;
};

struct sh_redir {
	int fd;			/* -1: the operator's default */
	enum sh_redir_op op;
	struct sh_word target;	/* file, fd number, or here-doc delimiter */
	struct sh_heredoc *heredoc;	/* SHR_HEREDOC only */
};

enum sh_cmd_kind {
	SHC_SIMPLE,	/* words and redirections; may have no words */
	SHC_SUBSHELL,	/* ( list ) */
	SHC_GROUP,	/* { list; } */
	SHC_KEYWORD,	/* header of for/case/function: runs nothing itself */
};

struct sh_cmd {
	enum sh_cmd_kind kind;
	struct sh_word *words;	/* assignments first, then the command */
	size_t nwords;
	size_t nassign;		/* leading NAME=value words */
	struct sh_redir *redirs;
	size_t nredirs;
	struct sh_list *body;	/* SUBSHELL and GROUP */
};

struct sh_pipeline {
	struct sh_cmd *cmds;
	size_t ncmds;
	bool bang;
};

struct sh_list {
	struct sh_pipeline *pipes;
	size_t npipes;
	char *ops;	/* after each pipeline: ';' '&' 'a' (&&) 'o' (||) '\n' */
	void *arena;	/* set on the top-level list only */
};

/*
 * Parses src. Returns NULL with a one-line reason in err (e.g. "unterminated
 * double quote") when it is not valid shell syntax. An empty or blank
 * line gives a list with no pipelines.
 */
struct sh_list *sh_parse(const char *src, char *err, size_t errcap);
void sh_free(struct sh_list *list);

/* Visits every simple command, also those inside substitutions, subshells,
 * groups and here-document bodies; depth counts substitution nesting.
 */
typedef void (*sh_visit_fn)(const struct sh_cmd *cmd,
			    const struct sh_pipeline *pipe, size_t index,
			    int depth, void *ctx);
void sh_walk(const struct sh_list *list, sh_visit_fn fn, void *ctx);

/* Shell reserved word at command position? */
bool sh_is_reserved(const char *word);

/*
 * Quotes s for the shell: as is when it only has safe characters, else in
 * single quotes. Returns a malloc'd string.
 */
char *sh_quote(const char *s);

#endif
