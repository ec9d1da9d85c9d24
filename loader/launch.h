/* launch.h: a command started inside a sandbox: its cgroup from the first instruction, its network namespace, a user without privileges. */
#ifndef IRONCLAW_LAUNCH_H
#define IRONCLAW_LAUNCH_H

#include "diag.h"

struct launch_spec {
	const char *netns; /* a netns_ref */
	const char *cgroup; /* absolute cgroup v2 directory */
	const char *user; /* a name or a numeric uid; never root */
	char *const *argv; /* argv[0] is looked up in PATH */
};

/*
 * Runs argv as user, born in the cgroup (clone3 with CLONE_INTO_CGROUP) and
 * entering the namespace before exec, with no capabilities and no_new_privs;
 * forwards SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2 and SIGWINCH to
 * it, and waits. *status: its exit status, 128 + the signal that killed it,
 * 126 (cannot execute) or 127 (not found), as a shell says. 0 or -errno with a
 * message when it could not be started.
 */
int launch_run(const struct launch_spec *s, int *status, struct diag *d);

#endif
