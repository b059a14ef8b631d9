// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The process's one heap: opening /dev/gcheap, checking that the module
 * speaks our ABI, and learning the geometry (size classes) from it, so the
 * table lives only in the kernel.
 *
 * Thread safety: the heap is opened once under heap_lock; afterwards its
 * description is read-only and read without a lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "gcheap.h"
#include "internal.h"

struct gch_heap gch_heap = { .fd = -1 };
static pthread_mutex_t heap_lock = PTHREAD_MUTEX_INITIALIZER;

static int heap_open_locked(const struct gch_options *opts)
{
	struct gcheap_info info = { .size = sizeof(info) };
	struct gcheap_size_classes req = {
		.size = sizeof(req),
		.count = GCHEAP_NUM_SIZE_CLASSES,
		.classes = (uintptr_t)gch_heap.classes,
	};
	const char *dev = getenv("GCHEAP_DEVICE");
	int fd, err;

	if (!dev)
		dev = opts && opts->device ? opts->device : GCHEAP_DEVICE;
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (ioctl(fd, GCHEAP_IOC_INFO, &info) < 0)
		goto fail;
	if (info.abi_version != GCHEAP_ABI_VERSION ||
	    info.page_size != GCHEAP_PAGE_SIZE) {
		errno = EPROTO;
		goto fail;
	}
	if (ioctl(fd, GCHEAP_IOC_SIZE_CLASSES, &req) < 0)
		goto fail;
	if (req.count != GCHEAP_NUM_SIZE_CLASSES) {
		errno = EPROTO;
		goto fail;
	}
	gch_heap.info = info;
	__atomic_store_n(&gch_heap.fd, fd, __ATOMIC_RELEASE);
	return 0;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

int gch_init(const struct gch_options *opts)
{
	int ret;

	pthread_mutex_lock(&heap_lock);
	if (gch_heap.fd >= 0) {
		errno = EALREADY;
		ret = -1;
	} else {
		ret = heap_open_locked(opts);
	}
	pthread_mutex_unlock(&heap_lock);
	return ret;
}

int gch_heap_ensure(void)
{
	int ret = 0;

	if (__atomic_load_n(&gch_heap.fd, __ATOMIC_ACQUIRE) >= 0)
		return 0;
	pthread_mutex_lock(&heap_lock);
	if (gch_heap.fd < 0)
		ret = heap_open_locked(NULL);
	pthread_mutex_unlock(&heap_lock);
	return ret;
}

int gch_heap_info(struct gch_heap_info *out)
{
	struct gcheap_info info = { .size = sizeof(info) };

	if (gch_heap_ensure() < 0)
		return -1;
	if (ioctl(gch_heap.fd, GCHEAP_IOC_INFO, &info) < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	out->abi_version = info.abi_version;
	out->page_size = info.page_size;
	out->num_size_classes = info.num_size_classes;
	out->max_small_size = info.max_small_size;
	out->heap_base = (uintptr_t)info.heap_base;
	out->heap_max = info.heap_max;
	out->owner = info.owner_tgid;
	return 0;
}

size_t gch_class_size(unsigned int cls)
{
	if (gch_heap_ensure() < 0 || cls == 0 || cls >= GCHEAP_NUM_SIZE_CLASSES)
		return 0;
	return gch_heap.classes[cls].size;
}
