// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Per-thread cache (Go's mcache): at most one span per span class, handed
 * over whole by the module. Every slot that was free at hand-out belongs to
 * this thread until the span goes back, so allocation is a find-first-set
 * on the cache's own bitmap: no system call, no lock, no atomic. When a
 * span runs out, one GCHEAP_IOC_REFILL gives it back and brings the next.
 *
 * Tiny allocator: noscan requests under 16 bytes are packed into 16-byte
 * blocks of the tiny span class, as in Go.
 *
 * Thread safety: a cache is touched only by its own thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gcheap.h"
#include "internal.h"

struct gch_cspan {
	uintptr_t base;		/* 0: no span cached for this class */
	uint32_t elemsize;
	uint16_t nelems;
	uint16_t word;		/* no free slot in free[] below this word */
	uint16_t nwords;
	uint64_t free[GCHEAP_SPAN_BITS_WORDS];	/* free and ours */
	uint64_t given[GCHEAP_SPAN_BITS_WORDS];	/* free at hand-out */
};

struct gch_mcache {
	struct gch_cspan spans[GCHEAP_NUM_SPAN_CLASSES];
	uintptr_t tiny;		/* current tiny block, 0 if none */
	size_t tiny_off;	/* bytes of it in use */
};

static __thread struct gch_mcache *mcache;
static pthread_key_t mcache_key;
static pthread_once_t mcache_once = PTHREAD_ONCE_INIT;

static int mcache_flush(struct gch_mcache *mc);

/* A thread that exits attached gives its spans back. */
static void mcache_exit(void *arg)
{
	mcache_flush(arg);
	free(arg);
}

/* A forked child has no heap (the mapping is not inherited): start afresh. */
static void mcache_atfork_child(void)
{
	if (gch_heap.fd >= 0)
		close(gch_heap.fd);
	memset(&gch_heap, 0, sizeof(gch_heap));
	gch_heap.fd = -1;
	mcache = NULL;
}

static void mcache_once_init(void)
{
	pthread_key_create(&mcache_key, mcache_exit);
	pthread_atfork(NULL, NULL, mcache_atfork_child);
}

int gch_mcache_attach(void)
{
	struct gch_mcache *mc;

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
	mcache = mc;
	return 0;
}

/* One refill: give back @cs's span (if any) and take a new one. */
static int mcache_refill(struct gch_cspan *cs, unsigned int spanclass)
{
	struct gcheap_refill req = {
		.size = sizeof(req),
		.spanclass = spanclass,
	};

	if (cs->base) {
		req.flags = GCHEAP_REFILL_RETURN;
		req.ret.base = cs->base;
		memcpy(req.ret.free, cs->free, sizeof(req.ret.free));
	}
	if (gch_ioctl(GCHEAP_IOC_REFILL, &req) < 0) {
		/* The module changed nothing: the old span is still ours. */
		return -1;
	}
	cs->base = req.base;
	cs->elemsize = req.elemsize;
	cs->nelems = req.nelems;
	cs->nwords = (req.nelems + 63) / 64;
	cs->word = 0;
	memcpy(cs->free, req.free, sizeof(cs->free));
	memcpy(cs->given, req.free, sizeof(cs->given));
	return 0;
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
	cs = &mc->spans[spanclass];
	for (;;) {
		for (w = cs->word; w < cs->nwords; w++) {
			uint64_t f = cs->free[w];

			if (f) {
				unsigned int bit = __builtin_ctzll(f);

				cs->free[w] = f & (f - 1);
				cs->word = w;
				return (void *)(cs->base + (uintptr_t)(w * 64 + bit) * cs->elemsize);
			}
		}
		cs->word = cs->nwords;
		if (mcache_refill(cs, spanclass) < 0)
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
 * Free @ptr if it is a slot this thread's cache allocated: 0 on success,
 * 1 if the cache does not own it (the module must decide), -1/errno if it
 * is in one of the cache's spans but not a live object of the cache's.
 */
int gch_mcache_free(void *ptr)
{
	struct gch_mcache *mc = mcache;
	uintptr_t p = (uintptr_t)ptr;
	unsigned int spc;

	if (!mc)
		return 1;
	for (spc = 2; spc < GCHEAP_NUM_SPAN_CLASSES; spc++) {
		struct gch_cspan *cs = &mc->spans[spc];
		uintptr_t off;
		unsigned int idx, w;
		uint64_t bit;

		if (!cs->base || p < cs->base || p >= cs->base + (uintptr_t)cs->nelems * cs->elemsize)
			continue;
		if (spc == GCHEAP_TINY_SPANCLASS) {
			errno = EBUSY;
			return -1;
		}
		off = p - cs->base;
		idx = off / cs->elemsize;
		if (off % cs->elemsize) {
			errno = ENOENT;
			return -1;
		}
		w = idx / 64;
		bit = 1ULL << (idx % 64);
		/* Allocated before the cache got the span: the module's to free. */
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
	return 1;
}

/* Give every cached span back. */
static int mcache_flush(struct gch_mcache *mc)
{
	struct gcheap_refill req;
	unsigned int spc;
	int ret = 0;

	for (spc = 0; spc < GCHEAP_NUM_SPAN_CLASSES; spc++) {
		struct gch_cspan *cs = &mc->spans[spc];

		if (!cs->base)
			continue;
		memset(&req, 0, sizeof(req));
		req.size = sizeof(req);
		req.flags = GCHEAP_REFILL_RETURN | GCHEAP_REFILL_NO_NEW;
		req.ret.base = cs->base;
		memcpy(req.ret.free, cs->free, sizeof(req.ret.free));
		if (gch_ioctl(GCHEAP_IOC_REFILL, &req) < 0)
			ret = -1;
		memset(cs, 0, sizeof(*cs));
	}
	mc->tiny = 0;
	mc->tiny_off = 0;
	return ret;
}

int gch_thread_attach(void)
{
	if (gch_heap_ensure() < 0)
		return -1;
	return gch_mcache_attach();
}

int gch_thread_detach(void)
{
	struct gch_mcache *mc = mcache;
	int ret;

	if (!mc)
		return 0;
	ret = mcache_flush(mc);
	pthread_setspecific(mcache_key, NULL);
	mcache = NULL;
	free(mc);
	return ret;
}
