// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Many threads allocating at once, each from its own cache: every thread
 * fills its objects with a pattern of its own, frees some early, and checks
 * at the end that all it kept are intact, so any slot handed to two caches
 * shows up as corruption. Also: a thread that is not attached is refused,
 * and a thread's spans go back to the heap when it detaches or exits.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gcheap.h"
#include "tap.h"

#define THREADS	4

struct worker {
	pthread_t tid;
	unsigned int id;
	unsigned long objects, corrupt, unzeroed, failed, frees_failed;
	bool detach;
};

static unsigned int xorshift(unsigned int *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	unsigned int seed = 0x9e3779b9u * (w->id + 1), i, j;
	unsigned int n = getenv("GCHEAP_SOAK") ? 200000 : 20000;
	unsigned char **objs = calloc(n, sizeof(*objs));
	size_t *sizes = calloc(n, sizeof(*sizes));

	/* The tables hold the thread's objects: the collector must see them. */
	if (gch_thread_attach() < 0 || gch_root_add(objs, objs + n) < 0) {
		w->failed = n;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		unsigned int r = xorshift(&seed);
		/* Mostly small, some up to 32 KiB, a few large. */
		size_t size = r % 100 < 90 ? 1 + r % 512 : r % 100 < 99 ? 1 + r % 32768 : 40000 + r % 100000;

		objs[i] = r & 1 ? gch_alloc(size) : gch_alloc_noscan(size);
		if (!objs[i]) {
			w->failed++;
			continue;
		}
		sizes[i] = size;
		for (j = 0; j < size; j++)
			w->unzeroed += objs[i][j] != 0;
		memset(objs[i], w->id + 1, size);
		/* Free a third of them early, from this thread's cache or not. */
		if (i && r % 3 == 0 && objs[i - 1]) {
			if (gch_free(objs[i - 1]) == 0)
				objs[i - 1] = NULL;
			else if (errno != EBUSY)	/* EBUSY: a tiny block */
				w->frees_failed++;
		}
	}
	for (i = 0; i < n; i++) {
		if (!objs[i])
			continue;
		w->objects++;
		for (j = 0; j < sizes[i]; j++)
			if (objs[i][j] != w->id + 1) {
				w->corrupt++;
				break;
			}
	}
	gch_root_remove(objs, objs + n);
	free(objs);
	free(sizes);
	if (w->detach)
		gch_thread_detach();
	return NULL;
}

static void *unattached(void *arg)
{
	(void)arg;
	return gch_alloc(64) == NULL && errno == EPERM ? (void *)1 : NULL;
}

int main(void)
{
	struct worker w[THREADS] = { 0 };
	struct gch_stats st;
	unsigned long corrupt = 0, unzeroed = 0, failed = 0, frees_failed = 0, objects = 0;
	unsigned long long main_spans;
	pthread_t t;
	void *res = NULL;
	int i;

	ok(gch_init(NULL) == 0, "gch_init attaches the main thread");
	ok(gch_alloc(64) != NULL && gch_stats(&st) == 0 && st.spans_cached >= 1,
	   "the main thread allocates");
	main_spans = st.spans_cached;
	ok(pthread_create(&t, NULL, unattached, NULL) == 0 && pthread_join(t, &res) == 0 && res,
	   "a thread that is not attached gets EPERM");
	for (i = 0; i < THREADS; i++) {
		w[i].id = i;
		w[i].detach = i % 2;	/* the others detach by exiting */
		pthread_create(&w[i].tid, NULL, work, &w[i]);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(w[i].tid, NULL);
		corrupt += w[i].corrupt;
		unzeroed += w[i].unzeroed;
		failed += w[i].failed;
		frees_failed += w[i].frees_failed;
		objects += w[i].objects;
	}
	ok(failed == 0, "%d threads: no allocation failed (%lu)", THREADS, failed);
	ok(unzeroed == 0, "every new object zeroed (%lu bytes were not)", unzeroed);
	ok(corrupt == 0, "%lu live objects, none overwritten by another thread (%lu were)",
	   objects, corrupt);
	ok(frees_failed == 0, "early frees succeeded or were left to the collector (%lu failed)",
	   frees_failed);
	gch_stats(&st);
	ok(st.spans_cached == main_spans,
	   "threads that detached or exited hold no spans (%llu cached, the main thread's %llu)",
	   (unsigned long long)st.spans_cached, (unsigned long long)main_spans);
	tap_diag("heap_alloc %llu KiB in %llu objects, %llu refills",
		 (unsigned long long)st.heap_alloc >> 10, (unsigned long long)st.heap_objects,
		 (unsigned long long)st.refills);
	return tap_done();
}
