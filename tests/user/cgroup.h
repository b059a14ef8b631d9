/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Files of /proc and /sys, and a cgroup (v2) of the test's own, for the
 * tests that read what the kernel charges to them.
 */
#ifndef GCH_CGROUP_H
#define GCH_CGROUP_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define CGROOT	"/sys/fs/cgroup"

static inline int write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -1;
	ret = fputs(s, f) < 0 ? -1 : 0;
	return fclose(f) ? -1 : ret;
}

/* The first line of @path, without its newline: 0, or -1. */
static inline int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	char *p;

	if (!f)
		return -1;
	p = fgets(buf, len, f);
	fclose(f);
	if (!p)
		return -1;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* The number @path starts with, or UINT64_MAX. */
static inline uint64_t read_u64(const char *path)
{
	char buf[64];

	return read_line(path, buf, sizeof(buf)) ? UINT64_MAX : strtoull(buf, NULL, 10);
}

/*
 * Move the calling process into cgroup @name (made if need be), with the
 * memory controller on if @memory. 0 once /proc/self/cgroup says so.
 */
static inline int cg_enter(const char *name, int memory)
{
	char path[256], want[128], mine[256];

	if (mount("none", CGROOT, "cgroup2", 0, NULL) < 0 && errno != EBUSY)
		fprintf(stderr, "# mount cgroup2: %s\n", strerror(errno));
	if (memory && write_file(CGROOT "/cgroup.subtree_control", "+memory"))
		fprintf(stderr, "# +memory: %s\n", strerror(errno));
	snprintf(path, sizeof(path), CGROOT "/%s", name);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		fprintf(stderr, "# mkdir %s: %s\n", path, strerror(errno));
	snprintf(path, sizeof(path), CGROOT "/%s/cgroup.procs", name);
	snprintf(want, sizeof(want), "0::/%s", name);
	if (write_file(path, "0") || read_line("/proc/self/cgroup", mine, sizeof(mine)))
		return -1;
	return strcmp(mine, want) ? -1 : 0;
}

#endif /* GCH_CGROUP_H */
