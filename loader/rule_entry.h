/* rule_entry.h: a plan entry as the key and value of its rule map: the one encoder install and live edits share. */
#ifndef IRONCLAW_RULE_ENTRY_H
#define IRONCLAW_RULE_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include "plan.h"
#include "policy.h"
#include "rule.h"

/* one rule map entry: its key (size bytes of key) and value */
struct rule_entry {
	struct policy_lpm_key key; /* an exact map's key is key.k */
	size_t size; /* sizeof(struct policy_key) or sizeof(struct policy_lpm_key) */
	struct policy_value value;
};

/* the bytes of the key as its map takes them */
static inline const void *rule_entry_key(const struct rule_entry *re)
{
	return re->size == sizeof(struct policy_key) ? (const void *)&re->key.k :
						       (const void *)&re->key;
}

/*
 * Plan entry e of rule r (counter rule_id) in generation gen: lpm when its
 * map is a trie (a prefix stage's, or wide_rules when e is wide).
 */
void rule_entry_encode(__u32 gen, const struct rule *r, const struct plan_entry *e, __u32 rule_id,
		       bool lpm, struct rule_entry *out);
/* the XDP marker of a tool rule's entry (policy.h: POLICY_TOOL_UNKNOWN) */
void rule_entry_marker(struct rule_entry *re);

#endif
