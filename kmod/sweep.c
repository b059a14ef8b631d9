// SPDX-License-Identifier: GPL-2.0
/*
 * Sweeping (Go's mgcsweep): after a cycle's mark, every span's allocBits
 * become its gcmarkBits; a span left with no object goes back to the page
 * allocator, as does a dead large object.
 *
 * sweepgen as in Go, with the collector's STW making it simpler: the cycle
 * adds 2 to heap->sweepgen when marking ends, so every span whose own
 * sweepgen differs is unswept; sweeping sets it equal. A span is swept
 * once, under heap->lock, and never used unswept: a refill sweeps the
 * spans of its class on demand before it takes one (Go's cacheSpan), a
 * span coming back from a cache is swept first, the background sweeper
 * (a work item on gcheap_wq) sweeps the rest, and the next cycle finishes
 * whatever is left before it marks.
 *
 * A span a cache holds keeps the slots it was given: sweeping frees only
 * its other slots (those in allocBits), which the cache cannot reach.
 *
 * Locking: heap->lock for everything here, then a central's lock for its
 * lists and a span's bits. Sweeping consumes the mark bits: they become
 * allocBits and are cleared for the next cycle. Marking and sweeping never
 * overlap: a cycle sweeps every span before it marks, with the world
 * stopped, and sweepgen moves (making spans unswept) only once it is done.
 */
#include <linux/bitmap.h>
#include <linux/sched.h>
#include <linux/export.h>
#include <kunit/visibility.h>
#include "sweep.h"
#include "stw.h"
#include "mark.h"

/* Sweep a large span: true if its object was dead and the span is gone. */
static bool sweep_large(struct gcheap *heap, struct gcheap_span *span)
{
	unsigned long *mark = gcheap_span_mark_bits(span);
	u64 bytes = span->npages << GCHEAP_PAGE_SHIFT;

	span->sweepgen = heap->sweepgen;
	if (test_bit(0, mark)) {
		__clear_bit(0, mark);
		list_move(&span->list, &heap->large[gcheap_swept_idx(heap)]);
		return false;
	}
	list_del_init(&span->list);
	heap->large_objects--;
	heap->alloc_bytes -= bytes;
	heap->alloc_objects--;
	heap->swept_bytes += bytes;
	heap->freed_objects++;
	gcheap_span_destroy(heap, span);
	return true;
}

/*
 * Sweep @span if this cycle has not: true if it was freed whole. The span
 * is INUSE (on an unswept list) or CACHED.
 */
bool gcheap_sweep_span(struct gcheap *heap, struct gcheap_span *span)
{
	struct gcheap_central *c;
	unsigned long *alloc, *mark;
	unsigned int before, freed;

	lockdep_assert_held(&heap->lock);
	if (span->sweepgen == heap->sweepgen)
		return false;
	if (gcheap_span_is_large(span))
		return sweep_large(heap, span);

	c = &heap->central[span->spanclass];
	alloc = gcheap_span_alloc_bits(span);
	mark = gcheap_span_mark_bits(span);
	spin_lock(&c->lock);
	before = span->alloc_count;
	bitmap_and(alloc, alloc, mark, span->nelems);
	bitmap_zero(mark, span->nelems);
	span->alloc_count = bitmap_weight(alloc, span->nelems);
	freed = before - span->alloc_count;
	if (freed)
		span->needzero = true;
	span->sweepgen = heap->sweepgen;
	if (span->state == GCHEAP_SPAN_INUSE) {
		list_del_init(&span->list);
		if (span->alloc_count == span->nelems)
			list_add(&span->list, gcheap_full_swept(heap, c));
		else if (span->alloc_count)
			list_add(&span->list, gcheap_partial_swept(heap, c));
	}
	spin_unlock(&c->lock);

	heap->alloc_bytes -= (u64)freed * span->elemsize;
	heap->alloc_objects -= freed;
	heap->swept_bytes += (u64)freed * span->elemsize;
	heap->freed_objects += freed;
	if (span->state == GCHEAP_SPAN_INUSE && !span->alloc_count) {
		heap->spans_inuse--;
		gcheap_span_destroy(heap, span);
		return true;
	}
	return false;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_sweep_span);

static struct gcheap_span *first_unswept(struct gcheap *heap, int spanclass)
{
	struct gcheap_central *c = &heap->central[spanclass];
	unsigned int u = gcheap_unswept_idx(heap);
	struct gcheap_span *span;

	spin_lock(&c->lock);
	span = list_first_entry_or_null(&c->partial[u], struct gcheap_span, list);
	if (!span)
		span = list_first_entry_or_null(&c->full[u], struct gcheap_span, list);
	spin_unlock(&c->lock);
	return span;
}

/*
 * Sweep one unswept span of @spanclass, or of any class and then large
 * spans if @spanclass is negative. false if there was none.
 */
bool gcheap_sweep_one(struct gcheap *heap, int spanclass)
{
	struct gcheap_span *span = NULL;
	int spc;

	lockdep_assert_held(&heap->lock);
	if (spanclass >= 0) {
		span = first_unswept(heap, spanclass);
	} else {
		for (spc = 2; !span && spc < GCHEAP_NUM_SPAN_CLASSES; spc++)
			span = first_unswept(heap, spc);
		if (!span)
			span = list_first_entry_or_null(&heap->large[gcheap_unswept_idx(heap)],
							struct gcheap_span, list);
	}
	if (!span)
		return false;
	gcheap_sweep_span(heap, span);
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_sweep_one);

/*
 * Sweep everything this cycle has not, the spans caches hold included
 * (gch_collect, and the start of the next cycle). Drops heap->lock now
 * and then, so it may run while threads allocate.
 */
void gcheap_sweep_all(struct gcheap *heap)
{
	struct gcheap_span *span;
	struct gcheap_m *m;
	unsigned int n = 0;

	mutex_lock(&heap->lock);
	while (gcheap_sweep_one(heap, -1)) {
		if (!(++n % 32)) {
			mutex_unlock(&heap->lock);
			cond_resched();
			mutex_lock(&heap->lock);
		}
	}
	list_for_each_entry(m, &heap->threads, node)
		list_for_each_entry(span, &m->cached, list)
			gcheap_sweep_span(heap, span);
	mutex_unlock(&heap->lock);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_sweep_all);

void gcheap_sweep_work_fn(struct work_struct *work)
{
	struct gcheap *heap = container_of(work, struct gcheap, sweep_work);
	bool more = true;

	while (more) {
		mutex_lock(&heap->lock);
		more = gcheap_sweep_one(heap, -1);
		if (!more)
			heap->sweep_queued = false;
		mutex_unlock(&heap->lock);
		cond_resched();
	}
}

/* Hand the cycle's sweeping to the background sweeper. */
void gcheap_sweep_start_background(struct gcheap *heap)
{
	lockdep_assert_held(&heap->lock);
	if (!heap->sweep_queued) {
		heap->sweep_queued = true;
		queue_work(gcheap_wq, &heap->sweep_work);
	}
}
