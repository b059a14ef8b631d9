// SPDX-License-Identifier: GPL-2.0
/*
 * The heap every KUnit suite works on: set up as gcheap_create() would,
 * but for the owner mm and the user mapping, which KUnit on 6.1 cannot
 * make. Memory is reached through the kernel's mapping only.
 */
#include <linux/mutex.h>
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
