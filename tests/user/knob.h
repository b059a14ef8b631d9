/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The module's parameters, for tests that need a setting other than the
 * default (the guest runs tests one at a time, as root): set one, and put
 * it back as it was at exit.
 */
#ifndef GCH_KNOB_H
#define GCH_KNOB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct knob_saved {
	char path[128];
	char value[64];
};

static struct knob_saved knob_saved[4];
static int knob_nsaved;

static inline void knob_restore(void)
{
	while (knob_nsaved > 0) {
		struct knob_saved *k = &knob_saved[--knob_nsaved];
		FILE *f = fopen(k->path, "w");

		if (f) {
			fputs(k->value, f);
			fclose(f);
		}
	}
}

/* Set /sys/module/gcheap/parameters/@name to @value: 0, or -1. */
static inline int knob_set(const char *name, const char *value)
{
	struct knob_saved *k;
	FILE *f;

	if (knob_nsaved == (int)(sizeof(knob_saved) / sizeof(knob_saved[0])))
		return -1;
	k = &knob_saved[knob_nsaved];
	snprintf(k->path, sizeof(k->path), "/sys/module/gcheap/parameters/%s", name);
	f = fopen(k->path, "r");
	if (!f || !fgets(k->value, sizeof(k->value), f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	f = fopen(k->path, "w");
	if (!f)
		return -1;
	if (fputs(value, f) < 0 || fclose(f) != 0)
		return -1;
	if (knob_nsaved++ == 0)
		atexit(knob_restore);
	return 0;
}

#endif /* GCH_KNOB_H */
