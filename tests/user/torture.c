// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Shadow-graph torture test of the collector. Four threads each build and
 * rewire a random graph of heap objects (16 B to 40 KiB: scanned nodes with
 * pointer slots, noscan leaves, large objects among both) and keep a copy
 * of it in malloc'd memory, which the collector never sees. Roots are held
 * in every way the collector must honour: in the frames of a deep
 * recursion and in registers, in malloc'd arrays registered with
 * gch_root_add() (moved now and then), through interior pointers only, and
 * behind finalizable objects. After every collection each thread checks
 * every object its shadow says is reachable (header, payload checksum,
 * every pointer slot): a reachable object the collector freed or reused
 * shows up with its id, what it should hold and what it holds. One more
 * graph is shared by all threads under a mutex, so objects point across
 * threads' caches. Finalizers must run exactly once, never while their
 * object is reachable, and find the child their object alone kept intact.
 * The heap must stay bounded by the live set and fall back to almost
 * nothing once every root is dropped.
 *
 * Each thread draws its small sizes from ten size classes of its own
 * (random sizes within each), since a thread's cache keeps up to a batch
 * of spans of every class it has used and the bounds are about the
 * collector, not about the cache.
 *
 * Built as torture_conc (TORTURE_CONCURRENT), the heap is opened in the
 * concurrent mode: collections mark while the other threads keep
 * rewiring their graphs, every pointer store into an object going through
 * the write barrier (GCH_STORE), as in both builds. Background marking is
 * held to gc_cpu_percent=1, so automatic cycles mark for long, mostly by
 * the allocating threads' assists.
 *
 * GCHEAP_TORTURE_SEED sets the seed (printed first; a thread's own choices
 * follow from it, the interleaving of threads does not). GCHEAP_SOAK=1
 * runs longer; GCHEAP_TORTURE_ROUNDS (collections per thread) and
 * GCHEAP_TORTURE_MB (bytes allocated by all threads) override the length.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gcheap.h"
#include "tap.h"
#include "knob.h"

#if defined(__clang__)
#define NOINLINE	__attribute__((noinline))
#else
#define NOINLINE	__attribute__((noinline, noclone))
#endif

#define NTHREADS	4
#define KMAX		6	/* pointer slots of an object, at most */
#define DEPTH		200	/* recursion depth of stack roots and probes */
#define FRAME_EVERY	10	/* every tenth frame of the descent holds roots */
#define FRAME_SLOTS	2
#define NSTACK		((DEPTH / FRAME_EVERY + 1) * FRAME_SLOTS)
#define NRANGE		40	/* root slots in a thread's registered array */
#define NSHARED		24	/* root slots of the shared graph (a global) */
#define PRIV_CAP	2048	/* shadow nodes of a thread's graph */
#define SHARED_CAP	1024
#define PROBE_OBJS	(3 + DEPTH / 50 + 1)
#define FIN_PATIENCE	10	/* collections a dropped finalizable object may take */
#define MAX_DIAG	12	/* diagnostics per thread */
#define MAGIC		0x6c7a
#define LARGE		32768	/* larger objects get spans of their own */
#define KiB		1024ULL
#define MiB		(1024 * KiB)
#define PRIV_LIVE	(768 * KiB)	/* a thread's graph, in shadow bytes */
#define SHARED_LIVE	(192 * KiB)
#define CACHE_SLACK	(4 * MiB)	/* per thread: spans its cache holds */
#define FINAL_BOUND	(4 * MiB)	/* heap_alloc with every root dropped */

/* Size groups of a palette: small, medium, larger, big, then large. */
#define NGROUPS		4
static const unsigned int group_max[NGROUPS] = { 256, 2048, 8192, LARGE };
static const unsigned int group_picks[NGROUPS] = { 4, 3, 2, 1 };
#define PALETTE		10
/* Per mille, cumulative: which group a new object's size comes from. */
static const unsigned int leaf_cut[NGROUPS] = { 600, 850, 950, 970 };
static const unsigned int scan_cut[NGROUPS] = { 850, 970, 990, 995 };

/* Every heap object starts so; then come its pointer slots, then payload. */
struct hdr {
	uint16_t magic;
	uint8_t tag;		/* who made it: thread, shared, carry, probe */
	uint8_t nslots;
	uint32_t id;
	uint64_t seed;		/* of its payload's pattern */
	void *slot[];
};

#define HDR_SIZE	sizeof(struct hdr)
_Static_assert(sizeof(struct hdr) == 16, "a 16-byte header");

/*
 * What the shadow knows of one object. Addresses are integers in malloc'd
 * memory: the shadow never keeps an object alive.
 */
struct snode {
	uintptr_t addr;
	uint64_t seed, sum;	/* sum: checksum of the payload */
	uint32_t size, id;
	uint32_t mark;		/* reachability epoch */
	int32_t next_free;
	int32_t fin;		/* finalizer record of this object, -1 */
	uint8_t nslots, tag, noscan, pinned, used;
	int32_t child[KMAX];	/* shadow index, -1 for NULL */
	uint32_t coff[KMAX];	/* the slot holds child's address + coff */
};

enum { ROOT_STACK, ROOT_RANGE, ROOT_GLOBAL };
static const char *const root_kind[] = { "stack", "registered range", "global range" };

struct sroot {
	void **loc;		/* the word that holds the root; NULL: unusable */
	int32_t node;		/* -1: the word holds NULL */
	uint32_t off;		/* it holds node's address + off */
	uint8_t kind;
};

struct tctx;

struct graph {
	const char *name;
	struct snode *n;
	int32_t cap, free_head, nused;
	int32_t *reach, *next_reach, *stack;	/* reach: every node in use */
	int32_t nreach;
	struct sroot *roots;
	int nroots;
	uint32_t epoch, next_id;
	uint64_t live_bytes, live_target;
	bool dirty;		/* an edge went: reach may hold garbage */
	bool broken;		/* found damaged: left alone from then on */
	struct tctx *fin_owner;	/* whose finalizer records its nodes name */
};

/* One finalizable object F and the child C only it points to. */
struct finrec {
	atomic_int runs;	/* times the finalizer ran */
	atomic_int checked;	/* its first run finished checking */
	atomic_int bad;		/* and found damage, described in msg */
	struct snode f, c;
	unsigned int thread;
	bool dropped;		/* the owner's shadow lost F */
	bool settled;		/* the owner reported on it */
	bool late;		/* the owner said it is late */
	uint64_t dropped_collects;
	char msg[240];
};

struct probe {
	struct snode obj[PROBE_OBJS];
	uintptr_t slot[2];	/* obj[0]'s slots */
	int n;
	uint64_t bytes;
};

struct band {
	uint32_t lo, hi;	/* sizes lo+1 .. hi: one size class */
};

struct tctx {
	unsigned int idx;	/* NTHREADS: the main thread */
	pthread_t tid;
	bool started;
	uint64_t rng;
	struct band band[PALETTE];
	unsigned int group_first[NGROUPS + 1];
	struct graph g;
	void **range;		/* registered root array, malloc'd */
	struct snode carry[3];	/* held only by a recursion argument */
	uintptr_t carry_slot[2];
	int ncarry;
	uint64_t carry_bytes;
	struct finrec *fins;
	int nfins, capfins;
	int *live_fins;		/* records whose F the shadow still reaches */
	int nlive_fins;
	unsigned int round, rounds_done;
	uint64_t round_bytes, collects;
	bool broken;
	/* tallies */
	uint64_t bytes, nalloc, nlarge, nscan, checked, shared_checked, probes;
	uint64_t interior_roots, interior_edges, range_moves;
	unsigned int corrupt, shared_bad, carry_bad, probe_bad, alloc_fail, collect_fail;
	unsigned int root_fail, stats_fail, fin_set_fail, fin_early, fin_twice, fin_bad;
	unsigned int ndiag, max_nodes;
};

static struct {
	uint64_t seed;
	unsigned int rounds;
	uint64_t total, per_round;
} cfg;

static unsigned int nclass;
static size_t class_size[256];

static pthread_mutex_t collect_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static struct graph shared;
static void *shared_slots[NSHARED];	/* a global: scanned only as a root range */

static _Atomic uint64_t explicit_collects, live_total, live_max, peak_inuse, inuse_over;
static atomic_int decoy_runs;

/* What the thread is reading, for the fault handler's report. */
static _Thread_local const struct snode *reading;
static _Thread_local const char *reading_what;
static struct sigaction old_segv, old_bus;

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd(struct tctx *ctx)
{
	return splitmix(&ctx->rng);
}

static unsigned int rndn(struct tctx *ctx, unsigned int n)
{
	return (unsigned int)(rnd(ctx) % n);
}

static const char *who(const struct tctx *ctx, char *buf, size_t len)
{
	if (ctx->idx >= NTHREADS)
		return "main";
	snprintf(buf, len, "thread %u", ctx->idx);
	return buf;
}

static void tdiag(struct tctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tdiag(struct tctx *ctx, const char *fmt, ...)
{
	char buf[512], name[32];
	va_list ap;

	if (ctx->ndiag++ >= MAX_DIAG) {
		if (ctx->ndiag == MAX_DIAG + 1)
			tap_diag("%s: more problems, not shown", who(ctx, name, sizeof(name)));
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	tap_diag("%s: %s", who(ctx, name, sizeof(name)), buf);
}

static void atomic_max(_Atomic uint64_t *a, uint64_t v)
{
	uint64_t old = atomic_load(a);

	while (old < v && !atomic_compare_exchange_weak(a, &old, v))
		;
}

static void live_add(uint64_t bytes)
{
	atomic_max(&live_max, atomic_fetch_add(&live_total, bytes) + bytes);
}

static void live_sub(uint64_t bytes)
{
	atomic_fetch_sub(&live_total, bytes);
}

/* Fault handler: a reachable object whose pages are gone. */
static char *put_str(char *p, char *end, const char *s)
{
	while (*s && p < end)
		*p++ = *s++;
	return p;
}

static char *put_num(char *p, char *end, unsigned long long v, unsigned int base)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n && p < end)
		*p++ = tmp[--n];
	return p;
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	const struct snode *n = reading;
	char buf[400], *p = buf, *end = buf + sizeof(buf) - 1;
	ssize_t r;

	(void)uc;
	if (!n) {
		/* Not ours: the old disposition takes the fault when it recurs. */
		sigaction(sig, sig == SIGBUS ? &old_bus : &old_segv, NULL);
		return;
	}
	p = put_str(p, end, "Bail out! ");
	p = put_str(p, end, sig == SIGBUS ? "SIGBUS" : "SIGSEGV");
	p = put_str(p, end, " at 0x");
	p = put_num(p, end, (uintptr_t)si->si_addr, 16);
	p = put_str(p, end, " touching ");
	p = put_str(p, end, reading_what ? reading_what : "an");
	p = put_str(p, end, " object id ");
	p = put_num(p, end, n->id, 10);
	p = put_str(p, end, " at 0x");
	p = put_num(p, end, n->addr, 16);
	p = put_str(p, end, " (");
	p = put_num(p, end, n->size, 10);
	p = put_str(p, end, " B), reachable in the shadow: the collector freed it");
	*p++ = '\n';
	r = write(STDOUT_FILENO, buf, (size_t)(p - buf));
	(void)r;
	_exit(3);
}

static void install_fault_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
}

/* Payload: a pattern from the object's seed, and its checksum. */
static uint64_t pat_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static uint64_t mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x100000001b3ULL;
	return h ^ (h >> 32);
}

static size_t payload_off(unsigned int nslots)
{
	return HDR_SIZE + 8 * (size_t)nslots;
}

static uint64_t fill_payload(unsigned char *base, const struct snode *n)
{
	size_t off = payload_off(n->nslots), len = n->size - off, words = len / 8, i;
	uint64_t *wp = (uint64_t *)(base + off);
	uint64_t s = n->seed, h = 0xcbf29ce484222325ULL ^ len, w, t = 0;

	for (i = 0; i < words; i++) {
		w = pat_next(&s);
		wp[i] = w;
		h = mix(h, w);
	}
	if (len % 8) {
		w = pat_next(&s);
		memcpy(base + off + words * 8, &w, len % 8);
		memcpy(&t, &w, len % 8);
		h = mix(h, t);
	}
	return h;
}

static uint64_t sum_payload(const struct snode *n)
{
	const unsigned char *base = (const unsigned char *)n->addr;
	size_t off = payload_off(n->nslots), len = n->size - off, words = len / 8, i;
	const uint64_t *wp = (const uint64_t *)(base + off);
	uint64_t h = 0xcbf29ce484222325ULL ^ len, t = 0;

	for (i = 0; i < words; i++)
		h = mix(h, wp[i]);
	if (len % 8) {
		memcpy(&t, base + off + words * 8, len % 8);
		h = mix(h, t);
	}
	return h;
}

/* The first payload byte that differs from the pattern (object offset). */
static size_t first_bad_byte(const struct snode *n, unsigned int *got, unsigned int *exp)
{
	const unsigned char *base = (const unsigned char *)n->addr;
	size_t off = payload_off(n->nslots), i;
	uint64_t s = n->seed, w = 0;
	unsigned char b[8];

	for (i = off; i < n->size; i++) {
		if ((i - off) % 8 == 0) {
			w = pat_next(&s);
			memcpy(b, &w, 8);
		}
		if (base[i] != b[(i - off) % 8]) {
			*got = base[i];
			*exp = b[(i - off) % 8];
			return i;
		}
	}
	*got = *exp = 0;
	return n->size;
}

/* Check an object's header and payload; false with @msg saying what is wrong. */
static bool check_body(const struct snode *n, char *msg, size_t len)
{
	const struct hdr *h = (const struct hdr *)n->addr;
	uint64_t sum;

	reading = n;
	if (h->magic != MAGIC || h->tag != n->tag || h->nslots != n->nslots ||
	    h->id != n->id || h->seed != n->seed) {
		snprintf(msg, len,
			 "header holds magic %#x tag %#x slots %u id %u seed %#llx, "
			 "expected %#x %#x %u %u %#llx", h->magic, h->tag, h->nslots, h->id,
			 (unsigned long long)h->seed, MAGIC, n->tag, n->nslots, n->id,
			 (unsigned long long)n->seed);
		return false;
	}
	sum = sum_payload(n);
	if (sum != n->sum) {
		unsigned int got, exp;
		size_t at = first_bad_byte(n, &got, &exp);

		snprintf(msg, len,
			 "payload checksum %#llx, expected %#llx; byte %zu is %#x, expected %#x",
			 (unsigned long long)sum, (unsigned long long)n->sum, at, got, exp);
		return false;
	}
	return true;
}

static void report_bad(struct tctx *ctx, const char *what, const struct snode *n, const char *msg)
{
	void *base = NULL;
	size_t sz = gch_size((void *)n->addr, &base);
	char heap[96];

	if (sz)
		snprintf(heap, sizeof(heap), "the heap has a %zu B object at %p there", sz, base);
	else
		snprintf(heap, sizeof(heap), "the heap has no object there");
	tdiag(ctx, "%s %s object id %u (%u B, %u slots) at %#llx: %s; %s", what,
	      n->noscan ? "noscan" : "scan", n->id, n->size, n->nslots,
	      (unsigned long long)n->addr, msg, heap);
}

/* Sizes: each thread's palette of size classes, plus large objects. */
static void palette_init(struct tctx *ctx)
{
	unsigned int grp, k = 0, i, c, lo_c, hi_c, tries, min;

	for (grp = 0; grp < NGROUPS; grp++) {
		ctx->group_first[grp] = k;
		/* The classes whose sizes fall in this group: lo_c .. hi_c. */
		min = grp ? group_max[grp - 1] + 1 : 16;
		for (lo_c = 1; lo_c < nclass && class_size[lo_c] < min; lo_c++)
			;
		for (hi_c = lo_c; hi_c + 1 < nclass && class_size[hi_c + 1] <= group_max[grp];
		     hi_c++)
			;
		if (lo_c >= nclass || class_size[lo_c] > group_max[grp])
			continue;
		for (i = 0; i < group_picks[grp] && k < PALETTE; i++) {
			for (tries = 0; tries < 16; tries++) {
				unsigned int j;

				c = lo_c + rndn(ctx, hi_c - lo_c + 1);
				for (j = ctx->group_first[grp]; j < k; j++)
					if (ctx->band[j].hi == class_size[c])
						break;
				if (j == k)
					break;
			}
			ctx->band[k].hi = (uint32_t)class_size[c];
			ctx->band[k].lo = (uint32_t)class_size[c - 1];
			if (ctx->band[k].lo < 15)
				ctx->band[k].lo = 15;
			k++;
		}
	}
	ctx->group_first[NGROUPS] = k;
}

static size_t pick_size(struct tctx *ctx, bool scan)
{
	const unsigned int *cut = scan ? scan_cut : leaf_cut;
	unsigned int r = rndn(ctx, 1000), grp, n;
	const struct band *b;

	for (grp = 0; grp < NGROUPS && r >= cut[grp]; grp++)
		;
	if (grp == NGROUPS)
		return LARGE + 1 + rndn(ctx, 8192);
	while (grp > 0 && ctx->group_first[grp] == ctx->group_first[grp + 1])
		grp--;
	n = ctx->group_first[grp + 1] - ctx->group_first[grp];
	if (!n)
		return 16 + rndn(ctx, 241);
	b = &ctx->band[ctx->group_first[grp] + rndn(ctx, n)];
	return b->lo + 1 + rndn(ctx, b->hi - b->lo);
}

/* A size of at least @min bytes, from the palette if it has one. */
static size_t pick_size_min(struct tctx *ctx, bool scan, size_t min)
{
	size_t size = 0;
	int i;

	for (i = 0; i < 8 && size < min; i++)
		size = pick_size(ctx, scan);
	return size < min ? min : size;
}

static unsigned int pick_nslots(struct tctx *ctx, size_t size)
{
	size_t most = size >= HDR_SIZE + 8 ? (size - HDR_SIZE) / 8 : 0;

	if (most > KMAX)
		most = KMAX;
	return most ? 1 + rndn(ctx, (unsigned int)most) : 0;
}

/* Where in an object of @size bytes a pointer to it points. */
static uint32_t pick_off(struct tctx *ctx, uint32_t size, unsigned int interior_pct)
{
	if (size < 2 || rndn(ctx, 100) >= interior_pct)
		return 0;
	return 1 + rndn(ctx, size - 1);
}

/*
 * Allocate an object, fill its header and payload and describe it in @n.
 * NULL (counted) if the heap refuses.
 */
static void *obj_new(struct tctx *ctx, struct snode *n, bool scan, unsigned int nslots,
		     size_t size, uint8_t tag, uint32_t id)
{
	struct hdr *h;
	unsigned int j;
	void *p;

	n->size = (uint32_t)size;
	n->nslots = (uint8_t)nslots;
	n->noscan = !scan;
	n->tag = tag;
	n->id = id;
	n->seed = rnd(ctx) | 1;
	n->fin = -1;
	n->pinned = 0;
	for (j = 0; j < KMAX; j++) {
		n->child[j] = -1;
		n->coff[j] = 0;
	}
	p = scan ? gch_alloc(size) : gch_alloc_noscan(size);
	if (!p) {
		int err = errno;

		if (ctx->alloc_fail++ < 3)
			tdiag(ctx, "%s of %zu B failed: %s",
			      scan ? "gch_alloc" : "gch_alloc_noscan", size, strerror(err));
		if (ctx->alloc_fail >= 100)
			ctx->broken = true;
		return NULL;
	}
	h = p;
	h->magic = MAGIC;
	h->tag = tag;
	h->nslots = (uint8_t)nslots;
	h->id = id;
	h->seed = n->seed;
	for (j = 0; j < nslots; j++)
		GCH_STORE(h->slot[j], NULL);
	n->sum = fill_payload(p, n);
	n->addr = (uintptr_t)p;
	ctx->bytes += size;
	ctx->round_bytes += size;
	ctx->nalloc++;
	ctx->nlarge += size > LARGE;
	ctx->nscan += scan;
	return p;
}

/* Garbage nobody keeps, to make the heap grow. */
static uint64_t alloc_garbage(struct tctx *ctx, uint64_t bytes)
{
	uint64_t done = 0;

	while (done < bytes) {
		bool scan = rndn(ctx, 2);
		size_t size = pick_size(ctx, scan);
		unsigned char *p = scan ? gch_alloc(size) : gch_alloc_noscan(size);

		if (!p) {
			ctx->alloc_fail++;
			break;
		}
		p[size - 1] = 1;
		done += size;
	}
	ctx->bytes += done;
	ctx->round_bytes += done;
	return done;
}

/* Explicit collections, one at a time, so each is a cycle of its own. */
static int explicit_collect(struct tctx *ctx)
{
	int rc, err;

	pthread_mutex_lock(&collect_lock);
	rc = gch_collect();
	err = errno;
	if (rc == 0)
		atomic_fetch_add(&explicit_collects, 1);
	pthread_mutex_unlock(&collect_lock);
	if (rc == 0) {
		ctx->collects++;
	} else {
		ctx->collect_fail++;
		tdiag(ctx, "gch_collect failed: %s", strerror(err));
	}
	return rc;
}

/* Overwrite the stack below the caller, where dead frames held pointers. */
static NOINLINE void scrub_stack(void)
{
	char buf[8192];

	explicit_bzero(buf, sizeof(buf));
	__asm__ __volatile__("" : : "r"(buf) : "memory");
}

static void sample(struct tctx *ctx)
{
	struct gch_stats st;
	uint64_t bound, lmax;

	if (gch_stats(&st) < 0) {
		ctx->stats_fail++;
		return;
	}
	atomic_max(&peak_inuse, st.heap_inuse);
	lmax = atomic_load(&live_max);
	bound = 4 * lmax + 16 * MiB + CACHE_SLACK * NTHREADS;
	if (st.heap_inuse > bound && atomic_fetch_add(&inuse_over, 1) < 3)
		tdiag(ctx, "heap_inuse %llu KiB over the bound %llu KiB (4 x max live %llu KiB "
		      "+ %llu MiB)", (unsigned long long)st.heap_inuse >> 10,
		      (unsigned long long)bound >> 10, (unsigned long long)lmax >> 10,
		      (unsigned long long)((bound - 4 * lmax) / MiB));
}

/* The shadow graph. */
static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p) {
		printf("Bail out! out of memory for the shadow\n");
		exit(1);
	}
	return p;
}

static void graph_init(struct graph *g, const char *name, int32_t cap, int nroots,
		       uint64_t target)
{
	int32_t i;

	g->name = name;
	g->cap = cap;
	g->n = xcalloc((size_t)cap, sizeof(*g->n));
	g->reach = xcalloc((size_t)cap, sizeof(int32_t));
	g->next_reach = xcalloc((size_t)cap, sizeof(int32_t));
	g->stack = xcalloc((size_t)cap, sizeof(int32_t));
	g->roots = xcalloc((size_t)nroots, sizeof(*g->roots));
	g->nroots = nroots;
	for (i = 0; i < cap; i++)
		g->n[i].next_free = i + 1 < cap ? i + 1 : -1;
	g->free_head = 0;
	for (i = 0; i < nroots; i++)
		g->roots[i].node = -1;
	g->live_target = target;
	g->next_id = 1;
}

static int32_t snode_get(struct graph *g)
{
	int32_t i = g->free_head;
	struct snode *n;

	if (i < 0)
		return -1;
	n = &g->n[i];
	g->free_head = n->next_free;
	memset(n, 0, sizeof(*n));
	n->used = 1;
	n->fin = -1;
	g->nused++;
	return i;
}

static void snode_put(struct graph *g, int32_t i)
{
	g->n[i].used = 0;
	g->n[i].next_free = g->free_head;
	g->free_head = i;
	g->nused--;
}

/* A node the shadow no longer reaches: forget it. */
static void node_forget(struct tctx *ctx, struct graph *g, int32_t i)
{
	struct snode *n = &g->n[i];

	if (n->fin >= 0 && g->fin_owner) {
		struct finrec *r = &g->fin_owner->fins[n->fin];

		r->dropped = true;
		r->dropped_collects = ctx->collects;
	}
	snode_put(g, i);
}

static void check_live_fins(struct tctx *ctx);

/* Mark from the roots; forget what is no longer reached. */
static void recompute(struct tctx *ctx, struct graph *g)
{
	uint32_t ep = ++g->epoch;
	int32_t sp = 0, nr = 0, k, *tmp;
	uint64_t live = 0;
	unsigned int j;

	for (k = 0; k < g->nroots; k++) {
		int32_t i = g->roots[k].node;

		if (i >= 0 && g->n[i].mark != ep) {
			g->n[i].mark = ep;
			g->stack[sp++] = i;
		}
	}
	while (sp) {
		int32_t i = g->stack[--sp];
		const struct snode *n = &g->n[i];

		g->next_reach[nr++] = i;
		live += n->size;
		for (j = 0; j < n->nslots; j++) {
			int32_t c = n->child[j];

			if (c >= 0 && g->n[c].mark != ep) {
				g->n[c].mark = ep;
				g->stack[sp++] = c;
			}
		}
	}
	/* Every node in use is in reach: those not marked now are garbage. */
	for (k = 0; k < g->nreach; k++)
		if (g->n[g->reach[k]].mark != ep)
			node_forget(ctx, g, g->reach[k]);
	tmp = g->reach;
	g->reach = g->next_reach;
	g->next_reach = tmp;
	g->nreach = nr;
	if (live >= g->live_bytes)
		live_add(live - g->live_bytes);
	else
		live_sub(g->live_bytes - live);
	g->live_bytes = live;
	g->dirty = false;
	if (g->fin_owner)
		check_live_fins(g->fin_owner);
}

static void ensure_reach(struct tctx *ctx, struct graph *g)
{
	if (g->dirty)
		recompute(ctx, g);
}

static void node_added(struct graph *g, int32_t i)
{
	g->reach[g->nreach++] = i;
	g->live_bytes += g->n[i].size;
	live_add(g->n[i].size);
}

/* Store @p + @off (or NULL) in a root; the shadow follows. */
static void store_root(struct tctx *ctx, struct graph *g, int ri, int32_t ci, void *p,
		       uint32_t off)
{
	struct sroot *r = &g->roots[ri];

	*r->loc = p ? (char *)p + off : NULL;
	if (r->node >= 0)
		g->dirty = true;
	r->node = p ? ci : -1;
	r->off = p ? off : 0;
	ctx->interior_roots += p && off;
}

static void store_slot(struct tctx *ctx, struct graph *g, int32_t pi, unsigned int j, int32_t ci,
		       void *p, uint32_t off)
{
	struct snode *pn = &g->n[pi];
	struct hdr *h = (struct hdr *)pn->addr;

	reading = pn;
	reading_what = g->name;
	GCH_STORE(h->slot[j], p ? (char *)p + off : NULL);
	reading = NULL;
	if (pn->child[j] >= 0)
		g->dirty = true;
	pn->child[j] = p ? ci : -1;
	pn->coff[j] = p ? off : 0;
	ctx->interior_edges += p && off;
}

/* Random picks, from an up-to-date reach. */
static int32_t pick_parent(struct tctx *ctx, const struct graph *g)
{
	int t;

	for (t = 0; t < 8 && g->nreach; t++) {
		int32_t i = g->reach[rndn(ctx, (unsigned int)g->nreach)];

		if (g->n[i].nslots && !g->n[i].pinned)
			return i;
	}
	return -1;
}

static int32_t pick_target(struct tctx *ctx, const struct graph *g)
{
	int t;

	for (t = 0; t < 8 && g->nreach; t++) {
		int32_t i = g->reach[rndn(ctx, (unsigned int)g->nreach)];

		if (!g->n[i].pinned)
			return i;
	}
	return -1;
}

static int pick_root(struct tctx *ctx, const struct graph *g, bool full)
{
	int t;

	for (t = 0; t < 16; t++) {
		int ri = (int)rndn(ctx, (unsigned int)g->nroots);

		if (g->roots[ri].loc && (!full || g->roots[ri].node >= 0))
			return ri;
	}
	return -1;
}

/* A root slot for a new object: an empty one if a few tries find one. */
static int pick_root_empty(struct tctx *ctx, const struct graph *g)
{
	int t;

	for (t = 0; t < 4; t++) {
		int ri = pick_root(ctx, g, false);

		if (ri >= 0 && g->roots[ri].node < 0)
			return ri;
	}
	return pick_root(ctx, g, false);
}

/* Operations on a graph. Each starts from an up-to-date reach. */
static void op_new(struct tctx *ctx, struct graph *g, uint8_t tag)
{
	int32_t pi = -1, ci;
	int ri = -1;
	unsigned int j = 0, nslots;
	bool scan;
	size_t size;
	void *p;

	if (g->free_head < 0)
		return;
	if (rndn(ctx, 100) < 20 || (pi = pick_parent(ctx, g)) < 0) {
		ri = pick_root_empty(ctx, g);
		if (ri < 0)
			return;
		pi = -1;
	} else {
		j = rndn(ctx, g->n[pi].nslots);
	}
	scan = rndn(ctx, 100) < 45;
	size = pick_size(ctx, scan);
	nslots = scan ? pick_nslots(ctx, size) : 0;
	ci = snode_get(g);
	p = obj_new(ctx, &g->n[ci], scan, nslots, size, tag, g->next_id++);
	if (!p) {
		snode_put(g, ci);
		return;
	}
	/* p, a local, holds the object until it is stored. */
	if (ri >= 0)
		store_root(ctx, g, ri, ci, p, pick_off(ctx, (uint32_t)size, 33));
	else
		store_slot(ctx, g, pi, j, ci, p, pick_off(ctx, (uint32_t)size, 25));
	node_added(g, ci);
}

static void op_rewire(struct tctx *ctx, struct graph *g, uint8_t tag)
{
	int32_t pi = pick_parent(ctx, g), ti = pick_target(ctx, g);

	if (pi < 0 || ti < 0) {
		op_new(ctx, g, tag);
		return;
	}
	/* ti stays reachable: the one store that may cut its path holds it. */
	store_slot(ctx, g, pi, rndn(ctx, g->n[pi].nslots), ti, (void *)g->n[ti].addr,
		   pick_off(ctx, g->n[ti].size, 25));
}

static void op_adopt(struct tctx *ctx, struct graph *g)
{
	int ri = pick_root(ctx, g, false);
	int32_t ti = pick_target(ctx, g);

	if (ri >= 0 && ti >= 0)
		store_root(ctx, g, ri, ti, (void *)g->n[ti].addr, pick_off(ctx, g->n[ti].size, 40));
}

static void op_clear_slot(struct tctx *ctx, struct graph *g)
{
	int32_t pi = pick_parent(ctx, g);
	unsigned int j, k;

	if (pi < 0)
		return;
	j = rndn(ctx, g->n[pi].nslots);
	for (k = 0; k < g->n[pi].nslots; k++, j = (j + 1) % g->n[pi].nslots)
		if (g->n[pi].child[j] >= 0) {
			store_slot(ctx, g, pi, j, -1, NULL, 0);
			return;
		}
}

static void op_drop_root(struct tctx *ctx, struct graph *g)
{
	int ri = pick_root(ctx, g, true);

	if (ri >= 0)
		store_root(ctx, g, ri, -1, NULL, 0);
}

/*
 * One random operation. Below its live target a graph grows (a drop can
 * take a whole subtree, so drops are rarer than additions); above it, or
 * short of shadow nodes, it only drops.
 */
static void step(struct tctx *ctx, struct graph *g, uint8_t tag)
{
	unsigned int r;

	ensure_reach(ctx, g);
	r = rndn(ctx, 100);
	if (g->live_bytes > g->live_target || g->nused + 8 > g->cap)
		r = 86 + r % 14;
	if (r < 66)
		op_new(ctx, g, tag);
	else if (r < 78)
		op_rewire(ctx, g, tag);
	else if (r < 86)
		op_adopt(ctx, g);
	else if (r < 93)
		op_clear_slot(ctx, g);
	else
		op_drop_root(ctx, g);
}

/* Drop every root of @g and forget the whole graph. */
static void drop_all(struct tctx *ctx, struct graph *g)
{
	int k;

	for (k = 0; k < g->nroots; k++) {
		if (g->roots[k].loc)
			store_root(ctx, g, k, -1, NULL, 0);
		g->roots[k].node = -1;
	}
	g->dirty = true;
	ensure_reach(ctx, g);
}

/* Check every object @g reaches and every root; true if all is well. */
static bool verify_graph(struct tctx *ctx, struct graph *g, const char *what)
{
	char msg[320];
	unsigned int bad = 0, j;
	int32_t k;

	ensure_reach(ctx, g);
	for (k = 0; k < g->nroots; k++) {
		const struct sroot *r = &g->roots[k];
		uintptr_t exp, got;

		if (!r->loc)
			continue;
		exp = r->node >= 0 ? g->n[r->node].addr + r->off : 0;
		got = (uintptr_t)*r->loc;
		if (got != exp) {
			bad++;
			tdiag(ctx, "%s root %d (%s) holds %#llx, expected %#llx", what, k,
			      root_kind[r->kind], (unsigned long long)got, (unsigned long long)exp);
		}
	}
	reading_what = what;
	for (k = 0; k < g->nreach; k++) {
		const struct snode *n = &g->n[g->reach[k]];
		const struct hdr *h = (const struct hdr *)n->addr;

		if (!check_body(n, msg, sizeof(msg))) {
			bad++;
			report_bad(ctx, what, n, msg);
			continue;
		}
		for (j = 0; j < n->nslots; j++) {
			int32_t c = n->child[j];
			uintptr_t exp = c >= 0 ? g->n[c].addr + n->coff[j] : 0;
			uintptr_t got = (uintptr_t)h->slot[j];

			if (got == exp)
				continue;
			bad++;
			if (c >= 0)
				snprintf(msg, sizeof(msg),
					 "slot %u holds %#llx, expected %#llx (object id %u + %u)",
					 j, (unsigned long long)got, (unsigned long long)exp,
					 g->n[c].id, n->coff[j]);
			else
				snprintf(msg, sizeof(msg), "slot %u holds %#llx, expected NULL", j,
					 (unsigned long long)got);
			report_bad(ctx, what, n, msg);
		}
	}
	reading = NULL;
	if (bad)
		g->broken = true;
	return bad == 0;
}

/* Check a few objects described outside any graph: @t[0] points to @slot. */
static unsigned int check_group(struct tctx *ctx, const char *what, const struct snode *t, int n,
				const uintptr_t *slot)
{
	char msg[320];
	unsigned int bad = 0, j;
	int k;

	reading_what = what;
	for (k = 0; k < n; k++) {
		const struct hdr *h = (const struct hdr *)t[k].addr;

		if (!check_body(&t[k], msg, sizeof(msg))) {
			bad++;
			report_bad(ctx, what, &t[k], msg);
			continue;
		}
		for (j = 0; j < t[k].nslots; j++) {
			uintptr_t exp = k == 0 && slot ? slot[j] : 0, got = (uintptr_t)h->slot[j];

			if (got != exp) {
				bad++;
				snprintf(msg, sizeof(msg), "slot %u holds %#llx, expected %#llx", j,
					 (unsigned long long)got, (unsigned long long)exp);
				report_bad(ctx, what, &t[k], msg);
			}
		}
	}
	reading = NULL;
	ctx->checked += (uint64_t)n;
	return bad;
}

/*
 * Three objects: a scanned root with two slots, pointing to a large noscan
 * leaf and (through an interior pointer) to a scanned node. Returns the
 * root, held by the caller alone.
 */
static NOINLINE void *build_trio(struct tctx *ctx, struct snode *t, uintptr_t *slot, uint8_t tag,
				 uint64_t *bytes)
{
	void *a, *b, *r;
	uint32_t off;
	size_t size;

	a = obj_new(ctx, &t[1], false, 0, LARGE + 1 + rndn(ctx, 8192), tag, 1);
	if (!a)
		return NULL;
	size = pick_size_min(ctx, true, HDR_SIZE + 8);
	b = obj_new(ctx, &t[2], true, 1, size, tag, 2);
	if (!b)
		return NULL;
	size = pick_size_min(ctx, true, HDR_SIZE + 16);
	r = obj_new(ctx, &t[0], true, 2, size, tag, 0);
	if (!r)
		return NULL;
	off = pick_off(ctx, t[2].size, 100);
	GCH_STORE(((struct hdr *)r)->slot[0], a);
	GCH_STORE(((struct hdr *)r)->slot[1], (char *)b + off);
	slot[0] = (uintptr_t)a;
	slot[1] = (uintptr_t)b + off;
	*bytes = (uint64_t)t[0].size + t[1].size + t[2].size;
	live_add(*bytes);
	return r;
}

/* The objects only the descent's argument holds. */
static void check_carry(struct tctx *ctx, const void *held, int depth)
{
	if (!ctx->ncarry)
		return;
	if (held && (uintptr_t)held != ctx->carry[0].addr) {
		ctx->carry_bad++;
		tdiag(ctx, "the argument at depth %d holds %p, expected %#llx", depth, held,
		      (unsigned long long)ctx->carry[0].addr);
		return;
	}
	ctx->carry_bad += check_group(ctx, "argument-held", ctx->carry, 3, ctx->carry_slot);
}

/*
 * Finalizers. fin_check runs on the library's finalizer thread or in
 * gch_run_finalizers(); it only counts and checks, the owner reports.
 */
static void fin_decoy(void *obj, void *arg)
{
	(void)obj;
	(void)arg;
	atomic_fetch_add(&decoy_runs, 1);
}

static void fin_check(void *obj, void *arg)
{
	struct finrec *r = arg;
	const struct hdr *h = obj;
	char msg[sizeof(r->msg) - 16];
	bool good = true;
	unsigned int j;

	if (atomic_fetch_add(&r->runs, 1) != 0)
		return;
	reading_what = "finalizable";
	if ((uintptr_t)obj != r->f.addr) {
		snprintf(msg, sizeof(msg), "called with %p, expected F at %#llx", obj,
			 (unsigned long long)r->f.addr);
		good = false;
	} else if (!check_body(&r->f, msg, sizeof(msg))) {
		good = false;
	} else if ((uintptr_t)h->slot[0] != r->c.addr + r->f.coff[0]) {
		snprintf(msg, sizeof(msg), "F's slot 0 holds %p, expected %#llx", h->slot[0],
			 (unsigned long long)(r->c.addr + r->f.coff[0]));
		good = false;
	} else {
		for (j = 1; j < r->f.nslots; j++)
			if (h->slot[j]) {
				snprintf(msg, sizeof(msg), "F's slot %u holds %p, expected NULL", j,
					 h->slot[j]);
				good = false;
			}
	}
	if (good) {
		reading_what = "finalizable object's child";
		if (!check_body(&r->c, msg, sizeof(msg)))
			good = false;
	}
	reading = NULL;
	if (!good) {
		snprintf(r->msg, sizeof(r->msg), "%s", msg);
		atomic_store(&r->bad, 1);
	}
	atomic_store(&r->checked, 1);
}

/*
 * F (scanned, finalizer set) and its child C (noscan, only F points to it),
 * linked from a root or a node. noinline, so F's address dies with this
 * frame.
 */
static NOINLINE void op_fin(struct tctx *ctx)
{
	struct graph *g = &ctx->g;
	uint8_t tag = (uint8_t)ctx->idx;
	gch_finalizer_fn ofn = NULL;
	void *c, *f, *oarg = NULL;
	int32_t fi, ci, pi = -1;
	int ri = -1, rc;
	unsigned int j = 0;
	struct finrec *rec;
	uint32_t coff;
	size_t size;

	ensure_reach(ctx, g);
	if (ctx->nfins >= ctx->capfins || g->nused + 2 > g->cap)
		return;
	if (rndn(ctx, 100) < 40 || (pi = pick_parent(ctx, g)) < 0) {
		ri = pick_root(ctx, g, false);
		if (ri < 0)
			return;
		pi = -1;
	} else {
		j = rndn(ctx, g->n[pi].nslots);
	}
	rec = &ctx->fins[ctx->nfins];
	ci = snode_get(g);
	c = obj_new(ctx, &g->n[ci], false, 0, pick_size(ctx, false), tag, g->next_id++);
	if (!c) {
		snode_put(g, ci);
		return;
	}
	fi = snode_get(g);
	size = pick_size_min(ctx, true, HDR_SIZE + 8);
	f = obj_new(ctx, &g->n[fi], true, 1 + rndn(ctx, 2) * (size >= HDR_SIZE + 16), size, tag,
		    g->next_id++);
	if (!f) {
		snode_put(g, fi);
		snode_put(g, ci);
		return;
	}
	coff = pick_off(ctx, g->n[ci].size, 30);
	GCH_STORE(((struct hdr *)f)->slot[0], (char *)c + coff);
	g->n[fi].child[0] = ci;
	g->n[fi].coff[0] = coff;
	g->n[fi].pinned = g->n[ci].pinned = 1;
	memset(rec, 0, sizeof(*rec));
	atomic_init(&rec->runs, 0);
	atomic_init(&rec->checked, 0);
	atomic_init(&rec->bad, 0);
	rec->f = g->n[fi];
	rec->c = g->n[ci];
	rec->thread = ctx->idx;
	if (ctx->nfins % 2) {
		/* Replace a decoy, which must never run, and get it back. */
		rc = gch_set_finalizer(f, fin_decoy, NULL);
		if (!rc)
			rc = gch_set_finalizer_ex(f, fin_check, rec, 0, &ofn, &oarg);
		if (!rc && (ofn != fin_decoy || oarg != NULL)) {
			ctx->fin_set_fail++;
			tdiag(ctx, "gch_set_finalizer_ex returned the old finalizer %s, arg %p",
			      ofn == fin_decoy ? "right" : "wrong", oarg);
		}
	} else {
		rc = gch_set_finalizer(f, fin_check, rec);
	}
	if (rc) {
		int err = errno;

		ctx->fin_set_fail++;
		tdiag(ctx, "setting a finalizer failed: %s", strerror(err));
		gch_set_finalizer(f, NULL, NULL);	/* no decoy left behind */
	} else {
		ctx->live_fins[ctx->nlive_fins++] = ctx->nfins;
		g->n[fi].fin = ctx->nfins++;
	}
	/* f, a local, holds F (and F holds C) until F is linked. */
	if (ri >= 0)
		store_root(ctx, g, ri, fi, f, pick_off(ctx, g->n[fi].size, 33));
	else
		store_slot(ctx, g, pi, j, fi, f, pick_off(ctx, g->n[fi].size, 25));
	node_added(g, fi);
	node_added(g, ci);
}

/*
 * Right after the shadow is recomputed it matches the heap, and an F it
 * reaches has been reachable since it was made: its finalizer must not
 * have run.
 */
static void check_live_fins(struct tctx *ctx)
{
	int k = 0;

	while (k < ctx->nlive_fins) {
		struct finrec *r = &ctx->fins[ctx->live_fins[k]];

		if (r->dropped) {
			ctx->live_fins[k] = ctx->live_fins[--ctx->nlive_fins];
			continue;
		}
		if (!r->settled && atomic_load(&r->runs)) {
			ctx->fin_early++;
			r->settled = true;
			tdiag(ctx, "the finalizer of object id %u at %#llx ran while it was "
			      "reachable", r->f.id, (unsigned long long)r->f.addr);
		}
		k++;
	}
}

/* The owner's view of its finalizers, from an up-to-date shadow. */
static void check_fins(struct tctx *ctx)
{
	int k;

	ensure_reach(ctx, &ctx->g);
	check_live_fins(ctx);
	for (k = 0; k < ctx->nfins; k++) {
		struct finrec *r = &ctx->fins[k];
		int runs;

		if (r->settled)
			continue;
		runs = atomic_load(&r->runs);
		if (!r->dropped)
			continue;	/* check_live_fins() watches it */
		if (runs > 1) {
			ctx->fin_twice++;
			r->settled = true;
			tdiag(ctx, "the finalizer of object id %u ran %d times", r->f.id, runs);
		} else if (runs == 1 && atomic_load(&r->checked)) {
			r->settled = true;
			if (atomic_load(&r->bad)) {
				ctx->fin_bad++;
				tdiag(ctx, "finalizer of object id %u at %#llx, child id %u at "
				      "%#llx: %s", r->f.id, (unsigned long long)r->f.addr, r->c.id,
				      (unsigned long long)r->c.addr, r->msg);
			}
		} else if (!runs && !r->late &&
			   ctx->collects - r->dropped_collects >= FIN_PATIENCE) {
			r->late = true;	/* main decides at the end */
			tdiag(ctx, "the finalizer of object id %u has not run %d collections "
			      "after it was dropped", r->f.id, FIN_PATIENCE);
		}
	}
}

/* The shared graph: any thread, under its lock. */
static void shared_steps(struct tctx *ctx)
{
	int k, n = 1 + (int)rndn(ctx, 4);

	pthread_mutex_lock(&shared_lock);
	if (!shared.broken)
		for (k = 0; k < n; k++)
			step(ctx, &shared, (uint8_t)(0x40 | ctx->idx));
	pthread_mutex_unlock(&shared_lock);
}

static void shared_verify(struct tctx *ctx)
{
	pthread_mutex_lock(&shared_lock);
	if (!shared.broken) {
		if (!verify_graph(ctx, &shared, "shared"))
			ctx->shared_bad++;
		ctx->shared_checked += (uint64_t)shared.nreach;
	}
	pthread_mutex_unlock(&shared_lock);
}

/* Move the registered root array: add the new one, then remove the old. */
static void move_range(struct tctx *ctx)
{
	void **old = ctx->range, **nr;
	int j;

	if (!old)
		return;
	nr = malloc(NRANGE * sizeof(*nr));
	if (!nr)
		return;
	memcpy(nr, old, NRANGE * sizeof(*nr));
	if (gch_root_add(nr, nr + NRANGE) < 0) {
		int err = errno;

		ctx->root_fail++;
		tdiag(ctx, "gch_root_add of a moved root array failed: %s", strerror(err));
		free(nr);
		return;
	}
	for (j = 0; j < NRANGE; j++)
		ctx->g.roots[NSTACK + j].loc = &nr[j];
	ctx->range = nr;
	if (gch_root_remove(old, old + NRANGE) < 0) {
		int err = errno;

		ctx->root_fail++;
		tdiag(ctx, "gch_root_remove of the old root array failed: %s", strerror(err));
		return;		/* leave it registered, and allocated */
	}
	memset(old, 0, NRANGE * sizeof(*old));
	free(old);
	ctx->range_moves++;
}

/*
 * A probe: a few objects held only by a pointer passed down DEPTH frames
 * (and, every 50 frames, by a local array holding one more object),
 * across a collection or enough allocation to start one at the bottom.
 */
static NOINLINE void probe_bottom(struct tctx *ctx)
{
	struct gch_stats st;
	uint64_t gc0, done = 0;

	if (ctx->probes % 2 == 0) {
		alloc_garbage(ctx, 256 * KiB);
		explicit_collect(ctx);
		return;
	}
	/* Allocate until some cycle has run (at most 16 MiB). */
	if (gch_stats(&st) < 0) {
		ctx->stats_fail++;
		return;
	}
	gc0 = st.num_gc;
	while (done < 16 * MiB && !ctx->broken) {
		done += alloc_garbage(ctx, 256 * KiB);
		if (gch_stats(&st) < 0 || st.num_gc != gc0)
			break;
	}
}

static NOINLINE void probe_rec(struct tctx *ctx, struct probe *pb, int depth, void *root)
{
	void *local[2] = { root, NULL };
	int k = -1;

	if (depth % 50 == 25 && pb->n < PROBE_OBJS) {
		bool scan = rndn(ctx, 2);
		size_t size = pick_size(ctx, scan);

		k = pb->n;
		local[1] = obj_new(ctx, &pb->obj[k], scan, 0, size, (uint8_t)(0xa0 | ctx->idx),
				   (uint32_t)(100 + depth));
		if (local[1]) {
			pb->n++;
			pb->bytes += size;
			live_add(size);
		} else {
			k = -1;
		}
	}
	if (depth == 0)
		probe_bottom(ctx);
	else
		probe_rec(ctx, pb, depth - 1, local[0]);
	if (k >= 0) {
		if ((uintptr_t)local[1] != pb->obj[k].addr) {
			ctx->probe_bad++;
			tdiag(ctx, "probe: the local at depth %d holds %p, expected %#llx", depth,
			      local[1], (unsigned long long)pb->obj[k].addr);
		} else {
			ctx->probe_bad += check_group(ctx, "stack-held", &pb->obj[k], 1, NULL);
		}
	}
	if (depth % 40 == 0) {
		if ((uintptr_t)local[0] != pb->obj[0].addr) {
			ctx->probe_bad++;
			tdiag(ctx, "probe: the argument at depth %d holds %p, expected %#llx",
			      depth, local[0], (unsigned long long)pb->obj[0].addr);
		} else {
			ctx->probe_bad += check_group(ctx, "stack-held", pb->obj, 3, pb->slot);
		}
	}
}

static NOINLINE void probe(struct tctx *ctx)
{
	struct probe *pb = xcalloc(1, sizeof(*pb));
	void *root;

	root = build_trio(ctx, pb->obj, pb->slot, (uint8_t)(0xa0 | ctx->idx), &pb->bytes);
	if (root) {
		pb->n = 3;
		probe_rec(ctx, pb, DEPTH, root);
	}
	live_sub(pb->bytes);
	ctx->probes++;
	free(pb);
}

/* A thread's work, at the bottom of its descent, where every root slot exists. */
static NOINLINE void run_rounds(struct tctx *ctx)
{
	struct graph *g = &ctx->g;
	unsigned int round;

	for (round = 0; round < cfg.rounds && !ctx->broken; round++) {
		ctx->round = round;
		ctx->round_bytes = 0;
		op_fin(ctx);
		scrub_stack();
		while (ctx->round_bytes < cfg.per_round && !ctx->broken) {
			unsigned int r = rndn(ctx, 4096);

			if (r < 64)
				shared_steps(ctx);
			else if (r == 64)
				explicit_collect(ctx);
			else if (r == 65) {
				op_fin(ctx);
				scrub_stack();
			} else
				step(ctx, g, (uint8_t)ctx->idx);
		}
		if (round % 10 == 5)
			probe(ctx);
		if (round % 8 == 3)
			move_range(ctx);
		if ((unsigned int)g->nused > ctx->max_nodes)
			ctx->max_nodes = (unsigned int)g->nused;
		sample(ctx);
		scrub_stack();
		explicit_collect(ctx);
		gch_run_finalizers();
		sample(ctx);
		if (!verify_graph(ctx, g, "private")) {
			ctx->corrupt++;
			ctx->broken = true;
		}
		ctx->checked += (uint64_t)g->nreach;
		check_carry(ctx, NULL, -1);
		check_fins(ctx);
		shared_verify(ctx);
		if (!ctx->broken)
			ctx->rounds_done++;
	}
	drop_all(ctx, g);
	check_fins(ctx);
}

/*
 * The descent: DEPTH frames, every FRAME_EVERY-th holding FRAME_SLOTS root
 * slots of the thread's graph, each passing @carry down (the only
 * reference to three objects) and checking it on the way back.
 */
static NOINLINE void descend(struct tctx *ctx, int depth, void *carry)
{
	void *frame[FRAME_SLOTS] = { NULL };
	int base = -1, j;

	if (depth % FRAME_EVERY == 0) {
		base = depth / FRAME_EVERY * FRAME_SLOTS;
		for (j = 0; j < FRAME_SLOTS; j++)
			ctx->g.roots[base + j].loc = &frame[j];
	}
	if (depth == 0)
		run_rounds(ctx);
	else
		descend(ctx, depth - 1, carry);
	if (base >= 0)
		for (j = 0; j < FRAME_SLOTS; j++) {
			if (frame[j])
				tdiag(ctx, "stack root %d still holds %p", base + j, frame[j]);
			ctx->g.roots[base + j].loc = NULL;
		}
	if (depth % 50 == 0)
		check_carry(ctx, carry, depth);
}

static void *worker(void *arg)
{
	struct tctx *ctx = arg;
	void *carry;
	int j;

	ctx->range = calloc(NRANGE, sizeof(void *));
	if (ctx->range && gch_root_add(ctx->range, ctx->range + NRANGE) == 0) {
		for (j = 0; j < NRANGE; j++)
			ctx->g.roots[NSTACK + j].loc = &ctx->range[j];
	} else {
		int err = errno;

		ctx->root_fail++;
		tdiag(ctx, "gch_root_add of the root array failed: %s", strerror(err));
		free(ctx->range);
		ctx->range = NULL;
	}
	carry = build_trio(ctx, ctx->carry, ctx->carry_slot, (uint8_t)(0x80 | ctx->idx),
			   &ctx->carry_bytes);
	ctx->ncarry = carry ? 3 : 0;
	descend(ctx, DEPTH, carry);
	check_carry(ctx, carry, DEPTH + 1);
	live_sub(ctx->carry_bytes);
	if (ctx->range) {
		if (gch_root_remove(ctx->range, ctx->range + NRANGE) < 0) {
			int err = errno;

			ctx->root_fail++;
			tdiag(ctx, "gch_root_remove of the root array failed: %s", strerror(err));
		} else {
			free(ctx->range);
		}
		ctx->range = NULL;
	}
	return NULL;
}

static struct tctx *tctx_new(unsigned int idx)
{
	struct tctx *ctx = xcalloc(1, sizeof(*ctx));
	int k;

	ctx->idx = idx;
	ctx->rng = cfg.seed ^ (0x1234567ULL * (idx + 1));
	splitmix(&ctx->rng);
	if (idx >= NTHREADS)
		return ctx;
	palette_init(ctx);
	graph_init(&ctx->g, "private", PRIV_CAP, NSTACK + NRANGE, PRIV_LIVE);
	ctx->g.fin_owner = ctx;
	for (k = 0; k < NSTACK + NRANGE; k++)
		ctx->g.roots[k].kind = k < NSTACK ? ROOT_STACK : ROOT_RANGE;
	ctx->capfins = (int)(cfg.rounds + cfg.rounds / 2 + 8);
	ctx->fins = xcalloc((size_t)ctx->capfins, sizeof(*ctx->fins));
	ctx->live_fins = xcalloc((size_t)ctx->capfins, sizeof(*ctx->live_fins));
	return ctx;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	unsigned long long v;
	char *end;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end) {
		tap_diag("ignoring %s=%s", name, s);
		return def;
	}
	return v;
}

static bool all_fins_ran(struct tctx *const *t)
{
	int i, k;

	for (i = 0; i < NTHREADS; i++)
		for (k = 0; k < t[i]->nfins; k++) {
			struct finrec *r = &t[i]->fins[k];

			if (!atomic_load(&r->runs) || !atomic_load(&r->checked))
				return false;
		}
	return true;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	struct tctx *t[NTHREADS], *mc;
	struct gch_heap_info info;
	struct gch_stats st0 = { 0 }, st1 = { 0 };
	struct gch_options opts = { 0 };
	uint64_t total = 0, nalloc = 0, nlarge = 0, nscan = 0, probes = 0, moves = 0;
	uint64_t shared_checked = 0, iroots = 0, iedges = 0;
	unsigned int shared_bad = 0, carry_bad = 0, probe_bad = 0, alloc_fail = 0;
	unsigned int collect_fail = 0, root_fail = 0, stats_fail = 0, fin_set_fail = 0;
	unsigned int fin_early = 0, nfins = 0, fin_once = 0, fin_twice = 0, fin_missing = 0;
	unsigned int fin_bad = 0, max_nodes = 0;
	bool shared_ok = false, stats_ok;
	int i, k, created = 0;
	bool soak = getenv("GCHEAP_SOAK") != NULL;
	unsigned int c;
	double t0;

	cfg.seed = env_u64("GCHEAP_TORTURE_SEED", 0x70127u);
	cfg.rounds = (unsigned int)env_u64("GCHEAP_TORTURE_ROUNDS", soak ? 200 : 50);
	cfg.total = env_u64("GCHEAP_TORTURE_MB", soak ? 2048 : 256) * MiB;
	if (cfg.rounds < 1)
		cfg.rounds = 1;
	cfg.per_round = cfg.total / NTHREADS / cfg.rounds;
	if (cfg.per_round < 64 * KiB)
		cfg.per_round = 64 * KiB;
	tap_diag("seed %#llx (GCHEAP_TORTURE_SEED reproduces it); %d threads, %u rounds each, "
		 "%llu MiB to allocate",
		 (unsigned long long)cfg.seed, NTHREADS, cfg.rounds,
		 (unsigned long long)(cfg.total / MiB));

	/*
	 * The scavenger at its most aggressive: no idle memory kept, all the
	 * CPU it wants, so it races refills, large objects, marking and
	 * sweeping for the heap's pages all the time.
	 */
	ok(knob_set("scavenge_percent", "100") == 0 &&
	   knob_set("scavenge_retain_percent", "0") == 0, "scavenger at 100 %%, retaining nothing");
#ifdef TORTURE_CONCURRENT
	opts.flags = GCH_INIT_CONCURRENT;
	/* Long marks: automatic cycles' background marking at its smallest share. */
	ok(knob_set("gc_cpu_percent", "1") == 0, "gc_cpu_percent set to 1");
#endif
	if (!ok(gch_init(&opts) == 0, "gch_init%s", opts.flags ? " (concurrent mode)" : ""))
		return tap_done();
	memset(&info, 0, sizeof(info));
	k = gch_heap_info(&info);
	if (!ok(k == 0 && info.num_size_classes > 2 &&
		info.num_size_classes <= sizeof(class_size) / sizeof(class_size[0]),
		"the heap's size classes (%u)", info.num_size_classes))
		return tap_done();
	nclass = info.num_size_classes;
	for (c = 1; c < nclass; c++)
		class_size[c] = gch_class_size(c);
	install_fault_handler();
	stats_ok = gch_stats(&st0) == 0;

	graph_init(&shared, "shared", SHARED_CAP, NSHARED, SHARED_LIVE);
	if (ok(gch_root_add(shared_slots, shared_slots + NSHARED) == 0,
	       "a global table of %d roots registered with gch_root_add", NSHARED)) {
		shared_ok = true;
		for (k = 0; k < NSHARED; k++) {
			shared.roots[k].loc = &shared_slots[k];
			shared.roots[k].kind = ROOT_GLOBAL;
		}
	}
	mc = tctx_new(NTHREADS);
	for (i = 0; i < NTHREADS; i++) {
		char line[160];
		int n = 0, b;

		t[i] = tctx_new((unsigned int)i);
		for (b = 0; b < (int)t[i]->group_first[NGROUPS] && n < (int)sizeof(line) - 8; b++)
			n += snprintf(line + n, sizeof(line) - (size_t)n, " %u", t[i]->band[b].hi);
		tap_diag("thread %d: size classes%s, and large objects", i, line);
	}
	t0 = now();
	for (i = 0; i < NTHREADS; i++) {
		int err = gch_pthread_create(&t[i]->tid, NULL, worker, t[i]);

		if (err)
			tap_diag("gch_pthread_create: %s", strerror(err));
		else
			created++;
		t[i]->started = !err;
	}
	ok(created == NTHREADS, "%d threads started with gch_pthread_create", created);
	for (i = 0; i < NTHREADS; i++)
		if (t[i]->started)
			pthread_join(t[i]->tid, NULL);
	tap_diag("threads done in %.1f s", now() - t0);

	for (i = 0; i < NTHREADS; i++) {
		struct tctx *x = t[i];

		ok(x->started && x->rounds_done == cfg.rounds && x->corrupt == 0,
		   "thread %d: %u of %u rounds, a collection each, then every object its shadow "
		   "reaches (%llu in all, up to %u at once) intact", i, x->rounds_done, cfg.rounds,
		   (unsigned long long)x->checked, x->max_nodes);
		total += x->bytes;
		nalloc += x->nalloc;
		nlarge += x->nlarge;
		nscan += x->nscan;
		probes += x->probes;
		moves += x->range_moves;
		shared_checked += x->shared_checked;
		iroots += x->interior_roots;
		iedges += x->interior_edges;
		shared_bad += x->shared_bad;
		carry_bad += x->carry_bad;
		probe_bad += x->probe_bad;
		alloc_fail += x->alloc_fail;
		collect_fail += x->collect_fail;
		root_fail += x->root_fail;
		stats_fail += x->stats_fail;
		fin_set_fail += x->fin_set_fail;
		fin_early += x->fin_early;
		if (x->max_nodes > max_nodes)
			max_nodes = x->max_nodes;
	}
	tap_diag("%llu interior pointers stored in roots, %llu in objects; root arrays moved "
		 "%llu times; largest graph %u objects", (unsigned long long)iroots,
		 (unsigned long long)iedges, (unsigned long long)moves, max_nodes);
	ok(shared_ok && shared_bad == 0 && shared_checked > 0,
	   "shared graph (cross-thread pointers, global roots): %llu objects checked, none damaged",
	   (unsigned long long)shared_checked);
	ok(carry_bad == 0, "objects held only by an argument passed down %d frames stayed intact",
	   DEPTH);
	ok(probes > 0 && probe_bad == 0,
	   "%llu probes: objects held only on the stack %d frames down, across a collection, "
	   "intact", (unsigned long long)probes, DEPTH);
	ok(alloc_fail == 0, "%llu allocations (%llu scanned, %llu large), none failed (%u)",
	   (unsigned long long)nalloc, (unsigned long long)nscan, (unsigned long long)nlarge,
	   alloc_fail);
	ok(root_fail == 0, "root arrays added, moved and removed without error (%u errors)",
	   root_fail);

	/* Drop the shared graph and its roots. */
	pthread_mutex_lock(&shared_lock);
	drop_all(mc, &shared);
	pthread_mutex_unlock(&shared_lock);
	if (shared_ok)
		ok(gch_root_remove(shared_slots, shared_slots + NSHARED) == 0,
		   "the global root table removed");

	/* Every dropped finalizable object is finalized, within a few collections. */
	scrub_stack();
	for (i = 0; i < FIN_PATIENCE && !all_fins_ran(t); i++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		explicit_collect(mc);
		gch_run_finalizers();
		nanosleep(&ts, NULL);
	}
	for (i = 0; i < NTHREADS; i++)
		for (k = 0; k < t[i]->nfins; k++) {
			struct finrec *r = &t[i]->fins[k];
			int runs = atomic_load(&r->runs);

			nfins++;
			if (runs == 0) {
				if (fin_missing++ < 5)
					tap_diag("thread %d: the finalizer of object id %u "
						 "at %#llx never ran", i, r->f.id,
						 (unsigned long long)r->f.addr);
			} else if (runs > 1) {
				fin_twice++;
			} else {
				fin_once++;
			}
			if (atomic_load(&r->bad)) {
				fin_bad++;
				if (!r->settled)
					tap_diag("thread %d: finalizer of object id %u: %s", i,
						 r->f.id, r->msg);
			}
		}
	ok(nfins > 0 && fin_set_fail == 0,
	   "%u finalizers set, half replacing another (returned as the old one); %u failures",
	   nfins, fin_set_fail);
	ok(fin_early == 0, "no finalizer ran while its object was reachable (%u did)", fin_early);
	ok(fin_missing == 0,
	   "every dropped finalizable object was finalized within %d collections (%u were not)",
	   FIN_PATIENCE, fin_missing);
	ok(fin_twice == 0 && atomic_load(&decoy_runs) == 0,
	   "%u finalizers ran once, none more (%u did); replaced ones never ran (%d did)",
	   fin_once, fin_twice, atomic_load(&decoy_runs));
	ok(fin_bad == 0,
	   "each finalizer found its object, and the child only it kept, intact (%u did not)",
	   fin_bad);

	/* Nothing is reachable now: the heap must come back to almost nothing. */
	scrub_stack();
	explicit_collect(mc);
	explicit_collect(mc);
	collect_fail += mc->collect_fail;
	stats_ok = stats_ok && gch_stats(&st1) == 0 && stats_fail == 0;
	ok(stats_ok, "gch_stats");
	ok(collect_fail == 0, "%llu explicit collections, none failed (%u did)",
	   (unsigned long long)atomic_load(&explicit_collects), collect_fail);
	ok(atomic_load(&inuse_over) == 0,
	   "heap_inuse stayed within 4 x the max live set (%llu KiB) + %llu MiB: peak %llu KiB",
	   (unsigned long long)atomic_load(&live_max) >> 10,
	   (unsigned long long)((16 * MiB + CACHE_SLACK * NTHREADS) / MiB),
	   (unsigned long long)atomic_load(&peak_inuse) >> 10);
	ok(atomic_load(&peak_inuse) > 0 && total >= 8 * atomic_load(&peak_inuse),
	   "%llu MiB allocated, at least 8 x the peak heap_inuse (%llu KiB)",
	   (unsigned long long)(total / MiB), (unsigned long long)atomic_load(&peak_inuse) >> 10);
	ok(stats_ok && st1.num_gc - st0.num_gc >= atomic_load(&explicit_collects),
	   "num_gc grew by %llu, at least the %llu explicit collections",
	   (unsigned long long)(st1.num_gc - st0.num_gc),
	   (unsigned long long)atomic_load(&explicit_collects));
	ok(stats_ok && st1.stw_timeouts == 0, "no stop-the-world timed out (%llu did)",
	   (unsigned long long)st1.stw_timeouts);
	ok(stats_ok && st1.heap_alloc < FINAL_BOUND,
	   "every root dropped, two collections: heap_alloc %llu KiB, under %llu KiB",
	   (unsigned long long)st1.heap_alloc >> 10, (unsigned long long)FINAL_BOUND >> 10);
	ok(stats_ok && st1.scav_background + st1.scav_sync > st0.scav_background + st0.scav_sync,
	   "the scavenger ran throughout: %llu MiB in the background, %llu MiB as the heap grew",
	   (unsigned long long)(st1.scav_background - st0.scav_background) / MiB,
	   (unsigned long long)(st1.scav_sync - st0.scav_sync) / MiB);
	if (stats_ok)
		tap_diag("%llu cycles (%llu forced), longest pause %llu us, %llu MiB swept, "
			 "%llu objects freed by the collector, heap_inuse now %llu KiB",
			 (unsigned long long)(st1.num_gc - st0.num_gc),
			 (unsigned long long)(st1.num_forced_gc - st0.num_forced_gc),
			 (unsigned long long)st1.pause_max_ns / 1000,
			 (unsigned long long)(st1.swept_bytes - st0.swept_bytes) / MiB,
			 (unsigned long long)(st1.freed_objects - st0.freed_objects),
			 (unsigned long long)st1.heap_inuse >> 10);
	return tap_done();
}
