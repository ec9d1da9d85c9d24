/* l2_link.h: what the host side knows of one sandbox link at layer 2, for the tc and XDP hooks there. */
#ifndef IRONCLAW_L2_LINK_H
#define IRONCLAW_L2_LINK_H

#include <linux/types.h>

/*
 * l2_links map (BPF hash): key the ifindex of a host-side point (--tc-ingress,
 * --xdp: the interface the sandbox's frames arrive on), value what a frame
 * from the sandbox may carry there. Filled from the host side at every
 * install and reload (and by instance_refresh_l2), never from the sandbox:
 * its own MAC (the veth peer's address), the MACs its IP frames may go to
 * (the host-side veth's own when it is routed; the bridge's own and the
 * host's neighbour entries of the gateways when it is a bridge port), and
 * the gateways' addresses (the only targets of its ARP and neighbour
 * solicitations). A frame at an interface with no entry gets no layer-2
 * check (the --tc hook in the sandbox, explain's dry run).
 */
#define L2_MAX_LINKS 64
#define L2_MAX_DST 4
#define L2_MAX_GW4 8
#define L2_MAX_GW6 8
#define L2_ALEN 6

#define L2_F_BRIDGED 0x1u /* the host-side veth is a bridge port (status says so) */

struct l2_link {
	__u8 mac[L2_ALEN]; /* the sandbox's own: the only Ethernet source */
	__u8 nr_dst; /* in dst[] */
	__u8 nr_gw4; /* in gw4[] */
	__u8 nr_gw6; /* in gw6[] */
	__u8 flags; /* L2_F_* */
	__u8 pad[2];
	__u8 dst[L2_MAX_DST][L2_ALEN]; /* where its IP frames may go */
	__u8 gw4[L2_MAX_GW4][4]; /* the gateways' IPv4 addresses, network order */
	__u8 gw6[L2_MAX_GW6][16]; /* and IPv6 ones (link-local ones too) */
};

_Static_assert(sizeof(struct l2_link) == 12 + 6 * L2_MAX_DST + 4 * L2_MAX_GW4 + 16 * L2_MAX_GW6,
	       "l2_link layout");

#endif
