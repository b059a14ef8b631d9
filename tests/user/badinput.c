// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Everything a process can get wrong, straight at the device: bad mmaps,
 * bad ioctl arguments, spans and objects it does not hold, memory that is
 * not in use, and a child that inherits the mapping. Each bad call must
 * fail with its documented errno and leave the heap's accounting exactly
 * as it was; the heap must still work afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "uapi/gcheap.h"
#include "knob.h"
#include "tap.h"

#define HEAP_LEN	(2 * GCHEAP_CHUNK_SIZE)

static int fd;
static uintptr_t base;
static uintptr_t stack_hi;	/* what this thread attached with */

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

/* Run a bad call: it must return @err and change nothing. */
#define BAD(call, err, ...) do {						\
	struct gcheap_stats before_ = stats(), after_;			\
	int r_ = (call);							\
	after_ = stats();							\
	ok(r_ == (err) && !memcmp(&before_, &after_, sizeof(before_)),	\
	   __VA_ARGS__);							\
	if (r_ != (err))							\
		tap_diag("  got %d (%s), wanted %d", r_, strerror(-r_), err);	\
} while (0)

static int refill(unsigned int spc, uint64_t flags, const struct gcheap_span_return *ret,
		  struct gcheap_refill *out)
{
	struct gcheap_refill req = { .size = sizeof(req), .spanclass = spc, .flags = flags };
	int r;

	if (ret)
		req.ret = *ret;
	r = xioctl(GCHEAP_IOC_REFILL, &req);
	if (out)
		*out = req;
	return r;
}

static int give_back(uint64_t span_base, const __u64 *unused)
{
	struct gcheap_span_return ret = { .base = span_base };

	if (unused)
		memcpy(ret.free, unused, sizeof(ret.free));
	return refill(0, GCHEAP_REFILL_RETURN | GCHEAP_REFILL_NO_NEW, &ret, NULL);
}

static int free_obj(uint64_t addr, uint64_t flags)
{
	struct gcheap_free req = { .size = sizeof(req), .flags = flags, .addr = addr };

	return xioctl(GCHEAP_IOC_FREE, &req);
}

static int large(uint64_t bytes, uint64_t flags, uint64_t *out)
{
	struct gcheap_large req = { .size = sizeof(req), .flags = flags, .bytes = bytes };
	int r = xioctl(GCHEAP_IOC_ALLOC_LARGE, &req);

	if (out)
		*out = req.base;
	return r;
}

static sigjmp_buf jump;

static void on_signal(int sig)
{
	siglongjmp(jump, sig);
}

/* The signal a read of @addr raises in this process, 0 if none. */
static int touch(uintptr_t addr)
{
	struct sigaction sa = { .sa_handler = on_signal }, old_bus, old_segv;
	volatile int sig;

	sigaction(SIGBUS, &sa, &old_bus);
	sigaction(SIGSEGV, &sa, &old_segv);
	sig = sigsetjmp(jump, 1);
	if (!sig)
		(void)*(volatile char *)addr;
	sigaction(SIGBUS, &old_bus, NULL);
	sigaction(SIGSEGV, &old_segv, NULL);
	return sig;
}

/* The signal a forked child gets reading @addr (0: it read fine). */
static int touch_in_child(uintptr_t addr)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGBUS, SIG_DFL);
		signal(SIGSEGV, SIG_DFL);
		(void)*(volatile char *)addr;
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

static void *map_at_aligned(size_t len, int prot, int flags, off_t off, uintptr_t skew)
{
	void *res = mmap(NULL, len + 2 * GCHEAP_PAGE_SIZE, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uintptr_t at;

	if (res == MAP_FAILED)
		return res;
	at = (((uintptr_t)res + GCHEAP_PAGE_SIZE - 1) & ~(GCHEAP_PAGE_SIZE - 1)) + skew;
	return mmap((void *)at, len, prot, flags | MAP_FIXED, fd, off);
}

static int map_errno(size_t len, int prot, int flags, off_t off, uintptr_t skew)
{
	return map_at_aligned(len, prot, flags, off, skew) == MAP_FAILED ? -errno : 0;
}

/* Attach the calling thread; raw ioctl users must, before they allocate. */
static int attach(unsigned int op, uint64_t stack_hi)
{
	struct gcheap_thread req = { .size = sizeof(req), .op = op, .stack_hi = stack_hi };

	return xioctl(GCHEAP_IOC_THREAD, &req);
}

static void test_before_mmap(void)
{
	int local;

	BAD(refill(4, 0, NULL, NULL), -EPERM, "refill by a thread not attached: EPERM");
	BAD(large(1 << 20, 0, NULL), -EPERM, "large allocation by a thread not attached: EPERM");
	BAD(attach(GCHEAP_THREAD_ATTACH, 0), -EINVAL, "attach with no stack: EINVAL");
	BAD(attach(3, (uintptr_t)&local), -EINVAL, "unknown thread op: EINVAL");
	BAD(attach(GCHEAP_THREAD_DETACH, 0), -ENOENT, "detach of a thread not attached: ENOENT");
	stack_hi = (uintptr_t)&local + 4096;
	ok(attach(GCHEAP_THREAD_ATTACH, stack_hi) == 0, "attach");
	ok(attach(GCHEAP_THREAD_ATTACH, stack_hi) == 0, "attach again: idempotent");
	BAD(refill(4, 0, NULL, NULL), -ENXIO, "refill before mmap: ENXIO");
	BAD(large(1 << 20, 0, NULL), -ENXIO, "large allocation before mmap: ENXIO");
}

static void test_mmap(void)
{
	void *p;

	ok(map_errno(HEAP_LEN + 4096, PROT_READ | PROT_WRITE, MAP_SHARED, 0, 0) == -EINVAL,
	   "mmap of a length not a multiple of 4 MiB: EINVAL");
	ok(map_errno(HEAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, 8192, 0) == -EINVAL,
	   "mmap at a non-zero offset: EINVAL");
	ok(map_errno(HEAP_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE, 0, 0) == -EINVAL,
	   "private mmap: EINVAL");
	ok(map_errno(HEAP_LEN, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_SHARED, 0, 0) == -EPERM,
	   "executable mmap: EPERM");
	ok(map_errno(HEAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, 0, 4096) == -EINVAL,
	   "mmap not on an 8 KiB boundary: EINVAL");
	ok(mmap(NULL, 1ULL << 40, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0)
	   == MAP_FAILED && errno == EINVAL, "mmap over max_heap_mb: EINVAL");

	p = map_at_aligned(HEAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, 0, 0);
	if (!ok(p != MAP_FAILED, "mmap of an 8 MiB heap"))
		return;
	base = (uintptr_t)p;
	ok(map_errno(HEAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, 0, 0) == -EBUSY,
	   "second mmap of the same heap: EBUSY");
	ok(mremap(p, HEAP_LEN, 2 * HEAP_LEN, 0) == MAP_FAILED, "mremap to grow: refused");
	ok(mremap(p, HEAP_LEN, HEAP_LEN, MREMAP_MAYMOVE | MREMAP_FIXED,
		  (void *)(base + 4 * HEAP_LEN)) == MAP_FAILED, "mremap to move: refused");
	ok(munmap(p, GCHEAP_CHUNK_SIZE) < 0 && errno == EINVAL, "partial munmap: EINVAL");
	ok(mprotect(p, GCHEAP_CHUNK_SIZE, PROT_READ) < 0 && errno == EINVAL,
	   "partial mprotect: EINVAL");
	ok(mprotect(p, HEAP_LEN, PROT_READ | PROT_WRITE | PROT_EXEC) < 0 && errno == EACCES,
	   "mprotect to executable: EACCES");
}

static void test_refill_args(void)
{
	struct gcheap_refill req = { .size = GCHEAP_REFILL_SIZE_VER0 - 8, .spanclass = 4 };
	struct gcheap_span_return ret = { .base = base };
	unsigned char big[sizeof(struct gcheap_refill) + 8] = { 0 };
	void *ro;

	BAD(refill(0, 0, NULL, NULL), -EINVAL, "refill of span class 0 (large): EINVAL");
	BAD(refill(1, 0, NULL, NULL), -EINVAL, "refill of span class 1: EINVAL");
	BAD(refill(GCHEAP_NUM_SPAN_CLASSES, 0, NULL, NULL), -EINVAL, "span class 136: EINVAL");
	BAD(refill(4, 1ULL << 40, NULL, NULL), -EINVAL, "unknown refill flag: EINVAL");
	BAD(refill(4, GCHEAP_REFILL_NO_NEW, NULL, NULL), -EINVAL,
	    "NO_NEW without RETURN: EINVAL");
	BAD(xioctl(GCHEAP_IOC_REFILL, &req), -EINVAL, "refill struct too short: EINVAL");
	((struct gcheap_refill *)big)->size = sizeof(big);
	((struct gcheap_refill *)big)->spanclass = 4;
	big[sizeof(big) - 1] = 1;
	BAD(xioctl(GCHEAP_IOC_REFILL, big), -E2BIG, "refill with unknown trailing bytes: E2BIG");
	BAD(xioctl(GCHEAP_IOC_REFILL, NULL), -EFAULT, "refill with NULL argument: EFAULT");
	BAD(xioctl(GCHEAP_IOC_REFILL, (void *)base), -EFAULT,
	    "refill argument in heap memory not in use: EFAULT");
	BAD(refill(4, GCHEAP_REFILL_RETURN, &ret, NULL), -ENOENT,
	    "giving back a span nobody holds: ENOENT (and no new span)");
	ret.base = 0x1000;
	BAD(refill(4, GCHEAP_REFILL_RETURN, &ret, NULL), -ENOENT,
	    "giving back a foreign address: ENOENT");

	/* A result that cannot be written back must not hand out a span. */
	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	req = (struct gcheap_refill){ .size = sizeof(req), .spanclass = 4 };
	memcpy(ro, &req, sizeof(req));
	mprotect(ro, 4096, PROT_READ);
	BAD(xioctl(GCHEAP_IOC_REFILL, ro), -EFAULT, "refill into read-only memory: EFAULT");
	munmap(ro, 4096);
}

static void test_give_back(void)
{
	struct gcheap_refill a, b;
	__u64 unused[GCHEAP_SPAN_BITS_WORDS];
	struct gcheap_span_return ret;
	uint64_t lg;

	/* Class 5 (48 B): 170 slots, so bits past the last slot exist. */
	if (!ok(refill(10, 0, NULL, &a) == 0 && a.nelems == 170 && a.elemsize == 48,
		"refill of 48-byte span class: 170 slots"))
		return;
	ok(touch(a.base) == 0 && touch(a.base + 8191) == 0, "the span's memory is readable");
	memcpy(unused, a.free, sizeof(unused));
	unused[170 / 64] |= 1ULL << (170 % 64);
	BAD(give_back(a.base, unused), -EINVAL, "give-back with a slot past the span's end: EINVAL");
	BAD(give_back(a.base + 48, a.free), -ENOENT, "give-back by an interior address: ENOENT");
	ok(large(40000, 0, &lg) == 0, "a large object");
	BAD(give_back(lg, NULL), -ENOENT, "giving back a large object as a span: ENOENT");
	BAD(free_obj(a.base, 0), -EBUSY, "freeing a slot a cache owns: EBUSY");

	/* Keep slots 0..2 as objects; the span comes back partial. */
	memcpy(unused, a.free, sizeof(unused));
	unused[0] &= ~7ULL;
	ok(give_back(a.base, unused) == 0, "give-back keeping 3 objects");
	BAD(give_back(a.base, unused), -ENOENT, "giving the same span back twice: ENOENT");
	ok(refill(10, 0, NULL, &b) == 0 && b.base == a.base && (b.free[0] & 7) == 0 &&
	   (b.free[0] & 8), "the partial span is handed out again, its 3 objects not free");
	memcpy(unused, b.free, sizeof(unused));
	unused[0] |= 1;
	BAD(give_back(b.base, unused), -EINVAL,
	    "reporting as unused a slot that was allocated at hand-out: EINVAL");
	ret = (struct gcheap_span_return){ .base = b.base };
	memcpy(ret.free, b.free, sizeof(ret.free));
	ok(refill(10, GCHEAP_REFILL_RETURN, &ret, &a) == 0 && a.base != b.base,
	   "refill that gives the old span back takes a new one");

	/* Objects 0..2 of b are allocated and b is not cached: free them. */
	BAD(free_obj(b.base + 1, 0), -ENOENT, "freeing an interior address: ENOENT");
	BAD(free_obj(b.base, 1), -EINVAL, "free with an unknown flag: EINVAL");
	BAD(free_obj(0x1000, 0), -ENOENT, "freeing a foreign address: ENOENT");
	BAD(free_obj(base + HEAP_LEN - 8192, 0), -ENOENT, "freeing memory in no span: ENOENT");
	ok(free_obj(b.base, 0) == 0, "freeing an allocated object");
	BAD(free_obj(b.base, 0), -ENOENT, "double free: ENOENT");
	BAD(free_obj(lg + 8192, 0), -ENOENT, "freeing a large object by an interior address: ENOENT");
	ok(free_obj(lg, 0) == 0, "freeing a large object");
	BAD(free_obj(lg, 0), -ENOENT, "double free of a large object: ENOENT");
	ok(touch(lg) == SIGBUS, "touching a freed large object: SIGBUS");
}

static void test_batch(void)
{
	struct gcheap_span_grant grants[3];
	struct gcheap_span_return rets[3], inline_span;
	struct gcheap_refill req = {
		.size = sizeof(req), .spanclass = 6, .ngrant = 3, .grants = (uintptr_t)grants,
	};
	struct gcheap_stats before;
	void *ro;
	int i;

	if (!ok(xioctl(GCHEAP_IOC_REFILL, &req) == 0 && req.ngrant == 3,
		"a batch refill: one span and 3 more"))
		return;
	inline_span.base = req.base;
	memcpy(inline_span.free, req.free, sizeof(inline_span.free));
	ok(grants[0].base != req.base && grants[1].base != grants[0].base &&
	   grants[2].base != grants[1].base && grants[2].nelems == req.nelems,
	   "the batch's spans are distinct spans of the class");
	for (i = 0; i < 3; i++) {
		rets[i].base = grants[i].base;
		memcpy(rets[i].free, grants[i].free, sizeof(rets[i].free));
	}

	req = (struct gcheap_refill){ .size = sizeof(req),
		.flags = GCHEAP_REFILL_RETURN | GCHEAP_REFILL_NO_NEW,
		.ret = inline_span, .nreturn = 3, .returns = (uintptr_t)rets };
	rets[2].base = base + HEAP_LEN - 8192;
	BAD(xioctl(GCHEAP_IOC_REFILL, &req), -ENOENT,
	    "a batch give-back naming a span nobody holds: ENOENT");
	rets[2] = rets[1];
	BAD(xioctl(GCHEAP_IOC_REFILL, &req), -EINVAL, "the same span twice in one give-back: EINVAL");
	rets[2].base = grants[2].base;
	memcpy(rets[2].free, grants[2].free, sizeof(rets[2].free));
	req.nreturn = GCHEAP_REFILL_MAX_BATCH + 1;
	BAD(xioctl(GCHEAP_IOC_REFILL, &req), -EINVAL, "more than GCHEAP_REFILL_MAX_BATCH give-backs: EINVAL");
	req.nreturn = 3;
	req.returns = 8;
	BAD(xioctl(GCHEAP_IOC_REFILL, &req), -EFAULT, "give-backs at a bad pointer: EFAULT");
	req.returns = (uintptr_t)rets;
	req.ngrant = 1;
	BAD(xioctl(GCHEAP_IOC_REFILL, &req), -EINVAL, "NO_NEW asking for more spans: EINVAL");
	req.ngrant = 0;

	{
		struct gcheap_refill bad = { .size = sizeof(bad), .spanclass = 6,
					   .ngrant = GCHEAP_REFILL_MAX_BATCH + 1 };

		BAD(xioctl(GCHEAP_IOC_REFILL, &bad), -EINVAL, "more than GCHEAP_REFILL_MAX_BATCH extra spans: EINVAL");
		ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		bad.ngrant = 2;
		bad.grants = (uintptr_t)ro;
		BAD(xioctl(GCHEAP_IOC_REFILL, &bad), -EFAULT,
		    "extra spans into read-only memory: EFAULT");
		munmap(ro, 4096);
	}

	before = stats();
	ok(xioctl(GCHEAP_IOC_REFILL, &req) == 0 && stats().spans_cached == before.spans_cached - 4,
	   "all four spans given back in one call");
}

static void test_large_args(void)
{
	struct gcheap_large req = { .size = sizeof(req), .bytes = 65536, .__reserved = 1 };

	BAD(large(0, 0, NULL), -EINVAL, "large allocation of 0 bytes: EINVAL");
	BAD(large(65536, 2, NULL), -EINVAL, "large allocation with an unknown flag: EINVAL");
	BAD(xioctl(GCHEAP_IOC_ALLOC_LARGE, &req), -EINVAL, "reserved field set: EINVAL");
	BAD(large(HEAP_LEN + 1, 0, NULL), -ENOMEM, "larger than the heap: ENOMEM");
	BAD(large(1ULL << 62, 0, NULL), -ENOMEM, "2^62 bytes: ENOMEM");
}

static void test_touch_and_fork(void)
{
	struct gcheap_refill a;

	ok(touch(base + HEAP_LEN - 4096) == SIGBUS, "touching a page not in use: SIGBUS");
	if (!ok(refill(4, 0, NULL, &a) == 0, "a span to share"))
		return;
	*(volatile char *)a.base = 1;
	ok(touch_in_child(a.base) == SIGSEGV, "a forked child has no heap mapping: SIGSEGV");
	ok(madvise((void *)base, HEAP_LEN, MADV_DOFORK) < 0 && errno == EINVAL,
	   "MADV_DOFORK refused: EINVAL");
	ok(touch_in_child(a.base) == SIGSEGV, "so a child still has no heap mapping: SIGSEGV");
	ok(*(volatile char *)a.base == 1, "the parent's object is intact");
}

/* Tiny blocks are shared by several objects: the module frees none of them. */
static void test_tiny_free(void)
{
	struct gcheap_span_return ret;
	struct gcheap_refill t;

	if (!ok(refill(GCHEAP_TINY_SPANCLASS, 0, NULL, &t) == 0, "a span of tiny blocks"))
		return;
	/* Keep the first block, give the span back. */
	ret.base = t.base;
	memcpy(ret.free, t.free, sizeof(ret.free));
	ret.free[0] &= ~1ULL;
	if (!ok(refill(GCHEAP_TINY_SPANCLASS, GCHEAP_REFILL_RETURN | GCHEAP_REFILL_NO_NEW, &ret,
		       NULL) == 0, "given back with one block used"))
		return;
	BAD(free_obj(t.base, 0), -EBUSY, "free of a tiny block: EBUSY");
	BAD(free_obj(t.base + 7, 0), -EBUSY, "free of an object inside a tiny block: EBUSY");
}

static void test_ctrl_page(void)
{
	long psz = sysconf(_SC_PAGESIZE);
	const volatile struct gcheap_ctrl *ctrl;
	void *p;

	ok(mmap(NULL, psz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, GCHEAP_CTRL_OFFSET) == MAP_FAILED &&
	   errno == EPERM, "writable control page: EPERM");
	ok(mmap(NULL, psz, PROT_READ | PROT_EXEC, MAP_SHARED, fd, GCHEAP_CTRL_OFFSET) == MAP_FAILED &&
	   errno == EPERM, "executable control page: EPERM");
	ok(mmap(NULL, 2 * psz, PROT_READ, MAP_SHARED, fd, GCHEAP_CTRL_OFFSET) == MAP_FAILED &&
	   errno == EINVAL, "control page of two pages: EINVAL");
	ok(mmap(NULL, psz, PROT_READ, MAP_PRIVATE, fd, GCHEAP_CTRL_OFFSET) == MAP_FAILED &&
	   errno == EINVAL, "private control page: EINVAL");
	p = mmap(NULL, psz, PROT_READ, MAP_SHARED, fd, GCHEAP_CTRL_OFFSET);
	if (!ok(p != MAP_FAILED, "control page mapped read-only"))
		return;
	ctrl = p;
	ok(mprotect(p, psz, PROT_READ | PROT_WRITE) < 0 && errno == EACCES,
	   "control page cannot be made writable: EACCES");
	ok(!(ctrl->stw_seq & 1) && ctrl->next_gc == 4 << 20,
	   "control page: world running, first goal 4 MiB");
	munmap(p, psz);
}

static int gc(uint64_t flags, uint64_t since, uint64_t lo, uint64_t hi, uint32_t reserved)
{
	struct gcheap_gc req = {
		.size = sizeof(req), .flags = flags, .since = since,
		.stack = { .lo = lo, .hi = hi }, .__reserved = reserved,
	};

	return xioctl(GCHEAP_IOC_GC, &req);
}

/* A collection carrying cache report @rep (uapi: struct gcheap_cache_report). */
static int gc_report(uint64_t flags, uint64_t since, uint64_t rep)
{
	struct gcheap_gc req = {
		.size = sizeof(req), .flags = flags, .since = since, .cache = rep,
	};

	return xioctl(GCHEAP_IOC_GC, &req);
}

/*
 * Cache reports: every bad one refused whole, with nothing changed; a good
 * one taken by the cycle, which frees the slots the cache used and
 * dropped, after which those slots are no longer the cache's.
 */
static void test_cache_report(void)
{
	struct gcheap_span_return spans[2];
	struct gcheap_cache_report rep = { .spans = (uintptr_t)spans, .nspans = 1 };
	struct gcheap_park park = { .size = sizeof(park), .cache = (uintptr_t)&rep };
	struct gcheap_stats st;
	struct gcheap_refill a;
	uint64_t num_gc, freed;
	int local;

	BAD(gc_report(GCHEAP_GC_FORCE, stats().num_gc, (uintptr_t)&rep), -EINVAL,
	    "report from a thread with no cache (detached): EINVAL");
	if (!ok(attach(GCHEAP_THREAD_ATTACH, stack_hi) == 0 &&
		refill(GCHEAP_SPANCLASS(5, 0), 0, NULL, &a) == 0 && a.nelems == 170,
		"attached again, a span to report on"))
		return;
	/* The cache used slots 0..4 and dropped them. */
	spans[0].base = a.base;
	memcpy(spans[0].free, a.free, sizeof(spans[0].free));
	spans[0].free[0] &= ~0x1fULL;
	num_gc = stats().num_gc;

	BAD(gc_report(GCHEAP_GC_FORCE, num_gc, 8), -EFAULT, "report at an unmapped address: EFAULT");
	rep.nspans = GCHEAP_CACHE_REPORT_MAX + 1;
	BAD(gc_report(GCHEAP_GC_FORCE, num_gc, (uintptr_t)&rep), -E2BIG,
	    "report of more spans than a cache can hold: E2BIG");
	rep.nspans = 1;
	rep.spans = 8;
	BAD(gc_report(GCHEAP_GC_FORCE, num_gc, (uintptr_t)&rep), -EFAULT,
	    "report whose entries are unmapped: EFAULT");
	rep.spans = (uintptr_t)spans;
	spans[0].free[170 / 64] |= 1ULL << (170 % 64);
	BAD(gc_report(GCHEAP_GC_FORCE, num_gc, (uintptr_t)&rep), -EINVAL,
	    "report of a slot past the span's end: EINVAL");
	spans[0].free[170 / 64] &= ~(1ULL << (170 % 64));
	spans[1] = spans[0];
	spans[1].base = a.base + 48;
	rep.nspans = 2;
	BAD(gc_report(GCHEAP_GC_FORCE, num_gc, (uintptr_t)&rep), -EINVAL,
	    "report naming no span's first byte, after a good entry: EINVAL");
	spans[1].base = base + HEAP_LEN - 8192;
	BAD(gc_report(GCHEAP_GC_FORCE, num_gc, (uintptr_t)&rep), -EINVAL,
	    "report naming memory in no span: EINVAL");
	rep.nspans = 1;
	park.stack.lo = (uintptr_t)&local;
	park.stack.hi = stack_hi;
	spans[0].free[3] = ~0ULL;
	BAD(xioctl(GCHEAP_IOC_PARK, &park), -EINVAL,
	    "park reporting slots the cache was never given: EINVAL");
	spans[0].free[3] = a.free[3];
	ok(rep.taken == 0, "no refused report was taken");

	ok(gc_report(0, 0, (uintptr_t)&rep) == 0 && rep.taken == 0 && stats().num_gc == num_gc,
	   "a call that runs no cycle takes no report");
	/* Earlier tests' garbage goes first, in a cycle with no report. */
	ok(gc(GCHEAP_GC_SWEEP | GCHEAP_GC_FORCE, num_gc, 0, 0, 0) == 0, "a cycle without a report");
	num_gc = stats().num_gc;
	freed = stats().freed_objects;
	ok(gc_report(GCHEAP_GC_SWEEP | GCHEAP_GC_FORCE, num_gc, (uintptr_t)&rep) == 0 &&
	   rep.taken == 1, "a cycle takes a good report");
	st = stats();
	ok(st.num_gc == num_gc + 1 && st.freed_objects - freed == 5,
	   "the 5 slots the cache used and dropped are freed (%llu freed)",
	   (unsigned long long)(st.freed_objects - freed));
	BAD(give_back(a.base, a.free), -EINVAL,
	    "the cache cannot give back as unused a slot it reported used: EINVAL");
	ok(give_back(a.base, spans[0].free) == 0, "the span goes back with what was reported free");
}

static int root(unsigned int op, uint64_t lo, uint64_t hi)
{
	struct gcheap_root req = { .size = sizeof(req), .op = op, .lo = lo, .hi = hi };

	return xioctl(GCHEAP_IOC_ROOT, &req);
}

static int finalizer(uint64_t obj, uint64_t fn, uint64_t arg, uint64_t flags, uint64_t *ofn)
{
	struct gcheap_finalizer req = {
		.size = sizeof(req), .obj = obj, .fn = fn, .arg = arg, .flags = flags,
	};
	int r = xioctl(GCHEAP_IOC_FINALIZER, &req);

	if (ofn)
		*ofn = req.ofn;
	return r;
}

static int link_op(unsigned int op, uint64_t link, uint64_t obj)
{
	struct gcheap_link req = { .size = sizeof(req), .op = op, .link = link, .obj = obj };

	return xioctl(GCHEAP_IOC_LINK, &req);
}

/* The collector's ioctls, on a heap whose only thread is this one. */
static void test_collector(void)
{
	static uint64_t roots[4];
	struct gcheap_finalizers fin = { .size = sizeof(fin), .count = 1 };
	struct gcheap_final out[1];
	struct gcheap_setgc sg = { .size = sizeof(sg), .gogc = -2 };
	struct gcheap_park park = { .size = sizeof(park) };
	struct gcheap_info info = { .size = sizeof(info) };
	struct gcheap_refill a;
	uint64_t ofn = 1, num_gc;
	int local;

	ok(xioctl(GCHEAP_IOC_INFO, &info) == 0 && info.stw_signal >= 32,
	   "INFO names a real-time stop signal (%u)", info.stw_signal);
	park.stack.lo = (uintptr_t)&local;
	park.stack.hi = stack_hi + 8192;
	BAD(xioctl(GCHEAP_IOC_PARK, &park), -EINVAL, "park with another stack top than attached: EINVAL");
	park.stack.hi = stack_hi;
	ok(xioctl(GCHEAP_IOC_PARK, &park) == 0, "park with no stop under way returns at once");
	park.__reserved = 1;
	BAD(xioctl(GCHEAP_IOC_PARK, &park), -EINVAL, "park, reserved field set: EINVAL");

	BAD(gc(1ULL << 40, 0, 0, 0, 0), -EINVAL, "unknown GC flag: EINVAL");
	BAD(gc(0, 0, 0, 0, 1), -EINVAL, "GC, reserved field set: EINVAL");
	BAD(gc(0, 0, 2, 1, 0), -EINVAL, "GC stack with lo above hi: EINVAL");
	BAD(gc(0, 0, 8, (2ULL << 30) + 8, 0), -EINVAL, "GC stack over 1 GiB: EINVAL");
	BAD(gc(0, 0, 0, ~0ULL, 0), -EINVAL, "GC stack beyond user space: EINVAL");
	num_gc = stats().num_gc;
	ok(gc(GCHEAP_GC_SWEEP | GCHEAP_GC_FORCE, num_gc, 0, 0, 0) == 0 && stats().num_gc == num_gc + 1 &&
	   stats().num_forced_gc == 1 && stats().stw_timeouts == 0,
	   "a forced cycle runs, with nothing to stop");
	BAD(gc(0, num_gc, 0, 0, 0), 0, "GC since before a cycle that has run: nothing to do");

	BAD(root(GCHEAP_ROOT_ADD, (uintptr_t)roots + 1, (uintptr_t)(roots + 4)), -EINVAL,
	    "root range not 8-byte aligned: EINVAL");
	BAD(root(GCHEAP_ROOT_ADD, (uintptr_t)roots, (uintptr_t)roots), -EINVAL, "empty root range: EINVAL");
	BAD(root(GCHEAP_ROOT_ADD, 8, (2ULL << 30) + 8), -EINVAL, "root range over 1 GiB: EINVAL");
	BAD(root(3, (uintptr_t)roots, (uintptr_t)(roots + 4)), -EINVAL, "unknown root op: EINVAL");
	BAD(root(GCHEAP_ROOT_REMOVE, (uintptr_t)roots, (uintptr_t)(roots + 4)), -ENOENT,
	    "removing a root range never added: ENOENT");
	ok(root(GCHEAP_ROOT_ADD, (uintptr_t)roots, (uintptr_t)(roots + 4)) == 0, "root range added");
	BAD(root(GCHEAP_ROOT_ADD, (uintptr_t)roots, (uintptr_t)(roots + 4)), -EEXIST,
	    "the same root range twice: EEXIST");

	if (!ok(refill(GCHEAP_SPANCLASS(5, 0), 0, NULL, &a) == 0, "a span for the objects"))
		return;
	roots[0] = a.base;
	BAD(finalizer(a.base + 8, 1, 0, 0, NULL), -EINVAL, "finalizer on an interior pointer: EINVAL");
	BAD(finalizer(base + HEAP_LEN - 64, 1, 0, 0, NULL), -EINVAL,
	    "finalizer on memory in no span: EINVAL");
	BAD(finalizer((uintptr_t)&local, 1, 0, 0, NULL), -EINVAL, "finalizer outside the heap: EINVAL");
	BAD(finalizer(a.base, 1, 0, 1ULL << 40, NULL), -EINVAL, "unknown finalizer flag: EINVAL");
	BAD(finalizer(a.base, 0, 5, 0, NULL), -EINVAL, "clearing a finalizer with an argument: EINVAL");
	ok(finalizer(a.base, 0x1234, 7, 0, &ofn) == 0 && ofn == 0 && stats().finalizers == 1,
	   "finalizer set on an object, none before");
	ok(finalizer(a.base, 0x5678, 7, 0, &ofn) == 0 && ofn == 0x1234 && stats().finalizers == 1,
	   "set again: the old one is returned");

	BAD(link_op(GCHEAP_LINK_ADD, (uintptr_t)&roots[1] + 4, a.base), -EINVAL,
	    "link not 8-byte aligned: EINVAL");
	BAD(link_op(GCHEAP_LINK_ADD, (uintptr_t)&roots[1], (uintptr_t)&local), -EINVAL,
	    "link to something not in the heap: EINVAL");
	BAD(link_op(3, (uintptr_t)&roots[1], a.base), -EINVAL, "unknown link op: EINVAL");
	BAD(link_op(GCHEAP_LINK_REMOVE, (uintptr_t)&roots[1], 0), -ENOENT,
	    "removing a link never added: ENOENT");

	BAD(xioctl(GCHEAP_IOC_FINALIZERS, &(struct gcheap_finalizers){ .size = sizeof(fin) }), -EINVAL,
	    "taking 0 finalizers: EINVAL");
	BAD(xioctl(GCHEAP_IOC_FINALIZERS,
		   &(struct gcheap_finalizers){ .size = sizeof(fin), .count = 5000 }), -EINVAL,
	    "taking over 1024 finalizers at once: EINVAL");
	fin.out = (uintptr_t)out;
	ok(xioctl(GCHEAP_IOC_FINALIZERS, &fin) == 0 && fin.count == 0,
	   "no finalizer queued: none taken, no wait");

	/* The object is reachable through the root: a cycle keeps it. */
	ok(gc(GCHEAP_GC_SWEEP, stats().num_gc, 0, 0, 0) == 0 && stats().finalizers == 1,
	   "a reachable finalizable object is not finalized");
	/* Unreachable: queued once, handed out once. */
	roots[0] = 0;
	ok(gc(GCHEAP_GC_SWEEP, stats().num_gc, 0, 0, 0) == 0 && stats().finalizers == 0 &&
	   stats().finalizers_queued == 1, "unreachable: its finalizer is queued");
	fin.count = 1;
	fin.out = 8;	/* unwritable */
	BAD(xioctl(GCHEAP_IOC_FINALIZERS, &fin), -EFAULT,
	    "finalizers to a bad pointer: EFAULT, nothing lost");
	fin.count = 1;
	fin.out = (uintptr_t)out;
	ok(xioctl(GCHEAP_IOC_FINALIZERS, &fin) == 0 && fin.count == 1 && out[0].obj == a.base &&
	   out[0].fn == 0x5678 && out[0].arg == 7, "the finalizer is handed out with its object");
	fin.count = 1;
	ok(xioctl(GCHEAP_IOC_FINALIZERS, &fin) == 0 && fin.count == 0, "and only once");
	ok(root(GCHEAP_ROOT_REMOVE, (uintptr_t)roots, (uintptr_t)(roots + 4)) == 0, "root range removed");

	BAD(xioctl(GCHEAP_IOC_SETGC, &sg), -EINVAL, "GOGC below -1: EINVAL");
	sg.gogc = 50;
	ok(xioctl(GCHEAP_IOC_SETGC, &sg) == 0 && sg.gogc == 100 && stats().gogc == 50,
	   "GOGC set to 50, 100 before");
	sg.gogc = GCHEAP_GOGC_OFF;
	ok(xioctl(GCHEAP_IOC_SETGC, &sg) == 0 && stats().next_gc == ~0ULL, "GOGC off: no goal");
	sg.flags = 1u << 7;
	BAD(xioctl(GCHEAP_IOC_SETGC, &sg), -EINVAL, "SETGC with an unknown flag: EINVAL");
	sg.flags = GCHEAP_SETGC_LIMIT | GCHEAP_SETGC_KEEP_GOGC;
	sg.memory_limit = 0;
	BAD(xioctl(GCHEAP_IOC_SETGC, &sg), -EINVAL, "a memory limit of 0: EINVAL");
	sg.memory_limit = 8 << 20;
	sg.__reserved = 1;
	BAD(xioctl(GCHEAP_IOC_SETGC, &sg), -EINVAL, "SETGC with reserved set: EINVAL");
	sg.__reserved = 0;
	sg.gogc = -7;	/* ignored: GOGC kept */
	ok(xioctl(GCHEAP_IOC_SETGC, &sg) == 0 && sg.gogc == GCHEAP_GOGC_OFF &&
	   sg.memory_limit == GCHEAP_NO_LIMIT && stats().gogc == GCHEAP_GOGC_OFF,
	   "an 8 MiB limit, GOGC kept (off); there was no limit");
	sg.memory_limit = GCHEAP_NO_LIMIT;
	ok(xioctl(GCHEAP_IOC_SETGC, &sg) == 0 && sg.memory_limit == 8 << 20 &&
	   stats().next_gc == ~0ULL, "the limit lifted: no goal again, 8 MiB before");
	sg.flags = GCHEAP_SETGC_MAX | GCHEAP_SETGC_KEEP_GOGC;
	sg.memory_max = 0;
	BAD(xioctl(GCHEAP_IOC_SETGC, &sg), -EINVAL, "a memory_max of 0: EINVAL");
	sg.flags = 0;
	{
		struct gcheap_scavenge sc = { .size = sizeof(sc), .flags = 1 };

		BAD(xioctl(GCHEAP_IOC_SCAVENGE, &sc), -EINVAL, "SCAVENGE with a flag: EINVAL");
		sc.flags = 0;
		sc.__reserved = 1;
		BAD(xioctl(GCHEAP_IOC_SCAVENGE, &sc), -EINVAL, "SCAVENGE with reserved set: EINVAL");
		sc.__reserved = 0;
		sc.released = 5;
		BAD(xioctl(GCHEAP_IOC_SCAVENGE, &sc), -EINVAL, "SCAVENGE with output set: EINVAL");
		sc.released = 0;
		ok(xioctl(GCHEAP_IOC_SCAVENGE, &sc) == 0 &&
		   stats().heap_resident == stats().heap_inuse,
		   "SCAVENGE: every idle page given back (%llu bytes)",
		   (unsigned long long)sc.released);
	}
	ok(attach(GCHEAP_THREAD_DETACH, 0) == 0 && stats().threads == 0, "detach");
	BAD(refill(4, 0, NULL, NULL), -EPERM, "a detached thread cannot allocate: EPERM");
}

int main(void)
{
	/*
	 * Each bad call must leave the stats exactly as they were: no
	 * background scavenger may give pages back between the two looks.
	 */
	if (!ok(knob_set("scavenge_percent", "0") == 0, "background scavenger off"))
		return tap_done();
	fd = open(GCHEAP_DEVICE, O_RDWR | O_CLOEXEC);
	if (!ok(fd >= 0, "open"))
		return tap_done();
	test_before_mmap();
	test_mmap();
	if (!base)
		return tap_done();
	test_refill_args();
	test_give_back();
	test_batch();
	test_large_args();
	test_touch_and_fork();
	test_tiny_free();
	test_ctrl_page();
	test_collector();
	test_cache_report();
	return tap_done();
}
