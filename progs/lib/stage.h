/* stage.h: what a stage object is made of: its descriptor, its rule map and its per-hook entry points. */
#ifndef IRONCLAW_PROGS_STAGE_H
#define IRONCLAW_PROGS_STAGE_H

#include "common.h"
#include "maps.h"
#include "meta_skb.h"
#include "learn_maps.h"

#define STAGE_CLASS(proto, p)                                                                      \
	{                                                                                          \
		.l4proto = (proto), .port = (p)                                                    \
	}

/*
 * STAGE_DESCRIBE("name", slot, map kind, classes...): the descriptor the
 * loader reads from the object before loading it.
 */
#define STAGE_DESCRIBE(NAME, SLOT, KIND, ...)                                                      \
	const volatile struct stage_desc stage_desc SEC(STAGE_DESC_SECTION) = {                    \
		.abi = STAGE_DESC_ABI,                                                             \
		.name = NAME,                                                                      \
		.slot = SLOT,                                                                      \
		.map_kind = KIND,                                                                  \
		.nr_classes = sizeof((struct stage_class[]){ __VA_ARGS__ }) /                      \
			      sizeof(struct stage_class),                                          \
		.classes = { __VA_ARGS__ },                                                        \
	}

/* the loader sizes each rule map for its profile; this is only the object's default */
#ifndef STAGE_RULES_MAX
#define STAGE_RULES_MAX 1024
#endif

/* the stage's own rule map; the loader pins it once per instance and stage */
#define STAGE_RULES_EXACT()                                                                        \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_HASH);                                                   \
		__uint(map_flags, BPF_F_NO_PREALLOC);                                              \
		__uint(max_entries, STAGE_RULES_MAX);                                              \
		__type(key, struct policy_key);                                                    \
		__type(value, struct policy_value);                                                \
	} rules SEC(".maps")

#define STAGE_RULES_PREFIX()                                                                       \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);                                               \
		__uint(map_flags, BPF_F_NO_PREALLOC);                                              \
		__uint(max_entries, STAGE_RULES_MAX);                                              \
		__type(key, struct policy_lpm_key);                                                \
		__type(value, struct policy_value);                                                \
	} rules SEC(".maps")

/* the packet as a stage sees it: the dispatcher's metadata plus the destination */
struct stage_pkt {
	struct pkt_meta meta;
	__u8 daddr[16];
	__u8 saddr[16]; /* packets only (for flows learned from DNS) */
	__u32 len; /* bytes, for the rule's counter; 0 at connect() and sendto() */
	__u8 new_flow; /* a TCP SYN without ACK, connect() or sendto(): a flow begins */
	__u8 at_sock; /* connect() or sendto(): no packet yet */
	__u8 pad[2];
	__u32 *matched; /* dry run: where the matching rule's number + 1 goes */
	__u64 cookie; /* the sending socket's cookie, when flows learned from DNS are kept */
};

static __always_inline void stage_key(struct policy_key *k, const struct stage_pkt *pkt)
{
	k->gen = pkt->meta.gen;
	k->l4proto = pkt->meta.l4proto;
	k->dport = pkt->meta.dport;
	k->family = pkt->meta.family;
	k->tool = pkt->meta.tool;
	__builtin_memcpy(k->daddr, pkt->daddr, 16);
}

/* a rule's value found (or not): its counter, and the reason */
static __always_inline int stage_matched(const struct policy_value *v, const struct stage_pkt *pkt)
{
	if (!v)
		return REASON_NO_RULE;
	if (dry_run && pkt->matched)
		*pkt->matched = v->rule_id + 1;
	if (v->flags & POLICY_F_TOOL_RULE)
		return REASON_TOOL_DEFERRED; /* counted where the tool is known */
	if (!dry_run)
		count_rule(v->rule_id, pkt->len);
	return REASON_RULE;
}

static __always_inline void stage_flow_key(struct learn_flow_key *fk, const struct stage_pkt *pkt)
{
	fk->family = pkt->meta.family;
	fk->l4proto = pkt->meta.l4proto;
	fk->sport = pkt->meta.sport;
	fk->dport = pkt->meta.dport;
	__builtin_memcpy(fk->saddr, pkt->saddr, 16);
	__builtin_memcpy(fk->daddr, pkt->daddr, 16);
}

/*
 * A flow that began while its address was learned: kept after the expiry
 * while a name rule of its name still covers {protocol, port, tool}; a UDP
 * flow until it is idle for LEARN_UDP_IDLE_NS. At XDP (tool unknown) a
 * tool's flow is for tc ingress to decide.
 */
static __always_inline int stage_flow(const struct stage_pkt *pkt, __u64 now)
{
	struct learn_rule_key k = { .gen = pkt->meta.gen,
				    .l4proto = pkt->meta.l4proto,
				    .dport = pkt->meta.dport };
	struct learn_flow_key fk = {};
	struct learn_flow_value *f;
	__u32 name_id = 0, rule_id = 0;
	int expired = 0;

	stage_flow_key(&fk, pkt);
	f = bpf_map_lookup_elem(&learn_flows, &fk);
	if (!f)
		return 0;
	if (pkt->meta.l4proto == IPPROTO_UDP && now - f->last_ns > LEARN_UDP_IDLE_NS)
		return 0;
	if (f->tool && f->tool != pkt->meta.tool && pkt->meta.tool != POLICY_TOOL_UNKNOWN)
		return 0; /* another tool's socket on the same 5-tuple */
	if (f->cookie && pkt->cookie && f->cookie != pkt->cookie)
		return 0; /* another socket on the same 5-tuple: a new flow */
	k.tool = f->tool ? pkt->meta.tool : 0;
	if (!learn_match(bpf_map_lookup_elem(&learn_rules, &k), pkt->meta.family, pkt->daddr, now,
			 f->name_id, &name_id, &rule_id, &expired))
		return 0; /* its rule is gone */
	if (dry_run && pkt->matched)
		*pkt->matched = rule_id + 1;
	if (k.tool == POLICY_TOOL_UNKNOWN)
		return REASON_TOOL_DEFERRED;
	if (!dry_run) {
		f->last_ns = now;
		count_rule(rule_id, pkt->len);
	}
	return REASON_FLOW;
}

/*
 * No rule for the destination: an address learned from DNS for a name rule
 * of this {protocol, port} (the sender's tool first, then every process), or
 * a flow that began while one was. A packet allowed through a learned
 * address starts (or renews) its flow.
 */
static __always_inline int stage_learned(const struct stage_pkt *pkt)
{
	struct learn_rule_key k = { .tool = pkt->meta.tool,
				    .gen = pkt->meta.gen,
				    .l4proto = pkt->meta.l4proto,
				    .dport = pkt->meta.dport };
	struct learn_rule_value *v;
	__u32 name_id = 0, rule_id = 0;
	int expired = 0, ok, r;
	__u64 now;

	if (!learn_enabled(pkt->meta.gen))
		return REASON_NO_RULE;
	now = bpf_ktime_get_ns();
	v = bpf_map_lookup_elem(&learn_rules, &k);
	ok = learn_match(v, pkt->meta.family, pkt->daddr, now, 0, &name_id, &rule_id, &expired);
	if (!ok && k.tool) {
		k.tool = 0;
		v = bpf_map_lookup_elem(&learn_rules, &k);
		ok = learn_match(v, pkt->meta.family, pkt->daddr, now, 0, &name_id, &rule_id,
				 &expired);
	}
	if (ok && v) {
		if (dry_run && pkt->matched)
			*pkt->matched = rule_id + 1;
		if (v->flags & POLICY_F_TOOL_RULE)
			return REASON_TOOL_DEFERRED;
		if (!dry_run) {
			count_rule(rule_id, pkt->len);
			if (!pkt->at_sock) {
				struct learn_flow_key fk = {};
				struct learn_flow_value fv = { .tool = k.tool,
							       .last_ns = now,
							       .cookie = pkt->cookie,
							       .name_id = name_id,
							       .rule_id = rule_id };

				stage_flow_key(&fk, pkt);
				/* XDP knows no socket: it keeps the one tc or cgroup_skb saw */
				if (!pkt->cookie) {
					struct learn_flow_value *old =
						bpf_map_lookup_elem(&learn_flows, &fk);

					if (old)
						fv.cookie = old->cookie;
				}
				bpf_map_update_elem(&learn_flows, &fk, &fv, BPF_ANY);
			}
		}
		return REASON_RULE;
	}
	if (!pkt->new_flow) {
		r = stage_flow(pkt, now);
		if (r)
			return r;
	}
	return expired ? REASON_NAME_EXPIRED : REASON_NO_RULE;
}

/*
 * Exact match on {generation, protocol, port, family, tool, destination}:
 * the sender's tool first, then rules for every process of the sandbox.
 */
#define STAGE_LOOKUP_EXACT(pkt)                                                                    \
	({                                                                                         \
		struct policy_key __k = {};                                                        \
		void *__v;                                                                         \
                                                                                                   \
		stage_key(&__k, (pkt));                                                            \
		__v = bpf_map_lookup_elem(&rules, &__k);                                           \
		if (!__v && __k.tool) {                                                            \
			__k.tool = 0;                                                              \
			__v = bpf_map_lookup_elem(&rules, &__k);                                   \
		}                                                                                  \
		__v ? stage_matched(__v, (pkt)) : stage_learned(pkt);                              \
	})

/* longest prefix over the destination, the other fields matched in full; tool first */
#define STAGE_LOOKUP_PREFIX(pkt)                                                                   \
	({                                                                                         \
		struct policy_lpm_key __k = { .prefixlen = POLICY_LPM_FIXED_BITS + 128 };          \
		void *__v;                                                                         \
                                                                                                   \
		stage_key(&__k.k, (pkt));                                                          \
		__v = bpf_map_lookup_elem(&rules, &__k);                                           \
		if (!__v && __k.k.tool) {                                                          \
			__k.k.tool = 0;                                                            \
			__v = bpf_map_lookup_elem(&rules, &__k);                                   \
		}                                                                                  \
		__v ? stage_matched(__v, (pkt)) : stage_learned(pkt);                              \
	})

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

/* connect() and sendto(), at the hook of row ID; v6: the caller is an IPv6 socket */
#define STAGE_SOCK_ADDR_PROGRAM(ID, name, sec, v6)                                                 \
	SEC(sec)                                                                                   \
	int stage_##name(struct bpf_sock_addr *ctx)                                                \
	{                                                                                          \
		struct stage_pkt pkt = {};                                                         \
                                                                                                   \
		if (stage_sock_pkt(ctx, &pkt, v6))                                                 \
			return sock_finish(HOOK_##ID, REASON_BAD_META, &pkt.meta, NULL);           \
		return sock_finish(HOOK_##ID, stage_judge_sock(&pkt), &pkt.meta, pkt.daddr);       \
	}

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

/* the packet from skb->cb[] and the addresses from the IP header */
static __always_inline int stage_skb_pkt(struct __sk_buff *skb, struct stage_pkt *pkt)
{
	meta_load_skb(skb, &pkt->meta);
	if (!stage_meta_valid(&pkt->meta))
		return -1;
	pkt->len = skb->len;
	return STAGE_PKT_ADDRS(skb, pkt, bpf_skb_load_bytes);
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
		if (stage_skb_pkt(skb, &pkt))                                                      \
			return skb_finish(skb, HOOK_##ID, REASON_BAD_META, &pkt.meta);             \
		if (dry_run)                                                                       \
			pkt.matched = &rule;                                                       \
		/* a flow kept past its address's expiry belongs to one socket */                  \
		if (learn_enabled(pkt.meta.gen))                                                   \
			pkt.cookie = bpf_get_socket_cookie(skb);                                   \
		reason = stage_judge_skb(skb, &pkt);                                               \
		return skb_verdict(skb, HOOK_##ID, reason, rule, &pkt.meta);                       \
	}

/* the packet from the XDP metadata area and the destination from the IP header */
static __always_inline int stage_xdp_pkt(struct xdp_md *ctx, struct stage_pkt *pkt)
{
	if (meta_load_xdp(ctx, &pkt->meta) || !stage_meta_valid(&pkt->meta))
		return -1;
	pkt->len = (__u32)(ctx->data_end - ctx->data);
	return STAGE_PKT_ADDRS(ctx, pkt, bpf_xdp_load_bytes);
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
			return xdp_verdict(ctx, REASON_BAD_META, 0, &pkt.meta);                    \
		if (dry_run)                                                                       \
			pkt.matched = &rule;                                                       \
		reason = stage_judge_xdp(ctx, &pkt);                                               \
		return xdp_verdict(ctx, reason, rule, &pkt.meta);                                  \
	}

/* one entry point per row of the hook table, by its entry kind */
#define STAGE_ENTRY_SKB(ID, name, sec) STAGE_SKB_PROGRAM(ID, name, sec)
#define STAGE_ENTRY_XDP(ID, name, sec) STAGE_XDP_PROGRAM(ID, name, sec)
#define STAGE_ENTRY_SOCK4(ID, name, sec) STAGE_SOCK_ADDR_PROGRAM(ID, name, sec, 0)
#define STAGE_ENTRY_SOCK6(ID, name, sec) STAGE_SOCK_ADDR_PROGRAM(ID, name, sec, 1)
#define STAGE_ENTRY_ROW(ID, name, label, sec, entry, load, link, cgtype)                           \
	STAGE_ENTRY_##entry(ID, name, sec)

/*
 * STAGE_PROGRAMS_PAYLOAD(judge_skb, judge_xdp, judge): the thin per-hook entry
 * points (stage_tc, stage_cgskb, stage_connect4, ...), one per row of the hook
 * table, for a stage that reads the payload at the packet hooks. judge_skb is
 * `static __always_inline int judge_skb(struct __sk_buff *skb, const struct stage_pkt *pkt)`,
 * judge_xdp the same over `struct xdp_md *`; connect() and sendto() have no
 * payload yet and get judge(pkt). Each returns a reason code.
 */
#define STAGE_PROGRAMS_PAYLOAD(judge_skb, judge_xdp, judge)                                        \
	static __always_inline int stage_judge_skb(struct __sk_buff *skb,                          \
						   const struct stage_pkt *pkt)                    \
	{                                                                                          \
		return judge_skb(skb, pkt);                                                        \
	}                                                                                          \
	static __always_inline int stage_judge_xdp(struct xdp_md *ctx,                             \
						   const struct stage_pkt *pkt)                    \
	{                                                                                          \
		return judge_xdp(ctx, pkt);                                                        \
	}                                                                                          \
	static __always_inline int stage_judge_sock(const struct stage_pkt *pkt)                   \
	{                                                                                          \
		return judge(pkt);                                                                 \
	}                                                                                          \
	HOOK_TABLE(STAGE_ENTRY_ROW)                                                                \
	char LICENSE[] SEC("license") = "GPL"

/*
 * STAGE_PROGRAMS(judge): the same for a stage whose judge reads no payload:
 * `static __always_inline int judge(const struct stage_pkt *pkt)` returning
 * a reason code, written once and run at every hook.
 */
#define STAGE_PROGRAMS(judge)                                                                      \
	static __always_inline int stage_judge_pkt(void *ctx, const struct stage_pkt *pkt)         \
	{                                                                                          \
		(void)ctx;                                                                         \
		return judge(pkt);                                                                 \
	}                                                                                          \
	STAGE_PROGRAMS_PAYLOAD(stage_judge_pkt, stage_judge_pkt, judge)

#endif
