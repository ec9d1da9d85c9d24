/* lines.c: a text file read line by line, each line given to a parser, errors at file:line. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include "lines.h"

int lines_read(FILE *f, const char *path, const char *what, lines_fn fn, void *ctx, struct diag *d)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, err = 0;

	while ((len = getline(&line, &cap, f)) >= 0) {
		const char *nul = memchr(line, '\0', len);
		int e;

		lineno++;
		if (nul) {
			diag_error(d, path, lineno, "a NUL byte (column %zu): a %s is text",
				   (size_t)(nul - line) + 1, what);
			e = -EINVAL;
		} else {
			e = fn(ctx, path, lineno, line, d);
		}
		if (e == -ENOMEM) {
			err = e;
			break;
		}
		if (e && !err)
			err = e;
	}
	if (ferror(f)) {
		diag_error(d, path, 0, "cannot read: %s", strerror(errno));
		err = -EIO;
	}
	free(line);
	return err;
}
