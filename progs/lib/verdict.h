/* verdict.h: a verdict in each hook's own return codes: counted, its denial recorded, or (dry run) reported. */
#ifndef IRONCLAW_PROGS_VERDICT_H
#define IRONCLAW_PROGS_VERDICT_H

#include "common.h"
#include "meta_skb.h"
#include "settings.h"
#include "counts.h"
#include "events.h"
#include "audit.h"

/* explain: the verdict into skb->cb[], nothing recorded */
static __always_inline void dry_result_store(struct __sk_buff *skb, __u32 reason, __u32 rule,
					     const struct pkt_meta *m, __u32 audit)
{
	skb->cb[0] = DRY_RUN_MAGIC;
	skb->cb[1] = reason;
	skb->cb[2] = rule;
	skb->cb[3] = m->slot;
	skb->cb[4] = audit;
}

/*
 * The verdict of a packet, in the hook's own codes, its denial recorded: at tc,
 * allow continues the tcx chain (TCX_NEXT) so later filters still run; at
 * cgroup_skb 1 allows and 0 drops. rule: the matching rule's number + 1, for
 * explain (dry run) only. cfg: the settings of m->gen, NULL when there are
 * none (settings.h). names: a constant, 1 at the dns stage: a denial of a
 * query's name or type carries the name (len: the packet's length).
 */
static __always_inline int skb_verdict_named(struct __sk_buff *skb, __u8 hook, __u32 reason,
					     __u32 rule, const struct pkt_meta *m,
					     const struct gen_config *cfg, const int names,
					     __u32 len)
{
	int audit;

	/* only XDP defers to tc ingress; anywhere else it would be a way through */
	if (reason == REASON_TOOL_DEFERRED)
		reason = REASON_BAD_META;
	audit = !REASON_IS_ALLOW(reason) && audited(reason, m, cfg);

	if (dry_run) {
		dry_result_store(skb, reason, rule, m, audit);
	} else {
		count_reason(audit ? REASON_WOULD_DENY : reason, skb->len);
		if (names && REASON_HAS_QNAME(reason))
			EVENT_PACKET_NAMED(skb, bpf_skb_load_bytes, bpf_skb_cgroup_id(skb), hook,
					   reason, m, audit, len);
		else if (!REASON_IS_ALLOW(reason) && !REASON_IS_QUIET(reason) &&
			 reason != REASON_SNI) /* the https stage records it, with the name */
			event_packet_skb(skb, m->tool, event_head(m),
					 event_tail(m, hook, reason, audit));
	}
	if (REASON_IS_ALLOW(reason) || audit)
		return hook == HOOK_TC ? TC_ACT_UNSPEC : 1;
	return hook == HOOK_TC ? TC_ACT_SHOT : 0;
}

static __always_inline int skb_verdict(struct __sk_buff *skb, __u8 hook, __u32 reason, __u32 rule,
				       const struct pkt_meta *m, const struct gen_config *cfg)
{
	return skb_verdict_named(skb, hook, reason, rule, m, cfg, 0, 0);
}

static __always_inline int skb_finish(struct __sk_buff *skb, __u8 hook, __u32 reason,
				      const struct pkt_meta *m, const struct gen_config *cfg)
{
	return skb_verdict(skb, hook, reason, 0, m, cfg);
}

/* explain at XDP: the verdict into the frame's metadata area, which the test run returns */
static __always_inline void dry_result_store_xdp(struct xdp_md *ctx, __u32 reason, __u32 rule,
						 const struct pkt_meta *m, __u32 audit)
{
	struct dry_result r = { DRY_RUN_MAGIC, reason, rule, m->slot, audit };
	void *slot = xdp_meta_slot(ctx, sizeof(r));

	if (slot)
		__builtin_memcpy(slot, &r, sizeof(r));
}

/*
 * The verdict of a frame at XDP: XDP_PASS on to the stack (and tc ingress),
 * XDP_DROP. rule: the matching rule's number + 1, for explain only. names:
 * a constant, 1 at the dns stage (skb_verdict_named).
 */
static __always_inline int xdp_verdict_named(struct xdp_md *ctx, __u32 reason, __u32 rule,
					     const struct pkt_meta *m, const struct gen_config *cfg,
					     const int names)
{
	int audit;

	/* a stage's denial that 'audit tool' may let through: for tc ingress, which knows tools */
	if (!REASON_IS_ALLOW(reason) && m->slot && m->tool == POLICY_TOOL_UNKNOWN &&
	    (gen_flags(cfg) & GEN_AUDIT_TOOLS))
		reason = REASON_TOOL_DEFERRED;
	audit = !REASON_IS_ALLOW(reason) && audited(reason, m, cfg);

	if (dry_run) {
		dry_result_store_xdp(ctx, reason, rule, m, audit);
	} else {
		count_reason(audit ? REASON_WOULD_DENY : reason,
			     (__u32)(ctx->data_end - ctx->data));
		/* no socket at XDP: no sending cgroup, and the tool is unknown */
		if (!REASON_IS_ALLOW(reason) && !REASON_IS_QUIET(reason)) {
			struct pkt_meta anon = *m;

			anon.tool = 0;
			if (names && REASON_HAS_QNAME(reason))
				EVENT_PACKET_NAMED(ctx, bpf_xdp_load_bytes, 0, HOOK_XDP, reason,
						   &anon, audit,
						   (__u32)(ctx->data_end - ctx->data));
			else
				EVENT_PACKET(ctx, bpf_xdp_load_bytes, 0, HOOK_XDP, reason, &anon,
					     audit);
		}
	}
	return REASON_IS_ALLOW(reason) || audit ? XDP_PASS : XDP_DROP;
}

static __always_inline int xdp_verdict(struct xdp_md *ctx, __u32 reason, __u32 rule,
				       const struct pkt_meta *m, const struct gen_config *cfg)
{
	return xdp_verdict_named(ctx, reason, rule, m, cfg, 0);
}

/* the verdict of a connect() or sendto(): 0 makes it fail with EPERM */
static __always_inline int sock_finish(__u8 hook, __u32 reason, const struct pkt_meta *m,
				       const __u8 *daddr, const struct gen_config *cfg)
{
	int audit;

	if (reason == REASON_TOOL_DEFERRED) /* XDP's alone */
		reason = REASON_BAD_META;
	audit = !REASON_IS_ALLOW(reason) && audited(reason, m, cfg);

	if (!dry_run) { /* connect hooks cannot be test-run; a dry copy records nothing anyway */
		count_reason(audit ? REASON_WOULD_DENY : reason, 0);
		if (!REASON_IS_ALLOW(reason))
			event_sock(hook, reason, m, daddr, audit);
	}
	return REASON_IS_ALLOW(reason) || audit;
}

#endif
