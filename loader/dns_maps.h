/* dns_maps.h: the DNS stage's shared maps (allowed names, query types) filled per generation. */
#ifndef IRONCLAW_DNS_MAPS_H
#define IRONCLAW_DNS_MAPS_H

#include <linux/types.h>
#include "diag.h"
#include "rule.h"

/* the instance's maps (pipeline.c pins and shares them like the control word) */
#define DNS_MAP_NAMES "dns_names"
#define DNS_MAP_QTYPES "dns_qtypes"
#define DNS_MAP_WORK "dns_work"

/* writes generation gen's name rules and query types; 0 or -errno with the error in d */
int dns_maps_fill(int names_fd, int qtypes_fd, __u32 gen, const struct profile *p, struct diag *d);
/* deletes generation gen's entries */
void dns_maps_clear_gen(int names_fd, int qtypes_fd, __u32 gen);

#endif
