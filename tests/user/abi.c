// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The device's ABI as a caller built against another version of it sees
 * it, and the races and limits around its calls: every ioctl at its first
 * version's size and at a longer size (zero tail accepted, anything else
 * E2BIG), the control page at an offset a 32-bit mmap2() can express, no
 * way for a child to inherit the heap, the cap on links, FREE racing a
 * finalizer's registration, and a finalizer hand-out into memory that
 * faults slowly while another thread collects.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "uapi/gcheap.h"
#include "tap.h"

#define HEAP_LEN	(8 * GCHEAP_CHUNK_SIZE)
#define OBJ_BYTES	65536

static int fd;
static uintptr_t base;
static const volatile struct gcheap_ctrl *ctrl;
static __thread uintptr_t my_stack_hi;

static int xioctl(unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static struct gcheap_stats stats(void)
{
	struct gcheap_stats st = { .size = sizeof(st) };

	if (ioctl(fd, GCHEAP_IOC_STATS, &st) < 0)
		memset(&st, 0xff, sizeof(st));
	return st;
}

/* @cmd with the size bits of a @size-byte struct, as an older or newer header has it. */
static unsigned long sized(unsigned long cmd, unsigned int size)
{
	return (cmd & ~((unsigned long)_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
	       ((unsigned long)size << _IOC_SIZESHIFT);
}

/*
 * Call @cmd with @arg (a struct of @ssize bytes) as a caller whose struct
 * is @usize bytes: truncated, or extended with zeroes and @tail as its last
 * byte. What comes back is copied into @arg.
 */
static int call(unsigned long cmd, void *arg, size_t ssize, unsigned int usize, int tail)
{
	_Alignas(8) unsigned char buf[4096] = { 0 };
	size_t n = ssize < usize ? ssize : usize;
	int r;

	memcpy(buf, arg, n);
	*(uint32_t *)buf = usize;
	if (usize > ssize)
		buf[usize - 1] = (unsigned char)tail;
	r = ioctl(fd, sized(cmd, usize), buf) < 0 ? -errno : 0;
	memcpy(arg, buf, n);
	return r;
}

static int attach(uint64_t stack_hi)
{
	struct gcheap_thread req = { .size = sizeof(req), .op = GCHEAP_THREAD_ATTACH,
				     .stack_hi = stack_hi };

	return xioctl(GCHEAP_IOC_THREAD, &req);
}

static uintptr_t stack_top(void)
{
	pthread_attr_t attr;
	void *addr;
	size_t size;

	if (pthread_getattr_np(pthread_self(), &attr))
		return 0;
	pthread_attr_getstack(&attr, &addr, &size);
	pthread_attr_destroy(&attr);
	return (uintptr_t)addr + size;
}

/* Attach the calling thread with its real stack. */
static int attach_self(void)
{
	my_stack_hi = stack_top();
	return attach(my_stack_hi);
}

/* The stop signal's handler: park with this thread's stack. */
static void on_stop(int sig)
{
	struct gcheap_park park = { .size = sizeof(park) };
	int saved = errno;

	(void)sig;
	park.stack.lo = (uintptr_t)&park;
	park.stack.hi = my_stack_hi;
	ioctl(fd, GCHEAP_IOC_PARK, &park);
	errno = saved;
}

static uint64_t large(void)
{
	struct gcheap_large req = { .size = sizeof(req), .bytes = OBJ_BYTES };

	return xioctl(GCHEAP_IOC_ALLOC_LARGE, &req) ? 0 : req.base;
}

static int free_obj(uint64_t addr)
{
	struct gcheap_free req = { .size = sizeof(req), .addr = addr };

	return xioctl(GCHEAP_IOC_FREE, &req);
}

static int finalizer(uint64_t obj, uint64_t fn)
{
	struct gcheap_finalizer req = { .size = sizeof(req), .obj = obj, .fn = fn };

	return xioctl(GCHEAP_IOC_FINALIZER, &req);
}

static int gc(void)
{
	struct gcheap_gc req = { .size = sizeof(req), .flags = GCHEAP_GC_FORCE | GCHEAP_GC_SWEEP,
				 .since = ctrl->gc_started };

	return xioctl(GCHEAP_IOC_GC, &req);
}

static void setup(void)
{
	uint32_t pgoff = (uint32_t)(GCHEAP_CTRL_OFFSET / 4096);
	long psz = sysconf(_SC_PAGESIZE);
	void *p;

	fd = open(GCHEAP_DEVICE, O_RDWR | O_CLOEXEC);
	if (!ok(fd >= 0, "open"))
		return;
	/* What a 32-bit caller's mmap2() passes: a 32-bit count of 4 KiB units. */
	ok((uint64_t)pgoff * 4096 == GCHEAP_CTRL_OFFSET && pgoff <= INT32_MAX,
	   "the control page's offset is a 31-bit mmap2 page offset (%#x)", pgoff);
	p = mmap(NULL, psz, PROT_READ, MAP_SHARED, fd, (off_t)pgoff * 4096);
	if (!ok(p != MAP_FAILED, "control page mapped at that page offset")) {
		/* Still test the rest. */
		p = mmap(NULL, psz, PROT_READ, MAP_SHARED, fd, (off_t)GCHEAP_CTRL_OFFSET);
		if (p == MAP_FAILED)
			return;
	}
	ctrl = p;
	ok(!(ctrl->stw_seq & 1) && ctrl->gc_done == 0, "it reads as the control page");
	/* Heap pages start on GCHEAP_PAGE_SIZE boundaries. */
	p = mmap(NULL, HEAP_LEN + GCHEAP_PAGE_SIZE, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p != MAP_FAILED)
		p = mmap((void *)(((uintptr_t)p + GCHEAP_PAGE_SIZE - 1) & ~(GCHEAP_PAGE_SIZE - 1)),
			 HEAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	if (!ok(p != MAP_FAILED, "heap mapped at offset 0 beside it"))
		return;
	base = (uintptr_t)p;
	ok(attach_self() == 0, "main thread attached");
}

/* Every ioctl, as an older and a newer caller. */
static void test_versions(void)
{
	struct gcheap_stats before, after;
	uint64_t objs[3];
	static uint64_t words[4];
	int local, i;

	{
		struct gcheap_info info = { 0 };

		ok(call(GCHEAP_IOC_INFO, &info, sizeof(info), sizeof(info) + 8, 0) == 0 &&
		   info.abi_version == GCHEAP_ABI_VERSION && info.heap_base == base,
		   "INFO, longer struct with zero tail: accepted");
		ok(call(GCHEAP_IOC_INFO, &info, sizeof(info), sizeof(info) + 8, 1) == -E2BIG,
		   "INFO, non-zero tail: E2BIG");
	}
	{
		struct gcheap_size_classes sc = { 0 };

		ok(call(GCHEAP_IOC_SIZE_CLASSES, &sc, sizeof(sc), sizeof(sc) + 8, 0) == 0 &&
		   sc.count == GCHEAP_NUM_SIZE_CLASSES, "SIZE_CLASSES, longer: accepted");
		ok(call(GCHEAP_IOC_SIZE_CLASSES, &sc, sizeof(sc), sizeof(sc) + 8, 1) == -E2BIG,
		   "SIZE_CLASSES, non-zero tail: E2BIG");
	}
	{
		struct gcheap_refill r = { .spanclass = 4 };

		ok(call(GCHEAP_IOC_REFILL, &r, sizeof(r), GCHEAP_REFILL_SIZE_VER0, 0) == 0 && r.base,
		   "REFILL at its version 0 size: a span");
		r = (struct gcheap_refill){ .spanclass = 4 };
		ok(call(GCHEAP_IOC_REFILL, &r, sizeof(r), sizeof(r) + 8, 0) == 0 && r.base,
		   "REFILL, longer: a span");
		before = stats();
		r = (struct gcheap_refill){ .spanclass = 4 };
		ok(call(GCHEAP_IOC_REFILL, &r, sizeof(r), sizeof(r) + 8, 1) == -E2BIG &&
		   stats().spans_cached == before.spans_cached, "REFILL, non-zero tail: E2BIG, no span");
	}
	{
		struct gcheap_large l = { .bytes = OBJ_BYTES };

		ok(call(GCHEAP_IOC_ALLOC_LARGE, &l, sizeof(l), sizeof(l) + 8, 0) == 0 && l.base,
		   "ALLOC_LARGE, longer: an object");
		objs[0] = l.base;
		before = stats();
		l = (struct gcheap_large){ .bytes = OBJ_BYTES };
		ok(call(GCHEAP_IOC_ALLOC_LARGE, &l, sizeof(l), sizeof(l) + 8, 1) == -E2BIG &&
		   stats().large_objects == before.large_objects,
		   "ALLOC_LARGE, non-zero tail: E2BIG, nothing allocated");
		objs[1] = large();
		objs[2] = large();
	}
	{
		struct gcheap_object o = { .addr = objs[0] + 100 };

		ok(call(GCHEAP_IOC_OBJECT, &o, sizeof(o), sizeof(o) + 8, 0) == 0 &&
		   o.base == objs[0] && (o.flags & GCHEAP_OBJECT_ALLOCATED), "OBJECT, longer: found");
		o = (struct gcheap_object){ .addr = objs[0] };
		ok(call(GCHEAP_IOC_OBJECT, &o, sizeof(o), sizeof(o) + 8, 1) == -E2BIG,
		   "OBJECT, non-zero tail: E2BIG");
	}
	{
		struct gcheap_stats st = { 0 };

		ok(call(GCHEAP_IOC_STATS, &st, sizeof(st), GCHEAP_STATS_SIZE_VER0, 0) == 0 &&
		   st.heap_sys == HEAP_LEN && st.next_gc == 0,
		   "STATS at its version 0 size: the first part only");
		ok(call(GCHEAP_IOC_STATS, &st, sizeof(st), sizeof(st) + 8, 0) == 0 &&
		   st.heap_sys == HEAP_LEN && st.threads == 1, "STATS, longer: accepted");
		ok(call(GCHEAP_IOC_STATS, &st, sizeof(st), sizeof(st) + 8, 1) == -E2BIG,
		   "STATS, non-zero tail: E2BIG");
	}
	{
		struct gcheap_thread t = { .op = GCHEAP_THREAD_ATTACH, .stack_hi = my_stack_hi };

		ok(call(GCHEAP_IOC_THREAD, &t, sizeof(t), sizeof(t) + 8, 0) == 0,
		   "THREAD, longer: accepted");
		ok(call(GCHEAP_IOC_THREAD, &t, sizeof(t), sizeof(t) + 8, 1) == -E2BIG,
		   "THREAD, non-zero tail: E2BIG");
	}
	{
		struct gcheap_park p = { .stack = { .lo = (uintptr_t)&local, .hi = my_stack_hi } };

		ok(call(GCHEAP_IOC_PARK, &p, sizeof(p), sizeof(p) + 8, 0) == 0,
		   "PARK, longer: accepted");
		ok(call(GCHEAP_IOC_PARK, &p, sizeof(p), sizeof(p) + 8, 1) == -E2BIG,
		   "PARK, non-zero tail: E2BIG");
	}
	{
		/* This stack keeps objs[]. */
		struct gcheap_gc g = { .flags = GCHEAP_GC_FORCE, .since = ctrl->gc_started,
				       .stack = { .lo = (uintptr_t)objs, .hi = my_stack_hi } };
		uint64_t done = ctrl->gc_done;

		ok(call(GCHEAP_IOC_GC, &g, sizeof(g), sizeof(g) + 8, 0) == 0 && ctrl->gc_done == done + 1,
		   "GC, longer: a cycle");
		g.since = ctrl->gc_started;
		ok(call(GCHEAP_IOC_GC, &g, sizeof(g), sizeof(g) + 8, 1) == -E2BIG &&
		   ctrl->gc_done == done + 1, "GC, non-zero tail: E2BIG, no cycle");
		g.since = ctrl->gc_started;
		ok(call(GCHEAP_IOC_GC, &g, sizeof(g), GCHEAP_GC_SIZE_VER0, 0) == 0 &&
		   ctrl->gc_done == done + 2, "GC at its version 0 size: a cycle");
	}
	{
		struct gcheap_root r = { .op = GCHEAP_ROOT_ADD, .lo = (uintptr_t)words,
					 .hi = (uintptr_t)(words + 4) };

		ok(call(GCHEAP_IOC_ROOT, &r, sizeof(r), sizeof(r) + 8, 1) == -E2BIG,
		   "ROOT, non-zero tail: E2BIG");
		ok(call(GCHEAP_IOC_ROOT, &r, sizeof(r), sizeof(r) + 8, 0) == 0,
		   "ROOT add, longer: accepted");
		r.op = GCHEAP_ROOT_REMOVE;
		ok(call(GCHEAP_IOC_ROOT, &r, sizeof(r), sizeof(r), 0) == 0, "and removed");
	}
	{
		struct gcheap_finalizer f = { .obj = objs[1], .fn = 0x1234 };

		ok(call(GCHEAP_IOC_FINALIZER, &f, sizeof(f), sizeof(f) + 8, 1) == -E2BIG &&
		   stats().finalizers == 0, "FINALIZER, non-zero tail: E2BIG, none set");
		ok(call(GCHEAP_IOC_FINALIZER, &f, sizeof(f), sizeof(f) + 8, 0) == 0 &&
		   stats().finalizers == 1, "FINALIZER, longer: set");
		f = (struct gcheap_finalizer){ .obj = objs[1], .fn = 0x5678, .arg = 9 };
		ok(call(GCHEAP_IOC_FINALIZER, &f, sizeof(f), GCHEAP_FINALIZER_SIZE_VER0, 0) == 0 &&
		   f.ofn == 0x1234 && stats().finalizers == 1,
		   "FINALIZER at its version 0 size: replaced, the old one returned");
		f = (struct gcheap_finalizer){ .obj = objs[1] };
		ok(call(GCHEAP_IOC_FINALIZER, &f, sizeof(f), sizeof(f), 0) == 0 && f.ofn == 0x5678 &&
		   f.oarg == 9, "and cleared");
	}
	{
		struct gcheap_final out[1];
		struct gcheap_finalizers f = { .count = 1, .out = (uintptr_t)out };

		ok(call(GCHEAP_IOC_FINALIZERS, &f, sizeof(f), sizeof(f) + 8, 0) == 0 && f.count == 0,
		   "FINALIZERS, longer: accepted");
		f.count = 1;
		ok(call(GCHEAP_IOC_FINALIZERS, &f, sizeof(f), sizeof(f) + 8, 1) == -E2BIG,
		   "FINALIZERS, non-zero tail: E2BIG");
	}
	{
		struct gcheap_link l = { .op = GCHEAP_LINK_ADD, .link = (uintptr_t)&words[0],
					 .obj = objs[2] };

		ok(call(GCHEAP_IOC_LINK, &l, sizeof(l), sizeof(l) + 8, 1) == -E2BIG,
		   "LINK, non-zero tail: E2BIG");
		ok(call(GCHEAP_IOC_LINK, &l, sizeof(l), sizeof(l) + 8, 0) == 0,
		   "LINK add, longer: accepted");
		l.op = GCHEAP_LINK_REMOVE;
		l.obj = 0;
		ok(call(GCHEAP_IOC_LINK, &l, sizeof(l), sizeof(l), 0) == 0, "and removed");
	}
	{
		struct gcheap_setgc s = { .gogc = 100 };

		ok(call(GCHEAP_IOC_SETGC, &s, sizeof(s), sizeof(s) + 8, 0) == 0 && s.gogc == 100,
		   "SETGC, longer: accepted");
		s.gogc = 50;
		ok(call(GCHEAP_IOC_SETGC, &s, sizeof(s), sizeof(s) + 8, 1) == -E2BIG &&
		   stats().gogc == 100, "SETGC, non-zero tail: E2BIG, unchanged");
	}
	{
		struct gcheap_free f = { .addr = objs[0] };

		before = stats();
		ok(call(GCHEAP_IOC_FREE, &f, sizeof(f), sizeof(f) + 8, 1) == -E2BIG &&
		   stats().large_objects == before.large_objects, "FREE, non-zero tail: E2BIG");
		for (i = 0; i < 3; i++) {
			f.addr = objs[i];
			ok(call(GCHEAP_IOC_FREE, &f, sizeof(f), sizeof(f) + 8, 0) == 0,
			   "FREE, longer: freed object %d", i);
		}
	}

	/* `size` says what is read and written, whatever the command's size bits. */
	{
		struct gcheap_stats st = { .size = GCHEAP_STATS_SIZE_VER0 };

		before = stats();
		ok(xioctl(GCHEAP_IOC_STATS, &st) == 0 && st.heap_sys == HEAP_LEN && st.next_gc == 0,
		   "size field shorter than the command's: the struct it names");
		st = (struct gcheap_stats){ .size = GCHEAP_STATS_SIZE_VER0 - 8 };
		ok(xioctl(sized(GCHEAP_IOC_STATS, GCHEAP_STATS_SIZE_VER0 - 8), &st) == -EINVAL,
		   "below version 0: EINVAL");
		st = (struct gcheap_stats){ .size = sizeof(st) };
		ok(xioctl(_IOWR(GCHEAP_IOC_MAGIC, 0x3f, struct gcheap_stats), &st) == -ENOTTY,
		   "unknown command number: ENOTTY");
		ok(xioctl(_IOWR(GCHEAP_IOC_MAGIC + 1, _IOC_NR(GCHEAP_IOC_STATS), struct gcheap_stats),
			  &st) == -ENOTTY, "another driver's magic: ENOTTY");
		after = stats();
		ok(!memcmp(&before, &after, sizeof(before)), "none of them changed anything");
	}
}

/* The child of a fork() can never reach the heap, whatever it asks for. */
static void test_fork(void)
{
	uint64_t obj = large();
	int status, memfd;
	pid_t pid;
	char c;

	if (!ok(obj, "an object to share"))
		return;
	*(volatile char *)obj = 1;
	ok(madvise((void *)base, HEAP_LEN, MADV_DOFORK) < 0 && errno == EINVAL,
	   "MADV_DOFORK on the heap: EINVAL");
	pid = fork();
	if (pid == 0) {
		signal(SIGBUS, SIG_DFL);
		signal(SIGSEGV, SIG_DFL);
		(void)*(volatile char *)obj;
		_exit(0);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
	   (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS),
	   "the child cannot read the parent's heap page");
	ok(*(volatile char *)obj == 1, "the parent's object is intact");
	memfd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	ok(memfd >= 0 && pread(memfd, &c, 1, (off_t)obj) == 1 && c == 1,
	   "ptrace's way in (/proc/self/mem) reads the heap");
	c = 2;
	ok(pwrite(memfd, &c, 1, (off_t)obj + 1) == 1 && ((volatile char *)obj)[1] == 2,
	   "and writes it");
	ok(pread(memfd, &c, 1, (off_t)(base + HEAP_LEN - 4096)) < 0,
	   "but not a page in no span");
	close(memfd);
	ok(free_obj(obj) == 0, "object freed");
}

static int read_param(const char *name, char *buf, size_t len)
{
	char path[128];
	ssize_t n;
	int pfd;

	snprintf(path, sizeof(path), "/sys/module/gcheap/parameters/%s", name);
	pfd = open(path, O_RDONLY);
	if (pfd < 0)
		return -1;
	n = read(pfd, buf, len - 1);
	close(pfd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return 0;
}

static int write_param(const char *name, const char *val)
{
	char path[128];
	int pfd, r;

	snprintf(path, sizeof(path), "/sys/module/gcheap/parameters/%s", name);
	pfd = open(path, O_WRONLY);
	if (pfd < 0)
		return -1;
	r = write(pfd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(pfd);
	return r;
}

static int link_op(unsigned int op, uint64_t link, uint64_t obj)
{
	struct gcheap_link req = { .size = sizeof(req), .op = op, .link = link, .obj = obj };

	return xioctl(GCHEAP_IOC_LINK, &req);
}

/* Links are walked with the world stopped: max_links bounds them. */
static void test_link_cap(void)
{
	static uint64_t words[6];
	uint64_t obj = large();
	char old[32];
	int i, r = 0;

	if (!ok(read_param("max_links", old, sizeof(old)) == 0 && write_param("max_links", "4") == 0,
		"module parameter max_links exists, set to 4"))
		return;
	for (i = 0; i < 4; i++)
		r |= link_op(GCHEAP_LINK_ADD, (uintptr_t)&words[i], obj);
	ok(r == 0, "four links registered");
	ok(link_op(GCHEAP_LINK_ADD, (uintptr_t)&words[4], obj) == -ENOSPC,
	   "a fifth: ENOSPC");
	ok(link_op(GCHEAP_LINK_REMOVE, (uintptr_t)&words[4], 0) == -ENOENT,
	   "and it was not registered");
	ok(link_op(GCHEAP_LINK_ADD, (uintptr_t)&words[0], obj) == 0,
	   "re-registering an existing link is not a new one");
	ok(link_op(GCHEAP_LINK_REMOVE, (uintptr_t)&words[3], 0) == 0 &&
	   link_op(GCHEAP_LINK_ADD, (uintptr_t)&words[4], obj) == 0,
	   "after a removal there is room again");
	/* Links a cycle clears give their room back. */
	for (i = 0; i < 5; i++)
		words[i] = obj;
	obj = 0;
	r = gc();
	ok(r == 0 && !words[0] && !words[1] && !words[2] && !words[4],
	   "a cycle clears the links of the unreachable object");
	obj = large();
	r = 0;
	for (i = 0; i < 4; i++)
		r |= link_op(GCHEAP_LINK_ADD, (uintptr_t)&words[i], obj);
	ok(r == 0, "and their room is free again");
	for (i = 0; i < 4; i++)
		link_op(GCHEAP_LINK_REMOVE, (uintptr_t)&words[i], 0);
	free_obj(obj);
	write_param("max_links", old);
}

/* FREE racing FINALIZER on one object: no finalizer may outlive it. */
static atomic_int race_go, race_done;
static uint64_t race_obj;
static int race_free_ret;

static void *race_freer(void *arg)
{
	int round;

	(void)arg;
	if (attach_self())
		return NULL;
	for (round = 1;; round++) {
		while (atomic_load(&race_go) < round)
			;
		if (!race_obj)
			break;
		race_free_ret = free_obj(race_obj);
		atomic_fetch_add(&race_done, 1);
	}
	return NULL;
}

static void test_free_finalizer_race(void)
{
	struct gcheap_final out[16];
	struct gcheap_finalizers fin = { .size = sizeof(fin), .count = 16, .out = (uintptr_t)out };
	int round, bad = 0, both = 0, fr, frees_failed = 0;
	pthread_t t;

	if (!ok(pthread_create(&t, NULL, race_freer, NULL) == 0, "a thread that frees"))
		return;
	for (round = 1; round <= 20000 && !bad; round++) {
		race_obj = large();
		if (!race_obj)
			break;
		atomic_store(&race_go, round);
		fr = finalizer(race_obj, 0x77);
		while (atomic_load(&race_done) < round)
			;
		frees_failed += race_free_ret != 0;
		both += !fr && !race_free_ret;
		bad += stats().finalizers != 0;
	}
	race_obj = 0;
	atomic_store(&race_go, round);
	pthread_join(t, NULL);
	ok(!frees_failed && round > 20000, "%d rounds, every FREE succeeded", round - 1);
	ok(!bad, "no finalizer left on a freed object (%d rounds with both calls succeeding)", both);
	ok(gc() == 0 && xioctl(GCHEAP_IOC_FINALIZERS, &fin) == 0 && fin.count == 0,
	   "nothing handed out for a freed object");
	fin.count = 16;
	while (!xioctl(GCHEAP_IOC_FINALIZERS, &fin) && fin.count)
		fin.count = 16;
}

/*
 * FINALIZERS into a page that faults slowly (userfaultfd) while another
 * thread collects: the caller must still park, the collection must not
 * time out, and the finalizer must not be lost.
 */
static int uffd = -1;
static void *slow_page;
static atomic_int faulting;
static int slow_ret = 1;

static void *slow_taker(void *arg)
{
	struct gcheap_finalizers fin = { .size = sizeof(fin), .count = 1,
					 .out = (uintptr_t)slow_page };

	(void)arg;
	if (attach_self())
		return NULL;
	slow_ret = xioctl(GCHEAP_IOC_FINALIZERS, &fin);
	return NULL;
}

/* Unattached: wait for the fault, then, once the world is stopping, unmap the page. */
static void *slow_monitor(void *arg)
{
	struct uffd_msg msg;
	long psz = sysconf(_SC_PAGESIZE);

	(void)arg;
	if (read(uffd, &msg, sizeof(msg)) != sizeof(msg))
		return NULL;
	atomic_store(&faulting, 1);
	while (!(ctrl->stw_seq & 1) && atomic_load(&faulting) == 1)
		usleep(1000);
	munmap(slow_page, psz);
	close(uffd);
	return NULL;
}

static void test_finalizers_slow_fault(void)
{
	long psz = sysconf(_SC_PAGESIZE);
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct gcheap_final out[1];
	struct gcheap_finalizers fin = { .size = sizeof(fin), .count = 1, .out = (uintptr_t)out };
	pthread_t taker, monitor;
	uint64_t obj;
	int r;

	obj = large();
	if (!ok(obj && finalizer(obj, 0x99) == 0, "an object with a finalizer"))
		return;
	obj = 0;
	if (!ok(gc() == 0 && stats().finalizers_queued == 1, "unreachable: queued"))
		return;
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0 && errno == ENOSYS) {
		tap_diag("no userfaultfd in this kernel: the slow hand-out is not tested");
		return;
	}
	slow_page = mmap(NULL, psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	reg.range.start = (uintptr_t)slow_page;
	reg.range.len = psz;
	if (!ok(uffd >= 0 && ioctl(uffd, UFFDIO_API, &api) == 0 &&
		ioctl(uffd, UFFDIO_REGISTER, &reg) == 0, "a page behind userfaultfd"))
		return;
	pthread_create(&monitor, NULL, slow_monitor, NULL);
	pthread_create(&taker, NULL, slow_taker, NULL);
	while (!atomic_load(&faulting))
		usleep(1000);
	r = gc();
	atomic_store(&faulting, 2);
	pthread_join(taker, NULL);
	pthread_join(monitor, NULL);
	ok(r == 0, "the collection beside it completes (got %d)", r);
	ok(slow_ret == -EFAULT, "the hand-out into the vanished page: EFAULT (got %d)", slow_ret);
	ok(xioctl(GCHEAP_IOC_FINALIZERS, &fin) == 0 && fin.count == 1 && out[0].fn == 0x99,
	   "the finalizer was not lost");
}

/*
 * tests/abi32 (built beside this program's directory) as a 32-bit process:
 * its checks must all pass. Kernels without IA32 emulation cannot run it.
 */
static void test_abi32(void)
{
	char path[4096], line[256];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	int pipefd[2], status;
	FILE *out;
	pid_t pid;
	char *slash;

	if (n <= 0)
		return;
	path[n] = 0;
	slash = strrchr(path, '/');
	if (!slash)
		return;
	strcpy(slash, "/../abi32/abi32");
	if (access(path, X_OK)) {
		tap_diag("%s not built (not an x86-64 host)", path);
		return;
	}
	if (pipe(pipefd))
		return;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		execl(path, path, (char *)NULL);
		_exit(errno == ENOEXEC ? 125 : 127);
	}
	close(pipefd[1]);
	out = fdopen(pipefd[0], "r");
	while (out && fgets(line, sizeof(line), out)) {
		line[strcspn(line, "\n")] = 0;
		tap_diag("abi32: %s", line);
	}
	if (out)
		fclose(out);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 125) {
		tap_diag("this kernel runs no 32-bit programs: the 32-bit caller is not tested");
		return;
	}
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "a 32-bit process: compat ioctls, the control page with mmap2, a heap beside it");
}

int main(void)
{
	struct gcheap_info info = { .size = sizeof(info) };
	struct sigaction sa = { .sa_handler = on_stop, .sa_flags = SA_RESTART };

	setup();
	if (!base)
		return tap_done();
	if (!ok(xioctl(GCHEAP_IOC_INFO, &info) == 0 && sigaction(info.stw_signal, &sa, NULL) == 0,
		"stop signal handler installed"))
		return tap_done();
	test_versions();
	test_fork();
	test_link_cap();
	test_free_finalizer_race();
	test_finalizers_slow_fault();
	test_abi32();
	return tap_done();
}
