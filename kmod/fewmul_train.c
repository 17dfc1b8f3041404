// SPDX-License-Identifier: GPL-2.0
/*
 * fewmul: models, training and evaluation on pinned user buffers.
 *
 * A model is the engine of kmod/core bound to kernel memory (vmalloc,
 * charged to the caller's memory cgroup, bounded by the max_scratch_mb
 * module parameter): scratch and a private copy of the parameters. The
 * parameters' home is the arena, a registered user buffer: MODEL_CREATE
 * reads it in (and range-checks it: the engine's arithmetic is only
 * defined for parameters in range, and user memory can change at any
 * time), and every call that changes the parameters writes them back
 * before it returns. So the user reads a current model from the arena
 * after any call, and nothing the user writes there meanwhile reaches the
 * engine.
 *
 * A train or eval call runs minibatch after minibatch, each one
 * fewmul_batch_step() of the core, exactly as the userspace cpu backend
 * does. This file supplies the step's workers (struct fewmul_exec): every
 * phase is split into shares by the core's rule and run by the calling
 * thread and the threads the caller lent to the context with
 * FEWMUL_IOC_HELP (struct fewmul_team); all meet before the next phase.
 * No kernel thread runs a caller's work, so its CPU time lands in the
 * caller's threads, process and cgroup, under their affinity, nice value
 * and cpu.max. The engine's result does not depend on the split, so the
 * parameters are bit-identical to the cpu backend's for the same seed and
 * inputs, whoever runs the shares.
 */
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "fewmul.h"

#define FEWMUL_MODEL_SIZE_VER1	offsetofend(struct fewmul_model_create, scratch_bytes)
#define FEWMUL_RUN_SIZE_VER1	offsetofend(struct fewmul_run, muls)

#define FEWMUL_MAX_INDICES	BIT(24)

/**
 * struct fewmul_state - a model and everything a run needs
 * @m: the engine's model (bound to @params and @scratch)
 * @ex: how the core's step reaches the workers
 * @arena: the arena buffer (its @users count holds it)
 * @params: the kernel's copy of the parameters, vmalloc
 * @scratch: engine scratch, fewmul_scratch_size() bytes, vmalloc
 * @bytes: kernel memory accounted to this model
 * @user: the user @bytes are charged to (fewmul_scratch_charge()), or NULL
 * @team: the context's threads (&fewmul_ctx.team)
 * @xchg: the context's exchanges (&fewmul_ctx.xchg)
 * @dp: the engine's data-parallel sums, fewmul_dp_size() bytes, vmalloc,
 *	or NULL (a model created without %FEWMUL_MODEL_DATA_PARALLEL)
 * @xbuf: the call's exchange buffer (&fewmul_run.dp_buffer), or NULL
 * @xbuf_handle: its handle
 * @max_workers: shares a phase may be split into (a minibatch may use fewer)
 * @res: the outcome of the last step
 * @call_ops: this call's counters per layer, [FEWMUL_LAYER_SLOTS]
 * @ptr: image pointers of the current minibatch, [batch]
 * @idx: dataset indices of the current minibatch, [batch]
 * @lab: labels of the current minibatch (a kernel copy), [batch]
 * @pred: predictions of the current minibatch, [batch]
 */
struct fewmul_state {
	struct fewmul_model m;
	struct fewmul_exec ex;
	struct fewmul_buf *arena;
	void *params;
	void *scratch;
	u64 bytes;
	struct fewmul_user *user;
	struct fewmul_team *team;
	struct fewmul_xchg *xchg;
	void *dp;
	struct fewmul_buf *xbuf;
	u32 xbuf_handle;
	u32 max_workers;
	struct fewmul_step_result res;
	struct fewmul_op_counts call_ops[FEWMUL_LAYER_SLOTS];
	const u8 **ptr;
	u32 *idx;
	u8 *lab;
	u8 *pred;
};

void fewmul_team_init(struct fewmul_team *t)
{
	spin_lock_init(&t->lock);
	init_waitqueue_head(&t->wait);
	init_waitqueue_head(&t->done);
}

/*
 * The next share of the published phase, by a helper or by the caller
 * taking what no helper took: t->lock held, dropped while it runs.
 */
static void fewmul_team_run_one(struct fewmul_team *t)
	__releases(&t->lock) __acquires(&t->lock)
{
	struct fewmul_state *st = t->st;
	u32 p = t->phase, nw = t->nw, w = t->next++;

	t->running++;
	spin_unlock(&t->lock);
	fewmul_phase_share(&st->m, p, w, nw, fewmul_exec_ops(&st->ex, w));
	spin_lock(&t->lock);
	if (!--t->running)
		wake_up(&t->done);
}

static bool fewmul_team_has_work(struct fewmul_team *t)
{
	bool ret;

	spin_lock(&t->lock);
	ret = t->stopped || (t->st && t->next < t->nw);
	spin_unlock(&t->lock);
	return ret;
}

static bool fewmul_team_idle(struct fewmul_team *t)
{
	bool ret;

	spin_lock(&t->lock);
	ret = !t->running;
	spin_unlock(&t->lock);
	return ret;
}

/* Threads for the next minibatch: the caller and the helpers waiting now. */
static u32 fewmul_team_size(struct fewmul_state *st)
{
	struct fewmul_team *t = st->team;
	u32 n;

	spin_lock(&t->lock);
	n = t->stopped ? 1 : t->helpers + 1;
	spin_unlock(&t->lock);
	return min(n, st->max_workers);
}

int fewmul_ioctl_help(struct fewmul_ctx *ctx, void __user *uarg, u32 csize)
{
	struct fewmul_team *t = &ctx->team;
	struct fewmul_help arg;
	u32 usize;
	int ret;

	ret = fewmul_copy_arg(&arg, sizeof(arg), sizeof(arg), uarg, csize,
			      &usize);
	if (ret)
		return ret;
	if (arg.flags & ~FEWMUL_HELP_FLAGS_ALL)
		return -EINVAL;
	arg.shares = 0;
	if (arg.flags & FEWMUL_HELP_STOP) {
		spin_lock(&t->lock);
		t->stopped = true;
		spin_unlock(&t->lock);
		wake_up_all(&t->wait);
	} else {
		spin_lock(&t->lock);
		t->helpers++;
		while (!t->stopped) {
			if (t->st && t->next < t->nw) {
				fewmul_team_run_one(t);
				arg.shares++;
				continue;
			}
			spin_unlock(&t->lock);
			/* Shares are never interrupted; waiting for one is. */
			ret = wait_event_interruptible(t->wait,
						       fewmul_team_has_work(t));
			spin_lock(&t->lock);
			if (ret)
				break;
		}
		t->helpers--;
		spin_unlock(&t->lock);
		if (ret)
			return ret;
	}
	if (copy_to_user(uarg, &arg, min_t(size_t, usize, sizeof(arg))))
		return -EFAULT;
	return 0;
}

/*
 * The helpers' shares of the phase are done. A fatal signal cuts the wait
 * short: the step is aborted (the helpers' shares stop at their next
 * piece) and only the shares still running are waited for.
 */
static void fewmul_team_wait(struct fewmul_team *t, struct fewmul_model *m)
{
	if (!wait_event_killable(t->done, fewmul_team_idle(t)))
		return;
	WRITE_ONCE(m->abort, -EINTR);
	wait_event(t->done, fewmul_team_idle(t));
}

void fewmul_xchg_init(struct fewmul_xchg *x)
{
	spin_lock_init(&x->lock);
	init_waitqueue_head(&x->wait);
}

static bool fewmul_xchg_is(struct fewmul_xchg *x, enum fewmul_xchg_state s)
{
	bool ret;

	spin_lock(&x->lock);
	ret = x->stopped || x->state == s;
	spin_unlock(&x->lock);
	return ret;
}

static bool fewmul_xchg_posted(struct fewmul_xchg *x)
{
	return fewmul_xchg_is(x, FEWMUL_XS_POSTED);
}

/*
 * struct fewmul_model.exchange of a data-parallel call, in the thread
 * running the step: the partial sums go to the exchange buffer, a
 * FEWMUL_XCHG_WAIT caller adds them up there, and they come back into
 * the engine's own memory (checked there by the core before any use:
 * user space may write the buffer at any time). Values of 2^wshift
 * bytes (the step executes no multiply).
 */
static int fewmul_xchg_post(struct fewmul_state *st, void *v, u32 n,
			    u32 wshift)
{
	struct fewmul_xchg *x = st->xchg;
	size_t bytes = (size_t)n << wshift;
	enum fewmul_xchg_state state;
	int ret, err;

	memcpy(st->xbuf->data, v, bytes);	/* fits: fewmul_run_check() */
	spin_lock(&x->lock);
	if (x->stopped) {
		spin_unlock(&x->lock);
		return -ESHUTDOWN;
	}
	x->seq++;
	x->count = n;
	x->width = 1u << wshift;
	x->buffer = st->xbuf_handle;
	x->error = 0;
	x->state = FEWMUL_XS_POSTED;
	spin_unlock(&x->lock);
	wake_up_all(&x->wait);

	ret = wait_event_killable(x->wait, fewmul_xchg_is(x, FEWMUL_XS_DONE));
	spin_lock(&x->lock);
	state = x->state;
	err = x->error;
	x->state = FEWMUL_XS_IDLE;
	spin_unlock(&x->lock);
	if (ret) {
		WRITE_ONCE(st->m.abort, -EINTR);
		return -EINTR;
	}
	if (state != FEWMUL_XS_DONE)
		return -ESHUTDOWN;
	if (err)
		return err;
	memcpy(v, st->xbuf->data, bytes);
	return 0;
}

static int fewmul_xchg_step(void *c, s64 *v, u32 n)
{
	return fewmul_xchg_post(c, v, n, 3);
}

/* The same for a gradient that travels as s32 (FEWMUL_RUN_DP_INT32). */
static int fewmul_xchg_step32(void *c, s32 *v, u32 n)
{
	return fewmul_xchg_post(c, v, n, 2);
}

int fewmul_ioctl_exchange(struct fewmul_ctx *ctx, void __user *uarg, u32 csize)
{
	struct fewmul_xchg *x = &ctx->xchg;
	struct fewmul_exchange arg;
	u32 usize;
	int ret = 0;

	ret = fewmul_copy_arg(&arg, sizeof(arg), sizeof(arg), uarg, csize,
			      &usize);
	if (ret)
		return ret;
	if (arg.flags || (arg.op != FEWMUL_XCHG_DONE && arg.error) ||
	    arg.error < -FEWMUL_XCHG_MAX_ERRNO || arg.error > 0)
		return -EINVAL;
	spin_lock(&x->lock);
	switch (arg.op) {
	case FEWMUL_XCHG_WAIT:
		while (!x->stopped && x->state != FEWMUL_XS_POSTED) {
			spin_unlock(&x->lock);
			ret = wait_event_interruptible(x->wait, fewmul_xchg_posted(x));
			spin_lock(&x->lock);
			if (ret)
				break;
		}
		if (ret)
			break;
		if (x->stopped) {
			ret = -ESHUTDOWN;
			break;
		}
		x->state = FEWMUL_XS_CLAIMED;
		arg.seq = x->seq;
		arg.count = x->count;
		arg.width = x->width;
		arg.buffer = x->buffer;
		break;
	case FEWMUL_XCHG_DONE:
		if (x->state != FEWMUL_XS_CLAIMED) {
			ret = -ENOENT;
			break;
		}
		if (arg.seq != x->seq || arg.count != x->count ||
		    arg.width != x->width) {
			ret = -EINVAL;
			break;
		}
		x->error = arg.error;
		x->state = FEWMUL_XS_DONE;
		break;
	case FEWMUL_XCHG_STOP:
		x->stopped = true;
		break;
	default:
		ret = -EINVAL;
	}
	spin_unlock(&x->lock);
	if (ret)
		return ret;
	if (arg.op != FEWMUL_XCHG_WAIT)
		wake_up_all(&x->wait);
	if (!copy_to_user(uarg, &arg, min_t(size_t, usize, sizeof(arg))))
		return 0;
	if (arg.op == FEWMUL_XCHG_WAIT) {
		/* Nobody learnt the claim: let the next waiter have it. */
		spin_lock(&x->lock);
		if (x->state == FEWMUL_XS_CLAIMED && x->seq == arg.seq)
			x->state = FEWMUL_XS_POSTED;
		spin_unlock(&x->lock);
		wake_up_all(&x->wait);
	}
	return -EFAULT;
}

/*
 * struct fewmul_exec.run: every phase over the team, in order. The caller
 * runs share 0 and then every share no helper has taken, so a phase never
 * waits for a helper that is not there. A fatal signal aborts the step
 * between phases (and the helpers' shares between pieces): the process is
 * going away, and its model with it (fewmul_ioctl_run()).
 */
static void fewmul_exec_run(struct fewmul_exec *ex, struct fewmul_model *m)
{
	struct fewmul_state *st = container_of(ex, struct fewmul_state, ex);
	struct fewmul_team *t = st->team;
	u32 nw = ex->nr_workers, p;

	for (p = 0; p < m->nr_phases; p++) {
		if (READ_ONCE(m->abort))
			return;
		if (fatal_signal_pending(current)) {
			WRITE_ONCE(m->abort, -EINTR);
			return;
		}
		if (nw == 1 || m->plan[p].count < 2) {
			fewmul_phase_share(m, p, 0, 1, fewmul_exec_ops(ex, 0));
			continue;
		}
		spin_lock(&t->lock);
		t->st = st;
		t->phase = p;
		t->nw = nw;
		t->next = 1;
		spin_unlock(&t->lock);
		wake_up_all(&t->wait);
		fewmul_phase_share(m, p, 0, nw, fewmul_exec_ops(ex, 0));
		spin_lock(&t->lock);
		while (t->next < nw)
			fewmul_team_run_one(t);
		t->st = NULL;
		spin_unlock(&t->lock);
		fewmul_team_wait(t, m);
	}
}

static void fewmul_state_free(struct fewmul_state *st)
{
	if (!st)
		return;
	if (st->arena)
		st->arena->users--;
	kfree(st->ptr);
	kfree(st->idx);
	kfree(st->lab);
	kfree(st->pred);
	kfree(st->ex.ops);
	vfree(st->dp);
	vfree(st->scratch);
	vfree(st->params);
	if (st->user)
		fewmul_scratch_uncharge(st->user, st->bytes);
	kfree(st);
}

void fewmul_state_release(struct fewmul_ctx *ctx)
{
	fewmul_state_free(ctx->state);
	ctx->state = NULL;
}

/* The one check of an untrusted configuration on this entry point. */
static int fewmul_model_config(const struct fewmul_model_create *arg,
			       struct fewmul_config *cfg)
{
	fewmul_config_from_create(cfg, arg);
	return fewmul_config_check(cfg);
}

/* Kernel memory a model of cfg takes with nw workers. */
static u64 fewmul_state_bytes(const struct fewmul_config *cfg, unsigned int nw,
			      bool dp)
{
	return fewmul_scratch_size(cfg) + fewmul_params_size(cfg) +
	       (dp ? fewmul_dp_size(cfg) : 0) +
	       sizeof(struct fewmul_state) +
	       (u64)nw * FEWMUL_LAYER_SLOTS * sizeof(struct fewmul_counters) +
	       (u64)cfg->batch * (sizeof(u8 *) + sizeof(u32) + 2);
}

static int fewmul_state_alloc(const struct fewmul_config *cfg,
			      struct fewmul_buf *arena, u64 bytes, bool init,
			      bool dp, struct fewmul_state **out)
{
	unsigned int nw = fewmul_nr_workers();
	struct fewmul_state *st;
	u64 ss = fewmul_scratch_size(cfg);
	int ret;

	st = kzalloc(sizeof(*st), GFP_KERNEL_ACCOUNT);
	if (!st)
		return -ENOMEM;
	st->bytes = bytes;
	st->max_workers = nw;
	st->ex.nr_workers = nw;
	st->ex.run = fewmul_exec_run;
	st->scratch = __vmalloc(ss, GFP_KERNEL_ACCOUNT | __GFP_ZERO |
				 __GFP_NOWARN);
	st->params = __vmalloc(arena->length, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	st->ex.ops = kcalloc(nw * FEWMUL_LAYER_SLOTS, sizeof(*st->ex.ops),
			     GFP_KERNEL_ACCOUNT);
	st->ptr = kcalloc(cfg->batch, sizeof(*st->ptr), GFP_KERNEL_ACCOUNT);
	st->idx = kcalloc(cfg->batch, sizeof(*st->idx), GFP_KERNEL_ACCOUNT);
	st->lab = kzalloc(cfg->batch, GFP_KERNEL_ACCOUNT);
	st->pred = kzalloc(cfg->batch, GFP_KERNEL_ACCOUNT);
	if (dp)
		st->dp = __vmalloc(fewmul_dp_size(cfg), GFP_KERNEL_ACCOUNT |
				   __GFP_ZERO | __GFP_NOWARN);
	if (!st->scratch || !st->params || !st->ex.ops ||
	    !st->ptr || !st->idx || !st->lab || !st->pred || (dp && !st->dp)) {
		ret = -ENOMEM;
		goto err_free;
	}
	fewmul_model_bind(&st->m, cfg, st->params, st->scratch);
	if (init) {
		fewmul_model_init_params(&st->m);
	} else {
		memcpy(st->params, arena->data, arena->length);
		ret = fewmul_params_check(&st->m);
		if (ret)
			goto err_free;
	}
	st->arena = arena;
	arena->users++;
	*out = st;
	return 0;

err_free:
	fewmul_state_free(st);
	return ret;
}

/* A sync point: the arena gets the current parameters. */
static void fewmul_sync_arena(struct fewmul_state *st)
{
	memcpy(st->arena->data, st->params, st->arena->length);
}

int fewmul_ioctl_model_create(struct fewmul_ctx *ctx, void __user *uarg, u32 csize)
{
	struct fewmul_model_create arg;
	struct fewmul_state *st;
	struct fewmul_config cfg;
	struct fewmul_buf *arena;
	u64 bytes;
	u32 usize;
	struct fewmul_user *user;
	int ret;

	ret = fewmul_copy_arg(&arg, sizeof(arg), FEWMUL_MODEL_SIZE_VER1,
			      uarg, csize, &usize);
	if (ret)
		return ret;
	if (arg.flags & ~FEWMUL_MODEL_FLAGS_ALL || arg.pad)
		return -EINVAL;
	ret = fewmul_model_config(&arg, &cfg);
	if (ret)
		return ret;
	arena = fewmul_buf_get(ctx, arg.arena);
	if (!arena)
		return -ENOENT;
	if (!arena->write)
		return -EACCES;
	if (arena->length != fewmul_params_size(&cfg))
		return -EINVAL;
	bytes = fewmul_state_bytes(&cfg, fewmul_nr_workers(),
				   arg.flags & FEWMUL_MODEL_DATA_PARALLEL);
	if (bytes > (u64)fewmul_max_scratch_mb << 20)
		return -E2BIG;
	/* The caller's and the module's limits, before any allocation. */
	user = fewmul_scratch_charge(bytes);
	if (IS_ERR(user))
		return PTR_ERR(user);

	ret = fewmul_state_alloc(&cfg, arena, bytes,
				 arg.flags & FEWMUL_MODEL_INIT,
				 arg.flags & FEWMUL_MODEL_DATA_PARALLEL, &st);
	if (ret) {
		fewmul_scratch_uncharge(user, bytes);
		return ret;
	}
	st->user = user;
	st->team = &ctx->team;
	st->xchg = &ctx->xchg;
	st->m.step = arg.step;

	arg.scratch_bytes = bytes;
	if (copy_to_user(uarg, &arg, min_t(size_t, usize, sizeof(arg)))) {
		fewmul_state_free(st);
		return -EFAULT;
	}
	/* Nothing can fail any more: replace the old model. */
	fewmul_state_release(ctx);
	ctx->state = st;
	fewmul_sync_arena(st);
	fewmul_totals_reset(ctx, &st->m.cfg, st->m.step);
	return 0;
}

/* Samples in minibatch i of the call (the global minibatch). */
static u32 fewmul_batch_len(const struct fewmul_state *st,
			    const struct fewmul_run *arg, u64 i)
{
	return min_t(u64, st->m.cfg.batch,
		     arg->nr_indices - fewmul_mul_sa(i, st->m.cfg.batch));
}

/* Copy nb indices from @first of the call's list and check them. */
static int fewmul_load_batch(struct fewmul_state *st, const struct fewmul_run *arg,
			     const struct fewmul_buf *labels, u64 first, u32 nb)
{
	const u32 __user *uidx = u64_to_user_ptr(arg->indices);
	u32 nk = st->m.cfg.width[st->m.cfg.nr_layers];
	u32 b;

	if (copy_from_user(st->idx, uidx + first, nb * sizeof(u32)))
		return -EFAULT;
	for (b = 0; b < nb; b++) {
		if (st->idx[b] >= arg->nr_samples)
			return -EINVAL;
		/* One read of the user's label: the engine sees this copy. */
		st->lab[b] = READ_ONCE(labels->data[st->idx[b]]);
		if (st->lab[b] >= nk)
			return -EINVAL;
	}
	return 0;
}

/*
 * Data parallel: the model's sums must be there, and the exchange
 * buffer writable, not the arena, and large enough for any exchange.
 */
static int fewmul_run_check_dp(struct fewmul_ctx *ctx,
			       const struct fewmul_run *arg)
{
	struct fewmul_state *st = ctx->state;
	struct fewmul_buf *xbuf;

	if (!(arg->flags & FEWMUL_RUN_DATA_PARALLEL))
		return arg->dp_rank || arg->dp_size || arg->dp_buffer ||
		       (arg->flags & FEWMUL_RUN_DP_INT32) ? -EINVAL : 0;
	if (!arg->dp_size || arg->dp_rank >= arg->dp_size ||
	    arg->predictions || !st->dp)
		return -EINVAL;
	xbuf = fewmul_buf_get(ctx, arg->dp_buffer);
	if (!xbuf)
		return -ENOENT;
	if (!xbuf->write)
		return -EACCES;
	if (xbuf == st->arena ||
	    xbuf->length < fewmul_xchg_max(&st->m.cfg) * sizeof(s64))
		return -EINVAL;
	return 0;
}

static int fewmul_run_check(struct fewmul_ctx *ctx, const struct fewmul_run *arg,
			    bool train, struct fewmul_buf **images,
			    struct fewmul_buf **labels)
{
	struct fewmul_state *st = ctx->state;
	bool calib = arg->flags & FEWMUL_RUN_CALIBRATE;
	u64 nbatches, i;
	int ret;

	/* Inputs the call does not use are refused, not ignored. */
	if (arg->flags & ~FEWMUL_RUN_FLAGS_ALL || (train && calib) ||
	    ((arg->predictions || arg->confusion) && (train || calib)) ||
	    (!train && (arg->notify_every || arg->epoch)))
		return -EINVAL;
	if ((!train || !arg->epoch_total) && (arg->epoch_done || arg->epoch_total))
		return -EINVAL;
	if (arg->pad)
		return -EINVAL;
	if (!st)
		return -ENODEV;
	ret = fewmul_run_check_dp(ctx, arg);
	if (ret)
		return ret;
	*images = fewmul_buf_get(ctx, arg->images);
	*labels = fewmul_buf_get(ctx, arg->labels);
	if (!*images || !*labels)
		return -ENOENT;
	if (!arg->nr_samples || !arg->nr_indices ||
	    arg->nr_indices > FEWMUL_MAX_INDICES)
		return -EINVAL;
	if ((*images)->length < fewmul_mul_sa(arg->nr_samples, st->m.cfg.width[0]) ||
	    (*labels)->length < arg->nr_samples)
		return -EINVAL;

	/* Every index and label is checked before the model changes. */
	nbatches = DIV_ROUND_UP((u64)arg->nr_indices, st->m.cfg.batch);
	if (arg->epoch_total && (arg->epoch_total < nbatches ||
				 arg->epoch_done > arg->epoch_total - nbatches))
		return -EINVAL;
	for (i = 0; i < nbatches; i++) {
		ret = fewmul_load_batch(st, arg, *labels,
					fewmul_mul_sa(i, st->m.cfg.batch),
					fewmul_batch_len(st, arg, i));
		if (ret)
			return ret;
		cond_resched();
	}
	return 0;
}

/* Copy this call's per-layer counters to the user's @layer_ops. */
static int fewmul_put_layer_ops(const struct fewmul_state *st,
				const struct fewmul_run *arg)
{
	if (!arg->layer_ops)
		return 0;
	if (copy_to_user(u64_to_user_ptr(arg->layer_ops), st->call_ops,
			 (st->m.cfg.nr_layers + 1) * sizeof(st->call_ops[0])))
		return -EFAULT;
	return 0;
}

/* Add one step's counters to the call's. */
static void fewmul_call_account(struct fewmul_state *st, struct fewmul_run *arg)
{
	const struct fewmul_step_result *res = &st->res;
	u32 l;

	for (l = 0; l < FEWMUL_LAYER_SLOTS; l++) {
		st->call_ops[l].adds += res->layers[l].adds;
		st->call_ops[l].shifts += res->layers[l].shifts;
		st->call_ops[l].muls += res->layers[l].muls;
	}
	arg->adds += res->ops.adds;
	arg->shifts += res->ops.shifts;
	arg->muls += res->ops.muls;
	arg->divs += res->ops.divs;
	arg->saturated += res->ops.sats;
	arg->errors += res->errors;
	arg->loss += res->loss;
}

int fewmul_ioctl_run(struct fewmul_ctx *ctx, void __user *uarg, u32 csize,
		     bool train)
{
	struct fewmul_buf *images, *labels;
	struct fewmul_batch bt = {};
	struct fewmul_state *st;
	struct fewmul_run arg;
	u8 __user *upred;
	bool calib;
	u64 *conf = NULL;
	size_t conf_bytes = 0;
	u64 nbatches, i;
	u32 usize, nk, n0, b, nbg, lo;
	bool lost = false, dp;
	int ret;

	ret = fewmul_copy_arg(&arg, sizeof(arg), FEWMUL_RUN_SIZE_VER1,
			      uarg, csize, &usize);
	if (ret)
		return ret;
	ret = fewmul_run_check(ctx, &arg, train, &images, &labels);
	if (ret)
		return ret;
	st = ctx->state;
	calib = arg.flags & FEWMUL_RUN_CALIBRATE;
	dp = arg.flags & FEWMUL_RUN_DATA_PARALLEL;
	if (st->dp) {
		/* Without an exchange the engine plans one process's steps. */
		fewmul_dp_bind(&st->m, st->dp, dp ? fewmul_xchg_step : NULL,
			       dp && (arg.flags & FEWMUL_RUN_DP_INT32) ?
			       fewmul_xchg_step32 : NULL, st);
		st->xbuf = dp ? fewmul_buf_get(ctx, arg.dp_buffer) : NULL;
		st->xbuf_handle = arg.dp_buffer;
	}
	bt.kind = train ? FEWMUL_PLAN_TRAIN :
		  calib ? FEWMUL_PLAN_CALIB : FEWMUL_PLAN_EVAL;
	bt.images = st->ptr;
	bt.labels = st->lab;
	bt.epoch = arg.epoch;
	bt.pred = st->pred;
	upred = u64_to_user_ptr(arg.predictions);
	nk = st->m.cfg.width[st->m.cfg.nr_layers];
	n0 = st->m.cfg.width[0];
	if (!train && !calib && arg.confusion) {
		/* The user's matrix is read first: counts are added to it. */
		conf_bytes = fewmul_mul_sa(nk, nk) * sizeof(*conf);
		conf = kvmalloc(conf_bytes, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
		if (!conf)
			return -ENOMEM;
		if (copy_from_user(conf, u64_to_user_ptr(arg.confusion),
				   conf_bytes)) {
			kvfree(conf);
			return -EFAULT;
		}
		bt.confusion = conf;
	}

	nbatches = DIV_ROUND_UP((u64)arg.nr_indices, st->m.cfg.batch);
	arg.done = 0;
	arg.errors = 0;
	arg.loss = 0;
	arg.adds = 0;
	arg.shifts = 0;
	arg.muls = 0;
	arg.divs = 0;
	arg.saturated = 0;
	memset(st->call_ops, 0, sizeof(st->call_ops));
	fewmul_totals_busy(ctx, true, nbatches, train ? &arg : NULL);
	if (calib)
		fewmul_calib_begin(&st->m);
	for (i = 0; i < nbatches; i++) {
		/* The processes of a data-parallel call run the same steps. */
		if (dp ? fatal_signal_pending(current) : signal_pending(current)) {
			ret = -ERESTARTSYS;
			break;
		}
		nbg = fewmul_batch_len(st, &arg, i);
		lo = 0;
		bt.nb = nbg;
		if (dp) {
			/* this process's share, as the cpu backend cuts it */
			lo = fewmul_div_u64(fewmul_mul_sa(nbg, arg.dp_rank),
					    arg.dp_size);
			bt.nb = fewmul_div_u64(fewmul_mul_sa(nbg, arg.dp_rank + 1),
					       arg.dp_size) - lo;
			bt.nb_global = nbg;
			bt.offset = lo;
		}
		/* Checked above; the user may have changed them since. */
		ret = fewmul_load_batch(st, &arg, labels,
					fewmul_mul_sa(i, st->m.cfg.batch) + lo,
					bt.nb);
		if (ret)
			break;
		for (b = 0; b < bt.nb; b++)
			st->ptr[b] = images->data + fewmul_mul_sa(st->idx[b], n0);
		st->ex.nr_workers = fewmul_team_size(st);
		ret = fewmul_batch_step(&st->m, &st->ex, &bt, &st->res);
		if (ret) {
			/*
			 * Aborted by a fatal signal or a failed exchange:
			 * the step half ran. An evaluation changes nothing
			 * that stays.
			 */
			lost = (READ_ONCE(st->m.abort) || st->m.exchange_err) &&
			       bt.kind != FEWMUL_PLAN_EVAL;
			break;
		}
		if (upred && copy_to_user(upred + fewmul_mul_sa(i, st->m.cfg.batch), st->pred,
					  bt.nb)) {
			ret = -EFAULT;
			break;
		}
		fewmul_call_account(st, &arg);
		arg.done++;
		fewmul_totals_publish(ctx, &st->m, &st->res, train, bt.nb,
				      arg.done);
		if (train && arg.notify_every &&
		    (arg.done % arg.notify_every == 0 || arg.done == nbatches))
			fewmul_genl_progress(ctx);
	}
	fewmul_totals_busy(ctx, false, 0, NULL);
	if (lost) {
		/* The arena keeps the parameters of the last call. */
		kvfree(conf);
		fewmul_state_release(ctx);
		fewmul_totals_reset(ctx, NULL, 0);
		return ret;
	}

	if (calib) {
		/* All or nothing: partial statistics are not stored. */
		if (!ret) {
			/* the averages' divisions count with the call */
			memset(&st->res, 0, sizeof(st->res));
			fewmul_calib_end(&st->m, &st->res);
			fewmul_call_account(st, &arg);
			fewmul_totals_publish(ctx, &st->m, &st->res, false, 0,
					      arg.done);
			fewmul_sync_arena(st);
		}
	} else if (train && arg.done) {
		fewmul_sync_arena(st);
	}
	/*
	 * A signal after some minibatches: report how far the call got.
	 * Before any (or in a calibration, which is all or nothing), nothing
	 * changed and the call is restarted after a stop signal or an
	 * SA_RESTART handler, or fails with -EINTR.
	 */
	if (!calib && ret == -ERESTARTSYS && arg.done)
		ret = 0;
	if (!ret && conf && copy_to_user(u64_to_user_ptr(arg.confusion), conf,
					 conf_bytes))
		ret = -EFAULT;
	kvfree(conf);
	if (!ret)
		ret = fewmul_put_layer_ops(st, &arg);
	if (ret)
		return ret;
	if (copy_to_user(uarg, &arg, min_t(size_t, usize, sizeof(arg))))
		return -EFAULT;
	return 0;
}
