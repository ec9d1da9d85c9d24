/* addr.h: addresses, prefixes and ports as users write them, converted to network order. */
#ifndef IRONCLAW_ADDR_H
#define IRONCLAW_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct addr {
	__u8 family; /* AF_INET or AF_INET6 */
	__u8 plen; /* prefix length; 32 or 128 for a single address */
	__u8 bytes[16]; /* network order; IPv4 in the first 4 bytes, rest zero */
};

#define ADDR_STR_LEN 64 /* room for an IPv6 address and "/128" */

/*
 * "10.42.7.11", "2001:db8::1", "203.0.113.0/24". Returns 0, -EINVAL for
 * text that is no address, -ERANGE for a prefix length too long for the
 * family, -EDOM when bits are set beyond the prefix length.
 */
int addr_parse(const char *s, struct addr *a);
/* the address as text, with "/len" unless it is a single address */
const char *addr_format(const struct addr *a, char *buf, size_t len);
bool addr_is_single(const struct addr *a);
/* why a source of the sandbox (--source, an install's sources) must be one address */
#define ADDR_SOURCE_NOT_SINGLE                                                                     \
	"a source is one address of the sandbox's own; a prefix would let it pose as its "         \
	"neighbours"
/* an IPv4 address as the __be32 a BPF program compares, read as a host integer */
__u32 addr_v4_raw(const struct addr *a);
/* "8080" or "8000-8100": 0, -EINVAL (not a number), -ERANGE (0 or > 65535), -EDOM (reversed) */
int port_range_parse(const char *s, __u16 *lo, __u16 *hi);
bool addr_equal(const struct addr *a, const struct addr *b);
/* a lies inside ::ffff:0:0/96 (IPv4-mapped IPv6); v4, when given, gets the IPv4 form */
bool addr_is_mapped4(const struct addr *a, struct addr *v4);
/* a lies inside 127.0.0.0/8, or is ::1 */
bool addr_is_loopback(const struct addr *a);
/* a is 0.0.0.0 or :: (one address, not the prefix /0) */
bool addr_is_unspecified(const struct addr *a);

#endif
