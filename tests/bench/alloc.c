// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Small-object allocation throughput: libgcheap (gch_alloc and
 * gch_alloc_noscan) side by side with glibc malloc and Boehm GC (libgc's
 * GC_MALLOC and GC_MALLOC_ATOMIC, its noscan analogue), in one process so
 * every allocator sees the same machine, kernel and moment.
 *
 * For each allocator, object size (8 B .. 32 KiB) and thread count (1, 2),
 * each thread allocates N objects, writes one word into each (so the memory
 * is really used, not just reserved) and keeps only the last WINDOW of them
 * live in a ring on its stack. The object a new one evicts from the ring is
 * dropped: malloc rows free() it, libgc rows just forget it and leave it to
 * the collector, and gcheap rows, having no collector yet, release it early
 * with gch_free() so the heap stays bounded; gcheap rows therefore pay a
 * free per object as malloc rows do. Noscan objects of at most 16 B are
 * the exception: gcheap packs them into shared tiny blocks that gch_free()
 * refuses (EBUSY), so those rows free nothing and simply grow the heap.
 * The WINDOW objects still live at the end are freed after the clock stops.
 *
 * Each row reports wall time (CLOCK_MONOTONIC, from the first thread's
 * start to the last thread's end), millions of objects per second and, for
 * gcheap, the system calls its allocator made per million objects (from
 * gch_stats().syscalls around the timed loop). Wall time is what we want
 * here: it includes the kernel-side work of gcheap's ioctls (span refills,
 * early frees, page faults on fresh heap pages), which a user-time-only
 * measurement would hide. Likewise libgc rows include its collections.
 *
 * N is chosen per size so a thread allocates at most PER_THREAD_BYTES (and
 * at most MAX_OBJECTS objects), which keeps every row at 128 MiB or less
 * and the whole run to a few minutes under QEMU's software emulation.
 * GCHEAP_BENCH_SCALE (or the first argument), a positive number, scales N;
 * GCHEAP_BENCH_SIZES (say "8,4096") runs only some sizes. The program
 * reports numbers; it fails only if an allocator returns NULL or the setup
 * fails.
 */
#define GC_THREADS
#define GC_NO_THREAD_REDIRECTS
#include <gc.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gcheap.h"

#define WINDOW			1024	/* live objects per thread */
#define PER_THREAD_BYTES	(64ULL << 20)
#define MAX_OBJECTS		(256ULL << 10)
#define MAX_THREADS		2

enum alloc {
	A_GCH,
	A_GCH_NOSCAN,
	A_MALLOC,
	A_GC,
	A_GC_ATOMIC,
	NR_ALLOCS
};

static const char *const alloc_name[NR_ALLOCS] = {
	[A_GCH] = "gch_alloc",
	[A_GCH_NOSCAN] = "gch_alloc_noscan",
	[A_MALLOC] = "malloc",
	[A_GC] = "GC_MALLOC",
	[A_GC_ATOMIC] = "GC_MALLOC_ATOMIC",
};

static const size_t sizes[] = {
	8, 16, 32, 64, 128, 256, 512, 1024, 4096, 8192, 32768
};
#define NR_SIZES	(sizeof(sizes) / sizeof(sizes[0]))

static const unsigned int thread_counts[] = { 1, 2 };
#define NR_THREADS	(sizeof(thread_counts) / sizeof(thread_counts[0]))

struct row {
	enum alloc alloc;
	size_t size;
	unsigned int threads;
	uint64_t n;			/* objects per thread */
	bool early_free;		/* evicted objects are freed */
	pthread_barrier_t start, stop, cleanup;
};

struct worker {
	struct row *row;
	pthread_t tid;
	struct timespec t_start, t_end;
	uint64_t done;			/* objects allocated */
	int alloc_errno;		/* set if an allocation returned NULL */
	int setup_errno;		/* set if the thread could not attach */
	uint64_t free_errors;
	int free_errno;
};

struct result {
	bool ran, failed;
	uint64_t objects;
	double seconds;
	double mops;			/* millions of objects per second */
	double syscalls_per_mobj;	/* gcheap only */
};

/* gcheap's counters around a row's timed loops. */
struct gch_counts {
	uint64_t syscalls, refills, frees;
};

static struct result results[NR_THREADS][NR_SIZES][NR_ALLOCS];

/* What is running, for the crash handler (preformatted, async-signal-safe). */
static char current_row[160];

static void crash_handler(int sig)
{
	static const char msg[] = "\nbench: fatal signal while running: ";
	ssize_t r;

	(void)sig;
	r = write(STDOUT_FILENO, msg, sizeof(msg) - 1);
	r = write(STDOUT_FILENO, current_row, strlen(current_row));
	r = write(STDOUT_FILENO, "\n", 1);
	(void)r;
	/* SA_RESETHAND: returning re-raises the fault with the default action. */
}

static bool is_gcheap(enum alloc a)
{
	return a == A_GCH || a == A_GCH_NOSCAN;
}

static bool is_libgc(enum alloc a)
{
	return a == A_GC || a == A_GC_ATOMIC;
}

static inline __attribute__((always_inline)) void *bench_alloc(enum alloc a, size_t size)
{
	switch (a) {
	case A_GCH:
		return gch_alloc(size);
	case A_GCH_NOSCAN:
		return gch_alloc_noscan(size);
	case A_MALLOC:
		return malloc(size);
	case A_GC:
		return GC_MALLOC(size);
	case A_GC_ATOMIC:
		return GC_MALLOC_ATOMIC(size);
	default:
		return NULL;
	}
}

static inline __attribute__((always_inline)) void
bench_drop(struct worker *w, enum alloc a, void *p, bool early_free)
{
	switch (a) {
	case A_GCH:
	case A_GCH_NOSCAN:
		if (early_free && gch_free(p) < 0) {
			w->free_errors++;
			w->free_errno = errno;
		}
		break;
	case A_MALLOC:
		free(p);
		break;
	default:
		break;	/* libgc: forgotten, the collector reclaims it */
	}
}

/*
 * The timed loop, specialised per allocator (always inlined with a constant
 * @a), so no row pays for an indirect call the others do not.
 */
static inline __attribute__((always_inline)) void bench_loop(struct worker *w, enum alloc a)
{
	const struct row *row = w->row;
	const uint64_t n = row->n;
	const size_t size = row->size;
	const bool early_free = row->early_free;
	void *ring[WINDOW];
	unsigned int slot;
	uint64_t i;

	memset(ring, 0, sizeof(ring));
	clock_gettime(CLOCK_MONOTONIC, &w->t_start);
	for (i = 0; i < n; i++) {
		void *p = bench_alloc(a, size);

		if (!p) {
			w->alloc_errno = errno ? errno : ENOMEM;
			break;
		}
		*(volatile uint64_t *)p = i;
		slot = i % WINDOW;
		bench_drop(w, a, ring[slot], early_free);
		ring[slot] = p;
	}
	clock_gettime(CLOCK_MONOTONIC, &w->t_end);
	w->done = i;

	/* Let the main thread read the syscall counter, then clean up untimed. */
	pthread_barrier_wait(&w->row->stop);
	pthread_barrier_wait(&w->row->cleanup);
	for (slot = 0; slot < WINDOW; slot++)
		bench_drop(w, a, ring[slot], early_free);
	/* The ring must stay live (and visible to libgc) until here. */
	__asm__ volatile("" : : "r"(ring) : "memory");
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct row *row = w->row;

	if (is_gcheap(row->alloc) && gch_thread_attach() < 0)
		w->setup_errno = errno;
	pthread_barrier_wait(&row->start);
	if (w->setup_errno) {
		pthread_barrier_wait(&row->stop);
		pthread_barrier_wait(&row->cleanup);
		return NULL;
	}
	switch (row->alloc) {
	case A_GCH:
		bench_loop(w, A_GCH);
		break;
	case A_GCH_NOSCAN:
		bench_loop(w, A_GCH_NOSCAN);
		break;
	case A_MALLOC:
		bench_loop(w, A_MALLOC);
		break;
	case A_GC:
		bench_loop(w, A_GC);
		break;
	case A_GC_ATOMIC:
		bench_loop(w, A_GC_ATOMIC);
		break;
	default:
		break;
	}
	if (is_gcheap(row->alloc) && gch_thread_detach() < 0 && !w->free_errno)
		w->free_errno = errno;
	return NULL;
}

static double ts_sec(const struct timespec *t)
{
	return (double)t->tv_sec + (double)t->tv_nsec * 1e-9;
}

static void gch_counts(struct gch_counts *c)
{
	struct gch_stats st;

	memset(c, 0, sizeof(*c));
	if (gch_stats(&st) < 0)
		return;
	c->syscalls = st.syscalls;
	c->refills = st.refills;
	c->frees = st.frees;
}

static uint64_t objects_per_thread(size_t size, double scale)
{
	uint64_t n = PER_THREAD_BYTES / size;
	double scaled;

	if (n > MAX_OBJECTS)
		n = MAX_OBJECTS;
	scaled = (double)n * scale;
	return scaled < 1 ? 1 : (uint64_t)scaled;
}

/* Run one row and print it; false if an allocator or the setup failed. */
static bool run_row(struct result *res, enum alloc a, size_t size, unsigned int threads,
		    double scale)
{
	struct worker workers[MAX_THREADS];
	struct row row = {
		.alloc = a,
		.size = size,
		.threads = threads,
		.n = objects_per_thread(size, scale),
		.early_free = !(a == A_GCH_NOSCAN && size <= 16),
	};
	struct gch_counts c0 = { 0 }, c1 = { 0 };
	uint64_t objects = 0;
	double t0 = 0, t1 = 0, secs;
	unsigned long gc0 = 0, gc1 = 0;
	char notes[160] = "";
	bool ok = true;
	unsigned int t;
	int err;

	snprintf(current_row, sizeof(current_row), "%s size %zu, %u thread(s), %llu objects each",
		 alloc_name[a], size, threads, (unsigned long long)row.n);
	memset(workers, 0, sizeof(workers));
	pthread_barrier_init(&row.start, NULL, threads + 1);
	pthread_barrier_init(&row.stop, NULL, threads + 1);
	pthread_barrier_init(&row.cleanup, NULL, threads + 1);
	if (is_gcheap(a))
		gch_counts(&c0);
	if (is_libgc(a))
		gc0 = (unsigned long)GC_get_gc_no();

	for (t = 0; t < threads; t++) {
		workers[t].row = &row;
		/* libgc must know every thread that allocates from it. */
		if (is_libgc(a))
			err = GC_pthread_create(&workers[t].tid, NULL, worker_main, &workers[t]);
		else
			err = pthread_create(&workers[t].tid, NULL, worker_main, &workers[t]);
		if (err) {
			fprintf(stderr, "bench: cannot create a thread: %s\n", strerror(err));
			exit(2);
		}
	}
	pthread_barrier_wait(&row.start);
	pthread_barrier_wait(&row.stop);
	if (is_gcheap(a))
		gch_counts(&c1);
	if (is_libgc(a))
		gc1 = (unsigned long)GC_get_gc_no();
	pthread_barrier_wait(&row.cleanup);
	for (t = 0; t < threads; t++) {
		if (is_libgc(a))
			GC_pthread_join(workers[t].tid, NULL);
		else
			pthread_join(workers[t].tid, NULL);
	}
	pthread_barrier_destroy(&row.start);
	pthread_barrier_destroy(&row.stop);
	pthread_barrier_destroy(&row.cleanup);

	for (t = 0; t < threads; t++) {
		struct worker *w = &workers[t];
		double s = ts_sec(&w->t_start), e = ts_sec(&w->t_end);
		size_t len = strlen(notes);

		if (w->setup_errno) {
			snprintf(notes + len, sizeof(notes) - len,
				 " thread %u: gch_thread_attach failed: %s;", t,
				 strerror(w->setup_errno));
			ok = false;
			continue;
		}
		if (t == 0 || s < t0)
			t0 = s;
		if (t == 0 || e > t1)
			t1 = e;
		objects += w->done;
		len = strlen(notes);
		if (w->alloc_errno) {
			snprintf(notes + len, sizeof(notes) - len,
				 " thread %u: NULL after %llu objects (%s);", t,
				 (unsigned long long)w->done, strerror(w->alloc_errno));
			ok = false;
		}
		len = strlen(notes);
		if (w->free_errors || w->free_errno)
			snprintf(notes + len, sizeof(notes) - len,
				 " thread %u: %llu gch_free errors, last: %s;", t,
				 (unsigned long long)w->free_errors, strerror(w->free_errno));
	}
	if (is_libgc(a)) {
		size_t len = strlen(notes);

		snprintf(notes + len, sizeof(notes) - len, " %lu GCs", gc1 - gc0);
	}
	if (is_gcheap(a) && objects) {
		size_t len = strlen(notes);

		snprintf(notes + len, sizeof(notes) - len,
			 " refills/Mobj %.0f, module frees/Mobj %.0f",
			 (double)(c1.refills - c0.refills) * 1e6 / (double)objects,
			 (double)(c1.frees - c0.frees) * 1e6 / (double)objects);
	}
	if (a == A_GCH_NOSCAN && !row.early_free) {
		size_t len = strlen(notes);

		snprintf(notes + len, sizeof(notes) - len, " no early free (tiny)");
	}

	secs = t1 - t0;
	res->ran = true;
	res->failed = !ok;
	res->objects = objects;
	res->seconds = secs;
	res->mops = secs > 0 ? (double)objects / secs / 1e6 : 0;
	res->syscalls_per_mobj = objects ?
		(double)(c1.syscalls - c0.syscalls) * 1e6 / (double)objects : 0;

	printf("%6zu %3u  %-17s %9llu %9.3f %10.3g", size, threads, alloc_name[a],
	       (unsigned long long)objects, secs, res->mops);
	if (is_gcheap(a))
		printf(" %13.0f", res->syscalls_per_mobj);
	else
		printf(" %13s", "-");
	printf("  %s\n", notes[0] == ' ' ? notes + 1 : notes);
	fflush(stdout);
	return ok;
}

static void print_ratio(const struct result *num, const struct result *den)
{
	if (num->ran && den->ran && !num->failed && !den->failed && den->mops > 0)
		printf(" %11.3g", num->mops / den->mops);
	else
		printf(" %11s", "n/a");
}

/*
 * GCHEAP_BENCH_SIZES, a comma-separated subset of sizes[], runs only those
 * sizes (to look again at a row without running them all); unset: all.
 */
static void parse_sizes(const char *s, bool *selected)
{
	unsigned int i;
	char *end;

	for (i = 0; i < NR_SIZES; i++)
		selected[i] = !s || !*s;
	while (s && *s) {
		unsigned long v = strtoul(s, &end, 10);

		for (i = 0; i < NR_SIZES && sizes[i] != v; i++)
			;
		if (end == s || (*end && *end != ',') || i == NR_SIZES) {
			fprintf(stderr, "bench: bad GCHEAP_BENCH_SIZES '%s' (sizes from %s)\n",
				s, "8, 16, 32, 64, 128, 256, 512, 1024, 4096, 8192, 32768");
			exit(2);
		}
		selected[i] = true;
		s = *end ? end + 1 : end;
	}
}

static double parse_scale(const char *s)
{
	char *end;
	double v;

	if (!s || !*s)
		return 1.0;
	v = strtod(s, &end);
	if (*end || !(v > 0)) {
		fprintf(stderr, "bench: bad scale '%s' (a positive number)\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = crash_handler, .sa_flags = SA_RESETHAND };
	double scale = parse_scale(argc > 1 ? argv[1] : getenv("GCHEAP_BENCH_SCALE"));
	struct timespec begin, finish;
	bool selected[NR_SIZES];
	bool have_gcheap = true, ok = true;
	struct gch_stats st;
	unsigned int ti, si;
	int a;

	parse_sizes(getenv("GCHEAP_BENCH_SIZES"), selected);
	GC_INIT();
	GC_allow_register_threads();
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGABRT, &sa, NULL);

	/* Open the heap (and attach this thread) outside any timed region. */
	if (gch_init(NULL) < 0) {
		printf("bench: gcheap unavailable (%s): its rows are skipped\n", strerror(errno));
		have_gcheap = false;
		ok = false;
	}

	printf("gcheap allocation benchmark: %ld CPU(s) online, scale %g, "
	       "window %d live objects per thread\n", sysconf(_SC_NPROCESSORS_ONLN), scale, WINDOW);
	printf("Each thread allocates `objects`/threads objects and writes one word into each.\n");
	printf("Evicted objects: malloc rows free() them; gcheap rows gch_free() them (an early\n");
	printf("free per object, as gcheap has no collector yet), except noscan <= 16 B (tiny\n");
	printf("blocks, not freeable); libgc rows drop them for its collector.\n");
	printf("Mallocs/s is in millions of objects per second of wall time (kernel time of\n");
	printf("gcheap's ioctls included); syscalls/Mobj is gcheap's ioctls per million\n");
	printf("objects, refills and module frees the module's own counts of each ioctl.\n\n");
	printf("%6s %3s  %-17s %9s %9s %10s %13s  %s\n", "size", "thr", "allocator", "objects",
	       "seconds", "Mallocs/s", "syscalls/Mobj", "notes");

	clock_gettime(CLOCK_MONOTONIC, &begin);
	for (ti = 0; ti < NR_THREADS; ti++) {
		for (si = 0; si < NR_SIZES; si++) {
			if (!selected[si])
				continue;
			for (a = 0; a < NR_ALLOCS; a++) {
				if (is_gcheap(a) && !have_gcheap)
					continue;
				if (!run_row(&results[ti][si][a], a, sizes[si],
					     thread_counts[ti], scale))
					ok = false;
			}
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &finish);

	printf("\nThroughput ratios, Mallocs/s of gcheap / of the other "
	       "(above 1: gcheap faster)\n");
	printf("%6s %3s  %11s %11s %11s %11s\n", "", "", "gch_alloc/", "gch_alloc/",
	       "noscan/", "noscan/");
	printf("%6s %3s  %11s %11s %11s %11s\n", "size", "thr", "GC_MALLOC", "malloc",
	       "GC_ATOMIC", "malloc");
	for (ti = 0; ti < NR_THREADS; ti++) {
		for (si = 0; si < NR_SIZES; si++) {
			struct result *r = results[ti][si];

			if (!selected[si])
				continue;
			printf("%6zu %3u ", sizes[si], thread_counts[ti]);
			print_ratio(&r[A_GCH], &r[A_GC]);
			print_ratio(&r[A_GCH], &r[A_MALLOC]);
			print_ratio(&r[A_GCH_NOSCAN], &r[A_GC_ATOMIC]);
			print_ratio(&r[A_GCH_NOSCAN], &r[A_MALLOC]);
			printf("\n");
		}
	}

	if (have_gcheap && gch_stats(&st) == 0)
		printf("\ngcheap at the end: heap_sys %llu MiB, inuse %llu MiB, resident %llu MiB, "
		       "alloc %llu MiB, %llu objects, %llu refills, %llu frees, %llu syscalls\n",
		       (unsigned long long)(st.heap_sys >> 20),
		       (unsigned long long)(st.heap_inuse >> 20),
		       (unsigned long long)(st.heap_resident >> 20),
		       (unsigned long long)(st.heap_alloc >> 20),
		       (unsigned long long)st.heap_objects, (unsigned long long)st.refills,
		       (unsigned long long)st.frees, (unsigned long long)st.syscalls);
	printf("libgc at the end: heap %zu MiB, %lu collections\n", GC_get_heap_size() >> 20,
	       (unsigned long)GC_get_gc_no());
	printf("total benchmark time %.1f s\n", ts_sec(&finish) - ts_sec(&begin));
	return ok ? 0 : 1;
}
