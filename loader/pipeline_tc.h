/* pipeline_tc.h: attaching phase for classic tc filters: made, moved to a new dispatcher, undone. */
#ifndef IRONCLAW_PIPELINE_TC_H
#define IRONCLAW_PIPELINE_TC_H

#include <stdbool.h>
#include "pipeline_txn.h"

/* the link pin is a classic tc filter's program (it has a record), not a link */
bool txn_tc_is_classic(const char *name, const char *pin);
/* adds prog_fd as a classic filter at pt (recorded for a rollback): a dup of prog_fd to pin */
int txn_tc_attach(struct txn *t, const char *name, const char *pin, const struct attach_point *pt,
		  enum link_hook hook, int prog_fd, struct diag *d);
/*
 * Puts prog_fd in place of the program of the classic filter pinned as pin
 * (recorded for a rollback) and pins it there; a lost filter is forgotten
 * with a warning. 0 or -errno.
 */
int txn_tc_move(struct txn *t, const char *name, const char *pin, const struct attach_point *pt,
		enum link_hook hook, int prog_fd, struct diag *d);
/* before the switch: the filters made are removed, the moved ones run their program again */
void txn_tc_undo(struct txn *t, const char *name);
void txn_tc_free(struct txn *t);
/* uninstall: removes the classic filter pinned as pin (if it still runs our program) */
int pipeline_tc_detach(const char *name, const char *pin, const struct attach_point *pt,
		       enum link_hook hook);

#endif
