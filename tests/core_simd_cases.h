/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Vector kernels against scalar references, shared by the KUnit suite and
 * the native tests: each case fills buffers from a seed (random values,
 * or the largest magnitudes the kernel's exactness bound allows), runs one
 * kernel of an implementation and an s64 / scalar-engine reference, and
 * returns the number of differing outputs (0: bit-exact). Sizes cover
 * batch 1, odd widths, tails that are not a multiple of the lane count
 * and the engine's maximum widths. Buffers are static: one case at a time.
 */
#ifndef _FEWMUL_CORE_SIMD_CASES_H
#define _FEWMUL_CORE_SIMD_CASES_H

#include "fewmul_simd.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define FSC_MAXL	4096u			/* lanes or outputs */
#define FSC_ROWS	24u			/* listed rows (sum_lists) */
#define FSC_NB		64u			/* samples (dw_row, transpose) */

static s32 fsc_base[FSC_ROWS * FSC_MAXL];
static s32 fsc_out[FSC_MAXL + 16], fsc_ref[FSC_MAXL + 16];
static s32 fsc_u[4 * FSC_MAXL], fsc_u2[4 * FSC_MAXL];
static s8 fsc_t[4 * FSC_MAXL], fsc_t2[4 * FSC_MAXL];
static u32 fsc_list[FSC_MAXL], fsc_list2[FSC_MAXL];
static u32 fsc_ent[FSC_NB];
static s32 fsc_dt[FSC_NB * FSC_MAXL];

static u64 fsc_rs;

static inline u32 fsc_rand(void)
{
	fsc_rs ^= fsc_rs << 13;
	fsc_rs ^= fsc_rs >> 7;
	fsc_rs ^= fsc_rs << 17;
	return (u32)(fsc_rs >> 16);
}

/* uniform in [-lim, lim], lim < 2^31 */
static inline s32 fsc_sym(u32 lim)
{
	u64 r = ((u64)fsc_rand() << 16) ^ fsc_rand();

	return (s32)((s64)(r % (2ULL * lim + 1)) - (s64)lim);
}

/* Sizes the cases run at: lanes (multiples of 16) and widths. */
static const u32 fsc_lanes[] = { 16, 32, 48, 208, 224, 1024, 4096 };
static const u32 fsc_widths[] = { 1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64,
				  65, 100, 130, 257, 1024, 4096 };

/*
 * sum_lists: out = sum of listed rows (+) minus listed rows (-).
 * edge: |values| at the bound (sum of FSC_ROWS of them still in s32).
 */
static int fsc_sum_lists(const struct fewmul_simd *s, u32 seed, u32 nl,
			 int edge)
{
	u32 np, nn, k, b, lim = edge ? 0x7fffffff / (FSC_ROWS + 1) : (1u << 18);
	int bad = 0;

	fsc_rs = 0x9e3779b97f4a7c15ULL ^ seed;
	for (k = 0; k < FSC_ROWS * nl; k++)
		fsc_base[k] = edge ? ((fsc_rand() & 1) ? (s32)lim : -(s32)lim) :
			      fsc_sym(lim);
	np = fsc_rand() % (FSC_ROWS / 2 + 1);
	nn = fsc_rand() % (FSC_ROWS / 2 + 1);
	/* offsets in pairs: row r at r * nl / 2 */
	for (k = 0; k < np + nn; k++)
		fsc_list[k] = (fsc_rand() % FSC_ROWS) * (nl / 2);
	for (b = 0; b < nl; b++)	/* a first partial sum to add to */
		fsc_out[b] = (seed & 1) ? fsc_sym(lim) : 0;
	for (b = 0; b < nl; b++)
		fsc_ref[b] = fsc_out[b];
	fsc_out[nl] = 0x5a5a5a5a;
	s->sum_lists(fsc_base, fsc_list, np, fsc_list + np, nn, fsc_out, nl,
		     seed & 1);
	for (b = 0; b < nl; b++) {
		s64 a = fsc_ref[b];

		for (k = 0; k < np; k++)
			a += fsc_base[fsc_list[k] * 2 + b];
		for (k = np; k < np + nn; k++)
			a -= fsc_base[fsc_list[k] * 2 + b];
		bad += fsc_out[b] != (s32)a;
	}
	bad += fsc_out[nl] != 0x5a5a5a5a;	/* nothing written beyond nl */
	return bad;
}

static int fsc_relu_mask(const struct fewmul_simd *s, u32 seed, u32 nl)
{
	u32 b;
	int bad = 0;

	fsc_rs = 0x51ed270b27a4c3f1ULL ^ seed;
	for (b = 0; b < nl; b++) {
		fsc_out[b] = fsc_sym(0x7fffffff);
		fsc_ref[b] = (fsc_rand() & 3) == 0 ? 0 : fsc_sym(0x7fffffff);
		fsc_u[b] = fsc_out[b];
	}
	s->relu_mask(fsc_out, fsc_ref, nl);
	for (b = 0; b < nl; b++)
		bad += fsc_out[b] != (fsc_ref[b] > 0 ? fsc_u[b] : 0);
	return bad;
}

/*
 * dw_row: against the reference weight update of the engine,
 * U = clip(U - shift(sum_b s_b * (D_b << lv_b), upd)) with an s64 sum.
 * nz samples over nlev levels; max|D| at the bound (max|D| << (nlev - 1))
 * * nz < 2^31 when edge. With @sum, dw_sum instead: the sums themselves.
 */
static int fsc_dw(const struct fewmul_simd *s, u32 seed, u32 n,
		  u32 nlev, int upd, int edge, int sum)
{
	u32 nz, k, j, lv, at = 0, dshift = 0;
	u16 cnt[2 * FEWMUL_SIMD_MAX_LEVELS] = { 0 };
	u8 lvl[FSC_NB], neg[FSC_NB];
	u32 maxd;
	int bad = 0;

	fsc_rs = 0x2545f4914f6cdd1dULL ^ seed ^ ((u64)n << 32);
	while ((1u << dshift) < n)
		dshift++;
	nz = 1 + fsc_rand() % FSC_NB;
	maxd = (0x7fffffffu >> (nlev - 1)) / nz;
	if (!edge && maxd > (1u << 20))
		maxd = 1u << 20;
	for (k = 0; k < FSC_NB << dshift; k++)
		fsc_dt[k] = edge ? ((fsc_rand() & 1) ? (s32)maxd : -(s32)maxd) :
			    fsc_sym(maxd);
	for (k = 0; k < nz; k++) {
		lvl[k] = (u8)(fsc_rand() % nlev);
		neg[k] = (u8)(fsc_rand() & 1);
		cnt[2 * lvl[k] + neg[k]]++;
	}
	/* entries by level, highest first; +1 before -1 */
	for (lv = nlev; lv-- > 0;) {
		for (k = 0; k < nz; k++)
			if (lvl[k] == lv && !neg[k])
				fsc_ent[at++] = k << dshift;
		for (k = 0; k < nz; k++)
			if (lvl[k] == lv && neg[k])
				fsc_ent[at++] = k << dshift;
	}
	for (j = 0; j < n + 8; j++) {
		u32 r = fsc_rand() & 7;

		fsc_u[j] = r == 0 ? FEWMUL_ONE_W : r == 1 ? -FEWMUL_ONE_W :
			   fsc_sym(FEWMUL_ONE_W);
		fsc_u2[j] = fsc_u[j];
	}
	if (sum)
		s->dw_sum(fsc_dt, fsc_ent, cnt, nlev, fsc_u, n);
	else
		s->dw_row(fsc_dt, fsc_ent, cnt, nlev, fsc_u, n, upd);
	for (j = 0; j < n; j++) {
		s64 a = 0;

		for (k = 0; k < nz; k++) {
			s64 d = fsc_dt[(k << dshift) + j];

			a += neg[k] ? -fewmul_shl_s64(d, lvl[k]) :
				      fewmul_shl_s64(d, lvl[k]);
		}
		if (sum)
			bad += (s64)fsc_u[j] != a;
		else
			bad += fsc_u[j] != fewmul_clamp_s32((s64)fsc_u2[j] -
							    fewmul_shift_s64(a, upd),
							    -FEWMUL_ONE_W, FEWMUL_ONE_W);
	}
	for (; j < n + 8; j++)	/* nothing written beyond n */
		bad += fsc_u[j] != fsc_u2[j];
	return bad;
}

static int fsc_dw_row(const struct fewmul_simd *s, u32 seed, u32 n,
		      u32 nlev, int upd, int edge)
{
	return fsc_dw(s, seed, n, nlev, upd, edge, 0);
}

static int fsc_transpose(const struct fewmul_simd *s, u32 seed, u32 n, u32 nb)
{
	u32 dshift = 0, dtshift = 0, j, b;
	int bad = 0;

	fsc_rs = 0x6a09e667f3bcc909ULL ^ seed;
	while ((1u << dshift) < nb)
		dshift++;
	while ((1u << dtshift) < n)
		dtshift++;
	for (j = 0; j < (n << dshift); j++)
		fsc_base[j] = (s32)fsc_rand();
	for (j = 0; j < (nb << dtshift); j++)
		fsc_dt[j] = 0x77777777;
	s->transpose(fsc_base, dshift, n, nb, fsc_dt, dtshift);
	for (b = 0; b < nb; b++)
		for (j = 0; j < (1u << dtshift); j++)
			bad += fsc_dt[(b << dtshift) + j] !=
			       (j < n ? fsc_base[(j << dshift) + b] : 0x77777777);
	return bad;
}

/* sample4 against fewmul_k_sample() on each row, states included. */
static int fsc_sample4(const struct fewmul_simd *s, u32 seed, u32 n)
{
	u64 st[4][4];
	struct fewmul_rng rng[4];
	u32 k, j;
	int bad = 0;

	fsc_rs = 0xbb67ae8584caa73bULL ^ seed ^ ((u64)n << 40);
	for (k = 0; k < 4; k++) {
		fewmul_rng_seed(&rng[k], seed, k);
		memcpy(st[k], rng[k].s, sizeof(st[k]));
	}
	for (j = 0; j < 4 * n; j++) {
		u32 r = fsc_rand() & 15;

		fsc_u[j] = r == 0 ? FEWMUL_ONE_W : r == 1 ? -FEWMUL_ONE_W :
			   r == 2 ? 0 : r == 3 ? 1 : r == 4 ? -1 :
			   fsc_sym(FEWMUL_ONE_W);
		fsc_t[j] = 0x55;
		fsc_t2[j] = 0x55;
	}
	s->sample4(st, fsc_u, fsc_t, n, n);
	for (k = 0; k < 4; k++) {
		fewmul_k_sample(fsc_u + k * n, fsc_t2 + k * n, n,
				FEWMUL_MODEL_WEIGHTS_TERNARY, 0, &rng[k]);
		bad += memcmp(st[k], rng[k].s, sizeof(st[k])) != 0;
	}
	for (j = 0; j < 4 * n; j++)
		bad += fsc_t[j] != fsc_t2[j];
	return bad;
}

static int fsc_row_list(const struct fewmul_simd *s, u32 seed, u32 n)
{
	u16 c1[2], c2[2];
	u32 j, sshift = seed & 7;
	int bad = 0;

	fsc_rs = 0x3c6ef372fe94f82bULL ^ seed;
	for (j = 0; j < n; j++) {
		u32 r = fsc_rand() % 3;

		fsc_t[j] = (s8)(r == 0 ? 0 : r == 1 ? 1 : -1);
		if (seed & 8)	/* all +1, or all -1 */
			fsc_t[j] = (seed & 16) ? 1 : -1;
		fsc_list[j] = 0xdeadbeef;
		fsc_list2[j] = 0xdeadbeef;
	}
	s->row_list(fsc_t, n, sshift, fsc_list, c1);
	fewmul_k_row_list(fsc_t, n, 1u << sshift, fsc_list2, c2);
	bad += c1[0] != c2[0];
	bad += c1[1] != c2[1];
	for (j = 0; j < n; j++)
		bad += fsc_list[j] != fsc_list2[j];
	return bad;
}

/*
 * col_lists (64 columns, rows rows) against fewmul_k_col_lists(), the
 * rows in chunks of random sizes (one section each in the engine).
 */
static int fsc_col_lists(const struct fewmul_simd *s, u32 seed, u32 rows)
{
	u32 lshift = 0, sshift = seed & 7, pitch = 64 + (seed & 3) * 40, j, r0, n;
	static u16 c1[128], c2[128];
	int bad = 0;

	fsc_rs = 0xa54ff53a5f1d36f1ULL ^ seed ^ ((u64)rows << 20);
	while ((1u << lshift) < rows)
		lshift++;
	for (j = 0; j < rows * pitch; j++) {
		u32 r = fsc_rand() % 5;

		fsc_t[j] = (s8)(r < 2 ? 0 : r == 2 ? 1 : r == 3 ? -1 :
				(seed & 1) ? 1 : 0);
	}
	for (j = 0; j < (64u << lshift); j++) {
		fsc_list[j] = 0xdeadbeef;
		fsc_list2[j] = 0xdeadbeef;
	}
	for (j = 0; j < 128; j++)
		c1[j] = 0x5555;	/* the first chunk must reset the counts */
	for (r0 = 0; r0 < rows; r0 += n) {
		n = 1 + fsc_rand() % (seed & 1 ? rows : 7);
		if (n > rows - r0)
			n = rows - r0;
		s->col_lists(fsc_t, r0, r0 + n, rows, pitch, sshift, fsc_list,
			     lshift, c1);
	}
	fewmul_k_col_lists(fsc_t, rows, pitch, 64, 1u << sshift, fsc_list2,
			   lshift, c2);
	for (j = 0; j < 128; j++)
		bad += c1[j] != c2[j];
	for (j = 0; j < (64u << lshift); j++)
		bad += fsc_list[j] != fsc_list2[j];
	return bad;
}

/* Deterministic binary and ternary test-time weights. */
static int fsc_sample_det(const struct fewmul_simd *s, u32 seed, u32 n,
			  int binary)
{
	static const s32 edge[] = { 0, 1, -1, FEWMUL_ONE_W / 2,
				    FEWMUL_ONE_W / 2 + 1, -FEWMUL_ONE_W / 2,
				    -FEWMUL_ONE_W / 2 - 1, FEWMUL_ONE_W,
				    -FEWMUL_ONE_W };
	u32 j;
	int bad = 0;

	fsc_rs = 0x1f83d9abfb41bd6bULL ^ seed ^ ((u64)n << 24);
	for (j = 0; j < n + 8; j++) {
		u32 r = fsc_rand();

		fsc_u[j] = (r & 1) ? edge[(r >> 1) % ARRAY_SIZE(edge)] :
			   fsc_sym(FEWMUL_ONE_W);
		fsc_t[j] = 0x55;
		fsc_t2[j] = 0x55;
	}
	s->sample_det(fsc_u, fsc_t, n, binary);
	fewmul_k_sample(fsc_u, fsc_t2, n, binary ? FEWMUL_MODEL_WEIGHTS_BINARY :
			FEWMUL_MODEL_WEIGHTS_TERNARY, 1, NULL);
	for (j = 0; j < n + 8; j++)
		bad += fsc_t[j] != fsc_t2[j];
	return bad;
}

/*
 * Every case at every size; returns the number of failing (case, size)
 * pairs and reports each through fail(name, size, seed).
 */
static int fsc_run_all(const struct fewmul_simd *s,
		       void (*fail)(const char *what, u32 size, u32 seed))
{
	static const int upds[] = { -42, -33, -32, -31, -17, -9, -2, -1, 0,
				    1, 2, 7, 25, 26, 27, 31, 32 };
	u32 k, seed, nfail = 0;

#define FSC_CHECK(expr, what, size, sd) do {			\
		if (expr) {					\
			fail(what, size, sd);			\
			nfail++;				\
		}						\
	} while (0)

	for (seed = 1; seed <= 4; seed++) {
		for (k = 0; k < ARRAY_SIZE(fsc_lanes); k++) {
			FSC_CHECK(fsc_sum_lists(s, seed, fsc_lanes[k], 0),
				  "sum_lists", fsc_lanes[k], seed);
			FSC_CHECK(fsc_sum_lists(s, seed, fsc_lanes[k], 1),
				  "sum_lists edge", fsc_lanes[k], seed);
			FSC_CHECK(fsc_relu_mask(s, seed, fsc_lanes[k]),
				  "relu_mask", fsc_lanes[k], seed);
		}
		for (k = 0; k < ARRAY_SIZE(fsc_widths); k++) {
			u32 n = fsc_widths[k];
			u32 nlev = 1 + (seed * 7 + k) % FEWMUL_SIMD_MAX_LEVELS;
			int upd = upds[(seed * 5 + k) % ARRAY_SIZE(upds)];

			FSC_CHECK(fsc_dw_row(s, seed, n, nlev, upd, 0),
				  "dw_row", n, seed);
			FSC_CHECK(fsc_dw_row(s, seed, n, 8, upd, 1),
				  "dw_row edge", n, seed);
			FSC_CHECK(fsc_dw_row(s, seed, n, 1,
					     upd < -32 ? 32 : -upd, 1),
				  "dw_row one level", n, seed);
			FSC_CHECK(fsc_dw(s, seed, n, nlev, 0, 0, 1),
				  "dw_sum", n, seed);
			FSC_CHECK(fsc_dw(s, seed, n, 8, 0, 1, 1),
				  "dw_sum edge", n, seed);
			FSC_CHECK(fsc_transpose(s, seed, n < 1024 ? n : 1024,
						1 + (seed * 13 + k) % FSC_NB),
				  "transpose", n, seed);
			FSC_CHECK(fsc_sample4(s, seed, n), "sample4", n, seed);
			FSC_CHECK(fsc_row_list(s, seed, n), "row_list", n, seed);
			FSC_CHECK(fsc_row_list(s, seed | 8, n),
				  "row_list all -1", n, seed);
			FSC_CHECK(fsc_row_list(s, seed | 24, n),
				  "row_list all +1", n, seed);
			FSC_CHECK(fsc_col_lists(s, seed, n < 64 ? n : 64),
				  "col_lists", n, seed);
			FSC_CHECK(fsc_sample_det(s, seed, n, 0),
				  "sample_det ternary", n, seed);
			FSC_CHECK(fsc_sample_det(s, seed, n, 1),
				  "sample_det binary", n, seed);
		}
	}
#undef FSC_CHECK
	return (int)nfail;
}

#endif /* _FEWMUL_CORE_SIMD_CASES_H */
