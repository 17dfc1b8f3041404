// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libfewmul: trainers, the backend-independent training API. A trainer
 * runs on exactly one backend: cpu (cpu.c, the engine in this process)
 * or kernel (kernel.c, the engine in fewmul.ko).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct fewmul_trainer {
	struct fewmul_train_config pub;
	struct fewmul_config cfg;
	struct fewmul_cpu *cpu;		/* cpu backend, or */
	struct fewmul_kernel *kern;	/* kernel backend */
	const u8 **ptr;		/* [batch] image pointers */
	u8 *lab;		/* [batch] labels */
	u8 *pred;		/* [batch] predictions */
};

_Static_assert(FEWMUL_MAX_LAYERS == FEWMUL_CORE_MAX_LAYERS, "layer limit");
_Static_assert((int)FEWMUL_WEIGHTS_TERNARY == (int)FEWMUL_WMODE_TERNARY, "modes");
_Static_assert((int)FEWMUL_BN_SHIFTBASED == (int)FEWMUL_BN_SHIFT, "bn modes");

FEWMUL_API void fewmul_train_config_default(struct fewmul_train_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->nr_layers = 4;
	cfg->width[0] = 784;
	cfg->width[1] = 1024;
	cfg->width[2] = 1024;
	cfg->width[3] = 1024;
	cfg->width[4] = 10;
	cfg->weights = FEWMUL_WEIGHTS_TERNARY;
	cfg->qbp = 1;
	cfg->bn = FEWMUL_BN_SHIFTBASED;
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
			if (v > FEWMUL_CORE_MAX_WIDTH)
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
	c->wmode = in->weights;
	c->qbp = in->qbp;
	c->bn = in->bn;
	c->qb_emin = in->exp_min;
	c->qb_emax = in->exp_max;
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
	err = fewmul_config_check(&t->cfg);
	if (err)
		goto err_free;
	t->ptr = calloc(t->cfg.batch, sizeof(*t->ptr));
	t->lab = calloc(t->cfg.batch, 1);
	t->pred = calloc(t->cfg.batch, 1);
	if (!t->ptr || !t->lab || !t->pred) {
		err = -ENOMEM;
		goto err_free;
	}
	if (path)
		err = fewmul_kernel_new(&t->cfg, path, &t->kern);
	else
		err = fewmul_cpu_new(&t->cfg, threads ? threads : 1, &t->cpu);
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
	fewmul_cpu_free(t->cpu);
	fewmul_kernel_free(t->kern);
	free(t->ptr);
	free(t->lab);
	free(t->pred);
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

static void add_ops(struct fewmul_ops *dst, const struct fewmul_counters *o)
{
	dst->adds += o->adds;
	dst->shifts += o->shifts;
	dst->muls += o->muls;
}

/*
 * Run plan `kind` over idx[0..n) in batches of cfg.batch (the kernel
 * backend splits the same way, so both see the same minibatches).
 */
static int run_batches(struct fewmul_trainer *t, const struct fewmul_dataset *ds,
		       const uint32_t *idx, uint32_t n, uint32_t epoch, int kind,
		       struct fewmul_result *res, uint64_t *confusion)
{
	struct fewmul_model *m;
	size_t px;
	u32 nk = t->cfg.width[t->cfg.nr_layers];
	uint32_t s, b, l, nb;
	int err;

	err = check_data(t, ds, idx, n);
	if (err)
		return err;
	if (t->kern)
		return n ? fewmul_kernel_run(t->kern, kind, ds, idx, n, epoch,
					     res, confusion) : 0;
	m = fewmul_cpu_model(t->cpu);
	px = (size_t)ds->rows * ds->cols;
	for (s = 0; s < n; s += nb) {
		struct fewmul_counters o = { 0 };
		struct fewmul_counters lo[FEWMUL_CORE_MAX_LAYERS + 1] = { { 0 } };

		nb = n - s < t->cfg.batch ? n - s : t->cfg.batch;
		for (b = 0; b < nb; b++) {
			t->ptr[b] = ds->images + (size_t)idx[s + b] * px;
			t->lab[b] = ds->labels[idx[s + b]];
		}
		err = fewmul_batch_begin(m, t->ptr, t->lab, nb, epoch);
		if (err)
			return err;
		err = fewmul_cpu_run(t->cpu, kind, &o, lo);
		if (err)
			return err;
		if (!res)
			continue;
		add_ops(&res->ops, &o);
		for (l = 0; l <= FEWMUL_CORE_MAX_LAYERS; l++)
			add_ops(&res->layers[l], &lo[l]);
		res->samples += nb;
		if (kind == FEWMUL_PLAN_CALIB)
			continue;
		res->errors += fewmul_batch_errors(m, t->pred);
		res->loss += (double)fewmul_batch_loss(m) /
			     (double)(1u << (2 * FEWMUL_FA));
		if (confusion)
			for (b = 0; b < nb; b++)
				confusion[t->lab[b] * nk + t->pred[b]]++;
	}
	return 0;
}

FEWMUL_API int fewmul_trainer_train(struct fewmul_trainer *t,
				    const struct fewmul_dataset *ds,
				    const uint32_t *idx, uint32_t n,
				    uint32_t epoch, struct fewmul_result *res)
{
	if (!t)
		return -EINVAL;
	return run_batches(t, ds, idx, n, epoch, FEWMUL_PLAN_TRAIN, res, NULL);
}

FEWMUL_API int fewmul_trainer_calibrate(struct fewmul_trainer *t,
					const struct fewmul_dataset *ds,
					const uint32_t *idx, uint32_t n)
{
	struct fewmul_model *m;
	int err;

	if (!t)
		return -EINVAL;
	if (t->kern)	/* the kernel begins and ends the calibration */
		return run_batches(t, ds, idx, n, 0, FEWMUL_PLAN_CALIB, NULL, NULL);
	m = fewmul_cpu_model(t->cpu);
	fewmul_calib_begin(m);
	err = run_batches(t, ds, idx, n, 0, FEWMUL_PLAN_CALIB, NULL, NULL);
	if (err)
		return err;
	fewmul_calib_end(m);
	return 0;
}

FEWMUL_API int fewmul_trainer_eval(struct fewmul_trainer *t,
				   const struct fewmul_dataset *ds,
				   const uint32_t *idx, uint32_t n,
				   struct fewmul_result *res, uint64_t *confusion)
{
	if (!t)
		return -EINVAL;
	return run_batches(t, ds, idx, n, 0, FEWMUL_PLAN_EVAL, res, confusion);
}

/*
 * The kernel backend classifies through FEWMUL_IOC_EVAL: image i alone,
 * with label 0, lands in row 0 of a fresh confusion matrix, in the
 * column of its predicted class. The images are registered for the call
 * and unregistered after it.
 */
static int kernel_predict(struct fewmul_trainer *t, const uint8_t *pixels,
			  uint32_t n, uint8_t *pred)
{
	u32 nk = t->cfg.width[t->cfg.nr_layers], i, k;
	struct fewmul_dataset ds;
	uint64_t *conf;
	uint8_t *lab;
	int err = 0;

	memset(&ds, 0, sizeof(ds));
	ds.count = n;
	ds.rows = 1;
	ds.cols = t->cfg.width[0];
	ds.classes = nk;
	ds.images = (uint8_t *)pixels;
	lab = calloc(n ? n : 1, 1);
	conf = calloc((size_t)nk * nk, sizeof(*conf));
	if (!lab || !conf) {
		err = -ENOMEM;
		goto out;
	}
	ds.labels = lab;
	for (i = 0; i < n && !err; i++) {
		memset(conf, 0, (size_t)nk * nk * sizeof(*conf));
		err = fewmul_kernel_run(t->kern, FEWMUL_PLAN_EVAL, &ds, &i, 1, 0,
					NULL, conf);
		for (k = 0; !err && k < nk; k++) {
			if (conf[k]) {
				if (pred)
					pred[i] = (uint8_t)k;
				break;
			}
		}
		if (!err && k == nk)
			err = -EPROTO;
	}
	fewmul_kernel_forget(t->kern, &ds);
out:
	free(lab);
	free(conf);
	return err;
}

FEWMUL_API int fewmul_trainer_predict(struct fewmul_trainer *t,
				      const uint8_t *pixels, uint32_t n,
				      uint8_t *pred, int32_t *scores)
{
	struct fewmul_counters o = { 0 };
	struct fewmul_model *m;
	u32 L, nk, px, s, b, k, nb;
	int err;

	if (!t || (!pixels && n))
		return -EINVAL;
	if (t->kern)	/* the eval ioctl returns classes, not scores */
		return scores ? -EOPNOTSUPP : kernel_predict(t, pixels, n, pred);
	m = fewmul_cpu_model(t->cpu);
	L = t->cfg.nr_layers;
	nk = t->cfg.width[L];
	px = t->cfg.width[0];
	/* the eval plan computes a loss: give it labels, ignore the loss */
	memset(t->lab, 0, t->cfg.batch);
	for (s = 0; s < n; s += nb) {
		nb = n - s < t->cfg.batch ? n - s : t->cfg.batch;
		for (b = 0; b < nb; b++)
			t->ptr[b] = pixels + (size_t)(s + b) * px;
		err = fewmul_batch_begin(m, t->ptr, t->lab, nb, 0);
		if (!err)
			err = fewmul_cpu_run(t->cpu, FEWMUL_PLAN_EVAL, &o, NULL);
		if (err)
			return err;
		fewmul_batch_errors(m, t->pred);
		for (b = 0; b < nb; b++) {
			if (pred)
				pred[s + b] = t->pred[b];
			if (scores)
				for (k = 0; k < nk; k++)
					scores[(size_t)(s + b) * nk + k] =
						m->y[L][(u64)k * m->bs + b];
		}
	}
	return 0;
}

FEWMUL_API const char *fewmul_default_backend(void)
{
	return access(FEWMUL_DEFAULT_DEVICE, F_OK) == 0 ? "kernel" : "cpu";
}

FEWMUL_API const char *fewmul_trainer_backend(const struct fewmul_trainer *t,
					      const char **path)
{
	if (path)
		*path = t && t->kern ? fewmul_kernel_path(t->kern) : "";
	if (!t)
		return NULL;
	return t->kern ? "kernel" : "cpu";
}

FEWMUL_API uint64_t fewmul_trainer_step(const struct fewmul_trainer *t)
{
	if (!t)
		return 0;
	if (t->kern)
		return fewmul_kernel_step(t->kern);
	return fewmul_cpu_model(t->cpu)->step;
}

FEWMUL_API const void *fewmul_trainer_params(const struct fewmul_trainer *t,
					     size_t *size)
{
	struct fewmul_model *m;

	if (!t)
		return NULL;
	if (t->kern)
		return fewmul_kernel_arena(t->kern, size);
	m = fewmul_cpu_model(t->cpu);
	if (size)
		*size = m->lay.size;
	return m->arena;
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
	struct fewmul_model *m;

	if (!t || !bins)
		return -EINVAL;
	if (layer < 1 || layer >= t->cfg.nr_layers)
		return -EINVAL;
	if (t->kern)
		return fewmul_kernel_hist(t->kern, layer, bins);
	m = fewmul_cpu_model(t->cpu);
	memcpy(bins, m->hist[layer], 32 * sizeof(uint64_t));
	return 0;
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
	if (t->kern)
		return fewmul_kernel_reload(t->kern, step);
	/* The engine is only defined for parameters in its ranges. */
	if (fewmul_params_check(fewmul_cpu_model(t->cpu)))
		return -EINVAL;
	fewmul_cpu_model(t->cpu)->step = step;
	return 0;
}
