/* pipeline_preload.c: the dispatcher loaded by a thread of its own while the profile is parsed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pipeline_attach.h"
#include "pipeline_load.h"
#include "pipeline_preload.h"

/* more lines than this: no preload (rule_counts would be sized by a file, not by rules) */
#define PRELOAD_MAX_LINES (4u * PLAN_MAX_STAGE_ENTRIES)
/*
 * Fewer lines than this: no preload. Such a parse takes well under the
 * dispatcher's verification, so there is little to overlap, and a profile
 * refused by its parse would wait for a verification it never uses (the
 * thread cannot be stopped inside the kernel): a bad file is reported at once.
 */
#define PRELOAD_MIN_LINES 65536u

struct dispatcher_preload {
	pthread_t thread;
	bool joined;
	char name[INSTANCE_NAME_MAX + 1];
	char profile[STATE_PATH_MAX], live[STATE_PATH_MAX];
	struct attach_point *points;
	size_t nr_points;
	struct txn t; /* dir, existing, cgroup_hooks, xdp_hooks and the loaded skeleton */
	size_t max_rules; /* what its rule counters were sized for */
	struct diag d; /* its own: a failed preload is loaded again, and reported, by the install */
	int err;
};

/* the lines of a regular file (a FIFO or a device is not read: 0) */
static size_t file_lines(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	size_t n = 0;
	struct stat sb;
	char buf[65536];
	ssize_t got;

	if (fd < 0)
		return 0;
	if (!fstat(fd, &sb) && S_ISREG(sb.st_mode)) {
		n = 1; /* a last line without its newline */
		while ((got = read(fd, buf, sizeof(buf))) > 0 && n <= PRELOAD_MAX_LINES)
			for (char *p = buf; (p = memchr(p, '\n', buf + got - p)); p++)
				n++;
	}
	close(fd);
	return n;
}

static size_t ends_rules(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && len > 6 && !strcmp(name + len - 6, ".rules");
}

/* every line of dir's rule files (profile_load_dir reads the same ones): a bound on its rules */
static size_t dir_lines(const char *dir)
{
	DIR *dd = dir[0] ? opendir(dir) : NULL;
	struct dirent *de;
	size_t n = 0;

	while (dd && (de = readdir(dd)) && n <= PRELOAD_MAX_LINES)
		if (ends_rules(de->d_name))
			n += file_lines(dirfd(dd), de->d_name);
	if (dd)
		closedir(dd);
	return n;
}

static void *preload_thread(void *arg)
{
	struct dispatcher_preload *p = arg;
	struct install_req rq = { .name = p->name, .points = p->points, .nr_points = p->nr_points };
	size_t max = p->nr_points + PIPELINE_MAX_LINKS, n;
	struct attach_point *all = calloc(max, sizeof(*all));
	char ctl[PIN_PATH_MAX];
	struct stat sb;

	p->err = -ENOMEM;
	if (!all)
		return NULL;
	/* as pipeline_install and txn_plan_hooks decide them: the install compares */
	p->err = state_pin_path(p->t.dir, sizeof(p->t.dir), p->name, NULL) ?:
			 state_pin_path(ctl, sizeof(ctl), p->name, "ctl");
	p->t.existing = !p->err && !stat(ctl, &sb) && pipeline_pins_have_run(p->t.dir);
	n = txn_all_points(p->t.dir, &rq, all, max);
	p->t.cgroup_hooks = attach_kind_present(all, n, ATTACH_CGROUP);
	p->t.xdp_hooks = attach_kind_present(all, n, ATTACH_XDP);
	free(all);
	p->max_rules = dir_lines(p->profile) + dir_lines(p->live);
	if (!p->err && p->max_rules > PRELOAD_MAX_LINES)
		p->err = -E2BIG;
	if (!p->err && p->max_rules < PRELOAD_MIN_LINES)
		p->err = -ENODATA; /* small: loaded after the parse, as before */
	if (!p->err)
		p->err = txn_open_dispatcher(&p->t, p->name, p->max_rules, &p->d);
	return NULL;
}

struct dispatcher_preload *pipeline_preload_start(const char *name, const char *profile,
						  const char *live,
						  const struct attach_point *points,
						  size_t nr_points)
{
	struct dispatcher_preload *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->t = (struct txn)TXN_INIT;
	p->points = nr_points ? calloc(nr_points, sizeof(*points)) : NULL;
	if ((nr_points && !p->points) ||
	    (size_t)snprintf(p->name, sizeof(p->name), "%s", name) >= sizeof(p->name) ||
	    (size_t)snprintf(p->profile, sizeof(p->profile), "%s", profile) >= sizeof(p->profile) ||
	    (size_t)snprintf(p->live, sizeof(p->live), "%s", live ? live : "") >= sizeof(p->live))
		goto fail;
	if (nr_points)
		memcpy(p->points, points, nr_points * sizeof(*points));
	p->nr_points = nr_points;
	if (pthread_create(&p->thread, NULL, preload_thread, p))
		goto fail;
	return p;
fail:
	free(p->points);
	free(p);
	return NULL;
}

static void preload_join(struct dispatcher_preload *p)
{
	if (!p->joined)
		pthread_join(p->thread, NULL);
	p->joined = true;
}

bool pipeline_preload_take(struct dispatcher_preload *p, struct txn *t, size_t nr_rules)
{
	if (!p)
		return false;
	preload_join(p);
	/* loaded for this install's programs, maps and rules, or not used */
	if (p->err || !p->t.skel || p->t.existing != t->existing ||
	    p->t.cgroup_hooks != t->cgroup_hooks || p->t.xdp_hooks != t->xdp_hooks || t->dry_run ||
	    strcmp(p->t.dir, t->dir) || nr_rules > p->max_rules)
		return false;
	t->skel = p->t.skel;
	t->fresh_maps = p->t.fresh_maps;
	t->reasons_grown = p->t.reasons_grown;
	t->reasons_old = p->t.reasons_old;
	p->t.skel = NULL;
	p->t.reasons_grown = false;
	return true;
}

void pipeline_preload_free(struct dispatcher_preload *p)
{
	if (!p)
		return;
	preload_join(p);
	if (p->t.reasons_grown)
		close(p->t.reasons_old);
	dispatcher__destroy(p->t.skel);
	diag_free(&p->d);
	free(p->points);
	free(p);
}
