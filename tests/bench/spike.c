// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Memory through a spike: a live heap grows to 512 MiB (64 KiB pointer-free
 * objects held in a global table), is dropped and collected once, and the
 * program then allocates lightly (64 KiB of 1 KiB objects every 10 ms) for
 * SPIKE_SECONDS (30). Every 250 ms it prints the memory its cgroup is
 * charged (memory.current: every page a collector holds, mapped or not)
 * and its RSS; at the end one summary line for gcbench-report. Run each
 * implementation in a cgroup of its own (tests/bench/spike-run).
 *
 * Built for gcheap (its own API) and, with -DSPIKE_LIBGC, for libgc, whose
 * unmapping of free blocks GC_UNMAP_THRESHOLD sets (0: never). spike.go is
 * the same program in Go.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef SPIKE_LIBGC
#include <gc.h>
#define ALLOC_DATA(n)	GC_MALLOC_ATOMIC(n)
#define ALLOC_OBJ(n)	GC_MALLOC(n)
#define COLLECT()	GC_gcollect()
static const char *impl(void)
{
	const char *t = getenv("GC_UNMAP_THRESHOLD");

	return t && !strcmp(t, "0") ? "libgc-nounmap" : "libgc";
}
#else
#include "gcheap.h"
#define ALLOC_DATA(n)	gch_alloc_noscan(n)
#define ALLOC_OBJ(n)	gch_alloc(n)
#define COLLECT()	gch_collect()
static const char *impl(void)
{
	return "gcheap";
}
#endif

#define KiB	1024ULL
#define MiB	(1024 * KiB)
#define OBJ	(64 * KiB)
#define NOBJ	(512 * MiB / OBJ)

static void *table[NOBJ];
static void *volatile sink;
static char cgfile[512];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t read_num(const char *path, const char *key)
{
	char line[256];
	uint64_t v = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!key) {
			v = strtoull(line, NULL, 10);
			break;
		}
		if (!strncmp(line, key, strlen(key))) {
			v = strtoull(line + strlen(key), NULL, 10) * KiB;
			break;
		}
	}
	fclose(f);
	return v;
}

/* memory.current of the cgroup this process is in. */
static void find_cgroup(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/cgroup", "r");

	if (f && fgets(line, sizeof(line), f) && !strncmp(line, "0::", 3)) {
		line[strcspn(line, "\n")] = 0;
		snprintf(cgfile, sizeof(cgfile), "/sys/fs/cgroup%s/memory.current", line + 3);
	}
	if (f)
		fclose(f);
}

static uint64_t mem(void)
{
	return cgfile[0] ? read_num(cgfile, NULL) : 0;
}

static uint64_t rss(void)
{
	return read_num("/proc/self/status", "VmRSS:");
}

int main(void)
{
	const char *s = getenv("SPIKE_SECONDS");
	double seconds = s ? atof(s) : 30, t0, t, next = 0;
	uint64_t base, peak = 0, m, at[4] = { 0 }, settle_ms = 0;
	const double marks[4] = { 1, 5, 10, 30 };
	unsigned int i, k;

#ifdef SPIKE_LIBGC
	GC_INIT();
#endif
	find_cgroup();
	base = mem();
	for (i = 0; i < NOBJ; i++) {
		table[i] = ALLOC_DATA(OBJ);
		if (!table[i]) {
			fprintf(stderr, "spike: allocation failed at %u\n", i);
			return 1;
		}
		memset(table[i], 1, 64);
	}
	peak = mem() - base;
	printf("# spike %s: 512 MiB live, memory %llu MiB, RSS %llu MiB\n", impl(),
	       (unsigned long long)(peak / MiB), (unsigned long long)(rss() / MiB));
	memset(table, 0, sizeof(table));
	COLLECT();
	t0 = now();
	while ((t = now() - t0) < seconds) {
		for (k = 0; k < 64; k++)
			sink = ALLOC_OBJ(1024);
		if (t >= next) {
			m = mem() - base;
			peak = m > peak ? m : peak;
			printf("spike-sample impl=%s t_ms=%.0f mem_kib=%llu rss_kib=%llu\n", impl(),
			       t * 1000, (unsigned long long)(m / KiB),
			       (unsigned long long)(rss() / KiB));
			for (k = 0; k < 4; k++)
				if (!at[k] && t >= marks[k])
					at[k] = m;
			if (!settle_ms && m <= 64 * MiB)
				settle_ms = (uint64_t)(t * 1000);
			next += 0.25;
		}
		usleep(10000);
	}
	m = mem() - base;
	for (k = 0; k < 4; k++)
		if (!at[k])
			at[k] = m;
	printf("spike impl=%s peak_mib=%llu at1s_mib=%llu at5s_mib=%llu at10s_mib=%llu "
	       "at30s_mib=%llu under64_ms=%lld\n", impl(), (unsigned long long)(peak / MiB),
	       (unsigned long long)(at[0] / MiB), (unsigned long long)(at[1] / MiB),
	       (unsigned long long)(at[2] / MiB), (unsigned long long)(at[3] / MiB),
	       settle_ms ? (long long)settle_ms : -1LL);
	return 0;
}
