/* cli.h: the command line as data: each command declares its options and gets them filled in. */
#ifndef IRONCLAW_CLI_H
#define IRONCLAW_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include "instance.h"

#define EXIT_USAGE 2

/* every option any command takes; a command's opts is a mask of (1 << OPT_*) */
enum cli_opt_id {
	OPT_NAME,
	OPT_JSON,
	OPT_PROFILE,
	OPT_TC_INGRESS,
	OPT_TC,
	OPT_XDP,
	OPT_CGROUP,
	OPT_NETNS,
	OPT_SANDBOX_NETNS,
	OPT_SANDBOX_CGROUP,
	OPT_SOURCE,
	OPT_GATEWAY,
	OPT_AUDIT,
	OPT_FOLLOW,
	OPT_USER,
	OPT_TOOL,
	OPT_PERSIST,
	OPT_SINCE,
	OPT_REASON,
	OPT_VERDICT,
	OPT_DEST,
	OPT_METRICS_LISTEN,
	OPT_METRICS_REMOTE,
	OPT_TEXTFILE,
	OPT_PER_RULE,
	OPT_JOURNAL_SIZE,
	OPT_JOURNALD,
	OPT_UNTIL_UNINSTALLED,
	OPT_NO_COLLECT,
	OPT_FLOWS,
	NR_CLI_OPTS,
};

#define OPTS(x) (1u << OPT_##x)

/* what the options and arguments of one command line said */
struct cli_args {
	const char *cmd;
	const char *name; /* --name, INSTANCE_DEFAULT when not given */
	bool help; /* -h or --help: the caller prints the command's help */
	bool json, verbose, audit, follow, persist;
	bool name_given, metrics_remote, per_rule, flows;
	bool journald, until_uninstalled, no_collect;
	/* log and suggest filters, collect and metrics settings: checked by their commands */
	const char *since, *reason, *verdict, *dest, *metrics_listen, *textfile, *journal_size;
	const char *profile, *netns, *sandbox_netns, *sandbox_cgroup, *cgroup, *user, *tool;
	struct attach_point points[INSTANCE_MAX_POINTS];
	size_t nr_points;
	struct addr sources[INSTANCE_MAX_SOURCES];
	size_t nr_sources;
	struct addr gateways[L2LINK_MAX_GATEWAYS];
	size_t nr_gateways;
	int argc; /* the arguments after the options */
	char **argv;
};

enum cli_arg_kind {
	ARGS_NONE, /* no arguments */
	ARGS_WORDS, /* arguments after (or among) the options */
	ARGS_COMMAND, /* a command line: the options end at its first word */
};

struct cli_cmd {
	const char *name;
	int (*run)(struct cli_args *a);
	unsigned int opts; /* beside the shared -v/--verbose and -h/--help */
	enum cli_arg_kind args; /* false, true (ARGS_WORDS) or ARGS_COMMAND */
	const char *summary;
	const char *help;
};

/*
 * Fills a from argv (argv[0] is the command): 0 (a->help set for -h), or
 * the exit status after one line on stderr saying what is wrong.
 */
int cli_parse(const struct cli_cmd *c, int argc, char **argv, struct cli_args *a);
/* "ironclaw-pipe CMD: what is wrong" and where the help is; returns EXIT_USAGE */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* the command of that name, or NULL; *near: the closest name when none is (or NULL) */
const struct cli_cmd *cli_find(const struct cli_cmd *cmds, size_t n, const char *name,
			       const char **near);

/* explain's packet: <tcp|udp> <address> [port] <port> [tool <name>] [query <name> [<type>]];
 * 0, or EXIT_USAGE after a usage message */
struct explain_query;
int cli_explain_args(const char *cmd, int argc, char **argv, struct explain_query *q);

#endif
