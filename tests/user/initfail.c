// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A heap that fails to initialize leaves nothing behind. With the module's
 * max_roots at 0 (as root in the test VM) registering the heap's roots
 * fails: gch_init must fail with ENOSPC, leave the stop signal's action as
 * it was and no mapping of the device, and a later gch_init, with room
 * for roots again, must work.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gcheap.h"
#include "tap.h"

#define PARAM "/sys/module/gcheap/parameters/max_roots"

static int write_param(const char *v)
{
	FILE *f = fopen(PARAM, "w");
	int ret;

	if (!f)
		return -1;
	ret = fputs(v, f) < 0 ? -1 : 0;
	return fclose(f) || ret ? -1 : 0;
}

static int device_mappings(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "gcheap") != NULL;
	fclose(f);
	return n;
}

int main(void)
{
	char old[32] = "65536";
	struct sigaction sa;
	FILE *f = fopen(PARAM, "r");
	int ret, err, sig = 38;

	if (!f || !fgets(old, sizeof(old), f)) {
		ok(0, "read %s", PARAM);
		return tap_done();
	}
	fclose(f);
	if (write_param("0") < 0) {
		ok(0, "write %s", PARAM);
		return tap_done();
	}
	ret = gch_init(NULL);
	err = errno;
	write_param(old);
	ok(ret == -1 && err == ENOSPC, "gch_init fails with ENOSPC when no root fits (%d, %s)",
	   ret, strerror(err));
	ok(sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL,
	   "the stop signal's action is left as it was");
	ok(device_mappings() == 0, "nothing of the device stays mapped (%d)", device_mappings());
	ok(gch_init(NULL) == 0, "gch_init then works (%s)", strerror(errno));
	ok(gch_alloc(100) && gch_collect() == 0, "and the heap allocates and collects");
	return tap_done();
}
