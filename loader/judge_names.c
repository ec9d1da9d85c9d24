/* judge_names.c: the reference judge's name side: DNS queries to a resolver, and addresses DNS taught for a name. */
#include <ctype.h>
#include <string.h>
#include <netinet/tcp.h>
#include <netinet/in.h>
#include "dns_policy.h"
#include "judge_names.h"
#include "learn_rules.h"
#include "reason.h"
#include "tls_sni.h"

/* the longest hello the https stage keeps over segments (progs/lib/sni_maps.h: SNI_BUF_MAX) */
#define JUDGE_SNI_BUF_MAX 4096

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

/* the name of the tool whose cgroup id is tool, for learn_rule_over; NULL: no name rule names it */
static const char *tool_name(const struct profile *p, __u64 tool)
{
	for (size_t i = 0; tool && i < p->nr_name_rules; i++)
		if (p->name_rules[i].o.tool && p->name_rules[i].o.tool_id == tool)
			return p->name_rules[i].o.tool;
	return NULL;
}

/*
 * The learn_rules entry of followed name x (the index of its first rule) at
 * the packet's {protocol, port}: the rule that lists it there for the
 * sender's tool (own) and for every process (all), or -1.
 */
static void listed(const struct profile *p, const struct judge_pkt *k, int x, int *own, int *all)
{
	const char *tool = tool_name(p, k->tool);

	*own = tool ? learn_rule_over(p, (size_t)x, k->proto, k->dport, tool) : -1;
	*all = learn_rule_over(p, (size_t)x, k->proto, k->dport, NULL);
}

/*
 * The followed name x opened the address with 'sni off' (sni_off_covers): its
 * entry for the sender's tool or for every process is a rule with the word
 */
static bool sni_off(const struct profile *p, const struct judge_pkt *k, int x)
{
	int own, all;

	listed(p, k, x, &own, &all);
	return (own >= 0 && p->name_rules[own].sni_off) || (all >= 0 && p->name_rules[all].sni_off);
}

/* most followed names tried for one server name (progs/lib/stage_sni.h: SNI_COVER_MAX) */
#define JUDGE_SNI_COVER_MAX 4

/*
 * The server name (lowercase) is covered by the followed name x, the one
 * the address was learned under: x is among the followed names over it (its
 * exact name, then each wildcard above it, the most specific first, at most
 * JUDGE_SNI_COVER_MAX; a wildcard is not its own suffix) and listed at the
 * packet's {protocol, port} (sni_name_allowed).
 */
static bool sni_covered(const struct profile *p, const struct judge_pkt *k, const char *name, int x)
{
	__u8 key[DNS_NAME_KEY_BYTES], rk[DNS_NAME_KEY_BYTES];
	int qlen = learn_host_key(name, key, sizeof(key)), last = qlen + 1;

	if (qlen < 0)
		return false; /* longer than any followed name's key */
	for (int step = 0; step < JUDGE_SNI_COVER_MAX; step++) {
		int best = -1, best_len = -1, own, all;

		/* the longest followed name whose key begins the name's, shorter than the last */
		for (size_t i = 0; i < p->nr_name_rules; i++) {
			int n = learn_host_key(p->name_rules[i].host, rk, sizeof(rk));

			if (n < 0 || n >= last || n <= best_len || memcmp(rk, key, (size_t)n))
				continue;
			best = (int)i;
			best_len = n;
		}
		if (best < 0)
			return false;
		last = best_len;
		/* '*.example.com' is not above 'example.com' */
		if (strcmp(p->name_rules[best].host, p->name_rules[x].host) ||
		    (p->name_rules[x].wildcard && best_len == qlen - 1))
			continue;
		listed(p, k, x, &own, &all);
		if (own >= 0 || all >= 0)
			return true;
	}
	return false;
}

/*
 * The https stage's check (docs/sni.md) of a packet the learned address
 * allowed: at tc, when some name rule on tcp/443 lacks 'sni off'. A SYN
 * without data passes. A segment with data, a Fast Open SYN's too, is taken
 * as the flow's first data: a ClientHello whose server name is one the address
 * was learned for (or below its wildcard), or the start of one longer than
 * the segment; anything else is REASON_SNI. Without data: allowed.
 */
static unsigned int judge_sni(const struct judge_policy *pol, const struct stage *st,
			      const struct judge_pkt *k)
{
	const struct profile *p = pol->prof;
	size_t end = k->jumbo ? k->l3 + 40 : k->end, len = end > k->data ? end - k->data : 0;
	char name[TLS_HELLO_NAME_MAX + 1];
	struct tls_hello h;
	int x, st_hello;

	if (k->hook != HOOK_TC || k->proto != IPPROTO_TCP || strcmp(st->desc.name, "https") ||
	    !learn_sni_checked(p))
		return REASON_RULE;
	x = learn_followed_name(p, pol->learned_host);
	if (x < 0)
		return REASON_RULE; /* not reached: a name rule allowed it */
	if (sni_off(p, k, x))
		return REASON_RULE;
	if (!len)
		return REASON_RULE; /* a SYN, an ACK, a FIN */
	st_hello = tls_sni_read(k->b + k->data, len, &h);
	if (st_hello == TLS_HELLO_SHORT)
		return h.need <= JUDGE_SNI_BUF_MAX ? REASON_RULE : REASON_SNI;
	if (st_hello != TLS_HELLO_NAME || !h.name_len || h.name_len > TLS_HELLO_NAME_MAX)
		return REASON_SNI;
	for (__u32 i = 0; i < h.name_len; i++)
		name[i] = (char)tolower(k->b[k->data + h.name_off + i]);
	name[h.name_len] = 0;
	return sni_covered(p, k, name, x) ? REASON_RULE : REASON_SNI;
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
	return judge_sni(pol, st, k);
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
