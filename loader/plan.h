/* plan.h: which stage holds which rule, and the class map: pure data, checked before any BPF call. */
#ifndef IRONCLAW_PLAN_H
#define IRONCLAW_PLAN_H

#include <stddef.h>
#include "profile.h"
#include "stage.h"

/*
 * One rule-map entry: a rule's destination at one port, in the stage's own
 * map; or, wide, in the instance's wide_rules (include/policy.h): a prefix
 * at a stage whose map is exact (one entry per port), or a rule for every
 * port (one entry, port 0, stage PLAN_STAGE_ALL: every stage asks for it).
 */
struct plan_entry {
	__u32 stage; /* index into the stages given to plan_build, or PLAN_STAGE_ALL */
	__u32 rule; /* index into profile->rules; the entry's rule_id */
	__u16 port; /* host order; 0 with PLAN_STAGE_ALL: every port */
	bool wide; /* in wide_rules, not in the stage's map */
};

#define PLAN_STAGE_ALL ((__u32)-1)

struct plan_class {
	__u8 l4proto;
	__u16 port; /* host order; 0 = every other port */
	__u32 stage;
};

struct plan {
	struct plan_entry *entries;
	size_t nr_entries;
	struct plan_class *classes;
	size_t nr_classes;
	size_t *stage_entries; /* entries per stage, in its own map */
	size_t wide_entries; /* entries in wide_rules */
	bool wide_ports; /* some are prefixes of a port (GEN_WIDE_PORTS) */
	bool all_ports; /* some are rules for every port (GEN_ALL_PORTS) */
	size_t nr_stages;
	__u32 *name_stages; /* the stage of each name rule's first port */
};

/* entries one stage may hold; two generations share its map during a swap */
#define PLAN_MAX_STAGE_ENTRIES (1u << 20)

/*
 * Checks the stages against each other (name, slot, classes) and sends each
 * port of a rule to the stage that claims its {protocol, port}: a range may
 * span stages; a prefix at a stage whose map is exact and a rule for every
 * port go to wide_rules. -EINVAL with diag
 * errors naming the files when anything does not fit.
 */
int plan_build(const struct profile *p, const struct stage *stages, size_t nr_stages,
	       struct plan *out, struct diag *d);
/* the stage that claims {proto, port}, or -1 */
int plan_stage_for(const struct plan *pl, __u8 proto, __u16 port);
void plan_free(struct plan *pl);

#endif
