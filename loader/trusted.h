/*
 * trusted.h: a profile's directory and files opened only when root's and written by root
 * alone; a file of a profile (.rules or .bpf.o) is never read through a symlink.
 */
#ifndef IRONCLAW_TRUSTED_H
#define IRONCLAW_TRUSTED_H

#include "diag.h"

enum trusted_kind {
	TRUSTED_RULES, /* a .rules file */
	TRUSTED_STAGE, /* a .bpf.o stage object */
	TRUSTED_TEST, /* a .test file (profile tests) */
};

/*
 * The profile directory at path (followed when path is a symlink: a profile may be switched
 * by moving a link), checked root's with no group or other write bit: an O_DIRECTORY fd, or
 * -errno after a message naming path.
 */
int trusted_dir_open(const char *path, struct diag *d);
/*
 * name under dirfd (AT_FDCWD: a path) opened for reading: not a symlink, a regular file,
 * root's, no group or other write bit; an fd, or -errno after one message naming path.
 */
int trusted_open(int dirfd, const char *name, const char *path, enum trusted_kind kind,
		 struct diag *d);

#endif
