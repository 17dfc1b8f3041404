// SPDX-License-Identifier: GPL-2.0
/*
 * fewmul: the /dev/fewmul misc device.
 *
 * Each open file is one training context (struct fewmul_ctx), reference
 * counted so that work running on it can outlive the ioctl that started it
 * but never the module.
 */
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "fewmul.h"

static unsigned int max_workers;
module_param(max_workers, uint, 0444);
MODULE_PARM_DESC(max_workers,
		 "Cap on worker threads per training step (0: one per online CPU)");

unsigned int fewmul_max_scratch_mb = 256;
module_param_named(max_scratch_mb, fewmul_max_scratch_mb, uint, 0444);
MODULE_PARM_DESC(max_scratch_mb,
		 "Per-context limit on kernel scratch memory, in MiB (default 256)");

LIST_HEAD(fewmul_ctx_list);
DEFINE_MUTEX(fewmul_ctx_list_lock);	/* protects the list and the count */
static unsigned int fewmul_ctx_count;
static atomic64_t fewmul_ctx_next_id = ATOMIC64_INIT(0);

/* Smallest struct fewmul_info ever accepted (ABI version 1). */
#define FEWMUL_INFO_SIZE_VER1 \
	offsetofend(struct fewmul_info, max_scratch_bytes)

unsigned int fewmul_nr_workers(void)
{
	unsigned int n = num_online_cpus();

	if (max_workers && max_workers < n)
		n = max_workers;
	return max(n, 1U);
}

void fewmul_fill_info(struct fewmul_info *info)
{
	info->abi_version = FEWMUL_ABI_VERSION;
	info->nr_workers = fewmul_nr_workers();
	info->features = FEWMUL_FEATURE_INFO | FEWMUL_FEATURE_GENL_INFO |
			 FEWMUL_FEATURE_TRAIN | FEWMUL_FEATURE_GENL_STATS;
	info->max_layers = FEWMUL_MAX_LAYERS;
	info->max_width = FEWMUL_MAX_WIDTH;
	info->max_batch = FEWMUL_MAX_BATCH;
	info->pad = 0;
	info->max_scratch_bytes = (u64)fewmul_max_scratch_mb << 20;
}

unsigned int fewmul_nr_contexts(void)
{
	unsigned int n;

	mutex_lock(&fewmul_ctx_list_lock);
	n = fewmul_ctx_count;
	mutex_unlock(&fewmul_ctx_list_lock);
	return n;
}

/**
 * fewmul_copy_arg() - copy a size-extensible ioctl argument from userspace
 * @karg: kernel copy, @ksize bytes
 * @ksize: size of the struct this module knows
 * @minsize: smallest size ever accepted for this struct
 * @uarg: user pointer; its first __u32 is the size userspace passed
 * @usize: returns the user size, to bound the copy back
 *
 * Return: 0, -EFAULT, -EINVAL for a size below @minsize, or -E2BIG for a
 * larger struct whose unknown tail is not zero (or that is absurdly large).
 */
int fewmul_copy_arg(void *karg, size_t ksize, size_t minsize,
		    void __user *uarg, u32 *usize)
{
	if (get_user(*usize, (u32 __user *)uarg))
		return -EFAULT;
	if (*usize < minsize)
		return -EINVAL;
	if (*usize > FEWMUL_MAX_ARG_SIZE)
		return -E2BIG;
	return copy_struct_from_user(karg, ksize, uarg, *usize);
}

static int fewmul_ioctl_info(struct fewmul_ctx *ctx, void __user *uarg)
{
	struct fewmul_info info;
	u32 usize;
	int ret;

	ret = fewmul_copy_arg(&info, sizeof(info), FEWMUL_INFO_SIZE_VER1,
			      uarg, &usize);
	if (ret)
		return ret;
	if (info.flags & ~FEWMUL_INFO_FLAGS_ALL)
		return -EINVAL;
	if (info.pad)
		return -EINVAL;

	fewmul_fill_info(&info);
	if (copy_to_user(uarg, &info, min_t(size_t, usize, sizeof(info))))
		return -EFAULT;
	return 0;
}

static long fewmul_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct fewmul_ctx *ctx = file->private_data;
	void __user *uarg = (void __user *)arg;

	long ret;

	switch (cmd) {
	case FEWMUL_IOC_INFO:
		return fewmul_ioctl_info(ctx, uarg);
	case FEWMUL_IOC_STATS:
		return fewmul_ioctl_stats(ctx, uarg);
	case FEWMUL_IOC_HIST:
		return fewmul_ioctl_hist(ctx, uarg);
	case FEWMUL_IOC_BUF_REGISTER:
	case FEWMUL_IOC_BUF_UNREGISTER:
	case FEWMUL_IOC_MODEL_CREATE:
	case FEWMUL_IOC_TRAIN:
	case FEWMUL_IOC_EVAL:
		break;
	default:
		return -ENOIOCTLCMD;
	}

	/*
	 * One call at a time changes a context; a second one (another
	 * thread sharing the file) gets -EBUSY instead of waiting behind a
	 * training run that may last minutes.
	 */
	if (!mutex_trylock(&ctx->lock))
		return -EBUSY;
	switch (cmd) {
	case FEWMUL_IOC_BUF_REGISTER:
		ret = fewmul_ioctl_buf_register(ctx, uarg);
		break;
	case FEWMUL_IOC_BUF_UNREGISTER:
		ret = fewmul_ioctl_buf_unregister(ctx, uarg);
		break;
	case FEWMUL_IOC_MODEL_CREATE:
		ret = fewmul_ioctl_model_create(ctx, uarg);
		break;
	case FEWMUL_IOC_TRAIN:
		ret = fewmul_ioctl_run(ctx, uarg, true);
		break;
	default:
		ret = fewmul_ioctl_run(ctx, uarg, false);
		break;
	}
	mutex_unlock(&ctx->lock);
	return ret;
}

static int fewmul_open(struct inode *inode, struct file *file)
{
	struct fewmul_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;

	kref_init(&ctx->ref);
	mutex_init(&ctx->lock);
	spin_lock_init(&ctx->stats_lock);
	ctx->id = atomic64_inc_return(&fewmul_ctx_next_id);
	ctx->owner_tgid = task_tgid_vnr(current);
	ctx->owner_uid = current_euid();

	mutex_lock(&fewmul_ctx_list_lock);
	list_add_tail(&ctx->node, &fewmul_ctx_list);
	fewmul_ctx_count++;
	mutex_unlock(&fewmul_ctx_list_lock);

	file->private_data = ctx;
	return nonseekable_open(inode, file);
}

static void fewmul_ctx_free(struct kref *ref)
{
	struct fewmul_ctx *ctx = container_of(ref, struct fewmul_ctx, ref);

	fewmul_state_release(ctx);
	fewmul_bufs_release(ctx);
	mutex_destroy(&ctx->lock);
	kfree(ctx);
}

static int fewmul_release(struct inode *inode, struct file *file)
{
	struct fewmul_ctx *ctx = file->private_data;

	mutex_lock(&fewmul_ctx_list_lock);
	list_del(&ctx->node);
	fewmul_ctx_count--;
	mutex_unlock(&fewmul_ctx_list_lock);

	kref_put(&ctx->ref, fewmul_ctx_free);
	return 0;
}

static const struct file_operations fewmul_fops = {
	.owner		= THIS_MODULE,
	.open		= fewmul_open,
	.release	= fewmul_release,
	.unlocked_ioctl	= fewmul_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct miscdevice fewmul_misc = {
	.minor		= MISC_DYNAMIC_MINOR,
	.name		= FEWMUL_DEVICE_NAME,
	.fops		= &fewmul_fops,
	.mode		= 0660,
};

static int __init fewmul_init(void)
{
	int ret;

	ret = fewmul_train_init();
	if (ret)
		goto err_out;

	ret = fewmul_genl_init();
	if (ret)
		goto err_train;

	ret = misc_register(&fewmul_misc);
	if (ret)
		goto err_genl;

	pr_info("version %s, ABI %u, %u workers\n", FEWMUL_VERSION,
		FEWMUL_ABI_VERSION, fewmul_nr_workers());
	return 0;

err_genl:
	fewmul_genl_exit();
err_train:
	fewmul_train_exit();
err_out:
	return ret;
}

static void __exit fewmul_exit(void)
{
	misc_deregister(&fewmul_misc);
	fewmul_genl_exit();
	fewmul_train_exit();
}

module_init(fewmul_init);
module_exit(fewmul_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The fewmul developers");
MODULE_DESCRIPTION("Integer-only, shift-based neural network training");
MODULE_VERSION(FEWMUL_VERSION);
