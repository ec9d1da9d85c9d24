/* diag.c: error and warning messages collected for the user. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "diag.h"
#include "text.h"

static void diag_add(struct diag *d, const char *kind, const char *file, int line, const char *fmt,
		     va_list ap)
{
	char body[512], *msg;
	int n, saved = errno; /* callers return -errno after the message: keep it */

	vsnprintf(body, sizeof(body), fmt, ap);
	if (d->nr >= DIAG_MAX_MSGS)
		goto out;
	if (file && line > 0)
		n = asprintf(&msg, "%s:%d: %s%s", file, line, kind, body);
	else if (file)
		n = asprintf(&msg, "%s: %s%s", file, kind, body);
	else
		n = asprintf(&msg, "%s%s", kind, body);
	if (n < 0)
		goto out;
	d->parts[d->nr] = (struct diag_part){ .file = file ? strdup(file) : NULL,
					      .line = line,
					      .body = strdup(body),
					      .warning = kind[0] != '\0' };
	d->msgs[d->nr++] = msg;
out:
	errno = saved;
}

void diag_error(struct diag *d, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(d, "", file, line, fmt, ap);
	va_end(ap);
	d->errors++;
}

void diag_warn(struct diag *d, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(d, "warning: ", file, line, fmt, ap);
	va_end(ap);
	d->warnings++;
}

/*
 * A message quotes profile text (words, rule text, file names) as it came: for a terminal, or
 * a log read on one, control bytes, '\' and invalid UTF-8 are written as \xNN here, at the one
 * place messages become text; --json writes the same message through the JSON escaper.
 */
void diag_print(const struct diag *d, FILE *out)
{
	for (int i = 0; i < d->nr; i++) {
		text_plain(out, d->msgs[i]);
		fputc('\n', out);
	}
	if (d->errors > d->nr)
		fprintf(out, "(%d more errors not shown)\n", d->errors - d->nr);
}

void diag_free(struct diag *d)
{
	for (int i = 0; i < d->nr; i++) {
		free(d->msgs[i]);
		free(d->parts[i].file);
		free(d->parts[i].body);
	}
	memset(d, 0, sizeof(*d));
}
