// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * fewmul core: AVX2 kernels (integer only, no multiply).
 *
 * Compiled with -mavx2 (and nothing else of the core is). GCC vector
 * extensions and the compiler's own __builtin_ia32_* functions: no
 * <immintrin.h>, which the kernel build cannot include. Only integer
 * instructions: vpaddd, vpsubd, shifts, compares, vpminsd/vpmaxsd,
 * vpsignd, vpabsd, packs, shuffles, vpmovmskb, masked moves. Callers run
 * them only inside fewmul_simd_begin()/fewmul_simd_end() (fewmul_simd.c).
 *
 * Each kernel gives exactly the bits of its generic version in
 * fewmul_simd.c: integer adds, subtracts and left shifts are exact modulo
 * 2^32 in any order, and the callers' bounds keep every total in s32.
 */
#include "fewmul_simd.h"

typedef s32 v8s __attribute__((vector_size(32)));
typedef u32 v8u __attribute__((vector_size(32)));
typedef u64 v4q __attribute__((vector_size(32)));
typedef s16 v16h __attribute__((vector_size(32)));
typedef s8 v32c __attribute__((vector_size(32)));
typedef char v32m __attribute__((vector_size(sizeof(u8) * 32)));	/* vpmovmskb */

/* unaligned loads and stores (vmovdqu; rows of U need not be aligned) */
static __always_inline v8s fewmul_ld(const s32 *p)
{
	v8s v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static __always_inline void fewmul_st(s32 *p, v8s v)
{
	memcpy(p, &v, sizeof(v));
}

static __always_inline v32c fewmul_ld8(const s8 *p)
{
	v32c v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static __always_inline v8s fewmul_set1(s32 x)
{
	const v8s v = { x, x, x, x, x, x, x, x };

	return v;
}

static __always_inline v8s fewmul_min(v8s a, v8s b)
{
	return __builtin_ia32_pminsd256(a, b);
}

static __always_inline v8s fewmul_max(v8s a, v8s b)
{
	return __builtin_ia32_pmaxsd256(a, b);
}

/* Lanes j < n of the vector at j0 (mask for the masked moves). */
static __always_inline v8s fewmul_tailmask(u32 n)
{
	const v8s idx = { 0, 1, 2, 3, 4, 5, 6, 7 };

	return idx < fewmul_set1((s32)n);
}

/* ---- weight gradient and update ------------------------------------------ */

/*
 * U - shift(a, upd), clipped to [-1, 1] in Q(FW), as fewmul_k_update():
 * upd >= 0: a is saturated to +-2^26 >> min(upd, 26) first; any larger
 *	|a| << upd clips U the same way (|U| <= 2^24), and the shifted value
 *	then stays within +-2^26;
 * upd < 0: round half up, (a >> k) + ((a >> (k - 1)) & 1), k = -upd; an
 *	arithmetic shift by 32 or more gives the sign, so k >= 32 gives 0
 *	like the scalar code. |result| <= 2^30.
 */
static __always_inline v8s fewmul_upd(v8s u, v8s a, int upd)
{
	const v8s w1 = fewmul_set1(FEWMUL_ONE_W);

	if (upd >= 0) {
		int sh = upd < 26 ? upd : 26;
		v8s lim = fewmul_set1((1 << 26) >> sh);

		a = fewmul_min(fewmul_max(a, -lim), lim);
		a = __builtin_ia32_pslldi256(a, sh);
	} else {
		a = __builtin_ia32_psradi256(a, -upd) +
		    (__builtin_ia32_psradi256(a, -upd - 1) & fewmul_set1(1));
	}
	return fewmul_min(fewmul_max(u - a, -w1), w1);
}

/* The last n < 8 outputs: masked loads and store, nothing beyond n touched. */
static void fewmul_avx2_dw_tail(const s32 *dt, const u32 *ent,
				const u16 *cnt, u32 nlev, s32 *u, u32 n,
				int upd, int store)
{
	v8s mask = fewmul_tailmask(n), a = fewmul_set1(0), r;
	u32 lv, p;

	for (lv = nlev; lv-- > 0;) {
		a += a;
		for (p = cnt[2 * lv]; p; p--)
			a += __builtin_ia32_maskloadd256((const v8s *)(dt + *ent++),
							 mask);
		for (p = cnt[2 * lv + 1]; p; p--)
			a -= __builtin_ia32_maskloadd256((const v8s *)(dt + *ent++),
							 mask);
	}
	r = store ? a :
	    fewmul_upd(__builtin_ia32_maskloadd256((const v8s *)u, mask), a, upd);
	__builtin_ia32_maskstored256((v8s *)u, mask, r);
}

/* ---- list sums, ReLU mask, weight gradient: fewmul_simd_loops.h ------ */

#define fewmul_v	v8s
#define FEWMUL_VL	8
#define FEWMUL_FN(name)	fewmul_avx2_##name
#include "fewmul_simd_loops.h"

/* ---- transpose ---------------------------------------------------------------- */

/* 8 x 8 s32: r[k][c] -> r[c][k] */
static __always_inline void fewmul_tr8(v8s r[8])
{
	const v8s lo32 = { 0, 8, 1, 9, 4, 12, 5, 13 };
	const v8s hi32 = { 2, 10, 3, 11, 6, 14, 7, 15 };
	const v8s lo64 = { 0, 1, 8, 9, 4, 5, 12, 13 };
	const v8s hi64 = { 2, 3, 10, 11, 6, 7, 14, 15 };
	const v8s lo128 = { 0, 1, 2, 3, 8, 9, 10, 11 };
	const v8s hi128 = { 4, 5, 6, 7, 12, 13, 14, 15 };
	v8s t[8], q[8];
	int k;

	for (k = 0; k < 8; k += 2) {
		t[k] = __builtin_shuffle(r[k], r[k + 1], lo32);
		t[k + 1] = __builtin_shuffle(r[k], r[k + 1], hi32);
	}
	for (k = 0; k < 8; k += 4) {
		q[k] = __builtin_shuffle(t[k], t[k + 2], lo64);
		q[k + 1] = __builtin_shuffle(t[k], t[k + 2], hi64);
		q[k + 2] = __builtin_shuffle(t[k + 1], t[k + 3], lo64);
		q[k + 3] = __builtin_shuffle(t[k + 1], t[k + 3], hi64);
	}
	for (k = 0; k < 4; k++) {
		r[k] = __builtin_shuffle(q[k], q[k + 4], lo128);
		r[k + 4] = __builtin_shuffle(q[k], q[k + 4], hi128);
	}
}

static void fewmul_avx2_transpose(const s32 *d, u32 dshift, u32 n, u32 nb,
				  s32 *dt, u32 dtshift)
{
	u32 j, b, k;
	v8s r[8];

	for (j = 0; j + 8 <= n; j += 8) {
		for (b = 0; b + 8 <= nb; b += 8) {
			for (k = 0; k < 8; k++)
				r[k] = fewmul_ld(d + ((u64)(j + k) << dshift) + b);
			fewmul_tr8(r);
			for (k = 0; k < 8; k++)
				fewmul_st(dt + ((u64)(b + k) << dtshift) + j, r[k]);
		}
		for (; b < nb; b++)
			for (k = 0; k < 8; k++)
				dt[((u64)b << dtshift) + j + k] =
					d[((u64)(j + k) << dshift) + b];
	}
	for (; j < n; j++)
		for (b = 0; b < nb; b++)
			dt[((u64)b << dtshift) + j] = d[((u64)j << dshift) + b];
}

/* ---- sampling and lists -------------------------------------------------- */

static __always_inline v4q fewmul_q4(u64 a, u64 b, u64 c, u64 d)
{
	const v4q v = { a, b, c, d };

	return v;
}

/* xoshiro256+ on four independent streams, one per 64-bit lane. */
static __always_inline v4q fewmul_rng4(v4q s[4])
{
	v4q r;

	FEWMUL_XOSHIRO256P(s, r);
	return r;
}

/*
 * Eight ternary weights from four draws of one row (as 8 u32: low, high
 * halves). Weight 2k takes the high half of draw k, 2k + 1 the low half;
 * t = sign(w) where |w| > bits >> 8, else 0 (fewmul_k_sample()).
 */
static __always_inline v8s fewmul_tern8(v8s draws, const s32 *u)
{
	const v8s swap = { 1, 0, 3, 2, 5, 4, 7, 6 };
	v8u bits = (v8u)__builtin_shuffle(draws, swap);
	v8s thr = (v8s)(bits >> 8);
	v8s w = fewmul_ld(u);
	v8s hit = __builtin_ia32_pabsd256(w) > thr;

	return __builtin_ia32_psignd256(hit & fewmul_set1(1), w);
}

static __always_inline void fewmul_store32(s8 *t, v8s a, v8s b, v8s c, v8s d)
{
	const v8s fix = { 0, 4, 1, 5, 2, 6, 3, 7 };
	v16h ab = __builtin_ia32_packssdw256(a, b);
	v16h cd = __builtin_ia32_packssdw256(c, d);
	v8s p = (v8s)__builtin_ia32_packsswb256(ab, cd);

	v32c r = (v32c)__builtin_ia32_permvarsi256(p, fix);

	memcpy(t, &r, sizeof(r));
}

/*
 * Four rows of n ternary weights, rows @pitch apart; st[k] is the state of
 * row k's stream and is left where the row's draws ended. 32 weights of
 * each row per block (16 draws per row, a 4 x 4 transpose of draws);
 * the last n % 32 weights with the scalar kernel, from the same states.
 */
static void fewmul_avx2_sample4(u64 st[4][4], const s32 *u, s8 *t, u32 pitch,
				u32 n)
{
	const v4q lo = { 0, 1, 4, 5 }, hi = { 2, 3, 6, 7 };
	const v4q ulo = { 0, 4, 2, 6 }, uhi = { 1, 5, 3, 7 };
	struct fewmul_rng rng;
	v4q s[4];
	u32 j, k;
	int g;

	for (k = 0; k < 4; k++)
		s[k] = fewmul_q4(st[0][k], st[1][k], st[2][k], st[3][k]);
	for (j = 0; j + 32 <= n; j += 32) {
		v8s dr[4][4];	/* [row][group of 4 draws] */

		for (g = 0; g < 4; g++) {
			v4q a = fewmul_rng4(s), b = fewmul_rng4(s);
			v4q c = fewmul_rng4(s), d = fewmul_rng4(s);
			/* a..d: draw g*4+0..3 of rows 0..3 -> per row */
			v4q t0 = __builtin_shuffle(a, b, ulo);
			v4q t1 = __builtin_shuffle(a, b, uhi);
			v4q t2 = __builtin_shuffle(c, d, ulo);
			v4q t3 = __builtin_shuffle(c, d, uhi);

			dr[0][g] = (v8s)__builtin_shuffle(t0, t2, lo);
			dr[1][g] = (v8s)__builtin_shuffle(t1, t3, lo);
			dr[2][g] = (v8s)__builtin_shuffle(t0, t2, hi);
			dr[3][g] = (v8s)__builtin_shuffle(t1, t3, hi);
		}
		for (k = 0; k < 4; k++) {
			const s32 *uu = u + (u64)k * pitch + j;

			fewmul_store32(t + (u64)k * pitch + j,
				       fewmul_tern8(dr[k][0], uu),
				       fewmul_tern8(dr[k][1], uu + 8),
				       fewmul_tern8(dr[k][2], uu + 16),
				       fewmul_tern8(dr[k][3], uu + 24));
		}
	}
	for (k = 0; k < 4; k++) {
		int q;

		for (q = 0; q < 4; q++)
			st[k][q] = s[q][k];
		if (j < n) {
			memcpy(rng.s, st[k], sizeof(rng.s));
			fewmul_k_sample(u + (u64)k * pitch + j,
					t + (u64)k * pitch + j, n - j,
					FEWMUL_MODEL_WEIGHTS_TERNARY, 0, &rng);
			memcpy(st[k], rng.s, sizeof(rng.s));
		}
	}
}

/*
 * List of a sampled row from byte compares: +1 offsets from the front in
 * ascending order, -1 offsets from the back (fewmul_k_row_list()).
 * Offsets j << sshift.
 */
static void fewmul_avx2_row_list(const s8 *t, u32 n, u32 sshift, u32 *list,
				 u16 *cnt)
{
	const v32c z = { 0 };
	u32 j, np = 0, nn = 0, *back = list + n - 1;

	for (j = 0; j + 32 <= n; j += 32) {
		v32c v = fewmul_ld8(t + j);
		u32 mp = (u32)__builtin_ia32_pmovmskb256((v32m)(v > z));
		u32 mn = (u32)__builtin_ia32_pmovmskb256((v32m)(v < z));

		while (mp) {
			list[np++] = (j + (u32)__builtin_ctz(mp)) << sshift;
			mp &= mp - 1;
		}
		while (mn) {
			*(back - nn++) = (j + (u32)__builtin_ctz(mn)) << sshift;
			mn &= mn - 1;
		}
	}
	for (; j < n; j++) {
		if (t[j] > 0)
			list[np++] = j << sshift;
		else if (t[j] < 0)
			*(back - nn++) = j << sshift;
	}
	cnt[0] = (u16)np;
	cnt[1] = (u16)nn;
}

/*
 * Column lists of 64 columns: per row two 32-byte compares give the +1 and
 * -1 columns as 64-bit masks; each set bit appends the row's offset to
 * its column (+1 from the front, -1 from the back, rows ascending, as
 * fewmul_k_col_lists()). Offsets i << sshift.
 */
static void fewmul_avx2_col_lists(const s8 *t, u32 r0, u32 r1, u32 rows,
				  u32 tpitch, u32 sshift, u32 *list, u32 lshift,
				  u16 *cnt)
{
	const v32c z = { 0 };
	u32 i, c, off = r0 << sshift, last = rows - 1;

	if (!r0)
		for (c = 0; c < 128; c++)
			cnt[c] = 0;
	t += fewmul_mul_sa(r0, tpitch);
	for (i = r0; i < r1; i++, t += tpitch, off += 1u << sshift) {
		v32c a = fewmul_ld8(t), b = fewmul_ld8(t + 32);
		u64 mp = (u32)__builtin_ia32_pmovmskb256((v32m)(a > z)) |
			 (u64)(u32)__builtin_ia32_pmovmskb256((v32m)(b > z)) << 32;
		u64 mn = (u32)__builtin_ia32_pmovmskb256((v32m)(a < z)) |
			 (u64)(u32)__builtin_ia32_pmovmskb256((v32m)(b < z)) << 32;

		while (mp) {
			c = (u32)__builtin_ctzll(mp);
			list[((u64)c << lshift) + cnt[2 * c]++] = off;
			mp &= mp - 1;
		}
		while (mn) {
			c = (u32)__builtin_ctzll(mn);
			list[((u64)c << lshift) + last - cnt[2 * c + 1]++] = off;
			mn &= mn - 1;
		}
	}
}

/*
 * Deterministic weights by compares: binary (w >> 31) | 1, i.e. +1 for
 * w >= 0; ternary test-time weights (w < -1/2) - (w > 1/2) as masks.
 */
static void fewmul_avx2_sample_det(const s32 *u, s8 *t, u32 n, int binary)
{
	const v8s h = fewmul_set1(FEWMUL_ONE_W / 2), one = fewmul_set1(1);
	v8s r[4];
	u32 j;
	int k;

	for (j = 0; j + 32 <= n; j += 32) {
		for (k = 0; k < 4; k++) {
			v8s w = fewmul_ld(u + j + 8 * k);

			if (binary)
				r[k] = __builtin_ia32_psradi256(w, 31) | one;
			else
				r[k] = (-h > w) - (w > h);
		}
		fewmul_store32(t + j, r[0], r[1], r[2], r[3]);
	}
	if (j < n)
		fewmul_k_sample(u + j, t + j, n - j, binary ? FEWMUL_MODEL_WEIGHTS_BINARY :
				FEWMUL_MODEL_WEIGHTS_TERNARY, 1, NULL);
}

static int fewmul_avx2_valid(void)
{
	return fewmul_cpu_has_avx2();
}

const struct fewmul_simd fewmul_simd_avx2 = {
	.name = "avx2",
	.valid = fewmul_avx2_valid,
	.sum_lists = fewmul_avx2_sum_lists,
	.relu_mask = fewmul_avx2_relu_mask,
	.dw_row = fewmul_avx2_dw_row,
	.dw_sum = fewmul_avx2_dw_sum,
	.transpose = fewmul_avx2_transpose,
	.sample4 = fewmul_avx2_sample4,
	.row_list = fewmul_avx2_row_list,
	.col_lists = fewmul_avx2_col_lists,
	.sample_det = fewmul_avx2_sample_det,
};
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_simd_avx2);
