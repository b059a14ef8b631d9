// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A seeded fuzzer for /dev/gcheap. Child processes each open their own heap
 * and run random sequences of mmap, munmap, mremap, mprotect, madvise, fork,
 * memory accesses, signals and every ioctl of uapi/gcheap.h, with random and
 * boundary sizes, flags, counts and pointers (NULL, unmapped, kernel and
 * non-canonical addresses, read-only memory, the heap, the control page, the
 * argument itself), from several threads, and exit or are killed at random
 * points: while parked, while the collector scans a parked thread's huge
 * stack, while a fork child holds the mapping. Beside them a well-behaved
 * process uses libgcheap with a shadow copy of its data, which must stay
 * intact. The kernel's own reports (KASAN, lockdep, WARN, hung tasks) are
 * the harness's to catch on the console; this program checks what user
 * space can see:
 *   - every child ends by exit(0), by the exit or SIGKILL it chose, or by
 *     the parent's SIGKILL; nothing else (an unexpected SIGSEGV, SIGBUS or
 *     stop-signal death is a failure, reported with the child's seed and
 *     its last operations);
 *   - no call succeeds where it must fail (unknown command ENOTTY, short
 *     struct EINVAL, unknown trailing bytes E2BIG, bad flags EINVAL, any
 *     ioctl from a forked child EPERM), and successes return sane values;
 *   - every child can be killed (none survives SIGKILL);
 *   - afterwards a fresh heap still works, and the well-behaved heap's
 *     objects are intact.
 *
 * Reproducing: the program prints its seed; `fuzz -s SEED` replays the run,
 * `fuzz -s SEED -c N` only child N. Each thread draws from its own
 * generator seeded from the child's seed, so a single-threaded child
 * (`-t 1`) replays the same operations with the same arguments; with
 * several threads the interleaving, and what the operations find, is
 * reproducible only as far as scheduling allows.
 *
 * Usage: fuzz [-s SEED] [-n OPS] [-o OPS_PER_CHILD] [-t MAX_THREADS]
 *             [-j PARALLEL] [-c CHILD] [-k 0|1]
 * -n OPS is the operations to run in all: children of OPS_PER_CHILD
 * operations each are started until that many have run (a child that
 * dies early, as many do, runs fewer than it planned), and a run that
 * cannot get there (children dying at once, again and again) says so.
 * Environment: GCHEAP_FUZZ_SEED, GCHEAP_FUZZ_OPS, GCHEAP_FUZZ_THREADS,
 * GCHEAP_FUZZ_KILL (as -s, -n, -t, -k); GCHEAP_SOAK=1 runs a million
 * operations. -k 0 (GCHEAP_FUZZ_KILL=0) leaves out every death
 * while a child runs (its own exit or SIGKILL at a random point, while
 * parked or scanning, and the parent's SIGKILL), to fuzz the rest on a
 * kernel that cannot survive those yet.
 *
 * Threads the fuzz makes not park would make every stop wait the module's
 * stw_timeout_ms: the run lowers it to 200 ms (sysfs) and restores it.
 * tests/check's fuzz phase runs this alone in a guest (make check: a few
 * thousand operations on the debug kernel; make soak: a million).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "uapi/gcheap.h"
#include "gcheap.h"
#include "tap.h"		/* tests/user/ */

#define SYS_PAGE	4096UL
#define MAX_THREADS	4
#define ARENA_SLOTS	16
#define SLOT_SIZE	(8 * GCHEAP_CHUNK_SIZE)	/* 32 MiB */
#define POOL		256
#define RING		32
#define EXIT_CHOSEN	3	/* a child's own exit at a random point */
#define BIG_STACK	(1UL << 30)	/* item 1's unpopulated "stack" */
#define MID_STACK	(2UL << 20)
#define KSTACK		(256UL << 10)

/* --- generator: splitmix64, one per thread --- */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

struct rng { uint64_t s; };

static uint64_t rnd(struct rng *r)
{
	r->s += 0x9e3779b97f4a7c15ULL;
	return mix(r->s);
}

static uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static bool chance(struct rng *r, unsigned int pct)
{
	return below(r, 100) < pct;
}

/* --- what a child shares with the parent --- */
struct op_rec {
	uint32_t seq;
	uint16_t op, tid;
	int32_t ret;
	uint64_t a, b;
};

struct shared {
	atomic_int chosen_death;	/* 0, EXIT_CHOSEN or SIGKILL: the child's own end */
	atomic_ulong ops;
	atomic_uint violations;
	char violation[256];
	atomic_uint ring_pos;
	struct op_rec ring[RING];
	atomic_ulong calls[128], successes[128];	/* per op code, for coverage */
};

/* --- the child's state --- */
enum park_mode { PARK_OK, PARK_GARBAGE, PARK_NONE, PARK_BIG, PARK_EXIT, PARK_TWICE, PARK_NMODES };

struct thr {
	struct rng r;
	int idx;
	pid_t tid;
	pthread_t pt;
	uintptr_t stack_lo, stack_hi;	/* real pthread stack */
	uintptr_t attached_hi;		/* what ATTACH got, 0 if detached */
	uintptr_t park_lo;		/* PARK_BIG: lo to park with */
	atomic_int park_mode;
	volatile bool probing;		/* a fault now is expected: longjmp to jb */
	sigjmp_buf jb;
	unsigned long nops;
	unsigned char *scratch;		/* 2 pages then a PROT_NONE guard */
	timer_t timer;
	bool has_timer;
};

struct slot {
	uintptr_t addr;		/* start of the slot in the arena */
	size_t len;		/* bytes mapped from the device at addr, 0: reserved only */
};

static struct {
	uint64_t seed;
	int idx;
	struct shared *sh;
	int fd;
	struct gcheap_info info;
	const volatile struct gcheap_ctrl *ctrl;	/* never unmapped by the fuzz */
	unsigned char *ro;		/* a read-only page */
	unsigned char *arena;
	struct slot slots[ARENA_SLOTS];
	pthread_mutex_t lock;		/* slots and pools */
	uint64_t objs[POOL], spans[POOL];
	unsigned int nobj, nspan;
	unsigned char *mid, *big;	/* unpopulated stacks */
	void *kstacks[2];		/* the scan-kill scenario's threads */
	struct thr thr[MAX_THREADS + 2];
	int nthr;
	pthread_barrier_t start;	/* no thread fuzzes before all have their stacks */
	bool kill_scenarios;
} C;

static __thread struct thr *self;

static void violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void violation(const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&C.sh->violations, 1) == 0) {
		va_start(ap, fmt);
		vsnprintf(C.sh->violation, sizeof(C.sh->violation), fmt, ap);
		va_end(ap);
	}
}

static void record(int op, int ret, uint64_t a, uint64_t b)
{
	unsigned int pos = atomic_fetch_add(&C.sh->ring_pos, 1);
	struct op_rec *o = &C.sh->ring[pos % RING];

	o->seq = pos;
	o->op = op;
	o->tid = self ? self->idx : 99;
	o->ret = ret;
	o->a = a;
	o->b = b;
	atomic_fetch_add(&C.sh->ops, 1);
	atomic_fetch_add(&C.sh->calls[op & 127], 1);
	if (ret >= 0)
		atomic_fetch_add(&C.sh->successes[op & 127], 1);
}

/* --- signal handlers --- */
int main(int argc, char **argv);

/* What is mapped around an address the fuzz itself faulted on. */
static void dump_maps(uintptr_t addr)
{
	char line[256];
	FILE *f = fopen("/proc/self/maps", "r");

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && hi + (64 << 20) > addr &&
		    lo < addr + (64 << 20))
			printf("#   %s", line);
	}
	if (f)
		fclose(f);
}

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
	char msg[160];
	int n;

	if (self && self->probing) {
		self->probing = false;
		siglongjmp(self->jb, sig);
	}
	/* Not a probe: die of it, so the parent reports it. */
	n = snprintf(msg, sizeof(msg), "# fuzz: thread %d: signal %d at %p, ip %#llx (main at %p)\n",
		     self ? self->idx : -1, sig, si->si_addr,
		     (unsigned long long)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP], (void *)main);
	if (write(1, msg, n) == n)
		dump_maps((uintptr_t)si->si_addr);
	signal(sig, SIG_DFL);
}

static void nop_handler(int sig)
{
	(void)sig;
}

static void stw_park(uintptr_t lo, uintptr_t hi, const ucontext_t *uc)
{
	struct gcheap_park req;

	memset(&req, 0, sizeof(req));
	req.size = sizeof(req);
	req.stack.lo = lo;
	req.stack.hi = hi;
	if (uc)
		memcpy(req.stack.regs, &uc->uc_mcontext, sizeof(req.stack.regs));
	ioctl(C.fd, GCHEAP_IOC_PARK, &req);
}

/* The stop signal: park as the thread's current mode says. */
static void stw_handler(int sig, siginfo_t *si, void *uctx)
{
	int saved = errno;
	uintptr_t lo = (uintptr_t)&saved & ~7UL;
	struct thr *t = self;

	(void)sig;
	(void)si;
	if (!t || !(C.ctrl->stw_seq & 1))
		goto out;
	switch (atomic_load(&t->park_mode)) {
	case PARK_OK:
		stw_park(lo, t->attached_hi, uctx);
		break;
	case PARK_GARBAGE:
		stw_park(t->attached_hi, lo, NULL);
		stw_park(0, ~0UL, NULL);
		stw_park(lo, t->attached_hi, uctx);
		break;
	case PARK_NONE:
		break;
	case PARK_BIG:
		stw_park(t->park_lo, t->attached_hi, uctx);
		break;
	case PARK_EXIT:
		atomic_store(&C.sh->chosen_death, EXIT_CHOSEN);
		_exit(EXIT_CHOSEN);
	case PARK_TWICE:
		stw_park(lo, t->attached_hi, uctx);
		stw_park(lo, t->attached_hi, uctx);
		break;
	}
out:
	errno = saved;
}

/* --- addresses the fuzz feeds the kernel --- */
static uint64_t heap_base(void)
{
	return C.info.heap_base;
}

static uint64_t pool_pick(struct rng *r, const uint64_t *pool, unsigned int n)
{
	uint64_t v;

	pthread_mutex_lock(&C.lock);
	v = n ? pool[below(r, n < POOL ? n : POOL)] : 0;
	pthread_mutex_unlock(&C.lock);
	return v;
}

static void pool_add(uint64_t *pool, unsigned int *n, uint64_t v)
{
	pthread_mutex_lock(&C.lock);
	pool[(*n)++ % POOL] = v;
	pthread_mutex_unlock(&C.lock);
}

static uint64_t pick_ptr(struct rng *r, void *self_arg)
{
	uint64_t hb = heap_base(), hm = C.info.heap_max;

	switch (below(r, 24)) {
	case 0: return 0;
	case 1: return 0x1000;
	case 2: return 0xffffffff81000000ULL;
	case 3: return 0xffff888000000000ULL;
	case 4: return 0x0000800000000000ULL;	/* first non-canonical */
	case 5: return ~0ULL - below(r, 16);
	case 6: return (uintptr_t)C.ro + below(r, SYS_PAGE) / 8 * 8;
	case 7: return (uintptr_t)C.ro + SYS_PAGE - 8;
	case 8: return hb;
	case 9: return hm ? hb + below(r, hm) / 8 * 8 : rnd(r);
	case 10: return hb + hm - 8;
	case 11: return (uintptr_t)C.ctrl;
	case 12: return (uintptr_t)self->scratch + below(r, 2 * SYS_PAGE);
	case 13: return (uintptr_t)self->scratch + 2 * SYS_PAGE - 8;	/* to the guard */
	case 14: return pool_pick(r, C.objs, C.nobj);
	case 15: return pool_pick(r, C.objs, C.nobj) + below(r, 64);
	case 16: return pool_pick(r, C.spans, C.nspan);
	/*
	 * Not the real stack: the kernel writes through these pointers (links
	 * it clears, tables it fills), and a zeroed return address would be
	 * the fuzz's own doing. The stack ranges of PARK and GC, which the
	 * kernel only reads, use the real stack.
	 */
	case 17: return (uintptr_t)C.mid + MID_STACK - 8 * (1 + below(r, 64));
	case 18: return (uintptr_t)C.big + below(r, BIG_STACK);
	case 19: return rnd(r);
	case 20: return (uintptr_t)C.arena + below(r, ARENA_SLOTS * SLOT_SIZE);
	case 21: return (uintptr_t)self_arg;
	case 22: return (uintptr_t)C.mid + below(r, MID_STACK);
	default: return (uintptr_t)self->scratch;
	}
}

/* Struct sizes: mostly right, else boundaries around the versions. */
static uint32_t pick_size(struct rng *r, uint32_t full, uint32_t ver0)
{
	switch (below(r, 16)) {
	case 0: return ver0;
	case 1: return ver0 - 1;
	case 2: return 0;
	case 3: return 4;
	case 4: return full + 8;
	case 5: return full + 64;
	case 6: return SYS_PAGE;
	case 7: return UINT32_MAX;
	case 8: return (uint32_t)rnd(r);
	case 9: return full - 8;
	default: return full;
	}
}

static uint64_t pick_count(struct rng *r)
{
	static const uint64_t v[] = { 0, 1, 2, 15, 16, 17, 64, 68, 69, 1024, 0x7fffffff,
				      0x80000000, 0xffffffff, 1ULL << 32, ~0ULL };

	return chance(r, 60) ? below(r, 20) : v[below(r, sizeof(v) / sizeof(v[0]))];
}

static uint64_t pick_bytes(struct rng *r)
{
	static const uint64_t v[] = { 0, 1, 8, 16, GCHEAP_MAX_SMALL_SIZE, GCHEAP_MAX_SMALL_SIZE + 1,
				      GCHEAP_PAGE_SIZE, GCHEAP_CHUNK_SIZE - 1, GCHEAP_CHUNK_SIZE,
				      GCHEAP_CHUNK_SIZE + 1, 1ULL << 31, 1ULL << 32, 1ULL << 50,
				      ~0ULL - GCHEAP_PAGE_SIZE, ~0ULL };

	if (chance(r, 50))
		return GCHEAP_MAX_SMALL_SIZE + 1 + below(r, 256 * 1024);
	return v[below(r, sizeof(v) / sizeof(v[0]))];
}

static uint64_t pick_flags(struct rng *r, uint64_t known)
{
	switch (below(r, 6)) {
	case 0: return 0;
	case 1: return rnd(r);
	case 2: return 1ULL << below(r, 64);
	default: return rnd(r) & known;
	}
}

/* --- ioctls --- */
static unsigned int ioc_nr(unsigned long cmd)
{
	return _IOC_NR(cmd);
}

/*
 * Issue @cmd with @arg (a struct of @full bytes in the thread's scratch
 * page, `size` already chosen), sometimes at a bad address instead, and
 * check the rules every command shares. Returns 0 or -errno.
 */
static int do_ioctl(struct rng *r, unsigned long cmd, void *arg, uint32_t full, uint32_t ver0)
{
	uint32_t size = *(uint32_t *)arg;
	bool at_arg = true, tail = false;
	void *p = arg;
	int ret;

	if (chance(r, 8)) {
		p = (void *)(uintptr_t)pick_ptr(r, arg);
		at_arg = p == arg;
	} else if (size > full && size <= 2 * SYS_PAGE - ((uintptr_t)arg - (uintptr_t)self->scratch) &&
		   chance(r, 50)) {
		/* Unknown trailing bytes that are not zero. */
		memset((char *)arg + full, 0, size - full);
		((char *)arg)[full + below(r, size - full)] = 1 + below(r, 255);
		tail = true;
	} else if (size > full && size <= 2 * SYS_PAGE - ((uintptr_t)arg - (uintptr_t)self->scratch)) {
		memset((char *)arg + full, 0, size - full);
	}
	if (chance(r, 3)) {
		/* The same number with another size in the command. */
		cmd = _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd), below(r, 1 << _IOC_SIZEBITS));
		at_arg = false;
	}
	ret = ioctl(C.fd, cmd, p) < 0 ? -errno : 0;
	record(100 + ioc_nr(cmd), ret, (uintptr_t)p, size);
	if (!at_arg)
		return ret;
	if (size < ver0 && ret != -EINVAL)
		violation("ioctl nr %u size %u < %u returned %d, not -EINVAL", ioc_nr(cmd), size, ver0, ret);
	if (size >= ver0 && tail && ret != -E2BIG)
		violation("ioctl nr %u size %u with a non-zero byte past %u returned %d, not -E2BIG",
			  ioc_nr(cmd), size, full, ret);
	return ret;
}

#define SCRATCH(type, name) \
	type *name = (type *)(self->scratch + (chance(r, 10) ? 2 * SYS_PAGE - sizeof(type) : 0)); \
	memset(name, 0, sizeof(type)); \
	name->size = pick_size(r, sizeof(type), 0)

static bool in_heap(uint64_t a)
{
	return heap_base() && a >= heap_base() && a < heap_base() + C.info.heap_max;
}

static void refresh_info(void)
{
	struct gcheap_info in = { .size = sizeof(in) };

	if (!ioctl(C.fd, GCHEAP_IOC_INFO, &in))
		C.info = in;
}

static void op_info(struct rng *r)
{
	SCRATCH(struct gcheap_info, a);
	a->size = pick_size(r, sizeof(*a), GCHEAP_INFO_SIZE_VER0);
	if (!do_ioctl(r, GCHEAP_IOC_INFO, a, sizeof(*a), GCHEAP_INFO_SIZE_VER0) &&
	    a->size == sizeof(*a) && (uintptr_t)a == (uintptr_t)self->scratch &&
	    (a->page_size != GCHEAP_PAGE_SIZE || a->owner_tgid != getpid() ||
	     a->num_size_classes != GCHEAP_NUM_SIZE_CLASSES))
		violation("INFO: page_size %u owner %d classes %u", a->page_size, a->owner_tgid,
			  a->num_size_classes);
}

static void op_size_classes(struct rng *r)
{
	SCRATCH(struct gcheap_size_classes, a);
	a->size = pick_size(r, sizeof(*a), GCHEAP_SIZE_CLASSES_SIZE_VER0);
	a->count = pick_count(r);
	a->classes = chance(r, 50) ? (uintptr_t)self->scratch + SYS_PAGE : pick_ptr(r, a);
	do_ioctl(r, GCHEAP_IOC_SIZE_CLASSES, a, sizeof(*a), GCHEAP_SIZE_CLASSES_SIZE_VER0);
}

static void fill_return(struct rng *r, struct gcheap_span_return *ret)
{
	ret->base = chance(r, 70) ? pool_pick(r, C.spans, C.nspan) : pick_ptr(r, ret);
	for (unsigned int i = 0; i < GCHEAP_SPAN_BITS_WORDS; i++)
		ret->free[i] = chance(r, 50) ? 0 : chance(r, 50) ? ~0ULL : rnd(r);
}

static void op_refill(struct rng *r)
{
	SCRATCH(struct gcheap_refill, a);
	int ret;

	a->size = pick_size(r, sizeof(*a), GCHEAP_REFILL_SIZE_VER0);
	if (chance(r, 50))
		a->size = GCHEAP_REFILL_SIZE_VER0;
	a->spanclass = chance(r, 80) ? 2 + below(r, GCHEAP_NUM_SPAN_CLASSES - 2) :
		       chance(r, 50) ? below(r, 140) : (uint32_t)rnd(r);
	a->flags = chance(r, 60) ? 0 : pick_flags(r, GCHEAP_REFILL_RETURN | GCHEAP_REFILL_NO_NEW);
	if (a->flags & GCHEAP_REFILL_RETURN)
		fill_return(r, &a->ret);
	if (chance(r, 40)) {
		struct gcheap_span_return *rets = (void *)(self->scratch + SYS_PAGE);

		a->nreturn = chance(r, 80) ? below(r, 4) : pick_count(r);
		a->ngrant = chance(r, 80) ? below(r, 4) : pick_count(r);
		for (unsigned int i = 0; i < 4; i++)
			fill_return(r, &rets[i]);
		a->returns = chance(r, 80) ? (uintptr_t)rets : pick_ptr(r, a);
		/* Grants land in the second page past the returns (room for 4). */
		a->grants = chance(r, 80) ? (uintptr_t)self->scratch + SYS_PAGE + 4 * sizeof(*rets) :
			    pick_ptr(r, a);
	}
	ret = do_ioctl(r, GCHEAP_IOC_REFILL, a, sizeof(*a), GCHEAP_REFILL_SIZE_VER0);
	if (a->size >= GCHEAP_REFILL_SIZE_VER0 && (a->flags & ~3ULL) && !ret)
		violation("REFILL with flags %#" PRIx64 " succeeded", (uint64_t)a->flags);
	if (!ret && !(a->flags & GCHEAP_REFILL_NO_NEW) && (uintptr_t)a == (uintptr_t)self->scratch) {
		if (!in_heap(a->base))
			violation("REFILL granted %#" PRIx64 " outside the heap", (uint64_t)a->base);
		pool_add(C.spans, &C.nspan, a->base);
		for (unsigned int i = 0; i < 3; i++)
			pool_add(C.objs, &C.nobj, a->base + (uint64_t)below(r, a->nelems ? a->nelems : 1) *
				 a->elemsize);
	}
}

static void op_alloc_large(struct rng *r)
{
	SCRATCH(struct gcheap_large, a);
	int ret;

	a->size = pick_size(r, sizeof(*a), GCHEAP_LARGE_SIZE_VER0);
	a->__reserved = chance(r, 95) ? 0 : rnd(r);
	a->flags = chance(r, 80) ? below(r, 2) : pick_flags(r, GCHEAP_LARGE_NOSCAN);
	a->bytes = pick_bytes(r);
	ret = do_ioctl(r, GCHEAP_IOC_ALLOC_LARGE, a, sizeof(*a), GCHEAP_LARGE_SIZE_VER0);
	if (!ret && (uintptr_t)a == (uintptr_t)self->scratch && a->size == sizeof(*a)) {
		if (!in_heap(a->base) || a->base % GCHEAP_PAGE_SIZE || a->span_bytes < a->bytes)
			violation("ALLOC_LARGE %" PRIu64 " gave base %#" PRIx64 " span_bytes %" PRIu64,
				  (uint64_t)a->bytes, (uint64_t)a->base, (uint64_t)a->span_bytes);
		pool_add(C.objs, &C.nobj, a->base);
	}
}

static void op_free(struct rng *r)
{
	SCRATCH(struct gcheap_free, a);
	int ret;

	a->size = pick_size(r, sizeof(*a), GCHEAP_FREE_SIZE_VER0);
	a->__reserved = chance(r, 95) ? 0 : rnd(r);
	a->flags = chance(r, 90) ? 0 : rnd(r) | 1;
	a->addr = chance(r, 70) ? pool_pick(r, C.objs, C.nobj) : pick_ptr(r, a);
	ret = do_ioctl(r, GCHEAP_IOC_FREE, a, sizeof(*a), GCHEAP_FREE_SIZE_VER0);
	if (!ret && (a->flags || a->__reserved) && a->size >= GCHEAP_FREE_SIZE_VER0)
		violation("FREE with flags %#" PRIx64 " reserved %#x succeeded", (uint64_t)a->flags,
			  a->__reserved);
}

static void op_stats(struct rng *r)
{
	SCRATCH(struct gcheap_stats, a);
	a->size = pick_size(r, sizeof(*a), GCHEAP_STATS_SIZE_VER0);
	if (chance(r, 30))
		a->size = GCHEAP_STATS_SIZE_VER0;
	do_ioctl(r, GCHEAP_IOC_STATS, a, sizeof(*a), GCHEAP_STATS_SIZE_VER0);
}

static void op_object(struct rng *r)
{
	SCRATCH(struct gcheap_object, a);
	int ret;

	a->size = pick_size(r, sizeof(*a), GCHEAP_OBJECT_SIZE_VER0);
	a->addr = chance(r, 60) ? pool_pick(r, C.objs, C.nobj) + below(r, 32) : pick_ptr(r, a);
	if (chance(r, 5))
		a->flags = rnd(r);
	ret = do_ioctl(r, GCHEAP_IOC_OBJECT, a, sizeof(*a), GCHEAP_OBJECT_SIZE_VER0);
	if (!ret && (uintptr_t)a == (uintptr_t)self->scratch && a->size == sizeof(*a) &&
	    (a->addr < a->base || a->addr - a->base >= a->objsize))
		violation("OBJECT %#" PRIx64 ": base %#" PRIx64 " size %" PRIu64, (uint64_t)a->addr,
			  (uint64_t)a->base, (uint64_t)a->objsize);
}

static uintptr_t pick_stack_hi(struct rng *r)
{
	switch (below(r, 8)) {
	case 0: return (uintptr_t)C.mid + MID_STACK;
	case 1: return (uintptr_t)C.big + BIG_STACK;
	case 2: return pick_ptr(r, NULL);
	case 3: return 0;
	default: return self->stack_hi;
	}
}

static int attach(struct rng *r, uint32_t op, uintptr_t hi, bool fuzz)
{
	SCRATCH(struct gcheap_thread, a);
	int ret;

	a->size = fuzz ? pick_size(r, sizeof(*a), GCHEAP_THREAD_SIZE_VER0) : sizeof(*a);
	a->op = op;
	a->stack_hi = hi;
	/* Known before the call: attaching during a stop signals us at once. */
	if (op == GCHEAP_THREAD_ATTACH && !self->attached_hi)
		self->attached_hi = hi;
	ret = fuzz ? do_ioctl(r, GCHEAP_IOC_THREAD, a, sizeof(*a), GCHEAP_THREAD_SIZE_VER0) :
	      ioctl(C.fd, GCHEAP_IOC_THREAD, a) < 0 ? -errno : 0;
	if (op == GCHEAP_THREAD_ATTACH && ret && self->attached_hi == hi && ret != -EEXIST &&
	    ret != -EBUSY)
		self->attached_hi = 0;
	if (op == GCHEAP_THREAD_DETACH && !ret)
		self->attached_hi = 0;
	return ret;
}

static void op_thread(struct rng *r)
{
	uint32_t op = chance(r, 90) ? 1 + below(r, 2) : (uint32_t)rnd(r) % 5;
	uintptr_t hi = pick_stack_hi(r);

	/* A thread attached with a range it cannot park with would only time out. */
	if (op == GCHEAP_THREAD_ATTACH && hi != self->stack_hi && hi != (uintptr_t)C.mid + MID_STACK &&
	    !chance(r, 10))
		hi = self->stack_hi;
	if (hi == (uintptr_t)C.mid + MID_STACK)
		self->park_lo = (uintptr_t)C.mid;
	else
		self->park_lo = self->stack_lo;
	attach(r, op, hi, true);
}

/* A barrier buffer's length: mostly valid, sometimes over the cap. */
static uint32_t pick_wb_count(struct rng *r)
{
	static const uint32_t v[] = { 0, 1, 2, 511, GCHEAP_WB_MAX, GCHEAP_WB_MAX + 1, UINT32_MAX };

	return chance(r, 80) ? v[below(r, sizeof(v) / sizeof(v[0]))] : (uint32_t)rnd(r);
}

/*
 * A cache report (PARK version 2, GC version 1): spans the fuzz was
 * handed or anything else, random free bits, good or hostile lengths, or
 * no report at all where the pointer should be.
 */
static uint64_t pick_cache_report(struct rng *r)
{
	static __thread struct gcheap_cache_report rep;
	static __thread struct gcheap_span_return spans[4];
	unsigned int i, j;

	if (chance(r, 15))
		return pick_ptr(r, &rep);
	for (i = 0; i < 4; i++) {
		spans[i].base = chance(r, 70) ? pool_pick(r, C.spans, C.nspan) : pick_ptr(r, spans);
		for (j = 0; j < GCHEAP_SPAN_BITS_WORDS; j++)
			spans[i].free[j] = chance(r, 30) ? 0 : chance(r, 50) ? ~0ULL : rnd(r);
	}
	rep.spans = chance(r, 90) ? (uintptr_t)spans : pick_ptr(r, spans);
	rep.nspans = chance(r, 90) ? below(r, 5) :
		     chance(r, 50) ? GCHEAP_CACHE_REPORT_MAX + 1 : (uint32_t)rnd(r);
	rep.taken = 0;
	return (uintptr_t)&rep;
}

static void op_park(struct rng *r)
{
	SCRATCH(struct gcheap_park, a);
	a->size = pick_size(r, sizeof(*a), GCHEAP_PARK_SIZE_VER0);
	a->stack.lo = chance(r, 50) ? (uintptr_t)&a : pick_ptr(r, a);
	a->stack.hi = chance(r, 50) ? self->attached_hi : pick_stack_hi(r);
	/* Version 1: a barrier buffer to hand over, good or hostile. */
	if (chance(r, 30)) {
		a->wb_ptrs = pick_ptr(r, a);
		a->wb_count = pick_wb_count(r);
		a->__reserved2 = chance(r, 95) ? 0 : (uint32_t)rnd(r);
	}
	/* Version 2: the cache, reported. */
	if (chance(r, 30))
		a->cache = pick_cache_report(r);
	do_ioctl(r, GCHEAP_IOC_PARK, a, sizeof(*a), GCHEAP_PARK_SIZE_VER0);
}

static void op_wb_flush(struct rng *r)
{
	SCRATCH(struct gcheap_wb_flush, a);
	int ret;

	a->size = pick_size(r, sizeof(*a), GCHEAP_WB_FLUSH_SIZE_VER0);
	a->count = pick_wb_count(r);
	a->ptrs = pick_ptr(r, a);
	a->flags = chance(r, 90) ? 0 : pick_flags(r, 0);
	ret = do_ioctl(r, GCHEAP_IOC_WB_FLUSH, a, sizeof(*a), GCHEAP_WB_FLUSH_SIZE_VER0);
	if (!ret && (a->count > GCHEAP_WB_MAX || a->flags))
		violation("WB_FLUSH of %u words, flags %#llx, returned 0", a->count,
			  (unsigned long long)a->flags);
}

static void op_set_mode(struct rng *r)
{
	SCRATCH(struct gcheap_mode, a);
	int ret;

	a->size = pick_size(r, sizeof(*a), GCHEAP_MODE_SIZE_VER0);
	a->mode = chance(r, 80) ? below(r, 3) : (uint32_t)rnd(r);
	a->flags = chance(r, 90) ? 0 : pick_flags(r, 0);
	ret = do_ioctl(r, GCHEAP_IOC_SET_MODE, a, sizeof(*a), GCHEAP_MODE_SIZE_VER0);
	/* Once the heap was mapped the mode is fixed for good. */
	if (!ret && heap_base())
		violation("SET_MODE to %u on a mapped heap returned 0", a->mode);
}

static void op_gc(struct rng *r)
{
	SCRATCH(struct gcheap_gc, a);
	a->size = pick_size(r, sizeof(*a), GCHEAP_GC_SIZE_VER0);
	a->flags = chance(r, 85) ? below(r, 8) : pick_flags(r, 7);
	a->since = chance(r, 70) ? C.ctrl->gc_started : chance(r, 50) ? 0 : rnd(r);
	switch (below(r, 4)) {
	case 0:
		break;
	case 1:
		a->stack.lo = (uintptr_t)&a;
		a->stack.hi = self->stack_hi;
		break;
	case 2:
		a->stack.lo = (uintptr_t)C.mid;
		a->stack.hi = (uintptr_t)C.mid + MID_STACK;
		break;
	default:
		a->stack.lo = pick_ptr(r, a);
		a->stack.hi = pick_ptr(r, a);
		break;
	}
	if (chance(r, 30))
		a->cache = pick_cache_report(r);
	do_ioctl(r, GCHEAP_IOC_GC, a, sizeof(*a), GCHEAP_GC_SIZE_VER0);
}

static void op_root(struct rng *r)
{
	SCRATCH(struct gcheap_root, a);
	a->size = pick_size(r, sizeof(*a), GCHEAP_ROOT_SIZE_VER0);
	a->op = chance(r, 90) ? 1 + below(r, 2) : (uint32_t)rnd(r);
	switch (below(r, 5)) {
	case 0:
		a->lo = heap_base();
		a->hi = heap_base() + (chance(r, 10) ? C.info.heap_max : GCHEAP_PAGE_SIZE);
		break;
	case 1:
		a->lo = (uintptr_t)C.mid;
		a->hi = a->lo + MID_STACK;
		break;
	case 2:
		a->lo = (uintptr_t)self->scratch;
		a->hi = a->lo + SYS_PAGE;
		break;
	default:
		/* Every later cycle scans a root: a huge one only now and then. */
		a->lo = pick_ptr(r, a);
		a->hi = chance(r, 95) ? a->lo + below(r, 1 << 20) : pick_ptr(r, a);
		break;
	}
	do_ioctl(r, GCHEAP_IOC_ROOT, a, sizeof(*a), GCHEAP_ROOT_SIZE_VER0);
}

static void op_finalizer(struct rng *r)
{
	SCRATCH(struct gcheap_finalizer, a);
	a->size = pick_size(r, sizeof(*a), GCHEAP_FINALIZER_SIZE_VER0);
	a->flags = chance(r, 80) ? below(r, 4) : rnd(r);
	a->obj = chance(r, 70) ? pool_pick(r, C.objs, C.nobj) : pick_ptr(r, a);
	a->fn = chance(r, 30) ? 0 : rnd(r);
	a->arg = rnd(r);
	do_ioctl(r, GCHEAP_IOC_FINALIZER, a, sizeof(*a), GCHEAP_FINALIZER_SIZE_VER0);
}

static void op_finalizers(struct rng *r)
{
	SCRATCH(struct gcheap_finalizers, a);
	/* Periodic: a tick that comes before the call sleeps must not be the only one. */
	struct itimerspec its = { .it_value.tv_nsec = 20 * 1000 * 1000,
				  .it_interval.tv_nsec = 20 * 1000 * 1000 };

	a->size = pick_size(r, sizeof(*a), GCHEAP_FINALIZERS_SIZE_VER0);
	a->count = pick_count(r);
	a->flags = chance(r, 70) ? below(r, 2) : rnd(r);
	a->out = chance(r, 60) ? (uintptr_t)self->scratch + SYS_PAGE : pick_ptr(r, a);
	if (a->count > SYS_PAGE / sizeof(struct gcheap_final) && a->out == (uintptr_t)self->scratch + SYS_PAGE)
		a->count = chance(r, 50) ? SYS_PAGE / sizeof(struct gcheap_final) : a->count;
	/* WAIT may sleep for good: a timer's signal (no SA_RESTART) ends it. */
	if (a->flags & GCHEAP_FINALIZERS_WAIT) {
		if (!self->has_timer)
			a->flags &= ~(uint64_t)GCHEAP_FINALIZERS_WAIT;
		else
			timer_settime(self->timer, 0, &its, NULL);
	}
	do_ioctl(r, GCHEAP_IOC_FINALIZERS, a, sizeof(*a), GCHEAP_FINALIZERS_SIZE_VER0);
	if (self->has_timer) {
		memset(&its, 0, sizeof(its));
		timer_settime(self->timer, 0, &its, NULL);
	}
}

static void op_link(struct rng *r)
{
	SCRATCH(struct gcheap_link, a);
	a->size = pick_size(r, sizeof(*a), GCHEAP_LINK_SIZE_VER0);
	a->op = chance(r, 90) ? 1 + below(r, 2) : (uint32_t)rnd(r);
	/* Links the kernel will clear: in the heap itself, read-only memory, ... */
	a->link = chance(r, 40) ? (uintptr_t)self->scratch + SYS_PAGE + below(r, 64) * 8 :
		  chance(r, 30) ? pool_pick(r, C.objs, C.nobj) + 8 * below(r, 4) : pick_ptr(r, a);
	a->obj = chance(r, 70) ? pool_pick(r, C.objs, C.nobj) + below(r, 16) : pick_ptr(r, a);
	do_ioctl(r, GCHEAP_IOC_LINK, a, sizeof(*a), GCHEAP_LINK_SIZE_VER0);
}

static void op_setgc(struct rng *r)
{
	static const int32_t v[] = { -1, -2, 0, 1, 50, 100, 1000, INT32_MAX, INT32_MIN };

	static const uint64_t lim[] = { 0, 1, 8192, 1 << 20, 64 << 20, GCHEAP_NO_LIMIT };

	SCRATCH(struct gcheap_setgc, a);
	a->size = pick_size(r, sizeof(*a), GCHEAP_SETGC_SIZE_VER0);
	a->gogc = chance(r, 80) ? v[below(r, sizeof(v) / sizeof(v[0]))] : (int32_t)rnd(r);
	/* Both limits, tiny ones included: the heap scavenges, and fails to grow. */
	a->flags = chance(r, 80) ? (uint32_t)below(r, 8) : (uint32_t)rnd(r);
	a->memory_limit = chance(r, 80) ? lim[below(r, 6)] : rnd(r);
	a->memory_max = chance(r, 80) ? lim[below(r, 6)] : rnd(r);
	do_ioctl(r, GCHEAP_IOC_SETGC, a, sizeof(*a), GCHEAP_SETGC_SIZE_VER0);
}

/* Give idle pages back now; a nonzero flag or `released` in must be EINVAL. */
static void op_scavenge(struct rng *r)
{
	SCRATCH(struct gcheap_scavenge, a);
	a->size = pick_size(r, sizeof(*a), GCHEAP_SCAVENGE_SIZE_VER0);
	a->flags = chance(r, 90) ? 0 : rnd(r);
	a->released = chance(r, 90) ? 0 : rnd(r);
	do_ioctl(r, GCHEAP_IOC_SCAVENGE, a, sizeof(*a), GCHEAP_SCAVENGE_SIZE_VER0);
}

/* A command the module does not have must be ENOTTY, whatever its argument. */
static void op_bad_cmd(struct rng *r)
{
	unsigned long cmd;
	int ret;

	if (chance(r, 50))	/* another driver's type */
		cmd = _IOC(below(r, 4), (GCHEAP_IOC_MAGIC + 1 + below(r, 255)) & 0xff, below(r, 256),
			   below(r, 1 << _IOC_SIZEBITS));
	else			/* gcheap's type, a number far past the last */
		cmd = _IOC(below(r, 4), GCHEAP_IOC_MAGIC, 0x40 + below(r, 0xc0), below(r, 1 << _IOC_SIZEBITS));
	ret = ioctl(C.fd, cmd, (void *)(uintptr_t)pick_ptr(r, NULL)) < 0 ? -errno : 0;
	record(99, ret, cmd, 0);
	if (ret != -ENOTTY)
		violation("ioctl %#lx returned %d, not -ENOTTY", cmd, ret);
}

/* --- memory: the device mappings live in an arena's slots --- */
/*
 * Put the arena's PROT_NONE reservation back over [addr, addr + len) after
 * an munmap, a move or a failed MAP_FIXED (which unmaps before the driver
 * may refuse). Plain MAP_FIXED is safe: once a child has started, nothing
 * but the fuzz maps memory in it (one malloc arena, thread stacks made up
 * front), so the hole holds nobody else's mapping.
 */
static void reserve(uintptr_t addr, size_t len)
{
	if (len)
		mmap((void *)addr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
		     MAP_FIXED, -1, 0);
}

static struct slot *pick_slot(struct rng *r)
{
	return &C.slots[below(r, ARENA_SLOTS)];
}

static void pick_range(struct rng *r, struct slot *s, uintptr_t *addr, size_t *len)
{
	size_t span = s->len ? s->len : SLOT_SIZE;

	switch (below(r, 6)) {
	case 0:
		*addr = s->addr;
		*len = span;
		break;
	case 1:
		*addr = s->addr;
		*len = SYS_PAGE * (1 + below(r, 4));
		break;
	case 2:
		*addr = s->addr + span - SYS_PAGE;
		*len = SYS_PAGE;
		break;
	case 3:
		*addr = s->addr + below(r, span / SYS_PAGE) * SYS_PAGE;
		*len = SYS_PAGE * (1 + below(r, 64));
		break;
	case 4:
		*addr = s->addr + below(r, span);	/* unaligned */
		*len = below(r, span);
		break;
	default:
		*addr = s->addr + GCHEAP_CHUNK_SIZE * below(r, 4);
		*len = GCHEAP_CHUNK_SIZE;
		break;
	}
	if (*addr + *len > s->addr + SLOT_SIZE)
		*len = s->addr + SLOT_SIZE - *addr;
}

static void op_mmap(struct rng *r)
{
	static const int prots[] = { PROT_READ | PROT_WRITE, PROT_READ, PROT_WRITE, PROT_NONE,
				     PROT_READ | PROT_WRITE | PROT_EXEC, PROT_READ | PROT_WRITE };
	static const size_t lens[] = { GCHEAP_CHUNK_SIZE, 2 * GCHEAP_CHUNK_SIZE, 4 * GCHEAP_CHUNK_SIZE,
				       0, SYS_PAGE, GCHEAP_CHUNK_SIZE + SYS_PAGE, SLOT_SIZE, 2 * SYS_PAGE };
	uint64_t off = 0;
	int flags = MAP_SHARED, prot = prots[below(r, 6)];
	size_t len = lens[below(r, 8)];
	struct slot *s = pick_slot(r);
	uintptr_t addr;
	void *p;

	switch (below(r, 8)) {
	case 0: off = GCHEAP_CTRL_OFFSET; len = SYS_PAGE; prot = PROT_READ; break;
	case 1: off = GCHEAP_CTRL_OFFSET + below(r, 3) * SYS_PAGE; break;
	case 2: off = below(r, 16) * SYS_PAGE; break;
	case 3: off = rnd(r) & ~(SYS_PAGE - 1) & ((1ULL << 62) - 1); break;
	default: break;
	}
	if (chance(r, 10))
		flags = MAP_PRIVATE;
	if (chance(r, 10))
		flags |= MAP_POPULATE;
	if (chance(r, 5))
		flags |= MAP_LOCKED;
	if (!s)
		return;
	pthread_mutex_lock(&C.lock);
	addr = s->addr + (chance(r, 10) ? below(r, 4) * SYS_PAGE : 0);
	if (len > SLOT_SIZE - (addr - s->addr))
		len = SLOT_SIZE - (addr - s->addr);
	/* MAP_FIXED over the slot's reservation: nothing else is replaced. */
	p = mmap((void *)addr, len, prot, flags | MAP_FIXED, C.fd, off);
	record(1, p == MAP_FAILED ? -errno : 0, addr, len);
	if (p != MAP_FAILED)
		s->len = len;
	else
		reserve(addr, (len + SYS_PAGE - 1) & ~(SYS_PAGE - 1));
	pthread_mutex_unlock(&C.lock);
	refresh_info();
}

static void op_munmap(struct rng *r)
{
	struct slot *s = pick_slot(r);
	uintptr_t addr;
	size_t len;
	int ret;

	if (!s)
		return;
	pthread_mutex_lock(&C.lock);
	pick_range(r, s, &addr, &len);
	ret = munmap((void *)addr, len) ? -errno : 0;
	record(2, ret, addr, len);
	if (!ret)
		reserve(addr & ~(SYS_PAGE - 1), (len + (addr & (SYS_PAGE - 1)) + SYS_PAGE - 1) &
			~(SYS_PAGE - 1));
	pthread_mutex_unlock(&C.lock);
	refresh_info();
}

static void op_mremap(struct rng *r)
{
	struct slot *s = pick_slot(r), *d = pick_slot(r);
	uintptr_t addr;
	size_t len, nlen;
	void *p;
	int flags = 0;

	if (!s || !d)
		return;
	pthread_mutex_lock(&C.lock);
	pick_range(r, s, &addr, &len);
	nlen = chance(r, 50) ? len / 2 : chance(r, 50) ? len * 2 : len;
	if (nlen > SLOT_SIZE)
		nlen = SLOT_SIZE;
	if (chance(r, 50))
		flags = MREMAP_MAYMOVE;
	if (flags && d != s && chance(r, 60))
		flags |= MREMAP_FIXED;
	if (flags && chance(r, 10))
		flags |= MREMAP_DONTUNMAP;
	/* Without MREMAP_FIXED a move could land anywhere: only shrink or grow in place. */
	if (!(flags & MREMAP_FIXED))
		flags &= ~MREMAP_MAYMOVE;
	p = mremap((void *)addr, len, nlen, flags, (void *)d->addr);
	record(3, p == MAP_FAILED ? -errno : 0, addr, nlen);
	if (p != MAP_FAILED) {
		if (flags & MREMAP_FIXED) {
			d->len = nlen;
			if (!(flags & MREMAP_DONTUNMAP))
				reserve(addr, (len + SYS_PAGE - 1) & ~(SYS_PAGE - 1));
		} else if (nlen < len) {
			reserve(addr + ((nlen + SYS_PAGE - 1) & ~(SYS_PAGE - 1)),
				((len + SYS_PAGE - 1) & ~(SYS_PAGE - 1)) -
				((nlen + SYS_PAGE - 1) & ~(SYS_PAGE - 1)));
		}
	}
	pthread_mutex_unlock(&C.lock);
	refresh_info();
}

static void op_mprotect(struct rng *r)
{
	static const int prots[] = { PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE, PROT_EXEC,
				     PROT_READ | PROT_WRITE | PROT_EXEC, PROT_WRITE };
	struct slot *s = pick_slot(r);
	uintptr_t addr;
	size_t len;
	int prot = prots[below(r, 6)];

	if (!s)
		return;
	pick_range(r, s, &addr, &len);
	record(4, mprotect((void *)addr, len, prot) ? -errno : 0, addr, len);
}

static void op_madvise(struct rng *r)
{
	static const int advs[] = { MADV_DONTNEED, MADV_FREE, MADV_REMOVE, MADV_DONTFORK, MADV_DOFORK,
				    MADV_WIPEONFORK, MADV_KEEPONFORK, MADV_COLD, MADV_PAGEOUT,
				    MADV_WILLNEED, MADV_SEQUENTIAL, MADV_MERGEABLE, MADV_HUGEPAGE,
				    MADV_NOHUGEPAGE, MADV_DONTDUMP, 22 /* POPULATE_READ */,
				    23 /* POPULATE_WRITE */, 25 /* COLLAPSE */, MADV_NORMAL };
	struct slot *s = pick_slot(r);
	uintptr_t addr;
	size_t len;
	int adv = advs[below(r, sizeof(advs) / sizeof(advs[0]))];

	if (!s)
		return;
	pick_range(r, s, &addr, &len);
	record(5, madvise((void *)addr, len, adv) ? -errno : adv, addr, len);
}

/* Read or write a word anywhere the fuzz knows of; faults are expected. */
static void op_touch(struct rng *r)
{
	volatile uint64_t *p;
	uint64_t v = chance(r, 50) ? pool_pick(r, C.objs, C.nobj) : rnd(r);
	bool write = chance(r, 50);
	int sig;

	switch (below(r, 4)) {
	case 0: p = (volatile uint64_t *)(uintptr_t)(pool_pick(r, C.objs, C.nobj) + 8 * below(r, 4)); break;
	case 1: p = (volatile uint64_t *)(uintptr_t)(heap_base() + below(r, C.info.heap_max) / 8 * 8); break;
	case 2: p = (volatile uint64_t *)(uintptr_t)C.ctrl; break;
	default: p = (volatile uint64_t *)((uintptr_t)C.arena + below(r, ARENA_SLOTS * SLOT_SIZE) / 8 * 8); break;
	}
	if ((uintptr_t)p < 0x10000)
		return;
	sig = sigsetjmp(self->jb, 1);
	if (!sig) {
		self->probing = true;
		if (write)
			*p = v;
		else
			v = *p;
		self->probing = false;
	}
	record(6, -sig, (uintptr_t)p, write);
}

/* A forked child shares nothing with the heap: every ioctl is EPERM. */
static void op_fork(struct rng *r)
{
	uint64_t seed = rnd(r), objp = pool_pick(r, C.objs, C.nobj);
	bool kill_it = chance(r, 30);
	pid_t pid;
	int st;

	pid = fork();
	if (pid == 0) {
		struct rng cr = { seed };
		struct gcheap_stats s = { .size = sizeof(s) };
		struct gcheap_gc g = { .size = sizeof(g) };
		volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)objp;

		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		if (ioctl(C.fd, GCHEAP_IOC_STATS, &s) == 0 || errno != EPERM)
			violation("STATS from a forked child: %s", strerror(errno));
		if (chance(&cr, 50) && (ioctl(C.fd, GCHEAP_IOC_GC, &g) == 0 || errno != EPERM))
			violation("GC from a forked child: %s", strerror(errno));
		if (chance(&cr, 30) && mmap(NULL, GCHEAP_CHUNK_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
					    C.fd, 0) != MAP_FAILED)
			violation("a forked child mapped its parent's heap");
		if (chance(&cr, 50) && (uintptr_t)p > 0x10000)
			(void)*p;	/* may fault: the child just dies of it */
		if (chance(&cr, 30))
			close(C.fd);
		_exit(0);
	}
	if (pid < 0) {
		record(7, -errno, 0, 0);
		return;
	}
	if (kill_it)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	record(7, pid, kill_it, st);
}

static pid_t gettid_(void)
{
	return syscall(SYS_gettid);
}

/* Signals: the stop signal sent by ourselves, or one that interrupts. */
static void op_signal(struct rng *r)
{
	struct thr *t = &C.thr[below(r, C.nthr)];
	int sig = chance(r, 60) ? (int)C.info.stw_signal : SIGUSR1;

	if (!t->tid || !sig)
		return;
	record(8, syscall(SYS_tgkill, getpid(), t->tid, sig) ? -errno : 0, t->idx, sig);
}

static void op_park_mode(struct rng *r)
{
	int m = below(r, 100);

	/* Mostly a thread that parks, as the library's would. */
	m = m < 70 ? PARK_OK : m < 80 ? PARK_GARBAGE : m < 85 ? PARK_NONE : m < 93 ? PARK_TWICE :
	    m < 99 ? PARK_BIG : PARK_EXIT;
	if (m == PARK_EXIT && (!C.kill_scenarios || C.nthr < 2))
		m = PARK_OK;
	atomic_store(&self->park_mode, m);
	record(9, 0, m, 0);
}

/* The end chosen at a random point: exit, or SIGKILL, from this thread. */
static void op_exit(struct rng *r)
{
	int how = below(r, 2);

	record(10, 0, how, 0);
	if (how) {
		atomic_store(&C.sh->chosen_death, SIGKILL);
		kill(getpid(), SIGKILL);
	}
	atomic_store(&C.sh->chosen_death, EXIT_CHOSEN);
	_exit(EXIT_CHOSEN);
}

/*
 * Issue 8 item 1's scenario: a thread parks with a huge unpopulated stack;
 * while the collector scans it, the process exits or is killed.
 */
struct scan_kill {
	uintptr_t lo, hi;
	int how;
	unsigned long delay_ns;
	atomic_int ready;
};

static void *scan_kill_victim(void *arg)
{
	struct scan_kill *sk = arg;
	struct thr t = { .idx = MAX_THREADS + 1 };
	struct rng r = { 0 };

	(void)r;
	t.tid = gettid_();
	t.stack_hi = sk->hi;
	t.park_lo = sk->lo;
	t.scratch = C.thr[0].scratch;
	atomic_store(&t.park_mode, PARK_BIG);
	self = &t;
	t.attached_hi = sk->hi;
	attach(&r, GCHEAP_THREAD_ATTACH, sk->hi, false);
	atomic_store(&sk->ready, 1);
	for (;;)
		pause();
	return NULL;
}

static void *scan_kill_killer(void *arg)
{
	struct scan_kill *sk = arg;
	struct timespec ts = { 0, (long)sk->delay_ns };

	nanosleep(&ts, NULL);
	atomic_store(&C.sh->chosen_death, sk->how ? SIGKILL : EXIT_CHOSEN);
	if (sk->how)
		kill(getpid(), SIGKILL);
	_exit(EXIT_CHOSEN);
	return NULL;
}

static void op_scan_kill(struct rng *r)
{
	static struct scan_kill sk;
	pthread_t v, k;
	struct gcheap_gc g = { .size = sizeof(g), .flags = GCHEAP_GC_FORCE };

	pthread_attr_t va, ka;

	if (!C.kill_scenarios)
		return;
	sk.lo = (uintptr_t)C.big;
	sk.hi = sk.lo + BIG_STACK;
	sk.how = below(r, 2);
	sk.delay_ns = below(r, 50) * 1000 * 1000;
	record(11, 0, sk.how, sk.delay_ns);
	pthread_attr_init(&va);
	pthread_attr_init(&ka);
	pthread_attr_setstack(&va, C.kstacks[0], KSTACK);
	pthread_attr_setstack(&ka, C.kstacks[1], KSTACK);
	if (pthread_create(&v, &va, scan_kill_victim, &sk))
		return;
	while (!atomic_load(&sk.ready))
		sched_yield();
	if (pthread_create(&k, &ka, scan_kill_killer, &sk))
		return;
	g.since = C.ctrl->gc_started;
	ioctl(C.fd, GCHEAP_IOC_GC, &g);
	/* The killer ends the process; wait for it. */
	for (;;)
		pause();
}

typedef void (*op_fn)(struct rng *);
static const struct { op_fn fn; unsigned int weight; } ops[] = {
	{ op_info, 2 }, { op_size_classes, 2 }, { op_refill, 14 }, { op_alloc_large, 8 },
	{ op_free, 8 }, { op_stats, 3 }, { op_object, 5 }, { op_thread, 4 }, { op_park, 3 },
	{ op_gc, 6 }, { op_root, 4 }, { op_finalizer, 5 }, { op_finalizers, 3 }, { op_link, 5 },
	{ op_setgc, 2 }, { op_bad_cmd, 2 }, { op_mmap, 3 }, { op_munmap, 2 }, { op_mremap, 2 },
	{ op_mprotect, 2 }, { op_madvise, 3 }, { op_touch, 8 }, { op_fork, 1 }, { op_signal, 3 },
	{ op_park_mode, 3 }, { op_wb_flush, 3 }, { op_set_mode, 1 }, { op_scavenge, 2 },
};

static void run_op(struct rng *r)
{
	static unsigned int total;
	unsigned int i, w;

	if (!total)
		for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
			total += ops[i].weight;
	/* The rare ends first, each with its own odds. */
	if (below(r, 2000) == 0 && C.kill_scenarios) {
		op_exit(r);
		return;
	}
	if (below(r, 1500) == 0) {
		op_scan_kill(r);
		return;
	}
	w = below(r, total);
	for (i = 0; w >= ops[i].weight; i++)
		w -= ops[i].weight;
	ops[i].fn(r);
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;
	pthread_attr_t attr;
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGUSR1 };
	size_t size;
	void *addr;

	self = t;
	t->tid = gettid_();
	pthread_getattr_np(pthread_self(), &attr);
	pthread_attr_getstack(&attr, &addr, &size);
	pthread_attr_destroy(&attr);
	t->stack_lo = (uintptr_t)addr;
	t->stack_hi = (uintptr_t)addr + size;
	t->park_lo = t->stack_lo;
	sev._sigev_un._tid = t->tid;
	t->has_timer = timer_create(CLOCK_MONOTONIC, &sev, &t->timer) == 0;
	/* Most threads attach as the library's do; ops may detach them. */
	if (chance(&t->r, 85))
		attach(&t->r, GCHEAP_THREAD_ATTACH, t->stack_hi, false);
	pthread_barrier_wait(&C.start);
	while (t->nops--)
		run_op(&t->r);
	/* Leave attached or not: the module must cope with both. */
	if (chance(&t->r, 50))
		attach(&t->r, GCHEAP_THREAD_DETACH, 0, false);
	return NULL;
}

static void *map_or_die(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		perror("fuzz: mmap");
		_exit(2);
	}
	return p;
}

static int child_main(uint64_t seed, int idx, int max_threads, unsigned long nops,
		      struct shared *sh, bool kill_scenarios)
{
	struct rng r = { seed };
	struct sigaction sa;
	struct gcheap_thread th = { .size = sizeof(th) };
	unsigned long each;
	int i;

	(void)th;
	memset(&C, 0, sizeof(C));
	C.seed = seed;
	C.idx = idx;
	C.sh = sh;
	C.kill_scenarios = kill_scenarios;
	pthread_mutex_init(&C.lock, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sa.sa_handler = nop_handler;
	sa.sa_flags = 0;	/* no SA_RESTART: it interrupts */
	sigaction(SIGUSR1, &sa, NULL);

	C.fd = open(GCHEAP_DEVICE, O_RDWR | O_CLOEXEC);
	if (C.fd < 0) {
		perror("fuzz: open " GCHEAP_DEVICE);
		return 2;
	}
	C.info.size = sizeof(C.info);
	if (ioctl(C.fd, GCHEAP_IOC_INFO, &C.info)) {
		perror("fuzz: INFO");
		return 2;
	}
	C.ctrl = mmap(NULL, SYS_PAGE, PROT_READ, MAP_SHARED, C.fd, GCHEAP_CTRL_OFFSET);
	if (C.ctrl == MAP_FAILED) {
		perror("fuzz: control page");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = stw_handler;
	sa.sa_flags = SA_SIGINFO | (chance(&r, 80) ? SA_RESTART : 0);
	sigfillset(&sa.sa_mask);
	sigdelset(&sa.sa_mask, SIGSEGV);
	sigdelset(&sa.sa_mask, SIGBUS);
	sigaction(C.info.stw_signal, &sa, NULL);

	C.ro = map_or_die(SYS_PAGE, PROT_READ);
	C.mid = map_or_die(MID_STACK, PROT_READ | PROT_WRITE);
	C.big = map_or_die(BIG_STACK, PROT_READ | PROT_WRITE);
	C.kstacks[0] = map_or_die(KSTACK, PROT_READ | PROT_WRITE);
	C.kstacks[1] = map_or_die(KSTACK, PROT_READ | PROT_WRITE);
	/* Nothing may map memory behind the fuzz's back: see reserve(). */
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	/* The arena: PROT_NONE slots the device mappings go to. */
	C.arena = map_or_die((ARENA_SLOTS + 1) * SLOT_SIZE, PROT_NONE);
	C.arena = (unsigned char *)(((uintptr_t)C.arena + SLOT_SIZE - 1) & ~(SLOT_SIZE - 1));
	for (i = 0; i < ARENA_SLOTS; i++)
		C.slots[i].addr = (uintptr_t)C.arena + i * SLOT_SIZE;
	/* The heap itself, as the library maps it, in slot 0. */
	if (mmap(C.arena, 2 * GCHEAP_CHUNK_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 C.fd, 0) != MAP_FAILED)
		C.slots[0].len = 2 * GCHEAP_CHUNK_SIZE;
	refresh_info();

	C.nthr = max_threads > 1 ? 1 + below(&r, max_threads) : 1;
	each = nops / C.nthr;
	for (i = 0; i < C.nthr; i++) {
		struct thr *t = &C.thr[i];

		t->idx = i;
		t->r.s = mix(seed ^ mix(i + 1));
		t->nops = each + (i == 0 ? nops % C.nthr : 0);
		t->scratch = map_or_die(3 * SYS_PAGE, PROT_READ | PROT_WRITE);
		mprotect(t->scratch + 2 * SYS_PAGE, SYS_PAGE, PROT_NONE);
	}
	/* Thread 0 is this one: replaying one thread needs no scheduler. */
	pthread_barrier_init(&C.start, NULL, C.nthr);
	for (i = 1; i < C.nthr; i++)
		if (pthread_create(&C.thr[i].pt, NULL, thread_main, &C.thr[i])) {
			perror("fuzz: pthread_create");
			_exit(2);
		}
	thread_main(&C.thr[0]);
	for (i = 1; i < C.nthr; i++)
		pthread_join(C.thr[i].pt, NULL);
	return 0;
}

/* --- the well-behaved heap: libgcheap with a shadow of every object --- */
struct node {
	struct node *next;
	uint64_t id, check;
	unsigned char pad[];
};

#define GOOD_LISTS 64

static uint64_t node_check(uint64_t id)
{
	return mix(id ^ 0x5a5a5a5a);
}

static int good_main(int stop_fd)
{
	struct node *lists[GOOD_LISTS] = { 0 };
	static uint64_t shadow_len[GOOD_LISTS], shadow_first[GOOD_LISTS];
	struct rng r = { 12345 };
	uint64_t id = 1, checked = 0;
	unsigned long rounds = 0;
	char c;
	int i;

	if (gch_init(NULL)) {
		printf("# good heap: gch_init: %s\n", strerror(errno));
		return 2;
	}
	fcntl(stop_fd, F_SETFL, O_NONBLOCK);
	for (;;) {
		bool stop = read(stop_fd, &c, 1) == 0;

		i = below(&r, GOOD_LISTS);
		{
			struct node *head = NULL;
			uint64_t n = 1 + below(&r, 64), k;

			shadow_first[i] = id;
			shadow_len[i] = n;
			for (k = 0; k < n; k++) {
				size_t pad = chance(&r, 2) ? 40000 : below(&r, 200);
				struct node *x = gch_alloc(sizeof(*x) + pad);

				if (!x) {
					printf("# good heap: gch_alloc(%zu): %s\n", sizeof(*x) + pad,
					       strerror(errno));
					return 1;
				}
				x->id = id + n - 1 - k;
				x->check = node_check(x->id);
				x->next = head;
				head = x;
			}
			id += n;
			lists[i] = head;
		}
		if (chance(&r, 5) && gch_collect()) {
			printf("# good heap: gch_collect: %s\n", strerror(errno));
			return 1;
		}
		for (i = 0; i < GOOD_LISTS; i++) {
			uint64_t k = 0;

			for (struct node *x = lists[i]; x; x = x->next, k++) {
				if (x->id != shadow_first[i] + k || x->check != node_check(x->id)) {
					printf("# good heap: list %d node %" PRIu64 " is %" PRIu64
					       "/%#" PRIx64 ", wanted %" PRIu64 "\n", i, k, x->id,
					       x->check, shadow_first[i] + k);
					return 1;
				}
				checked++;
			}
			if (k != shadow_len[i]) {
				printf("# good heap: list %d has %" PRIu64 " nodes, wanted %" PRIu64 "\n",
				       i, k, shadow_len[i]);
				return 1;
			}
		}
		rounds++;
		if (stop)
			break;
	}
	printf("# good heap: %lu rounds, %" PRIu64 " nodes checked\n", rounds, checked);
	return 0;
}

/* --- the parent --- */
struct plan {
	uint64_t seed;
	int threads;
	unsigned long ops;
	unsigned long kill_after_ms;	/* 0: the parent leaves it alone */
};

static struct plan plan_child(uint64_t seed, int idx, int max_threads, unsigned long ops,
			      bool kill_scen)
{
	struct plan p = { .seed = mix(seed ^ mix(0x1000 + idx)), .ops = ops };
	struct rng r = { p.seed ^ 0xabcdef };

	p.threads = max_threads;
	p.kill_after_ms = chance(&r, 10) && kill_scen ? 1 + below(&r, 200) : 0;
	return p;
}

static const char *op_name(int op)
{
	static const char *const io[] = { "INFO", "SIZE_CLASSES", "REFILL", "ALLOC_LARGE", "FREE",
					  "STATS", "OBJECT", "THREAD", "PARK", "GC", "ROOT",
					  "FINALIZER", "FINALIZERS", "LINK", "SETGC", "WB_FLUSH",
					  "SET_MODE", "SCAVENGE" };
	static const char *const mm[] = { "?", "mmap", "munmap", "mremap", "mprotect", "madvise",
					   "touch", "fork", "signal", "park-mode", "exit", "scan-kill" };

	if (op >= 100 && op < 100 + (int)(sizeof(io) / sizeof(io[0])))
		return io[op - 100];
	if (op >= 100)
		return "ioctl(other size)";
	if (op == 99)
		return "bad-cmd";
	return op < 12 ? mm[op] : "?";
}

static void dump_ring(const struct shared *sh)
{
	unsigned int end = atomic_load(&sh->ring_pos), i;

	for (i = end > RING ? end - RING : 0; i < end; i++) {
		const struct op_rec *o = &sh->ring[i % RING];

		printf("#   op %u thread %u %s -> %d (%#" PRIx64 ", %#" PRIx64 ")\n", o->seq, o->tid,
		       op_name(o->op), o->ret, o->a, o->b);
	}
}

static unsigned long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000UL + ts.tv_nsec / 1000000;
}

#define STUCK_MS	(180 * 1000)

/* Where a stuck child's threads sleep, in the kernel (the guest runs as root). */
static void dump_stacks(pid_t pid)
{
	char path[64], line[256];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	while (dir && (d = readdir(dir))) {
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/stack", pid, d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		printf("#   thread %s:\n", d->d_name);
		while (fgets(line, sizeof(line), f))
			printf("#     %s", line);
		fclose(f);
	}
	if (dir)
		closedir(dir);
}

struct running {
	pid_t pid;
	int idx;
	struct plan p;
	struct shared *sh;
	unsigned long start;
	bool parent_killed;
};

static int set_param(const char *name, const char *val, char *old, size_t oldlen)
{
	char path[128];
	int f, n;

	snprintf(path, sizeof(path), "/sys/module/gcheap/parameters/%s", name);
	f = open(path, O_RDWR);
	if (f < 0)
		return -1;
	if (old) {
		n = read(f, old, oldlen - 1);
		old[n > 0 ? n : 0] = 0;
	}
	n = pwrite(f, val, strlen(val), 0);
	close(f);
	return n < 0 ? -1 : 0;
}

/* A new heap works after all that: open, map, attach, allocate, free, collect. */
static int fresh_heap_works(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		int fd = open(GCHEAP_DEVICE, O_RDWR);
		char *res = mmap(NULL, 2 * GCHEAP_CHUNK_SIZE, PROT_NONE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		struct gcheap_large l = { .size = sizeof(l), .bytes = 100000 };
		struct gcheap_free f = { .size = sizeof(f) };
		struct gcheap_gc g = { .size = sizeof(g), .flags = GCHEAP_GC_SWEEP };
		struct gcheap_thread t = { .size = sizeof(t), .op = GCHEAP_THREAD_ATTACH };
		int x;

		t.stack_hi = ((uintptr_t)&x + (1 << 16)) & ~0xfffUL;
		res = (char *)(((uintptr_t)res + GCHEAP_CHUNK_SIZE - 1) & ~(GCHEAP_CHUNK_SIZE - 1));
		if (fd < 0 || mmap(res, GCHEAP_CHUNK_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
				   fd, 0) == MAP_FAILED)
			_exit(1);
		if (ioctl(fd, GCHEAP_IOC_THREAD, &t))
			_exit(2);
		if (ioctl(fd, GCHEAP_IOC_ALLOC_LARGE, &l))
			_exit(3);
		memset((void *)(uintptr_t)l.base, 1, l.span_bytes);
		f.addr = l.base;
		if (ioctl(fd, GCHEAP_IOC_FREE, &f))
			_exit(4);
		if (ioctl(fd, GCHEAP_IOC_GC, &g))
			_exit(5);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	uint64_t seed = 0;
	unsigned long total = 3000, per_child = 100, ops_done = 0;
	int max_threads = MAX_THREADS, parallel = 2, only = -1, opt, nchild, started = 0, done = 0;
	int max_child;
	int bad_deaths = 0, unkillable = 0, stuck = 0, parent_kills = 0, own_ends = 0, viol = 0, good_st = 0;
	bool have_seed = false, kill_scen = true;
	struct running run[8] = { 0 };
	static unsigned long calls[128], successes[128];
	char old_timeout[32] = "", *env;
	int good_pipe[2];
	pid_t good;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((env = getenv("GCHEAP_SOAK")) && *env)
		total = 1000000, per_child = 500;
	if ((env = getenv("GCHEAP_FUZZ_OPS")))
		total = strtoul(env, NULL, 0);
	if ((env = getenv("GCHEAP_FUZZ_THREADS")))
		max_threads = atoi(env);
	if ((env = getenv("GCHEAP_FUZZ_KILL")))
		kill_scen = atoi(env);
	if ((env = getenv("GCHEAP_FUZZ_SEED")))
		seed = strtoull(env, NULL, 0), have_seed = true;
	while ((opt = getopt(argc, argv, "s:n:o:t:j:c:k:")) != -1) {
		switch (opt) {
		case 's': seed = strtoull(optarg, NULL, 0); have_seed = true; break;
		case 'n': total = strtoul(optarg, NULL, 0); break;
		case 'o': per_child = strtoul(optarg, NULL, 0); break;
		case 't': max_threads = atoi(optarg); break;
		case 'j': parallel = atoi(optarg); break;
		case 'c': only = atoi(optarg); break;
		case 'k': kill_scen = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: fuzz [-s SEED] [-n OPS] [-o OPS_PER_CHILD] "
				"[-t MAX_THREADS] [-j PARALLEL] [-c CHILD] [-k 0|1]\n");
			return 2;
		}
	}
	if (max_threads < 1 || max_threads > MAX_THREADS)
		max_threads = MAX_THREADS;
	if (parallel < 1 || parallel > 8)
		parallel = 2;
	if (!per_child)
		per_child = 1;
	if (!have_seed && getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	/*
	 * Children planned; more are started while the ops run fall short,
	 * up to four times as many (a child runs most of its plan on average).
	 */
	nchild = (total + per_child - 1) / per_child;
	max_child = only >= 0 ? nchild : 4 * nchild + 16;
	printf("# fuzz: seed %#" PRIx64 ", %lu ops in children of %lu, up to %d threads, "
	       "%d at a time%s\n", seed, total, per_child, max_threads, parallel,
	       kill_scen ? "" : ", no scan-kill scenarios");
	printf("# replay: fuzz -s %#" PRIx64 " -n %lu -o %lu -t %d -k %d (one child: add -c N; "
	       "-t 1 replays exactly)\n", seed, total, per_child, max_threads, kill_scen);

	/* Stops that time out (threads the fuzz makes not park) must not dominate. */
	if (set_param("stw_timeout_ms", "200", old_timeout, sizeof(old_timeout)))
		printf("# could not lower stw_timeout_ms: %s\n", strerror(errno));

	if (pipe(good_pipe))
		return 2;
	good = fork();
	if (good == 0) {
		close(good_pipe[1]);
		_exit(good_main(good_pipe[0]));
	}
	close(good_pipe[0]);

	for (;;) {
		int st, slot = -1, i;
		pid_t pid;

		/* Start children while there is room. */
		while (started < max_child && done + parallel > started &&
		       (only >= 0 || ops_done + (started - done) * per_child < total)) {
			int idx = started++;
			struct running *ru;

			if (only >= 0 && idx != only) {
				done++;
				continue;
			}
			for (i = 0; i < parallel; i++)
				if (!run[i].pid)
					slot = i;
			ru = &run[slot];
			ru->idx = idx;
			ru->p = plan_child(seed, idx, max_threads,
					   only >= 0 && idx == nchild - 1 ?
					   total - (unsigned long)idx * per_child : per_child,
					   kill_scen);
			if (!ru->sh)
				ru->sh = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE,
					      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
			memset(ru->sh, 0, sizeof(*ru->sh));
			ru->parent_killed = false;
			ru->start = now_ms();
			ru->pid = fork();
			if (ru->pid == 0) {
				close(good_pipe[1]);
				_exit(child_main(ru->p.seed, idx, ru->p.threads, ru->p.ops, ru->sh,
						 kill_scen));
			}
		}
		if (done == started &&
		    (started >= max_child || only >= 0 || ops_done >= total))
			break;
		pid = waitpid(-1, &st, WNOHANG);
		if (pid <= 0) {
			struct timespec ts = { 0, 5 * 1000 * 1000 };
			unsigned long t = now_ms();

			for (i = 0; i < parallel; i++) {
				struct running *ru = &run[i];

				if (!ru->pid)
					continue;
				if (ru->p.kill_after_ms && !ru->parent_killed &&
				    t - ru->start >= ru->p.kill_after_ms) {
					kill(ru->pid, SIGKILL);
					ru->parent_killed = true;
					ru->start = t;
				}
				/*
				 * Far past any slowness (a child takes about a second):
				 * stuck. Say where its threads sleep, then kill it.
				 */
				if (!ru->parent_killed && t - ru->start > STUCK_MS) {
					printf("# child %d (pid %d, seed %#" PRIx64 ") stuck for %lu s; "
					       "replay: fuzz -s %#" PRIx64 " -n %lu -o %lu -t %d -c %d\n",
					       ru->idx, ru->pid, ru->p.seed, (t - ru->start) / 1000, seed,
					       total, per_child, max_threads, ru->idx);
					dump_ring(ru->sh);
					dump_stacks(ru->pid);
					stuck++;
					kill(ru->pid, SIGKILL);
					ru->parent_killed = true;
					ru->start = t;
				}
				/* Far past any slowness: a child SIGKILL cannot end. */
				if (ru->parent_killed && t - ru->start > 300 * 1000) {
					printf("# child %d (pid %d) survives SIGKILL\n", ru->idx, ru->pid);
					unkillable++;
					ru->pid = 0;
					done++;
				}
			}
			nanosleep(&ts, NULL);
			continue;
		}
		if (pid == good) {
			printf("# the good heap's process ended early\n");
			good_st = st;
			good = -1;
			continue;
		}
		for (i = 0; i < parallel; i++)
			if (run[i].pid == pid)
				break;
		if (i == parallel)
			continue;	/* an orphaned grandchild reparented? not ours */
		{
			struct running *ru = &run[i];
			int chosen = atomic_load(&ru->sh->chosen_death);
			bool fine = (WIFEXITED(st) && WEXITSTATUS(st) == 0) ||
				    (WIFEXITED(st) && WEXITSTATUS(st) == EXIT_CHOSEN &&
				     chosen == EXIT_CHOSEN) ||
				    (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL &&
				     (chosen || ru->parent_killed));

			ops_done += atomic_load(&ru->sh->ops);
			for (int k = 0; k < 128; k++) {
				calls[k] += atomic_load(&ru->sh->calls[k]);
				successes[k] += atomic_load(&ru->sh->successes[k]);
			}
			if (ru->parent_killed)
				parent_kills++;
			else if (chosen)
				own_ends++;
			if (!fine) {
				bad_deaths++;
				printf("# child %d (seed %#" PRIx64 ", %d threads) ended by %s %d; "
				       "replay: fuzz -s %#" PRIx64 " -n %lu -o %lu -t %d -c %d\n",
				       ru->idx, ru->p.seed, ru->p.threads,
				       WIFEXITED(st) ? "exit" : "signal",
				       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), seed, total,
				       per_child, max_threads, ru->idx);
				dump_ring(ru->sh);
			}
			if (atomic_load(&ru->sh->violations)) {
				viol += atomic_load(&ru->sh->violations);
				printf("# child %d: %u violations, first: %s; replay: fuzz -s %#" PRIx64
				       " -n %lu -o %lu -t %d -c %d\n", ru->idx,
				       atomic_load(&ru->sh->violations), ru->sh->violation, seed, total,
				       per_child, max_threads, ru->idx);
				dump_ring(ru->sh);
			}
			printf("# child %d: %lu ops, %lu ms, %s %d\n", ru->idx, atomic_load(&ru->sh->ops),
			       now_ms() - ru->start, WIFEXITED(st) ? "exit" : "signal",
			       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
			ru->pid = 0;
			done++;
		}
	}

	printf("# calls (succeeded):");
	for (int k = 0; k < 128; k++)
		if (calls[k])
			printf(" %s %lu (%lu)", op_name(k), calls[k], successes[k]);
	printf("\n");
	ok(bad_deaths == 0, "fuzz seed %#" PRIx64 ": %lu ops in %d children (%d ended themselves, "
	   "%d killed by the parent), none died unexpectedly", seed, ops_done, started, own_ends,
	   parent_kills);
	ok(only >= 0 || ops_done >= total, "the run got through the %lu ops asked for (%lu)",
	   total, ops_done);
	ok(viol == 0, "no call succeeded or failed where it must not (%d violations)", viol);
	ok(stuck == 0, "no child got stuck (%d did)", stuck);
	ok(unkillable == 0, "every child could be killed");
	opt = fresh_heap_works();
	ok(opt == 0, "a fresh heap still works afterwards (status %d)", opt);
	close(good_pipe[1]);
	if (good > 0)
		waitpid(good, &good_st, 0);
	ok(WIFEXITED(good_st) && WEXITSTATUS(good_st) == 0,
	   "the well-behaved heap beside the fuzz kept its objects");
	if (old_timeout[0])
		set_param("stw_timeout_ms", old_timeout, NULL, 0);
	return tap_done();
}
