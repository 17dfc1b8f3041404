// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * fewmul core: choice of the vector kernels, their portable C versions,
 * and the drivers that run them in bounded vector sections.
 *
 * This file is compiled like the rest of the core (general registers
 * only). The vector kernels live in fewmul_avx2.c, compiled for AVX2, and
 * fewmul_neon.c, compiled with arm64's Advanced SIMD registers allowed.
 * The generic kernels below define what each kernel computes; the vector
 * ones must give the same bits (tests/unit/test_simd.c, KUnit).
 */
#include "fewmul_simd.h"

/* ---- generic kernels (the layouts of the vector path, in plain C) ---- */

static void fewmul_g_sum_lists(const s32 *base, const u32 *pos, u32 npos,
			       const u32 *neg, u32 nneg, s32 *out, u32 nl,
			       int acc)
{
	u32 c, k, p;

	for (c = 0; c < nl; c += 16, base += 16, out += 16) {
		u32 a[16];	/* mod 2^32; exact by the caller's bound */

		for (k = 0; k < 16; k++)
			a[k] = acc ? (u32)out[k] : 0;
		for (p = 0; p < npos; p++) {
			const s32 *r = base + ((u64)pos[p] << 1);

			for (k = 0; k < 16; k++)
				a[k] += (u32)r[k];
		}
		for (p = 0; p < nneg; p++) {
			const s32 *r = base + ((u64)neg[p] << 1);

			for (k = 0; k < 16; k++)
				a[k] -= (u32)r[k];
		}
		for (k = 0; k < 16; k++)
			out[k] = (s32)a[k];
	}
}

static void fewmul_g_relu_mask(s32 *d, const s32 *x, u32 nl)
{
	u32 b;

	for (b = 0; b < nl; b++)
		if (x[b] <= 0)
			d[b] = 0;
}

/* Output j's Horner sum over the levels (see fewmul_simd_dw()). */
static u32 fewmul_g_dw_one(const s32 *dt, const u32 *ent, const u16 *cnt,
			   u32 nlev, u32 j)
{
	u32 lv, p, a = 0;

	for (lv = nlev; lv-- > 0;) {
		a <<= 1;
		for (p = 0; p < cnt[2 * lv]; p++)
			a += (u32)dt[*ent++ + j];
		for (p = 0; p < cnt[2 * lv + 1]; p++)
			a -= (u32)dt[*ent++ + j];
	}
	return a;
}

static void fewmul_g_dw_row(const s32 *dt, const u32 *ent,
			    const u16 *cnt, u32 nlev, s32 *u, u32 n, int upd)
{
	u32 j;
	s32 a;

	for (j = 0; j < n; j++) {
		a = (s32)fewmul_g_dw_one(dt, ent, cnt, nlev, j);
		u[j] = fewmul_clamp_s32((s64)u[j] - fewmul_shift_s64(a, upd),
					-FEWMUL_ONE_W, FEWMUL_ONE_W);
	}
}

static void fewmul_g_dw_sum(const s32 *dt, const u32 *ent,
			    const u16 *cnt, u32 nlev, s32 *acc, u32 n)
{
	u32 j;

	for (j = 0; j < n; j++)
		acc[j] = (s32)fewmul_g_dw_one(dt, ent, cnt, nlev, j);
}

static void fewmul_g_transpose(const s32 *d, u32 dshift, u32 n, u32 nb,
			       s32 *dt, u32 dtshift)
{
	u32 j, b;

	for (b = 0; b < nb; b++)
		for (j = 0; j < n; j++)
			dt[((u64)b << dtshift) + j] = d[((u64)j << dshift) + b];
}

static void fewmul_g_sample4(u64 st[4][4], const s32 *u, s8 *t, u32 pitch,
			     u32 n)
{
	struct fewmul_rng rng;
	u32 k;

	for (k = 0; k < 4; k++, u += pitch, t += pitch) {
		memcpy(rng.s, st[k], sizeof(rng.s));
		fewmul_k_sample(u, t, n, FEWMUL_MODEL_WEIGHTS_TERNARY, 0, &rng);
		memcpy(st[k], rng.s, sizeof(rng.s));
	}
}

static void fewmul_g_row_list(const s8 *t, u32 n, u32 sshift, u32 *list,
			      u16 *cnt)
{
	fewmul_k_row_list(t, n, 1u << sshift, list, cnt);
}

static void fewmul_g_col_lists(const s8 *t, u32 r0, u32 r1, u32 rows,
			       u32 tpitch, u32 sshift, u32 *list, u32 lshift,
			       u16 *cnt)
{
	u32 i, c, last = rows - 1;

	if (!r0)
		for (c = 0; c < 128; c++)
			cnt[c] = 0;
	t += fewmul_mul_sa(r0, tpitch);
	for (i = r0; i < r1; i++, t += tpitch) {
		for (c = 0; c < 64; c++) {
			u32 *col = list + ((u64)c << lshift);

			if (t[c] > 0)
				col[cnt[2 * c]++] = i << sshift;
			else if (t[c] < 0)
				col[last - cnt[2 * c + 1]++] = i << sshift;
		}
	}
}

static void fewmul_g_sample_det(const s32 *u, s8 *t, u32 n, int binary)
{
	fewmul_k_sample(u, t, n, binary ? FEWMUL_MODEL_WEIGHTS_BINARY :
			FEWMUL_MODEL_WEIGHTS_TERNARY, 1, NULL);
}

static int fewmul_g_valid(void)
{
	return 1;
}

const struct fewmul_simd fewmul_simd_generic = {
	.name = "generic",
	.valid = fewmul_g_valid,
	.sum_lists = fewmul_g_sum_lists,
	.relu_mask = fewmul_g_relu_mask,
	.dw_row = fewmul_g_dw_row,
	.dw_sum = fewmul_g_dw_sum,
	.transpose = fewmul_g_transpose,
	.sample4 = fewmul_g_sample4,
	.row_list = fewmul_g_row_list,
	.col_lists = fewmul_g_col_lists,
	.sample_det = fewmul_g_sample_det,
};
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_simd_generic);

/* ---- selection ----------------------------------------------------------- */

/* The scalar engine; never called through, only compared against. */
static const struct fewmul_simd fewmul_simd_off = { .name = "off" };

/* Fastest first; "auto" takes the first valid one, else the scalar engine. */
const struct fewmul_simd *const fewmul_simd_impls[] = {
#ifdef FEWMUL_HAVE_AVX2
	&fewmul_simd_avx2,
#endif
#ifdef FEWMUL_HAVE_NEON
	&fewmul_simd_neon,
#endif
	NULL
};
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_simd_impls);

static const struct fewmul_simd *fewmul_simd_cur;	/* NULL: not chosen yet */

static const struct fewmul_simd *fewmul_simd_choose(const char *name)
{
	const struct fewmul_simd *const *p;

	if (fewmul_streq(name, "auto")) {
		for (p = fewmul_simd_impls; *p; p++)
			if ((*p)->valid())
				return *p;
		return &fewmul_simd_off;
	}
	if (fewmul_streq(name, "off"))
		return &fewmul_simd_off;
	if (fewmul_streq(name, "generic"))
		return &fewmul_simd_generic;
	for (p = fewmul_simd_impls; *p; p++)
		if (fewmul_streq(name, (*p)->name))
			return (*p)->valid() ? *p : NULL;
	return NULL;
}

int fewmul_simd_select(const char *name)
{
	const struct fewmul_simd *s = fewmul_simd_choose(name);

	if (!s)
		return -EINVAL;
	fewmul_write_once(fewmul_simd_cur, s);
	return 0;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_simd_select);

const struct fewmul_simd *fewmul_simd_get(void)
{
	const struct fewmul_simd *s = fewmul_read_once(fewmul_simd_cur);

	if (!s) {	/* every racing first caller picks the same */
		s = fewmul_simd_choose(fewmul_simd_default_name());
		if (!s)
			s = fewmul_simd_choose("auto");
		fewmul_write_once(fewmul_simd_cur, s);
	}
	return s == &fewmul_simd_off ? NULL : s;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_simd_get);

const char *fewmul_simd_name(void)
{
	const struct fewmul_simd *s = fewmul_simd_get();

	return s ? s->name : fewmul_simd_off.name;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_simd_name);

#ifdef FEWMUL_SIMD_TIMING
/*
 * Userspace measurement builds only (make bench-sections): the length of
 * every section, per driver, single-threaded (fewmul_simd.h).
 */
struct fewmul_simd_timing fewmul_simd_timing[FEWMUL_SEC_NR];
static u64 fewmul_sec_t0;

static void fewmul_sec_start(void)
{
	fewmul_sec_t0 = fewmul_simd_timing_now();
}

static void fewmul_sec_stop(int sec)
{
	struct fewmul_simd_timing *t = &fewmul_simd_timing[sec];
	u64 ns = fewmul_simd_timing_now() - fewmul_sec_t0;
	u32 k = 0;

	t->count++;
	t->sum_ns += ns;
	if (ns > t->max_ns)
		t->max_ns = ns;
	while (k + 1 < FEWMUL_SEC_BUCKETS && ns >= (1000ULL << k))
		k++;
	t->bucket[k]++;
}
#else
static inline void fewmul_sec_start(void)
{
}

static inline void fewmul_sec_stop(int sec)
{
	(void)sec;
}
#endif

/*
 * Open a vector section: the selected kernels, or the generic ones where
 * the host refuses the vector registers right now (same layouts, same
 * bits). fewmul_simd_leave() must follow with the same @on.
 */
static const struct fewmul_simd *fewmul_simd_enter(const struct fewmul_simd *s,
						   int *on)
{
	*on = s != &fewmul_simd_generic && fewmul_simd_begin();
	fewmul_sec_start();
	return *on ? s : &fewmul_simd_generic;
}

/* @sec: which driver's section ends (enum fewmul_simd_sec, for timing) */
static void fewmul_simd_leave(int on, int sec)
{
	fewmul_sec_stop(sec);
	if (on)
		fewmul_simd_end();
}

/*
 * Section sizes, chosen so that a section (preemption off in the kernel)
 * stays under ~50 us: about 2^17 lane-adds of list sums or weight
 * gradients (pieces of a unit's lanes or of a row's outputs), 2^14 values
 * of a transpose, 128 rows of column lists (a scatter into 64 lists,
 * ~0.2 us a row), four rows of sampling. make bench-sections measures
 * them (Documentation/results.rst).
 */
#define FEWMUL_SIMD_SECTION	0x20000u
#define FEWMUL_SIMD_COL_ROWS	128u

/*
 * A run of vector sections: sec_need() opens one, or closes the open one
 * and opens the next when @work more lane-adds would take it past
 * FEWMUL_SIMD_SECTION; sec_close() closes the last.
 */
struct fewmul_simd_run {
	const struct fewmul_simd *s;
	int on, open, id;
	u32 work;
};

static void fewmul_sec_need(struct fewmul_simd_run *r, u32 work)
{
	if (r->open && r->work + work > FEWMUL_SIMD_SECTION) {
		fewmul_simd_leave(r->on, r->id);
		r->open = 0;
	}
	if (!r->open) {
		r->s = fewmul_simd_enter(fewmul_simd_get(), &r->on);
		r->open = 1;
		r->work = 0;
	}
	r->work += work;
}

static void fewmul_sec_close(struct fewmul_simd_run *r)
{
	if (r->open)
		fewmul_simd_leave(r->on, r->id);
	r->open = 0;
}

/*
 * log2 of the lanes (or outputs) of one piece of a sum over @rows listed
 * rows: a power of two, at least @min, such that a piece is at most
 * FEWMUL_SIMD_SECTION lane-adds (or @min lanes).
 */
static u32 fewmul_sec_piece_shift(u32 rows, u32 min_shift)
{
	u32 r = fewmul_log2_ceil(rows + 1), sec = fewmul_log2_ceil(FEWMUL_SIMD_SECTION);

	return sec - r > min_shift ? sec - r : min_shift;
}

/* ---- drivers --------------------------------------------------------------- */

/* Lanes the kernels cover: the batch rounded up to 16 (<= bs). */
static inline u32 fewmul_simd_lanes(const struct fewmul_model *m)
{
	return (m->cur_batch + 15) & ~15u;
}

/*
 * Forward sums of units [j0, j1) of layer l through their column lists:
 * Y[l][j][b] = sum of X[l-1][i][b] over +1 weights - over -1 weights.
 * |X| < 2^18 and n[l-1] <= 4096, so every sum fits s32: always exact.
 *
 * Not blocked: a version that walked the lists in blocks of 32 input rows
 * (X block in L1, partial sums in Y) was 15% slower here, with the other
 * hardware thread of the core busy (Documentation/results.rst).
 */
int fewmul_simd_fwd_sums(struct fewmul_model *m, u32 l, u32 j0, u32 j1,
			 struct fewmul_counters *ops)
{
	u32 nin = m->cfg.width[l - 1], nl, j, c, pc, psh, rows = 0;
	struct fewmul_simd_run r = { .id = FEWMUL_SEC_FWD };

	if (!fewmul_simd_on(m))
		return -1;
	nl = fewmul_simd_lanes(m);
	for (j = j0; j < j1; j++) {
		const u32 *cl = m->cl[l] + ((u64)j << m->cl_shift[l]);
		u32 np = m->cn[l][2 * j], nn = m->cn[l][2 * j + 1];
		s32 *y = m->y[l] + ((u64)j << m->bshift);

		/* a unit's lanes in pieces of 2^psh (>= 16) lanes */
		psh = fewmul_sec_piece_shift(np + nn, 4);
		for (c = 0; c < nl; c += pc) {
			pc = nl - c < (1u << psh) ? nl - c : 1u << psh;
			fewmul_sec_need(&r, (np + nn + 1) << fewmul_log2_ceil(pc));
			r.s->sum_lists(m->x[l - 1] + c, cl, np, cl + nin - nn, nn,
				       y + c, pc, 0);
		}
		rows += np + nn;
	}
	fewmul_sec_close(&r);
	ops->adds += fewmul_mul_sa(rows, m->cur_batch);
	return 0;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_simd_fwd_sums);

/*
 * Delta of row i of layer l to the layer below through its row list, then
 * ReLU'. The caller checked max|D| * (np + nn) < 2^31 (exact in s32).
 */
int fewmul_simd_dx(struct fewmul_model *m, u32 l, u32 i, u32 np, u32 nn)
{
	const u32 *rl = m->rl[l] + ((u64)i << m->rl_shift[l]);
	s32 *out = m->d[l - 1] + ((u64)i << m->bshift);
	const s32 *x = m->x[l - 1] + ((u64)i << m->bshift);
	struct fewmul_simd_run r = { .id = FEWMUL_SEC_DX };
	u32 nl, c, pc, psh;

	if (!fewmul_simd_on(m))
		return -1;
	nl = fewmul_simd_lanes(m);
	psh = fewmul_sec_piece_shift(np + nn, 4);
	for (c = 0; c < nl; c += pc) {
		pc = nl - c < (1u << psh) ? nl - c : 1u << psh;
		fewmul_sec_need(&r, (np + nn + 1) << fewmul_log2_ceil(pc));
		r.s->sum_lists(m->d[l] + c, rl, np, rl + m->cfg.width[l] - nn, nn,
			       out + c, pc, 0);
		r.s->relu_mask(out + c, x + c, pc);
	}
	fewmul_sec_close(&r);
	return 0;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_simd_dx);

/*
 * Quantized-backprop update of row i of layer l. The samples with a
 * non-zero code are sorted by level |code| - 1 (counting sort, highest
 * level first) into the row's slice of the dx scratch (unused on this
 * path), so the kernel sums them by Horner's rule: one doubling per level
 * instead of one shift per sample. The caller checked
 * (max|D| << (emax - emin)) * nz < 2^31, which bounds every partial sum.
 */
static u32 *fewmul_simd_dw_sort(struct fewmul_model *m, u32 i,
				const s8 *qe, const u16 *zb, u32 nz, u32 nlev,
				u16 cnt[2 * FEWMUL_SIMD_MAX_LEVELS])
{
	u32 *ent = (u32 *)m->dx + ((u64)i << m->bshift);
	u32 dtshift = m->dt_shift + 1, z, k, at;
	u32 pos[2 * FEWMUL_SIMD_MAX_LEVELS];

	for (k = 0; k < 2 * nlev; k++)
		cnt[k] = 0;
	for (z = 0; z < nz; z++) {
		s8 c = qe[zb[z]];

		cnt[c > 0 ? 2 * (c - 1) : 2 * (-c - 1) + 1]++;
	}
	/* entries: level nlev - 1 first; per level +1 samples, then -1 */
	for (at = 0, k = 2 * nlev; k-- > 0;) {
		u32 kk = k ^ 1;		/* +1 slot (even) before -1 slot (odd) */

		pos[kk] = at;
		at += cnt[kk];
	}
	for (z = 0; z < nz; z++) {
		u32 b = zb[z];
		s8 c = qe[b];

		ent[pos[c > 0 ? 2 * (c - 1) : 2 * (-c - 1) + 1]++] = b << dtshift;
	}
	return ent;
}

/* The row's sums into out: an update of U (dw_row) or the sums (dw_sum). */
static int fewmul_simd_dw_run(struct fewmul_model *m, u32 l, u32 i, s32 *out,
			      const s8 *qe, const u16 *zb, u32 nz, int upd,
			      int sums)
{
	u32 nlev = (u32)(m->cfg.exp_max - m->cfg.exp_min) + 1;
	u32 n = m->cfg.width[l], j, pj, psh;
	u16 cnt[2 * FEWMUL_SIMD_MAX_LEVELS];
	struct fewmul_simd_run r = { .id = FEWMUL_SEC_DW };
	const s32 *dt = (const s32 *)m->dtpk;
	u32 *ent;

	if (!fewmul_simd_on(m) || nlev > FEWMUL_SIMD_MAX_LEVELS)
		return -1;
	ent = fewmul_simd_dw_sort(m, i, qe, zb, nz, nlev, cnt);
	/* the row's outputs in pieces of 2^psh (>= 64) */
	psh = fewmul_sec_piece_shift(nz + nlev, 6);
	for (j = 0; j < n; j += pj) {
		pj = n - j < (1u << psh) ? n - j : 1u << psh;
		fewmul_sec_need(&r, (nz + nlev) << fewmul_log2_ceil(pj));
		if (sums)
			r.s->dw_sum(dt + j, ent, cnt, nlev, out + j, pj);
		else
			r.s->dw_row(dt + j, ent, cnt, nlev, out + j, pj, upd);
	}
	fewmul_sec_close(&r);
	return 0;
}

int fewmul_simd_dw(struct fewmul_model *m, u32 l, u32 i, s32 *u,
		   const s8 *qe, const u16 *zb, u32 nz, int upd)
{
	return fewmul_simd_dw_run(m, l, i, u, qe, zb, nz, upd, 0);
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_simd_dw);

/*
 * The same sums without the update (data parallel): acc[j] for the row's
 * n[l] outputs, under the same bound.
 */
int fewmul_simd_dw_sum(struct fewmul_model *m, u32 l, u32 i, s32 *acc,
		       const s8 *qe, const u16 *zb, u32 nz)
{
	return fewmul_simd_dw_run(m, l, i, acc, qe, zb, nz, 0, 1);
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_simd_dw_sum);

/* D^T of layer l for samples [b0, b1), plain s32, into dtpk. */
int fewmul_simd_dt(struct fewmul_model *m, u32 l, u32 b0, u32 b1)
{
	u32 n = m->cfg.width[l], dtshift = m->dt_shift + 1, b, nb;
	const struct fewmul_simd *s;
	int on;

	if (!fewmul_simd_on(m))
		return -1;
	for (b = b0; b < b1; b += nb) {
		/* about 2^16 values per section */
		nb = (FEWMUL_SIMD_SECTION >> 3) >> fewmul_log2_ceil(n);
		if (nb < 8)
			nb = 8;
		if (nb > b1 - b)
			nb = b1 - b;
		s = fewmul_simd_enter(fewmul_simd_get(), &on);
		s->transpose(m->d[l] + b, m->bshift, n, nb,
			     (s32 *)m->dtpk + ((u64)b << dtshift), dtshift);
		fewmul_simd_leave(on, FEWMUL_SEC_DT);
	}
	return 0;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_simd_dt);

/*
 * Sampled (train) or test-time weights of rows [i0, i1) of layer l, then
 * each row's list for the backward pass. Stochastic ternary sampling runs
 * four rows at a time (one generator stream per row, drawn exactly as
 * fewmul_k_sample() draws them); deterministic weights are compares.
 */
int fewmul_simd_sample(struct fewmul_model *m, u32 l, u32 i0, u32 i1,
		       int test, struct fewmul_counters *ops)
{
	const struct fewmul_config *cfg = &m->cfg;
	u32 nout = cfg->width[l], i, k, r, nrow;
	int det = test || cfg->weights == FEWMUL_MODEL_WEIGHTS_BINARY;
	int binary = cfg->weights != FEWMUL_MODEL_WEIGHTS_TERNARY;
	const struct fewmul_simd *s;
	struct fewmul_rng rng;
	u64 st[4][4], off;
	int on;

	if (!fewmul_simd_on(m))
		return -1;
	off = fewmul_mul_sa(i0, nout);	/* row i0 of U and of t */
	for (i = i0; i < i1; i += nrow) {
		const s32 *u = m->w[l] + off;
		s8 *t0 = m->t[l] + off, *t = t0;

		nrow = i1 - i < 4 ? i1 - i : 4;
		for (k = 0; !det && k < nrow; k++) {
			fewmul_rng_seed(&rng, cfg->seed,
					fewmul_stream(FEWMUL_STREAM_SAMPLE, m->step,
						      l, i + k));
			memcpy(st[k], rng.s, sizeof(rng.s));
		}
		s = fewmul_simd_enter(fewmul_simd_get(), &on);
		if (!det && !binary && nrow == 4) {
			s->sample4(st, u, t, nout, nout);
		} else {
			for (r = 0; r < nrow; r++, u += nout, t += nout) {
				if (det) {
					s->sample_det(u, t, nout, binary);
					continue;
				}
				memcpy(rng.s, st[r], sizeof(rng.s));
				fewmul_k_sample(u, t, nout, cfg->weights, 0, &rng);
			}
		}
		for (k = 0; k < nrow; k++, t0 += nout, off += nout) {
			/* keep the adds: GCC would fold them into a multiply */
			__asm__("" : "+r" (off));
			s->row_list(t0, nout, m->bshift - 1,
				    m->rl[l] + ((u64)(i + k) << m->rl_shift[l]),
				    m->rn[l] + 2 * (i + k));
			ops->adds += nout;	/* one compare per weight */
		}
		fewmul_simd_leave(on, FEWMUL_SEC_SAMPLE);
	}
	return 0;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_simd_sample);

/* Column lists of 64-unit blocks [k0, k1) of layer l (the forward pass). */
int fewmul_simd_cols(struct fewmul_model *m, u32 l, u32 k0, u32 k1)
{
	u32 nin = m->cfg.width[l - 1], nout = m->cfg.width[l], k, j0, r;
	const struct fewmul_simd *s;
	int on;

	if (!fewmul_simd_on(m))
		return -1;
	for (k = k0; k < k1; k++) {
		j0 = k << 6;
		if (nout - j0 < 64) {	/* the last, narrow block: scalar */
			fewmul_k_col_lists(m->t[l] + j0, nin, nout, nout - j0,
					   m->bs / 2,
					   m->cl[l] + ((u64)j0 << m->cl_shift[l]),
					   m->cl_shift[l], m->cn[l] + 2 * j0);
			continue;
		}
		/* a scatter into 64 lists: FEWMUL_SIMD_COL_ROWS rows a section */
		for (r = 0; r < nin; r += FEWMUL_SIMD_COL_ROWS) {
			s = fewmul_simd_enter(fewmul_simd_get(), &on);
			s->col_lists(m->t[l] + j0, r,
				     nin - r < FEWMUL_SIMD_COL_ROWS ? nin :
				     r + FEWMUL_SIMD_COL_ROWS, nin, nout,
				     m->bshift - 1,
				     m->cl[l] + ((u64)j0 << m->cl_shift[l]),
				     m->cl_shift[l], m->cn[l] + 2 * j0);
			fewmul_simd_leave(on, FEWMUL_SEC_COLS);
		}
	}
	return 0;
}
EXPORT_SYMBOL_FEWMUL_CORE(fewmul_simd_cols);
