/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GCHEAP_STW_H
#define _GCHEAP_STW_H

#include <linux/sched.h>
#include "heap.h"

/* An attached thread (Go's M): what the collector must stop and scan. */
struct gcheap_m {
	struct list_head node;		/* heap->threads */
	struct rcu_head rcu;		/* freed after a grace period: gcheap_m_current() */
	struct task_struct *task;	/* get_task_struct()ed */
	pid_t tid;
	unsigned long stack_hi;		/* top of its stack, given at attach */
	spinlock_t cached_lock;		/* cached */
	struct list_head cached;	/* spans its cache holds */
	bool parked;			/* in GCHEAP_IOC_PARK for this stop */
	bool scan_owed;			/* parked at the scan's start, not done */
	s64 assist_bytes;		/* mark assist balance (assist.c), its own */
	u64 assist_cycle;		/* the cycle (gc_started) it is for */
};

int gcheap_stw_init(struct gcheap *heap);
void gcheap_stw_destroy(struct gcheap *heap);
int gcheap_ctrl_mmap(struct gcheap *heap, struct vm_area_struct *vma);
struct gcheap_m *gcheap_m_current(struct gcheap *heap);
int gcheap_thread_op(struct gcheap *heap, const struct gcheap_thread *req);
int gcheap_stw_park(struct gcheap *heap, const struct gcheap_park *req);
int gcheap_stop_the_world(struct gcheap *heap);
int gcheap_stw_scan_stacks(struct gcheap *heap, struct gcheap_mark *mark);
void gcheap_stw_end_mark(struct gcheap *heap);
void gcheap_stw_give_up(struct gcheap *heap);
void gcheap_start_the_world(struct gcheap *heap);
void gcheap_stw_reap(struct gcheap *heap);
unsigned int gcheap_stw_signal(void);
bool gcheap_stack_valid(const struct gcheap_stack *st);

#endif /* _GCHEAP_STW_H */
