/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GCHEAP_ROOTS_H
#define _GCHEAP_ROOTS_H

#include "heap.h"
#include "mark.h"

int gcheap_root_op(struct gcheap *heap, const struct gcheap_root *req);
void gcheap_roots_scan(struct gcheap *heap, struct gcheap_gcwork *w);
void gcheap_roots_destroy(struct gcheap *heap);

#endif /* _GCHEAP_ROOTS_H */
