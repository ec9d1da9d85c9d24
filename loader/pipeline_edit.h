/* pipeline_edit.h: live edits in place: a rule added to or removed from the generation in force, no switch. */
#ifndef IRONCLAW_PIPELINE_EDIT_H
#define IRONCLAW_PIPELINE_EDIT_H

#include <stdbool.h>
#include "edit_base.h"
#include "rule_edits.h"
#include "rule_entry.h"

/*
 * One edit, prepared from what the running generation is (edit.base, the
 * control word, the rule list's token) and checked against its maps before
 * anything changes. Then committed in steps, its intent recorded first
 * (STATE_EDIT_INTENT: the drop-in, the rule map entries, the rule list's
 * edits, all as they will be), so that a kill at any point leaves the old
 * policy (no intent yet) or the new one (the next command that takes the
 * lock finishes the intent: pipeline_edit_recover).
 */
struct pipeline_edit {
	char name[32];
	bool add;
	enum edit_way way; /* EDIT_IN_PLACE, or why it needs a switch */
	bool in_force; /* add: some entry of the rule is in its map; revoke: its first is */
	bool from_drop_in; /* revoke: the rule in force came from the drop-in (allow) */
	__u32 rule_id; /* add: the id it gets; revoke: the one it had */
	struct edit_base base;
	struct rule_edits edits;
	struct rule_entry entries[EDIT_MAX_ENTRIES];
	char maps[EDIT_MAX_ENTRIES][40]; /* each entry's rule map pin */
	size_t nr_entries;
	const char *stage; /* of the first entry */
};

/*
 * Prepares the edit of want's rule (one profile line, parsed): 0 with
 * e->way saying whether it goes in place; -errno on a failure to read the
 * instance (then the caller switches, as before). e is freed with
 * pipeline_edit_free.
 */
int pipeline_edit_prepare(const char *name, const struct profile *want, bool add,
			  struct pipeline_edit *e, struct diag *d);
/*
 * Commits a prepared in-place edit: drop_in (NULL: the drop-in stays as it
 * is) written to the drop-in at path, the rule's entries added (when not in
 * force) or removed (when in force), the rule list's edits; line_text and
 * line: the rule as the rule list names it. 0 or -errno (then nothing changed,
 * or the intent stays for the next command to finish).
 */
int pipeline_edit_commit(struct pipeline_edit *e, const char *path, const char *drop_in,
			 const char *line_text, int line, struct diag *d);
void pipeline_edit_free(struct pipeline_edit *e);
/*
 * The generation in force is the one switched to for a request of this
 * hash, and no edit changed it since: a reload of it has nothing to do
 */
bool pipeline_edit_unchanged(const char *name, const char *hash);
/* finishes an edit in place a kill interrupted, if any: 0 or -errno (the instance is locked) */
int pipeline_edit_recover(const char *name, struct diag *d);

/*
 * The crash test's kill points (tests/e2e/t_crash.sh): IRONCLAW_KILL_AT=STEP
 * kills the process right after that step (of an edit in place, or of an
 * install: "flipped"), as a kill from outside would at that moment.
 */
void pipeline_kill_point(const char *step);

#endif
