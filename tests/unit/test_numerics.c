// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Native tests of the engine's numerics against the paper's method, meant
 * to fail when the arithmetic is wrong (not only when it crashes or loses
 * determinism):
 *
 *  - a gradient check through shift-based batch norm (both scales),
 *    forward and backward, against a double-precision reference, for
 *    every weight mode (the reference uses the weights the step
 *    sampled), including the BN shift beta's update and the batch
 *    means, and on a short batch (fewer samples than the batch stride);
 *  - the scale BN_SHIFT2 chooses for a variance: the nearest of its grid
 *    to 1/sqrt(v) in the log domain;
 *  - the expectation of the quantized-backprop weight update, averaged
 *    over seeds through the engine's real q-code and weight-gradient
 *    paths (reference, scalar fast, vector), against the exact update;
 *  - the statistics of fewmul_k_qcodes() itself, and the exponent range
 *    of q(x);
 *  - golden test-time weights, directly and through every sampling path.
 *
 * Each was checked to fail on a deliberate mutant of kmod/core
 * (tests/mutants/, make mutants).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_eval_cases.h"
#include "fewmul_simd.h"
#include "unit/tap.h"

#include "unit/model_buf.h"

/* The vector implementations to run a test under ("off" first). */
static const char *const impls[] = { "off", "generic", "avx2" };
#define NIMPL (sizeof(impls) / sizeof(impls[0]))

/* ---- a small BN net and its double-precision reference ------------------ */

#define GC_L	2
#define GC_N0	12
#define GC_N1	10
#define GC_N2	4
#define GC_B	16
#define GC_MAXN	12

static u8 gc_img[GC_B][GC_N0], gc_lab[GC_B];
static const u8 *gc_ptr[GC_B];
static u32 gc_bn = FEWMUL_MODEL_BN_SHIFT;	/* the BN mode of gc_cfg() */

static void gc_cfg(struct fewmul_config *c, u32 weights, u32 qbp)
{
	memset(c, 0, sizeof(*c));
	c->nr_layers = GC_L;
	c->width[0] = GC_N0;
	c->width[1] = GC_N1;
	c->width[2] = GC_N2;
	c->weights = weights;
	c->qbp = qbp;
	c->bn = gc_bn;
	c->exp_min = -8;
	c->exp_max = 5;
	c->lr_shift_start = c->lr_shift_end = 6;
	c->epochs = 1;
	c->batch = GC_B;
	c->seed = 11;
}

/* Pixels in [20, 249]: every q(x) exponent inside the range. */
static void gc_data(void)
{
	u32 b, i;

	for (b = 0; b < GC_B; b++) {
		for (i = 0; i < GC_N0; i++)
			gc_img[b][i] = (u8)(20 + (b * 37 + i * 23 + b * i * 7) % 230);
		gc_lab[b] = (u8)(b % GC_N2);
		gc_ptr[b] = gc_img[b];
	}
}

/* Shadow weights in [-0.6, 0.6): some ternary test weights are non-zero. */
static void gc_weights(struct fewmul_model *m)
{
	u32 l, k;

	for (l = 1; l <= GC_L; l++)
		for (k = 0; k < m->cfg.width[l - 1] * m->cfg.width[l]; k++) {
			u32 h = (k + 1) * 2654435761u ^ (l * 40503u);

			h ^= h >> 15;
			h *= 2246822519u;
			h ^= h >> 13;
			m->w[l][k] = (s32)(h % (u32)(FEWMUL_ONE_W / 5 * 6)) -
				     FEWMUL_ONE_W / 5 * 3;
		}
}

/*
 * Reference of one training step of the BN net in double precision, on
 * the first nb samples (nb may be below the batch stride: the engine's
 * padding lanes must not count). Forward with the weights the step used
 * (t, or U for full), BN with the step's batch mean mu and power-of-two
 * scale 2^-sh or (1 + m/4) 2^-s (both read back from the engine: they are the integer
 * forward's choices, not part of the gradient; the exact batch means are
 * kept in r->mu to check the engine's mu); squared hinge; backward
 * through BN:
 *   dbeta = sum_b dz_b
 *   dy_b  = 2^-sh (dz_b - mean(dz) - s zhat_b),  zhat_b = (y_b - mu) 2^-sh
 * with s = AP2(sum(dz AP2(zhat)) / sum(zhat AP2(zhat))) the variance
 * term (the engine's multiply-free projection of dz on zhat) when
 * var_term, else s = 0.
 */
struct gc_ref {
	double z[GC_L + 1][GC_MAXN][GC_B];	/* BN outputs */
	double mu[GC_L + 1][GC_MAXN];		/* batch means before BN */
	double g[GC_L + 1][GC_MAXN * GC_MAXN];	/* dLoss/dw (units of W0) */
	double dbeta[GC_L + 1][GC_MAXN];
};

/* The BN scale of unit j of layer l the step chose (m->sh: its code). */
static double gc_scale(const struct fewmul_model *m, u32 l, u32 j)
{
	s32 c = m->sh[l][j];

	if (m->cfg.bn != FEWMUL_MODEL_BN_SHIFT2)
		return ldexp(1.0, -c);
	return ldexp(4 + (c & 3), -((c - (c & 3)) / 4 + 2));
}

static double gc_w(const struct fewmul_model *m, const s32 *u0, u32 l, u32 k)
{
	if (m->cfg.weights == FEWMUL_MODEL_WEIGHTS_FULL)
		return u0[k] / (double)FEWMUL_ONE_W;
	return m->t[l][k];
}

static double ap2(double v)
{
	double a = fabs(v), e;

	if (a == 0)
		return 0;
	e = floor(log2(a));
	if (a >= ldexp(181.0 / 128, (int)e))
		e += 1;
	return copysign(ldexp(1.0, (int)e), v);
}

static void gc_reference(const struct fewmul_model *m, s32 *const u0[],
			 const s32 *beta0[], int var_term, u32 nb,
			 struct gc_ref *r)
{
	static double x[GC_L + 1][GC_MAXN][GC_B], dz[GC_MAXN][GC_B];
	const struct fewmul_config *cfg = &m->cfg;
	u32 l, i, j, b, bs = m->bs;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < GC_N0; i++)
		for (b = 0; b < nb; b++)
			x[0][i][b] = gc_img[b][i] / 256.0;
	for (l = 1; l <= GC_L; l++) {
		u32 nin = cfg->width[l - 1], nout = cfg->width[l];

		for (j = 0; j < nout; j++) {
			double mu = m->mu[l][j] / 4096.0;
			double sc = gc_scale(m, l, j);

			for (b = 0; b < nb; b++) {
				double y = 0;

				for (i = 0; i < nin; i++)
					y += gc_w(m, u0[l], l, i * nout + j) * x[l - 1][i][b];
				r->mu[l][j] += y / nb;
				r->z[l][j][b] = (y - mu) * sc + beta0[l][j] / 4096.0;
				x[l][j][b] = r->z[l][j][b] > 0 ? r->z[l][j][b] : 0;
			}
		}
	}
	for (j = 0; j < GC_N2; j++)
		for (b = 0; b < nb; b++) {
			double t = j == gc_lab[b] ? 1 : -1;
			double mg = 1 - t * r->z[GC_L][j][b];

			dz[j][b] = mg > 0 ? -2 * t * mg : 0;
		}
	for (l = GC_L; l >= 1; l--) {
		u32 nin = cfg->width[l - 1], nout = cfg->width[l];
		static double dy[GC_MAXN][GC_B];

		for (j = 0; j < nout; j++) {
			double sc = gc_scale(m, l, j), mean = 0, s = 0;
			double num = 0, den = 0;

			for (b = 0; b < nb; b++)
				mean += dz[j][b];
			r->dbeta[l][j] = mean;
			mean /= nb;
			if (var_term) {
				for (b = 0; b < nb; b++) {
					double zh = r->z[l][j][b] - beta0[l][j] / 4096.0;

					num += dz[j][b] * ap2(zh);
					den += zh * ap2(zh);
				}
				s = den > 0 ? ap2(num / den) : 0;
			}
			for (b = 0; b < nb; b++)
				dy[j][b] = sc * (dz[j][b] - mean - s *
					(r->z[l][j][b] - beta0[l][j] / 4096.0));
		}
		for (i = 0; i < nin; i++)
			for (j = 0; j < nout; j++)
				for (b = 0; b < nb; b++)
					r->g[l][i * nout + j] += x[l - 1][i][b] * dy[j][b];
		if (l == 1)
			break;
		for (i = 0; i < nin; i++)
			for (b = 0; b < nb; b++) {
				double a = 0;

				for (j = 0; j < nout; j++)
					a += gc_w(m, u0[l], l, i * nout + j) * dy[j][b];
				/* ReLU' from the engine's own activations */
				dz[i][b] = m->x[l - 1][(u64)i * bs + b] > 0 ? a : 0;
			}
	}
}

/* The engine propagates BN's variance term (see numerics.rst). */
#define FEWMUL_TEST_BN_VAR_TERM 1

static void test_gradient_check_bn(u32 weights, u32 nb, const char *name)
{
	static s32 u0[GC_L + 1][GC_MAXN * GC_MAXN], b0[GC_L + 1][GC_MAXN];
	struct fewmul_counters o = { 0 };
	struct fewmul_config cfg;
	struct model_buf mb;
	static struct gc_ref r;
	s32 *u0p[GC_L + 1];
	const s32 *b0p[GC_L + 1];
	double zdev = 0, zmax = 0, gdev = 0, gmax = 0, bdev = 0, bmax = 0;
	double mdev = 0, mmax = 0;
	/* round(log2 B) of the batch actually in the step */
	int lb = (int)floor(log2(nb) + 0.5);
	u32 l, k, j, b, nw = 0, nclip = 0;

	tap_begin();
	gc_cfg(&cfg, weights, 0);
	gc_data();
	CHECK_EQ(model_new(&mb, &cfg), 0);
	gc_weights(&mb.m);
	for (l = 1; l <= GC_L; l++) {
		for (j = 0; j < cfg.width[l]; j++)
			mb.m.beta[l][j] = b0[l][j] = (s32)((j * 977 + l * 131) % 2048) - 1024;
		memcpy(u0[l], mb.m.w[l], cfg.width[l - 1] * cfg.width[l] * sizeof(s32));
		u0p[l] = u0[l];
		b0p[l] = b0[l];
	}
	CHECK_EQ(fewmul_batch_begin(&mb.m, gc_ptr, gc_lab, nb, 0), 0);
	CHECK_EQ(fewmul_run_serial(&mb.m, FEWMUL_PLAN_TRAIN, &o), 0);
	gc_reference(&mb.m, u0p, b0p, FEWMUL_TEST_BN_VAR_TERM, nb, &r);

	/* forward: the engine's batch means and BN output of the last layer */
	for (l = 1; l <= GC_L; l++)
		for (j = 0; j < cfg.width[l]; j++) {
			mmax = fmax(mmax, fabs(r.mu[l][j]));
			mdev = fmax(mdev, fabs(mb.m.mu[l][j] / 4096.0 - r.mu[l][j]));
		}
	for (j = 0; j < GC_N2; j++)
		for (b = 0; b < nb; b++) {
			double got = mb.m.y[GC_L][(u64)j * mb.m.bs + b] / 4096.0;

			zmax = fmax(zmax, fabs(r.z[GC_L][j][b]));
			zdev = fmax(zdev, fabs(got - r.z[GC_L][j][b]));
		}
	/*
	 * backward: dU = -g * 2^(2k - lr - round(log2 B)) (units of W0, Q24);
	 * dbeta (Q12) = -sum(dz) * 2^(-lr - round(log2 B))
	 */
	for (l = 1; l <= GC_L; l++) {
		double scale = ldexp(1.0, 2 * mb.m.w0_shift[l] - 6 - lb);

		for (k = 0; k < cfg.width[l - 1] * cfg.width[l]; k++) {
			double got = -(mb.m.w[l][k] - u0[l][k]) /
				     (double)FEWMUL_ONE_W / scale;

			nw++;
			if (mb.m.w[l][k] <= -FEWMUL_ONE_W ||
			    mb.m.w[l][k] >= FEWMUL_ONE_W) {
				nclip++;	/* clipped: the step is not the gradient */
				continue;
			}
			gmax = fmax(gmax, fabs(r.g[l][k]));
			gdev = fmax(gdev, fabs(got - r.g[l][k]));
		}
		for (j = 0; j < cfg.width[l]; j++) {
			double got = -(mb.m.beta[l][j] - b0[l][j]) / 4096.0 *
				     ldexp(1.0, 6 + lb);

			bmax = fmax(bmax, fabs(r.dbeta[l][j]));
			bdev = fmax(bdev, fabs(got - r.dbeta[l][j]));
		}
	}
	printf("#   mu: max %.3f dev %.5f; z: max %.3f dev %.5f; dW: max %.3f dev %.5f (%u of %u clipped); dbeta: max %.3f dev %.4f\n",
	       mmax, mdev, zmax, zdev, gmax, gdev, nclip, nw, bmax, bdev);
	CHECK(nclip * 5 < nw);
	CHECK(mmax > 0.5 && mdev < 0.002 * mmax + 0.002);
	CHECK(zmax > 0.5 && zdev < 0.002 * zmax + 0.002);
	CHECK(gmax > 0.1 && gdev < 0.01 * gmax + 0.002);
	/* dbeta's resolution is 2^(6+4-12) = 0.25 in these units */
	CHECK(bmax > 2 && bdev < 0.01 * bmax + 0.26);
	model_free(&mb);
	tap_end(name);
}

/*
 * Quantized backprop is unbiased: with deterministic binary weights the
 * forward pass and the deltas are the same for every seed, and only the
 * q(x) draws change, so the weight update averaged over seeds must equal
 * the exact update (qbp off: dW = D x^T with multiplies) up to the
 * sampling error. Checked per weight (5 standard errors of the mean plus
 * 2 LSB of rounding) and in aggregate: the least-squares gain of the mean
 * update on the exact update must be 1 within 2 %.
 */
#define QB_RUNS 600

static void test_qb_expectation(const char *impl, int reference)
{
	static s32 a0[8192];
	static double sum[GC_L + 1][GC_MAXN * GC_MAXN], sq[GC_L + 1][GC_MAXN * GC_MAXN];
	static s32 ex[GC_L + 1][GC_MAXN * GC_MAXN], u0[GC_L + 1][GC_MAXN * GC_MAXN];
	struct fewmul_counters o = { 0 };
	struct fewmul_config cfg;
	struct model_buf mb;
	double dot = 0, ee = 0, gain, worst = 0;
	u32 l, k, s, bad = 0, nw;
	char name[128];

	tap_begin();
	CHECK_EQ(fewmul_simd_select(impl), 0);
	gc_cfg(&cfg, FEWMUL_MODEL_WEIGHTS_BINARY, 1);
	gc_data();
	CHECK_EQ(model_new(&mb, &cfg), 0);
	mb.m.reference = reference;
	gc_weights(&mb.m);
	CHECK(mb.m.lay.size <= sizeof(a0));
	memcpy(a0, mb.arena, mb.m.lay.size);
	for (l = 1; l <= GC_L; l++)
		memcpy(u0[l], mb.m.w[l], cfg.width[l - 1] * cfg.width[l] * sizeof(s32));
	memset(sum, 0, sizeof(sum));
	memset(sq, 0, sizeof(sq));

	/* exact update */
	mb.m.cfg.qbp = 0;
	fewmul_batch_begin(&mb.m, gc_ptr, gc_lab, GC_B, 0);
	fewmul_run_serial(&mb.m, FEWMUL_PLAN_TRAIN, &o);
	for (l = 1; l <= GC_L; l++)
		for (k = 0; k < cfg.width[l - 1] * cfg.width[l]; k++)
			ex[l][k] = mb.m.w[l][k] - u0[l][k];
	/* quantized updates, one seed each */
	mb.m.cfg.qbp = 1;
	for (s = 0; s < QB_RUNS; s++) {
		memcpy(mb.arena, a0, mb.m.lay.size);
		mb.m.step = 0;
		mb.m.cfg.seed = 1000 + s;
		fewmul_batch_begin(&mb.m, gc_ptr, gc_lab, GC_B, 0);
		fewmul_run_serial(&mb.m, FEWMUL_PLAN_TRAIN, &o);
		for (l = 1; l <= GC_L; l++)
			for (k = 0; k < cfg.width[l - 1] * cfg.width[l]; k++) {
				double d = mb.m.w[l][k] - u0[l][k];

				sum[l][k] += d;
				sq[l][k] += d * d;
			}
	}
	for (l = 1; l <= GC_L; l++) {
		nw = cfg.width[l - 1] * cfg.width[l];
		for (k = 0; k < nw; k++) {
			double mean = sum[l][k] / QB_RUNS;
			double var = sq[l][k] / QB_RUNS - mean * mean;
			double se = sqrt(var > 0 ? var / QB_RUNS : 0);
			double dev = fabs(mean - ex[l][k]);

			dot += mean * ex[l][k];
			ee += (double)ex[l][k] * ex[l][k];
			if (dev > 5 * se + 2)
				bad++;
			if (dev / (5 * se + 2) > worst)
				worst = dev / (5 * se + 2);
		}
	}
	gain = ee > 0 ? dot / ee : 0;
	printf("#   %s%s: gain %.4f (want 1 +- 0.02), %u weights off by > 5 SE + 2 LSB (worst %.2f of the bound), rms exact update %.0f LSB\n",
	       impl, reference ? " reference" : "", gain, bad, worst,
	       sqrt(ee / (GC_N0 * GC_N1 + GC_N1 * GC_N2)));
	CHECK(ee > 0);
	CHECK(fabs(gain - 1) < 0.02);
	CHECK_EQ(bad, 0);
	model_free(&mb);
	fewmul_simd_select("auto");
	snprintf(name, sizeof(name),
		 "QB weight update is unbiased through the engine (%s%s, %u seeds)",
		 impl, reference ? ", reference paths" : "", QB_RUNS);
	tap_end(name);
}

/*
 * fewmul_k_qcodes(): each code is one of the two powers of two around x
 * (below 2^emin: 0 or 2^emin), and the mean over 2^14 streams is x within
 * 6 standard errors.
 */
static void test_qcodes_stats(void)
{
	/* 1, 3, -2 are below 2^emin (4 in Q(FA) for emin = -10) */
	static const s32 xs[] = { 5, 37, 100, 777, 1234, 2048, 4095, 4097, 6000,
				  20000, 65535, -3000, -17, 0, 1, 3, -2 };
	const u32 n = 1u << 14, nx = sizeof(xs) / sizeof(xs[0]);
	const int emin = -10, emax = 5;
	const double pmin = ldexp(1.0, emin);
	double sum[24] = { 0 };
	u32 r, k, wrong = 0, zeros[24] = { 0 };
	u16 zb[24];
	s8 qe[24];
	struct fewmul_rng rng;

	tap_begin();
	for (r = 0; r < n; r++) {
		u32 nz, nzero = 0;

		fewmul_rng_seed(&rng, 7, r);
		nz = fewmul_k_qcodes(xs, nx, emin, emax, &rng, qe, zb);
		for (k = 0; k < nx; k++) {
			double ax = fabs(xs[k] / 4096.0), f, v;
			int c = qe[k];

			nzero += !c;
			if (!xs[k]) {
				wrong += c != 0;
				continue;
			}
			v = c > 0 ? ldexp(1.0, c - 1 + emin) :
			    c < 0 ? -ldexp(1.0, -c - 1 + emin) : 0;
			f = floor(log2(ax));
			if (ax < pmin) {	/* 0 or +-2^emin */
				zeros[k] += !c;
				wrong += c && fabs(v) != pmin;
			} else if (fabs(v) != ldexp(1.0, (int)f) &&
				   fabs(v) != ldexp(1.0, (int)f + 1)) {
				wrong++;
			}
			if (c && (v < 0) != (xs[k] < 0))
				wrong++;
			sum[k] += v;
		}
		wrong += nz != nx - nzero;
	}
	CHECK_EQ(wrong, 0);
	for (k = 0; k < nx; k++) {
		double x = xs[k] / 4096.0, lo, p, se;

		if (!xs[k])
			continue;
		if (fabs(x) < pmin) {
			/* both outcomes occur: rounded, not clipped */
			CHECK(zeros[k] > 0 && zeros[k] < n);
			lo = pmin;
			p = fabs(x) / pmin;
		} else {
			lo = ldexp(1.0, (int)floor(log2(fabs(x))));
			p = fabs(x) / lo - 1;
		}
		se = lo * sqrt(p * (1 - p) / n);
		if (fabs(sum[k] / n - x) > 6 * se + 1e-12) {
			printf("#   x = %g: mean of q(x) %g, standard error %g\n",
			       x, sum[k] / n, se);
			CHECK(0);
		}
	}
	tap_end("k_qcodes: q(x) is a neighbouring power of two (below 2^emin: 0 or 2^emin) and E[q(x)] = x (6 sigma)");
}

/*
 * The exponent range of q(x) is closed, [emin, emax]: a power of two
 * inside it is exact whatever the draw (no rounding), a value x below
 * 2^emin is 2^emin when the draw's top emin + FA bits are below x and 0
 * otherwise, one at or above 2^(emax+1) is 2^emax; and
 * fewmul_k_qcodes() codes the range as levels 1 .. emax - emin + 1.
 */
static void test_qpow2_range(void)
{
	static const u32 rnds[] = { 0, 1, 0x80000000u, 0xfffffffeu, 0xffffffffu,
				    0x12345678u, 0x9e3779b9u };
	/* at or above 2^(emax + 1): 64, 96, 100.5, 4095 */
	static const s32 big[] = { 64 << FEWMUL_FA, 96 << FEWMUL_FA,
				   (201 << FEWMUL_FA) / 2, 4095 << FEWMUL_FA };
	const int emin = -10, emax = 5, nr = sizeof(rnds) / sizeof(rnds[0]);
	s32 xs[16];
	s8 qe[16];
	u16 zb[16];
	struct fewmul_rng rng;
	int k, r, s, e, bad = 0;
	u32 nz, b;

	tap_begin();
	for (r = 0; r < nr; r++) {
		/* every power of two of the range, both signs: exact */
		for (k = emin; k <= emax; k++) {
			s32 x = 1 << (k + FEWMUL_FA);

			e = 99;
			s = fewmul_qpow2(x, FEWMUL_FA, emin, emax, rnds[r], &e);
			bad += s != 1 || e != k;
			e = 99;
			s = fewmul_qpow2(-x, FEWMUL_FA, emin, emax, rnds[r], &e);
			bad += s != -1 || e != k;
		}
		/* below the range: 2^-12, 2^-11, 3 * 2^-12 */
		for (k = 1; k <= 3; k++) {
			int up = (rnds[r] >> (32 - (emin + FEWMUL_FA))) < (u32)k;

			e = 99;
			s = fewmul_qpow2(k, FEWMUL_FA, emin, emax, rnds[r], &e);
			bad += s != up || e != (up ? emin : 99);
			e = 99;
			s = fewmul_qpow2(-k, FEWMUL_FA, emin, emax, rnds[r], &e);
			bad += s != -up || e != (up ? emin : 99);
		}
		/* at or above 2^(emax + 1) (big[]): 2^emax */
		for (k = 0; k < 4; k++) {
			e = 99;
			s = fewmul_qpow2(big[k], FEWMUL_FA, emin, emax, rnds[r], &e);
			bad += s != 1 || e != emax;
			e = 99;
			s = fewmul_qpow2(-big[k], FEWMUL_FA, emin, emax, rnds[r], &e);
			bad += s != -1 || e != emax;
		}
	}
	CHECK_EQ(bad, 0);
	/* codes: 2^emin -> 1, 2^emax -> emax - emin + 1, and the negatives */
	xs[0] = 1 << (emin + FEWMUL_FA);
	xs[1] = 1 << (emax + FEWMUL_FA);
	xs[2] = -xs[0];
	xs[3] = -xs[1];
	xs[4] = 64 << FEWMUL_FA;
	xs[5] = 0;
	xs[6] = 3;	/* below 2^emin: code 1 or 0 */
	fewmul_rng_seed(&rng, 5, 0);
	nz = fewmul_k_qcodes(xs, 7, emin, emax, &rng, qe, zb);
	CHECK_EQ(nz, 5u + !!qe[6]);
	for (b = 0; b < 5; b++)
		CHECK_EQ(zb[b], b);
	if (qe[6])
		CHECK_EQ(zb[5], 6);
	CHECK_EQ(qe[0], 1);
	CHECK_EQ(qe[1], emax - emin + 1);
	CHECK_EQ(qe[2], -1);
	CHECK_EQ(qe[3], -(emax - emin + 1));
	CHECK_EQ(qe[4], emax - emin + 1);
	CHECK_EQ(qe[5], 0);
	CHECK(qe[6] == 0 || qe[6] == 1);
	tap_end("q(x) exponent range [emin, emax]: exact inside, 0 or 2^emin below, 2^emax above, coded 1..emax-emin+1");
}

/* One BN layer nin -> nout of weight mode w, batch 16, exponents -4..3. */
static void one_layer_cfg(struct fewmul_config *cfg, u32 nin, u32 nout, u32 w)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->nr_layers = 1;
	cfg->width[0] = nin;
	cfg->width[1] = nout;
	cfg->weights = w;
	cfg->bn = FEWMUL_MODEL_BN_SHIFT;
	cfg->exp_min = -4;
	cfg->exp_max = 3;
	cfg->lr_shift_start = cfg->lr_shift_end = 4;
	cfg->epochs = 1;
	cfg->batch = 16;
}

/* Golden test-time weights, directly and through every sampling path. */
static void test_eval_weights(void)
{
	static const u32 modes[] = { FEWMUL_MODEL_WEIGHTS_TERNARY, FEWMUL_MODEL_WEIGHTS_BINARY,
				     FEWMUL_MODEL_WEIGHTS_BINARY_STOCH };
	struct fewmul_counters o = { 0 };
	struct fewmul_phase ph;
	struct fewmul_config cfg;
	struct model_buf mb;
	u32 k, i, md, p, bad = 0, runs = 0;

	tap_begin();
	CHECK_EQ(fewmul_eval_w_check(), 0);
	for (p = 0; p < NIMPL + 1; p++) {
		if (p < NIMPL && fewmul_simd_select(impls[p]))
			continue;	/* not on this CPU */
		for (md = 0; md < 3; md++) {
			one_layer_cfg(&cfg, 3, FEWMUL_EVAL_W_CASES, modes[md]);
			CHECK_EQ(model_new(&mb, &cfg), 0);
			mb.m.reference = p == NIMPL;
			for (i = 0; i < 3; i++)
				for (k = 0; k < FEWMUL_EVAL_W_CASES; k++)
					mb.m.w[1][i * FEWMUL_EVAL_W_CASES + k] =
						fewmul_eval_w_cases[k].u;
			ph.kind = FEWMUL_PH_SAMPLE_TEST;
			ph.layer = 1;
			ph.count = 3;
			fewmul_phase_run(&mb.m, &ph, 0, 3, &o);
			for (i = 0; i < 3; i++)
				for (k = 0; k < FEWMUL_EVAL_W_CASES; k++) {
					s8 want = modes[md] == FEWMUL_MODEL_WEIGHTS_TERNARY ?
						  fewmul_eval_w_cases[k].ternary :
						  fewmul_eval_w_cases[k].binary;

					if (mb.m.t[1][i * FEWMUL_EVAL_W_CASES + k] != want) {
						printf("#   %s mode %u u %d: got %d want %d\n",
						       p < NIMPL ? impls[p] : "reference",
						       modes[md], fewmul_eval_w_cases[k].u,
						       mb.m.t[1][i * FEWMUL_EVAL_W_CASES + k], want);
						bad++;
					}
				}
			runs++;
			model_free(&mb);
		}
	}
	fewmul_simd_select("auto");
	CHECK_EQ(bad, 0);
	CHECK(runs >= 9);
	tap_end("test-time weights: ternary |U| > 1/2, binary sign(U), on every path");
}

/*
 * Sampled test weights: the test-time sampling phase with test_weights =
 * SAMPLED gives exactly the weights the training step at the model's step
 * samples, on every path and in every stochastic mode; ternary's differ
 * from the deterministic ones.
 */
static void test_sampled_test_weights(void)
{
	static const u32 modes[] = { FEWMUL_MODEL_WEIGHTS_TERNARY, FEWMUL_MODEL_WEIGHTS_BINARY,
				     FEWMUL_MODEL_WEIGHTS_BINARY_STOCH };
	const u32 nin = 5, nout = 96, n = nin * nout;
	struct fewmul_counters o = { 0 };
	struct fewmul_phase ph;
	struct fewmul_config cfg;
	struct model_buf a, b;
	struct fewmul_rng rng;
	u32 i, md, p, bad = 0, runs = 0, det_diff = 0;

	tap_begin();
	for (p = 0; p < NIMPL + 1; p++) {
		if (p < NIMPL && fewmul_simd_select(impls[p]))
			continue;	/* not on this CPU */
		for (md = 0; md < 3; md++) {
			one_layer_cfg(&cfg, nin, nout, modes[md]);
			cfg.seed = 11 + md;
			CHECK_EQ(model_new(&a, &cfg), 0);
			CHECK_EQ(model_new(&b, &cfg), 0);
			a.m.reference = b.m.reference = p == NIMPL;
			fewmul_rng_seed(&rng, 3, md);
			for (i = 0; i < n; i++)
				a.m.w[1][i] = b.m.w[1][i] = (s32)(fewmul_rng_u32(&rng) %
						(2 * FEWMUL_ONE_W + 1)) - FEWMUL_ONE_W;
			a.m.step = b.m.step = 7;
			ph.layer = 1;
			ph.count = nin;
			ph.kind = FEWMUL_PH_SAMPLE;
			fewmul_phase_run(&b.m, &ph, 0, nin, &o);
			ph.kind = FEWMUL_PH_SAMPLE_TEST;
			a.m.test_weights = FEWMUL_TESTW_SAMPLED;
			fewmul_phase_run(&a.m, &ph, 0, nin, &o);
			bad += memcmp(a.m.t[1], b.m.t[1], n) != 0;
			if (modes[md] == FEWMUL_MODEL_WEIGHTS_TERNARY) {
				a.m.test_weights = FEWMUL_TESTW_DET;
				fewmul_phase_run(&a.m, &ph, 0, nin, &o);
				det_diff += memcmp(a.m.t[1], b.m.t[1], n) != 0;
			}
			runs++;
			model_free(&a);
			model_free(&b);
		}
	}
	fewmul_simd_select("auto");
	CHECK_EQ(bad, 0);
	CHECK(runs >= 9);
	CHECK_EQ(det_diff, runs / 3);
	tap_end("sampled test weights are the training step's sample, on every path");
}

/*
 * Real-valued test weights: calibrating and evaluating a ternary model
 * with test_weights = REAL must give exactly what the same parameters
 * give as a full model (the same multiply path), on the fast and the
 * reference paths; and the deterministic weights must give another
 * result.
 */
static void test_real_test_weights(void)
{
	struct fewmul_counters o = { 0 };
	struct fewmul_config cfg;
	struct model_buf a, f;
	u32 ref, j, b, diff = 0, same_det = 1;
	s32 ydet[GC_N2 * GC_B];

	tap_begin();
	gc_data();
	for (ref = 0; ref < 2; ref++) {
		gc_cfg(&cfg, FEWMUL_MODEL_WEIGHTS_TERNARY, 1);
		CHECK_EQ(model_new(&a, &cfg), 0);
		gc_weights(&a.m);
		cfg.weights = FEWMUL_MODEL_WEIGHTS_FULL;
		CHECK_EQ(model_new(&f, &cfg), 0);
		memcpy(f.arena, a.arena, a.m.lay.size);
		a.m.reference = f.m.reference = ref;
		/* deterministic first, for comparison */
		fewmul_batch_begin(&a.m, gc_ptr, gc_lab, GC_B, 0);
		fewmul_calib_begin(&a.m);
		fewmul_run_serial(&a.m, FEWMUL_PLAN_CALIB, &o);
		fewmul_calib_end(&a.m, NULL);
		fewmul_run_serial(&a.m, FEWMUL_PLAN_EVAL, &o);
		for (j = 0; j < GC_N2; j++)
			for (b = 0; b < GC_B; b++)
				ydet[j * GC_B + b] = a.m.y[GC_L][(u64)j * a.m.bs + b];
		a.m.test_weights = FEWMUL_TESTW_REAL;
		fewmul_calib_begin(&a.m);
		fewmul_run_serial(&a.m, FEWMUL_PLAN_CALIB, &o);
		fewmul_calib_end(&a.m, NULL);
		fewmul_run_serial(&a.m, FEWMUL_PLAN_EVAL, &o);
		fewmul_batch_begin(&f.m, gc_ptr, gc_lab, GC_B, 0);
		fewmul_calib_begin(&f.m);
		fewmul_run_serial(&f.m, FEWMUL_PLAN_CALIB, &o);
		fewmul_calib_end(&f.m, NULL);
		fewmul_run_serial(&f.m, FEWMUL_PLAN_EVAL, &o);
		CHECK(memcmp(a.arena, f.arena, a.m.lay.size) == 0);
		for (j = 0; j < GC_N2; j++)
			for (b = 0; b < GC_B; b++) {
				s32 y = a.m.y[GC_L][(u64)j * a.m.bs + b];

				diff += y != f.m.y[GC_L][(u64)j * f.m.bs + b];
				same_det &= y == ydet[j * GC_B + b];
			}
		model_free(&a);
		model_free(&f);
	}
	CHECK_EQ(diff, 0);
	CHECK(!same_det);
	tap_end("real test weights: a ternary model evaluates exactly as a full one");
}

/*
 * Saturated deltas: with every image of the batch the same and layer 1's
 * beta at +2, each layer's batch variance is BN's eps (scale 2^4), so the
 * deltas grow 16-fold through each BN layer and those of layer 1 reach
 * the clip bound |D| = 2^10 - 2^-16. The step counts exactly the deltas
 * BN's backward leaves at the bound (what it reads cannot be there: the
 * 4 deltas of layer 2 that make one of layer 1 are far below it), the
 * same on every path; an ordinary step (the gradient check's data)
 * saturates none. Divisions per unit of a training step: the batch mean
 * and variance forward, the mean backward and the variance term's
 * quotient when the term exists (not when every zh is 0).
 */
#define T_D_MAX	((1 << 26) - 1)

static void test_saturation(void)
{
	struct fewmul_counters o;
	struct fewmul_config cfg;
	struct model_buf mb;
	u64 want, first = 0;
	u32 p, l, j, b, runs = 0;
	s32 maxd2;

	tap_begin();
	for (p = 0; p < NIMPL + 1; p++) {
		if (p < NIMPL && fewmul_simd_select(impls[p]))
			continue;	/* not on this CPU */
		gc_cfg(&cfg, FEWMUL_MODEL_WEIGHTS_BINARY, 0);
		gc_data();
		CHECK_EQ(model_new(&mb, &cfg), 0);
		mb.m.reference = p == NIMPL;
		gc_weights(&mb.m);
		memset(&o, 0, sizeof(o));
		CHECK_EQ(fewmul_batch_begin(&mb.m, gc_ptr, gc_lab, GC_B, 0), 0);
		CHECK_EQ(fewmul_run_serial(&mb.m, FEWMUL_PLAN_TRAIN, &o), 0);
		CHECK_EQ(o.sats, 0);
		/* BN's two forward, the backward mean and s's quotient */
		CHECK_EQ(o.divs, 4 * (GC_N1 + GC_N2));
		model_free(&mb);

		for (b = 0; b < GC_B; b++)
			gc_ptr[b] = gc_img[0];
		CHECK_EQ(model_new(&mb, &cfg), 0);
		mb.m.reference = p == NIMPL;
		gc_weights(&mb.m);
		for (j = 0; j < GC_N1; j++)
			mb.m.beta[1][j] = 2 << FEWMUL_FA;
		memset(&o, 0, sizeof(o));
		CHECK_EQ(fewmul_batch_begin(&mb.m, gc_ptr, gc_lab, GC_B, 0), 0);
		CHECK_EQ(fewmul_run_serial(&mb.m, FEWMUL_PLAN_TRAIN, &o), 0);
		want = 0;
		maxd2 = 0;
		for (l = 1; l <= GC_L; l++)
			for (j = 0; j < cfg.width[l]; j++)
				for (b = 0; b < GC_B; b++) {
					s32 d = mb.m.d[l][(u64)j * mb.m.bs + b];

					want += d == T_D_MAX || d == -T_D_MAX;
					if (l == GC_L && (d > maxd2 || -d > maxd2))
						maxd2 = d > 0 ? d : -d;
				}
		CHECK(maxd2 < T_D_MAX / (2 * GC_N2));
		/* zh = 0 everywhere: no variance term, so no quotient for it */
		CHECK_EQ(o.divs, 3 * (GC_N1 + GC_N2));
		CHECK(want > 0);
		CHECK_EQ(o.sats, want);
		if (!runs)
			first = o.sats;
		CHECK_EQ(o.sats, first);
		runs++;
		model_free(&mb);
	}
	fewmul_simd_select("auto");
	gc_data();
	printf("#   %llu of %u deltas saturated\n", (unsigned long long)first,
	       (GC_N1 + GC_N2) * GC_B);
	CHECK(runs >= 3);
	tap_end("saturated deltas counted exactly, the same on every path; divisions per step");
}

/*
 * BN_SHIFT2's scale for a variance v8 (Q8): (4 + m) 2^-(s + 2) must be
 * the grid value nearest to 1/sqrt(v) in the log domain (up to the
 * 2^-14 resolution of the engine's comparison, near a boundary), for
 * every v8 below 2^16 and a sweep of larger ones up to 2^31 - 1; and
 * BN_SHIFT's code is the shift of round(log2(v) / 2) as numerics.rst says.
 */
static double code2_log2(s32 c)
{
	return log2(4 + (c & 3)) - ((c - (c & 3)) / 4 + 2);
}

static void test_bn_code2(void)
{
	u32 bad = 0, n = 0, m_seen = 0;
	double worst = 0;
	u64 v;

	tap_begin();
	for (v = 1; v < 0x7fffffff; v += v < 65536 ? 1 : v / 4093 + 1) {
		s32 c = fewmul_bn_code(FEWMUL_MODEL_BN_SHIFT2, (s32)v);
		double want = -0.5 * (log2((double)v) - 8);
		double err = fabs(code2_log2(c) - want), best = 1e9;
		int s, mm;

		/* the nearest grid value, by search */
		for (s = -40; s <= 40; s++)
			for (mm = 0; mm < 4; mm++)
				best = fmin(best, fabs(log2(4 + mm) - (s + 2) - want));
		if (err > best + 1e-4 || err > 0.161) {
			if (bad++ < 5)
				printf("#   v8 %llu: code %d, log2 scale %.5f, want %.5f (best error %.5f)\n",
				       (unsigned long long)v, c, code2_log2(c), want, best);
		}
		worst = fmax(worst, err);
		m_seen |= 1u << (c & 3);
		n++;
	}
	printf("#   %u variances, worst |log2 error| %.4f (grid half-step 0.161)\n",
	       n, worst);
	CHECK_EQ(bad, 0);
	CHECK_EQ(m_seen, 15);
	CHECK(worst > 0.15 && worst <= 0.161);
	/* the power-of-two mode: round(log2 v / 2) with AP2's sqrt(2) */
	CHECK_EQ(fewmul_bn_code(FEWMUL_MODEL_BN_SHIFT, 256), 0);
	CHECK_EQ(fewmul_bn_code(FEWMUL_MODEL_BN_SHIFT, 1024), 1);
	CHECK_EQ(fewmul_bn_code(FEWMUL_MODEL_BN_SHIFT, 64), -1);
	CHECK_EQ(fewmul_bn_code(FEWMUL_MODEL_BN_SHIFT2, 256), 0);
	CHECK_EQ(fewmul_bn_code(FEWMUL_MODEL_BN_SHIFT2, 1024), 4 * 1 + 0);
	/* v = 2: 1/sqrt(2) = 0.707 rounds to 6/8 = (1 + 2/4) 2^-1 */
	CHECK_EQ(fewmul_bn_code(FEWMUL_MODEL_BN_SHIFT2, 512), 4 * 1 + 2);
	tap_end("BN shift2: the scale is the nearest (1 + m/4) 2^-s to 1/sqrt(v)");
}

int main(void)
{
	u32 p;

	test_eval_weights();
	test_real_test_weights();
	test_sampled_test_weights();
	test_qcodes_stats();
	test_qpow2_range();
	test_saturation();
	test_gradient_check_bn(FEWMUL_MODEL_WEIGHTS_FULL, GC_B,
			       "gradient check through BN (full): forward, dW and dbeta");
	test_gradient_check_bn(FEWMUL_MODEL_WEIGHTS_BINARY, GC_B,
			       "gradient check through BN (binary): forward, dW and dbeta");
	test_gradient_check_bn(FEWMUL_MODEL_WEIGHTS_BINARY_STOCH, GC_B,
			       "gradient check through BN (binary-stoch, sampled weights)");
	test_gradient_check_bn(FEWMUL_MODEL_WEIGHTS_TERNARY, GC_B,
			       "gradient check through BN (ternary, sampled weights)");
	test_gradient_check_bn(FEWMUL_MODEL_WEIGHTS_BINARY, 12,
			       "gradient check through BN (binary, a short batch of 12 of 16)");
	test_gradient_check_bn(FEWMUL_MODEL_WEIGHTS_FULL, 12,
			       "gradient check through BN (full, a short batch of 12 of 16)");
	test_bn_code2();
	gc_bn = FEWMUL_MODEL_BN_SHIFT2;
	test_gradient_check_bn(FEWMUL_MODEL_WEIGHTS_FULL, GC_B,
			       "gradient check through BN shift2 (full): forward, dW and dbeta");
	test_gradient_check_bn(FEWMUL_MODEL_WEIGHTS_TERNARY, GC_B,
			       "gradient check through BN shift2 (ternary, sampled weights)");
	test_gradient_check_bn(FEWMUL_MODEL_WEIGHTS_BINARY, 12,
			       "gradient check through BN shift2 (binary, a short batch of 12 of 16)");
	gc_bn = FEWMUL_MODEL_BN_SHIFT;
	test_qb_expectation("off", 1);
	for (p = 0; p < NIMPL; p++)
		if (!fewmul_simd_select(impls[p]))
			test_qb_expectation(impls[p], 0);
	fewmul_simd_select("auto");
	return tap_done();
}
