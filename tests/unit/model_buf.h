/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A model with its own arena and scratch (heap), for the native tests of
 * the core: model_new() checks the configuration, binds and initialises
 * the parameters from its seed; model_free() releases both buffers.
 */
#ifndef FEWMUL_TEST_MODEL_BUF_H
#define FEWMUL_TEST_MODEL_BUF_H

#include <stdlib.h>
#include <string.h>

#include "fewmul_engine.h"

struct model_buf {
	struct fewmul_model m;
	void *arena;
	void *scratch;
};

static int model_new(struct model_buf *mb, const struct fewmul_config *cfg)
{
	struct fewmul_layout lay;
	u64 ss = fewmul_scratch_size(cfg);

	fewmul_layout(cfg, &lay);
	mb->arena = calloc(1, lay.size);
	mb->scratch = aligned_alloc(64, (ss + 63) & ~63ULL);
	if (!mb->arena || !mb->scratch)
		return -1;
	memset(mb->scratch, 0, ss);
	if (fewmul_config_check(cfg))
		return -1;
	fewmul_model_bind(&mb->m, cfg, mb->arena, mb->scratch);
	fewmul_model_init_params(&mb->m);
	return 0;
}

static void model_free(struct model_buf *mb)
{
	free(mb->arena);
	free(mb->scratch);
}

#endif
