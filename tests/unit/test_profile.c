/* test_profile.c: the profile parser (loader/profile.c); a fake resolver: no DNS, no network. */
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "profile.h"
#include "diag_helpers.h"
#include "tmp_tree.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* the fake resolver: a fixed table, every other name fails; counts its calls */

static const struct {
	const char *name;
	const char *addrs[3];
} fake_dns[] = {
	{ "log-collector.internal.corp", { "10.42.7.11" } },
	{ "two.example.corp", { "192.0.2.10", "2001:db8::10" } },
	{ "loop.example.corp", { "127.0.0.1" } },
};

static int resolve_calls;

static int fake_resolve(const char *name, struct addr *out, int max, void *ctx)
{
	cr_assert_eq(ctx, &resolve_calls, "resolve_ctx is not passed to the resolver");
	resolve_calls++;
	for (size_t i = 0; i < ARRAY_SIZE(fake_dns); i++) {
		int n = 0;

		if (strcmp(fake_dns[i].name, name))
			continue;
		for (; n < max && n < 3 && fake_dns[i].addrs[n]; n++)
			cr_assert_eq(addr_parse(fake_dns[i].addrs[n], &out[n]), 0);
		return n;
	}
	return -ENOENT;
}

static const struct profile_opts opts = {
	.resolve = fake_resolve,
	.resolve_ctx = &resolve_calls,
};

static char *addr_text(const struct addr *a)
{
	static char buf[ADDR_STR_LEN];

	return (char *)addr_format(a, buf, sizeof(buf));
}

/* profile_parse_line: lines that make rules */

static const struct {
	const char *text;
	__u8 proto;
	__u16 lo, hi;
	const char *dst;
	const char *kept; /* the rule's text: words joined by one space, no comment */
} good_lines[] = {
	{ "allow tcp 10.42.7.11 port 8080", IPPROTO_TCP, 8080, 8080, "10.42.7.11",
	  "allow tcp 10.42.7.11 port 8080" },
	{ "allow udp 10.42.0.53 port 53", IPPROTO_UDP, 53, 53, "10.42.0.53",
	  "allow udp 10.42.0.53 port 53" },
	{ "allow tcp 2001:db8::1 port 443", IPPROTO_TCP, 443, 443, "2001:db8::1",
	  "allow tcp 2001:db8::1 port 443" },
	{ "allow tcp 203.0.113.0/24 port 443", IPPROTO_TCP, 443, 443, "203.0.113.0/24",
	  "allow tcp 203.0.113.0/24 port 443" },
	{ "allow udp 2001:db8::/48 port 53", IPPROTO_UDP, 53, 53, "2001:db8::/48",
	  "allow udp 2001:db8::/48 port 53" },
	{ "allow tcp 10.0.0.1 port 8000-8100", IPPROTO_TCP, 8000, 8100, "10.0.0.1",
	  "allow tcp 10.0.0.1 port 8000-8100" },
	{ "allow tcp 10.0.0.1 port 65535", IPPROTO_TCP, 65535, 65535, "10.0.0.1",
	  "allow tcp 10.0.0.1 port 65535" },
	{ "allow tcp 203.0.113.1 port 443     # update server", IPPROTO_TCP, 443, 443,
	  "203.0.113.1", "allow tcp 203.0.113.1 port 443" },
	{ "allow tcp 10.0.0.1 port 80#no space before the comment", IPPROTO_TCP, 80, 80, "10.0.0.1",
	  "allow tcp 10.0.0.1 port 80" },
	{ "   \tallow\tudp   10.0.0.1 \t port 53\r\n", IPPROTO_UDP, 53, 53, "10.0.0.1",
	  "allow udp 10.0.0.1 port 53" },
	{ "allow tcp 10.42.7.11 port 8080\n", IPPROTO_TCP, 8080, 8080, "10.42.7.11",
	  "allow tcp 10.42.7.11 port 8080" },
};

Test(parse_line, good)
{
	for (size_t i = 0; i < ARRAY_SIZE(good_lines); i++) {
		struct profile p = {};
		struct diag d = {};
		const struct rule *r;
		int err;

		resolve_calls = 0;
		err = profile_parse_line(&p, "good.rules", 7, good_lines[i].text, &opts, &d);
		cr_assert_eq(err, 0, "\"%s\": error %d:%s", good_lines[i].text, err, all_msgs(&d));
		cr_assert_eq(d.errors + d.warnings, 0, "\"%s\": messages:%s", good_lines[i].text,
			     all_msgs(&d));
		cr_assert_eq(resolve_calls, 0, "\"%s\": an address literal went to the resolver",
			     good_lines[i].text);
		cr_assert_eq(p.nr_rules, 1, "\"%s\": %zu rules, want 1", good_lines[i].text,
			     p.nr_rules);
		r = &p.rules[0];
		cr_assert_eq(r->l4proto, good_lines[i].proto, "\"%s\": protocol %u",
			     good_lines[i].text, r->l4proto);
		cr_assert_eq(r->port_lo, good_lines[i].lo, "\"%s\": port_lo %u", good_lines[i].text,
			     r->port_lo);
		cr_assert_eq(r->port_hi, good_lines[i].hi, "\"%s\": port_hi %u", good_lines[i].text,
			     r->port_hi);
		cr_assert_str_eq(addr_text(&r->dst), good_lines[i].dst, "\"%s\": destination %s",
				 good_lines[i].text, addr_text(&r->dst));
		cr_assert_str_eq(r->o.text, good_lines[i].kept, "\"%s\": kept text \"%s\"",
				 good_lines[i].text, r->o.text);
		cr_assert_str_eq(r->o.file, "good.rules", "\"%s\": file \"%s\"", good_lines[i].text,
				 r->o.file);
		cr_assert_eq(r->o.line, 7, "\"%s\": line %d", good_lines[i].text, r->o.line);
		cr_assert_null(r->host, "\"%s\": a literal address has no host name",
			       good_lines[i].text);
		profile_free(&p);
		diag_free(&d);
	}
}

Test(parse_line, blank_and_comment_lines_add_nothing)
{
	static const char *const lines[] = {
		"",
		"\n",
		"   \t  \n",
		"# a comment",
		"   # an indented comment\n",
		"#allow tcp 10.0.0.1 port 80",
	};

	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		struct profile p = {};
		struct diag d = {};
		int err = profile_parse_line(&p, "c.rules", 1, lines[i], &opts, &d);

		cr_assert_eq(err, 0, "\"%s\": error %d:%s", lines[i], err, all_msgs(&d));
		cr_assert_eq(p.nr_rules, 0, "\"%s\": made %zu rules", lines[i], p.nr_rules);
		cr_assert_eq(d.nr, 0, "\"%s\": messages:%s", lines[i], all_msgs(&d));
		profile_free(&p);
		diag_free(&d);
	}
}

Test(parse_line, rules_accumulate)
{
	struct profile p = {};
	struct diag d = {};

	cr_assert_eq(profile_parse_line(&p, "a.rules", 1, "allow tcp 10.0.0.1 port 80", &opts, &d),
		     0);
	cr_assert_eq(profile_parse_line(&p, "a.rules", 2, "allow udp 10.0.0.2 port 53", &opts, &d),
		     0);
	cr_assert_eq(profile_parse_line(&p, "b.rules", 1, "allow tcp 10.0.0.3 port 443", &opts, &d),
		     0);
	cr_assert_eq(p.nr_rules, 3, "%zu rules, want 3", p.nr_rules);
	cr_assert_str_eq(addr_text(&p.rules[0].dst), "10.0.0.1");
	cr_assert_str_eq(addr_text(&p.rules[1].dst), "10.0.0.2");
	cr_assert_str_eq(addr_text(&p.rules[2].dst), "10.0.0.3");
	cr_assert_eq(p.rules[1].o.line, 2);
	/* one interned copy per file name */
	cr_assert_eq(p.nr_files, 2, "%zu file names kept, want 2", p.nr_files);
	cr_assert_eq(p.rules[0].o.file, p.rules[1].o.file, "rules of one file share its name");
	cr_assert_str_eq(p.rules[2].o.file, "b.rules");
	profile_free(&p);
	diag_free(&d);
}

/* host names: resolved by the fake resolver only, with a warning that lists the addresses */

Test(parse_line, host_name_one_address)
{
	struct profile p = {};
	struct diag d = {};
	int err;

	resolve_calls = 0;
	err = profile_parse_line(&p, "30-internal.rules", 4,
				 "allow tcp log-collector.internal.corp port 8080", &opts, &d);
	cr_assert_eq(err, 0, "error %d:%s", err, all_msgs(&d));
	cr_assert_eq(resolve_calls, 1, "resolver called %d times, want 1", resolve_calls);
	cr_assert_eq(d.errors, 0, "errors:%s", all_msgs(&d));
	cr_assert_eq(d.warnings, 1, "%d warnings, want 1:%s", d.warnings, all_msgs(&d));
	cr_assert(starts_with(d.msgs[0], "30-internal.rules:4: warning: "), "warning \"%s\"",
		  d.msgs[0]);
	cr_assert(strstr(d.msgs[0], "log-collector.internal.corp"), "warning \"%s\" lacks the name",
		  d.msgs[0]);
	cr_assert(strstr(d.msgs[0], "10.42.7.11"), "warning \"%s\" lacks the address", d.msgs[0]);
	cr_assert_eq(p.nr_rules, 1, "%zu rules, want 1", p.nr_rules);
	cr_assert_str_eq(addr_text(&p.rules[0].dst), "10.42.7.11");
	cr_assert_str_eq(p.rules[0].host, "log-collector.internal.corp");
	cr_assert_eq(p.rules[0].port_lo, 8080);
	profile_free(&p);
	diag_free(&d);
}

Test(parse_line, host_name_two_addresses)
{
	struct profile p = {};
	struct diag d = {};
	int err;

	err = profile_parse_line(&p, "x.rules", 2, "allow udp two.example.corp port 5353", &opts,
				 &d);
	cr_assert_eq(err, 0, "error %d:%s", err, all_msgs(&d));
	cr_assert_eq(d.warnings, 1, "%d warnings, want 1:%s", d.warnings, all_msgs(&d));
	cr_assert(strstr(d.msgs[0], "192.0.2.10"), "warning \"%s\" lacks 192.0.2.10", d.msgs[0]);
	cr_assert(strstr(d.msgs[0], "2001:db8::10"), "warning \"%s\" lacks 2001:db8::10",
		  d.msgs[0]);
	cr_assert_eq(p.nr_rules, 2, "one rule per address: %zu rules, want 2", p.nr_rules);
	cr_assert_str_eq(addr_text(&p.rules[0].dst), "192.0.2.10");
	cr_assert_str_eq(addr_text(&p.rules[1].dst), "2001:db8::10");
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(p.rules[i].l4proto, IPPROTO_UDP);
		cr_assert_eq(p.rules[i].port_lo, 5353);
		cr_assert_eq(p.rules[i].o.line, 2);
		cr_assert_str_eq(p.rules[i].host, "two.example.corp");
		cr_assert_str_eq(p.rules[i].o.text, "allow udp two.example.corp port 5353");
	}
	profile_free(&p);
	diag_free(&d);
}

/* profile_parse_line: refusals, each "FILE:LINE: what is wrong" */

static const struct {
	const char *text;
	const char *says;
	int resolves; /* calls the resolver must see */
} bad_lines[] = {
	{ "permit tcp 10.0.0.1 port 80", "unknown word 'permit'", 0 },
	{ "tcp 10.0.0.1 port 80", "unknown word 'tcp'", 0 },
	{ "allow", "expected 'tcp', 'udp' or 'dns'", 0 },
	{ "allow icmp 10.0.0.1 port 80", "expected 'tcp', 'udp' or 'dns' after 'allow', got 'icmp'",
	  0 },
	{ "allow TCP 10.0.0.1 port 80", "got 'TCP'", 0 },
	{ "allow tcp", "missing destination after 'tcp'", 0 },
	{ "allow tcp 10.0.0.1 port", "missing port after 'port' (P, P-P or any)", 0 },
	{ "allow tcp 10.0.0.1 port # 80", "missing port after 'port'", 0 },
	{ "allow tcp 10.0.0.1 port all", "bad port 'all' (P, P-P or any)", 0 },
	{ "allow tcp 10.0.0.1 port any any", "unknown word 'any' (expected 'tool')", 0 },
	{ "allow tcp 10.0.0.1 tool", "missing tool name after 'tool'", 0 },
	{ "allow tcp 10.0.0.1 tool a b", "unknown word 'b'", 0 },
	{ "allow tcp 10.0.0.1 to 80", "unknown word 'to' (expected 'port' or 'tool')", 0 },
	{ "allow tcp 10.0.0.1 port 80 extra", "unknown word 'extra'", 0 },
	{ "allow tcp 10.0.0.1 port 80 from 10.0.0.2", "unknown word 'from'", 0 },
	{ "allow tcp 10.42.7 port 80", "bad destination '10.42.7'", 0 },
	{ "allow tcp 10.42.7.256 port 80", "bad destination '10.42.7.256'", 0 },
	{ "allow tcp ::g port 80", "bad destination '::g'", 0 },
	{ "allow tcp 10.0.0.1/ port 80", "bad destination '10.0.0.1/'", 0 },
	{ "allow tcp 10.0.0.1/x port 80", "bad destination '10.0.0.1/x'", 0 },
	{ "allow tcp bad_host!.corp port 80", "bad destination 'bad_host!.corp'", 0 },
	{ "allow tcp .corp port 80", "bad destination '.corp'", 0 },
	{ "allow tcp 10.0.0.1 port 0", "port '0' out of range (1-65535)", 0 },
	{ "allow tcp 10.0.0.1 port 65536", "port '65536' out of range (1-65535)", 0 },
	{ "allow tcp 10.0.0.1 port 99999999999", "port '99999999999' out of range", 0 },
	{ "allow tcp 10.0.0.1 port 0-80", "port '0-80' out of range", 0 },
	{ "allow tcp 10.0.0.1 port 9000-8000", "reversed port range '9000-8000'", 0 },
	{ "allow tcp 10.0.0.1 port http", "bad port 'http'", 0 },
	{ "allow tcp 10.0.0.1 port 80-", "bad port '80-'", 0 },
	{ "allow tcp 10.0.0.0/33 port 80", "prefix length too long in '10.0.0.0/33'", 0 },
	{ "allow tcp ::/129 port 80", "prefix length too long in '::/129'", 0 },
	{ "allow tcp 10.0.0.1/24 port 80", "'10.0.0.1/24' has bits set beyond its prefix length",
	  0 },
	{ "allow tcp 2001:db8::1/64 port 80", "'2001:db8::1/64' has bits set beyond", 0 },
	{ "allow tcp nowhere.example.corp port 80",
	  "host name 'nowhere.example.corp' does not resolve", 1 },
	{ "allow tcp a b c d e f g h i j k l m n o p", "too many words", 0 },
	/* words that are no host name: refused before the resolver sees them */
	{ "allow tcp any port 443",
	  "bad destination 'any': expected an address (10.0.0.1), a prefix (10.0.0.0/8) or a host "
	  "name (host.example)",
	  0 },
	{ "allow tcp ANY port 443", "bad destination 'ANY': expected an address", 0 },
	{ "allow udp all port 53", "bad destination 'all': expected an address", 0 },
	{ "allow tcp * port 443", "bad destination '*': expected an address", 0 },
	{ "allow tcp localhost port 80", "bad destination 'localhost': expected an address", 0 },
	{ "allow tcp fileserver. port 80", "bad destination 'fileserver.': expected an address",
	  0 },
	{ "allow tcp any.corp! port 80", "bad destination 'any.corp!': expected an address", 0 },
	/* the server-name check is the name rules' (docs/sni.md) */
	{ "allow tcp 10.0.0.1 port 443 sni off", "'sni' belongs to name rules", 0 },
	{ "allow tcp 10.0.0.1 port 443 tool t sni off", "'sni' belongs to name rules", 0 },
	{ "tls sni check", "unknown word 'tls'", 0 },
};

Test(parse_line, bad)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_lines); i++) {
		struct profile p = {};
		struct diag d = {};
		int err;

		resolve_calls = 0;
		err = profile_parse_line(&p, "bad.rules", 12, bad_lines[i].text, &opts, &d);
		cr_assert_neq(err, 0, "\"%s\" was accepted", bad_lines[i].text);
		cr_assert_eq(d.errors, 1, "\"%s\": %d errors, want 1:%s", bad_lines[i].text,
			     d.errors, all_msgs(&d));
		cr_assert_eq(d.nr, 1, "\"%s\": %d messages, want 1:%s", bad_lines[i].text, d.nr,
			     all_msgs(&d));
		cr_assert(starts_with(d.msgs[0], "bad.rules:12: "),
			  "\"%s\": message \"%s\" does not start with \"bad.rules:12: \"",
			  bad_lines[i].text, d.msgs[0]);
		cr_assert(strstr(d.msgs[0], bad_lines[i].says),
			  "\"%s\": message \"%s\" does not say \"%s\"", bad_lines[i].text,
			  d.msgs[0], bad_lines[i].says);
		cr_assert_eq(p.nr_rules, 0, "\"%s\": a refused line made %zu rules",
			     bad_lines[i].text, p.nr_rules);
		cr_assert_eq(resolve_calls, bad_lines[i].resolves,
			     "\"%s\": resolver called %d times, want %d", bad_lines[i].text,
			     resolve_calls, bad_lines[i].resolves);
		profile_free(&p);
		diag_free(&d);
	}
}

/* rules that can never match: a warning at their line, and the rule is kept */

static const struct {
	const char *text;
	const char *says; /* NULL: no warning */
} never_matching[] = {
	{ "allow tcp ::ffff:10.42.7.11 port 8080",
	  "IPv4-mapped IPv6 destination '::ffff:10.42.7.11' never matches: traffic to it is IPv4 "
	  "and judged as IPv4; write 10.42.7.11" },
	{ "allow tcp ::ffff:10.0.0.0/104 port 443",
	  "never matches: traffic to it is IPv4 and judged "
	  "as IPv4; write 10.0.0.0/8" },
	{ "allow udp ::ffff:0:0/96 port 53", "write 0.0.0.0/0" },
	{ "allow tcp ::ffff:127.0.0.1 port 80", "write 127.0.0.1" },
	{ "allow tcp 127.0.0.1 port 8080",
	  "loopback destination '127.0.0.1' never matches: loopback traffic never reaches tc on the "
	  "sandbox's link, and the cgroup hooks allow it as local" },
	{ "allow tcp 127.0.0.0/8 port 80", "loopback destination '127.0.0.0/8' never matches" },
	{ "allow udp 127.53.0.0/16 port 53", "loopback destination '127.53.0.0/16' never matches" },
	{ "allow tcp ::1 port 80", "loopback destination '::1' never matches" },
	{ "allow tcp 0.0.0.0 port 80",
	  "destination '0.0.0.0' never matches: the unspecified address" },
	{ "allow tcp :: port 80", "destination '::' never matches: the unspecified address" },
	/* wider prefixes, and their neighbours, can match other traffic: no warning */
	{ "allow tcp 0.0.0.0/0 port 443", NULL },
	{ "allow tcp ::/0 port 443", NULL },
	{ "allow tcp ::fffe:0:0/95 port 443", NULL },
	{ "allow tcp 126.255.255.255 port 80", NULL },
	{ "allow tcp 128.0.0.1 port 80", NULL },
	{ "allow tcp 0.0.0.0/7 port 80", NULL },
	{ "allow tcp ::2 port 80", NULL },
	{ "allow tcp ::0:1:0:0/96 port 80", NULL },
};

Test(parse_line, never_matching_destinations_warn)
{
	for (size_t i = 0; i < ARRAY_SIZE(never_matching); i++) {
		struct profile p = {};
		struct diag d = {};
		const char *text = never_matching[i].text, *says = never_matching[i].says;
		int err = profile_parse_line(&p, "w.rules", 5, text, &opts, &d);

		cr_assert_eq(err, 0, "\"%s\": error %d:%s", text, err, all_msgs(&d));
		cr_assert_eq(d.errors, 0, "\"%s\": errors:%s", text, all_msgs(&d));
		cr_assert_eq(p.nr_rules, 1, "\"%s\": %zu rules, want 1", text, p.nr_rules);
		cr_assert_eq(d.warnings, says ? 1 : 0, "\"%s\": %d warnings:%s", text, d.warnings,
			     all_msgs(&d));
		if (says) {
			cr_assert(starts_with(d.msgs[0], "w.rules:5: warning: "),
				  "\"%s\": \"%s\" is not a warning at w.rules:5", text, d.msgs[0]);
			cr_assert(strstr(d.msgs[0], says), "\"%s\": \"%s\" does not say \"%s\"",
				  text, d.msgs[0], says);
		}
		profile_free(&p);
		diag_free(&d);
	}
}

Test(parse_line, host_name_resolving_to_loopback_warns)
{
	struct profile p = {};
	struct diag d = {};

	cr_assert_eq(profile_parse_line(&p, "w.rules", 2, "allow tcp loop.example.corp port 80",
					&opts, &d),
		     0, "%s", all_msgs(&d));
	cr_assert_eq(d.warnings, 2, "%d warnings, want 2:%s", d.warnings, all_msgs(&d));
	cr_assert(find_msg(&d, "w.rules:2: warning: loopback destination '127.0.0.1' (from host "
			       "name loop.example.corp) never matches"),
		  "%s", all_msgs(&d));
	profile_free(&p);
	diag_free(&d);
}

/*
 * Profile text in messages: kept as it is in the message (check --json escapes it as JSON),
 * and printed for a terminal with control bytes, '\' and invalid UTF-8 as \xNN.
 */

static const struct {
	const char *text;
	const char *printed; /* what diag_print shows of the message */
	const char *raw; /* what the message keeps */
} hostile[] = {
	{ "allow tcp ev\x1b[31mil.corp port 80", "bad destination 'ev\\x1b[31mil.corp'",
	  "'ev\x1b[31mil.corp'" },
	{ "allow tcp caf\xe9.corp port 80", "bad destination 'caf\\xe9.corp'", "'caf\xe9.corp'" },
	{ "allow tcp caf\xc3\xa9.corp port 80", "bad destination 'caf\xc3\xa9.corp'",
	  "'caf\xc3\xa9.corp'" },
	{ "allow tcp a\\b.corp port 80", "bad destination 'a\\x5cb.corp'", "'a\\b.corp'" },
	{ "allow tcp 10.0.0.1 port 80\x07", "bad port '80\\x07'", "'80\x07'" },
	{ "allow tcp 10.0.0.1 port 80 tool \x1b]0;pwned\x07", "bad tool '\\x1b]0;pwned\\x07'",
	  "'\x1b]0;pwned\x07'" },
	{ "permit\x7f tcp 10.0.0.1 port 80", "unknown word 'permit\\x7f'", "'permit\x7f'" },
	/* C1 controls: one byte of no UTF-8, or U+009B written in UTF-8 */
	{ "allow tcp a\x9b"
	  "2Jb.corp port 80",
	  "'a\\x9b2Jb.corp'",
	  "'a\x9b"
	  "2Jb.corp'" },
	{ "allow tcp a\xc2\x9b"
	  "2Jb.corp port 80",
	  "'a\\xc2\\x9b2Jb.corp'",
	  "'a\xc2\x9b"
	  "2Jb.corp'" },
	{ "allow dns ex\x1b"
	  "ample.corp",
	  "bad name 'ex\\x1bample.corp'",
	  "'ex\x1b"
	  "ample.corp'" },
	{ "allow tcp name ex\x1b"
	  "ample.corp port 443",
	  "ex\\x1bample.corp",
	  "ex\x1b"
	  "ample.corp" },
	{ "dns qtype A \x1b[2J", "unknown query type '\\x1b[2J'", "'\x1b[2J'" },
	{ "audit tool \x1b[2J", "bad tool name '\\x1b[2J'", "'\x1b[2J'" },
};

static char *printed(const struct diag *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	diag_print(d, f);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

Test(parse_line, profile_text_in_messages_is_escaped_for_a_terminal)
{
	for (size_t i = 0; i < ARRAY_SIZE(hostile); i++) {
		struct profile p = {};
		struct diag d = {};
		const char *text = hostile[i].text;
		char *out;

		cr_assert_neq(profile_parse_line(&p, "h.rules", 3, text, &opts, &d), 0,
			      "row %zu was accepted", i);
		cr_assert_eq(d.nr, 1, "row %zu: %d messages", i, d.nr);
		cr_assert(strstr(d.msgs[0], hostile[i].raw), "row %zu: the message lost the text",
			  i);
		out = printed(&d);
		cr_assert(starts_with(out, "h.rules:3: "), "row %zu: printed \"%s\"", i, out);
		cr_assert(strstr(out, hostile[i].printed), "row %zu: printed \"%s\", not \"%s\"", i,
			  out, hostile[i].printed);
		for (const unsigned char *c = (const unsigned char *)out; *c; c++)
			cr_assert((*c >= 0x20 && *c != 0x7f) || *c == '\n',
				  "row %zu: byte 0x%02x printed raw", i, *c);
		free(out);
		profile_free(&p);
		diag_free(&d);
	}
}

/* profile_check_duplicates on parsed lines, without files */

Test(check_duplicates, same_line_twice_in_memory)
{
	struct profile p = {};
	struct diag d = {};

	cr_assert_eq(
		profile_parse_line(&p, "a.rules", 3, "allow tcp 10.42.7.11 port 8080", &opts, &d),
		0);
	cr_assert_eq(profile_parse_line(&p, "a.rules", 9,
					"allow tcp 10.42.7.11   port 8080 # again", &opts, &d),
		     0);
	cr_assert_neq(profile_check_duplicates(&p, &d), 0, "a repeated rule was accepted");
	cr_assert_eq(d.errors, 1, "%d errors, want 1:%s", d.errors, all_msgs(&d));
	cr_assert_str_eq(d.msgs[0],
			 "a.rules:9: duplicate of a.rules:3 ('allow tcp 10.42.7.11 port 8080')");
	profile_free(&p);
	diag_free(&d);
}

Test(check_duplicates, distinct_rules_pass)
{
	static const char *const lines[] = {
		"allow tcp 10.42.7.11 port 8080", /* base */
		"allow udp 10.42.7.11 port 8080", /* other protocol */
		"allow tcp 10.42.7.12 port 8080", /* other address */
		"allow tcp 10.42.7.11 port 8081-8090", /* next ports */
		"allow tcp 10.42.7.11 port 8000-8079", /* ports before */
		"allow tcp 10.42.7.0/24 port 8080", /* a prefix is another key */
		"allow tcp ::ffff:10.42.7.11 port 8080", /* IPv6, not IPv4 */
	};
	struct profile p = {};
	struct diag d = {};

	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		cr_assert_eq(profile_parse_line(&p, "a.rules", i + 1, lines[i], &opts, &d), 0,
			     "\"%s\" refused:%s", lines[i], all_msgs(&d));
	cr_assert_eq(profile_check_duplicates(&p, &d), 0, "distinct rules refused:%s",
		     all_msgs(&d));
	cr_assert_eq(d.errors, 0, "errors:%s", all_msgs(&d));
	profile_free(&p);
	diag_free(&d);
}

Test(check_duplicates, one_name_resolving_twice_to_one_address)
{
	struct profile p = {};
	struct diag d = {};
	struct rule *r;

	cr_assert_eq(profile_parse_line(&p, "a.rules", 1, "allow tcp two.example.corp port 443",
					&opts, &d),
		     0);
	/* a resolver that gives one address twice (the built-in one dedups, a custom one may not) */
	cr_assert_eq(p.nr_rules, 2);
	r = &p.rules[1];
	r->dst = p.rules[0].dst;
	cr_assert_eq(profile_check_duplicates(&p, &d), 0, "one line clashed with itself:%s",
		     all_msgs(&d));
	profile_free(&p);
	diag_free(&d);
}

/* profile_load_dir on a temporary directory */

static char tmpdir[256];

static void dir_setup(void)
{
	tmp_tree_make(tmpdir, sizeof(tmpdir), "profile");
	resolve_calls = 0;
}

static void dir_teardown(void)
{
	if (tmpdir[0])
		tmp_tree_remove(tmpdir);
	tmpdir[0] = '\0';
}

TestSuite(load_dir, .init = dir_setup, .fini = dir_teardown);

static const char *path_of(const char *name)
{
	static char buf[2][512];
	static int which;

	which ^= 1;
	snprintf(buf[which], sizeof(buf[which]), "%s/%s", tmpdir, name);
	return buf[which];
}

static void write_file(const char *name, const char *text)
{
	const char *path = path_of(name);
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "fopen(%s): %s", path, strerror(errno));
	cr_assert_eq(fputs(text, f) >= 0, 1, "write %s", path);
	cr_assert_eq(fclose(f), 0, "close %s", path);
}

/* "FILE:LINE: " of a file in the temporary directory */
static const char *where(const char *name, int line)
{
	static char buf[600];

	snprintf(buf, sizeof(buf), "%s/%s:%d: ", tmpdir, name, line);
	return buf;
}

Test(load_dir, scenario_profile)
{
	struct profile p = {};
	struct diag d = {};
	int err;

	write_file("10-dns.rules", "# DNS only to the hardened resolver.\n"
				   "allow udp 10.42.0.53 port 53\n"
				   "allow tcp 10.42.0.53 port 53\n");
	write_file("20-https.rules", "allow tcp 203.0.113.1 port 443     # update server\n"
				     "allow tcp 198.51.100.42 port 443   # telemetry\n");
	write_file("30-internal.rules", "\n# Internal services.\n"
					"allow tcp log-collector.internal.corp port 8080\n");
	err = profile_load_dir(tmpdir, &opts, &p, &d);
	cr_assert_eq(err, 0, "error %d:%s", err, all_msgs(&d));
	cr_assert_eq(d.errors, 0, "errors:%s", all_msgs(&d));
	cr_assert_eq(d.warnings, 1, "the host name rule warns once:%s", all_msgs(&d));
	cr_assert(starts_with(d.msgs[0], where("30-internal.rules", 3)), "warning \"%s\"",
		  d.msgs[0]);
	cr_assert(strstr(d.msgs[0], "10.42.7.11"), "warning \"%s\" lacks the address", d.msgs[0]);
	cr_assert_eq(resolve_calls, 1, "resolver called %d times", resolve_calls);
	cr_assert_eq(p.nr_rules, 5, "%zu rules, want 5", p.nr_rules);
	cr_assert_str_eq(addr_text(&p.rules[0].dst), "10.42.0.53");
	cr_assert_eq(p.rules[0].l4proto, IPPROTO_UDP);
	cr_assert_str_eq(addr_text(&p.rules[2].dst), "203.0.113.1");
	cr_assert_str_eq(addr_text(&p.rules[3].dst), "198.51.100.42");
	cr_assert_str_eq(addr_text(&p.rules[4].dst), "10.42.7.11");
	cr_assert_eq(p.rules[4].port_lo, 8080);
	cr_assert_eq(p.rules[4].o.line, 3);
	cr_assert_str_eq(p.rules[4].o.file, path_of("30-internal.rules"));
	cr_assert_eq(p.nr_stage_paths, 0);
	profile_free(&p);
	diag_free(&d);
}

Test(load_dir, files_in_name_order)
{
	struct profile p = {};
	struct diag d = {};
	int err;

	/* created in the reverse order */
	write_file("20-b.rules", "allow tcp 10.0.0.20 port 80\nallow tcp 10.0.0.21 port 80\n");
	write_file("10-a.rules", "allow tcp 10.0.0.10 port 80\n");
	write_file("15-stage.bpf.o", "not read by the profile parser");
	write_file("05-early.bpf.o", "not read by the profile parser");
	write_file("README", "allow nothing: not a .rules file\n");
	write_file(".hidden.rules", "garbage that must not be read\n");
	write_file("rules", "garbage that must not be read\n");
	err = profile_load_dir(tmpdir, &opts, &p, &d);
	cr_assert_eq(err, 0, "error %d:%s", err, all_msgs(&d));
	cr_assert_eq(p.nr_rules, 3, "%zu rules, want 3", p.nr_rules);
	cr_assert_str_eq(addr_text(&p.rules[0].dst), "10.0.0.10", "10-a.rules comes first");
	cr_assert_str_eq(addr_text(&p.rules[1].dst), "10.0.0.20");
	cr_assert_str_eq(addr_text(&p.rules[2].dst), "10.0.0.21");
	cr_assert_str_eq(p.rules[0].o.file, path_of("10-a.rules"));
	cr_assert_str_eq(p.rules[1].o.file, path_of("20-b.rules"));
	cr_assert_eq(p.nr_stage_paths, 2, "%zu stage objects, want 2", p.nr_stage_paths);
	cr_assert_str_eq(p.stage_paths[0], path_of("05-early.bpf.o"));
	cr_assert_str_eq(p.stage_paths[1], path_of("15-stage.bpf.o"));
	profile_free(&p);
	diag_free(&d);
}

Test(load_dir, empty_directory)
{
	struct profile p = {};
	struct diag d = {};

	cr_assert_eq(profile_load_dir(tmpdir, &opts, &p, &d), 0, "%s", all_msgs(&d));
	cr_assert_eq(p.nr_rules, 0);
	cr_assert_eq(d.nr, 0, "%s", all_msgs(&d));
	profile_free(&p);
	diag_free(&d);
}

Test(load_dir, one_bad_line_fails_the_profile)
{
	struct profile p = {};
	struct diag d = {};
	int err;

	write_file("10-a.rules", "allow tcp 10.0.0.1 port 80\n");
	write_file("20-b.rules", "allow tcp 10.0.0.2 port 80\n"
				 "allow tcp 10.0.0.3 port 0\n"
				 "allow tcp 10.0.0.4 port 80\n");
	write_file("30-c.rules", "allow tcp 10.0.0.5 port 80\n");
	err = profile_load_dir(tmpdir, &opts, &p, &d);
	cr_assert_neq(err, 0, "a profile with a bad line was accepted");
	cr_assert_eq(d.errors, 1, "%d errors, want 1:%s", d.errors, all_msgs(&d));
	cr_assert(starts_with(d.msgs[0], where("20-b.rules", 2)),
		  "message \"%s\" does not start with \"%s\"", d.msgs[0], where("20-b.rules", 2));
	cr_assert(strstr(d.msgs[0], "port '0' out of range"), "message \"%s\"", d.msgs[0]);
	profile_free(&p);
	diag_free(&d);
}

Test(load_dir, every_bad_line_is_reported)
{
	struct profile p = {};
	struct diag d = {};

	write_file("10-a.rules", "allow tcp 10.0.0.1 port 0\n"
				 "allow tcp 10.0.0.1 port 80\n"
				 "allow tcp nowhere.example.corp port 80\n");
	write_file("20-b.rules", "deny tcp 10.0.0.1 port 80\n");
	cr_assert_neq(profile_load_dir(tmpdir, &opts, &p, &d), 0);
	cr_assert_eq(d.errors, 3, "%d errors, want 3:%s", d.errors, all_msgs(&d));
	cr_assert(starts_with(d.msgs[0], where("10-a.rules", 1)), "\"%s\"", d.msgs[0]);
	cr_assert(starts_with(d.msgs[1], where("10-a.rules", 3)), "\"%s\"", d.msgs[1]);
	cr_assert(strstr(d.msgs[1], "does not resolve"), "\"%s\"", d.msgs[1]);
	cr_assert(starts_with(d.msgs[2], where("20-b.rules", 1)), "\"%s\"", d.msgs[2]);
	cr_assert(strstr(d.msgs[2], "unknown word 'deny'"), "\"%s\"", d.msgs[2]);
	profile_free(&p);
	diag_free(&d);
}

Test(load_dir, duplicate_across_files)
{
	struct profile p = {};
	struct diag d = {};
	char first[600];
	const char *m;

	write_file("10-a.rules", "allow tcp 10.42.7.11 port 8080\n");
	write_file("20-b.rules", "# the same rule again\nallow tcp 10.42.7.11 port 8080\n");
	cr_assert_neq(profile_load_dir(tmpdir, &opts, &p, &d), 0, "a duplicate was accepted");
	cr_assert_eq(d.errors, 1, "%d errors, want 1:%s", d.errors, all_msgs(&d));
	m = d.msgs[0];
	cr_assert(starts_with(m, where("20-b.rules", 2)),
		  "\"%s\" is not reported at the later rule", m);
	snprintf(first, sizeof(first), "duplicate of %s/10-a.rules:1 ", tmpdir);
	cr_assert(strstr(m, first), "\"%s\" does not name the first rule (\"%s\")", m, first);
	cr_assert(strstr(m, "allow tcp 10.42.7.11 port 8080"), "\"%s\" does not quote it", m);
	profile_free(&p);
	diag_free(&d);
}

Test(load_dir, duplicate_by_host_name)
{
	struct profile p = {};
	struct diag d = {};

	write_file("10-a.rules", "allow tcp log-collector.internal.corp port 8080\n");
	write_file("20-b.rules", "allow tcp 10.42.7.11 port 8080\n");
	cr_assert_neq(profile_load_dir(tmpdir, &opts, &p, &d), 0,
		      "a name and its address for the same port were both accepted");
	cr_assert(find_msg(&d, "duplicate of"), "no duplicate error:%s", all_msgs(&d));
	cr_assert(starts_with(find_msg(&d, "duplicate of"), where("20-b.rules", 1)), "%s",
		  all_msgs(&d));
	profile_free(&p);
	diag_free(&d);
}

Test(load_dir, overlapping_ranges)
{
	static const struct {
		const char *a, *b;
	} cases[] = {
		/* the range first, then a port inside it */
		{ "allow tcp 10.0.0.1 port 8000-8100\n", "allow tcp 10.0.0.1 port 8080\n" },
		/* a port first, then a range around it: still reported at the later file */
		{ "allow tcp 10.0.0.1 port 8080\n", "allow tcp 10.0.0.1 port 8000-8100\n" },
		/* two ranges sharing their ends */
		{ "allow udp 10.0.0.1 port 5000-6000\n", "allow udp 10.0.0.1 port 6000-7000\n" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct profile p = {};
		struct diag d = {};
		char first[600];

		write_file("10-a.rules", cases[i].a);
		write_file("20-b.rules", cases[i].b);
		cr_assert_neq(profile_load_dir(tmpdir, &opts, &p, &d), 0,
			      "case %zu: overlap accepted", i);
		cr_assert_eq(d.errors, 1, "case %zu: %d errors, want 1:%s", i, d.errors,
			     all_msgs(&d));
		cr_assert(starts_with(d.msgs[0], where("20-b.rules", 1)),
			  "case %zu: \"%s\" is not reported at the later file", i, d.msgs[0]);
		snprintf(first, sizeof(first), "ports overlap %s/10-a.rules:1 ", tmpdir);
		cr_assert(strstr(d.msgs[0], first), "case %zu: \"%s\" does not say \"%s\"", i,
			  d.msgs[0], first);
		profile_free(&p);
		diag_free(&d);
	}
}

/* every rule inside a wide range is reported, not only the first neighbour */
Test(load_dir, every_overlap_inside_one_range)
{
	struct profile p = {};
	struct diag d = {};

	write_file("10-a.rules", "allow tcp 10.0.0.1 port 100-300\n"
				 "allow tcp 10.0.0.1 port 150-160\n"
				 "allow tcp 10.0.0.1 port 200-250\n");
	cr_assert_neq(profile_load_dir(tmpdir, &opts, &p, &d), 0, "overlaps accepted");
	cr_assert_eq(d.errors, 2, "%d errors, want 2:%s", d.errors, all_msgs(&d));
	cr_assert(find_msg(&d, where("10-a.rules", 2)), "line 2 not reported:%s", all_msgs(&d));
	cr_assert(find_msg(&d, where("10-a.rules", 3)), "line 3 not reported:%s", all_msgs(&d));
	profile_free(&p);
	diag_free(&d);
}

Test(load_dir, adjacent_ranges_do_not_overlap)
{
	struct profile p = {};
	struct diag d = {};

	write_file("10-a.rules", "allow tcp 10.0.0.1 port 8000-8079\n");
	write_file("20-b.rules",
		   "allow tcp 10.0.0.1 port 8080\nallow tcp 10.0.0.1 port 8081-8100\n");
	cr_assert_eq(profile_load_dir(tmpdir, &opts, &p, &d), 0, "%s", all_msgs(&d));
	cr_assert_eq(p.nr_rules, 3);
	profile_free(&p);
	diag_free(&d);
}

Test(load_dir, unreadable_rules_file_is_a_directory)
{
	struct profile p = {};
	struct diag d = {};
	char want[600];

	write_file("10-a.rules", "allow tcp 10.0.0.1 port 80\n");
	cr_assert_eq(mkdir(path_of("20-x.rules"), 0755), 0, "mkdir: %s", strerror(errno));
	cr_assert_neq(profile_load_dir(tmpdir, &opts, &p, &d), 0, "an unreadable file was ignored");
	cr_assert_eq(d.errors, 1, "%d errors, want 1:%s", d.errors, all_msgs(&d));
	snprintf(want, sizeof(want), "%s: cannot read: ", path_of("20-x.rules"));
	cr_assert(starts_with(d.msgs[0], want), "\"%s\" does not start with \"%s\"", d.msgs[0],
		  want);
	cr_assert(strstr(d.msgs[0], strerror(EISDIR)), "\"%s\" does not give the reason",
		  d.msgs[0]);
	profile_free(&p);
	diag_free(&d);
}

Test(load_dir, unreadable_rules_file_dangling_symlink)
{
	struct profile p = {};
	struct diag d = {};
	char want[600];

	write_file("10-a.rules", "allow tcp 10.0.0.1 port 80\n");
	cr_assert_eq(symlink("/nonexistent/ironclaw/none.rules", path_of("20-y.rules")), 0,
		     "symlink: %s", strerror(errno));
	cr_assert_neq(profile_load_dir(tmpdir, &opts, &p, &d), 0, "a dangling symlink was ignored");
	cr_assert_eq(d.errors, 1, "%d errors, want 1:%s", d.errors, all_msgs(&d));
	snprintf(want, sizeof(want), "%s: cannot read: ", path_of("20-y.rules"));
	cr_assert(starts_with(d.msgs[0], want), "\"%s\" does not start with \"%s\"", d.msgs[0],
		  want);
	cr_assert(strstr(d.msgs[0], strerror(ENOENT)), "\"%s\" does not give the reason",
		  d.msgs[0]);
	profile_free(&p);
	diag_free(&d);
}

Test(load_dir, missing_directory)
{
	struct profile p = {};
	struct diag d = {};
	char want[600];
	int err;

	err = profile_load_dir(path_of("no-such-dir"), &opts, &p, &d);
	cr_assert_eq(err, -ENOENT, "error %d, want -ENOENT", err);
	cr_assert_eq(d.errors, 1, "%d errors, want 1:%s", d.errors, all_msgs(&d));
	snprintf(want, sizeof(want), "%s: cannot read profile directory", path_of("no-such-dir"));
	cr_assert(starts_with(d.msgs[0], want), "\"%s\" does not start with \"%s\"", d.msgs[0],
		  want);
	cr_assert_eq(p.nr_rules, 0);
	profile_free(&p);
	diag_free(&d);
}

Test(load_dir, uses_the_given_resolver)
{
	struct profile p = {};
	struct diag d = {};

	write_file("10-a.rules", "allow tcp two.example.corp port 443\n"
				 "allow tcp unknown.example.corp port 443\n");
	cr_assert_neq(profile_load_dir(tmpdir, &opts, &p, &d), 0);
	cr_assert_eq(resolve_calls, 2, "resolver called %d times, want 2", resolve_calls);
	cr_assert_eq(d.errors, 1, "%d errors, want 1:%s", d.errors, all_msgs(&d));
	cr_assert_eq(d.warnings, 1, "%d warnings, want 1:%s", d.warnings, all_msgs(&d));
	cr_assert(find_msg(&d, "host name 'unknown.example.corp' does not resolve"), "%s",
		  all_msgs(&d));
	cr_assert(find_msg(&d, "192.0.2.10 2001:db8::10"), "warning lacks the addresses:%s",
		  all_msgs(&d));
	profile_free(&p);
	diag_free(&d);
}
