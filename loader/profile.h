/* profile.h: a profile directory (rules.d/) read and validated into a struct profile; no BPF here. */
#ifndef IRONCLAW_PROFILE_H
#define IRONCLAW_PROFILE_H

#include <stddef.h>
#include <stdio.h>
#include "diag.h"
#include "rule.h"

/* reads DIR's *.rules and *.bpf.o in name order; -EINVAL with diag errors on any bad line */
int profile_load_dir(const char *dir, const struct profile_opts *o, struct profile *p,
		     struct diag *d);
/*
 * the lines of one .rules file, already opened (and checked trusted) by the caller, added to p;
 * path names it in messages. -EINVAL with diag errors on any bad line: every line is read.
 */
int profile_read_rules(struct profile *p, FILE *f, const char *path, const struct profile_opts *o,
		       struct diag *d);
/* the whole profile's checks after its files are read: duplicates, dns and name rule limits */
int profile_check(const struct profile *p, struct diag *d);
/* parses one line; blank and comment lines add nothing */
int profile_parse_line(struct profile *p, const char *file, int line, const char *text,
		       const struct profile_opts *o, struct diag *d);
/* refuses a rule that repeats or overlaps another one's {protocol, destination, ports} */
int profile_check_duplicates(const struct profile *p, struct diag *d);
void profile_free(struct profile *p);

#endif
