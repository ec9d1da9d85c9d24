/* cmd.h: what the commands of the command line share (root, kernel, reporting, a locked instance), and the groups of commands beside main.c's own. */
#ifndef IRONCLAW_CMD_H
#define IRONCLAW_CMD_H

#include <stddef.h>
#include "cli.h"
#include "diag.h"
#include "instance.h"

/* the messages of d, then a line for an error no message explained; exit status 0 or 1 */
int cmd_report(const char *cmd, struct diag *d, int err);
/* 0 as root, else 1 after a message */
int cmd_need_root(const char *cmd);
/* 0 when the running kernel has what install needs (kernel.h), else 1 after a one-line message */
int cmd_check_kernel(const char *cmd);
/* the instance, locked, must be installed: act on it, close it; 0 or -errno */
int cmd_on_instance(const char *name, struct diag *d,
		    int (*act)(struct instance *in, void *arg, struct diag *d), void *arg);

/* run, enable, disable, restore: a sandbox as a service (cmd_service.c) */
extern const struct cli_cmd service_cmds[];
extern const size_t nr_service_cmds;

#endif
