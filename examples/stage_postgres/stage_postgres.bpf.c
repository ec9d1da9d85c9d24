// SPDX-License-Identifier: GPL-2.0
/*
 * stage_postgres.bpf.c: an example plug-in stage, built outside progs/.
 * It claims tcp/5432 and allows exact destinations; drop the object and a
 * rules file into a profile directory and install again.
 */
#define IRONCLAW_STAGE_FOLLOW_NAMES /* name rules of its classes: addresses learned from DNS */
#include <ironclaw/stage.h>

/* the tests build a second copy under another name to check class conflicts */
#ifndef POSTGRES_STAGE_NAME
#define POSTGRES_STAGE_NAME "postgres"
#define POSTGRES_STAGE_SLOT 8
#endif

STAGE_DESCRIBE(POSTGRES_STAGE_NAME, POSTGRES_STAGE_SLOT, STAGE_MAP_EXACT,
	       STAGE_CLASS(IPPROTO_TCP, 5432));
STAGE_RULES_EXACT();

static __always_inline int judge_postgres(const struct stage_pkt *pkt)
{
	return STAGE_LOOKUP_EXACT(pkt);
}

STAGE_PROGRAMS(judge_postgres);
