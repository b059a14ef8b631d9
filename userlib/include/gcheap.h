/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libgcheap: a Go-style garbage-collected heap backed by the gcheap kernel
 * module (/dev/gcheap). One heap per process, opened on first use.
 *
 * Every function returns 0 or a pointer on success; on failure it returns
 * -1 or NULL and sets errno.
 */
#ifndef GCHEAP_H
#define GCHEAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is the library's exported API. */
#pragma GCC visibility push(default)

/* Options for gch_init(). Zero means "the default". */
struct gch_options {
	const char *device;	/* default "/dev/gcheap"; env GCHEAP_DEVICE */
};

/*
 * Open the process's heap now rather than on first use. @opts may be NULL.
 * GCHEAP_* environment variables override the defaults, not @opts.
 * Fails with EALREADY if the heap is already open, ENOENT if the module is
 * not loaded, EPROTO if the module speaks another ABI.
 */
int gch_init(const struct gch_options *opts);

/* What the heap and the module report about themselves. */
struct gch_heap_info {
	unsigned int abi_version;	/* the module's ABI version */
	size_t page_size;		/* heap page size (8 KiB) */
	unsigned int num_size_classes;	/* small size classes, class 0 included */
	size_t max_small_size;		/* largest object served from spans */
	uintptr_t heap_base;		/* start of the heap's mapping, 0 if none */
	size_t heap_max;		/* bytes reserved for the heap */
	pid_t owner;			/* process that owns the heap */
};

/* Fill @info, opening the heap first if needed. */
int gch_heap_info(struct gch_heap_info *info);

/* Size of objects in small size class @cls (1..num_size_classes-1), 0 if none. */
size_t gch_class_size(unsigned int cls);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* GCHEAP_H */
