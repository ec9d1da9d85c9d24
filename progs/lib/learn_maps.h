/* learn_maps.h: the maps of host names that follow DNS, and what stages ask of them. */
#ifndef IRONCLAW_PROGS_LEARN_MAPS_H
#define IRONCLAW_PROGS_LEARN_MAPS_H

#include "common.h"
#include "settings.h"
#include "dns_policy.h"
#include "learn.h"

/*
 * The instance's maps (include/learn.h says what each holds): the
 * dispatcher's learn_tc, the dns stage and the stages that follow names
 * (IRONCLAW_STAGE_FOLLOW_NAMES, include/ironclaw/stage.h) declare them, and
 * the loader shares them like the control word.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 2 * LEARN_NAMES_MAX);
	__type(key, struct dns_name_key);
	__type(value, struct learn_name_value);
} learn_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4 * LEARN_PORTS_MAX);
	__type(key, struct learn_rule_key);
	__type(value, struct learn_rule_value);
} learn_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * LEARN_RESOLVERS_MAX);
	__type(key, struct learn_resolver_key);
	__type(value, __u32);
} learn_resolvers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct learn_config);
} learn_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, LEARN_TOTAL_MAX);
	__type(key, struct learned_key);
	__type(value, struct learned_value);
} learned SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, LEARN_IDS_MAX);
	__type(key, __u32);
	__type(value, struct learn_addr_count);
} learn_addr_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LEARN_PENDING_MAX);
	__type(key, struct learn_pending_key);
	__type(value, struct learn_pending_value);
} learn_pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LEARN_PENDING_MAX);
	__type(key, struct learn_pending_key);
	__type(value, struct learn_port_value);
} learn_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct learn_rate);
} learn_rate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LEARN_FLOWS_MAX);
	__type(key, struct learn_flow_key);
	__type(value, struct learn_flow_value);
} learn_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LEARN_EV_MAX);
	__type(key, __u32);
	__type(value, __u64);
} learn_counts SEC(".maps");

static __always_inline void learn_count(__u32 ev)
{
	__u64 *n;

	if (dry_run)
		return;
	n = bpf_map_lookup_elem(&learn_counts, &ev);
	if (n)
		(*n)++;
}

/*
 * A learnable query is recorded now: 1 while the instance's second has room
 * (the generation's 'dns learn rate'), else 0. Under the lock: the count is exact.
 */
static __always_inline int learn_rate_take(__u8 gen, __u64 now)
{
	__u32 zero = 0, g = gen;
	struct learn_rate *r = bpf_map_lookup_elem(&learn_rate, &zero);
	struct learn_config *c = bpf_map_lookup_elem(&learn_config, &g);
	__u32 cap;
	int ok;

	if (!r || !c)
		return 0;
	cap = c->rate;
	bpf_spin_lock(&r->lock);
	if (now - r->window_ns >= LEARN_RATE_NS) {
		r->window_ns = now;
		r->count = 0;
	}
	ok = r->count < cap;
	if (ok)
		r->count++;
	bpf_spin_unlock(&r->lock);
	return ok;
}

/*
 * A forged answer: every query recorded until now learns nothing, and no
 * query is learnable for the rest of the second.
 */
static __always_inline void learn_rate_forged(__u64 now)
{
	__u32 zero = 0;
	struct learn_rate *r = bpf_map_lookup_elem(&learn_rate, &zero);

	if (!r)
		return;
	bpf_spin_lock(&r->lock);
	r->voided_ns = now;
	if (now - r->window_ns >= LEARN_RATE_NS)
		r->window_ns = now;
	r->count = ~0u;
	bpf_spin_unlock(&r->lock);
}

/*
 * The answer to a query recorded at recorded_ns may teach: no forged answer
 * came since. Under the lock, so that of forged answers handled at once on
 * several CPUs only one is checked before the first wrong one discards.
 */
static __always_inline int learn_rate_valid(__u64 recorded_ns)
{
	__u32 zero = 0;
	struct learn_rate *r = bpf_map_lookup_elem(&learn_rate, &zero);
	int ok;

	if (!r)
		return 0;
	bpf_spin_lock(&r->lock);
	ok = recorded_ns > r->voided_ns;
	bpf_spin_unlock(&r->lock);
	return ok;
}

/*
 * The most specific followed name over key (built by dns_build_key from a
 * name of name_len wire bytes): an exact name, or a wildcard below whose
 * suffix the name is. A wildcard matched by its own suffix (the name is
 * "github.com", the rule "*.github.com") does not count: look again for a
 * shorter prefix (as dns_lookup_tool does for 'allow dns').
 */
static __always_inline struct learn_name_value *learn_name_lookup(struct dns_name_key *key,
								  __u32 name_len)
{
	__u32 full = key->prefixlen;
	struct learn_name_value *v;

	key->tool = 0;
	v = bpf_map_lookup_elem(&learn_names, key);
	if (v && v->wildcard && v->name_len == name_len) {
		if (v->name_len == 0) {
			v = NULL;
		} else {
			key->prefixlen = DNS_NAME_FIXED_BITS + 8 * v->name_len - 1;
			v = bpf_map_lookup_elem(&learn_names, key);
			key->prefixlen = full;
		}
	}
	return v;
}

/* the generation has name rules (cfg: its settings, settings.h) */
static __always_inline int learn_enabled(const struct gen_config *cfg)
{
	return gen_flags(cfg) & GEN_LEARN;
}

/*
 * The first name in the list whose learned address daddr is still valid:
 * 1 and its rule in *rule_id; else 0, with *expired set when one was
 * learned but ran out. want: only that name id (0: any).
 */
static __always_inline int learn_match(const struct learn_rule_value *v, __u8 family,
				       const __u8 *daddr, __u64 now, __u32 want, __u32 *name_id,
				       __u32 *rule_id, int *expired)
{
	struct learned_key k = { .family = family };
	__u32 nr;

	if (!v)
		return 0;
	nr = v->nr;
	__builtin_memcpy(k.addr, daddr, 16);
#pragma unroll
	for (int i = 0; i < LEARN_NAMES_PER_PORT; i++) {
		struct learned_value *l;

		if (i >= nr)
			break;
		if (want && v->e[i].name_id != want)
			continue;
		if (want) {
			*rule_id = v->e[i].rule_id;
			return 1;
		}
		k.name_id = v->e[i].name_id;
		l = bpf_map_lookup_elem(&learned, &k);
		if (!l)
			continue;
		if (l->deadline_ns > now) {
			*name_id = k.name_id;
			*rule_id = v->e[i].rule_id;
			return 1;
		}
		*expired = 1;
	}
	return 0;
}

#endif
