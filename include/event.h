/* event.h: the records of denials, flows and DNS queries, sent through the instance's ring buffer. */
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
/*
 * Flow and query records have budgets of their own: the key is the tool's
 * (or EVENT_BUDGET_OTHERS) with this bit set; a cgroup id never has it.
 */
#define EVENT_BUDGET_FLOWS (1ull << 63)

/* what a record is: its kind byte; records from before kinds have 0 there (a denial) */
enum event_kind {
	EVENT_DENY = 0, /* a denial (or, audit, a would-deny) */
	EVENT_FLOW = 1, /* an allowed flow began: a TCP SYN, a connect(), a first datagram */
	EVENT_QUERY = 2, /* an allowed DNS query, with its name */
};

/*
 * flow_drops (per CPU): flow and query records not sent. They are counted
 * apart from denials' (event_drops), and take the ring buffer only while it
 * is less than half full (EVENT_FLOW_ROOM): a burst of flows never leaves a
 * denial without room.
 */
#define EVENT_FLOW_ROOM ((1u << 20) / 2)

/* the query name a record carries: in wire form (length-prefixed labels), as the packet had it */
#define EVENT_NAME_MAX 256

/* event_budgets: tool (cgroup id, or EVENT_BUDGET_OTHERS) -> the events of this second */
struct event_budget {
	__u64 window; /* the second it counts for */
	__u32 used;
	__u32 pad;
};

_Static_assert(sizeof(struct event_budget) == 16, "event_budget layout");

struct deny_event {
	__u64 ts_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
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
	__u8 kind; /* enum event_kind */
	__u8 saddr[16];
	__u8 daddr[16];
	char comm[16]; /* connect and sendmsg hooks */
};

_Static_assert(sizeof(struct deny_event) == 88, "deny_event layout");

/*
 * A record is a deny_event alone (88 bytes: a denial the dispatcher made, or
 * a record of a build before flows), or one followed by this tail (a stage's
 * flows and queries, its denials of a query name), and then the name.
 */
struct event_tail {
	__u32 rule; /* the allowing rule's number + 1 (the rule list's id + 1); 0: none */
	__u16 name_len; /* bytes of name[] that came from the packet; 0: no name */
	__u16 pad;
};

struct event_named {
	struct deny_event e;
	struct event_tail t;
	__u8 name[EVENT_NAME_MAX]; /* the question's name from its first length byte on */
};

struct event_flow {
	struct deny_event e;
	struct event_tail t;
};

_Static_assert(sizeof(struct event_tail) == 8, "event_tail layout");
_Static_assert(sizeof(struct event_flow) == 96, "event_flow layout");
_Static_assert(sizeof(struct event_named) == 96 + EVENT_NAME_MAX, "event_named layout");

#endif
