// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Found by the fuzzer (issue 8 item 1; not fixed on the tree it was found
 * on, so not built into build/tests): a process dies while one of its
 * threads, parked, still scans its stack for the collector. The collector's
 * wait for the scanners ends on the fatal signal, the cycle goes on and
 * frees the mark, and the parked thread keeps scanning into it:
 * "BUG: kernel NULL pointer dereference" in gcheap_scan_words (6.1) or
 * "BUG: KASAN: use-after-free in gcheap_scan_words" (debug), from
 * gcheap_stw_park, then a hung guest.
 *
 * Each round forks a child: thread V attaches with its stack top at the
 * end of a 1 GiB unpopulated mapping and parks with all of it; the main
 * thread runs a collection; thread K kills the process after a delay
 * that grows with the round. The parent checks every child dies of the
 * SIGKILL; the kernel must report nothing (tests/vm/run).
 *
 * Build: make build/fuzz/repro-scan-after-kill
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "uapi/gcheap.h"
#include "tap.h"		/* tests/user/ */

#define BIG	(1UL << 30)

static int fd;
static uintptr_t big_lo, big_hi;
static const volatile struct gcheap_ctrl *ctrl;
static atomic_int attached;

static void stw_handler(int sig)
{
	struct gcheap_park req = { .size = sizeof(req) };

	(void)sig;
	if (!(ctrl->stw_seq & 1))
		return;
	req.stack.lo = big_lo;
	req.stack.hi = big_hi;
	ioctl(fd, GCHEAP_IOC_PARK, &req);
}

static void *victim(void *arg)
{
	struct gcheap_thread t = { .size = sizeof(t), .op = GCHEAP_THREAD_ATTACH };

	(void)arg;
	t.stack_hi = big_hi;
	if (ioctl(fd, GCHEAP_IOC_THREAD, &t))
		_exit(2);
	atomic_store(&attached, 1);
	for (;;)
		pause();
	return NULL;
}

static void *killer(void *arg)
{
	struct timespec ts = { 0, (long)(uintptr_t)arg };

	nanosleep(&ts, NULL);
	kill(getpid(), SIGKILL);
	return NULL;
}

static void child(long delay_ns)
{
	struct gcheap_info info = { .size = sizeof(info) };
	struct gcheap_gc gc = { .size = sizeof(gc), .flags = GCHEAP_GC_FORCE };
	pthread_t v, k;
	char *res;
	void *p;

	fd = open(GCHEAP_DEVICE, O_RDWR);
	if (fd < 0 || ioctl(fd, GCHEAP_IOC_INFO, &info))
		_exit(2);
	/* A collection needs a mapped heap: one chunk, aligned as the library does. */
	res = mmap(NULL, 2 * GCHEAP_CHUNK_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	res = (char *)(((uintptr_t)res + GCHEAP_CHUNK_SIZE - 1) & ~(GCHEAP_CHUNK_SIZE - 1));
	if (mmap(res, GCHEAP_CHUNK_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) ==
	    MAP_FAILED)
		_exit(2);
	ctrl = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, GCHEAP_CTRL_OFFSET);
	p = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (ctrl == MAP_FAILED || p == MAP_FAILED)
		_exit(2);
	big_lo = (uintptr_t)p;
	big_hi = big_lo + BIG;
	signal(info.stw_signal, stw_handler);
	pthread_create(&v, NULL, victim, NULL);
	while (!atomic_load(&attached))
		sched_yield();
	pthread_create(&k, NULL, killer, (void *)(uintptr_t)delay_ns);
	ioctl(fd, GCHEAP_IOC_GC, &gc);
	for (;;)
		pause();
}

int main(void)
{
	int i, st, killed = 0, other = 0;

	for (i = 0; i < 20; i++) {
		pid_t pid = fork();

		if (pid == 0)
			child(i * 5L * 1000 * 1000);
		if (pid < 0 || waitpid(pid, &st, 0) != pid)
			break;
		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
			killed++;
		else if (!other++)
			tap_diag("round %d: status %#x", i, st);
	}
	ok(killed == 20, "20 processes killed while a parked thread scans 1 GiB (%d were)", killed);
	return tap_done();
}
