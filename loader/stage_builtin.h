/* stage_builtin.h: the stages linked into the binary (dns, https, internal). */
#ifndef IRONCLAW_STAGE_BUILTIN_H
#define IRONCLAW_STAGE_BUILTIN_H

#include <stddef.h>
#include "stage.h"

#define NR_BUILTIN_STAGES 3

/* the built-in stages into out (room for NR_BUILTIN_STAGES); count or -errno */
int stage_builtin(struct stage *out, size_t max, struct diag *d);

#endif
