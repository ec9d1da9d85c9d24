/*
 * fuzz_tls_sni.c: libFuzzer harness for the ClientHello parser (include/tls_hello.h, as
 * loader/tls_sni.c runs it over a buffer). The input is a TCP stream's first bytes, in a buffer
 * of exactly its size (a read past it is a sanitizer report). What the parser says must hold:
 * a name lies inside the first record and holds only host-name bytes; a short stream needs more
 * than it has; and the verdict on the record alone is the verdict on the whole input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tls_sni.h"

static int name_byte(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_hello h, again;
	uint8_t *copy = malloc(size ? size : 1);
	int st, st2;
	size_t i;

	if (!copy)
		abort();
	memcpy(copy, data, size);
	st = tls_sni_read(copy, size, &h);
	if (st < 0 || st >= TLS_HELLO_STATUS_MAX)
		abort();
	if (st == TLS_HELLO_SHORT && (h.need <= size || h.need > TLS_RECORD_MAX))
		abort();
	if (st == TLS_HELLO_NAME || st == TLS_HELLO_NO_NAME) {
		if (h.record_len > size || h.record_len > TLS_RECORD_MAX)
			abort();
		/* bytes past the first record change nothing: judge the record alone */
		st2 = tls_sni_read(copy, h.record_len, &again);
		if (st2 != st || memcmp(&again, &h, sizeof(h)))
			abort();
	}
	if (st == TLS_HELLO_NAME) {
		if (!h.name_len || h.name_len > TLS_HELLO_NAME_MAX ||
		    (size_t)h.name_off + h.name_len > h.record_len)
			abort();
		for (i = 0; i < h.name_len; i++)
			if (!name_byte(copy[h.name_off + i]))
				abort();
		if (copy[h.name_off] == '.' || copy[h.name_off + h.name_len - 1] == '.')
			abort();
	}
	free(copy);
	return 0;
}
