/* cmd_observe.h: the commands that watch instances: log, suggest, collect, metrics (their rows in main.c). */
#ifndef IRONCLAW_CMD_OBSERVE_H
#define IRONCLAW_CMD_OBSERVE_H

#include "cli.h"

#define FILTER_OPTS (OPTS(SINCE) | OPTS(TOOL) | OPTS(REASON) | OPTS(VERDICT) | OPTS(DEST))
#define LOG_OPTS (OPTS(NAME) | OPTS(FOLLOW) | OPTS(JSON) | OPTS(FLOWS) | FILTER_OPTS)
#define SUGGEST_OPTS (OPTS(NAME) | FILTER_OPTS)
#define COLLECT_OPTS                                                                               \
	(OPTS(NAME) | OPTS(METRICS_LISTEN) | OPTS(METRICS_REMOTE) | OPTS(TEXTFILE) |               \
	 OPTS(PER_RULE) | OPTS(JOURNAL_SIZE) | OPTS(JOURNALD) | OPTS(UNTIL_UNINSTALLED))
#define METRICS_OPTS (OPTS(NAME) | OPTS(PER_RULE))

int do_log(struct cli_args *a);
int do_suggest(struct cli_args *a);
int do_collect(struct cli_args *a);
int do_metrics(struct cli_args *a);

extern const char log_help[], suggest_help[], collect_help[], metrics_help[];

#endif
