// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_entry.bpf.c: the program attached at XDP, through libxdp. It never
 * changes: it tail-calls the instance's XDP dispatcher in xdp_dispatch[0],
 * which each install replaces in one map update (libxdp cannot replace an
 * attached program in place). No dispatcher there: the frame is dropped.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} xdp_dispatch SEC(".maps");

SEC("xdp")
int xdp_entry(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &xdp_dispatch, 0);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
