// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The tiny allocator's current block has one owner. A thread allocates 9
 * bytes (its current tiny block then has 7 bytes left) and then a steady
 * run of 9-byte objects that each take a new block and leave the first one
 * current, until the first block's span has gone back to the heap; all
 * those objects die. After a collection another thread (started before,
 * so that nothing else allocates in between) takes every tiny
 * block the (small) heap has, until it is full, and keeps them, each
 * filled with a pattern. The first
 * thread's next 4-byte allocation must lie in none of them, and writing it
 * must break no pattern.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcheap.h"
#include "tap.h"

#define NOINLINE __attribute__((noinline))
#define RUN	20000	/* 9-byte objects: many spans' worth of blocks */
#define HEAP	(8 << 20)
#define TAKE	(HEAP / 16)	/* more 16-byte objects than the heap holds */

static uintptr_t *taken;	/* malloc'd, registered as a root */
static uintptr_t first_hidden;	/* the first block, disguised */
static unsigned int ntaken;

static NOINLINE void clear_stack(void)
{
	char buf[32768];

	memset(buf, 0, sizeof(buf));
	__asm__ __volatile__("" : : "r"(buf) : "memory");
}

static NOINLINE void steady_run(void)
{
	unsigned int i;

	/* The span's first block is the heap's first byte, which many words hold. */
	for (i = 0; i < 5; i++)
		gch_alloc_noscan(16);
	for (i = 0; i < RUN; i++) {
		char *p = gch_alloc_noscan(9);

		if (!p)
			break;
		if (!i)
			first_hidden = ~(uintptr_t)p;
		memset(p, 0x11, 9);
	}
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int go;

static void *taker(void *arg)
{
	unsigned int i;

	(void)arg;
	pthread_mutex_lock(&lock);
	while (!go)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	for (i = 0; i < TAKE; i++) {
		char *p = gch_alloc_noscan(16);

		if (!p)
			break;
		memset(p, 0xa5, 16);
		taken[i] = (uintptr_t)p;
	}
	ntaken = i;
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	unsigned int i, broken = 0;
	uintptr_t p, block;
	struct gch_options opts = { .heap_max = HEAP };
	pthread_t t;

	taken = calloc(TAKE, sizeof(*taken));
	if (!taken || gch_init(&opts) < 0 || gch_root_add(taken, taken + TAKE) < 0) {
		perror("tiny: setup");
		return 1;
	}
	/* Started first: nothing may take the freed pages before it. */
	if (gch_pthread_create(&t, NULL, taker, NULL)) {
		ok(0, "thread");
		return tap_done();
	}
	steady_run();
	clear_stack();
	ok(gch_collect() == 0, "collect");
	tap_diag("after the collection the first block's object is %zu bytes",
		 gch_size((void *)~first_hidden, NULL));
	pthread_mutex_lock(&lock);
	go = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	pthread_join(t, NULL);
	tap_diag("the other thread took %u blocks; the first block is %#lx", ntaken,
		 (unsigned long)~first_hidden);
	p = (uintptr_t)gch_alloc_noscan(4);
	ok(p != 0, "4-byte allocation");
	memset((void *)p, 0x33, 4);
	block = p & ~(uintptr_t)15;
	qsort(taken, TAKE, sizeof(*taken), cmp);
	ok(!bsearch(&block, taken, TAKE, sizeof(*taken), cmp),
	   "the 4-byte object is not in a block another thread owns (%#lx)", (unsigned long)p);
	for (i = 0; i < TAKE; i++) {
		const unsigned char *b = (const unsigned char *)taken[i];
		unsigned int k;

		for (k = 0; b && k < 16; k++)
			if (b[k] != 0xa5) {
				broken++;
				break;
			}
	}
	ok(broken == 0, "every other thread's block keeps its pattern (%u broken)", broken);
	return tap_done();
}
