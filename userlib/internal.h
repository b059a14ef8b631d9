/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libgcheap internals shared between its files; not installed. */
#ifndef GCHEAP_INTERNAL_H
#define GCHEAP_INTERNAL_H

#include "uapi/gcheap.h"


struct gch_heap {
	int fd;				/* /dev/gcheap, -1 until opened */
	struct gcheap_info info;	/* as reported at open */
	struct gcheap_size_class classes[GCHEAP_NUM_SIZE_CLASSES];
};

extern struct gch_heap gch_heap;

/* Open the heap if it is not open yet. */
int gch_heap_ensure(void);

#endif /* GCHEAP_INTERNAL_H */
