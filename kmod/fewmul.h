/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fewmul: module-internal declarations shared by the kmod/ files.
 */
#ifndef _FEWMUL_H
#define _FEWMUL_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/fewmul.h>

#include "fewmul_compat.h"
#include "fewmul_engine.h"

/* FEWMUL_VERSION: Kbuild passes ./VERSION on the command line. */
#ifndef FEWMUL_VERSION
#error "FEWMUL_VERSION is not defined (Kbuild reads it from ./VERSION)"
#endif

/* Largest argument struct accepted from userspace, whatever its version. */
#define FEWMUL_MAX_ARG_SIZE	PAGE_SIZE

/**
 * struct fewmul_buf - a registered, pinned user buffer
 * @addr: user address it was registered at
 * @length: length in bytes
 * @pages: the pinned pages
 * @nr_pages: number of entries in @pages
 * @vaddr: kernel mapping of @pages (vmap)
 * @data: kernel address of @addr (inside @vaddr)
 * @user: user charged for the pages (locked_vm; a reference)
 * @mm: address space whose pinned_vm shows the pages (a grabbed reference)
 * @write: pinned for writing (FEWMUL_BUF_WRITE)
 * @users: models using it as their arena
 */
struct fewmul_buf {
	u64 addr;
	u64 length;
	struct page **pages;
	unsigned long nr_pages;
	void *vaddr;
	u8 *data;
	struct user_struct *user;
	struct mm_struct *mm;
	bool write;
	unsigned int users;
};

struct fewmul_state;
struct fewmul_user;
struct pid;

/**
 * struct fewmul_totals - what a context reports (stats, events)
 * @has_model: a model exists
 * @busy: a train or eval call runs
 * @nr_layers: the model's layers
 * @weights: the model's weight mode
 * @qbp: quantized backprop on
 * @epoch: epoch of the last train call
 * @step: minibatches trained (including a resumed model's start)
 * @samples: samples trained
 * @errors: training errors
 * @loss: summed training loss, Q24
 * @ops: operations executed
 * @done: minibatches done in the running call
 * @total: minibatches of the running call
 * @batch_loss: loss of the last minibatch
 * @batch_errors: errors of the last minibatch
 * @batch_size: samples of the last minibatch
 * @epoch_first: minibatches of the epoch trained before the last train call
 * @epoch_done: minibatches of the epoch trained, that call's included
 * @epoch_total: minibatches of the epoch (0: the caller did not say)
 */
struct fewmul_totals {
	bool has_model;
	bool busy;
	u32 nr_layers;
	u32 weights;
	u32 qbp;
	u32 epoch;
	u64 step;
	u64 samples;
	u64 errors;
	s64 loss;
	struct fewmul_counters ops;
	u64 done;
	u64 total;
	s64 batch_loss;
	u32 batch_errors;
	u32 batch_size;
	u64 epoch_first;
	u64 epoch_done;
	u64 epoch_total;
};

/**
 * struct fewmul_team - the threads that run a context's phases
 * @lock: protects the fields below
 * @wait: helpers wait here for a share to run, or for @stopped
 * @done: the calling thread waits here for the helpers' shares
 * @helpers: threads inside FEWMUL_IOC_HELP
 * @stopped: FEWMUL_HELP_STOP was called (final)
 * @st: the model whose phase is being shared out, or NULL
 * @phase: that phase, an index into @st's plan
 * @nw: shares of the phase
 * @next: next share to hand out; @nw when all are out
 * @running: shares helpers took and have not finished
 *
 * The calling thread of TRAIN/EVAL publishes each phase here, runs share
 * 0, then every share no helper took, and waits for the helpers' shares
 * before the next phase. Helpers only ever touch @st while they run a
 * share, and the caller waits for every share before it goes on, so a
 * model outlives every share of it.
 */
struct fewmul_team {
	spinlock_t lock;	/* protects everything below */
	wait_queue_head_t wait;
	wait_queue_head_t done;
	u32 helpers;
	bool stopped;
	struct fewmul_state *st;
	u32 phase;
	u32 nw;
	u32 next;
	u32 running;
};

enum fewmul_xchg_state {
	FEWMUL_XS_IDLE,		/* no step waits for its sums */
	FEWMUL_XS_POSTED,	/* partial sums in the buffer, unclaimed */
	FEWMUL_XS_CLAIMED,	/* a FEWMUL_XCHG_WAIT caller adds them up */
	FEWMUL_XS_DONE,		/* the sums (or @error) are back */
};

/**
 * struct fewmul_xchg - the exchanges of data-parallel steps
 *
 * The thread running a data-parallel step posts each exchange and waits
 * (killable) until a FEWMUL_IOC_EXCHANGE caller has claimed it and said
 * DONE; the values themselves travel in a registered buffer that only
 * the stepping thread reads and writes from the kernel. So a waiter
 * never touches the model, and nothing here outlives the context.
 */
struct fewmul_xchg {
	spinlock_t lock;	/* protects everything below */
	wait_queue_head_t wait;	/* state changes, both ways */
	enum fewmul_xchg_state state;
	bool stopped;		/* FEWMUL_XCHG_STOP: final */
	u64 seq;		/* of the last exchange posted */
	u32 count;
	u32 width;
	u32 buffer;
	int error;		/* handed in with DONE */
};

/**
 * struct fewmul_ctx - one training context, owned by an open file
 * @ref: references: the file holds one; long-running work takes its own
 * @lock: serializes ioctls on this context (others get -EBUSY)
 * @node: entry in the global context list (fewmul_ctx_list_lock)
 * @id: unique id, never reused while the module is loaded
 * @owner_pid: thread group that opened the device (a reference)
 * @owner_uid: effective uid of the opener
 * @user: the opener's per-user record (its context count)
 * @bufs: registered buffers, handle h is bufs[h - 1]
 * @state: the model and its kernel memory, or NULL
 * @team: the threads lent to this context (FEWMUL_IOC_HELP)
 * @xchg: data-parallel exchanges (FEWMUL_IOC_EXCHANGE)
 * @stats_lock: protects @totals, @layer_ops and @hist
 * @totals: totals for stats and events
 * @layer_ops: per-layer operation counters
 * @hist: per-layer log2|x| histograms (copy of the model's)
 */
struct fewmul_ctx {
	struct kref ref;
	struct mutex lock;	/* serializes ioctls on this context */
	struct list_head node;
	u64 id;
	struct pid *owner_pid;
	kuid_t owner_uid;
	struct fewmul_user *user;
	struct fewmul_buf *bufs[FEWMUL_MAX_BUFFERS];
	struct fewmul_state *state;
	struct fewmul_team team;
	struct fewmul_xchg xchg;
	spinlock_t stats_lock;	/* protects totals, layer_ops, hist */
	struct fewmul_totals totals;
	struct fewmul_counters layer_ops[FEWMUL_MAX_LAYERS + 1];
	u64 hist[FEWMUL_MAX_LAYERS + 1][FEWMUL_HIST_NR_BINS];
};

/*
 * Who calls whom: main.c -> {ctx, buf, train, genl}; train.c -> {ctx,
 * buf, genl}; buf.c -> ctx; genl.c -> ctx; ctx.c -> nothing.
 */

/* fewmul_ctx.c: contexts, limits, published totals */
/* All open contexts, in id order; the lock also keeps them alive. */
extern struct list_head fewmul_ctx_list;
extern struct mutex fewmul_ctx_list_lock;

extern unsigned int fewmul_max_scratch_mb;
unsigned int fewmul_nr_workers(void);
void fewmul_fill_info(struct fewmul_info *info);
unsigned int fewmul_nr_contexts(void);
void fewmul_ctx_exit(void);
struct fewmul_user *fewmul_scratch_charge(u64 bytes);
void fewmul_scratch_uncharge(struct fewmul_user *u, u64 bytes);
struct fewmul_ctx *fewmul_ctx_new(void);
void fewmul_ctx_unlist(struct fewmul_ctx *ctx);
void fewmul_ctx_destroy(struct fewmul_ctx *ctx);
int fewmul_copy_arg(void *karg, size_t ksize, size_t minsize,
		    void __user *uarg, u32 csize, u32 *usize);
void fewmul_totals_reset(struct fewmul_ctx *ctx, const struct fewmul_config *cfg,
			 u64 step);
void fewmul_totals_busy(struct fewmul_ctx *ctx, bool busy, u64 total,
			const struct fewmul_run *train);
void fewmul_totals_publish(struct fewmul_ctx *ctx, const struct fewmul_model *m,
			   const struct fewmul_step_result *res, bool train,
			   u32 nb, u64 done);
int fewmul_hist_read(struct fewmul_ctx *ctx, u32 layer,
		     struct fewmul_counters *ops, u64 *bins);
int fewmul_ioctl_info(struct fewmul_ctx *ctx, void __user *uarg, u32 csize);
int fewmul_ioctl_stats(struct fewmul_ctx *ctx, void __user *uarg, u32 csize);
int fewmul_ioctl_hist(struct fewmul_ctx *ctx, void __user *uarg, u32 csize);

/* fewmul_buf.c: pinned user buffers */
int fewmul_ioctl_buf_register(struct fewmul_ctx *ctx, void __user *uarg, u32 csize);
int fewmul_ioctl_buf_unregister(struct fewmul_ctx *ctx, void __user *uarg, u32 csize);
struct fewmul_buf *fewmul_buf_get(struct fewmul_ctx *ctx, u32 handle);
void fewmul_bufs_release(struct fewmul_ctx *ctx);

/* fewmul_train.c: models, training and evaluation */
void fewmul_team_init(struct fewmul_team *t);
int fewmul_ioctl_help(struct fewmul_ctx *ctx, void __user *uarg, u32 csize);
void fewmul_xchg_init(struct fewmul_xchg *x);
int fewmul_ioctl_exchange(struct fewmul_ctx *ctx, void __user *uarg, u32 csize);
int fewmul_ioctl_model_create(struct fewmul_ctx *ctx, void __user *uarg, u32 csize);
int fewmul_ioctl_run(struct fewmul_ctx *ctx, void __user *uarg, u32 csize,
		     bool train);
void fewmul_state_release(struct fewmul_ctx *ctx);

/* fewmul_genl.c */
int fewmul_genl_init(void);
void fewmul_genl_exit(void);
void fewmul_genl_progress(struct fewmul_ctx *ctx);

#endif /* _FEWMUL_H */
