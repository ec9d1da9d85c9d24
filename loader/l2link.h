/* l2link.h: a host-side veth at layer 2, read from the host side: the sandbox's MAC, the bridge, the gateways. */
#ifndef IRONCLAW_L2LINK_H
#define IRONCLAW_L2LINK_H

#include <stddef.h>
#include <linux/types.h>
#include "addr.h"
#include "attach.h"
#include "diag.h"
#include "l2_link.h"

#define L2LINK_MAX_GATEWAYS (L2_MAX_GW4 + L2_MAX_GW6)

/*
 * The layer-2 settings of a host-side point (--tc-ingress, --xdp IFACE[@NS])
 * and its ifindex there, all read from the host side (the point's namespace
 * is entered and left here), none from the sandbox's namespace or tables:
 *  - the sandbox's MAC: the veth peer's address (IFLA_LINK, in the peer's
 *    namespace through IFLA_LINK_NETNSID);
 *  - IFACE a port of a Linux bridge: IP frames may go to the bridge's own
 *    MAC and, for each of gw[] that is not the bridge's own address, to the
 *    host's neighbour entry for it on the bridge (an error without one);
 *    the gateways are gw[], or by default the bridge's own addresses;
 *  - otherwise (routed): to IFACE's own MAC; the gateways are gw[] (a proxy
 *    ARP address, say), or by default IFACE's own addresses.
 * 0, or -errno with a message (not a veth, too many addresses, ...).
 */
int l2link_read(const struct attach_point *pt, const struct addr *gw, size_t nr_gw, __u32 *ifindex,
		struct l2_link *out, struct diag *d);

/* "aa:bb:cc:dd:ee:ff" into buf (18 bytes) */
const char *l2link_mac_format(const __u8 *mac, char *buf, size_t len);

#endif
