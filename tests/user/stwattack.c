// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The stop protocol against a process that means harm, with raw ioctls:
 * parked threads whose stack ranges are huge or never resolve, a process
 * killed while its threads scan, a thread attaching while stacks are
 * scanned, and an attached thread that calls execve while its old address
 * space lives on. Every collection must come back with a clear answer,
 * the kernel must stay clean (KASAN, lockdep, hung tasks: the harness
 * judges) and the heap must work afterwards.
 *
 * Each scenario runs in a process of its own, which reports its checks to
 * this one through a pipe: "1 text" or "0 text" per line.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "uapi/gcheap.h"
#include "tap.h"

#define HEAP_LEN	(2 * GCHEAP_CHUNK_SIZE)
#define BIG_RANGE	(1UL << 30)	/* the largest stack range the module scans */
/* A hang bound, not a duration check: ample even on a slow emulated guest. */
static int limit_ms = 300000;	/* STWATTACK_LIMIT_S overrides */

static int fd = -1;
static int report_fd = -1;
static __thread uintptr_t park_lo, park_hi;	/* what this thread parks with */

/* --- in a scenario process --- */

static void report(int pass, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "%d ", !!pass);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(report_fd, line, n) != n)
		_exit(99);
}

static int xioctl(unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static int attach(unsigned int op, uint64_t hi)
{
	struct gcheap_thread req = { .size = sizeof(req), .op = op, .stack_hi = hi };

	return xioctl(GCHEAP_IOC_THREAD, &req);
}

/* The stop signal's handler: park with this thread's range. */
static void on_stop(int sig)
{
	struct gcheap_park req = { .size = sizeof(req) };
	int saved = errno;

	(void)sig;
	req.stack.lo = park_lo ? park_lo : (uintptr_t)&req;
	req.stack.hi = park_hi;
	ioctl(fd, GCHEAP_IOC_PARK, &req);
	errno = saved;
}

static int gc(void)
{
	struct gcheap_gc req = {
		.size = sizeof(req), .flags = GCHEAP_GC_FORCE | GCHEAP_GC_SWEEP, .since = ~0ULL,
	};

	return xioctl(GCHEAP_IOC_GC, &req);
}

static struct gcheap_stats stats(void)
{
	struct gcheap_stats st = { .size = sizeof(st) };

	if (ioctl(fd, GCHEAP_IOC_STATS, &st) < 0)
		memset(&st, 0xff, sizeof(st));
	return st;
}

static int large(uint64_t bytes)
{
	struct gcheap_large req = { .size = sizeof(req), .bytes = bytes };

	return xioctl(GCHEAP_IOC_ALLOC_LARGE, &req);
}

/* A fresh heap, mapped, the calling thread attached and the handler set. */
static int heap_open(void)
{
	struct gcheap_info info = { .size = sizeof(info) };
	struct sigaction sa = { .sa_handler = on_stop, .sa_flags = SA_RESTART };
	char *res;
	uintptr_t at;
	int local;

	fd = open(GCHEAP_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0 || xioctl(GCHEAP_IOC_INFO, &info))
		return -1;
	res = mmap(NULL, HEAP_LEN + GCHEAP_PAGE_SIZE, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return -1;
	at = ((uintptr_t)res + GCHEAP_PAGE_SIZE - 1) & ~(GCHEAP_PAGE_SIZE - 1);
	if (mmap((void *)at, HEAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0)
	    == MAP_FAILED)
		return -1;
	sigemptyset(&sa.sa_mask);
	if (sigaction(info.stw_signal, &sa, NULL))
		return -1;
	park_hi = (uintptr_t)&local + 4096;
	return attach(GCHEAP_THREAD_ATTACH, park_hi);
}

/* An attached thread that parks with [lo, hi) and then waits on a pipe. */
struct parker {
	pthread_t thread;
	uintptr_t lo, hi;
	int wake[2];
	volatile pid_t tid;
	volatile int attached;	/* 1 attached, -errno failed */
};

static void *parker_fn(void *arg)
{
	struct parker *p = arg;
	char c;
	int r;

	park_lo = p->lo;
	park_hi = p->hi;
	r = attach(GCHEAP_THREAD_ATTACH, p->hi);
	p->tid = syscall(SYS_gettid);
	__atomic_store_n(&p->attached, r ? r : 1, __ATOMIC_SEQ_CST);
	while (read(p->wake[0], &c, 1) < 0 && errno == EINTR)
		;
	attach(GCHEAP_THREAD_DETACH, 0);
	return NULL;
}

static int parker_start(struct parker *p, uintptr_t lo, uintptr_t hi)
{
	p->lo = lo;
	p->hi = hi;
	p->attached = 0;
	if (pipe(p->wake) || pthread_create(&p->thread, NULL, parker_fn, p))
		return -1;
	while (!__atomic_load_n(&p->attached, __ATOMIC_SEQ_CST))
		usleep(1000);
	return p->attached == 1 ? 0 : p->attached;
}

static void parker_stop(struct parker *p)
{
	close(p->wake[1]);
	pthread_join(p->thread, NULL);
	close(p->wake[0]);
}

/* Minor faults of thread @tid of process @pid: they count pages scanned. */
static long minflt(pid_t pid, pid_t tid)
{
	char path[64], buf[1024], *p;
	long v = -1;
	int f, n, field;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	f = open(path, O_RDONLY);
	if (f < 0)
		return -1;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strrchr(buf, ')');	/* the name may hold spaces */
	/* Fields after the name start at 3 (state); minflt is field 10. */
	for (field = 2; p && field < 10; field++)
		p = strchr(p + 1, ' ');
	if (p)
		v = strtol(p + 1, NULL, 10);
	return v;
}

/* Wait until thread @tid of this process has faulted in @pages more pages. */
static int wait_scanning(pid_t tid, long pages)
{
	long base = minflt(getpid(), tid), now;
	int i;

	for (i = 0; i < 600000 && base >= 0; i++) {
		now = minflt(getpid(), tid);
		if (now < 0)
			return -1;
		if (now - base >= pages)
			return 0;
		usleep(100);
	}
	return -1;
}

static void *big_range(void)
{
	void *p = mmap(NULL, BIG_RANGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * Item: the process is killed while a parked thread scans a 1 GiB range of
 * never-touched memory. The scanner must stop and the mark must outlive it.
 * Reports its thread's id, then "G" just before the collection.
 */
static void scenario_kill_mid_scan(void)
{
	struct parker p;
	char *big;
	pid_t tid;
	int r;

	if (heap_open() || !(big = big_range()))
		_exit(2);
	if (parker_start(&p, (uintptr_t)big, (uintptr_t)big + BIG_RANGE))
		_exit(3);
	tid = p.tid;
	if (write(report_fd, &tid, sizeof(tid)) != sizeof(tid))
		_exit(4);
	r = gc();	/* killed during this, normally */
	_exit(r == 0 ? 0 : 10 + -r);
}

/*
 * Item: a thread attaches while a parked thread is scanning, with the stop
 * signal blocked (it cannot park). The collection must still end, with a
 * clear answer, and the attach must succeed once the world runs again.
 */
static struct parker *scan_parker;
static volatile int late_attach = 1, late_release;

/* Attaches mid-scan, then stays attached (and alive) until released. */
static void *late_fn(void *arg)
{
	(void)arg;
	if (wait_scanning(scan_parker->tid, 64)) {
		late_attach = 1000;
		return NULL;
	}
	late_attach = attach(GCHEAP_THREAD_ATTACH, park_hi = (uintptr_t)&arg + 4096);
	while (!__atomic_load_n(&late_release, __ATOMIC_SEQ_CST))
		usleep(1000);
	attach(GCHEAP_THREAD_DETACH, 0);
	return NULL;
}

static void scenario_attach_mid_scan(void)
{
	struct gcheap_stats st0, st1;
	struct parker p;
	pthread_t late;
	sigset_t set, old;
	struct gcheap_info info = { .size = sizeof(info) };
	char *big;
	int r;

	if (heap_open() || xioctl(GCHEAP_IOC_INFO, &info) || !(big = big_range()))
		_exit(2);
	if (parker_start(&p, (uintptr_t)big, (uintptr_t)big + BIG_RANGE))
		_exit(3);
	scan_parker = &p;
	sigemptyset(&set);
	sigaddset(&set, info.stw_signal);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	if (pthread_create(&late, NULL, late_fn, NULL))
		_exit(4);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	st0 = stats();
	r = gc();
	st1 = stats();
	report(r == 0 || r == -ETIMEDOUT,
	       "a thread attaching (stop signal blocked) while stacks are scanned: the collection ends (%s)",
	       strerror(-r));
	report(r == 0 ? st1.num_gc == st0.num_gc + 1
		      : st1.stw_timeouts == st0.stw_timeouts + 1 && st1.num_gc == st0.num_gc,
	       "the outcome is counted (num_gc %llu, stw_timeouts %llu)",
	       (unsigned long long)st1.num_gc, (unsigned long long)st1.stw_timeouts);
	__atomic_store_n(&late_release, 1, __ATOMIC_SEQ_CST);
	pthread_join(late, NULL);
	report(late_attach == 0, "the late thread's attach succeeded (%d)", late_attach);
	parker_stop(&p);
	_exit(0);
}

/*
 * Item: a parked thread's range is backed by userfaultfd memory that is
 * never served. The collection must fail with ETIMEDOUT, free nothing,
 * and the heap must collect again once the memory resolves.
 */
static void scenario_userfaultfd(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct gcheap_stats st0, st1, st2;
	size_t len = 16 * 4096;
	struct parker p;
	char *region;
	int uffd, r;

	if (heap_open())
		_exit(2);
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0) {
		report(1, "SKIP-DIAG userfaultfd unavailable in this kernel (%s)", strerror(errno));
		_exit(0);
	}
	region = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	reg.range.start = (uintptr_t)region;
	reg.range.len = len;
	if (region == MAP_FAILED || ioctl(uffd, UFFDIO_API, &api) ||
	    ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		report(0, "userfaultfd region registered (%s)", strerror(errno));
		_exit(0);
	}
	if (parker_start(&p, (uintptr_t)region, (uintptr_t)region + len))
		_exit(3);
	if (large(1 << 20))	/* garbage: only a completed cycle frees it */
		_exit(4);
	st0 = stats();
	r = gc();
	st1 = stats();
	report(r == -ETIMEDOUT,
	       "a parked range on never-served userfaultfd memory: the collection fails with ETIMEDOUT (%s)",
	       strerror(-r));
	report(st1.stw_timeouts == st0.stw_timeouts + 1 && st1.num_gc == st0.num_gc &&
	       st1.large_objects == st0.large_objects && st1.freed_objects == st0.freed_objects &&
	       st1.heap_alloc == st0.heap_alloc,
	       "nothing was freed, the timeout is counted (%llu timeouts, %llu objects freed)",
	       (unsigned long long)st1.stw_timeouts, (unsigned long long)st1.freed_objects);
	close(uffd);	/* the fault resolves: the stuck scanner returns */
	r = gc();
	st2 = stats();
	report(r == 0 && st2.num_gc == st0.num_gc + 1 && st2.large_objects == 0,
	       "once the memory resolves the heap collects again and frees the garbage (%s)",
	       strerror(-r));
	parker_stop(&p);
	_exit(0);
}

/*
 * Item: a CLONE_VM child attaches to the heap, then execs a program. The
 * program is not the heap's any more: the stop must neither signal nor
 * wait for it.
 */
static int exec_in[2], exec_sync[2];

static int exec_child(void *arg)
{
	char *argv[] = { "cat", NULL };
	int local;

	(void)arg;
	/* Own stack: the top of the page this frame is on is enough. */
	if (attach(GCHEAP_THREAD_ATTACH, ((uintptr_t)&local | 4095) + 1))
		syscall(SYS_exit, 3);
	dup2(exec_in[0], 0);
	dup2(open("/dev/null", O_WRONLY), 1);
	close(exec_in[1]);
	execve("/bin/cat", argv, (char *[]){ NULL });
	syscall(SYS_exit, 4);
	return 0;
}

static void scenario_exec(void)
{
	size_t stack_len = 256 << 10;
	char *stack, c;
	pid_t pid;
	int r, status;

	if (heap_open() || pipe(exec_in) || pipe2(exec_sync, O_CLOEXEC))
		_exit(2);
	stack = mmap(NULL, stack_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stack == MAP_FAILED)
		_exit(2);
	pid = clone(exec_child, stack + stack_len, CLONE_VM | SIGCHLD, NULL);
	if (pid < 0)
		_exit(3);
	close(exec_sync[1]);
	/* EOF once the child has exec'd (or died). */
	while (read(exec_sync[0], &c, 1) < 0 && errno == EINTR)
		;
	close(exec_in[0]);
	r = gc();
	report(r == 0, "a collection with an attached CLONE_VM child that has exec'd (%s)",
	       strerror(-r));
	r = waitpid(pid, &status, WNOHANG);
	report(r == 0, "the exec'd program was not stopped or killed");
	close(exec_in[1]);
	if (r == 0 && waitpid(pid, &status, 0) != pid)
		status = -1;
	report(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "the exec'd program exits normally (status %#x%s%d)", status,
	       WIFSIGNALED(status) ? ", signal " : ", code ",
	       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	_exit(0);
}

/* --- in the test process --- */

/* Run @fn in a process of its own and turn its report into checks. */
static void run_scenario(const char *name, void (*fn)(void))
{
	char buf[4096], *line, *nl;
	size_t have = 0;
	int pfd[2], status, reports = 0;
	struct pollfd pl;
	pid_t pid;
	ssize_t n;

	if (!ok(pipe(pfd) == 0, "%s: a pipe", name))
		return;
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		report_fd = pfd[1];
		fn();
		_exit(0);
	}
	close(pfd[1]);
	pl.fd = pfd[0];
	pl.events = POLLIN;
	for (;;) {
		if (poll(&pl, 1, limit_ms) <= 0) {
			ok(0, "%s: finished (still running after %d s: hung)", name,
			   limit_ms / 1000);
			kill(pid, SIGKILL);
			break;
		}
		n = read(pfd[0], buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			break;
		have += n;
		buf[have] = 0;
		for (line = buf; (nl = strchr(line, '\n')); line = nl + 1) {
			*nl = 0;
			if (!strncmp(line + 2, "SKIP-DIAG ", 10))
				tap_diag("%s: %s", name, line + 12);
			else
				ok(line[0] == '1', "%s: %s", name, line + 2);
			reports++;
		}
		have -= line - buf;
		memmove(buf, line, have);
	}
	close(pfd[0]);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0 && reports > 0,
	   "%s: its process finished cleanly (status %#x, %d reports)", name, status, reports);
}

/* The kill scenario: this process does the killing. */
static void test_kill_mid_scan(void)
{
	int pfd[2], status;
	long before, now = -1;
	pid_t pid, tid = 0;
	int i;

	if (!ok(pipe(pfd) == 0, "kill mid-scan: a pipe"))
		return;
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		report_fd = pfd[1];
		scenario_kill_mid_scan();
	}
	close(pfd[1]);
	if (read(pfd[0], &tid, sizeof(tid)) != sizeof(tid))
		tid = 0;
	before = tid ? minflt(pid, tid) : -1;
	/* Kill once the parked thread has read some of its range. */
	for (i = 0; before >= 0 && i < 600000; i++) {
		now = minflt(pid, tid);
		if (now < 0 || now - before >= 64)
			break;
		usleep(100);
	}
	ok(before >= 0 && now - before >= 64,
	   "kill mid-scan: the parked thread is scanning its 1 GiB range (%ld pages read)",
	   now - before);
	kill(pid, SIGKILL);
	close(pfd[0]);
	if (waitpid(pid, &status, 0) != pid)
		status = -1;
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	   "kill mid-scan: the process dies of SIGKILL (status %#x)", status);
}

/* After all that, a fresh heap collects as it should. */
static void scenario_healthy(void)
{
	int r;

	if (heap_open() || large(1 << 20))
		_exit(2);
	r = gc();
	report(r == 0 && stats().large_objects == 0 && stats().num_gc == 1,
	       "a fresh heap collects and frees its garbage (%s)", strerror(-r));
	_exit(0);
}

static const struct {
	const char *name;
	void (*fn)(void);
} scenarios[] = {
	{ "healthy after the kill", scenario_healthy },
	{ "exec", scenario_exec },
	{ "userfaultfd", scenario_userfaultfd },
	{ "attach mid-scan", scenario_attach_mid_scan },
	{ "healthy at the end", scenario_healthy },
};

/* With arguments, only the scenarios they name ("kill" for the first). */
static int wanted(int argc, char **argv, const char *name)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return 1;
	return argc == 1;
}

int main(int argc, char **argv)
{
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("STWATTACK_LIMIT_S"))
		limit_ms = atoi(getenv("STWATTACK_LIMIT_S")) * 1000;
	if (wanted(argc, argv, "kill"))
		test_kill_mid_scan();
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (wanted(argc, argv, scenarios[i].name))
			run_scenario(scenarios[i].name, scenarios[i].fn);
	return tap_done();
}
