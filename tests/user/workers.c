// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The heap's kernel threads (kmod/workers.c) are the owner's: made when a
 * cycle first needs them, in the cgroup of the process that owns the heap
 * (so their CPU time and allocations are charged to it, not to the root),
 * and gone when the heap closes.
 *
 * The test moves itself into a cgroup of its own (cgroup v2, mounted here
 * if the guest has not), forks children that each open a heap, collect
 * with two workers and report which cgroup each of their heap's threads
 * is in, then exit; the parent checks that none of those threads outlives
 * its heap; and that max_heap_threads bounds them all.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gcheap.h"
#include "knob.h"
#include "tap.h"
#include "cgroup.h"

#define CGNAME	"gcheap-workers-test"

/* The heap threads of @tgid: how many, and how many are in cgroup @want. */
static void count_threads(pid_t tgid, const char *want, int *n, int *in_cg)
{
	char prefix[32], path[300], buf[256];
	struct dirent *de;
	DIR *d = opendir("/proc");

	*n = *in_cg = 0;
	if (!d)
		return;
	snprintf(prefix, sizeof(prefix), "gcheap/%d:", (int)tgid);
	while ((de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		if (read_line(path, buf, sizeof(buf)) || strncmp(buf, prefix, strlen(prefix)))
			continue;
		(*n)++;
		snprintf(path, sizeof(path), "/proc/%s/cgroup", de->d_name);
		if (!read_line(path, buf, sizeof(buf)) && !strcmp(buf, want))
			(*in_cg)++;
	}
	closedir(d);
}

/* A child: open a heap, collect, report its threads through the exit code. */
static int child(const char *want)
{
	int n, in_cg, i;

	if (gch_init(NULL) < 0)
		return 100;
	for (i = 0; i < 3; i++) {
		if (!gch_alloc(64))
			return 101;
		if (gch_collect() < 0)
			return 102;
	}
	count_threads(getpid(), want, &n, &in_cg);
	if (n == 0)
		return 103;
	return n == in_cg ? 0 : 104;
}

/* Every heap thread in the system. */
static int count_all(void)
{
	char path[300], buf[64];
	struct dirent *de;
	DIR *d = opendir("/proc");
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		n += !read_line(path, buf, sizeof(buf)) && !strncmp(buf, "gcheap/", 7);
	}
	closedir(d);
	return n;
}

/*
 * max_heap_threads bounds the threads of all heaps together: two heaps
 * open at once with a cap of 1 have one thread between them, and both
 * collect all the same.
 */
static void test_cap(void)
{
	int ready[2], go[2], status, i, n, good = 0;
	pid_t pids[2];
	char c;

	if (!ok(knob_set("max_heap_threads", "1") == 0 && pipe(ready) == 0 && pipe(go) == 0,
		"max_heap_threads set to 1"))
		return;
	for (i = 0; i < 2; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			int ret = 0;

			close(go[1]);
			if (gch_init(NULL) < 0 || !gch_alloc(64) || gch_collect() < 0 ||
			    gch_collect() < 0)
				ret = 1;
			if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 0)
				ret = 1;
			_exit(ret);
		}
	}
	close(go[0]);
	for (i = 0; i < 2; i++)
		if (read(ready[0], &c, 1) != 1)
			break;
	n = count_all();
	close(go[1]);
	for (i = 0; i < 2; i++)
		good += pids[i] > 0 && waitpid(pids[i], &status, 0) == pids[i] &&
			WIFEXITED(status) && WEXITSTATUS(status) == 0;
	ok(n == 1, "two heaps with a cap of 1 have 1 thread between them (%d)", n);
	ok(good == 2, "both collect all the same (%d of 2)", good);
	ok(count_all() == 0, "none is left once they are gone");
	close(ready[0]);
	close(ready[1]);
}

int main(void)
{
	char want[64];
	int status, i, n, in_cg;
	pid_t pid;

	atexit(knob_restore);
	/* Two workers per cycle: the collector and one helper thread. */
	if (!ok(knob_set("gc_workers", "2") == 0, "gc_workers set to 2"))
		return tap_done();
	if (!ok(cg_enter(CGNAME, 0) == 0, "the test runs in a cgroup of its own"))
		return tap_done();
	snprintf(want, sizeof(want), "0::/%s", CGNAME);

	for (i = 0; i < 3; i++) {
		pid = fork();
		if (pid == 0)
			_exit(child(want));
		status = -1;
		if (pid < 0 || waitpid(pid, &status, 0) != pid)
			status = -1;
		ok(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		   "child %d: its heap's threads exist and are all in its cgroup (exit %d)",
		   i, status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		count_threads(pid, want, &n, &in_cg);
		ok(n == 0, "child %d: no thread of its heap outlives it (%d left)", i, n);
	}
	test_cap();
	return tap_done();
}
