// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The allocation entry points: small objects from the thread's cache (tiny
 * ones packed), large ones (over 32 KiB) one ioctl each, and early frees.
 */
#include <errno.h>
#include <string.h>

#include "gcheap.h"
#include "internal.h"

static void *alloc_large(size_t size, bool noscan)
{
	struct gcheap_large req = {
		.size = sizeof(req),
		.flags = noscan ? GCHEAP_LARGE_NOSCAN : 0,
		.bytes = size,
	};

	/* More than the whole heap: no collection can help. */
	if (size > gch_heap.end - gch_heap.base) {
		errno = ENOMEM;
		return NULL;
	}
	/* A full heap may only need a collection. */
	if (gch_ioctl(GCHEAP_IOC_ALLOC_LARGE, &req) < 0) {
		if (errno != ENOMEM || gch_gc_for_space() < 0 ||
		    gch_ioctl(GCHEAP_IOC_ALLOC_LARGE, &req) < 0)
			return NULL;
	}
	gch_gc_poll();
	return (void *)(uintptr_t)req.base;
}

void *gch_alloc(size_t size)
{
	if (unlikely(gch_heap_ensure() < 0))
		return NULL;
	if (likely(size <= GCHEAP_MAX_SMALL_SIZE))
		return gch_mcache_alloc(GCHEAP_SPANCLASS(gch_size_to_class(size), 0));
	return alloc_large(size, false);
}

void *gch_alloc_noscan(size_t size)
{
	if (unlikely(gch_heap_ensure() < 0))
		return NULL;
	if (size && size < 16)
		return gch_mcache_alloc_tiny(size);
	if (likely(size <= GCHEAP_MAX_SMALL_SIZE))
		return gch_mcache_alloc(GCHEAP_SPANCLASS(gch_size_to_class(size), 1));
	return alloc_large(size, true);
}

int gch_free(void *ptr)
{
	struct gcheap_free req = { .size = sizeof(req) };
	int ret;

	if (!ptr)
		return 0;
	if (!gch_heap.ready || (uintptr_t)ptr < gch_heap.base || (uintptr_t)ptr >= gch_heap.end) {
		errno = EINVAL;
		return -1;
	}
	ret = gch_mcache_free(ptr);
	if (ret <= 0)
		return ret;
	req.addr = (uintptr_t)ptr;
	return gch_ioctl(GCHEAP_IOC_FREE, &req) < 0 ? -1 : 0;
}

size_t gch_size(const void *ptr, void **base)
{
	struct gcheap_object req = { .size = sizeof(req), .addr = (uintptr_t)ptr };

	if (!gch_heap.ready || (uintptr_t)ptr < gch_heap.base || (uintptr_t)ptr >= gch_heap.end) {
		errno = EINVAL;
		return 0;
	}
	if (gch_ioctl(GCHEAP_IOC_OBJECT, &req) < 0)
		return 0;
	if (base)
		*base = (void *)(uintptr_t)req.base;
	return req.objsize;
}
