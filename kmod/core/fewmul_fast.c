// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * fewmul core: fast paths for binary/ternary weights.
 *
 * No SIMD (the kernel forbids it): the speed comes from
 *  - index lists of the non-zero sampled weights, per column (forward)
 *    and per row (backward), built once per minibatch, so zero weights
 *    cost nothing and no per-weight branch remains in the inner loops;
 *  - SWAR: two s32 lanes per u64 add/sub/shift (fewmul_pair()), used only
 *    where a bound proves that no lane total leaves s32, so the results
 *    are bit-identical to the scalar reference paths (tests compare them);
 *  - register blocking: 16 samples (8 pairs) per pass over a list.
 *
 * The per-sample and per-weight work happens only in the fewmul_k_*
 * kernels below. They receive precomputed pointers and offsets and contain
 * no multiply instruction (tests/check-nomul.sh disassembles them from the
 * module's object file). Row pitches are powers of two for that reason.
 */
#include "fewmul_internal.h"

/**
 * fewmul_k_row_list() - list the non-zero weights of one sampled row
 * @t: sampled row, n entries in {-1, 0, +1}
 * @n: entries
 * @step: offset increment per entry (the pitch of what the list indexes)
 * @list: n slots: offsets of +1 entries from the front, -1 from the back
 * @cnt: returns the number of +1 and of -1 entries
 */
void fewmul_k_row_list(const s8 *t, u32 n, u32 step, u32 *list, u16 *cnt)
{
	u32 j, np = 0, nn = 0, off = 0;
	u32 *back = list + n - 1;

	for (j = 0; j < n; j++, off += step) {
		if (t[j] > 0)
			list[np++] = off;
		else if (t[j] < 0)
			*(back - nn++) = off;
	}
	cnt[0] = (u16)np;
	cnt[1] = (u16)nn;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_k_row_list);

/**
 * fewmul_k_col_lists() - column lists of 64 (or fewer) columns at once
 * @t: first sampled row, columns [0, w) of the block
 * @rows: rows
 * @tpitch: bytes from one row of @t to the next
 * @w: columns in the block, 1..64
 * @step: offset increment per row
 * @list: slots of the first column; column c at @list + (c << @lshift)
 * @lshift: log2 of the slots per column (>= log2 rows)
 * @cnt: counts, two per column
 *
 * Reads t one row segment (one cache line) at a time.
 */
void fewmul_k_col_lists(const s8 *t, u32 rows, u32 tpitch, u32 w, u32 step,
			u32 *list, u32 lshift, u16 *cnt)
{
	u32 i, c, off = 0;
	u32 last = rows - 1;

	for (c = 0; c < 2 * w; c++)
		cnt[c] = 0;
	for (i = 0; i < rows; i++, t += tpitch, off += step) {
		for (c = 0; c < w; c++) {
			u32 *col = list + ((u64)c << lshift);

			if (t[c] > 0)
				col[cnt[2 * c]++] = off;
			else if (t[c] < 0)
				col[last - cnt[2 * c + 1]++] = off;
		}
	}
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_k_col_lists);

/**
 * fewmul_k_sum_lists() - signed sums of listed rows, 16 samples at a time
 * @base: packed rows (pairs of s32 lanes)
 * @pos: offsets (in u64) of rows to add
 * @npos: their number
 * @neg: offsets of rows to subtract
 * @nneg: their number
 * @out: packed sums, @nchunk * 8 pairs
 * @nchunk: number of 16-sample chunks
 */
void fewmul_k_sum_lists(const u64 *base, const u32 *pos, u32 npos,
			const u32 *neg, u32 nneg, u64 *out, u32 nchunk)
{
	u32 c, p;

	for (c = 0; c < nchunk; c++, base += 8, out += 8) {
		u64 a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;

		for (p = 0; p < npos; p++) {
			const u64 *r = base + pos[p];

			a0 += r[0];
			a1 += r[1];
			a2 += r[2];
			a3 += r[3];
			a4 += r[4];
			a5 += r[5];
			a6 += r[6];
			a7 += r[7];
		}
		for (p = 0; p < nneg; p++) {
			const u64 *r = base + neg[p];

			a0 -= r[0];
			a1 -= r[1];
			a2 -= r[2];
			a3 -= r[3];
			a4 -= r[4];
			a5 -= r[5];
			a6 -= r[6];
			a7 -= r[7];
		}
		out[0] = a0;
		out[1] = a1;
		out[2] = a2;
		out[3] = a3;
		out[4] = a4;
		out[5] = a5;
		out[6] = a6;
		out[7] = a7;
	}
}

/**
 * fewmul_k_unpack() - split packed pairs into s32 lanes, optionally masked
 * @in: n / 2 packed pairs
 * @out: n values
 * @mask: if not NULL, out[b] = 0 where mask[b] <= 0 (ReLU')
 * @n: values, even
 */
void fewmul_k_unpack(const u64 *in, s32 *out, const s32 *mask, u32 n)
{
	u32 b;

	for (b = 0; b < n; b += 2, in++) {
		u64 v = *in;	/* in and out may overlap (in place) */

		out[b] = fewmul_pair_lo(v);
		out[b + 1] = fewmul_pair_hi(v);
		if (mask) {
			if (mask[b] <= 0)
				out[b] = 0;
			if (mask[b + 1] <= 0)
				out[b + 1] = 0;
		}
	}
}

/**
 * fewmul_k_pack() - pack s32 values into pairs
 * @in: n values
 * @out: n / 2 pairs
 * @n: values, even
 */
void fewmul_k_pack(const s32 *in, u64 *out, u32 n)
{
	u32 b;

	for (b = 0; b < n; b += 2)
		*out++ = fewmul_pair(in[b], in[b + 1]);
}

/**
 * fewmul_k_dt() - one sample's deltas of all units, transposed and packed
 * @d: D[0][b]; unit j at @d + (j << @dshift)
 * @dshift: log2 of the row pitch of D
 * @n: units
 * @out: (n + 1) / 2 pairs (a missing odd unit is 0)
 */
void fewmul_k_dt(const s32 *d, u32 dshift, u32 n, u64 *out)
{
	u32 j;

	for (j = 0; j + 1 < n; j += 2)
		*out++ = fewmul_pair(d[(u64)j << dshift],
				     d[(u64)(j + 1) << dshift]);
	if (n & 1)
		*out = fewmul_pair(d[(u64)(n - 1) << dshift], 0);
}

/**
 * fewmul_k_dw_acc() - quantized-backprop weight gradient of one row
 * @dt: packed transposed deltas; sample b at @dt + (b << @dtshift)
 * @dtshift: log2 of the pitch of @dt in pairs
 * @zb: samples with q(x) != 0
 * @qe: q codes of the row, per sample: s * (e - emin + 1)
 * @nz: entries of @zb
 * @acc: out: @np packed sums of s * (D << (e - emin))
 * @np: pairs
 */
void fewmul_k_dw_acc(const u64 *dt, u32 dtshift, const u16 *zb, const s8 *qe,
		     u32 nz, u64 *acc, u32 np)
{
	u32 z, k;

	for (k = 0; k < np; k++)
		acc[k] = 0;
	for (z = 0; z < nz; z++) {
		const u64 *r = dt + ((u64)zb[z] << dtshift);
		s8 c = qe[zb[z]];

		if (c > 0) {
			u32 sh = (u32)(c - 1);

			for (k = 0; k < np; k++)
				acc[k] += r[k] << sh;
		} else {
			u32 sh = (u32)(-c - 1);

			for (k = 0; k < np; k++)
				acc[k] -= r[k] << sh;
		}
	}
}

/**
 * fewmul_k_update() - apply packed gradient sums to a row of shadow weights
 * @u: the row, n weights
 * @acc: (n + 1) / 2 packed sums
 * @n: weights
 * @upd: U -= sum * 2^upd (right shifts round half up), then clip to [-1, 1]
 */
void fewmul_k_update(s32 *u, const u64 *acc, u32 n, int upd)
{
	u32 j;

	for (j = 0; j < n; j += 2, acc++) {
		u[j] = fewmul_clamp_s32((s64)u[j] -
					fewmul_shift_s64(fewmul_pair_lo(*acc), upd),
					-FEWMUL_ONE_W, FEWMUL_ONE_W);
		if (j + 1 < n)
			u[j + 1] = fewmul_clamp_s32((s64)u[j + 1] -
				fewmul_shift_s64(fewmul_pair_hi(*acc), upd),
				-FEWMUL_ONE_W, FEWMUL_ONE_W);
	}
}

/**
 * fewmul_k_qcodes() - quantized-backprop codes of one input row
 * @x: activations of the row, nb samples, Q(FA)
 * @nb: samples
 * @emin: exponent range
 * @emax: exponent range
 * @rng: the row's stream
 * @qe: out: s * (e - emin + 1) per sample, 0 for x == 0
 * @zb: out: samples with a non-zero code
 *
 * Return: the number of entries in @zb.
 */
u32 fewmul_k_qcodes(const s32 *x, u32 nb, int emin, int emax,
		    struct fewmul_rng *rng, s8 *qe, u16 *zb)
{
	u32 b, nz = 0;

	for (b = 0; b < nb; b++) {
		int e = 0, s;

		s = fewmul_qpow2(x[b], FEWMUL_FA, emin, emax,
				 fewmul_rng_u32(rng), &e);
		qe[b] = (s8)(s > 0 ? e - emin + 1 : s < 0 ? emin - 1 - e : 0);
		if (s)
			zb[nz++] = (u16)b;
	}
	return nz;
}

/**
 * fewmul_k_sample() - sample one row of binary/ternary weights
 * @u: shadow weights of the row, Q(FW), in [-1, 1]
 * @t: out: sampled weights in {-1, 0, +1}
 * @n: weights
 * @mode: enum fewmul_wmode (not FULL)
 * @test: deterministic test-time weights instead of sampling
 * @rng: the row's stream; each 64-bit draw serves two weights (bits 63..40
 *	and 31..8: 24 or 25 bits each, the weak lowest bits unused)
 */
void fewmul_k_sample(const s32 *u, s8 *t, u32 n, u32 mode, int test,
		     struct fewmul_rng *rng)
{
	u32 j;
	u64 r = 0;

	for (j = 0; j < n; j++) {
		s32 w = u[j];
		u32 bits;

		if (mode == FEWMUL_MODEL_WEIGHTS_BINARY ||
		    (test && mode == FEWMUL_MODEL_WEIGHTS_BINARY_STOCH)) {
			t[j] = w >= 0 ? 1 : -1;
			continue;
		}
		if (test) {
			t[j] = w > FEWMUL_ONE_W / 2 ? 1 :
			       w < -FEWMUL_ONE_W / 2 ? -1 : 0;
			continue;
		}
		if (!(j & 1)) {
			r = fewmul_rng_next(rng);
			bits = (u32)(r >> 32);
		} else {
			bits = (u32)r;
		}
		if (mode == FEWMUL_MODEL_WEIGHTS_BINARY_STOCH) {
			/* P(+1) = (w + 1) / 2: 25 bits against w + 2^24 */
			t[j] = (s32)(bits >> 7) < w + FEWMUL_ONE_W ? 1 : -1;
		} else if (w > 0) {
			t[j] = (s32)(bits >> 8) < w ? 1 : 0;
		} else {
			t[j] = (s32)(bits >> 8) < -w ? -1 : 0;
		}
	}
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_k_sample);
