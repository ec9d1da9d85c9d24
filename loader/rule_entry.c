/* rule_entry.c: a plan entry as the key and value of its rule map: the one encoder install and live edits share. */
#include <string.h>
#include <arpa/inet.h>
#include "rule_entry.h"

void rule_entry_encode(__u32 gen, const struct rule *r, const struct plan_entry *e, __u32 rule_id,
		       bool lpm, struct rule_entry *out)
{
	struct policy_key *k = &out->key.k;

	memset(out, 0, sizeof(*out));
	k->gen = gen;
	k->tool = r->o.tool_id;
	k->l4proto = r->l4proto;
	k->dport = htons(e->port);
	k->family = r->dst.family;
	memcpy(k->daddr, r->dst.bytes, sizeof(k->daddr));
	out->value.rule_id = rule_id;
	out->size = sizeof(*k);
	if (lpm) {
		out->key.prefixlen = POLICY_LPM_FIXED_BITS + r->dst.plen;
		out->size = sizeof(out->key);
	}
}

void rule_entry_marker(struct rule_entry *re)
{
	/* for XDP, which knows no tool: some tool may send there, tc ingress decides */
	re->key.k.tool = POLICY_TOOL_UNKNOWN;
	re->value.flags = POLICY_F_TOOL_RULE;
}
