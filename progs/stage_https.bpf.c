// SPDX-License-Identifier: GPL-2.0
/* stage_https.bpf.c: HTTPS (tcp/443) to addresses and prefixes in its LPM trie; to learned addresses, the ClientHello's server name checked where the profile asks (docs/sni.md). */
#define IRONCLAW_STAGE_FOLLOW_NAMES /* name rules of its classes: addresses learned from DNS */
#include <ironclaw/stage.h>
#include "lib/stage_sni.h"

STAGE_DESCRIBE("https", SLOT_HTTPS, STAGE_MAP_PREFIX, STAGE_CLASS(IPPROTO_TCP, 443));
STAGE_RULES_PREFIX();

static __always_inline int judge_https(const struct stage_pkt *pkt)
{
	return STAGE_LOOKUP_PREFIX(pkt);
}

/* a packet (tc, cgroup_skb): rules by address as above; a learned address's flow names its host */
static __always_inline int judge_https_skb(struct __sk_buff *skb, const struct stage_pkt *pkt)
{
	struct policy_lpm_key k = { .prefixlen = POLICY_LPM_FIXED_BITS + 128 };
	void *v;

	stage_key(&k.k, pkt);
	v = bpf_map_lookup_elem(&rules, &k);
	if (!v && k.k.tool) {
		k.k.tool = 0;
		v = bpf_map_lookup_elem(&rules, &k);
	}
	if (!v)
		v = stage_wide_rule(pkt, 0);
	if (v)
		return stage_matched(v, pkt);
	return stage_sni(skb, pkt, stage_learned(pkt));
}

/* XDP reads no payload: host-side tc ingress beside it checks the name (docs/sni.md) */
static __always_inline int judge_https_xdp(struct xdp_md *ctx, const struct stage_pkt *pkt)
{
	(void)ctx;
	return judge_https(pkt);
}

STAGE_PROGRAMS_PAYLOAD(judge_https_skb, judge_https_xdp, judge_https);
