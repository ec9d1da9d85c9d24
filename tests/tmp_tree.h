/* tmp_tree.h: removing a test's temporary directory tree. */
#ifndef IRONCLAW_TEST_TMP_TREE_H
#define IRONCLAW_TEST_TMP_TREE_H

#include <ftw.h>
#include <stdio.h>

static inline int tmp_tree_remove_entry(const char *path, const struct stat *sb, int flag,
					struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* removes dir and everything below it, symlinks not followed */
static inline void tmp_tree_remove(const char *dir)
{
	nftw(dir, tmp_tree_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
