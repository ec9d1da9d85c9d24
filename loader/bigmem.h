/* bigmem.h: memory for arrays of up to millions of entries, in huge pages where the kernel has them. */
#ifndef IRONCLAW_BIGMEM_H
#define IRONCLAW_BIGMEM_H

#include <stddef.h>

/*
 * A page fault costs microseconds in a virtual machine: the arrays a 1M-rule
 * profile fills (~160 MB) would take ~40,000 of them in 4 KB pages, ~0.4 s.
 * Blocks of BIGMEM_HUGE or more are mappings of their own, marked for
 * transparent huge pages (MADV_HUGEPAGE; without them, plain pages); smaller
 * ones come from malloc. Contents are not zeroed.
 */
#define BIGMEM_HUGE (2u << 20)

void *bigmem_alloc(size_t len);
/* as realloc: the first len bytes kept, or NULL with p untouched */
void *bigmem_realloc(void *p, size_t len);
void bigmem_free(void *p);

#endif
