/* ruleset.h: a profile with its stages and plan: everything check, install and explain read; no BPF. */
#ifndef IRONCLAW_RULESET_H
#define IRONCLAW_RULESET_H

#include <stdbool.h>
#include "cgroup.h"
#include "plan.h"
#include "profile.h"
#include "stage.h"

struct ruleset {
	struct profile prof;
	struct sandbox_cgroup cgroup;
	__u32 tool_level; /* the tools' cgroup level; 0 when the sandbox's cgroup is unknown */
	bool has_tools; /* some line names a tool: packets look their tool up */
	__u32 audit_slots; /* the stages named by "audit stage" lines */
	struct stage stages[MAX_STAGES];
	size_t nr_stages;
	struct plan plan;
};

/*
 * Reads the profile in dir, then the live edits in live_dir (NULL or absent:
 * none), the built-in and dropped-in stages, and the plan. Tools are
 * resolved below the sandbox's cgroup when one is given; need_tools refuses
 * tool lines without one. The ruleset is freed by ruleset_free on any return.
 */
int ruleset_load(const char *dir, const char *live_dir, const char *cgroup, bool need_tools,
		 struct ruleset *rs, struct diag *d);
/*
 * For a profile already in rs->prof (rs zeroed before it was read): the
 * tools, stages and plan, as ruleset_load does after reading the files.
 */
int ruleset_plan(struct ruleset *rs, const char *cgroup, bool need_tools, struct diag *d);
void ruleset_free(struct ruleset *rs);

/* the built-in stages and the stage objects of a profile directory, in name order; count */
int ruleset_stages(const char *dir, struct stage *out, size_t max, struct diag *d);

#endif
