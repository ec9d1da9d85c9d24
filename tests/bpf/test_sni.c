/*
 * test_sni.c: the https stage's server-name check (on for name rules on tcp/443, docs/sni.md) in the real
 * pipeline of a test instance: names learned from DNS (learn_run.h), then a TCP flow's SYN and
 * its first data, a real ClientHello (tests/fixtures/tls) with its name kept or replaced, at tc:
 * verdict + reason per segment.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
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
#include "pins.h"
#include "event.h"
#include "records.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PSH 0x08
#define SEQ 1000u /* the SYN's; the hello begins at SEQ + 1 */

static const char *const sni_profile[] = {
	"allow udp 10.42.0.53 port 53",
	"allow tcp name api.example.com port 443",
	"allow tcp name www.example.com port 443",
	"allow tcp 10.42.9.9 port 443",
	"dns learn grace 0 max-ttl 100 max-addresses 2 rate 1000",
};

/* www.example.com's rule says 'sni off': its addresses take any name */
static const char *const off_profile[] = {
	"allow udp 10.42.0.53 port 53",
	"allow tcp name api.example.com port 443",
	"allow tcp name www.example.com port 443 sni off",
	"dns learn grace 0 max-ttl 100 max-addresses 2 rate 1000",
};

/* every name rule says 'sni off': the https stage loads without the check */
static const char *const all_off_profile[] = {
	"allow udp 10.42.0.53 port 53",
	"allow tcp name api.example.com port 443 sni off",
	"allow tcp name www.example.com port 443 sni off",
	"dns learn grace 0 max-ttl 100 max-addresses 2 rate 1000",
};

/* openssl s_client -servername api.example.com: its hello, name at name_off */
static __u8 hello[PKT_TEST_MAX];
static size_t hello_len, name_off;

static void fixture(const char *name, __u8 *out, size_t *len)
{
	cr_assert_eq(tls_fixture_read("tests/fixtures/tls", name, out, PKT_TEST_MAX, len), 0,
		     "read tests/fixtures/tls/%s.hex", name);
}

static void learn(const char *name, const char *addr, uint16_t sport)
{
	FRAME(m);

	query(name, 1, sport);
	a_answer(&m, name, 60, addr);
	expect_answer(name, "10.42.0.53", sport, &m, LEARN_EV_LEARNED, 1, 1);
}

static void setup_with(const char *const *lines, size_t n)
{
	snprintf(inst, sizeof(inst), "snitest%d", getpid());
	install_lines(lines, n);
	fixture("openssl_api", hello, &hello_len);
	name_off = (const __u8 *)memmem(hello, hello_len, "api.example.com", 15) - hello;
	cr_assert_lt(name_off, hello_len);
	learn("api.example.com", "10.42.9.1", 33001);
	learn("www.example.com", "10.42.9.2", 33002);
}

static void setup(void)
{
	setup_with(sni_profile, ARRAY_SIZE(sni_profile));
}

static void setup_off(void)
{
	setup_with(off_profile, ARRAY_SIZE(off_profile));
}

/* a segment from the sandbox's sport to dst:443 with seq, flags and payload, judged at tc */
static void expect_seg(const char *what, const char *dst, uint16_t sport, uint32_t seq,
		       uint8_t flags, const void *data, size_t len, unsigned int want)
{
	uint32_t ret;
	unsigned int got;
	FRAME(p);

	cr_assert_eq(frame_tcp(&p, "10.42.0.2", dst, sport, 443, seq, flags, data, len), 0,
		     "the frame");
	run(&p, &ret, &got);
	cr_expect_eq(got, want, "%s: reason %s, want %s", what, reason_name(got),
		     reason_name(want));
	cr_expect_eq(ret, REASON_IS_ALLOW(want) ? ALLOW : DENY, "%s: verdict %d", what, (int)ret);
}

/* a new flow from sport to dst:443: its SYN (allowed by the address), then its first data */
static void expect_flow(const char *what, const char *dst, uint16_t sport, const void *data,
			size_t len, unsigned int want)
{
	char syn[128];

	snprintf(syn, sizeof(syn), "the SYN before %s", what);
	expect_seg(syn, dst, sport, SEQ, SYN, NULL, 0, REASON_RULE);
	expect_seg(what, dst, sport, SEQ + 1, ACK | PSH, data, len, want);
}

/* the captured hello with its 15-byte name replaced */
static const __u8 *hello_named(const char *name15)
{
	static __u8 h[PKT_TEST_MAX];

	cr_assert_eq(strlen(name15), 15);
	memcpy(h, hello, hello_len);
	memcpy(h + name_off, name15, 15);
	return h;
}

static void setup_all_off(void)
{
	setup_with(all_off_profile, ARRAY_SIZE(all_off_profile));
}

TestSuite(sni, .init = setup, .fini = remove_instance);

Test(sni, allowed_name)
{
	expect_seg("SYN", "10.42.9.1", 41000, SEQ, SYN, NULL, 0, REASON_RULE);
	expect_seg("ACK", "10.42.9.1", 41000, SEQ + 1, ACK, NULL, 0, REASON_RULE);
	expect_seg("the hello", "10.42.9.1", 41000, SEQ + 1, ACK | PSH, hello, hello_len,
		   REASON_RULE);
	expect_seg("the hello resent", "10.42.9.1", 41000, SEQ + 1, ACK | PSH, hello, hello_len,
		   REASON_RULE);
	expect_seg("data after it", "10.42.9.1", 41000, SEQ + 1 + hello_len, ACK | PSH, "x", 1,
		   REASON_RULE);
	/* a copy of the hello with another name at the same place: judged again */
	expect_seg("the hello resent with another name", "10.42.9.1", 41000, SEQ + 1, ACK | PSH,
		   hello_named("evil.example.co"), hello_len, REASON_SNI);
	expect_seg("and after it", "10.42.9.1", 41000, SEQ + 1 + hello_len, ACK | PSH, "x", 1,
		   REASON_SNI);
}

/* www.example.com is followed, but its answers never gave this address */
Test(sni, other_name_on_the_address)
{
	expect_flow("hello for www", "10.42.9.1", 41001, hello_named("www.example.com"), hello_len,
		    REASON_SNI);
	expect_seg("then anything", "10.42.9.1", 41001, SEQ + 1 + hello_len, ACK | PSH, "x", 1,
		   REASON_SNI);
	/* where its answers did send it, the same hello passes */
	expect_flow("hello for www there", "10.42.9.2", 41002, hello_named("www.example.com"),
		    hello_len, REASON_RULE);
	/* a name no rule follows; the same name in capitals is the same name */
	expect_flow("hello for a stranger", "10.42.9.1", 41003, hello_named("evil.example.co"),
		    hello_len, REASON_SNI);
	expect_flow("hello for API.EXAMPLE.COM", "10.42.9.1", 41004, hello_named("API.Example.COM"),
		    hello_len, REASON_RULE);
}

Test(sni, no_name)
{
	__u8 noname[PKT_TEST_MAX];
	size_t n;

	fixture("openssl_noname", noname, &n);
	expect_seg("SYN", "10.42.9.1", 41010, SEQ, SYN, NULL, 0, REASON_RULE);
	expect_seg("a hello without server_name", "10.42.9.1", 41010, SEQ + 1, ACK | PSH, noname, n,
		   REASON_SNI);
	expect_seg("SYN", "10.42.9.1", 41011, SEQ, SYN, NULL, 0, REASON_RULE);
	expect_seg("not TLS", "10.42.9.1", 41011, SEQ + 1, ACK | PSH, "GET / HTTP/1.1\r\n\r\n", 18,
		   REASON_SNI);
}

/* data that does not begin at the first byte, or comes without a SYN seen */
Test(sni, out_of_order)
{
	expect_seg("SYN", "10.42.9.1", 41020, SEQ, SYN, NULL, 0, REASON_RULE);
	expect_seg("the hello's second half first", "10.42.9.1", 41020, SEQ + 1 + 100, ACK | PSH,
		   hello + 100, hello_len - 100, REASON_SNI);
	expect_seg("data, no SYN seen", "10.42.9.1", 41021, SEQ + 1, ACK | PSH, hello, hello_len,
		   REASON_SNI);
}

/*
 * A TCP Fast Open SYN carrying the first n bytes of first, its first byte at
 * SEQ + 1; then the rest of rest from SEQ + 1 + n (when n is not the whole
 * hello) and a byte after the hello
 */
static void fast_open_flow(uint16_t sport, const __u8 *first, size_t n, const __u8 *rest,
			   unsigned int want_syn, unsigned int want_after)
{
	expect_seg("a SYN with data", "10.42.9.1", sport, SEQ, SYN, first, n, want_syn);
	if (n < hello_len)
		expect_seg("the rest", "10.42.9.1", sport, SEQ + 1 + n, ACK | PSH, rest + n,
			   hello_len - n, want_after);
	expect_seg("data after the hello", "10.42.9.1", sport, SEQ + 1 + hello_len, ACK | PSH, "x",
		   1, want_after);
}

Test(sni, fast_open)
{
	const __u8 *evil = hello_named("evil.example.co");

	/* the whole hello in the SYN: the allowed name, another name */
	fast_open_flow(41022, hello, hello_len, NULL, REASON_RULE, REASON_RULE);
	fast_open_flow(41023, evil, hello_len, NULL, REASON_SNI, REASON_SNI);
	/* its first 100 bytes: the rest continues at SEQ + 101, with the name or another */
	fast_open_flow(41024, hello, 100, hello, REASON_RULE, REASON_RULE);
	fast_open_flow(41025, hello, 100, evil, REASON_RULE, REASON_SNI);
	/* the server took no data in the SYN: the client sends the hello again after it */
	expect_seg("the hello after the handshake", "10.42.9.1", 41022, SEQ + 1, ACK | PSH, hello,
		   hello_len, REASON_RULE);
	expect_seg("and another name there", "10.42.9.1", 41022, SEQ + 1, ACK | PSH, evil,
		   hello_len, REASON_SNI);
}

/* a rule by address is unchanged: any name passes */
Test(sni, address_rule)
{
	expect_flow("hello for a stranger", "10.42.9.9", 41030, hello_named("evil.example.co"),
		    hello_len, REASON_RULE);
}

/* 'sni off' on www's rule: its address takes any name, api's is still checked */
Test(sni, sni_off_rule, .init = setup_off)
{
	expect_flow("hello for a stranger there", "10.42.9.2", 41040,
		    hello_named("evil.example.co"), hello_len, REASON_RULE);
	expect_seg("data after it", "10.42.9.2", 41040, SEQ + 1 + hello_len, ACK | PSH, "x", 1,
		   REASON_RULE);
	expect_seg("not TLS at all", "10.42.9.2", 41041, SEQ, SYN, NULL, 0, REASON_RULE);
	expect_seg("its data", "10.42.9.2", 41041, SEQ + 1, ACK | PSH, "GET / HTTP/1.1\r\n\r\n", 18,
		   REASON_RULE);
	expect_seg("a Fast Open SYN with data", "10.42.9.2", 41042, SEQ, SYN, hello, hello_len,
		   REASON_RULE);
	expect_flow("hello for a stranger there", "10.42.9.1", 41043,
		    hello_named("evil.example.co"), hello_len, REASON_SNI);
}

/*
 * A profile without a checked name rule loads the stage without the check
 * (sni_check cleared: a tenth of its verification); the switch to one that
 * checks loads the check again.
 */
Test(sni, switch_turns_the_check_on, .init = setup_all_off)
{
	expect_flow("hello for a stranger", "10.42.9.1", 41050, hello_named("evil.example.co"),
		    hello_len, REASON_RULE);
	setup();
	expect_flow("hello for a stranger after it", "10.42.9.1", 41051,
		    hello_named("evil.example.co"), hello_len, REASON_SNI);
	expect_seg("SYN, named", "10.42.9.1", 41052, SEQ, SYN, NULL, 0, REASON_RULE);
	expect_seg("hello for api", "10.42.9.1", 41052, SEQ + 1, ACK | PSH, hello, hello_len,
		   REASON_RULE);
}

/* a hello over several segments (a small MSS, post-quantum key shares): judged when complete */
Test(sni, hello_over_segments)
{
	const __u8 *evil = hello_named("evil.example.co");

	expect_seg("SYN", "10.42.9.1", 41050, SEQ, SYN, NULL, 0, REASON_RULE);
	expect_seg("first 100 bytes", "10.42.9.1", 41050, SEQ + 1, ACK | PSH, hello, 100,
		   REASON_RULE);
	expect_seg("first 100 bytes resent", "10.42.9.1", 41050, SEQ + 1, ACK | PSH, hello, 100,
		   REASON_RULE);
	expect_seg("the next 100", "10.42.9.1", 41050, SEQ + 101, ACK | PSH, hello + 100, 100,
		   REASON_RULE);
	expect_seg("the rest", "10.42.9.1", 41050, SEQ + 201, ACK | PSH, hello + 200,
		   hello_len - 200, REASON_RULE);
	/* judged: a piece of it again is compared with the bytes kept */
	expect_seg("first 100 bytes resent after", "10.42.9.1", 41050, SEQ + 1, ACK | PSH, hello,
		   100, REASON_RULE);
	expect_seg("the middle resent after", "10.42.9.1", 41050, SEQ + 101, ACK | PSH, hello + 100,
		   100, REASON_RULE);
	expect_seg("data after it", "10.42.9.1", 41050, SEQ + 1 + hello_len, ACK | PSH, "x", 1,
		   REASON_RULE);

	/* the name in a later segment: another name there is denied, and everything after */
	expect_seg("SYN", "10.42.9.1", 41051, SEQ, SYN, NULL, 0, REASON_RULE);
	expect_seg("first 100 bytes", "10.42.9.1", 41051, SEQ + 1, ACK | PSH, evil, 100,
		   REASON_RULE);
	expect_seg("the rest, another name", "10.42.9.1", 41051, SEQ + 101, ACK | PSH, evil + 100,
		   hello_len - 100, REASON_SNI);
	expect_seg("the right rest then", "10.42.9.1", 41051, SEQ + 101, ACK | PSH, hello + 100,
		   hello_len - 100, REASON_SNI);
}

/*
 * Two hooks of one install on the path (cgroup_skb egress, then host-side tc
 * ingress) see every segment twice: each copy is judged the same
 */
Test(sni, hello_at_two_hooks)
{
	const __u8 *evil = hello_named("evil.example.co");
	size_t cut = name_off + 20;

	for (int hook = 0; hook < 2; hook++)
		expect_seg("SYN", "10.42.9.1", 41055, SEQ, SYN, NULL, 0, REASON_RULE);
	for (int hook = 0; hook < 2; hook++)
		expect_seg("first part", "10.42.9.1", 41055, SEQ + 1, ACK | PSH, hello, cut,
			   REASON_RULE);
	for (int hook = 0; hook < 2; hook++)
		expect_seg("the rest", "10.42.9.1", 41055, SEQ + 1 + cut, ACK | PSH, hello + cut,
			   hello_len - cut, REASON_RULE);
	for (int hook = 0; hook < 2; hook++)
		expect_seg("data after it", "10.42.9.1", 41055, SEQ + 1 + hello_len, ACK | PSH, "x",
			   1, REASON_RULE);
	/* after the verdict, a first part resent with another name: denied, and the flow */
	expect_flow("first part", "10.42.9.1", 41056, hello, cut, REASON_RULE);
	expect_seg("the rest", "10.42.9.1", 41056, SEQ + 1 + cut, ACK | PSH, hello + cut,
		   hello_len - cut, REASON_RULE);
	expect_seg("first part again, another name", "10.42.9.1", 41056, SEQ + 1, ACK | PSH, evil,
		   cut, REASON_SNI);
	expect_seg("data after it", "10.42.9.1", 41056, SEQ + 1 + hello_len, ACK | PSH, "x", 1,
		   REASON_SNI);
}

/* a kept segment resent with other bytes, a gap, an overlap: denied */
Test(sni, hello_segments_overlap)
{
	const __u8 *evil = hello_named("evil.example.co");
	size_t cut = name_off + 20; /* the name in the first segment */

	expect_seg("SYN", "10.42.9.1", 41060, SEQ, SYN, NULL, 0, REASON_RULE);
	expect_seg("first part, the right name", "10.42.9.1", 41060, SEQ + 1, ACK | PSH, hello, cut,
		   REASON_RULE);
	expect_seg("first part again, another name", "10.42.9.1", 41060, SEQ + 1, ACK | PSH, evil,
		   cut, REASON_SNI);

	expect_flow("first part", "10.42.9.1", 41061, hello, cut, REASON_RULE);
	/* the rest starting 10 bytes early, those 10 bytes changed: the overlap must match */
	expect_seg("the rest overlapping, other bytes", "10.42.9.1", 41061, SEQ + 1 + cut - 20,
		   ACK | PSH, evil + cut - 20, hello_len - cut + 20, REASON_SNI);

	expect_flow("first part", "10.42.9.1", 41062, hello, cut, REASON_RULE);
	expect_seg("the rest overlapping, same bytes", "10.42.9.1", 41062, SEQ + 1 + cut - 20,
		   ACK | PSH, hello + cut - 20, hello_len - cut + 20, REASON_RULE);

	expect_flow("first part", "10.42.9.1", 41063, hello, 100, REASON_RULE);
	expect_seg("a gap", "10.42.9.1", 41063, SEQ + 201, ACK | PSH, hello + 200, hello_len - 200,
		   REASON_SNI);
}

/* a wildcard rule: any name below its suffix names an address learned under it */
static const char *const wild_profile[] = {
	"allow udp 10.42.0.53 port 53",
	"allow tcp name *.example.org port 443",
	"allow tcp name api.example.org port 8080",
	"dns learn grace 0 max-ttl 100 max-addresses 2 rate 1000",
};

static void setup_wild(void)
{
	snprintf(inst, sizeof(inst), "snitest%d", getpid());
	install_lines(wild_profile, ARRAY_SIZE(wild_profile));
	fixture("openssl_api", hello, &hello_len);
	name_off = (const __u8 *)memmem(hello, hello_len, "api.example.com", 15) - hello;
	learn("www.example.org", "10.42.9.3", 33003); /* learned under the wildcard */
}

Test(sni, wildcard_rule, .init = setup_wild)
{
	static const struct {
		const char *name;
		unsigned int want;
	} rows[] = {
		{ "www.example.org", REASON_RULE }, /* the name asked */
		/* another name below: api.example.org has its own rule (8080), so the
		 * exact name is found first and the wildcard above it next */
		{ "api.example.org", REASON_RULE },
		{ "x.y.example.org", REASON_RULE }, /* two labels below */
		{ "WWW.Example.ORG", REASON_RULE }, /* any case */
		{ "evilexample.org", REASON_SNI }, /* not on a label boundary */
		{ "www.example.com", REASON_SNI }, /* another suffix */
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		uint16_t sport = 41070 + i;

		expect_seg("SYN", "10.42.9.3", sport, SEQ, SYN, NULL, 0, REASON_RULE);
		expect_seg(rows[i].name, "10.42.9.3", sport, SEQ + 1, ACK | PSH,
			   hello_named(rows[i].name), hello_len, rows[i].want);
	}
}

/* the denial's record carries the server name seen, in wire form; none when there was none */
Test(sni, denial_records_the_name)
{
	static const __u8 wire[] = "\4evil\7example\2co";
	__u8 noname[PKT_TEST_MAX];
	struct records rs;
	size_t n;

	fixture("openssl_noname", noname, &n);
	drain(&rs);
	expect_flow("hello for a stranger", "10.42.9.1", 41080, hello_named("evil.example.co"),
		    hello_len, REASON_SNI);
	expect_seg("SYN", "10.42.9.1", 41081, SEQ, SYN, NULL, 0, REASON_RULE);
	expect_seg("a hello without a name", "10.42.9.1", 41081, SEQ + 1, ACK | PSH, noname, n,
		   REASON_SNI);
	drain(&rs);
	/* the denials, without the SYNs' flow records */
	n = 0;
	for (size_t i = 0; i < rs.n; i++)
		if (rs.r[i].e.kind == EVENT_DENY)
			rs.r[n++] = rs.r[i];
	cr_assert_eq(n, 2, "%zu denials recorded, want 2", n);
	for (size_t i = 0; i < 2; i++) {
		const struct deny_event *e = &rs.r[i].e;

		cr_assert_eq(e->kind, EVENT_DENY);
		cr_assert_eq(e->reason, REASON_SNI, "reason %s", reason_name(e->reason));
		cr_assert_eq(e->hook, HOOK_TC);
		cr_assert_eq(e->l4proto, IPPROTO_TCP);
		cr_assert_eq(ntohs(e->dport), 443);
		cr_assert_eq(ntohs(e->sport), 41080 + i);
		cr_assert_eq(memcmp(e->daddr, (__u8[]){ 10, 42, 9, 1 }, 4), 0);
	}
	cr_assert_eq(rs.r[0].t.name_len, sizeof(wire), "name bytes %u", rs.r[0].t.name_len);
	cr_assert_eq(memcmp(rs.r[0].name, wire, sizeof(wire)), 0, "the name in wire form");
	cr_assert_eq(rs.r[1].t.name_len, 0, "no name seen, none recorded");
}

/* a hello over 512 bytes in one segment (curl's, with its padding extension): judged whole */
Test(sni, long_hello_one_segment)
{
	__u8 big[PKT_TEST_MAX];
	size_t n;

	fixture("curl_api", big, &n);
	cr_assert_gt(n, 512);
	expect_flow("curl's hello", "10.42.9.1", 41091, big, n, REASON_RULE);
}
