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
 * heap->lock. The collector holds it while the world is stopped.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/sched/signal.h>
#include "finalizer.h"
#include "central.h"

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
 * a span a cache holds counts as allocated.
 */
static unsigned long object_base(struct gcheap *heap, unsigned long addr)
{
	struct gcheap_object obj = { .addr = addr };
	int ret;

	mutex_lock(&heap->lock);
	ret = gcheap_object_lookup(heap, &obj);
	mutex_unlock(&heap->lock);
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
	if (!req->fn && (req->arg || req->flags))
		return -EINVAL;
	if (object_base(heap, req->obj) != req->obj || !req->obj)
		return -EINVAL;
	sp = kzalloc(sizeof(*sp), GFP_KERNEL_ACCOUNT);
	if (!sp)
		return -ENOMEM;
	sp->obj = req->obj;
	sp->fn = req->fn;
	sp->arg = req->arg;
	sp->flags = req->flags;
	INIT_LIST_HEAD(&sp->ready);
	key = key_of(heap, req->obj);
	if (mutex_lock_interruptible(&heap->special_lock)) {
		kfree(sp);
		return -ERESTARTSYS;
	}
	if (req->fn) {
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

int gcheap_finalizers_take(struct gcheap *heap, struct gcheap_finalizers *req)
{
	struct gcheap_final __user *out = u64_to_user_ptr(req->out);
	struct gcheap_special *sp, *tmp;
	LIST_HEAD(taken);
	u32 n = 0;
	int ret;

	if (req->flags & ~GCHEAP_FINALIZERS_WAIT || !req->count || req->count > 1024)
		return -EINVAL;
	for (;;) {
		if (mutex_lock_interruptible(&heap->special_lock))
			return -ERESTARTSYS;
		while (n < req->count && !list_empty(&heap->final_ready)) {
			list_move_tail(heap->final_ready.next, &taken);
			heap->nqueued--;
			n++;
		}
		publish_queued(heap);
		mutex_unlock(&heap->special_lock);
		if (n || !(req->flags & GCHEAP_FINALIZERS_WAIT))
			break;
		ret = wait_event_interruptible(heap->final_wq, READ_ONCE(heap->nqueued));
		if (ret)
			return -ERESTARTSYS;
	}
	req->count = n;
	n = 0;
	list_for_each_entry(sp, &taken, ready) {
		struct gcheap_final f = { .obj = sp->obj, .fn = sp->fn, .arg = sp->arg };

		if (copy_to_user(&out[n++], &f, sizeof(f)))
			goto fault;
	}
	list_for_each_entry_safe(sp, tmp, &taken, ready)
		kfree(sp);
	return 0;
fault:
	/* Nothing is lost: the finalizers go back to the head of the queue. */
	mutex_lock(&heap->special_lock);
	heap->nqueued += req->count;
	list_splice(&taken, &heap->final_ready);
	publish_queued(heap);
	mutex_unlock(&heap->special_lock);
	return -EFAULT;
}

int gcheap_link_op(struct gcheap *heap, const struct gcheap_link *req)
{
	unsigned long key = req->link / 8, base;
	void *old;
	int ret = 0;

	if (!req->link || !IS_ALIGNED(req->link, 8) || req->link >= TASK_SIZE)
		return -EINVAL;
	if (req->op == GCHEAP_LINK_ADD) {
		base = object_base(heap, req->obj);
		if (!base)
			return -EINVAL;
		if (mutex_lock_interruptible(&heap->special_lock))
			return -ERESTARTSYS;
		old = xa_store(&heap->links, key, xa_mk_value(key_of(heap, base)),
			       GFP_KERNEL_ACCOUNT);
		ret = xa_err(old);
		mutex_unlock(&heap->special_lock);
		return ret;
	}
	if (req->op != GCHEAP_LINK_REMOVE || req->obj)
		return -EINVAL;
	if (mutex_lock_interruptible(&heap->special_lock))
		return -ERESTARTSYS;
	if (!xa_erase(&heap->links, key))
		ret = -ENOENT;
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

		if (gcheap_marked(heap, obj))
			continue;
		xa_erase(&heap->links, idx);
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
