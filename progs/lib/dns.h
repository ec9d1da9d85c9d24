/* dns.h: the DNS stage's shared maps and its query parser, over a copy of the message. */
#ifndef IRONCLAW_PROGS_DNS_H
#define IRONCLAW_PROGS_DNS_H

#include "common.h"
#include "dns_policy.h"

/*
 * The maps below belong to the instance (the dispatcher declares them by
 * including this header, the loader pins and shares them like the control
 * word), so a stage object needs no map of its own for them.
 */

/* allowed query names: see include/dns_policy.h for the key */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 2 * DNS_NAMES_MAX);
	__type(key, struct dns_name_key);
	__type(value, struct dns_name_value);
} dns_names SEC(".maps");

/* allowed query types, per generation */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * DNS_QTYPES_MAX);
	__type(key, struct dns_qtype_key);
	__type(value, __u32);
} dns_qtypes SEC(".maps");

/*
 * Room to parse one query: the message, the key built from its name, where
 * each label starts. Too big for the stack, so per CPU; a program may be
 * interrupted on its CPU by another one that parses too (cgroup_skb runs in
 * process context, tc in softirq), or, where the kernel preempts, preempted
 * by another task's: each user takes a free slot with an atomic fetch-or of
 * its bit (work_slot_get), so no two ever share one, in whatever order they
 * come and go.
 */
#define DNS_WORK_NEST 3
#define DNS_MAX_LABELS 128 /* a 255-byte name has at most 127 labels and the root */

struct dns_work {
	__u8 msg[DNS_MSG_MAX];
	struct dns_name_key key;
	__u8 starts[DNS_MAX_LABELS]; /* each label's length byte, from the name's start */
	__u32 len; /* bytes of the message in msg */
	__u32 pos; /* the parser's position in msg */
	__u32 nlabels;
	__u32 name_len; /* wire bytes of the name without its root label */
	__u32 out; /* key building: next byte of key.name */
	__u32 li; /* key building: label (counted from the left) being copied */
	__u32 lj; /* key building: its byte, 0 = the length byte */
	__u32 result;
};

struct dns_work_cpu {
	__u64 busy; /* bit i: slot i is taken */
	struct dns_work slot[DNS_WORK_NEST];
};

/* a free slot's index, taken; DNS_WORK_NEST when all are (needs -mcpu=v3: fetch-or) */
static __always_inline __u32 work_slot_get(__u64 *busy)
{
	for (__u32 i = 0; i < DNS_WORK_NEST; i++)
		if (!(__sync_fetch_and_or(busy, 1ull << i) & (1ull << i)))
			return i;
	return DNS_WORK_NEST;
}

static __always_inline void work_slot_put(__u64 *busy, __u32 i)
{
	if (i < DNS_WORK_NEST)
		__sync_fetch_and_and(busy, ~(1ull << i));
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dns_work_cpu);
} dns_work SEC(".maps");

/* the caller's slot, or NULL; every non-NULL return is paired with dns_work_put() */
static __always_inline struct dns_work *dns_work_get(struct dns_work_cpu **cpu, __u32 *idx)
{
	__u32 zero = 0;
	struct dns_work_cpu *c = bpf_map_lookup_elem(&dns_work, &zero);

	*cpu = c;
	*idx = DNS_WORK_NEST;
	if (!c)
		return NULL;
	*idx = work_slot_get(&c->busy);
	return *idx < DNS_WORK_NEST ? &c->slot[*idx] : NULL;
}

static __always_inline void dns_work_put(struct dns_work_cpu *c, __u32 idx)
{
	if (c)
		work_slot_put(&c->busy, idx);
}

struct dns_loop_ctx {
	struct dns_work *w;
};

#define DNS_MSG_MASK (DNS_MSG_MAX - 1)
#define DNS_HDR_LEN 12
#define DNS_PARSE_DONE 0xffffu

/*
 * One label of the question's name. Stops at the root label (done), a
 * compression pointer, an extended label type or a label over 63 (both have a
 * first byte of 64-191: an encoder that wrote a long label's length wrote
 * one of these), a name over 255 wire bytes, or the end of the message.
 */
static int dns_label_step(__u32 index, void *data)
{
	struct dns_work *w = ((struct dns_loop_ctx *)data)->w;
	__u32 pos = w->pos, b, used;

	if (pos >= w->len) {
		w->result = REASON_DNS_MALFORMED;
		return 1;
	}
	b = w->msg[pos & DNS_MSG_MASK];
	used = pos - DNS_HDR_LEN;
	if (b == 0) {
		w->name_len = used;
		w->pos = pos + 1;
		w->result = DNS_PARSE_DONE;
		return 1;
	}
	if (b >= 0xc0) {
		w->result = REASON_DNS_COMPRESSION;
		return 1;
	}
	if (b > DNS_LABEL_MAX || used + b + 2 > DNS_WIRE_NAME_MAX) {
		w->result = REASON_DNS_NAME_LEN;
		return 1;
	}
	w->starts[w->nlabels & (DNS_MAX_LABELS - 1)] = used;
	w->nlabels++;
	w->pos = pos + b + 1;
	return 0;
}

/*
 * One byte of the key: the labels from the right, each its length byte then
 * its bytes, lowercase (A-Z only: length bytes are below 64, never letters).
 */
static int dns_key_step(__u32 index, void *data)
{
	struct dns_work *w = ((struct dns_loop_ctx *)data)->w;
	__u32 li = w->li, lj = w->lj, start, len, o = w->out;
	__u8 c;

	if (o >= DNS_NAME_KEY_BYTES || li >= DNS_MAX_LABELS)
		return 1;
	start = DNS_HDR_LEN + w->starts[li & (DNS_MAX_LABELS - 1)];
	len = w->msg[start & DNS_MSG_MASK];
	c = w->msg[(start + lj) & DNS_MSG_MASK];
	if (lj && c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	w->key.name[o] = c;
	w->out = o + 1;
	if (lj < len) {
		w->lj = lj + 1;
	} else {
		if (li == 0)
			return 1; /* the leftmost label is done */
		w->li = li - 1;
		w->lj = 0;
	}
	return 0;
}

/*
 * The name's key, cut at DNS_NAME_KEY_BYTES; an uncut name ends with its 0
 * byte, so exact rules can match it.
 */
static __always_inline void dns_build_key(struct dns_work *w)
{
	struct dns_loop_ctx ctx = { .w = w };
	__u32 n = w->name_len;

	w->out = 0;
	w->lj = 0;
	w->li = w->nlabels ? w->nlabels - 1 : 0;
	if (w->nlabels)
		bpf_loop(DNS_NAME_KEY_BYTES, dns_key_step, &ctx, 0);
	if (n < DNS_NAME_KEY_BYTES) {
		w->key.name[n] = 0;
		n++;
	} else {
		n = DNS_NAME_KEY_BYTES;
	}
	w->key.prefixlen = DNS_NAME_FIXED_BITS + 8 * n;
}

static __always_inline __u32 dns_u16(const struct dns_work *w, __u32 off)
{
	return ((__u32)w->msg[off & DNS_MSG_MASK] << 8) | w->msg[(off + 1) & DNS_MSG_MASK];
}

/*
 * The structure of the query in w->msg (w->len bytes): one question, no
 * answers or authority, at most one additional record (an OPT with a root
 * owner and at most DNS_OPT_DATA_MAX bytes of options), nothing after it.
 * Returns DNS_PARSE_DONE with the name's labels in w and the question's type
 * and class in *qtype, *qclass, or the reason to deny.
 */
static __always_inline __u32 dns_parse_query(struct dns_work *w, __u32 *qtype, __u32 *qclass)
{
	struct dns_loop_ctx ctx = { .w = w };
	__u32 flags, qd, an, ns, ar, pos;

	if (w->len < DNS_HDR_LEN || w->len > DNS_MSG_MAX)
		return REASON_DNS_MALFORMED;
	flags = dns_u16(w, 2);
	/* QR set: an answer, not a query; opcode other than QUERY (0): NOTIFY, UPDATE, ...;
	 * the Z bit and the response code are zero in a query (RFC 1035 4.1.1) */
	if ((flags & 0x8000) || (flags & 0x7800) || (flags & 0x0040) || (flags & 0x000f))
		return REASON_DNS_MALFORMED;
	qd = dns_u16(w, 4);
	an = dns_u16(w, 6);
	ns = dns_u16(w, 8);
	ar = dns_u16(w, 10);
	/* the README's order: the message's structure (dns_malformed), then the question count */
	if (an || ns || ar > 1)
		return REASON_DNS_MALFORMED;
	if (qd != 1)
		return REASON_DNS_QDCOUNT;
	w->pos = DNS_HDR_LEN;
	w->nlabels = 0;
	w->result = REASON_DNS_NAME_LEN;
	bpf_loop(DNS_MAX_LABELS, dns_label_step, &ctx, 0);
	if (w->result != DNS_PARSE_DONE)
		return w->result;
	pos = w->pos;
	if (pos + 4 > w->len)
		return REASON_DNS_MALFORMED;
	*qtype = dns_u16(w, pos);
	*qclass = dns_u16(w, pos + 2);
	pos += 4;
	if (ar) {
		__u32 rdlen;

		/* root owner (1), type (2), class (2), TTL (4), data length (2) */
		if (pos + 11 > w->len || w->msg[pos & DNS_MSG_MASK] != 0 ||
		    dns_u16(w, pos + 1) != DNS_TYPE_OPT)
			return REASON_DNS_MALFORMED;
		rdlen = dns_u16(w, pos + 9);
		if (rdlen > DNS_OPT_DATA_MAX)
			return REASON_DNS_MALFORMED;
		pos += 11 + rdlen;
	}
	if (pos != w->len)
		return REASON_DNS_MALFORMED; /* bytes after the query, or an OPT cut short */
	return DNS_PARSE_DONE;
}

static __always_inline int dns_qtype_allowed(__u8 gen, __u32 qtype)
{
	struct dns_qtype_key k = { .qtype = qtype, .gen = gen };

	return bpf_map_lookup_elem(&dns_qtypes, &k) != NULL;
}

/*
 * The longest name rule over w->key for one tool. A wildcard matched by its
 * own suffix (the query is "internal.corp", the rule "*.internal.corp") does
 * not count: look again for a shorter prefix.
 */
static __always_inline struct dns_name_value *dns_lookup_tool(struct dns_work *w, __u64 tool)
{
	__u32 full = w->key.prefixlen, qlen = w->name_len;
	struct dns_name_value *v;

	w->key.tool = tool;
	v = bpf_map_lookup_elem(&dns_names, &w->key);
	if (v && v->wildcard && v->name_len == qlen) {
		if (v->name_len == 0) {
			v = NULL;
		} else {
			w->key.prefixlen = DNS_NAME_FIXED_BITS + 8 * v->name_len - 1;
			v = bpf_map_lookup_elem(&dns_names, &w->key);
			w->key.prefixlen = full;
		}
	}
	return v;
}

/* the rule for the question's name: the sender's tool first, then every process */
static __always_inline struct dns_name_value *dns_lookup_name(struct dns_work *w, __u8 gen,
							      __u64 tool)
{
	struct dns_name_value *v;

	w->key.gen = gen;
	w->key.pad[0] = w->key.pad[1] = w->key.pad[2] = 0;
	dns_build_key(w);
	v = dns_lookup_tool(w, tool);
	if (!v && tool)
		v = dns_lookup_tool(w, 0);
	return v;
}

/*
 * The whole judgement of a query in w->msg: structure, type, then name.
 * *rule_id is the name rule's counter when REASON_RULE is returned.
 */
static __always_inline __u32 dns_judge_query(struct dns_work *w, __u8 gen, __u64 tool,
					     __u32 *rule_id, __u32 *qtype_out)
{
	struct dns_name_value *v;
	__u32 qtype = 0, qclass = 0, r;

	r = dns_parse_query(w, &qtype, &qclass);
	*qtype_out = qtype;
	if (r != DNS_PARSE_DONE)
		return r;
	if (qclass != DNS_CLASS_IN || !dns_qtype_allowed(gen, qtype))
		return REASON_DNS_QTYPE;
	v = dns_lookup_name(w, gen, tool);
	if (!v)
		return REASON_QNAME;
	*rule_id = v->rule_id;
	return REASON_RULE;
}

#endif
