/* state.c: where an instance's state lives (one layout), its lock, and safe opens of those files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "state.h"

static const char *state_root; /* tests: the layout below this directory */

void state_set_root(const char *root)
{
	state_root = root;
}

bool instance_name_valid(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < INSTANCE_NAME_MAX &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static int path_join(char *buf, size_t len, const char *dir, const char *a, const char *b)
{
	int n = snprintf(buf, len, "%s%s%s%s%s%s", state_root ? state_root : "", dir,
			 a && *a ? "/" : "", a ? a : "", b && *b ? "/" : "", b ? b : "");

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int state_path(char *buf, size_t len, const char *name, const char *file)
{
	return path_join(buf, len, STATE_RUN_DIR, name, file);
}

int state_pin_path(char *buf, size_t len, const char *name, const char *pin)
{
	/* pins are made by the kernel's bpffs: tests cannot move them */
	int n = snprintf(buf, len, "%s/%s%s%s", STATE_PIN_DIR, name, pin && *pin ? "/" : "",
			 pin ? pin : "");

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int state_pin_root(char *buf, size_t len)
{
	return snprintf(buf, len, "%s", STATE_PIN_DIR) >= (int)len ? -ENAMETOOLONG : 0;
}

int state_data_path(char *buf, size_t len, const char *name)
{
	return path_join(buf, len, STATE_DATA_DIR, name, NULL);
}

int state_journal_path(char *buf, size_t len, const char *name)
{
	return path_join(buf, len, STATE_DATA_DIR, name, "journal");
}

int state_conf_path(char *buf, size_t len, const char *file)
{
	return path_join(buf, len, STATE_CONF_DIR, file, NULL);
}

/* a directory that only root may change: root's, and no group or other write bit */
static int dir_trusted(const char *path, struct diag *d)
{
	struct stat sb;

	if (lstat(path, &sb))
		return -errno;
	if (!S_ISDIR(sb.st_mode) || sb.st_uid != 0 || (sb.st_mode & 022)) {
		diag_error(d, NULL, 0,
			   "%s is not a directory of root's that only root may write (owner %u, "
			   "mode %03o%s): remove it and try again",
			   path, sb.st_uid, sb.st_mode & 0777,
			   S_ISLNK(sb.st_mode) ? ", a symlink" : "");
		return -EPERM;
	}
	return 0;
}

static int mkdir_trusted(const char *path, mode_t mode, struct diag *d)
{
	if (mkdir(path, mode) && errno != EEXIST) {
		int err = -errno;

		diag_error(d, NULL, 0, "cannot create %s: %s", path, strerror(-err));
		return err;
	}
	return dir_trusted(path, d);
}

int state_conf_dir_ensure(const char *sub, struct diag *d)
{
	char path[STATE_PATH_MAX];
	int err = 0;

	if (state_root) {
		err = mkdir_trusted(state_root, 0755, d);
		path_join(path, sizeof(path), "/etc", NULL, NULL);
		if (!err)
			err = mkdir_trusted(path, 0755, d);
	}
	if (!err)
		err = state_conf_path(path, sizeof(path), NULL);
	if (!err)
		err = mkdir_trusted(path, 0755, d);
	if (!err && sub)
		err = state_conf_path(path, sizeof(path), sub);
	if (!err && sub)
		err = mkdir_trusted(path, 0755, d);
	return err;
}

int state_dir_ensure(const char *name, struct diag *d)
{
	char path[STATE_PATH_MAX];
	int err;

	if (state_root) {
		err = mkdir_trusted(state_root, 0700, d);
		if (err)
			return err;
		path_join(path, sizeof(path), "/run", NULL, NULL);
		err = mkdir_trusted(path, 0700, d);
		if (err)
			return err;
	}
	err = state_path(path, sizeof(path), NULL, NULL);
	if (!err)
		err = mkdir_trusted(path, 0700, d);
	if (!err)
		err = state_path(path, sizeof(path), name, NULL);
	if (!err)
		err = mkdir_trusted(path, 0700, d);
	if (!err)
		err = state_path(path, sizeof(path), name, STATE_LIVE_DIR);
	if (!err)
		err = mkdir_trusted(path, 0700, d);
	return err;
}

int state_data_dir_ensure(const char *name, struct diag *d)
{
	char path[STATE_PATH_MAX];
	int err = 0;

	if (state_root) {
		err = mkdir_trusted(state_root, 0755, d);
		path_join(path, sizeof(path), "/var", NULL, NULL);
		if (!err)
			err = mkdir_trusted(path, 0755, d);
		path_join(path, sizeof(path), "/var/lib", NULL, NULL);
		if (!err)
			err = mkdir_trusted(path, 0755, d);
	}
	if (!err)
		err = path_join(path, sizeof(path), STATE_DATA_DIR, NULL, NULL);
	if (!err)
		err = mkdir_trusted(path, 0755, d);
	if (!err)
		err = state_data_path(path, sizeof(path), name);
	if (!err)
		err = mkdir_trusted(path, 0750, d);
	return err;
}

int state_count_bump(const char *name, const char *file)
{
	char path[STATE_PATH_MAX], num[32], *old;
	int err = state_path(path, sizeof(path), name, file);
	size_t n;

	if (err)
		return err;
	old = state_read_file(path, &n);
	snprintf(num, sizeof(num), "%llu\n", (old ? strtoull(old, NULL, 10) : 0) + 1);
	free(old);
	return state_write_file(path, num, strlen(num));
}

bool state_exists(const char *name)
{
	char path[STATE_PATH_MAX];
	struct stat sb;

	return !state_path(path, sizeof(path), name, STATE_CONF) && !lstat(path, &sb) &&
	       S_ISREG(sb.st_mode);
}

static void remove_tree(const char *path)
{
	struct dirent *de;
	DIR *dd = opendir(path);

	while (dd && (de = readdir(dd))) {
		char sub[STATE_PATH_MAX];
		struct stat sb;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= sizeof(sub))
			continue;
		if (!lstat(sub, &sb) && S_ISDIR(sb.st_mode))
			remove_tree(sub);
		else
			unlink(sub);
	}
	if (dd)
		closedir(dd);
	rmdir(path);
}

void state_remove(const char *name)
{
	char path[STATE_PATH_MAX];

	if (!instance_name_valid(name) || state_path(path, sizeof(path), name, NULL))
		return;
	remove_tree(path);
	if (!state_path(path, sizeof(path), NULL, NULL))
		rmdir(path); /* only when no other instance is left */
}

int state_lock(const char *name, const char *file, bool block, struct diag *d)
{
	char path[STATE_PATH_MAX];
	struct stat sb;
	int fd, err;

	err = state_dir_ensure(name, d);
	if (err)
		return err;
	err = state_path(path, sizeof(path), name, file);
	if (err)
		return err;
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		diag_error(d, NULL, 0, "cannot open the lock of instance '%s' (%s): %s", name, path,
			   strerror(-err));
		return err;
	}
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_uid != 0) {
		diag_error(d, NULL, 0, "lock %s is not a file of root's: remove it", path);
		close(fd);
		return -EPERM;
	}
	if (flock(fd, LOCK_EX | (block ? 0 : LOCK_NB))) {
		err = -errno;
		if (err != -EWOULDBLOCK)
			diag_error(d, NULL, 0, "cannot lock instance '%s' (%s): %s", name, path,
				   strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

FILE *state_fopen_read(const char *path)
{
	struct stat sb;
	FILE *f;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_uid != 0 || (sb.st_mode & 022)) {
		close(fd);
		errno = EPERM;
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f)
		close(fd);
	return f;
}

char *state_read_file(const char *path, size_t *len)
{
	FILE *f = state_fopen_read(path);
	char *buf = NULL, *g;
	size_t n = 0, cap = 0, got;
	struct stat sb;
	int err = 0;

	*len = 0;
	if (!f)
		return NULL;
	/* in blocks, not a character a call: a rule list of 1M rules is tens of megabytes */
	if (!fstat(fileno(f), &sb) && sb.st_size > 0) {
		cap = (size_t)sb.st_size + 65536 + 1; /* its size now, and room for growth */
		buf = malloc(cap);
		if (!buf)
			err = ENOMEM;
	}
	while (!err) {
		if (cap - n < 65536 + 1) {
			cap = cap ? 2 * cap : 65536 + 1;
			g = realloc(buf, cap);
			if (!g) {
				err = ENOMEM;
				break;
			}
			buf = g;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (!got)
			break;
	}
	if (!err && ferror(f))
		err = EIO;
	fclose(f);
	if (err) {
		free(buf);
		errno = err;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

int state_write_side(const char *path, int (*fill)(FILE *f, void *arg), void *arg)
{
	char tmp[STATE_PATH_MAX + 8];
	FILE *f;
	int fd, err;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		unlink(tmp);
		return err;
	}
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	err = fill(f, arg);
	if (fclose(f) && !err)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int state_side_commit(const char *path, bool keep)
{
	char tmp[STATE_PATH_MAX + 8];
	int err = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	if (keep && rename(tmp, path))
		err = -errno;
	if (err || !keep)
		unlink(tmp);
	return err;
}

int state_write_stream(const char *path, int (*fill)(FILE *f, void *arg), void *arg)
{
	return state_write_side(path, fill, arg) ?: state_side_commit(path, true);
}

struct text_span {
	const char *text;
	size_t len;
};

static int write_span(FILE *f, void *arg)
{
	const struct text_span *t = arg;

	return fwrite(t->text, 1, t->len, f) == t->len ? 0 : -EIO;
}

int state_write_file(const char *path, const char *text, size_t len)
{
	struct text_span t = { text, len };

	return state_write_stream(path, write_span, &t);
}

int state_migrate(const char *name, struct diag *d)
{
	static const struct {
		const char *old_suffix, *new_file;
	} moves[] = {
		{ ".conf", STATE_CONF },
		{ ".rules", STATE_RULE_LIST },
		{ ".d/90-live.rules", STATE_LIVE_RULES },
	};
	char old[STATE_PATH_MAX], new[STATE_PATH_MAX];
	struct stat sb;
	int moved = 0, err;

	if (state_path(old, sizeof(old), NULL, NULL) ||
	    (size_t)snprintf(old + strlen(old), sizeof(old) - strlen(old), "/%s.conf", name) >=
		    sizeof(old) - strlen(old) ||
	    lstat(old, &sb) || !S_ISREG(sb.st_mode))
		return 0;
	err = state_dir_ensure(name, d);
	if (err)
		return err;
	for (size_t i = 0; i < sizeof(moves) / sizeof(moves[0]); i++) {
		state_path(old, sizeof(old), NULL, NULL);
		snprintf(old + strlen(old), sizeof(old) - strlen(old), "/%s%s", name,
			 moves[i].old_suffix);
		state_path(new, sizeof(new), name, moves[i].new_file);
		if (lstat(old, &sb))
			continue;
		if (!S_ISREG(sb.st_mode) || sb.st_uid != 0 || rename(old, new)) {
			diag_error(d, NULL, 0,
				   "instance '%s' was installed by an earlier build; its %s cannot "
				   "be moved to %s: block, uninstall and install it again",
				   name, old, new);
			return -EPERM;
		}
		moved = 1;
	}
	/* the earlier build's live-edit directory and lock file, now empty or unused */
	state_path(old, sizeof(old), NULL, NULL);
	snprintf(old + strlen(old), sizeof(old) - strlen(old), "/%s.d", name);
	rmdir(old);
	snprintf(old, sizeof(old), "/run/lock/ironclaw-pipe.%s.lock", name);
	if (!state_root)
		unlink(old);
	return moved;
}

int state_write_instance_file(const char *name, const char *file, const char *text, size_t len,
			      struct diag *d)
{
	char path[STATE_PATH_MAX];
	int err = state_path(path, sizeof(path), name, file);

	if (!err)
		err = state_write_file(path, text, len);
	if (err)
		diag_error(d, NULL, 0, "cannot write %s: %s", path, strerror(-err));
	return err;
}
