/* plan_print.h: what check shows: the rules per stage, plain or as one JSON object. */
#ifndef IRONCLAW_PLAN_PRINT_H
#define IRONCLAW_PLAN_PRINT_H

#include <stdbool.h>
#include <stdio.h>
#include "ruleset.h"

void plan_print(const struct ruleset *rs, FILE *out);
/* the plan per stage (ok), or the errors and warnings of d, each with its file and line */
void plan_print_json(const char *dir, const struct ruleset *rs, bool ok, const struct diag *d,
		     FILE *out);

#endif
