/* rule_table.h: an exact stage's IPv4 rules of every process (rules4) as an open-addressed table: its slot, hash and probe bound, for the stage and the loader alike. */
#ifndef IRONCLAW_RULE_TABLE_H
#define IRONCLAW_RULE_TABLE_H

#include "policy.h"

/*
 * rules4 is a BPF array (BPF_F_MMAPABLE) of struct rule_slot4: two slots a
 * cache line, the rule's counters in its slot, so that a hit costs the one
 * line the lookup reads. A key lives in the first slot from its home slot
 * (rule_table_home) on that is free, at most RULE_TABLE_PROBES slots on
 * (linear probing): the table has RULE_TABLE_PROBES slots past its 2^bits,
 * so a run never wraps, and one more, the header (struct rule_table_head),
 * which no lookup reaches. The loader makes a table of its own for every
 * generation (2^bits >= 2 x its entries) and fills it through mmap; a key it
 * cannot place within the bound makes it take a bigger one.
 *
 * A slot's key word is the struct policy_key4 of its destination, read as
 * one word, with RULE_SLOT_USED | RULE_SLOT_LIVE: its state and its key in
 * one load. 0 is an empty slot (a lookup stops there); a revoked entry keeps
 * its key without RULE_SLOT_LIVE (a tombstone: a lookup walks past it and no
 * packet's word equals it). A policy_key4's generation byte is 0 or 1, so
 * its top bits are free for the two.
 */
#define RULE_SLOT_LIVE (1ULL << 63)
#define RULE_SLOT_USED (1ULL << 62)
#define RULE_SLOT_EMPTY 0ULL

struct rule_slot4 {
	__u64 key; /* policy_key4 | USED | LIVE; EMPTY; policy_key4 | USED: revoked */
	struct policy_value v;
};

/* the last slot of the table: what the loader keeps of it (the stage never reads it) */
struct rule_table_head {
	__u32 bits; /* the table's 2^bits home slots */
	__u32 pad;
	__u64 used; /* slots not empty: live entries and tombstones */
	__u64 live;
	__u64 pad2;
};

/* slots a lookup reads at most; the loader places every key within them */
#define RULE_TABLE_PROBES 64
#define RULE_TABLE_MIN_BITS 6
#define RULE_TABLE_MAX_BITS 26
/* the 2^bits slots' share an in-place add may fill (live + tombstones), in 1/8 */
#define RULE_TABLE_LOAD_EIGHTHS 6

/* slots of the array for 2^bits home slots: the probe run's tail and the header */
#define RULE_TABLE_SLOTS(bits) ((1u << (bits)) + RULE_TABLE_PROBES + 1u)

/* the multiplier of the multiply-shift hash (2^64 / golden ratio, odd) */
#define RULE_TABLE_MUL 0x9e3779b97f4a7c15ULL

/* the home slot of live key word w in a table of 2^(64 - shift) home slots */
static inline __attribute__((always_inline)) __u32 rule_table_home(__u64 w, __u32 shift)
{
	return (__u32)((w * RULE_TABLE_MUL) >> (shift & 63));
}

/* a struct policy_key4 (its 8 bytes as one word) as a live slot's key word */
static inline __attribute__((always_inline)) __u64 rule_table_word(__u64 key4)
{
	return key4 | RULE_SLOT_USED | RULE_SLOT_LIVE;
}

/*
 * The stage's read-only data for rules4: the shift of its hash, 64 - bits.
 * The loader writes it before each load from the map it hands the stage.
 */
struct rule_table_cfg {
	__u32 shift;
	__u32 pad;
};

_Static_assert(sizeof(struct rule_slot4) == 32, "rule_slot4: two slots a cache line");
_Static_assert(sizeof(struct rule_table_head) == sizeof(struct rule_slot4), "rule_table_head");

#endif
