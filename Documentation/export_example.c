// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Classify IDX images with a C header from `fewmulctl export`, without
 * libfewmul (or anything but the C library):
 *
 *   fewmulctl export --model M.model -o model.h
 *   cc -O2 -Wall -I. -o classify Documentation/export_example.c
 *   gunzip -k /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
 *   ./classify t10k-images-idx3-ubyte [N]
 *
 * prints "INDEX CLASS SCORE..." for the first N images (default all), as
 * Documentation/export_infer.py --scores does: the engine's integer
 * evaluation, so fewmulctl eval and predict give the same classes. Build
 * with -DFEWMUL_MODEL_FILE='"other.h"' for another header name. The header
 * also builds in the kernel (<linux/types.h>); the caller provides the
 * scratch, so nothing large lands on the stack.
 */
#include <stdio.h>
#include <stdlib.h>

#ifndef FEWMUL_MODEL_FILE
#define FEWMUL_MODEL_FILE "model.h"
#endif
#include FEWMUL_MODEL_FILE

static unsigned long be32(const unsigned char *p)
{
	return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 |
	       (unsigned long)p[2] << 8 | p[3];
}

int main(int argc, char **argv)
{
	static int32_t scratch[FEWMUL_MODEL_SCRATCH];
	unsigned char hdr[16], px[FEWMUL_MODEL_INPUTS];
	int32_t scores[FEWMUL_MODEL_CLASSES];
	unsigned long n, i, k;
	FILE *f;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s IMAGES.idx [N]\n", argv[0]);
		return 1;
	}
	f = fopen(argv[1], "rb");
	if (!f || fread(hdr, 1, 16, f) != 16 || be32(hdr) != 0x803 ||
	    be32(hdr + 8) * be32(hdr + 12) != FEWMUL_MODEL_INPUTS) {
		fprintf(stderr, "%s: not an IDX image file of %d-pixel images\n",
			argv[1], FEWMUL_MODEL_INPUTS);
		return 1;
	}
	n = be32(hdr + 4);
	if (argc == 3 && strtoul(argv[2], NULL, 10) < n)
		n = strtoul(argv[2], NULL, 10);
	for (i = 0; i < n; i++) {
		if (fread(px, 1, sizeof(px), f) != sizeof(px)) {
			fprintf(stderr, "%s: truncated\n", argv[1]);
			return 1;
		}
		printf("%lu %d", i, fewmul_model_classify(px, scratch, scores));
		for (k = 0; k < FEWMUL_MODEL_CLASSES; k++)
			printf(" %d", (int)scores[k]);
		putchar('\n');
	}
	fclose(f);
	return 0;
}
