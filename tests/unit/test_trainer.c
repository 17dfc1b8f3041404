// SPDX-License-Identifier: GPL-2.0
/*
 * libfewmul trainers: architecture parsing, argument checks, and
 * bit-identical results for 1, 2 and 3 worker threads of the cpu backend
 * while training, calibration and evaluation alternate (plans of different
 * lengths back to back, which is where a worker/plan race would show).
 * The kernel backend runs against tests/unit/fakedev.h, a stand-in for
 * the module's ioctls built on the same engine, with calls cut short as
 * signals would cut them: it must give the cpu backend's results.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libfewmul.h"
#include "unit/tap.h"
#include "unit/synth.h"
#include "unit/fakedev.h"

/* userspace/lib/kernel.c: indices per ioctl (internal, linked in here) */
extern uint32_t fewmul_krun_max;

#define FAKE "kernel:/dev/null"

#define N 600

static struct fewmul_dataset ds;

static void make_data(void)
{
	synth_dataset(&ds, N);
}

static uint32_t small_bn = FEWMUL_MODEL_BN_SHIFT2;	/* the default's */

static void small_cfg(struct fewmul_train_config *c)
{
	fewmul_train_config_default(c);
	CHECK_EQ(fewmul_parse_arch("16-40-30-4", c), 0);
	c->batch = 25;
	c->epochs = 3;
	c->seed = 7;
	c->bn = small_bn;
}

struct outcome {
	uint64_t sum;
	uint64_t train_err, test_err;
	double loss;
	uint64_t step;
	uint64_t conf[16];
	struct fewmul_ops ops, layer2;
	uint64_t hist1[32];
	struct fewmul_counts cnt;
};

static void run_on(const char *backend, unsigned int threads, struct outcome *o)
{
	struct fewmul_train_config cfg;
	struct fewmul_trainer *t;
	uint32_t idx[N], ep, i;

	small_cfg(&cfg);
	for (i = 0; i < N; i++)
		idx[i] = (i * 7) % N;
	memset(o, 0, sizeof(*o));
	CHECK_EQ(fewmul_trainer_new(&cfg, backend, threads, &t), 0);
	if (!t)
		return;
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
		CHECK_EQ(fewmul_trainer_eval(t, &ds, idx + 400, 200, &te, o->conf), 0);
		CHECK_EQ(te.samples, 200);
		CHECK_EQ(tr.samples, N - 13);
		o->train_err += tr.errors;
		o->test_err += te.errors;
		o->loss += tr.loss;
		o->ops.adds += tr.ops.adds;
		o->ops.muls += tr.ops.muls;
		o->layer2.adds += tr.layers[2].adds + te.layers[2].adds;
		o->layer2.shifts += tr.layers[2].shifts + te.layers[2].shifts;
	}
	o->sum = fewmul_trainer_checksum(t);
	o->step = fewmul_trainer_step(t);
	o->cnt.size = sizeof(o->cnt);
	CHECK_EQ(fewmul_trainer_counts(t, &o->cnt), 0);
	CHECK_EQ(fewmul_trainer_hist(t, 1, o->hist1), 0);
	fewmul_trainer_free(t);
}

static void run(unsigned int threads, struct outcome *o)
{
	run_on("cpu", threads, o);
}

static int same(const struct outcome *a, const struct outcome *b)
{
	return a->sum == b->sum && a->train_err == b->train_err &&
	       a->test_err == b->test_err && a->step == b->step &&
	       !memcmp(a->conf, b->conf, sizeof(a->conf)) &&
	       a->ops.adds == b->ops.adds && a->ops.muls == b->ops.muls &&
	       a->layer2.adds == b->layer2.adds &&
	       a->layer2.shifts == b->layer2.shifts &&
	       !memcmp(a->hist1, b->hist1, sizeof(a->hist1)) &&
	       /* divisions and saturations where both backends count them */
	       (!(a->cnt.flags & b->cnt.flags & FEWMUL_COUNTS_DIVS) ||
		(a->cnt.divs == b->cnt.divs &&
		 a->cnt.saturated == b->cnt.saturated)) &&
	       a->loss > b->loss - 1e-6 && a->loss < b->loss + 1e-6;
}

static void test_kernel_fake(void)
{
	struct outcome a, b, c;

	tap_begin();
	run(1, &a);
	CHECK_EQ(a.cnt.flags, FEWMUL_COUNTS_DIVS);
	CHECK(a.cnt.divs > 0);
	fake_interrupt = 0;
	run_on(FAKE, 1, &b);
	CHECK(same(&a, &b));
	CHECK_EQ(b.cnt.flags, FEWMUL_COUNTS_DIVS);
	fake_interrupt = 1;
	fake_nr_intr = 0;
	run_on(FAKE, 4, &c);
	CHECK(same(&a, &c));
	CHECK(fake_nr_intr > 3);
	fake_interrupt = 0;
	printf("#   %u calls cut short by simulated signals\n", fake_nr_intr);
	tap_end("kernel backend (fake device): same weights, errors, loss, confusion, ops and histograms as cpu, also when signals cut calls short");
}

/*
 * The kernel backend lends threads - 1 helpers (at most the module's
 * nr_workers - 1) and stops them when the trainer is freed; with a module
 * of the first ABI (only _IO() commands, no HELP) it falls back to those
 * commands and trains alone. Same weights every time.
 */
static void test_kernel_helpers(void)
{
	struct outcome a, b, c, d;

	tap_begin();
	run(1, &a);
	fake_workers = 3;
	fake_help_calls = 0;
	fake_stops = 0;
	run_on(FAKE, 8, &b);
	CHECK(same(&a, &b));
	CHECK_EQ(fake_help_calls, 2);
	CHECK_EQ(fake_stops, 1);
	fake_help_calls = 0;
	run_on(FAKE, 1, &c);
	CHECK(same(&a, &c));
	CHECK_EQ(fake_help_calls, 0);
	fake_legacy = 1;
	fake_stops = 0;
	{
		/* a module before BN shift2 refuses it, and says which */
		struct fewmul_train_config cfg;
		struct fewmul_trainer *t = NULL;

		small_cfg(&cfg);
		CHECK_EQ(fewmul_trainer_new(&cfg, FAKE, 8, &t), -EPROTONOSUPPORT);
		CHECK(!t);
	}
	/* and trains the modes it knows as the cpu backend does */
	small_bn = FEWMUL_MODEL_BN_SHIFT;
	fake_legacy = 0;
	run(1, &a);
	fake_legacy = 1;
	run_on(FAKE, 8, &d);
	small_bn = FEWMUL_MODEL_BN_SHIFT2;
	CHECK(same(&a, &d));
	/* a module without FEWMUL_FEATURE_DIVS: not counted, and said so */
	CHECK_EQ(d.cnt.flags, 0);
	CHECK_EQ(d.cnt.divs, 0);
	CHECK_EQ(fake_help_calls, 0);
	CHECK_EQ(fake_stops, 0);
	fake_legacy = 0;
	fake_workers = 1;
	tap_end("kernel backend (fake device): threads - 1 helpers (capped by nr_workers) lent and stopped at free; a first-ABI module is driven with its _IO() commands (BN shift2 refused); same weights");
}

/*
 * fewmul_trainer_memory(): the cpu backend's parameters and scratch, the
 * kernel memory the module reported (the fake device: the engine's
 * scratch); more for a wider model.
 */
static void test_memory(void)
{
	struct fewmul_train_config cfg;
	struct fewmul_trainer *c, *k, *w;
	uint64_t mc, mk, mw;

	tap_begin();
	small_cfg(&cfg);
	CHECK_EQ(fewmul_trainer_new(&cfg, "cpu", 1, &c), 0);
	CHECK_EQ(fewmul_trainer_new(&cfg, FAKE, 1, &k), 0);
	CHECK_EQ(fewmul_parse_arch("16-400-30-4", &cfg), 0);
	CHECK_EQ(fewmul_trainer_new(&cfg, "cpu", 1, &w), 0);
	mc = fewmul_trainer_memory(c);
	mk = fewmul_trainer_memory(k);
	mw = fewmul_trainer_memory(w);
	printf("#   16-40-30-4 batch 25: cpu %llu bytes, kernel (fake) %llu; 16-400-30-4: %llu\n",
	       (unsigned long long)mc, (unsigned long long)mk,
	       (unsigned long long)mw);
	CHECK(mk > 0);
	CHECK(mc > mk);	/* the parameters too */
	CHECK(mw > mc);
	CHECK_EQ(fewmul_trainer_memory(NULL), 0);
	fewmul_trainer_free(c);
	fewmul_trainer_free(k);
	fewmul_trainer_free(w);
	tap_end("fewmul_trainer_memory: parameters and scratch (cpu), the module's scratch_bytes (kernel), growing with the widths");
}

/*
 * An epoch cut into calls of whole minibatches, each told where it sits
 * (fewmul_trainer_set_epoch_pos): the module sees every minibatch's place
 * in the epoch, one after the other up to the epoch's count, also when
 * signals cut calls short; the weights are those of uncut calls; a place
 * that does not fit is refused and applies to one call only.
 */
static void test_kernel_epoch_pos(void)
{
	struct fewmul_train_config cfg;
	struct fewmul_trainer *t, *u;
	struct fewmul_result r;
	uint32_t idx[N], i, pos, n, B;

	tap_begin();
	small_cfg(&cfg);
	B = cfg.batch;
	for (i = 0; i < N - 10; i++)	/* 590 samples: 24 minibatches */
		idx[i] = i;
	CHECK_EQ(fewmul_trainer_new(&cfg, FAKE, 1, &t), 0);
	CHECK_EQ(fewmul_trainer_new(&cfg, "cpu", 1, &u), 0);
	fake_interrupt = 1;
	fake_epoch_pos = fake_epoch_total = 0;
	fake_epoch_skips = 0;
	memset(&r, 0, sizeof(r));
	for (pos = 0, n = B; pos < N - 10; pos += n, n += B) {
		if (n > N - 10 - pos)
			n = N - 10 - pos;
		CHECK_EQ(fewmul_trainer_set_epoch_pos(t, pos, N - 10), 0);
		CHECK_EQ(fewmul_trainer_train(t, &ds, idx + pos, n, 0, &r), 0);
	}
	fake_interrupt = 0;
	CHECK_EQ(fake_epoch_skips, 0);
	CHECK_EQ(fake_epoch_pos, 24);
	CHECK_EQ(fake_epoch_total, 24);
	CHECK_EQ(fewmul_trainer_train(u, &ds, idx, N - 10, 0, &r), 0);
	CHECK_EQ(fewmul_trainer_checksum(t), fewmul_trainer_checksum(u));
	/* the library's own cut (2^24 indices a call), here at 3 minibatches */
	fewmul_krun_max = 3 * B + 1;
	fake_epoch_pos = fake_epoch_total = 0;
	fake_epoch_skips = 0;
	CHECK_EQ(fewmul_trainer_set_epoch_pos(t, 0, N - 10), 0);
	CHECK_EQ(fewmul_trainer_train(t, &ds, idx, N - 10, 1, &r), 0);
	CHECK_EQ(fake_epoch_skips, 0);
	CHECK_EQ(fake_epoch_pos, 24);
	CHECK_EQ(fake_epoch_total, 24);
	CHECK_EQ(fewmul_trainer_train(u, &ds, idx, N - 10, 1, &r), 0);
	CHECK_EQ(fewmul_trainer_checksum(t), fewmul_trainer_checksum(u));
	fewmul_krun_max = 1u << 24;
	/* without a place the module is told nothing */
	fake_epoch_pos = fake_epoch_total = 0;
	CHECK_EQ(fewmul_trainer_train(t, &ds, idx, 2 * B, 1, &r), 0);
	CHECK_EQ(fake_epoch_total, 0);
	/* the place is used once */
	CHECK_EQ(fewmul_trainer_set_epoch_pos(t, B, 3 * B), 0);
	CHECK_EQ(fewmul_trainer_train(t, &ds, idx, B, 1, &r), 0);
	CHECK_EQ(fake_epoch_pos, 2);
	CHECK_EQ(fake_epoch_total, 3);
	fake_epoch_total = 0;
	CHECK_EQ(fewmul_trainer_train(t, &ds, idx, B, 1, &r), 0);
	CHECK_EQ(fake_epoch_total, 0);
	/* places that do not fit */
	CHECK_EQ(fewmul_trainer_set_epoch_pos(t, 4 * B, 3 * B), -EINVAL);
	CHECK_EQ(fewmul_trainer_set_epoch_pos(t, 2 * B, 3 * B), 0);
	CHECK_EQ(fewmul_trainer_train(t, &ds, idx, 2 * B, 1, &r), -EINVAL);
	CHECK_EQ(fewmul_trainer_train(t, &ds, idx, 2 * B, 1, &r), 0);
	CHECK_EQ(fewmul_trainer_set_epoch_pos(NULL, 0, 1), -EINVAL);
	/* the cpu backend takes it and ignores it */
	CHECK_EQ(fewmul_trainer_set_epoch_pos(u, 0, N), 0);
	CHECK_EQ(fewmul_trainer_train(u, &ds, idx, B, 1, &r), 0);
	fewmul_trainer_free(t);
	fewmul_trainer_free(u);
	tap_end("kernel backend (fake device): every minibatch's place in its epoch reaches the module, in order, also across interrupted calls and the library's own cut; a place that does not fit is refused");
}

/* Datasets registered on first use: prefixes that grow, LRU eviction. */
static void test_kernel_datasets(void)
{
	struct fewmul_dataset copy[6];
	struct fewmul_train_config cfg;
	struct fewmul_trainer *t[2];
	struct fewmul_result r[2];
	const char *be[2] = { "cpu", FAKE };
	uint32_t idx[N], i, k, w;
	int ok = 1;

	tap_begin();
	small_cfg(&cfg);
	for (i = 0; i < N; i++)
		idx[i] = N - 1 - i;
	for (k = 0; k < 6; k++) {
		copy[k] = ds;
		copy[k].images = malloc((size_t)N * 16);
		copy[k].labels = malloc(N);
		memcpy(copy[k].images, ds.images, (size_t)N * 16);
		memcpy(copy[k].labels, ds.labels, N);
	}
	fake_max_bufs = 0;
	for (w = 0; w < 2; w++) {
		memset(&r[w], 0, sizeof(r[w]));
		CHECK_EQ(fewmul_trainer_new(&cfg, be[w], 2, &t[w]), 0);
		/* small prefix first, then all: re-registered bigger */
		CHECK_EQ(fewmul_trainer_train(t[w], &copy[0], idx + N - 60, 60, 0, &r[w]), 0);
		CHECK_EQ(fewmul_trainer_train(t[w], &copy[0], idx, 300, 0, &r[w]), 0);
		/* more datasets than the backend keeps registered */
		for (k = 0; k < 12; k++)
			CHECK_EQ(fewmul_trainer_train(t[w], &copy[(k * 5) % 6],
						      idx + 20 * k, 50, 1, &r[w]), 0);
		CHECK_EQ(fewmul_trainer_eval(t[w], &copy[3], idx, N, &r[w], NULL), 0);
	}
	ok = fewmul_trainer_checksum(t[0]) == fewmul_trainer_checksum(t[1]) &&
	     r[0].errors == r[1].errors && r[0].samples == r[1].samples &&
	     r[0].ops.adds == r[1].ops.adds;
	CHECK(ok);
	CHECK(fake_max_bufs <= 1 + 2 * 4);
	CHECK(strcmp(fewmul_trainer_backend(t[1], NULL), "kernel") == 0);
	{
		const char *path = NULL;

		CHECK(strcmp(fewmul_trainer_backend(t[0], &path), "cpu") == 0);
		CHECK(path && !*path);
		fewmul_trainer_backend(t[1], &path);
		CHECK(path && strcmp(path, "/dev/null") == 0);
	}
	for (w = 0; w < 2; w++)
		fewmul_trainer_free(t[w]);
	for (k = 0; k < 6; k++)
		fewmul_dataset_free(&copy[k]);
	tap_end("kernel backend (fake device): growing dataset prefixes and evicted registrations train like cpu");
}

/* Save on one backend, load on each, continue: the same weights. */
static void test_kernel_save_load(void)
{
	struct fewmul_model_info info = { .epoch = 1 }, got;
	struct fewmul_train_config cfg;
	struct fewmul_trainer *t, *l[2];
	struct fewmul_result r = { 0 };
	const char *be[2] = { "cpu", FAKE };
	char path[] = "/tmp/fewmul-test-XXXXXX", err[256];
	uint32_t idx[N], i, w;
	uint64_t sum[2] = { 0, 1 };
	int fd;

	tap_begin();
	small_cfg(&cfg);
	for (i = 0; i < N; i++)
		idx[i] = (i * 11) % N;
	fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	CHECK_EQ(fewmul_trainer_new(&cfg, FAKE, 1, &t), 0);
	CHECK_EQ(fewmul_trainer_train(t, &ds, idx, N, 0, &r), 0);
	CHECK_EQ(fewmul_model_save(t, path, &info, err, sizeof(err)), 0);
	for (w = 0; w < 2; w++) {
		CHECK_EQ(fewmul_model_load(path, be[w], 1, &l[w], &got, err, sizeof(err)), 0);
		CHECK_EQ(fewmul_trainer_checksum(l[w]), fewmul_trainer_checksum(t));
		CHECK_EQ(fewmul_trainer_step(l[w]), fewmul_trainer_step(t));
		CHECK_EQ(fewmul_trainer_train(l[w], &ds, idx, N, 1, &r), 0);
		sum[w] = fewmul_trainer_checksum(l[w]);
		CHECK_EQ(fewmul_trainer_step(l[w]), 2 * ((N + 24) / 25));
	}
	CHECK(sum[0] == sum[1]);
	for (w = 0; w < 2; w++)
		fewmul_trainer_free(l[w]);
	fewmul_trainer_free(t);
	unlink(path);
	tap_end("kernel backend (fake device): saved models reload on both backends and continue identically");
}

/*
 * Predictions: the kernel backend's (one EVAL call with @predictions)
 * equal the cpu backend's, the cpu backend's scores' arg-max and, summed
 * per class, eval's confusion matrix.
 */
static void test_predict(void)
{
	struct fewmul_train_config cfg;
	struct fewmul_trainer *t[2];
	struct fewmul_result r = { 0 };
	const char *be[2] = { "cpu", FAKE };
	static uint8_t pred[2][N];
	static int32_t scores[N * 4];
	uint64_t conf[16] = { 0 }, cols[4] = { 0 }, pcols[4] = { 0 };
	uint32_t idx[N], i, k, best, w;

	tap_begin();
	small_cfg(&cfg);
	for (i = 0; i < N; i++)
		idx[i] = i;
	for (w = 0; w < 2; w++) {
		CHECK_EQ(fewmul_trainer_new(&cfg, be[w], 2, &t[w]), 0);
		CHECK_EQ(fewmul_trainer_train(t[w], &ds, idx, N, 0, &r), 0);
		CHECK_EQ(fewmul_trainer_calibrate(t[w], &ds, idx, 200), 0);
		memset(pred[w], 0xee, N);
		CHECK_EQ(fewmul_trainer_predict(t[w], ds.images, N, pred[w], NULL), 0);
	}
	CHECK(memcmp(pred[0], pred[1], N) == 0);
	CHECK_EQ(fewmul_trainer_predict(t[1], ds.images, N, NULL, scores), -EOPNOTSUPP);
	CHECK_EQ(fewmul_trainer_predict(t[0], ds.images, N, NULL, scores), 0);
	CHECK_EQ(fewmul_trainer_eval(t[1], &ds, idx, N, NULL, conf), 0);
	for (i = 0; i < N; i++) {
		for (best = 0, k = 1; k < 4; k++)
			if (scores[i * 4 + k] > scores[i * 4 + best])
				best = k;
		CHECK_EQ(best, pred[0][i]);
		CHECK(pred[0][i] < 4);
		pcols[pred[1][i]]++;
	}
	for (i = 0; i < 16; i++)
		cols[i % 4] += conf[i];
	CHECK(memcmp(cols, pcols, sizeof(cols)) == 0);
	for (w = 0; w < 2; w++)
		fewmul_trainer_free(t[w]);
	tap_end("predict: kernel backend (one EVAL call) equals cpu backend, its scores and eval's confusion");
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
	CHECK_EQ(fewmul_trainer_new(&cfg, "kernel:", 1, &t), -ENODEV);
	CHECK_EQ(fewmul_trainer_new(&cfg, "kernel:/nonexistent/fewmul", 1, &t), -ENOENT);
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

/*
 * fewmul_trainer_counts(): size-extensible (a larger struct's tail is
 * zeroed, a smaller one than the first version refused); a BN training
 * minibatch divides 3 or 4 times per unit (mean and variance forward,
 * the mean and, when it has one, the variance term's coefficient
 * backward), an evaluation never, a calibration twice per unit and
 * minibatch and twice per unit at the end.
 */
static void test_counts(void)
{
	struct fewmul_train_config cfg;
	struct fewmul_trainer *t = NULL;
	const uint64_t units = 40 + 30 + 4;
	uint64_t buf[6], before;
	struct fewmul_counts *c = (struct fewmul_counts *)buf;
	struct fewmul_result r;
	uint32_t idx[N], i;

	tap_begin();
	small_cfg(&cfg);
	for (i = 0; i < N; i++)
		idx[i] = i;
	CHECK_EQ(fewmul_trainer_new(&cfg, "cpu", 2, &t), 0);
	if (!t)
		return;
	CHECK_EQ(fewmul_trainer_counts(NULL, c), -EINVAL);
	CHECK_EQ(fewmul_trainer_counts(t, NULL), -EINVAL);
	c->size = FEWMUL_COUNTS_SIZE_0_9 - 1;
	CHECK_EQ(fewmul_trainer_counts(t, c), -EINVAL);
	memset(buf, 0xcc, sizeof(buf));
	c->size = sizeof(buf);
	CHECK_EQ(fewmul_trainer_counts(t, c), 0);
	CHECK_EQ(c->size, sizeof(buf));
	CHECK_EQ(c->flags, FEWMUL_COUNTS_DIVS);
	CHECK_EQ(c->divs, 0);
	CHECK_EQ(c->saturated, 0);
	CHECK_EQ(buf[3] | buf[4] | buf[5], 0);
	memset(&r, 0, sizeof(r));
	CHECK_EQ(fewmul_trainer_train(t, &ds, idx, cfg.batch, 0, &r), 0);
	CHECK_EQ(fewmul_trainer_counts(t, c), 0);
	CHECK(c->divs >= 3 * units && c->divs <= 4 * units);
	before = c->divs;
	CHECK_EQ(fewmul_trainer_eval(t, &ds, idx, 100, &r, NULL), 0);
	CHECK_EQ(fewmul_trainer_counts(t, c), 0);
	CHECK_EQ(c->divs, before);
	CHECK_EQ(fewmul_trainer_calibrate(t, &ds, idx, 60), 0);
	CHECK_EQ(fewmul_trainer_counts(t, c), 0);
	CHECK_EQ(c->divs, before + 3 * 2 * units + 2 * units);
	fewmul_trainer_free(t);
	tap_end("fewmul_trainer_counts(): size-extensible; divisions of a training minibatch, an evaluation and a calibration");
}

int main(void)
{
	make_data();
	test_arch();
	test_bad_args();
	test_threads();
	test_kernel_fake();
	test_kernel_helpers();
	test_kernel_epoch_pos();
	test_memory();
	test_kernel_datasets();
	test_kernel_save_load();
	test_predict();
	test_counts();
	fake_reset();
	free(ds.images);
	free(ds.labels);
	return tap_done();
}
