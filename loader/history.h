/* history.h: log and suggest from an instance's event journal: any number of readers, filters, follow. */
#ifndef IRONCLAW_HISTORY_H
#define IRONCLAW_HISTORY_H

#include <stdbool.h>
#include <stdio.h>
#include "diag.h"
#include "event_view.h"
#include "journal.h"
#include "suggest.h"

/* a collector has written a journal for the instance */
bool history_exists(const char *name);
/* a collector (or another reader) holds the instance's ring buffer now */
bool history_collector_running(const char *name);
/* an event record's payload as a view; strings into bufs; -EINVAL for a short one */
struct history_strings {
	char cgroup[512], tool[512], stage[64], rule[320], dest_name[256];
	__u8 qname[EVENT_NAME_MAX];
};
int history_event_view(const struct journal_rec *rec, struct event_view *v,
		       struct history_strings *s);
/* the events of the journal that f keeps, then (follow) as they come until SIGINT/SIGTERM */
int history_log(const char *name, bool follow, bool json, const struct event_filter *f, FILE *out,
		struct diag *d);
/* the would-deny events of the journal into g (suggest.h); nothing is consumed */
int history_suggest(const char *name, const struct event_filter *f, struct suggestions *g,
		    struct diag *d);

#endif
