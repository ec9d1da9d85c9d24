/* l2.h: layer 2 at the host-side hooks: the sandbox's own MAC as source, IP only to the gateway's, ARP and ND only for the gateway. */
#ifndef IRONCLAW_PROGS_L2_H
#define IRONCLAW_PROGS_L2_H

#include "common.h"
#include "parse.h"
#include "l2_link.h"

/* ifindex of a host-side point -> its link (include/l2_link.h); pinned, refreshed in place */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, L2_MAX_LINKS);
	__type(key, __u32);
	__type(value, struct l2_link);
} l2_links SEC(".maps");

#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2
#define ARP_FRAME_LEN (ETH_HLEN + 28) /* Ethernet and ARP for IPv4, nothing after */

#define ND_OPT_SOURCE_LLADDR 1
#define ND_OPT_TARGET_LLADDR 2
#define ND_NA_ROUTER 0x80

struct mac6 {
	__u8 b[L2_ALEN];
};

/*
 * The head of a frame, copied for l2_judge (a global function, verified
 * once whatever path reaches it, takes no packet pointer): Ethernet, an
 * IPv6 header and a neighbour discovery message of at most 32 bytes.
 */
#define L2_HEAD (ETH_HLEN + 40 + 32)

struct l2_frame {
	__u32 len; /* the whole frame's */
	__u32 avail; /* bytes of it in b */
	__u8 b[L2_HEAD];
	__u8 pad[2];
};

static __always_inline int mac_eq(const __u8 *a, const __u8 *b)
{
	__u32 a4, b4;
	__u16 a2, b2;

	__builtin_memcpy(&a4, a, 4);
	__builtin_memcpy(&b4, b, 4);
	__builtin_memcpy(&a2, a + 4, 2);
	__builtin_memcpy(&b2, b + 4, 2);
	return a4 == b4 && a2 == b2;
}

static __always_inline int mac_is(const __u8 *a, __u8 v)
{
	return a[0] == v && a[1] == v && a[2] == v && a[3] == v && a[4] == v && a[5] == v;
}

static __always_inline int in6_eq(const __u8 *a, const __u8 *b)
{
	__u64 a8[2], b8[2];

	__builtin_memcpy(a8, a, 16);
	__builtin_memcpy(b8, b, 16);
	return a8[0] == b8[0] && a8[1] == b8[1];
}

static __always_inline int in6_unspec(const __u8 *a)
{
	__u64 w[2];

	__builtin_memcpy(w, a, sizeof(w));
	return w[0] == 0 && w[1] == 0;
}

/* one of the MACs the link's IP frames may go to */
static __always_inline int l2_dst_allowed(const struct l2_link *l, const __u8 *m)
{
	for (__u32 i = 0; i < L2_MAX_DST; i++) {
		if (i >= l->nr_dst)
			break;
		if (mac_eq(l->dst[i], m))
			return 1;
	}
	return 0;
}

static __always_inline int l2_gw4(const struct l2_link *l, const __u8 *a)
{
	__u32 w, g;

	__builtin_memcpy(&w, a, 4);
	for (__u32 i = 0; i < L2_MAX_GW4; i++) {
		if (i >= l->nr_gw4)
			break;
		__builtin_memcpy(&g, l->gw4[i], 4);
		if (g == w)
			return 1;
	}
	return 0;
}

static __always_inline int l2_gw6(const struct l2_link *l, const __u8 *a)
{
	for (__u32 i = 0; i < L2_MAX_GW6; i++) {
		if (i >= l->nr_gw6)
			break;
		if (in6_eq(l->gw6[i], a))
			return 1;
	}
	return 0;
}

/*
 * ARP (a = the 28-byte message): a request or a reply, nothing after it, its
 * sender the sandbox's own MAC, its target the gateway, its target MAC zero
 * (a request) or one the link's IP frames may go to (a reply), sent to
 * broadcast or to such a MAC. The sender's IP address and the header's
 * fixed fields are the dispatcher's (dispatch_frame).
 */
static __always_inline int l2_arp(const struct l2_link *l, const struct l2_frame *f)
{
	const __u8 *a = f->b + ETH_HLEN;
	__u16 op;

	if (f->len != ARP_FRAME_LEN)
		return f->len < ARP_FRAME_LEN ? REASON_TRUNCATED : REASON_TRAILER;
	if (f->avail < ARP_FRAME_LEN)
		return REASON_TRUNCATED;
	op = ((__u16)a[6] << 8) | a[7];
	if (op != ARP_OP_REQUEST && op != ARP_OP_REPLY)
		return REASON_ARP_DENIED;
	if (!mac_eq(a + 8, l->mac)) /* sender hardware address */
		return REASON_SPOOFED_MAC;
	if (!l2_gw4(l, a + 24)) /* target protocol address */
		return REASON_ARP_DENIED;
	if (!mac_is(a + 18, 0) && !l2_dst_allowed(l, a + 18))
		return REASON_ARP_DENIED;
	if (!mac_is(f->b, 0xff) && !l2_dst_allowed(l, f->b))
		return REASON_L2_DST;
	return PARSE_OK;
}

/* an ND option after the fixed part (at off of m, len bytes): none, or the sandbox's MAC */
static __always_inline int nd_lladdr_opt(const struct l2_link *l, const __u8 *m, __u32 len,
					 __u32 off, __u8 type)
{
	if (len == off)
		return PARSE_OK;
	if (len != off + 8 || m[off] != type || m[off + 1] != 1)
		return REASON_ND_DENIED;
	return mac_eq(m + off + 2, l->mac) ? PARSE_OK : REASON_SPOOFED_MAC;
}

/* ff02::1:ffXX:XXXX for target t */
static __always_inline int is_solicited_node(const __u8 *a, const __u8 *t)
{
	const __u8 group[16] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };
	__u8 want[16];

	__builtin_memcpy(want, group, 16);
	want[13] = t[13];
	want[14] = t[14];
	want[15] = t[15];
	return in6_eq(a, want);
}

/*
 * Neighbour discovery towards the gateway (ip6: the IPv6 header, m: the
 * ICMPv6 message right after it, len bytes, at most 32 here; its size,
 * hop limit and code are parse.h's): a router solicitation to ff02::2; a
 * solicitation for a gateway address, to its solicited-node group or to it,
 * not from :: (duplicate address detection goes to every neighbour); an
 * advertisement of the sandbox's own address (the target is its source) to
 * a gateway address, not as a router. Reserved bits zero; the one option
 * allowed is the sandbox's own link-layer address.
 */
static __always_inline int l2_nd(const struct l2_link *l, const __u8 *ip6, const __u8 *m, __u32 len)
{
	const __u8 all_routers[16] = { 0xff, 0x02, [15] = 0x02 };
	const __u8 *src = ip6 + 8, *dst = ip6 + 24;
	__u32 zero;

	__builtin_memcpy(&zero, m + 4, 4);
	if (m[0] == ND_ROUTER_SOLICIT) {
		if (zero || !in6_eq(dst, all_routers))
			return REASON_ND_DENIED;
		if (in6_unspec(src) && len != ND_RS_LEN)
			return REASON_ND_DENIED; /* RFC 4861 6.1.1: no option from :: */
		return nd_lladdr_opt(l, m, len, ND_RS_LEN, ND_OPT_SOURCE_LLADDR);
	}
	if (len < ND_NS_LEN)
		return REASON_ND_DENIED;
	if (m[0] == ND_NEIGHBOUR_SOLICIT) {
		if (zero || in6_unspec(src) || !l2_gw6(l, m + 8))
			return REASON_ND_DENIED;
		if (!in6_eq(dst, m + 8) && !is_solicited_node(dst, m + 8))
			return REASON_ND_DENIED;
		return nd_lladdr_opt(l, m, len, ND_NS_LEN, ND_OPT_SOURCE_LLADDR);
	}
	if ((m[4] & (ND_NA_ROUTER | 0x1f)) || m[5] || m[6] || m[7] || !in6_eq(m + 8, src) ||
	    !l2_gw6(l, dst))
		return REASON_ND_DENIED;
	return nd_lladdr_opt(l, m, len, ND_NS_LEN, ND_OPT_TARGET_LLADDR);
}

/*
 * IPv6: nothing after the datagram; to one of the link's MACs, or to a
 * multicast group's own MAC (33:33 and the group's last four bytes, RFC
 * 2464) for ND only. An MLD message (after a hop-by-hop header) is denied
 * here under its own reason, whatever its MAC.
 */
static __always_inline int l2_ipv6(const struct l2_link *l, const struct l2_frame *f)
{
	const __u8 *ip6 = f->b + ETH_HLEN, *m = ip6 + 40, *d = ip6 + 24;
	__u32 plen;
	__u8 next;

	if (f->avail < ETH_HLEN + 40)
		return PARSE_OK; /* the parser says what is cut short */
	plen = ((__u32)ip6[4] << 8) | ip6[5];
	next = ip6[6];
	if (plen && f->len > ETH_HLEN + 40 + plen)
		return REASON_TRAILER;
	if (next == IPPROTO_HOPOPTS && f->avail >= ETH_HLEN + 40 + 9 && m[1] == 0 &&
	    (m[8] == MLD_REPORT || m[8] == MLD_DONE || m[8] == MLD2_REPORT || m[8] == MLD_QUERY) &&
	    m[0] == IPPROTO_ICMPV6)
		return REASON_MLD;
	if (next == IPPROTO_ICMPV6 && f->avail >= ETH_HLEN + 40 + 8 &&
	    (m[0] == ND_ROUTER_SOLICIT || m[0] == ND_NEIGHBOUR_SOLICIT ||
	     m[0] == ND_NEIGHBOUR_ADVERT)) {
		int r;

		if (plen > 32 || f->avail < ETH_HLEN + 40 + plen)
			return REASON_ND_DENIED;
		r = l2_nd(l, ip6, m, plen);
		if (r != PARSE_OK)
			return r;
		if (d[0] != 0xff)
			return l2_dst_allowed(l, f->b) ? PARSE_OK : REASON_L2_DST;
		return f->b[0] == 0x33 && f->b[1] == 0x33 && f->b[2] == d[12] && f->b[3] == d[13] &&
				       f->b[4] == d[14] && f->b[5] == d[15] ?
			       PARSE_OK :
			       REASON_L2_DST;
	}
	return l2_dst_allowed(l, f->b) ? PARSE_OK : REASON_L2_DST;
}

/*
 * Layer 2 of a frame from the sandbox at a host-side link with settings l:
 * PARSE_OK when the dispatcher may go on with it, or the reason to deny it.
 * A global function: verified once, not once for every path of the parser.
 */
__attribute__((noinline)) int l2_judge(const struct l2_link *l, const struct l2_frame *f)
{
	__u16 proto;

	if (!l || !f)
		return REASON_BAD_META;
	if (f->avail < ETH_HLEN)
		return REASON_TRUNCATED;
	/* a forged source poisons the bridge's table: before anything else */
	if (!mac_eq(f->b + ETH_ALEN, l->mac))
		return REASON_SPOOFED_MAC;
	proto = ((__u16)f->b[12] << 8) | f->b[13];
	if (proto == ETH_P_ARP)
		return l2_arp(l, f);
	if (proto == ETH_P_IPV6)
		return l2_ipv6(l, f);
	if (!l2_dst_allowed(l, f->b))
		return REASON_L2_DST;
	/* IPv4: nothing after the datagram (veth pads nothing: a trailer is data) */
	if (proto == ETH_P_IP && f->avail >= ETH_HLEN + 4 &&
	    f->len > ETH_HLEN + (((__u32)f->b[ETH_HLEN + 2] << 8) | f->b[ETH_HLEN + 3]))
		return REASON_TRAILER;
	return PARSE_OK;
}

/* the frame's head into *f, for l2_judge: at tc */
static __always_inline void l2_frame_skb(struct __sk_buff *skb, __u32 len, struct l2_frame *f)
{
	__u32 n = len < L2_HEAD ? len : L2_HEAD;

	f->len = len;
	f->avail = n && !bpf_skb_load_bytes(skb, 0, f->b, n) ? n : 0;
}

/* and at XDP */
static __always_inline void l2_frame_xdp(struct xdp_md *ctx, __u32 len, struct l2_frame *f)
{
	__u32 n = len < L2_HEAD ? len : L2_HEAD;

	f->len = len;
	f->avail = n && !bpf_xdp_load_bytes(ctx, 0, f->b, n) ? n : 0;
}

#endif
