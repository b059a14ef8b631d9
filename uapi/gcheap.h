/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * gcheap ABI: the only header shared by the kernel module and libgcheap.
 *
 * Every ioctl argument starts with a __u32 `size` that the caller sets to
 * sizeof() of the struct it was compiled against. The kernel accepts any size
 * from the struct's first published version (GCHEAP_*_SIZE_VER0) upwards:
 * a shorter struct is zero-extended, a longer one must have only zero bytes
 * past what the kernel knows (else -E2BIG), the copy_struct_from_user() rule;
 * a size over 4096 bytes is -E2BIG too.
 * Output structs are written back up to min(size, kernel's size), so old
 * binaries keep working when fields are appended.
 *
 * The command number carries a struct size too (_IOC_SIZE), as the
 * GCHEAP_IOC_* macros below encode it for the struct they were compiled
 * with. The module finds a command by _IOC_TYPE and _IOC_NR only, so every
 * version of a struct reaches the same call, and `size` alone says how
 * much it reads and writes back: the size bits of the command (like its
 * direction bits) are not checked. An unknown type or number is -ENOTTY.
 * A call that writes its argument back first checks that it can (-EFAULT
 * before anything changes). Fields are only appended,
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
	__u32 stw_signal;	/* out: the signal that asks a thread to park */
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

/*
 * A thread's cache, reported at a cycle's first stop (GCHEAP_IOC_PARK
 * version 2 by a parked thread, GCHEAP_IOC_GC version 1 by the collecting
 * one): every span the cache holds, each with the slots still free in it,
 * as a give-back would say. A cache allocates without telling the module,
 * so without a report a dropped object in a span the thread still holds
 * lives as long as the span stays cached. The module takes the report only
 * at a cycle's first stop, before any marking: it sets `taken` to 1 first,
 * then makes every other slot the cache was given an ordinary object,
 * which the cycle marks or frees. From then on the cache owns only the
 * slots it reported (black while the cycle marks), and frees any other
 * slot it allocated through GCHEAP_IOC_FREE. The report is validated
 * whole (spans the caller's cache holds, only slots it was given, at most
 * GCHEAP_CACHE_REPORT_MAX entries) before anything changes: EINVAL,
 * EFAULT, or E2BIG for too many entries.
 */
#define GCHEAP_CACHE_REPORT_MAX	4096

struct gcheap_cache_report {
	__u64 spans;		/* in: user pointer to struct gcheap_span_return[nspans] */
	__u32 nspans;		/* in */
	__u32 taken;		/* out: 1 once the module took the report */
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

#define GCHEAP_PAUSE_RING	256	/* as Go's MemStats.PauseNs */

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
	/* Version 1 (GCHEAP_STATS_SIZE_VER1): the collector. */
	__u64 next_gc;		/* the heap goal (a STW heap: where the next cycle starts) */
	__u64 last_marked;	/* bytes found live by the last cycle */
	__u64 num_gc;		/* cycles completed */
	__u64 num_forced_gc;	/* of which asked for with GCHEAP_GC_FORCE */
	__u64 stw_timeouts;	/* cycles abandoned: a thread never parked */
	__u64 pause_total_ns;	/* world stopped, all cycles */
	__u64 pause_max_ns;	/* the longest single stop */
	__u64 pause_ns[GCHEAP_PAUSE_RING];	/* recent stops, [(num_gc + 255) % 256] newest */
	__u64 last_gc_ns;	/* CLOCK_MONOTONIC at the end of the last cycle */
	__u64 swept_bytes;	/* bytes freed by sweeping, ever */
	__u64 freed_objects;	/* objects freed by sweeping, ever */
	__u64 finalizers;	/* objects with a finalizer */
	__u64 finalizers_queued;	/* found unreachable, finalizer not yet taken */
	__s32 gogc;		/* GOGC percent; negative: collection off */
	__u32 threads;		/* attached threads */
	/* Version 2: the scavenger (bytes given back to the kernel, ever). */
	__u64 scav_background;	/* by the background scavenger */
	__u64 scav_sync;	/* as the heap grew, by memory_max, GCHEAP_IOC_SCAVENGE */
	__u64 scav_shrinker;	/* under the system's memory pressure */
	__u64 scav_ns;		/* time the background scavenger took */
	__u64 memory_max;	/* the hard limit on heap_resident, or GCHEAP_NO_LIMIT */
};

#define GCHEAP_STATS_SIZE_VER0	112
#define GCHEAP_STATS_SIZE_VER1	(GCHEAP_STATS_SIZE_VER0 + 13 * 8 + 8 * GCHEAP_PAUSE_RING)
#define GCHEAP_STATS_SIZE_VER2	(GCHEAP_STATS_SIZE_VER1 + 5 * 8)

/*
 * Collection. A heap's threads are attached (GCHEAP_IOC_THREAD) before they
 * allocate; only attached threads may allocate or free. To stop the world
 * the module sets `stw_seq` odd in the control page and sends `stw_signal`
 * (GCHEAP_IOC_INFO) to every attached thread. The library's handler then
 * calls GCHEAP_IOC_PARK with the bounds of its stack; the module scans the
 * stack from inside that call, once every thread has parked, and returns
 * when the world restarts. Roots are those stacks (and the registers the
 * handler saved on them), the ranges added with GCHEAP_IOC_ROOT, and the
 * caller of GCHEAP_IOC_GC's own stack. Scanning is conservative: an aligned
 * word that points into an allocated object keeps the object.
 *
 * The control page: one read-only page, mapped with mmap(2) at file offset
 * GCHEAP_CTRL_OFFSET, length the system page size, MAP_SHARED, PROT_READ.
 * The offset lies past every heap mapping (those start at offset 0 and the
 * module caps them at 1 TiB), and its count of 4 KiB units fits in 31 bits,
 * so a 32-bit caller's mmap2() reaches it (with a 64-bit off_t:
 * _FILE_OFFSET_BITS=64).
 */
#define GCHEAP_CTRL_OFFSET	_BITULL(42)

#if GCHEAP_CTRL_OFFSET / 4096 > 0x7fffffff
#error "GCHEAP_CTRL_OFFSET must be expressible as a 32-bit mmap2() page offset"
#endif

struct gcheap_ctrl {
	__u32 stw_seq;		/* odd while the world is stopping or stopped */
	__u32 gc_wanted;	/* 1: heap_alloc reached next_gc; call GCHEAP_IOC_GC */
	__u64 gc_started;	/* cycles begun */
	__u64 gc_done;		/* cycles completed */
	__u64 next_gc;		/* heap_alloc that starts the next cycle */
	__u64 finalizers_queued;	/* finalizers waiting for GCHEAP_IOC_FINALIZERS */
	/* Appended: the write barrier (see GCHEAP_IOC_WB_FLUSH). */
	__u32 gc_phase;		/* GCHEAP_PHASE_* */
	__u32 wb_enabled;	/* 1: record every heap pointer store (gch_store) */
	__u32 gc_mode;		/* GCHEAP_MODE_* (GCHEAP_IOC_SET_MODE) */
	__u32 __reserved;
};

/*
 * The collector's phase, as Go's gcphase. wb_enabled is 1 exactly when the
 * phase is not OFF and the heap's mode is CONCURRENT. Both change only
 * while every attached thread is parked (the world is stopped), so a
 * thread reads them again when it returns from GCHEAP_IOC_PARK or
 * GCHEAP_IOC_GC and after it attaches, and at no other time.
 * A STW heap's phase stays OFF; a CONCURRENT heap's is MARK from the end
 * of a cycle's first stop to its second.
 */
#define GCHEAP_PHASE_OFF	0	/* no cycle is marking */
#define GCHEAP_PHASE_MARK	1	/* concurrent mark: barrier on */
#define GCHEAP_PHASE_MARKTERM	2	/* mark termination (world stopped) */

/* GCHEAP_IOC_THREAD: attach or detach the calling thread. */
#define GCHEAP_THREAD_ATTACH	1
#define GCHEAP_THREAD_DETACH	2

struct gcheap_thread {
	__u32 size;		/* in: sizeof(struct gcheap_thread) */
	__u32 op;		/* in: GCHEAP_THREAD_* */
	__u64 stack_hi;		/* in, ATTACH: one past the stack's highest byte */
};

#define GCHEAP_THREAD_SIZE_VER0	16

/*
 * A stack to scan: [lo, hi) of the calling thread's stack, and registers
 * that may hold pointers not yet stored on it. lo and regs need no
 * alignment; words are read at 8-byte alignment.
 */
#define GCHEAP_NREGS		32
struct gcheap_stack {
	__u64 lo, hi;
	__u64 regs[GCHEAP_NREGS];
};

/*
 * GCHEAP_IOC_PARK: called by the stop signal's handler. Returns 0 when the
 * world restarts, at once if no stop is in progress. EINVAL for a thread
 * that is not attached or a stack range that is not its own (hi must be
 * the stack_hi given at attach, at most 1 GiB above lo).
 * Version 1 also hands over the thread's write-barrier buffer (mark
 * termination's drain), greyed as GCHEAP_IOC_WB_FLUSH would before the
 * thread counts as parked: EINVAL for wb_count over GCHEAP_WB_MAX, EFAULT
 * if the words cannot be read; the thread has not parked then.
 * Version 2 also reports the thread's cache (struct gcheap_cache_report);
 * an invalid report fails the park the same way.
 */
struct gcheap_park {
	__u32 size;		/* in: sizeof(struct gcheap_park) */
	__u32 __reserved;
	struct gcheap_stack stack;	/* in */
	/* Version 1: what is left in the thread's barrier buffer, as WB_FLUSH. */
	__u64 wb_ptrs;		/* in: user pointer to __u64[wb_count] */
	__u32 wb_count;		/* in: at most GCHEAP_WB_MAX */
	__u32 __reserved2;	/* must be 0 */
	/* Version 2 */
	__u64 cache;		/* in: user pointer to struct gcheap_cache_report, or 0 */
};

#define GCHEAP_PARK_SIZE_VER0	280
#define GCHEAP_PARK_SIZE_VER1	296
#define GCHEAP_PARK_SIZE_VER2	304

/*
 * GCHEAP_IOC_GC: run a collection. `since` is ctrl->gc_started as the
 * caller read it: the call returns once a cycle begun after that has
 * completed (so a call restarted after a signal does not run two). With
 * GCHEAP_GC_IF_NEEDED a cycle begins only if heap_alloc is at next_gc.
 * With GCHEAP_GC_SWEEP the call also sweeps the whole heap before
 * returning (gch_collect). ETIMEDOUT: a thread did not park in time and
 * the cycle was abandoned, nothing freed. Version 1 reports the caller's
 * cache (struct gcheap_cache_report), taken if a cycle starts; the caller
 * must be attached then.
 */
#define GCHEAP_GC_IF_NEEDED	_BITULL(0)
#define GCHEAP_GC_SWEEP		_BITULL(1)
#define GCHEAP_GC_FORCE		_BITULL(2)	/* counted as forced (gch_collect) */

struct gcheap_gc {
	__u32 size;		/* in: sizeof(struct gcheap_gc) */
	__u32 __reserved;
	__u64 flags;		/* in: GCHEAP_GC_* */
	__u64 since;		/* in */
	struct gcheap_stack stack;	/* in: the caller's stack; lo = hi = 0 for none */
	/* Version 1 */
	__u64 cache;		/* in: user pointer to struct gcheap_cache_report, or 0 */
};

#define GCHEAP_GC_SIZE_VER0	288
#define GCHEAP_GC_SIZE_VER1	304

/*
 * GCHEAP_IOC_ROOT: add or remove [lo, hi) as a root range (8-byte aligned
 * bounds, at most 1 GiB). A range is removed by exactly the bounds it was
 * added with. EEXIST, ENOENT, ENOSPC (more than the module's max_roots).
 */
#define GCHEAP_ROOT_ADD		1
#define GCHEAP_ROOT_REMOVE	2

struct gcheap_root {
	__u32 size;
	__u32 op;		/* GCHEAP_ROOT_* */
	__u64 lo, hi;
};

#define GCHEAP_ROOT_SIZE_VER0	24

/*
 * GCHEAP_IOC_FINALIZER: set (fn != 0) or clear (fn == 0) the finalizer of
 * the object starting at `obj`; the old one is returned in ofn/oarg (0 if
 * none). fn and arg are opaque to the module. Once the object is found
 * unreachable the finalizer is queued, once, and the object and everything
 * it reaches are kept until GCHEAP_IOC_FINALIZERS hands it out. Unless
 * NO_ORDER, objects reachable from a finalizable object are kept while it
 * is: of a chain of unreachable finalizable objects, the head is finalized
 * first. IGNORE_SELF ignores the object's pointers to itself.
 */
#define GCHEAP_FINALIZER_NO_ORDER	_BITULL(0)
#define GCHEAP_FINALIZER_IGNORE_SELF	_BITULL(1)

struct gcheap_finalizer {
	__u32 size;
	__u32 __reserved;
	__u64 flags;
	__u64 obj;		/* in: an object's first byte */
	__u64 fn, arg;		/* in */
	__u64 ofn, oarg;	/* out */
};

#define GCHEAP_FINALIZER_SIZE_VER0	48

/*
 * GCHEAP_IOC_FINALIZERS: take up to `count` queued finalizers into `out`
 * (struct gcheap_final[]), waiting for one if none is queued and WAIT is
 * set. `count` is set to how many were written. The objects are no longer
 * kept by the module: the caller must hold them (on its stack) until run.
 */
#define GCHEAP_FINALIZERS_WAIT	_BITULL(0)

struct gcheap_final {
	__u64 obj, fn, arg;
};

struct gcheap_finalizers {
	__u32 size;
	__u32 count;		/* in: room in `out`; out: entries written */
	__u64 flags;
	__u64 out;		/* in: user pointer to struct gcheap_final[] */
};

#define GCHEAP_FINALIZERS_SIZE_VER0	24

/*
 * GCHEAP_IOC_LINK: register (ADD) or drop (REMOVE) a disappearing link:
 * the pointer-sized word at `link` is set to 0 when `obj` becomes
 * unreachable (before finalizers keep it alive: libgc's short links).
 * ADD replaces an existing registration of the link.
 */
#define GCHEAP_LINK_ADD		1
#define GCHEAP_LINK_REMOVE	2

struct gcheap_link {
	__u32 size;
	__u32 op;
	__u64 link;		/* 8-byte aligned user address */
	__u64 obj;		/* ADD: any byte of an allocated object */
};

#define GCHEAP_LINK_SIZE_VER0	24

/*
 * GCHEAP_IOC_SETGC: set the heap's GOGC, (version 1) its soft memory
 * limit (Go's GOMEMLIMIT) and (version 2) its hard one; the previous
 * values come back in the fields.
 * The limit bounds the bytes of the heap's spans (heap_inuse): the goal
 * shrinks to fit under it, but never below what the last cycle found
 * live, and the limit yields while collecting takes more than half the
 * time (no death spiral: the heap may then pass it). Without
 * GCHEAP_SETGC_LIMIT the limit stays as it is; with GCHEAP_SETGC_KEEP_GOGC
 * GOGC does.
 */
#define GCHEAP_GOGC_OFF		(-1)
#define GCHEAP_NO_LIMIT		(~0ULL)
#define GCHEAP_SETGC_KEEP_GOGC	_BITUL(0)
#define GCHEAP_SETGC_LIMIT	_BITUL(1)
#define GCHEAP_SETGC_MAX	_BITUL(2)

/*
 * memory_max, the hard limit, bounds the heap's physical memory
 * (heap_resident): growing past it first gives idle pages back, and if
 * that is not enough the allocation fails with ENOMEM (the library then
 * collects and tries once more); the process is never killed for it. Set
 * below heap_resident, it gives idle pages back at once; the heap then
 * grows again only once under it. Without GCHEAP_SETGC_MAX it stays.
 */
struct gcheap_setgc {
	__u32 size;
	__s32 gogc;		/* in: percent, or GCHEAP_GOGC_OFF; out: old value */
	/* Version 1. */
	__u64 memory_limit;	/* in: bytes, or GCHEAP_NO_LIMIT; out: old value */
	__u32 flags;		/* GCHEAP_SETGC_* */
	__u32 __reserved;
	/* Version 2. */
	__u64 memory_max;	/* in: bytes, or GCHEAP_NO_LIMIT; out: old value */
};

#define GCHEAP_SETGC_SIZE_VER0	8
#define GCHEAP_SETGC_SIZE_VER1	24
#define GCHEAP_SETGC_SIZE_VER2	32

/*
 * GCHEAP_IOC_SCAVENGE: give every idle page's memory back to the kernel
 * now (libgc's GC_unmap, Go's debug.FreeOSMemory after its collection);
 * `released` says how many bytes. EINTR if the caller is killed first.
 */
struct gcheap_scavenge {
	__u32 size;		/* in: sizeof(struct gcheap_scavenge) */
	__u32 __reserved;
	__u64 flags;		/* in: 0 */
	__u64 released;		/* out: bytes */
};

#define GCHEAP_SCAVENGE_SIZE_VER0	24

/*
 * The hybrid write barrier (Go's, proposal 17503). A heap is opened in one
 * of two modes, fixed with GCHEAP_IOC_SET_MODE before it is mapped and
 * before any thread attaches (EBUSY after; the default is STW):
 *
 *  STW         the program stores pointers with plain stores (the libgc
 *              layer); the heap is only ever collected with the world
 *              stopped, and the barrier is never turned on.
 *  CONCURRENT  the program promises that every store of a pointer into a
 *              heap object goes through the barrier (gch_store). Stores
 *              into stacks, registers, TLS and root ranges need none:
 *              those are scanned with the world stopped.
 *
 * A STW heap is marked with the world stopped. A CONCURRENT heap stops the
 * world twice per cycle, to grey the roots and, at mark termination, to
 * take the barrier's buffers and rescan stacks and root ranges; between
 * the two the heap is marked while the program runs, the barrier on.
 *
 * While ctrl->wb_enabled is 1 a store records the slot's old value and the
 * new value in a per-thread buffer; a full buffer is handed over with
 * GCHEAP_IOC_WB_FLUSH, and what is left with GCHEAP_IOC_PARK. The words
 * may be anything: the module keeps (greys) the objects of this heap that
 * they point into, if the heap is marking, and ignores every other word.
 * A flush while no cycle marks validates the words' memory and drops them.
 * EPERM from a thread that is not attached; EINVAL for a count over
 * GCHEAP_WB_MAX (never truncated) or unknown flags; EFAULT if the words
 * cannot be read (before anything is greyed). count 0 is a no-op.
 */
#define GCHEAP_MODE_STW		0
#define GCHEAP_MODE_CONCURRENT	1

struct gcheap_mode {
	__u32 size;		/* in: sizeof(struct gcheap_mode) */
	__u32 mode;		/* in: GCHEAP_MODE_* */
	__u64 flags;		/* in: 0 */
};

#define GCHEAP_MODE_SIZE_VER0	16

#define GCHEAP_WB_MAX		512	/* words per flush (Go's wbBufEntries) */

struct gcheap_wb_flush {
	__u32 size;		/* in: sizeof(struct gcheap_wb_flush) */
	__u32 count;		/* in: words at `ptrs`, at most GCHEAP_WB_MAX */
	__u64 ptrs;		/* in: user pointer to __u64[count] */
	__u64 flags;		/* in: 0 */
};

#define GCHEAP_WB_FLUSH_SIZE_VER0	24

#define GCHEAP_IOC_MAGIC	0xC7
#define GCHEAP_IOC_INFO		_IOWR(GCHEAP_IOC_MAGIC, 0x00, struct gcheap_info)
#define GCHEAP_IOC_SIZE_CLASSES	_IOWR(GCHEAP_IOC_MAGIC, 0x01, struct gcheap_size_classes)
#define GCHEAP_IOC_REFILL	_IOWR(GCHEAP_IOC_MAGIC, 0x02, struct gcheap_refill)
#define GCHEAP_IOC_ALLOC_LARGE	_IOWR(GCHEAP_IOC_MAGIC, 0x03, struct gcheap_large)
#define GCHEAP_IOC_FREE		_IOW(GCHEAP_IOC_MAGIC, 0x04, struct gcheap_free)
#define GCHEAP_IOC_STATS	_IOWR(GCHEAP_IOC_MAGIC, 0x05, struct gcheap_stats)
#define GCHEAP_IOC_OBJECT	_IOWR(GCHEAP_IOC_MAGIC, 0x06, struct gcheap_object)
#define GCHEAP_IOC_THREAD	_IOW(GCHEAP_IOC_MAGIC, 0x07, struct gcheap_thread)
#define GCHEAP_IOC_PARK		_IOW(GCHEAP_IOC_MAGIC, 0x08, struct gcheap_park)
#define GCHEAP_IOC_GC		_IOW(GCHEAP_IOC_MAGIC, 0x09, struct gcheap_gc)
#define GCHEAP_IOC_ROOT		_IOW(GCHEAP_IOC_MAGIC, 0x0a, struct gcheap_root)
#define GCHEAP_IOC_FINALIZER	_IOWR(GCHEAP_IOC_MAGIC, 0x0b, struct gcheap_finalizer)
#define GCHEAP_IOC_FINALIZERS	_IOWR(GCHEAP_IOC_MAGIC, 0x0c, struct gcheap_finalizers)
#define GCHEAP_IOC_LINK		_IOW(GCHEAP_IOC_MAGIC, 0x0d, struct gcheap_link)
#define GCHEAP_IOC_SETGC	_IOWR(GCHEAP_IOC_MAGIC, 0x0e, struct gcheap_setgc)
#define GCHEAP_IOC_WB_FLUSH	_IOW(GCHEAP_IOC_MAGIC, 0x0f, struct gcheap_wb_flush)
#define GCHEAP_IOC_SET_MODE	_IOW(GCHEAP_IOC_MAGIC, 0x10, struct gcheap_mode)
#define GCHEAP_IOC_SCAVENGE	_IOWR(GCHEAP_IOC_MAGIC, 0x11, struct gcheap_scavenge)

#endif /* _UAPI_GCHEAP_H */
