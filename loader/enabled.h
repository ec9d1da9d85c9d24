/* enabled.h: an enabled instance, the one file that restores it at boot: /etc/ironclaw-pipe/instances/NAME.conf. */
#ifndef IRONCLAW_ENABLED_H
#define IRONCLAW_ENABLED_H

#include <stdbool.h>
#include <stdio.h>
#include "addr.h"
#include "attach.h"
#include "diag.h"
#include "state.h"

#define ENABLED_DIR "instances" /* below STATE_CONF_DIR */
#define ENABLED_MAX_POINTS 16
#define ENABLED_MAX_SOURCES 64
#define ENABLED_MAX_GATEWAYS 8
#define ENABLED_MAX_INSTANCES 4096

/* an attach point as the file gives it, resolved at restore (a cgroup may not exist yet) */
struct enabled_point {
	enum attach_kind kind;
	char arg[CGROUP_PATH_MAX]; /* IFACE[@NS], or the cgroup (absolute or below the mount) */
	int line;
};

/*
 * One key=value a line, '#' comments; the keys are install's options:
 * profile, tc-ingress, tc, xdp, cgroup (repeatable), sandbox-netns,
 * sandbox-cgroup, source (repeatable), gateway (repeatable), audit (yes|no).
 */
struct enabled_conf {
	char path[STATE_PATH_MAX]; /* the file it was read from */
	char profile[STATE_PATH_MAX];
	struct enabled_point points[ENABLED_MAX_POINTS];
	size_t nr_points;
	char sandbox_netns[NETNS_REF_MAX];
	char sandbox_cgroup[STATE_PATH_MAX];
	struct addr sources[ENABLED_MAX_SOURCES];
	size_t nr_sources;
	struct addr gateways[ENABLED_MAX_GATEWAYS];
	size_t nr_gateways;
	bool audit;
};

/* the instance's file, or its persisted live edits (NAME.live.rules) */
int enabled_path(char *buf, size_t len, const char *name);
int enabled_live_path(char *buf, size_t len, const char *name);
/* the instance is enabled: its file exists */
bool enabled_exists(const char *name);
/* parses the file; any error names its file:line; 0, -ENOENT (not enabled) or -errno */
int enabled_read(const char *name, struct enabled_conf *c, struct diag *d);
/* the file as text (the caller frees it), with a header naming the instance */
char *enabled_format(const char *name, const struct enabled_conf *c);
/* writes it (the directory made root's, 0755; the file 0644, renamed into place) */
int enabled_write(const char *name, const struct enabled_conf *c, struct diag *d);
/* removes the file and the persisted live edits; 0 or -ENOENT when not enabled */
int enabled_remove(const char *name);
/* the names of every enabled instance, sorted, into names[0..max): count or -errno */
int enabled_list(char (*names)[INSTANCE_NAME_MAX], size_t max, struct diag *d);

#endif
