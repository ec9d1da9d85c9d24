// SPDX-License-Identifier: GPL-2.0
/* stage_dns.bpf.c: DNS (udp/53, tcp/53) only to the resolvers in its map. */
#include "lib/stage.h"

STAGE_DESCRIBE("dns", SLOT_DNS, STAGE_MAP_EXACT, STAGE_CLASS(IPPROTO_UDP, 53),
	       STAGE_CLASS(IPPROTO_TCP, 53));
STAGE_RULES_EXACT();

static __always_inline int judge_dns(const struct stage_pkt *pkt)
{
	return STAGE_LOOKUP_EXACT(pkt);
}

STAGE_PROGRAMS(judge_dns);
