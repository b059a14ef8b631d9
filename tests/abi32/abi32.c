// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The ABI as a 32-bit x86 program sees it: the structs' sizes, an ioctl
 * through the compat path and the control page mapped with mmap2(), whose
 * offset is a 32-bit count of 4 KiB units. Freestanding (raw int $0x80
 * system calls, no libc), so it builds wherever gcc can emit i386 code,
 * with no 32-bit C library installed.
 */
#include "uapi/gcheap.h"

_Static_assert(sizeof(void *) == 4, "built with -m32");
/* Each struct's size in an x86-64 build of the same header. */
_Static_assert(sizeof(struct gcheap_info) == 48, "info");
_Static_assert(sizeof(struct gcheap_size_classes) == 16, "size classes");
_Static_assert(sizeof(struct gcheap_refill) == GCHEAP_REFILL_SIZE_VER1, "refill");
_Static_assert(sizeof(struct gcheap_large) == 40, "large");
_Static_assert(sizeof(struct gcheap_free) == 24, "free");
_Static_assert(sizeof(struct gcheap_object) == 40, "object");
_Static_assert(sizeof(struct gcheap_stats) == GCHEAP_STATS_SIZE_VER2, "stats");
_Static_assert(sizeof(struct gcheap_thread) == 16, "thread");
_Static_assert(sizeof(struct gcheap_park) == GCHEAP_PARK_SIZE_VER2, "park");
_Static_assert(sizeof(struct gcheap_gc) == GCHEAP_GC_SIZE_VER1, "gc");
_Static_assert(sizeof(struct gcheap_root) == 24, "root");
_Static_assert(sizeof(struct gcheap_finalizer) == 56, "finalizer");
_Static_assert(sizeof(struct gcheap_finalizers) == 24, "finalizers");
_Static_assert(sizeof(struct gcheap_link) == 24, "link");
_Static_assert(sizeof(struct gcheap_setgc) == GCHEAP_SETGC_SIZE_VER2, "setgc");
_Static_assert(sizeof(struct gcheap_scavenge) == GCHEAP_SCAVENGE_SIZE_VER0, "scavenge");
_Static_assert(sizeof(struct gcheap_wb_flush) == GCHEAP_WB_FLUSH_SIZE_VER0, "wb flush");
_Static_assert(sizeof(struct gcheap_mode) == GCHEAP_MODE_SIZE_VER0, "mode");
_Static_assert(sizeof(struct gcheap_ctrl) == 56, "ctrl");

#define NR_exit		1
#define NR_write	4
#define NR_open		5
#define NR_ioctl	54
#define NR_mmap2	192

static long sys(long nr, long a, long b, long c, long d, long e, long f)
{
	long nr_f[2] = { nr, f };
	long ret;

	/*
	 * ebp carries the sixth argument and is saved around the call; eax
	 * points at it and the number, as no other register is free.
	 */
	__asm__ volatile("push %%ebp\n\tmov 4(%%eax), %%ebp\n\tmov 0(%%eax), %%eax\n\t"
			 "int $0x80\n\tpop %%ebp"
			 : "=a"(ret)
			 : "a"(nr_f), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
			 : "memory");
	return ret;
}

static unsigned int n, failed;

static void put(const char *s)
{
	unsigned int len = 0;

	while (s[len])
		len++;
	sys(NR_write, 1, (long)s, len, 0, 0, 0);
}

static void put_num(unsigned int v)
{
	char buf[12];
	int i = sizeof(buf) - 1;

	buf[i] = 0;
	do {
		buf[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	put(buf + i);
}

static void ok(int cond, const char *what)
{
	n++;
	if (!cond) {
		failed++;
		put("not ");
	}
	put("ok ");
	put_num(n);
	put(" - ");
	put(what);
	put("\n");
}

static int main32(void)
{
	static struct gcheap_stats st = { .size = sizeof(st) };
	static struct gcheap_gc gc = { .size = sizeof(gc), .flags = GCHEAP_GC_FORCE };
	struct gcheap_info info = { .size = sizeof(info) };
	const volatile struct gcheap_ctrl *ctrl;
	long fd, p, heap;

	fd = sys(NR_open, (long)GCHEAP_DEVICE, 2 /* O_RDWR */, 0, 0, 0, 0);
	ok(fd >= 0, "open from a 32-bit process");
	if (fd < 0)
		return 1;
	ok(sys(NR_ioctl, fd, GCHEAP_IOC_INFO, (long)&info, 0, 0, 0) == 0 &&
	   info.abi_version == GCHEAP_ABI_VERSION && info.page_size == GCHEAP_PAGE_SIZE,
	   "INFO through the compat ioctl path");
	p = sys(NR_mmap2, 0, 4096, 1 /* PROT_READ */, 1 /* MAP_SHARED */, fd,
		(long)(GCHEAP_CTRL_OFFSET >> 12));
	ok((unsigned long)p < -4095UL, "control page mapped with mmap2");
	if ((unsigned long)p >= -4095UL)
		return 1;
	ctrl = (const volatile struct gcheap_ctrl *)p;
	/* A heap of one chunk, on a heap-page boundary, at offset 0. */
	p = sys(NR_mmap2, 0, GCHEAP_CHUNK_SIZE + GCHEAP_PAGE_SIZE, 0 /* PROT_NONE */,
		0x22 /* MAP_PRIVATE | MAP_ANONYMOUS */, -1, 0);
	heap = (p + GCHEAP_PAGE_SIZE - 1) & ~(GCHEAP_PAGE_SIZE - 1);
	ok((unsigned long)p < -4095UL &&
	   sys(NR_mmap2, heap, GCHEAP_CHUNK_SIZE, 3 /* PROT_READ | PROT_WRITE */,
	       0x11 /* MAP_SHARED | MAP_FIXED */, fd, 0) == heap, "heap mapped beside it");
	info = (struct gcheap_info){ .size = sizeof(info) };
	ok(sys(NR_ioctl, fd, GCHEAP_IOC_INFO, (long)&info, 0, 0, 0) == 0 &&
	   info.heap_base == (unsigned long)heap && info.heap_max == GCHEAP_CHUNK_SIZE,
	   "INFO reports it");
	ok(!(ctrl->stw_seq & 1) && ctrl->gc_done == 0, "the control page: no cycle yet");
	ok(sys(NR_ioctl, fd, GCHEAP_IOC_GC, (long)&gc, 0, 0, 0) == 0 && ctrl->gc_done == 1 &&
	   ctrl->gc_started == 1, "a cycle: the control page counts it");
	ok(sys(NR_ioctl, fd, GCHEAP_IOC_STATS, (long)&st, 0, 0, 0) == 0 && st.num_gc == 1 &&
	   ctrl->next_gc == st.next_gc, "and shows STATS' goal");
	return 0;
}

__attribute__((force_align_arg_pointer, noreturn)) void _start(void)
{
	main32();
	put("1..");
	put_num(n);
	put("\n");
	sys(NR_exit, failed || !n, 0, 0, 0, 0, 0);
	__builtin_unreachable();
}
