/*
 * flow_frames.h: the frames of learning a name and of a TLS flow, shared by the BPF tests
 * (learn_run.h, test_sni.c) and the bench (bench/snibench.c): an IPv4 or IPv6 frame, a DNS
 * query and its A answer, a TCP segment with data, a captured ClientHello
 * (tests/fixtures/tls). No test framework: each returns 0 or -errno.
 */
#ifndef IRONCLAW_TEST_FLOW_FRAMES_H
#define IRONCLAW_TEST_FLOW_FRAMES_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <netinet/in.h>
#include "pkt_build.h"

/* the bytes of an address written as text into out (16 bytes); 0, or -EINVAL */
static inline int frame_addr(const char *text, __u8 *out)
{
	return inet_pton(strchr(text, ':') ? AF_INET6 : AF_INET, text, out) == 1 ? 0 : -EINVAL;
}

/* Ethernet / IPv4 or IPv6 (of the source's family), from the first byte */
static inline int frame_ip(struct pkt_buf *p, const char *src, const char *dst, __u8 proto)
{
	__u8 s[16], d[16];

	pkt_reset(p);
	if (frame_addr(src, s) || frame_addr(dst, d))
		return -EINVAL;
	if (strchr(src, ':')) {
		pkt_eth(p, NULL, NULL, ETH_P_IPV6);
		return pkt_ipv6(p, &(struct pkt_ip6){ .src = s, .dst = d, .next = proto });
	}
	pkt_eth(p, NULL, NULL, ETH_P_IP);
	return pkt_ipv4(p, &(struct pkt_ip4){ .src = s, .dst = d, .proto = proto });
}

/* UDP from src:sport to dst:dport carrying the message m */
static inline int frame_dns(struct pkt_buf *p, const char *src, const char *dst, __u16 sport,
			    __u16 dport, const struct pkt_buf *m)
{
	if (m->err)
		return m->err;
	frame_ip(p, src, dst, IPPROTO_UDP);
	pkt_udp(p, sport, dport);
	pkt_bytes(p, m->b, m->len);
	return pkt_finish(p);
}

/* where the DNS id is in a frame from frame_dns: after Ethernet, IP, UDP */
static inline size_t dns_id_off(const __u8 *frame)
{
	return 14 + ((frame[14] >> 4) == 6 ? sizeof(struct ipv6hdr) : (frame[14] & 15) * 4u) + 8;
}

/* the answer to a query (pkt_dns_query) for name, type A: one A record of it, addr */
static inline int dns_a_answer(struct pkt_buf *m, __u16 id, const char *name, __u32 ttl,
			       const char *addr)
{
	__u8 a[16];

	if (frame_addr(addr, a))
		return -EINVAL;
	pkt_reset(m);
	pkt_dns_hdr(m, id, 0x8180, 1, 1, 0, 0); /* QR RD RA, one question, one answer */
	pkt_dns_question(m, name, 1, 1);
	pkt_dns_ptr(m, 12); /* the question's name */
	return pkt_dns_rr(m, 1, 1, ttl, a, 4);
}

/* a TCP segment from src:sport to dst:dport: seq, flags and len bytes of data */
static inline int frame_tcp(struct pkt_buf *p, const char *src, const char *dst, __u16 sport,
			    __u16 dport, __u32 seq, __u8 flags, const void *data, size_t len)
{
	frame_ip(p, src, dst, IPPROTO_TCP);
	pkt_tcp(p, &(struct pkt_tcp){ .sport = sport, .dport = dport, .seq = seq, .flags = flags });
	if (len)
		pkt_bytes(p, data, len);
	return pkt_finish(p);
}

/* a captured ClientHello: DIR/NAME.hex (one line of hex) into out (max bytes), its length */
static inline int tls_fixture_read(const char *dir, const char *name, __u8 *out, size_t max,
				   size_t *len)
{
	char path[512];
	int c, hi = -1, err = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.hex", dir, name);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	*len = 0;
	while ((c = fgetc(f)) != EOF && c != '\n') {
		int v = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 :
					       -1;

		if (v < 0 || (hi < 0 && *len >= max)) {
			err = -EINVAL;
			break;
		}
		if (hi < 0) {
			hi = v;
		} else {
			out[(*len)++] = hi << 4 | v;
			hi = -1;
		}
	}
	if (!err && (hi >= 0 || !*len))
		err = -EINVAL;
	fclose(f);
	return err;
}

#endif
