/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GCHEAP_WORKERS_H
#define _GCHEAP_WORKERS_H

#include <linux/kthread.h>
#include <linux/mutex.h>

struct gcheap;

/* Threads a heap may have: the mark helpers of a 64-worker cycle. */
#define GCHEAP_MAX_WORKERS	63

/* A heap's kernel threads (workers.c). */
struct gcheap_workers {
	struct mutex lock;	/* creation */
	unsigned int n;		/* threads made; grows only, published by release */
	struct kthread_worker *w[GCHEAP_MAX_WORKERS];
};

void gcheap_workers_init(struct gcheap_workers *ws);
unsigned int gcheap_workers_get(struct gcheap *heap, unsigned int want);
struct kthread_worker *gcheap_worker(struct gcheap *heap, unsigned int i);
void gcheap_workers_destroy(struct gcheap_workers *ws);

#endif /* _GCHEAP_WORKERS_H */
