/*
 * trusted.c: a profile's directory and files opened only when root's and written by root
 * alone; a file of a profile (.rules or .bpf.o) is never read through a symlink.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "trusted.h"

#define WHY_ROOT "a profile is root's and written by root alone"

static const struct {
	const char *noun; /* "rules file is owned by ..." */
	const char *cannot; /* "cannot read: ..." */
} kinds[] = {
	[TRUSTED_RULES] = { "rules file", "cannot read" },
	[TRUSTED_STAGE] = { "stage object", "cannot read stage object" },
	[TRUSTED_TEST] = { "test file", "cannot read test file" },
};

/*
 * Owner and mode of what fd is: 0, or -EPERM after a message. Root reads
 * root's files alone. Anyone else (check and test, which install nothing)
 * reads root's and their own: a user testing the profile they write.
 */
static int owner_mode_ok(const struct stat *sb, const char *path, const char *noun, struct diag *d)
{
	uid_t me = geteuid();

	if (sb->st_uid != 0 && me == 0) {
		diag_error(d, path, 0, "%s is owned by uid %u, not root: refused (" WHY_ROOT ")",
			   noun, (unsigned)sb->st_uid);
		return -EPERM;
	}
	if (sb->st_uid != 0 && sb->st_uid != me) {
		diag_error(d, path, 0,
			   "%s is owned by uid %u, neither root nor you (uid %u): refused (a "
			   "profile is read as root's, or as its own user's to check and test it)",
			   noun, (unsigned)sb->st_uid, (unsigned)me);
		return -EPERM;
	}
	if (sb->st_mode & (S_IWGRP | S_IWOTH)) {
		diag_error(d, path, 0, "%s is writable by %s: refused (" WHY_ROOT ")", noun,
			   sb->st_mode & S_IWOTH ? "others" : "its group");
		return -EPERM;
	}
	return 0;
}

int trusted_dir_open(const char *path, struct diag *d)
{
	struct stat sb;
	int fd, err;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		diag_error(d, path, 0, "cannot read profile directory: %s", strerror(err));
		return -err;
	}
	if (fstat(fd, &sb)) {
		err = errno;
		diag_error(d, path, 0, "cannot read profile directory: %s", strerror(err));
		close(fd);
		return -err;
	}
	err = owner_mode_ok(&sb, path, "profile directory", d);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* name under dirfd is a symlink that open(O_NOFOLLOW) refused: one message that says so */
static void symlink_refused(int dirfd, const char *name, const char *path, const char *cannot,
			    struct diag *d)
{
	struct stat target;
	int gone = fstatat(dirfd, name, &target, 0) ? errno : 0;

	diag_error(d, path, 0,
		   "%s: a symlink, refused (no file of a profile is read through a symlink: put "
		   "the file itself in the profile; the profile directory may be a symlink)%s%s",
		   cannot, gone ? "; it points to nothing: " : "", gone ? strerror(gone) : "");
}

int trusted_open(int dirfd, const char *name, const char *path, enum trusted_kind kind,
		 struct diag *d)
{
	const char *cannot = kinds[kind].cannot;
	struct stat sb;
	int fd, err;

	/* O_NONBLOCK: a FIFO in the profile must not hang the loader; cleared for the read */
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		if (err == ELOOP && !fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) &&
		    S_ISLNK(sb.st_mode))
			symlink_refused(dirfd, name, path, cannot, d);
		else
			diag_error(d, path, 0, "%s: %s", cannot, strerror(err));
		return -err;
	}
	/* judge the file held open, not the name: no swap in between */
	if (fstat(fd, &sb)) {
		err = -errno;
		diag_error(d, path, 0, "%s: %s", cannot, strerror(-err));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		err = S_ISDIR(sb.st_mode) ? -EISDIR : -EPERM;
		diag_error(d, path, 0, "%s: not a regular file (%s)", cannot,
			   S_ISDIR(sb.st_mode) ? strerror(EISDIR) : "a device, FIFO or socket");
		goto fail;
	}
	err = owner_mode_ok(&sb, path, kinds[kind].noun, d);
	if (err)
		goto fail;
	if (fcntl(fd, F_SETFL, 0)) {
		err = -errno;
		diag_error(d, path, 0, "%s: %s", cannot, strerror(-err));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}
