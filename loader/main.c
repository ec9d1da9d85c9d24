/* main.c: the ironclaw-pipe command line: a table of subcommands, one do_<cmd>() each. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <netinet/in.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "cgroup.h"
#include "explain.h"
#include "pipeline.h"
#include "dns_names.h"
#include "learn_rules.h"

#define EXIT_USAGE 2
#define MAX_POINTS 16
#define DEFAULT_INSTANCE "default"

static bool verbose;

struct cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	const char *help;
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	if (level == LIBBPF_INFO && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ironclaw-pipe %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see 'ironclaw-pipe %s --help')\n", cmd);
	return EXIT_USAGE;
}

/* the options every command takes: -v, -h; anything else is a usage error */
static int common_opt(const char *cmd, int c)
{
	if (c == 'v') {
		verbose = true;
		xdp_set_verbose(true);
		return 0;
	}
	if (c == 'h')
		return -1;
	return usage_error(cmd, "unknown option");
}

static int report(const char *cmd, struct diag *d, int err)
{
	diag_print(d, stderr);
	if (err && !d->errors)
		fprintf(stderr, "ironclaw-pipe %s: %s\n", cmd, strerror(-err));
	diag_free(d);
	return err ? 1 : 0;
}

static int need_root(const char *cmd)
{
	if (geteuid() == 0)
		return 0;
	fprintf(stderr,
		"ironclaw-pipe %s: must run as root (loading and attaching BPF programs "
		"needs CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN)\n",
		cmd);
	return 1;
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

static int name_arg(const char *cmd, const char *name)
{
	if (instance_name_valid(name))
		return 0;
	return usage_error(cmd, "bad instance name '%s': 1-%d characters of [a-z0-9_-]", name,
			   INSTANCE_NAME_MAX - 1);
}

/* profile + built-in and dropped-in stages + plan; everything check and install share */
struct loaded_profile {
	struct profile prof;
	struct sandbox_cgroup cgroup;
	__u32 tool_level; /* the tools' cgroup level; 0 when the sandbox's cgroup is unknown */
	bool has_tools; /* some rule names a tool */
	__u32 audit_slots; /* the stages named by "audit stage" lines */
	struct stage stages[MAX_STAGES];
	size_t nr_stages;
	struct plan plan;
};

static void loaded_profile_free(struct loaded_profile *lp)
{
	plan_free(&lp->plan);
	for (size_t i = 0; i < lp->nr_stages; i++)
		stage_free(&lp->stages[i]);
	profile_free(&lp->prof);
}

/*
 * Reads the profile, the stages and the plan. Tools are resolved below the
 * sandbox's cgroup when one is given; install needs them resolved.
 */
static int load_profile(const char *dir, const char *runtime, const char *cgroup, bool need_tools,
			struct loaded_profile *lp, struct diag *d)
{
	int n, err;

	memset(lp, 0, sizeof(*lp));
	err = profile_load_dir(dir, NULL, &lp->prof, d);
	/* live edits (allow/revoke) come after the profile's own files */
	if (!err && runtime && !access(runtime, F_OK))
		err = profile_load_dir(runtime, NULL, &lp->prof, d);
	if (!err && cgroup)
		err = sandbox_cgroup_open(cgroup, &lp->cgroup, d);
	if (!err && (cgroup || need_tools))
		err = profile_resolve_tools(&lp->prof, cgroup ? &lp->cgroup : NULL, d);
	for (size_t i = 0; !err && i < lp->prof.nr_rules; i++)
		lp->has_tools |= lp->prof.rules[i].tool != NULL;
	for (size_t i = 0; !err && i < lp->prof.nr_dns_names; i++)
		lp->has_tools |= lp->prof.dns_names[i].tool != NULL;
	for (size_t i = 0; !err && i < lp->prof.nr_name_rules; i++)
		lp->has_tools |= lp->prof.name_rules[i].tool != NULL;
	/* "audit tool T" needs the sender's tool looked up as much as a rule for T does */
	for (size_t i = 0; i < lp->prof.nr_audits; i++)
		lp->has_tools |= lp->prof.audits[i].tool;
	if (!err && cgroup)
		lp->tool_level = lp->cgroup.level + 1;
	n = pipeline_builtin_stages(lp->stages, MAX_STAGES, d);
	if (n < 0)
		return n;
	lp->nr_stages = n;
	for (size_t i = 0; i < lp->prof.nr_stage_paths; i++) {
		int e;

		if (lp->nr_stages == MAX_STAGES) {
			diag_error(d, lp->prof.stage_paths[i], 0, "too many stages (at most %d)",
				   MAX_STAGES);
			return -E2BIG;
		}
		e = stage_from_file(lp->prof.stage_paths[i], &lp->stages[lp->nr_stages], d);
		if (e) {
			err = err ? err : e;
			continue;
		}
		lp->nr_stages++;
	}
	if (err)
		return err;
	for (size_t i = 0; i < lp->prof.nr_audits; i++) {
		const struct audit_line *a = &lp->prof.audits[i];
		size_t s;

		if (a->tool)
			continue;
		for (s = 0; s < lp->nr_stages && strcmp(lp->stages[s].desc.name, a->name); s++)
			;
		if (s == lp->nr_stages) {
			diag_error(d, a->file, a->line, "audit names stage '%s', which no object has",
				   a->name);
			err = -EINVAL;
		} else {
			lp->audit_slots |= 1u << lp->stages[s].desc.slot;
		}
	}
	if (err)
		return err;
	return plan_build(&lp->prof, lp->stages, lp->nr_stages, &lp->plan, d);
}

static void print_plan(const struct loaded_profile *lp, FILE *out)
{
	char buf[ADDR_STR_LEN];

	for (size_t s = 0; s < lp->nr_stages; s++) {
		const struct stage_desc *sd = &lp->stages[s].desc;
		__u32 last = (__u32)-1;

		fprintf(out, "stage %s (slot %u, %s rules, %s) claims", sd->name, sd->slot,
			sd->map_kind == STAGE_MAP_EXACT ? "exact" : "prefix", lp->stages[s].origin);
		for (__u32 c = 0; c < sd->nr_classes; c++) {
			if (sd->classes[c].port)
				fprintf(out, " %s/%u", l4proto_name(sd->classes[c].l4proto),
					sd->classes[c].port);
			else
				fprintf(out, " %s/any-other-port",
					l4proto_name(sd->classes[c].l4proto));
		}
		fprintf(out, ":\n");
		for (size_t i = 0; i < lp->plan.nr_entries; i++) {
			const struct plan_entry *e = &lp->plan.entries[i];
			const struct rule *r = &lp->prof.rules[e->rule];

			if (e->stage != s || e->rule == last)
				continue;
			last = e->rule;
			fprintf(out, "  %s:%d: allow %s %s port %u", r->file, r->line,
				l4proto_name(r->l4proto), addr_format(&r->dst, buf, sizeof(buf)),
				r->port_lo);
			if (r->port_hi != r->port_lo)
				fprintf(out, "-%u", r->port_hi);
			if (r->tool)
				fprintf(out, " tool %s", r->tool);
			if (r->host)
				fprintf(out, "  (from host name %s)", r->host);
			fprintf(out, "\n");
		}
		if (!lp->plan.stage_entries[s])
			fprintf(out, "  (no rules: everything it claims is denied)\n");
	}
	dns_names_print(&lp->prof, out);
	learn_rules_print(&lp->prof, out);
}

/* a value for --json: a string, or null */
static void json_or_null(FILE *out, const char *s)
{
	if (s)
		pipeline_json_string(out, s);
	else
		fprintf(out, "null");
}

static void print_diag_json(const struct diag *d, FILE *out, int warning)
{
	int n = 0;

	for (int i = 0; i < d->nr; i++) {
		const struct diag_part *p = &d->parts[i];

		if (p->warning != warning)
			continue;
		fprintf(out, "%s{\"file\":", n++ ? "," : "");
		json_or_null(out, p->file);
		fprintf(out, ",\"line\":%d,\"message\":", p->line);
		json_or_null(out, p->body);
		fprintf(out, "}");
	}
}

/* check --json: the plan per stage, or the errors; one object */
static void print_plan_json(const char *dir, const struct loaded_profile *lp, bool ok,
			    const struct diag *d, FILE *out)
{
	char buf[ADDR_STR_LEN];

	fprintf(out, "{\"profile\":");
	pipeline_json_string(out, dir);
	fprintf(out, ",\"valid\":%s,\"stages\":[", ok ? "true" : "false");
	for (size_t s = 0; ok && s < lp->nr_stages; s++) {
		const struct stage_desc *sd = &lp->stages[s].desc;
		__u32 last = (__u32)-1;
		int n = 0;

		fprintf(out, "%s{\"name\":", s ? "," : "");
		pipeline_json_string(out, sd->name);
		fprintf(out, ",\"slot\":%u,\"kind\":\"%s\",\"object\":", sd->slot,
			sd->map_kind == STAGE_MAP_EXACT ? "exact" : "prefix");
		pipeline_json_string(out, lp->stages[s].origin);
		fprintf(out, ",\"classes\":[");
		for (__u32 c = 0; c < sd->nr_classes; c++)
			fprintf(out, "%s{\"protocol\":\"%s\",\"port\":%u}", c ? "," : "",
				l4proto_name(sd->classes[c].l4proto), sd->classes[c].port);
		fprintf(out, "],\"entries\":%zu,\"rules\":[", lp->plan.stage_entries[s]);
		for (size_t i = 0; i < lp->plan.nr_entries; i++) {
			const struct plan_entry *e = &lp->plan.entries[i];
			const struct rule *r = &lp->prof.rules[e->rule];

			if (e->stage != s || e->rule == last)
				continue;
			last = e->rule;
			fprintf(out, "%s{\"file\":", n++ ? "," : "");
			pipeline_json_string(out, r->file);
			fprintf(out, ",\"line\":%d,\"text\":", r->line);
			pipeline_json_string(out, r->text);
			fprintf(out, ",\"protocol\":\"%s\",\"destination\":\"%s\","
				     "\"port_from\":%u,\"port_to\":%u,\"tool\":", l4proto_name(r->l4proto),
				addr_format(&r->dst, buf, sizeof(buf)), r->port_lo, r->port_hi);
			json_or_null(out, r->tool);
			fprintf(out, ",\"host\":");
			json_or_null(out, r->host);
			fprintf(out, "}");
		}
		fprintf(out, "]}");
	}
	fprintf(out, "],\"dns_names\":[");
	for (size_t i = 0; ok && i < lp->prof.nr_dns_names; i++) {
		const struct dns_name_rule *r = &lp->prof.dns_names[i];

		fprintf(out, "%s{\"file\":", i ? "," : "");
		pipeline_json_string(out, r->file);
		fprintf(out, ",\"line\":%d,\"text\":", r->line);
		pipeline_json_string(out, r->text);
		fprintf(out, ",\"name\":");
		pipeline_json_string(out, r->name);
		fprintf(out, ",\"wildcard\":%s,\"tool\":", r->wildcard ? "true" : "false");
		json_or_null(out, r->tool);
		fprintf(out, "}");
	}
	fprintf(out, "],\"dns_qtypes\":[");
	if (ok && lp->prof.nr_dns_names) {
		const __u16 *types;
		size_t n = dns_qtypes_in_force(&lp->prof, &types);

		for (size_t i = 0; i < n; i++)
			fprintf(out, "%s%u", i ? "," : "", types[i]);
	}
	fprintf(out, "],\"rules\":%zu,\"entries\":%zu,\"errors\":[", ok ? lp->prof.nr_rules : 0,
		ok ? lp->plan.nr_entries : 0);
	print_diag_json(d, out, 0);
	fprintf(out, "],\"warnings\":[");
	print_diag_json(d, out, 1);
	fprintf(out, "]}\n");
}

static const struct option check_opts[] = {
	{ "profile", required_argument, NULL, 'p' },
	{ "json", no_argument, NULL, 'j' },
	{ "sandbox-cgroup", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ "verbose", no_argument, NULL, 'v' },
	{ 0 },
};

static int do_check(int argc, char **argv)
{
	struct loaded_profile lp;
	struct diag d = {};
	const char *dir = NULL, *cgroup = NULL;
	bool json = false;
	int c, err;

	while ((c = getopt_long(argc, argv, "p:hv", check_opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			dir = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'c':
			cgroup = optarg;
			break;
		default:
			err = common_opt("check", c);
			if (err)
				return err;
			break;
		}
	}
	if (optind < argc)
		return usage_error("check", "unexpected argument '%s'", argv[optind]);
	if (!dir)
		return usage_error("check", "--profile DIR is required");
	err = load_profile(dir, NULL, cgroup, false, &lp, &d);
	if (json) {
		print_plan_json(dir, &lp, !err, &d, stdout);
	} else if (!err) {
		print_plan(&lp, stdout);
		printf("profile %s: %zu rules, %zu map entries, %zu stages: OK\n", dir,
		       lp.prof.nr_rules + lp.prof.nr_dns_names, lp.plan.nr_entries, lp.nr_stages);
	}
	loaded_profile_free(&lp);
	return report("check", &d, err);
}

static const struct option install_opts[] = {
	{ "profile", required_argument, NULL, 'p' },
	{ "tc-ingress", required_argument, NULL, 'i' },
	{ "tc", required_argument, NULL, 't' },
	{ "xdp", required_argument, NULL, 'x' },
	{ "netns", required_argument, NULL, 'n' },
	{ "sandbox-netns", required_argument, NULL, 's' },
	{ "sandbox-cgroup", required_argument, NULL, 'c' },
	{ "cgroup", required_argument, NULL, 'g' },
	{ "audit", no_argument, NULL, 'A' },
	{ "source", required_argument, NULL, 'S' },
	{ "name", required_argument, NULL, 'N' },
	{ "help", no_argument, NULL, 'h' },
	{ "verbose", no_argument, NULL, 'v' },
	{ 0 },
};

/* "IFACE" or "IFACE@NETNS" */
static int parse_point(const char *arg, enum attach_kind kind, struct attach_point *pt)
{
	const char *at = strchr(arg, '@');
	size_t n = at ? (size_t)(at - arg) : strlen(arg);

	memset(pt, 0, sizeof(*pt));
	pt->kind = kind;
	if (n == 0 || n >= IF_NAMESIZE || memchr(arg, '/', n) || memchr(arg, ':', n))
		return -EINVAL;
	memcpy(pt->ifname, arg, n);
	if (at) {
		if (!netns_name_valid(at + 1))
			return -EINVAL;
		snprintf(pt->netns, sizeof(pt->netns), "%s", at + 1);
	}
	return 0;
}

static bool has_tc_point(const struct attach_point *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].kind != ATTACH_CGROUP)
			return true;
	return false;
}

/* --cgroup PATH: the cgroup, named below the cgroup v2 mount */
static int cgroup_point(const char *arg, struct attach_point *pt)
{
	struct sandbox_cgroup sc;
	struct diag d = {};
	char mnt[256];
	int err;

	memset(pt, 0, sizeof(*pt));
	pt->kind = ATTACH_CGROUP;
	err = sandbox_cgroup_open(arg, &sc, &d);
	if (!err)
		err = cgroup2_mount(mnt, sizeof(mnt));
	if (!err) {
		const char *rel = sc.path + strlen(mnt);

		snprintf(pt->cgroup, sizeof(pt->cgroup), "%s", *rel == '/' ? rel + 1 : rel);
	}
	if (!err && !pt->cgroup[0]) {
		diag_error(&d, NULL, 0, "--cgroup %s: the root cgroup is every process of the host",
			   arg);
		err = -EINVAL;
	}
	diag_print(&d, stderr);
	diag_free(&d);
	return err;
}

/* the sandbox's addresses from an interface: its own, or its veth peer's in sandbox_ns */
static int discover_sources(const struct attach_point *pt, const char *sandbox_ns, struct addr *out,
			    size_t max, struct diag *d)
{
	int saved, idx, n;

	if (pt->kind == ATTACH_CGROUP) {
		/* the sockets of the cgroup use the addresses of the sandbox's namespace */
		if (!sandbox_ns) {
			diag_error(d, NULL, 0, "--cgroup %s: the sandbox's addresses are unknown; "
				   "give --source ADDR or --sandbox-netns NS", pt->cgroup);
			return -EINVAL;
		}
		n = netns_enter(sandbox_ns, &saved, d);
		if (n)
			return n;
		n = netns_if_addrs(0, out, max);
		netns_leave(saved);
		if (n <= 0)
			diag_error(d, NULL, 0, "network namespace %s has no addresses: give --source",
				   sandbox_ns);
		return n <= 0 ? -EADDRNOTAVAIL : n;
	}
	n = netns_enter(pt->netns, &saved, d);
	if (n)
		return n;
	idx = netns_ifindex(pt->ifname);
	if (idx > 0 && pt->kind != ATTACH_TC_EGRESS)
		idx = netns_veth_peer(idx);
	netns_leave(saved);
	if (idx == -ENODEV || (idx < 0 && pt->kind == ATTACH_TC_EGRESS)) {
		diag_error(d, NULL, 0, "no interface '%s' in %s%s", pt->ifname,
			   pt->netns[0] ? "network namespace " : "the host's network namespace",
			   pt->netns);
		return -ENODEV;
	}
	if (idx < 0) {
		diag_error(d, NULL, 0, "'%s' is not one end of a veth pair: give --source",
			   pt->ifname);
		return idx;
	}
	n = netns_enter(pt->kind != ATTACH_TC_EGRESS ? sandbox_ns : pt->netns, &saved, d);
	if (n)
		return n;
	n = netns_if_addrs(idx, out, max);
	netns_leave(saved);
	if (n <= 0)
		diag_error(d, NULL, 0, "the sandbox side of '%s' has no addresses: give --source",
			   pt->ifname);
	return n <= 0 ? -EADDRNOTAVAIL : n;
}

struct install_args {
	const char *name, *dir, *cgroup, *sandbox_ns;
	struct attach_point *points;
	size_t nr_points;
	struct addr *sources;
	size_t nr_sources;
	bool warn_cgroup_only;
	bool audit; /* --audit */
	bool lock_held; /* the caller holds the instance lock */
	bool keep_block; /* reload and live edits leave a block in place */
};

/* the path made absolute, symlinks kept: reload follows a link moved to a new profile */
static char *absolute(const char *path)
{
	char cwd[PIN_PATH_MAX], *out = NULL;

	if (path[0] == '/')
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)) || asprintf(&out, "%s/%s", cwd, path) < 0)
		return NULL;
	return out;
}

/* what reload, allow and revoke need to install the instance again */
static int write_instance_conf(const char *name, const char *dir, const char *cgroup, bool audit,
			       struct diag *d)
{
	char path[PIN_PATH_MAX], tmp[PIN_PATH_MAX + 8], *rdir = absolute(dir);
	char *rcg = cgroup ? realpath(cgroup, NULL) : NULL;
	FILE *f;
	int err = 0;

	if (cgroup && !rcg) {
		char mnt[256], joined[CGROUP_PATH_MAX + 256];

		if (!cgroup2_mount(mnt, sizeof(mnt))) {
			snprintf(joined, sizeof(joined), "%s/%s", mnt, cgroup);
			rcg = realpath(joined, NULL);
		}
	}
	pipeline_state_path(path, sizeof(path), name, ".conf");
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	if (!f || !rdir) {
		err = -errno;
	} else {
		fprintf(f, "profile=%s\nsandbox_cgroup=%s\naudit=%d\n", rdir, rcg ? rcg : "",
			audit);
		if (fclose(f) || rename(tmp, path))
			err = -errno;
		f = NULL;
	}
	if (f)
		fclose(f);
	if (err)
		diag_warn(d, NULL, 0, "installed, but %s could not be written (reload, allow and "
				      "revoke need it): %s", path, strerror(-err));
	free(rdir);
	free(rcg);
	return 0;
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

static int install(const struct install_args *a, struct diag *d)
{
	const char *name = a->name, *dir = a->dir, *cgroup = a->cgroup, *sandbox_ns = a->sandbox_ns;
	struct attach_point *points = a->points;
	size_t nr_points = a->nr_points, nr_sources = a->nr_sources;
	struct addr *sources = a->sources;
	struct loaded_profile lp = {};
	char runtime[PIN_PATH_MAX];
	int err, lock = -1;

	/* one install, reload or live edit of an instance at a time, from reading to writing */
	if (!a->lock_held) {
		lock = pipeline_lock(name, d);
		if (lock < 0)
			return lock;
	}
	pipeline_state_path(runtime, sizeof(runtime), name, ".d");
	err = load_profile(dir, runtime, cgroup, true, &lp, d);
	for (size_t i = 0; !err && !nr_sources && i < nr_points; i++) {
		int n;

		if (points[i].kind != ATTACH_TC_EGRESS && !sandbox_ns) {
			/* installing again: keep the addresses the instance has */
			n = pipeline_sources(name, -1, sources, PIPELINE_MAX_SOURCES);
			if (n > 0) {
				nr_sources = n;
				break;
			}
			diag_error(d, NULL, 0,
				   "%s %s: the sandbox's addresses are unknown; "
				   "give --source ADDR or --sandbox-netns NS",
				   points[i].kind == ATTACH_CGROUP ? "--cgroup" :
				   points[i].kind == ATTACH_XDP	   ? "--xdp" :
								     "--tc-ingress",
				   points[i].kind == ATTACH_CGROUP ? points[i].cgroup : points[i].ifname);
			err = -EINVAL;
			break;
		}
		n = discover_sources(&points[i], sandbox_ns, sources, PIPELINE_MAX_SOURCES, d);
		if (n < 0)
			err = n;
		else
			nr_sources = n;
	}
	if (!err && !nr_points) {
		char path[320];

		snprintf(path, sizeof(path), "%s/%s/ctl", PIPELINE_ROOT, name);
		if (access(path, F_OK)) {
			diag_error(d, NULL, 0,
				   "instance '%s' is new: give --tc-ingress IFACE, --tc IFACE, --xdp IFACE or --cgroup PATH",
				   name);
			err = -EINVAL;
		}
	}
	if (!err && !nr_sources) {
		/* installing again: keep the addresses the instance has */
		int n = pipeline_sources(name, -1, sources, PIPELINE_MAX_SOURCES);

		nr_sources = n > 0 ? n : 0;
	}
	if (!err && !nr_sources) {
		diag_error(d, NULL, 0, "no source addresses for the sandbox: give --source ADDR");
		err = -EINVAL;
	}
	if (!err) {
		struct install_req rq = {
			.name = name,
			.profile = &lp.prof,
			.stages = lp.stages,
			.nr_stages = lp.nr_stages,
			.plan = &lp.plan,
			.sources = sources,
			.nr_sources = nr_sources,
			.points = points,
			.nr_points = nr_points,
			.tool_level = lp.tool_level,
			.has_tools = lp.has_tools,
			.audit_all = a->audit,
			.audit_slots = lp.audit_slots,
			.keep_block = a->keep_block,
			.lock_held = true,
			.progress = install_progress,
		};

		err = pipeline_install(&rq, d);
	}
	if (!err)
		err = write_instance_conf(name, dir, cgroup, a->audit, d);
	if (!err && (a->audit || lp.audit_slots || lp.prof.nr_audits))
		diag_warn(d, NULL, 0, "AUDIT MODE: traffic the policy denies %s passes, counted and "
				      "logged as would_deny",
			  a->audit ? "anywhere" : "in the audited stages and tools");
	if (!err && a->warn_cgroup_only)
		diag_warn(d, NULL, 0,
			  "--cgroup without --tc-ingress: AF_PACKET frames and sockets created "
			  "outside the cgroup are not judged");
	if (!err) {
		char buf[ADDR_STR_LEN];

		printf("installed instance '%s': %zu rules in %zu stages; sources:", name,
		       lp.prof.nr_rules, lp.nr_stages);
		for (size_t i = 0; i < nr_sources; i++)
			printf(" %s", addr_format(&sources[i], buf, sizeof(buf)));
		printf("\n");
	}
	loaded_profile_free(&lp);
	if (lock >= 0)
		close(lock);
	return err;
}

static int read_instance_conf(const char *name, char *dir, size_t dlen, char *cgroup, size_t clen,
			      bool *audit, struct diag *d);

static int do_install(int argc, char **argv)
{
	struct attach_point points[MAX_POINTS];
	struct addr sources[PIPELINE_MAX_SOURCES];
	const char *dir = NULL, *name = DEFAULT_INSTANCE, *netns = NULL, *sandbox_ns = NULL;
	const char *cgroup = NULL, *cgroup_arg = NULL;
	size_t nr_points = 0, nr_sources = 0;
	char kept_cgroup[PIN_PATH_MAX];
	bool audit = false;
	struct diag d = {};
	int c, err;

	while ((c = getopt_long(argc, argv, "p:hv", install_opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			dir = optarg;
			break;
		case 'i':
		case 't':
		case 'x':
			if (nr_points == MAX_POINTS)
				return usage_error("install", "too many attach points");
			if (parse_point(optarg,
					c == 'i' ? ATTACH_TC_INGRESS :
					c == 'x' ? ATTACH_XDP :
						   ATTACH_TC_EGRESS,
					&points[nr_points]))
				return usage_error("install", "bad interface '%s'", optarg);
			nr_points++;
			break;
		case 'n':
			if (!netns_name_valid(optarg))
				return usage_error("install", "bad network namespace name '%s'",
						   optarg);
			netns = optarg;
			break;
		case 's':
			if (!netns_name_valid(optarg))
				return usage_error("install", "bad network namespace name '%s'",
						   optarg);
			sandbox_ns = optarg;
			break;
		case 'c':
			cgroup = optarg;
			break;
		case 'g':
			if (nr_points == MAX_POINTS)
				return usage_error("install", "too many attach points");
			if (cgroup_point(optarg, &points[nr_points]))
				return 1;
			if (cgroup_arg && strcmp(cgroup_arg, optarg))
				return usage_error("install", "--cgroup %s and --cgroup %s: one sandbox "
							      "cgroup per instance",
						   cgroup_arg, optarg);
			cgroup_arg = optarg; /* tools live below the attached cgroup */
			nr_points++;
			break;
		case 'A':
			audit = true;
			break;
		case 'S':
			if (nr_sources == PIPELINE_MAX_SOURCES)
				return usage_error("install", "too many --source addresses");
			if (addr_parse(optarg, &sources[nr_sources]))
				return usage_error("install", "bad --source address '%s'", optarg);
			nr_sources++;
			break;
		case 'N':
			name = optarg;
			break;
		default:
			err = common_opt("install", c);
			if (err)
				return err;
			break;
		}
	}
	if (optind < argc)
		return usage_error("install", "unexpected argument '%s'", argv[optind]);
	if (!dir)
		return usage_error("install", "--profile DIR is required");
	if (cgroup && cgroup_arg && strcmp(cgroup, cgroup_arg))
		return usage_error("install", "--sandbox-cgroup %s is not the --cgroup %s", cgroup,
				   cgroup_arg);
	if (cgroup_arg)
		cgroup = cgroup_arg;
	if (!cgroup) {
		/* installing again: the instance's sandbox cgroup, as it was given */
		char dir[PIN_PATH_MAX];
		struct diag quiet = {};
		bool ignored;

		if (!read_instance_conf(name, dir, sizeof(dir), kept_cgroup, sizeof(kept_cgroup),
					&ignored, &quiet) &&
		    kept_cgroup[0])
			cgroup = kept_cgroup;
		diag_free(&quiet);
	}
	if (name_arg("install", name))
		return EXIT_USAGE;
	for (size_t i = 0; i < nr_points; i++)
		if (!points[i].netns[0] && netns)
			snprintf(points[i].netns, sizeof(points[i].netns), "%s", netns);
	if (need_root("install") || check_kernel("install"))
		return 1;

	{
		struct install_args args = {
			.name = name,
			.dir = dir,
			.cgroup = cgroup,
			.sandbox_ns = sandbox_ns,
			.points = points,
			.nr_points = nr_points,
			.sources = sources,
			.nr_sources = nr_sources,
			.warn_cgroup_only = cgroup_arg && !has_tc_point(points, nr_points),
			.audit = audit,
		};

		err = install(&args, &d);
	}
	return report("install", &d, err);
}

static const struct option name_opts[] = {
	{ "name", required_argument, NULL, 'N' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ "verbose", no_argument, NULL, 'v' },
	{ 0 },
};

/* options of the commands that only take --name (and --json for status) */
static int parse_name_opts(const char *cmd, int argc, char **argv, const char **name, bool *json)
{
	int c, e;

	while ((c = getopt_long(argc, argv, "hv", name_opts, NULL)) != -1) {
		switch (c) {
		case 'N':
			*name = optarg;
			break;
		case 'j':
			if (!json)
				return usage_error(cmd, "--json is for status and rules only");
			*json = true;
			break;
		default:
			e = common_opt(cmd, c);
			if (e)
				return e;
			break;
		}
	}
	if (optind < argc)
		return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (name_arg(cmd, *name))
		return EXIT_USAGE;
	return need_root(cmd);
}

static int do_status(int argc, char **argv)
{
	const char *name = DEFAULT_INSTANCE;
	struct diag d = {};
	bool json = false;
	int err = parse_name_opts("status", argc, argv, &name, &json);

	if (err)
		return err;
	err = pipeline_status(name, stdout, json, &d);
	if (err == -ENOLINK) {
		diag_print(&d, stderr);
		diag_free(&d);
		return 3; /* installed, but an attachment is lost */
	}
	return report("status", &d, err);
}

static int do_rules(int argc, char **argv)
{
	const char *name = DEFAULT_INSTANCE;
	struct diag d = {};
	bool json = false;
	int err = parse_name_opts("rules", argc, argv, &name, &json);

	if (err)
		return err;
	return report("rules", &d, pipeline_rules(name, stdout, json, &d));
}

/* the settings install wrote for this instance: its profile and sandbox cgroup */
static int read_instance_conf(const char *name, char *dir, size_t dlen, char *cgroup, size_t clen,
			      bool *audit, struct diag *d)
{
	char path[PIN_PATH_MAX], line[PIN_PATH_MAX];
	FILE *f;

	pipeline_state_path(path, sizeof(path), name, ".conf");
	f = fopen(path, "r");
	if (!f) {
		diag_error(d, NULL, 0, "no instance '%s' installed (%s: %s)", name, path,
			   strerror(errno));
		return -ENOENT;
	}
	dir[0] = cgroup[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "profile=", 8) && strlen(line + 8) < dlen)
			memcpy(dir, line + 8, strlen(line + 8) + 1);
		else if (!strncmp(line, "audit=", 6))
			*audit = line[6] == '1';
		else if (!strncmp(line, "sandbox_cgroup=", 15) && strlen(line + 15) < clen)
			memcpy(cgroup, line + 15, strlen(line + 15) + 1);
	}
	fclose(f);
	if (!dir[0]) {
		diag_error(d, path, 0, "no profile= line");
		return -EINVAL;
	}
	return 0;
}

/*
 * Installs the instance again from its profile and live edits, as it is
 * attached; the caller holds the instance lock. A block stays in place.
 */
static int reload_locked(const char *name, struct diag *d)
{
	char dir[PIN_PATH_MAX], cgroup[PIN_PATH_MAX];
	struct addr sources[PIPELINE_MAX_SOURCES];
	struct install_args a = { .name = name, .sources = sources, .lock_held = true,
				  .keep_block = true };
	int err = read_instance_conf(name, dir, sizeof(dir), cgroup, sizeof(cgroup), &a.audit, d);

	if (err)
		return err;
	if (access(dir, R_OK)) {
		diag_error(d, NULL, 0,
			   "the profile of instance '%s', %s, is gone: install it again with "
			   "'ironclaw-pipe install --profile DIR --name %s'",
			   name, dir, name);
		return -ENOENT;
	}
	a.dir = dir;
	a.cgroup = cgroup[0] ? cgroup : NULL;
	return install(&a, d);
}

static int reload(const char *name, struct diag *d)
{
	char conf[PIN_PATH_MAX];
	int lock, err;

	pipeline_state_path(conf, sizeof(conf), name, ".conf");
	if (access(conf, F_OK)) {
		diag_error(d, NULL, 0, "no instance '%s' installed (%s)", name, conf);
		return -ENOENT;
	}
	lock = pipeline_lock(name, d);
	if (lock < 0)
		return lock;
	err = reload_locked(name, d);
	close(lock);
	return err;
}

static int do_reload(int argc, char **argv)
{
	const char *name = DEFAULT_INSTANCE;
	struct diag d = {};
	int err = parse_name_opts("reload", argc, argv, &name, NULL);

	if (err)
		return err;
	return report("reload", &d, reload(name, &d));
}

static const struct option explain_opts[] = {
	{ "name", required_argument, NULL, 'N' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ "verbose", no_argument, NULL, 'v' },
	{ 0 },
};

/* <tcp|udp> <address> [port] <port> [tool <name>] */
static int explain_args(int argc, char **argv, struct explain_query *q)
{
	const char *cmd = "explain";
	int i = 0, err;
	__u16 hi;

	if (argc < 3)
		return usage_error(cmd, "give a packet: <tcp|udp> <address> <port> [tool <name>]");
	if (!strcmp(argv[0], "tcp"))
		q->l4proto = IPPROTO_TCP;
	else if (!strcmp(argv[0], "udp"))
		q->l4proto = IPPROTO_UDP;
	else
		return usage_error(cmd, "protocol '%s': tcp or udp", argv[0]);
	if (addr_parse(argv[1], &q->dst) || !addr_is_single(&q->dst))
		return usage_error(cmd, "'%s' is not an IPv4 or IPv6 address", argv[1]);
	i = 2;
	if (!strcmp(argv[i], "port") && i + 1 < argc)
		i++;
	err = port_range_parse(argv[i], &q->port, &hi);
	if (err || hi != q->port)
		return usage_error(cmd, "port '%s': a number from 1 to 65535", argv[i]);
	i++;
	while (i < argc) {
		if (!strcmp(argv[i], "tool") && !q->tool) {
			if (i + 1 >= argc || !tool_name_valid(argv[i + 1]))
				return usage_error(cmd,
						   "tool: give the name of a cgroup below the sandbox's");
			q->tool = argv[i + 1];
			i += 2;
		} else if (!strcmp(argv[i], "query") && !q->query) {
			if (q->l4proto != IPPROTO_UDP || i + 1 >= argc)
				return usage_error(cmd,
						   "query NAME [TYPE]: a DNS question, in a UDP datagram");
			q->query = argv[i + 1];
			q->qtype = 1;
			i += 2;
			if (i < argc && dns_qtype_parse(argv[i]) > 0)
				q->qtype = dns_qtype_parse(argv[i++]);
		} else {
			return usage_error(cmd, "unexpected argument '%s'", argv[i]);
		}
	}
	return 0;
}

static int do_explain(int argc, char **argv)
{
	char dir[PIN_PATH_MAX], cgroup[PIN_PATH_MAX];
	struct explain_query q = { .profile_dir = dir, .sandbox_cgroup = cgroup };
	const char *name = DEFAULT_INSTANCE;
	struct diag d = {};
	bool json = false, audit = false;
	int c, err, lock;

	while ((c = getopt_long(argc, argv, "hv", explain_opts, NULL)) != -1) {
		if (c == 'N') {
			name = optarg;
		} else if (c == 'j') {
			json = true;
		} else {
			err = common_opt("explain", c);
			if (err)
				return err;
		}
	}
	err = explain_args(argc - optind, argv + optind, &q);
	if (err)
		return err;
	if (name_arg("explain", name))
		return EXIT_USAGE;
	if (need_root("explain"))
		return EXIT_USAGE;
	err = read_instance_conf(name, dir, sizeof(dir), cgroup, sizeof(cgroup), &audit, &d);
	if (!err) {
		lock = pipeline_lock(name, &d);
		err = lock < 0 ? lock : explain_run(name, &q, stdout, json, &d);
		if (lock >= 0)
			close(lock);
	}
	if (err < 0) {
		report("explain", &d, err);
		return EXIT_USAGE; /* 2: errors, as 0 and 1 are the verdicts */
	}
	diag_print(&d, stderr);
	diag_free(&d);
	return err;
}

static const struct option edit_opts[] = {
	{ "name", required_argument, NULL, 'N' },
	{ "help", no_argument, NULL, 'h' },
	{ "verbose", no_argument, NULL, 'v' },
	{ 0 },
};

/* reads a small file whole; NULL with *len 0 when it is not there */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;

	*len = 0;
	if (f) {
		FILE *m = open_memstream(&buf, len);
		int ch;

		while (m && (ch = fgetc(f)) != EOF)
			fputc(ch, m);
		if (m)
			fclose(m);
		fclose(f);
	}
	return buf;
}

static int put_file(const char *path, const char *text, size_t len)
{
	char tmp[PIN_PATH_MAX + 8];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	if (fwrite(text, 1, len, f) != len || fclose(f) || rename(tmp, path)) {
		unlink(tmp);
		return -EIO;
	}
	return 0;
}

/* the rule a line gives (its first, for a host name), or -EINVAL with the error in d */
static int parse_one_rule(const char *line, const char *where, int lineno, struct profile *p,
			  struct diag *d)
{
	int err = profile_parse_line(p, where, lineno, line, NULL, d);

	if (!err && !p->nr_rules && !p->nr_dns_names && !p->nr_name_rules) {
		diag_error(d, where, lineno, "no rule given");
		err = -EINVAL;
	}
	return err;
}

/* the text of the one rule a line gave: an address rule, an 'allow dns' line or a name rule */
static const char *line_text(const struct profile *p)
{
	return p->nr_rules ? p->rules[0].text :
	       p->nr_dns_names ? p->dns_names[0].text :
				 p->name_rules[0].text;
}

/* the same rule, however it was spelled (10.0.0.1 and 10.0.0.1/32, spaces, case) */
static bool same_rule(const struct profile *pa, const struct profile *pb)
{
	const struct rule *a = &pa->rules[0], *b = &pb->rules[0];

	if (!pa->nr_rules != !pb->nr_rules || !pa->nr_name_rules != !pb->nr_name_rules)
		return false;
	if (pa->nr_name_rules) {
		const struct name_rule *x = &pa->name_rules[0], *y = &pb->name_rules[0];

		return x->l4proto == y->l4proto && x->port_lo == y->port_lo &&
		       x->port_hi == y->port_hi && !strcmp(x->host, y->host) &&
		       !strcmp(x->tool ? x->tool : "", y->tool ? y->tool : "");
	}
	if (!pa->nr_rules)
		return pa->dns_names[0].wildcard == pb->dns_names[0].wildcard &&
		       !strcmp(pa->dns_names[0].name, pb->dns_names[0].name) &&
		       !strcmp(pa->dns_names[0].tool ? pa->dns_names[0].tool : "",
			       pb->dns_names[0].tool ? pb->dns_names[0].tool : "");
	return a->l4proto == b->l4proto && a->port_lo == b->port_lo && a->port_hi == b->port_hi &&
	       addr_equal(&a->dst, &b->dst) &&
	       !strcmp(a->tool ? a->tool : "", b->tool ? b->tool : "");
}

/*
 * allow and revoke: edit the live drop-in (PIPELINE_STATE_DIR/NAME.d/90-live.rules)
 * and install again, holding the instance lock throughout, with INT, TERM and
 * HUP held back; on any error the drop-in is put back and the policy stays.
 */
static int live_edit(const char *cmd, int argc, char **argv, bool add)
{
	char line[1024] = "allow", path[PIN_PATH_MAX + 16], dir[PIN_PATH_MAX], conf[PIN_PATH_MAX];
	const char *name = DEFAULT_INSTANCE;
	size_t old_len = 0, removed = 0;
	char *old = NULL, *text = NULL;
	struct profile want = {};
	sigset_t hold, saved;
	struct diag d = {};
	int c, err = 0, lock = -1;

	while ((c = getopt_long(argc, argv, "hv", edit_opts, NULL)) != -1) {
		if (c == 'N') {
			name = optarg;
			continue;
		}
		err = common_opt(cmd, c);
		if (err)
			return err;
	}
	if (optind >= argc)
		return usage_error(cmd, "give a rule, e.g. 'tcp 10.42.7.12 port 8080'");
	if (name_arg(cmd, name))
		return EXIT_USAGE;
	if (need_root(cmd))
		return 1;
	for (int i = optind; i < argc; i++) {
		strncat(line, " ", sizeof(line) - strlen(line) - 1);
		strncat(line, argv[i], sizeof(line) - strlen(line) - 1);
	}
	err = parse_one_rule(line, "command line", 1, &want, &d);
	if (err)
		goto out;
	pipeline_state_path(conf, sizeof(conf), name, ".conf");
	if (access(conf, F_OK)) {
		diag_error(&d, NULL, 0, "no instance '%s' installed (%s)", name, conf);
		err = -ENOENT;
		goto out;
	}
	sigemptyset(&hold);
	sigaddset(&hold, SIGINT);
	sigaddset(&hold, SIGTERM);
	sigaddset(&hold, SIGHUP);
	sigprocmask(SIG_BLOCK, &hold, &saved);
	lock = pipeline_lock(name, &d);
	if (lock < 0) {
		err = lock;
		goto unblock;
	}
	pipeline_state_path(dir, sizeof(dir), name, ".d");
	snprintf(path, sizeof(path), "%s/90-live.rules", dir);
	if (access(dir, F_OK) && mkdir(dir, 0755)) {
		err = -errno;
		diag_error(&d, dir, 0, "cannot create: %s", strerror(errno));
		goto unblock;
	}
	old = slurp(path, &old_len);
	if (add) {
		if (asprintf(&text, "%.*s%s\n", (int)old_len, old ? old : "", line_text(&want)) < 0)
			text = NULL;
	} else {
		/* every line of the drop-in but the ones that are this rule */
		size_t tlen = 0;
		FILE *m = open_memstream(&text, &tlen);
		char *save = NULL, *copy = old ? strndup(old, old_len) : NULL;

		for (char *l = copy ? strtok_r(copy, "\n", &save) : NULL; m && l;
		     l = strtok_r(NULL, "\n", &save)) {
			struct profile have = {};
			struct diag quiet = {};

			if (!parse_one_rule(l, path, 1, &have, &quiet) &&
			    same_rule(&have, &want))
				removed++;
			else
				fprintf(m, "%s\n", l);
			profile_free(&have);
			diag_free(&quiet);
		}
		if (m)
			fclose(m);
		free(copy);
		if (!removed) {
			diag_error(&d, NULL, 0,
				   "'%s' was not added with allow; rules of the profile are changed "
				   "in its files, then 'ironclaw-pipe reload'",
				   line_text(&want));
			err = -ENOENT;
		}
	}
	if (!err && !text)
		err = -ENOMEM;
	if (!err)
		err = put_file(path, text, strlen(text));
	if (!err) {
		err = reload_locked(name, &d);
		if (err) {
			/* the running policy never changed: put the drop-in back as it was */
			if (old)
				put_file(path, old, old_len);
			else
				unlink(path);
		}
	}
	if (!err)
		printf("%s: %s (instance '%s', live: %s)\n", add ? "allowed" : "revoked",
		       line_text(&want), name, path);
unblock:
	if (lock >= 0)
		close(lock);
	sigprocmask(SIG_SETMASK, &saved, NULL);
out:
	free(old);
	free(text);
	profile_free(&want);
	return report(cmd, &d, err);
}

static int do_allow(int argc, char **argv)
{
	return live_edit("allow", argc, argv, true);
}

static int do_revoke(int argc, char **argv)
{
	return live_edit("revoke", argc, argv, false);
}

static const struct option log_opts[] = {
	{ "name", required_argument, NULL, 'N' },
	{ "follow", no_argument, NULL, 'f' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ "verbose", no_argument, NULL, 'v' },
	{ 0 },
};

static int do_log(int argc, char **argv)
{
	const char *name = DEFAULT_INSTANCE;
	bool follow = false, json = false;
	struct diag d = {};
	int c, err;

	while ((c = getopt_long(argc, argv, "fhv", log_opts, NULL)) != -1) {
		switch (c) {
		case 'N':
			name = optarg;
			break;
		case 'f':
			follow = true;
			break;
		case 'j':
			json = true;
			break;
		default:
			err = common_opt("log", c);
			if (err)
				return err;
		}
	}
	if (optind < argc)
		return usage_error("log", "unexpected argument '%s'", argv[optind]);
	if (name_arg("log", name))
		return EXIT_USAGE;
	if (need_root("log"))
		return 1;
	return report("log", &d, pipeline_log(name, follow, json, stdout, &d));
}

static int do_suggest(int argc, char **argv)
{
	const char *name = DEFAULT_INSTANCE;
	struct diag d = {};
	int err = parse_name_opts("suggest", argc, argv, &name, NULL);

	if (err)
		return err;
	return report("suggest", &d, pipeline_suggest(name, stdout, &d));
}

/* a command that acts on one instance and says what it did */
static int run_on_instance(const char *cmd, int argc, char **argv,
			   int (*act)(const char *name, struct diag *d), const char *done_fmt)
{
	const char *name = DEFAULT_INSTANCE;
	struct diag d = {};
	int err = parse_name_opts(cmd, argc, argv, &name, NULL);

	if (err)
		return err;
	err = act(name, &d);
	if (!err)
		printf(done_fmt, name);
	return report(cmd, &d, err);
}

static int do_uninstall(int argc, char **argv)
{
	return run_on_instance(
		"uninstall", argc, argv, pipeline_uninstall,
		"uninstalled instance '%s': its sandbox's egress is no longer filtered\n");
}

static int do_block(int argc, char **argv)
{
	return run_on_instance(
		"block", argc, argv, pipeline_block,
		"instance '%s' blocked: every packet is dropped until the next install\n");
}

static const struct cmd cmds[] = {
	{ "check", do_check, "validate a profile and print the rules per stage",
	  "usage: ironclaw-pipe check --profile DIR [--sandbox-cgroup PATH] [--json]\n"
	  "  Reads DIR/*.rules and DIR/*.bpf.o in name order, checks every line and stage,\n"
	  "  and prints what install would put in each stage. Exit 0 if valid, 1 if not.\n"
	  "  --json: one object with the stages and their rules, or the errors (each with\n"
	  "  its file and line); the errors go to stderr too.\n" },
	{ "install", do_install, "load, pin and attach an instance, or switch it to a new profile",
	  "usage: ironclaw-pipe install --profile DIR\n"
	  "                     (--tc-ingress IFACE | --tc IFACE | --xdp IFACE | --cgroup PATH)...\n"
	  "                             [--netns NS] [--source ADDR[/LEN]]... [--sandbox-netns NS]\n"
	  "                             [--sandbox-cgroup PATH] [--name INSTANCE]\n"
	  "  --tc-ingress IFACE  host-side end of the sandbox's veth (recommended: out of the\n"
	  "                      sandbox's reach; its egress arrives here as ingress)\n"
	  "  --tc IFACE          egress of the sandbox's own interface\n"
	  "  --xdp IFACE         XDP on the host-side end of the sandbox's veth, through libxdp\n"
	  "                      (its dispatcher, or our program alone where it is refused);\n"
	  "                      XDP sees no socket: rules naming a tool need --tc-ingress\n"
	  "                      IFACE too, which decides what only a tool rule allows\n"
	  "  --cgroup PATH       the sandbox's cgroup: every packet its sockets send\n"
	  "                      (cgroup_skb egress), and connect()/sendto() fail with EPERM\n"
	  "                      when denied; loopback inside the sandbox is allowed\n"
	  "  IFACE@NS            the interface is in network namespace NS (/run/netns/NS)\n"
	  "  --netns NS          default namespace for every interface given\n"
	  "  --source ADDR       a source address the sandbox may use (repeatable); without it\n"
	  "                      they are read from the --tc interface, or for --tc-ingress from\n"
	  "                      its veth peer in --sandbox-netns NS\n"
	  "  --sandbox-cgroup PATH  the sandbox's cgroup v2 directory (absolute, or relative to\n"
	  "                      the cgroup v2 mount); rules with 'tool NAME' apply to the\n"
	  "                      processes in PATH/NAME and the cgroups below it\n"
	  "  --audit             audit mode: what the policy denies passes, recorded as\n"
	  "                      would_deny (counted, logged); status says so\n"
	  "  --name INSTANCE     instance name (default: default); pins live in\n"
	  "                      " PIPELINE_ROOT "/INSTANCE\n"
	  "  Installing over a running instance switches it to the new profile in one step;\n"
	  "  on any error the running policy stays as it was. It also ends a 'block'.\n" },
	{ "status", do_status, "show attachments, stages, rules and counters",
	  "usage: ironclaw-pipe status [--name INSTANCE] [--json]\n"
	  "  Exit 0 when every attachment is live, 3 when one is lost (its interface is gone,\n"
	  "  e.g. the sandbox was created again), 1 when there is no such instance.\n"
	  "  With name rules: the addresses learned from DNS, their TTL and the time left,\n"
	  "  and what became of the resolver's answers (learned, not_resolver, no_query, ...).\n" },
	{ "rules", do_rules, "list the installed rules with their counters",
	  "usage: ironclaw-pipe rules [--name INSTANCE] [--json]\n"
	  "  Every installed rule with the file and line it came from, its stage, and the\n"
	  "  packets and bytes it allowed (connect()/sendto() count as packets of 0 bytes).\n"
	  "  A rule that stays across an install, reload or live edit (the same text in a\n"
	  "  file of the same name) keeps its counts; a new or changed one starts at 0.\n"
	  "  Below a name rule ('allow tcp name HOST port P'), the addresses learned for\n"
	  "  HOST with their TTL and the time left.\n" },
	{ "log", do_log, "show the denials, with their reasons",
	  "usage: ironclaw-pipe log [--name INSTANCE] [--follow] [--json]\n"
	  "  Prints the denials waiting in the instance's ring buffer (1 MiB: about 10,900\n"
	  "  events are kept while nobody reads; newer ones are then dropped and counted),\n"
	  "  then with --follow the new ones until Ctrl-C. --json: one object a line.\n"
	  "  One reader at a time: a second 'log' is refused, as it would split the events.\n"
	  "  Each tool (or sending cgroup outside the tools) may cause 200 events a second;\n"
	  "  the rest are counted. The count of dropped events goes to stderr at the end.\n" },
	{ "suggest", do_suggest, "turn audit mode's would-deny events into profile lines",
	  "usage: ironclaw-pipe suggest [--name INSTANCE]\n"
	  "  Reads the would-deny events waiting in the ring buffer (it is a reader like\n"
	  "  'log': the events it reads are gone) and prints one 'allow' line per\n"
	  "  {protocol, destination, port, tool}, with the count as a comment. 'check'\n"
	  "  accepts the output; review it before it goes into a profile.\n" },
	{ "explain", do_explain, "show what the installed pipeline does with one packet, and why",
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
	{ "reload", do_reload, "read the profile again and switch to it in one step",
	  "usage: ironclaw-pipe reload [--name INSTANCE]\n"
	  "  Reads the profile the instance was installed from, and its live edits, and\n"
	  "  switches to them in one step, attached as it is. A bad profile changes nothing.\n" },
	{ "allow", do_allow, "add a rule to the running policy",
	  "usage: ironclaw-pipe allow [--name INSTANCE] <rule>\n"
	  "  <rule> is a profile line without its 'allow', e.g. 'tcp 10.42.7.12 port 8080',\n"
	  "  'dns *.internal.corp' or 'tcp name log-collector.internal.corp port 8080'.\n"
	  "  It goes to the live drop-in " PIPELINE_STATE_DIR "/INSTANCE.d/90-live.rules, read\n"
	  "  after the profile by every reload, and the instance is installed again in one\n"
	  "  step. A bad rule changes nothing. Live edits end with uninstall or a reboot:\n"
	  "  copy the lines into the profile to keep them.\n" },
	{ "revoke", do_revoke, "remove a rule that allow added",
	  "usage: ironclaw-pipe revoke [--name INSTANCE] <rule>\n"
	  "  Removes <rule> (as given to allow) from the live drop-in and installs again.\n"
	  "  Rules of the profile's own files are changed there, then 'reload'.\n" },
	{ "block", do_block, "switch an instance to deny-all",
	  "usage: ironclaw-pipe block [--name INSTANCE]\n"
	  "  Every packet at every attachment is dropped (reason 'blocked'), ARP and neighbour\n"
	  "  discovery too, until the next install. Use it to cut a sandbox off, or before\n"
	  "  'uninstall' when the sandbox must not be left open.\n" },
	{ "uninstall", do_uninstall, "detach an instance and remove its pins",
	  "usage: ironclaw-pipe uninstall [--name INSTANCE]\n"
	  "  WARNING: removing the filter OPENS the sandbox's egress: nothing filters it any more.\n"
	  "  To leave the sandbox cut off instead, keep the instance and run\n"
	  "  'ironclaw-pipe block' (deny-all), or delete the sandbox's interface.\n" },
};

#define NR_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static void main_usage(FILE *out)
{
	fprintf(out, "usage: ironclaw-pipe COMMAND [OPTIONS]   (ironclaw-pipe COMMAND --help)\n\n");
	for (size_t i = 0; i < NR_CMDS; i++)
		fprintf(out, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
}

int main(int argc, char **argv)
{
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
	for (size_t i = 0; i < NR_CMDS; i++) {
		int ret;

		if (strcmp(argv[1], cmds[i].name))
			continue;
		ret = cmds[i].run(argc - 1, argv + 1);
		if (ret == -1) {
			fputs(cmds[i].help, stdout);
			return 0;
		}
		return ret;
	}
	fprintf(stderr, "ironclaw-pipe: unknown command '%s'\n", argv[1]);
	main_usage(stderr);
	return EXIT_USAGE;
}
