// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libfewmul: the "cpu" backend, the engine of kmod/core/ run in-process.
 *
 * The calling thread is worker 0; nthreads - 1 more threads wait on a
 * barrier. Every phase of a plan is split into nthreads contiguous ranges
 * (the same rule the kernel workers use), each worker runs its range and
 * all meet at the barrier before the next phase. The engine guarantees
 * the result does not depend on the split.
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
	struct fewmul_model m;
	void *arena;
	void *scratch;
	unsigned int nthreads;
	pthread_t *threads;
	struct cpu_barrier barrier;
	struct fewmul_phase ph[FEWMUL_MAX_PHASES];
	int nph;
	int quit;
	/* per worker and layer: ops[w * (FEWMUL_CORE_MAX_LAYERS + 1) + l] */
	struct fewmul_counters *ops;
};

/*
 * Run worker w's share of every phase. nph is read once, after the
 * barrier that published the plan: the calling thread rewrites c->ph and
 * c->nph for the next plan as soon as the last phase's barrier opens,
 * while a slower worker may still be leaving this loop.
 */
static void cpu_run_share(struct fewmul_cpu *c, unsigned int w)
{
	int p, nph = c->nph;

	for (p = 0; p < nph; p++) {
		u32 cnt = c->ph[p].count;
		u32 begin = (u32)((u64)cnt * w / c->nthreads);
		u32 end = (u32)((u64)cnt * (w + 1) / c->nthreads);

		fewmul_phase_run(&c->m, &c->ph[p], begin, end,
				 &c->ops[w * (FEWMUL_CORE_MAX_LAYERS + 1) +
					 c->ph[p].layer]);
		if (c->nthreads > 1)
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

int fewmul_cpu_run(struct fewmul_cpu *c, int kind, struct fewmul_counters *ops,
		   struct fewmul_counters *layer_ops)
{
	struct fewmul_counters lo[FEWMUL_CORE_MAX_LAYERS + 1] = { { 0 } };
	unsigned int l;

	c->nph = fewmul_step_plan(&c->m, kind, c->ph, FEWMUL_MAX_PHASES);
	if (c->nph < 0)
		return c->nph;
	memset(c->ops, 0, sizeof(*c->ops) * c->nthreads *
	       (FEWMUL_CORE_MAX_LAYERS + 1));
	if (c->nthreads > 1)
		cpu_barrier_wait(&c->barrier);	/* release the workers */
	cpu_run_share(c, 0);
	fewmul_plan_done(&c->m, kind);
	fewmul_counters_gather(lo, c->ops, c->nthreads);
	for (l = 0; l <= FEWMUL_CORE_MAX_LAYERS; l++) {
		fewmul_counters_add(ops, &lo[l]);
		if (layer_ops)
			fewmul_counters_add(&layer_ops[l], &lo[l]);
	}
	return 0;
}

struct fewmul_model *fewmul_cpu_model(struct fewmul_cpu *c)
{
	return &c->m;
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

void fewmul_cpu_free(struct fewmul_cpu *c)
{
	if (!c)
		return;
	if (c->threads) {
		cpu_stop_workers(c, c->nthreads);
		free(c->threads);
	}
	free(c->ops);
	free(c->arena);
	free(c->scratch);
	free(c);
}

int fewmul_cpu_new(const struct fewmul_config *cfg, unsigned int nthreads,
		   struct fewmul_cpu **out)
{
	struct fewmul_layout lay;
	struct fewmul_cpu *c;
	unsigned int w;
	u64 ss;
	int err;

	*out = NULL;
	err = fewmul_config_check(cfg);
	if (err)
		return err;
	if (nthreads < 1 || nthreads > 256)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->nthreads = nthreads;
	pthread_mutex_init(&c->barrier.mu, NULL);
	pthread_cond_init(&c->barrier.cv, NULL);
	c->barrier.n = nthreads;
	fewmul_layout(cfg, &lay);
	ss = fewmul_scratch_size(cfg);
	c->arena = calloc(1, lay.size);
	c->scratch = aligned_alloc(64, (ss + 63) & ~63ULL);
	c->ops = calloc((size_t)nthreads * (FEWMUL_CORE_MAX_LAYERS + 1),
			sizeof(*c->ops));
	if (!c->arena || !c->scratch || !c->ops) {
		err = -ENOMEM;
		goto err_free;
	}
	memset(c->scratch, 0, ss);
	err = fewmul_model_bind(&c->m, cfg, c->arena, c->scratch);
	if (err)
		goto err_free;
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
	*out = c;
	return 0;

err_threads:
	cpu_stop_workers(c, w);
	free(c->threads);
	c->threads = NULL;
err_free:
	fewmul_cpu_free(c);
	return err;
}
