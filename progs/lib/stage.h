/* stage.h: the insides of a stage object: the packet a stage judges and the per-hook entry points around its judge (the interface is include/ironclaw/stage.h). */
#ifndef IRONCLAW_PROGS_STAGE_H
#define IRONCLAW_PROGS_STAGE_H

#include <linux/ip.h>
#include <linux/ipv6.h>
#include "common.h"
#include "maps.h"
#include "settings.h"
#include "counts.h"
#include "verdict.h"
#include "meta_skb.h"
#include "rule_table.h"

/* the dns stage says so before its #include: its allowed datagrams are queries, recorded with names */
#ifndef STAGE_DNS_QUERIES
#define STAGE_DNS_QUERIES 0
#endif

/* a stage that follows names keeps its flows by socket (stage_learned.h): it asks for the cookie */
#ifdef IRONCLAW_STAGE_FOLLOW_NAMES
#define STAGE_KEEPS_FLOWS 1
#else
#define STAGE_KEEPS_FLOWS 0
#endif

/* the packet as a stage sees it: the dispatcher's metadata plus the destination */
struct stage_pkt {
	struct pkt_meta meta;
	__u8 daddr[16];
	__u8 saddr[16]; /* packets only (for flows learned from DNS) */
	__u32 len; /* bytes, for the rule's counter; 0 at connect() and sendto() */
	__u8 new_flow; /* a TCP SYN without ACK, connect() or sendto(): a flow begins */
	__u8 at_sock; /* connect() or sendto(): no packet yet */
	__u8 host_side; /* at host-side tc ingress (dispatch_tc_host): the dns stage rewrites here */
	__u8 hook; /* enum hook_id: for a denial a stage records itself (the https stage's sni) */
	__u32 *matched; /* where the matching rule's number + 1 goes (explain, flow records) */
	__u64 cookie; /* the sending socket's cookie, when flows learned from DNS are kept */
	const struct gen_config *cfg; /* the settings of meta.gen, read at the entry; NULL: not
				       * read (XDP reads them only when a judge asks, stage_cfg) */
};

/*
 * The generation's settings: as the entry read them, or now. An allowed
 * frame at XDP needs none, so its entry does not read them up front.
 */
static __always_inline const struct gen_config *stage_cfg(const struct stage_pkt *pkt)
{
	return pkt->cfg ? pkt->cfg : gen_config_get(pkt->meta.gen);
}

static __always_inline void stage_key(struct policy_key *k, const struct stage_pkt *pkt)
{
	k->gen = pkt->meta.gen;
	k->l4proto = pkt->meta.l4proto;
	k->dport = pkt->meta.dport;
	k->family = pkt->meta.family;
	k->tool = pkt->meta.tool;
	__builtin_memcpy(k->daddr, pkt->daddr, 16);
}

/* the entry of an exact stage's map rules (struct policy_key) for tool (0: every process) */
static __always_inline struct policy_value *stage_rule_of(void *rules, const struct stage_pkt *pkt,
							  __u64 tool)
{
	struct policy_key k = {};

	stage_key(&k, pkt);
	k.tool = tool;
	return bpf_map_lookup_elem(rules, &k);
}

/* an IPv4 packet's key of every process (struct policy_key4) as one word */
static __always_inline __u64 stage_key4_word(const struct stage_pkt *pkt)
{
	struct policy_key4 k;
	__u64 w;

	__builtin_memcpy(&k.daddr, pkt->daddr, 4);
	k.dport = pkt->meta.dport;
	k.l4proto = pkt->meta.l4proto;
	k.gen = pkt->meta.gen;
	__builtin_memcpy(&w, &k, sizeof(w));
	return w;
}

/*
 * The entry of an exact stage's table rules4 (include/rule_table.h): IPv4,
 * every process. Each probe reads its slot's key word once, state and key
 * together (READ_ONCE: the compiler reads it before the slot's value; x86
 * keeps loads in order), then the value the loader wrote before it stored
 * that word (a release store). An in-place add fills only empty slots and a
 * revoke only clears LIVE, so a slot holds one key for its table's life: a
 * word read as live belongs with the rule beside it, and a packet that read
 * it just before a revoke is judged as before the revoke.
 */
static __always_inline struct policy_value *stage_rule4_of(void *rules4, __u32 shift,
							   const struct stage_pkt *pkt)
{
	__u64 w = rule_table_word(stage_key4_word(pkt));
	__u32 i = rule_table_home(w, shift);

	for (__u32 n = 0; n < RULE_TABLE_PROBES; n++, i++) {
		struct rule_slot4 *s = bpf_map_lookup_elem(rules4, &i);
		__u64 k;

		if (!s)
			return NULL;
		k = *(volatile __u64 *)&s->key;
		if (k == w)
			return &s->v;
		if (k == RULE_SLOT_EMPTY)
			return NULL;
	}
	return NULL;
}

/* one lookup in wide_rules at port (network order), the sender's tool first */
static __always_inline struct policy_value *stage_wide_at(const struct stage_pkt *pkt, __be16 port)
{
	struct policy_lpm_key k = { .prefixlen = POLICY_LPM_FIXED_BITS + 128 };
	struct policy_value *v;

	stage_key(&k.k, pkt);
	k.k.dport = port;
	v = bpf_map_lookup_elem(&wide_rules, &k);
	if (!v && k.k.tool) {
		k.k.tool = 0;
		v = bpf_map_lookup_elem(&wide_rules, &k);
	}
	return v;
}

/*
 * What the stage's own map did not have: a prefix for the packet's port
 * (port_prefixes: a stage whose map is exact keeps its prefixes there), then
 * a rule for every port; each the longest prefix, the sender's tool first.
 * Profiles with neither pay one test of the settings' flags.
 */
static __always_inline struct policy_value *stage_wide_rule(const struct stage_pkt *pkt,
							    const int port_prefixes)
{
	__u32 flags = gen_flags(stage_cfg(pkt));
	struct policy_value *v = NULL;

	if (port_prefixes && (flags & GEN_WIDE_PORTS))
		v = stage_wide_at(pkt, pkt->meta.dport);
	if (!v && (flags & GEN_ALL_PORTS))
		v = stage_wide_at(pkt, bpf_htons(POLICY_ALL_PORTS));
	return v;
}

/*
 * The entry of key k among the rules baked into the program (stage_baked),
 * or NULL: every field compared, as the hash would, the destination's first
 * word first (it differs between most entries). Unrolled: each entry is a few
 * loads at constant offsets of the read-only data.
 */
static __always_inline const struct policy_value *
stage_baked_find(const volatile struct stage_baked *b, const struct policy_key *k)
{
	__u32 nr = b->nr;
	__u64 w[4];

	__builtin_memcpy(w, k, sizeof(w));
#pragma unroll
	for (__u32 i = 0; i < STAGE_BAKED_MAX; i++) {
		const volatile __u64 *e = (const volatile __u64 *)&b->e[i].k;

		if (i >= nr)
			break;
		if (e[2] == w[2] && e[0] == w[0] && e[1] == w[1] && e[3] == w[3])
			return (const struct policy_value *)&b->e[i].v;
	}
	return NULL;
}

/*
 * The same for an IPv4 packet without a tool: its key as one word against
 * each entry's k4, every slot compared (those past nr never match).
 */
static __always_inline const struct policy_value *
stage_baked_find4(const volatile struct stage_baked *b, const struct stage_pkt *pkt)
{
	__u64 w = stage_key4_word(pkt);

#pragma unroll
	for (__u32 i = 0; i < STAGE_BAKED_MAX; i++)
		if (b->k4[i] == w)
			return (const struct policy_value *)&b->e[i].v;
	return NULL;
}

/*
 * The same through h4[] (the loader found a multiplier, mul: h4_mul, read
 * once): the one slot the key word w can lie in, whose k4 is w when it is the
 * rule's.
 */
static __always_inline const volatile struct stage_baked_slot *
stage_baked_slot4(const volatile struct stage_baked *b, __u64 w, __u64 mul)
{
	return &b->h4[stage_baked_slot(w, mul) & (STAGE_BAKED_SLOTS - 1)];
}

/* rule rule_id matched, of every process (no tool's: XDP defers none): its counter, the reason */
static __always_inline int stage_matched_id(__u32 rule_id, const struct stage_pkt *pkt)
{
	if (pkt->matched)
		*pkt->matched = rule_id + 1;
	if (!dry_run)
		count_rule(rule_id, pkt->len);
	return REASON_RULE;
}

/*
 * A rule's value found (or not), as a copy or as read-only data (stage_baked):
 * its counter in rule_counts, and the reason.
 */
static __always_inline int stage_matched(const struct policy_value *v, const struct stage_pkt *pkt)
{
	if (!v)
		return REASON_NO_RULE;
	if (v->flags & POLICY_F_TOOL_RULE) {
		if (pkt->matched)
			*pkt->matched = v->rule_id + 1;
		return REASON_TOOL_DEFERRED; /* counted where the tool is known */
	}
	return stage_matched_id(v->rule_id, pkt);
}

/*
 * The same for a rule map's entry the lookup returned (the stage's map,
 * wide_rules): counted in the entry, whose line the lookup has just read.
 */
static __always_inline int stage_matched_entry(struct policy_value *v, const struct stage_pkt *pkt)
{
	if (!v)
		return REASON_NO_RULE;
	if (pkt->matched)
		*pkt->matched = v->rule_id + 1;
	if (v->flags & POLICY_F_TOOL_RULE)
		return REASON_TOOL_DEFERRED;
	if (!dry_run)
		count_entry(v, pkt->len);
	return REASON_RULE;
}

static __always_inline int stage_meta_valid(const struct pkt_meta *m)
{
	return m->gen <= 1 && (m->family == AF_INET || m->family == AF_INET6) &&
	       (m->l4proto == IPPROTO_TCP || m->l4proto == IPPROTO_UDP);
}

/* the destination of a connect() or sendto(), as the dispatcher judged it; v6 is a constant */
static __always_inline int stage_sock_pkt(struct bpf_sock_addr *ctx, struct stage_pkt *pkt,
					  const int v6)
{
	struct sock_state *st = bpf_sk_storage_get(&sock_state, ctx->sk, 0, 0);

	if (!st)
		return -1;
	pkt->meta = st->meta;
	pkt->new_flow = 1;
	pkt->at_sock = 1;
	if (!stage_meta_valid(&pkt->meta))
		return -1;
	if (!v6) {
		__u32 d4 = CTX_READ(ctx->user_ip4);

		__builtin_memcpy(pkt->daddr, &d4, 4);
	} else if (pkt->meta.family == AF_INET) {
		__u32 d4 = CTX_READ(ctx->user_ip6[3]); /* IPv4-mapped */

		__builtin_memcpy(pkt->daddr, &d4, 4);
	} else {
		__u32 d6[4];

		d6[0] = CTX_READ(ctx->user_ip6[0]);
		d6[1] = CTX_READ(ctx->user_ip6[1]);
		d6[2] = CTX_READ(ctx->user_ip6[2]);
		d6[3] = CTX_READ(ctx->user_ip6[3]);
		__builtin_memcpy(pkt->daddr, d6, 16);
	}
	return 0;
}

/*
 * An allowed connect() begins a flow (TCP, or a connected UDP socket); so
 * does an unconnected socket's first datagram to a destination (flow_seen).
 */
static __always_inline void stage_flow_sock(struct bpf_sock_addr *ctx, __u8 hook,
					    const struct stage_pkt *pkt, __u32 rule)
{
	struct event_flow *r;

	if (hook == HOOK_SENDMSG4 || hook == HOOK_SENDMSG6) {
		struct flow_seen_key k = { .cookie = bpf_get_socket_cookie(ctx),
					   .dport = pkt->meta.dport,
					   .family = pkt->meta.family };
		__u8 one = 1;

		__builtin_memcpy(k.daddr, pkt->daddr, 16);
		if (bpf_map_lookup_elem(&flow_seen, &k) ||
		    bpf_map_update_elem(&flow_seen, &k, &one, BPF_NOEXIST))
			return;
	}
	r = EVENT_RESERVE_TAIL(struct event_flow, bpf_get_current_cgroup_id(), pkt->meta.tool,
			       EVENT_FLOW);
	if (!r)
		return;
	event_fill(&r->e, hook, REASON_RULE, &pkt->meta, 0);
	r->e.kind = EVENT_FLOW;
	r->e.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(r->e.comm, sizeof(r->e.comm));
	__builtin_memcpy(r->e.daddr, pkt->daddr, 16);
	r->t.rule = rule;
	bpf_ringbuf_submit(r, 0);
}

/* connect() and sendto(), at the hook of row ID; v6: the caller is an IPv6 socket */
#define STAGE_SOCK_ADDR_PROGRAM(ID, name, sec, v6)                                                 \
	SEC(sec)                                                                                   \
	int stage_##name(struct bpf_sock_addr *ctx)                                                \
	{                                                                                          \
		struct stage_pkt pkt = {};                                                         \
		int bad = stage_sock_pkt(ctx, &pkt, v6), reason;                                   \
		__u32 rule = 0;                                                                    \
                                                                                                   \
		pkt.cfg = gen_config_get(pkt.meta.gen);                                            \
		if (bad)                                                                           \
			return sock_finish(HOOK_##ID, REASON_BAD_META, &pkt.meta, NULL, pkt.cfg);  \
		pkt.matched = &rule;                                                               \
		reason = stage_judge_sock(&pkt);                                                   \
		if (!dry_run && reason == REASON_RULE && rule)                                     \
			stage_flow_sock(ctx, HOOK_##ID, &pkt, rule);                               \
		return sock_finish(HOOK_##ID, reason, &pkt.meta, pkt.daddr, pkt.cfg);              \
	}

/*
 * What dispatch_tc_host writes in skb->tc_classid (a field of the qdisc's
 * control block that tcx never reads) before its tail call, and dispatch_tc
 * clears: the stage knows it runs at host-side tc ingress, where the sandbox
 * cannot see what it writes.
 */
#define TC_MARK_HOST_SIDE 0x1c1a

#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_ACK 0x10

/*
 * The addresses from the IP header (source then destination, side by side),
 * and whether a TCP segment begins a connection (SYN without ACK).
 * load_bytes: bpf_skb_load_bytes or bpf_xdp_load_bytes.
 */
#define STAGE_PKT_ADDRS(ctx, pkt, load_bytes)                                                      \
	({                                                                                         \
		__u32 __off = (pkt)->meta.l3_off;                                                  \
		__u8 __a[32], __fl = 0;                                                            \
		int __e;                                                                           \
                                                                                                   \
		if ((pkt)->meta.family == AF_INET) {                                               \
			__e = load_bytes(ctx, __off + 12, __a, 8);                                 \
			__builtin_memcpy((pkt)->saddr, __a, 4);                                    \
			__builtin_memcpy((pkt)->daddr, __a + 4, 4);                                \
		} else {                                                                           \
			__e = load_bytes(ctx, __off + 8, __a, 32);                                 \
			__builtin_memcpy((pkt)->saddr, __a, 16);                                   \
			__builtin_memcpy((pkt)->daddr, __a + 16, 16);                              \
		}                                                                                  \
		if (!__e && (pkt)->meta.l4proto == IPPROTO_TCP &&                                  \
		    !load_bytes(ctx, (pkt)->meta.l4_off + 13, &__fl, 1))                           \
			(pkt)->new_flow = (__fl & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN;  \
		__e;                                                                               \
	})

/*
 * The same straight from the packet, where the headers lie in [data, end)
 * (the dispatcher pulled them there at tc): no helper call. -1 when they do
 * not: STAGE_PKT_ADDRS then reads them with the helper, as before.
 */
static __always_inline int stage_pkt_addrs_direct(void *data, void *end, struct stage_pkt *pkt)
{
	__u32 l3 = pkt->meta.l3_off, l4o = pkt->meta.l4_off;
	__u8 *ip, *l4;

	/* the masks must stay (the verifier wants offsets it can bound): no value known here */
	asm volatile("" : "+r"(l3), "+r"(l4o));
	ip = data + (l3 & 0xff);

	/* through the headers' types: word loads (a u8 pointer makes the compiler load bytes) */
	if (pkt->meta.family == AF_INET) {
		const struct iphdr *h = (const void *)ip;

		if ((void *)(h + 1) > end)
			return -1;
		__builtin_memcpy(pkt->saddr, &h->saddr, 4);
		__builtin_memcpy(pkt->daddr, &h->daddr, 4);
	} else {
		const struct ipv6hdr *h = (const void *)ip;

		if ((void *)(h + 1) > end)
			return -1;
		__builtin_memcpy(pkt->saddr, &h->saddr, 16);
		__builtin_memcpy(pkt->daddr, &h->daddr, 16);
	}
	if (pkt->meta.l4proto != IPPROTO_TCP)
		return 0;
	l4 = data + (l4o & 0x1ff);
	if ((void *)(l4 + 14) > end)
		return -1;
	pkt->new_flow = (l4[13] & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN;
	return 0;
}

/* the packet from skb->cb[] and the addresses from the IP header */
static __always_inline int stage_skb_pkt(struct __sk_buff *skb, struct stage_pkt *pkt)
{
	meta_load_skb(skb, &pkt->meta);
	if (!stage_meta_valid(&pkt->meta))
		return -1;
	pkt->len = skb->len;
	/* headers past 255 (IP) or 511 (TCP) bytes, or not linear: the helper reads them */
	if (pkt->meta.l3_off < 256 && pkt->meta.l4_off < 512 &&
	    !stage_pkt_addrs_direct((void *)(long)skb->data, (void *)(long)skb->data_end, pkt))
		return 0;
	return STAGE_PKT_ADDRS(skb, pkt, bpf_skb_load_bytes);
}

/*
 * An allowed packet that begins something: a TCP SYN (a flow), or at the dns
 * stage a query (its name). Recorded at one kind of hook: at the cgroup
 * hooks when they are attached (connect() and sendto() record flows there,
 * cgroup_skb the queries), else at tc; never at XDP, which has tc ingress
 * beside it. Costs an allowed packet that begins nothing a flag test.
 */
static __always_inline int stage_flow_wanted(__u8 hook, const struct stage_pkt *pkt)
{
	__u32 query = STAGE_DNS_QUERIES && pkt->meta.l4proto == IPPROTO_UDP;

	if (!query && !pkt->new_flow)
		return 0;
	return hook == HOOK_TC ? !(gen_flags(pkt->cfg) & GEN_FLOWS_AT_CGROUP) : query;
}

/*
 * The record of such a packet, out of line: the entry's code for the packets
 * that record nothing keeps its registers (inline, its event's code made the
 * compiler spill around the whole judge: 5 ns a packet at tc, bench/README.md).
 */
#if STAGE_DNS_QUERIES
/* inline at the dns stage: out of line, the verifier lost that cgroup_skb is never host side */
#define STAGE_FLOW_SKB_ATTR __always_inline
#else
#define STAGE_FLOW_SKB_ATTR __noinline __attribute__((unused))
#endif
static STAGE_FLOW_SKB_ATTR int stage_flow_skb(struct __sk_buff *skb, __u8 hook,
					      const struct stage_pkt *pkt, __u32 rule)
{
	__u32 query = STAGE_DNS_QUERIES && pkt->meta.l4proto == IPPROTO_UDP;

	if (query) {
		struct event_named *r = EVENT_RESERVE_TAIL(
			struct event_named, bpf_skb_cgroup_id(skb), pkt->meta.tool, EVENT_QUERY);

		if (!r)
			return 0;
		event_fill(&r->e, hook, REASON_RULE, &pkt->meta, 0);
		r->e.kind = EVENT_QUERY;
		__builtin_memcpy(r->e.saddr, pkt->saddr, 16);
		__builtin_memcpy(r->e.daddr, pkt->daddr, 16);
		r->t.rule = rule;
		EVENT_NAME_LOAD(skb, bpf_skb_load_bytes, r, &pkt->meta, pkt->len);
		bpf_ringbuf_submit(r, 0);
	} else {
		struct event_flow *r = EVENT_RESERVE_TAIL(struct event_flow, bpf_skb_cgroup_id(skb),
							  pkt->meta.tool, EVENT_FLOW);

		if (!r)
			return 0;
		event_fill(&r->e, hook, REASON_RULE, &pkt->meta, 0);
		r->e.kind = EVENT_FLOW;
		__builtin_memcpy(r->e.saddr, pkt->saddr, 16);
		__builtin_memcpy(r->e.daddr, pkt->daddr, 16);
		r->t.rule = rule;
		bpf_ringbuf_submit(r, 0);
	}
	return 0;
}

/* a packet with an skb (tc, cgroup_skb), at the hook of row ID */
#define STAGE_SKB_PROGRAM(ID, name, sec)                                                           \
	SEC(sec)                                                                                   \
	int stage_##name(struct __sk_buff *skb)                                                    \
	{                                                                                          \
		struct stage_pkt pkt = {};                                                         \
		__u32 rule = 0;                                                                    \
		int reason;                                                                        \
                                                                                                   \
		int bad = stage_skb_pkt(skb, &pkt);                                                \
                                                                                                   \
		/* only tc has the mark; a constant 0 elsewhere, so no code reads it there */      \
		if (HOOK_##ID == HOOK_TC)                                                          \
			pkt.host_side = skb->tc_classid == TC_MARK_HOST_SIDE;                      \
		pkt.hook = HOOK_##ID;                                                              \
		pkt.cfg = gen_config_get(pkt.meta.gen);                                            \
		if (bad)                                                                           \
			return skb_finish(skb, HOOK_##ID, REASON_BAD_META, &pkt.meta, pkt.cfg);    \
		pkt.matched = &rule;                                                               \
		/* a flow kept past its address's expiry belongs to one socket */                  \
		if (STAGE_KEEPS_FLOWS && (gen_flags(pkt.cfg) & GEN_LEARN))                         \
			pkt.cookie = bpf_get_socket_cookie(skb);                                   \
		reason = stage_judge_skb(skb, &pkt);                                               \
		/* a rule's allow on its own: its verdict's tests folded away (a constant) */      \
		if (reason == REASON_RULE) {                                                       \
			if (!dry_run && rule && stage_flow_wanted(HOOK_##ID, &pkt))                \
				stage_flow_skb(skb, HOOK_##ID, &pkt, rule);                        \
			return skb_verdict_named(skb, HOOK_##ID, REASON_RULE, rule, &pkt.meta,     \
						 pkt.cfg, STAGE_DNS_QUERIES, pkt.len);             \
		}                                                                                  \
		return skb_verdict_named(skb, HOOK_##ID, reason, rule, &pkt.meta, pkt.cfg,         \
					 STAGE_DNS_QUERIES, pkt.len);                              \
	}

/* the packet from the XDP metadata area and the destination from the IP header */
static __always_inline int stage_xdp_pkt(struct xdp_md *ctx, struct stage_pkt *pkt)
{
	if (meta_load_xdp(ctx, &pkt->meta) || !stage_meta_valid(&pkt->meta))
		return -1;
	pkt->len = (__u32)(ctx->data_end - ctx->data);
	if (pkt->meta.l3_off < 256 && pkt->meta.l4_off < 512 &&
	    !stage_pkt_addrs_direct((void *)(long)ctx->data, (void *)(long)ctx->data_end, pkt))
		return 0;
	return STAGE_PKT_ADDRS(ctx, pkt, bpf_xdp_load_bytes);
}

/*
 * The generation's mark (xdp_marks, maps.h), which the loader sets before
 * it loads the stage: an allowed frame that leaves nothing to tc ingress
 * carries it there (struct xdp_pass), and is not judged again. 0: none.
 */
const volatile __u64 xdp_pass_mark = 0;

/*
 * Whether tc ingress behind XDP has nothing left to do for a frame with this
 * reason: a rule for every process allowed it (a tool's rule is decided at tc
 * ingress, which knows the tool), and it begins no flow (a record, made at tc).
 * marks: a constant, 0 for a stage that reads payloads (its state at tc
 * follows every packet) or records queries.
 */
static __always_inline int stage_xdp_done(int reason, const struct stage_pkt *pkt, const int marks)
{
	return marks && !STAGE_DNS_QUERIES && !dry_run && reason == REASON_RULE && !pkt->new_flow &&
	       !pkt->meta.tool && xdp_pass_mark;
}

/* a frame at XDP, at the hook of row ID */
#define STAGE_XDP_PROGRAM(ID, name, sec)                                                           \
	SEC(sec)                                                                                   \
	int stage_##name(struct xdp_md *ctx)                                                       \
	{                                                                                          \
		struct stage_pkt pkt = {};                                                         \
		__u32 rule = 0;                                                                    \
		int reason;                                                                        \
                                                                                                   \
		if (stage_xdp_pkt(ctx, &pkt))                                                      \
			return xdp_verdict(ctx, REASON_BAD_META, 0, &pkt.meta,                     \
					   gen_config_get(pkt.meta.gen));                          \
		if (dry_run)                                                                       \
			pkt.matched = &rule;                                                       \
		reason = stage_judge_xdp(ctx, &pkt);                                               \
		/* a rule's allow on its own: its verdict's tests folded away (a constant) */      \
		if (reason == REASON_RULE) {                                                       \
			if (stage_xdp_done(REASON_RULE, &pkt, stage_marks_xdp()))                  \
				meta_mark_xdp(ctx, xdp_pass_mark);                                 \
			return xdp_verdict_named(ctx, REASON_RULE, rule, &pkt.meta, NULL,          \
						 STAGE_DNS_QUERIES);                               \
		}                                                                                  \
		/* the settings matter to a denial alone (audit): an allowed frame skips them */   \
		return xdp_verdict_named(ctx, reason, rule, &pkt.meta,                             \
					 REASON_IS_ALLOW(reason) ? NULL : stage_cfg(&pkt),         \
					 STAGE_DNS_QUERIES);                                       \
	}

/* one entry point per row of the hook table, by its entry kind */
#define STAGE_ENTRY_SKB(ID, name, sec) STAGE_SKB_PROGRAM(ID, name, sec)
#define STAGE_ENTRY_XDP(ID, name, sec) STAGE_XDP_PROGRAM(ID, name, sec)
#define STAGE_ENTRY_SOCK4(ID, name, sec) STAGE_SOCK_ADDR_PROGRAM(ID, name, sec, 0)
#define STAGE_ENTRY_SOCK6(ID, name, sec) STAGE_SOCK_ADDR_PROGRAM(ID, name, sec, 1)
#define STAGE_ENTRY_ROW(ID, name, label, sec, entry, load, link, cgtype)                           \
	STAGE_ENTRY_##entry(ID, name, sec)

#endif
