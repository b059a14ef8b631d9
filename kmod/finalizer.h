/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GCHEAP_FINALIZER_H
#define _GCHEAP_FINALIZER_H

#include "heap.h"
#include "mark.h"

void gcheap_final_init(struct gcheap *heap);
void gcheap_final_destroy(struct gcheap *heap);
int gcheap_finalizer_set(struct gcheap *heap, struct gcheap_finalizer *req);
int gcheap_finalizers_take(struct gcheap *heap, struct gcheap_finalizers *req);
int gcheap_link_op(struct gcheap *heap, const struct gcheap_link *req);
void gcheap_final_forget(struct gcheap *heap, unsigned long obj);
void gcheap_final_mark_queued(struct gcheap *heap, struct gcheap_gcwork *w);
void gcheap_links_clear(struct gcheap *heap);
void gcheap_final_scan_ordered(struct gcheap *heap, struct gcheap_gcwork *w);
void gcheap_final_queue_dead(struct gcheap *heap, struct gcheap_gcwork *w);

#endif /* _GCHEAP_FINALIZER_H */
