/* test_pkt_build.c: the packet builder (loader/pkt_build.c): bytes, lengths, checksums, refusals. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <criterion/criterion.h>
#include "pkt_build.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const __u8 v4_src[4] = { 10, 42, 0, 2 }, v4_dst[4] = { 10, 42, 0, 53 };
static const __u8 v6_src[16] = { 0xfd, 0, 0, 0x42, [15] = 2 };
static const __u8 v6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x04, 0x43, [15] = 5 };

static __u16 get16(const __u8 *at)
{
	return at[0] << 8 | at[1];
}

/*
 * Frames whose bytes were computed apart from the builder (a short Python
 * script with its own checksum): every length and checksum is checked.
 */
static const __u8 udp4_dns[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x45,
	0x00, 0x00, 0x39, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x26, 0x2a, 0x0a, 0x2a, 0x00, 0x02,
	0x0a, 0x2a, 0x00, 0x35, 0x9c, 0x40, 0x00, 0x35, 0x00, 0x25, 0x5f, 0xb6, 0x1c, 0x7a, 0x01,
	0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70,
	0x6c, 0x65, 0x03, 0x6f, 0x72, 0x67, 0x00, 0x00, 0x01, 0x00, 0x01,
};

static const __u8 tcp6_syn[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x86, 0xdd, 0x60,
	0x00, 0x00, 0x00, 0x00, 0x14, 0x06, 0x40, 0xfd, 0x00, 0x00, 0x42, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x20, 0x01, 0x0d, 0xb8, 0x04, 0x43, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0xc3, 0x50, 0x01, 0xbb, 0x01, 0xc0,
	0xff, 0xee, 0x00, 0x00, 0x00, 0x00, 0x50, 0x02, 0xfa, 0xf0, 0xbe, 0xf1, 0x00, 0x00,
};

static void build_udp4_dns(struct pkt_buf *p)
{
	pkt_eth(p, NULL, NULL, ETH_P_IP);
	pkt_ipv4(p,
		 &(struct pkt_ip4){
			 .src = v4_src, .dst = v4_dst, .proto = IPPROTO_UDP, .frag_off = IP_DF });
	pkt_udp(p, 40000, 53);
	pkt_dns_query(p, 0x1c7a, "example.org", 1);
}

static void build_tcp6_syn(struct pkt_buf *p)
{
	pkt_eth(p, NULL, NULL, ETH_P_IPV6);
	pkt_ipv6(p, &(struct pkt_ip6){ .src = v6_src, .dst = v6_dst, .next = IPPROTO_TCP });
	pkt_tcp(p, &(struct pkt_tcp){ .sport = 50000,
				      .dport = 443,
				      .seq = 0x1c0ffee,
				      .flags = TH_SYN,
				      .window = 64240 });
}

static const struct {
	const char *name;
	void (*build)(struct pkt_buf *p);
	const __u8 *bytes;
	size_t len;
} known[] = {
	{ "IPv4 / UDP / a DNS query", build_udp4_dns, udp4_dns, sizeof(udp4_dns) },
	{ "IPv6 / TCP SYN", build_tcp6_syn, tcp6_syn, sizeof(tcp6_syn) },
};

Test(pkt_build, known_frames)
{
	for (size_t i = 0; i < ARRAY_SIZE(known); i++) {
		__u8 buf[256];
		struct pkt_buf p = PKT_BUF(buf);

		known[i].build(&p);
		cr_assert_eq(pkt_finish(&p), 0, "%s: pkt_finish", known[i].name);
		cr_assert_eq(p.len, known[i].len, "%s: %zu bytes, want %zu", known[i].name, p.len,
			     known[i].len);
		for (size_t j = 0; j < p.len; j++)
			cr_assert_eq(buf[j], known[i].bytes[j],
				     "%s: byte %zu is 0x%02x, want 0x%02x", known[i].name, j,
				     buf[j], known[i].bytes[j]);
	}
}

/* the IPv4 header of the checksum's textbook example: 4500 0073 0000 4000 4011 b861 ... */
Test(pkt_build, ipv4_checksum_textbook_example)
{
	static const __u8 want[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
				       0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	static const __u8 src[4] = { 192, 168, 0, 1 }, dst[4] = { 192, 168, 0, 199 };
	__u8 buf[128];
	struct pkt_buf p = PKT_BUF(buf);

	pkt_ipv4(&p, &(struct pkt_ip4){
			     .src = src, .dst = dst, .proto = IPPROTO_UDP, .frag_off = IP_DF });
	pkt_udp(&p, 1, 2);
	pkt_zeros(&p, 0x73 - 28);
	cr_assert_eq(pkt_finish(&p), 0);
	cr_assert_arr_eq(buf, want, sizeof(want), "the header differs from the textbook's");
}

/* the checksum's own check: the ones' complement sum with the checksum in is 0xffff */
static __u16 sum16(const __u8 *d, size_t n, __u32 sum)
{
	for (size_t i = 0; i < n; i++)
		sum += i % 2 ? d[i] : d[i] << 8;
	while (sum > 0xffff)
		sum = (sum >> 16) + (sum & 0xffff);
	return sum;
}

/* the pseudo-header's words and the transport bytes, from the frame's own fields */
static __u16 l4_sum(const struct pkt_buf *p)
{
	const __u8 *ip = p->b + p->l3;
	size_t n = p->len - p->l4;
	__u32 pseudo = p->l4proto + n;

	if (p->family == AF_INET)
		pseudo = sum16(ip + 12, 8, pseudo);
	else
		pseudo = sum16(ip + 8, 32, pseudo);
	return sum16(p->b + p->l4, n, pseudo);
}

static void v4_tcp_opts(struct pkt_buf *p)
{
	pkt_eth(p, NULL, NULL, ETH_P_IP);
	pkt_ipv4(p, &(struct pkt_ip4){ .src = v4_src,
				       .dst = v4_dst,
				       .proto = IPPROTO_TCP,
				       .opts = "\x01\x01\x01\x00",
				       .optlen = 4 });
	pkt_tcp(p, &(struct pkt_tcp){ .sport = 1, .dport = 8080, .flags = TH_ACK | TH_PUSH });
	pkt_bytes(p, "odd", 3);
}

static void v4_udp_odd(struct pkt_buf *p)
{
	pkt_ipv4(p, &(struct pkt_ip4){ .src = v4_src, .dst = v4_dst, .proto = IPPROTO_UDP });
	pkt_udp(p, 53, 33000);
	pkt_bytes(p, "ironclaw-rawtest!", 17);
}

static void v6_ext_udp(struct pkt_buf *p)
{
	pkt_eth(p, NULL, NULL, ETH_P_8021Q);
	pkt_vlan(p, 5, ETH_P_IPV6);
	pkt_ipv6(p, &(struct pkt_ip6){ .src = v6_src, .dst = v6_dst, .next = IPPROTO_HOPOPTS });
	pkt_ext6(p, IPPROTO_FRAGMENT, 0);
	pkt_frag6(p, IPPROTO_UDP, 0, 0);
	pkt_udp(p, 40000, 9000);
	pkt_zeros(p, 5);
}

static void v6_icmp(struct pkt_buf *p)
{
	pkt_ipv6(p,
		 &(struct pkt_ip6){
			 .src = v6_src, .dst = v6_dst, .next = IPPROTO_ICMPV6, .hop_limit = 255 });
	pkt_icmp6(p, 135);
	pkt_zeros(p, 20);
}

static const struct {
	const char *name;
	void (*build)(struct pkt_buf *p);
	size_t l3, l4, len;
	unsigned int ip_len; /* the IP header's length field */
} checked[] = {
	{ "IPv4 with options / TCP / 3 bytes", v4_tcp_opts, 14, 38, 61, 47 },
	{ "IPv4 without Ethernet / UDP / 17 bytes", v4_udp_odd, 0, 20, 45, 45 },
	{ "VLAN / IPv6 / hop-by-hop / fragment / UDP", v6_ext_udp, 18, 74, 87, 29 },
	{ "IPv6 / ICMPv6 neighbour solicitation", v6_icmp, 0, 40, 64, 24 },
};

Test(pkt_build, lengths_and_checksums)
{
	for (size_t i = 0; i < ARRAY_SIZE(checked); i++) {
		__u8 buf[256];
		struct pkt_buf p = PKT_BUF(buf);
		const __u8 *ip;

		checked[i].build(&p);
		cr_assert_eq(pkt_finish(&p), 0, "%s: pkt_finish", checked[i].name);
		cr_assert_eq(p.len, checked[i].len, "%s: %zu bytes", checked[i].name, p.len);
		cr_assert_eq(p.l3, checked[i].l3, "%s: IP at %zu", checked[i].name, p.l3);
		cr_assert_eq(p.l4, checked[i].l4, "%s: L4 at %zu", checked[i].name, p.l4);
		ip = buf + p.l3;
		if (p.family == AF_INET) {
			cr_assert_eq(get16(ip + 2), checked[i].ip_len, "%s: total length %u",
				     checked[i].name, get16(ip + 2));
			cr_assert_eq(sum16(ip, (ip[0] & 0xf) * 4, 0), 0xffff,
				     "%s: IPv4 header checksum", checked[i].name);
		} else {
			cr_assert_eq(get16(ip + 4), checked[i].ip_len, "%s: payload length %u",
				     checked[i].name, get16(ip + 4));
		}
		if (p.l4proto == IPPROTO_UDP)
			cr_assert_eq(get16(buf + p.l4 + 4), p.len - p.l4, "%s: UDP length %u",
				     checked[i].name, get16(buf + p.l4 + 4));
		cr_assert_eq(l4_sum(&p), 0xffff, "%s: transport checksum", checked[i].name);
	}
}

/* a datagram cut and finished again: lengths and checksums of what is left */
Test(pkt_build, finish_after_a_cut)
{
	__u8 buf[256];
	struct pkt_buf p = PKT_BUF(buf);

	build_udp4_dns(&p);
	cr_assert_eq(pkt_finish(&p), 0);
	p.len -= 10;
	cr_assert_eq(pkt_finish(&p), 0);
	cr_assert_eq(get16(buf + 14 + 2), p.len - 14);
	cr_assert_eq(get16(buf + 34 + 4), p.len - 34);
	cr_assert_eq(sum16(buf + 14, 20, 0), 0xffff);
	cr_assert_eq(l4_sum(&p), 0xffff);
	/* cut inside the UDP header: it stays as it was, the IP header follows the cut */
	p.len = 14 + 20 + 4;
	cr_assert_eq(pkt_finish(&p), 0);
	cr_assert_eq(get16(buf + 14 + 2), 24);
	cr_assert_eq(get16(buf + 34 + 4), sizeof(udp4_dns) - 34 - 10);
}

/* a UDP checksum that comes out 0 is sent as 0xffff: 0 says "none" */
Test(pkt_build, udp_checksum_zero_is_ffff)
{
	__u8 buf[64], word[2] = { 0, 0 };
	struct pkt_buf p = PKT_BUF(buf);
	__u16 c;

	v4_udp_odd(&p);
	pkt_bytes(&p, word, 1); /* 18 bytes of payload: even */
	pkt_bytes(&p, word, 2);
	cr_assert_eq(pkt_finish(&p), 0);
	c = get16(buf + 20 + 6);
	/* the checksum's own value as the last word makes the sum 0xffff: checksum 0 */
	buf[p.len - 2] = c >> 8;
	buf[p.len - 1] = c & 0xff;
	cr_assert_eq(pkt_finish(&p), 0);
	cr_assert_eq(get16(buf + 20 + 6), 0xffff, "checksum 0x%04x", get16(buf + 20 + 6));
	cr_assert_eq(l4_sum(&p), 0xffff);
}

static void step_eth(struct pkt_buf *p)
{
	pkt_eth(p, NULL, NULL, ETH_P_IP);
}

static void step_ipv4(struct pkt_buf *p)
{
	pkt_ipv4(p,
		 &(struct pkt_ip4){
			 .src = v4_src, .dst = v4_dst, .opts = "\x01\x01\x01\x00", .optlen = 4 });
}

static void step_ipv6(struct pkt_buf *p)
{
	pkt_ipv6(p, &(struct pkt_ip6){ .src = v6_src, .dst = v6_dst });
}

static void step_tcp(struct pkt_buf *p)
{
	pkt_tcp(p, &(struct pkt_tcp){ .dport = 1 });
}

static void step_udp(struct pkt_buf *p)
{
	pkt_udp(p, 1, 2);
}

static void step_arp(struct pkt_buf *p)
{
	pkt_arp(p, v4_src, v4_dst);
}

static void step_query(struct pkt_buf *p)
{
	pkt_dns_query(p, 1, "example.org", 1);
}

static void step_question(struct pkt_buf *p)
{
	pkt_dns_question(p, "example.org", 1, 1);
}

static void step_rr(struct pkt_buf *p)
{
	pkt_dns_rr(p, 1, 1, 60, v4_dst, 4);
}

static void step_rr_name(struct pkt_buf *p)
{
	pkt_dns_rr_name(p, 5, 1, 60, "a.example");
}

static void step_name(struct pkt_buf *p)
{
	pkt_dns_name(p, "a.example");
}

/* each step and the bytes it writes: one byte less is refused, the buffer untouched */
static const struct {
	const char *name;
	void (*step)(struct pkt_buf *p);
	size_t len;
} steps[] = {
	{ "Ethernet", step_eth, 14 },
	{ "IPv4 with 4 bytes of options", step_ipv4, 24 },
	{ "IPv6", step_ipv6, 40 },
	{ "TCP", step_tcp, 20 },
	{ "UDP", step_udp, 8 },
	{ "ARP", step_arp, 28 },
	{ "DNS query", step_query, 12 + 13 + 4 },
	{ "DNS question", step_question, 13 + 4 },
	{ "DNS A record", step_rr, 14 },
	{ "DNS CNAME record", step_rr_name, 10 + 11 },
	{ "DNS name", step_name, 11 },
};

Test(pkt_build, too_small_a_buffer)
{
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		__u8 buf[64];
		struct pkt_buf fits = { .b = buf, .size = steps[i].len };
		struct pkt_buf short_one = { .b = buf, .size = steps[i].len - 1 };

		steps[i].step(&fits);
		cr_assert_eq(fits.err, 0, "%s in %zu bytes: %d", steps[i].name, steps[i].len,
			     fits.err);
		cr_assert_eq(fits.len, steps[i].len, "%s: %zu bytes", steps[i].name, fits.len);
		memset(buf, 0xa5, sizeof(buf));
		steps[i].step(&short_one);
		cr_assert_eq(short_one.err, -ENOSPC, "%s in %zu bytes: %d, want -ENOSPC",
			     steps[i].name, steps[i].len - 1, short_one.err);
		cr_assert_eq(short_one.len, 0, "%s refused, yet %zu bytes written", steps[i].name,
			     short_one.len);
		for (size_t j = 0; j < sizeof(buf); j++)
			cr_assert_eq(buf[j], 0xa5, "%s refused, yet byte %zu changed",
				     steps[i].name, j);
		cr_assert_eq(pkt_finish(&short_one), -ENOSPC, "%s: pkt_finish", steps[i].name);
	}
}

/* the first error stays, the return of each step is its own */
Test(pkt_build, first_error_stays)
{
	__u8 buf[16];
	struct pkt_buf p = PKT_BUF(buf);

	cr_assert_eq(pkt_ipv4(&p, &(struct pkt_ip4){ .src = v4_src, .dst = v4_dst, .optlen = 3 }),
		     -EINVAL);
	cr_assert_eq(pkt_eth(&p, NULL, NULL, ETH_P_IP), 0);
	cr_assert_eq(pkt_udp(&p, 1, 2), -ENOSPC);
	cr_assert_eq(p.len, 14);
	cr_assert_eq(pkt_finish(&p), -EINVAL);
	pkt_reset(&p);
	cr_assert(p.len == 0 && p.err == 0 && p.b == buf && p.size == sizeof(buf));
}

Test(pkt_build, dns_names_as_given)
{
	static const struct {
		const char *name;
		const char *bytes;
		size_t len;
	} names[] = {
		{ "", "\x00", 1 },
		{ "a.bc",
		  "\x01"
		  "a\x02"
		  "bc\x00",
		  6 },
		{ "a.bc.",
		  "\x01"
		  "a\x02"
		  "bc\x00",
		  6 },
		{ ".a",
		  "\x00\x01"
		  "a\x00",
		  4 },
	};
	char label[300];

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		__u8 buf[32];
		struct pkt_buf p = PKT_BUF(buf);

		cr_assert_eq(pkt_dns_name(&p, names[i].name), 0, "'%s'", names[i].name);
		cr_assert_eq(p.len, names[i].len, "'%s': %zu bytes", names[i].name, p.len);
		cr_assert_arr_eq(buf, names[i].bytes, p.len, "'%s': bytes differ", names[i].name);
	}
	/* labels of 64 to 255 bytes go out as they are (tests send them); 256 cannot */
	for (size_t n = 63; n <= 256; n++) {
		__u8 buf[300];
		struct pkt_buf p = PKT_BUF(buf);

		memset(label, 'x', n);
		label[n] = '\0';
		cr_assert_eq(pkt_dns_name(&p, label), n < 256 ? 0 : -EINVAL, "a label of %zu", n);
		if (n < 256)
			cr_assert(p.len == n + 2 && buf[0] == n, "a label of %zu: %zu bytes", n,
				  p.len);
		else
			cr_assert_eq(p.len, 0);
	}
}

Test(pkt_build, dns_records)
{
	static const __u8 want[] = {
		0x42, 0x42, 0x81, 0x80, 0, 1, 0,    2,	  0,	0,    0, 0, /* header */
		1,    'a',  0,	  0,	1, 0, 1, /* question */
		0xc0, 12,   0,	  5,	0, 1, 0,    0,	  0,	60,   0, 4,
		1,    'b',  0xc0, 12, /* CNAME b.<a> */
		0xc0, 31,   0,	  1,	0, 1, 0x01, 0x02, 0x03, 0x04, 0, 4,
		10,   42,   7,	  11, /* A of b */
	};
	__u8 buf[64], b[4] = { 10, 42, 7, 11 };
	struct pkt_buf p = PKT_BUF(buf);

	pkt_dns_hdr(&p, 0x4242, 0x8180, 1, 2, 0, 0);
	pkt_dns_question(&p, "a", 1, 1);
	pkt_dns_ptr(&p, 12);
	pkt_dns_rr(&p, 5, 1, 60,
		   "\x01"
		   "b\xc0\x0c",
		   4);
	pkt_dns_ptr(&p, 31);
	pkt_dns_rr(&p, 1, 1, 0x01020304, b, 4);
	cr_assert_eq(p.err, 0);
	cr_assert_eq(p.len, sizeof(want));
	cr_assert_arr_eq(buf, want, sizeof(want));
	/* a name as the data: its length is the name's */
	pkt_reset(&p);
	cr_assert_eq(pkt_dns_rr_name(&p, 5, 1, 7, "lc.pool"), 0);
	cr_assert_eq(p.len, 10 + 9);
	cr_assert_eq(get16(buf + 8), 9);
	cr_assert_arr_eq(buf + 10, "\x02lc\x04pool\x00", 9);
	/* labels without the root, then a pointer */
	pkt_reset(&p);
	pkt_dns_labels(&p, "x.y");
	pkt_dns_ptr(&p, 12);
	cr_assert_arr_eq(buf, "\x01x\x01y\xc0\x0c", 6);
	cr_assert_eq(p.len, 6);
}

Test(pkt_build, dns_name_check)
{
	static const struct {
		const char *name;
		int want;
	} cases
		[] = {
			{ "example.org", 0 }, { "example.org.", 0 }, { "", 0 },
			{ ".", -EINVAL },     { "a..b", -EINVAL },   { ".a", -EINVAL },
			{ "a.b:c", 0 }, /* any byte in a label */
		};
	char name[300];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		cr_assert_eq(pkt_dns_name_check(cases[i].name), cases[i].want, "'%s'",
			     cases[i].name);
	memset(name, 'x', 63);
	strcpy(name + 63, ".org");
	cr_assert_eq(pkt_dns_name_check(name), 0, "a label of 63");
	name[63] = 'x';
	cr_assert_eq(pkt_dns_name_check(name), -EINVAL, "a label of 64");
	/* 4 labels: 63 + 63 + 63 + 61 and 3 dots: 253 */
	memset(name, 'x', 253);
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	cr_assert_eq(pkt_dns_name_check(name), 0, "253 bytes");
	strcpy(name + 253, "x");
	cr_assert_eq(pkt_dns_name_check(name), -EINVAL, "254 bytes");
}
