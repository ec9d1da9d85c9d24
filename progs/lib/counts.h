/* counts.h: the per-CPU counters a verdict adds to: per rule, per reason, events not sent. */
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
