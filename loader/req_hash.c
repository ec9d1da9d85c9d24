/* req_hash.c: one install request as a hash: a reload that would put in place what runs already does nothing. */
#include <stdio.h>
#include <string.h>
#include "req_hash.h"

/* two FNV-1a hashes of 64 bits with different starts: 128 bits, about 1 GB/s */
struct h128 {
	__u64 a, b;
};

static void put(struct h128 *h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++) {
		h->a = (h->a ^ c[i]) * 0x100000001b3ULL;
		h->b = (h->b ^ c[i]) * 0x100000001b3ULL;
	}
	/* the length after the bytes: "ab","c" and "a","bc" differ */
	h->a = (h->a ^ n) * 0x100000001b3ULL;
	h->b = (h->b ^ (n >> 3)) * 0x100000001b3ULL;
}

static void put_str(struct h128 *h, const char *s)
{
	put(h, s ? s : "", s ? strlen(s) + 1 : 0);
}

#define PUT(h, v) put((h), &(v), sizeof(v))

static void put_origin(struct h128 *h, const struct rule_origin *o)
{
	put_str(h, o->file);
	PUT(h, o->line);
	put_str(h, o->text);
	put_str(h, o->tool);
	PUT(h, o->tool_id);
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

		PUT(&h, r->l4proto);
		PUT(&h, r->port_lo);
		PUT(&h, r->port_hi);
		put_addr(&h, &r->dst);
		put_str(&h, r->host);
	}
	/* every kind of rule by its origin, in counter order; the kinds' counts apart */
	PUT(&h, p->nr_rules);
	PUT(&h, p->nr_dns_names);
	PUT(&h, p->nr_name_rules);
	for (size_t i = 0; i < profile_nr_origins(p); i++)
		put_origin(&h, profile_origin(p, i));
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
