/* tls_hello.h: the server name of a TLS ClientHello, read by BPF (the https stage) and by the loader (tests, tools). */
#ifndef IRONCLAW_TLS_HELLO_H
#define IRONCLAW_TLS_HELLO_H

/*
 * One parser for both sides. The includer says how bytes are read before
 * the #include:
 *   TLS_HELLO_SRC                         the type of what is read (a buffer, an skb)
 *   tls_hello_load(src, off, dst, len)    copy len (1, 2 or 3) bytes at stream
 *                                         offset off into dst: 0, or -1
 * and gets tls_hello_parse(src, avail, &hello): avail is how many bytes of
 * the stream (from its first byte) src holds; the parser never asks for
 * one past avail. Loops are bounded (TLS_HELLO_EXT_MAX, TLS_HELLO_NAME_MAX)
 * for the verifier.
 *
 * What is judged is the first TLS record, whole: a handshake record (22)
 * holding one ClientHello (1) and nothing else. Bytes after it (0-RTT data,
 * later records) are not read.
 */

#include <linux/types.h>

/* extensions read in one hello; Chrome sends about 18 with GREASE */
#define TLS_HELLO_EXT_MAX 64
/* a host_name's bytes (RFC 6066: a DNS name, no trailing dot) */
#define TLS_HELLO_NAME_MAX 255
/* the largest TLS record (2^14 bytes of plaintext) with its 5-byte header */
#define TLS_RECORD_MAX (5 + 16384)

#define TLS_CONTENT_HANDSHAKE 22
#define TLS_HS_CLIENT_HELLO 1
#define TLS_EXT_SERVER_NAME 0
#define TLS_EXT_ECH 0xfe0d /* encrypted_client_hello (draft-ietf-tls-esni) */
#define TLS_SNI_HOST_NAME 0

enum tls_hello_status {
	TLS_HELLO_NAME = 0, /* a well-formed hello with one host_name: name_off, name_len */
	TLS_HELLO_NO_NAME, /* a well-formed hello without server_name */
	TLS_HELLO_SHORT, /* the first record is not all there yet: 'need' bytes are */
	TLS_HELLO_NOT_HELLO, /* the stream does not begin with a ClientHello record */
	TLS_HELLO_SPLIT, /* the hello goes on in another record: denied, not reassembled */
	TLS_HELLO_MALFORMED, /* lengths that do not add up, a bad name, duplicates, too many */
	TLS_HELLO_STATUS_MAX,
};

struct tls_hello {
	__u32 need; /* TLS_HELLO_SHORT: bytes of the stream the parse needs */
	__u32 record_len; /* the first record's bytes, header included (0: not known yet) */
	__u16 name_off; /* TLS_HELLO_NAME: where the name begins in the stream */
	__u16 name_len; /* 1..TLS_HELLO_NAME_MAX */
	__u8 ech; /* an encrypted_client_hello extension: the name is the outer one */
	__u8 pad[3];
};

#endif /* IRONCLAW_TLS_HELLO_H */

/* the parser, once per translation unit: the first #include with TLS_HELLO_SRC defined */
#if defined(TLS_HELLO_SRC) && !defined(IRONCLAW_TLS_HELLO_PARSER)
#define IRONCLAW_TLS_HELLO_PARSER

#ifndef tls_hello_inline
#define tls_hello_inline static inline __attribute__((always_inline))
#endif

/* a big-endian number of len (1..3) bytes at off; the caller checked off + len <= avail */
tls_hello_inline int tls_hello_be(TLS_HELLO_SRC src, __u32 off, __u32 len, __u32 *v)
{
	__u8 b[3]; /* written by the load: no initial store the verifier reads back in part */

	if (len == 1) {
		if (tls_hello_load(src, off, b, 1))
			return -1;
		*v = b[0];
	} else if (len == 2) {
		if (tls_hello_load(src, off, b, 2))
			return -1;
		*v = (__u32)b[0] << 8 | b[1];
	} else {
		if (tls_hello_load(src, off, b, 3))
			return -1;
		*v = (__u32)b[0] << 16 | (__u32)b[1] << 8 | b[2];
	}
	return 0;
}

/* a byte a host name may hold: letters, digits, '-', '_' (SRV-style labels), '.' */
tls_hello_inline int tls_hello_name_byte(__u8 c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

/*
 * What the bounded loops carry from step to step: a step is a function of
 * its own (bpf_loop's callback in BPF, TLS_HELLO_LOOP), so the verifier
 * walks one step, not every path through 64 extensions.
 */
struct tls_hello_walk {
	TLS_HELLO_SRC src;
	__u32 off; /* the next extension, or name byte */
	__u32 end; /* where the extensions, or the name, end */
	__u32 sni_off, sni_len, seen_sni, ech;
	__u32 prev; /* the name byte before (a '.' at first) */
	__u32 bad; /* TLS_HELLO_MALFORMED found */
};

/* the includer's bounded loop: fn(i, ctx) for i < n until it returns 1 (BPF: bpf_loop) */
#ifndef TLS_HELLO_LOOP
#define TLS_HELLO_LOOP(n, fn, ctx)                                                                 \
	do {                                                                                       \
		for (__u32 __i = 0; __i < (n); __i++)                                              \
			if (fn(__i, ctx))                                                          \
				break;                                                             \
	} while (0)
#endif

/* one extension: its header within the extensions; server_name's place; ECH seen */
static int tls_hello_ext_step(__u32 i, void *data)
{
	struct tls_hello_walk *w = data;
	__u32 off = w->off, type, len;

	(void)i;
	if (off >= w->end)
		return 1;
	if (off + 4 > w->end || tls_hello_be(w->src, off, 2, &type) ||
	    tls_hello_be(w->src, off + 2, 2, &len) || off + 4 + len > w->end) {
		w->bad = 1;
		return 1;
	}
	if (type == TLS_EXT_SERVER_NAME) {
		if (w->seen_sni) {
			w->bad = 1; /* RFC 8446 4.2: no duplicates */
			return 1;
		}
		w->seen_sni = 1;
		w->sni_off = off + 4;
		w->sni_len = len;
	} else if (type == TLS_EXT_ECH) {
		w->ech = 1;
	}
	w->off = off + 4 + len;
	return 0;
}

/* one byte of the host name: a host-name byte, no empty label */
static int tls_hello_name_step(__u32 i, void *data)
{
	struct tls_hello_walk *w = data;
	__u8 c;

	(void)i;
	if (w->off >= w->end)
		return 1;
	if (tls_hello_load(w->src, w->off, &c, 1) || !tls_hello_name_byte(c) ||
	    (c == '.' && w->prev == '.')) {
		w->bad = 1;
		return 1;
	}
	w->prev = c;
	w->off++;
	return 0;
}

/*
 * server_name's data (w->sni_off, w->sni_len bytes, within the record): a
 * list that holds exactly one entry, a host_name of 1..255 name bytes with
 * no empty label, no leading or trailing dot. A list with more entries is
 * refused: which one a server would use is its own choice.
 */
tls_hello_inline int tls_hello_sni(struct tls_hello_walk *w, struct tls_hello *h)
{
	__u32 off = w->sni_off, len = w->sni_len, list, type, nlen;

	if (len < 5 || tls_hello_be(w->src, off, 2, &list) || list != len - 2 ||
	    tls_hello_be(w->src, off + 2, 1, &type) || type != TLS_SNI_HOST_NAME ||
	    tls_hello_be(w->src, off + 3, 2, &nlen) || nlen != len - 5 || nlen == 0 ||
	    nlen > TLS_HELLO_NAME_MAX)
		return TLS_HELLO_MALFORMED;
	w->off = off + 5;
	w->end = off + 5 + nlen;
	w->prev = '.';
	w->bad = 0;
	TLS_HELLO_LOOP(TLS_HELLO_NAME_MAX, tls_hello_name_step, w);
	if (w->bad || w->off != w->end || w->prev == '.')
		return TLS_HELLO_MALFORMED;
	h->name_off = (__u16)(off + 5);
	h->name_len = (__u16)nlen;
	return TLS_HELLO_NAME;
}

/*
 * The first record's ClientHello: its server name, or why there is none.
 * Everything past the record header is checked against the record's length,
 * and every vector against what holds it, before the name is believed.
 */
tls_hello_inline int tls_hello_parse(TLS_HELLO_SRC src, __u32 avail, struct tls_hello *h)
{
	struct tls_hello_walk w = { .src = src };
	__u32 v, rec_end, hs_len, off, len;

	*h = (struct tls_hello){ 0 };
	/* record header: type, legacy version 3.x, length */
	if (avail < 1)
		goto short_header;
	if (tls_hello_be(src, 0, 1, &v) || v != TLS_CONTENT_HANDSHAKE)
		return TLS_HELLO_NOT_HELLO;
	if (avail < 2)
		goto short_header;
	if (tls_hello_be(src, 1, 1, &v) || v != 3)
		return TLS_HELLO_NOT_HELLO;
	if (avail < 5)
		goto short_header;
	if (tls_hello_be(src, 3, 2, &v))
		return TLS_HELLO_MALFORMED;
	if (v < 4 || v > TLS_RECORD_MAX - 5)
		return TLS_HELLO_MALFORMED;
	rec_end = 5 + v;
	h->record_len = rec_end;
	/* the handshake header says what follows before the record is all there */
	if (avail >= 6 && (tls_hello_be(src, 5, 1, &v) || v != TLS_HS_CLIENT_HELLO))
		return TLS_HELLO_NOT_HELLO;
	if (avail >= 9) {
		if (tls_hello_be(src, 6, 3, &hs_len))
			return TLS_HELLO_MALFORMED;
		if (9 + hs_len > rec_end)
			return TLS_HELLO_SPLIT; /* the hello goes on in the next record */
		if (9 + hs_len < rec_end)
			return TLS_HELLO_MALFORMED; /* something after the hello in its record */
	}
	if (avail < rec_end) {
		h->need = rec_end;
		return TLS_HELLO_SHORT;
	}
	/* legacy_version 3.x, random[32] */
	off = 9;
	if (off + 34 > rec_end || tls_hello_be(src, off, 1, &v) || v != 3)
		return TLS_HELLO_MALFORMED;
	off += 34;
	/* legacy_session_id<0..32> */
	if (off + 1 > rec_end || tls_hello_be(src, off, 1, &len) || len > 32)
		return TLS_HELLO_MALFORMED;
	off += 1 + len;
	/* cipher_suites<2..2^16-2>, two bytes each */
	if (off + 2 > rec_end || tls_hello_be(src, off, 2, &len) || len < 2 || (len & 1))
		return TLS_HELLO_MALFORMED;
	off += 2 + len;
	/* legacy_compression_methods<1..2^8-1> */
	if (off + 1 > rec_end || tls_hello_be(src, off, 1, &len) || len < 1)
		return TLS_HELLO_MALFORMED;
	off += 1 + len;
	if (off > rec_end)
		return TLS_HELLO_MALFORMED;
	if (off == rec_end)
		return TLS_HELLO_NO_NAME; /* no extensions at all (SSL 3.0 style) */
	/* extensions<8..2^16-1>, ending where the record ends */
	if (off + 2 > rec_end || tls_hello_be(src, off, 2, &len) || off + 2 + len != rec_end)
		return TLS_HELLO_MALFORMED;
	w.off = off + 2;
	w.end = rec_end;
	TLS_HELLO_LOOP(TLS_HELLO_EXT_MAX, tls_hello_ext_step, &w);
	if (w.bad || w.off < w.end)
		return TLS_HELLO_MALFORMED; /* or more than TLS_HELLO_EXT_MAX extensions */
	h->ech = w.ech;
	if (!w.seen_sni)
		return TLS_HELLO_NO_NAME;
	return tls_hello_sni(&w, h);

short_header:
	h->need = 5; /* the record header says how long the record is */
	return TLS_HELLO_SHORT;
}

#endif /* TLS_HELLO_SRC */
