/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GCHEAP_PACER_H
#define _GCHEAP_PACER_H

#include <linux/types.h>
#include "heap.h"

#define GCHEAP_HEAP_MINIMUM	(4ULL << 20)	/* Go's defaultHeapMinimum */

u64 gcheap_pacer_goal(u64 marked, int gogc);
u64 gcheap_pacer_live(const struct gcheap *heap);
bool gcheap_pacer_due(const struct gcheap *heap);
int gcheap_default_gogc(void);
void gcheap_pacer_note_alloc(struct gcheap *heap, s64 bytes);
void gcheap_pacer_cycle_end(struct gcheap *heap, u64 marked);
int gcheap_pacer_set_gogc(struct gcheap *heap, int gogc);
int gcheap_pacer_setgc(struct gcheap *heap, struct gcheap_setgc *req);

#endif /* _GCHEAP_PACER_H */
