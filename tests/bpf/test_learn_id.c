/*
 * test_learn_id.c: what makes a forged answer unknowable to the sandbox, in
 * the real pipeline of a test instance: the query's id rewritten at
 * host-side tc ingress and given back at host-side tc egress (checksums kept
 * right: none, CHECKSUM_COMPLETE, IPv6); an answer with a wrong id discards
 * what waits; learnable queries capped a second; an answer by another
 * interface than the route to the resolver is not learned.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/pkt_cls.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "pipeline.h"
#include "policy.h"
#include "reasons.h"
#include "dns_names.h"
#include "learn_maps.h"
#include "pkt.h"
#include "learn_run.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const id_profile[] = {
	"allow udp 10.42.0.53 port 53",
	"allow udp fd00:53::53 port 53",
	"allow tcp name log-collector.internal.corp port 8080",
	"dns learn grace 0 max-ttl 100 rate 1000",
};

/* three learnable queries a second */
static const char *const rate_profile[] = {
	"allow udp 10.42.0.53 port 53",
	"allow tcp name log-collector.internal.corp port 8080",
	"dns learn rate 3",
};

static void setup(void)
{
	snprintf(inst, sizeof(inst), "learnid%d", getpid());
	install_lines(id_profile, ARRAY_SIZE(id_profile));
}

TestSuite(learn_id, .init = setup, .fini = remove_instance);

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* bpf_ktime_get_ns()'s clock */
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* the A query from the sandbox's port sport to resolver (its family), UDP checksum 0 if asked */
static void a_query(const char *resolver, uint16_t sport, bool csum_zero, __u32 flags)
{
	const char *src = strchr(resolver, ':') ? "fd00:42::2" : "10.42.0.2";
	FRAME(m);
	FRAME(p);

	dns_query(&m, "log-collector.internal.corp", strchr(resolver, ':') ? 28 : 1);
	dns_frame(&p, src, resolver, sport, 53, &m);
	if (csum_zero)
		memset(p.b + dns_id_off(p.b) - 2, 0, 2);
	query_frame("the query", &p, flags);
}

/* the answer to a_query: the address, as A or AAAA */
static void a_or_aaaa_answer(struct pkt_buf *m, const char *addr)
{
	bool v6 = strchr(addr, ':');

	dns_answer_hdr(m, 0, 1);
	pkt_dns_question(m, "log-collector.internal.corp", v6 ? 28 : 1, 1);
	pkt_dns_ptr(m, 12);
	pkt_dns_rr(m, v6 ? 28 : 1, 1, 60, ADDR(addr), v6 ? 16 : 4);
}

/*
 * The answer with the id the pipeline wrote, its UDP checksum 0 if asked:
 * learned, and it leaves with the sandbox's id and a right checksum (still
 * 0 when it was).
 */
static void answer_restored(const char *what, const char *resolver, uint16_t sport,
			    const char *addr, bool csum_zero, __u32 flags)
{
	__u64 delta[LEARN_EV_MAX];
	struct run_out out;
	size_t at;
	FRAME(m);

	a_or_aaaa_answer(&m, addr);
	if (!csum_zero) {
		answer_with_id(resolver, sport, &m, query_id, flags, 0, delta, &out);
	} else {
		/* answer_with_id builds the frame: zero its checksum in a run of our own */
		const char *to = strchr(resolver, ':') ? "fd00:42::2" : "10.42.0.2";
		__u64 before[LEARN_EV_MAX], after[LEARN_EV_MAX];
		FRAME(p);

		memcpy(m.b, &query_id, 2);
		dns_frame(&p, resolver, to, 53, sport, &m);
		memset(p.b + dns_id_off(p.b) - 2, 0, 2);
		cr_assert_eq(learn_counts_read(inst, before), 0);
		cr_assert_eq(test_run("learn_tc", &p, flags, 0, 0, &out), 0, "%s: %s", what,
			     strerror(errno));
		cr_assert_eq(learn_counts_read(inst, after), 0);
		for (int i = 0; i < LEARN_EV_MAX; i++)
			delta[i] = after[i] - before[i];
	}
	expect_deltas(what, delta, LEARN_EV_LEARNED, 1, 1);
	at = dns_id_off(out.b);
	cr_expect_eq(out.b[at] << 8 | out.b[at + 1], DNS_ID,
		     "%s: left with id %#x, not the sandbox's", what,
		     out.b[at] << 8 | out.b[at + 1]);
	cr_expect(udp_csum_ok(out.b, out.len), "%s: the UDP checksum is wrong after the restore",
		  what);
	if (csum_zero)
		cr_expect(!out.b[at - 2] && !out.b[at - 1], "%s: a checksum of 0 became %#x", what,
			  out.b[at - 2] << 8 | out.b[at - 1]);
}

/* the sandbox never sees the id its answer is matched by: a random one each time */
Test(learn_id, rewritten_and_restored)
{
	__be16 ids[8];
	int other = 0;

	for (int i = 0; i < 8; i++) {
		a_query("10.42.0.53", 34000 + i, false, 0);
		ids[i] = query_id;
		other += ntohs(query_id) != DNS_ID;
		for (int j = 0; j < i; j++)
			other += ids[j] != ids[i] ? 0 : -1; /* eight 16-bit draws: no two alike */
	}
	cr_expect_geq(other, 7, "the rewritten ids are the sandbox's or repeat: %d", other);
	for (int i = 0; i < 8; i++) {
		query_id = ids[i];
		answer_restored("IPv4", "10.42.0.53", 34000 + i, "10.42.7.11", false, 0);
	}
	expect_tcp("learned", "10.42.7.11", 40000, 8080, SYN, REASON_RULE);
	a_query("fd00:53::53", 34010, false, 0);
	answer_restored("IPv6", "fd00:53::53", 34010, "fd00:7::11", false, 0);
	expect_tcp("learned (IPv6)", "fd00:7::11", 40000, 8080, SYN, REASON_RULE);
}

/* an IPv4 UDP checksum of 0 (none) stays 0 both ways */
Test(learn_id, checksum_zero)
{
	a_query("10.42.0.53", 34020, true, 0);
	answer_restored("checksum 0", "10.42.0.53", 34020, "10.42.7.11", true, 0);
}

/*
 * CHECKSUM_COMPLETE (what a NIC gives an answer from outside): skb->csum
 * must stay the frame's sum, or the test run fails with EBADMSG (the
 * sandbox's UDP would count a checksum error). With a checksum, without
 * one, and IPv6.
 */
Test(learn_id, checksum_complete)
{
	a_query("10.42.0.53", 34030, false, BPF_F_TEST_SKB_CHECKSUM_COMPLETE);
	answer_restored("complete", "10.42.0.53", 34030, "10.42.7.11", false,
			BPF_F_TEST_SKB_CHECKSUM_COMPLETE);
	a_query("10.42.0.53", 34031, true, BPF_F_TEST_SKB_CHECKSUM_COMPLETE);
	answer_restored("complete, checksum 0", "10.42.0.53", 34031, "10.42.7.11", true,
			BPF_F_TEST_SKB_CHECKSUM_COMPLETE);
	a_query("fd00:53::53", 34032, false, BPF_F_TEST_SKB_CHECKSUM_COMPLETE);
	answer_restored("complete, IPv6", "fd00:53::53", 34032, "fd00:7::11", false,
			BPF_F_TEST_SKB_CHECKSUM_COMPLETE);
}

/*
 * A partner that knows the sandbox's id and port answers first: the answer
 * is forged (the id the sandbox wrote is no query's any more), counted, and
 * discards the query, so the real answer teaches nothing either; learning
 * stops for the rest of that second, then works again.
 */
Test(learn_id, wrong_id_discards)
{
	__u64 delta[LEARN_EV_MAX], forged;
	struct run_out out;
	__be16 real;
	FRAME(m);

	a_query("10.42.0.53", 34040, false, 0);
	real = query_id;
	a_or_aaaa_answer(&m, "10.42.7.12");
	answer_with_id("10.42.0.53", 34040, &m, htons(DNS_ID), 0, 0, delta, &out);
	forged = now_ns();
	expect_deltas("the sandbox's own id, first", delta, LEARN_EV_WRONG_ID, 1, 0);
	a_or_aaaa_answer(&m, "10.42.7.11");
	answer_with_id("10.42.0.53", 34040, &m, real, 0, 0, delta, &out);
	expect_deltas("the real answer after it", delta, LEARN_EV_NO_QUERY, 1, 0);
	cr_expect_eq(out.b[dns_id_off(out.b)] << 8 | out.b[dns_id_off(out.b) + 1], DNS_ID,
		     "the real answer still gets the sandbox's id back");
	expect_tcp("the forged address", "10.42.7.12", 40000, 8080, SYN, REASON_NO_RULE);
	expect_tcp("the real answer's", "10.42.7.11", 40000, 8080, SYN, REASON_NO_RULE);
	/* an answer to a port no query waits on is no forgery, only unasked */
	answer_with_id("10.42.0.53", 34041, &m, real, 0, 0, delta, &out);
	expect_deltas("to another port", delta, LEARN_EV_NO_QUERY, 1, 0);
	/* within the second after the forgery a query is not learnable */
	{
		__u64 before[LEARN_EV_MAX], after[LEARN_EV_MAX];

		cr_assert_eq(learn_counts_read(inst, before), 0);
		a_query("10.42.0.53", 34042, false, 0);
		cr_assert_eq(learn_counts_read(inst, after), 0);
		if (now_ns() - forged < LEARN_RATE_NS)
			cr_expect_eq(after[LEARN_EV_RATE] - before[LEARN_EV_RATE], 1,
				     "a query just after a forgery was learnable");
	}
	answer_with_id("10.42.0.53", 34042, &m, query_id, 0, 0, delta, &out);
	if (delta[LEARN_EV_LEARNED] == 0)
		expect_tcp("not learned", "10.42.7.11", 40000, 8080, SYN, REASON_NO_RULE);
	/* a second later: learnable again */
	while (now_ns() - forged < LEARN_RATE_NS + 10000000ull)
		usleep(50000);
	a_query("10.42.0.53", 34043, false, 0);
	answer_restored("a second later", "10.42.0.53", 34043, "10.42.7.11", false, 0);
	expect_tcp("learned", "10.42.7.11", 40000, 8080, SYN, REASON_RULE);
}

/* 'dns learn rate 3': the fourth query of a second gets its id back and teaches nothing */
Test(learn_id, rate_caps_learnable_queries)
{
	__u64 before[LEARN_EV_MAX], after[LEARN_EV_MAX], delta[LEARN_EV_MAX], t0;
	__be16 ids[4];
	struct run_out out;
	FRAME(m);

	install_lines(rate_profile, ARRAY_SIZE(rate_profile));
	t0 = now_ns();
	cr_assert_eq(learn_counts_read(inst, before), 0);
	for (int i = 0; i < 4; i++) {
		a_query("10.42.0.53", 34050 + i, false, 0);
		ids[i] = query_id;
	}
	cr_assert_eq(learn_counts_read(inst, after), 0);
	if (now_ns() - t0 >= LEARN_RATE_NS)
		cr_skip_test("four queries took a second: no window to count them in");
	cr_expect_eq(after[LEARN_EV_RATE] - before[LEARN_EV_RATE], 1,
		     "queries over the rate: %llu, want 1",
		     (unsigned long long)(after[LEARN_EV_RATE] - before[LEARN_EV_RATE]));
	a_or_aaaa_answer(&m, "10.42.7.21");
	answer_with_id("10.42.0.53", 34053, &m, ids[3], 0, 0, delta, &out);
	expect_deltas("the fourth query's answer", delta, LEARN_EV_RATE, 0, 0);
	cr_expect_eq(out.b[dns_id_off(out.b)] << 8 | out.b[dns_id_off(out.b) + 1], DNS_ID,
		     "the fourth query's answer did not get its id back");
	expect_tcp("not learned", "10.42.7.21", 40000, 8080, SYN, REASON_NO_RULE);
	answer_with_id("10.42.0.53", 34050, &m, ids[0], 0, 0, delta, &out);
	expect_deltas("the first query's answer", delta, LEARN_EV_LEARNED, 1, 1);
	expect_tcp("learned", "10.42.7.21", 40000, 8080, SYN, REASON_RULE);
}

/*
 * An answer that came in by another interface than the host's route to the
 * resolver (here loopback; the test's namespace has no route to it through
 * there): not learned, and it discards nothing. The e2e test routes both.
 */
Test(learn_id, wrong_interface)
{
	__u64 delta[LEARN_EV_MAX];
	struct run_out out;
	FRAME(m);

	a_query("10.42.0.53", 34060, false, 0);
	a_or_aaaa_answer(&m, "10.42.7.11");
	answer_with_id("10.42.0.53", 34060, &m, query_id, 0, 1, delta, &out);
	expect_deltas("by loopback", delta, LEARN_EV_WRONG_IF, 1, 0);
	expect_tcp("not learned", "10.42.7.11", 40000, 8080, SYN, REASON_NO_RULE);
	answer_restored("the host's own", "10.42.0.53", 34060, "10.42.7.11", false, 0);
}
