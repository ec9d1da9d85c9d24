/* collect.c: the event collector: every instance's ring buffer drained into its journal, metrics served. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include "collect.h"
#include "events.h"
#include "journal.h"
#include "journald.h"
#include "metrics.h"
#include "state.h"
#include "status.h"

#define COLLECT_MAX 64
#define TEXTFILE_EVERY_S 5

struct tracked {
	char name[INSTANCE_NAME_MAX];
	struct ring_reader *rr;
	struct journal_writer w;
	__u64 drops[EVENT_DROP_MAX];
	__u32 map_id;
	bool busy_said; /* "another reader has it", said once */
	int errors; /* appends that failed */
	int journald_errors; /* entries journald did not take */
	bool journald;
};

struct collector {
	const struct collect_opts *o;
	struct tracked t[COLLECT_MAX];
	int epfd, lfd;
	bool done; /* --until-uninstalled, and the instance is gone */
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* journald's answer: a failure said once (journald may be stopped, or not run here) */
static void journald_said(struct tracked *t, int err)
{
	if (err && !t->journald_errors++)
		fprintf(stderr,
			"collect: instance '%s': cannot send events to journald: %s; they are "
			"kept in the journal of the instance only (said once)\n",
			t->name, strerror(-err));
}

/* an event into the journal, its names resolved now (the cgroups may be gone when it is read) */
static int journal_event(void *ctx, const struct event_view *v)
{
	struct tracked *t = ctx;
	struct journal_buf b = {};

	journal_buf_put(&b, &v->e, sizeof(v->e));
	journal_buf_field(&b, JF_CGROUP, v->cgroup, strlen(v->cgroup));
	if (v->tool[0])
		journal_buf_field(&b, JF_TOOL, v->tool, strlen(v->tool));
	journal_buf_field(&b, JF_STAGE, v->stage, strlen(v->stage));
	if (v->qname)
		journal_buf_field(&b, JF_QNAME, v->qname, v->qname_len);
	if (v->rule && v->rule[0])
		journal_buf_field(&b, JF_RULE, v->rule, strlen(v->rule));
	if (v->dest_name && v->dest_name[0])
		journal_buf_field(&b, JF_DEST_NAME, v->dest_name, strlen(v->dest_name));
	if (journal_append(&t->w, v->e.kind == EVENT_DENY ? JREC_EVENT : JREC_FLOW, v->time_ns,
			   b.data, b.len) &&
	    !t->errors++)
		fprintf(stderr, "collect: instance '%s': cannot write its journal: %s\n", t->name,
			strerror(errno));
	if (t->journald)
		journald_said(t, journald_event(t->name, v));
	return 0;
}

static void put_drops(struct tracked *t, __u8 kind, const __u64 *missed)
{
	struct journal_drops dr = {
		.full = t->drops[EVENT_DROP_FULL],
		.rate = t->drops[EVENT_DROP_RATE],
		.map_id = t->map_id,
	};

	if (missed) {
		dr.missed_full = missed[EVENT_DROP_FULL];
		dr.missed_rate = missed[EVENT_DROP_RATE];
	}
	journal_append(&t->w, kind, now_ns(), &dr, sizeof(dr));
}

static void untrack(struct collector *c, struct tracked *t)
{
	if (t->rr)
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, ring_reader_fd(t->rr), NULL);
	ring_reader_close(t->rr);
	journal_close_write(&t->w);
	memset(t, 0, sizeof(*t));
	t->w.fd = t->w.dirfd = -1;
}

/* the instance's ring buffer taken, its journal opened, and what was missed said */
static int track(struct collector *c, struct tracked *t, const char *name)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct journal_recovery rec;
	char path[STATE_PATH_MAX];
	__u64 missed[EVENT_DROP_MAX] = {};
	struct diag d = {};
	int err;

	snprintf(t->name, sizeof(t->name), "%s", name);
	err = ring_reader_open(t->name, journal_event, t, &t->rr, &d);
	if (err == -EBUSY) {
		if (!t->busy_said)
			fprintf(stderr,
				"collect: instance '%s': another reader ('log', 'suggest' or a "
				"collector) holds its ring buffer; trying again\n",
				name);
		t->busy_said = true;
		diag_free(&d);
		return err;
	}
	if (!err)
		err = state_data_dir_ensure(t->name, &d);
	if (!err)
		err = state_journal_path(path, sizeof(path), t->name);
	if (!err)
		err = journal_open_write(&t->w, path, c->o->journal_max, &rec, &d);
	if (err) {
		diag_print(&d, stderr);
		diag_free(&d);
		ring_reader_close(t->rr);
		t->rr = NULL;
		return err;
	}
	t->busy_said = false;
	t->map_id = ring_reader_map_id(t->rr);
	status_event_drops(t->name, t->drops);
	/* what the buffer dropped since the last record: while no collector ran */
	for (int k = 0; k < EVENT_DROP_MAX; k++) {
		__u64 before = !rec.have_drops || rec.drops.map_id != t->map_id ? 0 :
			       k == EVENT_DROP_FULL				? rec.drops.full :
										  rec.drops.rate;

		missed[k] = t->drops[k] > before ? t->drops[k] - before : 0;
	}
	if (rec.cut_bytes)
		fprintf(stderr,
			"collect: instance '%s': cut %llu bytes of a torn record at the end of its "
			"journal\n",
			name, (unsigned long long)rec.cut_bytes);
	fprintf(stderr,
		"collect: instance '%s': collecting into %s; missed while no collector ran: %llu "
		"events (buffer full), %llu (rate limit)\n",
		name, path, (unsigned long long)missed[EVENT_DROP_FULL],
		(unsigned long long)missed[EVENT_DROP_RATE]);
	put_drops(t, JREC_START, missed);
	t->journald = c->o->journald;
	if (t->journald && (missed[EVENT_DROP_FULL] || missed[EVENT_DROP_RATE]))
		journald_said(
			t, journald_missed(name, missed[EVENT_DROP_FULL], missed[EVENT_DROP_RATE]));
	ev.data.ptr = t;
	epoll_ctl(c->epfd, EPOLL_CTL_ADD, ring_reader_fd(t->rr), &ev);
	/* what waited in the buffer */
	ring_reader_consume(t->rr);
	journal_sync(&t->w);
	return 0;
}

static struct tracked *find(struct collector *c, const char *name)
{
	for (int i = 0; i < COLLECT_MAX; i++)
		if (c->t[i].rr && !strcmp(c->t[i].name, name))
			return &c->t[i];
	return NULL;
}

static void follow_one(struct collector *c, const char *instance)
{
	char name[INSTANCE_NAME_MAX];
	struct tracked *t;
	__u32 id;

	/* a copy: instance may be the name of the slot untrack() clears */
	snprintf(name, sizeof(name), "%s", instance);
	t = find(c, name);
	id = events_map_id(name);

	if (t && t->map_id != id) {
		fprintf(stderr, "collect: instance '%s' was %s\n", name,
			id ? "installed anew" : "uninstalled");
		untrack(c, t);
		t = NULL;
	}
	if (t || !id)
		return;
	/* a slot that tried this name before keeps what it said */
	for (int i = 0; i < COLLECT_MAX && !t; i++)
		if (!c->t[i].rr && !strcmp(c->t[i].name, name))
			t = &c->t[i];
	for (int i = 0; i < COLLECT_MAX && !t; i++)
		if (!c->t[i].rr && !c->t[i].name[0])
			t = &c->t[i];
	if (t)
		track(c, t, name);
}

/* the instances now: every directory of pins (or the one named) */
static void rescan(struct collector *c)
{
	char root[STATE_PATH_MAX];
	struct dirent *de;
	DIR *dd;

	for (int i = 0; i < COLLECT_MAX; i++)
		if (c->t[i].rr)
			follow_one(c, c->t[i].name); /* gone, or replaced */
	if (c->o->name) {
		follow_one(c, c->o->name);
		if (c->o->until_uninstalled && !events_map_id(c->o->name)) {
			fprintf(stderr, "collect: instance '%s' is not installed: done\n",
				c->o->name);
			c->done = true;
		}
		return;
	}
	state_pin_root(root, sizeof(root));
	dd = opendir(root);
	while (dd && (de = readdir(dd)))
		if (de->d_name[0] != '.' && instance_name_valid(de->d_name))
			follow_one(c, de->d_name);
	if (dd)
		closedir(dd);
}

/* each second: drop counters that moved are recorded, the journals synced */
static void tick(struct collector *c)
{
	for (int i = 0; i < COLLECT_MAX; i++) {
		struct tracked *t = &c->t[i];
		__u64 d[EVENT_DROP_MAX] = {};

		if (!t->rr)
			continue;
		status_event_drops(t->name, d);
		if (memcmp(d, t->drops, sizeof(d))) {
			memcpy(t->drops, d, sizeof(d));
			put_drops(t, JREC_DROPS, NULL);
		}
		journal_sync(&t->w);
	}
}

static int names_of(struct collector *c, const char **names)
{
	int n = 0;

	for (int i = 0; i < COLLECT_MAX; i++)
		if (c->t[i].rr)
			names[n++] = c->t[i].name;
	return n;
}

static int parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon = strrchr(spec, ':');
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	unsigned long port;
	char *end;

	if (!colon || (size_t)(colon - spec) >= sizeof(host))
		return -EINVAL;
	port = strtoul(colon + 1, &end, 10);
	if (*end || !colon[1] || !port || port > 65535)
		return -EINVAL;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		host[strlen(host) - 1] = '\0';
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*len = sizeof(*in6);
		return inet_pton(AF_INET6, host + 1, &in6->sin6_addr) == 1 ? 0 : -EINVAL;
	}
	in4->sin_family = AF_INET;
	in4->sin_port = htons(port);
	*len = sizeof(*in4);
	return inet_pton(AF_INET, host, &in4->sin_addr) == 1 ? 0 : -EINVAL;
}

int collect_listen_check(const char *spec, bool remote)
{
	struct sockaddr_storage ss;
	socklen_t len;
	bool loop;

	if (parse_listen(spec, &ss, &len))
		return -EINVAL;
	if (ss.ss_family == AF_INET)
		loop = (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
	else
		loop = IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr);
	return loop || remote ? 0 : -EPERM;
}

static int listen_on(const char *spec, struct diag *d)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	parse_listen(spec, &ss, &len);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 16)) {
		int err = -errno;

		diag_error(d, NULL, 0, "cannot listen on %s: %s", spec, strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	return fd;
}

/* one HTTP/1.0 request: GET /metrics gets the metrics, anything else 404 or 405 */
static void serve(struct collector *c)
{
	const char *names[COLLECT_MAX];
	struct timeval tv = { 2, 0 };
	char req[2048], *body = NULL;
	size_t got = 0, blen = 0;
	struct diag d = {};
	FILE *mem;
	int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (got < sizeof(req) - 1) {
		ssize_t n = read(fd, req + got, sizeof(req) - 1 - got);

		if (n <= 0)
			break;
		got += n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[got] = '\0';
	mem = open_memstream(&body, &blen);
	if (!mem) {
		close(fd);
		return;
	}
	if (strncmp(req, "GET ", 4)) {
		fprintf(mem, "HTTP/1.0 405 Method Not Allowed\r\nAllow: GET\r\n"
			     "Content-Length: 0\r\n\r\n");
	} else if (strncmp(req + 4, "/metrics ", 9) && strncmp(req + 4, "/metrics\r", 9)) {
		fprintf(mem, "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n"
			     "Content-Length: 22\r\n\r\nonly GET /metrics here\n");
	} else {
		char *m = NULL;
		size_t mlen = 0;
		FILE *mf = open_memstream(&m, &mlen);

		if (mf) {
			metrics_write(mf, names, names_of(c, names), c->o->per_rule, &d);
			fclose(mf);
		}
		fprintf(mem,
			"HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4; "
			"charset=utf-8\r\nContent-Length: %zu\r\n\r\n",
			mlen);
		if (m)
			fwrite(m, 1, mlen, mem);
		free(m);
	}
	fclose(mem);
	for (size_t off = 0; body && off < blen;) {
		ssize_t n = write(fd, body + off, blen - off);

		if (n <= 0)
			break;
		off += n;
	}
	free(body);
	diag_free(&d);
	close(fd);
}

static void textfile(struct collector *c)
{
	const char *names[COLLECT_MAX];
	struct diag d = {};

	metrics_write_file(c->o->textfile, names, names_of(c, names), c->o->per_rule, &d);
	diag_print(&d, stderr);
	diag_free(&d);
}

int collect_run(const struct collect_opts *o, struct diag *d)
{
	struct collector *c = calloc(1, sizeof(*c));
	struct epoll_event ev = { .events = EPOLLIN };
	time_t last_tick = 0, last_text = 0;
	int err = 0;

	if (!c)
		return -ENOMEM;
	c->o = o;
	c->lfd = -1;
	for (int i = 0; i < COLLECT_MAX; i++)
		c->t[i].w.fd = c->t[i].w.dirfd = -1;
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->epfd < 0) {
		err = -errno;
		goto out;
	}
	if (o->listen) {
		c->lfd = listen_on(o->listen, d);
		if (c->lfd < 0) {
			err = c->lfd;
			goto out;
		}
		ev.data.ptr = NULL;
		epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->lfd, &ev);
		fprintf(stderr, "collect: metrics on http://%s/metrics\n", o->listen);
	}
	events_stop_on_signals();
	rescan(c);
	while (!events_stop && !c->done) {
		struct epoll_event evs[16];
		struct timespec mono;
		int n = epoll_wait(c->epfd, evs, 16, 250);

		if (n < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		for (int i = 0; i < n; i++) {
			struct tracked *t = evs[i].data.ptr;

			if (!t)
				serve(c);
			else if (t->rr)
				ring_reader_consume(t->rr);
		}
		clock_gettime(CLOCK_MONOTONIC, &mono);
		if (mono.tv_sec != last_tick) {
			last_tick = mono.tv_sec;
			rescan(c);
			tick(c);
		}
		if (o->textfile && mono.tv_sec - last_text >= TEXTFILE_EVERY_S) {
			last_text = mono.tv_sec;
			textfile(c);
		}
	}
	/* the last of what waits, then the drop counters as they are */
	for (int i = 0; i < COLLECT_MAX; i++)
		if (c->t[i].rr)
			ring_reader_consume(c->t[i].rr);
	tick(c);
out:
	for (int i = 0; i < COLLECT_MAX; i++)
		if (c->t[i].rr)
			untrack(c, &c->t[i]);
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->epfd >= 0)
		close(c->epfd);
	free(c);
	return err;
}

/* the pid holding the flock of path, from /proc/locks; 0 when none */
static pid_t flock_holder(const char *path)
{
	unsigned int maj, min;
	unsigned long ino;
	struct stat sb;
	char line[256];
	pid_t pid = 0;
	FILE *f;

	if (stat(path, &sb))
		return 0;
	f = fopen("/proc/locks", "re");
	while (f && !pid && fgets(line, sizeof(line), f)) {
		int p;

		/* "1: FLOCK  ADVISORY  WRITE 321 fe:00:1234 0 EOF"; waiters have "->" */
		if (sscanf(line, "%*d: FLOCK %*s WRITE %d %x:%x:%lu", &p, &maj, &min, &ino) == 4 &&
		    makedev(maj, min) == sb.st_dev && ino == sb.st_ino)
			pid = p;
	}
	if (f)
		fclose(f);
	return pid;
}

int collect_start(const char *name, bool journald, pid_t *pid, struct diag *d)
{
	char path[STATE_PATH_MAX], nm[INSTANCE_NAME_MAX];
	char *argv[] = { "ironclaw-pipe",
			 "collect",
			 "--name",
			 nm,
			 "--until-uninstalled",
			 journald ? "--journald" : NULL,
			 NULL };
	pid_t child;
	int err;

	snprintf(nm, sizeof(nm), "%s", name);
	if (!events_map_id(name))
		return -ENOENT;
	err = state_path(path, sizeof(path), name, STATE_LOG_LOCK);
	if (err)
		return err;
	*pid = flock_holder(path);
	if (*pid)
		return -EALREADY;
	child = fork();
	if (child < 0) {
		err = -errno;
		diag_error(d, NULL, 0, "cannot start a collector for instance '%s': %s", name,
			   strerror(-err));
		return err;
	}
	if (!child) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		/*
		 * Its own session, holding nothing of the caller's: no terminal, no
		 * pipe a caller's $(...) would wait on, no lock. Its stderr is kept
		 * where it is systemd's journal stream (JOURNAL_STREAM); what it says
		 * otherwise, its journal keeps too (JREC_START: what was missed).
		 */
		setsid();
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			if (!getenv("JOURNAL_STREAM"))
				dup2(null, 2);
		}
		close_range(3, ~0u, 0);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	/* started when it holds the ring buffer; the reader's lock says so */
	for (int i = 0; i < 50; i++) {
		int status;

		if (flock_holder(path) == child) {
			*pid = child;
			return 0;
		}
		if (waitpid(child, &status, WNOHANG) == child) {
			diag_error(d, NULL, 0,
				   "the collector of instance '%s' ended at once (status %d): run "
				   "'ironclaw-pipe collect --name %s' to see why",
				   name, WIFEXITED(status) ? WEXITSTATUS(status) : 128, name);
			return -ECHILD;
		}
		usleep(100 * 1000);
	}
	*pid = child;
	diag_error(d, NULL, 0,
		   "the collector of instance '%s' (pid %d) does not hold its ring buffer after "
		   "5 s: another reader may have it",
		   name, (int)child);
	return -ETIMEDOUT;
}
