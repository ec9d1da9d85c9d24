/* test_rules4.c: the open-addressed table of an exact stage's IPv4 rules (rules4.c): placing, probing, revoking, its bounds. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "rules4.h"

#define BITS 8 /* 256 home slots */

static struct rules4 t;

static void table_new(void)
{
	void *mem = calloc(RULE_TABLE_SLOTS(BITS), sizeof(struct rule_slot4));

	cr_assert_not_null(mem);
	rules4_over(&t, mem, BITS);
	t.head->bits = BITS;
}

static void table_free(void)
{
	free(t.slots);
}

TestSuite(rules4, .init = table_new, .fini = table_free);

/* the key word of 10.0.x.y (x.y = a) port 443, tcp, generation 1 */
static __u64 key_of(__u32 a)
{
	struct policy_key4 k = { .daddr = __builtin_bswap32(0x0a000000u + a),
				 .dport = __builtin_bswap16(443),
				 .l4proto = 6,
				 .gen = 1 };

	return rules4_key(&k);
}

static __u32 home_of(__u64 k4)
{
	return rule_table_home(rule_table_word(k4), 64 - BITS);
}

/* n keys of one home slot (a collision run), from address `from` on */
static size_t same_home(__u64 *keys, size_t n, __u32 from)
{
	__u32 h = home_of(key_of(from)), a = from;
	size_t got = 0;

	for (; got < n && a < from + 10000000u; a++)
		if (home_of(key_of(a)) == h)
			keys[got++] = key_of(a);
	return got;
}

static void add(__u64 k4, __u32 rule, bool in_place)
{
	struct policy_value v = { .rule_id = rule, .packets = 7, .bytes = 7 };

	cr_assert_eq(rules4_add(&t, k4, &v, in_place), 0, "cannot add rule %u", rule);
}

Test(rules4, a_key_is_found_with_its_rule_and_zero_counters)
{
	struct rule_slot4 *s;

	add(key_of(1), 42, false);
	s = rules4_find(&t, key_of(1));
	cr_assert_not_null(s, "the key added is not found");
	cr_assert_eq(s->v.rule_id, 42);
	cr_assert_eq(s->v.packets + s->v.bytes, 0, "a new entry's counters start at 0");
	cr_assert_eq(s - t.slots, home_of(key_of(1)), "a key alone sits in its home slot");
	cr_assert_null(rules4_find(&t, key_of(2)), "a key not added is found");
	cr_assert_eq(rules4_add(&t, key_of(1), &s->v, true), -EEXIST, "a key added twice");
	cr_assert_eq(t.head->live, 1);
}

Test(rules4, keys_of_one_home_slot_lie_in_a_run_and_are_all_found)
{
	__u64 k[3];

	cr_assert_eq(same_home(k, 3, 1), 3);
	for (__u32 i = 0; i < 3; i++)
		add(k[i], i, false);
	for (__u32 i = 0; i < 3; i++) {
		struct rule_slot4 *s = rules4_find(&t, k[i]);

		cr_assert_not_null(s, "key %u of the run is not found", i);
		cr_assert_eq(s->v.rule_id, i, "key %u found with another's rule", i);
		cr_assert_eq(s - t.slots, home_of(k[0]) + i, "key %u not at its run's place", i);
	}
}

Test(rules4, a_revoked_key_in_the_middle_of_a_run_hides_neither_it_nor_the_rest)
{
	__u64 k[3];

	cr_assert_eq(same_home(k, 3, 1), 3);
	for (__u32 i = 0; i < 3; i++)
		add(k[i], i, false);
	cr_assert_eq(rules4_del(&t, k[1]), 0);
	cr_assert_null(rules4_find(&t, k[1]), "a revoked key is still found");
	cr_assert_not_null(rules4_find(&t, k[2]), "the key past a revoked one is lost");
	cr_assert_eq(rules4_del(&t, k[1]), -ENOENT, "a key revoked twice");
	/* allowed again: a slot past the run, never the revoked one's (rule_table.h) */
	add(k[1], 9, true);
	cr_assert_eq(rules4_find(&t, k[1]) - t.slots, home_of(k[0]) + 3);
	cr_assert_eq(t.slots[home_of(k[0]) + 1].v.rule_id, 1, "the revoked slot was reused");
	cr_assert_eq(t.head->used, 4);
	cr_assert_eq(t.head->live, 3);
}

Test(rules4, no_key_is_placed_past_the_probe_bound)
{
	__u64 k[RULE_TABLE_PROBES + 1];

	cr_assert_eq(same_home(k, RULE_TABLE_PROBES + 1, 1), RULE_TABLE_PROBES + 1);
	for (__u32 i = 0; i < RULE_TABLE_PROBES; i++)
		add(k[i], i, false);
	cr_assert_eq(rules4_add(&t, k[RULE_TABLE_PROBES], &(struct policy_value){}, false), -ENOSPC,
		     "a key placed past the probe bound");
	cr_assert(!rules4_room(&t, k[RULE_TABLE_PROBES]), "room past the probe bound");
	cr_assert_null(rules4_find(&t, k[RULE_TABLE_PROBES]));
	cr_assert_not_null(rules4_find(&t, k[RULE_TABLE_PROBES - 1]), "the run's last key");
}

Test(rules4, an_edit_in_place_stops_at_the_load_limit)
{
	__u32 limit = (1u << BITS) * RULE_TABLE_LOAD_EIGHTHS / 8, n = 0;

	for (__u32 a = 1; n < limit; a++)
		n += rules4_add(&t, key_of(a), &(struct policy_value){}, true) == 0;
	cr_assert_eq(t.head->used, limit);
	cr_assert_eq(rules4_add(&t, key_of(100000), &(struct policy_value){}, true), -ENOSPC,
		     "an edit in place past the load limit");
	cr_assert(!rules4_room(&t, key_of(100000)));
}

Test(rules4, a_table_has_twice_the_home_slots_of_its_entries)
{
	cr_assert_eq(rules4_bits(0), RULE_TABLE_MIN_BITS);
	cr_assert_eq(rules4_bits(1000), 11);
	cr_assert_eq(rules4_bits(1000000), 21);
	cr_assert_eq(rules4_bits_of(RULE_TABLE_SLOTS(21)), 21);
	cr_assert_eq(rules4_bits_of(1u << 21), 0, "a table without its tail and header");
}

/* a table of 2^bits home slots with keys k[] added in order, or in reverse: whether all went in */
static bool all_placed(const __u64 *k, size_t n, __u32 bits, bool reverse)
{
	void *mem = calloc(RULE_TABLE_SLOTS(bits), sizeof(struct rule_slot4));
	struct rules4 big;
	bool ok = mem != NULL;

	rules4_over(&big, mem, bits);
	for (size_t i = 0; ok && i < n; i++)
		ok = !rules4_add(&big, k[reverse ? n - 1 - i : i],
				 &(struct policy_value){ .rule_id = 1 }, false) &&
		     rules4_find(&big, k[reverse ? n - 1 - i : i]);
	free(mem);
	return ok;
}

Test(rules4, keys_that_cluster_get_a_table_big_enough_for_all_of_them)
{
	__u64 k[RULE_TABLE_PROBES + 1];
	size_t n = RULE_TABLE_PROBES + 1, size;

	cr_assert_eq(same_home(k, n, 1), n);
	cr_assert(!all_placed(k, n, rules4_bits(n), false),
		  "the table for their number holds them");
	size = rules4_size_for(k, n);
	cr_assert_gt(rules4_bits(size), rules4_bits(n), "no bigger table for keys that cluster");
	cr_assert(all_placed(k, n, rules4_bits(size), false), "%zu keys in a table for %zu", n,
		  size);
	cr_assert(all_placed(k, n, rules4_bits(size), true), "the same keys in reverse order");
}

Test(rules4, keys_that_spread_keep_the_table_for_their_number)
{
	static __u64 k[20000];

	for (__u32 i = 0; i < 20000; i++)
		k[i] = key_of(i);
	cr_assert_eq(rules4_size_for(k, 20000), 20000);
	cr_assert_eq(rules4_size_for(k, 0), 0);
}
