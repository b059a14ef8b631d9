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
 *
 * Each heap has its own inode on a small pseudo filesystem (as DRM does),
 * and the open file's f_mapping points at it: the user mapping is then
 * addressed by file offset alone, and unmap_mapping_range() on it reaches
 * exactly this heap's PTEs.
 */
#include <linux/fs.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/err.h>
#include "heap.h"
#include "arena.h"
#include "central.h"
#include "span.h"
#include "gc.h"

#define GCHEAP_FS_MAGIC	0x67636870	/* "gchp" */

static struct vfsmount *gcheap_mnt;
static int gcheap_mnt_count;

static int gcheap_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, GCHEAP_FS_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type gcheap_fs_type = {
	.name = "gcheap",
	.owner = THIS_MODULE,
	.init_fs_context = gcheap_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

struct gcheap *gcheap_create(void)
{
	struct gcheap *heap;
	int ret;

	/* A kernel thread has no address space to put a heap in. */
	if (!current->mm)
		return ERR_PTR(-EINVAL);
	heap = kzalloc(sizeof(*heap), GFP_KERNEL_ACCOUNT);
	if (!heap)
		return ERR_PTR(-ENOMEM);
	/* Pinned per heap (as DRM does), so the module can unload when idle. */
	ret = simple_pin_fs(&gcheap_fs_type, &gcheap_mnt, &gcheap_mnt_count);
	if (ret) {
		kfree(heap);
		return ERR_PTR(ret);
	}
	heap->inode = alloc_anon_inode(gcheap_mnt->mnt_sb);
	if (IS_ERR(heap->inode)) {
		ret = PTR_ERR(heap->inode);
		simple_release_fs(&gcheap_mnt, &gcheap_mnt_count);
		kfree(heap);
		return ERR_PTR(ret);
	}
	mutex_init(&heap->lock);
	init_llist_head(&heap->dead_spans);
	gcheap_central_init(heap);
	ret = gcheap_gc_init(heap);
	if (ret) {
		gcheap_gc_destroy(heap);
		iput(heap->inode);
		simple_release_fs(&gcheap_mnt, &gcheap_mnt_count);
		kfree(heap);
		return ERR_PTR(ret);
	}
	mmgrab(current->mm);
	heap->mm = current->mm;
	heap->tgid = task_tgid_nr(current);
	gcheap_scavenge_register(heap);
	return heap;
}

void gcheap_destroy(struct gcheap *heap)
{
	gcheap_scavenge_unregister(heap);
	gcheap_gc_destroy(heap);
	/* Nothing else can reach the heap now; the lock is for the asserts. */
	mutex_lock(&heap->lock);
	gcheap_span_release_all(heap);
	gcheap_arena_release(heap);
	mutex_unlock(&heap->lock);
	iput(heap->inode);
	simple_release_fs(&gcheap_mnt, &gcheap_mnt_count);
	mmdrop(heap->mm);
	mutex_destroy(&heap->lock);
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

void gcheap_stats(struct gcheap *heap, struct gcheap_stats *st)
{
	unsigned long idle;

	gcheap_span_free_dead(heap);	/* pages of spans just emptied count as idle */
	mutex_lock(&heap->lock);
	idle = heap->npages ? heap->pa.free_pages : 0;
	st->heap_sys = (u64)heap->npages << GCHEAP_PAGE_SHIFT;
	st->heap_inuse = (u64)(heap->npages - idle) << GCHEAP_PAGE_SHIFT;
	st->heap_idle = (u64)idle << GCHEAP_PAGE_SHIFT;
	st->heap_resident = (u64)heap->resident_pages << GCHEAP_PAGE_SHIFT;
	/* Idle pages with no physical memory, never touched ones included. */
	st->heap_released = (u64)heap->pa.scav_pages << GCHEAP_PAGE_SHIFT;
	st->scav_background = heap->scav.released[GCHEAP_SCAV_BACKGROUND];
	st->scav_sync = heap->scav.released[GCHEAP_SCAV_SYNC];
	st->scav_shrinker = heap->scav.released[GCHEAP_SCAV_SHRINKER];
	st->scav_ns = atomic64_read(&heap->scav.bg_ns);
	st->memory_max = heap->scav.memory_max;
	st->heap_alloc = atomic64_read(&heap->cnt.alloc_bytes);
	st->heap_objects = atomic64_read(&heap->cnt.alloc_objects);
	st->spans_inuse = atomic64_read(&heap->cnt.spans_inuse);
	st->spans_cached = atomic64_read(&heap->cnt.spans_cached);
	st->large_objects = atomic64_read(&heap->cnt.large_objects);
	st->refills = atomic64_read(&heap->cnt.refills);
	st->large_allocs = atomic64_read(&heap->cnt.large_allocs);
	st->frees = atomic64_read(&heap->cnt.frees);
	st->next_gc = heap->next_gc;
	st->last_marked = heap->last_marked;
	st->num_gc = heap->num_gc;
	st->num_forced_gc = heap->num_forced_gc;
	st->stw_timeouts = heap->stw_timeouts;
	st->pause_total_ns = heap->pause_total_ns;
	st->pause_max_ns = heap->pause_max_ns;
	memcpy(st->pause_ns, heap->pause_ns, sizeof(st->pause_ns));
	st->last_gc_ns = heap->last_gc_ns;
	st->swept_bytes = atomic64_read(&heap->cnt.swept_bytes);
	st->freed_objects = atomic64_read(&heap->cnt.freed_objects);
	st->finalizers = heap->nfinalizers;
	st->finalizers_queued = heap->nqueued;
	st->gogc = heap->gogc;
	st->threads = heap->nthreads;
	mutex_unlock(&heap->lock);
}
