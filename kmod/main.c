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
	info.heap_base = 0;
	info.heap_max = 0;
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
	return 0;
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
