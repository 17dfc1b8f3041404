// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the fewmul core, run against the core linked into
 * fewmul.ko. The cases live in tests/core_cases.h and are shared with the
 * native unit tests.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/string.h>

#include "../core_cases.h"

static void fewmul_ilog2_desc(const struct fewmul_ilog2_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}
KUNIT_ARRAY_PARAM(fewmul_ilog2, fewmul_ilog2_cases, fewmul_ilog2_desc);

static void fewmul_ilog2_test(struct kunit *test)
{
	const struct fewmul_ilog2_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, fewmul_ilog2_u32(c->x), c->want);
}

static void fewmul_qpow2_desc(const struct fewmul_qpow2_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}
KUNIT_ARRAY_PARAM(fewmul_qpow2, fewmul_qpow2_cases, fewmul_qpow2_desc);

static void fewmul_qpow2_test(struct kunit *test)
{
	const struct fewmul_qpow2_case *c = test->param_value;
	int exp = 1000;
	int sign;

	sign = fewmul_qpow2(c->x, c->frac, c->emin, c->emax, c->rnd, &exp);
	KUNIT_EXPECT_EQ(test, sign, c->want_sign);
	if (c->want_sign)
		KUNIT_EXPECT_EQ(test, exp, c->want_exp);
	else
		KUNIT_EXPECT_EQ(test, exp, 1000);
}

/*
 * Unbiasedness: for x = 1.3 (frac 8: 333/256) the mean of q(x) over many
 * draws must be x. q(x) is 1 or 2; P(2) = 77/256. Over n = 2^16 draws the
 * count of 2s has standard deviation sqrt(n p (1-p)) ~ 117; accept 6 sigma.
 */
static void fewmul_qpow2_unbiased_test(struct kunit *test)
{
	const unsigned int n = 1 << 16;
	const u32 want = (u32)(((u64)n * 77) >> 8);	/* 19712 */
	struct fewmul_rng rng;
	u32 ups = 0;
	unsigned int i;
	int exp = 0;

	fewmul_rng_seed(&rng, 42, 0);
	for (i = 0; i < n; i++) {
		KUNIT_ASSERT_EQ(test, fewmul_qpow2(333, 8, -8, 8,
						   fewmul_rng_u32(&rng), &exp), 1);
		KUNIT_ASSERT_TRUE(test, exp == 0 || exp == 1);
		ups += exp;
	}
	KUNIT_EXPECT_LE(test, ups, want + 702);
	KUNIT_EXPECT_GE(test, ups, want - 702);
}

static void fewmul_rng_desc(const struct fewmul_rng_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}
KUNIT_ARRAY_PARAM(fewmul_rng, fewmul_rng_cases, fewmul_rng_desc);

static void fewmul_rng_golden_test(struct kunit *test)
{
	const struct fewmul_rng_case *c = test->param_value;
	struct fewmul_rng rng;
	int i;

	fewmul_rng_seed(&rng, c->seed, c->stream);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, fewmul_rng_next(&rng), c->want[i]);
}

/* xoshiro256+ known answer from a raw state, independent of the seeding. */
static void fewmul_rng_raw_state_test(struct kunit *test)
{
	struct fewmul_rng rng = { .s = { 1, 2, 3, 4 } };

	KUNIT_EXPECT_EQ(test, fewmul_rng_next(&rng), 5ULL);
	KUNIT_EXPECT_EQ(test, fewmul_rng_next(&rng), 211106232532999ULL);
}

static struct kunit_case fewmul_core_test_cases[] = {
	KUNIT_CASE_PARAM(fewmul_ilog2_test, fewmul_ilog2_gen_params),
	KUNIT_CASE_PARAM(fewmul_qpow2_test, fewmul_qpow2_gen_params),
	KUNIT_CASE(fewmul_qpow2_unbiased_test),
	KUNIT_CASE_PARAM(fewmul_rng_golden_test, fewmul_rng_gen_params),
	KUNIT_CASE(fewmul_rng_raw_state_test),
	{}
};

static struct kunit_suite fewmul_core_test_suite = {
	.name = "fewmul_core",
	.test_cases = fewmul_core_test_cases,
};
kunit_test_suite(fewmul_core_test_suite);

MODULE_IMPORT_NS(FEWMUL_NS);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for the fewmul integer core");
