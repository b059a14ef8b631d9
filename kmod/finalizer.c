// SPDX-License-Identifier: GPL-2.0
/*
 * Finalizers and disappearing links (Go's SetFinalizer, libgc's
 * GC_register_finalizer and GC_general_register_disappearing_link).
 *
 * A finalizer is two opaque words the library gave (function, argument),
 * keyed by its object. After a cycle's mark from the roots:
 *  1. links whose object is unmarked are cleared (put_user(0)) and
 *     dropped; a link that itself lies in a dead heap object is only
 *     dropped (libgc's short links: cleared before finalizers revive);
 *  2. the contents of every ordered finalizable object are scanned, but the
 *     object is not marked, so what it reaches stays alive and a
 *     finalizable object reachable from another is not finalized before it;
 *  3. every finalizable object still unmarked is marked, with what it
 *     reaches, and moved to the ready queue, once; its finalizer is gone
 *     from the table. Queued objects stay marked at every cycle until
 *     GCHEAP_IOC_FINALIZERS hands them to the library's finalizer thread,
 *     which keeps them on its stack until the function has run.
 *
 * Locking: heap->special_lock for the tables and the queue, taken before
 * heap->lock. The collector holds it while the world is stopped. An object
 * is looked up and its finalizer or link registered under one hold of
 * special_lock, as GCHEAP_IOC_FREE frees under it: a registration never
 * outlives its object. Only the collector touches user memory while it
 * holds special_lock: a thread waiting on a fault there could not park, so
 * FINALIZERS copies out with page faults disabled and faults its buffer in
 * with no lock held.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/sched/signal.h>
#include <linux/pagemap.h>
#include <linux/moduleparam.h>
#include "finalizer.h"
#include "central.h"

static unsigned int max_links = 1048576;
module_param(max_links, uint, 0644);
MODULE_PARM_DESC(max_links, "Disappearing links one heap may register (default 1048576)");

struct gcheap_special {
	struct list_head ready;	/* on heap->final_ready once queued */
	unsigned long obj;
	u64 fn, arg, flags;
};

#define GCHEAP_FINALIZER_FLAGS	(GCHEAP_FINALIZER_NO_ORDER | GCHEAP_FINALIZER_IGNORE_SELF)

void gcheap_final_init(struct gcheap *heap)
{
	xa_init(&heap->finalizers);
	xa_init(&heap->links);
	INIT_LIST_HEAD(&heap->final_ready);
	init_waitqueue_head(&heap->final_wq);
}

void gcheap_final_destroy(struct gcheap *heap)
{
	struct gcheap_special *sp, *tmp;
	unsigned long idx;

	xa_for_each(&heap->finalizers, idx, sp)
		kfree(sp);
	xa_destroy(&heap->finalizers);
	xa_destroy(&heap->links);
	list_for_each_entry_safe(sp, tmp, &heap->final_ready, ready)
		kfree(sp);
}

static unsigned long key_of(const struct gcheap *heap, unsigned long obj)
{
	return (obj - heap->base) / 8;
}

static void publish_queued(struct gcheap *heap)
{
	WRITE_ONCE(heap->ctrl->finalizers_queued, heap->nqueued);
}

/*
 * The first byte of the allocated object holding @addr, or 0. A slot of
 * a span a cache holds counts as allocated. Under special_lock, so that
 * the object cannot be freed before the caller is done with it.
 */
static unsigned long object_base(struct gcheap *heap, unsigned long addr)
{
	struct gcheap_object obj = { .addr = addr };
	int ret;

	lockdep_assert_held(&heap->special_lock);
	ret = gcheap_object_lookup(heap, &obj);
	if (ret || !(obj.flags & (GCHEAP_OBJECT_ALLOCATED | GCHEAP_OBJECT_CACHED)))
		return 0;
	return obj.base;
}

int gcheap_finalizer_set(struct gcheap *heap, struct gcheap_finalizer *req)
{
	struct gcheap_special *sp, *old;
	unsigned long key;
	int ret = 0;

	if (req->__reserved || req->flags & ~GCHEAP_FINALIZER_FLAGS || req->ofn || req->oarg)
		return -EINVAL;
	if ((!req->fn && (req->arg || req->flags)) || !req->obj)
		return -EINVAL;
	sp = kzalloc(sizeof(*sp), GFP_KERNEL_ACCOUNT);
	if (!sp)
		return -ENOMEM;
	sp->obj = req->obj;
	sp->fn = req->fn;
	sp->arg = req->arg;
	sp->flags = req->flags;
	INIT_LIST_HEAD(&sp->ready);
	if (mutex_lock_interruptible(&heap->special_lock)) {
		kfree(sp);
		return -ERESTARTSYS;
	}
	/* Keyed once the object is known: the heap's base is set by then. */
	key = key_of(heap, req->obj);
	if (object_base(heap, req->obj) != req->obj) {
		kfree(sp);
		ret = -EINVAL;
		old = NULL;
	} else if (req->fn) {
		old = xa_store(&heap->finalizers, key, sp, GFP_KERNEL_ACCOUNT);
		if (xa_is_err(old)) {
			ret = xa_err(old);
			old = NULL;
			kfree(sp);
		} else if (!old) {
			heap->nfinalizers++;
		}
	} else {
		old = xa_erase(&heap->finalizers, key);
		kfree(sp);
		if (old)
			heap->nfinalizers--;
	}
	mutex_unlock(&heap->special_lock);
	if (old) {
		req->ofn = old->fn;
		req->oarg = old->arg;
		kfree(old);
	}
	return ret;
}

/* An object freed early takes its finalizer with it. */
void gcheap_final_forget(struct gcheap *heap, unsigned long obj)
{
	struct gcheap_special *sp;

	lockdep_assert_held(&heap->special_lock);
	sp = xa_erase(&heap->finalizers, key_of(heap, obj));
	if (sp) {
		heap->nfinalizers--;
		kfree(sp);
	}
}

/*
 * Copy queued finalizers to @out with page faults disabled, up to @count,
 * and take those copied off the queue. The number taken.
 */
static u32 take_queued(struct gcheap *heap, struct gcheap_final __user *out, u32 count,
		       struct list_head *taken)
{
	struct gcheap_special *sp, *tmp;
	u32 n = 0;

	lockdep_assert_held(&heap->special_lock);
	pagefault_disable();
	list_for_each_entry_safe(sp, tmp, &heap->final_ready, ready) {
		struct gcheap_final f = { .obj = sp->obj, .fn = sp->fn, .arg = sp->arg };

		if (n == count || __copy_to_user_inatomic(&out[n], &f, sizeof(f)))
			break;
		list_move_tail(&sp->ready, taken);
		heap->nqueued--;
		n++;
	}
	pagefault_enable();
	publish_queued(heap);
	return n;
}

int gcheap_finalizers_take(struct gcheap *heap, struct gcheap_finalizers *req)
{
	struct gcheap_final __user *out = u64_to_user_ptr(req->out);
	struct gcheap_special *sp, *tmp;
	bool queued;
	LIST_HEAD(taken);
	bool faulted = false;
	u32 n;
	int ret;

	if (req->flags & ~GCHEAP_FINALIZERS_WAIT || !req->count || req->count > 1024)
		return -EINVAL;
	if (!access_ok(out, (size_t)req->count * sizeof(*out)))
		return -EFAULT;
	for (;;) {
		if (mutex_lock_interruptible(&heap->special_lock))
			return -ERESTARTSYS;
		n = take_queued(heap, out, req->count, &taken);
		queued = heap->nqueued;
		mutex_unlock(&heap->special_lock);
		if (n || (!queued && !(req->flags & GCHEAP_FINALIZERS_WAIT)))
			break;
		if (queued) {
			/*
			 * The first entry's page is not there: fault it in
			 * unlocked. A copy that fails again right after (a
			 * fault within the page) is the caller's bad buffer.
			 */
			if (faulted || fault_in_writeable((char __user *)out, sizeof(*out)))
				return -EFAULT;
			if (signal_pending(current))
				return -ERESTARTSYS;
			faulted = true;
			continue;
		}
		ret = wait_event_interruptible(heap->final_wq, READ_ONCE(heap->nqueued));
		if (ret)
			return -ERESTARTSYS;
	}
	req->count = n;
	list_for_each_entry_safe(sp, tmp, &taken, ready)
		kfree(sp);
	return 0;
}

int gcheap_link_op(struct gcheap *heap, const struct gcheap_link *req)
{
	unsigned long key = req->link / 8, base;
	void *old;
	int ret = 0;

	if (!req->link || !IS_ALIGNED(req->link, 8) || req->link >= TASK_SIZE)
		return -EINVAL;
	if (req->op != GCHEAP_LINK_ADD && (req->op != GCHEAP_LINK_REMOVE || req->obj))
		return -EINVAL;
	if (mutex_lock_interruptible(&heap->special_lock))
		return -ERESTARTSYS;
	if (req->op == GCHEAP_LINK_REMOVE) {
		if (xa_erase(&heap->links, key))
			heap->nlinks--;
		else
			ret = -ENOENT;
		goto out;
	}
	base = object_base(heap, req->obj);
	ret = -EINVAL;
	if (!base)
		goto out;
	/* Every link is walked with the world stopped: their number is bounded. */
	ret = -ENOSPC;
	if (!xa_load(&heap->links, key) && heap->nlinks >= READ_ONCE(max_links))
		goto out;
	old = xa_store(&heap->links, key, xa_mk_value(key_of(heap, base)), GFP_KERNEL_ACCOUNT);
	ret = xa_err(old);
	if (!ret && !old)
		heap->nlinks++;
out:
	mutex_unlock(&heap->special_lock);
	return ret;
}

/* Queued objects are kept until the library takes them. */
void gcheap_final_mark_queued(struct gcheap *heap, struct gcheap_gcwork *w)
{
	struct gcheap_special *sp;

	lockdep_assert_held(&heap->special_lock);
	list_for_each_entry(sp, &heap->final_ready, ready)
		gcheap_grey(w, sp->obj);
}

/* Step 1: clear the links of objects the roots do not reach. */
void gcheap_links_clear(struct gcheap *heap)
{
	unsigned long idx;
	void *entry;

	lockdep_assert_held(&heap->special_lock);
	xa_for_each(&heap->links, idx, entry) {
		unsigned long obj = heap->base + xa_to_value(entry) * 8;
		unsigned long link = idx * 8;

		cond_resched();
		if (gcheap_marked(heap, obj))
			continue;
		xa_erase(&heap->links, idx);
		heap->nlinks--;
		/* A link in a dead object goes with it, unwritten. */
		if (link - heap->base < heap->npages << GCHEAP_PAGE_SHIFT &&
		    !gcheap_marked(heap, link))
			continue;
		/* A link the process unmapped is simply dropped. */
		if (put_user(0UL, (unsigned long __user *)link))
			continue;
	}
}

/* Step 2: keep what finalizable objects reach, not the objects. */
void gcheap_final_scan_ordered(struct gcheap *heap, struct gcheap_gcwork *w)
{
	struct gcheap_special *sp;
	unsigned long idx;

	lockdep_assert_held(&heap->special_lock);
	xa_for_each(&heap->finalizers, idx, sp) {
		if (!(sp->flags & GCHEAP_FINALIZER_NO_ORDER))
			gcheap_scan_object(w, sp->obj,
					   sp->flags & GCHEAP_FINALIZER_IGNORE_SELF);
		cond_resched();
	}
}

/* Step 3: queue what is still unmarked, and keep it until it has run. */
void gcheap_final_queue_dead(struct gcheap *heap, struct gcheap_gcwork *w)
{
	struct gcheap_special *sp;
	unsigned long idx;
	bool queued = false;

	lockdep_assert_held(&heap->special_lock);
	xa_for_each(&heap->finalizers, idx, sp) {
		cond_resched();
		if (gcheap_marked(heap, sp->obj))
			continue;
		gcheap_grey(w, sp->obj);
		xa_erase(&heap->finalizers, idx);
		heap->nfinalizers--;
		list_add_tail(&sp->ready, &heap->final_ready);
		heap->nqueued++;
		queued = true;
	}
	publish_queued(heap);
	if (queued)
		wake_up_all(&heap->final_wq);
}
