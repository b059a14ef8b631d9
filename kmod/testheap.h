/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GCHEAP_TESTHEAP_H
#define _GCHEAP_TESTHEAP_H

#include <kunit/test.h>
#include "heap.h"

/* KUnit heaps: an arena at a made-up address, with no user mapping. */
#define TEST_BASE	0x100000000UL
#define TEST_PAGES	(2 * GCHEAP_CHUNK_PAGES)

/* A counter of the heap's accounting, as the stats ioctl reads it. */
#define CNT(heap, f)	((u64)atomic64_read(&(heap)->cnt.f))

int gcheap_test_heap_init(struct kunit *test);
void gcheap_test_heap_exit(struct kunit *test);
u64 *gcheap_test_kaddr(struct gcheap *heap, unsigned long addr);
void gcheap_test_alloc_objs(struct kunit *test, u8 spc, unsigned int n, unsigned long *out);

#endif /* _GCHEAP_TESTHEAP_H */
