/* test_stage_baked.c: the table by slot of a stage's baked IPv4 keys (stage_baked_hash). */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/socket.h>
#include "pipeline_fill.h"

/* b with n IPv4 keys of every process: 10.64.0.i port 1032, udp, generation gen */
static void baked_of(struct stage_baked *b, size_t n, __u8 gen)
{
	memset(b, 0, sizeof(*b));
	for (size_t i = 0; i < STAGE_BAKED_MAX; i++)
		b->k4[i] = STAGE_BAKED_NONE;
	for (size_t i = 0; i < n; i++) {
		struct policy_key4 k = { .daddr = __builtin_bswap32(0x0a400000u | (__u32)i),
					 .dport = __builtin_bswap16(1032),
					 .l4proto = 17,
					 .gen = gen };

		memcpy(&b->k4[i], &k, sizeof(k));
		b->e[i].v.rule_id = 100 + (__u32)i;
	}
	b->nr = (__u32)n;
}

/* every key in the slot the stage computes, with its rule; every other slot empty */
static void expect_table(const struct stage_baked *b)
{
	size_t filled = 0;

	cr_assert_neq(b->h4_mul, 0, "no multiplier");
	for (size_t i = 0; i < b->nr; i++) {
		const struct stage_baked_slot *s = &b->h4[stage_baked_slot(b->k4[i], b->h4_mul)];

		if (b->k4[i] == STAGE_BAKED_NONE)
			continue;
		cr_expect_eq(s->k4, b->k4[i], "key %zu not in its slot", i);
		cr_expect_eq(s->rule_id, b->e[i].v.rule_id, "key %zu: rule %u", i, s->rule_id);
		filled++;
	}
	for (size_t i = 0; i < STAGE_BAKED_SLOTS; i++)
		filled -= b->h4[i].k4 != STAGE_BAKED_NONE;
	cr_expect_eq(filled, 0, "slots filled that hold no key");
}

Test(stage_baked, sixteen_keys_each_in_its_own_slot)
{
	struct stage_baked b;

	for (__u8 gen = 0; gen < 2; gen++) {
		baked_of(&b, STAGE_BAKED_MAX, gen);
		cr_assert_eq(stage_baked_hash(&b, STAGE_BAKED_HASH_TRIES), 0, "generation %u", gen);
		expect_table(&b);
	}
}

Test(stage_baked, entries_not_ipv4_of_every_process_stay_out)
{
	struct stage_baked b;

	baked_of(&b, 8, 1);
	b.k4[3] = STAGE_BAKED_NONE; /* a tool's or an IPv6 entry */
	b.k4[6] = STAGE_BAKED_NONE;
	cr_assert_eq(stage_baked_hash(&b, STAGE_BAKED_HASH_TRIES), 0);
	expect_table(&b);
}

/* keys that share a slot under the first multiplier tried: the picker goes on to another */
Test(stage_baked, colliding_keys_resolved)
{
	struct stage_baked b, one;
	__u64 first;

	baked_of(&one, 1, 0);
	cr_assert_eq(stage_baked_hash(&one, 1), 0);
	first = one.h4_mul;
	/* a second key in the first multiplier's slot of key 0 */
	baked_of(&b, 2, 0);
	for (__u32 a = 1;; a++) {
		struct policy_key4 k = { .daddr = __builtin_bswap32(0x0a400000u + a),
					 .dport = __builtin_bswap16(1032),
					 .l4proto = 17 };

		memcpy(&b.k4[1], &k, sizeof(k));
		if (stage_baked_slot(b.k4[1], first) == stage_baked_slot(b.k4[0], first))
			break;
		cr_assert_lt(a, 1u << 20, "no key in key 0's slot");
	}
	cr_expect_eq(stage_baked_hash(&b, 1), -ENOENT, "one try cannot place them");
	cr_expect_eq(b.h4_mul, 0, "a failed pick leaves the table unused");
	cr_assert_eq(stage_baked_hash(&b, STAGE_BAKED_HASH_TRIES), 0);
	cr_expect_neq(b.h4_mul, first);
	expect_table(&b);
}

/* two equal keys can share no table: the stage walks k4[] (h4_mul 0) */
Test(stage_baked, equal_keys_fall_back)
{
	struct stage_baked b;

	baked_of(&b, 4, 0);
	b.k4[2] = b.k4[1];
	cr_expect_eq(stage_baked_hash(&b, 4096), -ENOENT);
	cr_expect_eq(b.h4_mul, 0);
}

Test(stage_baked, no_keys)
{
	struct stage_baked b;

	baked_of(&b, 0, 0);
	cr_assert_eq(stage_baked_hash(&b, 1), 0);
	expect_table(&b);
}
