// SPDX-License-Identifier: GPL-2.0
/*
 * Central lists (Go's mcentral): per span class, the spans no cache holds,
 * partial (a free slot) or full, and the hand-over of spans to and from the
 * caches of user threads.
 *
 * A cache owns every slot that was free when it got the span; the module
 * keeps that set (cache_free) and, when the span comes back, accepts as
 * still free only a subset of it. Everything else the cache was given is
 * then an allocated object. The heap counts a cached span as fully
 * allocated, as Go's heapLive does, and subtracts what comes back unused.
 *
 * A cached span is on its owner's list (struct gcheap_m) so the spans of a
 * thread that dies without giving them back can be taken back.
 *
 * Locking: heap->lock (span lookup, creation, destruction, counters, the
 * owners' lists), then central->lock (central lists, a span's bits, count
 * and state). Both are held for every change of a span's state.
 */
#include <linux/bitmap.h>
#include <linux/sched.h>
#include <linux/export.h>
#include <kunit/visibility.h>
#include "central.h"
#include "arena.h"
#include "stw.h"
#include "sweep.h"
#include "pacer.h"

void gcheap_central_init(struct gcheap *heap)
{
	int i, j;

	for (i = 0; i < GCHEAP_NUM_SPAN_CLASSES; i++) {
		spin_lock_init(&heap->central[i].lock);
		for (j = 0; j < 2; j++) {
			INIT_LIST_HEAD(&heap->central[i].partial[j]);
			INIT_LIST_HEAD(&heap->central[i].full[j]);
		}
	}
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_central_init);

static struct gcheap_central *central_of(struct gcheap *heap,
					 const struct gcheap_span *span)
{
	return &heap->central[span->spanclass];
}

/* Bytes a span's free slots stand for. */
static u64 span_free_bytes(const struct gcheap_span *span)
{
	return (u64)(span->nelems - span->alloc_count) * span->elemsize;
}

/* Go's cacheSpan sweeps at most this many spans before it grows the heap. */
#define GCHEAP_SWEEP_ON_DEMAND	100

static struct gcheap_span *take_partial(struct gcheap *heap, struct gcheap_central *c)
{
	struct gcheap_span *span;

	spin_lock(&c->lock);
	span = list_first_entry_or_null(gcheap_partial_swept(heap, c),
					struct gcheap_span, list);
	if (span)
		list_del_init(&span->list);
	spin_unlock(&c->lock);
	return span;
}

/*
 * Hand a span of @spanclass to the cache of @owner (NULL: no thread, for
 * KUnit): a partial swept span, sweeping unswept ones of the class until
 * one has room, else a new one (*fresh). Its free slots are zeroed. ERR_PTR
 * on failure with the heap unchanged but for spans swept.
 */
struct gcheap_span *gcheap_central_cache_span(struct gcheap *heap, u8 spanclass,
					      struct gcheap_m *owner, bool *fresh)
{
	struct gcheap_central *c = &heap->central[spanclass];
	struct gcheap_span *span;
	int n = 0;

	lockdep_assert_held(&heap->lock);
	span = take_partial(heap, c);
	while (!span && n++ < GCHEAP_SWEEP_ON_DEMAND && gcheap_sweep_one(heap, spanclass))
		span = take_partial(heap, c);
	*fresh = !span;
	if (!span) {
		span = gcheap_span_create(heap, spanclass,
					  gcheap_classes[spanclass >> 1].npages);
		/* Out of pages: what the last cycle freed may still be unswept. */
		if (PTR_ERR_OR_ZERO(span) == -ENOMEM) {
			while (gcheap_sweep_one(heap, -1))
				;
			span = take_partial(heap, c);
			*fresh = !span;
			if (!span)
				span = gcheap_span_create(heap, spanclass,
							  gcheap_classes[spanclass >> 1].npages);
		}
		if (IS_ERR(span))
			return span;
	}

	spin_lock(&c->lock);
	bitmap_complement(gcheap_span_cache_free(span), gcheap_span_alloc_bits(span),
			  span->nelems);
	span->state = GCHEAP_SPAN_CACHED;
	span->owner = owner;
	spin_unlock(&c->lock);
	if (owner)
		list_add(&span->list, &owner->cached);

	/*
	 * Stops early only for a dying thread: its cache is reaped as used,
	 * and needzero stays set for the span's next owner.
	 */
	gcheap_span_zero_free(heap, span);
	heap->spans_inuse += *fresh;
	heap->spans_cached++;
	heap->refills++;
	heap->alloc_bytes += span_free_bytes(span);
	heap->alloc_objects += span->nelems - span->alloc_count;
	heap->cached_free_bytes += span_free_bytes(span);
	gcheap_pacer_note_alloc(heap, span_free_bytes(span));
	return span;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_central_cache_span);

/*
 * The span a cache gives back in @ret, if the give-back is valid: @ret
 * names a small span this heap's caches hold, and every slot it reports
 * unused was free when the span was handed out. Changes nothing.
 */
struct gcheap_span *gcheap_central_check_return(struct gcheap *heap, struct gcheap_m *owner,
						const struct gcheap_span_return *ret)
{
	DECLARE_BITMAP(unused, GCHEAP_MAX_SPAN_ELEMS);
	struct gcheap_span *span;
	struct gcheap_central *c;
	int err = 0;

	lockdep_assert_held(&heap->lock);
	span = gcheap_arena_span_of(heap, ret->base);
	if (!span || gcheap_span_is_large(span) || gcheap_span_base(heap, span) != ret->base)
		return ERR_PTR(-ENOENT);
	bitmap_from_arr64(unused, ret->free, GCHEAP_MAX_SPAN_ELEMS);
	/* No bit past the span's last slot. */
	if (find_next_bit(unused, GCHEAP_MAX_SPAN_ELEMS, span->nelems) < GCHEAP_MAX_SPAN_ELEMS)
		return ERR_PTR(-EINVAL);
	c = central_of(heap, span);
	spin_lock(&c->lock);
	if (span->state != GCHEAP_SPAN_CACHED || span->owner != owner)
		err = -ENOENT;
	else if (!bitmap_subset(unused, gcheap_span_cache_free(span), span->nelems))
		err = -EINVAL;
	spin_unlock(&c->lock);
	if (err)
		return ERR_PTR(err);
	return span;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_central_check_return);

/*
 * Take back a span checked by gcheap_central_check_return(); @unused_arr
 * NULL: the cache used every slot it was given (its thread died).
 */
void gcheap_central_uncache_span(struct gcheap *heap, struct gcheap_span *span,
				 const u64 *unused_arr)
{
	DECLARE_BITMAP(used, GCHEAP_MAX_SPAN_ELEMS);
	DECLARE_BITMAP(unused, GCHEAP_MAX_SPAN_ELEMS);
	struct gcheap_central *c = central_of(heap, span);
	unsigned int nunused;

	lockdep_assert_held(&heap->lock);
	/* The cycle since hand-out may have freed slots the cache did not hold. */
	gcheap_sweep_span(heap, span);
	if (unused_arr)
		bitmap_from_arr64(unused, unused_arr, GCHEAP_MAX_SPAN_ELEMS);
	else
		bitmap_zero(unused, GCHEAP_MAX_SPAN_ELEMS);
	heap->cached_free_bytes -= (u64)bitmap_weight(gcheap_span_cache_free(span),
						      span->nelems) * span->elemsize;
	list_del_init(&span->list);
	span->owner = NULL;
	spin_lock(&c->lock);
	bitmap_andnot(used, gcheap_span_cache_free(span), unused, span->nelems);
	bitmap_or(gcheap_span_alloc_bits(span), gcheap_span_alloc_bits(span), used,
		  span->nelems);
	span->alloc_count = bitmap_weight(gcheap_span_alloc_bits(span), span->nelems);
	nunused = bitmap_weight(unused, span->nelems);
	span->state = GCHEAP_SPAN_INUSE;
	if (span->alloc_count == span->nelems)
		list_add(&span->list, gcheap_full_swept(heap, c));
	else if (span->alloc_count)
		list_add(&span->list, gcheap_partial_swept(heap, c));
	spin_unlock(&c->lock);

	heap->spans_cached--;
	heap->alloc_bytes -= (u64)nunused * span->elemsize;
	heap->alloc_objects -= nunused;
	gcheap_pacer_note_alloc(heap, -(s64)nunused * span->elemsize);
	if (!span->alloc_count) {
		heap->spans_inuse--;
		gcheap_span_destroy(heap, span);
	}
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_central_uncache_span);

/*
 * Free object @idx of small span @span early (GCHEAP_IOC_FREE). -EBUSY if
 * the slot belongs to a cache, -ENOENT if it is not allocated.
 */
int gcheap_central_free_object(struct gcheap *heap, struct gcheap_span *span,
			       unsigned long idx)
{
	struct gcheap_central *c = central_of(heap, span);
	unsigned long *alloc = gcheap_span_alloc_bits(span);
	int ret = 0;

	lockdep_assert_held(&heap->lock);
	/* The last cycle may have found it dead already. */
	if (span->state != GCHEAP_SPAN_INIT && gcheap_sweep_span(heap, span))
		return -ENOENT;
	spin_lock(&c->lock);
	if (span->state == GCHEAP_SPAN_CACHED && test_bit(idx, gcheap_span_cache_free(span))) {
		ret = -EBUSY;
	} else if (span->state == GCHEAP_SPAN_INIT || !test_bit(idx, alloc)) {
		ret = -ENOENT;
	} else {
		__clear_bit(idx, alloc);
		__clear_bit(idx, gcheap_span_mark_bits(span));
		span->alloc_count--;
		span->needzero = true;
		/*
		 * A cached span is on no list and keeps this slot out of the
		 * cache's hands until it comes back; otherwise it is now partial.
		 */
		if (span->state == GCHEAP_SPAN_INUSE) {
			if (span->alloc_count)
				list_move(&span->list, gcheap_partial_swept(heap, c));
			else
				list_del_init(&span->list);
		}
	}
	spin_unlock(&c->lock);
	if (ret)
		return ret;
	heap->alloc_bytes -= span->elemsize;
	heap->alloc_objects--;
	heap->frees++;
	gcheap_pacer_note_alloc(heap, -(s64)span->elemsize);
	if (span->state == GCHEAP_SPAN_INUSE && !span->alloc_count) {
		heap->spans_inuse--;
		gcheap_span_destroy(heap, span);
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_central_free_object);

/* GCHEAP_IOC_OBJECT for a small span: what the heap knows of slot @idx. */
static void central_describe(struct gcheap *heap, struct gcheap_span *span,
			     unsigned long idx, struct gcheap_object *obj)
{
	struct gcheap_central *c = central_of(heap, span);

	lockdep_assert_held(&heap->lock);
	obj->flags = 0;
	/* An unswept span's allocBits still show last cycle's garbage. */
	if (gcheap_sweep_span(heap, span))
		return;
	spin_lock(&c->lock);
	if (test_bit(idx, gcheap_span_alloc_bits(span)))
		obj->flags |= GCHEAP_OBJECT_ALLOCATED;
	if (span->state == GCHEAP_SPAN_CACHED)
		obj->flags |= GCHEAP_OBJECT_CACHED;
	spin_unlock(&c->lock);
}

/*
 * GCHEAP_IOC_OBJECT: what the heap knows of the object holding obj->addr
 * (interior pointers included). -ENOENT if no span holds it.
 */
int gcheap_object_lookup(struct gcheap *heap, struct gcheap_object *obj)
{
	struct gcheap_span *span;
	u32 idx;

	lockdep_assert_held(&heap->lock);
	span = gcheap_arena_span_of(heap, obj->addr);
	if (!span || span->state == GCHEAP_SPAN_INIT)
		return -ENOENT;
	obj->spanclass = span->spanclass;
	obj->base = gcheap_span_base(heap, span);
	if (gcheap_span_is_large(span)) {
		obj->objsize = (u64)span->npages << GCHEAP_PAGE_SHIFT;
		obj->flags = GCHEAP_OBJECT_ALLOCATED;
		return 0;
	}
	idx = gcheap_obj_index(gcheap_span_class(span), obj->addr - obj->base);
	if (idx >= span->nelems)	/* the span's unused tail */
		return -ENOENT;
	obj->base += (u64)idx * span->elemsize;
	obj->objsize = span->elemsize;
	central_describe(heap, span, idx, obj);
	return 0;
}
