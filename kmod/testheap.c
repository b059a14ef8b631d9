// SPDX-License-Identifier: GPL-2.0
/*
 * The heap every KUnit suite works on: set up as gcheap_create() would,
 * but for the owner mm and the user mapping, which KUnit on 6.1 cannot
 * make. Memory is reached through the kernel's mapping only.
 */
#include <linux/mutex.h>
#include <linux/mm.h>
#include "testheap.h"
#include "arena.h"
#include "central.h"
#include "span.h"
#include "gc.h"

int gcheap_test_heap_init(struct kunit *test)
{
	struct gcheap *heap = kunit_kzalloc(test, sizeof(*heap), GFP_KERNEL);
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, heap);
	mutex_init(&heap->lock);
	init_llist_head(&heap->dead_spans);
	gcheap_central_init(heap);
	ret = gcheap_gc_init(heap);
	KUNIT_ASSERT_EQ(test, ret, 0);
	mutex_lock(&heap->lock);
	ret = gcheap_arena_init(heap, TEST_BASE, TEST_PAGES);
	mutex_unlock(&heap->lock);
	KUNIT_ASSERT_EQ(test, ret, 0);
	test->priv = heap;
	return 0;
}

void gcheap_test_heap_exit(struct kunit *test)
{
	struct gcheap *heap = test->priv;

	gcheap_gc_destroy(heap);
	mutex_lock(&heap->lock);
	gcheap_span_release_all(heap);
	gcheap_arena_release(heap);
	mutex_unlock(&heap->lock);
}

/* The kernel's view of heap address @addr, which must be in a used chunk. */
u64 *gcheap_test_kaddr(struct gcheap *heap, unsigned long addr)
{
	unsigned long off = addr - heap->base, pg = off >> GCHEAP_PAGE_SHIFT;
	struct page *page = gcheap_arena_chunk(heap, pg)->pages[pg % GCHEAP_CHUNK_PAGES];

	return page_address(page) + (off & (GCHEAP_PAGE_SIZE - 1));
}

/*
 * Allocate @n objects of span class @spc as a cache would, over as many
 * spans as needed, the cache giving back the slots it did not use.
 */
void gcheap_test_alloc_objs(struct kunit *test, u8 spc, unsigned int n, unsigned long *out)
{
	struct gcheap *heap = test->priv;
	unsigned int got = 0, i;

	while (got < n) {
		u64 unused[GCHEAP_SPAN_BITS_WORDS] = { 0 };
		struct gcheap_span *span;
		bool fresh;

		span = gcheap_central_cache_span(heap, spc, NULL, &fresh);
		KUNIT_ASSERT_FALSE(test, IS_ERR(span));
		for_each_set_bit(i, gcheap_span_cache_free(span), span->nelems) {
			if (got < n)
				out[got++] = gcheap_span_base(heap, span) + i * span->elemsize;
			else
				unused[i / 64] |= 1ULL << (i % 64);
		}
		gcheap_central_uncache_span(heap, span, unused);
	}
	gcheap_span_free_dead(heap);
}
