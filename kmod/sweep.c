// SPDX-License-Identifier: GPL-2.0
/*
 * Sweeping (Go's mgcsweep): after a cycle's mark, every span's allocBits
 * become its gcmarkBits; a span left with no object goes back to the page
 * allocator, as does a dead large object.
 *
 * sweepgen as in Go (the states are listed at struct gcheap_span): mark
 * termination adds 2 to heap->sweepgen, which makes every INUSE span
 * unswept (sg - 2) and every cached one "cached, unswept" (sg + 1).
 * Sweeping brings them to sg and sg + 3. A span is swept once and never
 * used unswept: a refill sweeps the spans of its class on demand before it
 * takes one (Go's cacheSpan), a span coming back from a cache, an early
 * free and an object lookup sweep the span first, the background sweeper
 * (a work item on the heap's first thread, workers.c) sweeps the rest, and the next cycle finishes
 * whatever is left, cached spans included, before it marks.
 *
 * A span a cache holds keeps the slots it was given: sweeping frees only
 * its other slots (those in allocBits), which the cache cannot reach.
 *
 * Locking: a span is swept under its central's lock, which also guards
 * the unswept lists it is taken from, so any number of sweepers (refills
 * of every class, the background sweeper, lookups) run at once, with no
 * heap-wide lock. Each reads sweepgen under that lock. sweepgen moves only
 * with the world stopped, after the cycle swept everything before it
 * marked, and the one sweeper that is not a stoppable thread (the work
 * item) finds nothing to sweep in that window; so a sweeper never judges
 * a span by a sweepgen that moved under it. A span swept empty becomes
 * DEAD and is queued (span.c); its pages go back when heap->lock is next
 * taken for that. Sweeping consumes the mark bits: they become allocBits
 * and are cleared for the next cycle.
 */
#include <linux/bitmap.h>
#include <linux/sched.h>
#include <linux/export.h>
#include <kunit/visibility.h>
#include "trace.h"
#include "sweep.h"
#include "stw.h"
#include "central.h"
#include "mark.h"
#include "workers.h"

/* Sweep a large span: its object is dead unless marked. */
static void sweep_large(struct gcheap *heap, struct gcheap_span *span, u32 sg)
{
	struct gcheap_central *c = gcheap_span_central(heap, span);
	unsigned long *mark = gcheap_span_mark_bits(span);
	u64 bytes = span->npages << GCHEAP_PAGE_SHIFT;

	span->sweepgen = sg;
	if (test_bit(0, mark)) {
		__clear_bit(0, mark);
		list_move(&span->list, &c->full[gcheap_swept_idx(sg)]);
		return;
	}
	atomic64_dec(&heap->cnt.large_objects);
	atomic64_sub(bytes, &heap->cnt.alloc_bytes);
	atomic64_dec(&heap->cnt.alloc_objects);
	atomic64_add(bytes, &heap->cnt.swept_bytes);
	atomic64_inc(&heap->cnt.freed_objects);
	gcheap_span_kill(heap, span);
}

/*
 * Sweep @span if this cycle has not; its central's lock is held, and the
 * span is INUSE or CACHED. An INUSE span left empty is DEAD afterwards.
 */
void gcheap_sweep_locked(struct gcheap *heap, struct gcheap_span *span)
{
	struct gcheap_central *c = gcheap_span_central(heap, span);
	u32 sg = gcheap_sweepgen(heap);
	unsigned long *alloc, *mark;
	unsigned int before, freed;
	bool cached = span->state == GCHEAP_SPAN_CACHED;

	lockdep_assert_held(&c->lock);
	if (span->sweepgen != (cached ? sg + 1 : sg - 2))
		return;
	if (gcheap_span_is_large(span)) {
		sweep_large(heap, span, sg);
		return;
	}
	alloc = gcheap_span_alloc_bits(span);
	mark = gcheap_span_mark_bits(span);
	before = span->alloc_count;
	bitmap_and(alloc, alloc, mark, span->nelems);
	bitmap_zero(mark, span->nelems);
	span->alloc_count = bitmap_weight(alloc, span->nelems);
	freed = before - span->alloc_count;
	if (freed)
		span->needzero = true;
	atomic64_sub((u64)freed * span->elemsize, &heap->cnt.alloc_bytes);
	atomic64_sub(freed, &heap->cnt.alloc_objects);
	atomic64_add((u64)freed * span->elemsize, &heap->cnt.swept_bytes);
	atomic64_add(freed, &heap->cnt.freed_objects);
	if (cached) {
		span->sweepgen = sg + 3;
		return;
	}
	span->sweepgen = sg;
	gcheap_central_put_locked(heap, span);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_sweep_locked);

/*
 * Sweep @span if this cycle has not. The caller keeps the span from being
 * freed meanwhile (RCU, or it is the span's owner).
 */
void gcheap_sweep_span(struct gcheap *heap, struct gcheap_span *span)
{
	struct gcheap_central *c = gcheap_span_central(heap, span);

	spin_lock(&c->lock);
	if (span->state == GCHEAP_SPAN_INUSE || span->state == GCHEAP_SPAN_CACHED)
		gcheap_sweep_locked(heap, span);
	spin_unlock(&c->lock);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_sweep_span);

/* Sweep the first unswept span of @c, if any. */
static bool sweep_first(struct gcheap *heap, struct gcheap_central *c)
{
	struct gcheap_span *span;
	unsigned int u;

	spin_lock(&c->lock);
	u = gcheap_unswept_idx(gcheap_sweepgen(heap));
	span = list_first_entry_or_null(&c->partial[u], struct gcheap_span, list);
	if (!span)
		span = list_first_entry_or_null(&c->full[u], struct gcheap_span, list);
	/* Sweeping moves it off the unswept lists: each call makes progress. */
	if (span)
		gcheap_sweep_locked(heap, span);
	spin_unlock(&c->lock);
	return span;
}

/*
 * Sweep one unswept span of @spanclass, or of any class, large ones last,
 * if @spanclass is negative. false if there was none.
 */
bool gcheap_sweep_one(struct gcheap *heap, int spanclass)
{
	int spc;

	if (spanclass >= 0)
		return sweep_first(heap, &heap->central[spanclass]);
	for (spc = 2; spc < GCHEAP_NUM_SPAN_CLASSES; spc++)
		if (sweep_first(heap, &heap->central[spc]))
			return true;
	return sweep_first(heap, &heap->central[0]) || sweep_first(heap, &heap->central[1]);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_sweep_one);

/* Sweep every span on an unswept list, giving emptied spans' pages back now and then. */
static void sweep_unswept(struct gcheap *heap)
{
	unsigned int n = 0;

	while (gcheap_sweep_one(heap, -1)) {
		if (!(++n % 32)) {
			gcheap_span_free_dead(heap);
			cond_resched();
		}
	}
}

/*
 * The heap is out of pages: sweep what is left of the last cycle, whose
 * garbage may free some, and give the pages of emptied spans back. Also
 * the background sweeper's whole job.
 */
void gcheap_sweep_for_pages(struct gcheap *heap)
{
	sweep_unswept(heap);
	gcheap_span_free_dead(heap);
}

/*
 * Sweep everything this cycle has not, the spans caches hold included
 * (gch_collect, and the start of the next cycle), and give the pages of
 * spans swept empty back. Runs while threads allocate.
 */
void gcheap_sweep_all(struct gcheap *heap)
{
	struct gcheap_span *span;
	struct gcheap_m *m;

	sweep_unswept(heap);
	/* The thread set under heap->lock, each cache's list under its own. */
	mutex_lock(&heap->lock);
	list_for_each_entry(m, &heap->threads, node) {
		spin_lock(&m->cached_lock);
		list_for_each_entry(span, &m->cached, list)
			gcheap_sweep_span(heap, span);
		spin_unlock(&m->cached_lock);
	}
	mutex_unlock(&heap->lock);
	gcheap_span_free_dead(heap);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_sweep_all);

/* The background sweeper; once the garbage is swept, idle pages may be over the target. */
void gcheap_sweep_work_fn(struct kthread_work *work)
{
	struct gcheap *heap = container_of(work, struct gcheap, sweep_work);

	gcheap_sweep_for_pages(heap);
	trace_sweep_done(heap->tgid, atomic64_read(&heap->cnt.swept_bytes));
	gcheap_scavenge_kick(heap);
}

/*
 * Hand the cycle's sweeping to the background sweeper, on the heap's
 * first thread (workers.c). Without one, refills sweep on demand and the
 * next cycle sweeps the rest.
 */
void gcheap_sweep_start_background(struct gcheap *heap)
{
	/* Acquire: the thread's slot is published before the count (workers.c). */
	if (smp_load_acquire(&heap->workers.n))
		kthread_queue_work(gcheap_worker(heap, 0), &heap->sweep_work);
}
