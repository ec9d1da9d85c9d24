/* pkt_build.h: a packet builder: Ethernet / VLAN / ARP | IPv4 | IPv6 (+ext) / TCP | UDP | ICMPv6 / DNS | a TLS ClientHello. */
#ifndef IRONCLAW_PKT_BUILD_H
#define IRONCLAW_PKT_BUILD_H

#include <stddef.h>
#include <linux/types.h>

/*
 * The builder's state over a buffer of the caller's. Each step appends one
 * header (or bytes) at len and returns 0, or -errno and appends nothing; the
 * first error stays in err. pkt_finish fills in lengths and checksums.
 *
 *	__u8 buf[128];
 *	struct pkt_buf p = PKT_BUF(buf);
 *
 *	pkt_eth(&p, NULL, NULL, ETH_P_IP);
 *	pkt_ipv4(&p, &(struct pkt_ip4){ .src = a, .dst = b, .proto = IPPROTO_UDP });
 *	pkt_udp(&p, 40000, 53);
 *	pkt_dns_query(&p, 0x1234, "example.org", 1);
 *	err = pkt_finish(&p);
 */
struct pkt_buf {
	__u8 *b;
	size_t size; /* of b */
	size_t len; /* bytes written */
	size_t l3, l4; /* where the IP and the transport header start */
	int family; /* of the IP header: AF_INET, AF_INET6; 0 before one */
	__u8 l4proto; /* IPPROTO_TCP, _UDP or _ICMPV6 once its header is written */
	int err; /* the first step's error, 0 if none */
};

#define PKT_BUF(array)                                                                             \
	{                                                                                          \
		.b = (array), .size = sizeof(array)                                                \
	}

/* the IPv4 header: 20 bytes and the options; ttl 0 is 64 */
struct pkt_ip4 {
	const void *src, *dst; /* 4 bytes each, network order */
	__u8 proto, ttl;
	__u16 id;
	__u16 frag_off; /* flags (IP_DF, IP_MF) and offset in 8 bytes, host order */
	const void *opts; /* optlen bytes, a multiple of 4 up to 40 */
	size_t optlen;
};

/* the IPv6 header; hop_limit 0 is 64 */
struct pkt_ip6 {
	const void *src, *dst; /* 16 bytes each */
	__u8 next, hop_limit;
};

/* a TCP header of 20 bytes */
struct pkt_tcp {
	__u16 sport, dport;
	__u32 seq, ack;
	__u8 flags; /* TH_SYN, TH_ACK, ... */
	__u16 window;
};

/* to len 0 over the same buffer */
void pkt_reset(struct pkt_buf *p);
/* n bytes of zeros, or the bytes of data */
int pkt_zeros(struct pkt_buf *p, size_t n);
int pkt_bytes(struct pkt_buf *p, const void *data, size_t n);

/* Ethernet; NULL addresses are 02:00:00:00:00:01 (dst) and 02:00:00:00:00:02 (src) */
int pkt_eth(struct pkt_buf *p, const __u8 *dst, const __u8 *src, __u16 ethertype);
/* an 802.1Q or 802.1ad tag (the frame's ethertype says which), then the inner ethertype */
int pkt_vlan(struct pkt_buf *p, __u16 tci, __u16 inner);
/* an ARP request over Ethernet for IPv4, hardware addresses zero */
int pkt_arp(struct pkt_buf *p, const void *sender, const void *target);

int pkt_ipv4(struct pkt_buf *p, const struct pkt_ip4 *h);
int pkt_ipv6(struct pkt_buf *p, const struct pkt_ip6 *h);
/* a hop-by-hop, destination options or routing header of 8 bytes (PadN options) */
int pkt_ext6(struct pkt_buf *p, __u8 next, __u8 segments_left);
/* a fragment header: offset in units of 8 bytes */
int pkt_frag6(struct pkt_buf *p, __u8 next, __u16 offset8, int more);

int pkt_tcp(struct pkt_buf *p, const struct pkt_tcp *h);
int pkt_udp(struct pkt_buf *p, __u16 sport, __u16 dport);
/* type, code 0 and the checksum; the message's body follows (pkt_zeros) */
int pkt_icmp6(struct pkt_buf *p, __u8 type);

/*
 * The IP header's length, the UDP length, the IPv4 header's checksum and the
 * transport checksum (TCP, UDP, ICMPv6; pseudo-header of the IP header's
 * addresses), all from len: call it after the last byte of the datagram,
 * again after a cut. A header cut by len is left as it is. The first error
 * of the steps before, or 0.
 */
int pkt_finish(struct pkt_buf *p);

/*
 * DNS, from p->len on (a message alone, or the payload of a UDP header just
 * written). Names are written as given, label by label at the dots, so that
 * tests and probes can send bad ones: a label of 64 to 255 bytes is one
 * length byte of another label type; only one longer than 255 is refused
 * (-EINVAL). Offsets are from the message's first byte.
 */
int pkt_dns_hdr(struct pkt_buf *p, __u16 id, __u16 flags, __u16 qd, __u16 an, __u16 ns, __u16 ar);
/* the labels of name and the root label; "" is the root alone */
int pkt_dns_name(struct pkt_buf *p, const char *name);
/* the labels without the root: a pointer (pkt_dns_ptr) ends the name */
int pkt_dns_labels(struct pkt_buf *p, const char *name);
/* a compression pointer to the name at off */
int pkt_dns_ptr(struct pkt_buf *p, __u16 off);
int pkt_dns_question(struct pkt_buf *p, const char *name, __u16 type, __u16 class);
/* a standard query: RD, one question of class IN */
int pkt_dns_query(struct pkt_buf *p, __u16 id, const char *name, __u16 type);
/* a record's type, class, TTL and data; its owner is written before it */
int pkt_dns_rr(struct pkt_buf *p, __u16 type, __u16 class, __u32 ttl, const void *data, __u16 len);
/* the same whose data is a name, written in full (a CNAME's) */
int pkt_dns_rr_name(struct pkt_buf *p, __u16 type, __u16 class, __u32 ttl, const char *target);
/* 0 for a name of at most 253 bytes in labels of 1 to 63 (a trailing dot allowed), or -EINVAL */
int pkt_dns_name_check(const char *name);

/*
 * A TLS ClientHello in one record, from p->len on (a TCP segment's payload):
 * TLS 1.3 (supported_versions), one cipher suite, and a server_name
 * extension naming name as given (NULL: none), the first bytes of the
 * stream the https stage judges (docs/sni.md). -EINVAL for a name over 255
 * bytes.
 */
int pkt_tls_hello(struct pkt_buf *p, const char *name);

#endif
