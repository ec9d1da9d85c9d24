// SPDX-License-Identifier: GPL-2.0
/*
 * udpflood.c: the sandbox's sender for the live bench. 64-byte frames (22
 * bytes of UDP payload) with sendmmsg() to destinations of the exact rule
 * set, until a count or a time is reached. Prints sent,errors,seconds.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "ruleset.h"

#define BATCH 64
#define DESTS_MAX 4096
#define PAYLOAD_LEN (64 - 14 - 20 - 8)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "n", required_argument, NULL, 'n' },
		{ "dests", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 's' },
		{},
	};
	static struct sockaddr_in dst[DESTS_MAX];
	static char payload[PAYLOAD_LEN];
	struct mmsghdr msgs[BATCH];
	struct iovec iov = { payload, sizeof(payload) };
	unsigned long n = 0, count = 0, sent = 0, errors = 0, next = 0;
	long ndst = 1;
	double seconds = 1, t0, t1;
	uint32_t seed = 0x5eed;
	int c, fd;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'd':
			ndst = atol(optarg);
			break;
		case 'c':
			count = strtoul(optarg, NULL, 10);
			break;
		case 's':
			seconds = atof(optarg);
			break;
		default:
			return 2;
		}
	}
	if (!n || n > EXACT_MAX || ndst < 1 || ndst > DESTS_MAX || !count || seconds <= 0) {
		fprintf(stderr, "usage: udpflood --n RULES --dests K --count C --seconds S\n");
		return 2;
	}
	/* K destinations of the set's rules: one in the middle, or K at random */
	for (long i = 0; i < ndst; i++) {
		uint32_t r = ndst == 1 ? n / 2 : bench_rand(&seed) % n;

		dst[i].sin_family = AF_INET;
		dst[i].sin_addr.s_addr = htonl(exact_addr(r));
		dst[i].sin_port = htons(exact_port(r));
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "udpflood: socket: %s\n", strerror(errno));
		return 1;
	}
	memset(msgs, 0, sizeof(msgs));
	t0 = t1 = now_s();
	while (sent + errors < count && t1 - t0 < seconds) {
		int b = count - sent - errors < BATCH ? (int)(count - sent - errors) : BATCH, r;

		for (int i = 0; i < b; i++) {
			msgs[i].msg_hdr.msg_name = &dst[next];
			msgs[i].msg_hdr.msg_namelen = sizeof(dst[0]);
			msgs[i].msg_hdr.msg_iov = &iov;
			msgs[i].msg_hdr.msg_iovlen = 1;
			next = next + 1 == (unsigned long)ndst ? 0 : next + 1;
		}
		r = sendmmsg(fd, msgs, b, 0);
		if (r < 0) {
			/* a filter that refuses (netfilter: EPERM), or a full queue */
			if (errno != EPERM && errno != ENOBUFS && errno != EAGAIN) {
				fprintf(stderr, "udpflood: sendmmsg: %s\n", strerror(errno));
				close(fd);
				return 1;
			}
			errors++;
		} else {
			sent += r;
		}
		t1 = now_s();
	}
	close(fd);
	printf("%lu,%lu,%.4f\n", sent, errors, t1 - t0);
	return 0;
}
