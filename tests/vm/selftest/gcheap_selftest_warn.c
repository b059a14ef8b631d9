// SPDX-License-Identifier: GPL-2.0
/* Harness self-test: a module that WARNs once at load and otherwise works. */
#include <linux/module.h>
#include <linux/bug.h>

static int __init selftest_warn_init(void)
{
	WARN(1, "gcheap harness self-test: deliberate warning\n");
	return 0;
}

static void __exit selftest_warn_exit(void)
{
}

module_init(selftest_warn_init);
module_exit(selftest_warn_exit);
MODULE_DESCRIPTION("gcheap harness self-test: WARN at load");
MODULE_LICENSE("GPL");
