/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef LIBFEWMUL_INTERNAL_H
#define LIBFEWMUL_INTERNAL_H

#include "libfewmul.h"
#include "fewmul_engine.h"

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

void fewmul_to_core(const struct fewmul_train_config *in, struct fewmul_config *c);
int fewmul_trainer_restore(struct fewmul_trainer *t, const void *le,
			   size_t size, uint64_t step);

#endif
