// SPDX-License-Identifier: GPL-2.0
/* rawframe.c: send hand-built Ethernet/IP/TCP-SYN or UDP frames from an AF_PACKET socket. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
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
#include <unistd.h>
#include "pkt_build.h"

#define PAYLOAD "ironclaw-rawtest"
#define PAYLOAD_LEN (sizeof(PAYLOAD) - 1)
#define COUNT_MAX 100000
#define FRAME_MAX 128

struct cfg {
	const char *ifname;
	uint8_t dst_mac[ETH_ALEN], src_mac[ETH_ALEN];
	int family; /* AF_INET or AF_INET6 */
	uint8_t src[16], dst[16];
	size_t alen; /* 4 or 16 */
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
	long sport, dport, count, vlan; /* vlan < 0: untagged */
	long truncate; /* > 0: send only the first N bytes */
	long interval_us; /* pause between frames */
	int qdisc_bypass;
};

/* The whole frame, padded to the Ethernet minimum, into frame; 0 or -errno. */
static int build_frame(const struct cfg *c, uint8_t *frame, size_t size, size_t *len)
{
	struct pkt_buf p = { .b = frame, .size = size };
	uint16_t l3type = c->family == AF_INET6 ? ETH_P_IPV6 : ETH_P_IP;
	int err;

	pkt_eth(&p, c->dst_mac, c->src_mac, c->vlan >= 0 ? ETH_P_8021Q : l3type);
	if (c->vlan >= 0)
		pkt_vlan(&p, c->vlan, l3type);
	if (c->family == AF_INET6)
		pkt_ipv6(&p, &(struct pkt_ip6){ .src = c->src, .dst = c->dst, .next = c->proto });
	else
		pkt_ipv4(&p, &(struct pkt_ip4){ .src = c->src,
						.dst = c->dst,
						.proto = c->proto,
						.id = 0x1c1c,
						.frag_off = IP_DF });
	if (c->proto == IPPROTO_TCP) {
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
	if (!err && p.len < ETH_ZLEN)
		err = pkt_zeros(&p, ETH_ZLEN - p.len);
	*len = p.len;
	return err;
}

static int send_frames(struct cfg *c)
{
	struct timeval tmo = { .tv_sec = 1 };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	uint8_t frame[FRAME_MAX];
	struct ifreq ifr;
	int fd, one = 1, ret = 0;
	size_t len;
	long i, dropped = 0;

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
		goto out;
	}
	sll.sll_ifindex = ifr.ifr_ifindex;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		ret = -errno;
		fprintf(stderr, "rawframe: SIOCGIFHWADDR on %s: %s\n", c->ifname, strerror(errno));
		goto out;
	}
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		ret = -EINVAL;
		fprintf(stderr, "rawframe: %s is not an Ethernet interface\n", c->ifname);
		goto out;
	}
	memcpy(c->src_mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	if (c->qdisc_bypass && setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one))) {
		ret = -errno;
		fprintf(stderr, "rawframe: PACKET_QDISC_BYPASS on %s: %s\n", c->ifname,
			strerror(errno));
		goto out;
	}
	/* a full send buffer must not block us forever */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo)) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		ret = -errno;
		fprintf(stderr, "rawframe: binding to %s: %s\n", c->ifname, strerror(errno));
		goto out;
	}
	ret = build_frame(c, frame, sizeof(frame), &len);
	if (ret) {
		fprintf(stderr, "rawframe: building the frame: %s\n", strerror(-ret));
		goto out;
	}
	if (c->truncate > 0 && (size_t)c->truncate < len)
		len = c->truncate;
	sll.sll_protocol = htons(c->vlan >= 0	       ? ETH_P_8021Q :
				 c->family == AF_INET6 ? ETH_P_IPV6 :
							 ETH_P_IP);
	sll.sll_halen = ETH_ALEN;
	memcpy(sll.sll_addr, c->dst_mac, ETH_ALEN);
	for (i = 0; i < c->count; i++) {
		if (i && c->interval_us)
			usleep(c->interval_us);
		if (sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
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
	printf("sent %ld frames on %s", c->count - dropped, c->ifname);
	if (dropped)
		printf(" (%ld dropped on this side's egress path: ENOBUFS)", dropped);
	printf("\n");
out:
	close(fd);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rawframe IFACE --dst-mac MAC --src ADDR --dst ADDR --proto tcp|udp --dport N\n"
		"                [--sport N] [--count N] [--qdisc-bypass] [--vlan ID]\n"
		"                [--truncate BYTES] [--interval-us U]\n"
		"Sends N (default 1, max %d) Ethernet frames carrying a TCP SYN or a UDP datagram\n"
		"(payload \"%s\") from IFACE's MAC to MAC (aa:bb:cc:dd:ee:ff; broadcast is fine).\n"
		"IPv4 or IPv6 follows the address text; --sport defaults to 40000.\n",
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
		O_INTERVAL
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int seen = 0, need = 1u << O_DMAC | 1u << O_SRC | 1u << O_DST | 1u << O_PROTO |
				      1u << O_DPORT;
	int opt, idx = 0, ret = 0, sfam = 0, dfam = 0;

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
		else if (opt == O_PROTO)
			ret = -EINVAL;
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
		if (ret < 0) {
			if (opt == O_PROTO)
				fprintf(stderr, "rawframe: --proto is tcp or udp, not '%s'\n",
					optarg);
			return -EINVAL;
		}
	}
	if (argc - optind != 1 || (seen & need) != need) {
		fprintf(stderr,
			"rawframe: need IFACE, --dst-mac, --src, --dst, --proto and --dport\n");
		return -EINVAL;
	}
	c->ifname = argv[optind];
	if (strlen(c->ifname) >= IFNAMSIZ) {
		fprintf(stderr, "rawframe: interface name '%s' is too long\n", c->ifname);
		return -EINVAL;
	}
	if (sfam != dfam) {
		fprintf(stderr, "rawframe: --src and --dst are not the same address family\n");
		return -EINVAL;
	}
	c->family = sfam;
	c->alen = sfam == AF_INET6 ? 16 : 4;
	return 0;
}

int main(int argc, char **argv)
{
	struct cfg c = { .sport = 40000, .count = 1, .vlan = -1 };
	int ret;

	ret = parse_args(argc, argv, &c);
	if (ret) {
		usage(ret > 0 ? stdout : stderr);
		return ret > 0 ? 0 : 2;
	}
	return send_frames(&c) ? 1 : 0;
}
