/* judge.h: a reference judge in user space: a frame's verdict, reason and rule from the behaviour the README documents. */
#ifndef IRONCLAW_JUDGE_H
#define IRONCLAW_JUDGE_H

#include <stddef.h>
#include <linux/types.h>
#include "hooks.h"
#include "judge_policy.h"

/*
 * Judges one Ethernet frame as the dispatcher of hook would: HOOK_TC or
 * HOOK_XDP (cgroup_skb, which sees IP packets and allows the sandbox's own
 * traffic, is not modelled yet). The frame is taken as linear, as a test run
 * and XDP give it. tool is the sender's tool at tc (0: none, or a cgroup no
 * rule names); at XDP it is always unknown. Returns 0, or -EINVAL for a hook
 * it does not model.
 */
int judge_frame(const struct judge_policy *pol, enum hook_id hook, const __u8 *frame, size_t len,
		__u64 tool, struct judge_verdict *out);

#endif
