// SPDX-License-Identifier: GPL-2.0
/*
 * Stopping the world: the heap's attached threads, the control page, and
 * the handshake that parks every attached thread inside its own ioctl.
 *
 * A thread attaches before it allocates; only attached threads may change
 * the heap. To stop the world the collector sets ctrl->stw_seq odd and
 * sends stw_signal to every attached thread. Each one's handler (in the
 * library, on the thread's own stack) calls GCHEAP_IOC_PARK with its stack
 * bounds and sleeps there. Once every thread has parked (or died) the
 * collector moves to the SCAN phase: each parked thread scans its own
 * stack and saved registers, from inside its own ioctl, so stacks are read
 * in parallel and only ever by their own address space's threads. Then
 * the collector marks and sweeps, and restarts the world by making
 * stw_seq even again, which wakes the parked threads.
 *
 * A thread blocked in a system call takes the signal: the call restarts
 * after the handler returns (the library sets SA_RESTART). A thread that
 * exits is dropped, its cached spans taken back as fully used. A thread
 * that does not park within stw_timeout_ms (it blocks the signal, is
 * stopped by a debugger, ...) makes the collector give up: the world
 * restarts, nothing is marked or freed, the stop counts in stw_timeouts
 * and the caller of the cycle gets ETIMEDOUT. Stacks are scanned only once
 * all threads are parked, so an abandoned stop leaves no trace.
 *
 * Locking: the thread set and each thread's flags are under heap->lock;
 * stw_phase is written under heap->lock and read by sleepers without it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/signal.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/moduleparam.h>
#include <linux/delay.h>
#include "stw.h"
#include "mark.h"
#include "central.h"
#include "compat.h"

static unsigned int stw_signal = 38;	/* glibc's SIGRTMIN + 4 */
module_param(stw_signal, uint, 0444);
MODULE_PARM_DESC(stw_signal, "Real-time signal that stops a heap's threads (default 38)");

static unsigned int stw_timeout_ms = 5000;
module_param(stw_timeout_ms, uint, 0644);
MODULE_PARM_DESC(stw_timeout_ms, "How long a stop waits for every thread to park, ms (default 5000)");

/* The largest stack range a thread may ask to have scanned. */
#define GCHEAP_MAX_STACK	BIT(30)

unsigned int gcheap_stw_signal(void)
{
	return stw_signal;
}

int gcheap_stw_init(struct gcheap *heap)
{
	INIT_LIST_HEAD(&heap->threads);
	xa_init(&heap->mthreads);
	init_waitqueue_head(&heap->stw_wq);
	heap->ctrl_page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!heap->ctrl_page)
		return -ENOMEM;
	heap->ctrl = page_address(heap->ctrl_page);
	return 0;
}

static void m_free(struct gcheap *heap, struct gcheap_m *m)
{
	list_del(&m->node);
	xa_erase(&heap->mthreads, m->tid);
	heap->nthreads--;
	put_task_struct(m->task);
	kfree(m);
}

/* At heap teardown: spans are freed wholesale by the arena. */
void gcheap_stw_destroy(struct gcheap *heap)
{
	struct gcheap_m *m, *tmp;

	list_for_each_entry_safe(m, tmp, &heap->threads, node)
		m_free(heap, m);
	xa_destroy(&heap->mthreads);
	if (heap->ctrl_page)
		__free_page(heap->ctrl_page);
}

/*
 * Drop a thread that is gone: what its cache held is taken back as
 * allocated (it may have handed any slot out), for the collector to judge.
 */
static void m_reap(struct gcheap *heap, struct gcheap_m *m)
{
	struct gcheap_span *span, *tmp;

	lockdep_assert_held(&heap->lock);
	list_for_each_entry_safe(span, tmp, &m->cached, list)
		gcheap_central_uncache_span(heap, span, NULL);
	m_free(heap, m);
}

static bool m_gone(const struct gcheap_m *m)
{
	return m->task->flags & PF_EXITING || m->task->exit_state;
}

/* Drop every attached thread that has exited without detaching. */
void gcheap_stw_reap(struct gcheap *heap)
{
	struct gcheap_m *m, *tmp;

	lockdep_assert_held(&heap->lock);
	list_for_each_entry_safe(m, tmp, &heap->threads, node)
		if (m_gone(m))
			m_reap(heap, m);
}

/* The calling thread's entry, or NULL if it is not attached. */
struct gcheap_m *gcheap_m_current(struct gcheap *heap)
{
	struct gcheap_m *m;

	lockdep_assert_held(&heap->lock);
	m = xa_load(&heap->mthreads, current->pid);
	return m && m->task == current ? m : NULL;
}

static int thread_attach(struct gcheap *heap, unsigned long stack_hi)
{
	struct gcheap_m *m, *old;
	int ret;

	if (!stack_hi || stack_hi > TASK_SIZE)
		return -EINVAL;
	m = kzalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);
	if (!m)
		return -ENOMEM;
	INIT_LIST_HEAD(&m->cached);
	m->tid = current->pid;
	m->stack_hi = stack_hi;
	mutex_lock(&heap->lock);
	old = xa_load(&heap->mthreads, m->tid);
	if (old && old->task == current) {
		old->stack_hi = stack_hi;	/* attaching again: idempotent */
		mutex_unlock(&heap->lock);
		kfree(m);
		return 0;
	}
	if (old)	/* an exited thread whose id was reused */
		m_reap(heap, old);
	ret = xa_err(xa_store(&heap->mthreads, m->tid, m, GFP_KERNEL_ACCOUNT));
	if (ret) {
		mutex_unlock(&heap->lock);
		kfree(m);
		return ret;
	}
	get_task_struct(current);
	m->task = current;
	list_add_tail(&m->node, &heap->threads);
	heap->nthreads++;
	/* A stop under way counts this thread in: it must park too. */
	if (heap->stw_phase != GCHEAP_STW_NONE)
		send_sig_info(stw_signal, SEND_SIG_PRIV, current);
	mutex_unlock(&heap->lock);
	return 0;
}

static int thread_detach(struct gcheap *heap)
{
	struct gcheap_m *m;
	int ret = -ENOENT;

	mutex_lock(&heap->lock);
	m = gcheap_m_current(heap);
	if (m) {
		m_reap(heap, m);
		ret = 0;
	}
	mutex_unlock(&heap->lock);
	if (!ret)
		wake_up_all(&heap->stw_wq);	/* a stop may be waiting for it */
	return ret;
}

int gcheap_thread_op(struct gcheap *heap, const struct gcheap_thread *req)
{
	switch (req->op) {
	case GCHEAP_THREAD_ATTACH:
		return thread_attach(heap, req->stack_hi);
	case GCHEAP_THREAD_DETACH:
		return req->stack_hi ? -EINVAL : thread_detach(heap);
	default:
		return -EINVAL;
	}
}

/*
 * Scan a parked thread's stack and registers into the cycle's mark. What
 * cannot be read (a guard page) holds nothing and is skipped.
 */
static void scan_stack(struct gcheap *heap, const struct gcheap_stack *st)
{
	struct gcheap_gcwork w;

	gcheap_gcwork_init(&w, heap->mark);
	gcheap_scan_stack(&w, st);
	gcheap_gcwork_dispose(&w);
}

static bool stw_over(struct gcheap *heap, u32 seq)
{
	return READ_ONCE(heap->ctrl->stw_seq) != seq;
}

/* A stack range a thread may have scanned: ordered, bounded, in user space. */
bool gcheap_stack_valid(const struct gcheap_stack *st)
{
	return st->lo <= st->hi && st->hi - st->lo <= GCHEAP_MAX_STACK && st->hi <= TASK_SIZE;
}

/*
 * GCHEAP_IOC_PARK. The caller's stack range must lie below the top it
 * gave at attach; its words are read only once every thread has parked.
 */
int gcheap_stw_park(struct gcheap *heap, const struct gcheap_park *req)
{
	const struct gcheap_stack *st = &req->stack;
	struct gcheap_m *m;
	u32 seq;

	if (req->__reserved)
		return -EINVAL;
	mutex_lock(&heap->lock);
	m = gcheap_m_current(heap);
	if (!m || st->hi != m->stack_hi || !gcheap_stack_valid(st)) {
		mutex_unlock(&heap->lock);
		return -EINVAL;
	}
	seq = heap->ctrl->stw_seq;
	if (!(seq & 1) || m->parked) {	/* no stop, or a second signal */
		mutex_unlock(&heap->lock);
		return 0;
	}
	m->parked = true;
	atomic_inc(&heap->nparked);
	mutex_unlock(&heap->lock);
	wake_up_all(&heap->stw_wq);

	/* Killable only: the stop must not see a parked thread run again. */
	if (wait_event_killable(heap->stw_wq, READ_ONCE(heap->stw_phase) >= GCHEAP_STW_SCAN ||
				stw_over(heap, seq)))
		return -EINTR;
	if (!stw_over(heap, seq) && READ_ONCE(heap->stw_phase) == GCHEAP_STW_SCAN) {
		scan_stack(heap, st);
		mutex_lock(&heap->lock);
		m->scanned = true;
		mutex_unlock(&heap->lock);
		atomic_dec(&heap->nscanning);
		wake_up_all(&heap->stw_wq);
	}
	if (wait_event_killable(heap->stw_wq, stw_over(heap, seq)))
		return -EINTR;
	return 0;
}

/*
 * Threads that still have to park (or, in the SCAN phase, to scan); gone
 * ones are not waited for.
 */
static unsigned int count_waiting(struct gcheap *heap, bool scan)
{
	struct gcheap_m *m;
	unsigned int n = 0;

	mutex_lock(&heap->lock);
	list_for_each_entry(m, &heap->threads, node)
		if (m->task != current && !m_gone(m) && !(scan ? m->scanned : m->parked))
			n++;
	mutex_unlock(&heap->lock);
	return n;
}

/* A cheap guess, without heap->lock, that count_waiting() is down to 0. */
static bool all_reported(struct gcheap *heap, bool scan)
{
	if (scan)
		return !atomic_read(&heap->nscanning);
	return atomic_read(&heap->nparked) >= READ_ONCE(heap->nthreads);
}

/*
 * Wait until no thread is left to park (or scan). Polls now and then for
 * threads that died meanwhile. -ETIMEDOUT past @deadline (0: none),
 * -EINTR on a fatal signal.
 */
static int wait_threads(struct gcheap *heap, bool scan, unsigned long deadline)
{
	while (count_waiting(heap, scan)) {
		if (fatal_signal_pending(current))
			return -EINTR;
		if (deadline && time_after(jiffies, deadline))
			return -ETIMEDOUT;
		wait_event_killable_timeout(heap->stw_wq, all_reported(heap, scan),
					    msecs_to_jiffies(10));
	}
	return 0;
}

static void set_phase(struct gcheap *heap, int phase)
{
	mutex_lock(&heap->lock);
	WRITE_ONCE(heap->stw_phase, phase);
	mutex_unlock(&heap->lock);
	wake_up_all(&heap->stw_wq);
}

/* Say which threads did not park, for the operator. */
static void report_timeout(struct gcheap *heap)
{
	struct gcheap_m *m;

	mutex_lock(&heap->lock);
	list_for_each_entry(m, &heap->threads, node)
		if (m->task != current && !m_gone(m) && !m->parked)
			pr_warn_ratelimited("heap of %d: thread %d did not stop within %u ms (state %#x)\n",
					    heap->tgid, m->tid, READ_ONCE(stw_timeout_ms),
					    READ_ONCE(m->task->__state));
	mutex_unlock(&heap->lock);
}

/*
 * Stop every attached thread but the caller. 0 with all of them parked,
 * else the world is running again and nothing changed.
 */
int gcheap_stop_the_world(struct gcheap *heap)
{
	struct gcheap_m *m;
	int ret;

	mutex_lock(&heap->lock);
	gcheap_stw_reap(heap);
	atomic_set(&heap->nparked, 0);
	list_for_each_entry(m, &heap->threads, node) {
		m->parked = false;
		m->scanned = false;
		if (m->task == current)
			atomic_inc(&heap->nparked);
	}
	WRITE_ONCE(heap->stw_phase, GCHEAP_STW_STOPPING);
	/* Odd: the handlers that see it park. Ordered before the signals. */
	smp_store_release(&heap->ctrl->stw_seq, heap->ctrl->stw_seq + 1);
	list_for_each_entry(m, &heap->threads, node)
		if (m->task != current && !m_gone(m))
			send_sig_info(stw_signal, SEND_SIG_PRIV, m->task);
	mutex_unlock(&heap->lock);

	ret = wait_threads(heap, false, jiffies + msecs_to_jiffies(READ_ONCE(stw_timeout_ms)));
	if (ret == -ETIMEDOUT)
		report_timeout(heap);
	if (ret) {
		gcheap_start_the_world(heap);
		return ret;
	}
	return 0;
}

/*
 * All threads parked: let each scan its own stack into heap->mark, and wait
 * for them. Threads that die meanwhile are not waited for.
 */
void gcheap_stw_scan_stacks(struct gcheap *heap)
{
	unsigned int n = 0;
	struct gcheap_m *m;

	mutex_lock(&heap->lock);
	list_for_each_entry(m, &heap->threads, node)
		if (m->parked)
			n++;
	atomic_set(&heap->nscanning, n);
	mutex_unlock(&heap->lock);
	set_phase(heap, GCHEAP_STW_SCAN);
	/*
	 * No deadline: a parked thread scans without waiting for anything but
	 * page faults on its own stack, and a fatal signal ends the wait.
	 */
	wait_threads(heap, true, 0);
	set_phase(heap, GCHEAP_STW_MARK);
}

/* Restart the world: parked threads return to their interrupted code. */
void gcheap_start_the_world(struct gcheap *heap)
{
	mutex_lock(&heap->lock);
	WRITE_ONCE(heap->stw_phase, GCHEAP_STW_NONE);
	/* Even: what the collector wrote is visible to whoever sees it. */
	smp_store_release(&heap->ctrl->stw_seq, heap->ctrl->stw_seq + 1);
	mutex_unlock(&heap->lock);
	wake_up_all(&heap->stw_wq);
}

/* The control page's fault: it is one page, always present. */
static vm_fault_t gcheap_ctrl_fault(struct vm_fault *vmf)
{
	struct gcheap *heap = vmf->vma->vm_private_data;

	if (vmf->vma->vm_mm != heap->mm || vmf->address != vmf->vma->vm_start)
		return VM_FAULT_SIGBUS;
	return vmf_insert_page(vmf->vma, vmf->address, heap->ctrl_page);
}

static int gcheap_ctrl_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	return -EINVAL;
}

static int gcheap_ctrl_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

static const struct vm_operations_struct gcheap_ctrl_vm_ops = {
	.fault = gcheap_ctrl_fault,
	.may_split = gcheap_ctrl_may_split,
	.mremap = gcheap_ctrl_mremap,
};

/* mmap of the control page: one page, shared, read-only for good. */
int gcheap_ctrl_mmap(struct gcheap *heap, struct vm_area_struct *vma)
{
	if (vma->vm_mm != heap->mm)
		return -EPERM;
	if (vma->vm_flags & (VM_WRITE | VM_EXEC))
		return -EPERM;
	if (vma->vm_end - vma->vm_start != PAGE_SIZE || !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	vm_flags_set(vma, VM_MIXEDMAP | VM_DONTCOPY | VM_DONTEXPAND | VM_DONTDUMP);
	vm_flags_clear(vma, VM_MAYWRITE | VM_MAYEXEC);
	vma->vm_ops = &gcheap_ctrl_vm_ops;
	vma->vm_private_data = heap;
	return 0;
}
