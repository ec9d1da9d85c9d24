// SPDX-License-Identifier: GPL-2.0
/* dispatcher.bpf.c: per-hook entry of the pipeline; parses once and tail-calls the stage. */
#include "lib/dispatch.h"
#include "lib/meta_tc.h"

/* headers the parser may need in the linear area */
#define TC_PULL_LEN 512

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, STAGE_PROG_ARRAY_SIZE);
	__type(key, __u32);
	__type(value, __u32);
} stages_tc SEC(".maps");

SEC("tc")
int dispatch_tc(struct __sk_buff *skb)
{
	struct pkt_meta meta = {};
	__u32 len = skb->len, tool_level = 0;
	int r;

	if (skb->vlan_present)
		return tc_verdict(REASON_VLAN, len);
	if ((__u64)(skb->data_end - skb->data) < len &&
	    (__u64)(skb->data_end - skb->data) < TC_PULL_LEN)
		bpf_skb_pull_data(skb, len < TC_PULL_LEN ? len : TC_PULL_LEN);

	r = dispatch_classify((void *)(long)skb->data, (void *)(long)skb->data_end, len, &meta,
			      &tool_level);
	if (r != PARSE_OK)
		return tc_verdict(r, len);
	/* the socket's cgroup at the tools' level: processes nested below a tool are that tool */
	if (tool_level)
		meta.tool = bpf_skb_ancestor_cgroup_id(skb, tool_level);

	meta_store_tc(skb, &meta);
	bpf_tail_call(skb, &stages_tc, (__u32)meta.gen * STAGE_MAX_SLOTS + meta.slot);
	/* only reached when the slot is empty or the call failed: fail closed */
	return tc_verdict(REASON_NO_STAGE, len);
}

char LICENSE[] SEC("license") = "GPL";
