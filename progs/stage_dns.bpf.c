// SPDX-License-Identifier: GPL-2.0
/* stage_dns.bpf.c: DNS (udp/53, tcp/53) only to the resolvers in its map, and only for allowed names. */
#define STAGE_DNS_QUERIES 1 /* its allowed datagrams are queries: recorded with their names */
#include <ironclaw/stage.h>
#include "lib/dns.h"
#include "lib/learn_query.h"

STAGE_DESCRIBE("dns", SLOT_DNS, STAGE_MAP_EXACT, STAGE_CLASS(IPPROTO_UDP, 53),
	       STAGE_CLASS(IPPROTO_TCP, 53));
STAGE_RULES_EXACT();

/*
 * The rule for the destination (the sender's tool first), not counted yet:
 * a resolver's (one address, this port, in the stage's map), else a prefix
 * or a rule for every port (wide_rules), which lets queries through under
 * the same checks of their names but never makes the address a resolver
 * whose answers teach addresses (*resolver = 0).
 */
static __always_inline int resolver_rule(const struct stage_pkt *pkt, struct policy_value *out,
					 int *resolver)
{
	struct policy_value *v = STAGE_RULE_ENTRY(pkt);

	*resolver = v != NULL;
	if (!v)
		v = stage_wide_rule(pkt, 1);
	if (!v)
		return 0;
	/* a copy: what follows is one path for the verifier, whichever map it came from */
	*out = *v;
	return 1;
}

/* 'allow dns' lines: queries are parsed, TCP DNS is denied (the generation's GEN_DNS_NAMES) */
static __always_inline int names_checked(const struct stage_pkt *pkt)
{
	return gen_flags(stage_cfg(pkt)) & GEN_DNS_NAMES;
}

/*
 * connect() and sendto(): no payload yet. UDP to a resolver passes here; its
 * datagrams are judged at the packet hooks (cgroup_skb, tc). TCP is refused
 * at once while names are checked: a stream is not judged packet by packet.
 */
static __always_inline int judge_dns(const struct stage_pkt *pkt)
{
	struct policy_value v;
	int resolver;

	if (!resolver_rule(pkt, &v, &resolver))
		return REASON_NO_RULE;
	if (pkt->meta.l4proto == IPPROTO_TCP && names_checked(pkt))
		return REASON_DNS_TCP;
	return stage_matched(&v, pkt);
}

/*
 * DNS_QUERY_JUDGE(fn, ctx type, load_bytes, gso): a UDP query to a resolver,
 * one datagram, one whole DNS message, copied into the work slot and checked
 * in full (names: the generation checks names; else REASON_RULE, the message
 * only parsed for learn); written once for skb and XDP, which differ in how
 * bytes are read. learn: a question for a followed name goes into *lq.
 */
#define DNS_QUERY_JUDGE(fn, ctx_t, load_bytes, gso)                                                \
	static __always_inline int fn(ctx_t *ctx, const struct stage_pkt *pkt, __u32 *rule_id,     \
				      int names, int learn, struct learn_question *lq)             \
	{                                                                                          \
		const struct pkt_meta *m = &pkt->meta;                                             \
		__u32 off = m->l4_off, end, dns_len, r, qtype = 0, slot;                           \
		struct dns_work_cpu *cpu;                                                          \
		struct dns_work *w;                                                                \
		__be16 len, udp_len;                                                               \
                                                                                                   \
		/* a GSO datagram is many on the wire: one query is one datagram */                \
		if (gso)                                                                           \
			return REASON_DNS_MALFORMED;                                               \
		/* where the IP datagram ends; IPv6 payload length 0 is a jumbogram */             \
		if (load_bytes(ctx, m->l3_off + (m->family == AF_INET ? 2 : 4), &len, 2))          \
			return REASON_DNS_MALFORMED;                                               \
		end = m->family == AF_INET ? m->l3_off + bpf_ntohs(len) :                          \
		      len		   ? m->l3_off + 40 + bpf_ntohs(len) :                     \
					     0;                                                                     \
		if (!end || load_bytes(ctx, off + 4, &udp_len, 2))                                 \
			return REASON_DNS_MALFORMED;                                               \
		if (bpf_ntohs(udp_len) < 8 || off + bpf_ntohs(udp_len) != end)                     \
			return REASON_DNS_MALFORMED;                                               \
		dns_len = bpf_ntohs(udp_len) - 8;                                                  \
		if (dns_len < 12 || dns_len > DNS_MSG_MAX)                                         \
			return REASON_DNS_MALFORMED;                                               \
		w = dns_work_get(&cpu, &slot);                                                     \
		if (!w)                                                                            \
			return REASON_NO_CONFIG; /* nested deeper than DNS_WORK_NEST */            \
		w->len = dns_len;                                                                  \
		if (load_bytes(ctx, off + 8, w->msg, dns_len & (DNS_MSG_MAX * 2 - 1)))             \
			r = REASON_DNS_MALFORMED;                                                  \
		else if (names)                                                                    \
			r = dns_judge_query(w, m->gen, m->tool, rule_id, &qtype);                  \
		else                                                                               \
			r = learn_parse_query(w, m->gen, &qtype);                                  \
		if (learn && r == REASON_RULE)                                                     \
			learn_question(w, m->gen, qtype, lq);                                      \
		dns_work_put(cpu, slot);                                                           \
		return r;                                                                          \
	}

DNS_QUERY_JUDGE(judge_query_skb, struct __sk_buff, bpf_skb_load_bytes, ctx->gso_size)
DNS_QUERY_JUDGE(judge_query_xdp, struct xdp_md, bpf_xdp_load_bytes, 0)

/*
 * A query judged in full: the resolver's rule, then its name. While the
 * generation learns, an allowed query leaves with its id rewritten at
 * host-side tc ingress and waits for its answer (learn_query_rewrite);
 * elsewhere (XDP, cgroup_skb, the sandbox's own tc) nothing is recorded.
 */
#define DNS_PACKET_JUDGE(fn, ctx_t, judge_query, rewrite)                                           \
	static __always_inline int fn(ctx_t *ctx, const struct stage_pkt *pkt)                      \
	{                                                                                           \
		struct learn_question lq = {};                                                      \
		__u32 rule_id = 0, flags;                                                           \
		int r, names, learn, resolver;                                                      \
		struct policy_value v;                                                              \
                                                                                                    \
		if (!resolver_rule(pkt, &v, &resolver))                                             \
			return REASON_NO_RULE;                                                      \
		flags = gen_flags(stage_cfg(pkt));                                                  \
		names = flags & GEN_DNS_NAMES;                                                      \
		learn = resolver && (flags & GEN_LEARN); /* a prefix is never a resolver */         \
		if (!names && (!learn || pkt->meta.l4proto == IPPROTO_TCP))                         \
			return stage_matched(&v, pkt);                                              \
		if (pkt->meta.l4proto == IPPROTO_TCP)                                               \
			return REASON_DNS_TCP;                                                      \
		r = judge_query(ctx, pkt, &rule_id, names, learn, &lq);                             \
		if (names) {                                                                        \
			/* XDP knows no tool: a name only a tool's rule allows is for tc ingress */ \
			if (r == REASON_QNAME && pkt->meta.tool == POLICY_TOOL_UNKNOWN)             \
				return REASON_TOOL_DEFERRED;                                        \
			if (r != REASON_RULE)                                                       \
				return r;                                                           \
			if (!dry_run)                                                               \
				count_rule(rule_id,                                                 \
					   pkt->len); /* the name's rule, then the        \
								* resolver's */         \
		}                                                                                   \
		r = stage_matched(&v, pkt);                                                         \
		/* explain and query records name the rule that let the query's name through */     \
		if (names && r == REASON_RULE && pkt->matched)                                      \
			*pkt->matched = rule_id + 1;                                                \
		if (r == REASON_RULE && learn)                                                      \
			rewrite(ctx, pkt, &lq);                                                     \
		return r;                                                                           \
	}

static __always_inline void no_rewrite(struct xdp_md *ctx, const struct stage_pkt *pkt,
				       const struct learn_question *lq)
{
}

DNS_PACKET_JUDGE(judge_dns_skb, struct __sk_buff, judge_query_skb, learn_query_rewrite)
DNS_PACKET_JUDGE(judge_dns_xdp, struct xdp_md, judge_query_xdp, no_rewrite)

STAGE_PROGRAMS_PAYLOAD(judge_dns_skb, judge_dns_xdp, judge_dns);
