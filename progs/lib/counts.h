/* counts.h: the counters a verdict adds to: per rule (per CPU, or in the rule's entry), per reason, events not sent. */
#ifndef IRONCLAW_PROGS_COUNTS_H
#define IRONCLAW_PROGS_COUNTS_H

#include "common.h"
#include "maps.h"

static __always_inline void count_rule(__u32 rule_id, __u32 bytes)
{
	struct pkt_count *c = bpf_map_lookup_elem(&rule_counts, &rule_id);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

/* a rule map's entry counts its own hits (policy.h); every CPU adds to it, atomically */
static __always_inline void count_entry(struct policy_value *v, __u32 bytes)
{
	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, bytes);
}

static __always_inline void count_reason(__u32 reason, __u32 bytes)
{
	struct pkt_count *c = bpf_map_lookup_elem(&reasons, &reason);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

static __always_inline void count_event_drop(__u32 why)
{
	__u64 *n = bpf_map_lookup_elem(&event_drops, &why);

	if (n)
		(*n)++;
}

static __always_inline void count_flow_drop(__u32 why)
{
	__u64 *n = bpf_map_lookup_elem(&flow_drops, &why);

	if (n)
		(*n)++;
}

#endif
