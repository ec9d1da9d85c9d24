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

/* the query in w (its key built) asks for a followed name: its id and type */
static __always_inline void learn_question(struct dns_work *w, __u8 gen, __u32 qtype,
					   struct learn_question *lq)
{
	struct learn_name_value *v;

	w->key.gen = gen;
	v = learn_name_lookup(&w->key, w->name_len);
	if (!v)
		return;
	lq->name_id = v->name_id;
	lq->qtype = qtype;
}

/*
 * The two bytes at off (the DNS id) become id, the UDP checksum at csum_off
 * kept right. A checksum of 0 (IPv4: none) stays 0 and skb->csum
 * (CHECKSUM_COMPLETE) follows the new bytes; else the checksum moves by
 * the opposite of the id (bpf_l4_csum_replace, which leaves
 * CHECKSUM_PARTIAL alone and never writes 0), so the packet's sum, and
 * skb->csum, stay what they were. 0, or -1 when the packet is unchanged.
 */
static __always_inline int learn_id_write(struct __sk_buff *skb, __u32 off, __u32 csum_off,
					  __u8 family, __be16 old, __be16 id)
{
	__be16 check;

	if (bpf_skb_load_bytes(skb, csum_off, &check, 2))
		return -1;
	if (!check && family == AF_INET)
		return bpf_skb_store_bytes(skb, off, &id, 2, BPF_F_RECOMPUTE_CSUM) ? -1 : 0;
	if (bpf_skb_store_bytes(skb, off, &id, 2, 0))
		return -1;
	if (bpf_l4_csum_replace(skb, csum_off, old, id, BPF_F_MARK_MANGLED_0 | sizeof(id))) {
		bpf_skb_store_bytes(skb, off, &old, 2, 0);
		return -1;
	}
	return 0;
}

/*
 * At host-side tc ingress only (pkt->host_side), an allowed query leaves
 * with a random id in place of the sandbox's, which the sandbox never sees:
 * its answer, from this resolver to this port with that id, gets the
 * sandbox's id back, and teaches a followed name's addresses (lq->name_id)
 * while the instance's second has room (learn_rate_take). DNS over TCP
 * (allowed when the profile has no 'allow dns' lines) teaches nothing: each
 * connection to a resolver is counted (LEARN_EV_TCP), so status shows why.
 */
static __always_inline void learn_query_rewrite(struct __sk_buff *skb, const struct stage_pkt *pkt,
						const struct learn_question *lq)
{
	__u32 off = pkt->meta.l4_off;
	struct learn_pending_key k = { .family = pkt->meta.family,
				       .sport = pkt->meta.sport,
				       .dport = pkt->meta.dport };
	struct learn_pending_value v = { .name_id = lq->name_id, .qtype = lq->qtype };
	struct learn_port_value *port, pnew = { .waiting = 1 };
	__u64 now;
	__be16 id;

	if (dry_run || !pkt->host_side)
		return;
	if (pkt->meta.l4proto == IPPROTO_TCP) {
		if (pkt->new_flow)
			learn_count(LEARN_EV_TCP);
		return;
	}
	now = bpf_ktime_get_ns();
	id = (__be16)bpf_get_prandom_u32();
	if (bpf_skb_load_bytes(skb, off + 8, &v.sandbox_txid, 2))
		return;
	if (v.name_id && !learn_rate_take(pkt->meta.gen, now)) {
		learn_count(LEARN_EV_RATE);
		v.name_id = 0;
	}
	if (learn_id_write(skb, off + 8, off + 6, k.family, v.sandbox_txid, id))
		return;
	v.expires_ns = now + LEARN_PENDING_NS;
	__builtin_memcpy(k.saddr, pkt->saddr, 16);
	__builtin_memcpy(k.daddr, pkt->daddr, 16);
	port = bpf_map_lookup_elem(&learn_ports, &k);
	if (port && port->expires_ns >= now) {
		__sync_fetch_and_add(&port->waiting, 1);
		port->expires_ns = v.expires_ns;
	} else {
		/* none waits any more (answered, or never): count anew */
		pnew.expires_ns = v.expires_ns;
		bpf_map_update_elem(&learn_ports, &k, &pnew, BPF_ANY);
	}
	k.txid = id;
	bpf_map_update_elem(&learn_pending, &k, &v, BPF_ANY);
}

#endif
