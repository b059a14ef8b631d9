// SPDX-License-Identifier: GPL-2.0
/*
 * The write barrier's kernel side (Go's wbBuf flush, mwbbuf.go): draining
 * the words a thread's barrier recorded into the cycle's mark, the heap's
 * mode (STW or CONCURRENT), and the phase and barrier flag the control
 * page publishes.
 *
 * The library records, for each pointer store into a heap object while
 * ctrl->wb_enabled is 1, the slot's old value and the new value (the
 * hybrid barrier), and hands them over a buffer at a time: with
 * GCHEAP_IOC_WB_FLUSH when the buffer is full, with GCHEAP_IOC_PARK for
 * what is left when the world stops (mark termination's drain). Both go
 * through gcheap_wb_grey(): if the heap is marking, every word that
 * points into an allocated object of this heap greys it, the rest are
 * ignored; if not, the words are dropped. The words are the process's to
 * choose: any value is harmless (at worst it keeps an object for one
 * cycle), and the buffer is read with one copy_from_user() of at most
 * GCHEAP_WB_MAX words before anything is greyed.
 *
 * Invariants: ctrl->gc_phase and ctrl->wb_enabled change only under
 * heap->lock and, for wb_enabled, only while every attached thread is
 * parked (the library rereads it when it leaves a park; restarting the
 * world is a release of stw_seq, which orders these writes before it).
 * wb_enabled is never 1 for a STW heap. The mode is fixed before the heap
 * is mapped and before any thread attaches. A STW heap's phase stays OFF,
 * so a flush there only validates; a CONCURRENT heap's cycles mark with
 * the world running (gc.c).
 *
 * Concurrency: nothing here relies on the world being stopped. The mark is
 * taken with a reference and no lock (gcheap_mark_current(): RCU and a
 * refcount that is never raised from zero), and greying happens under the mark's close_sem (read),
 * so a flush racing the end of the cycle either greys into the open mark
 * or greys nothing once gcheap_mark_close() has run. The gcwork is the
 * flusher's own. Once marking runs concurrently, the collector's final
 * drain must come after every thread has parked: PARK greys its leftovers
 * before the thread counts as parked, and a stopped world makes no
 * flushes. gcheap_grey() finds spans with the span table's lock-free
 * lookup (arena.c).
 *
 * Locking: none on the flush path but the mark's own (a flush every few
 * hundred stores must not meet every other thread's on one mutex);
 * heap->lock to change the mode or the phase. No lock is held while user
 * memory is read.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/err.h>
#include <linux/export.h>
#include <kunit/visibility.h>
#include "wbuf.h"
#include "mark.h"
#include "stw.h"
#include "pacer.h"

/*
 * The @count words at user address @uptr, in a kmalloc'd copy; NULL for
 * none; ERR_PTR -EINVAL over GCHEAP_WB_MAX, -EFAULT if any is unreadable.
 */
u64 *gcheap_wb_copy_in(u64 uptr, u32 count)
{
	u64 *words;

	if (count > GCHEAP_WB_MAX)
		return ERR_PTR(-EINVAL);
	if (!count)
		return NULL;
	words = kmalloc_array(count, sizeof(*words), GFP_KERNEL);
	if (!words)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(words, u64_to_user_ptr(uptr), count * sizeof(*words))) {
		kfree(words);
		return ERR_PTR(-EFAULT);
	}
	return words;
}

/*
 * Grey the objects of this heap that @words point into, if a cycle is
 * marking; otherwise, or once its mark is closed, do nothing.
 */
void gcheap_wb_grey(struct gcheap *heap, const u64 *words, size_t n)
{
	struct gcheap_mark *mark = NULL;
	struct gcheap_gcwork w;
	size_t i;

	if (!n)
		return;
	if (!gcheap_marking(heap))
		return;
	mark = gcheap_mark_current(heap);
	if (!mark)
		return;
	gcheap_gcwork_init(&w, mark);
	down_read(&mark->close_sem);
	if (!mark->closed)
		for (i = 0; i < n; i++)
			gcheap_grey(&w, words[i]);
	up_read(&mark->close_sem);
	gcheap_gcwork_dispose(&w);
	gcheap_mark_put(mark);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_wb_grey);

/* GCHEAP_IOC_WB_FLUSH: only a thread the collector can stop has a buffer. */
int gcheap_wb_flush(struct gcheap *heap, const struct gcheap_wb_flush *req)
{
	u64 *words;

	if (req->flags || req->count > GCHEAP_WB_MAX)
		return -EINVAL;
	if (!gcheap_m_current(heap))
		return -EPERM;
	words = gcheap_wb_copy_in(req->ptrs, req->count);
	if (IS_ERR(words))
		return PTR_ERR(words);
	gcheap_wb_grey(heap, words, req->count);
	kfree(words);
	return 0;
}

/*
 * GCHEAP_IOC_SET_MODE: the mode is a promise about every store the
 * program will make, so it is fixed before any of them: before the heap
 * is mapped and while no thread is attached.
 */
int gcheap_wb_set_mode(struct gcheap *heap, const struct gcheap_mode *req)
{
	int ret = 0;

	if (req->flags || req->mode > GCHEAP_MODE_CONCURRENT)
		return -EINVAL;
	mutex_lock(&heap->lock);
	if (heap->npages || heap->nthreads) {
		ret = -EBUSY;
	} else {
		WRITE_ONCE(heap->ctrl->gc_mode, req->mode);
		/* A concurrent heap's cycles start before the goal. */
		gcheap_pacer_set_gogc(heap, heap->gogc);
	}
	mutex_unlock(&heap->lock);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_wb_set_mode);

/*
 * Publish the collector's phase and, from it, whether the barrier is on:
 * only for a CONCURRENT heap. The caller holds heap->lock and, whenever
 * wb_enabled may change, has every attached thread parked.
 */
void gcheap_wb_set_phase(struct gcheap *heap, u32 phase)
{
	lockdep_assert_held(&heap->lock);
	WRITE_ONCE(heap->ctrl->gc_phase, phase);
	WRITE_ONCE(heap->ctrl->wb_enabled, phase != GCHEAP_PHASE_OFF &&
		   heap->ctrl->gc_mode == GCHEAP_MODE_CONCURRENT);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_wb_set_phase);
