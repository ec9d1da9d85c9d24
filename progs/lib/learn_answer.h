/* learn_answer.h: the learning program's parser: a resolver's answer to a waiting query, its CNAME chain, its addresses. */
#ifndef IRONCLAW_PROGS_LEARN_ANSWER_H
#define IRONCLAW_PROGS_LEARN_ANSWER_H

#include "dns.h"
#include "events.h"
#include "learn_maps.h"

#define DNS_TYPE_A 1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_AAAA 28
#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_TC 0x0200
#define DNS_OPCODE_MASK 0x7800
#define DNS_RCODE_MASK 0x000f
/* compression pointers one name may follow */
#define LEARN_NAME_JUMPS 16

#define LEARN_MSG_MASK (LEARN_MSG_MAX - 1)

/*
 * Room to read one answer: the message in a buffer of its own (msg, up to
 * LEARN_MSG_MAX bytes), its first DNS_MSG_MAX bytes again in dw.msg, where
 * the question is parsed and keyed (dw.key) as the dns stage does queries,
 * and the chain's current name, written out in full (labels with their
 * length bytes, lowercase, the root's 0 byte).
 */
struct learn_work {
	struct dns_work dw;
	__u8 msg[LEARN_MSG_MAX];
	__u32 len; /* bytes of the message in msg */
	__u32 cut; /* 1: the message goes on past msg: what lies beyond is not read */
	__u32 pos; /* the next record */
	__u8 cur[256];
	__u32 cur_len;
	/* one name being read: from fpos, fleft bytes left of the label, fout written */
	__u32 fpos, fleft, fout, fend, flimit, fjumps;
	__u32 fcmp; /* 1: compare with cur instead of writing it */
	__u32 fmis; /* compare: a byte differed */
	__u32 fbad; /* not a well-formed name */
	__u32 fshort; /* it runs past the bytes read */
	/* the answer's settings and what it asked */
	__u64 now;
	__u32 name_id, qtype, chain, stop;
	__u32 resolver; /* the answer's resolver's index (learn_resolvers) */
	__u8 raddr[16]; /* and its address */
	/* the address being learned */
	__u8 addr[16];
	__u32 family;
};

struct learn_work_cpu {
	__u64 busy; /* bit i: slot i is taken (dns.h: work_slot_get) */
	struct learn_work slot[DNS_WORK_NEST];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct learn_work_cpu);
} learn_work SEC(".maps");

static __always_inline struct learn_work *learn_work_get(struct learn_work_cpu **cpu, __u32 *idx)
{
	__u32 zero = 0;
	struct learn_work_cpu *c = bpf_map_lookup_elem(&learn_work, &zero);

	*cpu = c;
	*idx = DNS_WORK_NEST;
	if (!c)
		return NULL;
	*idx = work_slot_get(&c->busy);
	return *idx < DNS_WORK_NEST ? &c->slot[*idx] : NULL;
}

static __always_inline void learn_work_put(struct learn_work_cpu *c, __u32 idx)
{
	if (c)
		work_slot_put(&c->busy, idx);
}

struct learn_loop_ctx {
	struct learn_work *lw;
};

static __always_inline void learn_emit(struct learn_work *lw, __u32 o, __u8 b)
{
	if (lw->fcmp)
		lw->fmis |= lw->cur[o & 255] != b;
	else
		lw->cur[o & 255] = b;
}

/*
 * One byte of a name, compression pointers followed: each must point before
 * the name's start and before the last one's target (no loops), at most
 * LEARN_NAME_JUMPS of them, labels of at most 63, 255 bytes in all.
 */
static int learn_name_step(__u32 index, void *data)
{
	struct learn_work *lw = ((struct learn_loop_ctx *)data)->lw;
	__u32 pos = lw->fpos, o = lw->fout, b, t;

	if (pos >= lw->len || o >= DNS_WIRE_NAME_MAX) {
		lw->fshort = pos >= lw->len;
		lw->fbad = 1;
		return 1;
	}
	b = lw->msg[pos & LEARN_MSG_MASK];
	if (lw->fleft) {
		if (b >= 'A' && b <= 'Z')
			b += 'a' - 'A';
		learn_emit(lw, o, b);
		lw->fleft--;
		lw->fpos = pos + 1;
		lw->fout = o + 1;
		return 0;
	}
	if (b == 0) {
		learn_emit(lw, o, 0);
		lw->fout = o + 1;
		if (!lw->fend)
			lw->fend = pos + 1;
		return 1;
	}
	if (b >= 0xc0) {
		if (pos + 1 >= lw->len || ++lw->fjumps > LEARN_NAME_JUMPS) {
			lw->fshort = pos + 1 >= lw->len;
			lw->fbad = 1;
			return 1;
		}
		t = ((b & 0x3f) << 8) | lw->msg[(pos + 1) & LEARN_MSG_MASK];
		if (t >= lw->flimit || t < DNS_HDR_LEN) {
			lw->fbad = 1;
			return 1;
		}
		if (!lw->fend)
			lw->fend = pos + 2;
		lw->flimit = t;
		lw->fpos = t;
		return 0;
	}
	if (b > DNS_LABEL_MAX || o + b + 2 > DNS_WIRE_NAME_MAX) {
		lw->fbad = 1;
		return 1;
	}
	learn_emit(lw, o, b);
	lw->fleft = b;
	lw->fpos = pos + 1;
	lw->fout = o + 1;
	return 0;
}

/*
 * The name at pos, written into cur (cmp 0) or compared with it (cmp 1).
 * 0 with lw->fend where the name ends in the record, or -1 when malformed.
 */
static __always_inline int learn_read_name(struct learn_work *lw, __u32 pos, __u32 cmp)
{
	struct learn_loop_ctx ctx = { .lw = lw };

	lw->fpos = pos;
	lw->fleft = 0;
	lw->fout = 0;
	lw->fend = 0;
	lw->flimit = pos;
	lw->fjumps = 0;
	lw->fcmp = cmp;
	lw->fmis = 0;
	lw->fbad = 0;
	lw->fshort = 0;
	bpf_loop(DNS_WIRE_NAME_MAX + LEARN_NAME_JUMPS + 1, learn_name_step, &ctx, 0);
	if (lw->fbad || !lw->fend)
		return -1;
	if (cmp)
		lw->fmis |= lw->fout != lw->cur_len;
	else
		lw->cur_len = lw->fout;
	return 0;
}

static __always_inline int learn_same_addr(const __u8 *a, const __u8 *b)
{
	__u32 x[4], y[4];

	__builtin_memcpy(x, a, 16);
	__builtin_memcpy(y, b, 16);
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

/* one entry of name_id's in learned is gone: its places back */
static __always_inline void learn_count_put(__u32 name_id)
{
	__u32 zero = 0;
	struct learn_addr_count *c = bpf_map_lookup_elem(&learn_addr_counts, &name_id);
	struct learn_addr_count *t = bpf_map_lookup_elem(&learn_addr_counts, &zero);

	if (c)
		__sync_fetch_and_sub(&c->n, 1);
	if (t)
		__sync_fetch_and_sub(&t->n, 1);
}

/*
 * A place for one more address of name_id: 0, or the bound that refuses it
 * (LEARN_EV_CAP: the name's max-addresses, LEARN_EV_TOTAL: the instance's
 * max-total). Taken before the entry is added, so CPUs adding at once never
 * pass a bound together.
 */
static __always_inline __u32 learn_count_take(__u32 name_id, const struct learn_config *lc)
{
	__u32 zero = 0;
	struct learn_addr_count *c = bpf_map_lookup_elem(&learn_addr_counts, &name_id);
	struct learn_addr_count *t = bpf_map_lookup_elem(&learn_addr_counts, &zero);

	if (!c || !t || !name_id)
		return LEARN_EV_CAP;
	if (__sync_fetch_and_add(&c->n, 1) >= lc->max_addrs) {
		__sync_fetch_and_sub(&c->n, 1);
		return LEARN_EV_CAP;
	}
	if (__sync_fetch_and_add(&t->n, 1) >= lc->max_total) {
		__sync_fetch_and_sub(&t->n, 1);
		__sync_fetch_and_sub(&c->n, 1);
		return LEARN_EV_TOTAL;
	}
	return 0;
}

struct learn_gc_ctx {
	__u64 now;
};

/* an expired address gives up its place (one CPU's delete succeeds: counted once) */
static long learn_gc_step(void *map, struct learned_key *k, struct learned_value *v,
			  struct learn_gc_ctx *ctx)
{
	if (v->deadline_ns <= ctx->now && !bpf_map_delete_elem(map, k))
		learn_count_put(k->name_id);
	return 0;
}

/*
 * A bound is reached: every expired address (of any name) is deleted, at
 * most once every LEARN_GC_NS for the instance (a walk of learned).
 */
static __always_inline void learn_gc(__u64 now)
{
	struct learn_gc_ctx ctx = { .now = now };
	__u32 zero = 0;
	struct learn_addr_count *t = bpf_map_lookup_elem(&learn_addr_counts, &zero);
	__u64 last;

	if (!t)
		return;
	last = t->gc_ns;
	if ((last && now - last < LEARN_GC_NS) ||
	    __sync_val_compare_and_swap(&t->gc_ns, last, now) != last)
		return;
	bpf_for_each_map_elem(&learned, learn_gc_step, &ctx, 0);
}

/*
 * An address not learned at a bound: logged as an event of the learning
 * program (learn_tc, a tc program): from the resolver (saddr, port 53), the
 * address refused as daddr, reason REASON_LEARN_BOUND.
 */
static __always_inline void learn_bound_event(const struct learn_work *lw)
{
	struct deny_event *e;

	if (dry_run)
		return;
	e = event_reserve(0, 0);
	if (!e)
		return;
	e->hook = HOOK_TC;
	e->reason = REASON_LEARN_BOUND;
	e->family = lw->family;
	e->l4proto = IPPROTO_UDP;
	e->sport = bpf_htons(53);
	__builtin_memcpy(e->saddr, lw->raddr, 16);
	__builtin_memcpy(e->daddr, lw->addr, 16);
	bpf_ringbuf_submit(e, 0);
}

/*
 * An address of the asked name: the same address again renews its entry;
 * a new one takes a place under the name's and the instance's bounds (an
 * expired one gives its place up when a bound is reached), else it is not
 * learned: counted and logged. Never fails open: what is not learned is
 * not allowed.
 */
static __always_inline void learn_address(struct learn_work *lw, __u32 rd,
					  const struct learn_config *lc, __u32 ttl)
{
	struct learned_key lk = { .name_id = lw->name_id, .family = lw->family };
	struct learned_value lv = {}, *l;
	__u32 i, n = lw->family == AF_INET ? 4 : 16, bound;

	__builtin_memset(lw->addr, 0, 16);
	for (i = 0; i < 16; i++)
		if (i < n)
			lw->addr[i] = lw->msg[(rd + i) & LEARN_MSG_MASK];
	if (ttl > lc->max_ttl_s)
		ttl = lc->max_ttl_s;
	lv.deadline_ns = lw->now + ((__u64)ttl + lc->grace_s) * 1000000000ull;
	lv.learned_ns = lw->now;
	lv.ttl = ttl;
	__builtin_memcpy(lk.addr, lw->addr, 16);
	l = bpf_map_lookup_elem(&learned, &lk);
	if (l) {
		*l = lv;
		learn_count(LEARN_EV_LEARNED);
		return;
	}
	bound = learn_count_take(lw->name_id, lc);
	if (bound) {
		learn_gc(lw->now);
		bound = learn_count_take(lw->name_id, lc);
	}
	if (!bound && bpf_map_update_elem(&learned, &lk, &lv, BPF_NOEXIST)) {
		/* another CPU added it first (renew it), or learned is full */
		learn_count_put(lw->name_id);
		l = bpf_map_lookup_elem(&learned, &lk);
		if (!l)
			bound = LEARN_EV_TOTAL;
		else
			*l = lv;
	}
	if (bound) {
		learn_count(bound);
		learn_bound_event(lw);
		return;
	}
	learn_count(LEARN_EV_LEARNED);
}

static __always_inline __u32 learn_u16(const struct learn_work *lw, __u32 off)
{
	return ((__u32)lw->msg[off & LEARN_MSG_MASK] << 8) | lw->msg[(off + 1) & LEARN_MSG_MASK];
}

/*
 * A record that does not end inside the bytes read: when the message goes
 * on past the buffer (lw->cut), the rest of the answer is not read
 * (LEARN_EV_TOO_BIG); else the message is cut short (LEARN_EV_MALFORMED).
 * Either way nothing more of it is learned. Returns 1 (the loop stops).
 */
static __always_inline int learn_record_short(struct learn_work *lw, __u32 end_short)
{
	learn_count(LEARN_EV_MALFORMED + (lw->cut & end_short));
	lw->stop |= 1;
	return 1;
}

/*
 * One answer record at lw->pos: on the chain (its owner is the current
 * name) a CNAME moves the chain on, an address of the asked type is
 * learned; anything else is skipped and counted. Stops at the end or a bad
 * record: a record is read only when it lies wholly inside the bytes read.
 */
static int learn_record_step(__u32 index, void *data)
{
	struct learn_work *lw = ((struct learn_loop_ctx *)data)->lw;
	__u32 gen = lw->stop >> 16, pos = lw->pos, type, class, ttl, rdlen, rd;
	struct learn_config *lc;

	if (index >= LEARN_RECORDS_MAX || (lw->stop & 0xffff))
		return 1;
	if (learn_read_name(lw, pos, 1))
		return learn_record_short(lw, lw->fshort);
	pos = lw->fend;
	if (pos + 10 > lw->len)
		return learn_record_short(lw, 1);
	type = learn_u16(lw, pos);
	class = learn_u16(lw, pos + 2);
	ttl = learn_u16(lw, pos + 4) << 16 | learn_u16(lw, pos + 6);
	rdlen = learn_u16(lw, pos + 8);
	rd = pos + 10;
	if (rd + rdlen > lw->len)
		return learn_record_short(lw, 1);
	lw->pos = rd + rdlen;
	if (ttl & 0x80000000)
		ttl = 0; /* RFC 2181 8: a TTL with the top bit set is zero */
	if (class != DNS_CLASS_IN || lw->fmis) {
		learn_count(LEARN_EV_OFF_CHAIN);
		return 0;
	}
	if (type == DNS_TYPE_CNAME) {
		if (++lw->chain > LEARN_CHAIN_MAX) {
			learn_count(LEARN_EV_CHAIN);
			lw->stop |= 1;
			return 1;
		}
		if (learn_read_name(lw, rd, 0) || lw->fend > rd + rdlen) {
			learn_count(LEARN_EV_MALFORMED);
			lw->stop |= 1;
			return 1;
		}
		return 0;
	}
	lc = bpf_map_lookup_elem(&learn_config, &gen);
	if (lc && type == lw->qtype &&
	    ((type == DNS_TYPE_A && rdlen == 4) || (type == DNS_TYPE_AAAA && rdlen == 16))) {
		lw->family = type == DNS_TYPE_A ? AF_INET : AF_INET6;
		learn_address(lw, rd, lc, ttl);
		return 0;
	}
	learn_count(LEARN_EV_OFF_CHAIN);
	return 0;
}

/*
 * The answer in lw->msg to the waiting query p. Returns 1 when its
 * question is the query's (the query is answered, whatever the answer),
 * 0 when the answer is not for it.
 */
static __always_inline int learn_answer(struct learn_work *lw, __u8 gen,
					const struct learn_pending_value *p)
{
	struct dns_loop_ctx dctx = { .w = &lw->dw };
	struct learn_loop_ctx ctx = { .lw = lw };
	struct learn_name_value *nv;
	__u32 flags, an, qtype, qclass, pos;

	flags = learn_u16(lw, 2);
	if (!(flags & DNS_FLAG_QR) || (flags & DNS_OPCODE_MASK) || learn_u16(lw, 4) != 1) {
		learn_count(LEARN_EV_MALFORMED);
		return 0;
	}
	an = learn_u16(lw, 6);
	/* the question: its labels (no pointer can come first), its key, written out in cur */
	lw->dw.pos = DNS_HDR_LEN;
	lw->dw.nlabels = 0;
	lw->dw.result = REASON_DNS_NAME_LEN;
	bpf_loop(DNS_MAX_LABELS, dns_label_step, &dctx, 0);
	if (lw->dw.result != DNS_PARSE_DONE || learn_read_name(lw, DNS_HDR_LEN, 0)) {
		learn_count(LEARN_EV_MALFORMED);
		return 0;
	}
	pos = lw->dw.pos;
	if (pos + 4 > lw->len) {
		learn_count(LEARN_EV_MALFORMED);
		return 0;
	}
	qtype = learn_u16(lw, pos);
	qclass = learn_u16(lw, pos + 2);
	lw->dw.key.gen = gen;
	lw->dw.key.pad[0] = lw->dw.key.pad[1] = lw->dw.key.pad[2] = 0;
	lw->dw.key.tool = 0;
	dns_build_key(&lw->dw);
	nv = learn_name_lookup(&lw->dw.key, lw->dw.name_len);
	if (!nv || nv->name_id != p->name_id || qtype != p->qtype || qclass != DNS_CLASS_IN) {
		learn_count(LEARN_EV_QUESTION);
		return 0;
	}
	if (lw->resolver >= LEARN_RESOLVERS_MAX || !((nv->resolvers >> lw->resolver) & 1)) {
		learn_count(LEARN_EV_NOT_VIA);
		return 1;
	}
	if (flags & DNS_RCODE_MASK) {
		learn_count(LEARN_EV_RCODE);
		return 1;
	}
	/* truncated: the resolver sent the records that fit; they are learned */
	if (flags & DNS_FLAG_TC)
		learn_count(LEARN_EV_TRUNCATED);
	lw->pos = pos + 4;
	lw->name_id = p->name_id;
	lw->qtype = qtype;
	lw->chain = 0;
	lw->stop = (__u32)gen << 16;
	/* LEARN_RECORDS_MAX: every record the buffer can hold (learn.h) */
	bpf_loop(an < LEARN_RECORDS_MAX ? an : LEARN_RECORDS_MAX, learn_record_step, &ctx, 0);
	return 1;
}

#endif
