// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The write barrier's ABI against hostile callers: GCHEAP_IOC_SET_MODE
 * only before the heap is mapped and while no thread is attached, its
 * bad values and sizes; GCHEAP_IOC_WB_FLUSH with counts over the cap, 0,
 * words at unmapped, read-only, kernel and half-mapped addresses, bad
 * flags, older and longer structs, from a thread that is not attached;
 * PARK version 1's barrier buffer, bad and good, beside version 0; and
 * that words handed over while no cycle marks keep nothing alive, by a
 * flush or by a real park during a collection.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "uapi/gcheap.h"
#include "tap.h"

#define HEAP_LEN	(2 * GCHEAP_CHUNK_SIZE)

static int fd = -1;
static uintptr_t base;
static long psz;
static const volatile struct gcheap_ctrl *ctrl;
static __thread uintptr_t my_stack_hi;
/* What the stop handler hands over with its park (not a root: never registered). */
static uint64_t park_words[4];
static atomic_int parks_ok;

static int xioctl(unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

/* @cmd with the size bits of a @size-byte struct, as another header has it. */
static unsigned long sized(unsigned long cmd, unsigned int size)
{
	return (cmd & ~((unsigned long)_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
	       ((unsigned long)size << _IOC_SIZESHIFT);
}

/* @arg (@ssize bytes) as a caller whose struct is @usize bytes, @tail its last byte. */
static int call(unsigned long cmd, const void *arg, size_t ssize, unsigned int usize, int tail)
{
	_Alignas(8) unsigned char buf[4096] = { 0 };

	memcpy(buf, arg, ssize < usize ? ssize : usize);
	*(uint32_t *)buf = usize;
	if (usize > ssize)
		buf[usize - 1] = (unsigned char)tail;
	return ioctl(fd, sized(cmd, usize), buf) < 0 ? -errno : 0;
}

static int set_mode(uint32_t mode, uint64_t flags)
{
	struct gcheap_mode req = { .size = sizeof(req), .mode = mode, .flags = flags };

	return xioctl(GCHEAP_IOC_SET_MODE, &req);
}

static int flush(const void *ptrs, uint32_t count)
{
	struct gcheap_wb_flush req = { .size = sizeof(req), .count = count,
				       .ptrs = (uintptr_t)ptrs };

	return xioctl(GCHEAP_IOC_WB_FLUSH, &req);
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

static int thread_op(uint32_t op)
{
	struct gcheap_thread req = { .size = sizeof(req), .op = op };

	if (op == GCHEAP_THREAD_ATTACH)
		req.stack_hi = my_stack_hi = stack_top();
	return xioctl(GCHEAP_IOC_THREAD, &req);
}

static struct gcheap_stats stats(void)
{
	struct gcheap_stats st = { .size = sizeof(st) };

	if (ioctl(fd, GCHEAP_IOC_STATS, &st) < 0)
		memset(&st, 0xff, sizeof(st));
	return st;
}

static int gc(void)
{
	struct gcheap_gc req = { .size = sizeof(req), .flags = GCHEAP_GC_FORCE | GCHEAP_GC_SWEEP,
				 .since = ctrl->gc_started };

	return xioctl(GCHEAP_IOC_GC, &req);
}

/* The stop handler: park, handing over park_words as the barrier's leftovers. */
static void on_stop(int sig)
{
	struct gcheap_park park = { .size = sizeof(park) };
	int saved = errno;

	(void)sig;
	park.stack.lo = (uintptr_t)&park;
	park.stack.hi = my_stack_hi;
	park.wb_ptrs = (uintptr_t)park_words;
	park.wb_count = 4;
	if (ioctl(fd, GCHEAP_IOC_PARK, &park) == 0)
		atomic_fetch_add(&parks_ok, 1);
	errno = saved;
}

/* The mode: fixed before the heap is mapped and while no thread is attached. */
static void test_mode(void)
{
	struct gcheap_mode m = { .mode = GCHEAP_MODE_CONCURRENT };
	void *p;

	ok(ctrl->gc_mode == GCHEAP_MODE_STW && ctrl->gc_phase == GCHEAP_PHASE_OFF &&
	   ctrl->wb_enabled == 0, "a new heap: STW, phase off, barrier off");
	ok(set_mode(GCHEAP_MODE_CONCURRENT, 0) == 0 && ctrl->gc_mode == GCHEAP_MODE_CONCURRENT,
	   "SET_MODE CONCURRENT before mapping: recorded in the control page");
	ok(set_mode(GCHEAP_MODE_STW, 0) == 0 && ctrl->gc_mode == GCHEAP_MODE_STW,
	   "SET_MODE may change its mind before mapping");
	ok(set_mode(2, 0) == -EINVAL && set_mode(~0u, 0) == -EINVAL, "unknown mode: EINVAL");
	ok(set_mode(GCHEAP_MODE_CONCURRENT, 1) == -EINVAL, "unknown flag: EINVAL");
	ok(ctrl->gc_mode == GCHEAP_MODE_STW, "and neither changed the mode");
	ok(call(GCHEAP_IOC_SET_MODE, &m, sizeof(m), GCHEAP_MODE_SIZE_VER0 - 1, 0) == -EINVAL,
	   "SET_MODE shorter than version 0: EINVAL");
	ok(call(GCHEAP_IOC_SET_MODE, &m, sizeof(m), sizeof(m) + 8, 1) == -E2BIG,
	   "SET_MODE longer, non-zero tail: E2BIG");
	ok(ctrl->gc_mode == GCHEAP_MODE_STW, "nothing changed");
	ok(call(GCHEAP_IOC_SET_MODE, &m, sizeof(m), sizeof(m) + 8, 0) == 0 &&
	   ctrl->gc_mode == GCHEAP_MODE_CONCURRENT, "SET_MODE longer, zero tail: accepted");

	ok(flush(park_words, 1) == -EPERM, "WB_FLUSH from a thread not attached: EPERM");
	ok(thread_op(GCHEAP_THREAD_ATTACH) == 0, "attached before mapping");
	ok(set_mode(GCHEAP_MODE_STW, 0) == -EBUSY && ctrl->gc_mode == GCHEAP_MODE_CONCURRENT,
	   "SET_MODE with a thread attached: EBUSY, mode kept");
	ok(thread_op(GCHEAP_THREAD_DETACH) == 0 && set_mode(GCHEAP_MODE_CONCURRENT, 0) == 0,
	   "no thread attached and not mapped: allowed again");

	p = mmap(NULL, HEAP_LEN + GCHEAP_PAGE_SIZE, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p != MAP_FAILED)
		p = mmap((void *)(((uintptr_t)p + GCHEAP_PAGE_SIZE - 1) & ~(GCHEAP_PAGE_SIZE - 1)),
			 HEAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	if (!ok(p != MAP_FAILED, "heap mapped"))
		return;
	base = (uintptr_t)p;
	ok(set_mode(GCHEAP_MODE_STW, 0) == -EBUSY, "SET_MODE once mapped, no thread: EBUSY");
	ok(set_mode(GCHEAP_MODE_CONCURRENT, 0) == -EBUSY, "even to the same mode");
	ok(ctrl->gc_mode == GCHEAP_MODE_CONCURRENT && ctrl->wb_enabled == 0 &&
	   ctrl->gc_phase == GCHEAP_PHASE_OFF,
	   "a CONCURRENT heap between cycles: phase off, barrier off");
	ok(thread_op(GCHEAP_THREAD_ATTACH) == 0, "main thread attached");
}

static void test_flush(void)
{
	static uint64_t words[GCHEAP_WB_MAX + 1];
	struct gcheap_wb_flush f = { .count = 2, .ptrs = (uintptr_t)words };
	struct gcheap_large big = { .size = sizeof(big), .bytes = 65536 };
	struct gcheap_stats before, after;
	const uint64_t kernel = 0xffff888000000000ULL;
	unsigned int i;
	char *ro, *hole;

	if (!ok(xioctl(GCHEAP_IOC_ALLOC_LARGE, &big) == 0, "a large object to name"))
		return;
	/* Every kind of word: the object, inside it, outside the heap, garbage. */
	for (i = 0; i <= GCHEAP_WB_MAX; i++)
		words[i] = i % 4 == 0 ? big.base : i % 4 == 1 ? big.base + 8 * i :
			   i % 4 == 2 ? kernel + i : (uint64_t)i * 0x9e3779b97f4a7c15ULL;
	before = stats();
	ok(flush(words, GCHEAP_WB_MAX) == 0, "WB_FLUSH of GCHEAP_WB_MAX words of anything: 0");
	ok(flush(words, GCHEAP_WB_MAX + 1) == -EINVAL, "count over GCHEAP_WB_MAX: EINVAL");
	ok(flush(words, UINT32_MAX) == -EINVAL, "count 2^32-1: EINVAL, not truncated");
	ok(flush((void *)(uintptr_t)1, 0) == 0, "count 0, ptrs garbage: 0");
	ok(flush(NULL, 1) == -EFAULT, "ptrs NULL: EFAULT");
	ok(flush((void *)(uintptr_t)kernel, 1) == -EFAULT, "ptrs a kernel address: EFAULT");
	ok(flush((void *)(uintptr_t)-8, 1) == -EFAULT, "ptrs the last word of the address space: EFAULT");
	hole = mmap(NULL, 2 * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ok(hole != MAP_FAILED, "two pages")) {
		munmap(hole + psz, psz);
		ok(flush(hole + psz, 1) == -EFAULT, "ptrs unmapped: EFAULT");
		ok(flush(hole + psz - 8, 2) == -EFAULT, "last word unmapped: EFAULT");
		ok(flush(hole + psz - 8, 1) == 0, "the word before it: 0");
		munmap(hole, psz);
	}
	ro = mmap(NULL, psz, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ok(ro != MAP_FAILED, "a read-only page"))
		ok(flush(ro, (uint32_t)(psz / 8 < GCHEAP_WB_MAX ? psz / 8 : GCHEAP_WB_MAX)) == 0,
		   "ptrs read-only: 0 (only read)");
	f.flags = 1;
	ok(call(GCHEAP_IOC_WB_FLUSH, &f, sizeof(f), sizeof(f), 0) == -EINVAL, "unknown flag: EINVAL");
	f.flags = 1ULL << 63;
	ok(call(GCHEAP_IOC_WB_FLUSH, &f, sizeof(f), sizeof(f), 0) == -EINVAL, "flag bit 63: EINVAL");
	f.flags = 0;
	ok(call(GCHEAP_IOC_WB_FLUSH, &f, sizeof(f), GCHEAP_WB_FLUSH_SIZE_VER0 - 1, 0) == -EINVAL,
	   "shorter than version 0: EINVAL");
	ok(call(GCHEAP_IOC_WB_FLUSH, &f, sizeof(f), sizeof(f) + 8, 0) == 0,
	   "longer, zero tail: accepted");
	ok(call(GCHEAP_IOC_WB_FLUSH, &f, sizeof(f), sizeof(f) + 8, 1) == -E2BIG,
	   "longer, non-zero tail: E2BIG");
	ok(call(GCHEAP_IOC_WB_FLUSH, &f, sizeof(f), 4097, 0) == -E2BIG, "over a page: E2BIG");
	after = stats();
	ok(after.heap_alloc == before.heap_alloc && after.large_objects == before.large_objects &&
	   after.num_gc == before.num_gc, "flushes changed no accounting");

	/* No cycle marks: the words kept nothing, the object dies with no other reference. */
	for (i = 0; i <= GCHEAP_WB_MAX; i++)
		words[i] = 0;
	park_words[0] = 0;
	before = stats();
	ok(gc() == 0, "a collection");
	after = stats();
	ok(after.large_objects == before.large_objects - 1,
	   "the object named only by flushes is freed (%llu -> %llu large objects)",
	   (unsigned long long)before.large_objects, (unsigned long long)after.large_objects);
}

static void *parker(void *arg)
{
	atomic_int *state = arg;

	if (thread_op(GCHEAP_THREAD_ATTACH)) {
		atomic_store(state, -1);
		return NULL;
	}
	atomic_store(state, 1);
	while (atomic_load(state) == 1)
		usleep(1000);
	thread_op(GCHEAP_THREAD_DETACH);
	return NULL;
}

static void test_park(void)
{
	struct gcheap_park p = { .size = sizeof(p) };
	struct gcheap_large big = { .size = sizeof(big), .bytes = 65536 };
	struct gcheap_large blocker = { .size = sizeof(blocker), .bytes = 65536 };
	struct gcheap_object obj = { .size = sizeof(obj) };
	atomic_int state = 0;
	pthread_t t;
	int i, ret;

	p.stack.lo = (uintptr_t)&p;
	p.stack.hi = my_stack_hi;
	p.wb_ptrs = (uintptr_t)park_words;
	p.wb_count = GCHEAP_WB_MAX + 1;
	ok(xioctl(GCHEAP_IOC_PARK, &p) == -EINVAL, "PARK, wb_count over GCHEAP_WB_MAX: EINVAL");
	p.wb_count = 1;
	p.__reserved2 = 1;
	ok(xioctl(GCHEAP_IOC_PARK, &p) == -EINVAL, "PARK, reserved field set: EINVAL");
	p.__reserved2 = 0;
	p.wb_ptrs = 0xffff888000000000ULL;
	ok(xioctl(GCHEAP_IOC_PARK, &p) == -EFAULT, "PARK, wb_ptrs a kernel address: EFAULT");
	p.wb_ptrs = 8;
	ok(xioctl(GCHEAP_IOC_PARK, &p) == -EFAULT, "PARK, wb_ptrs unmapped: EFAULT");
	p.wb_ptrs = (uintptr_t)park_words;
	p.wb_count = 4;
	ok(xioctl(GCHEAP_IOC_PARK, &p) == 0, "PARK with a buffer, no stop: returns at once");
	ok(call(GCHEAP_IOC_PARK, &p, sizeof(p), GCHEAP_PARK_SIZE_VER0, 0) == 0,
	   "PARK at version 0's size (no buffer): still accepted");
	p.stack.hi = 0;
	ok(xioctl(GCHEAP_IOC_PARK, &p) == -EINVAL, "PARK with a buffer and a foreign stack: EINVAL");

	/*
	 * A real stop: the other thread parks, handing over words naming an
	 * object. The object must be at an address the parked thread's
	 * stack and signal frame cannot hold by chance: a new thread starts
	 * with its creator's vector registers, and this thread's may still
	 * hold test_flush's object, whose pages the next allocation of its
	 * size gets back. So the blocker takes those, the named object
	 * comes after, and the thread is created before either.
	 */
	if (!ok(pthread_create(&t, NULL, parker, &state) == 0, "a second thread"))
		return;
	while (atomic_load(&state) == 0)
		usleep(1000);
	if (!ok(xioctl(GCHEAP_IOC_ALLOC_LARGE, &blocker) == 0 &&
		xioctl(GCHEAP_IOC_ALLOC_LARGE, &big) == 0, "an object for the park to name"))
		return;
	park_words[0] = big.base;
	park_words[1] = big.base + 4096;
	park_words[2] = 0xffff888000000000ULL;
	park_words[3] = 1;
	/* The collector's own stack is not scanned: big.base there keeps nothing. */
	ok(atomic_load(&state) == 1 && gc() == 0, "a collection with a thread to stop");
	/*
	 * A concurrent cycle stops it twice: at the first stop the phase is
	 * OFF and its words are dropped; at mark termination they are greyed.
	 * It returns from its parks once the world restarts, maybe after
	 * gc() did.
	 */
	for (i = 0; i < 2000 && atomic_load(&parks_ok) < 2; i++)
		usleep(1000);
	ok(atomic_load(&parks_ok) >= 2, "its parks, handing over a barrier buffer, succeeded (%d)",
	   atomic_load(&parks_ok));
	obj.addr = big.base;
	ret = xioctl(GCHEAP_IOC_OBJECT, &obj);
	ok(ret == 0 && (obj.flags & GCHEAP_OBJECT_ALLOCATED),
	   "the object named only by its buffer at mark termination is kept "
	   "(OBJECT: %d, flags %#llx)", ret, (unsigned long long)obj.flags);
	atomic_store(&state, 2);
	pthread_join(t, NULL);
}

int main(void)
{
	struct gcheap_info info = { .size = sizeof(info) };
	struct sigaction sa = { .sa_handler = on_stop, .sa_flags = SA_RESTART };
	void *p;

	psz = sysconf(_SC_PAGESIZE);
	fd = open(GCHEAP_DEVICE, O_RDWR | O_CLOEXEC);
	if (!ok(fd >= 0, "open"))
		return tap_done();
	p = mmap(NULL, (size_t)psz, PROT_READ, MAP_SHARED, fd, (off_t)GCHEAP_CTRL_OFFSET);
	if (!ok(p != MAP_FAILED, "control page mapped"))
		return tap_done();
	ctrl = p;
	if (!ok(xioctl(GCHEAP_IOC_INFO, &info) == 0 && sigaction(info.stw_signal, &sa, NULL) == 0,
		"stop signal handler installed"))
		return tap_done();
	test_mode();
	if (!base)
		return tap_done();
	test_flush();
	test_park();
	return tap_done();
}
