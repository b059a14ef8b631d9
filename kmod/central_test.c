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
#include <linux/kthread.h>
#include <linux/completion.h>
#include "central.h"
#include "sweep.h"
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

	span = gcheap_central_cache_span(heap, spc, NULL, &fresh);
	KUNIT_ASSERT_FALSE(test, IS_ERR(span));
	return span;
}

static int give_back(struct kunit *test, u64 base, const u64 *unused)
{
	struct gcheap *heap = test->priv;
	struct gcheap_span_return ret = { .base = base };
	struct gcheap_span *span;

	memcpy(ret.free, unused, sizeof(ret.free));
	span = gcheap_central_check_return(heap, NULL, &ret);
	if (!IS_ERR(span))
		gcheap_central_uncache_span(heap, span, ret.free);
	gcheap_span_free_dead(heap);
	return PTR_ERR_OR_ZERO(span);
}

/* GCHEAP_IOC_FREE of slot @idx, as the ioctl does it. */
static int free_obj(struct gcheap *heap, struct gcheap_span *span, unsigned long idx)
{
	int ret;

	rcu_read_lock();
	ret = gcheap_central_free_object(heap, span, idx);
	rcu_read_unlock();
	gcheap_span_free_dead(heap);
	return ret;
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
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_bytes), 170ull * 48);
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_objects), 170ull);
	KUNIT_EXPECT_EQ(test, CNT(heap, spans_inuse), 1ull);
	KUNIT_EXPECT_EQ(test, CNT(heap, spans_cached), 1ull);
	KUNIT_EXPECT_EQ(test, heap->resident_pages, 1ul);
	KUNIT_EXPECT_EQ(test, pages_in_use(heap), 1ul);

	/* Keep 3 objects: the span becomes partial and counts 3 objects. */
	unused_except_first(span, 3, unused);
	KUNIT_ASSERT_EQ(test, give_back(test, base, unused), 0);
	KUNIT_EXPECT_EQ(test, span->state, GCHEAP_SPAN_INUSE);
	KUNIT_EXPECT_EQ(test, span->alloc_count, 3);
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_bytes), 3ull * 48);
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_objects), 3ull);
	KUNIT_EXPECT_EQ(test, CNT(heap, spans_cached), 0ull);

	/* The partial span comes back, its 3 objects not offered again. */
	again = cache(test, SPC_48);
	KUNIT_EXPECT_PTR_EQ(test, again, span);
	KUNIT_EXPECT_EQ(test, bitmap_weight(gcheap_span_cache_free(span), 170), 167u);
	KUNIT_EXPECT_FALSE(test, test_bit(0, gcheap_span_cache_free(span)));
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_bytes), 170ull * 48);

	/* Given back with nothing used, 3 remain; freeing them frees the span. */
	unused_except_first(span, 0, unused);
	KUNIT_ASSERT_EQ(test, give_back(test, base, unused), 0);
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_objects), 3ull);
	KUNIT_EXPECT_EQ(test, free_obj(heap, span, 0), 0);
	KUNIT_EXPECT_EQ(test, free_obj(heap, span, 0), -ENOENT);
	KUNIT_EXPECT_EQ(test, free_obj(heap, span, 1), 0);
	KUNIT_EXPECT_EQ(test, free_obj(heap, span, 2), 0);
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_bytes), 0ull);
	KUNIT_EXPECT_EQ(test, CNT(heap, spans_inuse), 0ull);
	KUNIT_EXPECT_EQ(test, pages_in_use(heap), 0ul);
	KUNIT_EXPECT_EQ(test, CNT(heap, frees), 3ull);
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
	bytes = CNT(heap, alloc_bytes);

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
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_bytes), bytes);
	KUNIT_EXPECT_EQ(test, CNT(heap, spans_cached), 1ull);
	KUNIT_EXPECT_EQ(test, give_back(test, base, unused), 0);
	/* A span nobody holds. */
	KUNIT_EXPECT_EQ(test, give_back(test, base, unused), -ENOENT);
}

/* A report (central_take_over) from a cache that used the first @used slots. */
static void report(struct kunit *test, struct gcheap_span *span, unsigned int used)
{
	struct gcheap *heap = test->priv;
	struct gcheap_span_return r = { .base = gcheap_span_base(heap, span) };

	unused_except_first(span, used, r.free);
	gcheap_central_take_over(heap, NULL, &r, heap->ctrl->gc_started);
}

static void central_test_report_takes_over(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	struct gcheap_span *span = cache(test, SPC_48);
	u64 unused[GCHEAP_SPAN_BITS_WORDS];
	unsigned int i;

	heap->ctrl->gc_started = 7;
	/* The cache used 10 slots: they become objects, 160 stay its own. */
	report(test, span, 10);
	KUNIT_EXPECT_EQ(test, span->state, GCHEAP_SPAN_CACHED);
	KUNIT_EXPECT_EQ(test, span->alloc_count, 10);
	KUNIT_EXPECT_EQ(test, bitmap_weight(gcheap_span_alloc_bits(span), 170), 10u);
	KUNIT_EXPECT_EQ(test, bitmap_weight(gcheap_span_cache_free(span), 170), 160u);
	KUNIT_EXPECT_FALSE(test, bitmap_intersects(gcheap_span_alloc_bits(span),
						   gcheap_span_cache_free(span), 170));
	KUNIT_EXPECT_EQ(test, span->report_cycle, 7u);
	/* Still counted whole; only the slots left to the cache are cache-free. */
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_bytes), 170ull * 48);
	KUNIT_EXPECT_EQ(test, CNT(heap, cached_free_bytes), 160ull * 48);

	/* A report claiming a slot taken over (the same span twice) changes nothing. */
	{
		struct gcheap_span_return r = { .base = gcheap_span_base(heap, span) };

		unused_except_first(span, 0, r.free);
		r.free[0] |= 1;
		gcheap_central_take_over(heap, NULL, &r, 7);
		KUNIT_EXPECT_EQ(test, span->alloc_count, 10);
		KUNIT_EXPECT_EQ(test, CNT(heap, cached_free_bytes), 160ull * 48);
	}

	/* A cycle marks 4 of the 10: sweeping the held span frees the other 6. */
	for (i = 0; i < 4; i++)
		set_bit(i, gcheap_span_mark_bits(span));
	WRITE_ONCE(heap->sweepgen, heap->sweepgen + 2);
	gcheap_sweep_span(heap, span);
	KUNIT_EXPECT_EQ(test, span->alloc_count, 4);
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_bytes), 164ull * 48);
	KUNIT_EXPECT_EQ(test, CNT(heap, freed_objects), 6ull);
	/* A kept object is the module's to free now; a slot the cache has is not. */
	KUNIT_EXPECT_EQ(test, free_obj(heap, span, 0), 0);
	KUNIT_EXPECT_EQ(test, free_obj(heap, span, 5), -ENOENT);
	KUNIT_EXPECT_EQ(test, free_obj(heap, span, 20), -EBUSY);

	/* The next report: 5 more used, and last cycle's marks consumed first. */
	heap->ctrl->gc_started = 8;
	set_bit(1, gcheap_span_mark_bits(span));
	WRITE_ONCE(heap->sweepgen, heap->sweepgen + 2);
	report(test, span, 5);
	KUNIT_EXPECT_EQ(test, span->alloc_count, 1 + 5);
	KUNIT_EXPECT_EQ(test, span->report_cycle, 8u);
	KUNIT_EXPECT_EQ(test, bitmap_weight(gcheap_span_mark_bits(span), 170), 0u);

	/* Given back unused, the span keeps exactly the objects. */
	unused_except_first(span, 0, unused);
	KUNIT_ASSERT_EQ(test, give_back(test, gcheap_span_base(heap, span), unused), 0);
	KUNIT_EXPECT_EQ(test, span->alloc_count, 6);
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_bytes), 6ull * 48);
	KUNIT_EXPECT_EQ(test, CNT(heap, cached_free_bytes), 0ull);
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
	KUNIT_EXPECT_EQ(test, CNT(heap, spans_inuse), 2ull);

	/* A slot the cache owns is the cache's to free. */
	KUNIT_EXPECT_EQ(test, free_obj(heap, next, 5), -EBUSY);
	/* Freeing from the full span makes it partial: the next refill takes it. */
	KUNIT_EXPECT_EQ(test, free_obj(heap, full, 7), 0);
	KUNIT_EXPECT_TRUE(test, full->needzero);
	unused_except_first(next, 0, unused);
	KUNIT_ASSERT_EQ(test, give_back(test, gcheap_span_base(heap, next), unused), 0);
	KUNIT_EXPECT_EQ(test, CNT(heap, spans_inuse), 1ull);
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
	KUNIT_EXPECT_EQ(test, free_obj(heap, span, 3), 0);
	KUNIT_EXPECT_EQ(test, free_obj(heap, span, 169), 0);
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
	KUNIT_EXPECT_EQ(test, CNT(heap, spans_inuse), 0ull);
	KUNIT_EXPECT_EQ(test, pages_in_use(heap), 0ul);
}

/*
 * Lock-free span lookup racing span creation, hand-out, give-back, sweeping
 * and destruction: a writer thread churns spans over the same few pages
 * while the test thread looks them up with no heap-wide lock, as the mark
 * and the ioctls do. A span found must be whole (its own range holds the
 * page, its class is the writer's) and in a state a span can be in; KASAN
 * catches a descriptor used after it was freed.
 */
struct churn {
	struct kunit *test;
	struct completion done;
	unsigned int rounds;
};

static int churn_fn(void *arg)
{
	struct churn *ch = arg;
	struct kunit *test = ch->test;
	struct gcheap *heap = test->priv;
	u64 unused[GCHEAP_SPAN_BITS_WORDS];
	struct gcheap_span *span[3];
	unsigned int r, i;
	bool fresh;

	for (r = 0; r < ch->rounds; r++) {
		for (i = 0; i < ARRAY_SIZE(span); i++) {
			span[i] = gcheap_central_cache_span(heap, SPC_48, NULL, &fresh);
			if (IS_ERR(span[i]))
				break;
		}
		/* Keep 0, 1 and 2 objects: one span dies at once, two are swept later. */
		while (i--) {
			struct gcheap_span_return ret = { .base = gcheap_span_base(heap, span[i]) };

			unused_except_first(span[i], i, unused);
			memcpy(ret.free, unused, sizeof(ret.free));
			if (!IS_ERR(gcheap_central_check_return(heap, NULL, &ret)))
				gcheap_central_uncache_span(heap, span[i], ret.free);
		}
		gcheap_span_free_dead(heap);
		/*
		 * Nothing marked: a cycle's end makes every object garbage.
		 * As a cycle does, everything is swept before sweepgen moves;
		 * after it, refills and the lookups below sweep on demand.
		 */
		if (r % 4 == 3) {
			gcheap_sweep_all(heap);
			mutex_lock(&heap->lock);
			WRITE_ONCE(heap->sweepgen, heap->sweepgen + 2);
			mutex_unlock(&heap->lock);
		}
		cond_resched();
	}
	complete(&ch->done);
	return 0;
}

static void central_test_lockless_lookup(struct kunit *test)
{
	struct gcheap *heap = test->priv;
	struct churn ch = { .test = test, .rounds = 400 };
	unsigned long found = 0, bad = 0, pg, n = 0;
	struct task_struct *t;

	init_completion(&ch.done);
	t = kthread_run(churn_fn, &ch, "gcheap-churn");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	while (!completion_done(&ch.done)) {
		for (pg = 0; pg < 8; pg++) {
			unsigned long addr = TEST_BASE + pg * GCHEAP_PAGE_SIZE + 100;
			struct gcheap_object obj = { .addr = addr };
			struct gcheap_span *span;

			rcu_read_lock();
			span = gcheap_arena_span_of(heap, obj.addr);
			if (span) {
				struct gcheap_central *c = gcheap_span_central(heap, span);
				u8 state;

				found++;
				bad += span->start > pg || span->start + span->npages <= pg ||
				       span->spanclass != SPC_48;
				spin_lock(&c->lock);
				state = span->state;
				/* A span in use is in the table: it leaves only DEAD. */
				if (state == GCHEAP_SPAN_INUSE || state == GCHEAP_SPAN_CACHED)
					bad += gcheap_arena_span_at(heap, pg) != span;
				spin_unlock(&c->lock);
				bad += state > GCHEAP_SPAN_DEAD;
			}
			rcu_read_unlock();
			/* The ioctl's lookup sweeps, beside the writer's sweeps. */
			if (!gcheap_object_lookup(heap, &obj))
				bad += obj.spanclass != SPC_48 || obj.objsize != 48;
		}
		if (!(++n % 16))
			cond_resched();
	}
	KUNIT_EXPECT_EQ(test, bad, 0ul);
	KUNIT_EXPECT_GT(test, found, 0ul);
	/* Everything given back and swept: no span, no page is left. */
	gcheap_sweep_all(heap);
	mutex_lock(&heap->lock);
	WRITE_ONCE(heap->sweepgen, heap->sweepgen + 2);
	mutex_unlock(&heap->lock);
	gcheap_sweep_all(heap);
	KUNIT_EXPECT_EQ(test, CNT(heap, spans_inuse), 0ull);
	KUNIT_EXPECT_EQ(test, CNT(heap, alloc_objects), 0ull);
	KUNIT_EXPECT_EQ(test, pages_in_use(heap), 0ul);
}

static struct kunit_case central_test_cases[] = {
	KUNIT_CASE(central_test_handout_accounting),
	KUNIT_CASE(central_test_bad_give_back),
	KUNIT_CASE(central_test_report_takes_over),
	KUNIT_CASE(central_test_full_and_busy),
	KUNIT_CASE(central_test_reused_slots_zeroed),
	KUNIT_CASE(central_test_obj_index),
	KUNIT_CASE(central_test_lockless_lookup),
	{}
};

static struct kunit_suite central_test_suite = {
	.name = "gcheap_central",
	.init = gcheap_test_heap_init,
	.exit = gcheap_test_heap_exit,
	.test_cases = central_test_cases,
};

kunit_test_suite(central_test_suite);
