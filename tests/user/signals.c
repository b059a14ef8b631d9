// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Signal masks, thread creation and stopping the world: threads the library
 * starts or attaches are stoppable whatever mask they inherited; a thread
 * that blocks the stop signal through gch_pthread_sigmask stays stoppable;
 * one that blocks it behind the library's back makes a stop time out, but
 * allocation on other threads does not retry (and stall) at every refill;
 * system() beside a collecting thread; a thread in vfork's wait delays a
 * stop (it cannot park until the child execs or exits); a
 * gch_pthread_create whose new thread cannot attach returns the error; a
 * park the module refuses is counted and reported, not ignored.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "gcheap.h"
#include "uapi/gcheap.h"
#include "tap.h"

#define NOINLINE __attribute__((noinline))

struct node {
	struct node *next;
	unsigned long value;
};

static struct node *roots[4];
static void *live[256];		/* the backoff test's live set */
static int stop_sig;

/*
 * Fail big calloc()s while set: the thread cache is one, so a new thread's
 * attach fails with ENOMEM (glibc's own callocs here are small).
 */
extern void *__libc_calloc(size_t n, size_t size);
static volatile int fail_big_calloc;

void *calloc(size_t n, size_t size)
{
	if (fail_big_calloc && n && size >= 16384 / n) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_calloc(n, size);
}

/* The library's ioctls, with GCHEAP_IOC_PARK refused while fail_park is set. */
static volatile int fail_park;

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fail_park && req == GCHEAP_IOC_PARK) {
		errno = EINVAL;
		return -1;
	}
	return (int)syscall(SYS_ioctl, fd, req, arg);
}

static struct gch_stats stats(void)
{
	struct gch_stats st;

	if (gch_stats(&st) < 0)
		memset(&st, 0xff, sizeof(st));
	return st;
}

static int write_param(const char *name, const char *value, char *old, size_t oldlen)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/gcheap/parameters/%s", name);
	f = fopen(path, "r+");
	if (!f)
		return -1;
	if (old && !fgets(old, (int)oldlen, f)) {
		fclose(f);
		return -1;
	}
	rewind(f);
	fputs(value, f);
	return fclose(f);
}

static NOINLINE struct node *make_list(unsigned long n)
{
	struct node *head = NULL, *p;
	unsigned long i;

	for (i = 0; i < n; i++) {
		p = gch_alloc(sizeof(*p));
		if (!p)
			return NULL;
		p->next = head;
		p->value = i;
		head = p;
	}
	return head;
}

static unsigned long list_bad(const struct node *p, unsigned long n)
{
	unsigned long bad = 0;

	while (n--) {
		if (!p || p->value != n)
			return bad + 1 + n;
		p = p->next;
	}
	return bad;
}

static bool stop_blocked(void)
{
	sigset_t cur;

	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	return sigismember(&cur, stop_sig);
}

static int quit;
static int started;
static int unblocked;	/* threads that found the stop signal unblocked */

static void wait_flag(int *flag, int val)
{
	while (__atomic_load_n(flag, __ATOMIC_SEQ_CST) < val)
		usleep(1000);
}

static void *idle_thread(void *arg)
{
	(void)arg;
	if (!stop_blocked())
		__atomic_fetch_add(&unblocked, 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&started, 1, __ATOMIC_SEQ_CST);
	wait_flag(&quit, 1);
	return NULL;
}

static void *attaching_thread(void *arg)
{
	if (gch_thread_attach() < 0)
		return NULL;
	return idle_thread(arg);
}

static void finalizer_fn(void *obj, void *arg)
{
	(void)obj;
	(void)arg;
}

/*
 * The collector is the main thread, which need not stop itself: it blocks
 * the stop signal, and every thread started now inherits that mask.
 */
static void test_inherited_mask(void)
{
	sigset_t set;
	pthread_t t1, t2;
	int r, err;

	started = 0;
	unblocked = 0;
	sigemptyset(&set);
	sigaddset(&set, stop_sig);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	r = gch_pthread_create(&t1, NULL, idle_thread, NULL);
	ok(r == 0, "gch_pthread_create from a thread that blocks the stop signal");
	wait_flag(&started, 1);
	ok(unblocked == 1, "its new thread has the stop signal unblocked");
	r = gch_collect();
	err = errno;
	ok(r == 0, "and it stops: a collection succeeds (%d, %s)", r, r ? strerror(err) : "");

	r = pthread_create(&t2, NULL, attaching_thread, NULL);
	ok(r == 0, "a plain pthread_create, inheriting the blocked mask");
	wait_flag(&started, 2);
	ok(unblocked == 2, "gch_thread_attach unblocks the stop signal");
	r = gch_collect();
	err = errno;
	ok(r == 0, "the attached thread stops (%d, %s)", r, r ? strerror(err) : "");

	ok(gch_set_finalizer(gch_alloc(16), finalizer_fn, NULL) == 0,
	   "a first finalizer starts the finalizer thread with the mask blocked");
	r = gch_collect();
	err = errno;
	ok(r == 0, "the finalizer thread stops (%d, %s)", r, r ? strerror(err) : "");

	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	__atomic_store_n(&quit, 1, __ATOMIC_SEQ_CST);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	__atomic_store_n(&quit, 0, __ATOMIC_SEQ_CST);
}

static int lib_mask_ok;

static void *lib_mask_thread(void *arg)
{
	sigset_t all, cur;

	(void)arg;
	sigfillset(&all);
	if (gch_pthread_sigmask(SIG_BLOCK, &all, NULL) == 0) {
		pthread_sigmask(SIG_BLOCK, NULL, &cur);
		lib_mask_ok = sigismember(&cur, SIGUSR1) && !sigismember(&cur, stop_sig);
	}
	if (lib_mask_ok && gch_pthread_sigmask(SIG_SETMASK, &all, NULL) == 0) {
		pthread_sigmask(SIG_BLOCK, NULL, &cur);
		lib_mask_ok = sigismember(&cur, SIGUSR2) && !sigismember(&cur, stop_sig);
	} else {
		lib_mask_ok = 0;
	}
	__atomic_store_n(&started, 1, __ATOMIC_SEQ_CST);
	wait_flag(&quit, 1);
	gch_pthread_sigmask(SIG_UNBLOCK, &all, NULL);
	return NULL;
}

static void test_library_sigmask(void)
{
	sigset_t set;
	pthread_t t;
	int r, err;

	started = 0;
	r = gch_pthread_create(&t, NULL, lib_mask_thread, NULL);
	if (!ok(r == 0, "a thread that blocks every signal through gch_pthread_sigmask"))
		return;
	wait_flag(&started, 1);
	ok(lib_mask_ok, "SIG_BLOCK and SIG_SETMASK block all but the stop signal");
	r = gch_collect();
	err = errno;
	ok(r == 0, "the thread stops (%d, %s)", r, r ? strerror(err) : "");
	__atomic_store_n(&quit, 1, __ATOMIC_SEQ_CST);
	pthread_join(t, NULL);
	__atomic_store_n(&quit, 0, __ATOMIC_SEQ_CST);
	sigemptyset(&set);
	ok(gch_pthread_sigmask(12345, &set, NULL) == EINVAL,
	   "a bad 'how' is EINVAL, returned as pthread_sigmask does");
}

/* Blocks the stop signal with the raw system call: no library can see it. */
static void *deaf_thread(void *arg)
{
	uint64_t set = 1ULL << (stop_sig - 1);

	(void)arg;
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, sizeof(set));
	__atomic_store_n(&started, 1, __ATOMIC_SEQ_CST);
	wait_flag(&quit, 1);
	syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, NULL, sizeof(set));
	return NULL;
}

#define BACKOFF_ALLOCS	2000
#define BACKOFF_MAX	16	/* logarithmic in the allocations, with room */

static void test_backoff(void)
{
	struct gch_stats before, st;
	char old[32] = "";
	unsigned long i, n = 0, timeouts = 0;
	pthread_t t;
	int r;

	if (!ok(write_param("stw_timeout_ms", "50", old, sizeof(old)) == 0,
		"stw_timeout_ms set to 50"))
		return;
	started = 0;
	roots[0] = make_list(1000);
	if (!ok(gch_pthread_create(&t, NULL, deaf_thread, NULL) == 0,
		"a thread that blocks the stop signal with the raw system call"))
		goto out;
	wait_flag(&started, 1);
	before = stats();
	/* A live set past the goal keeps gc_wanted up: every allocation polls it. */
	for (i = 0; i < 256; i++) {
		st = stats();
		if (st.heap_alloc > st.next_gc + (1 << 20))
			break;
		live[i] = gch_alloc_noscan(64 << 10);
	}
	st = stats();
	ok(st.heap_alloc > st.next_gc, "the heap is past its goal: %llu of %llu KiB",
	   (unsigned long long)st.heap_alloc >> 10, (unsigned long long)st.next_gc >> 10);
	for (i = 0; i < BACKOFF_ALLOCS; i++) {
		void *p = gch_alloc_noscan(40000);

		if (p) {
			n++;
			gch_free(p);
		}
		/* Today's count is all we need to know it is too many. */
		if (i % 16 == 0 && stats().stw_timeouts - before.stw_timeouts > 4 * BACKOFF_MAX)
			break;
	}
	timeouts = stats().stw_timeouts - before.stw_timeouts;
	ok(n == i && i == BACKOFF_ALLOCS, "%lu of %d allocations succeeded", n, BACKOFF_ALLOCS);
	ok(timeouts >= 1 && timeouts <= BACKOFF_MAX,
	   "stops that timed out: %lu (at least one, at most %d)", timeouts, BACKOFF_MAX);
	__atomic_store_n(&quit, 1, __ATOMIC_SEQ_CST);
	pthread_join(t, NULL);
	__atomic_store_n(&quit, 0, __ATOMIC_SEQ_CST);
	r = gch_collect();
	ok(r == 0 && list_bad(roots[0], 1000) == 0,
	   "once the thread has gone, a collection succeeds and the heap is intact");
	memset(live, 0, sizeof(live));
	ok(gch_collect() == 0 && stats().heap_alloc < st.next_gc,
	   "with the live set gone the heap is back under its goal");
out:
	write_param("stw_timeout_ms", old, NULL, 0);
	roots[0] = NULL;
}

static int system_done, system_rc;

static void *system_thread(void *arg)
{
	(void)arg;
	system_rc = system("sleep 2");
	__atomic_store_n(&system_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* system() (posix_spawn: a vfork that execs at once) beside collections. */
static void test_system(void)
{
	unsigned long cycles = 0, failed = 0;
	pthread_t t;

	roots[1] = make_list(5000);
	if (!ok(gch_pthread_create(&t, NULL, system_thread, NULL) == 0,
		"a thread running system(\"sleep 2\")"))
		return;
	while (!__atomic_load_n(&system_done, __ATOMIC_SEQ_CST)) {
		if (gch_collect() < 0) {
			failed++;
			tap_diag("collection: %s", strerror(errno));
		}
		cycles++;
		make_list(2000);	/* garbage */
	}
	pthread_join(t, NULL);
	ok(WIFEXITED(system_rc) && WEXITSTATUS(system_rc) == 0, "system() returned 0 (%#x)",
	   system_rc);
	ok(cycles > 0 && failed == 0, "%lu collections beside it, %lu failed", cycles, failed);
	ok(list_bad(roots[1], 5000) == 0, "nothing live was lost");
	roots[1] = NULL;
}

static int vfork_state;

/* vfork() with a child that takes its time: the parent waits in the kernel. */
static void *vfork_thread(void *arg)
{
	pid_t pid;

	(void)arg;
	__atomic_store_n(&vfork_state, 1, __ATOMIC_SEQ_CST);
	pid = vfork();
	if (pid == 0) {
		/* Only system calls in the child: it runs on its parent's stack. */
		struct timespec ts = { .tv_nsec = 800 * 1000 * 1000 };

		syscall(SYS_nanosleep, &ts, NULL);
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	__atomic_store_n(&vfork_state, 2, __ATOMIC_SEQ_CST);
	return NULL;
}

/*
 * A thread in vfork's wait cannot park until its child execs or exits: the
 * stop waits for it like for any thread, up to stw_timeout_ms, and then is
 * abandoned with nothing freed.
 */
static void test_vfork_wait(void)
{
	char old[32] = "";
	pthread_t t;
	int r, err;

	if (!ok(write_param("stw_timeout_ms", "200", old, sizeof(old)) == 0,
		"stw_timeout_ms set to 200"))
		return;
	roots[2] = make_list(1000);
	if (!ok(gch_pthread_create(&t, NULL, vfork_thread, NULL) == 0, "a thread that vforks"))
		goto out;
	wait_flag(&vfork_state, 1);
	usleep(100 * 1000);	/* into the kernel's vfork wait */
	r = gch_collect();
	err = errno;
	ok((r == 0) || (r < 0 && err == ETIMEDOUT),
	   "a stop during the vfork either waits for it or times out (%d, %s)", r,
	   r ? strerror(err) : "");
	pthread_join(t, NULL);
	ok(gch_collect() == 0 && list_bad(roots[2], 1000) == 0,
	   "after the child exited, collection works, nothing lost");
out:
	write_param("stw_timeout_ms", old, NULL, 0);
	roots[2] = NULL;
}

static int attach_fail_ran;

static void *never_thread(void *arg)
{
	(void)arg;
	attach_fail_ran = 1;
	return NULL;
}

/* The new thread cannot attach: the creator gets the error, nothing aborts. */
static void test_attach_failure(void)
{
	unsigned int threads = stats().threads;
	pthread_attr_t attr;
	pthread_t t;
	int r;

	fail_big_calloc = 1;
	r = gch_pthread_create(&t, NULL, never_thread, NULL);
	fail_big_calloc = 0;
	ok(r == ENOMEM && !attach_fail_ran,
	   "attaching fails: gch_pthread_create returns ENOMEM (%d), the routine never runs", r);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	fail_big_calloc = 1;
	r = gch_pthread_create(&t, &attr, never_thread, NULL);
	fail_big_calloc = 0;
	pthread_attr_destroy(&attr);
	ok(r == ENOMEM && !attach_fail_ran, "likewise for a detached thread (%d)", r);
	ok(stats().threads == threads, "no thread left attached");
	r = gch_pthread_create(&t, NULL, never_thread, NULL);
	ok(r == 0 && pthread_join(t, NULL) == 0 && attach_fail_ran, "the next one starts");
}

/* A thread whose park the module refuses: counted, said on stderr, once. */
static void test_park_failure(void)
{
	char old[32] = "", out[256] = "", *first;
	struct gch_stats before, after;
	int saved, fd, r, err;
	pthread_t t;
	ssize_t n;

	if (!ok(write_param("stw_timeout_ms", "200", old, sizeof(old)) == 0,
		"stw_timeout_ms set to 200"))
		return;
	started = 0;
	if (!ok(gch_pthread_create(&t, NULL, idle_thread, NULL) == 0, "an idle thread"))
		goto out;
	wait_flag(&started, 1);
	fd = memfd_create("stderr", 0);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	before = stats();
	fail_park = 1;
	r = gch_collect();
	err = errno;
	gch_collect();
	fail_park = 0;
	after = stats();
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, out, sizeof(out) - 1, 0);
	close(fd);
	ok(r < 0 && err == ETIMEDOUT, "its stop times out (%d, %s)", r, r ? strerror(err) : "");
	ok(after.park_failures == before.park_failures + 2,
	   "park_failures counts both refusals (%llu)",
	   (unsigned long long)(after.park_failures - before.park_failures));
	first = n > 0 ? strstr(out, "could not stop") : NULL;
	ok(first && !strstr(first + 1, "could not stop"), "stderr says so, once: %s",
	   n > 0 ? out : "(nothing)\n");
	ok(gch_collect() == 0, "the module accepting parks again, a collection succeeds");
	__atomic_store_n(&quit, 1, __ATOMIC_SEQ_CST);
	pthread_join(t, NULL);
	__atomic_store_n(&quit, 0, __ATOMIC_SEQ_CST);
out:
	write_param("stw_timeout_ms", old, NULL, 0);
}

int main(void)
{
	struct gch_heap_info info = { 0 };
	struct gch_options opts = { .heap_max = 256 << 20 };

	if (!ok(gch_init(&opts) == 0, "a 256 MiB heap"))
		return tap_done();
	if (!ok(gch_root_add(roots, roots + 4) == 0 && gch_root_add(live, live + 256) == 0,
		"the root tables"))
		return tap_done();
	gch_heap_info(&info);
	stop_sig = info.stop_signal;
	if (!ok(stop_sig > 0, "the stop signal is %d", stop_sig))
		return tap_done();
	test_library_sigmask();
	test_backoff();
	test_system();
	test_vfork_wait();
	test_attach_failure();
	test_park_failure();
	/* Last: where threads stay unstoppable, every later stop would fail. */
	test_inherited_mask();
	return tap_done();
}
