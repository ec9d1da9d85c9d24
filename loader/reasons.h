/* reasons.h: names of the reason codes, as users see them in status and tests. */
#ifndef IRONCLAW_REASONS_H
#define IRONCLAW_REASONS_H

#include "reason.h"

const char *reason_name(unsigned int reason);
/* REASON_MAX when no reason has that name */
unsigned int reason_by_name(const char *name);

#endif
