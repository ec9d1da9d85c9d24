/* stage.h: stage objects (built in or dropped into a profile) and the descriptor each one carries. */
#ifndef IRONCLAW_STAGE_H
#define IRONCLAW_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include "stage_desc.h"
#include "diag.h"

struct stage {
	struct stage_desc desc;
	char *origin; /* file path, or "built-in" */
	void *elf; /* the object's bytes */
	size_t elf_sz;
	bool owns_elf;
	bool follows_names; /* it allows the addresses learned for name rules (learn_rules map) */
};

/* stages one profile may hold: the built-in ones and the objects dropped in */
#define MAX_STAGES (STAGE_MAX_SLOTS + 4)

/* the program every stage object has for the tc hook */
#define STAGE_PROG_TC "stage_tc"
#define STAGE_RULES_MAP "rules"
#define STAGE_RULES4_MAP "rules4" /* an exact stage's IPv4 rules of every process */

/* reads a stage object from a profile; refuses files root does not own or others may write */
int stage_from_file(const char *path, struct stage *st, struct diag *d);
/* a stage object already in memory (the built-in ones); elf must outlive st */
int stage_from_mem(const char *origin, const void *elf, size_t sz, struct stage *st,
		   struct diag *d);
/* the stage API version a descriptor was built with (0: before versions) */
unsigned stage_desc_api(const struct stage_desc *desc);
/* the descriptor checks alone, on plain data: its layout, its API version, then its fields */
int stage_desc_check(const struct stage_desc *desc, const char *origin, struct diag *d);
void stage_free(struct stage *st);

#endif
