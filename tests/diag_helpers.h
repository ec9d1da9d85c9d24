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

#endif
