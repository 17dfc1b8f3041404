/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * fewmul core: the integer training engine.
 *
 * Shape legend (llm.c style):
 *   L        number of weight layers (1..FEWMUL_MAX_LAYERS)
 *   n[l]     width of activation l; n[0] is the input (784 for MNIST),
 *            n[L] the number of classes
 *   B        minibatch size
 *   U[l]     shadow weights of layer l, [n[l-1]][n[l]] (input-major), s32
 *            in units of W0: real weight = W0 * U / 2^FEWMUL_FW
 *   X[l]     activations, [n[l]][B] (feature-major), Q(FEWMUL_FA)
 *   Y[l]     pre-activations of layer l, [n[l]][B], Q(FEWMUL_FA), in units
 *            of W0 (the forward pass never multiplies by W0: with BN it
 *            cancels, without BN it is part of the per-layer scale)
 *   D[l]     deltas dLoss/dY, [n[l]][B], Q(FEWMUL_FD)
 *
 * Fixed-point formats (Documentation/numerics.rst has the range analysis):
 *   FEWMUL_FA = 12  activations; input pixel p (0..255) is p << 4 = p/256
 *   FEWMUL_FD = 16  deltas
 *   FEWMUL_FW = 24  shadow weights, |U| <= 2^24 (the clip to [-W0, W0])
 */
#ifndef _FEWMUL_ENGINE_H
#define _FEWMUL_ENGINE_H

#include "fewmul_core.h"
/*
 * The ABI's vocabulary (limits, weight and BN modes, histogram bins) is
 * the engine's: one set of names from the ioctls to the core.
 */
#include <linux/fewmul.h>

#define FEWMUL_FA	12
#define FEWMUL_FD	16
#define FEWMUL_FW	24
#define FEWMUL_ONE_W	0x1000000	/* 1.0 in Q(FW) */

/*
 * Weight modes (FEWMUL_MODEL_WEIGHTS_*): full uses integer multiplies (the
 * baseline); binary is W0 * sign(w), deterministic; binary-stoch samples
 * P(+W0) = clip((w/W0 + 1)/2, 0, 1); ternary is stochastic ternary
 * connect. BN modes (FEWMUL_MODEL_BN_*): none uses a power-of-two
 * pre-activation scale per layer, shift uses shift-based batch norm (AP2).
 */

/*
 * Weights of the calibration and evaluation passes (not of training):
 * deterministic (binary sign(U); ternary sign(U) where |U| > 1/2, else 0;
 * multiply-free), or the real-valued shadow weights U, as the paper's
 * authors evaluate (integer multiplies, counted in muls), or one network
 * sampled from U as a training step samples it (the step's streams, so
 * the same network for every minibatch until the model trains on;
 * multiply-free). Full models use U either way.
 */
enum fewmul_testw {
	FEWMUL_TESTW_DET = 0,
	FEWMUL_TESTW_REAL = 1,
	FEWMUL_TESTW_SAMPLED = 2,
	FEWMUL_TESTW_COUNT
};

/**
 * struct fewmul_config - everything that defines a model and its training
 * @nr_layers: L, number of weight layers
 * @width: n[0..L]
 * @weights: FEWMUL_MODEL_WEIGHTS_*
 * @qbp: quantized backprop on (1) or off (0)
 * @bn: FEWMUL_MODEL_BN_*
 * @exp_min: lowest exponent of q(x) (real exponent, e.g. -4)
 * @exp_max: highest exponent of q(x) (e.g. 3)
 * @lr_shift_start: learning rate 2^-lr_shift at the first epoch
 * @lr_shift_end: learning rate 2^-lr_shift at the last epoch
 * @epochs: number of epochs the schedule spans (>= 1)
 * @batch: B
 * @seed: the user's seed; everything random derives from it
 */
struct fewmul_config {
	u32 nr_layers;
	u32 width[FEWMUL_MAX_LAYERS + 1];
	u32 weights;
	u32 qbp;
	u32 bn;
	s32 exp_min;
	s32 exp_max;
	u32 lr_shift_start;
	u32 lr_shift_end;
	u32 epochs;
	u32 batch;
	u64 seed;
};

/**
 * fewmul_config_check() - validate a configuration
 * @cfg: configuration from an untrusted source
 *
 * Return: 0, or -EINVAL-style negative code (-22) for any field out of
 * range. Checks every bound the engine relies on, so that sizes computed
 * from a valid config cannot overflow.
 */
int fewmul_config_check(const struct fewmul_config *cfg);

/*
 * The configuration of a FEWMUL_IOC_MODEL_CREATE argument, and back: the
 * same fields under the same names. Neither checks anything.
 */
void fewmul_config_from_create(struct fewmul_config *cfg,
			       const struct fewmul_model_create *mc);
void fewmul_config_to_create(const struct fewmul_config *cfg,
			     struct fewmul_model_create *mc);

/**
 * struct fewmul_layout - where each parameter lives in the arena
 * @w_off: byte offset of U[l] (l = 1..L), [n[l-1]][n[l]] s32
 * @beta_off: byte offset of the BN shift / bias of layer l, [n[l]] s32, Q(FA)
 * @mean_off: byte offset of the BN test-time mean of layer l, [n[l]] s32
 * @shift_off: byte offset of the BN test-time shift of layer l, [n[l]] s32
 * @size: total arena size in bytes
 *
 * Index 0 is unused. All parameters are native-endian s32 (the arena is
 * the user's memory; the model file stores them little-endian).
 */
struct fewmul_layout {
	u64 w_off[FEWMUL_MAX_LAYERS + 1];
	u64 beta_off[FEWMUL_MAX_LAYERS + 1];
	u64 mean_off[FEWMUL_MAX_LAYERS + 1];
	u64 shift_off[FEWMUL_MAX_LAYERS + 1];
	u64 size;
};

void fewmul_layout(const struct fewmul_config *cfg, struct fewmul_layout *lay);

/* fewmul_layout()'s size: the arena's length in bytes. */
u64 fewmul_params_size(const struct fewmul_config *cfg);

/**
 * struct fewmul_counters - operations actually executed
 * @adds: additions and subtractions of data values
 * @shifts: shifts of data values
 * @muls: multiplications of data values
 * @divs: divisions of data values (batch norm's means and variances)
 * @sats: backpropagated deltas found at their bound +-(2^10 - 2^-16),
 *	where they are clipped (counted where batch norm's backward pass
 *	reads and writes them)
 */
struct fewmul_counters {
	u64 adds;
	u64 shifts;
	u64 muls;
	u64 divs;
	u64 sats;
};

/* dst += src */
static inline void fewmul_counters_add(struct fewmul_counters *dst,
				       const struct fewmul_counters *src)
{
	dst->adds += src->adds;
	dst->shifts += src->shifts;
	dst->muls += src->muls;
	dst->divs += src->divs;
	dst->sats += src->sats;
}

#define FEWMUL_LAYER_SLOTS	(FEWMUL_MAX_LAYERS + 1)

/* Phase kinds of a plan; see fewmul_step_plan(). */
enum fewmul_phase_kind {
	FEWMUL_PH_SAMPLE,	/* items: rows of U[l] */
	FEWMUL_PH_SAMPLE_TEST,	/* items: rows of U[l] */
	FEWMUL_PH_INPUT,	/* items: input pixels */
	FEWMUL_PH_FWD,		/* items: units of layer l */
	FEWMUL_PH_FWD_CALIB,
	FEWMUL_PH_FWD_EVAL,
	FEWMUL_PH_LOSS,		/* items: samples */
	FEWMUL_PH_BNBACK,	/* items: units of layer l */
	FEWMUL_PH_BACK,		/* items: rows of U[l] */
	FEWMUL_PH_HIST,		/* one item */
	FEWMUL_PH_COLS,		/* items: 64-unit blocks of layer l */
	FEWMUL_PH_DT,		/* items: samples */
	FEWMUL_PH_UT,		/* items: 64-unit blocks of layer l */
	FEWMUL_PH_NOBN,		/* one item: measure the no-BN scale */
	/*
	 * Data-parallel plans (fewmul_dp_bind()): the phases that sum over
	 * the batch are cut where the sums of every process must be added
	 * (an XCHG phase, one item: m->exchange() replaces the partial sums of
	 * fewmul_xchg_span() by the global ones).
	 */
	FEWMUL_PH_NOBN_SUM,	/* one item: the no-BN scale's partial sum */
	FEWMUL_PH_NOBN_SET,	/* one item: the scale from the global sum */
	FEWMUL_PH_FWD_Y,	/* items: units; sums, partial BN sums */
	FEWMUL_PH_FWD_VAR,	/* items: units; mean, partial variance */
	FEWMUL_PH_FWD_NORM,	/* items: units; BN, beta, ReLU */
	FEWMUL_PH_BNB_SUM,	/* items: units; partial BN backward sums */
	FEWMUL_PH_BNB_APPLY,	/* items: units */
	FEWMUL_PH_DT_PLAIN,	/* items: samples; D^T as s32 rows in dtpk */
	FEWMUL_PH_BACK_ACC,	/* items: rows; deltas, partial gradient */
	FEWMUL_PH_UPDATE,	/* items: rows; U[l] -= the global gradient */
	FEWMUL_PH_XCHG_NOBN,	/* one value */
	FEWMUL_PH_XCHG_FWD,	/* n[l] values */
	FEWMUL_PH_XCHG_BNB,	/* 3 n[l] values */
	FEWMUL_PH_XCHG_GRAD,	/* n[l-1] n[l] values */
};

enum fewmul_plan_kind {
	FEWMUL_PLAN_TRAIN,	/* sample, forward, loss, backward, update */
	FEWMUL_PLAN_CALIB,	/* test weights, forward with batch BN stats */
	FEWMUL_PLAN_EVAL,	/* test weights, forward with stored BN stats */
};

/**
 * struct fewmul_phase - one phase of a plan
 * @kind: enum fewmul_phase_kind
 * @layer: layer the phase works on
 * @count: number of independent items; any split of [0, count) into
 *	ranges run in any order or concurrently gives the same result
 */
struct fewmul_phase {
	u16 kind;
	u16 layer;
	u32 count;
};

/*
 * Longest plan: per layer sample, column lists or U^T, the no-BN scale,
 * forward, BN backward, packed deltas, backward and the histogram; plus
 * the input and the loss. A data-parallel plan cuts the no-BN scale and
 * the forward in three, BN backward and backward in two, with an
 * exchange between the pieces.
 */
#define FEWMUL_MAX_PHASES (18 * FEWMUL_MAX_LAYERS + 2)	/* data parallel */

/**
 * struct fewmul_model - a model bound to its arena and scratch memory
 *
 * Built by fewmul_model_bind(); all pointers point into memory the caller
 * owns (arena: parameters; scratch: fewmul_scratch_size() bytes).
 */
struct fewmul_model {
	struct fewmul_config cfg;
	struct fewmul_layout lay;
	u8 *arena;
	s32 *w[FEWMUL_MAX_LAYERS + 1];	/* U[l] */
	s32 *beta[FEWMUL_MAX_LAYERS + 1];
	s32 *bn_mean[FEWMUL_MAX_LAYERS + 1];
	s32 *bn_shift[FEWMUL_MAX_LAYERS + 1];
	/* scratch */
	s8 *t[FEWMUL_MAX_LAYERS + 1];	/* sampled weights, [n[l-1]][n[l]] */
	s32 *x[FEWMUL_MAX_LAYERS + 1];	/* X[l], [n[l]][B] */
	s32 *y[FEWMUL_MAX_LAYERS + 1];	/* Y[l] (after BN), [n[l]][B] */
	s32 *d[FEWMUL_MAX_LAYERS + 1];	/* D[l], [n[l]][B] */
	s32 *dx;				/* dLoss/dX, [max n][B] */
	s32 *mu[FEWMUL_MAX_LAYERS + 1];	/* batch mean, [n[l]] */
	s32 *sh[FEWMUL_MAX_LAYERS + 1];	/* batch BN shift, [n[l]] */
	s32 w0_shift[FEWMUL_MAX_LAYERS + 1];	/* W0 = 2^-k */
	u32 bs;					/* row stride of [n][B] arrays */
	u32 reference;				/* 1: scalar reference paths only */
	u32 test_weights;			/* enum fewmul_testw */
	/* fast-path scratch (fewmul_fast.c) */
	u32 bshift;				/* bs = 1 << bshift */
	u32 *rl[FEWMUL_MAX_LAYERS + 1];	/* row lists, rows << rl_shift */
	u16 *rn[FEWMUL_MAX_LAYERS + 1];	/* row list sizes, [n[l-1]][2] */
	u32 *cl[FEWMUL_MAX_LAYERS + 1];	/* column lists, cols << cl_shift */
	u16 *cn[FEWMUL_MAX_LAYERS + 1];	/* column list sizes, [n[l]][2] */
	u32 rl_shift[FEWMUL_MAX_LAYERS + 1];
	u32 cl_shift[FEWMUL_MAX_LAYERS + 1];
	u64 *dpk[FEWMUL_MAX_LAYERS + 1];	/* packed D[l], [n[l]][bs/2] */
	s32 *maxd[FEWMUL_MAX_LAYERS + 1];	/* max |D[l][j]|, [n[l]] */
	u64 *dtpk;				/* packed D^T, bs << dt_shift */
	u32 dt_shift;
	u16 *zb;				/* per-row sample lists, [max n][bs] */
	s64 *loss;				/* per-sample loss, [B] */
	s8 *qe;					/* q(x) codes, [max n][B] */
	s64 *calib_mu[FEWMUL_MAX_LAYERS + 1];	/* [n[l]] */
	s64 *calib_v8[FEWMUL_MAX_LAYERS + 1];	/* [n[l]] */
	u32 calib_batches;
	/* the current batch */
	const u8 *const *images;		/* [nb] pointers to n[0] pixels */
	const u8 *labels;			/* [nb], NULL when unknown */
	u32 cur_batch;				/* nb */
	u32 nb_global;		/* the global batch (= nb in one process) */
	u32 b_offset;		/* global index of this process's sample 0 */
	u32 plan_kind;				/* FEWMUL_PLAN_* being run */
	u32 lr_shift;
	u64 step;				/* minibatches trained */
	u64 hist[FEWMUL_MAX_LAYERS + 1][FEWMUL_HIST_NR_BINS];
	/* the current plan (fewmul_batch_step()) */
	u32 nr_phases;
	struct fewmul_phase plan[FEWMUL_MAX_PHASES];
	u32 conf_row[256];			/* label * n[L] */
	/* data parallel (fewmul_dp_bind()); exchange NULL: one process */
	int (*exchange)(void *ctx, s64 *v, u32 n);
	int (*exchange32)(void *ctx, s32 *v, u32 n);	/* optional */
	void *exchange_ctx;
	int exchange_err;		/* first error of exchange() in this step */
	/*
	 * Nonzero (a negative errno, set by a backend from any thread with
	 * fewmul_write_once()): stop the running step. Its shares return at
	 * their next piece, fewmul_batch_step() returns the value, and the
	 * model is lost (the step half ran).
	 */
	int abort;
	s64 *red;			/* partial BN sums, [3 max n] */
	s64 *grad;			/* one layer's gradient, [max n[l-1] n[l]] */
};

u64 fewmul_scratch_size(const struct fewmul_config *cfg);

/*
 * Bind a model to its arena (fewmul_layout().size bytes, the parameters)
 * and scratch (fewmul_scratch_size() bytes, 64-byte aligned). cfg must
 * have passed fewmul_config_check() (each entry point checks once). Does
 * not touch the arena.
 */
void fewmul_model_bind(struct fewmul_model *m, const struct fewmul_config *cfg,
		       void *arena, void *scratch);

/* Initialise the parameters in the arena from cfg->seed; step = 0. */
void fewmul_model_init_params(struct fewmul_model *m);

/*
 * Check parameters from an untrusted source (a model file, user memory):
 * -EINVAL (-22) unless every value is in the range the engine keeps it
 * in. The engine's arithmetic is only defined for checked parameters.
 */
int fewmul_params_check(const struct fewmul_model *m);

/*
 * Set up a minibatch: nb (1..B) images of n[0] u8 pixels, labels (< n[L],
 * checked; NULL for prediction), epoch (for the LR schedule).
 */
int fewmul_batch_begin(struct fewmul_model *m, const u8 *const *images,
		       const u8 *labels, u32 nb, u32 epoch);

/*
 * The same for this process's share of a global minibatch (data
 * parallel): nb (0..nb_global) samples starting at global index offset of
 * nb_global (1..B).
 */
int fewmul_batch_begin_share(struct fewmul_model *m, const u8 *const *images,
			     const u8 *labels, u32 nb, u32 nb_global,
			     u32 offset, u32 epoch);

/* Build the phase list of a plan into ph[max]; returns its length. */
int fewmul_step_plan(const struct fewmul_model *m, int kind,
		     struct fewmul_phase *ph, int max);

/* Run items [begin, end) of one phase; adds executed operations to ops. */
void fewmul_phase_run(struct fewmul_model *m, const struct fewmul_phase *ph,
		      u32 begin, u32 end, struct fewmul_counters *ops);

/* After all phases of a plan ran: step (train) or batch count (calib). */
void fewmul_plan_done(struct fewmul_model *m, int kind);

/* Run a whole plan on the calling thread. */
int fewmul_run_serial(struct fewmul_model *m, int kind,
		      struct fewmul_counters *ops);

/*
 * Data parallel: fewmul_dp_size() bytes of scratch (64-byte aligned) for
 * the partial sums, and the exchange that adds them up across processes:
 * exchange(ctx, v, n) must replace v[0..n) by the sum over all processes of
 * their v[0..n) (every process calls it with the same n, in the same
 * order) and return 0 or a negative errno. The sums are exact integers,
 * so the result does not depend on the number of processes or the order
 * the exchange adds them in. Every process of a step passes its share of
 * the same global minibatch (struct fewmul_batch nb_global and offset).
 * exchange32, when every process has one (or none), does the same for s32
 * values: a layer's gradient then travels as s32 whenever the sum over
 * the processes of their largest |value| fits (exchanged first, one
 * value), which bounds every partial sum the exchange can form.
 */
u64 fewmul_dp_size(const struct fewmul_config *cfg);
void fewmul_dp_bind(struct fewmul_model *m, void *buf,
		    int (*exchange)(void *ctx, s64 *v, u32 n),
		    int (*exchange32)(void *ctx, s32 *v, u32 n), void *ctx);

/* The most values one exchange carries (each an s64). */
u64 fewmul_xchg_max(const struct fewmul_config *cfg);

/* The values an XCHG phase exchanges: *v[0..*n). */
void fewmul_xchg_span(struct fewmul_model *m, const struct fewmul_phase *ph,
		      s64 **v, u32 *n);

/* ---- the minibatch step (fewmul_step.c) ---------------------------------- */

#define FEWMUL_MAX_WORKERS	1024

/**
 * struct fewmul_exec - how a backend runs the phases of a plan
 * @nr_workers: ranges every phase is split into, 1..%FEWMUL_MAX_WORKERS
 * @ops: per worker and layer counters, [@nr_workers][%FEWMUL_LAYER_SLOTS]
 * @run: runs the phases m->plan[0..m->nr_phases) in order; for each
 *	phase p, fewmul_phase_share(m, p, w, nw, fewmul_exec_ops(ex, w))
 *	must run for every w of some nw (normally @nr_workers; 1 is always
 *	allowed) and all of them must return before phase p + 1 starts.
 *	NULL: the caller runs the shares itself, one after the other.
 *
 * Any split gives the same result bit for bit (the engine's phases
 * are independent per item), so a backend chooses its workers freely.
 */
struct fewmul_exec {
	u32 nr_workers;
	struct fewmul_counters *ops;
	void (*run)(struct fewmul_exec *ex, struct fewmul_model *m);
};

static inline struct fewmul_counters *
fewmul_exec_ops(const struct fewmul_exec *ex, u32 w)
{
	return ex->ops + fewmul_mul_sa(w, FEWMUL_LAYER_SLOTS);
}

/*
 * Run range w of nw of phase m->plan[p], adding executed operations to
 * wops[layer]. Long ranges are cut into FEWMUL_SHARE_CHUNKS pieces with
 * fewmul_yield() between them (the kernel reschedules there, and a killed
 * thread aborts the step: m->abort).
 */
void fewmul_phase_share(struct fewmul_model *m, u32 p, u32 w, u32 nw,
			struct fewmul_counters *wops);

/**
 * struct fewmul_batch - one minibatch for fewmul_batch_step()
 * @kind: FEWMUL_PLAN_TRAIN, FEWMUL_PLAN_CALIB or FEWMUL_PLAN_EVAL
 * @images: [@nb] pointers to n[0] pixels each
 * @labels: [@nb] labels below n[L] (checked), or NULL (prediction)
 * @nb: samples, 1..B (0..B in a data-parallel step)
 * @nb_global: data parallel: the global minibatch this is a share of,
 *	@nb..B; 0: @nb (one process)
 * @offset: data parallel: global index of @images[0] in it
 * @epoch: selects the learning rate (train)
 * @pred: [@nb] predicted classes out, or NULL
 * @confusion: [n[L]][n[L]] matrix (true label major) the step adds to,
 *	or NULL; needs @labels
 */
struct fewmul_batch {
	int kind;
	const u8 *const *images;
	const u8 *labels;
	u32 nb;
	u32 nb_global;
	u32 offset;
	u32 epoch;
	u8 *pred;
	u64 *confusion;
};

/**
 * struct fewmul_step_result - what one step did
 * @errors: misclassified samples (0 for a calibration step)
 * @loss: summed squared-hinge loss, Q(2*FA) (0 for a calibration step)
 * @ops: operations executed, all layers
 * @layers: operations executed per layer
 */
struct fewmul_step_result {
	u32 errors;
	s64 loss;
	struct fewmul_counters ops;
	struct fewmul_counters layers[FEWMUL_LAYER_SLOTS];
};

/*
 * One minibatch: begin, plan, run the plan through ex, then the outcome.
 * Return: 0, or -EINVAL for a bad batch (nothing changed).
 */
int fewmul_batch_step(struct fewmul_model *m, struct fewmul_exec *ex,
		      const struct fewmul_batch *bt,
		      struct fewmul_step_result *res);

/* Summed squared-hinge loss of the batch, Q(2*FA) (after train/eval). */
s64 fewmul_batch_loss(const struct fewmul_model *m);

/* Arg-max predictions into pred (may be NULL); returns label mismatches. */
u32 fewmul_batch_errors(const struct fewmul_model *m, u8 *pred);

/*
 * Test-time BN statistics, re-estimated with the test-time weights:
 * calib_begin, then a FEWMUL_PLAN_CALIB run per batch, then calib_end
 * stores the averaged mean and shift in the arena (its divisions are
 * added to res, which may be NULL).
 */
void fewmul_calib_begin(struct fewmul_model *m);
void fewmul_calib_end(struct fewmul_model *m, struct fewmul_step_result *res);

u32 fewmul_lr_shift(const struct fewmul_config *cfg, u32 epoch);

/*
 * The code of BN's scale for a variance v8 >= 1 (Q8, epsilon included):
 * %FEWMUL_MODEL_BN_SHIFT: the shift sh of 2^-sh ~ 1/sqrt(v);
 * %FEWMUL_MODEL_BN_SHIFT2: 4 s + m for (1 + m/4) 2^-s ~ 1/sqrt(v).
 */
s32 fewmul_bn_code(u32 bn, s32 v8);

/* The paper's analytic multiplication counts per minibatch. */
u64 fewmul_count_mults_full(const struct fewmul_config *cfg, u32 batch, int bn);
u64 fewmul_count_mults_qb(const struct fewmul_config *cfg, u32 batch, int bn);

#endif /* _FEWMUL_ENGINE_H */
