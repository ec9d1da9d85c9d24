/* rule_entry.h: a plan entry as the key and value of its rule map: the one encoder install and live edits share. */
#ifndef IRONCLAW_RULE_ENTRY_H
#define IRONCLAW_RULE_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include "plan.h"
#include "policy.h"
#include "rule.h"

/* the map an entry goes in */
enum rule_entry_map {
	RULE_MAP_RULES4, /* its stage's rules4: one IPv4 address of an exact stage, no tool */
	RULE_MAP_RULES, /* its stage's rules (policy_key, or policy_lpm_key in a prefix stage) */
	RULE_MAP_WIDE, /* wide_rules: a prefix or every-port entry of an exact stage */
};

/* one rule map entry: its map, key (size bytes) and value */
struct rule_entry {
	enum rule_entry_map map;
	union {
		struct policy_key4 k4;
		struct policy_key k;
		struct policy_lpm_key lpm;
	} key;
	size_t size;
	struct policy_value value;
};

static inline const void *rule_entry_key(const struct rule_entry *re)
{
	return &re->key;
}

/* rule r's destination at plan entry e's port in generation gen, whatever its map */
void rule_entry_full_key(__u32 gen, const struct rule *r, const struct plan_entry *e,
			 struct policy_key *k);
/*
 * Plan entry e of rule r (counter rule_id) in generation gen, for a stage
 * whose map is of kind map_kind: where it goes, its key and value
 */
void rule_entry_encode(__u32 gen, const struct rule *r, const struct plan_entry *e, __u32 map_kind,
		       __u32 rule_id, struct rule_entry *out);
/* the XDP marker of a tool rule's entry (policy.h: POLICY_TOOL_UNKNOWN) */
void rule_entry_marker(struct rule_entry *re);

#endif
