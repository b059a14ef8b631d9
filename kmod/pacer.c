// SPDX-License-Identifier: GPL-2.0
/*
 * The pacer (Go's mgcpacer): when the next cycle starts, how much CPU its
 * background marking takes, and what an allocating thread pays in mark
 * work while it runs.
 *
 * Goal: the heap the last cycle found live grown by GOGC percent, with a
 * 4 MiB floor; GOGC < 0 turns automatic collection off. live_bytes is
 * Go's heapLive: the marked heap plus what was allocated since (a span
 * handed to a cache counts whole).
 *
 * Trigger: a STW heap starts its cycle at the goal (the program stops for
 * all of it). A CONCURRENT heap must start early enough that marking ends
 * near the goal: trigger = goal - runway, where the runway is what the
 * program will allocate while the cycle scans, estimated from the last
 * cycles (bytes allocated per byte scanned, the largest of the last
 * GCHEAP_PACER_CONS_HISTORY, times the bytes the last cycle scanned),
 * clamped as Go clamps it to [marked + 45/64 D, max(marked + 61/64 D,
 * goal - 4 MiB)], D = goal - marked. The ratio folds in the CPU share the
 * workers had, which stays the same from cycle to cycle.
 *
 * Workers (gc_cpu_percent, Go's 25 %): of the CPUs the collecting thread
 * may run on, that share marks in the background: whole CPUs as dedicated
 * workers, and where rounding would be off by more than 30 %, the
 * collector's own thread as a fractional worker held to the rest.
 *
 * Assists: while a cycle marks, a thread pays for each byte it allocates
 * with assist_ratio bytes of scanning (assist.c), the scan work left
 * spread over the heap left before the goal (1.1 x the goal once it is
 * passed): allocation near the goal pays for all the work there is.
 *
 * Memory limit (Go's GOMEMLIMIT): the goal shrinks so the spans' bytes
 * stay under it, down to the live heap at most; if collecting then takes
 * over half of the time since the cycle before (its stops, and its
 * workers' share of a concurrent mark), the limit yields until a cycle
 * takes less (Go's CPU limiter: no death spiral).
 *
 * Crossing the trigger sets gc_wanted in the control page; the library,
 * which polls it after each refill, then asks for a cycle.
 *
 * Locking: gogc, next_gc, trigger, memory_limit, limiter, limit_frag,
 * last_scan_work, live_at_start and the history change under heap->lock
 * and are read without it (where READ_ONCE says so); live_bytes is atomic, changed by every refill
 * and free with no lock. gc_wanted is then a hint that may lag a racing
 * update by one refill: the next one sets it right, and the collector
 * decides (GCHEAP_GC_IF_NEEDED) from live_bytes itself.
 */
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/limits.h>
#include <linux/moduleparam.h>
#include <linux/export.h>
#include <kunit/visibility.h>
#include "pacer.h"
#include "mark.h"

static unsigned int gc_cpu_percent = 25;
module_param(gc_cpu_percent, uint, 0644);
MODULE_PARM_DESC(gc_cpu_percent,
		 "Share of its CPUs a concurrent heap's background marking takes, percent, 1..100 (default 25)");

static int gogc = 100;
module_param(gogc, int, 0644);
MODULE_PARM_DESC(gogc, "GOGC of new heaps, percent; negative: collection off (default 100)");

int gcheap_default_gogc(void)
{
	int v = READ_ONCE(gogc);

	return v < 0 ? GCHEAP_GOGC_OFF : v;
}

/* The heap goal after a cycle that marked @marked bytes. */
u64 gcheap_pacer_goal(u64 marked, int gogc)
{
	u64 goal;

	if (gogc < 0)
		return U64_MAX;
	if (check_mul_overflow(marked, (u64)gogc, &goal))
		return U64_MAX;
	goal = marked + goal / 100;
	if (goal < marked)
		return U64_MAX;
	return max(goal, GCHEAP_HEAP_MINIMUM);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pacer_goal);

/*
 * Where a CONCURRENT heap's cycle starts, for a goal @goal after @marked
 * bytes were found live, leaving @runway bytes to allocate while it marks.
 */
u64 gcheap_pacer_trigger(u64 marked, u64 goal, u64 runway)
{
	u64 d, lo, hi, t;

	if (goal == U64_MAX || goal <= marked)
		return goal;
	d = goal - marked;
	lo = marked + mul_u64_u32_div(d, 45, 64);
	hi = marked + mul_u64_u32_div(d, 61, 64);
	if (goal > GCHEAP_PACER_RUNWAY_MIN)
		hi = max(hi, goal - GCHEAP_PACER_RUNWAY_MIN);
	t = goal > runway ? goal - runway : 0;
	return clamp(t, lo, hi);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pacer_trigger);

/*
 * What the program allocates while a cycle scans @scan_work bytes, from
 * @n past cycles' bytes allocated per KiB scanned (the largest: a cycle
 * that ends late costs more than one that starts early).
 */
u64 gcheap_pacer_runway(const u32 *cons, unsigned int n, u64 scan_work)
{
	u32 c = 0;

	while (n--)
		c = max(c, cons[n]);
	return mul_u64_u32_div(scan_work, c, 1024);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pacer_runway);

/* Bytes allocated per KiB scanned: @alloc while @scan_work was scanned. */
u32 gcheap_pacer_cons(u64 alloc, u64 scan_work)
{
	u64 c = div64_u64(alloc, max(scan_work, 1ULL) / 1024 ?: 1);

	return min_t(u64, c, U32_MAX);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pacer_cons);

/*
 * Go's assistWorkPerByte, in 1/1024 bytes of scanning per byte allocated:
 * the scan work still expected (@expected less @done; once exceeded, all
 * of the live heap is the worst case) over the heap still to allocate
 * before @goal (1.1 x @goal once @live is past it; one page at the least).
 */
u64 gcheap_pacer_assist_ratio(u64 expected, u64 done, u64 live, u64 goal)
{
	u64 left, dist;

	if (done >= expected)
		expected = max(expected, live);
	left = max(expected > done ? expected - done : 0, GCHEAP_ASSIST_MIN_LEFT);
	if (live >= goal && goal != U64_MAX)
		goal += goal / 10;
	dist = goal > live ? goal - live : 0;
	dist = max_t(u64, dist, GCHEAP_PAGE_SIZE);
	return clamp(mul_u64_u64_div_u64(left, 1024, dist), 1ULL, GCHEAP_ASSIST_MAX_RATIO);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pacer_assist_ratio);

/*
 * Background mark workers for a heap whose collector may use @cpus CPUs
 * at @percent: *@nworkers (the collecting thread and helpers), the first
 * held to *@permille of a CPU (1000: a dedicated worker) -- Go's
 * dedicated workers, with a fractional one where rounding is off by more
 * than 30 %.
 */
void gcheap_pacer_workers(unsigned int cpus, unsigned int percent,
			  unsigned int *nworkers, unsigned int *permille)
{
	u32 total = clamp(percent, 1U, 100U) * cpus * 10;	/* thousandths of a CPU */
	u32 dedicated = (total + 500) / 1000;
	u32 off = dedicated * 1000 > total ? dedicated * 1000 - total : total - dedicated * 1000;
	u32 frac = 0;

	if (off * 10 > total * 3) {
		if (dedicated * 1000 > total)
			dedicated--;
		frac = total - dedicated * 1000;
	}
	*nworkers = max(dedicated + !!frac, 1U);
	*permille = frac ? frac : 1000;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pacer_workers);

unsigned int gcheap_pacer_cpu_percent(void)
{
	return clamp(READ_ONCE(gc_cpu_percent), 1U, 100U);
}

/* Go's heapLive; never negative, however frees and a cycle's end interleave. */
u64 gcheap_pacer_live(const struct gcheap *heap)
{
	s64 v = atomic64_read(&heap->cnt.live_bytes);

	return v < 0 ? 0 : v;
}

/* The heap has reached its trigger: a cycle is due. */
bool gcheap_pacer_due(const struct gcheap *heap)
{
	return gcheap_pacer_live(heap) >= READ_ONCE(heap->trigger);
}

static void update_wanted(struct gcheap *heap)
{
	WRITE_ONCE(heap->ctrl->gc_wanted, gcheap_pacer_due(heap));
	WRITE_ONCE(heap->ctrl->next_gc, READ_ONCE(heap->trigger));
}

static bool concurrent(const struct gcheap *heap)
{
	return heap->ctrl && READ_ONCE(heap->ctrl->gc_mode) == GCHEAP_MODE_CONCURRENT;
}

/*
 * Go's memory-limit goal: the live heap that keeps the spans' bytes under
 * @limit, given @frag bytes of spans beyond the live ones, with 3 % (at
 * least 1 MiB) of headroom; never below @marked.
 */
u64 gcheap_pacer_limit_goal(u64 limit, u64 frag, u64 marked)
{
	u64 room = max(div_u64(limit, 100) * 3, GCHEAP_LIMIT_HEADROOM_MIN);

	if (limit == GCHEAP_NO_LIMIT)
		return U64_MAX;
	if (limit < room || limit - room < frag)
		return marked;
	return max(limit - room - frag, marked);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pacer_limit_goal);

/*
 * The heap goal: GOGC's, or the memory limit's where smaller -- unless
 * collecting took over half the time since the cycle before (the
 * limiter, Go's CPU limit on the memory limit): then the limit yields to
 * GOGC's goal, or to GOGC 100's if GOGC is off, so the program keeps at
 * least half of its time.
 */
static u64 heap_goal(const struct gcheap *heap)
{
	u64 goal = gcheap_pacer_goal(heap->last_marked, heap->gogc);
	u64 lg = gcheap_pacer_limit_goal(heap->memory_limit, heap->limit_frag, heap->last_marked);

	if (lg >= goal)
		return goal;
	if (!heap->limiter)
		return lg;
	return heap->gogc < 0 ? max(lg, gcheap_pacer_goal(heap->last_marked, 100)) : goal;
}

/* The goal and trigger from the last cycle's numbers. heap->lock held. */
static void set_goal(struct gcheap *heap)
{
	u64 goal = heap_goal(heap), runway;

	WRITE_ONCE(heap->next_gc, goal);
	runway = gcheap_pacer_runway(heap->cons_mark, GCHEAP_PACER_CONS_HISTORY,
				     heap->last_scan_work);
	WRITE_ONCE(heap->trigger, concurrent(heap) ?
		   gcheap_pacer_trigger(heap->last_marked, goal, runway) : goal);
	if (heap->ctrl)
		update_wanted(heap);
}

/* The mark begins: what is allocated from here on is the runway used. */
void gcheap_pacer_cycle_start(struct gcheap *heap)
{
	lockdep_assert_held(&heap->lock);
	WRITE_ONCE(heap->live_at_start, gcheap_pacer_live(heap));
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pacer_cycle_start);

/*
 * The assist ratio of the cycle @mark now, from the scan work the last
 * cycle did (the live heap at the start, before any).
 */
u64 gcheap_pacer_mark_ratio(struct gcheap *heap, struct gcheap_mark *mark)
{
	u64 expected = READ_ONCE(heap->last_scan_work) ?: READ_ONCE(heap->live_at_start);

	return gcheap_pacer_assist_ratio(expected, atomic64_read(&mark->scan_work),
					 gcheap_pacer_live(heap), READ_ONCE(heap->next_gc));
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pacer_mark_ratio);

/* @bytes more (or, negative, fewer) allocated since the last mark. */
void gcheap_pacer_note_alloc(struct gcheap *heap, s64 bytes)
{
	atomic64_add(bytes, &heap->cnt.live_bytes);
	if (heap->ctrl)
		update_wanted(heap);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pacer_note_alloc);

/*
 * A cycle found @marked bytes live, scanning @scan_work bytes, with
 * @inuse bytes of spans; it took @gc_ns of CPU, after @mut_ns of the
 * program's time since the cycle before. A concurrent one learns how
 * much the program allocated meanwhile.
 */
void gcheap_pacer_cycle_end(struct gcheap *heap, u64 marked, u64 scan_work, u64 inuse,
			    u64 gc_ns, u64 mut_ns)
{
	u64 live = gcheap_pacer_live(heap);

	lockdep_assert_held(&heap->lock);
	/* Span bytes holding no allocated object (this cycle's garbage is allocated yet). */
	heap->limit_frag = inuse > live ? inuse - live : 0;
	heap->limiter = gc_ns > mut_ns;
	if (concurrent(heap)) {
		memmove(heap->cons_mark + 1, heap->cons_mark,
			sizeof(heap->cons_mark) - sizeof(heap->cons_mark[0]));
		heap->cons_mark[0] = gcheap_pacer_cons(live > heap->live_at_start ?
						       live - heap->live_at_start : 0, scan_work);
	}
	WRITE_ONCE(heap->last_scan_work, scan_work);
	WRITE_ONCE(heap->last_marked, marked);
	atomic64_set(&heap->cnt.live_bytes, marked);
	set_goal(heap);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pacer_cycle_end);

/* GCHEAP_IOC_SETGC: set GOGC and the memory limits, the old values back in @req. */
int gcheap_pacer_setgc(struct gcheap *heap, struct gcheap_setgc *req)
{
	u64 old_limit, old_max;

	if (req->flags & ~(GCHEAP_SETGC_KEEP_GOGC | GCHEAP_SETGC_LIMIT | GCHEAP_SETGC_MAX) ||
	    req->__reserved)
		return -EINVAL;
	if (!(req->flags & GCHEAP_SETGC_KEEP_GOGC) && req->gogc < GCHEAP_GOGC_OFF)
		return -EINVAL;
	if ((req->flags & GCHEAP_SETGC_LIMIT && !req->memory_limit) ||
	    (req->flags & GCHEAP_SETGC_MAX && !req->memory_max))
		return -EINVAL;
	mutex_lock(&heap->lock);
	old_limit = heap->memory_limit;
	old_max = heap->scav.memory_max;
	if (req->flags & GCHEAP_SETGC_MAX)
		gcheap_scavenge_set_max(heap, req->memory_max);
	if (req->flags & GCHEAP_SETGC_LIMIT)
		WRITE_ONCE(heap->memory_limit, req->memory_limit);
	if (req->flags & GCHEAP_SETGC_KEEP_GOGC)
		req->gogc = gcheap_pacer_set_gogc(heap, heap->gogc);
	else
		req->gogc = gcheap_pacer_set_gogc(heap, req->gogc);
	mutex_unlock(&heap->lock);
	/* A lower goal or limit may put retained memory over the target. */
	gcheap_scavenge_kick(heap);
	req->memory_limit = old_limit;
	req->memory_max = old_max;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pacer_setgc);

/* Set GOGC; returns the old value. */
int gcheap_pacer_set_gogc(struct gcheap *heap, int v)
{
	int old;

	lockdep_assert_held(&heap->lock);
	old = heap->gogc;
	heap->gogc = v < 0 ? GCHEAP_GOGC_OFF : v;
	set_goal(heap);
	return old;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pacer_set_gogc);
