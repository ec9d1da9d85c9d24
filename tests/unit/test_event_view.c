/* test_event_view.c: log's filters as the command line gives them, and metric label escaping. */
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
	cr_assert_eq(event_filter_verdict(&f, "allow", err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "bad verdict 'allow': deny or would-deny");
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
