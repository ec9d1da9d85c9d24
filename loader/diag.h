/* diag.h: error and warning messages collected for the user, with their file:line. */
#ifndef IRONCLAW_DIAG_H
#define IRONCLAW_DIAG_H

#include <stdarg.h>
#include <stdio.h>

#define DIAG_MAX_MSGS 64

/* one message in parts, for --json */
struct diag_part {
	char *file; /* NULL: not about a file */
	int line; /* 0: the whole file */
	char *body; /* what is wrong */
	int warning;
};

struct diag {
	int errors;
	int warnings;
	int nr; /* messages kept, at most DIAG_MAX_MSGS */
	char *msgs[DIAG_MAX_MSGS]; /* "file:line: [warning: ]body" */
	struct diag_part parts[DIAG_MAX_MSGS];
};

/* "file:line: what is wrong"; line 0 leaves the line number out; errno is kept */
void diag_error(struct diag *d, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void diag_warn(struct diag *d, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void diag_print(const struct diag *d, FILE *out);
void diag_free(struct diag *d);

#endif
