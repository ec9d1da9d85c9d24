/* frame_gen.h: the frame fuzzer's frames: a seeded PRNG, frames built at random, seeds mutated. */
#ifndef IRONCLAW_TEST_FRAME_GEN_H
#define IRONCLAW_TEST_FRAME_GEN_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include "pkt_build.h"

#define FRAME_MAX 1536

struct frame {
	uint8_t b[FRAME_MAX];
	size_t len;
};

/* splitmix64: one 64-bit state, so a run is reproduced from its seed alone */
static inline uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint32_t rnd_below(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(rnd(s) % n) : 0;
}

#define PICK(s, arr) ((arr)[rnd_below((s), sizeof(arr) / sizeof((arr)[0]))])

/* addresses a frame may carry: the sandbox's, the rules', their neighbours, special ones */
static const char *const fuzz_v4[] = {
	"10.42.0.2",   "10.42.0.3",	"10.42.0.53",	"10.42.0.54",	   "203.0.113.1",
	"203.0.113.2", "198.51.100.42", "198.51.100.7", "198.51.101.1",	   "10.42.7.11",
	"10.42.7.12",  "0.0.0.0",	"127.0.0.1",	"255.255.255.255", "10.42.0.1",
};
static const char *const fuzz_v6[] = {
	"fd00:42::2",
	"fd00:42::3",
	"fe80::2",
	"fe80::1",
	"::",
	"fd00:53::53",
	"fd00:53::54",
	"2001:db8:443::1",
	"2001:db8:443:ffff::9",
	"2001:db8:444::1",
	"fd00:7::11",
	"::ffff:10.42.7.11",
	"ff02::1",
	"ff02::2",
	"ff02::1:ff00:1",
	"::1",
	"fec0::1",
};
static const uint16_t fuzz_ports[] = { 53, 443, 8080, 8081, 9000, 9001, 9002, 9003, 22, 0, 65535 };
static const char *const fuzz_names[] = {
	"log-collector.internal.corp",
	"LOG-Collector.INTERNAL.Corp",
	"internal.corp",
	"a.b.internal.corp",
	"evilinternal.corp",
	"internal.corp.attacker.example",
	"example.org",
	"www.example.org",
	"EXAMPLE.ORG",
	"api.svc.example",
	"svc.example",
	"x",
	"",
	"a..b",
	"foo.internal.corp.",
};

/* the bytes of an address written as text (a table's entry, always valid) */
static inline void fuzz_addr(const char *text, uint8_t *out)
{
	memset(out, 0, 16);
	inet_pton(strchr(text, ':') ? AF_INET6 : AF_INET, text, out);
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* a DNS name: a table's, or random labels (long ones, odd bytes) */
static inline void gen_name(uint64_t *s, char *out, size_t max)
{
	size_t o = 0;
	int n;

	if (rnd_below(s, 3)) {
		snprintf(out, max, "%s", PICK(s, fuzz_names));
		return;
	}
	n = 1 + (int)rnd_below(s, 8);
	for (int i = 0; i < n && o + 70 < max; i++) {
		int l = rnd_below(s, 4) ? 1 + (int)rnd_below(s, 12) : 1 + (int)rnd_below(s, 70);

		for (int j = 0; j < l; j++)
			out[o++] = rnd_below(s, 16) ?
					   "abcdefghijklmnopqrstuvwxyz-_09AZ"[rnd_below(s, 32)] :
					   (char)(1 + rnd_below(s, 255));
		if (out[o - 1] == '.')
			out[o - 1] = 'q';
		out[o++] = '.';
	}
	snprintf(out + o, max - o, "%s", rnd_below(s, 2) ? "internal.corp" : "example.org");
}

/* a DNS query as the UDP payload: mostly well formed, sometimes with an OPT record or odd counts */
static inline void gen_dns(uint64_t *s, struct pkt_buf *p)
{
	static const uint16_t qtypes[] = { 1, 28, 5, 12, 33, 16, 255, 10, 15, 41 };
	char name[600];
	uint16_t flags = rnd_below(s, 4) ? 0x0100 : (uint16_t)rnd(s);
	uint16_t ar = rnd_below(s, 3) == 0;

	gen_name(s, name, sizeof(name));
	pkt_dns_hdr(p, (uint16_t)rnd(s), flags, rnd_below(s, 8) ? 1 : (uint16_t)rnd_below(s, 3),
		    rnd_below(s, 10) ? 0 : 1, 0, ar);
	if (pkt_dns_name(p, name))
		pkt_dns_name(p, "x.internal.corp");
	pkt_bytes(p, (uint8_t[]){ 0, 1, 0, 1 }, 4);
	wr16(p->b + p->len - 4, PICK(s, qtypes));
	if (!rnd_below(s, 10))
		wr16(p->b + p->len - 2, (uint16_t)rnd_below(s, 4));
	if (ar) {
		uint8_t data[64];

		memset(data, 0x5a, sizeof(data));
		pkt_dns_name(p, "");
		pkt_dns_rr(p, 41, 1232, 0, data, (uint16_t)rnd_below(s, 50));
	}
}

/* a frame built at random from the kinds the pipeline judges */
static inline void gen_frame(uint64_t *s, struct frame *f)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP,  IPPROTO_TCP,
					  IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6,
					  50,	       59,	     132 };
	struct pkt_buf p = { .b = f->b, .size = sizeof(f->b) };
	uint8_t src[16], dst[16];
	uint32_t kind = rnd_below(s, 20);
	int v6 = kind >= 10 && kind < 19;
	uint8_t proto = PICK(s, protos);
	uint16_t dport = rnd_below(s, 5) ? PICK(s, fuzz_ports) : (uint16_t)rnd(s);

	if (kind == 19) {
		pkt_eth(&p, NULL, NULL, ETH_P_ARP);
		fuzz_addr(PICK(s, fuzz_v4), src);
		fuzz_addr(PICK(s, fuzz_v4), dst);
		pkt_arp(&p, src, dst);
		goto done;
	}
	if (!rnd_below(s, 30)) {
		pkt_eth(&p, NULL, NULL, rnd_below(s, 2) ? ETH_P_8021Q : ETH_P_8021AD);
		pkt_vlan(&p, (uint16_t)rnd_below(s, 4096), v6 ? ETH_P_IPV6 : ETH_P_IP);
	} else {
		pkt_eth(&p, NULL, NULL, v6 ? ETH_P_IPV6 : ETH_P_IP);
	}
	fuzz_addr(rnd_below(s, 4) ? (v6 ? "fd00:42::2" : "10.42.0.2") :
				    (v6 ? PICK(s, fuzz_v6) : PICK(s, fuzz_v4)),
		  src);
	fuzz_addr(v6 ? PICK(s, fuzz_v6) : PICK(s, fuzz_v4), dst);
	if (dport == 53 && rnd_below(s, 2))
		fuzz_addr(v6 ? "fd00:53::53" : "10.42.0.53", dst);
	if (v6) {
		static const uint8_t exts[] = { IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING,
						IPPROTO_FRAGMENT };
		uint8_t chain[4];
		int n = rnd_below(s, 3) ? 0 : 1 + (int)rnd_below(s, 3);

		if (proto == IPPROTO_ICMP)
			proto = IPPROTO_ICMPV6;
		for (int i = 0; i < n; i++)
			chain[i] = PICK(s, exts);
		pkt_ipv6(&p, &(struct pkt_ip6){ .src = src,
						.dst = dst,
						.next = n ? chain[0] : proto,
						.hop_limit = rnd_below(s, 2) ? 255 : 64 });
		for (int i = 0; i < n; i++) {
			uint8_t next = i + 1 < n ? chain[i + 1] : proto;

			if (chain[i] == IPPROTO_FRAGMENT)
				pkt_frag6(&p, next,
					  rnd_below(s, 3) ? 0 : (uint16_t)rnd_below(s, 200),
					  (int)rnd_below(s, 2));
			else
				pkt_ext6(&p, next, (uint8_t)!rnd_below(s, 4));
		}
	} else {
		static const uint8_t opts[][8] = {
			{ 1, 1, 1, 0 },
			{ 0x44, 6, 5, 0, 0, 0, 1, 0 },
			{ 0x83, 7, 4, 10, 42, 7, 12, 0 },
			{ 0x89, 3, 4, 0 },
			{ 0x44, 1, 0, 0 },
			{ 0x44, 9, 0, 0 },
			{ 7, 3, 4, 0 },
		};
		int o = rnd_below(s, 4) ? -1 : (int)rnd_below(s, 7);
		uint16_t frag = rnd_below(s, 6) ? (rnd_below(s, 2) ? 0x4000 : 0) :
						  (uint16_t)rnd_below(s, 0x10000);

		if (proto == IPPROTO_ICMPV6)
			proto = IPPROTO_ICMP;
		pkt_ipv4(&p, &(struct pkt_ip4){ .src = src,
						.dst = dst,
						.proto = proto,
						.frag_off = frag,
						.opts = o < 0 ? NULL : opts[o],
						.optlen = o < 0 ? 0 : (o == 1 || o == 2 ? 8 : 4) });
	}
	if (proto == IPPROTO_TCP) {
		pkt_tcp(&p, &(struct pkt_tcp){ .sport = 50000, .dport = dport, .flags = TH_SYN });
		if (dport == 53 && rnd_below(s, 2))
			gen_dns(s, &p);
	} else if (proto == IPPROTO_UDP) {
		pkt_udp(&p, 50000, dport);
		if (dport == 53 && rnd_below(s, 4))
			gen_dns(s, &p);
		else
			pkt_zeros(&p, rnd_below(s, 40));
	} else if (proto == IPPROTO_ICMPV6) {
		static const uint8_t types[] = { 133, 134, 135, 136, 137, 128, 143 };

		pkt_icmp6(&p, PICK(s, types));
		pkt_zeros(&p, rnd_below(s, 3) ? 20 : rnd_below(s, 100));
	} else {
		pkt_zeros(&p, 8 + rnd_below(s, 32));
	}
done:
	pkt_finish(&p);
	f->len = p.len;
}

/* where the IP header and the transport header of a frame seem to start; 0 when not found */
static inline void frame_locate(const struct frame *f, size_t *l3, size_t *l4, int *v6)
{
	uint16_t et;

	*l3 = *l4 = 0;
	*v6 = 0;
	if (f->len < ETH_HLEN)
		return;
	et = rd16(f->b + 12);
	*l3 = ETH_HLEN;
	if ((et == ETH_P_8021Q || et == ETH_P_8021AD) && f->len >= 18) {
		et = rd16(f->b + 16);
		*l3 = 18;
	}
	if (et == ETH_P_IP && f->len >= *l3 + 20) {
		*l4 = *l3 + (f->b[*l3] & 15) * 4;
	} else if (et == ETH_P_IPV6 && f->len >= *l3 + 40) {
		uint8_t next = f->b[*l3 + 6];
		size_t off = *l3 + 40;

		*v6 = 1;
		for (int i = 0; i < 8 && off + 8 <= f->len; i++) {
			if (next == 0 || next == 60 || next == 43) {
				next = f->b[off];
				off += (f->b[off + 1] + 1) * 8;
			} else if (next == 44) {
				next = f->b[off];
				off += 8;
			} else {
				break;
			}
		}
		*l4 = off;
	} else {
		*l3 = 0;
	}
	if (*l4 > f->len)
		*l4 = 0;
}

/* the IP length fields (and UDP's) made to say the datagram ends where the frame does */
static inline void frame_fix_lengths(struct frame *f)
{
	size_t l3, l4;
	int v6;

	frame_locate(f, &l3, &l4, &v6);
	if (!l3)
		return;
	if (v6)
		wr16(f->b + l3 + 4, (uint16_t)(f->len - l3 - 40));
	else
		wr16(f->b + l3 + 2, (uint16_t)(f->len - l3));
	if (l4 && l4 + 8 <= f->len && f->b[l3 + (v6 ? 6 : 9)] == IPPROTO_UDP)
		wr16(f->b + l4 + 4, (uint16_t)(f->len - l4));
}

/* n bytes inserted at off (zeros), when they fit */
static inline int frame_insert(struct frame *f, size_t off, size_t n)
{
	if (off > f->len || f->len + n > FRAME_MAX)
		return -1;
	memmove(f->b + off + n, f->b + off, f->len - off);
	memset(f->b + off, 0, n);
	f->len += n;
	return 0;
}

/* one mutation of the frame: a bit, a byte, a length, a header field, a header more */
static inline void mutate_once(uint64_t *s, struct frame *f)
{
	size_t l3, l4;
	int v6;

	frame_locate(f, &l3, &l4, &v6);
	switch (rnd_below(s, 16)) {
	case 0: /* a bit */
		if (f->len)
			f->b[rnd_below(s, f->len * 8) / 8] ^= (uint8_t)(1u << rnd_below(s, 8));
		break;
	case 1: { /* a byte */
		static const uint8_t vals[] = { 0, 1, 0x7f, 0x80, 0xff, 0x3f, 0x40, 0xc0 };

		if (f->len)
			f->b[rnd_below(s, f->len)] =
				rnd_below(s, 2) ? PICK(s, vals) : (uint8_t)rnd(s);
		break;
	}
	case 2: /* cut */
		if (f->len > ETH_HLEN)
			f->len = ETH_HLEN + rnd_below(s, f->len - ETH_HLEN);
		break;
	case 3: { /* bytes past the end */
		size_t n = 1 + rnd_below(s, 64);

		if (f->len + n <= FRAME_MAX) {
			for (size_t i = 0; i < n; i++)
				f->b[f->len + i] = (uint8_t)rnd(s);
			f->len += n;
		}
		break;
	}
	case 4: /* an IP length field */
		if (l3 && f->len >= l3 + 6)
			wr16(f->b + l3 + (v6 ? 4 : 2), (uint16_t)(rd16(f->b + l3 + (v6 ? 4 : 2)) +
								  (int)rnd_below(s, 17) - 8));
		break;
	case 5: /* the source, or the destination */
		if (l3) {
			uint8_t a[16];
			int dst = (int)rnd_below(s, 2);

			fuzz_addr(v6 ? PICK(s, fuzz_v6) : PICK(s, fuzz_v4), a);
			memcpy(f->b + l3 + (v6 ? 8 + 16 * dst : 12 + 4 * dst), a, v6 ? 16 : 4);
		}
		break;
	case 6: /* a port */
		if (l4 && l4 + 4 <= f->len)
			wr16(f->b + l4 + 2 * rnd_below(s, 2), PICK(s, fuzz_ports));
		break;
	case 7: /* the transport protocol, or an extension header's next header */
		if (l3) {
			static const uint8_t protos[] = {
				6, 17, 1, 58, 0, 43, 44, 60, 50, 59, 255
			};

			f->b[l3 + (v6 ? 6 : 9)] = PICK(s, protos);
		}
		break;
	case 8: /* an IPv6 extension header in front of the chain */
		if (v6 && !frame_insert(f, l3 + 40, 8)) {
			static const uint8_t exts[] = { 0, 60, 43, 44 };
			uint8_t t = PICK(s, exts);

			f->b[l3 + 40] = f->b[l3 + 6];
			f->b[l3 + 6] = t;
			if (t == 43)
				f->b[l3 + 43] = (uint8_t)rnd_below(s, 2);
			if (t == 44)
				wr16(f->b + l3 + 42,
				     (uint16_t)(rnd_below(s, 3) ? rnd_below(s, 2) : rnd(s)));
			if (t != 44 && rnd_below(s, 4) == 0)
				f->b[l3 + 41] = (uint8_t)rnd_below(s, 3);
		}
		break;
	case 9: /* a VLAN tag */
		if (!frame_insert(f, 12, 4)) {
			wr16(f->b + 12, rnd_below(s, 2) ? ETH_P_8021Q : ETH_P_8021AD);
			wr16(f->b + 14, (uint16_t)rnd_below(s, 4096));
		}
		break;
	case 10: /* IPv4: the header length, with options of some kind */
		if (l3 && !v6) {
			size_t n = 4 * (1 + rnd_below(s, 4));

			if (!frame_insert(f, l3 + 20, n)) {
				for (size_t i = 0; i < n; i++)
					f->b[l3 + 20 + i] = rnd_below(s, 3) ? 1 : (uint8_t)rnd(s);
				f->b[l3] = (uint8_t)(0x40 | ((f->b[l3] & 15) + n / 4));
			}
		}
		break;
	case 11: /* IPv4: the fragment field */
		if (l3 && !v6)
			wr16(f->b + l3 + 6, rnd_below(s, 2) ? (uint16_t)(1u << rnd_below(s, 16)) :
							      (uint16_t)rnd(s));
		break;
	case 12: /* DNS: a header byte or a name's byte */
		if (l4 && l4 + 8 + 12 < f->len) {
			size_t at = l4 + 8 + rnd_below(s, (uint32_t)(f->len - l4 - 8));

			f->b[at] = rnd_below(s, 2) ? (uint8_t)rnd(s) : (uint8_t)rnd_below(s, 70);
		}
		break;
	case 13: /* the TCP data offset, the ICMPv6 type, the hop limit */
		if (l4 && l4 + 13 <= f->len && rnd_below(s, 2))
			f->b[l4 + 12] = (uint8_t)(rnd_below(s, 16) << 4);
		else if (l4 && l4 < f->len)
			f->b[l4] = (uint8_t)(133 + rnd_below(s, 5));
		if (v6 && rnd_below(s, 2))
			f->b[l3 + 7] = rnd_below(s, 2) ? 255 : (uint8_t)rnd(s);
		break;
	case 14: /* the ethertype */
		if (f->len >= ETH_HLEN) {
			static const uint16_t ets[] = { ETH_P_IP, ETH_P_IPV6, ETH_P_ARP, 0x88cc,
							ETH_P_8021Q };

			wr16(f->b + 12, PICK(s, ets));
		}
		break;
	default: /* bytes out of the middle */
		if (l3 && f->len > l3 + 1) {
			size_t at = l3 + rnd_below(s, (uint32_t)(f->len - l3));
			size_t n = 1 + rnd_below(s, (uint32_t)(f->len - at));

			memmove(f->b + at, f->b + at + n, f->len - at - n);
			f->len -= n;
		}
	}
}

/* one to four mutations, then lengths made consistent half the time (deeper checks run) */
static inline void mutate(uint64_t *s, struct frame *f)
{
	int n = 1 + (int)rnd_below(s, 4);

	for (int i = 0; i < n; i++)
		mutate_once(s, f);
	if (rnd_below(s, 2))
		frame_fix_lengths(f);
}

/* the frame as hex, for a report; out holds 2 * FRAME_MAX + 1 */
static inline const char *frame_hex(const struct frame *f, char *out)
{
	for (size_t i = 0; i < f->len; i++)
		sprintf(out + 2 * i, "%02x", f->b[i]);
	out[2 * f->len] = 0;
	return out;
}

/* a frame from a line of hex (what follows a space is a comment); -1 for no frame */
static inline int frame_parse_hex(const char *line, struct frame *f)
{
	size_t n = 0;

	while (line[0] && line[1] && line[0] != ' ' && line[0] != '#' && line[0] != '\n') {
		unsigned int v;

		if (n == FRAME_MAX || sscanf(line, "%2x", &v) != 1)
			return -1;
		f->b[n++] = (uint8_t)v;
		line += 2;
	}
	f->len = n;
	return n ? 0 : -1;
}

#endif
