/* stage_sni.h: the https stage's check of a flow's TLS server name against the names that opened its address (docs/sni.md). */
#ifndef IRONCLAW_PROGS_STAGE_SNI_H
#define IRONCLAW_PROGS_STAGE_SNI_H

#include "stage.h"
#include "stage_learned.h"
#include "sni_maps.h"

/* the parser of include/tls_hello.h over the TCP payload of an skb */
/*
 * The stream the parser reads: a segment's payload in the skb, or (a hello
 * over several segments) the bytes kept in sni_bufs. Each call site has one
 * or the other, so the verifier follows one branch of every load.
 */
struct sni_src {
	struct __sk_buff *skb;
	const __u8 *buf; /* the kept bytes; NULL: the payload at base */
	__u32 base; /* the payload's offset in skb */
};

#define TLS_HELLO_SRC const struct sni_src *
#define tls_hello_inline static __always_inline
#define TLS_HELLO_LOOP(n, fn, ctx) bpf_loop(n, fn, ctx, 0)

static __always_inline int tls_hello_load(const struct sni_src *s, __u32 off, void *dst, __u32 len)
{
	__u8 *d = dst;

	if (!s->buf)
		return bpf_skb_load_bytes(s->skb, s->base + off, dst, len) ? -1 : 0;
	/* the parser asks only for bytes below avail, the bytes kept (len <= 3) */
	d[0] = s->buf[off & (SNI_BUF_MAX - 1)];
	if (len > 1)
		d[1] = s->buf[(off + 1) & (SNI_BUF_MAX - 1)];
	if (len > 2)
		d[2] = s->buf[(off + 2) & (SNI_BUF_MAX - 1)];
	return 0;
}

#include "tls_hello.h"

/* the TCP segment's sequence number (host order), payload offset and payload bytes */
static __always_inline int sni_segment(struct __sk_buff *skb, const struct stage_pkt *pkt,
				       __u32 *seq, __u32 *off, __u32 *len)
{
	__u32 l3 = pkt->meta.l3_off, l4 = pkt->meta.l4_off, end;
	__u8 doff;
	__be32 s;
	__be16 n;

	if (bpf_skb_load_bytes(skb, l4 + 4, &s, 4) || bpf_skb_load_bytes(skb, l4 + 12, &doff, 1))
		return -1;
	if (pkt->meta.family == AF_INET) {
		if (bpf_skb_load_bytes(skb, l3 + 2, &n, 2))
			return -1;
		end = l3 + bpf_ntohs(n);
	} else {
		if (bpf_skb_load_bytes(skb, l3 + 4, &n, 2))
			return -1;
		end = l3 + 40 + bpf_ntohs(n);
	}
	*seq = bpf_ntohl(s);
	*off = l4 + (doff >> 4) * 4;
	*len = end > *off ? end - *off : 0;
	return 0;
}

/* one label start of w->name (a bpf_loop step): a label begins at 0 and after each dot */
struct sni_loop_ctx {
	struct sni_work *w; /* bpf_loop's context must be on the stack */
};

static int sni_label_step(__u32 i, void *data)
{
	struct sni_work *w = ((struct sni_loop_ctx *)data)->w;

	if (i >= w->len)
		return 1;
	if (i == 0 || w->name[(i - 1) & TLS_HELLO_NAME_MAX] == '.') {
		w->starts[w->nlabels & TLS_HELLO_NAME_MAX] = i;
		w->nlabels++;
	}
	return 0;
}

/*
 * One byte of the learn_names key of the name in w (a bpf_loop step): the
 * labels from the right, each its length byte then its bytes, lowercase,
 * then the 0 byte (include/dns_policy.h).
 */
static int sni_key_step(__u32 i, void *data)
{
	struct sni_work *w = ((struct sni_loop_ctx *)data)->w;
	__u32 o = w->out, s;
	__u8 c;

	if (o >= DNS_NAME_KEY_BYTES)
		return 1; /* longer than any rule: w->done stays 0 */
	if (w->li >= w->nlabels) {
		w->key.name[o & 0xff] = 0;
		w->out = o + 1;
		w->done = 1;
		return 1;
	}
	s = w->starts[(w->nlabels - 1 - w->li) & TLS_HELLO_NAME_MAX];
	if (w->at_len) {
		w->key.name[o & 0xff] = w->end - s;
		w->at_len = 0;
		w->j = s;
	} else {
		c = w->name[w->j & TLS_HELLO_NAME_MAX];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		w->key.name[o & 0xff] = c;
		if (++w->j >= w->end) {
			w->li++;
			w->end = s ? s - 1 : 0;
			w->at_len = 1;
		}
	}
	w->out = o + 1;
	return 0;
}

/* the key of the name in w (checked by tls_hello_sni: no empty label); 0, or -1 */
static __always_inline int sni_build_key(struct sni_work *w, __u8 gen)
{
	struct sni_loop_ctx ctx = { .w = w };

	w->nlabels = 0;
	bpf_loop(TLS_HELLO_NAME_MAX, sni_label_step, &ctx, 0);
	w->li = 0;
	w->end = w->len;
	w->at_len = 1;
	w->out = 0;
	w->done = 0;
	bpf_loop(DNS_NAME_KEY_BYTES + 1, sni_key_step, &ctx, 0);
	if (!w->done || !w->nlabels)
		return -1;
	w->key.prefixlen = DNS_NAME_FIXED_BITS + 8 * w->out;
	w->key.gen = gen;
	w->key.pad[0] = w->key.pad[1] = w->key.pad[2] = 0;
	w->key.tool = 0;
	return 0;
}

struct sni_copy_ctx {
	struct sni_work *w;
	const struct sni_src *src;
	__u32 off;
	__u32 bad;
};

/* one byte of the name into w->name (a bpf_loop step) */
static int sni_copy_step(__u32 i, void *data)
{
	struct sni_copy_ctx *c = data;
	__u8 b;

	if (i >= c->w->len)
		return 1;
	if (tls_hello_load(c->src, c->off + i, &b, 1)) {
		c->bad = 1;
		return 1;
	}
	c->w->name[i & TLS_HELLO_NAME_MAX] = b;
	return 0;
}

static __always_inline int sni_copy_name(struct sni_work *w, const struct sni_src *src, __u32 off)
{
	struct sni_copy_ctx c = { .w = w, .src = src, .off = off };

	bpf_loop(TLS_HELLO_NAME_MAX, sni_copy_step, &c, 0);
	return c.bad ? -1 : 0;
}

/* followed names tried for one server name: its exact name, then the wildcards above it */
#define SNI_COVER_MAX 4

/* name id in a learn_rules list */
static __always_inline int sni_listed(const struct learn_rule_value *v, __u32 id)
{
	__u32 nr;

	if (!v)
		return 0;
	nr = v->nr;
#pragma unroll
	for (int i = 0; i < LEARN_NAMES_PER_PORT; i++)
		if (i < nr && v->e[i].name_id == id)
			return 1;
	return 0;
}

/*
 * daddr is learned for name id lk->name_id: live, or expired while this
 * flow, opened through that name, goes on (learn_flows)
 */
static __always_inline int sni_learned(const struct learn_flow_key *fk, struct learned_key *lk,
				       __u64 now)
{
	struct learned_value *l = bpf_map_lookup_elem(&learned, lk);
	struct learn_flow_value *f;

	if (!l)
		return 0;
	if (l->deadline_ns > now)
		return 1;
	f = bpf_map_lookup_elem(&learn_flows, fk);
	return f && f->name_id == lk->name_id;
}

struct sni_cover_ctx {
	struct sni_work *w;
	const struct learn_rule_value *own, *all; /* the port's names for the tool, for all */
	const struct learn_flow_key *fk;
};

/*
 * One followed name over the server name (a bpf_loop step): the most
 * specific left in w->key's prefix; when it allows the address, ok.
 */
static int sni_cover_step(__u32 i, void *data)
{
	struct sni_cover_ctx *c = data;
	struct learn_name_value *nv = bpf_map_lookup_elem(&learn_names, &c->w->key);
	__u32 nlen, id;

	if (!nv)
		return 1;
	nlen = nv->name_len;
	id = nv->name_id;
	/* a wildcard's own suffix is not below it ('*.example.com' and 'example.com') */
	if (id && !(nv->wildcard && nlen == c->w->qlen) &&
	    (sni_listed(c->own, id) || sni_listed(c->all, id))) {
		c->w->lk.name_id = id;
		if (sni_learned(c->fk, &c->w->lk, c->w->now)) {
			c->w->ok = 1;
			return 1;
		}
	}
	if (!nlen)
		return 1;
	c->w->key.prefixlen = DNS_NAME_FIXED_BITS + 8 * nlen - 1; /* the next one above */
	return 0;
}

/*
 * The hello's name is covered by a name whose answers allowed this address:
 * a followed name over it (learn_names: the name itself, or a wildcard above
 * it, on label boundaries, in any case), in the name rules of the flow's
 * {protocol, port} for the sender's tool or every process, with daddr
 * learned for it. The most specific followed name first, then each wildcard
 * above it (an address learned under '*.example.com' is named by any name
 * below it, even when 'api.example.com' has a rule of its own elsewhere).
 */
static __always_inline int sni_name_allowed(const struct stage_pkt *pkt,
					    const struct learn_flow_key *fk,
					    const struct sni_src *src, const struct tls_hello *h)
{
	struct sni_cover_ctx c = { .fk = fk };
	__u32 len = h->name_len;

	c.w = sni_work_get(pkt->hook);
	if (!c.w || len == 0 || len > TLS_HELLO_NAME_MAX)
		return 0;
	c.w->named = 0;
	c.w->len = len;
	if (sni_copy_name(c.w, src, h->name_off))
		return 0;
	c.w->named = 1;
	if (sni_build_key(c.w, pkt->meta.gen))
		return 0;
	c.w->qlen = c.w->out - 1;
	c.w->rk.tool = pkt->meta.tool;
	c.w->rk.gen = pkt->meta.gen;
	c.w->rk.l4proto = pkt->meta.l4proto;
	c.w->rk.dport = pkt->meta.dport;
	c.w->rk.pad = 0;
	c.own = bpf_map_lookup_elem(&learn_rules, &c.w->rk);
	if (c.w->rk.tool) {
		c.w->rk.tool = 0;
		c.all = bpf_map_lookup_elem(&learn_rules, &c.w->rk);
	}
	__builtin_memset(&c.w->lk, 0, sizeof(c.w->lk));
	c.w->lk.family = pkt->meta.family;
	__builtin_memcpy(c.w->lk.addr, pkt->daddr, 16);
	c.w->now = bpf_ktime_get_ns();
	c.w->ok = 0;
	bpf_loop(SNI_COVER_MAX, sni_cover_step, &c, 0);
	return c.w->ok;
}

/* the hello at the start of this segment's payload: 1 when its name opens the address */
enum { SNI_DENY = 0, SNI_ALLOW, SNI_MORE };

/* what a kept hello starts from (sni_bufs' values are too big to build on the stack) */
static const struct sni_buf zero_buf;

/*
 * The hello: this segment's payload (off, len), or buf's first len bytes:
 * SNI_ALLOW when its name opens the address, SNI_MORE when its record goes on
 * in a later segment (and fits SNI_BUF_MAX), else SNI_DENY.
 */
/*
 * The parser as global functions: the verifier checks each once, on its
 * own, not at every call with every state of the caller.
 */
__noinline int sni_parse_skb(struct __sk_buff *skb, __u32 off, __u32 len, struct tls_hello *h)
{
	struct sni_src src = { .skb = skb, .base = off };

	if (!skb || !h)
		return TLS_HELLO_MALFORMED;
	return tls_hello_parse(&src, len, h);
}

__noinline int sni_parse_buf(struct sni_buf *b, __u32 len, struct tls_hello *h)
{
	struct sni_src src = { .buf = b ? b->b : NULL };

	if (!b || !h)
		return TLS_HELLO_MALFORMED;
	return tls_hello_parse(&src, len, h);
}

static __always_inline int sni_judge_hello(struct __sk_buff *skb, const struct stage_pkt *pkt,
					   const struct learn_flow_key *fk, struct sni_buf *b,
					   __u32 off, __u32 len, __u32 *hello_len, int *named)
{
	struct sni_src src = { .skb = skb, .buf = b ? b->b : NULL, .base = off };
	struct tls_hello h = {};
	int st = b ? sni_parse_buf(b, len, &h) : sni_parse_skb(skb, off, len, &h);

	if (st == TLS_HELLO_SHORT)
		return h.need <= SNI_BUF_MAX ? SNI_MORE : SNI_DENY;
	if (st != TLS_HELLO_NAME)
		return SNI_DENY; /* no name, several records, not a hello */
	*hello_len = h.record_len;
	*named = 1;
	return sni_name_allowed(pkt, fk, &src, &h) ? SNI_ALLOW : SNI_DENY;
}

struct sni_cmp_ctx {
	struct __sk_buff *skb;
	const __u8 *buf;
	__u32 base, n, differ;
};

/* one byte of a resent segment against the byte kept (a bpf_loop step) */
static int sni_cmp_step(__u32 i, void *data)
{
	struct sni_cmp_ctx *c = data;
	__u8 b;

	if (i >= c->n)
		return 1;
	if (bpf_skb_load_bytes(c->skb, c->base + i, &b, 1) || b != c->buf[i & (SNI_BUF_MAX - 1)]) {
		c->differ = 1;
		return 1;
	}
	return 0;
}

/*
 * This segment's payload (off, len), from stream byte rel, appended to the
 * kept bytes (0..have): a resent part must equal what was kept (else -1),
 * what is new is kept. The new end in *have.
 */
static __always_inline int sni_keep(struct __sk_buff *skb, struct sni_buf *b, __u32 rel, __u32 off,
				    __u32 len, __u32 *have)
{
	__u32 old = *have, same, n;

	if (rel > old)
		return -1; /* a gap: not in order */
	same = old - rel < len ? old - rel : len;
	if (same) {
		struct sni_cmp_ctx c = {
			.skb = skb, .buf = b->b + (rel & (SNI_BUF_MAX - 1)), .base = off, .n = same
		};

		if (rel >= SNI_BUF_MAX)
			return -1;
		bpf_loop(SNI_BUF_MAX, sni_cmp_step, &c, 0);
		if (c.differ)
			return -1;
	}
	n = len - same;
	if (!n)
		return 0;
	if (old >= SNI_BUF_MAX || n >= SNI_BUF_MAX || old + n > SNI_BUF_MAX)
		return -1;
	/* 1..SNI_BUF_MAX, as the verifier sees it too */
	if (bpf_skb_load_bytes(skb, off + same, b->b + (old & (SNI_BUF_MAX - 1)),
			       ((n - 1) & (SNI_BUF_MAX - 1)) + 1))
		return -1;
	*have = old + n;
	return 0;
}

/* a live address of an entry of v whose rule says 'sni off' (LEARN_F_SNI_OFF) */
static __always_inline int sni_off_listed(const struct learn_rule_value *v, struct learned_key *lk,
					  __u64 now)
{
	__u32 nr, flags;

	if (!v)
		return 0;
	nr = v->nr;
	flags = v->flags;
	if (!(flags & LEARN_F_SNI_OFF_ANY))
		return 0;
#pragma unroll
	for (int i = 0; i < LEARN_NAMES_PER_PORT; i++) {
		struct learned_value *l;

		if (i >= nr)
			break;
		if (!(flags & LEARN_F_SNI_OFF(i)))
			continue;
		lk->name_id = v->e[i].name_id;
		l = bpf_map_lookup_elem(&learned, lk);
		if (l && l->deadline_ns > now)
			return 1;
	}
	return 0;
}

/*
 * A new flow's address was learned for a name rule with 'sni off' (for the
 * sender's tool or every process): its hello is not read. A global function:
 * the verifier checks it once.
 */
__noinline int sni_off_covers(struct learn_rule_key *rk, struct learned_key *lk)
{
	__u64 now = bpf_ktime_get_ns();

	if (!rk || !lk)
		return 0;
	if (sni_off_listed(bpf_map_lookup_elem(&learn_rules, rk), lk, now))
		return 1;
	if (!rk->tool)
		return 0;
	rk->tool = 0;
	return sni_off_listed(bpf_map_lookup_elem(&learn_rules, rk), lk, now);
}

/*
 * A new flow's address was learned for a name rule with 'sni off'
 * (sni_off_covers). The keys are built in sni_work, not on the stack: the
 * stage's frame and the parser's beside it must fit the verifier's 512 bytes.
 * Without its room the check is not turned off.
 */
static __always_inline int sni_flow_off(const struct stage_pkt *pkt)
{
	struct sni_work *w = sni_work_get(pkt->hook);

	if (!w)
		return 0;
	w->rk.tool = pkt->meta.tool;
	w->rk.gen = pkt->meta.gen;
	w->rk.l4proto = pkt->meta.l4proto;
	w->rk.dport = pkt->meta.dport;
	w->rk.pad = 0;
	w->lk.name_id = 0;
	w->lk.family = pkt->meta.family;
	__builtin_memset(w->lk.pad, 0, sizeof(w->lk.pad));
	__builtin_memcpy(w->lk.addr, pkt->daddr, 16);
	return sni_off_covers(&w->rk, &w->lk);
}

/*
 * A packet that reason allowed through a learned address, when the
 * generation checks server names: a SYN opens the flow's state; the first
 * data must be a ClientHello naming a host that opened the address.
 */
static __always_inline int sni_judge_flow(struct __sk_buff *skb, const struct stage_pkt *pkt,
					  int reason, int *named)
{
	struct learn_flow_key fk = {};
	__u32 seq, off, len, hello_len = 0, rel, have = 0, kept = 0, skip = 0;
	struct sni_flow *f, *nf;
	struct sni_work *w;
	struct sni_buf *b = NULL;
	int verdict;

	if (!(gen_flags(stage_cfg(pkt)) & GEN_SNI) || pkt->meta.l4proto != IPPROTO_TCP ||
	    (reason != REASON_RULE && reason != REASON_FLOW))
		return reason;
	if (sni_segment(skb, pkt, &seq, &off, &len))
		return REASON_SNI;
	stage_flow_key(&fk, pkt);
	f = pkt->new_flow ? NULL : bpf_map_lookup_elem(&sni_flows, &fk);
	/* a SYN; or explain's data without one (a dry run records no SYN): a new flow */
	if (pkt->new_flow || (!f && dry_run && len)) {
		/* built in sni_work: the stage's frame must leave room for the parser's */
		w = sni_work_get(pkt->hook);
		if (!w)
			return REASON_SNI;
		nf = &w->flow;
		nf->cookie = pkt->cookie;
		/* a SYN's own sequence number is the SYN's */
		nf->data_seq = pkt->new_flow ? seq + 1 : seq;
		nf->hello_len = 0;
		nf->have = 0;
		nf->state = sni_flow_off(pkt) ? SNI_OFF : SNI_AWAIT;
		if (!dry_run)
			bpf_map_update_elem(&sni_flows, &fk, nf, BPF_ANY);
		if (!len || nf->state == SNI_OFF)
			return reason;
		/*
		 * TCP Fast Open: the hello (or its first part) in the SYN, at
		 * seq + 1: judged as the flow's first data, nothing kept yet
		 */
		f = dry_run ? nf : bpf_map_lookup_elem(&sni_flows, &fk);
		if (!f)
			return REASON_SNI;
		goto first_data;
	}
	if (!f)
		return len ? REASON_SNI : reason; /* data on a flow whose SYN was not seen */
	if (!len)
		return reason; /* an ACK, a FIN: no data to judge */
	if (f->state == SNI_OFF)
		return reason;
	if (f->state == SNI_BAD)
		return REASON_SNI;
	rel = seq - f->data_seq; /* wraps: before data_seq is far after */
	if (f->state == SNI_OK) {
		if (rel >= f->hello_len) {
			/* past the hello: the server answered it, no copy of it comes again */
			if (f->have && !dry_run) {
				bpf_map_delete_elem(&sni_bufs, &fk);
				f->have = 0;
			}
			return reason;
		}
		if (f->have) {
			/* a long hello's piece again (resent, or at the next hook): as kept */
			kept = f->have;
			b = bpf_map_lookup_elem(&sni_bufs, &fk);
			if (!b || rel >= kept || rel >= SNI_BUF_MAX)
				goto deny;
			have = kept;
			if (sni_keep(skb, b, rel, off, rel + len <= kept ? len : kept - rel, &have))
				goto deny;
			return reason;
		}
		if (rel)
			return REASON_SNI; /* a resent piece of the hello: cannot be judged alone */
	} else if (f->have) {
		/* a later segment of a long hello: in order, or resending kept bytes unchanged */
		kept = f->have;
		b = bpf_map_lookup_elem(&sni_bufs, &fk);
		if (!b || rel > kept || rel >= SNI_BUF_MAX)
			return REASON_SNI;
		/* the part kept before must be the same bytes */
		have = kept;
		if (sni_keep(skb, b, rel, off, rel + len <= kept ? len : kept - rel, &have))
			goto deny;
		if (rel + len <= kept)
			return reason; /* nothing new */
		skip = kept - rel;
	} else if (rel) {
		return REASON_SNI; /* data before the hello's first byte arrived in order */
	}
first_data:
	if (!b) {
		/* the hello's first byte begins this segment */
		verdict = sni_judge_hello(skb, pkt, &fk, NULL, off, len, &hello_len, named);
		if (verdict == SNI_MORE) {
			if (f->state != SNI_AWAIT)
				goto deny;
			if (dry_run)
				return reason;
			bpf_map_update_elem(&sni_bufs, &fk, &zero_buf, BPF_ANY);
			b = bpf_map_lookup_elem(&sni_bufs, &fk);
			have = 0;
			if (!b || sni_keep(skb, b, 0, off, len, &have))
				goto deny;
			f->have = have;
		}
	} else {
		/* the kept bytes and this segment's new ones, kept too */
		have = kept;
		if (sni_keep(skb, b, kept, off + skip, len - skip, &have))
			goto deny;
		verdict = sni_judge_hello(skb, pkt, &fk, b, 0, have, &hello_len, named);
		if (verdict == SNI_MORE && !dry_run)
			f->have = have;
	}
	if (verdict == SNI_MORE)
		return reason; /* a partial hello: the server cannot answer it yet */
	if (verdict == SNI_ALLOW) {
		if (!dry_run && f->state == SNI_AWAIT) {
			/* a long hello's bytes stay kept until data past it comes */
			f->hello_len = hello_len;
			f->state = SNI_OK;
			f->have = b ? have : 0;
		}
		return reason;
	}
deny:
	if (!dry_run) {
		f->state = SNI_BAD;
		if (f->have)
			bpf_map_delete_elem(&sni_bufs, &fk);
	}
	return REASON_SNI;
}

struct sni_wire_ctx {
	struct sni_work *w;
	struct event_named *r;
	__u32 run; /* bytes of the label being written, from its end */
};

/*
 * One byte of the server name into the record, in wire form, from the end
 * (a bpf_loop step): name byte j goes to j + 1, a dot becomes the length of
 * the label after it.
 */
static int sni_wire_step(__u32 i, void *data)
{
	struct sni_wire_ctx *c = data;
	__u32 len = c->w->len, j;
	__u8 ch;

	if (i >= len)
		return 1;
	j = len - 1 - i;
	ch = c->w->name[j & TLS_HELLO_NAME_MAX];
	if (ch == '.') {
		c->r->name[(j + 1) & (EVENT_NAME_MAX - 1)] = c->run;
		c->run = 0;
	} else {
		c->r->name[(j + 1) & (EVENT_NAME_MAX - 1)] = ch;
		c->run++;
	}
	return 0;
}

/*
 * The denial's record, with the server name when the hello was read
 * (named), in the wire form of a query's name: user space escapes it the
 * same way (log, log --json, journald).
 */
static __always_inline void sni_event(struct __sk_buff *skb, const struct stage_pkt *pkt, int named)
{
	struct event_named *r = EVENT_RESERVE_TAIL(struct event_named, bpf_skb_cgroup_id(skb),
						   pkt->meta.tool, EVENT_DENY);
	struct sni_wire_ctx c = {};

	if (!r)
		return;
	event_fill(&r->e, pkt->hook, REASON_SNI, &pkt->meta,
		   audited(REASON_SNI, &pkt->meta, stage_cfg(pkt)));
	__builtin_memcpy(r->e.saddr, pkt->saddr, 16);
	__builtin_memcpy(r->e.daddr, pkt->daddr, 16);
	c.w = named ? sni_work_get(pkt->hook) : NULL;
	if (c.w && c.w->named && c.w->len && c.w->len <= EVENT_NAME_MAX - 2) {
		c.r = r;
		bpf_loop(TLS_HELLO_NAME_MAX, sni_wire_step, &c, 0);
		r->name[0] = c.run;
		r->name[(c.w->len + 1) & (EVENT_NAME_MAX - 1)] = 0;
		r->t.name_len = c.w->len + 2;
	}
	bpf_ringbuf_submit(r, 0);
}

/*
 * 1: this load of the stage carries the server-name check. The loader clears
 * it for a generation whose profile has no checked name rule (GEN_SNI clear):
 * the verifier then never walks the check's code, which is most of the
 * stage's verification (docs/sni.md, "What it costs").
 */
const volatile __u32 sni_check = 1;

/*
 * A packet that reason allowed through a learned address, when the
 * generation checks server names (sni_judge_flow); a denial is recorded
 * here, with the name seen.
 */
static __always_inline int stage_sni(struct __sk_buff *skb, const struct stage_pkt *pkt, int reason)
{
	int named = 0, r;

	/* loaded without the check for a generation that asks for it: nothing passes */
	if (!sni_check)
		return gen_flags(stage_cfg(pkt)) & GEN_SNI ? REASON_SNI : reason;
	r = sni_judge_flow(skb, pkt, reason, &named);

	if (r == REASON_SNI && !dry_run)
		sni_event(skb, pkt, named);
	return r;
}

#endif
