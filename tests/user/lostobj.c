// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The classic ways a concurrent mark loses an object, each played while a
 * cycle of a CONCURRENT heap marks (gch_wb_enabled on), with background
 * marking at its smallest share (gc_cpu_percent=1) so the mark is long:
 *
 *  A. a black object is given a pointer to a white one whose only path
 *     from a grey object is then deleted;
 *  B. the only pointer moves from the heap to the stack, is deleted from
 *     the heap, and goes back into a black object;
 *  C. the only pointers are copied with gch_memmove into a black object
 *     and the originals cleared with gch_memmove;
 *  D. a thread rotates an array of pointers, the only ones to their
 *     objects, with one long gch_memmove after another while cycles start
 *     and end: moves the stop interrupts with the barrier off.
 *
 * The white objects hang from the last node of a long chain, so the path
 * to them is grey for most of the mark, and no cache holds their spans
 * when the cycle starts. After each case's cycle, a full
 * collection and its sweep: every object must still be allocated and
 * hold what it held.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcheap.h"
#include "tap.h"
#include "knob.h"

#define NCHAIN		(128 * 1024)	/* nodes before the grey parent: 8 MiB */
#define MAGIC		0x10570b1ec7ULL
#define NROT		(64 * 1024)	/* pointers case D rotates: a 512 KiB array */
#define BLACK_SIZE	(64 * 1024)	/* a large object */

struct node {
	struct node *next;
	void *slot[6];
	uint64_t id;
};

struct white {
	uint64_t magic, id;
	uint64_t pad[2];
};

static struct node *chain;	/* a global: a root */
static struct node *holder[3];	/* roots: each case's black object */

static struct node *parent(void)
{
	struct node *n = chain;

	while (n->next)
		n = n->next;
	return n;
}

/*
 * A white object: allocated before the cycle, in a span its thread's cache
 * no longer holds when the cycle starts (a cycle counts every slot a cache
 * holds as allocated black, which would keep it whatever happens).
 */
static struct white *white_new(uint64_t id)
{
	struct white *w = gch_alloc(sizeof(*w));
	int i;

	if (w) {
		w->magic = MAGIC;
		w->id = id;
	}
	for (i = 0; i < 8192; i++)
		gch_alloc(sizeof(*w));
	return w;
}

static bool white_ok(const struct white *w, uint64_t id)
{
	void *base = NULL;

	return w && gch_size(w, &base) >= sizeof(*w) && base == w && w->magic == MAGIC &&
	       w->id == id;
}

/* Allocate garbage until a cycle marks; false if none started. */
static bool wait_marking(void)
{
	unsigned long i;

	for (i = 0; i < (1UL << 24); i++) {
		if (__atomic_load_n(&gch_wb_enabled, __ATOMIC_RELAXED))
			return true;
		if (!gch_alloc(64))
			return false;
	}
	return false;
}

/* Until the cycle that marks now has ended, then collect and sweep. */
static bool finish_cycle(bool *still_marking)
{
	unsigned long i;

	*still_marking = __atomic_load_n(&gch_wb_enabled, __ATOMIC_RELAXED);
	for (i = 0; i < (1UL << 26) && __atomic_load_n(&gch_wb_enabled, __ATOMIC_RELAXED); i++)
		if (!gch_alloc(64))
			return false;
	return gch_collect() == 0;
}

static void build_chain(void)
{
	struct node *n = NULL, *m;
	int i;

	for (i = 0; i < NCHAIN; i++) {
		m = gch_alloc(sizeof(*m));
		if (!m)
			break;
		m->id = (uint64_t)i;
		GCH_STORE(m->next, n);
		n = m;
	}
	chain = n;
}

/*
 * No copy of a white object's address, nor of its parent's, may be in
 * this thread's stack or registers when the cycle starts: the stack scan
 * would grey it at once, and hide a loss. Each case finds the parent anew
 * in functions of its own, and the stack below is scrubbed once they have
 * returned.
 */
static __attribute__((noinline)) void scrub_stack(void)
{
	volatile char buf[64 * 1024];

	memset((char *)buf, 0, sizeof(buf));
	__asm__ volatile("" : : "r"(buf) : "memory");
}

/*
 * A black object: a large one, allocated while the cycle marks, so its
 * span is made for it and marked, never scanned (a small object might come
 * from a span its cache held when the cycle started, which the cycle
 * scans). Its allocation assists with a bounded share of the mark, far
 * from the chain's end.
 */
static struct node *black_new(void)
{
	return gch_alloc(BLACK_SIZE);
}

static __attribute__((noinline)) void setup(int slot, uint64_t id)
{
	GCH_STORE(parent()->slot[slot], white_new(id));
}

static __attribute__((noinline)) void mutate_a(void)
{
	struct node *g = parent();
	struct node *b = black_new();

	holder[0] = b;
	GCH_STORE(b->slot[0], g->slot[0]);	/* black -> white */
	GCH_STORE(g->slot[0], NULL);		/* the grey path deleted */
}

static __attribute__((noinline)) void mutate_b(void)
{
	struct node *g = parent();
	void *volatile local = g->slot[1];	/* heap -> stack */
	struct node *b;

	GCH_STORE(g->slot[1], NULL);
	b = black_new();			/* the mark goes on meanwhile */
	holder[1] = b;
	GCH_STORE(b->slot[0], local);		/* stack -> heap */
	local = NULL;
}

static __attribute__((noinline)) void mutate_c(void)
{
	struct node *g = parent();
	static void *const zero[4];
	struct node *b = black_new();

	holder[2] = b;
	gch_memmove(&b->slot[2], &g->slot[2], 4 * sizeof(void *));
	gch_memmove(&g->slot[2], zero, sizeof(zero));
}

/* Cases A to C: white objects in the parent's slots, moved into holder[k]'s. */
static const struct lost_case {
	const char *name, *what;
	int slot, n;		/* the parent's slots that hold the white objects */
	int dest;		/* the black object's slots that hold them after */
	void (*mutate)(void);
} cases[] = {
	{ "A", "a white object given to a black one, its grey path deleted, survives",
	  0, 1, 0, mutate_a },
	{ "B", "a pointer moved heap -> stack -> black object survives", 1, 1, 0, mutate_b },
	{ "C", "pointers copied by gch_memmove, the originals cleared by it, survive",
	  2, 4, 2, mutate_c },
};

static void run_case(int k)
{
	const struct lost_case *c = &cases[k];
	bool marking = false, good = true;
	int i;

	for (i = 0; i < c->n; i++)
		setup(c->slot + i, ((uint64_t)k << 8) + (uint64_t)i);
	scrub_stack();
	if (!ok(wait_marking(), "%s: a cycle marks", c->name))
		return;
	c->mutate();
	scrub_stack();
	ok(finish_cycle(&marking), "%s: the cycle ends, a full collection after it", c->name);
	for (i = 0; i < c->n; i++)
		good = good && white_ok(holder[k]->slot[c->dest + i], ((uint64_t)k << 8) + (uint64_t)i);
	ok(good, "%s: %s%s", c->name, c->what, marking ? "" : " (the mark ended early)");
}

/* Case D: the rotating thread. */
static void **rot;		/* a heap array, reached from this global */
static atomic_bool rot_stop;
static atomic_ulong rot_moves;

static void *rotate(void *arg)
{
	void *first;

	(void)arg;
	while (!atomic_load(&rot_stop)) {
		first = rot[0];
		gch_memmove(&rot[0], &rot[1], (NROT - 1) * sizeof(void *));
		gch_store(&rot[NROT - 1], first);
		atomic_fetch_add(&rot_moves, 1);
	}
	return NULL;
}

static void case_d(void)
{
	struct gch_stats st0, st1;
	pthread_t t;
	unsigned long bad = 0, i;
	int err;

	rot = gch_alloc(NROT * sizeof(void *));
	if (!ok(rot != NULL, "D: an array of %d pointers", NROT))
		return;
	for (i = 0; i < NROT; i++) {
		struct white *w = gch_alloc(sizeof(*w));

		if (w) {
			w->magic = MAGIC;
			w->id = 0xd000000 + i;
		}
		gch_store(&rot[i], w);
	}
	white_new(0);	/* their last span out of this thread's cache */
	if (gch_stats(&st0) < 0)
		return;
	err = gch_pthread_create(&t, NULL, rotate, NULL);
	if (!ok(err == 0, "D: the rotating thread starts"))
		return;
	/* Cycles start by themselves as this thread allocates. */
	do {
		for (i = 0; i < 4096; i++)
			gch_alloc(256);
	} while (gch_stats(&st1) == 0 && st1.num_gc - st0.num_gc < 20);
	atomic_store(&rot_stop, true);
	pthread_join(t, NULL);
	ok(gch_collect() == 0, "D: a full collection after %llu cycles, %lu rotations",
	   (unsigned long long)(st1.num_gc - st0.num_gc), atomic_load(&rot_moves));
	/* Rotated k times: slot i holds object (i + k) % NROT. */
	for (i = 0; i < NROT; i++)
		bad += !white_ok(rot[i], 0xd000000 + (i + atomic_load(&rot_moves)) % NROT);
	ok(bad == 0, "D: all %d objects held only by the rotated array survive (%lu did not)",
	   NROT, bad);
}

int main(void)
{
	struct gch_options opts = { .flags = GCH_INIT_CONCURRENT };
	int k;

	if (!ok(knob_set("gc_cpu_percent", "1") == 0, "gc_cpu_percent set to 1"))
		return tap_done();
	if (!ok(gch_init(&opts) == 0, "gch_init (concurrent mode)"))
		return tap_done();
	/*
	 * A distant goal: an allocation while the cycle marks owes a small
	 * share of the mark (near the goal it would owe, and scan, all of it).
	 */
	ok(gch_set_gogc(800, NULL) == 0, "GOGC 800");
	build_chain();
	if (!ok(chain != NULL, "a chain of %d nodes, the white objects' parent last", NCHAIN))
		return tap_done();
	for (k = 0; k < (int)(sizeof(cases) / sizeof(cases[0])); k++)
		run_case(k);
	case_d();
	return tap_done();
}
