// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Garbage in the spans a thread's cache still holds. A cache is handed
 * whole spans and allocates from them without telling the module, so the
 * module cannot tell an object the thread dropped from a slot it never
 * used. The library reports its cache at a cycle's first stop (a parked
 * thread from its stop handler, the collecting thread with its
 * GCHEAP_IOC_GC): every slot it has used becomes an ordinary object, which
 * that cycle marks or frees.
 *
 * For each mode, in a child process of its own (the first open fixes the
 * mode): garbage the collecting thread allocated, and garbage a parked
 * thread allocated beside objects it keeps, is freed by one cycle, though
 * both threads still hold the spans; what is kept survives intact; and the
 * cache keeps working on spans whose slots were taken over: it frees kept
 * objects, allocates thousands more, gives every span back.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gcheap.h"
#include "tap.h"

#define NOINLINE	__attribute__((noinline))
#define NGARBAGE	100	/* well under one span's worth */
#define NKEPT		100
#define NMORE		20000

struct node {
	struct node *next;
	unsigned long value;
	unsigned long pad[2];	/* 32 bytes: the same class for both kinds */
};

/* What a child measured, for the parent to judge. */
struct result {
	int init_ret;
	unsigned long self_freed;	/* by a cycle the allocating thread ran */
	unsigned long parked_freed;	/* by a cycle while the allocating thread was parked */
	unsigned long kept_bad;		/* kept nodes lost or changed */
	unsigned long free_failed;	/* gch_free of kept nodes that failed */
	unsigned long alloc_failed;
	int detach_ret;
	unsigned long kept_bad_after;	/* after the thread gave its spans back */
};

static struct result *res;
static struct node *kept[1];	/* a registered root */
static int concurrent;
static int to_thread[2], to_main[2];

static NOINLINE void clear_stack(void)
{
	char buf[16384];

	memset(buf, 0, sizeof(buf));
	__asm__ __volatile__("" : : "r"(buf) : "memory");
}

static unsigned long freed_objects(void)
{
	struct gch_stats st;

	return gch_stats(&st) < 0 ? 0 : st.freed_objects;
}

static void set_next(struct node *n, struct node *next)
{
	if (concurrent)
		gch_store((void **)&n->next, next);
	else
		n->next = next;
}

/* Dropped at once: nothing but this frame ever points at them. */
static NOINLINE void make_garbage(unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!gch_alloc(sizeof(struct node)))
			res->alloc_failed++;
}

/* NKEPT nodes listed from the root, garbage between them, same spans. */
static NOINLINE void make_kept_and_garbage(void)
{
	struct node *head = NULL, *n;
	unsigned int i;

	for (i = 0; i < NKEPT; i++) {
		n = gch_alloc(sizeof(*n));
		if (!n) {
			res->alloc_failed++;
			continue;
		}
		n->value = i;
		set_next(n, head);
		head = n;
		make_garbage(1);
	}
	kept[0] = head;
}

static unsigned long kept_bad(unsigned long want)
{
	unsigned long n = 0, bad = 0;
	const struct node *p;

	for (p = kept[0]; p && n <= NKEPT; p = p->next, n++) {
		void *base = NULL;

		if (gch_size(p, &base) != sizeof(*p) || base != p)
			bad++;
	}
	return bad + (n != want);
}

/* Free every second kept node, through whichever path owns it now. */
static NOINLINE void free_half(void)
{
	struct node *p, *q;

	for (p = kept[0]; p && p->next; p = p->next) {
		q = p->next;
		set_next(p, q->next);
		if (gch_free(q) < 0)
			res->free_failed++;
	}
}

static void wait_for(int fd)
{
	char c;

	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
}

static void *holder(void *arg)
{
	(void)arg;
	if (gch_thread_attach() < 0) {
		res->alloc_failed++;
		return NULL;
	}
	make_kept_and_garbage();
	clear_stack();
	/* Parked inside read() while the main thread collects. */
	if (write(to_main[1], "r", 1) != 1)
		res->alloc_failed++;
	wait_for(to_thread[0]);
	free_half();
	make_garbage(NMORE);
	res->detach_ret = gch_thread_detach();
	return NULL;
}

static NOINLINE void run(void)
{
	struct gch_options opts = { .flags = concurrent ? GCH_INIT_CONCURRENT : 0 };
	unsigned long before;
	pthread_t t;

	res->init_ret = gch_init(&opts);
	if (res->init_ret < 0)
		return;
	if (gch_root_add(kept, kept + 1) < 0 || pipe(to_thread) < 0 || pipe(to_main) < 0) {
		res->init_ret = -1;
		return;
	}
	/* Settle what the library allocated for itself. */
	gch_collect();

	make_garbage(NGARBAGE);
	clear_stack();
	before = freed_objects();
	gch_collect();
	res->self_freed = freed_objects() - before;

	if (pthread_create(&t, NULL, holder, NULL)) {
		res->init_ret = -1;
		return;
	}
	wait_for(to_main[0]);
	before = freed_objects();
	gch_collect();
	res->parked_freed = freed_objects() - before;
	res->kept_bad = kept_bad(NKEPT);

	if (write(to_thread[1], "g", 1) != 1)
		res->init_ret = -1;
	pthread_join(t, NULL);
	gch_collect();
	res->kept_bad_after = kept_bad(NKEPT / 2);
}

static void check_mode(int conc)
{
	const char *mode = conc ? "concurrent" : "stop-the-world";
	int status = -1;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	res->init_ret = -2;
	pid = fork();
	if (pid == 0) {
		concurrent = conc;
		run();
		_exit(0);
	}
	if (!ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		WEXITSTATUS(status) == 0, "%s: the child ran to the end", mode))
		return;
	if (!ok(res->init_ret == 0, "%s: heap opened (%d)", mode, res->init_ret))
		return;
	ok(res->self_freed >= NGARBAGE * 9 / 10,
	   "%s: garbage in the collecting thread's own cached span is freed (%lu of %u)",
	   mode, res->self_freed, NGARBAGE);
	ok(res->parked_freed >= NKEPT * 9 / 10,
	   "%s: garbage in a parked thread's cached span is freed (%lu of %u)",
	   mode, res->parked_freed, NKEPT);
	ok(res->kept_bad == 0, "%s: objects kept beside it survive (%lu bad)",
	   mode, res->kept_bad);
	ok(res->free_failed == 0, "%s: the thread frees kept objects after the cycle (%lu failed)",
	   mode, res->free_failed);
	ok(res->alloc_failed == 0, "%s: allocation from those spans goes on (%lu failed)",
	   mode, res->alloc_failed);
	ok(res->detach_ret == 0, "%s: the thread gives every span back (%d)",
	   mode, res->detach_ret);
	ok(res->kept_bad_after == 0, "%s: the rest of the kept objects survive that (%lu bad)",
	   mode, res->kept_bad_after);
}

int main(void)
{
	res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!ok(res != MAP_FAILED, "shared result page"))
		return tap_done();
	check_mode(0);
	check_mode(1);
	return tap_done();
}
