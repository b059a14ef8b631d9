// SPDX-License-Identifier: GPL-2.0
/*
 * A heap's kernel threads: the helpers that mark beside the collecting
 * thread, and the background sweeper, which shares the first of them.
 * They do the owner's work, so the owner pays for it, as vhost made its
 * workers pay: each thread is made by a thread of the owning process
 * (the one that runs a cycle, in its ioctl) and attached to all of that
 * thread's cgroups, so the CPU time it spends counts against the owner's
 * cpu controller, not the root's (the memory a cycle allocates is charged
 * to the owner explicitly, mark.c). Threads of a workqueue shared by
 * every heap could not be charged to any one owner. Like vhost's, they
 * are not frozen with the cgroup.
 *
 * Kernel threads are not counted against any RLIMIT_NPROC, so all heaps
 * together have at most max_heap_threads of them (default 4 per online
 * CPU): past that a cycle marks with fewer helpers, and a heap with no
 * thread at all sweeps on demand only.
 *
 * Made on first need, up to the helpers a cycle asks for (one fewer than
 * its workers, at least one for sweeping), and kept until the heap goes,
 * so a cycle does not pay for thread creation. A process that moves to
 * another cgroup afterwards leaves its threads where they were (vhost's
 * did too). A heap with no owning process (KUnit) attaches them nowhere.
 * Failing to make one is not an error: the cycle has fewer helpers, and
 * with no thread at all sweeping is left to refills and the next cycle.
 *
 * Locking: workers.lock serialises creation. The array only grows, and a
 * slot is published (release on n) before anyone reads it without the
 * lock; threads go only when the heap does.
 */
#include <linux/cgroup.h>
#include <linux/cpumask.h>
#include <linux/err.h>
#include <linux/export.h>
#include <linux/moduleparam.h>
#include <kunit/visibility.h>
#include "workers.h"
#include "heap.h"

static unsigned int max_heap_threads;
module_param(max_heap_threads, uint, 0644);
MODULE_PARM_DESC(max_heap_threads,
		 "Kernel threads all heaps together may have (0: 4 per online CPU)");

static atomic_t nthreads = ATOMIC_INIT(0);

/* One more thread, if the module-wide cap allows it. */
static bool thread_quota(void)
{
	unsigned int max = READ_ONCE(max_heap_threads) ?: 4 * num_online_cpus();

	if (atomic_inc_return(&nthreads) <= max)
		return true;
	atomic_dec(&nthreads);
	return false;
}

void gcheap_workers_init(struct gcheap_workers *ws)
{
	mutex_init(&ws->lock);
	ws->n = 0;
}

/*
 * Make sure @heap has @want threads (at most GCHEAP_MAX_WORKERS), made
 * by and charged like the calling thread. How many it has, up to @want.
 */
unsigned int gcheap_workers_get(struct gcheap *heap, unsigned int want)
{
	struct gcheap_workers *ws = &heap->workers;
	struct kthread_worker *kw;
	unsigned int n;

	want = min_t(unsigned int, want, GCHEAP_MAX_WORKERS);
	/* Acquire: pairs with the release below, so those slots are seen. */
	if (smp_load_acquire(&ws->n) >= want)
		return want;
	mutex_lock(&ws->lock);
	while (ws->n < want && thread_quota()) {
		kw = kthread_create_worker(0, "gcheap/%d:%u", heap->tgid, ws->n);
		if (!IS_ERR(kw) && heap->mm && cgroup_attach_task_all(current, kw->task)) {
			kthread_destroy_worker(kw);
			kw = ERR_PTR(-EPERM);
		}
		if (IS_ERR(kw)) {
			atomic_dec(&nthreads);
			break;
		}
		ws->w[ws->n] = kw;
		/* The slot before the count that covers it. */
		smp_store_release(&ws->n, ws->n + 1);
	}
	n = min(ws->n, want);
	mutex_unlock(&ws->lock);
	return n;
}
EXPORT_SYMBOL_IF_KUNIT(gcheap_workers_get);

/* Thread @i of @heap, which gcheap_workers_get() said it has. */
struct kthread_worker *gcheap_worker(struct gcheap *heap, unsigned int i)
{
	return heap->workers.w[i];
}

/* The heap goes: its threads finish what is queued on them and exit. */
void gcheap_workers_destroy(struct gcheap_workers *ws)
{
	unsigned int i;

	for (i = 0; i < ws->n; i++)
		kthread_destroy_worker(ws->w[i]);
	atomic_sub(ws->n, &nthreads);
	ws->n = 0;
	mutex_destroy(&ws->lock);
}
