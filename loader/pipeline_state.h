/* pipeline_state.h: what an install leaves behind: its pins, and the rule list beside them. */
#ifndef IRONCLAW_PIPELINE_STATE_H
#define IRONCLAW_PIPELINE_STATE_H

#include "counts.h"
#include "pipeline_txn.h"

/* pins fd as object in the instance's pin directory, replacing what was there */
int txn_pin(const struct txn *t, int fd, const char *object, struct diag *d);
/* pins rule maps that have no pin yet; after the flip, also the ones that replace a pin */
int txn_pin_rule_maps(struct txn *t, const struct install_req *rq, bool flipped, struct diag *d);
/* the dispatchers, the rule counters and each stage's tc program (status and tests read them) */
int txn_pin_programs(const struct txn *t, const struct install_req *rq, struct diag *d);
/* unpins stage programs and rule maps of stages that are no longer in the profile */
void txn_unpin_removed_stages(const struct txn *t, const struct install_req *rq);
/*
 * The installed rules, one a line (counts.h), each with what the same rule
 * counted under the profile before (old, indexed: counts_snapshot_index);
 * written whole, then renamed (beside: not yet, txn_rule_list_commit).
 */
int txn_write_rule_list(const struct install_req *rq, const struct counts_snapshot *old,
			unsigned long long token, bool beside, struct diag *d);
/* the list written beside (txn_write_rule_list's beside) renamed over the old one, or removed */
int txn_rule_list_commit(const struct install_req *rq, bool keep, struct diag *d);
/*
 * What live edits need of the generation just switched to (edit_base.h),
 * under the token its rule list carries; the edits of the one before go.
 * hash: the request's (req_hash.h), or NULL: computed here.
 */
int txn_write_edit_base(const struct txn *t, const struct install_req *rq, unsigned long long token,
			const char *hash, struct diag *d);
/* unpins everything in an instance's pin directory and removes it */
void pins_remove_dir(const char *dir);

#endif
