// SPDX-License-Identifier: GPL-2.0
/*
 * bench_progs.bpf.c: the bench's own programs: the empty baseline, the
 * random-destination wrapper (a cache-hostile mix for BPF_PROG_TEST_RUN,
 * which replays one frame) and the live-frame generator.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "bench.h"

/* the baselines: what any filter costs before it looks at the packet */
SEC("tc")
int empty_tc(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC; /* tcx: next program, as the pipeline's allow */
}

SEC("xdp")
int empty_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* destinations to write into the frame, picked at random for each packet */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BENCH_TABLE_SIZE);
	__type(key, __u32);
	__type(value, struct bench_dst);
} table SEC(".maps");

/* the program under test: slot 0 (tc) and slot 1 (XDP) */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target_tc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target_xdp SEC(".maps");

/* one random destination and port into the IPv4 header and the L4 header (IHL 5) */
static __always_inline int rewrite(void *data, void *end)
{
	__u32 i = bpf_get_prandom_u32() & (BENCH_TABLE_SIZE - 1);
	struct bench_dst *d;

	if (data + BENCH_L4_OFF + 4 > end)
		return -1;
	d = bpf_map_lookup_elem(&table, &i);
	if (!d)
		return -1;
	__builtin_memcpy(data + BENCH_DADDR_OFF, &d->daddr, 4);
	__builtin_memcpy(data + BENCH_L4_OFF + 2, &d->dport, 2);
	return 0;
}

SEC("tc")
int mix_tc(struct __sk_buff *skb)
{
	if (rewrite((void *)(long)skb->data, (void *)(long)skb->data_end))
		return TC_ACT_SHOT;
	bpf_tail_call(skb, &target_tc, 0);
	return TC_ACT_SHOT;
}

SEC("xdp")
int mix_xdp(struct xdp_md *ctx)
{
	if (rewrite((void *)(long)ctx->data, (void *)(long)ctx->data_end))
		return XDP_DROP;
	bpf_tail_call(ctx, &target_xdp, 0);
	return XDP_DROP;
}

/* live frames: a destination from the table, then out of the interface given as ingress */
SEC("xdp")
int gen_xdp(struct xdp_md *ctx)
{
	if (rewrite((void *)(long)ctx->data, (void *)(long)ctx->data_end))
		return XDP_DROP;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
