/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GCHEAP_ARENA_H
#define _GCHEAP_ARENA_H

#include <linux/mm_types.h>
#include "heap.h"

/*
 * Per 4 MiB chunk of the heap: its physical pages and its page -> span
 * table. A heap page is one order-1 allocation split into two base pages,
 * so the kernel sees it as 8 contiguous KiB through the direct map.
 */
struct gcheap_chunk {
	struct page *pages[GCHEAP_CHUNK_PAGES];	/* first base page; NULL = none */
	struct gcheap_span *spans[GCHEAP_CHUNK_PAGES];
};

/* The mark's work entries hold 40-bit heap offsets (mark.c). */
#define GCHEAP_MAX_HEAP		BIT_ULL(40)

/* The chunk of heap page @pg, or NULL if never used. No lock (arena.c). */
static inline struct gcheap_chunk *gcheap_arena_chunk(struct gcheap *heap, unsigned long pg)
{
	return READ_ONCE(heap->chunks[pg / GCHEAP_CHUNK_PAGES]);
}

/* The heap's size in pages, 0 before mmap; base and chunks are set once it is not. */
static inline unsigned long gcheap_arena_npages(struct gcheap *heap)
{
	/* Pairs with the release in gcheap_arena_init(). */
	return smp_load_acquire(&heap->npages);
}

int gcheap_arena_mmap(struct gcheap *heap, struct vm_area_struct *vma);
int gcheap_arena_init(struct gcheap *heap, unsigned long base, unsigned long npages);
long gcheap_arena_alloc(struct gcheap *heap, unsigned long n, bool *reused);
void gcheap_arena_free(struct gcheap *heap, unsigned long first, unsigned long n);
unsigned long gcheap_arena_scavenge(struct gcheap *heap, unsigned long max,
				    unsigned long *below);
long gcheap_arena_pages_held(void);
long gcheap_arena_pages_idle(void);

/* No page at or above this one has ever had memory: where the scavenger looks from. */
static inline unsigned long gcheap_arena_top(const struct gcheap *heap)
{
	return heap->arena_top;
}

void gcheap_arena_set_span(struct gcheap *heap, unsigned long first,
			   unsigned long n, struct gcheap_span *span);
struct gcheap_span *gcheap_arena_span_of(struct gcheap *heap, unsigned long addr);
struct gcheap_span *gcheap_arena_span_at(struct gcheap *heap, unsigned long pg);
int gcheap_arena_zero(struct gcheap *heap, unsigned long first_page,
		      unsigned long off, unsigned long len);
void gcheap_arena_unmap_user(struct gcheap *heap, unsigned long first,
			     unsigned long n);
void gcheap_arena_release(struct gcheap *heap);
void gcheap_arena_prefault(struct gcheap *heap, unsigned long first, unsigned long n);

#endif /* _GCHEAP_ARENA_H */
