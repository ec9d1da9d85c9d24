/* rules4.h: an exact stage's table rules4 (include/rule_table.h) from user space: made, filled, probed and edited through mmap. */
#ifndef IRONCLAW_RULES4_H
#define IRONCLAW_RULES4_H

#include <stdbool.h>
#include <stddef.h>
#include "rule_table.h"

/* a mapped table: its 2^bits home slots, their probe runs' tail, the header */
struct rules4 {
	struct rule_slot4 *slots;
	struct rule_table_head *head;
	size_t len; /* bytes mapped */
	__u32 bits;
};

/* the table's bits for `needed` entries: at least twice as many home slots */
__u32 rules4_bits(size_t needed);
/* the bits of a table of max_entries slots (RULE_TABLE_SLOTS), 0 for another size */
__u32 rules4_bits_of(__u32 max_entries);
/*
 * The entries to size a table for (rules4_bits, rules4_create) so that each
 * of the n keys words[] (policy_key4 words) finds a slot within
 * RULE_TABLE_PROBES of its home, whatever the order they are added in: n
 * when the table for n does, else a bigger one's (n keys that cluster). n,
 * too, when no table up to RULE_TABLE_MAX_BITS (or no memory) will do: the
 * fill then says which rule found no slot.
 */
size_t rules4_size_for(const __u64 *words, size_t n);
/* makes a table for `needed` entries: a BPF array named name, its fd or -errno */
int rules4_create(const char *name, size_t needed);
/* maps the table of fd (read-only unless writable) into t: 0 or -errno */
int rules4_map(int fd, bool writable, struct rules4 *t);
void rules4_unmap(struct rules4 *t);
/* the same over memory of RULE_TABLE_SLOTS(bits) slots, zeroed (tests) */
void rules4_over(struct rules4 *t, void *mem, __u32 bits);
/* a struct policy_key4 as the word a slot keeps */
__u64 rules4_key(const struct policy_key4 *k);
/*
 * Adds key k4 (a policy_key4's word) with value v: 0; -EEXIST when it is
 * there; -ENOSPC when no slot is free within RULE_TABLE_PROBES of its home,
 * or (in_place) when the table is past its load limit. Safe beside readers
 * and other adders: the slot is claimed, its value written, then it goes live.
 */
int rules4_add(struct rules4 *t, __u64 k4, const struct policy_value *v, bool in_place);
/* whether rules4_add(in_place) would find room for k4 (or k4 is there) */
bool rules4_room(const struct rules4 *t, __u64 k4);
/* the live slot of k4, or NULL */
struct rule_slot4 *rules4_find(const struct rules4 *t, __u64 k4);
/* revokes k4: its slot a tombstone; 0 or -ENOENT */
int rules4_del(struct rules4 *t, __u64 k4);
/* the i-th slot's entry when it is live (counts, explain): its key and value */
bool rules4_live(const struct rules4 *t, size_t i, struct policy_key4 *k, struct policy_value *v);
/* slots to walk for rules4_live */
static inline size_t rules4_nr_slots(const struct rules4 *t)
{
	return (1u << t->bits) + RULE_TABLE_PROBES;
}

/* the same on the table of fd, mapped for the one call: 0 or -errno (-ENOENT: no such entry) */
int rules4_fd_get(int fd, __u64 k4, struct policy_value *v);
int rules4_fd_add(int fd, __u64 k4, const struct policy_value *v);
int rules4_fd_del(int fd, __u64 k4);
/* whether the table of fd has room in place for k4 (or holds it) */
bool rules4_fd_room(int fd, __u64 k4);

#endif
