/* attach.h: where an instance attaches (interfaces, a cgroup), as given on the command line. */
#ifndef IRONCLAW_ATTACH_H
#define IRONCLAW_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>
#include "addr.h"
#include "cgroup.h"
#include "diag.h"
#include "netns.h"

enum attach_kind {
	ATTACH_TC_INGRESS, /* host-side end of the sandbox's veth: its egress arrives here */
	ATTACH_TC_EGRESS, /* the sandbox's own interface */
	ATTACH_CGROUP, /* the sandbox's cgroup: cgroup_skb egress, socket and connect hooks */
	ATTACH_XDP, /* XDP on the host-side end of the sandbox's veth, through libxdp */
};

struct attach_point {
	enum attach_kind kind;
	char ifname[IF_NAMESIZE];
	char netns[NETNS_REF_MAX]; /* "" = the loader's own namespace; else a netns_ref */
	char cgroup[CGROUP_PATH_MAX]; /* ATTACH_CGROUP: below the cgroup v2 mount, no leading '/' */
};

/* "IFACE" or "IFACE@NETNS" as a point of that kind; -EINVAL for a bad one */
int attach_point_parse(const char *arg, enum attach_kind kind, struct attach_point *pt);
/* a cgroup (absolute, or below the cgroup v2 mount) as a point; not the root cgroup */
int attach_point_cgroup(const char *arg, struct attach_point *pt, struct diag *d);
/* the option that names a point of this kind ("--tc-ingress", ...) */
const char *attach_kind_option(enum attach_kind kind);
/* some point in p[0..n) is of this kind */
bool attach_kind_present(const struct attach_point *p, size_t n, enum attach_kind kind);
/*
 * The sandbox's addresses as a point shows them: the --tc interface's own,
 * or the veth peer's in sandbox_ns for the host-side points, or every
 * interface's in sandbox_ns for a cgroup. Count, or -errno with a message.
 */
int attach_point_sources(const struct attach_point *pt, const char *sandbox_ns, struct addr *out,
			 size_t max, struct diag *d);

#endif
