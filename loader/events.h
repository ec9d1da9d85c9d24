/* events.h: the denials in an instance's ring buffer: shown as they come, or turned into rules. */
#ifndef IRONCLAW_EVENTS_H
#define IRONCLAW_EVENTS_H

#include <stdbool.h>
#include <stdio.h>
#include "diag.h"

/* the denials in the ring buffer, then (follow) as they come, until SIGINT or SIGTERM */
int events_log(const char *name, bool follow, bool json, FILE *out, struct diag *d);
/* the would-deny events so far as profile lines (grouped, with counts); consumes them */
int events_suggest(const char *name, FILE *out, struct diag *d);

#endif
