// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Native tests of the vector kernels (ASan+UBSan): every kernel of every
 * implementation this CPU runs against its scalar reference
 * (tests/core_simd_cases.h), then whole training runs with the vector
 * path on and off, which must give bit-identical weights and counters for
 * any split of the phases into worker ranges.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_simd_cases.h"
#include "unit/tap.h"
#include "unit/model_buf.h"

static void report(const char *what, u32 size, u32 seed)
{
	printf("#   %s differs from the reference: size %u, seed %u\n", what,
	       size, seed);
}

static void test_kernels(const struct fewmul_simd *s)
{
	char name[96];

	tap_begin();
	CHECK_EQ(fsc_run_all(s, report), 0);
	snprintf(name, sizeof(name), "%s kernels equal the scalar references", s->name);
	tap_end(name);
}

/* ---- whole runs ---------------------------------------------------------- */

struct run {
	struct model_buf mb;
	struct fewmul_counters ops;
	u8 *img;
	const u8 **ptr;
	u8 *lab;
};

static int run_new(struct run *r, const struct fewmul_config *cfg)
{
	memset(r, 0, sizeof(*r));
	r->img = malloc((size_t)cfg->batch * cfg->width[0]);
	r->ptr = malloc(cfg->batch * sizeof(*r->ptr));
	r->lab = malloc(cfg->batch);
	if (!r->img || !r->ptr || !r->lab)
		return -1;
	return model_new(&r->mb, cfg);
}

static void run_free(struct run *r)
{
	model_free(&r->mb);
	free(r->img);
	free(r->ptr);
	free(r->lab);
}

/*
 * nsteps training steps on random images (every third batch partial),
 * each phase split into nsplit ranges run in a scrambled order, then a
 * calibration and an evaluation pass. Returns the errors of the eval.
 */
static u32 run_train(struct run *r, const char *impl, u32 nsteps, u32 nsplit)
{
	const struct fewmul_config *cfg = &r->mb.m.cfg;
	struct fewmul_phase ph[FEWMUL_MAX_PHASES];
	u32 s, b, p, k, nb, n0 = cfg->width[0], nk = cfg->width[cfg->nr_layers];
	u64 h = 0x243f6a8885a308d3ULL;
	int n, q;

	if (fewmul_simd_select(impl))
		return ~0u;
	for (s = 0; s < nsteps; s++) {
		nb = s % 3 == 2 ? cfg->batch / 2 + 1 : cfg->batch;
		for (b = 0; b < nb; b++) {
			for (p = 0; p < n0; p++) {
				h ^= h << 13;
				h ^= h >> 7;
				h ^= h << 17;
				r->img[b * n0 + p] = (u8)(h >> 24);
			}
			r->lab[b] = (u8)(h % nk);
			r->img[b * n0 + r->lab[b] % n0] = 255;
			r->ptr[b] = r->img + b * n0;
		}
		fewmul_batch_begin(&r->mb.m, r->ptr, r->lab, nb, s / 4);
		n = fewmul_step_plan(&r->mb.m, FEWMUL_PLAN_TRAIN, ph, FEWMUL_MAX_PHASES);
		for (q = 0; q < n; q++) {
			u32 cnt = ph[q].count, chunk = (cnt + nsplit - 1) / nsplit;

			for (k = 0; k < nsplit; k++) {
				u32 rr = (nsplit - 1 - k + s) % nsplit;

				fewmul_phase_run(&r->mb.m, &ph[q], rr * chunk,
						 rr * chunk + chunk, &r->ops);
			}
		}
		fewmul_plan_done(&r->mb.m, FEWMUL_PLAN_TRAIN);
	}
	fewmul_calib_begin(&r->mb.m);
	fewmul_batch_begin(&r->mb.m, r->ptr, r->lab, cfg->batch, 0);
	fewmul_run_serial(&r->mb.m, FEWMUL_PLAN_CALIB, &r->ops);
	fewmul_calib_end(&r->mb.m, NULL);
	fewmul_run_serial(&r->mb.m, FEWMUL_PLAN_EVAL, &r->ops);
	return fewmul_batch_errors(&r->mb.m, NULL);
}

static void cfg_of(struct fewmul_config *c, u32 weights, u32 qbp, u32 batch,
		   const u32 *w, u32 nl)
{
	u32 l;

	memset(c, 0, sizeof(*c));
	c->nr_layers = nl;
	for (l = 0; l <= nl; l++)
		c->width[l] = w[l];
	c->weights = weights;
	c->qbp = qbp;
	c->bn = FEWMUL_MODEL_BN_SHIFT;
	c->exp_min = -4;
	c->exp_max = 3;
	c->lr_shift_start = 2;
	c->lr_shift_end = 5;
	c->epochs = 4;
	c->batch = batch;
	c->seed = 7;
}

/* The same run with the scalar engine and with impl: identical bits. */
static void test_run(const char *impl, u32 weights, u32 qbp, u32 bn, u32 batch,
		     const u32 *w, u32 nl, u32 nsteps, u32 nsplit)
{
	struct fewmul_config cfg;
	struct run a, v;
	char name[160];
	u32 ea, ev;

	tap_begin();
	cfg_of(&cfg, weights, qbp, batch, w, nl);
	cfg.bn = bn;
	CHECK_EQ(run_new(&a, &cfg), 0);
	CHECK_EQ(run_new(&v, &cfg), 0);
	ea = run_train(&a, "off", nsteps, 1);
	ev = run_train(&v, impl, nsteps, nsplit);
	CHECK(ea != ~0u && ev != ~0u);
	CHECK_EQ(ea, ev);
	CHECK(memcmp(a.mb.arena, v.mb.arena, a.mb.m.lay.size) == 0);
	CHECK(memcmp(a.mb.m.y[nl], v.mb.m.y[nl],
		     (size_t)w[nl] * a.mb.m.bs * sizeof(s32)) == 0);
	CHECK_EQ(a.ops.adds, v.ops.adds);
	CHECK_EQ(a.ops.shifts, v.ops.shifts);
	CHECK_EQ(a.ops.muls, v.ops.muls);
	CHECK_EQ(a.ops.divs, v.ops.divs);
	CHECK_EQ(a.ops.sats, v.ops.sats);
	/* and the run did train */
	{
		struct run fresh;

		CHECK_EQ(run_new(&fresh, &cfg), 0);
		CHECK(memcmp(a.mb.arena, fresh.mb.arena, a.mb.m.lay.size) != 0);
		run_free(&fresh);
	}
	snprintf(name, sizeof(name),
		 "%s == off: weights %u qbp %u bn %u, batch %u, %u layers (%u..%u wide), %u steps, %u ranges",
		 impl, weights, qbp, bn, batch, nl, w[0], w[1], nsteps, nsplit);
	run_free(&a);
	run_free(&v);
	tap_end(name);
}

int main(void)
{
	static const u32 odd[] = { 37, 77, 130, 9 };
	static const u32 tiny[] = { 5, 3, 2 };
	static const u32 mnist[] = { 784, 256, 256, 10 };
	static const u32 wide[] = { 16, 4096, 33, 256 };
	/* every vector implementation compiled for this architecture */
	const struct fewmul_simd *const *vec = fewmul_simd_impls;
	const char *impls[3] = { "generic", NULL, NULL };
	u32 k, ni = 1;

	test_kernels(&fewmul_simd_generic);
	for (k = 0; vec[k]; k++) {
		if (vec[k]->valid()) {
			test_kernels(vec[k]);
			impls[ni++] = vec[k]->name;
		} else {
			printf("# this CPU cannot run %s: its kernels are not tested\n",
			       vec[k]->name);
		}
	}
	for (k = 0; k < ni; k++) {
		const char *im = impls[k];

		test_run(im, FEWMUL_MODEL_WEIGHTS_TERNARY, 1, FEWMUL_MODEL_BN_SHIFT, 29, odd, 3, 7, 3);
		test_run(im, FEWMUL_MODEL_WEIGHTS_TERNARY, 1, FEWMUL_MODEL_BN_SHIFT2, 29, odd, 3, 5, 3);
		test_run(im, FEWMUL_MODEL_WEIGHTS_FULL, 0, FEWMUL_MODEL_BN_SHIFT2, 17, odd, 3, 3, 2);
		test_run(im, FEWMUL_MODEL_WEIGHTS_TERNARY, 1, FEWMUL_MODEL_BN_SHIFT, 1, odd, 3, 4, 1);
		test_run(im, FEWMUL_MODEL_WEIGHTS_TERNARY, 1, FEWMUL_MODEL_BN_SHIFT, 64, tiny, 2, 5, 2);
		test_run(im, FEWMUL_MODEL_WEIGHTS_TERNARY, 1, FEWMUL_MODEL_BN_NONE, 29, odd, 3, 5, 3);
		test_run(im, FEWMUL_MODEL_WEIGHTS_TERNARY, 0, FEWMUL_MODEL_BN_SHIFT, 29, odd, 3, 5, 2);
		test_run(im, FEWMUL_MODEL_WEIGHTS_BINARY, 1, FEWMUL_MODEL_BN_SHIFT, 29, odd, 3, 5, 3);
		test_run(im, FEWMUL_MODEL_WEIGHTS_BINARY_STOCH, 1, FEWMUL_MODEL_BN_SHIFT, 17, odd, 3, 5, 2);
		test_run(im, FEWMUL_MODEL_WEIGHTS_FULL, 1, FEWMUL_MODEL_BN_SHIFT, 17, odd, 3, 3, 2);
		test_run(im, FEWMUL_MODEL_WEIGHTS_TERNARY, 1, FEWMUL_MODEL_BN_SHIFT, 200, mnist, 3, 3, 2);
		test_run(im, FEWMUL_MODEL_WEIGHTS_TERNARY, 1, FEWMUL_MODEL_BN_SHIFT, 33, wide, 3, 2, 3);
	}
	fewmul_simd_select("auto");
	return tap_done();
}
