/* instance_enabled.c: the persistent side of an instance: enable, disable, and restore at boot, failing closed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "enabled.h"
#include "instance.h"
#include "netns.h"
#include "pins.h"

static const char *point_arg(const struct attach_point *pt, char *buf, size_t len)
{
	if (pt->kind == ATTACH_CGROUP)
		snprintf(buf, len, "%s", pt->cgroup);
	else
		snprintf(buf, len, "%s%s%s", pt->ifname, pt->netns[0] ? "@" : "", pt->netns);
	return buf;
}

/* the live drop-in copied to path (or path removed when there is none); 0 or -errno */
static int copy_live(const char *name, bool to_conf, struct diag *d)
{
	char run[STATE_PATH_MAX], conf[STATE_PATH_MAX], *text;
	const char *from, *to;
	size_t len;
	int err;

	state_path(run, sizeof(run), name, STATE_LIVE_RULES);
	enabled_live_path(conf, sizeof(conf), name);
	from = to_conf ? run : conf;
	to = to_conf ? conf : run;
	text = state_read_file(from, &len);
	if (!text) {
		if (errno != ENOENT) {
			err = -errno;
			diag_error(d, from, 0, "cannot read: %s", strerror(errno));
			return err;
		}
		if (unlink(to) && errno != ENOENT) {
			err = -errno;
			diag_error(d, to, 0, "cannot remove: %s", strerror(errno));
			return err;
		}
		return 0;
	}
	err = state_write_file(to, text, len);
	if (err)
		diag_error(d, to, 0, "cannot write: %s", strerror(-err));
	free(text);
	return err;
}

int instance_enable(struct instance *in, struct enabled_conf *out, struct diag *d)
{
	struct attach_point pts[ENABLED_MAX_POINTS];
	struct enabled_conf c = {};
	size_t n;
	int err;

	if (!in->installed || !in->has_conf) {
		diag_error(d, NULL, 0, "no instance '%s' installed", in->name);
		return -ENOENT;
	}
	snprintf(c.profile, sizeof(c.profile), "%s", in->conf.profile);
	snprintf(c.sandbox_cgroup, sizeof(c.sandbox_cgroup), "%s", in->conf.sandbox_cgroup);
	c.audit = in->conf.audit;
	n = pins_attach_points(in->name, pts, ENABLED_MAX_POINTS);
	for (size_t i = 0; i < n; i++) {
		c.points[i].kind = pts[i].kind;
		point_arg(&pts[i], c.points[i].arg, sizeof(c.points[i].arg));
		if (pts[i].netns[0] && !netns_ref_persistent(pts[i].netns)) {
			diag_error(
				d, NULL, 0,
				"%s %s: '%s' names a process's namespace, which does not "
				"outlive a reboot: install it with a name in /run/netns or a bind "
				"mount, then enable it",
				attach_kind_option(pts[i].kind), c.points[i].arg, pts[i].netns);
			return -EINVAL;
		}
	}
	c.nr_points = n;
	if (in->conf.sandbox_netns[0] && !netns_ref_persistent(in->conf.sandbox_netns)) {
		diag_error(d, NULL, 0,
			   "--sandbox-netns %s names a process's namespace, which does not outlive "
			   "a reboot: install it with a name in /run/netns or a bind mount, then "
			   "enable it",
			   in->conf.sandbox_netns);
		return -EINVAL;
	}
	snprintf(c.sandbox_netns, sizeof(c.sandbox_netns), "%s", in->conf.sandbox_netns);
	memcpy(c.sources, in->conf.sources, in->conf.nr_sources * sizeof(c.sources[0]));
	c.nr_sources = in->conf.nr_sources;
	err = enabled_write(in->name, &c, d);
	if (!err)
		err = copy_live(in->name, true, d);
	if (!err && out)
		*out = c;
	return err;
}

int instance_disable(const char *name, struct diag *d)
{
	char path[STATE_PATH_MAX];
	int err;

	if (!instance_name_valid(name)) {
		diag_error(d, NULL, 0, "bad instance name '%s'", name);
		return -EINVAL;
	}
	err = enabled_remove(name);
	if (err == -ENOENT) {
		enabled_path(path, sizeof(path), name);
		diag_error(d, NULL, 0, "instance '%s' is not enabled (no %s)", name, path);
	} else if (err) {
		diag_error(d, NULL, 0, "cannot disable instance '%s': %s", name, strerror(-err));
	}
	return err;
}

int instance_persist_live(struct instance *in, struct diag *d)
{
	if (!enabled_exists(in->name)) {
		diag_error(d, NULL, 0,
			   "--persist: instance '%s' is not enabled ('ironclaw-pipe enable --name "
			   "%s' first)",
			   in->name, in->name);
		return -ENOENT;
	}
	return copy_live(in->name, true, d);
}

/* the file's points as install takes them; a missing cgroup is refused at its line */
static int restore_points(const struct enabled_conf *c, struct attach_point *pts, bool *usable,
			  struct diag *d)
{
	int err = 0;

	for (size_t i = 0; i < c->nr_points; i++) {
		const struct enabled_point *p = &c->points[i];
		struct diag quiet = {};
		int e;

		if (p->kind == ATTACH_CGROUP) {
			e = attach_point_cgroup(p->arg, &pts[i], &quiet);
			if (e)
				diag_error(d, c->path, p->line, "cgroup=%s: %s", p->arg,
					   quiet.nr ? quiet.msgs[0] : strerror(-e));
			diag_free(&quiet);
		} else {
			e = attach_point_parse(p->arg, p->kind, &pts[i]);
		}
		usable[i] = !e;
		err = e ?: err;
	}
	return err;
}

/* the interface is there (in its namespace) */
static bool point_present(const struct attach_point *pt)
{
	struct diag quiet = {};
	int saved, idx;

	if (pt->kind == ATTACH_CGROUP)
		return true;
	if (netns_enter(pt->netns, &saved, &quiet)) {
		diag_free(&quiet);
		return false;
	}
	idx = netns_ifindex(pt->ifname);
	netns_leave(saved);
	return idx > 0;
}

/*
 * Fail closed: the points that can be attached get the deny-all pipeline,
 * blocked; the profile stays recorded for the next restore or install.
 */
static int restore_closed(struct instance *in, const struct enabled_conf *c,
			  struct attach_point *pts, const bool *usable, struct diag *d)
{
	struct install_spec s = { .profile = c->profile,
				  .sandbox_netns = c->sandbox_netns[0] ? c->sandbox_netns : NULL,
				  .sandbox_cgroup = c->sandbox_cgroup[0] ? c->sandbox_cgroup : NULL,
				  .sources = c->sources,
				  .nr_sources = c->nr_sources,
				  .deny_all = true };
	struct attach_point keep[ENABLED_MAX_POINTS];
	struct install_result res;
	struct diag quiet = {};
	size_t n = 0;
	int err;

	for (size_t i = 0; i < c->nr_points; i++)
		if (usable[i] && point_present(&pts[i]))
			keep[n++] = pts[i];
	if (!n && !in->installed) {
		diag_error(d, NULL, 0,
			   "instance '%s': nothing could be attached to block it; the sandbox's "
			   "units must not start",
			   in->name);
		return -ENODEV;
	}
	s.points = keep;
	s.nr_points = n;
	err = instance_install(in, &s, &res, &quiet);
	if (!err)
		err = instance_block(in->name, &quiet);
	if (err) {
		diag_error(d, NULL, 0, "instance '%s': the deny-all fallback failed too: %s",
			   in->name, quiet.nr ? quiet.msgs[0] : strerror(-err));
	} else {
		diag_error(d, NULL, 0,
			   "instance '%s' is blocked: every packet at %zu attach point%s is "
			   "dropped until a restore or install succeeds",
			   in->name, n, n == 1 ? "" : "s");
	}
	diag_free(&quiet);
	return err;
}

int instance_restore(const char *name, struct install_result *res, struct diag *d)
{
	struct attach_point pts[ENABLED_MAX_POINTS];
	bool usable[ENABLED_MAX_POINTS];
	struct enabled_conf c;
	struct instance in;
	int err, e;

	memset(res, 0, sizeof(*res));
	err = enabled_read(name, &c, d);
	if (err)
		return err;
	err = instance_open(name, INSTANCE_LOCK, &in, d);
	if (err)
		return err;
	err = restore_points(&c, pts, usable, d);
	if (!err) {
		err = state_dir_ensure(name, d);
		if (!err)
			err = copy_live(name, false, d);
	}
	if (!err) {
		struct install_spec s = {
			.profile = c.profile,
			.sandbox_netns = c.sandbox_netns[0] ? c.sandbox_netns : NULL,
			.sandbox_cgroup = c.sandbox_cgroup[0] ? c.sandbox_cgroup : NULL,
			.points = pts,
			.nr_points = c.nr_points,
			.sources = c.sources,
			.nr_sources = c.nr_sources,
			.audit = c.audit,
		};

		err = instance_install(&in, &s, res, d);
	}
	if (err) {
		e = restore_closed(&in, &c, pts, usable, d);
		err = err ?: e;
	}
	instance_close(&in);
	return err;
}
