// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the scavenger's target arithmetic, and the arena's pages as the
 * scavenger, the hard limit and growth move them: after every step the
 * page allocator's scavenged bitmap, the arena's page array, the heap's
 * resident count and the module's counters must tell one story.
 */
#include <kunit/test.h>
#include "testheap.h"
#include "arena.h"
#include "scavenge.h"

#define MiB	BIT_ULL(20)
#define PG	GCHEAP_PAGE_SIZE
#define SUB	(GCHEAP_PAGE_SIZE / PAGE_SIZE)

static void scav_test_target(struct kunit *test)
{
	const u64 none = GCHEAP_NO_LIMIT;

	/* The goal plus 10 %; the spans' bytes where more than the goal. */
	KUNIT_EXPECT_EQ(test, gcheap_scavenge_target(100 * MiB, 50 * MiB, none, none, 10),
			110 * MiB);
	KUNIT_EXPECT_EQ(test, gcheap_scavenge_target(100 * MiB, 200 * MiB, none, none, 10),
			220 * MiB);
	KUNIT_EXPECT_EQ(test, gcheap_scavenge_target(100 * MiB, 50 * MiB, none, none, 0),
			100 * MiB);
	/* 95 % of either limit caps it. */
	KUNIT_EXPECT_EQ(test, gcheap_scavenge_target(100 * MiB, 50 * MiB, 100 * MiB, none, 10),
			95 * MiB);
	KUNIT_EXPECT_EQ(test, gcheap_scavenge_target(100 * MiB, 50 * MiB, none, 40 * MiB, 10),
			38 * MiB);
	KUNIT_EXPECT_EQ(test, gcheap_scavenge_target(100 * MiB, 50 * MiB, 60 * MiB, 40 * MiB, 10),
			38 * MiB);
	/* GOGC off: no target, unless a limit gives one. */
	KUNIT_EXPECT_EQ(test, gcheap_scavenge_target(U64_MAX, 50 * MiB, none, none, 10), U64_MAX);
	KUNIT_EXPECT_EQ(test, gcheap_scavenge_target(U64_MAX, 50 * MiB, 1000 * MiB, none, 10),
			950 * MiB);
	/* No overflow near the top. */
	KUNIT_EXPECT_EQ(test, gcheap_scavenge_target(U64_MAX - 5, 0, none, none, 10), U64_MAX);
}

/* Every page's memory agrees with the bitmaps and the counts. */
static void check_pages(struct kunit *test, struct gcheap *heap)
{
	unsigned long pg, present = 0;

	for (pg = 0; pg < heap->npages; pg++) {
		struct gcheap_chunk *c = gcheap_arena_chunk(heap, pg);
		bool has = c && c->pages[pg % GCHEAP_CHUNK_PAGES];
		bool used = test_bit(pg, heap->pa.inuse);
		bool scav = test_bit(pg, heap->pa.scavenged);

		present += has;
		if (used ? !has : has == scav)
			KUNIT_FAIL(test, "page %lu: memory %d, in use %d, scavenged %d",
				   pg, has, used, scav);
	}
	KUNIT_EXPECT_EQ(test, heap->resident_pages, present);
	KUNIT_EXPECT_EQ(test, heap->resident_pages, heap->npages - heap->pa.scav_pages);
	KUNIT_EXPECT_EQ(test, heap->counted_idle,
			(long)(heap->pa.free_pages - heap->pa.scav_pages) * SUB);
}

static long alloc_pages_of(struct gcheap *heap, unsigned long n, bool *reused)
{
	long ret;

	mutex_lock(&heap->lock);
	ret = gcheap_arena_alloc(heap, n, reused);
	mutex_unlock(&heap->lock);
	return ret;
}

static void scav_test_pages(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	long held0 = gcheap_arena_pages_held(), idle0 = gcheap_arena_pages_idle();
	bool reused = true;

	check_pages(test, heap);
	KUNIT_ASSERT_EQ(test, heap->pa.scav_pages, heap->npages);
	KUNIT_ASSERT_EQ(test, alloc_pages_of(heap, 30, &reused), 0l);
	KUNIT_EXPECT_FALSE(test, reused);
	KUNIT_EXPECT_EQ(test, heap->resident_pages, 30ul);
	KUNIT_EXPECT_EQ(test, gcheap_arena_pages_held() - held0, 30l * SUB);
	check_pages(test, heap);

	/* Freed, the pages keep their memory: idle. */
	mutex_lock(&heap->lock);
	gcheap_arena_free(heap, 0, 30);
	mutex_unlock(&heap->lock);
	KUNIT_EXPECT_EQ(test, gcheap_arena_pages_idle() - idle0, 30l * SUB);
	check_pages(test, heap);

	/* The highest idle pages go first. */
	mutex_lock(&heap->lock);
	KUNIT_EXPECT_EQ(test, gcheap_scavenge_locked(heap, 7, GCHEAP_SCAV_SYNC), 7ul);
	mutex_unlock(&heap->lock);
	KUNIT_EXPECT_EQ(test, find_first_bit(heap->pa.scavenged, heap->npages), 23ul);
	KUNIT_EXPECT_EQ(test, heap->resident_pages, 23ul);
	KUNIT_EXPECT_EQ(test, heap->scav.released[GCHEAP_SCAV_SYNC], 7ull * PG);
	KUNIT_EXPECT_EQ(test, gcheap_arena_pages_held() - held0, 23l * SUB);
	KUNIT_EXPECT_EQ(test, gcheap_arena_pages_idle() - idle0, 23l * SUB);
	check_pages(test, heap);

	/* Allocated again: old pages reused (not zero), new ones fetched. */
	KUNIT_ASSERT_EQ(test, alloc_pages_of(heap, 30, &reused), 0l);
	KUNIT_EXPECT_TRUE(test, reused);
	KUNIT_EXPECT_EQ(test, heap->resident_pages, 30ul);
	KUNIT_EXPECT_EQ(test, gcheap_arena_pages_idle() - idle0, 0l);
	check_pages(test, heap);

	/* Nothing idle: nothing to scavenge. */
	mutex_lock(&heap->lock);
	KUNIT_EXPECT_EQ(test, gcheap_scavenge_locked(heap, 100, GCHEAP_SCAV_SHRINKER), 0ul);
	gcheap_arena_free(heap, 0, 30);
	mutex_unlock(&heap->lock);
	check_pages(test, heap);
}

/* memory_max: growth gives idle memory back first, then fails, heap intact. */
static void scav_test_memory_max(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	unsigned long free_pages;
	bool reused;

	KUNIT_ASSERT_EQ(test, alloc_pages_of(heap, 10, &reused), 0l);	/* A */
	KUNIT_ASSERT_EQ(test, alloc_pages_of(heap, 10, &reused), 10l);	/* B */
	mutex_lock(&heap->lock);
	KUNIT_EXPECT_EQ(test, gcheap_scavenge_set_max(heap, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, gcheap_scavenge_set_max(heap, 20 * PG), 0);
	gcheap_arena_free(heap, 0, 10);		/* A idle */
	mutex_unlock(&heap->lock);
	free_pages = heap->pa.free_pages;

	/* 15 new pages at [20, 35): A's 10 go back, and still 25 > 20. */
	KUNIT_EXPECT_EQ(test, alloc_pages_of(heap, 15, &reused), (long)-ENOMEM);
	KUNIT_EXPECT_EQ(test, heap->pa.free_pages, free_pages);
	KUNIT_EXPECT_EQ(test, heap->resident_pages, 10ul);
	KUNIT_EXPECT_EQ(test, heap->scav.released[GCHEAP_SCAV_SYNC], 10ull * PG);
	KUNIT_EXPECT_TRUE(test, test_bit(20, heap->pa.scavenged));
	check_pages(test, heap);

	/* 8 fit: 18 <= 20. */
	KUNIT_EXPECT_EQ(test, alloc_pages_of(heap, 8, &reused), 0l);
	KUNIT_EXPECT_EQ(test, heap->resident_pages, 18ul);
	check_pages(test, heap);

	/* A lower limit gives idle pages back at once. */
	mutex_lock(&heap->lock);
	gcheap_arena_free(heap, 10, 10);	/* B idle */
	KUNIT_EXPECT_EQ(test, gcheap_scavenge_set_max(heap, 12 * PG), 0);
	mutex_unlock(&heap->lock);
	KUNIT_EXPECT_EQ(test, heap->resident_pages, 12ul);
	check_pages(test, heap);
	mutex_lock(&heap->lock);
	gcheap_arena_free(heap, 0, 8);
	mutex_unlock(&heap->lock);
	check_pages(test, heap);
}

static struct kunit_case scavenge_test_cases[] = {
	KUNIT_CASE(scav_test_target),
	KUNIT_CASE(scav_test_pages),
	KUNIT_CASE(scav_test_memory_max),
	{}
};

static struct kunit_suite scavenge_test_suite = {
	.name = "gcheap_scavenge",
	.init = gcheap_test_heap_init,
	.exit = gcheap_test_heap_exit,
	.test_cases = scavenge_test_cases,
};

kunit_test_suite(scavenge_test_suite);
