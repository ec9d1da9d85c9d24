/* dispatch.h: the hook-neutral half of the dispatcher: parse once, check the source, pick a stage slot. */
#ifndef IRONCLAW_PROGS_DISPATCH_H
#define IRONCLAW_PROGS_DISPATCH_H

#include "common.h"
#include "settings.h"
#include "verdict.h"
#include "parse.h"
#include "l2.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE); /* the loader writes a generation's ports at once */
	__uint(max_entries, CLASS_ENTRIES);
	__type(key, __u32);
	__type(value, struct class_value);
} classes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 2 * 256);
	__type(key, struct source_key);
	__type(value, __u32);
} sources SEC(".maps");

/*
 * Per generation: what XDP writes in front of a frame it allowed for good
 * (struct xdp_pass in pkt_meta.h), random, never 0: host-side tc ingress
 * seeing it accepts the frame without judging it again. 0: no frame is
 * accepted so. A map of its own, not a field of config: an instance an
 * earlier build installed keeps its config's shape, and gets this anew.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} xdp_marks SEC(".maps");

/*
 * Host-side tc ingress: the frame's metadata is an xdp_pass whose mark is the
 * one of generation gen (xdp_marks): XDP allowed it for good. A frame without
 * such metadata costs the test of its size; a generation without a mark (no
 * XDP attached) takes no frame so.
 */
static __always_inline int meta_xdp_passed(struct __sk_buff *skb, __u32 gen)
{
	void *meta = (void *)(long)skb->data_meta, *data = (void *)(long)skb->data;
	__u32 *m = meta, *mark;

	if (meta + sizeof(struct xdp_pass) > data || data - meta != sizeof(struct xdp_pass))
		return 0;
	mark = bpf_map_lookup_elem(&xdp_marks, &gen);
	if (!mark || !(mark[0] | mark[1]))
		return 0;
	return m[0] == mark[0] && m[1] == mark[1];
}

#define ARP_HRD_ETHER 1

/* ARP for Ethernet/IPv4 (linux/if_arp.h drags in libc headers BPF cannot use) */
struct arp_eth_ipv4 {
	__be16 ar_hrd;
	__be16 ar_pro;
	__u8 ar_hln;
	__u8 ar_pln;
	__be16 ar_op;
	__u8 sha[ETH_ALEN];
	__u8 sip[4];
	__u8 tha[ETH_ALEN];
	__u8 tip[4];
} __attribute__((packed));

struct addr16 {
	__u8 b[16];
};

/*
 * One of the sandbox's addresses: in the generation's settings, or (more
 * than they hold) in the trie. Only an exact match counts: an entry of the
 * trie whose value is not the whole address's bits (a prefix, which a loader
 * before prefixes were refused put there) makes no address the sandbox's.
 * A global function, so the verifier walks its loop once, not once for every
 * path through the parser that reaches it.
 */
__attribute__((noinline)) int source_in_sandbox(const struct gen_config *cfg, __u32 gen,
						__u32 family, const struct addr16 *addr)
{
	__u32 bits = family == AF_INET ? 32 : 128, *v;
	struct source_key k = {
		.prefixlen = SOURCE_LPM_FIXED_BITS + bits,
		.gen = gen,
		.family = family,
	};
	__u64 a[2], s[2];

	if (!addr || !cfg)
		return 0;
	__builtin_memcpy(a, addr->b, sizeof(a));
	for (__u32 i = 0; i < GEN_INLINE_SOURCES; i++) {
		if (i >= cfg->nr_sources)
			break;
		__builtin_memcpy(s, cfg->src[i].addr, sizeof(s));
		if (cfg->src[i].family == family && s[0] == a[0] && s[1] == a[1])
			return 1;
	}
	if (!(cfg->flags & GEN_SOURCE_MAP))
		return 0;
	__builtin_memcpy(k.addr, addr->b, 16);
	v = bpf_map_lookup_elem(&sources, &k);
	return v && *v == bits;
}

static __always_inline int source_is_sandbox(const struct gen_settings *gs, __u8 family,
					     const __u8 *addr)
{
	struct addr16 a;

	__builtin_memcpy(a.b, addr, sizeof(a.b));
	return source_in_sandbox(gs->cfg, gs->gen, family, &a);
}

/*
 * The same for a packet's source, the settings' first address compared here
 * first (an exact match of the function's first step; the sandbox's own
 * address is src[0]): an allowed packet pays no function call.
 */
static __always_inline int source_is_sandbox_first(const struct gen_settings *gs, __u8 family,
						   const __u8 *addr)
{
	const struct gen_config *cfg = gs->cfg;
	__u64 a[2], s[2];

	if (cfg && cfg->nr_sources && cfg->src[0].family == family) {
		__builtin_memcpy(a, addr, sizeof(a));
		__builtin_memcpy(s, cfg->src[0].addr, sizeof(s));
		if (s[0] == a[0] && s[1] == a[1])
			return 1;
	}
	return source_is_sandbox(gs, family, addr);
}

static __always_inline int addr_is_unspecified6(const __u8 *a)
{
	__u64 w[2];

	__builtin_memcpy(w, a, sizeof(w));
	return w[0] == 0 && w[1] == 0;
}

static __always_inline int addr_is_mapped4(const __u8 *a)
{
	__u64 w0;
	__u32 w2;

	__builtin_memcpy(&w0, a, sizeof(w0));
	__builtin_memcpy(&w2, a + 8, sizeof(w2));
	return w0 == 0 && w2 == bpf_htonl(0x0000ffff);
}

/*
 * The control word and the generation's settings, read once per packet into
 * *gs (settings.h), which goes on to every helper. *tool_level is the cgroup
 * level of the tools when the generation has tool rules, else 0: the hook
 * then asks for the sender's tool, which only it knows how to find.
 */
static __always_inline int dispatch_begin(struct gen_settings *gs, __u32 *tool_level)
{
	if (gen_settings_read(gs))
		return REASON_NO_CONFIG;
	*tool_level = gs->cfg->flags & GEN_HAS_TOOLS ? gs->cfg->tool_level : 0;
	return gs->ctl & CTL_BLOCKED ? REASON_BLOCKED : PARSE_OK;
}

/* where tools sit in the cgroup tree, whether or not the profile names one now */
static __always_inline __u32 sandbox_tool_level(void)
{
	struct gen_settings gs;

	return gen_settings_read(&gs) ? 0 : gs.cfg->tool_level;
}

/*
 * Traffic that stays inside the sandbox, seen by the cgroup hooks: to
 * 127.0.0.0/8, ::1, the unspecified address (the kernel sends it to lo) or
 * one of the sandbox's own addresses, each one exactly (source_in_sandbox):
 * never another address of its subnet, whose resolver or host side is not
 * the sandbox.
 */
static __always_inline int addr_is_local(const struct gen_settings *gs, __u8 family, const __u8 *a)
{
	__u32 w[4];

	__builtin_memcpy(w, a, sizeof(w));
	if (family == AF_INET) {
		if (a[0] == 127 || w[0] == 0)
			return 1;
	} else if (w[0] == 0 && w[1] == 0 && w[2] == 0 && (w[3] == 0 || w[3] == bpf_htonl(1))) {
		return 1;
	}
	return source_is_sandbox(gs, family, a);
}

/* class map {gen, proto, port}: the stage's slot into meta (l4proto is TCP or UDP) */
static __always_inline int dispatch_class(__u8 gen, __u8 l4proto, __be16 dport,
					  struct pkt_meta *meta)
{
	__u32 idx = CLASS_INDEX(gen, l4proto == IPPROTO_UDP, bpf_ntohs(dport));
	struct class_value *cv = bpf_map_lookup_elem(&classes, &idx);

	if (!cv || cv->slot == 0)
		return REASON_NO_CLASS;
	if (cv->slot >= STAGE_MAX_SLOTS)
		return REASON_NO_STAGE;
	meta->gen = gen;
	meta->l4proto = l4proto;
	meta->dport = dport;
	meta->slot = cv->slot;
	return PARSE_OK;
}

/*
 * From the IP header at the cursor: parse, check the source, classify.
 * ethertype says which IP it is (network order).
 */
static __always_inline int dispatch_ip(struct cursor *c, void *start, __be16 ethertype,
				       const struct gen_settings *gs, const int local_ok,
				       struct pkt_meta *meta)
{
	struct parsed p = {};
	int unspec, src_ok, r;

	if (ethertype == bpf_htons(ETH_P_IP))
		r = parse_ipv4(c, start, &p);
	else if (ethertype == bpf_htons(ETH_P_IPV6))
		r = parse_ipv6(c, start, &p);
	else
		return REASON_L3_PROTO;
	if (!p.family)
		return r; /* not even the addresses are there */
	/* what is known so far, for the record of a denial */
	meta->family = p.family;
	meta->l3_off = p.l3_off;
	meta->l4proto = p.l4proto;
	/* cgroup hooks: a packet for the sandbox itself never leaves it, whatever its source */
	if (local_ok && r == PARSE_OK && addr_is_local(gs, p.family, p.daddr))
		return REASON_LOOPBACK;
	/* a packet with a forged source is reported as such before anything else; the
	 * unspecified address is a source only for solicitations (RFC 4861, 4862) */
	unspec = p.family == AF_INET6 && addr_is_unspecified6(p.saddr);
	/* (at the cgroup hook the first-address test inline doubled the verifier's work) */
	src_ok = local_ok ? source_is_sandbox(gs, p.family, p.saddr) :
			    source_is_sandbox_first(gs, p.family, p.saddr);
	if (!src_ok && !unspec)
		return REASON_SPOOFED;
	if (r != PARSE_OK)
		return r;
	if (p.family == AF_INET6 && addr_is_mapped4(p.daddr))
		return REASON_MAPPED_DST;
	r = parse_l4(c, start, &p);
	meta->sport = p.sport;
	meta->dport = p.dport;
	if (r != PARSE_OK)
		return r;
	if (p.is_nd)
		return src_ok || p.is_nd != ND_NEIGHBOUR_ADVERT ? REASON_ND : REASON_SPOOFED;
	if (!src_ok)
		return REASON_SPOOFED;
	meta->l4_off = p.l4_off;
	return dispatch_class(gs->gen, p.l4proto, p.dport, meta);
}

/*
 * A whole Ethernet frame (tc): VLAN and ARP are decided here, IP goes on to
 * dispatch_ip. Returns PARSE_OK when the packet goes to the stage in
 * meta->slot, or the reason for a verdict reached here.
 */
static __always_inline int dispatch_frame(void *start, void *end, __u32 pkt_len,
					  const struct gen_settings *gs, struct pkt_meta *meta)
{
	struct cursor c = { .pos = start, .end = end, .off = 0, .lim = pkt_len };
	struct ethhdr *eth = start;

	if (!cursor_has(&c, sizeof(*eth)))
		return REASON_TRUNCATED;
	cursor_skip(&c, sizeof(*eth));
	switch (eth->h_proto) {
	case bpf_htons(ETH_P_ARP): {
		struct arp_eth_ipv4 *arp = c.pos;
		__u8 sip[16] = {};

		if (!cursor_has(&c, sizeof(*arp)))
			return REASON_TRUNCATED;
		if (arp->ar_hrd != bpf_htons(ARP_HRD_ETHER) || arp->ar_pro != bpf_htons(ETH_P_IP) ||
		    arp->ar_hln != ETH_ALEN || arp->ar_pln != 4)
			return REASON_MALFORMED;
		__builtin_memcpy(sip, arp->sip, 4);
		return source_is_sandbox(gs, AF_INET, sip) ? REASON_ARP : REASON_SPOOFED;
	}
	case bpf_htons(ETH_P_8021Q):
	case bpf_htons(ETH_P_8021AD):
		return REASON_VLAN;
	default:
		return dispatch_ip(&c, start, eth->h_proto, gs, 0, meta);
	}
}

#endif
