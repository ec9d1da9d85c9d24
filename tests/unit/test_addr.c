/* test_addr.c: addresses, prefixes and ports as users write them (loader/addr.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <criterion/criterion.h>
#include "addr.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *err_name(int err)
{
	switch (err) {
	case 0:
		return "0";
	case -EINVAL:
		return "-EINVAL";
	case -ERANGE:
		return "-ERANGE";
	case -EDOM:
		return "-EDOM";
	default:
		return "other";
	}
}

/* addr_parse: good input */

static const struct {
	const char *in;
	int family;
	int plen;
	__u8 bytes[16];
} good_addrs[] = {
	{ "10.42.7.11", AF_INET, 32, { 10, 42, 7, 11 } },
	{ "203.0.113.1", AF_INET, 32, { 203, 0, 113, 1 } },
	{ "198.51.100.42", AF_INET, 32, { 198, 51, 100, 42 } },
	{ "255.255.255.255", AF_INET, 32, { 255, 255, 255, 255 } },
	{ "10.42.7.11/32", AF_INET, 32, { 10, 42, 7, 11 } },
	{ "203.0.113.0/24", AF_INET, 24, { 203, 0, 113, 0 } },
	{ "10.0.0.0/8", AF_INET, 8, { 10 } },
	{ "0.0.0.0/0", AF_INET, 0, { 0 } },
	{ "2001:db8::1", AF_INET6, 128, { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } },
	{ "2001:db8::1/128", AF_INET6, 128, { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } },
	{ "2001:db8::/32", AF_INET6, 32, { 0x20, 0x01, 0x0d, 0xb8 } },
	{ "fe80::/10", AF_INET6, 10, { 0xfe, 0x80 } },
	{ "fe80::/9", AF_INET6, 9, { 0xfe, 0x80 } },
	{ "::1", AF_INET6, 128, { [15] = 1 } },
	{ "::/0", AF_INET6, 0, { 0 } },
};

Test(addr_parse, good)
{
	for (size_t i = 0; i < ARRAY_SIZE(good_addrs); i++) {
		struct addr a;
		int err;

		memset(&a, 0xa5, sizeof(a));
		err = addr_parse(good_addrs[i].in, &a);
		cr_assert_eq(err, 0, "addr_parse(\"%s\") = %s (%d), want 0", good_addrs[i].in,
			     err_name(err), err);
		cr_assert_eq(a.family, good_addrs[i].family, "\"%s\": family %u, want %d",
			     good_addrs[i].in, a.family, good_addrs[i].family);
		cr_assert_eq(a.plen, good_addrs[i].plen, "\"%s\": plen %u, want %d",
			     good_addrs[i].in, a.plen, good_addrs[i].plen);
		cr_assert_arr_eq(a.bytes, good_addrs[i].bytes, sizeof(a.bytes),
				 "\"%s\": address bytes (network order, rest zero) differ",
				 good_addrs[i].in);
	}
}

Test(addr_parse, single_vs_prefix)
{
	static const struct {
		const char *in;
		bool single;
	} cases[] = {
		{ "10.42.7.11", true },	    { "10.42.7.11/32", true }, { "10.42.7.0/24", false },
		{ "0.0.0.0/0", false },	    { "2001:db8::1", true },   { "2001:db8::1/128", true },
		{ "2001:db8::/64", false }, { "::/0", false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct addr a;

		cr_assert_eq(addr_parse(cases[i].in, &a), 0, "addr_parse(\"%s\") failed",
			     cases[i].in);
		cr_assert_eq(addr_is_single(&a), cases[i].single,
			     "addr_is_single(\"%s\") = %d, want %d", cases[i].in,
			     addr_is_single(&a), cases[i].single);
	}
}

/* addr_parse: refusals */

static const struct {
	const char *in;
	int err;
} bad_addrs[] = {
	{ "10.42.7", -EINVAL },
	{ "10.42.7.256", -EINVAL },
	{ "", -EINVAL },
	{ "::g", -EINVAL },
	{ "10.0.0.1/", -EINVAL },
	{ "10.0.0.1/x", -EINVAL },
	{ "10.0.0.1/-1", -EINVAL },
	{ "10.0.0.1/ 8", -EINVAL },
	{ "10.0.0.0/8x", -EINVAL },
	{ "/24", -EINVAL },
	{ "10.42.7.11 ", -EINVAL },
	{ "log-collector.internal.corp", -EINVAL },
	{ "2001:db8::1::2", -EINVAL },
	{ "0123456789012345678901234567890123456789012345678901234567890123456789", -EINVAL },
	{ "10.0.0.0/33", -ERANGE },
	{ "10.0.0.0/999", -ERANGE },
	{ "10.0.0.0/99999999999999999999999", -ERANGE },
	{ "::/129", -ERANGE },
	{ "10.0.0.1/24", -EDOM },
	{ "10.0.0.0/0", -EDOM },
	{ "203.0.113.1/31", -EDOM },
	{ "2001:db8::1/64", -EDOM },
	{ "fe80::/8", -EDOM },
	{ "fe80::/7", -EDOM },
};

Test(addr_parse, bad)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_addrs); i++) {
		struct addr a;
		int err = addr_parse(bad_addrs[i].in, &a);

		cr_assert_eq(err, bad_addrs[i].err, "addr_parse(\"%s\") = %s (%d), want %s",
			     bad_addrs[i].in, err_name(err), err, err_name(bad_addrs[i].err));
	}
}

/* byte order: the hex constants of the scenario's snippet */

static struct addr v4_from_raw(__u32 raw)
{
	struct addr a = { .family = AF_INET, .plen = 32 };

	memcpy(a.bytes, &raw, sizeof(raw));
	return a;
}

static const struct {
	const char *text;
	__u32 raw; /* the __be32 read as a little-endian host integer */
} raw_v4[] = {
	{ "10.42.7.11", 0x0B072A0A }, /* the snippet got this one right */
	{ "203.0.113.1", 0x017100CB }, /* update server */
	{ "198.51.100.42", 0x2A6433C6 }, /* telemetry */
	{ "203.19.1.1", 0x010113CB }, /* what the snippet's 0x010113CB really is */
	{ "198.51.99.42", 0x2A6333C6 }, /* what the snippet's 0x2A6333C6 really is */
};

static void require_little_endian(void)
{
	const __u32 one = 1;

	if (*(const __u8 *)&one != 1)
		cr_skip_test("the raw constants are for a little-endian CPU");
}

Test(byte_order, text_to_raw)
{
	require_little_endian();
	for (size_t i = 0; i < ARRAY_SIZE(raw_v4); i++) {
		struct addr a;

		cr_assert_eq(addr_parse(raw_v4[i].text, &a), 0, "addr_parse(\"%s\") failed",
			     raw_v4[i].text);
		cr_assert_eq(addr_v4_raw(&a), raw_v4[i].raw, "%s: raw 0x%08X, want 0x%08X",
			     raw_v4[i].text, addr_v4_raw(&a), raw_v4[i].raw);
	}
}

Test(byte_order, raw_to_text)
{
	char buf[ADDR_STR_LEN];

	require_little_endian();
	for (size_t i = 0; i < ARRAY_SIZE(raw_v4); i++) {
		struct addr a = v4_from_raw(raw_v4[i].raw);

		cr_assert_str_eq(addr_format(&a, buf, sizeof(buf)), raw_v4[i].text,
				 "0x%08X formats as \"%s\", want \"%s\"", raw_v4[i].raw, buf,
				 raw_v4[i].text);
	}
}

Test(byte_order, snippet_constants_are_wrong)
{
	struct addr update, telemetry;

	require_little_endian();
	cr_assert_eq(addr_parse("203.0.113.1", &update), 0);
	cr_assert_eq(addr_parse("198.51.100.42", &telemetry), 0);
	cr_assert_neq(addr_v4_raw(&update), 0x010113CB,
		      "0x010113CB must not be the update server 203.0.113.1");
	cr_assert_neq(addr_v4_raw(&telemetry), 0x2A6333C6,
		      "0x2A6333C6 must not be the telemetry server 198.51.100.42");
}

Test(byte_order, raw_is_network_order)
{
	struct addr a;

	cr_assert_eq(addr_parse("10.42.7.11", &a), 0);
	cr_assert_eq(ntohl(addr_v4_raw(&a)), 0x0A2A070Bu,
		     "ntohl(raw) of 10.42.7.11 is 0x%08X, want 0x0A2A070B", ntohl(addr_v4_raw(&a)));
}

/* addr_format */

Test(addr_format, round_trip)
{
	static const char *const texts[] = {
		"10.42.7.11",	 "203.0.113.0/24", "0.0.0.0/0", "10.0.0.0/8", "2001:db8::1",
		"2001:db8::/32", "fe80::/10",	   "::/0",	"::1",	      "10.42.0.53",
	};
	char buf[ADDR_STR_LEN];

	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		struct addr a, b;

		cr_assert_eq(addr_parse(texts[i], &a), 0, "addr_parse(\"%s\") failed", texts[i]);
		cr_assert_str_eq(addr_format(&a, buf, sizeof(buf)), texts[i],
				 "\"%s\" formats back as \"%s\"", texts[i], buf);
		cr_assert_eq(addr_parse(buf, &b), 0, "addr_parse(\"%s\") of formatted text failed",
			     buf);
		cr_assert(addr_equal(&a, &b), "\"%s\" does not parse back to the same address",
			  buf);
	}
}

Test(addr_format, canonical)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "10.42.7.11/32", "10.42.7.11" },
		{ "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1" },
		{ "2001:DB8::/32", "2001:db8::/32" },
		{ "::1/128", "::1" },
	};
	char buf[ADDR_STR_LEN];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct addr a;

		cr_assert_eq(addr_parse(cases[i].in, &a), 0, "addr_parse(\"%s\") failed",
			     cases[i].in);
		cr_assert_str_eq(addr_format(&a, buf, sizeof(buf)), cases[i].out,
				 "\"%s\" formats as \"%s\", want \"%s\"", cases[i].in, buf,
				 cases[i].out);
	}
}

Test(addr_format, longest_fits)
{
	const char *text = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/124";
	char buf[ADDR_STR_LEN];
	struct addr a;

	cr_assert_eq(addr_parse(text, &a), 0);
	cr_assert_str_eq(addr_format(&a, buf, sizeof(buf)), text, "got \"%s\"", buf);
}

Test(addr_equal, compares_family_prefix_and_bytes)
{
	struct addr a, b;

	cr_assert_eq(addr_parse("10.42.7.11", &a), 0);
	cr_assert_eq(addr_parse("10.42.7.11/32", &b), 0);
	cr_assert(addr_equal(&a, &b), "10.42.7.11 and 10.42.7.11/32 are the same address");
	cr_assert_eq(addr_parse("10.42.7.12", &b), 0);
	cr_assert_not(addr_equal(&a, &b), "10.42.7.11 and 10.42.7.12 differ");
	cr_assert_eq(addr_parse("10.42.7.0/24", &a), 0);
	cr_assert_eq(addr_parse("10.42.7.0/25", &b), 0);
	cr_assert_not(addr_equal(&a, &b), "/24 and /25 differ");
	cr_assert_eq(addr_parse("::", &a), 0);
	cr_assert_eq(addr_parse("0.0.0.0", &b), 0);
	cr_assert_not(addr_equal(&a, &b), ":: and 0.0.0.0 differ in family");
}

/* port_range_parse */

static const struct {
	const char *in;
	int err;
	__u16 lo, hi;
} ports[] = {
	{ "8080", 0, 8080, 8080 },
	{ "8000-8100", 0, 8000, 8100 },
	{ "1", 0, 1, 1 },
	{ "65535", 0, 65535, 65535 },
	{ "1-65535", 0, 1, 65535 },
	{ "443-443", 0, 443, 443 },
	{ "0", -ERANGE, 0, 0 },
	{ "65536", -ERANGE, 0, 0 },
	{ "99999999999", -ERANGE, 0, 0 },
	{ "99999999999999999999999", -ERANGE, 0, 0 },
	{ "0-80", -ERANGE, 0, 0 },
	{ "80-65536", -ERANGE, 0, 0 },
	{ "80-0", -ERANGE, 0, 0 },
	{ "9000-8000", -EDOM, 0, 0 },
	{ "abc", -EINVAL, 0, 0 },
	{ "80-", -EINVAL, 0, 0 },
	{ "-80", -EINVAL, 0, 0 },
	{ "", -EINVAL, 0, 0 },
	{ "-", -EINVAL, 0, 0 },
	{ "80x", -EINVAL, 0, 0 },
	{ " 80", -EINVAL, 0, 0 },
	{ "+80", -EINVAL, 0, 0 },
	{ "80-90-100", -EINVAL, 0, 0 },
	{ "80--90", -EINVAL, 0, 0 },
	{ "0x50", -EINVAL, 0, 0 },
};

Test(port_range_parse, table)
{
	for (size_t i = 0; i < ARRAY_SIZE(ports); i++) {
		__u16 lo = 0xdead, hi = 0xbeef;
		int err = port_range_parse(ports[i].in, &lo, &hi);

		cr_assert_eq(err, ports[i].err, "port_range_parse(\"%s\") = %s (%d), want %s",
			     ports[i].in, err_name(err), err, err_name(ports[i].err));
		if (err)
			continue;
		cr_assert_eq(lo, ports[i].lo, "\"%s\": lo %u, want %u", ports[i].in, lo,
			     ports[i].lo);
		cr_assert_eq(hi, ports[i].hi, "\"%s\": hi %u, want %u", ports[i].in, hi,
			     ports[i].hi);
	}
}
