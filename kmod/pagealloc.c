// SPDX-License-Identifier: GPL-2.0
/*
 * Page allocator: which 8 KiB heap pages are in use, and address-ordered
 * first fit of n contiguous free pages, after Go's runtime/mpagealloc.go.
 *
 * A bitmap has one bit per heap page (1 = in use); a second marks the free
 * pages whose physical memory was given back to the kernel (scavenged). Above
 * the bitmap sits a radix tree of summaries: one per chunk of 512 pages at
 * the leaves (levels[nlevels - 1]), one per 8 children on each level above,
 * and a single root (levels[0][0]). A summary holds the free run at the
 * start of its region, the longest free run in it and the free run at its
 * end, so alloc() finds the first fit by descending from the root looking at
 * 8 summaries per level, then searches the bitmap of one chunk; a run that
 * crosses chunk boundaries is found from the summaries alone.
 *
 * Invariants (checked after every operation by pagealloc_test.c):
 * - The leaf count is a power of 8; leaves past the last chunk are padding
 *   and stay (0, 0, 0). Pages from npages to the end of the last chunk are
 *   set in inuse and never cleared. Only real chunks have bitmap words.
 * - Every summary equals the one computed from the bitmap: a leaf from its
 *   chunk's 512 bits, a parent by merging its 8 children.
 * - A scavenged page is free: scavenged & inuse is empty.
 * - No page below search_addr is free (search_addr <= npages).
 * - free_pages is the number of pages below npages not in use, scav_pages
 *   the number of those scavenged.
 * alloc() and free() change the bitmap of the pages they are given, then
 * recompute the leaves of those pages and walk up while a summary changes.
 * alloc() moves search_addr past its pages when it started there; free()
 * lowers it to the first page freed. Eight levels cap a heap at 2^30 pages.
 * Bad arguments get -EINVAL and change nothing; only summaries found to
 * contradict themselves (a bug here) WARN, once.
 *
 * Locking: none. The owner (the heap) serialises every call with its own
 * lock. Only init() and destroy() may sleep (kvcalloc, kvfree); the rest
 * never sleeps nor allocates.
 */
#include <linux/bitmap.h>
#include <linux/bug.h>
#include <linux/build_bug.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <kunit/visibility.h>
#include "pagealloc.h"

#define PA_CHUNK	((unsigned long)GCHEAP_CHUNK_PAGES)
#define PA_MAX_CHUNKS	(1UL << (GCHEAP_PA_FANOUT_SHIFT * (GCHEAP_PA_MAX_LEVELS - 1)))

static_assert(GCHEAP_CHUNK_PAGES % BITS_PER_LONG == 0);

/* The bitmap words of chunk @c. */
static unsigned long *pa_chunk_bits(const struct gcheap_pagealloc *pa,
				    unsigned long c)
{
	return pa->inuse + c * (PA_CHUNK / BITS_PER_LONG);
}

static bool pa_range_ok(const struct gcheap_pagealloc *pa, unsigned long start,
			unsigned long n)
{
	return n && start < pa->npages && n <= pa->npages - start;
}

/* Summary of chunk @c, from its 512 bits. */
static struct gcheap_pa_sum pa_chunk_sum(const struct gcheap_pagealloc *pa,
					 unsigned long c)
{
	const unsigned long *cb = pa_chunk_bits(pa, c);
	struct gcheap_pa_sum s;
	unsigned long z, o;

	o = find_first_bit(cb, PA_CHUNK);
	if (o == PA_CHUNK) {
		s.start = PA_CHUNK;
		s.max = PA_CHUNK;
		s.end = PA_CHUNK;
		return s;
	}
	s.start = o;
	s.end = PA_CHUNK - 1 - find_last_bit(cb, PA_CHUNK);
	s.max = max(s.start, s.end);
	/* The runs between the first and the last page in use. */
	for (;;) {
		z = find_next_zero_bit(cb, PA_CHUNK, o);
		if (z >= PA_CHUNK)
			break;
		o = find_next_bit(cb, PA_CHUNK, z);
		s.max = max_t(u32, s.max, o - z);
	}
	return s;
}

/*
 * Summary of 8 adjacent regions of @size pages each. A run may span several
 * wholly free children: @run is the free run ending where child i begins.
 */
static struct gcheap_pa_sum pa_merge(const struct gcheap_pa_sum *c, u32 size)
{
	struct gcheap_pa_sum s = { 0, 0, 0 };
	bool prefix = true;
	u32 run = 0;
	unsigned int i;

	for (i = 0; i < GCHEAP_PA_FANOUT; i++) {
		bool full = c[i].start == size;

		if (prefix) {
			s.start += c[i].start;
			prefix = full;
		}
		s.max = max3(s.max, c[i].max, run + c[i].start);
		run = full ? run + size : c[i].end;
	}
	s.max = max(s.max, run);
	s.end = run;
	return s;
}

/* Store @s in @dst; true if that changed it. */
static bool pa_store(struct gcheap_pa_sum *dst, struct gcheap_pa_sum s)
{
	if (dst->start == s.start && dst->max == s.max && dst->end == s.end)
		return false;
	*dst = s;
	return true;
}

/* Recompute the summaries above pages [start, start + n) after a change. */
static void pa_update(struct gcheap_pagealloc *pa, unsigned long start,
		      unsigned long n)
{
	unsigned int l = pa->nlevels - 1;
	unsigned long lo = start / PA_CHUNK, hi = (start + n - 1) / PA_CHUNK;
	unsigned long i;
	bool changed = false;

	for (i = lo; i <= hi; i++)
		changed |= pa_store(&pa->levels[l][i], pa_chunk_sum(pa, i));
	while (changed && l > 0) {
		const struct gcheap_pa_sum *kids = pa->levels[l];
		u32 size = gcheap_pa_level_pages(pa, l);

		l--;
		lo >>= GCHEAP_PA_FANOUT_SHIFT;
		hi >>= GCHEAP_PA_FANOUT_SHIFT;
		changed = false;
		for (i = lo; i <= hi; i++)
			changed |= pa_store(&pa->levels[l][i],
					    pa_merge(kids + (i << GCHEAP_PA_FANOUT_SHIFT), size));
	}
}

/*
 * First page of the lowest run of @n free pages, or -ENOMEM. Go's find():
 * on each level walk the 8 children of the entry chosen above, starting at
 * the one holding search_addr, with @run the free run that ends where the
 * current child begins. A fit that begins in an earlier child and reaches
 * into this one is the first fit; else one inside this child is, if its
 * longest run is long enough; else the run carries on to the next child.
 */
static long pa_find(struct gcheap_pagealloc *pa, unsigned long n)
{
	unsigned long i = 0, run, epages, sidx, base, off;
	unsigned int l, j;

	if (pa->levels[0][0].max < n)
		return -ENOMEM;
	for (l = 1; l < pa->nlevels; l++) {
		epages = gcheap_pa_level_pages(pa, l);
		i <<= GCHEAP_PA_FANOUT_SHIFT;
		/* Children wholly below search_addr are full: skip them. */
		sidx = pa->search_addr / epages;
		j = 0;
		if ((sidx & ~(unsigned long)(GCHEAP_PA_FANOUT - 1)) == i)
			j = sidx & (GCHEAP_PA_FANOUT - 1);
		run = 0;
		for (; j < GCHEAP_PA_FANOUT; j++) {
			const struct gcheap_pa_sum *e = &pa->levels[l][i + j];

			if (run + e->start >= n)
				return (i + j) * epages - run;
			if (e->max >= n)
				break;
			run = e->start == epages ? run + epages : e->end;
		}
		/* The parent's summary promised a fit in its children. */
		if (WARN_ONCE(j == GCHEAP_PA_FANOUT,
			      "gcheap: page summaries inconsistent at level %u\n", l))
			return -ENOMEM;
		i += j;
	}
	/* Chunk i holds the first fit, wholly inside it (so n <= 512). */
	base = i * PA_CHUNK;
	off = pa->search_addr > base ? min(pa->search_addr - base, PA_CHUNK) : 0;
	off = bitmap_find_next_zero_area(pa_chunk_bits(pa, i), PA_CHUNK, off, n, 0);
	if (WARN_ONCE(off + n > PA_CHUNK,
		      "gcheap: page summary of chunk %lu inconsistent\n", i))
		return -ENOMEM;
	return base + off;
}

/* Count the scavenged pages of [start, start + n) and clear their bits. */
static unsigned long pa_take_scavenged(struct gcheap_pagealloc *pa,
				       unsigned long start, unsigned long n)
{
	unsigned long end = start + n, cnt = 0, i, z;

	for (i = find_next_bit(pa->scavenged, end, start); i < end;
	     i = find_next_bit(pa->scavenged, end, z)) {
		z = find_next_zero_bit(pa->scavenged, end, i);
		cnt += z - i;
	}
	if (cnt)
		bitmap_clear(pa->scavenged, start, n);
	return cnt;
}

/*
 * Manage @npages heap pages (any number from 1 to 2^30), all free and none
 * scavenged. Returns -EINVAL for a size out of range, -ENOMEM.
 */
int gcheap_pagealloc_init(struct gcheap_pagealloc *pa, unsigned long npages)
{
	unsigned long nchunks, nbits, c, i;
	unsigned int l;

	memset(pa, 0, sizeof(*pa));
	if (!npages || npages > PA_MAX_CHUNKS * PA_CHUNK)
		return -EINVAL;
	nchunks = DIV_ROUND_UP(npages, PA_CHUNK);
	nbits = nchunks * PA_CHUNK;
	pa->npages = npages;
	pa->nlevels = 1;
	while ((1UL << (GCHEAP_PA_FANOUT_SHIFT * (pa->nlevels - 1))) < nchunks)
		pa->nlevels++;

	pa->inuse = kvcalloc(BITS_TO_LONGS(nbits), sizeof(unsigned long),
			     GFP_KERNEL_ACCOUNT);
	pa->scavenged = kvcalloc(BITS_TO_LONGS(nbits), sizeof(unsigned long),
				 GFP_KERNEL_ACCOUNT);
	if (!pa->inuse || !pa->scavenged)
		goto nomem;
	for (l = 0; l < pa->nlevels; l++) {
		pa->levels[l] = kvcalloc(1UL << (GCHEAP_PA_FANOUT_SHIFT * l),
					 sizeof(struct gcheap_pa_sum),
					 GFP_KERNEL_ACCOUNT);
		if (!pa->levels[l])
			goto nomem;
	}

	/* The tail of the last chunk does not exist: in use for ever. */
	bitmap_set(pa->inuse, npages, nbits - npages);
	l = pa->nlevels - 1;
	for (c = 0; c < nchunks; c++)
		pa->levels[l][c] = pa_chunk_sum(pa, c);
	while (l-- > 0) {
		u32 size = gcheap_pa_level_pages(pa, l + 1);

		for (i = 0; i < 1UL << (GCHEAP_PA_FANOUT_SHIFT * l); i++)
			pa->levels[l][i] =
				pa_merge(&pa->levels[l + 1][i << GCHEAP_PA_FANOUT_SHIFT],
					 size);
	}
	pa->free_pages = npages;
	pa->search_addr = 0;
	return 0;

nomem:
	gcheap_pagealloc_destroy(pa);
	return -ENOMEM;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pagealloc_init);

/* Free everything init() allocated; @pa is left zeroed (destroy it again). */
void gcheap_pagealloc_destroy(struct gcheap_pagealloc *pa)
{
	unsigned int l;

	for (l = 0; l < GCHEAP_PA_MAX_LEVELS; l++)
		kvfree(pa->levels[l]);
	kvfree(pa->scavenged);
	kvfree(pa->inuse);
	memset(pa, 0, sizeof(*pa));
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pagealloc_destroy);

/*
 * Mark the lowest run of @n free pages in use and return its first page:
 * -EINVAL if @n is 0 or more than the heap, -ENOMEM if no run fits. *@scav
 * (if not NULL) gets how many of the pages were scavenged; they no longer are.
 */
long gcheap_pagealloc_alloc(struct gcheap_pagealloc *pa, unsigned long n,
			    unsigned long *scav)
{
	unsigned long cnt;
	long addr;

	if (!n || n > pa->npages)
		return -EINVAL;
	if (n > pa->free_pages)
		return -ENOMEM;
	addr = pa_find(pa, n);
	if (addr < 0)
		return addr;
	bitmap_set(pa->inuse, addr, n);
	cnt = pa_take_scavenged(pa, addr, n);
	pa_update(pa, addr, n);
	pa->free_pages -= n;
	pa->scav_pages -= cnt;
	if (pa->search_addr >= addr && pa->search_addr < addr + n)
		pa->search_addr = addr + n;
	if (scav)
		*scav = cnt;
	return addr;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pagealloc_alloc);

/*
 * Free pages [start, start + n). -EINVAL, changing nothing, if the range is
 * empty, leaves the heap, or holds a page not in use.
 */
int gcheap_pagealloc_free(struct gcheap_pagealloc *pa, unsigned long start,
			  unsigned long n)
{
	if (!gcheap_pagealloc_in_use(pa, start, n))
		return -EINVAL;
	bitmap_clear(pa->inuse, start, n);
	pa_update(pa, start, n);
	pa->free_pages += n;
	if (start < pa->search_addr)
		pa->search_addr = start;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pagealloc_free);

/* All of [start, start + n) in use; false for an empty or outside range. */
bool gcheap_pagealloc_in_use(const struct gcheap_pagealloc *pa,
			     unsigned long start, unsigned long n)
{
	return pa_range_ok(pa, start, n) &&
	       find_next_zero_bit(pa->inuse, start + n, start) >= start + n;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pagealloc_in_use);

/*
 * Record that free pages [start, start + n) were released to the kernel.
 * -EINVAL, changing nothing, unless the range is in the heap and all free.
 */
int gcheap_pagealloc_set_scavenged(struct gcheap_pagealloc *pa,
				   unsigned long start, unsigned long n)
{
	unsigned long i, end = start + n;

	if (!pa_range_ok(pa, start, n) ||
	    find_next_bit(pa->inuse, end, start) < end)
		return -EINVAL;
	/* Count only the pages newly scavenged. */
	for (i = find_next_bit(pa->scavenged, end, start); i < end;
	     i = find_next_bit(pa->scavenged, end, i + 1))
		pa->scav_pages--;
	bitmap_set(pa->scavenged, start, n);
	pa->scav_pages += n;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pagealloc_set_scavenged);

/*
 * The highest run of free pages not scavenged that ends at or below page
 * @below: its last (at most @max) pages, first page in *@start. Returns how
 * many (0: none). The scavenger's search, high addresses first, since
 * alloc() reuses the lowest free pages first: those keep their memory.
 * A word of both bitmaps at a time, top down.
 */
unsigned long gcheap_pagealloc_find_unscavenged(const struct gcheap_pagealloc *pa,
						unsigned long below, unsigned long max,
						unsigned long *start)
{
	unsigned long w, bits, end, lo;

	below = min(below, pa->npages);
	if (!below || !max || pa->free_pages == pa->scav_pages)
		return 0;
	/* Word w covers pages [w * BITS_PER_LONG, (w + 1) * BITS_PER_LONG). */
	w = (below - 1) / BITS_PER_LONG;
	bits = ~(pa->inuse[w] | pa->scavenged[w]) &
	       BITMAP_LAST_WORD_MASK(below - w * BITS_PER_LONG);
	while (!bits) {
		if (!w--)
			return 0;
		bits = ~(pa->inuse[w] | pa->scavenged[w]);
	}
	end = w * BITS_PER_LONG + __fls(bits) + 1;
	/* Walk down to the run's first page, or until @max pages. */
	lo = end - 1;
	while (lo > 0 && end - lo < max && !test_bit(lo - 1, pa->inuse) &&
	       !test_bit(lo - 1, pa->scavenged))
		lo--;
	*start = lo;
	return end - lo;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_pagealloc_find_unscavenged);
