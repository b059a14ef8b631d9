// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What the collector scans besides thread stacks and heap objects: root
 * ranges, the data and bss of every loaded object, thread-local storage.
 *
 * Root ranges (gch_root_add, gch_stack_add) are also kept here, so that a
 * forked child's new heap gets them again (heap.c opens it).
 *
 * Static data: the writable PT_LOAD segments, less RELRO, of the program
 * and of every loaded shared object, found with dl_iterate_phdr, as Go and
 * libgc scan them. They are read again at the start of every cycle when
 * objects were loaded or unloaded since (dl_iterate_phdr's adds/subs
 * counters), so a dlopen()ed library's globals are roots from its first
 * cycle on. libgcheap's own variables that hold heap addresses (the
 * heap's bounds: its first object) live in the section gch_noroot, cut out
 * of whatever segment holds it, linked statically or not. Opt out with
 * GCHEAP_NO_STATIC_ROOTS=1; gch_set_static_roots_filter() picks segments.
 *
 * Thread-local storage: glibc puts a thread's static TLS (the program's
 * and its startup libraries' __thread variables) at the top of a pthread's
 * stack block, inside the range every park scans; the main thread's is
 * elsewhere, and dynamic TLS (a dlopen()ed library's, in every thread) is
 * malloc'd by __tls_get_addr when the thread first touches it. So each
 * thread registers as root ranges its TLS blocks that are outside its
 * stack, at attach and before every cycle it runs; and the stop signal's
 * handler copies onto its own stack, inside the range it parks with, any
 * block it has not registered yet (one allocated since). The handler finds
 * the blocks through the thread's DTV (glibc's dtv[modid], as
 * dl_iterate_phdr's dlpi_tls_data does for the calling thread), using a
 * table of modules with TLS that is rebuilt with the static data; a table
 * is never freed (a handler may be reading it), one per change in the set
 * of loaded objects. Where the DTV's layout is not known (not glibc on
 * x86-64 or arm64) only registered blocks are covered. A block the handler
 * cannot fit on its stack, or meets while running on another stack, waits
 * for the thread's next registration; so does a block of an object loaded
 * while a cycle starts.
 *
 * Thread safety: roots_lock guards the range list and the segments, and
 * every dl_iterate_phdr walk of ours (fork must not split one); taken
 * after heap_lock. A thread's TLS list is its own (its handler reads it,
 * so entries are complete before they are counted).
 */
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "gcheap.h"
#include "internal.h"

#define TLS __thread __attribute__((tls_model("initial-exec")))

struct range {
	uintptr_t lo, hi;
};

struct ranges {
	struct range *v;
	size_t n, cap;
};

static pthread_mutex_t roots_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ranges user;		/* gch_root_add, gch_stack_add */
static struct ranges segs;		/* static data registered now */
static unsigned long long seen_adds, seen_subs;
static bool segs_valid;			/* segs matches adds/subs */
static gch_static_roots_filter filter;

/* Modules with TLS; immutable once published. */
struct tls_mod {
	size_t modid, size;
};

struct tls_table {
	size_t n;
	struct tls_mod mod[];
};

static struct tls_table *tls_table;

/* This thread's TLS blocks registered as roots. */
struct tls_list {
	size_t n, cap;
	struct range r[];
};

static TLS struct tls_list *tls_list;

extern char __start_gch_noroot[] __attribute__((weak, visibility("hidden")));
extern char __stop_gch_noroot[] __attribute__((weak, visibility("hidden")));

int gch_root_ioctl(unsigned int op, uintptr_t lo, uintptr_t hi)
{
	struct gcheap_root req = {
		.size = sizeof(req),
		.op = op,
		.lo = lo & ~(uintptr_t)7,
		.hi = (hi + 7) & ~(uintptr_t)7,
	};

	return gch_ioctl(GCHEAP_IOC_ROOT, &req);
}

static int ranges_push(struct ranges *rs, uintptr_t lo, uintptr_t hi)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? 2 * rs->cap : 16;
		struct range *v = realloc(rs->v, cap * sizeof(*v));

		if (!v)
			return -1;
		rs->v = v;
		rs->cap = cap;
	}
	rs->v[rs->n].lo = lo;
	rs->v[rs->n].hi = hi;
	rs->n++;
	return 0;
}

static ssize_t ranges_find(const struct ranges *rs, uintptr_t lo, uintptr_t hi)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (rs->v[i].lo == lo && rs->v[i].hi == hi)
			return (ssize_t)i;
	return -1;
}

static int root_op(unsigned int op, const void *lo, const void *hi)
{
	uintptr_t l = (uintptr_t)lo, h = (uintptr_t)hi;
	ssize_t i;
	int ret;

	if (gch_heap_ensure() < 0)
		return -1;
	pthread_mutex_lock(&roots_lock);
	ret = gch_root_ioctl(op, l, h);
	if (!ret && op == GCHEAP_ROOT_ADD && ranges_push(&user, l, h) < 0) {
		gch_root_ioctl(GCHEAP_ROOT_REMOVE, l, h);
		errno = ENOMEM;
		ret = -1;
	}
	if (!ret && op == GCHEAP_ROOT_REMOVE) {
		i = ranges_find(&user, l, h);
		if (i >= 0)
			user.v[i] = user.v[--user.n];
	}
	pthread_mutex_unlock(&roots_lock);
	return ret < 0 ? -1 : 0;
}

int gch_root_add(const void *lo, const void *hi)
{
	return root_op(GCHEAP_ROOT_ADD, lo, hi);
}

int gch_root_remove(const void *lo, const void *hi)
{
	return root_op(GCHEAP_ROOT_REMOVE, lo, hi);
}

/* A stack is scanned whole, whether a thread runs on it or not. */
int gch_stack_add(const void *lo, const void *hi)
{
	return root_op(GCHEAP_ROOT_ADD, lo, hi);
}

int gch_stack_remove(const void *lo, const void *hi)
{
	return root_op(GCHEAP_ROOT_REMOVE, lo, hi);
}

/* Static data and the TLS table */

struct walk {
	struct ranges segs;
	struct tls_table *tls;
	size_t tls_cap;
	bool first, no_static;
	unsigned long long adds, subs;
	int err;
};

static void walk_add(struct walk *w, const char *name, uintptr_t lo, uintptr_t hi)
{
	if (lo >= hi)
		return;
	if (filter && !filter(name, (void *)lo, hi - lo))
		return;
	if (ranges_push(&w->segs, lo, hi) < 0)
		w->err = ENOMEM;
}

static void walk_tls(struct walk *w, size_t modid, size_t size)
{
	if (!w->tls || w->tls->n == w->tls_cap) {
		size_t cap = w->tls_cap ? 2 * w->tls_cap : 8;
		struct tls_table *t = realloc(w->tls, sizeof(*t) + cap * sizeof(t->mod[0]));

		if (!t) {
			w->err = ENOMEM;
			return;
		}
		if (!w->tls)
			t->n = 0;
		w->tls = t;
		w->tls_cap = cap;
	}
	w->tls->mod[w->tls->n].modid = modid;
	w->tls->mod[w->tls->n].size = size;
	w->tls->n++;
}

static int walk_object(struct dl_phdr_info *info, size_t size, void *data)
{
	struct walk *w = data;
	const char *name = w->first ? "" : info->dlpi_name;
	uintptr_t relro_lo = 0, relro_hi = 0;
	uintptr_t cut_lo = (uintptr_t)__start_gch_noroot, cut_hi = (uintptr_t)__stop_gch_noroot;
	int i;

	if (w->first) {
		w->first = false;
		if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs)) {
			w->adds = info->dlpi_adds;
			w->subs = info->dlpi_subs;
		}
	}
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_GNU_RELRO) {
			relro_lo = info->dlpi_addr + ph->p_vaddr;
			relro_hi = relro_lo + ph->p_memsz;
		}
		if (ph->p_type == PT_TLS && info->dlpi_tls_modid && ph->p_memsz)
			walk_tls(w, info->dlpi_tls_modid, ph->p_memsz);
	}
	for (i = 0; !w->no_static && i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
			continue;
		/* RELRO is read-only once relocated: no heap pointer in it. */
		if (relro_lo <= lo && lo < relro_hi)
			lo = relro_hi;
		if (cut_lo < cut_hi && lo <= cut_lo && cut_hi <= hi) {
			walk_add(w, name, lo, cut_lo);
			walk_add(w, name, cut_hi, hi);
		} else {
			walk_add(w, name, lo, hi);
		}
	}
	return 0;
}

/* Is the set of loaded objects what segs was built from? */
static int counters(struct dl_phdr_info *info, size_t size, void *data)
{
	bool *same = data;

	*same = size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs) &&
		info->dlpi_adds == seen_adds && info->dlpi_subs == seen_subs;
	return 1;
}

static bool static_roots_off(void)
{
	const char *env = getenv("GCHEAP_NO_STATIC_ROOTS");

	return env && *env && strcmp(env, "0");
}

/*
 * Bring the registered segments and the TLS table up to date. roots_lock
 * held. On failure what was registered stays registered.
 */
static int refresh_locked(void)
{
	struct walk w = { .first = true, .no_static = static_roots_off() };
	bool same = false;
	size_t i = 0;

	if (segs_valid) {
		dl_iterate_phdr(counters, &same);
		if (same)
			return 0;
	}
	dl_iterate_phdr(walk_object, &w);
	if (w.err)
		goto fail;
	for (i = 0; i < w.segs.n; i++) {
		if (ranges_find(&segs, w.segs.v[i].lo, w.segs.v[i].hi) >= 0)
			continue;
		if (gch_root_ioctl(GCHEAP_ROOT_ADD, w.segs.v[i].lo, w.segs.v[i].hi) < 0) {
			if (errno != EEXIST) {
				w.err = errno;
				goto fail;
			}
			/* The program registered it itself: the program removes it. */
			w.segs.v[i].lo = w.segs.v[i].hi = 0;
		}
	}
	for (i = 0; i < segs.n; i++)
		if (segs.v[i].lo < segs.v[i].hi &&
		    ranges_find(&w.segs, segs.v[i].lo, segs.v[i].hi) < 0)
			gch_root_ioctl(GCHEAP_ROOT_REMOVE, segs.v[i].lo, segs.v[i].hi);
	free(segs.v);
	segs = w.segs;
	seen_adds = w.adds;
	seen_subs = w.subs;
	segs_valid = true;
	/* A handler may be reading the old table: it stays. */
	__atomic_store_n(&tls_table, w.tls, __ATOMIC_RELEASE);
	return 0;
fail:
	/* Undo what this call added; the old set stays as it was. */
	while (i-- > 0)
		if (w.segs.v[i].lo < w.segs.v[i].hi &&
		    ranges_find(&segs, w.segs.v[i].lo, w.segs.v[i].hi) < 0)
			gch_root_ioctl(GCHEAP_ROOT_REMOVE, w.segs.v[i].lo, w.segs.v[i].hi);
	free(w.segs.v);
	free(w.tls);
	errno = w.err;
	return -1;
}

int gch_roots_refresh(void)
{
	int ret;

	pthread_mutex_lock(&roots_lock);
	ret = refresh_locked();
	pthread_mutex_unlock(&roots_lock);
	return ret;
}

void gch_set_static_roots_filter(gch_static_roots_filter fn)
{
	pthread_mutex_lock(&roots_lock);
	filter = fn;
	/* Applied at the next cycle (or when the heap opens). */
	segs_valid = false;
	pthread_mutex_unlock(&roots_lock);
}

/*
 * The heap was just mapped (heap.c, heap_lock held): register the ranges
 * the program registered before a fork, and the static data.
 */
int gch_roots_open(void)
{
	size_t i;
	int ret = 0;

	pthread_mutex_lock(&roots_lock);
	for (i = 0; i < user.n; i++) {
		if (gch_root_ioctl(GCHEAP_ROOT_ADD, user.v[i].lo, user.v[i].hi) < 0) {
			ret = -1;
			break;
		}
	}
	segs.n = 0;
	segs_valid = false;
	if (!ret)
		ret = refresh_locked();
	if (ret)
		segs.n = 0;	/* the failed heap takes its roots with it */
	pthread_mutex_unlock(&roots_lock);
	return ret;
}

/*
 * A forked child: its heap is not the parent's. Ranges inside the old heap
 * (uncollectable objects) mean nothing now; the rest wait for the child's
 * heap. Called with roots_lock held (gch_roots_lock).
 */
void gch_roots_forked(uintptr_t old_base, uintptr_t old_end)
{
	size_t i = 0;

	while (i < user.n) {
		if (user.v[i].lo < old_end && user.v[i].hi > old_base)
			user.v[i] = user.v[--user.n];
		else
			i++;
	}
	segs.n = 0;
	segs_valid = false;
	free(tls_list);
	tls_list = NULL;
}

void gch_roots_lock(void)
{
	pthread_mutex_lock(&roots_lock);
}

void gch_roots_unlock(void)
{
	pthread_mutex_unlock(&roots_lock);
}

/* Thread-local storage */

/* The calling thread's TLS block of module @modid, or 0. Async-signal-safe. */
static uintptr_t tls_block(size_t modid)
{
#if defined(__GLIBC__) && (defined(__x86_64__) || defined(__aarch64__))
	const uintptr_t *dtv;

#ifdef __x86_64__
	__asm__("mov %%fs:8, %0" : "=r"(dtv));	/* tcbhead_t.dtv */
#else
	dtv = *(const uintptr_t *const *)__builtin_thread_pointer();
#endif
	/* dtv_t is two words; dtv[-1] holds the slot count. */
	if (!dtv || modid > dtv[-2])
		return 0;
	if (dtv[2 * modid] == (uintptr_t)-1)	/* TLS_DTV_UNALLOCATED */
		return 0;
	return dtv[2 * modid];
#else
	(void)modid;
	return 0;
#endif
}

static bool tls_listed(const struct tls_list *l, uintptr_t lo, uintptr_t hi)
{
	size_t i;

	for (i = 0; l && i < l->n; i++)
		if (l->r[i].lo == lo && l->r[i].hi == hi)
			return true;
	return false;
}

/* The main thread's static TLS without a DTV: dl_iterate_phdr's view. */
static int walk_own_tls(struct dl_phdr_info *info, size_t size, void *data)
{
	struct ranges *rs = data;
	int i;

	(void)size;
	for (i = 0; info->dlpi_tls_data && i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_TLS)
			ranges_push(rs, (uintptr_t)info->dlpi_tls_data,
				    (uintptr_t)info->dlpi_tls_data + info->dlpi_phdr[i].p_memsz);
	return 0;
}

/*
 * Register the calling thread's TLS blocks outside [stack_lo, stack_hi) as
 * roots, and forget those it no longer has. Not in a signal handler.
 */
int gch_tls_register(uintptr_t stack_lo, uintptr_t stack_hi)
{
	struct ranges now = { 0 };
	struct tls_list *l = tls_list;
	size_t i, j;
	int ret = 0;

	/*
	 * Under roots_lock, which fork() takes (heap.c): glibc does not reset
	 * the lock dl_iterate_phdr holds, so a fork during a walk would leave
	 * the child's first walk waiting forever.
	 */
	pthread_mutex_lock(&roots_lock);
	dl_iterate_phdr(walk_own_tls, &now);
	pthread_mutex_unlock(&roots_lock);
	for (i = 0; i < now.n; i++) {
		struct range r = now.v[i];

		if ((r.lo >= stack_lo && r.hi <= stack_hi) || tls_listed(l, r.lo, r.hi))
			continue;
		if (!l || l->n == l->cap) {
			size_t cap = l ? 2 * l->cap : 8;
			struct tls_list *nl = malloc(sizeof(*nl) + cap * sizeof(nl->r[0]));

			if (!nl) {
				ret = -1;
				break;
			}
			nl->n = l ? l->n : 0;
			nl->cap = cap;
			if (l)
				memcpy(nl->r, l->r, l->n * sizeof(l->r[0]));
			/* The handler sees the old list or the complete new one. */
			__atomic_store_n(&tls_list, nl, __ATOMIC_RELEASE);
			__atomic_signal_fence(__ATOMIC_SEQ_CST);
			free(l);
			l = nl;
		}
		if (gch_root_ioctl(GCHEAP_ROOT_ADD, r.lo, r.hi) < 0 && errno != EEXIST) {
			ret = -1;
			break;
		}
		l->r[l->n] = r;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		l->n++;
	}
	/* Blocks of unloaded objects: freed by now, or soon. */
	for (i = 0; l && i < l->n;) {
		bool found = false;

		for (j = 0; j < now.n && !found; j++)
			found = now.v[j].lo == l->r[i].lo && now.v[j].hi == l->r[i].hi;
		if (found) {
			i++;
			continue;
		}
		gch_root_ioctl(GCHEAP_ROOT_REMOVE, l->r[i].lo, l->r[i].hi);
		l->r[i] = l->r[l->n - 1];
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		l->n--;
	}
	free(now.v);
	return ret;
}

/* The thread detaches or exits: its TLS blocks are no longer roots. */
void gch_tls_unregister(void)
{
	struct tls_list *l = tls_list;
	size_t i;

	if (!l)
		return;
	tls_list = NULL;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	for (i = 0; gch_heap.fd >= 0 && i < l->n; i++)
		gch_root_ioctl(GCHEAP_ROOT_REMOVE, l->r[i].lo, l->r[i].hi);
	free(l);
}

/*
 * Copy the calling thread's TLS blocks that are neither inside
 * [stack_lo, stack_hi) nor registered into @buf, at most @len bytes;
 * returns the bytes they take (copied or not). @buf NULL: only count.
 * Async-signal-safe: reads the published table, the DTV and its own list.
 */
size_t gch_tls_copy(void *buf, size_t len, uintptr_t stack_lo, uintptr_t stack_hi)
{
	const struct tls_table *t = __atomic_load_n(&tls_table, __ATOMIC_ACQUIRE);
	const struct tls_list *l = tls_list;
	size_t i, need = 0;

	for (i = 0; t && i < t->n; i++) {
		uintptr_t lo = tls_block(t->mod[i].modid), hi = lo + t->mod[i].size;
		size_t n = (t->mod[i].size + 7) & ~(size_t)7;

		if (!lo || (lo >= stack_lo && hi <= stack_hi) || tls_listed(l, lo, hi))
			continue;
		if (buf && need + n <= len)
			memcpy((char *)buf + need, (const void *)lo, t->mod[i].size);
		need += n;
	}
	return need;
}
