// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * fewmul core: arm64 NEON (Advanced SIMD) kernels (integer only, no
 * multiply).
 *
 * GCC vector extensions on 128-bit vectors, no <arm_neon.h>: the compiler
 * turns them into add, sub, shifts, cmgt/cmlt, and/orr/bic, smin/smax,
 * tbl/zip/uzp and xtn/shrn. The kernel build removes -mgeneral-regs-only
 * for this object only (like lib/raid6/neon*.c); callers run the kernels
 * only between fewmul_simd_begin() and fewmul_simd_end(), i.e. inside
 * kernel_neon_begin()/kernel_neon_end() (fewmul_simd.c).
 *
 * Each kernel gives exactly the bits of its generic version in
 * fewmul_simd.c: integer adds, subtracts and left shifts are exact modulo
 * 2^32 in any order, and the callers' bounds keep every total in s32.
 * There is no pmovmskb on arm64: a compare mask narrowed by a shift
 * (shrn #4) gives one nibble per byte, and the lists walk its set bits.
 */
#include "fewmul_simd.h"

typedef s32 v4s __attribute__((vector_size(16)));
typedef u32 v4u __attribute__((vector_size(16)));
typedef u64 v2q __attribute__((vector_size(16)));
typedef s64 v2d __attribute__((vector_size(16)));
typedef u16 v8w __attribute__((vector_size(16)));
typedef u8 v8b __attribute__((vector_size(8)));
typedef s8 v16c __attribute__((vector_size(16)));
typedef u8 v16b __attribute__((vector_size(16)));

static __always_inline v4s fewmul_ld(const s32 *p)
{
	v4s v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static __always_inline void fewmul_st(s32 *p, v4s v)
{
	memcpy(p, &v, sizeof(v));
}

static __always_inline v16c fewmul_ld8(const s8 *p)
{
	v16c v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static __always_inline v4s fewmul_set1(s32 x)
{
	const v4s v = { x, x, x, x };

	return v;
}

/* smin/smax by compare and select (the compiler emits smin/smax) */
static __always_inline v4s fewmul_min(v4s a, v4s b)
{
	v4s m = a < b;

	return (a & m) | (b & ~m);
}

static __always_inline v4s fewmul_max(v4s a, v4s b)
{
	v4s m = a > b;

	return (a & m) | (b & ~m);
}

/*
 * One bit per byte of a 16-byte compare mask, at bit 4 k for byte k:
 * the mask's u16 halves shifted right by 4 and narrowed (shrn #4) leave
 * a nibble per byte; the low bit of each nibble is kept.
 */
static __always_inline u64 fewmul_nibbles(v16c m)
{
	v8b n = __builtin_convertvector((v8w)m >> 4, v8b);
	u64 r;

	memcpy(&r, &n, sizeof(r));
	return r & 0x1111111111111111ULL;
}

/* ---- weight gradient and update ------------------------------------------ */

/*
 * U - shift(a, upd), clipped to [-1, 1] in Q(FW), as fewmul_k_update()
 * and fewmul_avx2.c: upd >= 0 saturates a to +-2^26 >> min(upd, 26)
 * first; upd < 0 rounds half up, the shift counts capped at 31 (an
 * arithmetic shift by 31 already gives the sign, and sign + its low bit
 * is 0, as the scalar code's shift by 32 or more).
 */
static __always_inline v4s fewmul_upd(v4s u, v4s a, int upd)
{
	const v4s w1 = fewmul_set1(FEWMUL_ONE_W);

	if (upd >= 0) {
		int sh = upd < 26 ? upd : 26;
		v4s lim = fewmul_set1((1 << 26) >> sh);

		a = fewmul_min(fewmul_max(a, -lim), lim);
		a = a << sh;
	} else {
		int k = -upd < 31 ? -upd : 31;
		int k1 = -upd - 1 < 31 ? -upd - 1 : 31;

		a = (a >> k) + ((a >> k1) & fewmul_set1(1));
	}
	return fewmul_min(fewmul_max(u - a, -w1), w1);
}

/*
 * The last n < 4 outputs, one at a time (the sums mod 2^32, as the generic
 * kernel): nothing beyond n is touched.
 */
static void fewmul_neon_dw_tail(const s32 *dt, const u32 *ent,
				const u16 *cnt, u32 nlev, s32 *u, u32 n,
				int upd, int store)
{
	u32 j, lv, p;

	for (j = 0; j < n; j++) {
		const u32 *e = ent;
		u32 a = 0;
		v4s r;

		for (lv = nlev; lv-- > 0;) {
			a <<= 1;
			for (p = cnt[2 * lv]; p; p--)
				a += (u32)dt[*e++ + j];
			for (p = cnt[2 * lv + 1]; p; p--)
				a -= (u32)dt[*e++ + j];
		}
		r = fewmul_set1((s32)a);
		if (!store)
			r = fewmul_upd(fewmul_set1(u[j]), r, upd);
		u[j] = r[0];
	}
}

/* ---- list sums, ReLU mask, weight gradient: fewmul_simd_loops.h ------ */

#define fewmul_v	v4s
#define FEWMUL_VL	4
#define FEWMUL_FN(name)	fewmul_neon_##name
#include "fewmul_simd_loops.h"

/* ---- transpose ---------------------------------------------------------------- */

/* 4 x 4 s32: r[k][c] -> r[c][k] (zip1/zip2 of words, then of doublewords) */
static __always_inline void fewmul_tr4(v4s r[4])
{
	const v4s lo32 = { 0, 4, 1, 5 }, hi32 = { 2, 6, 3, 7 };
	const v4s lo64 = { 0, 1, 4, 5 }, hi64 = { 2, 3, 6, 7 };
	v4s t0 = __builtin_shuffle(r[0], r[1], lo32);
	v4s t1 = __builtin_shuffle(r[0], r[1], hi32);
	v4s t2 = __builtin_shuffle(r[2], r[3], lo32);
	v4s t3 = __builtin_shuffle(r[2], r[3], hi32);

	r[0] = __builtin_shuffle(t0, t2, lo64);
	r[1] = __builtin_shuffle(t0, t2, hi64);
	r[2] = __builtin_shuffle(t1, t3, lo64);
	r[3] = __builtin_shuffle(t1, t3, hi64);
}

static void fewmul_neon_transpose(const s32 *d, u32 dshift, u32 n, u32 nb,
				  s32 *dt, u32 dtshift)
{
	u32 j, b, k;
	v4s r[4];

	for (j = 0; j + 4 <= n; j += 4) {
		for (b = 0; b + 4 <= nb; b += 4) {
			for (k = 0; k < 4; k++)
				r[k] = fewmul_ld(d + ((u64)(j + k) << dshift) + b);
			fewmul_tr4(r);
			for (k = 0; k < 4; k++)
				fewmul_st(dt + ((u64)(b + k) << dtshift) + j, r[k]);
		}
		for (; b < nb; b++)
			for (k = 0; k < 4; k++)
				dt[((u64)b << dtshift) + j + k] =
					d[((u64)(j + k) << dshift) + b];
	}
	for (; j < n; j++)
		for (b = 0; b < nb; b++)
			dt[((u64)b << dtshift) + j] = d[((u64)j << dshift) + b];
}

/* ---- sampling and lists -------------------------------------------------- */

/* xoshiro256+ on two independent streams, one per 64-bit lane. */
static __always_inline v2q fewmul_rng2(v2q s[4])
{
	v2q r;

	FEWMUL_XOSHIRO256P(s, r);
	return r;
}

/*
 * Four ternary weights from two draws of one row: weight 2k takes the
 * high half of draw k, 2k + 1 the low half; t = sign(w) where
 * |w| > bits >> 8, else 0 (fewmul_k_sample(); |w| <= 2^24, so the
 * absolute value and the compare are exact in s32).
 */
static __always_inline v4s fewmul_tern4(v2q d0, v2q d1, int lane,
					const s32 *u)
{
	const v2q pick = { lane, 2 + lane };
	const v4s swap = { 1, 0, 3, 2 };
	v4u bits = (v4u)__builtin_shuffle((v4s)__builtin_shuffle(d0, d1, pick),
					  swap);
	v4s thr = (v4s)(bits >> 8);
	v4s w = fewmul_ld(u), sg = w >> 31;
	v4s hit = ((w ^ sg) - sg) > thr;

	return hit & (sg | fewmul_set1(1));
}

/* the low bytes of four s32 vectors (-1, 0 or 1 each) as 16 bytes */
static __always_inline void fewmul_store16(s8 *t, v4s a, v4s b, v4s c, v4s d)
{
	const v16c lo = { 0, 4, 8, 12, 16, 20, 24, 28,
			  0, 4, 8, 12, 16, 20, 24, 28 };
	const v16c cat = { 0, 1, 2, 3, 4, 5, 6, 7,
			   16, 17, 18, 19, 20, 21, 22, 23 };
	v16c ab = __builtin_shuffle((v16c)a, (v16c)b, lo);
	v16c cd = __builtin_shuffle((v16c)c, (v16c)d, lo);
	v16c r = __builtin_shuffle(ab, cd, cat);

	memcpy(t, &r, sizeof(r));
}

/*
 * Four rows of n ternary weights, rows @pitch apart; st[k] is the state of
 * row k's stream and is left where the row's draws ended. Rows in pairs
 * (one stream per 64-bit lane), 16 weights of each row per block (8 draws
 * per row); the last n % 16 weights with the scalar kernel, from the same
 * states.
 */
static void fewmul_neon_sample4(u64 st[4][4], const s32 *u, s8 *t, u32 pitch,
				u32 n)
{
	struct fewmul_rng rng;
	u32 j, k, q;
	v2q s[4], d[8];
	int g, lane;

	for (k = 0; k < 4; k += 2) {
		const s32 *uk = u + (u64)k * pitch;
		s8 *tk = t + (u64)k * pitch;

		for (q = 0; q < 4; q++) {
			s[q][0] = st[k][q];
			s[q][1] = st[k + 1][q];
		}
		for (j = 0; j + 16 <= n; j += 16) {
			for (g = 0; g < 8; g++)
				d[g] = fewmul_rng2(s);
			for (lane = 0; lane < 2; lane++) {
				const s32 *ur = uk + (u64)lane * pitch + j;

				fewmul_store16(tk + (u64)lane * pitch + j,
					       fewmul_tern4(d[0], d[1], lane, ur),
					       fewmul_tern4(d[2], d[3], lane, ur + 4),
					       fewmul_tern4(d[4], d[5], lane, ur + 8),
					       fewmul_tern4(d[6], d[7], lane, ur + 12));
			}
		}
		for (lane = 0; lane < 2; lane++) {
			for (q = 0; q < 4; q++)
				st[k + lane][q] = s[q][lane];
			if (j < n) {
				memcpy(rng.s, st[k + lane], sizeof(rng.s));
				fewmul_k_sample(uk + (u64)lane * pitch + j,
						tk + (u64)lane * pitch + j, n - j,
						FEWMUL_MODEL_WEIGHTS_TERNARY, 0, &rng);
				memcpy(st[k + lane], rng.s, sizeof(rng.s));
			}
		}
	}
}

/*
 * List of a sampled row from byte compares: +1 offsets from the front in
 * ascending order, -1 offsets from the back (fewmul_k_row_list()).
 * Offsets j << sshift.
 */
static void fewmul_neon_row_list(const s8 *t, u32 n, u32 sshift, u32 *list,
				 u16 *cnt)
{
	const v16c z = { 0 };
	u32 j, np = 0, nn = 0, *back = list + n - 1;

	for (j = 0; j + 16 <= n; j += 16) {
		v16c v = fewmul_ld8(t + j);
		u64 mp = fewmul_nibbles(v > z), mn = fewmul_nibbles(v < z);

		while (mp) {
			list[np++] = (j + ((u32)__builtin_ctzll(mp) >> 2)) << sshift;
			mp &= mp - 1;
		}
		while (mn) {
			*(back - nn++) = (j + ((u32)__builtin_ctzll(mn) >> 2)) << sshift;
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
 * Column lists of 64 columns: per row four 16-byte compares give the +1
 * and -1 columns as nibble masks; each set bit appends the row's offset
 * to its column (+1 from the front, -1 from the back, rows ascending, as
 * fewmul_k_col_lists()). Offsets i << sshift.
 */
static void fewmul_neon_col_lists(const s8 *t, u32 r0, u32 r1, u32 rows,
				  u32 tpitch, u32 sshift, u32 *list, u32 lshift,
				  u16 *cnt)
{
	const v16c z = { 0 };
	u32 i, c, g, off = r0 << sshift, last = rows - 1;

	if (!r0)
		for (c = 0; c < 128; c++)
			cnt[c] = 0;
	t += fewmul_mul_sa(r0, tpitch);
	for (i = r0; i < r1; i++, t += tpitch, off += 1u << sshift) {
		for (g = 0; g < 64; g += 16) {
			v16c v = fewmul_ld8(t + g);
			u64 mp = fewmul_nibbles(v > z), mn = fewmul_nibbles(v < z);

			while (mp) {
				c = g + ((u32)__builtin_ctzll(mp) >> 2);
				list[((u64)c << lshift) + cnt[2 * c]++] = off;
				mp &= mp - 1;
			}
			while (mn) {
				c = g + ((u32)__builtin_ctzll(mn) >> 2);
				list[((u64)c << lshift) + last - cnt[2 * c + 1]++] = off;
				mn &= mn - 1;
			}
		}
	}
}

/*
 * Deterministic weights by compares: binary (w >> 31) | 1, i.e. +1 for
 * w >= 0; ternary test-time weights (w < -1/2) - (w > 1/2) as masks.
 */
static void fewmul_neon_sample_det(const s32 *u, s8 *t, u32 n, int binary)
{
	const v4s h = fewmul_set1(FEWMUL_ONE_W / 2), one = fewmul_set1(1);
	v4s r[4];
	u32 j;
	int k;

	for (j = 0; j + 16 <= n; j += 16) {
		for (k = 0; k < 4; k++) {
			v4s w = fewmul_ld(u + j + 4 * k);

			if (binary)
				r[k] = (w >> 31) | one;
			else
				r[k] = (-h > w) - (w > h);
		}
		fewmul_store16(t + j, r[0], r[1], r[2], r[3]);
	}
	if (j < n)
		fewmul_k_sample(u + j, t + j, n - j, binary ? FEWMUL_MODEL_WEIGHTS_BINARY :
				FEWMUL_MODEL_WEIGHTS_TERNARY, 1, NULL);
}

static int fewmul_neon_valid(void)
{
	return fewmul_cpu_has_neon();
}

const struct fewmul_simd fewmul_simd_neon = {
	.name = "neon",
	.valid = fewmul_neon_valid,
	.sum_lists = fewmul_neon_sum_lists,
	.relu_mask = fewmul_neon_relu_mask,
	.dw_row = fewmul_neon_dw_row,
	.dw_sum = fewmul_neon_dw_sum,
	.transpose = fewmul_neon_transpose,
	.sample4 = fewmul_neon_sample4,
	.row_list = fewmul_neon_row_list,
	.col_lists = fewmul_neon_col_lists,
	.sample_det = fewmul_neon_sample_det,
};
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_simd_neon);
