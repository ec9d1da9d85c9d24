/* plan.h: which stage holds which rule, and the class map: pure data, checked before any BPF call. */
#ifndef IRONCLAW_PLAN_H
#define IRONCLAW_PLAN_H

#include <stddef.h>
#include "profile.h"
#include "stage.h"

/* one rule-map entry: a rule's destination at one port */
struct plan_entry {
	__u32 stage; /* index into the stages given to plan_build */
	__u32 rule; /* index into profile->rules; the entry's rule_id */
	__u16 port; /* host order */
};

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
	size_t *stage_entries; /* entries per stage */
	size_t nr_stages;
	__u32 *name_stages; /* the stage of each name rule's first port */
};

/* entries one stage may hold; two generations share its map during a swap */
#define PLAN_MAX_STAGE_ENTRIES (1u << 20)

/*
 * Checks the stages against each other (name, slot, classes) and sends each
 * rule to the stage that claims its {protocol, port}. -EINVAL with diag
 * errors naming the files when anything does not fit.
 */
int plan_build(const struct profile *p, const struct stage *stages, size_t nr_stages,
	       struct plan *out, struct diag *d);
/* the stage that claims {proto, port}, or -1 */
int plan_stage_for(const struct plan *pl, __u8 proto, __u16 port);
void plan_free(struct plan *pl);

#endif
