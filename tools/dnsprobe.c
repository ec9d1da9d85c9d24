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
#include "pkt_build.h"

#define MSG_MAX 1024
#define ZONE_MAX 16
#define CHAIN_MAX 8

/* serve: what the responder knows */
struct zone_entry {
	char name[256];
	char cname[256]; /* "" for an address entry */
	int family;
	unsigned char addr[16];
};

struct opts {
	const char *server, *name;
	struct sockaddr_storage dst;
	socklen_t dst_len;
	int qtype, questions, tcp, compress, random_labels, count, timeout_ms, label_len, sport, id;
	int no_check; /* IPv4 UDP sent with checksum 0 (SO_NO_CHECK) */
	/* serve */
	struct zone_entry zone[ZONE_MAX];
	int nzone, ttl, wrong_id, delay_ms;
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

static void usage(FILE *f);

/*
 * The query's message into b: --random-labels prepends fresh random labels of
 * --label-len to the name. 0, or -EMSGSIZE when it does not fit.
 */
static int build(const struct opts *o, unsigned char *b, size_t size, unsigned int id, size_t *len)
{
	struct pkt_buf p = { .b = b, .size = size };
	const unsigned char type_class[4] = { o->qtype >> 8, o->qtype & 0xff, 0, 1 };
	char name[2048] = "";
	size_t nl = 0;

	for (int i = 0; i < o->random_labels; i++) {
		for (int j = 0; j < o->label_len && nl + 2 < sizeof(name) / 2; j++)
			name[nl++] = "abcdefghijklmnopqrstuvwxyz234567"[random() % 32];
		name[nl++] = '.';
	}
	snprintf(name + nl, sizeof(name) - nl, "%s", o->name);
	pkt_dns_hdr(&p, id, 0x0100 /* RD */, o->questions, 0, 0, 0);
	for (int q = 0; q < o->questions; q++) {
		if (q > 0 && o->compress) {
			pkt_dns_ptr(&p, 12); /* a pointer to the first question's name */
		} else {
			/* a label may be longer than 63 here (tests send bad names) */
			pkt_dns_labels(&p, name);
			if (o->compress && o->questions == 1)
				pkt_dns_ptr(&p, 12); /* the name ends in a pointer, not the root */
			else
				pkt_zeros(&p, 1);
		}
		pkt_bytes(&p, type_class, sizeof(type_class));
	}
	*len = p.len;
	return p.err ? -EMSGSIZE : 0;
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
	size_t len;
	int fd, err = build(o, q, sizeof(q), id, &len);
	ssize_t n;

	if (err)
		return err;
	fd = socket(o->dst.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (o->no_check && setsockopt(fd, SOL_SOCKET, SO_NO_CHECK, &o->no_check, sizeof(int))) {
		err = -errno;
		goto out;
	}
	if (o->sport) {
		struct sockaddr_storage src = { .ss_family = o->dst.ss_family };

		((struct sockaddr_in *)&src)->sin_port = htons(o->sport); /* same offset in v6 */
		if (bind(fd, (struct sockaddr *)&src, o->dst_len)) {
			err = -errno;
			goto out;
		}
	}
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
	size_t len;
	int fd, err = build(o, q + 2, sizeof(q) - 2, id, &len);
	socklen_t el = sizeof(err);

	if (err)
		return err;
	fd = socket(o->dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
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

/* --answer NAME=ADDR or --cname NAME=TARGET */
static int add_zone(struct opts *o, const char *arg, int cname)
{
	const char *eq = strchr(arg, '=');
	struct zone_entry *z = &o->zone[o->nzone];

	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(z->name) || o->nzone == ZONE_MAX)
		return -1;
	memset(z, 0, sizeof(*z));
	snprintf(z->name, sizeof(z->name), "%.*s", (int)(eq - arg), arg);
	if (cname)
		snprintf(z->cname, sizeof(z->cname), "%s", eq + 1);
	else if (inet_pton(AF_INET, eq + 1, z->addr) == 1)
		z->family = AF_INET;
	else if (inet_pton(AF_INET6, eq + 1, z->addr) == 1)
		z->family = AF_INET6;
	else
		return -1;
	o->nzone++;
	return 0;
}

/* the question's name as text, lowercase (a query has no compression); its end, or 0 */
static size_t read_qname(const unsigned char *b, size_t len, char *out, size_t max)
{
	size_t p = 12, o = 0;

	while (p < len && b[p]) {
		size_t n = b[p];

		if (n > 63 || p + 1 + n > len || o + n + 2 > max)
			return 0;
		if (o)
			out[o++] = '.';
		for (size_t i = 0; i < n; i++) {
			unsigned char c = b[p + 1 + i];

			out[o++] = c >= 'A' && c <= 'Z' ? c + 32 : c;
		}
		p += 1 + n;
	}
	out[o] = '\0';
	return p < len ? p + 1 : 0;
}

/* one resource record of class IN, its owner written in full; 0, or -ENOSPC and nothing written */
static int put_rr(struct pkt_buf *p, const char *owner, int type, int ttl, const void *rdata,
		  size_t rdlen, int rdata_is_name)
{
	size_t start = p->len;
	int err = pkt_dns_name(p, owner);

	if (!err)
		err = rdata_is_name ? pkt_dns_rr_name(p, type, 1, ttl, rdata) :
				      pkt_dns_rr(p, type, 1, ttl, rdata, rdlen);
	if (err)
		p->len = start; /* the owner without its record goes too */
	return err;
}

/*
 * The answer to one query: the question copied, the CNAME chain from the
 * asked name (at most CHAIN_MAX links), then the addresses of its end of the
 * asked type; NXDOMAIN for a name it does not know. Its length, 0 for a
 * message it cannot answer; *shown says what it answered.
 */
static size_t answer(const struct opts *o, const unsigned char *q, size_t qlen, unsigned char *r,
		     size_t rsize, char *shown, size_t shown_len)
{
	struct pkt_buf p = { .b = r, .size = rsize }, hdr = { .b = r, .size = 12 };
	char name[256];
	size_t end = qlen >= 12 ? read_qname(q, qlen, name, sizeof(name)) : 0;
	int qtype, an = 0, known = 0;
	__u16 id;

	if (!end || end + 4 > qlen)
		return 0;
	qtype = q[end] << 8 | q[end + 1];
	id = (q[0] << 8 | q[1]) ^ (o->wrong_id ? 0x5a : 0);
	pkt_dns_hdr(&p, id, 0, 1, 0, 0, 0); /* written again below, with its flags and counts */
	pkt_bytes(&p, q + 12, end + 4 - 12); /* the question as it was asked */
	snprintf(shown, shown_len, "%s type %d:", name, qtype);
	for (int link = 0; link <= CHAIN_MAX; link++) {
		const char *next = NULL;

		for (int i = 0; i < o->nzone; i++) {
			const struct zone_entry *z = &o->zone[i];
			char a[INET6_ADDRSTRLEN];

			if (strcasecmp(z->name, name))
				continue;
			known = 1;
			if (z->cname[0]) {
				an += !put_rr(&p, name, 5, o->ttl, z->cname, 0, 1);
				next = z->cname;
				snprintf(shown + strlen(shown), shown_len - strlen(shown),
					 " CNAME %s", z->cname);
			} else if ((z->family == AF_INET && qtype == 1) ||
				   (z->family == AF_INET6 && qtype == 28)) {
				an += !put_rr(&p, name, qtype, o->ttl, z->addr,
					      z->family == AF_INET ? 4 : 16, 0);
				inet_ntop(z->family, z->addr, a, sizeof(a));
				snprintf(shown + strlen(shown), shown_len - strlen(shown), " %s",
					 a);
			}
		}
		if (!next)
			break;
		snprintf(name, sizeof(name), "%s", next);
	}
	if (!known)
		snprintf(shown + strlen(shown), shown_len - strlen(shown), " NXDOMAIN");
	/* QR RD RA, NXDOMAIN for a name it does not know */
	pkt_dns_hdr(&hdr, id, 0x8180 | (known ? 0 : 3), 1, an, 0, 0);
	return p.len;
}

/* answers UDP queries on ADDR port 53 until --count queries or --timeout-ms */
static int serve(const struct opts *o)
{
	long deadline = now_ms() + o->timeout_ms;
	int fd = socket(o->dst.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, done = 0;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (o->no_check && setsockopt(fd, SOL_SOCKET, SO_NO_CHECK, &one, sizeof(one))) ||
	    bind(fd, (struct sockaddr *)&o->dst, o->dst_len)) {
		fprintf(stderr, "dnsprobe: serve on %s: %s\n", o->server, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	while ((!o->count || done < o->count) && !wait_fd(fd, POLLIN, deadline)) {
		unsigned char q[MSG_MAX], r[MSG_MAX];
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		char shown[1024];
		ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&peer, &plen);
		size_t rlen;

		if (n < 0)
			continue;
		done++;
		rlen = answer(o, q, n, r, sizeof(r), shown, sizeof(shown));
		if (!rlen) {
			printf("query of %zd bytes: not one it can answer\n", n);
		} else {
			printf("query %s\n", shown);
			if (o->delay_ms)
				poll(NULL, 0,
				     o->delay_ms); /* a slow resolver: others may answer first */
			if (sendto(fd, r, rlen, 0, (struct sockaddr *)&peer, plen) < 0)
				fprintf(stderr, "dnsprobe: answer: %s\n", strerror(errno));
		}
		fflush(stdout);
	}
	close(fd);
	return 0;
}

/*
 * forge FROM TO PORT NAME ADDR: an answer "NAME A ADDR" (transaction id
 * --id, TTL --ttl) from FROM port 53 to TO port PORT, sent from a raw socket
 * with FROM as its source, whatever this host's addresses are. IPv4 only.
 */
static int forge(const struct opts *o, char **argv)
{
	unsigned char pkt[MSG_MAX + 28], from[4], a[4];
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct pkt_buf p = PKT_BUF(pkt);
	long port = strtol(argv[2], NULL, 10);
	int fd, err = 0;

	if (inet_pton(AF_INET, argv[0], from) != 1 ||
	    inet_pton(AF_INET, argv[1], &to.sin_addr) != 1 || port < 1 || port > 65535 ||
	    inet_pton(AF_INET, argv[4], a) != 1) {
		usage(stderr);
		return 2;
	}
	pkt_ipv4(&p, &(struct pkt_ip4){ .src = from, .dst = &to.sin_addr, .proto = IPPROTO_UDP });
	pkt_udp(&p, 53, port);
	pkt_dns_hdr(&p, o->id, 0x8180 /* QR RD RA */, 1, 1, 0, 0);
	pkt_dns_question(&p, argv[3], 1, 1);
	pkt_dns_name(&p, argv[3]);
	pkt_dns_rr(&p, 1, 1, o->ttl, a, 4);
	if (pkt_finish(&p)) {
		printf("fail %s\n", errname(EMSGSIZE));
		return 1;
	}
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd < 0 || sendto(fd, pkt, p.len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		err = errno;
	if (fd >= 0)
		close(fd);
	if (err) {
		printf("fail %s\n", errname(err));
		return 1;
	}
	printf("ok sent %zu bytes\n", p.len);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dnsprobe query SERVER NAME [--type N] [--tcp] [--questions N] [--compress]\n"
		"                [--random-labels K [--label-len L]] [--count N] [--timeout-ms T]\n"
		"                [--sport P] [--no-check]\n"
		"Sends N queries (default 1) for NAME (K fresh random labels of L characters\n"
		"in front of it, a new set per query) and waits for each reply. Prints\n"
		"'ok <ms>ms replies N/N' (exit 0) or 'fail <ms>ms ERRNAME replies R/N' (exit 1).\n"
		"--compress: the second question's name is a pointer to the first's; with one\n"
		"question, the name ends in a pointer instead of the root label.\n"
		"T (default 2000) bounds each query.\n"
		"       dnsprobe serve ADDR [--answer NAME=ADDR]... [--cname NAME=TARGET]...\n"
		"                [--ttl S] [--wrong-id] [--delay-ms D] [--no-check] [--count N]\n"
		"                [--timeout-ms T]\n"
		"Answers UDP queries on ADDR port 53: the CNAME chain from the asked name,\n"
		"then the addresses of its end of the asked type (A, AAAA), with TTL S\n"
		"(default 5); NXDOMAIN for other names. --wrong-id answers with another\n"
		"transaction id; --delay-ms waits D ms before each answer. Exits after N\n"
		"queries or T ms (default 60000). --no-check: IPv4 UDP sent without a\n"
		"checksum (0), both ways.\n"
		"       dnsprobe forge FROM TO PORT NAME ADDR [--id N] [--ttl S]\n"
		"Sends one answer 'NAME A ADDR' with transaction id N (default 4096, the first\n"
		"query's) from FROM port 53 to TO port PORT, from a raw socket: FROM need not\n"
		"be an address of this host (a forged answer). IPv4.\n");
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
		{ "answer", required_argument, NULL, 'a' },
		{ "cname", required_argument, NULL, 'C' },
		{ "ttl", required_argument, NULL, 'L' },
		{ "wrong-id", no_argument, NULL, 'W' },
		{ "sport", required_argument, NULL, 'P' },
		{ "id", required_argument, NULL, 'I' },
		{ "delay-ms", required_argument, NULL, 'D' },
		{ "no-check", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = {
		.qtype = 1,
		.questions = 1,
		.count = -1,
		.timeout_ms = -1,
		.label_len = 40,
		.ttl = 5,
		.id = 0x1000,
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
		case 'a':
		case 'C':
			if (add_zone(&o, optarg, c == 'C')) {
				fprintf(stderr, "dnsprobe: bad --%s '%s'\n",
					c == 'C' ? "cname" : "answer", optarg);
				return 2;
			}
			break;
		case 'L':
			o.ttl = v;
			break;
		case 'W':
			o.wrong_id = 1;
			break;
		case 'P':
			o.sport = v;
			break;
		case 'I':
			o.id = v;
			break;
		case 'D':
			o.delay_ms = v;
			break;
		case 'N':
			o.no_check = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc && !strcmp(argv[optind], "forge") && argc - optind == 6)
		return forge(&o, argv + optind + 1);
	if (optind < argc && !strcmp(argv[optind], "serve") && argc - optind == 2) {
		o.server = argv[optind + 1];
		o.name = "";
		if (o.count < 0)
			o.count = 0; /* until the timeout */
		if (o.timeout_ms < 0)
			o.timeout_ms = 60000;
	} else {
		if (o.count < 0)
			o.count = 1;
		if (o.timeout_ms < 0)
			o.timeout_ms = 2000;
		if (argc - optind != 3 || strcmp(argv[optind], "query") || o.count < 1) {
			usage(stderr);
			return 2;
		}
		o.server = argv[optind + 1];
		o.name = argv[optind + 2];
	}
	if (o.qtype < 0 || o.qtype > 65535 || o.questions < 0 || o.questions > 8 ||
	    o.count > 10000 || o.timeout_ms < 1 || o.random_labels < 0 || o.random_labels > 8 ||
	    o.label_len < 1 || o.label_len > 200 || o.ttl < 0 || o.sport < 0 || o.sport > 65535 ||
	    o.id < 0 || o.id > 65535 || o.delay_ms < 0 || o.delay_ms > 10000) {
		usage(stderr);
		return 2;
	}
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
	if (!strcmp(argv[optind], "serve"))
		return serve(&o);
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
