/* lines.h: a text file read line by line, each line given to a parser, errors at file:line. */
#ifndef IRONCLAW_LINES_H
#define IRONCLAW_LINES_H

#include <stdio.h>
#include "diag.h"

/* one line (without NUL bytes) of path: 0, or -errno with its error in d */
typedef int (*lines_fn)(void *ctx, const char *path, int lineno, const char *line, struct diag *d);

/*
 * Every line of f to fn: a line with a NUL byte is an error at its line
 * ("a NUL byte (column N): a WHAT is text"), since what follows it would be
 * dropped unseen. Goes on past a bad line, so that every error is said;
 * stops at -ENOMEM. 0, or the first error.
 */
int lines_read(FILE *f, const char *path, const char *what, lines_fn fn, void *ctx, struct diag *d);

#endif
