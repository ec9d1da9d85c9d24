/*
 * test_dns.c: the DNS stage of the real pipeline, loaded into a test instance,
 * run with BPF_PROG_TEST_RUN on crafted queries: query -> verdict + reason.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/pkt_cls.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "pipeline.h"
#include "counts.h"
#include "policy.h"
#include "reasons.h"
#include "dns_names.h"
#include "pkt.h"
#include "pipeline_run.h"
#include "dns_pkt.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* the rules of the test instance; the name rules count after the address rules */
static const char *const names_profile[] = {
	"allow udp 10.42.0.53 port 53",
	"allow tcp 10.42.0.53 port 53",
	"allow udp fd00:53::53 port 53",
	"allow tcp 10.42.7.11 port 8080",
	"allow dns log-collector.internal.corp",
	"allow dns *.internal.corp",
	"allow dns api.example",
	"allow dns *.svc.example",
};

#define NR_ADDRESS_RULES 4

static void setup(void)
{
	snprintf(inst, sizeof(inst), "dnstest%d", getpid());
	install_lines(names_profile, ARRAY_SIZE(names_profile));
}

/* Ethernet / IP / UDP (or TCP) to port 53 / the message; the UDP length covers it */
static void frame(struct pkt_buf *p, int v6, const char *dst, uint8_t proto,
		  const struct pkt_buf *m)
{
	cr_assert_eq(m->err, 0, "the message");
	pkt_reset(p);
	pkt_eth(p, NULL, NULL, v6 ? ETH_P_IPV6 : ETH_P_IP);
	if (v6)
		pkt_ipv6(p, &(struct pkt_ip6){
				    .src = ADDR("fd00:42::2"), .dst = ADDR(dst), .next = proto });
	else
		pkt_ipv4(p, &(struct pkt_ip4){
				    .src = ADDR("10.42.0.2"), .dst = ADDR(dst), .proto = proto });
	if (proto == IPPROTO_TCP) /* PSH ACK: a segment of the stream */
		pkt_tcp(p, &(struct pkt_tcp){
				   .sport = TEST_SPORT, .dport = 53, .flags = TH_PUSH | TH_ACK });
	else
		pkt_udp(p, TEST_SPORT, 53);
	pkt_bytes(p, m->b, m->len);
	cr_assert_eq(pkt_finish(p), 0, "the frame");
}

static void query_frame(struct pkt_buf *p, const struct pkt_buf *m)
{
	frame(p, 0, "10.42.0.53", IPPROTO_UDP, m);
}

TestSuite(dns, .init = setup, .fini = remove_instance);

struct name_case {
	const char *name;
	uint16_t qtype;
	unsigned int want;
};

static const struct name_case name_cases[] = {
	{ "log-collector.internal.corp", 1, REASON_RULE },
	{ "LOG-Collector.INTERNAL.Corp", 1, REASON_RULE },
	{ "foo.internal.corp", 28, REASON_RULE },
	{ "a.b.c.internal.corp", 1, REASON_RULE },
	{ "_http._tcp.internal.corp", 33, REASON_RULE },
	{ "x.INTERNAL.corp", 5, REASON_RULE },
	{ "internal.corp", 1, REASON_QNAME }, /* a wildcard needs one label more */
	{ "evilinternal.corp", 1, REASON_QNAME }, /* not on a label boundary */
	{ "x.evilinternal.corp", 1, REASON_QNAME },
	{ "internal.corp.attacker.example", 1, REASON_QNAME },
	{ "internal.corpx", 1, REASON_QNAME },
	{ "corp", 1, REASON_QNAME },
	{ "", 1, REASON_QNAME }, /* the root */
	{ "api.example", 1, REASON_RULE },
	{ "API.EXAMPLE", 28, REASON_RULE },
	{ "x.api.example", 1, REASON_QNAME }, /* an exact rule is exact */
	{ "pi.example", 1, REASON_QNAME },
	{ "svc.example", 1, REASON_QNAME },
	{ "db.svc.example", 1, REASON_RULE },
	{ "example", 1, REASON_QNAME },
	{ "secret-data-aGVsbG8.attacker.example", 1, REASON_QNAME },
	{ "log-collector.internal.corp", 16, REASON_DNS_QTYPE }, /* TXT */
	{ "log-collector.internal.corp", 255, REASON_DNS_QTYPE }, /* ANY */
	{ "log-collector.internal.corp", 15, REASON_DNS_QTYPE }, /* MX */
	{ "log-collector.internal.corp", 12, REASON_RULE }, /* PTR */
	{ "attacker.example", 16, REASON_DNS_QTYPE }, /* the type is judged first */
};

Test(dns, names)
{
	for (size_t i = 0; i < ARRAY_SIZE(name_cases); i++) {
		const struct name_case *c = &name_cases[i];
		FRAME(m);
		FRAME(p);
		char what[160];

		dns_query(&m, c->name, c->qtype);
		query_frame(&p, &m);
		snprintf(what, sizeof(what), "'%s' type %u", c->name, c->qtype);
		expect(what, &p, c->want);
	}
}

/* queries in other frames: IPv6, to another server, over TCP */
static const struct frame_case {
	const char *what;
	int v6;
	const char *dst;
	uint8_t proto;
	const char *name;
	uint16_t qtype;
	unsigned int want;
} frame_cases[] = {
	{ "v6 query for an allowed name", 1, "fd00:53::53", IPPROTO_UDP, "foo.internal.corp", 28,
	  REASON_RULE },
	{ "v6 query for another name", 1, "fd00:53::53", IPPROTO_UDP, "foo.attacker.example", 28,
	  REASON_QNAME },
	/* the resolver is judged before the name: an allowed name to another server is no_rule */
	{ "allowed name to a rogue resolver", 0, "10.42.0.99", IPPROTO_UDP,
	  "log-collector.internal.corp", 1, REASON_NO_RULE },
	{ "other name to a rogue resolver", 0, "10.42.0.99", IPPROTO_UDP, "attacker.example", 1,
	  REASON_NO_RULE },
	/* tcp/53 cannot be judged packet by packet: denied while names are checked */
	{ "TCP DNS to the resolver", 0, "10.42.0.53", IPPROTO_TCP, "log-collector.internal.corp", 1,
	  REASON_DNS_TCP },
	{ "TCP DNS to a rogue resolver", 0, "10.42.0.99", IPPROTO_TCP,
	  "log-collector.internal.corp", 1, REASON_NO_RULE },
};

Test(dns, frames)
{
	FRAME(m);
	FRAME(p);

	for (size_t i = 0; i < ARRAY_SIZE(frame_cases); i++) {
		const struct frame_case *c = &frame_cases[i];

		dns_query(&m, c->name, c->qtype);
		frame(&p, c->v6, c->dst, c->proto, &m);
		expect(c->what, &p, c->want);
	}
}

/* names at the limits: 253 characters, labels of 63 */
Test(dns, name_lengths)
{
	char name[400];
	FRAME(m);
	FRAME(p);

	/* 3 labels of 63 and one of 47: 63*3 + 47 + 3 dots = 239, + ".internal.corp" = 253 */
	for (int last = 47; last <= 48; last++) {
		dns_long_name(name, sizeof(name), 3, 63, "");
		memset(name + 192, 'q', last);
		strcpy(name + 192 + last, ".internal.corp");
		cr_assert_eq(strlen(name), 206 + last);
		dns_query(&m, name, 1);
		query_frame(&p, &m);
		expect(last == 47 ? "253 characters below *.internal.corp" : "254 characters", &p,
		       last == 47 ? REASON_RULE : REASON_DNS_NAME_LEN);
	}
	dns_long_name(name, sizeof(name), 3, 63, "");
	memset(name + 192, 'q', 44);
	strcpy(name + 236, ".attacker.example");
	cr_assert_eq(strlen(name), 253);
	dns_query(&m, name, 1);
	query_frame(&p, &m);
	expect("253 characters below attacker.example", &p, REASON_QNAME);

	dns_long_name(name, sizeof(name), 3, 63, "attacker.example");
	dns_query(&m, name, 1);
	query_frame(&p, &m);
	expect("tunnelling: 3 labels of 63 below attacker.example", &p, REASON_QNAME);

	dns_long_name(name, sizeof(name), 1, 63, "internal.corp");
	dns_query(&m, name, 1);
	query_frame(&p, &m);
	expect("a label of 63", &p, REASON_RULE);

	/* a label of 64: its length byte is 0x40, an extended label type on the wire */
	dns_long_name(name, sizeof(name), 1, 64, "internal.corp");
	dns_query(&m, name, 1);
	query_frame(&p, &m);
	expect("a label of 64", &p, REASON_DNS_NAME_LEN);

	dns_long_name(name, sizeof(name), 1, 191, "internal.corp");
	dns_query(&m, name, 1);
	query_frame(&p, &m);
	expect("a label of 191", &p, REASON_DNS_NAME_LEN);
}

/* a tunnel's pattern: many queries, each with long random labels below its own suffix */
Test(dns, tunnelling_pattern)
{
	for (int i = 1; i <= 4; i++) {
		char name[300];
		FRAME(m);
		FRAME(p);

		dns_long_name(name, sizeof(name), i, 50 + i, "t.attacker.example");
		dns_query(&m, name, i % 2 ? 1 : 28);
		query_frame(&p, &m);
		expect(name, &p, REASON_QNAME);
		dns_query(&m, name, 16); /* TXT, a tunnel's favourite */
		query_frame(&p, &m);
		expect(name, &p, REASON_DNS_QTYPE);
	}
}

struct raw_case {
	const char *name;
	void (*build)(struct pkt_buf *m);
	unsigned int want;
};

static void two_questions(struct pkt_buf *m)
{
	dns_hdr(m, 0x0100, 2, 0, 0, 0);
	pkt_dns_question(m, "log-collector.internal.corp", 1, 1);
	pkt_dns_question(m, "attacker.example", 1, 1);
}

static void no_question(struct pkt_buf *m)
{
	dns_hdr(m, 0x0100, 0, 0, 0, 0);
}

static void pointer_only(struct pkt_buf *m)
{
	dns_hdr(m, 0x0100, 1, 0, 0, 0);
	pkt_bytes(m, "\xc0\x0c\x00\x01\x00\x01", 6);
}

static void pointer_after_label(struct pkt_buf *m)
{
	dns_hdr(m, 0x0100, 1, 0, 0, 0);
	pkt_bytes(m,
		  "\x03"
		  "foo"
		  "\xc0\x0c\x00\x01\x00\x01",
		  10);
}

static void pointer_to_allowed(struct pkt_buf *m)
{
	/* the pointer aims at an allowed name placed after the question */
	dns_hdr(m, 0x0100, 1, 0, 0, 0);
	pkt_bytes(m,
		  "\x04"
		  "evil"
		  "\xc0\x17\x00\x01\x00\x01",
		  11);
	pkt_dns_name(m, "internal.corp");
}

static void answer_flag(struct pkt_buf *m)
{
	dns_hdr(m, 0x8180, 1, 0, 0, 0);
	pkt_dns_question(m, "log-collector.internal.corp", 1, 1);
}

static void opcode_update(struct pkt_buf *m)
{
	dns_hdr(m, 0x2800, 1, 0, 0, 0);
	pkt_dns_question(m, "log-collector.internal.corp", 1, 1);
}

static void with_answer(struct pkt_buf *m)
{
	dns_hdr(m, 0x0100, 1, 1, 0, 0);
	pkt_dns_question(m, "log-collector.internal.corp", 1, 1);
	pkt_bytes(m, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x2a\x07\x0b", 16);
}

static void with_authority(struct pkt_buf *m)
{
	dns_hdr(m, 0x0100, 1, 0, 1, 0);
	pkt_dns_question(m, "log-collector.internal.corp", 1, 1);
}

static void with_opt(struct pkt_buf *m)
{
	dns_hdr(m, 0x0100, 1, 0, 0, 1);
	pkt_dns_question(m, "log-collector.internal.corp", 1, 1);
	dns_opt(m, 0);
}

static void with_cookie(struct pkt_buf *m)
{
	dns_hdr(m, 0x0100, 1, 0, 0, 1);
	pkt_dns_question(m, "log-collector.internal.corp", 1, 1);
	dns_opt(m, 44);
}

static void opt_too_big(struct pkt_buf *m)
{
	dns_hdr(m, 0x0100, 1, 0, 0, 1);
	pkt_dns_question(m, "log-collector.internal.corp", 1, 1);
	dns_opt(m, 45);
}

static void additional_not_opt(struct pkt_buf *m)
{
	dns_hdr(m, 0x0100, 1, 0, 0, 1);
	pkt_dns_question(m, "log-collector.internal.corp", 1, 1);
	pkt_bytes(m, "\x00\x00\x10\x00\x01\x00\x00\x00\x00\x00\x05\x04leak", 16);
}

static void two_additional(struct pkt_buf *m)
{
	dns_hdr(m, 0x0100, 1, 0, 0, 2);
	pkt_dns_question(m, "log-collector.internal.corp", 1, 1);
	dns_opt(m, 0);
	dns_opt(m, 0);
}

static void trailing_bytes(struct pkt_buf *m)
{
	dns_query(m, "log-collector.internal.corp", 1);
	pkt_bytes(m, "secret", 6);
}

static void class_chaos(struct pkt_buf *m)
{
	dns_hdr(m, 0x0100, 1, 0, 0, 0);
	pkt_dns_question(m, "log-collector.internal.corp", 16, 3);
}

static void class_chaos_a(struct pkt_buf *m)
{
	dns_hdr(m, 0x0100, 1, 0, 0, 0);
	pkt_dns_question(m, "log-collector.internal.corp", 1, 3);
}

static void extended_label(struct pkt_buf *m)
{
	dns_hdr(m, 0x0100, 1, 0, 0, 0);
	pkt_bytes(m,
		  "\x41\x03"
		  "foo",
		  5); /* 0x41: a binary label (RFC 2673) */
	pkt_dns_name(m, "internal.corp");
	pkt_bytes(m, "\x00\x01\x00\x01", 4); /* A IN */
}

static void header_only(struct pkt_buf *m)
{
	dns_hdr(m, 0x0100, 1, 0, 0, 0);
}

static void nul_in_label(struct pkt_buf *m)
{
	/* a label may hold any byte: "a\0b" is one label, not two names */
	dns_hdr(m, 0x0100, 1, 0, 0, 0);
	pkt_bytes(m,
		  "\x03"
		  "a\0b",
		  4);
	pkt_dns_name(m, "internal.corp");
	pkt_bytes(m, "\x00\x01\x00\x01", 4); /* A IN */
}

static void dot_in_label(struct pkt_buf *m)
{
	/* one label "x.internal" below "corp": not below internal.corp */
	dns_hdr(m, 0x0100, 1, 0, 0, 0);
	pkt_bytes(m,
		  "\x0a"
		  "x.internal"
		  "\x04"
		  "corp"
		  "\x00",
		  17);
	pkt_bytes(m, "\x00\x01\x00\x01", 4); /* A IN */
}

static void length_byte_in_label(struct pkt_buf *m)
{
	/* the label "z\x08internal" under corp holds the bytes of "\x08internal" */
	dns_hdr(m, 0x0100, 1, 0, 0, 0);
	pkt_bytes(m,
		  "\x0a"
		  "z\x08internal"
		  "\x04"
		  "corp"
		  "\x00",
		  17);
	pkt_bytes(m, "\x00\x01\x00\x01", 4); /* A IN */
}

static void no_question_two_additional(struct pkt_buf *m)
{
	/* the message's structure is judged before its question count (README's order) */
	dns_hdr(m, 0x0100, 0, 0, 0, 2);
	dns_opt(m, 0);
	dns_opt(m, 0);
}

static const struct raw_case raw_cases[] = {
	{ "two questions", two_questions, REASON_DNS_QDCOUNT },
	{ "no question", no_question, REASON_DNS_QDCOUNT },
	{ "compression pointer as the name", pointer_only, REASON_DNS_COMPRESSION },
	{ "compression pointer after a label", pointer_after_label, REASON_DNS_COMPRESSION },
	{ "compression pointer to an allowed name", pointer_to_allowed, REASON_DNS_COMPRESSION },
	{ "QR set (an answer)", answer_flag, REASON_DNS_MALFORMED },
	{ "opcode UPDATE", opcode_update, REASON_DNS_MALFORMED },
	{ "an answer record in a query", with_answer, REASON_DNS_MALFORMED },
	{ "an authority record in a query", with_authority, REASON_DNS_MALFORMED },
	{ "EDNS OPT record", with_opt, REASON_RULE },
	{ "EDNS OPT with a 44-byte cookie", with_cookie, REASON_RULE },
	{ "EDNS OPT with 45 bytes of options", opt_too_big, REASON_DNS_MALFORMED },
	{ "an additional TXT record", additional_not_opt, REASON_DNS_MALFORMED },
	{ "two additional records", two_additional, REASON_DNS_MALFORMED },
	{ "two additional records and no question", no_question_two_additional,
	  REASON_DNS_MALFORMED },
	{ "bytes after the question", trailing_bytes, REASON_DNS_MALFORMED },
	{ "class CH TXT (version.bind style)", class_chaos, REASON_DNS_QTYPE },
	{ "class CH A", class_chaos_a, REASON_DNS_QTYPE },
	{ "extended label type", extended_label, REASON_DNS_NAME_LEN },
	{ "header alone", header_only, REASON_DNS_MALFORMED },
	{ "a NUL byte inside a label", nul_in_label, REASON_RULE },
	{ "a dot inside a label", dot_in_label, REASON_QNAME },
	{ "a length byte inside a label", length_byte_in_label, REASON_QNAME },
};

Test(dns, structure)
{
	for (size_t i = 0; i < ARRAY_SIZE(raw_cases); i++) {
		FRAME(m);
		FRAME(p);

		raw_cases[i].build(&m);
		query_frame(&p, &m);
		expect(raw_cases[i].name, &p, raw_cases[i].want);
	}
}

/* a message cut at every offset, the UDP and IP lengths saying it ends there */
Test(dns, cut_at_every_offset)
{
	FRAME(full);
	FRAME(p);

	dns_hdr(&full, 0x0100, 1, 0, 0, 1);
	pkt_dns_question(&full, "a.log-collector.internal.corp", 1, 1);
	dns_opt(&full, 12);
	query_frame(&p, &full);
	expect("the whole query", &p, REASON_RULE);
	for (size_t len = 0; len < full.len; len++) {
		struct pkt_buf cut = full; /* the same bytes, fewer of them */
		char what[64];

		cut.len = len;
		query_frame(&p, &cut);
		snprintf(what, sizeof(what), "query cut at %zu of %zu", len, full.len);
		expect(what, &p, REASON_DNS_MALFORMED);
	}
}

/* the UDP length disagreeing with the datagram: either way, not one whole query */
Test(dns, udp_length_mismatch)
{
	size_t udp = ETH_HLEN + 20;
	FRAME(m);
	FRAME(p);

	dns_query(&m, "log-collector.internal.corp", 1);
	query_frame(&p, &m);
	p.b[udp + 5] -= 6; /* UDP says the message ends 6 bytes early: the rest is hidden */
	expect("UDP length short of the datagram", &p, REASON_DNS_MALFORMED);
	query_frame(&p, &m);
	p.b[udp + 5] += 1;
	expect("UDP length past the datagram", &p, REASON_DNS_MALFORMED);
	query_frame(&p, &m);
	p.b[udp + 4] = 0;
	p.b[udp + 5] = 4;
	expect("UDP length below its header", &p, REASON_DNS_MALFORMED);
}

/* every byte of a query set to 0xff in turn: a deny, or the same allowed name */
Test(dns, every_byte_corrupted)
{
	FRAME(full);
	FRAME(bad);
	FRAME(p);

	dns_query(&full, "api.example", 1); /* an exact rule: any change leaves it */
	for (size_t i = 0; i < full.len; i++) {
		uint32_t ret;
		unsigned int got;

		dns_query(&bad, "api.example", 1);
		bad.b[i] = 0xff;
		query_frame(&p, &bad);
		run(&p, &ret, &got);
		if (i < 2) /* the transaction id: anything goes */
			cr_expect_eq(got, REASON_RULE, "byte %zu (id): %s", i, reason_name(got));
		else
			cr_expect(!REASON_IS_ALLOW(got) && ret == DENY,
				  "byte %zu set to 0xff: %s, verdict %u", i, reason_name(got), ret);
	}
}

/* each name rule and the resolver's rule count the queries they let through */
Test(dns, rule_counters)
{
	__u32 resolver = 0, wildcard = NR_ADDRESS_RULES + 1; /* "allow dns *.internal.corp" */
	struct pkt_count r0, r1, w0, w1;
	FRAME(m);
	FRAME(p);

	cr_assert_str_eq(names_profile[wildcard], "allow dns *.internal.corp");
	/* wherever the rules' hits are kept: rule_counts or their entries (counts.h) */
	counts_rule_total(inst, resolver, &r0);
	counts_rule_total(inst, wildcard, &w0);
	dns_query(&m, "x.internal.corp", 1);
	query_frame(&p, &m);
	expect("allowed", &p, REASON_RULE);
	dns_query(&m, "x.attacker.example", 1);
	query_frame(&p, &m);
	expect("denied", &p, REASON_QNAME);
	counts_rule_total(inst, resolver, &r1);
	counts_rule_total(inst, wildcard, &w1);
	/* expect() runs each query at tc and at XDP: the allowed one counts twice */
	cr_expect_eq(w1.packets - w0.packets, 2, "the wildcard rule counted %llu, want 2",
		     (unsigned long long)(w1.packets - w0.packets));
	cr_expect_eq(r1.packets - r0.packets, 2,
		     "the resolver rule counted %llu (a denied query too?), want 2",
		     (unsigned long long)(r1.packets - r0.packets));
}

/* a new profile switches names and types in one step; without names, DNS is not parsed */
Test(dns, profiles_switch)
{
	static const char *const txt_profile[] = {
		"allow udp 10.42.0.53 port 53",
		"allow tcp 10.42.0.53 port 53",
		"allow dns *",
		"dns qtype A TXT",
	};
	static const char *const no_names[] = {
		"allow udp 10.42.0.53 port 53",
		"allow tcp 10.42.0.53 port 53",
	};
	FRAME(m);
	FRAME(p);

	install_lines(txt_profile, ARRAY_SIZE(txt_profile));
	dns_query(&m, "anything.attacker.example", 16);
	query_frame(&p, &m);
	expect("'allow dns *' with TXT allowed", &p, REASON_RULE);
	dns_query(&m, "anything.attacker.example", 28);
	query_frame(&p, &m);
	expect("AAAA is not in 'dns qtype A TXT'", &p, REASON_DNS_QTYPE);
	dns_query(&m, "", 1);
	query_frame(&p, &m);
	expect("the root is not below '*'", &p, REASON_QNAME);
	pointer_only(&m);
	query_frame(&p, &m);
	expect("'allow dns *' still checks the structure", &p, REASON_DNS_COMPRESSION);

	install_lines(no_names, ARRAY_SIZE(no_names));
	pointer_only(&m);
	query_frame(&p, &m);
	expect("without name rules, DNS is not parsed", &p, REASON_RULE);
	dns_query(&m, "anything.attacker.example", 16);
	frame(&p, 0, "10.42.0.53", IPPROTO_TCP, &m);
	expect("without name rules, TCP DNS passes", &p, REASON_RULE);

	install_lines(names_profile, ARRAY_SIZE(names_profile));
	dns_query(&m, "anything.attacker.example", 1);
	query_frame(&p, &m);
	expect("names again", &p, REASON_QNAME);
}
