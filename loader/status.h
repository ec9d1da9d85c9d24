/* status.h: what an instance is doing: attachments (and lost ones), stages in slots, rules, counters. */
#ifndef IRONCLAW_STATUS_H
#define IRONCLAW_STATUS_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "diag.h"
#include "stage_desc.h"

/* status: -ENOLINK when an attachment is lost (its interface or cgroup is gone) */
int status_show(const char *name, FILE *out, bool json, struct diag *d);
/* the installed rules with their counters */
int status_rules(const char *name, FILE *out, bool json, struct diag *d);

/* one line of the rule list */
struct rule_info {
	char *stage, *file, *text;
	int line;
};
/* rule number id of the installed profile: 0, or -ENOENT */
int rule_info_get(const char *name, __u32 id, struct rule_info *ri);
void rule_info_free(struct rule_info *ri);
/* events lost: drops[EVENT_DROP_FULL], drops[EVENT_DROP_RATE] (event.h) */
void status_event_drops(const char *name, __u64 *drops);
/* flow and query records not sent (enum event_drop), apart from denials' */
void status_flow_drops(const char *name, __u64 *drops);
/* the drop counters of map (event_drops or flow_drops), summed over CPUs */
void status_drops_of(const char *name, const char *map, __u64 *drops);
/* the name of the stage in each slot of the generation in force ("" for none) */
int status_stage_names(const char *name, char names[STAGE_MAX_SLOTS][STAGE_NAME_LEN]);
/* sums the per-CPU counters of one reason; -errno when the instance is not there */
int status_reason_count(const char *name, unsigned int reason, __u64 *packets, __u64 *bytes);

#endif
