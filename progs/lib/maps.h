/* maps.h: the maps every program of an instance shares (control word, settings, counters, events); pinned once per instance. */
#ifndef IRONCLAW_PROGS_MAPS_H
#define IRONCLAW_PROGS_MAPS_H

#include "common.h"

/*
 * One word: bit 0 the generation in force, bit 1 deny-all. Read once per
 * packet. Mappable: block sets its bit with an atomic OR, with no lock.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
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

/* prefixes of exact stages and rules for every port (policy.h), for every stage */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, POLICY_WIDE_MAX);
	__type(key, struct policy_lpm_key);
	__type(value, struct policy_value);
} wide_rules SEC(".maps");

/* Packets and bytes per reason code, per CPU; user space sums them. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, REASON_MAX);
	__type(key, __u32);
	__type(value, struct pkt_count);
} reasons SEC(".maps");

/*
 * Hits per rule of the installed profile (index: the rule's number), per CPU,
 * where no rule map's entry is at hand (policy.h: an entry counts its own).
 * The loader creates it anew, sized for the profile, at every install.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pkt_count);
} rule_counts SEC(".maps");

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

/* flow and query records not sent (event.h: EVENT_DROP_FULL, EVENT_DROP_RATE), apart from denials' */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EVENT_DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} flow_drops SEC(".maps");

/*
 * Unconnected UDP: every sendto() runs the sendmsg hook. A flow record is
 * made for the first datagram of a socket to a destination, and again once
 * the pair has left this LRU (state at that hook alone: no packet hook
 * reads it).
 */
struct flow_seen_key {
	__u64 cookie; /* the socket's */
	__u8 daddr[16];
	__be16 dport;
	__u8 family;
	__u8 pad[5];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct flow_seen_key);
	__type(value, __u8);
} flow_seen SEC(".maps");

/* a flood from one tool cannot starve the others' events (event.h) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct event_budget);
} event_budgets SEC(".maps");

#endif
