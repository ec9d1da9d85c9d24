/* learn_packet.h: a resolver's answer on its way to the sandbox, parsed with the shared cursor parser and learned. */
#ifndef IRONCLAW_PROGS_LEARN_PACKET_H
#define IRONCLAW_PROGS_LEARN_PACKET_H

#include "parse.h"
#include "settings.h"
#include "learn_answer.h"

/* what must be in the linear area: Ethernet, the longest IPv4 header, UDP */
#define LEARN_PULL_LEN (ETH_HLEN + 60 + 8)

/*
 * A resolver's answer to the sandbox, at tc on the sandbox's link (egress of
 * the host-side end, ingress of the sandbox's own interface), never at a hook
 * that sees loopback: learns the addresses of a followed name when the answer
 * comes from a resolver of the instance, to a query the dns stage allowed and
 * recorded (its addresses, ports, transaction id), with the same question.
 * IPv6 with extension headers is not an answer it reads. Counts what it
 * ignores (learn_counts) and never drops: it judges nothing.
 */
static __always_inline void learn_skb(struct __sk_buff *skb, const struct gen_settings *gs)
{
	struct learn_resolver_key rk = { .gen = gs->gen };
	struct learn_pending_key pk = {};
	struct learn_pending_value *p;
	struct learn_work_cpu *cpu;
	struct learn_work *lw;
	struct parsed ip = {};
	struct cursor c;
	struct ethhdr *eth;
	struct udphdr *uh;
	__u32 slot, len = skb->len, ulen, dns_len;
	void *start;
	__u64 now;
	int consumed, r;

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
	if (!bpf_map_lookup_elem(&learn_resolvers, &rk)) {
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
	if (dns_len > DNS_MSG_MAX) {
		learn_count(LEARN_EV_TOO_BIG);
		return;
	}
	p = bpf_map_lookup_elem(&learn_pending, &pk);
	now = bpf_ktime_get_ns();
	if (!p || p->expires_ns < now) {
		learn_count(LEARN_EV_NO_QUERY);
		return;
	}
	lw = learn_work_get(&cpu, &slot);
	if (!lw)
		return;
	lw->dw.len = dns_len;
	lw->now = now;
	if (bpf_skb_load_bytes(skb, ip.l4_off + 8, lw->dw.msg, dns_len & (DNS_MSG_MAX * 2 - 1))) {
		learn_count(LEARN_EV_MALFORMED);
		consumed = 0;
	} else {
		consumed = learn_answer(lw, gs->gen, p);
	}
	learn_work_put(cpu, slot);
	if (consumed)
		bpf_map_delete_elem(&learn_pending, &pk); /* one answer per query */
}

#endif
