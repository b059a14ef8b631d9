// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The collector's user-facing side: asking for cycles, GOGC, root ranges,
 * finalizers (run on a library thread), disappearing links, and
 * pthread_create for attached threads. Marking and sweeping happen in the
 * module; see uapi/gcheap.h for the protocol.
 *
 * The thread that asks for a cycle runs it inside its GCHEAP_IOC_GC call,
 * so it passes its own stack and callee-saved registers as roots.
 *
 * Finalizers run on one library thread, started with the first finalizer.
 * It takes queued finalizers into an array on its own stack, which keeps
 * their objects alive (the module forgets them once handed out) until
 * each has run.
 *
 * Before each cycle the collecting thread brings the static data roots up
 * to date (objects loaded or unloaded since) and registers its own TLS
 * (roots.c): libgc re-registers dynamic libraries every cycle, too.
 *
 * fork(): starting_lock is taken around it (heap.c); the child has no
 * thread starting and no finalizer thread, and starts one again with its
 * first finalizer.
 *
 * Thread safety: every function may be called from any attached thread.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>

#include "gcheap.h"
#include "internal.h"

#define GCH_FINAL_BATCH	32

static pthread_once_t final_once = PTHREAD_ONCE_INIT;
static int final_err;
static bool trace;
static uint64_t traced;		/* the last cycle traced, so each prints once */

/*
 * Threads started by gch_pthread_create() whose start routine and argument
 * live only in a heap object until the thread attaches: this list is a
 * root range, so the collector keeps them.
 */
struct gch_start {
	void *(*fn)(void *);
	void *arg;
	struct gch_start *next;
};

static struct gch_start *starting;
static pthread_mutex_t starting_lock = PTHREAD_MUTEX_INITIALIZER;

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

static int set_gogc(int percent)
{
	struct gcheap_setgc req = { .size = sizeof(req) };

	req.gogc = percent < 0 ? GCHEAP_GOGC_OFF : percent;
	if (gch_ioctl(GCHEAP_IOC_SETGC, &req) < 0)
		return -2;
	return req.gogc;
}

int gch_collect_init(void)
{
	const char *env = getenv("GOGC");
	const char *tr = getenv("GCHEAP_TRACE");
	int gogc;

	trace = tr && *tr && strcmp(tr, "0");
	if (env && parse_gogc(env, &gogc) == 0 && set_gogc(gogc) < -1)
		return -1;
	return gch_root_ioctl(GCHEAP_ROOT_ADD, (uintptr_t)&starting, (uintptr_t)(&starting + 1));
}

void gch_collect_lock(void)
{
	pthread_mutex_lock(&starting_lock);
}

void gch_collect_unlock(void)
{
	pthread_mutex_unlock(&starting_lock);
}

/* The child of a fork: the threads starting and the finalizer thread are the parent's. */
void gch_collect_forked(void)
{
	starting = NULL;
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
 * A cycle, run on this thread. noinline, and the registers spilled to this
 * frame, so every pointer the caller holds is on the range passed.
 */
__attribute__((noinline)) int gch_gc_ioctl(uint64_t flags)
{
	struct gcheap_gc req;
	struct gch_stats before;
	jmp_buf regs;
	int ret;

	__builtin_unwind_init();
	setjmp(regs);
	memset(&req, 0, sizeof(req));
	req.size = sizeof(req);
	req.flags = flags;
	req.since = gch_heap.ctrl->gc_started;
	memcpy(req.stack.regs, &regs,
	       sizeof(regs) < sizeof(req.stack.regs) ? sizeof(regs) : sizeof(req.stack.regs));
	gch_stw_scan_range((uintptr_t)&req, &req.stack);
	/* Missing roots would free live objects: no cycle without them. */
	if (gch_roots_refresh() < 0 || gch_stw_tls_register() < 0)
		return -1;
	if (trace && gch_stats(&before) < 0)
		return -1;
	do
		ret = gch_ioctl(GCHEAP_IOC_GC, &req);
	while (ret < 0 && errno == EINTR);
	if (!ret && trace)
		trace_cycle(&before);
	return ret;
}

int gch_collect(void)
{
	if (gch_heap_ensure() < 0)
		return -1;
	return gch_gc_ioctl(GCHEAP_GC_SWEEP | GCHEAP_GC_FORCE);
}

int gch_set_gogc(int percent)
{
	if (gch_heap_ensure() < 0)
		return -2;
	return set_gogc(percent);
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
	if (gch_thread_attach() < 0)
		return NULL;
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
	final_err = pthread_create(&t, &attr, finalizer_main, NULL);
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

static void starting_remove(struct gch_start *st)
{
	struct gch_start **pp;

	pthread_mutex_lock(&starting_lock);
	for (pp = &starting; *pp != st; pp = &(*pp)->next)
		;
	*pp = st->next;
	pthread_mutex_unlock(&starting_lock);
}

static void *thread_start(void *p)
{
	struct gch_start *st = p;
	void *(*fn)(void *);
	void *arg;

	if (gch_thread_attach() < 0) {
		perror("gcheap: attaching a new thread");
		abort();
	}
	fn = st->fn;
	arg = st->arg;
	starting_remove(st);
	return fn(arg);
}

int gch_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
		       void *(*start)(void *), void *arg)
{
	struct gch_start *st;
	int err;

	st = gch_alloc(sizeof(*st));
	if (!st)
		return errno;
	st->fn = start;
	st->arg = arg;
	pthread_mutex_lock(&starting_lock);
	st->next = starting;
	starting = st;
	pthread_mutex_unlock(&starting_lock);
	err = pthread_create(thread, attr, thread_start, st);
	if (err)
		starting_remove(st);
	return err;
}
