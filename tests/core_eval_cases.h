/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Golden test-time weights, shared by the KUnit suite
 * (tests/kunit/fewmul_engine_kunit.c) and the native tests
 * (tests/unit/test_numerics.c).
 */
#ifndef _FEWMUL_EVAL_CASES_H
#define _FEWMUL_EVAL_CASES_H

#include "fewmul_internal.h"

/*
 * Golden test-time weights: ternary sign(U) where |U| > 1/2, else 0;
 * binary (and binary-stoch at test time) sign(U) with U = 0 -> +1.
 */
struct fewmul_eval_w_case {
	s32 u;
	s8 ternary;
	s8 binary;
};

static const struct fewmul_eval_w_case fewmul_eval_w_cases[] = {
	{ 0, 0, 1 },
	{ 1, 0, 1 },
	{ -1, 0, -1 },
	{ FEWMUL_ONE_W / 4, 0, 1 },
	{ -FEWMUL_ONE_W / 4, 0, -1 },
	{ FEWMUL_ONE_W / 2 - 1, 0, 1 },
	{ FEWMUL_ONE_W / 2, 0, 1 },
	{ FEWMUL_ONE_W / 2 + 1, 1, 1 },
	{ -FEWMUL_ONE_W / 2, 0, -1 },
	{ -FEWMUL_ONE_W / 2 - 1, -1, -1 },
	{ FEWMUL_ONE_W - 1, 1, 1 },
	{ FEWMUL_ONE_W, 1, 1 },
	{ -FEWMUL_ONE_W, -1, -1 },
};

#define FEWMUL_EVAL_W_CASES \
	(sizeof(fewmul_eval_w_cases) / sizeof(fewmul_eval_w_cases[0]))

/*
 * Check fewmul_k_sample()'s test-time weights against the table; returns
 * the number of mismatches.
 */
static u32 fewmul_eval_w_check(void)
{
	s32 u[FEWMUL_EVAL_W_CASES];
	s8 t[FEWMUL_EVAL_W_CASES];
	u32 k, bad = 0, mode;

	for (k = 0; k < FEWMUL_EVAL_W_CASES; k++)
		u[k] = fewmul_eval_w_cases[k].u;
	for (mode = FEWMUL_MODEL_WEIGHTS_BINARY; mode < FEWMUL_MODEL_NR_WEIGHTS; mode++) {
		fewmul_k_sample(u, t, FEWMUL_EVAL_W_CASES, mode, 1, NULL);
		for (k = 0; k < FEWMUL_EVAL_W_CASES; k++)
			bad += t[k] != (mode == FEWMUL_MODEL_WEIGHTS_TERNARY ?
					fewmul_eval_w_cases[k].ternary :
					fewmul_eval_w_cases[k].binary);
	}
	return bad;
}

#endif
