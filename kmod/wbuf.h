/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GCHEAP_WBUF_H
#define _GCHEAP_WBUF_H

#include <linux/types.h>
#include "heap.h"

u64 *gcheap_wb_copy_in(u64 uptr, u32 count);
void gcheap_wb_grey(struct gcheap *heap, const u64 *words, size_t n);
int gcheap_wb_flush(struct gcheap *heap, const struct gcheap_wb_flush *req);
int gcheap_wb_set_mode(struct gcheap *heap, const struct gcheap_mode *req);
void gcheap_wb_set_phase(struct gcheap *heap, u32 phase);

#endif /* _GCHEAP_WBUF_H */
