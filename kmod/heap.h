/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GCHEAP_HEAP_H
#define _GCHEAP_HEAP_H

#include <linux/types.h>
#include <linux/atomic.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/rwsem.h>
#include <linux/wait.h>
#include <linux/kthread.h>
#include <linux/xarray.h>
#include "uapi/gcheap.h"
#include "pagealloc.h"
#include "workers.h"
#include "scavenge.h"

#define GCHEAP_PACER_CONS_HISTORY	5

struct gcheap_span;
struct gcheap_chunk;
struct gcheap_m;
struct gcheap_mark;

/*
 * Go's mcentral: the spans of one span class that no cache holds, split by
 * whether they have a free slot. Swept and unswept sets are selected by
 * sweepgen (index sweepgen / 2 % 2 is swept) so their roles swap each cycle
 * without moving spans. Large spans (classes 0 and 1) are on full lists.
 */
struct gcheap_central {
	spinlock_t lock;	/* the lists, and the bits and state of their spans */
	struct list_head partial[2];
	struct list_head full[2];
};

/*
 * The heap's accounting. Each counter is exact on its own; read while
 * other threads allocate, two counters may be from moments apart.
 */
struct gcheap_counters {
	atomic64_t alloc_bytes;	/* objects allocated; cached spans whole */
	atomic64_t alloc_objects;
	atomic64_t spans_inuse;	/* small-object spans */
	atomic64_t spans_cached;	/* of which held by caches */
	atomic64_t large_objects;
	atomic64_t refills, large_allocs, frees;
	atomic64_t swept_bytes, freed_objects;
	atomic64_t cached_free_bytes;	/* slots caches hold, counted in live_bytes */
	atomic64_t live_bytes;	/* Go's heapLive: marked + allocated since */
	atomic64_t black_bytes;	/* allocated black, or given back marked, this cycle */
};

/* One heap per open file of /dev/gcheap. */
struct gcheap {
	struct mm_struct *mm;	/* owner; mmgrab()ed, never mmget()ed long-term */
	pid_t tgid;		/* owner's thread group, for reports */
	struct inode *inode;	/* private address_space of the user mapping */

	/*
	 * lock (Go's mheap lock), taken rarely: the page allocator, chunk
	 * allocation and the span table's writers (span creation and
	 * destruction), physical pages and their scavenging, the mapping's
	 * state, resident_pages, and the set of
	 * attached threads. Never needed to find a span (arena.c) nor to
	 * hand one to a cache or take it back. Taken before any central or
	 * cache lock, and with mmap_lock held: read by ->fault and
	 * prefault, write by ->mmap and ->close. So whoever holds it never
	 * takes mmap_lock nor touches user memory (a fault on the heap would
	 * take it again).
	 */
	struct mutex lock;
	unsigned long base;	/* user address of the mapping, 0 until mmap */
	unsigned long npages;	/* heap pages the mapping covers */
	bool mapped;		/* the owner's mapping exists */
	const void *vma;	/* that mapping's VMA, only ever compared */
	struct gcheap_pagealloc pa;
	struct gcheap_chunk **chunks;	/* per 4 MiB chunk, published on first use */
	u32 sweepgen;		/* moves only with the world stopped (sweep.c) */
	unsigned long resident_pages;	/* heap pages with physical memory */
	unsigned long arena_top;	/* no page at or above ever had memory */
	long counted_idle;		/* base pages in the module's idle count */
	struct gcheap_scav scav;	/* the scavenger (scavenge.c) */
	struct gcheap_counters cnt;
	struct llist_head dead_spans;	/* DEAD spans whose pages are to go back */
	struct llist_node *dying;	/* taken from dead_spans, being destroyed, under lock */

	struct gcheap_central central[GCHEAP_NUM_SPAN_CLASSES];

	/*
	 * The collector. gc_mutex: one cycle at a time, and the cycle's own
	 * state. special_lock: root ranges, finalizers and links (taken
	 * before heap->lock; the collector holds it while the world is
	 * stopped, so the tables cannot change under the mark).
	 */
	struct mutex gc_mutex;		/* see above */
	struct mutex special_lock;	/* see above */
	struct list_head threads;	/* struct gcheap_m, under lock */
	struct xarray mthreads;		/* tid -> struct gcheap_m, under lock */
	unsigned int nthreads;
	struct page *ctrl_page;		/* the read-only control page */
	struct gcheap_ctrl *ctrl;	/* its kernel address */
	wait_queue_head_t stw_wq;	/* parked threads and the collector */
	int stw_phase;			/* enum gcheap_stw_phase, under lock */
	u64 stw_began;			/* when the last stop began, under lock */
	atomic_t nparked, nscanning;
	/*
	 * The cycle's mark from its scan phase on: the collector's reference.
	 * Written under lock; read under it or with RCU (gcheap_mark_current()).
	 */
	struct gcheap_mark __rcu *mark;
	bool hold_spans;		/* a cycle marks: no span is destroyed, under lock */
	bool marks_dirty;		/* a cycle ended running: clear marks first, under lock */
	struct kthread_work sweep_work;	/* the background sweeper, on workers.w[0] */
	struct gcheap_workers workers;	/* kernel threads charged to the owner */

	struct list_head roots;		/* struct gcheap_root_range, under special_lock */
	unsigned int nroots;
	struct xarray finalizers;	/* object offset / 8 -> struct gcheap_special */
	struct xarray links;		/* link address / 8 -> value (object offset / 8) */
	unsigned long nlinks;		/* entries in links, at most max_links */
	struct list_head final_ready;	/* queued finalizers, under special_lock */
	u64 nfinalizers, nqueued;
	wait_queue_head_t final_wq;

	/* Pacing (pacer.c): set under lock, read without it. */
	int gogc;
	u64 next_gc, last_marked;
	u64 trigger;			/* live_bytes that starts a cycle (next_gc if STW) */
	u64 memory_limit;		/* soft limit on the spans' bytes, or GCHEAP_NO_LIMIT */
	u64 limit_frag;			/* span bytes beyond live, at the last cycle's end */
	bool limiter;			/* collecting took over half the time: the limit yields */
	u64 last_scan_work;		/* bytes the last finished cycle scanned */
	u64 live_at_start;		/* live_bytes as the cycle's mark began */
	/* Bytes allocated per KiB scanned, by the last cycles, newest first. */
	u32 cons_mark[GCHEAP_PACER_CONS_HISTORY];
	/* Statistics of the collector, under lock. */
	u64 num_gc, num_forced_gc, stw_timeouts;
	u64 pause_total_ns, pause_max_ns, last_gc_ns;
	u64 pause_ns[GCHEAP_PAUSE_RING];
};

enum gcheap_stw_phase {
	GCHEAP_STW_NONE,	/* the world runs */
	GCHEAP_STW_STOPPING,	/* threads signalled, parking */
	GCHEAP_STW_SCAN,	/* all parked: each scans its own stack */
	GCHEAP_STW_MARK,	/* stacks scanned; the collector marks and sweeps */
};

struct gcheap *gcheap_create(void);
void gcheap_destroy(struct gcheap *heap);
int gcheap_check_owner(const struct gcheap *heap);
void gcheap_stats(struct gcheap *heap, struct gcheap_stats *st);

/*
 * A cycle marks while the world runs (a CONCURRENT heap): slots handed
 * out are black. Changes with the world stopped, so a refill, which a
 * stop waits for, sees one value throughout; but for a cycle abandoned
 * with the world running (gc.c), after which a refill in flight may
 * still set black bits: the next cycle clears them first (marks_dirty).
 */
static inline bool gcheap_marking(const struct gcheap *heap)
{
	return heap->ctrl && READ_ONCE(heap->ctrl->gc_phase) != GCHEAP_PHASE_OFF;
}

static inline u32 gcheap_sweepgen(const struct gcheap *heap)
{
	return READ_ONCE(heap->sweepgen);
}

/* Swept and unswept lists for sweepgen @sg. */
static inline unsigned int gcheap_swept_idx(u32 sg)
{
	return sg / 2 % 2;
}

static inline unsigned int gcheap_unswept_idx(u32 sg)
{
	return (sg / 2 + 1) % 2;
}

#endif /* _GCHEAP_HEAP_H */
