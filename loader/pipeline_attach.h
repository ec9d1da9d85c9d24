/* pipeline_attach.h: attaching phase: tcx, XDP and cgroup links, moved to a new dispatcher or made. */
#ifndef IRONCLAW_PIPELINE_ATTACH_H
#define IRONCLAW_PIPELINE_ATTACH_H

#include "pipeline_txn.h"

/* the points of the request and the instance's link pins in dir; count, at most max */
size_t txn_all_points(const char *dir, const struct install_req *rq, struct attach_point *out,
		      size_t max);
/*
 * XDP knows no tool: a profile with tool rules needs tc ingress on each XDP
 * interface and XDP in skb mode; -EINVAL with a message when it has not.
 */
int txn_xdp_covered(const struct attach_point *p, size_t n, const struct install_req *rq,
		    struct diag *d);
/* xdp_dispatch[0] := the new XDP dispatcher; creates the map for the first XDP point */
int txn_update_xdp_dispatch(struct txn *t, const char *name, struct diag *d);
/* attaches the points no live link of this instance covers yet (recorded for a rollback) */
int txn_attach_new_points(struct txn *t, const struct install_req *rq, struct diag *d);
/* moves every live link of the instance to the new dispatcher; drops links whose target is gone */
int txn_update_links(struct txn *t, const char *name, struct diag *d);
/* detaches program prog_id from XDP at pt; 0 when it is no longer there */
int attach_xdp_detach(const struct attach_point *pt, __u32 prog_id);

#endif
