// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Native tests of the training engine (ASan+UBSan): configuration checks,
 * the paper's multiplication counts, determinism under any work split,
 * and convergence on a small synthetic problem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_engine_cases.h"
#include "fewmul_internal.h"
#include <math.h>
#include "unit/tap.h"

#include "unit/model_buf.h"

static void test_config_check(void)
{
	struct fewmul_config c;

	tap_begin();
	fewmul_base_cfg(&c, FEWMUL_MODEL_WEIGHTS_TERNARY, 1);
	CHECK_EQ(fewmul_config_check(&c), 0);
	c.nr_layers = 0;
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_MODEL_WEIGHTS_TERNARY, 1);
	c.nr_layers = FEWMUL_MAX_LAYERS + 1;
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_MODEL_WEIGHTS_TERNARY, 1);
	c.width[1] = 0;
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_MODEL_WEIGHTS_TERNARY, 1);
	c.width[2] = FEWMUL_MAX_WIDTH + 1;
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_MODEL_WEIGHTS_TERNARY, 1);
	c.width[5] = 3;	/* beyond nr_layers must be zero */
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_MODEL_WEIGHTS_TERNARY, 1);
	c.width[3] = 1;	/* one class */
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_MODEL_NR_WEIGHTS, 1);
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_MODEL_WEIGHTS_TERNARY, 2);
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_MODEL_WEIGHTS_TERNARY, 1);
	c.exp_min = 2;
	c.exp_max = 1;
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_MODEL_WEIGHTS_TERNARY, 1);
	c.lr_shift_start = 5;
	c.lr_shift_end = 4;
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_MODEL_WEIGHTS_TERNARY, 1);
	c.batch = 0;
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_MODEL_WEIGHTS_TERNARY, 1);
	c.batch = FEWMUL_MAX_BATCH + 1;
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_MODEL_WEIGHTS_TERNARY, 1);
	c.bn = FEWMUL_MODEL_NR_BN;
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	tap_end("config_check rejects every out-of-range field");
}

static void test_counts(void)
{
	struct fewmul_config c;
	u64 full, qb;

	tap_begin();
	memset(&c, 0, sizeof(c));
	c.nr_layers = 4;
	c.width[0] = 784;
	c.width[1] = 1024;
	c.width[2] = 1024;
	c.width[3] = 1024;
	c.width[4] = 10;
	full = fewmul_count_mults_full(&c, 200, 0);
	qb = fewmul_count_mults_qb(&c, 200, 0);
	CHECK(full == 1747974000ULL);
	CHECK(qb == 1849200ULL);
	/* ratio 0.001058 to 4 significant digits */
	CHECK(qb * 1000000ULL / full == 1057);
	CHECK((qb * 10000000ULL / full + 5) / 10 == 1058);
	/* the paper's with-BN row: 1.7535e9, 7.4245e6, 0.004234 */
	full = fewmul_count_mults_full(&c, 200, 1);
	qb = fewmul_count_mults_qb(&c, 200, 1);
	CHECK(full == 1753549338ULL);
	CHECK(qb == 7424538ULL);
	CHECK((qb * 10000000ULL / full + 5) / 10 == 4234);
	tap_end("paper's counts for 784-1024-1024-1024-10, batch 200, without and with BN");
}

static void test_lr_schedule(void)
{
	struct fewmul_config c;

	tap_begin();
	fewmul_base_cfg(&c, FEWMUL_MODEL_WEIGHTS_TERNARY, 1);
	c.lr_shift_start = 2;
	c.lr_shift_end = 6;
	c.epochs = 5;
	CHECK_EQ(fewmul_lr_shift(&c, 0), 2);
	CHECK_EQ(fewmul_lr_shift(&c, 1), 3);
	CHECK_EQ(fewmul_lr_shift(&c, 2), 4);
	CHECK_EQ(fewmul_lr_shift(&c, 4), 6);
	CHECK_EQ(fewmul_lr_shift(&c, 100), 6);
	/*
	 * A span that the epochs do not divide: 0.75, 1.5 and 2.25 round to
	 * nearest (half up), 1, 2 and 2; rounding down would decay late.
	 */
	c.lr_shift_start = 0;
	c.lr_shift_end = 3;
	CHECK_EQ(fewmul_lr_shift(&c, 0), 0);
	CHECK_EQ(fewmul_lr_shift(&c, 1), 1);
	CHECK_EQ(fewmul_lr_shift(&c, 2), 2);
	CHECK_EQ(fewmul_lr_shift(&c, 3), 2);
	CHECK_EQ(fewmul_lr_shift(&c, 4), 3);
	c.lr_shift_start = 2;
	c.lr_shift_end = 6;
	c.epochs = 1;
	CHECK_EQ(fewmul_lr_shift(&c, 0), 2);
	tap_end("LR shift schedule: linear in the exponent, start to end");
}

static void test_determinism(u32 weights, u32 qbp, const char *name)
{
	struct model_buf a, b2, c;
	struct fewmul_config cfg;
	struct fewmul_counters oa = { 0 }, ob = { 0 }, oc = { 0 };

	tap_begin();
	fewmul_base_cfg(&cfg, weights, qbp);
	CHECK_EQ(model_new(&a, &cfg), 0);
	CHECK_EQ(model_new(&b2, &cfg), 0);
	CHECK_EQ(model_new(&c, &cfg), 0);
	fewmul_train_split(&a.m, 6, 1, 0, &oa);
	fewmul_train_split(&b2.m, 6, 3, 1, &ob);
	fewmul_train_split(&c.m, 6, 7, 5, &oc);
	CHECK(memcmp(a.arena, b2.arena, a.m.lay.size) == 0);
	CHECK(memcmp(a.arena, c.arena, a.m.lay.size) == 0);
	CHECK(oa.adds == ob.adds && oa.adds == oc.adds);
	CHECK(oa.muls == ob.muls && oa.shifts == oc.shifts);
	/* and the weights did move */
	{
		struct model_buf fresh;

		CHECK_EQ(model_new(&fresh, &cfg), 0);
		CHECK(memcmp(a.arena, fresh.arena, a.m.lay.size) != 0);
		model_free(&fresh);
	}
	model_free(&a);
	model_free(&b2);
	model_free(&c);
	tap_end(name);
}

static void test_seed_changes_result(void)
{
	struct model_buf a, b2;
	struct fewmul_config cfg;
	struct fewmul_counters o = { 0 };

	tap_begin();
	fewmul_base_cfg(&cfg, FEWMUL_MODEL_WEIGHTS_TERNARY, 1);
	CHECK_EQ(model_new(&a, &cfg), 0);
	cfg.seed = 43;
	CHECK_EQ(model_new(&b2, &cfg), 0);
	fewmul_train_split(&a.m, 2, 1, 0, &o);
	fewmul_train_split(&b2.m, 2, 1, 0, &o);
	CHECK(memcmp(a.arena, b2.arena, a.m.lay.size) != 0);
	model_free(&a);
	model_free(&b2);
	tap_end("a different seed gives different weights");
}

static void test_converges_bn(u32 weights, u32 qbp, u32 bn, const char *name)
{
	struct fewmul_counters o = { 0 };
	struct fewmul_config cfg;
	struct model_buf mb;
	u32 before, after;

	tap_begin();
	fewmul_base_cfg(&cfg, weights, qbp);
	cfg.bn = bn;
	CHECK_EQ(model_new(&mb, &cfg), 0);
	before = fewmul_eval_synth(&mb.m, 100000, 512);
	fewmul_train_split(&mb.m, 80, 1, 0, &o);
	after = fewmul_eval_synth(&mb.m, 100000, 512);
	printf("#   %s: test errors %u/512 before, %u/512 after; muls %llu\n",
	       name, before, after, (unsigned long long)o.muls);
	CHECK(after <= 512 / 20);	/* >= 95% accuracy */
	CHECK(after < before);
	if (weights != FEWMUL_MODEL_WEIGHTS_FULL && qbp)	/* only the loss report multiplies */
		CHECK(o.muls == 80ULL * cfg.batch * cfg.width[cfg.nr_layers]);
	model_free(&mb);
	tap_end(name);
}

static void test_converges(u32 weights, u32 qbp, const char *name)
{
	test_converges_bn(weights, qbp, FEWMUL_MODEL_BN_SHIFT, name);
}


/*
 * Every fast path against the scalar reference: the same training run
 * with m->reference set and cleared must give bit-identical weights and
 * identical operation counts, on widths that are odd and not multiples
 * of the 16-sample and 64-unit blocks, with a partial last batch.
 */
static void test_fast_vs_reference(u32 weights, u32 qbp, const char *name)
{
	struct fewmul_counters oa = { 0 }, ob = { 0 };
	struct model_buf a, b2;
	struct fewmul_config cfg;

	tap_begin();
	fewmul_base_cfg(&cfg, weights, qbp);
	cfg.width[1] = 77;
	cfg.width[2] = 130;
	cfg.batch = 29;
	CHECK_EQ(model_new(&a, &cfg), 0);
	CHECK_EQ(model_new(&b2, &cfg), 0);
	a.m.reference = 1;
	fewmul_train_split(&a.m, 7, 1, 0, &oa);
	fewmul_train_split(&b2.m, 7, 3, 1, &ob);
	CHECK(memcmp(a.arena, b2.arena, a.m.lay.size) == 0);
	CHECK(oa.adds == ob.adds);
	CHECK(oa.shifts == ob.shifts);
	CHECK(oa.muls == ob.muls);
	CHECK_EQ(fewmul_eval_synth(&a.m, 5000, 29 * 4), fewmul_eval_synth(&b2.m, 5000, 29 * 4));
	model_free(&a);
	model_free(&b2);
	tap_end(name);
}

/*
 * Stochastic ternarization: P(t = sign u) = |u|; binary-stoch: P(+1) =
 * (u + 1) / 2. 2^15 draws per value (each a fresh row stream); the count
 * must be within 6 standard deviations of its expectation, and the
 * impossible outcomes must never occur.
 */
static void test_sampling_stats(void)
{
	static const double us[] = { 0.0, 0.1, 0.25, 0.5, 0.9, 1.0, -0.3, -1.0 };
	const u32 n = 1u << 15, nu = sizeof(us) / sizeof(us[0]);
	s32 u[8];
	s8 t[8];
	u32 cnt_t[8] = { 0 }, cnt_b[8] = { 0 }, neg_t[8] = { 0 }, k, r;
	struct fewmul_rng rng;

	tap_begin();
	for (k = 0; k < nu; k++)
		u[k] = (s32)lround(us[k] * FEWMUL_ONE_W);
	for (r = 0; r < n; r++) {
		fewmul_rng_seed(&rng, 99, r);
		fewmul_k_sample(u, t, nu, FEWMUL_MODEL_WEIGHTS_TERNARY, 0, &rng);
		for (k = 0; k < nu; k++) {
			cnt_t[k] += t[k] != 0;
			/* never the opposite sign */
			neg_t[k] += (u[k] > 0 && t[k] < 0) || (u[k] <= 0 && t[k] > 0);
		}
		fewmul_rng_seed(&rng, 98, r);
		fewmul_k_sample(u, t, nu, FEWMUL_MODEL_WEIGHTS_BINARY_STOCH, 0, &rng);
		for (k = 0; k < nu; k++)
			cnt_b[k] += t[k] > 0;
	}
	for (k = 0; k < nu; k++) {
		double p = fabs(us[k]), pb = (us[k] + 1) / 2;
		double sd = sqrt(n * p * (1 - p)), sdb = sqrt(n * pb * (1 - pb));

		CHECK_EQ(neg_t[k], 0);
		if (fabs(cnt_t[k] - n * p) > 6 * sd + 0.5) {
			printf("#   ternary u=%.2f: %u of %u non-zero\n", us[k], cnt_t[k], n);
			CHECK(0);
		}
		if (fabs(cnt_b[k] - n * pb) > 6 * sdb + 0.5) {
			printf("#   binary-stoch u=%.2f: %u of %u +1\n", us[k], cnt_b[k], n);
			CHECK(0);
		}
	}
	tap_end("sampling: ternary P(sign u) = |u|, binary-stoch P(+1) = (u+1)/2 (6 sigma)");
}

/*
 * Gradient check of the integer backward pass against a double-precision
 * reference on a tiny net (8-6-3, no BN, full weights, exact gradients):
 * one step's weight change, divided by its known scale, must match the
 * analytic gradient of the summed squared hinge loss.
 */
static void test_gradient_check(void)
{
	struct fewmul_counters o = { 0 };
	struct fewmul_config cfg;
	struct model_buf mb;
	static u8 img[4][8], lab[4] = { 0, 1, 2, 1 };
	const u8 *ptr[4];
	double u1[8][6], u2[6][3], g1[8][6] = { { 0 } }, g2[6][3] = { { 0 } };
	double worst = 0, gmax = 0, scale;
	u32 b, i, j, k, l;
	s32 before[2][48];

	tap_begin();
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_layers = 2;
	cfg.width[0] = 8;
	cfg.width[1] = 6;
	cfg.width[2] = 3;
	cfg.weights = FEWMUL_MODEL_WEIGHTS_FULL;
	cfg.bn = FEWMUL_MODEL_BN_NONE;
	cfg.exp_min = -4;
	cfg.exp_max = 3;
	cfg.lr_shift_start = cfg.lr_shift_end = 8;
	cfg.epochs = 1;
	cfg.batch = 4;
	CHECK_EQ(model_new(&mb, &cfg), 0);
	for (b = 0; b < 4; b++) {
		for (i = 0; i < 8; i++)
			img[b][i] = (u8)((b * 37 + i * 23) % 256);
		ptr[b] = img[b];
	}
	/* no-BN layer scales fixed at 1 (marked as measured) */
	for (l = 1; l <= 2; l++) {
		for (k = 0; k < cfg.width[l]; k++)
			mb.m.bn_shift[l][k] = 0;
		mb.m.bn_mean[l][0] = 1;
	}
	/* small weights away from the clip */
	for (l = 1; l <= 2; l++)
		for (k = 0; k < cfg.width[l - 1] * cfg.width[l]; k++) {
			mb.m.w[l][k] = (s32)(((k * 2654435761u + l) >> 8) % (1u << 23)) -
				       (1 << 22);
			before[l - 1][k] = mb.m.w[l][k];
		}
	for (i = 0; i < 8; i++)
		for (j = 0; j < 6; j++)
			u1[i][j] = mb.m.w[1][i * 6 + j] / (double)FEWMUL_ONE_W;
	for (i = 0; i < 6; i++)
		for (j = 0; j < 3; j++)
			u2[i][j] = mb.m.w[2][i * 3 + j] / (double)FEWMUL_ONE_W;
	/* double reference: y = U^T x (units of W0), z1 relu, squared hinge */
	for (b = 0; b < 4; b++) {
		double x[8], z1[6], h[6], z2[3], dz2[3], dh[6];

		for (i = 0; i < 8; i++)
			x[i] = img[b][i] / 256.0;
		for (j = 0; j < 6; j++) {
			z1[j] = 0;
			for (i = 0; i < 8; i++)
				z1[j] += u1[i][j] * x[i];
			h[j] = z1[j] > 0 ? z1[j] : 0;
		}
		for (k = 0; k < 3; k++) {
			double t = k == lab[b] ? 1 : -1, m;

			z2[k] = 0;
			for (j = 0; j < 6; j++)
				z2[k] += u2[j][k] * h[j];
			m = 1 - t * z2[k];
			dz2[k] = m > 0 ? -2 * t * m : 0;
		}
		for (j = 0; j < 6; j++) {
			dh[j] = 0;
			for (k = 0; k < 3; k++) {
				dh[j] += u2[j][k] * dz2[k];
				g2[j][k] += h[j] * dz2[k];
			}
			if (z1[j] <= 0)
				dh[j] = 0;
			for (i = 0; i < 8; i++)
				g1[i][j] += x[i] * dh[j];
		}
	}
	fewmul_batch_begin(&mb.m, ptr, lab, 4, 0);
	fewmul_run_serial(&mb.m, FEWMUL_PLAN_TRAIN, &o);
	/* dU = -grad * 2^(2k - lr_shift - round(log2 B)) */
	for (l = 1; l <= 2; l++) {
		scale = ldexp(1.0, 2 * mb.m.w0_shift[l] - 8 - 2);
		for (k = 0; k < cfg.width[l - 1] * cfg.width[l]; k++) {
			double got = -(mb.m.w[l][k] - before[l - 1][k]) /
				     (double)FEWMUL_ONE_W / scale;
			double want = l == 1 ? g1[k / 6][k % 6] : g2[k / 3][k % 3];

			if (fabs(want) > gmax)
				gmax = fabs(want);
			if (fabs(got - want) > worst)
				worst = fabs(got - want);
		}
	}
	printf("#   largest gradient %.4f, largest deviation %.6f\n", gmax, worst);
	CHECK(gmax > 0.01);
	CHECK(worst < 0.01 * gmax + 1e-3);
	model_free(&mb);
	tap_end("gradient check: integer backward matches a double reference (8-6-3, no BN)");
}

/*
 * The deepest model the engine accepts (16 weight layers) must plan and
 * run every kind of pass in every mode, including the first no-BN step,
 * whose plan is the longest.
 */
static void test_deepest_plan(void)
{
	static const u32 modes[][3] = {	/* weights, qbp, bn */
		{ FEWMUL_MODEL_WEIGHTS_TERNARY, 1, FEWMUL_MODEL_BN_NONE },
		{ FEWMUL_MODEL_WEIGHTS_TERNARY, 1, FEWMUL_MODEL_BN_SHIFT },
		{ FEWMUL_MODEL_WEIGHTS_FULL, 0, FEWMUL_MODEL_BN_NONE },
	};
	struct fewmul_counters o = { 0 };
	struct fewmul_config cfg;
	struct model_buf mb;
	u32 k, l, b;

	tap_begin();
	for (k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
		fewmul_base_cfg(&cfg, modes[k][0], modes[k][1]);
		cfg.bn = modes[k][2];
		cfg.nr_layers = FEWMUL_MAX_LAYERS;
		cfg.width[0] = 16;
		for (l = 1; l < FEWMUL_MAX_LAYERS; l++)
			cfg.width[l] = 8;
		cfg.width[FEWMUL_MAX_LAYERS] = 4;
		cfg.batch = 8;
		CHECK_EQ(model_new(&mb, &cfg), 0);
		for (b = 0; b < 8; b++) {
			fewmul_synth(b, fewmul_test_img[b], &fewmul_test_lab[b]);
			fewmul_test_ptr[b] = fewmul_test_img[b];
		}
		CHECK_EQ(fewmul_batch_begin(&mb.m, fewmul_test_ptr, fewmul_test_lab, 8, 0), 0);
		CHECK_EQ(fewmul_run_serial(&mb.m, FEWMUL_PLAN_TRAIN, &o), 0);
		CHECK_EQ(fewmul_run_serial(&mb.m, FEWMUL_PLAN_CALIB, &o), 0);
		CHECK_EQ(fewmul_run_serial(&mb.m, FEWMUL_PLAN_EVAL, &o), 0);
		CHECK(mb.m.step == 1);
		model_free(&mb);
	}
	tap_end("16-layer models plan and run train, calibration and eval passes");
}

int main(void)
{
	test_deepest_plan();
	test_sampling_stats();
	test_gradient_check();
	test_fast_vs_reference(FEWMUL_MODEL_WEIGHTS_TERNARY, 1, "fast == reference: ternary+QB");
	test_fast_vs_reference(FEWMUL_MODEL_WEIGHTS_TERNARY, 0, "fast == reference: ternary, exact dW");
	test_fast_vs_reference(FEWMUL_MODEL_WEIGHTS_BINARY, 1, "fast == reference: binary+QB");
	test_fast_vs_reference(FEWMUL_MODEL_WEIGHTS_BINARY_STOCH, 1, "fast == reference: binary-stoch+QB");
	test_fast_vs_reference(FEWMUL_MODEL_WEIGHTS_FULL, 1, "fast == reference: full+QB");
	test_fast_vs_reference(FEWMUL_MODEL_WEIGHTS_FULL, 0, "fast == reference: full, exact dW");
	test_config_check();
	test_counts();
	test_lr_schedule();
	test_determinism(FEWMUL_MODEL_WEIGHTS_TERNARY, 1, "ternary+QB: bit-identical under 1, 3 and 7 scrambled splits");
	test_determinism(FEWMUL_MODEL_WEIGHTS_BINARY_STOCH, 1, "binary-stoch+QB: bit-identical under any split");
	test_determinism(FEWMUL_MODEL_WEIGHTS_FULL, 0, "full: bit-identical under any split");
	test_seed_changes_result();
	test_converges(FEWMUL_MODEL_WEIGHTS_TERNARY, 1, "ternary+QB converges on a small problem");
	test_converges(FEWMUL_MODEL_WEIGHTS_BINARY, 1, "binary+QB converges on a small problem");
	test_converges(FEWMUL_MODEL_WEIGHTS_BINARY_STOCH, 1, "binary-stoch+QB converges on a small problem");
	test_converges(FEWMUL_MODEL_WEIGHTS_TERNARY, 0, "ternary without QB converges on a small problem");
	test_converges(FEWMUL_MODEL_WEIGHTS_FULL, 0, "full converges on a small problem");
	test_converges_bn(FEWMUL_MODEL_WEIGHTS_TERNARY, 1, FEWMUL_MODEL_BN_NONE,
			  "ternary+QB without BN (fixed power-of-two scales) converges");
	test_converges_bn(FEWMUL_MODEL_WEIGHTS_FULL, 0, FEWMUL_MODEL_BN_NONE,
			  "full without BN (fixed power-of-two scales) converges");
	return tap_done();
}
