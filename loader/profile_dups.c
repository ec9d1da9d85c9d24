/* profile_dups.c: a profile's rules checked for repeats and overlaps of {protocol, destination, ports}. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "bigmem.h"
#include "profile.h"

/*
 * A rule as the duplicate check sorts it: what it is compared by, in the order
 * compared, packed beside its index (only rules of one destination, which are
 * few, are read during the sort: for their tools). The head is l4proto,
 * family, plen, 0 and the address's 16 bytes: its first 8 bytes as a number
 * (big-endian: comparing it compares them), which a radix sort orders, then
 * the other 12.
 */
struct dup_key {
	__u64 prefix;
	__u8 rest[12];
	__u16 port_lo, port_hi;
	__u32 rule;
};

static const char *rule_tool(const struct profile *p, __u32 rule)
{
	return p->rules[rule].o.tool ? p->rules[rule].o.tool : "";
}

/* same {protocol, destination} and tool */
static bool same_dest(const struct profile *p, const struct dup_key *x, const struct dup_key *y)
{
	return x->prefix == y->prefix && !memcmp(x->rest, y->rest, sizeof(x->rest)) &&
	       !strcmp(rule_tool(p, x->rule), rule_tool(p, y->rule));
}

static int dup_key_cmp(const struct profile *p, const struct dup_key *x, const struct dup_key *y)
{
	int c = (x->prefix > y->prefix) - (x->prefix < y->prefix);

	if (!c)
		c = memcmp(x->rest, y->rest, sizeof(x->rest));
	if (c)
		return c;
	c = strcmp(rule_tool(p, x->rule), rule_tool(p, y->rule));
	if (c)
		return c;
	if (x->port_lo != y->port_lo)
		return x->port_lo - y->port_lo;
	return (x->rule > y->rule) - (x->rule < y->rule);
}

static const struct profile *run_profile;

static int run_cmp(const void *a, const void *b)
{
	return dup_key_cmp(run_profile, a, b);
}

/*
 * keys in dup_key_cmp's order: a stable radix sort of the prefixes (a digit all keys share
 * is skipped), then each run of one prefix (rules of one destination, in rule order) sorted
 * whole. tmp: room for n keys.
 */
static void dup_keys_sort(const struct profile *p, struct dup_key *keys, struct dup_key *tmp,
			  size_t n)
{
	size_t count[8][256];
	struct dup_key *from = keys, *to = tmp, *swap;

	memset(count, 0, sizeof(count));
	for (size_t i = 0; i < n; i++)
		for (int d = 0; d < 8; d++)
			count[d][keys[i].prefix >> (8 * d) & 0xff]++;
	for (int d = 0; d < 8; d++) {
		size_t pos = 0;

		if (count[d][keys[0].prefix >> (8 * d) & 0xff] == n)
			continue;
		for (int v = 0; v < 256; v++) {
			size_t c = count[d][v];

			count[d][v] = pos;
			pos += c;
		}
		for (size_t i = 0; i < n; i++)
			to[count[d][from[i].prefix >> (8 * d) & 0xff]++] = from[i];
		swap = from;
		from = to;
		to = swap;
	}
	if (from != keys)
		memcpy(keys, from, n * sizeof(*keys));
	run_profile = p;
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && keys[j].prefix == keys[i].prefix; j++)
			;
		if (j - i > 1)
			qsort(keys + i, j - i, sizeof(*keys), run_cmp);
	}
}

int profile_check_duplicates(const struct profile *p, struct diag *d)
{
	struct dup_key *keys, *tmp;
	int err = 0;

	if (!p->nr_rules)
		return 0;
	if (p->nr_rules > UINT32_MAX)
		return -E2BIG;
	keys = bigmem_alloc(p->nr_rules * sizeof(*keys));
	tmp = bigmem_alloc(p->nr_rules * sizeof(*tmp));
	if (!keys || !tmp) {
		bigmem_free(keys);
		bigmem_free(tmp);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->nr_rules; i++) {
		const struct rule *r = &p->rules[i];
		struct dup_key *k = &keys[i];

		k->prefix = (__u64)r->l4proto << 56 | (__u64)r->dst.family << 48 |
			    (__u64)r->dst.plen << 40;
		for (int b = 0; b < 4; b++)
			k->prefix |= (__u64)r->dst.bytes[b] << (24 - 8 * b);
		memcpy(k->rest, r->dst.bytes + 4, 12);
		k->port_lo = r->port_lo;
		k->port_hi = r->port_hi;
		k->rule = i;
	}
	dup_keys_sort(p, keys, tmp, p->nr_rules);
	bigmem_free(tmp);
	/* a is the rule reaching furthest among the earlier ones with the same destination */
	for (size_t i = 1, ai = 0; i < p->nr_rules; i++) {
		const struct dup_key *ka = &keys[ai], *kb = &keys[i];
		const struct rule *a, *b, *first, *later;

		if (!same_dest(p, ka, kb) || kb->port_lo > ka->port_hi) {
			ai = i;
			continue;
		}
		if (kb->port_hi > ka->port_hi)
			ai = i;
		a = first = &p->rules[ka->rule];
		b = later = &p->rules[kb->rule];
		if (a->o.file == b->o.file && a->o.line == b->o.line)
			continue; /* one name resolved to the same address twice */
		if (b < a) {
			first = b;
			later = a;
		}
		if (a->port_lo == b->port_lo && a->port_hi == b->port_hi)
			diag_error(d, later->o.file, later->o.line, "duplicate of %s:%d ('%s')",
				   first->o.file, first->o.line, first->o.text);
		else
			diag_error(d, later->o.file, later->o.line, "ports overlap %s:%d ('%s')",
				   first->o.file, first->o.line, first->o.text);
		err = -EINVAL;
	}
	bigmem_free(keys);
	return err;
}
