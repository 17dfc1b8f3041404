// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libfewmul: the "cpu" backend, the engine of kmod/core/ run in-process.
 *
 * Every minibatch is one fewmul_batch_step() of the core; this file only
 * supplies its workers. The calling thread is worker 0; nthreads - 1 more
 * threads wait on a barrier. For every phase of a plan each worker runs
 * its range (fewmul_phase_share(), the same split the kernel's workers
 * use) and all meet at the barrier before the next phase. The engine
 * guarantees the result does not depend on the split.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* A barrier whose size can shrink (to unwind a partial thread start). */
struct cpu_barrier {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned int n;
	unsigned int arrived;
	unsigned long gen;
};

static void cpu_barrier_wait(struct cpu_barrier *b)
{
	unsigned long gen;

	pthread_mutex_lock(&b->mu);
	gen = b->gen;
	if (++b->arrived >= b->n) {
		b->arrived = 0;
		b->gen++;
		pthread_cond_broadcast(&b->cv);
	} else {
		while (gen == b->gen)
			pthread_cond_wait(&b->cv, &b->mu);
	}
	pthread_mutex_unlock(&b->mu);
}

struct fewmul_cpu {
	struct fewmul_backend be;
	struct fewmul_model m;
	struct fewmul_exec ex;
	void *arena;
	void *scratch;
	pthread_t *threads;
	struct cpu_barrier barrier;
	int quit;
	const u8 **ptr;		/* [batch] image pointers */
	u8 *lab;		/* [batch] labels */
	u8 *pred;		/* [batch] predictions */
	/* data parallel (fewmul_trainer_set_collective()) */
	struct fewmul_collective coll;
	void *dp;
	uint64_t *conf;		/* [n[L]^2] one run's confusion counts */
};

#define cpu_of(b) ((struct fewmul_cpu *)((char *)(b) - offsetof(struct fewmul_cpu, be)))

/*
 * Run worker w's share of every phase. nr_phases is read once, after the
 * barrier that published the plan: the calling thread rewrites the plan
 * for the next step as soon as the last phase's barrier opens, while a
 * slower worker may still be leaving this loop.
 */
static void cpu_run_share(struct fewmul_cpu *c, unsigned int w)
{
	u32 p, nph = c->m.nr_phases, nw = c->ex.nr_workers;

	for (p = 0; p < nph; p++) {
		fewmul_phase_share(&c->m, p, w, nw, fewmul_exec_ops(&c->ex, w));
		if (nw > 1)
			cpu_barrier_wait(&c->barrier);
	}
}

struct cpu_worker_arg {
	struct fewmul_cpu *c;
	unsigned int w;
};

static void *cpu_worker(void *arg)
{
	struct cpu_worker_arg *a = arg;
	struct fewmul_cpu *c = a->c;
	unsigned int w = a->w;

	free(a);
	for (;;) {
		cpu_barrier_wait(&c->barrier);	/* plan ready */
		if (c->quit)
			return NULL;
		cpu_run_share(c, w);
	}
}

/* struct fewmul_exec.run: the plan is in c->m; release the workers. */
static void cpu_exec_run(struct fewmul_exec *ex, struct fewmul_model *m)
{
	struct fewmul_cpu *c = (struct fewmul_cpu *)((char *)ex -
			       offsetof(struct fewmul_cpu, ex));

	(void)m;
	if (ex->nr_workers > 1)
		cpu_barrier_wait(&c->barrier);
	cpu_run_share(c, 0);
}

static void add_ops(struct fewmul_ops *dst, const struct fewmul_counters *o)
{
	dst->adds += o->adds;
	dst->shifts += o->shifts;
	dst->muls += o->muls;
}

/* Add one step's outcome to a result. */
static void cpu_account(struct fewmul_result *res,
			const struct fewmul_step_result *r, uint32_t nb)
{
	unsigned int l;

	add_ops(&res->ops, &r->ops);
	for (l = 0; l < FEWMUL_LAYER_SLOTS; l++)
		add_ops(&res->layers[l], &r->layers[l]);
	res->samples += nb;
	res->errors += r->errors;
	res->loss += (double)r->loss / (double)(1u << (2 * FEWMUL_FA));
}

/* struct fewmul_model exchange: the engine's partial sums, added up. */
static int cpu_xchg(void *ctx, s64 *v, u32 n)
{
	struct fewmul_cpu *c = ctx;

	return c->coll.allreduce(c->coll.ctx, (int64_t *)v, n);
}

static int cpu_xchg32(void *ctx, s32 *v, u32 n)
{
	struct fewmul_cpu *c = ctx;

	return c->coll.allreduce32(c->coll.ctx, (int32_t *)v, n);
}

/*
 * Plan kind over idx[0..n) of ds in minibatches of cfg.batch (the kernel
 * backend splits the same way, so both see the same minibatches). Data
 * parallel: every process is given the same idx and runs its share of
 * each minibatch, [nb * rank / size, nb * (rank + 1) / size); errors and
 * loss are added up per minibatch, the confusion matrix and the operation
 * counts once at the end, so every process reports the global result.
 */
static int cpu_run(struct fewmul_backend *be, int kind,
		   const struct fewmul_dataset *ds, const uint32_t *idx,
		   uint32_t n, uint32_t epoch, struct fewmul_result *res,
		   uint64_t *confusion)
{
	struct fewmul_cpu *c = cpu_of(be);
	size_t px = (size_t)ds->rows * ds->cols;
	u32 nk = c->m.cfg.width[c->m.cfg.nr_layers];
	unsigned int size = c->coll.size ? c->coll.size : 1, rank = c->coll.rank;
	struct fewmul_step_result r;
	struct fewmul_batch bt = {
		.kind = kind, .images = c->ptr, .labels = c->lab,
		.epoch = epoch, .pred = c->pred, .confusion = confusion,
	};
	struct fewmul_result before;
	uint32_t s, b, nbg, lo, hi;
	int64_t out[2];
	int err;

	if (size > 1) {
		if (res)
			before = *res;
		if (confusion) {
			memset(c->conf, 0, (size_t)nk * nk * sizeof(*c->conf));
			bt.confusion = c->conf;
		}
	}
	for (s = 0; s < n; s += nbg) {
		nbg = n - s < c->m.cfg.batch ? n - s : c->m.cfg.batch;
		lo = (uint32_t)((uint64_t)nbg * rank / size);
		hi = (uint32_t)((uint64_t)nbg * (rank + 1) / size);
		bt.nb = hi - lo;
		if (size > 1) {
			bt.nb_global = nbg;
			bt.offset = lo;
		}
		for (b = 0; b < bt.nb; b++) {
			c->ptr[b] = ds->images + (size_t)idx[s + lo + b] * px;
			c->lab[b] = ds->labels[idx[s + lo + b]];
		}
		err = fewmul_batch_step(&c->m, &c->ex, &bt, &r);
		if (err)
			return err;
		be->divs += r.ops.divs;
		be->sats += r.ops.sats;
		if (size > 1 && kind != FEWMUL_PLAN_CALIB) {
			out[0] = r.errors;
			out[1] = r.loss;
			err = c->coll.allreduce(c->coll.ctx, out, 2);
			if (err)
				return err;
			r.errors = (u32)out[0];
			r.loss = out[1];
		}
		if (res)
			cpu_account(res, &r, nbg);
	}
	if (size == 1)
		return 0;
	if (confusion) {
		err = fewmul_coll_add_confusion(&c->coll, c->conf, nk, confusion);
		if (err)
			return err;
	}
	return res ? fewmul_coll_reduce_ops(&c->coll, res, &before) : 0;
}

static int cpu_calibrate(struct fewmul_backend *be,
			 const struct fewmul_dataset *ds, const uint32_t *idx,
			 uint32_t n)
{
	struct fewmul_cpu *c = cpu_of(be);
	struct fewmul_step_result r;
	int err;

	fewmul_calib_begin(&c->m);
	err = cpu_run(be, FEWMUL_PLAN_CALIB, ds, idx, n, 0, NULL, NULL);
	if (err)
		return err;
	memset(&r, 0, sizeof(r));
	fewmul_calib_end(&c->m, &r);
	be->divs += r.ops.divs;
	return 0;
}

static int cpu_predict(struct fewmul_backend *be, const uint8_t *pixels,
		       uint32_t n, uint8_t *pred, int32_t *scores)
{
	struct fewmul_cpu *c = cpu_of(be);
	u32 L = c->m.cfg.nr_layers, nk = c->m.cfg.width[L];
	struct fewmul_step_result r;
	struct fewmul_batch bt = {
		.kind = FEWMUL_PLAN_EVAL, .images = c->ptr, .pred = c->pred,
	};
	u32 s, b, k;
	int err;

	for (s = 0; s < n; s += bt.nb) {
		bt.nb = n - s < c->m.cfg.batch ? n - s : c->m.cfg.batch;
		for (b = 0; b < bt.nb; b++)
			c->ptr[b] = pixels + (size_t)(s + b) * c->m.cfg.width[0];
		err = fewmul_batch_step(&c->m, &c->ex, &bt, &r);
		if (err)
			return err;
		for (b = 0; b < bt.nb; b++) {
			if (pred)
				pred[s + b] = c->pred[b];
			if (scores)
				for (k = 0; k < nk; k++)
					scores[(size_t)(s + b) * nk + k] =
						c->m.y[L][(u64)k * c->m.bs + b];
		}
	}
	return 0;
}

static uint64_t cpu_step(const struct fewmul_backend *be)
{
	return cpu_of(be)->m.step;
}

static void *cpu_params(const struct fewmul_backend *be, size_t *size)
{
	struct fewmul_cpu *c = cpu_of(be);

	if (size)
		*size = c->m.lay.size;
	return c->m.arena;
}

static int cpu_reload(struct fewmul_backend *be, uint64_t step)
{
	struct fewmul_cpu *c = cpu_of(be);

	/* The engine is only defined for parameters in its ranges. */
	if (fewmul_params_check(&c->m))
		return -EINVAL;
	c->m.step = step;
	return 0;
}

static int cpu_hist(const struct fewmul_backend *be, unsigned int layer,
		    uint64_t bins[FEWMUL_HIST_NR_BINS])
{
	memcpy(bins, cpu_of(be)->m.hist[layer], FEWMUL_HIST_NR_BINS * sizeof(u64));
	return 0;
}

/* Stop and join workers 1..started-1 (they wait for a plan). */
static void cpu_stop_workers(struct fewmul_cpu *c, unsigned int started)
{
	unsigned int w;

	pthread_mutex_lock(&c->barrier.mu);
	c->quit = 1;
	c->barrier.n = started;
	pthread_mutex_unlock(&c->barrier.mu);
	cpu_barrier_wait(&c->barrier);
	for (w = 1; w < started; w++)
		pthread_join(c->threads[w], NULL);
}

static void cpu_free(struct fewmul_backend *be)
{
	struct fewmul_cpu *c;

	if (!be)
		return;
	c = cpu_of(be);
	if (c->threads) {
		cpu_stop_workers(c, c->ex.nr_workers);
		free(c->threads);
	}
	free(c->ex.ops);
	free(c->arena);
	free(c->scratch);
	free(c->ptr);
	free(c->lab);
	free(c->pred);
	free(c->dp);
	free(c->conf);
	free(c);
}

static int cpu_set_collective(struct fewmul_backend *be,
			      const struct fewmul_collective *coll)
{
	struct fewmul_cpu *c = cpu_of(be);
	u32 nk = c->m.cfg.width[c->m.cfg.nr_layers];
	u64 sz = fewmul_dp_size(&c->m.cfg);

	if (c->dp)
		return -EBUSY;
	c->dp = aligned_alloc(64, (sz + 63) & ~63ULL);
	c->conf = calloc((size_t)nk * nk, sizeof(*c->conf));
	if (!c->dp || !c->conf) {
		free(c->dp);
		free(c->conf);
		c->dp = NULL;
		c->conf = NULL;
		return -ENOMEM;
	}
	memset(c->dp, 0, sz);
	c->coll = *coll;
	fewmul_dp_bind(&c->m, c->dp, cpu_xchg,
		       coll->allreduce32 ? cpu_xchg32 : NULL, c);
	return 0;
}

static int cpu_set_test_weights(struct fewmul_backend *be, int test_weights)
{
	cpu_of(be)->m.test_weights = test_weights == FEWMUL_TEST_WEIGHTS_REAL ?
				     FEWMUL_TESTW_REAL :
				     test_weights == FEWMUL_TEST_WEIGHTS_SAMPLED ?
				     FEWMUL_TESTW_SAMPLED : FEWMUL_TESTW_DET;
	return 0;
}

static const struct fewmul_backend_ops cpu_ops = {
	.name = "cpu",
	.run = cpu_run,
	.calibrate = cpu_calibrate,
	.predict = cpu_predict,
	.step = cpu_step,
	.params = cpu_params,
	.reload = cpu_reload,
	.hist = cpu_hist,
	.set_test_weights = cpu_set_test_weights,
	.set_collective = cpu_set_collective,
	.free = cpu_free,
};

int fewmul_cpu_new(const struct fewmul_config *cfg, unsigned int nthreads,
		   struct fewmul_backend **out)
{
	struct fewmul_layout lay;
	struct fewmul_cpu *c;
	unsigned int w;
	u64 ss;
	int err;

	*out = NULL;
	if (nthreads < 1 || nthreads > 256)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->be.ops = &cpu_ops;
	c->ex.nr_workers = nthreads;
	c->ex.run = cpu_exec_run;
	pthread_mutex_init(&c->barrier.mu, NULL);
	pthread_cond_init(&c->barrier.cv, NULL);
	c->barrier.n = nthreads;
	fewmul_layout(cfg, &lay);
	ss = fewmul_scratch_size(cfg);
	c->arena = calloc(1, lay.size);
	c->scratch = aligned_alloc(64, (ss + 63) & ~63ULL);
	c->ex.ops = calloc((size_t)nthreads * FEWMUL_LAYER_SLOTS,
			   sizeof(*c->ex.ops));
	c->ptr = calloc(cfg->batch, sizeof(*c->ptr));
	c->lab = calloc(cfg->batch, 1);
	c->pred = calloc(cfg->batch, 1);
	if (!c->arena || !c->scratch || !c->ex.ops || !c->ptr || !c->lab ||
	    !c->pred) {
		err = -ENOMEM;
		goto err_free;
	}
	memset(c->scratch, 0, ss);
	c->be.memory = lay.size + ss;
	c->be.counts = 1;
	fewmul_model_bind(&c->m, cfg, c->arena, c->scratch);
	fewmul_model_init_params(&c->m);

	if (nthreads > 1) {
		c->threads = calloc(nthreads, sizeof(*c->threads));
		if (!c->threads) {
			err = -ENOMEM;
			goto err_free;
		}
		for (w = 1; w < nthreads; w++) {
			struct cpu_worker_arg *a = malloc(sizeof(*a));

			if (!a) {
				err = -ENOMEM;
				goto err_threads;
			}
			a->c = c;
			a->w = w;
			err = pthread_create(&c->threads[w], NULL, cpu_worker, a);
			if (err) {
				free(a);
				err = -err;
				goto err_threads;
			}
		}
	}
	*out = &c->be;
	return 0;

err_threads:
	cpu_stop_workers(c, w);
	free(c->threads);
	c->threads = NULL;
err_free:
	cpu_free(&c->be);
	return err;
}
