/* pipeline_load.h: loading phase: the dispatcher, with the instance's shared maps, and each stage. */
#ifndef IRONCLAW_PIPELINE_LOAD_H
#define IRONCLAW_PIPELINE_LOAD_H

#include "pipeline_txn.h"
#include "policy.h"

/* the dispatcher's maps every install of an instance shares through their pins */
extern const char *const shared_maps[];
extern const size_t NR_SHARED_MAPS;

/* the programs of hook kind h are loaded in this transaction */
bool txn_hook_loaded(const struct txn *t, enum hook_id h);
/*
 * Opens and loads the dispatcher; a switch (t->existing) reuses the
 * instance's pinned shared maps; nr_rules sizes the new rule counters.
 */
int txn_open_dispatcher(struct txn *t, const char *name, size_t nr_rules, struct diag *d);
/* fd of a map of the loaded dispatcher, by name, or -ENOENT */
int txn_map_fd(const struct txn *t, const char *map_name);
/*
 * Opens a stage's object into ls and gives it its rule maps: new ones, for
 * needed (rules4: needed4) entries of one generation and live edits (explain's
 * copy: the pinned ones), ls->rules_fd and rules4_fd set, before anything loads.
 */
int txn_open_stage(struct txn *t, const char *name, const struct stage *st, size_t needed,
		   size_t needed4, struct loaded_stage *ls, struct diag *d);
/*
 * Loads a stage (opened first by txn_open_stage when ls has no object yet)
 * with the dispatcher's maps. baked: its entries as read-only data
 * (stage_baked), or NULL: the stage asks its maps.
 */
int txn_load_stage(struct txn *t, const char *name, const struct stage *st, size_t needed,
		   size_t needed4, const struct stage_baked *baked, struct loaded_stage *ls,
		   struct diag *d);

#endif
