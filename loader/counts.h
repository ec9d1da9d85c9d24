/* counts.h: the installed rule list, and rule counters that outlive a switch of generation. */
#ifndef IRONCLAW_COUNTS_H
#define IRONCLAW_COUNTS_H

#include <stdbool.h>
#include <stdio.h>
#include "policy.h"

/*
 * A line of the rule list (PIPELINE_STATE_DIR/NAME.rules), tab-separated:
 * number, stage, file, line, carried packets, carried bytes, text. The
 * counters (struct rule_counters) are found by the number; "carried" is what
 * the same rule (same file, same text) counted under the profiles before.
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

/*
 * A rule's hits, wherever the programs counted them (policy.h): rule_counts
 * (per CPU, by the rule's number) plus the counters of the rule's entries in
 * the rule maps (every stage's, wide_rules) of one generation, all of them
 * read (in batches) and summed the first time a rule is asked for. The maps are opened by
 * rule_counters_open, so a map an install replaces after that still counts.
 */
#define RULE_COUNTER_MAPS 64

struct rule_counters {
	int counts_fd; /* rule_counts, or -1 */
	int map_fds[RULE_COUNTER_MAPS]; /* rule maps whose entries count */
	size_t nr_maps;
	int gen; /* the generation whose entries count; -1: none */
	bool summed;
	struct pkt_count *in_entries; /* by rule number, once summed */
	size_t nr_in_entries;
};

/* the instance's counters, of the generation in force; what is missing counts zero */
void rule_counters_open(const char *name, struct rule_counters *c);
/* rule id's hits: its per-CPU counter and its entries' (read once, at the first call) */
void rule_counters_get(struct rule_counters *c, __u32 id, struct pkt_count *sum);
void rule_counters_close(struct rule_counters *c);
/* one rule's hits in instance name, read now (tests; a reader of many: rule_counters) */
void counts_rule_total(const char *name, __u32 id, struct pkt_count *sum);

/* the running profile's rules and counters, taken before a switch */
struct counts_snapshot {
	char *list; /* the old list file, whole; entries point into it */
	struct rule_list_entry *rules;
	size_t nr;
	__u64 *slots; /* a hash table of rules by file name and text (counts.c), 0 empty */
	size_t nr_slots; /* a power of two */
	struct rule_counters *counters; /* the old generation's, or NULL */
	bool indexed; /* counts_snapshot_index ran: each rule's carried is its total */
	/*
	 * The list's head said no rule of it carries anything (COUNTS_NOTHING_CARRIED): not
	 * read until a counter of its generation is found not zero (index reads it then)
	 */
	char *unread; /* the instance's name, or NULL */
};

/* after "#base TOKEN" in a rule list's head: every rule of it carries 0 */
#define COUNTS_NOTHING_CARRIED " nothing-carried"
/* some rule written with s carries something (else a list's head says COUNTS_NOTHING_CARRIED) */
bool counts_snapshot_carries(const struct counts_snapshot *s);

/* the old list read and split, the old counters opened (not read: index reads them) */
int counts_snapshot_take(const char *name, struct counts_snapshot *s);
/*
 * After the switch: each old rule's counters read and added to what it carried, and
 * the hash table of the rules whose total is not zero (0, -ENOMEM or -E2BIG); once.
 */
int counts_snapshot_index(struct counts_snapshot *s);
/* the same without the counters (what the old rules carried alone): for a list written early */
int counts_snapshot_index_carried(struct counts_snapshot *s);
/* some old counter is not zero (read now, the first time): what they carried is not all */
bool counts_snapshot_counted(struct counts_snapshot *s);
/*
 * The snapshot taken by a thread of its own: it reads only the instance's state files and
 * pins, so it runs while the new profile is parsed (the instance lock held throughout).
 */
struct counts_snapshot_job;
/* started, or NULL (no memory, no thread): the caller takes it itself */
struct counts_snapshot_job *counts_snapshot_start(const char *name);
/* the snapshot, once the thread is done (joined at the first call) */
struct counts_snapshot *counts_snapshot_wait(struct counts_snapshot_job *j);
/* joined if it was not, the snapshot freed; NULL: nothing */
void counts_snapshot_job_free(struct counts_snapshot_job *j);
/*
 * What a rule of the new profile starts from: the same rule's total in the
 * old one (its counter plus what it had carried, counts_snapshot_index), or zero.
 */
void counts_carried_over(const struct counts_snapshot *s, const char *file, const char *text,
			 struct pkt_count *sum);
void counts_snapshot_free(struct counts_snapshot *s);
/* sums one rule's per-CPU counter in a rule_counts map (fd < 0: zero) */
void counts_rule_sum(int fd, __u32 id, struct pkt_count *sum);

#endif
