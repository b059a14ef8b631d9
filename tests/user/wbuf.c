// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libgcheap's write barrier: gch_store, GCH_STORE and gch_memmove store
 * correctly with the barrier off and on; on, they record exactly the old
 * and new values (gch_memmove: every aligned word it overwrites, before
 * and after, misaligned and overlapping moves included), a full buffer
 * goes to the module in one real GCHEAP_IOC_WB_FLUSH, and a park hands
 * the rest over and rereads the flag from the control page. The module
 * never turns the barrier on yet, so the test sets gch_wb_enabled itself
 * and reads the buffer through the library's test hook (gch_wb_pending,
 * internal.h). Modes: GCH_INIT_CONCURRENT reaches the control page, bad
 * options are refused, the first to open the heap fixes its mode, and
 * GC_INIT on a concurrent heap aborts with a message.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gcheap.h"
#include "gc.h"
#include "userlib/internal.h"
#include "tap.h"

struct node {
	struct node *next;
	uintptr_t tag;
};

static uint64_t syscalls(void)
{
	struct gch_stats st;

	return gch_stats(&st) == 0 ? st.syscalls : 0;
}

static size_t pending(uint64_t *out, size_t max)
{
	return gch_wb_pending(out, max);
}

static void set_wb(int on)
{
	__atomic_store_n(&gch_wb_enabled, on, __ATOMIC_RELAXED);
}

static void test_options(void)
{
	struct gch_options o = { .flags = 2 };

	ok(gch_init(&o) < 0 && errno == EINVAL, "gch_init with an unknown flag: EINVAL");
	o.flags = GCH_INIT_CONCURRENT;
	o.reserved = 1;
	ok(gch_init(&o) < 0 && errno == EINVAL, "gch_init with reserved set: EINVAL");
	ok(gch_init_sized(&o, GCH_OPTIONS_SIZE_VER0 - 1) < 0 && errno == EINVAL,
	   "options shorter than version 0: EINVAL");
}

static void test_off(struct node **a)
{
	struct node *x = gch_alloc(sizeof(*x)), *y = gch_alloc(sizeof(*y));
	uint64_t before = syscalls();
	void *words[8];
	size_t i;

	ok(gch_wb_enabled == 0 && gch_heap.ctrl->wb_enabled == 0,
	   "the barrier is off, as the control page says");
	gch_store((void **)&a[0], x);
	GCH_STORE(a[1]->next, y);
	ok(a[0] == x && a[1]->next == y, "gch_store and GCH_STORE store, barrier off");
	for (i = 0; i < 8; i++)
		words[i] = (void *)(uintptr_t)(i + 1);
	gch_memmove((char *)a[2] + 3, words, sizeof(words) - 3);
	ok(memcmp((char *)a[2] + 3, words, sizeof(words) - 3) == 0, "gch_memmove moves, barrier off");
	ok(pending(NULL, 0) == 0, "nothing recorded");
	ok(syscalls() == before, "no system call");
}

static void test_on(struct node **a)
{
	struct node *x = gch_alloc(sizeof(*x)), *y = gch_alloc(sizeof(*y));
	struct node *old0 = a[0], *old1 = a[1]->next;
	uint64_t rec[GCHEAP_WB_MAX], before;
	unsigned char *obj = gch_alloc(128), ref[128];
	size_t n, i;
	int good;

	set_wb(1);
	gch_store((void **)&a[0], y);
	n = pending(rec, 8);
	ok(a[0] == y && n == 2 && rec[0] == (uintptr_t)old0 && rec[1] == (uintptr_t)y,
	   "gch_store on: stores, records old then new");
	GCH_STORE(a[1]->next, x);
	n = pending(rec, 8);
	ok(a[1]->next == x && n == 4 && rec[2] == (uintptr_t)old1 && rec[3] == (uintptr_t)x,
	   "GCH_STORE on: stores, records old then new");
	GCH_STORE(a[1]->tag, (uintptr_t)x);
	n = pending(rec, 8);
	ok(a[1]->tag == (uintptr_t)x && n == 5 && rec[4] == (uintptr_t)x,
	   "GCH_STORE of a uintptr_t slot (its old value, 0, not recorded)");
	GCH_STORE(a[1]->tag, (uintptr_t)0x1234);
	gch_store((void **)&y->next, NULL);
	n = pending(rec, 8);
	ok(a[1]->tag == 0x1234 && n == 6 && rec[5] == (uintptr_t)x,
	   "values outside the heap (0x1234, NULL) are not recorded");

	/*
	 * Misaligned, overlapping: every aligned word of dst that points into
	 * the heap, before and after. Heap addresses in every other word, so
	 * some of the words moved by 8 bytes still are.
	 */
	for (i = 0; i < sizeof(ref) / 8; i++) {
		uintptr_t v = i % 2 ? (uintptr_t)x + i : (uintptr_t)(i * 0x0101010101010101ULL);

		memcpy(obj + 8 * i, &v, 8);
	}
	memcpy(ref, obj, sizeof(ref));
	memmove(ref + 13, ref + 5, 37);
	{
		uintptr_t lo = ((uintptr_t)obj + 13) & ~(uintptr_t)7;
		uintptr_t hi = ((uintptr_t)obj + 13 + 37 + 7) & ~(uintptr_t)7;
		size_t nw = (hi - lo) / 8, base = pending(NULL, 0), nexp = 0;
		uint64_t w, exp[16];

		for (i = 0; i < nw; i++) {
			memcpy(&w, (void *)(lo + 8 * i), 8);
			if (w - gch_heap.base < gch_heap.end - gch_heap.base)
				exp[nexp++] = w;
		}
		gch_memmove(obj + 13, obj + 5, 37);
		for (i = 0; i < nw; i++) {
			memcpy(&w, (void *)(lo + 8 * i), 8);
			if (w - gch_heap.base < gch_heap.end - gch_heap.base)
				exp[nexp++] = w;
		}
		n = pending(rec, GCHEAP_WB_MAX);
		good = n == base + nexp && nw == 6 && nexp >= 4;
		for (i = 0; good && i < nexp; i++)
			good = rec[base + i] == exp[i];
		ok(memcmp(obj, ref, sizeof(ref)) == 0, "gch_memmove on: the same bytes as memmove");
		ok(good, "gch_memmove on: of the %zu aligned words it touches, the %zu heap "
		   "addresses, old then new", nw, nexp);
	}
	ok(pending(NULL, 0) > 0, "words are pending");

	/*
	 * Fill to the brim: one flush, to the real module, when 512 words are
	 * due. Heap pointers over heap pointers: two words a store.
	 */
	for (i = 4; i < 8; i++)
		a[i] = x;	/* set up without the barrier: nothing to shade */
	gch_wb_flush();
	ok(pending(NULL, 0) == 0, "an explicit flush empties the buffer");
	before = syscalls();
	for (i = 0; i < GCHEAP_WB_MAX / 2 - 1; i++)
		gch_store((void **)&a[i % 4 + 4], i % 2 ? x : y);
	ok(pending(NULL, 0) == GCHEAP_WB_MAX - 2 && syscalls() == before,
	   "%d stores buffer %d words, no system call", GCHEAP_WB_MAX / 2 - 1, GCHEAP_WB_MAX - 2);
	gch_store((void **)&a[4], x);
	ok(pending(NULL, 0) == 0 && syscalls() == before + 1,
	   "the next store fills the buffer: one WB_FLUSH (%llu calls), buffer empty",
	   (unsigned long long)(syscalls() - before));
	/* Slot i % 4 + 4 last got store 251..254, then a[4] the final one. */
	ok(a[4] == x && a[5] == x && a[6] == y && a[7] == x, "every store landed");
	set_wb(0);
}

/* A thread that records with the barrier on, then parks in a collection. */
static atomic_int phase;
static struct node **shared;

static void wait_phase(int p)
{
	while (atomic_load(&phase) != p)
		usleep(1000);
}

static void *storer(void *arg)
{
	struct node *x = gch_alloc(sizeof(*x));
	size_t *left = arg;

	atomic_store(&phase, 1);	/* attached */
	wait_phase(2);
	gch_store((void **)&shared[8], x);
	left[0] = pending(NULL, 0);
	atomic_store(&phase, 3);
	wait_phase(4);
	left[1] = pending(NULL, 0);
	left[2] = (size_t)__atomic_load_n(&gch_wb_enabled, __ATOMIC_RELAXED);
	left[3] = shared[8] == x;
	return NULL;
}

static void test_park(struct node **a)
{
	size_t left[4] = { 0 };
	struct gch_stats st;
	pthread_t t;

	shared = a;
	a[8] = a[0];	/* a heap pointer to overwrite: the store records two words */
	set_wb(1);
	if (!ok(gch_pthread_create(&t, NULL, storer, left) == 0, "a second attached thread"))
		return;
	wait_phase(1);
	ok(gch_wb_enabled == 0, "attaching rereads the flag from the control page: off");
	set_wb(1);
	atomic_store(&phase, 2);
	wait_phase(3);
	ok(left[0] == 2, "its store was recorded in its own buffer");
	ok(pending(NULL, 0) == 0, "not in this thread's");
	ok(gch_collect() == 0, "a collection stops it");
	ok(gch_wb_enabled == 0, "the collector rereads the flag: off");
	atomic_store(&phase, 4);
	pthread_join(t, NULL);
	ok(left[1] == 0, "its park handed the buffer over (left %zu words)", left[1]);
	ok(left[2] == 0 && left[3], "and it came back with the flag off, its store intact");
	ok(gch_stats(&st) == 0 && st.park_failures == 0, "no park failed");
}

/* In a child: the heap opened CONCURRENT, then GC_INIT. */
static int child_mixed(void)
{
	struct gch_options o = { .flags = GCH_INIT_CONCURRENT };

	if (gch_init(&o) < 0 || gch_heap.ctrl->gc_mode != GCHEAP_MODE_CONCURRENT)
		return 2;
	GC_INIT();
	return 3;	/* it must not return */
}

/* In a child: GC_INIT first, then gch_init asks for CONCURRENT. */
static int child_gc_first(void)
{
	struct gch_options o = { .flags = GCH_INIT_CONCURRENT };
	void **p;

	GC_INIT();
	if (gch_init(&o) == 0 || errno != EALREADY)
		return 2;
	if (gch_heap.ctrl->gc_mode != GCHEAP_MODE_STW)
		return 3;
	p = GC_MALLOC(sizeof(void *));
	gch_store(p, p);
	return *p == p ? 0 : 4;
}

static int run_child(int (*fn)(void), int *sig)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		/* The child's own stderr message is expected; keep the TAP stream clean. */
		if (!freopen("/dev/null", "w", stdout))
			_exit(5);
		_exit(fn());
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	*sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_modes(void)
{
	struct gch_options o = { .flags = GCH_INIT_CONCURRENT };
	int sig = 0, rc;

	rc = run_child(child_mixed, &sig);
	ok(rc == -1 && sig == SIGABRT, "GC_INIT on a CONCURRENT heap aborts (rc %d, signal %d)",
	   rc, sig);
	rc = run_child(child_gc_first, &sig);
	ok(rc == 0, "GC_INIT first: gch_init(CONCURRENT) is EALREADY, the heap stays STW (rc %d)", rc);
	/* This process opened its heap CONCURRENT: a second init is EALREADY. */
	ok(gch_init(&o) < 0 && errno == EALREADY && gch_heap.ctrl->gc_mode == GCHEAP_MODE_CONCURRENT,
	   "a second gch_init: EALREADY, mode kept");
}

int main(void)
{
	struct gch_options o = { .flags = GCH_INIT_CONCURRENT };
	struct node **a;

	test_options();
	if (!ok(gch_init(&o) == 0, "gch_init(GCH_INIT_CONCURRENT)"))
		return tap_done();
	ok(gch_heap.ctrl->gc_mode == GCHEAP_MODE_CONCURRENT, "the control page says CONCURRENT");
	a = gch_alloc(16 * sizeof(*a));
	a[1] = gch_alloc(sizeof(struct node));
	a[2] = gch_alloc(64);
	if (!ok(a && a[1] && a[2], "objects"))
		return tap_done();
	test_off(a);
	test_on(a);
	test_park(a);
	test_modes();
	return tap_done();
}
