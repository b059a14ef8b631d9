// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Thousands of heaps come and go, each mapped, given pages (a large
 * object, then an idle page left when it is freed), some scavenged and
 * some not, closed in both orders (fd first, mapping first): the module's
 * page counts (/sys/class/misc/gcheap/pages_held, pages_idle) must read
 * zero at the end, as at the start. kmemleak, scanned once the module is
 * unloaded after the run, checks the rest (tests/vm).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "uapi/gcheap.h"
#include "tap.h"
#include "cgroup.h"

#define HELD	"/sys/class/misc/gcheap/pages_held"
#define IDLE	"/sys/class/misc/gcheap/pages_idle"
#define HEAP	(4UL << 20)
#define ROUNDS	2000

/* One heap's life; 0 if every step did what it should. */
static int one_heap(unsigned int i)
{
	struct gcheap_large big = { .size = sizeof(big), .bytes = 64 * 1024 };
	struct gcheap_free fr = { .size = sizeof(fr) };
	struct gcheap_scavenge sc = { .size = sizeof(sc) };
	struct gcheap_thread th = { .size = sizeof(th), .op = GCHEAP_THREAD_ATTACH,
				    .stack_hi = (uintptr_t)__builtin_frame_address(0) };
	uintptr_t base;
	char *res, *heap;
	int fd, bad = 0;

	fd = open("/dev/gcheap", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 1;
	/* The mapping must start on a heap page (8 KiB). */
	res = mmap(NULL, HEAP + GCHEAP_PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED) {
		close(fd);
		return 1;
	}
	base = ((uintptr_t)res + GCHEAP_PAGE_SIZE - 1) & ~(uintptr_t)(GCHEAP_PAGE_SIZE - 1);
	heap = mmap((void *)base, HEAP, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	bad |= heap == MAP_FAILED;
	/* Allocating takes an attached thread; no cycle runs, so no stop signal comes. */
	bad |= ioctl(fd, GCHEAP_IOC_THREAD, &th) != 0;
	bad |= ioctl(fd, GCHEAP_IOC_ALLOC_LARGE, &big) != 0;
	if (!bad) {
		((char *)(uintptr_t)big.base)[i % big.bytes] = 1;
		fr.addr = big.base;
		bad |= ioctl(fd, GCHEAP_IOC_FREE, &fr) != 0;
		if (i % 2)
			bad |= ioctl(fd, GCHEAP_IOC_SCAVENGE, &sc) != 0 || sc.released != big.bytes;
	}
	if (i % 3) {
		close(fd);
		munmap(res, HEAP + GCHEAP_PAGE_SIZE);
	} else {
		munmap(res, HEAP + GCHEAP_PAGE_SIZE);
		close(fd);
	}
	return bad;
}

int main(void)
{
	uint64_t held0 = read_u64(HELD), idle0 = read_u64(IDLE);
	unsigned int i, bad = 0;

	ok(held0 == 0 && idle0 == 0, "no heap holds pages at the start (held %llu, idle %llu)",
	   (unsigned long long)held0, (unsigned long long)idle0);
	for (i = 0; i < ROUNDS; i++)
		bad += one_heap(i) != 0;
	ok(bad == 0, "%u heaps made, used and closed (%u went wrong)", ROUNDS, bad);
	ok(read_u64(HELD) == 0, "pages_held reads 0 once they are closed (%llu)",
	   (unsigned long long)read_u64(HELD));
	ok(read_u64(IDLE) == 0, "pages_idle reads 0 (%llu)", (unsigned long long)read_u64(IDLE));
	return tap_done();
}
