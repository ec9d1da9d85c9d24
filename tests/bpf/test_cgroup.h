/*
 * test_cgroup.h: a test process's own cgroup v2 directory, and moving the
 * process into another one (tests that run frames as a tool's socket).
 */
#ifndef IRONCLAW_TEST_CGROUP_H
#define IRONCLAW_TEST_CGROUP_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cgroup.h"

/* the absolute directory of this process's cgroup v2 into buf, or -errno */
static inline int cgroup_self(char *buf, size_t len)
{
	char line[1024], mnt[256];
	int err = -ENOENT;
	FILE *f;

	err = cgroup2_mount(mnt, sizeof(mnt));
	if (err)
		return err;
	f = fopen("/proc/self/cgroup", "r");
	if (!f)
		return -errno;
	err = -ENOENT;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(buf, len, "%s%s", mnt, line + 3);
			err = 0;
		}
	fclose(f);
	return err;
}

/* writes "0" (this process) into dir/cgroup.procs; 0 or -errno */
static inline int cgroup_enter(const char *dir)
{
	char path[2 * PATH_MAX];
	int fd, err = 0;

	if (snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, "0", 1) != 1)
		err = -errno;
	close(fd);
	return err;
}

#endif
