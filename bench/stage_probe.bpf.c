// SPDX-License-Identifier: GPL-2.0
/*
 * stage_probe.bpf.c: the bench's plug-in stage for udp/1032, built twice: with
 * PROBE_NOOP its judge allows every packet without looking at a rule (what the
 * pipeline costs around a stage), without it the judge is the exact lookup
 * every exact stage does; with PROBE_COUNT the judge counts the first rule as
 * matched without a lookup (stage_matched: the rule's counter). fast.sh runs them
 * against each other: the lookup's and the counter's shares of a small stage.
 */
#include <ironclaw/stage.h>

#define PROBE_PORT 1032

#if defined(PROBE_NOOP)
STAGE_DESCRIBE("probe_noop", 8, STAGE_MAP_EXACT, STAGE_CLASS(IPPROTO_UDP, PROBE_PORT));
#elif defined(PROBE_COUNT)
STAGE_DESCRIBE("probe_count", 8, STAGE_MAP_EXACT, STAGE_CLASS(IPPROTO_UDP, PROBE_PORT));
#else
STAGE_DESCRIBE("probe", 8, STAGE_MAP_EXACT, STAGE_CLASS(IPPROTO_UDP, PROBE_PORT));
#endif
STAGE_RULES_EXACT();

static __always_inline int judge_probe(const struct stage_pkt *pkt)
{
#if defined(PROBE_NOOP)
	(void)pkt;
	return REASON_RULE;
#elif defined(PROBE_COUNT)
	static const struct policy_value first = { .rule_id = 0 };

	return stage_matched(&first, pkt);
#else
	return STAGE_LOOKUP_EXACT(pkt);
#endif
}

STAGE_PROGRAMS(judge_probe);
