/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GCHEAP_SWEEP_H
#define _GCHEAP_SWEEP_H

#include "span.h"

void gcheap_sweep_locked(struct gcheap *heap, struct gcheap_span *span);
void gcheap_sweep_span(struct gcheap *heap, struct gcheap_span *span);
void gcheap_sweep_for_pages(struct gcheap *heap);
bool gcheap_sweep_one(struct gcheap *heap, int spanclass);
void gcheap_sweep_all(struct gcheap *heap);
void gcheap_sweep_start_background(struct gcheap *heap);
void gcheap_sweep_work_fn(struct kthread_work *work);

#endif /* _GCHEAP_SWEEP_H */
