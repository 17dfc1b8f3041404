// SPDX-License-Identifier: GPL-2.0
/*
 * fewmul: training contexts, the module's limits and the published
 * totals.
 *
 * Every other file of the module uses this one; it calls none of them.
 * A context is one open file of /dev/fewmul. What a training run has
 * done is published here after every minibatch (under stats_lock), and
 * the STATS and HIST ioctls and genetlink read only that, so they answer
 * while the context trains and never touch the model.
 */
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/cred.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "fewmul.h"
#include "fewmul_simd.h"

static unsigned int max_workers;
module_param(max_workers, uint, 0444);
MODULE_PARM_DESC(max_workers,
		 "Cap on worker threads per training step (0: one per online CPU)");

unsigned int fewmul_max_scratch_mb = 256;
module_param_named(max_scratch_mb, fewmul_max_scratch_mb, uint, 0444);
MODULE_PARM_DESC(max_scratch_mb,
		 "Per-context limit on kernel scratch memory, in MiB (default 256)");

static unsigned int max_contexts_per_user = 256;
module_param(max_contexts_per_user, uint, 0644);
MODULE_PARM_DESC(max_contexts_per_user,
		 "Open contexts per user (euid); more opens fail with EMFILE (default 256, 0: no limit)");

static unsigned int max_user_scratch_mb = 1024;
module_param(max_user_scratch_mb, uint, 0644);
MODULE_PARM_DESC(max_user_scratch_mb,
		 "Kernel memory of all models of one user (euid), in MiB; more fails with EDQUOT (default 1024, 0: no limit)");

static unsigned int max_total_scratch_mb;
module_param(max_total_scratch_mb, uint, 0644);
MODULE_PARM_DESC(max_total_scratch_mb,
		 "Kernel memory of all models, in MiB; more fails with ENOSPC (default 0: half of RAM)");

/**
 * struct fewmul_user - what one user (effective uid) holds in the module
 * @node: entry in fewmul_users
 * @uid: the user
 * @refs: contexts opened by the user plus models charged to it
 * @contexts: open contexts (max_contexts_per_user)
 * @scratch: bytes of models' kernel memory (max_user_scratch_mb)
 */
struct fewmul_user {
	struct list_head node;
	kuid_t uid;
	unsigned int refs;
	unsigned int contexts;
	u64 scratch;
};

static LIST_HEAD(fewmul_users);
static DEFINE_MUTEX(fewmul_users_lock);	/* the list, the counts, the total */
static u64 fewmul_scratch_total;

LIST_HEAD(fewmul_ctx_list);
DEFINE_MUTEX(fewmul_ctx_list_lock);	/* protects the list and the count */
static unsigned int fewmul_ctx_count;
static u64 fewmul_ctx_next_id;	/* fewmul_ctx_list_lock */

#define FEWMUL_STATS_SIZE_VER1	offsetofend(struct fewmul_stats, muls)
#define FEWMUL_HIST_SIZE_VER1	offsetofend(struct fewmul_hist, bins)

unsigned int fewmul_nr_workers(void)
{
	unsigned int n = num_online_cpus();

	if (max_workers && max_workers < n)
		n = max_workers;
	return clamp(n, 1U, (unsigned int)FEWMUL_MAX_WORKERS);
}

void fewmul_fill_info(struct fewmul_info *info)
{
	info->abi_version = FEWMUL_ABI_VERSION;
	info->nr_workers = fewmul_nr_workers();
	info->features = FEWMUL_FEATURE_INFO | FEWMUL_FEATURE_GENL_INFO |
			 FEWMUL_FEATURE_TRAIN | FEWMUL_FEATURE_GENL_STATS |
			 FEWMUL_FEATURE_RUN_OUTPUTS | FEWMUL_FEATURE_RUN_EPOCH |
			 FEWMUL_FEATURE_HELP | FEWMUL_FEATURE_EXCHANGE |
			 FEWMUL_FEATURE_DIVS | FEWMUL_FEATURE_BN_SHIFT2;
	info->max_layers = FEWMUL_MAX_LAYERS;
	info->max_width = FEWMUL_MAX_WIDTH;
	info->max_batch = FEWMUL_MAX_BATCH;
	info->pad = 0;
	info->max_scratch_bytes = (u64)fewmul_max_scratch_mb << 20;
	strscpy(info->simd, fewmul_simd_name(), sizeof(info->simd));
}

/*
 * Module unload: every file is closed (each held a module reference), so
 * every context, model and charge must be gone. A leak warns, which the
 * tests' kernel log checks catch.
 */
void fewmul_ctx_exit(void)
{
	WARN(fewmul_ctx_count || fewmul_scratch_total ||
	     !list_empty(&fewmul_users),
	     "fewmul: %u contexts, %llu bytes of models, users %s at unload\n",
	     fewmul_ctx_count, fewmul_scratch_total,
	     list_empty(&fewmul_users) ? "none" : "left");
}

unsigned int fewmul_nr_contexts(void)
{
	unsigned int n;

	mutex_lock(&fewmul_ctx_list_lock);
	n = fewmul_ctx_count;
	mutex_unlock(&fewmul_ctx_list_lock);
	return n;
}

/* ---- per-user and global limits --------------------------------------- */

/* The record of @uid, created when missing; caller holds fewmul_users_lock. */
static struct fewmul_user *fewmul_user_find(kuid_t uid)
{
	struct fewmul_user *u;

	list_for_each_entry(u, &fewmul_users, node)
		if (uid_eq(u->uid, uid))
			return u;
	u = kzalloc(sizeof(*u), GFP_KERNEL);
	if (!u)
		return NULL;
	u->uid = uid;
	list_add(&u->node, &fewmul_users);
	return u;
}

/* Drop one reference; caller holds fewmul_users_lock. */
static void fewmul_user_put_locked(struct fewmul_user *u)
{
	if (--u->refs)
		return;
	list_del(&u->node);
	kfree(u);
}

/*
 * A context of the calling user (euid), counted against
 * max_contexts_per_user. Return: the user (a reference) or an ERR_PTR:
 * -EMFILE at the limit, -ENOMEM.
 */
static struct fewmul_user *fewmul_user_add_ctx(void)
{
	unsigned int limit = READ_ONCE(max_contexts_per_user);
	struct fewmul_user *u;

	mutex_lock(&fewmul_users_lock);
	u = fewmul_user_find(current_euid());
	if (!u) {
		u = ERR_PTR(-ENOMEM);
	} else if (limit && u->contexts >= limit) {
		if (!u->refs)
			fewmul_user_put_locked(u);	/* just created */
		u = ERR_PTR(-EMFILE);
	} else {
		u->contexts++;
		u->refs++;
	}
	mutex_unlock(&fewmul_users_lock);
	return u;
}

static void fewmul_user_del_ctx(struct fewmul_user *u)
{
	mutex_lock(&fewmul_users_lock);
	u->contexts--;
	fewmul_user_put_locked(u);
	mutex_unlock(&fewmul_users_lock);
}

/* max_total_scratch_mb in bytes; 0 means half of RAM. */
static u64 fewmul_total_scratch_limit(void)
{
	unsigned int mb = READ_ONCE(max_total_scratch_mb);

	if (!mb)
		return ((u64)totalram_pages() << PAGE_SHIFT) / 2;
	return (u64)mb << 20;
}

/**
 * fewmul_scratch_charge() - charge a model's kernel memory to the caller
 * @bytes: the model's kernel memory (fewmul_state_bytes())
 *
 * Checked before anything is allocated, against the caller's (euid)
 * max_user_scratch_mb and the module's max_total_scratch_mb, with every
 * model still held counted (a model being replaced too: both exist until
 * the new one is in place).
 *
 * Return: the charged user (a reference, for fewmul_scratch_uncharge()),
 * or an ERR_PTR: -EDQUOT over the user's limit, -ENOSPC over the global
 * one, -ENOMEM.
 */
struct fewmul_user *fewmul_scratch_charge(u64 bytes)
{
	u64 user_limit = (u64)READ_ONCE(max_user_scratch_mb) << 20;
	u64 total_limit = fewmul_total_scratch_limit();
	struct fewmul_user *u;

	mutex_lock(&fewmul_users_lock);
	u = fewmul_user_find(current_euid());
	if (!u) {
		u = ERR_PTR(-ENOMEM);
		goto out;
	}
	if (user_limit && u->scratch + bytes > user_limit) {
		if (!u->refs)
			fewmul_user_put_locked(u);
		u = ERR_PTR(-EDQUOT);
		goto out;
	}
	if (fewmul_scratch_total + bytes > total_limit) {
		if (!u->refs)
			fewmul_user_put_locked(u);
		u = ERR_PTR(-ENOSPC);
		goto out;
	}
	u->scratch += bytes;
	u->refs++;
	fewmul_scratch_total += bytes;
out:
	mutex_unlock(&fewmul_users_lock);
	return u;
}

/* Give back what fewmul_scratch_charge() took, to the same user. */
void fewmul_scratch_uncharge(struct fewmul_user *u, u64 bytes)
{
	mutex_lock(&fewmul_users_lock);
	u->scratch -= bytes;
	fewmul_scratch_total -= bytes;
	fewmul_user_put_locked(u);
	mutex_unlock(&fewmul_users_lock);
}

/**
 * fewmul_ctx_new() - a new context of the calling task, on the list
 *
 * Return: the context (one reference), or an ERR_PTR: -EMFILE when the
 * user has max_contexts_per_user open, -ENOMEM.
 */
struct fewmul_ctx *fewmul_ctx_new(void)
{
	struct fewmul_user *user;
	struct fewmul_ctx *ctx;

	user = fewmul_user_add_ctx();
	if (IS_ERR(user))
		return ERR_CAST(user);
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx) {
		fewmul_user_del_ctx(user);
		return ERR_PTR(-ENOMEM);
	}
	ctx->user = user;

	kref_init(&ctx->ref);
	mutex_init(&ctx->lock);
	spin_lock_init(&ctx->stats_lock);
	fewmul_team_init(&ctx->team);
	fewmul_xchg_init(&ctx->xchg);
	ctx->owner_pid = get_pid(task_tgid(current));
	ctx->owner_uid = current_euid();

	/* The id under the lock: the list stays in id order (dumps rely on it). */
	mutex_lock(&fewmul_ctx_list_lock);
	ctx->id = ++fewmul_ctx_next_id;
	list_add_tail(&ctx->node, &fewmul_ctx_list);
	fewmul_ctx_count++;
	mutex_unlock(&fewmul_ctx_list_lock);
	return ctx;
}

/* The file is closed: genetlink no longer finds the context. */
void fewmul_ctx_unlist(struct fewmul_ctx *ctx)
{
	mutex_lock(&fewmul_ctx_list_lock);
	list_del(&ctx->node);
	fewmul_ctx_count--;
	mutex_unlock(&fewmul_ctx_list_lock);
}

/* The last reference is gone and the model and buffers are released. */
void fewmul_ctx_destroy(struct fewmul_ctx *ctx)
{
	put_pid(ctx->owner_pid);
	fewmul_user_del_ctx(ctx->user);
	mutex_destroy(&ctx->lock);
	kfree(ctx);
}

/**
 * fewmul_copy_arg() - copy a size-extensible ioctl argument from userspace
 * @karg: kernel copy, @ksize bytes
 * @ksize: size of the struct this module knows
 * @minsize: smallest size ever accepted for this struct
 * @uarg: user pointer; its first __u32 is the size userspace passed
 * @csize: the size encoded in the command, 0 for a legacy _IO() command
 * @usize: returns the user size, to bound the copy back
 *
 * Return: 0, -EFAULT, -EINVAL for a size below @minsize or other than
 * @csize, or -E2BIG for a larger struct whose unknown tail is not zero (or
 * that is absurdly large).
 */
int fewmul_copy_arg(void *karg, size_t ksize, size_t minsize,
		    void __user *uarg, u32 csize, u32 *usize)
{
	if (get_user(*usize, (u32 __user *)uarg))
		return -EFAULT;
	if (*usize < minsize || (csize && *usize != csize))
		return -EINVAL;
	if (*usize > FEWMUL_MAX_ARG_SIZE)
		return -E2BIG;
	return copy_struct_from_user(karg, ksize, uarg, *usize);
}

/* ---- published totals ---------------------------------------------------- */

/* A new model (or none, cfg NULL): totals start over. */
void fewmul_totals_reset(struct fewmul_ctx *ctx, const struct fewmul_config *cfg,
			 u64 step)
{
	spin_lock(&ctx->stats_lock);
	memset(&ctx->totals, 0, sizeof(ctx->totals));
	memset(ctx->layer_ops, 0, sizeof(ctx->layer_ops));
	memset(ctx->hist, 0, sizeof(ctx->hist));
	if (cfg) {
		ctx->totals.has_model = true;
		ctx->totals.nr_layers = cfg->nr_layers;
		ctx->totals.weights = cfg->weights;
		ctx->totals.qbp = cfg->qbp;
		ctx->totals.step = step;
	}
	spin_unlock(&ctx->stats_lock);
}

/*
 * A call starts (busy, @total minibatches; @train: a training call's
 * argument, for its epoch and place in it) or ends (!busy).
 */
void fewmul_totals_busy(struct fewmul_ctx *ctx, bool busy, u64 total,
			const struct fewmul_run *train)
{
	spin_lock(&ctx->stats_lock);
	ctx->totals.busy = busy;
	ctx->totals.done = 0;
	ctx->totals.total = total;
	if (train) {
		ctx->totals.epoch = train->epoch;
		ctx->totals.epoch_first = train->epoch_done;
		ctx->totals.epoch_done = train->epoch_done;
		ctx->totals.epoch_total = train->epoch_total;
	}
	spin_unlock(&ctx->stats_lock);
}

/**
 * fewmul_totals_publish() - publish one finished minibatch
 * @ctx: the context
 * @m: its model, after the step
 * @res: the step's outcome
 * @train: a training step (its samples, errors and loss are counted)
 * @nb: samples in the minibatch
 * @done: minibatches of the current call done so far
 */
void fewmul_totals_publish(struct fewmul_ctx *ctx, const struct fewmul_model *m,
			   const struct fewmul_step_result *res, bool train,
			   u32 nb, u64 done)
{
	u32 l, L = m->cfg.nr_layers;

	spin_lock(&ctx->stats_lock);
	for (l = 0; l < FEWMUL_LAYER_SLOTS; l++)
		fewmul_counters_add(&ctx->layer_ops[l], &res->layers[l]);
	fewmul_counters_add(&ctx->totals.ops, &res->ops);
	for (l = 1; l < L; l++)
		memcpy(ctx->hist[l], m->hist[l], sizeof(ctx->hist[l]));
	ctx->totals.step = m->step;
	ctx->totals.done = done;
	if (train) {
		ctx->totals.samples += nb;
		ctx->totals.errors += res->errors;
		ctx->totals.loss += res->loss;
		ctx->totals.batch_loss = res->loss;
		ctx->totals.batch_errors = res->errors;
		ctx->totals.batch_size = nb;
		ctx->totals.epoch_done = ctx->totals.epoch_first + done;
	}
	spin_unlock(&ctx->stats_lock);
}

int fewmul_ioctl_stats(struct fewmul_ctx *ctx, void __user *uarg, u32 csize)
{
	struct fewmul_stats arg;
	u32 usize;
	int ret;

	ret = fewmul_copy_arg(&arg, sizeof(arg), FEWMUL_STATS_SIZE_VER1,
			      uarg, csize, &usize);
	if (ret)
		return ret;
	if (arg.flags)
		return -EINVAL;
	/* Only the published totals: a MODEL_CREATE may run meanwhile. */
	spin_lock(&ctx->stats_lock);
	if (!ctx->totals.has_model) {
		spin_unlock(&ctx->stats_lock);
		return -ENODEV;
	}
	arg.step = ctx->totals.step;
	arg.samples = ctx->totals.samples;
	arg.errors = ctx->totals.errors;
	arg.loss = ctx->totals.loss;
	arg.adds = ctx->totals.ops.adds;
	arg.shifts = ctx->totals.ops.shifts;
	arg.muls = ctx->totals.ops.muls;
	arg.divs = ctx->totals.ops.divs;
	arg.saturated = ctx->totals.ops.sats;
	spin_unlock(&ctx->stats_lock);
	if (copy_to_user(uarg, &arg, min_t(size_t, usize, sizeof(arg))))
		return -EFAULT;
	return 0;
}

/**
 * fewmul_hist_read() - one layer's published counters and histogram
 * @ctx: the context
 * @layer: 0..nr_layers of its model
 * @ops: the layer's operation counters
 * @bins: %FEWMUL_HIST_NR_BINS u64
 *
 * Return: 0, -ENODEV without a model, -EINVAL for a layer it lacks.
 */
int fewmul_hist_read(struct fewmul_ctx *ctx, u32 layer,
		     struct fewmul_counters *ops, u64 *bins)
{
	int ret = 0;

	spin_lock(&ctx->stats_lock);
	if (!ctx->totals.has_model)
		ret = -ENODEV;
	else if (layer > ctx->totals.nr_layers)
		ret = -EINVAL;
	if (!ret) {
		*ops = ctx->layer_ops[layer];
		memcpy(bins, ctx->hist[layer], sizeof(ctx->hist[layer]));
	}
	spin_unlock(&ctx->stats_lock);
	return ret;
}

int fewmul_ioctl_hist(struct fewmul_ctx *ctx, void __user *uarg, u32 csize)
{
	struct fewmul_counters ops;
	struct fewmul_hist arg;
	u32 usize;
	int ret;

	ret = fewmul_copy_arg(&arg, sizeof(arg), FEWMUL_HIST_SIZE_VER1,
			      uarg, csize, &usize);
	if (ret)
		return ret;
	if (arg.flags || arg.pad)
		return -EINVAL;
	ret = fewmul_hist_read(ctx, arg.layer, &ops, arg.bins);
	if (ret)
		return ret;
	arg.adds = ops.adds;
	arg.shifts = ops.shifts;
	arg.muls = ops.muls;
	arg.divs = ops.divs;
	arg.saturated = ops.sats;
	if (copy_to_user(uarg, &arg, min_t(size_t, usize, sizeof(arg))))
		return -EFAULT;
	return 0;
}

/* Smallest struct fewmul_info ever accepted (ABI version 1). */
#define FEWMUL_INFO_SIZE_VER1 \
	offsetofend(struct fewmul_info, max_scratch_bytes)

int fewmul_ioctl_info(struct fewmul_ctx *ctx, void __user *uarg, u32 csize)
{
	struct fewmul_info info;
	u32 usize;
	int ret;

	ret = fewmul_copy_arg(&info, sizeof(info), FEWMUL_INFO_SIZE_VER1,
			      uarg, csize, &usize);
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
