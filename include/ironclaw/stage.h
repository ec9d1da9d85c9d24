/* ironclaw/stage.h: the public, versioned interface a stage object is built against (IRONCLAW_STAGE_API_VERSION). */
#ifndef IRONCLAW_STAGE_API_H
#define IRONCLAW_STAGE_API_H

/*
 * The version of this interface. A stage object carries the version it was
 * built with in its descriptor (struct stage_desc's api; the .rodata.stage
 * section); install and check refuse an object of any other version, and
 * objects built before versions existed, which are version 0: rebuild them
 * with this header. The number goes up with every change a built object
 * depends on: struct pkt_meta or struct stage_pkt, the maps a stage shares
 * with the instance (names, shapes), the descriptor, the entry points.
 */
/*
 * 2: learn_counts grew; learn_ports, learn_rate. 3: wide_rules (prefixes, every port);
 * flow_drops, flow_seen; records have a kind; stage_baked (rules as read-only data).
 * 4: struct policy_value carries its entry's counters (stage_matched_entry); an exact
 * stage has rules4 beside rules (IPv4 rules of every process, struct policy_key4)
 * 5: stage_baked has h4[] (its IPv4 keys of every process by slot) and full
 * 6: a stage's XDP entry marks a frame it allowed for good (struct xdp_pass, xdp_pass_mark;
 * the dispatcher's xdp_marks)
 * 7: rules4 is an open-addressed table (an mmapable array of struct rule_slot4,
 * include/rule_table.h), its hash's shift in stage_rules4
 */
#define IRONCLAW_STAGE_API_VERSION 7

/* how a stage is built (IRONCLAW: a checkout of ironclaw-pipe of the same version) */
#define IRONCLAW_STAGE_BUILD                                                                       \
	"clang -O2 -g -target bpf -mcpu=v3 -I$IRONCLAW/include -I$IRONCLAW/progs "                 \
	"-I/usr/include/$(uname -m)-linux-gnu -c NAME.bpf.c -o NAME.bpf.o"

#ifdef __bpf__
/*
 * A stage object, in one file:
 *
 *	#define IRONCLAW_STAGE_FOLLOW_NAMES     (optional, before the #include)
 *	#include <ironclaw/stage.h>
 *
 *	STAGE_DESCRIBE("postgres", 8, STAGE_MAP_EXACT, STAGE_CLASS(IPPROTO_TCP, 5432));
 *	STAGE_RULES_EXACT();
 *
 *	static __always_inline int judge_postgres(const struct stage_pkt *pkt)
 *	{
 *		return STAGE_LOOKUP_EXACT(pkt);
 *	}
 *
 *	STAGE_PROGRAMS(judge_postgres);
 *
 * What a stage may use, and nothing else of the pipeline's headers:
 *   STAGE_DESCRIBE, STAGE_CLASS          what it is (include/stage_desc.h: slots, map kinds)
 *   STAGE_RULES_EXACT, STAGE_RULES_PREFIX its rule map, `rules` (STAGE_RULES_MAX)
 *   struct stage_pkt                     the packet: the dispatcher's pkt_meta, the addresses
 *   STAGE_LOOKUP_EXACT, STAGE_LOOKUP_PREFIX, STAGE_RULE_ENTRY, stage_key, stage_matched,
 *   stage_matched_entry                  the rule of a packet, as a reason (include/reason.h):
 *                                        stage_matched for a copy of a value (counted in
 *                                        rule_counts), stage_matched_entry for a pointer
 *                                        into a rule map (counted in the entry itself)
 *   stage_wide_rule                      for a stage that looks up its map itself: the
 *                                        rules its map does not hold (prefixes when the map
 *                                        is exact, rules for every port), after its own
 *                                        lookup missed
 *   STAGE_PROGRAMS, STAGE_PROGRAMS_PAYLOAD
 *                                        the entry point of every hook around its judge
 *   dry_run                              explain's copy: judge, record nothing
 *
 * IRONCLAW_STAGE_FOLLOW_NAMES: the stage also allows the addresses learned
 * from DNS for name rules of its classes ('allow tcp name HOST port N'), and
 * the flows they began, where its rule map has no entry (stage_learned). It
 * then shares the instance's learn_* maps; a stage without it has none, and
 * name rules for its classes allow nothing.
 */
#include "lib/stage.h"

#ifdef IRONCLAW_STAGE_FOLLOW_NAMES
#include "lib/stage_learned.h"
#define STAGE_NOT_IN_RULES(pkt) stage_learned(pkt)
/* beside the descriptor: the loader sends name rules only to stages that say this */
const volatile __u32 stage_follows_names SEC(STAGE_DESC_SECTION) = 1;
#else
#define STAGE_NOT_IN_RULES(pkt) REASON_NO_RULE
#endif

#define STAGE_CLASS(proto, p)                                                                      \
	{                                                                                          \
		.l4proto = (proto), .port = (p)                                                    \
	}

/*
 * STAGE_DESCRIBE("name", slot, map kind, classes...): the descriptor the
 * loader reads from the object before loading it; it carries the version of
 * this header the object was built with.
 */
#define STAGE_DESCRIBE(NAME, SLOT, KIND, ...)                                                      \
	const volatile struct stage_desc stage_desc SEC(STAGE_DESC_SECTION) = {                    \
		.abi = STAGE_DESC_ABI,                                                             \
		.api = IRONCLAW_STAGE_API_VERSION,                                                 \
		.name = NAME,                                                                      \
		.slot = SLOT,                                                                      \
		.map_kind = KIND,                                                                  \
		.nr_classes = sizeof((struct stage_class[]){ __VA_ARGS__ }) /                      \
			      sizeof(struct stage_class),                                          \
		.classes = { __VA_ARGS__ },                                                        \
	}

/* the loader sizes each rule map for its profile; this is only the object's default */
#ifndef STAGE_RULES_MAX
#define STAGE_RULES_MAX 1024
#endif

/*
 * The stage's own rule maps; the loader pins them once per instance and
 * stage. An exact stage has two: rules4 for an IPv4 destination of every
 * process (an open-addressed table of struct policy_key4 keys, 32-byte slots:
 * include/rule_table.h; stage_rules4 its hash's shift), rules for the rest (a tool's
 * rules, XDP's markers of them, IPv6: struct policy_key).
 * Beside it, stage_baked (lib/stage.h): when the generation gives the stage
 * at most STAGE_BAKED_MAX entries, the loader writes them into the program's
 * read-only data before it loads it (every switch loads the stages afresh),
 * and STAGE_LOOKUP_EXACT compares them in place instead of hashing a key.
 */
#define STAGE_RULES_EXACT()                                                                        \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_HASH);                                                   \
		__uint(map_flags, BPF_F_NO_PREALLOC);                                              \
		__uint(max_entries, STAGE_RULES_MAX);                                              \
		__type(key, struct policy_key);                                                    \
		__type(value, struct policy_value);                                                \
	} rules SEC(".maps");                                                                      \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_ARRAY);                                                  \
		__uint(map_flags, BPF_F_MMAPABLE);                                                 \
		__uint(max_entries, RULE_TABLE_SLOTS(RULE_TABLE_MIN_BITS));                        \
		__type(key, __u32);                                                                \
		__type(value, struct rule_slot4);                                                  \
	} rules4 SEC(".maps");                                                                     \
	const volatile struct rule_table_cfg stage_rules4 = { .shift = 64 - RULE_TABLE_MIN_BITS }; \
	const volatile struct stage_baked stage_baked = {}

#define STAGE_RULES_PREFIX()                                                                       \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);                                               \
		__uint(map_flags, BPF_F_NO_PREALLOC);                                              \
		__uint(max_entries, STAGE_RULES_MAX);                                              \
		__type(key, struct policy_lpm_key);                                                \
		__type(value, struct policy_value);                                                \
	} rules SEC(".maps")

/*
 * The entry of an exact stage's maps for the packet's destination: the
 * sender's tool's first (rules), then every process's: an IPv4 destination's
 * in rules4, an IPv6 one's in rules. NULL: none.
 */
#define STAGE_RULE_ENTRY(pkt)                                                                      \
	({                                                                                         \
		struct policy_value *__e = NULL;                                                   \
                                                                                                   \
		if ((pkt)->meta.tool)                                                              \
			__e = stage_rule_of(&rules, (pkt), (pkt)->meta.tool);                      \
		if (!__e)                                                                          \
			__e = (pkt)->meta.family == AF_INET ?                                      \
				      stage_rule4_of(&rules4, stage_rules4.shift, (pkt)) :         \
				      stage_rule_of(&rules, (pkt), 0);                             \
		__e;                                                                               \
	})

/*
 * Exact match on {generation, protocol, port, family, tool, destination}:
 * the sender's tool first, then rules for every process of the sandbox; then
 * the prefixes for the port and the rules for every port, which the loader
 * keeps in the instance's wide_rules (stage_wide_rule); no rule: an address
 * learned from DNS when the stage follows names, else REASON_NO_RULE.
 */
#define STAGE_LOOKUP_EXACT(pkt)                                                                    \
	({                                                                                         \
		const volatile struct stage_baked_slot *__s;                                       \
		const struct policy_value *__b = NULL;                                             \
		struct policy_value *__v = NULL;                                                   \
		int __reason = -1;                                                                 \
                                                                                                   \
		if (stage_baked.on) {                                                              \
			struct policy_key __k = {};                                                \
                                                                                                   \
			/* full 0: every entry is in k4[] (the loader knows; a constant here) */   \
			if (stage_baked.full && (pkt)->meta.tool) {                                \
				stage_key(&__k, (pkt));                                            \
				__b = stage_baked_find(&stage_baked, &__k);                        \
			}                                                                          \
			if (!__b && (pkt)->meta.family == AF_INET) {                               \
				__u64 __m = stage_baked.h4_mul, __w;                               \
                                                                                                   \
				if (__m) {                                                         \
					/* a hit decided here: nothing live across the misses' */  \
					__w = stage_key4_word(pkt);                                \
					__s = stage_baked_slot4(&stage_baked, __w, __m);           \
					if (__s->k4 == __w)                                        \
						__reason = stage_matched_id(__s->rule_id, (pkt));  \
				} else {                                                           \
					__b = stage_baked_find4(&stage_baked, (pkt));              \
				}                                                                  \
			} else if (!__b && stage_baked.full) {                                     \
				stage_key(&__k, (pkt));                                            \
				__k.tool = 0;                                                      \
				__b = stage_baked_find(&stage_baked, &__k);                        \
			}                                                                          \
		} else {                                                                           \
			__v = STAGE_RULE_ENTRY(pkt);                                               \
		}                                                                                  \
		if (__reason < 0) {                                                                \
			if (!__b && !__v)                                                          \
				__v = stage_wide_rule((pkt), 1);                                   \
			__reason = __b ? stage_matched(__b, (pkt)) :                               \
				   __v ? stage_matched_entry(__v, (pkt)) :                         \
					 STAGE_NOT_IN_RULES(pkt);                                  \
		}                                                                                  \
		__reason;                                                                          \
	})

/*
 * Longest prefix over the destination, the other fields matched in full;
 * tool first; then the rules for every port (stage_wide_rule).
 */
#define STAGE_LOOKUP_PREFIX(pkt)                                                                   \
	({                                                                                         \
		struct policy_lpm_key __k = { .prefixlen = POLICY_LPM_FIXED_BITS + 128 };          \
		void *__v;                                                                         \
                                                                                                   \
		stage_key(&__k.k, (pkt));                                                          \
		__v = bpf_map_lookup_elem(&rules, &__k);                                           \
		if (!__v && __k.k.tool) {                                                          \
			__k.k.tool = 0;                                                            \
			__v = bpf_map_lookup_elem(&rules, &__k);                                   \
		}                                                                                  \
		if (!__v)                                                                          \
			__v = stage_wide_rule((pkt), 0);                                           \
		__v ? stage_matched_entry(__v, (pkt)) : STAGE_NOT_IN_RULES(pkt);                   \
	})

/*
 * STAGE_PROGRAMS_PAYLOAD(judge_skb, judge_xdp, judge): the thin per-hook entry
 * points (stage_tc, stage_cgskb, stage_connect4, ...), one per row of the hook
 * table, for a stage that reads the payload at the packet hooks. judge_skb is
 * `static __always_inline int judge_skb(struct __sk_buff *skb, const struct stage_pkt *pkt)`,
 * judge_xdp the same over `struct xdp_md *`; connect() and sendto() have no
 * payload yet and get judge(pkt). Each returns a reason code.
 */
#define STAGE_PROGRAMS_PAYLOAD(judge_skb, judge_xdp, judge)                                        \
	STAGE_PROGRAMS_AT(judge_skb, judge_xdp, judge, 1)

/* payload: a constant, 1 when the judges read the payload (no frame is marked at XDP) */
#define STAGE_PROGRAMS_AT(judge_skb, judge_xdp, judge, payload)                                    \
	static __always_inline int stage_marks_xdp(void)                                           \
	{                                                                                          \
		return !(payload);                                                                 \
	}                                                                                          \
	static __always_inline int stage_judge_skb(struct __sk_buff *skb,                          \
						   const struct stage_pkt *pkt)                    \
	{                                                                                          \
		return judge_skb(skb, pkt);                                                        \
	}                                                                                          \
	static __always_inline int stage_judge_xdp(struct xdp_md *ctx,                             \
						   const struct stage_pkt *pkt)                    \
	{                                                                                          \
		return judge_xdp(ctx, pkt);                                                        \
	}                                                                                          \
	static __always_inline int stage_judge_sock(const struct stage_pkt *pkt)                   \
	{                                                                                          \
		return judge(pkt);                                                                 \
	}                                                                                          \
	HOOK_TABLE(STAGE_ENTRY_ROW)                                                                \
	char LICENSE[] SEC("license") = "GPL"

/*
 * STAGE_PROGRAMS(judge): the same for a stage whose judge reads no payload:
 * `static __always_inline int judge(const struct stage_pkt *pkt)` returning
 * a reason code, written once and run at every hook.
 */
#define STAGE_PROGRAMS(judge)                                                                      \
	static __always_inline int stage_judge_pkt(void *ctx, const struct stage_pkt *pkt)         \
	{                                                                                          \
		(void)ctx;                                                                         \
		return judge(pkt);                                                                 \
	}                                                                                          \
	STAGE_PROGRAMS_AT(stage_judge_pkt, stage_judge_pkt, judge, 0)

#endif /* __bpf__ */

#endif
