// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * GCBench (after John Ellis and Pete Kovac's benchmark, as adapted to C by
 * Hans Boehm), written against the Boehm GC API so that one source builds
 * against libgc and against gcheap's Boehm-compatible layer:
 *
 *   cc -O2 -DGCBENCH_IMPL='"libgc"' gcbench.c -lgc
 *   cc -O2 -DGCBENCH_GCHEAP -DGCBENCH_IMPL='"gcheap"' -I. -Iuserlib/include \
 *      gcbench.c userlib/libgcheap.a -pthread
 *
 * With -DGCBENCH_CONCURRENT too, it uses gcheap's own API on a heap
 * opened GCH_INIT_CONCURRENT, every pointer store into a node through
 * GCH_STORE (the only change to the workload).
 *
 * Workload: a short-lived "stretch" tree of depth 18; a long-lived tree of
 * depth 16 and a long-lived pointer-free array of 500,000 doubles (half
 * filled) kept to the end; then for depths 4, 6, .., 16, NumIters(d) =
 * 2 * TreeSize(18) / TreeSize(d) short-lived trees built top down (Populate)
 * and as many built bottom up (MakeTree).
 *
 * Output: a human-readable block, then one line
 *   gcbench impl=<name> total_ms=<n> gcs=<n> max_pause_us=<n> peak_rss_kb=<n>
 * total_ms is wall time (CLOCK_MONOTONIC) from the stretch tree to the end;
 * gcs is GC_get_gc_no() after minus before; peak_rss_kb is getrusage's
 * ru_maxrss. max_pause_us is, for libgc, the longest GC_EVENT_START ..
 * GC_EVENT_END interval (the time a collection holds the allocating thread;
 * libgc >= 7.6), for gcheap (-DGCBENCH_GCHEAP) the collector's longest stop
 * of the world (gch_stats' pause_max_ns), and -1 where neither is
 * available (or with -DGCBENCH_NO_EVENTS).
 *
 * Exits 1 if the long-lived structures did not survive intact.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include <gc.h>

#ifdef GCBENCH_GCHEAP
#include "gcheap.h"
#endif

#ifdef GCBENCH_CONCURRENT
#define NEW(size)		gch_alloc(size)
#define NEW_ATOMIC(size)	gch_alloc_noscan(size)
#define STORE(lvalue, v)	GCH_STORE(lvalue, v)
#else
#define NEW(size)		GC_MALLOC(size)
#define NEW_ATOMIC(size)	GC_MALLOC_ATOMIC(size)
#define STORE(lvalue, v)	((lvalue) = (v))
#endif

#ifndef GCBENCH_IMPL
#ifdef GCBENCH_GCHEAP
#define GCBENCH_IMPL "gcheap"
#else
#define GCBENCH_IMPL "libgc"
#endif
#endif

/*
 * libgc's collection events (GC_set_on_collection_event) exist since 7.6.
 * GC_EVENT_START is an enumerator, not a macro, so the test is on the
 * version, and on GC_TMP_VERSION_MAJOR, which only libgc's own headers
 * define (gcheap's gc.h reports libgc's version without the events).
 */
#if !defined(GCBENCH_GCHEAP) && !defined(GCBENCH_NO_EVENTS) &&                  \
	defined(GC_TMP_VERSION_MAJOR) && defined(GC_VERSION_MAJOR) &&           \
	(GC_VERSION_MAJOR > 7 || (GC_VERSION_MAJOR == 7 && GC_VERSION_MINOR >= 6))
#define GCBENCH_EVENTS 1
#endif

enum {
	kStretchTreeDepth = 18,		/* about 16 MB */
	kLongLivedTreeDepth = 16,	/* about 4 MB */
	kArraySize = 500000,		/* about 4 MB */
	kMinTreeDepth = 4,
	kMaxTreeDepth = 16,
	kNumDepths = (kMaxTreeDepth - kMinTreeDepth) / 2 + 1,
};

typedef struct Node Node;
struct Node {
	Node *left;
	Node *right;
	int i, j;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* Nodes in a complete binary tree of depth i. */
static int TreeSize(int i)
{
	return (1 << (i + 1)) - 1;
}

/* How many trees of depth i allocate as much as two stretch trees. */
static int NumIters(int i)
{
	return 2 * TreeSize(kStretchTreeDepth) / TreeSize(i);
}

static Node *NewNode(Node *l, Node *r)
{
	Node *n = NEW(sizeof(Node));

	if (!n) {
		fprintf(stderr, "gcbench: out of memory\n");
		exit(2);
	}
	STORE(n->left, l);
	STORE(n->right, r);
	return n;
}

/* Top down: give an existing node two children, recursively. */
static void Populate(int iDepth, Node *thisNode)
{
	if (iDepth <= 0)
		return;
	iDepth--;
	STORE(thisNode->left, NewNode(NULL, NULL));
	STORE(thisNode->right, NewNode(NULL, NULL));
	Populate(iDepth, thisNode->left);
	Populate(iDepth, thisNode->right);
}

/* Bottom up: build both subtrees, then their parent. */
static Node *MakeTree(int iDepth)
{
	Node *l, *r;

	if (iDepth <= 0)
		return NewNode(NULL, NULL);
	l = MakeTree(iDepth - 1);
	r = MakeTree(iDepth - 1);
	return NewNode(l, r);
}

#ifdef GCBENCH_EVENTS
static uint64_t ev_start, ev_stw_start;
static uint64_t ev_max_ns, ev_total_ns, ev_count, ev_stw_max_ns;

static void GC_CALLBACK on_gc_event(GC_EventType e)
{
	uint64_t t;

	switch (e) {
	case GC_EVENT_START:
		ev_start = now_ns();
		break;
	case GC_EVENT_END:
		if (!ev_start)
			break;
		t = now_ns() - ev_start;
		ev_start = 0;
		ev_count++;
		ev_total_ns += t;
		if (t > ev_max_ns)
			ev_max_ns = t;
		break;
	case GC_EVENT_PRE_STOP_WORLD:
		ev_stw_start = now_ns();
		break;
	case GC_EVENT_POST_START_WORLD:
		if (!ev_stw_start)
			break;
		t = now_ns() - ev_stw_start;
		ev_stw_start = 0;
		if (t > ev_stw_max_ns)
			ev_stw_max_ns = t;
		break;
	default:
		break;
	}
}
#endif

struct depth_times {
	int depth, iters;
	uint64_t top_down_ns, bottom_up_ns;
};

static void TimeConstruction(int depth, struct depth_times *dt)
{
	int iNumIters = NumIters(depth);
	Node *tempTree;
	uint64_t t0;
	int i;

	dt->depth = depth;
	dt->iters = iNumIters;
	printf("Creating %d trees of depth %d\n", iNumIters, depth);

	t0 = now_ns();
	for (i = 0; i < iNumIters; ++i) {
		tempTree = NewNode(NULL, NULL);
		Populate(depth, tempTree);
		tempTree = NULL;
	}
	dt->top_down_ns = now_ns() - t0;
	printf("\tTop down construction took %.1f msec\n", ms(dt->top_down_ns));

	t0 = now_ns();
	for (i = 0; i < iNumIters; ++i) {
		tempTree = MakeTree(depth);
		tempTree = NULL;
	}
	dt->bottom_up_ns = now_ns() - t0;
	printf("\tBottom up construction took %.1f msec\n", ms(dt->bottom_up_ns));
	(void)tempTree;
}

int main(void)
{
	struct depth_times dts[kNumDepths];
	uint64_t t_start, t_end, t0, stretch_ns, longlived_ns;
	unsigned long gc_before, gcs;
	long long max_pause_us = -1;
	Node *longLivedTree, *tempTree;
	double *array;
	struct rusage ru;
	int d, i, ok;

#ifdef GCBENCH_CONCURRENT
	struct gch_options opts = { .flags = GCH_INIT_CONCURRENT };

	if (gch_init(&opts) != 0) {
		perror("gcbench: gch_init");
		return 2;
	}
#else
	GC_INIT();
#endif
#ifdef GCBENCH_EVENTS
	GC_set_on_collection_event(on_gc_event);
#endif
#ifdef GCBENCH_GCHEAP
	struct gch_stats st0, st1;

	if (gch_stats(&st0) != 0) {
		perror("gcbench: gch_stats");
		return 2;
	}
#endif
#ifdef GCBENCH_CONCURRENT
	gc_before = (unsigned long)st0.num_gc;
#else
	gc_before = (unsigned long)GC_get_gc_no();
#endif

	printf("Garbage Collector Test (%s)\n", GCBENCH_IMPL);
	printf(" Live storage will peak at %zu bytes.\n\n",
	       2 * sizeof(Node) * (size_t)TreeSize(kLongLivedTreeDepth) +
		       sizeof(double) * kArraySize);
	printf(" Stretching memory with a binary tree of depth %d\n", kStretchTreeDepth);

	t_start = now_ns();

	/* Stretch the heap to its likely peak size. */
	tempTree = MakeTree(kStretchTreeDepth);
	tempTree = NULL;
	(void)tempTree;
	stretch_ns = now_ns() - t_start;

	/* Long-lived structures, reachable until the end. */
	t0 = now_ns();
	printf(" Creating a long-lived binary tree of depth %d\n", kLongLivedTreeDepth);
	longLivedTree = NewNode(NULL, NULL);
	Populate(kLongLivedTreeDepth, longLivedTree);

	printf(" Creating a long-lived array of %d doubles\n", kArraySize);
	array = NEW_ATOMIC(sizeof(double) * kArraySize);
	if (!array) {
		fprintf(stderr, "gcbench: out of memory\n");
		return 2;
	}
	for (i = 0; i < kArraySize / 2; ++i)
		array[i] = 1.0 / i;
	longlived_ns = now_ns() - t0;

	for (d = kMinTreeDepth; d <= kMaxTreeDepth; d += 2)
		TimeConstruction(d, &dts[(d - kMinTreeDepth) / 2]);

	ok = longLivedTree != NULL && longLivedTree->left != NULL &&
	     longLivedTree->right != NULL && array[1000] == 1.0 / 1000;

	t_end = now_ns();
	getrusage(RUSAGE_SELF, &ru);

#ifdef GCBENCH_EVENTS
	if (ev_count)
		max_pause_us = (long long)(ev_max_ns / 1000);
	else
		max_pause_us = 0;
#endif
#ifdef GCBENCH_GCHEAP
	if (gch_stats(&st1) != 0) {
		perror("gcbench: gch_stats");
		return 2;
	}
	/* The collector's maximum since the heap opened (at GC_INIT). */
	max_pause_us = (long long)(st1.pause_max_ns / 1000);
#endif
#ifdef GCBENCH_CONCURRENT
	gcs = (unsigned long)st1.num_gc - gc_before;
#else
	gcs = (unsigned long)GC_get_gc_no() - gc_before;
#endif

	printf("\nPhases (msec):\n");
	printf("  %-24s %10.1f\n", "stretch (depth 18)", ms(stretch_ns));
	printf("  %-24s %10.1f\n", "long-lived tree + array", ms(longlived_ns));
	for (i = 0; i < kNumDepths; i++) {
		char name[32];

		snprintf(name, sizeof(name), "depth %d top-down", dts[i].depth);
		printf("  %-24s %10.1f  (%d trees)\n", name, ms(dts[i].top_down_ns),
		       dts[i].iters);
		snprintf(name, sizeof(name), "depth %d bottom-up", dts[i].depth);
		printf("  %-24s %10.1f\n", name, ms(dts[i].bottom_up_ns));
	}
	printf("Completed in %.1f msec\n", ms(t_end - t_start));
	printf("Completed %lu collections\n", gcs);
#ifdef GCBENCH_CONCURRENT
	printf("Heap size is %zu\n", (size_t)st1.heap_inuse);
#else
	printf("Heap size is %zu\n", (size_t)GC_get_heap_size());
#endif
	printf("Peak RSS is %ld KiB\n", ru.ru_maxrss);
#ifdef GCBENCH_EVENTS
	printf("Collections timed: %llu, max %.3f msec, total %.1f msec "
	       "(world stopped: max %.3f msec)\n",
	       (unsigned long long)ev_count, ms(ev_max_ns), ms(ev_total_ns),
	       ms(ev_stw_max_ns));
#endif
#ifdef GCBENCH_GCHEAP
	printf("Collector: %llu cycles, pauses max %.3f msec, total %.1f msec\n",
	       (unsigned long long)(st1.num_gc - st0.num_gc), ms(st1.pause_max_ns),
	       ms(st1.pause_total_ns - st0.pause_total_ns));
#endif
	if (!ok) {
		printf("Failed: the long-lived structures did not survive\n");
		fflush(stdout);
		return 1;
	}

	printf("gcbench impl=%s total_ms=%llu gcs=%lu max_pause_us=%lld peak_rss_kb=%ld\n",
	       GCBENCH_IMPL, (unsigned long long)((t_end - t_start) / 1000000), gcs,
	       max_pause_us, ru.ru_maxrss);
	return 0;
}
