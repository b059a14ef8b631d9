// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Small-object allocation throughput: libgcheap (gch_alloc and
 * gch_alloc_noscan) side by side with glibc malloc and Boehm GC (libgc's
 * GC_MALLOC and GC_MALLOC_ATOMIC, its noscan analogue), in one run so every
 * allocator sees the same machine, kernel and moment.
 *
 * The primary table is allocation only. For each allocator, object size
 * (8 B .. 32 KiB) and thread count (1, 2), each thread allocates N objects,
 * writes one word into each (so the memory is really used, not just
 * reserved) and keeps every one of them: nothing is freed, by any
 * allocator. The program holds the objects in one pointer array per thread,
 * allocated and touched before the clock starts: for libgc with
 * GC_MALLOC_UNCOLLECTABLE, so the objects stay reachable and its
 * collections (which still run as its heap grows) find them all live; for
 * malloc and gcheap a plain malloc'd array. (gcheap has no collector yet;
 * once it has one, its array must become a root of its own.) Each
 * allocator therefore does what it naturally does for a program that
 * keeps what it allocates.
 *
 * Every row runs in a fresh child process (fork, no exec), so each
 * allocator starts from an empty heap, no row inherits another's
 * fragmentation or cached spans, and all of a row's memory goes back to the
 * system when its child exits. The parent never touches gcheap or libgc:
 * the child opens the gcheap heap (untimed, before the clock starts) or
 * calls GC_INIT itself, and sends its measurements back over a pipe.
 *
 * The secondary table keeps the older churn workload, for 1 thread and a
 * few sizes: each thread keeps only the last WINDOW objects live in a ring
 * and drops the one a new object evicts, with early free: malloc rows
 * free() it, gcheap rows gch_free() it (outside the thread's current span
 * that is a system call, so these rows mostly measure gch_free), libgc rows
 * drop the pointer for the collector. Noscan gcheap objects of at most 16 B
 * are not freed (gcheap packs them into shared tiny blocks that gch_free()
 * refuses with EBUSY).
 *
 * Each row reports wall time (CLOCK_MONOTONIC, from the first thread's
 * start to the last thread's end), millions of objects per second, the
 * child's peak resident set (getrusage of the child; gcheap's heap pages
 * count in it) and, for gcheap, the system calls its allocator made and the
 * spans it was handed, per million objects (gch_stats() around the timed
 * loops). Wall time is what we want: it includes the kernel-side work of
 * gcheap's ioctls (span refills, early frees) and page faults on fresh heap
 * pages, which a user-time-only measurement would hide; likewise libgc rows
 * include its collections. The goals this reports against: gcheap more than
 * 1.5x GC_MALLOC, at least glibc malloc, and fewer than 1,000 system calls
 * per million small objects.
 *
 * N is chosen per size so a row allocates at most ROW_BYTES of objects
 * (all threads together) and a thread at most MAX_OBJECTS objects, which
 * bounds every child's memory in the 2 GiB VM and keeps the whole run to a
 * few minutes under QEMU's software emulation. GCHEAP_BENCH_SCALE (or the
 * first argument), a positive number, scales N; GCHEAP_BENCH_SIZES (say
 * "8,4096") runs only some sizes (in both tables). The program reports
 * numbers; it exits non-zero only if an allocator returned NULL, a child
 * failed or the setup failed, never because of a number.
 */
#define GC_THREADS
#define GC_NO_THREAD_REDIRECTS
#include <gc.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gcheap.h"

#define ROW_BYTES		(64ULL << 20)	/* objects per row, all threads */
#define MAX_OBJECTS		(256ULL << 10)	/* objects per thread */
#define WINDOW			1024		/* churn: live objects per thread */
#define MAX_THREADS		2
#define CHILD_TIMEOUT		120		/* seconds per row, times the scale */

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

/* The churn table: these sizes, one thread. */
static const size_t churn_sizes[] = { 16, 256, 4096 };
#define NR_CHURN_SIZES	(sizeof(churn_sizes) / sizeof(churn_sizes[0]))

struct row {
	enum alloc alloc;
	size_t size;
	unsigned int threads;
	uint64_t n;			/* objects per thread */
	bool churn;			/* ring of WINDOW, evicted objects dropped */
	bool early_free;		/* churn: evicted objects are freed */
	pthread_barrier_t start, stop, cleanup;
};

struct worker {
	struct row *row;
	pthread_t tid;
	void **keep;			/* allocation only: every object, n slots */
	struct timespec t_start, t_end;
	uint64_t done;			/* objects allocated */
	int alloc_errno;		/* set if an allocation returned NULL */
	int setup_errno;		/* set if the thread could not attach */
	uint64_t free_errors;
	int free_errno;
};

/* What a row's child sends its parent over the pipe (one write). */
struct report {
	bool failed;
	int gcheap_errno;		/* the heap could not be opened */
	uint64_t objects;
	double seconds;
	double mops;			/* millions of objects per second */
	double syscalls_per_mobj;	/* gcheap only */
	double refills_per_mobj;	/* gcheap only */
	double frees_per_mobj;		/* gcheap only: module frees */
	char notes[200];
};

struct result {
	bool ran, failed;
	double mops;
};

static struct result alloc_results[NR_THREADS][NR_SIZES][NR_ALLOCS];
static struct result churn_results[NR_CHURN_SIZES][NR_ALLOCS];

static bool is_gcheap(enum alloc a)
{
	return a == A_GCH || a == A_GCH_NOSCAN;
}

static bool is_libgc(enum alloc a)
{
	return a == A_GC || a == A_GC_ATOMIC;
}

static void note(char *notes, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Append "; "-separated text to @notes. */
static void note(char *notes, size_t cap, const char *fmt, ...)
{
	size_t len = strlen(notes);
	va_list ap;

	if (len && len + 2 < cap) {
		strcpy(notes + len, "; ");
		len += 2;
	}
	if (len + 1 >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(notes + len, cap - len, fmt, ap);
	va_end(ap);
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

/* Churn: drop the object the new one evicts from the ring. */
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
 * The timed loops, specialised per allocator (always inlined with a
 * constant @a), so no row pays for an indirect call the others do not.
 */
static inline __attribute__((always_inline)) void keep_loop(struct worker *w, enum alloc a)
{
	const uint64_t n = w->row->n;
	const size_t size = w->row->size;
	void **keep = w->keep;
	uint64_t i;

	clock_gettime(CLOCK_MONOTONIC, &w->t_start);
	for (i = 0; i < n; i++) {
		void *p = bench_alloc(a, size);

		if (__builtin_expect(!p, 0)) {
			w->alloc_errno = errno ? errno : ENOMEM;
			break;
		}
		*(volatile uint64_t *)p = i;
		keep[i] = p;
	}
	clock_gettime(CLOCK_MONOTONIC, &w->t_end);
	w->done = i;
}

static inline __attribute__((always_inline)) void churn_loop(struct worker *w, enum alloc a)
{
	const uint64_t n = w->row->n;
	const size_t size = w->row->size;
	const bool early_free = w->row->early_free;
	void *ring[WINDOW];
	unsigned int slot;
	uint64_t i;

	memset(ring, 0, sizeof(ring));
	clock_gettime(CLOCK_MONOTONIC, &w->t_start);
	for (i = 0; i < n; i++) {
		void *p = bench_alloc(a, size);

		if (__builtin_expect(!p, 0)) {
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
	/*
	 * The ring must stay live (and visible to libgc) until the clock has
	 * stopped; what is left in it goes away with the child process.
	 */
	__asm__ volatile("" : : "r"(ring) : "memory");
}

#define DISPATCH(loop, w, a)				\
	do {						\
		switch (a) {				\
		case A_GCH:				\
			loop(w, A_GCH);			\
			break;				\
		case A_GCH_NOSCAN:			\
			loop(w, A_GCH_NOSCAN);		\
			break;				\
		case A_MALLOC:				\
			loop(w, A_MALLOC);		\
			break;				\
		case A_GC:				\
			loop(w, A_GC);			\
			break;				\
		case A_GC_ATOMIC:			\
			loop(w, A_GC_ATOMIC);		\
			break;				\
		default:				\
			break;				\
		}					\
	} while (0)

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct row *row = w->row;

	if (is_gcheap(row->alloc) && gch_thread_attach() < 0)
		w->setup_errno = errno;
	pthread_barrier_wait(&row->start);
	if (!w->setup_errno) {
		if (row->churn)
			DISPATCH(churn_loop, w, row->alloc);
		else
			DISPATCH(keep_loop, w, row->alloc);
	}
	/* Let the child's main thread read the counters, then detach untimed. */
	pthread_barrier_wait(&row->stop);
	pthread_barrier_wait(&row->cleanup);
	if (is_gcheap(row->alloc) && !w->setup_errno && gch_thread_detach() < 0 &&
	    !w->free_errno)
		w->free_errno = errno;
	return NULL;
}

static double ts_sec(const struct timespec *t)
{
	return (double)t->tv_sec + (double)t->tv_nsec * 1e-9;
}

static uint64_t objects_per_thread(size_t size, unsigned int threads, double scale)
{
	uint64_t n = ROW_BYTES / threads / size;
	double scaled;

	if (n > MAX_OBJECTS)
		n = MAX_OBJECTS;
	scaled = (double)n * scale;
	return scaled < 1 ? 1 : (uint64_t)scaled;
}

/* In the child: run @row, fill @rep. The heap is the child's own. */
static void child_run(struct row *row, struct report *rep)
{
	struct worker workers[MAX_THREADS];
	struct gch_stats c0, c1;
	enum alloc a = row->alloc;
	uint64_t objects = 0, free_errors = 0;
	unsigned long gc0 = 0, gc1 = 0;
	double t0 = 0, t1 = 0;
	unsigned int t;
	int err;

	memset(workers, 0, sizeof(workers));
	memset(&c0, 0, sizeof(c0));
	memset(&c1, 0, sizeof(c1));
	if (is_libgc(a)) {
		GC_INIT();
		GC_allow_register_threads();
		gc0 = (unsigned long)GC_get_gc_no();
	}
	/* Opens the heap and attaches this thread, before any clock starts. */
	if (is_gcheap(a) && gch_stats(&c0) < 0) {
		rep->failed = true;
		rep->gcheap_errno = errno;
		note(rep->notes, sizeof(rep->notes), "gcheap unavailable: %s", strerror(errno));
		return;
	}

	/* Allocation only: the pointer arrays, allocated and touched untimed. */
	for (t = 0; t < row->threads && !row->churn; t++) {
		size_t bytes = row->n * sizeof(void *);

		workers[t].keep = is_libgc(a) ? GC_MALLOC_UNCOLLECTABLE(bytes) : malloc(bytes);
		if (!workers[t].keep) {
			rep->failed = true;
			note(rep->notes, sizeof(rep->notes), "no memory for the pointer array");
			return;
		}
		memset(workers[t].keep, 0, bytes);
		/* gcheap's collector sees only roots: the array must be one. */
		if (is_gcheap(a) && gch_root_add(workers[t].keep,
						 (char *)workers[t].keep + bytes) < 0) {
			rep->failed = true;
			note(rep->notes, sizeof(rep->notes), "gch_root_add: %s", strerror(errno));
			return;
		}
	}

	pthread_barrier_init(&row->start, NULL, row->threads + 1);
	pthread_barrier_init(&row->stop, NULL, row->threads + 1);
	pthread_barrier_init(&row->cleanup, NULL, row->threads + 1);
	for (t = 0; t < row->threads; t++) {
		workers[t].row = row;
		/* libgc must know every thread that allocates from it. */
		if (is_libgc(a))
			err = GC_pthread_create(&workers[t].tid, NULL, worker_main, &workers[t]);
		else
			err = pthread_create(&workers[t].tid, NULL, worker_main, &workers[t]);
		if (err) {
			fprintf(stderr, "bench: cannot create a thread: %s\n", strerror(err));
			_exit(2);
		}
	}
	pthread_barrier_wait(&row->start);
	pthread_barrier_wait(&row->stop);
	if (is_gcheap(a))
		gch_stats(&c1);
	if (is_libgc(a))
		gc1 = (unsigned long)GC_get_gc_no();
	pthread_barrier_wait(&row->cleanup);
	for (t = 0; t < row->threads; t++) {
		if (is_libgc(a))
			GC_pthread_join(workers[t].tid, NULL);
		else
			pthread_join(workers[t].tid, NULL);
	}

	for (t = 0; t < row->threads; t++) {
		struct worker *w = &workers[t];
		double s = ts_sec(&w->t_start), e = ts_sec(&w->t_end);

		if (w->setup_errno) {
			note(rep->notes, sizeof(rep->notes), "thread %u: gch_thread_attach: %s",
			     t, strerror(w->setup_errno));
			rep->failed = true;
			continue;
		}
		if (!objects || s < t0)
			t0 = s;
		if (!objects || e > t1)
			t1 = e;
		objects += w->done;
		if (w->alloc_errno) {
			note(rep->notes, sizeof(rep->notes), "thread %u: NULL after %llu (%s)", t,
			     (unsigned long long)w->done, strerror(w->alloc_errno));
			rep->failed = true;
		}
		free_errors += w->free_errors;
		if (w->free_errors || w->free_errno)
			note(rep->notes, sizeof(rep->notes), "thread %u: %llu gch_free errors, last %s",
			     t, (unsigned long long)w->free_errors, strerror(w->free_errno));
	}
	if (is_libgc(a))
		note(rep->notes, sizeof(rep->notes), "%lu GCs, heap %zu MiB", gc1 - gc0,
		     GC_get_heap_size() >> 20);
	if (is_gcheap(a))
		note(rep->notes, sizeof(rep->notes), "heap_inuse %llu MiB",
		     (unsigned long long)(c1.heap_inuse >> 20));
	if (a == A_GCH_NOSCAN && row->churn && !row->early_free)
		note(rep->notes, sizeof(rep->notes), "no early free (tiny)");

	rep->objects = objects;
	rep->seconds = t1 - t0;
	rep->mops = rep->seconds > 0 ? (double)objects / rep->seconds / 1e6 : 0;
	if (objects) {
		rep->syscalls_per_mobj = (double)(c1.syscalls - c0.syscalls) * 1e6 / (double)objects;
		rep->refills_per_mobj = (double)(c1.refills - c0.refills) * 1e6 / (double)objects;
		rep->frees_per_mobj = (double)(c1.frees - c0.frees) * 1e6 / (double)objects;
	}
}

/*
 * Run @row in a fresh child process and collect its report; @maxrss_mib is
 * the child's peak resident set. Returns false if the child failed.
 */
static bool run_in_child(struct row *row, double scale, struct report *rep, double *maxrss_mib)
{
	struct rusage ru;
	int fds[2], status;
	size_t got = 0;
	pid_t pid;

	memset(rep, 0, sizeof(*rep));
	*maxrss_mib = 0;
	fflush(stdout);
	fflush(stderr);
	if (pipe(fds) < 0) {
		perror("bench: pipe");
		exit(2);
	}
	pid = fork();
	if (pid < 0) {
		perror("bench: fork");
		exit(2);
	}
	if (pid == 0) {
		struct report r;
		ssize_t n;

		close(fds[0]);
		memset(&r, 0, sizeof(r));
		alarm((unsigned int)(CHILD_TIMEOUT * (scale > 1 ? scale : 1)));
		child_run(row, &r);
		/* Smaller than PIPE_BUF: one atomic write. */
		n = write(fds[1], &r, sizeof(r));
		_exit(n == (ssize_t)sizeof(r) ? 0 : 3);
	}
	close(fds[1]);
	while (got < sizeof(*rep)) {
		ssize_t n = read(fds[0], (char *)rep + got, sizeof(*rep) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("bench: wait4");
			exit(2);
		}
	}
	*maxrss_mib = (double)ru.ru_maxrss / 1024;	/* KiB on Linux */
	if (got < sizeof(*rep)) {
		memset(rep, 0, sizeof(*rep));
		rep->failed = true;
	}
	if (WIFSIGNALED(status)) {
		rep->failed = true;
		note(rep->notes, sizeof(rep->notes), "child killed by signal %d (%s)%s",
		     WTERMSIG(status), strsignal(WTERMSIG(status)),
		     WTERMSIG(status) == SIGALRM ? ": row timed out" : "");
	} else if (WEXITSTATUS(status) != 0) {
		rep->failed = true;
		note(rep->notes, sizeof(rep->notes), "child exited with status %d",
		     WEXITSTATUS(status));
	}
	return !rep->failed;
}

static void print_header(void)
{
	printf("%6s %3s  %-16s %8s %8s %9s %9s %8s %7s  %s\n", "size", "thr", "allocator",
	       "objects", "seconds", "Mallocs/s", "syscl/Mo", "refil/Mo", "maxRSS", "notes");
}

/* Run one row in a child and print it; false if it failed. */
static bool run_row(struct result *res, enum alloc a, size_t size, unsigned int threads,
		    bool churn, double scale, bool *have_gcheap)
{
	struct row row = {
		.alloc = a,
		.size = size,
		.threads = threads,
		.n = objects_per_thread(size, threads, scale),
		.churn = churn,
		.early_free = churn && !(a == A_GCH_NOSCAN && size <= 16),
	};
	struct report rep;
	double maxrss;
	bool ok = run_in_child(&row, scale, &rep, &maxrss);

	res->ran = true;
	res->failed = !ok;
	res->mops = rep.mops;
	if (is_gcheap(a) && rep.gcheap_errno) {
		printf("bench: gcheap unavailable (%s): its rows are skipped\n",
		       strerror(rep.gcheap_errno));
		*have_gcheap = false;
		return false;
	}
	if (churn && is_gcheap(a) && rep.objects)
		note(rep.notes, sizeof(rep.notes), "module frees/Mo %.0f", rep.frees_per_mobj);

	printf("%6zu %3u  %-16s %8llu %8.3f %9.3g", size, threads, alloc_name[a],
	       (unsigned long long)rep.objects, rep.seconds, rep.mops);
	if (is_gcheap(a))
		printf(" %9.0f %8.0f", rep.syscalls_per_mobj, rep.refills_per_mobj);
	else
		printf(" %9s %8s", "-", "-");
	printf(" %7.1f  %s\n", maxrss, rep.notes);
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

static void print_ratio_header(void)
{
	printf("%6s %3s  %11s %11s %11s %11s\n", "", "", "gch_alloc/", "gch_alloc/",
	       "noscan/", "noscan/");
	printf("%6s %3s  %11s %11s %11s %11s\n", "size", "thr", "GC_MALLOC", "malloc",
	       "GC_ATOMIC", "malloc");
}

static void print_ratio_row(size_t size, unsigned int threads, const struct result *r)
{
	printf("%6zu %3u ", size, threads);
	print_ratio(&r[A_GCH], &r[A_GC]);
	print_ratio(&r[A_GCH], &r[A_MALLOC]);
	print_ratio(&r[A_GCH_NOSCAN], &r[A_GC_ATOMIC]);
	print_ratio(&r[A_GCH_NOSCAN], &r[A_MALLOC]);
	printf("\n");
}

static int size_index(size_t size)
{
	unsigned int i;

	for (i = 0; i < NR_SIZES; i++)
		if (sizes[i] == size)
			return (int)i;
	return -1;
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
		int idx = size_index(v);

		if (end == s || (*end && *end != ',') || idx < 0) {
			fprintf(stderr, "bench: bad GCHEAP_BENCH_SIZES '%s' (sizes from %s)\n",
				s, "8, 16, 32, 64, 128, 256, 512, 1024, 4096, 8192, 32768");
			exit(2);
		}
		selected[idx] = true;
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
	double scale = parse_scale(argc > 1 ? argv[1] : getenv("GCHEAP_BENCH_SCALE"));
	struct timespec begin, finish;
	bool selected[NR_SIZES], any_churn = false;
	bool have_gcheap = true, ok = true;
	unsigned int ti, si;
	int a;

	parse_sizes(getenv("GCHEAP_BENCH_SIZES"), selected);
	for (si = 0; si < NR_CHURN_SIZES; si++)
		any_churn |= selected[size_index(churn_sizes[si])];

	printf("gcheap allocation benchmark: %ld CPU(s) online, scale %g; every row in a fresh\n"
	       "child process. Mallocs/s: millions of objects per second of wall time (kernel\n"
	       "time of gcheap's ioctls and page faults included). syscl/Mo, refil/Mo: gcheap's\n"
	       "system calls and span refills per million objects. maxRSS: the child's peak\n"
	       "resident set in MiB (gcheap's heap pages included).\n\n",
	       sysconf(_SC_NPROCESSORS_ONLN), scale);
	printf("Allocation only: each thread allocates `objects`/threads objects (at most %llu MiB\n"
	       "per row), writes one word into each and keeps them all in a pointer array (libgc:\n"
	       "GC_MALLOC_UNCOLLECTABLE, gcheap: malloc registered with gch_root_add, so all stay\n"
	       "reachable while they collect; malloc: malloc).\n"
	       "Nothing is freed by any allocator.\n",
	       (unsigned long long)(ROW_BYTES >> 20));
	print_header();

	clock_gettime(CLOCK_MONOTONIC, &begin);
	for (ti = 0; ti < NR_THREADS; ti++) {
		for (si = 0; si < NR_SIZES; si++) {
			if (!selected[si])
				continue;
			for (a = 0; a < NR_ALLOCS; a++) {
				if (is_gcheap(a) && !have_gcheap)
					continue;
				if (!run_row(&alloc_results[ti][si][a], a, sizes[si],
					     thread_counts[ti], false, scale, &have_gcheap))
					ok = false;
			}
		}
	}

	printf("\nAllocation only, throughput ratios: Mallocs/s of gcheap / of the other "
	       "(above 1: gcheap faster)\n");
	print_ratio_header();
	for (ti = 0; ti < NR_THREADS; ti++)
		for (si = 0; si < NR_SIZES; si++)
			if (selected[si])
				print_ratio_row(sizes[si], thread_counts[ti], alloc_results[ti][si]);

	if (any_churn) {
		printf("\nWith early free (churn), 1 thread: each thread keeps only the last %d objects\n"
		       "live in a ring; the evicted one is dropped: malloc free()s, gcheap gch_free()s\n"
		       "(a system call outside the current span; noscan <= 16 B: tiny blocks, not\n"
		       "freed), libgc drops the pointer. These rows mostly measure the free path.\n",
		       WINDOW);
		print_header();
		for (si = 0; si < NR_CHURN_SIZES; si++) {
			if (!selected[size_index(churn_sizes[si])])
				continue;
			for (a = 0; a < NR_ALLOCS; a++) {
				if (is_gcheap(a) && !have_gcheap)
					continue;
				if (!run_row(&churn_results[si][a], a, churn_sizes[si], 1, true,
					     scale, &have_gcheap))
					ok = false;
			}
		}
		printf("\nWith early free, throughput ratios (above 1: gcheap faster)\n");
		print_ratio_header();
		for (si = 0; si < NR_CHURN_SIZES; si++)
			if (selected[size_index(churn_sizes[si])])
				print_ratio_row(churn_sizes[si], 1, churn_results[si]);
	}
	clock_gettime(CLOCK_MONOTONIC, &finish);

	printf("\ntotal benchmark time %.1f s\n", ts_sec(&finish) - ts_sec(&begin));
	return ok ? 0 : 1;
}
