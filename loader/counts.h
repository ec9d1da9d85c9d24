/* counts.h: the installed rule list, and rule counters that outlive a switch of generation. */
#ifndef IRONCLAW_COUNTS_H
#define IRONCLAW_COUNTS_H

#include <stdio.h>
#include "policy.h"

/*
 * A line of the rule list (PIPELINE_STATE_DIR/NAME.rules), tab-separated:
 * number, stage, file, line, carried packets, carried bytes, text. The
 * counters in rule_counts are indexed by the number; "carried" is what the
 * same rule (same file, same text) counted under the profiles before.
 */
struct rule_list_entry {
	unsigned long id;
	char *stage, *file, *text;
	int line;
	struct pkt_count carried;
};

/*
 * The rule list of instance name with its live edits in place (rule_edits.h):
 * whole (NUL-terminated, NULL with errno), or as a stream to read
 */
char *rule_list_read(const char *name, size_t *len);
FILE *rule_list_open(const char *name);
/* splits a line in place; 0, or -EINVAL for a line that is not one */
int rule_list_parse(char *line, struct rule_list_entry *e);
void rule_list_write(FILE *f, unsigned long id, const char *stage, const char *file, int line,
		     const struct pkt_count *carried, const char *text);

/* the running profile's rules and counters, taken before a switch */
struct counts_snapshot {
	char *list; /* the old list file, whole; entries point into it */
	struct rule_list_entry *rules;
	size_t nr;
	int counts_fd; /* the old generation's rule_counts, or -1 */
};

int counts_snapshot_take(const char *name, struct counts_snapshot *s);
/*
 * What a rule of the new profile starts from: the same rule's total in the
 * old one (its counter, read now, plus what it had carried), or zero.
 */
void counts_carried_over(const struct counts_snapshot *s, const char *file, const char *text,
			 struct pkt_count *sum);
void counts_snapshot_free(struct counts_snapshot *s);
/* sums one rule's per-CPU counter in a rule_counts map (fd < 0: zero) */
void counts_rule_sum(int fd, __u32 id, struct pkt_count *sum);

#endif
