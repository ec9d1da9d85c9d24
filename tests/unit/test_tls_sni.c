/* test_tls_sni.c: the ClientHello server-name parser (include/tls_hello.h) on real and crafted hellos. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "pkt_build.h"
#include "tls_sni.h"

#define FIXTURES "tests/fixtures/tls/"
#define BUF_MAX (TLS_RECORD_MAX + 64)

/* a hello captured by tests/fixtures/tls/capture.py, as bytes; returns its length */
static size_t fixture(const char *name, __u8 *out)
{
	char path[256], hex[2 * BUF_MAX + 2];
	size_t n, i;
	FILE *f;

	snprintf(path, sizeof(path), FIXTURES "%s.hex", name);
	f = fopen(path, "r");
	cr_assert_not_null(f, "open %s", path);
	cr_assert_not_null(fgets(hex, sizeof(hex), f), "read %s", path);
	fclose(f);
	n = strcspn(hex, "\n") / 2;
	for (i = 0; i < n; i++)
		cr_assert_eq(sscanf(hex + 2 * i, "%2hhx", &out[i]), 1, "%s: byte %zu", path, i);
	return n;
}

/* the name a NAME result points at, as a string */
static const char *name_of(const __u8 *buf, const struct tls_hello *h)
{
	static char s[TLS_HELLO_NAME_MAX + 1];

	memcpy(s, buf + h->name_off, h->name_len);
	s[h->name_len] = 0;
	return s;
}

/* parse len bytes from a copy of exactly that size (so a read past it is a fault under ASan) */
static int parse(const __u8 *buf, size_t len, struct tls_hello *h)
{
	__u8 *copy = malloc(len ? len : 1);
	int st;

	cr_assert_not_null(copy);
	memcpy(copy, buf, len);
	st = tls_sni_read(copy, len, h);
	free(copy);
	return st;
}

static void expect_name(const __u8 *buf, size_t len, const char *want)
{
	struct tls_hello h;
	int st = parse(buf, len, &h);

	cr_assert_eq(st, TLS_HELLO_NAME, "status %s, want name %s", tls_sni_status_name(st), want);
	cr_assert_str_eq(name_of(buf, &h), want);
}

static void expect_status(const __u8 *buf, size_t len, int want, const char *what)
{
	struct tls_hello h;
	int st = parse(buf, len, &h);

	cr_assert_eq(st, want, "%s: status %s, want %s", what, tls_sni_status_name(st),
		     tls_sni_status_name(want));
}

static const struct {
	const char *fixture;
	const char *name; /* NULL: none */
} real[] = {
	{ "openssl_api", "api.example.com" }, { "openssl_tls12", "www.example.org" },
	{ "openssl_big", "big.example.net" }, { "curl_api", "api.example.com" },
	{ "openssl_noname", NULL },
};

Test(tls_sni, real_hellos)
{
	static __u8 buf[BUF_MAX];
	struct tls_hello h;
	size_t i, n;

	for (i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
		n = fixture(real[i].fixture, buf);
		if (real[i].name) {
			expect_name(buf, n, real[i].name);
		} else {
			expect_status(buf, n, TLS_HELLO_NO_NAME, real[i].fixture);
		}
		cr_assert_eq(parse(buf, n, &h) == TLS_HELLO_NAME || !real[i].name, 1);
		cr_assert_eq(h.record_len, n, "%s: record_len %u", real[i].fixture, h.record_len);
		cr_assert_eq(h.ech, 0);
	}
}

/* the 8192-bit key share makes a hello bigger than a segment over a small MSS */
Test(tls_sni, big_hello_is_big)
{
	static __u8 buf[BUF_MAX];

	cr_assert_gt(fixture("openssl_big", buf), 1200);
}

/* every prefix of a real hello is short, and says the whole record is needed */
Test(tls_sni, every_prefix_is_short)
{
	static __u8 buf[BUF_MAX];
	struct tls_hello h;
	size_t i, n, len;

	for (i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
		n = fixture(real[i].fixture, buf);
		for (len = 0; len < n; len++) {
			int st = parse(buf, len, &h);

			cr_assert_eq(st, TLS_HELLO_SHORT, "%s, %zu bytes: %s", real[i].fixture, len,
				     tls_sni_status_name(st));
			cr_assert_eq(h.need, len < 5 ? 5 : n, "%s, %zu bytes: need %u",
				     real[i].fixture, len, h.need);
		}
	}
}

/* bytes after the first record (0-RTT data, the next record) are not read */
Test(tls_sni, bytes_after_the_record)
{
	static __u8 buf[BUF_MAX];
	size_t n = fixture("openssl_api", buf);

	memcpy(buf + n, "\x17\x03\x03\x00\x05hello", 10);
	expect_name(buf, n + 10, "api.example.com");
}

/* a hello the same real one split in two records (RFC 8446 5.1 allows it): denied */
Test(tls_sni, several_records)
{
	static __u8 buf[BUF_MAX], two[BUF_MAX];
	size_t n = fixture("openssl_api", buf), first = 100, rest = n - 5 - first;

	memcpy(two, buf, 5 + first);
	two[3] = first >> 8;
	two[4] = first & 0xff;
	memcpy(two + 5 + first, buf, 5);
	two[5 + first + 3] = rest >> 8;
	two[5 + first + 4] = rest & 0xff;
	memcpy(two + 10 + first, buf + 5 + first, rest);
	expect_status(two, n + 5, TLS_HELLO_SPLIT, "two records");
	/* known as soon as the handshake header is there */
	expect_status(two, 9, TLS_HELLO_SPLIT, "two records, 9 bytes");
}

/* --- crafted hellos --- */

struct ext {
	__u16 type;
	const void *data;
	size_t len;
};

static size_t put16(__u8 *p, size_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
	return 2;
}

/* a TLS 1.3 ClientHello with these extensions, in one record */
static size_t hello(__u8 *out, const struct ext *e, size_t n)
{
	size_t off = 9, ext_len = 0, i, hs;

	for (i = 0; i < n; i++)
		ext_len += 4 + e[i].len;
	out[0] = TLS_CONTENT_HANDSHAKE;
	out[1] = 3;
	out[2] = 1;
	out[5] = TLS_HS_CLIENT_HELLO;
	off += put16(out + off, 0x0303);
	memset(out + off, 0x5a, 32); /* random */
	off += 32;
	out[off++] = 0; /* session id */
	off += put16(out + off, 2);
	off += put16(out + off, 0x1301);
	out[off++] = 1; /* compression: null */
	out[off++] = 0;
	off += put16(out + off, ext_len);
	for (i = 0; i < n; i++) {
		off += put16(out + off, e[i].type);
		off += put16(out + off, e[i].len);
		memcpy(out + off, e[i].data, e[i].len);
		off += e[i].len;
	}
	hs = off - 9;
	out[6] = hs >> 16;
	out[7] = (hs >> 8) & 0xff;
	out[8] = hs & 0xff;
	put16(out + 3, off - 5);
	return off;
}

/* server_name's data for one host_name */
static size_t sni(__u8 *out, const char *name)
{
	size_t n = strlen(name);

	put16(out, n + 3);
	out[2] = TLS_SNI_HOST_NAME;
	put16(out + 3, n);
	memcpy(out + 5, name, n);
	return n + 5;
}

/* GREASE (RFC 8701): unknown extension types around the name, as Chrome sends them */
Test(tls_sni, grease)
{
	static __u8 buf[BUF_MAX];
	__u8 s[300];
	size_t sl = sni(s, "api.example.com");
	struct ext e[] = { { 0x0a0a, "", 0 },
			   { 0x000b, "\x01\x00", 2 },
			   { 0, s, sl },
			   { 0x3a3a, "\0", 1 },
			   { 0xfafa, "", 0 } };

	expect_name(buf, hello(buf, e, 5), "api.example.com");
}

/* encrypted client hello: the outer name is judged, and said to be the outer one */
Test(tls_sni, ech_outer_name)
{
	static __u8 buf[BUF_MAX];
	__u8 s[300], ech[64] = { 0 /* outer */ };
	size_t sl = sni(s, "public.example.com");
	struct ext e[] = { { 0, s, sl }, { TLS_EXT_ECH, ech, sizeof(ech) } };
	struct tls_hello h;

	cr_assert_eq(parse(buf, hello(buf, e, 2), &h), TLS_HELLO_NAME);
	cr_assert_str_eq(name_of(buf, &h), "public.example.com");
	cr_assert_eq(h.ech, 1);
}

/* a hello padded to 9000 bytes (bigger than several segments): read whole */
Test(tls_sni, padded_hello)
{
	static __u8 buf[BUF_MAX], pad[9000];
	__u8 s[300];
	size_t sl = sni(s, "pq.example.com");
	struct ext e[] = { { 0x0033, pad, sizeof(pad) }, { 0, s, sl } };
	size_t n = hello(buf, e, 2);
	struct tls_hello h;

	expect_name(buf, n, "pq.example.com");
	cr_assert_eq(parse(buf, n - 1, &h), TLS_HELLO_SHORT);
	cr_assert_eq(h.need, n);
}

Test(tls_sni, name_lengths)
{
	static __u8 buf[BUF_MAX];
	char name[TLS_HELLO_NAME_MAX + 2];
	__u8 s[300];
	struct ext e = { 0, s, 0 };
	size_t i;

	for (i = 0; i < TLS_HELLO_NAME_MAX + 1; i++)
		name[i] = i % 64 == 63 ? '.' : 'a';
	name[TLS_HELLO_NAME_MAX] = 0;
	e.len = sni(s, name);
	expect_name(buf, hello(buf, &e, 1), name);
	name[TLS_HELLO_NAME_MAX] = 'a';
	name[TLS_HELLO_NAME_MAX + 1] = 0;
	e.len = sni(s, name);
	expect_status(buf, hello(buf, &e, 1), TLS_HELLO_MALFORMED, "256 bytes");
	e.len = sni(s, "");
	expect_status(buf, hello(buf, &e, 1), TLS_HELLO_MALFORMED, "empty name");
}

Test(tls_sni, bad_names)
{
	static const char *const bad[] = { "a..b",
					   ".api.example.com",
					   "api.example.com.",
					   "api example.com",
					   "api/example.com",
					   "api.ex\xc3\xa4mple",
					   "." };
	static __u8 buf[BUF_MAX];
	__u8 s[300];
	struct ext e = { 0, s, 0 };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.len = sni(s, bad[i]);
		expect_status(buf, hello(buf, &e, 1), TLS_HELLO_MALFORMED, bad[i]);
	}
	/* a NUL inside: "api.example.com\0.evil.net" is not api.example.com */
	e.len = sni(s, "api.example.com#evil.net");
	s[5 + 15] = 0;
	expect_status(buf, hello(buf, &e, 1), TLS_HELLO_MALFORMED, "NUL in the name");
}

/* server_name's list: one host_name entry and nothing else */
Test(tls_sni, sni_list)
{
	static __u8 buf[BUF_MAX];
	__u8 s[300];
	struct ext e = { 0, s, 0 };
	size_t n;

	/* two host_names: which one a server uses is its own choice */
	n = sni(s, "api.example.com");
	s[n] = TLS_SNI_HOST_NAME;
	put16(s + n + 1, 8);
	memcpy(s + n + 3, "evil.net", 8);
	put16(s, n + 11 - 2);
	e.len = n + 11;
	expect_status(buf, hello(buf, &e, 1), TLS_HELLO_MALFORMED, "two names");
	/* another name type */
	e.len = sni(s, "api.example.com");
	s[2] = 1;
	expect_status(buf, hello(buf, &e, 1), TLS_HELLO_MALFORMED, "name type 1");
	/* list length longer, shorter than the extension */
	e.len = sni(s, "api.example.com");
	put16(s, e.len - 1);
	expect_status(buf, hello(buf, &e, 1), TLS_HELLO_MALFORMED, "list past the extension");
	put16(s, e.len - 3);
	expect_status(buf, hello(buf, &e, 1), TLS_HELLO_MALFORMED, "list short of it");
	/* name length past the list */
	e.len = sni(s, "api.example.com");
	put16(s + 3, 16);
	expect_status(buf, hello(buf, &e, 1), TLS_HELLO_MALFORMED, "name past the list");
	/* an empty extension (what a server sends back, not a client) */
	e.len = 0;
	expect_status(buf, hello(buf, &e, 1), TLS_HELLO_MALFORMED, "empty server_name");
}

Test(tls_sni, duplicate_server_name)
{
	static __u8 buf[BUF_MAX];
	__u8 a[300], b[300];
	size_t al = sni(a, "api.example.com"), bl = sni(b, "evil.net");
	struct ext e[] = { { 0, a, al }, { 0x000a, "\x00\x02\x00\x1d", 4 }, { 0, b, bl } };

	expect_status(buf, hello(buf, e, 3), TLS_HELLO_MALFORMED, "two server_name");
}

Test(tls_sni, extension_count)
{
	static __u8 buf[BUF_MAX];
	struct ext e[TLS_HELLO_EXT_MAX + 1];
	__u8 s[300];
	size_t i;

	for (i = 0; i < TLS_HELLO_EXT_MAX + 1; i++)
		e[i] = (struct ext){ 0x1000 + i, "", 0 };
	e[TLS_HELLO_EXT_MAX - 1] = (struct ext){ 0, s, sni(s, "last.example.com") };
	expect_name(buf, hello(buf, e, TLS_HELLO_EXT_MAX), "last.example.com");
	expect_status(buf, hello(buf, e, TLS_HELLO_EXT_MAX + 1), TLS_HELLO_MALFORMED,
		      "65 extensions");
}

Test(tls_sni, no_extensions)
{
	static __u8 buf[BUF_MAX];
	size_t n = hello(buf, NULL, 0) - 2; /* without the extensions' length either */

	buf[8] -= 2;
	put16(buf + 3, n - 5);
	expect_status(buf, n, TLS_HELLO_NO_NAME, "no extensions");
}

/* hostile lengths in the hello's fixed part and its vectors */
Test(tls_sni, hostile_lengths)
{
	static __u8 base[BUF_MAX], buf[BUF_MAX];
	__u8 s[300];
	struct ext e[] = { { 0, s, sni(s, "api.example.com") } };
	size_t n = hello(base, e, 1);
	const size_t sid = 9 + 34, ciphers = sid + 1, comp = ciphers + 4, exts = comp + 2;

#define MUTATE(what, ...)                                                                          \
	do {                                                                                       \
		memcpy(buf, base, n);                                                              \
		__VA_ARGS__;                                                                       \
		expect_status(buf, n, TLS_HELLO_MALFORMED, what);                                  \
	} while (0)
	MUTATE("session id 33", buf[sid] = 33);
	MUTATE("session id past the record", buf[sid] = 32; buf[ciphers] = 0xff);
	MUTATE("odd cipher suites", put16(buf + ciphers, 3));
	MUTATE("no cipher suites", put16(buf + ciphers, 0));
	MUTATE("cipher suites past the record", put16(buf + ciphers, 0xfffe));
	MUTATE("no compression", buf[comp] = 0);
	MUTATE("extensions short of the record", put16(buf + exts, n - exts - 3));
	MUTATE("extensions past the record", put16(buf + exts, n - exts - 1));
	MUTATE("an extension past the others", put16(buf + exts + 4, 0xffff));
	MUTATE("legacy version 2.x", buf[9] = 2);
#undef MUTATE
	/* a record longer than TLS allows */
	memcpy(buf, base, n);
	put16(buf + 3, 16385);
	expect_status(buf, n, TLS_HELLO_MALFORMED, "record of 16385");
	/* a handshake message after the hello, in its record */
	memcpy(buf, base, n);
	buf[n] = 0;
	put16(buf + 3, n - 5 + 1);
	expect_status(buf, n + 1, TLS_HELLO_MALFORMED, "a byte after the hello");
}

Test(tls_sni, not_a_hello)
{
	static __u8 base[BUF_MAX], buf[BUF_MAX];
	__u8 s[300];
	struct ext e[] = { { 0, s, sni(s, "api.example.com") } };
	size_t n = hello(base, e, 1);

	expect_status((const __u8 *)"GET / HTTP/1.1\r\n", 16, TLS_HELLO_NOT_HELLO, "HTTP");
	expect_status((const __u8 *)"\x80\x2e\x01\x03\x01", 5, TLS_HELLO_NOT_HELLO, "SSLv2");
	expect_status((const __u8 *)"\x17", 1, TLS_HELLO_NOT_HELLO, "application data");
	memcpy(buf, base, n);
	buf[5] = 2; /* ServerHello */
	expect_status(buf, n, TLS_HELLO_NOT_HELLO, "server hello");
	expect_status(buf, 6, TLS_HELLO_NOT_HELLO, "server hello, 6 bytes");
	memcpy(buf, base, n);
	buf[1] = 4;
	expect_status(buf, n, TLS_HELLO_NOT_HELLO, "record version 4.x");
	expect_status((const __u8 *)"\x16\x03", 2, TLS_HELLO_SHORT, "two bytes");
}

/* pkt_build's hello (profile tests, explain): the parser finds its name, or none; each prefix is short */
Test(tls_sni, built_hello)
{
	static const char *const names[] = { "api.example.com", "x", "under_score-1.example" };
	__u8 buf[600];
	struct tls_hello h;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct pkt_buf p = PKT_BUF(buf);

		cr_assert_eq(pkt_tls_hello(&p, names[i]), 0);
		cr_assert_eq(parse(buf, p.len, &h), TLS_HELLO_NAME, "%s", names[i]);
		cr_expect_str_eq(name_of(buf, &h), names[i]);
		cr_expect_eq(h.record_len, p.len, "%s: the record is the whole payload", names[i]);
		for (size_t n = 0; n < p.len; n++)
			cr_assert_eq(parse(buf, n, &h), TLS_HELLO_SHORT, "%s: %zu bytes", names[i],
				     n);
	}
	{
		struct pkt_buf p = PKT_BUF(buf);
		char big[257];

		cr_assert_eq(pkt_tls_hello(&p, NULL), 0);
		cr_expect_eq(parse(buf, p.len, &h), TLS_HELLO_NO_NAME);
		memset(big, 'a', 256);
		big[256] = 0;
		pkt_reset(&p);
		cr_expect_eq(pkt_tls_hello(&p, big), -EINVAL, "a name over 255 bytes");
		big[255] = 0;
		pkt_reset(&p);
		cr_assert_eq(pkt_tls_hello(&p, big), 0);
		cr_expect_eq(parse(buf, p.len, &h), TLS_HELLO_NAME, "255 bytes: the longest name");
	}
}
