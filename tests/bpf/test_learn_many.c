/*
 * test_learn_many.c: many addresses in one answer, in the real pipeline of a
 * test instance (BPF_PROG_TEST_RUN, learn_run.h). The learning program reads
 * an answer through a buffer of its own (LEARN_MSG_MAX bytes, not the dns
 * stage's 512 for queries): 40 and 64 A records and 64 AAAA all teach; of 70,
 * max-addresses (64) teach and the rest are counted (cap) and logged
 * (learn_bound); a record crossing the end of the buffer is refused (too_big)
 * with the records before it learned, wherever the end falls in it; a
 * truncated (TC) answer teaches what it carries; DNS over TCP is counted.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "event.h"
#include "pipeline.h"
#include "policy.h"
#include "reasons.h"
#include "dns_names.h"
#include "learn_maps.h"
#include "pkt.h"
#include "learn_run.h"
#include "records.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NAME "many.internal.corp"
#define PORT 9443
#define TYPE_A 1
#define TYPE_AAAA 28

/* max-addresses is the default (64) */
static const char *const many_profile[] = {
	"allow udp 10.42.0.53 port 53",
	"allow tcp 10.42.0.53 port 53",
	"allow tcp name " NAME " port 9443",
	"dns learn grace 0 max-ttl 100 rate 1000",
};

/* room for every record the buffer holds: only the buffer's end refuses one */
static const char *const roomy_profile[] = {
	"allow udp 10.42.0.53 port 53",
	"allow tcp name " NAME " port 9443",
	"dns learn grace 0 max-ttl 100 rate 1000 max-addresses 200",
};

static void setup(void)
{
	snprintf(inst, sizeof(inst), "learnmany%d", getpid());
	install_lines(many_profile, ARRAY_SIZE(many_profile));
}

TestSuite(learn_many, .init = setup, .fini = remove_instance);

/* the i-th address (from 1) of an answer: 10.43.0.1... or fd00:43::1... */
static const char *nth(char *buf, size_t size, uint16_t qtype, int i)
{
	if (qtype == TYPE_A)
		snprintf(buf, size, "10.43.%d.%d", i >> 8, i & 255);
	else
		snprintf(buf, size, "fd00:43::%x", i);
	return buf;
}

/*
 * An answer to NAME (qtype): first an off-chain TXT record of pad bytes
 * when pad >= 0, then n address records, each owned by a pointer to the
 * question's name.
 */
static void many_answer(struct pkt_buf *m, uint16_t qtype, int n, int pad)
{
	__u8 txt[256] = { 0 };
	char buf[64];

	dns_answer_hdr(m, 0, n + (pad >= 0));
	pkt_dns_question(m, NAME, qtype, 1);
	if (pad >= 0) {
		pkt_dns_ptr(m, 12);
		pkt_dns_rr(m, 16, 1, 60, txt, pad);
	}
	for (int i = 1; i <= n; i++) {
		pkt_dns_ptr(m, 12);
		pkt_dns_rr(m, qtype, 1, 60, ADDR(nth(buf, sizeof(buf), qtype, i)),
			   qtype == TYPE_A ? 4 : 16);
	}
	cr_assert_eq(m->err, 0, "the answer (%d records) does not fit the test's buffer", n);
}

/* the query for NAME (qtype), then its answer m through the learning program */
static void ask_and_answer(uint16_t qtype, uint16_t sport, const struct pkt_buf *m, __u64 *delta)
{
	query(NAME, qtype, sport);
	answer_from("10.42.0.53", sport, m, delta);
}

/* addresses from .. to (from 1) of qtype reach PORT (want: REASON_RULE) or not (REASON_NO_RULE) */
static void expect_reach(uint16_t qtype, int from, int to, unsigned int want)
{
	char buf[64], what[96];

	for (int i = from; i <= to; i++) {
		snprintf(what, sizeof(what), "address %d of the answer", i);
		expect_tcp(what, nth(buf, sizeof(buf), qtype, i), 40000, PORT, SYN, want);
	}
}

#define BOUND_MAX 32

struct bound_events {
	int n;
	__u8 daddr[BOUND_MAX][16];
};

static int keep_bound(void *ctx, void *data, size_t size)
{
	struct bound_events *b = ctx;
	const struct deny_event *e = data;

	if (size >= sizeof(*e) && e->reason == REASON_LEARN_BOUND && b->n < BOUND_MAX)
		memcpy(b->daddr[b->n++], e->daddr, 16);
	return 0;
}

/* the learn_bound events in the ring buffer now, taken out of it */
static void drain_bound(struct bound_events *b)
{
	memset(b, 0, sizeof(*b));
	events_consume(keep_bound, b);
}

/* an answer of n records of qtype: all learned, all reached, the next address not */
static void all_learned(uint16_t qtype, int n, uint16_t sport)
{
	__u64 delta[LEARN_EV_MAX];
	FRAME(m);

	many_answer(&m, qtype, n, -1);
	ask_and_answer(qtype, sport, &m, delta);
	expect_deltas("the answer", delta, LEARN_EV_MAX, 0, n);
	expect_reach(qtype, 1, n, REASON_RULE);
	expect_reach(qtype, n + 1, n + 1, REASON_NO_RULE);
}

Test(learn_many, forty_a_records)
{
	all_learned(TYPE_A, 40, 34001);
}

Test(learn_many, sixty_four_a_records)
{
	all_learned(TYPE_A, 64, 34002);
}

Test(learn_many, sixty_four_aaaa_records)
{
	all_learned(TYPE_AAAA, 64, 34003);
}

/* of n records, max-addresses (64) learned; the rest counted (cap) and logged, each */
static void over_the_bound(uint16_t qtype, int n, uint16_t sport)
{
	struct bound_events b;
	__u64 delta[LEARN_EV_MAX];
	char buf[64];
	__u8 want[16];
	FRAME(m);

	drain_bound(&b);
	many_answer(&m, qtype, n, -1);
	ask_and_answer(qtype, sport, &m, delta);
	expect_deltas("the answer", delta, LEARN_EV_CAP, n - LEARN_DEFAULT_MAX_ADDRS,
		      LEARN_DEFAULT_MAX_ADDRS);
	drain_bound(&b);
	cr_expect_eq(b.n, n - LEARN_DEFAULT_MAX_ADDRS, "learn_bound events: %d, want %d", b.n,
		     n - LEARN_DEFAULT_MAX_ADDRS);
	for (int i = 0; i < b.n; i++) {
		memset(want, 0, sizeof(want));
		memcpy(want, ADDR(nth(buf, sizeof(buf), qtype, LEARN_DEFAULT_MAX_ADDRS + 1 + i)),
		       qtype == TYPE_A ? 4 : 16);
		cr_expect_arr_eq(b.daddr[i], want, 16, "learn_bound event %d: not address %d", i,
				 LEARN_DEFAULT_MAX_ADDRS + 1 + i);
	}
	expect_reach(qtype, 1, LEARN_DEFAULT_MAX_ADDRS, REASON_RULE);
	expect_reach(qtype, LEARN_DEFAULT_MAX_ADDRS + 1, n, REASON_NO_RULE);
}

Test(learn_many, seventy_a_records_over_max_addresses)
{
	over_the_bound(TYPE_A, 70, 34004);
}

Test(learn_many, seventy_aaaa_records_over_max_addresses)
{
	over_the_bound(TYPE_AAAA, 70, 34005);
}

/*
 * A message longer than the buffer: the records wholly inside its first
 * LEARN_MSG_MAX bytes are learned, the one crossing the end is refused and
 * counted once (too_big), with nothing read past it. A TXT record of 0 to
 * 15 bytes (16 for AAAA: 0 to 27) first moves the end through every byte of
 * the crossing record, its owner pointer, its type, TTL, length and data.
 */
static void crossing_the_end(uint16_t qtype, int n)
{
	int rr = qtype == TYPE_A ? 16 : 28, hdr = 12 + 20 + 4; /* "many.internal.corp": 20 bytes */
	__u64 delta[LEARN_EV_MAX];
	char what[64];
	FRAME(m);

	install_lines(roomy_profile, ARRAY_SIZE(roomy_profile));
	for (int pad = 0; pad < rr; pad++) {
		int whole = (LEARN_MSG_MAX - hdr - (12 + pad)) / rr;

		many_answer(&m, qtype, n, pad);
		cr_assert_gt(m.len, LEARN_MSG_MAX, "the answer is no longer than the buffer");
		cr_assert_lt(whole, n);
		ask_and_answer(qtype, 34010 + pad, &m, delta);
		snprintf(what, sizeof(what), "the end %d bytes into record %d",
			 (LEARN_MSG_MAX - hdr - (12 + pad)) % rr, whole + 1);
		cr_expect_eq(delta[LEARN_EV_TOO_BIG], 1, "%s: too_big %llu", what,
			     (unsigned long long)delta[LEARN_EV_TOO_BIG]);
		cr_expect_eq(delta[LEARN_EV_LEARNED], whole, "%s: learned %llu, want %d", what,
			     (unsigned long long)delta[LEARN_EV_LEARNED], whole);
		cr_expect_eq(delta[LEARN_EV_OFF_CHAIN], 1, "%s: the TXT record", what);
		cr_expect_eq(delta[LEARN_EV_MALFORMED], 0, "%s: malformed", what);
	}
	/* the smallest pad leaves the most records whole */
	expect_reach(qtype, 1, (LEARN_MSG_MAX - hdr - 12) / rr, REASON_RULE);
	expect_reach(qtype, (LEARN_MSG_MAX - hdr - 12) / rr + 1, n, REASON_NO_RULE);
}

Test(learn_many, a_record_crossing_the_end_of_the_buffer)
{
	crossing_the_end(TYPE_A, 130);
}

Test(learn_many, aaaa_record_crossing_the_end_of_the_buffer)
{
	crossing_the_end(TYPE_AAAA, 80);
}

/* a truncated answer (TC): the resolver sent the records that fit, and they teach */
Test(learn_many, truncated_answer_teaches_what_it_carries)
{
	__u64 delta[LEARN_EV_MAX];
	FRAME(m);

	many_answer(&m, TYPE_A, 3, -1);
	m.b[2] |= 0x02; /* TC */
	ask_and_answer(TYPE_A, 34030, &m, delta);
	expect_deltas("truncated, three records", delta, LEARN_EV_TRUNCATED, 1, 3);
	expect_reach(TYPE_A, 1, 3, REASON_RULE);
	/* an error answer still teaches nothing, truncated or not */
	many_answer(&m, TYPE_A, 5, -1);
	m.b[2] |= 0x02;
	m.b[3] |= 2; /* SERVFAIL */
	ask_and_answer(TYPE_A, 34031, &m, delta);
	expect_deltas("truncated SERVFAIL", delta, LEARN_EV_RCODE, 1, 0);
	expect_reach(TYPE_A, 4, 5, REASON_NO_RULE);
}

/*
 * DNS over TCP to a resolver passes (no 'allow dns' lines) but never
 * teaches: each connection, at host-side tc ingress, is counted (tcp).
 */
Test(learn_many, tcp_to_the_resolver_counted)
{
	__u64 before[LEARN_EV_MAX], after[LEARN_EV_MAX];
	struct run_out out;
	FRAME(p);

	flow_frame(&p, IPPROTO_TCP, "10.42.0.53", 41000, 53, SYN);
	cr_assert_eq(learn_counts_read(inst, before), 0);
	cr_assert_eq(test_run("dispatch_tc_host", &p, 0, 0, 0, &out), 0, "test run: %s",
		     strerror(errno));
	cr_expect_eq(out.retval, ALLOW, "the SYN at host-side tc: verdict %u", out.retval);
	flow_frame(&p, IPPROTO_TCP, "10.42.0.53", 41000, 53, ACK);
	cr_assert_eq(test_run("dispatch_tc_host", &p, 0, 0, 0, &out), 0, "test run: %s",
		     strerror(errno));
	cr_expect_eq(out.retval, ALLOW, "the ACK at host-side tc: verdict %u", out.retval);
	cr_assert_eq(learn_counts_read(inst, after), 0);
	for (int i = 0; i < LEARN_EV_MAX; i++)
		cr_expect_eq(after[i] - before[i], i == LEARN_EV_TCP, "%s counted %llu",
			     learn_event_name(i), (unsigned long long)(after[i] - before[i]));
}
