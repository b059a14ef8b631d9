// SPDX-License-Identifier: GPL-2.0
/* Harness self-test: a module whose load never returns, so the guest hangs. */
#include <linux/module.h>
#include <linux/delay.h>

static int __init selftest_hang_init(void)
{
	for (;;)
		msleep_interruptible(1000);
	return 0;
}

module_init(selftest_hang_init);
MODULE_DESCRIPTION("gcheap harness self-test: hang at load");
MODULE_LICENSE("GPL");
