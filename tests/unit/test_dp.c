// SPDX-License-Identifier: GPL-2.0
/*
 * Data-parallel training without MPI: N trainers in one process, one
 * thread each, add their sums through an in-process all-reduce. Whatever
 * N (1..4, including minibatches smaller than N, where a process has no
 * sample), and whatever the worker threads per process, the weights, the
 * errors, the loss, the confusion matrix and the operation counts must be
 * those of one trainer alone: the engine's sums are exact integers. Each
 * count runs twice: with int64 exchanges only, and with an int32
 * all-reduce too, which the gradients must use whenever their bound
 * fits (and a sum outside int32 is reported as a mismatch).
 *
 * Built with FEWMUL_TEST_DP_KERNEL (test_dp_kernel), the processes are
 * kernel-backend trainers on tests/unit/fakedev.h, the module's
 * data-parallel calls and FEWMUL_IOC_EXCHANGE in miniature, and the
 * one process they must match is still the cpu backend's.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libfewmul.h"
#include "unit/tap.h"
#include "unit/synth.h"
#ifdef FEWMUL_TEST_DP_KERNEL
#include "unit/fakedev.h"
#define DP_BACKEND	"kernel:/dev/null"
#else
#define DP_BACKEND	"cpu"
#endif

#define N	577	/* the last minibatch of 25 has 2 samples */
#define MAXP	4

static struct fewmul_dataset ds;

/* An all-reduce among the threads of one process. */
struct group {
	unsigned int size;
	int narrow;		/* offer an int32 all-reduce too */
	pthread_barrier_t bar;
	int64_t *v[MAXP];
	int32_t *w[MAXP];
	size_t n[MAXP];
	int mismatch;
	unsigned long calls32;
};

struct member {
	struct group *g;
	unsigned int rank;
};

/*
 * Every member's n values (int64, or int32 when narrow) added up in int64
 * and written back to each; a sum outside int32 on the narrow path is a
 * failure of the engine's bound, reported as a mismatch.
 */
static int group_sum(struct member *me, void *v, size_t n, int narrow)
{
	struct group *g = me->g;
	int64_t *sum = calloc(n ? n : 1, sizeof(*sum));
	unsigned int r;
	size_t i;

	if (!sum)
		return -ENOMEM;
	if (narrow)
		g->w[me->rank] = v;
	else
		g->v[me->rank] = v;
	g->n[me->rank] = n;
	pthread_barrier_wait(&g->bar);
	for (r = 0; r < g->size; r++) {
		if (g->n[r] != n) {
			g->mismatch = 1;
			continue;
		}
		for (i = 0; i < n; i++)
			sum[i] += narrow ? g->w[r][i] : g->v[r][i];
	}
	pthread_barrier_wait(&g->bar);	/* everyone has read every v */
	for (i = 0; i < n; i++) {
		if (!narrow) {
			((int64_t *)v)[i] = sum[i];
			continue;
		}
		if (sum[i] > INT32_MAX || sum[i] < INT32_MIN)
			g->mismatch = 1;
		((int32_t *)v)[i] = (int32_t)sum[i];
	}
	if (narrow && !me->rank)
		g->calls32++;
	free(sum);
	return 0;
}

static int group_allreduce(void *ctx, int64_t *v, size_t n)
{
	return group_sum(ctx, v, n, 0);
}

static int group_allreduce32(void *ctx, int32_t *v, size_t n)
{
	return group_sum(ctx, v, n, 1);
}

struct outcome {
	uint64_t sum, step;
	uint64_t train_err[3], test_err;
	double loss[3];
	uint64_t conf[16];
	struct fewmul_ops ops;
	int err;
};

struct job {
	const struct fewmul_train_config *cfg;
	unsigned int threads;
	struct member me;
	int dp;		/* set a collective (also for one process) */
	struct outcome o;
};

static void *train_job(void *arg)
{
	struct job *j = arg;
	struct fewmul_collective coll = {
		.rank = j->me.rank, .size = j->me.g ? j->me.g->size : 1,
		.allreduce = group_allreduce, .ctx = &j->me,
		.allreduce32 = j->me.g && j->me.g->narrow ? group_allreduce32 : NULL,
	};
	struct fewmul_trainer *t;
	uint32_t idx[N], ep, i;
	int err;

	for (i = 0; i < N; i++)
		idx[i] = (i * 7) % N;
	err = fewmul_trainer_new(j->cfg, j->dp ? DP_BACKEND : "cpu", j->threads,
				 &t);
	if (!err && j->dp)
		err = fewmul_trainer_set_collective(t, &coll);
	for (ep = 0; !err && ep < 3; ep++) {
		struct fewmul_result tr = { 0 };

		err = fewmul_trainer_train(t, &ds, idx, N, ep, &tr);
		j->o.train_err[ep] = tr.errors;
		j->o.loss[ep] = tr.loss;
		j->o.ops.adds += tr.ops.adds;
		j->o.ops.shifts += tr.ops.shifts;
		j->o.ops.muls += tr.ops.muls;
	}
	if (!err)
		err = fewmul_trainer_calibrate(t, &ds, idx, 300);
	if (!err) {
		struct fewmul_result te = { 0 };

		err = fewmul_trainer_eval(t, &ds, idx + 300, N - 300, &te,
					  j->o.conf);
		j->o.test_err = te.errors;
	}
	if (!err) {
		j->o.sum = fewmul_trainer_checksum(t);
		j->o.step = fewmul_trainer_step(t);
	}
	j->o.err = err;
	fewmul_trainer_free(t);
	return NULL;
}

static int same(const struct outcome *a, const struct outcome *b)
{
	return a->sum == b->sum && a->step == b->step &&
	       !memcmp(a->train_err, b->train_err, sizeof(a->train_err)) &&
	       !memcmp(a->loss, b->loss, sizeof(a->loss)) &&
	       a->test_err == b->test_err &&
	       !memcmp(a->conf, b->conf, sizeof(a->conf)) &&
	       a->ops.muls == b->ops.muls;
}

/* cfg on p processes of threads workers each; every rank's outcome. */
static int run_group(const struct fewmul_train_config *cfg, unsigned int p,
		     unsigned int threads, int narrow, struct outcome out[MAXP],
		     unsigned long *calls32)
{
	struct group g = { .size = p, .narrow = narrow };
	struct job jobs[MAXP];
	pthread_t th[MAXP];
	unsigned int r;

	pthread_barrier_init(&g.bar, NULL, p);
	memset(jobs, 0, sizeof(jobs));
	for (r = 0; r < p; r++) {
		jobs[r] = (struct job){ .cfg = cfg, .threads = threads,
					.me = { .g = &g, .rank = r }, .dp = 1 };
		pthread_create(&th[r], NULL, train_job, &jobs[r]);
	}
	for (r = 0; r < p; r++) {
		pthread_join(th[r], NULL);
		out[r] = jobs[r].o;
	}
	pthread_barrier_destroy(&g.bar);
	*calls32 = g.calls32;
	return g.mismatch;
}

static void check_config(const char *name, const struct fewmul_train_config *cfg)
{
	struct job alone = { .cfg = cfg, .threads = 1 };
	struct outcome out[MAXP];
	unsigned int p, r, threads;
	char what[200];
	int mismatch, ok, narrow;
	unsigned long calls32;

	train_job(&alone);
	CHECK_EQ(alone.o.err, 0);
	for (p = 1; p <= 2 * MAXP; p++) {
		/* 1..4 processes with int64 exchanges, then with int32 ones */
		narrow = p > MAXP;
		threads = p == 2 ? 2 : 1;
		mismatch = run_group(cfg, narrow ? p - MAXP : p, threads, narrow,
				     out, &calls32);
		ok = !mismatch && (!narrow || calls32);

		for (r = 0; r < (narrow ? p - MAXP : p); r++)
			ok &= out[r].err == 0 && same(&out[r], &alone.o);
		snprintf(what, sizeof(what),
			 "%s: %u processes x %u threads%s give one process's weights (%016llx), errors, loss, confusion and counts",
			 name, narrow ? p - MAXP : p, threads,
			 narrow ? ", int32 gradients" : "",
			 (unsigned long long)alone.o.sum);
		tap_begin();
		CHECK(ok);
		if (!ok)
			for (r = 0; r < (narrow ? p - MAXP : p); r++)
				printf("#   rank %u: err %d checksum %016llx train errors %llu/%llu/%llu (alone %llu/%llu/%llu) test errors %llu (alone %llu) muls %llu (alone %llu)\n",
					 r, out[r].err, (unsigned long long)out[r].sum,
					 (unsigned long long)out[r].train_err[0],
					 (unsigned long long)out[r].train_err[1],
					 (unsigned long long)out[r].train_err[2],
					 (unsigned long long)alone.o.train_err[0],
					 (unsigned long long)alone.o.train_err[1],
					 (unsigned long long)alone.o.train_err[2],
					 (unsigned long long)out[r].test_err,
					 (unsigned long long)alone.o.test_err,
					 (unsigned long long)out[r].ops.muls,
					 (unsigned long long)alone.o.ops.muls);
		tap_end(what);
	}
}

static void base_cfg(struct fewmul_train_config *c)
{
	fewmul_train_config_default(c);
	CHECK_EQ(fewmul_parse_arch("16-40-30-4", c), 0);
	c->batch = 25;
	c->epochs = 3;
	c->seed = 11;
}

/* A one-process "all-reduce" that breaks value `at` of exchange `call`. */
struct corrupt {
	unsigned int calls, call;
	size_t at;
	int64_t value;
};

static int corrupt_allreduce(void *ctx, int64_t *v, size_t n)
{
	struct corrupt *c = ctx;

	if (++c->calls == c->call && c->at < n)
		v[c->at] = c->value;
	return 0;
}

/*
 * The sums an exchange brings back are checked before the step uses
 * them: one value beyond what the minibatch can sum to fails the call
 * with -ERANGE (for the module: user space is not trusted), while the
 * largest legitimate values in the same places pass.
 */
static void test_range(void)
{
	static const struct {
		unsigned int call;
		size_t at;
		int64_t value;
		int err;
	} bad[] = {
		/* sum of Y, layer 1: 25 samples of |Y| < 2^30 */
		{ 1, 0, ((int64_t)25 << 30) + 1, -ERANGE },
		{ 1, 3, -((int64_t)25 << 30) - 1, -ERANGE },
		{ 1, 0, (int64_t)25 << 30, 0 },
		{ 1, 3, -((int64_t)25 << 30), 0 },
		/* squared deviations: not negative */
		{ 2, 0, -1, -ERANGE },
		{ 2, 0, INT64_MAX, -ERANGE },
		{ 2, 0, 0, 0 },
	};
	struct fewmul_train_config cfg;
	struct fewmul_trainer *t;
	struct corrupt cor;
	struct fewmul_collective coll = {
		.rank = 0, .size = 1, .allreduce = corrupt_allreduce, .ctx = &cor,
	};
	struct fewmul_result r;
	uint32_t idx[25], i, k;
	int err, ok = 1;

	for (i = 0; i < 25; i++)
		idx[i] = i;
	base_cfg(&cfg);
	tap_begin();
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		memset(&cor, 0, sizeof(cor));
		cor.call = bad[k].call;
		cor.at = bad[k].at;
		cor.value = bad[k].value;
		memset(&r, 0, sizeof(r));
		err = fewmul_trainer_new(&cfg, DP_BACKEND, 1, &t);
		if (!err)
			err = fewmul_trainer_set_collective(t, &coll);
		if (!err)
			err = fewmul_trainer_train(t, &ds, idx, 25, 0, &r);
		if (err != bad[k].err) {
			printf("#   exchange %u value %zu = %lld: %d, not %d\n",
			       bad[k].call, bad[k].at, (long long)bad[k].value,
			       err, bad[k].err);
			ok = 0;
		}
		fewmul_trainer_free(t);
	}
	CHECK(ok);
	tap_end("a sum out of range from an exchange fails the step with -ERANGE; the bounds pass");
}

static __attribute__((unused)) void test_args(void)
{
	struct fewmul_train_config cfg;
	struct fewmul_trainer *t;
	struct member me = { 0 };
	struct fewmul_collective coll = {
		.rank = 0, .size = 1, .allreduce = group_allreduce, .ctx = &me,
	};
	struct fewmul_collective bad = coll;
	struct fewmul_result r = { 0 };
	uint32_t idx[50], i;

	for (i = 0; i < 50; i++)
		idx[i] = i;
	tap_begin();
	base_cfg(&cfg);
	CHECK_EQ(fewmul_trainer_new(&cfg, "cpu", 1, &t), 0);
	bad.rank = 1;
	CHECK_EQ(fewmul_trainer_set_collective(t, &bad), -EINVAL);
	bad = coll;
	bad.allreduce = NULL;
	CHECK_EQ(fewmul_trainer_set_collective(t, &bad), -EINVAL);
	CHECK_EQ(fewmul_trainer_set_collective(t, NULL), -EINVAL);
	CHECK_EQ(fewmul_trainer_set_collective(NULL, &coll), -EINVAL);
	CHECK_EQ(fewmul_trainer_train(t, &ds, idx, 50, 0, &r), 0);
	/* a trained model may join (a resumed run), once */
	CHECK_EQ(fewmul_trainer_set_collective(t, &coll), 0);
	CHECK_EQ(fewmul_trainer_set_collective(t, &coll), -EBUSY);
	fewmul_trainer_free(t);
	tap_end("set_collective refuses a bad rank, no all-reduce, NULL, a second time");
}

int main(void)
{
	static const char *const impls[] = { "off", "generic", "avx2" };
	struct fewmul_train_config cfg;
	char name[64];
	unsigned int k;

	synth_dataset(&ds, N);
	/* the data-parallel gradient sums of each vector implementation */
	for (k = 0; k < 3; k++) {
		if (fewmul_simd_set(impls[k])) {
			printf("# %s: not available here\n", impls[k]);
			continue;
		}
		base_cfg(&cfg);
		snprintf(name, sizeof(name), "ternary+QB, shift BN, vector kernels %s",
			 fewmul_simd_impl());
		check_config(name, &cfg);
	}
	fewmul_simd_set("auto");
	base_cfg(&cfg);
	cfg.weights = FEWMUL_WEIGHTS_FULL;
	cfg.qbp = 0;
	check_config("full, shift BN", &cfg);
	base_cfg(&cfg);
	cfg.weights = FEWMUL_WEIGHTS_BINARY_STOCH;
	cfg.bn = FEWMUL_BN_OFF;
	check_config("binary-stoch+QB without BN", &cfg);
	base_cfg(&cfg);
	cfg.qbp = 0;
	check_config("ternary without QB", &cfg);
	test_range();
#ifdef FEWMUL_TEST_DP_KERNEL
	tap_begin();
	CHECK(fake_xchg_calls > 0);
	CHECK(fake_xchg32_calls > 0);
	tap_end("the steps exchanged their sums through FEWMUL_IOC_EXCHANGE, int32 gradients too");
#else
	test_args();
#endif
	free(ds.images);
	free(ds.labels);
	return tap_done();
}
