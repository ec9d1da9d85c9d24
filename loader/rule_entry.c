/* rule_entry.c: a plan entry as the key and value of its rule map: the one encoder install and live edits share. */
#include <string.h>
#include <arpa/inet.h>
#include "rule_entry.h"
#include "stage_desc.h"

void rule_entry_full_key(__u32 gen, const struct rule *r, const struct plan_entry *e,
			 struct policy_key *k)
{
	memset(k, 0, sizeof(*k));
	k->gen = gen;
	k->tool = r->o.tool_id;
	k->l4proto = r->l4proto;
	k->dport = htons(e->port);
	k->family = r->dst.family;
	memcpy(k->daddr, r->dst.bytes, sizeof(k->daddr));
}

void rule_entry_encode(__u32 gen, const struct rule *r, const struct plan_entry *e, __u32 map_kind,
		       __u32 rule_id, struct rule_entry *out)
{
	memset(out, 0, sizeof(*out));
	out->value.rule_id = rule_id;
	if (!e->wide && map_kind == STAGE_MAP_EXACT && r->dst.family == AF_INET && !r->o.tool_id) {
		struct policy_key4 *k4 = &out->key.k4;

		memcpy(&k4->daddr, r->dst.bytes, sizeof(k4->daddr));
		k4->dport = htons(e->port);
		k4->l4proto = r->l4proto;
		k4->gen = gen;
		out->map = RULE_MAP_RULES4;
		out->size = sizeof(*k4);
		return;
	}
	out->map = e->wide ? RULE_MAP_WIDE : RULE_MAP_RULES;
	if (e->wide || map_kind == STAGE_MAP_PREFIX) {
		rule_entry_full_key(gen, r, e, &out->key.lpm.k);
		out->key.lpm.prefixlen = POLICY_LPM_FIXED_BITS + r->dst.plen;
		out->size = sizeof(out->key.lpm);
		return;
	}
	rule_entry_full_key(gen, r, e, &out->key.k);
	out->size = sizeof(out->key.k);
}

void rule_entry_marker(struct rule_entry *re)
{
	/* for XDP, which knows no tool: some tool may send there, tc ingress decides */
	struct policy_key *k = re->size == sizeof(re->key.lpm) ? &re->key.lpm.k : &re->key.k;

	k->tool = POLICY_TOOL_UNKNOWN;
	re->value.flags = POLICY_F_TOOL_RULE;
}
