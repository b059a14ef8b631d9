// SPDX-License-Identifier: GPL-2.0
/*
 * Marking (Go's mgcmark + mgcwork): conservative and parallel; by the
 * collector, kernel workers helping it, and each parked thread for its own
 * stack while the world is stopped; for a CONCURRENT heap also beside the
 * running program, by the collector held to a CPU share (a fractional
 * worker sleeps off what it worked beyond it), its helpers, and threads
 * that allocate meanwhile (assists, assist.c). Background workers' scan
 * work is credit that assists may claim instead of scanning.
 *
 * An object is grey once its mark bit is set and it sits in a work buffer,
 * black once scanned. A word is a pointer if it falls inside an allocated
 * object of this heap, interior pointers included; for a span a cache holds,
 * a slot the cache was given counts as allocated, since the module cannot
 * know which of those the thread has used (allocate-black). Noscan objects
 * are marked, never scanned. A large object is queued in pieces of
 * GCHEAP_SCAN_PIECE bytes so one huge object spreads over all workers.
 *
 * Work distribution is Go's: each worker fills and drains a private buffer;
 * full buffers go to a shared list, and a worker with spare work hands half
 * of it over while another worker waits (Go's gcWork.balance). Waiting
 * workers take from the list; a private buffer is never touched by another
 * worker, so pushes and pops need no lock or atomic.
 *
 * Helpers are work items on mark->wq, which all heaps share: one may start
 * late or, while the queue is saturated, not before the cycle ends. So a
 * helper counts as busy only once it has started (Go's nwait), a cycle
 * never waits for one to start, and one that starts after the end does
 * nothing. The owner pays for its collection: buffers are charged to its
 * memory cgroup, and the default worker count is bounded by the CPUs the
 * collecting thread may run on.
 *
 * Bounded memory: a process must not make the kernel allocate without
 * limit, so the buffers of a cycle are capped (mark->max_bufs of one page
 * each, 64 MiB).
 * When no buffer can be had, a grey object is left marked but unscanned
 * and mark->overflow is set; once the workers are done, every marked
 * object of the heap is scanned again and marking resumes, until a pass
 * ends without overflow (libgc's answer to mark stack overflow).
 *
 * Termination: nbusy counts started workers not waiting, and changes only
 * under mark->lock together with the shared list. With the world stopped
 * work is created only by a busy worker, so nbusy == 0 with an empty list
 * means no grey object is left. With it running, barrier flushes and
 * assists (never counted busy) may add work after that: the concurrent
 * drain only hands over to mark termination, which drains again with the
 * world stopped and every buffer handed in.
 *
 * User memory (stacks, root ranges) is the process's to choose: reading it
 * may fault, block (userfaultfd, FUSE) or be long (1 GiB of stack), so it
 * is read a piece at a time, preemptibly, and stops on a fatal signal.
 * The mark is reference-counted: a parked thread scanning its stack holds
 * a reference, so the mark outlives it even if the collector gives up the
 * cycle first. gcheap_mark_close() ends greying from user memory (close_sem
 * orders it against a scanner greying a piece it has read), after which a
 * late scanner touches nothing but its own reference.
 *
 * Invariants: a cycle marks under gc_mutex, with every attached thread
 * parked (a STW heap), or beside the running program between the two
 * stops of a concurrent cycle (gc.c). Either way no span is destroyed
 * while it marks (span.c) and nothing is left unswept, so a span a marker
 * finds without a lock (the span table's lock-free lookup, arena.c) stays
 * valid, and only its mark bits and, for spans handed out or given back,
 * its state and cache bits change under it: slots handed out while a
 * cycle marks are black already, and a conservative marker that reads
 * the other bits mid-change at worst keeps an object one cycle more.
 * Heap words are read once each (READ_ONCE), whatever a mutator stores
 * beside; what it stores while the barrier is on is shaded by the
 * barrier. Mark bits are set and cleared with atomic bit operations, and
 * are all clear between cycles (sweeping clears them; a cycle given up
 * clears them with gcheap_mark_clear()). Heap memory is read through the
 * kernel's mapping only.
 */
#include <linux/bitmap.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/memcontrol.h>
#include <linux/cpumask.h>
#include <linux/moduleparam.h>
#include <linux/export.h>
#include <kunit/visibility.h>
#include "mark.h"
#include "span.h"
#include "arena.h"
#include "stw.h"

/* A work buffer fills one page exactly: kmalloc serves it from kmalloc-4k. */
#define GCHEAP_WORKBUF_ENTRIES	((PAGE_SIZE - sizeof(struct list_head) - sizeof(u64)) / sizeof(u64))
#define GCHEAP_MARK_MAX_BUFS	((64UL << 20) / PAGE_SIZE)	/* per cycle */
#define GCHEAP_SCAN_PIECE	(64UL << 10)

/*
 * A work buffer entry: heap offset (low 40 bits) and words to scan there,
 * so scanning needs no second span lookup.
 */
#define ENTRY_OFF_BITS		40
#define ENTRY_OFF_MASK		((1ULL << ENTRY_OFF_BITS) - 1)

struct gcheap_workbuf {
	struct list_head list;
	u64 n;
	u64 e[GCHEAP_WORKBUF_ENTRIES];
};

static unsigned int gc_workers;
module_param(gc_workers, uint, 0644);
MODULE_PARM_DESC(gc_workers,
		 "Mark workers per cycle, the collector included, at most the CPUs it may use (0: all of those)");

/* Workers for a cycle the calling thread runs: no more than its CPUs. */
unsigned int gcheap_mark_workers(void)
{
	unsigned int cpus = cpumask_weight(current->cpus_ptr);
	unsigned int n = READ_ONCE(gc_workers);

	return clamp_t(unsigned int, n ? min(n, cpus) : cpus, 1, 64);
}

static void mark_worker_fn(struct kthread_work *work);

/*
 * A cycle's mark, with up to @nworkers workers: the caller, and helpers on
 * the heap's threads (made now if need be, by the caller: workers.c), of
 * which there is always one for the background sweeper.
 */
struct gcheap_mark *gcheap_mark_create(struct gcheap *heap, unsigned int nworkers)
{
	struct gcheap_mark *mark;
	unsigned int i;

	BUILD_BUG_ON(sizeof(struct gcheap_workbuf) != PAGE_SIZE);
	nworkers = max(nworkers, 1U);
	if (gcheap_workers_get(heap, max(nworkers - 1, 1U)) < nworkers - 1)
		nworkers = 1 + gcheap_workers_get(heap, nworkers - 1);
	mark = kzalloc(struct_size(mark, workers, nworkers), GFP_KERNEL_ACCOUNT);
	if (!mark)
		return NULL;
	mark->heap = heap;
	refcount_set(&mark->refs, 1);
	init_rwsem(&mark->close_sem);
	/* No mm: a KUnit heap, whose buffers are the test's. */
	mark->memcg = heap->mm ? get_mem_cgroup_from_mm(heap->mm) : NULL;
	spin_lock_init(&mark->lock);
	INIT_LIST_HEAD(&mark->full);
	INIT_LIST_HEAD(&mark->empty);
	init_waitqueue_head(&mark->wq);
	init_waitqueue_head(&mark->assist_wq);
	mark->nworkers = nworkers;
	mark->max_bufs = GCHEAP_MARK_MAX_BUFS;
	/* Worker 0 is the caller. */
	for (i = 1; i < nworkers; i++) {
		kthread_init_work(&mark->workers[i].work, mark_worker_fn);
		mark->workers[i].kw = gcheap_worker(heap, i - 1);
		mark->workers[i].mark = mark;
	}
	return mark;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_mark_create);

void gcheap_mark_get(struct gcheap_mark *mark)
{
	refcount_inc(&mark->refs);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_mark_get);

void gcheap_mark_put(struct gcheap_mark *mark)
{
	struct gcheap_workbuf *b, *tmp;

	if (!refcount_dec_and_test(&mark->refs))
		return;
	list_for_each_entry_safe(b, tmp, &mark->empty, list)
		kfree(b);
	/* Empty unless a cycle was abandoned with work queued. */
	list_for_each_entry_safe(b, tmp, &mark->full, list)
		kfree(b);
	mem_cgroup_put(mark->memcg);
	kfree_rcu(mark, rcu);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_mark_put);

/*
 * The cycle's mark, referenced, while one is published (heap->mark, from
 * the stacks' scan to the end of the mark); else NULL. Takes no lock: a
 * flush or an assist must not meet every other thread on one mutex.
 */
struct gcheap_mark *gcheap_mark_current(struct gcheap *heap)
{
	struct gcheap_mark *mark;

	rcu_read_lock();
	mark = rcu_dereference(heap->mark);
	if (mark && !refcount_inc_not_zero(&mark->refs))
		mark = NULL;
	rcu_read_unlock();
	return mark;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_mark_current);

/*
 * The cycle is over (done or given up): from now on no scanner of user
 * memory greys anything, so no buffer is needed but the one each late
 * scanner holds. Waits only for greying in progress, never for user
 * memory: a scanner stuck on its stack keeps one buffer, not the cycle's.
 */
void gcheap_mark_close(struct gcheap_mark *mark)
{
	struct gcheap_workbuf *b, *tmp;
	LIST_HEAD(spare);

	down_write(&mark->close_sem);
	WRITE_ONCE(mark->closed, true);
	up_write(&mark->close_sem);
	wake_up_all(&mark->assist_wq);
	spin_lock(&mark->lock);
	list_splice_init(&mark->empty, &spare);
	list_splice_init(&mark->full, &spare);
	mark->nfull = 0;
	spin_unlock(&mark->lock);
	list_for_each_entry_safe(b, tmp, &spare, list)
		kfree(b);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_mark_close);

/* An empty buffer, or NULL past the cap or without memory. */
static struct gcheap_workbuf *workbuf_get(struct gcheap_mark *mark)
{
	struct gcheap_workbuf *b;
	bool may_alloc;

	spin_lock(&mark->lock);
	b = list_first_entry_or_null(&mark->empty, struct gcheap_workbuf, list);
	if (b)
		list_del(&b->list);
	may_alloc = !b && mark->nbufs < mark->max_bufs;
	if (may_alloc)
		mark->nbufs++;
	spin_unlock(&mark->lock);
	if (may_alloc) {
		struct mem_cgroup *old = set_active_memcg(mark->memcg);

		b = kmalloc(sizeof(*b), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		set_active_memcg(old);
		if (!b) {
			spin_lock(&mark->lock);
			mark->nbufs--;
			spin_unlock(&mark->lock);
		}
	}
	if (b)
		b->n = 0;
	return b;
}

static void workbuf_publish(struct gcheap_mark *mark, struct gcheap_workbuf *b)
{
	spin_lock(&mark->lock);
	if (b->n) {
		list_add_tail(&b->list, &mark->full);
		mark->nfull++;
	} else {
		list_add(&b->list, &mark->empty);
	}
	spin_unlock(&mark->lock);
	if (b->n && wq_has_sleeper(&mark->wq))
		wake_up(&mark->wq);
	if (b->n && wq_has_sleeper(&mark->assist_wq))
		wake_up_all(&mark->assist_wq);
}

void gcheap_gcwork_init(struct gcheap_gcwork *w, struct gcheap_mark *mark)
{
	w->mark = mark;
	w->buf = workbuf_get(mark);
	w->marked_bytes = 0;
	w->scan_work = 0;
	w->bg = false;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_gcwork_init);

/*
 * Add what @w scanned to the cycle's count and, for a background worker,
 * to the credit assists may claim instead of scanning (Go's
 * gcFlushBgCredit); an assist waiting for credit is woken.
 */
static void gcwork_flush_credit(struct gcheap_gcwork *w)
{
	struct gcheap_mark *mark = w->mark;

	if (!w->scan_work)
		return;
	atomic64_add(w->scan_work, &mark->scan_work);
	if (w->bg) {
		atomic64_add(w->scan_work, &mark->bg_credit);
		if (wq_has_sleeper(&mark->assist_wq))
			wake_up_all(&mark->assist_wq);
	}
	w->scan_work = 0;
}

/* Hand what is left to the shared list and account what was marked. */
void gcheap_gcwork_dispose(struct gcheap_gcwork *w)
{
	if (w->buf)
		workbuf_publish(w->mark, w->buf);
	w->buf = NULL;
	atomic64_add(w->marked_bytes, &w->mark->marked_bytes);
	w->marked_bytes = 0;
	gcwork_flush_credit(w);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_gcwork_dispose);

static void push(struct gcheap_gcwork *w, u64 e)
{
	if (unlikely(!w->buf || w->buf->n == GCHEAP_WORKBUF_ENTRIES)) {
		struct gcheap_workbuf *b = workbuf_get(w->mark);

		if (!b) {
			/* Marked, not scanned: the rescan pass finds it. */
			WRITE_ONCE(w->mark->overflow, true);
			return;
		}
		if (w->buf)
			workbuf_publish(w->mark, w->buf);
		w->buf = b;
	}
	w->buf->e[w->buf->n++] = e;
}

/*
 * The span whose object holds heap offset @off and, in *@idx, the object's
 * slot (0 for a large span); NULL if no object does. The world is stopped.
 */
static struct gcheap_span *object_at(struct gcheap *heap, unsigned long off,
				     unsigned long *idx, u8 *statep)
{
	struct gcheap_span *span = gcheap_arena_span_at(heap, off >> GCHEAP_PAGE_SHIFT);
	/* Acquire: pairs with the release that publishes a hand-over or give-back. */
	u8 state = span ? smp_load_acquire(&span->state) : GCHEAP_SPAN_INIT;

	*statep = state;
	if (state != GCHEAP_SPAN_INUSE && state != GCHEAP_SPAN_CACHED)
		return NULL;
	*idx = 0;
	if (gcheap_span_is_large(span))
		return span;
	*idx = gcheap_obj_index(gcheap_span_class(span), off - (span->start << GCHEAP_PAGE_SHIFT));
	return *idx < span->nelems ? span : NULL;
}

/* Queue a large object's scan in pieces. */
static void push_large(struct gcheap_gcwork *w, unsigned long off, unsigned long len)
{
	while (len) {
		unsigned long n = min(len, GCHEAP_SCAN_PIECE);

		push(w, off | (u64)(n / sizeof(u64)) << ENTRY_OFF_BITS);
		off += n;
		len -= n;
	}
}

/*
 * Mark the object holding heap offset @off if it is allocated, and queue
 * it for scanning unless it is noscan.
 */
static void grey_off(struct gcheap_gcwork *w, unsigned long off)
{
	struct gcheap_span *span;
	unsigned long soff, idx;
	unsigned long *markbits;
	bool cached_slot;
	u8 state;

	span = object_at(w->mark->heap, off, &idx, &state);
	if (!span)
		return;
	soff = span->start << GCHEAP_PAGE_SHIFT;
	markbits = gcheap_span_mark_bits(span);
	if (gcheap_span_is_large(span)) {
		if (test_bit(0, markbits) || test_and_set_bit(0, markbits))
			return;
		w->marked_bytes += span->npages << GCHEAP_PAGE_SHIFT;
		if (!(span->spanclass & 1))
			push_large(w, soff, span->npages << GCHEAP_PAGE_SHIFT);
		return;
	}
	cached_slot = state == GCHEAP_SPAN_CACHED &&
		      test_bit(idx, gcheap_span_cache_free(span));
	if (!cached_slot && !test_bit(idx, gcheap_span_alloc_bits(span)))
		return;
	if (test_bit(idx, markbits) || test_and_set_bit(idx, markbits))
		return;
	/* Slots a cache holds are already counted whole in live_bytes. */
	if (!cached_slot)
		w->marked_bytes += span->elemsize;
	if (!(span->spanclass & 1))
		push(w, (soff + idx * span->elemsize) |
		     (u64)(span->elemsize / sizeof(u64)) << ENTRY_OFF_BITS);
}

void gcheap_grey(struct gcheap_gcwork *w, unsigned long addr)
{
	struct gcheap *heap = w->mark->heap;
	unsigned long off = addr - heap->base;

	if (off < (heap->npages << GCHEAP_PAGE_SHIFT))
		grey_off(w, off);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_grey);

/*
 * Grey every word of @words that points into the heap, but for those in
 * [skip_lo, skip_hi) (an object's pointers to itself).
 */
void gcheap_scan_words(struct gcheap_gcwork *w, const u64 *words, size_t n,
		       unsigned long skip_lo, unsigned long skip_hi)
{
	struct gcheap *heap = w->mark->heap;
	unsigned long limit = heap->npages << GCHEAP_PAGE_SHIFT;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned long v = READ_ONCE(words[i]);

		if (v - heap->base < limit && (v < skip_lo || v >= skip_hi))
			grey_off(w, v - heap->base);
	}
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_scan_words);

/*
 * Scan @len bytes of heap memory at heap offset @off, a page at a time
 * (a large object may be the whole heap).
 */
static void scan_heap(struct gcheap_gcwork *w, unsigned long off, unsigned long len,
		      unsigned long skip_lo, unsigned long skip_hi)
{
	struct gcheap *heap = w->mark->heap;

	while (len) {
		unsigned long pg = off >> GCHEAP_PAGE_SHIFT;
		unsigned long in = off & (GCHEAP_PAGE_SIZE - 1);
		unsigned long n = min(len, GCHEAP_PAGE_SIZE - in);
		struct page *page = gcheap_arena_chunk(heap, pg)->pages[pg % GCHEAP_CHUNK_PAGES];

		gcheap_scan_words(w, page_address(page) + in, n / sizeof(u64), skip_lo, skip_hi);
		off += n;
		len -= n;
		if (len)
			cond_resched();
	}
}

/*
 * Scan the contents of the object starting at user address @base without
 * marking it (finalizer ordering), optionally ignoring its pointers to
 * itself.
 */
void gcheap_scan_object(struct gcheap_gcwork *w, unsigned long base, bool ignore_self)
{
	struct gcheap *heap = w->mark->heap;
	unsigned long off = base - heap->base, len, idx;
	struct gcheap_span *span;
	u8 state;

	if (off >= heap->npages << GCHEAP_PAGE_SHIFT)
		return;
	span = object_at(heap, off, &idx, &state);
	if (!span || span->spanclass & 1)
		return;
	len = gcheap_span_is_large(span) ? span->npages << GCHEAP_PAGE_SHIFT : span->elemsize;
	if (ignore_self)
		scan_heap(w, off, len, base, base + len);
	else
		scan_heap(w, off, len, 0, 0);
}

/* Grey words read from user memory, unless the mark is closed: false then. */
static bool scan_read_words(struct gcheap_gcwork *w, const u64 *words, size_t n)
{
	struct gcheap_mark *mark = w->mark;
	bool open;

	down_read(&mark->close_sem);
	open = !mark->closed;
	if (open)
		gcheap_scan_words(w, words, n, 0, 0);
	up_read(&mark->close_sem);
	return open;
}

/*
 * Scan [lo, hi) of the current process's memory (a stack, a root range),
 * 8-byte aligned words. Memory that cannot be read holds no pointers the
 * process could use: it is skipped, a page at a time, and -EFAULT says so.
 * Stops early with -EINTR on a fatal signal, -ECANCELED once the mark is
 * closed: the caller's cycle must then not trust the mark.
 */
int gcheap_scan_user(struct gcheap_gcwork *w, unsigned long lo, unsigned long hi)
{
	u64 buf[64];
	int ret = 0;

	lo = ALIGN(lo, sizeof(u64));
	hi = ALIGN_DOWN(hi, sizeof(u64));
	while (lo < hi) {
		size_t n = min_t(size_t, hi - lo, sizeof(buf));
		size_t left;

		if (fatal_signal_pending(current))
			return -EINTR;
		left = copy_from_user(buf, (const void __user *)lo, n);
		if (!scan_read_words(w, buf, (n - left) / sizeof(u64)))
			return -ECANCELED;
		if (left) {
			ret = -EFAULT;
			n = PAGE_ALIGN(lo + n - left + 1) - lo;
		}
		lo += n;
		cond_resched();
	}
	return ret;
}

/* A thread's stack range and the registers it saved: roots. */
int gcheap_scan_stack(struct gcheap_gcwork *w, const struct gcheap_stack *st)
{
	if (!scan_read_words(w, st->regs, GCHEAP_NREGS))
		return -ECANCELED;
	return gcheap_scan_user(w, st->lo, st->hi);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_scan_stack);

static void scan_entry(struct gcheap_gcwork *w, u64 e)
{
	unsigned long len = (e >> ENTRY_OFF_BITS) * sizeof(u64);

	scan_heap(w, e & ENTRY_OFF_MASK, len, 0, 0);
	w->scan_work += len;
}

/*
 * A full buffer from the shared list for @w, its own (empty) going spare.
 * mark->lock held.
 */
static bool take_full_locked(struct gcheap_gcwork *w, u64 *e)
{
	struct gcheap_mark *mark = w->mark;
	struct gcheap_workbuf *b;

	b = list_first_entry_or_null(&mark->full, struct gcheap_workbuf, list);
	if (!b)
		return false;
	list_del(&b->list);
	mark->nfull--;
	if (w->buf)
		list_add(&w->buf->list, &mark->empty);
	w->buf = b;
	*e = b->e[--b->n];
	return true;
}

/*
 * Next grey object for @w: from its own buffer, else from the shared list.
 * false once all workers are out of work.
 */
static bool get_work(struct gcheap_gcwork *w, u64 *e)
{
	struct gcheap_mark *mark = w->mark;

	if (likely(w->buf && w->buf->n)) {
		*e = w->buf->e[--w->buf->n];
		return true;
	}
	spin_lock(&mark->lock);
	for (;;) {
		if (take_full_locked(w, e)) {
			spin_unlock(&mark->lock);
			return true;
		}
		if (mark->done)
			break;
		if (--mark->nbusy == 0) {
			mark->done = true;
			spin_unlock(&mark->lock);
			wake_up_all(&mark->wq);
			return false;
		}
		mark->nwait++;
		spin_unlock(&mark->lock);
		wait_event(mark->wq, READ_ONCE(mark->nfull) || READ_ONCE(mark->done));
		spin_lock(&mark->lock);
		mark->nwait--;
		mark->nbusy++;
	}
	spin_unlock(&mark->lock);
	return false;
}

/* Go's gcWork.balance: give half of a long buffer to a waiting worker. */
static void balance(struct gcheap_gcwork *w)
{
	struct gcheap_mark *mark = w->mark;
	struct gcheap_workbuf *b;
	unsigned int half;

	if (!w->buf || w->buf->n < 8 || READ_ONCE(mark->nfull) || !READ_ONCE(mark->nwait))
		return;
	b = workbuf_get(mark);
	if (!b)
		return;
	half = w->buf->n / 2;
	memcpy(b->e, w->buf->e + w->buf->n - half, half * sizeof(u64));
	b->n = half;
	w->buf->n -= half;
	workbuf_publish(mark, b);
}

/*
 * Go's fractional worker: a worker held to @permille of one CPU sleeps
 * once it has worked more than that share of the time since @t0, its
 * buffer published first so assists and other workers can take the work
 * meanwhile. Returns the time it slept. A sleep is at most 10 ms, so the
 * worker notices the end of the work soon. While threads assist, or wait
 * to, the program is stalled on the mark: the worker does not sleep then,
 * so the stall is shorter.
 */
static u64 fractional_yield(struct gcheap_gcwork *w, u64 t0, u64 slept, unsigned int permille)
{
	u64 now = ktime_get_ns(), elapsed = now - t0, worked = elapsed - slept, owed;

	if (worked * 1000 <= (u64)permille * elapsed)
		return 0;
	if (atomic_read(&w->mark->nassist) || wq_has_sleeper(&w->mark->assist_wq))
		return 0;
	owed = min_t(u64, div_u64(worked * 1000, permille) - elapsed, 10 * NSEC_PER_MSEC);
	if (w->buf && w->buf->n) {
		workbuf_publish(w->mark, w->buf);
		w->buf = NULL;
	}
	schedule_timeout_killable(nsecs_to_jiffies(owed) ?: 1);
	return ktime_get_ns() - now;
}

/* Drain as a background worker, held to @permille of a CPU (1000: all). */
static void mark_work(struct gcheap_mark *mark, unsigned int permille)
{
	struct gcheap_gcwork w;
	unsigned int n = 0;
	u64 t0 = ktime_get_ns(), slept = 0, e;

	gcheap_gcwork_init(&w, mark);
	w.bg = true;
	while (get_work(&w, &e)) {
		scan_entry(&w, e);
		if (!(++n % 64)) {
			gcwork_flush_credit(&w);
			balance(&w);
			if (permille < 1000)
				slept += fractional_yield(&w, t0, slept, permille);
			cond_resched();
		}
	}
	gcheap_gcwork_dispose(&w);
}

/* A helper: it joins the drain only if the drain is not over yet. */
static void mark_worker_fn(struct kthread_work *work)
{
	struct gcheap_mark *mark = container_of(work, struct gcheap_mark_worker, work)->mark;
	bool join;

	spin_lock(&mark->lock);
	join = !mark->done;
	if (join)
		mark->nbusy++;
	spin_unlock(&mark->lock);
	if (join)
		mark_work(mark, 1000);
}

/*
 * Go's gcDrainN for a mark assist: about @work bytes of scanning, by a
 * thread allocating while the cycle marks, taken from the shared list.
 * An assist never waits for work and never counts towards the workers'
 * termination: what it greys and does not scan is published for them,
 * or for mark termination, which drains all that is left with the world
 * stopped. It stops at a signal (the world may be stopping) and once the
 * mark is closed (close_sem, as for any marker running beside the
 * program: spans are held only until then). Returns the bytes scanned.
 */
u64 gcheap_mark_assist(struct gcheap_mark *mark, u64 work)
{
	struct gcheap_gcwork w;
	unsigned int n = 0;
	u64 done = 0, e;
	bool more = true;

	atomic_inc(&mark->nassist);
	down_read(&mark->close_sem);
	if (!mark->closed) {
		gcheap_gcwork_init(&w, mark);
		while (done < work && more && !signal_pending(current)) {
			if (w.buf && w.buf->n) {
				e = w.buf->e[--w.buf->n];
			} else {
				spin_lock(&mark->lock);
				more = take_full_locked(&w, &e);
				spin_unlock(&mark->lock);
				if (!more)
					break;
			}
			scan_entry(&w, e);
			done += (e >> ENTRY_OFF_BITS) * sizeof(u64);
			if (!(++n % 64))
				cond_resched();
		}
		gcheap_gcwork_dispose(&w);
	}
	up_read(&mark->close_sem);
	if (atomic_dec_and_test(&mark->nassist))
		wake_up_all(&mark->assist_wq);
	return done;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_mark_assist);

/*
 * The next span of the heap at or after page *@pg, skipping chunks never
 * used, and *@pg past it; NULL at the end. The world is stopped.
 */
static struct gcheap_span *next_span(struct gcheap *heap, unsigned long *pg)
{
	while (*pg < heap->npages) {
		struct gcheap_span *span;

		if (!gcheap_arena_chunk(heap, *pg)) {
			*pg = ALIGN(*pg + 1, GCHEAP_CHUNK_PAGES);
			continue;
		}
		span = gcheap_arena_span_at(heap, *pg);
		if (!span) {
			(*pg)++;
			continue;
		}
		*pg = span->start + span->npages;
		if (span->state == GCHEAP_SPAN_INUSE || span->state == GCHEAP_SPAN_CACHED)
			return span;
	}
	return NULL;
}

/* Scan every marked scan object of the heap again (after an overflow). */
static void rescan_marked(struct gcheap_mark *mark)
{
	struct gcheap *heap = mark->heap;
	struct gcheap_span *span;
	struct gcheap_gcwork w;
	unsigned long pg = 0, i;

	gcheap_gcwork_init(&w, mark);
	while ((span = next_span(heap, &pg))) {
		unsigned long soff = span->start << GCHEAP_PAGE_SHIFT;

		if (span->spanclass & 1)
			continue;
		if (gcheap_span_is_large(span)) {
			if (test_bit(0, gcheap_span_mark_bits(span)))
				scan_heap(&w, soff, span->npages << GCHEAP_PAGE_SHIFT, 0, 0);
		} else {
			for_each_set_bit(i, gcheap_span_mark_bits(span), span->nelems)
				scan_heap(&w, soff + i * span->elemsize, span->elemsize, 0, 0);
		}
		cond_resched();
	}
	gcheap_gcwork_dispose(&w);
}

/*
 * Allocate black for caches, at a CONCURRENT cycle's first stop: every
 * slot a cache holds counts as marked for the cycle (what it allocates
 * there while the cycle marks is black, as Go's gcmarknewobject makes
 * it). A cache that reported at this stop (central.c) holds only free,
 * zeroed slots, and nothing else is to be done. A span no report covered
 * (its thread was stopped inside the allocator, or its library does not
 * report) holds objects the module cannot tell from free slots: its slots
 * are queued, as runs, to be scanned for what they held before (what is
 * stored in them after goes through the barrier). The world is stopped;
 * without memory for the list of spans, the overflow rescan scans them
 * instead.
 */
void gcheap_mark_cached(struct gcheap_mark *mark)
{
	struct gcheap *heap = mark->heap;
	size_t n = 0, cap = atomic64_read(&heap->cnt.spans_cached), i;
	u32 cycle = READ_ONCE(heap->ctrl->gc_started);
	struct gcheap_span **spans, *span;
	struct gcheap_gcwork w;
	struct gcheap_m *m;
	unsigned long lo, hi;
	bool reported;

	spans = kvmalloc_array(max_t(size_t, cap, 1), sizeof(*spans), GFP_KERNEL_ACCOUNT);
	mutex_lock(&heap->lock);
	list_for_each_entry(m, &heap->threads, node) {
		spin_lock(&m->cached_lock);
		list_for_each_entry(span, &m->cached, list) {
			struct gcheap_central *c = gcheap_span_central(heap, span);

			spin_lock(&c->lock);
			bitmap_or(gcheap_span_mark_bits(span), gcheap_span_mark_bits(span),
				  gcheap_span_cache_free(span), span->nelems);
			reported = span->report_cycle == cycle;
			spin_unlock(&c->lock);
			if (reported || span->spanclass & 1)
				continue;
			if (spans && n < cap)
				spans[n++] = span;
			else
				WRITE_ONCE(mark->overflow, true);
		}
		spin_unlock(&m->cached_lock);
	}
	mutex_unlock(&heap->lock);

	gcheap_gcwork_init(&w, mark);
	for (i = 0; i < n; i++) {
		unsigned long soff;

		span = spans[i];
		soff = span->start << GCHEAP_PAGE_SHIFT;
		for_each_set_bitrange(lo, hi, gcheap_span_cache_free(span), span->nelems)
			push_large(&w, soff + lo * span->elemsize, (hi - lo) * span->elemsize);
	}
	gcheap_gcwork_dispose(&w);
	kvfree(spans);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_mark_cached);

/*
 * Clear every mark bit of the heap: a cycle given up leaves nothing
 * marked, as sweeping would. The world is stopped and the mark closed.
 */
void gcheap_mark_clear(struct gcheap *heap)
{
	struct gcheap_span *span;
	unsigned long pg = 0;

	while ((span = next_span(heap, &pg))) {
		bitmap_zero(gcheap_span_mark_bits(span), span->nelems);
		cond_resched();
	}
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_mark_clear);

/* One drain by the caller, at @permille of a CPU, and @nworkers - 1 helpers. */
static void drain_once(struct gcheap_mark *mark, unsigned int nworkers, unsigned int permille)
{
	unsigned int i;

	nworkers = min(nworkers, mark->nworkers);
	spin_lock(&mark->lock);
	mark->nbusy = 1;	/* the caller; helpers count once started */
	mark->nwait = 0;
	mark->done = false;
	spin_unlock(&mark->lock);
	for (i = 1; i < nworkers; i++)
		kthread_queue_work(mark->workers[i].kw, &mark->workers[i].work);
	mark_work(mark, permille);
	/* Done: a helper still queued would find nothing; one running is ending. */
	for (i = 1; i < nworkers; i++)
		kthread_cancel_work_sync(&mark->workers[i].work);
}

/*
 * Blacken everything reachable from the grey objects queued so far, with
 * up to mark->nworkers workers: the caller and those helpers on the heap's threads
 * that start in time. Called again after more roots are greyed (finalizer
 * ordering).
 */
void gcheap_mark_drain(struct gcheap_mark *mark)
{
	drain_once(mark, mark->nworkers, 1000);
	while (READ_ONCE(mark->overflow)) {
		WRITE_ONCE(mark->overflow, false);
		mark->overflows++;
		rescan_marked(mark);
		drain_once(mark, mark->nworkers, 1000);
	}
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_mark_drain);

/*
 * The concurrent phase's background marking: the caller, held to
 * @permille of a CPU, and up to @nworkers - 1 helpers, while the program
 * runs. The workers run dry while assists hold grey objects (taken from
 * the shared list, published again when they stop): the phase ends only
 * once no assist runs and the list is empty, so mark termination, with
 * the world stopped, is left with what the threads' barrier buffers hold
 * (and an overflow's rescan). Each object is greyed once per cycle, so
 * this ends; a fatal signal ends it early, mark termination doing the
 * rest.
 */
void gcheap_mark_drain_bg(struct gcheap_mark *mark, unsigned int nworkers, unsigned int permille)
{
	for (;;) {
		drain_once(mark, nworkers, permille);
		if (fatal_signal_pending(current))
			break;
		if (!READ_ONCE(mark->nfull) && !atomic_read(&mark->nassist))
			break;
		/* An assist is under way: its leftovers, or its end. */
		wait_event_killable_timeout(mark->assist_wq,
					    READ_ONCE(mark->nfull) || !atomic_read(&mark->nassist),
					    msecs_to_jiffies(10));
	}
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_mark_drain_bg);

/*
 * Whether the object holding @addr is marked (a large one, or a small
 * allocated one). The world is stopped.
 */
bool gcheap_marked(struct gcheap *heap, unsigned long addr)
{
	unsigned long off = addr - heap->base, idx;
	struct gcheap_span *span;
	u8 state;

	if (off >= heap->npages << GCHEAP_PAGE_SHIFT)
		return false;
	span = object_at(heap, off, &idx, &state);
	return span && test_bit(idx, gcheap_span_mark_bits(span));
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_marked);
