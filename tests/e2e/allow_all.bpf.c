// SPDX-License-Identifier: GPL-2.0
/* allow_all.bpf.c: programs for the tests: what a sandbox would attach below our cgroup to
 * widen the policy, and a connect hook that answers ECONNREFUSED. */
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

/* what a connect hook returning ECONNREFUSED looks like to the application */
SEC("cgroup/connect4")
int refuse_connect4(struct bpf_sock_addr *ctx)
{
	bpf_set_retval(-111); /* -ECONNREFUSED */
	return 0;
}
