/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GCHEAP_HEAP_H
#define _GCHEAP_HEAP_H

#include <linux/types.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/list.h>
#include "uapi/gcheap.h"
#include "pagealloc.h"

struct gcheap_span;
struct gcheap_chunk;

/*
 * Go's mcentral: the spans of one span class that no cache holds, split by
 * whether they have a free slot. Swept and unswept sets are selected by
 * sweepgen (index sweepgen / 2 % 2 is swept) so their roles swap each cycle
 * without moving spans.
 */
struct gcheap_central {
	spinlock_t lock;	/* the lists, and the bits and state of their spans */
	struct list_head partial[2];
	struct list_head full[2];
};

/* One heap per open file of /dev/gcheap. */
struct gcheap {
	struct mm_struct *mm;	/* owner; mmgrab()ed, never mmget()ed long-term */
	pid_t tgid;		/* owner's thread group, for reports */
	struct inode *inode;	/* private address_space of the user mapping */

	/*
	 * lock: the page allocator, the chunk and span tables, span creation
	 * and destruction, the mapping's state and the counters below.
	 * Taken before any central lock, never while holding mmap_lock's
	 * writer side; faults take it under mmap_lock (read).
	 */
	struct mutex lock;
	unsigned long base;	/* user address of the mapping, 0 until mmap */
	unsigned long npages;	/* heap pages the mapping covers */
	bool mapped;		/* the owner's mapping exists */
	const void *vma;	/* that mapping's VMA, only ever compared */
	struct gcheap_pagealloc pa;
	struct gcheap_chunk **chunks;	/* per 4 MiB chunk, allocated on first use */
	u32 sweepgen;
	unsigned long resident_pages;	/* heap pages with physical memory */
	unsigned long spans_inuse;	/* small-object spans */
	unsigned long spans_cached;	/* of which held by caches */
	unsigned long large_objects;
	u64 alloc_bytes;	/* objects allocated; cached spans whole */
	u64 alloc_objects;
	u64 refills, large_allocs, frees;

	struct gcheap_central central[GCHEAP_NUM_SPAN_CLASSES];
};

struct gcheap *gcheap_create(void);
void gcheap_destroy(struct gcheap *heap);
int gcheap_check_owner(const struct gcheap *heap);
void gcheap_stats(struct gcheap *heap, struct gcheap_stats *st);

/* Swept lists of a central for the current sweepgen. */
static inline struct list_head *gcheap_partial_swept(struct gcheap *heap,
						     struct gcheap_central *c)
{
	return &c->partial[heap->sweepgen / 2 % 2];
}

static inline struct list_head *gcheap_full_swept(struct gcheap *heap,
						  struct gcheap_central *c)
{
	return &c->full[heap->sweepgen / 2 % 2];
}

#endif /* _GCHEAP_HEAP_H */
