/* metrics.h: an instance's counters in the Prometheus text exposition format. */
#ifndef IRONCLAW_METRICS_H
#define IRONCLAW_METRICS_H

#include <stdbool.h>
#include <stdio.h>
#include "diag.h"

/* profiles of more rules get no per-rule series unless asked (--per-rule) */
#define METRICS_RULES_MAX 1000

/*
 * The metrics of the instances named (the installed ones; one that is not is
 * left out, and said in d when it was asked for alone): every family's HELP
 * and TYPE once, then its samples, labelled with the instance.
 */
int metrics_write(FILE *out, const char *const *names, int n, bool per_rule, struct diag *d);
/* metrics_write into path, atomically (a file beside it, renamed over it), mode 0644 */
int metrics_write_file(const char *path, const char *const *names, int n, bool per_rule,
		       struct diag *d);
/* a label value: valid UTF-8 kept, '\' '"' and newline escaped, other bytes as \\xNN */
void metrics_label(FILE *out, const char *s);

#endif
