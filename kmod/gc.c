// SPDX-License-Identifier: GPL-2.0
/*
 * A collection cycle (Go's mgc): the thread that asks for it
 * (GCHEAP_IOC_GC) runs it, in its own process context, helped by mark
 * workers in kernel threads. A CONCURRENT heap's automatic cycles are
 * asked for by the library's collector thread, so no thread of the
 * program waits for the mark.
 *
 *  1. sweep termination: finish the last cycle's sweeping, world running;
 *  2. stop the world (stw.c): each thread's cache report is taken as it
 *     parks, the caller's here (central.c); take back the caches of dead
 *     threads and sweep what was left (spans caches gave back meanwhile);
 *  3. roots: every parked thread scans its own stack, the collector scans
 *     its own, the root ranges and the queued finalizers' objects; a
 *     thread that does not scan in time, or a fatal signal, gives the
 *     cycle up here (nothing marked stays marked, nothing is freed);
 *  4. mark (mark.c): a STW heap with the world still stopped; a
 *     CONCURRENT heap restarts the world with the barrier on and marks
 *     beside the program (gc_cpu_percent of the CPUs, pacer.c, and the
 *     allocating threads' assists, assist.c), then stops it again (mark
 *     termination) to take the barrier's buffers, rescan stacks and root
 *     ranges and finish;
 *  5. links and finalizers (finalizer.c), mark again; sweepgen += 2,
 *     which makes every span unswept; the pacer sets the next goal from
 *     the bytes marked; the barrier off; start the world;
 *  6. sweep in the background (sweep.c), or here for gch_collect.
 *
 * Locking: gc_mutex for the whole cycle (one at a time), special_lock
 * while the world is stopped, heap->lock in short sections.
 */#include <linux/slab.h>
#include <linux/ktime.h>
#include <linux/sched/signal.h>
#include <linux/export.h>
#include <linux/cpumask.h>
#include <kunit/visibility.h>
#include "gc.h"
#include "stw.h"
#include "mark.h"
#include "sweep.h"
#include "pacer.h"
#include "roots.h"
#include "finalizer.h"
#include "wbuf.h"
#include "central.h"
#include "trace.h"

#define GCHEAP_GC_FLAGS	(GCHEAP_GC_IF_NEEDED | GCHEAP_GC_SWEEP | GCHEAP_GC_FORCE)

int gcheap_gc_init(struct gcheap *heap)
{
	mutex_init(&heap->gc_mutex);
	mutex_init(&heap->special_lock);
	INIT_LIST_HEAD(&heap->roots);
	kthread_init_work(&heap->sweep_work, gcheap_sweep_work_fn);
	gcheap_scavenge_heap_init(heap);
	gcheap_workers_init(&heap->workers);
	gcheap_final_init(heap);
	heap->gogc = gcheap_default_gogc();
	heap->next_gc = gcheap_pacer_goal(0, heap->gogc);
	heap->trigger = heap->next_gc;
	heap->memory_limit = GCHEAP_NO_LIMIT;
	return gcheap_stw_init(heap);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_gc_init);

void gcheap_gc_destroy(struct gcheap *heap)
{
	kthread_cancel_work_sync(&heap->sweep_work);
	/* The sweeper kicks the scavenger: stopped after it. */
	gcheap_scavenge_heap_stop(heap);
	gcheap_workers_destroy(&heap->workers);
	gcheap_final_destroy(heap);
	gcheap_roots_destroy(heap);
	gcheap_stw_destroy(heap);
	mutex_destroy(&heap->special_lock);
	mutex_destroy(&heap->gc_mutex);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_gc_destroy);

/* Roots of the collecting thread and of the heap itself. */
static void mark_roots(struct gcheap *heap, struct gcheap_mark *mark,
		       const struct gcheap_stack *st)
{
	struct gcheap_gcwork w;

	gcheap_gcwork_init(&w, mark);
	if (st->hi)
		gcheap_scan_stack(&w, st);
	gcheap_roots_scan(heap, &w);
	gcheap_final_mark_queued(heap, &w);
	gcheap_gcwork_dispose(&w);
}

static void mark_finalizers(struct gcheap *heap, struct gcheap_mark *mark, bool queue)
{
	struct gcheap_gcwork w;

	gcheap_gcwork_init(&w, mark);
	if (queue)
		gcheap_final_queue_dead(heap, &w);
	else
		gcheap_final_scan_ordered(heap, &w);
	gcheap_gcwork_dispose(&w);
	gcheap_mark_drain(mark);
}

/* A cycle's pauses: each one in the ring, the cycle counted once. */
static void record_pauses(struct gcheap *heap, u64 stw1, u64 stw2)
{
	u64 longest = max(stw1, stw2);

	heap->pause_ns[heap->num_gc % GCHEAP_PAUSE_RING] = longest;
	heap->pause_total_ns += stw1 + stw2;
	heap->pause_max_ns = max(heap->pause_max_ns, longest);
	heap->num_gc++;
	heap->last_gc_ns = ktime_get_ns();
}

/*
 * The mark is closed (no marker or greyer is left): spans may be
 * destroyed again, and those emptied meanwhile are.
 */
static void release_spans(struct gcheap *heap)
{
	mutex_lock(&heap->lock);
	heap->hold_spans = false;
	mutex_unlock(&heap->lock);
	gcheap_span_free_dead(heap);
}

/*
 * Give up a cycle whose world is stopped, after any part of its marking:
 * the barrier off, nothing stays marked, nothing is freed, the world
 * restarts.
 */
static void give_up_stopped(struct gcheap *heap)
{
	mutex_lock(&heap->lock);
	gcheap_wb_set_phase(heap, GCHEAP_PHASE_OFF);
	mutex_unlock(&heap->lock);
	gcheap_stw_give_up(heap);
	release_spans(heap);
}

/*
 * Every parked thread scans its stack into heap->mark; then the caller's
 * stack, the root ranges and the queued finalizers' objects are greyed.
 * The world is stopped. Non-zero: the cycle was given up.
 */
static int grey_roots(struct gcheap *heap, struct gcheap_mark *mark,
		      const struct gcheap_gc *req)
{
	int ret = gcheap_stw_scan_stacks(heap, mark);

	if (!ret) {
		mark_roots(heap, mark, &req->stack);
		/* Roots were read short for a fatal signal: the mark is incomplete. */
		if (fatal_signal_pending(current))
			ret = -EINTR;
	}
	if (ret)
		give_up_stopped(heap);
	return ret;
}

/*
 * Sweep termination: finish sweeping, stop the world, grey the roots.
 * special_lock held. 0 with the world stopped and heap->mark holding the
 * collector's reference to @mark; else the cycle is over, the world
 * running and nothing changed.
 */
static int cycle_start(struct gcheap *heap, struct gcheap_mark *mark,
		       const struct gcheap_gc *req, struct gcheap_cache_snap *cache)
{
	bool dirty;
	int ret;

	ret = gcheap_stop_the_world(heap);
	if (ret) {
		gcheap_mark_put(mark);
		return ret;
	}
	/* The caller's cache, as its threads' at their parks (stw.c). */
	gcheap_cache_report_take(heap, cache, READ_ONCE(heap->ctrl->gc_started));
	mutex_lock(&heap->lock);
	gcheap_stw_reap(heap);
	mutex_unlock(&heap->lock);
	gcheap_sweep_all(heap);
	mutex_lock(&heap->lock);
	heap->hold_spans = true;
	dirty = heap->marks_dirty;
	heap->marks_dirty = false;
	atomic64_set(&heap->cnt.black_bytes, 0);
	mutex_unlock(&heap->lock);
	/* A cycle that ended with the world running may have left marks. */
	if (dirty)
		gcheap_mark_clear(heap);
	/* From here heap->mark holds the collector's reference. */
	return grey_roots(heap, mark, req);
}

/* Roots greyed, the world stopped: blacken what is left. */
static int mark_finish(struct gcheap *heap, struct gcheap_mark *mark)
{
	gcheap_mark_drain(mark);
	if (fatal_signal_pending(current)) {
		give_up_stopped(heap);
		return -EINTR;
	}
	trace_mark_done(heap->tgid, atomic64_read(&mark->marked_bytes),
			atomic64_read(&mark->scan_work));
	return 0;
}

/*
 * The time a cycle that began at @t0 took from the program: its stops
 * (@stw1, and the one from @t2 to now) and, of a concurrent mark between
 * them, its workers' share and the threads' assists.
 */
static u64 cycle_cpu_ns(struct gcheap *heap, struct gcheap_mark *mark, u64 t0, u64 stw1,
			u64 t2, u64 now)
{
	u64 mark_ns = t2 - t0 - stw1;

	if (READ_ONCE(heap->ctrl->gc_mode) == GCHEAP_MODE_CONCURRENT)
		mark_ns = div_u64(mark_ns * gcheap_pacer_cpu_percent(), 100) +
			  atomic64_read(&mark->assist_ns);
	return stw1 + (now - t2) + mark_ns;
}

/*
 * Mark termination, the world stopped and the mark done: links and
 * finalizers, sweepgen += 2 (every span unswept), the next goal, the
 * barrier off; then the world restarts and sweeping goes on behind it.
 * The cycle began at @t0; its first stop took @stw1, the second began at
 * @t2 (a STW cycle: one stop, from @t2 == @t0).
 */
static void cycle_end(struct gcheap *heap, struct gcheap_mark *mark,
		      const struct gcheap_gc *req, u64 t0, u64 stw1, u64 t2)
{
	u64 marked, now, inuse, stw2;

	gcheap_links_clear(heap);
	if (!xa_empty(&heap->finalizers)) {
		mark_finalizers(heap, mark, false);
		mark_finalizers(heap, mark, true);
	}

	mutex_lock(&heap->lock);
	/* Live: what was marked, what caches hold, what was allocated black. */
	marked = atomic64_read(&mark->marked_bytes) +
		 atomic64_read(&heap->cnt.cached_free_bytes) +
		 atomic64_read(&heap->cnt.black_bytes);
	WRITE_ONCE(heap->sweepgen, heap->sweepgen + 2);
	now = ktime_get_ns();
	inuse = (u64)(heap->npages - heap->pa.free_pages) << GCHEAP_PAGE_SHIFT;
	gcheap_pacer_cycle_end(heap, marked, atomic64_read(&mark->scan_work), inuse,
			       cycle_cpu_ns(heap, mark, t0, stw1, t2, now),
			       heap->last_gc_ns && t0 > heap->last_gc_ns ?
			       t0 - heap->last_gc_ns : U64_MAX);
	gcheap_wb_set_phase(heap, GCHEAP_PHASE_OFF);
	if (req->flags & GCHEAP_GC_FORCE)
		heap->num_forced_gc++;
	stw2 = ktime_get_ns() - t2;
	record_pauses(heap, stw1, stw2);
	trace_gc_end(heap->tgid, heap->num_gc, marked, heap->next_gc, stw1, stw2);
	WRITE_ONCE(heap->ctrl->gc_done, heap->ctrl->gc_done + 1);
	gcheap_sweep_start_background(heap);
	mutex_unlock(&heap->lock);
	gcheap_stw_end_mark(heap);
	gcheap_start_the_world(heap);
	/* Spans emptied while the cycle marked waited for it to end. */
	release_spans(heap);
}

/*
 * A concurrent cycle could not stop the world again to finish: end it
 * with the world running, nothing freed. The phase goes OFF first, so no
 * greying starts any more; closing the mark waits for greying in
 * progress. Mark bits cannot be cleared now (a refill in flight may still
 * set its black bits after a pass): the next cycle clears them once the
 * world is stopped, before it marks. Until then nothing reads them (no
 * span is unswept). Threads keep recording barrier words until their next
 * park; the module drops them.
 */
static void abandon_running(struct gcheap *heap)
{
	mutex_lock(&heap->lock);
	gcheap_wb_set_phase(heap, GCHEAP_PHASE_OFF);
	heap->marks_dirty = true;
	mutex_unlock(&heap->lock);
	gcheap_stw_end_mark(heap);
	release_spans(heap);
}

/*
 * A stop-the-world cycle: the whole mark with the world stopped, helped
 * by mark workers.
 */
static int gc_cycle_stw(struct gcheap *heap, struct gcheap_mark *mark,
			const struct gcheap_gc *req, struct gcheap_cache_snap *cache)
{
	u64 t0 = ktime_get_ns();
	int ret;

	ret = cycle_start(heap, mark, req, cache);
	if (!ret)
		ret = mark_finish(heap, mark);
	if (!ret)
		cycle_end(heap, mark, req, t0, 0, t0);
	return ret;
}

/*
 * A concurrent cycle (a CONCURRENT heap): roots greyed with the world
 * stopped, then the world restarts with the barrier on and the heap is
 * marked beside the program, by the caller and mark workers; the world
 * stops again to take what the barrier recorded since (each thread hands
 * its buffer over as it parks), rescan the stacks and root ranges (stores
 * into them need no barrier, and a store that began before the first stop
 * may finish after it without one), blacken what is left and end the
 * cycle. Slots handed out while the cycle marks are black (central.c,
 * large.c), and no span is destroyed before the end (span.c): the
 * markers hold spans without a lock.
 *
 * special_lock is held only while the world is stopped: the finalizer,
 * link and root tables may change in between. What a new root range
 * holds was reachable at the first stop or allocated since, and is seen
 * by the rescan.
 */
static int gc_cycle_concurrent(struct gcheap *heap, struct gcheap_mark *mark,
			       const struct gcheap_gc *req, struct gcheap_cache_snap *cache)
{
	u64 t0 = ktime_get_ns(), stw1, t2;
	unsigned int nworkers, permille;
	int ret;

	ret = cycle_start(heap, mark, req, cache);
	if (ret)
		return ret;
	gcheap_mark_cached(mark);
	mutex_lock(&heap->lock);
	gcheap_pacer_cycle_start(heap);
	gcheap_wb_set_phase(heap, GCHEAP_PHASE_MARK);
	mutex_unlock(&heap->lock);
	stw1 = ktime_get_ns() - t0;
	gcheap_start_the_world(heap);
	mutex_unlock(&heap->special_lock);

	/* gc_cpu_percent of the CPUs this thread (the program's) may use. */
	gcheap_pacer_workers(cpumask_weight(current->cpus_ptr), gcheap_pacer_cpu_percent(),
			     &nworkers, &permille);
	/* The caller of an explicit cycle waits for it anyway: its own thread marks flat out. */
	if (req->flags & GCHEAP_GC_FORCE)
		permille = 1000;
	gcheap_mark_drain_bg(mark, nworkers, permille);

	mutex_lock(&heap->special_lock);
	t2 = ktime_get_ns();
	ret = gcheap_stop_the_world(heap);
	if (ret) {
		abandon_running(heap);
		return ret;
	}
	mutex_lock(&heap->lock);
	gcheap_wb_set_phase(heap, GCHEAP_PHASE_MARKTERM);
	mutex_unlock(&heap->lock);
	ret = grey_roots(heap, mark, req);
	if (!ret)
		ret = mark_finish(heap, mark);
	if (!ret)
		cycle_end(heap, mark, req, t0, stw1, t2);
	return ret;
}

/* One cycle, gc_mutex held. */
static int gc_cycle(struct gcheap *heap, const struct gcheap_gc *req,
		    struct gcheap_cache_snap *cache)
{
	struct gcheap_mark *mark;
	int ret;

	mark = gcheap_mark_create(heap, gcheap_mark_workers());
	if (!mark)
		return -ENOMEM;
	WRITE_ONCE(heap->ctrl->gc_started, heap->ctrl->gc_started + 1);
	trace_gc_start(heap->tgid, READ_ONCE(heap->num_gc) + 1, gcheap_pacer_live(heap),
		       READ_ONCE(heap->next_gc),
		       READ_ONCE(heap->ctrl->gc_mode) == GCHEAP_MODE_CONCURRENT);
	gcheap_sweep_all(heap);

	ret = mutex_lock_killable(&heap->special_lock);
	if (ret) {
		gcheap_mark_put(mark);
		return ret;
	}
	if (READ_ONCE(heap->ctrl->gc_mode) == GCHEAP_MODE_CONCURRENT)
		ret = gc_cycle_concurrent(heap, mark, req, cache);
	else
		ret = gc_cycle_stw(heap, mark, req, cache);
	if (ret) {
		mutex_lock(&heap->lock);
		heap->stw_timeouts += ret == -ETIMEDOUT;
		mutex_unlock(&heap->lock);
	}
	mutex_unlock(&heap->special_lock);
	return ret;
}

static bool gc_needed(struct gcheap *heap)
{
	bool ret;

	mutex_lock(&heap->lock);
	ret = gcheap_pacer_due(heap);
	mutex_unlock(&heap->lock);
	return ret;
}

/* GCHEAP_IOC_GC. */
int gcheap_gc(struct gcheap *heap, const struct gcheap_gc *req)
{
	const struct gcheap_stack *st = &req->stack;
	struct gcheap_cache_snap cache;
	struct gcheap_m *m = NULL;
	int ret = 0;

	if (req->__reserved || req->flags & ~GCHEAP_GC_FLAGS)
		return -EINVAL;
	if (!gcheap_stack_valid(st))
		return -EINVAL;
	if (!heap->npages)
		return -ENXIO;
	/* A cache report needs a cache: the caller's, which it alone gives up. */
	if (req->cache) {
		m = gcheap_m_current(heap);
		if (!m)
			return -EINVAL;
	}
	ret = gcheap_cache_report_read(heap, m, req->cache, &cache);
	if (ret)
		return ret;
	/* Interruptible: the stop signal must reach a thread waiting here. */
	if (mutex_lock_interruptible(&heap->gc_mutex)) {
		gcheap_cache_report_free(&cache);
		return -ERESTARTSYS;
	}
	/* A cycle begun after the caller looked has done the job. */
	if (READ_ONCE(heap->ctrl->gc_started) <= req->since &&
	    (!(req->flags & GCHEAP_GC_IF_NEEDED) || gc_needed(heap)))
		ret = gc_cycle(heap, req, &cache);
	mutex_unlock(&heap->gc_mutex);
	gcheap_cache_report_free(&cache);
	if (!ret && req->flags & GCHEAP_GC_SWEEP)
		gcheap_sweep_all(heap);
	return ret;
}
