// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The library's side of stopping the world: attaching threads to the heap,
 * and the stop signal's handler.
 *
 * The module stops the world by setting ctrl->stw_seq odd and sending the
 * heap's stw_signal to every attached thread. The handler runs on the
 * thread's own stack and parks it with GCHEAP_IOC_PARK, passing the range
 * from its own frame to the stack's top: that covers the registers the
 * kernel saved in the signal frame and everything the interrupted code
 * keeps on its stack. It also copies the saved registers into the request.
 * The module scans the range from inside the call and returns when the
 * world restarts. The handler touches nothing but its own frame and
 * initial-exec TLS, and saves errno: it is async-signal-safe, so the
 * thread may be stopped anywhere, even halfway through an allocation.
 * A park the module refuses (a bug, or the heap's descriptor closed behind
 * the library's back) leaves the thread running: the stop then times out
 * with nothing freed, so the heap is safe, but every collection would fail
 * unexplained. The handler counts it (gch_stats' park_failures) and says
 * so once on stderr.
 *
 * SA_RESTART makes system calls the signal interrupts restart (as libgc's
 * stop signal does, calls with a timeout such as poll() may still return
 * EINTR). All other signals are blocked while a thread is parked.
 *
 * An attached thread must be stoppable, or every stop times out: attaching
 * unblocks the stop signal (a new thread inherits its creator's mask, and
 * threads the library starts attach), and gch_pthread_sigmask, which the
 * libgc layer redirects pthread_sigmask and sigprocmask to, never blocks
 * it (libgc's GC_pthread_sigmask does the same for its signals).
 *
 * A thread in vfork's wait (posix_spawn, system, popen) takes the signal
 * only once its child has exec'd or exited: the stop waits for it like for
 * any thread, up to stw_timeout_ms. It is not treated as stopped, because
 * its callee-saved registers are in the kernel, not on its stack, and the
 * child runs in the same address space, on that very stack for vfork().
 * glibc's posix_spawn child execs at once, on a stack of its own.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <ucontext.h>
#include <unistd.h>

#include "gcheap.h"
#include "internal.h"

static GCH_TLS uintptr_t stack_lo, stack_hi;
static uint64_t park_failures;

uint64_t gch_stw_park_failures(void)
{
	return __atomic_load_n(&park_failures, __ATOMIC_RELAXED);
}

uintptr_t gch_stw_stack_hi(void)
{
	return stack_hi;
}

static void stw_handler(int sig, siginfo_t *si, void *uctx)
{
	struct gcheap_park req;
	const ucontext_t *uc = uctx;
	int saved_errno = errno;
	uintptr_t lo = (uintptr_t)&req;

	(void)sig;
	(void)si;
	/* Another sender's signal, or a stop that is over: nothing to do. */
	if (!gch_heap.ctrl || !(gch_heap.ctrl->stw_seq & 1) || !stack_hi)
		return;
	memset(&req, 0, sizeof(req));
	req.size = sizeof(req);
	memcpy(req.stack.regs, &uc->uc_mcontext,
	       sizeof(uc->uc_mcontext) < sizeof(req.stack.regs) ?
	       sizeof(uc->uc_mcontext) : sizeof(req.stack.regs));
	/*
	 * On an alternate signal stack our frame is not on the thread's stack:
	 * scan all of it then (what is not mapped the module skips).
	 */
	if (lo < stack_lo || lo >= stack_hi)
		lo = stack_lo;
	req.stack.lo = lo;
	req.stack.hi = stack_hi;
	/* EINTR: a fatal signal, the process is going. */
	if (ioctl(gch_heap.fd, GCHEAP_IOC_PARK, &req) < 0 && errno != EINTR &&
	    __atomic_fetch_add(&park_failures, 1, __ATOMIC_RELAXED) == 0) {
		static const char msg[] =
			"gcheap: a thread could not stop for a collection (GCHEAP_IOC_PARK failed)\n";

		/* Nowhere else to say it if this fails. */
		ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);

		(void)n;
	}
	errno = saved_errno;
}

int gch_stw_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = stw_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);
	return sigaction(gch_heap.stw_signal, &sa, NULL);
}

/* Tell the module about the calling thread and where its stack ends. */
int gch_stw_attach(void)
{
	struct gcheap_thread req = { .size = sizeof(req), .op = GCHEAP_THREAD_ATTACH };
	pthread_attr_t attr;
	sigset_t stop;
	size_t size;
	void *addr;
	int err;

	err = pthread_getattr_np(pthread_self(), &attr);
	if (err) {
		errno = err;
		return -1;
	}
	err = pthread_attr_getstack(&attr, &addr, &size);
	pthread_attr_destroy(&attr);
	if (err) {
		errno = err;
		return -1;
	}
	req.stack_hi = (uintptr_t)addr + size;
	sigemptyset(&stop);
	sigaddset(&stop, gch_heap.stw_signal);
	pthread_sigmask(SIG_UNBLOCK, &stop, NULL);
	/*
	 * Known before the module counts the thread in: attaching during a stop
	 * signals the thread at once, and its handler needs them to park.
	 */
	stack_lo = (uintptr_t)addr;
	stack_hi = req.stack_hi;
	if (ioctl(gch_heap.fd, GCHEAP_IOC_THREAD, &req) < 0) {
		stack_hi = 0;
		return -1;
	}
	return 0;
}

int gch_pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	int sig = __atomic_load_n(&gch_heap.stw_signal, __ATOMIC_RELAXED);
	sigset_t copy;

	/* Before the heap opens the signal is not known: attach unblocks it. */
	if (set && sig > 0 && (how == SIG_BLOCK || how == SIG_SETMASK) &&
	    sigismember(set, sig) == 1) {
		copy = *set;
		sigdelset(&copy, sig);
		set = &copy;
	}
	return pthread_sigmask(how, set, old);
}

int gch_stw_detach(void)
{
	struct gcheap_thread req = { .size = sizeof(req), .op = GCHEAP_THREAD_DETACH };

	int ret;

	if (!stack_hi)
		return 0;
	/* Detached first: a stop signal before stack_hi is cleared must still park. */
	ret = ioctl(gch_heap.fd, GCHEAP_IOC_THREAD, &req);
	stack_hi = 0;
	return ret;
}
