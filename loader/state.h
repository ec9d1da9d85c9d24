/* state.h: where an instance's state lives (one layout), its lock, and safe opens of those files. */
#ifndef IRONCLAW_STATE_H
#define IRONCLAW_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "diag.h"

/*
 * The layout, decided once (docs/architecture.md):
 *
 *   /run/ironclaw-pipe/            runtime state, root only (0700); gone at reboot
 *     NAME/lock                    the instance lock (flock)
 *     NAME/log.lock                held by the one 'log' or 'suggest' reader
 *     NAME/instance.conf           how it was installed (profile, cgroup, audit)
 *     NAME/rules.list              the installed rules, one a line (counts.h)
 *     NAME/rules.edits             what live edits in place changed of it (rule_edits.h)
 *     NAME/edit.base               what they need of the generation in force (edit_base.h)
 *     NAME/edit.intent             an edit in place under way (pipeline_edit.h)
 *     NAME/live.d/90-live.rules    live edits of allow and revoke
 *     NAME/empty.d/                the empty profile a failed restore installs
 *     NAME/switches                policy switches since boot (metrics)
 *   /etc/ironclaw-pipe/            persistent configuration (profiles, enabled instances)
 *   /var/lib/ironclaw-pipe/NAME/   persistent data: journal/, the collector's event journal
 *   /sys/fs/bpf/ironclaw/NAME/     pins: programs, maps, links
 *
 * Every file here is opened without following symlinks, and every directory
 * is checked to be root's and writable by no one else before it is used.
 */
#define STATE_RUN_DIR "/run/ironclaw-pipe"
#define STATE_CONF_DIR "/etc/ironclaw-pipe"
#define STATE_DATA_DIR "/var/lib/ironclaw-pipe"
#define STATE_PIN_DIR "/sys/fs/bpf/ironclaw"

#define INSTANCE_NAME_MAX 32
#define STATE_PATH_MAX 512

/* the files of an instance's runtime directory */
#define STATE_LOCK "lock"
#define STATE_LOG_LOCK "log.lock"
#define STATE_CONF "instance.conf"
#define STATE_RULE_LIST "rules.list"
#define STATE_RULE_EDITS "rules.edits"
#define STATE_EDIT_BASE "edit.base"
#define STATE_EDIT_INTENT "edit.intent"
#define STATE_LIVE_DIR "live.d"
#define STATE_LIVE_RULES "live.d/90-live.rules"
#define STATE_EMPTY_PROFILE "empty.d" /* the deny-all profile of a failed restore */
#define STATE_SWITCHES "switches"
#define STATE_PROFILE_STAMP "profile.stamp" /* profile_stamp.h */

/* 1-31 characters of [a-z0-9_-] */
bool instance_name_valid(const char *name);

/*
 * Tests put the whole layout below another directory; NULL: the real one.
 * The roots are read at every call.
 */
void state_set_root(const char *root);

/* path of a file of the instance's runtime directory ("" names the directory) */
int state_path(char *buf, size_t len, const char *name, const char *file);
/* the instance's pin directory, or a pin in it ("" names the directory) */
int state_pin_path(char *buf, size_t len, const char *name, const char *pin);
/* the directory holding every instance's pins */
int state_pin_root(char *buf, size_t len);
/* the instance's persistent data directory */
int state_data_path(char *buf, size_t len, const char *name);
/* the collector's event journal of the instance (a directory in its data directory) */
int state_journal_path(char *buf, size_t len, const char *name);
/* creates the data root (0755) and the instance's data directory (0750), root's */
int state_data_dir_ensure(const char *name, struct diag *d);
/* adds one to the number in a file of the instance's runtime directory (absent: 0) */
int state_count_bump(const char *name, const char *file);
/* the persistent configuration directory, or a file in it */
int state_conf_path(char *buf, size_t len, const char *file);

/* creates the configuration directory, and sub in it (NULL: none), root's, mode 0755 */
int state_conf_dir_ensure(const char *sub, struct diag *d);
/* creates the instance's runtime directory (and the root) as root's, mode 0700 */
int state_dir_ensure(const char *name, struct diag *d);
/* the instance has a runtime directory with an instance.conf */
bool state_exists(const char *name);
/* removes the runtime directory of the instance and what is in it */
void state_remove(const char *name);

/*
 * Takes the lock file of the instance (creating it, not following a
 * symlink, refusing a file that is not root's): fd, or -errno. block waits.
 */
int state_lock(const char *name, const char *file, bool block, struct diag *d);

/* opens a state file for reading: no symlink, root's, not writable by others; NULL + errno */
FILE *state_fopen_read(const char *path);
/* writes a state file whole: beside it, then renamed over it; 0 or -errno */
int state_write_file(const char *path, const char *text, size_t len);
/* writes a file of the instance's runtime directory whole (state_write_file), saying so on error */
int state_write_instance_file(const char *name, const char *file, const char *text, size_t len,
			      struct diag *d);
/*
 * writes a state file as state_write_file does, through fill(f, arg) into a
 * stream (no copy of the whole in memory); fill returns 0 or -errno
 */
int state_write_stream(const char *path, int (*fill)(FILE *f, void *arg), void *arg);
/*
 * The same in two steps: written beside (path.new), then renamed over path
 * (keep) or removed (!keep); a reader sees the old file until the rename
 */
int state_write_side(const char *path, int (*fill)(FILE *f, void *arg), void *arg);
int state_side_commit(const char *path, bool keep);
/* reads a state file whole (NUL-terminated); NULL with errno (ENOENT when absent) */
char *state_read_file(const char *path, size_t *len);

/*
 * An instance installed by an earlier build kept its runtime state in
 * /run/ironclaw-pipe/NAME.conf, NAME.rules and NAME.d/: moved into
 * NAME/ here. 1 when something was moved, 0 when nothing was there.
 */
int state_migrate(const char *name, struct diag *d);

#endif
