// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for the size-class table: Go's waste bounds, object counts and
 * the division-free object index for every offset of every class.
 */
#include <kunit/test.h>
#include "sizeclass.h"

/*
 * Go's published worst-case waste per class, in hundredths of a percent
 * (mksizeclasses.go: a request one byte over the previous class, plus the
 * span's tail). The table in sizeclass.c must reproduce each one.
 */
static const u16 go_max_waste[GCHEAP_NUM_SIZE_CLASSES] = {
	0,
	8750, 4375, 2924, 2188, 3152, 2344, 1907, 1595, 1356, 1172, 1182, 973, 959,
	925, 812, 815, 662, 586, 1216, 1180, 988, 951, 1071, 837, 682, 605, 1233,
	1548, 1393, 1394, 1552, 1240, 1241, 1555, 1400, 1400, 1557, 1245, 1246, 1559,
	1247, 622, 883, 1560, 1665, 1092, 1248, 623, 436, 337, 1561, 1428, 364, 499,
	624, 1145, 999, 535, 1249, 1111, 357, 687, 625, 1145, 1000, 491, 1250,
};

static void sizeclass_test_table_shape(struct kunit *test)
{
	int c;

	KUNIT_EXPECT_EQ(test, gcheap_classes[0].size, 0u);
	KUNIT_EXPECT_EQ(test, gcheap_classes[1].size, 8u);
	KUNIT_EXPECT_EQ(test, gcheap_classes[GCHEAP_NUM_SIZE_CLASSES - 1].size,
			(u32)GCHEAP_MAX_SMALL_SIZE);
	for (c = 1; c < GCHEAP_NUM_SIZE_CLASSES; c++) {
		const struct gcheap_class_info *ci = &gcheap_classes[c];

		KUNIT_EXPECT_GT(test, ci->size, gcheap_classes[c - 1].size);
		KUNIT_EXPECT_EQ(test, ci->size % 8, 0u);
		/* 16-byte alignment from 32 B up, as in Go. */
		if (ci->size >= 32)
			KUNIT_EXPECT_EQ(test, ci->size % 16, 0u);
		KUNIT_EXPECT_GE(test, ci->npages, 1u);
		KUNIT_EXPECT_LE(test, ci->npages, 10u);
		KUNIT_EXPECT_EQ(test, ci->nelems,
				(u32)(ci->npages * GCHEAP_PAGE_SIZE / ci->size));
		KUNIT_EXPECT_EQ(test, ci->div_magic, 0xFFFFFFFFu / ci->size + 1);
		KUNIT_EXPECT_GE(test, ci->nelems, 1u);
		KUNIT_EXPECT_LE(test, ci->nelems, 1024u);
	}
}

static void sizeclass_test_waste_bounds(struct kunit *test)
{
	int c;

	for (c = 1; c < GCHEAP_NUM_SIZE_CLASSES; c++) {
		const struct gcheap_class_info *ci = &gcheap_classes[c];
		u64 span = (u64)ci->npages * GCHEAP_PAGE_SIZE;
		u64 tail = span % ci->size;
		u64 prev = gcheap_classes[c - 1].size;
		u64 waste = ((ci->size - prev - 1) * ci->nelems + tail) * 10000;
		u64 go = go_max_waste[c];

		/* Tail within 1/8 of the span: Go's rule for picking npages. */
		KUNIT_EXPECT_LE_MSG(test, tail * 8, span, "class %d", c);
		/* From 128 B up no request wastes more than 17 % of a span. */
		if (ci->size >= 128)
			KUNIT_EXPECT_LE_MSG(test, waste, 1700 * span, "class %d", c);
		/* Within 0.005 % of Go's printed figure (it rounds to 0.01). */
		KUNIT_EXPECT_LE_MSG(test, waste, (go + 1) * span - span / 2,
				    "class %d", c);
		KUNIT_EXPECT_GE_MSG(test, waste + span / 2, go * span,
				    "class %d", c);
	}
}

static void sizeclass_test_obj_index(struct kunit *test)
{
	int c;

	for (c = 1; c < GCHEAP_NUM_SIZE_CLASSES; c++) {
		const struct gcheap_class_info *ci = &gcheap_classes[c];
		u32 span = ci->npages * GCHEAP_PAGE_SIZE;
		u32 off, bad = 0;

		/* Every byte offset of the span, tail included. */
		for (off = 0; off < span; off++)
			if (gcheap_obj_index(ci, off) != off / ci->size)
				bad++;
		KUNIT_EXPECT_EQ_MSG(test, bad, 0u, "class %d (%u B)", c, ci->size);
		KUNIT_EXPECT_EQ(test, gcheap_obj_index(ci, ci->nelems * ci->size - 1),
				ci->nelems - 1);
	}
}

static struct kunit_case sizeclass_test_cases[] = {
	KUNIT_CASE(sizeclass_test_table_shape),
	KUNIT_CASE(sizeclass_test_waste_bounds),
	KUNIT_CASE(sizeclass_test_obj_index),
	{}
};

static struct kunit_suite sizeclass_test_suite = {
	.name = "gcheap_sizeclass",
	.test_cases = sizeclass_test_cases,
};

kunit_test_suite(sizeclass_test_suite);
