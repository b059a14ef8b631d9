// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The collector through libgcheap's native API, and how stopping the world
 * treats threads: a heap far smaller than what the program allocates;
 * threads blocked in system calls (their calls restart, not fail; only
 * calls that never restart, such as nanosleep, see EINTR); a
 * thread that blocks the stop signal (the stop is abandoned within the
 * deadline, nothing freed, and collection works again once it unblocks);
 * a thread that dies without detaching (its spans come back, stops do not
 * wait for it); GOGC off; finalizer ordering and run-once; disappearing
 * links; pause accounting.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "gcheap.h"
#include "tap.h"

#define NOINLINE __attribute__((noinline))
#define HEAP_MAX (16 << 20)

struct node {
	struct node *next;
	unsigned long value;
};

/* Globals are not roots: this table is registered as one. */
static struct node *roots[8];

static NOINLINE void clear_stack(void)
{
	char buf[16384];

	memset(buf, 0, sizeof(buf));
	__asm__ __volatile__("" : : "r"(buf) : "memory");
}

static struct gch_stats stats(void)
{
	struct gch_stats st;

	if (gch_stats(&st) < 0)
		memset(&st, 0xff, sizeof(st));
	return st;
}

static NOINLINE struct node *make_list(unsigned long n)
{
	struct node *head = NULL, *p;
	unsigned long i;

	for (i = 0; i < n; i++) {
		p = gch_alloc(sizeof(*p));
		if (!p)
			return NULL;
		p->value = i;
		p->next = head;
		head = p;
	}
	return head;
}

static unsigned long list_bad(const struct node *p, unsigned long n)
{
	unsigned long bad = 0;

	for (; p; p = p->next, n--)
		bad += p->value != n - 1;
	return bad + (n != 0);
}

/* 512 MiB of short-lived objects through a 16 MiB heap. */
static NOINLINE void test_reclaim(void)
{
	unsigned long i, failed = 0, bad;
	size_t bytes = 0;
	struct gch_stats st = stats();
	uint64_t gc0 = st.num_gc, peak = 0;

	roots[0] = make_list(10000);
	for (i = 0; bytes < (512UL << 20); i++) {
		size_t size = i % 97 == 0 ? 40000 + i % 50000 : 16 + i * 37 % 2000;
		char *p = i % 3 ? gch_alloc(size) : gch_alloc_noscan(size);

		if (!p) {
			failed++;
			continue;
		}
		p[0] = 1;
		p[size - 1] = 2;
		bytes += size;
		if (i % 4096 == 0) {
			st = stats();
			if (st.heap_inuse > peak)
				peak = st.heap_inuse;
		}
	}
	st = stats();
	bad = list_bad(roots[0], 10000);
	ok(failed == 0, "512 MiB of short-lived objects through a 16 MiB heap (%lu failed)", failed);
	ok(st.num_gc > gc0 + 10, "the heap collected itself (%llu cycles)",
	   (unsigned long long)(st.num_gc - gc0));
	ok(peak <= HEAP_MAX, "heap in use stayed within the heap (%llu KiB)",
	   (unsigned long long)peak >> 10);
	ok(bad == 0, "a list kept in a root survived every cycle (%lu bad)", bad);
	ok(st.stw_timeouts == 0 && st.last_pause_ns > 0 && st.pause_max_ns >= st.last_pause_ns &&
	   st.pause_total_ns >= st.pause_max_ns, "pauses recorded (last %llu us, max %llu us)",
	   (unsigned long long)st.last_pause_ns / 1000, (unsigned long long)st.pause_max_ns / 1000);
}

/* Threads blocked in system calls while the world stops, over and over. */
static int pipefd[2];
static volatile int blocked_ready;

static void *blocked_reader(void *arg)
{
	char c = 0;
	ssize_t n;

	(void)arg;
	__atomic_add_fetch(&blocked_ready, 1, __ATOMIC_SEQ_CST);
	n = read(pipefd[0], &c, 1);
	return (void *)(long)(n == 1 && c == 'x' ? 0 : n < 0 ? errno : -1);
}

static pthread_mutex_t cond_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int cond_go;

/* A futex wait: restarted by the kernel, invisible to the waiter. */
static void *blocked_waiter(void *arg)
{
	int r = 0;

	(void)arg;
	pthread_mutex_lock(&cond_lock);
	__atomic_add_fetch(&blocked_ready, 1, __ATOMIC_SEQ_CST);
	while (!cond_go && !r)
		r = pthread_cond_wait(&cond, &cond_lock);
	pthread_mutex_unlock(&cond_lock);
	return (void *)(long)r;
}

static void test_blocked_threads(void)
{
	pthread_t r, s;
	void *rr = (void *)1, *sr = (void *)1;
	int i, fails = 0;

	if (!ok(pipe(pipefd) == 0, "a pipe"))
		return;
	ok(gch_pthread_create(&r, NULL, blocked_reader, NULL) == 0 &&
	   gch_pthread_create(&s, NULL, blocked_waiter, NULL) == 0, "two attached threads");
	while (__atomic_load_n(&blocked_ready, __ATOMIC_SEQ_CST) < 2)
		usleep(1000);
	usleep(20000);
	for (i = 0; i < 10; i++)
		fails += gch_collect() < 0;
	ok(fails == 0, "10 collections while one thread reads a pipe and one waits on a condition "
	   "variable (%d failed)", fails);
	ok(write(pipefd[1], "x", 1) == 1, "the reader gets its byte");
	pthread_mutex_lock(&cond_lock);
	cond_go = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&cond_lock);
	pthread_join(r, &rr);
	pthread_join(s, &sr);
	ok(rr == NULL, "read() restarted after each stop and returned the byte (%ld)", (long)rr);
	ok(sr == NULL, "pthread_cond_wait() went on waiting, then returned 0 (%ld)", (long)sr);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* A thread that blocks the stop signal cannot be stopped. */
static volatile int deaf_state;

static void *deaf_thread(void *arg)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, (int)(long)arg);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	__atomic_store_n(&deaf_state, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&deaf_state, __ATOMIC_SEQ_CST) == 1)
		usleep(1000);
	/* Unblocked, the pending stop signal runs the handler: no stop, no park. */
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	return NULL;
}

static int write_param(const char *name, const char *value, char *old, size_t oldlen)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/gcheap/parameters/%s", name);
	f = fopen(path, "r+");
	if (!f)
		return -1;
	if (old && !fgets(old, (int)oldlen, f)) {
		fclose(f);
		return -1;
	}
	rewind(f);
	fputs(value, f);
	return fclose(f);
}

static void test_deaf_thread(void)
{
	struct gch_heap_info info = { 0 };
	struct gch_stats before, after;
	char old[32] = "";
	pthread_t t;
	int r, err;

	r = gch_heap_info(&info);
	if (!ok(r == 0 && info.stop_signal > 0, "the stop signal is %d", info.stop_signal))
		return;
	/* A short deadline keeps the test quick (the guest runs as root). */
	if (!ok(write_param("stw_timeout_ms", "300", old, sizeof(old)) == 0,
		"stw_timeout_ms set to 300"))
		return;
	roots[1] = make_list(1000);
	if (!ok(gch_pthread_create(&t, NULL, deaf_thread, (void *)(long)info.stop_signal) == 0,
		"a thread that blocks the stop signal"))
		return;
	while (__atomic_load_n(&deaf_state, __ATOMIC_SEQ_CST) != 1)
		usleep(1000);
	before = stats();
	r = gch_collect();
	err = errno;
	after = stats();
	ok(r < 0 && err == ETIMEDOUT, "the collection gives up: ETIMEDOUT (%d, %s)", r, strerror(err));
	ok(after.stw_timeouts == before.stw_timeouts + 1 && after.num_gc == before.num_gc &&
	   after.freed_objects == before.freed_objects,
	   "the stop is counted as abandoned, no cycle, nothing freed");
	ok(list_bad(roots[1], 1000) == 0, "the heap is intact");
	__atomic_store_n(&deaf_state, 2, __ATOMIC_SEQ_CST);
	pthread_join(t, NULL);
	ok(gch_collect() == 0 && stats().stw_timeouts == after.stw_timeouts,
	   "once the thread has gone, collection works again");
	write_param("stw_timeout_ms", old, NULL, 0);
	roots[1] = NULL;
}

/* A thread that ends without detaching: exit(2) straight, no destructors. */
static void *vanishing_thread(void *arg)
{
	unsigned long i;

	(void)arg;
	for (i = 0; i < 2000; i++)
		if (!gch_alloc(16 + i % 300))
			break;
	syscall(SYS_exit, 0);
	return NULL;
}

static void test_vanishing_thread(void)
{
	struct gch_stats before = stats(), after;
	pthread_t t;

	if (!ok(gch_pthread_create(&t, NULL, vanishing_thread, NULL) == 0, "a thread that vanishes"))
		return;
	pthread_join(t, NULL);
	ok(gch_collect() == 0, "a stop does not wait for a thread that died attached");
	after = stats();
	ok(after.threads == before.threads && after.spans_cached <= before.spans_cached,
	   "its registration and its cached spans are taken back (threads %u -> %u, spans %llu -> %llu)",
	   before.threads, after.threads, (unsigned long long)before.spans_cached,
	   (unsigned long long)after.spans_cached);
}

static NOINLINE void garbage(size_t bytes)
{
	size_t done;

	for (done = 0; done < bytes; done += 512)
		gch_alloc(512);
}

static void test_gogc_off(void)
{
	uint64_t gc0;
	int old = 0, off = 0;

	gch_collect();
	gch_set_gogc(-1, &old);
	gc0 = stats().num_gc;
	garbage(8 << 20);
	ok(old == 100 && stats().num_gc == gc0 && stats().next_gc == UINT64_MAX,
	   "GOGC off: 8 MiB of garbage, no cycle (was %d)", old);
	ok(gch_set_gogc(old, &off) == 0 && off == -1 && stats().gogc == old, "GOGC back to %d", old);
	gc0 = stats().num_gc;
	garbage(16 << 20);
	ok(stats().num_gc > gc0, "and cycles run again");
}

/* Finalizers: A -> B -> C, A and B finalizable, none reachable. */
struct fnode {
	struct fnode *next;
	unsigned long magic;
};

static int fin_seq, fin_a, fin_b, fin_bad;

static void fin_fn(void *obj, void *arg)
{
	struct fnode *n = obj;
	int seq = __atomic_add_fetch(&fin_seq, 1, __ATOMIC_SEQ_CST);

	/* What the object reaches is intact when its finalizer runs. */
	if (n->magic != (unsigned long)arg || !n->next || n->next->magic != (unsigned long)arg + 1)
		__atomic_add_fetch(&fin_bad, 1, __ATOMIC_SEQ_CST);
	if (arg == (void *)1)
		__atomic_store_n(&fin_a, fin_a ? -1 : seq, __ATOMIC_SEQ_CST);
	else
		__atomic_store_n(&fin_b, fin_b ? -1 : seq, __ATOMIC_SEQ_CST);
}

static NOINLINE void make_chain(void)
{
	struct fnode *a = gch_alloc(sizeof(*a)), *b = gch_alloc(sizeof(*b));
	struct fnode *c = gch_alloc(sizeof(*c));

	if (!a || !b || !c)
		return;
	a->magic = 1;
	b->magic = 2;
	c->magic = 3;
	a->next = b;
	b->next = c;
	gch_set_finalizer(a, fin_fn, (void *)1);
	gch_set_finalizer(b, fin_fn, (void *)2);
}

/* Links: a cell the collector does not scan, pointing to an object. */
static void **dead_cell, **live_cell;

static NOINLINE void make_links(void)
{
	void *dead = gch_alloc(64);

	dead_cell = malloc(sizeof(*dead_cell));
	live_cell = malloc(sizeof(*live_cell));
	roots[3] = gch_alloc(64);
	if (!dead || !dead_cell || !live_cell || !roots[3])
		return;
	*dead_cell = dead;
	*live_cell = roots[3];
	gch_register_link(dead_cell, dead);
	gch_register_link(live_cell, roots[3]);
}

static void test_finalizers_and_links(void)
{
	int i;

	make_chain();
	make_links();
	clear_stack();
	for (i = 0; i < 20 && (!fin_a || !fin_b || *dead_cell); i++) {
		gch_collect();
		gch_run_finalizers();
		usleep(20000);
	}
	ok(fin_a > 0 && fin_b > 0, "both finalizers ran (%d, %d)", fin_a, fin_b);
	ok(fin_a > 0 && fin_b > fin_a, "the head of the chain first (A #%d, B #%d)", fin_a, fin_b);
	ok(fin_bad == 0, "what each finalizable object reached was intact (%d bad)", fin_bad);
	for (i = 0; i < 3; i++) {
		gch_collect();
		gch_run_finalizers();
	}
	ok(fin_a > 0 && fin_b > 0, "and neither ran twice");
	ok(gch_finalizers_queued() == 0, "none left queued");
	ok(dead_cell && *dead_cell == NULL, "a link to an unreachable object is cleared");
	ok(live_cell && *live_cell == roots[3], "a link to a live object is not");
	ok(gch_unregister_link(live_cell) == 0 && gch_unregister_link(live_cell) < 0 &&
	   errno == ENOENT, "a link unregistered, then ENOENT");
	free(dead_cell);
	free(live_cell);
}

int main(void)
{
	struct gch_options opts = { .heap_max = HEAP_MAX };

	if (!ok(gch_init(&opts) == 0, "a 16 MiB heap"))
		return tap_done();
	if (!ok(gch_root_add(roots, roots + 8) == 0, "the root table"))
		return tap_done();
	test_reclaim();
	clear_stack();
	test_blocked_threads();
	test_deaf_thread();
	test_vanishing_thread();
	test_gogc_off();
	test_finalizers_and_links();
	return tap_done();
}
