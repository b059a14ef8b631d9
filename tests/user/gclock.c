// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The libgc layer's allocator lock and signal masks: libgc's weak-pointer
 * idiom (a disguised pointer, registered as a disappearing link, revealed
 * inside GC_call_with_alloc_lock) under concurrent collections must never
 * hand back a dead object; pthread_sigmask is redirected, so a thread that
 * blocks every signal through it still stops; and an allocation larger
 * than the heap fails at once, without a collection.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GC_THREADS
#include "gc.h"
#include "tap.h"

#define NOINLINE	__attribute__((noinline))
#define MAGIC		0x5eed5eedL
#define OBJECTS		40
#define REVEALS		50

struct obj {
	long magic;
	long pad[3];
};

static GC_word hidden;		/* the weak reference: a disguised pointer */
static atomic_int stop_collecting;

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static NOINLINE void clear_stack(void)
{
	char buf[8192];

	memset(buf, 0, sizeof(buf));
	__asm__ __volatile__("" : : "r"(buf) : "memory");
}

static NOINLINE int make_weak(void)
{
	struct obj *o = GC_MALLOC(sizeof(*o));

	if (!o)
		return -1;
	o->magic = MAGIC;
	hidden = GC_HIDE_POINTER(o);
	return GC_general_register_disappearing_link((void **)&hidden, o);
}

/*
 * libgc's reveal: the collector may not run between the read and the
 * return. Here it waits for two cycles (up to 100 ms): were they allowed,
 * they would find the object unreachable, clear the link and free it.
 */
static void *reveal(void *cd)
{
	/* volatile: only the disguised value is kept while waiting. */
	volatile GC_word h = *(volatile GC_word *)cd;
	GC_word gc = GC_get_gc_no();
	int ms;

	if (!h)
		return NULL;
	for (ms = 0; ms < 100 && GC_get_gc_no() < gc + 2; ms++)
		sleep_ms(1);
	return GC_REVEAL_POINTER(h);
}

/*
 * Still an object, with our contents and its link set, once two more
 * cycles have run: a revealed pointer keeps its object, so a link cleared
 * meanwhile means a cycle declared it dead (freed, or to be freed once
 * its span leaves the allocating thread's cache) while we held it.
 */
static NOINLINE bool alive(struct obj *o)
{
	GC_word gc = GC_get_gc_no();
	int ms;

	for (ms = 0; ms < 5000 && GC_get_gc_no() < gc + 2; ms++)
		sleep_ms(1);
	return hidden == GC_HIDE_POINTER(o) && o->magic == MAGIC && GC_base(o) == o;
}

static void *collector(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop_collecting)) {
		GC_gcollect();
		/* Garbage of the same size reuses what a cycle frees. */
		for (int i = 0; i < 200; i++)
			((struct obj *)GC_MALLOC(sizeof(struct obj)))->magic = -1;
	}
	return NULL;
}

static void test_weak_reveal(void)
{
	unsigned long cleared = 0, bad = 0, reveals = 0;
	GC_word gc0 = GC_get_gc_no();
	pthread_t t;
	int i, j;

	if (!ok(pthread_create(&t, NULL, collector, NULL) == 0, "a thread collecting non-stop"))
		return;
	for (i = 0; i < OBJECTS; i++) {
		if (make_weak() != 0) {
			bad++;
			break;
		}
		clear_stack();
		for (j = 0; j < REVEALS; j++) {
			struct obj *o = GC_call_with_alloc_lock(reveal, &hidden);

			reveals++;
			if (!o) {
				cleared++;
				break;
			}
			if (!alive(o)) {
				bad++;
				break;
			}
			o = NULL;
			clear_stack();
		}
		GC_unregister_disappearing_link((void **)&hidden);
		hidden = 0;
	}
	atomic_store(&stop_collecting, 1);
	pthread_join(t, NULL);
	ok(bad == 0, "every revealed pointer is a live object (%lu dead of %lu reveals)", bad,
	   reveals);
	ok(cleared > 0 && GC_get_gc_no() > gc0,
	   "the links were cleared %lu times, over %lu collections", cleared,
	   (unsigned long)(GC_get_gc_no() - gc0));
}

static atomic_int masked_ready, masked_quit, masked_ok;

static void *masked_thread(void *arg)
{
	sigset_t all, cur;

	(void)arg;
	sigfillset(&all);
	/* Both go through the redirect in gc.h. */
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	sigprocmask(SIG_SETMASK, &all, NULL);
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	atomic_store(&masked_ok, sigismember(&cur, SIGUSR1));
	atomic_store(&masked_ready, 1);
	while (!atomic_load(&masked_quit))
		sleep_ms(1);
	return NULL;
}

static void test_sigmask_redirect(void)
{
	GC_word gc0;
	pthread_t t;

	if (!ok(pthread_create(&t, NULL, masked_thread, NULL) == 0,
		"a thread blocking every signal with pthread_sigmask and sigprocmask"))
		return;
	while (!atomic_load(&masked_ready))
		sleep_ms(1);
	ok(atomic_load(&masked_ok), "other signals are blocked");
	gc0 = GC_get_gc_no();
	GC_gcollect();
	ok(GC_get_gc_no() > gc0, "the stop signal is not: a collection completes");
	atomic_store(&masked_quit, 1);
	pthread_join(t, NULL);
}

static void test_impossible(void)
{
	GC_word gc0 = GC_get_gc_no();

	errno = 0;
	ok(GC_MALLOC((size_t)1 << 50) == NULL && GC_MALLOC_ATOMIC((size_t)1 << 50) == NULL,
	   "GC_MALLOC of 1 PiB fails");
	ok(GC_get_gc_no() == gc0, "without a collection (%lu)",
	   (unsigned long)(GC_get_gc_no() - gc0));
}

int main(void)
{
	GC_INIT();
	test_weak_reveal();
	test_sigmask_redirect();
	test_impossible();
	return tap_done();
}
