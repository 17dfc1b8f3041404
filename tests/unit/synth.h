/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small synthetic dataset for the library tests: n images of 4x4
 * pixels in 4 classes; class k lights pixels 4k..4k+3 over noise.
 * Deterministic from the index.
 */
#ifndef FEWMUL_TEST_SYNTH_H
#define FEWMUL_TEST_SYNTH_H

#include <stdlib.h>

#include "libfewmul.h"

static inline void synth_dataset(struct fewmul_dataset *ds, uint32_t n)
{
	uint32_t i, p, h;

	ds->count = n;
	ds->rows = 4;
	ds->cols = 4;
	ds->classes = 10;
	ds->images = malloc((size_t)n * 16);
	ds->labels = malloc(n);
	for (i = 0; i < n; i++) {
		h = i * 2654435761u + 1;
		ds->labels[i] = i % 4;
		for (p = 0; p < 16; p++) {
			h ^= h << 13;
			h ^= h >> 17;
			h ^= h << 5;
			ds->images[i * 16 + p] = (uint8_t)((h & 63) +
				(p / 4 == i % 4 ? 150 : 0));
		}
	}
}

#endif
