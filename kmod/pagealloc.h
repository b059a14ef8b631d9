/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GCHEAP_PAGEALLOC_H
#define _GCHEAP_PAGEALLOC_H

#include <linux/bits.h>
#include <linux/types.h>
#include "uapi/gcheap.h"

/*
 * Free-page runs of a region of the heap: at its start, the longest one, at
 * its end. A wholly free region of S pages is (S, S, S), a full one (0, 0, 0).
 */
struct gcheap_pa_sum {
	u32 start, max, end;
};

/* Children per summary above the leaves, as in Go (one cache line). */
#define GCHEAP_PA_FANOUT_SHIFT	3
#define GCHEAP_PA_FANOUT	BIT(GCHEAP_PA_FANOUT_SHIFT)
/* Levels cap the heap at 8^7 chunks of 512 pages: 2^30 pages. */
#define GCHEAP_PA_MAX_LEVELS	8

struct gcheap_pagealloc {
	unsigned long npages;		/* heap pages managed */
	unsigned long *inuse;		/* 1 = in use */
	unsigned long *scavenged;	/* 1 = free and physically released */
	unsigned int nlevels;		/* levels[nlevels - 1] is per chunk */
	struct gcheap_pa_sum *levels[GCHEAP_PA_MAX_LEVELS];
	unsigned long search_addr;	/* no free page below this */
	unsigned long free_pages;	/* pages not in use */
	unsigned long scav_pages;	/* of which scavenged */
};

/* Pages summarised by one entry of level @l (the leaves are chunks). */
static inline unsigned long
gcheap_pa_level_pages(const struct gcheap_pagealloc *pa, unsigned int l)
{
	return (unsigned long)GCHEAP_CHUNK_PAGES <<
		(GCHEAP_PA_FANOUT_SHIFT * (pa->nlevels - 1 - l));
}

int gcheap_pagealloc_init(struct gcheap_pagealloc *pa, unsigned long npages);
void gcheap_pagealloc_destroy(struct gcheap_pagealloc *pa);
long gcheap_pagealloc_alloc(struct gcheap_pagealloc *pa, unsigned long n,
			    unsigned long *scav);
int gcheap_pagealloc_free(struct gcheap_pagealloc *pa, unsigned long start,
			  unsigned long n);
bool gcheap_pagealloc_in_use(const struct gcheap_pagealloc *pa,
			     unsigned long start, unsigned long n);
int gcheap_pagealloc_set_scavenged(struct gcheap_pagealloc *pa,
				   unsigned long start, unsigned long n);
unsigned long gcheap_pagealloc_find_unscavenged(const struct gcheap_pagealloc *pa,
						unsigned long below, unsigned long max,
						unsigned long *start);

#endif /* _GCHEAP_PAGEALLOC_H */
