// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The Boehm-Demers-Weiser (libgc) API declared in gc.h, built only on the
 * public libgcheap API of gcheap.h.
 *
 * Sizes. libgc adds one byte to every request while it recognizes interior
 * pointers (its default), so that a pointer just past an object's end
 * still points into that object and keeps it alive, and it rounds requests
 * up to 16-byte granules: GC_size(GC_malloc(n)) is (n + 1) rounded up to 16
 * for small n (16 for n = 0, 7 or 15; 32 for 16 and 24; 112 for 100).
 * libgcheap's conservative scan also takes interior pointers, and the same
 * rule applies to it: without the byte, the one-past-the-end pointer a C
 * loop keeps would point at the next object and the current one could be
 * freed. So every request asks libgcheap for (n + 1) rounded up to 16,
 * and GC_size(p) (the size class) is at least libgc's value for those
 * sizes. Rounding to 16 also gives libgc's 16-byte alignment (every size
 * class from 16 up that is a multiple of 16 is 16-byte aligned) and keeps
 * atomic requests out of libgcheap's tiny blocks, so GC_base(p) == p and
 * GC_free work for every object.
 *
 * Kinds. GC_MALLOC is gch_alloc, ATOMIC is gch_alloc_noscan. Uncollectable
 * objects are ordinary heap objects listed in a table that is itself a
 * root (malloc'd, registered with gch_root_add): the table's pointer keeps
 * the object alive, and a live scanned object has its contents traced like
 * any other, so what it points to survives too. Registering each object's
 * own range as a root instead would take a root range per object (the
 * module caps their number) and rely on a range keeping the object it
 * lies in, which gcheap.h does not promise. The table also tells GC_free
 * and GC_realloc which objects are uncollectable. Nothing in the public
 * API tells an atomic object from a scanned one, so GC_realloc of an
 * atomic object returns a scanned one: safe, at worst its bytes retain
 * some garbage.
 *
 * Roots. libgcheap itself scans the data and bss of the program and of
 * every loaded object (refreshed when objects are loaded or unloaded, as
 * libgc re-registers dynamic libraries every cycle), thread-local storage,
 * and attached threads' stacks and registers. GC_no_dls and
 * GC_register_has_static_roots_callback act through its static roots
 * filter. GC_register_altstack registers the alternate stack with
 * gch_stack_add.
 *
 * fork(). libgcheap takes its own locks around a fork; this file's (the
 * allocation lock, settings_lock, uc_lock) are taken by GC_atfork_prepare, registered with
 * pthread_atfork at GC_init unless GC_set_handle_fork(-1) said the program
 * calls the GC_atfork_* functions itself. The child's table starts empty
 * (the parent's objects are not in the child's heap) and the heap bounds
 * are read again from the child's own heap.
 *
 * Pacing. libgc collects after allocating about (2 * live) / divisor bytes
 * and GOGC after growing by live * GOGC / 100: both inversely proportional
 * to the knob, so GC_free_space_divisor maps to GOGC = 300 / divisor, and
 * libgc's default divisor 3 gives gcheap's default GOGC 100 (1 gives 300,
 * 16 gives 18). The divisor is applied only once it differs from 3, so a
 * GOGC from the environment stands until the program sets one. GC_dont_gc
 * (and GC_disable/GC_enable, which count in it as in libgc) turns
 * collection off with GOGC -1 and makes GC_gcollect a no-op, as in libgc;
 * the GOGC in force before is restored when it drops back to 0.
 * Programs assign these variables directly, so they are checked at
 * GC_init, GC_gcollect, in the setters, and every megabyte a thread
 * allocates; GC_gc_no, a variable too, is refreshed at the same points.
 *
 * Finalizers. libgc's finalizer type is gch_finalizer_fn. They run on
 * libgcheap's finalizer thread; GC_invoke_finalizers runs those already
 * queued on the calling thread. libgcheap has no switch to hold them for
 * GC_invoke_finalizers alone, so GC_finalize_on_demand is stored and has
 * no effect. GC_should_invoke_finalizers says whether any are queued (the
 * module's count): a "while (GC_should_invoke_finalizers())" loop that
 * calls GC_invoke_finalizers ends, as the queue only shrinks there.
 *
 * Statistics come from gch_stats: heap size is heap_inuse, free bytes
 * heap_inuse - heap_alloc, memory use heap_alloc, bytes since GC
 * heap_alloc - last_marked, total bytes heap_alloc + swept_bytes (kept
 * monotonic; bytes released by GC_free are not counted). The reserved
 * address range is neither heap nor "unmapped", so unmapped bytes are 0.
 *
 * Threads. GC_pthread_create uses gch_pthread_create through a trampoline
 * that records the registration (GC_thread_is_registered). A thread that
 * allocates without being attached (created by the plain pthread_create)
 * is attached on the spot rather than failing. GC_pthread_sigmask (and
 * GC_sigprocmask) never block the stop signal; gc.h redirects
 * pthread_sigmask and sigprocmask to them.
 *
 * The allocator lock (GC_alloc_lock, GC_call_with_alloc_lock) also holds
 * off the collector, as libgc's does: no cycle starts, so no link is
 * cleared and no object freed, while it is held. That makes libgc's
 * weak-pointer idiom (reveal a disguised pointer under the lock) safe.
 * Allocating under it cannot collect: a full heap fails the allocation.
 */
#define GC_NO_THREAD_REDIRECTS	/* this file calls the real pthread_* */

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcheap.h"
#include "gc.h"
#include "internal.h"

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

#define DEFAULT_DIVISOR	3
#define GRANULE		16
#define LARGE_SIZE	32768		/* libgcheap's largest small object */
#define PAGE_ALIGN	8192		/* alignment of larger objects */
#define REFRESH_BYTES	(1u << 20)	/* per thread, between settings checks */

static void GC_CALLBACK default_warn(char *msg, GC_word arg);
static void GC_CALLBACK default_abort(const char *msg);
static void *GC_CALLBACK default_oom(size_t bytes);
static void GC_CALLBACK default_same_obj_print(void *p, void *q);
static void GC_CALLBACK default_displacement_print(void *p);
static void GC_CALLBACK default_visible_print(void *p);

/* The exported variables, with libgc's defaults. */
GC_word GC_gc_no;
int GC_dont_gc;
GC_word GC_free_space_divisor = DEFAULT_DIVISOR;
int GC_dont_expand;
int GC_full_freq = 19;
int GC_all_interior_pointers = 1;
int GC_finalize_on_demand;
int GC_java_finalization = 1;
GC_word GC_max_retries;
int GC_no_dls;
int GC_use_entire_heap;
GC_word GC_non_gc_bytes;
int GC_find_leak;
int GC_dont_precollect;
unsigned long GC_time_limit = GC_TIME_UNLIMITED;
char *GC_stackbottom;
int GC_parallel;
int GC_quiet;
int GC_print_stats;
/*
 * Variables holding heap addresses: in libgcheap's gch_noroot section, cut
 * out of the static data it scans, or the heap's first object would live
 * for ever.
 */
#define NOROOT __attribute__((section("gch_noroot")))

void *GC_least_plausible_heap_addr NOROOT;
void *GC_greatest_plausible_heap_addr NOROOT;
GC_oom_func GC_oom_fn = default_oom;
GC_abort_func GC_on_abort = default_abort;
GC_finalizer_notifier_proc GC_finalizer_notifier;
void (GC_CALLBACK *GC_same_obj_print_proc)(void *, void *) = default_same_obj_print;
void (GC_CALLBACK *GC_is_valid_displacement_print_proc)(void *) = default_displacement_print;
void (GC_CALLBACK *GC_is_visible_print_proc)(void *) = default_visible_print;

static int init_done;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static size_t extra_bytes = 1;		/* GC_all_interior_pointers, at init */
static uintptr_t heap_lo NOROOT, heap_hi NOROOT;
static bool bounds_stale;		/* a forked child: heap_lo/hi are the parent's */
static GC_word max_heap_size;		/* for gch_init, if set before it */
static GC_warn_proc warn_proc = default_warn;
static GC_stop_func stop_func;
static GC_has_static_roots_func static_roots_cb;
static pthread_mutex_t alloc_lock = PTHREAD_MUTEX_INITIALIZER;
static GC_word total_bytes_max, obtained_max;

static GCH_TLS bool thread_registered;
static GCH_TLS size_t alloc_since_refresh;

/* What the heap has been told, under settings_lock (read without it). */
static pthread_mutex_t settings_lock = PTHREAD_MUTEX_INITIALIZER;
static int applied_off;			/* collection turned off by us */
static GC_word applied_divisor = DEFAULT_DIVISOR;
static int saved_gogc = 100;		/* GOGC to restore when back on */
static int auto_collection_off;		/* GC_set_disable_automatic_collection */

/* Values stored for programs that set and read them back, to no effect. */
static int pages_executable, rate = 10, max_prior_attempts, force_unmap, handle_fork;
static int manual_vdb_allowed;
static size_t min_bytes_allocd = 1;
static GC_word allocd_bytes_per_finalizer = 10000;

static inline bool initialized(void)
{
	return __atomic_load_n(&init_done, __ATOMIC_ACQUIRE);
}

static inline void ensure_init(void)
{
	if (unlikely(!initialized()))
		GC_init();
}

static void warn(const char *msg, GC_word arg)
{
	GC_warn_proc proc = __atomic_load_n(&warn_proc, __ATOMIC_ACQUIRE);

	proc((char *)msg, arg);
}

static void GC_CALLBACK default_warn(char *msg, GC_word arg)
{
	fprintf(stderr, msg, (unsigned long)arg);
}

static void GC_CALLBACK default_abort(const char *msg)
{
	if (msg)
		fprintf(stderr, "%s\n", msg);
}

static void *GC_CALLBACK default_oom(size_t bytes)
{
	(void)bytes;
	return NULL;
}

static void GC_CALLBACK default_same_obj_print(void *p, void *q)
{
	fprintf(stderr, "GC_same_obj: %p and %p are not in the same object\n", p, q);
	abort();
}

static void GC_CALLBACK default_displacement_print(void *p)
{
	fprintf(stderr, "GC_is_valid_displacement: %p is not inside an object\n", p);
	abort();
}

static void GC_CALLBACK default_visible_print(void *p)
{
	fprintf(stderr, "GC_is_visible: %p is not visible to the collector\n", p);
	abort();
}

static void __attribute__((noreturn)) fatal(const char *what, int err)
{
	char msg[256];
	GC_abort_func fn = GC_on_abort;

	snprintf(msg, sizeof(msg), "%s: %s%s", what, strerror(err),
		 err == ENOENT ? " (is the gcheap module loaded?)" : "");
	if (fn)
		fn(msg);
	abort();
}

/* Settings */

static int gogc_of_divisor(GC_word divisor)
{
	GC_word g = 300 / divisor;

	return g < 1 ? 1 : g > 100000 ? 100000 : (int)g;
}

/* Tell the heap about GC_dont_gc and GC_free_space_divisor if they moved. */
static void sync_settings(void)
{
	int off;
	GC_word div;

	if (!initialized())
		return;
	off = __atomic_load_n(&GC_dont_gc, __ATOMIC_RELAXED) != 0 ||
	      __atomic_load_n(&auto_collection_off, __ATOMIC_RELAXED);
	div = __atomic_load_n(&GC_free_space_divisor, __ATOMIC_RELAXED);
	if (off == __atomic_load_n(&applied_off, __ATOMIC_RELAXED) &&
	    (div == __atomic_load_n(&applied_divisor, __ATOMIC_RELAXED) || div == 0))
		return;
	pthread_mutex_lock(&settings_lock);
	off = __atomic_load_n(&GC_dont_gc, __ATOMIC_RELAXED) != 0 ||
	      __atomic_load_n(&auto_collection_off, __ATOMIC_RELAXED);
	div = __atomic_load_n(&GC_free_space_divisor, __ATOMIC_RELAXED);
	if (div != applied_divisor && div != 0) {
		int gogc = gogc_of_divisor(div);

		if (applied_off)
			saved_gogc = gogc;
		else
			gch_set_gogc(gogc, NULL);
		__atomic_store_n(&applied_divisor, div, __ATOMIC_RELAXED);
	}
	if (off != applied_off) {
		if (off) {
			int old;

			if (gch_set_gogc(-1, &old) == 0)	/* old -1: it was off already */
				saved_gogc = old;
		} else {
			gch_set_gogc(saved_gogc, NULL);
		}
		__atomic_store_n(&applied_off, off, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&settings_lock);
}

static void atomic_max(GC_word *var, GC_word val)
{
	GC_word cur = __atomic_load_n(var, __ATOMIC_RELAXED);

	while (val > cur && !__atomic_compare_exchange_n(var, &cur, val, false, __ATOMIC_RELAXED,
							 __ATOMIC_RELAXED))
		;
}

/* gch_stats, zeroed if unavailable; keeps GC_gc_no current. */
static int read_stats(struct gch_stats *st)
{
	if (!initialized() || gch_stats(st) < 0) {
		memset(st, 0, sizeof(*st));
		return -1;
	}
	atomic_max(&GC_gc_no, st->num_gc);
	atomic_max(&total_bytes_max, st->heap_alloc + st->swept_bytes);
	atomic_max(&obtained_max, st->heap_resident);
	return 0;
}

static void __attribute__((noinline)) refresh(void)
{
	struct gch_stats st;

	sync_settings();
	read_stats(&st);
}

/* Initialization and static roots */

static size_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	switch (*end) {
	case 'k': case 'K': v <<= 10; break;
	case 'm': case 'M': v <<= 20; break;
	case 'g': case 'G': v <<= 30; break;
	}
	return (size_t)v;
}

/*
 * libgcheap's static roots filter: GC_no_dls leaves out every object but
 * the program, then the program's callback decides.
 */
static int static_roots_filter(const char *name, void *lo, size_t len)
{
	if (GC_no_dls && name && *name)
		return 0;
	return !static_roots_cb || static_roots_cb(name, lo, len);
}

static void read_bounds(void)
{
	struct gch_heap_info info;

	if (gch_heap_info(&info) == 0) {
		heap_lo = info.heap_base;
		heap_hi = info.heap_base + info.heap_max;
		GC_least_plausible_heap_addr = (void *)heap_lo;
		GC_greatest_plausible_heap_addr = (void *)(heap_hi - 1);
		bounds_stale = false;
	}
}

/* heap_lo/heap_hi, read again in a forked child. */
static void bounds(void)
{
	if (bounds_stale)
		read_bounds();
}

static void do_init(void)
{
	struct gch_options opts = { .heap_max = max_heap_size };
	struct gch_stats st;
	const char *env;

	/* libgc's environment variables. */
	if (getenv("GC_DONT_GC"))
		GC_dont_gc = 1;
	env = getenv("GC_FREE_SPACE_DIVISOR");
	if (env && strtoul(env, NULL, 10) > 0)
		GC_free_space_divisor = strtoul(env, NULL, 10);
	env = getenv("GC_MAXIMUM_HEAP_SIZE");
	if (env && parse_size(env))
		opts.heap_max = parse_size(env);
	if (getenv("GC_PRINT_STATS"))
		GC_print_stats = 1;

	extra_bytes = GC_all_interior_pointers ? 1 : 0;
	gch_set_static_roots_filter(static_roots_filter);
	if (gch_init(&opts) < 0) {
		if (errno != EALREADY)
			fatal("GC_init: cannot open the gcheap heap", errno);
		if (gch_thread_attach() < 0)
			fatal("GC_init: cannot attach the thread to the heap", errno);
	}
	/* GC_ code stores pointers without the write barrier: it cannot keep that promise. */
	if (gch_heap.ctrl->gc_mode == GCHEAP_MODE_CONCURRENT)
		fatal("GC_init: the heap was opened with GCH_INIT_CONCURRENT; the GC_ API "
		      "stores pointers without the write barrier", EINVAL);
	thread_registered = true;
	read_bounds();
	if (handle_fork != -1)
		pthread_atfork(GC_atfork_prepare, GC_atfork_parent, GC_atfork_child);
	__atomic_store_n(&init_done, 1, __ATOMIC_RELEASE);
	sync_settings();
	read_stats(&st);
	if (GC_print_stats)
		fprintf(stderr, "gcheap: heap at %#lx, GOGC %d\n", (unsigned long)heap_lo, st.gogc);
}

void GC_init(void)
{
	pthread_once(&init_once, do_init);
}

int GC_is_init_called(void)
{
	return initialized();
}

void GC_deinit(void)
{
}

unsigned GC_get_version(void)
{
	return (GC_VERSION_MAJOR << 16) | (GC_VERSION_MINOR << 8) | GC_VERSION_MICRO;
}

/* Allocation */

/* What to ask libgcheap for: see "Sizes" at the top. */
static inline size_t request_size(size_t lb)
{
	size_t n = lb + extra_bytes + (GRANULE - 1);

	if (unlikely(n < lb))
		return SIZE_MAX;	/* fails with ENOMEM */
	n &= ~(size_t)(GRANULE - 1);
	return n ? n : GRANULE;
}

static inline void *heap_alloc(size_t n, bool atomic)
{
	return atomic ? gch_alloc_noscan(n) : gch_alloc(n);
}

static inline void count_alloc(size_t n)
{
	if (unlikely((alloc_since_refresh += n) >= REFRESH_BYTES)) {
		alloc_since_refresh = 0;
		refresh();
	}
}

/* An allocation failed: attach the thread, or collect once, and retry. */
static void *__attribute__((noinline)) alloc_retry(size_t n, bool atomic)
{
	bool attached = false, collected = false;
	void *p;

	for (;;) {
		if (errno == EPERM && !attached) {
			if (gch_thread_attach() < 0)
				return NULL;
			thread_registered = true;
			attached = true;
		} else if (errno == ENOMEM && !collected && (bounds(), n <= heap_hi - heap_lo) &&
			   !__atomic_load_n(&GC_dont_gc, __ATOMIC_RELAXED)) {
			gch_collect();
			collected = true;
		} else {
			return NULL;
		}
		p = heap_alloc(n, atomic);
		if (p) {
			count_alloc(n);
			return p;
		}
	}
}

/* n bytes of a kind, or NULL (GC_oom_fn not consulted). */
static inline void *raw_alloc(size_t n, bool atomic)
{
	void *p;

	ensure_init();
	p = heap_alloc(n, atomic);
	if (unlikely(!p))
		return alloc_retry(n, atomic);
	count_alloc(n);
	return p;
}

static void *out_of_memory(size_t lb)
{
	GC_oom_func fn = __atomic_load_n(&GC_oom_fn, __ATOMIC_ACQUIRE);

	return fn ? fn(lb) : NULL;
}

void *GC_malloc(size_t lb)
{
	void *p = raw_alloc(request_size(lb), false);

	return likely(p) ? p : out_of_memory(lb);
}

void *GC_malloc_atomic(size_t lb)
{
	void *p = raw_alloc(request_size(lb), true);

	return likely(p) ? p : out_of_memory(lb);
}

void *GC_malloc_ignore_off_page(size_t lb)
{
	return GC_malloc(lb);
}

void *GC_malloc_atomic_ignore_off_page(size_t lb)
{
	return GC_malloc_atomic(lb);
}

void *GC_malloc_stubborn(size_t lb)
{
	return GC_malloc(lb);
}

char *GC_strdup(const char *s)
{
	size_t len;
	char *copy;

	if (!s)
		return NULL;
	len = strlen(s) + 1;
	copy = GC_malloc_atomic(len);
	if (copy)
		memcpy(copy, s, len);
	return copy;
}

char *GC_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *copy = GC_malloc_atomic(len + 1);

	if (copy) {
		memcpy(copy, s, len);
		copy[len] = 0;
	}
	return copy;
}

/*
 * Uncollectable objects: an open-addressing set of their addresses, in
 * malloc'd memory registered as a root (see "Kinds" at the top).
 */
struct uc_entry {
	void *obj;		/* NULL: empty; UC_DELETED: a tombstone */
	size_t info;		/* bytes requested, | UC_ATOMIC */
};

#define UC_DELETED	((void *)(uintptr_t)1)
#define UC_ATOMIC	((size_t)1)	/* sizes are multiples of 16 */

static pthread_mutex_t uc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct uc_entry *uc_tab;
static size_t uc_cap, uc_used, uc_live;	/* used: live + tombstones */

static size_t uc_slot(const void *p, size_t cap)
{
	uint64_t h = ((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 32) & (cap - 1);
}

/* The entry for @p, or NULL. uc_lock held. */
static struct uc_entry *uc_find(const void *p)
{
	size_t i;

	if (!uc_cap)
		return NULL;
	for (i = uc_slot(p, uc_cap);; i = (i + 1) & (uc_cap - 1)) {
		if (uc_tab[i].obj == p)
			return &uc_tab[i];
		if (!uc_tab[i].obj)
			return NULL;
	}
}

/* Move to a table of @cap slots; both are roots while entries move. */
static int uc_resize(size_t cap)
{
	struct uc_entry *tab = calloc(cap, sizeof(*tab)), *old = uc_tab;
	size_t i, j, old_cap = uc_cap;

	if (!tab)
		return -1;
	if (gch_root_add(tab, tab + cap) < 0) {
		free(tab);
		return -1;
	}
	for (i = 0; i < old_cap; i++) {
		if (!old[i].obj || old[i].obj == UC_DELETED)
			continue;
		for (j = uc_slot(old[i].obj, cap); tab[j].obj; j = (j + 1) & (cap - 1))
			;
		tab[j] = old[i];
	}
	uc_tab = tab;
	uc_cap = cap;
	uc_used = uc_live;
	if (old) {
		gch_root_remove(old, old + old_cap);
		free(old);
	}
	return 0;
}

static int uc_insert(void *p, size_t info)
{
	size_t i;
	int ret = 0;

	pthread_mutex_lock(&uc_lock);
	if ((uc_used + 1) * 2 > uc_cap) {
		size_t cap = uc_cap ? uc_cap : 64;

		while ((uc_live + 1) * 4 > cap)
			cap *= 2;
		if (uc_resize(cap) < 0) {
			ret = -1;
			goto out;
		}
	}
	for (i = uc_slot(p, uc_cap); uc_tab[i].obj && uc_tab[i].obj != UC_DELETED;
	     i = (i + 1) & (uc_cap - 1))
		;
	if (!uc_tab[i].obj)
		uc_used++;
	uc_tab[i].obj = p;
	uc_tab[i].info = info;
	__atomic_store_n(&uc_live, uc_live + 1, __ATOMIC_RELAXED);
out:
	pthread_mutex_unlock(&uc_lock);
	return ret;
}

/* Look @p up, and forget it if @remove. */
static bool uc_lookup(void *p, size_t *info, bool remove)
{
	struct uc_entry *e;

	if (!__atomic_load_n(&uc_live, __ATOMIC_RELAXED))
		return false;
	pthread_mutex_lock(&uc_lock);
	e = uc_find(p);
	if (e) {
		*info = e->info;
		if (remove) {
			e->obj = UC_DELETED;
			e->info = 0;
			__atomic_store_n(&uc_live, uc_live - 1, __ATOMIC_RELAXED);
		}
	}
	pthread_mutex_unlock(&uc_lock);
	return e != NULL;
}

static void *alloc_uncollectable(size_t lb, bool atomic)
{
	size_t n = request_size(lb);
	void *p = raw_alloc(n, atomic);

	if (!p)
		return out_of_memory(lb);
	if (uc_insert(p, n | (atomic ? UC_ATOMIC : 0)) < 0) {
		gch_free(p);
		return out_of_memory(lb);
	}
	__atomic_add_fetch(&GC_non_gc_bytes, n, __ATOMIC_RELAXED);
	return p;
}

void *GC_malloc_uncollectable(size_t lb)
{
	return alloc_uncollectable(lb, false);
}

void *GC_malloc_atomic_uncollectable(size_t lb)
{
	return alloc_uncollectable(lb, true);
}

void GC_free(void *p)
{
	size_t info;

	if (!p)
		return;
	if (uc_lookup(p, &info, true))
		__atomic_sub_fetch(&GC_non_gc_bytes, info & ~UC_ATOMIC, __ATOMIC_RELAXED);
	/* EBUSY and the like: the collector will take it. */
	gch_free(p);
}

void *GC_realloc(void *p, size_t lb)
{
	void *base = NULL, *q;
	size_t sz, copy, info = 0;
	bool uncollectable;

	if (!p)
		return GC_malloc(lb);
	if (!lb) {
		GC_free(p);
		return NULL;
	}
	sz = initialized() ? gch_size(p, &base) : 0;
	if (!sz || base != p) {
		warn("GC Warning: GC_realloc of %p, which is not the start of an object\n",
		     (GC_word)p);
		return NULL;
	}
	uncollectable = uc_lookup(p, &info, false);
	if (request_size(lb) <= sz) {
		/* libgc keeps the object unless it would waste over half of it. */
		if (lb >= sz / 2) {
			memset((char *)p + lb, 0, sz - lb);
			return p;
		}
		copy = lb;
	} else {
		copy = sz;
	}
	q = uncollectable ? alloc_uncollectable(lb, info & UC_ATOMIC) : GC_malloc(lb);
	if (!q)
		return NULL;
	memcpy(q, p, copy);
	GC_free(p);
	return q;
}

static bool aligned(const void *p, size_t align)
{
	return ((uintptr_t)p & (align - 1)) == 0;
}

/*
 * Power-of-two size classes up to 8 KiB sit at multiples of their size in
 * 8 KiB-aligned spans, and larger objects are page-aligned, so most
 * requests come back aligned as they are; anything else gets an interior
 * pointer into a larger object, as libgc's GC_memalign does (GC_base of it
 * is then not the pointer itself).
 */
void *GC_memalign(size_t align, size_t lb)
{
	size_t n = request_size(lb), want;
	char *p;

	if (align <= GRANULE)
		return GC_malloc(lb);
	if (align & (align - 1)) {
		errno = EINVAL;
		return NULL;
	}
	if (align <= PAGE_ALIGN) {
		want = n > LARGE_SIZE ? n : n < align ? align : n;
		if (want <= LARGE_SIZE)		/* the next power of two */
			while (want & (want - 1))
				want += want & -want;
		p = raw_alloc(want, false);
		if (p && aligned(p, align))
			return p;
		gch_free(p);
	}
	if (lb > SIZE_MAX - align)
		return out_of_memory(lb);
	p = raw_alloc(request_size(lb + align), false);
	if (!p)
		return out_of_memory(lb);
	return p + (-(uintptr_t)p & (align - 1));
}

int GC_posix_memalign(void **memptr, size_t align, size_t lb)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	p = GC_memalign(align, lb);
	if (!p)
		return ENOMEM;
	*memptr = p;
	return 0;
}

/* Object queries */

void *GC_base(void *p)
{
	void *base = NULL;

	if (!p || !initialized())
		return NULL;
	return gch_size(p, &base) ? base : NULL;
}

int GC_is_heap_ptr(const void *p)
{
	bounds();
	return (uintptr_t)p >= heap_lo && (uintptr_t)p < heap_hi;
}

size_t GC_size(const void *p)
{
	return initialized() ? gch_size(p, NULL) : 0;
}

void *GC_same_obj(void *p, void *q)
{
	void *bp, *bq;

	if (!GC_is_heap_ptr(p) && !GC_is_heap_ptr(q))
		return p;
	bp = GC_base(p);
	bq = GC_base(q);
	if (!bp || bp != bq)
		GC_same_obj_print_proc(p, q);
	return p;
}

void *GC_pre_incr(void **pp, ptrdiff_t how_much)
{
	void *initial = *pp, *result = (char *)initial + how_much;

	GC_same_obj(result, initial);
	*pp = result;
	return result;
}

void *GC_post_incr(void **pp, ptrdiff_t how_much)
{
	void *initial = *pp;

	GC_same_obj((char *)initial + how_much, initial);
	*pp = (char *)initial + how_much;
	return initial;
}

void *GC_is_visible(void *p)
{
	return p;
}

void *GC_is_valid_displacement(void *p)
{
	if (GC_is_heap_ptr(p) && !GC_base(p))
		GC_is_valid_displacement_print_proc(p);
	return p;
}

/* The future barrier: a plain store until the collector needs one. */
void GC_ptr_store_and_dirty(void *p, const void *q)
{
	*(void **)p = (void *)q;
}

void GC_end_stubborn_change(const void *p)
{
	(void)p;
}

void GC_change_stubborn(const void *p)
{
	(void)p;
}

void GC_noop1(GC_word x)
{
	__asm__ __volatile__("" : : "r"(x) : "memory");
}

/* Heap size and roots */

int GC_expand_hp(size_t bytes)
{
	ensure_init();
	bounds();
	return bytes <= heap_hi - heap_lo;
}

void GC_set_max_heap_size(GC_word bytes)
{
	max_heap_size = bytes;	/* used by GC_init only */
}

void GC_add_roots(void *low, void *high_plus_1)
{
	ensure_init();
	/* EEXIST: the same range again, which libgc merges silently. */
	if ((uintptr_t)low < (uintptr_t)high_plus_1 && gch_root_add(low, high_plus_1) < 0 &&
	    errno != EEXIST)
		warn("GC Warning: GC_add_roots failed (errno %lu)\n", (GC_word)errno);
}

void GC_remove_roots(void *low, void *high_plus_1)
{
	if (initialized() && (uintptr_t)low < (uintptr_t)high_plus_1)
		gch_root_remove(low, high_plus_1);
}

void GC_exclude_static_roots(void *low, void *high_plus_1)
{
	(void)low;
	(void)high_plus_1;
}

void GC_register_has_static_roots_callback(GC_has_static_roots_func fn)
{
	static_roots_cb = fn;
	/* Segments are chosen again with it at the next cycle. */
	gch_set_static_roots_filter(static_roots_filter);
}

void GC_register_displacement(size_t n)
{
	(void)n;
}

void GC_debug_register_displacement(size_t n)
{
	(void)n;
}

/* Collection */

static int collect(void)
{
	struct gch_stats st;
	int ret;

	ensure_init();
	sync_settings();
	if (__atomic_load_n(&GC_dont_gc, __ATOMIC_RELAXED))
		return -1;
	ret = gch_collect();
	if (ret < 0)
		warn("GC Warning: collection failed (errno %lu)\n", (GC_word)errno);
	if (read_stats(&st) == 0 && GC_print_stats)
		fprintf(stderr, "gcheap: GC #%llu: %llu KiB in use, %llu KiB allocated, "
			"pause %llu us\n", (unsigned long long)st.num_gc,
			(unsigned long long)st.heap_inuse >> 10,
			(unsigned long long)st.heap_alloc >> 10,
			(unsigned long long)st.last_pause_ns / 1000);
	return ret;
}

void GC_gcollect(void)
{
	collect();
}

void GC_gcollect_and_unmap(void)
{
	if (collect() == 0)
		gch_free_os_memory();
}

int GC_try_to_collect(GC_stop_func fn)
{
	if (fn())
		return 0;
	return collect() == 0;
}

static int GC_CALLBACK never_stop(void)
{
	return 0;
}

void GC_set_stop_func(GC_stop_func fn)
{
	__atomic_store_n(&stop_func, fn, __ATOMIC_RELEASE);
}

GC_stop_func GC_get_stop_func(void)
{
	GC_stop_func fn = __atomic_load_n(&stop_func, __ATOMIC_ACQUIRE);

	return fn ? fn : never_stop;
}

int GC_collect_a_little(void)
{
	return 0;
}

void GC_disable(void)
{
	__atomic_add_fetch(&GC_dont_gc, 1, __ATOMIC_RELAXED);
	sync_settings();
}

void GC_enable(void)
{
	int cur = __atomic_load_n(&GC_dont_gc, __ATOMIC_RELAXED);

	while (cur > 0 && !__atomic_compare_exchange_n(&GC_dont_gc, &cur, cur - 1, false,
						       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	sync_settings();
}

int GC_is_disabled(void)
{
	return __atomic_load_n(&GC_dont_gc, __ATOMIC_RELAXED) != 0;
}

void GC_set_disable_automatic_collection(int off)
{
	__atomic_store_n(&auto_collection_off, off != 0, __ATOMIC_RELAXED);
	sync_settings();
}

int GC_get_disable_automatic_collection(void)
{
	return __atomic_load_n(&auto_collection_off, __ATOMIC_RELAXED);
}

void GC_enable_incremental(void)
{
	ensure_init();
}

int GC_is_incremental_mode(void)
{
	return 0;
}

void GC_set_manual_vdb_allowed(int v)
{
	manual_vdb_allowed = v;
}

int GC_get_manual_vdb_allowed(void)
{
	return manual_vdb_allowed;
}

void GC_start_incremental_collection(void)
{
}

int GC_incremental_protection_needs(void)
{
	return GC_PROTECTS_NONE;
}

/* Settings with an effect */

void GC_set_free_space_divisor(GC_word divisor)
{
	if (divisor)
		__atomic_store_n(&GC_free_space_divisor, divisor, __ATOMIC_RELAXED);
	sync_settings();
}

GC_word GC_get_free_space_divisor(void)
{
	return GC_free_space_divisor;
}

void GC_set_all_interior_pointers(int v)
{
	GC_all_interior_pointers = v != 0;
	extra_bytes = v != 0;
}

int GC_get_all_interior_pointers(void)
{
	return GC_all_interior_pointers;
}

void GC_set_oom_fn(GC_oom_func fn)
{
	__atomic_store_n(&GC_oom_fn, fn, __ATOMIC_RELEASE);
}

GC_oom_func GC_get_oom_fn(void)
{
	return __atomic_load_n(&GC_oom_fn, __ATOMIC_ACQUIRE);
}

void GC_set_abort_func(GC_abort_func fn)
{
	__atomic_store_n(&GC_on_abort, fn, __ATOMIC_RELEASE);
}

GC_abort_func GC_get_abort_func(void)
{
	return __atomic_load_n(&GC_on_abort, __ATOMIC_ACQUIRE);
}

void GC_set_warn_proc(GC_warn_proc fn)
{
	__atomic_store_n(&warn_proc, fn, __ATOMIC_RELEASE);
}

GC_warn_proc GC_get_warn_proc(void)
{
	return __atomic_load_n(&warn_proc, __ATOMIC_ACQUIRE);
}

void GC_CALLBACK GC_ignore_warn_proc(char *msg, GC_word arg)
{
	(void)msg;
	(void)arg;
}

/* Settings stored only */

#define STORED_SETTING(type, name, var)		\
	void GC_set_##name(type v)		\
	{					\
		var = v;			\
	}					\
	type GC_get_##name(void)		\
	{					\
		return var;			\
	}

STORED_SETTING(int, dont_expand, GC_dont_expand)
STORED_SETTING(int, full_freq, GC_full_freq)
STORED_SETTING(int, finalize_on_demand, GC_finalize_on_demand)
STORED_SETTING(int, java_finalization, GC_java_finalization)
STORED_SETTING(GC_word, max_retries, GC_max_retries)
STORED_SETTING(int, no_dls, GC_no_dls)
STORED_SETTING(GC_word, non_gc_bytes, GC_non_gc_bytes)
STORED_SETTING(int, find_leak, GC_find_leak)
STORED_SETTING(int, dont_precollect, GC_dont_precollect)
STORED_SETTING(unsigned long, time_limit, GC_time_limit)
STORED_SETTING(GC_finalizer_notifier_proc, finalizer_notifier, GC_finalizer_notifier)
STORED_SETTING(int, pages_executable, pages_executable)
STORED_SETTING(size_t, min_bytes_allocd, min_bytes_allocd)
STORED_SETTING(int, rate, rate)
STORED_SETTING(int, max_prior_attempts, max_prior_attempts)
STORED_SETTING(GC_word, allocd_bytes_per_finalizer, allocd_bytes_per_finalizer)
STORED_SETTING(int, force_unmap_on_gcollect, force_unmap)

void GC_set_handle_fork(int v)
{
	handle_fork = v;
}

int GC_get_parallel(void)
{
	return 0;
}

void GC_set_markers_count(unsigned n)
{
	(void)n;
}

void GC_start_mark_threads(void)
{
}

/* In the order they nest: the allocation lock's holder may allocate. */
void GC_atfork_prepare(void)
{
	pthread_mutex_lock(&alloc_lock);
	pthread_mutex_lock(&settings_lock);
	pthread_mutex_lock(&uc_lock);
}

void GC_atfork_parent(void)
{
	pthread_mutex_unlock(&uc_lock);
	pthread_mutex_unlock(&settings_lock);
	pthread_mutex_unlock(&alloc_lock);
}

/* The parent's uncollectable objects are not in the child's heap. */
void GC_atfork_child(void)
{
	if (uc_tab)
		memset(uc_tab, 0, uc_cap * sizeof(*uc_tab));
	uc_used = 0;
	__atomic_store_n(&uc_live, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&GC_non_gc_bytes, 0, __ATOMIC_RELAXED);
	bounds_stale = true;
	GC_atfork_parent();
}

/* Statistics: see the top of the file for where each comes from. */

GC_word GC_get_gc_no(void)
{
	struct gch_stats st;

	read_stats(&st);
	return __atomic_load_n(&GC_gc_no, __ATOMIC_RELAXED);
}

static size_t free_bytes(const struct gch_stats *st)
{
	return st->heap_inuse > st->heap_alloc ? st->heap_inuse - st->heap_alloc : 0;
}

static size_t since_gc(const struct gch_stats *st)
{
	return st->heap_alloc > st->last_marked ? st->heap_alloc - st->last_marked : 0;
}

size_t GC_get_heap_size(void)
{
	struct gch_stats st;

	read_stats(&st);
	return st.heap_inuse;
}

size_t GC_get_free_bytes(void)
{
	struct gch_stats st;

	read_stats(&st);
	return free_bytes(&st);
}

size_t GC_get_unmapped_bytes(void)
{
	return 0;
}

size_t GC_get_bytes_since_gc(void)
{
	struct gch_stats st;

	read_stats(&st);
	return since_gc(&st);
}

size_t GC_get_expl_freed_bytes_since_gc(void)
{
	return 0;
}

size_t GC_get_total_bytes(void)
{
	struct gch_stats st;

	read_stats(&st);
	return __atomic_load_n(&total_bytes_max, __ATOMIC_RELAXED);
}

size_t GC_get_obtained_from_os_bytes(void)
{
	struct gch_stats st;

	read_stats(&st);
	return __atomic_load_n(&obtained_max, __ATOMIC_RELAXED);
}

size_t GC_get_memory_use(void)
{
	struct gch_stats st;

	read_stats(&st);
	return st.heap_alloc;
}

void GC_get_heap_usage_safe(GC_word *heap_size, GC_word *free, GC_word *unmapped,
			    GC_word *bytes_since_gc, GC_word *total)
{
	struct gch_stats st;

	read_stats(&st);
	if (heap_size)
		*heap_size = st.heap_inuse;
	if (free)
		*free = free_bytes(&st);
	if (unmapped)
		*unmapped = 0;
	if (bytes_since_gc)
		*bytes_since_gc = since_gc(&st);
	if (total)
		*total = __atomic_load_n(&total_bytes_max, __ATOMIC_RELAXED);
}

size_t GC_get_prof_stats(struct GC_prof_stats_s *out, size_t stats_sz)
{
	struct GC_prof_stats_s ps;
	struct gch_stats st;
	GC_word total;

	read_stats(&st);
	total = __atomic_load_n(&total_bytes_max, __ATOMIC_RELAXED);
	ps.heapsize_full = st.heap_inuse;
	ps.free_bytes_full = free_bytes(&st);
	ps.unmapped_bytes = 0;
	ps.bytes_allocd_since_gc = since_gc(&st);
	ps.allocd_bytes_before_gc = total - ps.bytes_allocd_since_gc;
	ps.non_gc_bytes = __atomic_load_n(&GC_non_gc_bytes, __ATOMIC_RELAXED);
	ps.gc_no = __atomic_load_n(&GC_gc_no, __ATOMIC_RELAXED);
	ps.markers_m1 = 0;
	ps.bytes_reclaimed_since_gc = 0;
	ps.reclaimed_bytes_before_gc = st.swept_bytes;
	ps.expl_freed_bytes_since_gc = 0;
	ps.obtained_from_os_bytes = __atomic_load_n(&obtained_max, __ATOMIC_RELAXED);
	if (stats_sz > sizeof(ps)) {
		memset((char *)out + sizeof(ps), 0xff, stats_sz - sizeof(ps));
		stats_sz = sizeof(ps);
	}
	memcpy(out, &ps, stats_sz);
	return stats_sz;
}

void GC_start_performance_measurement(void)
{
}

unsigned long GC_get_full_gc_total_time(void)
{
	struct gch_stats st;

	read_stats(&st);
	return (unsigned long)(st.pause_total_ns / 1000000);
}

/* Finalization */

static void register_finalizer(void *obj, GC_finalization_proc fn, void *cd,
			       GC_finalization_proc *ofn, void **ocd, unsigned int flags)
{
	gch_finalizer_fn old_fn = NULL;
	void *old_cd = NULL;

	if (obj && initialized() &&
	    gch_set_finalizer_ex(obj, fn, cd, flags, &old_fn, &old_cd) < 0) {
		if (errno == ENOMEM)	/* libgc leaves *ofn and *ocd alone */
			return;
		old_fn = NULL;		/* not a heap object: fn is ignored */
		old_cd = NULL;
	}
	if (ofn)
		*ofn = old_fn;
	if (ocd)
		*ocd = old_cd;
}

void GC_register_finalizer(void *obj, GC_finalization_proc fn, void *cd,
			   GC_finalization_proc *ofn, void **ocd)
{
	register_finalizer(obj, fn, cd, ofn, ocd, 0);
}

void GC_register_finalizer_ignore_self(void *obj, GC_finalization_proc fn, void *cd,
				       GC_finalization_proc *ofn, void **ocd)
{
	register_finalizer(obj, fn, cd, ofn, ocd, GCH_FINALIZER_IGNORE_SELF);
}

void GC_register_finalizer_no_order(void *obj, GC_finalization_proc fn, void *cd,
				    GC_finalization_proc *ofn, void **ocd)
{
	register_finalizer(obj, fn, cd, ofn, ocd, GCH_FINALIZER_NO_ORDER);
}

/* Ordered finalization already waits until nothing else reaches obj. */
void GC_register_finalizer_unreachable(void *obj, GC_finalization_proc fn, void *cd,
				       GC_finalization_proc *ofn, void **ocd)
{
	register_finalizer(obj, fn, cd, ofn, ocd, 0);
}

int GC_invoke_finalizers(void)
{
	int n;

	if (!initialized())
		return 0;
	n = gch_run_finalizers();
	return n < 0 ? 0 : n;
}

int GC_should_invoke_finalizers(void)
{
	return initialized() && gch_finalizers_queued() > 0;
}

/* Disappearing links */

/*
 * libgc moves a link registered before to the new object and returns
 * GC_DUPLICATE. gch_register_link does not say whether the link was
 * registered, so it is unregistered first: success means it was. Any
 * failure is GC_NO_MEMORY (libgc aborts on bad arguments instead).
 */
int GC_general_register_disappearing_link(void **link, const void *obj)
{
	bool duplicate;

	ensure_init();
	duplicate = gch_unregister_link(link) == 0;
	if (gch_register_link(link, obj) < 0)
		return GC_NO_MEMORY;
	return duplicate ? GC_DUPLICATE : GC_SUCCESS;
}

/* The link lies in the object it watches. */
int GC_register_disappearing_link(void **link)
{
	void *base = GC_base(link);

	return base ? GC_general_register_disappearing_link(link, base) : GC_NO_MEMORY;
}

int GC_unregister_disappearing_link(void **link)
{
	return initialized() && gch_unregister_link(link) == 0;
}

/* Locking */

void GC_alloc_lock(void)
{
	pthread_mutex_lock(&alloc_lock);
	gch_gc_hold();
}

void GC_alloc_unlock(void)
{
	gch_gc_release();
	pthread_mutex_unlock(&alloc_lock);
}

void *GC_call_with_alloc_lock(GC_fn_type fn, void *client_data)
{
	void *ret;

	GC_alloc_lock();
	ret = fn(client_data);
	GC_alloc_unlock();
	return ret;
}

/* Threads */

int GC_get_stack_base(struct GC_stack_base *sb)
{
	pthread_attr_t attr;
	void *addr;
	size_t size;

	if (pthread_getattr_np(pthread_self(), &attr))
		return GC_UNIMPLEMENTED;
	if (pthread_attr_getstack(&attr, &addr, &size)) {
		pthread_attr_destroy(&attr);
		return GC_UNIMPLEMENTED;
	}
	pthread_attr_destroy(&attr);
	sb->mem_base = (char *)addr + size;
	return GC_SUCCESS;
}

void *GC_call_with_stack_base(GC_stack_base_func fn, void *arg)
{
	struct GC_stack_base sb;

	if (GC_get_stack_base(&sb) != GC_SUCCESS)
		sb.mem_base = &sb;
	return fn(&sb, arg);
}

void GC_allow_register_threads(void)
{
	ensure_init();
}

int GC_register_my_thread(const struct GC_stack_base *sb)
{
	bool was = thread_registered;

	(void)sb;	/* libgcheap finds the stack itself */
	ensure_init();
	if (was)
		return GC_DUPLICATE;
	if (gch_thread_attach() < 0)
		return GC_UNIMPLEMENTED;
	thread_registered = true;
	return GC_SUCCESS;
}

int GC_unregister_my_thread(void)
{
	if (initialized())
		gch_thread_detach();
	thread_registered = false;
	return GC_SUCCESS;
}

int GC_thread_is_registered(void)
{
	return thread_registered;
}

void *GC_do_blocking(GC_fn_type fn, void *client_data)
{
	return fn(client_data);
}

void *GC_call_with_gc_active(GC_fn_type fn, void *client_data)
{
	return fn(client_data);
}

void *GC_get_my_stackbottom(struct GC_stack_base *sb)
{
	if (GC_get_stack_base(sb) != GC_SUCCESS)
		sb->mem_base = NULL;
	return &thread_registered;	/* any non-NULL handle */
}

/*
 * The thread's own stack is what libgcheap scans already; the alternate
 * one is scanned whole while registered (for the rest of the process: a
 * sigaltstack usually lives as long as its thread's handler setup).
 */
void GC_register_altstack(void *normstack, GC_word normstack_size, void *altstack,
			  GC_word altstack_size)
{
	(void)normstack;
	(void)normstack_size;
	ensure_init();
	if (altstack && altstack_size && gch_stack_add(altstack, (char *)altstack + altstack_size) < 0 &&
	    errno != EEXIST)
		warn("GC Warning: GC_register_altstack failed (errno %lu)\n", (GC_word)errno);
}

/* The calling thread's stack only (NULL or its own handle), its bottom unknown. */
void GC_set_stackbottom(void *thread, const struct GC_stack_base *sb)
{
	if (thread && thread != (void *)&thread_registered)
		return;
	if (gch_thread_set_stack(NULL, sb->mem_base) < 0)
		warn("GC Warning: GC_set_stackbottom failed (errno %lu)\n", (GC_word)errno);
}

/*
 * The start routine and its argument travel in a heap object, handed to
 * gch_pthread_create as its argument: that keeps it, as it keeps any
 * heap object passed, until the new thread is attached and has it.
 */
struct thread_start {
	void *(*start)(void *);
	void *arg;
};

static void *thread_trampoline(void *data)
{
	struct thread_start *ts = data;
	void *(*start)(void *) = ts->start;
	void *arg = ts->arg;

	thread_registered = true;
	gch_free(ts);
	return start(arg);
}

int GC_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
		      void *(*start)(void *), void *arg)
{
	struct thread_start *ts = raw_alloc(request_size(sizeof(*ts)), false);
	int ret;

	if (!ts)
		return EAGAIN;
	ts->start = start;
	ts->arg = arg;
	ret = gch_pthread_create(thread, attr, thread_trampoline, ts);
	if (ret)
		gch_free(ts);
	return ret;
}

int GC_pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	return gch_pthread_sigmask(how, set, old);
}

int GC_sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	int err = gch_pthread_sigmask(how, set, old);

	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

int GC_pthread_join(pthread_t thread, void **retval)
{
	return pthread_join(thread, retval);
}

int GC_pthread_detach(pthread_t thread)
{
	return pthread_detach(thread);
}

/* The GC_debug_* entry points: no debugging headers. */

void *GC_debug_malloc(size_t lb, const char *s, int i)
{
	(void)s;
	(void)i;
	return GC_malloc(lb);
}

void *GC_debug_malloc_atomic(size_t lb, const char *s, int i)
{
	(void)s;
	(void)i;
	return GC_malloc_atomic(lb);
}

char *GC_debug_strdup(const char *str, const char *s, int i)
{
	(void)s;
	(void)i;
	return GC_strdup(str);
}

char *GC_debug_strndup(const char *str, size_t n, const char *s, int i)
{
	(void)s;
	(void)i;
	return GC_strndup(str, n);
}

void *GC_debug_malloc_uncollectable(size_t lb, const char *s, int i)
{
	(void)s;
	(void)i;
	return GC_malloc_uncollectable(lb);
}

void *GC_debug_malloc_atomic_uncollectable(size_t lb, const char *s, int i)
{
	(void)s;
	(void)i;
	return GC_malloc_atomic_uncollectable(lb);
}

void *GC_debug_malloc_ignore_off_page(size_t lb, const char *s, int i)
{
	(void)s;
	(void)i;
	return GC_malloc(lb);
}

void *GC_debug_malloc_atomic_ignore_off_page(size_t lb, const char *s, int i)
{
	(void)s;
	(void)i;
	return GC_malloc_atomic(lb);
}

void *GC_debug_malloc_stubborn(size_t lb, const char *s, int i)
{
	(void)s;
	(void)i;
	return GC_malloc(lb);
}

void GC_debug_free(void *p)
{
	GC_free(p);
}

void *GC_debug_realloc(void *p, size_t lb, const char *s, int i)
{
	(void)s;
	(void)i;
	return GC_realloc(p, lb);
}

void *GC_debug_malloc_replacement(size_t lb)
{
	return GC_malloc(lb);
}

void *GC_debug_realloc_replacement(void *p, size_t lb)
{
	return GC_realloc(p, lb);
}

void GC_debug_register_finalizer(void *obj, GC_finalization_proc fn, void *cd,
				 GC_finalization_proc *ofn, void **ocd)
{
	register_finalizer(obj, fn, cd, ofn, ocd, 0);
}

void GC_debug_register_finalizer_ignore_self(void *obj, GC_finalization_proc fn, void *cd,
					     GC_finalization_proc *ofn, void **ocd)
{
	register_finalizer(obj, fn, cd, ofn, ocd, GCH_FINALIZER_IGNORE_SELF);
}

void GC_debug_register_finalizer_no_order(void *obj, GC_finalization_proc fn, void *cd,
					  GC_finalization_proc *ofn, void **ocd)
{
	register_finalizer(obj, fn, cd, ofn, ocd, GCH_FINALIZER_NO_ORDER);
}

void GC_debug_register_finalizer_unreachable(void *obj, GC_finalization_proc fn, void *cd,
					     GC_finalization_proc *ofn, void **ocd)
{
	register_finalizer(obj, fn, cd, ofn, ocd, 0);
}

void GC_debug_end_stubborn_change(const void *p)
{
	(void)p;
}

void GC_debug_change_stubborn(const void *p)
{
	(void)p;
}

void GC_debug_ptr_store_and_dirty(void *p, const void *q)
{
	GC_ptr_store_and_dirty(p, q);
}
