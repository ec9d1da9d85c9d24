/* dry_run.h: what explain's dry-run copy of the pipeline leaves in skb->cb[] after a test run. */
#ifndef IRONCLAW_DRY_RUN_H
#define IRONCLAW_DRY_RUN_H

#include <linux/types.h>

/*
 * A copy of the pipeline loaded with the read-only flag dry_run set judges a
 * packet like the live one, with the same maps, but records nothing: no
 * counter, no event, no rate-limit budget. Its verdict comes back as the
 * program's return code and this, in skb->cb[0..4] (the test run's ctx_out).
 */
#define DRY_RUN_MAGIC 0x1c7a9e11u

struct dry_result {
	__u32 magic; /* DRY_RUN_MAGIC: the pipeline got to a verdict */
	__u32 reason; /* enum reason of the policy (before audit mode) */
	__u32 rule; /* the rule's number + 1 in the installed profile, 0 = none */
	__u32 slot; /* the stage slot the class map chose, 0 = none */
	__u32 audit; /* 1: denied by the policy, let through by audit mode */
};

_Static_assert(sizeof(struct dry_result) == 20, "dry_result must fit skb->cb[0..4]");

#endif
