/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * fewmul core: integer vector kernels, chosen once (lib/raid6 style).
 *
 * The scalar engine (fewmul_engine.c, fewmul_fast.c) is the reference and
 * the fallback. When an implementation is selected, the hot phases of a
 * binary/ternary step call the kernels of struct fewmul_simd below. Every
 * kernel works on plain s32 lanes (no SWAR pairs) and gives bit-identical
 * results to the scalar path under the same exactness bounds (the bounds
 * and why they suffice: Documentation/numerics.rst, "Vector lanes").
 *
 * Vector instructions are integer only: add, sub, shifts, compares,
 * min/max, sign, shuffles and masks; never a multiply, never a floating
 * point instruction (tests/check-nomul.sh checks the object code). They
 * run only between fewmul_simd_begin() and fewmul_simd_end(), in sections
 * bounded by the callers here (a few tens of microseconds), never across
 * a cond_resched(). Where the host refuses vector registers the same
 * driver runs the generic C kernels of the same layouts instead.
 *
 * Layouts seen by the kernels:
 *   X[i], D[j]  s32 rows of bs lanes (bs a power of two >= 16), the lanes
 *               beyond the batch zero
 *   lists       u32 offsets in units of 2 lanes (the engine's u64 pairs):
 *               row r of a [n][bs] array is at r << (bshift - 1)
 *   DT          s32 [bs][pitch], pitch = 2 << m->dt_shift >= max width,
 *               stored in the engine's dtpk buffer
 */
#ifndef _FEWMUL_SIMD_H
#define _FEWMUL_SIMD_H

#include "fewmul_internal.h"

/* Highest number of Horner levels of the weight gradient (emax - emin + 1). */
#define FEWMUL_SIMD_MAX_LEVELS	25

/**
 * struct fewmul_simd - one implementation of the vector kernels
 * @name: shown by fewmulctl info/bench and the module's log
 * @valid: non-zero when this CPU (and OS) can run it
 * @sum_lists: out[b] = sum over @pos of base row [b] - sum over @neg,
 *	for lanes b < @nl (@nl a multiple of 16); rows at @base + 2 * offset;
 *	with @acc, out[b] += that sum
 * @relu_mask: d[b] = 0 where x[b] <= 0, lanes b < @nl (multiple of 16)
 * @dw_row: weight gradient and update of one row of shadow weights; the
 *	samples are listed by level (highest first), positive then negative
 *	per level: U[j] = clip(U[j] - shift(sum_lv 2^lv * (sum_pos DT[b][j]
 *	- sum_neg DT[b][j]), upd)) for j < @n
 * @transpose: DT[b][j] = D[j][b] for b < @nb, j < @n
 * @sample4: ternary sampling of four rows at once, one stream per row
 * @row_list: list of the non-zero entries of one sampled row
 * @col_lists: lists of the non-zero entries of 64 columns (rows ascending),
 *	rows [@r0, @r1) of a block of @rows rows whose row 0 is at @t; the
 *	counts start at 0 when @r0 is 0, else continue (a block may take
 *	several vector sections)
 * @sample_det: deterministic weights of one row: binary sign(w) (w >= 0
 *	-> +1), or the ternary test-time weights (|w| > 1/2 -> sign(w))
 */
struct fewmul_simd {
	const char *name;
	int (*valid)(void);
	void (*sum_lists)(const s32 *base, const u32 *pos, u32 npos,
			  const u32 *neg, u32 nneg, s32 *out, u32 nl, int acc);
	void (*relu_mask)(s32 *d, const s32 *x, u32 nl);
	void (*dw_row)(const s32 *dt, const u32 *ent,
		       const u16 *cnt, u32 nlev, s32 *u, u32 n, int upd);
	void (*dw_sum)(const s32 *dt, const u32 *ent,
		       const u16 *cnt, u32 nlev, s32 *acc, u32 n);
	void (*transpose)(const s32 *d, u32 dshift, u32 n, u32 nb,
			  s32 *dt, u32 dtshift);
	void (*sample4)(u64 st[4][4], const s32 *u, s8 *t, u32 pitch, u32 n);
	void (*row_list)(const s8 *t, u32 n, u32 sshift, u32 *list, u16 *cnt);
	void (*col_lists)(const s8 *t, u32 r0, u32 r1, u32 rows, u32 tpitch,
			  u32 sshift, u32 *list, u32 lshift, u16 *cnt);
	void (*sample_det)(const s32 *u, s8 *t, u32 n, int binary);
};

extern const struct fewmul_simd fewmul_simd_generic;
#ifdef FEWMUL_HAVE_AVX2
extern const struct fewmul_simd fewmul_simd_avx2;
#endif
#ifdef FEWMUL_HAVE_NEON
extern const struct fewmul_simd fewmul_simd_neon;
#endif
/* The vector implementations compiled in, fastest first, NULL-terminated. */
extern const struct fewmul_simd *const fewmul_simd_impls[];

/*
 * Selection. "auto" picks the best valid implementation, "off" the scalar
 * engine, or an implementation by name ("avx2", "neon", "generic": the portable C
 * kernels of the vector layouts, for tests). Until something is selected,
 * the first use selects "auto".
 *
 * Return: 0, or -EINVAL for an unknown or invalid name.
 */
int fewmul_simd_select(const char *name);

/* Name of the selected implementation, "off" for the scalar engine. */
const char *fewmul_simd_name(void);

/* The selected implementation, NULL for the scalar engine. */
const struct fewmul_simd *fewmul_simd_get(void);

static inline int fewmul_simd_on(const struct fewmul_model *m)
{
	return !m->reference && m->cfg.weights != FEWMUL_MODEL_WEIGHTS_FULL &&
	       fewmul_simd_get();
}

/* Drivers called by the engine's phases; each returns 0 when it did the job. */
int fewmul_simd_fwd_sums(struct fewmul_model *m, u32 l, u32 j0, u32 j1,
			 struct fewmul_counters *ops);
int fewmul_simd_dx(struct fewmul_model *m, u32 l, u32 i, u32 np, u32 nn);
int fewmul_simd_dw(struct fewmul_model *m, u32 l, u32 i, s32 *u,
		   const s8 *qe, const u16 *zb, u32 nz, int upd);
int fewmul_simd_dt(struct fewmul_model *m, u32 l, u32 b0, u32 b1);
int fewmul_simd_dw_sum(struct fewmul_model *m, u32 l, u32 i, s32 *acc,
		       const s8 *qe, const u16 *zb, u32 nz);
int fewmul_simd_sample(struct fewmul_model *m, u32 l, u32 i0, u32 i1,
		       int test, struct fewmul_counters *ops);
int fewmul_simd_cols(struct fewmul_model *m, u32 l, u32 k0, u32 k1);

/* The drivers' vector sections, for the measurement build below. */
enum fewmul_simd_sec {
	FEWMUL_SEC_FWD,		/* forward list sums */
	FEWMUL_SEC_DX,		/* backward list sums, one row */
	FEWMUL_SEC_DW,		/* weight gradient and update, one row */
	FEWMUL_SEC_DT,		/* transpose of the deltas */
	FEWMUL_SEC_SAMPLE,	/* sampling and row lists, four rows */
	FEWMUL_SEC_COLS,	/* column lists, 64 columns */
	FEWMUL_SEC_NR
};

#ifdef FEWMUL_SIMD_TIMING
/*
 * Lengths of the vector sections (preemption is off inside them in the
 * kernel), measured by a userspace build with -DFEWMUL_SIMD_TIMING on
 * one thread (make bench-sections): bucket k counts sections shorter
 * than 2^k us (the last: the rest).
 */
#define FEWMUL_SEC_BUCKETS	12
struct fewmul_simd_timing {
	u64 count, sum_ns, max_ns;
	u64 bucket[FEWMUL_SEC_BUCKETS];
};

extern struct fewmul_simd_timing fewmul_simd_timing[FEWMUL_SEC_NR];
/* monotonic nanoseconds, from the measuring program */
u64 fewmul_simd_timing_now(void);
#endif

#endif /* _FEWMUL_SIMD_H */
