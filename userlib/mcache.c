// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Per-thread cache (Go's mcache): at most one span per span class, handed
 * over whole by the module. Every slot that was free at hand-out belongs to
 * this thread until the span goes back, so allocation is a find-first-set
 * on the cache's own bitmap: no system call, no lock, no atomic.
 *
 * A system call costs as much as hundreds of allocations, so a refill asks
 * for a batch: enough spans of the class for about GCH_BATCH_OBJECTS
 * objects, but no more than GCH_BATCH_BYTES of them, which bounds what one
 * thread holds unused per class. Spent spans wait in `pending` and go back
 * together in the next refill. One GCHEAP_IOC_REFILL thus serves a
 * thousand small objects rather than one span's worth.
 *
 * Tiny allocator: noscan requests under 16 bytes are packed into 16-byte
 * blocks of the tiny span class, as in Go. The current block outlives the
 * span it came from (the span goes back when spent, the block stays
 * current), so the cache's pointer to it is a root range of its own: once
 * its first objects die the block must not be freed and handed to another
 * thread while this one still carves it (Go's gcMarkTinyAllocs).
 *
 * Reports (uapi: struct gcheap_cache_report): at a cycle's first stop the
 * cache tells the module which of its slots are still free, from the stop
 * handler (stw.c) or from the collecting thread's GCHEAP_IOC_GC
 * (collect.c). The module makes every other slot an ordinary object, so
 * what the thread dropped there is collected though it still holds the
 * span, and the cache owns only the slots it reported from then on
 * (`given` shrinks to `free`). The handler may interrupt this thread
 * anywhere: `busy` covers the code that moves spans or sets a free bit
 * again (a slot freed into the cache would be one the module may just
 * have taken over), and a stop that lands there makes no report; the
 * module then keeps, and scans, every slot of the cache, as it does for
 * a cache that never reports. Taking a slot needs no such care but one:
 * its address is formed, in a register the stop scans, before its bit is
 * cleared, so a slot reported used is reachable from the moment it is;
 * and a slot reported free and taken a moment later is allocated after
 * the report, black to the cycle like every slot a cache takes while it
 * marks.
 *
 * Thread safety: a cache is touched only by its own thread and its stop
 * handler.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gcheap.h"
#include "internal.h"

#define GCH_BATCH_MAX		8	/* spans per class per refill */
#define GCH_BATCH_OBJECTS	1024	/* objects one refill aims to serve */
#define GCH_BATCH_BYTES		65536	/* span bytes one refill may bring */

/* A flush gives back every pending and queued span in one call. */
_Static_assert(2 * GCH_BATCH_MAX - 1 <= GCHEAP_REFILL_MAX_BATCH,
	       "a class's spans must fit one give-back");

/* A span this cache holds. */
struct gch_cspan {
	uintptr_t base;		/* 0: none */
	uint32_t elemsize;
	uint16_t nelems;
	uint16_t word;		/* no free slot in free[] below this word */
	uint16_t nwords;
	uint64_t free[GCHEAP_SPAN_BITS_WORDS];	/* free and ours */
	uint64_t given[GCHEAP_SPAN_BITS_WORDS];	/* free at hand-out */
};

/* Spans of a class beyond the current one; allocated on first need. */
struct gch_spare {
	unsigned int nqueued, npending;
	struct gch_cspan queued[GCH_BATCH_MAX - 1];	/* granted, untouched */
	struct gch_cspan pending[GCH_BATCH_MAX];	/* spent, to give back */
};

struct gch_cclass {
	struct gch_cspan cur;
	struct gch_spare *spare;
};

struct gch_mcache {
	uintptr_t tiny;		/* current tiny block, 0 if none; a root */
	size_t tiny_off;	/* bytes of it in use */
	unsigned int nspans;	/* spans held, all classes */
	unsigned int report_cap;	/* entries `report` has room for */
	struct gcheap_span_return *report;	/* filled by gch_mcache_report() */
	struct gch_cclass cls[GCHEAP_NUM_SPAN_CLASSES];
};

static GCH_TLS struct gch_mcache *mcache;
static GCH_TLS unsigned int busy;	/* spans are moving: no report */

/* Nest; the fences keep this thread's handler from seeing the inside early. */
static inline void busy_enter(void)
{
	busy++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static inline void busy_leave(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	busy--;
}
static pthread_key_t mcache_key;
static pthread_once_t mcache_once = PTHREAD_ONCE_INIT;

static int mcache_flush(struct gch_mcache *mc);

static int tiny_root(struct gch_mcache *mc, unsigned int op)
{
	return gch_root_ioctl(op, (uintptr_t)&mc->tiny, (uintptr_t)(&mc->tiny + 1));
}

static void mcache_free(struct gch_mcache *mc)
{
	unsigned int spc;

	for (spc = 0; spc < GCHEAP_NUM_SPAN_CLASSES; spc++)
		free(mc->cls[spc].spare);
	free(mc->report);
	free(mc);
}

/* A thread that exits attached gives its spans back. */
static void mcache_exit(void *arg)
{
	/* Other destructors that allocate after this one get EPERM, not a freed cache. */
	busy_enter();
	mcache = NULL;
	busy_leave();
	mcache_flush(arg);
	tiny_root(arg, GCHEAP_ROOT_REMOVE);
	mcache_free(arg);
	gch_stw_detach();
}

/* A forked child: the cache's spans are the parent's heap's. */
void gch_mcache_forked(void)
{
	struct gch_mcache *mc = mcache;

	if (!mc)
		return;
	busy_enter();
	mcache = NULL;
	busy_leave();
	pthread_setspecific(mcache_key, NULL);
	mcache_free(mc);
}

static void mcache_once_init(void)
{
	pthread_key_create(&mcache_key, mcache_exit);
}

int gch_mcache_attach(void)
{
	struct gch_mcache *mc;
	int err;

	if (mcache)
		return 0;
	pthread_once(&mcache_once, mcache_once_init);
	mc = calloc(1, sizeof(*mc));
	if (!mc)
		return -1;
	if (pthread_setspecific(mcache_key, mc)) {
		free(mc);
		errno = ENOMEM;
		return -1;
	}
	if (tiny_root(mc, GCHEAP_ROOT_ADD) < 0)
		goto fail;
	if (gch_stw_attach() < 0) {
		err = errno;
		tiny_root(mc, GCHEAP_ROOT_REMOVE);
		errno = err;
		goto fail;
	}
	mcache = mc;
	return 0;
fail:
	err = errno;
	pthread_setspecific(mcache_key, NULL);
	free(mc);
	errno = err;
	return -1;
}

static void cspan_load(struct gch_cspan *cs, uint64_t base, uint32_t elemsize, uint32_t nelems,
		       const __u64 *free)
{
	cs->base = base;
	cs->elemsize = elemsize;
	cs->nelems = nelems;
	cs->nwords = (nelems + 63) / 64;
	cs->word = 0;
	memcpy(cs->free, free, sizeof(cs->free));
	memcpy(cs->given, free, sizeof(cs->given));
}

static void cspan_return(const struct gch_cspan *cs, struct gcheap_span_return *r)
{
	r->base = cs->base;
	memcpy(r->free, cs->free, sizeof(r->free));
}

/* Spans one refill of @spanclass asks for. */
static unsigned int batch_spans(unsigned int spanclass)
{
	const struct gcheap_size_class *sc = &gch_heap.classes[spanclass >> 1];
	unsigned int by_objs = (GCH_BATCH_OBJECTS + sc->nelems - 1) / sc->nelems;
	unsigned int by_bytes = GCH_BATCH_BYTES / (sc->npages * GCHEAP_PAGE_SIZE);
	unsigned int n = by_objs < by_bytes ? by_objs : by_bytes;

	return n < 1 ? 1 : n > GCH_BATCH_MAX ? GCH_BATCH_MAX : n;
}

/* The spans @cc holds, into @out (room for 2 * GCH_BATCH_MAX); how many. */
static unsigned int cclass_held(struct gch_cclass *cc, struct gch_cspan **out)
{
	struct gch_spare *sp = cc->spare;
	unsigned int n = 0, i;

	if (!cc->cur.base)
		return 0;
	out[n++] = &cc->cur;
	for (i = 0; sp && i < sp->npending; i++)
		out[n++] = &sp->pending[i];
	for (i = 0; sp && i < sp->nqueued; i++)
		out[n++] = &sp->queued[i];
	return n;
}

static unsigned int cclass_nspans(const struct gch_cclass *cc)
{
	const struct gch_spare *sp = cc->spare;

	return cc->cur.base ? 1 + (sp ? sp->npending + sp->nqueued : 0) : 0;
}

/*
 * The current span is spent: take the next granted one, or make one
 * GCHEAP_IOC_REFILL that gives back the spent spans and brings a batch.
 */
static int cclass_refill(struct gch_cclass *cc, unsigned int spanclass)
{
	struct gcheap_span_return rets[GCH_BATCH_MAX];
	struct gcheap_span_grant grants[GCH_BATCH_MAX - 1];
	struct gcheap_refill req = { .size = sizeof(req), .spanclass = spanclass };
	unsigned int want = batch_spans(spanclass), i;
	struct gch_spare *sp = cc->spare;

	if (want > 1 && !sp) {
		sp = cc->spare = calloc(1, sizeof(*sp));
		if (!sp)
			want = 1;
	}
	if (sp && sp->nqueued) {
		if (cc->cur.base)
			sp->pending[sp->npending++] = cc->cur;
		cc->cur = sp->queued[--sp->nqueued];
		return 0;
	}
	if (cc->cur.base) {
		req.flags = GCHEAP_REFILL_RETURN;
		cspan_return(&cc->cur, &req.ret);
	}
	if (sp) {
		for (i = 0; i < sp->npending; i++)
			cspan_return(&sp->pending[i], &rets[i]);
		req.nreturn = sp->npending;
		req.returns = (uintptr_t)rets;
		req.ngrant = want - 1;
		req.grants = (uintptr_t)grants;
	}
	/*
	 * On failure the module changed nothing: every span is still ours.
	 * A full heap may only need a collection.
	 */
	if (gch_ioctl(GCHEAP_IOC_REFILL, &req) < 0) {
		if (errno != ENOMEM || gch_gc_for_space() < 0 ||
		    gch_ioctl(GCHEAP_IOC_REFILL, &req) < 0)
			return -1;
	}
	cspan_load(&cc->cur, req.base, req.elemsize, req.nelems, req.free);
	if (sp) {
		sp->npending = 0;
		for (i = 0; i < req.ngrant; i++)
			cspan_load(&sp->queued[i], grants[i].base, grants[i].elemsize,
				   grants[i].nelems, grants[i].free);
		sp->nqueued = req.ngrant;
	}
	return 0;
}

/* Room in the report for every span held; without it, stops go unreported. */
static void report_reserve(struct gch_mcache *mc)
{
	unsigned int cap = mc->nspans * 2;
	void *p;

	if (mc->nspans <= mc->report_cap)
		return;
	p = realloc(mc->report, cap * sizeof(*mc->report));
	if (p) {
		mc->report = p;
		mc->report_cap = cap;
	}
}

static int mcache_refill(struct gch_mcache *mc, unsigned int spanclass)
{
	struct gch_cclass *cc = &mc->cls[spanclass];
	unsigned int before;
	int ret;

	busy_enter();
	before = cclass_nspans(cc);
	ret = cclass_refill(cc, spanclass);
	mc->nspans += cclass_nspans(cc) - before;
	report_reserve(mc);
	busy_leave();
	if (!ret)
		gch_gc_poll();
	return ret;
}

/*
 * This thread's cache as a report (uapi: struct gcheap_cache_report), for
 * a park or a collection; false, and no report, if the thread has no
 * cache, is moving spans, or the report has no room for them. Async-signal
 * safe.
 */
bool gch_mcache_report(struct gcheap_cache_report *r)
{
	struct gch_cspan *held[2 * GCH_BATCH_MAX];
	struct gch_mcache *mc = mcache;
	unsigned int spc, i, k, n = 0;

	if (!mc || busy || mc->nspans > mc->report_cap)
		return false;
	for (spc = 0; spc < GCHEAP_NUM_SPAN_CLASSES; spc++) {
		k = cclass_held(&mc->cls[spc], held);
		for (i = 0; i < k; i++)
			cspan_return(held[i], &mc->report[n++]);
	}
	r->spans = (uintptr_t)mc->report;
	r->nspans = n;
	r->taken = 0;
	return true;
}

/*
 * After the call that carried @r: if the module took it, the cache owns
 * only the slots it reported free. Nothing moved since the report: the
 * thread was inside that call. Async-signal safe.
 */
void gch_mcache_reported(const struct gcheap_cache_report *r)
{
	struct gch_cspan *held[2 * GCH_BATCH_MAX];
	struct gch_mcache *mc = mcache;
	unsigned int spc, i, k;

	if (!r->taken || !mc)
		return;
	for (spc = 0; spc < GCHEAP_NUM_SPAN_CLASSES; spc++) {
		k = cclass_held(&mc->cls[spc], held);
		for (i = 0; i < k; i++)
			memcpy(held[i]->given, held[i]->free, sizeof(held[i]->given));
	}
}

void *gch_mcache_alloc(unsigned int spanclass)
{
	struct gch_mcache *mc = mcache;
	struct gch_cspan *cs;
	unsigned int w;

	if (unlikely(!mc)) {
		errno = EPERM;
		return NULL;
	}
	cs = &mc->cls[spanclass].cur;
	for (;;) {
		for (w = cs->word; w < cs->nwords; w++) {
			uint64_t f = cs->free[w];

			if (f) {
				unsigned int bit = __builtin_ctzll(f);
				void *p = (void *)(cs->base +
						   (uintptr_t)(w * 64 + bit) * cs->elemsize);

				/*
				 * The address is in a register (an opaque one,
				 * never recomputed) before the slot leaves the
				 * free set: a stop that lands in between and
				 * reports the slot used finds it reachable.
				 */
				__asm__ __volatile__("" : "+r"(p) : : "memory");
				cs->free[w] = f & (f - 1);
				cs->word = w;
				return p;
			}
		}
		cs->word = cs->nwords;
		if (mcache_refill(mc, spanclass) < 0)
			return NULL;
	}
}

void *gch_mcache_alloc_tiny(size_t size)
{
	struct gch_mcache *mc = mcache;
	size_t off, align;
	void *block;

	if (unlikely(!mc)) {
		errno = EPERM;
		return NULL;
	}
	/* Align to the largest power of two dividing size, at most 8. */
	align = (size & 7) == 0 ? 8 : (size & 3) == 0 ? 4 : (size & 1) == 0 ? 2 : 1;
	off = (mc->tiny_off + align - 1) & ~(align - 1);
	if (mc->tiny && off + size <= 16) {
		mc->tiny_off = off + size;
		return (void *)(mc->tiny + off);
	}
	block = gch_mcache_alloc(GCHEAP_TINY_SPANCLASS);
	if (!block)
		return NULL;
	/* Keep whichever block has more room left (Go's rule). */
	if (!mc->tiny || size < mc->tiny_off) {
		mc->tiny = (uintptr_t)block;
		mc->tiny_off = size;
	}
	return block;
}

/*
 * Free @ptr in span @cs, which holds it: 0 on success, 1 if the slot was
 * allocated before the cache got the span (the module's to free), -1/errno
 * if it is not a live object of the cache's.
 */
static int cspan_free(struct gch_cspan *cs, void *ptr)
{
	uintptr_t off = (uintptr_t)ptr - cs->base;
	unsigned int idx = off / cs->elemsize, w = idx / 64;
	uint64_t bit = 1ULL << (idx % 64);

	if (off % cs->elemsize) {
		errno = ENOENT;
		return -1;
	}
	if (!(cs->given[w] & bit))
		return 1;
	if (cs->free[w] & bit) {	/* never allocated, or freed already */
		errno = ENOENT;
		return -1;
	}
	/* Slots given back as free must be zero (uapi/gcheap.h). */
	memset(ptr, 0, cs->elemsize);
	cs->free[w] |= bit;
	if (w < cs->word)
		cs->word = w;
	return 0;
}

static bool cspan_holds(const struct gch_cspan *cs, uintptr_t p)
{
	return cs->base && p >= cs->base && p < cs->base + (uintptr_t)cs->nelems * cs->elemsize;
}

/*
 * Free @ptr if it is a slot this thread's cache allocated: 0 on success,
 * 1 if the cache does not own it (the module must decide), -1/errno if it
 * is in one of the cache's spans but not a live object of the cache's.
 */
int gch_mcache_free(void *ptr)
{
	struct gch_mcache *mc = mcache;
	uintptr_t p = (uintptr_t)ptr;
	unsigned int spc, i;
	int ret;

	if (!mc)
		return 1;
	for (spc = 2; spc < GCHEAP_NUM_SPAN_CLASSES; spc++) {
		struct gch_cclass *cc = &mc->cls[spc];
		struct gch_cspan *cs = NULL;

		if (cspan_holds(&cc->cur, p))
			cs = &cc->cur;
		for (i = 0; !cs && cc->spare && i < cc->spare->npending; i++)
			if (cspan_holds(&cc->spare->pending[i], p))
				cs = &cc->spare->pending[i];
		if (!cs)
			continue;
		if (spc == GCHEAP_TINY_SPANCLASS) {
			errno = EBUSY;
			return -1;
		}
		/* Reads `given`, which a report may shrink, then sets a free bit. */
		busy_enter();
		ret = cspan_free(cs, ptr);
		busy_leave();
		return ret;
	}
	return 1;
}

/* Give every span of one class back, in one call. */
static int cclass_flush(struct gch_cclass *cc)
{
	struct gcheap_span_return rets[2 * GCH_BATCH_MAX];
	struct gch_cspan *held[2 * GCH_BATCH_MAX];
	struct gcheap_refill req = {
		.size = sizeof(req),
		.flags = GCHEAP_REFILL_RETURN | GCHEAP_REFILL_NO_NEW,
		.returns = (uintptr_t)rets,
	};
	unsigned int n = cclass_held(cc, held), i;
	int ret;

	if (!n)
		return 0;
	cspan_return(held[0], &req.ret);
	for (i = 1; i < n; i++)
		cspan_return(held[i], &rets[req.nreturn++]);
	ret = gch_ioctl(GCHEAP_IOC_REFILL, &req);
	memset(&cc->cur, 0, sizeof(cc->cur));
	free(cc->spare);
	cc->spare = NULL;
	return ret;
}

/* Give every cached span back. */
static int mcache_flush(struct gch_mcache *mc)
{
	unsigned int spc;
	int ret = 0;

	busy_enter();
	for (spc = 0; spc < GCHEAP_NUM_SPAN_CLASSES; spc++)
		if (cclass_flush(&mc->cls[spc]) < 0)
			ret = -1;
	mc->nspans = 0;
	mc->tiny = 0;
	mc->tiny_off = 0;
	busy_leave();
	return ret;
}

int gch_thread_attach(void)
{
	if (gch_heap_ensure() < 0)
		return -1;
	return gch_mcache_attach();
}

int gch_thread_set_stack(const void *lo, const void *hi)
{
	if (!mcache) {
		errno = EPERM;
		return -1;
	}
	return gch_stw_set_stack((uintptr_t)lo, (uintptr_t)hi);
}

int gch_thread_detach(void)
{
	struct gch_mcache *mc = mcache;
	int ret;

	if (!mc)
		return 0;
	ret = mcache_flush(mc);
	pthread_setspecific(mcache_key, NULL);
	busy_enter();
	mcache = NULL;
	busy_leave();
	if (tiny_root(mc, GCHEAP_ROOT_REMOVE) < 0)
		ret = -1;
	mcache_free(mc);
	if (gch_stw_detach() < 0)
		ret = -1;
	return ret;
}
