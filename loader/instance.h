/* instance.h: one named instance of the pipeline: open and lock it, install, edit, block, remove it. */
#ifndef IRONCLAW_INSTANCE_H
#define IRONCLAW_INSTANCE_H

#include <stdbool.h>
#include <stdio.h>
#include "addr.h"
#include "attach.h"
#include "collect.h"
#include "diag.h"
#include "l2link.h"
#include "event_view.h"
#include "ruleset.h"
#include "state.h"

#define INSTANCE_DEFAULT "default"
#define INSTANCE_MAX_SOURCES 64
#define INSTANCE_MAX_POINTS 16

/* what an install recorded, so that reload, allow, revoke and explain can act again */
struct instance_conf {
	char profile[STATE_PATH_MAX]; /* absolute; symlinks kept: reload follows a moved link */
	char sandbox_cgroup[STATE_PATH_MAX]; /* absolute, "" when none */
	char sandbox_netns[NETNS_REF_MAX]; /* a netns_ref, "" when not known */
	struct addr sources[INSTANCE_MAX_SOURCES]; /* given with --source; none: read */
	size_t nr_sources;
	bool audit;
	struct addr gateways[L2LINK_MAX_GATEWAYS]; /* --gateway; none: the host side's own */
	size_t nr_gateways;
};

struct instance {
	char name[INSTANCE_NAME_MAX];
	int lock_fd; /* held from instance_open to instance_close; -1: not locked */
	bool installed; /* its pins are there */
	bool has_conf; /* and its recorded state */
	bool ctl_known; /* ctl: its control word, read before the lock was taken */
	__u32 ctl;
	struct instance_conf conf;
};

enum instance_open_flags {
	INSTANCE_LOCK = 1 << 0, /* take the instance lock (waits for the holder) */
	INSTANCE_MUST_EXIST = 1 << 1, /* an instance that is not installed is an error */
};

/* a valid name, its state read (moved from an earlier build's layout); 0 or -errno */
int instance_open(const char *name, unsigned int flags, struct instance *in, struct diag *d);
void instance_close(struct instance *in);

struct install_spec {
	const char *profile; /* directory; required */
	const char *sandbox_cgroup; /* NULL: the one recorded, if any */
	const char *sandbox_netns; /* where the sandbox's addresses are read; NULL: none */
	const struct attach_point *points;
	size_t nr_points;
	const struct addr *sources; /* none: found from the points, or the ones in force */
	size_t nr_sources;
	const struct addr *gateways; /* the sandbox's gateways; none: the ones recorded, if any */
	size_t nr_gateways;
	bool audit; /* every denial passes, recorded as would-deny */
	bool keep_block; /* a blocked instance stays blocked (reload and live edits) */
	bool deny_all; /* no profile, no sources: every packet dropped (a failed restore) */
	/* called now and then while the rule maps fill (done of total entries); may be NULL */
	void (*progress)(size_t done, size_t total);
};

/* what an install did, for the caller to print */
struct install_result {
	size_t nr_rules, nr_stages;
	struct addr sources[INSTANCE_MAX_SOURCES];
	size_t nr_sources;
	bool audit; /* some denial passes as would-deny */
	bool unchanged; /* a reload of what ran already: nothing switched */
};

/*
 * Installs the profile: a new instance, or a switch of a running one in one
 * step (on any error the running policy stays). The instance is locked.
 */
int instance_install(struct instance *in, const struct install_spec *spec,
		     struct install_result *res, struct diag *d);
/* records c as the instance's state (instance.conf) */
int instance_conf_write(const char *name, const struct instance_conf *c, struct diag *d);
/* installs again from the recorded profile and live edits, attached as it is */
int instance_reload(struct instance *in, struct install_result *res, struct diag *d);
/*
 * Layer 2 of the host-side points read again from the host side and put in
 * force, nothing else touched: the bridge's MAC (which follows its ports
 * unless it was set) and the gateways' neighbour entries. install and reload
 * do it too; a front end calls it when a container joins the bridge (CNI ADD)
 * or the host comes back (restore). The instance is locked.
 */
int instance_refresh_l2(struct instance *in, struct diag *d);
/*
 * allow (add) or revoke a rule given as a profile line without its 'allow':
 * the live drop-in (STATE_LIVE_RULES) changes, and the instance is installed
 * again; on any error the drop-in is put back and the policy stays. *done:
 * the rule as the drop-in holds it (the caller frees it).
 */
int instance_edit(struct instance *in, const char *rule, bool add, char **done, struct diag *d);
/* deny-all until the next install; takes no lock, so no holder of it can delay the block */
int instance_block(const char *name, struct diag *d);
/*
 * detaches everything and removes the pins and state: the sandbox's egress opens. Opened
 * locked but not "must exist": what an uninstall killed half-way left goes too.
 */
int instance_uninstall(struct instance *in, struct diag *d);

/*
 * What the instance does, read from its pins and state (no lock): status
 * (-ENOLINK: an attachment is lost), its rules with their counters, the
 * denials in its ring buffer (follow: as they come), suggestions from them.
 */
int instance_status(const char *name, FILE *out, bool json, struct diag *d);
int instance_rules(const char *name, FILE *out, bool json, struct diag *d);
/*
 * log and suggest read the collector's journal when there is one (any number
 * of readers, nothing consumed); else the ring buffer, which they consume.
 */
int instance_log(const char *name, bool follow, bool json, const struct event_filter *f, FILE *out,
		 struct diag *d);
int instance_suggest(const char *name, const struct event_filter *f, FILE *out, struct diag *d);
/* the collector in the foreground (collect.h) */
int instance_collect(const struct collect_opts *o, struct diag *d);
/* a collector of instance name in the background, unless one reads it (collect_start) */
int instance_collect_start(const char *name, bool journald, pid_t *pid, struct diag *d);
/* the metrics of instance name, or of every installed one (NULL) */
int instance_metrics(const char *name, bool per_rule, FILE *out, struct diag *d);
/*
 * The verdict of every hook on one packet (explain.h), from a dry-run copy
 * of the installed pipeline, judged with the profile the instance recorded;
 * the instance is locked: 0 or 1 (dropped), or -errno.
 */
struct explain_query;
int instance_explain(struct instance *in, struct explain_query *q, FILE *out, bool json,
		     struct diag *d);

/*
 * Runs argv in the instance's sandbox (launch.h): its network namespace and
 * cgroup as install recorded them, or the cgroup of tool below it (NULL: the
 * sandbox's own), as user. *status: the command's exit status (126 or 127
 * when it could not be executed). 0 or -errno with a message.
 */
int instance_run(const char *name, const char *tool, const char *user, char *const *argv,
		 int *status, struct diag *d);
/*
 * The persistent side (enabled.h): enable writes the running instance (its
 * profile, attach points, sandbox, sources given with --source, audit, and its
 * live edits) to /etc/ironclaw-pipe/instances/NAME.conf, refusing namespaces
 * that do not outlive a reboot; *out (may be NULL) gets what was written.
 * disable removes it. persist_live copies the live edits there (allow --persist).
 */
struct enabled_conf;
int instance_enable(struct instance *in, struct enabled_conf *out, struct diag *d);
int instance_disable(const char *name, struct diag *d);
int instance_persist_live(struct instance *in, struct diag *d);
/*
 * Installs an enabled instance from its file (a new one, or again over a
 * running one: attachments lost since are made again). Fails closed: when
 * that fails, the points that can be attached get a deny-all pipeline and
 * the instance is blocked; the error is returned all the same.
 */
int instance_restore(const char *name, struct install_result *res, struct diag *d);
/* the profile, its stages and its plan, as check shows them (cgroup: resolve tools there) */
int instance_check(const char *dir, const char *cgroup, struct ruleset *rs, struct diag *d);

#endif
