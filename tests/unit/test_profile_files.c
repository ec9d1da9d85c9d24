/*
 * test_profile_files.c: a profile's directory and .rules files (loader/profile.c): who may write
 * them, symlinks, and bytes that are no text. Each refusal is one message naming file[:line].
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "profile.h"
#include "diag_helpers.h"
#include "tmp_tree.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static char tmpdir[256];

static void setup(void)
{
	umask(022);
	tmp_tree_make(tmpdir, sizeof(tmpdir), "files");
}

static void teardown(void)
{
	if (tmpdir[0])
		tmp_tree_remove(tmpdir);
	tmpdir[0] = '\0';
}

TestSuite(profile_files, .init = setup, .fini = teardown);

static void require_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: the test makes root-owned and other-owned files");
}

/* tmpdir/name, in one of a few rotating buffers */
static const char *path_of(const char *name)
{
	static char buf[4][512];
	static int which;

	which = (which + 1) % 4;
	snprintf(buf[which], sizeof(buf[which]), "%s/%s", tmpdir, name);
	return buf[which];
}

/* tmpdir/name with len bytes, owner uid and exactly mode (fchmod ignores the umask) */
static void put(const char *name, const char *data, size_t len, uid_t uid, mode_t mode)
{
	const char *path = path_of(name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	cr_assert_geq(fd, 0, "create %s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, data, len), (ssize_t)len, "write %s: %s", path, strerror(errno));
	if (uid != geteuid())
		cr_assert_eq(fchown(fd, uid, -1), 0, "chown %s: %s", path, strerror(errno));
	cr_assert_eq(fchmod(fd, mode), 0, "chmod %s: %s", path, strerror(errno));
	cr_assert_eq(close(fd), 0);
}

static void put_text(const char *name, const char *text)
{
	put(name, text, strlen(text), geteuid(), 0644);
}

/* a profile directory tmpdir/name, owner uid, exactly mode */
static const char *profile_dir(const char *name, uid_t uid, mode_t mode)
{
	const char *path = path_of(name);

	cr_assert_eq(mkdir(path, 0700), 0, "mkdir %s: %s", path, strerror(errno));
	cr_assert_eq(chown(path, uid, -1), 0, "chown %s: %s", path, strerror(errno));
	cr_assert_eq(chmod(path, mode), 0, "chmod %s: %s", path, strerror(errno));
	return path;
}

/* profile_load_dir(dir) fails with one error, "AT: SAYS..." */
static void expect_refused(const char *dir, const char *at, const char *says)
{
	struct profile p = {};
	struct diag d = {};
	int err = profile_load_dir(dir, NULL, &p, &d);

	cr_assert_lt(err, 0, "%s: accepted (%d):%s", dir, err, all_msgs(&d));
	cr_assert_eq(d.errors, 1, "%s: %d errors, want 1:%s", dir, d.errors, all_msgs(&d));
	cr_assert(starts_with(d.msgs[0], at), "\"%s\" does not start with \"%s\"", d.msgs[0], at);
	cr_assert(strstr(d.msgs[0], says), "\"%s\" does not say \"%s\"", d.msgs[0], says);
	profile_free(&p);
	diag_free(&d);
}

static void expect_accepted(const char *dir, size_t rules)
{
	struct profile p = {};
	struct diag d = {};
	int err = profile_load_dir(dir, NULL, &p, &d);

	cr_assert_eq(err, 0, "%s: refused (%d):%s", dir, err, all_msgs(&d));
	cr_assert_eq(d.nr, 0, "%s: messages:%s", dir, all_msgs(&d));
	cr_assert_eq(p.nr_rules, rules, "%s: %zu rules, want %zu", dir, p.nr_rules, rules);
	profile_free(&p);
	diag_free(&d);
}

/* who may write a .rules file: root alone, like a stage object (loader/stage.c) */

static const struct {
	uid_t uid;
	mode_t mode;
	const char *says;
} rules_refused[] = {
	{ 0, 0664, "rules file is writable by its group: refused" },
	{ 0, 0620, "rules file is writable by its group: refused" },
	{ 0, 0666, "rules file is writable by others: refused" },
	{ 0, 0646, "rules file is writable by others: refused" },
	{ 1000, 0644, "rules file is owned by uid 1000, not root: refused" },
	{ 65534, 0444, "rules file is owned by uid 65534, not root: refused" },
};

Test(profile_files, rules_file_writable_by_others_or_not_roots)
{
	require_root();
	for (size_t i = 0; i < ARRAY_SIZE(rules_refused); i++) {
		char dir[32], good[64], name[64], at[600];

		snprintf(dir, sizeof(dir), "p%zu", i);
		snprintf(good, sizeof(good), "p%zu/10-a.rules", i);
		snprintf(name, sizeof(name), "p%zu/20-b.rules", i);
		profile_dir(dir, 0, 0755);
		put_text(good, "allow tcp 10.0.0.1 port 80\n");
		put(name, "allow tcp 10.0.0.2 port 80\n", 27, rules_refused[i].uid,
		    rules_refused[i].mode);
		snprintf(at, sizeof(at), "%s: ", path_of(name));
		expect_refused(path_of(dir), at, rules_refused[i].says);
	}
}

Test(profile_files, read_only_rules_files_accepted)
{
	static const mode_t modes[] = { 0400, 0444, 0600, 0644, 0755, 0644 | S_ISVTX };

	require_root();
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		char name[64];

		snprintf(name, sizeof(name), "%zu-x.rules", i);
		put(name, "allow tcp 10.0.0.1 port 80\n", 27, 0, modes[i]);
		expect_accepted(tmpdir, 1);
		cr_assert_eq(unlink(path_of(name)), 0);
	}
}

/* the directory itself: root's, written by root alone (followed if the path is a symlink) */

static const struct {
	uid_t uid;
	mode_t mode;
	const char *says;
} dir_refused[] = {
	{ 0, 0775, "profile directory is writable by its group: refused" },
	{ 0, 0730, "profile directory is writable by its group: refused" },
	{ 0, 0777, "profile directory is writable by others: refused" },
	{ 0, 01777, "profile directory is writable by others: refused" },
	{ 0, 0703, "profile directory is writable by others: refused" },
	{ 1000, 0755, "profile directory is owned by uid 1000, not root: refused" },
	{ 65534, 0700, "profile directory is owned by uid 65534, not root: refused" },
};

Test(profile_files, directory_writable_by_others_or_not_roots)
{
	require_root();
	for (size_t i = 0; i < ARRAY_SIZE(dir_refused); i++) {
		char dir[32], at[600];
		const char *path;

		snprintf(dir, sizeof(dir), "d%zu", i);
		path = profile_dir(dir, dir_refused[i].uid, dir_refused[i].mode);
		snprintf(at, sizeof(at), "%s: ", path);
		expect_refused(path, at, dir_refused[i].says);
	}
}

Test(profile_files, root_directories_accepted)
{
	static const mode_t modes[] = { 0700, 0755, 0555, 0711, 01755 };

	require_root();
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		char dir[32];

		snprintf(dir, sizeof(dir), "ok%zu", i);
		expect_accepted(profile_dir(dir, 0, modes[i]), 0);
	}
}

/* symlinks: the profile's own path may be one; a file in it may not (nor a stage object) */

Test(profile_files, symlinked_rules_file_refused)
{
	char at[600];

	require_root();
	put_text("10-a.rules", "allow tcp 10.0.0.1 port 80\n");
	put_text("real.txt", "allow tcp 10.0.0.2 port 80\n");
	cr_assert_eq(symlink("real.txt", path_of("20-b.rules")), 0, "symlink: %s", strerror(errno));
	snprintf(at, sizeof(at), "%s: cannot read: ", path_of("20-b.rules"));
	expect_refused(tmpdir, at,
		       "a symlink, refused (no file of a profile is read through a symlink");
}

Test(profile_files, symlink_to_a_file_of_others_refused_too)
{
	char at[600];

	require_root();
	put("real.txt", "allow tcp 10.0.0.2 port 80\n", 27, 1000, 0666);
	cr_assert_eq(symlink(path_of("real.txt"), path_of("20-b.rules")), 0);
	snprintf(at, sizeof(at), "%s: cannot read: a symlink, refused", path_of("20-b.rules"));
	expect_refused(tmpdir, at, "symlink");
}

Test(profile_files, symlinked_directory_followed)
{
	require_root();
	profile_dir("v2", 0, 0755);
	put_text("v2/10-a.rules", "allow tcp 10.0.0.1 port 80\n");
	cr_assert_eq(symlink("v2", path_of("current")), 0, "symlink: %s", strerror(errno));
	expect_accepted(path_of("current"), 1);
}

Test(profile_files, symlinked_directory_to_a_group_writable_one_refused)
{
	char at[600];

	require_root();
	profile_dir("v2", 0, 0775);
	cr_assert_eq(symlink("v2", path_of("current")), 0, "symlink: %s", strerror(errno));
	snprintf(at, sizeof(at), "%s: ", path_of("current"));
	expect_refused(path_of("current"), at,
		       "profile directory is writable by its group: refused");
}

/* a NUL byte: an error at its line, not a silent end of the line */

static const struct {
	const char *bytes;
	size_t len;
	int line;
	const char *says;
} nul_files[] = {
#define ROW(s, line, says)                                                                         \
	{                                                                                          \
		s, sizeof(s) - 1, line, says                                                       \
	}
	ROW("allow tcp 10.0.0.1 port 80\nallow tcp 10.0.0.2 port 80\0 tool memscraper\n", 2,
	    "a NUL byte (column 27): a rules file is text"),
	ROW("# a comment\0allow tcp 10.0.0.9 port 80\n", 1, "a NUL byte (column 12)"),
	ROW("\0\n", 1, "a NUL byte (column 1)"),
	ROW("allow tcp 10.0.0.1 port 80\n\nallow tcp 10.0.0.2 port 80\0", 3,
	    "a NUL byte (column 27)"),
	ROW("allow tcp 10.0.0.1\0 port 80\n", 1, "a NUL byte (column 19)"),
#undef ROW
};

Test(profile_files, nul_byte_is_an_error_at_its_line)
{
	for (size_t i = 0; i < ARRAY_SIZE(nul_files); i++) {
		struct profile p = {};
		struct diag d = {};
		char dir[32], name[64], at[600];

		snprintf(dir, sizeof(dir), "n%zu", i);
		snprintf(name, sizeof(name), "n%zu/10-a.rules", i);
		profile_dir(dir, geteuid(), 0755);
		put(name, nul_files[i].bytes, nul_files[i].len, geteuid(), 0644);
		snprintf(at, sizeof(at), "%s:%d: ", path_of(name), nul_files[i].line);
		cr_assert_lt(profile_load_dir(path_of(dir), NULL, &p, &d), 0,
			     "row %zu: a NUL byte was accepted:%s", i, all_msgs(&d));
		cr_assert_eq(d.errors, 1, "row %zu: %d errors, want 1:%s", i, d.errors,
			     all_msgs(&d));
		cr_assert(starts_with(d.msgs[0], at), "row %zu: \"%s\" is not at \"%s\"", i,
			  d.msgs[0], at);
		cr_assert(strstr(d.msgs[0], nul_files[i].says),
			  "row %zu: \"%s\" does not say \"%s\"", i, d.msgs[0], nul_files[i].says);
		profile_free(&p);
		diag_free(&d);
	}
}
