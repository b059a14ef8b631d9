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

/*
 * The heap's address range is one mmap of the device: offset 0, MAP_SHARED,
 * PROT_READ|PROT_WRITE, length a multiple of GCHEAP_CHUNK_SIZE up to the
 * module's max_heap_mb. It is reserved, not backed: physical pages arrive
 * when the module puts heap pages in use. The mapping cannot be split,
 * moved, expanded, made executable or inherited by a child.
 */
#define GCHEAP_CHUNK_SIZE	(GCHEAP_PAGE_SIZE * GCHEAP_CHUNK_PAGES)

/* Span class: size class << 1 | noscan, as in Go (136 classes). */
#define GCHEAP_SPANCLASS(sizeclass, noscan)	(((sizeclass) << 1) | ((noscan) ? 1 : 0))
#define GCHEAP_NUM_SPAN_CLASSES	(GCHEAP_NUM_SIZE_CLASSES * 2)
/*
 * The span class of tiny blocks: 16-byte noscan objects that the library
 * subdivides among several small noscan allocations (Go's tinySpanClass).
 * No single allocation owns such a block, so none can be freed early.
 */
#define GCHEAP_TINY_SPANCLASS	GCHEAP_SPANCLASS(2, 1)
#define GCHEAP_MAX_SPAN_ELEMS	1024	/* Go's MaxObjsPerSpan: 8 B objects */
#define GCHEAP_SPAN_BITS_WORDS	(GCHEAP_MAX_SPAN_ELEMS / 64)

/*
 * A span handed back by a thread's cache: the span's base and the slots the
 * cache did not use (bit i = slot i is still free). Every other slot that
 * was free when the span was handed out is now an allocated object. The
 * module accepts only slots that were free at hand-out.
 */
struct gcheap_span_return {
	__u64 base;
	__u64 free[GCHEAP_SPAN_BITS_WORDS];
};

/* A span handed to a cache: its slots in `free` are the cache's. */
struct gcheap_span_grant {
	__u64 base;
	__u32 elemsize;
	__u32 nelems;
	__u64 free[GCHEAP_SPAN_BITS_WORDS];
};

/*
 * GCHEAP_IOC_REFILL: hand the caller's cache a span of `spanclass` and,
 * in the same call, take back the span it replaces (ret.base != 0), so a
 * cache pays one system call per span. The cache owns every slot set in
 * `free` until it gives the span back. Free slots are always zeroed.
 *
 * Since a system call costs far more than taking a slot, a cache may also
 * ask for `ngrant` more spans of the class at once (written to `grants`)
 * and give back `nreturn` more spans (read from `returns`) in the same
 * call: then one call serves a thousand small objects, not a span's worth.
 * On return `ngrant` says how many extra spans were granted; fewer than
 * asked is not an error (the heap may be nearly full), none at all with
 * the inline span is.
 *
 * Every give-back is validated before anything changes (the same span
 * twice is EINVAL): on any error neither the returned spans nor the heap
 * are modified.
 */
#define GCHEAP_REFILL_RETURN	_BITULL(0)	/* `ret` holds a span to give back */
#define GCHEAP_REFILL_NO_NEW	_BITULL(1)	/* only give back, take no new span */
#define GCHEAP_REFILL_MAX_BATCH	16		/* bound on nreturn and on ngrant */

struct gcheap_refill {
	__u32 size;		/* in: sizeof(struct gcheap_refill) */
	__u32 spanclass;	/* in: 2..135 (class 0 is large objects) */
	__u64 flags;		/* in: GCHEAP_REFILL_* */
	struct gcheap_span_return ret;	/* in, with GCHEAP_REFILL_RETURN */
	__u64 base;		/* out: the new span's first byte */
	__u32 elemsize;		/* out: bytes per slot */
	__u32 nelems;		/* out: slots in the span */
	__u64 free[GCHEAP_SPAN_BITS_WORDS];	/* out: slots now owned by the cache */
	/* Version 1 (GCHEAP_REFILL_SIZE_VER1): batches. */
	__u32 nreturn;		/* in: entries in `returns` */
	__u32 ngrant;		/* in: extra spans wanted; out: extra spans granted */
	__u64 returns;		/* in: user pointer to struct gcheap_span_return[] */
	__u64 grants;		/* in: user pointer to struct gcheap_span_grant[] */
};

#define GCHEAP_REFILL_SIZE_VER0	296
#define GCHEAP_REFILL_SIZE_VER1	320

/*
 * GCHEAP_IOC_ALLOC_LARGE: an object over GCHEAP_MAX_SMALL_SIZE in a span of
 * its own, zeroed. `bytes` is rounded up to whole heap pages.
 */
#define GCHEAP_LARGE_NOSCAN	_BITULL(0)	/* the object holds no pointers */

struct gcheap_large {
	__u32 size;		/* in: sizeof(struct gcheap_large) */
	__u32 __reserved;	/* must be 0 */
	__u64 flags;		/* in: GCHEAP_LARGE_* */
	__u64 bytes;		/* in: requested size */
	__u64 base;		/* out: the object */
	__u64 span_bytes;	/* out: usable size (whole heap pages) */
};

#define GCHEAP_LARGE_SIZE_VER0	40

/*
 * GCHEAP_IOC_FREE: release one object early, by its first byte. A slot
 * that a cache owns (it was free when the cache got the span) is the
 * cache's to free, in user space, and a tiny block is nobody's: both are
 * EBUSY. Anything that is not the start of an allocated object of this
 * heap is ENOENT (a double free among them).
 */
struct gcheap_free {
	__u32 size;		/* in: sizeof(struct gcheap_free) */
	__u32 __reserved;	/* must be 0 */
	__u64 flags;		/* in: 0 */
	__u64 addr;		/* in: the object's first byte */
};

#define GCHEAP_FREE_SIZE_VER0	24

/*
 * GCHEAP_IOC_OBJECT: what the heap knows of the object holding `addr`
 * (interior pointers included): its first byte, its size and span class,
 * and whether it is allocated. ENOENT if no span holds `addr`.
 */
#define GCHEAP_OBJECT_ALLOCATED	_BITULL(0)	/* allocated as far as the module knows */
#define GCHEAP_OBJECT_CACHED	_BITULL(1)	/* its span is held by a cache */

struct gcheap_object {
	__u32 size;		/* in: sizeof(struct gcheap_object) */
	__u32 spanclass;	/* out */
	__u64 addr;		/* in: any byte of the object */
	__u64 base;		/* out: the object's first byte */
	__u64 objsize;		/* out: its size (a large object's whole pages) */
	__u64 flags;		/* out: GCHEAP_OBJECT_* */
};

#define GCHEAP_OBJECT_SIZE_VER0	40

/*
 * GCHEAP_IOC_STATS: a consistent snapshot of the heap's accounting, in the
 * spirit of Go's MemStats. Bytes unless named otherwise.
 */
struct gcheap_stats {
	__u32 size;		/* in: sizeof(struct gcheap_stats) */
	__u32 __reserved;
	__u64 heap_sys;		/* reserved address range */
	__u64 heap_inuse;	/* pages in in-use spans */
	__u64 heap_idle;	/* pages not in any span */
	__u64 heap_released;	/* idle pages with no physical memory */
	__u64 heap_resident;	/* pages with physical memory */
	__u64 heap_alloc;	/* objects allocated, cached spans counted whole */
	__u64 heap_objects;	/* objects allocated, same rule */
	__u64 spans_inuse;	/* small-object spans */
	__u64 spans_cached;	/* of which held by caches */
	__u64 large_objects;	/* live large objects */
	__u64 refills;		/* spans handed to caches, ever */
	__u64 large_allocs;	/* large objects allocated, ever */
	__u64 frees;		/* objects released with GCHEAP_IOC_FREE, ever */
};

#define GCHEAP_STATS_SIZE_VER0	112

#define GCHEAP_IOC_MAGIC	0xC7
#define GCHEAP_IOC_INFO		_IOWR(GCHEAP_IOC_MAGIC, 0x00, struct gcheap_info)
#define GCHEAP_IOC_SIZE_CLASSES	_IOWR(GCHEAP_IOC_MAGIC, 0x01, struct gcheap_size_classes)
#define GCHEAP_IOC_REFILL	_IOWR(GCHEAP_IOC_MAGIC, 0x02, struct gcheap_refill)
#define GCHEAP_IOC_ALLOC_LARGE	_IOWR(GCHEAP_IOC_MAGIC, 0x03, struct gcheap_large)
#define GCHEAP_IOC_FREE		_IOW(GCHEAP_IOC_MAGIC, 0x04, struct gcheap_free)
#define GCHEAP_IOC_STATS	_IOWR(GCHEAP_IOC_MAGIC, 0x05, struct gcheap_stats)
#define GCHEAP_IOC_OBJECT	_IOWR(GCHEAP_IOC_MAGIC, 0x06, struct gcheap_object)

#endif /* _UAPI_GCHEAP_H */
