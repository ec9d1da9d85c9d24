/* cmd_observe.c: the commands that watch instances: log, suggest, collect, metrics (their rows in main.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"
#include "cmd_observe.h"
#include "journal.h"
#include "instance.h"

/* the filters of log and suggest from the command line: 0, or the exit status */
static int filters(const struct cli_args *a, struct event_filter *f)
{
	char err[256];

	event_filter_init(f);
	f->tool = a->tool;
	if (a->flows)
		f->kinds = EVENT_KINDS_FLOWS;
	if (a->flows && a->verdict && strcmp(a->verdict, "allow"))
		return cli_usage_error(a->cmd,
				       "--flows shows allowed flows and queries: "
				       "--verdict %s selects denials",
				       a->verdict);
	if ((a->reason && event_filter_reason(f, a->reason, err, sizeof(err))) ||
	    (a->verdict && event_filter_verdict(f, a->verdict, err, sizeof(err))) ||
	    (a->dest && event_filter_dest(f, a->dest, err, sizeof(err))) ||
	    (a->since && event_filter_since(f, a->since, err, sizeof(err))))
		return cli_usage_error(a->cmd, "%s", err);
	return 0;
}

int do_log(struct cli_args *a)
{
	struct event_filter f;
	struct diag d = {};
	int ret = filters(a, &f);

	if (ret || cmd_need_root(a->cmd))
		return ret ? ret : 1;
	return cmd_report(a->cmd, &d, instance_log(a->name, a->follow, a->json, &f, stdout, &d));
}

int do_suggest(struct cli_args *a)
{
	struct event_filter f;
	struct diag d = {};
	int ret = filters(a, &f);

	if (ret || cmd_need_root(a->cmd))
		return ret ? ret : 1;
	return cmd_report(a->cmd, &d, instance_suggest(a->name, &f, stdout, &d));
}

/* "64M", "512K", "1G" or bytes */
static int size_parse(const char *s, __u64 *out)
{
	char *end;
	unsigned long long n = strtoull(s, &end, 10);

	if (end == s)
		return -EINVAL;
	switch (*end) {
	case 'K':
	case 'k':
		n <<= 10;
		end++;
		break;
	case 'M':
		n <<= 20;
		end++;
		break;
	case 'G':
		n <<= 30;
		end++;
		break;
	}
	if (*end || n < JOURNAL_MIN_MAX)
		return -EINVAL;
	*out = n;
	return 0;
}

int do_collect(struct cli_args *a)
{
	struct collect_opts o = {
		.name = a->name_given ? a->name : NULL,
		.listen = a->metrics_listen,
		.listen_remote = a->metrics_remote,
		.textfile = a->textfile,
		.per_rule = a->per_rule,
		.journald = a->journald,
		.until_uninstalled = a->until_uninstalled,
	};
	struct diag d = {};

	if (a->until_uninstalled && !a->name_given)
		return cli_usage_error(a->cmd, "--until-uninstalled needs --name INSTANCE");
	if (a->journal_size && size_parse(a->journal_size, &o.journal_max))
		return cli_usage_error(a->cmd,
				       "bad --journal-size '%s': bytes, or K, M, G; at least 64K",
				       a->journal_size);
	if (a->metrics_listen) {
		int err = collect_listen_check(a->metrics_listen, a->metrics_remote);

		if (err == -EPERM)
			return cli_usage_error(
				a->cmd,
				"--metrics-listen %s is not a loopback address: the "
				"metrics name your tools and rules; add --metrics-remote "
				"to serve them to the network",
				a->metrics_listen);
		if (err)
			return cli_usage_error(
				a->cmd, "bad --metrics-listen '%s': ADDR:PORT or [ADDR]:PORT",
				a->metrics_listen);
	}
	if (cmd_need_root(a->cmd))
		return 1;
	return cmd_report(a->cmd, &d, instance_collect(&o, &d));
}

int do_metrics(struct cli_args *a)
{
	struct diag d = {};

	if (cmd_need_root(a->cmd))
		return 1;
	return cmd_report(
		a->cmd, &d,
		instance_metrics(a->name_given ? a->name : NULL, a->per_rule, stdout, &d));
}

#define FILTER_HELP                                                                                \
	"  --since TIME     from TIME on: 2026-12-05T20:00:00Z (UTC), @UNIXSECONDS, or an\n"       \
	"                   age: 90s, 15m, 2h, 1d\n"                                               \
	"  --tool TOOL      the events of one tool (its name, or its cgroup path)\n"               \
	"  --reason REASON  one reason (no_rule, qname, spoofed_source, ...)\n"                    \
	"  --verdict V      deny, would-deny, or allow (as --flows)\n"                             \
	"  --dest ADDR      destinations in ADDR, an address or a prefix (10.42.7.0/24)\n"

const char log_help[] =
	"usage: ironclaw-pipe log [--name INSTANCE] [--follow] [--json] [--flows] [FILTERS]\n"
	"  With a collector ('ironclaw-pipe collect'), prints the denials kept in the\n"
	"  instance's journal (" STATE_DATA_DIR "/INSTANCE/journal), then with --follow the new\n"
	"  ones until Ctrl-C. Any number of readers at once; nothing is consumed.\n"
	"  Without one, reads the ring buffer itself (1 MiB: about 10,900 events are kept\n"
	"  while nobody reads; newer ones are then dropped and counted), says that history is\n"
	"  not kept, and one reader at a time: a second 'log' is refused, as it would split\n"
	"  the events. --json: one object a line.\n"
	"  --flows: the allowed flows instead (a TCP SYN, a connect(), a socket's first\n"
	"  datagram to a destination), with the rule that allowed each (file:line), and\n"
	"  the DNS queries the dns stage let through, with their names.\n" FILTER_HELP
	"  Each tool the profile names may cause 200 events a second, every other sender\n"
	"  (other cgroups, XDP) together 200 more; the rest are counted (status, metrics).\n";

const char suggest_help[] =
	"usage: ironclaw-pipe suggest [--name INSTANCE] [FILTERS]\n"
	"  Prints one 'allow' line per {protocol, destination, port, tool} that audit mode\n"
	"  let through (would-deny), with the count as a comment: 'allow dns NAME' for a\n"
	"  query name, 'allow PROTO name HOST port P' for an address learned for HOST.\n"
	"  Lines the profile in force already has are comments; 'check' accepts the\n"
	"  output with the profile; review it before it goes into a profile. With a collector it reads the\n"
	"  journal and consumes nothing; without one it reads the ring buffer like 'log'\n"
	"  (the events it reads are gone).\n" FILTER_HELP;

const char collect_help[] =
	"usage: ironclaw-pipe collect [--name INSTANCE] [--journal-size SIZE]\n"
	"                             [--metrics-listen ADDR:PORT [--metrics-remote]]\n"
	"                             [--textfile PATH] [--per-rule] [--journald]\n"
	"                             [--until-uninstalled]\n"
	"  In the foreground (a service's ExecStart): drains the ring buffer of INSTANCE, or\n"
	"  of every instance as they are installed and uninstalled, into its journal in\n"
	"  " STATE_DATA_DIR "/INSTANCE/journal: segments of checksummed records (files\n"
	"  0640), the oldest removed to stay under SIZE (default 64M, at least 64K). A record\n"
	"  torn by a crash is cut at the next start. Says on stderr how many events were\n"
	"  dropped while no collector ran. 'log' and 'suggest' then read the journal.\n"
	"  --metrics-listen ADDR:PORT  serve GET /metrics (HTTP/1.0); a loopback address\n"
	"                   unless --metrics-remote\n"
	"  --textfile PATH  write the metrics to PATH every 5 s, atomically (node_exporter's\n"
	"                   textfile collector)\n"
	"  --per-rule       per-rule series also for profiles of more than 1000 rules\n"
	"  --journald       each event also to the systemd journal: MESSAGE as 'log' prints\n"
	"                   it, fields IRONCLAW_INSTANCE, _VERDICT, _REASON, _TOOL, _DEST_ADDR,\n"
	"                   _DEST_PORT, ... (journalctl IRONCLAW_REASON=no_rule)\n"
	"  --until-uninstalled  with --name: end when INSTANCE is not installed (what\n"
	"                   'restore' starts)\n";

const char metrics_help[] =
	"usage: ironclaw-pipe metrics [--name INSTANCE] [--per-rule]\n"
	"  The counters of INSTANCE (or of every installed instance) in the Prometheus text\n"
	"  format: packets and bytes per verdict and reason, events dropped, policy\n"
	"  switches, learned addresses, what the rules naming a tool allowed per tool, and\n"
	"  per rule (profiles of at most 1000 rules, or with --per-rule).\n";
