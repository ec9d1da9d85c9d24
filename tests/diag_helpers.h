/* diag_helpers.h: reading a struct diag's messages in test assertions. */
#ifndef IRONCLAW_TEST_DIAG_HELPERS_H
#define IRONCLAW_TEST_DIAG_HELPERS_H

#include <stdbool.h>
#include <string.h>
#include "diag.h"

static inline bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* every message, one per indented line, for a failure report */
static inline char *all_msgs(const struct diag *d)
{
	static char buf[4096];

	buf[0] = '\0';
	for (int i = 0; i < d->nr; i++) {
		strncat(buf, "\n    ", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, d->msgs[i], sizeof(buf) - strlen(buf) - 1);
	}
	return d->nr ? buf : "(no messages)";
}

/* the first message that contains needle, or NULL */
static inline const char *find_msg(const struct diag *d, const char *needle)
{
	for (int i = 0; i < d->nr; i++)
		if (strstr(d->msgs[i], needle))
			return d->msgs[i];
	return NULL;
}

/*
 * One error and nothing else, reported at where (e.g. "b.rules:9: ") and
 * saying says; what names the case in a failure report. A macro, so that a
 * failure points at the test's line.
 */
#define assert_one_error_at(d, what, where, says)                                                  \
	do {                                                                                       \
		cr_assert_eq((d)->errors, 1, "%s: %d errors, want 1:%s", (what), (d)->errors,      \
			     all_msgs(d));                                                         \
		cr_assert(starts_with((d)->msgs[0], (where)), "%s: \"%s\" is not at \"%s\"",       \
			  (what), (d)->msgs[0], (where));                                          \
		cr_assert(strstr((d)->msgs[0], (says)), "%s: \"%s\" does not say \"%s\"", (what),  \
			  (d)->msgs[0], (says));                                                   \
	} while (0)

#endif
