/* cmd.c: what the commands of the command line share: root, the kernel, reporting, a locked instance. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "cmd.h"

int cmd_report(const char *cmd, struct diag *d, int err)
{
	diag_print(d, stderr);
	if (err && !d->errors)
		fprintf(stderr, "ironclaw-pipe %s: %s\n", cmd, strerror(-err));
	diag_free(d);
	return err ? 1 : 0;
}

int cmd_need_root(const char *cmd)
{
	if (geteuid() == 0)
		return 0;
	fprintf(stderr,
		"ironclaw-pipe %s: must run as root (loading and attaching BPF programs "
		"needs CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN)\n",
		cmd);
	return 1;
}

int cmd_check_kernel(const char *cmd)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		fprintf(stderr,
			"ironclaw-pipe %s: kernel BTF missing (/sys/kernel/btf/vmlinux): a kernel "
			"built with CONFIG_DEBUG_INFO_BTF is needed\n",
			cmd);
		return 1;
	}
	if (!uname(&u) && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
	    (major < 6 || (major == 6 && minor < 6))) {
		fprintf(stderr,
			"ironclaw-pipe %s: kernel %s has no tcx links (needs 6.6 or later)\n", cmd,
			u.release);
		return 1;
	}
	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_loop, NULL) != 1) {
		fprintf(stderr,
			"ironclaw-pipe %s: kernel lacks the bpf_loop helper (needs 5.17 or later)\n",
			cmd);
		return 1;
	}
	return 0;
}

int cmd_on_instance(const char *name, struct diag *d,
		    int (*act)(struct instance *in, void *arg, struct diag *d), void *arg)
{
	struct instance in;
	int err = instance_open(name, INSTANCE_LOCK | INSTANCE_MUST_EXIST, &in, d);

	if (!err)
		err = act(&in, arg, d);
	instance_close(&in);
	return err;
}
