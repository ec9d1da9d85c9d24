/* tc_classic.h: tc without tcx: a clsact qdisc and a direct-action bpf filter, through netlink. */
#ifndef IRONCLAW_TC_CLASSIC_H
#define IRONCLAW_TC_CLASSIC_H

#include <stdbool.h>
#include <linux/types.h>
#include "attach.h"
#include "diag.h"
#include "links.h"

/* forces how tc points attach: "tcx" or "classic"; unset: tcx where the kernel has it */
#define TC_ATTACH_ENV "IRONCLAW_TC_ATTACH"
/* the priority of our filters: 1, before any other filter of the clsact hook */
#define TC_FILTER_PRIO 1
/*
 * A classic filter's program is pinned where a tcx link would be (link-...),
 * and its record beside it, as TC_FILTER_PREFIX + that pin's name: a pinned
 * array of one struct tc_filter, so it lives and goes with the instance's pins.
 */
#define TC_FILTER_PREFIX "tcf-"

enum tc_attach_mode {
	TC_ATTACH_TCX, /* a tcx link (kernel 6.6 or later), pinned */
	TC_ATTACH_CLASSIC, /* a filter on a clsact qdisc; the program pinned, the filter recorded */
};

/* the running kernel has tcx links (probed once) */
bool tc_tcx_supported(void);
/*
 * How new tc points attach: TC_ATTACH_ENV, else tcx where the kernel has it.
 * 0, or -EINVAL (a bad value) or -EOPNOTSUPP (tcx forced, none here) with a
 * one-line message in why (may be NULL).
 */
int tc_attach_mode(enum tc_attach_mode *mode, char *why, size_t len);

/* one classic filter of an instance, as recorded */
struct tc_filter {
	__u32 ifindex; /* the interface it went on; another one of the same name is not it */
	__u32 handle;
	__u32 prio;
	__u32 qdisc_ours; /* the clsact qdisc was made for it: removed with the last filter */
};

/* the record of the filter pinned as pin; -ENOENT: pin is no classic filter (a link) */
int tc_filter_read(const char *name, const char *pin, struct tc_filter *f);
/*
 * Adds prog_fd as a direct-action filter first on the clsact hook of pt's
 * interface (the qdisc made if missing) and records it under pin. The caller
 * pins the program at pin. 0 or -errno with a message.
 */
int tc_filter_attach(const char *name, const char *pin, const struct attach_point *pt, bool ingress,
		     int prog_fd, struct tc_filter *f, struct diag *d);
/* puts prog_fd in the filter's place, atomically (the same handle and priority) */
int tc_filter_replace(const struct attach_point *pt, const struct tc_filter *f, bool ingress,
		      int prog_fd, struct diag *d);
/*
 * The program attached by the recorded filter, when it is there: on the same
 * interface (same ifindex), at its handle and priority. 0 when lost.
 */
__u32 tc_filter_prog(const struct attach_point *pt, const struct tc_filter *f, bool ingress);
/*
 * Removes the filter if it still runs program prog_id (0: whatever it runs),
 * the clsact qdisc if it was made for us and is now empty, and the record.
 * Other filters stay. 0 or -errno.
 */
int tc_filter_detach(const char *name, const char *pin, const struct attach_point *pt,
		     const struct tc_filter *f, bool ingress, __u32 prog_id);
/* the link hook is at tc ingress (else egress) */
bool tc_hook_ingress(enum link_hook hook);
/*
 * The classic filter pinned as pin (with its record) runs the pinned program
 * at its place on the same interface; *prog_id (may be NULL): the pinned one.
 */
bool tc_filter_live(const char *name, const char *pin, const struct attach_point *pt, bool ingress,
		    __u32 *prog_id);
/* forgets the record of pin (its filter is gone) */
void tc_filter_forget(const char *name, const char *pin);

#endif
