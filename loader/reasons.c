/* reasons.c: names of the reason codes. */
#include <string.h>
#include "reasons.h"

static const char *const names[REASON_MAX] = {
	[REASON_RULE] = "rule",
	[REASON_ARP] = "arp",
	[REASON_ND] = "nd",
	[REASON_LOOPBACK] = "loopback",
	[REASON_WOULD_DENY] = "would_deny",
	[REASON_NO_RULE] = "no_rule",
	[REASON_NO_CLASS] = "no_class",
	[REASON_NO_STAGE] = "no_stage",
	[REASON_TRUNCATED] = "truncated",
	[REASON_MALFORMED] = "malformed",
	[REASON_FRAGMENT] = "fragment",
	[REASON_FRAG_CHAIN] = "frag_chain",
	[REASON_L3_PROTO] = "l3_proto",
	[REASON_L4_PROTO] = "l4_proto",
	[REASON_SPOOFED] = "spoofed_source",
	[REASON_MAPPED_DST] = "mapped_dst",
	[REASON_VLAN] = "vlan",
	[REASON_SOURCE_ROUTE] = "source_route",
	[REASON_BLOCKED] = "blocked",
	[REASON_NO_CONFIG] = "no_config",
	[REASON_BAD_META] = "bad_meta",
	[REASON_QNAME] = "qname",
	[REASON_DNS_QDCOUNT] = "dns_qdcount",
	[REASON_DNS_NAME_LEN] = "dns_name_len",
	[REASON_DNS_COMPRESSION] = "dns_compression",
	[REASON_DNS_MALFORMED] = "dns_malformed",
	[REASON_DNS_QTYPE] = "dns_qtype",
	[REASON_DNS_TCP] = "dns_tcp",
	[REASON_TOOL_DEFERRED] = "tool_deferred",
	[REASON_FLOW] = "flow",
	[REASON_NAME_EXPIRED] = "name_expired",
	[REASON_SPOOFED_MAC] = "spoofed_mac",
	[REASON_L2_DST] = "l2_dst",
	[REASON_TRAILER] = "trailer",
	[REASON_ARP_DENIED] = "arp_denied",
	[REASON_ND_DENIED] = "nd_denied",
	[REASON_MLD] = "mld",
	[REASON_LEARN_BOUND] = "learn_bound",
	[REASON_SNI] = "sni",
};

const char *reason_name(unsigned int reason)
{
	return reason < REASON_MAX && names[reason] ? names[reason] : "unknown";
}

unsigned int reason_by_name(const char *name)
{
	for (unsigned int i = 0; i < REASON_MAX; i++)
		if (names[i] && !strcmp(names[i], name))
			return i;
	return REASON_MAX;
}
