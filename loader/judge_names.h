/* judge_names.h: the reference judge's name side (DNS queries, learned addresses) over a frame its packet side (judge.c) parsed. */
#ifndef IRONCLAW_JUDGE_NAMES_H
#define IRONCLAW_JUDGE_NAMES_H

#include "hooks.h"
#include "judge_policy.h"

/* not a reason: the packet side found nothing to deny, the stages decide */
#define JUDGE_GO_ON 0xffffu
/* XDP sees no socket: the sender's tool is unknown there */
#define JUDGE_TOOL_UNKNOWN (~0ULL)

/* one frame as the packet side parsed it; offsets from the frame's first byte */
struct judge_pkt {
	const __u8 *b;
	size_t len; /* of the frame */
	enum hook_id hook;
	__u64 tool;
	int family;
	size_t l3, l4, end; /* end: of the IP datagram */
	__u8 proto, hop_limit;
	bool unspecified_src; /* IPv6 from :: */
	bool jumbo; /* IPv6 payload length 0: the datagram ends with the frame */
	__u8 src[16], dst[16];
	__u16 sport, dport; /* host order */
	size_t data; /* TCP: where the segment's data begins (end or after: none) */
	__u8 tcp_flags;
};

static inline __u16 judge_be16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

/*
 * A packet to pol->learned_host's address at stage st, which no address
 * rule covers: the name rule that allows it (out->rule), or why none does.
 */
unsigned int judge_learned(const struct judge_policy *pol, const struct stage *st,
			   const struct judge_pkt *k, struct judge_verdict *out);
/* a UDP query to a resolver, checked in the README's order; REASON_RULE sets out->name_rule */
unsigned int judge_dns_query(const struct judge_policy *pol, const struct judge_pkt *k,
			     struct judge_verdict *out);

#endif
