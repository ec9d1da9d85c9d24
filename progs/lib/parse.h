/* parse.h: header parsing over a bounds-checked cursor; returns the next protocol or a deny reason. */
#ifndef IRONCLAW_PROGS_PARSE_H
#define IRONCLAW_PROGS_PARSE_H

#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmpv6.h>
#include "common.h"

#define IPV6_MAX_EXT_HDRS 8
#define IPV4_MAX_OPT_LEN 40

#define IPOPT_LSRR_TYPE 131
#define IPOPT_SSRR_TYPE 137

#define IP4_MF 0x2000
#define IP4_OFFSET 0x1fff
#define ND_ROUTER_SOLICIT 133
#define ND_NEIGHBOUR_SOLICIT 135
#define ND_NEIGHBOUR_ADVERT 136

#define IP6_OFFSET_MASK 0xfff8
#define IP6_MF_FLAG 0x0001

/*
 * pos and end bound what the program may read (end is the linear data the
 * verifier knows); off is pos as an offset into the frame, lim where the
 * datagram ends: the frame's length, then the IP header's own length. A
 * header must fit both.
 */
struct cursor {
	void *pos;
	void *end;
	__u32 off;
	__u32 lim;
};

/* what the parser learned; PARSE_OK means "ask the class map" */
#define PARSE_OK REASON_MAX

struct parsed {
	__u8 family;
	__u8 l4proto; /* TCP, UDP, or ICMPV6 for neighbour discovery */
	__u8 is_nd; /* 0, or the ICMPv6 type of an acceptable ND message */
	__u8 frag_first; /* IPv6: inside a first fragment */
	__u16 l3_off;
	__u16 l4_off;
	__be16 sport;
	__be16 dport;
	__u8 saddr[16];
	__u8 daddr[16];
};

static __always_inline int cursor_has(const struct cursor *c, __u32 len)
{
	return c->pos + len <= c->end && c->off + len <= c->lim;
}

static __always_inline void cursor_skip(struct cursor *c, __u32 len)
{
	c->pos += len;
	c->off += len;
}

/*
 * ND messages are small: the fixed part (8 bytes for a router solicitation,
 * 24 with the target for a neighbour solicitation or advertisement) and at
 * most one 8-byte link-layer address option (l2.h checks which).
 */
#define ND_RS_LEN 8
#define ND_NS_LEN 24
#define ND_OPT_LEN 8

/* MLD queries, reports and done (RFC 2710, 3810) */
#define MLD_QUERY 130
#define MLD_REPORT 131
#define MLD_DONE 132
#define MLD2_REPORT 143

struct ipv4_opt_walk {
	__u8 buf[64];
	__u32 len; /* option bytes in buf */
	__u32 pos;
	int result;
};

/* one step of the option walk, run by bpf_loop(): verified once, not per path */
static int ipv4_opt_step(__u32 index, void *data)
{
	struct ipv4_opt_walk *w = data;
	__u32 pos = w->pos;
	__u8 type, len;

	if (pos >= w->len || pos >= IPV4_MAX_OPT_LEN)
		return 1;
	type = w->buf[pos & 63];
	if (type == IPOPT_END)
		return 1;
	if (type == IPOPT_NOOP) {
		w->pos = pos + 1;
		return 0;
	}
	if (pos + 1 >= w->len) {
		w->result = REASON_MALFORMED;
		return 1;
	}
	len = w->buf[(pos + 1) & 63];
	if (len < 2 || pos + len > w->len) {
		w->result = REASON_MALFORMED;
		return 1;
	}
	if (type == IPOPT_LSRR_TYPE || type == IPOPT_SSRR_TYPE) {
		w->result = REASON_SOURCE_ROUTE;
		return 1;
	}
	w->pos = pos + len;
	return 0;
}

/*
 * IPv4 options: skip what we understand, refuse source routes (the header's
 * destination is then not where the packet goes) and malformed lists. The
 * caller has checked that optlen (<= 40) bytes are in the packet.
 */
static __always_inline int parse_ipv4_options(__u8 *opt, void *end, __u32 optlen)
{
	struct ipv4_opt_walk w = { .len = optlen, .result = PARSE_OK };

	for (int j = 0; j < IPV4_MAX_OPT_LEN; j++) {
		if (j >= optlen || (void *)(opt + j + 1) > end)
			break;
		w.buf[j] = opt[j];
	}
	bpf_loop(IPV4_MAX_OPT_LEN, ipv4_opt_step, &w, 0);
	return w.result;
}

/*
 * The IPv6 extension headers' walk, one header a step of bpf_loop(): the
 * verifier walks a step once, where the unrolled loop (IPV6_MAX_EXT_HDRS
 * headers) made it verify the rest of the dispatcher once per header count
 * and kind, 85% of its work. start and end bound the linear data, off is the
 * header's offset from start, lim where the datagram ends. result: 0 while
 * the walk goes on, PARSE_OK at the transport header (nexthdr), or the
 * reason the packet is refused.
 */
struct ipv6_ext_walk {
	void *start;
	void *end;
	__u32 off;
	__u32 lim;
	int result;
	__u8 nexthdr;
	__u8 frag_first;
};

/* no chain of IPV6_MAX_EXT_HDRS headers (2,048 bytes at most each) starts beyond this */
#define IPV6_EXT_MAX_OFF 0x7fff

static int ipv6_ext_step(__u32 index, void *data)
{
	struct ipv6_ext_walk *w = data;
	__u32 off = w->off, len;
	__u8 *h;

	switch (w->nexthdr) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_ICMPV6:
		w->result = PARSE_OK;
		return 1;
	case IPPROTO_HOPOPTS:
		if (index != 0) {
			w->result = REASON_MALFORMED;
			return 1;
		}
		break;
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_FRAGMENT:
		break;
	default:
		w->result = REASON_L4_PROTO;
		return 1;
	}
	h = w->start + (off & IPV6_EXT_MAX_OFF);
	if (off > IPV6_EXT_MAX_OFF || (void *)(h + 8) > w->end || off + 8 > w->lim)
		goto truncated;
	if (w->nexthdr == IPPROTO_FRAGMENT) {
		__u16 foff = ((__u16)h[2] << 8) | h[3];

		if (foff & IP6_OFFSET_MASK) {
			w->result = REASON_FRAGMENT;
			return 1;
		}
		if (foff & IP6_MF_FLAG)
			w->frag_first = 1;
		len = 8;
	} else {
		if (w->nexthdr == IPPROTO_ROUTING && h[3] != 0) {
			w->result = REASON_SOURCE_ROUTE;
			return 1;
		}
		len = ((__u32)h[1] + 1) * 8;
	}
	w->nexthdr = h[0];
	if ((void *)(h + len) > w->end || off + len > w->lim)
		goto truncated;
	w->off = off + len;
	return 0;
truncated:
	w->result = w->frag_first ? REASON_FRAG_CHAIN : REASON_TRUNCATED;
	return 1;
}

/* from the first extension header (nexthdr) at the cursor to the transport header */
static __always_inline int parse_ipv6_ext(struct cursor *c, void *start, __u8 nexthdr,
					  struct parsed *p)
{
	struct ipv6_ext_walk w = {
		.start = start, .end = c->end, .off = c->off, .lim = c->lim, .nexthdr = nexthdr
	};

	bpf_loop(IPV6_MAX_EXT_HDRS, ipv6_ext_step, &w, 0);
	p->frag_first = w.frag_first;
	if (!w.result) /* IPV6_MAX_EXT_HDRS headers and still no transport header */
		return w.frag_first ? REASON_FRAG_CHAIN : REASON_MALFORMED;
	if (w.result != PARSE_OK)
		return w.result;
	if (w.off > IPV6_EXT_MAX_OFF) /* the step checked it: for the verifier */
		return REASON_TRUNCATED;
	p->l4proto = w.nexthdr;
	c->pos = start + w.off;
	c->off = w.off;
	return PARSE_OK;
}

/*
 * The addresses are filled in as soon as the base header is there, so that a
 * forged source is reported as such whatever else is wrong with the packet.
 */
static __always_inline int parse_ipv4(struct cursor *c, void *start, struct parsed *p)
{
	struct iphdr *ip = c->pos;
	__u32 hlen, tot;
	int r;

	if (!cursor_has(c, sizeof(*ip)))
		return REASON_TRUNCATED;
	if (ip->version != 4)
		return REASON_MALFORMED;
	p->family = AF_INET;
	p->l3_off = c->off;
	__builtin_memcpy(p->saddr, &ip->saddr, 4);
	__builtin_memcpy(p->daddr, &ip->daddr, 4);
	p->l4proto = ip->protocol;
	if (ip->ihl < 5)
		return REASON_MALFORMED;
	hlen = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	if (tot < hlen)
		return REASON_MALFORMED;
	if (p->l3_off + tot > c->lim)
		return REASON_TRUNCATED;
	c->lim = p->l3_off + tot; /* bytes past the datagram are not judged */
	if (!cursor_has(c, hlen))
		return REASON_TRUNCATED;
	if (hlen > sizeof(*ip)) {
		r = parse_ipv4_options((__u8 *)(ip + 1), c->end, hlen - sizeof(*ip));
		if (r != PARSE_OK)
			return r;
	}
	if (ip->frag_off & bpf_htons(IP4_MF | IP4_OFFSET))
		return REASON_FRAGMENT;
	cursor_skip(c, hlen);
	return PARSE_OK;
}

/*
 * IPv6 and its extension headers up to the transport header. A first
 * fragment must carry the whole chain (RFC 7112); every real fragment is
 * denied, an atomic fragment (offset 0, no more fragments) is judged whole.
 */
static __always_inline int parse_ipv6(struct cursor *c, void *start, struct parsed *p)
{
	struct ipv6hdr *ip6 = c->pos;
	__u32 plen;
	__u8 nexthdr;

	if (!cursor_has(c, sizeof(*ip6)))
		return REASON_TRUNCATED;
	if (ip6->version != 6)
		return REASON_MALFORMED;
	p->family = AF_INET6;
	p->l3_off = c->off;
	__builtin_memcpy(p->saddr, &ip6->saddr, 16);
	__builtin_memcpy(p->daddr, &ip6->daddr, 16);
	plen = bpf_ntohs(ip6->payload_len);
	/* 0 is a jumbogram (or a GSO packet over 64K): bounded by the frame alone */
	if (plen) {
		if (p->l3_off + sizeof(*ip6) + plen > c->lim)
			return REASON_TRUNCATED;
		c->lim = p->l3_off + sizeof(*ip6) + plen;
	}
	nexthdr = ip6->nexthdr;
	cursor_skip(c, sizeof(*ip6));
	/* the common case, no extension header, without the walk */
	if (nexthdr == IPPROTO_TCP || nexthdr == IPPROTO_UDP || nexthdr == IPPROTO_ICMPV6) {
		p->l4proto = nexthdr;
		return PARSE_OK;
	}
	return parse_ipv6_ext(c, start, nexthdr, p);
}

/* ff02::/16 (link-local multicast) or fe80::/10 (link-local unicast) */
static __always_inline int addr_is_on_link6(const __u8 *a)
{
	return (a[0] == 0xff && a[1] == 0x02) || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
}

/*
 * Neighbour discovery the sandbox needs: router solicitation, neighbour
 * solicitation and advertisement, on the link only (hop limit 255, a
 * link-local or link-local multicast destination, RFC 4861), right after
 * the IPv6 header (no extension header to carry kilobytes before it), and
 * of the size of its fixed part with at most one link-layer address option.
 * Anything else would be a channel out of the sandbox.
 */
static __always_inline int nd_acceptable(const struct cursor *c, const struct icmp6hdr *ih,
					 const struct ipv6hdr *ip6, const struct parsed *p)
{
	__u32 len = c->lim - p->l4_off, fixed;

	fixed = ih->icmp6_type == ND_ROUTER_SOLICIT ? ND_RS_LEN : ND_NS_LEN;
	return ih->icmp6_code == 0 && ip6->hop_limit == 255 && addr_is_on_link6(p->daddr) &&
	       p->l4_off == p->l3_off + sizeof(*ip6) && (len == fixed || len == fixed + ND_OPT_LEN);
}

static __always_inline int parse_l4(struct cursor *c, void *start, struct parsed *p)
{
	p->l4_off = c->off;
	if (p->l4proto == IPPROTO_TCP) {
		struct tcphdr *th = c->pos;

		if (!cursor_has(c, sizeof(*th)))
			return p->frag_first ? REASON_FRAG_CHAIN : REASON_TRUNCATED;
		if (th->doff < 5)
			return REASON_MALFORMED;
		p->sport = th->source;
		p->dport = th->dest;
	} else if (p->l4proto == IPPROTO_UDP) {
		struct udphdr *uh = c->pos;

		if (!cursor_has(c, sizeof(*uh)))
			return p->frag_first ? REASON_FRAG_CHAIN : REASON_TRUNCATED;
		p->sport = uh->source;
		p->dport = uh->dest;
	} else if (p->l4proto == IPPROTO_ICMPV6 && p->family == AF_INET6) {
		struct icmp6hdr *ih = c->pos;
		struct ipv6hdr *ip6 = start + p->l3_off;

		if (!cursor_has(c, sizeof(*ih)))
			return p->frag_first ? REASON_FRAG_CHAIN : REASON_TRUNCATED;
		if ((void *)(ip6 + 1) > c->end)
			return REASON_TRUNCATED;
		if (p->frag_first)
			return REASON_L4_PROTO;
		switch (ih->icmp6_type) {
		case MLD_QUERY:
		case MLD_REPORT:
		case MLD_DONE:
		case MLD2_REPORT:
			return REASON_MLD;
		case ND_ROUTER_SOLICIT:
		case ND_NEIGHBOUR_SOLICIT:
		case ND_NEIGHBOUR_ADVERT:
			break;
		default:
			return REASON_L4_PROTO;
		}
		if (!nd_acceptable(c, ih, ip6, p))
			return REASON_ND_DENIED;
		p->is_nd = ih->icmp6_type;
	} else {
		return REASON_L4_PROTO;
	}
	if (p->frag_first)
		return REASON_FRAGMENT;
	return PARSE_OK;
}

#endif
