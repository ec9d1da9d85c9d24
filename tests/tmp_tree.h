/* tmp_tree.h: a test's temporary directory tree: made below $TMPDIR, removed whole. */
#ifndef IRONCLAW_TEST_TMP_TREE_H
#define IRONCLAW_TEST_TMP_TREE_H

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline int tmp_tree_remove_entry(const char *path, const struct stat *sb, int flag,
					struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* a new directory $TMPDIR/ironclaw-unit-TAG-XXXXXX (or below /tmp) into buf; asserts */
static inline void tmp_tree_make(char *buf, size_t len, const char *tag)
{
	const char *base = getenv("TMPDIR");

	snprintf(buf, len, "%s/ironclaw-unit-%s-XXXXXX", base ? base : "/tmp", tag);
	cr_assert_not_null(mkdtemp(buf), "mkdtemp(%s): %s", buf, strerror(errno));
}

/* removes dir and everything below it, symlinks not followed */
static inline void tmp_tree_remove(const char *dir)
{
	nftw(dir, tmp_tree_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
