/* obj_path.h: a bench binary's BPF object, found next to the binary itself. */
#ifndef IRONCLAW_BENCH_OBJ_PATH_H
#define IRONCLAW_BENCH_OBJ_PATH_H

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

/* out: the path of object `name` in the directory of the running binary; 0 or -errno */
static inline int obj_next_to_self(char *out, size_t len, const char *name)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n < 0)
		return -errno;
	self[n] = '\0';
	snprintf(out, len, "%s/%s", dirname(self), name);
	return 0;
}

#endif
