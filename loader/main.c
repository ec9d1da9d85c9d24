/* main.c: the ironclaw-pipe command line: a table of commands; each parses, calls the instance layer, prints. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "cli.h"
#include "cmd.h"
#include "cmd_observe.h"
#include "dns_names.h"
#include "enabled.h"
#include "explain.h"
#include "instance.h"
#include "kernel.h"
#include "instance_cni.h"
#include "plan_print.h"
#include "proftest.h"
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

/*
 * The profile's tests (NN-name.test) against its plan, judged in user space:
 * each failure an error of d; -EINVAL when one failed. *nr: the lines run.
 */
static int run_profile_tests(const char *dir, struct ruleset *rs, size_t *nr, size_t *failed,
			     struct diag *d)
{
	struct expect_set s = {};
	int err = expect_load_dir(dir, &s, d);

	*failed = 0;
	proftest_tools(&rs->prof);
	if (!err)
		err = proftest_run(rs, &s, failed, d);
	if (!err && *failed)
		err = -EINVAL;
	*nr = s.nr;
	expect_free(&s);
	return err;
}

static int do_test(struct cli_args *a)
{
	struct ruleset rs;
	struct diag d = {};
	size_t nr = 0, failed = 0;
	int err;

	if (!a->profile)
		return cli_usage_error(a->cmd, "--profile DIR is required");
	err = instance_check(a->profile, NULL, &rs, &d);
	if (!err) {
		err = run_profile_tests(a->profile, &rs, &nr, &failed, &d);
		if (failed)
			printf("profile %s: %zu of %zu tests failed\n", a->profile, failed, nr);
		else if (!err)
			printf("profile %s: %zu tests passed\n", a->profile, nr);
	}
	ruleset_free(&rs);
	return cmd_report(a->cmd, &d, err);
}

static int do_check(struct cli_args *a)
{
	struct ruleset rs;
	struct diag d = {};
	size_t nr_tests = 0, failed = 0;
	int err;

	if (!a->profile)
		return cli_usage_error(a->cmd, "--profile DIR is required");
	err = instance_check(a->profile, a->sandbox_cgroup, &rs, &d);
	/* its tests too: a profile whose tests fail is not valid */
	if (!err)
		err = run_profile_tests(a->profile, &rs, &nr_tests, &failed, &d);
	if (a->json) {
		plan_print_json(a->profile, &rs, !err, &d, stdout);
	} else if (!err) {
		plan_print(&rs, stdout);
		printf("profile %s: %zu rules, %zu map entries, %zu stages, %zu tests passed: OK\n",
		       a->profile, rs.prof.nr_rules + rs.prof.nr_dns_names, rs.plan.nr_entries,
		       rs.nr_stages, nr_tests);
	}
	ruleset_free(&rs);
	return cmd_report(a->cmd, &d, err);
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

	printf("%s instance '%s': %zu rules in %zu stages; sources:",
	       res->unchanged ? "unchanged (no switch)" : "installed", name, res->nr_rules,
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
		.gateways = a->gateways,
		.nr_gateways = a->nr_gateways,
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
	if (cmd_need_root(a->cmd) || cmd_check_kernel(a->cmd))
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
	return cmd_report(a->cmd, &d, err);
}

static int do_status(struct cli_args *a)
{
	struct diag d = {};
	int err;

	if (cmd_need_root(a->cmd))
		return 1;
	err = instance_status(a->name, stdout, a->json, &d);
	if (err == -ENOLINK) {
		diag_print(&d, stderr);
		diag_free(&d);
		return 3; /* installed, but an attachment is lost */
	}
	return cmd_report(a->cmd, &d, err);
}

static int do_rules(struct cli_args *a)
{
	struct diag d = {};

	if (cmd_need_root(a->cmd))
		return 1;
	return cmd_report(a->cmd, &d, instance_rules(a->name, stdout, a->json, &d));
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

	if (cmd_need_root(a->cmd))
		return 1;
	err = cmd_on_instance(a->name, &d, reload_act, &res);
	if (!err)
		print_installed(a->name, &res);
	return cmd_report(a->cmd, &d, err);
}

static int refresh_act(struct instance *in, void *arg, struct diag *d)
{
	(void)arg;
	return instance_refresh_l2(in, d);
}

static int do_refresh(struct cli_args *a)
{
	struct diag d = {};
	int err;

	if (cmd_need_root(a->cmd))
		return 1;
	err = cmd_on_instance(a->name, &d, refresh_act, NULL);
	if (!err)
		printf("instance '%s': layer 2 of its host-side links read again\n", a->name);
	return cmd_report(a->cmd, &d, err);
}

static int do_explain(struct cli_args *a)
{
	struct explain_query q = {};
	struct instance in;
	struct diag d = {};
	int err;

	err = cli_explain_args(a->cmd, a->argc, a->argv, &q);
	if (err)
		return err;
	if (cmd_need_root(a->cmd))
		return EXIT_USAGE;
	err = instance_open(a->name, INSTANCE_LOCK | INSTANCE_MUST_EXIST, &in, &d);
	if (!err)
		err = instance_explain(&in, &q, stdout, a->json, &d);
	instance_close(&in);
	if (err < 0) {
		cmd_report(a->cmd, &d, err);
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
	if (cmd_need_root(a->cmd))
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
	return cmd_report(a->cmd, &d, err);
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

	if (cmd_need_root(a->cmd))
		return 1;
	err = instance_block(a->name, &d);
	if (!err)
		printf("instance '%s' blocked: every packet is dropped until the next install\n",
		       a->name);
	return cmd_report(a->cmd, &d, err);
}

static int do_uninstall(struct cli_args *a)
{
	struct instance in;
	struct diag d = {};
	int err;

	if (cmd_need_root(a->cmd))
		return 1;
	err = instance_open(a->name, INSTANCE_LOCK, &in, &d); /* not "must exist" */
	err = err ? err : instance_uninstall(&in, &d);
	instance_close(&in);
	if (!err)
		printf("uninstalled instance '%s': its sandbox's egress is no longer filtered\n",
		       a->name);
	return cmd_report(a->cmd, &d, err);
}

static int do_gc(struct cli_args *a)
{
	struct diag d = {};
	int n;

	if (cmd_need_root(a->cmd))
		return 1;
	n = instance_cni_gc(stdout, &d);
	if (n >= 0)
		printf("gc: %d CNI instance%s removed\n", n, n == 1 ? "" : "s");
	return cmd_report(a->cmd, &d, n < 0 ? n : 0);
}

static const struct cli_cmd cmds[] = {
	{ "check", do_check, OPTS(PROFILE) | OPTS(JSON) | OPTS(SANDBOX_CGROUP), false,
	  "validate a profile and print the rules per stage",
	  "usage: ironclaw-pipe check --profile DIR [--sandbox-cgroup PATH] [--json]\n"
	  "  Reads DIR/*.rules and DIR/*.bpf.o in name order, checks every line and stage,\n"
	  "  and prints what install would put in each stage. Exit 0 if valid, 1 if not.\n"
	  "  --json: one object with the stages and their rules, or the errors (each with\n"
	  "  its file and line); the errors go to stderr too. The profile's tests\n"
	  "  (NN-name.test) run too, as 'test' runs them: one that fails is an error.\n" },
	{ "test", do_test, OPTS(PROFILE), false,
	  "run a profile's tests (NN-name.test) with the user-space judge: no root, no BPF",
	  "usage: ironclaw-pipe test --profile DIR\n"
	  "  Reads the profile as check does, then every DIR/NN-name.test file in name order,\n"
	  "  one expectation a line ('#' starts a comment):\n"
	  "    expect allow|deny tcp|udp ADDRESS port P [tool T]\n"
	  "    expect allow|deny tcp|udp name HOST port P [tool T]   (HOST resolved: an address\n"
	  "                                 only the name rules for HOST allow)\n"
	  "    expect allow|deny dns NAME [tool T]   (a query for NAME, type A, to the first\n"
	  "                                 resolver of the profile the tool may ask; an\n"
	  "                                 address line's udp port 53 asks for example.org)\n"
	  "  Each packet (a TCP SYN, a UDP datagram) is judged by the reference judge over\n"
	  "  the plan install would fill, as tc would judge it from the tool's cgroup. Each\n"
	  "  failure is printed as FILE:LINE with what the judge said (verdict, reason, and\n"
	  "  the deciding rule's file:line). Runs as any user: the profile's files must be\n"
	  "  root's or the caller's, written by no one else. Exit 0: every test passed;\n"
	  "  1: one failed, or the profile or a test line is bad.\n" },
	{ "install", do_install,
	  OPTS(PROFILE) | OPTS(TC_INGRESS) | OPTS(TC) | OPTS(XDP) | OPTS(CGROUP) | OPTS(NETNS) |
		  OPTS(SANDBOX_NETNS) | OPTS(SANDBOX_CGROUP) | OPTS(AUDIT) | OPTS(SOURCE) |
		  OPTS(GATEWAY) | OPTS(NAME),
	  false, "load, pin and attach an instance, or switch it to a new profile",
	  "usage: ironclaw-pipe install --profile DIR\n"
	  "                     (--tc-ingress IFACE | --tc IFACE | --xdp IFACE | --cgroup PATH)...\n"
	  "                             [--netns NS] [--source ADDR]... [--sandbox-netns NS]\n"
	  "                             [--sandbox-cgroup PATH] [--gateway ADDR]...\n"
	  "                             [--name INSTANCE]\n"
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
	  "  --gateway ADDR      the sandbox's gateway on the host-side link (repeatable):\n"
	  "                      the only target of its ARP and neighbour solicitations;\n"
	  "                      on a bridge, a router elsewhere on it, whose MAC the host's\n"
	  "                      neighbour table gives. Default: the addresses of the bridge\n"
	  "                      (or of a routed IFACE) itself. Kept by reload and later\n"
	  "                      installs\n"
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
	  "                             [server_name <host>]\n"
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
	  "  which such a profile denies as dns_malformed.\n"
	  "  server_name HOST (tcp): then the flow's first data, a TLS ClientHello naming\n"
	  "  HOST, through the same hooks when they let the SYN through: to an address a\n"
	  "  name rule on tcp/443 opened, the https stage checks the name (reason sni).\n" },
	{ "reload", do_reload, OPTS(NAME), false,
	  "read the profile again and switch to it in one step",
	  "usage: ironclaw-pipe reload [--name INSTANCE]\n"
	  "  Reads the profile the instance was installed from, and its live edits, and\n"
	  "  switches to them in one step, attached as it is. A bad profile changes nothing.\n" },
	{ "refresh", do_refresh, OPTS(NAME), false,
	  "read the layer 2 of the host-side links again (a bridge's MAC, the gateways')",
	  "usage: ironclaw-pipe refresh [--name INSTANCE]\n"
	  "  Reads again, from the host side, what the --tc-ingress and --xdp links allow at\n"
	  "  layer 2: the sandbox's MAC, the bridge's MAC (a bridge whose MAC was not set\n"
	  "  takes its lowest port's, so it changes as containers join), the gateways' MACs\n"
	  "  from the host's neighbour table. install and reload do it too; nothing else\n"
	  "  changes.\n" },
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
	{ "gc", do_gc, 0, false, "remove the CNI plugin's instances whose container is gone",
	  "usage: ironclaw-pipe gc\n"
	  "  Blocks, then uninstalls every instance the CNI plugin made (cni-*) in this\n"
	  "  network namespace whose host-side veth is gone or whose link is lost: what a\n"
	  "  runtime that never called DEL leaves behind (CNI 1.0.0 has no GC command).\n" },
};

#define NR_CMDS (sizeof(cmds) / sizeof(cmds[0]))

/* every command: main.c's own, then each group of cmd.h */
static struct cli_cmd all[NR_CMDS + 16];
static size_t nr_all;

static void gather(const struct cli_cmd *c, size_t n)
{
	for (size_t i = 0; i < n && nr_all < sizeof(all) / sizeof(all[0]); i++)
		all[nr_all++] = c[i];
}

static void main_usage(FILE *out)
{
	fprintf(out, "usage: ironclaw-pipe COMMAND [OPTIONS]   (ironclaw-pipe COMMAND --help)\n"
		     "       ironclaw-pipe --version\n\n");
	for (size_t i = 0; i < nr_all; i++)
		fprintf(out, "  %-10s %s\n", all[i].name, all[i].summary);
}

int main(int argc, char **argv)
{
	const struct cli_cmd *c;
	struct cli_args a;
	const char *near;
	int ret;

	gather(cmds, NR_CMDS);
	gather(service_cmds, nr_service_cmds);
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
	c = cli_find(all, nr_all, argv[1], &near);
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
