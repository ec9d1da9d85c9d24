/* sni_maps.h: the instance's maps for the https stage's server-name check (docs/sni.md): the dispatcher declares them, the loader shares them. */
#ifndef IRONCLAW_PROGS_SNI_MAPS_H
#define IRONCLAW_PROGS_SNI_MAPS_H

#include "common.h"
#include "dns_policy.h"
#include "learn.h"
#include "tls_hello.h"

/*
 * A flow to an address learned from DNS, from its SYN until its hello is
 * judged (and after: retransmitted copies of the hello are judged again).
 * Kept by 5-tuple in an LRU hash, not in the socket's storage: XDP and the
 * test runner have no socket, and every hook must see the same state
 * (docs/sni.md: "Where the state lives").
 */
#define SNI_FLOWS_MAX 16384

enum sni_state {
	SNI_AWAIT = 1, /* SYN seen: the first data byte must begin a ClientHello */
	SNI_OK, /* judged: the hello's bytes (data_seq, hello_len) are judged again when resent */
	SNI_BAD, /* denied: every later segment with data is */
	SNI_OFF, /* a rule with 'sni off' allowed its address: any name */
};

struct sni_flow {
	__u64 cookie; /* the socket's (0: unknown) */
	__u32 data_seq; /* the sequence number of the first data byte (host order) */
	__u32 hello_len; /* SNI_OK: the first record's bytes */
	__u32 state;
	__u32 have; /* SNI_AWAIT: bytes of the hello kept in sni_bufs (its first segments) */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SNI_FLOWS_MAX);
	__type(key, struct learn_flow_key);
	__type(value, struct sni_flow);
} sni_flows SEC(".maps");

/*
 * The first segments of a hello longer than one segment, in order, until the
 * segment that completes its record (docs/sni.md: multi-segment hellos).
 * Twice the size a record may have here: a copy's offset and length are each
 * masked below SNI_BUF_MAX, which the verifier can check.
 */
#define SNI_BUF_MAX 4096
#define SNI_BUFS_MAX 256

struct sni_buf {
	__u8 b[2 * SNI_BUF_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SNI_BUFS_MAX);
	__type(key, struct learn_flow_key);
	__type(value, struct sni_buf);
} sni_bufs SEC(".maps");

/* room to turn a server name into a learn_names key: too big for the stack, so per CPU */
struct sni_work {
	struct dns_name_key key;
	__u8 name[TLS_HELLO_NAME_MAX + 1];
	__u8 starts[TLS_HELLO_NAME_MAX + 1]; /* where each label begins in name */
	__u32 len; /* name bytes */
	__u32 nlabels;
	/* key building (sni_key_step) */
	__u32 li; /* label, counted from the right */
	__u32 j; /* next byte of it in name */
	__u32 end; /* where it ends in name */
	__u32 out; /* next byte of key.name */
	__u32 at_len; /* its length byte comes next */
	__u32 done; /* the key ends with its 0 byte */
	/* the followed names over it (sni_cover_step) */
	__u32 qlen; /* the name's key bytes without its 0 byte */
	__u32 ok; /* one of them allowed the address */
	__u32 named; /* name[] holds the name of the hello judged last (for its denial's record) */
	__u64 now;
	struct learn_rule_key rk;
	struct learned_key lk;
	struct sni_flow flow; /* a new flow's state before it goes into sni_flows, or a dry run's */
};

/*
 * One slot per kind of context: a cgroup_skb program runs in a process's
 * context, where a softirq's tc program can interrupt it on the same CPU;
 * tc and XDP run in softirq or with bottom halves off and do not nest.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct sni_work);
} sni_work SEC(".maps");

/* the calling hook's slot of sni_work */
static __always_inline struct sni_work *sni_work_get(__u8 hook)
{
	__u32 slot = hook == HOOK_CGSKB;

	return bpf_map_lookup_elem(&sni_work, &slot);
}

#endif
