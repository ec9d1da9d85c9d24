// SPDX-License-Identifier: GPL-2.0
/* stage_internal.bpf.c: every TCP/UDP port no other stage claims; exact {destination, protocol, port}. */
#define IRONCLAW_STAGE_FOLLOW_NAMES /* name rules of its classes: addresses learned from DNS */
#include <ironclaw/stage.h>

STAGE_DESCRIBE("internal", SLOT_INTERNAL, STAGE_MAP_EXACT, STAGE_CLASS(IPPROTO_TCP, 0),
	       STAGE_CLASS(IPPROTO_UDP, 0));
STAGE_RULES_EXACT();

static __always_inline int judge_internal(const struct stage_pkt *pkt)
{
	return STAGE_LOOKUP_EXACT(pkt);
}

STAGE_PROGRAMS(judge_internal);
