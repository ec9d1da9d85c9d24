/* collect.h: the event collector: every instance's ring buffer drained into its journal, metrics served. */
#ifndef IRONCLAW_COLLECT_H
#define IRONCLAW_COLLECT_H

#include <stdbool.h>
#include <linux/types.h>
#include "diag.h"

struct collect_opts {
	const char *name; /* one instance; NULL: every instance, as they come and go */
	__u64 journal_max; /* bytes per instance; 0: JOURNAL_DEFAULT_MAX */
	const char *listen; /* "ADDR:PORT" for GET /metrics, or NULL */
	bool listen_remote; /* a non-loopback listen address was meant */
	const char *textfile; /* node_exporter textfile, rewritten every few seconds, or NULL */
	bool per_rule;
};

/* checks "ADDR:PORT" ("[ADDR]:PORT" for IPv6): 0, -EINVAL, or -EPERM (not loopback) */
int collect_listen_check(const char *spec, bool remote);
/* runs in the foreground until SIGINT or SIGTERM; 0 or -errno */
int collect_run(const struct collect_opts *o, struct diag *d);

#endif
