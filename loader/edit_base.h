/* edit_base.h: what live edits need of the running generation, and which edits go into it in place. */
#ifndef IRONCLAW_EDIT_BASE_H
#define IRONCLAW_EDIT_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include "plan.h"
#include "profile.h"
#include "stage.h"

/*
 * Written by every switch beside the rule list (STATE_EDIT_BASE), read by
 * allow and revoke: the generation in force, the rule ids it gave out, and
 * its stages as the plan placed rules in them. An edit that fits (below)
 * goes into that generation's maps without a switch; any other switches.
 */
struct edit_base {
	unsigned long long token; /* this switch's: its rule list and edits carry it too */
	unsigned int gen;
	bool xdp; /* the XDP programs are loaded (tool rules have markers) */
	unsigned long ids; /* rule ids 0..ids-1 are the switch's; live edits add from here */
	unsigned long live_first, live_end; /* ids of the drop-in's address rules */
	char hash[40]; /* of the install request it was switched to (req_hash.h); "": none */
	size_t nr_stages;
	struct stage stages[MAX_STAGES]; /* desc and follows_names only (no object) */
	bool baked[MAX_STAGES]; /* carries its rules as read-only data (stage_baked) */
};

/* why an edit needs a switch; EDIT_IN_PLACE when it does not */
enum edit_way {
	EDIT_IN_PLACE = 0,
	EDIT_SWITCH_KIND, /* not one address rule: an 'allow dns' line, a name rule, a host name */
	EDIT_SWITCH_TOOL, /* for a tool: its cgroup is resolved, XDP markers are shared */
	EDIT_SWITCH_WIDE, /* a prefix, or every port: a trie, and perhaps a GEN_* flag */
	EDIT_SWITCH_STAGE, /* a stage whose map is not exact, or no stage takes the port */
	EDIT_SWITCH_BAKED, /* a stage that carries its rules as read-only data */
	EDIT_SWITCH_PORTS, /* more ports than EDIT_MAX_ENTRIES */
};

/* entries one in-place edit may change (one per port of the rule) */
#define EDIT_MAX_ENTRIES 64

const char *edit_way_text(enum edit_way w);

/*
 * Which way the rule of want (one profile line, parsed) is edited into the
 * generation of b; for EDIT_IN_PLACE, out holds its plan entries (rule 0 of
 * want, stages indexing b->stages; plan_free it). A negative errno when the
 * plan cannot be made (no memory); a rule no stage takes is EDIT_SWITCH_STAGE.
 */
int edit_classify(const struct edit_base *b, const struct profile *want, struct plan *out);

/* b as text (one item a line), and back: 0 or -EINVAL for text that is not one */
int edit_base_format(const struct edit_base *b, char **text, size_t *len);
int edit_base_parse(const char *text, struct edit_base *b);

#endif
