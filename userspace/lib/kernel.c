// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libfewmul: the "kernel" backend, the engine of fewmul.ko driven through
 * the training ioctls of /dev/fewmul (one context per trainer).
 *
 * The parameters live in an anonymous mapping of this process that is
 * registered with FEWMUL_BUF_WRITE and made the model's arena, so reading
 * the parameters (checksum, saving) is a plain memory read and restoring
 * a saved model is a write followed by FEWMUL_IOC_MODEL_CREATE without
 * FEWMUL_MODEL_INIT. Datasets are registered on first use and cached by
 * their image and label pointers. The kernel splits the index list into
 * minibatches of the model's batch size exactly as the cpu backend does,
 * so both backends train the same minibatches and end bit-identical.
 *
 * The module runs a step's phases only in threads the caller gives it:
 * the thread that calls TRAIN/EVAL and helper threads of this process
 * that wait in FEWMUL_IOC_HELP on the context, so the training's CPU time
 * is this process's and follows its cgroup, affinity and nice value. A
 * trainer starts nthreads - 1 helpers with every signal blocked (signals
 * reach the application's threads) and stops them with FEWMUL_HELP_STOP
 * when it is freed.
 *
 * Data parallel (fewmul_trainer_set_collective()): the model is created
 * again with FEWMUL_MODEL_DATA_PARALLEL, and one more thread, also with
 * every signal blocked, serves the exchanges of the steps: it waits in
 * FEWMUL_IOC_EXCHANGE for a step's partial sums, adds them up across the
 * processes in the exchange buffer (the collective's all-reduce) and
 * lets the step go on. The calling thread is in TRAIN/EVAL meanwhile, so
 * the all-reduces of the two threads never overlap (what
 * MPI_THREAD_SERIALIZED asks). Errors, loss, operation counts and the
 * confusion matrix come back per process and are added up after each
 * run, as the cpu backend does.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

/* Datasets a trainer keeps registered (two buffers each, plus the arena). */
#define KDS_MAX		4
/*
 * Indices per TRAIN/EVAL ioctl: the module's limit (2^24). A variable,
 * not exported from the shared library, so that the tests can cut calls
 * at a few minibatches.
 */
uint32_t fewmul_krun_max = 1u << 24;

_Static_assert(1 + 2 * KDS_MAX <= FEWMUL_MAX_BUFFERS, "buffer slots");

/* A registered dataset: samples [0, count) of images and labels. */
struct kds {
	const uint8_t *images;	/* cache key: pointers and count */
	const uint8_t *labels;
	uint32_t ds_count;
	uint32_t count;		/* samples registered (a prefix) */
	uint32_t himg;		/* 0: slot free */
	uint32_t hlab;
	uint64_t used;		/* LRU clock */
};

struct fewmul_kernel {
	struct fewmul_backend be;
	int fd;
	char *path;
	struct fewmul_config cfg;
	void *arena;
	size_t size;		/* parameter bytes */
	size_t map_size;	/* page-rounded mapping */
	uint32_t harena;
	struct kds ds[KDS_MAX];
	uint64_t clock;
	uint64_t step;		/* last known, if FEWMUL_IOC_STATS fails */
	int run_epoch;		/* FEWMUL_FEATURE_RUN_EPOCH */
	int legacy;		/* the module knows only the _IO() commands */
	pthread_t *helpers;	/* threads in FEWMUL_IOC_HELP */
	unsigned int nr_helpers;
	pid_t pid;		/* process that started them */
	int exchange;		/* FEWMUL_FEATURE_EXCHANGE */
	/* data parallel (fewmul_trainer_set_collective()) */
	struct fewmul_collective coll;
	int dp;
	void *xbuf;		/* the exchange buffer, mapped */
	size_t xbuf_size;
	uint32_t hxbuf;
	pthread_t xthread;	/* serves FEWMUL_IOC_EXCHANGE */
	int xthread_on;
	uint64_t *conf;		/* this process's confusion counts */
};

#define kern_of(b) ((struct fewmul_kernel *)((char *)(b) - \
					     offsetof(struct fewmul_kernel, be)))

static const struct fewmul_backend_ops kernel_ops;
static void kernel_free(struct fewmul_backend *be);

static int kioctl(const struct fewmul_kernel *k, unsigned long req, void *arg)
{
	int ret;

	do
		ret = ioctl(k->fd, fewmul_ioc(req, k->legacy), arg);
	while (ret < 0 && errno == EINTR && req != FEWMUL_IOC_TRAIN &&
	       req != FEWMUL_IOC_EVAL);
	return ret < 0 ? -errno : 0;
}

static int kbuf_register(struct fewmul_kernel *k, const void *addr,
			 uint64_t len, uint32_t flags, uint32_t *handle)
{
	struct fewmul_buf_register r;
	int err;

	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.flags = flags;
	r.addr = (uintptr_t)addr;
	r.length = len;
	err = kioctl(k, FEWMUL_IOC_BUF_REGISTER, &r);
	if (err)
		return err;
	if (!r.handle)
		return -EPROTO;
	*handle = r.handle;
	return 0;
}

static void kbuf_unregister(struct fewmul_kernel *k, uint32_t handle)
{
	struct fewmul_buf_unregister u;

	if (!handle)
		return;
	memset(&u, 0, sizeof(u));
	u.size = sizeof(u);
	u.handle = handle;
	kioctl(k, FEWMUL_IOC_BUF_UNREGISTER, &u);
}

static int kmodel_create(struct fewmul_kernel *k, uint32_t arena,
			 uint32_t flags, uint64_t step)
{
	struct fewmul_model_create mc;
	int err;

	memset(&mc, 0, sizeof(mc));
	mc.size = sizeof(mc);
	mc.flags = flags | (k->dp ? FEWMUL_MODEL_DATA_PARALLEL : 0);
	mc.arena = arena;
	fewmul_config_to_create(&k->cfg, &mc);
	mc.step = step;
	err = kioctl(k, FEWMUL_IOC_MODEL_CREATE, &mc);
	if (!err)
		k->be.memory = mc.scratch_bytes;
	return err;
}

/*
 * Private anonymous memory of len bytes rounded up to whole pages (the
 * rounded size in *mapped), for a buffer to register; MAP_FAILED and
 * errno on failure.
 */
static void *kmap_anon(size_t len, size_t *mapped)
{
	long page = sysconf(_SC_PAGESIZE);

	if (page <= 0)
		page = 4096;
	*mapped = (len + (size_t)page - 1) & ~((size_t)page - 1);
	return mmap(NULL, *mapped, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/* A helper: runs shares of the context's steps until FEWMUL_HELP_STOP. */
static void *khelper(void *arg)
{
	struct fewmul_kernel *k = arg;
	struct fewmul_help h;
	int ret;

	do {
		memset(&h, 0, sizeof(h));
		h.size = sizeof(h);
		ret = ioctl(k->fd, FEWMUL_IOC_HELP, &h);
	} while (ret < 0 && errno == EINTR);
	return NULL;
}

/*
 * Threads of the steps: n (0: the module's nr_workers, at most the CPUs
 * this thread may run on), the calling thread included.
 */
static void khelpers_start(struct fewmul_kernel *k, unsigned int n,
			   const struct fewmul_info *info)
{
	sigset_t all, old;
	cpu_set_t cpus;
	unsigned int i;

	if (!(info->features & FEWMUL_FEATURE_HELP))
		return;
	if (!n) {
		n = info->nr_workers;
		if (!sched_getaffinity(0, sizeof(cpus), &cpus) &&
		    CPU_COUNT(&cpus) > 0 && (unsigned int)CPU_COUNT(&cpus) < n)
			n = CPU_COUNT(&cpus);
	}
	if (n > info->nr_workers)
		n = info->nr_workers;
	if (n < 2)
		return;
	k->helpers = calloc(n - 1, sizeof(*k->helpers));
	if (!k->helpers)
		return;	/* fewer threads: slower, same result */
	k->pid = getpid();
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < n - 1; i++)
		if (pthread_create(&k->helpers[i], NULL, khelper, k))
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	k->nr_helpers = i;
}

static void khelpers_stop(struct fewmul_kernel *k)
{
	struct fewmul_help h;
	unsigned int i;

	/* In a forked child the threads are the parent's: leave them. */
	if (!k->nr_helpers || k->pid != getpid())
		return;
	memset(&h, 0, sizeof(h));
	h.size = sizeof(h);
	h.flags = FEWMUL_HELP_STOP;
	if (kioctl(k, FEWMUL_IOC_HELP, &h))
		return;	/* cannot happen; joining would hang */
	for (i = 0; i < k->nr_helpers; i++)
		pthread_join(k->helpers[i], NULL);
	k->nr_helpers = 0;
}

/* Serves the exchanges of the steps until FEWMUL_XCHG_STOP. */
static void *kxchg_thread(void *arg)
{
	struct fewmul_kernel *k = arg;
	struct fewmul_exchange x;
	int err;

	for (;;) {
		memset(&x, 0, sizeof(x));
		x.size = sizeof(x);
		x.op = FEWMUL_XCHG_WAIT;
		if (ioctl(k->fd, FEWMUL_IOC_EXCHANGE, &x) < 0) {
			if (errno == EINTR)
				continue;
			break;	/* -ESHUTDOWN: stopped */
		}
		err = -EPROTO;
		if (x.buffer != k->hxbuf || x.count > k->xbuf_size / x.width)
			;
		else if (x.width == sizeof(int64_t))
			err = k->coll.allreduce(k->coll.ctx, k->xbuf,
						(size_t)x.count);
		else if (x.width == sizeof(int32_t) && k->coll.allreduce32)
			err = k->coll.allreduce32(k->coll.ctx, k->xbuf,
						  (size_t)x.count);
		if (err > 0 || err < -FEWMUL_XCHG_MAX_ERRNO)
			err = -EIO;
		x.op = FEWMUL_XCHG_DONE;
		x.error = err;
		while (ioctl(k->fd, FEWMUL_IOC_EXCHANGE, &x) < 0 && errno == EINTR)
			;
	}
	return NULL;
}

static void kxchg_stop(struct fewmul_kernel *k)
{
	struct fewmul_exchange x;

	if (!k->xthread_on || k->pid != getpid())
		return;
	memset(&x, 0, sizeof(x));
	x.size = sizeof(x);
	x.op = FEWMUL_XCHG_STOP;
	if (kioctl(k, FEWMUL_IOC_EXCHANGE, &x))
		return;	/* cannot happen; joining would hang */
	pthread_join(k->xthread, NULL);
	k->xthread_on = 0;
}

int fewmul_kernel_new(const struct fewmul_config *cfg, const char *path,
		      unsigned int nthreads, struct fewmul_backend **out)
{
	struct fewmul_layout lay;
	struct fewmul_kernel *k;
	struct fewmul_info info;
	int err;

	*out = NULL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->be.ops = &kernel_ops;
	k->fd = -1;
	k->cfg = *cfg;
	k->arena = MAP_FAILED;
	k->path = strdup(path);
	if (!k->path) {
		free(k);
		return -ENOMEM;
	}
	k->fd = open(path, O_RDWR | O_CLOEXEC);
	if (k->fd < 0) {
		err = -errno;
		goto err_free;
	}

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	err = fewmul_info_ioctl(k->fd, &info, &k->legacy);
	if (err)
		goto err_free;	/* -ENOTTY: not a fewmul device */
	if (!(info.features & FEWMUL_FEATURE_TRAIN) ||
	    !(info.features & FEWMUL_FEATURE_RUN_OUTPUTS)) {
		err = -EOPNOTSUPP;
		goto err_free;
	}
	k->run_epoch = !!(info.features & FEWMUL_FEATURE_RUN_EPOCH);
	k->exchange = !!(info.features & FEWMUL_FEATURE_EXCHANGE);
	k->be.counts = !!(info.features & FEWMUL_FEATURE_DIVS);
	if (cfg->bn == FEWMUL_MODEL_BN_SHIFT2 &&
	    !(info.features & FEWMUL_FEATURE_BN_SHIFT2)) {
		err = -EPROTONOSUPPORT;	/* a module older than the mode */
		goto err_free;
	}

	fewmul_layout(cfg, &lay);
	k->size = lay.size;
	k->arena = kmap_anon(k->size, &k->map_size);
	if (k->arena == MAP_FAILED) {
		err = -errno;
		goto err_free;
	}
	err = kbuf_register(k, k->arena, k->size, FEWMUL_BUF_WRITE, &k->harena);
	if (err)
		goto err_free;
	err = kmodel_create(k, k->harena, FEWMUL_MODEL_INIT, 0);
	if (err)
		goto err_free;
	khelpers_start(k, nthreads, &info);
	*out = &k->be;
	return 0;

err_free:
	kernel_free(&k->be);
	return err;
}

static void kernel_free(struct fewmul_backend *be)
{
	struct fewmul_kernel *k;
	unsigned int i;

	if (!be)
		return;
	k = kern_of(be);
	khelpers_stop(k);
	free(k->helpers);
	kxchg_stop(k);
	free(k->conf);
	if (k->fd >= 0) {
		for (i = 0; i < KDS_MAX; i++) {
			kbuf_unregister(k, k->ds[i].himg);
			kbuf_unregister(k, k->ds[i].hlab);
		}
		/* the arena is the model's: closing the context frees both */
		close(k->fd);
	}
	if (k->arena != MAP_FAILED)
		munmap(k->arena, k->map_size);
	if (k->xbuf)
		munmap(k->xbuf, k->xbuf_size);
	free(k->path);
	free(k);
}

static void kds_drop(struct fewmul_kernel *k, struct kds *d)
{
	kbuf_unregister(k, d->himg);
	kbuf_unregister(k, d->hlab);
	memset(d, 0, sizeof(*d));
}

/* Unregister ds if it is cached (its memory is about to go away). */
static void kds_forget(struct fewmul_kernel *k, const struct fewmul_dataset *ds)
{
	unsigned int i;

	for (i = 0; i < KDS_MAX; i++) {
		struct kds *e = &k->ds[i];

		if (e->himg && e->images == ds->images &&
		    e->labels == ds->labels && e->ds_count == ds->count)
			kds_drop(k, e);
	}
}

/*
 * The registered copy of ds covering samples [0, need): registers the
 * prefix on first use (less memory to pin for a small subset) and all of
 * ds when a later call needs more.
 */
static int kds_get(struct fewmul_kernel *k, const struct fewmul_dataset *ds,
		   uint32_t need, struct kds **out)
{
	size_t px = (size_t)ds->rows * ds->cols;
	struct kds *d = NULL, *lru = &k->ds[0];
	uint32_t count;
	unsigned int i;
	int err;

	for (i = 0; i < KDS_MAX; i++) {
		struct kds *e = &k->ds[i];

		if (e->himg && e->images == ds->images &&
		    e->labels == ds->labels && e->ds_count == ds->count) {
			d = e;
			break;
		}
		if (!e->himg || (lru->himg && e->used < lru->used))
			lru = e;
	}
	if (d && d->count >= need) {
		d->used = ++k->clock;
		*out = d;
		return 0;
	}
	count = d ? ds->count : need;	/* second time: all of it */
	if (!d)
		d = lru;
	kds_drop(k, d);
	err = kbuf_register(k, ds->images, (uint64_t)count * px, 0, &d->himg);
	if (!err)
		err = kbuf_register(k, ds->labels, count, 0, &d->hlab);
	if (err) {
		kds_drop(k, d);
		return err;
	}
	d->images = ds->images;
	d->labels = ds->labels;
	d->ds_count = ds->count;
	d->count = count;
	d->used = ++k->clock;
	*out = d;
	return 0;
}

/*
 * One ioctl over idx[0..n) (n <= fewmul_krun_max), resumed after signals until
 * every minibatch ran. Training and evaluation continue with the indices
 * left; an interrupted calibration stores nothing, so it starts over.
 */
static int krun_all(struct fewmul_kernel *k, int kind, const struct kds *d,
		    const uint32_t *idx, uint32_t n, uint32_t epoch,
		    uint64_t *confusion, uint8_t *pred,
		    struct fewmul_result *res, int64_t *loss)
{
	unsigned long req = kind == FEWMUL_PLAN_TRAIN ? FEWMUL_IOC_TRAIN :
			    FEWMUL_IOC_EVAL;
	struct fewmul_op_counts lops[FEWMUL_MAX_LAYERS + 1];
	uint32_t B = k->cfg.batch, pos = 0, l;

	while (pos < n) {
		uint32_t cnt = n - pos, nb = (cnt + B - 1) / B, got;
		struct fewmul_run r;

		memset(&r, 0, sizeof(r));
		r.size = sizeof(r);
		r.flags = kind == FEWMUL_PLAN_CALIB ? FEWMUL_RUN_CALIBRATE : 0;
		r.images = d->himg;
		r.labels = d->hlab;
		r.nr_samples = d->count;
		r.nr_indices = cnt;
		r.indices = (uintptr_t)(idx + pos);
		r.confusion = kind == FEWMUL_PLAN_EVAL ? (uintptr_t)confusion : 0;
		r.epoch = kind == FEWMUL_PLAN_TRAIN ? epoch : 0;
		/* one event per minibatch; the module skips it without listeners */
		r.notify_every = kind == FEWMUL_PLAN_TRAIN ? 1 : 0;
		r.layer_ops = res ? (uintptr_t)lops : 0;
		r.predictions = kind == FEWMUL_PLAN_EVAL ? (uintptr_t)pred : 0;
		if (k->dp && !pred) {
			r.flags |= FEWMUL_RUN_DATA_PARALLEL |
				   (k->coll.allreduce32 ? FEWMUL_RUN_DP_INT32 : 0);
			r.dp_rank = k->coll.rank;
			r.dp_size = k->coll.size;
			r.dp_buffer = k->hxbuf;
		}
		if (kind == FEWMUL_PLAN_TRAIN && k->run_epoch &&
		    k->be.epoch_size) {
			/* whole minibatches before, so the count is exact */
			r.epoch_done = (k->be.epoch_first + pos) / B;
			r.epoch_total = ((uint64_t)k->be.epoch_size + B - 1) / B;
		}
		if (ioctl(k->fd, fewmul_ioc(req, k->legacy), &r) < 0) {
			if (errno == EINTR)	/* nothing ran: again */
				continue;
			return -errno;
		}
		if (r.done == 0 || r.done > nb)
			return -EPROTO;
		k->be.divs += r.divs;
		k->be.sats += r.saturated;
		if (kind == FEWMUL_PLAN_CALIB) {
			if (r.done < nb)	/* not stored: start over */
				continue;
			return 0;
		}
		got = r.done == nb ? cnt : (uint32_t)r.done * B;
		pos += got;
		if (pred)
			pred += got;
		if (res) {
			res->samples += got;
			res->errors += r.errors;
			res->ops.adds += r.adds;
			res->ops.shifts += r.shifts;
			res->ops.muls += r.muls;
			for (l = 0; l <= k->cfg.nr_layers; l++) {
				res->layers[l].adds += lops[l].adds;
				res->layers[l].shifts += lops[l].shifts;
				res->layers[l].muls += lops[l].muls;
			}
		}
		*loss += r.loss;
	}
	return 0;
}

/*
 * After a data-parallel run: the errors, loss, confusion counts and
 * operation counts of every process, added up (the same all-reduces in
 * the same order on every process).
 */
static int kreduce(struct fewmul_kernel *k, struct fewmul_result *res,
		   const struct fewmul_result *before, int64_t *loss,
		   uint64_t *confusion)
{
	uint32_t nk = k->cfg.width[k->cfg.nr_layers];
	int64_t v[2];
	int err;

	if (res) {
		v[0] = (int64_t)(res->errors - before->errors);
		v[1] = *loss;
		err = k->coll.allreduce(k->coll.ctx, v, 2);
		if (err)
			return err;
		res->errors = before->errors + (uint64_t)v[0];
		*loss = v[1];
	}
	if (confusion) {
		err = fewmul_coll_add_confusion(&k->coll, k->conf, nk, confusion);
		if (err)
			return err;
	}
	return res ? fewmul_coll_reduce_ops(&k->coll, res, before) : 0;
}

/* Run kind over idx[0..n) of ds; pred (eval, may be NULL) gets [n] classes. */
static int krun(struct fewmul_kernel *k, int kind,
		const struct fewmul_dataset *ds, const uint32_t *idx,
		uint32_t n, uint32_t epoch, struct fewmul_result *res,
		uint64_t *confusion, uint8_t *pred)
{
	uint32_t i, need = 0, chunk, pos, cnt;
	uint32_t nk = k->cfg.width[k->cfg.nr_layers];
	int dp = k->dp && !pred;
	struct fewmul_result before;
	uint64_t *conf = confusion;
	int64_t loss = 0;
	struct kds *d;
	int err;

	if (!n)
		return 0;
	if (dp && res)
		before = *res;
	if (dp && confusion) {
		memset(k->conf, 0, (size_t)nk * nk * sizeof(*k->conf));
		conf = k->conf;
	}
	for (i = 0; i < n; i++)
		if (idx[i] >= need)
			need = idx[i] + 1;
	/* one calibration is one call: its statistics are per call */
	if (kind == FEWMUL_PLAN_CALIB && n > fewmul_krun_max)
		return -E2BIG;
	err = kds_get(k, ds, need, &d);
	if (err)
		return err;
	/* whole minibatches per call, so the split matches the cpu backend */
	chunk = fewmul_krun_max / k->cfg.batch * k->cfg.batch;
	for (pos = 0; pos < n; pos += chunk) {
		cnt = n - pos < chunk ? n - pos : chunk;
		err = krun_all(k, kind, d, idx + pos, cnt, epoch, conf,
			       pred ? pred + pos : NULL, res, &loss);
		if (err)
			return err;
		k->be.epoch_first += cnt;	/* where the next call starts */
	}
	if (kind == FEWMUL_PLAN_TRAIN)
		k->step += (n + k->cfg.batch - 1) / k->cfg.batch;
	if (dp) {
		err = kreduce(k, res, &before, &loss, confusion);
		if (err)
			return err;
	}
	if (res)
		res->loss += (double)loss / (double)(1u << (2 * FEWMUL_FA));
	return 0;
}

static int kernel_run(struct fewmul_backend *be, int kind,
		      const struct fewmul_dataset *ds, const uint32_t *idx,
		      uint32_t n, uint32_t epoch, struct fewmul_result *res,
		      uint64_t *confusion)
{
	return krun(kern_of(be), kind, ds, idx, n, epoch, res, confusion, NULL);
}

/* The kernel begins and ends the calibration within one call. */
static int kernel_calibrate(struct fewmul_backend *be,
			    const struct fewmul_dataset *ds,
			    const uint32_t *idx, uint32_t n)
{
	return krun(kern_of(be), FEWMUL_PLAN_CALIB, ds, idx, n, 0, NULL, NULL,
		    NULL);
}

/*
 * Classify through FEWMUL_IOC_EVAL with @predictions: the images are
 * registered for the call (with all-zero labels, which only the unused
 * loss reads) and unregistered after it. The ioctl returns classes, not
 * output scores.
 */
static int kernel_predict(struct fewmul_backend *be, const uint8_t *pixels,
			  uint32_t n, uint8_t *pred, int32_t *scores)
{
	struct fewmul_kernel *k = kern_of(be);
	struct fewmul_dataset ds;
	uint32_t *idx;
	uint8_t *lab, *out;
	uint32_t i;
	int err;

	if (scores)
		return -EOPNOTSUPP;
	if (!n)
		return 0;
	memset(&ds, 0, sizeof(ds));
	ds.count = n;
	ds.rows = 1;
	ds.cols = k->cfg.width[0];
	ds.classes = k->cfg.width[k->cfg.nr_layers];
	ds.images = (uint8_t *)pixels;
	lab = calloc(n, 1);
	idx = malloc((size_t)n * sizeof(*idx));
	out = pred ? pred : malloc(n);
	if (!lab || !idx || !out) {
		err = -ENOMEM;
		goto out;
	}
	ds.labels = lab;
	for (i = 0; i < n; i++)
		idx[i] = i;
	err = krun(k, FEWMUL_PLAN_EVAL, &ds, idx, n, 0, NULL, NULL, out);
	kds_forget(k, &ds);
out:
	if (out != pred)
		free(out);
	free(idx);
	free(lab);
	return err;
}

static uint64_t kernel_step(const struct fewmul_backend *be)
{
	const struct fewmul_kernel *k = kern_of(be);
	struct fewmul_stats st;

	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	if (kioctl(k, FEWMUL_IOC_STATS, &st))
		return k->step;
	return st.step;
}

static void *kernel_params(const struct fewmul_backend *be, size_t *size)
{
	const struct fewmul_kernel *k = kern_of(be);

	if (size)
		*size = k->size;
	return k->arena;
}

static const char *kernel_path(const struct fewmul_backend *be)
{
	return kern_of(be)->path;
}

static int kernel_hist(const struct fewmul_backend *be, unsigned int layer,
		       uint64_t bins[FEWMUL_HIST_NR_BINS])
{
	const struct fewmul_kernel *k = kern_of(be);
	struct fewmul_hist h;
	int err;

	memset(&h, 0, sizeof(h));
	h.size = sizeof(h);
	h.layer = layer;
	err = kioctl(k, FEWMUL_IOC_HIST, &h);
	if (err)
		return err;
	memcpy(bins, h.bins, sizeof(h.bins));
	return 0;
}

static int kernel_reload(struct fewmul_backend *be, uint64_t step)
{
	struct fewmul_kernel *k = kern_of(be);
	uint32_t h;
	int err;

	err = kmodel_create(k, k->harena, 0, step);
	if (err == -EBUSY) {
		/*
		 * A module that will not rebind the current model's arena:
		 * register the same memory again, bind that, drop the old.
		 */
		err = kbuf_register(k, k->arena, k->size, FEWMUL_BUF_WRITE, &h);
		if (err)
			return err;
		err = kmodel_create(k, h, 0, step);
		if (err) {
			kbuf_unregister(k, h);
			return err;
		}
		kbuf_unregister(k, k->harena);
		k->harena = h;
	}
	if (!err)
		k->step = step;
	return err;
}

/*
 * Join a data-parallel job: the exchange buffer, the model again with its
 * data-parallel memory (from the arena, at the same step), and the thread
 * that serves the exchanges.
 */
static int kernel_set_collective(struct fewmul_backend *be,
				 const struct fewmul_collective *coll)
{
	struct fewmul_kernel *k = kern_of(be);
	uint32_t nk = k->cfg.width[k->cfg.nr_layers];
	sigset_t all, old;
	size_t sz;
	int err;

	if (!k->exchange)
		return -EOPNOTSUPP;
	if (k->dp)
		return -EBUSY;
	k->conf = calloc((size_t)nk * nk, sizeof(*k->conf));
	k->xbuf = kmap_anon((size_t)fewmul_xchg_max(&k->cfg) * sizeof(int64_t),
			    &sz);
	if (k->xbuf == MAP_FAILED)
		k->xbuf = NULL;
	if (!k->conf || !k->xbuf) {
		err = -ENOMEM;
		goto err_free;
	}
	k->xbuf_size = sz;
	err = kbuf_register(k, k->xbuf, sz, FEWMUL_BUF_WRITE, &k->hxbuf);
	if (err)
		goto err_free;
	k->coll = *coll;
	k->pid = getpid();
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&k->xthread, NULL, kxchg_thread, k);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		goto err_unregister;
	k->xthread_on = 1;
	k->dp = 1;
	err = kernel_reload(be, kernel_step(be));
	if (!err)
		return 0;
	k->dp = 0;
	kxchg_stop(k);	/* final: this context stays one process's */

err_unregister:
	kbuf_unregister(k, k->hxbuf);
	k->hxbuf = 0;
err_free:
	if (k->xbuf)
		munmap(k->xbuf, sz);
	k->xbuf = NULL;
	free(k->conf);
	k->conf = NULL;
	return err;
}

static const struct fewmul_backend_ops kernel_ops = {
	.name = "kernel",
	.run = kernel_run,
	.calibrate = kernel_calibrate,
	.predict = kernel_predict,
	.step = kernel_step,
	.params = kernel_params,
	.reload = kernel_reload,
	.hist = kernel_hist,
	.path = kernel_path,
	.set_collective = kernel_set_collective,
	.free = kernel_free,
};
