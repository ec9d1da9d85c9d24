// SPDX-License-Identifier: GPL-2.0
/* vlan_tag.bpf.c: what a sandbox with CAP_NET_ADMIN could attach at its own tc egress to tag
 * its frames with VLAN 5 the way a VLAN device does (in the skb's metadata, beside the frame):
 * IPv4 TCP to port 8080 only, so the test's other traffic goes untagged. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int vlan_tag_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *th = (void *)(ip + 1);

	if ((void *)(th + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 ||
	    ip->protocol != IPPROTO_TCP || th->dest != bpf_htons(8080))
		return TC_ACT_OK;
	bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), 5);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
