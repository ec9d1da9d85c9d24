/* cli.c: the command line as data: each command declares its options and gets them filled in. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <unistd.h>
#include "cli.h"
#include "dns_names.h"
#include "explain.h"
#include "pkt_build.h"
#include "xdp.h"

static int set_point(struct cli_args *a, const char *arg, enum attach_kind kind)
{
	if (a->nr_points == INSTANCE_MAX_POINTS)
		return cli_usage_error(a->cmd, "too many attach points");
	if (attach_point_parse(arg, kind, &a->points[a->nr_points]))
		return cli_usage_error(a->cmd,
				       "bad interface '%s': IFACE or IFACE@NS, NS a name in "
				       "/run/netns, an absolute path or pid:PID",
				       arg);
	a->nr_points++;
	return 0;
}

static int set_netns(const char *cmd, const char **to, const char *arg)
{
	if (netns_ref_valid(arg))
		return cli_usage_error(cmd,
				       "bad network namespace '%s': a name in /run/netns, an "
				       "absolute path or pid:PID",
				       arg);
	*to = arg;
	return 0;
}

static int set_opt(struct cli_args *a, enum cli_opt_id id, const char *arg)
{
	switch (id) {
	case OPT_NAME:
		if (!instance_name_valid(arg))
			return cli_usage_error(
				a->cmd, "bad instance name '%s': 1-%d characters of [a-z0-9_-]",
				arg, INSTANCE_NAME_MAX - 1);
		a->name = arg;
		a->name_given = true;
		return 0;
	case OPT_JSON:
		a->json = true;
		return 0;
	case OPT_PROFILE:
		a->profile = arg;
		return 0;
	case OPT_TC_INGRESS:
		return set_point(a, arg, ATTACH_TC_INGRESS);
	case OPT_TC:
		return set_point(a, arg, ATTACH_TC_EGRESS);
	case OPT_XDP:
		return set_point(a, arg, ATTACH_XDP);
	case OPT_CGROUP:
		if (a->cgroup && strcmp(a->cgroup, arg))
			return cli_usage_error(a->cmd,
					       "--cgroup %s and --cgroup %s: one sandbox "
					       "cgroup per instance",
					       a->cgroup, arg);
		if (a->nr_points == INSTANCE_MAX_POINTS)
			return cli_usage_error(a->cmd, "too many attach points");
		{
			struct diag d = {};
			int err = attach_point_cgroup(arg, &a->points[a->nr_points], &d);

			diag_print(&d, stderr);
			diag_free(&d);
			if (err)
				return 1;
		}
		a->nr_points++;
		a->cgroup = arg; /* tools live below the attached cgroup */
		return 0;
	case OPT_NETNS:
		return set_netns(a->cmd, &a->netns, arg);
	case OPT_SANDBOX_NETNS:
		return set_netns(a->cmd, &a->sandbox_netns, arg);
	case OPT_SANDBOX_CGROUP:
		a->sandbox_cgroup = arg;
		return 0;
	case OPT_SOURCE: {
		int err;

		if (a->nr_sources == INSTANCE_MAX_SOURCES)
			return cli_usage_error(a->cmd, "too many --source addresses");
		err = addr_parse(arg, &a->sources[a->nr_sources]);
		/* -EDOM: "10.42.0.2/24", an interface's address as ip(8) shows it: a prefix too */
		if (err == -EDOM || (!err && !addr_is_single(&a->sources[a->nr_sources])))
			return cli_usage_error(a->cmd, "--source %s: " ADDR_SOURCE_NOT_SINGLE, arg);
		if (err)
			return cli_usage_error(a->cmd, "bad --source address '%s'", arg);
		a->nr_sources++;
		return 0;
	}
	case OPT_GATEWAY:
		if (a->nr_gateways == L2LINK_MAX_GATEWAYS)
			return cli_usage_error(a->cmd, "more than %d --gateway addresses",
					       L2LINK_MAX_GATEWAYS);
		if (addr_parse(arg, &a->gateways[a->nr_gateways]) ||
		    !addr_is_single(&a->gateways[a->nr_gateways]))
			return cli_usage_error(a->cmd, "bad --gateway address '%s' (one address)",
					       arg);
		a->nr_gateways++;
		return 0;
	case OPT_AUDIT:
		a->audit = true;
		return 0;
	case OPT_FLOWS:
		a->flows = true;
		return 0;
	case OPT_FOLLOW:
		a->follow = true;
		return 0;
	case OPT_USER:
		a->user = arg;
		return 0;
	case OPT_TOOL:
		a->tool = arg;
		return 0;
	case OPT_PERSIST:
		a->persist = true;
		return 0;
	case OPT_SINCE:
		a->since = arg;
		return 0;
	case OPT_REASON:
		a->reason = arg;
		return 0;
	case OPT_VERDICT:
		a->verdict = arg;
		return 0;
	case OPT_DEST:
		a->dest = arg;
		return 0;
	case OPT_METRICS_LISTEN:
		a->metrics_listen = arg;
		return 0;
	case OPT_METRICS_REMOTE:
		a->metrics_remote = true;
		return 0;
	case OPT_TEXTFILE:
		a->textfile = arg;
		return 0;
	case OPT_PER_RULE:
		a->per_rule = true;
		return 0;
	case OPT_JOURNAL_SIZE:
		a->journal_size = arg;
		return 0;
	case OPT_JOURNALD:
		a->journald = true;
		return 0;
	case OPT_UNTIL_UNINSTALLED:
		a->until_uninstalled = true;
		return 0;
	case OPT_NO_COLLECT:
		a->no_collect = true;
		return 0;
	case NR_CLI_OPTS:
		break;
	}
	return EXIT_USAGE;
}

/* the options: long name, short name (0: none), whether they take an argument */
static const struct {
	const char *name;
	char short_name;
	bool arg;
} opt_table[NR_CLI_OPTS] = {
	[OPT_NAME] = { "name", 0, true },
	[OPT_JSON] = { "json", 0, false },
	[OPT_PROFILE] = { "profile", 'p', true },
	[OPT_TC_INGRESS] = { "tc-ingress", 0, true },
	[OPT_TC] = { "tc", 0, true },
	[OPT_XDP] = { "xdp", 0, true },
	[OPT_CGROUP] = { "cgroup", 0, true },
	[OPT_NETNS] = { "netns", 0, true },
	[OPT_SANDBOX_NETNS] = { "sandbox-netns", 0, true },
	[OPT_SANDBOX_CGROUP] = { "sandbox-cgroup", 0, true },
	[OPT_SOURCE] = { "source", 0, true },
	[OPT_GATEWAY] = { "gateway", 0, true },
	[OPT_AUDIT] = { "audit", 0, false },
	[OPT_FOLLOW] = { "follow", 'f', false },
	[OPT_USER] = { "user", 'u', true },
	[OPT_TOOL] = { "tool", 0, true },
	[OPT_PERSIST] = { "persist", 0, false },
	[OPT_SINCE] = { "since", 0, true },
	[OPT_REASON] = { "reason", 0, true },
	[OPT_VERDICT] = { "verdict", 0, true },
	[OPT_DEST] = { "dest", 0, true },
	[OPT_METRICS_LISTEN] = { "metrics-listen", 0, true },
	[OPT_METRICS_REMOTE] = { "metrics-remote", 0, false },
	[OPT_TEXTFILE] = { "textfile", 0, true },
	[OPT_PER_RULE] = { "per-rule", 0, false },
	[OPT_JOURNAL_SIZE] = { "journal-size", 0, true },
	[OPT_JOURNALD] = { "journald", 0, false },
	[OPT_UNTIL_UNINSTALLED] = { "until-uninstalled", 0, false },
	[OPT_NO_COLLECT] = { "no-collect", 0, false },
	[OPT_FLOWS] = { "flows", 0, false },
};

#define OPT_VAL_HELP 'h'
#define OPT_VAL_VERBOSE 'v'
#define OPT_VAL_BASE 256 /* getopt's value of option id i: OPT_VAL_BASE + i */

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ironclaw-pipe %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'ironclaw-pipe %s --help')\n", cmd);
	return EXIT_USAGE;
}

int cli_parse(const struct cli_cmd *c, int argc, char **argv, struct cli_args *a)
{
	struct option longs[NR_CLI_OPTS + 3];
	char shorts[2 * NR_CLI_OPTS + 8];
	size_t nl = 0, ns;
	int ch, err;

	memset(a, 0, sizeof(*a));
	a->cmd = c->name;
	a->name = INSTANCE_DEFAULT;
	/* '+': no permuting, so the command's own options stay its own */
	snprintf(shorts, sizeof(shorts), "%s:hv", c->args == ARGS_COMMAND ? "+" : "");
	ns = strlen(shorts);
	for (int i = 0; i < NR_CLI_OPTS; i++) {
		if (!(c->opts & (1u << i)))
			continue;
		longs[nl++] = (struct option){ opt_table[i].name,
					       opt_table[i].arg ? required_argument : no_argument,
					       NULL, OPT_VAL_BASE + i };
		if (opt_table[i].short_name) {
			shorts[ns++] = opt_table[i].short_name;
			if (opt_table[i].arg)
				shorts[ns++] = ':';
		}
	}
	longs[nl++] = (struct option){ "help", no_argument, NULL, OPT_VAL_HELP };
	longs[nl++] = (struct option){ "verbose", no_argument, NULL, OPT_VAL_VERBOSE };
	longs[nl] = (struct option){ 0 };
	shorts[ns] = '\0';
	optind = 0; /* a fresh scan, GNU style */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		if (ch == OPT_VAL_HELP) {
			a->help = true;
			return 0;
		}
		if (ch == OPT_VAL_VERBOSE) {
			a->verbose = true;
			continue;
		}
		if (ch == ':')
			return cli_usage_error(c->name, "%s needs an argument", argv[optind - 1]);
		if (ch == '?')
			return cli_usage_error(c->name, "unknown option '%s'", argv[optind - 1]);
		for (int i = 0; i < NR_CLI_OPTS && ch < OPT_VAL_BASE; i++)
			if (opt_table[i].short_name == ch)
				ch = OPT_VAL_BASE + i;
		err = set_opt(a, ch - OPT_VAL_BASE, optarg);
		if (err)
			return err;
	}
	a->argc = argc - optind;
	a->argv = argv + optind;
	if (!c->args && a->argc)
		return cli_usage_error(c->name, "unexpected argument '%s'", a->argv[0]);
	xdp_set_verbose(a->verbose);
	return 0;
}

/* edits between a and b (Levenshtein), for "did you mean" */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64], prev, tmp;

	if (la >= 64 || lb >= 64)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t best = prev + (a[i - 1] != b[j - 1]);

			tmp = row[j];
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

const struct cli_cmd *cli_find(const struct cli_cmd *cmds, size_t n, const char *name,
			       const char **near)
{
	size_t best = 3; /* at most two edits away */

	*near = NULL;
	for (size_t i = 0; i < n; i++) {
		size_t dist;

		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
		dist = distance(cmds[i].name, name);
		if (dist < best) {
			best = dist;
			*near = cmds[i].name;
		}
	}
	return NULL;
}

/* <tcp|udp> <address> [port] <port> [tool <name>] [query <name> [<type>]] [server_name <name>] */
int cli_explain_args(const char *cmd, int argc, char **argv, struct explain_query *q)
{
	int i = 0, err;
	__u16 hi;

	if (argc < 3)
		return cli_usage_error(cmd,
				       "give a packet: <tcp|udp> <address> <port> [tool <name>]");
	if (!strcmp(argv[0], "tcp"))
		q->l4proto = IPPROTO_TCP;
	else if (!strcmp(argv[0], "udp"))
		q->l4proto = IPPROTO_UDP;
	else
		return cli_usage_error(cmd, "protocol '%s': tcp or udp", argv[0]);
	if (addr_parse(argv[1], &q->dst) || !addr_is_single(&q->dst))
		return cli_usage_error(cmd, "'%s' is not an IPv4 or IPv6 address", argv[1]);
	i = 2;
	if (!strcmp(argv[i], "port") && i + 1 < argc)
		i++;
	err = port_range_parse(argv[i], &q->port, &hi);
	if (err || hi != q->port)
		return cli_usage_error(cmd, "port '%s': a number from 1 to 65535", argv[i]);
	i++;
	while (i < argc) {
		if (!strcmp(argv[i], "tool") && !q->tool) {
			if (i + 1 >= argc || !tool_name_valid(argv[i + 1]))
				return cli_usage_error(
					cmd, "tool: give the name of a cgroup below the sandbox's");
			q->tool = argv[i + 1];
			i += 2;
		} else if (!strcmp(argv[i], "query") && !q->query) {
			if (q->l4proto != IPPROTO_UDP || i + 1 >= argc)
				return cli_usage_error(
					cmd,
					"query NAME [TYPE]: a DNS question, in a UDP datagram");
			q->query = argv[i + 1];
			q->qtype = 1;
			i += 2;
			if (i < argc && dns_qtype_parse(argv[i]) > 0)
				q->qtype = dns_qtype_parse(argv[i++]);
		} else if (!strcmp(argv[i], "server_name") && !q->server_name) {
			if (q->l4proto != IPPROTO_TCP || i + 1 >= argc ||
			    pkt_dns_name_check(argv[i + 1]) || strchr(argv[i + 1], '*'))
				return cli_usage_error(
					cmd, "server_name NAME: the host name a TLS ClientHello "
					     "names, over TCP");
			q->server_name = argv[i + 1];
			i += 2;
		} else {
			return cli_usage_error(cmd, "unexpected argument '%s'", argv[i]);
		}
	}
	return 0;
}
