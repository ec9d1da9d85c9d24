/* test_event_view.c: log's filters as the command line gives them, events as lines and JSON (flows, query names), and metric label escaping. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "event_view.h"
#include "metrics.h"
#include "reasons.h"

static char err[256];

static struct event_view view(const char *dst, const char *tool, bool audit, unsigned int reason)
{
	struct event_view v = { .cgroup = "/sbx/other", .tool = tool, .stage = "internal" };

	v.e.family = strchr(dst, ':') ? AF_INET6 : AF_INET;
	inet_pton(v.e.family, dst, v.e.daddr);
	v.e.audit = audit;
	v.e.reason = reason;
	v.time_ns = 1700000000ull * 1000000000ull;
	return v;
}

Test(event_filter, each_filter_keeps_what_it_names)
{
	struct event_view v = view("10.42.7.11", "/sbx/other", true, REASON_NO_RULE);
	struct event_filter f;

	event_filter_init(&f);
	cr_assert(event_match(&f, &v));
	cr_assert_eq(event_filter_dest(&f, "10.42.7.0/24", err, sizeof(err)), 0);
	cr_assert(event_match(&f, &v));
	cr_assert_eq(event_filter_dest(&f, "10.42.6.0/24", err, sizeof(err)), 0);
	cr_assert_not(event_match(&f, &v));
	cr_assert_eq(event_filter_dest(&f, "10.42.7.8/29", err, sizeof(err)), 0);
	cr_assert(event_match(&f, &v));
	cr_assert_eq(event_filter_dest(&f, "2001:db8::/32", err, sizeof(err)), 0);
	cr_assert_not(event_match(&f, &v), "an IPv6 prefix kept an IPv4 event");
	event_filter_init(&f);
	f.tool = "other";
	cr_assert(event_match(&f, &v));
	f.tool = "/sbx/other";
	cr_assert(event_match(&f, &v));
	f.tool = "memscraper";
	cr_assert_not(event_match(&f, &v));
	event_filter_init(&f);
	cr_assert_eq(event_filter_verdict(&f, "deny", err, sizeof(err)), 0);
	cr_assert_not(event_match(&f, &v));
	cr_assert_eq(event_filter_verdict(&f, "would-deny", err, sizeof(err)), 0);
	cr_assert(event_match(&f, &v));
	cr_assert_eq(event_filter_reason(&f, "no_rule", err, sizeof(err)), 0);
	cr_assert(event_match(&f, &v));
	cr_assert_eq(event_filter_reason(&f, "qname", err, sizeof(err)), 0);
	cr_assert_not(event_match(&f, &v));
}

Test(event_filter, bad_words_refused_with_what_is_accepted)
{
	struct event_filter f;

	event_filter_init(&f);
	cr_assert_eq(event_filter_verdict(&f, "permit", err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "bad verdict 'permit': deny, would-deny or allow");
	cr_assert_eq(event_filter_reason(&f, "rule", err, sizeof(err)), -EINVAL,
		     "an allowing reason names no denial");
	cr_assert_eq(event_filter_reason(&f, "nosuch", err, sizeof(err)), -EINVAL);
	cr_assert_eq(event_filter_dest(&f, "10.42.7.300", err, sizeof(err)), -EINVAL);
	cr_assert_eq(event_filter_since(&f, "yesterday", err, sizeof(err)), -EINVAL);
	cr_assert_eq(event_filter_since(&f, "15x", err, sizeof(err)), -EINVAL);
}

Test(event_filter, since_forms)
{
	struct event_view v = view("10.42.7.11", "", false, REASON_NO_RULE);
	struct event_filter f;
	time_t now = time(NULL);

	event_filter_init(&f);
	cr_assert_eq(event_filter_since(&f, "2023-11-14T22:13:20Z", err, sizeof(err)), 0);
	cr_assert_eq(f.since_ns, 1700000000ull * 1000000000ull);
	cr_assert(event_match(&f, &v));
	cr_assert_eq(event_filter_since(&f, "2023-11-14 22:13:21", err, sizeof(err)), 0);
	cr_assert_not(event_match(&f, &v));
	cr_assert_eq(event_filter_since(&f, "@1700000000", err, sizeof(err)), 0);
	cr_assert(event_match(&f, &v));
	cr_assert_eq(event_filter_since(&f, "2h", err, sizeof(err)), 0);
	cr_assert_leq(f.since_ns / 1000000000ull, (unsigned long long)now - 7200);
	cr_assert_geq(f.since_ns / 1000000000ull, (unsigned long long)now - 7205);
}

/* a label value stays valid UTF-8 in the exposition format whatever bytes a file name has */
Test(metrics, label_escaping)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	metrics_label(f, "a\"b\\c\nd/caf\xe9.rules\x01 caf\xc3\xa9");
	fclose(f);
	cr_assert_str_eq(buf, "a\\\"b\\\\c\\nd/caf\\\\xe9.rules\\\\x01 caf\xc3\xa9");
	free(buf);
}

/* a query name from the wire in presentation form: printable ASCII whatever the bytes */
Test(event_qname, wire_to_text)
{
	static const struct {
		const char *wire;
		size_t len;
		const char *text;
		int ret;
	} cases[] = {
		{ "\3api\7example\0", 13, "api.example", 0 },
		{ "\3API\7Example\0", 13, "API.Example", 0 },
		{ "\0", 1, ".", 0 },
		/* a dot, a backslash, control bytes, invalid UTF-8 inside a label */
		{ "\5a.b\\c\0", 7, "a\\046b\\092c", 0 },
		{ "\4a\x01\x1b\xff\3com\0", 10, "a\\001\\027\\255.com", 0 },
		/* a NUL inside a label is a byte like the others */
		{ "\3a\0b\0", 6, "a\\000b", 0 },
		/* cut short, a length byte over 63 (compression), no room for the root */
		{ "\3api\7exa", 9, "api.?", -EINVAL },
		{ "\3api\xc0\x0c", 6, "api.?", -EINVAL },
		{ "\3api", 4, "api.?", -EINVAL },
		{ "", 0, "?", -EINVAL },
	};
	char out[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = event_qname((const __u8 *)cases[i].wire, cases[i].len, out, sizeof(out));

		cr_expect_eq(ret, cases[i].ret, "case %zu: %d", i, ret);
		cr_expect_str_eq(out, cases[i].text, "case %zu", i);
	}
	cr_assert_eq(event_qname((const __u8 *)"\7example\0", 9, out, 5), -E2BIG);
	cr_assert(event_qname_plain("api.example"));
	cr_assert_not(event_qname_plain("a\\046b"));
	cr_assert_not(event_qname_plain("api.?"));
	cr_assert_not(event_qname_plain("."));
}

static char *printed(const struct event_view *v, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	event_print(f, "sbx", v, json);
	fclose(f);
	return buf;
}

/* every byte printed is printable ASCII or a newline: nothing the sandbox sent reaches a terminal */
static void assert_printable(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		cr_assert((*p >= 0x20 && *p < 0x7f) || *p == '\n', "byte 0x%02x in '%s'", *p, s);
}

Test(event_print, flow_with_its_rule)
{
	struct event_view v = view("10.42.7.11", "/sbx/curl", false, REASON_RULE);
	char *line;

	v.e.kind = EVENT_FLOW;
	v.e.l4proto = IPPROTO_TCP;
	v.e.dport = htons(443);
	v.e.hook = HOOK_CGSKB; /* has a source */
	v.rule = "20-https.rules:3";
	v.dest_name = "api.example";
	line = printed(&v, false);
	cr_assert(strstr(line, " allow "), "%s", line);
	cr_assert(strstr(line, " flow "), "%s", line);
	cr_assert(strstr(line, "-> 10.42.7.11:443"), "%s", line);
	cr_assert(strstr(line, " rule 20-https.rules:3"), "%s", line);
	cr_assert(strstr(line, " name api.example"), "%s", line);
	free(line);
	line = printed(&v, true);
	cr_assert(strstr(line, "\"kind\":\"flow\""), "%s", line);
	cr_assert(strstr(line, "\"verdict\":\"allow\""), "%s", line);
	cr_assert(strstr(line, "\"rule\":\"20-https.rules:3\""), "%s", line);
	cr_assert(strstr(line, "\"destination_name\":\"api.example\""), "%s", line);
	free(line);
}

/* a denied query's name: escaped in the line and in JSON, whatever bytes it has */
Test(event_print, hostile_query_name_escaped)
{
	static const __u8 wire[] = "\6ev\x1b[2J\7\xff\xfe\x01x.co\0";
	struct event_view v = view("10.42.0.53", "", true, REASON_QNAME);
	char *line;

	v.e.l4proto = IPPROTO_UDP;
	v.e.dport = htons(53);
	v.qname = wire;
	v.qname_len = sizeof(wire) - 1;
	line = printed(&v, false);
	assert_printable(line);
	cr_assert(strstr(line, " query ev\\027\\0912J.\\255\\254\\001x\\046co"), "%s", line);
	cr_assert(strstr(line, "would-deny qname"), "%s", line);
	free(line);
	line = printed(&v, true);
	assert_printable(line);
	cr_assert(strstr(line, "\"query\":\"ev\\\\027\\\\0912J."), "%s", line);
	cr_assert(strstr(line, "\"kind\":\"deny\""), "%s", line);
	free(line);
}

/* denials by default, flows and queries with --flows (or --verdict allow) */
Test(event_filter, kinds)
{
	struct event_view d = view("10.42.7.11", "/sbx/curl", false, REASON_NO_RULE);
	struct event_view fl = d, q = d;
	struct event_filter f;

	fl.e.kind = EVENT_FLOW;
	fl.e.reason = REASON_RULE;
	q.e.kind = EVENT_QUERY;
	q.e.reason = REASON_RULE;
	event_filter_init(&f);
	cr_assert(event_match(&f, &d));
	cr_assert_not(event_match(&f, &fl));
	cr_assert_not(event_match(&f, &q));
	f.kinds = EVENT_KINDS_FLOWS;
	cr_assert_not(event_match(&f, &d));
	cr_assert(event_match(&f, &fl));
	cr_assert(event_match(&f, &q));
	f.tool = "wget";
	cr_assert_not(event_match(&f, &fl), "--tool applies to flows");
	event_filter_init(&f);
	cr_assert_eq(event_filter_verdict(&f, "allow", err, sizeof(err)), 0);
	cr_assert(event_match(&f, &fl));
	cr_assert_not(event_match(&f, &d));
	cr_assert_eq(event_filter_dest(&f, "10.42.6.0/24", err, sizeof(err)), 0);
	cr_assert_not(event_match(&f, &fl), "--dest applies to flows");
	fl.e.kind = 7; /* a kind of a later build */
	event_filter_init(&f);
	f.kinds = ~0u;
	cr_assert_not(event_match(&f, &fl));
}

/* a TLS server name denied (reason sni): the name seen, escaped, and the address's learned name */
Test(event_print, server_name_denied)
{
	static const __u8 wire[] = "\5other\5te\x1bst\0";
	struct event_view v = view("10.42.9.1", "", false, REASON_SNI);
	char *line;

	v.e.l4proto = IPPROTO_TCP;
	v.e.dport = htons(443);
	v.qname = wire;
	v.qname_len = sizeof(wire) - 1;
	v.dest_name = "allowed.test";
	line = printed(&v, false);
	assert_printable(line);
	cr_assert(strstr(line, " deny "), "%s", line);
	cr_assert(strstr(line, " sni "), "%s", line);
	cr_assert(strstr(line, " server_name other.te\\027st"), "%s", line);
	cr_assert_null(strstr(line, " query "), "%s", line);
	cr_assert(strstr(line, " name allowed.test"), "%s", line);
	free(line);
	line = printed(&v, true);
	assert_printable(line);
	cr_assert(strstr(line, "\"server_name\":\"other.te\\\\027st\""), "%s", line);
	cr_assert(strstr(line, "\"reason\":\"sni\""), "%s", line);
	cr_assert(strstr(line, "\"destination_name\":\"allowed.test\""), "%s", line);
	free(line);
}
