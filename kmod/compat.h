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
#include <linux/shrinker.h>
#include <linux/slab.h>

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

/*
 * A shrinker: 6.7 replaced register_shrinker() on a caller's struct with
 * shrinker_alloc() + shrinker_register(). NULL if it cannot be made.
 */
static inline struct shrinker *
gcheap_shrinker_create(unsigned long (*count)(struct shrinker *, struct shrink_control *),
		       unsigned long (*scan)(struct shrinker *, struct shrink_control *),
		       int seeks, const char *name)
{
	struct shrinker *s;

#ifdef GCHEAP_HAVE_SHRINKER_ALLOC
	s = shrinker_alloc(0, "%s", name);
	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	s->seeks = seeks;
	shrinker_register(s);
#else
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	s->seeks = seeks;
	if (register_shrinker(s, "%s", name)) {
		kfree(s);
		return NULL;
	}
#endif
	return s;
}

static inline void gcheap_shrinker_destroy(struct shrinker *s)
{
#ifdef GCHEAP_HAVE_SHRINKER_ALLOC
	shrinker_free(s);
#else
	unregister_shrinker(s);
	kfree(s);
#endif
}

#endif /* _GCHEAP_COMPAT_H */
