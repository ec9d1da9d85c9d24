/*
 * test_wide.c: prefixes and rules for every port at every stage, through the
 * real pipeline (BPF_PROG_TEST_RUN): any rule that covers a packet lets it
 * through (a /24 for port 443 hides no /8 for port 8080), the first covering
 * rule in the stages' order counts it, and a prefix or a rule for every port
 * never makes its addresses resolvers whose answers teach addresses.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/pkt_cls.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "learn.h"
#include "pipeline.h"
#include "counts.h"
#include "policy.h"
#include "reasons.h"
#include "pkt.h"
#include "pipeline_run.h"

static const char *const rules[] = {
	/* 0 */ "allow tcp 10.42.7.0/24 port 443",
	/* 1 */ "allow tcp 10.0.0.0/8 port 8080",
	/* 2 */ "allow tcp 10.42.0.0/16 port 8080",
	/* 3 */ "allow tcp 10.42.7.11 port 8080",
	/* 4 */ "allow tcp 10.42.9.0/24", /* every port */
	/* 5 */ "allow udp 10.50.0.0/16 port any",
	/* 6 */ "allow tcp 10.60.0.1",
	/* 7 */ "allow tcp 10.70.0.0/16 port 440-450", /* over internal, https, internal */
	/* 8 */ "allow udp 10.42.0.53 port 53",
	/* 9 */ "allow udp 10.99.0.0/16 port 53",
	/* 10 */ "allow udp 10.98.0.1",
	/* 11 */ "allow tcp name updates.example.corp port 443",
	/* 12 */ "allow tcp fd00:77::/32 port any",
};

static void install_instance(void)
{
	snprintf(inst, sizeof(inst), "bpfwide%d", getpid());
	install_lines(rules, sizeof(rules) / sizeof(rules[0]));
}

TestSuite(wide, .init = install_instance, .fini = remove_instance);

static void frame(struct pkt_buf *p, __u8 proto, const char *dst, __u16 dport)
{
	bool v6 = strchr(dst, ':') != NULL;

	pkt_reset(p);
	pkt_eth(p, NULL, NULL, v6 ? ETH_P_IPV6 : ETH_P_IP);
	if (v6)
		pkt_ipv6(p, &(struct pkt_ip6){
				    .src = ADDR("fd00:42::2"), .dst = ADDR(dst), .next = proto });
	else
		pkt_ipv4(p, &(struct pkt_ip4){
				    .src = ADDR("10.42.0.2"), .dst = ADDR(dst), .proto = proto });
	if (proto == IPPROTO_TCP)
		pkt_tcp(p,
			&(struct pkt_tcp){ .sport = TEST_SPORT, .dport = dport, .flags = TH_SYN });
	else
		pkt_udp(p, TEST_SPORT, dport);
	/* a resolver's port: a query, as the dns stage parses one while names are learned */
	if (proto == IPPROTO_UDP && dport == 53)
		pkt_dns_query(p, 0x1234, "updates.example.corp", 1);
	cr_assert_eq(pkt_finish(p), 0);
}

static const struct {
	const char *name;
	__u8 proto;
	const char *dst;
	__u16 dport;
	unsigned int want;
} cases[] = {
	/* a /24 for 443 (https's own trie) and a /8 for 8080 (wide_rules): each covers its own */
	{ "/24 at 443", IPPROTO_TCP, "10.42.7.20", 443, REASON_RULE },
	{ "/8 at 8080 beside a /24 at 443", IPPROTO_TCP, "10.42.7.20", 8080, REASON_RULE },
	{ "/8 at 8080, far from the /24", IPPROTO_TCP, "10.1.2.3", 8080, REASON_RULE },
	{ "/24 at 443 covers no other port", IPPROTO_TCP, "10.42.7.20", 444, REASON_NO_RULE },
	{ "/8 at 8080 covers no 443 outside the /24", IPPROTO_TCP, "10.1.2.3", 443,
	  REASON_NO_RULE },
	{ "outside the /8", IPPROTO_TCP, "11.0.0.1", 8080, REASON_NO_RULE },
	/* every port of a prefix, at each stage: internal, https, dns */
	{ "all ports: internal", IPPROTO_TCP, "10.42.9.9", 22, REASON_RULE },
	{ "all ports: https", IPPROTO_TCP, "10.42.9.9", 443, REASON_RULE },
	{ "all ports: tcp/53 to the dns stage", IPPROTO_TCP, "10.42.9.9", 53, REASON_RULE },
	{ "all ports: not udp", IPPROTO_UDP, "10.42.9.9", 22, REASON_NO_RULE },
	{ "port any: udp", IPPROTO_UDP, "10.50.3.4", 9999, REASON_RULE },
	{ "port any: udp/53, a query", IPPROTO_UDP, "10.50.3.4", 53, REASON_RULE },
	{ "port any: not tcp", IPPROTO_TCP, "10.50.3.4", 9999, REASON_NO_RULE },
	{ "one address, every port", IPPROTO_TCP, "10.60.0.1", 65535, REASON_RULE },
	{ "one address, every port: https", IPPROTO_TCP, "10.60.0.1", 443, REASON_RULE },
	{ "one address, not its neighbour", IPPROTO_TCP, "10.60.0.2", 443, REASON_NO_RULE },
	{ "ipv6 prefix, every port", IPPROTO_TCP, "fd00:77::5", 8443, REASON_RULE },
	{ "ipv6 prefix, https", IPPROTO_TCP, "fd00:77::5", 443, REASON_RULE },
	{ "ipv6 outside", IPPROTO_TCP, "fd00:78::5", 443, REASON_NO_RULE },
	/* a range over three stages */
	{ "range: 440 (internal)", IPPROTO_TCP, "10.70.1.1", 440, REASON_RULE },
	{ "range: 443 (https)", IPPROTO_TCP, "10.70.1.1", 443, REASON_RULE },
	{ "range: 450 (internal)", IPPROTO_TCP, "10.70.1.1", 450, REASON_RULE },
	{ "range: 451", IPPROTO_TCP, "10.70.1.1", 451, REASON_NO_RULE },
	/* the dns stage: a resolver, a prefix of port 53, an address of every port */
	{ "resolver", IPPROTO_UDP, "10.42.0.53", 53, REASON_RULE },
	{ "prefix of port 53", IPPROTO_UDP, "10.99.4.4", 53, REASON_RULE },
	{ "every port of an address: 53", IPPROTO_UDP, "10.98.0.1", 53, REASON_RULE },
	{ "no rule at 53", IPPROTO_UDP, "10.97.0.1", 53, REASON_NO_RULE },
};

Test(wide, any_rule_covers)
{
	FRAME(p);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		frame(&p, cases[i].proto, cases[i].dst, cases[i].dport);
		expect(cases[i].name, &p, cases[i].want);
	}
}

/* the rule's packets, wherever they are counted (counts.h) */
static __u64 rule_packets(__u32 rule)
{
	struct pkt_count c;

	counts_rule_total(inst, rule, &c);
	return c.packets;
}

/* the first covering rule in the stages' order counts: the port's before every port's */
Test(wide, the_most_specific_rule_counts)
{
	static const struct {
		const char *dst;
		__u16 dport;
		__u32 rule;
	} counted[] = {
		{ "10.42.7.11", 8080, 3 }, /* the address, not the /16 or the /8 */
		{ "10.42.8.1", 8080, 2 }, /* the /16, not the /8 */
		{ "10.43.0.1", 8080, 1 }, /* the /8 */
		{ "10.42.9.9", 8080, 2 }, /* the /16 for 8080 before the /24 for every port */
		{ "10.42.9.9", 8081, 4 }, /* the /24 for every port */
	};
	int fd = pins_get(inst, "rule_counts");
	FRAME(p);

	cr_assert_geq(fd, 0, "rule_counts is not pinned");
	for (size_t i = 0; i < sizeof(counted) / sizeof(counted[0]); i++) {
		__u64 before[sizeof(rules) / sizeof(rules[0])];

		for (__u32 r = 0; r < sizeof(rules) / sizeof(rules[0]); r++)
			before[r] = rule_packets(r);
		frame(&p, IPPROTO_TCP, counted[i].dst, counted[i].dport);
		expect(counted[i].dst, &p, REASON_RULE); /* at tc and at XDP */
		for (__u32 r = 0; r < sizeof(rules) / sizeof(rules[0]); r++)
			cr_assert_eq(rule_packets(r) - before[r], r == counted[i].rule ? 2 : 0,
				     "%s port %u: rule %u ('%s') counted %llu, want rule %u",
				     counted[i].dst, counted[i].dport, r, rules[r],
				     (unsigned long long)(rule_packets(r) - before[r]),
				     counted[i].rule);
	}
	close(fd);
}

/* only a rule for one address at port 53 makes a resolver: prefixes and every-port rules never */
Test(wide, a_prefix_is_never_a_resolver)
{
	struct learn_resolver_key k, next;
	int fd = pins_get(inst, "learn_resolvers");
	char text[64];
	int n = 0;

	cr_assert_geq(fd, 0, "learn_resolvers is not pinned");
	for (void *prev = NULL; !bpf_map_get_next_key(fd, prev, &next); prev = &k) {
		k = next;
		cr_assert_eq(k.family, AF_INET);
		inet_ntop(AF_INET, k.addr, text, sizeof(text));
		cr_assert_str_eq(text, "10.42.0.53", "%s is a resolver", text);
		n++;
	}
	cr_assert_eq(n, 1, "%d resolvers, want the one", n);
	close(fd);
}
