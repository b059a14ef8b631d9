// SPDX-License-Identifier: GPL-2.0
/*
 * gcheap: a Go-style garbage-collected heap for user processes.
 *
 * This file is the module's entry: the /dev/gcheap misc device and its file
 * operations. Each open() creates a heap (heap.c); every operation on the
 * file first checks that the caller is the heap's owner. ioctl arguments
 * follow the extensible-struct rules in uapi/gcheap.h, all in one place
 * (gcheap_ioctl()): nothing is changed unless the whole argument was valid
 * and, for a call that writes it back, writable.
 *
 * Locking: none here; each concept's file documents its own.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/uaccess.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/nospec.h>
#include "heap.h"
#include "arena.h"
#include "central.h"
#include "large.h"
#include "sizeclass.h"
#include "stw.h"
#include "gc.h"
#include "mark.h"
#include "roots.h"
#include "finalizer.h"
#include "pacer.h"
#include "wbuf.h"
#include "assist.h"
#include "scavenge.h"

/*
 * ioctl handlers. Each gets the kernel's copy of its argument, already
 * zero-extended to the kernel's struct (the dispatcher below does the
 * copying for every struct size); `size` holds the caller's size. A
 * handler returns 0 for the dispatcher to write the argument back (if its
 * command writes back at all) or an error, with nothing changed.
 */
static long gcheap_ioc_info(struct gcheap *heap, void *data)
{
	struct gcheap_info *info = data;

	/* Every field is output: input beyond `size` must be zero. */
	if (memchr_inv((u8 *)info + sizeof(info->size), 0,
		       sizeof(*info) - sizeof(info->size)))
		return -EINVAL;
	info->abi_version = GCHEAP_ABI_VERSION;
	info->page_size = GCHEAP_PAGE_SIZE;
	info->chunk_pages = GCHEAP_CHUNK_PAGES;
	info->num_size_classes = GCHEAP_NUM_SIZE_CLASSES;
	info->max_small_size = GCHEAP_MAX_SMALL_SIZE;
	mutex_lock(&heap->lock);
	info->heap_base = heap->base;
	info->heap_max = (u64)heap->npages << GCHEAP_PAGE_SHIFT;
	mutex_unlock(&heap->lock);
	info->owner_tgid = heap->tgid;
	info->stw_signal = gcheap_stw_signal();
	return 0;
}

static long gcheap_ioc_size_classes(struct gcheap *heap, void *data)
{
	struct gcheap_size_classes *req = data;
	struct gcheap_size_class __user *out;
	u32 i, n;

	out = u64_to_user_ptr(req->classes);
	n = min_t(u32, req->count, GCHEAP_NUM_SIZE_CLASSES);
	for (i = 0; i < n; i++) {
		struct gcheap_size_class sc = {
			.size = gcheap_classes[i].size,
			.npages = gcheap_classes[i].npages,
			.nelems = gcheap_classes[i].nelems,
			.div_magic = gcheap_classes[i].div_magic,
		};

		if (copy_to_user(&out[i], &sc, sizeof(sc)))
			return -EFAULT;
	}
	req->count = GCHEAP_NUM_SIZE_CLASSES;
	return 0;
}

/* What one GCHEAP_IOC_REFILL works on, kept off the stack. */
struct gcheap_refill_batch {
	struct gcheap_span_return rets[GCHEAP_REFILL_MAX_BATCH];
	struct gcheap_span_grant grants[GCHEAP_REFILL_MAX_BATCH];
	struct gcheap_span *ret_spans[GCHEAP_REFILL_MAX_BATCH + 1];
	const u64 *ret_free[GCHEAP_REFILL_MAX_BATCH + 1];
	struct { unsigned long first, npages; } fresh[GCHEAP_REFILL_MAX_BATCH + 1];
};

/* Hand out one span and describe it; remember it if its pages are new. */
static int gcheap_refill_one(struct gcheap *heap, u8 spanclass, struct gcheap_m *m,
			     struct gcheap_span_grant *g, struct gcheap_refill_batch *b,
			     unsigned int *nfresh)
{
	struct gcheap_span *span;
	bool fresh;

	span = gcheap_central_cache_span(heap, spanclass, m, &fresh);
	if (IS_ERR(span))
		return PTR_ERR(span);
	memset(g, 0, sizeof(*g));
	g->base = gcheap_span_base(heap, span);
	g->elemsize = span->elemsize;
	g->nelems = span->nelems;
	bitmap_to_arr64(g->free, gcheap_span_cache_free(span), span->nelems);
	if (fresh) {
		b->fresh[*nfresh].first = span->start;
		b->fresh[*nfresh].npages = span->npages;
		(*nfresh)++;
	}
	return 0;
}

/* Note a give-back and whether it is valid; nothing changes yet. */
static void gcheap_refill_check(struct gcheap *heap, struct gcheap_m *m,
				const struct gcheap_span_return *r,
				struct gcheap_refill_batch *b, unsigned int *nret)
{
	b->ret_free[*nret] = r->free;
	b->ret_spans[*nret] = gcheap_central_check_return(heap, m, r);
	(*nret)++;
}

static long gcheap_ioc_refill(struct gcheap *heap, void *data)
{
	struct gcheap_refill *req = data;
	struct gcheap_refill_batch *b;
	struct gcheap_span_grant first;
	struct gcheap_m *m;
	unsigned int nret = 0, nfresh = 0, granted = 0, i, j;
	void __user *ugrants;
	u64 flags;
	int ret;

	flags = req->flags;
	if (flags & ~(GCHEAP_REFILL_RETURN | GCHEAP_REFILL_NO_NEW))
		return -EINVAL;
	if (req->nreturn > GCHEAP_REFILL_MAX_BATCH || req->ngrant > GCHEAP_REFILL_MAX_BATCH)
		return -EINVAL;
	if (flags & GCHEAP_REFILL_NO_NEW) {
		if (!(flags & GCHEAP_REFILL_RETURN) || req->ngrant)
			return -EINVAL;
	} else if (req->spanclass < 2 || req->spanclass >= GCHEAP_NUM_SPAN_CLASSES) {
		return -EINVAL;
	}
	b = kmalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	ret = -EFAULT;
	if (copy_from_user(b->rets, u64_to_user_ptr(req->returns),
			   req->nreturn * sizeof(b->rets[0])))
		goto out_free;
	/* Spans are handed out: the grants' write-back is probed first too. */
	ugrants = u64_to_user_ptr(req->grants);
	if (clear_user(ugrants, req->ngrant * sizeof(b->grants[0])))
		goto out_free;

	/* Only a thread the collector can stop may hold spans. */
	m = gcheap_m_current(heap);
	ret = -EPERM;
	if (!m)
		goto out_free;
	/* Check every give-back, hand out the new spans, then commit. */
	if (flags & GCHEAP_REFILL_RETURN)
		gcheap_refill_check(heap, m, &req->ret, b, &nret);
	for (i = 0; i < req->nreturn; i++)
		gcheap_refill_check(heap, m, &b->rets[i], b, &nret);
	for (i = 0; i < nret; i++) {
		ret = PTR_ERR_OR_ZERO(b->ret_spans[i]);
		if (ret)
			goto out_free;
		for (j = 0; j < i; j++)
			if (b->ret_spans[j] == b->ret_spans[i]) {
				ret = -EINVAL;	/* the same span twice */
				goto out_free;
			}
	}
	if (!(flags & GCHEAP_REFILL_NO_NEW)) {
		u64 span_bytes = (u64)gcheap_classes[req->spanclass >> 1].npages <<
				 GCHEAP_PAGE_SHIFT;

		/* Paid for in mark work first if a cycle marks; nothing changed yet. */
		ret = gcheap_assist_alloc(heap, m, (1 + req->ngrant) * span_bytes);
		if (ret)
			goto out_free;
		ret = gcheap_refill_one(heap, req->spanclass, m, &first, b, &nfresh);
		if (ret) {
			gcheap_assist_refund(heap, m, (1 + req->ngrant) * span_bytes);
			goto out_free;
		}
		/* Extra spans are best effort: the first one is what counts. */
		while (granted < req->ngrant &&
		       !gcheap_refill_one(heap, req->spanclass, m, &b->grants[granted], b, &nfresh))
			granted++;
		gcheap_assist_refund(heap, m, (req->ngrant - granted) * span_bytes);
		req->base = first.base;
		req->elemsize = first.elemsize;
		req->nelems = first.nelems;
		memcpy(req->free, first.free, sizeof(req->free));
	}
	for (i = 0; i < nret; i++)
		gcheap_central_uncache_span(heap, b->ret_spans[i], b->ret_free[i]);
	gcheap_span_free_dead(heap);	/* give-backs may have emptied spans */
	req->ngrant = granted;
	for (i = 0; i < nfresh; i++)
		gcheap_arena_prefault(heap, b->fresh[i].first, b->fresh[i].npages);
	/* Probed above; only a racing munmap fails it. */
	if (copy_to_user(ugrants, b->grants, granted * sizeof(b->grants[0])))
		ret = -EFAULT;
out_free:
	kfree(b);
	return ret;
}

static long gcheap_ioc_alloc_large(struct gcheap *heap, void *data)
{
	struct gcheap_large *req = data;
	struct gcheap_m *m = gcheap_m_current(heap);
	u64 charge;
	int ret;

	/* Only a thread the collector can stop may allocate. */
	if (!m)
		return -EPERM;
	/* Paid for first (a request too big to be had pays for the heap). */
	charge = min_t(u64, req->bytes, (u64)gcheap_arena_npages(heap) << GCHEAP_PAGE_SHIFT);
	ret = gcheap_assist_alloc(heap, m, charge);
	if (ret)
		return ret;
	ret = gcheap_large_alloc(heap, req);
	if (ret)
		gcheap_assist_refund(heap, m, charge);
	return ret;
}

static long gcheap_ioc_free(struct gcheap *heap, void *data)
{
	struct gcheap_free *req = data;
	struct gcheap_span *span;
	long idx;
	int ret;

	if (req->flags || req->__reserved)
		return -EINVAL;
	/*
	 * The finalizer table first: a finalizer is forgotten together with
	 * its object.
	 */
	if (mutex_lock_interruptible(&heap->special_lock))
		return -ERESTARTSYS;
	ret = -EPERM;
	if (!gcheap_m_current(heap))
		goto out;
	/* The span is found without a lock and judged under its central's. */
	rcu_read_lock();
	span = gcheap_arena_span_of(heap, req->addr);
	ret = -ENOENT;
	if (!span)
		goto out_rcu;
	/* Tiny objects sit inside shared blocks, at any offset: never ours to free. */
	ret = -EBUSY;
	if (span->spanclass == GCHEAP_TINY_SPANCLASS)
		goto out_rcu;
	ret = -ENOENT;
	idx = gcheap_span_obj_index(heap, span, req->addr);
	if (idx < 0)
		goto out_rcu;
	if (gcheap_span_is_large(span))
		ret = gcheap_large_free(heap, span);
	else
		ret = gcheap_central_free_object(heap, span, idx);
out_rcu:
	rcu_read_unlock();
	gcheap_span_free_dead(heap);
	if (!ret)
		gcheap_final_forget(heap, req->addr);
out:
	mutex_unlock(&heap->special_lock);
	return ret;
}

static long gcheap_ioc_object(struct gcheap *heap, void *data)
{
	struct gcheap_object *req = data;

	if (req->spanclass || req->base || req->objsize || req->flags)
		return -EINVAL;
	return gcheap_object_lookup(heap, req);
}

static long gcheap_ioc_stats(struct gcheap *heap, void *data)
{
	gcheap_stats(heap, data);
	return 0;
}

static long gcheap_ioc_thread(struct gcheap *heap, void *data)
{
	return gcheap_thread_op(heap, data);
}

static long gcheap_ioc_park(struct gcheap *heap, void *data)
{
	return gcheap_stw_park(heap, data);
}

static long gcheap_ioc_gc(struct gcheap *heap, void *data)
{
	return gcheap_gc(heap, data);
}

static long gcheap_ioc_root(struct gcheap *heap, void *data)
{
	return gcheap_root_op(heap, data);
}

static long gcheap_ioc_finalizer(struct gcheap *heap, void *data)
{
	return gcheap_finalizer_set(heap, data);
}

static long gcheap_ioc_finalizers(struct gcheap *heap, void *data)
{
	return gcheap_finalizers_take(heap, data);
}

static long gcheap_ioc_link(struct gcheap *heap, void *data)
{
	return gcheap_link_op(heap, data);
}

static long gcheap_ioc_setgc(struct gcheap *heap, void *data)
{
	return gcheap_pacer_setgc(heap, data);
}

static long gcheap_ioc_wb_flush(struct gcheap *heap, void *data)
{
	return gcheap_wb_flush(heap, data);
}

static long gcheap_ioc_set_mode(struct gcheap *heap, void *data)
{
	return gcheap_wb_set_mode(heap, data);
}

static long gcheap_ioc_scavenge(struct gcheap *heap, void *data)
{
	return gcheap_scavenge_ioctl(heap, data);
}

/*
 * The ioctls, indexed by _IOC_NR (DRM's scheme): the command's size bits
 * vary with the caller's struct version, so they are not part of the key.
 * `size` is the kernel's struct, `min_size` its first version.
 * GCHEAP_IOCTL_OUT: the argument is written back, up to the smaller of the
 * caller's struct and the kernel's.
 */
#define GCHEAP_IOCTL_OUT	BIT(0)

struct gcheap_ioctl_desc {
	long (*func)(struct gcheap *heap, void *data);
	u16 size, min_size;
	u32 flags;
};

#define GCHEAP_IOCTL(cmd, fn, type, ver0, fl)					\
	[_IOC_NR(cmd)] = { .func = fn, .size = sizeof(type), .min_size = ver0, .flags = fl }

static const struct gcheap_ioctl_desc gcheap_ioctls[] = {
	GCHEAP_IOCTL(GCHEAP_IOC_INFO, gcheap_ioc_info, struct gcheap_info,
		     GCHEAP_INFO_SIZE_VER0, GCHEAP_IOCTL_OUT),
	GCHEAP_IOCTL(GCHEAP_IOC_SIZE_CLASSES, gcheap_ioc_size_classes, struct gcheap_size_classes,
		     GCHEAP_SIZE_CLASSES_SIZE_VER0, GCHEAP_IOCTL_OUT),
	GCHEAP_IOCTL(GCHEAP_IOC_REFILL, gcheap_ioc_refill, struct gcheap_refill,
		     GCHEAP_REFILL_SIZE_VER0, GCHEAP_IOCTL_OUT),
	GCHEAP_IOCTL(GCHEAP_IOC_ALLOC_LARGE, gcheap_ioc_alloc_large, struct gcheap_large,
		     GCHEAP_LARGE_SIZE_VER0, GCHEAP_IOCTL_OUT),
	GCHEAP_IOCTL(GCHEAP_IOC_FREE, gcheap_ioc_free, struct gcheap_free,
		     GCHEAP_FREE_SIZE_VER0, 0),
	GCHEAP_IOCTL(GCHEAP_IOC_STATS, gcheap_ioc_stats, struct gcheap_stats,
		     GCHEAP_STATS_SIZE_VER0, GCHEAP_IOCTL_OUT),
	GCHEAP_IOCTL(GCHEAP_IOC_OBJECT, gcheap_ioc_object, struct gcheap_object,
		     GCHEAP_OBJECT_SIZE_VER0, GCHEAP_IOCTL_OUT),
	GCHEAP_IOCTL(GCHEAP_IOC_THREAD, gcheap_ioc_thread, struct gcheap_thread,
		     GCHEAP_THREAD_SIZE_VER0, 0),
	GCHEAP_IOCTL(GCHEAP_IOC_PARK, gcheap_ioc_park, struct gcheap_park,
		     GCHEAP_PARK_SIZE_VER0, 0),
	GCHEAP_IOCTL(GCHEAP_IOC_GC, gcheap_ioc_gc, struct gcheap_gc,
		     GCHEAP_GC_SIZE_VER0, 0),
	GCHEAP_IOCTL(GCHEAP_IOC_ROOT, gcheap_ioc_root, struct gcheap_root,
		     GCHEAP_ROOT_SIZE_VER0, 0),
	GCHEAP_IOCTL(GCHEAP_IOC_FINALIZER, gcheap_ioc_finalizer, struct gcheap_finalizer,
		     GCHEAP_FINALIZER_SIZE_VER0, GCHEAP_IOCTL_OUT),
	GCHEAP_IOCTL(GCHEAP_IOC_FINALIZERS, gcheap_ioc_finalizers, struct gcheap_finalizers,
		     GCHEAP_FINALIZERS_SIZE_VER0, GCHEAP_IOCTL_OUT),
	GCHEAP_IOCTL(GCHEAP_IOC_LINK, gcheap_ioc_link, struct gcheap_link,
		     GCHEAP_LINK_SIZE_VER0, 0),
	GCHEAP_IOCTL(GCHEAP_IOC_SETGC, gcheap_ioc_setgc, struct gcheap_setgc,
		     GCHEAP_SETGC_SIZE_VER0, GCHEAP_IOCTL_OUT),
	GCHEAP_IOCTL(GCHEAP_IOC_WB_FLUSH, gcheap_ioc_wb_flush, struct gcheap_wb_flush,
		     GCHEAP_WB_FLUSH_SIZE_VER0, 0),
	GCHEAP_IOCTL(GCHEAP_IOC_SET_MODE, gcheap_ioc_set_mode, struct gcheap_mode,
		     GCHEAP_MODE_SIZE_VER0, 0),
	GCHEAP_IOCTL(GCHEAP_IOC_SCAVENGE, gcheap_ioc_scavenge, struct gcheap_scavenge,
		     GCHEAP_SCAVENGE_SIZE_VER0, GCHEAP_IOCTL_OUT),
};

/* Arguments up to this size live on the stack, bigger ones (STATS) in the heap. */
#define GCHEAP_IOCTL_STACK_ARG	320

/*
 * Every command goes through here: look the handler up by number, copy the
 * argument in whatever the caller's struct version (uapi/gcheap.h: its
 * `size`, at least the first version; a longer one is accepted with a zero
 * tail), probe the write-back before acting (a call
 * that hands something out must never act and then lose the result to
 * -EFAULT), act, write back.
 */
static long gcheap_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct gcheap *heap = file->private_data;
	void __user *uarg = (void __user *)arg;
	const struct gcheap_ioctl_desc *desc;
	u64 stack_arg[GCHEAP_IOCTL_STACK_ARG / sizeof(u64)];
	unsigned int nr = _IOC_NR(cmd);
	void *karg = stack_arg;
	size_t out;
	u32 usize;
	long ret;

	ret = gcheap_check_owner(heap);
	if (ret)
		return ret;
	if (_IOC_TYPE(cmd) != GCHEAP_IOC_MAGIC || nr >= ARRAY_SIZE(gcheap_ioctls))
		return -ENOTTY;
	desc = &gcheap_ioctls[array_index_nospec(nr, ARRAY_SIZE(gcheap_ioctls))];
	if (!desc->func)
		return -ENOTTY;
	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < desc->min_size)
		return -EINVAL;
	/* As clone3 and openat2: a tail is checked for zeros, but not gigabytes of it. */
	if (usize > PAGE_SIZE)
		return -E2BIG;
	if (desc->size > sizeof(stack_arg)) {
		karg = kmalloc(desc->size, GFP_KERNEL);
		if (!karg)
			return -ENOMEM;
	}
	ret = copy_struct_from_user(karg, desc->size, uarg, usize);
	if (ret)
		goto out;
	*(u32 *)karg = usize;
	out = min_t(size_t, usize, desc->size);
	ret = -EFAULT;
	if ((desc->flags & GCHEAP_IOCTL_OUT) && copy_to_user(uarg, karg, out))
		goto out;
	ret = desc->func(heap, karg);
	if (!ret && (desc->flags & GCHEAP_IOCTL_OUT) && copy_to_user(uarg, karg, out))
		ret = -EFAULT;
out:
	if (karg != stack_arg)
		kfree(karg);
	return ret;
}

static int gcheap_open(struct inode *inode, struct file *file)
{
	struct gcheap *heap = gcheap_create();

	if (IS_ERR(heap))
		return PTR_ERR(heap);
	file->private_data = heap;
	/* The user mapping lives in the heap's own address_space. */
	file->f_mapping = heap->inode->i_mapping;
	return 0;
}

static int gcheap_mmap(struct file *file, struct vm_area_struct *vma)
{
	/* The heap's file offsets and the control page's never meet. */
	BUILD_BUG_ON(GCHEAP_CTRL_OFFSET < GCHEAP_MAX_HEAP);
	if (vma->vm_pgoff == GCHEAP_CTRL_OFFSET >> PAGE_SHIFT)
		return gcheap_ctrl_mmap(file->private_data, vma);
	return gcheap_arena_mmap(file->private_data, vma);
}

static int gcheap_release(struct inode *inode, struct file *file)
{
	gcheap_destroy(file->private_data);
	return 0;
}

static const struct file_operations gcheap_fops = {
	.owner = THIS_MODULE,
	.open = gcheap_open,
	.release = gcheap_release,
	.mmap = gcheap_mmap,
	.unlocked_ioctl = gcheap_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/*
 * Module-wide counts on the device (/sys/class/misc/gcheap/), in base
 * pages: physical memory all heaps hold, and the idle part of it. Both
 * read zero once every heap is closed.
 */
static ssize_t pages_held_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n", gcheap_arena_pages_held());
}
static DEVICE_ATTR_RO(pages_held);

static ssize_t pages_idle_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%ld\n", gcheap_arena_pages_idle());
}
static DEVICE_ATTR_RO(pages_idle);

static struct attribute *gcheap_attrs[] = {
	&dev_attr_pages_held.attr,
	&dev_attr_pages_idle.attr,
	NULL
};
ATTRIBUTE_GROUPS(gcheap);

static struct miscdevice gcheap_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "gcheap",
	.fops = &gcheap_fops,
	.mode = 0666,
	.groups = gcheap_groups,
};

static int __init gcheap_init(void)
{
	int ret;

	ret = gcheap_scavenge_init();
	if (ret)
		return ret;
	ret = misc_register(&gcheap_misc);
	if (ret) {
		gcheap_scavenge_exit();
		return ret;
	}
	pr_info("ready, ABI %d\n", GCHEAP_ABI_VERSION);
	return 0;
}

static void __exit gcheap_exit(void)
{
	misc_deregister(&gcheap_misc);
	gcheap_scavenge_exit();
}

module_init(gcheap_init);
module_exit(gcheap_exit);
MODULE_DESCRIPTION("Go-style garbage-collected heap for user processes");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.1");
