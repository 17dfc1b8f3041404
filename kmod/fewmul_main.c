// SPDX-License-Identifier: GPL-2.0
/*
 * fewmul: the /dev/fewmul misc device: module init, file operations and
 * the ioctl switch.
 *
 * Each open file is one training context (fewmul_ctx.c), reference
 * counted so that work running on it can outlive the ioctl that started
 * it but never the module. The handlers live with what they own:
 * fewmul_ctx.c (info, stats, histograms), fewmul_buf.c (pinned buffers),
 * fewmul_train.c (models, training and evaluation).
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "fewmul.h"

/* Calls that change a context: one at a time, under ctx->lock. */
static long fewmul_ioctl_locked(struct fewmul_ctx *ctx, unsigned int nr,
				void __user *uarg, u32 csize)
{
	switch (nr) {
	case FEWMUL_IOC_NR_BUF_REGISTER:
		return fewmul_ioctl_buf_register(ctx, uarg, csize);
	case FEWMUL_IOC_NR_BUF_UNREGISTER:
		return fewmul_ioctl_buf_unregister(ctx, uarg, csize);
	case FEWMUL_IOC_NR_MODEL_CREATE:
		return fewmul_ioctl_model_create(ctx, uarg, csize);
	case FEWMUL_IOC_NR_TRAIN:
		return fewmul_ioctl_run(ctx, uarg, csize, true);
	case FEWMUL_IOC_NR_EVAL:
		return fewmul_ioctl_run(ctx, uarg, csize, false);
	}
	return -ENOIOCTLCMD;
}

/*
 * The command's number and the size it encodes: _IOWR(type, nr, size)
 * (any size: the struct's own @size field must match it, see
 * fewmul_copy_arg()), or the first modules' _IO(type, nr) with size 0
 * for the commands that existed then. Anything else is not ours.
 */
static int fewmul_cmd_decode(unsigned int cmd, u32 *csize)
{
	unsigned int nr = _IOC_NR(cmd);

	if (_IOC_TYPE(cmd) != FEWMUL_IOC_TYPE)
		return -1;
	if (_IOC_DIR(cmd) == (_IOC_READ | _IOC_WRITE) && _IOC_SIZE(cmd)) {
		*csize = _IOC_SIZE(cmd);
		return nr;
	}
	if (cmd == FEWMUL_IOC_LEGACY(nr) && nr <= FEWMUL_IOC_NR_HIST) {
		*csize = 0;
		return nr;
	}
	return -1;
}

static long fewmul_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct fewmul_ctx *ctx = file->private_data;
	void __user *uarg = (void __user *)arg;
	u32 csize;
	long ret;

	switch (fewmul_cmd_decode(cmd, &csize)) {
	/* Read-only calls never wait, not even for a training run. */
	case FEWMUL_IOC_NR_INFO:
		return fewmul_ioctl_info(ctx, uarg, csize);
	case FEWMUL_IOC_NR_STATS:
		return fewmul_ioctl_stats(ctx, uarg, csize);
	case FEWMUL_IOC_NR_HIST:
		return fewmul_ioctl_hist(ctx, uarg, csize);
	/* Waits for work of any call on the context, outside the lock. */
	case FEWMUL_IOC_NR_HELP:
		return fewmul_ioctl_help(ctx, uarg, csize);
	/* Serves the exchanges of a TRAIN/EVAL that holds the lock. */
	case FEWMUL_IOC_NR_EXCHANGE:
		return fewmul_ioctl_exchange(ctx, uarg, csize);
	case FEWMUL_IOC_NR_BUF_REGISTER:
	case FEWMUL_IOC_NR_BUF_UNREGISTER:
	case FEWMUL_IOC_NR_MODEL_CREATE:
	case FEWMUL_IOC_NR_TRAIN:
	case FEWMUL_IOC_NR_EVAL:
		/*
		 * A second call (another thread sharing the file) gets
		 * -EBUSY instead of waiting behind a training run that may
		 * last minutes.
		 */
		if (!mutex_trylock(&ctx->lock))
			return -EBUSY;
		ret = fewmul_ioctl_locked(ctx, _IOC_NR(cmd), uarg, csize);
		mutex_unlock(&ctx->lock);
		return ret;
	}
	return -ENOIOCTLCMD;
}

static int fewmul_open(struct inode *inode, struct file *file)
{
	struct fewmul_ctx *ctx = fewmul_ctx_new();

	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	file->private_data = ctx;
	return nonseekable_open(inode, file);
}

static void fewmul_ctx_free(struct kref *ref)
{
	struct fewmul_ctx *ctx = container_of(ref, struct fewmul_ctx, ref);

	fewmul_state_release(ctx);
	fewmul_bufs_release(ctx);
	fewmul_ctx_destroy(ctx);
}

static int fewmul_release(struct inode *inode, struct file *file)
{
	struct fewmul_ctx *ctx = file->private_data;

	fewmul_ctx_unlist(ctx);
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

	ret = fewmul_genl_init();
	if (ret)
		return ret;

	ret = misc_register(&fewmul_misc);
	if (ret)
		goto err_genl;

	pr_info("version %s, ABI %u, up to %u threads per step\n",
		FEWMUL_VERSION, FEWMUL_ABI_VERSION, fewmul_nr_workers());
	return 0;

err_genl:
	fewmul_genl_exit();
	return ret;
}

static void __exit fewmul_exit(void)
{
	misc_deregister(&fewmul_misc);
	fewmul_genl_exit();
	fewmul_ctx_exit();
}

module_init(fewmul_init);
module_exit(fewmul_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The fewmul developers");
MODULE_DESCRIPTION("Integer-only, shift-based neural network training");
MODULE_VERSION(FEWMUL_VERSION);
