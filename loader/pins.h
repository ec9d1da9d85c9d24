/* pins.h: an instance's pins in bpffs: their names (bpffs refuses '.' in them) and their paths. */
#ifndef IRONCLAW_PINS_H
#define IRONCLAW_PINS_H

#include <stddef.h>
#include "attach.h"
#include "diag.h"
#include "links.h"
#include "state.h"

#define PIN_RULES_PREFIX "rules-"
#define PIN_RULES4_PREFIX "rules4-" /* an exact stage's IPv4 rules of every process */
#define PIN_STAGE_PREFIX "stage-"
#define PIN_LINK_PREFIX "link-"
#define PIN_NAME_MAX 256
/* a pin directory (STATE_PATH_MAX) and a pin name in it */
#define PIN_PATH_MAX (STATE_PATH_MAX + PIN_NAME_MAX)

/* mounts bpffs at /sys/fs/bpf when it is not there */
int pins_bpffs_ensure(struct diag *d);
/* fd of a pinned object of an instance ("dispatch_tc", "ctl", ...) or -errno */
int pins_get(const char *name, const char *object);

void pin_name_rules(char *buf, size_t len, const char *stage);
void pin_name_rules4(char *buf, size_t len, const char *stage);
void pin_name_stage(char *buf, size_t len, const char *stage);
int pin_parse_stage(const char *pin, char *stage, size_t len);
/* "" when the name does not fit in a pin (a very long cgroup path) */
void pin_name_link(char *buf, size_t len, const struct attach_point *pt, enum link_hook hook);
int pin_parse_link(const char *pin, struct attach_point *pt, enum link_hook *hook);
/* the attach points an instance's link pins make, each once, into out[0..max): count */
size_t pins_attach_points(const char *name, struct attach_point *out, size_t max);
/* the link hooks one attach point is made of, into out (room for ATTACH_MAX_HOOKS); count */
#define ATTACH_MAX_HOOKS (NR_LINK_HOOKS)
size_t attach_point_hooks(const struct attach_point *pt, enum link_hook *out);

#endif
