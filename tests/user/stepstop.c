// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A stop on any instruction of the allocator's fast path loses nothing.
 * At each stop a thread's cache reports which of its slots are still free
 * (mcache.c), and every other slot becomes an object the cycle judges: a
 * slot the allocator has taken must be reachable (its address in a
 * register the stop scans) from the moment it leaves the free set, or the
 * cycle frees the object the program is about to get.
 *
 * Timing cannot aim a signal at one instruction (under emulation it only
 * ever lands between translated blocks), so a tracer does. The child
 * allocates and frees one object at a time while another of its threads
 * collects without pause; the parent traces the allocating thread and
 * holds back each stop signal until that thread has stepped k
 * instructions past the entry of gch_mcache_alloc, for k = 0, 1, 2, ...,
 * well past the function's return, and only then lets the handler run.
 * Each object must still be the program's to free: an object the cycle
 * took is gone from the module's books, and gch_free says ENOENT.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gcheap.h"
#include "tap.h"

#define KMAX		64	/* instructions past the entry a stop is aimed at */
#define MAX_STEPS	20000	/* to reach the entry from anywhere in the loop */
#define NOBJ		(1 << 17)

/* In the bss, a root: every object allocated is kept until checked. */
static void *objs[NOBJ];

/* The library's allocator (userlib/mcache.c), for its address. */
void *gch_mcache_alloc(unsigned int spanclass);

static volatile long stop;	/* a word: the tracer pokes it */

static void *collector(void *arg)
{
	(void)arg;
	while (!stop)
		gch_collect();
	return NULL;
}

/* Free the first @n objects kept: how many were no longer the program's. */
static unsigned long free_all(unsigned int n)
{
	unsigned long lost = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		lost += gch_free(objs[i]) < 0;
		objs[i] = NULL;
	}
	return lost;
}

/*
 * The traced child: 0 if every object could be freed, else how many not
 * (max 100). Objects are kept, so each is a slot never handed out before:
 * no stale copy of its address on the stack can save it by chance.
 */
static int child(int go)
{
	unsigned long lost = 0, failed = 0;
	unsigned int n = 0;
	pthread_t t;
	char c;

	if (read(go, &c, 1) != 1 || gch_init(NULL) < 0)
		return 101;
	if (gch_pthread_create(&t, NULL, collector, NULL))
		return 102;
	/* Until the tracer has aimed every stop and says so (stop). */
	while (!stop) {
		if (n < NOBJ) {
			void *p = gch_alloc(48);

			if (!p)
				failed++;
			else
				objs[n++] = p;
		}
		/* Slowly: every stop must find objects to be taken. */
		sched_yield();
	}
	lost = free_all(n);
	pthread_join(t, NULL);
	if (failed)
		return 103;
	return lost > 100 ? 100 : (int)lost;
}

static long rip(pid_t pid)
{
	struct user_regs_struct regs;

	return ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0 ? -1 : (long)regs.rip;
}

/* One instruction; false if the thread did not come back from it stopped. */
static bool step(pid_t pid)
{
	int st;

	if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0) < 0 || waitpid(pid, &st, __WALL) != pid)
		return false;
	/* Another signal meanwhile is dropped: only the held stop signal matters. */
	return WIFSTOPPED(st);
}

/*
 * Whether the thread is about to call ioctl: it may block there (on the
 * cycle that waits for this very stop), so the handler runs before it
 * instead.
 */
static bool at_syscall(pid_t pid, long pc)
{
	struct user_regs_struct regs;
	long insn;

	errno = 0;
	insn = ptrace(PTRACE_PEEKTEXT, pid, pc, 0);
	return !errno && (insn & 0xffff) == 0x050f &&
	       ptrace(PTRACE_GETREGS, pid, 0, &regs) == 0 && regs.rax == SYS_ioctl;
}

/* Step to the allocator's entry, then @k instructions on (or to a system call). */
static bool aim(pid_t pid, long entry, int k)
{
	long pc;
	int n;

	for (n = 0; (pc = rip(pid)) != entry; n++)
		if (n == MAX_STEPS || at_syscall(pid, pc) || !step(pid))
			return false;
	while (k-- && !at_syscall(pid, rip(pid)))
		if (!step(pid))
			return false;
	return true;
}

/* Stopped on its way out of a system call the signal interrupted. */
static bool in_syscall(pid_t pid)
{
	struct user_regs_struct regs;

	return ptrace(PTRACE_GETREGS, pid, 0, &regs) == 0 && (long)regs.orig_rax >= 0;
}

static int stw_signal(void)
{
	FILE *f = fopen("/sys/module/gcheap/parameters/stw_signal", "r");
	int sig = 0;

	if (f) {
		if (fscanf(f, "%d", &sig) != 1)
			sig = 0;
		fclose(f);
	}
	return sig;
}

int main(void)
{
	long entry = (long)(uintptr_t)&gch_mcache_alloc;
	int go[2], sig, st = 0, k = 0, missed = 0, insys = 0, fwd;
	bool told = false;
	int stwsig = stw_signal();
	pid_t pid;

	if (!ok(stwsig > 0 && pipe(go) == 0, "the stop signal is %d", stwsig))
		return tap_done();
	pid = fork();
	if (pid == 0)
		_exit(child(go[0]));
	if (!ok(pid > 0 && ptrace(PTRACE_SEIZE, pid, 0, 0) == 0 && write(go[1], "g", 1) == 1,
		"the allocating thread is traced"))
		return tap_done();
	while (waitpid(pid, &st, __WALL) == pid && !WIFEXITED(st) && !WIFSIGNALED(st)) {
		sig = WIFSTOPPED(st) ? WSTOPSIG(st) : 0;
		fwd = sig == SIGTRAP || sig == SIGSTOP ? 0 : sig;
		if (sig == stwsig && k <= KMAX && in_syscall(pid)) {
			/* A restart would block on the cycle itself: let it park. */
			insys++;
		} else if (sig == stwsig && k <= KMAX) {
			/* The handler runs k instructions into the allocator. */
			if (!aim(pid, entry, k))
				missed++;
			k++;
		}
		/* Every offset aimed at: the child checks its objects and exits. */
		if (k > KMAX && !told)
			told = ptrace(PTRACE_POKEDATA, pid, &stop, 1) == 0;
		if (ptrace(PTRACE_CONT, pid, 0, fwd) < 0)
			break;
	}
	ok(k > KMAX && missed < k / 4,
	   "stops were aimed at %d instruction offsets (%d not reached; %d came in a system call)",
	   k, missed, insys);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "every object allocated under those stops was still the program's (exit %d)",
	   WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return tap_done();
}
