/* test_suggest.c: would-deny events as profile lines: by name, merged with the profile, accepted by its checks. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "reasons.h"
#include "ruleset.h"
#include "suggest.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* the profile in force: a resolver, names checked, one name rule for https */
static const char *const profile_lines[] = {
	"allow udp 10.42.0.53 port 53",	  "allow dns api.example",
	"allow dns cdn.example",	  "allow tcp name cdn.example port 443",
	"allow tcp 10.42.7.11 port 8080",
};

static void base_load(struct ruleset *rs, const char *const *lines, size_t n)
{
	struct diag d = {};

	memset(rs, 0, sizeof(*rs));
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(
			profile_parse_line(&rs->prof, "10-base.rules", i + 1, lines[i], NULL, &d),
			0, "%s", lines[i]);
	if (ruleset_plan(rs, NULL, false, &d)) {
		diag_print(&d, stderr);
		cr_assert_fail("the plan of the base profile");
	}
	diag_free(&d);
}

static struct event_view denial(unsigned int reason, __u8 proto, const char *dst, __u16 port)
{
	struct event_view v = {
		.cgroup = "/sbx", .tool = "", .stage = "dns", .rule = "", .dest_name = ""
	};

	v.e.kind = EVENT_DENY;
	v.e.audit = 1;
	v.e.reason = reason;
	v.e.l4proto = proto;
	v.e.family = AF_INET;
	inet_pton(AF_INET, dst, v.e.daddr);
	v.e.dport = htons(port);
	return v;
}

static char *suggested(struct suggestions *g, struct ruleset *base)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	suggestions_print(g, "sbx", base, f);
	fclose(f);
	return buf;
}

/*
 * The output, appended to a copy of the profile, is what 'check' reads: every
 * line parses, and the duplicate and overlap checks pass.
 */
static void assert_check_accepts(const char *out)
{
	struct ruleset rs;
	struct diag d = {};
	char *copy = strdup(out), *save = NULL;
	int n = 0, err;

	base_load(&rs, profile_lines, ARRAY_SIZE(profile_lines));
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		cr_assert_eq(profile_parse_line(&rs.prof, "99-suggest.rules", ++n, l, NULL, &d), 0,
			     "line %d '%s'", n, l);
	err = profile_check(&rs.prof, &d);
	if (!err) {
		plan_free(&rs.plan);
		err = plan_build(&rs.prof, rs.stages, rs.nr_stages, &rs.plan, &d);
	}
	if (err)
		diag_print(&d, stderr);
	cr_assert_eq(err, 0, "check refuses the suggestions:\n%s", out);
	diag_free(&d);
	free(copy);
	ruleset_free(&rs);
}

/* an audited denial of a query name: 'allow dns NAME', never the resolver's address again */
Test(suggest, denied_query_name_is_allow_dns)
{
	static const __u8 evil[] = "\4Evil\7example\0";
	struct event_view v = denial(REASON_QNAME, IPPROTO_UDP, "10.42.0.53", 53);
	struct suggestions g;
	struct ruleset base;
	char *out;

	cr_assert_eq(suggestions_init(&g), 0);
	v.qname = evil;
	v.qname_len = sizeof(evil) - 1;
	suggestions_add(&g, &v);
	suggestions_add(&g, &v);
	base_load(&base, profile_lines, ARRAY_SIZE(profile_lines));
	out = suggested(&g, &base);
	cr_assert(strstr(out, "\nallow dns evil.example  # 2 would-deny\n"), "%s", out);
	cr_assert_not(strstr(out, "allow udp"), "%s", out);
	assert_check_accepts(out);
	free(out);
	ruleset_free(&base);
	suggestions_free(&g);
}

/* a connect to an address learned for a name: a name rule, the addresses of a name merged */
Test(suggest, learned_destination_is_a_name_rule)
{
	struct event_view a = denial(REASON_NO_RULE, IPPROTO_TCP, "192.0.2.7", 8443);
	struct event_view b = denial(REASON_NO_CLASS, IPPROTO_TCP, "192.0.2.8", 8443);
	struct event_view c = denial(REASON_NO_RULE, IPPROTO_TCP, "192.0.2.9", 443);
	struct suggestions g;
	struct ruleset base;
	char *out;

	cr_assert_eq(suggestions_init(&g), 0);
	a.dest_name = b.dest_name = "cdn.example";
	suggestions_add(&g, &a);
	suggestions_add(&g, &b);
	suggestions_add(&g, &c);
	base_load(&base, profile_lines, ARRAY_SIZE(profile_lines));
	out = suggested(&g, &base);
	cr_assert(strstr(out, "\nallow tcp name cdn.example port 8443  # 2 would-deny\n"), "%s",
		  out);
	cr_assert(strstr(out, "\nallow tcp 192.0.2.9 port 443  # 1 would-deny\n"), "%s", out);
	cr_assert_not(strstr(out, "192.0.2.7"), "%s", out);
	assert_check_accepts(out);
	free(out);
	ruleset_free(&base);
	suggestions_free(&g);
}

/* what the profile has already is a comment: 'check' would refuse it as a duplicate */
Test(suggest, lines_in_the_profile_are_comments)
{
	static const __u8 api[] = "\3api\7example\0";
	struct event_view q = denial(REASON_QNAME, IPPROTO_UDP, "10.42.0.53", 53);
	struct event_view r = denial(REASON_NO_RULE, IPPROTO_TCP, "10.42.7.11", 8080);
	struct event_view n = denial(REASON_NO_RULE, IPPROTO_TCP, "192.0.2.7", 443);
	struct suggestions g;
	struct ruleset base;
	char *out;

	cr_assert_eq(suggestions_init(&g), 0);
	q.qname = api;
	q.qname_len = sizeof(api) - 1;
	n.dest_name = "cdn.example";
	suggestions_add(&g, &q);
	suggestions_add(&g, &r);
	suggestions_add(&g, &n);
	base_load(&base, profile_lines, ARRAY_SIZE(profile_lines));
	out = suggested(&g, &base);
	cr_assert(strstr(out,
			 "# in the profile already (10-base.rules:2) (1 would-deny): allow dns "
			 "api.example\n"),
		  "%s", out);
	cr_assert(strstr(out, "# in the profile already (10-base.rules:5)"), "%s", out);
	cr_assert(strstr(out, "# in the profile already (10-base.rules:4)"), "%s", out);
	cr_assert(strstr(out, "\n# 0 lines\n"), "%s", out);
	assert_check_accepts(out);
	free(out);
	ruleset_free(&base);
	suggestions_free(&g);
}

/* a name no 'allow dns' line can hold, a tool with bad bytes: comments, escaped */
Test(suggest, hostile_bytes_are_comments)
{
	static const __u8 bad[] = "\4a\x1b\n\xff\7example\0";
	struct event_view q = denial(REASON_QNAME, IPPROTO_UDP, "10.42.0.53", 53);
	struct event_view t = denial(REASON_NO_RULE, IPPROTO_TCP, "192.0.2.1", 22);
	struct suggestions g;
	struct ruleset base;
	char *out;

	cr_assert_eq(suggestions_init(&g), 0);
	q.qname = bad;
	q.qname_len = sizeof(bad) - 1;
	t.tool = "/sbx/to\x1b[31mol";
	suggestions_add(&g, &q);
	suggestions_add(&g, &t);
	base_load(&base, profile_lines, ARRAY_SIZE(profile_lines));
	out = suggested(&g, &base);
	for (const unsigned char *p = (const unsigned char *)out; *p; p++)
		cr_assert((*p >= 0x20 && *p < 0x7f) || *p == '\n', "byte 0x%02x in\n%s", *p, out);
	cr_assert(strstr(out, "# a query for 'a\\027\\010\\255.example'"), "%s", out);
	cr_assert(strstr(out, "# not a line a profile can hold (1 would-deny): allow tcp 192.0.2.1 "
			      "port 22 tool to\\x1b[31mol\n"),
		  "%s", out);
	assert_check_accepts(out);
	free(out);
	ruleset_free(&base);
	suggestions_free(&g);
}

/* denials no rule allows (a forged source) and what was not audited suggest nothing */
Test(suggest, only_what_a_rule_allows)
{
	struct event_view s = denial(REASON_SPOOFED, IPPROTO_TCP, "192.0.2.1", 443);
	struct event_view d = denial(REASON_NO_RULE, IPPROTO_TCP, "192.0.2.1", 443);
	struct event_view f = denial(REASON_RULE, IPPROTO_TCP, "192.0.2.1", 443);
	struct suggestions g;

	cr_assert_eq(suggestions_init(&g), 0);
	d.e.audit = 0;
	f.e.kind = EVENT_FLOW;
	suggestions_add(&g, &s);
	suggestions_add(&g, &d);
	suggestions_add(&g, &f);
	cr_assert_eq(g.n, 0);
	cr_assert_eq(g.other, 1);
	suggestions_free(&g);
}
