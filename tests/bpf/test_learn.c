/*
 * test_learn.c: host names that follow DNS, in the real pipeline of a test
 * instance: queries through host-side tc ingress, answers through the
 * learning program (BPF_PROG_TEST_RUN, learn_run.h), then packets to what
 * was learned: verdict + reason per packet, what became of each answer per
 * answer. test_learn_id.c: the ids, forged answers, the rate, the route.
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

static const char *const learn_profile[] = {
	"allow udp 10.42.0.53 port 53",
	"allow udp fd00:53::53 port 53",
	"allow tcp name log-collector.internal.corp port 8080",
	"allow udp name flow.internal.corp port 9000",
	"allow tcp name short.internal.corp port 8443",
	/* the tests send many queries a second */
	"dns learn grace 0 max-ttl 100 max-addresses 2 rate 1000",
};

/* without the name rule for log-collector: what was learned for it goes */
static const char *const other_profile[] = {
	"allow udp 10.42.0.53 port 53",
	"allow udp name flow.internal.corp port 9000",
};

static void setup(void)
{
	snprintf(inst, sizeof(inst), "learntest%d", getpid());
	install_lines(learn_profile, ARRAY_SIZE(learn_profile));
}

TestSuite(learn, .init = setup, .fini = remove_instance);

/* IPv6: an AAAA question to the IPv6 resolver, its answer learned, the address reached */
Test(learn, ipv6_aaaa)
{
	FRAME(m);
	FRAME(p);

	expect_tcp("before any lookup", "fd00:7::11", 40000, 8080, SYN, REASON_NO_RULE);
	dns_query(&m, "log-collector.internal.corp", 28);
	dns_frame(&p, "fd00:42::2", "fd00:53::53", 33005, 53, &m);
	query_frame("AAAA query", &p, 0);
	dns_answer_hdr(&m, 0, 1);
	pkt_dns_question(&m, "log-collector.internal.corp", 28, 1);
	pkt_dns_ptr(&m, 12);
	pkt_dns_rr(&m, 28, 1, 60, ADDR("fd00:7::11"), 16);
	/* from another address than the resolver the query went to: not that query's */
	expect_answer("from the IPv4 resolver", "10.42.0.53", 33005, &m, LEARN_EV_NO_QUERY, 1, 0);
	expect_answer("the resolver's answer", "fd00:53::53", 33005, &m, LEARN_EV_LEARNED, 1, 1);
	expect_tcp("after the lookup", "fd00:7::11", 40000, 8080, SYN, REASON_RULE);
	expect_tcp("another address", "fd00:7::12", 40000, 8080, SYN, REASON_NO_RULE);
	expect_tcp("the IPv4 address of nothing learned", "10.42.7.11", 40000, 8080, SYN,
		   REASON_NO_RULE);
}

Test(learn, before_and_after_the_lookup)
{
	FRAME(m);

	expect_tcp("before any lookup", "10.42.7.11", 40000, 8080, SYN, REASON_NO_RULE);
	query("log-collector.internal.corp", 1, 33001);
	expect_tcp("query answered not yet", "10.42.7.11", 40000, 8080, SYN, REASON_NO_RULE);
	a_answer(&m, "log-collector.internal.corp", 60, "10.42.7.11");
	expect_answer("the resolver's answer", "10.42.0.53", 33001, &m, LEARN_EV_LEARNED, 1, 1);
	expect_tcp("after the lookup", "10.42.7.11", 40000, 8080, SYN, REASON_RULE);
	expect_tcp("another port", "10.42.7.11", 40000, 8081, SYN, REASON_NO_RULE);
	expect_tcp("another address", "10.42.7.12", 40000, 8080, SYN, REASON_NO_RULE);
	/* one answer per query: the same answer again waits for no query (and is no forgery) */
	expect_answer("the answer again", "10.42.0.53", 33001, &m, LEARN_EV_NO_QUERY, 1, 0);
}

/* each answer with the query's id ends it, learned or not: a fresh query for each case */
Test(learn, answers_ignored)
{
	FRAME(m);

	query("log-collector.internal.corp", 1, 33002);
	a_answer(&m, "log-collector.internal.corp", 60, "10.42.7.66");
	expect_answer("from another address", "10.42.0.99", 33002, &m, LEARN_EV_NOT_RESOLVER, 1, 0);
	expect_answer("to another port", "10.42.0.53", 33003, &m, LEARN_EV_NO_QUERY, 1, 0);
	a_answer(&m, "other.internal.corp", 60, "10.42.7.66");
	expect_answer("another question", "10.42.0.53", 33002, &m, LEARN_EV_QUESTION, 1, 0);
	/* that ended the query: the right answer now finds none */
	a_answer(&m, "log-collector.internal.corp", 60, "10.42.7.66");
	expect_answer("after another question", "10.42.0.53", 33002, &m, LEARN_EV_NO_QUERY, 1, 0);
	query("log-collector.internal.corp", 1, 33002);
	dns_answer_hdr(&m, 0, 1);
	pkt_dns_question(&m, "log-collector.internal.corp", 28, 1);
	dns_rr_a(&m, 12, 60, "10.42.7.66");
	expect_answer("another question type", "10.42.0.53", 33002, &m, LEARN_EV_QUESTION, 1, 0);
	query("log-collector.internal.corp", 1, 33002);
	dns_hdr(&m, 0x0100, 1, 1, 0, 0);
	pkt_dns_question(&m, "log-collector.internal.corp", 1, 1);
	dns_rr_a(&m, 12, 60, "10.42.7.66");
	expect_answer("a query, not an answer", "10.42.0.53", 33002, &m, LEARN_EV_MALFORMED, 1, 0);
	query("log-collector.internal.corp", 1, 33002);
	a_answer(&m, "log-collector.internal.corp", 60, "10.42.7.66");
	m.b[3] |= 3; /* NXDOMAIN, with a record anyway */
	expect_answer("NXDOMAIN", "10.42.0.53", 33002, &m, LEARN_EV_RCODE, 1, 0);
	/* the query was answered: the real answer now finds none */
	a_answer(&m, "log-collector.internal.corp", 60, "10.42.7.66");
	expect_answer("after NXDOMAIN", "10.42.0.53", 33002, &m, LEARN_EV_NO_QUERY, 1, 0);
	/* a truncated answer teaches what it carries: test_learn_many.c */
	/* a name no rule follows: its answer gets its id back, and teaches nothing */
	query("other.internal.corp", 1, 33005);
	a_answer(&m, "other.internal.corp", 60, "10.42.7.66");
	expect_answer("an answer for a name not followed", "10.42.0.53", 33005, &m,
		      LEARN_EV_NO_QUERY, 0, 0);
	expect_tcp("none of them was learned", "10.42.7.66", 40000, 8080, SYN, REASON_NO_RULE);
}

Test(learn, cname_chain)
{
	FRAME(m);
	uint16_t at;

	query("log-collector.internal.corp", 1, 33010);
	dns_answer_hdr(&m, 0, 5);
	pkt_dns_question(&m, "log-collector.internal.corp", 1, 1);
	at = dns_rr_cname(&m, 12, 60, "lc.POOL.internal.corp");
	/* a record of another name, not on the chain */
	pkt_dns_name(&m, "evil.internal.corp");
	pkt_dns_rr(&m, 1, 1, 60, "\x0a\x2a\x07\x42", 4);
	at = dns_rr_cname(&m, at, 60, "b.pool.internal.corp");
	dns_rr_a(&m, at, 30, "10.42.7.21");
	dns_rr_a(&m, 12, 30, "10.42.7.67"); /* the asked name again: off the chain's end */
	expect_answer("a chain of two CNAMEs", "10.42.0.53", 33010, &m, LEARN_EV_OFF_CHAIN, 2, 1);
	expect_tcp("the chain's end", "10.42.7.21", 40000, 8080, SYN, REASON_RULE);
	expect_tcp("the record off the chain", "10.42.7.66", 40000, 8080, SYN, REASON_NO_RULE);
	expect_tcp("the asked name's after the chain moved", "10.42.7.67", 40000, 8080, SYN,
		   REASON_NO_RULE);

	query("log-collector.internal.corp", 1, 33011);
	dns_answer_hdr(&m, 0, LEARN_CHAIN_MAX + 2);
	pkt_dns_question(&m, "log-collector.internal.corp", 1, 1);
	at = 12;
	for (int i = 0; i <= LEARN_CHAIN_MAX; i++) {
		char t[64];

		snprintf(t, sizeof(t), "c%d.internal.corp", i);
		at = dns_rr_cname(&m, at, 60, t);
	}
	dns_rr_a(&m, at, 30, "10.42.7.68");
	expect_answer("a chain one link too long", "10.42.0.53", 33011, &m, LEARN_EV_CHAIN, 1, 0);
	expect_tcp("its end", "10.42.7.68", 40000, 8080, SYN, REASON_NO_RULE);

	/* a pointer that points at itself, or forward */
	query("log-collector.internal.corp", 1, 33012);
	dns_answer_hdr(&m, 0, 1);
	pkt_dns_question(&m, "log-collector.internal.corp", 1, 1);
	pkt_dns_ptr(&m, m.len);
	pkt_dns_rr(&m, 1, 1, 60, "\x0a\x2a\x07\x45", 4);
	expect_answer("a pointer loop", "10.42.0.53", 33012, &m, LEARN_EV_MALFORMED, 1, 0);
}

Test(learn, cap_on_addresses)
{
	FRAME(m);

	query("short.internal.corp", 1, 33020);
	dns_answer_hdr(&m, 0, 3);
	pkt_dns_question(&m, "short.internal.corp", 1, 1);
	dns_rr_a(&m, 12, 60, "10.42.7.31");
	dns_rr_a(&m, 12, 60, "10.42.7.32");
	dns_rr_a(&m, 12, 60, "10.42.7.33");
	expect_answer("three addresses, max-addresses 2", "10.42.0.53", 33020, &m, LEARN_EV_CAP, 1,
		      2);
	expect_tcp("the first", "10.42.7.31", 40000, 8443, SYN, REASON_RULE);
	expect_tcp("the second", "10.42.7.32", 40000, 8443, SYN, REASON_RULE);
	expect_tcp("the third, over the cap", "10.42.7.33", 40000, 8443, SYN, REASON_NO_RULE);
	/* the same addresses again renew their entries */
	query("short.internal.corp", 1, 33021);
	dns_answer_hdr(&m, 0, 2);
	pkt_dns_question(&m, "short.internal.corp", 1, 1);
	dns_rr_a(&m, 12, 60, "10.42.7.32");
	dns_rr_a(&m, 12, 60, "10.42.7.31");
	expect_answer("the same two again", "10.42.0.53", 33021, &m, LEARN_EV_CAP, 0, 2);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* TTL 1, grace 0: new flows refused after a second, a flow opened in time goes on */
/*
 * A flow kept past the expiry belongs to the socket that began it. A tc test
 * run gives every frame a socket of its own, so there the frame is another
 * socket's on the same 5-tuple (refused); XDP knows no socket (the flow).
 * The e2e tests keep a real connection across the expiry.
 */
static void expect_flow_of_another_socket(const char *what, const struct pkt_buf *p)
{
	uint32_t ret;
	unsigned int got;

	run_at("dispatch_tc", p, &ret, &got);
	cr_expect_eq(got, REASON_NAME_EXPIRED, "%s, from another socket at tc: %s", what,
		     reason_name(got));
	run_at("dispatch_xdp", p, &ret, &got);
	cr_expect_eq(got, REASON_FLOW, "%s at XDP: %s", what, reason_name(got));
}

Test(learn, expiry_keeps_flows)
{
	FRAME(m);
	FRAME(p);

	query("short.internal.corp", 1, 33030);
	a_answer(&m, "short.internal.corp", 1, "10.42.7.41");
	expect_answer("TTL 1", "10.42.0.53", 33030, &m, LEARN_EV_LEARNED, 1, 1);
	expect_tcp("a connection opened in time", "10.42.7.41", 41000, 8443, SYN, REASON_RULE);
	query("flow.internal.corp", 1, 33031);
	a_answer(&m, "flow.internal.corp", 1, "10.42.7.42");
	expect_answer("TTL 1 (udp)", "10.42.0.53", 33031, &m, LEARN_EV_LEARNED, 1, 1);
	flow_frame(&p, IPPROTO_UDP, "10.42.7.42", 41001, 9000, 0);
	expect("a UDP flow begun in time", &p, REASON_RULE);
	sleep_ms(1200);
	flow_frame(&p, IPPROTO_TCP, "10.42.7.41", 41000, 8443, ACK);
	expect_flow_of_another_socket("its next segment", &p);
	expect_tcp("a new connection", "10.42.7.41", 41002, 8443, SYN, REASON_NAME_EXPIRED);
	expect_tcp("a new connection from the old port", "10.42.7.41", 41000, 8443, SYN,
		   REASON_NAME_EXPIRED);
	expect_tcp("a segment of no connection", "10.42.7.41", 41003, 8443, ACK,
		   REASON_NAME_EXPIRED);
	flow_frame(&p, IPPROTO_UDP, "10.42.7.42", 41001, 9000, 0);
	expect_flow_of_another_socket("the UDP flow's next datagram", &p);
	flow_frame(&p, IPPROTO_UDP, "10.42.7.42", 41004, 9000, 0);
	expect("another UDP flow", &p, REASON_NAME_EXPIRED);
	/* a new answer: new flows again */
	query("short.internal.corp", 1, 33032);
	a_answer(&m, "short.internal.corp", 60, "10.42.7.41");
	expect_answer("renewed", "10.42.0.53", 33032, &m, LEARN_EV_LEARNED, 1, 1);
	expect_tcp("a new connection after the renewal", "10.42.7.41", 41002, 8443, SYN,
		   REASON_RULE);
}

/* installs switch generations; what was learned stays while a rule follows the name */
Test(learn, reload_keeps_what_was_learned)
{
	FRAME(m);

	query("log-collector.internal.corp", 1, 33040);
	a_answer(&m, "log-collector.internal.corp", 60, "10.42.7.51");
	expect_answer("learned", "10.42.0.53", 33040, &m, LEARN_EV_LEARNED, 1, 1);
	install_lines(learn_profile, ARRAY_SIZE(learn_profile));
	expect_tcp("after a reload", "10.42.7.51", 40000, 8080, SYN, REASON_RULE);
	install_lines(other_profile, ARRAY_SIZE(other_profile));
	expect_tcp("the rule removed", "10.42.7.51", 40000, 8080, SYN, REASON_NO_RULE);
	install_lines(learn_profile, ARRAY_SIZE(learn_profile));
	expect_tcp("the rule back: learned anew", "10.42.7.51", 40000, 8080, SYN, REASON_NO_RULE);
}

/* rules and status read the learned addresses back */
Test(learn, state_read_back)
{
	struct learned_addr *a = NULL;
	FRAME(m);
	char buf[ADDR_STR_LEN];
	int n, found = 0;

	query("log-collector.internal.corp", 1, 33050);
	a_answer(&m, "log-collector.internal.corp", 42, "10.42.7.52");
	expect_answer("learned", "10.42.0.53", 33050, &m, LEARN_EV_LEARNED, 1, 1);
	n = learn_state_read(inst, &a);
	cr_assert_geq(n, 1, "learn_state_read: %d", n);
	for (int i = 0; i < n; i++)
		if (!strcmp(a[i].host, "log-collector.internal.corp") &&
		    !strcmp(addr_format(&a[i].addr, buf, sizeof(buf)), "10.42.7.52")) {
			found++;
			cr_expect_eq(a[i].ttl, 42);
			cr_expect(a[i].left_ms > 40000 && a[i].left_ms <= 42000, "left %llu ms",
				  (unsigned long long)a[i].left_ms);
		}
	cr_expect_eq(found, 1);
	free(a);
}

/* an answer cut at every offset, its UDP and IP lengths saying it ends there */
Test(learn, answer_cut_at_every_offset)
{
	FRAME(full);

	a_answer(&full, "log-collector.internal.corp", 60, "10.42.7.53");
	for (size_t len = 0; len < full.len; len++) {
		char what[64];

		struct pkt_buf cut = full; /* the same bytes, fewer of them */

		query("log-collector.internal.corp", 1, 33060);
		cut.len = len;
		snprintf(what, sizeof(what), "answer cut at %zu of %zu", len, full.len);
		expect_answer(what, "10.42.0.53", 33060, &cut, LEARN_EV_MALFORMED, 1, 0);
	}
	expect_tcp("nothing learned from the cuts", "10.42.7.53", 40000, 8080, SYN, REASON_NO_RULE);
	query("log-collector.internal.corp", 1, 33060);
	expect_answer("the whole answer", "10.42.0.53", 33060, &full, LEARN_EV_LEARNED, 1, 1);
}

/*
 * Every byte of an answer but the address's own set to 0xff in turn: an
 * answer still learned (counts, TTL, flags that do not matter) learns the
 * address it gives, for the asked name, and nothing else; the rest is
 * counted as ignored. The question's bytes never pass.
 */
Test(learn, every_byte_corrupted)
{
	struct learned_addr *a = NULL;
	FRAME(full);
	FRAME(bad);
	char buf[ADDR_STR_LEN];
	size_t qend = 12 + strlen("log-collector.internal.corp") + 2 + 4;
	int n;

	a_answer(&full, "log-collector.internal.corp", 60, "10.42.7.54");
	for (size_t i = 0; i < full.len - 4; i++) {
		__u64 delta[LEARN_EV_MAX], ignored = 0;

		query("log-collector.internal.corp", 1, 33070);
		a_answer(&bad, "log-collector.internal.corp", 60, "10.42.7.54");
		bad.b[i] = 0xff;
		answer_from("10.42.0.53", 33070, &bad, delta);
		for (int e = 1; e < LEARN_EV_MAX; e++)
			ignored += delta[e];
		cr_expect(delta[LEARN_EV_LEARNED] + ignored >= 1,
			  "byte %zu set to 0xff: neither learned nor counted", i);
		if (i >= 12 && i < qend)
			cr_expect_eq(delta[LEARN_EV_LEARNED], 0,
				     "byte %zu (the question) set to 0xff: learned", i);
	}
	n = learn_state_read(inst, &a);
	cr_assert_geq(n, 0);
	for (int i = 0; i < n; i++)
		cr_expect(!strcmp(a[i].host, "log-collector.internal.corp") &&
				  !strcmp(addr_format(&a[i].addr, buf, sizeof(buf)), "10.42.7.54"),
			  "learned %s for %s", addr_format(&a[i].addr, buf, sizeof(buf)),
			  a[i].host);
	free(a);
}
