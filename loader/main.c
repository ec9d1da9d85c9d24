/* main.c: the ironclaw-pipe command line: a table of commands; each parses, calls the instance layer, prints. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <netinet/in.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "cli.h"
#include "cmd_observe.h"
#include "dns_names.h"
#include "enabled.h"
#include "explain.h"
#include "instance.h"
#include "plan_print.h"
#include "xdp.h"

#ifndef IRONCLAW_VERSION
#define IRONCLAW_VERSION "unknown"
#endif

static bool verbose;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_WARN && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int report(const char *cmd, struct diag *d, int err)
{
	return cli_report(cmd, d, err);
}

static int need_root(const char *cmd)
{
	return cli_need_root(cmd);
}

static int check_kernel(const char *cmd)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		fprintf(stderr,
			"ironclaw-pipe %s: kernel BTF missing (/sys/kernel/btf/vmlinux): a kernel "
			"built with CONFIG_DEBUG_INFO_BTF is needed\n",
			cmd);
		return 1;
	}
	if (!uname(&u) && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
	    (major < 6 || (major == 6 && minor < 6))) {
		fprintf(stderr,
			"ironclaw-pipe %s: kernel %s has no tcx links (needs 6.6 or later)\n", cmd,
			u.release);
		return 1;
	}
	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_loop, NULL) != 1) {
		fprintf(stderr,
			"ironclaw-pipe %s: kernel lacks the bpf_loop helper (needs 5.17 or later)\n",
			cmd);
		return 1;
	}
	return 0;
}

static int do_check(struct cli_args *a)
{
	struct ruleset rs;
	struct diag d = {};
	int err;

	if (!a->profile)
		return cli_usage_error(a->cmd, "--profile DIR is required");
	err = instance_check(a->profile, a->sandbox_cgroup, &rs, &d);
	if (a->json) {
		plan_print_json(a->profile, &rs, !err, &d, stdout);
	} else if (!err) {
		plan_print(&rs, stdout);
		printf("profile %s: %zu rules, %zu map entries, %zu stages: OK\n", a->profile,
		       rs.prof.nr_rules + rs.prof.nr_dns_names, rs.plan.nr_entries, rs.nr_stages);
	}
	ruleset_free(&rs);
	return report(a->cmd, &d, err);
}

/* big profiles on a terminal: how far the rule maps have filled, on one line of stderr */
#define PROGRESS_MIN_ENTRIES 100000

static void install_progress(size_t done, size_t total)
{
	if (total < PROGRESS_MIN_ENTRIES || !isatty(STDERR_FILENO))
		return;
	if (done < total)
		fprintf(stderr, "\rfilling rule maps: %zu%% (%zu of %zu entries)",
			done * 100 / total, done, total);
	else
		fprintf(stderr, "\r\033[K");
}

static void print_installed(const char *name, const struct install_result *res)
{
	char buf[ADDR_STR_LEN];

	printf("installed instance '%s': %zu rules in %zu stages; sources:", name, res->nr_rules,
	       res->nr_stages);
	for (size_t i = 0; i < res->nr_sources; i++)
		printf(" %s", addr_format(&res->sources[i], buf, sizeof(buf)));
	printf("\n");
}

static int do_install(struct cli_args *a)
{
	struct install_spec s = {
		.profile = a->profile,
		.sandbox_cgroup = a->cgroup ? a->cgroup : a->sandbox_cgroup,
		.sandbox_netns = a->sandbox_netns,
		.points = a->points,
		.nr_points = a->nr_points,
		.sources = a->sources,
		.nr_sources = a->nr_sources,
		.audit = a->audit,
		.progress = install_progress,
	};
	struct install_result res;
	struct instance in;
	struct diag d = {};
	int err;

	if (!a->profile)
		return cli_usage_error(a->cmd, "--profile DIR is required");
	if (a->sandbox_cgroup && a->cgroup && strcmp(a->sandbox_cgroup, a->cgroup))
		return cli_usage_error(a->cmd, "--sandbox-cgroup %s is not the --cgroup %s",
				       a->sandbox_cgroup, a->cgroup);
	for (size_t i = 0; i < a->nr_points; i++)
		if (!a->points[i].netns[0] && a->netns)
			snprintf(a->points[i].netns, sizeof(a->points[i].netns), "%s", a->netns);
	if (need_root(a->cmd) || check_kernel(a->cmd))
		return 1;
	err = instance_open(a->name, INSTANCE_LOCK, &in, &d);
	if (!err)
		err = instance_install(&in, &s, &res, &d);
	instance_close(&in);
	if (!err && res.audit)
		diag_warn(&d, NULL, 0,
			  "AUDIT MODE: traffic the policy denies %s passes, counted and logged as "
			  "would_deny",
			  a->audit ? "anywhere" : "in the audited stages and tools");
	if (!err && a->cgroup && !attach_kind_present(a->points, a->nr_points, ATTACH_TC_INGRESS) &&
	    !attach_kind_present(a->points, a->nr_points, ATTACH_TC_EGRESS) &&
	    !attach_kind_present(a->points, a->nr_points, ATTACH_XDP))
		diag_warn(&d, NULL, 0,
			  "--cgroup without --tc-ingress: AF_PACKET frames and sockets created "
			  "outside the cgroup are not judged");
	if (!err)
		print_installed(a->name, &res);
	return report(a->cmd, &d, err);
}

static int do_status(struct cli_args *a)
{
	struct diag d = {};
	int err;

	if (need_root(a->cmd))
		return 1;
	err = instance_status(a->name, stdout, a->json, &d);
	if (err == -ENOLINK) {
		diag_print(&d, stderr);
		diag_free(&d);
		return 3; /* installed, but an attachment is lost */
	}
	return report(a->cmd, &d, err);
}

static int do_rules(struct cli_args *a)
{
	struct diag d = {};

	if (need_root(a->cmd))
		return 1;
	return report(a->cmd, &d, instance_rules(a->name, stdout, a->json, &d));
}

/* the instance, locked, must be installed: act on it, close it; 0 or -errno */
static int on_instance(const char *name, struct diag *d,
		       int (*act)(struct instance *in, void *arg, struct diag *d), void *arg)
{
	struct instance in;
	int err = instance_open(name, INSTANCE_LOCK | INSTANCE_MUST_EXIST, &in, d);

	if (!err)
		err = act(&in, arg, d);
	instance_close(&in);
	return err;
}

static int reload_act(struct instance *in, void *res, struct diag *d)
{
	return instance_reload(in, res, d);
}

static int do_reload(struct cli_args *a)
{
	struct install_result res;
	struct diag d = {};
	int err;

	if (need_root(a->cmd))
		return 1;
	err = on_instance(a->name, &d, reload_act, &res);
	if (!err)
		print_installed(a->name, &res);
	return report(a->cmd, &d, err);
}

/* <tcp|udp> <address> [port] <port> [tool <name>] [query <name> [<type>]] */
static int explain_args(const char *cmd, int argc, char **argv, struct explain_query *q)
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
		} else {
			return cli_usage_error(cmd, "unexpected argument '%s'", argv[i]);
		}
	}
	return 0;
}

static int do_explain(struct cli_args *a)
{
	struct explain_query q = {};
	struct instance in;
	struct diag d = {};
	int err;

	err = explain_args(a->cmd, a->argc, a->argv, &q);
	if (err)
		return err;
	if (need_root(a->cmd))
		return EXIT_USAGE;
	err = instance_open(a->name, INSTANCE_LOCK | INSTANCE_MUST_EXIST, &in, &d);
	if (!err)
		err = instance_explain(&in, &q, stdout, a->json, &d);
	instance_close(&in);
	if (err < 0) {
		report(a->cmd, &d, err);
		return EXIT_USAGE; /* 2: errors, as 0 and 1 are the verdicts */
	}
	diag_print(&d, stderr);
	diag_free(&d);
	return err;
}

/* allow and revoke: the rule is the rest of the command line */
static int live_edit(struct cli_args *a, bool add)
{
	char rule[1024] = "", live[STATE_PATH_MAX];
	struct instance in;
	struct diag d = {};
	char *done = NULL;
	int err;

	if (!a->argc)
		return cli_usage_error(a->cmd, "give a rule, e.g. 'tcp 10.42.7.12 port 8080'");
	if (need_root(a->cmd))
		return 1;
	for (int i = 0; i < a->argc; i++) {
		if (i)
			strncat(rule, " ", sizeof(rule) - strlen(rule) - 1);
		strncat(rule, a->argv[i], sizeof(rule) - strlen(rule) - 1);
	}
	err = instance_open(a->name, INSTANCE_LOCK, &in, &d);
	/* --persist on an instance that is not enabled changes nothing */
	if (!err && a->persist && !enabled_exists(a->name))
		err = instance_persist_live(&in, &d);
	if (!err)
		err = instance_edit(&in, rule, add, &done, &d);
	if (!err && a->persist)
		err = instance_persist_live(&in, &d);
	instance_close(&in);
	state_path(live, sizeof(live), a->name, STATE_LIVE_RULES);
	if (!err)
		printf("%s: %s (instance '%s', live: %s)\n", add ? "allowed" : "revoked", done,
		       a->name, live);
	free(done);
	return report(a->cmd, &d, err);
}

static int do_allow(struct cli_args *a)
{
	return live_edit(a, true);
}

static int do_revoke(struct cli_args *a)
{
	return live_edit(a, false);
}

static int do_block(struct cli_args *a)
{
	struct diag d = {};
	int err;

	if (need_root(a->cmd))
		return 1;
	err = instance_block(a->name, &d);
	if (!err)
		printf("instance '%s' blocked: every packet is dropped until the next install\n",
		       a->name);
	return report(a->cmd, &d, err);
}

static int uninstall_act(struct instance *in, void *arg, struct diag *d)
{
	(void)arg;
	return instance_uninstall(in, d);
}

static int do_uninstall(struct cli_args *a)
{
	struct diag d = {};
	int err;

	if (need_root(a->cmd))
		return 1;
	err = on_instance(a->name, &d, uninstall_act, NULL);
	if (!err)
		printf("uninstalled instance '%s': its sandbox's egress is no longer filtered\n",
		       a->name);
	return report(a->cmd, &d, err);
}

static int do_run(struct cli_args *a)
{
	struct diag d = {};
	int status, err;

	if (need_root(a->cmd))
		return 1;
	if (!a->user)
		return cli_usage_error(a->cmd, "give --user USER: run never starts a command as "
					       "root");
	if (!a->argc)
		return cli_usage_error(a->cmd, "give the command to run after --");
	err = instance_run(a->name, a->tool, a->user, a->argv, &status, &d);
	diag_print(&d, stderr);
	diag_free(&d);
	/* the command's own status; 1 when it never started, 126/127 when it could not exec */
	return err && status != 126 && status != 127 ? 1 : status;
}

static int enable_act(struct instance *in, void *arg, struct diag *d)
{
	return instance_enable(in, arg, d);
}

static int do_enable(struct cli_args *a)
{
	char path[STATE_PATH_MAX];
	struct enabled_conf c;
	struct diag d = {};
	int err;

	if (need_root(a->cmd))
		return 1;
	err = on_instance(a->name, &d, enable_act, &c);
	if (!err) {
		enabled_path(path, sizeof(path), a->name);
		printf("enabled instance '%s': %s\n"
		       "  'ironclaw-pipe restore %s' installs it from there; at boot, "
		       "'systemctl enable ironclaw-pipe@%s'\n",
		       a->name, path, a->name, a->name);
	}
	return report(a->cmd, &d, err);
}

static int do_disable(struct cli_args *a)
{
	struct diag d = {};
	int err;

	if (need_root(a->cmd))
		return 1;
	err = instance_disable(a->name, &d);
	if (!err)
		printf("disabled instance '%s': no longer restored (what runs is unchanged)\n",
		       a->name);
	return report(a->cmd, &d, err);
}

static int do_restore(struct cli_args *a)
{
	char(*names)[INSTANCE_NAME_MAX] = NULL;
	struct install_result res;
	int n, failed = 0;

	if (need_root(a->cmd) || check_kernel(a->cmd))
		return 1;
	if (a->argc > 1)
		return cli_usage_error(a->cmd, "one instance at most, not '%s'", a->argv[1]);
	if (a->argc && !instance_name_valid(a->argv[0]))
		return cli_usage_error(a->cmd,
				       "bad instance name '%s': 1-%d characters of [a-z0-9_-]",
				       a->argv[0], INSTANCE_NAME_MAX - 1);
	names = calloc(ENABLED_MAX_INSTANCES, sizeof(*names));
	if (!names)
		return 1;
	if (a->argc) {
		snprintf(names[0], sizeof(names[0]), "%s", a->argv[0]);
		n = 1;
	} else {
		struct diag d = {};

		n = enabled_list(names, ENABLED_MAX_INSTANCES, &d);
		if (n < 0 || report(a->cmd, &d, 0)) {
			free(names);
			return 1;
		}
		if (!n)
			printf("no enabled instance to restore\n");
	}
	for (int i = 0; i < n; i++) {
		struct diag d = {};
		int err = instance_restore(names[i], &res, &d);

		if (!err)
			printf("restored instance '%s': %zu rules in %zu stages\n", names[i],
			       res.nr_rules, res.nr_stages);
		failed |= report(a->cmd, &d, err);
	}
	free(names);
	return failed;
}

static const struct cli_cmd cmds[] = {
	{ "check", do_check, OPTS(PROFILE) | OPTS(JSON) | OPTS(SANDBOX_CGROUP), false,
	  "validate a profile and print the rules per stage",
	  "usage: ironclaw-pipe check --profile DIR [--sandbox-cgroup PATH] [--json]\n"
	  "  Reads DIR/*.rules and DIR/*.bpf.o in name order, checks every line and stage,\n"
	  "  and prints what install would put in each stage. Exit 0 if valid, 1 if not.\n"
	  "  --json: one object with the stages and their rules, or the errors (each with\n"
	  "  its file and line); the errors go to stderr too.\n" },
	{ "install", do_install,
	  OPTS(PROFILE) | OPTS(TC_INGRESS) | OPTS(TC) | OPTS(XDP) | OPTS(CGROUP) | OPTS(NETNS) |
		  OPTS(SANDBOX_NETNS) | OPTS(SANDBOX_CGROUP) | OPTS(AUDIT) | OPTS(SOURCE) |
		  OPTS(NAME),
	  false, "load, pin and attach an instance, or switch it to a new profile",
	  "usage: ironclaw-pipe install --profile DIR\n"
	  "                     (--tc-ingress IFACE | --tc IFACE | --xdp IFACE | --cgroup PATH)...\n"
	  "                             [--netns NS] [--source ADDR]... [--sandbox-netns NS]\n"
	  "                             [--sandbox-cgroup PATH] [--name INSTANCE]\n"
	  "  --tc-ingress IFACE  host-side end of the sandbox's veth (recommended: out of the\n"
	  "                      sandbox's reach; its egress arrives here as ingress)\n"
	  "  --tc IFACE          egress of the sandbox's own interface\n"
	  "  --xdp IFACE         XDP on the host-side end of the sandbox's veth, through libxdp\n"
	  "                      (its dispatcher, or our program alone where it is refused);\n"
	  "                      needs --tc-ingress IFACE too: XDP sees neither a VLAN tag\n"
	  "                      carried beside the frame nor a socket (tool rules)\n"
	  "  --cgroup PATH       the sandbox's cgroup: every packet its sockets send\n"
	  "                      (cgroup_skb egress), and connect()/sendto() fail with EPERM\n"
	  "                      when denied; loopback inside the sandbox is allowed\n"
	  "  IFACE@NS            the interface is in network namespace NS: a name in\n"
	  "                      /run/netns, an absolute path (/proc/PID/ns/net, a bind\n"
	  "                      mount, CNI_NETNS) or pid:PID\n"
	  "  --netns NS          default namespace for every interface given\n"
	  "  --source ADDR       one address of the sandbox's own (repeatable; a prefix is\n"
	  "                      refused); without it they are read from the --tc interface,\n"
	  "                      or for --tc-ingress from its veth peer in --sandbox-netns NS\n"
	  "  --sandbox-cgroup PATH  the sandbox's cgroup v2 directory (absolute, or relative to\n"
	  "                      the cgroup v2 mount); rules with 'tool NAME' apply to the\n"
	  "                      processes in PATH/NAME and the cgroups below it\n"
	  "  --audit             audit mode: what the policy denies passes, recorded as\n"
	  "                      would_deny (counted, logged); status says so\n"
	  "  --name INSTANCE     instance name (default: default); pins live in\n"
	  "                      " STATE_PIN_DIR "/INSTANCE\n"
	  "  Installing over a running instance switches it to the new profile in one step;\n"
	  "  on any error the running policy stays as it was. It also ends a 'block'.\n" },
	{ "status", do_status, OPTS(NAME) | OPTS(JSON), false,
	  "show attachments, stages, rules and counters",
	  "usage: ironclaw-pipe status [--name INSTANCE] [--json]\n"
	  "  Exit 0 when every attachment is live, 3 when one is lost (its interface is gone,\n"
	  "  e.g. the sandbox was created again), 1 when there is no such instance.\n"
	  "  With name rules: the addresses learned from DNS, their TTL and the time left,\n"
	  "  and what became of the resolver's answers (learned, not_resolver, no_query, ...).\n" },
	{ "rules", do_rules, OPTS(NAME) | OPTS(JSON), false,
	  "list the installed rules with their counters",
	  "usage: ironclaw-pipe rules [--name INSTANCE] [--json]\n"
	  "  Every installed rule with the file and line it came from, its stage, and the\n"
	  "  packets and bytes it allowed (connect()/sendto() count as packets of 0 bytes).\n"
	  "  A rule that stays across an install, reload or live edit (the same text in a\n"
	  "  file of the same name) keeps its counts; a new or changed one starts at 0.\n"
	  "  Below a name rule ('allow tcp name HOST port P'), the addresses learned for\n"
	  "  HOST with their TTL and the time left.\n" },
	{ "log", do_log, LOG_OPTS, false, "show the denials, with their reasons", log_help },
	{ "suggest", do_suggest, SUGGEST_OPTS, false,
	  "turn audit mode's would-deny events into profile lines", suggest_help },
	{ "collect", do_collect, COLLECT_OPTS, false,
	  "keep every instance's events in a journal on disk; serve metrics", collect_help },
	{ "metrics", do_metrics, METRICS_OPTS, false,
	  "print the counters in the Prometheus text format", metrics_help },
	{ "explain", do_explain, OPTS(NAME) | OPTS(JSON), true,
	  "show what the installed pipeline does with one packet, and why",
	  "usage: ironclaw-pipe explain [--name INSTANCE] [--json] <tcp|udp> <address> <port>\n"
	  "                             [tool <name>] [query <dns-name> [<type>]]\n"
	  "  Builds the packet (a TCP SYN or a UDP datagram from the sandbox's first address)\n"
	  "  and runs it through a dry-run copy of the installed pipeline (BPF_PROG_TEST_RUN)\n"
	  "  at each hook kind the instance is attached to: XDP, tc, and cgroup_skb when a\n"
	  "  cgroup is (connect() and sendto() judge with the same stages and rules). It\n"
	  "  uses the instance's maps and records nothing: no counter, event, rate limit or\n"
	  "  DNS state changes. tool NAME: judged as the tool's packets are (its cgroup\n"
	  "  below the sandbox's); without it, as a process of no tool's. XDP knows no\n"
	  "  tool (tool_deferred). Prints verdict, reason, stage and the rule's\n"
	  "  file:line per hook. Exit 0: let through (allow, or would_deny in audit mode);\n"
	  "  1: dropped at some hook; 2: error.\n"
	  "  query NAME [TYPE]: the UDP datagram carries a DNS query for NAME (type A by\n"
	  "  default), for profiles with 'allow dns' lines; without it the datagram is empty,\n"
	  "  which such a profile denies as dns_malformed.\n" },
	{ "reload", do_reload, OPTS(NAME), false,
	  "read the profile again and switch to it in one step",
	  "usage: ironclaw-pipe reload [--name INSTANCE]\n"
	  "  Reads the profile the instance was installed from, and its live edits, and\n"
	  "  switches to them in one step, attached as it is. A bad profile changes nothing.\n" },
	{ "allow", do_allow, OPTS(NAME) | OPTS(PERSIST), true, "add a rule to the running policy",
	  "usage: ironclaw-pipe allow [--name INSTANCE] [--persist] <rule>\n"
	  "  <rule> is a profile line without its 'allow', e.g. 'tcp 10.42.7.12 port 8080',\n"
	  "  'dns *.internal.corp' or 'tcp name log-collector.internal.corp port 8080'.\n"
	  "  It goes to the live drop-in " STATE_RUN_DIR "/INSTANCE/" STATE_LIVE_RULES ",\n"
	  "  read\n"
	  "  after the profile by every reload, and the instance is installed again in one\n"
	  "  step. A bad rule changes nothing. Live edits end with uninstall or a reboot:\n"
	  "  copy the lines into the profile to keep them, or give --persist: an enabled\n"
	  "  instance keeps its live edits beside its file, and restore puts them back.\n" },
	{ "revoke", do_revoke, OPTS(NAME) | OPTS(PERSIST), true, "remove a rule that allow added",
	  "usage: ironclaw-pipe revoke [--name INSTANCE] [--persist] <rule>\n"
	  "  Removes <rule> (as given to allow) from the live drop-in and installs again;\n"
	  "  --persist: from the enabled instance's kept live edits too.\n"
	  "  Rules of the profile's own files are changed there, then 'reload'.\n" },
	{ "run", do_run, OPTS(NAME) | OPTS(USER) | OPTS(TOOL), ARGS_COMMAND,
	  "run a command inside an instance's sandbox, as a user without privileges",
	  "usage: ironclaw-pipe run [--name INSTANCE] [--tool TOOL] --user USER -- CMD [ARG]...\n"
	  "  Starts CMD in the sandbox the instance filters: born in its cgroup (TOOL's\n"
	  "  cgroup below it with --tool, which must exist), in its network namespace, as\n"
	  "  USER (a name or uid; never root) with no capabilities and no_new_privs.\n"
	  "  Signals are passed on; the exit status is CMD's (126: cannot execute, 127: not\n"
	  "  found). The instance must have been installed with --sandbox-cgroup and a\n"
	  "  network namespace for the sandbox (--sandbox-netns, or --tc IFACE@NS).\n" },
	{ "enable", do_enable, OPTS(NAME), false,
	  "keep a running instance: restore installs it again at boot",
	  "usage: ironclaw-pipe enable [--name INSTANCE]\n"
	  "  Writes the running instance (profile, attach points, sandbox namespace and cgroup,\n"
	  "  sources given with --source, audit) to /etc/ironclaw-pipe/instances/INSTANCE.conf,\n"
	  "  and its live edits to INSTANCE.live.rules beside it. Namespaces named by pid: or\n"
	  "  /proc do not outlive a reboot and are refused.\n" },
	{ "disable", do_disable, OPTS(NAME), false, "stop restoring an instance at boot",
	  "usage: ironclaw-pipe disable [--name INSTANCE]\n"
	  "  Removes /etc/ironclaw-pipe/instances/INSTANCE.conf and its live edits; what runs\n"
	  "  now is unchanged.\n" },
	{ "restore", do_restore, 0, true, "install enabled instances from their files",
	  "usage: ironclaw-pipe restore [INSTANCE]\n"
	  "  Installs INSTANCE (or every enabled instance) from /etc/ironclaw-pipe/instances/:\n"
	  "  a new one after a reboot, or again over a running one (attachments lost since\n"
	  "  are made again). Fails closed: when that fails, every attach point that can be\n"
	  "  attached gets a deny-all pipeline and the instance is blocked; exit status 1.\n" },
	{ "block", do_block, OPTS(NAME), false, "switch an instance to deny-all",
	  "usage: ironclaw-pipe block [--name INSTANCE]\n"
	  "  Every packet at every attachment is dropped (reason 'blocked'), ARP and neighbour\n"
	  "  discovery too, until the next install. Use it to cut a sandbox off, or before\n"
	  "  'uninstall' when the sandbox must not be left open.\n" },
	{ "uninstall", do_uninstall, OPTS(NAME), false, "detach an instance and remove its pins",
	  "usage: ironclaw-pipe uninstall [--name INSTANCE]\n"
	  "  WARNING: removing the filter OPENS the sandbox's egress: nothing filters it any more.\n"
	  "  To leave the sandbox cut off instead, keep the instance and run\n"
	  "  'ironclaw-pipe block' (deny-all), or delete the sandbox's interface.\n" },
};

#define NR_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static void main_usage(FILE *out)
{
	fprintf(out, "usage: ironclaw-pipe COMMAND [OPTIONS]   (ironclaw-pipe COMMAND --help)\n"
		     "       ironclaw-pipe --version\n\n");
	for (size_t i = 0; i < NR_CMDS; i++)
		fprintf(out, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
}

int main(int argc, char **argv)
{
	const struct cli_cmd *c;
	struct cli_args a;
	const char *near;
	int ret;

	libbpf_set_print(libbpf_print);
	xdp_set_verbose(false);
	if (argc < 2) {
		main_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		main_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("ironclaw-pipe %s\n", IRONCLAW_VERSION);
		return 0;
	}
	c = cli_find(cmds, NR_CMDS, argv[1], &near);
	if (!c) {
		fprintf(stderr, "ironclaw-pipe: unknown command '%s'", argv[1]);
		if (near)
			fprintf(stderr, "; did you mean '%s'?", near);
		fprintf(stderr, "\n");
		main_usage(stderr);
		return EXIT_USAGE;
	}
	ret = cli_parse(c, argc - 1, argv + 1, &a);
	if (ret)
		return ret;
	if (a.help) {
		fputs(c->help, stdout);
		return 0;
	}
	verbose = a.verbose;
	return c->run(&a);
}
