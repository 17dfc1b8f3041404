// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness of the model-file reader: arbitrary bytes as a model
 * file must load or fail with a message, never crash or leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "libfewmul.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fewmul_model_info info;
	struct fewmul_trainer *t;
	char path[64], err[256];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/fuzz-model-%d", getpid());
	f = fopen(path, "wb");
	fwrite(data, 1, size, f);
	fclose(f);
	if (fewmul_model_load(path, "cpu", 1, &t, &info, err, sizeof(err)) == 0)
		fewmul_trainer_free(t);
	unlink(path);
	return 0;
}
