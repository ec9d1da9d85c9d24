// SPDX-License-Identifier: GPL-2.0
/*
 * stage_flow.bpf.c: a plug-in stage for the tests that replace a stage under
 * traffic. It claims udp/9000; FLOW_STAGE_V2 builds its next version, which
 * also refuses source port 0 (reason malformed), so a test can tell which
 * version judged a packet.
 */
#include <ironclaw/stage.h>

STAGE_DESCRIBE("flow", 9, STAGE_MAP_EXACT, STAGE_CLASS(IPPROTO_UDP, 9000));
STAGE_RULES_EXACT();

static __always_inline int judge_flow(const struct stage_pkt *pkt)
{
#ifdef FLOW_STAGE_V2
	if (!pkt->meta.sport)
		return REASON_MALFORMED;
#endif
	return STAGE_LOOKUP_EXACT(pkt);
}

STAGE_PROGRAMS(judge_flow);
