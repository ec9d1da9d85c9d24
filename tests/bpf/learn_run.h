/*
 * learn_run.h: learning in a test instance as the host side sees it: a
 * query through host-side tc ingress (dispatch_tc_host, which rewrites its
 * id), its answer through the learning program (learn_tc, which gives the
 * sandbox's id back), then packets to what was learned.
 */
#ifndef IRONCLAW_TEST_LEARN_RUN_H
#define IRONCLAW_TEST_LEARN_RUN_H

#include <linux/ip.h>
#include <linux/ipv6.h>
#include "pipeline_run.h"
#include "dns_pkt.h"
#include "flow_frames.h"
#include "learn_maps.h"

/* the id the pipeline wrote in the last query (network order, as on the wire) */
static __be16 query_id;

/* how one frame went through a program, and the frame it left */
struct run_out {
	__u8 b[PKT_TEST_MAX];
	__u32 len;
	__u32 retval;
};

/*
 * Runs the pinned program prog on the frame. flags: BPF_F_TEST_SKB_*;
 * iif, ifindex: the skb's ingress_ifindex and device (0: none, loopback).
 * 0, or -errno (EBADMSG: skb->csum no longer the frame's sum).
 */
static inline int test_run(const char *prog, const struct pkt_buf *p, __u32 flags, __u32 iif,
			   __u32 ifindex, struct run_out *out)
{
	struct __sk_buff ctx = { .ingress_ifindex = iif, .ifindex = ifindex };
	int fd = pins_get(inst, prog), err = 0;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p->b, .data_size_in = p->len,
		    .data_out = out->b, .data_size_out = sizeof(out->b), .repeat = 1,
		    .flags = flags);

	cr_assert_geq(fd, 0, "%s pin missing", prog);
	if (iif || ifindex) {
		opts.ctx_in = &ctx;
		opts.ctx_size_in = sizeof(ctx);
	}
	if (bpf_prog_test_run_opts(fd, &opts))
		err = -errno;
	close(fd);
	out->len = opts.data_size_out;
	out->retval = opts.retval;
	return err;
}

/* the frame's UDP checksum is right (0 in IPv4: none) */
static inline bool udp_csum_ok(const __u8 *f, __u32 len)
{
	bool v6 = (f[14] >> 4) == 6;
	size_t l4 = dns_id_off(f) - 8;
	__u32 sum = 0, ulen = f[l4 + 4] << 8 | f[l4 + 5];

	if (!v6 && !f[l4 + 6] && !f[l4 + 7])
		return true;
	if (l4 + ulen > len)
		return false;
	for (size_t i = v6 ? 22 : 26; i < (v6 ? 54u : 34u); i += 2) /* the addresses */
		sum += f[i] << 8 | f[i + 1];
	sum += IPPROTO_UDP + ulen;
	for (size_t i = 0; i < ulen; i += 2)
		sum += f[l4 + i] << 8 | (i + 1 < ulen ? f[l4 + i + 1] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* Ethernet / IPv4 or IPv6 (of the source's family) */
static inline void ip_frame(struct pkt_buf *p, const char *src, const char *dst, uint8_t proto)
{
	cr_assert_eq(frame_ip(p, src, dst, proto), 0, "a frame from %s to %s", src, dst);
}

/* UDP between the sandbox's port sport and src:53 / dst:53, the message m */
static inline void dns_frame(struct pkt_buf *p, const char *src, const char *dst, uint16_t sport,
			     uint16_t dport, const struct pkt_buf *m)
{
	cr_assert_eq(m->err, 0, "the message");
	cr_assert_eq(frame_dns(p, src, dst, sport, dport, m), 0, "the frame");
}

/* a TCP segment (flags) or UDP datagram from the sandbox's port sport to dst:dport */
static inline void flow_frame(struct pkt_buf *p, uint8_t proto, const char *dst, uint16_t sport,
			      uint16_t dport, uint8_t flags)
{
	ip_frame(p, strchr(dst, ':') ? "fd00:42::2" : "10.42.0.2", dst, proto);
	if (proto == IPPROTO_TCP)
		pkt_tcp(p, &(struct pkt_tcp){ .sport = sport, .dport = dport, .flags = flags });
	else
		pkt_udp(p, sport, dport);
	cr_assert_eq(pkt_finish(p), 0, "the frame");
}

#define SYN 0x02
#define ACK 0x10

static inline void expect_tcp(const char *what, const char *dst, uint16_t sport, uint16_t dport,
			      uint8_t flags, unsigned int want)
{
	FRAME(p);

	flow_frame(&p, IPPROTO_TCP, dst, sport, dport, flags);
	expect(what, &p, want);
}

/*
 * The query frame p, allowed at tc and XDP, then through host-side tc
 * ingress: it leaves with a checksum still right and the id in query_id.
 */
static inline void query_frame(const char *what, const struct pkt_buf *p, __u32 flags)
{
	struct run_out out;
	size_t at = dns_id_off(p->b);

	expect(what, p, REASON_RULE);
	cr_assert_eq(test_run("dispatch_tc_host", p, flags, 0, 0, &out), 0,
		     "%s at host-side tc: %s", what, strerror(errno));
	cr_assert_eq(out.retval, ALLOW, "%s at host-side tc: verdict %u", what, out.retval);
	cr_assert_eq(out.len, p->len, "%s: the frame's length changed", what);
	/* the UDP checksum and the id, side by side, are all that may change */
	cr_expect(!memcmp(out.b, p->b, at - 2) &&
			  !memcmp(out.b + at + 2, p->b + at + 2, p->len - at - 2),
		  "%s: bytes other than the id and the checksum changed", what);
	cr_expect(udp_csum_ok(out.b, out.len), "%s: the UDP checksum is wrong after the rewrite",
		  what);
	memcpy(&query_id, out.b + at, 2);
}

/* the query for name (qtype) from the sandbox's port sport to the IPv4 resolver */
static inline void query(const char *name, uint16_t qtype, uint16_t sport)
{
	FRAME(m);
	FRAME(p);

	dns_query(&m, name, qtype);
	dns_frame(&p, "10.42.0.2", "10.42.0.53", sport, 53, &m);
	query_frame(name, &p, 0);
}

/*
 * The answer m (its id set to id, network order) from src:53 to the
 * sandbox's port sport through the learning program (test-run flags),
 * coming in by interface iif (0: the host's own); *delta: how each
 * learning counter moved; *out: the frame it left.
 */
static inline void answer_with_id(const char *src, uint16_t sport, const struct pkt_buf *m,
				  __be16 id, __u32 flags, __u32 iif, __u64 *delta,
				  struct run_out *out)
{
	const char *to = strchr(src, ':') ? "fd00:42::2" : "10.42.0.2";
	__u64 before[LEARN_EV_MAX], after[LEARN_EV_MAX];
	FRAME(mid); /* the same bytes but the id */
	FRAME(p);

	cr_assert_leq(m->len, sizeof(mid_buf));
	memcpy(mid.b, m->b, m->len);
	mid.len = m->len;
	if (mid.len >= 2)
		memcpy(mid.b, &id, 2);
	dns_frame(&p, src, to, 53, sport, &mid);
	cr_assert_eq(learn_counts_read(inst, before), 0);
	cr_assert_eq(test_run("learn_tc", &p, flags, iif, 0, out), 0, "test run: %s",
		     strerror(errno));
	cr_assert_eq(learn_counts_read(inst, after), 0);
	cr_assert_eq((int)out->retval, TC_ACT_UNSPEC, "the learning program judged a packet: %d",
		     (int)out->retval);
	for (int i = 0; i < LEARN_EV_MAX; i++)
		delta[i] = after[i] - before[i];
}

/* the answer to the last query, with the id the pipeline gave it */
static inline void answer_from(const char *src, uint16_t sport, const struct pkt_buf *m,
			       __u64 *delta)
{
	struct run_out out;

	answer_with_id(src, sport, m, query_id, 0, 0, delta, &out);
}

/* the deltas move counter ev by n and no other (learned by learned) */
static inline void expect_deltas(const char *what, const __u64 *delta, unsigned int ev, __u64 n,
				 __u64 learned)
{
	for (unsigned int i = 0; i < LEARN_EV_MAX; i++) {
		__u64 want = i == ev ? n : i == LEARN_EV_LEARNED ? learned : 0;

		cr_expect_eq(delta[i], want, "%s: %s counted %llu, want %llu", what,
			     learn_event_name(i), (unsigned long long)delta[i],
			     (unsigned long long)want);
	}
}

/* the answer moves counter ev by n and no other (learned by learned) */
static inline void expect_answer(const char *what, const char *src, uint16_t sport,
				 const struct pkt_buf *m, unsigned int ev, __u64 n, __u64 learned)
{
	__u64 delta[LEARN_EV_MAX];

	answer_from(src, sport, m, delta);
	expect_deltas(what, delta, ev, n, learned);
}

/* the answer to dns_query(name, A): one A record of the question's name */
static inline void a_answer(struct pkt_buf *m, const char *name, uint32_t ttl, const char *addr)
{
	cr_assert_eq(dns_a_answer(m, DNS_ID, name, ttl, addr), 0, "an answer for %s", name);
}

#endif
