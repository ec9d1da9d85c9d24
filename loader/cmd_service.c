/* cmd_service.c: the commands that make a sandbox a service: run a tool in it, enable, disable and restore its instance. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd.h"
#include "enabled.h"

static int do_run(struct cli_args *a)
{
	struct diag d = {};
	int status, err;

	if (cmd_need_root(a->cmd))
		return 1;
	if (!a->user)
		return cli_usage_error(a->cmd, "give --user USER: run never starts a command as "
					       "root");
	if (!a->argc)
		return cli_usage_error(a->cmd, "give the command to run after --");
	err = instance_run(a->name, a->tool, a->user, a->argv, &status, &d);
	diag_print(&d, stderr);
	diag_free(&d);
	/* the command's own status; 1 when it never started, 126/127 when it could not exec */
	return err && status != 126 && status != 127 ? 1 : status;
}

static int enable_act(struct instance *in, void *arg, struct diag *d)
{
	return instance_enable(in, arg, d);
}

static int do_enable(struct cli_args *a)
{
	char path[STATE_PATH_MAX];
	struct enabled_conf c;
	struct diag d = {};
	int err;

	if (cmd_need_root(a->cmd))
		return 1;
	err = cmd_on_instance(a->name, &d, enable_act, &c);
	if (!err) {
		enabled_path(path, sizeof(path), a->name);
		printf("enabled instance '%s': %s\n"
		       "  'ironclaw-pipe restore %s' installs it from there; at boot, "
		       "'systemctl enable ironclaw-pipe@%s'\n",
		       a->name, path, a->name, a->name);
	}
	return cmd_report(a->cmd, &d, err);
}

static int do_disable(struct cli_args *a)
{
	struct diag d = {};
	int err;

	if (cmd_need_root(a->cmd))
		return 1;
	err = instance_disable(a->name, &d);
	if (!err)
		printf("disabled instance '%s': no longer restored (what runs is unchanged)\n",
		       a->name);
	return cmd_report(a->cmd, &d, err);
}

/* the events of a restored instance kept: a collector unless something reads them */
static void start_collector(const struct cli_args *a, const char *name)
{
	struct diag d = {};
	pid_t pid = 0;
	int err = instance_collect_start(name, a->journald, &pid, &d);

	if (!err)
		printf("collecting the events of instance '%s' (pid %d)\n", name, (int)pid);
	else if (err == -EALREADY)
		printf("the events of instance '%s' are read by pid %d already\n", name, (int)pid);
	else if (err != -ENOENT) /* nothing installed: nothing to collect */
		fprintf(stderr, "ironclaw-pipe %s: warning: no collector: ", a->cmd);
	diag_print(&d, stderr);
	diag_free(&d);
}

static int do_restore(struct cli_args *a)
{
	char(*names)[INSTANCE_NAME_MAX] = NULL;
	struct install_result res;
	int n, failed = 0;

	if (cmd_need_root(a->cmd) || cmd_check_kernel(a->cmd))
		return 1;
	if (a->argc > 1)
		return cli_usage_error(a->cmd, "one instance at most, not '%s'", a->argv[1]);
	if (a->argc && !instance_name_valid(a->argv[0]))
		return cli_usage_error(a->cmd,
				       "bad instance name '%s': 1-%d characters of [a-z0-9_-]",
				       a->argv[0], INSTANCE_NAME_MAX - 1);
	names = calloc(ENABLED_MAX_INSTANCES, sizeof(*names));
	if (!names)
		return 1;
	if (a->argc) {
		snprintf(names[0], sizeof(names[0]), "%s", a->argv[0]);
		n = 1;
	} else {
		struct diag d = {};

		n = enabled_list(names, ENABLED_MAX_INSTANCES, &d);
		if (n < 0 || cmd_report(a->cmd, &d, 0)) {
			free(names);
			return 1;
		}
		if (!n)
			printf("no enabled instance to restore\n");
	}
	for (int i = 0; i < n; i++) {
		struct diag d = {};
		int err = instance_restore(names[i], &res, &d);

		if (!err)
			printf("restored instance '%s': %zu rules in %zu stages\n", names[i],
			       res.nr_rules, res.nr_stages);
		failed |= cmd_report(a->cmd, &d, err);
		/* also a blocked one: its denials are what the operator needs to see */
		if (!a->no_collect)
			start_collector(a, names[i]);
	}
	free(names);
	return failed;
}

const struct cli_cmd service_cmds[] = {
	{ "run", do_run, OPTS(NAME) | OPTS(USER) | OPTS(TOOL), ARGS_COMMAND,
	  "run a command inside an instance's sandbox, as a user without privileges",
	  "usage: ironclaw-pipe run [--name INSTANCE] [--tool TOOL] --user USER -- CMD [ARG]...\n"
	  "  Starts CMD in the sandbox the instance filters: born in its cgroup (TOOL's\n"
	  "  cgroup below it with --tool, which must exist), in its network namespace, as\n"
	  "  USER (a name or uid; never root) with no capabilities and no_new_privs.\n"
	  "  Signals are passed on; the exit status is CMD's (126: cannot execute, 127: not\n"
	  "  found). The instance must have been installed with --sandbox-cgroup and a\n"
	  "  network namespace for the sandbox (--sandbox-netns, or --tc IFACE@NS).\n" },
	{ "enable", do_enable, OPTS(NAME), false,
	  "keep a running instance: restore installs it again at boot",
	  "usage: ironclaw-pipe enable [--name INSTANCE]\n"
	  "  Writes the running instance (profile, attach points, sandbox namespace and cgroup,\n"
	  "  sources given with --source, audit) to /etc/ironclaw-pipe/instances/INSTANCE.conf,\n"
	  "  and its live edits to INSTANCE.live.rules beside it. Namespaces named by pid: or\n"
	  "  /proc do not outlive a reboot and are refused.\n" },
	{ "disable", do_disable, OPTS(NAME), false, "stop restoring an instance at boot",
	  "usage: ironclaw-pipe disable [--name INSTANCE]\n"
	  "  Removes /etc/ironclaw-pipe/instances/INSTANCE.conf and its live edits; what runs\n"
	  "  now is unchanged.\n" },
	{ "restore", do_restore, OPTS(JOURNALD) | OPTS(NO_COLLECT), true,
	  "install enabled instances from their files",
	  "usage: ironclaw-pipe restore [--journald] [--no-collect] [INSTANCE]\n"
	  "  Installs INSTANCE (or every enabled instance) from /etc/ironclaw-pipe/instances/:\n"
	  "  a new one after a reboot, or again over a running one (attachments lost since\n"
	  "  are made again). Fails closed: when that fails, every attach point that can be\n"
	  "  attached gets a deny-all pipeline and the instance is blocked; exit status 1.\n"
	  "  Then starts a collector of each instance it installed ('collect --name INSTANCE\n"
	  "  --until-uninstalled', with --journald its events also to journald), unless a\n"
	  "  collector or another reader holds its events already, or --no-collect.\n" },
};

const size_t nr_service_cmds = sizeof(service_cmds) / sizeof(service_cmds[0]);
