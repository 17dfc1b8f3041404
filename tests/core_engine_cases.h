/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Engine test helpers shared by the KUnit suite and the native tests: a
 * small configuration, a synthetic 4-class problem, and a trainer that
 * splits every phase into scrambled ranges (as workers would).
 * Buffers are static: callers run one helper at a time.
 */
#ifndef _FEWMUL_ENGINE_CASES_H
#define _FEWMUL_ENGINE_CASES_H

#include "fewmul_engine.h"

#define FEWMUL_TEST_MAX_B 64

static u8 fewmul_test_img[FEWMUL_TEST_MAX_B][16];
static u8 fewmul_test_lab[FEWMUL_TEST_MAX_B];
static const u8 *fewmul_test_ptr[FEWMUL_TEST_MAX_B];

static void fewmul_base_cfg(struct fewmul_config *c, u32 weights, u32 qbp)
{
	memset(c, 0, sizeof(*c));
	c->nr_layers = 3;
	c->width[0] = 16;
	c->width[1] = 24;
	c->width[2] = 20;
	c->width[3] = 4;
	c->weights = weights;
	c->qbp = qbp;
	c->bn = FEWMUL_MODEL_BN_SHIFT;
	c->exp_min = -4;
	c->exp_max = 3;
	c->lr_shift_start = 2;
	c->lr_shift_end = 5;
	c->epochs = 10;
	c->batch = 32;
	c->seed = 42;
}

/*
 * A synthetic 4-class problem on 16 "pixels": class k lights pixels
 * 4k..4k+3 brightly, the rest is noise. Deterministic from the index.
 */
static void fewmul_synth(u32 idx, u8 *img, u8 *label)
{
	u32 k = idx & 3, p, h = idx * 2654435761u;

	for (p = 0; p < 16; p++) {
		h ^= h << 13;
		h ^= h >> 17;
		h ^= h << 5;
		img[p] = (u8)(h & 63);
		if (p / 4 == k)
			img[p] += 150;
	}
	*label = (u8)k;
}

/* Train nsteps on synthetic batches, splitting every phase into ranges. */
static void fewmul_train_split(struct fewmul_model *mdl, u32 nsteps, u32 nsplit,
			u32 seed, struct fewmul_counters *ops)
{
	struct fewmul_phase *ph = mdl->plan;
	u32 B = mdl->cfg.batch, s, b, k, r;
	int n, p;

	for (s = 0; s < nsteps; s++) {
		for (b = 0; b < B; b++) {
			fewmul_synth(s * B + b, fewmul_test_img[b], &fewmul_test_lab[b]);
			fewmul_test_ptr[b] = fewmul_test_img[b];
		}
		fewmul_batch_begin(mdl, fewmul_test_ptr, fewmul_test_lab, B, s / 8);
		n = fewmul_step_plan(mdl, FEWMUL_PLAN_TRAIN, ph, FEWMUL_MAX_PHASES);
		for (p = 0; p < n; p++) {
			u32 cnt = ph[p].count, chunk = (cnt + nsplit - 1) / nsplit;

			/* ranges run in a scrambled order */
			for (k = 0; k < nsplit; k++) {
				r = (nsplit - 1 - k + seed) % nsplit;
				fewmul_phase_run(mdl, &ph[p], r * chunk,
						 r * chunk + chunk, ops);
			}
		}
		fewmul_plan_done(mdl, FEWMUL_PLAN_TRAIN);
	}
}

/* Accuracy on fresh synthetic samples after training. */
static u32 fewmul_eval_synth(struct fewmul_model *mdl, u32 from, u32 n)
{
	struct fewmul_counters o = { 0 };
	u32 B = mdl->cfg.batch, s, b, err = 0;

	fewmul_calib_begin(mdl);
	for (s = 0; s < 4; s++) {
		for (b = 0; b < B; b++) {
			fewmul_synth(s * B + b, fewmul_test_img[b], &fewmul_test_lab[b]);
			fewmul_test_ptr[b] = fewmul_test_img[b];
		}
		fewmul_batch_begin(mdl, fewmul_test_ptr, fewmul_test_lab, B, 0);
		fewmul_run_serial(mdl, FEWMUL_PLAN_CALIB, &o);
	}
	fewmul_calib_end(mdl, NULL);
	for (s = 0; s < n / B; s++) {
		for (b = 0; b < B; b++) {
			fewmul_synth(from + s * B + b, fewmul_test_img[b], &fewmul_test_lab[b]);
			fewmul_test_ptr[b] = fewmul_test_img[b];
		}
		fewmul_batch_begin(mdl, fewmul_test_ptr, fewmul_test_lab, B, 0);
		fewmul_run_serial(mdl, FEWMUL_PLAN_EVAL, &o);
		err += fewmul_batch_errors(mdl, NULL);
	}
	return err;
}

#endif
