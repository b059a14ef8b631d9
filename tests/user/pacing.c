// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Pacing of a CONCURRENT heap. Background marking is held to the smallest
 * CPU share there is (gc_cpu_percent=1): two threads that allocate without
 * pause, replacing chains of a table that stays live, must then pay for
 * each cycle's mark with assists inside their refills, or the heap would
 * outgrow its goal many times over before a mark ends. So:
 *  - the heap never passes its goal by more than Go's 10 % hard-goal margin
 *    and the spans threads have in hand;
 *  - the cycles start by themselves, run by the library's collector thread
 *    (no thread of the test asks for one);
 *  - every chain reachable from the table stays intact throughout;
 *  - an idle heap gets a cycle once the forced-cycle period passes;
 *  - with GOGC off and a memory limit, cycles come by themselves and keep
 *    the heap's spans near the limit;
 *  - with a limit below the live heap, the collector does not run
 *    cycle after cycle (Go's CPU limiter): the program still gets through
 *    its allocations in a number of cycles of the order of allocated / live.
 *
 * GCHEAP_SOAK=1 allocates longer.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gcheap.h"
#include "tap.h"
#include "knob.h"

#define NTHREADS	2
#define NSLOTS		(32 * 1024)	/* chains in the table */
#define CHAIN		4		/* nodes per chain: 32 x 4 x 64 B = 8 MiB live */
#define SAMPLE_EVERY	256		/* chains between two looks at the stats */
#define MiB		(1024 * 1024ULL)
/* What a thread may hold beyond the goal: its cache's spans, a refill batch. */
#define SLACK		(NTHREADS * 2 * MiB)

struct node {
	struct node *next;
	uint64_t id;
	uint64_t pad[6];	/* 64 bytes: one size class */
};

static struct node **table;	/* a heap object, reached from this global */
static _Atomic uint64_t over_max;	/* largest heap_alloc - goal seen */
static _Atomic uint64_t goal_at_over, alloc_at_over;
static _Atomic unsigned int bad_chains, alloc_fail, stats_fail;

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A chain whose nodes carry @id, @id + 1, ...: built through the barrier. */
static struct node *chain_new(uint64_t id)
{
	struct node *head = NULL, *n;
	int k;

	for (k = CHAIN - 1; k >= 0; k--) {
		n = gch_alloc(sizeof(*n));
		if (!n) {
			atomic_fetch_add(&alloc_fail, 1);
			return head;
		}
		n->id = id + (uint64_t)k;
		GCH_STORE(n->next, head);
		head = n;
	}
	return head;
}

static bool chain_ok(const struct node *n)
{
	uint64_t id;
	int k;

	if (!n)
		return false;
	id = n->id;
	for (k = 0; k < CHAIN; k++, n = n->next)
		if (!n || n->id != id + (uint64_t)k || (id >> 32) >= NSLOTS)
			return false;
	return n == NULL;
}

static void sample(void)
{
	struct gch_stats st;
	uint64_t over, cur;

	if (gch_stats(&st) < 0) {
		atomic_fetch_add(&stats_fail, 1);
		return;
	}
	over = st.heap_alloc > st.next_gc ? st.heap_alloc - st.next_gc : 0;
	cur = atomic_load(&over_max);
	while (over > cur && !atomic_compare_exchange_weak(&over_max, &cur, over))
		;
	if (over > cur) {
		atomic_store(&goal_at_over, st.next_gc);
		atomic_store(&alloc_at_over, st.heap_alloc);
	}
}

struct worker {
	pthread_t tid;
	uint64_t rng, bytes, chains, checked;
	unsigned int idx;
};

static uint64_t per_thread_bytes;

static void *worker(void *arg)
{
	struct worker *w = arg;
	uint64_t gen = 1;

	while (w->bytes < per_thread_bytes) {
		uint64_t r = rng_next(&w->rng);
		size_t slot = (size_t)(r % NSLOTS);
		struct node *old = table[slot];

		/* What the slot held must still be whole when it is replaced. */
		if (!chain_ok(old))
			atomic_fetch_add(&bad_chains, 1);
		w->checked++;
		GCH_STORE(table[slot], chain_new((uint64_t)slot << 32 | (gen++ << 8 & 0xffffff00)));
		w->bytes += CHAIN * sizeof(struct node);
		if (++w->chains % SAMPLE_EVERY == 0)
			sample();
	}
	return NULL;
}

static bool collector_thread_running(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		char path[300], comm[32] = "";
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f))
			found = !strncmp(comm, "gcheap-gc", 9);
		fclose(f);
	}
	closedir(d);
	return found;
}

/* Allocate @bytes of garbage here; the largest heap_inuse seen, sampled. */
static uint64_t churn(uint64_t bytes)
{
	uint64_t done = 0, peak = 0;
	struct gch_stats st;

	while (done < bytes) {
		struct node *c = chain_new(0);

		(void)c;
		done += CHAIN * sizeof(struct node);
		if (done % MiB == 0 && gch_stats(&st) == 0 && st.heap_inuse > peak)
			peak = st.heap_inuse;
	}
	return peak;
}

static void limit_checks(void)
{
	struct gch_stats st0, st1;
	uint64_t old = 0, peak, limit = 24 * MiB;
	int gogc;

	ok(gch_set_memory_limit(0, NULL) < 0 && errno == EINVAL, "a limit of 0 bytes: EINVAL");
	if (!ok(gch_set_gogc(-1, &gogc) == 0 && gch_set_memory_limit(limit, &old) == 0 &&
		old == GCH_NO_LIMIT, "GOGC off, a 24 MiB memory limit (there was none)"))
		return;
	gch_stats(&st0);
	peak = churn(128 * MiB);
	gch_stats(&st1);
	ok(st1.num_gc - st0.num_gc >= 3,
	   "GOGC off, 8 MiB live, 128 MiB allocated: %llu cycles, all the limit's",
	   (unsigned long long)(st1.num_gc - st0.num_gc));
	ok(peak <= limit + limit / 4 + SLACK,
	   "the heap's spans stayed near the limit: peak heap_inuse %llu KiB (limit %llu KiB)",
	   (unsigned long long)peak >> 10, (unsigned long long)limit >> 10);

	/* The live table (8 MiB) over a 4 MiB limit. */
	if (!ok(gch_set_memory_limit(4 * MiB, &old) == 0 && old == limit, "a 4 MiB limit"))
		return;
	gch_stats(&st0);
	churn(128 * MiB);
	gch_stats(&st1);
	ok(st1.num_gc - st0.num_gc <= 2 * 128 / 8 + 16,
	   "live heap over the limit, 128 MiB allocated: %llu cycles, not one per refill",
	   (unsigned long long)(st1.num_gc - st0.num_gc));
	ok(gch_set_memory_limit(GCH_NO_LIMIT, NULL) == 0 && gch_set_gogc(gogc, NULL) == 0,
	   "limit and GOGC as they were");
}

int main(void)
{
	struct gch_options opts = { .flags = GCH_INIT_CONCURRENT };
	struct worker w[NTHREADS];
	struct gch_stats st0, st1, st2;
	unsigned int bad = 0, i;
	bool soak = getenv("GCHEAP_SOAK") != NULL;
	size_t s;
	int k;

	per_thread_bytes = (soak ? 1024 : 96) * MiB;
	if (!ok(knob_set("gc_cpu_percent", "1") == 0,
		"gc_cpu_percent set to 1: background marking at its smallest share"))
		return tap_done();
	setenv("GCHEAP_FORCEGC_PERIOD", "1", 1);
	if (!ok(gch_init(&opts) == 0, "gch_init (concurrent mode)"))
		return tap_done();
	ok(collector_thread_running(), "the library's collector thread (gcheap-gc) runs");

	table = gch_alloc(NSLOTS * sizeof(*table));
	if (!ok(table != NULL, "a table of %d chains", NSLOTS))
		return tap_done();
	for (s = 0; s < NSLOTS; s++)
		GCH_STORE(table[s], chain_new((uint64_t)s << 32));
	if (!ok(gch_stats(&st0) == 0, "gch_stats"))
		return tap_done();

	for (i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].idx = i;
		w[i].rng = 0x9ace0 + i;
		k = gch_pthread_create(&w[i].tid, NULL, worker, &w[i]);
		if (!ok(k == 0, "thread %u started", i))
			return tap_done();
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(w[i].tid, NULL);
	if (!ok(gch_stats(&st1) == 0, "gch_stats"))
		return tap_done();

	ok(atomic_load(&alloc_fail) == 0 && atomic_load(&stats_fail) == 0,
	   "%llu MiB allocated in 64-byte nodes, no allocation failed",
	   (unsigned long long)(NTHREADS * per_thread_bytes / MiB));
	ok(atomic_load(&bad_chains) == 0,
	   "every chain replaced was whole when replaced (%u were not)", atomic_load(&bad_chains));
	ok(st1.num_gc - st0.num_gc >= 3,
	   "%llu cycles started by themselves while the threads allocated (none asked for one)",
	   (unsigned long long)(st1.num_gc - st0.num_gc));
	ok(atomic_load(&over_max) <= atomic_load(&goal_at_over) / 10 + SLACK,
	   "the heap stayed within 10 %% of its goal + %llu MiB: at most %llu KiB over "
	   "(heap_alloc %llu KiB, goal %llu KiB)", SLACK / MiB,
	   (unsigned long long)atomic_load(&over_max) >> 10,
	   (unsigned long long)atomic_load(&alloc_at_over) >> 10,
	   (unsigned long long)atomic_load(&goal_at_over) >> 10);
	tap_diag("%llu cycles, longest pause %llu us, %llu MiB swept",
		 (unsigned long long)(st1.num_gc - st0.num_gc),
		 (unsigned long long)st1.pause_max_ns / 1000,
		 (unsigned long long)(st1.swept_bytes - st0.swept_bytes) / MiB);

	if (ok(gch_collect() == 0, "an explicit collection")) {
		for (s = 0; s < NSLOTS; s++)
			bad += !chain_ok(table[s]);
		ok(bad == 0, "all %d chains of the table intact after it (%u were not)", NSLOTS,
		   bad);
	}

	/* Idle: the forced-cycle period (1 s here) brings a cycle, an automatic one. */
	if (gch_stats(&st1) == 0) {
		for (k = 0; k < 600; k++) {
			struct timespec ts = { 0, 100 * 1000 * 1000 };

			nanosleep(&ts, NULL);
			if (gch_stats(&st2) == 0 && st2.num_gc > st1.num_gc)
				break;
		}
		ok(k < 600 && st2.num_forced_gc == st1.num_forced_gc,
		   "an idle heap got a cycle after GCHEAP_FORCEGC_PERIOD (not counted as forced)");
	}
	limit_checks();
	return tap_done();
}
