/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GCHEAP_SIZECLASS_H
#define _GCHEAP_SIZECLASS_H

#include <linux/types.h>
#include "uapi/gcheap.h"

struct gcheap_class_info {
	u32 size;
	u32 npages;
	u32 nelems;
	u32 div_magic;
};

extern const struct gcheap_class_info gcheap_classes[GCHEAP_NUM_SIZE_CLASSES];

/* Object index of byte offset @off inside a span of class @sc: no divide. */
static inline u32 gcheap_obj_index(const struct gcheap_class_info *ci, u32 off)
{
	return (u32)(((u64)off * ci->div_magic) >> 32);
}

#endif /* _GCHEAP_SIZECLASS_H */
