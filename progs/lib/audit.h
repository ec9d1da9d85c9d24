/* audit.h: whether audit mode lets a denial through (instance, stage or tool). */
#ifndef IRONCLAW_PROGS_AUDIT_H
#define IRONCLAW_PROGS_AUDIT_H

#include "common.h"
#include "maps.h"

/*
 * Audit mode lets a denial through: for the whole instance, the stage that
 * decided, or the sender's tool. Never the deny-all of 'block'. cfg: the
 * settings of m->gen (settings.h).
 */
static __always_inline int audited(__u32 reason, const struct pkt_meta *m,
				   const struct gen_config *cfg)
{
	struct audit_tool_key k = { .tool = m->tool, .gen = m->gen };

	if (reason == REASON_BLOCKED || !cfg)
		return 0;
	if (cfg->flags & GEN_AUDIT)
		return 1;
	if (m->slot < 32 && (cfg->audit_slots & (1u << m->slot)))
		return 1;
	return m->tool && bpf_map_lookup_elem(&audit_tools, &k);
}

#endif
