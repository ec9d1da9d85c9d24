/* pipeline_l2.h: the l2_links map: each host-side point's layer-2 settings, refreshed from the host side. */
#ifndef IRONCLAW_PIPELINE_L2_H
#define IRONCLAW_PIPELINE_L2_H

#include <stddef.h>
#include <linux/types.h>
#include "addr.h"
#include "attach.h"
#include "diag.h"
#include "l2_link.h"

struct l2_entry {
	__u32 ifindex; /* in the point's namespace */
	struct l2_link link;
};

/*
 * The settings of every host-side point (--tc-ingress, --xdp) among
 * pts[0..n) (l2link.h), one per interface: count into out (at most max), or
 * -errno with a message. gw: the gateways (--gateway), none for the default.
 */
int l2_entries_read(const struct attach_point *pts, size_t n, const struct addr *gw, size_t nr_gw,
		    struct l2_entry *out, size_t max, struct diag *d);
/* e[0..n) into the l2_links map fd, and no other interface's: 0 or -errno with a message */
int l2_entries_write(int fd, const struct l2_entry *e, size_t n, struct diag *d);
/*
 * Reads the settings of the installed instance's host-side points again and
 * writes them (the bridge's MAC follows its ports unless it was set: a
 * container joining can change it). The caller holds the instance lock.
 */
int pipeline_refresh_l2(const char *name, const struct addr *gw, size_t nr_gw, struct diag *d);

#endif
