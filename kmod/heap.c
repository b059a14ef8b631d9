// SPDX-License-Identifier: GPL-2.0
/*
 * Heap lifetime: one struct gcheap per open file of /dev/gcheap.
 *
 * Invariants: a heap belongs to the mm that opened it and to no other; it
 * holds that mm with mmgrab() (mm_count) for its whole life, never mm_users,
 * because the mm's mapping of the device pins the file and through it the
 * heap (mm -> vma -> file -> heap -> mm would otherwise never be freed).
 * The heap is freed from ->release, i.e. after the last fd and the last
 * mapping are gone, so no operation can race with gcheap_destroy().
 */
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/err.h>
#include "heap.h"

struct gcheap *gcheap_create(void)
{
	struct gcheap *heap;

	/* A kernel thread has no address space to put a heap in. */
	if (!current->mm)
		return ERR_PTR(-EINVAL);
	heap = kzalloc(sizeof(*heap), GFP_KERNEL_ACCOUNT);
	if (!heap)
		return ERR_PTR(-ENOMEM);
	mmgrab(current->mm);
	heap->mm = current->mm;
	heap->tgid = task_tgid_nr(current);
	return heap;
}

void gcheap_destroy(struct gcheap *heap)
{
	mmdrop(heap->mm);
	kfree(heap);
}

/*
 * A heap is private to the process that opened it: an fd passed over a
 * socket or inherited by fork() must not reach it.
 */
int gcheap_check_owner(const struct gcheap *heap)
{
	return current->mm == heap->mm ? 0 : -EPERM;
}
