/* test_dns_names.c: 'allow dns' and 'dns qtype' lines (loader/dns_names.c): grammar, checks, keys. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "profile.h"
#include "dns_names.h"
#include "diag_helpers.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *text;
	const char *name; /* as kept: lowercase, no trailing dot, without '*.' */
	bool wildcard;
	const char *tool;
	const char *kept;
} good[] = {
	{ "allow dns log-collector.internal.corp", "log-collector.internal.corp", false, NULL,
	  "allow dns log-collector.internal.corp" },
	{ "allow dns *.internal.corp", "internal.corp", true, NULL, "allow dns *.internal.corp" },
	{ "allow   dns  *.Internal.CORP.  # comment", "internal.corp", true, NULL,
	  "allow dns *.internal.corp" },
	{ "allow dns Log-Collector.internal.corp tool memscraper", "log-collector.internal.corp",
	  false, "memscraper", "allow dns log-collector.internal.corp tool memscraper" },
	{ "allow dns _http._tcp.internal.corp", "_http._tcp.internal.corp", false, NULL,
	  "allow dns _http._tcp.internal.corp" },
	{ "allow dns *", "", true, NULL, "allow dns *" },
	{ "allow dns * tool t1", "", true, "t1", "allow dns * tool t1" },
	{ "allow dns corp", "corp", false, NULL, "allow dns corp" },
};

Test(dns_lines, good)
{
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		struct profile p = {};
		struct diag d = {};
		const struct dns_name_rule *r;

		cr_assert_eq(profile_parse_line(&p, "n.rules", 4, good[i].text, NULL, &d), 0,
			     "\"%s\" refused:%s", good[i].text, all_msgs(&d));
		cr_assert_eq(d.nr, 0, "\"%s\": messages:%s", good[i].text, all_msgs(&d));
		cr_assert_eq(p.nr_rules, 0, "\"%s\" made an address rule", good[i].text);
		cr_assert_eq(p.nr_dns_names, 1, "\"%s\": %zu name rules", good[i].text,
			     p.nr_dns_names);
		r = &p.dns_names[0];
		cr_assert_str_eq(r->name, good[i].name, "\"%s\": name \"%s\"", good[i].text,
				 r->name);
		cr_assert_eq(r->wildcard, good[i].wildcard, "\"%s\": wildcard %d", good[i].text,
			     r->wildcard);
		if (good[i].tool)
			cr_assert_str_eq(r->o.tool, good[i].tool);
		else
			cr_assert_null(r->o.tool, "\"%s\": tool %s", good[i].text, r->o.tool);
		cr_assert_str_eq(r->o.text, good[i].kept, "\"%s\": kept \"%s\"", good[i].text,
				 r->o.text);
		cr_assert_str_eq(r->o.file, "n.rules");
		cr_assert_eq(r->o.line, 4);
		profile_free(&p);
		diag_free(&d);
	}
}

static const struct {
	const char *text;
	const char *says;
} bad[] = {
	{ "allow dns", "missing name after 'allow dns'" },
	{ "allow dns foo.corp port 53", "unknown word 'port' (expected 'tool')" },
	{ "allow dns foo.corp tool", "missing tool name after 'tool'" },
	{ "allow dns foo.corp tool a b", "unknown word 'b'" },
	{ "allow dns foo.corp tool ../x", "bad tool '../x'" },
	{ "allow dns foo..corp", "bad name 'foo..corp': an empty label" },
	{ "allow dns .corp", "bad name '.corp': an empty label" },
	{ "allow dns .", "bad name '.': '.' is the root" },
	{ "allow dns *..", "bad name '*..': an empty label" },
	/* not '*': a suffix was meant and left out */
	{ "allow dns *.", "bad name '*.': no suffix after '*.' (write '*' to allow every name)" },
	{ "allow dns *. tool t1", "bad name '*.': no suffix after '*.'" },
	{ "allow dns foo.*.corp", "bad name 'foo.*.corp': '*' is only a whole first label" },
	{ "allow dns *foo.corp", "'*' is only a whole first label" },
	{ "allow dns **.corp", "'*' is only a whole first label" },
	{ "allow dns evil!.corp", "labels are letters, digits, '-' and '_'" },
	{ "allow dns 10.42.0.53/24", "labels are letters, digits" },
	{ "allow dns "
	  "a123456789012345678901234567890123456789012345678901234567890123.corp",
	  "a label longer than 63 characters" },
	{ "dns", "expected 'qtype' or 'learn' after 'dns'" },
	{ "dns types A", "expected 'qtype' or 'learn' after 'dns'" },
	{ "dns qtype", "missing query types after 'dns qtype'" },
	{ "dns qtype A BOGUS", "unknown query type 'BOGUS'" },
	{ "dns qtype TYPE0", "unknown query type 'TYPE0'" },
	{ "dns qtype TYPE65536", "unknown query type 'TYPE65536'" },
	{ "dns qtype A a", "query type 'a' given twice" },
};

Test(dns_lines, bad)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct profile p = {};
		struct diag d = {};

		cr_assert_neq(profile_parse_line(&p, "b.rules", 9, bad[i].text, NULL, &d), 0,
			      "\"%s\" was accepted", bad[i].text);
		assert_one_error_at(&d, bad[i].text, "b.rules:9: ", bad[i].says);
		cr_assert_eq(p.nr_dns_names + p.nr_rules, 0, "\"%s\" made a rule", bad[i].text);
		cr_assert_null(p.dns_qtypes, "\"%s\" set query types", bad[i].text);
		profile_free(&p);
		diag_free(&d);
	}
}

Test(dns_lines, name_of_the_longest_kind)
{
	char line[400], name[300];
	struct profile p = {};
	struct diag d = {};

	/* 242 characters fit: 3 labels of 63, one of 50, three dots */
	memset(name, 'a', 242);
	name[63] = name[127] = name[191] = '.';
	name[242] = '\0';
	snprintf(line, sizeof(line), "allow dns %s", name);
	cr_assert_eq(profile_parse_line(&p, "l.rules", 1, line, NULL, &d), 0, "%s", all_msgs(&d));
	name[242] = 'a';
	name[243] = '\0';
	snprintf(line, sizeof(line), "allow dns %s", name);
	cr_assert_neq(profile_parse_line(&p, "l.rules", 2, line, NULL, &d), 0);
	cr_assert(find_msg(&d, "l.rules:2: bad name") && find_msg(&d, "242 characters"), "%s",
		  all_msgs(&d));
	profile_free(&p);
	diag_free(&d);
}

Test(dns_lines, qtypes)
{
	struct profile p = {};
	struct diag d = {};
	const __u16 *t;
	size_t n;

	n = dns_qtypes_in_force(&p, &t);
	cr_assert_eq(n, 5, "default: %zu types", n);
	cr_assert(t[0] == 1 && t[1] == 28 && t[2] == 5 && t[3] == 12 && t[4] == 33,
		  "the default is A AAAA CNAME PTR SRV");
	cr_assert_eq(profile_parse_line(&p, "q.rules", 3, "dns qtype a AAAA txt TYPE65 type99",
					NULL, &d),
		     0, "%s", all_msgs(&d));
	n = dns_qtypes_in_force(&p, &t);
	cr_assert_eq(n, 5);
	cr_assert(t[0] == 1 && t[1] == 28 && t[2] == 16 && t[3] == 65 && t[4] == 99,
		  "types %u %u %u %u %u", t[0], t[1], t[2], t[3], t[4]);
	cr_assert_neq(profile_parse_line(&p, "r.rules", 7, "dns qtype A", NULL, &d), 0);
	cr_assert_str_eq(d.msgs[0], "r.rules:7: query types already set at q.rules:3");
	profile_free(&p);
	diag_free(&d);
}

Test(dns_lines, qtype_names)
{
	char buf[16];

	cr_assert_eq(dns_qtype_parse("A"), 1);
	cr_assert_eq(dns_qtype_parse("aaaa"), 28);
	cr_assert_eq(dns_qtype_parse("ANY"), 255);
	cr_assert_eq(dns_qtype_parse("CAA"), 257);
	cr_assert_eq(dns_qtype_parse("TYPE65535"), 65535);
	cr_assert_eq(dns_qtype_parse("TYPE"), -EINVAL);
	cr_assert_eq(dns_qtype_parse("TYPE1x"), -EINVAL);
	cr_assert_eq(dns_qtype_parse("16"), -EINVAL);
	cr_assert_str_eq(dns_qtype_text(16, buf, sizeof(buf)), "TXT");
	cr_assert_str_eq(dns_qtype_text(99, buf, sizeof(buf)), "TYPE99");
}

/* the key: labels from the right, length first; exact names end with a 0 byte */
Test(dns_keys, bytes)
{
	static const struct {
		const char *line;
		const char *key;
		int len;
	} cases[] = {
		{ "allow dns foo.internal.corp",
		  "\x04"
		  "corp"
		  "\x08"
		  "internal"
		  "\x03"
		  "foo"
		  "\0",
		  19 },
		{ "allow dns *.internal.corp",
		  "\x04"
		  "corp"
		  "\x08"
		  "internal",
		  14 },
		{ "allow dns corp",
		  "\x04"
		  "corp"
		  "\0",
		  6 },
		{ "allow dns *.corp",
		  "\x04"
		  "corp",
		  5 },
		{ "allow dns *", "", 0 },
		{ "allow dns a.b",
		  "\x01"
		  "b"
		  "\x01"
		  "a"
		  "\0",
		  5 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct profile p = {};
		struct diag d = {};
		__u8 key[DNS_NAME_KEY_BYTES];
		int n;

		cr_assert_eq(profile_parse_line(&p, "k.rules", 1, cases[i].line, NULL, &d), 0);
		n = dns_name_key_bytes(&p.dns_names[0], key, sizeof(key));
		cr_assert_eq(n, cases[i].len, "%s: %d key bytes, want %d", cases[i].line, n,
			     cases[i].len);
		cr_assert(!memcmp(key, cases[i].key, n), "%s: key bytes differ", cases[i].line);
		cr_assert_eq(dns_name_key_bytes(&p.dns_names[0], key, n ? n - 1 : 0),
			     n ? -ENAMETOOLONG : 0, "%s: a key one byte short", cases[i].line);
		profile_free(&p);
		diag_free(&d);
	}
}

/* "evilinternal.corp" and "*.internal.corp": no key is a prefix of the other's */
Test(dns_keys, label_boundaries)
{
	struct profile p = {};
	struct diag d = {};
	__u8 w[64], e[64];
	int nw, ne;

	cr_assert_eq(profile_parse_line(&p, "k.rules", 1, "allow dns *.internal.corp", NULL, &d),
		     0);
	cr_assert_eq(profile_parse_line(&p, "k.rules", 2, "allow dns evilinternal.corp", NULL, &d),
		     0);
	nw = dns_name_key_bytes(&p.dns_names[0], w, sizeof(w));
	ne = dns_name_key_bytes(&p.dns_names[1], e, sizeof(e));
	cr_assert(nw > 0 && ne > nw);
	cr_assert_neq(memcmp(w, e, nw), 0, "the wildcard's key is a prefix of evilinternal.corp's");
	profile_free(&p);
	diag_free(&d);
}

static const char *check_lines(const char *const *lines, size_t n, struct diag *d, int *err)
{
	struct profile p = {};

	*err = 0;
	for (size_t i = 0; i < n && !*err; i++)
		*err = profile_parse_line(&p, "c.rules", i + 1, lines[i], NULL, d);
	if (!*err)
		*err = dns_names_check(&p, d);
	profile_free(&p);
	return d->nr ? d->msgs[0] : "";
}

Test(dns_check, duplicates)
{
	static const char *const dup[] = { "allow dns *.Internal.corp", "allow dns foo.corp",
					   "allow dns *.internal.CORP." };
	static const char *const distinct[] = {
		"allow dns *.internal.corp",
		"allow dns internal.corp",
		"allow dns *.internal.corp tool t",
		"allow dns foo.corp tool t",
		"allow dns foo.corp",
	};
	struct diag d = {};
	int err;

	cr_assert_str_eq(check_lines(dup, 3, &d, &err),
			 "c.rules:3: duplicate of c.rules:1 ('allow dns *.internal.corp')");
	cr_assert_eq(err, -EINVAL);
	diag_free(&d);
	memset(&d, 0, sizeof(d));
	check_lines(distinct, 5, &d, &err);
	cr_assert_eq(err, 0, "distinct rules refused:%s", all_msgs(&d));
	diag_free(&d);
}

Test(dns_check, qtype_without_names)
{
	static const char *const lines[] = { "allow udp 10.42.0.53 port 53", "dns qtype A TXT" };
	struct diag d = {};
	int err;

	cr_assert(starts_with(check_lines(lines, 2, &d, &err),
			      "c.rules:2: 'dns qtype' applies to queries checked by 'allow dns' "
			      "lines, and there are none"),
		  "%s", all_msgs(&d));
	cr_assert_eq(err, -EINVAL);
	diag_free(&d);
}
