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

#endif
