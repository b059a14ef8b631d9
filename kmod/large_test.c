// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: large objects. A caller killed while its object is populated or
 * zeroed (a large object can be most of the heap) must fail at once with
 * -EINTR and leave the heap as it was.
 */
#include <kunit/test.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include "testheap.h"
#include "large.h"
#include "arena.h"
#include "span.h"

/* Make SIGKILL pending on this (KUnit's) kthread, as a kill would. */
static void kill_self(void)
{
	allow_signal(SIGKILL);
	send_sig(SIGKILL, current, 1);
}

static void unkill_self(void)
{
	flush_signals(current);
	disallow_signal(SIGKILL);
}

struct heap_state {
	unsigned long large_objects, free_pages, resident_pages;
	u64 alloc_bytes, large_allocs;
};

static struct heap_state state_of(struct gcheap *heap)
{
	struct heap_state s;

	mutex_lock(&heap->lock);
	s.large_objects = CNT(heap, large_objects);
	s.free_pages = heap->pa.free_pages;
	s.resident_pages = heap->resident_pages;
	s.alloc_bytes = CNT(heap, alloc_bytes);
	s.large_allocs = CNT(heap, large_allocs);
	mutex_unlock(&heap->lock);
	return s;
}

static void large_test_killed(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	struct gcheap_large req = { .size = sizeof(req), .bytes = 64 * GCHEAP_PAGE_SIZE };
	struct heap_state before, after;
	struct gcheap_span *span;
	int ret;

	/* Fresh pages: killed while populating. */
	before = state_of(heap);
	kill_self();
	KUNIT_EXPECT_TRUE(test, fatal_signal_pending(current));
	ret = gcheap_large_alloc(heap, &req);
	unkill_self();
	KUNIT_EXPECT_EQ(test, ret, -EINTR);
	after = state_of(heap);
	KUNIT_EXPECT_EQ(test, memcmp(&before, &after, sizeof(before)), 0);

	/* Pages an object freed: killed while zeroing them. */
	KUNIT_ASSERT_EQ(test, gcheap_large_alloc(heap, &req), 0);
	memset(page_address(heap->chunks[0]->pages[0]), 0xaa, 16);
	rcu_read_lock();
	span = gcheap_arena_span_of(heap, req.base);
	ret = span ? gcheap_large_free(heap, span) : -ENOENT;
	rcu_read_unlock();
	gcheap_span_free_dead(heap);
	KUNIT_ASSERT_EQ(test, ret, 0);
	before = state_of(heap);
	req = (struct gcheap_large){ .size = sizeof(req), .bytes = 64 * GCHEAP_PAGE_SIZE };
	kill_self();
	ret = gcheap_large_alloc(heap, &req);
	unkill_self();
	KUNIT_EXPECT_EQ(test, ret, -EINTR);
	after = state_of(heap);
	KUNIT_EXPECT_EQ(test, memcmp(&before, &after, sizeof(before)), 0);

	/* The heap still works, and the object it hands out is zeroed. */
	KUNIT_ASSERT_EQ(test, gcheap_large_alloc(heap, &req), 0);
	KUNIT_EXPECT_EQ(test, req.base, TEST_BASE);
	KUNIT_EXPECT_NULL(test, memchr_inv(page_address(heap->chunks[0]->pages[0]), 0, 16));
}

static struct kunit_case large_test_cases[] = {
	KUNIT_CASE(large_test_killed),
	{}
};

static struct kunit_suite large_test_suite = {
	.name = "gcheap_large",
	.init = gcheap_test_heap_init,
	.exit = gcheap_test_heap_exit,
	.test_cases = large_test_cases,
};

kunit_test_suite(large_test_suite);
