/* maps.h: the maps every program of an instance shares (control word, counters); pinned once per instance. */
#ifndef IRONCLAW_PROGS_MAPS_H
#define IRONCLAW_PROGS_MAPS_H

#include "common.h"
#include "meta_skb.h"

/*
 * Set by the loader in the copy of the pipeline that explain test-runs: judge,
 * record nothing, report through skb->cb[] (dry_run.h). A constant of the
 * loaded program, so the live pipeline carries no trace of it.
 */
const volatile __u32 dry_run = 0;
/* and the tool explain's packet is sent as (its cgroup id; 0: no tool) */
const volatile __u64 dry_tool = 0;

/* One word: bit 0 the generation in force, bit 1 deny-all. Read once per packet. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} ctl SEC(".maps");

/* per-generation settings: where tools sit in the cgroup tree, what is in audit mode */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct gen_config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * 256);
	__type(key, struct audit_tool_key);
	__type(value, __u32);
} audit_tools SEC(".maps");

/* Packets and bytes per reason code, per CPU; user space sums them. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, REASON_MAX);
	__type(key, __u32);
	__type(value, struct pkt_count);
} reasons SEC(".maps");

/*
 * Hits per rule of the installed profile (index: the rule's number), per CPU.
 * The loader creates it anew, sized for the profile, at every install.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pkt_count);
} rule_counts SEC(".maps");

static __always_inline void count_rule(__u32 rule_id, __u32 bytes)
{
	struct pkt_count *c = bpf_map_lookup_elem(&rule_counts, &rule_id);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

static __always_inline void count_reason(__u32 reason, __u32 bytes)
{
	struct pkt_count *c = bpf_map_lookup_elem(&reasons, &reason);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

/*
 * What a socket carries for the connect-time hooks: its tool, recorded when it
 * was created (the caller of connect() may be in another cgroup by then), and
 * the metadata the dispatcher hands to the stage (the socket is locked while
 * its connect and sendmsg hooks run, so one slot per socket is enough).
 */
struct sock_state {
	__u64 tool;
	__u32 tool_known;
	__u32 pad;
	struct pkt_meta meta;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sock_state);
} sock_state SEC(".maps");

/* denials for user space (ironclaw-pipe log); full buffer: new events are dropped, counted */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EVENT_DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} event_drops SEC(".maps");

struct event_budget {
	__u64 window; /* the second it counts for */
	__u32 used;
	__u32 pad;
};

/* a flood from one tool cannot starve the others' events */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct event_budget);
} event_budgets SEC(".maps");

static __always_inline void count_event_drop(__u32 why)
{
	__u64 *n = bpf_map_lookup_elem(&event_drops, &why);

	if (n)
		(*n)++;
}

/*
 * A reserved event, or NULL (over the budget of its tool, or the buffer is
 * full: counted). The budget is one per tool across CPUs; a sender with no
 * tool is budgeted by its own cgroup.
 */
static __always_inline struct deny_event *event_reserve(__u64 cgroup, __u64 tool)
{
	__u64 now = bpf_ktime_get_ns(), window = now / 1000000000ull, key = tool ? tool : cgroup;
	struct event_budget *b = bpf_map_lookup_elem(&event_budgets, &key);
	struct deny_event *e;

	if (!b) {
		struct event_budget fresh = { .window = window };

		bpf_map_update_elem(&event_budgets, &key, &fresh, BPF_NOEXIST);
		b = bpf_map_lookup_elem(&event_budgets, &key);
	}
	if (b) {
		if (b->window != window) {
			b->window = window; /* two CPUs may both reset: a few more events, no harm */
			b->used = 0;
		}
		if (b->used >= EVENTS_PER_SECOND) {
			count_event_drop(EVENT_DROP_RATE);
			return NULL;
		}
		__sync_fetch_and_add(&b->used, 1);
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_event_drop(EVENT_DROP_FULL);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = now;
	e->cgroup = cgroup;
	e->tool = tool;
	return e;
}

/*
 * Audit mode lets a denial through: for the whole instance, the stage that
 * decided, or the sender's tool. Never the deny-all of 'block'.
 */
static __always_inline int audited(__u32 reason, const struct pkt_meta *m)
{
	struct audit_tool_key k = { .tool = m->tool, .gen = m->gen };
	__u32 g = m->gen;
	struct gen_config *cfg;

	if (reason == REASON_BLOCKED)
		return 0;
	cfg = bpf_map_lookup_elem(&config, &g);
	if (!cfg)
		return 0;
	if (cfg->flags & GEN_AUDIT)
		return 1;
	if (m->slot < 32 && (cfg->audit_slots & (1u << m->slot)))
		return 1;
	return m->tool && bpf_map_lookup_elem(&audit_tools, &k);
}

/* what every denial records of the packet's metadata */
static __always_inline void event_fill(struct deny_event *e, __u8 hook, __u32 reason,
				       const struct pkt_meta *m, __u8 audit)
{
	e->audit = audit;
	e->hook = hook;
	e->reason = reason;
	e->family = m->family;
	e->l4proto = m->l4proto;
	e->slot = m->slot;
	e->sport = m->sport;
	e->dport = m->dport;
}

/*
 * A denial of a packet, its addresses from the IP header when the parser got
 * that far; load is bpf_skb_load_bytes or bpf_xdp_load_bytes.
 */
#define EVENT_PACKET(ctx, load, cgroup, hook, reason, m, audit)                                    \
	do {                                                                                       \
		struct deny_event *e = event_reserve((cgroup), (m)->tool);                        \
                                                                                                   \
		if (!e)                                                                            \
			break;                                                                     \
		event_fill(e, (hook), (reason), (m), (audit));                                     \
		if ((m)->family == AF_INET) {                                                      \
			load((ctx), (m)->l3_off + 12, e->saddr, 4);                                \
			load((ctx), (m)->l3_off + 16, e->daddr, 4);                                \
		} else if ((m)->family == AF_INET6) {                                              \
			load((ctx), (m)->l3_off + 8, e->saddr, 16);                                \
			load((ctx), (m)->l3_off + 24, e->daddr, 16);                               \
		}                                                                                  \
		bpf_ringbuf_submit(e, 0);                                                          \
	} while (0)

/* a denied connect() or sendto(): the caller is known here */
static __always_inline void event_sock(__u8 hook, __u32 reason, const struct pkt_meta *m,
				       const __u8 *daddr, __u8 audit)
{
	struct deny_event *e = event_reserve(bpf_get_current_cgroup_id(), m->tool);

	if (!e)
		return;
	event_fill(e, hook, reason, m, audit);
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (daddr)
		__builtin_memcpy(e->daddr, daddr, 16);
	bpf_ringbuf_submit(e, 0);
}

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
 * explain (dry run) only.
 */
static __always_inline int skb_verdict(struct __sk_buff *skb, __u8 hook, __u32 reason, __u32 rule,
				       const struct pkt_meta *m)
{
	int audit;

	/* only XDP defers to tc ingress; anywhere else it would be a way through */
	if (reason == REASON_TOOL_DEFERRED)
		reason = REASON_BAD_META;
	audit = !REASON_IS_ALLOW(reason) && audited(reason, m);

	if (dry_run) {
		dry_result_store(skb, reason, rule, m, audit);
	} else {
		count_reason(audit ? REASON_WOULD_DENY : reason, skb->len);
		if (!REASON_IS_ALLOW(reason))
			EVENT_PACKET(skb, bpf_skb_load_bytes, bpf_skb_cgroup_id(skb), hook, reason,
				     m, audit);
	}
	if (REASON_IS_ALLOW(reason) || audit)
		return hook == HOOK_TC ? TC_ACT_UNSPEC : 1;
	return hook == HOOK_TC ? TC_ACT_SHOT : 0;
}

static __always_inline int skb_finish(struct __sk_buff *skb, __u8 hook, __u32 reason,
				      const struct pkt_meta *m)
{
	return skb_verdict(skb, hook, reason, 0, m);
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
 * XDP_DROP. rule: the matching rule's number + 1, for explain only.
 */
static __always_inline int xdp_verdict(struct xdp_md *ctx, __u32 reason, __u32 rule,
				       const struct pkt_meta *m)
{
	int audit;

	/* a stage's denial that 'audit tool' may let through: for tc ingress, which knows tools */
	if (!REASON_IS_ALLOW(reason) && m->slot && m->tool == POLICY_TOOL_UNKNOWN) {
		__u32 g = m->gen;
		struct gen_config *cfg = bpf_map_lookup_elem(&config, &g);

		if (cfg && (cfg->flags & GEN_AUDIT_TOOLS))
			reason = REASON_TOOL_DEFERRED;
	}
	audit = !REASON_IS_ALLOW(reason) && audited(reason, m);

	if (dry_run) {
		dry_result_store_xdp(ctx, reason, rule, m, audit);
	} else {
		count_reason(audit ? REASON_WOULD_DENY : reason,
			     (__u32)(ctx->data_end - ctx->data));
		/* no socket at XDP: no sending cgroup, and the tool is unknown */
		if (!REASON_IS_ALLOW(reason)) {
			struct pkt_meta anon = *m;

			anon.tool = 0;
			EVENT_PACKET(ctx, bpf_xdp_load_bytes, 0, HOOK_XDP, reason, &anon,
				     audit);
		}
	}
	return REASON_IS_ALLOW(reason) || audit ? XDP_PASS : XDP_DROP;
}

/* the verdict of a connect() or sendto(): 0 makes it fail with EPERM */
static __always_inline int sock_finish(__u8 hook, __u32 reason, const struct pkt_meta *m,
				       const __u8 *daddr)
{
	int audit;

	if (reason == REASON_TOOL_DEFERRED) /* XDP's alone */
		reason = REASON_BAD_META;
	audit = !REASON_IS_ALLOW(reason) && audited(reason, m);

	if (!dry_run) { /* connect hooks cannot be test-run; a dry copy records nothing anyway */
		count_reason(audit ? REASON_WOULD_DENY : reason, 0);
		if (!REASON_IS_ALLOW(reason))
			event_sock(hook, reason, m, daddr, audit);
	}
	return REASON_IS_ALLOW(reason) || audit;
}

#endif
