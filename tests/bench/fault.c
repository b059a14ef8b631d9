// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * How heap pages reach the process: one fault per 4 KiB page when the
 * program first touches it, or all of a new span's pages mapped at hand-out
 * (module parameter prefault). Each mode runs in a fresh child process, so
 * in a fresh heap, in the same VM run; the program touches every page of
 * 64 MiB of small objects and 64 MiB of large ones, as an allocating
 * program does, and reports the time and the page faults it took.
 * A benchmark: it reports, it does not judge. Needs root (it writes the
 * module parameter).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gcheap.h"

#define PARAM	"/sys/module/gcheap/parameters/prefault"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int set_prefault(int on)
{
	FILE *f = fopen(PARAM, "w");

	if (!f)
		return -1;
	fprintf(f, "%d\n", on);
	return fclose(f);
}

/* In a child: touch every page of @total bytes of @size-byte objects. */
static int run(size_t size, size_t total, double *secs, long *faults)
{
	struct rusage ru0, ru1;
	size_t i, n = total / size, j;
	double t0;

	if (gch_init(NULL) < 0)
		return -1;
	getrusage(RUSAGE_SELF, &ru0);
	t0 = now();
	for (i = 0; i < n; i++) {
		char *p = gch_alloc(size);

		if (!p)
			return -1;
		for (j = 0; j < size; j += 4096)
			p[j] = 1;
	}
	*secs = now() - t0;
	getrusage(RUSAGE_SELF, &ru1);
	*faults = ru1.ru_minflt - ru0.ru_minflt;
	return 0;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 1024, 8192, 1 << 20 };
	size_t total = (argc > 1 ? strtoul(argv[1], NULL, 0) : 64) << 20;
	double secs[2];
	long faults[2];
	unsigned int s;
	int mode;

	printf("gcheap fault benchmark: first touch of %zu MiB per row\n", total >> 20);
	printf("%10s %14s %10s %14s %10s %8s\n", "object", "fault: ms", "faults",
	       "prefault: ms", "faults", "ratio");
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (mode = 0; mode < 2; mode++) {
			int fds[2], status;
			pid_t pid;

			if (set_prefault(mode) < 0 || pipe(fds) < 0) {
				perror("fault: " PARAM);
				return 1;
			}
			pid = fork();
			if (pid == 0) {
				double t;
				long f;

				close(fds[0]);
				if (run(sizes[s], total, &t, &f) < 0)
					_exit(1);
				if (write(fds[1], &t, sizeof(t)) != sizeof(t) ||
				    write(fds[1], &f, sizeof(f)) != sizeof(f))
					_exit(1);
				_exit(0);
			}
			close(fds[1]);
			if (read(fds[0], &secs[mode], sizeof(double)) != sizeof(double) ||
			    read(fds[0], &faults[mode], sizeof(long)) != sizeof(long) ||
			    waitpid(pid, &status, 0) != pid || status) {
				fprintf(stderr, "fault: child for %zu B failed\n", sizes[s]);
				return 1;
			}
			close(fds[0]);
		}
		printf("%10zu %14.1f %10ld %14.1f %10ld %7.2fx\n", sizes[s], secs[0] * 1e3,
		       faults[0], secs[1] * 1e3, faults[1], secs[0] / secs[1]);
	}
	set_prefault(1);
	return 0;
}
