/* bigmem.c: memory for arrays of up to millions of entries, in huge pages where the kernel has them. */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "bigmem.h"

/* in front of each block: its mapping's length, 0 for a malloc'd one (keeps 16-byte alignment) */
#define HEAD 64u

static size_t *head_of(void *p)
{
	return (size_t *)((char *)p - HEAD);
}

/* a mapping's length for len bytes and the head: whole huge pages */
static size_t map_len(size_t len)
{
	return (len + HEAD + BIGMEM_HUGE - 1) & ~(size_t)(BIGMEM_HUGE - 1);
}

void *bigmem_alloc(size_t len)
{
	size_t *h;

	if (len > SIZE_MAX - 2 * BIGMEM_HUGE)
		return NULL;
	if (len + HEAD < BIGMEM_HUGE) {
		h = malloc(len + HEAD);
		if (!h)
			return NULL;
		*h = 0;
		return (char *)h + HEAD;
	}
	h = mmap(NULL, map_len(len), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h == MAP_FAILED)
		return NULL;
	/* advice only: without transparent huge pages the block is in plain pages */
	madvise(h, map_len(len), MADV_HUGEPAGE);
	*h = map_len(len);
	return (char *)h + HEAD;
}

void *bigmem_realloc(void *p, size_t len)
{
	size_t *h, old, mlen;
	void *n;

	if (!p)
		return bigmem_alloc(len);
	if (len > SIZE_MAX - 2 * BIGMEM_HUGE)
		return NULL;
	h = head_of(p);
	old = *h;
	if (!old && len + HEAD < BIGMEM_HUGE) {
		h = realloc(h, len + HEAD);
		return h ? (char *)h + HEAD : NULL;
	}
	if (!old) {
		/* from malloc to a mapping: the (small) contents copied once */
		n = bigmem_alloc(len);
		if (n)
			memcpy(n, p,
			       malloc_usable_size(h) - HEAD < len ? malloc_usable_size(h) - HEAD :
								    len);
		if (n)
			free(h);
		return n;
	}
	mlen = map_len(len);
	if (mlen <= old)
		return p;
	/* the pages move with their contents: nothing copied */
	h = mremap(h, old, mlen, MREMAP_MAYMOVE);
	if (h == MAP_FAILED)
		return NULL;
	madvise(h, mlen, MADV_HUGEPAGE);
	*h = mlen;
	return (char *)h + HEAD;
}

void bigmem_free(void *p)
{
	size_t *h;

	if (!p)
		return;
	h = head_of(p);
	if (*h)
		munmap(h, *h);
	else
		free(h);
}
