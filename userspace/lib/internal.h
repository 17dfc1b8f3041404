/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef LIBFEWMUL_INTERNAL_H
#define LIBFEWMUL_INTERNAL_H

#include "libfewmul.h"
#include "fewmul_engine.h"
#include <linux/fewmul.h>

#define FEWMUL_API __attribute__((visibility("default")))

/* kernel.c: indices per TRAIN/EVAL ioctl (tests lower it) */
extern uint32_t fewmul_krun_max;

/* struct fewmul_device_info up to LIBFEWMUL_0.6 */
#define FEWMUL_DEVICE_INFO_SIZE_0_1 \
	offsetof(struct fewmul_device_info, simd)

/*
 * Symbol versions of the shared library (FEWMUL_SHARED: its objects),
 * for entry points whose struct argument grew: the old version keeps
 * filling the old, shorter struct. The static library has only the
 * newest, under the plain names.
 */
#ifdef FEWMUL_SHARED
#define FEWMUL_SYMVER(sym)	__attribute__((symver(sym)))
#else
#define FEWMUL_SYMVER(sym)
#endif

struct fewmul_dev {
	int fd;
	char *path;
};

/* Default learning-rate schedule (Documentation/numerics.rst). */
#define FEWMUL_DEFAULT_LR_START 3
#define FEWMUL_DEFAULT_LR_END 7

/**
 * struct fewmul_backend_ops - where a trainer's engine runs
 * @name: "cpu" or "kernel"
 * @run: plan kind (FEWMUL_PLAN_TRAIN or _EVAL) over idx[0..n) of ds, in
 *	minibatches of the model's batch size; adds to *res (may be NULL)
 *	and to confusion (eval, may be NULL). The trainer checked ds and idx.
 * @calibrate: re-estimate the test-time BN statistics over idx[0..n)
 * @predict: classes (pred) and/or output scores (scores, [n][classes])
 *	of n images of width[0] pixels; -EOPNOTSUPP where scores are not
 *	available
 * @step: minibatches trained
 * @params: the parameters (native-endian arena) and their size
 * @reload: the arena was rewritten: make it the model again, at step
 * @hist: histogram of log2|x| of hidden layer @layer (1..L-1)
 * @path: device path ("" for cpu)
 * @set_test_weights: enum fewmul_test_weights of later calibrations and
 *	evaluations (NULL: deterministic only)
 * @free: release everything
 */
struct fewmul_backend;
struct fewmul_backend_ops {
	const char *name;
	int (*run)(struct fewmul_backend *be, int kind,
		   const struct fewmul_dataset *ds, const uint32_t *idx,
		   uint32_t n, uint32_t epoch, struct fewmul_result *res,
		   uint64_t *confusion);
	int (*calibrate)(struct fewmul_backend *be,
			 const struct fewmul_dataset *ds, const uint32_t *idx,
			 uint32_t n);
	int (*predict)(struct fewmul_backend *be, const uint8_t *pixels,
		       uint32_t n, uint8_t *pred, int32_t *scores);
	uint64_t (*step)(const struct fewmul_backend *be);
	void *(*params)(const struct fewmul_backend *be, size_t *size);
	int (*reload)(struct fewmul_backend *be, uint64_t step);
	int (*hist)(const struct fewmul_backend *be, unsigned int layer,
		    uint64_t bins[FEWMUL_HIST_NR_BINS]);
	const char *(*path)(const struct fewmul_backend *be);
	int (*set_test_weights)(struct fewmul_backend *be, int test_weights);
	int (*set_collective)(struct fewmul_backend *be,
			      const struct fewmul_collective *coll);
	void (*free)(struct fewmul_backend *be);
};

/*
 * Embedded in each backend's state. epoch_first and epoch_size: where the
 * samples of the next (or running) train run start in their epoch, and
 * the epoch's samples (0: not said), from fewmul_trainer_set_epoch_pos();
 * cleared after that run. Only the kernel backend's progress reports use
 * them (it advances epoch_first past each ioctl of a run).
 */
struct fewmul_backend {
	const struct fewmul_backend_ops *ops;
	uint64_t memory;	/* fewmul_trainer_memory() */
	int counts;		/* divs and sats are counted */
	uint64_t divs;		/* fewmul_trainer_counts() */
	uint64_t sats;
	uint32_t epoch_first;
	uint32_t epoch_size;
};

/* cpu backend (cpu.c): the engine in this process, nthreads workers */
int fewmul_cpu_new(const struct fewmul_config *cfg, unsigned int nthreads,
		   struct fewmul_backend **out);

/*
 * kernel backend (kernel.c): the engine in fewmul.ko via the device path;
 * nthreads threads run its steps (the caller and nthreads - 1 helpers),
 * 0: as many as the module and this thread's CPUs allow
 */
int fewmul_kernel_new(const struct fewmul_config *cfg, const char *path,
		      unsigned int nthreads, struct fewmul_backend **out);

/* device.c: FEWMUL_IOC_INFO in whichever encoding the module knows */
int fewmul_info_ioctl(int fd, struct fewmul_info *arg, int *legacy);

/* A command in the encoding fewmul_info_ioctl() found (legacy: _IO()). */
static inline unsigned long fewmul_ioc(unsigned long req, int legacy)
{
	return legacy ? FEWMUL_IOC_LEGACY(_IOC_NR(req)) : req;
}

/* trainer.c: a data-parallel run's operation counts, added over coll */
int fewmul_coll_reduce_ops(const struct fewmul_collective *coll,
			   struct fewmul_result *res,
			   const struct fewmul_result *before);
/* ... and its confusion counts local[nk * nk], added to confusion */
int fewmul_coll_add_confusion(const struct fewmul_collective *coll,
			      uint64_t *local, uint32_t nk, uint64_t *confusion);

void fewmul_to_core(const struct fewmul_train_config *in, struct fewmul_config *c);
int fewmul_trainer_restore(struct fewmul_trainer *t, const void *le,
			   size_t size, uint64_t step);

#endif
