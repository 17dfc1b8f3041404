// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Native tests of the training engine (ASan+UBSan): configuration checks,
 * the paper's multiplication counts, determinism under any work split,
 * and convergence on a small synthetic problem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_engine_cases.h"
#include "unit/tap.h"

struct model_buf {
	struct fewmul_model m;
	void *arena;
	void *scratch;
};

static int model_new(struct model_buf *mb, const struct fewmul_config *cfg)
{
	struct fewmul_layout lay;
	u64 ss = fewmul_scratch_size(cfg);

	fewmul_layout(cfg, &lay);
	mb->arena = calloc(1, lay.size);
	mb->scratch = aligned_alloc(64, (ss + 63) & ~63ULL);
	if (!mb->arena || !mb->scratch)
		return -1;
	memset(mb->scratch, 0, ss);
	if (fewmul_model_bind(&mb->m, cfg, mb->arena, mb->scratch))
		return -1;
	fewmul_model_init_params(&mb->m);
	return 0;
}

static void model_free(struct model_buf *mb)
{
	free(mb->arena);
	free(mb->scratch);
}

static void test_config_check(void)
{
	struct fewmul_config c;

	tap_begin();
	fewmul_base_cfg(&c, FEWMUL_WMODE_TERNARY, 1);
	CHECK_EQ(fewmul_config_check(&c), 0);
	c.nr_layers = 0;
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_WMODE_TERNARY, 1);
	c.nr_layers = FEWMUL_CORE_MAX_LAYERS + 1;
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_WMODE_TERNARY, 1);
	c.width[1] = 0;
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_WMODE_TERNARY, 1);
	c.width[2] = FEWMUL_CORE_MAX_WIDTH + 1;
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_WMODE_TERNARY, 1);
	c.width[5] = 3;	/* beyond nr_layers must be zero */
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_WMODE_TERNARY, 1);
	c.width[3] = 1;	/* one class */
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_WMODE_COUNT, 1);
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_WMODE_TERNARY, 2);
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_WMODE_TERNARY, 1);
	c.qb_emin = 2;
	c.qb_emax = 1;
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_WMODE_TERNARY, 1);
	c.lr_shift_start = 5;
	c.lr_shift_end = 4;
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_WMODE_TERNARY, 1);
	c.batch = 0;
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_WMODE_TERNARY, 1);
	c.batch = FEWMUL_CORE_MAX_BATCH + 1;
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	fewmul_base_cfg(&c, FEWMUL_WMODE_TERNARY, 1);
	c.bn = FEWMUL_BN_COUNT;
	CHECK_EQ(fewmul_config_check(&c), -EINVAL);
	tap_end("config_check rejects every out-of-range field");
}

static void test_counts(void)
{
	struct fewmul_config c;
	u64 full, qb;

	tap_begin();
	memset(&c, 0, sizeof(c));
	c.nr_layers = 4;
	c.width[0] = 784;
	c.width[1] = 1024;
	c.width[2] = 1024;
	c.width[3] = 1024;
	c.width[4] = 10;
	full = fewmul_count_mults_full(&c, 200, 0);
	qb = fewmul_count_mults_qb(&c, 200, 0);
	CHECK(full == 1747974000ULL);
	CHECK(qb == 1849200ULL);
	/* ratio 0.001058 to 4 significant digits */
	CHECK(qb * 1000000ULL / full == 1057);
	CHECK((qb * 10000000ULL / full + 5) / 10 == 1058);
	tap_end("paper's counts for 784-1024-1024-1024-10, batch 200");
}

static void test_lr_schedule(void)
{
	struct fewmul_config c;

	tap_begin();
	fewmul_base_cfg(&c, FEWMUL_WMODE_TERNARY, 1);
	c.lr_shift_start = 2;
	c.lr_shift_end = 6;
	c.epochs = 5;
	CHECK_EQ(fewmul_lr_shift(&c, 0), 2);
	CHECK_EQ(fewmul_lr_shift(&c, 1), 3);
	CHECK_EQ(fewmul_lr_shift(&c, 2), 4);
	CHECK_EQ(fewmul_lr_shift(&c, 4), 6);
	CHECK_EQ(fewmul_lr_shift(&c, 100), 6);
	c.epochs = 1;
	CHECK_EQ(fewmul_lr_shift(&c, 0), 2);
	tap_end("LR shift schedule: linear in the exponent, start to end");
}

static void test_determinism(u32 wmode, u32 qbp, const char *name)
{
	struct model_buf a, b2, c;
	struct fewmul_config cfg;
	struct fewmul_counters oa = { 0 }, ob = { 0 }, oc = { 0 };

	tap_begin();
	fewmul_base_cfg(&cfg, wmode, qbp);
	CHECK_EQ(model_new(&a, &cfg), 0);
	CHECK_EQ(model_new(&b2, &cfg), 0);
	CHECK_EQ(model_new(&c, &cfg), 0);
	fewmul_train_split(&a.m, 6, 1, 0, &oa);
	fewmul_train_split(&b2.m, 6, 3, 1, &ob);
	fewmul_train_split(&c.m, 6, 7, 5, &oc);
	CHECK(memcmp(a.arena, b2.arena, a.m.lay.size) == 0);
	CHECK(memcmp(a.arena, c.arena, a.m.lay.size) == 0);
	CHECK(oa.adds == ob.adds && oa.adds == oc.adds);
	CHECK(oa.muls == ob.muls && oa.shifts == oc.shifts);
	/* and the weights did move */
	{
		struct model_buf fresh;

		CHECK_EQ(model_new(&fresh, &cfg), 0);
		CHECK(memcmp(a.arena, fresh.arena, a.m.lay.size) != 0);
		model_free(&fresh);
	}
	model_free(&a);
	model_free(&b2);
	model_free(&c);
	tap_end(name);
}

static void test_seed_changes_result(void)
{
	struct model_buf a, b2;
	struct fewmul_config cfg;
	struct fewmul_counters o = { 0 };

	tap_begin();
	fewmul_base_cfg(&cfg, FEWMUL_WMODE_TERNARY, 1);
	CHECK_EQ(model_new(&a, &cfg), 0);
	cfg.seed = 43;
	CHECK_EQ(model_new(&b2, &cfg), 0);
	fewmul_train_split(&a.m, 2, 1, 0, &o);
	fewmul_train_split(&b2.m, 2, 1, 0, &o);
	CHECK(memcmp(a.arena, b2.arena, a.m.lay.size) != 0);
	model_free(&a);
	model_free(&b2);
	tap_end("a different seed gives different weights");
}

static void test_converges(u32 wmode, u32 qbp, const char *name)
{
	struct fewmul_counters o = { 0 };
	struct fewmul_config cfg;
	struct model_buf mb;
	u32 before, after;

	tap_begin();
	fewmul_base_cfg(&cfg, wmode, qbp);
	CHECK_EQ(model_new(&mb, &cfg), 0);
	before = fewmul_eval_synth(&mb.m, 100000, 512);
	fewmul_train_split(&mb.m, 80, 1, 0, &o);
	after = fewmul_eval_synth(&mb.m, 100000, 512);
	printf("#   %s: test errors %u/512 before, %u/512 after; muls %llu\n",
	       name, before, after, (unsigned long long)o.muls);
	CHECK(after <= 512 / 20);	/* >= 95% accuracy */
	CHECK(after < before);
	if (wmode != FEWMUL_WMODE_FULL && qbp)	/* only the loss report multiplies */
		CHECK(o.muls == 80ULL * cfg.batch * cfg.width[cfg.nr_layers]);
	model_free(&mb);
	tap_end(name);
}

/*
 * Every fast path against the scalar reference: the same training run
 * with m->reference set and cleared must give bit-identical weights and
 * identical operation counts, on widths that are odd and not multiples
 * of the 16-sample and 64-unit blocks, with a partial last batch.
 */
static void test_fast_vs_reference(u32 wmode, u32 qbp, const char *name)
{
	struct fewmul_counters oa = { 0 }, ob = { 0 };
	struct model_buf a, b2;
	struct fewmul_config cfg;

	tap_begin();
	fewmul_base_cfg(&cfg, wmode, qbp);
	cfg.width[1] = 77;
	cfg.width[2] = 130;
	cfg.batch = 29;
	CHECK_EQ(model_new(&a, &cfg), 0);
	CHECK_EQ(model_new(&b2, &cfg), 0);
	a.m.reference = 1;
	fewmul_train_split(&a.m, 7, 1, 0, &oa);
	fewmul_train_split(&b2.m, 7, 3, 1, &ob);
	CHECK(memcmp(a.arena, b2.arena, a.m.lay.size) == 0);
	CHECK(oa.adds == ob.adds);
	CHECK(oa.shifts == ob.shifts);
	CHECK(oa.muls == ob.muls);
	CHECK_EQ(fewmul_eval_synth(&a.m, 5000, 29 * 4), fewmul_eval_synth(&b2.m, 5000, 29 * 4));
	model_free(&a);
	model_free(&b2);
	tap_end(name);
}

int main(void)
{
	test_fast_vs_reference(FEWMUL_WMODE_TERNARY, 1, "fast == reference: ternary+QB");
	test_fast_vs_reference(FEWMUL_WMODE_TERNARY, 0, "fast == reference: ternary, exact dW");
	test_fast_vs_reference(FEWMUL_WMODE_BINARY, 1, "fast == reference: binary+QB");
	test_fast_vs_reference(FEWMUL_WMODE_BINARY_STOCH, 1, "fast == reference: binary-stoch+QB");
	test_fast_vs_reference(FEWMUL_WMODE_FULL, 1, "fast == reference: full+QB");
	test_fast_vs_reference(FEWMUL_WMODE_FULL, 0, "fast == reference: full, exact dW");
	test_config_check();
	test_counts();
	test_lr_schedule();
	test_determinism(FEWMUL_WMODE_TERNARY, 1, "ternary+QB: bit-identical under 1, 3 and 7 scrambled splits");
	test_determinism(FEWMUL_WMODE_BINARY_STOCH, 1, "binary-stoch+QB: bit-identical under any split");
	test_determinism(FEWMUL_WMODE_FULL, 0, "full: bit-identical under any split");
	test_seed_changes_result();
	test_converges(FEWMUL_WMODE_TERNARY, 1, "ternary+QB converges on a small problem");
	test_converges(FEWMUL_WMODE_BINARY, 1, "binary+QB converges on a small problem");
	test_converges(FEWMUL_WMODE_BINARY_STOCH, 1, "binary-stoch+QB converges on a small problem");
	test_converges(FEWMUL_WMODE_TERNARY, 0, "ternary without QB converges on a small problem");
	test_converges(FEWMUL_WMODE_FULL, 0, "full converges on a small problem");
	return tap_done();
}
