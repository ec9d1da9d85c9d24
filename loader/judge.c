/* judge.c: the reference judge's packet side: link layer, IP, extension headers, ND, then class and rules (names: judge_names.c). */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include "judge.h"
#include "judge_names.h"
#include "policy.h"
#include "reason.h"

/* an ND message carries what a host needs on its link and nothing more: its fixed part, one option */
#define JUDGE_RS_LEN 8
#define JUDGE_NS_LEN 24 /* and an advertisement's */
#define JUDGE_ND_OPT_LEN 8
/* IPv6 extension headers before the transport header: more is malformed */
#define JUDGE_MAX_EXT_HDRS 7

/* the stage that claims {proto, port}: its exact port first, then "every other port" */
static int class_stage(const struct plan *pl, __u8 proto, __u16 port)
{
	int any = -1;

	for (size_t i = 0; i < pl->nr_classes; i++) {
		if (pl->classes[i].l4proto != proto)
			continue;
		if (pl->classes[i].port == port)
			return (int)pl->classes[i].stage;
		if (!pl->classes[i].port)
			any = (int)pl->classes[i].stage;
	}
	return any;
}

/* the destination lies in the rule's address or prefix */
static bool dst_in(const struct addr *a, int family, const __u8 *dst)
{
	unsigned int bits = a->plen, i;

	if (a->family != family)
		return false;
	for (i = 0; i + 8 <= bits; i += 8)
		if (a->bytes[i / 8] != dst[i / 8])
			return false;
	if (i < bits) {
		__u8 mask = (__u8)(0xff << (8 - (bits - i)));

		if ((a->bytes[i / 8] ^ dst[i / 8]) & mask)
			return false;
	}
	return true;
}

/*
 * One map's entry for the destination at port, of rules of tool (0: every
 * process's; JUDGE_TOOL_UNKNOWN: any tool's, XDP's marker entries): stage's
 * own map (stage >= 0; a prefix map gives the longest prefix, an exact one
 * single addresses only) or wide_rules (stage < 0: prefixes of exact stages'
 * ports, and port 0 for the rules of every port), longest prefix. -1: none.
 */
static int map_lookup(const struct judge_policy *pol, int stage, __u16 port,
		      const struct judge_pkt *k, __u64 tool)
{
	bool prefix = stage < 0 || pol->stages[stage].desc.map_kind == STAGE_MAP_PREFIX;
	int best = -1, best_len = -1;

	for (size_t i = 0; i < pol->plan->nr_entries; i++) {
		const struct plan_entry *e = &pol->plan->entries[i];
		const struct rule *r;

		if (e->port != port || e->rule >= pol->prof->nr_rules ||
		    (stage < 0 ? !e->wide : e->wide || (int)e->stage != stage))
			continue;
		r = &pol->prof->rules[e->rule];
		if (r->l4proto != k->proto)
			continue;
		if (tool == JUDGE_TOOL_UNKNOWN ? !r->o.tool_id : r->o.tool_id != tool)
			continue;
		if (!prefix && r->dst.plen != (k->family == AF_INET ? 32 : 128))
			continue;
		if (!dst_in(&r->dst, k->family, k->dst))
			continue;
		if ((int)r->dst.plen > best_len) {
			best = (int)e->rule;
			best_len = r->dst.plen;
		}
	}
	return best;
}

/* the sender's tool first, then every process's; *deferred: only XDP's marker of a tool's rule */
static int map_lookup_tools(const struct judge_policy *pol, int stage, __u16 port,
			    const struct judge_pkt *k, bool *deferred)
{
	int r = -1;

	if (k->tool)
		r = map_lookup(pol, stage, port, k, k->tool);
	*deferred = r >= 0 && k->tool == JUDGE_TOOL_UNKNOWN;
	return r >= 0 ? r : map_lookup(pol, stage, port, k, 0);
}

/*
 * The rule that covers the packet, in the order the stages ask (the first
 * found counts): the stage's own map at the port; then, for a stage whose map
 * is exact, the prefixes of the port in wide_rules; then the rules for every
 * port.
 */
static int stage_lookup(const struct judge_policy *pol, int stage, const struct judge_pkt *k,
			bool *deferred)
{
	int r = map_lookup_tools(pol, stage, k->dport, k, deferred);

	if (r < 0 && pol->stages[stage].desc.map_kind == STAGE_MAP_EXACT)
		r = map_lookup_tools(pol, -1, k->dport, k, deferred);
	if (r < 0)
		r = map_lookup_tools(pol, -1, POLICY_ALL_PORTS, k, deferred);
	return r;
}

static unsigned int judge_stages(const struct judge_policy *pol, const struct judge_pkt *k,
				 struct judge_verdict *out)
{
	int s = class_stage(pol->plan, k->proto, k->dport), rule = -1;
	bool deferred = false;
	const struct stage *st;
	unsigned int r;

	if (s < 0 || (size_t)s >= pol->nr_stages)
		return REASON_NO_CLASS;
	st = &pol->stages[s];
	out->slot = st->desc.slot;
	/* an address only name rules allow: no address rule covers it */
	if (pol->learned_host)
		return judge_learned(pol, st, k, out);
	rule = stage_lookup(pol, s, k, &deferred);
	if (rule < 0)
		return REASON_NO_RULE;
	/* the dns stage checks the query first, whoever's rule covers the resolver */
	if (!strcmp(st->desc.name, "dns") && pol->prof->nr_dns_names) {
		r = k->proto == IPPROTO_TCP ? REASON_DNS_TCP : judge_dns_query(pol, k, out);
		if (r != REASON_RULE)
			return r;
	}
	/* XDP: a rule of some tool would match; tc ingress, which knows the tool, decides */
	if (deferred)
		return REASON_TOOL_DEFERRED; /* a query's name line counted, not the resolver's */
	out->rule = rule;
	return REASON_RULE;
}

static bool is_source(const struct judge_policy *pol, int family, const __u8 *a)
{
	size_t n = family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < pol->nr_sources; i++) {
		const struct addr *s = &pol->sources[i];

		if (s->family == family && s->plen == n * 8 && !memcmp(s->bytes, a, n))
			return true;
	}
	return false;
}

static bool all_zero(const __u8 *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i])
			return false;
	return true;
}

/* TCP or UDP at l4, the datagram ending at end: ports, then the stages */
static unsigned int transport(struct judge_pkt *k)
{
	size_t need = k->proto == IPPROTO_TCP ? 20 : 8;

	if (k->l4 + need > k->end)
		return REASON_TRUNCATED;
	if (k->proto == IPPROTO_TCP && (k->b[k->l4 + 12] >> 4) < 5)
		return REASON_MALFORMED;
	k->sport = judge_be16(k->b + k->l4);
	k->dport = judge_be16(k->b + k->l4 + 2);
	if (k->proto == IPPROTO_TCP) {
		k->data = k->l4 + (size_t)(k->b[k->l4 + 12] >> 4) * 4;
		k->tcp_flags = k->b[k->l4 + 13];
	}
	return JUDGE_GO_ON;
}

/*
 * ICMPv6 at l4 (its 8-byte header). Never neighbour discovery in a fragment
 * (RFC 6980). MLD is denied as such; router and neighbour solicitation and
 * neighbour advertisement pass when they are what a host needs on its link
 * (RFC 4861): code 0, hop limit 255, to a link-local or link-local multicast
 * destination, right after the IPv6 header, the fixed part and at most one
 * 8-byte option; anything else of these types is nd_denied. Other ICMPv6 is
 * l4_proto.
 */
static unsigned int neighbour_discovery(struct judge_pkt *k, bool in_fragment)
{
	const __u8 *dst = k->dst;
	size_t len, fixed;
	__u8 type;

	if (k->l4 + 8 > k->end)
		return REASON_TRUNCATED;
	type = k->b[k->l4];
	if (in_fragment)
		return REASON_L4_PROTO;
	if (type == 130 || type == 131 || type == 132 || type == 143)
		return REASON_MLD; /* query, report, done, MLDv2 report */
	if (type != 133 && type != 135 && type != 136)
		return REASON_L4_PROTO;
	len = k->end - k->l4;
	fixed = type == 133 ? JUDGE_RS_LEN : JUDGE_NS_LEN;
	if (k->b[k->l4 + 1] != 0 || k->hop_limit != 255)
		return REASON_ND_DENIED;
	if (!(dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80) && !(dst[0] == 0xff && dst[1] == 0x02))
		return REASON_ND_DENIED;
	if (k->l4 != k->l3 + 40 || (len != fixed && len != fixed + JUDGE_ND_OPT_LEN))
		return REASON_ND_DENIED;
	if (k->unspecified_src && type == 136)
		return REASON_SPOOFED;
	return REASON_ND;
}

static unsigned int ipv4(const struct judge_policy *pol, struct judge_pkt *k)
{
	const __u8 *h = k->b + k->l3;
	size_t ihl, tot, opt, hend;

	if (k->len - k->l3 < 20)
		return REASON_TRUNCATED;
	/* a header of another version has no source to judge */
	if (h[0] >> 4 != 4)
		return REASON_MALFORMED;
	k->family = AF_INET;
	memcpy(k->src, h + 12, 4);
	memcpy(k->dst, h + 16, 4);
	/* a forged source is what the packet is counted as, whatever else is wrong */
	if (!is_source(pol, AF_INET, k->src))
		return REASON_SPOOFED;
	ihl = (size_t)(h[0] & 15) * 4;
	tot = judge_be16(h + 2);
	if (ihl < 20 || tot < ihl)
		return REASON_MALFORMED;
	if (k->l3 + tot > k->len)
		return REASON_TRUNCATED;
	hend = k->l3 + ihl;
	for (opt = k->l3 + 20; opt < hend;) {
		__u8 type = k->b[opt], olen;

		if (type == 0)
			break;
		if (type == 1) {
			opt++;
			continue;
		}
		if (opt + 1 >= hend)
			return REASON_MALFORMED;
		olen = k->b[opt + 1];
		if (olen < 2 || opt + olen > hend)
			return REASON_MALFORMED;
		if (type == 131 || type == 137)
			return REASON_SOURCE_ROUTE;
		opt += olen;
	}
	if (judge_be16(h + 6) & 0x3fff)
		return REASON_FRAGMENT;
	k->proto = h[9];
	k->l4 = hend;
	k->end = k->l3 + tot;
	if (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP)
		return REASON_L4_PROTO;
	return transport(k);
}

/*
 * The extension headers from off, next header next: hop-by-hop first only,
 * destination options, routing (segments left is a source route), fragment;
 * at most JUDGE_MAX_EXT_HDRS of them. In a first fragment the chain must
 * reach the transport header whole (frag_chain), and what it carries is then
 * judged for its protocol and header before it is denied as a fragment.
 * Then the destination: an IPv4-mapped one is not IPv6.
 */
static unsigned int ipv6_chain(struct judge_pkt *k, __u8 next, size_t off)
{
	static const __u8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	bool first_frag = false;
	unsigned int r;

	for (int n = 0;; n++) {
		unsigned int cut;

		if (next == IPPROTO_TCP || next == IPPROTO_UDP || next == IPPROTO_ICMPV6)
			break;
		cut = first_frag ? REASON_FRAG_CHAIN : REASON_TRUNCATED;
		if (n == JUDGE_MAX_EXT_HDRS)
			return first_frag ? REASON_FRAG_CHAIN : REASON_MALFORMED;
		switch (next) {
		case IPPROTO_HOPOPTS:
			if (n)
				return REASON_MALFORMED;
			/* fall through */
		case IPPROTO_DSTOPTS:
		case IPPROTO_ROUTING: {
			size_t hl;

			if (off + 8 > k->end)
				return cut;
			if (next == IPPROTO_ROUTING && k->b[off + 3])
				return REASON_SOURCE_ROUTE;
			hl = ((size_t)k->b[off + 1] + 1) * 8;
			if (off + hl > k->end)
				return cut;
			next = k->b[off];
			off += hl;
			break;
		}
		case IPPROTO_FRAGMENT: {
			__u16 fo;

			if (off + 8 > k->end)
				return cut;
			fo = judge_be16(k->b + off + 2);
			if (fo >> 3)
				return REASON_FRAGMENT;
			if (fo & 1)
				first_frag = true;
			next = k->b[off];
			off += 8;
			break;
		}
		default:
			return REASON_L4_PROTO;
		}
	}
	if (!memcmp(k->dst, mapped, sizeof(mapped)))
		return REASON_MAPPED_DST;
	k->proto = next;
	k->l4 = off;
	if (next == IPPROTO_ICMPV6)
		r = neighbour_discovery(k, first_frag);
	else
		r = transport(k);
	if (first_frag && r == REASON_TRUNCATED)
		return REASON_FRAG_CHAIN;
	if (first_frag && r == JUDGE_GO_ON)
		return REASON_FRAGMENT;
	return r;
}

static unsigned int ipv6(const struct judge_policy *pol, struct judge_pkt *k)
{
	const __u8 *h = k->b + k->l3;
	size_t plen;
	unsigned int r;

	if (k->len - k->l3 < 40)
		return REASON_TRUNCATED;
	if (h[0] >> 4 != 6)
		return REASON_MALFORMED;
	k->family = AF_INET6;
	memcpy(k->src, h + 8, 16);
	memcpy(k->dst, h + 24, 16);
	k->hop_limit = h[7];
	if (!is_source(pol, AF_INET6, k->src)) {
		if (!all_zero(k->src, 16))
			return REASON_SPOOFED;
		k->unspecified_src = true;
	}
	/* a payload length of 0 is a jumbogram or a GSO packet: bounded by the frame */
	plen = judge_be16(h + 4);
	k->jumbo = !plen;
	k->end = plen ? k->l3 + 40 + plen : k->len;
	if (k->end > k->len)
		r = REASON_TRUNCATED;
	else
		r = ipv6_chain(k, h[6], k->l3 + 40);
	/*
	 * From :: only solicitations, for duplicate address detection: the
	 * unspecified address is judged as a source once the headers are known
	 * good (a packet from :: with a fault of its own counts under that fault),
	 * and a TCP or UDP packet from it is forged.
	 */
	if (k->unspecified_src && r == JUDGE_GO_ON)
		return REASON_SPOOFED;
	return r;
}

int judge_frame(const struct judge_policy *pol, enum hook_id hook, const __u8 *frame, size_t len,
		__u64 tool, struct judge_verdict *out)
{
	struct judge_pkt k = { .b = frame, .len = len, .hook = hook, .tool = tool };
	unsigned int r;
	__u16 et;

	if (hook != HOOK_TC && hook != HOOK_XDP)
		return -EINVAL;
	*out = (struct judge_verdict){ .rule = JUDGE_NO_RULE, .name_rule = JUDGE_NO_RULE };
	/* XDP knows no socket: with tool rules, the tool is unknown there; without, none */
	if (hook == HOOK_XDP)
		k.tool = profile_names_tools(pol->prof) ? JUDGE_TOOL_UNKNOWN : 0;
	if (pol->blocked) {
		r = REASON_BLOCKED;
		goto out;
	}
	if (len < ETH_HLEN) {
		r = REASON_TRUNCATED;
		goto out;
	}
	et = judge_be16(frame + 12);
	k.l3 = ETH_HLEN;
	switch (et) {
	case ETH_P_8021Q:
	case ETH_P_8021AD:
		r = REASON_VLAN;
		break;
	case ETH_P_ARP:
		if (len < ETH_HLEN + 28)
			r = REASON_TRUNCATED;
		else if (judge_be16(frame + ETH_HLEN) != 1 ||
			 judge_be16(frame + ETH_HLEN + 2) != ETH_P_IP || frame[ETH_HLEN + 4] != 6 ||
			 frame[ETH_HLEN + 5] != 4)
			r = REASON_MALFORMED; /* not Ethernet/IPv4 ARP */
		else
			r = is_source(pol, AF_INET, frame + ETH_HLEN + 14) ? REASON_ARP :
									     REASON_SPOOFED;
		break;
	case ETH_P_IP:
		r = ipv4(pol, &k);
		break;
	case ETH_P_IPV6:
		r = ipv6(pol, &k);
		break;
	default:
		r = REASON_L3_PROTO;
	}
	if (r == JUDGE_GO_ON)
		r = judge_stages(pol, &k, out);
out:
	out->reason = r;
	out->allow = REASON_IS_ALLOW(r);
	return 0;
}
