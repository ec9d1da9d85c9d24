// SPDX-License-Identifier: GPL-2.0
/*
 * udpflood.c: the sandbox's sender for the live bench. 64-byte frames (22
 * bytes of UDP payload) with sendmmsg() to destinations of the exact rule
 * set, until a count or a time is reached. Prints sent,errors,seconds,cpu_seconds:
 * the last this thread's CPU time, which includes the softirq work done on the
 * way out of each send call (the veth's peer receiving on this CPU), and not
 * time taken by other tasks or stolen by the hypervisor.
 *
 * With --target NS,N (repeated) and --passes P: a socket in each namespace, P
 * passes over them, each pass starting one target further; one line a run:
 * pass,target,sent,errors,seconds,cpu_seconds (targets from 0).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "ruleset.h"

#define BATCH 64
#define DESTS_MAX 4096
#define TARGETS_MAX 32
#define PAYLOAD_LEN (64 - 14 - 20 - 8)

struct target {
	int fd;
	unsigned long next;
	struct sockaddr_in dst[DESTS_MAX];
};

struct run {
	unsigned long sent, errors;
	double wall, cpu;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* target_open: a socket in NS (NULL: this one), K destinations of N rules */
static int target_open(struct target *t, const char *ns, unsigned long n, long k)
{
	uint32_t seed = 0x5eed;
	char path[128];
	int nsfd;

	/* K destinations of the set's rules: one in the middle, or K at random */
	for (long i = 0; i < k; i++) {
		uint32_t r = k == 1 ? n / 2 : bench_rand(&seed) % n;

		t->dst[i].sin_family = AF_INET;
		t->dst[i].sin_addr.s_addr = htonl(exact_addr(r));
		t->dst[i].sin_port = htons(exact_port(r));
	}
	t->next = 0;
	if (ns) {
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
		nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0 || setns(nsfd, CLONE_NEWNET)) {
			fprintf(stderr, "udpflood: cannot enter network namespace %s: %s\n", ns,
				strerror(errno));
			if (nsfd >= 0)
				close(nsfd);
			return -1;
		}
		close(nsfd);
	}
	/* a socket stays in the namespace it was made in */
	t->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (t->fd < 0) {
		fprintf(stderr, "udpflood: socket: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* flood: COUNT datagrams or SECONDS to T's destinations in turn */
static int flood(struct target *t, long k, unsigned long count, double seconds, struct run *out)
{
	static char payload[PAYLOAD_LEN];
	struct iovec iov = { payload, sizeof(payload) };
	struct mmsghdr msgs[BATCH];
	unsigned long sent = 0, errors = 0;
	double t0, t1, c0;

	memset(msgs, 0, sizeof(msgs));
	c0 = cpu_s();
	t0 = t1 = now_s();
	while (sent + errors < count && t1 - t0 < seconds) {
		int b = count - sent - errors < BATCH ? (int)(count - sent - errors) : BATCH, r;

		for (int i = 0; i < b; i++) {
			msgs[i].msg_hdr.msg_name = &t->dst[t->next];
			msgs[i].msg_hdr.msg_namelen = sizeof(t->dst[0]);
			msgs[i].msg_hdr.msg_iov = &iov;
			msgs[i].msg_hdr.msg_iovlen = 1;
			t->next = t->next + 1 == (unsigned long)k ? 0 : t->next + 1;
		}
		r = sendmmsg(t->fd, msgs, b, 0);
		if (r < 0) {
			/* a filter that refuses (netfilter: EPERM), or a full queue */
			if (errno != EPERM && errno != ENOBUFS && errno != EAGAIN) {
				fprintf(stderr, "udpflood: sendmmsg: %s\n", strerror(errno));
				return -1;
			}
			errors++;
		} else {
			sent += r;
		}
		t1 = now_s();
	}
	out->sent = sent;
	out->errors = errors;
	out->wall = t1 - t0;
	out->cpu = cpu_s() - c0;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "n", required_argument, NULL, 'n' },
		{ "dests", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 's' },
		{ "target", required_argument, NULL, 't' },
		{ "passes", required_argument, NULL, 'p' },
		{},
	};
	static struct target tg[TARGETS_MAX];
	const char *tspec[TARGETS_MAX];
	unsigned long n = 0, count = 0;
	int c, nt = 0, opened = 0, passes = 0, err = 0;
	long ndst = 1;
	double seconds = 1;
	struct run run;

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
		case 't':
			if (nt == TARGETS_MAX) {
				fprintf(stderr, "udpflood: at most %d targets\n", TARGETS_MAX);
				return 2;
			}
			tspec[nt++] = optarg;
			break;
		case 'p':
			passes = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if ((!nt && (!n || n > EXACT_MAX)) || (nt && passes < 1) || ndst < 1 || ndst > DESTS_MAX ||
	    !count || seconds <= 0) {
		fprintf(stderr, "usage: udpflood --n RULES --dests K --count C --seconds S\n"
				"       udpflood --target NS,RULES [--target ...] --passes P "
				"--dests K --count C --seconds S\n");
		return 2;
	}
	if (!nt) {
		err = target_open(&tg[0], NULL, n, ndst);
		opened = !err;
		if (!err)
			err = flood(&tg[0], ndst, count, seconds, &run);
		if (!err)
			printf("%lu,%lu,%.4f,%.4f\n", run.sent, run.errors, run.wall, run.cpu);
		goto out;
	}
	for (; opened < nt; opened++) {
		char ns[64];

		if (sscanf(tspec[opened], "%63[^,],%lu", ns, &n) != 2 || !n || n > EXACT_MAX) {
			fprintf(stderr, "udpflood: a target is NS,RULES: not '%s'\n",
				tspec[opened]);
			err = -1;
			goto out;
		}
		err = target_open(&tg[opened], ns, n, ndst);
		if (err)
			goto out;
	}
	for (int p = 0; p < passes && !err; p++)
		for (int j = 0; j < nt && !err; j++) {
			int k = (j + p) % nt;

			err = flood(&tg[k], ndst, count, seconds, &run);
			if (!err)
				printf("%d,%d,%lu,%lu,%.6f,%.6f\n", p, k, run.sent, run.errors,
				       run.wall, run.cpu);
		}
out:
	for (int k = 0; k < opened; k++)
		close(tg[k].fd);
	return err ? 1 : 0;
}
