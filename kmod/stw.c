// SPDX-License-Identifier: GPL-2.0
/*
 * Stopping the world: the heap's attached threads, the control page, and
 * the handshake that parks every attached thread inside its own ioctl.
 *
 * A thread attaches before it allocates; only attached threads may change
 * the heap, and a thread attaches only while the world runs (an attach
 * during a stop waits for its end). To stop the world the collector sets
 * ctrl->stw_seq odd and sends stw_signal to every attached thread. Each
 * one's handler (in the library, on the thread's own stack) calls
 * GCHEAP_IOC_PARK with its stack bounds (and what its write-barrier
 * buffer holds, greyed by wbuf.c before it counts as parked, and at a
 * cycle's first stop its cache report, taken by central.c before it
 * counts as parked) and sleeps there. Once every thread has parked (or
 * is gone) the collector moves to the SCAN phase: each thread parked by
 * then scans its own stack and saved registers, from inside its own
 * ioctl, so stacks are read in parallel and only ever by their own
 * address space's threads. Then the collector marks and sweeps, and
 * restarts the world by making stw_seq even again, which wakes the
 * parked threads.
 *
 * A thread blocked in a system call takes the signal: the call restarts
 * after the handler returns (the library sets SA_RESTART). A thread that
 * exits, or whose mm is no longer the heap's (it called execve), is gone:
 * it is neither signalled nor waited for, and it is dropped, its cached
 * spans taken back as fully used.
 *
 * Both waits of the collector have a deadline of stw_timeout_ms, and a
 * fatal signal ends them. A thread that does not park in time (it blocks
 * the signal, is stopped by a debugger, ...) or does not finish scanning
 * in time (its stack is on userfaultfd or FUSE memory that never comes)
 * makes the collector give up the cycle: the mark is closed, mark bits
 * are cleared, the world restarts, nothing is freed, the stop counts in
 * stw_timeouts and the caller gets ETIMEDOUT (EINTR if it was killed). A
 * thread still scanning then holds its own reference to the mark and
 * stops at its next piece of stack (mark.c); scanning itself stops on a
 * fatal signal.
 *
 * Locking: the thread set and each thread's flags are under heap->lock
 * (a thread finds its own entry without it: gcheap_m_current());
 * stw_phase and heap->mark are written under heap->lock, and stw_phase is
 * read by sleepers without it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/signal.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/moduleparam.h>
#include <linux/delay.h>
#include "trace.h"
#include "stw.h"
#include "mark.h"
#include "central.h"
#include "wbuf.h"
#include "compat.h"

static unsigned int stw_signal = 38;	/* glibc's SIGRTMIN + 4 */
module_param(stw_signal, uint, 0444);
MODULE_PARM_DESC(stw_signal, "Real-time signal that stops a heap's threads (default 38)");

static unsigned int stw_timeout_ms = 5000;
module_param(stw_timeout_ms, uint, 0644);
MODULE_PARM_DESC(stw_timeout_ms,
		 "How long a stop waits for every thread to park, then for each to scan its stack, ms (default 5000)");

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
	kfree_rcu(m, rcu);
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

/*
 * Gone: exiting, exited, or running another program (execve gave it a new
 * mm, while the heap's lives on through a CLONE_VM sibling). Only the
 * pointer is compared: task->mm may change under us, never to heap->mm.
 */
static bool m_gone(const struct gcheap *heap, const struct gcheap_m *m)
{
	return m->task->flags & PF_EXITING || m->task->exit_state ||
	       READ_ONCE(m->task->mm) != heap->mm;
}

/* Drop every attached thread that is gone without detaching. */
void gcheap_stw_reap(struct gcheap *heap)
{
	struct gcheap_m *m, *tmp;

	lockdep_assert_held(&heap->lock);
	list_for_each_entry_safe(m, tmp, &heap->threads, node)
		if (m_gone(heap, m))
			m_reap(heap, m);
}

/*
 * The calling thread's entry, or NULL if it is not attached. No lock is
 * needed for the caller to use its own entry until it returns: only the
 * thread itself detaches, and a reaper drops only threads that are gone.
 */
struct gcheap_m *gcheap_m_current(struct gcheap *heap)
{
	struct gcheap_m *m;

	/* An entry whose thread died may be freed meanwhile (its tid reused). */
	rcu_read_lock();
	m = xa_load(&heap->mthreads, current->pid);
	if (m && m->task != current)
		m = NULL;
	rcu_read_unlock();
	return m;
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
	spin_lock_init(&m->cached_lock);
	m->tid = current->pid;
	m->stack_hi = stack_hi;
	for (;;) {
		mutex_lock(&heap->lock);
		old = xa_load(&heap->mthreads, m->tid);
		if (old && old->task == current) {
			old->stack_hi = stack_hi;	/* attaching again: idempotent */
			mutex_unlock(&heap->lock);
			kfree(m);
			return 0;
		}
		if (heap->stw_phase == GCHEAP_STW_NONE)
			break;
		mutex_unlock(&heap->lock);
		/* Not yet attached, so no stop waits for it: it waits for the stop. */
		if (wait_event_interruptible(heap->stw_wq,
					     READ_ONCE(heap->stw_phase) == GCHEAP_STW_NONE)) {
			kfree(m);
			return -ERESTARTSYS;
		}
	}
	if (old)	/* an exited thread whose id was reused */
		m_reap(heap, old);
	m->task = current;	/* before the entry is seen (gcheap_m_current()) */
	ret = xa_err(xa_store(&heap->mthreads, m->tid, m, GFP_KERNEL_ACCOUNT));
	if (ret) {
		mutex_unlock(&heap->lock);
		kfree(m);
		return ret;
	}
	get_task_struct(current);
	list_add_tail(&m->node, &heap->threads);
	heap->nthreads++;
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
	if (!ret) {
		gcheap_span_free_dead(heap);	/* its cache's empty spans */
		wake_up_all(&heap->stw_wq);	/* a stop may be waiting for it */
	}
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
static void scan_stack(struct gcheap_mark *mark, const struct gcheap_stack *st)
{
	struct gcheap_gcwork w;

	gcheap_gcwork_init(&w, mark);
	gcheap_scan_stack(&w, st);
	gcheap_gcwork_dispose(&w);
}

/*
 * The mark, referenced, if @m owes this stop its stack scan and the scan
 * phase is on; the debt is taken either way.
 */
static struct gcheap_mark *take_scan(struct gcheap *heap, struct gcheap_m *m, u32 seq)
{
	struct gcheap_mark *mark = NULL;

	mutex_lock(&heap->lock);
	if (m->scan_owed && heap->stw_phase == GCHEAP_STW_SCAN &&
	    heap->ctrl->stw_seq == seq) {
		mark = rcu_dereference_protected(heap->mark, lockdep_is_held(&heap->lock));
		if (mark)
			gcheap_mark_get(mark);
	}
	mutex_unlock(&heap->lock);
	return mark;
}

/*
 * @m has scanned, or stopped scanning: the collector waits no more for it.
 * Past a given-up stop (seq moved on) there is nothing to report.
 */
static void scan_done(struct gcheap *heap, struct gcheap_m *m, u32 seq)
{
	bool now;

	mutex_lock(&heap->lock);
	now = heap->ctrl->stw_seq == seq;
	if (now) {
		m->scan_owed = false;
		atomic_dec(&heap->nscanning);
	}
	mutex_unlock(&heap->lock);
	if (now)
		wake_up_all(&heap->stw_wq);
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
 * Its cache report is taken at a cycle's first stop, before the thread
 * counts as parked: no mark exists until every thread has parked, so
 * nothing marks while its slots change hands (central.c).
 */
int gcheap_stw_park(struct gcheap *heap, const struct gcheap_park *req)
{
	const struct gcheap_stack *st = &req->stack;
	struct gcheap_cache_snap cache;
	struct gcheap_mark *mark;
	struct gcheap_m *m;
	u32 seq, cycle;
	bool take;
	u64 *wb;
	int ret;

	if (req->__reserved || req->__reserved2)
		return -EINVAL;
	/* The barrier's leftovers, read before anything changes (wbuf.c). */
	wb = gcheap_wb_copy_in(req->wb_ptrs, req->wb_count);
	if (IS_ERR(wb))
		return PTR_ERR(wb);
	mutex_lock(&heap->lock);
	m = gcheap_m_current(heap);
	if (!m || st->hi != m->stack_hi || !gcheap_stack_valid(st)) {
		mutex_unlock(&heap->lock);
		kfree(wb);
		return -EINVAL;
	}
	mutex_unlock(&heap->lock);
	/* m stays valid: only this thread detaches it, and it is not gone. */
	ret = gcheap_cache_report_read(heap, m, req->cache, &cache);
	if (ret) {
		kfree(wb);
		return ret;
	}
	if (wb) {
		/*
		 * Greyed before the thread counts as parked, so a drain that
		 * waits for every thread to park finds them.
		 */
		gcheap_wb_grey(heap, wb, req->wb_count);
		kfree(wb);
	}
	mutex_lock(&heap->lock);
	seq = heap->ctrl->stw_seq;
	take = seq & 1 && !m->parked && !rcu_access_pointer(heap->mark);
	cycle = heap->ctrl->gc_started;
	mutex_unlock(&heap->lock);
	if (take)
		gcheap_cache_report_take(heap, &cache, cycle);
	gcheap_cache_report_free(&cache);

	mutex_lock(&heap->lock);
	/* No stop, a second signal, or the stop ended while the report was taken. */
	if (heap->ctrl->stw_seq != seq || !(seq & 1) || m->parked) {
		mutex_unlock(&heap->lock);
		return 0;
	}
	m->parked = true;
	atomic_inc(&heap->nparked);
	mutex_unlock(&heap->lock);
	wake_up_all(&heap->stw_wq);

	/*
	 * Killable only: the stop must not see a parked thread run again.
	 * Bounded: the collector ends every stop within its deadlines.
	 */
	if (wait_event_killable(heap->stw_wq, READ_ONCE(heap->stw_phase) >= GCHEAP_STW_SCAN ||
				stw_over(heap, seq)))
		return -EINTR;
	/* Interrupted by a fatal signal, the scan is done too: this stack dies. */
	mark = take_scan(heap, m, seq);
	if (mark) {
		scan_stack(mark, st);
		gcheap_mark_put(mark);
		scan_done(heap, m, seq);
	}
	if (wait_event_killable(heap->stw_wq, stw_over(heap, seq)))
		return -EINTR;
	return 0;
}

/* Whether @m still has to park (or, in the SCAN phase, to scan). */
static bool m_waited_for(struct gcheap *heap, struct gcheap_m *m, bool scan)
{
	return m->task != current && !m_gone(heap, m) && (scan ? m->scan_owed : !m->parked);
}

/* Threads that still have to park or scan; gone ones are not waited for. */
static unsigned int count_waiting(struct gcheap *heap, bool scan)
{
	struct gcheap_m *m;
	unsigned int n = 0;

	mutex_lock(&heap->lock);
	list_for_each_entry(m, &heap->threads, node)
		n += m_waited_for(heap, m, scan);
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
 * Wait until no thread is left to park (or scan), stw_timeout_ms at most.
 * Polls now and then for threads that died meanwhile. -ETIMEDOUT past the
 * deadline, -EINTR on a fatal signal.
 */
static int wait_threads(struct gcheap *heap, bool scan)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(READ_ONCE(stw_timeout_ms));

	while (count_waiting(heap, scan)) {
		if (fatal_signal_pending(current))
			return -EINTR;
		if (time_after(jiffies, deadline))
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

/* Say which threads did not park (or scan), for the operator. */
static void report_timeout(struct gcheap *heap, bool scan)
{
	struct gcheap_m *m;

	mutex_lock(&heap->lock);
	list_for_each_entry(m, &heap->threads, node)
		if (m_waited_for(heap, m, scan))
			pr_warn_ratelimited("heap of %d: thread %d did not %s within %u ms (state %#x)\n",
					    heap->tgid, m->tid, scan ? "scan its stack" : "stop",
					    READ_ONCE(stw_timeout_ms), READ_ONCE(m->task->__state));
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
		m->scan_owed = false;
		if (m->task == current)
			atomic_inc(&heap->nparked);
	}
	WRITE_ONCE(heap->stw_phase, GCHEAP_STW_STOPPING);
	heap->stw_began = ktime_get_ns();
	trace_stw_begin(heap->tgid, heap->nthreads);
	/* Odd: the handlers that see it park. Ordered before the signals. */
	smp_store_release(&heap->ctrl->stw_seq, heap->ctrl->stw_seq + 1);
	list_for_each_entry(m, &heap->threads, node)
		if (m->task != current && !m_gone(heap, m))
			send_sig_info(stw_signal, SEND_SIG_PRIV, m->task);
	mutex_unlock(&heap->lock);

	ret = wait_threads(heap, false);
	if (ret == -ETIMEDOUT)
		report_timeout(heap, false);
	if (ret) {
		gcheap_start_the_world(heap);
		return ret;
	}
	return 0;
}

/*
 * All threads parked: publish @mark as heap->mark, let each parked thread
 * scan its own stack into it, and wait for them. Threads that are gone
 * meanwhile are not waited for. 0 once all have scanned; else (-ETIMEDOUT,
 * -EINTR) the cycle must be given up: gcheap_stw_give_up().
 */
int gcheap_stw_scan_stacks(struct gcheap *heap, struct gcheap_mark *mark)
{
	unsigned int n = 0;
	struct gcheap_m *m;
	int ret;

	mutex_lock(&heap->lock);
	list_for_each_entry(m, &heap->threads, node) {
		m->scan_owed = m->parked && m->task != current;
		n += m->scan_owed;
	}
	atomic_set(&heap->nscanning, n);
	rcu_assign_pointer(heap->mark, mark);
	WRITE_ONCE(heap->stw_phase, GCHEAP_STW_SCAN);
	mutex_unlock(&heap->lock);
	wake_up_all(&heap->stw_wq);

	ret = wait_threads(heap, true);
	if (ret == -ETIMEDOUT)
		report_timeout(heap, true);
	if (!ret)
		set_phase(heap, GCHEAP_STW_MARK);
	return ret;
}

/*
 * The mark is finished with, the cycle done or given up: no scanner may
 * use it any more. Drops the collector's reference. The world is stopped.
 */
void gcheap_stw_end_mark(struct gcheap *heap)
{
	struct gcheap_mark *mark;

	mutex_lock(&heap->lock);
	mark = rcu_replace_pointer(heap->mark, NULL, lockdep_is_held(&heap->lock));
	mutex_unlock(&heap->lock);
	if (!mark)
		return;
	gcheap_mark_close(mark);
	gcheap_mark_put(mark);
}

/*
 * Give up a cycle whose world is stopped, after any part of its marking:
 * nothing stays marked, nothing is freed, the world restarts.
 */
void gcheap_stw_give_up(struct gcheap *heap)
{
	gcheap_stw_end_mark(heap);
	gcheap_mark_clear(heap);
	gcheap_start_the_world(heap);
}

/* Restart the world: parked threads return to their interrupted code. */
void gcheap_start_the_world(struct gcheap *heap)
{
	mutex_lock(&heap->lock);
	trace_stw_end(heap->tgid, ktime_get_ns() - heap->stw_began);
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
