/* pipeline.h: an instance's BPF pipeline: installed as one transaction, blocked, removed, read. */
#ifndef IRONCLAW_PIPELINE_H
#define IRONCLAW_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include "addr.h"
#include "attach.h"
#include "diag.h"
#include "plan.h"
#include "profile.h"
#include "stage.h"
#include "xdp.h"

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
	__u32 tool_level; /* cgroup level of the tools; 0 = the sandbox's cgroup is unknown */
	bool has_tools; /* some rule names a tool: packets look their tool up */
	bool audit_all; /* install --audit: every denial passes, recorded as would-deny */
	__u32 audit_slots; /* bit s: the stage in slot s is audited */
	bool keep_block; /* reload and live edits: a blocked instance stays blocked */
	bool xdp_programs; /* load (and pin) the XDP programs though no XDP point is attached:
			    * for BPF_PROG_TEST_RUN in tests and bench/ */
	/* called now and then while the rule maps fill (done of total entries); may be NULL */
	void (*progress)(size_t done, size_t total);
};

/*
 * Installs a new instance, or switches a running one to the request in one
 * step; on any error the running policy stays as it was. The caller holds
 * the instance lock (instance.h) or is the only writer (tests).
 */
int pipeline_install(const struct install_req *rq, struct diag *d);
/* the instance's control word holds CTL_BLOCKED */
bool pipeline_blocked(const char *name);
/* deny-all: every packet is dropped with reason "blocked" until the next install */
int pipeline_block(const char *name, struct diag *d);
/* detaches and unpins everything of the instance */
int pipeline_uninstall(const char *name, struct diag *d);
/* the sandbox addresses of generation gen (-1: the one in force); count or -errno */
int pipeline_sources(const char *name, int gen, struct addr *out, size_t max);
/* how the XDP entry pinned as pin is attached at pt (xdp.h); its id and the ifindex */
enum xdp_attach_how pipeline_xdp_state(const char *name, const char *pin,
				       const struct attach_point *pt, __u32 *prog_id, int *ifindex,
				       bool *generic);

#endif
