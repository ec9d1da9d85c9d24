/* install_req.h: what one install of the pipeline is asked to put in place. */
#ifndef IRONCLAW_INSTALL_REQ_H
#define IRONCLAW_INSTALL_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include "addr.h"
#include "attach.h"
#include "plan.h"
#include "profile.h"
#include "stage.h"

struct counts_snapshot_job; /* counts.h */
struct dispatcher_preload; /* pipeline_preload.h */

#define PIPELINE_MAX_SOURCES 64
#define PIPELINE_MAX_LINKS 64 /* link pins one instance may hold */

struct install_req {
	const char *name;
	const struct profile *profile;
	const struct stage *stages;
	size_t nr_stages;
	const struct plan *plan;
	const struct addr *sources; /* the sandbox's own addresses */
	size_t nr_sources;
	const struct attach_point *points;
	size_t nr_points;
	const struct addr
		*gateways; /* --gateway: the sandbox's gateways; none: the host side's own */
	size_t nr_gateways;
	__u32 tool_level; /* cgroup level of the tools; 0 = the sandbox's cgroup is unknown */
	bool has_tools; /* some rule names a tool: packets look their tool up */
	bool audit_all; /* install --audit: every denial passes, recorded as would-deny */
	__u32 audit_slots; /* bit s: the stage in slot s is audited */
	bool keep_block; /* reload and live edits: a blocked instance stays blocked */
	bool reuse_unchanged; /* what runs is this request already (req_hash.h): do nothing */
	bool ctl_before_known; /* ctl_before holds the control word from before the lock: */
	__u32 ctl_before; /* an install ends only a block that was there then */
	bool xdp_programs; /* load (and pin) the XDP programs though no XDP point is attached:
			    * for BPF_PROG_TEST_RUN in tests and bench/ */
	/* the running rules and counters, being read by a thread (counts.h); NULL: read here */
	struct counts_snapshot_job *old_counts;
	/* the dispatcher, being loaded by a thread (pipeline_preload.h); NULL: loaded here */
	struct dispatcher_preload *preload;
	/* called now and then while the rule maps fill (done of total entries); may be NULL */
	void (*progress)(size_t done, size_t total);
};

#endif
