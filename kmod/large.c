// SPDX-License-Identifier: GPL-2.0
/*
 * Large objects: anything over 32 KiB gets a span of its own, straight from
 * the page allocator (Go's allocLarge), and goes back to it when freed.
 *
 * Locking: heap->lock for creation and destruction (span.c), the span's
 * central (class 0 or 1) for its list and state. The object is zeroed with
 * no lock held, while its span is still INIT: no lookup by address
 * accepts an INIT span, so nothing else can free it meanwhile, and the
 * ioctl's reference on the file keeps the heap alive. A caller killed
 * while its object is populated or zeroed gets -EINTR and the span goes
 * back before anyone saw it.
 */
#include <linux/err.h>
#include <linux/export.h>
#include <kunit/visibility.h>
#include "large.h"
#include "arena.h"
#include "sweep.h"
#include "pacer.h"

int gcheap_large_alloc(struct gcheap *heap, struct gcheap_large *req)
{
	unsigned long npages, limit = gcheap_arena_npages(heap);
	struct gcheap_central *c;
	struct gcheap_span *span;
	u8 spc;
	int ret;

	if (req->flags & ~GCHEAP_LARGE_NOSCAN || req->__reserved)
		return -EINVAL;
	if (!req->bytes)
		return -EINVAL;
	if (req->bytes > (u64)limit << GCHEAP_PAGE_SHIFT)
		return limit ? -ENOMEM : -ENXIO;
	npages = DIV_ROUND_UP(req->bytes, GCHEAP_PAGE_SIZE);
	spc = GCHEAP_SPANCLASS(0, req->flags & GCHEAP_LARGE_NOSCAN);
	span = gcheap_span_new(heap, spc, npages);
	/* Out of pages: what the last cycle freed may still be unswept. */
	if (PTR_ERR_OR_ZERO(span) == -ENOMEM) {
		gcheap_sweep_for_pages(heap);
		span = gcheap_span_new(heap, spc, npages);
	}
	if (IS_ERR(span))
		return PTR_ERR(span);

	/* Killed while zeroing: the span goes back, the heap is as it was. */
	ret = span->needzero ? gcheap_span_zero_free(heap, span) : 0;
	if (ret) {
		mutex_lock(&heap->lock);
		gcheap_span_destroy(heap, span);
		mutex_unlock(&heap->lock);
		return ret;
	}
	gcheap_arena_prefault(heap, span->start, npages);

	c = gcheap_span_central(heap, span);
	spin_lock(&c->lock);
	/* Created after the last mark: swept for this cycle already. */
	span->sweepgen = gcheap_sweepgen(heap);
	/* Allocate black while a cycle marks (central.c), and count it live. */
	if (gcheap_marking(heap)) {
		set_bit(0, gcheap_span_mark_bits(span));
		atomic64_add(npages << GCHEAP_PAGE_SHIFT, &heap->cnt.black_bytes);
	}
	list_add(&span->list, &c->full[gcheap_swept_idx(span->sweepgen)]);
	/* Last: markers read the state without the lock (mark.c). */
	smp_store_release(&span->state, GCHEAP_SPAN_INUSE);
	spin_unlock(&c->lock);
	gcheap_pacer_note_alloc(heap, npages << GCHEAP_PAGE_SHIFT);
	atomic64_inc(&heap->cnt.large_objects);
	atomic64_inc(&heap->cnt.large_allocs);
	atomic64_add(npages << GCHEAP_PAGE_SHIFT, &heap->cnt.alloc_bytes);
	atomic64_inc(&heap->cnt.alloc_objects);
	req->base = gcheap_span_base(heap, span);
	req->span_bytes = npages << GCHEAP_PAGE_SHIFT;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_large_alloc);

/*
 * Free a large object early; -ENOENT if the last cycle found it dead. The
 * caller keeps @span from being freed (RCU) and calls
 * gcheap_span_free_dead() once it can sleep.
 */
int gcheap_large_free(struct gcheap *heap, struct gcheap_span *span)
{
	struct gcheap_central *c = gcheap_span_central(heap, span);
	u64 bytes = span->npages << GCHEAP_PAGE_SHIFT;
	int ret = -ENOENT;

	spin_lock(&c->lock);
	if (span->state == GCHEAP_SPAN_INUSE)
		gcheap_sweep_locked(heap, span);
	if (span->state == GCHEAP_SPAN_INUSE) {
		gcheap_span_kill(heap, span);
		ret = 0;
	}
	spin_unlock(&c->lock);
	if (ret)
		return ret;
	gcheap_pacer_note_alloc(heap, -(s64)bytes);
	atomic64_dec(&heap->cnt.large_objects);
	atomic64_sub(bytes, &heap->cnt.alloc_bytes);
	atomic64_dec(&heap->cnt.alloc_objects);
	atomic64_inc(&heap->cnt.frees);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_large_free);
