/* test_expect.c: profile tests (loader/expect.c, proftest.c): the .test grammar, its errors, and lines judged over a plan. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <criterion/criterion.h>
#include "expect.h"
#include "proftest.h"
#include "ruleset.h"
#include "diag_helpers.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *text;
	bool allow;
	enum expect_kind kind;
	__u8 proto;
	__u16 port;
	const char *host, *tool, *kept;
} good[] = {
	{ "expect allow tcp 10.42.7.11 port 8080 tool memscraper", true, EXPECT_ADDR, IPPROTO_TCP,
	  8080, NULL, "memscraper", "expect allow tcp 10.42.7.11 port 8080 tool memscraper" },
	{ "  expect deny\tudp 10.42.0.99 port 53   # the resolver is .53", false, EXPECT_ADDR,
	  IPPROTO_UDP, 53, NULL, NULL, "expect deny udp 10.42.0.99 port 53" },
	{ "expect deny tcp fd00::1 port 443", false, EXPECT_ADDR, IPPROTO_TCP, 443, NULL, NULL,
	  "expect deny tcp fd00::1 port 443" },
	{ "expect deny dns tunnel.attacker.example", false, EXPECT_DNS, IPPROTO_UDP, 53,
	  "tunnel.attacker.example", NULL, "expect deny dns tunnel.attacker.example" },
	{ "expect allow dns update.vendor.example tool t1", true, EXPECT_DNS, IPPROTO_UDP, 53,
	  "update.vendor.example", "t1", "expect allow dns update.vendor.example tool t1" },
	{ "expect allow tcp name log-collector.internal.corp port 8080", true, EXPECT_NAME,
	  IPPROTO_TCP, 8080, "log-collector.internal.corp", NULL,
	  "expect allow tcp name log-collector.internal.corp port 8080" },
};

Test(expect_lines, good)
{
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		struct expect_set s = {};
		struct diag d = {};
		const struct expect *e;

		cr_assert_eq(expect_parse_line(&s, "t.test", 7, good[i].text, &d), 0,
			     "\"%s\" refused:%s", good[i].text, all_msgs(&d));
		cr_assert_eq(s.nr, 1);
		e = &s.v[0];
		cr_assert_eq(e->allow, good[i].allow);
		cr_assert_eq(e->kind, good[i].kind);
		cr_assert_eq(e->l4proto, good[i].proto);
		cr_assert_eq(e->port, good[i].port);
		if (good[i].host)
			cr_assert_str_eq(e->host, good[i].host);
		if (good[i].tool)
			cr_assert_str_eq(e->tool, good[i].tool);
		else
			cr_assert_null(e->tool);
		cr_assert_str_eq(e->text, good[i].kept);
		cr_assert_str_eq(e->file, "t.test");
		cr_assert_eq(e->line, 7);
		expect_free(&s);
		diag_free(&d);
	}
}

/* 'server_name NAME' and 'tool T' after the port, in either order */
Test(expect_lines, server_name)
{
	static const char *const lines[] = {
		"expect deny tcp name api.example.com port 443 server_name Evil.Example tool t1",
		"expect deny tcp name api.example.com port 443 tool t1 server_name Evil.Example",
	};

	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		struct expect_set s = {};
		struct diag d = {};

		cr_assert_eq(expect_parse_line(&s, "t.test", 3, lines[i], &d), 0, "%s:%s", lines[i],
			     all_msgs(&d));
		cr_assert_eq(s.nr, 1);
		cr_assert_eq(s.v[0].kind, EXPECT_NAME);
		cr_assert_str_eq(s.v[0].host, "api.example.com");
		cr_assert_str_eq(s.v[0].server_name, "Evil.Example");
		cr_assert_str_eq(s.v[0].tool, "t1");
		cr_assert_str_eq(s.v[0].text, lines[i]);
		expect_free(&s);
		diag_free(&d);
	}
	{
		struct expect_set s = {};
		struct diag d = {};

		cr_assert_eq(expect_parse_line(&s, "t.test", 4,
					       "expect allow tcp 10.0.0.1 port 443 server_name a.b",
					       &d),
			     0, "%s", all_msgs(&d));
		cr_assert_eq(s.v[0].kind, EXPECT_ADDR);
		cr_assert_str_eq(s.v[0].server_name, "a.b");
		cr_assert_null(s.v[0].tool);
		expect_free(&s);
		diag_free(&d);
	}
}

Test(expect_lines, blank_and_comment_lines)
{
	struct expect_set s = {};
	struct diag d = {};

	cr_assert_eq(expect_parse_line(&s, "t.test", 1, "", &d), 0);
	cr_assert_eq(expect_parse_line(&s, "t.test", 2, "   # expect allow tcp", &d), 0);
	cr_assert_eq(s.nr, 0);
	cr_assert_eq(d.nr, 0);
}

static const struct {
	const char *text, *says;
} bad[] = {
	{ "allow tcp 10.0.0.1 port 80", "unknown word 'allow' (a test line is expect allow|deny" },
	{ "expect", "expected 'allow' or 'deny' after 'expect'" },
	{ "expect permit tcp 10.0.0.1 port 80", "expected 'allow' or 'deny' after 'expect', got "
						"'permit'" },
	{ "expect allow icmp 10.0.0.1",
	  "expected 'tcp', 'udp' or 'dns' after 'allow', got 'icmp'" },
	{ "expect allow tcp", "missing destination after 'tcp'" },
	{ "expect allow dns", "missing query name after 'dns'" },
	{ "expect allow tcp 10.0.0.1", "expected 'port P' after the destination" },
	{ "expect allow tcp 10.0.0.1 to 80", "expected 'port P' after the destination, got 'to'" },
	{ "expect allow tcp 10.0.0.1 port", "missing port after 'port'" },
	{ "expect allow tcp 10.0.0.1 port 80-81", "bad port '80-81': a packet goes to one port" },
	{ "expect allow tcp 10.0.0.1 port any", "bad port 'any'" },
	{ "expect allow tcp 10.0.0.1 port 0", "bad port '0'" },
	{ "expect allow tcp 10.0.0.0/8 port 80", "bad destination '10.0.0.0/8': a packet goes to "
						 "one address" },
	{ "expect allow tcp host.example port 80", "bad destination 'host.example'" },
	{ "expect allow tcp 10.0.0.1 port 80 tool", "missing tool name after 'tool'" },
	{ "expect allow tcp 10.0.0.1 port 80 tool a/b", "bad tool 'a/b'" },
	{ "expect allow tcp 10.0.0.1 port 80 tool a b",
	  "unknown word 'b' (expected 'tool', 'server_name' or the end)" },
	{ "expect allow tcp 10.0.0.1 port 80 tool a tool b", "'tool' twice" },
	{ "expect allow tcp 10.0.0.1 port 80 from x", "unknown word 'from' (expected 'tool'" },
	{ "expect allow tcp name port 80", "expected 'port P' after the destination, got '80'" },
	{ "expect allow tcp name", "missing host name after 'name'" },
	{ "expect allow tcp name *.corp port 80", "bad host name after 'name': '*.corp'" },
	{ "expect allow dns bad..name", "bad query name 'bad..name'" },
	{ "expect allow dns a.example b",
	  "unknown word 'b' (expected 'tool', 'server_name' or the end)" },
	{ "expect allow tcp a b c d e f g h i j k", "too many words" },
	/* the server name of a TLS ClientHello: TCP only, one host name */
	{ "expect deny udp 10.0.0.1 port 443 server_name a.example",
	  "'server_name' on a udp line: a TLS ClientHello goes over TCP" },
	{ "expect deny udp name a.example port 443 server_name a.example",
	  "'server_name' on a udp line" },
	{ "expect deny dns a.example server_name a.example", "'server_name' on a dns line" },
	{ "expect deny tcp name a.example port 443 server_name",
	  "missing server name after 'server_name'" },
	{ "expect deny tcp name a.example port 443 server_name bad..name",
	  "bad server name 'bad..name': a host name (labels of 1-63 bytes, at most 253, no '*')" },
	{ "expect deny tcp name a.example port 443 server_name *.example",
	  "bad server name '*.example'" },
	{ "expect deny tcp name a.example port 443 server_name a.example server_name b.example",
	  "'server_name' twice" },
	{ "expect deny tcp 10.0.0.1 server_name a.example port 443",
	  "expected 'port P' after the destination, got 'server_name'" },
};

Test(expect_lines, bad_lines_name_file_and_line)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct expect_set s = {};
		struct diag d = {};

		cr_assert_eq(expect_parse_line(&s, "50-x.test", 12, bad[i].text, &d), -EINVAL,
			     "\"%s\" accepted", bad[i].text);
		assert_one_error_at(&d, bad[i].text, "50-x.test:12: ", bad[i].says);
		cr_assert_eq(s.nr, 0);
		expect_free(&s);
		diag_free(&d);
	}
}

/* a profile in memory, planned with the built-in stages; its tools get stand-in ids */
static void plan_lines(struct ruleset *rs, const char *const *lines, size_t n)
{
	struct diag d = {};

	memset(rs, 0, sizeof(*rs));
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(profile_parse_line(&rs->prof, "p.rules", i + 1, lines[i], NULL, &d), 0,
			     "%s:%s", lines[i], all_msgs(&d));
	cr_assert_eq(profile_check(&rs->prof, &d), 0, "%s", all_msgs(&d));
	cr_assert_eq(ruleset_plan(rs, NULL, false, &d), 0, "%s", all_msgs(&d));
	proftest_tools(&rs->prof);
	diag_free(&d);
}

static size_t run_lines(const struct ruleset *rs, const char *const *lines, size_t n,
			struct diag *d)
{
	struct expect_set s = {};
	size_t failed = 0;

	for (size_t i = 0; i < n; i++)
		cr_assert_eq(expect_parse_line(&s, "p.test", i + 1, lines[i], d), 0, "%s",
			     lines[i]);
	cr_assert_eq(proftest_run(rs, &s, &failed, d), 0, "%s", all_msgs(d));
	expect_free(&s);
	return failed;
}

static const char *const wide_profile[] = {
	"allow udp 10.42.0.53 port 53",	       "allow tcp 10.42.7.0/24 port 443",
	"allow tcp 10.0.0.0/8 port 8080",      "allow tcp 10.42.0.0/16 port 8080",
	"allow tcp 10.42.9.0/24 tool t1",      "allow udp 10.50.0.0/16 port any",
	"allow tcp 10.70.0.0/16 port 440-450", "allow tcp name a.example.corp port 8080 tool t1",
	"allow dns update.vendor.example",
};

/* the judge's side of any-rule-covers, names, and DNS queries */
Test(proftest, the_judge_follows_the_rules)
{
	static const char *const pass[] = {
		"expect allow tcp 10.42.7.20 port 443",
		"expect allow tcp 10.42.7.20 port 8080", /* /8 at 8080 beside /24 at 443 */
		"expect deny tcp 10.1.2.3 port 443",
		"expect allow tcp 10.42.9.9 port 22 tool t1",
		"expect deny tcp 10.42.9.9 port 22",
		"expect deny tcp 10.42.9.9 port 22 tool t2",
		"expect allow udp 10.50.1.1 port 9999",
		"expect allow tcp 10.70.0.1 port 443",
		"expect deny tcp 10.70.0.1 port 451",
		"expect allow dns update.vendor.example",
		"expect deny dns tunnel.attacker.example",
		"expect allow tcp name a.example.corp port 8080 tool t1",
		"expect allow tcp name A.Example.Corp port 8080 tool t1",
		"expect deny tcp name a.example.corp port 8080",
		"expect deny tcp name b.example.corp port 8080 tool t1",
	};
	struct ruleset rs;
	struct diag d = {};

	plan_lines(&rs, wide_profile, ARRAY_SIZE(wide_profile));
	cr_assert_eq(run_lines(&rs, pass, ARRAY_SIZE(pass), &d), 0, "%s", all_msgs(&d));
	ruleset_free(&rs);
	diag_free(&d);
}

/* a failed line says what the judge said: verdict, reason, and the rule that counts */
Test(proftest, a_failure_names_the_deciding_rule)
{
	static const struct {
		const char *line, *says;
	} fails[] = {
		{ "expect deny tcp 10.42.7.20 port 8080",
		  "p.test:1: 'expect deny tcp 10.42.7.20 port 8080' failed: the judge says allow "
		  "(rule) by p.rules:4 ('allow tcp 10.42.0.0/16 port 8080')" },
		{ "expect deny tcp 10.43.0.1 port 8080",
		  "the judge says allow (rule) by p.rules:3 ('allow tcp 10.0.0.0/8 port 8080')" },
		{ "expect deny tcp 10.42.9.1 port 8080 tool t1",
		  "by p.rules:4 ('allow tcp 10.42.0.0/16 port 8080')" }, /* the port's first */
		{ "expect allow udp 10.50.1.1 port 53", /* a query for example.org: names checked */
		  "failed: the judge says deny (qname)" },
		{ "expect allow tcp 10.42.7.20 port 444", "the judge says deny (no_rule)" },
		{ "expect deny tcp name a.example.corp port 8080 tool t1",
		  "allow (rule) by p.rules:8 ('allow tcp name a.example.corp port 8080 tool t1')" },
	};
	struct ruleset rs;

	plan_lines(&rs, wide_profile, ARRAY_SIZE(wide_profile));
	for (size_t i = 0; i < ARRAY_SIZE(fails); i++) {
		struct diag d = {};

		cr_assert_eq(run_lines(&rs, &fails[i].line, 1, &d), 1, "%s passed", fails[i].line);
		cr_assert_eq(d.errors, 1);
		cr_assert(strstr(d.msgs[0], fails[i].says), "\"%s\" does not say \"%s\"", d.msgs[0],
			  fails[i].says);
		diag_free(&d);
	}
	ruleset_free(&rs);
}

/* a 'dns' line needs a resolver its tool may ask */
Test(proftest, no_resolver_for_a_dns_line)
{
	static const char *const lines[] = { "allow tcp 10.0.0.1 port 80",
					     "allow udp 10.0.0.53 port 53 tool t1" };
	static const char *const t = "expect deny dns a.example";
	struct expect_set s = {};
	struct ruleset rs;
	struct diag d = {};
	size_t failed = 0;

	plan_lines(&rs, lines, ARRAY_SIZE(lines));
	cr_assert_eq(expect_parse_line(&s, "p.test", 4, t, &d), 0);
	cr_assert_eq(proftest_run(&rs, &s, &failed, &d), -EINVAL);
	cr_assert(d.nr == 1 && strstr(d.msgs[0], "p.test:4: no resolver to send the query to"),
		  "%s", all_msgs(&d));
	expect_free(&s);
	ruleset_free(&rs);
	diag_free(&d);
}

/*
 * name lines: the rule the learning maps count (the most specific followed
 * name, its resolvers), as the pipeline names it, not the first that matches
 */
Test(proftest, a_name_counts_for_its_most_specific_rule)
{
	static const char *const lines[] = {
		"allow udp 10.42.0.53 port 53",
		"allow udp 10.42.0.54 port 53",
		"allow tcp name *.example.corp port 8080",
		"allow tcp name api.example.corp port 8080",
		"allow tcp name *.other.corp port 443 via 10.42.0.54",
		"allow tcp name *.b.other.corp port 443 via 10.42.0.53",
	};
	static const struct {
		const char *line, *says;
	} fails[] = {
		{ "expect deny tcp name api.example.corp port 8080",
		  "by p.rules:4 ('allow tcp name api.example.corp port 8080')" },
		{ "expect deny tcp name www.example.corp port 8080",
		  "by p.rules:3 ('allow tcp name *.example.corp port 8080')" },
		{ "expect deny tcp name x.a.other.corp port 443",
		  "by p.rules:5 ('allow tcp name *.other.corp port 443 via 10.42.0.54')" },
		/* learned from .53 only, which the wider rule's via does not take */
		{ "expect deny tcp name x.b.other.corp port 443",
		  "by p.rules:6 ('allow tcp name *.b.other.corp port 443 via 10.42.0.53')" },
	};
	struct ruleset rs;

	plan_lines(&rs, lines, ARRAY_SIZE(lines));
	for (size_t i = 0; i < ARRAY_SIZE(fails); i++) {
		struct diag d = {};

		cr_assert_eq(run_lines(&rs, &fails[i].line, 1, &d), 1, "%s passed", fails[i].line);
		cr_assert(strstr(d.msgs[0], fails[i].says), "\"%s\" does not say \"%s\"", d.msgs[0],
			  fails[i].says);
		diag_free(&d);
	}
	ruleset_free(&rs);
}
