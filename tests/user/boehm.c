// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The Boehm-compatible layer (gc.h), used the way a libgc program uses it:
 * GC_INIT, object sizes and GC_base, a list reachable only from a global
 * surviving collections while 64 MiB of short-lived garbage is collected
 * in a bounded heap, atomic and uncollectable objects, GC_REALLOC,
 * finalizers (once, and never again), disappearing links, GC_add_roots,
 * GC_disable/GC_enable, and threads created through the redirected
 * pthread_create or registered by hand.
 *
 * Objects that must die are made in a thread of their own that exits
 * before the collection, and known to the rest only as hidden pointers,
 * so no stale copy on a stack or in a register keeps them alive (the
 * collector scans stacks conservatively). Liveness is checked through
 * disappearing links kept in atomic uncollectable cells, which the
 * collector does not scan.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GC_THREADS
#include "gc.h"
#include "tap.h"

#define NOINLINE	__attribute__((noinline))
#define LIST_LEN	10000
#define WORKERS		4
#define WAIT_MS		5000

struct node {
	struct node *next;
	long value;
	unsigned char *payload;		/* atomic, PAYLOAD bytes */
};

#define PAYLOAD	32

static struct node *list_head;		/* the list's only reference */

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000 };

	while (nanosleep(&ts, &ts) < 0)	/* the collector's stop signal: EINTR */
		;
}

/* Overwrite the stack below the caller with zeroes: no stale pointers. */
static NOINLINE void clear_stack(void)
{
	char buf[32768];

	memset(buf, 0, sizeof(buf));
	__asm__ __volatile__("" : : "r"(buf) : "memory");
}

/* Run @fn in a thread of its own and wait for it. */
static void run_in_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;

	if (GC_pthread_create(&t, NULL, fn, arg) == 0)
		GC_pthread_join(t, NULL);
}

/* Point @cell, which the collector does not scan, at @obj, weakly. */
static void **link_cell(void **cell, void *obj)
{
	if (cell) {
		*cell = obj;
		if (GC_GENERAL_REGISTER_DISAPPEARING_LINK(cell, obj) != GC_SUCCESS)
			*cell = NULL;
	}
	return cell;
}

static void **weak_cell(void *obj)
{
	return link_cell(GC_MALLOC_ATOMIC_UNCOLLECTABLE(sizeof(void *)), obj);
}

/* Collect (and run finalizers) until @done() or WAIT_MS passed. */
static bool collect_until(bool (*done)(void))
{
	int ms;

	for (ms = 0; ms < WAIT_MS; ms += 10) {
		GC_gcollect();
		GC_invoke_finalizers();
		if (done())
			return true;
		sleep_ms(10);
	}
	return done();
}

/* @bytes of short-lived objects, some atomic; the heap's peak into @peak. */
static NOINLINE size_t churn(size_t bytes, size_t *peak)
{
	void *ring[64] = { 0 };
	size_t done = 0, next_sample = 0, failed = 0, i;

	for (i = 0; done < bytes; i++) {
		size_t size = 16 + i * 37 % 496;
		void **p = i % 4 ? GC_MALLOC(size) : GC_MALLOC_ATOMIC(size);

		if (!p) {
			failed++;
			continue;
		}
		if (i % 4)
			p[0] = p;	/* pointer-bearing, but no chain */
		ring[i % 64] = p;
		done += size;
		if (peak && done >= next_sample) {
			size_t heap = GC_get_heap_size();

			if (heap > *peak)
				*peak = heap;
			next_sample += 1 << 20;
		}
	}
	__asm__ __volatile__("" : : "r"(ring) : "memory");
	return failed;
}

/* Sizes and queries */

static void check_sizes(void)
{
	unsigned long bad_size = 0, bad_align = 0, unzeroed = 0, bad_base = 0, failed = 0;
	static const size_t large[] = { 32767, 32768, 40000, 65536, 100000, 1 << 20 };
	size_t n, j, k;
	int atomic, local;

	for (atomic = 0; atomic < 2; atomic++) {
		for (k = 0; k < 4096 + sizeof(large) / sizeof(large[0]); k++) {
			unsigned char *p;

			n = k < 4096 ? k : large[k - 4096];
			p = atomic ? GC_MALLOC_ATOMIC(n) : GC_MALLOC(n);
			if (!p) {
				failed++;
				continue;
			}
			bad_size += GC_size(p) < n + 1;
			bad_align += (uintptr_t)p % 16 != 0;
			for (j = 0; j < n; j++)
				if (p[j])
					break;
			unzeroed += j != n;
			bad_base += GC_base(p) != p || GC_base(p + n / 2) != p || GC_base(p + n) != p;
			memset(p, 0xa5, n);
			GC_FREE(p);
		}
	}
	ok(failed == 0, "GC_MALLOC and GC_MALLOC_ATOMIC of 0..4095 B and large sizes (%lu failed)",
	   failed);
	ok(bad_size == 0, "GC_size(p) >= the request + 1, the byte libgc adds (%lu were not)",
	   bad_size);
	ok(bad_align == 0, "every object 16-byte aligned (%lu were not)", bad_align);
	ok(unzeroed == 0, "every object zeroed (%lu were not)", unzeroed);
	ok(bad_base == 0, "GC_base of the start, middle and end of each object (%lu wrong)",
	   bad_base);
	n = GC_size(GC_MALLOC(7));
	ok(n == 8 || n == 16, "GC_size(GC_MALLOC(7)) is 8 or 16, as gctest wants (%zu)", n);
	ok(GC_size(GC_MALLOC(15)) == 16, "GC_size(GC_MALLOC(15)) == 16");
	ok(GC_size(GC_MALLOC(0)) == 16, "GC_size(GC_MALLOC(0)) == 16");
	ok(GC_base(&local) == NULL && GC_base((void *)(uintptr_t)&check_sizes) == NULL &&
	   GC_base(NULL) == NULL, "GC_base of a stack address, a function, NULL: NULL");
	ok(GC_is_heap_ptr(GC_MALLOC(8)) && !GC_is_heap_ptr(&local), "GC_is_heap_ptr");
}

/* A list reachable only from a global */

static NOINLINE void build_list(void)
{
	long i;

	for (i = 0; i < LIST_LEN; i++) {
		struct node *n = GC_NEW(struct node);

		if (!n)
			return;
		n->value = i * 7 + 1;
		n->payload = GC_MALLOC_ATOMIC(PAYLOAD);
		if (n->payload)
			memset(n->payload, (int)(i & 0xff), PAYLOAD);
		n->next = list_head;
		list_head = n;
	}
}

/* Nodes missing or damaged (the list runs from LIST_LEN - 1 down to 0). */
static long check_list(void)
{
	struct node *n = list_head;
	long i, bad = 0, j;

	for (i = LIST_LEN - 1; i >= 0; i--, n = n->next) {
		if (!n)
			return bad + i + 1;
		if (n->value != i * 7 + 1 || !n->payload) {
			bad++;
			continue;
		}
		for (j = 0; j < PAYLOAD; j++)
			if (n->payload[j] != (unsigned char)(i & 0xff))
				break;
		bad += j != PAYLOAD;
	}
	return bad + (n != NULL);
}

static void **list_weak;

static void *watch_list_node(void *arg)
{
	(void)arg;
	list_weak = weak_cell(list_head->next->next);
	return NULL;
}

/* Uncollectable objects, known only hidden */

static GC_word hidden_uc, hidden_uc_atomic;
static void **uc_weak, **uc_child_weak;
static GC_word uc_base;		/* GC_non_gc_bytes before the two objects */

static void *make_uncollectable(void *arg)
{
	void **u, *a;
	int i;

	(void)arg;
	/* The weak cells are uncollectable too: first, so uc_base has them. */
	uc_weak = GC_MALLOC_ATOMIC_UNCOLLECTABLE(sizeof(void *));
	uc_child_weak = GC_MALLOC_ATOMIC_UNCOLLECTABLE(sizeof(void *));
	uc_base = GC_get_non_gc_bytes();
	u = GC_MALLOC_UNCOLLECTABLE(100 * sizeof(void *));
	a = GC_MALLOC_ATOMIC_UNCOLLECTABLE(1000);
	if (!u || !a)
		return NULL;
	for (i = 0; i < 100; i++) {
		u[i] = GC_MALLOC(64);
		if (u[i])
			memset(u[i], i, 64);
	}
	memset(a, 0x5a, 1000);
	link_cell(uc_weak, u);
	link_cell(uc_child_weak, u[42]);
	hidden_uc = GC_HIDE_POINTER(u);
	hidden_uc_atomic = GC_HIDE_POINTER(a);
	return NULL;
}

static long check_uncollectable(void)
{
	void **u = GC_REVEAL_POINTER(hidden_uc);
	unsigned char *a = GC_REVEAL_POINTER(hidden_uc_atomic);
	long bad = 0;
	int i, j;

	for (i = 0; i < 100; i++) {
		unsigned char *c = u[i];

		if (!c) {
			bad++;
			continue;
		}
		for (j = 0; j < 64; j++)
			if (c[j] != i)
				break;
		bad += j != 64;
	}
	for (j = 0; j < 1000; j++)
		bad += a[j] != 0x5a;
	return bad;
}

/* Finalizers */

static atomic_int fin_count, fin_bad, self_count, no_order_count, other_cd;
static GC_word fin_hidden;
static bool fin_registered;

static void GC_CALLBACK finalize(void *obj, void *cd)
{
	long *o = obj;
	int i;

	if (cd != &fin_count || obj != GC_REVEAL_POINTER(fin_hidden))
		fin_bad++;
	for (i = 0; i < 8; i++)
		if (o[i] != 1000 + i)
			fin_bad++;
	fin_count++;
}

static void GC_CALLBACK other_finalizer(void *obj, void *cd)
{
	(void)obj;
	(void)cd;
}

static void GC_CALLBACK count_finalizer(void *obj, void *cd)
{
	(void)obj;
	atomic_fetch_add((atomic_int *)cd, 1);
}

static void *make_finalizable(void *arg)
{
	long *obj = GC_MALLOC(8 * sizeof(long));
	void **self = GC_MALLOC(4 * sizeof(void *));
	void **a = GC_MALLOC(4 * sizeof(void *)), **b = GC_MALLOC(4 * sizeof(void *));
	GC_finalization_proc ofn = other_finalizer, ofn2 = NULL;
	void *ocd = &ofn, *ocd2 = NULL;
	int i;

	(void)arg;
	if (!obj || !self || !a || !b)
		return NULL;
	for (i = 0; i < 8; i++)
		obj[i] = 1000 + i;
	GC_REGISTER_FINALIZER(obj, other_finalizer, &other_cd, &ofn, &ocd);
	GC_REGISTER_FINALIZER(obj, finalize, &fin_count, &ofn2, &ocd2);
	fin_registered = ofn == NULL && ocd == NULL && ofn2 == other_finalizer &&
			 ocd2 == &other_cd;
	fin_hidden = GC_HIDE_POINTER(obj);
	/* A self-reference must not delay an IGNORE_SELF finalizer. */
	self[0] = self;
	GC_REGISTER_FINALIZER_IGNORE_SELF(self, count_finalizer, &self_count, NULL, NULL);
	/* A cycle of NO_ORDER objects is finalized anyway. */
	a[0] = b;
	b[0] = a;
	GC_REGISTER_FINALIZER_NO_ORDER(a, count_finalizer, &no_order_count, NULL, NULL);
	GC_REGISTER_FINALIZER_NO_ORDER(b, count_finalizer, &no_order_count, NULL, NULL);
	return NULL;
}

static bool finalizers_done(void)
{
	return fin_count >= 1 && self_count >= 1 && no_order_count >= 2;
}

/* Disappearing links */

static void **dead_cell, **live_cell;
static void *live_target;
static int link_first, link_again;

static void *make_links(void *arg)
{
	void *dead = GC_MALLOC(48);

	(void)arg;
	dead_cell = GC_MALLOC_ATOMIC_UNCOLLECTABLE(sizeof(void *));
	live_cell = GC_MALLOC_ATOMIC_UNCOLLECTABLE(sizeof(void *));
	live_target = GC_MALLOC(48);
	if (!dead || !dead_cell || !live_cell || !live_target)
		return NULL;
	*dead_cell = dead;
	link_first = GC_GENERAL_REGISTER_DISAPPEARING_LINK(dead_cell, dead);
	link_again = GC_GENERAL_REGISTER_DISAPPEARING_LINK(dead_cell, dead);
	*live_cell = live_target;
	GC_GENERAL_REGISTER_DISAPPEARING_LINK(live_cell, live_target);
	return NULL;
}

static bool dead_link_cleared(void)
{
	return *dead_cell == NULL;
}

/* GC_add_roots over memory the collector does not otherwise see */

static void **malloc_root;
static void **root_weak;

static void *make_rooted(void *arg)
{
	void *obj = GC_MALLOC(40);

	(void)arg;
	malloc_root = calloc(4, sizeof(void *));
	if (!obj || !malloc_root)
		return NULL;
	GC_add_roots(malloc_root, malloc_root + 4);
	malloc_root[1] = obj;
	root_weak = weak_cell(obj);
	return NULL;
}

static bool root_link_cleared(void)
{
	return *root_weak == NULL;
}

/* Apart, so that the object's address does not linger in main's frame. */
static NOINLINE bool rooted_alive(void)
{
	return root_weak && malloc_root && *root_weak && *root_weak == malloc_root[1];
}

/* Threads */

struct work {
	int id;
	int registered;
	long bad;
	size_t failed;
};

static void *worker(void *arg)
{
	struct work *w = arg;
	struct node *head = NULL, *n;
	long i;

	w->registered = GC_thread_is_registered();
	for (i = 0; i < 2000; i++) {
		n = GC_NEW(struct node);
		if (!n) {
			w->failed++;
			continue;
		}
		n->value = w->id * 1000000L + i;
		n->next = head;
		head = n;
		if (i % 100 == 0)
			w->failed += churn(256 << 10, NULL);
	}
	w->failed += churn(8 << 20, NULL);
	if (w->id == 0)
		GC_gcollect();	/* a collection asked for by another thread */
	for (i = 1999, n = head; i >= 0 && n; i--, n = n->next)
		w->bad += n->value != w->id * 1000000L + i;
	w->bad += i + 1 + (n != NULL);
	return w;
}

static atomic_int detached_done;

static void *detached_worker(void *arg)
{
	(void)arg;
	churn(1 << 20, NULL);
	detached_done = 1;
	return NULL;
}

struct foreign {
	int before, stack_base, reg, after, dup, alloc, unreg, gone;
};

static void run_foreign(struct foreign *f);

/*
 * Each part runs in a function of its own, so that what it leaves in its
 * locals is below main's frame, unscanned, once it returns: a stale local
 * pointing at an object freed with GC_FREE would otherwise keep whatever
 * object is allocated in that slot next. The parts where objects must
 * die come before those that free objects explicitly.
 */
static NOINLINE void test_list_and_garbage(void)
{
	size_t peak = 0, failed, total0;
	GC_word gc0, gc1;
	long bad;

	build_list();
	run_in_thread(watch_list_node, NULL);
	clear_stack();
	gc0 = GC_get_gc_no();
	total0 = GC_get_total_bytes();
	GC_gcollect();
	GC_gcollect();
	gc1 = GC_get_gc_no();
	ok(gc1 >= gc0 + 2 && GC_gc_no == gc1, "GC_gcollect collects; GC_gc_no follows (%lu -> %lu)",
	   gc0, gc1);
	bad = check_list();
	ok(bad == 0, "a %d-node list reachable only from a global survives (%ld bad)",
	   LIST_LEN, bad);

	/* 64 MiB of garbage: collected automatically, the heap stays small. */
	gc0 = GC_get_gc_no();
	failed = churn(64 << 20, &peak);
	gc1 = GC_get_gc_no();
	ok(failed == 0, "64 MiB of short-lived objects allocated (%zu failed)", failed);
	ok(gc1 > gc0, "collections ran on their own (%lu -> %lu)", gc0, gc1);
	ok(peak > 0 && peak < (32 << 20), "the heap stayed under 32 MiB (peak %zu KiB)", peak >> 10);
	ok(GC_get_total_bytes() - total0 >= (32u << 20),
	   "GC_get_total_bytes counts the garbage (%zu MiB more)",
	   (GC_get_total_bytes() - total0) >> 20);
	ok(GC_get_free_bytes() <= GC_get_heap_size(), "free bytes <= heap size (%zu, %zu)",
	   GC_get_free_bytes(), GC_get_heap_size());
	/* GCBench reads the variable, calling nothing that would update it. */
	gc0 = GC_gc_no;
	churn(16 << 20, NULL);
	gc1 = GC_gc_no;
	ok(gc1 > gc0, "the GC_gc_no variable follows collections as a program allocates (%lu -> %lu)",
	   gc0, gc1);
	GC_gcollect();
	bad = check_list();
	ok(bad == 0, "the list is intact after it all (%ld bad)", bad);
	ok(list_weak && *list_weak == list_head->next->next,
	   "a link to one of its nodes was not cleared");
}

static NOINLINE void test_finalizers(void)
{
	GC_finalization_proc ofn = other_finalizer;
	void *ocd = &ofn;
	int local, ms;

	GC_REGISTER_FINALIZER(&local, finalize, NULL, &ofn, &ocd);
	ok(ofn == NULL && ocd == NULL, "a finalizer on a non-heap object: ignored, ofn/ocd NULL");
	run_in_thread(make_finalizable, NULL);
	clear_stack();
	ok(fin_registered, "GC_REGISTER_FINALIZER returns the old finalizer and data");
	collect_until(finalizers_done);
	ok(fin_count == 1 && fin_bad == 0,
	   "the finalizer ran once the object was unreachable, on it, intact (%d runs, %d bad)",
	   fin_count, fin_bad);
	ok(self_count == 1, "an IGNORE_SELF finalizer despite a self-reference (%d)", self_count);
	ok(no_order_count == 2, "NO_ORDER finalizers on a cycle both ran (%d)", no_order_count);
	for (ms = 0; ms < 500; ms += 50) {
		GC_gcollect();
		GC_invoke_finalizers();
		sleep_ms(50);
	}
	ok(fin_count == 1 && self_count == 1 && no_order_count == 2,
	   "and never again (%d, %d, %d)", fin_count, self_count, no_order_count);
}

static NOINLINE void test_links(void)
{
	void **cell;

	run_in_thread(make_links, NULL);
	clear_stack();
	ok(link_first == GC_SUCCESS && link_again == GC_DUPLICATE,
	   "registering a link: GC_SUCCESS, then GC_DUPLICATE (%d, %d)", link_first, link_again);
	ok(dead_cell && collect_until(dead_link_cleared),
	   "a disappearing link is cleared once its object is unreachable");
	ok(live_cell && *live_cell == live_target, "a link to a live object is not");
	cell = GC_MALLOC_ATOMIC_UNCOLLECTABLE(sizeof(void *));
	ok(cell && GC_GENERAL_REGISTER_DISAPPEARING_LINK(cell, live_target) == GC_SUCCESS &&
	   GC_unregister_disappearing_link(cell) == 1 &&
	   GC_unregister_disappearing_link(cell) == 0,
	   "GC_unregister_disappearing_link: 1, then 0");
}

static NOINLINE void test_roots(void)
{
	bool alive;
	int i;

	run_in_thread(make_rooted, NULL);
	clear_stack();
	for (i = 0; i < 3; i++)
		GC_gcollect();
	alive = rooted_alive();
	clear_stack();
	ok(alive, "an object reachable only from GC_add_roots memory survives");
	if (malloc_root)
		GC_remove_roots(malloc_root, malloc_root + 4);
	ok(root_weak && collect_until(root_link_cleared),
	   "after GC_remove_roots it is collected");
}

/* Frees what it made: apart, so no stale copy stays in main's frame. */
static NOINLINE void free_uncollectable(void)
{
	GC_FREE(GC_REVEAL_POINTER(hidden_uc));
	GC_FREE(GC_REVEAL_POINTER(hidden_uc_atomic));
}

static NOINLINE void test_uncollectable(void)
{
	long bad;
	int i;

	run_in_thread(make_uncollectable, NULL);
	clear_stack();
	ok(hidden_uc && GC_get_non_gc_bytes() >= uc_base + 100 * sizeof(void *) + 1000,
	   "GC_non_gc_bytes counts uncollectable objects (%lu -> %lu)",
	   uc_base, GC_get_non_gc_bytes());
	for (i = 0; i < 3; i++) {
		GC_gcollect();
		churn(4 << 20, NULL);
	}
	GC_gcollect();
	ok(hidden_uc && uc_weak && *uc_weak == GC_REVEAL_POINTER(hidden_uc),
	   "an uncollectable object referenced from nowhere survives");
	bad = hidden_uc && hidden_uc_atomic ? check_uncollectable() : -1;
	ok(uc_child_weak && *uc_child_weak && bad == 0,
	   "what it points to survives, and both kinds keep their contents (%ld bad)", bad);
	if (hidden_uc && hidden_uc_atomic)
		free_uncollectable();
	ok(GC_get_non_gc_bytes() == uc_base, "GC_FREE releases them (%lu, was %lu)",
	   GC_get_non_gc_bytes(), uc_base);
}

static NOINLINE void test_realloc(void)
{
	unsigned char *p, *q, *r, *s;
	GC_word base_non_gc;
	void **holder;
	char *str;
	long bad;
	int i;

	p = GC_MALLOC(100);
	for (i = 0; p && i < 100; i++)
		p[i] = (unsigned char)i;
	q = GC_REALLOC(p, 10000);
	for (i = 0, bad = !q; q && i < 10000; i++)
		bad += q[i] != (i < 100 ? i : 0);
	ok(bad == 0, "GC_REALLOC grows: contents kept, the rest zeroed");
	r = GC_REALLOC(q, 6000);
	for (i = 0, bad = !r; r && i < 100; i++)
		bad += r[i] != i;
	ok(r == q && bad == 0, "shrinking to over half keeps the object (%s)",
	   r == q ? "same" : "moved");
	s = GC_REALLOC(r, 50);
	for (i = 0, bad = !s; s && i < 50; i++)
		bad += s[i] != i;
	ok(s && s != r && bad == 0 && GC_size(s) < 6000,
	   "shrinking to under half moves it, contents kept (%zu B)", s ? GC_size(s) : 0);
	p = GC_REALLOC(NULL, 50);
	for (i = 0, bad = !p; p && i < 50; i++)
		bad += p[i];
	ok(bad == 0, "GC_REALLOC(NULL, n) allocates, zeroed");
	ok(GC_REALLOC(s, 0) == NULL, "GC_REALLOC(p, 0) frees and returns NULL");
	str = GC_MALLOC_ATOMIC(6);
	if (str)
		strcpy(str, "hello");
	str = GC_REALLOC(str, 5000);
	ok(str && !strcmp(str, "hello"), "an atomic object grows with its contents");
	base_non_gc = GC_get_non_gc_bytes();
	holder = GC_MALLOC_UNCOLLECTABLE(16);
	holder = GC_REALLOC(holder, 4000);
	ok(holder && GC_get_non_gc_bytes() >= base_non_gc + 4000,
	   "an uncollectable object stays uncollectable when it grows");
	GC_FREE(holder);
	ok(GC_get_non_gc_bytes() == base_non_gc, "and GC_FREE releases it");

	str = GC_STRDUP("boehm");
	ok(str && !strcmp(str, "boehm") && GC_base(str) == str, "GC_STRDUP");
	str = GC_STRNDUP("abcdef", 3);
	ok(str && !strcmp(str, "abc"), "GC_STRNDUP");
}

static NOINLINE void test_disable(void)
{
	GC_word gc0;

	GC_disable();
	GC_disable();
	GC_enable();
	gc0 = GC_get_gc_no();
	GC_gcollect();
	ok(GC_is_disabled() && GC_get_gc_no() == gc0, "disabled twice, enabled once: no collection");
	GC_enable();
	GC_gcollect();
	ok(!GC_is_disabled() && GC_get_gc_no() > gc0, "enabled again: GC_gcollect collects");
	GC_set_free_space_divisor(6);
	ok(GC_get_free_space_divisor() == 6, "GC_set_free_space_divisor");
	GC_set_free_space_divisor(3);
}

/* Threads through the redirected pthread_create, allocating at once. */
static NOINLINE void test_threads(void)
{
	struct work w[WORKERS];
	pthread_t tids[WORKERS], t;
	int created = 0, registered = 0, i, ms;
	size_t failed = 0;
	long corrupt = 0;
	struct foreign f;
	GC_word gc0;

	GC_allow_register_threads();
	gc0 = GC_get_gc_no();
	for (i = 0; i < WORKERS; i++) {
		w[i] = (struct work){ .id = i };
		if (pthread_create(&tids[i], NULL, worker, &w[i]) == 0)
			created++;
		else
			tids[i] = 0;
	}
	for (i = 0; i < WORKERS; i++) {
		if (tids[i])
			pthread_join(tids[i], NULL);
		registered += w[i].registered;
		corrupt += w[i].bad;
		failed += w[i].failed;
	}
	ok(created == WORKERS && registered == WORKERS,
	   "%d threads from the redirected pthread_create, all registered (%d)", WORKERS,
	   registered);
	ok(failed == 0, "they allocated concurrently without a failure (%zu)", failed);
	ok(corrupt == 0, "each thread's list survived the others' collections (%ld bad)", corrupt);
	ok(GC_get_gc_no() > gc0, "collections ran meanwhile (%lu -> %lu)", gc0, GC_get_gc_no());

	if (pthread_create(&t, NULL, detached_worker, NULL) == 0)
		pthread_detach(t);
	for (ms = 0; ms < WAIT_MS && !detached_done; ms += 10)
		sleep_ms(10);
	ok(detached_done, "a detached thread allocates and finishes");

	run_foreign(&f);
	ok(!f.before && f.stack_base, "a thread from the plain pthread_create: not registered, "
	   "GC_get_stack_base works");
	ok(f.reg == GC_SUCCESS && f.after && f.dup == GC_DUPLICATE,
	   "GC_register_my_thread: GC_SUCCESS, then GC_DUPLICATE (%d, %d)", f.reg, f.dup);
	ok(f.alloc && f.unreg == GC_SUCCESS && f.gone,
	   "it allocates, then GC_unregister_my_thread unregisters it");
}

/* The rest of the API a Boehm program touches. */
static NOINLINE void test_misc(void)
{
	void **holder, *obj, *aligned;
	unsigned char *p, *q;
	int same = 1;

	GC_enable_incremental();
	ok(!GC_is_incremental_mode(), "GC_enable_incremental is accepted (and has no effect)");
	holder = GC_MALLOC(2 * sizeof(void *));
	obj = GC_MALLOC(8);
	if (holder) {
		GC_PTR_STORE_AND_DIRTY(&holder[1], obj);
		GC_END_STUBBORN_CHANGE(holder);
	}
	GC_reachable_here(obj);
	ok(holder && holder[1] == obj, "GC_PTR_STORE_AND_DIRTY stores");
	ok(GC_REVEAL_POINTER(GC_HIDE_POINTER(obj)) == obj && GC_HIDE_POINTER(obj) != (GC_word)obj,
	   "GC_HIDE_POINTER / GC_REVEAL_POINTER");
	aligned = GC_memalign(64, 100);
	same &= aligned && (uintptr_t)aligned % 64 == 0;
	aligned = GC_memalign(4096, 10);
	same &= aligned && (uintptr_t)aligned % 4096 == 0;
	aligned = GC_memalign(16384, 100);
	same &= aligned && (uintptr_t)aligned % 16384 == 0;
	aligned = NULL;
	same &= GC_posix_memalign(&aligned, 256, 1000) == 0 && (uintptr_t)aligned % 256 == 0;
	ok(same, "GC_memalign and GC_posix_memalign align");
	ok(GC_expand_hp(1 << 20) == 1, "GC_expand_hp");
	p = GC_MALLOC_IGNORE_OFF_PAGE(200000);
	q = GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE(200000);
	ok(p && q && GC_size(p) > 200000 && GC_size(q) > 200000, "the IGNORE_OFF_PAGE variants");
	GC_FREE(p);
	GC_FREE(q);
	GC_FREE(NULL);
	ok(GC_NEW_ATOMIC(long) && GC_NEW_UNCOLLECTABLE(long), "GC_NEW_ATOMIC, GC_NEW_UNCOLLECTABLE");
}

int main(void)
{
	GC_INIT();
	ok(GC_is_init_called(), "GC_INIT initializes the collector");
	ok(GC_get_version() == ((GC_VERSION_MAJOR << 16) | (GC_VERSION_MINOR << 8) |
				GC_VERSION_MICRO), "GC_get_version() matches the header (%x)",
	   GC_get_version());
	ok(GC_thread_is_registered(), "the main thread is registered");

	check_sizes();
	clear_stack();
	test_list_and_garbage();
	test_finalizers();
	test_links();
	test_roots();
	test_uncollectable();
	test_realloc();
	test_disable();
	test_threads();
	test_misc();
	tap_diag("%lu collections, heap %zu KiB, %zu KiB free, %zu MiB allocated in all",
		 GC_get_gc_no(), GC_get_heap_size() >> 10, GC_get_free_bytes() >> 10,
		 GC_get_total_bytes() >> 20);
	return tap_done();
}

/* Below, pthread_create is the real one: a thread libgcheap does not know. */
#undef pthread_create
#undef pthread_join

static void *foreign(void *arg)
{
	struct foreign *f = arg;
	struct GC_stack_base sb;

	f->before = GC_thread_is_registered();
	f->stack_base = GC_get_stack_base(&sb) == GC_SUCCESS && (char *)sb.mem_base > (char *)&sb;
	f->reg = GC_register_my_thread(&sb);
	f->after = GC_thread_is_registered();
	f->dup = GC_register_my_thread(&sb);
	f->alloc = GC_MALLOC(100) != NULL;
	f->unreg = GC_unregister_my_thread();
	f->gone = !GC_thread_is_registered();
	return NULL;
}

static void run_foreign(struct foreign *f)
{
	pthread_t t;

	memset(f, 0, sizeof(*f));
	if (pthread_create(&t, NULL, foreign, f) == 0)
		pthread_join(t, NULL);
}
