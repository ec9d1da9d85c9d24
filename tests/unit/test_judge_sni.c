/* test_judge_sni.c: the reference judge's model of the https stage's server-name check (docs/sni.md): test lines with 'server_name', single segments; explain's server_name word. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/if_ether.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include "cli.h"
#include "expect.h"
#include "explain.h"
#include "pkt_build.h"
#include "proftest.h"
#include "reasons.h"
#include "ruleset.h"
#include "diag_helpers.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const profile[] = {
	"allow udp 10.42.0.53 port 53",
	"allow tcp 10.42.9.0/24 port 443",
	"allow tcp name api.example.com port 443",
	"allow tcp name www.example.com port 443",
	"allow tcp name *.cdn.example.com port 443",
	"allow tcp name legacy.example.com port 443 sni off",
	"allow tcp name api.example.com port 8443",
	"allow tcp name tool.example.com port 443 tool t1 sni off",
	"allow tcp name tool.example.com port 443",
};

static struct ruleset rs;
static struct addr src4, src6;

static void setup(void)
{
	struct diag d = {};

	memset(&rs, 0, sizeof(rs));
	for (size_t i = 0; i < ARRAY_SIZE(profile); i++)
		cr_assert_eq(profile_parse_line(&rs.prof, "p.rules", i + 1, profile[i], NULL, &d),
			     0, "%s:%s", profile[i], all_msgs(&d));
	cr_assert_eq(profile_check(&rs.prof, &d), 0, "%s", all_msgs(&d));
	cr_assert_eq(ruleset_plan(&rs, NULL, false, &d), 0, "%s", all_msgs(&d));
	proftest_tools(&rs.prof);
	addr_parse("10.42.0.2", &src4);
	addr_parse("fd00:42::2", &src6);
	diag_free(&d);
}

static void teardown(void)
{
	ruleset_free(&rs);
}

static struct judge_policy policy(void)
{
	static struct addr sources[2];

	sources[0] = src4;
	sources[1] = src6;
	return (struct judge_policy){ .prof = &rs.prof,
				      .plan = &rs.plan,
				      .stages = rs.stages,
				      .nr_stages = rs.nr_stages,
				      .sources = sources,
				      .nr_sources = 2 };
}

TestSuite(judge_sni, .init = setup, .fini = teardown);

/* a test line's verdict: the SYN's, then its hello's (proftest_judge) */
Test(judge_sni, test_lines)
{
	static const struct {
		const char *line;
		unsigned int reason;
		int rule; /* line of p.rules that counts, 0: none */
	} rows[] = {
		/* the name the address was learned for, in any case */
		{ "expect allow tcp name api.example.com port 443 server_name api.example.com",
		  REASON_RULE, 3 },
		{ "expect allow tcp name api.example.com port 443 server_name API.Example.COM",
		  REASON_RULE, 3 },
		/* another followed name, whose answers did not give this address; a stranger */
		{ "expect deny tcp name api.example.com port 443 server_name www.example.com",
		  REASON_SNI, 3 },
		{ "expect deny tcp name api.example.com port 443 server_name evil.example",
		  REASON_SNI, 3 },
		/* a wildcard's address: any name below it, not its suffix, not another */
		{ "expect allow tcp name img.cdn.example.com port 443 server_name js.cdn.example.com",
		  REASON_RULE, 5 },
		{ "expect allow tcp name img.cdn.example.com port 443 server_name a.b.cdn.example.com",
		  REASON_RULE, 5 },
		{ "expect deny tcp name img.cdn.example.com port 443 server_name cdn.example.com",
		  REASON_SNI, 5 },
		{ "expect deny tcp name img.cdn.example.com port 443 server_name api.example.com",
		  REASON_SNI, 5 },
		/* 'sni off': any name */
		{ "expect allow tcp name legacy.example.com port 443 server_name evil.example",
		  REASON_RULE, 6 },
		/* no check on another port, nor for rules by address */
		{ "expect allow tcp name api.example.com port 8443 server_name evil.example",
		  REASON_RULE, 7 },
		{ "expect allow tcp 10.42.9.9 port 443 server_name evil.example", REASON_RULE, 2 },
		/* the tool's rule says 'sni off'; every other process's rule checks */
		{ "expect allow tcp name tool.example.com port 443 server_name evil.example tool t1",
		  REASON_RULE, 8 },
		{ "expect deny tcp name tool.example.com port 443 server_name evil.example",
		  REASON_SNI, 9 },
		{ "expect deny tcp name tool.example.com port 443 server_name evil.example tool t2",
		  REASON_SNI, 9 },
		/* denied at the SYN: the hello is not sent */
		{ "expect deny tcp name api.example.com port 444 server_name api.example.com",
		  REASON_NO_RULE, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct judge_policy pol = policy();
		struct expect_set s = {};
		struct judge_verdict v;
		struct diag d = {};
		const struct rule_origin *o;

		cr_assert_eq(expect_parse_line(&s, "p.test", 1, rows[i].line, &d), 0, "%s",
			     all_msgs(&d));
		cr_assert_eq(proftest_judge(&s.v[0], &pol, proftest_tool_id(&rs.prof, s.v[0].tool),
					    &src4, &src6, &v, &d),
			     0, "%s", all_msgs(&d));
		cr_expect_eq(v.reason, rows[i].reason, "%s: reason %s, want %s", rows[i].line,
			     reason_name(v.reason), reason_name(rows[i].reason));
		cr_expect_eq(v.allow, s.v[0].allow, "%s: verdict", rows[i].line);
		o = v.rule == JUDGE_NO_RULE ? NULL : profile_origin(&rs.prof, (size_t)v.rule);
		cr_expect_eq(o ? o->line : 0, rows[i].rule, "%s: by line %d", rows[i].line,
			     o ? o->line : 0);
		expect_free(&s);
		diag_free(&d);
	}
}

/* a failed line names the rule whose address checks the name */
Test(judge_sni, a_failure_says_sni)
{
	static const char *const line =
		"expect allow tcp name api.example.com port 443 server_name evil.example";
	struct expect_set s = {};
	struct diag d = {};
	size_t failed = 0;

	cr_assert_eq(expect_parse_line(&s, "p.test", 5, line, &d), 0);
	cr_assert_eq(proftest_run(&rs, &s, &failed, &d), 0, "%s", all_msgs(&d));
	cr_assert_eq(failed, 1);
	cr_assert_str_eq(d.msgs[0],
			 "p.test:5: 'expect allow tcp name api.example.com port 443 server_name "
			 "evil.example' failed: the judge says deny (sni) by p.rules:3 ('allow "
			 "tcp name api.example.com port 443')");
	expect_free(&s);
	diag_free(&d);
}

/* one segment of a flow to api.example.com's learned address, judged at hook */
static unsigned int segment(enum hook_id hook, __u8 flags, const void *data, size_t len)
{
	static const __u8 dst[4] = { 192, 0, 2, 123 };
	struct judge_policy pol = policy();
	struct judge_verdict v;
	__u8 buf[600];
	struct pkt_buf p = PKT_BUF(buf);

	pol.learned_host = "api.example.com";
	pkt_eth(&p, NULL, NULL, ETH_P_IP);
	pkt_ipv4(&p, &(struct pkt_ip4){ .src = src4.bytes, .dst = dst, .proto = IPPROTO_TCP });
	pkt_tcp(&p, &(struct pkt_tcp){ .sport = 40000, .dport = 443, .seq = 7, .flags = flags });
	pkt_bytes(&p, data, len);
	cr_assert_eq(pkt_finish(&p), 0);
	cr_assert_eq(judge_frame(&pol, hook, buf, p.len, 0, &v), 0);
	return v.reason;
}

/* what the first data of a checked flow may be (progs/lib/stage_sni.h, tests/bpf/test_sni.c) */
Test(judge_sni, segments)
{
	__u8 hello[400], noname[400];
	struct pkt_buf h = PKT_BUF(hello), n = PKT_BUF(noname);
	__u8 evil[400];
	struct pkt_buf e = PKT_BUF(evil);

	cr_assert_eq(pkt_tls_hello(&h, "api.example.com"), 0);
	cr_assert_eq(pkt_tls_hello(&n, NULL), 0);
	cr_assert_eq(pkt_tls_hello(&e, "evil.example"), 0);
	cr_expect_eq(segment(HOOK_TC, TH_SYN, NULL, 0), REASON_RULE, "the SYN");
	cr_expect_eq(segment(HOOK_TC, TH_ACK, NULL, 0), REASON_RULE, "an ACK without data");
	cr_expect_eq(segment(HOOK_TC, TH_ACK | TH_PUSH, hello, h.len), REASON_RULE, "the hello");
	cr_expect_eq(segment(HOOK_TC, TH_ACK | TH_PUSH, evil, e.len), REASON_SNI, "another name");
	cr_expect_eq(segment(HOOK_TC, TH_ACK | TH_PUSH, noname, n.len), REASON_SNI, "no name");
	cr_expect_eq(segment(HOOK_TC, TH_ACK | TH_PUSH, "GET / HTTP/1.1\r\n\r\n", 18), REASON_SNI,
		     "not TLS");
	cr_expect_eq(segment(HOOK_TC, TH_ACK | TH_PUSH, evil, 20), REASON_RULE,
		     "a hello's first bytes: judged when it is whole");
	cr_expect_eq(segment(HOOK_TC, TH_SYN, hello, h.len), REASON_RULE,
		     "TCP Fast Open: the hello in the SYN");
	cr_expect_eq(segment(HOOK_TC, TH_SYN, evil, e.len), REASON_SNI,
		     "TCP Fast Open: another name in the SYN");
	/* XDP reads no payload: the address alone */
	cr_expect_eq(segment(HOOK_XDP, TH_ACK | TH_PUSH, evil, e.len), REASON_RULE,
		     "another name at XDP");
}

/* explain's word for the same name: TCP only, one host name (loader/cli.c) */
Test(explain_args, server_name, .init = cr_redirect_stderr)
{
	static const struct {
		const char *args[6];
		int argc, ret;
	} rows[] = {
		{ { "tcp", "10.42.9.1", "443", "server_name", "api.example.com" }, 5, 0 },
		{ { "udp", "10.42.9.1", "443", "server_name", "api.example.com" }, 5, EXIT_USAGE },
		{ { "tcp", "10.42.9.1", "443", "server_name" }, 4, EXIT_USAGE },
		{ { "tcp", "10.42.9.1", "443", "server_name", "*.example.com" }, 5, EXIT_USAGE },
		{ { "tcp", "10.42.9.1", "443", "server_name", "bad..name" }, 5, EXIT_USAGE },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct explain_query q = {};
		char *argv[6];

		memcpy(argv, rows[i].args, sizeof(argv));
		cr_expect_eq(cli_explain_args("explain", rows[i].argc, argv, &q), rows[i].ret,
			     "row %zu", i);
		if (!rows[i].ret)
			cr_expect_str_eq(q.server_name, "api.example.com");
	}
}
