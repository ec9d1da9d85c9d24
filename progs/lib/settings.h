/* settings.h: what the loader set for this copy of the pipeline and for the generation in force, read once per packet. */
#ifndef IRONCLAW_PROGS_SETTINGS_H
#define IRONCLAW_PROGS_SETTINGS_H

#include "common.h"
#include "maps.h"

/*
 * Set by the loader in the copy of the pipeline that explain test-runs: judge,
 * record nothing, report through skb->cb[] (dry_run.h). A constant of the
 * loaded program, so the live pipeline carries no trace of it.
 */
const volatile __u32 dry_run = 0;
/* and the tool explain's packet is sent as (its cgroup id; 0: no tool) */
const volatile __u64 dry_tool = 0;

/* the generation's settings (NULL when the loader wrote none) */
static __always_inline const struct gen_config *gen_config_get(__u8 gen)
{
	__u32 g = gen;

	return bpf_map_lookup_elem(&config, &g);
}

/*
 * What a dispatcher reads before anything else: the control word (the
 * generation in force, deny-all) and that generation's settings, once per
 * packet; the settings go on to every helper and, through pkt_meta's
 * generation, to the stage, which reads them once with gen_config_get().
 */
struct gen_settings {
	const struct gen_config *cfg; /* NULL: no settings, the packet is denied */
	__u32 ctl; /* the control word: CTL_GEN_MASK, CTL_BLOCKED */
	__u8 gen;
};

/* REASON_NO_CONFIG when the loader wrote nothing yet, else PARSE_OK-free 0 */
static __always_inline int gen_settings_read(struct gen_settings *gs)
{
	__u32 zero = 0, *ctlw = bpf_map_lookup_elem(&ctl, &zero);

	gs->cfg = NULL;
	gs->gen = 0;
	if (!ctlw)
		return REASON_NO_CONFIG;
	gs->ctl = *ctlw;
	gs->gen = gs->ctl & CTL_GEN_MASK;
	gs->cfg = gen_config_get(gs->gen);
	return gs->cfg ? 0 : REASON_NO_CONFIG;
}

static __always_inline __u32 gen_flags(const struct gen_config *cfg)
{
	return cfg ? cfg->flags : 0;
}

#endif
