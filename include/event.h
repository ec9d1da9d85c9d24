/* event.h: the record of one denial, sent through the instance's ring buffer. */
#ifndef IRONCLAW_EVENT_H
#define IRONCLAW_EVENT_H

#include <linux/types.h>
#include "hooks.h" /* enum hook_id: the hook an event comes from */

/* what the ring buffer could not take, and what the per-cgroup budget held back */
enum event_drop {
	EVENT_DROP_FULL = 0,
	EVENT_DROP_RATE = 1,
	EVENT_DROP_MAX,
};

/* events one named tool, or all other senders together, may cause per second */
#define EVENTS_PER_SECOND 200
/* the event_budgets key of every sender that is no tool the profile names */
#define EVENT_BUDGET_OTHERS 0

/* event_budgets: tool (cgroup id, or EVENT_BUDGET_OTHERS) -> the events of this second */
struct event_budget {
	__u64 window; /* the second it counts for */
	__u32 used;
	__u32 pad;
};

_Static_assert(sizeof(struct event_budget) == 16, "event_budget layout");

struct deny_event {
	__u64 ts_ns; /* bpf_ktime_get_coarse_ns(): CLOCK_MONOTONIC, to a tick */
	__u64 cgroup; /* cgroup id of the sending socket (packets) or caller (connect) */
	__u64 tool; /* the tool the verdict was for (its cgroup id), 0 when none or not yet known */
	__u32 pid; /* connect and sendmsg hooks; 0 where the hook does not know */
	__u16 reason; /* enum reason */
	__u8 hook; /* enum hook_id (HOOK_*) */
	__u8 family; /* AF_INET or AF_INET6; 0 when the addresses were not reached */
	__u8 l4proto;
	__u8 slot; /* the stage's slot, 0 when the dispatcher decided */
	__be16 sport; /* network order */
	__be16 dport; /* network order */
	__u8 audit; /* 1: audit mode let it through (would-deny) */
	__u8 pad;
	__u8 saddr[16];
	__u8 daddr[16];
	char comm[16]; /* connect and sendmsg hooks */
};

_Static_assert(sizeof(struct deny_event) == 88, "deny_event layout");

#endif
