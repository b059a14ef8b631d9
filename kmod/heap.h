/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GCHEAP_HEAP_H
#define _GCHEAP_HEAP_H

#include <linux/types.h>
#include <linux/mm_types.h>

/* One heap per open file of /dev/gcheap. */
struct gcheap {
	struct mm_struct *mm;	/* owner; mmgrab()ed, never mmget()ed long-term */
	pid_t tgid;		/* owner's thread group, for reports */
};

struct gcheap *gcheap_create(void);
void gcheap_destroy(struct gcheap *heap);
int gcheap_check_owner(const struct gcheap *heap);

#endif /* _GCHEAP_HEAP_H */
