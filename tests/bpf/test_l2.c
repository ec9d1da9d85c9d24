/*
 * test_l2.c: layer 2 at the host-side hooks (include/l2_link.h), with the
 * link's settings written as the loader does: the sandbox's MAC the only
 * source, IP only to the gateway's MAC, no trailer, ARP and ND only what
 * reaching the gateway needs. Each frame: its verdict and reason at tc
 * ingress and at XDP.
 */
#include <criterion/criterion.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "l2_link.h"
#include "pkt.h"
#include "pipeline_run.h"

static const char *const rules[] = {
	"allow tcp 10.42.7.11 port 8080",
	"allow tcp fd00:7::11 port 8080",
};

/* pkt_eth's defaults: the frames come from SANDBOX_MAC and go to GATEWAY_MAC */
static const __u8 SANDBOX_MAC[6] = { 2, 0, 0, 0, 0, 2 };
static const __u8 GATEWAY_MAC[6] = { 2, 0, 0, 0, 0, 1 };
static const __u8 NEIGHBOUR_MAC[6] = { 2, 0, 0, 0, 0, 0x99 };
static const __u8 BROADCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
#define LO_IFINDEX 1 /* a test run's device */

static void link_settings(void)
{
	struct l2_link l = { .nr_dst = 1, .nr_gw4 = 1, .nr_gw6 = 2, .flags = L2_F_BRIDGED };
	__u32 key = LO_IFINDEX;
	int fd = pins_get(inst, "l2_links");

	cr_assert_geq(fd, 0, "l2_links is not pinned");
	memcpy(l.mac, SANDBOX_MAC, 6);
	memcpy(l.dst[0], GATEWAY_MAC, 6);
	memcpy(l.gw4[0], ADDR("10.42.0.1"), 4);
	memcpy(l.gw6[0], ADDR("fe80::1"), 16);
	memcpy(l.gw6[1], ADDR("fd00:42::1"), 16);
	cr_assert_eq(bpf_map_update_elem(fd, &key, &l, BPF_ANY), 0);
	close(fd);
}

static void setup(void)
{
	snprintf(inst, sizeof(inst), "bpfl2%d", getpid());
	install_lines(rules, sizeof(rules) / sizeof(rules[0]));
	link_settings();
	run_tc_ingress_ifindex = LO_IFINDEX;
}

TestSuite(l2, .init = setup, .fini = remove_instance);

static void ipv4_tcp(struct pkt_buf *p, const __u8 *dst_mac, const __u8 *src_mac)
{
	pkt_reset(p);
	pkt_eth(p, dst_mac, src_mac, ETH_P_IP);
	pkt_ipv4(p, &(struct pkt_ip4){ .src = ADDR("10.42.0.2"),
				       .dst = ADDR("10.42.7.11"),
				       .proto = IPPROTO_TCP });
	pkt_tcp(p, &(struct pkt_tcp){ .sport = TEST_SPORT, .dport = 8080, .flags = TH_SYN });
	cr_assert_eq(pkt_finish(p), 0);
}

static void ipv6_tcp(struct pkt_buf *p, const __u8 *dst_mac)
{
	pkt_reset(p);
	pkt_eth(p, dst_mac, NULL, ETH_P_IPV6);
	pkt_ipv6(p, &(struct pkt_ip6){ .src = ADDR("fd00:42::2"),
				       .dst = ADDR("fd00:7::11"),
				       .next = IPPROTO_TCP,
				       .hop_limit = 64 });
	pkt_tcp(p, &(struct pkt_tcp){ .sport = TEST_SPORT, .dport = 8080, .flags = TH_SYN });
	cr_assert_eq(pkt_finish(p), 0);
}

Test(l2, ip_frames)
{
	static const __u8 mcast6[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	FRAME(p);

	ipv4_tcp(&p, NULL, NULL);
	expect("IPv4 to the gateway's MAC", &p, REASON_RULE);
	ipv4_tcp(&p, BROADCAST, NULL);
	expect("IPv4 to the broadcast MAC", &p, REASON_L2_DST);
	ipv4_tcp(&p, NEIGHBOUR_MAC, NULL);
	expect("IPv4 to a neighbour's MAC", &p, REASON_L2_DST);
	ipv4_tcp(&p, NULL, NEIGHBOUR_MAC);
	expect("IPv4 from another MAC", &p, REASON_SPOOFED_MAC);
	ipv4_tcp(&p, NULL, NULL);
	cr_assert_eq(pkt_zeros(&p, 900), 0);
	expect("IPv4 with 900 bytes after the datagram", &p, REASON_TRAILER);
	ipv4_tcp(&p, NULL, NULL);
	cr_assert_eq(pkt_zeros(&p, 6), 0);
	expect("IPv4 padded to 60 bytes", &p, REASON_TRAILER);

	ipv6_tcp(&p, NULL);
	expect("IPv6 to the gateway's MAC", &p, REASON_RULE);
	ipv6_tcp(&p, mcast6);
	expect("IPv6 TCP to a multicast MAC", &p, REASON_L2_DST);
	ipv6_tcp(&p, BROADCAST);
	expect("IPv6 to the broadcast MAC", &p, REASON_L2_DST);
	ipv6_tcp(&p, NULL);
	cr_assert_eq(pkt_zeros(&p, 8), 0);
	expect("IPv6 with a trailer", &p, REASON_TRAILER);
}

/* without the link's settings (tc egress, another interface) nothing of this is checked */
Test(l2, only_where_the_link_has_settings)
{
	FRAME(p);

	ipv4_tcp(&p, BROADCAST, NEIGHBOUR_MAC);
	cr_assert_eq(pkt_zeros(&p, 100), 0);
	run_tc_ingress_ifindex = 0;
	{
		uint32_t ret;
		unsigned int got;

		run(&p, &ret, &got);
		cr_expect_eq(got, REASON_RULE, "at tc egress: %s", reason_name(got));
	}
	run_tc_ingress_ifindex = LO_IFINDEX;
}

/* an ARP message: op, sender MAC, target MAC and address, to dst_mac; extra: trailer bytes */
static void arp(struct pkt_buf *p, const __u8 *dst_mac, __u16 op, const __u8 *sha, const char *tip,
		const __u8 *tha, size_t extra)
{
	size_t at;

	pkt_reset(p);
	pkt_eth(p, dst_mac ? dst_mac : BROADCAST, NULL, ETH_P_ARP);
	at = p->len;
	pkt_arp(p, ADDR("10.42.0.2"), ADDR(tip));
	p->b[at + 6] = op >> 8;
	p->b[at + 7] = op & 0xff;
	memcpy(p->b + at + 8, sha, 6);
	if (tha)
		memcpy(p->b + at + 18, tha, 6);
	cr_assert_eq(pkt_zeros(p, extra), 0);
	cr_assert_eq(pkt_finish(p), 0);
}

Test(l2, arp)
{
	FRAME(p);

	arp(&p, NULL, 1, SANDBOX_MAC, "10.42.0.1", NULL, 0);
	expect("ARP request for the gateway", &p, REASON_ARP);
	arp(&p, GATEWAY_MAC, 2, SANDBOX_MAC, "10.42.0.1", GATEWAY_MAC, 0);
	expect("ARP reply to the gateway", &p, REASON_ARP);
	arp(&p, GATEWAY_MAC, 1, SANDBOX_MAC, "10.42.0.1", NULL, 0);
	expect("ARP request to the gateway's MAC (a probe)", &p, REASON_ARP);
	arp(&p, NULL, 1, SANDBOX_MAC, "10.42.0.1", NULL, 18);
	expect("ARP with a trailer (padded to 60)", &p, REASON_TRAILER);
	arp(&p, NULL, 1, SANDBOX_MAC, "10.42.0.1", NULL, 900);
	expect("ARP with 900 bytes of trailer", &p, REASON_TRAILER);
	arp(&p, NULL, 3, SANDBOX_MAC, "10.42.0.1", NULL, 0);
	expect("ARP opcode 3", &p, REASON_ARP_DENIED);
	arp(&p, NULL, 1, SANDBOX_MAC, "10.42.0.77", NULL, 0);
	expect("ARP for a neighbour", &p, REASON_ARP_DENIED);
	arp(&p, NULL, 1, SANDBOX_MAC, "10.42.0.1", NEIGHBOUR_MAC, 0);
	expect("ARP carrying a target MAC of no gateway", &p, REASON_ARP_DENIED);
	arp(&p, NULL, 1, NEIGHBOUR_MAC, "10.42.0.1", NULL, 0);
	expect("ARP with another sender MAC", &p, REASON_SPOOFED_MAC);
	arp(&p, NEIGHBOUR_MAC, 2, SANDBOX_MAC, "10.42.0.1", GATEWAY_MAC, 0);
	expect("ARP to a neighbour's MAC", &p, REASON_L2_DST);
}

/* an ICMPv6 message of type from src to dst (eth_dst), body bytes after type/code/checksum */
static void icmp6(struct pkt_buf *p, const __u8 *eth_dst, const char *src, const char *dst,
		  __u8 type, const void *body, size_t len, int dest_opts)
{
	pkt_reset(p);
	pkt_eth(p, eth_dst, NULL, ETH_P_IPV6);
	pkt_ipv6(p, &(struct pkt_ip6){ .src = ADDR(src),
				       .dst = ADDR(dst),
				       .next = dest_opts ? IPPROTO_DSTOPTS : IPPROTO_ICMPV6,
				       .hop_limit = 255 });
	if (dest_opts)
		pkt_ext6(p, IPPROTO_ICMPV6, 0);
	pkt_icmp6(p, type);
	cr_assert_eq(pkt_bytes(p, body, len), 0);
	cr_assert_eq(pkt_finish(p), 0);
}

/* reserved word, target address, and an option (type, length 1, MAC): 28 bytes */
static size_t nd_body(__u8 *b, const char *target, __u8 opt, const __u8 *mac)
{
	memset(b, 0, 28);
	memcpy(b + 4, ADDR(target), 16);
	if (!opt)
		return 20;
	b[20] = opt;
	b[21] = 1;
	memcpy(b + 22, mac, 6);
	return 28;
}

Test(l2, neighbour_discovery)
{
	static const __u8 sn1[6] = { 0x33, 0x33, 0xff, 0, 0, 1 },
			  sn99[6] = { 0x33, 0x33, 0xff, 0, 0, 0x99 };
	static const __u8 routers[6] = { 0x33, 0x33, 0, 0, 0, 2 };
	__u8 b[1024] = {};
	size_t n;
	FRAME(p);

	n = nd_body(b, "fe80::1", 1, SANDBOX_MAC);
	icmp6(&p, sn1, "fe80::2", "ff02::1:ff00:1", 135, b, n, 0);
	expect("NS for the gateway", &p, REASON_ND);
	n = nd_body(b, "fe80::1", 0, NULL);
	icmp6(&p, NULL, "fe80::2", "fe80::1", 135, b, n, 0);
	expect("NS to the gateway itself (unicast)", &p, REASON_ND);
	n = nd_body(b, "fe80::99", 1, SANDBOX_MAC);
	icmp6(&p, sn99, "fe80::2", "ff02::1:ff00:99", 135, b, n, 0);
	expect("NS for a neighbour", &p, REASON_ND_DENIED);
	n = nd_body(b, "fe80::1", 1, SANDBOX_MAC);
	icmp6(&p, sn99, "fe80::2", "ff02::1:ff00:1", 135, b, n, 0);
	expect("NS to another group's MAC", &p, REASON_L2_DST);
	n = nd_body(b, "fe80::1", 1, NEIGHBOUR_MAC);
	icmp6(&p, sn1, "fe80::2", "ff02::1:ff00:1", 135, b, n, 0);
	expect("NS with another link-layer address", &p, REASON_SPOOFED_MAC);
	n = nd_body(b, "fe80::1", 14, SANDBOX_MAC);
	icmp6(&p, sn1, "fe80::2", "ff02::1:ff00:1", 135, b, n, 0);
	expect("NS with a nonce option", &p, REASON_ND_DENIED);
	n = nd_body(b, "fe80::1", 1, SANDBOX_MAC);
	b[0] = 0x5a;
	icmp6(&p, sn1, "fe80::2", "ff02::1:ff00:1", 135, b, n, 0);
	expect("NS with its reserved word set", &p, REASON_ND_DENIED);
	n = nd_body(b, "fe80::1", 1, SANDBOX_MAC);
	icmp6(&p, sn1, "fe80::2", "ff02::1:ff00:1", 135, b, n + 900, 0);
	expect("NS with 900 bytes of options", &p, REASON_ND_DENIED);
	icmp6(&p, sn1, "fe80::2", "ff02::1:ff00:1", 135, b, n, 1);
	/* not ND to layer 2: a multicast frame that is no ND message (parse.h: nd_denied) */
	expect("NS after a destination options header", &p, REASON_L2_DST);
	n = nd_body(b, "fe80::2", 0, NULL);
	icmp6(&p, (const __u8[6]){ 0x33, 0x33, 0xff, 0, 0, 2 }, "::", "ff02::1:ff00:2", 135, b, n,
	      0);
	expect("NS for duplicate address detection", &p, REASON_ND_DENIED);

	n = nd_body(b, "fd00:42::2", 2, SANDBOX_MAC);
	b[0] = 0x60; /* solicited, override */
	icmp6(&p, NULL, "fd00:42::2", "fe80::1", 136, b, n, 0);
	expect("NA to the gateway", &p, REASON_ND);
	icmp6(&p, (const __u8[6]){ 0x33, 0x33, 0, 0, 0, 1 }, "fd00:42::2", "ff02::1", 136, b, n, 0);
	expect("NA to every node", &p, REASON_ND_DENIED);
	b[0] = 0xe0;
	icmp6(&p, NULL, "fd00:42::2", "fe80::1", 136, b, n, 0);
	expect("NA as a router", &p, REASON_ND_DENIED);
	n = nd_body(b, "fd00:42::3", 2, SANDBOX_MAC);
	icmp6(&p, NULL, "fd00:42::2", "fe80::1", 136, b, n, 0);
	expect("NA for another address", &p, REASON_ND_DENIED);
	n = nd_body(b, "fd00:42::2", 2, SANDBOX_MAC);
	icmp6(&p, NEIGHBOUR_MAC, "fd00:42::2", "fe80::1", 136, b, n, 0);
	expect("NA to a neighbour's MAC", &p, REASON_L2_DST);

	memset(b, 0, sizeof(b));
	icmp6(&p, routers, "fe80::2", "ff02::2", 133, b, 4, 0);
	expect("RS", &p, REASON_ND);
	b[4] = 1;
	b[5] = 1;
	memcpy(b + 6, SANDBOX_MAC, 6);
	icmp6(&p, routers, "fe80::2", "ff02::2", 133, b, 12, 0);
	expect("RS with the sandbox's link-layer address", &p, REASON_ND);
	icmp6(&p, routers, "::", "ff02::2", 133, b, 12, 0);
	expect("RS from :: with a link-layer address", &p, REASON_ND_DENIED);
	memset(b, 0, sizeof(b));
	b[0] = 7;
	icmp6(&p, routers, "fe80::2", "ff02::2", 133, b, 4, 0);
	expect("RS with its reserved word set", &p, REASON_ND_DENIED);
}

/* MLD reports are denied under their own reason, and not logged */
Test(l2, mld)
{
	static const __u8 mld_mac[6] = { 0x33, 0x33, 0, 0, 0, 0x16 };
	__u8 body[24] = { 0 };
	FRAME(p);

	pkt_eth(&p, mld_mac, NULL, ETH_P_IPV6);
	pkt_ipv6(&p, &(struct pkt_ip6){ .src = ADDR("fe80::2"),
					.dst = ADDR("ff02::16"),
					.next = IPPROTO_HOPOPTS,
					.hop_limit = 1 });
	pkt_ext6(&p, IPPROTO_ICMPV6, 0);
	pkt_icmp6(&p, 143);
	body[3] = 1; /* one record */
	cr_assert_eq(pkt_bytes(&p, body, sizeof(body)), 0);
	cr_assert_eq(pkt_finish(&p), 0);
	expect("MLDv2 report", &p, REASON_MLD);
}
