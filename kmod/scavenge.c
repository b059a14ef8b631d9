// SPDX-License-Identifier: GPL-2.0
/*
 * The scavenger (Go's mgcscavenge): gives the physical memory of idle heap
 * pages (free, in no span) back to the kernel's page allocator, and marks
 * them scavenged, so that a page put in use again gets a fresh zeroed one.
 *
 * Four ways pages go back, all through gcheap_scavenge_locked():
 * - Background: retained memory (pages in use plus idle pages with memory,
 *   heap_resident) is brought down to the target, Go's: the heap goal
 *   (never less than what spans take) plus scavenge_retain_percent (10),
 *   and under 95 % of the soft and the hard limit. A kthread_delayed_work
 *   on the heap's first thread (workers.c): per heap, not a shared pool,
 *   because that thread is charged to the owner's cgroup, so the owner
 *   pays for its own scavenging and no heap's backlog delays another's.
 *   Kicked when the background sweeper has finished a cycle's garbage.
 *   It works in batches for about a millisecond, then sleeps long enough
 *   that it took scavenge_percent (1) of the time: Go's 1 % of a CPU.
 * - Synchronous, as the heap grows (gcheap_arena_alloc()): pages past the
 *   hard limit memory_max must go first, or the allocation fails with
 *   ENOMEM; growth past the target releases as much elsewhere (Go's
 *   eager scavenging, min(growth, excess)).
 * - GCHEAP_IOC_SCAVENGE: everything idle, now (gch_free_os_memory()).
 * - The shrinker, under the system's memory pressure: idle pages of any
 *   heap, at once. It only ever trylocks, so it never waits for a heap
 *   (a collecting one included) nor deadlocks with a heap allocating
 *   under its own lock. It counts idle pages in base pages, module-wide,
 *   from one atomic counter (arena.c). Idle pages cost the kernel nothing
 *   to recreate but a zeroed page, hence seeks = 1. It is not memcg-aware:
 *   a cgroup at its memory.max reclaims no heap pages through it; there the
 *   heap's own allocations give its idle pages back first (arena.c), and
 *   memory_max keeps a heap inside a budget.
 *
 * Which pages: the highest idle ones first (pagealloc.c), since the page
 * allocator hands out the lowest free ones first: the dense low heap keeps
 * its memory, the sparse top gives it back. Unlike Go, whole chunks are
 * not preferred: heap pages are 8 KiB allocations, never huge pages, so
 * there is no huge page to keep intact or to break.
 *
 * Never racing anything for the same pages: every page's state (free,
 * scavenged, its memory) changes under heap->lock, which span creation
 * (refills, large objects) and destruction also hold; sweeping and
 * marking work inside spans and never touch a free page.
 *
 * Lifetime: the background work runs on the heap's own thread, cancelled
 * (synchronously) before that thread and the heap go (gc.c); the shrinker
 * finds heaps on heaps_list, which a heap leaves before it is destroyed.
 * So no reference count is needed.
 *
 * Locking: heaps_lock (the list), then heap->lock. The shrinker trylocks
 * both. released[] and memory_max change under heap->lock.
 */
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/sched/signal.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/export.h>
#include <kunit/visibility.h>
#include "scavenge.h"
#include "heap.h"
#include "arena.h"
#include "compat.h"
#include "trace.h"

static unsigned int scavenge_percent = 1;
module_param(scavenge_percent, uint, 0644);
MODULE_PARM_DESC(scavenge_percent,
		 "Time the background scavenger may take, percent of a CPU, 0..100 (0: off; default 1)");

static unsigned int scavenge_retain_percent = 10;
module_param(scavenge_retain_percent, uint, 0644);
MODULE_PARM_DESC(scavenge_retain_percent,
		 "Idle memory a heap keeps beyond its goal, percent, 0..100 (default 10)");

/* Heap pages per lock hold, so refills never wait long for heap->lock. */
#define SCAV_BATCH		64
/* Work between sleeps of the background scavenger. */
#define SCAV_QUANTUM_NS		NSEC_PER_MSEC

static LIST_HEAD(heaps_list);
static DEFINE_MUTEX(heaps_lock);
static struct shrinker *shrinker;

static unsigned long bytes_to_pages(u64 bytes)
{
	return bytes == GCHEAP_NO_LIMIT ? ULONG_MAX : bytes >> GCHEAP_PAGE_SHIFT;
}

/*
 * The retained memory the background scavenger aims for, in bytes: the
 * goal, or the spans' bytes @inuse where more, plus @retain_percent;
 * capped at 95 % of @soft_limit and of @memory_max (Go's
 * reduceExtraPercent). U64_MAX: no target (GOGC off, no limit).
 */
u64 gcheap_scavenge_target(u64 goal, u64 inuse, u64 soft_limit, u64 memory_max,
			   unsigned int retain_percent)
{
	u64 t = max(goal, inuse), extra;

	if (t != U64_MAX) {
		extra = mul_u64_u32_div(t, retain_percent, 100);
		t = check_add_overflow(t, extra, &t) ? U64_MAX : t;
	}
	if (soft_limit != GCHEAP_NO_LIMIT)
		t = min(t, mul_u64_u32_div(soft_limit, 95, 100));
	if (memory_max != GCHEAP_NO_LIMIT)
		t = min(t, mul_u64_u32_div(memory_max, 95, 100));
	return t;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_scavenge_target);

/* The target in heap pages. heap->lock held. */
static unsigned long target_pages(struct gcheap *heap)
{
	unsigned long inuse = heap->npages - heap->pa.free_pages;
	unsigned int retain = min(READ_ONCE(scavenge_retain_percent), 100u);

	return bytes_to_pages(gcheap_scavenge_target(READ_ONCE(heap->next_gc),
						     (u64)inuse << GCHEAP_PAGE_SHIFT,
						     heap->memory_limit, heap->scav.memory_max,
						     retain));
}

/* Heap pages the heap retains beyond its target. heap->lock held. */
static unsigned long over_target(struct gcheap *heap)
{
	unsigned long tp = target_pages(heap);

	return heap->resident_pages > tp ? heap->resident_pages - tp : 0;
}

/*
 * Give back the memory of up to @max idle heap pages, the highest first,
 * below *@cursor if not NULL (and lowered past them: a caller working in
 * batches does not search the same pages again). How many went.
 * heap->lock held; sleeps only to let others run, never for the shrinker.
 */
unsigned long gcheap_scavenge_cursor(struct gcheap *heap, unsigned long max,
				     enum gcheap_scav_kind kind, unsigned long *cursor)
{
	unsigned long below = cursor ? min(*cursor, gcheap_arena_top(heap)) :
			      gcheap_arena_top(heap);
	unsigned long done = 0, n;

	lockdep_assert_held(&heap->lock);
	while (done < max) {
		n = gcheap_arena_scavenge(heap, min_t(unsigned long, max - done, SCAV_BATCH),
					  &below);
		if (!n)
			break;
		done += n;
		if (kind != GCHEAP_SCAV_SHRINKER)
			cond_resched();
	}
	if (cursor)
		*cursor = below;
	heap->scav.released[kind] += (u64)done << GCHEAP_PAGE_SHIFT;
	if (done)
		trace_scavenge(heap->tgid, kind, done, heap->resident_pages);
	return done;
}

/* As gcheap_scavenge_cursor(), from the top. */
unsigned long gcheap_scavenge_locked(struct gcheap *heap, unsigned long max,
				     enum gcheap_scav_kind kind)
{
	return gcheap_scavenge_cursor(heap, max, kind, NULL);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_scavenge_locked);

/*
 * @npages heap pages with no memory are about to get some. Release idle
 * ones first so the heap stays under memory_max, -ENOMEM if it cannot,
 * and as many as it grows past its target (Go's eager scavenging).
 * heap->lock held.
 */
int gcheap_scavenge_grow(struct gcheap *heap, unsigned long npages)
{
	unsigned long max = bytes_to_pages(heap->scav.memory_max), tp = target_pages(heap);
	unsigned long after = heap->resident_pages + npages, need = 0;

	lockdep_assert_held(&heap->lock);
	if (after > tp)
		need = min(npages, after - tp);
	if (after > max)
		need = max(need, after - max);
	if (need)
		gcheap_scavenge_locked(heap, need, GCHEAP_SCAV_SYNC);
	return heap->resident_pages + npages > max ? -ENOMEM : 0;
}

static void scavenge_work_fn(struct kthread_work *work)
{
	struct gcheap *heap = container_of(work, struct gcheap, scav.work.work);
	unsigned int pct = READ_ONCE(scavenge_percent);
	unsigned long over, n, delay, cursor = ULONG_MAX;
	u64 t0, spent = 0;

	if (!pct)
		return;
	pct = min(pct, 100u);
	/* Time spent working, not waiting for the lock or the CPU. */
	do {
		mutex_lock(&heap->lock);
		t0 = ktime_get_ns();
		over = over_target(heap);
		n = over ? gcheap_scavenge_cursor(heap, min_t(unsigned long, over, SCAV_BATCH),
						  GCHEAP_SCAV_BACKGROUND, &cursor) : 0;
		spent += ktime_get_ns() - t0;
		mutex_unlock(&heap->lock);
		cond_resched();
	} while (n && spent < SCAV_QUANTUM_NS);
	atomic64_add(spent, &heap->scav.bg_ns);
	/* More to do: sleep so that this took pct % of the time. */
	if (n) {
		delay = nsecs_to_jiffies(div_u64(spent * (100 - pct), pct));
		kthread_queue_delayed_work(gcheap_worker(heap, 0), &heap->scav.work,
					   max(1UL, delay));
	}
}

/*
 * Let the background scavenger look at the heap (the sweeper finished,
 * the goal or a limit changed). A scavenger already asleep keeps its
 * budget: it is not woken early.
 */
void gcheap_scavenge_kick(struct gcheap *heap)
{
	/* Acquire: the thread's slot is published before the count (workers.c). */
	if (READ_ONCE(scavenge_percent) && smp_load_acquire(&heap->workers.n))
		kthread_queue_delayed_work(gcheap_worker(heap, 0), &heap->scav.work, 0);
}

/* Set memory_max; idle pages over it go now. heap->lock held. */
int gcheap_scavenge_set_max(struct gcheap *heap, u64 bytes)
{
	unsigned long max = bytes_to_pages(bytes);

	lockdep_assert_held(&heap->lock);
	if (!bytes)
		return -EINVAL;
	heap->scav.memory_max = bytes;
	if (heap->resident_pages > max)
		gcheap_scavenge_locked(heap, heap->resident_pages - max, GCHEAP_SCAV_SYNC);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_scavenge_set_max);

/* GCHEAP_IOC_SCAVENGE: every idle page, a batch per lock hold. */
int gcheap_scavenge_ioctl(struct gcheap *heap, struct gcheap_scavenge *req)
{
	unsigned long n, done = 0, cursor = ULONG_MAX;

	if (req->flags || req->__reserved || req->released)
		return -EINVAL;
	do {
		if (fatal_signal_pending(current))
			return -EINTR;
		mutex_lock(&heap->lock);
		n = gcheap_scavenge_cursor(heap, SCAV_BATCH, GCHEAP_SCAV_SYNC, &cursor);
		mutex_unlock(&heap->lock);
		done += n;
		cond_resched();
	} while (n);
	req->released = (u64)done << GCHEAP_PAGE_SHIFT;
	return 0;
}

void gcheap_scavenge_heap_init(struct gcheap *heap)
{
	kthread_init_delayed_work(&heap->scav.work, scavenge_work_fn);
	INIT_LIST_HEAD(&heap->scav.node);
	heap->scav.memory_max = GCHEAP_NO_LIMIT;
}

/* Once the sweeper, which kicks it, cannot run any more (gc.c). */
void gcheap_scavenge_heap_stop(struct gcheap *heap)
{
	kthread_cancel_delayed_work_sync(&heap->scav.work);
}

/* Let the shrinker find @heap, a heap of a process. */
void gcheap_scavenge_register(struct gcheap *heap)
{
	mutex_lock(&heaps_lock);
	list_add_tail(&heap->scav.node, &heaps_list);
	mutex_unlock(&heaps_lock);
}

/* Before the heap goes: the shrinker no longer finds it once this returns. */
void gcheap_scavenge_unregister(struct gcheap *heap)
{
	mutex_lock(&heaps_lock);
	list_del_init(&heap->scav.node);
	mutex_unlock(&heaps_lock);
}

static unsigned long shrink_count(struct shrinker *s, struct shrink_control *sc)
{
	long idle = gcheap_arena_pages_idle();

	return idle > 0 ? idle : SHRINK_EMPTY;
}

/*
 * Idle pages of one heap after another, each heap going to the back of
 * the list once visited, so pressure is spread over heaps over time.
 */
static unsigned long shrink_scan(struct shrinker *s, struct shrink_control *sc)
{
	unsigned long want = DIV_ROUND_UP(sc->nr_to_scan, GCHEAP_PAGE_SIZE / PAGE_SIZE);
	unsigned long done = 0;
	struct gcheap *heap;
	size_t n = 0, i;

	if (!mutex_trylock(&heaps_lock))
		return SHRINK_STOP;
	list_for_each_entry(heap, &heaps_list, scav.node)
		n++;
	for (i = 0; i < n && done < want; i++) {
		heap = list_first_entry(&heaps_list, struct gcheap, scav.node);
		list_move_tail(&heap->scav.node, &heaps_list);
		if (!mutex_trylock(&heap->lock))
			continue;
		done += gcheap_scavenge_locked(heap, want - done, GCHEAP_SCAV_SHRINKER);
		mutex_unlock(&heap->lock);
	}
	mutex_unlock(&heaps_lock);
	sc->nr_scanned = done * (GCHEAP_PAGE_SIZE / PAGE_SIZE);
	trace_shrink(sc->nr_to_scan, sc->nr_scanned);
	return done ? sc->nr_scanned : SHRINK_STOP;
}

int gcheap_scavenge_init(void)
{
	shrinker = gcheap_shrinker_create(shrink_count, shrink_scan, 1, "gcheap");
	return shrinker ? 0 : -ENOMEM;
}

void gcheap_scavenge_exit(void)
{
	gcheap_shrinker_destroy(shrinker);
}
