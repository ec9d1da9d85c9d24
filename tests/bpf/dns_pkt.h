/* dns_pkt.h: DNS query messages for tests, byte by byte, malformed ones too. */
#ifndef IRONCLAW_TEST_DNS_PKT_H
#define IRONCLAW_TEST_DNS_PKT_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

struct dnsmsg {
	uint8_t b[700];
	size_t len;
};

static inline void dns_put16(struct dnsmsg *m, uint16_t v)
{
	m->b[m->len++] = v >> 8;
	m->b[m->len++] = v & 0xff;
}

/* id, flags, then the four counts */
static inline void dns_hdr(struct dnsmsg *m, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns,
			   uint16_t ar)
{
	m->len = 0;
	dns_put16(m, 0x4242);
	dns_put16(m, flags);
	dns_put16(m, qd);
	dns_put16(m, an);
	dns_put16(m, ns);
	dns_put16(m, ar);
}

/* "a.b.c" as labels and the root; "" is the root alone; no checks: tests make bad names */
static inline void dns_name(struct dnsmsg *m, const char *text)
{
	while (*text) {
		const char *dot = strchr(text, '.');
		size_t n = dot ? (size_t)(dot - text) : strlen(text);

		m->b[m->len++] = n;
		memcpy(m->b + m->len, text, n);
		m->len += n;
		text += n + (dot ? 1 : 0);
	}
	m->b[m->len++] = 0;
}

static inline void dns_raw(struct dnsmsg *m, const void *bytes, size_t n)
{
	memcpy(m->b + m->len, bytes, n);
	m->len += n;
}

static inline void dns_question(struct dnsmsg *m, const char *name, uint16_t type, uint16_t cls)
{
	dns_name(m, name);
	dns_put16(m, type);
	dns_put16(m, cls);
}

/* an EDNS OPT record with rdlen bytes of option data */
static inline void dns_opt(struct dnsmsg *m, uint16_t rdlen)
{
	m->b[m->len++] = 0;
	dns_put16(m, 41);
	dns_put16(m, 1232);
	dns_put16(m, 0);
	dns_put16(m, 0);
	dns_put16(m, rdlen);
	memset(m->b + m->len, 0x5a, rdlen);
	m->len += rdlen;
}

/* a standard query (RD) for one name */
static inline void dns_query(struct dnsmsg *m, const char *name, uint16_t type)
{
	dns_hdr(m, 0x0100, 1, 0, 0, 0);
	dns_question(m, name, type, 1);
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

/* an answer's header: QR RD RA, rcode, one question, an answers */
static inline void dns_answer_hdr(struct dnsmsg *m, uint16_t rcode, uint16_t an)
{
	dns_hdr(m, 0x8180 | rcode, 1, an, 0, 0);
}

/* a record's owner as a compression pointer to offset off (12: the question's name) */
static inline void dns_ptr(struct dnsmsg *m, uint16_t off)
{
	dns_put16(m, 0xc000 | off);
}

/* type, class IN, TTL and the data of a record whose owner was just written */
static inline void dns_rr_data(struct dnsmsg *m, uint16_t type, uint32_t ttl, const void *rd,
			       uint16_t rdlen)
{
	dns_put16(m, type);
	dns_put16(m, 1);
	dns_put16(m, ttl >> 16);
	dns_put16(m, ttl & 0xffff);
	dns_put16(m, rdlen);
	dns_raw(m, rd, rdlen);
}

/* an A record of the name at off: "10.42.7.11" */
static inline void dns_rr_a(struct dnsmsg *m, uint16_t off, uint32_t ttl, const char *addr)
{
	uint8_t a[4];

	inet_pton(AF_INET, addr, a);
	dns_ptr(m, off);
	dns_rr_data(m, 1, ttl, a, 4);
}

/* a CNAME record of the name at off, its target written in full; returns the target's offset */
static inline uint16_t dns_rr_cname(struct dnsmsg *m, uint16_t off, uint32_t ttl,
				    const char *target)
{
	struct dnsmsg t = {};
	uint16_t at;

	dns_name(&t, target);
	dns_ptr(m, off);
	at = m->len + 10;
	dns_rr_data(m, 5, ttl, t.b, t.len);
	return at;
}

#endif
