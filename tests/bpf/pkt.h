/* pkt.h: test frames from the packet builder (loader/pkt_build.h): buffers of their own, addresses as text. */
#ifndef IRONCLAW_TEST_PKT_H
#define IRONCLAW_TEST_PKT_H

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include "pkt_build.h"

#define PKT_TEST_MAX 4096 /* an answer longer than the learning program's 2048 bytes */
#define TEST_SPORT 50000 /* the source port of the tests' frames */

/* a builder named var over a buffer of PKT_TEST_MAX bytes (var_buf) */
#define FRAME(var)                                                                                 \
	__u8 var##_buf[PKT_TEST_MAX];                                                              \
	struct pkt_buf var = PKT_BUF(var##_buf)

/* the bytes of an IPv4 or IPv6 address written as text, for the builder's headers */
#define ADDR(text) test_addr((text), (__u8[16]){ 0 })

static inline const __u8 *test_addr(const char *text, __u8 *out)
{
	cr_assert_eq(inet_pton(strchr(text, ':') ? AF_INET6 : AF_INET, text, out), 1,
		     "'%s' is no address", text);
	return out;
}

#endif
