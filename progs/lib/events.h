/* events.h: deny events into the instance's ring buffer, budgeted per tool. */
#ifndef IRONCLAW_PROGS_EVENTS_H
#define IRONCLAW_PROGS_EVENTS_H

#include "common.h"
#include "maps.h"
#include "counts.h"

/*
 * A reserved event, or NULL (over the budget of its sender, or the buffer is
 * full: counted). A tool the profile names has a budget of its own (the
 * loader makes it); every other sender (no tool, a cgroup the sandbox made,
 * a frame at XDP) shares one: whatever the sandbox creates, it cannot crowd
 * out the named tools' events.
 */
static __always_inline struct deny_event *event_reserve(__u64 cgroup, __u64 tool)
{
	/*
	 * The coarse clock: no clock source read, which cost more than the rest of a
	 * denial in a VM, and a second read for the event's time made the verifier walk
	 * 150,000 more instructions at cgroup_skb. Its time is to a tick, enough for a log.
	 */
	__u64 now = bpf_ktime_get_coarse_ns(), window = now / 1000000000ull, key = tool;
	struct event_budget *b = tool ? bpf_map_lookup_elem(&event_budgets, &key) : NULL;
	struct deny_event *e;

	if (!b) {
		key = EVENT_BUDGET_OTHERS;
		b = bpf_map_lookup_elem(&event_budgets, &key);
	}
	if (!b) {
		struct event_budget fresh = { .window = window };

		bpf_map_update_elem(&event_budgets, &key, &fresh, BPF_NOEXIST);
		b = bpf_map_lookup_elem(&event_budgets, &key);
	}
	if (b) {
		if (b->window != window) {
			b->window =
				window; /* two CPUs may both reset: a few more events, no harm */
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
		struct deny_event *e = event_reserve((cgroup), (m)->tool);                         \
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

#endif
