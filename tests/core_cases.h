/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Test tables for the fewmul core, shared by the KUnit suite
 * (tests/kunit/fewmul_core_kunit.c) and the native unit tests
 * (tests/unit/test_core.c) so both run exactly the same cases.
 */
#ifndef _FEWMUL_CORE_CASES_H
#define _FEWMUL_CORE_CASES_H

#include "fewmul_core.h"

struct fewmul_ilog2_case {
	const char *name;
	u32 x;
	int want;
};

static const struct fewmul_ilog2_case fewmul_ilog2_cases[] = {
	{ "zero", 0, -1 },
	{ "one", 1, 0 },
	{ "two", 2, 1 },
	{ "three", 3, 1 },
	{ "four", 4, 2 },
	{ "2^16-1", 0xffff, 15 },
	{ "2^16", 0x10000, 16 },
	{ "2^31-1", 0x7fffffff, 30 },
	{ "2^31", 0x80000000u, 31 },
	{ "max", 0xffffffffu, 31 },
};

struct fewmul_qpow2_case {
	const char *name;
	s32 x;
	unsigned int frac;
	int emin, emax;
	u32 rnd;
	int want_sign;
	int want_exp;	/* only checked when want_sign != 0 */
};

/*
 * rnd = 0 rounds up whenever |x| is not a power of two; rnd = ~0 always
 * rounds down. frac = 8 means x = 256 is 1.0.
 */
static const struct fewmul_qpow2_case fewmul_qpow2_cases[] = {
	{ "zero stays zero", 0, 8, -8, 8, 0, 0, 0 },
	{ "zero stays zero (rnd max)", 0, 8, -8, 8, ~0u, 0, 0 },
	{ "+1.0 exact", 256, 8, -8, 8, 0, 1, 0 },
	{ "-1.0 exact", -256, 8, -8, 8, 0, -1, 0 },
	{ "+1 lsb exact", 1, 8, -8, 8, 0, 1, -8 },
	{ "-1 lsb exact", -1, 8, -8, 8, ~0u, -1, -8 },
	{ "1.5 rounds up", 384, 8, -8, 8, 0, 1, 1 },
	{ "1.5 rounds down", 384, 8, -8, 8, ~0u, 1, 0 },
	{ "1.5 threshold below", 384, 8, -8, 8, 0x7fffffffu, 1, 1 },
	{ "1.5 threshold at", 384, 8, -8, 8, 0x80000000u, 1, 0 },
	{ "-3.0 rounds up", -768, 8, -8, 8, 0, -1, 2 },
	{ "-3.0 rounds down", -768, 8, -8, 8, ~0u, -1, 1 },
	{ "0.25 exact", 64, 8, -8, 8, 0x12345678u, 1, -2 },
	{ "below emin rounds to 0", 1, 8, -4, 3, ~0u, 0, 0 },
	{ "below emin rounds up to 2^emin", -1, 8, -4, 3, 0, -1, -4 },
	{ "below emin: P 15/16, up", 15, 8, -4, 3, 0xefffffffu, 1, -4 },
	{ "below emin: P 15/16, to 0", 15, 8, -4, 3, 0xf0000000u, 0, 0 },
	{ "just below emin, up", 31, 8, -3, 3, 0xf7ffffffu, 1, -3 },
	{ "just below emin, to 0", -31, 8, -3, 3, 0xf8000000u, 0, 0 },
	{ "at emin", 16, 8, -4, 3, 0, 1, -4 },
	{ "at emax", 8 << 8, 8, -4, 3, 0, 1, 3 },
	{ "rounds past emax, clipped", 12 << 8, 8, -4, 3, 0, 1, 3 },
	{ "above emax clips down", 1000 << 8, 8, -4, 3, ~0u, 1, 3 },
	{ "single exponent", 300, 8, 0, 0, 0, 1, 0 },
	{ "INT_MAX up", 0x7fffffff, 0, -64, 63, 0, 1, 31 },
	{ "INT_MAX down", 0x7fffffff, 0, -64, 63, ~0u, 1, 30 },
	{ "INT_MIN exact", (s32)0x80000000u, 0, -64, 63, 0, -1, 31 },
	{ "INT_MIN frac 31", (s32)0x80000000u, 31, -64, 63, 0, -1, 0 },
	{ "lsb frac 31", 1, 31, -64, 63, 0, 1, -31 },
};

/*
 * Golden outputs of the generator: seed 0 stream 0 and seed 1 stream 7.
 * Kernel and userspace must produce these bit for bit; a change here is
 * a change of every trained model.
 */
struct fewmul_rng_case {
	const char *name;
	u64 seed, stream;
	u64 want[4];
};

#include "core_rng_golden.h"

#endif /* _FEWMUL_CORE_CASES_H */
