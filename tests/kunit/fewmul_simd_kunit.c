// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of fewmul's integer vector kernels inside fewmul.ko: every
 * kernel of the generic and (when this CPU has it) the AVX2 or NEON
 * implementation against its scalar reference (tests/core_simd_cases.h,
 * shared with the native tests), each call in its own vector section,
 * and a short training run with the vector path on and off.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/string.h>

#include "../core_simd_cases.h"
#include "../core_engine_cases.h"
#include "fewmul_kunit.h"

static struct kunit *fewmul_simd_cur_test;

static void fewmul_simd_report(const char *what, u32 size, u32 seed)
{
	KUNIT_FAIL(fewmul_simd_cur_test, "%s differs: size %u, seed %u", what,
		   size, seed);
}

static void fewmul_simd_generic_test(struct kunit *test)
{
	fewmul_simd_cur_test = test;
	KUNIT_EXPECT_EQ(test, fsc_run_all(&fewmul_simd_generic,
					  fewmul_simd_report), 0);
	kunit_info(test, "tested: generic\n");
}

#if defined(FEWMUL_HAVE_AVX2) || defined(FEWMUL_HAVE_NEON)
/*
 * The implementation under test, each call inside its own vector section
 * (kernel_fpu_begin() on x86, kernel_neon_begin() on arm64).
 */
static const struct fewmul_simd *fewmul_simd_wrapped;

#define FEWMUL_SIMD_WRAP(call) do {			\
		KUNIT_ASSERT_TRUE(fewmul_simd_cur_test,	\
				  fewmul_simd_begin());	\
		fewmul_simd_wrapped->call;		\
		fewmul_simd_end();			\
	} while (0)

static void w_sum_lists(const s32 *base, const u32 *pos, u32 npos,
			const u32 *neg, u32 nneg, s32 *out, u32 nl, int acc)
{
	FEWMUL_SIMD_WRAP(sum_lists(base, pos, npos, neg, nneg, out, nl, acc));
}

static void w_relu_mask(s32 *d, const s32 *x, u32 nl)
{
	FEWMUL_SIMD_WRAP(relu_mask(d, x, nl));
}

static void w_dw_row(const s32 *dt, const u32 *ent, const u16 *cnt, u32 nlev,
		     s32 *u, u32 n, int upd)
{
	FEWMUL_SIMD_WRAP(dw_row(dt, ent, cnt, nlev, u, n, upd));
}

static void w_dw_sum(const s32 *dt, const u32 *ent, const u16 *cnt, u32 nlev,
		     s32 *acc, u32 n)
{
	FEWMUL_SIMD_WRAP(dw_sum(dt, ent, cnt, nlev, acc, n));
}

static void w_transpose(const s32 *d, u32 dshift, u32 n, u32 nb, s32 *dt,
			u32 dtshift)
{
	FEWMUL_SIMD_WRAP(transpose(d, dshift, n, nb, dt, dtshift));
}

static void w_sample4(u64 st[4][4], const s32 *u, s8 *t, u32 pitch, u32 n)
{
	FEWMUL_SIMD_WRAP(sample4(st, u, t, pitch, n));
}

static void w_row_list(const s8 *t, u32 n, u32 sshift, u32 *list, u16 *cnt)
{
	FEWMUL_SIMD_WRAP(row_list(t, n, sshift, list, cnt));
}

static void w_col_lists(const s8 *t, u32 r0, u32 r1, u32 rows, u32 tpitch,
			u32 sshift, u32 *list, u32 lshift, u16 *cnt)
{
	FEWMUL_SIMD_WRAP(col_lists(t, r0, r1, rows, tpitch, sshift, list,
				   lshift, cnt));
}

static void w_sample_det(const s32 *u, s8 *t, u32 n, int binary)
{
	FEWMUL_SIMD_WRAP(sample_det(u, t, n, binary));
}

static const struct fewmul_simd fewmul_simd_in_section = {
	.name = "in a vector section",
	.sum_lists = w_sum_lists,
	.relu_mask = w_relu_mask,
	.dw_row = w_dw_row,
	.dw_sum = w_dw_sum,
	.transpose = w_transpose,
	.sample4 = w_sample4,
	.row_list = w_row_list,
	.col_lists = w_col_lists,
	.sample_det = w_sample_det,
};

static void fewmul_simd_impl_test(struct kunit *test,
				  const struct fewmul_simd *s)
{
	if (!s->valid())
		kunit_skip(test, "this CPU cannot run %s (QEMU TCG: -cpu max)",
			   s->name);
	fewmul_simd_cur_test = test;
	fewmul_simd_wrapped = s;
	KUNIT_EXPECT_EQ(test, fsc_run_all(&fewmul_simd_in_section,
					  fewmul_simd_report), 0);
	kunit_info(test, "tested: %s against the scalar references\n", s->name);
}
#endif

static void fewmul_simd_avx2_test(struct kunit *test)
{
#ifdef FEWMUL_HAVE_AVX2
	fewmul_simd_impl_test(test, &fewmul_simd_avx2);
#else
	kunit_skip(test, "no AVX2 kernels on this architecture");
#endif
}

static void fewmul_simd_neon_test(struct kunit *test)
{
#ifdef FEWMUL_HAVE_NEON
	fewmul_simd_impl_test(test, &fewmul_simd_neon);
#else
	kunit_skip(test, "no NEON kernels on this architecture");
#endif
}

/*
 * Training with the selected vector kernels and with the scalar engine:
 * bit-identical weights and counters. The module's choice is restored.
 */
static void fewmul_simd_train_test(struct kunit *test)
{
	const char *was = fewmul_simd_name();
	struct fewmul_counters oa = { 0 }, ob = { 0 };
	struct fewmul_model *a, *b;
	struct fewmul_config cfg;
	u32 ea, eb;

	fewmul_base_cfg(&cfg, FEWMUL_MODEL_WEIGHTS_TERNARY, 1);
	cfg.width[1] = 77;
	cfg.width[2] = 130;
	cfg.batch = 29;
	a = fewmul_kunit_model(test, &cfg);
	b = fewmul_kunit_model(test, &cfg);
	KUNIT_ASSERT_EQ(test, fewmul_simd_select("off"), 0);
	fewmul_train_split(a, 5, 1, 0, &oa);
	ea = fewmul_eval_synth(a, 5000, 29 * 4);
	KUNIT_ASSERT_EQ(test, fewmul_simd_select("auto"), 0);
	kunit_info(test, "vector kernels: %s\n", fewmul_simd_name());
	fewmul_train_split(b, 5, 3, 1, &ob);
	eb = fewmul_eval_synth(b, 5000, 29 * 4);
	KUNIT_EXPECT_EQ(test, memcmp(a->arena, b->arena, a->lay.size), 0);
	KUNIT_EXPECT_EQ(test, ea, eb);
	KUNIT_EXPECT_EQ(test, oa.adds, ob.adds);
	KUNIT_EXPECT_EQ(test, oa.shifts, ob.shifts);
	KUNIT_EXPECT_EQ(test, fewmul_simd_select(was), 0);
}

static struct kunit_case fewmul_simd_test_cases[] = {
	KUNIT_CASE(fewmul_simd_generic_test),
	KUNIT_CASE(fewmul_simd_avx2_test),
	KUNIT_CASE(fewmul_simd_neon_test),
	KUNIT_CASE(fewmul_simd_train_test),
	{}
};

static struct kunit_suite fewmul_simd_test_suite = {
	.name = "fewmul_simd",
	.test_cases = fewmul_simd_test_cases,
};
kunit_test_suite(fewmul_simd_test_suite);
