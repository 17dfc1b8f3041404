/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * fewmul core: the list-sum and weight-gradient loops of the vector
 * kernels, written once over a vector type (as lib/raid6 writes its
 * kernels once for several widths). Included by fewmul_avx2.c and
 * fewmul_neon.c, each of which defines first:
 *   fewmul_v          the vector of s32 lanes
 *   FEWMUL_VL         lanes per vector (8 or 4)
 *   FEWMUL_FN(name)   the name of the implementation's function @name
 *   fewmul_ld(), fewmul_st(), fewmul_set1()   load, store, broadcast
 *   fewmul_upd(u, a, upd)   U - shift(a, upd), clipped (fewmul_k_update())
 *   FEWMUL_FN(dw_tail)      the last outputs, fewer than FEWMUL_VL
 * Each pass of the list sums keeps up to 96 lanes of accumulators in
 * registers (12 AVX2 or 24 NEON registers).
 */

#define FEWMUL_SUM_LANES	96	/* lanes of one pass of the list sums */

/*
 * nv vectors from @base (nv a constant after inlining): out = sum of the
 * listed +1 rows minus the listed -1 rows (plus out with @acc); the
 * accumulators stay in registers for the whole lists.
 */
static __always_inline void FEWMUL_FN(sum_n)(const int nv, const s32 *base,
					     const u32 *pos, u32 npos,
					     const u32 *neg, u32 nneg,
					     s32 *out, int acc)
{
	fewmul_v a[FEWMUL_SUM_LANES / FEWMUL_VL];
	u32 p;
	int v;

	for (v = 0; v < nv; v++)
		a[v] = acc ? fewmul_ld(out + FEWMUL_VL * v) : fewmul_set1(0);
	for (p = 0; p < npos; p++) {
		const s32 *r = base + ((u64)pos[p] << 1);

		for (v = 0; v < nv; v++)
			a[v] += fewmul_ld(r + FEWMUL_VL * v);
	}
	for (p = 0; p < nneg; p++) {
		const s32 *r = base + ((u64)neg[p] << 1);

		for (v = 0; v < nv; v++)
			a[v] -= fewmul_ld(r + FEWMUL_VL * v);
	}
	for (v = 0; v < nv; v++)
		fewmul_st(out + FEWMUL_VL * v, a[v]);
}

/*
 * nl lanes (a multiple of 16) in passes of at most 96 lanes, the passes
 * balanced (208 lanes: 80 + 64 + 64), since each pass walks the lists
 * once.
 */
static void FEWMUL_FN(sum_lists)(const s32 *base, const u32 *pos, u32 npos,
				 const u32 *neg, u32 nneg, s32 *out, u32 nl,
				 int acc)
{
	u32 passes, cap, w;

	/* passes = ceil(nl / 96) without the reciprocal multiply of a / 96 */
	for (passes = 1, cap = FEWMUL_SUM_LANES; cap < nl;
	     passes++, cap += FEWMUL_SUM_LANES)
		__asm__("" : "+r" (cap));	/* not folded into a / 96 */
	while (nl) {
		w = (nl + passes - 1) / passes;
		w = (w + 15) & ~15u;
		if (w > FEWMUL_SUM_LANES)
			w = FEWMUL_SUM_LANES;
		switch (w) {
		case 16:
			FEWMUL_FN(sum_n)(16 / FEWMUL_VL, base, pos, npos, neg, nneg,
					 out, acc);
			break;
		case 32:
			FEWMUL_FN(sum_n)(32 / FEWMUL_VL, base, pos, npos, neg, nneg,
					 out, acc);
			break;
		case 48:
			FEWMUL_FN(sum_n)(48 / FEWMUL_VL, base, pos, npos, neg, nneg,
					 out, acc);
			break;
		case 64:
			FEWMUL_FN(sum_n)(64 / FEWMUL_VL, base, pos, npos, neg, nneg,
					 out, acc);
			break;
		case 80:
			FEWMUL_FN(sum_n)(80 / FEWMUL_VL, base, pos, npos, neg, nneg,
					 out, acc);
			break;
		default:
			FEWMUL_FN(sum_n)(96 / FEWMUL_VL, base, pos, npos, neg, nneg,
					 out, acc);
			break;
		}
		base += w;
		out += w;
		nl -= w;
		passes--;
	}
}

static void FEWMUL_FN(relu_mask)(s32 *d, const s32 *x, u32 nl)
{
	const fewmul_v z = fewmul_set1(0);
	u32 b;

	for (b = 0; b < nl; b += FEWMUL_VL)
		fewmul_st(d + b, fewmul_ld(d + b) & (fewmul_ld(x + b) > z));
}

/*
 * One row, nv vectors of outputs (a constant after inlining): Horner over
 * the levels (double the accumulators, add the level's +1 samples,
 * subtract its -1 samples), then the update of the row's shadow weights
 * (or, with @store, the sums themselves).
 */
static __always_inline void FEWMUL_FN(dw_n)(const int nv, const s32 *dt,
					    const u32 *ent, const u16 *cnt,
					    u32 nlev, s32 *u, int upd,
					    const int store)
{
	fewmul_v a[64 / FEWMUL_VL];
	u32 lv, p;
	int v;

	for (v = 0; v < nv; v++)
		a[v] = fewmul_set1(0);
	for (lv = nlev; lv-- > 0;) {
		for (v = 0; v < nv; v++)
			a[v] += a[v];
		for (p = cnt[2 * lv]; p; p--) {
			const s32 *r = dt + *ent++;

			for (v = 0; v < nv; v++)
				a[v] += fewmul_ld(r + FEWMUL_VL * v);
		}
		for (p = cnt[2 * lv + 1]; p; p--) {
			const s32 *r = dt + *ent++;

			for (v = 0; v < nv; v++)
				a[v] -= fewmul_ld(r + FEWMUL_VL * v);
		}
	}
	for (v = 0; v < nv; v++)
		fewmul_st(u + FEWMUL_VL * v, store ? a[v] :
			  fewmul_upd(fewmul_ld(u + FEWMUL_VL * v), a[v], upd));
}

/*
 * u is the row (store 0: update it) or the sums' output (store 1): blocks
 * of 64, 32, 16 and 8 (NEON: and 4) outputs, then the tail.
 */
static __always_inline void FEWMUL_FN(dw)(const s32 *dt, const u32 *ent,
					  const u16 *cnt, u32 nlev, s32 *u,
					  u32 n, int upd, const int store)
{
	u32 j = 0, w;

	for (; j + 64 <= n; j += 64)
		FEWMUL_FN(dw_n)(64 / FEWMUL_VL, dt + j, ent, cnt, nlev, u + j,
				upd, store);
	for (w = 32; w >= FEWMUL_VL; w >>= 1) {
		if (j + w > n)
			continue;
		switch (w) {
		case 32:
			FEWMUL_FN(dw_n)(32 / FEWMUL_VL, dt + j, ent, cnt, nlev,
					u + j, upd, store);
			break;
		case 16:
			FEWMUL_FN(dw_n)(16 / FEWMUL_VL, dt + j, ent, cnt, nlev,
					u + j, upd, store);
			break;
		case 8:
			FEWMUL_FN(dw_n)(8 / FEWMUL_VL, dt + j, ent, cnt, nlev,
					u + j, upd, store);
			break;
		default:
			FEWMUL_FN(dw_n)(1, dt + j, ent, cnt, nlev, u + j, upd,
					store);
			break;
		}
		j += w;
	}
	if (j < n)
		FEWMUL_FN(dw_tail)(dt + j, ent, cnt, nlev, u + j, n - j, upd,
				   store);
}

static void FEWMUL_FN(dw_row)(const s32 *dt, const u32 *ent,
			      const u16 *cnt, u32 nlev, s32 *u, u32 n, int upd)
{
	FEWMUL_FN(dw)(dt, ent, cnt, nlev, u, n, upd, 0);
}

static void FEWMUL_FN(dw_sum)(const s32 *dt, const u32 *ent,
			      const u16 *cnt, u32 nlev, s32 *acc, u32 n)
{
	FEWMUL_FN(dw)(dt, ent, cnt, nlev, acc, n, 0, 1);
}
