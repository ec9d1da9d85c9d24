/*
 * test_flows.c: the records of allowed traffic in the instance's ring buffer:
 * a flow at a TCP SYN (not at any other segment), a query with its name, a
 * denial of a query name with the name; run with BPF_PROG_TEST_RUN at tc.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/pkt_cls.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "event.h"
#include "pipeline_run.h"
#include "dns_pkt.h"
#include "records.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* the rules' numbers: address rules in order, then the 'allow dns' lines */
static const char *const flows_profile[] = {
	"allow udp 10.42.0.53 port 53", /* 0 */
	"allow tcp 10.42.7.11 port 443", /* 1 */
	"allow tcp 10.42.7.11 port 8080", /* 2 */
	"allow dns api.example", /* 3 */
};

#define RULE_HTTPS 1
#define RULE_INTERNAL 2
#define RULE_DNS_API 3

static void setup(void)
{
	snprintf(inst, sizeof(inst), "flowtest%d", getpid());
	install_lines(flows_profile, ARRAY_SIZE(flows_profile));
}

TestSuite(flows, .init = setup, .fini = remove_instance);

static void tcp_frame(struct pkt_buf *p, const char *dst, uint16_t dport, uint8_t flags)
{
	pkt_reset(p);
	pkt_eth(p, NULL, NULL, ETH_P_IP);
	pkt_ipv4(p, &(struct pkt_ip4){
			    .src = ADDR("10.42.0.2"), .dst = ADDR(dst), .proto = IPPROTO_TCP });
	pkt_tcp(p, &(struct pkt_tcp){ .sport = TEST_SPORT, .dport = dport, .flags = flags });
	cr_assert_eq(pkt_finish(p), 0, "the frame");
}

static void query_frame(struct pkt_buf *p, const char *name)
{
	FRAME(m);

	dns_query(&m, name, 1);
	cr_assert_eq(m.err, 0, "the message");
	pkt_reset(p);
	pkt_eth(p, NULL, NULL, ETH_P_IP);
	pkt_ipv4(p, &(struct pkt_ip4){ .src = ADDR("10.42.0.2"),
				       .dst = ADDR("10.42.0.53"),
				       .proto = IPPROTO_UDP });
	pkt_udp(p, TEST_SPORT, 53);
	pkt_bytes(p, m.b, m.len);
	cr_assert_eq(pkt_finish(p), 0, "the frame");
}

/* runs the frame at a dispatcher, wants reason want, and returns the records it made */
static void run_records(const char *dispatcher, const struct pkt_buf *p, unsigned int want,
			struct records *rs)
{
	uint32_t ret;
	unsigned int got;

	drain(rs);
	run_at(dispatcher, p, &ret, &got);
	cr_assert_eq(got, want, "reason %s, want %s", reason_name(got), reason_name(want));
	drain(rs);
}

static void assert_flow(const struct records *rs, __u32 rule, const char *dst, uint16_t dport)
{
	const struct event_named *r = &rs->r[0];
	__u8 d[16] = {};

	cr_assert_eq(rs->n, 1, "one record, not %zu", rs->n);
	cr_assert_eq(rs->size[0], sizeof(struct event_flow), "a flow is %zu bytes, not %zu",
		     sizeof(struct event_flow), rs->size[0]);
	cr_assert_eq(r->e.kind, EVENT_FLOW);
	cr_assert_eq(r->e.reason, REASON_RULE);
	cr_assert_eq(r->e.hook, HOOK_TC);
	cr_assert_eq(r->e.l4proto, IPPROTO_TCP);
	cr_assert_eq(r->e.family, AF_INET);
	cr_assert_eq(ntohs(r->e.dport), dport);
	cr_assert_eq(ntohs(r->e.sport), TEST_SPORT);
	inet_pton(AF_INET, dst, d);
	cr_assert_arr_eq(r->e.daddr, d, 4);
	cr_assert_eq(r->t.rule, rule + 1, "rule %u, want %u", r->t.rule, rule + 1);
	cr_assert_eq(r->t.name_len, 0);
}

/* a SYN begins a flow: one record with the rule that allowed it, at each stage */
Test(flows, syn_is_a_flow_with_its_rule)
{
	struct records rs;
	FRAME(p);

	tcp_frame(&p, "10.42.7.11", 443, TH_SYN);
	run_records("dispatch_tc", &p, REASON_RULE, &rs);
	assert_flow(&rs, RULE_HTTPS, "10.42.7.11", 443);
	tcp_frame(&p, "10.42.7.11", 8080, TH_SYN);
	run_records("dispatch_tc", &p, REASON_RULE, &rs);
	assert_flow(&rs, RULE_INTERNAL, "10.42.7.11", 8080);
}

/* every other segment of the flow is allowed and records nothing: no per-packet state */
Test(flows, non_syn_records_nothing)
{
	static const uint8_t flags[] = { TH_ACK, TH_SYN | TH_ACK, TH_PUSH | TH_ACK, TH_FIN | TH_ACK,
					 TH_RST };
	struct records rs;
	FRAME(p);

	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		tcp_frame(&p, "10.42.7.11", 443, flags[i]);
		run_records("dispatch_tc", &p, REASON_RULE, &rs);
		cr_assert_eq(rs.n, 0, "flags 0x%02x: %zu records", flags[i], rs.n);
	}
}

/* XDP has tc ingress beside it, which records the flow: XDP does not, a second time */
Test(flows, none_at_xdp)
{
	struct records rs;
	FRAME(p);

	tcp_frame(&p, "10.42.7.11", 443, TH_SYN);
	run_records("dispatch_xdp", &p, REASON_RULE, &rs);
	cr_assert_eq(rs.n, 0, "%zu records", rs.n);
}

/* a denied SYN is a denial, as before: no flow */
Test(flows, denied_syn_is_a_denial)
{
	struct records rs;
	FRAME(p);

	tcp_frame(&p, "10.42.7.12", 443, TH_SYN);
	run_records("dispatch_tc", &p, REASON_NO_RULE, &rs);
	cr_assert_eq(rs.n, 1);
	cr_assert_eq(rs.r[0].e.kind, EVENT_DENY);
	cr_assert_eq(rs.r[0].e.reason, REASON_NO_RULE);
}

static void assert_name(const struct event_named *r, const char *wire, size_t len)
{
	cr_assert_geq(r->t.name_len, len, "name_len %u", r->t.name_len);
	cr_assert_arr_eq(r->name, wire, len);
}

/* an allowed query: a record of kind query, with its name and the name's rule */
Test(flows, allowed_query_has_its_name)
{
	struct records rs;
	FRAME(p);

	query_frame(&p, "api.example");
	run_records("dispatch_tc", &p, REASON_RULE, &rs);
	cr_assert_eq(rs.n, 1, "%zu records", rs.n);
	cr_assert_eq(rs.size[0], sizeof(struct event_named));
	cr_assert_eq(rs.r[0].e.kind, EVENT_QUERY);
	cr_assert_eq(rs.r[0].e.l4proto, IPPROTO_UDP);
	cr_assert_eq(ntohs(rs.r[0].e.dport), 53);
	cr_assert_eq(rs.r[0].t.rule, RULE_DNS_API + 1, "rule %u", rs.r[0].t.rule);
	assert_name(&rs.r[0], "\3api\7example", 13);
}

/* a denied query name: the denial carries the name asked, its bytes as sent */
Test(flows, denied_query_name_has_the_name)
{
	struct records rs;
	FRAME(p);

	query_frame(&p, "ev\x01il.example");
	run_records("dispatch_tc", &p, REASON_QNAME, &rs);
	cr_assert_eq(rs.n, 1, "%zu records", rs.n);
	cr_assert_eq(rs.size[0], sizeof(struct event_named));
	cr_assert_eq(rs.r[0].e.kind, EVENT_DENY);
	cr_assert_eq(rs.r[0].e.reason, REASON_QNAME);
	cr_assert_eq(rs.r[0].t.rule, 0);
	assert_name(&rs.r[0], "\5ev\x01il\7example", 15);
	/* at XDP too */
	run_records("dispatch_xdp", &p, REASON_QNAME, &rs);
	cr_assert_eq(rs.n, 1, "%zu records at XDP", rs.n);
	cr_assert_eq(rs.r[0].e.hook, HOOK_XDP);
	cr_assert_eq(rs.r[0].e.reason, REASON_QNAME);
	assert_name(&rs.r[0], "\5ev\x01il\7example", 15);
}
