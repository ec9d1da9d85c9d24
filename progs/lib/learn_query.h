/* learn_query.h: the DNS stage's half of learning: an allowed query for a followed name waits for its answer. */
#ifndef IRONCLAW_PROGS_LEARN_QUERY_H
#define IRONCLAW_PROGS_LEARN_QUERY_H

#include "dns.h"
#include "stage.h"
#include "learn_maps.h"

/* what a query asked, when its name is followed by a name rule */
struct learn_question {
	__u32 name_id; /* 0: not a followed name */
	__u16 qtype;
	__be16 txid;
};

/*
 * Without 'allow dns' lines a query is not judged, only parsed for
 * learning: REASON_RULE with its name's key built in w->key, else the
 * parser's reason (the query still passes: only its name is not followed).
 */
static __always_inline __u32 learn_parse_query(struct dns_work *w, __u8 gen, __u32 *qtype)
{
	__u32 qclass = 0, r = dns_parse_query(w, qtype, &qclass);

	if (r != DNS_PARSE_DONE)
		return r;
	if (qclass != DNS_CLASS_IN)
		return REASON_DNS_QTYPE;
	w->key.gen = gen;
	w->key.pad[0] = w->key.pad[1] = w->key.pad[2] = 0;
	dns_build_key(w);
	return REASON_RULE;
}

/* the query in w (its key built) asks for a followed name: its id, type and transaction id */
static __always_inline void learn_question(struct dns_work *w, __u8 gen, __u32 qtype,
					   struct learn_question *lq)
{
	struct learn_name_value *v;

	w->key.gen = gen;
	w->key.tool = 0;
	v = bpf_map_lookup_elem(&learn_names, &w->key);
	if (!v)
		return;
	lq->name_id = v->name_id;
	lq->qtype = qtype;
	lq->txid = (__be16)(w->msg[0] | (__u16)w->msg[1] << 8);
}

/* the query leaves: its answer, from this resolver to this port and with this id, will be learned */
static __always_inline void learn_pending_add(const struct stage_pkt *pkt,
					      const struct learn_question *lq)
{
	struct learn_pending_key k = { .family = pkt->meta.family,
				       .txid = lq->txid,
				       .sport = pkt->meta.sport,
				       .dport = pkt->meta.dport };
	struct learn_pending_value v = { .expires_ns = bpf_ktime_get_ns() + LEARN_PENDING_NS,
					 .name_id = lq->name_id,
					 .qtype = lq->qtype };

	if (dry_run || pkt->at_sock)
		return;
	__builtin_memcpy(k.saddr, pkt->saddr, 16);
	__builtin_memcpy(k.daddr, pkt->daddr, 16);
	bpf_map_update_elem(&learn_pending, &k, &v, BPF_ANY);
}

#endif
