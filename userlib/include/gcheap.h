/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libgcheap: a Go-style garbage-collected heap backed by the gcheap kernel
 * module (/dev/gcheap). One heap per process, opened on first use.
 *
 * Every function returns 0 or a pointer on success; on failure it returns
 * -1 or NULL and sets errno. Two exceptions: gch_size returns 0 (no object
 * is 0 bytes) with errno set, and the pthread-style calls
 * (gch_pthread_create, gch_pthread_sigmask) return an error number, as the
 * calls they replace do.
 *
 * The structs below may grow at their ends in later versions. Programs
 * pass their size: gch_init, gch_stats and gch_heap_info are inline
 * wrappers that pass sizeof of the struct this header declares to the
 * exported *_sized functions. A library that knows fewer fields zeroes
 * the rest of an output struct and refuses (E2BIG) options it does not
 * know that are not zero; one that knows more treats missing fields as
 * zero. Sizes below a struct's first version (*_SIZE_VER0) are EINVAL.
 * The library's symbols carry the version GCHEAP_0.1.
 */
#ifndef GCHEAP_H
#define GCHEAP_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>
#include <pthread.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is the library's exported API. */
#pragma GCC visibility push(default)

/* Options for gch_init(). Zero means "the default". */
struct gch_options {
	const char *device;	/* default "/dev/gcheap"; env GCHEAP_DEVICE */
	size_t heap_max;	/* bytes of address space to reserve, rounded up
				 * to 4 MiB; default 4 GiB; env GCHEAP_HEAP_MAX
				 * (a number, with an optional K, M or G suffix) */
	/* Version 1 */
	unsigned int flags;	/* GCH_INIT_* */
	unsigned int reserved;	/* 0 */
};

#define GCH_OPTIONS_SIZE_VER0	16
#define GCH_OPTIONS_SIZE_VER1	24

/*
 * The program stores every pointer into a heap object with gch_store(),
 * GCH_STORE() or gch_memmove() (see "Write barrier" below), so the heap
 * is marked while the program runs (the concurrent mode: the world stops
 * only to start and to end each cycle's mark). Without it the heap is
 * stop-the-world: what the libgc layer (gc.h) always gets, and any heap
 * opened on first use. No environment variable sets it: only the program
 * knows whether it keeps the promise.
 */
#define GCH_INIT_CONCURRENT	1u

/*
 * Open and map the process's heap now rather than on first use, and attach
 * the calling thread. @opts may be NULL. GCHEAP_* environment variables
 * override @opts. Fails with EALREADY if the heap is already open (in
 * whichever mode it was opened: the first to open it fixes the mode),
 * ENOENT if the module is not loaded, EPROTO if the module speaks another
 * ABI, EINVAL for a bad option, ENOMEM if the address range cannot be
 * reserved, EOPNOTSUPP for GCH_INIT_CONCURRENT on a module without modes.
 * A heap opened with GCH_INIT_CONCURRENT cannot be used through gc.h:
 * GC_INIT() (or any first GC_ call) then aborts with a message, since
 * GC_ code stores pointers without the barrier.
 */
int gch_init_sized(const struct gch_options *opts, size_t size);

static inline int gch_init(const struct gch_options *opts)
{
	return gch_init_sized(opts, sizeof(*opts));
}

/*
 * Allocate @size bytes, zeroed, that may hold pointers to other heap
 * objects. Objects are 16-byte aligned when their size class is a multiple
 * of 16 (every class from 32 B up, and 16), else 8-byte aligned; objects
 * over 32 KiB are aligned to 8 KiB. Returns NULL with
 * errno ENOMEM when the heap is full (after a collection) or @size is
 * larger than the whole heap (at once, without one), EPERM on a thread
 * that is not attached (see gch_thread_attach), or the error of opening
 * the heap.
 */
void *gch_alloc(size_t size);

/*
 * As gch_alloc(), for objects that hold no pointers: the collector never
 * scans them. Noscan requests under 16 bytes share 16-byte blocks (Go's
 * tiny allocator) and are aligned to the largest power of two that divides
 * their size, at most 8.
 */
void *gch_alloc_noscan(size_t size);

/*
 * Release an object early (optional: the collector finds garbage itself).
 * @ptr must be the first byte of an allocated object. Fails with ENOENT if
 * it is not (a double free included), EINVAL if it is not in the heap,
 * EBUSY if the object is in a span another thread is allocating from, or
 * is a noscan object of at most 16 bytes (those share tiny blocks): such
 * objects are left to the collector. NULL is
 * accepted and ignored.
 */
int gch_free(void *ptr);

/*
 * Size of the object holding @ptr (interior pointers included) and, if
 * @base is not NULL, its first byte. 0 with errno EINVAL if @ptr is not in
 * the heap (or no heap is open), ENOENT if it is in no allocated object.
 */
size_t gch_size(const void *ptr, void **base);

/*
 * Register the calling thread with the heap before it allocates or keeps
 * heap pointers (the thread that opens the heap is attached implicitly).
 * An attached thread's stack and registers are roots; it is stopped by a
 * real-time signal (the module's stw_signal) during a collection, which
 * may make an interrupted poll(), select() or sleep return EINTR, as
 * libgc's stop signal does. Attaching unblocks that signal in the
 * thread's mask: an attached thread must not block it, or every
 * collection waits for it for the module's stw_timeout_ms and then fails
 * (block signals with gch_pthread_sigmask). A thread waiting in vfork
 * (posix_spawn, system, popen) stops once its child has exec'd or exited.
 * Idempotent.
 */
int gch_thread_attach(void);

/*
 * Hand the calling thread's spans back to the heap and unregister it. A
 * thread that exits attached is detached automatically.
 */
int gch_thread_detach(void);

/* What the heap and the module report about themselves. */
struct gch_heap_info {
	unsigned int abi_version;	/* the module's ABI version */
	size_t page_size;		/* heap page size (8 KiB) */
	unsigned int num_size_classes;	/* small size classes, class 0 included */
	size_t max_small_size;		/* largest object served from spans */
	uintptr_t heap_base;		/* start of the heap's mapping */
	size_t heap_max;		/* bytes reserved for the heap */
	pid_t owner;			/* process that owns the heap */
	int stop_signal;		/* the signal that stops attached threads */
};

#define GCH_HEAP_INFO_SIZE_VER0	56

/* Fill @info, opening the heap first if needed. */
int gch_heap_info_sized(struct gch_heap_info *info, size_t size);

static inline int gch_heap_info(struct gch_heap_info *info)
{
	return gch_heap_info_sized(info, sizeof(*info));
}

/* Heap accounting (Go's MemStats names), bytes unless named otherwise. */
struct gch_stats {
	uint64_t heap_sys;	/* reserved address range */
	uint64_t heap_inuse;	/* in spans */
	uint64_t heap_idle;	/* in no span */
	uint64_t heap_released;	/* idle, with no physical memory */
	uint64_t heap_resident;	/* with physical memory */
	uint64_t heap_alloc;	/* allocated; spans held by caches count whole */
	uint64_t heap_objects;	/* likewise, in objects */
	uint64_t spans_inuse;	/* small-object spans */
	uint64_t spans_cached;	/* of which held by thread caches */
	uint64_t large_objects;	/* live objects over 32 KiB */
	uint64_t refills;	/* spans handed to caches, ever */
	uint64_t frees;		/* objects released by gch_free, ever */
	uint64_t syscalls;	/* system calls the allocator made, ever */
	/* The collector (Go's MemStats names). */
	uint64_t next_gc;	/* the heap goal: a STW heap's next cycle starts there, a
				   CONCURRENT heap's ends by then */
	uint64_t last_marked;	/* bytes found live by the last cycle */
	uint64_t num_gc;	/* cycles completed */
	uint64_t num_forced_gc;	/* of which by gch_collect() */
	uint64_t stw_timeouts;	/* cycles abandoned: a thread never stopped */
	uint64_t pause_total_ns;	/* world stopped, all cycles */
	uint64_t pause_max_ns;	/* longest single stop */
	uint64_t last_pause_ns;	/* the last cycle's stop */
	uint64_t swept_bytes;	/* bytes the collector freed, ever */
	uint64_t freed_objects;	/* objects the collector freed, ever */
	uint64_t finalizers;	/* objects with a finalizer */
	int gogc;		/* GOGC percent, negative when collection is off */
	unsigned int threads;	/* attached threads */
	uint64_t park_failures;	/* stop signals a thread could not answer: the
				 * module refused its park, a library bug or the
				 * heap's descriptor closed (see gch_collect) */
	/* Version 1: memory given back to the kernel, bytes, ever. */
	uint64_t scav_background;	/* by the background scavenger */
	uint64_t scav_sync;	/* as the heap grew, by memory_max, gch_free_os_memory */
	uint64_t scav_shrinker;	/* under the system's memory pressure */
	uint64_t scav_ns;	/* time the background scavenger took */
	uint64_t memory_max;	/* the hard limit, GCH_NO_LIMIT for none */
};

#define GCH_STATS_SIZE_VER0	208
#define GCH_STATS_SIZE_VER1	248

int gch_stats_sized(struct gch_stats *st, size_t size);

static inline int gch_stats(struct gch_stats *st)
{
	return gch_stats_sized(st, sizeof(*st));
}

/*
 * Run a full collection now and sweep the whole heap before returning.
 * Fails with ETIMEDOUT if an attached thread did not stop within the
 * module's stw_timeout_ms (then nothing was freed; the kernel log names
 * the thread, and gch_stats' park_failures counts threads that took the
 * signal but could not stop). After such a timeout,
 * automatic collections are retried only after a number of refills that
 * doubles with each timeout in a row (64, 128, ... 4096), so a thread that
 * cannot stop does not stall every allocation; a completed cycle resets it.
 */
int gch_collect(void);

/*
 * Set GOGC: the next cycle starts when the heap has grown by @percent
 * since the last one found it live (Go's rule, 4 MiB at least). A negative
 * value turns automatic collection off (gch_collect still works). The
 * previous value is stored in *@old if @old is not NULL (-1: it was off).
 * The environment's GOGC ("off" or a number) sets the heap's initial value.
 */
int gch_set_gogc(int percent, int *old);

/*
 * Set the soft memory limit (Go's GOMEMLIMIT), in bytes of the heap's
 * spans (gch_stats' heap_inuse), GCH_NO_LIMIT for none (the default):
 * cycles come early enough to stay under it, down to collecting whenever
 * the heap has grown past what the last cycle found live; but while
 * collecting takes more than half the time the limit yields (the heap may
 * pass it rather than the program stall). With GOGC off, the limit alone
 * decides when cycles run. The previous value is stored in *@old if @old
 * is not NULL. The environment's GOMEMLIMIT (bytes, with an optional B,
 * KiB, MiB, GiB or TiB suffix, or "off") sets the heap's initial value.
 */
#define GCH_NO_LIMIT	UINT64_MAX
int gch_set_memory_limit(uint64_t bytes, uint64_t *old);

/*
 * Set the hard memory limit, in bytes of physical memory the heap holds
 * (gch_stats' heap_resident), GCH_NO_LIMIT for none (the default). An
 * allocation that would pass it first makes the heap give idle memory
 * back, then collects, and then fails (NULL, errno ENOMEM); the process
 * is never killed for it. Set below what the heap holds, idle memory goes
 * back at once. The previous value is stored in *@old if @old is not
 * NULL. The environment's GCHEAP_MEMORY_MAX (GOMEMLIMIT's syntax) sets
 * the heap's initial value.
 */
int gch_set_memory_max(uint64_t bytes, uint64_t *old);

/*
 * Collect, then give the memory of every idle heap page back to the
 * kernel now (Go's debug.FreeOSMemory, libgc's GC_gcollect_and_unmap).
 * Without it, a background scavenger gives back what the heap holds
 * beyond its goal by 10 %, at about 1 % of a CPU.
 */
int gch_free_os_memory(void);

/*
 * Scan [lo, hi) for pointers at every collection (a malloc'd array holding
 * heap pointers). Bounds are rounded to 8 bytes. gch_root_remove() takes
 * the same bounds.
 *
 * Roots without registration: the stacks and registers of attached
 * threads; every thread's thread-local variables (__thread, static and
 * dynamic, a dlopen()ed library's included); the data and bss of the
 * program and of every loaded shared object, read again at the start of a
 * cycle when objects were loaded or unloaded. GCHEAP_NO_STATIC_ROOTS=1 in
 * the environment turns the last off (register what must be scanned).
 */
int gch_root_add(const void *lo, const void *hi);
int gch_root_remove(const void *lo, const void *hi);

/*
 * Choose the static data registered as roots: @fn is asked about each
 * writable segment (@name "" for the program, else the object's path) and
 * returns 0 to leave it out. NULL: all. Applies from the next cycle.
 */
typedef int (*gch_static_roots_filter)(const char *name, void *lo, size_t len);
void gch_set_static_roots_filter(gch_static_roots_filter fn);

/*
 * A stack threads may run on besides their own: a coroutine's (makecontext,
 * swapcontext) or a sigaltstack. It is scanned whole at every collection,
 * whether a thread runs on it or not, so a suspended coroutine's objects
 * live. A thread running on it is scanned there and on its own stack (all
 * of it: the frames that switched away are live). Register a stack before
 * a thread switches to it; gch_stack_remove() takes the same bounds.
 */
int gch_stack_add(const void *lo, const void *hi);
int gch_stack_remove(const void *lo, const void *hi);

/*
 * The calling (attached) thread runs on [lo, hi) from now on instead of
 * the stack it had (libgc's GC_set_stackbottom): a collection scans it
 * from the thread's stack pointer up to @hi while the thread runs there.
 * @lo NULL: not known; then the stack is scanned only while the thread
 * runs on it, at most 1 GiB below @hi. The stack the thread leaves is no
 * longer scanned as its stack: register it with gch_stack_add if frames
 * on it stay live. EPERM on a thread that is not attached, EINVAL for a
 * range over 1 GiB.
 */
int gch_thread_set_stack(const void *lo, const void *hi);

/*
 * Finalizers. Once @obj (an object's first byte) is found unreachable,
 * fn(obj, arg) runs once on the library's finalizer thread; the object and
 * what it reaches are kept until then. Objects reachable from a finalizable
 * object are finalized after it. @fn NULL removes the finalizer. The old
 * finalizer is returned through @ofn/@oarg if they are not NULL.
 */
typedef void (*gch_finalizer_fn)(void *obj, void *arg);

#define GCH_FINALIZER_NO_ORDER		1u	/* finalize regardless of who points to it */
#define GCH_FINALIZER_IGNORE_SELF	2u	/* pointers to itself do not delay it */

int gch_set_finalizer(void *obj, gch_finalizer_fn fn, void *arg);
int gch_set_finalizer_ex(void *obj, gch_finalizer_fn fn, void *arg, unsigned int flags,
			 gch_finalizer_fn *ofn, void **oarg);

/*
 * Run queued finalizers on the calling thread instead of waiting for the
 * finalizer thread; returns how many ran.
 */
int gch_run_finalizers(void);

/* Finalizers found due and not yet taken by any thread (0 if no heap). */
unsigned long gch_finalizers_queued(void);

/*
 * Disappearing link: *@link is set to NULL when the object holding @obj
 * becomes unreachable (before any finalizer would keep it). @link must be
 * 8-byte aligned and is not itself a root.
 */
int gch_register_link(void **link, const void *obj);
int gch_unregister_link(void **link);

/*
 * fork(): the child does not share the parent's heap, and does not get a
 * copy of it. Every pointer into the parent's heap is dangling in the
 * child: it must not touch the parent's heap objects. The child gets a heap
 * of its own, opened on first use with the environment's settings (GOGC;
 * not a value set with gch_set_gogc), and its forking thread attached then;
 * the ranges registered with gch_root_add and gch_stack_add are roots in it
 * again, except those inside the parent's heap; static data and TLS are
 * roots as in any process; finalizers set in the child run on a finalizer
 * thread of its own (the parent's queued ones are gone). The library's
 * locks are taken around fork() (pthread_atfork), so a fork beside threads
 * using the library does not leave the child deadlocked.
 */

/*
 * pthread_create() for threads that use the heap: the new thread is
 * attached, with the stop signal unblocked, before @start runs, and before
 * this returns; until then @arg is kept by the caller's stack (if the
 * caller is attached). Returns 0 or an error number, as pthread_create
 * does: pthread_create's, the error of opening the heap, or the new
 * thread's attach error (then @start never ran and the thread is gone).
 */
int gch_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
		       void *(*start)(void *), void *arg);

/*
 * pthread_sigmask() that never blocks the heap's stop signal (it is taken
 * out of @set for SIG_BLOCK and SIG_SETMASK). Returns 0 or an error number.
 * Declared where <signal.h> declares sigset_t (not under strict ISO C).
 */
#ifdef SIG_BLOCK
int gch_pthread_sigmask(int how, const sigset_t *set, sigset_t *old);
#endif

/* Size of objects in small size class @cls (1..num_size_classes-1), 0 if none. */
size_t gch_class_size(unsigned int cls);

/*
 * Write barrier (Go's hybrid barrier). In a heap opened with
 * GCH_INIT_CONCURRENT, every store of a pointer into a heap object must go
 * through gch_store() or GCH_STORE(), and every copy of memory that holds
 * pointers into a heap object through gch_memmove() (memcpy, memmove and
 * struct assignment of such memory are stores too). Stores into stacks,
 * registers, thread-local variables and registered root ranges (static
 * data, gch_root_add) need no barrier: those are scanned with the world
 * stopped when a cycle starts. A stop-the-world heap needs no barrier, and
 * the barrier costs it one load and one predictable branch per store.
 *
 * While the collector marks, the barrier records the slot's old value and
 * the new value for the collector; otherwise it is the plain store. Only
 * attached threads may store with the barrier on: a store from another
 * thread, or a record the module refuses, aborts the program with a
 * message, because the collector could otherwise free a live object.
 *
 * gch_wb_enabled says whether the barrier is on. The library sets it; the
 * program only reads it, and only through these.
 */
extern int gch_wb_enabled;

/* The slow path: record a store's old and new value (the caller stores). */
void gch_wb_record(uintptr_t old_value, uintptr_t new_value);

/* *@slot = @value, a slot of a heap object. */
static inline void gch_store(void **slot, void *value)
{
	/* Atomic: the flag changes in this thread's stop handler, so no load may be hoisted. */
	if (__builtin_expect(__atomic_load_n(&gch_wb_enabled, __ATOMIC_RELAXED), 0))
		gch_wb_record((uintptr_t)*slot, (uintptr_t)value);
	*slot = value;
}

/*
 * @lvalue = @value for a pointer-typed (or uintptr_t) lvalue of any type,
 * each argument evaluated once: GCH_STORE(node->next, n). A macro, so it
 * is inlined even where gch_store() would not be, and needs no cast to
 * void ** (which would break strict aliasing for a typed slot).
 */
#define GCH_STORE(lvalue, value)						\
	do {									\
		__typeof__(lvalue) *gch_slot_ = &(lvalue);			\
		__typeof__(lvalue) gch_value_ = (value);			\
		if (__builtin_expect(__atomic_load_n(&gch_wb_enabled,		\
						     __ATOMIC_RELAXED), 0))	\
			gch_wb_record((uintptr_t)*gch_slot_,			\
				      (uintptr_t)gch_value_);			\
		*gch_slot_ = gch_value_;					\
	} while (0)

/*
 * memmove() for memory that may hold heap pointers, into a heap object:
 * with the barrier on it records every 8-byte-aligned word of @dst the
 * move overwrites, before and after.
 */
void gch_memmove(void *dst, const void *src, size_t n);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* GCHEAP_H */
