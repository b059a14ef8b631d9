/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GCHEAP_GC_H
#define _GCHEAP_GC_H

#include "heap.h"

int gcheap_gc(struct gcheap *heap, const struct gcheap_gc *req);
int gcheap_gc_init(struct gcheap *heap);
void gcheap_gc_destroy(struct gcheap *heap);

#endif /* _GCHEAP_GC_H */
