/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libgcheap internals shared between its files; not installed. */
#ifndef GCHEAP_INTERNAL_H
#define GCHEAP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "uapi/gcheap.h"

/* Thread-locals without __tls_get_addr in the shared library. */
#define GCH_TLS __thread __attribute__((tls_model("initial-exec")))

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

/* Size-class lookup, Go's two tables: step 8 up to 1 KiB, step 128 above. */
#define GCH_SMALL_SIZE_MAX	1024
#define GCH_CLASS8_LEN		(GCH_SMALL_SIZE_MAX / 8 + 1)
#define GCH_CLASS128_LEN	((GCHEAP_MAX_SMALL_SIZE - GCH_SMALL_SIZE_MAX) / 128 + 1)

/*
 * libgcheap's variables that hold heap addresses: not scanned as part of
 * the static data they are linked into (roots.c), or the heap's first
 * object would never die.
 */
#define GCH_NOROOT __attribute__((section("gch_noroot")))

struct gch_heap {
	int fd;				/* /dev/gcheap, -1 until opened */
	bool ready;			/* fully initialized (release-stored) */
	uintptr_t base, end;		/* the mapping */
	struct gcheap_info info;	/* as reported at open */
	struct gcheap_size_class classes[GCHEAP_NUM_SIZE_CLASSES];
	uint8_t class8[GCH_CLASS8_LEN];
	uint8_t class128[GCH_CLASS128_LEN];
	uint64_t syscalls;		/* allocator ioctls, atomically counted */
	const volatile struct gcheap_ctrl *ctrl;	/* the control page */
	int stw_signal;			/* the signal that parks a thread */
};

extern struct gch_heap gch_heap;

/* Open and map the heap, and attach the calling thread, if not done yet. */
int gch_heap_ensure(void);

/* An ioctl on the heap, counted in gch_heap.syscalls; -1/errno on failure. */
int gch_ioctl(unsigned long cmd, void *arg);

static inline unsigned int gch_size_to_class(size_t size)
{
	if (size <= GCH_SMALL_SIZE_MAX)
		return gch_heap.class8[(size + 7) >> 3];
	return gch_heap.class128[(size - GCH_SMALL_SIZE_MAX + 127) >> 7];
}

/* Stopping the world (stw.c). */
int gch_stw_install(void);
void gch_stw_uninstall(void);
int gch_stw_attach(void);
int gch_stw_detach(void);
void gch_stw_forked(void);
uintptr_t gch_stw_stack_hi(void);
uint64_t gch_stw_park_failures(void);
void gch_stw_scan_range(uintptr_t sp, struct gcheap_stack *st);
int gch_stw_set_stack(uintptr_t lo, uintptr_t hi);
int gch_stw_tls_register(void);

/* Roots (roots.c). */
int gch_root_ioctl(unsigned int op, uintptr_t lo, uintptr_t hi);
int gch_roots_open(void);
int gch_roots_refresh(void);
void gch_roots_lock(void);
void gch_roots_unlock(void);
void gch_roots_forked(uintptr_t old_base, uintptr_t old_end);
int gch_tls_register(uintptr_t stack_lo, uintptr_t stack_hi);
void gch_tls_unregister(void);
size_t gch_tls_copy(void *buf, size_t len, uintptr_t stack_lo, uintptr_t stack_hi);

/* The collector (collect.c). */
int gch_collect_init(void);
int gch_gc_ioctl(uint64_t flags);
void gch_gc_poll_slow(void);
void gch_collect_forked(void);

/* The background collector thread of a CONCURRENT heap (bgcollect.c). */
void gch_bg_start(void);
bool gch_bg_kick(void);
void gch_bg_forked(void);

/* The heap is full: a cycle and a sweep, or -1 with errno ENOMEM. */
int gch_gc_for_space(void);

/* No cycle starts between these (GC_call_with_alloc_lock); they nest. */
void gch_gc_hold(void);
void gch_gc_release(void);

/*
 * A cycle is due (pacer's gc_wanted): run it on this thread, or on the
 * collector thread of a CONCURRENT heap, unless a recent stop timed out
 * (see collect.c).
 */
static inline void gch_gc_poll(void)
{
	if (unlikely(gch_heap.ctrl && gch_heap.ctrl->gc_wanted))
		gch_gc_poll_slow();
}

/* The write barrier's buffer (wbuf.c). */
void gch_wb_refresh(void);
void gch_wb_flush(void);
void gch_wb_park_words(__u64 *ptrs, __u32 *count);
void gch_wb_parked(bool handed_over);
void gch_wb_detach(void);
void gch_wb_forked(void);
/* Test hook: this thread's recorded words (up to @max into @out), and how many. */
size_t gch_wb_pending(uint64_t *out, size_t max);

/* Per-thread cache (mcache.c). */
int gch_mcache_attach(void);
void *gch_mcache_alloc(unsigned int spanclass);
void *gch_mcache_alloc_tiny(size_t size);
int gch_mcache_free(void *ptr);
void gch_mcache_forked(void);
bool gch_mcache_report(struct gcheap_cache_report *r);
void gch_mcache_reported(const struct gcheap_cache_report *r);

#endif /* GCHEAP_INTERNAL_H */
