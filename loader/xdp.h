/* xdp.h: the pipeline at XDP, attached through libxdp (its dispatcher, or one program alone). */
#ifndef IRONCLAW_XDP_H
#define IRONCLAW_XDP_H

#include <stdbool.h>
#include <linux/types.h>
#include "diag.h"

enum xdp_attach_how {
	XDP_HOW_NONE, /* not attached there (or the interface is gone) */
	XDP_HOW_SINGLE, /* libxdp's fallback: our program alone on the interface */
	XDP_HOW_DISPATCHER, /* one program of libxdp's multi-program dispatcher */
};

/* a prog array of one slot for the XDP dispatcher, which xdp_entry tail-calls; fd or -errno */
int xdp_dispatch_map_create(void);
/*
 * Attaches xdp_entry (using dispatch_map) at XDP of the interface, in the
 * caller's network namespace, through libxdp; the entry program's fd, or
 * -errno. generic: XDP_MODE_SKB, which keeps the packet's skb and so its
 * socket; native XDP on a veth builds a new skb after XDP_PASS, without it,
 * and tc ingress behind it could no longer tell the tools apart.
 */
int xdp_entry_attach(int ifindex, int dispatch_map, const char *ifname, bool generic,
		     struct diag *d);
/* how program prog_id is attached at XDP of the interface; *generic: in skb mode */
enum xdp_attach_how xdp_entry_state(int ifindex, __u32 prog_id, bool *generic);
/* detaches program prog_id from XDP of the interface; 0 when it was not there */
int xdp_entry_detach(int ifindex, __u32 prog_id);
const char *xdp_how_name(enum xdp_attach_how how);
/* libxdp's messages, shown with -v */
void xdp_set_verbose(bool verbose);

/* how the XDP entry an instance pinned as pin is attached at pt; its id and the ifindex */
struct attach_point;
enum xdp_attach_how xdp_pin_state(const char *name, const char *pin, const struct attach_point *pt,
				  __u32 *prog_id, int *ifindex, bool *generic);

#endif
