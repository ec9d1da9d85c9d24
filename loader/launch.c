/* launch.c: a command started inside a sandbox: its cgroup from the first instruction, its network namespace, a user without privileges. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "launch.h"
#include "netns.h"

/* the signals a supervisor passes on; SIGCHLD says the command ended */
static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH };

/* what the child reports through the pipe when it cannot exec */
struct launch_failure {
	int err;
	int status; /* 126 or 127 */
	char what[200];
};

struct launch_user {
	uid_t uid;
	gid_t gid;
	char name[64], home[256], shell[256];
};

static int user_find(const char *user, struct launch_user *u, struct diag *d)
{
	struct passwd *pw;
	char *end;
	long id;

	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		id = strtol(user, &end, 10);
		if (*user && !*end && id >= 0 && id < (long)(uid_t)-1)
			pw = getpwuid((uid_t)id);
	}
	if (!pw) {
		diag_error(d, NULL, 0, "--user %s: no such user", user);
		return -ENOENT;
	}
	if (pw->pw_uid == 0) {
		diag_error(d, NULL, 0,
			   "--user %s: run never starts a command as root, which could detach the "
			   "pipeline's links and leave the sandbox",
			   user);
		return -EPERM;
	}
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
	snprintf(u->home, sizeof(u->home), "%s", pw->pw_dir ? pw->pw_dir : "/");
	snprintf(u->shell, sizeof(u->shell), "%s", pw->pw_shell ? pw->pw_shell : "/bin/sh");
	return 0;
}

/* drops every capability, for good: the bounding set, ambient, then the user change */
static int drop_privileges(const struct launch_user *u, struct launch_failure *f)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	for (int c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0)) {
			snprintf(f->what, sizeof(f->what), "cannot drop capability %d", c);
			return -errno;
		}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) ||
	    initgroups(u->name, u->gid) || setresgid(u->gid, u->gid, u->gid) ||
	    setresuid(u->uid, u->uid, u->uid)) {
		snprintf(f->what, sizeof(f->what), "cannot become user %s", u->name);
		return -errno;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(f->what, sizeof(f->what), "cannot set no_new_privs");
		return -errno;
	}
	if (syscall(SYS_capget, &hdr, data) || data[0].effective || data[0].permitted ||
	    data[1].effective || data[1].permitted || data[0].inheritable || data[1].inheritable) {
		snprintf(f->what, sizeof(f->what), "capabilities left after the user change");
		return -EPERM;
	}
	return 0;
}

/* the child: in the cgroup already; the namespace, the user, then the command */
static void child(const struct launch_spec *s, const struct launch_user *u, int netns_fd,
		  int report_fd, const sigset_t *mask)
{
	struct launch_failure f = { .status = 126 };

	if (setns(netns_fd, CLONE_NEWNET)) {
		f.err = -errno;
		snprintf(f.what, sizeof(f.what), "cannot enter network namespace '%s'", s->netns);
		goto fail;
	}
	f.err = drop_privileges(u, &f);
	if (f.err)
		goto fail;
	if (setenv("HOME", u->home, 1) || setenv("USER", u->name, 1) ||
	    setenv("LOGNAME", u->name, 1) || setenv("SHELL", u->shell, 1)) {
		f.err = -errno;
		snprintf(f.what, sizeof(f.what), "cannot set the environment");
		goto fail;
	}
	/* nothing of the loader's (BPF objects, the instance's files) crosses the exec */
	if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC)) {
		f.err = -errno;
		snprintf(f.what, sizeof(f.what), "cannot close the loader's files");
		goto fail;
	}
	sigprocmask(SIG_SETMASK, mask, NULL);
	execvp(s->argv[0], s->argv);
	f.err = -errno;
	f.status = errno == ENOENT ? 127 : 126;
	snprintf(f.what, sizeof(f.what), "cannot execute '%s'", s->argv[0]);
fail:
	if (write(report_fd, &f, sizeof(f)) != sizeof(f))
		_exit(f.status);
	_exit(f.status);
}

/* waits for pid, passing the forwarded signals on; its status as a shell gives it */
static int supervise(pid_t pid, const sigset_t *set)
{
	siginfo_t si;
	int ws;

	for (;;) {
		if (sigwaitinfo(set, &si) < 0)
			continue;
		if (si.si_signo != SIGCHLD) {
			/* a terminal's signal reached the command's process group already */
			if (si.si_code != SI_KERNEL)
				kill(pid, si.si_signo);
			continue;
		}
		if (waitpid(pid, &ws, WNOHANG) == pid)
			return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	}
}

int launch_run(const struct launch_spec *s, int *status, struct diag *d)
{
	int netns_fd = -1, cgroup_fd = -1, pipefd[2] = { -1, -1 }, err;
	struct launch_failure f;
	struct launch_user u;
	sigset_t set, old;
	struct clone_args ca = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD };
	ssize_t n;
	pid_t pid;

	err = user_find(s->user, &u, d);
	if (err)
		return err;
	netns_fd = netns_open(s->netns, d);
	if (netns_fd < 0)
		return netns_fd;
	cgroup_fd = open(s->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgroup_fd < 0) {
		err = -errno;
		diag_error(d, NULL, 0, "cannot open cgroup %s: %s", s->cgroup, strerror(errno));
		goto out;
	}
	if (pipe2(pipefd, O_CLOEXEC)) {
		err = -errno;
		diag_error(d, NULL, 0, "pipe: %s", strerror(errno));
		goto out;
	}
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&set, forwarded[i]);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	fflush(NULL);
	ca.cgroup = (__u64)cgroup_fd;
	pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0) {
		close(pipefd[0]);
		child(s, &u, netns_fd, pipefd[1], &old);
	}
	if (pid < 0) {
		err = -errno;
		diag_error(d, NULL, 0, "cannot start a process in cgroup %s: %s", s->cgroup,
			   strerror(errno));
		sigprocmask(SIG_SETMASK, &old, NULL);
		goto out;
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	do
		n = read(pipefd[0], &f, sizeof(f));
	while (n < 0 && errno == EINTR);
	*status = supervise(pid, &set);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (n == sizeof(f)) {
		diag_error(d, NULL, 0, "%s: %s", f.what, strerror(-f.err));
		err = f.err;
		*status = f.status;
	}
out:
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (cgroup_fd >= 0)
		close(cgroup_fd);
	close(netns_fd);
	return err;
}
