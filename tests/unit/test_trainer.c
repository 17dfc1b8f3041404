// SPDX-License-Identifier: GPL-2.0
/*
 * libfewmul trainers on the cpu backend: architecture parsing, argument
 * checks, and bit-identical results for 1, 2 and 3 worker threads while
 * training, calibration and evaluation alternate (plans of different
 * lengths back to back, which is where a worker/plan race would show).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libfewmul.h"
#include "unit/tap.h"
#include "unit/synth.h"

#define N 600

static struct fewmul_dataset ds;

static void make_data(void)
{
	synth_dataset(&ds, N);
}

static void small_cfg(struct fewmul_train_config *c)
{
	fewmul_train_config_default(c);
	CHECK_EQ(fewmul_parse_arch("16-40-30-4", c), 0);
	c->batch = 25;
	c->epochs = 3;
	c->seed = 7;
}

struct outcome {
	uint64_t sum;
	uint64_t train_err, test_err;
	double loss;
};

static void run(unsigned int threads, struct outcome *o)
{
	struct fewmul_train_config cfg;
	struct fewmul_trainer *t;
	uint32_t idx[N], ep, i;

	small_cfg(&cfg);
	for (i = 0; i < N; i++)
		idx[i] = (i * 7) % N;
	memset(o, 0, sizeof(*o));
	CHECK_EQ(fewmul_trainer_new(&cfg, "cpu", threads, &t), 0);
	for (ep = 0; ep < 3; ep++) {
		struct fewmul_result tr = { 0 }, te = { 0 };

		CHECK_EQ(fewmul_trainer_train(t, &ds, idx, N - 13, ep, &tr), 0);
		{
			uint64_t a = 0, sh = 0, mu = 0;
			unsigned int l;

			for (l = 0; l <= FEWMUL_MAX_LAYERS; l++) {
				a += tr.layers[l].adds;
				sh += tr.layers[l].shifts;
				mu += tr.layers[l].muls;
			}
			CHECK(a == tr.ops.adds && sh == tr.ops.shifts && mu == tr.ops.muls);
			/* every weight layer did work; nothing past the last */
			CHECK(tr.layers[1].adds && tr.layers[2].adds && tr.layers[3].adds);
			CHECK(tr.layers[4].adds == 0);
			/* ternary + QB: the only multiplies are the loss report */
			CHECK(tr.layers[1].muls == 0 && tr.layers[2].muls == 0);
		}
		CHECK_EQ(fewmul_trainer_calibrate(t, &ds, idx, 200), 0);
		CHECK_EQ(fewmul_trainer_eval(t, &ds, idx + 400, 200, &te, NULL), 0);
		o->train_err += tr.errors;
		o->test_err += te.errors;
		o->loss += tr.loss;
	}
	o->sum = fewmul_trainer_checksum(t);
	fewmul_trainer_free(t);
}

static void test_threads(void)
{
	struct outcome a, b, c;
	int k;

	tap_begin();
	run(1, &a);
	for (k = 0; k < 20; k++) {
		run(2, &b);
		run(3, &c);
		CHECK(a.sum == b.sum && a.sum == c.sum);
		CHECK(a.test_err == b.test_err && a.test_err == c.test_err);
		CHECK(a.train_err == b.train_err && a.loss == c.loss);
	}
	printf("#   test errors over 3 epochs: %llu/600\n",
	       (unsigned long long)a.test_err);
	CHECK(a.test_err < 60);
	tap_end("cpu backend: 1, 2 and 3 threads give identical weights and errors (20 rounds)");
}

static void test_arch(void)
{
	struct fewmul_train_config c;

	tap_begin();
	fewmul_train_config_default(&c);
	CHECK_EQ(fewmul_parse_arch("784-1024-1024-1024-10", &c), 0);
	CHECK_EQ(c.nr_layers, 4);
	CHECK_EQ(c.width[4], 10);
	CHECK_EQ(c.width[5], 0);
	CHECK_EQ(fewmul_parse_arch("10", &c), -EINVAL);
	CHECK_EQ(fewmul_parse_arch("", &c), -EINVAL);
	CHECK_EQ(fewmul_parse_arch("784--10", &c), -EINVAL);
	CHECK_EQ(fewmul_parse_arch("784-0-10", &c), -EINVAL);
	CHECK_EQ(fewmul_parse_arch("784-4097-10", &c), -EINVAL);
	CHECK_EQ(fewmul_parse_arch("784-10-", &c), -EINVAL);
	CHECK_EQ(fewmul_parse_arch("784-1x-10", &c), -EINVAL);
	CHECK_EQ(fewmul_parse_arch("99999999999999999999-10", &c), -EINVAL);
	CHECK_EQ(fewmul_parse_arch("1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16-17", &c), 0);
	CHECK_EQ(fewmul_parse_arch("1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16-17-18", &c), -EINVAL);
	tap_end("parse_arch accepts 2..17 widths of 1..4096 and rejects junk");
}

static void test_bad_args(void)
{
	struct fewmul_train_config cfg;
	struct fewmul_trainer *t = NULL;
	struct fewmul_result r = { 0 };
	uint32_t idx[2] = { 0, N };

	tap_begin();
	small_cfg(&cfg);
	CHECK_EQ(fewmul_trainer_new(&cfg, "gpu", 1, &t), -ENODEV);
	CHECK(t == NULL);
	cfg.batch = 0;
	CHECK_EQ(fewmul_trainer_new(&cfg, "cpu", 1, &t), -EINVAL);
	small_cfg(&cfg);
	CHECK_EQ(fewmul_trainer_new(&cfg, "cpu", 1, &t), 0);
	CHECK_EQ(fewmul_trainer_train(t, &ds, idx, 2, 0, &r), -EINVAL);
	ds.labels[3] = 9;	/* beyond the 4 classes of the model */
	idx[1] = 3;
	CHECK_EQ(fewmul_trainer_train(t, &ds, idx, 2, 0, &r), -EINVAL);
	ds.labels[3] = 3;
	CHECK_EQ(r.samples, 0);
	CHECK_EQ(fewmul_trainer_hist(t, 0, NULL), -EINVAL);
	fewmul_trainer_free(t);
	fewmul_trainer_free(NULL);
	tap_end("trainer rejects unknown backends, bad configs, indices and labels");
}

int main(void)
{
	make_data();
	test_arch();
	test_bad_args();
	test_threads();
	free(ds.images);
	free(ds.labels);
	return tap_done();
}
