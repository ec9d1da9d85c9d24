/* instance_run.c: a command run in an instance's sandbox: its cgroup (or a tool's), its network namespace, as a user without privileges. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "instance.h"
#include "launch.h"

int instance_run(const char *name, const char *tool, const char *user, char *const *argv,
		 int *status, struct diag *d)
{
	struct launch_spec ls = { .user = user, .argv = argv };
	char cgroup[STATE_PATH_MAX + 128];
	struct instance in;
	struct stat sb;
	int err;

	*status = 1;
	err = instance_open(name, INSTANCE_MUST_EXIST, &in, d);
	if (err)
		return err;
	if (!in.has_conf || !in.conf.sandbox_cgroup[0] || !in.conf.sandbox_netns[0]) {
		diag_error(d, NULL, 0,
			   "instance '%s' has no sandbox %s recorded: install it with %s", name,
			   !in.has_conf || !in.conf.sandbox_cgroup[0] ? "cgroup" :
									"network namespace",
			   !in.has_conf || !in.conf.sandbox_cgroup[0] ?
				   "--sandbox-cgroup PATH" :
				   "--sandbox-netns NS (or --tc IFACE@NS)");
		err = -ENOENT;
		goto out;
	}
	if (tool && !tool_name_valid(tool)) {
		diag_error(d, NULL, 0, "--tool %s: a tool is a cgroup name, [A-Za-z0-9_.-]", tool);
		err = -EINVAL;
		goto out;
	}
	snprintf(cgroup, sizeof(cgroup), "%s%s%s", in.conf.sandbox_cgroup, tool ? "/" : "",
		 tool ? tool : "");
	if (tool && (stat(cgroup, &sb) || !S_ISDIR(sb.st_mode))) {
		diag_error(d, NULL, 0, "--tool %s: no cgroup %s below the sandbox's", tool, cgroup);
		err = -ENOENT;
		goto out;
	}
	ls.netns = in.conf.sandbox_netns;
	ls.cgroup = cgroup;
	err = launch_run(&ls, status, d);
out:
	instance_close(&in);
	return err;
}
