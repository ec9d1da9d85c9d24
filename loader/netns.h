/* netns.h: entering network namespaces with setns(), and what an interface has in one. */
#ifndef IRONCLAW_NETNS_H
#define IRONCLAW_NETNS_H

#include <stddef.h>
#include "addr.h"
#include "diag.h"

#define NETNS_NAME_MAX 64 /* a name in /run/netns */
#define NETNS_REF_MAX 128 /* a name, an absolute path or pid:PID */

/*
 * A network namespace as the command line names it: a name in /run/netns, an
 * absolute path (/proc/PID/ns/net, a bind mount, a CNI_NETNS path) or
 * pid:PID. 0, or -EINVAL for none of these.
 */
int netns_ref_valid(const char *ref);
/* the file to open for ref (valid); 0 or -ENAMETOOLONG */
int netns_ref_path(const char *ref, char *buf, size_t len);
/* ref names a namespace that outlives processes: not pid:, not below /proc */
int netns_ref_persistent(const char *ref);
/* opens ref and checks it is a network namespace: an O_CLOEXEC fd, or -errno with a message */
int netns_open(const char *ref, struct diag *d);
/* enters ref (NULL or "" stays); *saved gets the fd to go back with */
int netns_enter(const char *ref, int *saved, struct diag *d);
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
