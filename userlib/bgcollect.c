// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The background collector of a CONCURRENT heap: one library thread that
 * runs every automatic cycle, so no thread of the program waits for a
 * mark (Go's gcBgMarkWorker, which marks beside the program, and
 * forcegchelper, which starts a cycle when none ran for two minutes).
 *
 * A thread whose allocation finds a cycle wanted (gch_gc_poll) only
 * raises `kick` and wakes this thread with a futex; the cycle, its two
 * short stops and its background marking run in this thread's
 * GCHEAP_IOC_GC, held by the module to gc_cpu_percent of the process's
 * CPUs; allocating threads pay their share of the mark as assists inside
 * their own refills. A program that calls gch_collect still runs that
 * cycle on its own thread and waits for it, as runtime.GC() does.
 *
 * The thread, named gcheap-gc, is not attached: it holds no heap pointers, allocates
 * nothing and is never asked to park. All signals are blocked in it, so
 * the program's own signals go to its threads. It is started when a
 * CONCURRENT heap opens; should that fail, cycles run on the allocating
 * thread as on a STW heap. A forked child has no such thread: its heap
 * (a new one) starts its own.
 *
 * GCHEAP_FORCEGC_PERIOD (seconds, default 120) sets the idle period
 * after which a cycle is forced; 0 turns it off.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "gcheap.h"
#include "internal.h"

#define GCH_FORCEGC_PERIOD	120	/* Go's forcegcperiod, seconds */

static uint32_t kick;		/* futex word: 1 once a cycle is wanted */
static bool running;		/* the thread exists (in this process) */
static long period = GCH_FORCEGC_PERIOD;

static int futex_wait(uint32_t *word, uint32_t val, const struct timespec *ts)
{
	return (int)syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, ts, NULL, 0);
}

static void *bg_main(void *arg)
{
	uint64_t seen = __atomic_load_n(&gch_heap.ctrl->gc_started, __ATOMIC_RELAXED);
	struct timespec ts = { .tv_sec = period };

	(void)arg;
	prctl(PR_SET_NAME, "gcheap-gc");
	for (;;) {
		if (!__atomic_exchange_n(&kick, 0, __ATOMIC_ACQUIRE)) {
			if (futex_wait(&kick, 0, period ? &ts : NULL) == 0 || errno != ETIMEDOUT)
				continue;
			/*
			 * Idle for a period: a cycle unless one ran or collection
			 * is off; an automatic one (Go counts it so too), at the
			 * background share.
			 */
			if (__atomic_load_n(&gch_heap.ctrl->gc_started, __ATOMIC_RELAXED) == seen &&
			    __atomic_load_n(&gch_heap.ctrl->next_gc, __ATOMIC_RELAXED) != UINT64_MAX)
				gch_gc_ioctl(0);
		} else {
			gch_gc_ioctl(GCHEAP_GC_IF_NEEDED);
		}
		seen = __atomic_load_n(&gch_heap.ctrl->gc_started, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* The heap just opened is CONCURRENT: start its collector thread. */
void gch_bg_start(void)
{
	const char *env = getenv("GCHEAP_FORCEGC_PERIOD");
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t t;
	char *end;
	long v;

	if (env && *env) {
		v = strtol(env, &end, 10);
		if (!*end && v >= 0 && v <= INT_MAX)
			period = v;
	}
	sigfillset(&all);
	if (pthread_attr_init(&attr))
		return;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	running = pthread_create(&t, &attr, bg_main, NULL) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
}

/*
 * A cycle is wanted: wake the collector thread, or, without one, run
 * it here. false if the caller is to run it.
 */
bool gch_bg_kick(void)
{
	if (!__atomic_load_n(&running, __ATOMIC_RELAXED))
		return false;
	if (!__atomic_exchange_n(&kick, 1, __ATOMIC_RELEASE))
		syscall(SYS_futex, &kick, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	return true;
}

/* The child of a fork has no collector thread. */
void gch_bg_forked(void)
{
	running = false;
	kick = 0;
}
