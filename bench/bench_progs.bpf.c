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

/*
 * The one-pass mark's shape with nothing judged (LIVE_PARTS=1): markmeta_xdp
 * grows the 28 bytes of struct xdp_pass (the dispatcher's metadata with the
 * generation's mark in front) and writes a mark; mark_tc, at tc ingress behind
 * it, reads a settings entry and accepts a frame whose metadata is exactly that
 * mark, as dispatch_tc_host's first check does.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} mark_cfg SEC(".maps");

#define BENCH_MARK 0x5eed1e55c0ffee01ULL
#define BENCH_PASS_LEN 28

SEC("xdp")
int markmeta_xdp(struct xdp_md *ctx)
{
	void *data, *meta;
	__u32 *m;

	if (bpf_xdp_adjust_meta(ctx, -BENCH_PASS_LEN))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	meta = (void *)(long)ctx->data_meta;
	if (meta + BENCH_PASS_LEN > data)
		return XDP_DROP;
	__builtin_memset(meta, 0, BENCH_PASS_LEN);
	m = meta;
	m[0] = (__u32)BENCH_MARK;
	m[1] = (__u32)(BENCH_MARK >> 32);
	return XDP_PASS;
}

SEC("tc")
int mark_tc(struct __sk_buff *skb)
{
	__u32 key = 0, *m;
	__u64 *mark;
	void *meta, *data;

	mark = bpf_map_lookup_elem(&mark_cfg, &key);
	if (!mark)
		return TC_ACT_SHOT;
	meta = (void *)(long)skb->data_meta;
	data = (void *)(long)skb->data;
	m = meta;
	if (meta + BENCH_PASS_LEN > data || data - meta != BENCH_PASS_LEN)
		return TC_ACT_SHOT;
	/* the map holds 0: a frame without the mark is dropped (the delivered count shows it) */
	return (m[0] | ((__u64)m[1] << 32)) == *mark + BENCH_MARK ? TC_ACT_UNSPEC : TC_ACT_SHOT;
}

/*
 * spin_*: the empty program made slower by a fixed chain of multiplications,
 * with no more code or data than the empty program (LIVE_PARTS=1): their in-situ
 * time against their whole path's cost shows what a program's time alone costs
 * the path, beside the pipeline's, which also brings its code and maps.
 */
static __always_inline __u32 spin(__u32 x, __u32 n)
{
	__u32 i;

#pragma clang loop unroll(disable)
	for (i = 0; i < n; i++)
		x = x * 2654435761u + i;
	return x;
}

SEC("xdp")
int spin32_xdp(struct xdp_md *ctx)
{
	return spin(ctx->ingress_ifindex, 32) == 1 ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int spin64_xdp(struct xdp_md *ctx)
{
	return spin(ctx->ingress_ifindex, 64) == 1 ? XDP_DROP : XDP_PASS;
}

SEC("tc")
int spin32_tc(struct __sk_buff *skb)
{
	return spin(skb->ifindex, 32) == 1 ? TC_ACT_SHOT : TC_ACT_UNSPEC;
}

SEC("tc")
int spin64_tc(struct __sk_buff *skb)
{
	return spin(skb->ifindex, 64) == 1 ? TC_ACT_SHOT : TC_ACT_UNSPEC;
}

/*
 * wide_xdp / wide_tc: about as slow as spin64 but through straight code of
 * several KB once JIT-compiled (4 lanes of 160 unrolled xor-shift-add steps): the
 * same time as spin64 with a code footprint, to see what executed code's lines
 * cost the rest of the path.
 */
static __always_inline __u32 wide(__u32 a, __u32 b, __u32 c, __u32 d)
{
	__u32 i;

#pragma clang loop unroll(full)
	for (i = 0; i < 160; i++) {
		a = (a ^ (a >> 7)) + i * 0x9e3779b9u;
		b = (b ^ (b << 5)) + i * 0x85ebca6bu;
		c = (c ^ (c >> 3)) + i * 0xc2b2ae35u;
		d = (d ^ (d << 9)) + i * 0x27d4eb2fu;
	}
	return a ^ b ^ c ^ d;
}

SEC("xdp")
int wide_xdp(struct xdp_md *ctx)
{
	return wide(ctx->ingress_ifindex, ctx->rx_queue_index, ctx->ingress_ifindex ^ 5, 7) == 1 ?
		       XDP_DROP :
		       XDP_PASS;
}

SEC("tc")
int wide_tc(struct __sk_buff *skb)
{
	return wide(skb->ifindex, skb->len, skb->protocol, skb->queue_mapping) == 1 ? TC_ACT_SHOT :
										      TC_ACT_UNSPEC;
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
