/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Boehm-Demers-Weiser (libgc) API on top of libgcheap: a drop-in for
 * libgc's <gc.h> (also reachable as <gc/gc.h>), source-compatible with
 * libgc 8.2 for ordinary programs. Link with libgcheap instead of -lgc.
 *
 * What differs from libgc (gc.c has the details):
 *  - Collection is Go-style and paced by GOGC; GC_free_space_divisor maps to
 *    GOGC = 300 / divisor (the default 3 gives GOGC 100). Incremental mode
 *    is accepted and has no effect.
 *  - Finalizers run on the library's finalizer thread, and also whenever
 *    GC_invoke_finalizers() is called; GC_finalize_on_demand cannot stop
 *    the finalizer thread.
 *  - Interior pointers are always recognized; one byte is still added to
 *    every request, as libgc does, so that a pointer just past an object's
 *    end keeps that object alive.
 *  - As in libgc, the data and bss of every loaded object are roots,
 *    dlopen'd libraries included (libgcheap reads them again when objects
 *    are loaded or unloaded), and so are thread-local variables.
 *  - GC_DEBUG selects the GC_debug_* entry points, which allocate without
 *    debugging headers.
 *
 * Threads: define GC_THREADS before including this file to have
 * pthread_create, pthread_join, pthread_detach, pthread_sigmask and
 * sigprocmask redirected to the GC_ versions, as libgc's
 * gc_pthread_redirects.h does (GC_NO_THREAD_REDIRECTS turns that off):
 * the sigmask ones never block the collector's stop signal. The thread
 * functions are declared in any case.
 */
#ifndef GC_H
#define GC_H

#include <stddef.h>

/* libgc's spellings of "threads on", old and new. */
#if defined(LINUX_THREADS) && !defined(GC_LINUX_THREADS)
#define GC_LINUX_THREADS
#endif
#if (defined(GC_LINUX_THREADS) || defined(GC_PTHREADS)) && !defined(GC_THREADS)
#define GC_THREADS
#endif
#if defined(GC_THREADS) && !defined(GC_PTHREADS)
#define GC_PTHREADS
#endif
#if defined(GC_THREADS) && !defined(GC_LINUX_THREADS)
#define GC_LINUX_THREADS
#endif

#include <pthread.h>
#include <signal.h>

/* The libgc version this API follows; GC_get_version() returns the same. */
#define GC_VERSION_MAJOR	8
#define GC_VERSION_MINOR	2
#define GC_VERSION_MICRO	2

#ifndef GC_API
#define GC_API extern
#endif
#ifndef GC_CALL
#define GC_CALL
#endif
#ifndef GC_CALLBACK
#define GC_CALLBACK GC_CALL
#endif

#if defined(__GNUC__) || defined(__clang__)
#ifndef GC_ATTR_MALLOC
#define GC_ATTR_MALLOC __attribute__((__malloc__))
#endif
#ifndef GC_ATTR_ALLOC_SIZE
#define GC_ATTR_ALLOC_SIZE(argnum) __attribute__((__alloc_size__(argnum)))
#endif
#ifndef GC_ATTR_CALLOC_SIZE
#define GC_ATTR_CALLOC_SIZE(n, s) __attribute__((__alloc_size__(n, s)))
#endif
#ifndef GC_ATTR_NONNULL
#define GC_ATTR_NONNULL(argnum) __attribute__((__nonnull__(argnum)))
#endif
#ifndef GC_ATTR_CONST
#define GC_ATTR_CONST __attribute__((__const__))
#endif
#else
#ifndef GC_ATTR_MALLOC
#define GC_ATTR_MALLOC
#endif
#ifndef GC_ATTR_ALLOC_SIZE
#define GC_ATTR_ALLOC_SIZE(argnum)
#endif
#ifndef GC_ATTR_CALLOC_SIZE
#define GC_ATTR_CALLOC_SIZE(n, s)
#endif
#ifndef GC_ATTR_NONNULL
#define GC_ATTR_NONNULL(argnum)
#endif
#ifndef GC_ATTR_CONST
#define GC_ATTR_CONST
#endif
#endif
/* libgc marks its public variables deprecated; here they are plain. */
#ifndef GC_ATTR_DEPRECATED
#define GC_ATTR_DEPRECATED
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is the library's exported API. */
#pragma GCC visibility push(default)

typedef void *GC_PTR;			/* old name for void * */
typedef unsigned long GC_word;		/* pointer-sized, unsigned */
typedef long GC_signed_word;		/* pointer-sized, signed */

/* Return codes. */
#define GC_SUCCESS		0
#define GC_DUPLICATE		1	/* was already registered */
#define GC_NO_THREADS		2	/* never returned */
#define GC_NO_MEMORY		2	/* failed for lack of memory */
#define GC_UNIMPLEMENTED	3
#define GC_NOT_FOUND		4

/* ((major << 16) | (minor << 8) | micro) */
GC_API unsigned GC_CALL GC_get_version(void);

/*
 * Variables old programs read or assign directly. A new value of
 * GC_dont_gc or GC_free_space_divisor takes effect at the next GC_init(),
 * GC_gcollect(), setter call, or within about a megabyte of allocation by
 * the assigning thread. Unless noted they are accepted and have no effect.
 */
GC_API GC_ATTR_DEPRECATED GC_word GC_gc_no;	/* collections completed */
GC_API GC_ATTR_DEPRECATED int GC_dont_gc;	/* != 0: no collection at all;
						 * a counter for GC_disable() */
GC_API GC_ATTR_DEPRECATED GC_word GC_free_space_divisor; /* default 3, see GOGC above */
GC_API GC_ATTR_DEPRECATED int GC_dont_expand;
GC_API GC_ATTR_DEPRECATED int GC_full_freq;
GC_API GC_ATTR_DEPRECATED int GC_all_interior_pointers; /* 1: add a byte to requests */
GC_API GC_ATTR_DEPRECATED int GC_finalize_on_demand;
GC_API GC_ATTR_DEPRECATED int GC_java_finalization;
GC_API GC_ATTR_DEPRECATED GC_word GC_max_retries;
GC_API GC_ATTR_DEPRECATED int GC_no_dls;	/* before GC_INIT: register only
						 * the main program's data */
GC_API GC_ATTR_DEPRECATED int GC_use_entire_heap;
GC_API GC_ATTR_DEPRECATED GC_word GC_non_gc_bytes; /* bytes in uncollectable objects */
GC_API GC_ATTR_DEPRECATED int GC_find_leak;
GC_API GC_ATTR_DEPRECATED int GC_dont_precollect;
GC_API GC_ATTR_DEPRECATED unsigned long GC_time_limit;
GC_API GC_ATTR_DEPRECATED char *GC_stackbottom;
GC_API GC_ATTR_DEPRECATED int GC_parallel;	/* always 0: the marker is the kernel's */
GC_API int GC_quiet;
GC_API int GC_print_stats;			/* != 0: a line per GC_gcollect() */
/* The heap's address range once initialized (libgc's gc_mark.h names). */
GC_API void *GC_least_plausible_heap_addr;
GC_API void *GC_greatest_plausible_heap_addr;

#define GC_TIME_UNLIMITED 999999

/* Setters and getters of the variables above. */
GC_API GC_word GC_CALL GC_get_gc_no(void);
GC_API void GC_CALL GC_set_free_space_divisor(GC_word);
GC_API GC_word GC_CALL GC_get_free_space_divisor(void);
GC_API void GC_CALL GC_set_dont_expand(int);
GC_API int GC_CALL GC_get_dont_expand(void);
GC_API void GC_CALL GC_set_full_freq(int);
GC_API int GC_CALL GC_get_full_freq(void);
GC_API void GC_CALL GC_set_all_interior_pointers(int);
GC_API int GC_CALL GC_get_all_interior_pointers(void);
GC_API void GC_CALL GC_set_finalize_on_demand(int);
GC_API int GC_CALL GC_get_finalize_on_demand(void);
GC_API void GC_CALL GC_set_java_finalization(int);
GC_API int GC_CALL GC_get_java_finalization(void);
GC_API void GC_CALL GC_set_max_retries(GC_word);
GC_API GC_word GC_CALL GC_get_max_retries(void);
GC_API void GC_CALL GC_set_no_dls(int);
GC_API int GC_CALL GC_get_no_dls(void);
GC_API void GC_CALL GC_set_non_gc_bytes(GC_word);
GC_API GC_word GC_CALL GC_get_non_gc_bytes(void);
GC_API void GC_CALL GC_set_find_leak(int);
GC_API int GC_CALL GC_get_find_leak(void);
GC_API void GC_CALL GC_set_dont_precollect(int);
GC_API int GC_CALL GC_get_dont_precollect(void);
GC_API void GC_CALL GC_set_time_limit(unsigned long);
GC_API unsigned long GC_CALL GC_get_time_limit(void);
GC_API int GC_CALL GC_get_parallel(void);
GC_API void GC_CALL GC_set_markers_count(unsigned);
GC_API void GC_CALL GC_set_pages_executable(int);
GC_API int GC_CALL GC_get_pages_executable(void);
GC_API void GC_CALL GC_set_min_bytes_allocd(size_t);
GC_API size_t GC_CALL GC_get_min_bytes_allocd(void);
GC_API void GC_CALL GC_set_rate(int);
GC_API int GC_CALL GC_get_rate(void);
GC_API void GC_CALL GC_set_max_prior_attempts(int);
GC_API int GC_CALL GC_get_max_prior_attempts(void);
GC_API void GC_CALL GC_set_allocd_bytes_per_finalizer(GC_word);
GC_API GC_word GC_CALL GC_get_allocd_bytes_per_finalizer(void);
GC_API void GC_CALL GC_set_force_unmap_on_gcollect(int);
GC_API int GC_CALL GC_get_force_unmap_on_gcollect(void);
GC_API void GC_CALL GC_set_handle_fork(int);
/* Like GC_disable(), but GC_gcollect() still collects. */
GC_API void GC_CALL GC_set_disable_automatic_collection(int);
GC_API int GC_CALL GC_get_disable_automatic_collection(void);

/* Called with the request size when an allocation fails; returns NULL by
 * default. It may return another heap object instead. */
typedef void *(GC_CALLBACK *GC_oom_func)(size_t /* bytes_requested */);
GC_API GC_ATTR_DEPRECATED GC_oom_func GC_oom_fn;
GC_API void GC_CALL GC_set_oom_fn(GC_oom_func) GC_ATTR_NONNULL(1);
GC_API GC_oom_func GC_CALL GC_get_oom_fn(void);

/* Called, when set, before the collector aborts (GC_init failing). */
typedef void (GC_CALLBACK *GC_abort_func)(const char * /* msg */);
GC_API GC_abort_func GC_on_abort;
GC_API void GC_CALL GC_set_abort_func(GC_abort_func) GC_ATTR_NONNULL(1);
GC_API GC_abort_func GC_CALL GC_get_abort_func(void);

/* Warnings: msg is a printf format taking one GC_word. */
typedef void (GC_CALLBACK *GC_warn_proc)(char * /* msg */, GC_word /* arg */);
GC_API void GC_CALL GC_set_warn_proc(GC_warn_proc) GC_ATTR_NONNULL(1);
GC_API GC_warn_proc GC_CALL GC_get_warn_proc(void);
GC_API void GC_CALLBACK GC_ignore_warn_proc(char *, GC_word);

/* Stored and returned; never called (libgc calls it when finalizers wait). */
typedef void (GC_CALLBACK *GC_finalizer_notifier_proc)(void);
GC_API GC_ATTR_DEPRECATED GC_finalizer_notifier_proc GC_finalizer_notifier;
GC_API void GC_CALL GC_set_finalizer_notifier(GC_finalizer_notifier_proc);
GC_API GC_finalizer_notifier_proc GC_CALL GC_get_finalizer_notifier(void);

/* Initialization. Allocation initializes on first use too. */
GC_API void GC_CALL GC_init(void);
GC_API int GC_CALL GC_is_init_called(void);
GC_API void GC_CALL GC_deinit(void);	/* no effect */

/*
 * Allocation. Every object is zeroed and 16-byte aligned, and GC_size() of
 * it is at least the request plus GC_all_interior_pointers. Atomic objects
 * are never scanned for pointers. Uncollectable objects are never freed by
 * the collector and what they point to stays alive; GC_free releases them.
 */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL GC_malloc(size_t);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL GC_malloc_atomic(size_t);
GC_API GC_ATTR_MALLOC char *GC_CALL GC_strdup(const char *);
GC_API GC_ATTR_MALLOC char *GC_CALL GC_strndup(const char *, size_t) GC_ATTR_NONNULL(1);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL GC_malloc_uncollectable(size_t);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
	GC_malloc_atomic_uncollectable(size_t);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL GC_malloc_ignore_off_page(size_t);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
	GC_malloc_atomic_ignore_off_page(size_t);
GC_API void *GC_CALL GC_malloc_stubborn(size_t);	/* = GC_malloc */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(2) void *GC_CALL
	GC_memalign(size_t /* align */, size_t /* lb */);
GC_API int GC_CALL GC_posix_memalign(void ** /* memptr */, size_t /* align */,
				     size_t /* lb */) GC_ATTR_NONNULL(1);

/*
 * libgc's realloc: NULL is GC_malloc, size 0 frees and returns NULL; the
 * object stays in place if the new size fits and is at least half of it
 * (the tail is cleared), else a new object of the same kind takes the
 * contents and the old one is freed. An atomic object comes back scanned
 * (safe, but its contents are then treated as possible pointers).
 */
GC_API void *GC_CALL GC_realloc(void * /* old */, size_t /* new size */) GC_ATTR_ALLOC_SIZE(2);

/* Free an object early; NULL is ignored. The collector frees it instead
 * when it cannot be released at once. */
GC_API void GC_CALL GC_free(void *);

/* The first byte of the object holding a pointer, or NULL. */
GC_API void *GC_CALL GC_base(void * /* displaced_pointer */);
GC_API int GC_CALL GC_is_heap_ptr(const void *);
/* The size of the object at @obj (at least the request). */
GC_API size_t GC_CALL GC_size(const void * /* obj */) GC_ATTR_NONNULL(1);

/* Write barrier hooks. The store is a plain store today; this is where
 * the collector's barrier will go, so keep calling them. */
GC_API void GC_CALL GC_ptr_store_and_dirty(void * /* p */, const void * /* q */);
GC_API void GC_CALL GC_end_stubborn_change(const void *) GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_change_stubborn(const void *);
GC_API void GC_CALL GC_noop1(GC_word);

/* Heap size: the library reserves its range up front, so these only
 * check the request (GC_set_max_heap_size works before GC_INIT). */
GC_API int GC_CALL GC_expand_hp(size_t /* bytes */);
GC_API void GC_CALL GC_set_max_heap_size(GC_word /* bytes, 0: unbounded */);

/* Roots: [low, high_plus_1) is scanned for pointers at every collection.
 * GC_remove_roots takes the bounds given to GC_add_roots. */
GC_API void GC_CALL GC_add_roots(void * /* low */, void * /* high_plus_1 */);
GC_API void GC_CALL GC_remove_roots(void * /* low */, void * /* high_plus_1 */);
GC_API void GC_CALL GC_exclude_static_roots(void *, void *);	/* no effect */
/* Asked, during GC_init, about each data segment; 0 leaves it unscanned. */
typedef int (GC_CALLBACK *GC_has_static_roots_func)(const char * /* dlpi_name */,
						     void * /* section_start */,
						     size_t /* section_size */);
GC_API void GC_CALL GC_register_has_static_roots_callback(GC_has_static_roots_func);
GC_API void GC_CALL GC_register_displacement(size_t);	/* no effect */
GC_API void GC_CALL GC_debug_register_displacement(size_t);

/* Collection. */
GC_API void GC_CALL GC_gcollect(void);
GC_API void GC_CALL GC_gcollect_and_unmap(void);
typedef int (GC_CALLBACK *GC_stop_func)(void);
GC_API int GC_CALL GC_try_to_collect(GC_stop_func) GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_set_stop_func(GC_stop_func) GC_ATTR_NONNULL(1);
GC_API GC_stop_func GC_CALL GC_get_stop_func(void);
GC_API int GC_CALL GC_collect_a_little(void);	/* returns 0: nothing to do */
GC_API void GC_CALL GC_disable(void);		/* nests with GC_enable */
GC_API void GC_CALL GC_enable(void);
GC_API int GC_CALL GC_is_disabled(void);
GC_API void GC_CALL GC_enable_incremental(void);	/* no effect */
GC_API int GC_CALL GC_is_incremental_mode(void);	/* 0 */
GC_API void GC_CALL GC_set_manual_vdb_allowed(int);
GC_API int GC_CALL GC_get_manual_vdb_allowed(void);
GC_API void GC_CALL GC_start_incremental_collection(void);
#define GC_PROTECTS_POINTER_HEAP	1
#define GC_PROTECTS_PTRFREE_HEAP	2
#define GC_PROTECTS_STATIC_DATA		4
#define GC_PROTECTS_STACK		8
#define GC_PROTECTS_NONE		0
GC_API int GC_CALL GC_incremental_protection_needs(void);

/* Statistics, from the heap's accounting (see gc.c for the mapping). */
GC_API size_t GC_CALL GC_get_heap_size(void);
GC_API size_t GC_CALL GC_get_free_bytes(void);
GC_API size_t GC_CALL GC_get_unmapped_bytes(void);
GC_API size_t GC_CALL GC_get_bytes_since_gc(void);
GC_API size_t GC_CALL GC_get_expl_freed_bytes_since_gc(void);
GC_API size_t GC_CALL GC_get_total_bytes(void);
GC_API size_t GC_CALL GC_get_obtained_from_os_bytes(void);
GC_API size_t GC_CALL GC_get_memory_use(void);
GC_API void GC_CALL GC_get_heap_usage_safe(GC_word * /* heap_size */, GC_word * /* free_bytes */,
					   GC_word * /* unmapped_bytes */,
					   GC_word * /* bytes_since_gc */,
					   GC_word * /* total_bytes */);
struct GC_prof_stats_s {
	GC_word heapsize_full;
	GC_word free_bytes_full;
	GC_word unmapped_bytes;
	GC_word bytes_allocd_since_gc;
	GC_word allocd_bytes_before_gc;
	GC_word non_gc_bytes;
	GC_word gc_no;
	GC_word markers_m1;
	GC_word bytes_reclaimed_since_gc;
	GC_word reclaimed_bytes_before_gc;
	GC_word expl_freed_bytes_since_gc;
	GC_word obtained_from_os_bytes;
};
GC_API size_t GC_CALL GC_get_prof_stats(struct GC_prof_stats_s *, size_t /* stats_sz */);
GC_API void GC_CALL GC_start_performance_measurement(void);
GC_API unsigned long GC_CALL GC_get_full_gc_total_time(void);	/* ms stopped */

/*
 * Finalization: fn(obj, cd) runs once after obj (an object's first byte)
 * becomes unreachable. The old finalizer and its data come back through
 * ofn/ocd (either may be NULL); for an obj outside the heap fn is ignored
 * and they are set to NULL. fn NULL removes the finalizer.
 */
typedef void (GC_CALLBACK *GC_finalization_proc)(void * /* obj */, void * /* client_data */);
GC_API void GC_CALL GC_register_finalizer(void *, GC_finalization_proc, void *,
					  GC_finalization_proc *, void **) GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_register_finalizer_ignore_self(void *, GC_finalization_proc, void *,
						      GC_finalization_proc *, void **)
	GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_register_finalizer_no_order(void *, GC_finalization_proc, void *,
						   GC_finalization_proc *, void **)
	GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_register_finalizer_unreachable(void *, GC_finalization_proc, void *,
						      GC_finalization_proc *, void **)
	GC_ATTR_NONNULL(1);
/* Runs the queued finalizers on the calling thread; returns how many. */
GC_API int GC_CALL GC_invoke_finalizers(void);
/* 0: the finalizer thread runs them; calling GC_invoke_finalizers() is
 * always allowed. */
GC_API int GC_CALL GC_should_invoke_finalizers(void);

/*
 * Disappearing links (weak pointers): *link is cleared once obj becomes
 * unreachable. link must be 8-byte aligned and should not itself be
 * scanned (keep it hidden, or in an atomic object). Registration returns
 * GC_SUCCESS, GC_DUPLICATE (the link now refers to obj) or GC_NO_MEMORY;
 * unregistration returns 1 if the link was registered, else 0.
 */
GC_API int GC_CALL GC_register_disappearing_link(void ** /* link */) GC_ATTR_NONNULL(1);
GC_API int GC_CALL GC_general_register_disappearing_link(void ** /* link */,
							 const void * /* obj */)
	GC_ATTR_NONNULL(1) GC_ATTR_NONNULL(2);
GC_API int GC_CALL GC_unregister_disappearing_link(void ** /* link */);

/* Hidden pointers are invisible to the collector. */
typedef GC_word GC_hidden_pointer;
#define GC_HIDE_POINTER(p)	(~(GC_hidden_pointer)(p))
#define GC_REVEAL_POINTER(p)	((void *)GC_HIDE_POINTER(p))
#if defined(I_HIDE_POINTERS) || defined(GC_I_HIDE_POINTERS)
#define HIDE_POINTER(p)		GC_HIDE_POINTER(p)
#define REVEAL_POINTER(p)	GC_REVEAL_POINTER(p)
#endif

/*
 * The allocator lock: while it is held no collection starts (libgc's
 * weak-pointer idiom relies on it). Allocating under it does not collect.
 */
typedef void *(GC_CALLBACK *GC_fn_type)(void * /* client_data */);
GC_API void GC_CALL GC_alloc_lock(void);
GC_API void GC_CALL GC_alloc_unlock(void);
GC_API void *GC_CALL GC_call_with_alloc_lock(GC_fn_type, void *) GC_ATTR_NONNULL(1);

/* Threads. */
struct GC_stack_base {
	void *mem_base;		/* the cold end of the stack */
};
typedef void *(GC_CALLBACK *GC_stack_base_func)(struct GC_stack_base *, void *);
GC_API int GC_CALL GC_get_stack_base(struct GC_stack_base *) GC_ATTR_NONNULL(1);
GC_API void *GC_CALL GC_call_with_stack_base(GC_stack_base_func, void *) GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_allow_register_threads(void);
/* GC_SUCCESS, or GC_DUPLICATE if the thread is already registered. */
GC_API int GC_CALL GC_register_my_thread(const struct GC_stack_base *) GC_ATTR_NONNULL(1);
GC_API int GC_CALL GC_unregister_my_thread(void);
GC_API int GC_CALL GC_thread_is_registered(void);
GC_API void GC_CALL GC_start_mark_threads(void);	/* no effect */
/* fn runs as is: an attached thread can be stopped anywhere. */
GC_API void *GC_CALL GC_do_blocking(GC_fn_type, void *) GC_ATTR_NONNULL(1);
GC_API void *GC_CALL GC_call_with_gc_active(GC_fn_type, void *) GC_ATTR_NONNULL(1);
GC_API void *GC_CALL GC_get_my_stackbottom(struct GC_stack_base *) GC_ATTR_NONNULL(1);
/* The alternate stack is scanned whole (gch_stack_add); normstack is ignored. */
GC_API void GC_CALL GC_register_altstack(void *, GC_word, void *, GC_word);
/* The calling thread only (gch_thread_set_stack with an unknown bottom). */
GC_API void GC_CALL GC_set_stackbottom(void *, const struct GC_stack_base *)
	GC_ATTR_NONNULL(2);
/* Call around fork() after GC_set_handle_fork(-1); otherwise automatic. */
GC_API void GC_CALL GC_atfork_prepare(void);
GC_API void GC_CALL GC_atfork_parent(void);
GC_API void GC_CALL GC_atfork_child(void);
#ifndef GC_PTHREAD_CREATE_CONST
#define GC_PTHREAD_CREATE_CONST const
#endif
GC_API int GC_pthread_create(pthread_t *, GC_PTHREAD_CREATE_CONST pthread_attr_t *,
			     void *(*)(void *), void * /* arg */);
GC_API int GC_pthread_join(pthread_t, void ** /* retval */);
/* As pthread_sigmask and sigprocmask, but the stop signal stays unblocked. */
#ifdef SIG_BLOCK	/* sigset_t is declared (not under strict ISO C) */
GC_API int GC_pthread_sigmask(int, const sigset_t *, sigset_t *);
GC_API int GC_sigprocmask(int, const sigset_t *, sigset_t *);	/* gcheap's */
#endif
GC_API int GC_pthread_detach(pthread_t);

/* Pointer checks (libgc's debugging aids): failures call the print procs. */
GC_API void *GC_CALL GC_same_obj(void * /* p */, void * /* q */);
GC_API void *GC_CALL GC_pre_incr(void **, ptrdiff_t) GC_ATTR_NONNULL(1);
GC_API void *GC_CALL GC_post_incr(void **, ptrdiff_t) GC_ATTR_NONNULL(1);
GC_API void *GC_CALL GC_is_visible(void * /* p */);	/* never fails */
GC_API void *GC_CALL GC_is_valid_displacement(void * /* p */);
GC_API void (GC_CALLBACK *GC_same_obj_print_proc)(void *, void *);
GC_API void (GC_CALLBACK *GC_is_valid_displacement_print_proc)(void *);
GC_API void (GC_CALLBACK *GC_is_visible_print_proc)(void *);

/* The GC_debug_* versions: the same objects, without debugging headers. */
#define GC_EXTRAS		__FILE__, __LINE__
#define GC_EXTRA_PARAMS		const char *s, int i
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL GC_debug_malloc(size_t, GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
	GC_debug_malloc_atomic(size_t, GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC char *GC_CALL GC_debug_strdup(const char *, GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC char *GC_CALL GC_debug_strndup(const char *, size_t, GC_EXTRA_PARAMS)
	GC_ATTR_NONNULL(1);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
	GC_debug_malloc_uncollectable(size_t, GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
	GC_debug_malloc_atomic_uncollectable(size_t, GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
	GC_debug_malloc_ignore_off_page(size_t, GC_EXTRA_PARAMS);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
	GC_debug_malloc_atomic_ignore_off_page(size_t, GC_EXTRA_PARAMS);
GC_API void *GC_CALL GC_debug_malloc_stubborn(size_t, GC_EXTRA_PARAMS);
GC_API void GC_CALL GC_debug_free(void *);
GC_API void *GC_CALL GC_debug_realloc(void *, size_t, GC_EXTRA_PARAMS) GC_ATTR_ALLOC_SIZE(2);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL GC_debug_malloc_replacement(size_t);
GC_API void *GC_CALL GC_debug_realloc_replacement(void *, size_t) GC_ATTR_ALLOC_SIZE(2);
GC_API void GC_CALL GC_debug_register_finalizer(void *, GC_finalization_proc, void *,
						GC_finalization_proc *, void **)
	GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_debug_register_finalizer_ignore_self(void *, GC_finalization_proc, void *,
							    GC_finalization_proc *, void **)
	GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_debug_register_finalizer_no_order(void *, GC_finalization_proc, void *,
							 GC_finalization_proc *, void **)
	GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_debug_register_finalizer_unreachable(void *, GC_finalization_proc, void *,
							    GC_finalization_proc *, void **)
	GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_debug_end_stubborn_change(const void *) GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_debug_change_stubborn(const void *);
GC_API void GC_CALL GC_debug_ptr_store_and_dirty(void *, const void *);

#pragma GCC visibility pop

/* The allocation macros programs use. */
#ifdef GC_DEBUG_REPLACEMENT
#define GC_MALLOC(sz)		GC_debug_malloc_replacement(sz)
#define GC_REALLOC(old, sz)	GC_debug_realloc_replacement(old, sz)
#elif defined(GC_DEBUG)
#define GC_MALLOC(sz)		GC_debug_malloc(sz, GC_EXTRAS)
#define GC_REALLOC(old, sz)	GC_debug_realloc(old, sz, GC_EXTRAS)
#else
#define GC_MALLOC(sz)		GC_malloc(sz)
#define GC_REALLOC(old, sz)	GC_realloc(old, sz)
#endif

#ifdef GC_DEBUG
#define GC_MALLOC_ATOMIC(sz)	GC_debug_malloc_atomic(sz, GC_EXTRAS)
#define GC_STRDUP(s)		GC_debug_strdup(s, GC_EXTRAS)
#define GC_STRNDUP(s, sz)	GC_debug_strndup(s, sz, GC_EXTRAS)
#define GC_MALLOC_ATOMIC_UNCOLLECTABLE(sz) GC_debug_malloc_atomic_uncollectable(sz, GC_EXTRAS)
#define GC_MALLOC_UNCOLLECTABLE(sz) GC_debug_malloc_uncollectable(sz, GC_EXTRAS)
#define GC_MALLOC_IGNORE_OFF_PAGE(sz) GC_debug_malloc_ignore_off_page(sz, GC_EXTRAS)
#define GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE(sz) GC_debug_malloc_atomic_ignore_off_page(sz, GC_EXTRAS)
#define GC_FREE(p)		GC_debug_free(p)
#define GC_REGISTER_FINALIZER(p, f, d, of, od) GC_debug_register_finalizer(p, f, d, of, od)
#define GC_REGISTER_FINALIZER_IGNORE_SELF(p, f, d, of, od) \
	GC_debug_register_finalizer_ignore_self(p, f, d, of, od)
#define GC_REGISTER_FINALIZER_NO_ORDER(p, f, d, of, od) \
	GC_debug_register_finalizer_no_order(p, f, d, of, od)
#define GC_REGISTER_FINALIZER_UNREACHABLE(p, f, d, of, od) \
	GC_debug_register_finalizer_unreachable(p, f, d, of, od)
#define GC_END_STUBBORN_CHANGE(p) GC_debug_end_stubborn_change(p)
#define GC_PTR_STORE_AND_DIRTY(p, q) GC_debug_ptr_store_and_dirty(p, q)
#define GC_GENERAL_REGISTER_DISAPPEARING_LINK(link, obj) \
	GC_general_register_disappearing_link(link, GC_base((void *)(obj)))
#define GC_REGISTER_DISPLACEMENT(n) GC_debug_register_displacement(n)
#else
#define GC_MALLOC_ATOMIC(sz)	GC_malloc_atomic(sz)
#define GC_STRDUP(s)		GC_strdup(s)
#define GC_STRNDUP(s, sz)	GC_strndup(s, sz)
#define GC_MALLOC_ATOMIC_UNCOLLECTABLE(sz) GC_malloc_atomic_uncollectable(sz)
#define GC_MALLOC_UNCOLLECTABLE(sz) GC_malloc_uncollectable(sz)
#define GC_MALLOC_IGNORE_OFF_PAGE(sz) GC_malloc_ignore_off_page(sz)
#define GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE(sz) GC_malloc_atomic_ignore_off_page(sz)
#define GC_FREE(p)		GC_free(p)
#define GC_REGISTER_FINALIZER(p, f, d, of, od) GC_register_finalizer(p, f, d, of, od)
#define GC_REGISTER_FINALIZER_IGNORE_SELF(p, f, d, of, od) \
	GC_register_finalizer_ignore_self(p, f, d, of, od)
#define GC_REGISTER_FINALIZER_NO_ORDER(p, f, d, of, od) \
	GC_register_finalizer_no_order(p, f, d, of, od)
#define GC_REGISTER_FINALIZER_UNREACHABLE(p, f, d, of, od) \
	GC_register_finalizer_unreachable(p, f, d, of, od)
#define GC_END_STUBBORN_CHANGE(p) GC_end_stubborn_change(p)
#define GC_PTR_STORE_AND_DIRTY(p, q) GC_ptr_store_and_dirty(p, q)
#define GC_GENERAL_REGISTER_DISAPPEARING_LINK(link, obj) \
	GC_general_register_disappearing_link(link, obj)
#define GC_REGISTER_DISPLACEMENT(n) GC_register_displacement(n)
#endif

#define GC_MALLOC_STUBBORN(sz)	GC_MALLOC(sz)
#define GC_NEW_STUBBORN(t)	GC_NEW(t)
#define GC_CHANGE_STUBBORN(p)	GC_change_stubborn(p)
#define GC_NEW(t)		((t *)GC_MALLOC(sizeof(t)))
#define GC_NEW_ATOMIC(t)	((t *)GC_MALLOC_ATOMIC(sizeof(t)))
#define GC_NEW_UNCOLLECTABLE(t)	((t *)GC_MALLOC_UNCOLLECTABLE(sizeof(t)))

/* Pointer arithmetic and stores (unchecked, as libgc without GC_DEBUG). */
#define GC_PTR_ADD(x, n)	((x) + (n))
#define GC_PRE_INCR(x, n)	((x) += (n))
#define GC_POST_INCR(x)		((x)++)
#define GC_POST_DECR(x)		((x)--)
#define GC_PTR_STORE(p, q)	(*(void **)(p) = (void *)(q))

/* Keep ptr visibly alive up to this point of the program. */
#if defined(__GNUC__) || defined(__clang__)
#define GC_reachable_here(ptr)	__asm__ __volatile__(" " : : "X"(ptr) : "memory")
#else
#define GC_reachable_here(ptr)	GC_noop1((GC_word)(ptr))
#endif

/* GC_INIT() with libgc's compile-time knobs. */
#ifdef GC_DONT_EXPAND
#define GC_INIT_CONF_DONT_EXPAND	GC_set_dont_expand(1)
#else
#define GC_INIT_CONF_DONT_EXPAND
#endif
#ifdef GC_DONT_GC
#define GC_INIT_CONF_MAX_RETRIES	(void)(GC_dont_gc = 1)
#elif defined(GC_MAX_RETRIES)
#define GC_INIT_CONF_MAX_RETRIES	GC_set_max_retries(GC_MAX_RETRIES)
#else
#define GC_INIT_CONF_MAX_RETRIES
#endif
#ifdef GC_FREE_SPACE_DIVISOR
#define GC_INIT_CONF_FREE_SPACE_DIVISOR	GC_set_free_space_divisor(GC_FREE_SPACE_DIVISOR)
#else
#define GC_INIT_CONF_FREE_SPACE_DIVISOR
#endif
#ifdef GC_FULL_FREQ
#define GC_INIT_CONF_FULL_FREQ		GC_set_full_freq(GC_FULL_FREQ)
#else
#define GC_INIT_CONF_FULL_FREQ
#endif
#ifdef GC_TIME_LIMIT
#define GC_INIT_CONF_TIME_LIMIT		GC_set_time_limit(GC_TIME_LIMIT)
#else
#define GC_INIT_CONF_TIME_LIMIT
#endif
#ifdef GC_MAXIMUM_HEAP_SIZE
#define GC_INIT_CONF_MAXIMUM_HEAP_SIZE	GC_set_max_heap_size(GC_MAXIMUM_HEAP_SIZE)
#else
#define GC_INIT_CONF_MAXIMUM_HEAP_SIZE
#endif
#ifdef GC_IGNORE_WARN
#define GC_INIT_CONF_IGNORE_WARN	GC_set_warn_proc(GC_ignore_warn_proc)
#else
#define GC_INIT_CONF_IGNORE_WARN
#endif
#ifdef GC_INITIAL_HEAP_SIZE
#define GC_INIT_CONF_INITIAL_HEAP_SIZE	(void)GC_expand_hp(GC_INITIAL_HEAP_SIZE)
#else
#define GC_INIT_CONF_INITIAL_HEAP_SIZE
#endif

#define GC_INIT() { GC_INIT_CONF_DONT_EXPAND; \
		    GC_INIT_CONF_MAX_RETRIES; \
		    GC_INIT_CONF_FREE_SPACE_DIVISOR; \
		    GC_INIT_CONF_FULL_FREQ; \
		    GC_INIT_CONF_TIME_LIMIT; \
		    GC_INIT_CONF_MAXIMUM_HEAP_SIZE; \
		    GC_init(); \
		    GC_INIT_CONF_IGNORE_WARN; \
		    GC_INIT_CONF_INITIAL_HEAP_SIZE; }

#ifdef __cplusplus
}
#endif

/* libgc's gc_pthread_redirects.h: thread creation goes through the heap. */
#if defined(GC_PTHREADS) && !defined(GC_NO_THREAD_REDIRECTS) && !defined(GC_USE_LD_WRAP)
#undef pthread_create
#undef pthread_join
#undef pthread_detach
#undef pthread_sigmask
#undef sigprocmask
#define pthread_create	GC_pthread_create
#define pthread_join	GC_pthread_join
#define pthread_detach	GC_pthread_detach
#ifdef SIG_BLOCK
#define pthread_sigmask	GC_pthread_sigmask
#define sigprocmask	GC_sigprocmask
#endif
#endif

#endif /* GC_H */
