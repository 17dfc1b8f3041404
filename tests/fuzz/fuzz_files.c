// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness of fewmulctl's file readers: the input is written to
 * a temporary file that predict's image reader (binary PGM or IDX image,
 * plain or gzip'd, 28x28, without and with --index) and plot's CSV log
 * and --xy table readers then parse. Each must accept it or explain why; never crash,
 * leak or read out of bounds.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libfewmul.h"
#include "fewmulctl.h"

static char path[64];
static int devnull = -1, saved_stderr = -1;

static void cleanup(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f;

	if (!path[0]) {
		int fd;

		strcpy(path, "/tmp/fewmul-fuzz-files.XXXXXX");
		fd = mkstemp(path);
		if (fd < 0)
			abort();
		close(fd);
		atexit(cleanup);
		devnull = open("/dev/null", O_WRONLY);
		saved_stderr = dup(2);
		if (devnull < 0 || saved_stderr < 0)
			abort();
	}
	f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	/* The readers explain every refusal on stderr: not into the log. */
	fflush(stderr);
	dup2(devnull, 2);
	predict_read_image(path, 0, 0, 28, 28);
	predict_read_image(path, 1, size & 7, 28, 28);
	plot_read_log(path);
	plot_read_xy(path);
	fflush(stderr);
	dup2(saved_stderr, 2);
	return 0;
}
