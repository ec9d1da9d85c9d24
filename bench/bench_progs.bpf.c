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

/*
 * The live bench's parts (live_ab.sh, LIVE_PARTS=1): the shape of the pipeline's
 * front, each against the empty program. tail_*: an entry that tail-calls the
 * program in slot 0 (the empty one: xdp_entry in front of dispatch_xdp, the
 * dispatcher's call into a stage); meta_xdp: the empty program with the XDP
 * metadata the dispatcher grows on every frame (struct pkt_meta, 20 bytes).
 */
SEC("xdp")
int tail_xdp(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &target_xdp, 0);
	return XDP_DROP;
}

SEC("tc")
int tail_tc(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &target_tc, 0);
	return TC_ACT_SHOT;
}

SEC("xdp")
int meta_xdp(struct xdp_md *ctx)
{
	void *data, *meta;

	if (bpf_xdp_adjust_meta(ctx, -20))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	meta = (void *)(long)ctx->data_meta;
	if (meta + 20 > data)
		return XDP_DROP;
	__builtin_memset(meta, 0, 20);
	return XDP_PASS;
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
