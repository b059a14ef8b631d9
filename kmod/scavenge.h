/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GCHEAP_SCAVENGE_H
#define _GCHEAP_SCAVENGE_H

#include <linux/types.h>
#include <linux/kthread.h>
#include <linux/list.h>

struct gcheap;
struct gcheap_scavenge;

/* Idle heap pages given back when a page cannot be had at once (arena.c). */
#define GCHEAP_SCAV_RETRY_PAGES	16

/* How a page was scavenged, for the stats. */
enum gcheap_scav_kind {
	GCHEAP_SCAV_BACKGROUND,
	GCHEAP_SCAV_SYNC,	/* growth, memory_max, GCHEAP_IOC_SCAVENGE */
	GCHEAP_SCAV_SHRINKER,
	GCHEAP_SCAV_KINDS,
};

/* A heap's scavenger state (scavenge.c). */
struct gcheap_scav {
	struct kthread_delayed_work work;	/* the background scavenger, on workers.w[0] */
	struct list_head node;		/* on the module's heap list, for the shrinker */
	u64 memory_max;			/* hard limit on resident bytes, or GCHEAP_NO_LIMIT */
	u64 released[GCHEAP_SCAV_KINDS];	/* bytes given back, ever, under heap->lock */
	atomic64_t bg_ns;		/* time the background scavenger took */
};

u64 gcheap_scavenge_target(u64 goal, u64 inuse, u64 soft_limit, u64 memory_max,
			   unsigned int retain_percent);
void gcheap_scavenge_heap_init(struct gcheap *heap);
void gcheap_scavenge_heap_stop(struct gcheap *heap);
void gcheap_scavenge_register(struct gcheap *heap);
void gcheap_scavenge_unregister(struct gcheap *heap);
int gcheap_scavenge_grow(struct gcheap *heap, unsigned long npages);
unsigned long gcheap_scavenge_locked(struct gcheap *heap, unsigned long max,
				     enum gcheap_scav_kind kind);
unsigned long gcheap_scavenge_cursor(struct gcheap *heap, unsigned long max,
				     enum gcheap_scav_kind kind, unsigned long *cursor);
void gcheap_scavenge_kick(struct gcheap *heap);
int gcheap_scavenge_set_max(struct gcheap *heap, u64 bytes);
int gcheap_scavenge_ioctl(struct gcheap *heap, struct gcheap_scavenge *req);
int gcheap_scavenge_init(void);
void gcheap_scavenge_exit(void);

#endif /* _GCHEAP_SCAVENGE_H */
