/* hook_names.h: what user space prints for a hook (enum hook_id), from the table in hooks.h. */
#ifndef IRONCLAW_HOOK_NAMES_H
#define IRONCLAW_HOOK_NAMES_H

#include <stdbool.h>
#include "hooks.h"

/* the hook's label ("tc", "cgroup_skb", ...), "?" for a number the table does not have */
const char *hook_label(unsigned id);
/* a connect() or sendto() hook: no packet, its caller known */
bool hook_at_sock(unsigned id);

#endif
