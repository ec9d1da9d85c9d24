/*
 * fuzz_dns_names.c: libFuzzer harness for the DNS-name code. The input is taken three ways:
 * as a name a rule gives (dns_rule_name_problem; a name that passes must become a map key that
 * fits and reads back as itself), as a key read back from the learning map (learn_key_host
 * into a buffer of the size the first byte says; a name read back must key as the same bytes),
 * and as text for a terminal (text_plain: no control byte or invalid UTF-8 comes out raw). Its
 * first word is also tried as a query type.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dns_names.h"
#include "learn_rules.h"
#include "text.h"

/* a name's key, its wildcard key, and each read back */
static void name_side(const char *s)
{
	struct dns_name_rule r = { .name = (char *)s };
	__u8 key[DNS_NAME_KEY_BYTES];
	char back[DNS_NAME_KEY_BYTES + 2];
	int len;

	if (dns_rule_name_problem(s) || !*s)
		return;
	len = dns_name_key_bytes(&r, key, sizeof(key));
	if (len < 2 || len > (int)sizeof(key) || (size_t)len != strlen(s) + 2 || key[len - 1])
		abort();
	if (learn_key_host(key, len, back, sizeof(back)) || strcmp(back, s))
		abort();
	r.wildcard = true;
	if (dns_name_key_bytes(&r, key, sizeof(key)) != len - 1)
		abort();
	/* the wildcard's key (no root label) reads back as "*.NAME", and keys as itself */
	if (learn_key_host(key, len - 1, back, sizeof(back)) || strncmp(back, "*.", 2) ||
	    strcmp(back + 2, s) || learn_host_key(back, key, sizeof(key)) != len - 1)
		abort();
	/* the same key when the caller's buffer is one byte short: refused, nothing written past */
	r.wildcard = false;
	if (dns_name_key_bytes(&r, key, len - 1) != -ENAMETOOLONG)
		abort();
}

/* bytes as a learned key; a buffer of exactly max bytes so ASan sees any write past it */
static void key_side(const uint8_t *data, size_t size)
{
	size_t max = size ? data[0] : 0;
	const uint8_t *k = size ? data + 1 : data;
	size_t klen = size ? size - 1 : 0;
	char *out = malloc(max ? max : 1);
	__u8 again[DNS_NAME_KEY_BYTES];
	int len;

	if (!out)
		return;
	if (!learn_key_host(k, klen, out, max)) {
		if (!memchr(out, '\0', max))
			abort();
		/* a name as rules give it keys back as the bytes read, up to the root's 0 */
		if (!dns_rule_name_problem(out)) {
			len = learn_host_key(out, again, sizeof(again));
			if (len < 0 || (size_t)len > klen || memcmp(again, k, len))
				abort();
		}
	}
	free(out);
}

static void text_side(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return;
	text_plain(f, s);
	fclose(f);
	for (size_t i = 0; i < len;) {
		const unsigned char *c = (const unsigned char *)buf + i;
		size_t n = utf8_seq_len(c);

		if (n == 0 || (n == 1 && (*c < 0x20 || *c == 0x7f)) ||
		    (n == 2 && c[0] == 0xc2 && c[1] < 0xa0))
			abort();
		i += n;
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), word[32];
	char tbuf[16];
	int t;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	name_side(s);
	text_side(s);
	key_side(data, size);
	if (sscanf(s, "%31s", word) == 1 && (t = dns_qtype_parse(word)) >= 0) {
		const char *txt = dns_qtype_text(t, tbuf, sizeof(tbuf));

		if (t < 1 || t > 65535 || dns_qtype_parse(txt) != t)
			abort();
	}
	free(s);
	return 0;
}
