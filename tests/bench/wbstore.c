// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What the write barrier costs a store: a loop of pointer stores into a
 * heap object with a plain store, with gch_store() and with GCH_STORE()
 * while the barrier is off (always, today), and, for scale, gch_store()
 * with the barrier forced on, which records both values and hands a full
 * buffer to the module (WB_FLUSH, validated and dropped as no cycle marks)
 * every 256 stores.
 *
 * Each loop stores into a ring of 64 slots of one heap object (the slot
 * index and value change every iteration) with an empty asm statement
 * between stores, so the compiler neither vectorizes nor merges them: one
 * store per iteration in every variant, and the gch_store variants load
 * the flag every time, as they must. Wall time (CLOCK_MONOTONIC) over
 * N stores, best of 5 runs, in ns per store. GCHEAP_BENCH_SCALE (or the
 * first argument) scales N. Reports only; exits non-zero only if the
 * heap cannot be used.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gcheap.h"

#define SLOTS	64
#define RUNS	5

enum variant { PLAIN, GCH_STORE_FN, GCH_STORE_MACRO, GCH_STORE_ON, NVARIANTS };

static const char *const names[NVARIANTS] = {
	"plain store", "gch_store, barrier off", "GCH_STORE, barrier off",
	"gch_store, barrier on (forced)",
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Each loop its own function, not inlined into one another. */
static __attribute__((noinline)) void loop_plain(void **slots, void **vals, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		slots[i % SLOTS] = vals[i & 3];
		__asm__ volatile("" ::: "memory");
	}
}

static __attribute__((noinline)) void loop_fn(void **slots, void **vals, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		gch_store(&slots[i % SLOTS], vals[i & 3]);
		__asm__ volatile("" ::: "memory");
	}
}

static __attribute__((noinline)) void loop_macro(void **slots, void **vals, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		GCH_STORE(slots[i % SLOTS], vals[i & 3]);
		__asm__ volatile("" ::: "memory");
	}
}

static double run(enum variant v, void **slots, void **vals, uint64_t n)
{
	double best = 0;

	for (int r = 0; r < RUNS; r++) {
		double t0, t;

		if (v == GCH_STORE_ON)
			__atomic_store_n(&gch_wb_enabled, 1, __ATOMIC_RELAXED);
		t0 = now_ns();
		switch (v) {
		case PLAIN:
			loop_plain(slots, vals, n);
			break;
		case GCH_STORE_MACRO:
			loop_macro(slots, vals, n);
			break;
		default:
			loop_fn(slots, vals, n);
			break;
		}
		t = now_ns() - t0;
		__atomic_store_n(&gch_wb_enabled, 0, __ATOMIC_RELAXED);
		if (!r || t < best)
			best = t;
	}
	return best / (double)n;
}

int main(int argc, char **argv)
{
	const char *env = argc > 1 ? argv[1] : getenv("GCHEAP_BENCH_SCALE");
	double scale = env ? strtod(env, NULL) : 1.0;
	uint64_t n = (uint64_t)(20e6 * (scale > 0 ? scale : 1.0));
	void **slots, *vals[4];
	struct gch_stats before, after;

	slots = gch_alloc(SLOTS * sizeof(void *));
	for (int i = 0; i < 4; i++)
		vals[i] = gch_alloc(32);
	if (!slots || !vals[3] || gch_stats(&before) < 0) {
		fprintf(stderr, "wbstore: cannot use the gcheap heap: %s\n", strerror(errno));
		return 1;
	}
	printf("write barrier: %llu stores per run, best of %d\n", (unsigned long long)n, RUNS);
	printf("%-34s %9s\n", "variant", "ns/store");
	for (int v = 0; v < NVARIANTS; v++) {
		double ns = run(v, slots, vals, v == GCH_STORE_ON ? n / 10 : n);

		printf("%-34s %9.3f\n", names[v], ns);
	}
	gch_stats(&after);
	printf("system calls during the runs: %llu (WB_FLUSH of the forced-on runs)\n",
	       (unsigned long long)(after.syscalls - before.syscalls));
	return 0;
}
