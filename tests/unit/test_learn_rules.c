/* test_learn_rules.c: 'allow tcp name HOST ...' and 'dns learn ...' (loader/learn_rules.c): grammar, checks, keys. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <criterion/criterion.h>
#include "profile.h"
#include "learn_rules.h"
#include "diag_helpers.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *text;
	__u8 proto;
	const char *host;
	__u16 lo, hi;
	const char *tool;
	const char *kept;
	bool wildcard;
	const char *via;
	bool sni_off;
} good[] = {
	{ "allow tcp name log-collector.internal.corp port 8080 tool memscraper", IPPROTO_TCP,
	  "log-collector.internal.corp", 8080, 8080, "memscraper",
	  "allow tcp name log-collector.internal.corp port 8080 tool memscraper", false, NULL,
	  false },
	{ "allow  udp name Log-Collector.INTERNAL.corp. port 9000-9010  # comment", IPPROTO_UDP,
	  "log-collector.internal.corp", 9000, 9010, NULL,
	  "allow udp name log-collector.internal.corp port 9000-9010", false, NULL, false },
	{ "allow tcp name corp port 443", IPPROTO_TCP, "corp", 443, 443, NULL,
	  "allow tcp name corp port 443", false, NULL, false },
	{ "allow tcp name *.GitHub.com. port 443", IPPROTO_TCP, "*.github.com", 443, 443, NULL,
	  "allow tcp name *.github.com port 443", true, NULL, false },
	{ "allow tcp name api.corp port 80 tool t via 10.0.0.53", IPPROTO_TCP, "api.corp", 80, 80,
	  "t", "allow tcp name api.corp port 80 via 10.0.0.53 tool t", false, "10.0.0.53", false },
	{ "allow tcp name api.corp port 443 sni off tool t", IPPROTO_TCP, "api.corp", 443, 443, "t",
	  "allow tcp name api.corp port 443 tool t sni off", false, NULL, true },
	{ "allow tcp name *.corp port 400-500 sni off", IPPROTO_TCP, "*.corp", 400, 500, NULL,
	  "allow tcp name *.corp port 400-500 sni off", true, NULL, true },
};

Test(learn_lines, good)
{
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		struct profile p = {};
		struct diag d = {};
		const struct name_rule *r;

		cr_assert_eq(profile_parse_line(&p, "n.rules", 3, good[i].text, NULL, &d), 0,
			     "\"%s\" refused:%s", good[i].text, all_msgs(&d));
		cr_assert_eq(d.nr, 0, "\"%s\": messages:%s", good[i].text, all_msgs(&d));
		cr_assert_eq(p.nr_rules + p.nr_dns_names, 0, "\"%s\" made another rule",
			     good[i].text);
		cr_assert_eq(p.nr_name_rules, 1);
		r = &p.name_rules[0];
		cr_assert_eq(r->l4proto, good[i].proto);
		cr_assert_str_eq(r->host, good[i].host);
		cr_assert_eq(r->port_lo, good[i].lo);
		cr_assert_eq(r->port_hi, good[i].hi);
		if (good[i].tool)
			cr_assert_str_eq(r->o.tool, good[i].tool);
		else
			cr_assert_null(r->o.tool);
		cr_assert_str_eq(r->o.text, good[i].kept);
		cr_assert_eq(r->wildcard, good[i].wildcard, "\"%s\": wildcard", good[i].text);
		cr_assert_eq(r->has_via, good[i].via != NULL, "\"%s\": via", good[i].text);
		cr_assert_eq(r->sni_off, good[i].sni_off, "\"%s\": sni off", good[i].text);
		if (good[i].via) {
			struct addr a;

			cr_assert_eq(addr_parse(good[i].via, &a), 0);
			cr_assert(addr_equal(&a, &r->via), "\"%s\": via", good[i].text);
		}
		cr_assert_str_eq(r->o.file, "n.rules");
		cr_assert_eq(r->o.line, 3);
		profile_free(&p);
		diag_free(&d);
	}
}

static const struct {
	const char *text;
	const char *says;
} bad[] = {
	{ "allow tcp name", "missing host name after 'name'" },
	{ "allow tcp name a.corp", "missing 'port <port>[-<port>]'" },
	{ "allow tcp name a.corp to 80", "unknown word 'to' (expected 'port')" },
	{ "allow tcp name a.corp port 0", "port '0' out of range" },
	{ "allow tcp name a.corp port 90-80", "reversed port range '90-80'" },
	{ "allow tcp name a.corp port http", "bad port 'http'" },
	{ "allow udp name a.corp port 53", "cannot allow port 53" },
	{ "allow tcp name a.corp port 1-100", "cannot allow port 53" },
	{ "allow tcp name a.corp port 80 tool", "missing tool name after 'tool'" },
	{ "allow tcp name a.corp port 80 tool ../x", "bad tool '../x'" },
	{ "allow tcp name a.corp port 80 tool t x", "unknown word 'x'" },
	{ "allow tcp name a.corp port 80 for t",
	  "unknown word 'for' (expected 'via', 'tool' or 'sni off')" },
	{ "allow tcp name a.corp port 80 tool t tool u", "'tool' given twice" },
	{ "allow tcp name * port 80", "not every name" },
	{ "allow tcp name *. port 80", "no suffix after '*.'" },
	{ "allow tcp name a.*.corp port 80", "'*' is only a whole first label ('*.SUFFIX')" },
	{ "allow tcp name *corp port 80", "'*' is only a whole first label ('*.SUFFIX')" },
	{ "allow tcp name *.*.corp port 80", "'*' is only a whole first label ('*.SUFFIX')" },
	{ "allow tcp name *..corp port 80", "an empty label" },
	{ "allow tcp name a.corp port 80 via", "missing resolver address after 'via'" },
	{ "allow tcp name a.corp port 80 via corp", "bad resolver 'corp' after 'via'" },
	/* 'sni off' only where the server name is checked: tcp/443 */
	{ "allow tcp name a.corp port 443 sni", "missing 'off' after 'sni'" },
	{ "allow tcp name a.corp port 443 sni on", "expected 'sni off', got 'sni on'" },
	{ "allow tcp name a.corp port 443 sni off sni off", "'sni' given twice" },
	{ "allow tcp name a.corp port 8443 sni off",
	  "'sni off' on tcp port 8443: the TLS server name is checked on tcp/443 only" },
	{ "allow tcp name a.corp port 444-500 sni off", "'sni off' on tcp port 444-500" },
	{ "allow udp name a.corp port 443 sni off", "'sni off' on udp port 443" },
	{ "allow tcp name a.corp port 80 via 10.0.0.0/8", "bad resolver '10.0.0.0/8'" },
	{ "allow tcp name a.corp port 80 via 10.0.0.1 via 10.0.0.2", "'via' given twice" },
	{ "allow tcp name a..corp port 80", "an empty label" },
	{ "allow tcp name evil!.corp port 80", "labels are letters, digits" },
	{ "allow tcp name 10.42.7.11 port 80", "an address, not a host name" },
	{ "dns learn", "missing settings after 'dns learn'" },
	{ "dns learn grace", "missing value after 'grace'" },
	{ "dns learn grace -1", "bad grace '-1' (0-86400)" },
	{ "dns learn max-ttl 0", "bad max-ttl '0' (1-604800)" },
	{ "dns learn max-addresses 1025", "bad max-addresses '1025' (1-1024)" },
	{ "dns learn max-addresses 0", "bad max-addresses '0' (1-1024)" },
	{ "dns learn max-total 0", "bad max-total '0' (1-16384)" },
	{ "dns learn max-total 16385", "bad max-total '16385' (1-16384)" },
	{ "dns learn via", "missing value after 'via'" },
	{ "dns learn via resolver.corp", "bad resolver 'resolver.corp' after 'via'" },
	{ "dns learn grace 1 grace 2", "'grace' given twice" },
	{ "dns learn ttl 5",
	  "unknown word 'ttl' (expected grace, max-ttl, max-addresses, max-total, rate or via)" },
	{ "dns learn rate 0", "bad rate '0' (1-1000)" },
	{ "dns learn rate 1001", "bad rate '1001' (1-1000)" },
};

Test(learn_lines, bad)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct profile p = {};
		struct diag d = {};

		cr_assert_neq(profile_parse_line(&p, "b.rules", 7, bad[i].text, NULL, &d), 0,
			      "\"%s\" was accepted", bad[i].text);
		assert_one_error_at(&d, bad[i].text, "b.rules:7: ", bad[i].says);
		cr_assert_eq(p.nr_name_rules + p.nr_rules, 0, "\"%s\" made a rule", bad[i].text);
		cr_assert_null(p.learn.file, "\"%s\" set learning", bad[i].text);
		profile_free(&p);
		diag_free(&d);
	}
}

/* lines that are fine alone and wrong together: checked over the whole profile */
static void check_lines(const char *const *lines, size_t n, const char *says, int line)
{
	struct profile p = {};
	struct diag d = {};

	for (size_t i = 0; i < n; i++)
		cr_assert_eq(profile_parse_line(&p, "c.rules", i + 1, lines[i], NULL, &d), 0,
			     "\"%s\":%s", lines[i], all_msgs(&d));
	if (!says) {
		cr_assert_eq(learn_rules_check(&p, &d), 0, "refused:%s", all_msgs(&d));
	} else {
		char where[32];

		snprintf(where, sizeof(where), "c.rules:%d: ", line);
		cr_assert_neq(learn_rules_check(&p, &d), 0, "accepted, want \"%s\"", says);
		cr_assert(d.nr >= 1 && starts_with(d.msgs[0], where) && strstr(d.msgs[0], says),
			  "want %s%s, got:%s", where, says, all_msgs(&d));
	}
	profile_free(&p);
	diag_free(&d);
}

Test(learn_lines, checked_together)
{
	static const char *const dup[] = { "allow tcp name a.corp port 80",
					   "allow tcp name A.corp. port 80" };
	static const char *const overlap[] = { "allow tcp name a.corp port 80-90",
					       "allow tcp name a.corp port 85" };
	static const char *const fine[] = { "allow tcp name a.corp port 80",
					    "allow tcp name a.corp port 80 tool t",
					    "allow udp name a.corp port 80",
					    "allow tcp name b.corp port 80" };
	static const char *const alone[] = { "dns learn grace 1" };
	static const char *const twice[] = { "allow tcp name a.corp port 80", "dns learn grace 1",
					     "dns learn max-ttl 60" };
	static const char *const nine[] = {
		"allow tcp name n1.corp port 80", "allow tcp name n2.corp port 80",
		"allow tcp name n3.corp port 80", "allow tcp name n4.corp port 80",
		"allow tcp name n5.corp port 80", "allow tcp name n6.corp port 80",
		"allow tcp name n7.corp port 80", "allow tcp name n8.corp port 80",
		"allow tcp name n9.corp port 80",
	};
	static const char *const wide[] = { "allow tcp name a.corp port 1000-9999" };
	/* a wildcard's port lists every followed name below it */
	static const char *const below[] = {
		"allow tcp name *.corp port 80",      "allow tcp name n1.corp port 8080",
		"allow tcp name n2.corp port 8080",   "allow tcp name n3.corp port 8080",
		"allow tcp name n4.corp port 8080",   "allow tcp name n5.corp port 8080",
		"allow tcp name n6.corp port 8080",   "allow tcp name n7.corp port 8080",
		"allow tcp name n8.x.corp port 8080",
	};
	static const char *const wild_fine[] = { "allow tcp name *.corp port 80",
						 "allow tcp name corp port 80",
						 "allow tcp name *.a.corp port 80",
						 "allow tcp name a.corp port 80" };
	static const char *const via_none[] = { "allow tcp name a.corp port 80 via 10.0.0.53" };
	static const char *const via_prefix[] = { "allow udp 10.0.0.0/24 port 53",
						  "allow tcp name a.corp port 80 via 10.0.0.53" };
	static const char *const via_fine[] = { "allow udp 10.0.0.53 port 53",
						"allow tcp name a.corp port 80 via 10.0.0.53",
						"allow tcp name a.corp port 81 via 10.0.0.53" };
	static const char *const via_differs[] = { "allow udp 10.0.0.53 port 53",
						   "allow tcp name a.corp port 80 via 10.0.0.53",
						   "allow tcp name a.corp port 81" };
	static const char *const learn_via_none[] = { "allow tcp name a.corp port 80",
						      "dns learn via 10.0.0.9" };
	struct profile p = {};
	struct diag d = {};

	check_lines(dup, 2, "duplicate of c.rules:1", 2);
	check_lines(overlap, 2, "ports overlap c.rules:1", 2);
	check_lines(fine, 4, NULL, 0);
	check_lines(alone, 1, "'dns learn' sets how name rules learn, and there are none", 1);
	check_lines(nine, 9, "more than 8 names for tcp port 80", 9);
	check_lines(below, 9, "more than 8 names for tcp port 80 (a wildcard counts", 1);
	check_lines(wild_fine, 4, NULL, 0);
	check_lines(via_none, 1, "'via 10.0.0.53' is no resolver of the profile", 1);
	check_lines(via_prefix, 2, "'via 10.0.0.53' is no resolver of the profile", 2);
	check_lines(via_fine, 3, NULL, 0);
	check_lines(via_differs, 3, "'a.corp' learns from other resolvers than at c.rules:2", 3);
	check_lines(learn_via_none, 2, "'via 10.0.0.9' is no resolver of the profile", 2);
	check_lines(wide, 1, "name rules cover more than 8192 ports", 1);
	/* a second settings line is refused as it is read */
	for (int i = 0; i < 2; i++)
		cr_assert_eq(profile_parse_line(&p, "c.rules", i + 1, twice[i], NULL, &d), 0);
	cr_assert_neq(profile_parse_line(&p, "c.rules", 3, twice[2], NULL, &d), 0);
	cr_assert(strstr(d.msgs[0], "c.rules:3: learning already set at c.rules:2"), "%s",
		  all_msgs(&d));
	profile_free(&p);
	diag_free(&d);
}

Test(learn_lines, settings_and_keys)
{
	struct profile p = {};
	struct diag d = {};
	struct learn_config c = learn_config_of(&p);
	__u8 key[64];
	char back[64];
	int n;

	cr_assert(c.grace_s == LEARN_DEFAULT_GRACE && c.max_ttl_s == LEARN_DEFAULT_MAX_TTL &&
		  c.max_addrs == LEARN_DEFAULT_MAX_ADDRS && c.rate == LEARN_DEFAULT_RATE);
	cr_assert_eq(profile_parse_line(&p, "s.rules", 1,
					"dns learn max-addresses 4 grace 0 max-ttl 30 rate 5", NULL,
					&d),
		     0, "%s", all_msgs(&d));
	c = learn_config_of(&p);
	cr_assert(c.grace_s == 0 && c.max_ttl_s == 30 && c.max_addrs == 4 && c.rate == 5 &&
		  c.max_total == LEARN_DEFAULT_MAX_TOTAL);
	profile_free(&p);
	cr_assert_eq(profile_parse_line(&p, "s.rules", 1,
					"dns learn max-addresses 1024 max-total 100 via 10.0.0.53",
					NULL, &d),
		     0, "%s", all_msgs(&d));
	c = learn_config_of(&p);
	cr_assert(c.max_addrs == 1024 && c.max_total == 100 && p.learn.has_via);
	profile_free(&p);
	memset(&p, 0, sizeof(p));
	n = learn_host_key("log-collector.internal.corp", key, sizeof(key));
	cr_assert_eq(n, 29);
	cr_assert(!memcmp(key,
			  "\x04"
			  "corp\x08"
			  "internal\x0d"
			  "log-collector\x00",
			  29));
	cr_assert_eq(learn_key_host(key, n, back, sizeof(back)), 0);
	cr_assert_str_eq(back, "log-collector.internal.corp");
	/* a key without its 0 byte is a wildcard's suffix */
	cr_assert_eq(learn_key_host(key, n - 1, back, sizeof(back)), 0);
	cr_assert_str_eq(back, "*.log-collector.internal.corp");
	n = learn_host_key("*.github.com", key, sizeof(key));
	cr_assert_eq(n, 11);
	cr_assert(!memcmp(key,
			  "\x03"
			  "com\x06"
			  "github",
			  11));
	cr_assert_eq(learn_key_host(key, n, back, sizeof(back)), 0);
	cr_assert_str_eq(back, "*.github.com");
	/* found by fuzz_dns_names: a label holding '.' read as two labels, one holding NUL cut */
	cr_assert_eq(learn_key_host((const __u8 *)"\x03"
						  "c.m\x00",
				    6, back, sizeof(back)),
		     -EINVAL, "a label with a '.' read back as the name c.m");
	cr_assert_eq(learn_key_host((const __u8 *)"\x03"
						  "c\x00m\x00",
				    6, back, sizeof(back)),
		     -EINVAL, "a label with a NUL read back as the name c");
	/* name rules count after the address rules and the dns names */
	cr_assert_eq(profile_parse_line(&p, "s.rules", 2, "allow tcp 10.0.0.1 port 1", NULL, &d),
		     0);
	cr_assert_eq(profile_parse_line(&p, "s.rules", 3, "allow dns x.corp", NULL, &d), 0);
	cr_assert_eq(profile_parse_line(&p, "s.rules", 4, "allow tcp name y.corp port 2", NULL, &d),
		     0);
	cr_assert_eq(learn_rule_id(&p, 0), 2);
	profile_free(&p);
	diag_free(&d);
}

/* wildcards cover names below their suffix, on label boundaries */
Test(learn_lines, covers)
{
	static const struct {
		const char *pattern, *name;
		bool covers;
	} t[] = {
		{ "*.github.com", "api.github.com", true },
		{ "*.github.com", "a.b.github.com", true },
		{ "*.github.com", "github.com", false },
		{ "*.github.com", "evilgithub.com", false },
		{ "*.github.com", "api.github.com.evil", false },
		{ "*.github.com", "*.api.github.com", true },
		{ "*.github.com", "*.github.com", true },
		{ "*.api.github.com", "*.github.com", false },
		{ "*.api.github.com", "api.github.com", false },
		{ "github.com", "github.com", true },
		{ "github.com", "api.github.com", false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		cr_assert_eq(learn_host_covers(t[i].pattern, t[i].name), t[i].covers,
			     "'%s' over '%s'", t[i].pattern, t[i].name);
}

/* what the judge asks: which name rule allows a port once a host resolved */
Test(learn_lines, rule_covering)
{
	static const char *const lines[] = {
		"allow udp 10.0.0.53 port 53",
		"allow tcp name *.github.com port 443",
		"allow tcp name api.github.com port 8080",
		"allow tcp name *.corp port 80 tool t",
		"allow tcp name *.x.corp port 90 via 10.0.0.53",
		"allow tcp name a.x.corp port 91",
		"allow tcp name *.api.github.com port 443",
	};
	static const struct {
		const char *host;
		__u16 port;
		const char *tool;
		int rule; /* index of the name rule, or -ENOENT */
	} t[] = {
		{ "api.github.com", 443, NULL,
		  0 }, /* learned under api.github.com, listed for *. */
		{ "API.GitHub.com.", 8080, NULL, 1 },
		{ "x.api.github.com", 443, NULL, 5 }, /* the more specific wildcard counts */
		{ "x.api.github.com", 8080, NULL, -ENOENT },
		{ "github.com", 443, NULL, -ENOENT },
		{ "evilgithub.com", 443, NULL, -ENOENT },
		{ "a.corp", 80, "t", 2 },
		{ "a.corp", 80, NULL, -ENOENT },
		{ "b.x.corp", 90, NULL, 3 },
		{ "a.x.corp", 90, NULL,
		  -ENOENT }, /* a.x.corp learns from any resolver, not only via */
		{ "a.x.corp", 91, NULL, 4 },
	};
	struct profile p = {};
	struct diag d = {};

	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		cr_assert_eq(profile_parse_line(&p, "w.rules", i + 1, lines[i], NULL, &d), 0,
			     "\"%s\":%s", lines[i], all_msgs(&d));
	cr_assert_eq(learn_rules_check(&p, &d), 0, "%s", all_msgs(&d));
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		cr_assert_eq(learn_rule_covering(&p, t[i].host, IPPROTO_TCP, t[i].port, t[i].tool),
			     t[i].rule, "%s port %u tool %s", t[i].host, t[i].port,
			     t[i].tool ? t[i].tool : "-");
	profile_free(&p);
	diag_free(&d);
}

/* check's list of name rules says, per rule on port 443, whether the server name is checked */
Test(learn_lines, print_marks_the_name_check)
{
	static const char *const lines[] = {
		"allow tcp name api.corp port 443",	 "allow tcp name cdn.corp port 443 sni off",
		"allow udp name quic.corp port 400-500", "allow tcp name web.corp port 80",
		"allow udp name ntp.corp port 123",
	};
	static const char *const want[] = {
		"n.rules:1: allow tcp name api.corp port 443 (tcp/443: TLS server name checked)\n",
		"n.rules:2: allow tcp name cdn.corp port 443 sni off (tcp/443: any TLS server name)\n",
		"n.rules:3: allow udp name quic.corp port 400-500 (udp/443: QUIC, its server name not "
		"checked)\n",
		"n.rules:4: allow tcp name web.corp port 80\n",
		"n.rules:5: allow udp name ntp.corp port 123\n",
	};
	struct profile p = {};
	struct diag d = {};
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	cr_assert_not_null(out);
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		cr_assert_eq(profile_parse_line(&p, "n.rules", i + 1, lines[i], NULL, &d), 0,
			     "\"%s\":%s", lines[i], all_msgs(&d));
	learn_rules_print(&p, out);
	fclose(out);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		cr_expect(strstr(text, want[i]), "want \"%s\" in:\n%s", want[i], text);
	free(text);
	profile_free(&p);
	diag_free(&d);
}
