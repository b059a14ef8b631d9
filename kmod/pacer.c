// SPDX-License-Identifier: GPL-2.0
/*
 * The pacer (Go's mgcpacer, stop-the-world form): when the next cycle
 * starts. Its goal is the heap the last cycle found live grown by GOGC
 * percent, with a 4 MiB floor; GOGC < 0 turns automatic collection off.
 * live_bytes is Go's heapLive: the marked heap plus what was allocated
 * since (a span handed to a cache counts whole). Crossing the goal sets
 * gc_wanted in the control page; the library, which polls it after each
 * refill, then asks for a cycle.
 *
 * Locking: gogc, next_gc and last_marked change under heap->lock and are
 * read without it; live_bytes is atomic, changed by every refill and free
 * with no lock. gc_wanted is then a hint that may lag a racing update by
 * one refill: the next one sets it right, and the collector decides
 * (GCHEAP_GC_IF_NEEDED) from live_bytes itself.
 */
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/moduleparam.h>
#include <linux/export.h>
#include <kunit/visibility.h>
#include "pacer.h"

static int gogc = 100;
module_param(gogc, int, 0644);
MODULE_PARM_DESC(gogc, "GOGC of new heaps, percent; negative: collection off (default 100)");

int gcheap_default_gogc(void)
{
	int v = READ_ONCE(gogc);

	return v < 0 ? GCHEAP_GOGC_OFF : v;
}

/* The heap goal after a cycle that marked @marked bytes. */
u64 gcheap_pacer_goal(u64 marked, int gogc)
{
	u64 goal;

	if (gogc < 0)
		return U64_MAX;
	if (check_mul_overflow(marked, (u64)gogc, &goal))
		return U64_MAX;
	goal = marked + goal / 100;
	if (goal < marked)
		return U64_MAX;
	return max(goal, GCHEAP_HEAP_MINIMUM);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pacer_goal);

/* Go's heapLive; never negative, however frees and a cycle's end interleave. */
u64 gcheap_pacer_live(const struct gcheap *heap)
{
	s64 v = atomic64_read(&heap->cnt.live_bytes);

	return v < 0 ? 0 : v;
}

/* The heap has reached its goal: a cycle is due. */
bool gcheap_pacer_due(const struct gcheap *heap)
{
	return gcheap_pacer_live(heap) >= READ_ONCE(heap->next_gc);
}

static void update_wanted(struct gcheap *heap)
{
	WRITE_ONCE(heap->ctrl->gc_wanted, gcheap_pacer_due(heap));
	WRITE_ONCE(heap->ctrl->next_gc, READ_ONCE(heap->next_gc));
}

/* @bytes more (or, negative, fewer) allocated since the last mark. */
void gcheap_pacer_note_alloc(struct gcheap *heap, s64 bytes)
{
	atomic64_add(bytes, &heap->cnt.live_bytes);
	if (heap->ctrl)
		update_wanted(heap);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pacer_note_alloc);

void gcheap_pacer_cycle_end(struct gcheap *heap, u64 marked)
{
	lockdep_assert_held(&heap->lock);
	WRITE_ONCE(heap->last_marked, marked);
	atomic64_set(&heap->cnt.live_bytes, marked);
	WRITE_ONCE(heap->next_gc, gcheap_pacer_goal(marked, heap->gogc));
	if (heap->ctrl)
		update_wanted(heap);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pacer_cycle_end);

/* GCHEAP_IOC_SETGC: set GOGC, the old value back in @req. */
int gcheap_pacer_setgc(struct gcheap *heap, struct gcheap_setgc *req)
{
	if (req->gogc < GCHEAP_GOGC_OFF)
		return -EINVAL;
	mutex_lock(&heap->lock);
	req->gogc = gcheap_pacer_set_gogc(heap, req->gogc);
	mutex_unlock(&heap->lock);
	return 0;
}

/* Set GOGC; returns the old value. */
int gcheap_pacer_set_gogc(struct gcheap *heap, int v)
{
	int old;

	lockdep_assert_held(&heap->lock);
	old = heap->gogc;
	heap->gogc = v < 0 ? GCHEAP_GOGC_OFF : v;
	WRITE_ONCE(heap->next_gc, gcheap_pacer_goal(heap->last_marked, heap->gogc));
	if (heap->ctrl)
		update_wanted(heap);
	return old;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pacer_set_gogc);
