// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The scavenger, the hard memory limit and gch_free_os_memory, measured
 * three ways: the heap's stats, the process's RSS (/proc/self/statm) and
 * the memory.current of a cgroup the test moves into (every heap page is
 * charged there, mapped or idle; RSS counts only pages in use).
 *
 * On 6.1, pages put in the mapping by an ioctl (prefault) reach RSS only
 * when the task's cached counters are next synced (SPLIT_RSS_COUNTING),
 * so RSS there may read low; 6.12 counts them at once.
 *
 * 1. A spike: the live heap grows to 512 MiB (64 KiB objects reached from
 *    a global table) and is dropped and collected; the program then goes
 *    on allocating lightly.
 *    - Background scavenger off (scavenge_percent=0): the heap keeps the
 *      memory for 3 s: memory.current stays up (so the check below can
 *      fail).
 *    - On: heap_resident comes down to within 1.2x the heap goal, and RSS
 *      and memory.current with it. The scavenger is given 50 % here, not
 *      the default 1 %: the guest runs kernel code about ten times slower
 *      than hardware, and the debug kernel (KASAN poisons every page
 *      freed) several times slower again (about 10 s there, 1 s on the
 *      stock kernels); the deadline, 40 s, leaves room for a machine twice
 *      as slow as that. The time it took and the CPU it spent are reported
 *      (make bench-spike shows the default at work).
 * 2. memory_max: allocations past it fail with ENOMEM (after the library
 *    collected), heap_resident stays under it, the kept objects are
 *    intact; once the program drops objects it allocates again.
 * 3. gch_free_os_memory: every idle page goes back.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gcheap.h"
#include "tap.h"
#include "knob.h"
#include "cgroup.h"

#define MiB		(1024 * 1024ULL)
#define OBJ		(64 * 1024)
#define NOBJ		(512 * MiB / OBJ)
#define CGNAME		"gcheap-scavenge-test"

static void *table[NOBJ];	/* the live heap, reached from here */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rss(void)
{
	unsigned long size, res;
	FILE *f = fopen("/proc/self/statm", "r");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "%lu %lu", &size, &res);
	fclose(f);
	return n == 2 ? (uint64_t)res * sysconf(_SC_PAGESIZE) : 0;
}

static uint64_t memcur(void)
{
	return read_u64(CGROOT "/" CGNAME "/memory.current");
}

static struct gch_stats stats(void)
{
	struct gch_stats st;

	if (gch_stats(&st) < 0)
		memset(&st, 0, sizeof(st));
	return st;
}

/* Light allocation: 64 KiB of small garbage, then a 10 ms rest. */
static void allocate_lightly(void)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i;

	for (i = 0; i < 64; i++)
		if (!gch_alloc(1024))
			break;
	nanosleep(&ts, NULL);
}

static void spike(void)
{
	uint64_t rss0 = rss(), mem0 = memcur(), goal, lim;
	struct gch_stats st;
	unsigned int i, filled = 0;
	double t0, t;
	int good = 0;

	for (i = 0; i < NOBJ; i++) {
		table[i] = gch_alloc_noscan(OBJ);
		if (!table[i])
			break;
		memset(table[i], i & 0xff, 64);
		filled++;
	}
	st = stats();
	if (!ok(filled == NOBJ, "512 MiB live (%u of %u objects)", filled, (unsigned int)NOBJ))
		return;
	tap_diag("spike: heap_inuse %llu MiB, resident %llu MiB, RSS +%llu MiB, memory.current +%llu MiB",
		 (unsigned long long)(st.heap_inuse / MiB), (unsigned long long)(st.heap_resident / MiB),
		 (unsigned long long)((rss() - rss0) / MiB), (unsigned long long)((memcur() - mem0) / MiB));

	/* Dropped, with the scavenger off: the memory stays. */
	knob_set("scavenge_percent", "0");
	memset(table, 0, sizeof(table));
	ok(gch_collect() == 0, "the spike is collected");
	t0 = now();
	while (now() - t0 < 3)
		allocate_lightly();
	st = stats();
	tap_diag("scavenger off, 3 s after: goal %llu MiB, heap_inuse %llu MiB, resident %llu MiB, RSS +%llu MiB, memory.current +%llu MiB",
		 (unsigned long long)(st.next_gc / MiB), (unsigned long long)(st.heap_inuse / MiB),
		 (unsigned long long)(st.heap_resident / MiB), (unsigned long long)((rss() - rss0) / MiB),
		 (unsigned long long)((memcur() - mem0) / MiB));
	ok(st.heap_resident > 400 * MiB && memcur() - mem0 > 400 * MiB,
	   "scavenger off: the heap keeps its idle memory (resident %llu MiB)",
	   (unsigned long long)(st.heap_resident / MiB));

	/* On: the next cycle's sweep wakes it. */
	knob_set("scavenge_percent", "50");
	gch_collect();
	t0 = now();
	do {
		allocate_lightly();
		st = stats();
		goal = st.next_gc;
		lim = goal + goal / 5;
		t = now() - t0;
		good = st.heap_resident <= lim && rss() - rss0 <= lim &&
		       memcur() - mem0 <= lim + 4 * MiB;	/* metadata: span and page tables */
	} while (!good && t < 40);
	tap_diag("scavenger on, after %.1f s: goal %llu MiB, heap_inuse %llu MiB, resident %llu MiB, RSS +%llu MiB, memory.current +%llu MiB; released %llu MiB in background (%.0f ms of CPU), %llu MiB as it grew",
		 t, (unsigned long long)(goal / MiB), (unsigned long long)(st.heap_inuse / MiB),
		 (unsigned long long)(st.heap_resident / MiB), (unsigned long long)((rss() - rss0) / MiB),
		 (unsigned long long)((memcur() - mem0) / MiB),
		 (unsigned long long)(st.scav_background / MiB), st.scav_ns / 1e6,
		 (unsigned long long)(st.scav_sync / MiB));
	ok(good, "within 40 s the heap, RSS and memory.current are within 1.2x the goal (%.1f s)", t);
	ok(st.scav_background >= 400 * MiB, "the background scavenger gave it back (%llu MiB)",
	   (unsigned long long)(st.scav_background / MiB));
}

static void memory_max(void)
{
	const uint64_t max = 64 * MiB;
	struct gch_stats st;
	unsigned int i, kept = 0, bad = 0, more = 0;
	uint64_t old = 0;
	void *p = NULL;
	int err = 0;

	memset(table, 0, sizeof(table));
	gch_collect();
	ok(gch_set_memory_max(max, &old) == 0 && old == GCH_NO_LIMIT, "memory_max set to 64 MiB");
	ok(stats().heap_resident <= max, "setting it gave idle memory back (resident %llu MiB)",
	   (unsigned long long)(stats().heap_resident / MiB));
	for (i = 0; i < NOBJ; i++) {
		table[i] = gch_alloc_noscan(OBJ);
		if (!table[i]) {
			err = errno;
			break;
		}
		memset(table[i], (int)(i & 0xff), OBJ);
		kept++;
	}
	st = stats();
	ok(kept < NOBJ && err == ENOMEM, "allocation fails with ENOMEM past the limit (%u objects, errno %d)",
	   kept, err);
	ok(st.heap_resident <= max, "resident %llu KiB <= 64 MiB", (unsigned long long)(st.heap_resident >> 10));
	for (i = 0; i < kept; i++)
		bad += ((unsigned char *)table[i])[OBJ - 1] != (i & 0xff);
	ok(bad == 0, "the %u kept objects are intact (%u bad)", kept, bad);
	/* Drop half: the heap allocates again. */
	for (i = 0; i < kept; i += 2)
		table[i] = NULL;
	for (i = 0; i < kept / 4; i++)
		more += (p = gch_alloc_noscan(OBJ)) != NULL;
	(void)p;
	ok(more == kept / 4, "after dropping half, %u of %u allocations succeed", more, kept / 4);
	ok(stats().heap_resident <= max, "and the heap stays under the limit");
	ok(gch_set_memory_max(GCH_NO_LIMIT, &old) == 0 && old == max, "memory_max lifted");
	errno = 0;
	ok(gch_set_memory_max(0, NULL) < 0 && errno == EINVAL, "a zero memory_max is EINVAL");
}

static void free_os_memory(void)
{
	struct gch_stats st;
	uint64_t before;

	memset(table, 0, sizeof(table));
	before = stats().scav_sync;
	ok(gch_free_os_memory() == 0, "gch_free_os_memory");
	st = stats();
	ok(st.heap_resident == st.heap_inuse,
	   "no idle page keeps memory (resident %llu KiB, in use %llu KiB)",
	   (unsigned long long)(st.heap_resident >> 10), (unsigned long long)(st.heap_inuse >> 10));
	ok(st.scav_sync > before, "it was counted (%llu KiB)",
	   (unsigned long long)((st.scav_sync - before) >> 10));
}

int main(void)
{
	atexit(knob_restore);
	if (!ok(cg_enter(CGNAME, 1) == 0 && memcur() != UINT64_MAX,
		"the test runs in a cgroup of its own, memory accounted"))
		return tap_done();
	spike();
	memory_max();
	free_os_memory();
	return tap_done();
}
