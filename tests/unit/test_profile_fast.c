/*
 * test_profile_fast.c: the parser's quick path for plain IPv4 rule lines reads each line as
 * the general parse does (the same rule, the same message), and the duplicate check's sort
 * finds every repeat and overlap among many rules of both families and several tools.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "profile.h"
#include "diag_helpers.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* lines in the quick path's shape, or nearly: good, refused, warned about */
static const char *const lines[] = {
	"allow tcp 10.42.7.11 port 8080",
	"allow udp 10.42.7.11 port 53",
	"allow udp 0.0.0.0/0",
	"allow tcp 255.255.255.255 port 65535",
	"allow tcp 10.0.0.0/8 port 1-65535",
	"allow tcp 10.0.0.0/08 port 0080",
	"allow tcp 10.1.0.0/16 port any",
	"allow tcp 10.1.2.3/32 port 443-443",
	"allow tcp 127.0.0.1 port 80",
	"allow udp 127.0.0.0/8",
	"allow tcp 0.0.0.0 port 80",
	"allow tcp 0.0.0.0/32",
	"allow tcp 10.1.2.3/24 port 80",
	"allow tcp 10.1.2.3/33",
	"allow tcp 10.1.2.3/",
	"allow tcp 10.1.2.3/100",
	"allow tcp 256.1.2.3 port 80",
	"allow tcp 01.2.3.4 port 80",
	"allow tcp 1.2.3 port 80",
	"allow tcp 1.2.3.4.5 port 80",
	"allow tcp 1.2.3.4x port 80",
	"allow tcp 1..3.4 port 80",
	"allow tcp 1.2.3.4 port 0",
	"allow tcp 1.2.3.4 port 65536",
	"allow tcp 1.2.3.4 port 123456",
	"allow tcp 1.2.3.4 port 90-80",
	"allow tcp 1.2.3.4 port 80-",
	"allow tcp 1.2.3.4 port -80",
	"allow tcp 1.2.3.4 port anyx",
	"allow tcp 1.2.3.4 port",
	"allow tcp 1.2.3.4 port 80 tool",
	"allow tcp 1.2.3.4 port 80 tool t1",
	"allow tcp 1.2.3.4 prt 80",
	"allow icmp 1.2.3.4",
	"allow tcp",
	"allow tcp 1.2.3.4\n",
	"allow tcp 1.2.3.4 port 22\n",
};

static void expect_same(const char *line)
{
	char slow[256];
	struct profile a = {}, b = {};
	struct diag da = {}, db = {};
	int ea, eb;

	/* a comment after the line: the general parse reads it, and drops the comment */
	snprintf(slow, sizeof(slow), "%.*s # c", (int)strcspn(line, "\n"), line);
	ea = profile_parse_line(&a, "f.rules", 3, line, NULL, &da);
	eb = profile_parse_line(&b, "f.rules", 3, slow, NULL, &db);
	cr_assert_eq(ea, eb, "'%s': %d, the general parse %d", line, ea, eb);
	cr_assert_eq(da.nr, db.nr, "'%s':%s\nthe general parse:%s", line, all_msgs(&da),
		     all_msgs(&db));
	for (int i = 0; i < da.nr; i++)
		cr_assert_str_eq(da.msgs[i], db.msgs[i], "'%s'", line);
	cr_assert_eq(a.nr_rules, b.nr_rules, "'%s'", line);
	for (size_t i = 0; i < a.nr_rules; i++) {
		const struct rule *x = &a.rules[i], *y = &b.rules[i];

		cr_assert_eq(x->l4proto, y->l4proto, "'%s'", line);
		cr_assert_eq(x->port_lo, y->port_lo, "'%s'", line);
		cr_assert_eq(x->port_hi, y->port_hi, "'%s'", line);
		cr_assert(addr_equal(&x->dst, &y->dst), "'%s'", line);
		cr_assert_str_eq(x->o.text, y->o.text, "'%s'", line);
		cr_assert_str_eq(x->o.file, y->o.file);
		cr_assert_eq(x->o.line, y->o.line);
		cr_assert_eq(!x->o.tool, !y->o.tool, "'%s'", line);
		cr_assert_eq(x->host, NULL);
	}
	profile_free(&a);
	profile_free(&b);
	diag_free(&da);
	diag_free(&db);
}

Test(parse_fast, plain_ipv4_lines_read_as_the_general_parse_reads_them)
{
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		expect_same(lines[i]);
}

Test(parse_fast, every_octet_and_port_read_as_the_general_parse_reads_them)
{
	char line[96];

	for (int v = 0; v < 1000; v++) {
		snprintf(line, sizeof(line), "allow udp 10.%d.%03d.1 port %d", v, v, v * 67);
		expect_same(line);
		snprintf(line, sizeof(line), "allow tcp 10.0.0.0/%d port %d-%d", v % 40, v,
			 70000 - v * 9);
		expect_same(line);
	}
}

/* rules of every kind the sort orders, in an order of their own; which clash, and where */
Test(check_duplicates, many_rules_both_families_and_tools)
{
	struct profile p = {};
	struct diag d = {};
	char line[96];
	int n = 0;

	for (int i = 0; i < 3000; i++) {
		int k = (i * 7919) % 3000; /* every k once, out of order */

		if (k % 3 == 0)
			snprintf(line, sizeof(line), "allow tcp 10.%d.%d.1 port %d", k % 7, k % 251,
				 1000 + k);
		else if (k % 3 == 1)
			snprintf(line, sizeof(line), "allow udp 2001:db8::%x port %d", k, 1000 + k);
		else
			snprintf(line, sizeof(line), "allow tcp 2001:db8::1 port %d tool t%d",
				 1000 + k, k % 5);
		cr_assert_eq(profile_parse_line(&p, "a.rules", ++n, line, NULL, &d), 0, "%s:%s",
			     line, all_msgs(&d));
	}
	cr_assert_eq(profile_check_duplicates(&p, &d), 0, "distinct rules refused:%s",
		     all_msgs(&d));
	/* the same destination for another tool, or none: no clash */
	cr_assert_eq(
		profile_parse_line(&p, "b.rules", 1, "allow tcp 2001:db8::1 port 1002", NULL, &d),
		0);
	cr_assert_eq(profile_parse_line(&p, "b.rules", 2, "allow tcp 2001:db8::1 port 1002 tool t1",
					NULL, &d),
		     0);
	cr_assert_eq(profile_check_duplicates(&p, &d), 0, "distinct rules refused:%s",
		     all_msgs(&d));
	/* line 359 (k = 2): "allow tcp 2001:db8::1 port 1002 tool t2"; 322 (k = 999): the IPv4 one */
	cr_assert_eq(profile_parse_line(&p, "b.rules", 3,
					"allow tcp 2001:db8::1 port 1000-1002 tool t2", NULL, &d),
		     0);
	cr_assert_eq(
		profile_parse_line(&p, "b.rules", 4, "allow tcp 10.5.246.1 port 1999", NULL, &d),
		0);
	cr_assert_eq(
		profile_parse_line(&p, "b.rules", 5, "allow udp 10.5.246.1 port 1999", NULL, &d),
		0);
	cr_assert_eq(profile_check_duplicates(&p, &d), -EINVAL);
	cr_assert_eq(d.errors, 2, "%s", all_msgs(&d));
	cr_assert_str_eq(d.msgs[0], "b.rules:4: duplicate of a.rules:322 ('allow tcp 10.5.246.1 "
				    "port 1999')");
	cr_assert(starts_with(d.msgs[1], "b.rules:3: ports overlap a.rules:359 "), "%s", d.msgs[1]);
	cr_assert(strstr(d.msgs[1], "('allow tcp 2001:db8::1 port 1002 tool t2')"), "%s",
		  d.msgs[1]);
	profile_free(&p);
	diag_free(&d);
}
