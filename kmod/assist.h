/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GCHEAP_ASSIST_H
#define _GCHEAP_ASSIST_H

#include <linux/types.h>
#include "heap.h"

#define GCHEAP_ASSIST_OVERWORK	(64ULL << 10)	/* Go's gcOverAssistWork */

int gcheap_assist_alloc(struct gcheap *heap, struct gcheap_m *m, u64 bytes);
void gcheap_assist_refund(struct gcheap *heap, struct gcheap_m *m, u64 bytes);

#endif /* _GCHEAP_ASSIST_H */
