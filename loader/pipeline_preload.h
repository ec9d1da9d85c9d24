/* pipeline_preload.h: the dispatcher loaded by a thread of its own while the profile is parsed. */
#ifndef IRONCLAW_PIPELINE_PRELOAD_H
#define IRONCLAW_PIPELINE_PRELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include "attach.h"
#include "pipeline_txn.h"

/*
 * The dispatcher needs of the profile only how many rules it has (its rule
 * counters): bounded by the lines of the profile's rule files (and the live
 * edits' drop-in, live: "" for none), it is verified, which takes about as
 * long as the parse at 1M rules, while the parse runs. It loads nothing
 * into the kernel that stays: nothing is pinned or attached, the maps it
 * shares are the instance's pinned ones, held open; freed, it leaves
 * nothing. NULL: not started (the install loads its own).
 */
struct dispatcher_preload;
struct dispatcher_preload *pipeline_preload_start(const char *name, const char *profile,
						  const char *live,
						  const struct attach_point *points,
						  size_t nr_points);
/*
 * Waits for it; gives t its dispatcher when it was loaded for what t loads
 * (the same instance, switch or not, hooks, and room for nr_rules counters):
 * true; else false, and the install loads one (p NULL: false).
 */
bool pipeline_preload_take(struct dispatcher_preload *p, struct txn *t, size_t nr_rules);
/* waits for it and frees what was not taken; NULL: nothing */
void pipeline_preload_free(struct dispatcher_preload *p);
/* an attachment, or the programs a finished install pins, are in dir: the instance ran */
bool pipeline_pins_have_run(const char *dir);

#endif
