// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for spans and central lists: hand-out and give-back of spans
 * with their accounting, validation of give-backs, early frees, zeroing of
 * reused slots, and the object index of every class. The heap here has an
 * arena but no user mapping (KUnit on 6.1 cannot make a user mm).
 */
#include <kunit/test.h>
#include <linux/err.h>
#include <linux/mm.h>
#include "central.h"
#include "arena.h"
#include "testheap.h"

#define SPC_48		GCHEAP_SPANCLASS(5, 0)	/* 48 B, 170 slots, 1 page */

static unsigned long pages_in_use(struct gcheap *heap)
{
	return heap->npages - heap->pa.free_pages;
}

/* A give-back of @span keeping the first @keep of its cache's slots. */
static void unused_except_first(struct gcheap_span *span, unsigned int keep, u64 *unused)
{
	DECLARE_BITMAP(bits, GCHEAP_MAX_SPAN_ELEMS);
	unsigned int i, kept = 0;

	bitmap_copy(bits, gcheap_span_cache_free(span), span->nelems);
	for (i = 0; i < span->nelems && kept < keep; i++)
		if (test_bit(i, bits)) {
			__clear_bit(i, bits);
			kept++;
		}
	memset(unused, 0, GCHEAP_SPAN_BITS_WORDS * sizeof(u64));
	bitmap_to_arr64(unused, bits, span->nelems);
}

static struct gcheap_span *cache(struct kunit *test, u8 spc)
{
	struct gcheap *heap = test->priv;
	struct gcheap_span *span;
	bool fresh;

	mutex_lock(&heap->lock);
	span = gcheap_central_cache_span(heap, spc, NULL, &fresh);
	mutex_unlock(&heap->lock);
	KUNIT_ASSERT_FALSE(test, IS_ERR(span));
	return span;
}

static int give_back(struct kunit *test, u64 base, const u64 *unused)
{
	struct gcheap *heap = test->priv;
	struct gcheap_span_return ret = { .base = base };
	struct gcheap_span *span;

	memcpy(ret.free, unused, sizeof(ret.free));
	mutex_lock(&heap->lock);
	span = gcheap_central_check_return(heap, NULL, &ret);
	if (!IS_ERR(span))
		gcheap_central_uncache_span(heap, span, ret.free);
	mutex_unlock(&heap->lock);
	return PTR_ERR_OR_ZERO(span);
}

static void central_test_handout_accounting(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	struct gcheap_span *span = cache(test, SPC_48), *again;
	u64 unused[GCHEAP_SPAN_BITS_WORDS];
	u64 base = gcheap_span_base(heap, span);

	KUNIT_EXPECT_EQ(test, span->nelems, 170);
	KUNIT_EXPECT_EQ(test, span->state, GCHEAP_SPAN_CACHED);
	KUNIT_EXPECT_EQ(test, bitmap_weight(gcheap_span_cache_free(span), 170), 170u);
	KUNIT_EXPECT_EQ(test, heap->alloc_bytes, 170ull * 48);
	KUNIT_EXPECT_EQ(test, heap->alloc_objects, 170ull);
	KUNIT_EXPECT_EQ(test, heap->spans_inuse, 1ul);
	KUNIT_EXPECT_EQ(test, heap->spans_cached, 1ul);
	KUNIT_EXPECT_EQ(test, heap->resident_pages, 1ul);
	KUNIT_EXPECT_EQ(test, pages_in_use(heap), 1ul);

	/* Keep 3 objects: the span becomes partial and counts 3 objects. */
	unused_except_first(span, 3, unused);
	KUNIT_ASSERT_EQ(test, give_back(test, base, unused), 0);
	KUNIT_EXPECT_EQ(test, span->state, GCHEAP_SPAN_INUSE);
	KUNIT_EXPECT_EQ(test, span->alloc_count, 3);
	KUNIT_EXPECT_EQ(test, heap->alloc_bytes, 3ull * 48);
	KUNIT_EXPECT_EQ(test, heap->alloc_objects, 3ull);
	KUNIT_EXPECT_EQ(test, heap->spans_cached, 0ul);

	/* The partial span comes back, its 3 objects not offered again. */
	again = cache(test, SPC_48);
	KUNIT_EXPECT_PTR_EQ(test, again, span);
	KUNIT_EXPECT_EQ(test, bitmap_weight(gcheap_span_cache_free(span), 170), 167u);
	KUNIT_EXPECT_FALSE(test, test_bit(0, gcheap_span_cache_free(span)));
	KUNIT_EXPECT_EQ(test, heap->alloc_bytes, 170ull * 48);

	/* Given back with nothing used, 3 remain; freeing them frees the span. */
	unused_except_first(span, 0, unused);
	KUNIT_ASSERT_EQ(test, give_back(test, base, unused), 0);
	KUNIT_EXPECT_EQ(test, heap->alloc_objects, 3ull);
	mutex_lock(&heap->lock);
	KUNIT_EXPECT_EQ(test, gcheap_central_free_object(heap, span, 0), 0);
	KUNIT_EXPECT_EQ(test, gcheap_central_free_object(heap, span, 0), -ENOENT);
	KUNIT_EXPECT_EQ(test, gcheap_central_free_object(heap, span, 1), 0);
	KUNIT_EXPECT_EQ(test, gcheap_central_free_object(heap, span, 2), 0);
	mutex_unlock(&heap->lock);
	KUNIT_EXPECT_EQ(test, heap->alloc_bytes, 0ull);
	KUNIT_EXPECT_EQ(test, heap->spans_inuse, 0ul);
	KUNIT_EXPECT_EQ(test, pages_in_use(heap), 0ul);
	KUNIT_EXPECT_EQ(test, heap->frees, 3ull);
}

static void central_test_bad_give_back(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	struct gcheap_span *span = cache(test, SPC_48);
	u64 base = gcheap_span_base(heap, span);
	u64 unused[GCHEAP_SPAN_BITS_WORDS];
	u64 bytes;

	unused_except_first(span, 10, unused);
	KUNIT_ASSERT_EQ(test, give_back(test, base, unused), 0);
	span = cache(test, SPC_48);
	bytes = heap->alloc_bytes;

	/* Slot 0 was allocated at hand-out: the cache cannot return it. */
	unused_except_first(span, 0, unused);
	unused[0] |= 1;
	KUNIT_EXPECT_EQ(test, give_back(test, base, unused), -EINVAL);
	/* A slot past the last one. */
	unused_except_first(span, 0, unused);
	unused[170 / 64] |= 1ull << (170 % 64);
	KUNIT_EXPECT_EQ(test, give_back(test, base, unused), -EINVAL);
	/* Not a span's first byte, and no span at all. */
	unused_except_first(span, 0, unused);
	KUNIT_EXPECT_EQ(test, give_back(test, base + 48, unused), -ENOENT);
	KUNIT_EXPECT_EQ(test, give_back(test, base + GCHEAP_PAGE_SIZE, unused), -ENOENT);
	/* Nothing changed by any of them. */
	KUNIT_EXPECT_EQ(test, span->state, GCHEAP_SPAN_CACHED);
	KUNIT_EXPECT_EQ(test, heap->alloc_bytes, bytes);
	KUNIT_EXPECT_EQ(test, heap->spans_cached, 1ul);
	KUNIT_EXPECT_EQ(test, give_back(test, base, unused), 0);
	/* A span nobody holds. */
	KUNIT_EXPECT_EQ(test, give_back(test, base, unused), -ENOENT);
}

static void central_test_full_and_busy(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	struct gcheap_span *full = cache(test, SPC_48), *next;
	u64 unused[GCHEAP_SPAN_BITS_WORDS] = { 0 };

	/* Everything used: the span is full and no cache gets it again. */
	KUNIT_ASSERT_EQ(test, give_back(test, gcheap_span_base(heap, full), unused), 0);
	KUNIT_EXPECT_EQ(test, full->alloc_count, 170);
	next = cache(test, SPC_48);
	KUNIT_EXPECT_PTR_NE(test, next, full);
	KUNIT_EXPECT_EQ(test, heap->spans_inuse, 2ul);

	mutex_lock(&heap->lock);
	/* A slot the cache owns is the cache's to free. */
	KUNIT_EXPECT_EQ(test, gcheap_central_free_object(heap, next, 5), -EBUSY);
	/* Freeing from the full span makes it partial: the next refill takes it. */
	KUNIT_EXPECT_EQ(test, gcheap_central_free_object(heap, full, 7), 0);
	KUNIT_EXPECT_TRUE(test, full->needzero);
	mutex_unlock(&heap->lock);
	unused_except_first(next, 0, unused);
	KUNIT_ASSERT_EQ(test, give_back(test, gcheap_span_base(heap, next), unused), 0);
	KUNIT_EXPECT_EQ(test, heap->spans_inuse, 1ul);
	KUNIT_EXPECT_PTR_EQ(test, cache(test, SPC_48), full);
	KUNIT_EXPECT_EQ(test, bitmap_weight(gcheap_span_cache_free(full), 170), 1u);
	KUNIT_EXPECT_TRUE(test, test_bit(7, gcheap_span_cache_free(full)));
}

static void central_test_reused_slots_zeroed(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	struct gcheap_span *span = cache(test, SPC_48);
	u64 unused[GCHEAP_SPAN_BITS_WORDS] = { 0 };
	u8 *mem = page_address(heap->chunks[0]->pages[span->start]);
	unsigned int i, dirty;

	/* The "program" fills every slot, gives the span back full... */
	memset(mem, 0xa5, 170 * 48);
	KUNIT_ASSERT_EQ(test, give_back(test, gcheap_span_base(heap, span), unused), 0);
	/* ...frees two objects early, and a cache takes the span again. */
	mutex_lock(&heap->lock);
	KUNIT_EXPECT_EQ(test, gcheap_central_free_object(heap, span, 3), 0);
	KUNIT_EXPECT_EQ(test, gcheap_central_free_object(heap, span, 169), 0);
	mutex_unlock(&heap->lock);
	KUNIT_ASSERT_PTR_EQ(test, cache(test, SPC_48), span);
	/* One expectation, not 96: KUnit keeps only 512 bytes of log a case. */
	for (i = 0, dirty = 0; i < 48; i++)
		dirty += mem[3 * 48 + i] != 0 || mem[169 * 48 + i] != 0;
	KUNIT_EXPECT_EQ(test, dirty, 0u);
	/* Live objects around them keep their bytes. */
	KUNIT_EXPECT_EQ(test, mem[2 * 48 + 47], 0xa5);
	KUNIT_EXPECT_EQ(test, mem[4 * 48], 0xa5);
	KUNIT_EXPECT_FALSE(test, span->needzero);
}

static void central_test_obj_index(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	unsigned int c;

	/* Every class: exact object starts map to their index, nothing else. */
	for (c = 1; c < GCHEAP_NUM_SIZE_CLASSES; c++) {
		struct gcheap_span *span = cache(test, GCHEAP_SPANCLASS(c, 1));
		u64 base = gcheap_span_base(heap, span);
		u64 unused[GCHEAP_SPAN_BITS_WORDS];
		unsigned int i, bad = 0;

		for (i = 0; i < span->nelems; i++) {
			bad += gcheap_span_obj_index(heap, span, base + i * span->elemsize) != i;
			bad += gcheap_span_obj_index(heap, span, base + i * span->elemsize + 1) !=
			       -ENOENT;
		}
		/* The tail past the last object holds none. */
		bad += gcheap_span_obj_index(heap, span, base + span->nelems * span->elemsize) !=
		       -ENOENT;
		KUNIT_EXPECT_EQ_MSG(test, bad, 0u, "class %u", c);
		unused_except_first(span, 0, unused);
		KUNIT_ASSERT_EQ(test, give_back(test, base, unused), 0);
	}
	KUNIT_EXPECT_EQ(test, heap->spans_inuse, 0ul);
	KUNIT_EXPECT_EQ(test, pages_in_use(heap), 0ul);
}

static struct kunit_case central_test_cases[] = {
	KUNIT_CASE(central_test_handout_accounting),
	KUNIT_CASE(central_test_bad_give_back),
	KUNIT_CASE(central_test_full_and_busy),
	KUNIT_CASE(central_test_reused_slots_zeroed),
	KUNIT_CASE(central_test_obj_index),
	{}
};

static struct kunit_suite central_test_suite = {
	.name = "gcheap_central",
	.init = gcheap_test_heap_init,
	.exit = gcheap_test_heap_exit,
	.test_cases = central_test_cases,
};

kunit_test_suite(central_test_suite);
