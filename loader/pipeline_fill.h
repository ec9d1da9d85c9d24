/* pipeline_fill.h: filling phase: a generation's settings, classes, banks and rules, and clearing one. */
#ifndef IRONCLAW_PIPELINE_FILL_H
#define IRONCLAW_PIPELINE_FILL_H

#include "learn_maps.h"
#include "pipeline_txn.h"
#include "policy.h"

/* fills generation t->gen of every policy map and bank from the request */
int txn_fill(struct txn *t, const struct install_req *rq, struct diag *d);
/*
 * The stages' own rule maps (made by txn_open_stage, empty) filled with
 * generation t->gen's entries by threads of their own (two, each a range of
 * the plan's entries, when it is large and has no XDP markers to order),
 * while the programs load; _end waits for them, their messages into d: 0 or
 * the first -errno. txn_fill then leaves those maps alone (t->fill_started).
 */
int txn_fill_stage_maps_start(struct txn *t, const struct install_req *rq);
int txn_fill_stage_maps_end(struct txn *t, struct diag *d);
/* removes generation gen from every policy map and bank this transaction touches */
void txn_clear_gen(struct txn *t, const struct install_req *rq, __u32 gen);
/* multipliers txn_stage_baked tries for stage_baked's h4[] (16 keys in 32 slots: about 1 in 100 fits) */
#define STAGE_BAKED_HASH_TRIES 65536

/* b's IPv4 keys of every process into h4[], one a slot: 0, or -ENOENT (h4_mul 0) */
int stage_baked_hash(struct stage_baked *b, unsigned int tries);
/* a stage's entries of generation t->gen as read-only data of its program, when few */
void txn_stage_baked(const struct txn *t, const struct install_req *rq, size_t stage,
		     struct stage_baked *b);
/*
 * An entry of a rule map whose values carry counters (a stage's map or
 * wide_rules, policy.h) as the counters' readers see it: its generation, its
 * rule's number and what it counted; false for one that counts nothing (a
 * marker for XDP) or a map of another shape. The key's kind by its size.
 */
bool rule_entry_counted(const void *key, __u32 key_size, const void *value, __u32 value_size,
			__u32 *gen, __u32 *rule, struct pkt_count *c);
/*
 * Stage's plan entries that go in its rules4 (IPv4, every process; policy.h),
 * *in4, and the entries to size its table for, *size4: as many, or more when
 * their keys cluster (rules4_size_for). 0 or -ENOMEM.
 */
int txn_stage_size4(const struct txn *t, const struct install_req *rq, size_t stage, size_t *in4,
		    size_t *size4);
/* the learning maps of the loaded dispatcher */
struct learn_fds txn_learn_fds(const struct txn *t);

#endif
