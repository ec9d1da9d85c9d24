/* learn_maps.h: the learning maps of an instance: filled per generation, names keep their ids, state read back. */
#ifndef IRONCLAW_LEARN_MAPS_H
#define IRONCLAW_LEARN_MAPS_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "addr.h"
#include "learn.h"
#include "diag.h"
#include "plan.h"
#include "profile.h"
#include "stage.h"

/* the instance's learning maps (the dispatcher declares them; pipeline.c pins and shares them) */
struct learn_fds {
	int names, rules, resolvers, config, learned, counts, flows;
};

/*
 * Writes generation gen: settings, resolvers (the dns stage's UDP rules),
 * each followed name under the id it had in the other generation (or a new
 * one), and the names allowed per {protocol, port, tool} (with xdp, tool
 * rules again under POLICY_TOOL_UNKNOWN). 0 or -errno with the error in d.
 */
int learn_maps_fill(const struct learn_fds *f, __u32 gen, const struct profile *p,
		    const struct plan *pl, const struct stage *stages, bool xdp, struct diag *d);
/* forgets what was learned for names no generation follows any more */
void learn_maps_prune(const struct learn_fds *f);

/* one learned address, for rules and status */
struct learned_addr {
	char host[256];
	struct addr addr;
	__u32 ttl; /* as the answer gave it */
	__u64 left_ms; /* until new flows are refused (TTL cut to max-ttl, + grace) */
};

/* the live learned addresses of an instance's generation in force; count or -errno; *out malloc'd */
int learn_state_read(const char *instance, struct learned_addr **out);
/*
 * The bounds in force (the generation's learn_config) and the addresses
 * learned now (live, and expired ones not yet given up); 0 or -errno
 */
int learn_bounds_read(const char *instance, struct learn_config *c, __u64 *entries);
/* the learning counters (enum learn_event), summed over CPUs */
int learn_counts_read(const char *instance, __u64 *counts);
const char *learn_event_name(unsigned int ev);

#endif
