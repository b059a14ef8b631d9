/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GCHEAP_MARK_H
#define _GCHEAP_MARK_H

#include <linux/types.h>
#include <linux/atomic.h>
#include <linux/refcount.h>
#include <linux/rwsem.h>
#include <linux/kthread.h>
#include "heap.h"

struct mem_cgroup;

struct gcheap_workbuf;

/* A marker's private state (Go's gcWork): its current work buffer. */
struct gcheap_gcwork {
	struct gcheap_mark *mark;
	struct gcheap_workbuf *buf;
	u64 marked_bytes;	/* bytes of objects it marked, cached slots aside */
	u64 scan_work;		/* bytes scanned, not yet added to the mark's */
	bool bg;		/* a background worker: its work is credit for assists */
};

struct gcheap_mark_worker {
	struct kthread_work work;
	struct kthread_worker *kw;	/* the heap thread it runs on (workers.c) */
	struct gcheap_mark *mark;
};

/*
 * One cycle's marking: the shared pool of full buffers and the workers.
 * Referenced by the collector and by each parked thread scanning its
 * stack into it; freed by the last gcheap_mark_put().
 */
struct gcheap_mark {
	struct gcheap *heap;
	refcount_t refs;
	struct rcu_head rcu;		/* freed after a grace period: gcheap_mark_current() */
	struct rw_semaphore close_sem;	/* greying from user memory (read) vs close */
	bool closed;			/* the cycle is over: grey nothing more */
	struct mem_cgroup *memcg;	/* the owner's: pays for work buffers */
	spinlock_t lock;		/* full, empty, nfull, nbusy, nwait, done */
	struct list_head full;		/* buffers of grey objects */
	struct list_head empty;		/* spare buffers */
	unsigned int nfull;
	unsigned int nbusy;		/* started workers not waiting for work */
	unsigned int nwait;		/* started workers waiting for work */
	unsigned int nworkers;
	unsigned int nbufs, max_bufs;	/* buffers allocated, and the cap */
	bool done;
	bool overflow;			/* a grey object found no buffer */
	unsigned int overflows;		/* rescan passes it caused */
	wait_queue_head_t wq;
	atomic64_t marked_bytes;
	atomic64_t scan_work;		/* bytes scanned this cycle (the pacer's measure) */
	atomic64_t bg_credit;		/* background scan work assists may claim */
	atomic_t nassist;		/* threads assisting now */
	atomic64_t assist_ns;		/* time threads spent assisting (the limiter's) */
	wait_queue_head_t assist_wq;	/* assists waiting for credit, the collector for assists */
	struct gcheap_mark_worker workers[];
};

struct gcheap_mark *gcheap_mark_create(struct gcheap *heap, unsigned int nworkers);
void gcheap_mark_get(struct gcheap_mark *mark);
struct gcheap_mark *gcheap_mark_current(struct gcheap *heap);
void gcheap_mark_put(struct gcheap_mark *mark);
void gcheap_mark_close(struct gcheap_mark *mark);
void gcheap_mark_clear(struct gcheap *heap);
void gcheap_mark_cached(struct gcheap_mark *mark);
void gcheap_gcwork_init(struct gcheap_gcwork *w, struct gcheap_mark *mark);
void gcheap_gcwork_dispose(struct gcheap_gcwork *w);
void gcheap_grey(struct gcheap_gcwork *w, unsigned long addr);
void gcheap_scan_words(struct gcheap_gcwork *w, const u64 *words, size_t n,
		       unsigned long skip_lo, unsigned long skip_hi);
int gcheap_scan_user(struct gcheap_gcwork *w, unsigned long lo, unsigned long hi);
int gcheap_scan_stack(struct gcheap_gcwork *w, const struct gcheap_stack *st);
void gcheap_scan_object(struct gcheap_gcwork *w, unsigned long base, bool ignore_self);
void gcheap_mark_drain(struct gcheap_mark *mark);
void gcheap_mark_drain_bg(struct gcheap_mark *mark, unsigned int nworkers, unsigned int permille);
u64 gcheap_mark_assist(struct gcheap_mark *mark, u64 work);
bool gcheap_marked(struct gcheap *heap, unsigned long addr);
unsigned int gcheap_mark_workers(void);

#endif /* _GCHEAP_MARK_H */
