/* addr.c: addresses, prefixes and ports as users write them, converted to network order. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!*s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || *out > max)
		return -ERANGE;
	return 0;
}

int addr_parse(const char *s, struct addr *a)
{
	char buf[ADDR_STR_LEN];
	const char *slash = strchr(s, '/');
	unsigned long plen;
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	int max, err;

	memset(a, 0, sizeof(*a));
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, a->bytes) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, a->bytes) == 1)
		a->family = AF_INET6;
	else
		return -EINVAL;
	max = a->family == AF_INET ? 32 : 128;
	a->plen = max;
	if (!slash)
		return 0;
	err = parse_uint(slash + 1, 255, &plen);
	if (err)
		return err == -ERANGE ? -ERANGE : -EINVAL;
	if ((int)plen > max)
		return -ERANGE;
	a->plen = plen;
	for (int bit = plen; bit < max; bit++)
		if (a->bytes[bit / 8] & (0x80 >> (bit % 8)))
			return -EDOM;
	return 0;
}

bool addr_is_single(const struct addr *a)
{
	return a->plen == (a->family == AF_INET ? 32 : 128);
}

const char *addr_format(const struct addr *a, char *buf, size_t len)
{
	char txt[INET6_ADDRSTRLEN];

	if (!inet_ntop(a->family, a->bytes, txt, sizeof(txt)))
		snprintf(txt, sizeof(txt), "?");
	if (addr_is_single(a))
		snprintf(buf, len, "%s", txt);
	else
		snprintf(buf, len, "%s/%u", txt, a->plen);
	return buf;
}

__u32 addr_v4_raw(const struct addr *a)
{
	__u32 v;

	memcpy(&v, a->bytes, 4);
	return v;
}

bool addr_equal(const struct addr *a, const struct addr *b)
{
	return a->family == b->family && a->plen == b->plen &&
	       !memcmp(a->bytes, b->bytes, sizeof(a->bytes));
}

bool addr_is_mapped4(const struct addr *a, struct addr *v4)
{
	static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (a->family != AF_INET6 || a->plen < 96 || memcmp(a->bytes, mapped, sizeof(mapped)))
		return false;
	if (v4) {
		memset(v4, 0, sizeof(*v4));
		v4->family = AF_INET;
		v4->plen = a->plen - 96;
		memcpy(v4->bytes, a->bytes + 12, 4);
	}
	return true;
}

bool addr_is_loopback(const struct addr *a)
{
	static const __u8 one[16] = { [15] = 1 };

	if (a->family == AF_INET)
		return a->plen >= 8 && a->bytes[0] == 127;
	return a->plen == 128 && !memcmp(a->bytes, one, sizeof(one));
}

bool addr_is_unspecified(const struct addr *a)
{
	static const __u8 zero[16];

	return addr_is_single(a) && !memcmp(a->bytes, zero, sizeof(zero));
}

int port_range_parse(const char *s, __u16 *lo, __u16 *hi)
{
	char buf[16];
	const char *dash = strchr(s, '-');
	unsigned long a, b;
	int err;

	if (!dash) {
		err = parse_uint(s, 65535, &a);
		if (err)
			return err;
		b = a;
	} else {
		if ((size_t)(dash - s) >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, s, dash - s);
		buf[dash - s] = '\0';
		err = parse_uint(buf, 65535, &a);
		if (!err)
			err = parse_uint(dash + 1, 65535, &b);
		if (err)
			return err;
	}
	if (a == 0 || b == 0)
		return -ERANGE;
	if (b < a)
		return -EDOM;
	*lo = a;
	*hi = b;
	return 0;
}
