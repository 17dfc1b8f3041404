// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness of the IDX reader: the input, split at a position
 * given by its first byte, becomes an image file and a label file (half
 * of the runs gzip'd). Loading must succeed or fail cleanly.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "libfewmul.h"

static void put(const char *path, const uint8_t *d, size_t n, int gz)
{
	if (gz) {
		gzFile f = gzopen(path, "wb1");

		if (n)
			gzwrite(f, d, (unsigned int)n);
		gzclose(f);
	} else {
		FILE *f = fopen(path, "wb");

		fwrite(d, 1, n, f);
		fclose(f);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char im[64], lb[64];
	struct fewmul_dataset ds;
	size_t cut;
	int gz;

	if (size < 2)
		return 0;
	gz = data[0] & 1;
	cut = (size_t)data[1] * (size - 2) / 255;
	snprintf(im, sizeof(im), "/tmp/fuzz-idx-%d-im", getpid());
	snprintf(lb, sizeof(lb), "/tmp/fuzz-idx-%d-lb", getpid());
	put(im, data + 2, cut, gz);
	put(lb, data + 2 + cut, size - 2 - cut, gz);
	if (fewmul_dataset_load(im, lb, &ds) == 0) {
		/* touch everything the loader claims to have read */
		volatile uint8_t sum = 0;
		size_t i;

		for (i = 0; i < (size_t)ds.count * ds.rows * ds.cols; i++)
			sum ^= ds.images[i];
		for (i = 0; i < ds.count; i++)
			sum ^= ds.labels[i];
		fewmul_dataset_free(&ds);
	}
	unlink(im);
	unlink(lb);
	return 0;
}
