// SPDX-License-Identifier: GPL-2.0
/*
 * rawframe_tcp.c: rawframe's TCP flow mode. A handshake over AF_PACKET (the
 * SYN may carry data: TCP Fast Open), then hand-chosen segments of a
 * ClientHello, resent, overlapping or with another server name at the same
 * sequence numbers, and what the server acknowledged: the crafted cases a
 * real client's TCP never sends (docs/sni.md).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "pkt_build.h"
#include "rawframe.h"

#define ISN 0x1c0ffeeu
#define WINDOW 64240
#define SYNACK_WAIT_MS 500 /* a SYN with data denied gets no answer */
#define ACK_WAIT_MS 500 /* a segment denied is never acknowledged */

static void put16(uint8_t *p, size_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/*
 * A TLS 1.3 ClientHello in one record naming name, padded (extension 21) to
 * bytes; the name begins at byte 61. 0 or -EINVAL when it does not fit.
 */
static int build_hello(const char *name, long bytes, uint8_t *out)
{
	size_t n = strlen(name), off = 9;
	long pad = bytes - 65 - (long)n;

	if (n == 0 || n > 255 || pad < 0) {
		fprintf(stderr, "rawframe: a hello naming '%s' does not fit in %ld bytes\n", name,
			bytes);
		return -EINVAL;
	}
	memset(out, 0, bytes);
	out[0] = 22; /* handshake */
	put16(out + 1, 0x0301);
	put16(out + 3, bytes - 5);
	out[5] = 1; /* client_hello */
	out[6] = 0;
	put16(out + 7, bytes - 9);
	put16(out + off, 0x0303);
	off += 2;
	memset(out + off, 0x5a, 32); /* random */
	off += 32;
	out[off++] = 0; /* session id */
	put16(out + off, 2);
	put16(out + off + 2, 0x1301); /* TLS_AES_128_GCM_SHA256 */
	off += 4;
	out[off++] = 1; /* compression: null */
	out[off++] = 0;
	put16(out + off, bytes - off - 2); /* the extensions */
	off += 2;
	put16(out + off, 0); /* server_name */
	put16(out + off + 2, n + 5);
	put16(out + off + 4, n + 3);
	out[off + 6] = 0; /* host_name */
	put16(out + off + 7, n);
	memcpy(out + off + 9, name, n);
	off += 9 + n;
	put16(out + off, 21); /* padding: zeros */
	put16(out + off + 2, pad);
	return 0;
}

/* one segment of the flow: 0 sent, 1 dropped on this side's egress (ENOBUFS), or -errno */
static int send_seg(int fd, const struct sockaddr_ll *sll, const struct cfg *c, uint16_t id,
		    uint32_t seq, uint32_t ack, uint8_t flags, const uint8_t *data, size_t len)
{
	uint8_t frame[FRAME_MAX];
	struct pkt_buf p = { .b = frame, .size = sizeof(frame) };
	int err;

	pkt_eth(&p, c->dst_mac, c->src_mac, ETH_P_IP);
	pkt_ipv4(&p, &(struct pkt_ip4){ .src = c->src,
					.dst = c->dst,
					.proto = IPPROTO_TCP,
					.id = id,
					.frag_off = IP_DF });
	pkt_tcp(&p, &(struct pkt_tcp){ .sport = c->sport,
				       .dport = c->dport,
				       .seq = seq,
				       .ack = ack,
				       .flags = flags,
				       .window = WINDOW });
	if (len)
		pkt_bytes(&p, data, len);
	err = pkt_finish(&p);
	if (err) {
		fprintf(stderr, "rawframe: building a segment: %s\n", strerror(-err));
		return err;
	}
	if (sendto(fd, frame, p.len, 0, (const struct sockaddr *)sll, sizeof(*sll)) < 0) {
		if (errno == ENOBUFS)
			return 1; /* a drop by a filter on this side's egress (tc) */
		err = -errno;
		fprintf(stderr, "rawframe: sendto on %s: %s\n", c->ifname, strerror(errno));
		return err;
	}
	return 0;
}

/* an AF_PACKET socket receiving the IPv4 packets that arrive on c->ifname; fd or -errno */
static int open_rx(const struct cfg *c, int ifindex)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_IP),
				   .sll_ifindex = ifindex };
	struct timeval tmo = { .tv_usec = 20000 };
	int fd, one = 1, ret;

	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one))) {
		ret = -errno;
		fprintf(stderr, "rawframe: receiving on %s: %s\n", c->ifname, strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	return fd;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct reply {
	uint32_t seq, ack;
	uint8_t flags;
};

/* the server's next segment of this flow before deadline (ms): 1, or 0 when none came */
static int next_reply(int fd, const struct cfg *c, long deadline, struct reply *r)
{
	uint8_t pkt[FRAME_MAX];

	while (now_ms() < deadline) {
		ssize_t n = recv(fd, pkt, sizeof(pkt), 0);
		const uint8_t *t;
		size_t ihl;

		if (n < 20 || (pkt[0] >> 4) != 4 || pkt[9] != IPPROTO_TCP)
			continue; /* the timeout, or not ours */
		ihl = (pkt[0] & 0xf) * 4;
		if ((size_t)n < ihl + 20 || memcmp(pkt + 12, c->dst, 4) ||
		    memcmp(pkt + 16, c->src, 4))
			continue;
		t = pkt + ihl;
		if ((t[0] << 8 | t[1]) != c->dport || (t[2] << 8 | t[3]) != c->sport)
			continue;
		r->seq = (uint32_t)t[4] << 24 | t[5] << 16 | t[6] << 8 | t[7];
		r->ack = (uint32_t)t[8] << 24 | t[9] << 16 | t[10] << 8 | t[11];
		r->flags = t[13];
		return 1;
	}
	return 0;
}

int tcp_flow(struct cfg *c)
{
	static uint8_t hello[HELLO_MAX], other[HELLO_MAX];
	struct sockaddr_ll sll;
	struct reply r;
	uint32_t syn_acked, acked, end = c->syn_data, sisn;
	int tx, rx = -1, ret, dropped = 0;
	long deadline;

	ret = build_hello(c->hello, c->hello_bytes, hello);
	if (ret)
		return ret;
	tx = open_tx(c, &sll);
	if (tx < 0)
		return tx;
	sll.sll_protocol = htons(ETH_P_IP);
	rx = open_rx(c, sll.sll_ifindex);
	if (rx < 0) {
		ret = rx;
		goto out;
	}
	ret = send_seg(tx, &sll, c, 0, ISN, 0, TH_SYN, hello, c->syn_data);
	if (ret < 0)
		goto out;
	deadline = now_ms() + SYNACK_WAIT_MS;
	do {
		if (!next_reply(rx, c, deadline, &r)) {
			printf("syn-ack none\n");
			ret = 0;
			goto out;
		}
	} while ((r.flags & (TH_SYN | TH_ACK)) != (TH_SYN | TH_ACK));
	sisn = r.seq;
	syn_acked = r.ack - (ISN + 1);
	printf("syn-ack %u\n", syn_acked);
	ret = send_seg(tx, &sll, c, 0, ISN + 1 + syn_acked, sisn + 1, TH_ACK, NULL, 0);
	if (ret < 0)
		goto out;
	for (int i = 0; i < c->nr_seg; i++) {
		const struct segment *g = &c->seg[i];
		const uint8_t *data = hello;

		if (g->name) {
			ret = build_hello(g->name, c->hello_bytes, other);
			if (ret)
				goto out;
			data = other;
		}
		ret = send_seg(tx, &sll, c, i + 1, ISN + 1 + g->off, sisn + 1, TH_ACK | TH_PUSH,
			       data + g->off, g->len);
		if (ret < 0)
			goto out;
		dropped += ret;
		if ((uint32_t)(g->off + g->len) > end)
			end = g->off + g->len;
	}
	/* what the server's TCP took: its highest acknowledgement, until it covers the end */
	acked = syn_acked;
	deadline = now_ms() + ACK_WAIT_MS;
	while (acked < end && next_reply(rx, c, deadline, &r))
		if ((r.flags & TH_ACK) && (int32_t)(r.ack - (ISN + 1) - acked) > 0)
			acked = r.ack - (ISN + 1);
	printf("acked %u\n", acked);
	if (dropped)
		printf("dropped on this side's egress %d\n", dropped);
	/* the server's connection ends here: a reset carries no data, so it passes */
	ret = send_seg(tx, &sll, c, 0, ISN + 1 + acked, 0, TH_RST, NULL, 0);
	ret = ret < 0 ? ret : 0;
out:
	if (rx >= 0)
		close(rx);
	close(tx);
	return ret;
}
