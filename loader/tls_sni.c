/* tls_sni.c: the ClientHello parser of include/tls_hello.h over a buffer in memory. */
#include <string.h>
#include <linux/types.h>

struct tls_bytes {
	const __u8 *p;
	__u32 len;
};

#define TLS_HELLO_SRC const struct tls_bytes *

static inline int tls_hello_load(const struct tls_bytes *b, __u32 off, void *dst, __u32 len)
{
	if (off > b->len || len > b->len - off)
		return -1;
	memcpy(dst, b->p + off, len);
	return 0;
}

#include "tls_sni.h"

int tls_sni_read(const void *buf, size_t len, struct tls_hello *h)
{
	struct tls_bytes b = { .p = buf, .len = len > TLS_RECORD_MAX ? TLS_RECORD_MAX : len };

	return tls_hello_parse(&b, b.len, h);
}

const char *tls_sni_status_name(int status)
{
	static const char *const names[TLS_HELLO_STATUS_MAX] = {
		[TLS_HELLO_NAME] = "name",   [TLS_HELLO_NO_NAME] = "no-name",
		[TLS_HELLO_SHORT] = "short", [TLS_HELLO_NOT_HELLO] = "not-hello",
		[TLS_HELLO_SPLIT] = "split", [TLS_HELLO_MALFORMED] = "malformed",
	};

	if (status < 0 || status >= TLS_HELLO_STATUS_MAX)
		return "unknown";
	return names[status];
}
