/* event_names.h: what an event's numbers name: its rule's file:line (the rule list), the host its destination was learned for. */
#ifndef IRONCLAW_EVENT_NAMES_H
#define IRONCLAW_EVENT_NAMES_H

#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>
#include "learn_maps.h"

/* an instance's rule list and learned addresses, read again when they may have changed */
struct event_names {
	const char *instance;
	struct event_rule_where {
		unsigned long id;
		char where[300]; /* "file:line" */
	} * rules;
	size_t nr_rules;
	ino_t list_ino;
	off_t list_size;
	struct timespec list_mtime;
	__u64 list_checked_ns;
	struct learned_addr *learned;
	int nr_learned;
	__u64 learned_ns;
};

void event_names_init(struct event_names *n, const char *instance);
/*
 * "file:line" of the rule the rule list numbers id, "" when it has none
 * (a record from before a switch may name a rule of the profile before).
 */
const char *event_names_rule(struct event_names *n, __u32 id);
/* the host the address was learned for (in force now, or a second ago), "" when none */
const char *event_names_dest(struct event_names *n, __u8 family, const __u8 *addr);
void event_names_free(struct event_names *n);

#endif
