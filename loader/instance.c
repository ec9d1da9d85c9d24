/* instance.c: one named instance of the pipeline: open and lock it, install, edit, block, remove it. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "counts.h"
#include "ctl.h"
#include "events.h"
#include "history.h"
#include "metrics.h"
#include "explain.h"
#include "instance.h"
#include "profile_stamp.h"
#include "pipeline_edit.h"
#include "phases.h"
#include "pins.h"
#include "pipeline.h"
#include "pipeline_l2.h"
#include "pipeline_preload.h"
#include "status.h"

/* instance.conf: one key=value a line */
static int conf_read(const char *name, struct instance_conf *c, struct diag *d)
{
	char path[STATE_PATH_MAX], *text, *save = NULL;
	size_t len;

	memset(c, 0, sizeof(*c));
	state_path(path, sizeof(path), name, STATE_CONF);
	text = state_read_file(path, &len);
	if (!text) {
		if (errno == ENOENT)
			return -ENOENT;
		diag_error(d, path, 0, "cannot read: %s", strerror(errno));
		return -errno;
	}
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(l, "profile=", 8))
			snprintf(c->profile, sizeof(c->profile), "%s", l + 8);
		else if (!strncmp(l, "sandbox_cgroup=", 15))
			snprintf(c->sandbox_cgroup, sizeof(c->sandbox_cgroup), "%s", l + 15);
		else if (!strncmp(l, "sandbox_netns=", 14))
			snprintf(c->sandbox_netns, sizeof(c->sandbox_netns), "%s", l + 14);
		else if (!strncmp(l, "audit=", 6))
			c->audit = l[6] == '1';
		else if (!strncmp(l, "source=", 7) && c->nr_sources < INSTANCE_MAX_SOURCES &&
			 !addr_parse(l + 7, &c->sources[c->nr_sources]))
			c->nr_sources++;
		else if (!strncmp(l, "gateway=", 8) && c->nr_gateways < L2LINK_MAX_GATEWAYS &&
			 !addr_parse(l + 8, &c->gateways[c->nr_gateways]))
			c->nr_gateways++;
	}
	free(text);
	if (!c->profile[0]) {
		diag_error(d, path, 0, "no profile= line");
		return -EINVAL;
	}
	return 0;
}

int instance_conf_write(const char *name, const struct instance_conf *c, struct diag *d)
{
	char *text = NULL, *sources = NULL, buf[ADDR_STR_LEN];
	size_t len = 0;
	FILE *f = open_memstream(&sources, &len);
	int n, err;

	for (size_t i = 0; f && i < c->nr_sources; i++)
		fprintf(f, "source=%s\n", addr_format(&c->sources[i], buf, sizeof(buf)));
	for (size_t i = 0; f && i < c->nr_gateways; i++)
		fprintf(f, "gateway=%s\n", addr_format(&c->gateways[i], buf, sizeof(buf)));
	if (!f || fclose(f)) {
		free(sources);
		return -ENOMEM;
	}
	n = asprintf(&text, "profile=%s\nsandbox_cgroup=%s\nsandbox_netns=%s\naudit=%d\n%s",
		     c->profile, c->sandbox_cgroup, c->sandbox_netns, c->audit, sources);
	free(sources);
	if (n < 0)
		return -ENOMEM;
	err = state_write_instance_file(name, STATE_CONF, text, n, d);
	free(text);
	return err;
}

static bool pins_present(const char *name)
{
	char path[STATE_PATH_MAX];
	struct stat sb;

	return !state_pin_path(path, sizeof(path), name, "ctl") && !stat(path, &sb);
}

int instance_open(const char *name, unsigned int flags, struct instance *in, struct diag *d)
{
	int err;

	memset(in, 0, sizeof(*in));
	in->lock_fd = -1;
	if (!instance_name_valid(name)) {
		diag_error(d, NULL, 0, "bad instance name '%s': 1-%d characters of [a-z0-9_-]",
			   name, INSTANCE_NAME_MAX - 1);
		return -EINVAL;
	}
	snprintf(in->name, sizeof(in->name), "%s", name);
	in->installed = pins_present(name);
	if ((flags & INSTANCE_MUST_EXIST) && !in->installed) {
		diag_error(d, NULL, 0, "no instance '%s' installed", name);
		return -ENOENT;
	}
	err = state_migrate(name, d);
	if (err < 0)
		return err;
	/* what an install ends: a block already there when it began, not one during it */
	in->ctl_known = in->installed && !ctl_read_pinned(name, &in->ctl);
	if (flags & INSTANCE_LOCK) {
		in->lock_fd = state_lock(name, STATE_LOCK, true, d);
		if (in->lock_fd < 0)
			return in->lock_fd;
		in->installed = pins_present(name); /* as the last holder left it */
		/* a live edit in place that a kill cut short is finished first */
		if (in->installed) {
			err = pipeline_edit_recover(name, d);
			if (err) {
				instance_close(in);
				return err;
			}
		}
		if (!in->installed) {
			char live[STATE_PATH_MAX];

			/* live edits end with the instance: an uninstall killed before its
			 * state went leaves them, for no one (restore copies its own after) */
			state_path(live, sizeof(live), name, STATE_LIVE_RULES);
			unlink(live);
		}
	}
	err = conf_read(name, &in->conf, d);
	in->has_conf = !err;
	if (err == -ENOENT)
		err = 0;
	if (err)
		instance_close(in);
	return err;
}

void instance_close(struct instance *in)
{
	/* an instance that is not there takes its state with it (the lock too, while held) */
	if (in->lock_fd >= 0 && !pins_present(in->name))
		state_remove(in->name);
	if (in->lock_fd >= 0)
		close(in->lock_fd);
	in->lock_fd = -1;
}

/* the path made absolute, symlinks kept: reload follows a link moved to a new profile */
static int absolute(const char *path, char *out, size_t len)
{
	char cwd[STATE_PATH_MAX];
	int n;

	if (path[0] == '/')
		n = snprintf(out, len, "%s", path);
	else if (getcwd(cwd, sizeof(cwd)))
		n = snprintf(out, len, "%s/%s", cwd, path);
	else
		return -errno;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* the cgroup as an absolute directory: as given, or below the cgroup v2 mount */
static int cgroup_absolute(const char *cgroup, char *out, size_t len)
{
	char *r = realpath(cgroup, NULL), mnt[256], joined[CGROUP_PATH_MAX + 256];

	if (!r && !cgroup2_mount(mnt, sizeof(mnt))) {
		snprintf(joined, sizeof(joined), "%s/%s", mnt, cgroup);
		r = realpath(joined, NULL);
	}
	if (!r)
		return -errno;
	snprintf(out, len, "%s", r);
	free(r);
	return 0;
}

/*
 * Each source one address: a prefix would make its every address the
 * sandbox's, a source at tc and "local" at the cgroup hooks. kept: they are
 * the ones in force, from an install before prefixes were refused.
 */
static int sources_single(const struct addr *src, size_t n, bool kept, struct diag *d)
{
	char buf[ADDR_STR_LEN];

	for (size_t i = 0; i < n; i++) {
		if (addr_is_single(&src[i]))
			continue;
		diag_error(d, NULL, 0, "source %s: " ADDR_SOURCE_NOT_SINGLE "%s",
			   addr_format(&src[i], buf, sizeof(buf)),
			   kept ? " (the instance's, from an older install): give --source ADDR" :
				  "");
		return -EINVAL;
	}
	return 0;
}

/* the sandbox's addresses: given, or read where the points are, or the ones in force */
static int find_sources(const struct instance *in, const struct install_spec *s,
			struct install_result *res, struct diag *d)
{
	bool kept = false;
	int n;

	memcpy(res->sources, s->sources, s->nr_sources * sizeof(*s->sources));
	res->nr_sources = s->nr_sources;
	for (size_t i = 0; !res->nr_sources && i < s->nr_points; i++) {
		const struct attach_point *pt = &s->points[i];

		if (pt->kind != ATTACH_TC_EGRESS && !s->sandbox_netns) {
			/* installing again: keep the addresses the instance has */
			n = pipeline_sources(in->name, -1, res->sources, INSTANCE_MAX_SOURCES);
			if (n > 0) {
				res->nr_sources = n;
				kept = true;
				break;
			}
			diag_error(d, NULL, 0,
				   "%s %s: the sandbox's addresses are unknown; "
				   "give --source ADDR or --sandbox-netns NS",
				   attach_kind_option(pt->kind),
				   pt->kind == ATTACH_CGROUP ? pt->cgroup : pt->ifname);
			return -EINVAL;
		}
		n = attach_point_sources(pt, s->sandbox_netns, res->sources, INSTANCE_MAX_SOURCES,
					 d);
		if (n < 0)
			return n;
		res->nr_sources = n;
	}
	if (!res->nr_sources) {
		/* installing again: keep the addresses the instance has */
		n = pipeline_sources(in->name, -1, res->sources, INSTANCE_MAX_SOURCES);
		res->nr_sources = n > 0 ? n : 0;
		kept = true;
	}
	if (!res->nr_sources) {
		diag_error(d, NULL, 0, "no source addresses for the sandbox: give --source ADDR");
		return -EINVAL;
	}
	return sources_single(res->sources, res->nr_sources, kept, d);
}

/* the sandbox's network namespace: --sandbox-netns, the --tc interface's, or the one recorded */
static void sandbox_netns(const struct instance *in, const struct install_spec *s, char *out,
			  size_t len)
{
	const char *ns = s->sandbox_netns;

	for (size_t i = 0; !ns && i < s->nr_points; i++)
		if (s->points[i].kind == ATTACH_TC_EGRESS && s->points[i].netns[0])
			ns = s->points[i].netns;
	if (!ns && in->has_conf)
		ns = in->conf.sandbox_netns;
	snprintf(out, len, "%s", ns ? ns : "");
}

/* the sources given with --source, kept until addresses are read or given again */
static void explicit_sources(const struct instance *in, const struct install_spec *s,
			     struct instance_conf *c)
{
	const struct addr *src = s->sources;
	size_t n = s->nr_sources;
	bool read = s->sandbox_netns != NULL;

	for (size_t i = 0; i < s->nr_points; i++)
		read |= s->points[i].kind == ATTACH_TC_EGRESS;
	if (!n && !read && in->has_conf) {
		src = in->conf.sources;
		n = in->conf.nr_sources;
	}
	memcpy(c->sources, src, n * sizeof(*src));
	c->nr_sources = n;
}

int instance_install(struct instance *in, const struct install_spec *s, struct install_result *res,
		     struct diag *d)
{
	struct instance_conf conf = { .audit = s->audit };
	struct counts_snapshot_job *old_counts = NULL;
	struct dispatcher_preload *preload = NULL;
	/* a reload: the request may be the one running already (req_hash.h) */
	bool may_be_unchanged = s->keep_block && !s->nr_points && !s->deny_all;
	char live[STATE_PATH_MAX], stamp[PROFILE_STAMP_LEN] = "";
	bool unchanged = false, same_files = false;
	struct ruleset rs;
	int err;

	phase_mark("start");
	memset(res, 0, sizeof(*res));
	memset(&rs, 0, sizeof(rs));
	if (in->lock_fd < 0)
		return -ENOLCK;
	if (!s->nr_points && !in->installed) {
		diag_error(
			d, NULL, 0,
			"instance '%s' is new: give --tc-ingress IFACE, --tc IFACE, --xdp IFACE or "
			"--cgroup PATH",
			in->name);
		return -EINVAL;
	}
	const char *cgroup = s->sandbox_cgroup				? s->sandbox_cgroup :
			     in->has_conf && in->conf.sandbox_cgroup[0] ? in->conf.sandbox_cgroup :
									  NULL;

	err = absolute(s->profile, conf.profile, sizeof(conf.profile));
	if (err) {
		diag_error(d, s->profile, 0, "cannot name the profile directory: %s",
			   strerror(-err));
		return err;
	}
	if (s->deny_all) {
		/* an empty profile: no stage, no rule, no source; every packet is dropped */
		state_path(live, sizeof(live), in->name, STATE_EMPTY_PROFILE);
		if (mkdir(live, 0700) && errno != EEXIST) {
			err = -errno;
			diag_error(d, NULL, 0, "cannot create %s: %s", live, strerror(errno));
			return err;
		}
		err = ruleset_load(live, NULL, NULL, false, &rs, d);
	} else {
		state_path(live, sizeof(live), in->name, STATE_LIVE_DIR);
		/*
		 * The dispatcher is verified, and a switch's old rule list read, as the profile
		 * is parsed; not for a reload whose profile's files look as they did when what
		 * runs was installed (profile_stamp.h): it would wait for a verification it does
		 * not use (1,000 rules: 28 -> 630 ms). Should its request differ all the same
		 * (a host name resolved anew), the switch verifies the dispatcher after the parse.
		 */
		if (profile_stamp(conf.profile, stamp))
			stamp[0] = '\0';
		same_files =
			may_be_unchanged && stamp[0] && profile_stamp_recorded(in->name, stamp);
		if (!same_files)
			preload = pipeline_preload_start(in->name, s->profile, live, s->points,
							 s->nr_points);
		if (in->installed && !same_files)
			old_counts = counts_snapshot_start(in->name);
		err = ruleset_load(s->profile, live, cgroup, true, &rs, d);
	}
	if (!err && cgroup &&
	    cgroup_absolute(cgroup, conf.sandbox_cgroup, sizeof(conf.sandbox_cgroup)))
		conf.sandbox_cgroup[0] = '\0';
	if (!err && !s->deny_all) {
		err = find_sources(in, s, res, d);
	} else if (!err) {
		/* deny-all: the sandbox's addresses when they can be found, for a later reload */
		struct diag quiet = {};

		if (find_sources(in, s, res, &quiet))
			res->nr_sources = 0;
		diag_free(&quiet);
	}
	sandbox_netns(in, s, conf.sandbox_netns, sizeof(conf.sandbox_netns));
	explicit_sources(in, s, &conf);
	/* the gateways given, or the ones recorded: reload and live edits keep them */
	if (s->nr_gateways > L2LINK_MAX_GATEWAYS) {
		diag_error(d, NULL, 0, "more than %d --gateway addresses", L2LINK_MAX_GATEWAYS);
		err = err ? err : -E2BIG;
	} else if (s->nr_gateways) {
		memcpy(conf.gateways, s->gateways, s->nr_gateways * sizeof(*s->gateways));
		conf.nr_gateways = s->nr_gateways;
	} else if (in->has_conf) {
		memcpy(conf.gateways, in->conf.gateways, sizeof(conf.gateways));
		conf.nr_gateways = in->conf.nr_gateways;
	}
	if (!err) {
		struct install_req rq = {
			.name = in->name,
			.profile = &rs.prof,
			.stages = rs.stages,
			.nr_stages = rs.nr_stages,
			.plan = &rs.plan,
			.sources = res->sources,
			.nr_sources = res->nr_sources,
			.points = s->points,
			.nr_points = s->nr_points,
			.gateways = conf.gateways,
			.nr_gateways = conf.nr_gateways,
			.tool_level = rs.tool_level,
			.has_tools = rs.has_tools,
			.audit_all = s->audit,
			.audit_slots = rs.audit_slots,
			.keep_block = s->keep_block,
			/* a reload: an install ends a block, and may attach */
			.reuse_unchanged = may_be_unchanged,
			.ctl_before_known = in->ctl_known,
			.ctl_before = in->ctl,
			.progress = s->progress,
			.old_counts = old_counts,
			.preload = preload,
		};

		err = pipeline_install(&rq, d);
		/* what runs is this already: the host side's layer 2 read again, as a switch does */
		if (err == 1) {
			unchanged = true;
			err = pipeline_refresh_l2(in->name, conf.gateways, conf.nr_gateways, d);
		}
	}
	if (!err) {
		if (!unchanged)
			state_count_bump(in->name, STATE_SWITCHES);
		in->installed = true;
		res->nr_rules = rs.prof.nr_rules;
		res->unchanged = unchanged;
		res->nr_stages = rs.nr_stages;
		res->audit = s->audit || rs.audit_slots || rs.prof.nr_audits;
		err = instance_conf_write(in->name, &conf, d);
		/* a deny-all install runs no profile: the next reload switches */
		profile_stamp_record(in->name, s->deny_all ? "" : stamp);
		if (err)
			diag_warn(
				d, NULL, 0,
				"installed, but reload, allow and revoke need the state that could "
				"not be written");
		err = 0;
		in->conf = conf;
		in->has_conf = true;
	}
	counts_snapshot_job_free(old_counts);
	pipeline_preload_free(preload);
	ruleset_free(&rs);
	return err;
}

int instance_reload(struct instance *in, struct install_result *res, struct diag *d)
{
	struct install_spec s = { .audit = in->conf.audit, .keep_block = true };

	if (!in->installed || !in->has_conf) {
		diag_error(d, NULL, 0, "no instance '%s' installed", in->name);
		return -ENOENT;
	}
	if (access(in->conf.profile, R_OK)) {
		diag_error(d, NULL, 0,
			   "the profile of instance '%s', %s, is gone: install it again with "
			   "'ironclaw-pipe install --profile DIR --name %s'",
			   in->name, in->conf.profile, in->name);
		return -ENOENT;
	}
	s.profile = in->conf.profile;
	return instance_install(in, &s, res, d);
}

int instance_refresh_l2(struct instance *in, struct diag *d)
{
	if (in->lock_fd < 0)
		return -ENOLCK;
	if (!in->installed) {
		diag_error(d, NULL, 0, "no instance '%s' installed", in->name);
		return -ENOENT;
	}
	return pipeline_refresh_l2(in->name, in->conf.gateways, in->conf.nr_gateways, d);
}

int instance_block(const char *name, struct diag *d)
{
	struct instance in;
	int err;

	/* no lock: a stopped or hung install holding it cannot keep the block back */
	if (!instance_name_valid(name)) {
		diag_error(d, NULL, 0, "bad instance name '%s'", name);
		return -EINVAL;
	}
	err = pipeline_block(name, false, d);
	if (err != -EAGAIN)
		return err;
	err = instance_open(name, INSTANCE_LOCK | INSTANCE_MUST_EXIST, &in, d);
	if (!err)
		err = pipeline_block(name, true, d);
	instance_close(&in);
	return err;
}

int instance_uninstall(struct instance *in, struct diag *d)
{
	char dir[STATE_PATH_MAX];
	struct stat sb;
	int err;

	if (!in->installed) {
		/* an uninstall killed after the control pin went: the rest of its pins, its state */
		if (in->lock_fd >= 0 && !state_pin_path(dir, sizeof(dir), in->name, NULL) &&
		    !stat(dir, &sb))
			return pipeline_uninstall(in->name, d);
		if (in->lock_fd >= 0 && in->has_conf)
			return 0; /* instance_close removes the state */
		diag_error(d, NULL, 0, "no instance '%s' installed", in->name);
		return -ENOENT;
	}
	err = pipeline_uninstall(in->name, d);
	if (!err)
		in->installed = false; /* instance_close removes its state */
	return err;
}

int instance_status(const char *name, FILE *out, bool json, struct diag *d)
{
	return status_show(name, out, json, d);
}

int instance_rules(const char *name, FILE *out, bool json, struct diag *d)
{
	return status_rules(name, out, json, d);
}

int instance_log(const char *name, bool follow, bool json, const struct event_filter *f, FILE *out,
		 struct diag *d)
{
	if (history_exists(name))
		return history_log(name, follow, json, f, out, d);
	if (events_map_id(name))
		fprintf(stderr,
			"no journal for instance '%s': history is not kept, and what 'log' reads "
			"is gone from the ring buffer ('ironclaw-pipe collect' keeps it)\n",
			name);
	return events_log(name, follow, json, f, out, d);
}

/* the profile in force (with its live edits), for suggest to merge with; -errno */
static int suggest_base(const char *name, struct ruleset *rs)
{
	struct instance in;
	struct diag quiet = {};
	char live[STATE_PATH_MAX];
	int err = instance_open(name, 0, &in, &quiet);

	if (!err && !in.has_conf)
		err = -ENOENT;
	if (!err) {
		state_path(live, sizeof(live), name, STATE_LIVE_DIR);
		err = ruleset_load(in.conf.profile, live, NULL, false, rs, &quiet);
		if (err)
			ruleset_free(rs);
	}
	instance_close(&in);
	diag_free(&quiet);
	return err;
}

int instance_suggest(const char *name, const struct event_filter *f, FILE *out, struct diag *d)
{
	struct suggestions g;
	struct ruleset *rs = calloc(1, sizeof(*rs));
	int err = rs ? suggestions_init(&g) : -ENOMEM;

	if (err) {
		free(rs);
		return err;
	}
	if (history_exists(name))
		err = history_suggest(name, f, &g, d);
	else
		err = events_suggest(name, f, &g, d);
	if (!err) {
		bool have_base = !suggest_base(name, rs);

		suggestions_print(&g, name, have_base ? rs : NULL, out);
		if (have_base)
			ruleset_free(rs);
	}
	suggestions_free(&g);
	free(rs);
	return err;
}

int instance_collect(const struct collect_opts *o, struct diag *d)
{
	return collect_run(o, d);
}

int instance_collect_start(const char *name, bool journald, pid_t *pid, struct diag *d)
{
	return collect_start(name, journald, pid, d);
}

int instance_metrics(const char *name, bool per_rule, FILE *out, struct diag *d)
{
	char root[STATE_PATH_MAX], (*names)[INSTANCE_NAME_MAX] = NULL;
	const char **ptrs = NULL;
	struct dirent *de;
	int n = 0, cap = 0, err;
	DIR *dd;

	if (name)
		return metrics_write(out, &name, 1, per_rule, d);
	state_pin_root(root, sizeof(root));
	dd = opendir(root);
	while (dd && (de = readdir(dd))) {
		if (de->d_name[0] == '.' || !instance_name_valid(de->d_name))
			continue;
		if (n == cap) {
			void *p = realloc(names, (cap = cap * 2 + 8) * sizeof(*names));

			if (!p)
				break;
			names = p;
		}
		snprintf(names[n++], INSTANCE_NAME_MAX, "%.31s", de->d_name);
	}
	if (dd)
		closedir(dd);
	ptrs = calloc(n + 1, sizeof(*ptrs));
	for (int i = 0; ptrs && i < n; i++)
		ptrs[i] = names[i];
	err = ptrs ? metrics_write(out, ptrs, n, per_rule, d) : -ENOMEM;
	free(ptrs);
	free(names);
	return err;
}

int instance_explain(struct instance *in, struct explain_query *q, FILE *out, bool json,
		     struct diag *d)
{
	if (!in->installed || !in->has_conf) {
		diag_error(d, NULL, 0, "no instance '%s' installed", in->name);
		return -ENOENT;
	}
	q->profile_dir = in->conf.profile;
	q->sandbox_cgroup = in->conf.sandbox_cgroup;
	return explain_run(in->name, q, out, json, d);
}

int instance_check(const char *dir, const char *cgroup, struct ruleset *rs, struct diag *d)
{
	return ruleset_load(dir, NULL, cgroup, false, rs, d);
}
