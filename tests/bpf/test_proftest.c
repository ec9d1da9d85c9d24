/*
 * test_proftest.c: every profile test in the repository (each NN-name.test
 * under rules.d/, examples/ and tests/) run through the real programs too.
 * Each profile is installed in a test instance, with a sandbox cgroup and
 * its tools' cgroups (this process moves into the line's tool's); each line's
 * frame (loader/proftest.c builds it, as 'ironclaw-pipe test' does) is run
 * with BPF_PROG_TEST_RUN at tc and at XDP, and the verdict, reason and the
 * rule that counted it must be what the user-space judge says: the judge
 * that 'test' and 'check' use cannot drift from the pipeline.
 *
 * A 'name HOST' line first teaches the pipeline HOST's address as a
 * sandbox's query teaches it (the line's 'dns HOST' frame through host-side
 * tc ingress, an A record through the learning program), the addresses
 * learned for earlier lines forgotten: the judge takes the address as
 * learned for HOST alone. A line with 'server_name NAME' sends its SYN and
 * then its ClientHello (pkt_tls_hello), each judged by both: at tc the
 * https stage checks the name (docs/sni.md), at XDP the address alone.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "test_cgroup.h"
#include "expect.h"
#include "counts.h"
#include "policy.h"
#include "proftest.h"
#include "pkt.h"
#include "learn_run.h"

#define MAX_PROFILES 64
#define MAX_TOOLS 32

static char profiles[MAX_PROFILES][PATH_MAX];
static size_t nr_profiles;

/* the directories of every .test file below root */
static int collect(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	size_t len = strlen(path);
	char dir[PATH_MAX];

	(void)sb;
	(void)ftw;
	if (type != FTW_F || len < 5 || strcmp(path + len - 5, ".test") || strstr(path, "/build/"))
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(path, '/') - path), path);
	for (size_t i = 0; i < nr_profiles; i++)
		if (!strcmp(profiles[i], dir))
			return 0;
	cr_assert_lt(nr_profiles, MAX_PROFILES);
	snprintf(profiles[nr_profiles++], PATH_MAX, "%s", dir);
	return 0;
}

static char cg_orig[PATH_MAX + 16], cg_dir[PATH_MAX];
static char tools[MAX_TOOLS][64];
static size_t nr_tools;

static void add_tool(const char *name)
{
	char path[2 * PATH_MAX];

	if (!name)
		return;
	for (size_t i = 0; i < nr_tools; i++)
		if (!strcmp(tools[i], name))
			return;
	cr_assert_lt(nr_tools, MAX_TOOLS);
	snprintf(tools[nr_tools++], sizeof(tools[0]), "%s", name);
	snprintf(path, sizeof(path), "%s/%s", cg_dir, name);
	cr_assert(!mkdir(path, 0755) || errno == EEXIST, "%s: %s", path, strerror(errno));
}

static void leave_cgroups(void)
{
	char path[2 * PATH_MAX];

	if (cg_orig[0])
		cgroup_enter(cg_orig);
	for (size_t i = 0; i < nr_tools; i++) {
		snprintf(path, sizeof(path), "%s/%s", cg_dir, tools[i]);
		rmdir(path);
	}
	nr_tools = 0;
	if (cg_dir[0])
		rmdir(cg_dir);
}

/* the sandbox cgroup below this process's own cgroup's mount */
static void make_sandbox(void)
{
	char mnt[256];

	cr_assert_eq(cgroup2_mount(mnt, sizeof(mnt)), 0, "no cgroup v2 mount");
	cr_assert_eq(cgroup_self(cg_orig, sizeof(cg_orig)), 0, "this process is in no cgroup v2");
	snprintf(cg_dir, sizeof(cg_dir), "%s/ironclaw-proftest%d", mnt, getpid());
	cr_assert_eq(mkdir(cg_dir, 0755), 0, "%s: %s", cg_dir, strerror(errno));
}

/* the rule's packets, wherever they are counted (counts.h) */
static __u64 rule_packets(__u32 rule)
{
	struct pkt_count c;

	counts_rule_total(inst, rule, &c);
	return c.packets;
}

/* one line's frame at one hook: the judge and the pipeline agree */
static void cross_check(const struct ruleset *rs, const struct judge_policy *pol,
			const struct expect *e, enum hook_id hook, const char *dispatcher,
			const struct pkt_buf *p, __u64 tool)
{
	struct judge_verdict v;
	unsigned int reason;
	uint32_t ret;
	__u64 before = 0;
	char said[512];

	cr_assert_eq(judge_frame(pol, hook, p->b, p->len, tool, &v), 0);
	proftest_verdict_text(&rs->prof, &v, said, sizeof(said));
	if (v.rule != JUDGE_NO_RULE)
		before = rule_packets((__u32)v.rule);
	run_at(dispatcher, p, &ret, &reason);
	cr_expect_eq(reason, v.reason, "%s:%d '%s' at %s: the pipeline says %s, the judge %s",
		     e->file, e->line, e->text, dispatcher, reason_name(reason), said);
	cr_expect_eq(REASON_IS_ALLOW(reason), v.allow, "%s:%d at %s: verdicts differ", e->file,
		     e->line, dispatcher);
	if (v.rule != JUDGE_NO_RULE && v.reason == REASON_RULE)
		cr_expect_eq(rule_packets((__u32)v.rule) - before, 1,
			     "%s:%d '%s' at %s: the judge's rule (%s) did not count it", e->file,
			     e->line, e->text, dispatcher, said);
}

/* the learned addresses of earlier lines forgotten: only this line's name has its address */
static void forget_learned(void)
{
	int fd = pins_get(inst, "learned");
	struct learned_key k;

	cr_assert_geq(fd, 0, "the learned pin");
	while (!bpf_map_get_next_key(fd, NULL, &k))
		cr_assert_eq(bpf_map_delete_elem(fd, &k), 0, "forgetting a learned address");
	close(fd);
}

/*
 * The address of e's frame (dst, learned_addr's) learned for e's host: the
 * line's query, then an answer from the resolver it went to
 */
static void learn_host(const struct judge_policy *pol, const struct expect *e, __u64 tool,
		       const struct addr *src4, const struct addr *src6, const __u8 *dst)
{
	struct expect q = *e;
	char resolver[INET6_ADDRSTRLEN], addr[INET6_ADDRSTRLEN];
	const char *unused;
	struct diag d = {};
	struct run_out out;
	__u64 delta[LEARN_EV_MAX];
	__be16 id;
	FRAME(p);
	FRAME(m);

	q.kind = EXPECT_DNS;
	q.l4proto = IPPROTO_UDP;
	q.port = 53;
	q.server_name = NULL;
	cr_assert_eq(proftest_frame(&q, pol, tool, false, src4, src6, p.b, PKT_TEST_MAX, &p.len,
				    &unused, &d),
		     0, "%s:%d: no query for its name", e->file, e->line);
	cr_assert_eq(test_run("dispatch_tc_host", &p, 0, 0, 0, &out), 0);
	cr_assert_eq(out.retval, ALLOW, "%s:%d: the query for %s was denied", e->file, e->line,
		     e->host);
	memcpy(&id, out.b + dns_id_off(out.b), 2);
	cr_assert_eq(p.b[14] >> 4, 4, "an IPv4 resolver");
	inet_ntop(AF_INET, p.b + 30, resolver, sizeof(resolver));
	inet_ntop(AF_INET, dst, addr, sizeof(addr));
	a_answer(&m, e->host, 60, addr);
	answer_with_id(resolver, 40000, &m, id, 0, 0, delta, &out);
	diag_free(&d);
}

static void run_profile(const char *dir, size_t *run, size_t *names, size_t *hellos)
{
	struct expect_set s = {};
	struct ruleset rs;
	struct diag d = {};
	struct addr src[3], src4, src6;
	struct judge_policy pol;
	int err;

	/* the tools first: a profile planned with a sandbox cgroup needs their cgroups */
	cr_assert_eq(expect_load_dir(dir, &s, &d), 0, "%s: its tests do not read", dir);
	cr_assert_eq(ruleset_load(dir, NULL, NULL, false, &rs, &d), 0, "%s does not load", dir);
	for (size_t i = 0; i < profile_nr_origins(&rs.prof); i++)
		add_tool(profile_origin(&rs.prof, i)->tool);
	for (size_t i = 0; i < rs.prof.nr_audits; i++)
		if (rs.prof.audits[i].tool)
			add_tool(rs.prof.audits[i].name);
	for (size_t i = 0; i < s.nr; i++)
		add_tool(s.v[i].tool);
	ruleset_free(&rs);
	err = ruleset_load(dir, NULL, cg_dir, true, &rs, &d);
	diag_print(&d, stderr);
	cr_assert_eq(err, 0, "%s does not load with its tools", dir);
	for (size_t i = 0; i < 3; i++)
		cr_assert_eq(addr_parse(test_sources[i], &src[i]), 0);
	src4 = src[0];
	src6 = src[1];
	{
		struct install_req rq = { .name = inst,
					  .profile = &rs.prof,
					  .stages = rs.stages,
					  .nr_stages = rs.nr_stages,
					  .plan = &rs.plan,
					  .sources = src,
					  .nr_sources = 3,
					  .tool_level = rs.tool_level,
					  .has_tools = rs.has_tools,
					  .xdp_programs = true };

		err = pipeline_install(&rq, &d);
		diag_print(&d, stderr);
		cr_assert_eq(err, 0, "%s: install: %s", dir, strerror(-err));
		installed = true;
	}
	pol = (struct judge_policy){ .prof = &rs.prof,
				     .plan = &rs.plan,
				     .stages = rs.stages,
				     .nr_stages = rs.nr_stages,
				     .sources = src,
				     .nr_sources = 3 };
	for (size_t i = 0; i < s.nr; i++) {
		const struct expect *e = &s.v[i];
		__u64 tool = proftest_tool_id(&rs.prof, e->tool);
		char tool_dir[2 * PATH_MAX];
		FRAME(p);

		/* the test run carries this process's socket: its cgroup is the line's tool's */
		snprintf(tool_dir, sizeof(tool_dir), "%s/%s", cg_dir, e->tool ? e->tool : "");
		cr_assert_eq(cgroup_enter(e->tool ? tool_dir : cg_dir), 0, "moving into %s",
			     e->tool ? tool_dir : cg_dir);
		if (e->tool) {
			struct stat st;

			cr_assert_eq(stat(tool_dir, &st), 0);
			tool = st.st_ino; /* a tool no rule names too: its real id */
		}
		cr_assert_eq(proftest_frame(e, &pol, tool, false, &src4, &src6, p.b, PKT_TEST_MAX,
					    &p.len, &pol.learned_host, &d),
			     0, "%s:%d: no frame", e->file, e->line);
		if (e->kind == EXPECT_NAME) {
			forget_learned();
			learn_host(&pol, e, tool, &src4, &src6, p.b + 30);
			(*names)++;
		}
		cross_check(&rs, &pol, e, HOOK_TC, "dispatch_tc", &p, tool);
		cross_check(&rs, &pol, e, HOOK_XDP, "dispatch_xdp", &p, tool);
		if (e->server_name) {
			cr_assert_eq(proftest_frame(e, &pol, tool, true, &src4, &src6, p.b,
						    PKT_TEST_MAX, &p.len, &pol.learned_host, &d),
				     0, "%s:%d: no hello", e->file, e->line);
			cross_check(&rs, &pol, e, HOOK_TC, "dispatch_tc", &p, tool);
			cross_check(&rs, &pol, e, HOOK_XDP, "dispatch_xdp", &p, tool);
			(*hellos)++;
		}
		cgroup_enter(cg_orig);
		(*run)++;
	}
	remove_instance();
	installed = false;
	ruleset_free(&rs);
	expect_free(&s);
	diag_free(&d);
}

Test(proftest, judge_and_pipeline_agree_on_every_profile_test, .fini = leave_cgroups)
{
	static const char *const roots[] = { "rules.d", "examples", "tests" };
	size_t run = 0, names = 0, hellos = 0;

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		if (!access(roots[i], F_OK))
			cr_assert_eq(nftw(roots[i], collect, 16, FTW_PHYS), 0);
	cr_assert_geq(nr_profiles, 2,
		      "the repository's profile tests are not found (run from "
		      "the top of the tree)");
	make_sandbox();
	for (size_t i = 0; i < nr_profiles; i++) {
		snprintf(inst, sizeof(inst), "proftest%d-%zu", getpid(), i);
		run_profile(profiles[i], &run, &names, &hellos);
	}
	fprintf(stderr,
		"    %zu profiles, %zu lines run at tc and XDP, %zu of them to a learned name, "
		"%zu with a ClientHello\n",
		nr_profiles, run, names, hellos);
	cr_expect_gt(names, 0, "no 'name HOST' line ran");
	cr_expect_gt(hellos, 0, "no 'server_name' line ran");
}
