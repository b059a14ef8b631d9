// SPDX-License-Identifier: GPL-2.0
/*
 * Large objects: anything over 32 KiB gets a span of its own, straight from
 * the page allocator (Go's allocLarge), and goes back to it when freed.
 *
 * Locking: heap->lock for creation and destruction. The object is zeroed
 * with the lock dropped, while its span is still INIT: no lookup by address
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
	struct gcheap_span *span;
	unsigned long npages;
	u8 spc;
	int ret;

	if (req->flags & ~GCHEAP_LARGE_NOSCAN || req->__reserved)
		return -EINVAL;
	if (!req->bytes)
		return -EINVAL;
	mutex_lock(&heap->lock);
	if (req->bytes > (u64)heap->npages << GCHEAP_PAGE_SHIFT) {
		mutex_unlock(&heap->lock);
		return heap->npages ? -ENOMEM : -ENXIO;
	}
	npages = DIV_ROUND_UP(req->bytes, GCHEAP_PAGE_SIZE);
	spc = GCHEAP_SPANCLASS(0, req->flags & GCHEAP_LARGE_NOSCAN);
	span = gcheap_span_create(heap, spc, npages);
	/* Out of pages: what the last cycle freed may still be unswept. */
	if (PTR_ERR_OR_ZERO(span) == -ENOMEM) {
		while (gcheap_sweep_one(heap, -1))
			;
		span = gcheap_span_create(heap, spc, npages);
	}
	mutex_unlock(&heap->lock);
	if (IS_ERR(span))
		return PTR_ERR(span);

	/* Killed while zeroing: the span goes back, the heap is as it was. */
	ret = gcheap_span_zero_free(heap, span);
	if (ret) {
		mutex_lock(&heap->lock);
		gcheap_span_destroy(heap, span);
		mutex_unlock(&heap->lock);
		return ret;
	}
	gcheap_arena_prefault(heap, span->start, npages);

	mutex_lock(&heap->lock);
	span->state = GCHEAP_SPAN_INUSE;
	/* Created after the last mark: swept for this cycle already. */
	list_add(&span->list, &heap->large[gcheap_swept_idx(heap)]);
	gcheap_pacer_note_alloc(heap, npages << GCHEAP_PAGE_SHIFT);
	heap->large_objects++;
	heap->large_allocs++;
	heap->alloc_bytes += npages << GCHEAP_PAGE_SHIFT;
	heap->alloc_objects++;
	req->base = gcheap_span_base(heap, span);
	req->span_bytes = npages << GCHEAP_PAGE_SHIFT;
	mutex_unlock(&heap->lock);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_large_alloc);

/* Free a large object early; -ENOENT if the last cycle found it dead. */
int gcheap_large_free(struct gcheap *heap, struct gcheap_span *span)
{
	lockdep_assert_held(&heap->lock);
	if (gcheap_sweep_span(heap, span))
		return -ENOENT;
	list_del_init(&span->list);
	gcheap_pacer_note_alloc(heap, -(s64)(span->npages << GCHEAP_PAGE_SHIFT));
	heap->large_objects--;
	heap->alloc_bytes -= span->npages << GCHEAP_PAGE_SHIFT;
	heap->alloc_objects--;
	heap->frees++;
	gcheap_span_destroy(heap, span);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_large_free);
