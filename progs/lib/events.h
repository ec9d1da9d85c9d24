/* events.h: deny events into the instance's ring buffer, budgeted per tool. */
#ifndef IRONCLAW_PROGS_EVENTS_H
#define IRONCLAW_PROGS_EVENTS_H

#include "common.h"
#include "maps.h"
#include "counts.h"

/*
 * The budget of this second for a stage's record with a tail: 1 when one
 * more may go, 0 when it is spent; as event_reserve's below. flows: EVENT_BUDGET_FLOWS, the budgets of flow and
 * query records, or 0, those of denials (a constant).
 */
static __always_inline int event_budget_take(__u64 tool, __u64 now, const __u64 flows)
{
	__u64 window = now / 1000000000ull, key = tool | flows;
	struct event_budget *b = tool ? bpf_map_lookup_elem(&event_budgets, &key) : NULL;

	if (!b) {
		key = EVENT_BUDGET_OTHERS | flows;
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
		if (b->used >= EVENTS_PER_SECOND)
			return 0;
		__sync_fetch_and_add(&b->used, 1);
	}
	return 1;
}

/*
 * A reserved event, or NULL (over the budget of its sender, or the buffer is
 * full: counted). A tool the profile names has a budget of its own (the
 * loader makes it); every other sender (no tool, a cgroup the sandbox made,
 * a frame at XDP) shares one: whatever the sandbox creates, it cannot crowd
 * out the named tools' events. (Written out apart from event_budget_take:
 * the dispatchers' code stays as the verifier has measured it.)
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

/*
 * Room for a record of size bytes with a tail (a flow, a query, a denial with
 * its name), zeroed but for the clock, cgroup and tool; NULL when not sent
 * (counted). kind: enum event_kind, a constant. A flow or a query waits for
 * nothing: over its own budget, or with the buffer half full, it is dropped
 * (flow_drops), and the room left stays the denials'.
 */
#define EVENT_RESERVE_TAIL(type, cgroup_id, tool_id, kind_v)                                       \
	({                                                                                         \
		__u64 __now = bpf_ktime_get_ns();                                                  \
		type *__r = NULL;                                                                  \
		int __flow = (kind_v) != EVENT_DENY;                                               \
                                                                                                   \
		if (!event_budget_take((tool_id), __now, __flow ? EVENT_BUDGET_FLOWS : 0)) {       \
			if (__flow)                                                                \
				count_flow_drop(EVENT_DROP_RATE);                                  \
			else                                                                       \
				count_event_drop(EVENT_DROP_RATE);                                 \
		} else if (__flow &&                                                               \
			   bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= EVENT_FLOW_ROOM) {     \
			count_flow_drop(EVENT_DROP_FULL);                                          \
		} else {                                                                           \
			__r = bpf_ringbuf_reserve(&events, sizeof(type), 0);                       \
			if (!__r && __flow)                                                        \
				count_flow_drop(EVENT_DROP_FULL);                                  \
			else if (!__r)                                                             \
				count_event_drop(EVENT_DROP_FULL);                                 \
		}                                                                                  \
		if (__r) {                                                                         \
			__builtin_memset(__r, 0, sizeof(type));                                    \
			__r->e.ts_ns = __now;                                                      \
			__r->e.cgroup = (cgroup_id);                                               \
			__r->e.tool = (tool_id);                                                   \
			__r->e.kind = (kind_v);                                                    \
		}                                                                                  \
		__r;                                                                               \
	})

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

/*
 * A denial of a packet, recorded by a global function: the verifier walks it
 * once per program instead of at every verdict site (one per reason at each
 * exit of the dispatcher and the stages): dispatch_tc 364,137 -> 266,758
 * instructions verified. Not at XDP: there the call made an allowed frame
 * 3 ns (7%) slower (bench/ab.sh), and the record stays inline. Its arguments are scalars, never pointers to the caller's
 * stack, so the caller's states still prune: head is the first 8 bytes of
 * the packet's metadata (gen, family, l4proto, slot, l3_off, l4_off), tail
 * its ports with the verdict (event_tail).
 */
static __always_inline __u64 event_head(const struct pkt_meta *m)
{
	__u64 head;

	__builtin_memcpy(&head, m, sizeof(head));
	return head;
}

_Static_assert(REASON_MAX <= 0xffff, "a reason fits event_tail's 16 bits");

static __always_inline __u64 event_tail(const struct pkt_meta *m, __u8 hook, __u32 reason,
					__u8 audit)
{
	return (__u64)m->sport | (__u64)m->dport << 16 | (__u64)(reason & 0xffff) << 32 |
	       (__u64)hook << 48 | (__u64)audit << 56;
}

/* the metadata back from head and tail: the fields event_fill and EVENT_PACKET read */
static __always_inline void event_meta(struct pkt_meta *m, __u64 tool, __u64 head, __u64 tail)
{
	__builtin_memcpy(m, &head, sizeof(head));
	m->sport = (__be16)tail;
	m->dport = (__be16)(tail >> 16);
	m->tool = tool;
}

__noinline int event_packet_skb(struct __sk_buff *skb, __u64 tool, __u64 head, __u64 tail)
{
	struct pkt_meta m;

	event_meta(&m, tool, head, tail);
	EVENT_PACKET(skb, bpf_skb_load_bytes, bpf_skb_cgroup_id(skb), (__u8)(tail >> 48),
		     (__u32)(tail >> 32) & 0xffff, &m, (__u8)(tail >> 56));
	return 0;
}

/* UDP header, DNS header: where a query's question begins after l4_off */
#define EVENT_QNAME_OFF (8 + 12)

/*
 * The question's name into a record r (a struct event_named): the packet's
 * bytes from the name's first length byte on, up to EVENT_NAME_MAX - 1 of
 * them; user space reads the labels out of them and escapes every byte.
 * len: the packet's length from its start.
 */
#define EVENT_NAME_LOAD(ctx, load, r, m, len)                                                      \
	do {                                                                                       \
		__u32 __o = (m)->l4_off + EVENT_QNAME_OFF, __n;                                    \
                                                                                                   \
		__n = (len) > __o ? (len)-__o : 0;                                                 \
		if (__n > EVENT_NAME_MAX - 1)                                                      \
			__n = EVENT_NAME_MAX - 1;                                                  \
		if (__n && !load((ctx), __o, (r)->name, __n))                                      \
			(r)->t.name_len = __n;                                                     \
	} while (0)

/* a denial of a packet at the dns stage, with the question's name (a query name, its type) */
#define EVENT_PACKET_NAMED(ctx, load, cgroup, hook, reason, m, audit, len)                         \
	do {                                                                                       \
		struct event_named *r =                                                            \
			EVENT_RESERVE_TAIL(struct event_named, (cgroup), (m)->tool, EVENT_DENY);   \
                                                                                                   \
		if (!r)                                                                            \
			break;                                                                     \
		event_fill(&r->e, (hook), (reason), (m), (audit));                                 \
		if ((m)->family == AF_INET) {                                                      \
			load((ctx), (m)->l3_off + 12, r->e.saddr, 4);                              \
			load((ctx), (m)->l3_off + 16, r->e.daddr, 4);                              \
		} else {                                                                           \
			load((ctx), (m)->l3_off + 8, r->e.saddr, 16);                              \
			load((ctx), (m)->l3_off + 24, r->e.daddr, 16);                             \
		}                                                                                  \
		EVENT_NAME_LOAD(ctx, load, r, m, len);                                             \
		bpf_ringbuf_submit(r, 0);                                                          \
	} while (0)

/* the denials that carry the question's name: the query was parsed that far */
#define REASON_HAS_QNAME(r) ((r) == REASON_QNAME || (r) == REASON_DNS_QTYPE)

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
