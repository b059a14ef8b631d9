// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Pause test: two threads mutate a large live graph while the collector
 * runs, and each records when it could not run. One source for gcheap
 * (-DPT_GCHEAP, with -DPT_CONCURRENT for a heap that marks beside the
 * program) and for libgc (-DPT_LIBGC); pausetest.go is the same for Go.
 *
 * The graph: a table of pointers to chains of 8 nodes of 64 bytes, 256
 * MiB in all (PAUSETEST_MB), built first. Then for PAUSETEST_SECONDS (10)
 * each thread replaces a random chain with a new one, over and over; the
 * old one is garbage. Every pointer store into a node goes through the
 * write barrier where there is one (gcheap concurrent).
 *
 * A thread notes the time after each replacement; a gap of more than
 * 200 us between two is time it did not run (a pause of the collector,
 * an assist, or the scheduler). Output, one line:
 *
 *   pausetest impl=<name> total_ms=<n> ops=<n> pauses=<n> pause_max_us=<n>
 *             pause_p99_us=<n> mmu10_pct=<n> mmu50_pct=<n> mmu100_pct=<n>
 *             gcs=<n> gc_pause_max_us=<n> peak_rss_kb=<n>
 *
 * ops: replacements by both threads (throughput); pauses: gaps over 1 ms;
 * pause_max_us, pause_p99_us: the longest gap, and the 99th percentile of
 * gaps over 1 ms; mmu10_pct: minimum mutator utilisation over 10 ms
 * windows, the worse thread's (100: never stopped for any of 10 ms), and
 * the same over 50 and 100 ms (two threads and a collector on two CPUs
 * get gaps of 10 ms from the scheduler alone);
 * gcs and gc_pause_max_us: the collector's own count and longest
 * stop-the-world (-1 where it does not say).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#ifdef PT_LIBGC
#define GC_THREADS 1
#include <gc.h>
#define NEW(size)		GC_MALLOC(size)
#define STORE(lvalue, v)	((lvalue) = (v))
#define IMPL			"libgc"
#else
#include "gcheap.h"
#define NEW(size)		gch_alloc(size)
#define STORE(lvalue, v)	GCH_STORE(lvalue, v)
#ifdef PT_CONCURRENT
#define IMPL			"gcheap-concurrent"
#else
#define IMPL			"gcheap"
#endif
#endif

#define NTHREADS	2
#define CHAIN		8
#define GAP_NS		200000ULL	/* a gap longer than this is not running */
#define PAUSE_NS	1000000ULL	/* a gap longer than this is a pause */
/* MMU windows: 10 ms, and 50 and 100 ms where the scheduler alone makes gaps of 10 ms. */
static const uint64_t windows[] = { 10000000ULL, 50000000ULL, 100000000ULL };
#define NWINDOWS	(sizeof(windows) / sizeof(windows[0]))
#define MAX_GAPS	(1 << 20)

struct node {
	struct node *next;
	uint64_t pad[7];
};

struct gap {
	uint64_t start, len;
};

struct mutator {
	pthread_t tid;
	uint64_t rng, ops, ngaps;
	struct gap *gaps;
};

static struct node **table;
static size_t nslots;
static uint64_t t_end;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static struct node *chain_new(void)
{
	struct node *head = NULL, *n;
	int k;

	for (k = 0; k < CHAIN; k++) {
		n = NEW(sizeof(*n));
		if (!n) {
			fprintf(stderr, "pausetest: out of memory\n");
			exit(2);
		}
		STORE(n->next, head);
		head = n;
	}
	return head;
}

static void *mutate(void *arg)
{
	struct mutator *m = arg;
	uint64_t last = now_ns(), t;

	do {
		size_t slot = (size_t)(rng_next(&m->rng) % nslots);

		STORE(table[slot], chain_new());
		m->ops++;
		t = now_ns();
		if (t - last > GAP_NS && m->ngaps < MAX_GAPS)
			m->gaps[m->ngaps++] = (struct gap){ last, t - last };
		last = t;
	} while (t < t_end);
	return NULL;
}

/* The most gap time in any @window ns (gaps are in time order). */
static uint64_t worst_window(const struct gap *g, uint64_t n, uint64_t window)
{
	uint64_t best = 0, i, j, sum;

	/* A worst window starts where some gap starts or ends where one ends. */
	for (i = 0; i < n; i++) {
		uint64_t lo = g[i].start, hi = lo + window;

		for (sum = 0, j = i; j < n && g[j].start < hi; j++)
			sum += (g[j].start + g[j].len < hi ? g[j].start + g[j].len : hi) - g[j].start;
		best = sum > best ? sum : best;
		hi = g[i].start + g[i].len;
		lo = hi > window ? hi - window : 0;
		for (sum = 0, j = i + 1; j-- > 0 && g[j].start + g[j].len > lo;)
			sum += g[j].start + g[j].len - (g[j].start > lo ? g[j].start : lo);
		best = sum > best ? sum : best;
	}
	return best > window ? window : best;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	const char *mb_env = getenv("PAUSETEST_MB"), *s_env = getenv("PAUSETEST_SECONDS");
	uint64_t mb = mb_env ? strtoull(mb_env, NULL, 0) : 256;
	uint64_t secs = s_env ? strtoull(s_env, NULL, 0) : 10;
	struct mutator m[NTHREADS];
	uint64_t t0, t1, ops = 0, npause = 0, maxgap = 0, worst[NWINDOWS] = { 0 }, *pl, npl = 0;
	long long gcs = -1, gc_pause_max_us = -1;
	struct rusage ru;
	size_t i;
	int k;

#ifdef PT_LIBGC
	GC_INIT();
	GC_allow_register_threads();
	unsigned long gc0;
#else
	struct gch_options opts = { 0 };
	struct gch_stats st0, st1;

#ifdef PT_CONCURRENT
	opts.flags = GCH_INIT_CONCURRENT;
#endif
	if (gch_init(&opts) != 0) {
		perror("pausetest: gch_init");
		return 2;
	}
#endif
	nslots = (size_t)(mb << 20) / (CHAIN * sizeof(struct node));
	table = NEW(nslots * sizeof(*table));
	if (!table) {
		fprintf(stderr, "pausetest: out of memory\n");
		return 2;
	}
	for (i = 0; i < nslots; i++)
		STORE(table[i], chain_new());

#ifdef PT_LIBGC
	gc0 = GC_get_gc_no();
#else
	if (gch_stats(&st0) != 0)
		return 2;
#endif
	t0 = now_ns();
	t_end = t0 + secs * 1000000000ULL;
	for (k = 0; k < NTHREADS; k++) {
		memset(&m[k], 0, sizeof(m[k]));
		m[k].rng = 0x5eed + (uint64_t)k;
		m[k].gaps = malloc(MAX_GAPS * sizeof(struct gap));
		if (!m[k].gaps)
			return 2;
#ifdef PT_LIBGC
		if (pthread_create(&m[k].tid, NULL, mutate, &m[k]) != 0)
#else
		if (gch_pthread_create(&m[k].tid, NULL, mutate, &m[k]) != 0)
#endif
			return 2;
	}
	for (k = 0; k < NTHREADS; k++)
		pthread_join(m[k].tid, NULL);
	t1 = now_ns();

#ifdef PT_LIBGC
	gcs = (long long)(GC_get_gc_no() - gc0);
#else
	if (gch_stats(&st1) != 0)
		return 2;
	gcs = (long long)(st1.num_gc - st0.num_gc);
	gc_pause_max_us = (long long)(st1.pause_max_ns / 1000);
#endif
	pl = malloc(NTHREADS * MAX_GAPS * sizeof(*pl));
	if (!pl)
		return 2;
	for (k = 0; k < NTHREADS; k++) {
		for (i = 0; i < NWINDOWS; i++) {
			uint64_t w = worst_window(m[k].gaps, m[k].ngaps, windows[i]);

			worst[i] = w > worst[i] ? w : worst[i];
		}
		ops += m[k].ops;
		for (i = 0; i < m[k].ngaps; i++) {
			uint64_t len = m[k].gaps[i].len;

			maxgap = len > maxgap ? len : maxgap;
			if (len > PAUSE_NS) {
				npause++;
				pl[npl++] = len;
			}
		}
	}
	qsort(pl, npl, sizeof(*pl), cmp_u64);
	getrusage(RUSAGE_SELF, &ru);
	printf("pausetest impl=%s total_ms=%llu ops=%llu pauses=%llu pause_max_us=%llu "
	       "pause_p99_us=%llu mmu10_pct=%llu mmu50_pct=%llu mmu100_pct=%llu gcs=%lld "
	       "gc_pause_max_us=%lld peak_rss_kb=%ld\n",
	       IMPL, (unsigned long long)((t1 - t0) / 1000000), (unsigned long long)ops,
	       (unsigned long long)npause, (unsigned long long)(maxgap / 1000),
	       (unsigned long long)(npl ? pl[(npl * 99) / 100 < npl ? (npl * 99) / 100 : npl - 1] /
					  1000 : 0),
	       (unsigned long long)(100 - worst[0] * 100 / windows[0]),
	       (unsigned long long)(100 - worst[1] * 100 / windows[1]),
	       (unsigned long long)(100 - worst[2] * 100 / windows[2]), gcs, gc_pause_max_us,
	       ru.ru_maxrss);
	return 0;
}
