/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences, and nothing else: the rest of the module is
 * written against one API and this file maps it onto 6.1 .. 6.12. What a
 * kernel provides is probed from its headers by kmod/Kbuild (GCHEAP_HAVE_*),
 * not read off its version, so vendor backports are handled too.
 */
#ifndef _GCHEAP_COMPAT_H
#define _GCHEAP_COMPAT_H

#include <linux/mm.h>

#ifndef GCHEAP_HAVE_VM_FLAGS_SET
/* 6.3 made vm_flags const and added setters that take the VMA write lock. */
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

#endif /* _GCHEAP_COMPAT_H */
