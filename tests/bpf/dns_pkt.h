/* dns_pkt.h: DNS messages for tests from the packet builder: from their first byte, long names, records. */
#ifndef IRONCLAW_TEST_DNS_PKT_H
#define IRONCLAW_TEST_DNS_PKT_H

#include <stdio.h>
#include "pkt.h"

#define DNS_ID 0x4242 /* the tests' transaction id */

/* a message from its first byte: the header (id DNS_ID, flags, the four counts) */
static inline void dns_hdr(struct pkt_buf *m, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns,
			   uint16_t ar)
{
	pkt_reset(m);
	pkt_dns_hdr(m, DNS_ID, flags, qd, an, ns, ar);
}

/* a standard query (RD) for one name, from the first byte */
static inline void dns_query(struct pkt_buf *m, const char *name, uint16_t type)
{
	pkt_reset(m);
	pkt_dns_query(m, DNS_ID, name, type);
}

/* an answer's header: QR RD RA, rcode, one question, an answers */
static inline void dns_answer_hdr(struct pkt_buf *m, uint16_t rcode, uint16_t an)
{
	dns_hdr(m, 0x8180 | rcode, 1, an, 0, 0);
}

/* an EDNS OPT record (UDP size 1232) with rdlen bytes of option data */
static inline void dns_opt(struct pkt_buf *m, uint16_t rdlen)
{
	uint8_t data[256];

	memset(data, 0x5a, sizeof(data));
	cr_assert_leq(rdlen, sizeof(data));
	pkt_dns_name(m, "");
	pkt_dns_rr(m, 41, 1232, 0, data, rdlen);
}

/* an A record of the name at off: "10.42.7.11" */
static inline void dns_rr_a(struct pkt_buf *m, uint16_t off, uint32_t ttl, const char *addr)
{
	pkt_dns_ptr(m, off);
	pkt_dns_rr(m, 1, 1, ttl, ADDR(addr), 4);
}

/* a CNAME record of the name at off, its target written in full; returns the target's offset */
static inline uint16_t dns_rr_cname(struct pkt_buf *m, uint16_t off, uint32_t ttl,
				    const char *target)
{
	uint16_t at = m->len + 2 + 10; /* after the pointer, the type, class, TTL and length */

	pkt_dns_ptr(m, off);
	pkt_dns_rr_name(m, 5, 1, ttl, target);
	return at;
}

/* n labels of len characters each, separated by dots, then ".suffix" */
static inline void dns_long_name(char *out, size_t max, int n, int len, const char *suffix)
{
	size_t o = 0;

	for (int i = 0; i < n && o + len + 1 < max; i++) {
		for (int j = 0; j < len; j++)
			out[o++] = "0123456789abcdefghijklmnopqrstuv"[(i * 7 + j * 13) % 32];
		out[o++] = '.';
	}
	snprintf(out + o, max - o, "%s", suffix);
}

#endif
