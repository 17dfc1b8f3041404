/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A stand-in for fewmul.ko's training ioctls, for native tests of the
 * library's kernel backend: the test binary defines ioctl(), which
 * answers the FEWMUL_IOC_* requests (on any fd; "kernel:/dev/null" gives
 * the backend a real fd) by running the same engine the module runs,
 * following the kernel-doc of uapi/linux/fewmul.h, and passes every other
 * request to the real system call. With fake_interrupt set, some calls
 * stop early as a signal would make them: -EINTR before the first
 * minibatch, or @done short of the total (a calibration then fails with
 * -EINTR and stores nothing). FEWMUL_IOC_HELP blocks until a
 * FEWMUL_HELP_STOP on the context (the fake runs every share itself, so
 * helpers only count). With fake_legacy set it is a module of the first
 * ABI: only the _IO() encodings, no HELP.
 *
 * Data parallel (FEWMUL_RUN_DATA_PARALLEL, FEWMUL_IOC_EXCHANGE) follows
 * the module too: the step posts each exchange in the exchange buffer and
 * waits for a FEWMUL_XCHG_WAIT caller's FEWMUL_XCHG_DONE; contexts may be
 * used from several threads at once (one per simulated process).
 */
#ifndef FEWMUL_TEST_FAKEDEV_H
#define FEWMUL_TEST_FAKEDEV_H

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/fewmul.h>

#include "fewmul_engine.h"

#define FAKE_CTXS 8
#define FAKE_LAYERS (FEWMUL_MAX_LAYERS + 1)

struct fake_buf {
	uint64_t addr;
	uint64_t len;
	uint32_t flags;
	int used;
};

struct fake_ctx {
	int fd;
	int used;
	struct fake_buf buf[FEWMUL_MAX_BUFFERS];
	uint32_t arena;		/* handle of the model's arena, 0: no model */
	struct fewmul_model m;
	void *scratch;
	const u8 **ptr;
	u8 *lab;
	struct fewmul_counters layer_ops[FAKE_LAYERS];
	struct fewmul_counters ops;
	uint64_t samples, errors;
	int64_t loss;
	unsigned int helpers;	/* threads in FEWMUL_IOC_HELP */
	int stopped;		/* FEWMUL_HELP_STOP */
	/* data parallel; the exchange fields under fake_x_lock */
	void *dp;		/* FEWMUL_MODEL_DATA_PARALLEL */
	struct fake_buf *xb;	/* the running call's exchange buffer */
	uint32_t hxb;
	int xstate;		/* 0 idle, 1 posted, 2 claimed, 3 done */
	int xstopped;
	uint64_t xseq;
	uint32_t xcount;
	uint32_t xwidth;
	int xerror;
};

static struct fake_ctx fake_ctx[FAKE_CTXS];
static unsigned int fake_calls;		/* TRAIN and EVAL calls */
static int fake_interrupt;		/* stop some calls early */
static unsigned int fake_nr_intr;	/* calls stopped early */
/* progress as the module reports it: the last epoch position, its total */
static uint64_t fake_epoch_pos, fake_epoch_total;
static unsigned int fake_epoch_skips;	/* positions not one past the last */
static unsigned int fake_max_bufs;	/* most buffers a context held */
static int fake_legacy;			/* a module of the first ABI */
static unsigned int fake_workers = 1;	/* nr_workers it reports */
static unsigned int fake_help_calls;	/* FEWMUL_IOC_HELP calls to help */
static unsigned int fake_stops;		/* FEWMUL_HELP_STOP calls */
static pthread_mutex_t fake_help_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fake_help_cond = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t fake_x_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fake_x_cond = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t fake_tab_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int fake_xchg_calls;	/* exchanges a step posted */
static unsigned int fake_xchg32_calls;	/* of them, int32 gradients */

static void fake_model_free(struct fake_ctx *c)
{
	free(c->scratch);
	free(c->ptr);
	free(c->lab);
	free(c->dp);
	c->dp = NULL;
	c->scratch = NULL;
	c->ptr = NULL;
	c->lab = NULL;
	c->arena = 0;
}

/* Release every context (the test's "module unload"). */
static inline void fake_reset(void)
{
	unsigned int i;

	for (i = 0; i < FAKE_CTXS; i++)
		fake_model_free(&fake_ctx[i]);
	memset(fake_ctx, 0, sizeof(fake_ctx));
}

/* FEWMUL_IOC_INFO opens a context: the library calls it first. */
static struct fake_ctx *fake_open(int fd)
{
	struct fake_ctx *c = NULL;
	unsigned int i;

	pthread_mutex_lock(&fake_tab_lock);
	for (i = 0; i < FAKE_CTXS; i++)
		if (fake_ctx[i].used && fake_ctx[i].fd == fd)
			break;
	if (i == FAKE_CTXS)
		for (i = 0; i < FAKE_CTXS && fake_ctx[i].used; i++)
			;
	if (i < FAKE_CTXS) {
		c = &fake_ctx[i];
		fake_model_free(c);
		memset(c, 0, sizeof(*c));
		c->used = 1;
		c->fd = fd;
	}
	pthread_mutex_unlock(&fake_tab_lock);
	return c;
}

static struct fake_ctx *fake_find(int fd)
{
	struct fake_ctx *c = NULL;
	unsigned int i;

	pthread_mutex_lock(&fake_tab_lock);
	for (i = 0; i < FAKE_CTXS; i++)
		if (fake_ctx[i].used && fake_ctx[i].fd == fd)
			c = &fake_ctx[i];
	pthread_mutex_unlock(&fake_tab_lock);
	return c;
}

static struct fake_buf *fake_buf(struct fake_ctx *c, uint32_t h)
{
	if (h < 1 || h > FEWMUL_MAX_BUFFERS || !c->buf[h - 1].used)
		return NULL;
	return &c->buf[h - 1];
}

static int fake_info(int fd, struct fewmul_info *in)
{
	if (!fake_open(fd))
		return -EMFILE;
	if (in->size < sizeof(*in) || in->flags)
		return -EINVAL;
	memset(&in->abi_version, 0, sizeof(*in) - 8);
	in->abi_version = FEWMUL_ABI_VERSION;
	in->nr_workers = fake_workers;
	in->features = FEWMUL_FEATURE_INFO | FEWMUL_FEATURE_GENL_INFO |
		       FEWMUL_FEATURE_TRAIN | FEWMUL_FEATURE_RUN_OUTPUTS |
		       FEWMUL_FEATURE_RUN_EPOCH |
		       (fake_legacy ? 0 : FEWMUL_FEATURE_HELP |
					  FEWMUL_FEATURE_EXCHANGE |
					  FEWMUL_FEATURE_DIVS |
					  FEWMUL_FEATURE_BN_SHIFT2);
	in->max_layers = FEWMUL_MAX_LAYERS;
	in->max_width = FEWMUL_MAX_WIDTH;
	in->max_batch = FEWMUL_MAX_BATCH;
	in->max_scratch_bytes = 1ULL << 30;
	return 0;
}

static int fake_register(struct fake_ctx *c, struct fewmul_buf_register *r)
{
	unsigned int i, n = 0;

	if (r->size != sizeof(*r) || (r->flags & ~FEWMUL_BUF_FLAGS_ALL) ||
	    r->pad || !r->length || r->length > FEWMUL_MAX_BUF_BYTES || !r->addr)
		return -EINVAL;
	for (i = 0; i < FEWMUL_MAX_BUFFERS && c->buf[i].used; i++)
		;
	if (i == FEWMUL_MAX_BUFFERS)
		return -ENOSPC;
	c->buf[i].used = 1;
	c->buf[i].addr = r->addr;
	c->buf[i].len = r->length;
	c->buf[i].flags = r->flags;
	r->handle = i + 1;
	for (i = 0; i < FEWMUL_MAX_BUFFERS; i++)
		n += c->buf[i].used;
	if (n > fake_max_bufs)
		fake_max_bufs = n;
	return 0;
}

static int fake_unregister(struct fake_ctx *c, struct fewmul_buf_unregister *u)
{
	struct fake_buf *b;

	if (u->size != sizeof(*u) || u->flags || u->pad)
		return -EINVAL;
	b = fake_buf(c, u->handle);
	if (!b)
		return -ENOENT;
	if (u->handle == c->arena)
		return -EBUSY;
	memset(b, 0, sizeof(*b));
	return 0;
}

static int fake_model_create(struct fake_ctx *c, struct fewmul_model_create *mc)
{
	struct fewmul_config cfg;
	struct fewmul_layout lay;
	struct fake_buf *b;
	uint64_t ss;

	if (mc->size != sizeof(*mc) || (mc->flags & ~FEWMUL_MODEL_FLAGS_ALL))
		return -EINVAL;
	fewmul_config_from_create(&cfg, mc);
	if (fewmul_config_check(&cfg))
		return -EINVAL;
	b = fake_buf(c, mc->arena);
	if (!b)
		return -ENOENT;
	if (!(b->flags & FEWMUL_BUF_WRITE))
		return -EACCES;
	fewmul_layout(&cfg, &lay);
	if (b->len != lay.size)
		return -EINVAL;

	fake_model_free(c);
	ss = fewmul_scratch_size(&cfg);
	c->scratch = aligned_alloc(64, (ss + 63) & ~63ULL);
	c->ptr = calloc(cfg.batch, sizeof(*c->ptr));
	c->lab = calloc(cfg.batch, 1);
	if (!c->scratch || !c->ptr || !c->lab) {
		fake_model_free(c);
		return -ENOMEM;
	}
	memset(c->scratch, 0, ss);
	if (mc->flags & FEWMUL_MODEL_DATA_PARALLEL) {
		c->dp = calloc(1, fewmul_dp_size(&cfg));
		if (!c->dp) {
			fake_model_free(c);
			return -ENOMEM;
		}
	}
	fewmul_model_bind(&c->m, &cfg, (void *)(uintptr_t)b->addr, c->scratch);
	if (mc->flags & FEWMUL_MODEL_INIT)
		fewmul_model_init_params(&c->m);
	else
		c->m.step = mc->step;
	c->arena = mc->arena;
	memset(c->layer_ops, 0, sizeof(c->layer_ops));
	memset(&c->ops, 0, sizeof(c->ops));
	c->samples = c->errors = 0;
	c->loss = 0;
	mc->scratch_bytes = ss;
	return 0;
}

static void fake_add(struct fewmul_counters *d, const struct fewmul_counters *s)
{
	d->adds += s->adds;
	d->shifts += s->shifts;
	d->muls += s->muls;
	d->divs += s->divs;
	d->sats += s->sats;
}

/* struct fewmul_model.exchange: as the module's fewmul_xchg_post() */
static int fake_xchg_post(struct fake_ctx *c, void *v, u32 n, u32 width)
{
	int err;

	memcpy((void *)(uintptr_t)c->xb->addr, v, (size_t)n * width);
	pthread_mutex_lock(&fake_x_lock);
	fake_xchg_calls++;
	if (!c->xstopped) {
		c->xseq++;
		c->xcount = n;
		c->xwidth = width;
		c->xerror = 0;
		c->xstate = 1;
		pthread_cond_broadcast(&fake_x_cond);
	}
	while (!c->xstopped && c->xstate != 3)
		pthread_cond_wait(&fake_x_cond, &fake_x_lock);
	err = c->xstate == 3 ? c->xerror : -ESHUTDOWN;
	c->xstate = 0;
	pthread_mutex_unlock(&fake_x_lock);
	if (!err)
		memcpy(v, (void *)(uintptr_t)c->xb->addr, (size_t)n * width);
	return err;
}

static int fake_xchg_step(void *ctx, s64 *v, u32 n)
{
	return fake_xchg_post(ctx, v, n, sizeof(*v));
}

static int fake_xchg_step32(void *ctx, s32 *v, u32 n)
{
	fake_xchg32_calls++;
	return fake_xchg_post(ctx, v, n, sizeof(*v));
}

static int fake_exchange(struct fake_ctx *c, struct fewmul_exchange *x)
{
	int ret = 0;

	if (x->size != sizeof(*x) || x->flags ||
	    (x->op != FEWMUL_XCHG_DONE && x->error) || x->error > 0 ||
	    x->error < -FEWMUL_XCHG_MAX_ERRNO)
		return -EINVAL;
	pthread_mutex_lock(&fake_x_lock);
	switch (x->op) {
	case FEWMUL_XCHG_WAIT:
		while (!c->xstopped && c->xstate != 1)
			pthread_cond_wait(&fake_x_cond, &fake_x_lock);
		if (c->xstopped) {
			ret = -ESHUTDOWN;
			break;
		}
		c->xstate = 2;
		x->seq = c->xseq;
		x->count = c->xcount;
		x->width = c->xwidth;
		x->buffer = c->hxb;
		break;
	case FEWMUL_XCHG_DONE:
		if (c->xstate != 2)
			ret = -ENOENT;
		else if (x->seq != c->xseq || x->count != c->xcount ||
			 x->width != c->xwidth)
			ret = -EINVAL;
		else {
			c->xerror = x->error;
			c->xstate = 3;
		}
		break;
	case FEWMUL_XCHG_STOP:
		c->xstopped = 1;
		break;
	default:
		ret = -EINVAL;
	}
	pthread_cond_broadcast(&fake_x_cond);
	pthread_mutex_unlock(&fake_x_lock);
	return ret;
}

/* The module's checks of a data-parallel call (fewmul_run_check_dp()). */
static int fake_run_dp(struct fake_ctx *c, const struct fewmul_run *r)
{
	struct fake_buf *xb;

	if (!(r->flags & FEWMUL_RUN_DATA_PARALLEL))
		return r->dp_rank || r->dp_size || r->dp_buffer ||
		       (r->flags & FEWMUL_RUN_DP_INT32) ? -EINVAL : 0;
	if (!r->dp_size || r->dp_rank >= r->dp_size || r->predictions ||
	    !c->dp)
		return -EINVAL;
	xb = fake_buf(c, r->dp_buffer);
	if (!xb)
		return -ENOENT;
	if (!(xb->flags & FEWMUL_BUF_WRITE))
		return -EACCES;
	if (r->dp_buffer == c->arena ||
	    xb->len < fewmul_xchg_max(&c->m.cfg) * sizeof(s64))
		return -EINVAL;
	return 0;
}

/*
 * The module's run loop in miniature: the same core step, its phases
 * split over three "workers" run one after the other (any split gives
 * the module's result).
 */
static int fake_run(struct fake_ctx *c, struct fewmul_run *r, int train)
{
	const struct fewmul_config *cfg = &c->m.cfg;
	const uint32_t *idx = (const uint32_t *)(uintptr_t)r->indices;
	struct fewmul_op_counts *lops = (void *)(uintptr_t)r->layer_ops;
	uint8_t *pred = (uint8_t *)(uintptr_t)r->predictions;
	struct fewmul_counters wops[3 * FAKE_LAYERS];
	struct fewmul_exec ex = { .nr_workers = 3, .ops = wops };
	struct fewmul_step_result res;
	struct fewmul_batch bt = { 0 };
	struct fake_buf *img, *lab;
	uint32_t B, n0, nb, limit, i, b;
	int calib = r->flags & FEWMUL_RUN_CALIBRATE, err;
	int dp = r->flags & FEWMUL_RUN_DATA_PARALLEL;
	unsigned int call, p;
	uint32_t lo = 0;

	if (r->size != sizeof(*r) || (r->flags & ~FEWMUL_RUN_FLAGS_ALL) ||
	    (train && calib) || (pred && (train || calib)) ||
	    ((!train || !r->epoch_total) && (r->epoch_done || r->epoch_total)) ||
	    r->pad)
		return -EINVAL;
	if (!c->arena)
		return -ENODEV;
	err = fake_run_dp(c, r);
	if (err)
		return err;
	if (c->dp) {
		fewmul_dp_bind(&c->m, c->dp, dp ? fake_xchg_step : NULL,
			       dp && (r->flags & FEWMUL_RUN_DP_INT32) ?
			       fake_xchg_step32 : NULL, c);
		c->xb = dp ? fake_buf(c, r->dp_buffer) : NULL;
		c->hxb = r->dp_buffer;
	}
	B = cfg->batch;
	n0 = cfg->width[0];
	img = fake_buf(c, r->images);
	lab = fake_buf(c, r->labels);
	if (!img || !lab)
		return -ENOENT;
	if (!r->nr_indices || r->nr_indices > (1u << 24) || !idx ||
	    (uint64_t)r->nr_samples * n0 > img->len || r->nr_samples > lab->len)
		return -EINVAL;
	for (i = 0; i < r->nr_indices; i++)
		if (idx[i] >= r->nr_samples)
			return -EINVAL;
	bt.kind = train ? FEWMUL_PLAN_TRAIN : calib ? FEWMUL_PLAN_CALIB :
		  FEWMUL_PLAN_EVAL;
	bt.images = c->ptr;
	bt.labels = c->lab;
	bt.epoch = r->epoch;
	bt.confusion = bt.kind == FEWMUL_PLAN_EVAL ?
		       (uint64_t *)(uintptr_t)r->confusion : NULL;
	nb = (r->nr_indices + B - 1) / B;
	if (r->epoch_total && (r->epoch_total < nb ||
			       r->epoch_done > r->epoch_total - nb))
		return -EINVAL;
	limit = nb;
	call = ++fake_calls;
	if (fake_interrupt && call % 5 == 2) {
		fake_nr_intr++;
		return -EINTR;	/* a signal before the first minibatch */
	}
	if (fake_interrupt && call % 3 == 1 && nb > 1) {
		limit = 1 + call % (nb - 1);
		fake_nr_intr++;
	}
	r->done = r->errors = r->adds = r->shifts = r->muls = 0;
	r->divs = r->saturated = 0;
	r->loss = 0;
	if (lops)
		memset(lops, 0, (cfg->nr_layers + 1) * sizeof(*lops));
	if (calib)
		fewmul_calib_begin(&c->m);
	for (i = 0; i < limit; i++) {
		uint32_t s = i * B;
		const u8 *labels = (const u8 *)(uintptr_t)lab->addr;

		bt.nb = r->nr_indices - s < B ? r->nr_indices - s : B;
		bt.pred = pred ? pred + s : NULL;
		if (dp) {
			uint32_t nbg = bt.nb;

			lo = (uint32_t)((uint64_t)nbg * r->dp_rank / r->dp_size);
			bt.nb = (uint32_t)((uint64_t)nbg * (r->dp_rank + 1) /
					   r->dp_size) - lo;
			bt.nb_global = nbg;
			bt.offset = lo;
			s += lo;
		}
		for (b = 0; b < bt.nb; b++) {
			c->ptr[b] = (const u8 *)(uintptr_t)img->addr +
				    (uint64_t)idx[s + b] * n0;
			c->lab[b] = labels[idx[s + b]];
		}
		err = fewmul_batch_step(&c->m, &ex, &bt, &res);
		if (err)
			return err;
		r->errors += res.errors;
		r->loss += res.loss;
		if (train) {
			c->samples += bt.nb;
			c->errors += res.errors;
			c->loss += res.loss;
		}
		r->adds += res.ops.adds;
		r->shifts += res.ops.shifts;
		r->muls += res.ops.muls;
		r->divs += res.ops.divs;
		r->saturated += res.ops.sats;
		fake_add(&c->ops, &res.ops);
		for (p = 0; p < FAKE_LAYERS; p++) {
			fake_add(&c->layer_ops[p], &res.layers[p]);
			if (lops && p <= cfg->nr_layers) {
				lops[p].adds += res.layers[p].adds;
				lops[p].shifts += res.layers[p].shifts;
				lops[p].muls += res.layers[p].muls;
			}
		}
		r->done++;
		if (train && r->epoch_total) {
			if (r->epoch_done + r->done != fake_epoch_pos + 1)
				fake_epoch_skips++;
			fake_epoch_pos = r->epoch_done + r->done;
			fake_epoch_total = r->epoch_total;
		}
	}
	if (calib) {
		if (limit < nb)
			return -EINTR;	/* all or nothing */
		memset(&res, 0, sizeof(res));
		fewmul_calib_end(&c->m, &res);
		r->divs += res.ops.divs;
		fake_add(&c->ops, &res.ops);
		for (p = 0; p < FAKE_LAYERS; p++)
			fake_add(&c->layer_ops[p], &res.layers[p]);
	}
	return 0;
}

static int fake_stats(struct fake_ctx *c, struct fewmul_stats *s)
{
	if (s->size != sizeof(*s) || s->flags)
		return -EINVAL;
	if (!c->arena)
		return -ENODEV;
	s->step = c->m.step;
	s->samples = c->samples;
	s->errors = c->errors;
	s->loss = c->loss;
	s->adds = c->ops.adds;
	s->shifts = c->ops.shifts;
	s->muls = c->ops.muls;
	s->divs = c->ops.divs;
	s->saturated = c->ops.sats;
	return 0;
}

static int fake_hist(struct fake_ctx *c, struct fewmul_hist *h)
{
	if (h->size != sizeof(*h) || h->flags || h->pad)
		return -EINVAL;
	if (!c->arena)
		return -ENODEV;
	if (h->layer > c->m.cfg.nr_layers)
		return -EINVAL;
	h->adds = c->layer_ops[h->layer].adds;
	h->shifts = c->layer_ops[h->layer].shifts;
	h->muls = c->layer_ops[h->layer].muls;
	h->divs = c->layer_ops[h->layer].divs;
	h->saturated = c->layer_ops[h->layer].sats;
	memset(h->bins, 0, sizeof(h->bins));
	if (h->layer >= 1 && h->layer < c->m.cfg.nr_layers)
		memcpy(h->bins, c->m.hist[h->layer], sizeof(h->bins));
	return 0;
}

static int fake_help(struct fake_ctx *c, struct fewmul_help *h)
{
	if (h->size != sizeof(*h) || h->flags & ~FEWMUL_HELP_FLAGS_ALL)
		return -EINVAL;
	h->shares = 0;
	pthread_mutex_lock(&fake_help_lock);
	if (h->flags & FEWMUL_HELP_STOP) {
		c->stopped = 1;
		fake_stops++;
		pthread_cond_broadcast(&fake_help_cond);
	} else {
		c->helpers++;
		fake_help_calls++;
		while (!c->stopped)
			pthread_cond_wait(&fake_help_cond, &fake_help_lock);
		c->helpers--;
	}
	pthread_mutex_unlock(&fake_help_lock);
	return 0;
}

/*
 * The command's number, from either encoding the module accepts (only
 * _IO() for a legacy module); -1: not a command of this module.
 */
static int fake_cmd(unsigned long req, const void *arg)
{
	unsigned int nr = _IOC_NR(req);

	if (req == FEWMUL_IOC_LEGACY(nr) && nr <= FEWMUL_IOC_NR_HIST)
		return (int)nr;
	if (fake_legacy || _IOC_DIR(req) != (_IOC_READ | _IOC_WRITE) ||
	    !arg || _IOC_SIZE(req) != *(const uint32_t *)arg)
		return -1;
	return (int)nr;
}

int ioctl(int fd, unsigned long req, ...)
{
	struct fake_ctx *c;
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (_IOC_TYPE(req) != FEWMUL_IOC_TYPE)
		return (int)syscall(SYS_ioctl, fd, req, arg);
	c = fake_find(fd);
	switch (fake_cmd(req, arg)) {
	case FEWMUL_IOC_NR_INFO:
		ret = fake_info(fd, arg);
		break;
	case FEWMUL_IOC_NR_BUF_REGISTER:
		ret = c ? fake_register(c, arg) : -ENOTTY;
		break;
	case FEWMUL_IOC_NR_BUF_UNREGISTER:
		ret = c ? fake_unregister(c, arg) : -ENOTTY;
		break;
	case FEWMUL_IOC_NR_MODEL_CREATE:
		ret = c ? fake_model_create(c, arg) : -ENOTTY;
		break;
	case FEWMUL_IOC_NR_TRAIN:
		ret = c ? fake_run(c, arg, 1) : -ENOTTY;
		break;
	case FEWMUL_IOC_NR_EVAL:
		ret = c ? fake_run(c, arg, 0) : -ENOTTY;
		break;
	case FEWMUL_IOC_NR_STATS:
		ret = c ? fake_stats(c, arg) : -ENOTTY;
		break;
	case FEWMUL_IOC_NR_HIST:
		ret = c ? fake_hist(c, arg) : -ENOTTY;
		break;
	case FEWMUL_IOC_NR_HELP:
		ret = c ? fake_help(c, arg) : -ENOTTY;
		break;
	case FEWMUL_IOC_NR_EXCHANGE:
		ret = c ? fake_exchange(c, arg) : -ENOTTY;
		break;
	default:
		ret = -ENOTTY;
	}
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return 0;
}

#endif
