// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The shrinker: under the system's memory pressure, idle heap pages go
 * back to the kernel at once. With the background scavenger off, a heap
 * is left holding 256 MiB of idle pages; a second process then allocates
 * anonymous memory (the guest has no swap) until the kernel reclaims.
 * The heap's stats must show the shrinker released the idle pages, the
 * module's idle count (/sys/class/misc/gcheap/pages_idle) must fall with
 * them, and the heap must work as before. Without a shrinker the second
 * process would run the guest out of memory instead.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gcheap.h"
#include "tap.h"
#include "knob.h"
#include "cgroup.h"

#define MiB		(1024 * 1024ULL)
#define OBJ		(64 * 1024)
#define NOBJ		(256 * MiB / OBJ)
#define IDLE		"/sys/class/misc/gcheap/pages_idle"
#define HELD		"/sys/class/misc/gcheap/pages_held"
#define STEP		(8 * MiB)

static void *table[NOBJ];

static uint64_t meminfo(const char *key)
{
	char line[128];
	uint64_t v = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			v = strtoull(line + strlen(key) + 1, NULL, 10) * 1024;
	fclose(f);
	return v;
}

/*
 * The second process: anonymous memory, touched, a step at a time, until
 * the heaps' idle memory is down to @stop pages, or it has taken @max
 * bytes. Exits 0 if the idle memory fell that far.
 */
static int hog(uint64_t stop, uint64_t max)
{
	uint64_t taken = 0;

	while (taken < max) {
		char *p = mmap(NULL, STEP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

		if (p == MAP_FAILED)
			return 2;
		memset(p, 1, STEP);
		taken += STEP;
		if (read_u64(IDLE) <= stop) {
			printf("# hog: took %llu MiB, idle now %llu pages\n",
			       (unsigned long long)(taken / MiB), (unsigned long long)read_u64(IDLE));
			return 0;
		}
	}
	return 1;
}

int main(void)
{
	uint64_t idle0, idle1, free0, free1, avail;
	struct gch_stats st0, st1;
	unsigned int i, filled = 0, again = 0;
	int status = -1;
	pid_t pid;

	atexit(knob_restore);
	if (!ok(knob_set("scavenge_percent", "0") == 0, "background scavenger off"))
		return tap_done();
	for (i = 0; i < NOBJ; i++) {
		table[i] = gch_alloc_noscan(OBJ);
		if (!table[i])
			break;
		filled++;
	}
	ok(filled == NOBJ, "256 MiB live (%u of %u)", filled, (unsigned int)NOBJ);
	memset(table, 0, sizeof(table));
	ok(gch_collect() == 0, "dropped and collected");
	gch_stats(&st0);
	idle0 = read_u64(IDLE);
	free0 = meminfo("MemFree");
	tap_diag("before: heap idle %llu MiB, released %llu MiB; module idle %llu pages, held %llu pages; MemFree %llu MiB",
		 (unsigned long long)((st0.heap_idle - st0.heap_released) / MiB),
		 (unsigned long long)(st0.heap_released / MiB), (unsigned long long)idle0,
		 (unsigned long long)read_u64(HELD), (unsigned long long)(free0 / MiB));
	if (!ok(idle0 != UINT64_MAX && idle0 * 4096 >= 200 * MiB,
		"the module counts the idle pages (%llu)", (unsigned long long)idle0))
		return tap_done();

	/*
	 * The kernel does not count idle heap pages as available: a process
	 * taking all that is available, and the idle pages' worth on top, is
	 * fed by the shrinker (or, without one, killed for want of memory).
	 */
	avail = meminfo("MemAvailable") + idle0 * 4096;
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(hog(idle0 / 4, avail));
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		status = -1;
	idle1 = read_u64(IDLE);
	free1 = meminfo("MemFree");
	gch_stats(&st1);
	tap_diag("after: heap idle %llu MiB, released %llu MiB, by the shrinker %llu MiB; module idle %llu pages; MemFree %llu MiB (hog gone)",
		 (unsigned long long)((st1.heap_idle - st1.heap_released) / MiB),
		 (unsigned long long)(st1.heap_released / MiB),
		 (unsigned long long)(st1.scav_shrinker / MiB), (unsigned long long)idle1,
		 (unsigned long long)(free1 / MiB));
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "memory pressure made the idle pages go (hog exit %d)",
	   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	ok(st1.scav_shrinker >= 128 * MiB, "the shrinker released %llu MiB of the heap's",
	   (unsigned long long)(st1.scav_shrinker / MiB));
	ok(st1.heap_released - st0.heap_released >= st1.scav_shrinker - st0.scav_shrinker,
	   "heap_released grew by as much");
	ok(st1.scav_background == st0.scav_background, "none of it by the background scavenger");
	for (i = 0; i < NOBJ / 4; i++)
		again += (table[i] = gch_alloc_noscan(OBJ)) != NULL;
	ok(again == NOBJ / 4, "the heap allocates again (%u of %u)", again, (unsigned int)(NOBJ / 4));
	return tap_done();
}
