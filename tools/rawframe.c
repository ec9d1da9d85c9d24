// SPDX-License-Identifier: GPL-2.0
/*
 * rawframe.c: send hand-built Ethernet frames from an AF_PACKET socket (IP with a TCP SYN or
 * a UDP datagram, ARP, a neighbour solicitation), or capture what arrives on an interface.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "pkt_build.h"
#include "rawframe.h"

#define PAYLOAD "ironclaw-rawtest"
#define PAYLOAD_LEN (sizeof(PAYLOAD) - 1)
#define COUNT_MAX 100000
#define PROTO_ARP 256 /* cfg.proto beyond IP's: an ARP message */
#define PROTO_NS 257 /* a neighbour solicitation */
#define ND_NS 135

/* an ARP message: sender the frame's source MAC and --src, target --arp-tha and --dst */
static void build_arp(const struct cfg *c, struct pkt_buf *p)
{
	size_t at = p->len;

	pkt_arp(p, c->src, c->dst);
	if (p->len != at + 28)
		return;
	p->b[at + 6] = c->arp_op >> 8;
	p->b[at + 7] = c->arp_op & 0xff;
	memcpy(p->b + at + 8, c->src_mac, ETH_ALEN);
	memcpy(p->b + at + 18, c->arp_tha, ETH_ALEN);
}

/* a neighbour solicitation for --nd-target with the source's link-layer address option first */
static void build_ns(const struct cfg *c, struct pkt_buf *p)
{
	uint8_t body[4 + 16 + 8] = { 0 };

	pkt_ipv6(p,
		 &(struct pkt_ip6){
			 .src = c->src, .dst = c->dst, .next = IPPROTO_ICMPV6, .hop_limit = 255 });
	pkt_icmp6(p, ND_NS);
	memcpy(body + 4, c->nd_target, 16);
	body[20] = 1; /* source link-layer address, 8 bytes */
	body[21] = 1;
	memcpy(body + 22, c->src_mac, ETH_ALEN);
	pkt_bytes(p, body, c->nd_options ? sizeof(body) : 20);
	if (c->nd_options > 8)
		pkt_zeros(p, c->nd_options - 8);
}

/* The whole frame into frame, no padding (veth pads nothing), then any trailer; 0 or -errno. */
static int build_frame(const struct cfg *c, uint8_t *frame, size_t size, size_t *len)
{
	struct pkt_buf p = { .b = frame, .size = size };
	uint16_t l3type = c->proto == PROTO_ARP ? ETH_P_ARP :
			  c->family == AF_INET6 ? ETH_P_IPV6 :
						  ETH_P_IP;
	int err;

	pkt_eth(&p, c->dst_mac, c->src_mac, c->vlan >= 0 ? ETH_P_8021Q : l3type);
	if (c->vlan >= 0)
		pkt_vlan(&p, c->vlan, l3type);
	if (c->proto == PROTO_ARP)
		build_arp(c, &p);
	else if (c->proto == PROTO_NS)
		build_ns(c, &p);
	else if (c->family == AF_INET6)
		pkt_ipv6(&p, &(struct pkt_ip6){ .src = c->src, .dst = c->dst, .next = c->proto });
	else
		pkt_ipv4(&p, &(struct pkt_ip4){ .src = c->src,
						.dst = c->dst,
						.proto = c->proto,
						.id = 0x1c1c,
						.frag_off = IP_DF });
	if (c->proto == PROTO_ARP || c->proto == PROTO_NS) {
		/* no transport header */
	} else if (c->proto == IPPROTO_TCP) {
		pkt_tcp(&p, &(struct pkt_tcp){ .sport = c->sport,
					       .dport = c->dport,
					       .seq = 0x1c0ffee,
					       .flags = TH_SYN,
					       .window = 64240 });
	} else {
		pkt_udp(&p, c->sport, c->dport);
		pkt_bytes(&p, PAYLOAD, PAYLOAD_LEN);
	}
	err = pkt_finish(&p);
	if (!err && c->trailer)
		err = pkt_zeros(&p, c->trailer);
	*len = p.len;
	return err;
}

/* SIGTERM or SIGINT: stop after the frame being sent, and say how many went */
static volatile sig_atomic_t stop_sending;

static void on_stop(int sig)
{
	(void)sig;
	stop_sending = 1;
}

int open_tx(struct cfg *c, struct sockaddr_ll *sll)
{
	struct timeval tmo = { .tv_sec = 1 };
	struct ifreq ifr;
	int fd, one = 1, ret;

	memset(sll, 0, sizeof(*sll));
	sll->sll_family = AF_PACKET;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0); /* protocol 0: send only */
	if (fd < 0) {
		ret = -errno;
		fprintf(stderr, "rawframe: AF_PACKET socket for %s: %s\n", c->ifname,
			strerror(errno));
		return ret;
	}
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, c->ifname, IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFINDEX, &ifr)) {
		ret = -errno;
		fprintf(stderr, "rawframe: no interface %s: %s\n", c->ifname, strerror(errno));
		goto fail;
	}
	sll->sll_ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		ret = -errno;
		fprintf(stderr, "rawframe: SIOCGIFHWADDR on %s: %s\n", c->ifname, strerror(errno));
		goto fail;
	}
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		ret = -EINVAL;
		fprintf(stderr, "rawframe: %s is not an Ethernet interface\n", c->ifname);
		goto fail;
	}
	if (!c->src_mac_set)
		memcpy(c->src_mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	if (c->qdisc_bypass && setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one))) {
		ret = -errno;
		fprintf(stderr, "rawframe: PACKET_QDISC_BYPASS on %s: %s\n", c->ifname,
			strerror(errno));
		goto fail;
	}
	/* a full send buffer must not block us forever */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo)) ||
	    bind(fd, (struct sockaddr *)sll, sizeof(*sll))) {
		ret = -errno;
		fprintf(stderr, "rawframe: binding to %s: %s\n", c->ifname, strerror(errno));
		goto fail;
	}
	sll->sll_halen = ETH_ALEN;
	memcpy(sll->sll_addr, c->dst_mac, ETH_ALEN);
	return fd;
fail:
	close(fd);
	return ret;
}

static int send_frames(struct cfg *c)
{
	struct sockaddr_ll sll;
	uint8_t frame[FRAME_MAX];
	int fd, ret = 0;
	size_t len;
	long i, dropped = 0;

	fd = open_tx(c, &sll);
	if (fd < 0)
		return fd;
	ret = build_frame(c, frame, sizeof(frame), &len);
	if (ret) {
		fprintf(stderr, "rawframe: building the frame: %s\n", strerror(-ret));
		goto out;
	}
	if (c->truncate > 0 && (size_t)c->truncate < len)
		len = c->truncate;
	sll.sll_protocol = htons(c->vlan >= 0	       ? ETH_P_8021Q :
				 c->proto == PROTO_ARP ? ETH_P_ARP :
				 c->family == AF_INET6 ? ETH_P_IPV6 :
							 ETH_P_IP);
	for (i = 0; i < c->count && !stop_sending; i++) {
		if (i && c->interval_us)
			usleep(c->interval_us);
		if (stop_sending)
			break;
		if (sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			if (errno == EINTR && stop_sending)
				break; /* not sent */
			/* a drop by a filter on this side's egress (tc) reads as ENOBUFS */
			if (errno == ENOBUFS) {
				dropped++;
				continue;
			}
			ret = -errno;
			fprintf(stderr, "rawframe: sendto on %s failed after %ld frames: %s\n",
				c->ifname, i, strerror(errno));
			goto out;
		}
	}
	printf("sent %ld frames on %s", i - dropped, c->ifname);
	if (dropped)
		printf(" (%ld dropped on this side's egress path: ENOBUFS)", dropped);
	printf("\n");
out:
	close(fd);
	return ret;
}

static void print_mac(const uint8_t *m)
{
	printf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* one line for a frame received: its length, MACs, type, and what is in it */
static void print_frame(const uint8_t *f, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	uint16_t type;

	if (len < ETH_HLEN)
		return;
	type = (uint16_t)(f[12] << 8 | f[13]);
	printf("frame %zu dst ", len);
	print_mac(f);
	printf(" src ");
	print_mac(f + 6);
	printf(" type 0x%04x", type);
	if (type == ETH_P_ARP && len >= ETH_HLEN + 28)
		printf(" arp op %d tpa %s", f[ETH_HLEN + 6] << 8 | f[ETH_HLEN + 7],
		       inet_ntop(AF_INET, f + ETH_HLEN + 24, a, sizeof(a)));
	else if (type == ETH_P_IP && len >= ETH_HLEN + 20)
		printf(" ip4 proto %d dst %s", f[ETH_HLEN + 9],
		       inet_ntop(AF_INET, f + ETH_HLEN + 16, a, sizeof(a)));
	else if (type == ETH_P_IPV6 && len >= ETH_HLEN + 41)
		printf(" ip6 nh %d dst %s icmp6 %d", f[ETH_HLEN + 6],
		       inet_ntop(AF_INET6, f + ETH_HLEN + 24, a, sizeof(a)), f[ETH_HLEN + 40]);
	printf("\n");
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* every frame that arrives on the interface for capture_ms, one line each; 0 or -errno */
static int capture(const struct cfg *c)
{
	struct timeval tmo = { .tv_usec = 100000 };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	long end = now_ms() + c->capture_ms, n = 0;
	uint8_t frame[FRAME_MAX];
	int fd, one = 1, ret = 0;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0) {
		ret = -errno;
		fprintf(stderr, "rawframe: AF_PACKET socket for %s: %s\n", c->ifname,
			strerror(errno));
		return ret;
	}
	sll.sll_ifindex = if_nametoindex(c->ifname);
	if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one))) {
		ret = -errno;
		fprintf(stderr, "rawframe: capturing on %s: %s\n", c->ifname, strerror(errno));
		goto out;
	}
	printf("capturing on %s\n", c->ifname);
	fflush(stdout);
	while (now_ms() < end) {
		ssize_t len = recv(fd, frame, sizeof(frame), MSG_TRUNC);

		if (len < 0)
			continue; /* the timeout: look at the clock again */
		print_frame(frame, (size_t)len < sizeof(frame) ? (size_t)len : sizeof(frame));
		fflush(stdout);
		n++;
	}
	printf("captured %ld frames\n", n);
out:
	close(fd);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rawframe IFACE --dst-mac MAC --src ADDR --dst ADDR --proto tcp|udp --dport N\n"
		"                [--sport N] [--count N] [--qdisc-bypass] [--vlan ID]\n"
		"                [--truncate BYTES] [--interval-us U] [--src-mac MAC]\n"
		"                [--trailer BYTES]\n"
		"       rawframe IFACE --dst-mac MAC --src ADDR --dst ADDR --proto arp\n"
		"                [--arp-op N] [--arp-tha MAC] ...\n"
		"       rawframe IFACE --dst-mac MAC --src ADDR --dst ADDR --proto ns\n"
		"                --nd-target ADDR [--nd-options BYTES] ...\n"
		"       rawframe IFACE --dst-mac MAC --src ADDR --dst ADDR --proto tcp --dport N\n"
		"                --hello NAME [--hello-bytes N] [--syn-data N]\n"
		"                [--segment OFF:LEN[:NAME]]...\n"
		"       rawframe IFACE --capture MS\n"
		"Sends N (default 1, max %d) Ethernet frames carrying a TCP SYN or a UDP datagram\n"
		"(payload \"%s\") from IFACE's MAC (or --src-mac) to MAC (aa:bb:cc:dd:ee:ff;\n"
		"broadcast is fine), not padded, then --trailer zero bytes. IPv4 or IPv6 follows\n"
		"the address text; --sport defaults to 40000. arp: an ARP message (opcode\n"
		"--arp-op, default 1) from --src for --dst; ns: an ICMPv6 neighbour solicitation\n"
		"from --src to --dst for --nd-target, with the source link-layer address option\n"
		"and --nd-options BYTES of options in all (0: none). --capture MS: prints every\n"
		"frame IFACE receives for MS milliseconds, one line each. --hello: a TCP flow\n"
		"(IPv4) whose stream is a ClientHello naming NAME, padded to --hello-bytes\n"
		"(default 600): a handshake (the SYN carries the first --syn-data bytes), then\n"
		"each --segment in order, bytes OFF..OFF+LEN of the hello naming NAME (default\n"
		"--hello's) with IP ID 1, 2, ...; prints what the server acknowledged, then\n"
		"resets the flow. The host's own TCP must not answer the server (drop its RSTs).\n",
		COUNT_MAX, PAYLOAD);
}

static int parse_num(const char *what, const char *s, long min, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	if (errno || end == s || *end || *out < min || *out > max) {
		fprintf(stderr, "rawframe: --%s: bad number '%s' (want %ld..%ld)\n", what, s, min,
			max);
		return -EINVAL;
	}
	return 0;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[ETH_ALEN];
	int i, n = 0;

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &n) !=
		    6 ||
	    n != 17) {
		fprintf(stderr, "rawframe: bad MAC '%s' (want aa:bb:cc:dd:ee:ff)\n", s);
		return -EINVAL;
	}
	for (i = 0; i < ETH_ALEN; i++)
		mac[i] = b[i];
	return 0;
}

/* Fill @buf with the address in @s; returns its family or -EINVAL. */
static int parse_ip(const char *s, uint8_t *buf)
{
	if (inet_pton(AF_INET, s, buf) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, buf) == 1)
		return AF_INET6;
	fprintf(stderr, "rawframe: '%s' is not an IPv4 or IPv6 address\n", s);
	return -EINVAL;
}

/* --segment OFF:LEN[:NAME]: the stream's bytes OFF..OFF+LEN, of the hello naming NAME */
static int parse_segment(char *s, struct cfg *c)
{
	struct segment *g = &c->seg[c->nr_seg];
	char *len = strchr(s, ':'), *name;

	if (c->nr_seg == SEGMENTS_MAX) {
		fprintf(stderr, "rawframe: more than %d --segment\n", SEGMENTS_MAX);
		return -EINVAL;
	}
	if (!len) {
		fprintf(stderr, "rawframe: --segment '%s': want OFF:LEN[:NAME]\n", s);
		return -EINVAL;
	}
	*len++ = 0;
	name = strchr(len, ':');
	if (name)
		*name++ = 0;
	if (parse_num("segment", s, 0, HELLO_MAX - 1, &g->off) ||
	    parse_num("segment", len, 1, HELLO_MAX, &g->len))
		return -EINVAL;
	g->name = name;
	c->nr_seg++;
	return 0;
}

/* 0 to run, 1 for --help, -EINVAL for a usage error. */
static int parse_args(int argc, char **argv, struct cfg *c)
{
	enum {
		O_DMAC = 1,
		O_SRC,
		O_DST,
		O_PROTO,
		O_DPORT,
		O_SPORT,
		O_COUNT,
		O_BYPASS,
		O_VLAN,
		O_TRUNC,
		O_INTERVAL,
		O_SMAC,
		O_TRAILER,
		O_ARP_OP,
		O_ARP_THA,
		O_ND_TARGET,
		O_ND_OPTIONS,
		O_CAPTURE,
		O_HELLO,
		O_HELLO_BYTES,
		O_SYN_DATA,
		O_SEGMENT
	};
	static const struct option lopts[] = {
		{ "dst-mac", required_argument, NULL, O_DMAC },
		{ "src", required_argument, NULL, O_SRC },
		{ "dst", required_argument, NULL, O_DST },
		{ "proto", required_argument, NULL, O_PROTO },
		{ "dport", required_argument, NULL, O_DPORT },
		{ "sport", required_argument, NULL, O_SPORT },
		{ "count", required_argument, NULL, O_COUNT },
		{ "qdisc-bypass", no_argument, NULL, O_BYPASS },
		{ "vlan", required_argument, NULL, O_VLAN },
		{ "truncate", required_argument, NULL, O_TRUNC },
		{ "interval-us", required_argument, NULL, O_INTERVAL },
		{ "src-mac", required_argument, NULL, O_SMAC },
		{ "trailer", required_argument, NULL, O_TRAILER },
		{ "arp-op", required_argument, NULL, O_ARP_OP },
		{ "arp-tha", required_argument, NULL, O_ARP_THA },
		{ "nd-target", required_argument, NULL, O_ND_TARGET },
		{ "nd-options", required_argument, NULL, O_ND_OPTIONS },
		{ "capture", required_argument, NULL, O_CAPTURE },
		{ "hello", required_argument, NULL, O_HELLO },
		{ "hello-bytes", required_argument, NULL, O_HELLO_BYTES },
		{ "syn-data", required_argument, NULL, O_SYN_DATA },
		{ "segment", required_argument, NULL, O_SEGMENT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int seen = 0, need = 1u << O_DMAC | 1u << O_SRC | 1u << O_DST | 1u << O_PROTO |
				      1u << O_DPORT;
	int opt, idx = 0, ret = 0, sfam = 0, dfam = 0, tfam = AF_INET6;

	while ((opt = getopt_long(argc, argv, "", lopts, &idx)) != -1) {
		if (opt == 'h')
			return 1;
		if (opt == '?')
			return -EINVAL; /* getopt already said why */
		seen |= 1u << opt;
		if (opt == O_DMAC)
			ret = parse_mac(optarg, c->dst_mac);
		else if (opt == O_SRC)
			ret = sfam = parse_ip(optarg, c->src);
		else if (opt == O_DST)
			ret = dfam = parse_ip(optarg, c->dst);
		else if (opt == O_PROTO && !strcmp(optarg, "tcp"))
			c->proto = IPPROTO_TCP;
		else if (opt == O_PROTO && !strcmp(optarg, "udp"))
			c->proto = IPPROTO_UDP;
		else if (opt == O_PROTO && !strcmp(optarg, "arp"))
			c->proto = PROTO_ARP;
		else if (opt == O_PROTO && !strcmp(optarg, "ns"))
			c->proto = PROTO_NS;
		else if (opt == O_PROTO)
			ret = -EINVAL;
		else if (opt == O_SMAC)
			ret = parse_mac(optarg, c->src_mac);
		else if (opt == O_TRAILER)
			ret = parse_num(lopts[idx].name, optarg, 0, 1500, &c->trailer);
		else if (opt == O_ARP_OP)
			ret = parse_num(lopts[idx].name, optarg, 0, 65535, &c->arp_op);
		else if (opt == O_ARP_THA)
			ret = parse_mac(optarg, c->arp_tha);
		else if (opt == O_ND_TARGET)
			ret = tfam = parse_ip(optarg, c->nd_target);
		else if (opt == O_ND_OPTIONS)
			ret = parse_num(lopts[idx].name, optarg, 0, 1400, &c->nd_options);
		else if (opt == O_CAPTURE)
			ret = parse_num(lopts[idx].name, optarg, 1, 600000, &c->capture_ms);
		else if (opt == O_DPORT)
			ret = parse_num(lopts[idx].name, optarg, 0, 65535, &c->dport);
		else if (opt == O_SPORT)
			ret = parse_num(lopts[idx].name, optarg, 0, 65535, &c->sport);
		else if (opt == O_COUNT)
			ret = parse_num(lopts[idx].name, optarg, 1, COUNT_MAX, &c->count);
		else if (opt == O_BYPASS)
			c->qdisc_bypass = 1;
		else if (opt == O_VLAN)
			ret = parse_num(lopts[idx].name, optarg, 0, 4094, &c->vlan);
		else if (opt == O_TRUNC)
			ret = parse_num(lopts[idx].name, optarg, ETH_HLEN, FRAME_MAX, &c->truncate);
		else if (opt == O_INTERVAL)
			ret = parse_num(lopts[idx].name, optarg, 0, 1000000, &c->interval_us);
		else if (opt == O_HELLO)
			c->hello = optarg;
		else if (opt == O_HELLO_BYTES)
			ret = parse_num(lopts[idx].name, optarg, 100, HELLO_MAX, &c->hello_bytes);
		else if (opt == O_SYN_DATA)
			ret = parse_num(lopts[idx].name, optarg, 1, HELLO_MAX, &c->syn_data);
		else if (opt == O_SEGMENT)
			ret = parse_segment(optarg, c);
		if (ret < 0) {
			if (opt == O_PROTO)
				fprintf(stderr, "rawframe: --proto is tcp or udp, not '%s'\n",
					optarg);
			return -EINVAL;
		}
	}
	c->src_mac_set = !!(seen & 1u << O_SMAC);
	if (c->proto == PROTO_ARP || c->proto == PROTO_NS)
		need &= ~(1u << O_DPORT);
	if (c->capture_ms)
		need = 0;
	if (argc - optind != 1 || (seen & need) != need) {
		fprintf(stderr,
			"rawframe: need IFACE, --dst-mac, --src, --dst, --proto and --dport "
			"(not for arp and ns), or IFACE and --capture\n");
		return -EINVAL;
	}
	c->ifname = argv[optind];
	if (c->capture_ms)
		return 0;
	if (strlen(c->ifname) >= IFNAMSIZ) {
		fprintf(stderr, "rawframe: interface name '%s' is too long\n", c->ifname);
		return -EINVAL;
	}
	if (sfam != dfam) {
		fprintf(stderr, "rawframe: --src and --dst are not the same address family\n");
		return -EINVAL;
	}
	if ((c->proto == PROTO_ARP && sfam != AF_INET) ||
	    (c->proto == PROTO_NS &&
	     (sfam != AF_INET6 || tfam != AF_INET6 || !(seen & 1u << O_ND_TARGET)))) {
		fprintf(stderr,
			"rawframe: arp takes IPv4 addresses; ns IPv6 ones and --nd-target\n");
		return -EINVAL;
	}
	if (c->proto == PROTO_NS && c->nd_options && c->nd_options % 8) {
		fprintf(stderr, "rawframe: --nd-options is a multiple of 8\n");
		return -EINVAL;
	}
	c->family = sfam;
	c->alen = sfam == AF_INET6 ? 16 : 4;
	if (!c->hello)
		return 0;
	if (c->proto != IPPROTO_TCP || sfam != AF_INET) {
		fprintf(stderr, "rawframe: --hello is a TCP flow over IPv4\n");
		return -EINVAL;
	}
	for (int i = 0; i < c->nr_seg; i++)
		if (c->seg[i].off + c->seg[i].len > c->hello_bytes) {
			fprintf(stderr, "rawframe: --segment %ld:%ld: past the hello's %ld bytes\n",
				c->seg[i].off, c->seg[i].len, c->hello_bytes);
			return -EINVAL;
		}
	if (c->syn_data > c->hello_bytes) {
		fprintf(stderr, "rawframe: --syn-data %ld: past the hello's %ld bytes\n",
			c->syn_data, c->hello_bytes);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct cfg c = { .sport = 40000, .count = 1, .vlan = -1, .arp_op = 1, .hello_bytes = 600 };
	int ret;

	ret = parse_args(argc, argv, &c);
	if (ret) {
		usage(ret > 0 ? stdout : stderr);
		return ret > 0 ? 0 : 2;
	}
	if (c.capture_ms)
		return capture(&c) ? 1 : 0;
	if (c.hello)
		return tcp_flow(&c) ? 1 : 0;
	sigaction(SIGTERM, &(struct sigaction){ .sa_handler = on_stop }, NULL);
	sigaction(SIGINT, &(struct sigaction){ .sa_handler = on_stop }, NULL);
	return send_frames(&c) ? 1 : 0;
}
