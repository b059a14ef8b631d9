// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fork() from a program using the heap. The child gets a heap of its own
 * on first use, with the parent's registered root ranges registered again
 * (and its globals), a finalizer thread, uncollectable objects; and it
 * does not deadlock when other threads were creating threads, allocating
 * uncollectable objects or registering roots (each takes one of the
 * library's locks) at the moment of the fork.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "gcheap.h"
#include "gc.h"
#include "tap.h"

#define NOINLINE __attribute__((noinline))
#define FORKS 20

static void **table;		/* malloc'd, registered with gch_root_add */
static void **links;		/* malloc'd, not a root */
static volatile int finalized;
static volatile int stop;
static volatile sig_atomic_t stage;	/* how far a child got */

/* A child that hangs says where, rather than only that it timed out. */
static void child_alarm(int sig)
{
	char msg[] = "# fork child stuck at stage 0\n";

	(void)sig;
	msg[sizeof(msg) - 3] = (char)('0' + stage);
	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(99);
	_exit(100 + stage);
}

static NOINLINE void clear_stack(void)
{
	char buf[32768];

	memset(buf, 0, sizeof(buf));
	__asm__ __volatile__("" : : "r"(buf) : "memory");
}

static void fin(void *obj, void *arg)
{
	(void)obj;
	(void)arg;
	finalized = 1;
}

static NOINLINE int child_setup(void)
{
	void *o = gch_alloc(64), *f = gch_alloc(64);

	if (!o || !f)
		return -1;
	links[0] = o;	/* cleared by the collector if o dies */
	if (gch_register_link(&links[0], o) < 0 ||
	    gch_set_finalizer(f, fin, NULL) < 0)
		return -1;
	table[0] = o;
	return 0;
}

static void *nothing(void *arg)
{
	return arg;
}

/* Child: 0 if everything a child is promised works. */
static int child(void)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	void *uc;
	pthread_t t;
	int i;

	/* Generous: a deadlock fails the test rather than hanging it. */
	signal(SIGALRM, child_alarm);
	alarm(600);
	stage = 1;
	if (child_setup() < 0)
		return 2;
	stage = 2;
	if (gch_collect() < 0)
		return 3;
	clear_stack();
	if (gch_collect() < 0)
		return 3;
	if (!links[0] || links[0] != table[0])
		return 4;	/* the parent's root range is not a root */
	stage = 3;
	for (i = 0; !finalized; i++) {
		if (i % 100 == 0)
			gch_collect();
		nanosleep(&ts, NULL);
	}
	stage = 4;
	uc = GC_MALLOC_UNCOLLECTABLE(32);
	if (!uc)
		return 6;
	GC_FREE(uc);
	stage = 5;
	if (gch_pthread_create(&t, NULL, nothing, NULL) || pthread_join(t, NULL))
		return 7;
	return 0;
}

static void *busy(void *arg)
{
	long kind = (long)arg;
	char range[64];

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		pthread_t t;
		void *p;

		switch (kind) {
		case 0:
			if (!gch_pthread_create(&t, NULL, nothing, NULL))
				pthread_join(t, NULL);
			break;
		case 1:
			p = GC_MALLOC_UNCOLLECTABLE(48);
			GC_FREE(p);
			break;
		case 2:
			if (!gch_root_add(range, range + sizeof(range)))
				gch_root_remove(range, range + sizeof(range));
			break;
		}
	}
	return NULL;
}

int main(void)
{
	pthread_t busy_t[3];
	int i, bad = 0, st = 0, last = 0;
	long k;

	GC_INIT();
	table = calloc(4, sizeof(*table));
	links = calloc(4, sizeof(*links));
	if (!table || !links || gch_root_add(table, table + 4) < 0) {
		perror("fork: setup");
		return 1;
	}
	for (i = 0; i < FORKS; i++) {
		pid_t pid;

		if (i == 1)
			for (k = 0; k < 3; k++)
				gch_pthread_create(&busy_t[k], NULL, busy, (void *)k);
		pid = fork();
		if (pid == 0)
			_exit(child());
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st)) {
			bad++;
			last = st;
		}
		if (i == 0)
			ok(pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
			   "a child allocates, keeps an object in the parent's root range, "
			   "runs a finalizer (status %#x)", st);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (k = 0; k < 3; k++)
		pthread_join(busy_t[k], NULL);
	ok(bad == 0, "%d children forked beside threads taking the library's locks all work "
	   "(%d failed, last status %#x)", FORKS - 1, bad, last);
	ok(gch_collect() == 0, "the parent still collects");
	return tap_done();
}
