// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The demo `make run` starts inside the VM: a session cache under steady
 * churn, the kind of workload a garbage-collected heap exists for. Two
 * threads serve requests against a shared hash table of sessions; each
 * request looks a session up, creates it if missing (a struct, a noscan
 * name, a history array and, now and then, a 40 KiB large blob), and
 * replaces entries in its history. The table holds at most CAPACITY
 * sessions: inserting beyond that evicts the oldest, which simply becomes
 * garbage. Nothing is ever freed by hand.
 *
 * Every collection is printed as it happens (GCHEAP_TRACE=1), and the
 * heap's numbers at the end. The run checks that every session still in
 * the table is intact, so a collector that freed a reachable object would
 * show here as a failure, not just as a number.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcheap.h"

#define BUCKETS		8192
#define CAPACITY	20000
#define HISTORY		16
#define REQUESTS	400000	/* per thread */

struct session {
	struct session *next;		/* bucket chain */
	struct session *older, *newer;	/* eviction order */
	char *name;			/* noscan */
	unsigned long id, hits;
	unsigned long *history[HISTORY];	/* small noscan records */
	unsigned char *blob;		/* sometimes a large object */
};

/* The one root: everything live hangs off it. */
static struct cache {
	pthread_mutex_t lock;
	struct session **buckets;	/* a large object */
	struct session *oldest, *newest;
	unsigned long size, created, evicted;
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

static unsigned long xorshift(unsigned long *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static struct session *create(unsigned long id)
{
	struct session *s = gch_alloc(sizeof(*s));

	if (!s)
		return NULL;
	s->id = id;
	s->name = gch_alloc_noscan(24);
	if (!s->name)
		return NULL;
	snprintf(s->name, 24, "session-%lu", id);
	if (id % 64 == 0) {
		s->blob = gch_alloc_noscan(40 << 10);
		if (!s->blob)
			return NULL;
		memset(s->blob, (int)(id & 0xff), 40 << 10);
	}
	return s;
}

/* Under cache.lock: insert @s, evicting the oldest session if full. */
static void insert(struct session *s)
{
	struct session **b = &cache.buckets[s->id % BUCKETS], *old;

	s->next = *b;
	*b = s;
	s->older = cache.newest;
	if (cache.newest)
		cache.newest->newer = s;
	cache.newest = s;
	if (!cache.oldest)
		cache.oldest = s;
	cache.created++;
	if (++cache.size <= CAPACITY)
		return;
	old = cache.oldest;
	cache.oldest = old->newer;
	cache.oldest->older = NULL;
	for (b = &cache.buckets[old->id % BUCKETS]; *b != old; b = &(*b)->next)
		;
	*b = old->next;
	/*
	 * Cut the evicted session's links: a conservative collector keeps what
	 * any stale word reaches, and from an old session `newer` would reach
	 * every session since.
	 */
	old->next = old->newer = NULL;
	cache.size--;
	cache.evicted++;
}

static struct session *lookup(unsigned long id)
{
	struct session *s;

	for (s = cache.buckets[id % BUCKETS]; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

static void *serve(void *arg)
{
	unsigned long seed = (unsigned long)arg * 0x9e3779b97f4a7c15UL + 1, i, *rec;
	struct session *s;

	for (i = 0; i < REQUESTS; i++) {
		unsigned long r = xorshift(&seed);

		rec = gch_alloc_noscan(sizeof(*rec) * 4);
		if (!rec)
			return (void *)(long)errno;
		pthread_mutex_lock(&cache.lock);
		/* Recent ids are hot; new ones keep arriving. */
		s = r % 8 == 0 ? NULL : lookup(cache.created + 1 - r % 4096);
		if (!s) {
			s = create(cache.created + 1);
			if (!s) {
				pthread_mutex_unlock(&cache.lock);
				return (void *)(long)errno;
			}
			insert(s);
		}
		rec[0] = s->id;
		rec[1] = ++s->hits;
		s->history[s->hits % HISTORY] = rec;
		pthread_mutex_unlock(&cache.lock);
	}
	return NULL;
}

/* Every session in the table is whole: name, blob, history records. */
static unsigned long check(void)
{
	unsigned long bad = 0, n = 0, b, h;
	struct session *s;
	char name[24];

	for (b = 0; b < BUCKETS; b++)
		for (s = cache.buckets[b]; s; s = s->next, n++) {
			snprintf(name, sizeof(name), "session-%lu", s->id);
			bad += strcmp(name, s->name) != 0;
			if (s->blob)
				bad += s->blob[(40 << 10) - 1] != (unsigned char)(s->id & 0xff);
			for (h = 0; h < HISTORY; h++)
				bad += s->history[h] && s->history[h][0] != s->id;
		}
	return n == cache.size ? bad : bad + 1;
}

int main(void)
{
	pthread_t t[2];
	struct gch_stats st;
	unsigned long bad, i;
	void *ret;

	setenv("GCHEAP_TRACE", "1", 0);
	if (gch_init(NULL) < 0 || gch_root_add(&cache, &cache + 1) < 0) {
		perror("gcheap");
		return 1;
	}
	cache.buckets = gch_alloc(BUCKETS * sizeof(*cache.buckets));
	if (!cache.buckets) {
		perror("gch_alloc");
		return 1;
	}
	printf("session cache: %d sessions at most, 2 threads x %d requests\n",
	       CAPACITY, REQUESTS);
	for (i = 0; i < 2; i++)
		if (gch_pthread_create(&t[i], NULL, serve, (void *)i)) {
			perror("gch_pthread_create");
			return 1;
		}
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], &ret);
		if (ret) {
			fprintf(stderr, "request failed: %s\n", strerror((int)(long)ret));
			return 1;
		}
	}
	bad = check();
	gch_collect();
	bad += check();
	if (gch_stats(&st) < 0) {
		perror("gch_stats");
		return 1;
	}
	printf("\n%lu sessions created, %lu evicted, %lu cached; %s\n",
	       cache.created, cache.evicted, cache.size,
	       bad ? "SOME DAMAGED" : "all intact");
	printf("collections:    %llu (%llu forced), %llu abandoned\n",
	       (unsigned long long)st.num_gc, (unsigned long long)st.num_forced_gc,
	       (unsigned long long)st.stw_timeouts);
	printf("pauses:         total %.1f ms, longest %.1f ms\n",
	       st.pause_total_ns / 1e6, st.pause_max_ns / 1e6);
	printf("collected:      %llu objects, %llu MiB\n",
	       (unsigned long long)st.freed_objects, (unsigned long long)st.swept_bytes >> 20);
	printf("heap now:       %llu KiB allocated in %llu objects, %llu KiB in spans, "
	       "%llu KiB resident\n",
	       (unsigned long long)st.heap_alloc >> 10, (unsigned long long)st.heap_objects,
	       (unsigned long long)st.heap_inuse >> 10, (unsigned long long)st.heap_resident >> 10);
	printf("pacer:          live after last cycle %llu KiB, next at %llu KiB (GOGC=%d)\n",
	       (unsigned long long)st.last_marked >> 10, (unsigned long long)st.next_gc >> 10,
	       st.gogc);
	printf("system calls:   %llu\n", (unsigned long long)st.syscalls);
	return bad ? 1 : 0;
}
