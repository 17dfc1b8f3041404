// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the fewmul training engine inside fewmul.ko: the same
 * helpers as the native tests (tests/core_engine_cases.h), on small nets
 * so that they stay quick in an emulated guest.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/string.h>

#include "../core_engine_cases.h"
#include "../core_eval_cases.h"
#include "fewmul_internal.h"
#include "fewmul_kunit.h"

struct fewmul_model *fewmul_kunit_model(struct kunit *test,
					const struct fewmul_config *cfg)
{
	struct fewmul_model *m;
	struct fewmul_layout lay;
	void *arena, *scratch;

	fewmul_layout(cfg, &lay);
	m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	arena = kunit_kzalloc(test, lay.size, GFP_KERNEL);
	scratch = kunit_kzalloc(test, fewmul_scratch_size(cfg), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, m);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, arena);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, scratch);
	KUNIT_ASSERT_EQ(test, fewmul_config_check(cfg), 0);
	fewmul_model_bind(m, cfg, arena, scratch);
	fewmul_model_init_params(m);
	return m;
}

struct fewmul_cfg_case {
	const char *name;
	void (*mutate)(struct fewmul_config *c);
	int want;
};

static void cfg_ok(struct fewmul_config *c) { }
static void cfg_no_layers(struct fewmul_config *c) { c->nr_layers = 0; }
static void cfg_many_layers(struct fewmul_config *c) { c->nr_layers = FEWMUL_MAX_LAYERS + 1; }
static void cfg_zero_width(struct fewmul_config *c) { c->width[1] = 0; }
static void cfg_wide(struct fewmul_config *c) { c->width[2] = FEWMUL_MAX_WIDTH + 1; }
static void cfg_stray_width(struct fewmul_config *c) { c->width[5] = 3; }
static void cfg_one_class(struct fewmul_config *c) { c->width[3] = 1; }
static void cfg_wmode(struct fewmul_config *c) { c->weights = FEWMUL_MODEL_NR_WEIGHTS; }
static void cfg_qbp(struct fewmul_config *c) { c->qbp = 2; }
static void cfg_bn(struct fewmul_config *c) { c->bn = FEWMUL_MODEL_NR_BN; }
static void cfg_erange(struct fewmul_config *c) { c->exp_min = 2; c->exp_max = 1; }
static void cfg_emin(struct fewmul_config *c) { c->exp_min = -17; }
static void cfg_lr(struct fewmul_config *c) { c->lr_shift_start = 5; c->lr_shift_end = 4; }
static void cfg_batch0(struct fewmul_config *c) { c->batch = 0; }
static void cfg_batch_big(struct fewmul_config *c) { c->batch = FEWMUL_MAX_BATCH + 1; }
static void cfg_epochs0(struct fewmul_config *c) { c->epochs = 0; }

static const struct fewmul_cfg_case fewmul_cfg_cases[] = {
	{ "valid", cfg_ok, 0 },
	{ "no layers", cfg_no_layers, -EINVAL },
	{ "too many layers", cfg_many_layers, -EINVAL },
	{ "zero width", cfg_zero_width, -EINVAL },
	{ "too wide", cfg_wide, -EINVAL },
	{ "width past the last layer", cfg_stray_width, -EINVAL },
	{ "one class", cfg_one_class, -EINVAL },
	{ "unknown weight mode", cfg_wmode, -EINVAL },
	{ "qbp not 0/1", cfg_qbp, -EINVAL },
	{ "unknown BN mode", cfg_bn, -EINVAL },
	{ "emin > emax", cfg_erange, -EINVAL },
	{ "emin below -16", cfg_emin, -EINVAL },
	{ "LR end before start", cfg_lr, -EINVAL },
	{ "batch 0", cfg_batch0, -EINVAL },
	{ "batch too big", cfg_batch_big, -EINVAL },
	{ "zero epochs", cfg_epochs0, -EINVAL },
};

static void fewmul_cfg_desc(const struct fewmul_cfg_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}
KUNIT_ARRAY_PARAM(fewmul_cfg, fewmul_cfg_cases, fewmul_cfg_desc);

static void fewmul_config_check_test(struct kunit *test)
{
	const struct fewmul_cfg_case *c = test->param_value;
	struct fewmul_config cfg;

	fewmul_base_cfg(&cfg, FEWMUL_MODEL_WEIGHTS_TERNARY, 1);
	c->mutate(&cfg);
	KUNIT_EXPECT_EQ(test, fewmul_config_check(&cfg), c->want);
}

static void fewmul_counts_test(struct kunit *test)
{
	struct fewmul_config c = {
		.nr_layers = 4,
		.width = { 784, 1024, 1024, 1024, 10 },
	};

	KUNIT_EXPECT_EQ(test, fewmul_count_mults_full(&c, 200, 0), 1747974000ULL);
	KUNIT_EXPECT_EQ(test, fewmul_count_mults_qb(&c, 200, 0), 1849200ULL);
	KUNIT_EXPECT_EQ(test, fewmul_count_mults_full(&c, 200, 1), 1753549338ULL);
	KUNIT_EXPECT_EQ(test, fewmul_count_mults_qb(&c, 200, 1), 7424538ULL);
}

static void fewmul_determinism_test(struct kunit *test)
{
	struct fewmul_counters o1 = {}, o3 = {};
	struct fewmul_model *a, *b;
	struct fewmul_config cfg;

	fewmul_base_cfg(&cfg, FEWMUL_MODEL_WEIGHTS_TERNARY, 1);
	cfg.bn = *(const u32 *)test->param_value;
	a = fewmul_kunit_model(test, &cfg);
	b = fewmul_kunit_model(test, &cfg);
	fewmul_train_split(a, 3, 1, 0, &o1);
	fewmul_train_split(b, 3, 5, 2, &o3);
	KUNIT_EXPECT_EQ(test, memcmp(a->arena, b->arena, a->lay.size), 0);
	KUNIT_EXPECT_EQ(test, o1.adds, o3.adds);
	KUNIT_EXPECT_EQ(test, o1.muls, o3.muls);
	/* batch norm's divisions (3 or 4 per unit and step) in any split */
	KUNIT_EXPECT_NE(test, o1.divs, 0ULL);
	KUNIT_EXPECT_EQ(test, o1.divs, o3.divs);
	KUNIT_EXPECT_EQ(test, o1.sats, o3.sats);
}

static const u32 fewmul_bn_modes[] = {
	FEWMUL_MODEL_BN_SHIFT, FEWMUL_MODEL_BN_SHIFT2, FEWMUL_MODEL_BN_NONE,
};

static void fewmul_bn_desc(const u32 *bn, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "bn %u", *bn);
}
KUNIT_ARRAY_PARAM(fewmul_bn, fewmul_bn_modes, fewmul_bn_desc);

/*
 * BN's scale codes in the kernel build (v8 is the variance in Q8): v = 1
 * is the scale 1 in both modes; v = 2 (1/sqrt 2 = 0.707) is
 * (1 + 2/4) 2^-1 = 0.75 with shift2; v = 4 is 2^-1 in both; the
 * smallest variance, 2^-8, is 16 = 2^4.
 */
static void fewmul_bn_code_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, fewmul_bn_code(FEWMUL_MODEL_BN_SHIFT, 256), 0);
	KUNIT_EXPECT_EQ(test, fewmul_bn_code(FEWMUL_MODEL_BN_SHIFT2, 256), 0);
	KUNIT_EXPECT_EQ(test, fewmul_bn_code(FEWMUL_MODEL_BN_SHIFT2, 512), 4 * 1 + 2);
	KUNIT_EXPECT_EQ(test, fewmul_bn_code(FEWMUL_MODEL_BN_SHIFT, 1024), 1);
	KUNIT_EXPECT_EQ(test, fewmul_bn_code(FEWMUL_MODEL_BN_SHIFT2, 1024), 4 * 1 + 0);
	/* 1/sqrt(2^-8) = 16 = 2^4: s = -4 */
	KUNIT_EXPECT_EQ(test, fewmul_bn_code(FEWMUL_MODEL_BN_SHIFT2, 1), 4 * -4 + 0);
}

static void fewmul_converges_test(struct kunit *test)
{
	struct fewmul_counters o = {};
	struct fewmul_config cfg;
	struct fewmul_model *m;
	u32 after;

	fewmul_base_cfg(&cfg, FEWMUL_MODEL_WEIGHTS_TERNARY, 1);
	m = fewmul_kunit_model(test, &cfg);
	fewmul_train_split(m, 80, 1, 0, &o);
	after = fewmul_eval_synth(m, 100000, 256);
	KUNIT_EXPECT_LE(test, after, 256U / 20);
	/* ternary + QB: only the loss report multiplies */
	KUNIT_EXPECT_EQ(test, o.muls, 80ULL * cfg.batch * cfg.width[cfg.nr_layers]);
}

/*
 * Stochastic ternarization in the kernel build: for u = 1/4 and -3/4,
 * 4096 draws each; the non-zero count must be within 6 sigma of n|u|
 * (sigma = sqrt(n p (1-p)): 27.7 and 27.7) and never of the wrong sign.
 */
static void fewmul_sampling_test(struct kunit *test)
{
	s32 u[2] = { FEWMUL_ONE_W / 4, -(FEWMUL_ONE_W / 4) * 3 };
	u32 nz[2] = { 0, 0 }, wrong = 0, r;
	struct fewmul_rng rng;
	s8 t[2];

	for (r = 0; r < 4096; r++) {
		fewmul_rng_seed(&rng, 5, r);
		fewmul_k_sample(u, t, 2, FEWMUL_MODEL_WEIGHTS_TERNARY, 0, &rng);
		nz[0] += t[0] != 0;
		nz[1] += t[1] != 0;
		wrong += t[0] < 0 || t[1] > 0;
	}
	KUNIT_EXPECT_EQ(test, wrong, 0U);
	KUNIT_EXPECT_LE(test, nz[0], 1024U + 167);
	KUNIT_EXPECT_GE(test, nz[0], 1024U - 167);
	KUNIT_EXPECT_LE(test, nz[1], 3072U + 167);
	KUNIT_EXPECT_GE(test, nz[1], 3072U - 167);
}

/* Golden test-time weights (ternary |U| > 1/2, binary sign(U)). */
static void fewmul_eval_weights_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, fewmul_eval_w_check(), 0U);
}

static struct kunit_case fewmul_engine_test_cases[] = {
	KUNIT_CASE(fewmul_eval_weights_test),
	KUNIT_CASE(fewmul_sampling_test),
	KUNIT_CASE_PARAM(fewmul_config_check_test, fewmul_cfg_gen_params),
	KUNIT_CASE(fewmul_counts_test),
	KUNIT_CASE_PARAM(fewmul_determinism_test, fewmul_bn_gen_params),
	KUNIT_CASE(fewmul_bn_code_test),
	KUNIT_CASE(fewmul_converges_test),
	{}
};

static struct kunit_suite fewmul_engine_test_suite = {
	.name = "fewmul_engine",
	.test_cases = fewmul_engine_test_cases,
};
kunit_test_suite(fewmul_engine_test_suite);
