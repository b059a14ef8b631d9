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
 * world restarts. The park also hands over what the thread's write
 * barrier recorded since its last flush, and on return the thread rereads
 * whether the barrier is on (wbuf.c), and reports what the thread's cache
 * still has free (mcache.c). The handler writes nothing but its own
 * frame, the barrier buffer's count and the barrier flag, the cache's
 * report buffer and what it owns of its spans, reads initial-exec TLS
 * and what roots.c publishes for it, and saves errno: it is
 * async-signal-safe, so the thread may be stopped anywhere, even halfway
 * through an allocation or a barrier's record.
 *
 * Thread-local storage outside that range which the thread has not
 * registered as a root yet (roots.c) is copied onto the handler's frame,
 * below the request, so the park covers it too; at most what the stack
 * has room for. On another stack (a coroutine's, a sigaltstack: registered
 * roots, gch_stack_add) the handler scans the whole of the thread's own
 * stack, whose frames below the switch are live; gch_thread_set_stack
 * moves the thread's stack itself.
 *
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

#define GCH_HANDLER_MARGIN	(16 << 10)	/* stack the handler leaves free */
#define GCH_MAX_STACK		(1UL << 30)	/* what the module scans of one */

static GCH_TLS bool lo_unknown;	/* gch_thread_set_stack without a bottom */
static struct sigaction old_action;
static bool installed;

uintptr_t gch_stw_stack_hi(void)
{
	return stack_hi;
}

/*
 * The part of this thread's stack a scan from @sp must cover: [sp, hi) on
 * its own stack; all of it when @sp is on another stack (a coroutine's or
 * a sigaltstack, registered with gch_stack_add), whose caller's frames are
 * still live below hi. lo = hi = 0 for a thread that is not attached.
 */
void gch_stw_scan_range(uintptr_t sp, struct gcheap_stack *st)
{
	st->hi = stack_hi;
	if (!stack_hi)
		st->lo = 0;
	else if (sp >= stack_lo && sp < stack_hi)
		st->lo = sp;
	else	/* a stack whose bottom nobody told: nothing known to scan */
		st->lo = lo_unknown ? stack_hi : stack_lo;
}

/*
 * The calling thread runs on [lo, hi) from now on (lo 0: unknown, at most
 * GCH_MAX_STACK below hi). The module learns the new top by attaching
 * again; the stop signal is held meanwhile, or a park between its update
 * and ours would pass the old top and be refused.
 */
int gch_stw_set_stack(uintptr_t lo, uintptr_t hi)
{
	struct gcheap_thread req = {
		.size = sizeof(req), .op = GCHEAP_THREAD_ATTACH, .stack_hi = hi,
	};
	bool unknown = !lo;
	sigset_t set, old;
	int ret;

	if (!stack_hi) {
		errno = EPERM;
		return -1;
	}
	if (unknown)
		lo = hi > GCH_MAX_STACK ? hi - GCH_MAX_STACK : 0;
	if (lo >= hi || hi - lo > GCH_MAX_STACK) {
		errno = EINVAL;
		return -1;
	}
	sigemptyset(&set);
	sigaddset(&set, gch_heap.stw_signal);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	ret = ioctl(gch_heap.fd, GCHEAP_IOC_THREAD, &req);
	if (!ret) {
		lo_unknown = unknown;
		stack_lo = lo;
		stack_hi = hi;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret < 0)
		return -1;
	/* Static TLS in the stack left behind is no longer scanned with it. */
	return gch_stw_tls_register();
}

/* Register this thread's TLS outside its stack as roots (roots.c). */
int gch_stw_tls_register(void)
{
	return stack_hi ? gch_tls_register(stack_lo, stack_hi) : 0;
}

/* Park with @tls bytes of unregistered TLS copied below the request. */
static __attribute__((noinline)) void park(const ucontext_t *uc, size_t tls)
{
	uint64_t copy[tls / 8 + 1];
	struct gcheap_cache_report cache;
	struct gcheap_park req;
	uintptr_t lo;
	int ret;

	gch_tls_copy(copy, tls, stack_lo, stack_hi);
	memset(&req, 0, sizeof(req));
	req.size = sizeof(req);
	memcpy(req.stack.regs, &uc->uc_mcontext,
	       sizeof(uc->uc_mcontext) < sizeof(req.stack.regs) ?
	       sizeof(uc->uc_mcontext) : sizeof(req.stack.regs));
	lo = (uintptr_t)&req < (uintptr_t)copy ? (uintptr_t)&req : (uintptr_t)copy;
	gch_stw_scan_range(lo, &req.stack);
	/* What the write barrier recorded since its last flush (wbuf.c). */
	gch_wb_park_words(&req.wb_ptrs, &req.wb_count);
	/* What the cache still has free, for a cycle's first stop (mcache.c). */
	if (gch_mcache_report(&cache))
		req.cache = (uintptr_t)&cache;
	ret = ioctl(gch_heap.fd, GCHEAP_IOC_PARK, &req);
	/*
	 * A report refused (a bug, no memory for it, a module that predates
	 * reports: E2BIG) must not keep the thread from stopping.
	 */
	if (ret < 0 && errno != EINTR && req.cache) {
		req.cache = 0;
		ret = ioctl(gch_heap.fd, GCHEAP_IOC_PARK, &req);
	}
	if (req.cache)
		gch_mcache_reported(&cache);
	/* The barrier may have been turned on or off while parked. */
	gch_wb_parked(ret == 0);
	/* EINTR: a fatal signal, the process is going. */
	if (ret < 0 && errno != EINTR &&
	    __atomic_fetch_add(&park_failures, 1, __ATOMIC_RELAXED) == 0) {
		static const char msg[] =
			"gcheap: a thread could not stop for a collection (GCHEAP_IOC_PARK failed)\n";

		/* Nowhere else to say it if this fails. */
		ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);

		(void)n;
	}
}

static void stw_handler(int sig, siginfo_t *si, void *uctx)
{
	int saved_errno = errno;
	uintptr_t sp = (uintptr_t)&saved_errno;
	size_t tls = 0;

	(void)sig;
	(void)si;
	/* Another sender's signal, or a stop that is over: nothing to do. */
	if (!gch_heap.ctrl || !(gch_heap.ctrl->stw_seq & 1) || !stack_hi)
		return;
	/* On another stack the copy would be on no scanned range. */
	if (sp >= stack_lo + GCH_HANDLER_MARGIN && sp < stack_hi) {
		tls = gch_tls_copy(NULL, 0, stack_lo, stack_hi);
		if (tls > sp - stack_lo - GCH_HANDLER_MARGIN)
			tls = sp - stack_lo - GCH_HANDLER_MARGIN;
	}
	park(uctx, tls);
	errno = saved_errno;
}

int gch_stw_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = stw_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);
	/* A forked child installs again: what it found first is the parent's. */
	if (sigaction(gch_heap.stw_signal, &sa, installed ? NULL : &old_action) < 0)
		return -1;
	installed = true;
	return 0;
}

/* A heap that failed to open leaves the signal as it found it. */
void gch_stw_uninstall(void)
{
	if (installed)
		sigaction(gch_heap.stw_signal, &old_action, NULL);
	installed = false;
}

/* A forked child: the thread is attached to no heap, and no ioctl says so. */
void gch_stw_forked(void)
{
	stack_hi = 0;
	gch_wb_forked();
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
	lo_unknown = false;
	if (ioctl(gch_heap.fd, GCHEAP_IOC_THREAD, &req) < 0) {
		stack_hi = 0;
		return -1;
	}
	/* Attached, so any later change of the barrier waits for our park. */
	gch_wb_refresh();
	/* Best effort: the handler copies what is not registered. */
	gch_stw_tls_register();
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
	/* While still attached: the module takes flushes from attached threads only. */
	gch_wb_detach();
	gch_tls_unregister();
	/* Detached first: a stop signal before stack_hi is cleared must still park. */
	ret = ioctl(gch_heap.fd, GCHEAP_IOC_THREAD, &req);
	stack_hi = 0;
	return ret;
}
