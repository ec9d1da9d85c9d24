/* judge_names.c: the reference judge's name side: DNS queries to a resolver, and addresses DNS taught for a name. */
#include <string.h>
#include <netinet/in.h>
#include "dns_policy.h"
#include "judge_names.h"
#include "learn_rules.h"
#include "reason.h"

/* the query types a query may ask for without a 'dns qtype' line (README: DNS query names) */
static const __u16 default_qtypes[] = { 1 /* A */, 28 /* AAAA */, 5 /* CNAME */, 12 /* PTR */,
					33 /* SRV */ };

/*
 * The name rule of tool (0: of every process; JUDGE_TOOL_UNKNOWN: of any tool)
 * for the learned host at the packet's {protocol, port}, or -1: the one the
 * learning maps count (learn_rule_covering: the most specific followed name,
 * its resolvers), so the judge and the pipeline name the same rule.
 */
static int name_rule_lookup(const struct judge_policy *pol, const struct judge_pkt *k, __u64 tool)
{
	const struct profile *p = pol->prof;

	for (size_t i = 0; i < p->nr_name_rules; i++) {
		const struct rule_origin *o = &p->name_rules[i].o;
		int r;

		/* each tool's rules once: at its first rule; every process's alone */
		if (tool ? !o->tool || (tool != JUDGE_TOOL_UNKNOWN && o->tool_id != tool) : i)
			continue;
		r = learn_rule_covering(p, pol->learned_host, k->proto, k->dport,
					tool ? o->tool : NULL);
		if (r >= 0 && !tool == !p->name_rules[r].o.tool)
			return (int)(p->nr_rules + p->nr_dns_names + r);
		if (tool != JUDGE_TOOL_UNKNOWN)
			return -1;
	}
	return -1;
}

/* an address DNS taught for pol->learned_host: a name rule of a stage that follows names */
unsigned int judge_learned(const struct judge_policy *pol, const struct stage *st,
				  const struct judge_pkt *k, struct judge_verdict *out)
{
	int r = -1;

	if (!st->follows_names)
		return REASON_NO_RULE;
	if (k->tool)
		r = name_rule_lookup(pol, k, k->tool);
	if (r >= 0 && k->tool == JUDGE_TOOL_UNKNOWN)
		return REASON_TOOL_DEFERRED;
	if (r < 0)
		r = name_rule_lookup(pol, k, 0);
	if (r < 0)
		return REASON_NO_RULE;
	out->rule = r;
	return REASON_RULE;
}

/* the reversed-label form of a query name (include/dns_policy.h), cut at the key's size */
static size_t name_key(const __u8 *const *labels, const __u8 *lens, size_t n, __u8 *key)
{
	size_t kl = 0;

	for (size_t i = n; i-- > 0;) {
		for (size_t j = 0; j <= lens[i]; j++) {
			__u8 c = j ? labels[i][j - 1] : lens[i];

			if (j && c >= 'A' && c <= 'Z')
				c = (__u8)(c - 'A' + 'a');
			if (kl < DNS_NAME_KEY_BYTES)
				key[kl] = c;
			kl++;
		}
	}
	if (kl < DNS_NAME_KEY_BYTES)
		key[kl] = 0;
	kl++;
	return kl < DNS_NAME_KEY_BYTES ? kl : DNS_NAME_KEY_BYTES;
}

/* a rule's name in the same form: exact names end with the root's 0 byte */
static size_t rule_key(const struct dns_name_rule *r, __u8 *key)
{
	const char *s = r->name, *end = s + strlen(s);
	size_t kl = 0;

	while (end > s) {
		const char *dot = end;
		size_t l;

		while (dot > s && dot[-1] != '.')
			dot--;
		l = (size_t)(end - dot);
		key[kl++] = (__u8)l;
		memcpy(key + kl, dot, l);
		kl += l;
		end = dot > s ? dot - 1 : s;
	}
	if (!r->wildcard)
		key[kl++] = 0;
	return kl;
}

/* the 'allow dns' line of tool that allows the name (longest match), or -1 */
static int name_lookup(const struct profile *p, const __u8 *qkey, size_t qlen, __u64 tool)
{
	int best = -1;
	size_t best_len = 0;

	for (size_t i = 0; i < p->nr_dns_names; i++) {
		__u8 rk[DNS_NAME_KEY_BYTES + 16];
		size_t rl;

		if (p->dns_names[i].o.tool_id != tool)
			continue;
		rl = rule_key(&p->dns_names[i], rk);
		if (rl > qlen || memcmp(rk, qkey, rl))
			continue;
		/* a wildcard is every name below its suffix, not the suffix itself */
		if (p->dns_names[i].wildcard && (rl == qlen || qkey[rl] == 0))
			continue;
		if (best < 0 || rl > best_len) {
			best = (int)i;
			best_len = rl;
		}
	}
	return best;
}

static bool qtype_allowed(const struct profile *p, __u16 qtype)
{
	const __u16 *t = p->dns_qtypes ? p->dns_qtypes : default_qtypes;
	size_t n = p->dns_qtypes ? p->nr_dns_qtypes :
				   sizeof(default_qtypes) / sizeof(default_qtypes[0]);

	for (size_t i = 0; i < n; i++)
		if (t[i] == qtype)
			return true;
	return false;
}

/* a UDP query to a resolver, checked in the README's order; REASON_RULE sets out->name_rule */
unsigned int judge_dns_query(const struct judge_policy *pol, const struct judge_pkt *k,
			      struct judge_verdict *out)
{
	const __u8 *labels[128], *m = k->b + k->l4 + 8;
	__u8 lens[128], qkey[DNS_NAME_KEY_BYTES];
	size_t mlen = k->end - k->l4 - 8, pos = 12, wire = 0, nl = 0, ql;
	__u16 flags, qd, an, ns, ar, qtype, qclass;
	int rule;

	/* one datagram, its UDP length the IP datagram's (a jumbogram's is not known) */
	if (k->jumbo || judge_be16(k->b + k->l4 + 4) != k->end - k->l4)
		return REASON_DNS_MALFORMED;
	if (mlen > DNS_MSG_MAX || mlen < 12)
		return REASON_DNS_MALFORMED;
	flags = judge_be16(m + 2);
	qd = judge_be16(m + 4);
	an = judge_be16(m + 6);
	ns = judge_be16(m + 8);
	ar = judge_be16(m + 10);
	if ((flags & 0x8000) || ((flags >> 11) & 15) || (flags & 0x0040) || (flags & 15))
		return REASON_DNS_MALFORMED;
	if (an || ns || ar > 1)
		return REASON_DNS_MALFORMED;
	if (qd != 1)
		return REASON_DNS_QDCOUNT;
	for (;;) {
		__u8 l;

		if (pos >= mlen)
			return REASON_DNS_MALFORMED;
		l = m[pos];
		if ((l & 0xc0) == 0xc0)
			return REASON_DNS_COMPRESSION;
		if (l & 0xc0)
			return REASON_DNS_NAME_LEN;
		wire += (size_t)l + 1;
		/* with room for the root label */
		if (wire + (l ? 1 : 0) > DNS_WIRE_NAME_MAX)
			return REASON_DNS_NAME_LEN;
		if (!l) {
			pos++;
			break;
		}
		if (pos + 1 + l > mlen)
			return REASON_DNS_MALFORMED;
		labels[nl] = m + pos + 1;
		lens[nl++] = l;
		pos += 1 + (size_t)l;
	}
	if (pos + 4 > mlen)
		return REASON_DNS_MALFORMED;
	qtype = judge_be16(m + pos);
	qclass = judge_be16(m + pos + 2);
	pos += 4;
	if (ar) {
		size_t rdlen;

		if (pos + 11 > mlen || m[pos] != 0 || judge_be16(m + pos + 1) != DNS_TYPE_OPT)
			return REASON_DNS_MALFORMED;
		rdlen = judge_be16(m + pos + 9);
		if (rdlen > DNS_OPT_DATA_MAX || pos + 11 + rdlen != mlen)
			return REASON_DNS_MALFORMED;
	} else if (pos != mlen) {
		return REASON_DNS_MALFORMED;
	}
	if (!qtype_allowed(pol->prof, qtype) || qclass != DNS_CLASS_IN)
		return REASON_DNS_QTYPE;
	ql = name_key(labels, lens, nl, qkey);
	rule = -1;
	if (k->tool && k->tool != JUDGE_TOOL_UNKNOWN)
		rule = name_lookup(pol->prof, qkey, ql, k->tool);
	if (rule < 0)
		rule = name_lookup(pol->prof, qkey, ql, 0);
	/* XDP: a name some tool's line may allow is for tc ingress, which knows the tool */
	if (rule < 0)
		return k->tool == JUDGE_TOOL_UNKNOWN ? REASON_TOOL_DEFERRED : REASON_QNAME;
	out->name_rule = (int)(pol->prof->nr_rules + (size_t)rule);
	return REASON_RULE;
}

