/*
 * test_xdp_mark.c: a frame XDP allowed for good carries the generation's mark
 * (struct xdp_pass) to host-side tc ingress, which accepts it without judging
 * it again: counted once, at XDP. A frame whose metadata carries any other
 * mark (forged, an earlier generation's) or none is judged in full at tc
 * ingress: a denied one is still denied there, with its reason.
 *
 * Frames reach tc ingress as on a host: XDP live frames (BPF_F_TEST_XDP_LIVE_FRAMES)
 * passed into the stack of loopback, in a network namespace of the test's own,
 * where the instance's dispatch_tc_host sits at tcx ingress. The frames with a
 * metadata area of the test's making go through a program that passes them
 * as they are (the sandbox's own XDP program could, on its end of the veth).
 */
#include <criterion/criterion.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/libbpf.h>
#include "counts.h"
#include "links.h"
#include "pkt_meta.h"
#include "policy.h"
#include "reasons.h"
#include "pkt.h"
#include "pipeline_run.h"

#define LO_IFINDEX 1

static const char *const rules[] = { "allow udp 10.64.0.1 port 1032",
				     "allow tcp 10.64.0.1 port 80" };

static int tc_link = -1;

static void setup(void)
{
	snprintf(inst, sizeof(inst), "bpftest%d", getpid());
	/* a namespace of this test's process alone: its loopback carries the frames */
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare(CLONE_NEWNET): %s", strerror(errno));
	cr_assert_eq(system("ip link set lo up"), 0, "ip link set lo up");
}

static void teardown(void)
{
	if (tc_link >= 0)
		close(tc_link);
	remove_instance();
}

/* (re)installs the instance and puts its host-side tc ingress dispatcher on loopback */
static void install_at_lo(void)
{
	int fd;

	install_lines(rules, 2);
	if (tc_link >= 0)
		close(tc_link);
	fd = pins_get(inst, "dispatch_tc_host");
	cr_assert_geq(fd, 0, "dispatch_tc_host pin missing");
	tc_link = link_tcx_attach(fd, LO_IFINDEX, true);
	cr_assert_geq(tc_link, 0, "tcx ingress on lo: %s", strerror(-tc_link));
	close(fd);
}

static void frame(struct pkt_buf *p, const char *dst, __u8 proto, __u8 tcp_flags)
{
	pkt_reset(p);
	pkt_eth(p, NULL, NULL, ETH_P_IP);
	pkt_ipv4(p,
		 &(struct pkt_ip4){ .src = ADDR("10.42.0.2"), .dst = ADDR(dst), .proto = proto });
	if (proto == IPPROTO_TCP)
		pkt_tcp(p,
			&(struct pkt_tcp){ .sport = TEST_SPORT, .dport = 80, .flags = tcp_flags });
	else
		pkt_udp(p, TEST_SPORT, 1032);
	cr_assert_eq(pkt_finish(p), 0);
}

/* an XDP program that passes every frame as it is, its metadata area too */
static int xdp_pass_prog(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "xdp_pass", "GPL", insns, 2, NULL);

	cr_assert_geq(fd, 0, "load of a passing XDP program: %s", strerror(errno));
	return fd;
}

/*
 * p into the stack of loopback through the XDP program prog_fd, its metadata
 * area meta (NULL: none): the reasons counted meanwhile into moved[]
 */
static void live(int prog_fd, const struct xdp_pass *meta, const struct pkt_buf *p, __u64 *moved)
{
	__u8 buf[sizeof(*meta) + PKT_TEST_MAX];
	__u32 metalen = meta ? sizeof(*meta) : 0;
	struct xdp_md ctx = { .data = metalen,
			      .data_end = metalen + p->len,
			      .ingress_ifindex = LO_IFINDEX };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf, .data_size_in = metalen + p->len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	__u64 before[REASON_MAX];

	if (meta)
		memcpy(buf, meta, metalen);
	memcpy(buf + metalen, p->b, p->len);
	counters(before);
	cr_assert_eq(bpf_prog_test_run_opts(prog_fd, &opts), 0, "live test run: %s",
		     strerror(errno));
	counters(moved);
	for (unsigned int r = 0; r < REASON_MAX; r++)
		moved[r] -= before[r];
}

/* packets counted on rule id, every CPU */
static __u64 rule_packets(__u32 id)
{
	int fd = pins_get(inst, "rule_counts"), ncpu = libbpf_num_possible_cpus();
	struct pkt_count v[ncpu];
	__u64 n = 0;

	cr_assert_geq(fd, 0, "rule_counts pin missing");
	cr_assert_eq(bpf_map_lookup_elem(fd, &id, v), 0);
	close(fd);
	for (int i = 0; i < ncpu; i++)
		n += v[i].packets;
	return n;
}

/* the mark of the generation in force */
static __u64 mark_in_force(void)
{
	int ctl = pins_get(inst, "ctl"), marks = pins_get(inst, "xdp_marks");
	__u32 zero = 0, w;
	__u64 mark;

	cr_assert(ctl >= 0 && marks >= 0, "ctl or xdp_marks pin missing");
	cr_assert_eq(bpf_map_lookup_elem(ctl, &zero, &w), 0);
	w &= CTL_GEN_MASK;
	cr_assert_eq(bpf_map_lookup_elem(marks, &w, &mark), 0);
	close(ctl);
	close(marks);
	cr_assert_neq(mark, 0, "a generation with XDP programs has a mark");
	return mark;
}

/* the only reason that moved, and by how much */
static void expect_moved(const char *what, const __u64 *moved, unsigned int reason, __u64 n)
{
	for (unsigned int r = 0; r < REASON_MAX; r++)
		cr_expect_eq(moved[r], r == reason ? n : 0, "%s: reason %s counted %llu times",
			     what, reason_name(r), (unsigned long long)moved[r]);
}

TestSuite(xdp_mark, .init = setup, .fini = teardown, .timeout = 60);

/*
 * An allowed datagram: judged and counted at XDP alone; a SYN at tc ingress
 * too. A denied datagram behind an XDP program that is not ours: judged at tc
 * ingress unless it carries the generation's own mark; after a switch, the
 * mark of the generation before is no longer taken, nor two switches on.
 */
Test(xdp_mark, marks_at_tc_ingress)
{
	struct xdp_pass forged = { .mark = 0x1c1a5eed1c1a5eedull }, old;
	__u64 moved[REASON_MAX], rule0, rule1;
	int xdp, pass = xdp_pass_prog();
	FRAME(p);

	install_at_lo();
	xdp = pins_get(inst, "dispatch_xdp");
	cr_assert_geq(xdp, 0, "dispatch_xdp pin missing");
	rule0 = rule_packets(0);
	frame(&p, "10.64.0.1", IPPROTO_UDP, 0);
	live(xdp, NULL, &p, moved);
	expect_moved("allowed datagram", moved, REASON_RULE, 1);
	cr_expect_eq(rule_packets(0) - rule0, 1, "the datagram's rule counted it %llu times",
		     (unsigned long long)(rule_packets(0) - rule0));
	/* a flow begins: recorded at tc ingress, so judged there again (and counted there) */
	rule1 = rule_packets(1);
	frame(&p, "10.64.0.1", IPPROTO_TCP, TH_SYN);
	live(xdp, NULL, &p, moved);
	expect_moved("allowed SYN", moved, REASON_RULE, 2);
	cr_expect_eq(rule_packets(1) - rule1, 2);
	close(xdp);

	frame(&p, "10.64.0.9", IPPROTO_UDP, 0);
	live(pass, NULL, &p, moved);
	expect_moved("no metadata", moved, REASON_NO_RULE, 1);
	live(pass, &forged, &p, moved);
	expect_moved("a forged mark", moved, REASON_NO_RULE, 1);
	forged.mark = 0;
	live(pass, &forged, &p, moved);
	expect_moved("mark 0", moved, REASON_NO_RULE, 1);
	/* the generation's own mark is what tc ingress takes: nothing else counts the frame */
	old = (struct xdp_pass){ .mark = mark_in_force() };
	live(pass, &old, &p, moved);
	expect_moved("the generation's mark", moved, REASON_MAX, 0);

	install_at_lo();
	cr_assert_neq(mark_in_force(), old.mark, "a new generation has a mark of its own");
	live(pass, &old, &p, moved);
	expect_moved("the mark of the generation before", moved, REASON_NO_RULE, 1);
	/* two switches on, that generation's slot in force again, with another mark */
	install_at_lo();
	live(pass, &old, &p, moved);
	expect_moved("the mark of two generations before", moved, REASON_NO_RULE, 1);
	close(pass);
}
