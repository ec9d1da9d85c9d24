/* tls_sni.h: the server name of a TLS ClientHello in a buffer (include/tls_hello.h's parser, as the https stage runs it). */
#ifndef IRONCLAW_TLS_SNI_H
#define IRONCLAW_TLS_SNI_H

#include <stddef.h>
#include "tls_hello.h"

/*
 * The first len bytes of a TCP stream: what the https stage would find in
 * them (enum tls_hello_status), with *h filled as tls_hello_parse fills it.
 */
int tls_sni_read(const void *buf, size_t len, struct tls_hello *h);

/* the status's name as logs and tests show it ("name", "no-name", "short", ...) */
const char *tls_sni_status_name(int status);

#endif
