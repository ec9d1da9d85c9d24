/* collect.h: the event collector: every instance's ring buffer drained into its journal, metrics served. */
#ifndef IRONCLAW_COLLECT_H
#define IRONCLAW_COLLECT_H

#include <stdbool.h>
#include <sys/types.h>
#include <linux/types.h>
#include "diag.h"

struct collect_opts {
	const char *name; /* one instance; NULL: every instance, as they come and go */
	__u64 journal_max; /* bytes per instance; 0: JOURNAL_DEFAULT_MAX */
	const char *listen; /* "ADDR:PORT" for GET /metrics, or NULL */
	bool listen_remote; /* a non-loopback listen address was meant */
	const char *textfile; /* node_exporter textfile, rewritten every few seconds, or NULL */
	bool per_rule;
	bool journald; /* each event also to the systemd journal, with IRONCLAW_* fields */
	bool until_uninstalled; /* with name: ends when the instance is not installed */
};

/* checks "ADDR:PORT" ("[ADDR]:PORT" for IPv6): 0, -EINVAL, or -EPERM (not loopback) */
int collect_listen_check(const char *spec, bool remote);
/*
 * A collector of instance name in the background ('collect --name NAME
 * --until-uninstalled'), unless a reader holds its ring buffer already:
 * 0 (*pid: the collector's, holding it), -ENOENT (not installed),
 * -EALREADY (*pid: the holder's), or -errno with a line in d.
 */
int collect_start(const char *name, bool journald, pid_t *pid, struct diag *d);
/* runs in the foreground until SIGINT or SIGTERM; 0 or -errno */
int collect_run(const struct collect_opts *o, struct diag *d);

#endif
