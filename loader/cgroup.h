/* cgroup.h: the sandbox's cgroup v2 directory, its tools below it, and their ids. */
#ifndef IRONCLAW_CGROUP_H
#define IRONCLAW_CGROUP_H

#include <stddef.h>
#include <linux/types.h>
#include "diag.h"
#include "rule.h"

#define CGROUP_PATH_MAX 512

struct sandbox_cgroup {
	char path[CGROUP_PATH_MAX]; /* absolute directory */
	__u32 level; /* 0 = the cgroup v2 root */
	__u64 id;
};

/* where cgroup v2 is mounted (from /proc/mounts), or -ENOENT */
int cgroup2_mount(char *buf, size_t len);
/* the id of a cgroup v2 directory (its file handle), or -errno */
int cgroup_id(const char *path, __u64 *id);
/* resolves PATH (absolute, or relative to the cgroup v2 mount) */
int sandbox_cgroup_open(const char *path, struct sandbox_cgroup *sc, struct diag *d);
/*
 * The id of the cgroup of tool below the sandbox's cgroup, into *id; a
 * missing one (or no sandbox cgroup) is refused at file:line, "what names
 * tool ...".
 */
int tool_resolve(const struct sandbox_cgroup *sc, const char *what, const char *tool,
		 const char *file, int line, __u64 *id, struct diag *d);
/*
 * Fills the tool_id of every line naming a tool (rules, audit lines, DNS name
 * and host-name rules) from the directory of that name below the sandbox's
 * cgroup; a missing one is refused at the line's file:line.
 */
int profile_resolve_tools(struct profile *p, const struct sandbox_cgroup *sc, struct diag *d);

#endif
