/*
 * test_pipeline.c: the real pipeline, loaded into a test instance, run with
 * BPF_PROG_TEST_RUN on crafted frames: packet -> verdict + reason.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/pkt_cls.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "pipeline.h"
#include "status.h"
#include "counts.h"
#include "policy.h"
#include "reasons.h"
#include "pkt.h"
#include "pipeline_run.h"

static const char *const rules[] = {
	"allow udp 10.42.0.53 port 53",	    "allow tcp 10.42.0.53 port 53",
	"allow udp fd00:53::53 port 53",    "allow tcp 203.0.113.1 port 443",
	"allow tcp 198.51.100.42 port 443", "allow tcp 2001:db8:443::/48 port 443",
	"allow tcp 10.42.7.11 port 8080",   "allow udp 10.42.7.11 port 9000-9002",
	"allow tcp fd00:7::11 port 8080",
};

static void install_instance(void)
{
	snprintf(inst, sizeof(inst), "bpftest%d", getpid());
	install_lines(rules, sizeof(rules) / sizeof(rules[0]));
}

enum l4 { L4_TCP, L4_UDP, L4_ICMP, L4_ICMP6 };

struct v4case {
	const char *name;
	const char *src, *dst;
	enum l4 l4;
	uint16_t dport;
	const char *opts; /* IPv4 option bytes */
	size_t optlen;
	uint16_t frag; /* flags and offset, host order */
	unsigned int want;
};

static const struct v4case v4cases[] = {
	{ "dns udp to resolver", "10.42.0.2", "10.42.0.53", L4_UDP, 53, NULL, 0, 0, REASON_RULE },
	{ "dns tcp to resolver", "10.42.0.2", "10.42.0.53", L4_TCP, 53, NULL, 0, 0, REASON_RULE },
	{ "dns to a non-resolver", "10.42.0.2", "10.42.0.99", L4_UDP, 53, NULL, 0, 0,
	  REASON_NO_RULE },
	{ "https update server", "10.42.0.2", "203.0.113.1", L4_TCP, 443, NULL, 0, 0, REASON_RULE },
	{ "https telemetry", "10.42.0.2", "198.51.100.42", L4_TCP, 443, NULL, 0, 0, REASON_RULE },
	{ "https unknown host", "10.42.0.2", "203.0.113.9", L4_TCP, 443, NULL, 0, 0,
	  REASON_NO_RULE },
	{ "snippet's wrong constant 203.19.1.1", "10.42.0.2", "203.19.1.1", L4_TCP, 443, NULL, 0, 0,
	  REASON_NO_RULE },
	{ "log collector", "10.42.0.2", "10.42.7.11", L4_TCP, 8080, NULL, 0, 0, REASON_RULE },
	{ "log collector wrong port", "10.42.0.2", "10.42.7.11", L4_TCP, 8081, NULL, 0, 0,
	  REASON_NO_RULE },
	{ "log collector over udp", "10.42.0.2", "10.42.7.11", L4_UDP, 8080, NULL, 0, 0,
	  REASON_NO_RULE },
	{ "wrong host same port", "10.42.0.2", "10.42.7.12", L4_TCP, 8080, NULL, 0, 0,
	  REASON_NO_RULE },
	{ "udp range start", "10.42.0.2", "10.42.7.11", L4_UDP, 9000, NULL, 0, 0, REASON_RULE },
	{ "udp range end", "10.42.0.2", "10.42.7.11", L4_UDP, 9002, NULL, 0, 0, REASON_RULE },
	{ "udp past range", "10.42.0.2", "10.42.7.11", L4_UDP, 9003, NULL, 0, 0, REASON_NO_RULE },
	{ "https over udp/443 goes to internal", "10.42.0.2", "203.0.113.1", L4_UDP, 443, NULL, 0,
	  0, REASON_NO_RULE },
	{ "spoofed source", "10.42.0.3", "10.42.7.11", L4_TCP, 8080, NULL, 0, 0, REASON_SPOOFED },
	{ "spoofed source to resolver (reflection)", "192.0.2.7", "10.42.0.53", L4_UDP, 53, NULL, 0,
	  0, REASON_SPOOFED },
	{ "icmp", "10.42.0.2", "10.42.7.11", L4_ICMP, 0, NULL, 0, 0, REASON_L4_PROTO },
	{ "first fragment", "10.42.0.2", "10.42.7.11", L4_TCP, 8080, NULL, 0, 0x2000,
	  REASON_FRAGMENT },
	{ "non-first fragment", "10.42.0.2", "10.42.7.11", L4_TCP, 8080, NULL, 0, 0x0010,
	  REASON_FRAGMENT },
	{ "last fragment", "10.42.0.2", "10.42.7.11", L4_UDP, 9000, NULL, 0, 0x00b9,
	  REASON_FRAGMENT },
	{ "don't-fragment is fine", "10.42.0.2", "10.42.7.11", L4_TCP, 8080, NULL, 0, 0x4000,
	  REASON_RULE },
	{ "options: NOPs and a timestamp", "10.42.0.2", "10.42.7.11", L4_TCP, 8080,
	  "\x01\x01\x44\x06\x05\x00\x00\x00", 8, 0, REASON_RULE },
	{ "options: end of list", "10.42.0.2", "10.42.7.11", L4_TCP, 8080, "\x00\x00\x00\x00", 4, 0,
	  REASON_RULE },
	{ "options: loose source route", "10.42.0.2", "10.42.7.11", L4_TCP, 8080,
	  "\x01\x83\x07\x04\x0a\x2a\x07\x0c", 8, 0, REASON_SOURCE_ROUTE },
	{ "options: strict source route", "10.42.0.2", "10.42.7.11", L4_TCP, 8080,
	  "\x89\x07\x04\x0a\x2a\x07\x0c\x00", 8, 0, REASON_SOURCE_ROUTE },
	{ "options: length 1", "10.42.0.2", "10.42.7.11", L4_TCP, 8080, "\x44\x01\x00\x00", 4, 0,
	  REASON_MALFORMED },
	{ "options: length past the header", "10.42.0.2", "10.42.7.11", L4_TCP, 8080,
	  "\x44\x09\x00\x00", 4, 0, REASON_MALFORMED },
};

static const uint8_t l4proto[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6 };

/* the transport header of a case: a TCP SYN, UDP, 8 bytes of ICMP, an ICMPv6 message of 24 */
static void build_l4(struct pkt_buf *p, enum l4 l4, uint16_t dport)
{
	if (l4 == L4_TCP) {
		pkt_tcp(p,
			&(struct pkt_tcp){ .sport = TEST_SPORT, .dport = dport, .flags = TH_SYN });
	} else if (l4 == L4_UDP) {
		pkt_udp(p, TEST_SPORT, dport);
	} else if (l4 == L4_ICMP6) {
		pkt_icmp6(p, dport);
		pkt_zeros(p, dport == 133 ? 4 : 20); /* a router solicitation has no target */
	} else {
		pkt_zeros(p, 8);
	}
}

static void build_v4(struct pkt_buf *p, const struct v4case *c)
{
	pkt_reset(p);
	pkt_eth(p, NULL, NULL, ETH_P_IP);
	pkt_ipv4(p, &(struct pkt_ip4){ .src = ADDR(c->src),
				       .dst = ADDR(c->dst),
				       .proto = l4proto[c->l4],
				       .frag_off = c->frag,
				       .opts = c->opts,
				       .optlen = c->optlen });
	build_l4(p, c->l4, c->dport);
	cr_assert_eq(pkt_finish(p), 0, "%s: the frame", c->name);
}

TestSuite(pipeline, .init = install_instance, .fini = remove_instance);

Test(pipeline, ipv4_table)
{
	FRAME(p);

	for (size_t i = 0; i < sizeof(v4cases) / sizeof(v4cases[0]); i++) {
		build_v4(&p, &v4cases[i]);
		expect(v4cases[i].name, &p, v4cases[i].want);
	}
}

/* IPv6 frames: a list of extension headers between the IPv6 header and L4 */
struct v6case {
	const char *name;
	const char *src, *dst;
	const char *exts; /* h hop-by-hop, d dest opts, r routing (0 left), R routing (1 left),
			     a atomic fragment, F first fragment, n non-first fragment */
	enum l4 l4;
	uint16_t dport; /* ICMPv6: the type */
	uint8_t hop_limit;
	unsigned int want;
};

static const struct v6case v6cases[] = {
	{ "dns udp to resolver", "fd00:42::2", "fd00:53::53", "", L4_UDP, 53, 64, REASON_RULE },
	{ "dns to a non-resolver", "fd00:42::2", "fd00:53::54", "", L4_UDP, 53, 64,
	  REASON_NO_RULE },
	{ "https prefix", "fd00:42::2", "2001:db8:443:1::5", "", L4_TCP, 443, 64, REASON_RULE },
	{ "https outside prefix", "fd00:42::2", "2001:db8:444::5", "", L4_TCP, 443, 64,
	  REASON_NO_RULE },
	{ "internal", "fd00:42::2", "fd00:7::11", "", L4_TCP, 8080, 64, REASON_RULE },
	{ "hop-by-hop, dest opts, routing with 0 left", "fd00:42::2", "fd00:7::11", "hdr", L4_TCP,
	  8080, 64, REASON_RULE },
	{ "routing header with segments left", "fd00:42::2", "fd00:7::11", "R", L4_TCP, 8080, 64,
	  REASON_SOURCE_ROUTE },
	{ "hop-by-hop not first", "fd00:42::2", "fd00:7::11", "dh", L4_TCP, 8080, 64,
	  REASON_MALFORMED },
	{ "atomic fragment is judged whole", "fd00:42::2", "fd00:7::11", "a", L4_TCP, 8080, 64,
	  REASON_RULE },
	{ "first fragment with the whole chain", "fd00:42::2", "fd00:7::11", "dF", L4_TCP, 8080, 64,
	  REASON_FRAGMENT },
	{ "non-first fragment", "fd00:42::2", "fd00:7::11", "n", L4_TCP, 8080, 64,
	  REASON_FRAGMENT },
	{ "mapped IPv4 destination", "fd00:42::2", "::ffff:10.42.7.11", "", L4_TCP, 8080, 64,
	  REASON_MAPPED_DST },
	{ "spoofed source", "fd00:42::3", "fd00:7::11", "", L4_TCP, 8080, 64, REASON_SPOOFED },
	{ "neighbour solicitation", "fe80::2", "ff02::1:ff00:1", "", L4_ICMP6, 135, 255,
	  REASON_ND },
	{ "neighbour solicitation for DAD", "::", "ff02::1:ff00:2", "", L4_ICMP6, 135, 255,
	  REASON_ND },
	{ "neighbour advertisement", "fd00:42::2", "fe80::1", "", L4_ICMP6, 136, 255, REASON_ND },
	{ "router solicitation", "fe80::2", "ff02::2", "", L4_ICMP6, 133, 255, REASON_ND },
	{ "ND with hop limit below 255", "fe80::2", "ff02::1:ff00:1", "", L4_ICMP6, 135, 64,
	  REASON_ND_DENIED },
	{ "router advertisement from the sandbox", "fe80::2", "ff02::1", "", L4_ICMP6, 134, 255,
	  REASON_L4_PROTO },
	{ "echo request", "fd00:42::2", "fd00:7::11", "", L4_ICMP6, 128, 64, REASON_L4_PROTO },
	{ "ND from a foreign address", "fe80::99", "ff02::1:ff00:1", "", L4_ICMP6, 135, 255,
	  REASON_SPOOFED },
	{ "neighbour solicitation to a global address", "fd00:42::2", "2001:db8::99", "", L4_ICMP6,
	  135, 255, REASON_ND_DENIED },
	{ "neighbour solicitation to a link-local address", "fe80::2", "fe80::1", "", L4_ICMP6, 135,
	  255, REASON_ND },
	{ "neighbour advertisement from ::", "::", "ff02::1", "", L4_ICMP6, 136, 255,
	  REASON_SPOOFED },
	{ "router solicitation from ::", "::", "ff02::2", "", L4_ICMP6, 133, 255, REASON_ND },
	{ "ND after an extension header", "fe80::2", "ff02::1:ff00:1", "d", L4_ICMP6, 135, 255,
	  REASON_ND_DENIED },
	{ "TCP from ::", "::", "fd00:7::11", "", L4_TCP, 8080, 64, REASON_SPOOFED },
};

static void build_v6(struct pkt_buf *p, const struct v6case *c)
{
	size_t n = strlen(c->exts);
	uint8_t types[8];

	for (size_t i = 0; i < n; i++) {
		char e = c->exts[i];

		types[i] = e == 'h'		  ? IPPROTO_HOPOPTS :
			   e == 'd'		  ? IPPROTO_DSTOPTS :
			   (e == 'r' || e == 'R') ? IPPROTO_ROUTING :
						    IPPROTO_FRAGMENT;
	}
	pkt_reset(p);
	pkt_eth(p, NULL, NULL, ETH_P_IPV6);
	pkt_ipv6(p, &(struct pkt_ip6){ .src = ADDR(c->src),
				       .dst = ADDR(c->dst),
				       .next = n ? types[0] : l4proto[c->l4],
				       .hop_limit = c->hop_limit });
	for (size_t i = 0; i < n; i++) {
		uint8_t next = i + 1 < n ? types[i + 1] : l4proto[c->l4];
		char e = c->exts[i];

		if (e == 'a' || e == 'F' || e == 'n')
			pkt_frag6(p, next, e == 'n' ? 100 : 0, e == 'F');
		else
			pkt_ext6(p, next, e == 'R');
	}
	build_l4(p, c->l4, c->dport);
	cr_assert_eq(pkt_finish(p), 0, "%s: the frame", c->name);
}

Test(pipeline, ipv6_table)
{
	FRAME(p);

	for (size_t i = 0; i < sizeof(v6cases) / sizeof(v6cases[0]); i++) {
		build_v6(&p, &v6cases[i]);
		expect(v6cases[i].name, &p, v6cases[i].want);
	}
}

/* each allowed packet counts for the rule that let it through */
Test(pipeline, rule_counters)
{
	const struct v4case c = { "v4", "10.42.0.2", "10.42.7.11", L4_TCP, 8080, NULL,
				  0,	0,	     REASON_RULE };
	int fd = pins_get(inst, "rule_counts");
	__u32 rule = 6; /* "allow tcp 10.42.7.11 port 8080", the seventh line */
	struct pkt_count before, after;
	FRAME(p);

	cr_assert_geq(fd, 0, "rule_counts is not pinned");
	close(fd);
	cr_assert_str_eq(rules[rule], "allow tcp 10.42.7.11 port 8080");
	/* wherever the rule's hits are kept: rule_counts or its entries (counts.h) */
	counts_rule_total(inst, rule, &before);
	build_v4(&p, &c);
	expect("allowed", &p, REASON_RULE);
	expect("allowed again", &p, REASON_RULE);
	counts_rule_total(inst, rule, &after);
	/* expect() runs each at tc and at XDP: 4 packets */
	cr_assert_eq(after.packets - before.packets, 4, "rule 6 counted %llu packets, want 4",
		     (unsigned long long)(after.packets - before.packets));
	cr_assert_eq(after.bytes - before.bytes, 4 * p.len, "rule 6 counted %llu bytes, want %zu",
		     (unsigned long long)(after.bytes - before.bytes), 4 * p.len);
}

/* rule 0's packets as `ironclaw-pipe rules` shows them (its counters and what was carried) */
static unsigned long long rules_shown_packets(void)
{
	unsigned long long id = ~0ULL, packets = 0;
	struct diag d = {};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	cr_assert_eq(status_rules(inst, f, false, &d), 0);
	fclose(f);
	/* a header line, then "ID STAGE PACKETS BYTES  FILE:LINE: TEXT" per rule */
	for (char *l = strchr(text, '\n'); l && sscanf(l + 1, "%llu %*s %llu", &id, &packets) == 2;
	     l = strchr(l + 1, '\n'))
		if (id == 0)
			break;
	cr_assert_eq(id, 0, "rule 0 not listed:\n%s", text);
	free(text);
	return packets;
}

/*
 * A stage with more entries than it carries as read-only data asks its hash
 * map: a hit counts in the rule's entry, which `rules` reads, and the next
 * install carries it over to the same rule.
 */
Test(pipeline, rule_counters_of_a_hashed_stage)
{
	static const char *const many[] = { "allow udp 10.42.7.11 port 9000-9019",
					    "allow tcp 10.42.7.11 port 8080" };
	const struct v4case c = { "port 9005", "10.42.0.2", "10.42.7.11", L4_UDP, 9005, NULL,
				  0,	       0,	    REASON_RULE };
	struct pkt_count before, after;
	FRAME(p);

	_Static_assert(20 > STAGE_BAKED_MAX, "more entries than a stage bakes");
	install_lines(many, 2);
	counts_rule_total(inst, 0, &before);
	build_v4(&p, &c);
	expect("allowed", &p, REASON_RULE); /* at tc and at XDP */
	counts_rule_total(inst, 0, &after);
	cr_assert_eq(after.packets - before.packets, 2, "rule 0 counted %llu packets, want 2",
		     (unsigned long long)(after.packets - before.packets));
	cr_assert_eq(after.bytes - before.bytes, 2 * p.len, "rule 0 counted %llu bytes, want %zu",
		     (unsigned long long)(after.bytes - before.bytes), 2 * p.len);
	cr_assert_eq(rules_shown_packets(), after.packets);
	/* the 8-byte key of rules4 tells its fields apart: port, protocol, address */
	{
		static const struct v4case near[] = {
			{ "past the range", "10.42.0.2", "10.42.7.11", L4_UDP, 9020, NULL, 0, 0,
			  REASON_NO_RULE },
			{ "tcp to a udp port", "10.42.0.2", "10.42.7.11", L4_TCP, 9005, NULL, 0, 0,
			  REASON_NO_RULE },
			{ "another address", "10.42.0.2", "10.42.7.12", L4_UDP, 9005, NULL, 0, 0,
			  REASON_NO_RULE },
			{ "the other rule", "10.42.0.2", "10.42.7.11", L4_TCP, 8080, NULL, 0, 0,
			  REASON_RULE },
		};

		for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
			FRAME(q);

			build_v4(&q, &near[i]);
			expect(near[i].name, &q, near[i].want);
		}
	}
	install_lines(many, 2);
	cr_assert_eq(rules_shown_packets(), after.packets, "the next install lost rule 0's hits");
	install_lines(rules, sizeof(rules) / sizeof(rules[0]));
}

/*
 * A few single source addresses are compared in the generation's settings;
 * more addresses go to the sources trie: both are checked.
 */
Test(pipeline, sources_in_settings_and_in_the_trie)
{
	static const char *const many[] = { "10.42.0.2", "fd00:42::2", "fe80::2",
					    "10.9.9.1",	 "10.9.9.2",   "10.42.1.5" };
	static const struct {
		const char *src;
		unsigned int want;
	} cases[] = {
		{ "10.42.0.2", REASON_RULE },	 { "10.9.9.1", REASON_RULE },
		{ "10.9.9.2", REASON_RULE },	 { "10.42.1.5", REASON_RULE },
		{ "10.42.1.6", REASON_SPOOFED }, { "10.42.0.3", REASON_SPOOFED },
	};

	install_with_sources(rules, sizeof(rules) / sizeof(rules[0]), many, 6);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct v4case c = {
			cases[i].src, cases[i].src, "10.42.7.11", L4_TCP, 8080, NULL, 0, 0,
			cases[i].want
		};
		FRAME(p);

		build_v4(&p, &c);
		expect(cases[i].src, &p, cases[i].want);
	}
	/* back to three single addresses: no trie */
	install_lines(rules, sizeof(rules) / sizeof(rules[0]));
	{
		const struct v4case c = { "v4", "10.9.9.2", "10.42.7.11",  L4_TCP, 8080, NULL,
					  0,	0,	    REASON_SPOOFED };
		FRAME(p);

		build_v4(&p, &c);
		expect("a source of the profile before", &p, REASON_SPOOFED);
	}
}

/* frames from these sources to the log collector get these reasons */
static void expect_sources(const char *what, const char *const *srcs, const unsigned int *want,
			   size_t n)
{
	char name[128];

	for (size_t i = 0; i < n; i++) {
		const struct v4case c = { srcs[i], srcs[i], "10.42.7.11", L4_TCP, 8080, NULL,
					  0,	   0,	    want[i] };
		FRAME(p);

		build_v4(&p, &c);
		snprintf(name, sizeof(name), "%s: from %s", what, srcs[i]);
		expect(name, &p, want[i]);
	}
}

/*
 * A source is one address of the sandbox's own: a prefix would let it send as
 * its neighbours on a shared subnet. An install with one is refused, and the
 * sources in force stay as they were.
 */
Test(pipeline, a_source_prefix_is_refused)
{
	static const char *const with_prefix[] = { "10.42.0.2", "10.42.0.0/24" };
	static const char *const srcs[] = { "10.42.0.1", "10.42.0.99", "10.42.0.2" };
	static const unsigned int want[] = { REASON_SPOOFED, REASON_SPOOFED, REASON_RULE };
	struct diag d = {};
	int err;

	err = try_install_with_sources(rules, sizeof(rules) / sizeof(rules[0]), with_prefix, 2, &d);
	cr_expect_eq(err, -EINVAL, "an install with the source 10.42.0.0/24: %d, want -EINVAL",
		     err);
	cr_expect(d.nr == 1 && strstr(d.msgs[0], "10.42.0.0/24: a source is one address of the "
						 "sandbox's own"),
		  "the refusal says: %s", d.nr ? d.msgs[0] : "(nothing)");
	diag_free(&d);
	expect_sources("after a refused prefix", srcs, want, 3);
}

/*
 * The sources trie counts an entry only as one whole address: a prefix found
 * in it (a loader before prefixes were refused put them there) makes none of
 * its addresses the sandbox's.
 */
Test(pipeline, a_prefix_in_the_trie_is_no_source)
{
	static const char *const many[] = { "10.42.0.2", "fd00:42::2", "fe80::2", "10.9.9.1",
					    "10.9.9.2" };
	static const char *const srcs[] = { "10.42.0.1", "10.42.0.99", "10.42.0.2", "10.9.9.2" };
	static const unsigned int want[] = { REASON_SPOOFED, REASON_SPOOFED, REASON_RULE,
					     REASON_RULE };
	struct source_key k = { .prefixlen = SOURCE_LPM_FIXED_BITS + 24,
				.family = AF_INET,
				.addr = { 10, 42, 0, 0 } };
	__u32 zero = 0, ctlw, one = 1;
	int ctl, fd;

	install_with_sources(rules, sizeof(rules) / sizeof(rules[0]), many, 5);
	ctl = pins_get(inst, "ctl");
	fd = pins_get(inst, "sources");
	cr_assert(ctl >= 0 && fd >= 0, "the ctl or sources map is not pinned");
	cr_assert_eq(bpf_map_lookup_elem(ctl, &zero, &ctlw), 0);
	k.gen = ctlw & CTL_GEN_MASK;
	cr_assert_eq(bpf_map_update_elem(fd, &k, &one, BPF_ANY), 0, "adding 10.42.0.0/24: %s",
		     strerror(errno));
	close(ctl);
	close(fd);
	expect_sources("a prefix in the trie", srcs, want, 4);
}

/*
 * A test run that repeats one frame at XDP keeps the metadata area of the
 * run before: the pipeline reuses it (the bench repeats millions of times).
 */
Test(pipeline, xdp_frame_repeated)
{
	const struct v4case c = { "v4", "10.42.0.2", "10.42.7.11", L4_TCP, 8080, NULL,
				  0,	0,	     REASON_RULE };
	int fd = pins_get(inst, "dispatch_xdp");
	FRAME(p);

	cr_assert_geq(fd, 0);
	build_v4(&p, &c);
	{
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p.b, .data_size_in = p.len,
			    .repeat = 5);

		cr_assert_eq(bpf_prog_test_run_opts(fd, &opts), 0);
		cr_expect_eq(opts.retval, XDP_PASS, "an allowed frame run 5 times got %u",
			     opts.retval);
	}
	close(fd);
}

/* ND is a way out of the sandbox too: only small messages pass */
Test(pipeline, neighbour_discovery_with_a_payload)
{
	FRAME(p);

	pkt_eth(&p, NULL, NULL, ETH_P_IPV6);
	pkt_ipv6(&p, &(struct pkt_ip6){ .src = ADDR("fe80::2"),
					.dst = ADDR("ff02::1:ff00:1"),
					.next = IPPROTO_ICMPV6,
					.hop_limit = 255 });
	pkt_icmp6(&p, 135);
	pkt_zeros(&p, 20 + 8); /* a source link-layer address option: 32 bytes in all */
	cr_assert_eq(pkt_finish(&p), 0);
	expect("NS with one option", &p, REASON_ND);
	pkt_zeros(&p, 480);
	cr_assert_eq(pkt_finish(&p), 0);
	expect("NS carrying 480 more bytes", &p, REASON_ND_DENIED);
}

/* whatever else is wrong, a forged source is what the packet is counted as */
Test(pipeline, forged_source_first)
{
	const struct v4case ok = { "v4", "10.42.0.9", "10.42.7.11",  L4_TCP, 8080, NULL,
				   0,	 0,	      REASON_SPOOFED };
	FRAME(p);

	build_v4(&p, &ok);
	p.b[ETH_HLEN] = 0x44; /* IHL 4 */
	expect("IHL < 5 from a forged source", &p, REASON_SPOOFED);

	build_v4(&p, &ok);
	p.b[ETH_HLEN + 6] = 0x20; /* more fragments */
	expect("fragment from a forged source", &p, REASON_SPOOFED);

	pkt_reset(&p);
	pkt_eth(&p, NULL, NULL, ETH_P_IPV6);
	pkt_ipv6(&p, &(struct pkt_ip6){ .src = ADDR("fd00:42::9"),
					.dst = ADDR("fd00:7::11"),
					.next = 50 /* ESP */ });
	pkt_zeros(&p, 24);
	cr_assert_eq(pkt_finish(&p), 0);
	expect("ESP from a forged source", &p, REASON_SPOOFED);
}

/* only the datagram is judged: bytes after its IP length are not a header */
Test(pipeline, bytes_past_the_datagram)
{
	const struct v4case c = { "v4", "10.42.0.2", "10.42.7.11", L4_TCP, 8080, NULL,
				  0,	0,	     REASON_RULE };
	FRAME(p);

	build_v4(&p, &c);
	p.b[ETH_HLEN + 2] = 0;
	p.b[ETH_HLEN + 3] = 20; /* the IPv4 datagram ends where TCP would start */
	expect("TCP header after the end of the datagram", &p, REASON_TRUNCATED);
}

/* cuts whose IP length says the datagram really ends there: the inner checks decide */
Test(pipeline, short_datagrams_at_every_offset)
{
	const struct v4case v4 = { "v4",   "10.42.0.2", "10.42.7.11",
				   L4_TCP, 8080,	"\x01\x01\x01\x00",
				   4,	   0,		REASON_RULE };
	const struct v6case v6 = { "v6",   "fd00:42::2", "fd00:7::11", "hd",
				   L4_TCP, 8080,	 64,	       REASON_RULE };
	FRAME(full);
	FRAME(cut);

	for (int fam = 0; fam < 2; fam++) {
		size_t hdr = ETH_HLEN + (fam ? 40 : 20);

		if (fam == 0)
			build_v4(&full, &v4);
		else
			build_v6(&full, &v6);
		for (size_t len = hdr; len < full.len; len++) {
			uint32_t ret;
			unsigned int got;

			if (fam == 0)
				build_v4(&cut, &v4);
			else
				build_v6(&cut, &v6);
			cut.len = len;
			cr_assert_eq(pkt_finish(&cut), 0);
			run(&cut, &ret, &got);
			cr_expect(got == REASON_TRUNCATED || got == REASON_MALFORMED,
				  "%s datagram of %zu bytes: reason %s", fam ? "IPv6" : "IPv4",
				  len - ETH_HLEN, reason_name(got));
			cr_expect_eq(ret, DENY, "%s datagram of %zu bytes passed",
				     fam ? "IPv6" : "IPv4", len - ETH_HLEN);
		}
	}
}

/* RFC 7112: a first fragment must hold the chain up to the transport header */
Test(pipeline, ipv6_first_fragment_without_transport_header)
{
	FRAME(p);

	pkt_eth(&p, NULL, NULL, ETH_P_IPV6);
	pkt_ipv6(&p, &(struct pkt_ip6){ .src = ADDR("fd00:42::2"),
					.dst = ADDR("fd00:7::11"),
					.next = IPPROTO_FRAGMENT });
	pkt_frag6(&p, IPPROTO_DSTOPTS, 0, 1);
	pkt_ext6(&p, IPPROTO_TCP, 0);
	cr_assert_eq(pkt_finish(&p), 0); /* ends where the TCP header should start */
	expect("first fragment, chain cut before TCP", &p, REASON_FRAG_CHAIN);

	pkt_reset(&p);
	pkt_eth(&p, NULL, NULL, ETH_P_IPV6);
	pkt_ipv6(&p, &(struct pkt_ip6){ .src = ADDR("fd00:42::2"),
					.dst = ADDR("fd00:7::11"),
					.next = IPPROTO_FRAGMENT });
	pkt_frag6(&p, IPPROTO_TCP, 0, 1);
	pkt_zeros(&p, 10); /* half a TCP header */
	cr_assert_eq(pkt_finish(&p), 0);
	expect("first fragment, half a TCP header", &p, REASON_FRAG_CHAIN);
}

/* every cut of a valid frame short of its end is denied as truncated */
Test(pipeline, truncated_at_every_offset)
{
	FRAME(full);
	FRAME(cut);
	const struct v4case v4 = { "v4",   "10.42.0.2", "10.42.7.11",
				   L4_TCP, 8080,	"\x01\x01\x01\x00",
				   4,	   0,		REASON_RULE };
	const struct v6case v6 = { "v6",   "fd00:42::2", "fd00:7::11", "hd",
				   L4_TCP, 8080,	 64,	       REASON_RULE };

	for (int fam = 0; fam < 2; fam++) {
		if (fam == 0)
			build_v4(&full, &v4);
		else
			build_v6(&full, &v6);
		expect("the whole frame", &full, REASON_RULE);
		/*
		 * BPF_PROG_TEST_RUN refuses an IPv4 frame shorter than Ethernet + 20
		 * and an IPv6 one shorter than Ethernet + 40 (EINVAL); shorter cuts
		 * are sent from an AF_PACKET socket in the end-to-end tests.
		 */
		for (size_t len = ETH_HLEN + (fam ? 40 : 20); len < full.len; len++) {
			char name[64];

			if (fam == 0)
				build_v4(&cut, &v4);
			else
				build_v6(&cut, &v6);
			cut.len = len;
			snprintf(name, sizeof(name), "%s cut at %zu of %zu", fam ? "IPv6" : "IPv4",
				 len, full.len);
			expect(name, &cut, REASON_TRUNCATED);
		}
	}
}

Test(pipeline, malformed_headers)
{
	FRAME(p);
	const struct v4case ok = { "v4", "10.42.0.2", "10.42.7.11", L4_TCP, 8080, NULL,
				   0,	 0,	      REASON_RULE };

	build_v4(&p, &ok);
	p.b[ETH_HLEN] = 0x44; /* IHL 4 */
	expect("IHL < 5", &p, REASON_MALFORMED);

	build_v4(&p, &ok);
	p.b[ETH_HLEN + 2] = 0;
	p.b[ETH_HLEN + 3] = 16; /* total length shorter than the header */
	expect("total length < IHL", &p, REASON_MALFORMED);

	build_v4(&p, &ok);
	p.b[ETH_HLEN] = 0x65; /* version 6 in an IPv4 frame */
	expect("IPv4 frame with version 6", &p, REASON_MALFORMED);

	build_v4(&p, &ok);
	p.b[ETH_HLEN + 20 + 12] = 4 << 4; /* TCP data offset 4 */
	expect("TCP data offset < 5", &p, REASON_MALFORMED);
}

Test(pipeline, link_layer)
{
	FRAME(p);

	pkt_eth(&p, NULL, NULL, ETH_P_ARP);
	pkt_arp(&p, ADDR("10.42.0.2"), ADDR("10.42.0.1"));
	cr_assert_eq(pkt_finish(&p), 0);
	expect("ARP from the sandbox", &p, REASON_ARP);

	pkt_reset(&p);
	pkt_eth(&p, NULL, NULL, ETH_P_ARP);
	pkt_arp(&p, ADDR("10.42.0.9"), ADDR("10.42.0.1"));
	cr_assert_eq(pkt_finish(&p), 0);
	expect("ARP claiming another address", &p, REASON_SPOOFED);

	pkt_reset(&p);
	pkt_eth(&p, NULL, NULL, ETH_P_ARP);
	pkt_zeros(&p, 10);
	cr_assert_eq(pkt_finish(&p), 0);
	expect("ARP cut short", &p, REASON_TRUNCATED);

	pkt_reset(&p);
	pkt_eth(&p, NULL, NULL, ETH_P_8021Q);
	pkt_vlan(&p, 5, ETH_P_IP);
	pkt_ipv4(&p, &(struct pkt_ip4){ .src = ADDR("10.42.0.2"),
					.dst = ADDR("10.42.7.11"),
					.proto = IPPROTO_TCP });
	pkt_tcp(&p, &(struct pkt_tcp){ .sport = TEST_SPORT, .dport = 8080, .flags = TH_SYN });
	cr_assert_eq(pkt_finish(&p), 0);
	expect("802.1Q tag in the frame", &p, REASON_VLAN);

	pkt_reset(&p);
	pkt_eth(&p, NULL, NULL, ETH_P_8021AD);
	pkt_vlan(&p, 5, ETH_P_IP);
	pkt_zeros(&p, 40);
	cr_assert_eq(pkt_finish(&p), 0);
	expect("802.1ad tag in the frame", &p, REASON_VLAN);

	pkt_reset(&p);
	pkt_eth(&p, NULL, NULL, 0x88cc); /* LLDP */
	pkt_zeros(&p, 32);
	cr_assert_eq(pkt_finish(&p), 0);
	expect("LLDP", &p, REASON_L3_PROTO);

	pkt_reset(&p);
	pkt_eth(&p, NULL, NULL, ETH_P_IPV6);
	pkt_ipv6(&p, &(struct pkt_ip6){ .src = ADDR("fd00:42::2"),
					.dst = ADDR("fd00:7::11"),
					.next = IPPROTO_TCP });
	pkt_zeros(&p, 20);
	cr_assert_eq(pkt_finish(&p), 0);
	p.b[ETH_HLEN + 5] += 8; /* payload length past the end of the frame */
	expect("IPv6 payload length past the frame", &p, REASON_TRUNCATED);
}

Test(pipeline, empty_slot_fails_closed)
{
	const struct v4case c = { "v4", "10.42.0.2", "10.42.7.11", L4_TCP, 8080, NULL,
				  0,	0,	     REASON_RULE };
	int stages = pins_get(inst, "stages_tc"), ctl = pins_get(inst, "ctl");
	int xdp = pins_get(inst, "stages_xdp");
	__u32 zero = 0, gen, idx;
	FRAME(p);

	cr_assert_geq(stages, 0);
	cr_assert_geq(xdp, 0);
	cr_assert_geq(ctl, 0);
	cr_assert_eq(bpf_map_lookup_elem(ctl, &zero, &gen), 0);
	build_v4(&p, &c);
	expect("before", &p, REASON_RULE);
	idx = (gen & CTL_GEN_MASK) * STAGE_MAX_SLOTS + SLOT_INTERNAL;
	cr_assert_eq(bpf_map_delete_elem(stages, &idx), 0, "emptying the slot: %s",
		     strerror(errno));
	cr_assert_eq(bpf_map_delete_elem(xdp, &idx), 0, "emptying the XDP slot: %s",
		     strerror(errno));
	expect("internal stage's slot emptied", &p, REASON_NO_STAGE);
	close(stages);
	close(xdp);
	close(ctl);
}

Test(pipeline, no_stage_claims_the_class)
{
	const struct v4case c = { "v4", "10.42.0.2", "10.42.7.11", L4_TCP, 8080, NULL,
				  0,	0,	     REASON_RULE };
	int classes = pins_get(inst, "classes"), ctl = pins_get(inst, "ctl");
	struct class_value none = { 0 };
	__u32 zero = 0, gen, k;
	FRAME(p);

	cr_assert_geq(classes, 0);
	cr_assert_eq(bpf_map_lookup_elem(ctl, &zero, &gen), 0);
	k = CLASS_INDEX(gen & CTL_GEN_MASK, 0, 8080);
	cr_assert_eq(bpf_map_update_elem(classes, &k, &none, BPF_ANY), 0);
	build_v4(&p, &c);
	expect("tcp/8080 with no class for it", &p, REASON_NO_CLASS);
	close(classes);
	close(ctl);
}

Test(pipeline, blocked_denies_everything)
{
	const struct v4case c = { "v4", "10.42.0.2", "10.42.7.11", L4_TCP, 8080, NULL,
				  0,	0,	     REASON_RULE };
	struct diag d = {};
	FRAME(p);

	cr_assert_eq(pipeline_block(inst, false, &d), 0);
	build_v4(&p, &c);
	expect("allowed flow while blocked", &p, REASON_BLOCKED);
	pkt_reset(&p);
	pkt_eth(&p, NULL, NULL, ETH_P_ARP);
	pkt_arp(&p, ADDR("10.42.0.2"), ADDR("10.42.0.1"));
	cr_assert_eq(pkt_finish(&p), 0);
	expect("ARP while blocked", &p, REASON_BLOCKED);
	diag_free(&d);
}
