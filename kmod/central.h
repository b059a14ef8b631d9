/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GCHEAP_CENTRAL_H
#define _GCHEAP_CENTRAL_H

#include "span.h"

/* A thread's cache report (uapi struct gcheap_cache_report), copied in. */
struct gcheap_cache_snap {
	struct gcheap_m *owner;		/* the reporting thread */
	struct gcheap_span_return *spans;
	u32 nspans;
	u32 __user *taken;
};

void gcheap_central_init(struct gcheap *heap);
void gcheap_central_put_locked(struct gcheap *heap, struct gcheap_span *span);
struct gcheap_span *gcheap_central_cache_span(struct gcheap *heap, u8 spanclass,
					      struct gcheap_m *owner, bool *fresh);
struct gcheap_span *gcheap_central_check_return(struct gcheap *heap, struct gcheap_m *owner,
						const struct gcheap_span_return *ret);
void gcheap_central_uncache_span(struct gcheap *heap, struct gcheap_span *span,
				 const u64 *unused);
int gcheap_cache_report_read(struct gcheap *heap, struct gcheap_m *owner, u64 uptr,
			     struct gcheap_cache_snap *snap);
void gcheap_cache_report_take(struct gcheap *heap, struct gcheap_cache_snap *snap, u32 cycle);
void gcheap_cache_report_free(struct gcheap_cache_snap *snap);
void gcheap_central_take_over(struct gcheap *heap, struct gcheap_m *owner,
			      const struct gcheap_span_return *r, u32 cycle);
int gcheap_object_lookup(struct gcheap *heap, struct gcheap_object *obj);
int gcheap_central_free_object(struct gcheap *heap, struct gcheap_span *span,
			       unsigned long idx);

#endif /* _GCHEAP_CENTRAL_H */
