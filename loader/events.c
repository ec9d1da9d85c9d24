/* events.c: the denials in an instance's ring buffer: read as they come, shown, or turned into rules. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cgroup.h"
#include "event.h"
#include "event_names.h"
#include "events.h"
#include "pins.h"
#include "reason.h"
#include "state.h"
#include "status.h"

#define CGROUP_CACHE 64

struct ring_reader {
	const char *name; /* the instance */
	ring_event_fn fn;
	void *ctx;
	struct ring_buffer *rb;
	int map_fd, lock_fd;
	__u32 map_id;
	long long mono_to_real_ns; /* add to a CLOCK_MONOTONIC time for the wall clock */
	char stages[STAGE_MAX_SLOTS][STAGE_NAME_LEN];
	struct {
		__u64 id;
		char path[CGROUP_PATH_MAX];
	} cg[CGROUP_CACHE];
	int nr_cg;
	char mnt[256];
	struct event_names names; /* rules' file:line, learned hosts */
};

volatile int events_stop;

static void on_signal(int sig)
{
	(void)sig;
	events_stop = 1;
}

void events_stop_on_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
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
static const char *cgroup_path(struct ring_reader *r, __u64 id)
{
	size_t ml = strlen(r->mnt);
	int i;

	if (!id)
		return "-";
	for (i = 0; i < r->nr_cg; i++)
		if (r->cg[i].id == id)
			return r->cg[i].path;
	find_id = id;
	snprintf(find_path, sizeof(find_path), "cgroup-id:%llu", (unsigned long long)id);
	if (r->mnt[0])
		nftw(r->mnt, match_cgroup, 16, FTW_PHYS);
	if (r->nr_cg == CGROUP_CACHE)
		r->nr_cg = 0;
	i = r->nr_cg++;
	r->cg[i].id = id;
	if (ml && !strncmp(find_path, r->mnt, ml))
		snprintf(r->cg[i].path, sizeof(r->cg[i].path), "/%s",
			 find_path + ml + (find_path[ml] == '/'));
	else
		snprintf(r->cg[i].path, sizeof(r->cg[i].path), "%s", find_path);
	return r->cg[i].path;
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct ring_reader *r = ctx;
	struct event_view v = {};
	char stage[STAGE_NAME_LEN + 16], tool[CGROUP_PATH_MAX];
	const struct deny_event *e = data;
	const struct event_named *ext = data;

	if (size < sizeof(*e))
		return 0;
	v.e = *e;
	v.rule = "";
	v.dest_name = "";
	/* a stage's record has a tail: the allowing rule, and the question's name */
	if (size >= sizeof(struct event_flow)) {
		if (ext->t.rule)
			v.rule = event_names_rule(&r->names, ext->t.rule - 1);
		if (ext->t.name_len && size >= sizeof(struct event_named)) {
			v.qname = ext->name;
			v.qname_len =
				ext->t.name_len < EVENT_NAME_MAX ? ext->t.name_len : EVENT_NAME_MAX;
		}
	}
	/* a server name denied: the names the address was learned for too */
	if (e->family && (!v.qname || e->reason == REASON_SNI))
		v.dest_name = event_names_dest(&r->names, e->family, e->daddr);
	v.time_ns = (__u64)((long long)e->ts_ns + r->mono_to_real_ns);
	/* a stage installed after the reader began: read the slots again */
	if (e->slot && e->slot < STAGE_MAX_SLOTS && !r->stages[e->slot][0])
		status_stage_names(r->name, r->stages);
	if (!e->slot)
		snprintf(stage, sizeof(stage), "dispatcher");
	else if (e->slot < STAGE_MAX_SLOTS && r->stages[e->slot][0])
		snprintf(stage, sizeof(stage), "%s", r->stages[e->slot]);
	else
		snprintf(stage, sizeof(stage), "slot %u", e->slot);
	/* the cache may move the tool's entry: copied before the cgroup's lookup */
	snprintf(tool, sizeof(tool), "%s", e->tool ? cgroup_path(r, e->tool) : "");
	v.tool = tool;
	v.cgroup = cgroup_path(r, e->cgroup);
	v.stage = stage;
	return r->fn(r->ctx, &v);
}

__u32 events_map_id(const char *name)
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

int ring_reader_open(const char *name, ring_event_fn fn, void *ctx, struct ring_reader **out,
		     struct diag *d)
{
	struct ring_reader *r = calloc(1, sizeof(*r));
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct timespec mono, real;
	int err = 0;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->name = name;
	r->fn = fn;
	r->ctx = ctx;
	r->map_fd = r->lock_fd = -1;
	event_names_init(&r->names, name);
	if (!events_map_id(name)) {
		diag_error(d, NULL, 0, "no instance '%s' installed", name);
		err = -ENOENT;
		goto fail;
	}
	/* a ring buffer has one read position: a second reader would split the stream */
	r->lock_fd = state_lock(name, STATE_LOG_LOCK, false, d);
	if (r->lock_fd == -EWOULDBLOCK) {
		err = -EBUSY;
		goto fail;
	}
	if (r->lock_fd < 0) {
		err = r->lock_fd;
		goto fail;
	}
	r->map_fd = pins_get(name, "events");
	if (r->map_fd < 0 || bpf_obj_get_info_by_fd(r->map_fd, &info, &len)) {
		err = r->map_fd < 0 ? r->map_fd : -errno;
		diag_error(d, NULL, 0, "no instance '%s' installed", name);
		goto fail;
	}
	r->map_id = info.id;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	r->mono_to_real_ns =
		(real.tv_sec - mono.tv_sec) * 1000000000LL + (real.tv_nsec - mono.tv_nsec);
	status_stage_names(name, r->stages);
	if (cgroup2_mount(r->mnt, sizeof(r->mnt)))
		r->mnt[0] = '\0';
	r->rb = ring_buffer__new(r->map_fd, handle_event, r, NULL);
	if (!r->rb) {
		err = -errno;
		diag_error(d, NULL, 0, "cannot read the events of '%s': %s", name, strerror(errno));
		goto fail;
	}
	*out = r;
	return 0;
fail:
	ring_reader_close(r);
	return err;
}

int ring_reader_consume(struct ring_reader *r)
{
	return ring_buffer__consume(r->rb);
}

int ring_reader_poll(struct ring_reader *r, int ms)
{
	return ring_buffer__poll(r->rb, ms);
}

int ring_reader_fd(struct ring_reader *r)
{
	return ring_buffer__epoll_fd(r->rb);
}

__u32 ring_reader_map_id(const struct ring_reader *r)
{
	return r->map_id;
}

void ring_reader_close(struct ring_reader *r)
{
	if (!r)
		return;
	ring_buffer__free(r->rb);
	if (r->map_fd >= 0)
		close(r->map_fd);
	if (r->lock_fd >= 0)
		close(r->lock_fd);
	event_names_free(&r->names);
	free(r);
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

struct log_ctx {
	const char *name;
	const struct event_filter *f;
	FILE *out;
	bool json;
	struct suggestions *sugg; /* suggest: gathered, not printed */
};

static int log_event(void *ctx, const struct event_view *v)
{
	struct log_ctx *lc = ctx;

	if (!event_match(lc->f, v))
		return 0;
	if (lc->sugg)
		suggestions_add(lc->sugg, v);
	else
		event_print(lc->out, lc->name, v, lc->json);
	return 0;
}

/* the reader of an instance's ring buffer: what is there, then (follow) what comes */
static int read_ring(const char *name, bool follow, struct log_ctx *lc, struct diag *d)
{
	struct ring_reader *r;
	int err = ring_reader_open(name, log_event, lc, &r, d);

	if (err == -EBUSY)
		diag_error(d, NULL, 0,
			   "another 'ironclaw-pipe log' or 'suggest' is reading instance '%s': "
			   "a ring buffer has one reader, which would split the events with you",
			   name);
	if (err)
		return err;
	fprintf(stderr,
		"no collector keeps the events of instance '%s': read from its ring buffer, they "
		"are gone once read ('ironclaw-pipe collect' keeps them for any number of "
		"readers)\n",
		name);
	/* what arrived while nobody read: the buffer keeps it (1 MiB, about 10,900 events) */
	err = ring_reader_consume(r);
	err = err < 0 ? err : 0;
	if (follow) {
		events_stop_on_signals();
		while (!events_stop) {
			int n = ring_reader_poll(r, 200);

			if (n < 0 && n != -EINTR) {
				err = n;
				break;
			}
			/* uninstalled, or installed anew: this buffer gets nothing any more */
			if (n == 0 && events_map_id(name) != ring_reader_map_id(r)) {
				diag_error(d, NULL, 0, "instance '%s' was uninstalled or replaced",
					   name);
				err = -ENOENT;
				break;
			}
		}
	}
	print_drops(name);
	ring_reader_close(r);
	return err;
}

int events_log(const char *name, bool follow, bool json, const struct event_filter *f, FILE *out,
	       struct diag *d)
{
	struct log_ctx lc = { .name = name, .f = f, .out = out, .json = json };

	return read_ring(name, follow, &lc, d);
}

int events_suggest(const char *name, const struct event_filter *f, struct suggestions *g,
		   struct diag *d)
{
	struct log_ctx lc = { .name = name, .f = f, .sugg = g };

	return read_ring(name, false, &lc, d);
}
