// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Native unit tests of the fewmul core (under ASan+UBSan): the same tables
 * as the KUnit suite, plus statistics that are too slow for a TCG guest.
 */
#include <stdio.h>
#include <string.h>

#include "core_cases.h"
#include "unit/tap.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void test_ilog2(void)
{
	char name[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fewmul_ilog2_cases); i++) {
		const struct fewmul_ilog2_case *c = &fewmul_ilog2_cases[i];

		tap_begin();
		CHECK_EQ(fewmul_ilog2_u32(c->x), c->want);
		snprintf(name, sizeof(name), "ilog2: %s", c->name);
		tap_end(name);
	}
}

static void test_qpow2(void)
{
	char name[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fewmul_qpow2_cases); i++) {
		const struct fewmul_qpow2_case *c = &fewmul_qpow2_cases[i];
		int exp = 1000, sign;

		tap_begin();
		sign = fewmul_qpow2(c->x, c->frac, c->emin, c->emax, c->rnd,
				    &exp);
		CHECK_EQ(sign, c->want_sign);
		CHECK_EQ(exp, c->want_sign ? c->want_exp : 1000);
		snprintf(name, sizeof(name), "qpow2: %s", c->name);
		tap_end(name);
	}
}

/*
 * Unbiasedness over many values: for every x in 1..4095 (frac 8) the mean
 * of q(x) over 4096 draws must be within 6 standard deviations of x.
 */
static void test_qpow2_unbiased_sweep(void)
{
	struct fewmul_rng rng;
	int x, worst = 0;

	tap_begin();
	fewmul_rng_seed(&rng, 7, 1);
	for (x = 1; x < 4096; x++) {
		int f = fewmul_ilog2_u32(x);
		long long lo = 1LL << f, sum = 0, n = 4096;
		double p = (double)(x - lo) / lo, mean, sd;
		int i, exp = 0;

		for (i = 0; i < n; i++) {
			CHECK_EQ(fewmul_qpow2(x, 0, -64, 63,
					      fewmul_rng_u32(&rng), &exp), 1);
			sum += 1LL << exp;
		}
		mean = (double)sum / n;
		/* q is lo or 2lo: sd of the mean = lo*sqrt(p(1-p)/n) */
		sd = lo * __builtin_sqrt(p * (1 - p) / n);
		if (mean < x - 6 * sd - 1e-9 || mean > x + 6 * sd + 1e-9) {
			printf("#   x=%d mean=%f sd=%f\n", x, mean, sd);
			worst++;
		}
	}
	CHECK_EQ(worst, 0);
	tap_end("qpow2: unbiased for every x in 1..4095");
}

static void test_rng_golden(void)
{
	char name[128];
	size_t i;
	int k;

	for (i = 0; i < ARRAY_SIZE(fewmul_rng_cases); i++) {
		const struct fewmul_rng_case *c = &fewmul_rng_cases[i];
		struct fewmul_rng rng;

		tap_begin();
		fewmul_rng_seed(&rng, c->seed, c->stream);
		for (k = 0; k < 4; k++) {
			u64 got = fewmul_rng_next(&rng);

			CHECK(got == c->want[k]);
		}
		snprintf(name, sizeof(name), "rng golden: %s", c->name);
		tap_end(name);
	}
}

static void test_rng_raw_state(void)
{
	struct fewmul_rng rng = { .s = { 1, 2, 3, 4 } };

	tap_begin();
	CHECK(fewmul_rng_next(&rng) == 5ULL);
	CHECK(fewmul_rng_next(&rng) == 211106232532999ULL);
	tap_end("rng: xoshiro256+ known answer from a raw state");
}

/* Bit balance of fewmul_rng_u32: each of the 32 bits is 1 about half the time. */
static void test_rng_bit_balance(void)
{
	const int n = 1 << 16;
	struct fewmul_rng rng;
	int counts[32] = { 0 };
	int i, b;

	tap_begin();
	fewmul_rng_seed(&rng, 12345, 99);
	for (i = 0; i < n; i++) {
		u32 v = fewmul_rng_u32(&rng);

		for (b = 0; b < 32; b++)
			counts[b] += (v >> b) & 1;
	}
	/* sd = sqrt(n)/2 = 128; accept 6 sd */
	for (b = 0; b < 32; b++)
		CHECK(counts[b] > n / 2 - 768 && counts[b] < n / 2 + 768);
	tap_end("rng: every output bit is balanced");
}

static void test_rng_streams_differ(void)
{
	struct fewmul_rng a, b, c;

	tap_begin();
	fewmul_rng_seed(&a, 1, 0);
	fewmul_rng_seed(&b, 1, 1);
	fewmul_rng_seed(&c, 2, 0);
	CHECK(fewmul_rng_next(&a) != fewmul_rng_next(&b));
	fewmul_rng_seed(&a, 1, 0);
	CHECK(fewmul_rng_next(&a) != fewmul_rng_next(&c));
	fewmul_rng_seed(&a, 1, 0);
	fewmul_rng_seed(&b, 1, 0);
	CHECK(fewmul_rng_next(&a) == fewmul_rng_next(&b));
	tap_end("rng: seeds and streams are independent, reseeding repeats");
}

int main(void)
{
	test_ilog2();
	test_qpow2();
	test_qpow2_unbiased_sweep();
	test_rng_golden();
	test_rng_raw_state();
	test_rng_bit_balance();
	test_rng_streams_differ();
	return tap_done();
}
