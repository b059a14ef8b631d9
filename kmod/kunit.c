// SPDX-License-Identifier: GPL-2.0
/*
 * gcheap_test.ko: every KUnit suite of kmod/ (the *_test.c files) in one
 * module. They test code of gcheap.ko through symbols it exports only under
 * CONFIG_KUNIT.
 */
#include <linux/module.h>

MODULE_DESCRIPTION("KUnit tests for gcheap");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
