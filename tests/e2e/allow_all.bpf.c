// SPDX-License-Identifier: GPL-2.0
/* allow_all.bpf.c: what a sandbox would attach below our cgroup to widen the policy. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup/connect4")
int allow_connect4(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup_skb/egress")
int allow_egress(struct __sk_buff *skb)
{
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
