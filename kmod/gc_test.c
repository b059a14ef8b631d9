// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for the collector's core: marking of hand-built object graphs
 * (cycles, interior pointers, large objects scanned in pieces, noscan
 * objects, slots a cache holds), parallel marking of long chains and wide
 * trees, marking with no work buffer or almost none (overflow rescans),
 * helpers that never get to start, the size of a work buffer, a mark
 * closed or given up, sweep accounting, and the pacer's goal arithmetic.
 * Objects are written through the kernel's mapping; "roots" are kernel
 * arrays.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include "testheap.h"
#include "central.h"
#include "arena.h"
#include "large.h"
#include "mark.h"
#include "sweep.h"
#include "pacer.h"
#include "wbuf.h"
#include "assist.h"
#include "stw.h"

#define SPC_SCAN_32	GCHEAP_SPANCLASS(4, 0)	/* 32 B, 256 slots, 1 page */
#define SPC_NOSCAN_32	GCHEAP_SPANCLASS(4, 1)

static unsigned long alloc_large(struct kunit *test, size_t bytes, bool noscan)
{
	struct gcheap_large req = { .bytes = bytes, .flags = noscan ? GCHEAP_LARGE_NOSCAN : 0 };

	KUNIT_ASSERT_EQ(test, gcheap_large_alloc(test->priv, &req), 0);
	return req.base;
}

/*
 * Mark from @roots with @nworkers workers and at most @max_bufs work
 * buffers, as a cycle would; returns the rescan passes overflow cost.
 */
static unsigned int mark_capped(struct kunit *test, const u64 *roots, size_t n,
				unsigned int nworkers, unsigned int max_bufs)
{
	struct gcheap *heap = test->priv;
	struct gcheap_mark *m = gcheap_mark_create(heap, nworkers);
	struct gcheap_gcwork w;
	unsigned int overflows;

	KUNIT_ASSERT_NOT_NULL(test, m);
	m->max_bufs = max_bufs;
	gcheap_gcwork_init(&w, m);
	gcheap_scan_words(&w, roots, n, 0, 0);
	gcheap_gcwork_dispose(&w);
	gcheap_mark_drain(m);
	overflows = m->overflows;
	gcheap_mark_put(m);
	return overflows;
}

static void mark(struct kunit *test, const u64 *roots, size_t n, unsigned int nworkers)
{
	KUNIT_EXPECT_EQ(test, mark_capped(test, roots, n, nworkers, 1024), 0u);
}

/* End the cycle and sweep everything. */
static void sweep(struct gcheap *heap)
{
	mutex_lock(&heap->lock);
	WRITE_ONCE(heap->sweepgen, heap->sweepgen + 2);
	mutex_unlock(&heap->lock);
	gcheap_sweep_all(heap);
}

static bool marked(struct gcheap *heap, unsigned long addr)
{
	return gcheap_marked(heap, addr);
}

static void gc_test_cycle(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	unsigned long o[4];
	u64 root;

	gcheap_test_alloc_objs(test, SPC_SCAN_32, 4, o);
	/* A -> B -> C -> A, and D -> A with nothing pointing at D. */
	*gcheap_test_kaddr(heap, o[0]) = o[1];
	*gcheap_test_kaddr(heap, o[1]) = o[2];
	*gcheap_test_kaddr(heap, o[2]) = o[0];
	*gcheap_test_kaddr(heap, o[3]) = o[0];
	root = o[0];
	mark(test, &root, 1, 2);
	KUNIT_EXPECT_TRUE(test, marked(heap, o[0]));
	KUNIT_EXPECT_TRUE(test, marked(heap, o[1]));
	KUNIT_EXPECT_TRUE(test, marked(heap, o[2]));
	KUNIT_EXPECT_FALSE(test, marked(heap, o[3]));
	sweep(heap);
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_objects), 3ull);
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_bytes), 3ull * 32);
	KUNIT_EXPECT_EQ(test, CNT(heap, freed_objects), 1ull);
	/* Mark bits are clear again, and an unreachable cycle dies whole. */
	KUNIT_EXPECT_FALSE(test, marked(heap, o[0]));
	mark(test, NULL, 0, 2);
	sweep(heap);
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_objects), 0ull);
	KUNIT_EXPECT_EQ(test, CNT(heap, spans_inuse), 0ull);
	KUNIT_EXPECT_EQ(test, heap->pa.free_pages, heap->npages);
}

static void gc_test_interior(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	unsigned long o[3];
	u64 roots[3];

	gcheap_test_alloc_objs(test, SPC_SCAN_32, 3, o);
	/* Into the middle of o[0]; one past o[1] is o[2]'s first byte. */
	roots[0] = o[0] + 17;
	roots[1] = o[1] + 32;
	/* Beyond the last slot of the span: 256 * 32 = 8192, no tail. */
	roots[2] = heap->base + heap->npages * GCHEAP_PAGE_SIZE + 8;
	mark(test, roots, 3, 1);
	KUNIT_EXPECT_TRUE(test, marked(heap, o[0]));
	KUNIT_EXPECT_FALSE(test, marked(heap, o[1]));
	KUNIT_EXPECT_TRUE(test, marked(heap, o[2]));
	sweep(heap);
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_objects), 2ull);
}

static void gc_test_free_slot(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	unsigned long o[1];
	u64 root;

	gcheap_test_alloc_objs(test, SPC_SCAN_32, 1, o);
	/* A pointer to a free slot keeps nothing and resurrects nothing. */
	root = o[0] + 64;
	mark(test, &root, 1, 1);
	KUNIT_EXPECT_FALSE(test, marked(heap, o[0] + 64));
	sweep(heap);
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_objects), 0ull);
}

static void gc_test_noscan(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	unsigned long n[1], s[1];
	u64 root;

	gcheap_test_alloc_objs(test, SPC_NOSCAN_32, 1, n);
	gcheap_test_alloc_objs(test, SPC_SCAN_32, 1, s);
	*gcheap_test_kaddr(heap, n[0]) = s[0];	/* not a pointer: the object is noscan */
	root = n[0];
	mark(test, &root, 1, 2);
	KUNIT_EXPECT_TRUE(test, marked(heap, n[0]));
	KUNIT_EXPECT_FALSE(test, marked(heap, s[0]));
	sweep(heap);
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_objects), 1ull);
}

static void gc_test_large(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	unsigned long big = alloc_large(test, 1 << 20, false);
	unsigned long raw = alloc_large(test, 100000, true);
	unsigned long dead = alloc_large(test, 40000, false);
	unsigned long s[3];
	u64 root;

	gcheap_test_alloc_objs(test, SPC_SCAN_32, 3, s);
	/* Deep in the last piece of the 1 MiB object, and one in a noscan one. */
	*gcheap_test_kaddr(heap, big + (1 << 20) - 8) = s[0];
	*gcheap_test_kaddr(heap, big + 300000) = raw + 5;
	*gcheap_test_kaddr(heap, raw + 64) = s[1];
	*gcheap_test_kaddr(heap, dead) = s[2];
	root = big + 123456;
	mark(test, &root, 1, 2);
	KUNIT_EXPECT_TRUE(test, marked(heap, big));
	KUNIT_EXPECT_TRUE(test, marked(heap, raw));
	KUNIT_EXPECT_TRUE(test, marked(heap, s[0]));
	KUNIT_EXPECT_FALSE(test, marked(heap, s[1]));
	KUNIT_EXPECT_FALSE(test, marked(heap, dead));
	KUNIT_EXPECT_FALSE(test, marked(heap, s[2]));
	sweep(heap);
	KUNIT_EXPECT_EQ(test, CNT(heap, large_objects), 2ull);
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_objects), 3ull);
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_bytes), (1ull << 20) + 13 * 8192 + 32);
	KUNIT_EXPECT_EQ(test, CNT(heap, swept_bytes), 5ull * 8192 + 2 * 32);
}

static void gc_test_cached_slots(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	unsigned long o[2];
	struct gcheap_span *span;
	u64 root;
	bool fresh;

	gcheap_test_alloc_objs(test, SPC_SCAN_32, 2, o);
	/* The span goes to a cache; its free slots are the cache's. */
	span = gcheap_central_cache_span(heap, SPC_SCAN_32, NULL, &fresh);
	KUNIT_ASSERT_FALSE(test, IS_ERR(span));
	KUNIT_ASSERT_EQ(test, gcheap_span_base(heap, span), o[0] & ~(GCHEAP_PAGE_SIZE - 1));
	/* A slot the cache may have handed out counts as allocated. */
	*gcheap_test_kaddr(heap, o[0] + 5 * 32) = o[1];
	root = o[0] + 5 * 32;
	mark(test, &root, 1, 1);
	KUNIT_EXPECT_TRUE(test, marked(heap, o[0] + 5 * 32));
	KUNIT_EXPECT_TRUE(test, marked(heap, o[1]));
	KUNIT_EXPECT_FALSE(test, marked(heap, o[0]));
	sweep(heap);
	/* No thread owns it here, so no list leads the sweep to it. */
	gcheap_sweep_span(heap, span);
	/* o[0] is freed; the cache's slots are untouched by the sweep. */
	KUNIT_EXPECT_EQ(test, span->alloc_count, 1);
	KUNIT_EXPECT_EQ(test, bitmap_weight(gcheap_span_cache_free(span), span->nelems), 254u);
	KUNIT_EXPECT_EQ(test, CNT(heap, spans_cached), 1ull);
}

/*
 * A chain of @chain_spans spans' worth of objects and a wide tree, marked
 * by several workers, or with few buffers.
 */
static void build_chain_and_tree(struct kunit *test, u64 *roots, unsigned int *total,
				 unsigned int chain_spans)
{
	struct gcheap *heap = test->priv;
	unsigned long *o = kunit_kcalloc(test, 256, sizeof(*o), GFP_KERNEL);
	unsigned long prev = 0;
	unsigned int i, j;

	KUNIT_ASSERT_NOT_NULL(test, o);
	*total = 0;
	for (i = 0; i < chain_spans; i++) {
		gcheap_test_alloc_objs(test, SPC_SCAN_32, 256, o);
		for (j = 0; j < 256; j++) {
			*gcheap_test_kaddr(heap, o[j]) = prev;
			prev = o[j];
		}
		*total += 256;
	}
	roots[0] = prev;
	roots[1] = alloc_large(test, 8 * 1000, false);
	for (i = 0; i < 4; i++) {
		gcheap_test_alloc_objs(test, SPC_SCAN_32, 250, o);
		for (j = 0; j < 250; j++)
			*gcheap_test_kaddr(heap, roots[1] + 8 * (i * 250 + j)) = o[j];
		*total += 250;
	}
}

static void gc_test_parallel(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	unsigned int total;
	u64 roots[2];

	build_chain_and_tree(test, roots, &total, 40);
	mark(test, roots, 2, 4);
	sweep(heap);
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_objects), (u64)total + 1);
	KUNIT_EXPECT_EQ(test, CNT(heap, freed_objects), 0ull);
}

/*
 * With no work buffer at all, or one for the tree's 1000 children,
 * rescans still reach everything. Each rescan pass goes one link down the
 * chain and costs a pass over the heap, so the chain is short: two spans
 * (512 passes) test the same as forty did, at a 400th of the cost.
 */
static void gc_test_overflow(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	unsigned int total;
	u64 roots[2];

	build_chain_and_tree(test, roots, &total, 2);
	KUNIT_EXPECT_GT(test, mark_capped(test, roots, 2, 2, 0), 0u);
	sweep(heap);
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_objects), (u64)total + 1);
	KUNIT_EXPECT_EQ(test, CNT(heap, freed_objects), 0ull);
	KUNIT_EXPECT_GT(test, mark_capped(test, roots, 2, 2, 1), 0u);
	sweep(heap);
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_objects), (u64)total + 1);
	KUNIT_EXPECT_EQ(test, CNT(heap, freed_objects), 0ull);
}

/* A work item that holds a kernel thread until released. */
struct blocker {
	struct kthread_work work;
	struct completion release;
};

static void blocker_fn(struct kthread_work *work)
{
	wait_for_completion(&container_of(work, struct blocker, work)->release);
}

struct drainer {
	struct gcheap_mark *mark;
	struct completion done;
};

static int drainer_fn(void *arg)
{
	struct drainer *d = arg;

	gcheap_mark_drain(d->mark);
	complete(&d->done);
	return 0;
}

/*
 * Helpers queued behind a busy thread never start before the drain ends:
 * the collector must finish alone, not wait for them (Go's rule).
 */
static void gc_test_unstarted_helpers(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	struct kthread_worker *kw;
	struct blocker b;
	struct drainer d;
	struct gcheap_gcwork w;
	struct task_struct *t;
	unsigned int total, i;
	bool finished;
	u64 roots[2];

	build_chain_and_tree(test, roots, &total, 4);
	kw = kthread_create_worker(0, "gcheap_test_busy");
	KUNIT_ASSERT_FALSE(test, IS_ERR(kw));
	kthread_init_work(&b.work, blocker_fn);
	init_completion(&b.release);
	kthread_queue_work(kw, &b.work);
	d.mark = gcheap_mark_create(heap, 4);
	KUNIT_ASSERT_NOT_NULL(test, d.mark);
	KUNIT_ASSERT_EQ(test, d.mark->nworkers, 4u);
	for (i = 1; i < 4; i++)
		d.mark->workers[i].kw = kw;
	init_completion(&d.done);
	gcheap_gcwork_init(&w, d.mark);
	gcheap_scan_words(&w, roots, 2, 0, 0);
	gcheap_gcwork_dispose(&w);
	t = kthread_run(drainer_fn, &d, "gcheap_test_drain");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	finished = wait_for_completion_timeout(&d.done, 30 * HZ);
	/* Let the queue go: a drain that waited for the helpers ends too. */
	complete(&b.release);
	if (!finished)
		wait_for_completion(&d.done);
	kthread_destroy_worker(kw);
	KUNIT_EXPECT_TRUE_MSG(test, finished, "the drain waited for helpers that never started");
	gcheap_mark_put(d.mark);
	sweep(heap);
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_objects), (u64)total + 1);
	KUNIT_EXPECT_EQ(test, CNT(heap, freed_objects), 0ull);
}

/* A work buffer is one page, and the cap on them is 64 MiB. */
static void gc_test_workbuf_size(struct kunit *test)
{
	struct gcheap_mark *m = gcheap_mark_create(test->priv, 1);
	struct gcheap_gcwork w;

	KUNIT_ASSERT_NOT_NULL(test, m);
	gcheap_gcwork_init(&w, m);
	KUNIT_ASSERT_NOT_NULL(test, w.buf);
	KUNIT_EXPECT_EQ(test, ksize(w.buf), PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, (u64)m->max_bufs * ksize(w.buf), 64ull << 20);
	gcheap_gcwork_dispose(&w);
	gcheap_mark_put(m);
}

/*
 * A closed mark greys nothing a late scanner reads; a cycle given up
 * leaves no mark bit set.
 */
static void gc_test_closed_mark(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	struct gcheap_stack st = { };
	struct gcheap_mark *m;
	struct gcheap_gcwork w;
	unsigned long o[2];

	gcheap_test_alloc_objs(test, SPC_SCAN_32, 2, o);
	m = gcheap_mark_create(heap, 1);
	KUNIT_ASSERT_NOT_NULL(test, m);
	gcheap_gcwork_init(&w, m);
	st.regs[0] = o[0];
	KUNIT_EXPECT_EQ(test, gcheap_scan_stack(&w, &st), 0);
	KUNIT_EXPECT_TRUE(test, marked(heap, o[0]));
	/* A scanner holding its own reference outlives the collector's. */
	gcheap_mark_get(m);
	gcheap_mark_close(m);
	gcheap_mark_put(m);
	st.regs[0] = o[1];
	KUNIT_EXPECT_EQ(test, gcheap_scan_stack(&w, &st), -ECANCELED);
	KUNIT_EXPECT_FALSE(test, marked(heap, o[1]));
	gcheap_gcwork_dispose(&w);
	gcheap_mark_put(m);
	gcheap_mark_clear(heap);
	KUNIT_EXPECT_FALSE(test, marked(heap, o[0]));
	sweep(heap);
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_objects), 0ull);
}

static void gc_test_pacer(struct kunit *test)
{
	struct gcheap *heap = test->priv;

	KUNIT_EXPECT_EQ(test, gcheap_pacer_goal(0, 100), 4ull << 20);
	KUNIT_EXPECT_EQ(test, gcheap_pacer_goal(3 << 20, 0), 4ull << 20);
	KUNIT_EXPECT_EQ(test, gcheap_pacer_goal(10 << 20, 100), 20ull << 20);
	KUNIT_EXPECT_EQ(test, gcheap_pacer_goal(10 << 20, 50), 15ull << 20);
	KUNIT_EXPECT_EQ(test, gcheap_pacer_goal(10 << 20, 300), 40ull << 20);
	KUNIT_EXPECT_EQ(test, gcheap_pacer_goal(1 << 20, GCHEAP_GOGC_OFF), U64_MAX);
	KUNIT_EXPECT_EQ(test, gcheap_pacer_goal(U64_MAX / 2, 1000), U64_MAX);

	/* Crossing the goal raises gc_wanted; a cycle's end lowers it. */
	mutex_lock(&heap->lock);
	KUNIT_EXPECT_EQ(test, heap->next_gc, 4ull << 20);
	gcheap_pacer_note_alloc(heap, (4 << 20) - 1);
	KUNIT_EXPECT_EQ(test, heap->ctrl->gc_wanted, 0u);
	gcheap_pacer_note_alloc(heap, 1);
	KUNIT_EXPECT_EQ(test, heap->ctrl->gc_wanted, 1u);
	gcheap_pacer_cycle_end(heap, 6 << 20, 4 << 20, 8 << 20, 1, 2);
	KUNIT_EXPECT_EQ(test, heap->next_gc, 12ull << 20);
	KUNIT_EXPECT_EQ(test, heap->ctrl->next_gc, 12ull << 20);
	KUNIT_EXPECT_EQ(test, heap->ctrl->gc_wanted, 0u);
	KUNIT_EXPECT_EQ(test, gcheap_pacer_set_gogc(heap, GCHEAP_GOGC_OFF), 100);
	gcheap_pacer_note_alloc(heap, 1ll << 40);
	KUNIT_EXPECT_EQ(test, heap->ctrl->gc_wanted, 0u);
	mutex_unlock(&heap->lock);
}

/* The concurrent pacer's arithmetic, against cases worked by hand. */
static void gc_test_pacer_concurrent(struct kunit *test)
{
	static const u32 cons[GCHEAP_PACER_CONS_HISTORY] = { 512, 2048 };
	/* CPUs, percent: workers, the first one's permille of a CPU. */
	static const unsigned int workers[][4] = {
		{ 2, 25, 1, 500 }, { 3, 25, 1, 750 }, { 4, 25, 1, 1000 }, { 6, 25, 2, 500 },
		{ 8, 25, 2, 1000 }, { 2, 1, 1, 20 }, { 2, 100, 2, 1000 },
	};
	struct gcheap *heap = test->priv;
	unsigned int n, p, i;

	/* Trigger: goal - runway within [marked + 45/64 D, max(marked + 61/64 D, goal - 4M)]. */
	KUNIT_EXPECT_EQ(test, gcheap_pacer_trigger(10 << 20, 20 << 20, 0), 20480000ull);
	KUNIT_EXPECT_EQ(test, gcheap_pacer_trigger(10 << 20, 20 << 20, 2 << 20), 18874368ull);
	KUNIT_EXPECT_EQ(test, gcheap_pacer_trigger(10 << 20, 20 << 20, 8 << 20), 17858560ull);
	KUNIT_EXPECT_EQ(test, gcheap_pacer_trigger(1ull << 30, 2ull << 30, 0), 2143289344ull);
	KUNIT_EXPECT_EQ(test, gcheap_pacer_trigger(1ull << 30, 2ull << 30, 100 << 20),
			2042626048ull);
	KUNIT_EXPECT_EQ(test, gcheap_pacer_trigger(1 << 20, U64_MAX, 0), U64_MAX);

	/* Runway: the largest bytes-per-KiB of the history, times the scan. */
	KUNIT_EXPECT_EQ(test, gcheap_pacer_cons(8 << 20, 4 << 20), 2048u);
	KUNIT_EXPECT_EQ(test, gcheap_pacer_cons(0, 4 << 20), 0u);
	KUNIT_EXPECT_EQ(test, gcheap_pacer_runway(cons, GCHEAP_PACER_CONS_HISTORY, 4 << 20),
			8ull << 20);

	/* Assist ratio, in 1/1024 bytes of scan per byte allocated. */
	KUNIT_EXPECT_EQ(test, gcheap_pacer_assist_ratio(10 << 20, 2 << 20, 15 << 20, 20 << 20),
			1638ull);
	/* Past the goal: 1.1 x goal; past that too: a page left, all the live heap to scan. */
	KUNIT_EXPECT_EQ(test, gcheap_pacer_assist_ratio(10 << 20, 2 << 20, 21 << 20, 20 << 20),
			8192ull);
	KUNIT_EXPECT_EQ(test, gcheap_pacer_assist_ratio(10 << 20, 12 << 20, 30 << 20, 20 << 20),
			2359296ull);
	KUNIT_EXPECT_EQ(test, gcheap_pacer_assist_ratio(0, 0, 0, 4 << 20), 1ull);

	/* Workers: Go's dedicated count, fractional when rounding is off by > 30 %. */
	for (i = 0; i < ARRAY_SIZE(workers); i++) {
		gcheap_pacer_workers(workers[i][0], workers[i][1], &n, &p);
		KUNIT_EXPECT_EQ_MSG(test, n, workers[i][2], "%u CPUs at %u %%", workers[i][0],
				    workers[i][1]);
		KUNIT_EXPECT_EQ_MSG(test, p, workers[i][3], "%u CPUs at %u %%", workers[i][0],
				    workers[i][1]);
	}

	/*
	 * A concurrent heap learns its runway: 2 MiB allocated while 4 MiB
	 * were scanned is 512 bytes per KiB, a 2 MiB runway, a trigger at
	 * 10 MiB for the 12 MiB goal, raised to the 45/64 floor (10715136).
	 */
	mutex_lock(&heap->lock);
	WRITE_ONCE(heap->ctrl->gc_mode, GCHEAP_MODE_CONCURRENT);
	gcheap_pacer_cycle_end(heap, 6 << 20, 0, 8 << 20, 1, 2);
	gcheap_pacer_cycle_start(heap);
	gcheap_pacer_note_alloc(heap, 2 << 20);
	gcheap_pacer_cycle_end(heap, 6 << 20, 4 << 20, 8 << 20, 1, 2);
	KUNIT_EXPECT_EQ(test, heap->cons_mark[0], 512u);
	KUNIT_EXPECT_EQ(test, heap->next_gc, 12ull << 20);
	KUNIT_EXPECT_EQ(test, heap->trigger, 10715136ull);
	KUNIT_EXPECT_EQ(test, heap->ctrl->next_gc, 10715136ull);
	gcheap_pacer_note_alloc(heap, 10715136 - (6 << 20) - 1);
	KUNIT_EXPECT_EQ(test, heap->ctrl->gc_wanted, 0u);
	gcheap_pacer_note_alloc(heap, 1);
	KUNIT_EXPECT_EQ(test, heap->ctrl->gc_wanted, 1u);
	WRITE_ONCE(heap->ctrl->gc_mode, GCHEAP_MODE_STW);
	mutex_unlock(&heap->lock);
}

static void set_phase(struct gcheap *heap, u32 phase)
{
	mutex_lock(&heap->lock);
	gcheap_wb_set_phase(heap, phase);
	heap->hold_spans = phase != GCHEAP_PHASE_OFF;
	mutex_unlock(&heap->lock);
}

/*
 * While a cycle marks concurrently: every slot handed to a cache is black,
 * a slot given back unused loses its mark, a new large object is black,
 * and a span emptied meanwhile keeps its descriptor and pages until the
 * cycle ends (markers hold spans without a lock).
 */
static void gc_test_allocate_black(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	struct gcheap_span_return ret = { 0 };
	struct gcheap_span *span, *got;
	unsigned long o[1], large, free_pages;
	unsigned int i, kept = 0;
	bool fresh;

	/* An object from before the cycle, alone in its span. */
	gcheap_test_alloc_objs(test, SPC_SCAN_32, 1, o);
	set_phase(heap, GCHEAP_PHASE_MARK);

	span = gcheap_central_cache_span(heap, SPC_NOSCAN_32, NULL, &fresh);
	KUNIT_ASSERT_FALSE(test, IS_ERR(span));
	KUNIT_EXPECT_TRUE(test, bitmap_equal(gcheap_span_mark_bits(span),
					     gcheap_span_cache_free(span), span->nelems));
	KUNIT_EXPECT_EQ(test, bitmap_weight(gcheap_span_mark_bits(span), span->nelems), 256u);
	/* Give it back having used slots 0..4: only they stay black. */
	ret.base = gcheap_span_base(heap, span);
	for (i = 5; i < span->nelems; i++)
		ret.free[i / 64] |= 1ULL << (i % 64);
	got = gcheap_central_check_return(heap, NULL, &ret);
	KUNIT_ASSERT_PTR_EQ(test, got, span);
	gcheap_central_uncache_span(heap, span, ret.free);
	for (i = 0; i < span->nelems; i++)
		kept += test_bit(i, gcheap_span_mark_bits(span)) && i < 5;
	KUNIT_EXPECT_EQ(test, kept, 5u);
	KUNIT_EXPECT_EQ(test, bitmap_weight(gcheap_span_mark_bits(span), span->nelems), 5u);

	large = alloc_large(test, 3 * GCHEAP_PAGE_SIZE, false);
	KUNIT_EXPECT_TRUE(test, gcheap_marked(heap, large));
	KUNIT_EXPECT_FALSE(test, gcheap_marked(heap, o[0]));

	/* Freed empty while marking: DEAD, its pages still in use. */
	free_pages = heap->pa.free_pages;
	rcu_read_lock();
	span = gcheap_arena_span_of(heap, o[0]);
	KUNIT_ASSERT_NOT_NULL(test, span);
	KUNIT_EXPECT_EQ(test, gcheap_central_free_object(heap, span, 0), 0);
	rcu_read_unlock();
	gcheap_span_free_dead(heap);
	KUNIT_EXPECT_EQ(test, span->state, GCHEAP_SPAN_DEAD);
	KUNIT_EXPECT_EQ(test, heap->pa.free_pages, free_pages);
	/* The cycle ends: the span goes, and allocation is white again. */
	set_phase(heap, GCHEAP_PHASE_OFF);
	gcheap_span_free_dead(heap);
	KUNIT_EXPECT_EQ(test, heap->pa.free_pages, free_pages + 1);
	span = gcheap_central_cache_span(heap, SPC_NOSCAN_32, NULL, &fresh);
	KUNIT_ASSERT_FALSE(test, IS_ERR(span));
	/* (The 5 marks are the cycle's, for its sweep to consume.) */
	KUNIT_EXPECT_EQ(test, bitmap_weight(gcheap_span_mark_bits(span), span->nelems), 5u);
}

/*
 * Termination with work in flight: after the concurrent drain is done, a
 * thread's barrier buffer still greys an object (a flush, or its park at
 * mark termination); the final drain must blacken what it reaches.
 */
static void gc_test_work_after_drain(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	struct gcheap_mark *m = gcheap_mark_create(heap, 2);
	unsigned long o[4];
	u64 word;

	KUNIT_ASSERT_NOT_NULL(test, m);
	gcheap_test_alloc_objs(test, SPC_SCAN_32, 4, o);
	/* o0 -> o1 reached by the first drain; o2 -> o3 only by the barrier. */
	*gcheap_test_kaddr(heap, o[0]) = o[1];
	*gcheap_test_kaddr(heap, o[2]) = o[3];
	mutex_lock(&heap->lock);
	rcu_assign_pointer(heap->mark, m);
	mutex_unlock(&heap->lock);
	set_phase(heap, GCHEAP_PHASE_MARK);
	word = o[0];
	gcheap_wb_grey(heap, &word, 1);
	gcheap_mark_drain(m);
	KUNIT_EXPECT_TRUE(test, gcheap_marked(heap, o[1]));
	KUNIT_EXPECT_FALSE(test, gcheap_marked(heap, o[2]));

	word = o[2];
	gcheap_wb_grey(heap, &word, 1);
	KUNIT_EXPECT_TRUE(test, gcheap_marked(heap, o[2]));
	KUNIT_EXPECT_FALSE(test, gcheap_marked(heap, o[3]));
	gcheap_mark_drain(m);
	KUNIT_EXPECT_TRUE(test, gcheap_marked(heap, o[3]));

	set_phase(heap, GCHEAP_PHASE_OFF);
	mutex_lock(&heap->lock);
	RCU_INIT_POINTER(heap->mark, NULL);
	mutex_unlock(&heap->lock);
	gcheap_mark_close(m);
	gcheap_mark_put(m);
	gcheap_mark_clear(heap);
}

/*
 * The memory limit: the goal shrinks under it (3 % headroom, at least
 * 1 MiB, and the spans' bytes beyond the live ones), never below the live
 * heap; and yields while collecting takes over half the time.
 */
static void gc_test_pacer_limit(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	struct gcheap_setgc req = { .size = sizeof(req) };

	KUNIT_EXPECT_EQ(test, gcheap_pacer_limit_goal(GCHEAP_NO_LIMIT, 0, 1 << 20), U64_MAX);
	/* 100 MiB limit: 3 MiB headroom, 7 MiB of fragmentation: 90 MiB. */
	KUNIT_EXPECT_EQ(test, gcheap_pacer_limit_goal(100 << 20, 7 << 20, 10 << 20), 90ull << 20);
	/* 10 MiB limit: 1 MiB headroom (3 % is less). */
	KUNIT_EXPECT_EQ(test, gcheap_pacer_limit_goal(10 << 20, 0, 2 << 20), 9ull << 20);
	/* Live past the limit: the goal is the live heap. */
	KUNIT_EXPECT_EQ(test, gcheap_pacer_limit_goal(10 << 20, 0, 12 << 20), 12ull << 20);
	KUNIT_EXPECT_EQ(test, gcheap_pacer_limit_goal(10 << 20, 20 << 20, 2 << 20), 2ull << 20);

	/* Bad requests change nothing. */
	req.flags = 4;
	KUNIT_EXPECT_EQ(test, gcheap_pacer_setgc(heap, &req), -EINVAL);
	req.flags = GCHEAP_SETGC_LIMIT | GCHEAP_SETGC_KEEP_GOGC;
	req.memory_limit = 0;
	KUNIT_EXPECT_EQ(test, gcheap_pacer_setgc(heap, &req), -EINVAL);
	KUNIT_EXPECT_EQ(test, heap->memory_limit, GCHEAP_NO_LIMIT);

	/*
	 * GOGC 100 after 10 MiB live: 20 MiB; a 16 MiB limit with 11 MiB of
	 * spans for the 10 MiB allocated (1 MiB frag) makes it 14 MiB.
	 */
	mutex_lock(&heap->lock);
	atomic64_set(&heap->cnt.live_bytes, 10 << 20);
	gcheap_pacer_cycle_end(heap, 10 << 20, 0, 11 << 20, 1, 2);
	mutex_unlock(&heap->lock);
	KUNIT_EXPECT_EQ(test, heap->next_gc, 20ull << 20);
	req.memory_limit = 16 << 20;
	KUNIT_EXPECT_EQ(test, gcheap_pacer_setgc(heap, &req), 0);
	KUNIT_EXPECT_EQ(test, req.gogc, 100);
	KUNIT_EXPECT_EQ(test, req.memory_limit, GCHEAP_NO_LIMIT);
	KUNIT_EXPECT_EQ(test, heap->gogc, 100);
	/* 16 MiB - 1 MiB headroom (3 % = 491520 B is less) - 1 MiB frag. */
	KUNIT_EXPECT_EQ(test, heap->next_gc, 14ull << 20);

	/* A cycle that took more than the program's time between: the limit yields. */
	mutex_lock(&heap->lock);
	atomic64_set(&heap->cnt.live_bytes, 10 << 20);
	gcheap_pacer_cycle_end(heap, 10 << 20, 0, 11 << 20, 3, 2);
	KUNIT_EXPECT_EQ(test, heap->next_gc, 20ull << 20);
	gcheap_pacer_set_gogc(heap, GCHEAP_GOGC_OFF);
	KUNIT_EXPECT_EQ(test, heap->next_gc, 20ull << 20);	/* GOGC 100's */
	atomic64_set(&heap->cnt.live_bytes, 10 << 20);
	gcheap_pacer_cycle_end(heap, 10 << 20, 0, 11 << 20, 1, 2);
	KUNIT_EXPECT_EQ(test, heap->next_gc, 14ull << 20);	/* GOGC off: the limit's */
	gcheap_pacer_set_gogc(heap, 100);
	mutex_unlock(&heap->lock);

	req.flags = GCHEAP_SETGC_LIMIT | GCHEAP_SETGC_KEEP_GOGC;
	req.memory_limit = GCHEAP_NO_LIMIT;
	KUNIT_EXPECT_EQ(test, gcheap_pacer_setgc(heap, &req), 0);
	KUNIT_EXPECT_EQ(test, req.memory_limit, 16ull << 20);
	KUNIT_EXPECT_EQ(test, heap->next_gc, 20ull << 20);
}

/*
 * A thread allocating while a cycle marks pays in mark work: first with
 * the workers' credit, then by scanning itself; none of it while the
 * cycle does not mark.
 */
static void gc_test_assist(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	struct gcheap_mark *m = gcheap_mark_create(heap, 1);
	struct gcheap_m *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	unsigned long o[4];
	u64 word, ratio, owed;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, m);
	KUNIT_ASSERT_NOT_NULL(test, t);
	gcheap_test_alloc_objs(test, SPC_SCAN_32, 4, o);
	for (i = 0; i < 3; i++)
		*gcheap_test_kaddr(heap, o[i]) = o[i + 1];

	/* Not marking: nothing is owed. */
	KUNIT_EXPECT_EQ(test, gcheap_assist_alloc(heap, t, 8192), 0);
	KUNIT_EXPECT_EQ(test, t->assist_bytes, 0ll);

	mutex_lock(&heap->lock);
	rcu_assign_pointer(heap->mark, m);
	heap->last_scan_work = 1;
	mutex_unlock(&heap->lock);
	set_phase(heap, GCHEAP_PHASE_MARK);

	/* Paid from the workers' credit: owed = max(8192 x ratio / 1024, 64 KiB). */
	atomic64_set(&m->bg_credit, 1 << 20);
	ratio = gcheap_pacer_mark_ratio(heap, m);
	owed = max(8192 * ratio >> 10, GCHEAP_ASSIST_OVERWORK);
	KUNIT_EXPECT_EQ(test, gcheap_assist_alloc(heap, t, 8192), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&m->bg_credit), (s64)((1 << 20) - owed));
	KUNIT_EXPECT_EQ(test, t->assist_bytes, (s64)(owed * 1024 / ratio) - 8192);
	KUNIT_EXPECT_EQ(test, atomic64_read(&m->scan_work), 0ll);
	/* Of a batch granted short, what was not taken is credited back. */
	gcheap_assist_refund(heap, t, 4096);
	KUNIT_EXPECT_EQ(test, t->assist_bytes, (s64)(owed * 1024 / ratio) - 4096);

	/*
	 * No credit: the thread scans the chain o0 -> o3 (4 x 32 bytes),
	 * which at a ratio of 1 (one scan work expected, 4 MiB to the goal)
	 * pays 128 x 1024 bytes.
	 */
	atomic64_set(&m->bg_credit, 0);
	t->assist_bytes = 0;
	word = o[0];
	gcheap_wb_grey(heap, &word, 1);
	KUNIT_EXPECT_EQ(test, gcheap_pacer_mark_ratio(heap, m), 1ull);
	KUNIT_EXPECT_EQ(test, gcheap_assist_alloc(heap, t, 8192), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&m->scan_work), 128ll);
	KUNIT_EXPECT_EQ(test, t->assist_bytes, 128 * 1024 - 8192ll);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_TRUE(test, gcheap_marked(heap, o[i]));

	set_phase(heap, GCHEAP_PHASE_OFF);
	mutex_lock(&heap->lock);
	RCU_INIT_POINTER(heap->mark, NULL);
	heap->last_scan_work = 0;
	mutex_unlock(&heap->lock);
	gcheap_mark_close(m);
	gcheap_mark_put(m);
	gcheap_mark_clear(heap);
}

static struct kunit_case gc_test_cases[] = {
	KUNIT_CASE(gc_test_cycle),
	KUNIT_CASE(gc_test_interior),
	KUNIT_CASE(gc_test_free_slot),
	KUNIT_CASE(gc_test_noscan),
	KUNIT_CASE(gc_test_large),
	KUNIT_CASE(gc_test_cached_slots),
	KUNIT_CASE(gc_test_parallel),
	KUNIT_CASE(gc_test_overflow),
	KUNIT_CASE(gc_test_unstarted_helpers),
	KUNIT_CASE(gc_test_workbuf_size),
	KUNIT_CASE(gc_test_closed_mark),
	KUNIT_CASE(gc_test_pacer),
	KUNIT_CASE(gc_test_pacer_concurrent),
	KUNIT_CASE(gc_test_pacer_limit),
	KUNIT_CASE(gc_test_assist),
	KUNIT_CASE(gc_test_allocate_black),
	KUNIT_CASE(gc_test_work_after_drain),
	{}
};

static struct kunit_suite gc_test_suite = {
	.name = "gcheap_gc",
	.init = gcheap_test_heap_init,
	.exit = gcheap_test_heap_exit,
	.test_cases = gc_test_cases,
};

kunit_test_suite(gc_test_suite);
