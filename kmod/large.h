/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GCHEAP_LARGE_H
#define _GCHEAP_LARGE_H

#include "span.h"

int gcheap_large_alloc(struct gcheap *heap, struct gcheap_large *req);
int gcheap_large_free(struct gcheap *heap, struct gcheap_span *span);

#endif /* _GCHEAP_LARGE_H */
