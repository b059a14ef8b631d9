// SPDX-License-Identifier: GPL-2.0
/*
 * Mark assists (Go's gcAssistAlloc): while a CONCURRENT heap's cycle
 * marks with the world running, a thread that takes memory (a refill, a
 * large allocation) pays for it with mark work first, in its own ioctl,
 * so a fast allocator cannot outrun the background workers and grow the
 * heap past its goal.
 *
 * Each attached thread keeps a balance (gcheap_m.assist_bytes, Go's
 * gcAssistBytes), cleared at each cycle: allocating debits it; scanning
 * assist_ratio / 1024 bytes (pacer.c) credits a byte. In debt, the thread
 * first claims the background workers' unclaimed scan work (bg_credit),
 * then scans itself from the shared work list (gcheap_mark_assist()), at
 * least GCHEAP_ASSIST_OVERWORK bytes at a time so it does not come back
 * for every span. Still in debt with no work and no credit to be had, it
 * waits for the workers' credit, for more grey objects, or for the end
 * of the mark; interruptibly, since the world may be stopping to end the
 * cycle and the thread must park for it. Interrupted, nothing is given
 * out and the debit is taken back: the ioctl is restarted after the
 * handler, whatever its SA_RESTART (-ERESTARTNOINTR), so an allocation
 * never fails for a signal.
 *
 * Locking: none but the mark's. The balance is the calling thread's own
 * (only it allocates through its gcheap_m); the mark is taken with
 * gcheap_mark_current() and scanned under its close_sem (mark.c).
 */
#include <linux/sched/signal.h>
#include <linux/moduleparam.h>
#include <linux/math64.h>
#include <linux/ktime.h>
#include <linux/export.h>
#include <kunit/visibility.h>
#include "trace.h"
#include "assist.h"
#include "mark.h"
#include "pacer.h"
#include "stw.h"

/* Claim up to @want bytes of the background workers' scan credit. */
static u64 steal_credit(struct gcheap_mark *mark, u64 want)
{
	s64 have = atomic64_read(&mark->bg_credit), take;

	do {
		if (have <= 0)
			return 0;
		take = min_t(s64, have, want);
	} while (!atomic64_try_cmpxchg(&mark->bg_credit, &have, have - take));
	return take;
}

static bool assist_can_go_on(struct gcheap *heap, struct gcheap_mark *mark)
{
	return atomic64_read(&mark->bg_credit) > 0 || READ_ONCE(mark->nfull) ||
	       READ_ONCE(mark->closed) ||
	       READ_ONCE(heap->ctrl->gc_phase) != GCHEAP_PHASE_MARK;
}

/*
 * @m is about to take @bytes of heap: pay for them if a cycle marks. 0 to
 * go on; -ERESTARTNOINTR if a signal came first (nothing debited).
 */
int gcheap_assist_alloc(struct gcheap *heap, struct gcheap_m *m, u64 bytes)
{
	struct gcheap_mark *mark;
	u64 cycle, ratio, owed, got, t0;
	int ret = 0;

	if (READ_ONCE(heap->ctrl->gc_phase) != GCHEAP_PHASE_MARK)
		return 0;
	mark = gcheap_mark_current(heap);
	if (!mark)
		return 0;
	cycle = READ_ONCE(heap->ctrl->gc_started);
	if (m->assist_cycle != cycle) {
		m->assist_cycle = cycle;
		m->assist_bytes = 0;
	}
	m->assist_bytes -= min_t(u64, bytes, S64_MAX / 2);
	t0 = ktime_get_ns();
	while (m->assist_bytes < 0) {
		ratio = gcheap_pacer_mark_ratio(heap, mark);
		owed = max(mul_u64_u64_shr(-m->assist_bytes, ratio, 10),
			   GCHEAP_ASSIST_OVERWORK);
		got = steal_credit(mark, owed);
		if (got < owed)
			got += gcheap_mark_assist(mark, owed - got);
		m->assist_bytes += mul_u64_u64_div_u64(got, 1024, ratio);
		if (m->assist_bytes >= 0 ||
		    READ_ONCE(heap->ctrl->gc_phase) != GCHEAP_PHASE_MARK || mark->closed)
			break;
		if (signal_pending(current) ||
		    wait_event_interruptible(mark->assist_wq, assist_can_go_on(heap, mark))) {
			m->assist_bytes += bytes;
			ret = -ERESTARTNOINTR;
			break;
		}
	}
	/* The time is the cycle's, not the program's (pacer.c's limiter). */
	t0 = ktime_get_ns() - t0;
	atomic64_add(t0, &mark->assist_ns);
	trace_assist(heap->tgid, bytes, t0);
	gcheap_mark_put(mark);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_assist_alloc);

/*
 * @bytes that gcheap_assist_alloc() charged @m for were not taken after
 * all (a batch granted short, a refill that failed): credit them back,
 * if the balance is still that cycle's (a later cycle starts afresh).
 */
void gcheap_assist_refund(struct gcheap *heap, struct gcheap_m *m, u64 bytes)
{
	if (m->assist_cycle == READ_ONCE(heap->ctrl->gc_started))
		m->assist_bytes += min_t(u64, bytes, S64_MAX / 2);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_assist_refund);
