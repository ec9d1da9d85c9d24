/* events.c: ironclaw-pipe log: the denials from the instance's ring buffer, as lines or JSON. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <netinet/in.h>
#include "event.h"
#include "events.h"
#include "json.h"
#include "links.h"
#include "pins.h"
#include "state.h"
#include "status.h"
#include "text.h"
#include "reasons.h"

#define CGROUP_CACHE 64

/* one suggested rule: what audit mode let through, and how often */
struct suggestion {
	__u8 l4proto, family;
	__be16 dport;
	__u8 daddr[16];
	__u64 tool;
	__u64 count;
};

#define MAX_SUGGESTIONS 4096

struct log_ctx {
	FILE *out;
	const char *name; /* the instance */
	bool json;
	bool suggest; /* collect would-deny events instead of printing them */
	struct suggestion *sugg;
	size_t nr_sugg;
	long long mono_to_real_ns; /* add to a CLOCK_MONOTONIC time for the wall clock */
	char stages[STAGE_MAX_SLOTS][STAGE_NAME_LEN];
	struct {
		__u64 id;
		char path[CGROUP_PATH_MAX];
	} cg[CGROUP_CACHE];
	int nr_cg;
	char mnt[256];
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* nftw has no context argument: the search it serves */
static __u64 find_id;
static char find_path[CGROUP_PATH_MAX];

static int match_cgroup(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	__u64 id;

	(void)sb;
	(void)ftw;
	if (flag == FTW_D && !cgroup_id(path, &id) && id == find_id) {
		snprintf(find_path, sizeof(find_path), "%s", path);
		return 1;
	}
	return 0;
}

/* the cgroup's path below the cgroup v2 mount, found once and kept */
static const char *cgroup_path(struct log_ctx *lc, __u64 id)
{
	int i;

	if (!id)
		return "-";
	for (i = 0; i < lc->nr_cg; i++)
		if (lc->cg[i].id == id)
			return lc->cg[i].path;
	find_id = id;
	snprintf(find_path, sizeof(find_path), "cgroup-id:%llu", (unsigned long long)id);
	if (lc->mnt[0])
		nftw(lc->mnt, match_cgroup, 16, FTW_PHYS);
	if (lc->nr_cg == CGROUP_CACHE)
		lc->nr_cg = 0;
	i = lc->nr_cg++;
	lc->cg[i].id = id;
	if (!strncmp(find_path, lc->mnt, strlen(lc->mnt)))
		snprintf(lc->cg[i].path, sizeof(lc->cg[i].path), "/%s",
			 find_path + strlen(lc->mnt) + (find_path[strlen(lc->mnt)] == '/'));
	else
		snprintf(lc->cg[i].path, sizeof(lc->cg[i].path), "%s", find_path);
	return lc->cg[i].path;
}

static void endpoint(char *buf, size_t len, __u8 family, const __u8 *addr, __be16 port)
{
	char a[INET6_ADDRSTRLEN] = "-";

	if (!family) {
		snprintf(buf, len, "-");
		return;
	}
	inet_ntop(family, addr, a, sizeof(a));
	if (family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, ntohs(port));
	else
		snprintf(buf, len, "%s:%u", a, ntohs(port));
}

/* a would-deny event with a destination becomes (or counts for) a suggested rule */
static void collect(struct log_ctx *lc, const struct deny_event *e)
{
	struct suggestion *g;

	if (!e->audit || !e->family || (e->l4proto != IPPROTO_TCP && e->l4proto != IPPROTO_UDP) ||
	    !e->dport)
		return;
	for (size_t i = 0; i < lc->nr_sugg; i++) {
		g = &lc->sugg[i];
		if (g->l4proto == e->l4proto && g->family == e->family && g->dport == e->dport &&
		    g->tool == e->tool && !memcmp(g->daddr, e->daddr, sizeof(g->daddr))) {
			g->count++;
			return;
		}
	}
	if (lc->nr_sugg == MAX_SUGGESTIONS)
		return;
	g = &lc->sugg[lc->nr_sugg++];
	g->l4proto = e->l4proto;
	g->family = e->family;
	g->dport = e->dport;
	g->tool = e->tool;
	g->count = 1;
	memcpy(g->daddr, e->daddr, sizeof(g->daddr));
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct log_ctx *lc = ctx;
	const struct deny_event *e = data;
	char when[64], stamp[80], src[64], dst[64], comm[17] = "", stage[32];
	long long real = (long long)e->ts_ns + lc->mono_to_real_ns;
	time_t secs = real / 1000000000LL;
	const char *verdict = e->audit ? "would-deny" : "deny";
	const char *proto = e->l4proto == IPPROTO_TCP ? "tcp" :
			    e->l4proto == IPPROTO_UDP ? "udp" :
			    e->family		      ? "other" :
							"-";
	struct tm tm;

	if (size < sizeof(*e))
		return 0;
	if (lc->suggest) {
		collect(lc, e);
		return 0;
	}
	/* a stage installed after log started: read the slots again */
	if (e->slot && e->slot < STAGE_MAX_SLOTS && !lc->stages[e->slot][0])
		status_stage_names(lc->name, lc->stages);
	if (!e->slot)
		snprintf(stage, sizeof(stage), "dispatcher");
	else if (e->slot < STAGE_MAX_SLOTS && lc->stages[e->slot][0])
		snprintf(stage, sizeof(stage), "%s", lc->stages[e->slot]);
	else
		snprintf(stage, sizeof(stage), "slot %u", e->slot);
	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	/* a connect() or sendto() has no source yet */
	endpoint(src, sizeof(src), hook_at_sock(e->hook) ? 0 : e->family, e->saddr, e->sport);
	endpoint(dst, sizeof(dst), e->family, e->daddr, e->dport);
	memcpy(comm, e->comm, sizeof(e->comm));
	if (lc->json) {
		struct json j;

		snprintf(stamp, sizeof(stamp), "%s.%03lldZ", when, (real / 1000000) % 1000);
		json_init(&j, lc->out);
		json_object(&j, NULL);
		json_str(&j, "time", stamp);
		json_str(&j, "instance", lc->name);
		json_str(&j, "hook", hook_label(e->hook));
		json_str(&j, "cgroup", cgroup_path(lc, e->cgroup));
		json_str(&j, "tool", e->tool ? cgroup_path(lc, e->tool) : "");
		json_u64(&j, "pid", e->pid);
		json_str(&j, "comm", comm);
		json_u64(&j, "family", e->family == AF_INET6 ? 6 : e->family ? 4 : 0);
		json_str(&j, "protocol", proto);
		json_str(&j, "source", src);
		json_str(&j, "destination", dst);
		json_str(&j, "stage", stage);
		json_str(&j, "reason", reason_name(e->reason));
		json_str(&j, "verdict", verdict);
		json_end(&j);
	} else {
		fprintf(lc->out, "%s.%03lldZ %-10s %-14s %-5s %-22s -> %-24s %s/%s ", when,
			(real / 1000000) % 1000, verdict, reason_name(e->reason), proto, src, dst,
			hook_label(e->hook), stage);
		fprintf(lc->out, "cgroup ");
		text_plain(lc->out, cgroup_path(lc, e->cgroup));
		if (e->tool && e->tool != e->cgroup) {
			fprintf(lc->out, " tool ");
			text_plain(lc->out, cgroup_path(lc, e->tool));
		}
		if (e->pid) {
			fprintf(lc->out, " pid %u ", e->pid);
			text_plain(lc->out, comm);
		}
		fprintf(lc->out, "\n");
	}
	fflush(lc->out);
	return 0;
}

/* the pinned ring buffer's id, 0 when the instance is gone */
static __u32 events_map_id(const char *name)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = pins_get(name, "events");

	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.id = 0;
	close(fd);
	return info.id;
}

/* on stderr: the JSON lines on stdout stay one shape */
static void print_drops(const char *name)
{
	__u64 drops[EVENT_DROP_MAX] = {};

	status_event_drops(name, drops);
	fprintf(stderr, "events dropped so far: %llu (buffer full), %llu (rate limit)\n",
		(unsigned long long)drops[EVENT_DROP_FULL],
		(unsigned long long)drops[EVENT_DROP_RATE]);
}

/* the reader of an instance's ring buffer: what is there, then (follow) what comes */
static int read_events(const char *name, bool follow, struct log_ctx *lc, struct diag *d)
{
	struct ring_buffer *rb = NULL;
	struct timespec mono, real;
	int fd = -1, lfd = -1, err = 0;
	__u32 map_id;

	map_id = events_map_id(name);
	if (!map_id) {
		diag_error(d, NULL, 0, "no instance '%s' installed", name);
		return -ENOENT;
	}
	/* a ring buffer has one read position: a second reader would split the stream */
	lfd = state_lock(name, STATE_LOG_LOCK, false, d);
	if (lfd == -EWOULDBLOCK) {
		err = -EBUSY;
		diag_error(d, NULL, 0,
			   "another 'ironclaw-pipe log' or 'suggest' is reading instance '%s': "
			   "a ring buffer has one reader, which would split the events with you",
			   name);
		goto out;
	}
	if (lfd < 0) {
		err = lfd;
		goto out;
	}
	fd = pins_get(name, "events");
	if (fd < 0) {
		err = fd;
		diag_error(d, NULL, 0, "no instance '%s' installed", name);
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	lc->mono_to_real_ns =
		(real.tv_sec - mono.tv_sec) * 1000000000LL + (real.tv_nsec - mono.tv_nsec);
	status_stage_names(name, lc->stages);
	if (cgroup2_mount(lc->mnt, sizeof(lc->mnt)))
		lc->mnt[0] = '\0';
	rb = ring_buffer__new(fd, handle_event, lc, NULL);
	if (!rb) {
		err = -errno;
		diag_error(d, NULL, 0, "cannot read the events of '%s': %s", name, strerror(errno));
		goto out;
	}
	/* what arrived while nobody read: the buffer keeps it (1 MiB, about 10,900 events) */
	ring_buffer__consume(rb);
	if (follow) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		while (!stop) {
			int n = ring_buffer__poll(rb, 200);

			if (n < 0 && n != -EINTR) {
				err = n;
				break;
			}
			/* uninstalled, or installed anew: this buffer gets nothing any more */
			if (n == 0 && events_map_id(name) != map_id) {
				diag_error(d, NULL, 0, "instance '%s' was uninstalled or replaced",
					   name);
				err = -ENOENT;
				break;
			}
		}
	}
	print_drops(name);
out:
	ring_buffer__free(rb);
	if (fd >= 0)
		close(fd);
	if (lfd >= 0)
		close(lfd);
	return err;
}

int events_log(const char *name, bool follow, bool json, FILE *out, struct diag *d)
{
	struct log_ctx *lc = calloc(1, sizeof(*lc));
	int err;

	if (!lc)
		return -ENOMEM;
	lc->out = out;
	lc->name = name;
	lc->json = json;
	err = read_events(name, follow, lc, d);
	free(lc);
	return err;
}

/* the last component of a cgroup path: a tool is a directory right below the sandbox's */
static const char *tool_name(struct log_ctx *lc, __u64 tool)
{
	const char *path = cgroup_path(lc, tool), *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

int events_suggest(const char *name, FILE *out, struct diag *d)
{
	struct log_ctx *lc = calloc(1, sizeof(*lc));
	__u64 total = 0;
	int err;

	if (!lc)
		return -ENOMEM;
	lc->out = out;
	lc->name = name;
	lc->suggest = true;
	lc->sugg = calloc(MAX_SUGGESTIONS, sizeof(*lc->sugg));
	err = lc->sugg ? read_events(name, false, lc, d) : -ENOMEM;
	for (size_t i = 0; !err && i < lc->nr_sugg; i++)
		total += lc->sugg[i].count;
	if (!err)
		fprintf(out,
			"# %zu rules from %llu would-deny events of instance '%s'; review them\n",
			lc->nr_sugg, (unsigned long long)total, name);
	for (size_t i = 0; !err && i < lc->nr_sugg; i++) {
		const struct suggestion *g = &lc->sugg[i];
		char a[INET6_ADDRSTRLEN];

		inet_ntop(g->family, g->daddr, a, sizeof(a));
		fprintf(out, "allow %s %s port %u", g->l4proto == IPPROTO_TCP ? "tcp" : "udp", a,
			ntohs(g->dport));
		if (g->tool) {
			fprintf(out, " tool ");
			text_plain(out, tool_name(lc, g->tool));
		}
		fprintf(out, "  # %llu would-deny\n", (unsigned long long)g->count);
	}
	free(lc->sugg);
	free(lc);
	return err;
}
