/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * gcheap ABI: the only header shared by the kernel module and libgcheap.
 *
 * Every ioctl argument starts with a __u32 `size` that the caller sets to
 * sizeof() of the struct it was compiled against. The kernel accepts any size
 * from the struct's first published version (GCHEAP_*_SIZE_VER0) upwards:
 * a shorter struct is zero-extended, a longer one must have only zero bytes
 * past what the kernel knows (else -E2BIG), the copy_struct_from_user() rule.
 * Output structs are written back up to min(size, kernel's size), so old
 * binaries keep working when fields are appended. Fields are only appended,
 * never reordered; all are fixed-width and naturally aligned so the layout is
 * identical for 32- and 64-bit callers and needs no compat_ioctl translation.
 * Pointers travel as __u64.
 */
#ifndef _UAPI_GCHEAP_H
#define _UAPI_GCHEAP_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/const.h>

#define GCHEAP_DEVICE		"/dev/gcheap"
#define GCHEAP_ABI_VERSION	1

/* Go's heap geometry: 8 KiB heap pages, 4 MiB page-allocator chunks. */
#define GCHEAP_PAGE_SHIFT	13
#define GCHEAP_PAGE_SIZE	_BITUL(GCHEAP_PAGE_SHIFT)
#define GCHEAP_CHUNK_PAGES	512
#define GCHEAP_MAX_SMALL_SIZE	32768
#define GCHEAP_NUM_SIZE_CLASSES	68	/* including class 0, "large" */

/*
 * GCHEAP_IOC_INFO: what this heap and module are. Read-only; the library
 * calls it once at start-up to learn the geometry it must agree with.
 */
struct gcheap_info {
	__u32 size;		/* in: sizeof(struct gcheap_info) */
	__u32 abi_version;	/* out: GCHEAP_ABI_VERSION of the module */
	__u32 page_size;	/* out: GCHEAP_PAGE_SIZE */
	__u32 chunk_pages;	/* out: GCHEAP_CHUNK_PAGES */
	__u32 num_size_classes;	/* out: entries in the size-class table */
	__u32 max_small_size;	/* out: largest size served from spans */
	__u64 heap_base;	/* out: user address of the mapping, 0 if unmapped */
	__u64 heap_max;		/* out: bytes reserved by the mapping */
	__s32 owner_tgid;	/* out: the process that owns this heap */
	__u32 __reserved;
};

#define GCHEAP_INFO_SIZE_VER0	48

/*
 * GCHEAP_IOC_SIZE_CLASSES: the size-class table, so the library never keeps
 * a second copy of it. The kernel writes min(count, its table) entries to
 * `classes` and sets `count` to its table's length (class 0 included).
 */
struct gcheap_size_class {
	__u32 size;		/* object size in bytes, 0 for class 0 */
	__u32 npages;		/* heap pages per span */
	__u32 nelems;		/* objects per span */
	__u32 div_magic;	/* offset * div_magic >> 32 == object index */
};

struct gcheap_size_classes {
	__u32 size;		/* in: sizeof(struct gcheap_size_classes) */
	__u32 count;		/* in: entries room in `classes`; out: table length */
	__u64 classes;		/* in: user pointer to struct gcheap_size_class[] */
};

#define GCHEAP_SIZE_CLASSES_SIZE_VER0	16

#define GCHEAP_IOC_MAGIC	0xC7
#define GCHEAP_IOC_INFO		_IOWR(GCHEAP_IOC_MAGIC, 0x00, struct gcheap_info)
#define GCHEAP_IOC_SIZE_CLASSES	_IOWR(GCHEAP_IOC_MAGIC, 0x01, struct gcheap_size_classes)

#endif /* _UAPI_GCHEAP_H */
