/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * fewmul core: helpers shared by the engine's reference and fast paths.
 */
#ifndef _FEWMUL_INTERNAL_H
#define _FEWMUL_INTERNAL_H

#include "fewmul_engine.h"

/*
 * Row stride of the [n][B] arrays: B rounded up to a power of two, at
 * least 16 (a whole number of 16-sample chunks; a shift to index).
 */
static inline u32 fewmul_batch_stride(const struct fewmul_config *cfg)
{
	u32 b = cfg->batch < 16 ? 16 : cfg->batch;

	return 1u << (b <= 1 ? 0 : 32 - (u32)__builtin_clz(b - 1));
}

#define FEWMUL_X_MAX	((1 << (FEWMUL_FA + 6)) - 1)	/* activations < 64.0 */
#define FEWMUL_D_MAX	((1 << 26) - 1)			/* deltas < 2^10 */

/* Random stream tags: which draw a stream serves. */
#define FEWMUL_STREAM_SAMPLE	1ULL
#define FEWMUL_STREAM_QB	2ULL
#define FEWMUL_STREAM_INIT	3ULL

static inline u64 fewmul_stream(u64 tag, u64 step, u32 layer, u32 item)
{
	return (tag << 62) | ((step & 0x3ffffffffULL) << 28) |
	       ((u64)(layer & 0xff) << 20) | (item & 0xfffff);
}

static inline s32 fewmul_clamp_s32(s64 v, s32 lo, s32 hi)
{
	return v < lo ? lo : v > hi ? hi : (s32)v;
}

/* 1 for a delta at its clip bound +-FEWMUL_D_MAX (a saturated delta) */
static inline u32 fewmul_d_at_bound(s32 d)
{
	return d == FEWMUL_D_MAX || d == -FEWMUL_D_MAX;
}

/*
 * Shift by a signed amount: v * 2^k, k in -62..62. Right shifts round to
 * nearest (half up), so that scaling does not bias small deltas.
 */
static inline s64 fewmul_shl_s64(s64 v, int k)
{
	return (s64)((u64)v << k);	/* no UB for negative v */
}

static inline s64 fewmul_shift_s64(s64 v, int k)
{
	if (k >= 0)
		return fewmul_shl_s64(v, k);
	k = -k;
	if (k > 62)
		return 0;
	return (v + (1LL << (k - 1))) >> k;
}

/**
 * fewmul_ap2_exp() - exponent of AP2(x) = 2^round(log2 x)
 * @x: x >= 1
 *
 * round() rounds log2 to nearest: with f = floor(log2 x) the result is
 * f + 1 exactly when x >= 2^f * sqrt(2). sqrt(2) is taken as 181/128 =
 * 1.4140625 (binary 1.0110101; sqrt 2 = 1.41421...) and the test is
 * x * 128 >= 181 * 2^f, two shifts and a compare. Valid for x < 2^56.
 *
 * Return: 0..63, or -1 for x == 0.
 */
static inline int fewmul_ap2_exp(u64 x)
{
	int f;

	if (!x)
		return -1;
	f = 63 - __builtin_clzll(x);
	if (f > 55)
		return f;	/* never reached with the engine's ranges */
	return (x << 7) >= (181ULL << f) ? f + 1 : f;
}

/*
 * SWAR pairs: two s32 lanes (a, b) held in a u64 as the integer
 * b * 2^32 + a (mod 2^64). Sums and differences of such integers are
 * exact; when both lane totals are known to lie in s32, they are
 * recovered exactly by fewmul_pair_lo()/fewmul_pair_hi(). Left shifts are
 * exact as well (the shifted integer is the shifted pair).
 */
static inline u64 fewmul_pair(s32 a, s32 b)
{
	return ((u64)(s64)b << 32) + (u64)(s64)a;
}

static inline s32 fewmul_pair_lo(u64 v)
{
	return (s32)(u32)v;
}

static inline s32 fewmul_pair_hi(u64 v)
{
	return (s32)((s64)(v - (u64)(s64)fewmul_pair_lo(v)) >> 32);
}

/* kernels (fewmul_fast.c): all per-sample and per-weight work */
void fewmul_k_row_list(const s8 *t, u32 n, u32 step, u32 *list, u16 *cnt);
void fewmul_k_col_lists(const s8 *t, u32 rows, u32 tpitch, u32 w, u32 step,
			u32 *list, u32 lshift, u16 *cnt);
void fewmul_k_sum_lists(const u64 *base, const u32 *pos, u32 npos,
			const u32 *neg, u32 nneg, u64 *out, u32 nchunk);
void fewmul_k_unpack(const u64 *in, s32 *out, const s32 *mask, u32 n);
void fewmul_k_pack(const s32 *in, u64 *out, u32 n);
void fewmul_k_dt(const s32 *d, u32 dshift, u32 n, u64 *out);
void fewmul_k_dw_acc(const u64 *dt, u32 dtshift, const u16 *zb, const s8 *qe,
		     u32 nz, u64 *acc, u32 np);
void fewmul_k_update(s32 *u, const u64 *acc, u32 n, int upd);
u32 fewmul_k_qcodes(const s32 *x, u32 nb, int emin, int emax,
		    struct fewmul_rng *rng, s8 *qe, u16 *zb);
void fewmul_k_sample(const s32 *u, s8 *t, u32 n, u32 mode, int test,
		     struct fewmul_rng *rng);

/* log2 of the smallest power of two >= x (x >= 1) */
static inline u32 fewmul_log2_ceil(u32 x)
{
	return x <= 1 ? 0 : 32 - (u32)__builtin_clz(x - 1);
}

#endif /* _FEWMUL_INTERNAL_H */
