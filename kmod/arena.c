// SPDX-License-Identifier: GPL-2.0
/*
 * Arena: the heap's address range in its owner, and the physical pages
 * behind it.
 *
 * The range is one shared mapping of the heap's private inode, so the
 * module can take pages away from the process by file offset with
 * unmap_mapping_range(), the one zap exported on every kernel from 6.1 on.
 * Physical pages are allocated when a span is created over heap pages that
 * have none, zeroed and charged to the caller's memory cgroup. They reach
 * the process either through ->fault, one 4 KiB page per fault, or all at
 * once when a new span is handed out (vm_insert_pages() from the ioctl,
 * module parameter `prefault`); which is the default, and why, is said at
 * the parameter. ->fault is needed either way: after MADV_DONTNEED, and
 * for spans handed out again.
 *
 * Accounting: every physical page is allocated in the owner's context (its
 * ioctl) with __GFP_ACCOUNT, so it is charged to the owner's memory cgroup
 * as kernel memory, and uncharged when freed. Not as user memory: the
 * kernel charges anon and file folios on its LRUs, which its reclaim can
 * swap or write back; these pages are on no LRU and only this module can
 * give them back (the scavenger, the shrinker), so a kmem charge is the
 * honest one. Either way memory.current and memory.max count every page,
 * in use or idle. Pages in use are mapped, and vm_insert_page() counts
 * them in the owner's RSS (RssFile), which the OOM killer reads; idle
 * pages are not mapped, so RSS leaves them out: they are what the
 * scavenger bounds and the shrinker returns first under pressure, and the
 * heap's stats (heap_idle - heap_released) and the module's pages_held
 * show them.
 *
 * Invariants: a heap page has physical memory exactly when it is in use or
 * free and not scavenged (pagealloc.c): at init every page is scavenged;
 * gcheap_arena_alloc() gives memory to the scavenged pages it takes, and
 * gcheap_arena_scavenge() takes it from free pages it marks scavenged.
 * resident_pages = npages - scav_pages.
 * A user PTE exists only for a heap page inside a span (in use);
 * before a span's pages return to the page allocator they are zapped, so a
 * later touch faults and gets SIGBUS. Only the owner mm ever maps a page:
 * the mapping is VM_DONTCOPY for life (VM_IO makes madvise(MADV_DOFORK)
 * fail), so fork() never copies it, whatever order dup_mmap() copies page
 * tables and calls ->open in; ->fault refuses any other mm all the same.
 *
 * Locking: chunk allocation, physical pages, the page allocator and the
 * span table's writers are under heap->lock. The module-wide page counts
 * are atomic. Finding a span takes no lock (Go's spanOf): a
 * chunk pointer and a span-table entry are published with release
 * semantics once what they point to is set up, and read with READ_ONCE,
 * whose address dependency orders the reads through them. An entry read
 * without the lock may name a span being destroyed; spans are freed only
 * after an RCU grace period (span.c), so the reader checks its state
 * under its central's lock before trusting it.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/moduleparam.h>
#include <linux/sched/signal.h>
#include <linux/export.h>
#include <kunit/visibility.h>
#include "arena.h"
#include "compat.h"
#include "scavenge.h"

/* Base pages per heap page, and the shift between the two. */
#define GCHEAP_SUBPAGES		(GCHEAP_PAGE_SIZE / PAGE_SIZE)
#define GCHEAP_SUBPAGE_SHIFT	(GCHEAP_PAGE_SHIFT - PAGE_SHIFT)

static unsigned int max_heap_mb = 65536;
module_param(max_heap_mb, uint, 0644);
MODULE_PARM_DESC(max_heap_mb, "Largest heap mapping, in MiB (default 65536)");

/*
 * Measured with tests/bench/fault (touching every page of fresh spans,
 * prefault off and on in one VM run): see the parameter's default.
 */
static bool prefault = true;
module_param(prefault, bool, 0644);
MODULE_PARM_DESC(prefault, "Map a new span's pages into the process at hand-out (default 1)");

/*
 * Module-wide, in base pages: physical memory held by all heaps, and of it
 * the idle part (free heap pages not scavenged), which the shrinker counts.
 */
static atomic_long_t pages_held = ATOMIC_LONG_INIT(0);
static atomic_long_t pages_idle = ATOMIC_LONG_INIT(0);

long gcheap_arena_pages_held(void)
{
	return atomic_long_read(&pages_held);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_arena_pages_held);

long gcheap_arena_pages_idle(void)
{
	return atomic_long_read(&pages_idle);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_arena_pages_idle);

/* Bring the module's idle count up to date with @heap's. heap->lock held. */
static void account_idle(struct gcheap *heap)
{
	long idle = (long)(heap->pa.free_pages - heap->pa.scav_pages) * GCHEAP_SUBPAGES;

	atomic_long_add(idle - heap->counted_idle, &pages_idle);
	heap->counted_idle = idle;
}

/* The first base page of resident heap page @pg. */
static struct page *heap_page(struct gcheap *heap, unsigned long pg)
{
	return gcheap_arena_chunk(heap, pg)->pages[pg % GCHEAP_CHUNK_PAGES];
}

static void gcheap_vm_close(struct vm_area_struct *vma)
{
	struct gcheap *heap = vma->vm_private_data;

	/* Only the heap's own VMA counts: a refused mremap() closes the copy it made. */
	mutex_lock(&heap->lock);
	if (vma == heap->vma)
		heap->mapped = false;
	mutex_unlock(&heap->lock);
}

/* The mapping is one piece for life: no partial munmap/mprotect, no mremap. */
static int gcheap_vm_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	return -EINVAL;
}

static int gcheap_vm_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

static vm_fault_t gcheap_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct gcheap *heap = vma->vm_private_data;
	unsigned long pg = vmf->pgoff >> GCHEAP_SUBPAGE_SHIFT;
	vm_fault_t ret = VM_FAULT_SIGBUS;

	if (vma->vm_mm != heap->mm)
		return VM_FAULT_SIGBUS;
	mutex_lock(&heap->lock);
	if (pg < heap->npages) {
		/* In a span means in use; a span's pages are always resident. */
		if (gcheap_arena_span_at(heap, pg)) {
			struct page *page = heap_page(heap, pg);

			page = nth_page(page, vmf->pgoff & (GCHEAP_SUBPAGES - 1));
			ret = vmf_insert_page(vma, vmf->address, page);
		}
	}
	mutex_unlock(&heap->lock);
	return ret;
}

/*
 * ptrace and /proc/PID/mem: get_user_pages() refuses a VM_IO mapping, so
 * access_remote_vm() comes here, with mmap_lock held as for ->fault. What
 * ->fault would map is reachable: the pages of spans, nothing else.
 */
static int gcheap_vm_access(struct vm_area_struct *vma, unsigned long addr,
			    void *buf, int len, int write)
{
	struct gcheap *heap = vma->vm_private_data;
	unsigned long off = addr - vma->vm_start;
	int done = 0;

	if (vma->vm_mm != heap->mm)
		return -EIO;
	mutex_lock(&heap->lock);
	while (done < len) {
		unsigned long pg = off >> GCHEAP_PAGE_SHIFT;
		unsigned long in = off & (GCHEAP_PAGE_SIZE - 1);
		int n = min_t(unsigned long, len - done, GCHEAP_PAGE_SIZE - in);
		void *kaddr;

		if (pg >= heap->npages || !gcheap_arena_span_at(heap, pg))
			break;
		kaddr = page_address(heap_page(heap, pg)) + in;
		if (write)
			memcpy(kaddr, buf + done, n);
		else
			memcpy(buf + done, kaddr, n);
		done += n;
		off += n;
	}
	mutex_unlock(&heap->lock);
	return done ? done : -EIO;
}

static const struct vm_operations_struct gcheap_vm_ops = {
	.access = gcheap_vm_access,
	.close = gcheap_vm_close,
	.may_split = gcheap_vm_may_split,
	.mremap = gcheap_vm_mremap,
	.fault = gcheap_vm_fault,
};

int gcheap_arena_mmap(struct gcheap *heap, struct vm_area_struct *vma)
{
	unsigned long len = vma->vm_end - vma->vm_start;
	unsigned long npages = len >> GCHEAP_PAGE_SHIFT;
	int ret;

	if (vma->vm_mm != heap->mm)
		return -EPERM;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	if (vma->vm_pgoff || !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	/* Spans start on heap-page boundaries in the user's address space. */
	if (!IS_ALIGNED(vma->vm_start, GCHEAP_PAGE_SIZE) ||
	    !IS_ALIGNED(len, GCHEAP_CHUNK_SIZE) ||
	    len > (unsigned long)max_heap_mb << 20 || len > GCHEAP_MAX_HEAP)
		return -EINVAL;

	mutex_lock(&heap->lock);
	ret = -EBUSY;
	if (heap->npages)	/* one mapping per heap, ever */
		goto out;
	ret = gcheap_arena_init(heap, vma->vm_start, npages);
	if (ret)
		goto out;
	/*
	 * VM_IO: the one flag with which madvise() refuses MADV_DOFORK (6.1
	 * to 6.12), so VM_DONTCOPY stays. Its costs: get_user_pages() refuses
	 * the range (O_DIRECT, process_vm_readv(); ptrace goes through
	 * ->access instead) and core dumps leave it out.
	 */
	vm_flags_set(vma, VM_MIXEDMAP | VM_IO | VM_DONTCOPY | VM_DONTEXPAND);
	vm_flags_clear(vma, VM_MAYEXEC);
	vma->vm_ops = &gcheap_vm_ops;
	vma->vm_private_data = heap;
	heap->vma = vma;
out:
	mutex_unlock(&heap->lock);
	return ret;
}

/*
 * Set up the arena for @npages heap pages at user address @base. The KUnit
 * suites also use it for heaps with no user mapping at all.
 */
int gcheap_arena_init(struct gcheap *heap, unsigned long base, unsigned long npages)
{
	int ret;

	lockdep_assert_held(&heap->lock);
	heap->chunks = kvcalloc(DIV_ROUND_UP(npages, GCHEAP_CHUNK_PAGES),
				sizeof(*heap->chunks), GFP_KERNEL_ACCOUNT);
	if (!heap->chunks)
		return -ENOMEM;
	ret = gcheap_pagealloc_init(&heap->pa, npages);
	if (ret) {
		kvfree(heap->chunks);
		heap->chunks = NULL;
		return ret;
	}
	/* No page has memory yet. */
	gcheap_pagealloc_set_scavenged(&heap->pa, 0, npages);
	heap->base = base;
	heap->mapped = true;
	/* Pairs with gcheap_arena_npages(): base and chunks are set by then. */
	smp_store_release(&heap->npages, npages);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_arena_init);

/* Give heap page @pg's memory back to the kernel. heap->lock held. */
static void free_heap_page(struct gcheap *heap, unsigned long pg)
{
	struct page **pp = &gcheap_arena_chunk(heap, pg)->pages[pg % GCHEAP_CHUNK_PAGES];
	unsigned int i;

	for (i = 0; i < GCHEAP_SUBPAGES; i++)
		__free_page(nth_page(*pp, i));
	*pp = NULL;
	heap->resident_pages--;
	atomic_long_sub(GCHEAP_SUBPAGES, &pages_held);
}

/*
 * Memory for one heap page. Short of it, the system or the owner's cgroup
 * (whose reclaim the shrinker does not see), the heap's own idle pages go
 * back first, then the kernel reclaims as it would.
 */
static struct page *alloc_heap_page(struct gcheap *heap)
{
	const gfp_t gfp = GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_NOWARN;
	const unsigned int order = GCHEAP_PAGE_SHIFT - PAGE_SHIFT;
	struct page *page = alloc_pages(gfp | __GFP_NORETRY, order);

	if (!page) {
		gcheap_scavenge_locked(heap, GCHEAP_SCAV_RETRY_PAGES, GCHEAP_SCAV_SYNC);
		page = alloc_pages(gfp, order);
	}
	return page;
}

/*
 * Give heap pages [first, first + n) physical memory where they have none.
 * On failure (no memory, or the caller was killed: the range can be most
 * of the heap) the pages it got to lose their memory, old or new: the
 * range is in no span, so none is mapped and dropping old bytes is safe.
 */
static int populate(struct gcheap *heap, unsigned long first, unsigned long n)
{
	unsigned long pg, undo;
	struct gcheap_chunk **cp;
	struct page *page;
	int ret = -ENOMEM;

	for (pg = first; pg < first + n; pg++) {
		cp = &heap->chunks[pg / GCHEAP_CHUNK_PAGES];
		if (!*cp) {
			struct gcheap_chunk *chunk = kvzalloc(sizeof(*chunk), GFP_KERNEL_ACCOUNT);

			if (!chunk)
				goto fail;
			/* Zeroed before it is seen: pairs with gcheap_arena_chunk(). */
			smp_store_release(cp, chunk);
		}
		if ((*cp)->pages[pg % GCHEAP_CHUNK_PAGES])
			continue;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto fail;
		}
		/* A huge object is millions of pages: let others run meanwhile. */
		cond_resched();
		page = alloc_heap_page(heap);
		if (!page)
			goto fail;
		/* Two refcounted base pages, as vm_insert_page() requires. */
		split_page(page, GCHEAP_PAGE_SHIFT - PAGE_SHIFT);
		(*cp)->pages[pg % GCHEAP_CHUNK_PAGES] = page;
		heap->resident_pages++;
		atomic_long_add(GCHEAP_SUBPAGES, &pages_held);
	}
	heap->arena_top = max(heap->arena_top, first + n);
	return 0;
fail:
	for (undo = first; undo < pg; undo++) {
		struct gcheap_chunk *c = gcheap_arena_chunk(heap, undo);

		if (c->pages[undo % GCHEAP_CHUNK_PAGES])
			free_heap_page(heap, undo);
		cond_resched();
	}
	return ret;
}

/* Mark the free pages of [first, first + n) that have no memory scavenged. */
static void mark_released(struct gcheap *heap, unsigned long first, unsigned long n)
{
	unsigned long pg, run;

	for (pg = first; pg < first + n; pg += run) {
		struct gcheap_chunk *c = gcheap_arena_chunk(heap, pg);

		for (run = 0; pg + run < first + n; run++) {
			c = gcheap_arena_chunk(heap, pg + run);
			if (c && c->pages[(pg + run) % GCHEAP_CHUNK_PAGES])
				break;
		}
		if (run)
			gcheap_pagealloc_set_scavenged(&heap->pa, pg, run);
		else
			run = 1;
	}
}

/*
 * Take the lowest run of @n free heap pages and give it physical memory:
 * its first page, or -ENOMEM (no run, no memory, or growing would pass
 * the heap's memory_max even after scavenging), -EINTR. *@reused says
 * whether any page had memory already (and so may hold old bytes). On
 * failure the heap is as it was, but for idle pages scavenged.
 */
long gcheap_arena_alloc(struct gcheap *heap, unsigned long n, bool *reused)
{
	unsigned long scav;
	long start;
	int ret;

	lockdep_assert_held(&heap->lock);
	start = gcheap_pagealloc_alloc(&heap->pa, n, &scav);
	if (start < 0)
		return start;
	ret = scav ? gcheap_scavenge_grow(heap, scav) : 0;
	if (!ret)
		ret = populate(heap, start, n);
	if (ret) {
		gcheap_pagealloc_free(&heap->pa, start, n);
		mark_released(heap, start, n);
		account_idle(heap);
		return ret;
	}
	*reused = scav < n;
	account_idle(heap);
	return start;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_arena_alloc);

/* Heap pages [first, first + n), unmapped, are free again; they keep their memory. */
void gcheap_arena_free(struct gcheap *heap, unsigned long first, unsigned long n)
{
	lockdep_assert_held(&heap->lock);
	gcheap_pagealloc_free(&heap->pa, first, n);
	account_idle(heap);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_arena_free);

/*
 * Give the memory of up to @max idle heap pages back to the kernel, the
 * highest first, and mark them scavenged; *@below bounds the search and is
 * lowered past what was released (start it at gcheap_arena_top()). How
 * many heap pages were released; 0: none idle below *@below.
 *
 * No zap first: a free page has no PTE (its span's were zapped before the
 * span went, and ->fault, prefault and ->access map only pages in a span,
 * all under heap->lock), and a page vm_insert_page()ed holds a reference
 * of its own, so even a stray PTE could never see the page reused.
 */
unsigned long gcheap_arena_scavenge(struct gcheap *heap, unsigned long max,
				    unsigned long *below)
{
	struct page *batch[64];
	unsigned long start, n, pg;
	unsigned int nr = 0, i;

	lockdep_assert_held(&heap->lock);
	if (!heap->npages)
		return 0;
	n = gcheap_pagealloc_find_unscavenged(&heap->pa, *below, max, &start);
	/*
	 * release_pages() rather than a __free_page() each: it uncharges the
	 * memory cgroup and frees a batch at a time, which is most of the cost.
	 */
	for (pg = start; pg < start + n; pg++) {
		struct page **pp = &gcheap_arena_chunk(heap, pg)->pages[pg % GCHEAP_CHUNK_PAGES];

		for (i = 0; i < GCHEAP_SUBPAGES; i++)
			batch[nr++] = nth_page(*pp, i);
		*pp = NULL;
		heap->resident_pages--;
		if (nr > ARRAY_SIZE(batch) - GCHEAP_SUBPAGES) {
			release_pages(batch, nr);
			nr = 0;
		}
	}
	if (nr)
		release_pages(batch, nr);
	atomic_long_sub(n * GCHEAP_SUBPAGES, &pages_held);
	if (n) {
		gcheap_pagealloc_set_scavenged(&heap->pa, start, n);
		*below = start;
		account_idle(heap);
	}
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_arena_scavenge);

/*
 * Enter @span (NULL: none) for heap pages [first, first + n). A span is
 * published once set up: a lock-free reader that finds it sees it whole.
 */
void gcheap_arena_set_span(struct gcheap *heap, unsigned long first,
			   unsigned long n, struct gcheap_span *span)
{
	unsigned long pg;

	lockdep_assert_held(&heap->lock);
	for (pg = first; pg < first + n; pg++) {
		struct gcheap_chunk *chunk = gcheap_arena_chunk(heap, pg);

		/* Pairs with the address dependency of gcheap_arena_span_at(). */
		smp_store_release(&chunk->spans[pg % GCHEAP_CHUNK_PAGES], span);
	}
}

/*
 * The span holding heap page @pg (< npages), or NULL. No lock: see the
 * top of this file for what the caller may do with it.
 */
struct gcheap_span *gcheap_arena_span_at(struct gcheap *heap, unsigned long pg)
{
	struct gcheap_chunk *chunk = gcheap_arena_chunk(heap, pg);

	return chunk ? READ_ONCE(chunk->spans[pg % GCHEAP_CHUNK_PAGES]) : NULL;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_arena_span_at);

/* The span holding user address @addr, or NULL. No lock, as above. */
struct gcheap_span *gcheap_arena_span_of(struct gcheap *heap, unsigned long addr)
{
	unsigned long npages = gcheap_arena_npages(heap);

	if (!npages || addr < heap->base || addr - heap->base >= npages << GCHEAP_PAGE_SHIFT)
		return NULL;
	return gcheap_arena_span_at(heap, (addr - heap->base) >> GCHEAP_PAGE_SHIFT);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_arena_span_of);

/*
 * Zero @len bytes at byte offset @off of the run of resident heap pages
 * starting at @first_page, through the kernel's own mapping. -EINTR, part
 * of the run zeroed, if the caller is killed meanwhile: a large object can
 * be most of the heap.
 */
int gcheap_arena_zero(struct gcheap *heap, unsigned long first_page,
		      unsigned long off, unsigned long len)
{
	while (len) {
		unsigned long pg = first_page + (off >> GCHEAP_PAGE_SHIFT);
		unsigned long in = off & (GCHEAP_PAGE_SIZE - 1);
		unsigned long n = min(len, GCHEAP_PAGE_SIZE - in);
		struct page *page = heap_page(heap, pg);

		memset(page_address(page) + in, 0, n);
		off += n;
		len -= n;
		cond_resched();
		if (len && fatal_signal_pending(current))
			return -EINTR;
	}
	return 0;
}

/* Take heap pages [first, first + n) away from the process's page tables. */
void gcheap_arena_unmap_user(struct gcheap *heap, unsigned long first,
			     unsigned long n)
{
	/* Without a user mapping (KUnit's heaps) no PTE can exist. */
	if (!heap->vma)
		return;
	unmap_mapping_range(heap->inode->i_mapping,
			    (loff_t)first << GCHEAP_PAGE_SHIFT,
			    (loff_t)n << GCHEAP_PAGE_SHIFT, 1);
}

/* Free every physical page and table; the mapping is already gone. */
void gcheap_arena_release(struct gcheap *heap)
{
	unsigned long c, i;

	if (!heap->chunks)
		return;
	for (c = 0; c < DIV_ROUND_UP(heap->npages, GCHEAP_CHUNK_PAGES); c++) {
		struct gcheap_chunk *chunk = heap->chunks[c];

		if (!chunk)
			continue;
		for (i = 0; i < GCHEAP_CHUNK_PAGES; i++)
			if (chunk->pages[i])
				free_heap_page(heap, c * GCHEAP_CHUNK_PAGES + i);
		kvfree(chunk);
		cond_resched();
	}
	atomic_long_sub(heap->counted_idle, &pages_idle);
	heap->counted_idle = 0;
	kvfree(heap->chunks);
	heap->chunks = NULL;
	gcheap_pagealloc_destroy(&heap->pa);
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_arena_release);

/*
 * Map heap pages [first, first + n) into the process in batches, sparing
 * it a fault per 4 KiB page. Takes mmap_lock then heap->lock, as ->fault
 * does, and maps, as ->fault does, only pages that are in a span at that
 * moment. Best effort: a page left out is faulted in later.
 */
void gcheap_arena_prefault(struct gcheap *heap, unsigned long first, unsigned long n)
{
	struct page *batch[64];
	struct vm_area_struct *vma;
	unsigned long pg = first, nr, i;

	/* Only the owner maps pages, and KUnit's heaps have no mapping. */
	if (!READ_ONCE(prefault) || !heap->vma || current->mm != heap->mm)
		return;
	mmap_read_lock(heap->mm);
	vma = vma_lookup(heap->mm, heap->base);
	if (!vma || vma->vm_ops != &gcheap_vm_ops || vma->vm_private_data != heap)
		goto out;
	mutex_lock(&heap->lock);
	while (pg < first + n) {
		unsigned long addr = heap->base + (pg << GCHEAP_PAGE_SHIFT);

		for (nr = 0; nr < ARRAY_SIZE(batch) && pg < first + n; pg++) {
			struct page *page;

			if (pg >= heap->npages || !gcheap_arena_span_at(heap, pg))
				goto unlock;
			page = heap_page(heap, pg);
			for (i = 0; i < GCHEAP_SUBPAGES; i++)
				batch[nr++] = nth_page(page, i);
		}
		i = nr;
		if (vm_insert_pages(vma, addr, batch, &i))
			break;
	}
unlock:
	mutex_unlock(&heap->lock);
out:
	mmap_read_unlock(heap->mm);
}
