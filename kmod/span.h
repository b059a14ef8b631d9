/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GCHEAP_SPAN_H
#define _GCHEAP_SPAN_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/bitmap.h>
#include <linux/rcupdate.h>
#include <linux/llist.h>
#include "heap.h"
#include "sizeclass.h"

/* Dead spans destroyed per hold of heap->lock. */
#define GCHEAP_DESTROY_BATCH	32

enum gcheap_span_state {
	GCHEAP_SPAN_INIT,	/* being set up; invisible to lookups by address */
	GCHEAP_SPAN_INUSE,	/* objects owned by the heap, on its central's lists */
	GCHEAP_SPAN_CACHED,	/* handed to a thread's cache */
	GCHEAP_SPAN_DEAD,	/* emptied, off every list, its pages about to go */
};

/*
 * Go's mspan. Small spans hold nelems objects of one span class; a large
 * span (spanclass 0 or 1) holds one object of npages heap pages.
 * bits[] is three bitmaps of nelems bits: allocBits, gcmarkBits, and the
 * slots that were free when the span was handed to a cache.
 *
 * sweepgen, against the heap's sg (Go's numbering, which moves by 2 at
 * each mark termination):
 *	sg - 2	INUSE, not swept this cycle
 *	sg	INUSE (or INIT, DEAD), swept
 *	sg + 1	CACHED since before the last mark termination: not swept
 *	sg + 3	CACHED, swept
 * Go's sg - 1 ("being swept") needs no value here: a small span is swept
 * whole under its central's lock (a few bitmap words), and a span being
 * freed is DEAD, which every lookup refuses.
 *
 * Lifetime: spanclass, start, npages, elemsize and nelems never change.
 * A span is found without a lock through the span table (arena.c) and is
 * freed only after an RCU grace period, so a reader in an RCU read-side
 * section may look at any span it finds and then take its central's lock
 * to see its state. A cycle's markers, which sleep, rely instead on no
 * span being destroyed while they run.
 */
struct gcheap_span {
	/*
	 * On its central's partial/full list (under that lock) while INUSE;
	 * on its owner's cached list while CACHED.
	 */
	struct list_head list;
	struct llist_node dead;	/* on heap->dead_spans while DEAD */
	struct rcu_head rcu;
	struct gcheap_m *owner;	/* the thread whose cache holds it (CACHED) */
	unsigned long start;	/* first heap page */
	unsigned long npages;
	u32 elemsize;		/* small spans only */
	u16 nelems;
	u16 alloc_count;	/* set bits in allocBits */
	u8 spanclass;
	u8 state;		/* enum gcheap_span_state */
	bool needzero;		/* a free slot may hold old bytes */
	u32 sweepgen;		/* see above */
	/* CACHED: the cycle (gc_started) whose owner reported it (central.c) */
	u32 report_cycle;
	unsigned long bits[];
};

static inline bool gcheap_span_is_large(const struct gcheap_span *s)
{
	return s->spanclass >> 1 == 0;
}

static inline const struct gcheap_class_info *
gcheap_span_class(const struct gcheap_span *s)
{
	return &gcheap_classes[s->spanclass >> 1];
}

static inline unsigned long *gcheap_span_alloc_bits(struct gcheap_span *s)
{
	return s->bits;
}

static inline unsigned long *gcheap_span_mark_bits(struct gcheap_span *s)
{
	return s->bits + BITS_TO_LONGS(s->nelems);
}

static inline unsigned long *gcheap_span_cache_free(struct gcheap_span *s)
{
	return s->bits + 2 * BITS_TO_LONGS(s->nelems);
}

static inline unsigned long gcheap_span_base(const struct gcheap *heap,
					     const struct gcheap_span *s)
{
	return heap->base + (s->start << GCHEAP_PAGE_SHIFT);
}

/* The central list set a span of @s's class is on; large spans have one too. */
static inline struct gcheap_central *gcheap_span_central(struct gcheap *heap,
							 const struct gcheap_span *s)
{
	return &heap->central[s->spanclass];
}

struct gcheap_span *gcheap_span_create(struct gcheap *heap, u8 spanclass,
				       unsigned long npages);
struct gcheap_span *gcheap_span_new(struct gcheap *heap, u8 spanclass, unsigned long npages);
void gcheap_span_destroy(struct gcheap *heap, struct gcheap_span *span);
void gcheap_span_kill(struct gcheap *heap, struct gcheap_span *span);
void gcheap_span_free_dead(struct gcheap *heap);
long gcheap_span_obj_index(struct gcheap *heap, struct gcheap_span *span,
			   unsigned long addr);
int gcheap_span_zero_free(struct gcheap *heap, struct gcheap_span *span);
void gcheap_span_release_all(struct gcheap *heap);

#endif /* _GCHEAP_SPAN_H */
