/* cgroup.c: the sandbox's cgroup v2 directory, its tools below it, and their ids. */
#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cgroup.h"

int cgroup2_mount(char *buf, size_t len)
{
	FILE *f = setmntent("/proc/mounts", "r");
	struct mntent *m;
	int err = -ENOENT;

	if (!f)
		return -errno;
	while ((m = getmntent(f))) {
		if (strcmp(m->mnt_type, "cgroup2"))
			continue;
		snprintf(buf, len, "%s", m->mnt_dir);
		err = 0;
		break;
	}
	endmntent(f);
	return err;
}

int cgroup_id(const char *path, __u64 *id)
{
	struct {
		struct file_handle fh;
		__u64 id;
	} h = { .fh.handle_bytes = sizeof(__u64) };
	int mount_id;

	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0))
		return -errno;
	memcpy(id, h.fh.f_handle, sizeof(*id));
	return 0;
}

int sandbox_cgroup_open(const char *path, struct sandbox_cgroup *sc, struct diag *d)
{
	char mnt[256], full[CGROUP_PATH_MAX], *real;
	size_t mlen;
	struct stat sb;
	int err;

	memset(sc, 0, sizeof(*sc));
	err = cgroup2_mount(mnt, sizeof(mnt));
	if (err) {
		diag_error(d, NULL, 0, "no cgroup v2 hierarchy is mounted (/proc/mounts)");
		return err;
	}
	if (path[0] == '/')
		snprintf(full, sizeof(full), "%s", path);
	else
		snprintf(full, sizeof(full), "%s/%s", mnt, path);
	real = realpath(full, NULL);
	if (!real || stat(real, &sb) || !S_ISDIR(sb.st_mode)) {
		err = real ? -ENOTDIR : -errno;
		diag_error(d, NULL, 0, "sandbox cgroup '%s': %s", full, strerror(-err));
		free(real);
		return err;
	}
	mlen = strlen(mnt);
	if (strncmp(real, mnt, mlen) || (real[mlen] != '/' && real[mlen] != '\0')) {
		diag_error(d, NULL, 0,
			   "sandbox cgroup '%s' is not in the cgroup v2 hierarchy at %s", real,
			   mnt);
		free(real);
		return -EINVAL;
	}
	snprintf(sc->path, sizeof(sc->path), "%s", real);
	for (const char *c = real + mlen; *c; c++)
		sc->level += *c == '/';
	free(real);
	err = cgroup_id(sc->path, &sc->id);
	if (err)
		diag_error(d, NULL, 0, "cannot read the id of cgroup '%s': %s", sc->path,
			   strerror(-err));
	return err;
}

/*
 * A process that can write a tool's cgroup.procs or cgroup.threads (and the
 * sandbox's, their common parent) can move itself into that tool and take
 * its rights: only root should.
 */
static void warn_movable(const char *dir, const char *what, const struct rule_origin *r,
			 struct diag *d)
{
	static const char *const files[] = { "cgroup.procs", "cgroup.threads" };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[CGROUP_PATH_MAX + 160];
		struct stat sb;

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (stat(path, &sb))
			continue;
		if (sb.st_uid != 0 || (sb.st_mode & (S_IWGRP | S_IWOTH)))
			diag_warn(
				d, r->file, r->line,
				"%s: %s is writable by %s: a process of that user can move itself "
				"into the tool and take its rights",
				what, path,
				sb.st_uid != 0 ? "its owner (not root)" : "group or others");
	}
}

/* an earlier line names the same tool */
static bool seen_before(const struct profile *p, size_t i)
{
	const struct rule_origin *o = profile_origin(p, i);

	for (size_t j = 0; j < i; j++)
		if (rule_origin_same_tool(profile_origin(p, j), o))
			return true;
	return false;
}

int tool_resolve(const struct sandbox_cgroup *sc, const char *what, const char *tool,
		 const char *file, int line, __u64 *id, struct diag *d)
{
	char path[CGROUP_PATH_MAX + 128];
	struct stat sb;

	if (!sc) {
		diag_error(d, file, line,
			   "%s names tool '%s': give the sandbox's cgroup "
			   "(--sandbox-cgroup)",
			   what, tool);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/%s", sc->path, tool);
	if (stat(path, &sb) || !S_ISDIR(sb.st_mode) || cgroup_id(path, id)) {
		diag_error(d, file, line, "tool '%s': no cgroup %s", tool, path);
		return -ENOENT;
	}
	return 0;
}

int profile_resolve_tools(struct profile *p, const struct sandbox_cgroup *sc, struct diag *d)
{
	bool warned_sandbox = false;
	int err = 0;

	for (size_t i = 0; i < p->nr_audits; i++) {
		struct audit_line *a = &p->audits[i];
		int e;

		if (!a->tool)
			continue;
		e = tool_resolve(sc, "audit", a->name, a->file, a->line, &a->tool_id, d);
		err = e ? e : err;
	}

	/* every kind of rule: addresses, 'allow dns ... tool T', 'allow ... name HOST ... tool T' */
	for (size_t i = 0; i < profile_nr_origins(p); i++) {
		struct rule_origin *r = profile_origin(p, i);
		char path[CGROUP_PATH_MAX + 128];
		int e;

		if (!r->tool)
			continue;
		e = tool_resolve(sc, "rule", r->tool, r->file, r->line, &r->tool_id, d);
		if (e) {
			err = e;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", sc->path, r->tool);
		if (!seen_before(p, i)) {
			char what[160];

			snprintf(what, sizeof(what), "tool '%s'", r->tool);
			warn_movable(path, what, r, d);
		}
		if (!warned_sandbox) {
			warn_movable(sc->path, "the sandbox's cgroup", r, d);
			warned_sandbox = true;
		}
	}
	return err;
}
