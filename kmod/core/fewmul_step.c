// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * fewmul core: one minibatch step, the same for every backend.
 *
 * A step sets up the minibatch, builds its plan of phases, has the
 * backend run every phase split into worker ranges (struct fewmul_exec),
 * and then reads the outcome: predictions, errors, loss, the confusion
 * matrix and the operation counters per layer. The module, the cpu
 * backend and the tests' stand-in for the module all call
 * fewmul_batch_step(); they differ only in how a phase's ranges reach
 * their workers (work items, threads, a loop).
 */
#include "fewmul_engine.h"

/*
 * Range w of nw of count items: [count * w / nw, count * (w + 1) / nw).
 * The product is formed by shifts and adds: the step executes no
 * multiply instruction (a plain loop of adds, the compiler turns into one).
 */
static u32 fewmul_split(u32 count, u32 w, u32 nw)
{
	return (u32)fewmul_div_u64(fewmul_mul_sa(count, w), nw);
}

void fewmul_phase_share(struct fewmul_model *m, u32 p, u32 w, u32 nw,
			struct fewmul_counters *wops)
{
	const struct fewmul_phase *ph = &m->plan[p];
	u32 begin = fewmul_split(ph->count, w, nw);
	u32 end = fewmul_split(ph->count, w + 1, nw);
	u32 chunk = (end - begin + FEWMUL_SHARE_CHUNKS - 1) / FEWMUL_SHARE_CHUNKS;
	struct fewmul_counters *ops = &wops[ph->layer];
	u32 b;

	if (!chunk)
		chunk = 1;
	for (b = begin; b < end; b += chunk) {
		if (fewmul_read_once(m->abort))
			return;
		fewmul_phase_run(m, ph, b, end - b < chunk ? end : b + chunk, ops);
		/* A killed thread ends its share and the step (the model is lost) */
		if (end - b > chunk && fewmul_yield())
			fewmul_write_once(m->abort, -EINTR);
	}
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_phase_share);

/* Every share of every phase, in order, on the calling thread. */
static void fewmul_exec_serial(struct fewmul_exec *ex, struct fewmul_model *m)
{
	u32 p, w;

	for (p = 0; p < m->nr_phases; p++)
		for (w = 0; w < ex->nr_workers; w++)
			fewmul_phase_share(m, p, w, ex->nr_workers,
					   fewmul_exec_ops(ex, w));
}

/* Arg-max of every sample; errors, predictions and confusion counts. */
static u32 fewmul_batch_outcome(const struct fewmul_model *m,
				const struct fewmul_batch *bt)
{
	u32 L = m->cfg.nr_layers, nk = m->cfg.width[L];
	const s32 *y = m->y[L];
	u32 b, k, best, errors = 0;

	for (b = 0; b < bt->nb; b++) {
		const s32 *yk = y + b;
		s32 top = *yk;

		best = 0;
		for (k = 1; k < nk; k++) {
			yk += m->bs;
			if (*yk > top) {
				top = *yk;
				best = k;
			}
		}
		if (bt->pred)
			bt->pred[b] = (u8)best;
		if (!bt->labels)
			continue;
		if (best != bt->labels[b])
			errors++;
		if (bt->confusion)
			bt->confusion[m->conf_row[bt->labels[b]] + best]++;
	}
	return errors;
}

int fewmul_batch_step(struct fewmul_model *m, struct fewmul_exec *ex,
		      const struct fewmul_batch *bt, struct fewmul_step_result *res)
{
	u32 w, l;
	int n, ret;

	if (!ex->nr_workers || ex->nr_workers > FEWMUL_MAX_WORKERS)
		return -EINVAL;
	if (bt->kind != FEWMUL_PLAN_TRAIN && bt->kind != FEWMUL_PLAN_CALIB &&
	    bt->kind != FEWMUL_PLAN_EVAL)
		return -EINVAL;
	if (bt->nb_global && !m->exchange)
		return -EINVAL;
	ret = fewmul_batch_begin_share(m, bt->images, bt->labels, bt->nb,
				       bt->nb_global ? bt->nb_global : bt->nb,
				       bt->nb_global ? bt->offset : 0, bt->epoch);
	if (ret)
		return ret;
	m->plan_kind = bt->kind;
	m->exchange_err = 0;
	m->abort = 0;
	n = fewmul_step_plan(m, bt->kind, m->plan, FEWMUL_MAX_PHASES);
	if (n < 0)
		return n;
	m->nr_phases = n;
	memset(ex->ops, 0, fewmul_mul_sa(sizeof(*ex->ops) * FEWMUL_LAYER_SLOTS,
					 ex->nr_workers));
	if (ex->run)
		ex->run(ex, m);
	else
		fewmul_exec_serial(ex, m);
	if (m->abort)
		return m->abort;	/* the model is lost: the step half ran */
	if (m->exchange_err)
		return m->exchange_err;	/* the same */
	fewmul_plan_done(m, bt->kind);

	memset(res, 0, sizeof(*res));
	for (w = 0; w < ex->nr_workers; w++)
		for (l = 0; l < FEWMUL_LAYER_SLOTS; l++)
			fewmul_counters_add(&res->layers[l],
					    &fewmul_exec_ops(ex, w)[l]);
	for (l = 0; l < FEWMUL_LAYER_SLOTS; l++)
		fewmul_counters_add(&res->ops, &res->layers[l]);
	if (bt->kind == FEWMUL_PLAN_CALIB)
		return 0;
	res->errors = fewmul_batch_outcome(m, bt);
	if (bt->labels)
		res->loss = fewmul_batch_loss(m);
	return 0;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_batch_step);
