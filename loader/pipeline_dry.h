/* pipeline_dry.h: explain's copy of an instance's pipeline: dry_run set, the instance's maps, checked code. */
#ifndef IRONCLAW_PIPELINE_DRY_H
#define IRONCLAW_PIPELINE_DRY_H

#include "pipeline_txn.h"

/*
 * A copy of the instance's pipeline, loaded with dry_run set: it judges with
 * the instance's maps and records nothing. Its stages come from candidates
 * (the built-in ones and the profile's objects), checked to be the code the
 * instance runs. The caller holds the instance lock.
 */
struct dry_pipeline;
int pipeline_dry_load(const char *name, const struct stage *candidates, size_t nr, bool cgroup_skb,
		      bool xdp, __u64 tool, struct dry_pipeline **out, struct diag *d);
/* the dispatcher of a hook kind the copy loaded, or -ENOENT */
int pipeline_dry_prog(const struct dry_pipeline *dp, enum hook_id hook);
void pipeline_dry_free(struct dry_pipeline *dp);

#endif
