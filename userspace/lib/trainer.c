// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libfewmul: trainers, the backend-independent training API. A trainer
 * checks its arguments and hands them to exactly one backend (struct
 * fewmul_backend_ops): cpu (cpu.c, the engine in this process) or kernel
 * (kernel.c, the engine in fewmul.ko). Both run every minibatch through
 * the core's fewmul_batch_step().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct fewmul_trainer {
	struct fewmul_train_config pub;
	struct fewmul_config cfg;
	struct fewmul_backend *be;
};


FEWMUL_API void fewmul_train_config_default(struct fewmul_train_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->nr_layers = 4;
	cfg->width[0] = 784;
	cfg->width[1] = 1024;
	cfg->width[2] = 1024;
	cfg->width[3] = 1024;
	cfg->width[4] = 10;
	cfg->weights = FEWMUL_MODEL_WEIGHTS_TERNARY;
	cfg->qbp = 1;
	cfg->bn = FEWMUL_MODEL_BN_SHIFT2;
	cfg->exp_min = -4;
	cfg->exp_max = 3;
	cfg->lr_shift_start = FEWMUL_DEFAULT_LR_START;
	cfg->lr_shift_end = FEWMUL_DEFAULT_LR_END;
	cfg->epochs = 10;
	cfg->batch = 200;
	cfg->seed = 0;
}

FEWMUL_API int fewmul_parse_arch(const char *s, struct fewmul_train_config *cfg)
{
	uint32_t w[FEWMUL_MAX_LAYERS + 2];
	unsigned int n = 0, i;
	const char *p = s;

	if (!s || !cfg)
		return -EINVAL;
	for (;;) {
		unsigned long v = 0;
		int digits = 0;

		while (*p >= '0' && *p <= '9') {
			v = v * 10 + (unsigned long)(*p - '0');
			if (v > FEWMUL_MAX_WIDTH)
				return -EINVAL;
			p++;
			digits++;
		}
		if (!digits || !v || n >= FEWMUL_MAX_LAYERS + 1)
			return -EINVAL;
		w[n++] = (uint32_t)v;
		if (*p == '\0')
			break;
		if (*p != '-')
			return -EINVAL;
		p++;
	}
	if (n < 2)
		return -EINVAL;
	memset(cfg->width, 0, sizeof(cfg->width));
	for (i = 0; i < n; i++)
		cfg->width[i] = w[i];
	cfg->nr_layers = n - 1;
	return 0;
}

void fewmul_to_core(const struct fewmul_train_config *in, struct fewmul_config *c)
{
	memset(c, 0, sizeof(*c));
	c->nr_layers = in->nr_layers;
	memcpy(c->width, in->width, sizeof(c->width));
	c->weights = in->weights;
	c->qbp = in->qbp;
	c->bn = in->bn;
	c->exp_min = in->exp_min;
	c->exp_max = in->exp_max;
	c->lr_shift_start = in->lr_shift_start;
	c->lr_shift_end = in->lr_shift_end;
	c->epochs = in->epochs;
	c->batch = in->batch;
	c->seed = in->seed;
}

FEWMUL_API int fewmul_trainer_new(const struct fewmul_train_config *cfg,
				  const char *backend, unsigned int threads,
				  struct fewmul_trainer **out)
{
	const char *path = NULL;
	struct fewmul_trainer *t;
	int err;

	if (!cfg || !out)
		return -EINVAL;
	*out = NULL;
	if (!backend)
		backend = "cpu";
	if (!strcmp(backend, "kernel"))
		path = FEWMUL_DEFAULT_DEVICE;
	else if (!strncmp(backend, "kernel:", 7) && backend[7])
		path = backend + 7;
	else if (strcmp(backend, "cpu"))
		return -ENODEV;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->pub = *cfg;
	fewmul_to_core(cfg, &t->cfg);
	/* The one check of this entry point; the backends rely on it. */
	err = fewmul_config_check(&t->cfg);
	if (err)
		goto err_free;
	if (path)
		err = fewmul_kernel_new(&t->cfg, path, threads, &t->be);
	else
		err = fewmul_cpu_new(&t->cfg, threads ? threads : 1, &t->be);
	if (err)
		goto err_free;
	*out = t;
	return 0;

err_free:
	fewmul_trainer_free(t);
	return err;
}

FEWMUL_API void fewmul_trainer_free(struct fewmul_trainer *t)
{
	if (!t)
		return;
	if (t->be)
		t->be->ops->free(t->be);
	free(t);
}

static int check_data(const struct fewmul_trainer *t,
		      const struct fewmul_dataset *ds, const uint32_t *idx,
		      uint32_t n)
{
	uint32_t i;

	if (!ds || (!idx && n))
		return -EINVAL;
	if ((uint64_t)ds->rows * ds->cols != t->cfg.width[0])
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (idx[i] >= ds->count ||
		    ds->labels[idx[i]] >= t->cfg.width[t->cfg.nr_layers])
			return -EINVAL;
	return 0;
}

FEWMUL_API int fewmul_trainer_train(struct fewmul_trainer *t,
				    const struct fewmul_dataset *ds,
				    const uint32_t *idx, uint32_t n,
				    uint32_t epoch, struct fewmul_result *res)
{
	struct fewmul_backend *be;
	int err;

	if (!t)
		return -EINVAL;
	be = t->be;
	err = check_data(t, ds, idx, n);
	if (!err && be->epoch_size && n > be->epoch_size - be->epoch_first)
		err = -EINVAL;
	if (!err && n)
		err = be->ops->run(be, FEWMUL_PLAN_TRAIN, ds, idx, n, epoch,
				   res, NULL);
	/* the place in the epoch applied to this call alone */
	be->epoch_first = be->epoch_size = 0;
	return err;
}

FEWMUL_API uint64_t fewmul_trainer_memory(const struct fewmul_trainer *t)
{
	return t ? t->be->memory : 0;
}

FEWMUL_API int fewmul_trainer_counts(const struct fewmul_trainer *t,
				     struct fewmul_counts *out)
{
	struct fewmul_counts c;

	if (!t || !out || out->size < FEWMUL_COUNTS_SIZE_0_9)
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	c.size = out->size;
	if (t->be->counts) {
		c.flags = FEWMUL_COUNTS_DIVS;
		c.divs = t->be->divs;
		c.saturated = t->be->sats;
	}
	/* a caller's larger struct: its fields beyond ours are zero */
	if (out->size > sizeof(c))
		memset((char *)out + sizeof(c), 0, out->size - sizeof(c));
	memcpy(out, &c, out->size < sizeof(c) ? out->size : sizeof(c));
	return 0;
}

FEWMUL_API int fewmul_trainer_set_epoch_pos(struct fewmul_trainer *t,
					    uint32_t first, uint32_t total)
{
	if (!t || first > total)
		return -EINVAL;
	t->be->epoch_first = total ? first : 0;
	t->be->epoch_size = total;
	return 0;
}

FEWMUL_API int fewmul_trainer_calibrate(struct fewmul_trainer *t,
					const struct fewmul_dataset *ds,
					const uint32_t *idx, uint32_t n)
{
	int err;

	if (!t)
		return -EINVAL;
	err = check_data(t, ds, idx, n);
	if (err)
		return err;
	return t->be->ops->calibrate(t->be, ds, idx, n);
}

FEWMUL_API int fewmul_trainer_eval(struct fewmul_trainer *t,
				   const struct fewmul_dataset *ds,
				   const uint32_t *idx, uint32_t n,
				   struct fewmul_result *res, uint64_t *confusion)
{
	int err;

	if (!t)
		return -EINVAL;
	err = check_data(t, ds, idx, n);
	if (err || !n)
		return err;
	return t->be->ops->run(t->be, FEWMUL_PLAN_EVAL, ds, idx, n, 0, res,
			       confusion);
}

FEWMUL_API int fewmul_trainer_predict(struct fewmul_trainer *t,
				      const uint8_t *pixels, uint32_t n,
				      uint8_t *pred, int32_t *scores)
{
	if (!t || (!pixels && n))
		return -EINVAL;
	return t->be->ops->predict(t->be, pixels, n, pred, scores);
}

FEWMUL_API int fewmul_trainer_set_test_weights(struct fewmul_trainer *t,
					       int test_weights)
{
	if (!t || (test_weights != FEWMUL_TEST_WEIGHTS_TERNARY &&
		   test_weights != FEWMUL_TEST_WEIGHTS_REAL &&
		   test_weights != FEWMUL_TEST_WEIGHTS_SAMPLED))
		return -EINVAL;
	if (!t->be->ops->set_test_weights)
		return test_weights == FEWMUL_TEST_WEIGHTS_TERNARY ? 0 : -EOPNOTSUPP;
	return t->be->ops->set_test_weights(t->be, test_weights);
}

/*
 * After a data-parallel run (both backends): every process's operation
 * counts since before, added up.
 */
int fewmul_coll_reduce_ops(const struct fewmul_collective *coll,
			   struct fewmul_result *res,
			   const struct fewmul_result *before)
{
	int64_t v[3 * (FEWMUL_MAX_LAYERS + 2)];
	struct fewmul_ops *o[FEWMUL_MAX_LAYERS + 2];
	unsigned int k, no = 0;
	int err;

	o[no++] = &res->ops;
	for (k = 0; k < FEWMUL_LAYER_SLOTS; k++)
		o[no++] = &res->layers[k];
	for (k = 0; k < no; k++) {
		const struct fewmul_ops *b = k ? &before->layers[k - 1] : &before->ops;

		v[3 * k] = (int64_t)(o[k]->adds - b->adds);
		v[3 * k + 1] = (int64_t)(o[k]->shifts - b->shifts);
		v[3 * k + 2] = (int64_t)(o[k]->muls - b->muls);
	}
	err = coll->allreduce(coll->ctx, v, 3 * no);
	if (err)
		return err;
	for (k = 0; k < no; k++) {
		const struct fewmul_ops *b = k ? &before->layers[k - 1] : &before->ops;

		o[k]->adds = b->adds + (uint64_t)v[3 * k];
		o[k]->shifts = b->shifts + (uint64_t)v[3 * k + 1];
		o[k]->muls = b->muls + (uint64_t)v[3 * k + 2];
	}
	return 0;
}

/*
 * After a data-parallel evaluation (both backends): this process's
 * confusion counts local[nk * nk], added up over coll and then to
 * confusion.
 */
int fewmul_coll_add_confusion(const struct fewmul_collective *coll,
			      uint64_t *local, uint32_t nk, uint64_t *confusion)
{
	uint32_t i;
	int err;

	err = coll->allreduce(coll->ctx, (int64_t *)local, (size_t)nk * nk);
	if (err)
		return err;
	for (i = 0; i < nk * nk; i++)
		confusion[i] += local[i];
	return 0;
}

FEWMUL_API int fewmul_trainer_set_collective(struct fewmul_trainer *t,
					     const struct fewmul_collective *coll)
{
	if (!t || !coll || !coll->allreduce || coll->size < 1 ||
	    coll->rank >= coll->size)
		return -EINVAL;
	if (!t->be->ops->set_collective)
		return -EOPNOTSUPP;
	return t->be->ops->set_collective(t->be, coll);
}

FEWMUL_API const char *fewmul_default_backend(void)
{
	return access(FEWMUL_DEFAULT_DEVICE, F_OK) == 0 ? "kernel" : "cpu";
}

FEWMUL_API const char *fewmul_trainer_backend(const struct fewmul_trainer *t,
					      const char **path)
{
	if (path)
		*path = t && t->be->ops->path ? t->be->ops->path(t->be) : "";
	if (!t)
		return NULL;
	return t->be->ops->name;
}

FEWMUL_API uint64_t fewmul_trainer_step(const struct fewmul_trainer *t)
{
	if (!t)
		return 0;
	return t->be->ops->step(t->be);
}

FEWMUL_API const void *fewmul_trainer_params(const struct fewmul_trainer *t,
					     size_t *size)
{
	if (!t)
		return NULL;
	return t->be->ops->params(t->be, size);
}

FEWMUL_API uint64_t fewmul_trainer_checksum(const struct fewmul_trainer *t)
{
	const unsigned char *p;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t n, i;

	p = fewmul_trainer_params(t, &n);
	for (i = 0; p && i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

FEWMUL_API int fewmul_trainer_hist(const struct fewmul_trainer *t,
				   unsigned int layer, uint64_t bins[32])
{
	if (!t || !bins)
		return -EINVAL;
	if (layer < 1 || layer >= t->cfg.nr_layers)
		return -EINVAL;
	return t->be->ops->hist(t->be, layer, bins);
}

FEWMUL_API uint64_t fewmul_count_full(const struct fewmul_train_config *cfg,
				      uint32_t batch, int bn)
{
	struct fewmul_config c;

	fewmul_to_core(cfg, &c);
	return fewmul_count_mults_full(&c, batch, bn);
}

FEWMUL_API uint64_t fewmul_count_qb(const struct fewmul_train_config *cfg,
				    uint32_t batch, int bn)
{
	struct fewmul_config c;

	fewmul_to_core(cfg, &c);
	return fewmul_count_mults_qb(&c, batch, bn);
}

FEWMUL_API uint32_t fewmul_lr_shift_at(const struct fewmul_train_config *cfg,
				       uint32_t epoch)
{
	struct fewmul_config c;

	fewmul_to_core(cfg, &c);
	return fewmul_lr_shift(&c, epoch);
}

FEWMUL_API void fewmul_train_config_get(const struct fewmul_trainer *t,
				       struct fewmul_train_config *cfg)
{
	*cfg = t->pub;
}

/* Replace the parameters (little-endian bytes) and the step count. */
int fewmul_trainer_restore(struct fewmul_trainer *t, const void *le,
			   size_t size, uint64_t step)
{
	const unsigned char *p = le;
	unsigned char *arena;
	size_t i, have = 0;

	arena = (unsigned char *)fewmul_trainer_params(t, &have);
	if (size != have)
		return -EINVAL;
	for (i = 0; i + 4 <= size; i += 4) {
		uint32_t v = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 |
			     (uint32_t)p[i + 2] << 16 | (uint32_t)p[i + 3] << 24;

		memcpy(arena + i, &v, 4);
	}
	return t->be->ops->reload(t->be, step);
}
