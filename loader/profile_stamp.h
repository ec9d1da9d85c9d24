/* profile_stamp.h: a profile directory's stamp, to guess before parsing whether a reload changes anything. */
#ifndef IRONCLAW_PROFILE_STAMP_H
#define IRONCLAW_PROFILE_STAMP_H

#include <stdbool.h>

#define PROFILE_STAMP_LEN 17 /* 16 hex digits and the NUL */

/*
 * The directory's path, and every *.rules and *.bpf.o file in it by name, size, inode, device
 * and change times, hashed: a guess only (a file rewritten with the same size within the
 * clock's tick keeps it; a touched file changes it). 0, or -errno.
 */
int profile_stamp(const char *dir, char out[PROFILE_STAMP_LEN]);
/* the stamp recorded for instance name is stamp (a record that cannot be read: false) */
bool profile_stamp_recorded(const char *name, const char *stamp);
/* records stamp for instance name (its runtime directory's STATE_PROFILE_STAMP); best effort */
void profile_stamp_record(const char *name, const char *stamp);

#endif
