/* rawframe.h: rawframe's settings, shared by its frame mode (rawframe.c) and its TCP flow mode (rawframe_tcp.c). */
#ifndef IRONCLAW_TOOLS_RAWFRAME_H
#define IRONCLAW_TOOLS_RAWFRAME_H

#include <net/ethernet.h>
#include <stdint.h>

struct sockaddr_ll;

#define FRAME_MAX 2048
#define SEGMENTS_MAX 16
#define HELLO_MAX 1400 /* a crafted hello's bytes: one frame carries it */

/* a TCP flow mode segment: the stream's bytes off..off+len, of the hello naming name */
struct segment {
	long off, len;
	const char *name; /* NULL: --hello's */
};

struct cfg {
	const char *ifname;
	uint8_t dst_mac[ETH_ALEN], src_mac[ETH_ALEN];
	int src_mac_set; /* --src-mac: else the interface's */
	int family; /* AF_INET or AF_INET6 */
	uint8_t src[16], dst[16];
	size_t alen; /* 4 or 16 */
	int proto; /* IPPROTO_TCP, IPPROTO_UDP, PROTO_ARP or PROTO_NS */
	long sport, dport, count, vlan; /* vlan < 0: untagged */
	long truncate; /* > 0: send only the first N bytes */
	long trailer; /* zero bytes after the datagram or message */
	long interval_us; /* pause between frames */
	int qdisc_bypass;
	long arp_op; /* ARP: the opcode; sender --src, target --dst */
	uint8_t arp_tha[ETH_ALEN]; /* and the target MAC (zero unless --arp-tha) */
	uint8_t nd_target[16]; /* NS: the target; --nd-options bytes of options after it */
	long nd_options;
	long capture_ms; /* > 0: capture for this long instead of sending */
	/* the TCP flow mode (--hello): a handshake, then these segments of a ClientHello */
	const char *hello; /* the server name of the stream's hello */
	long hello_bytes; /* its length, padded */
	long syn_data; /* its first bytes in the SYN (TCP Fast Open) */
	struct segment seg[SEGMENTS_MAX];
	int nr_seg;
};

/*
 * An AF_PACKET socket bound to c->ifname for sending (c->src_mac filled in
 * unless --src-mac), its address in *sll; the fd or -errno.
 */
int open_tx(struct cfg *c, struct sockaddr_ll *sll);

/* the TCP flow mode: handshake, segments, what the server acknowledged; 0 or -errno */
int tcp_flow(struct cfg *c);

#endif
