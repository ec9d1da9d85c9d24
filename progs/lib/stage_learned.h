/* stage_learned.h: for stages that follow names (IRONCLAW_STAGE_FOLLOW_NAMES): destinations learned from DNS, and the flows they began. */
#ifndef IRONCLAW_PROGS_STAGE_LEARNED_H
#define IRONCLAW_PROGS_STAGE_LEARNED_H

#include "stage.h"
#include "learn_maps.h"

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

	if (!learn_enabled(stage_cfg(pkt)))
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
		if (pkt->matched)
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

#endif
