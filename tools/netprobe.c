// SPDX-License-Identifier: GPL-2.0
/* netprobe.c: TCP/UDP test client and server (IPv4/IPv6) for the e2e tests and demo. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_MAX (64 * 1024)
#define IDLE_MS 2000
#define SHOW_MAX 200

enum mode { SERVE_TCP, SERVE_UDP, CONNECT, UDP };
enum {
	O_COUNT = 1,
	O_TIMEOUT = 2,
	O_POST = 4,
	O_PATH = 8,
	O_PAYLOAD = 16,
	O_SOURCE = 32,
	O_POST_BYTES = 64,
	O_UNCONNECTED = 128,
	O_MOVE_FD = 256,
	O_MOVE_AFTER = 512,
	O_WAIT_CONNECT = 1024,
	O_WAIT_SEND = 2048,
	O_TRICKLE = 4096
};

struct opts {
	enum mode mode;
	const char *addr, *source, *post, *path, *payload, *wait_connect, *wait_send;
	struct sockaddr_storage dst, src;
	socklen_t dst_len, src_len;
	long port, count, timeout_ms, move_fd, trickle_ms;
	unsigned int seen;
};

/* minimal DNS query: id 0x1234, RD, one question "example.internal.corp" IN A */
static const char dns_query[] = "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
				"\x07"
				"example"
				"\x08"
				"internal"
				"\x04"
				"corp"
				"\x00"
				"\x00\x01\x00\x01";

static const struct {
	int err;
	const char *name;
} errnames[] = {
#define E(x)                                                                                       \
	{                                                                                          \
		x, #x                                                                              \
	}
	E(EPERM),	 E(ENOENT),	  E(EINTR),	    E(EBADF),		E(EAGAIN),
	E(ENOMEM),	 E(EACCES),	  E(EINVAL),	    E(EPIPE),		E(ENODATA),
	E(EPROTO),	 E(EMSGSIZE),	  E(ENOPROTOOPT),   E(EPROTONOSUPPORT), E(EOPNOTSUPP),
	E(EAFNOSUPPORT), E(EADDRINUSE),	  E(EADDRNOTAVAIL), E(ENETDOWN),	E(ENETUNREACH),
	E(ENETRESET),	 E(ECONNABORTED), E(ECONNRESET),    E(ENOBUFS),		E(EISCONN),
	E(ENOTCONN),	 E(ETIMEDOUT),	  E(ECONNREFUSED),  E(EHOSTDOWN),	E(EHOSTUNREACH),
	E(EALREADY),	 E(EINPROGRESS),
#undef E
};

static const char *errname(int err)
{
	static char num[16];
	size_t i;

	for (i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (errnames[i].err == err)
			return errnames[i].name;
	snprintf(num, sizeof(num), "%d", err);
	return num;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static int left_ms(long deadline)
{
	long left = deadline - now_ms();

	return left < 0 ? 0 : (int)left;
}

/* Print "what ADDR port PORT: reason" to stderr and return -err. */
static int report(const struct opts *o, const char *what, int err)
{
	fprintf(stderr, "netprobe: %s %s port %ld: %s\n", what, o->addr, o->port, strerror(err));
	return -err;
}

/* Wait for @events on @fd until @deadline: 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int n;

	do
		n = left_ms(deadline) ? poll(&pfd, 1, left_ms(deadline)) : 0;
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n ? 0 : -ETIMEDOUT;
}

/* Send all of @buf on a non-blocking socket before @deadline. */
static int send_all(int fd, const char *buf, size_t len, long deadline)
{
	ssize_t n;
	int ret;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (n < 0) {
			ret = wait_fd(fd, POLLOUT, deadline);
			if (ret)
				return ret;
			continue;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

static void put_clean(FILE *f, const char *p, size_t len, size_t max)
{
	size_t i;

	for (i = 0; i < len && i < max; i++)
		fputc(isprint((unsigned char)p[i]) ? p[i] : '.', f);
}

static void fmt_peer(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN + 16] = "?", port[8] = "?";

	getnameinfo((const struct sockaddr *)ss, sizeof(*ss), host, sizeof(host), port,
		    sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
	if (ss->ss_family == AF_INET6)
		snprintf(buf, size, "[%s]:%s", host, port);
	else
		snprintf(buf, size, "%s:%s", host, port);
}

/* Content-Length of the request whose headers end at hdr, or 0 */
static long content_length(const char *buf, size_t hdr)
{
	static const char name[] = "\r\ncontent-length:";
	size_t i, n = sizeof(name) - 1;

	for (i = 0; i + n <= hdr; i++)
		if (!strncasecmp(buf + i, name, n))
			return strtol(buf + i + n, NULL, 10);
	return 0;
}

/* Request complete: headers ended by CRLFCRLF, then Content-Length bytes. */
static int request_done(const char *buf, size_t len)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	size_t hdr;
	long body;

	if (!end)
		return 0;
	hdr = end + 4 - buf;
	body = content_length(buf, hdr);
	return body <= 0 || len >= hdr + (size_t)body;
}

/* reads and counts the body bytes that did not fit the buffer */
static size_t drain_body(int fd, size_t missing, long deadline)
{
	static char scratch[BUF_MAX];
	size_t got = 0;
	ssize_t n;

	while (got < missing) {
		long idle = now_ms() + IDLE_MS;

		if (wait_fd(fd, POLLIN, idle < deadline ? idle : deadline))
			break;
		n = recv(fd, scratch, sizeof(scratch), 0);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			break;
		got += n > 0 ? n : 0;
	}
	return got;
}

static int serve_conn(int fd, const struct sockaddr_storage *peer, long deadline)
{
	static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
				    "Connection: close\r\n\r\nok\n";
	static char buf[BUF_MAX + 1];
	const char *eol, *body, *end;
	char who[INET6_ADDRSTRLEN + 32];
	size_t len = 0, body_len;
	long want;
	ssize_t n;
	int ret;

	buf[0] = '\0';
	while (len < BUF_MAX && !request_done(buf, len)) {
		long idle = now_ms() + IDLE_MS;

		if (wait_fd(fd, POLLIN, idle < deadline ? idle : deadline))
			break;
		n = recv(fd, buf + len, BUF_MAX - len, 0);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			break; /* EOF, or a reset: show what arrived */
		len += n > 0 ? n : 0;
		buf[len] = '\0';
	}
	end = memmem(buf, len, "\r\n\r\n", 4);
	eol = memchr(buf, '\n', len);
	eol = eol ? eol : buf + len;
	body = end ? end + 4 : (eol < buf + len ? eol + 1 : buf + len);
	body_len = buf + len - body;
	want = end ? content_length(buf, end + 4 - buf) : 0;
	if (want > 0 && body_len < (size_t)want)
		body_len += drain_body(fd, want - body_len, deadline);
	fmt_peer(peer, who, sizeof(who));
	printf("received from %s: ", who);
	put_clean(stdout, buf, eol > buf && eol[-1] == '\r' ? eol - 1 - buf : eol - buf, 1024);
	printf(" body=");
	put_clean(stdout, body, buf + len - body, SHOW_MAX);
	printf(" len=%zu\n", body_len);
	fflush(stdout);

	ret = send_all(fd, reply, sizeof(reply) - 1, now_ms() + IDLE_MS);
	if (ret)
		fprintf(stderr, "netprobe: reply to %s: %s\n", who, strerror(-ret));
	return ret;
}

static int serve(const struct opts *o)
{
	int type = o->mode == SERVE_TCP ? SOCK_STREAM : SOCK_DGRAM, fd, cfd, ret = 0, one = 1;
	long deadline = now_ms() + o->timeout_ms, done = 0;
	char who[INET6_ADDRSTRLEN + 32];
	struct sockaddr_storage peer;
	static char buf[BUF_MAX];
	socklen_t plen;
	ssize_t n;

	fd = socket(o->dst.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return report(o, "socket for", errno);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))) {
		ret = report(o, "SO_REUSEADDR for", errno);
		goto out;
	}
	if (bind(fd, (struct sockaddr *)&o->dst, o->dst_len)) {
		ret = report(o, "bind to", errno);
		goto out;
	}
	if (type == SOCK_STREAM && listen(fd, 64)) {
		ret = report(o, "listen on", errno);
		goto out;
	}
	fprintf(stderr, "netprobe: listening on %s %s port %ld\n",
		type == SOCK_STREAM ? "tcp" : "udp", o->addr, o->port);

	/* each wait is bounded by the lifetime deadline, each pass by --count */
	while ((!o->count || done < o->count) && !wait_fd(fd, POLLIN, deadline)) {
		plen = sizeof(peer);
		if (type == SOCK_DGRAM) {
			n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen);
			if (n < 0)
				continue; /* EAGAIN, or an ICMP error queued for us */
			done++;
			fmt_peer(&peer, who, sizeof(who));
			printf("udp from %s len=%zd\n", who, n);
			fflush(stdout);
			if (sendto(fd, buf, n, 0, (struct sockaddr *)&peer, plen) < 0)
				fprintf(stderr, "netprobe: echo to %s: %s\n", who, strerror(errno));
			continue;
		}
		cfd = accept4(fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0 && (errno == ECONNABORTED || errno == EAGAIN || errno == EINTR))
			continue; /* gone before we got to it */
		if (cfd < 0) {
			ret = report(o, "accept on", errno);
			break;
		}
		done++;
		serve_conn(cfd, &peer, deadline);
		close(cfd);
	}
out:
	close(fd);
	return ret;
}

/* Read the reply until EOF or @deadline; keep its first line in @line. */
static int read_first_line(int fd, long deadline, char *line, size_t size)
{
	char buf[4096], sink[4096];
	size_t len = 0, i;
	ssize_t n;
	int ret = 0;

	for (;;) {
		if (!left_ms(deadline)) {
			ret = -ETIMEDOUT; /* a peer that never stops sending */
			break;
		}
		if (len < sizeof(buf))
			n = recv(fd, buf + len, sizeof(buf) - len, 0);
		else
			n = recv(fd, sink, sizeof(sink), 0);
		if (n == 0)
			break;
		if (n > 0) {
			len += len < sizeof(buf) ? (size_t)n : 0;
			continue;
		}
		if (errno == EINTR)
			continue;
		ret = errno == EAGAIN ? wait_fd(fd, POLLIN, deadline) : -errno;
		if (ret)
			break; /* keep what arrived before a timeout or reset */
	}
	if (!len)
		return ret ? ret : -ENODATA;
	for (i = 0; i < len && i < size - 1 && buf[i] != '\r' && buf[i] != '\n'; i++)
		line[i] = isprint((unsigned char)buf[i]) ? buf[i] : '.';
	line[i] = '\0';
	return 0;
}

/* Socket for the client modes: bound to --source, connect started. */
/* --wait-before-connect/--wait-before-send FILE: until FILE exists (bounded by the timeout) */
static int wait_for_file(const char *path, long deadline)
{
	while (access(path, F_OK)) {
		struct timespec ts = { .tv_nsec = 20 * 1000000L };

		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* --move-fd N: write our pid to the cgroup.procs file open as fd N (moves this process) */
static int move_self(const struct opts *o)
{
	char pid[24];
	int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());

	if (write(o->move_fd, pid, n) != n) {
		fprintf(stderr, "netprobe: moving into the cgroup of fd %ld: %s\n", o->move_fd,
			strerror(errno));
		return -errno;
	}
	return 0;
}

static int open_client(const struct opts *o, int type, int *fdp)
{
	int fd, ret = 0;

	/* a socket belongs to the cgroup it is created in: move before or after */
	if ((o->seen & O_MOVE_FD) && !(o->seen & O_MOVE_AFTER) && move_self(o))
		return -EIO;
	fd = socket(o->dst.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return report(o, "socket for", errno);
	if ((o->seen & O_MOVE_FD) && (o->seen & O_MOVE_AFTER) && move_self(o)) {
		close(fd);
		return -EIO;
	}
	if (o->wait_connect && wait_for_file(o->wait_connect, now_ms() + o->timeout_ms)) {
		close(fd);
		return report(o, "waiting to connect to", ETIMEDOUT);
	}
	if ((o->seen & O_SOURCE) && bind(fd, (struct sockaddr *)&o->src, o->src_len)) {
		ret = -errno;
		fprintf(stderr, "netprobe: bind to --source %s: %s\n", o->source, strerror(errno));
	} else if (type == SOCK_DGRAM && (o->seen & O_UNCONNECTED)) {
		; /* sendto() names the destination each time */
	} else if (connect(fd, (struct sockaddr *)&o->dst, o->dst_len) && errno != EINPROGRESS)
		ret = report(o, "connect to", errno);
	if (ret)
		close(fd);
	else
		*fdp = fd;
	return ret;
}

static int tcp_client(const struct opts *o, long deadline, char *result, size_t size)
{
	const char *lb = o->dst.ss_family == AF_INET6 ? "[" : "";
	const char *rb = o->dst.ss_family == AF_INET6 ? "]" : "";
	socklen_t elen = sizeof(int);
	char *req = NULL;
	int fd, ret, err = 0;

	ret = open_client(o, SOCK_STREAM, &fd);
	if (ret)
		return ret;
	ret = wait_fd(fd, POLLOUT, deadline);
	if (!ret)
		ret = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) ? -errno : -err;
	if (ret) {
		report(o, "connect to", -ret);
		goto out;
	}
	snprintf(result, size, "connected");
	if (!o->post)
		goto out;
	if (asprintf(&req,
		     "POST %s HTTP/1.1\r\nHost: %s%s%s\r\nContent-Type: text/plain\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		     o->path, lb, o->addr, rb, strlen(o->post), o->post) < 0) {
		req = NULL;
		ret = report(o, "building the request for", ENOMEM);
		goto out;
	}
	if (o->trickle_ms) {
		/* a byte every 200 ms for --trickle-ms, then the rest: a long-lived connection */
		long until = now_ms() + o->trickle_ms;
		size_t i = 0;

		while (!ret && now_ms() < until && i + 1 < strlen(req)) {
			struct timespec ts = { .tv_nsec = 200 * 1000000L };

			ret = send_all(fd, req + i++, 1, deadline);
			nanosleep(&ts, NULL);
		}
		if (!ret)
			ret = send_all(fd, req + i, strlen(req) - i, deadline);
	} else {
		ret = send_all(fd, req, strlen(req), deadline);
	}
	if (ret) {
		report(o, "sending the request to", -ret);
		goto out;
	}
	ret = read_first_line(fd, deadline, result, size);
	if (ret)
		report(o, "reading the response from", -ret);
out:
	free(req);
	close(fd);
	return ret;
}

static int udp_client(const struct opts *o, long deadline, char *result, size_t size)
{
	const char *payload = o->payload;
	size_t len;
	ssize_t n;
	int fd, ret;

	if (!payload)
		payload = o->port == 53 ? dns_query : "ping";
	len = payload == dns_query ? sizeof(dns_query) - 1 : strlen(payload);
	ret = open_client(o, SOCK_DGRAM, &fd);
	if (ret)
		return ret;
	if (o->wait_send && wait_for_file(o->wait_send, deadline)) {
		ret = report(o, "waiting to send to", ETIMEDOUT);
		goto out;
	}
	if (sendto(fd, payload, len, 0,
		   (o->seen & O_UNCONNECTED) ? (struct sockaddr *)&o->dst : NULL,
		   (o->seen & O_UNCONNECTED) ? o->dst_len : 0) < 0) {
		ret = report(o, "send to", errno);
		goto out;
	}
	ret = wait_fd(fd, POLLIN, deadline);
	if (!ret) {
		n = recv(fd, result, 0, MSG_TRUNC); /* the datagram's full length */
		ret = n < 0 ? -errno : 0;
		if (!ret)
			snprintf(result, size, "reply %zd bytes", n);
	}
	if (ret)
		report(o, "waiting for a reply from", -ret);
out:
	close(fd);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: netprobe serve tcp|udp ADDR PORT [--count N] [--timeout-ms T]\n"
		"       netprobe connect ADDR PORT [--timeout-ms T] [--post BODY | --post-bytes N] [--path /x]\n"
		"                [--source ADDR] [--trickle-ms T2]\n"
		"       netprobe udp ADDR PORT [--timeout-ms T] [--payload STR] [--source ADDR]\n"
		"                [--unconnected]   (sendto() instead of connect() + send())\n"
		"connect/udp: [--move-fd N [--move-after-socket]] writes our pid to the cgroup.procs\n"
		"open as fd N before creating the socket (or after it), to test socket identity.\n"
		"[--wait-before-connect FILE] (connect, udp) and [--wait-before-send FILE] (udp) hold\n"
		"the socket until FILE exists: to judge a socket made before an install.\n"
		"--trickle-ms T2 sends the request a byte every 200 ms for T2 ms, then the rest:\n"
		"a connection that lives on (T bounds it too).\n"
		"ADDR is IPv4 or IPv6. serve: exits 0 after N peers or T ms (default 30000).\n"
		"connect/udp: print 'ok <ms>ms ...' (exit 0) or 'fail <ms>ms ERRNAME' (exit 1);\n"
		"T defaults to 3000 and bounds the whole exchange. Usage errors exit 2.\n");
}

static int parse_num(const char *what, const char *s, long min, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	if (errno || end == s || *end || *out < min || *out > max) {
		fprintf(stderr, "netprobe: %s: bad number '%s' (want %ld..%ld)\n", what, s, min,
			max);
		return -EINVAL;
	}
	return 0;
}

static int parse_addr(const char *s, long port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (void *)ss;
	struct sockaddr_in6 *sin6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
	} else {
		fprintf(stderr, "netprobe: '%s' is not an IPv4 or IPv6 address\n", s);
		return -EINVAL;
	}
	return 0;
}

/* --post-bytes N: a body of N bytes of text, to move more than one segment */
static int post_bytes(const char *arg, struct opts *o)
{
	long n;
	char *body;

	if (parse_num("--post-bytes", arg, 1, 16 << 20, &n))
		return -EINVAL;
	body = malloc(n + 1);
	if (!body)
		return -ENOMEM;
	for (long i = 0; i < n; i++)
		body[i] = 'a' + i % 26;
	body[n] = '\0';
	o->post = body;
	return 0;
}

/* 0 to run, 1 for --help, -EINVAL for a usage error. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
		{ "count", required_argument, NULL, O_COUNT },
		{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
		{ "post", required_argument, NULL, O_POST },
		{ "post-bytes", required_argument, NULL, O_POST_BYTES },
		{ "unconnected", no_argument, NULL, O_UNCONNECTED },
		{ "move-fd", required_argument, NULL, O_MOVE_FD },
		{ "move-after-socket", no_argument, NULL, O_MOVE_AFTER },
		{ "wait-before-connect", required_argument, NULL, O_WAIT_CONNECT },
		{ "wait-before-send", required_argument, NULL, O_WAIT_SEND },
		{ "path", required_argument, NULL, O_PATH },
		{ "payload", required_argument, NULL, O_PAYLOAD },
		{ "source", required_argument, NULL, O_SOURCE },
		{ "trickle-ms", required_argument, NULL, O_TRICKLE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const unsigned int allowed[] = {
		[SERVE_TCP] = O_COUNT | O_TIMEOUT,
		[SERVE_UDP] = O_COUNT | O_TIMEOUT,
		[CONNECT] = O_TIMEOUT | O_POST | O_PATH | O_SOURCE | O_POST_BYTES | O_MOVE_FD |
			    O_MOVE_AFTER | O_WAIT_CONNECT | O_TRICKLE,
		[UDP] = O_TIMEOUT | O_PAYLOAD | O_SOURCE | O_UNCONNECTED | O_MOVE_FD |
			O_MOVE_AFTER | O_WAIT_CONNECT | O_WAIT_SEND,
	};
	const char *cmd;
	int c, pos, ret = 0;

	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		if (c != 'h' && c != '?')
			o->seen |= c;
		if (c == 'h')
			return 1;
		else if (c == O_COUNT)
			ret = parse_num("--count", optarg, 1, 1000000, &o->count);
		else if (c == O_TIMEOUT)
			ret = parse_num("--timeout-ms", optarg, 1, 86400000, &o->timeout_ms);
		else if (c == O_POST)
			o->post = optarg;
		else if (c == O_TRICKLE)
			ret = parse_num("--trickle-ms", optarg, 1, 60000, &o->trickle_ms);
		else if (c == O_WAIT_CONNECT)
			o->wait_connect = optarg;
		else if (c == O_WAIT_SEND)
			o->wait_send = optarg;
		else if (c == O_MOVE_FD)
			ret = parse_num("--move-fd", optarg, 0, 1023, &o->move_fd);
		else if (c == O_UNCONNECTED || c == O_MOVE_AFTER)
			;
		else if (c == O_POST_BYTES)
			ret = post_bytes(optarg, o);
		else if (c == O_PATH)
			o->path = optarg;
		else if (c == O_PAYLOAD)
			o->payload = optarg;
		else if (c == O_SOURCE)
			o->source = optarg;
		else
			return -EINVAL; /* getopt already said why */
		if (ret)
			return ret;
	}
	pos = optind;
	cmd = pos < argc ? argv[pos++] : "";
	if (!strcmp(cmd, "serve") && pos < argc && !strcmp(argv[pos], "tcp"))
		o->mode = SERVE_TCP;
	else if (!strcmp(cmd, "serve") && pos < argc && !strcmp(argv[pos], "udp"))
		o->mode = SERVE_UDP;
	else if (!strcmp(cmd, "connect"))
		o->mode = CONNECT;
	else if (!strcmp(cmd, "udp"))
		o->mode = UDP;
	else
		return -EINVAL;
	pos += o->mode == SERVE_TCP || o->mode == SERVE_UDP;
	if (argc - pos != 2 || (o->seen & ~allowed[o->mode])) {
		fprintf(stderr, "netprobe: %s takes ADDR PORT and only the options shown\n", cmd);
		return -EINVAL;
	}
	o->addr = argv[pos];
	if (parse_num("PORT", argv[pos + 1], 1, 65535, &o->port) ||
	    parse_addr(o->addr, o->port, &o->dst, &o->dst_len) ||
	    (o->source && parse_addr(o->source, 0, &o->src, &o->src_len)))
		return -EINVAL;
	if (o->source && o->src.ss_family != o->dst.ss_family) {
		fprintf(stderr, "netprobe: --source %s and %s are not the same family\n", o->source,
			o->addr);
		return -EINVAL;
	}
	if (!(o->seen & O_TIMEOUT))
		o->timeout_ms = o->mode == SERVE_TCP || o->mode == SERVE_UDP ? 30000 : 3000;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .path = "/" };
	char result[1024] = "";
	long start = now_ms();
	int ret;

	ret = parse_args(argc, argv, &o);
	if (ret) {
		usage(ret > 0 ? stdout : stderr);
		return ret > 0 ? 0 : 2;
	}
	if (o.mode == SERVE_TCP || o.mode == SERVE_UDP)
		return serve(&o) ? 1 : 0;
	if (o.mode == CONNECT)
		ret = tcp_client(&o, start + o.timeout_ms, result, sizeof(result));
	else
		ret = udp_client(&o, start + o.timeout_ms, result, sizeof(result));
	if (ret)
		printf("fail %ldms %s\n", now_ms() - start, errname(-ret));
	else
		printf("ok %ldms %s\n", now_ms() - start, result);
	return ret ? 1 : 0;
}
