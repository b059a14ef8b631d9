// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The gcheap:* tracepoints, through tracefs as perf and trace-cmd use
 * them: each event exists with its format; with all of them enabled, a
 * known workload (two collections, a drop, gch_free_os_memory) leaves
 * the events it must, with this process's tgid and fields that agree:
 * cycle numbers in order, one gc_end and one mark_done per gc_start, as
 * many stw_end as stw_begin with a nonzero duration, the background
 * sweeper's sweep_done, and a synchronous scavenge of the pages dropped.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#include "gcheap.h"
#include "tap.h"
#include "cgroup.h"

#define TRACEFS	"/sys/kernel/tracing"
#define NOBJ	128

static const char *const events[] = {
	"gc_start", "gc_end", "stw_begin", "stw_end", "mark_done", "sweep_done",
	"scavenge", "shrink", "assist",
};

static void *objs[NOBJ];

/* The value of "key=" in @line, or -1. */
static long long field(const char *line, const char *key)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

int main(void)
{
	char path[256], line[512];
	unsigned int i, nfmt = 0, starts = 0, ends = 0, marks = 0, begins = 0, stw_ends = 0;
	unsigned int sweeps = 0, scav_sync = 0, order_bad = 0, tgid_bad = 0, dur_bad = 0;
	long long last_start = 0, last_end = 0, pid = getpid();
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	FILE *f;

	if (mount("nodev", TRACEFS, "tracefs", 0, NULL) < 0 && access(TRACEFS "/trace", F_OK))
		tap_diag("mount tracefs failed");
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		snprintf(path, sizeof(path), TRACEFS "/events/gcheap/%s/format", events[i]);
		nfmt += access(path, R_OK) == 0;
	}
	if (!ok(nfmt == sizeof(events) / sizeof(events[0]), "all %u gcheap events exist (%u)",
		(unsigned int)(sizeof(events) / sizeof(events[0])), nfmt))
		return tap_done();
	ok(write_file(TRACEFS "/trace", "") == 0 &&
	   write_file(TRACEFS "/events/gcheap/enable", "1") == 0, "events enabled");

	for (i = 0; i < NOBJ; i++)
		objs[i] = gch_alloc_noscan(64 * 1024);
	ok(gch_collect() == 0, "a collection with 8 MiB live");
	memset(objs, 0, sizeof(objs));
	ok(gch_collect() == 0, "a collection after dropping it");
	ok(gch_free_os_memory() == 0, "gch_free_os_memory");
	nanosleep(&ts, NULL);	/* the background sweeper */
	write_file(TRACEFS "/events/gcheap/enable", "0");

	f = fopen(TRACEFS "/trace", "r");
	if (!ok(f != NULL, "trace read"))
		return tap_done();
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || !strstr(line, " tgid="))
			continue;
		if (field(line, "tgid") != pid) {
			tgid_bad++;
			continue;
		}
		if (strstr(line, " gc_start: ")) {
			starts++;
			order_bad += field(line, "cycle") != last_start + 1 && last_start;
			last_start = field(line, "cycle");
		} else if (strstr(line, " gc_end: ")) {
			ends++;
			order_bad += field(line, "cycle") != last_start;
			last_end = field(line, "cycle");
		} else if (strstr(line, " mark_done: ")) {
			marks++;
		} else if (strstr(line, " stw_begin: ")) {
			begins++;
		} else if (strstr(line, " stw_end: ")) {
			stw_ends++;
			dur_bad += field(line, "duration_ns") <= 0;
		} else if (strstr(line, " sweep_done: ")) {
			sweeps++;
		} else if (strstr(line, " scavenge: ")) {
			scav_sync += field(line, "kind") == 1 && field(line, "pages") > 0;
		}
	}
	fclose(f);
	tap_diag("%u gc_start, %u gc_end, %u mark_done, %u stw_begin, %u stw_end, %u sweep_done, %u sync scavenges; %u lines of other processes",
		 starts, ends, marks, begins, stw_ends, sweeps, scav_sync, tgid_bad);
	ok(starts >= 2 && ends == starts && last_end == last_start && !order_bad,
	   "each cycle starts and ends once, in order (%u, %u)", starts, ends);
	ok(marks == ends, "a mark_done per cycle (%u)", marks);
	ok(begins >= starts && stw_ends == begins && !dur_bad,
	   "as many stw_end as stw_begin (%u, %u), each with a duration", begins, stw_ends);
	ok(sweeps >= 1, "the background sweeper's sweep_done (%u)", sweeps);
	ok(scav_sync >= 1, "gch_free_os_memory's scavenge, kind 1 (%u)", scav_sync);
	return tap_done();
}
