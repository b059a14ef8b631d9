// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Allocation end to end through libgcheap: every small size (1 B .. 32 KiB)
 * scan and noscan, and large sizes at every heap-page boundary up to 1 MiB.
 * Each object must be zeroed, aligned, in the right size class, and must
 * not overlap any other live object (checked with a shadow table of
 * intervals and by a pattern written into every object and read back).
 * Objects are freed a batch at a time, so later batches reuse freed slots
 * and pages and check that they come back zeroed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcheap.h"
#include "tap.h"

struct obj {
	unsigned char *p;
	size_t size;
};

static int cmp_obj(const void *a, const void *b)
{
	const struct obj *x = a, *y = b;

	return x->p < y->p ? -1 : x->p > y->p;
}

static size_t expected_size(size_t size, bool noscan)
{
	unsigned int c;

	if (noscan && size < 16)
		return 16;	/* a tiny block */
	if (size > 32768)
		return (size + 8191) & ~(size_t)8191;
	for (c = 1; gch_class_size(c) < size; c++)
		;
	return gch_class_size(c);
}

static size_t expected_align(size_t size, bool noscan)
{
	if (size > 32768)
		return 8192;
	if (noscan && size < 16)
		return (size & 7) == 0 ? 8 : (size & 3) == 0 ? 4 : (size & 1) == 0 ? 2 : 1;
	/* A class's objects sit at multiples of its size from an 8 KiB base. */
	size = expected_size(size, noscan);
	return size % 16 ? 8 : 16;
}

static unsigned char pattern(const struct obj *o, size_t i)
{
	return (unsigned char)((uintptr_t)o->p * 31 + i * 7 + 1);
}

struct tally {
	unsigned long allocs, fail, unzeroed, misaligned, wrong_class, overlaps, corrupt, frees;
};

/* Allocate one batch, check it, free it. */
static void batch(struct obj *objs, size_t n, bool noscan, struct tally *t)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		struct obj *o = &objs[i];
		void *base = NULL;
		size_t got;

		o->p = noscan ? gch_alloc_noscan(o->size) : gch_alloc(o->size);
		t->allocs++;
		if (!o->p) {
			t->fail++;
			continue;
		}
		for (j = 0; j < o->size; j++)
			if (o->p[j])
				break;
		t->unzeroed += j != o->size;
		t->misaligned += (uintptr_t)o->p % expected_align(o->size, noscan) != 0;
		got = gch_size(o->p, &base);
		if (noscan && o->size < 16)	/* a tiny object lies inside its block */
			t->wrong_class += got != 16 || (unsigned char *)base > o->p ||
					  o->p + o->size > (unsigned char *)base + 16;
		else
			t->wrong_class += got != expected_size(o->size, noscan) || base != o->p;
		for (j = 0; j < o->size; j++)
			o->p[j] = pattern(o, j);
	}
	qsort(objs, n, sizeof(*objs), cmp_obj);
	for (i = 0; i < n; i++) {
		if (!objs[i].p)
			continue;
		if (i + 1 < n && objs[i + 1].p && objs[i].p + objs[i].size > objs[i + 1].p)
			t->overlaps++;
		for (j = 0; j < objs[i].size; j++)
			if (objs[i].p[j] != pattern(&objs[i], j))
				break;
		t->corrupt += j != objs[i].size;
	}
	for (i = 0; i < n; i++) {
		int r;

		if (!objs[i].p)
			continue;
		r = gch_free(objs[i].p);
		/* Tiny blocks (noscan, 16 B) are shared: never freed one by one. */
		if (r == 0 || (noscan && objs[i].size <= 16 && errno == EBUSY))
			t->frees++;
	}
}

static void report(const char *what, const struct tally *t)
{
	ok(t->fail == 0, "%s: %lu allocations, none failed (%lu)", what, t->allocs, t->fail);
	ok(t->unzeroed == 0, "%s: every object zeroed (%lu were not)", what, t->unzeroed);
	ok(t->misaligned == 0, "%s: every object aligned (%lu were not)", what, t->misaligned);
	ok(t->wrong_class == 0, "%s: every object in the right size class (%lu were not)",
	   what, t->wrong_class);
	ok(t->overlaps == 0, "%s: no live objects overlap (%lu did)", what, t->overlaps);
	ok(t->corrupt == 0, "%s: every object kept its contents (%lu did not)", what, t->corrupt);
	ok(t->frees == t->allocs - t->fail, "%s: every object freed (%lu of %lu)", what,
	   t->frees, t->allocs - t->fail);
}

int main(void)
{
	enum { BATCH = 1024 };
	struct obj *objs = calloc(BATCH, sizeof(*objs));
	struct gch_stats st;
	int noscan;

	/* The table is how the test holds its objects: the collector must see it. */
	if (!ok(objs && gch_root_add(objs, objs + BATCH) == 0, "the object table is a root"))
		return tap_done();
	for (noscan = 0; noscan < 2; noscan++) {
		struct tally small = { 0 }, large = { 0 };
		size_t size, n = 0, pages;

		for (size = 1; size <= 32768; size++) {
			objs[n++].size = size;
			if (n == BATCH || size == 32768) {
				batch(objs, n, noscan, &small);
				n = 0;
			}
		}
		report(noscan ? "small noscan" : "small scan", &small);

		/* Large objects are whole pages: every page count, at its edges. */
		for (pages = 4; pages <= 128; pages++) {
			size_t edge = pages * 8192;

			objs[n++].size = edge - 1;
			objs[n++].size = edge;
			if (edge < (1 << 20))
				objs[n++].size = edge + 1;
			if (n >= 60 || pages == 128) {
				batch(objs, n, noscan, &large);
				n = 0;
			}
		}
		report(noscan ? "large noscan" : "large scan", &large);
	}

	ok(gch_stats(&st) == 0, "stats");
	tap_diag("heap: sys %llu MiB, resident %llu MiB, %llu refills, %llu syscalls",
		 (unsigned long long)st.heap_sys >> 20, (unsigned long long)st.heap_resident >> 20,
		 (unsigned long long)st.refills, (unsigned long long)st.syscalls);
	ok(st.large_objects == 0, "no large object left after freeing all");
	ok(gch_alloc(1ULL << 50) == NULL && errno == ENOMEM, "an impossible size: ENOMEM");
	gch_root_remove(objs, objs + BATCH);
	free(objs);
	return tap_done();
}
