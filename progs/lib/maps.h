/* maps.h: the maps every program of an instance shares (control word, counters); pinned once per instance. */
#ifndef IRONCLAW_PROGS_MAPS_H
#define IRONCLAW_PROGS_MAPS_H

#include "common.h"

/* One word: bit 0 the generation in force, bit 1 deny-all. Read once per packet. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} ctl SEC(".maps");

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

/* cgroup_skb and sock_addr verdicts: 1 allow, 0 deny (connect()/sendmsg() get EPERM) */
static __always_inline int cgroup_verdict(__u32 reason, __u32 bytes)
{
	count_reason(reason, bytes);
	return REASON_IS_ALLOW(reason) ? 1 : 0;
}

/* tc verdicts: allow continues the tcx chain (TCX_NEXT), so later filters still run */
static __always_inline int tc_verdict(__u32 reason, __u32 bytes)
{
	count_reason(reason, bytes);
	return REASON_IS_ALLOW(reason) ? TC_ACT_UNSPEC : TC_ACT_SHOT;
}

#endif
