/* learn_packet.h: a resolver's answer on its way to the sandbox, parsed with the shared cursor parser and learned. */
#ifndef IRONCLAW_PROGS_LEARN_PACKET_H
#define IRONCLAW_PROGS_LEARN_PACKET_H

#include "parse.h"
#include "settings.h"
#include "learn_answer.h"
#include "learn_query.h"

/* what must be in the linear area: Ethernet, the longest IPv4 header, UDP */
#define LEARN_PULL_LEN (ETH_HLEN + 60 + 8)

/*
 * The answer came in by the interface the host's route to the resolver
 * uses (a forwarding lookup from the sandbox's host-side interface, where
 * its query came in), or is the host's own (no ingress interface: a
 * resolver on the host). A neighbour on a bridge, or a host on another
 * link, claiming the resolver's address comes in elsewhere.
 */
static __always_inline int learn_route_ok(struct __sk_buff *skb, const struct parsed *ip)
{
	struct bpf_fib_lookup f = { .family = ip->family,
				    .l4_protocol = IPPROTO_UDP,
				    .sport = ip->dport,
				    .dport = ip->sport,
				    .ifindex = skb->ifindex };
	__u32 iif = skb->ingress_ifindex;

	if (!iif)
		return 1;
	if (ip->family == AF_INET) {
		__builtin_memcpy(&f.ipv4_src, ip->daddr, 4);
		__builtin_memcpy(&f.ipv4_dst, ip->saddr, 4);
	} else {
		__builtin_memcpy(f.ipv6_src, ip->daddr, 16);
		__builtin_memcpy(f.ipv6_dst, ip->saddr, 16);
	}
	if (bpf_fib_lookup(skb, &f, sizeof(f), BPF_FIB_LOOKUP_SKIP_NEIGH) !=
	    BPF_FIB_LKUP_RET_SUCCESS)
		return 0;
	return f.ifindex == iif;
}

/*
 * A resolver's answer to the sandbox, at host-side tc egress (never at a
 * hook that sees loopback): when it comes from a resolver of the instance,
 * by the route to it, to a query the dns stage rewrote at host-side tc
 * ingress (its addresses, ports and the random id it wrote), it gets the
 * sandbox's id back and, for a followed name with the same question,
 * teaches its addresses. Any answer with the right id ends its query; one
 * with an id no query has, to an address and port a query waits on, is
 * forged: every waiting query is discarded (learn_rate_forged).
 * It reads up to LEARN_MSG_MAX bytes of the message, in a buffer of its
 * own. IPv6 with extension headers is not an answer it reads, nor one over
 * TCP (the dns stage counts those queries: learn_query_rewrite). Counts
 * what it ignores (learn_counts) and never drops: it judges nothing.
 */
static __always_inline void learn_skb(struct __sk_buff *skb, const struct gen_settings *gs)
{
	struct learn_resolver_key rk = { .gen = gs->gen };
	struct learn_pending_key pk = {};
	struct learn_pending_value *p, pv;
	struct learn_work_cpu *cpu;
	struct learn_work *lw;
	struct parsed ip = {};
	struct cursor c;
	struct ethhdr *eth;
	struct udphdr *uh;
	__u32 slot, len = skb->len, ulen, dns_len;
	__be16 txid;
	void *start;
	struct learn_port_value *port;
	__u32 *resolver;
	__u64 now;
	int r;

	if (skb->vlan_present)
		return;
	if ((__u64)(skb->data_end - skb->data) < len &&
	    (__u64)(skb->data_end - skb->data) < LEARN_PULL_LEN)
		bpf_skb_pull_data(skb, len < LEARN_PULL_LEN ? len : LEARN_PULL_LEN);
	start = (void *)(long)skb->data;
	c.pos = start;
	c.end = (void *)(long)skb->data_end;
	c.off = 0;
	c.lim = len;
	eth = c.pos;
	if (!cursor_has(&c, sizeof(*eth)))
		return;
	cursor_skip(&c, sizeof(*eth));
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		r = parse_ipv4(&c, start, &ip);
	else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		r = parse_ipv6(&c, start, &ip);
	else
		return;
	if (ip.l4proto != IPPROTO_UDP)
		return;
	if (ip.family == AF_INET6) {
		struct ipv6hdr *ip6 = start + ETH_HLEN;

		/* extension headers (fragments too), or a length only a jumbogram may have */
		if (c.off != ETH_HLEN + sizeof(*ip6) || (void *)(ip6 + 1) > c.end ||
		    !ip6->payload_len)
			return;
	}
	if (r == REASON_FRAGMENT && ip.family == AF_INET) {
		/* the first fragment of an answer from port 53: too big for one datagram */
		struct iphdr *iph = start + ETH_HLEN;
		__be16 sport;

		if ((void *)(iph + 1) <= c.end && !(iph->frag_off & bpf_htons(IP4_OFFSET)) &&
		    !bpf_skb_load_bytes(skb, ETH_HLEN + iph->ihl * 4, &sport, 2) &&
		    sport == bpf_htons(53))
			learn_count(LEARN_EV_TOO_BIG);
		return;
	}
	if (r != PARSE_OK || parse_l4(&c, start, &ip) != PARSE_OK || ip.sport != bpf_htons(53))
		return; /* not from port 53 */
	uh = c.pos;
	if ((void *)(uh + 1) > c.end)
		return;
	ulen = bpf_ntohs(uh->len);
	rk.family = pk.family = ip.family;
	__builtin_memcpy(rk.addr, ip.saddr, 16);
	/* the query's key: the answer's source is where it went, its destination where it came from */
	__builtin_memcpy(pk.daddr, ip.saddr, 16);
	__builtin_memcpy(pk.saddr, ip.daddr, 16);
	pk.dport = ip.sport;
	pk.sport = ip.dport;
	resolver = bpf_map_lookup_elem(&learn_resolvers, &rk);
	if (!resolver) {
		learn_count(LEARN_EV_NOT_RESOLVER);
		return;
	}
	if (skb->gso_size) {
		learn_count(LEARN_EV_TOO_BIG);
		return;
	}
	/* the UDP datagram is the IP datagram's payload, to its last byte */
	if (ulen < 8 + DNS_HDR_LEN || ip.l4_off + ulen != c.lim ||
	    bpf_skb_load_bytes(skb, ip.l4_off + 8, &pk.txid, 2)) {
		learn_count(LEARN_EV_MALFORMED);
		return;
	}
	dns_len = ulen - 8;
	if (!learn_route_ok(skb, &ip)) {
		learn_count(LEARN_EV_WRONG_IF);
		return;
	}
	now = bpf_ktime_get_ns();
	p = bpf_map_lookup_elem(&learn_pending, &pk);
	txid = pk.txid;
	pk.txid = 0;
	port = bpf_map_lookup_elem(&learn_ports, &pk);
	if (!p) {
		if (port && port->expires_ns >= now && port->waiting) {
			learn_rate_forged(now);
			learn_count(LEARN_EV_WRONG_ID);
		} else {
			learn_count(LEARN_EV_NO_QUERY);
		}
		return;
	}
	pv = *p;
	pk.txid = txid;
	/* one answer per query, whatever it says (the one that deletes it counts it answered) */
	if (bpf_map_delete_elem(&learn_pending, &pk))
		return;
	if (port && port->waiting)
		__sync_fetch_and_sub(&port->waiting, 1);
	/* the sandbox's id back (packet pointers are stale from here) */
	learn_id_write(skb, ip.l4_off + 8, ip.l4_off + 6, ip.family, pk.txid, pv.sandbox_txid);
	if (!pv.name_id)
		return; /* a name not followed, or over the rate: nothing to learn */
	if (pv.expires_ns < now || !learn_rate_valid(pv.expires_ns - LEARN_PENDING_NS)) {
		learn_count(LEARN_EV_NO_QUERY);
		return;
	}
	lw = learn_work_get(&cpu, &slot);
	if (!lw)
		return;
	/* the message into the learning program's buffer, its start also where the question is read */
	lw->cut = dns_len > LEARN_MSG_MAX;
	if (lw->cut)
		dns_len = LEARN_MSG_MAX;
	lw->len = dns_len;
	lw->dw.len = dns_len < DNS_MSG_MAX ? dns_len : DNS_MSG_MAX;
	lw->now = now;
	lw->resolver = *resolver;
	__builtin_memcpy(lw->raddr, rk.addr, 16);
	if (bpf_skb_load_bytes(skb, ip.l4_off + 8, lw->msg, dns_len & (LEARN_MSG_MAX * 2 - 1))) {
		learn_count(LEARN_EV_MALFORMED);
	} else {
		__builtin_memcpy(lw->dw.msg, lw->msg, DNS_MSG_MAX);
		learn_answer(lw, gs->gen, &pv);
	}
	learn_work_put(cpu, slot);
}

#endif
