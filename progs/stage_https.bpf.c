// SPDX-License-Identifier: GPL-2.0
/* stage_https.bpf.c: HTTPS (tcp/443) to addresses and prefixes in its LPM trie. */
#define IRONCLAW_STAGE_FOLLOW_NAMES /* name rules of its classes: addresses learned from DNS */
#include <ironclaw/stage.h>

STAGE_DESCRIBE("https", SLOT_HTTPS, STAGE_MAP_PREFIX, STAGE_CLASS(IPPROTO_TCP, 443));
STAGE_RULES_PREFIX();

static __always_inline int judge_https(const struct stage_pkt *pkt)
{
	return STAGE_LOOKUP_PREFIX(pkt);
}

STAGE_PROGRAMS(judge_https);
