// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The write barrier's slow path (Go's wbBuf, mwbbuf.go): while the barrier
 * is on, gch_store() and GCH_STORE() (gcheap.h) record the slot's old
 * value and the new value here, in a buffer of the calling thread; a full
 * buffer goes to the module with one GCHEAP_IOC_WB_FLUSH, and the stop
 * handler hands what is left over with GCHEAP_IOC_PARK (stw.c).
 *
 * gch_wb_enabled, the flag the inline fast path loads, is one process-wide
 * word that every thread copies from the control page when it attaches and
 * whenever it comes back from GCHEAP_IOC_PARK or GCHEAP_IOC_GC. That is
 * enough because the module changes ctrl->wb_enabled only while the world
 * is stopped: every attached thread is then parked (or is the collector,
 * inside GCHEAP_IOC_GC) and copies the new value before it runs any code
 * of its own again, and a thread that attaches meanwhile waits for the
 * stop's end. All copies made after one stop carry the same value. A copy
 * cannot be stale past the next stop either: a thread still on its way
 * out of a park writes before its handler returns, the stop signal is
 * blocked until then, and the next stop cannot complete (and so cannot
 * change the flag) before that thread has parked again, after its write.
 * The copies made outside the handler (attach, GCHEAP_IOC_GC) can be
 * interrupted by a stop between read and write, and check stw_seq for it
 * (gch_wb_refresh).
 *
 * What the flag does not cover: a thread interrupted between its load of
 * the flag and its store completes that one store as the flag it loaded
 * said. When the stop turns the barrier on, such a store's new value is
 * in the thread's registers or stack, which the stop scans, but the old
 * value it overwrites is not shaded; a collector that relies on the
 * deletion half (stacks scanned once, at the start) must also rescan
 * stacks at mark termination, as the module does (gc.c), or close that
 * window. A move is many stores, whose old values are in no register: an
 * unrecorded gch_memmove() publishes its destination while it runs
 * (move_lo, move_hi), and a stop that turns the barrier on in the middle
 * records every word there before the move goes on (gch_wb_parked), as
 * the move records every word it wrote once it sees the barrier on.
 *
 * Async-signal safety: the stop handler reads the buffer (count, then
 * words) and empties it after a successful park, interrupting this code
 * anywhere. Words are written before the count that covers them, so a
 * park hands over only words that are complete; an append or flush it
 * interrupted may leave words handed over twice, which costs nothing (a
 * word only keeps an object for the current cycle).
 *
 * A buffer is allocated on a thread's first recorded store and freed when
 * it detaches (after a last flush); a thread that is not attached has
 * none, and its store is flushed at once, which the module refuses: a
 * store from a thread that is not attached breaks the barrier's promise,
 * and so does a flush that fails, so both abort with a message rather
 * than let the collector free a live object.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gcheap.h"
#include "internal.h"

struct gch_wbuf {
	unsigned int n;			/* words in w[], read by the stop handler */
	uint64_t w[GCHEAP_WB_MAX];
};

_Static_assert(GCHEAP_WB_MAX % 2 == 0, "a store's two words must fit");

/* The fast path's flag (gcheap.h): exported, default visibility. */
int gch_wb_enabled;

/* Heap addresses, but values in flight: the park hands them over itself. */
static GCH_TLS struct gch_wbuf *wbuf;

/* The destination words of an unrecorded gch_memmove() under way, or 0. */
static GCH_TLS uintptr_t move_lo, move_hi;

/*
 * Copy ctrl->wb_enabled into gch_wb_enabled. Outside the stop handler the
 * copy can be interrupted between its read and its write by a stop that
 * changes the flag (whose park writes the new value first): stw_seq then
 * differs, and the copy is made again. A thread that is not attached is
 * never stopped, so nothing would correct a stale copy of its: it makes
 * none.
 */
void gch_wb_refresh(void)
{
	const struct gcheap_ctrl *ctrl = (const struct gcheap_ctrl *)gch_heap.ctrl;
	uint32_t seq;

	if (!ctrl || !gch_stw_stack_hi())
		return;
	do {
		seq = __atomic_load_n(&ctrl->stw_seq, __ATOMIC_ACQUIRE);
		__atomic_store_n(&gch_wb_enabled,
				 (int)__atomic_load_n(&ctrl->wb_enabled, __ATOMIC_ACQUIRE),
				 __ATOMIC_RELAXED);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	} while (__atomic_load_n(&ctrl->stw_seq, __ATOMIC_ACQUIRE) != seq);
}

static void __attribute__((noreturn)) wb_fatal(int err)
{
	char msg[160];
	int len;

	len = snprintf(msg, sizeof(msg),
		       "gcheap: a pointer store's write barrier could not reach the heap: %s%s\n",
		       strerror(err),
		       err == EPERM ? " (the storing thread is not attached to the heap)" : "");
	if (len > 0 && write(STDERR_FILENO, msg, (size_t)len) < 0)
		len = 0;	/* nothing else to say it with */
	abort();
}

/* Hand @n words to the module; a store's record must never be lost. */
static void flush_words(const uint64_t *w, unsigned int n)
{
	struct gcheap_wb_flush req = {
		.size = sizeof(req), .count = n, .ptrs = (uintptr_t)w,
	};
	unsigned int tries = 0;

	while (gch_ioctl(GCHEAP_IOC_WB_FLUSH, &req) < 0) {
		/* A copy of at most 4 KiB: ENOMEM passes, or the OOM killer ends us. */
		if ((errno == EINTR || errno == ENOMEM) && ++tries < 1000) {
			sched_yield();
			continue;
		}
		wb_fatal(errno);
	}
}

void gch_wb_flush(void)
{
	struct gch_wbuf *b = wbuf;
	unsigned int n;

	if (!b)
		return;
	n = __atomic_load_n(&b->n, __ATOMIC_RELAXED);
	if (n)
		flush_words(b->w, n);
	__atomic_store_n(&b->n, 0, __ATOMIC_RELAXED);
}

static struct gch_wbuf *wbuf_get(void)
{
	struct gch_wbuf *b = wbuf;

	if (likely(b))
		return b;
	/* Only an attached thread keeps a buffer: detaching frees it. */
	if (!gch_stw_stack_hi())
		return NULL;
	b = calloc(1, sizeof(*b));
	__atomic_signal_fence(__ATOMIC_SEQ_CST);	/* zeroed before the handler sees it */
	wbuf = b;
	return b;
}

/* Append @k words (1 or 2); flush when full. */
static void record(const uint64_t *words, unsigned int k)
{
	struct gch_wbuf *b = wbuf_get();
	unsigned int n, i;

	if (unlikely(!b)) {
		flush_words(words, k);
		return;
	}
	n = __atomic_load_n(&b->n, __ATOMIC_RELAXED);
	for (i = 0; i < k; i++)
		b->w[n + i] = words[i];
	/* The words before the count that covers them (see above). */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&b->n, n + k, __ATOMIC_RELAXED);
	if (n + k > GCHEAP_WB_MAX - 2)
		gch_wb_flush();
}

/*
 * Only words that point into the heap can grey anything (the module
 * ignores the rest): a store of or over NULL, or of a pointer elsewhere,
 * costs no room in the buffer.
 */
static bool in_heap(uintptr_t v)
{
	return v - gch_heap.base < gch_heap.end - gch_heap.base;
}

void gch_wb_record(uintptr_t old, uintptr_t new)
{
	uint64_t words[2];
	unsigned int k = 0;

	if (in_heap(old))
		words[k++] = old;
	if (in_heap(new))
		words[k++] = new;
	if (k)
		record(words, k);
}

/* Record every aligned word of [lo, hi) as it is now. */
static void record_range(uintptr_t lo, uintptr_t hi)
{
	uintptr_t a;

	for (a = lo; a < hi; a += 8) {
		uint64_t w = *(const volatile uint64_t *)a;

		if (in_heap(w))
			record(&w, 1);
	}
}

/* A move with the barrier off, which a stop may turn on in its middle. */
static void move_unrecorded(void *dst, const void *src, size_t n, uintptr_t lo, uintptr_t hi)
{
	uintptr_t olo = move_lo, ohi = move_hi;	/* a handler's move inside another */

	/*
	 * The buffer first: the stop handler must not be the one to allocate
	 * it. The range is cleared while it changes, so the handler never sees
	 * the bounds of two moves (an outer move's words it misses then were
	 * on its stack, which mark termination rescans, or are recorded once
	 * it ends).
	 */
	wbuf_get();
	move_lo = 0;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	move_hi = hi;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	move_lo = lo;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	memmove(dst, src, n);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	move_lo = 0;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	move_hi = ohi;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	move_lo = olo;
	/* The new words, if the barrier came on meanwhile (old ones: gch_wb_parked). */
	if (unlikely(__atomic_load_n(&gch_wb_enabled, __ATOMIC_RELAXED)))
		record_range(lo, hi);
}

/*
 * The aligned words overlapping [dst, dst + n), old ones before the move
 * and new ones after it: a slot partly overwritten may hold a pointer
 * made of both. Reading the new words back from dst rather than from src
 * is what an overlapping move needs, and whole aligned words never cross
 * a page, so the bytes beside the range read here are mapped.
 */
void gch_memmove(void *dst, const void *src, size_t n)
{
	uintptr_t lo = (uintptr_t)dst & ~(uintptr_t)7;
	uintptr_t hi = ((uintptr_t)dst + n + 7) & ~(uintptr_t)7;

	if (!n)
		return;
	if (likely(!__atomic_load_n(&gch_wb_enabled, __ATOMIC_RELAXED))) {
		move_unrecorded(dst, src, n, lo, hi);
		return;
	}
	record_range(lo, hi);
	memmove(dst, src, n);
	record_range(lo, hi);
}

/* For the stop handler: the words to hand over with the park. */
void gch_wb_park_words(__u64 *ptrs, __u32 *count)
{
	struct gch_wbuf *b = wbuf;

	*count = b ? __atomic_load_n(&b->n, __ATOMIC_RELAXED) : 0;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	*ptrs = b ? (uintptr_t)b->w : 0;
}

/*
 * The park took them; and the barrier may have changed meanwhile. If it
 * came on while this thread was in an unrecorded move, what the move has
 * yet to overwrite is shaded now (see above).
 */
void gch_wb_parked(bool handed_over)
{
	if (handed_over && wbuf)
		__atomic_store_n(&wbuf->n, 0, __ATOMIC_RELAXED);
	gch_wb_refresh();
	if (move_lo && __atomic_load_n(&gch_wb_enabled, __ATOMIC_RELAXED))
		record_range(move_lo, move_hi);
}

/* Before the thread detaches: its last words, then its buffer. */
void gch_wb_detach(void)
{
	struct gch_wbuf *b = wbuf;

	if (!b)
		return;
	gch_wb_flush();
	wbuf = NULL;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	free(b);
}

/* A forked child: the words were the parent's heap's, the flag too. */
void gch_wb_forked(void)
{
	if (wbuf)
		wbuf->n = 0;
	__atomic_store_n(&gch_wb_enabled, 0, __ATOMIC_RELAXED);
}

/* Test hook (not exported): copy out this thread's recorded words. */
size_t gch_wb_pending(uint64_t *out, size_t max)
{
	struct gch_wbuf *b = wbuf;
	size_t n = b ? b->n : 0;

	if (out && b)
		memcpy(out, b->w, (n < max ? n : max) * sizeof(*out));
	return n;
}
