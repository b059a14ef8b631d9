// SPDX-License-Identifier: GPL-2.0
/*
 * Root ranges (gch_root_add, libgc's GC_add_roots): ranges of the owner's
 * memory that are scanned at every cycle, by the collecting thread itself,
 * so always within the heap's own address space. A range that lies inside
 * the heap (an uncollectable object) keeps the object it starts in, too.
 *
 * Locking: heap->special_lock; the collector holds it across the stop.
 */
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include "roots.h"

struct gcheap_root_range {
	struct list_head list;
	unsigned long lo, hi;
};

static unsigned int max_roots = 65536;
module_param(max_roots, uint, 0644);
MODULE_PARM_DESC(max_roots, "Root ranges one heap may register (default 65536)");

#define GCHEAP_MAX_ROOT	BIT(30)

static struct gcheap_root_range *find(struct gcheap *heap, unsigned long lo, unsigned long hi)
{
	struct gcheap_root_range *r;

	list_for_each_entry(r, &heap->roots, list)
		if (r->lo == lo && r->hi == hi)
			return r;
	return NULL;
}

int gcheap_root_op(struct gcheap *heap, const struct gcheap_root *req)
{
	struct gcheap_root_range *r;
	int ret = 0;

	if (!IS_ALIGNED(req->lo, 8) || !IS_ALIGNED(req->hi, 8) || req->lo >= req->hi ||
	    req->hi - req->lo > GCHEAP_MAX_ROOT || req->hi > TASK_SIZE)
		return -EINVAL;
	if (req->op != GCHEAP_ROOT_ADD && req->op != GCHEAP_ROOT_REMOVE)
		return -EINVAL;
	r = kmalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return -ENOMEM;
	r->lo = req->lo;
	r->hi = req->hi;
	if (mutex_lock_interruptible(&heap->special_lock)) {
		kfree(r);
		return -ERESTARTSYS;
	}
	if (req->op == GCHEAP_ROOT_ADD) {
		if (find(heap, r->lo, r->hi)) {
			ret = -EEXIST;
		} else if (heap->nroots >= READ_ONCE(max_roots)) {
			ret = -ENOSPC;
		} else {
			list_add_tail(&r->list, &heap->roots);
			heap->nroots++;
			r = NULL;
		}
	} else {
		struct gcheap_root_range *old = find(heap, r->lo, r->hi);

		if (old) {
			list_del(&old->list);
			heap->nroots--;
			kfree(old);
		} else {
			ret = -ENOENT;
		}
	}
	mutex_unlock(&heap->special_lock);
	kfree(r);
	return ret;
}

/*
 * Grey what every root range points to. A range the process has unmapped
 * holds no pointers: what cannot be read is skipped.
 */
void gcheap_roots_scan(struct gcheap *heap, struct gcheap_gcwork *w)
{
	struct gcheap_root_range *r;

	lockdep_assert_held(&heap->special_lock);
	list_for_each_entry(r, &heap->roots, list) {
		gcheap_grey(w, r->lo);
		gcheap_scan_user(w, r->lo, r->hi);
	}
}

void gcheap_roots_destroy(struct gcheap *heap)
{
	struct gcheap_root_range *r, *tmp;

	list_for_each_entry_safe(r, tmp, &heap->roots, list)
		kfree(r);
	INIT_LIST_HEAD(&heap->roots);
	heap->nroots = 0;
}
