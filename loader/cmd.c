/* cmd.c: what the commands of the command line share: root, the kernel, reporting, a locked instance. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "cmd.h"
#include "kernel.h"

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
	return kernel_check(cmd, stderr);
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
