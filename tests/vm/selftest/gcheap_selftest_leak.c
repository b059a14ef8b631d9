// SPDX-License-Identifier: GPL-2.0
/* Harness self-test: a module that leaks one allocation at load. */
#include <linux/module.h>
#include <linux/slab.h>

static int __init selftest_leak_init(void)
{
	void *p = kmalloc(4096, GFP_KERNEL);

	/* The only reference dies with this frame: kmemleak must report it. */
	pr_info("gcheap harness self-test: leaking %d bytes\n", p ? 4096 : 0);
	return 0;
}

static void __exit selftest_leak_exit(void)
{
}

module_init(selftest_leak_init);
module_exit(selftest_leak_exit);
MODULE_DESCRIPTION("gcheap harness self-test: a leak kmemleak must find");
MODULE_LICENSE("GPL");
