// SPDX-License-Identifier: LGPL-2.1-or-later
/* The demo `make run` starts inside the VM: what the heap reports. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gcheap.h"

int main(void)
{
	struct gch_heap_info hi;
	unsigned int c;

	if (gch_heap_info(&hi) < 0) {
		fprintf(stderr, "demo: cannot open the heap: %s\n", strerror(errno));
		return 1;
	}
	printf("gcheap demo: heap of process %d, module ABI %u\n", (int)hi.owner,
	       hi.abi_version);
	printf("  heap page %zu B, %u size classes, small objects up to %zu B\n",
	       hi.page_size, hi.num_size_classes - 1, hi.max_small_size);
	printf("  size classes:");
	for (c = 1; c < hi.num_size_classes; c++)
		printf("%s%zu", c % 12 == 1 ? "\n    " : " ", gch_class_size(c));
	printf("\n");
	return 0;
}
