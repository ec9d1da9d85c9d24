// SPDX-License-Identifier: GPL-2.0
/*
 * memchase.bpf.c: what one step of a dependent chain costs from a BPF
 * program, over the kinds of memory the 1M-rule lookup touches (bench/memchase.c).
 * Each BPF_PROG_TEST_RUN repetition is one step: the key of the next is in
 * the value of this one, so no two misses overlap.
 *   arr_step   an array map (vmalloc'd, 4 KB pages), as the hash map's buckets
 *   hash_step  a hash map lookup of an 8-byte key (rules4's shape): bucket, element
 *   hash_count the same, and the value's two counters added as count_entry does
 *   dep_tc/xdp a wrapper in front of a program (slot 0 of dep_target): the next
 *              step of a chase over dep_tab, whose entry gives the frame's
 *              destination; the frame cannot be judged before the load is back
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "bench.h"

/* the key of the next step, carried from one repetition to the next */
__u64 cur;

struct step {
	__u64 next;
	__u64 packets;
	__u64 bytes;
};

/* sizes and flags are set by memchase before the load */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, __u64);
	__type(value, __u64);
} hash SEC(".maps");

SEC("tc")
int arr_step(struct __sk_buff *skb)
{
	__u32 i = cur;
	__u64 *v = bpf_map_lookup_elem(&arr, &i);

	if (v)
		cur = *v;
	return TC_ACT_UNSPEC;
}

SEC("tc")
int hash_step(struct __sk_buff *skb)
{
	__u64 k = cur;
	__u64 *v = bpf_map_lookup_elem(&hash, &k);

	if (v)
		cur = *v;
	return TC_ACT_UNSPEC;
}

/* loaded only when the value holds struct step */
SEC("tc")
int hash_count(struct __sk_buff *skb)
{
	__u64 k = cur;
	struct step *v = bpf_map_lookup_elem(&hash, &k);

	if (v) {
		cur = v->next;
		__sync_fetch_and_add(&v->packets, 1);
		__sync_fetch_and_add(&v->bytes, 64);
	}
	return TC_ACT_UNSPEC;
}

/*
 * oa_step: what an open-addressed table would cost instead of the hash map:
 * 32-byte slots (key, rule, flags, the two counters: two a line) in an array
 * map, the key's slot by a multiplicative hash, linear probing; key 0 is an
 * empty slot. The chain's next key is in rule_id (key = index + 1).
 */
struct oa_slot {
	__u64 key;
	__u32 rule_id;
	__u32 flags;
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct oa_slot);
} oa SEC(".maps");

const volatile __u32 oa_shift = 63;
const volatile __u32 oa_mask = 1;

#define OA_MUL 0x9e3779b97f4a7c15ull
#define OA_PROBES 16

SEC("tc")
int oa_step(struct __sk_buff *skb)
{
	__u64 k = cur;
	__u32 h = (k * OA_MUL) >> oa_shift;

	for (int i = 0; i < OA_PROBES; i++) {
		__u32 j = (h + i) & oa_mask;
		struct oa_slot *s = bpf_map_lookup_elem(&oa, &j);

		if (!s || !s->key)
			break;
		if (s->key == k) {
			cur = s->rule_id + 1;
			__sync_fetch_and_add(&s->packets, 1);
			__sync_fetch_and_add(&s->bytes, 64);
			break;
		}
	}
	return TC_ACT_UNSPEC;
}

/* the dependent wrapper's chase: one 64-byte line an entry */
struct dep_entry {
	__u32 next;
	__be32 daddr;
	__be16 dport;
	__u8 pad[54];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dep_entry);
} dep_tab SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} dep_target SEC(".maps");

/* rand: icbench's table (struct bench_dst, 8 bytes an entry) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_dst);
} rnd_tab SEC(".maps");

/* rand: the entry picked at random (bpf_get_prandom_u32, the table a power of two), as
 * icbench's mix wrapper does: no step depends on the one before */
const volatile __u32 dep_rand_mask = 0;

static __always_inline int dep_rewrite(void *data, void *end, const int rand)
{
	__u32 i = rand ? bpf_get_prandom_u32() & dep_rand_mask : cur;

	if (data + BENCH_L4_OFF + 4 > end)
		return -1;
	if (rand) {
		struct bench_dst *d = bpf_map_lookup_elem(&rnd_tab, &i);

		if (!d)
			return -1;
		__builtin_memcpy(data + BENCH_DADDR_OFF, &d->daddr, 4);
		__builtin_memcpy(data + BENCH_L4_OFF + 2, &d->dport, 2);
	} else {
		struct dep_entry *d = bpf_map_lookup_elem(&dep_tab, &i);

		if (!d)
			return -1;
		cur = d->next;
		__builtin_memcpy(data + BENCH_DADDR_OFF, &d->daddr, 4);
		__builtin_memcpy(data + BENCH_L4_OFF + 2, &d->dport, 2);
	}
	return 0;
}

#define DEP_WRAPPERS(name, r)                                                                      \
	SEC("tc")                                                                                  \
	int name##_tc(struct __sk_buff *skb)                                                       \
	{                                                                                          \
		if (dep_rewrite((void *)(long)skb->data, (void *)(long)skb->data_end, r))          \
			return TC_ACT_SHOT;                                                        \
		bpf_tail_call(skb, &dep_target, 0);                                                \
		return TC_ACT_SHOT;                                                                \
	}                                                                                          \
	SEC("xdp")                                                                                 \
	int name##_xdp(struct xdp_md *ctx)                                                         \
	{                                                                                          \
		if (dep_rewrite((void *)(long)ctx->data, (void *)(long)ctx->data_end, r))          \
			return XDP_DROP;                                                           \
		bpf_tail_call(ctx, &dep_target, 0);                                                \
		return XDP_DROP;                                                                   \
	}

DEP_WRAPPERS(dep, 0)
DEP_WRAPPERS(rnd, 1)

SEC("tc")
int empty_tc(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

SEC("xdp")
int empty_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
