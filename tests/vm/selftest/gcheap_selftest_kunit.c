// SPDX-License-Identifier: GPL-2.0
/* Harness self-test: a KUnit suite with one passing and one failing case. */
#include <kunit/test.h>

static void selftest_passes(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, 1 + 1, 2);
}

static void selftest_fails(struct kunit *test)
{
	KUNIT_EXPECT_EQ_MSG(test, 1 + 1, 3, "deliberate failure");
}

static struct kunit_case selftest_cases[] = {
	KUNIT_CASE(selftest_passes),
	KUNIT_CASE(selftest_fails),
	{}
};

static struct kunit_suite selftest_suite = {
	.name = "gcheap_selftest",
	.test_cases = selftest_cases,
};

kunit_test_suite(selftest_suite);
MODULE_DESCRIPTION("gcheap harness self-test: a failing KUnit case");
MODULE_LICENSE("GPL");
