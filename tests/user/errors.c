// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The native API's error conventions and struct versioning: -1/NULL (or 0
 * from gch_size) with errno, error numbers from the pthread-style calls; an
 * impossible allocation fails at once, without a collection or a system
 * call; public structs carry their size, so a program built against an
 * older or newer gcheap.h keeps working.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gcheap.h"
#include "tap.h"

static void *nothing(void *arg)
{
	return arg;
}

/* Before the heap is open, with a device that does not exist. */
static void test_no_heap(void)
{
	struct gch_stats st;
	pthread_t t;
	int x = 0, old = 7;

	errno = 0;
	ok(gch_size(&x, NULL) == 0 && errno == EINVAL,
	   "gch_size without a heap: 0, EINVAL (%s)", strerror(errno));
	setenv("GCHEAP_DEVICE", "/nonexistent/gcheap", 1);
	errno = 0;
	ok(gch_set_gogc(50, &old) == -1 && errno == ENOENT && old == 7,
	   "gch_set_gogc: -1, ENOENT (%s), *old untouched", strerror(errno));
	errno = 0;
	ok(gch_stats(&st) == -1 && errno == ENOENT, "gch_stats: -1, ENOENT");
	errno = 0;
	ok(gch_alloc(16) == NULL && errno == ENOENT, "gch_alloc: NULL, ENOENT");
	ok(gch_pthread_create(&t, NULL, nothing, NULL) == ENOENT,
	   "gch_pthread_create returns the error number, as pthread_create does");
	unsetenv("GCHEAP_DEVICE");
}

/* Options from a newer header: unknown fields must be zero. */
struct options_v2 {
	struct gch_options v1;
	uint64_t future;
};

static void test_options_size(void)
{
	struct options_v2 o = { .v1 = { .heap_max = 64 << 20 }, .future = 1 };

	errno = 0;
	ok(gch_init_sized(&o.v1, 4) == -1 && errno == EINVAL,
	   "gch_init_sized: a size below the first version is EINVAL (%s)", strerror(errno));
	errno = 0;
	ok(gch_init_sized(&o.v1, sizeof(o)) == -1 && errno == E2BIG,
	   "an unknown option set is E2BIG (%s)", strerror(errno));
	o.future = 0;
	ok(gch_init_sized(&o.v1, sizeof(o)) == 0, "an unknown option left zero is accepted");
	errno = 0;
	ok(gch_init(NULL) == -1 && errno == EALREADY, "a second gch_init: EALREADY");
}

/* Stats and heap info from an older and a newer header. */
static void test_out_sizes(void)
{
	unsigned char buf[sizeof(struct gch_stats) + 64];
	struct gch_stats *st = (struct gch_stats *)buf;
	unsigned char ibuf[sizeof(struct gch_heap_info) + 64];
	struct gch_heap_info *info = (struct gch_heap_info *)ibuf;
	size_t i, nonzero = 0;

	memset(buf, 0xa5, sizeof(buf));
	ok(gch_stats_sized(st, sizeof(buf)) == 0 && st->heap_sys == 64 << 20,
	   "gch_stats_sized with a larger struct");
	for (i = sizeof(struct gch_stats); i < sizeof(buf); i++)
		nonzero += buf[i] != 0;
	ok(nonzero == 0, "its unknown tail is zeroed");
	memset(buf, 0xa5, sizeof(buf));
	ok(gch_stats_sized(st, GCH_STATS_SIZE_VER0 - 8) == -1 && errno == EINVAL,
	   "a size below the first version is EINVAL");
	ok(gch_stats_sized(st, 16) == -1 && buf[0] == 0xa5, "and writes nothing");
	memset(ibuf, 0xa5, sizeof(ibuf));
	ok(gch_heap_info_sized(info, sizeof(ibuf)) == 0 && info->heap_max == 64 << 20 &&
	   ibuf[sizeof(ibuf) - 1] == 0, "gch_heap_info_sized with a larger struct");
	ok(gch_heap_info_sized(info, 8) == -1 && errno == EINVAL, "and with too small a one");
}

static void test_errors(void)
{
	struct gch_stats before, after;
	void *base = NULL;
	int x = 0, old = 0;
	size_t huge[] = { 1ULL << 50, (64 << 20) + 1, SIZE_MAX };
	unsigned int i;
	void *p;

	errno = 0;
	ok(gch_size(&x, &base) == 0 && errno == EINVAL && !base,
	   "gch_size of a stack address: 0, EINVAL (%s)", strerror(errno));
	p = gch_alloc(100);
	errno = 0;
	ok(p && gch_size(p, NULL) >= 100 && errno == 0, "gch_size of an object");
	ok(gch_set_gogc(50, &old) == 0 && old == 100, "gch_set_gogc: 0, the old value 100 (%d)",
	   old);
	ok(gch_set_gogc(-1, &old) == 0 && old == 50, "off: the old value 50 (%d)", old);
	ok(gch_set_gogc(100, &old) == 0 && old == -1, "the old value while off: -1 (%d)", old);
	ok(gch_set_gogc(100, NULL) == 0, "old may be NULL");

	for (i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		gch_stats(&before);
		errno = 0;
		p = gch_alloc(huge[i]);
		ok(!p && errno == ENOMEM, "gch_alloc(%zu): NULL, ENOMEM (%s)", huge[i],
		   strerror(errno));
		errno = 0;
		p = gch_alloc_noscan(huge[i]);
		ok(!p && errno == ENOMEM, "gch_alloc_noscan(%zu): NULL, ENOMEM", huge[i]);
		gch_stats(&after);
		ok(after.num_gc == before.num_gc && after.syscalls == before.syscalls + 0,
		   "at once: no collection (%llu), no system call (%llu)",
		   (unsigned long long)(after.num_gc - before.num_gc),
		   (unsigned long long)(after.syscalls - before.syscalls));
	}
}

int main(void)
{
	test_no_heap();
	test_options_size();
	test_out_sizes();
	test_errors();
	return tap_done();
}
