/* policy.h: keys and values of the instance's policy maps (classes, sources, stage rules, control word). */
#ifndef IRONCLAW_POLICY_H
#define IRONCLAW_POLICY_H

#include <linux/types.h>

/*
 * Every policy map key carries the generation it belongs to. An install
 * writes the next generation beside the running one, then flips the control
 * word: the dispatcher reads it once per packet, so a packet sees either the
 * old policy or the new one, never a mix.
 */
#define CTL_GEN_MASK 0x1u /* bit 0: the generation in force */
#define CTL_BLOCKED 0x2u /* bit 1: deny everything (reason BLOCKED) */

/* per-generation settings, array index = generation */
/*
 * The sandbox's own addresses, when they are a few: compared in place, which
 * costs a packet far less than a lookup in the sources trie. Each is one
 * address; a prefix is never a source.
 */
#define GEN_INLINE_SOURCES 4

struct gen_source {
	__u8 family; /* AF_INET or AF_INET6 */
	__u8 pad[7];
	__u8 addr[16]; /* network order; IPv4 in the first 4 bytes, rest zero */
};

struct gen_config {
	__u32 tool_level; /* cgroup level of the tools (sandbox cgroup level + 1) */
	__u32 flags; /* GEN_* */
	__u32 audit_slots; /* bit s: stage in slot s is in audit mode */
	__u32 nr_sources; /* in src[]; with GEN_SOURCE_MAP the sources map has them all */
	struct gen_source src[GEN_INLINE_SOURCES];
};

#define GEN_HAS_TOOLS 0x1u /* some rule names a tool: look up the sender's tool */
#define GEN_AUDIT 0x2u /* audit mode for the whole instance */
#define GEN_DNS_NAMES 0x4u /* 'allow dns' lines: UDP queries are parsed, TCP DNS denied */
#define GEN_LEARN 0x8u /* 'allow ... name HOST' rules: queries for HOST wait for their answers */
#define GEN_AUDIT_TOOLS 0x20u /* 'audit tool' lines: XDP leaves a stage's denials to tc ingress */
#define GEN_SOURCE_MAP 0x10u /* more sources than src[] holds: ask the map */
#define GEN_WIDE_PORTS 0x40u /* prefixes of exact stages' ports in wide_rules: a second lookup */
#define GEN_ALL_PORTS 0x80u /* all-port rules (port 0) in wide_rules: one more lookup */
#define GEN_FLOWS_AT_CGROUP                                                                        \
	0x100u /* cgroup hooks attached: flows and queries recorded there, not again at tc (event.h) */
#define GEN_SNI                                                                                    \
	0x200u /* a name rule on tcp/443 without 'sni off': its flows name their host (docs/sni.md) */

/* audit_tools map: {generation, tool} of the tools in audit mode */
struct audit_tool_key {
	__u64 tool;
	__u32 gen;
	__u32 pad;
};

/*
 * class map (a BPF array, so one inlined load per packet, no hash): index
 * CLASS_INDEX(generation, udp, destination port in host order) -> the slot
 * of the stage that claims it, 0 for none. The loader writes every port of
 * a protocol: those of a stage's exact classes, the rest from the stage that
 * claims "any other port" of it.
 */
#define CLASS_PORTS 65536u
#define CLASS_ENTRIES (2u * 2u * CLASS_PORTS)
#define CLASS_INDEX(gen, udp, port)                                                                \
	((((__u32)(gen)&1u) * 2u + ((udp) ? 1u : 0u)) * CLASS_PORTS + ((__u32)(port)&0xffffu))

/* 8 bytes: an array's elements are 8-byte aligned, also in its mmap()ed form */
struct class_value {
	__u32 slot;
	__u32 pad;
};

/* rule map of kind STAGE_MAP_EXACT (BPF hash): one destination, protocol, port, tool */
struct policy_key {
	__u8 gen;
	__u8 l4proto;
	__be16 dport; /* network order */
	__u8 family; /* AF_INET or AF_INET6 */
	__u8 pad[3]; /* zero */
	__u64 tool; /* cgroup id of the tool's cgroup; 0 = every process of the sandbox */
	__u8 daddr[16]; /* network order; IPv4 uses the first 4 bytes, rest zero */
} __attribute__((packed, aligned(4)));

/*
 * The same for an IPv4 destination and every process of the sandbox (no
 * tool), in the stage's second map, rules4 (an open-addressed table of one
 * word a key: include/rule_table.h). Rules naming a tool, XDP's markers and
 * IPv6 stay in the map of struct policy_key.
 */
struct policy_key4 {
	__be32 daddr; /* network order */
	__be16 dport; /* network order */
	__u8 l4proto;
	__u8 gen;
};

/* rule map of kind STAGE_MAP_PREFIX (BPF LPM trie) */
struct policy_lpm_key {
	__u32 prefixlen; /* POLICY_LPM_FIXED_BITS + address prefix length */
	struct policy_key k;
};

/* gen, l4proto, dport, family, pad and tool always match in full */
#define POLICY_LPM_FIXED_BITS 128

/*
 * wide_rules (LPM trie, struct policy_lpm_key -> struct policy_value), one
 * per instance, shared by every stage: what a stage's own map does not hold.
 * A prefix for a port of a stage whose map is exact (a hash) has the port in
 * its key; a rule for every port has port POLICY_ALL_PORTS. The port is part
 * of the fixed bits, so a lookup for port P finds the longest prefix among
 * the rules of port P (of one tool) and never one of another port: a /24 for
 * 443 cannot hide a /8 for 8080. Stages ask it only after their own map
 * misses, and only when the generation has such rules (GEN_WIDE_PORTS,
 * GEN_ALL_PORTS).
 */
#define POLICY_ALL_PORTS 0
#define POLICY_WIDE_MAX (1u << 22) /* two generations, each with its XDP marker entries */

/*
 * The value of a rule map's entry (a stage's map, wide_rules). It carries its
 * rule's hits itself: the lookup has just read the entry's line, so counting
 * there costs an allowed packet no miss of its own (a per-CPU array indexed
 * by the rule cost one at 1M rules). Every CPU adds to it, atomically. A
 * rule's total is these, summed over its entries, plus what rule_counts
 * (maps.h) holds for it: hits counted where no entry was at hand (rules
 * baked into a stage, names, learned addresses, copies). The loader writes
 * 0 into both; its readers sum both (loader/counts.c).
 */
struct policy_value {
	__u32 rule_id; /* index of the rule in the installed profile */
	__u32 flags; /* POLICY_F_* */
	__u64 packets; /* hits through this entry (markers of tool rules: never) */
	__u64 bytes;
};

/*
 * A stage's entries of one generation as read-only data of its program
 * (stage_baked, include/ironclaw/stage.h), when they are few: compared in
 * place, which costs a packet less than hashing a key. on = 0: none baked,
 * the stage asks its rule map (which holds the same entries either way).
 */
#define STAGE_BAKED_MAX 16

struct stage_baked_entry {
	struct policy_key k;
	struct policy_value v;
};

/*
 * A slot of stage_baked's table of IPv4 keys of every process (h4[]): the
 * entry's key word (STAGE_BAKED_NONE: an empty slot) and its rule.
 */
struct stage_baked_slot {
	__u64 k4;
	__u32 rule_id;
	__u32 pad;
};

#define STAGE_BAKED_SLOT_BITS 5
#define STAGE_BAKED_SLOTS (1u << STAGE_BAKED_SLOT_BITS)

struct stage_baked {
	__u32 on;
	__u32 nr; /* entries in e[] */
	struct stage_baked_entry e[STAGE_BAKED_MAX];
	/*
	 * e[i]'s key as the struct policy_key4 of an IPv4 destination of every
	 * process, read as one word: an IPv4 packet without a tool compares one
	 * word an entry. STAGE_BAKED_NONE for the other entries and past nr,
	 * which no packet's key is (its generation byte is 0 or 1).
	 */
	__u64 k4[STAGE_BAKED_MAX];
	/*
	 * The same words in a table of STAGE_BAKED_SLOTS where each lies in
	 * slot stage_baked_slot(word, h4_mul), a multiplier the loader picked
	 * so that no two share one: an IPv4 packet without a tool compares
	 * one slot's word. h4_mul 0: none found, the stage walks k4[].
	 */
	__u64 h4_mul;
	__u32 full; /* entries of e[] not in k4[] (a tool's, IPv6): 0, no packet looks there */
	__u32 pad;
	struct stage_baked_slot h4[STAGE_BAKED_SLOTS];
};

/* the slot of key word w in stage_baked's h4[]: the top bits of w times the multiplier */
static inline __attribute__((always_inline)) __u32 stage_baked_slot(__u64 w, __u64 mul)
{
	return (__u32)((w * mul) >> (64 - STAGE_BAKED_SLOT_BITS));
}

#define STAGE_BAKED_NONE (~0ULL)

/*
 * XDP sees no socket, so no tool: its packets carry tool POLICY_TOOL_UNKNOWN,
 * and every rule naming a tool is also in the rule map under that tool, with
 * POLICY_F_TOOL_RULE. Such a match lets the packet on to tc ingress, which
 * knows the tool (reason tool_deferred); no real cgroup id is all ones.
 */
#define POLICY_TOOL_UNKNOWN (~0ULL)
#define POLICY_F_TOOL_RULE 0x1u

/*
 * sources map (LPM trie): the sandbox's own addresses, each one whole address.
 * The value is its bits (32 or 128): the dispatcher counts an entry only when
 * it is the whole address, so a prefix in the trie widens nothing.
 */
struct source_key {
	__u32 prefixlen; /* SOURCE_LPM_FIXED_BITS + 32 or 128 */
	__u8 gen;
	__u8 family;
	__u8 pad[2];
	__u8 addr[16];
};

#define SOURCE_LPM_FIXED_BITS 32

/* per-CPU packet and byte counts, for each reason code and each rule */
struct pkt_count {
	__u64 packets;
	__u64 bytes;
};

_Static_assert(sizeof(struct policy_key) == 32, "policy_key layout");
_Static_assert(sizeof(struct policy_lpm_key) == 36, "policy_lpm_key layout");
_Static_assert(sizeof(struct policy_key4) == 8, "policy_key4 layout");
_Static_assert(sizeof(struct policy_value) == 24, "policy_value layout");
_Static_assert(sizeof(struct stage_baked) == 8 + 64 * STAGE_BAKED_MAX + 16 + 16 * STAGE_BAKED_SLOTS,
	       "stage_baked layout");
_Static_assert(sizeof(struct gen_source) == 24, "gen_source layout");
_Static_assert(sizeof(struct class_value) == 8, "class_value: the array's element stride");
_Static_assert(sizeof(struct gen_config) == 16 + 24 * GEN_INLINE_SOURCES, "gen_config layout");
_Static_assert(sizeof(struct audit_tool_key) == 16, "audit_tool_key layout");
_Static_assert(sizeof(struct source_key) == 24, "source_key layout");
_Static_assert(sizeof(struct pkt_count) == 16, "pkt_count layout");

#endif
