/* netns.h: entering network namespaces with setns(), and what an interface has in one. */
#ifndef IRONCLAW_NETNS_H
#define IRONCLAW_NETNS_H

#include <stddef.h>
#include "addr.h"
#include "diag.h"

#define NETNS_NAME_MAX 64

/* enters /run/netns/NAME (NULL or "" stays); *saved gets the fd to go back with */
int netns_enter(const char *name, int *saved, struct diag *d);
/* returns to the namespace netns_enter saved; no-op for -1 */
void netns_leave(int saved);
/* ifindex of IFNAME in the current namespace, or -ENODEV */
int netns_ifindex(const char *ifname);
/* the addresses on interface ifindex of the current namespace (0: on every interface
 * but loopback); count or -errno */
int netns_if_addrs(int ifindex, struct addr *out, size_t max);
/* the ifindex, in its own namespace, of a veth's peer; -errno when not a veth pair */
int netns_veth_peer(int ifindex);
/* NAME is usable in a pin path: [A-Za-z0-9_.-], not "." or ".." */
int netns_name_valid(const char *name);

#endif
