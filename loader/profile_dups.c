/* profile_dups.c: a profile's rules checked for repeats and overlaps of {protocol, destination, ports}. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "bigmem.h"
#include "profile.h"

/*
 * A rule as the duplicate check sorts it, in 16 bytes (1M rules: each byte is a
 * megabyte of fresh memory, which costs in a virtual machine): the first 8
 * bytes of its head (l4proto, family, plen, 0, the address's first 4 bytes) as a
 * number (big-endian: comparing it compares them), its ports and its index. The
 * rest (an IPv6 address's last 12 bytes, the tool) is read from the rule only
 * where two prefixes are equal (rules of one destination, which are few).
 */
struct dup_key {
	__u64 prefix;
	__u32 rule;
	__u16 port_lo, port_hi;
};

static const char *rule_tool(const struct profile *p, __u32 rule)
{
	return p->rules[rule].o.tool ? p->rules[rule].o.tool : "";
}

/* the head's bytes past the prefix, then the tool */
static int rest_cmp(const struct profile *p, __u32 x, __u32 y)
{
	int c = memcmp(p->rules[x].dst.bytes + 4, p->rules[y].dst.bytes + 4, 12);

	return c ? c : strcmp(rule_tool(p, x), rule_tool(p, y));
}

/* same {protocol, destination} and tool */
static bool same_dest(const struct profile *p, const struct dup_key *x, const struct dup_key *y)
{
	return x->prefix == y->prefix && !rest_cmp(p, x->rule, y->rule);
}

static int dup_key_cmp(const struct profile *p, const struct dup_key *x, const struct dup_key *y)
{
	int c = (x->prefix > y->prefix) - (x->prefix < y->prefix);

	if (!c)
		c = rest_cmp(p, x->rule, y->rule);
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
 * whole. Keys in order already (a generated profile often is) are left as they are.
 */
static int dup_keys_sort(const struct profile *p, struct dup_key *keys, size_t n)
{
	size_t count[8][256];
	struct dup_key *from = keys, *to, *swap, *tmp;
	bool sorted = true;

	for (size_t i = 1; sorted && i < n; i++)
		sorted = keys[i - 1].prefix < keys[i].prefix ||
			 (keys[i - 1].prefix == keys[i].prefix &&
			  dup_key_cmp(p, &keys[i - 1], &keys[i]) < 0);
	if (sorted)
		return 0;
	to = tmp = bigmem_alloc(n * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
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
	bigmem_free(tmp);
	run_profile = p;
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && keys[j].prefix == keys[i].prefix; j++)
			;
		if (j - i > 1)
			qsort(keys + i, j - i, sizeof(*keys), run_cmp);
	}
	return 0;
}

int profile_check_duplicates(const struct profile *p, struct diag *d)
{
	struct dup_key *keys;
	int err = 0;

	if (!p->nr_rules)
		return 0;
	if (p->nr_rules > UINT32_MAX)
		return -E2BIG;
	keys = bigmem_alloc(p->nr_rules * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < p->nr_rules; i++) {
		const struct rule *r = &p->rules[i];
		struct dup_key *k = &keys[i];

		k->prefix = (__u64)r->l4proto << 56 | (__u64)r->dst.family << 48 |
			    (__u64)r->dst.plen << 40;
		for (int b = 0; b < 4; b++)
			k->prefix |= (__u64)r->dst.bytes[b] << (24 - 8 * b);
		k->port_lo = r->port_lo;
		k->port_hi = r->port_hi;
		k->rule = i;
	}
	if (dup_keys_sort(p, keys, p->nr_rules)) {
		bigmem_free(keys);
		return -ENOMEM;
	}
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
