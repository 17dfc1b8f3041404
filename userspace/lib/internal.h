/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef LIBFEWMUL_INTERNAL_H
#define LIBFEWMUL_INTERNAL_H

#include "libfewmul.h"
#include "fewmul_engine.h"
#include <linux/fewmul.h>

#define FEWMUL_API __attribute__((visibility("default")))

struct fewmul_dev {
	int fd;
	char *path;
};

/* Default learning-rate schedule (Documentation/numerics.rst). */
#define FEWMUL_DEFAULT_LR_START 3
#define FEWMUL_DEFAULT_LR_END 7

/* cpu backend (cpu.c) */
struct fewmul_cpu;
int fewmul_cpu_new(const struct fewmul_config *cfg, unsigned int nthreads,
		   struct fewmul_cpu **out);
void fewmul_cpu_free(struct fewmul_cpu *c);
int fewmul_cpu_run(struct fewmul_cpu *c, int kind, struct fewmul_counters *ops,
		   struct fewmul_counters *layer_ops);
struct fewmul_model *fewmul_cpu_model(struct fewmul_cpu *c);

/* kernel backend (kernel.c): the engine in fewmul.ko via /dev/fewmul */
struct fewmul_kernel;
int fewmul_kernel_new(const struct fewmul_config *cfg, const char *path,
		      struct fewmul_kernel **out);
void fewmul_kernel_free(struct fewmul_kernel *k);
/*
 * Run plan kind (FEWMUL_PLAN_*) over idx[0..n) of ds (already checked):
 * adds to *res (may be NULL) and to confusion (eval, may be NULL).
 */
int fewmul_kernel_run(struct fewmul_kernel *k, int kind,
		      const struct fewmul_dataset *ds, const uint32_t *idx,
		      uint32_t n, uint32_t epoch, struct fewmul_result *res,
		      uint64_t *confusion);
uint64_t fewmul_kernel_step(const struct fewmul_kernel *k);
/* Drop ds from the registered datasets, if it is there. */
void fewmul_kernel_forget(struct fewmul_kernel *k,
			  const struct fewmul_dataset *ds);
void *fewmul_kernel_arena(const struct fewmul_kernel *k, size_t *size);
const char *fewmul_kernel_path(const struct fewmul_kernel *k);
int fewmul_kernel_hist(const struct fewmul_kernel *k, unsigned int layer,
		       uint64_t bins[32]);
/* The arena was rewritten: make it the model again, at step. */
int fewmul_kernel_reload(struct fewmul_kernel *k, uint64_t step);

void fewmul_to_core(const struct fewmul_train_config *in, struct fewmul_config *c);
int fewmul_trainer_restore(struct fewmul_trainer *t, const void *le,
			   size_t size, uint64_t step);

#endif
