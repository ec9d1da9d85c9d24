/* proftest.c: a profile's tests run with the reference judge over the loader's plan. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <linux/if_ether.h>
#include "pkt_build.h"
#include "proftest.h"
#include "reasons.h"

#define PROFTEST_TOOL_BASE 0x1c1a00000000ull
#define PROFTEST_SPORT 40000
#define PROFTEST_SEQ 1000 /* the SYN's; the hello's first byte is the next */

void proftest_tools(struct profile *p)
{
	for (size_t i = 0; i < profile_nr_origins(p); i++) {
		struct rule_origin *o = profile_origin(p, i);

		if (o->tool && !o->tool_id)
			o->tool_id = proftest_tool_id(p, o->tool);
	}
	for (size_t i = 0; i < p->nr_audits; i++)
		if (p->audits[i].tool && !p->audits[i].tool_id)
			p->audits[i].tool_id = proftest_tool_id(p, p->audits[i].name);
}

__u64 proftest_tool_id(const struct profile *p, const char *tool)
{
	if (!tool)
		return 0;
	/* the first line naming it gives its id: its own, or a stand-in from its number */
	for (size_t i = 0; i < profile_nr_origins(p); i++) {
		const struct rule_origin *o = profile_origin(p, i);

		if (o->tool && !strcmp(o->tool, tool))
			return o->tool_id ? o->tool_id : PROFTEST_TOOL_BASE + i + 1;
	}
	for (size_t i = 0; i < p->nr_audits; i++)
		if (p->audits[i].tool && !strcmp(p->audits[i].name, tool))
			return p->audits[i].tool_id ? p->audits[i].tool_id :
						      PROFTEST_TOOL_BASE + 0x10000000 + i;
	return PROFTEST_OTHER_TOOL;
}

/* the first resolver (a UDP port-53 address of the dns stage's own map) tool may ask */
static const struct addr *resolver_for(const struct judge_policy *pol, __u64 tool)
{
	const struct addr *v6 = NULL;

	for (size_t i = 0; i < pol->plan->nr_entries; i++) {
		const struct plan_entry *e = &pol->plan->entries[i];
		const struct rule *r = &pol->prof->rules[e->rule];

		if (e->wide || e->port != 53 || r->l4proto != IPPROTO_UDP ||
		    strcmp(pol->stages[e->stage].desc.name, "dns") ||
		    (r->o.tool_id && r->o.tool_id != tool))
			continue;
		if (r->dst.family == AF_INET)
			return &r->dst;
		v6 = v6 ? v6 : &r->dst;
	}
	return v6;
}

/* a lies in the rule's address or prefix net */
static bool addr_in(const struct addr *net, const struct addr *a)
{
	unsigned int bits = net->plen, i;

	if (net->family != a->family)
		return false;
	for (i = 0; i + 8 <= bits; i += 8)
		if (net->bytes[i / 8] != a->bytes[i / 8])
			return false;
	return i == bits ||
	       !((net->bytes[i / 8] ^ a->bytes[i / 8]) & (__u8)(0xff << (8 - (bits - i))));
}

/* an address no address rule of the protocol covers, for a name's learned address */
static void learned_addr(const struct judge_policy *pol, __u8 proto, struct addr *out)
{
	static const char *const candidates[] = { "192.0.2.123", "198.51.100.123", "203.0.113.123",
						  "100.64.0.123", "240.0.0.123" };

	for (size_t c = 0; c < sizeof(candidates) / sizeof(candidates[0]); c++) {
		bool covered = false;

		addr_parse(candidates[c], out);
		for (size_t i = 0; i < pol->prof->nr_rules; i++) {
			const struct rule *r = &pol->prof->rules[i];

			covered |= r->l4proto == proto && addr_in(&r->dst, out);
		}
		if (!covered)
			return;
	}
	addr_parse(candidates[0], out); /* every one covered: the judge ignores them anyway */
}

int proftest_frame(const struct expect *e, const struct judge_policy *pol, __u64 tool, bool hello,
		   const struct addr *src4, const struct addr *src6, __u8 *buf, size_t size,
		   size_t *len, const char **learned_host, struct diag *d)
{
	struct pkt_buf p = { .b = buf, .size = size };
	struct addr dst = e->dst;
	const struct addr *src;

	*learned_host = NULL;
	if (e->kind == EXPECT_DNS) {
		const struct addr *r = resolver_for(pol, tool);

		if (!r) {
			diag_error(d, e->file, e->line,
				   "no resolver%s%s%s to send the query to: the profile has no "
				   "'allow udp ADDRESS port 53' line%s ('%s')",
				   e->tool ? " tool " : "", e->tool ? e->tool : "",
				   e->tool ? " may ask" : "", e->tool ? " for it" : "", e->text);
			return -EINVAL;
		}
		dst = *r;
	} else if (e->kind == EXPECT_NAME) {
		learned_addr(pol, e->l4proto, &dst);
		*learned_host = e->host;
	}
	src = dst.family == AF_INET ? src4 : src6;
	pkt_eth(&p, NULL, NULL, dst.family == AF_INET ? ETH_P_IP : ETH_P_IPV6);
	if (dst.family == AF_INET)
		pkt_ipv4(&p, &(struct pkt_ip4){
				     .src = src->bytes, .dst = dst.bytes, .proto = e->l4proto });
	else
		pkt_ipv6(&p, &(struct pkt_ip6){
				     .src = src->bytes, .dst = dst.bytes, .next = e->l4proto });
	if (e->l4proto == IPPROTO_TCP && hello)
		pkt_tcp(&p, &(struct pkt_tcp){ .sport = PROFTEST_SPORT,
					       .dport = e->port,
					       .seq = PROFTEST_SEQ + 1,
					       .flags = TH_ACK | TH_PUSH,
					       .window = 64240 });
	else if (e->l4proto == IPPROTO_TCP)
		pkt_tcp(&p, &(struct pkt_tcp){ .sport = PROFTEST_SPORT,
					       .dport = e->port,
					       .seq = PROFTEST_SEQ,
					       .flags = TH_SYN,
					       .window = 64240 });
	else
		pkt_udp(&p, PROFTEST_SPORT, e->port);
	/* a port-53 datagram is a query, as a resolver is asked: the name, or one of the line's */
	if (e->l4proto == IPPROTO_UDP && e->port == 53)
		pkt_dns_query(&p, 0x1c1a, e->kind == EXPECT_DNS ? e->host : "example.org", 1);
	else if (e->l4proto == IPPROTO_UDP)
		pkt_bytes(&p, "ironclaw", 8);
	if (hello)
		pkt_tls_hello(&p, e->server_name);
	if (pkt_finish(&p)) {
		diag_error(d, e->file, e->line, "cannot build the packet of '%s'", e->text);
		return -EINVAL;
	}
	*len = p.len;
	return 0;
}

void proftest_verdict_text(const struct profile *p, const struct judge_verdict *v, char *buf,
			   size_t size)
{
	int id = v->rule != JUDGE_NO_RULE ? v->rule : v->name_rule;
	const struct rule_origin *o = id != JUDGE_NO_RULE ? profile_origin(p, (size_t)id) : NULL;
	int n = snprintf(buf, size, "%s (%s)", v->allow ? "allow" : "deny", reason_name(v->reason));

	if (o && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, " by %s:%d ('%s')", o->file, o->line, o->text);
}

int proftest_judge(const struct expect *e, struct judge_policy *pol, __u64 tool,
		   const struct addr *src4, const struct addr *src6, struct judge_verdict *v,
		   struct diag *d)
{
	__u8 frame[PROFTEST_FRAME_MAX];
	size_t len;
	int err = proftest_frame(e, pol, tool, false, src4, src6, frame, sizeof(frame), &len,
				 &pol->learned_host, d);

	if (!err)
		err = judge_frame(pol, HOOK_TC, frame, len, tool, v);
	if (err || !e->server_name || !v->allow)
		return err;
	err = proftest_frame(e, pol, tool, true, src4, src6, frame, sizeof(frame), &len,
			     &pol->learned_host, d);
	return err ? err : judge_frame(pol, HOOK_TC, frame, len, tool, v);
}

int proftest_run(const struct ruleset *rs, const struct expect_set *s, size_t *failed,
		 struct diag *d)
{
	struct addr src4, src6;
	struct judge_policy pol = { .prof = &rs->prof,
				    .plan = &rs->plan,
				    .stages = rs->stages,
				    .nr_stages = rs->nr_stages,
				    .sources = (struct addr[2]){},
				    .nr_sources = 2 };
	int err = 0;

	/* stand-ins for the sandbox's addresses: the judge reads the destination only */
	addr_parse("10.42.0.2", &src4);
	addr_parse("fd00:42::2", &src6);
	memcpy((struct addr *)pol.sources, &src4, sizeof(src4));
	memcpy((struct addr *)pol.sources + 1, &src6, sizeof(src6));
	*failed = 0;
	for (size_t i = 0; i < s->nr; i++) {
		const struct expect *e = &s->v[i];
		__u64 tool = proftest_tool_id(&rs->prof, e->tool);
		struct judge_verdict v;
		char said[512];
		int er = proftest_judge(e, &pol, tool, &src4, &src6, &v, d);

		if (er) {
			err = err ? err : er;
			continue;
		}
		if (v.allow == e->allow)
			continue;
		(*failed)++;
		proftest_verdict_text(&rs->prof, &v, said, sizeof(said));
		diag_error(d, e->file, e->line, "'%s' failed: the judge says %s%s", e->text, said,
			   e->server_name && v.reason != REASON_SNI && !v.allow ? " at the SYN" :
										  "");
	}
	return err;
}
