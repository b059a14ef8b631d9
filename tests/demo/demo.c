// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The demo `make run` starts inside the VM: a word-frequency table (a hash
 * map of chained entries with their strings) built entirely in the gcheap
 * heap from two threads, queried, half dropped early, and the heap's own
 * numbers before and after.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "gcheap.h"

#define BUCKETS	4096

struct entry {
	struct entry *next;
	char *word;		/* a noscan object of its own */
	unsigned long count;
};

struct table {
	pthread_mutex_t lock;
	struct entry **buckets;	/* a large object: 4096 pointers */
	unsigned long entries;
};

static unsigned long hash(const char *s)
{
	unsigned long h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h % BUCKETS;
}

static int add(struct table *t, const char *word)
{
	struct entry **b = &t->buckets[hash(word)], *e;
	int ret = 0;

	pthread_mutex_lock(&t->lock);
	for (e = *b; e; e = e->next)
		if (!strcmp(e->word, word))
			break;
	if (!e) {
		e = gch_alloc(sizeof(*e));
		if (e)
			e->word = gch_alloc_noscan(strlen(word) + 1);
		if (!e || !e->word) {
			ret = -1;
			goto out;
		}
		strcpy(e->word, word);
		e->next = *b;
		*b = e;
		t->entries++;
	}
	e->count++;
out:
	pthread_mutex_unlock(&t->lock);
	return ret;
}

/* Words from a little generator: syllables make a few thousand distinct ones. */
static void word_of(unsigned long i, char *buf)
{
	static const char *syl[] = { "ka", "ri", "to", "mu", "sen", "la", "vo", "gi", "pe", "dra" };
	unsigned long x = i * 2654435761u;

	sprintf(buf, "%s%s%s%s", syl[x % 10], syl[(x / 10) % 10], syl[(x / 100) % 10],
		(x / 1000) % 3 ? syl[(x / 3000) % 10] : "");
}

struct job {
	struct table *t;
	unsigned long from, to;
	int err;
};

static void *fill(void *arg)
{
	struct job *j = arg;
	char buf[32];
	unsigned long i;

	if (gch_thread_attach() < 0) {
		j->err = errno;
		return NULL;
	}
	for (i = j->from; i < j->to && !j->err; i++) {
		word_of(i, buf);
		if (add(j->t, buf) < 0)
			j->err = errno;
	}
	gch_thread_detach();
	return NULL;
}

static void show(const char *when)
{
	struct gch_stats st;

	if (gch_stats(&st) < 0)
		return;
	printf("  %-14s heap_alloc %7.1f KiB in %6llu objects, in-use spans %4llu (%llu cached),"
	       " resident %5.1f MiB, %llu refills, %llu syscalls\n", when,
	       st.heap_alloc / 1024.0, (unsigned long long)st.heap_objects,
	       (unsigned long long)st.spans_inuse, (unsigned long long)st.spans_cached,
	       st.heap_resident / 1048576.0, (unsigned long long)st.refills,
	       (unsigned long long)st.syscalls);
}

int main(void)
{
	struct table t = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct job jobs[2];
	pthread_t tid[2];
	struct gch_heap_info hi;
	struct entry *e, *best = NULL;
	unsigned long b, dropped = 0, avg;
	int i;

	if (gch_heap_info(&hi) < 0) {
		fprintf(stderr, "demo: cannot open the heap: %s\n", strerror(errno));
		return 1;
	}
	printf("gcheap demo: heap of process %d at %#lx, %zu MiB reserved, module ABI %u\n",
	       (int)hi.owner, (unsigned long)hi.heap_base, hi.heap_max >> 20, hi.abi_version);
	show("start");
	t.buckets = gch_alloc(BUCKETS * sizeof(*t.buckets));
	if (!t.buckets)
		return 1;
	for (i = 0; i < 2; i++) {
		jobs[i] = (struct job){ .t = &t, .from = i * 100000, .to = (i + 1) * 100000 };
		pthread_create(&tid[i], NULL, fill, &jobs[i]);
	}
	for (i = 0; i < 2; i++) {
		pthread_join(tid[i], NULL);
		if (jobs[i].err) {
			fprintf(stderr, "demo: thread %d: %s\n", i, strerror(jobs[i].err));
			return 1;
		}
	}
	for (b = 0; b < BUCKETS; b++)
		for (e = t.buckets[b]; e; e = e->next)
			if (!best || e->count > best->count)
				best = e;
	printf("  2 threads counted 200000 words: %lu distinct, most frequent \"%s\" x%lu\n",
	       t.entries, best ? best->word : "", best ? best->count : 0);
	show("table built");

	/* Drop the rarer half, releasing entries and strings early. */
	avg = 200000 / t.entries;
	for (b = 0; b < BUCKETS; b++) {
		struct entry **pp = &t.buckets[b];

		while ((e = *pp)) {
			if (e->count < avg) {
				*pp = e->next;
				gch_free(e->word);
				gch_free(e);
				dropped++;
			} else {
				pp = &e->next;
			}
		}
	}
	printf("  dropped %lu entries seen fewer than %lu times\n", dropped, avg);
	show("after frees");
	return 0;
}
