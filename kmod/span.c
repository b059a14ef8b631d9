// SPDX-License-Identifier: GPL-2.0
/*
 * Spans: runs of heap pages holding objects of one span class, or one large
 * object. Creation takes pages, with physical memory, from the arena
 * (arena.c) and enters the span in the page -> span table; destruction
 * zaps the user's PTEs, takes the span out of the table and frees its
 * pages, which keep their memory until the scavenger takes it.
 *
 * Locking: creation and destruction under heap->lock. A span's bitmaps,
 * counts and state belong to its central's lock once it is INUSE or CACHED;
 * a span is destroyed only with heap->lock held, off every list, INIT or
 * DEAD. Its descriptor is freed after an RCU grace period, for lock-free
 * lookups (arena.c).
 */
#include <linux/slab.h>
#include <linux/overflow.h>
#include <linux/export.h>
#include <kunit/visibility.h>
#include "span.h"
#include "arena.h"

/*
 * A new span in state INIT, entered in the span table, its pages resident.
 * Small spans start with every slot free. Returns an ERR_PTR on failure,
 * with the heap unchanged.
 */
struct gcheap_span *gcheap_span_create(struct gcheap *heap, u8 spanclass,
				       unsigned long npages)
{
	u16 nelems = 1;
	struct gcheap_span *span;
	bool reused;
	long start;

	lockdep_assert_held(&heap->lock);
	if (!heap->mapped)
		return ERR_PTR(-ENXIO);
	if (spanclass >> 1)
		nelems = gcheap_classes[spanclass >> 1].nelems;
	span = kzalloc(struct_size(span, bits, 3 * BITS_TO_LONGS(nelems)),
		       GFP_KERNEL_ACCOUNT);
	if (!span)
		return ERR_PTR(-ENOMEM);
	start = gcheap_arena_alloc(heap, npages, &reused);
	if (start < 0) {
		kfree(span);
		return ERR_PTR(start);
	}

	INIT_LIST_HEAD(&span->list);
	span->start = start;
	span->npages = npages;
	span->spanclass = spanclass;
	span->nelems = nelems;
	span->elemsize = spanclass >> 1 ? gcheap_classes[spanclass >> 1].size : 0;
	span->state = GCHEAP_SPAN_INIT;
	span->needzero = reused;
	span->sweepgen = gcheap_sweepgen(heap);
	gcheap_arena_set_span(heap, start, npages, span);
	return span;
}

void gcheap_span_destroy(struct gcheap *heap, struct gcheap_span *span)
{
	lockdep_assert_held(&heap->lock);
	/* No PTE may outlive the span: a later touch must fault and SIGBUS. */
	gcheap_arena_unmap_user(heap, span->start, span->npages);
	gcheap_arena_set_span(heap, span->start, span->npages, NULL);
	gcheap_arena_free(heap, span->start, span->npages);
	kfree_rcu(span, rcu);
}

/*
 * Destroy up to @max DEAD spans, unless a cycle marks (either mode): its
 * markers hold spans found without a lock and may still be scanning one,
 * so they wait for the cycle's end (gc.c), their pages unused meanwhile.
 * Whether more are left. A batch at a time, because each zaps PTEs: a
 * cycle that emptied thousands of spans must not hold heap->lock, which
 * every new span needs, for all of them at once.
 */
static bool destroy_dead_locked(struct gcheap *heap, unsigned int max)
{
	struct gcheap_span *span;

	lockdep_assert_held(&heap->lock);
	if (heap->hold_spans)
		return false;
	if (!heap->dying)
		WRITE_ONCE(heap->dying, llist_del_all(&heap->dead_spans));
	while (heap->dying && max--) {
		span = llist_entry(heap->dying, struct gcheap_span, dead);
		WRITE_ONCE(heap->dying, heap->dying->next);
		gcheap_span_destroy(heap, span);
	}
	return heap->dying || !llist_empty(&heap->dead_spans);
}

/*
 * A new span, INIT, as gcheap_span_create(), under heap->lock taken here;
 * a batch of dead spans' pages go back first, so they can be reused at
 * once, and all of them if the heap is out of pages otherwise.
 */
struct gcheap_span *gcheap_span_new(struct gcheap *heap, u8 spanclass, unsigned long npages)
{
	struct gcheap_span *span;

	mutex_lock(&heap->lock);
	destroy_dead_locked(heap, GCHEAP_DESTROY_BATCH);
	span = gcheap_span_create(heap, spanclass, npages);
	if (PTR_ERR_OR_ZERO(span) == -ENOMEM && !heap->hold_spans &&
	    (heap->dying || !llist_empty(&heap->dead_spans))) {
		while (destroy_dead_locked(heap, UINT_MAX))
			;
		span = gcheap_span_create(heap, spanclass, npages);
	}
	mutex_unlock(&heap->lock);
	return span;
}

/*
 * An INUSE span has no object left: DEAD from now on (lookups refuse it),
 * queued for gcheap_span_free_dead(). Under its central's lock, which
 * made it empty, so exactly one caller kills a span.
 */
void gcheap_span_kill(struct gcheap *heap, struct gcheap_span *span)
{
	lockdep_assert_held(&gcheap_span_central(heap, span)->lock);
	list_del_init(&span->list);
	span->state = GCHEAP_SPAN_DEAD;
	llist_add(&span->dead, &heap->dead_spans);
}

/*
 * Give the pages of DEAD spans back. Whoever kills a span calls this once
 * it holds no spinlock, so pages return promptly; the heap-wide lock is
 * taken only if there is something to free.
 */
void gcheap_span_free_dead(struct gcheap *heap)
{
	bool more = true;

	/* A cycle's markers hold spans: nothing to do until it ends. */
	if ((llist_empty(&heap->dead_spans) && !READ_ONCE(heap->dying)) ||
	    READ_ONCE(heap->hold_spans))
		return;
	while (more) {
		mutex_lock(&heap->lock);
		more = destroy_dead_locked(heap, GCHEAP_DESTROY_BATCH);
		mutex_unlock(&heap->lock);
		cond_resched();
	}
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_span_free_dead);

/*
 * Index of the object that starts exactly at @addr, or -ENOENT if @addr is
 * not an object's first byte (interior pointers are the collector's
 * business, not free()'s).
 */
long gcheap_span_obj_index(struct gcheap *heap, struct gcheap_span *span,
			   unsigned long addr)
{
	unsigned long off = addr - gcheap_span_base(heap, span);
	u32 idx;

	if (gcheap_span_is_large(span))
		return off ? -ENOENT : 0;
	idx = gcheap_obj_index(gcheap_span_class(span), off);
	if (idx >= span->nelems || (unsigned long)idx * span->elemsize != off)
		return -ENOENT;
	return idx;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_span_obj_index);

/*
 * Zero a span's free slots: a large INIT span's object, or the slots a
 * cache was just given (cache_free, which nobody else changes while the
 * cache holds the span), so a cache never has to. The caller took the
 * span's needzero, under its central's lock for a small span, since
 * other free slots may be freed (and made dirty) meanwhile. -EINTR if
 * the caller is killed meanwhile; the slots still need zeroing.
 */
int gcheap_span_zero_free(struct gcheap *heap, struct gcheap_span *span)
{
	unsigned long *free = gcheap_span_cache_free(span);
	unsigned long i, next;
	int ret = 0;

	if (gcheap_span_is_large(span))
		return gcheap_arena_zero(heap, span->start, 0, span->npages << GCHEAP_PAGE_SHIFT);
	/* Runs of free slots, zeroed a run at a time. */
	for (i = find_first_bit(free, span->nelems); !ret && i < span->nelems;
	     i = find_next_bit(free, span->nelems, next)) {
		next = find_next_zero_bit(free, span->nelems, i);
		ret = gcheap_arena_zero(heap, span->start, i * span->elemsize,
					(next - i) * span->elemsize);
	}
	return ret;
}

/* Free every span's descriptor at heap teardown; the arena frees the pages. */
void gcheap_span_release_all(struct gcheap *heap)
{
	struct gcheap_span *span;
	unsigned long pg = 0, n;

	while (pg < heap->npages) {
		span = gcheap_arena_span_at(heap, pg);
		if (!span) {
			pg++;
			continue;
		}
		/* Spans are visited whole, so pg is always a span's first page. */
		n = span->npages;
		kfree(span);
		pg += n;
	}
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_span_release_all);
