/*
 * test_baked.c: a stage's rules baked into its program (stage_baked), its IPv4
 * rules of every process found through their table by slot (h4[]): every rule
 * found with its own number, every other key missed, IPv6 beside them judged
 * as before, at tc and at XDP, in both generations.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "counts.h"
#include "policy.h"
#include "reasons.h"
#include "pkt.h"
#include "pipeline_run.h"

#define BAKED_RULES 16 /* STAGE_BAKED_MAX: the internal stage bakes them all */

static char lines[BAKED_RULES][64];
static const char *line_ptrs[BAKED_RULES];

/* 10.64.0.0 .. 10.64.0.(n4 - 1) tcp/8080, then fd00:64::8 tcp/8080 when v6 */
static void install_baked(size_t n4, bool v6)
{
	size_t n = 0;

	for (; n < n4; n++)
		snprintf(lines[n], sizeof(lines[n]), "allow tcp 10.64.0.%zu port 8080", n);
	if (v6)
		snprintf(lines[n++], sizeof(lines[n]), "allow tcp fd00:64::8 port 8080");
	for (size_t i = 0; i < n; i++)
		line_ptrs[i] = lines[i];
	install_lines(line_ptrs, n);
}

static void setup(void)
{
	snprintf(inst, sizeof(inst), "bpftest%d", getpid());
}

static void frame4(struct pkt_buf *p, __u32 dst, __u8 proto, uint16_t dport)
{
	__be32 d = htonl(dst);

	pkt_reset(p);
	pkt_eth(p, NULL, NULL, ETH_P_IP);
	pkt_ipv4(p, &(struct pkt_ip4){ .src = ADDR("10.42.0.2"), .dst = &d, .proto = proto });
	if (proto == IPPROTO_TCP)
		pkt_tcp(p,
			&(struct pkt_tcp){ .sport = TEST_SPORT, .dport = dport, .flags = TH_ACK });
	else
		pkt_udp(p, TEST_SPORT, dport);
	cr_assert_eq(pkt_finish(p), 0);
}

static void frame6(struct pkt_buf *p, const char *dst)
{
	pkt_reset(p);
	pkt_eth(p, NULL, NULL, ETH_P_IPV6);
	pkt_ipv6(p, &(struct pkt_ip6){
			    .src = ADDR("fd00:42::2"), .dst = ADDR(dst), .next = IPPROTO_TCP });
	pkt_tcp(p, &(struct pkt_tcp){ .sport = TEST_SPORT, .dport = 8080, .flags = TH_ACK });
	cr_assert_eq(pkt_finish(p), 0);
}

/* each rule's frame allowed and counted on its own rule; every other address of 10.64.0/24 not */
static void expect_ipv4(size_t n4)
{
	FRAME(p);
	char name[64];

	for (__u32 a = 0; a < 256; a++) {
		struct pkt_count before, after;

		frame4(&p, 0x0a400000u + a, IPPROTO_TCP, 8080);
		snprintf(name, sizeof(name), "10.64.0.%u tcp/8080", a);
		if (a >= n4) {
			expect(name, &p, REASON_NO_RULE);
			continue;
		}
		counts_rule_total(inst, a, &before);
		expect(name, &p, REASON_RULE);
		counts_rule_total(inst, a, &after);
		cr_expect_eq(after.packets - before.packets, 2, "%s: rule %u counted %llu, want 2",
			     name, a, (unsigned long long)(after.packets - before.packets));
		/* the same address, another port and another protocol: no rule */
		frame4(&p, 0x0a400000u + a, IPPROTO_TCP, 8081);
		expect("a rule's address, port 8081", &p, REASON_NO_RULE);
		frame4(&p, 0x0a400000u + a, IPPROTO_UDP, 8080);
		expect("a rule's address over udp", &p, REASON_NO_RULE);
	}
}

TestSuite(baked, .init = setup, .fini = remove_instance);

/*
 * 15 IPv4 rules and an IPv6 one (generation 0): the IPv6 entry walked, the IPv4
 * ones by slot; then 16 IPv4 rules and nothing else (generation 1): an IPv6
 * frame finds nothing. Two installs in one test (each costs seconds).
 */
Test(baked, ipv4_by_slot_beside_ipv6)
{
	FRAME(p);

	install_baked(BAKED_RULES - 1, true);
	expect_ipv4(BAKED_RULES - 1);
	frame6(&p, "fd00:64::8");
	expect("the IPv6 rule", &p, REASON_RULE);
	frame6(&p, "fd00:64::9");
	expect("another IPv6 address", &p, REASON_NO_RULE);
	/* an IPv6 address whose first word is an IPv4 rule's address (10.64.0.1) */
	frame6(&p, "a40:1::");
	expect("IPv6 starting with 10.64.0.1", &p, REASON_NO_RULE);

	install_baked(BAKED_RULES, false);
	expect_ipv4(BAKED_RULES);
	frame6(&p, "a40:1::");
	expect("IPv6 starting with 10.64.0.1, no IPv6 rule", &p, REASON_NO_RULE);
	frame6(&p, "fd00:64::8");
	expect("IPv6, no IPv6 rule", &p, REASON_NO_RULE);
}
