/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GCHEAP_CENTRAL_H
#define _GCHEAP_CENTRAL_H

#include "span.h"

void gcheap_central_init(struct gcheap *heap);
void gcheap_central_put_locked(struct gcheap *heap, struct gcheap_span *span);
struct gcheap_span *gcheap_central_cache_span(struct gcheap *heap, u8 spanclass,
					      struct gcheap_m *owner, bool *fresh);
struct gcheap_span *gcheap_central_check_return(struct gcheap *heap, struct gcheap_m *owner,
						const struct gcheap_span_return *ret);
void gcheap_central_uncache_span(struct gcheap *heap, struct gcheap_span *span,
				 const u64 *unused);
int gcheap_object_lookup(struct gcheap *heap, struct gcheap_object *obj);
int gcheap_central_free_object(struct gcheap *heap, struct gcheap_span *span,
			       unsigned long idx);

#endif /* _GCHEAP_CENTRAL_H */
