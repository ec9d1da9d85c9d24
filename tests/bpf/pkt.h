/* pkt.h: a small builder for test frames: Ethernet / VLAN / IPv4 | IPv6 (+ext) / TCP | UDP | ICMPv6 | ARP. */
#ifndef IRONCLAW_TEST_PKT_H
#define IRONCLAW_TEST_PKT_H

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

struct pkt {
	uint8_t b[1024];
	size_t len;
	size_t l3; /* where the IP header starts, for pkt_finish */
	int family;
};

static inline void *pkt_put(struct pkt *p, size_t n)
{
	void *at = p->b + p->len;

	memset(at, 0, n);
	p->len += n;
	return at;
}

static inline void pkt_eth(struct pkt *p, uint16_t ethertype)
{
	uint8_t *e = pkt_put(p, ETH_HLEN);

	memcpy(e, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	e[12] = ethertype >> 8;
	e[13] = ethertype & 0xff;
}

/* an 802.1Q tag; the frame's ethertype must be ETH_P_8021Q */
static inline void pkt_vlan(struct pkt *p, uint16_t vid, uint16_t inner)
{
	uint8_t *v = pkt_put(p, 4);

	v[0] = vid >> 8;
	v[1] = vid & 0xff;
	v[2] = inner >> 8;
	v[3] = inner & 0xff;
}

static inline void pkt_ipv4(struct pkt *p, const char *src, const char *dst, uint8_t proto,
			    const uint8_t *opts, size_t optlen, uint16_t frag_off)
{
	uint8_t *ip;

	p->l3 = p->len;
	p->family = AF_INET;
	ip = pkt_put(p, 20 + optlen);
	ip[0] = 0x40 | ((20 + optlen) / 4);
	ip[6] = frag_off >> 8;
	ip[7] = frag_off & 0xff;
	ip[8] = 64;
	ip[9] = proto;
	inet_pton(AF_INET, src, ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	if (optlen)
		memcpy(ip + 20, opts, optlen);
}

static inline void pkt_ipv6(struct pkt *p, const char *src, const char *dst, uint8_t next,
			    uint8_t hop_limit)
{
	uint8_t *ip;

	p->l3 = p->len;
	p->family = AF_INET6;
	ip = pkt_put(p, 40);
	ip[0] = 0x60;
	ip[6] = next;
	ip[7] = hop_limit;
	inet_pton(AF_INET6, src, ip + 8);
	inet_pton(AF_INET6, dst, ip + 24);
}

/* hop-by-hop, destination options or routing header of 8 bytes */
static inline void pkt_ext6(struct pkt *p, uint8_t next, uint8_t segments_left)
{
	uint8_t *h = pkt_put(p, 8);

	h[0] = next;
	h[1] = 0;
	h[3] = segments_left; /* routing header only; options headers: PadN data */
}

static inline void pkt_frag6(struct pkt *p, uint8_t next, uint16_t offset8, int more)
{
	uint8_t *h = pkt_put(p, 8);
	uint16_t v = (offset8 << 3) | (more ? 1 : 0);

	h[0] = next;
	h[2] = v >> 8;
	h[3] = v & 0xff;
	h[7] = 0x42; /* identification */
}

static inline void pkt_tcp(struct pkt *p, uint16_t dport)
{
	uint8_t *t = pkt_put(p, 20);

	t[0] = 0xc3;
	t[1] = 0x50; /* sport 50000 */
	t[2] = dport >> 8;
	t[3] = dport & 0xff;
	t[12] = 5 << 4;
	t[13] = 0x02; /* SYN */
}

static inline void pkt_udp(struct pkt *p, uint16_t dport)
{
	uint8_t *u = pkt_put(p, 8);

	u[0] = 0xc3;
	u[1] = 0x50;
	u[2] = dport >> 8;
	u[3] = dport & 0xff;
	u[5] = 8;
}

static inline void pkt_icmp6(struct pkt *p, uint8_t type)
{
	uint8_t *i = pkt_put(p, 24);

	i[0] = type;
}

static inline void pkt_arp(struct pkt *p, const char *sender, const char *target)
{
	uint8_t *a = pkt_put(p, 28);

	a[1] = 1; /* Ethernet */
	a[2] = 0x08; /* IPv4 */
	a[4] = 6;
	a[5] = 4;
	a[7] = 1; /* request */
	inet_pton(AF_INET, sender, a + 14);
	inet_pton(AF_INET, target, a + 24);
}

/* lengths in the IP header; call after the last layer */
static inline void pkt_finish(struct pkt *p)
{
	uint8_t *ip = p->b + p->l3;
	size_t n = p->len - p->l3;

	if (p->family == AF_INET) {
		ip[2] = n >> 8;
		ip[3] = n & 0xff;
	} else if (p->family == AF_INET6) {
		ip[4] = (n - 40) >> 8;
		ip[5] = (n - 40) & 0xff;
	}
}

#endif
