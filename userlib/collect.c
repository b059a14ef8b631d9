// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The collector's user-facing side: asking for cycles, GOGC, root ranges,
 * finalizers (run on a library thread), disappearing links, and
 * pthread_create for attached threads. Marking and sweeping happen in the
 * module; see uapi/gcheap.h for the protocol.
 *
 * The thread that asks for a cycle runs it inside its GCHEAP_IOC_GC call,
 * so it passes its own stack and callee-saved registers as roots. On a
 * CONCURRENT heap automatic cycles are asked for by the background
 * collector thread instead (bgcollect.c), explicit ones by their caller.
 *
 * Finalizers run on one library thread, started with the first finalizer.
 * It takes queued finalizers into an array on its own stack, which keeps
 * their objects alive (the module forgets them once handed out) until
 * each has run.
 *
 * Holding off the collector (gch_gc_hold, for GC_call_with_alloc_lock):
 * a cycle is asked for only under gc_hold_lock's writer side; holders take
 * the reader side, so no cycle starts, no link is cleared and nothing is
 * freed while one holds it. Writers are preferred, so a stream of holders
 * cannot starve the collector; a thread's own nested holds count in TLS.
 *
 * A stop that timed out (a thread that blocks the stop signal behind the
 * library's back, one stopped by a debugger) is not retried by every
 * allocation: gch_gc_poll lets the next backoff_len polls pass, doubling
 * with each further timeout, up to GCH_BACKOFF_MAX. Polls are counted, not
 * bytes, because a poll comes with each refill (at most 64 KiB of spans)
 * or large allocation, and counting them needs no system call; the
 * doubling bounds the timed-out stops to the logarithm of the allocations
 * made while the thread stays deaf, and the cap retries a thread that
 * came back within a few thousand refills. A completed cycle ends the
 * backoff. A refill that finds the heap full still collects at once: the
 * alternative is failing the allocation.
 *
 * gch_pthread_create waits until the new thread has attached (libgc's
 * creator waits for registration likewise): the start routine and its
 * argument stay on the creator's stack (a root, if the creator is
 * attached) until the new thread holds them, and an attach that fails is
 * the creator's error.
 *
 * Before each cycle the collecting thread brings the static data roots up
 * to date (objects loaded or unloaded since) and registers its own TLS
 * (roots.c): libgc re-registers dynamic libraries every cycle, too.
 *
 * fork(): the child has no finalizer thread, and starts one again with its
 * first finalizer; gc_hold_lock is made anew in it (hold_atfork_child).
 *
 * Thread safety: every function may be called from any attached thread.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>

#include "gcheap.h"
#include "internal.h"

#define GCH_FINAL_BATCH	32
#define GCH_BACKOFF_FIRST	64	/* polls let pass after a first timeout */
#define GCH_BACKOFF_MAX		4096

static pthread_once_t final_once = PTHREAD_ONCE_INIT;
static int final_err;
static bool trace;
static uint64_t traced;		/* the last cycle traced, so each prints once */

static pthread_rwlock_t gc_hold_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static GCH_TLS unsigned int gc_holds;	/* this thread's nested holds */
static pthread_once_t hold_once = PTHREAD_ONCE_INIT;

static unsigned long backoff_len;	/* 0: no timeout since the last cycle */
static unsigned long backoff_left;	/* polls still to let pass */

/* The start routine of a thread gch_pthread_create is starting. */
struct gch_start {
	void *(*fn)(void *);
	void *arg;
	sem_t attached;
	int err;		/* the new thread's attach: 0 or an error number */
};

static int parse_gogc(const char *s, int *out)
{
	char *end;
	long v;

	if (!strcmp(s, "off")) {
		*out = GCHEAP_GOGC_OFF;
		return 0;
	}
	v = strtol(s, &end, 10);
	if (end == s || *end || v < 0 || v > 1000000)
		return -1;
	*out = (int)v;
	return 0;
}

/* Also while the heap opens, before it is published. */
static int set_gogc(int percent, int *old)
{
	struct gcheap_setgc req = { .size = sizeof(req) };

	req.gogc = percent < 0 ? GCHEAP_GOGC_OFF : percent;
	if (gch_ioctl(GCHEAP_IOC_SETGC, &req) < 0)
		return -1;
	if (old)
		*old = req.gogc < 0 ? -1 : req.gogc;
	return 0;
}

/* Go's GOMEMLIMIT syntax: "off", or bytes with an optional unit. */
static int parse_limit(const char *s, uint64_t *out)
{
	static const struct { const char *unit; unsigned int shift; } units[] = {
		{ "", 0 }, { "B", 0 }, { "KiB", 10 }, { "MiB", 20 }, { "GiB", 30 }, { "TiB", 40 },
	};
	unsigned long long v;
	char *end;
	size_t i;

	if (!strcmp(s, "off")) {
		*out = GCH_NO_LIMIT;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].unit)) {
			if (!v || v > UINT64_MAX >> units[i].shift)
				return -1;
			*out = (uint64_t)v << units[i].shift;
			return 0;
		}
	return -1;
}

/*
 * Set the soft limit (GCHEAP_SETGC_LIMIT) or the hard one (GCHEAP_SETGC_MAX)
 * to @bytes, the old value in *@old. Also while the heap opens, before it
 * is published.
 */
static int set_limit(uint32_t which, uint64_t bytes, uint64_t *old)
{
	struct gcheap_setgc req = {
		.size = sizeof(req),
		.flags = which | GCHEAP_SETGC_KEEP_GOGC,
		.memory_limit = bytes,
		.memory_max = bytes,
	};

	if (!bytes) {
		errno = EINVAL;
		return -1;
	}
	if (gch_ioctl(GCHEAP_IOC_SETGC, &req) < 0)
		return -1;
	if (old)
		*old = which == GCHEAP_SETGC_MAX ? req.memory_max : req.memory_limit;
	return 0;
}

int gch_collect_init(void)
{
	const char *env = getenv("GOGC");
	const char *lim = getenv("GOMEMLIMIT");
	const char *max = getenv("GCHEAP_MEMORY_MAX");
	const char *tr = getenv("GCHEAP_TRACE");
	uint64_t limit;
	int gogc;

	trace = tr && *tr && strcmp(tr, "0");
	if (env && parse_gogc(env, &gogc) == 0 && set_gogc(gogc, NULL) < 0)
		return -1;
	if (lim && parse_limit(lim, &limit) == 0 && set_limit(GCHEAP_SETGC_LIMIT, limit, NULL) < 0)
		return -1;
	if (max && parse_limit(max, &limit) == 0 && set_limit(GCHEAP_SETGC_MAX, limit, NULL) < 0)
		return -1;
	return 0;
}

/* The child of a fork: the finalizer thread is the parent's. */
void gch_collect_forked(void)
{
	final_once = (pthread_once_t)PTHREAD_ONCE_INIT;
	final_err = 0;
}

/* gctrace-style line for the cycle that just ended (GCHEAP_TRACE=1). */
static void trace_cycle(const struct gch_stats *before)
{
	uint64_t last = __atomic_load_n(&traced, __ATOMIC_RELAXED);
	struct gch_stats st;

	if (gch_stats(&st) < 0 || st.num_gc == before->num_gc || st.num_gc <= last ||
	    !__atomic_compare_exchange_n(&traced, &last, st.num_gc, false,
					 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	fprintf(stderr, "gc %llu: %llu -> %llu KiB live, %llu KiB goal, %u threads, pause %llu us%s\n",
		(unsigned long long)st.num_gc,
		(unsigned long long)(before->heap_alloc >> 10),
		(unsigned long long)(st.last_marked >> 10),
		(unsigned long long)(st.next_gc >> 10), st.threads,
		(unsigned long long)(st.last_pause_ns / 1000),
		st.num_forced_gc != before->num_forced_gc ? " (forced)" : "");
}

/*
 * A forked child has one thread: what the others held of the lock (a
 * cycle, a hold) is gone; the forking thread's own holds carry over.
 */
static void hold_atfork_child(void)
{
	pthread_rwlock_t fresh = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;

	gc_hold_lock = fresh;
	if (gc_holds)
		pthread_rwlock_rdlock(&gc_hold_lock);
}

static void hold_init(void)
{
	pthread_atfork(NULL, NULL, hold_atfork_child);
}

void gch_gc_hold(void)
{
	pthread_once(&hold_once, hold_init);
	if (gc_holds++ == 0)
		pthread_rwlock_rdlock(&gc_hold_lock);
}

void gch_gc_release(void)
{
	if (--gc_holds == 0)
		pthread_rwlock_unlock(&gc_hold_lock);
}

/* How a cycle ended: a timeout starts or lengthens the backoff. */
static void backoff_update(int ret)
{
	unsigned long len;

	if (!ret) {
		__atomic_store_n(&backoff_len, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&backoff_left, 0, __ATOMIC_RELAXED);
	} else if (errno == ETIMEDOUT) {
		len = __atomic_load_n(&backoff_len, __ATOMIC_RELAXED);
		len = !len ? GCH_BACKOFF_FIRST : len < GCH_BACKOFF_MAX ? 2 * len : len;
		__atomic_store_n(&backoff_len, len, __ATOMIC_RELAXED);
		__atomic_store_n(&backoff_left, len, __ATOMIC_RELAXED);
	}
}

/*
 * A cycle, run on this thread. noinline, and the registers spilled to this
 * frame, so every pointer the caller holds is on the range passed.
 * EDEADLK if this thread holds the collector off.
 */
__attribute__((noinline)) int gch_gc_ioctl(uint64_t flags)
{
	struct gcheap_cache_report cache;
	struct gcheap_gc req;
	struct gch_stats before;
	jmp_buf regs;
	int ret, err;

	if (gc_holds) {
		errno = EDEADLK;
		return -1;
	}
	__builtin_unwind_init();
	setjmp(regs);
	memset(&req, 0, sizeof(req));
	req.size = sizeof(req);
	req.flags = flags;
	/* Read before waiting for the lock: a cycle meanwhile is ours too. */
	req.since = gch_heap.ctrl->gc_started;
	memcpy(req.stack.regs, &regs,
	       sizeof(regs) < sizeof(req.stack.regs) ? sizeof(regs) : sizeof(req.stack.regs));
	gch_stw_scan_range((uintptr_t)&req, &req.stack);
	/* Missing roots would free live objects: no cycle without them. */
	if (gch_roots_refresh() < 0 || gch_stw_tls_register() < 0)
		return -1;
	if (trace && gch_stats(&before) < 0)
		return -1;
	/* The collector does not park: its barrier's words go first. */
	gch_wb_flush();
	/* Nor does its cache report at a park (mcache.c). */
	if (gch_mcache_report(&cache))
		req.cache = (uintptr_t)&cache;
	pthread_once(&hold_once, hold_init);
	pthread_rwlock_wrlock(&gc_hold_lock);
	do {
		ret = gch_ioctl(GCHEAP_IOC_GC, &req);
		/* A report refused (see park() in stw.c): the cycle goes on without. */
		if (ret < 0 && errno != EINTR && errno != ETIMEDOUT && req.cache) {
			req.cache = 0;
			ret = gch_ioctl(GCHEAP_IOC_GC, &req);
		}
	} while (ret < 0 && errno == EINTR);
	err = errno;
	if (req.cache)
		gch_mcache_reported(&cache);
	/* Nor does it read the flag on a park's way out. */
	gch_wb_refresh();
	pthread_rwlock_unlock(&gc_hold_lock);
	errno = err;
	backoff_update(ret);
	if (!ret && trace)
		trace_cycle(&before);
	return ret;
}

void gch_gc_poll_slow(void)
{
	unsigned long left = __atomic_load_n(&backoff_left, __ATOMIC_RELAXED);

	while (left)
		if (__atomic_compare_exchange_n(&backoff_left, &left, left - 1, false,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return;
	/* A CONCURRENT heap's cycles run on the collector thread (bgcollect.c). */
	if (!gch_bg_kick())
		gch_gc_ioctl(GCHEAP_GC_IF_NEEDED);
}

int gch_gc_for_space(void)
{
	if (gch_gc_ioctl(GCHEAP_GC_SWEEP) < 0) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int gch_collect(void)
{
	if (gch_heap_ensure() < 0)
		return -1;
	return gch_gc_ioctl(GCHEAP_GC_SWEEP | GCHEAP_GC_FORCE);
}

int gch_set_gogc(int percent, int *old)
{
	if (!gch_heap.ready && gch_heap_ensure() < 0)
		return -1;
	return set_gogc(percent, old);
}

int gch_set_memory_limit(uint64_t bytes, uint64_t *old)
{
	if (!gch_heap.ready && gch_heap_ensure() < 0)
		return -1;
	return set_limit(GCHEAP_SETGC_LIMIT, bytes, old);
}

int gch_set_memory_max(uint64_t bytes, uint64_t *old)
{
	if (!gch_heap.ready && gch_heap_ensure() < 0)
		return -1;
	return set_limit(GCHEAP_SETGC_MAX, bytes, old);
}

int gch_free_os_memory(void)
{
	struct gcheap_scavenge req = { .size = sizeof(req) };

	if (gch_collect() < 0)
		return -1;
	return gch_ioctl(GCHEAP_IOC_SCAVENGE, &req) < 0 ? -1 : 0;
}

/* Take queued finalizers into @batch (on the caller's stack) and run them. */
static int run_batch(struct gcheap_final *batch, bool wait)
{
	struct gcheap_finalizers req = {
		.size = sizeof(req),
		.count = GCH_FINAL_BATCH,
		.flags = wait ? GCHEAP_FINALIZERS_WAIT : 0,
		.out = (uintptr_t)batch,
	};
	unsigned int i;

	if (ioctl(gch_heap.fd, GCHEAP_IOC_FINALIZERS, &req) < 0)
		return -1;
	for (i = 0; i < req.count; i++) {
		gch_finalizer_fn fn = (gch_finalizer_fn)(uintptr_t)batch[i].fn;

		fn((void *)(uintptr_t)batch[i].obj, (void *)(uintptr_t)batch[i].arg);
		/* Let the object go. */
		memset(&batch[i], 0, sizeof(batch[i]));
	}
	return (int)req.count;
}

static void *finalizer_main(void *unused)
{
	struct gcheap_final batch[GCH_FINAL_BATCH];

	(void)unused;
	for (;;)
		if (run_batch(batch, true) < 0 && errno != EINTR)
			return NULL;
}

static void final_start(void)
{
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	final_err = gch_pthread_create(&t, &attr, finalizer_main, NULL);
	pthread_attr_destroy(&attr);
}

int gch_run_finalizers(void)
{
	struct gcheap_final batch[GCH_FINAL_BATCH];
	int n, total = 0;

	if (gch_heap_ensure() < 0)
		return -1;
	while ((n = run_batch(batch, false)) > 0)
		total += n;
	return n < 0 ? -1 : total;
}

unsigned long gch_finalizers_queued(void)
{
	return gch_heap.ctrl ? (unsigned long)gch_heap.ctrl->finalizers_queued : 0;
}

int gch_set_finalizer_ex(void *obj, gch_finalizer_fn fn, void *arg, unsigned int flags,
			 gch_finalizer_fn *ofn, void **oarg)
{
	struct gcheap_finalizer req = {
		.size = sizeof(req),
		.obj = (uintptr_t)obj,
		.fn = (uintptr_t)fn,
		.arg = fn ? (uintptr_t)arg : 0,
	};

	if (flags & ~(GCH_FINALIZER_NO_ORDER | GCH_FINALIZER_IGNORE_SELF)) {
		errno = EINVAL;
		return -1;
	}
	if (fn) {
		if (flags & GCH_FINALIZER_NO_ORDER)
			req.flags |= GCHEAP_FINALIZER_NO_ORDER;
		if (flags & GCH_FINALIZER_IGNORE_SELF)
			req.flags |= GCHEAP_FINALIZER_IGNORE_SELF;
	}
	if (gch_heap_ensure() < 0)
		return -1;
	if (fn) {
		pthread_once(&final_once, final_start);
		if (final_err) {
			errno = final_err;
			return -1;
		}
	}
	if (ioctl(gch_heap.fd, GCHEAP_IOC_FINALIZER, &req) < 0)
		return -1;
	if (ofn)
		*ofn = (gch_finalizer_fn)(uintptr_t)req.ofn;
	if (oarg)
		*oarg = (void *)(uintptr_t)req.oarg;
	return 0;
}

int gch_set_finalizer(void *obj, gch_finalizer_fn fn, void *arg)
{
	return gch_set_finalizer_ex(obj, fn, arg, 0, NULL, NULL);
}

int gch_register_link(void **link, const void *obj)
{
	struct gcheap_link req = {
		.size = sizeof(req),
		.op = GCHEAP_LINK_ADD,
		.link = (uintptr_t)link,
		.obj = (uintptr_t)obj,
	};

	if (gch_heap_ensure() < 0)
		return -1;
	return ioctl(gch_heap.fd, GCHEAP_IOC_LINK, &req) < 0 ? -1 : 0;
}

int gch_unregister_link(void **link)
{
	struct gcheap_link req = {
		.size = sizeof(req),
		.op = GCHEAP_LINK_REMOVE,
		.link = (uintptr_t)link,
	};

	if (gch_heap_ensure() < 0)
		return -1;
	return ioctl(gch_heap.fd, GCHEAP_IOC_LINK, &req) < 0 ? -1 : 0;
}

static void *thread_start(void *p)
{
	struct gch_start *st = p;
	void *(*fn)(void *) = st->fn;
	void *arg = st->arg;
	int err = gch_thread_attach() < 0 ? errno : 0;

	/* Attached (or not), this thread holds fn and arg: st may go. */
	st->err = err;
	sem_post(&st->attached);
	return err ? NULL : fn(arg);
}

int gch_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
		       void *(*start)(void *), void *arg)
{
	struct gch_start st = { .fn = start, .arg = arg };
	int err, detached = PTHREAD_CREATE_JOINABLE;

	if (gch_heap_ensure() < 0)
		return errno;
	if (attr && (err = pthread_attr_getdetachstate(attr, &detached)))
		return err;
	if (sem_init(&st.attached, 0, 0) < 0)
		return errno;
	err = pthread_create(thread, attr, thread_start, &st);
	if (!err) {
		while (sem_wait(&st.attached) < 0 && errno == EINTR)
			;	/* a stop signal */
		err = st.err;
		if (err && detached == PTHREAD_CREATE_JOINABLE)
			pthread_join(*thread, NULL);
	}
	sem_destroy(&st.attached);
	return err;
}
