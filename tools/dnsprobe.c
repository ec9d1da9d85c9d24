// SPDX-License-Identifier: GPL-2.0
/* dnsprobe.c: DNS queries for the e2e tests, well-formed and crafted, over UDP or TCP. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG_MAX 1024

struct opts {
	const char *server, *name;
	struct sockaddr_storage dst;
	socklen_t dst_len;
	int qtype, questions, tcp, compress, random_labels, count, timeout_ms, label_len;
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static const char *errname(int err)
{
	static char num[16];

	switch (err) {
	case EPERM:
		return "EPERM";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case ECONNRESET:
		return "ECONNRESET";
	case ENETUNREACH:
		return "ENETUNREACH";
	case EMSGSIZE:
		return "EMSGSIZE";
	}
	snprintf(num, sizeof(num), "%d", err);
	return num;
}

/* NAME as labels; a label may be longer than 63 here (tests send bad names) */
static size_t put_name(unsigned char *b, size_t o, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t n = dot ? (size_t)(dot - name) : strlen(name);

		if (o + n + 2 > MSG_MAX)
			break;
		b[o++] = n;
		memcpy(b + o, name, n);
		o += n;
		name += n + (dot ? 1 : 0);
	}
	b[o++] = 0;
	return o;
}

/* the query: --random-labels prepends fresh random labels of --label-len to the name */
static size_t build(const struct opts *o, unsigned char *b, unsigned int id)
{
	char name[2048] = "";
	size_t n = 12, nl = 0;

	for (int i = 0; i < o->random_labels; i++) {
		for (int j = 0; j < o->label_len && nl + 2 < sizeof(name) / 2; j++)
			name[nl++] = "abcdefghijklmnopqrstuvwxyz234567"[random() % 32];
		name[nl++] = '.';
	}
	snprintf(name + nl, sizeof(name) - nl, "%s", o->name);
	memset(b, 0, 12);
	b[0] = id >> 8;
	b[1] = id & 0xff;
	b[2] = 0x01; /* RD */
	b[5] = o->questions;
	for (int q = 0; q < o->questions; q++) {
		if (q > 0 && o->compress) {
			b[n++] = 0xc0; /* a pointer to the first question's name */
			b[n++] = 12;
		} else {
			n = put_name(b, n, name);
			if (o->compress && o->questions == 1) {
				b[n - 1] = 0xc0; /* the name ends in a pointer, not the root */
				b[n++] = 12;
			}
		}
		b[n++] = o->qtype >> 8;
		b[n++] = o->qtype & 0xff;
		b[n++] = 0;
		b[n++] = 1;
	}
	return n;
}

static int wait_fd(int fd, short ev, long deadline)
{
	struct pollfd p = { .fd = fd, .events = ev };
	long left = deadline - now_ms();
	int r;

	if (left <= 0)
		return -ETIMEDOUT;
	r = poll(&p, 1, left);
	return r < 0 ? -errno : r == 0 ? -ETIMEDOUT : 0;
}

/* one query and its reply (any datagram with our id); 0 or -errno */
static int udp_query(const struct opts *o, unsigned int id, long deadline)
{
	unsigned char q[MSG_MAX], r[MSG_MAX];
	size_t len = build(o, q, id);
	int fd = socket(o->dst.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err;
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (sendto(fd, q, len, 0, (struct sockaddr *)&o->dst, o->dst_len) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		err = wait_fd(fd, POLLIN, deadline);
		if (err)
			break;
		n = recv(fd, r, sizeof(r), 0);
		if (n < 0) {
			err = errno == EAGAIN ? 0 : -errno;
			if (err)
				break;
			continue;
		}
		if (n >= 2 && r[0] == q[0] && r[1] == q[1])
			break;
	}
out:
	close(fd);
	return err;
}

/* one query over TCP (two length bytes first); a reply or EOF after the query ends it */
static int tcp_query(const struct opts *o, unsigned int id, long deadline)
{
	unsigned char q[MSG_MAX + 2], r[MSG_MAX];
	size_t len = build(o, q + 2, id);
	int fd = socket(o->dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err = 0;
	socklen_t el = sizeof(err);

	if (fd < 0)
		return -errno;
	q[0] = len >> 8;
	q[1] = len & 0xff;
	if (connect(fd, (struct sockaddr *)&o->dst, o->dst_len) && errno != EINPROGRESS) {
		err = -errno;
		goto out;
	}
	err = wait_fd(fd, POLLOUT, deadline);
	if (!err && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0)
		err = -err;
	if (!err && send(fd, q, len + 2, MSG_NOSIGNAL) < 0)
		err = -errno;
	if (!err)
		err = wait_fd(fd, POLLIN, deadline);
	if (!err && recv(fd, r, sizeof(r), 0) < 0)
		err = -errno;
out:
	close(fd);
	return err;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dnsprobe query SERVER NAME [--type N] [--tcp] [--questions N] [--compress]\n"
		"                [--random-labels K [--label-len L]] [--count N] [--timeout-ms T]\n"
		"Sends N queries (default 1) for NAME (K fresh random labels of L characters\n"
		"in front of it, a new set per query) and waits for each reply. Prints\n"
		"'ok <ms>ms replies N/N' (exit 0) or 'fail <ms>ms ERRNAME replies R/N' (exit 1).\n"
		"--compress: the second question's name is a pointer to the first's; with one\n"
		"question, the name ends in a pointer instead of the root label.\n"
		"T (default 2000) bounds each query.\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "type", required_argument, NULL, 't' },
		{ "tcp", no_argument, NULL, 'T' },
		{ "questions", required_argument, NULL, 'q' },
		{ "compress", no_argument, NULL, 'c' },
		{ "random-labels", required_argument, NULL, 'r' },
		{ "label-len", required_argument, NULL, 'l' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout-ms", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = {
		.qtype = 1, .questions = 1, .count = 1, .timeout_ms = 2000, .label_len = 40
	};
	struct sockaddr_in *s4 = (void *)&o.dst;
	struct sockaddr_in6 *s6 = (void *)&o.dst;
	long start = now_ms();
	int c, ok = 0, err = 0;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		long v = optarg ? strtol(optarg, NULL, 10) : 0;

		switch (c) {
		case 't':
			o.qtype = v;
			break;
		case 'T':
			o.tcp = 1;
			break;
		case 'q':
			o.questions = v;
			break;
		case 'c':
			o.compress = 1;
			break;
		case 'r':
			o.random_labels = v;
			break;
		case 'l':
			o.label_len = v;
			break;
		case 'n':
			o.count = v;
			break;
		case 'w':
			o.timeout_ms = v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 3 || strcmp(argv[optind], "query") || o.qtype < 0 || o.qtype > 65535 ||
	    o.questions < 0 || o.questions > 8 || o.count < 1 || o.count > 10000 ||
	    o.timeout_ms < 1 || o.random_labels < 0 || o.random_labels > 8 || o.label_len < 1 ||
	    o.label_len > 200) {
		usage(stderr);
		return 2;
	}
	o.server = argv[optind + 1];
	o.name = argv[optind + 2];
	if (inet_pton(AF_INET, o.server, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(53);
		o.dst_len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, o.server, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(53);
		o.dst_len = sizeof(*s6);
	} else {
		fprintf(stderr, "dnsprobe: '%s' is not an address\n", o.server);
		return 2;
	}
	srandom(getpid() ^ start);
	for (int i = 0; i < o.count; i++) {
		long deadline = now_ms() + o.timeout_ms;
		int e = o.tcp ? tcp_query(&o, 0x1000 + i, deadline) :
				udp_query(&o, 0x1000 + i, deadline);

		if (e)
			err = e;
		else
			ok++;
	}
	if (err)
		printf("fail %ldms %s replies %d/%d\n", now_ms() - start, errname(-err), ok,
		       o.count);
	else
		printf("ok %ldms replies %d/%d\n", now_ms() - start, ok, o.count);
	return err ? 1 : 0;
}
