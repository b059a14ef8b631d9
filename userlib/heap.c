// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The process's one heap: opening /dev/gcheap, checking that the module
 * speaks our ABI, learning the geometry (size classes) from it so the table
 * lives only in the kernel, and mapping the heap's address range.
 *
 * Public structs carry their size (gcheap.h): options are read, and stats
 * and info written, through copy_in/copy_out, which reconcile the
 * caller's size with ours as copy_struct_from_user does.
 *
 * Opening publishes the heap (gch_heap.ready, release-stored) only once
 * everything is in place: the stop signal's handler, the collector's
 * settings, the roots. A failure undoes it all, the handler included;
 * nobody else has seen the heap.
 *
 * fork(): the child has no heap (the module does not copy the mapping).
 * One pthread_atfork() registration takes the library's locks around the
 * fork in one order, heap_lock then roots_lock (roots.c), so the child
 * finds none held by a thread it does not have; gc.c's locks, registered
 * later, come before them, and collect.c makes its gc_hold_lock anew in
 * the child. The child
 * then forgets the parent's heap and opens its own on first use (see
 * gcheap.h for what it gets).
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
#include <sys/mman.h>
#include <unistd.h>

#include "gcheap.h"
#include "internal.h"

#define GCH_DEFAULT_HEAP_MAX	(4ULL << 30)

_Static_assert(sizeof(struct gch_options) == GCH_OPTIONS_SIZE_VER1, "gch_options grew: new VER");
_Static_assert(sizeof(struct gch_heap_info) == GCH_HEAP_INFO_SIZE_VER0, "gch_heap_info grew");
_Static_assert(sizeof(struct gch_stats) == GCH_STATS_SIZE_VER1, "gch_stats grew: new VER");

struct gch_heap gch_heap GCH_NOROOT = { .fd = -1 };
static pthread_mutex_t heap_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

int gch_ioctl(unsigned long cmd, void *arg)
{
	__atomic_fetch_add(&gch_heap.syscalls, 1, __ATOMIC_RELAXED);
	return ioctl(gch_heap.fd, cmd, arg);
}

/* "123", "64K", "512M", "4G": bytes; 0 for anything else. */
static size_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	int shift = 0;

	if (end == s)
		return 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end || v > (~0ULL >> shift))
		return 0;
	return (size_t)(v << shift);
}

static void build_class_tables(void)
{
	unsigned int c = 1;
	size_t size;

	for (size = 0; size <= GCH_SMALL_SIZE_MAX; size += 8) {
		while (gch_heap.classes[c].size < size)
			c++;
		gch_heap.class8[size >> 3] = c;
	}
	for (size = GCH_SMALL_SIZE_MAX; size <= GCHEAP_MAX_SMALL_SIZE; size += 128) {
		while (gch_heap.classes[c].size < size)
			c++;
		gch_heap.class128[(size - GCH_SMALL_SIZE_MAX) >> 7] = c;
	}
	/* Size 0 is served as the smallest class. */
	gch_heap.class8[0] = 1;
}

/*
 * Reserve an 8 KiB-aligned range (the module requires heap pages to be
 * aligned in the address space), then map the device over it.
 */
static int map_heap(int fd, size_t len)
{
	void *res, *heap;
	uintptr_t start;

	res = mmap(NULL, len + GCHEAP_PAGE_SIZE, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return -1;
	start = ((uintptr_t)res + GCHEAP_PAGE_SIZE - 1) & ~(GCHEAP_PAGE_SIZE - 1);
	heap = mmap((void *)start, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	if (heap == MAP_FAILED) {
		int err = errno;

		munmap(res, len + GCHEAP_PAGE_SIZE);
		errno = err;
		return -1;
	}
	/* Give back the slop on either side. */
	if (start > (uintptr_t)res)
		munmap(res, start - (uintptr_t)res);
	if ((uintptr_t)res + GCHEAP_PAGE_SIZE > start)
		munmap((void *)(start + len), (uintptr_t)res + GCHEAP_PAGE_SIZE - start);
	gch_heap.base = start;
	gch_heap.end = start + len;
	return 0;
}

static int heap_open_locked(const struct gch_options *opts)
{
	struct gcheap_info info = { .size = sizeof(info) };
	struct gcheap_size_classes req = {
		.size = sizeof(req),
		.count = GCHEAP_NUM_SIZE_CLASSES,
		.classes = (uintptr_t)gch_heap.classes,
	};
	const char *dev = getenv("GCHEAP_DEVICE");
	const char *max = getenv("GCHEAP_HEAP_MAX");
	size_t len = opts && opts->heap_max ? opts->heap_max : GCH_DEFAULT_HEAP_MAX;
	void *ctrl;
	int fd, err;

	if (max) {
		len = parse_size(max);
		if (!len) {
			errno = EINVAL;
			return -1;
		}
	}
	if (len > SIZE_MAX - GCHEAP_CHUNK_SIZE) {
		errno = EINVAL;
		return -1;
	}
	len = (len + GCHEAP_CHUNK_SIZE - 1) & ~(GCHEAP_CHUNK_SIZE - 1);
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
	/* A 32-bit build needs _FILE_OFFSET_BITS=64 to reach the control page. */
	_Static_assert((off_t)GCHEAP_CTRL_OFFSET == GCHEAP_CTRL_OFFSET, "off_t too small");
	ctrl = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ, MAP_SHARED, fd,
		    (off_t)GCHEAP_CTRL_OFFSET);
	if (ctrl == MAP_FAILED)
		goto fail;
	/* The mode is a promise about every store: made before the heap exists. */
	if (opts && opts->flags & GCH_INIT_CONCURRENT) {
		struct gcheap_mode mode = { .size = sizeof(mode), .mode = GCHEAP_MODE_CONCURRENT };

		if (ioctl(fd, GCHEAP_IOC_SET_MODE, &mode) < 0) {
			if (errno == ENOTTY)
				errno = EOPNOTSUPP;
			goto fail_ctrl;
		}
	}
	if (map_heap(fd, len) < 0)
		goto fail_ctrl;
	build_class_tables();
	info.heap_base = gch_heap.base;
	info.heap_max = len;
	gch_heap.info = info;
	gch_heap.stw_signal = (int)info.stw_signal;
	/* Not published yet: only this thread uses fd and ctrl until ready. */
	gch_heap.fd = fd;
	gch_heap.ctrl = ctrl;
	if (gch_stw_install() < 0 || gch_collect_init() < 0 || gch_roots_open() < 0)
		goto fail_heap;
	__atomic_store_n(&gch_heap.ready, true, __ATOMIC_RELEASE);
	if (gch_heap.ctrl->gc_mode == GCHEAP_MODE_CONCURRENT)
		gch_bg_start();
	return 0;
fail_heap:
	err = errno;
	gch_stw_uninstall();
	munmap((void *)gch_heap.base, gch_heap.end - gch_heap.base);
	memset(&gch_heap, 0, sizeof(gch_heap));
	gch_heap.fd = -1;
	errno = err;
fail_ctrl:
	err = errno;
	munmap(ctrl, (size_t)sysconf(_SC_PAGESIZE));
	errno = err;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

static void atfork_prepare(void)
{
	pthread_mutex_lock(&heap_lock);
	gch_roots_lock();
}

static void atfork_parent(void)
{
	gch_roots_unlock();
	pthread_mutex_unlock(&heap_lock);
}

/*
 * The child: the heap's mapping was not copied, the fd and the control
 * page are the parent's heap. Forget them (no ioctl on them) and all that
 * refers to the parent's heap; keep the registered root ranges.
 */
static void atfork_child(void)
{
	uintptr_t base = gch_heap.base, end = gch_heap.end;

	if (gch_heap.fd >= 0) {
		close(gch_heap.fd);
		munmap((void *)gch_heap.ctrl, (size_t)sysconf(_SC_PAGESIZE));
		munmap((void *)base, end - base);
	}
	memset(&gch_heap, 0, sizeof(gch_heap));
	gch_heap.fd = -1;
	gch_mcache_forked();
	gch_stw_forked();
	gch_roots_forked(base, end);
	gch_collect_forked();
	gch_bg_forked();
	atfork_parent();
}

static void atfork_init(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* The caller's @size bytes of a struct into our @len: unknown fields must be 0. */
static int copy_in(void *dst, size_t len, const void *src, size_t size, size_t ver0)
{
	size_t i;

	if (size < ver0) {
		errno = EINVAL;
		return -1;
	}
	for (i = len; i < size; i++)
		if (((const unsigned char *)src)[i]) {
			errno = E2BIG;
			return -1;
		}
	memset(dst, 0, len);
	memcpy(dst, src, size < len ? size : len);
	return 0;
}

/* Our @len bytes into the caller's @size: what we do not know is zero. */
static void copy_out(void *dst, size_t size, const void *src, size_t len)
{
	memcpy(dst, src, size < len ? size : len);
	if (size > len)
		memset((unsigned char *)dst + len, 0, size - len);
}

int gch_init_sized(const struct gch_options *user, size_t size)
{
	struct gch_options optbuf, *opts = NULL;
	int ret;

	if (user) {
		if (copy_in(&optbuf, sizeof(optbuf), user, size, GCH_OPTIONS_SIZE_VER0) < 0)
			return -1;
		if (optbuf.flags & ~GCH_INIT_CONCURRENT || optbuf.reserved) {
			errno = EINVAL;
			return -1;
		}
		opts = &optbuf;
	}
	pthread_once(&atfork_once, atfork_init);
	pthread_mutex_lock(&heap_lock);
	if (gch_heap.ready) {
		errno = EALREADY;
		ret = -1;
	} else {
		ret = heap_open_locked(opts);
	}
	pthread_mutex_unlock(&heap_lock);
	return ret ? ret : gch_mcache_attach();
}

int gch_heap_ensure(void)
{
	int ret = 0;

	if (likely(__atomic_load_n(&gch_heap.ready, __ATOMIC_ACQUIRE)))
		return 0;
	pthread_once(&atfork_once, atfork_init);
	pthread_mutex_lock(&heap_lock);
	if (!gch_heap.ready)
		ret = heap_open_locked(NULL);
	pthread_mutex_unlock(&heap_lock);
	/* The thread that opens the heap is attached implicitly. */
	return ret ? ret : gch_mcache_attach();
}

int gch_heap_info_sized(struct gch_heap_info *user, size_t size)
{
	struct gcheap_info info = { .size = sizeof(info) };
	struct gch_heap_info outbuf, *out = &outbuf;

	if (size < GCH_HEAP_INFO_SIZE_VER0) {
		errno = EINVAL;
		return -1;
	}
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
	out->stop_signal = (int)info.stw_signal;
	copy_out(user, size, out, sizeof(*out));
	return 0;
}

int gch_stats_sized(struct gch_stats *user, size_t size)
{
	struct gcheap_stats st = { .size = sizeof(st) };
	struct gch_stats outbuf, *out = &outbuf;

	if (size < GCH_STATS_SIZE_VER0) {
		errno = EINVAL;
		return -1;
	}
	if (gch_heap_ensure() < 0)
		return -1;
	if (ioctl(gch_heap.fd, GCHEAP_IOC_STATS, &st) < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	out->heap_sys = st.heap_sys;
	out->heap_inuse = st.heap_inuse;
	out->heap_idle = st.heap_idle;
	out->heap_released = st.heap_released;
	out->heap_resident = st.heap_resident;
	out->heap_alloc = st.heap_alloc;
	out->heap_objects = st.heap_objects;
	out->spans_inuse = st.spans_inuse;
	out->spans_cached = st.spans_cached;
	out->large_objects = st.large_objects;
	out->refills = st.refills;
	out->frees = st.frees;
	out->next_gc = st.next_gc;
	out->last_marked = st.last_marked;
	out->num_gc = st.num_gc;
	out->num_forced_gc = st.num_forced_gc;
	out->stw_timeouts = st.stw_timeouts;
	out->pause_total_ns = st.pause_total_ns;
	out->pause_max_ns = st.pause_max_ns;
	out->last_pause_ns = st.num_gc ? st.pause_ns[(st.num_gc - 1) % GCHEAP_PAUSE_RING] : 0;
	out->swept_bytes = st.swept_bytes;
	out->freed_objects = st.freed_objects;
	out->finalizers = st.finalizers;
	out->gogc = st.gogc;
	out->threads = st.threads;
	out->syscalls = __atomic_load_n(&gch_heap.syscalls, __ATOMIC_RELAXED);
	out->park_failures = gch_stw_park_failures();
	out->scav_background = st.scav_background;
	out->scav_sync = st.scav_sync;
	out->scav_shrinker = st.scav_shrinker;
	out->scav_ns = st.scav_ns;
	out->memory_max = st.memory_max;
	copy_out(user, size, out, sizeof(*out));
	return 0;
}

size_t gch_class_size(unsigned int cls)
{
	if (gch_heap_ensure() < 0 || cls == 0 || cls >= GCHEAP_NUM_SIZE_CLASSES)
		return 0;
	return gch_heap.classes[cls].size;
}
