// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for the page allocator: every summary recomputed from the
 * bitmap after every operation, random alloc/free sequences checked against
 * a reference bitmap and a linear first-fit scan of it, fragmentation,
 * exhaustion, bad input and scavenged accounting.
 *
 * A case's KUnit log holds 512 bytes, its result line included, so every
 * check asserts: a case stops at its first failure, reported as one message,
 * rather than bury its result under the failures that one causes. The
 * allocators are KUnit resources, destroyed however a case ends.
 */
#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/slab.h>
#include "pagealloc.h"

#define CP	((unsigned long)GCHEAP_CHUNK_PAGES)
#define MAX_PAGES	(CP << (3 * (GCHEAP_PA_MAX_LEVELS - 1)))

/*
 * Summary of the @size pages from @lo, from the bitmap alone. Bits from
 * @nbits on do not exist and count as in use.
 */
static struct gcheap_pa_sum ref_sum(const unsigned long *bits,
				    unsigned long nbits, unsigned long lo,
				    unsigned long size)
{
	struct gcheap_pa_sum s = { 0, 0, 0 };
	unsigned long hi = min(lo + size, nbits), a, b;

	if (lo >= nbits)
		return s;
	for (a = find_next_zero_bit(bits, hi, lo); a < hi;
	     a = find_next_zero_bit(bits, hi, b)) {
		b = find_next_bit(bits, hi, a);
		if (a == lo)
			s.start = b - a;
		if (b == lo + size)
			s.end = b - a;
		s.max = max_t(u32, s.max, b - a);
	}
	return s;
}

/*
 * Every invariant of pagealloc.c, from scratch: tree shape, padding bits,
 * every summary of every level, scavenged pages free, free_pages and
 * search_addr. False, with the first problem found in @msg, if one is broken.
 */
static bool pa_check_msg(const struct gcheap_pagealloc *pa, char *msg,
			 size_t len)
{
	unsigned long nchunks = DIV_ROUND_UP(pa->npages, CP);
	unsigned long nbits = nchunks * CP, leaves, e, n, used;
	unsigned int l;

	leaves = 1UL << (3 * (pa->nlevels - 1));
	if (pa->nlevels < 1 || pa->nlevels > GCHEAP_PA_MAX_LEVELS ||
	    leaves < nchunks || (pa->nlevels > 1 && leaves / 8 >= nchunks)) {
		snprintf(msg, len, "%u levels for %lu chunks", pa->nlevels, nchunks);
		return false;
	}
	if (find_next_zero_bit(pa->inuse, nbits, pa->npages) != nbits) {
		snprintf(msg, len, "page past npages %lu not in use", pa->npages);
		return false;
	}
	if (bitmap_intersects(pa->inuse, pa->scavenged, nbits)) {
		snprintf(msg, len, "a page in use is marked scavenged");
		return false;
	}
	used = bitmap_weight(pa->inuse, pa->npages);
	if (pa->free_pages != pa->npages - used) {
		snprintf(msg, len, "free_pages %lu, bitmap has %lu free",
			 pa->free_pages, pa->npages - used);
		return false;
	}
	if (pa->scav_pages != bitmap_weight(pa->scavenged, nbits)) {
		snprintf(msg, len, "scav_pages %lu, bitmap has %u scavenged",
			 pa->scav_pages, bitmap_weight(pa->scavenged, nbits));
		return false;
	}
	if (pa->search_addr > pa->npages ||
	    find_first_zero_bit(pa->inuse, pa->npages) < pa->search_addr) {
		snprintf(msg, len, "search_addr %lu above the free page %lu",
			 pa->search_addr, find_first_zero_bit(pa->inuse, pa->npages));
		return false;
	}
	for (l = 0; l < pa->nlevels; l++) {
		n = gcheap_pa_level_pages(pa, l);
		for (e = 0; e < 1UL << (3 * l); e++) {
			struct gcheap_pa_sum want = ref_sum(pa->inuse, nbits, e * n, n);
			struct gcheap_pa_sum got = pa->levels[l][e];

			if (got.start != want.start || got.max != want.max ||
			    got.end != want.end) {
				snprintf(msg, len,
					 "level %u entry %lu is (%u, %u, %u), bitmap says (%u, %u, %u)",
					 l, e, got.start, got.max, got.end,
					 want.start, want.max, want.end);
				return false;
			}
		}
	}
	return true;
}

/* pa_check_msg() as an assertion. */
static void pa_check(struct kunit *test, const struct gcheap_pagealloc *pa)
{
	char msg[128];

	if (!pa_check_msg(pa, msg, sizeof(msg)))
		KUNIT_ASSERT_FAILURE(test, "%s", msg);
}

static int pa_res_init(struct kunit_resource *res, void *npages)
{
	struct gcheap_pagealloc *pa = kzalloc(sizeof(*pa), GFP_KERNEL);
	int ret;

	if (!pa)
		return -ENOMEM;
	ret = gcheap_pagealloc_init(pa, *(unsigned long *)npages);
	if (ret) {
		kfree(pa);
		return ret;
	}
	res->data = pa;
	return 0;
}

static void pa_res_free(struct kunit_resource *res)
{
	gcheap_pagealloc_destroy(res->data);
	kfree(res->data);
}

/* An allocator of @npages pages, destroyed when the case ends. */
static struct gcheap_pagealloc *pa_new(struct kunit *test, unsigned long npages)
{
	struct gcheap_pagealloc *pa;

	pa = kunit_alloc_resource(test, pa_res_init, pa_res_free, GFP_KERNEL,
				  &npages);
	KUNIT_ASSERT_NOT_NULL_MSG(test, pa, "init(%lu)", npages);
	pa_check(test, pa);
	return pa;
}

/* The lowest run of @n clear bits among the first @nbits, by a linear scan. */
static long ref_first_fit(const unsigned long *ref, unsigned long nbits,
			  unsigned long n)
{
	unsigned long a, b;

	for (a = find_first_zero_bit(ref, nbits); a < nbits;
	     a = find_next_zero_bit(ref, nbits, b)) {
		b = find_next_bit(ref, nbits, a);
		if (b - a >= n)
			return a;
	}
	return -ENOMEM;
}

/* xorshift64*: deterministic, no clock. */
static u32 pa_rand(u64 *s)
{
	u64 x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return (x * 0x2545F4914F6CDD1DULL) >> 32;
}

/* Uniform enough in [0, n), n > 0. */
static unsigned long pa_below(u64 *s, unsigned long n)
{
	return pa_rand(s) % (u32)n;
}

static void pa_test_init_shapes(struct kunit *test)
{
	static const struct {
		unsigned long npages;
		unsigned int nlevels;
		struct gcheap_pa_sum root;
	} shapes[] = {
		{ 1, 1, { 1, 1, 0 } },
		{ 100, 1, { 100, 100, 0 } },
		{ 512, 1, { 512, 512, 512 } },
		{ 513, 2, { 513, 513, 0 } },
		{ 4096, 2, { 4096, 4096, 4096 } },
		{ 4097, 3, { 4097, 4097, 0 } },
		{ 40000, 4, { 40000, 40000, 0 } },
		{ 262144, 4, { 262144, 262144, 262144 } },
		{ 262145, 5, { 262145, 262145, 0 } },
	};
	struct gcheap_pagealloc *pa, bad;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(shapes); i++) {
		unsigned long np = shapes[i].npages;

		pa = pa_new(test, np);
		KUNIT_ASSERT_EQ(test, pa->npages, np);
		KUNIT_ASSERT_EQ_MSG(test, pa->nlevels, shapes[i].nlevels, "%lu pages", np);
		KUNIT_ASSERT_EQ(test, pa->free_pages, np);
		KUNIT_ASSERT_EQ(test, pa->search_addr, 0ul);
		KUNIT_ASSERT_EQ_MSG(test, pa->levels[0][0].start, shapes[i].root.start,
				    "%lu pages", np);
		KUNIT_ASSERT_EQ_MSG(test, pa->levels[0][0].max, shapes[i].root.max,
				    "%lu pages", np);
		KUNIT_ASSERT_EQ_MSG(test, pa->levels[0][0].end, shapes[i].root.end,
				    "%lu pages", np);
		KUNIT_ASSERT_TRUE(test, bitmap_empty(pa->scavenged, pa->npages));
		KUNIT_ASSERT_FALSE(test, gcheap_pagealloc_in_use(pa, 0, 1));
		gcheap_pagealloc_destroy(pa);
		KUNIT_ASSERT_NULL(test, pa->inuse);
		/* The resource destroys it again: harmless. */
	}
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_init(&bad, 0), -EINVAL);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_init(&bad, MAX_PAGES + 1), -EINVAL);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_init(&bad, ULONG_MAX), -EINVAL);
	KUNIT_ASSERT_NULL(test, bad.inuse);
	gcheap_pagealloc_destroy(&bad);
}

/* Alloc @n and expect @want (a page or an error), then check everything. */
static void expect_alloc(struct kunit *test, struct gcheap_pagealloc *pa,
			 unsigned long n, long want)
{
	long got = gcheap_pagealloc_alloc(pa, n, NULL);

	if (got != want)
		KUNIT_ASSERT_FAILURE(test, "alloc(%lu) = %ld, want %ld", n, got, want);
	pa_check(test, pa);
}

static void expect_free(struct kunit *test, struct gcheap_pagealloc *pa,
			unsigned long start, unsigned long n)
{
	int ret = gcheap_pagealloc_free(pa, start, n);

	if (ret || gcheap_pagealloc_in_use(pa, start, 1))
		KUNIT_ASSERT_FAILURE(test, "free(%lu, %lu) = %d", start, n, ret);
	pa_check(test, pa);
}

/* Every other page free: only single pages fit, until neighbours are freed. */
static void pa_test_alternating(struct kunit *test)
{
	struct gcheap_pagealloc *pa;
	unsigned long i, n = 4 * CP;

	pa = pa_new(test, n);
	for (i = 0; i < n; i++)
		expect_alloc(test, pa, 1, i);
	expect_alloc(test, pa, 1, -ENOMEM);
	for (i = 0; i < n; i += 2)
		expect_free(test, pa, i, 1);
	KUNIT_ASSERT_EQ(test, pa->free_pages, n / 2);
	KUNIT_ASSERT_EQ(test, pa->levels[pa->nlevels - 1][1].max, 1u);
	expect_alloc(test, pa, 2, -ENOMEM);
	expect_alloc(test, pa, 1, 0);
	expect_free(test, pa, 3, 1);		/* 2, 3, 4 free */
	expect_alloc(test, pa, 3, 2);
	expect_alloc(test, pa, 2, -ENOMEM);
	expect_alloc(test, pa, 1, 6);
	expect_free(test, pa, CP - 1, 1);	/* CP-2 .. CP free: crosses chunks */
	expect_alloc(test, pa, 3, CP - 2);
	expect_free(test, pa, 2 * CP + 1, 1);	/* 2CP .. 2CP+2 free */
	expect_free(test, pa, 2 * CP - 1, 1);	/* 2CP-2 .. 2CP+2 free */
	expect_alloc(test, pa, 6, -ENOMEM);
	expect_alloc(test, pa, 5, 2 * CP - 2);
}

/*
 * Runs that exist only across a chunk boundary, or across a boundary of
 * 8-chunk subtrees; each comes before a longer run inside the next chunk
 * or subtree, which first fit must not pick.
 */
static void pa_test_cross_chunk(struct kunit *test)
{
	struct gcheap_pagealloc *pa;
	unsigned long n = 16 * CP;

	pa = pa_new(test, n);
	KUNIT_ASSERT_EQ(test, pa->nlevels, 3u);
	expect_alloc(test, pa, n, 0);
	expect_free(test, pa, 10, 23);
	expect_free(test, pa, CP - 12, 24);		/* 12 + 12 */
	expect_free(test, pa, CP + 88, 50);		/* inside chunk 1 */
	expect_free(test, pa, 8 * CP - 5, 10);		/* 5 + 5, two subtrees */
	expect_free(test, pa, 8 * CP + 904, 100);	/* inside subtree 1 */
	KUNIT_ASSERT_EQ(test, pa->levels[2][0].end, 12u);
	KUNIT_ASSERT_EQ(test, pa->levels[2][1].start, 12u);
	KUNIT_ASSERT_EQ(test, pa->levels[2][1].max, 50u);
	KUNIT_ASSERT_EQ(test, pa->levels[1][0].max, 50u);
	KUNIT_ASSERT_EQ(test, pa->levels[1][0].end, 5u);
	KUNIT_ASSERT_EQ(test, pa->levels[1][1].start, 5u);
	KUNIT_ASSERT_EQ(test, pa->levels[0][0].max, 100u);
	expect_alloc(test, pa, 101, -ENOMEM);
	expect_alloc(test, pa, 24, CP - 12);
	expect_alloc(test, pa, 24, CP + 88);
	expect_alloc(test, pa, 27, 8 * CP + 904);
	expect_alloc(test, pa, 26, CP + 112);
	expect_alloc(test, pa, 24, 8 * CP + 931);
	expect_alloc(test, pa, 11, 10);
	expect_alloc(test, pa, 12, 21);
	expect_alloc(test, pa, 10, 8 * CP - 5);	/* before 49 in subtree 1 */
	expect_alloc(test, pa, 49, 8 * CP + 955);
	expect_alloc(test, pa, 1, -ENOMEM);
	KUNIT_ASSERT_EQ(test, pa->free_pages, 0ul);
}

/* Runs spanning 3 and more chunks, some wholly free, and subtree borders. */
static void pa_test_multi_chunk(struct kunit *test)
{
	struct gcheap_pagealloc *pa;
	unsigned long n = 20000;

	pa = pa_new(test, n);
	expect_alloc(test, pa, n, 0);
	expect_free(test, pa, 300, 3 * CP + 100);	/* chunks 0 .. 3 */
	expect_free(test, pa, 3500, 3000);		/* across 4096 */
	expect_free(test, pa, 10000, 5000);
	expect_free(test, pa, 16000, 1000);
	KUNIT_ASSERT_EQ(test, pa->levels[0][0].max, 5000u);
	expect_alloc(test, pa, 5001, -ENOMEM);
	expect_alloc(test, pa, 3 * CP + 100, 300);
	expect_alloc(test, pa, 2999, 3500);
	expect_alloc(test, pa, 2, 10000);
	expect_alloc(test, pa, 4998, 10002);
	expect_alloc(test, pa, 1001, -ENOMEM);
	expect_alloc(test, pa, 1000, 16000);
	expect_alloc(test, pa, 1, 6499);
	expect_alloc(test, pa, 1, -ENOMEM);
	expect_free(test, pa, 0, n);
	KUNIT_ASSERT_EQ(test, pa->levels[0][0].start, (u32)n);
	expect_alloc(test, pa, n, 0);
	expect_free(test, pa, CP, n - CP);		/* to the padded tail */
	expect_alloc(test, pa, n - CP + 1, -ENOMEM);
	expect_alloc(test, pa, n - CP, CP);
}

/* n exactly the largest hole: that hole, not a later or larger one. */
static void pa_test_exact_fit(struct kunit *test)
{
	struct gcheap_pagealloc *pa;

	pa = pa_new(test, 1024);
	expect_alloc(test, pa, 1024, 0);
	expect_free(test, pa, 100, 5);
	expect_free(test, pa, 200, 9);
	expect_free(test, pa, 300, 7);
	expect_free(test, pa, 600, 8);
	expect_alloc(test, pa, 10, -ENOMEM);
	expect_alloc(test, pa, 9, 200);
	expect_alloc(test, pa, 9, -ENOMEM);
	expect_alloc(test, pa, 8, 600);
	expect_alloc(test, pa, 7, 300);
	expect_alloc(test, pa, 6, -ENOMEM);
	expect_alloc(test, pa, 5, 100);
	expect_alloc(test, pa, 1, -ENOMEM);
}

static void pa_test_exhaustion(struct kunit *test)
{
	struct gcheap_pagealloc *pa;
	unsigned long i;

	pa = pa_new(test, 1000);
	expect_alloc(test, pa, 1000, 0);
	expect_alloc(test, pa, 1, -ENOMEM);
	expect_free(test, pa, 0, 1000);
	expect_alloc(test, pa, 600, 0);
	expect_alloc(test, pa, 401, -ENOMEM);
	expect_alloc(test, pa, 400, 600);
	expect_alloc(test, pa, 1, -ENOMEM);
	KUNIT_ASSERT_EQ(test, pa->free_pages, 0ul);
	KUNIT_ASSERT_EQ(test, pa->search_addr, 1000ul);
	expect_free(test, pa, 300, 10);
	expect_free(test, pa, 100, 50);
	KUNIT_ASSERT_EQ(test, pa->search_addr, 100ul);
	expect_alloc(test, pa, 51, -ENOMEM);	/* 60 pages free, in 2 runs */
	expect_alloc(test, pa, 50, 100);
	expect_alloc(test, pa, 10, 300);
	gcheap_pagealloc_destroy(pa);

	/* Page by page to the last page of a second chunk. */
	pa = pa_new(test, CP + 1);
	for (i = 0; i <= CP; i++)
		expect_alloc(test, pa, 1, i);
	expect_alloc(test, pa, 1, -ENOMEM);
	expect_free(test, pa, CP, 1);
	expect_alloc(test, pa, 2, -ENOMEM);
	expect_alloc(test, pa, 1, CP);
}

/* A copy of everything an allocator holds, to prove a call changed nothing. */
struct pa_snap {
	unsigned long *bits;	/* inuse then scavenged */
	struct gcheap_pa_sum *sums;
	unsigned long nlongs, nsums, search_addr, free_pages;
};

static void pa_snap_take(struct kunit *test, const struct gcheap_pagealloc *pa,
			 struct pa_snap *s)
{
	unsigned long off = 0;
	unsigned int l;

	s->nlongs = BITS_TO_LONGS(DIV_ROUND_UP(pa->npages, CP) * CP);
	s->nsums = 0;
	for (l = 0; l < pa->nlevels; l++)
		s->nsums += 1UL << (3 * l);
	s->bits = kunit_kcalloc(test, 2 * s->nlongs, sizeof(long), GFP_KERNEL);
	s->sums = kunit_kcalloc(test, s->nsums, sizeof(*s->sums), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s->bits);
	KUNIT_ASSERT_NOT_NULL(test, s->sums);
	memcpy(s->bits, pa->inuse, s->nlongs * sizeof(long));
	memcpy(s->bits + s->nlongs, pa->scavenged, s->nlongs * sizeof(long));
	for (l = 0; l < pa->nlevels; l++) {
		memcpy(s->sums + off, pa->levels[l],
		       (1UL << (3 * l)) * sizeof(*s->sums));
		off += 1UL << (3 * l);
	}
	s->search_addr = pa->search_addr;
	s->free_pages = pa->free_pages;
}

static bool pa_snap_same(const struct gcheap_pagealloc *pa,
			 const struct pa_snap *s)
{
	unsigned long off = 0;
	unsigned int l;

	if (memcmp(s->bits, pa->inuse, s->nlongs * sizeof(long)) ||
	    memcmp(s->bits + s->nlongs, pa->scavenged, s->nlongs * sizeof(long)) ||
	    s->search_addr != pa->search_addr || s->free_pages != pa->free_pages)
		return false;
	for (l = 0; l < pa->nlevels; l++) {
		if (memcmp(s->sums + off, pa->levels[l],
			   (1UL << (3 * l)) * sizeof(*s->sums)))
			return false;
		off += 1UL << (3 * l);
	}
	return true;
}

static void pa_test_bad_input(struct kunit *test)
{
	struct gcheap_pagealloc *pa;
	struct pa_snap snap;
	unsigned long scav = 12345;

	pa = pa_new(test, 700);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_alloc(pa, 0, &scav), -EINVAL);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_alloc(pa, 701, &scav), -EINVAL);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_alloc(pa, ULONG_MAX, &scav), -EINVAL);
	KUNIT_ASSERT_EQ(test, scav, 12345ul);
	expect_alloc(test, pa, 100, 0);
	expect_alloc(test, pa, 50, 100);
	expect_alloc(test, pa, 10, 150);
	expect_free(test, pa, 150, 10);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_set_scavenged(pa, 600, 50), 0);
	pa_snap_take(test, pa, &snap);

	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_free(pa, 0, 0), -EINVAL);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_free(pa, 150, 1), -EINVAL);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_free(pa, 140, 20), -EINVAL);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_free(pa, 0, 151), -EINVAL);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_free(pa, 699, 1), -EINVAL);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_free(pa, 700, 1), -EINVAL);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_free(pa, 699, 2), -EINVAL);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_free(pa, 4096, 1), -EINVAL);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_free(pa, ULONG_MAX, 2), -EINVAL);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_free(pa, 10, ULONG_MAX), -EINVAL);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_set_scavenged(pa, 50, 10), -EINVAL);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_set_scavenged(pa, 140, 20), -EINVAL);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_set_scavenged(pa, 690, 11), -EINVAL);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_set_scavenged(pa, 700, 1), -EINVAL);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_set_scavenged(pa, 200, 0), -EINVAL);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_set_scavenged(pa, 1, ULONG_MAX), -EINVAL);
	KUNIT_ASSERT_TRUE(test, pa_snap_same(pa, &snap));

	KUNIT_ASSERT_TRUE(test, gcheap_pagealloc_in_use(pa, 0, 150));
	KUNIT_ASSERT_TRUE(test, gcheap_pagealloc_in_use(pa, 149, 1));
	KUNIT_ASSERT_FALSE(test, gcheap_pagealloc_in_use(pa, 0, 151));
	KUNIT_ASSERT_FALSE(test, gcheap_pagealloc_in_use(pa, 0, 0));
	KUNIT_ASSERT_FALSE(test, gcheap_pagealloc_in_use(pa, 699, 2));
	KUNIT_ASSERT_FALSE(test, gcheap_pagealloc_in_use(pa, 700, 1));
	KUNIT_ASSERT_FALSE(test, gcheap_pagealloc_in_use(pa, ULONG_MAX, 2));

	/* A double free is refused and changes nothing. */
	expect_free(test, pa, 100, 50);
	pa_snap_take(test, pa, &snap);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_free(pa, 100, 50), -EINVAL);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_free(pa, 99, 2), -EINVAL);
	KUNIT_ASSERT_TRUE(test, pa_snap_same(pa, &snap));
	pa_check(test, pa);
}

static void pa_test_scavenged(struct kunit *test)
{
	struct gcheap_pagealloc *pa;
	unsigned long scav = 777;

	pa = pa_new(test, 1024);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_set_scavenged(pa, 10, 20), 0);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_set_scavenged(pa, CP - 12, 30), 0);
	KUNIT_ASSERT_EQ(test, bitmap_weight(pa->scavenged, 1024), 50u);
	pa_check(test, pa);

	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_alloc(pa, 15, &scav), 0l);
	KUNIT_ASSERT_EQ(test, scav, 5ul);
	KUNIT_ASSERT_EQ(test, find_first_bit(pa->scavenged, 1024), 15ul);
	KUNIT_ASSERT_EQ(test, bitmap_weight(pa->scavenged, 1024), 45u);
	pa_check(test, pa);

	/* NULL @scav: the bits are cleared all the same. */
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_alloc(pa, 20, NULL), 15l);
	KUNIT_ASSERT_EQ(test, find_first_bit(pa->scavenged, 1024), CP - 12);
	pa_check(test, pa);

	/* Across the chunk boundary. */
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_alloc(pa, 600, &scav), 35l);
	KUNIT_ASSERT_EQ(test, scav, 30ul);
	KUNIT_ASSERT_TRUE(test, bitmap_empty(pa->scavenged, 1024));
	pa_check(test, pa);

	/* None scavenged reports 0. */
	scav = 777;
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_alloc(pa, 5, &scav), 635l);
	KUNIT_ASSERT_EQ(test, scav, 0ul);

	/* Freed pages can be scavenged; in-use ones cannot. */
	expect_free(test, pa, 100, 10);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_set_scavenged(pa, 95, 10), -EINVAL);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_set_scavenged(pa, 100, 10), 0);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_set_scavenged(pa, 104, 3), 0);
	KUNIT_ASSERT_EQ(test, bitmap_weight(pa->scavenged, 1024), 10u);
	pa_check(test, pa);
	KUNIT_ASSERT_EQ(test, pa->scav_pages, 10ul);	/* 104..106 counted once */
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_alloc(pa, 10, &scav), 100l);
	KUNIT_ASSERT_EQ(test, scav, 10ul);
	KUNIT_ASSERT_TRUE(test, bitmap_empty(pa->scavenged, 1024));
	KUNIT_ASSERT_EQ(test, pa->scav_pages, 0ul);
	pa_check(test, pa);
}

/* The scavenger's search: highest first, capped, past scavenged pages. */
static void pa_test_find_unscavenged(struct kunit *test)
{
	struct gcheap_pagealloc *pa = pa_new(test, 700);
	unsigned long start = 777;

	/* Free: [0, 700). Highest run first, cut to @max from its top. */
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_find_unscavenged(pa, 700, 64, &start), 64ul);
	KUNIT_ASSERT_EQ(test, start, 636ul);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_find_unscavenged(pa, 2000, 1000, &start), 700ul);
	KUNIT_ASSERT_EQ(test, start, 0ul);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_find_unscavenged(pa, 0, 10, &start), 0ul);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_find_unscavenged(pa, 10, 0, &start), 0ul);

	/* In use [0, 600); scavenged [650, 700): the run is [600, 650). */
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_alloc(pa, 600, NULL), 0l);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_set_scavenged(pa, 650, 50), 0);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_find_unscavenged(pa, 700, 512, &start), 50ul);
	KUNIT_ASSERT_EQ(test, start, 600ul);
	/* Below a page inside the run, and across a word boundary. */
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_find_unscavenged(pa, 641, 512, &start), 41ul);
	KUNIT_ASSERT_EQ(test, start, 600ul);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_find_unscavenged(pa, 600, 512, &start), 0ul);
	/* A hole at 5 and one at 130, below in-use pages. */
	expect_free(test, pa, 5, 1);
	expect_free(test, pa, 130, 3);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_find_unscavenged(pa, 600, 512, &start), 3ul);
	KUNIT_ASSERT_EQ(test, start, 130ul);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_find_unscavenged(pa, 130, 512, &start), 1ul);
	KUNIT_ASSERT_EQ(test, start, 5ul);
	/* Everything free scavenged: nothing to find. */
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_set_scavenged(pa, 600, 50), 0);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_set_scavenged(pa, 130, 3), 0);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_set_scavenged(pa, 5, 1), 0);
	KUNIT_ASSERT_EQ(test, pa->scav_pages, pa->free_pages);
	KUNIT_ASSERT_EQ(test, gcheap_pagealloc_find_unscavenged(pa, 700, 512, &start), 0ul);
	pa_check(test, pa);
}

/*
 * Random sequences: the allocator against a reference bitmap, every result
 * against a linear first-fit scan of it, every invariant after every call.
 */
struct pa_block {
	unsigned long start, n;
};

#define PA_MAX_BLOCKS	512

struct pa_rand_ctx {
	struct gcheap_pagealloc *pa;
	unsigned long npages;
	unsigned long *ref;		/* 1 = in use */
	unsigned long *refscav;		/* 1 = scavenged */
	struct pa_block *blk;
	unsigned int nblk;
	u64 rng;
	char msg[128];			/* the first failure */
	/* What the run exercised, reported at its end. */
	unsigned int allocs, enomem, frees, partial, bad_frees, scav_ok, scav_bad, finds;
	unsigned long largest, scav_pages, found;
};

static unsigned long pa_rand_size(struct pa_rand_ctx *c)
{
	unsigned long r = pa_below(&c->rng, 100), lim;

	if (r < 60)
		lim = 8;
	else if (r < 85)
		lim = 64;
	else if (r < 97)
		lim = CP + 100;
	else if (r < 99)
		lim = 4 * CP;
	else
		lim = c->npages / 2 + 1;
	return 1 + pa_below(&c->rng, min(lim, c->npages));
}

static bool pa_rand_alloc(struct pa_rand_ctx *c)
{
	unsigned long n = pa_rand_size(c), scav = ULONG_MAX, want_scav = 0, i;
	long want = ref_first_fit(c->ref, c->npages, n);
	long got = gcheap_pagealloc_alloc(c->pa, n, &scav);

	if (got != want) {
		snprintf(c->msg, sizeof(c->msg), "alloc(%lu) = %ld, first fit is %ld",
			 n, got, want);
		return false;
	}
	if (got < 0) {
		c->enomem++;
		return true;
	}
	for (i = got; i < got + n; i++)
		want_scav += test_bit(i, c->refscav);
	if (scav != want_scav) {
		snprintf(c->msg, sizeof(c->msg),
			 "alloc(%lu) = %ld: %lu scavenged, not %lu",
			 n, got, scav, want_scav);
		return false;
	}
	bitmap_set(c->ref, got, n);
	bitmap_clear(c->refscav, got, n);
	c->blk[c->nblk].start = got;
	c->blk[c->nblk].n = n;
	c->nblk++;
	c->allocs++;
	c->largest = max(c->largest, n);
	c->scav_pages += scav;
	if (!gcheap_pagealloc_in_use(c->pa, got, n)) {
		snprintf(c->msg, sizeof(c->msg), "alloc(%lu) = %ld: not in use",
			 n, got);
		return false;
	}
	return true;
}

/* Free a random block, whole or one end of it. */
static bool pa_rand_free(struct pa_rand_ctx *c)
{
	unsigned int k = pa_below(&c->rng, c->nblk);
	struct pa_block *b = &c->blk[k];
	unsigned long start = b->start, n = b->n;
	int ret;

	if (b->n > 1 && pa_below(&c->rng, 4) == 0) {
		n = 1 + pa_below(&c->rng, b->n - 1);
		if (pa_below(&c->rng, 2))
			start = b->start + b->n - n;
		else
			b->start += n;
		b->n -= n;
		c->partial++;
	} else {
		*b = c->blk[--c->nblk];
	}
	ret = gcheap_pagealloc_free(c->pa, start, n);
	if (ret || gcheap_pagealloc_in_use(c->pa, start, 1)) {
		snprintf(c->msg, sizeof(c->msg), "free(%lu, %lu) = %d", start, n, ret);
		return false;
	}
	bitmap_clear(c->ref, start, n);
	c->frees++;
	return true;
}

/*
 * A range holding free pages, sometimes starting a page early or running
 * a page past its free run: free() must refuse it, set_scavenged() take it
 * exactly when it is all free.
 */
static bool pa_rand_other(struct pa_rand_ctx *c, bool scavenge)
{
	unsigned long p = pa_below(&c->rng, c->npages), a, b, n;
	bool all_free;
	int ret;

	a = find_next_zero_bit(c->ref, c->npages, p);
	if (a >= c->npages)
		a = find_first_zero_bit(c->ref, c->npages);
	if (a >= c->npages)
		return true;			/* heap full */
	b = find_next_bit(c->ref, c->npages, a);
	n = 1 + pa_below(&c->rng, min(b - a, 64ul));
	if (a > 0 && pa_below(&c->rng, 4) == 0) {
		a--;
		n++;
	} else if (pa_below(&c->rng, 4) == 0) {
		n = b - a + 1;
	}
	all_free = a + n <= c->npages &&
		   find_next_bit(c->ref, a + n, a) >= a + n;
	if (!scavenge) {
		ret = gcheap_pagealloc_free(c->pa, a, n);
		if (ret != -EINVAL) {
			snprintf(c->msg, sizeof(c->msg),
				 "free(%lu, %lu) of free pages = %d", a, n, ret);
			return false;
		}
		c->bad_frees++;
		return true;
	}
	ret = gcheap_pagealloc_set_scavenged(c->pa, a, n);
	if (ret != (all_free ? 0 : -EINVAL)) {
		snprintf(c->msg, sizeof(c->msg),
			 "set_scavenged(%lu, %lu) = %d, all free: %d",
			 a, n, ret, all_free);
		return false;
	}
	if (all_free) {
		bitmap_set(c->refscav, a, n);
		c->scav_ok++;
	} else {
		c->scav_bad++;
	}
	return true;
}

/*
 * The scavenger's search below a random page with a random cap, against
 * the reference: the highest free, unscavenged page below, and the run
 * down from it; then scavenge what it found, as the scavenger does.
 */
static bool pa_rand_find(struct pa_rand_ctx *c)
{
	unsigned long below = pa_below(&c->rng, c->npages + 1);
	unsigned long max = 1 + pa_below(&c->rng, 100), start = ULONG_MAX, n;
	unsigned long end = 0, lo, p;

	for (p = below; p > 0; p--) {
		if (!test_bit(p - 1, c->ref) && !test_bit(p - 1, c->refscav)) {
			end = p;
			break;
		}
	}
	n = gcheap_pagealloc_find_unscavenged(c->pa, below, max, &start);
	if (!end) {
		if (!n)
			return true;
		snprintf(c->msg, sizeof(c->msg), "find(%lu, %lu) = %lu at %lu, none there",
			 below, max, n, start);
		return false;
	}
	/* The whole run down from @end, then its top @max pages. */
	for (lo = end - 1; lo > 0; lo--)
		if (test_bit(lo - 1, c->ref) || test_bit(lo - 1, c->refscav))
			break;
	lo = max(lo, end > max ? end - max : 0);
	if (n != end - lo || start != lo) {
		snprintf(c->msg, sizeof(c->msg), "find(%lu, %lu) = %lu at %lu, not %lu at %lu",
			 below, max, n, start, end - lo, lo);
		return false;
	}
	if (gcheap_pagealloc_set_scavenged(c->pa, start, n)) {
		snprintf(c->msg, sizeof(c->msg), "set_scavenged(%lu, %lu) of a found run",
			 start, n);
		return false;
	}
	bitmap_set(c->refscav, start, n);
	c->finds++;
	c->found += n;
	return true;
}

/* One operation chosen at random, then every check. */
static bool pa_rand_step(struct pa_rand_ctx *c)
{
	unsigned int r = pa_below(&c->rng, 100);
	/* Alloc more often while the heap is emptier: about half full. */
	unsigned int p_alloc = 25 + 50 * c->pa->free_pages / c->npages;
	bool ok;

	if (r < 4)
		ok = pa_rand_other(c, true);
	else if (r < 6)
		ok = pa_rand_other(c, false);
	else if (r < 10)
		ok = pa_rand_find(c);
	else if (c->nblk == 0 || (c->nblk < PA_MAX_BLOCKS && r < 10 + p_alloc))
		ok = pa_rand_alloc(c);
	else
		ok = pa_rand_free(c);
	if (!ok || !pa_check_msg(c->pa, c->msg, sizeof(c->msg)))
		return false;
	if (!bitmap_equal(c->pa->inuse, c->ref, c->npages) ||
	    !bitmap_equal(c->pa->scavenged, c->refscav, c->npages)) {
		snprintf(c->msg, sizeof(c->msg), "bitmaps differ from the reference");
		return false;
	}
	return true;
}

static void pa_random_run(struct kunit *test, unsigned long npages,
			  unsigned int nops, u64 seed)
{
	struct pa_rand_ctx *c;
	unsigned int op;

	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	c->npages = npages;
	c->rng = seed;
	c->ref = kunit_kcalloc(test, BITS_TO_LONGS(npages), sizeof(long), GFP_KERNEL);
	c->refscav = kunit_kcalloc(test, BITS_TO_LONGS(npages), sizeof(long), GFP_KERNEL);
	c->blk = kunit_kcalloc(test, PA_MAX_BLOCKS, sizeof(*c->blk), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c->ref);
	KUNIT_ASSERT_NOT_NULL(test, c->refscav);
	KUNIT_ASSERT_NOT_NULL(test, c->blk);
	c->pa = pa_new(test, npages);

	for (op = 0; op < nops; op++) {
		if (!pa_rand_step(c))
			KUNIT_ASSERT_FAILURE(test, "op %u: %s", op, c->msg);
	}
	/* Free what is left: the heap is whole again. */
	while (c->nblk) {
		struct pa_block *b = &c->blk[--c->nblk];

		if (gcheap_pagealloc_free(c->pa, b->start, b->n))
			KUNIT_ASSERT_FAILURE(test, "free(%lu, %lu) at the end",
					     b->start, b->n);
	}
	pa_check(test, c->pa);
	if (c->pa->free_pages != npages || c->pa->search_addr ||
	    c->pa->levels[0][0].max != npages)
		KUNIT_ASSERT_FAILURE(test, "heap not whole after freeing everything");
	kunit_info(test, "%u ops: %u allocs (max %lu), %u ENOMEM, %u+%u frees, %u EINVAL, %u+%u scav, %lu pages scav, %u finds of %lu pages\n",
		   nops, c->allocs, c->largest, c->enomem, c->frees - c->partial,
		   c->partial, c->bad_frees, c->scav_ok, c->scav_bad, c->scav_pages,
		   c->finds, c->found);
	KUNIT_EXPECT_GT(test, c->found, 0ul);	/* the search was exercised */
}

/* Sizes: one page, part of a chunk, a chunk, chunk + 1, then 2 to 5 levels. */
static void pa_test_random_1(struct kunit *test)
{
	pa_random_run(test, 1, 300, 1);
}

static void pa_test_random_100(struct kunit *test)
{
	pa_random_run(test, 100, 5000, 2);
}

static void pa_test_random_512(struct kunit *test)
{
	pa_random_run(test, 512, 5000, 3);
}

static void pa_test_random_513(struct kunit *test)
{
	pa_random_run(test, 513, 5000, 4);
}

static void pa_test_random_4096(struct kunit *test)
{
	pa_random_run(test, 4096, 5000, 5);
}

static void pa_test_random_4097(struct kunit *test)
{
	pa_random_run(test, 4097, 4000, 6);
}

static void pa_test_random_40000(struct kunit *test)
{
	pa_random_run(test, 40000, 4000, 7);
}

static void pa_test_random_300001(struct kunit *test)
{
	pa_random_run(test, 300001, 1500, 8);
}

static struct kunit_case pagealloc_test_cases[] = {
	KUNIT_CASE(pa_test_init_shapes),
	KUNIT_CASE(pa_test_alternating),
	KUNIT_CASE(pa_test_cross_chunk),
	KUNIT_CASE(pa_test_multi_chunk),
	KUNIT_CASE(pa_test_exact_fit),
	KUNIT_CASE(pa_test_exhaustion),
	KUNIT_CASE(pa_test_bad_input),
	KUNIT_CASE(pa_test_scavenged),
	KUNIT_CASE(pa_test_find_unscavenged),
	KUNIT_CASE(pa_test_random_1),
	KUNIT_CASE(pa_test_random_100),
	KUNIT_CASE(pa_test_random_512),
	KUNIT_CASE(pa_test_random_513),
	KUNIT_CASE(pa_test_random_4096),
	KUNIT_CASE(pa_test_random_4097),
	KUNIT_CASE(pa_test_random_40000),
	KUNIT_CASE(pa_test_random_300001),
	{}
};

static struct kunit_suite pagealloc_test_suite = {
	.name = "gcheap_pagealloc",
	.test_cases = pagealloc_test_cases,
};

kunit_test_suite(pagealloc_test_suite);
