// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for the write barrier's kernel side (wbuf.c): draining a
 * barrier buffer greys exactly the heap objects its words name, old and
 * new values alike, interior pointers and large objects included, and
 * nothing for words outside the heap, free slots, a span's unused tail or
 * a chunk never used; greyed objects are scanned (their children marked),
 * also when the mark has no work buffer (the overflow rescan); a drain
 * while no cycle marks, or into a closed mark, changes nothing; the phase
 * turns the barrier on for a CONCURRENT heap only, and the mode is fixed
 * once the heap is mapped.
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include "testheap.h"
#include "large.h"
#include "arena.h"
#include "span.h"
#include "mark.h"
#include "sweep.h"
#include "wbuf.h"

/* 48 B scan objects: 170 slots in one heap page, a 32 B tail after them. */
#define SPC_SCAN_48	GCHEAP_SPANCLASS(5, 0)
#define NELEMS_48	170

/* A cycle marking concurrently as far as wbuf.c can tell: phase MARK, a mark. */
static struct gcheap_mark *start_marking(struct kunit *test, unsigned int max_bufs)
{
	struct gcheap *heap = test->priv;
	struct gcheap_mark *m = gcheap_mark_create(heap, 1);

	KUNIT_ASSERT_NOT_NULL(test, m);
	m->max_bufs = max_bufs;
	mutex_lock(&heap->lock);
	rcu_assign_pointer(heap->mark, m);	/* the collector's reference */
	gcheap_wb_set_phase(heap, GCHEAP_PHASE_MARK);
	mutex_unlock(&heap->lock);
	return m;
}

/* Blacken what was greyed, report the bytes marked, and end the cycle. */
static u64 finish_marking(struct kunit *test, struct gcheap_mark *m)
{
	struct gcheap *heap = test->priv;
	u64 bytes;

	gcheap_mark_drain(m);
	bytes = atomic64_read(&m->marked_bytes);
	mutex_lock(&heap->lock);
	RCU_INIT_POINTER(heap->mark, NULL);
	gcheap_wb_set_phase(heap, GCHEAP_PHASE_OFF);
	mutex_unlock(&heap->lock);
	gcheap_mark_close(m);
	gcheap_mark_put(m);
	return bytes;
}

static unsigned long alloc_large(struct kunit *test, size_t bytes)
{
	struct gcheap_large req = { .bytes = bytes };

	KUNIT_ASSERT_EQ(test, gcheap_large_alloc(test->priv, &req), 0);
	return req.base;
}

/* Mark bits set in the span holding @addr. */
static unsigned int span_marks(struct gcheap *heap, unsigned long addr)
{
	struct gcheap_span *span;
	unsigned int n = 0;

	rcu_read_lock();
	span = gcheap_arena_span_of(heap, addr);
	if (span)
		n = bitmap_weight(gcheap_span_mark_bits(span), span->nelems);
	rcu_read_unlock();
	return n;
}

static void wbuf_test_greys_named(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	unsigned long o[6], big, sbase, end;
	struct gcheap_mark *m;
	u64 words[14];
	u64 bytes;

	gcheap_test_alloc_objs(test, SPC_SCAN_48, 6, o);
	big = alloc_large(test, 40000);
	sbase = o[0] & ~(GCHEAP_PAGE_SIZE - 1);
	end = heap->base + (heap->npages << GCHEAP_PAGE_SHIFT);
	KUNIT_ASSERT_EQ(test, o[5], sbase + 5 * 48);
	/* o[1] -> o[4]: a greyed object is scanned. o[3] -> o[5]: o[3] is not named. */
	*gcheap_test_kaddr(heap, o[1] + 8) = o[4];
	*gcheap_test_kaddr(heap, o[3]) = o[5];

	/* Pairs as the library records them: old value, new value. */
	words[0] = o[0];			/* old */
	words[1] = o[1];			/* new */
	words[2] = o[2] + 17;			/* old, interior */
	words[3] = 0;				/* new: nil */
	words[4] = big + 30000;			/* old, deep in a large object */
	words[5] = 1;				/* new: not a pointer */
	words[6] = sbase + 6 * 48;		/* a free slot */
	words[7] = sbase + NELEMS_48 * 48 + 8;	/* the span's unused tail */
	words[8] = heap->base - 8;		/* just below the heap */
	words[9] = end;				/* just past it */
	words[10] = heap->base + GCHEAP_CHUNK_SIZE + 64;	/* a chunk never used */
	words[11] = 0xffff888000001000ULL;	/* a kernel address */
	words[12] = U64_MAX;
	words[13] = o[1];			/* the same object twice */

	m = start_marking(test, 1024);
	gcheap_wb_grey(heap, words, ARRAY_SIZE(words));
	gcheap_mark_drain(m);
	KUNIT_EXPECT_TRUE(test, gcheap_marked(heap, o[0]));
	KUNIT_EXPECT_TRUE(test, gcheap_marked(heap, o[1]));
	KUNIT_EXPECT_TRUE(test, gcheap_marked(heap, o[2]));
	KUNIT_EXPECT_FALSE(test, gcheap_marked(heap, o[3]));
	KUNIT_EXPECT_TRUE(test, gcheap_marked(heap, o[4]));
	KUNIT_EXPECT_FALSE(test, gcheap_marked(heap, o[5]));
	KUNIT_EXPECT_FALSE(test, gcheap_marked(heap, sbase + 6 * 48));
	KUNIT_EXPECT_TRUE(test, gcheap_marked(heap, big));
	/* Exactly those: four small objects in the span, and the large one. */
	KUNIT_EXPECT_EQ(test, span_marks(heap, o[0]), 4u);
	bytes = finish_marking(test, m);
	KUNIT_EXPECT_EQ(test, bytes, 4ull * 48 + 5 * GCHEAP_PAGE_SIZE);
}

/* With no work buffer at all, greyed objects are still scanned (rescan). */
static void wbuf_test_overflow(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	struct gcheap_mark *m;
	unsigned long o[4];
	u64 words[2];

	gcheap_test_alloc_objs(test, SPC_SCAN_48, 4, o);
	*gcheap_test_kaddr(heap, o[0]) = o[1];
	*gcheap_test_kaddr(heap, o[1]) = o[2];
	words[0] = o[3];	/* old */
	words[1] = o[0];	/* new */
	m = start_marking(test, 0);
	gcheap_wb_grey(heap, words, ARRAY_SIZE(words));
	gcheap_mark_drain(m);
	KUNIT_EXPECT_GT(test, m->overflows, 0u);
	KUNIT_EXPECT_TRUE(test, gcheap_marked(heap, o[0]));
	KUNIT_EXPECT_TRUE(test, gcheap_marked(heap, o[1]));
	KUNIT_EXPECT_TRUE(test, gcheap_marked(heap, o[2]));
	KUNIT_EXPECT_TRUE(test, gcheap_marked(heap, o[3]));
	KUNIT_EXPECT_EQ(test, finish_marking(test, m), 4ull * 48);
}

/*
 * No cycle marking: no mark at all, or a stop-the-world cycle's mark with
 * the phase OFF, or a mark already closed. The words change nothing.
 */
static void wbuf_test_not_marking(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	struct gcheap_mark *m;
	unsigned long o[2];
	u64 words[2];

	gcheap_test_alloc_objs(test, SPC_SCAN_48, 2, o);
	words[0] = o[0];
	words[1] = o[1];
	gcheap_wb_grey(heap, words, ARRAY_SIZE(words));
	KUNIT_EXPECT_EQ(test, span_marks(heap, o[0]), 0u);

	m = start_marking(test, 1024);
	mutex_lock(&heap->lock);
	gcheap_wb_set_phase(heap, GCHEAP_PHASE_OFF);
	mutex_unlock(&heap->lock);
	gcheap_wb_grey(heap, words, ARRAY_SIZE(words));
	KUNIT_EXPECT_EQ(test, span_marks(heap, o[0]), 0u);

	mutex_lock(&heap->lock);
	gcheap_wb_set_phase(heap, GCHEAP_PHASE_MARK);
	mutex_unlock(&heap->lock);
	gcheap_mark_close(m);
	gcheap_wb_grey(heap, words, ARRAY_SIZE(words));
	KUNIT_EXPECT_EQ(test, span_marks(heap, o[0]), 0u);
	KUNIT_EXPECT_EQ(test, finish_marking(test, m), 0ull);
	/* Nothing kept: both objects die in the next sweep. */
	mutex_lock(&heap->lock);
	WRITE_ONCE(heap->sweepgen, heap->sweepgen + 2);
	mutex_unlock(&heap->lock);
	gcheap_sweep_all(heap);
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_objects), 0ull);
}

/* The barrier is on in a marking phase of a CONCURRENT heap, only. */
static void wbuf_test_phase_and_mode(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	struct gcheap_mode req = { .mode = GCHEAP_MODE_CONCURRENT };
	static const u32 phases[] = { GCHEAP_PHASE_MARK, GCHEAP_PHASE_MARKTERM, GCHEAP_PHASE_OFF };
	unsigned int i;

	KUNIT_EXPECT_EQ(test, heap->ctrl->gc_phase, (u32)GCHEAP_PHASE_OFF);
	KUNIT_EXPECT_EQ(test, heap->ctrl->wb_enabled, 0u);
	KUNIT_EXPECT_EQ(test, heap->ctrl->gc_mode, (u32)GCHEAP_MODE_STW);
	/* The test heap is mapped: too late to change the promise. */
	KUNIT_EXPECT_EQ(test, gcheap_wb_set_mode(heap, &req), -EBUSY);
	KUNIT_EXPECT_EQ(test, heap->ctrl->gc_mode, (u32)GCHEAP_MODE_STW);
	req.mode = 2;
	KUNIT_EXPECT_EQ(test, gcheap_wb_set_mode(heap, &req), -EINVAL);
	req.mode = GCHEAP_MODE_STW;
	req.flags = 1;
	KUNIT_EXPECT_EQ(test, gcheap_wb_set_mode(heap, &req), -EINVAL);

	mutex_lock(&heap->lock);
	for (i = 0; i < ARRAY_SIZE(phases); i++) {
		gcheap_wb_set_phase(heap, phases[i]);
		KUNIT_EXPECT_EQ(test, heap->ctrl->gc_phase, phases[i]);
		KUNIT_EXPECT_EQ(test, heap->ctrl->wb_enabled, 0u);
	}
	/* As if set before mapping. */
	heap->ctrl->gc_mode = GCHEAP_MODE_CONCURRENT;
	for (i = 0; i < ARRAY_SIZE(phases); i++) {
		gcheap_wb_set_phase(heap, phases[i]);
		KUNIT_EXPECT_EQ(test, heap->ctrl->wb_enabled,
				phases[i] != GCHEAP_PHASE_OFF ? 1u : 0u);
	}
	mutex_unlock(&heap->lock);
}

static struct kunit_case wbuf_test_cases[] = {
	KUNIT_CASE(wbuf_test_greys_named),
	KUNIT_CASE(wbuf_test_overflow),
	KUNIT_CASE(wbuf_test_not_marking),
	KUNIT_CASE(wbuf_test_phase_and_mode),
	{}
};

static struct kunit_suite wbuf_test_suite = {
	.name = "gcheap_wbuf",
	.init = gcheap_test_heap_init,
	.exit = gcheap_test_heap_exit,
	.test_cases = wbuf_test_cases,
};

kunit_test_suite(wbuf_test_suite);
