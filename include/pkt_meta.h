/* pkt_meta.h: what the dispatcher parsed, handed to a stage in the packet's own control block. */
#ifndef IRONCLAW_PKT_META_H
#define IRONCLAW_PKT_META_H

#include <linux/types.h>

/*
 * The dispatcher writes this into skb->cb[] (20 bytes) before the tail call.
 * The control block belongs to the packet, so programs nesting on one CPU
 * cannot overwrite each other's metadata, as they could a per-CPU slot.
 * The destination address is not copied: the stage reads it from the packet
 * at l3_off (+16 for IPv4, +24 for IPv6), where the dispatcher validated it.
 */
struct pkt_meta {
	__u8 gen; /* generation selected by the dispatcher (0 or 1) */
	__u8 family; /* AF_INET or AF_INET6 */
	__u8 l4proto; /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 slot; /* stage slot the class map chose */
	__u16 l3_off; /* offset of the IP header from the packet start, host order */
	__u16 l4_off; /* offset of the TCP/UDP header, host order */
	__be16 sport; /* network order */
	__be16 dport; /* network order */
	__u64 tool; /* cgroup id of the sending socket's tool, 0 = none or no tool rules */
} __attribute__((packed, aligned(4)));

_Static_assert(sizeof(struct pkt_meta) == 20, "pkt_meta must fit skb->cb[0..4]");

/*
 * At XDP the metadata goes in the frame's metadata area, the last bytes in
 * front of the packet, with a mark in front of it: 0 as the dispatcher
 * writes it; the generation's mark (xdp_marks) when the stage allowed the
 * frame and nothing is left for tc ingress to do (no flow to record, no tool
 * to ask, no payload to follow). Host-side tc ingress accepts a frame whose
 * metadata is exactly this and carries the mark of the generation in force
 * without judging it again: it was counted at XDP.
 */
struct xdp_pass {
	__u64 mark;
	struct pkt_meta m;
} __attribute__((packed, aligned(4)));

_Static_assert(sizeof(struct xdp_pass) == 28, "xdp_pass must fit the XDP metadata area");

#endif
