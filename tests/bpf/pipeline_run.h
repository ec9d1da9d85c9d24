/* pipeline_run.h: one frame through a dispatcher of a test instance, and the reason it counted. */
#ifndef IRONCLAW_TEST_PIPELINE_RUN_H
#define IRONCLAW_TEST_PIPELINE_RUN_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include "dns_names.h"
#include "pins.h"
#include "pipeline.h"
#include "ruleset.h"
#include "state.h"
#include "status.h"
#include "reason.h"
#include "reasons.h"
#include "pkt.h"

#define ALLOW ((uint32_t)TC_ACT_UNSPEC)
#define DENY ((uint32_t)TC_ACT_SHOT)

/* the name of the instance the test file installed */
static char inst[INSTANCE_NAME_MAX];
static bool installed;

/* the sandbox's addresses in every test instance */
static const char *const test_sources[] = { "10.42.0.2", "fd00:42::2", "fe80::2" };

/*
 * Installs (or installs again: a switch of generation) the test instance
 * with these profile lines, sandbox addresses and the built-in stages, its
 * XDP programs too; tool lines name cgroups below cgroup (NULL: none). The
 * profile, stages and plan stay in *rs (the caller frees it with
 * ruleset_free). Returns what pipeline_install returned; its
 * messages go to *d.
 */
static inline int try_install_ruleset(const char *const *lines, size_t n, const char *const *srcs,
				      size_t nr_srcs, const char *cgroup, struct ruleset *rs,
				      struct diag *d)
{
	struct addr src[16];
	int err;

	if (geteuid() != 0)
		cr_assert_fail("BPF tests need root (run make test as root)");
	memset(rs, 0, sizeof(*rs));
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(profile_parse_line(&rs->prof, "test.rules", i + 1, lines[i], NULL, d),
			     0, "rule %s", lines[i]);
	cr_assert_eq(dns_names_check(&rs->prof, d), 0);
	cr_assert_leq(nr_srcs, 16);
	for (size_t i = 0; i < nr_srcs; i++)
		cr_assert_eq(addr_parse(srcs[i], &src[i]), 0, "source %s", srcs[i]);
	if (ruleset_plan(rs, cgroup, false, d)) {
		diag_print(d, stderr);
		cr_assert_fail("the plan of the test profile");
	}
	{
		struct install_req rq = {
			.name = inst,
			.profile = &rs->prof,
			.stages = rs->stages,
			.nr_stages = rs->nr_stages,
			.plan = &rs->plan,
			.sources = src,
			.nr_sources = nr_srcs,
			.tool_level = rs->tool_level,
			.has_tools = rs->has_tools,
			.xdp_programs = true,
		};

		err = pipeline_install(&rq, d);
	}
	if (!err)
		installed = true;
	return err;
}

/* the same, the ruleset freed */
static inline int try_install_with_sources(const char *const *lines, size_t n,
					   const char *const *srcs, size_t nr_srcs, struct diag *d)
{
	struct ruleset rs;
	int err = try_install_ruleset(lines, n, srcs, nr_srcs, NULL, &rs, d);

	ruleset_free(&rs);
	return err;
}

static inline void install_with_sources(const char *const *lines, size_t n, const char *const *srcs,
					size_t nr_srcs)
{
	struct diag d = {};
	int err = try_install_with_sources(lines, n, srcs, nr_srcs, &d);

	diag_print(&d, stderr);
	cr_assert_eq(err, 0, "install of the test instance failed: %s", strerror(-err));
	diag_free(&d);
}

static inline void install_lines(const char *const *lines, size_t n)
{
	install_with_sources(lines, n, test_sources, 3);
}

static inline void remove_instance(void)
{
	struct diag d = {};

	if (installed)
		pipeline_uninstall(inst, &d);
	state_remove(inst);
	diag_free(&d);
}

static inline void counters(__u64 *out)
{
	for (unsigned int r = 0; r < REASON_MAX; r++) {
		__u64 bytes;

		cr_assert_eq(status_reason_count(inst, r, &out[r], &bytes), 0);
	}
}

/*
 * Where a test run's frame arrives at tc: 0, as BPF_PROG_TEST_RUN has it (no
 * ingress interface, like tc egress), or an interface whose tc ingress it is
 * then (the test run's device is loopback, ifindex 1; XDP's is too).
 */
static __u32 run_tc_ingress_ifindex;

/* runs a dispatcher on one frame; the reason is the one counter that moved */
/*
 * With IRONCLAW_FRAME_DUMP=FILE in the environment, every frame a test runs
 * is appended to FILE as one line of hex and the dispatcher's name: how the
 * frame fuzzer's seed corpus (tests/fuzz/frames/) is made from the suite.
 */
static inline void dump_frame(const char *dispatcher, const struct pkt_buf *p)
{
	const char *path = getenv("IRONCLAW_FRAME_DUMP");
	FILE *f;

	if (!path || !(f = fopen(path, "a")))
		return;
	for (size_t i = 0; i < p->len; i++)
		fprintf(f, "%02x", p->b[i]);
	fprintf(f, " # %s\n", dispatcher);
	fclose(f);
}

static inline void run_at(const char *dispatcher, const struct pkt_buf *p, uint32_t *retval,
			  unsigned int *reason)
{
	__u64 before[REASON_MAX], after[REASON_MAX];
	int fd = pins_get(inst, dispatcher);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->b, .data_size_in = p->len, .repeat = 1);
	struct __sk_buff ctx = { .ifindex = run_tc_ingress_ifindex,
				 .ingress_ifindex = run_tc_ingress_ifindex };
	int moved = 0;

	if (run_tc_ingress_ifindex && strcmp(dispatcher, "dispatch_xdp")) {
		opts.ctx_in = &ctx;
		opts.ctx_size_in = sizeof(ctx);
	}
	cr_assert_geq(fd, 0, "%s pin missing", dispatcher);
	dump_frame(dispatcher, p);
	counters(before);
	cr_assert_eq(bpf_prog_test_run_opts(fd, &opts), 0, "test run of a %zu-byte frame: %s",
		     p->len, strerror(errno));
	counters(after);
	close(fd);
	*reason = REASON_MAX;
	for (unsigned int r = 0; r < REASON_MAX; r++) {
		if (after[r] == before[r])
			continue;
		cr_assert_eq(after[r] - before[r], 1, "reason %s counted %llu times",
			     reason_name(r), (unsigned long long)(after[r] - before[r]));
		*reason = r;
		moved++;
	}
	cr_assert_eq(moved, 1, "exactly one reason must count the packet, %d did", moved);
	*retval = opts.retval;
}

static inline void run(const struct pkt_buf *p, uint32_t *retval, unsigned int *reason)
{
	run_at("dispatch_tc", p, retval, reason);
}

/* the frame gets reason want at tc, and the same at XDP (the instance loads its programs) */
static inline void expect(const char *name, const struct pkt_buf *p, unsigned int want)
{
	uint32_t ret;
	unsigned int got;

	run(p, &ret, &got);
	cr_expect_eq(got, want, "%s: reason %s, want %s", name, reason_name(got),
		     reason_name(want));
	cr_expect_eq(ret, REASON_IS_ALLOW(want) ? ALLOW : DENY, "%s: verdict %d, want %s", name,
		     (int)ret, REASON_IS_ALLOW(want) ? "TC_ACT_UNSPEC (allow)" : "TC_ACT_SHOT");
	run_at("dispatch_xdp", p, &ret, &got);
	cr_expect_eq(got, want, "%s at XDP: reason %s, want %s", name, reason_name(got),
		     reason_name(want));
	cr_expect_eq(ret, REASON_IS_ALLOW(want) ? XDP_PASS : XDP_DROP,
		     "%s at XDP: verdict %d, want %s", name, (int)ret,
		     REASON_IS_ALLOW(want) ? "XDP_PASS" : "XDP_DROP");
}

#endif
