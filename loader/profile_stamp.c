/* profile_stamp.c: a profile directory's stamp, to guess before parsing whether a reload changes anything. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "profile_stamp.h"
#include "state.h"

static __u64 stamp_put(__u64 h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 0x100000001b3ULL;
	return (h ^ n) * 0x100000001b3ULL;
}

static bool stamped(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && ((len > 6 && !strcmp(name + len - 6, ".rules")) ||
				  (len > 6 && !strcmp(name + len - 6, ".bpf.o")));
}

int profile_stamp(const char *dir, char out[PROFILE_STAMP_LEN])
{
	struct dirent **names = NULL;
	__u64 h = 0xcbf29ce484222325ULL;
	int n, dfd;

	h = stamp_put(h, dir, strlen(dir));
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return -errno;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		struct stat sb;

		if (dfd >= 0 && stamped(name) && !fstatat(dfd, name, &sb, 0)) {
			__u64 f[] = { sb.st_size,	  sb.st_ino,	      sb.st_dev,
				      sb.st_mtim.tv_sec,  sb.st_mtim.tv_nsec, sb.st_ctim.tv_sec,
				      sb.st_ctim.tv_nsec, sb.st_mode };

			h = stamp_put(h, name, strlen(name) + 1);
			h = stamp_put(h, f, sizeof(f));
		}
		free(names[i]);
	}
	free(names);
	if (dfd < 0)
		return -errno;
	close(dfd);
	snprintf(out, PROFILE_STAMP_LEN, "%016llx", (unsigned long long)h);
	return 0;
}

bool profile_stamp_recorded(const char *name, const char *stamp)
{
	char path[STATE_PATH_MAX], *text;
	size_t len;
	bool same;

	if (state_path(path, sizeof(path), name, STATE_PROFILE_STAMP))
		return false;
	text = state_read_file(path, &len);
	same = text && !strcmp(text, stamp);
	free(text);
	return same;
}

void profile_stamp_record(const char *name, const char *stamp)
{
	char path[STATE_PATH_MAX];

	if (!state_path(path, sizeof(path), name, STATE_PROFILE_STAMP))
		state_write_file(path, stamp, strlen(stamp));
}
