// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A full heap: allocation returns NULL with ENOMEM, small and large, and
 * nothing crashes; after objects are freed, allocation works again.
 */
#include <errno.h>
#include <stdlib.h>

#include "gcheap.h"
#include "tap.h"

int main(void)
{
	struct gch_options opts = { .heap_max = 8 << 20 };
	struct gch_stats st;
	void **objs;
	size_t n = 0, cap = 2 * (8 << 20 >> 10), i;
	void *p;

	if (!ok(gch_init(&opts) == 0, "an 8 MiB heap"))
		return tap_done();
	objs = calloc(cap, sizeof(*objs));
	/* Every object stays reachable: a full heap must stay full after a cycle. */
	if (!ok(objs && gch_root_add(objs, objs + cap) == 0, "the object table is a root"))
		return tap_done();
	while (n < cap && (p = gch_alloc(1024)))
		objs[n++] = p;
	ok(n > 0 && n < cap && errno == ENOMEM,
	   "1 KiB objects until the heap is full: %zu, then NULL/ENOMEM", n);
	ok(gch_alloc(1024) == NULL && errno == ENOMEM, "still full: ENOMEM again");
	ok(gch_alloc(100000) == NULL && errno == ENOMEM, "a large object: ENOMEM");
	ok(gch_alloc_noscan(8) == NULL && errno == ENOMEM, "a tiny object: ENOMEM");
	ok(gch_stats(&st) == 0 && st.heap_idle == 0, "no idle page left (%llu B idle)",
	   (unsigned long long)st.heap_idle);
	for (i = 0; i < n; i++)
		if (gch_free(objs[i]) < 0)
			break;
	ok(i == n, "every object freed (%zu of %zu)", i, n);
	ok((p = gch_alloc(100000)) != NULL, "after the frees a large object fits");
	ok(gch_free(p) == 0 && gch_alloc(1024) != NULL, "and small ones again");
	free(objs);
	return tap_done();
}
