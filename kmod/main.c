// SPDX-License-Identifier: GPL-2.0
/*
 * gcheap: a Go-style garbage-collected heap for user processes.
 *
 * This file is the module's entry: the /dev/gcheap misc device and its file
 * operations. Each open() creates a heap (heap.c); every operation on the
 * file first checks that the caller is the heap's owner. ioctl arguments
 * follow the extensible-struct rules in uapi/gcheap.h: nothing is changed
 * unless the whole argument was valid.
 *
 * Locking: none here; each concept's file documents its own.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/uaccess.h>
#include <linux/minmax.h>
#include "heap.h"
#include "arena.h"
#include "central.h"
#include "large.h"
#include "sizeclass.h"

/*
 * Copy an ioctl argument in. Its first __u32 is the caller's struct size;
 * anything below @min_size (the struct's first version) is -EINVAL, unknown
 * non-zero trailing bytes are -E2BIG. On return karg->size holds the
 * caller's size, which bounds the copy back out.
 */
static int gcheap_args_in(void *karg, size_t ksize, size_t min_size,
			  void __user *uarg)
{
	u32 usize;
	int ret;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < min_size)
		return -EINVAL;
	ret = copy_struct_from_user(karg, ksize, uarg, usize);
	if (ret)
		return ret;
	*(u32 *)karg = usize;
	return 0;
}

static int gcheap_args_out(void __user *uarg, const void *karg, size_t ksize)
{
	size_t n = min_t(size_t, *(const u32 *)karg, ksize);

	return copy_to_user(uarg, karg, n) ? -EFAULT : 0;
}

static long gcheap_ioc_info(struct gcheap *heap, void __user *uarg)
{
	struct gcheap_info info;
	int ret;

	ret = gcheap_args_in(&info, sizeof(info), GCHEAP_INFO_SIZE_VER0, uarg);
	if (ret)
		return ret;
	/* Every field is output: input beyond `size` must be zero. */
	if (memchr_inv((u8 *)&info + sizeof(info.size), 0,
		       sizeof(info) - sizeof(info.size)))
		return -EINVAL;
	info.abi_version = GCHEAP_ABI_VERSION;
	info.page_size = GCHEAP_PAGE_SIZE;
	info.chunk_pages = GCHEAP_CHUNK_PAGES;
	info.num_size_classes = GCHEAP_NUM_SIZE_CLASSES;
	info.max_small_size = GCHEAP_MAX_SMALL_SIZE;
	mutex_lock(&heap->lock);
	info.heap_base = heap->base;
	info.heap_max = (u64)heap->npages << GCHEAP_PAGE_SHIFT;
	mutex_unlock(&heap->lock);
	info.owner_tgid = heap->tgid;
	return gcheap_args_out(uarg, &info, sizeof(info));
}

static long gcheap_ioc_size_classes(void __user *uarg)
{
	struct gcheap_size_classes req;
	struct gcheap_size_class __user *out;
	u32 i, n;
	int ret;

	ret = gcheap_args_in(&req, sizeof(req), GCHEAP_SIZE_CLASSES_SIZE_VER0, uarg);
	if (ret)
		return ret;
	out = u64_to_user_ptr(req.classes);
	n = min_t(u32, req.count, GCHEAP_NUM_SIZE_CLASSES);
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
	req.count = GCHEAP_NUM_SIZE_CLASSES;
	return gcheap_args_out(uarg, &req, sizeof(req));
}

static long gcheap_ioc_refill(struct gcheap *heap, void __user *uarg)
{
	struct gcheap_refill req;
	struct gcheap_span *ret_span = NULL, *span = NULL;
	unsigned long first = 0, npages = 0;
	bool fresh = false;
	u64 flags;
	int ret;

	ret = gcheap_args_in(&req, sizeof(req), GCHEAP_REFILL_SIZE_VER0, uarg);
	if (ret)
		return ret;
	flags = req.flags;
	if (flags & ~(GCHEAP_REFILL_RETURN | GCHEAP_REFILL_NO_NEW))
		return -EINVAL;
	if ((flags & GCHEAP_REFILL_NO_NEW) && !(flags & GCHEAP_REFILL_RETURN))
		return -EINVAL;
	if (!(flags & GCHEAP_REFILL_NO_NEW) &&
	    (req.spanclass < 2 || req.spanclass >= GCHEAP_NUM_SPAN_CLASSES))
		return -EINVAL;
	/* An ioctl that allocates must fail before it changes anything. */
	ret = gcheap_args_out(uarg, &req, sizeof(req));
	if (ret)
		return ret;

	mutex_lock(&heap->lock);
	/* Check the give-back, take the new span, and only then commit both. */
	if (flags & GCHEAP_REFILL_RETURN) {
		ret_span = gcheap_central_check_return(heap, &req.ret);
		if (IS_ERR(ret_span)) {
			ret = PTR_ERR(ret_span);
			goto out;
		}
	}
	if (!(flags & GCHEAP_REFILL_NO_NEW)) {
		span = gcheap_central_cache_span(heap, req.spanclass, &fresh);
		if (IS_ERR(span)) {
			ret = PTR_ERR(span);
			goto out;
		}
		req.base = gcheap_span_base(heap, span);
		first = span->start;
		npages = span->npages;
		req.elemsize = span->elemsize;
		req.nelems = span->nelems;
		memset(req.free, 0, sizeof(req.free));
		bitmap_to_arr64(req.free, gcheap_span_cache_free(span), span->nelems);
	}
	if (ret_span)
		gcheap_central_uncache_span(heap, ret_span, req.ret.free);
out:
	mutex_unlock(&heap->lock);
	if (ret)
		return ret;
	if (fresh)
		gcheap_arena_prefault(heap, first, npages);
	return gcheap_args_out(uarg, &req, sizeof(req));
}

static long gcheap_ioc_alloc_large(struct gcheap *heap, void __user *uarg)
{
	struct gcheap_large req;
	int ret;

	ret = gcheap_args_in(&req, sizeof(req), GCHEAP_LARGE_SIZE_VER0, uarg);
	if (ret)
		return ret;
	/* An ioctl that allocates must fail before it changes anything. */
	ret = gcheap_args_out(uarg, &req, sizeof(req));
	if (ret)
		return ret;
	ret = gcheap_large_alloc(heap, &req);
	if (ret)
		return ret;
	return gcheap_args_out(uarg, &req, sizeof(req));
}

static long gcheap_ioc_free(struct gcheap *heap, void __user *uarg)
{
	struct gcheap_free req;
	struct gcheap_span *span;
	long idx;
	int ret;

	ret = gcheap_args_in(&req, sizeof(req), GCHEAP_FREE_SIZE_VER0, uarg);
	if (ret)
		return ret;
	if (req.flags || req.__reserved)
		return -EINVAL;
	mutex_lock(&heap->lock);
	span = gcheap_arena_span_of(heap, req.addr);
	ret = -ENOENT;
	if (!span)
		goto out;
	idx = gcheap_span_obj_index(heap, span, req.addr);
	if (idx < 0)
		goto out;
	if (gcheap_span_is_large(span)) {
		if (span->state != GCHEAP_SPAN_INUSE)
			goto out;
		gcheap_large_free(heap, span);
		ret = 0;
	} else {
		ret = gcheap_central_free_object(heap, span, idx);
	}
out:
	mutex_unlock(&heap->lock);
	return ret;
}

static long gcheap_ioc_object(struct gcheap *heap, void __user *uarg)
{
	struct gcheap_object req;
	struct gcheap_span *span;
	unsigned long off;
	int ret;

	ret = gcheap_args_in(&req, sizeof(req), GCHEAP_OBJECT_SIZE_VER0, uarg);
	if (ret)
		return ret;
	if (req.spanclass || req.base || req.objsize || req.flags)
		return -EINVAL;
	mutex_lock(&heap->lock);
	span = gcheap_arena_span_of(heap, req.addr);
	if (!span || span->state == GCHEAP_SPAN_INIT) {
		mutex_unlock(&heap->lock);
		return -ENOENT;
	}
	req.spanclass = span->spanclass;
	off = req.addr - gcheap_span_base(heap, span);
	if (gcheap_span_is_large(span)) {
		req.base = gcheap_span_base(heap, span);
		req.objsize = (u64)span->npages << GCHEAP_PAGE_SHIFT;
		req.flags = GCHEAP_OBJECT_ALLOCATED;
	} else {
		u32 idx = gcheap_obj_index(gcheap_span_class(span), off);

		if (idx >= span->nelems) {	/* the span's unused tail */
			mutex_unlock(&heap->lock);
			return -ENOENT;
		}
		req.base = gcheap_span_base(heap, span) + (u64)idx * span->elemsize;
		req.objsize = span->elemsize;
		gcheap_central_describe(heap, span, idx, &req);
	}
	mutex_unlock(&heap->lock);
	return gcheap_args_out(uarg, &req, sizeof(req));
}

static long gcheap_ioc_stats(struct gcheap *heap, void __user *uarg)
{
	struct gcheap_stats st;
	int ret;

	ret = gcheap_args_in(&st, sizeof(st), GCHEAP_STATS_SIZE_VER0, uarg);
	if (ret)
		return ret;
	gcheap_stats(heap, &st);
	return gcheap_args_out(uarg, &st, sizeof(st));
}

static long gcheap_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct gcheap *heap = file->private_data;
	void __user *uarg = (void __user *)arg;
	int ret;

	ret = gcheap_check_owner(heap);
	if (ret)
		return ret;
	switch (cmd) {
	case GCHEAP_IOC_INFO:
		return gcheap_ioc_info(heap, uarg);
	case GCHEAP_IOC_SIZE_CLASSES:
		return gcheap_ioc_size_classes(uarg);
	case GCHEAP_IOC_REFILL:
		return gcheap_ioc_refill(heap, uarg);
	case GCHEAP_IOC_ALLOC_LARGE:
		return gcheap_ioc_alloc_large(heap, uarg);
	case GCHEAP_IOC_FREE:
		return gcheap_ioc_free(heap, uarg);
	case GCHEAP_IOC_STATS:
		return gcheap_ioc_stats(heap, uarg);
	case GCHEAP_IOC_OBJECT:
		return gcheap_ioc_object(heap, uarg);
	default:
		return -ENOTTY;
	}
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

static struct miscdevice gcheap_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "gcheap",
	.fops = &gcheap_fops,
	.mode = 0666,
};

static int __init gcheap_init(void)
{
	int ret = misc_register(&gcheap_misc);

	if (ret)
		return ret;
	pr_info("ready, ABI %d\n", GCHEAP_ABI_VERSION);
	return 0;
}

static void __exit gcheap_exit(void)
{
	misc_deregister(&gcheap_misc);
}

module_init(gcheap_init);
module_exit(gcheap_exit);
MODULE_DESCRIPTION("Go-style garbage-collected heap for user processes");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.1");
