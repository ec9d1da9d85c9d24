/* req_hash.c: one install request as a hash: a reload that would put in place what runs already does nothing. */
#include <stdio.h>
#include <string.h>
#include "req_hash.h"

/*
 * Two 64-bit lanes of 128 bits, mixed a word of 8 bytes at a time (about 6 GB/s; FNV-1a's
 * byte at a time hashed 1M rules in 0.15 s). It tells requests apart, no more: whoever can
 * write a profile changes what runs anyway.
 */
struct h128 {
	__u64 a, b;
};

static inline __u64 rotl64(__u64 x, int r)
{
	return x << r | x >> (64 - r);
}

static inline void mix(struct h128 *h, __u64 w)
{
	h->a = rotl64((h->a ^ w) * 0x9e3779b97f4a7c15ULL, 31);
	h->b = rotl64((h->b + w) * 0xc2b2ae3d27d4eb4fULL, 29) ^ h->a;
}

static void put(struct h128 *h, const void *p, size_t n)
{
	const unsigned char *c = p;
	__u64 w = 0;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, c + i, 8);
		mix(h, w);
	}
	if (i < n) {
		w = 0;
		memcpy(&w, c + i, n - i);
		mix(h, w);
	}
	/* the length after the bytes: "ab","c" and "a","bc" differ */
	mix(h, n ^ 0x5bd1e9955bd1e995ULL);
}

static void put_str(struct h128 *h, const char *s)
{
	put(h, s ? s : "", s ? strlen(s) + 1 : 0);
}

#define PUT(h, v) put((h), &(v), sizeof(v))

/* a file by its place in the profile's interned names (hashed whole, once), else by name */
static void put_file(struct h128 *h, const struct profile *p, const char *file, size_t *last)
{
	if (*last < p->nr_files && p->files[*last] == file) {
		mix(h, *last);
		return;
	}
	for (size_t i = 0; i < p->nr_files; i++)
		if (p->files[i] == file) {
			*last = i;
			mix(h, i);
			return;
		}
	mix(h, ~0ULL);
	put_str(h, file);
}

static void put_origin(struct h128 *h, const struct profile *p, const struct rule_origin *o,
		       size_t *last)
{
	put_file(h, p, o->file, last);
	mix(h, (__u64)(__u32)o->line << 1 | !!o->tool);
	mix(h, o->tool_id);
	put_str(h, o->text);
	if (o->tool)
		put_str(h, o->tool);
}

static void put_addr(struct h128 *h, const struct addr *a)
{
	PUT(h, a->family);
	PUT(h, a->plen);
	put(h, a->bytes, sizeof(a->bytes));
}

void req_hash(const struct install_req *rq, const void *dispatcher_elf, size_t elf_len,
	      char out[REQ_HASH_LEN])
{
	const struct profile *p = rq->profile;
	struct h128 h = { 0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL };

	put(&h, dispatcher_elf, elf_len);
	for (size_t i = 0; i < rq->nr_stages; i++) {
		put(&h, &rq->stages[i].desc, sizeof(rq->stages[i].desc));
		put(&h, rq->stages[i].elf, rq->stages[i].elf_sz);
		PUT(&h, rq->stages[i].follows_names);
	}
	for (size_t i = 0; i < p->nr_rules; i++) {
		const struct rule *r = &p->rules[i];
		/* the fields in one put, without padding: 1M rules */
		struct {
			__u8 l4proto, family, plen, has_host;
			__u16 port_lo, port_hi;
			__u8 bytes[16];
		} f = { .l4proto = r->l4proto,
			.family = r->dst.family,
			.plen = r->dst.plen,
			.has_host = !!r->host,
			.port_lo = r->port_lo,
			.port_hi = r->port_hi };

		memcpy(f.bytes, r->dst.bytes, sizeof(f.bytes));
		PUT(&h, f);
		if (r->host)
			put_str(&h, r->host);
	}
	/* every kind of rule by its origin, in counter order; the kinds' counts apart */
	PUT(&h, p->nr_rules);
	PUT(&h, p->nr_dns_names);
	PUT(&h, p->nr_name_rules);
	for (size_t i = 0; i < p->nr_files; i++)
		put_str(&h, p->files[i]);
	PUT(&h, p->nr_files);
	for (size_t i = 0, last = 0; i < profile_nr_origins(p); i++)
		put_origin(&h, p, profile_origin(p, i), &last);
	put(&h, p->dns_qtypes, p->nr_dns_qtypes * sizeof(*p->dns_qtypes));
	PUT(&h, p->nr_dns_qtypes);
	PUT(&h, p->learn.grace_s);
	PUT(&h, p->learn.max_ttl_s);
	PUT(&h, p->learn.max_addrs);
	PUT(&h, p->learn.rate);
	PUT(&h, p->learn.max_total);
	PUT(&h, p->learn.has_via);
	put_addr(&h, &p->learn.via);
	for (size_t i = 0; i < p->nr_audits; i++) {
		PUT(&h, p->audits[i].tool);
		put_str(&h, p->audits[i].name);
		PUT(&h, p->audits[i].tool_id);
	}
	PUT(&h, p->nr_audits);
	for (size_t i = 0; i < p->nr_name_rules; i++) {
		PUT(&h, p->name_rules[i].has_via);
		put_addr(&h, &p->name_rules[i].via);
	}
	for (size_t i = 0; i < rq->nr_sources; i++)
		put_addr(&h, &rq->sources[i]);
	PUT(&h, rq->nr_sources);
	for (size_t i = 0; i < rq->nr_gateways; i++)
		put_addr(&h, &rq->gateways[i]);
	PUT(&h, rq->nr_gateways);
	PUT(&h, rq->tool_level);
	PUT(&h, rq->has_tools);
	PUT(&h, rq->audit_all);
	PUT(&h, rq->audit_slots);
	PUT(&h, rq->xdp_programs);
	snprintf(out, REQ_HASH_LEN, "%016llx%016llx", (unsigned long long)h.a,
		 (unsigned long long)h.b);
}
