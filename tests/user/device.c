// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * /dev/gcheap as a device: open/close, the extensible-struct ioctl rules,
 * the size-class table, refusal of other processes, and the library's view.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gcheap.h"
#include "uapi/gcheap.h"
#include "tap.h"

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static void test_info(int fd)
{
	struct gcheap_info info = { .size = sizeof(info) };
	unsigned char big[sizeof(info) + 16];
	struct gcheap_info *bi = (void *)big;

	ok(xioctl(fd, GCHEAP_IOC_INFO, &info) == 0, "INFO succeeds");
	ok(info.abi_version == GCHEAP_ABI_VERSION, "ABI version %u", info.abi_version);
	ok(info.page_size == 8192 && info.chunk_pages == 512, "Go's page geometry");
	ok(info.num_size_classes == 68 && info.max_small_size == 32768,
	   "68 size classes up to 32 KiB");
	ok(info.owner_tgid == getpid(), "owner is this process");

	info = (struct gcheap_info){ .size = GCHEAP_INFO_SIZE_VER0 - 4 };
	ok(xioctl(fd, GCHEAP_IOC_INFO, &info) == -EINVAL, "short struct: EINVAL");
	ok(info.abi_version == 0, "short struct: nothing written");

	memset(big, 0, sizeof(big));
	bi->size = sizeof(big);
	ok(xioctl(fd, GCHEAP_IOC_INFO, big) == 0, "longer struct, zero tail: accepted");
	ok(bi->abi_version == GCHEAP_ABI_VERSION, "longer struct: filled");
	memset(big, 0, sizeof(big));
	bi->size = sizeof(big);
	big[sizeof(big) - 1] = 1;
	ok(xioctl(fd, GCHEAP_IOC_INFO, big) == -E2BIG, "unknown non-zero tail: E2BIG");

	info = (struct gcheap_info){ .size = sizeof(info), .heap_max = 1 };
	ok(xioctl(fd, GCHEAP_IOC_INFO, &info) == -EINVAL, "non-zero output field: EINVAL");
	ok(xioctl(fd, GCHEAP_IOC_INFO, NULL) == -EFAULT, "NULL argument: EFAULT");
	ok(xioctl(fd, GCHEAP_IOC_INFO, (void *)8) == -EFAULT, "unmapped argument: EFAULT");
	ok(xioctl(fd, _IOWR(GCHEAP_IOC_MAGIC, 0x7f, struct gcheap_info), &info) == -ENOTTY,
	   "unknown ioctl: ENOTTY");
}

static void test_size_classes(int fd)
{
	struct gcheap_size_class tab[GCHEAP_NUM_SIZE_CLASSES + 2];
	struct gcheap_size_classes req = {
		.size = sizeof(req), .count = GCHEAP_NUM_SIZE_CLASSES + 2,
		.classes = (uintptr_t)tab,
	};
	int i, sorted = 1, counts = 1;

	memset(tab, 0xff, sizeof(tab));
	ok(xioctl(fd, GCHEAP_IOC_SIZE_CLASSES, &req) == 0, "SIZE_CLASSES succeeds");
	ok(req.count == GCHEAP_NUM_SIZE_CLASSES, "table has %u entries", req.count);
	ok(tab[0].size == 0 && tab[1].size == 8 && tab[67].size == 32768,
	   "classes 0, 1, 67 are 0, 8 and 32768 B");
	ok(tab[GCHEAP_NUM_SIZE_CLASSES].size == 0xffffffffu, "nothing written past the table");
	for (i = 1; i < GCHEAP_NUM_SIZE_CLASSES; i++) {
		sorted &= tab[i].size > tab[i - 1].size;
		counts &= tab[i].nelems == tab[i].npages * 8192 / tab[i].size;
	}
	ok(sorted, "sizes strictly increase");
	ok(counts, "nelems = span bytes / size for every class");

	memset(tab, 0xff, sizeof(tab));
	req = (struct gcheap_size_classes){ .size = sizeof(req), .count = 3,
					    .classes = (uintptr_t)tab };
	ok(xioctl(fd, GCHEAP_IOC_SIZE_CLASSES, &req) == 0 && tab[2].size == 16 &&
	   tab[3].size == 0xffffffffu && req.count == GCHEAP_NUM_SIZE_CLASSES,
	   "a short buffer gets only what fits");
	req.count = 10;
	req.classes = 16;
	ok(xioctl(fd, GCHEAP_IOC_SIZE_CLASSES, &req) == -EFAULT, "bad table pointer: EFAULT");
}

static void test_foreign_process(int fd)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		struct gcheap_info info = { .size = sizeof(info) };

		_exit(xioctl(fd, GCHEAP_IOC_INFO, &info) == -EPERM ? 0 : 1);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	   WEXITSTATUS(status) == 0, "a forked child using the parent's fd gets EPERM");
}

static void test_library(void)
{
	struct gch_heap_info hi;

	ok(gch_heap_info(&hi) == 0, "gch_heap_info opens the heap on first use");
	ok(hi.abi_version == GCHEAP_ABI_VERSION && hi.page_size == 8192 &&
	   hi.owner == getpid(), "library reports the module's geometry");
	ok(hi.heap_base && hi.heap_base % 8192 == 0 && hi.heap_max == 4ULL << 30,
	   "library mapped a 4 GiB heap at an 8 KiB boundary");
	ok(gch_init(NULL) == -1 && errno == EALREADY, "second gch_init: EALREADY");
	ok(gch_class_size(1) == 8 && gch_class_size(67) == 32768 &&
	   gch_class_size(68) == 0 && gch_class_size(0) == 0, "gch_class_size");
}

int main(void)
{
	int fd = open(GCHEAP_DEVICE, O_RDWR | O_CLOEXEC);
	int fd2 = open(GCHEAP_DEVICE, O_RDWR | O_CLOEXEC);

	if (!ok(fd >= 0 && fd2 >= 0, "open %s twice", GCHEAP_DEVICE))
		return tap_done();
	test_info(fd);
	test_size_classes(fd);
	test_foreign_process(fd);
	ok(close(fd2) == 0 && close(fd) == 0, "close");
	test_library();
	return tap_done();
}
