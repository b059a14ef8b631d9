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
 * At a cycle's first stop a thread may report its cache (uapi: struct
 * gcheap_cache_report): the slots it still has free. The rest of what it
 * was given becomes allocated objects the cycle judges like any other,
 * so garbage in a span a thread holds does not outlive the cycle, and
 * cache_free shrinks to what is really free.
 *
 * A cached span is on its owner's list (struct gcheap_m) so the spans of a
 * thread that dies without giving them back can be taken back.
 *
 * Locking (Go's mcentral): central->lock guards a class's lists and its
 * spans' bits, counts and state; refills, give-backs, early frees and
 * lookups of different classes never meet. heap->lock is taken only to
 * grow the heap (a new span) and to give a dead span's pages back (span.c),
 * never with a central lock held. An owner's list of cached spans is
 * under its cached_lock, taken before a central lock. Counters are atomic.
 */
#include <linux/bitmap.h>
#include <linux/sched.h>
#include <linux/export.h>
#include <linux/uaccess.h>
#include <linux/overflow.h>
#include <linux/slab.h>
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

/* Go's cacheSpan sweeps at most this many spans before it grows the heap. */
#define GCHEAP_SWEEP_ON_DEMAND	100

/*
 * Put INUSE @span, swept, where its count says: a swept partial or full
 * list, or DEAD if it holds nothing. Under its central's lock.
 */
void gcheap_central_put_locked(struct gcheap *heap, struct gcheap_span *span)
{
	struct gcheap_central *c = gcheap_span_central(heap, span);
	unsigned int sw = gcheap_swept_idx(gcheap_sweepgen(heap));

	lockdep_assert_held(&c->lock);
	if (!span->alloc_count) {
		atomic64_dec(&heap->cnt.spans_inuse);
		gcheap_span_kill(heap, span);
		return;
	}
	list_del_init(&span->list);
	list_add(&span->list, span->alloc_count == span->nelems ? &c->full[sw] : &c->partial[sw]);
}

/* What a cache was given: slots, and whether they need zeroing. */
struct hand_over {
	unsigned int nfree;
	bool dirty;
};

/*
 * Give a swept span (off every list, or INIT) to @owner's cache. Zeroing
 * the slots given is then the new owner's job: needzero from now on speaks
 * of slots freed later.
 */
static void hand_over_locked(struct gcheap *heap, struct gcheap_span *span,
			     struct gcheap_m *owner, struct hand_over *h)
{
	unsigned long i;

	lockdep_assert_held(&gcheap_span_central(heap, span)->lock);
	h->nfree = span->nelems - span->alloc_count;
	h->dirty = span->needzero;
	span->needzero = false;
	bitmap_complement(gcheap_span_cache_free(span), gcheap_span_alloc_bits(span),
			  span->nelems);
	/*
	 * Allocate black: while a cycle marks, whatever the cache allocates
	 * here is live for it. Atomic: markers set bits in the same words.
	 */
	if (gcheap_marking(heap))
		for_each_set_bit(i, gcheap_span_cache_free(span), span->nelems)
			set_bit(i, gcheap_span_mark_bits(span));
	span->owner = owner;
	span->sweepgen = gcheap_sweepgen(heap) + 3;
	/* Last: markers read the state without the lock (mark.c). */
	smp_store_release(&span->state, GCHEAP_SPAN_CACHED);
}

static struct gcheap_span *take_partial(struct gcheap *heap, struct gcheap_central *c,
					struct gcheap_m *owner, struct hand_over *h)
{
	struct gcheap_span *span;

	spin_lock(&c->lock);
	span = list_first_entry_or_null(&c->partial[gcheap_swept_idx(gcheap_sweepgen(heap))],
					struct gcheap_span, list);
	if (span) {
		list_del_init(&span->list);
		hand_over_locked(heap, span, owner, h);
	}
	spin_unlock(&c->lock);
	return span;
}

/*
 * Hand a span of @spanclass to the cache of @owner (NULL: no thread, for
 * KUnit): a partial swept span, sweeping unswept ones of the class until
 * one has room, else a new one (*fresh). Its free slots are zeroed. ERR_PTR
 * on failure with the heap unchanged but for spans swept. Takes heap->lock
 * only to grow the heap.
 */
struct gcheap_span *gcheap_central_cache_span(struct gcheap *heap, u8 spanclass,
					      struct gcheap_m *owner, bool *fresh)
{
	struct gcheap_central *c = &heap->central[spanclass];
	unsigned long npages = gcheap_classes[spanclass >> 1].npages;
	struct gcheap_span *span;
	struct hand_over h;
	u64 bytes;
	int n = 0;

	span = take_partial(heap, c, owner, &h);
	while (!span && n++ < GCHEAP_SWEEP_ON_DEMAND && gcheap_sweep_one(heap, spanclass))
		span = take_partial(heap, c, owner, &h);
	*fresh = !span;
	if (!span) {
		span = gcheap_span_new(heap, spanclass, npages);
		/* Out of pages: what the last cycle freed may still be unswept. */
		if (PTR_ERR_OR_ZERO(span) == -ENOMEM) {
			gcheap_sweep_for_pages(heap);
			span = take_partial(heap, c, owner, &h);
			*fresh = !span;
			if (!span)
				span = gcheap_span_new(heap, spanclass, npages);
		}
		if (IS_ERR(span))
			return span;
		spin_lock(&c->lock);
		hand_over_locked(heap, span, owner, &h);
		spin_unlock(&c->lock);
		atomic64_inc(&heap->cnt.spans_inuse);
	}
	if (owner) {
		spin_lock(&owner->cached_lock);
		list_add(&span->list, &owner->cached);
		spin_unlock(&owner->cached_lock);
	}

	/*
	 * Stops early only for a dying thread: its cache is reaped as used,
	 * and needzero is set again for the span's next owner.
	 */
	if (h.dirty && gcheap_span_zero_free(heap, span)) {
		spin_lock(&c->lock);
		span->needzero = true;
		spin_unlock(&c->lock);
	}
	atomic64_inc(&heap->cnt.spans_cached);
	atomic64_inc(&heap->cnt.refills);
	bytes = (u64)h.nfree * span->elemsize;
	atomic64_add(bytes, &heap->cnt.alloc_bytes);
	atomic64_add(h.nfree, &heap->cnt.alloc_objects);
	atomic64_add(bytes, &heap->cnt.cached_free_bytes);
	gcheap_pacer_note_alloc(heap, bytes);
	return span;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_central_cache_span);

/*
 * The span a cache gives back in @ret, if the give-back is valid: @ret
 * names a small span @owner's cache holds, and every slot it reports
 * unused was free when the span was handed out. Changes nothing. A span
 * found valid stays so: only its owner's thread gives it back.
 */
struct gcheap_span *gcheap_central_check_return(struct gcheap *heap, struct gcheap_m *owner,
						const struct gcheap_span_return *ret)
{
	DECLARE_BITMAP(unused, GCHEAP_MAX_SPAN_ELEMS);
	struct gcheap_span *span;
	struct gcheap_central *c;
	int err = -ENOENT;

	bitmap_from_arr64(unused, ret->free, GCHEAP_MAX_SPAN_ELEMS);
	/* No bit past the span's last slot. */
	rcu_read_lock();
	span = gcheap_arena_span_of(heap, ret->base);
	if (!span || gcheap_span_is_large(span) || gcheap_span_base(heap, span) != ret->base)
		goto out;
	err = -EINVAL;
	if (find_next_bit(unused, GCHEAP_MAX_SPAN_ELEMS, span->nelems) < GCHEAP_MAX_SPAN_ELEMS)
		goto out;
	c = gcheap_span_central(heap, span);
	spin_lock(&c->lock);
	if (span->state != GCHEAP_SPAN_CACHED || span->owner != owner)
		err = -ENOENT;
	else if (!bitmap_subset(unused, gcheap_span_cache_free(span), span->nelems))
		err = -EINVAL;
	else
		err = 0;
	spin_unlock(&c->lock);
out:
	rcu_read_unlock();
	return err ? ERR_PTR(err) : span;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_central_check_return);

/*
 * Take back a span checked by gcheap_central_check_return(); @unused_arr
 * NULL: the cache used every slot it was given (its thread died). Called
 * by the owner's thread, or with heap->lock held for a thread that is
 * gone.
 */
void gcheap_central_uncache_span(struct gcheap *heap, struct gcheap_span *span,
				 const u64 *unused_arr)
{
	DECLARE_BITMAP(used, GCHEAP_MAX_SPAN_ELEMS);
	DECLARE_BITMAP(unused, GCHEAP_MAX_SPAN_ELEMS);
	struct gcheap_central *c = gcheap_span_central(heap, span);
	struct gcheap_m *owner = span->owner;
	u64 elemsize = span->elemsize;
	unsigned int nunused, ncached, nblack = 0;
	unsigned long i;

	if (unused_arr)
		bitmap_from_arr64(unused, unused_arr, GCHEAP_MAX_SPAN_ELEMS);
	else
		bitmap_zero(unused, GCHEAP_MAX_SPAN_ELEMS);
	if (owner) {
		spin_lock(&owner->cached_lock);
		list_del_init(&span->list);
		spin_unlock(&owner->cached_lock);
	}
	spin_lock(&c->lock);
	/* The cycle since hand-out may have freed slots the cache did not hold. */
	gcheap_sweep_locked(heap, span);
	ncached = bitmap_weight(gcheap_span_cache_free(span), span->nelems);
	bitmap_andnot(used, gcheap_span_cache_free(span), unused, span->nelems);
	if (gcheap_marking(heap)) {
		/* Slots given back unused lose the mark a marking cycle gave them. */
		for_each_set_bit(i, unused, span->nelems)
			clear_bit(i, gcheap_span_mark_bits(span));
		/*
		 * Used slots marked (black, or reached) leave cached_free_bytes,
		 * which the cycle counts as live: the cycle counts them now.
		 */
		for_each_set_bit(i, used, span->nelems)
			nblack += test_bit(i, gcheap_span_mark_bits(span));
	}
	bitmap_or(gcheap_span_alloc_bits(span), gcheap_span_alloc_bits(span), used,
		  span->nelems);
	span->alloc_count = bitmap_weight(gcheap_span_alloc_bits(span), span->nelems);
	nunused = bitmap_weight(unused, span->nelems);
	span->owner = NULL;
	span->sweepgen = gcheap_sweepgen(heap);
	/* Bits first: a marker that sees INUSE sees the slots it took over. */
	smp_store_release(&span->state, GCHEAP_SPAN_INUSE);
	/* May kill the span: nothing of it is read after the unlock. */
	gcheap_central_put_locked(heap, span);
	spin_unlock(&c->lock);

	atomic64_add((u64)nblack * elemsize, &heap->cnt.black_bytes);
	atomic64_sub((u64)ncached * elemsize, &heap->cnt.cached_free_bytes);
	atomic64_dec(&heap->cnt.spans_cached);
	atomic64_sub((u64)nunused * elemsize, &heap->cnt.alloc_bytes);
	atomic64_sub(nunused, &heap->cnt.alloc_objects);
	gcheap_pacer_note_alloc(heap, -(s64)nunused * elemsize);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_central_uncache_span);

/*
 * Take over what @owner's cache used of a span it holds, as its report
 * @r says (uapi: struct gcheap_cache_report): every slot the cache was
 * given but does not report free becomes an ordinary allocated object,
 * and the cache keeps only the free ones. Only at the first stop of cycle
 * @cycle (gc_started, read when the take was decided: a stop given up
 * meanwhile must not vouch for the next cycle), before anything marks:
 * the slots taken over are white, for the cycle to mark or free. The
 * span is swept first, so last cycle's marks judge only what was
 * allocated before them. A report that no longer fits (the same span
 * twice) changes nothing.
 */
void gcheap_central_take_over(struct gcheap *heap, struct gcheap_m *owner,
			      const struct gcheap_span_return *r, u32 cycle)
{
	DECLARE_BITMAP(free, GCHEAP_MAX_SPAN_ELEMS);
	DECLARE_BITMAP(used, GCHEAP_MAX_SPAN_ELEMS);
	struct gcheap_span *span;
	struct gcheap_central *c;
	unsigned int nused = 0;
	u64 elemsize = 0;

	bitmap_from_arr64(free, r->free, GCHEAP_MAX_SPAN_ELEMS);
	rcu_read_lock();
	span = gcheap_arena_span_of(heap, r->base);
	if (!span || gcheap_span_is_large(span))
		goto out;
	c = gcheap_span_central(heap, span);
	spin_lock(&c->lock);
	if (span->state == GCHEAP_SPAN_CACHED && span->owner == owner &&
	    bitmap_subset(free, gcheap_span_cache_free(span), span->nelems)) {
		gcheap_sweep_locked(heap, span);
		bitmap_andnot(used, gcheap_span_cache_free(span), free, span->nelems);
		nused = bitmap_weight(used, span->nelems);
		bitmap_or(gcheap_span_alloc_bits(span), gcheap_span_alloc_bits(span), used,
			  span->nelems);
		span->alloc_count += nused;
		bitmap_copy(gcheap_span_cache_free(span), free, span->nelems);
		span->report_cycle = cycle;
		elemsize = span->elemsize;
	}
	spin_unlock(&c->lock);
out:
	rcu_read_unlock();
	atomic64_sub(nused * elemsize, &heap->cnt.cached_free_bytes);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_central_take_over);

/*
 * Copy in @owner's cache report at user address @uptr (0: none, an empty
 * report) and check it whole: every entry a small span the cache holds,
 * reporting free only slots it was given. Changes nothing.
 */
int gcheap_cache_report_read(struct gcheap *heap, struct gcheap_m *owner, u64 uptr,
			     struct gcheap_cache_snap *snap)
{
	struct gcheap_cache_report hdr;
	u32 i;

	memset(snap, 0, sizeof(*snap));
	snap->owner = owner;
	if (!uptr)
		return 0;
	if (copy_from_user(&hdr, u64_to_user_ptr(uptr), sizeof(hdr)))
		return -EFAULT;
	if (hdr.nspans > GCHEAP_CACHE_REPORT_MAX)
		return -E2BIG;
	snap->taken = u64_to_user_ptr(uptr + offsetof(struct gcheap_cache_report, taken));
	if (!hdr.nspans)
		return 0;
	snap->spans = kvmalloc_array(hdr.nspans, sizeof(*snap->spans), GFP_KERNEL_ACCOUNT);
	if (!snap->spans)
		return -ENOMEM;
	snap->nspans = hdr.nspans;
	if (copy_from_user(snap->spans, u64_to_user_ptr(hdr.spans),
			   array_size(hdr.nspans, sizeof(*snap->spans)))) {
		gcheap_cache_report_free(snap);
		return -EFAULT;
	}
	for (i = 0; i < snap->nspans; i++) {
		if (IS_ERR(gcheap_central_check_return(heap, owner, &snap->spans[i]))) {
			gcheap_cache_report_free(snap);
			return -EINVAL;
		}
		cond_resched();
	}
	return 0;
}

/*
 * Take a report read by gcheap_cache_report_read() (central_take_over,
 * each span), at the first stop of cycle @cycle. `taken` is written
 * first, without faulting: the collector may hold its locks with the
 * world stopped, and memory that only a parked thread could bring in
 * (userfaultfd) would never come. A cache that cannot be told keeps
 * every slot, as if no report had been made.
 */
void gcheap_cache_report_take(struct gcheap *heap, struct gcheap_cache_snap *snap, u32 cycle)
{
	int ret;
	u32 i;

	if (!snap->taken)
		return;
	pagefault_disable();
	ret = put_user(1U, snap->taken);
	pagefault_enable();
	if (ret)
		return;
	for (i = 0; i < snap->nspans; i++)
		gcheap_central_take_over(heap, snap->owner, &snap->spans[i], cycle);
}

void gcheap_cache_report_free(struct gcheap_cache_snap *snap)
{
	kvfree(snap->spans);
	snap->spans = NULL;
	snap->nspans = 0;
}

/*
 * Free object @idx of small span @span early (GCHEAP_IOC_FREE). -EBUSY if
 * the slot belongs to a cache, -ENOENT if it is not allocated. The caller
 * keeps @span from being freed (RCU) and calls gcheap_span_free_dead()
 * once it can sleep: the span may have died here.
 */
int gcheap_central_free_object(struct gcheap *heap, struct gcheap_span *span,
			       unsigned long idx)
{
	struct gcheap_central *c = gcheap_span_central(heap, span);
	unsigned long *alloc = gcheap_span_alloc_bits(span);
	int ret = -ENOENT;

	spin_lock(&c->lock);
	if (span->state != GCHEAP_SPAN_INUSE && span->state != GCHEAP_SPAN_CACHED)
		goto out;
	/* The last cycle may have found it dead already (and the span with it). */
	gcheap_sweep_locked(heap, span);
	if (span->state == GCHEAP_SPAN_DEAD || !test_bit(idx, alloc)) {
		/*
		 * A slot the cache holds is clear in allocBits too: say
		 * whose it is.
		 */
		if (span->state == GCHEAP_SPAN_CACHED &&
		    test_bit(idx, gcheap_span_cache_free(span)))
			ret = -EBUSY;
		goto out;
	}
	__clear_bit(idx, alloc);
	/* Atomic: a marker may set a neighbour's bit in the same word. */
	clear_bit(idx, gcheap_span_mark_bits(span));
	span->alloc_count--;
	span->needzero = true;
	/*
	 * A cached span is on no central list and keeps this slot out of
	 * the cache's hands until it comes back; otherwise it is now
	 * partial, or empty and dead.
	 */
	if (span->state == GCHEAP_SPAN_INUSE)
		gcheap_central_put_locked(heap, span);
	ret = 0;
out:
	spin_unlock(&c->lock);
	if (ret)
		return ret;
	atomic64_sub(span->elemsize, &heap->cnt.alloc_bytes);
	atomic64_dec(&heap->cnt.alloc_objects);
	atomic64_inc(&heap->cnt.frees);
	gcheap_pacer_note_alloc(heap, -(s64)span->elemsize);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_central_free_object);

/*
 * GCHEAP_IOC_OBJECT: what the heap knows of the object holding obj->addr
 * (interior pointers included). -ENOENT if no span in use holds it. No
 * heap-wide lock: the span is found without one and judged under its
 * central's lock.
 */
int gcheap_object_lookup(struct gcheap *heap, struct gcheap_object *obj)
{
	struct gcheap_central *c;
	struct gcheap_span *span;
	int ret = -ENOENT;
	u32 idx = 0;

	rcu_read_lock();
	span = gcheap_arena_span_of(heap, obj->addr);
	if (!span)
		goto out;
	c = gcheap_span_central(heap, span);
	spin_lock(&c->lock);
	if (span->state != GCHEAP_SPAN_INUSE && span->state != GCHEAP_SPAN_CACHED)
		goto unlock;
	obj->spanclass = span->spanclass;
	obj->base = gcheap_span_base(heap, span);
	obj->flags = 0;
	if (gcheap_span_is_large(span)) {
		obj->objsize = (u64)span->npages << GCHEAP_PAGE_SHIFT;
		obj->flags = GCHEAP_OBJECT_ALLOCATED;
		ret = 0;
		goto unlock;
	}
	idx = gcheap_obj_index(gcheap_span_class(span), obj->addr - obj->base);
	if (idx >= span->nelems)	/* the span's unused tail */
		goto unlock;
	obj->base += (u64)idx * span->elemsize;
	obj->objsize = span->elemsize;
	/* An unswept span's allocBits still show last cycle's garbage. */
	gcheap_sweep_locked(heap, span);
	ret = 0;
	if (span->state == GCHEAP_SPAN_DEAD)
		goto unlock;
	if (test_bit(idx, gcheap_span_alloc_bits(span)))
		obj->flags |= GCHEAP_OBJECT_ALLOCATED;
	if (span->state == GCHEAP_SPAN_CACHED)
		obj->flags |= GCHEAP_OBJECT_CACHED;
unlock:
	spin_unlock(&c->lock);
out:
	rcu_read_unlock();
	/* Sweeping may have emptied the span. */
	gcheap_span_free_dead(heap);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_object_lookup);
