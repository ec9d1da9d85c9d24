/* pkt_build.c: a packet builder: headers appended to a caller's buffer, then lengths and checksums. */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "pkt_build.h"

#define DNS_CLASS_IN 1

static void put16(__u8 *at, __u16 v)
{
	at[0] = v >> 8;
	at[1] = v & 0xff;
}

static void put32(__u8 *at, __u32 v)
{
	put16(at, v >> 16);
	put16(at + 2, v & 0xffff);
}

/* n zeroed bytes at the end, or NULL (-ENOSPC kept in err) when they do not fit */
static __u8 *reserve(struct pkt_buf *p, size_t n)
{
	__u8 *at;

	if (n > p->size || p->len > p->size - n) {
		if (!p->err)
			p->err = -ENOSPC;
		return NULL;
	}
	at = p->b + p->len;
	memset(at, 0, n);
	p->len += n;
	return at;
}

static int refuse(struct pkt_buf *p, int err)
{
	if (!p->err)
		p->err = err;
	return err;
}

void pkt_reset(struct pkt_buf *p)
{
	*p = (struct pkt_buf){ .b = p->b, .size = p->size };
}

int pkt_zeros(struct pkt_buf *p, size_t n)
{
	return reserve(p, n) ? 0 : -ENOSPC;
}

int pkt_bytes(struct pkt_buf *p, const void *data, size_t n)
{
	__u8 *at = reserve(p, n);

	if (!at)
		return -ENOSPC;
	if (n)
		memcpy(at, data, n);
	return 0;
}

int pkt_eth(struct pkt_buf *p, const __u8 *dst, const __u8 *src, __u16 ethertype)
{
	static const __u8 def_dst[6] = { 2, 0, 0, 0, 0, 1 }, def_src[6] = { 2, 0, 0, 0, 0, 2 };
	__u8 *e = reserve(p, 14);

	if (!e)
		return -ENOSPC;
	memcpy(e, dst ? dst : def_dst, 6);
	memcpy(e + 6, src ? src : def_src, 6);
	put16(e + 12, ethertype);
	return 0;
}

int pkt_vlan(struct pkt_buf *p, __u16 tci, __u16 inner)
{
	__u8 *v = reserve(p, 4);

	if (!v)
		return -ENOSPC;
	put16(v, tci);
	put16(v + 2, inner);
	return 0;
}

int pkt_arp(struct pkt_buf *p, const void *sender, const void *target)
{
	__u8 *a = reserve(p, 28);

	if (!a)
		return -ENOSPC;
	put16(a, 1); /* Ethernet */
	put16(a + 2, 0x0800); /* IPv4 */
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 1); /* request */
	memcpy(a + 14, sender, 4);
	memcpy(a + 24, target, 4);
	return 0;
}

int pkt_ipv4(struct pkt_buf *p, const struct pkt_ip4 *h)
{
	size_t start = p->len;
	__u8 *ip;

	if (h->optlen % 4 || h->optlen > 40)
		return refuse(p, -EINVAL);
	ip = reserve(p, 20 + h->optlen);
	if (!ip)
		return -ENOSPC;
	ip[0] = 0x40 | (20 + h->optlen) / 4;
	put16(ip + 4, h->id);
	put16(ip + 6, h->frag_off);
	ip[8] = h->ttl ? h->ttl : 64;
	ip[9] = h->proto;
	memcpy(ip + 12, h->src, 4);
	memcpy(ip + 16, h->dst, 4);
	if (h->optlen)
		memcpy(ip + 20, h->opts, h->optlen);
	p->l3 = start;
	p->family = AF_INET;
	return 0;
}

int pkt_ipv6(struct pkt_buf *p, const struct pkt_ip6 *h)
{
	size_t start = p->len;
	__u8 *ip = reserve(p, 40);

	if (!ip)
		return -ENOSPC;
	ip[0] = 0x60;
	ip[6] = h->next;
	ip[7] = h->hop_limit ? h->hop_limit : 64;
	memcpy(ip + 8, h->src, 16);
	memcpy(ip + 24, h->dst, 16);
	p->l3 = start;
	p->family = AF_INET6;
	return 0;
}

int pkt_ext6(struct pkt_buf *p, __u8 next, __u8 segments_left)
{
	__u8 *x = reserve(p, 8);

	if (!x)
		return -ENOSPC;
	x[0] = next;
	x[3] = segments_left; /* a routing header's; in an options header, PadN's data */
	return 0;
}

int pkt_frag6(struct pkt_buf *p, __u8 next, __u16 offset8, int more)
{
	__u8 *f = reserve(p, 8);

	if (!f)
		return -ENOSPC;
	f[0] = next;
	put16(f + 2, offset8 << 3 | (more ? 1 : 0));
	put32(f + 4, 0x42); /* identification */
	return 0;
}

/* the transport header of proto, n bytes long, starts here */
static __u8 *l4_header(struct pkt_buf *p, __u8 proto, size_t n)
{
	size_t start = p->len;
	__u8 *at = reserve(p, n);

	if (at) {
		p->l4 = start;
		p->l4proto = proto;
	}
	return at;
}

int pkt_tcp(struct pkt_buf *p, const struct pkt_tcp *h)
{
	__u8 *t = l4_header(p, IPPROTO_TCP, 20);

	if (!t)
		return -ENOSPC;
	put16(t, h->sport);
	put16(t + 2, h->dport);
	put32(t + 4, h->seq);
	put32(t + 8, h->ack);
	t[12] = 5 << 4;
	t[13] = h->flags;
	put16(t + 14, h->window);
	return 0;
}

int pkt_udp(struct pkt_buf *p, __u16 sport, __u16 dport)
{
	__u8 *u = l4_header(p, IPPROTO_UDP, 8);

	if (!u)
		return -ENOSPC;
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, 8);
	return 0;
}

int pkt_icmp6(struct pkt_buf *p, __u8 type)
{
	__u8 *i = l4_header(p, IPPROTO_ICMPV6, 4);

	if (!i)
		return -ENOSPC;
	i[0] = type;
	return 0;
}

/* the ones' complement sum of big-endian 16-bit words, an odd last byte padded with zero */
static __u32 csum_add(__u32 sum, const __u8 *d, size_t n)
{
	for (; n > 1; d += 2, n -= 2)
		sum += (__u32)d[0] << 8 | d[1];
	if (n)
		sum += (__u32)d[0] << 8;
	return sum;
}

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* the transport header's checksum and UDP length, if the header is whole */
static void finish_l4(struct pkt_buf *p, __u32 sum)
{
	size_t hlen = p->l4proto == IPPROTO_TCP ? 20 : p->l4proto == IPPROTO_UDP ? 8 : 4;
	size_t coff = p->l4proto == IPPROTO_TCP ? 16 : p->l4proto == IPPROTO_UDP ? 6 : 2;
	__u8 *l4 = p->b + p->l4;
	size_t n = p->len - p->l4;
	__u16 csum;

	if (p->len < p->l4 + hlen)
		return;
	if (p->l4proto == IPPROTO_UDP)
		put16(l4 + 4, n);
	put16(l4 + coff, 0);
	/* the pseudo-header's length and protocol: the same words for IPv4 and IPv6 */
	sum += p->l4proto + (n >> 16) + (n & 0xffff);
	csum = csum_fold(csum_add(sum, l4, n));
	if (!csum && p->l4proto == IPPROTO_UDP)
		csum = 0xffff; /* 0 would say "no checksum" */
	put16(l4 + coff, csum);
}

int pkt_finish(struct pkt_buf *p)
{
	__u8 *ip = p->b + p->l3;
	size_t n = p->len - p->l3, hl;
	__u32 sum;

	if (!p->family)
		return p->err;
	if (p->family == AF_INET) {
		if (p->len < p->l3 + 20)
			return p->err;
		put16(ip + 2, n);
		hl = (ip[0] & 0xf) * 4;
		if (hl >= 20 && hl <= n) {
			put16(ip + 10, 0);
			put16(ip + 10, csum_fold(csum_add(0, ip, hl)));
		}
		sum = csum_add(0, ip + 12, 8);
	} else {
		if (p->len < p->l3 + 40)
			return p->err;
		put16(ip + 4, n - 40);
		sum = csum_add(0, ip + 8, 32);
	}
	if (p->l4proto && p->l4 > p->l3)
		finish_l4(p, sum);
	return p->err;
}

int pkt_dns_hdr(struct pkt_buf *p, __u16 id, __u16 flags, __u16 qd, __u16 an, __u16 ns, __u16 ar)
{
	__u8 *h = reserve(p, 12);

	if (!h)
		return -ENOSPC;
	put16(h, id);
	put16(h + 2, flags);
	put16(h + 4, qd);
	put16(h + 6, an);
	put16(h + 8, ns);
	put16(h + 10, ar);
	return 0;
}

/* the bytes of name's labels, or -EINVAL for a label no length byte can hold */
static long labels_len(const char *name)
{
	long n = 0;

	while (*name) {
		size_t l = strcspn(name, ".");

		if (l > 255)
			return -EINVAL;
		n += 1 + l;
		name += l + (name[l] == '.');
	}
	return n;
}

int pkt_dns_labels(struct pkt_buf *p, const char *name)
{
	long n = labels_len(name);
	__u8 *at;

	if (n < 0)
		return refuse(p, n);
	at = reserve(p, n);
	if (!at)
		return -ENOSPC;
	while (*name) {
		size_t l = strcspn(name, ".");

		*at++ = l;
		memcpy(at, name, l);
		at += l;
		name += l + (name[l] == '.');
	}
	return 0;
}

int pkt_dns_name(struct pkt_buf *p, const char *name)
{
	long n = labels_len(name);

	if (n < 0)
		return refuse(p, n);
	if (p->len + n + 1 > p->size)
		return refuse(p, -ENOSPC);
	pkt_dns_labels(p, name);
	return pkt_zeros(p, 1);
}

int pkt_dns_ptr(struct pkt_buf *p, __u16 off)
{
	__u8 *at = reserve(p, 2);

	if (!at)
		return -ENOSPC;
	put16(at, 0xc000 | off);
	return 0;
}

int pkt_dns_question(struct pkt_buf *p, const char *name, __u16 type, __u16 class)
{
	long n = labels_len(name);
	__u8 *at;

	if (n < 0)
		return refuse(p, n);
	if (p->len + n + 5 > p->size)
		return refuse(p, -ENOSPC);
	pkt_dns_name(p, name);
	at = reserve(p, 4);
	put16(at, type);
	put16(at + 2, class);
	return 0;
}

int pkt_dns_query(struct pkt_buf *p, __u16 id, const char *name, __u16 type)
{
	long n = labels_len(name);

	if (n < 0)
		return refuse(p, n);
	if (p->len + 12 + n + 5 > p->size)
		return refuse(p, -ENOSPC);
	pkt_dns_hdr(p, id, 0x0100 /* RD */, 1, 0, 0, 0);
	return pkt_dns_question(p, name, type, DNS_CLASS_IN);
}

/* type, class, TTL and the data's length, for len bytes of data that fit after them */
static int rr_fixed(struct pkt_buf *p, __u16 type, __u16 class, __u32 ttl, size_t len)
{
	__u8 *at;

	if (len > 0xffff)
		return refuse(p, -EINVAL);
	if (p->len + 10 + len > p->size)
		return refuse(p, -ENOSPC);
	at = reserve(p, 10);
	put16(at, type);
	put16(at + 2, class);
	put32(at + 4, ttl);
	put16(at + 8, len);
	return 0;
}

int pkt_dns_rr(struct pkt_buf *p, __u16 type, __u16 class, __u32 ttl, const void *data, __u16 len)
{
	int err = rr_fixed(p, type, class, ttl, len);

	return err ? err : pkt_bytes(p, data, len);
}

int pkt_dns_rr_name(struct pkt_buf *p, __u16 type, __u16 class, __u32 ttl, const char *target)
{
	long n = labels_len(target);
	int err;

	if (n < 0)
		return refuse(p, n);
	err = rr_fixed(p, type, class, ttl, n + 1);
	return err ? err : pkt_dns_name(p, target);
}

int pkt_dns_name_check(const char *name)
{
	if (strlen(name) > 253)
		return -EINVAL;
	while (*name) {
		size_t l = strcspn(name, ".");

		if (l == 0 || l > 63)
			return -EINVAL;
		name += l + (name[l] == '.');
	}
	return 0;
}

int pkt_tls_hello(struct pkt_buf *p, const char *name)
{
	static const __u8 fixed[] = {
		0x03,	  0x03, /* legacy_version TLS 1.2 */
		[34] = 0, /* random[32] (zeros), then an empty legacy_session_id */
		0x00,	  0x02, 0x13, 0x01, /* one cipher suite: TLS_AES_128_GCM_SHA256 */
		0x01,	  0x00, /* the null compression method */
	};
	/* supported_versions: TLS 1.3 */
	static const __u8 versions[] = { 0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04 };
	size_t nlen = name ? strlen(name) : 0, ext = sizeof(versions) + (name ? 9 + nlen : 0);
	size_t body = sizeof(fixed) + 2 + ext;
	__u8 *h;

	if (nlen > 255)
		return refuse(p, -EINVAL);
	h = reserve(p, 5 + 4 + body);
	if (!h)
		return -ENOSPC;
	/* the record (handshake, legacy version 3.1) and the handshake message (ClientHello) */
	h[0] = 0x16;
	h[1] = 0x03;
	h[2] = 0x01;
	put16(h + 3, (__u16)(4 + body));
	h[5] = 0x01;
	h[6] = 0;
	put16(h + 7, (__u16)body);
	h += 9;
	memcpy(h, fixed, sizeof(fixed));
	h += sizeof(fixed);
	put16(h, (__u16)ext);
	h += 2;
	if (name) {
		/* server_name: a list of one host_name */
		put16(h, 0x0000);
		put16(h + 2, (__u16)(5 + nlen));
		put16(h + 4, (__u16)(3 + nlen));
		h[6] = 0;
		put16(h + 7, (__u16)nlen);
		memcpy(h + 9, name, nlen);
		h += 9 + nlen;
	}
	memcpy(h, versions, sizeof(versions));
	return 0;
}
